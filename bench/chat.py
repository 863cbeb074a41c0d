#!/usr/bin/python3
"""stoxgw chat benchmark (RFC 7573 session mode, issue 5 item 5). Not part of the test suite.

Only the chat plugin runs. Every measurement point gets a fresh stoxgw (clean RSS and session
table); Prosody stays up for the whole run.
  XMPP -> SIP : bench_xmpp_client source sends <message type='chat'> to S SIP users
                (romeo<i>@example.net); a warm-up message per user opens the S sessions before
                the timed run. stoxgw INVITEs bench_chat_peer (answer mode, the outbound proxy),
                which answers a=setup:passive, receives the MSRP SENDs and measures latency from
                the send stamp in each body.
  SIP -> XMPP : bench_chat_peer (call mode) opens S sessions to juliet@example.com (INVITE + ACK
                + MSRP, active side) and sends SENDs at the target rate round-robin over them;
                bench_xmpp_client sink (juliet) counts and measures.
  ceiling     : the same bench_chat_peer call -> bench_chat_peer answer, SIP + MSRP directly,
                without the gateway: what the box sustains for this MSRP load.
  memory      : VmRSS of a fresh stoxgw before and after S idle SIP-initiated sessions (INVITE,
                ACK, MSRP bound), read once sofia's completed transactions are gone.
Per point: delivered rate, loss, p50/p99 end-to-end latency, CPU µs per message of stoxgw
(utime+stime from /proc; of the answering peer for the ceiling), load average.

usage: bench/chat.py BUILD_DIR [--rates 1000,5000,10000] [--sessions 1,1000] [--seconds 4]
                     [--idle 1000,10000] [--idle-connections 1000] [--cps 1000] [--repeat 2]
                     [--only x2s,s2x,ceiling,memory] [--markdown FILE] [--perf PREFIX]
Environment: STOX_BENCH_THREADS (stoxgw core.threads, default 2), STOX_BENCH_LOG (stoxgw log
level, default info), STOX_BENCH_KEEP=1 keeps the temporary folder (configs and stoxgw logs).
A stoxgw that dies is reported in the row ("stoxgw" column) and restarted for the next point.
"""
import argparse, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
TCK = os.sysconf("SC_CLK_TCK")
CHAT = "org.stoxgw.chat"


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_sip_port():
    while True:
        p = free_port()
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", p))
            u.close()
            return p
        except OSError:
            continue


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def cpu_or_none(proc):
    """utime+stime of a child that may have died meanwhile (None then)."""
    try:
        return cpu_seconds(proc.pid) if proc.poll() is None else None
    except OSError:
        return None


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def peer_result(proc, what):
    """The JSON line a peer prints at exit; a zero result naming the failure if it printed none
    (e.g. it had to be killed)."""
    out = proc.stdout.read() if proc.stdout else ""
    try:
        return json.loads(out)
    except ValueError:
        return {"received": 0, "sessions": 0, "span_s": 0, "p50_us": 0, "p99_us": 0,
                "error": f"{what} exit {proc.poll()}, printed {out[-200:]!r}"}


def wait_port(port, proc, what, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} not listening on {port}")


def wait_line(stream, needle, timeout, what):
    """Reads `stream` (text) until a line contains `needle`; returns that line."""
    box = {}

    def reader():
        for line in stream:
            if needle in line:
                box["line"] = line
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    if "line" not in box:
        raise RuntimeError(f"{what}: no '{needle}' within {timeout} s")
    return box["line"]


class Bench:
    def __init__(self, build, seconds):
        self.build = os.path.abspath(build)
        self.seconds = seconds
        self.tmp = tempfile.mkdtemp(prefix="stoxchat.")
        self.procs = []
        self.stoxgw = os.path.join(self.build, "core", "stoxgw")
        self.client = os.path.join(self.build, "bench", "bench_xmpp_client")
        self.peer = os.path.join(self.build, "bench", "bench_chat_peer")
        self.plugins = os.path.join(self.build, "plugins")
        self.gw = None
        self.perf = None
        for exe in (self.stoxgw, self.client, self.peer):
            if not os.access(exe, os.X_OK):
                raise SystemExit(f"missing {exe}: build stoxgw, stox_chat, bench_xmpp_client "
                                 "and bench_chat_peer first")
        if not os.path.isfile(os.path.join(self.plugins, CHAT, "plugin.json")):
            raise SystemExit(f"the chat plugin is not staged in {self.plugins}")

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def close(self):
        for p in reversed(self.procs):
            self.stop(p, timeout=5)
        if os.environ.get("STOX_BENCH_KEEP"):
            print(f"kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- peers -----------------------------------------------------------------------------
    def start_prosody(self):
        self.c2s = free_port()
        self.comp = free_port()
        run = os.path.join(self.tmp, "prosody")
        os.makedirs(os.path.join(run, "data"))
        os.makedirs(os.path.join(run, "certs"))
        with open(os.path.join(TOP, "scripts/local/prosody.cfg.lua.in")) as f:
            cfg = f.read()
        for k, v in {"@RUN@": run, "@C2S_PORT@": str(self.c2s), "@COMPONENT_PORT@": str(self.comp),
                     "@XMPP_DOMAIN@": "example.com", "@SIP_DOMAIN@": "example.net",
                     "@SECRET@": "benchsecret"}.items():
            cfg = cfg.replace(k, v)
        cfg = cfg.replace('{ min = "info" }', '{ min = "error" }')
        path = os.path.join(run, "prosody.cfg.lua")
        with open(path, "w") as f:
            f.write(cfg)
        for user in ("juliet", "bench"):
            subprocess.run(["prosodyctl", "--config", path, "register", user, "example.com", user],
                           check=True, capture_output=True)
        self.prosody = self.spawn(["prosody", "-F", "--config", path], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        wait_port(self.c2s, self.prosody, "prosody")

    failed_starts = 0

    def start_gateway(self, proxy_port, perf=None):
        """A fresh stoxgw with only the chat plugin; its outbound proxy is `proxy_port`. A start
        that dies is retried (counted in failed_starts, reported at the end)."""
        for attempt in range(10):
            try:
                return self._start_gateway(proxy_port, perf)
            except RuntimeError as e:
                self.failed_starts += 1
                print(f"stoxgw start failed (attempt {attempt + 1}): {str(e)[-300:]}",
                      file=sys.stderr, flush=True)
                if attempt == 9:
                    raise

    def _start_gateway(self, proxy_port, perf=None):
        self.stop_gateway()
        self.sip_port = free_sip_port()
        plugins = {CHAT: {"required": True, "config": {
            "max_sessions": 100000,        # the 10,000-session memory point and then some
            "max_queued_messages": 10000,  # X2S: messages sent while the INVITE is pending
            "idle_timeout_s": 3600}}}
        for pid in sorted(os.listdir(self.plugins)):  # every other staged plugin: off
            if pid != CHAT and os.path.isfile(os.path.join(self.plugins, pid, "plugin.json")):
                plugins[pid] = {"enabled": False}
        config = {
            "config_version": 1,
            # Lifecycle only; the chat plugin adds one line per session set up, none per message.
            "log": {"level": os.environ.get("STOX_BENCH_LOG", "info")},
            "core": {"threads": int(os.environ.get("STOX_BENCH_THREADS", "2"))},
            "sip": {"listen": [f"udp:127.0.0.1:{self.sip_port}", f"tcp:127.0.0.1:{self.sip_port}"],
                    "domains": ["example.net"],
                    "outbound_proxy": f"sip:127.0.0.1:{proxy_port};transport=udp",
                    # Completed UDP transactions are remembered 64*T1 (peers.md G7); 4 s as in
                    # bench/run.py, and the memory point waits longer than that.
                    "transaction_timeout_ms": 4000},
            "xmpp": {"component": {"host": "127.0.0.1", "port": self.comp, "domain": "example.net",
                                   "secret": "benchsecret"}},
            "plugins": plugins,
        }
        path = os.path.join(self.tmp, "stoxgw.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.gw_starts = getattr(self, "gw_starts", 0) + 1
        self.gw_log_path = os.path.join(self.tmp, f"stoxgw-{self.gw_starts}.log")
        self.gw_log = open(self.gw_log_path, "w+")
        self.gw = self.spawn([self.stoxgw, "--config", path, "--plugin-path", self.plugins],
                             stdout=self.gw_log, stderr=subprocess.STDOUT)
        end = time.time() + 15
        text = ""
        while time.time() < end:
            self.gw_log.seek(0)
            text = self.gw_log.read()
            if self.gw.poll() is not None:
                raise RuntimeError(f"stoxgw exited ({self.gw_state()}):\n" + text)
            if "ready:" in text and "authenticated" in text:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("stoxgw not ready:\n" + text)
        if perf:
            self.perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g",
                                          "-o", perf, "-p", str(self.gw.pid)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)

    def stop_gateway(self):
        if self.perf:
            self.perf.send_signal(signal.SIGINT)
            self.perf.wait(60)
            self.perf = None
        if self.gw is not None:
            self.stop(self.gw)
            self.gw_log.close()
            self.gw = None

    def answerer(self, port, endpoints=1):
        p = self.spawn([self.peer, "answer", "--listen", f"sip:127.0.0.1:{port}",
                        "--endpoints", str(endpoints)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_line(p.stderr, "bench_chat_peer answer", 10, "answerer")
        return p

    cps = 1000  # session setups per second of bench_chat_peer call (--cps)

    def caller(self, target_port, sessions, count, rate, hold=False, endpoints=1):
        args = [self.peer, "call", "--listen", f"sip:127.0.0.1:{free_sip_port()}",
                "--target", f"sip:127.0.0.1:{target_port};transport=udp",
                "--to", "sip:juliet@example.com", "--sessions", str(sessions),
                "--endpoints", str(endpoints), "--cps", str(self.cps),
                "--count", str(count), "--rate", str(rate)]
        if hold:
            args.append("--hold")
        return self.spawn(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)

    # --- measurements ----------------------------------------------------------------------
    def gw_state(self):
        """"ok", or how stoxgw died during the measurement (it is restarted for the next)."""
        code = self.gw.poll() if self.gw else None
        if code is None:
            return "ok"
        return f"died ({signal.Signals(-code).name})" if code < 0 else f"exited {code}"

    def row(self, direction, sessions, rate, count, got, res, cpu, load0):
        return {"direction": direction, "sessions": sessions, "rate": rate, "sent": count,
                "delivered": got, "loss": count - got,
                "delivered_per_s": round(got / res["span_s"]) if res.get("span_s") else 0,
                "p50_ms": res.get("p50_us", 0) / 1000, "p99_ms": res.get("p99_us", 0) / 1000,
                "cpu_us_per_msg": round(cpu * 1e6 / max(got, 1), 1) if cpu is not None else None,
                "load": f"{load0:.1f}/{loadavg():.1f}"}

    def xmpp_to_sip(self, sessions, rate, perf=None):
        count = max(1000, rate * self.seconds)
        port = free_sip_port()
        ans = self.answerer(port)
        self.start_gateway(port, perf)
        load0 = loadavg()
        to = ["--to", "romeo@example.net"] if sessions == 1 else \
            ["--to", "romeo", "--to-count", str(sessions), "--to-domain", "example.net"]
        src = self.spawn([self.client, "source", "--port", str(self.c2s), "--user", "bench",
                          "--password", "bench", "--type", "chat", *to, "--count", str(count),
                          "--rate", str(rate), "--warmup-ms", str(1500 + sessions * 5)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_line(src.stderr, "warmup done", 120, "xmpp source")
        cpu0 = cpu_seconds(self.gw.pid)
        out, _ = src.communicate(timeout=600)
        sent = json.loads(out)
        time.sleep(1.0)
        cpu1 = cpu_or_none(self.gw)
        cpu = cpu1 - cpu0 if cpu1 is not None else None
        state = self.gw_state()
        rss = rss_kb(self.gw.pid) if state == "ok" else None
        self.stop_gateway()  # before the answerer: no re-INVITEs to a peer that is gone
        self.stop(ans)
        res = peer_result(ans, "answerer")
        got = max(0, res["received"] - sessions)  # the warm-up messages
        r = self.row("XMPP->SIP", sessions, rate, count, got, res, cpu, load0)
        r["xmpp_errors"] = sent["errors"]
        r["peer_sessions"] = res["sessions"]
        r["stoxgw"] = state
        r["gw_rss_kb_after"] = rss
        return r

    def sip_to_xmpp(self, sessions, rate, perf=None):
        count = max(1000, rate * self.seconds)
        self.start_gateway(free_sip_port(), perf)
        load0 = loadavg()
        sink = self.spawn([self.client, "sink", "--port", str(self.c2s), "--user", "juliet",
                           "--password", "juliet", "--expect", str(count), "--idle-ms", "2000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_line(sink.stderr, "sink ready", 10, "xmpp sink")
        call = self.caller(self.sip_port, sessions, count, rate)
        line = wait_line(call.stderr, "established", 120, "chat peer (call)")
        cpu0 = cpu_seconds(self.gw.pid)
        out, _ = call.communicate(timeout=600)
        res = json.loads(sink.communicate(timeout=120)[0])
        cpu1 = cpu_or_none(self.gw)
        cpu = cpu1 - cpu0 if cpu1 is not None else None
        state = self.gw_state()
        rss = rss_kb(self.gw.pid) if state == "ok" else None
        self.stop_gateway()
        peer = json.loads(out)
        r = self.row("SIP->XMPP", sessions, rate, count, res["received"], res, cpu, load0)
        r["established"] = line.split()[1]
        r["msrp_failed"] = peer["send_failed"]
        r["stoxgw"] = state
        r["gw_rss_kb_after"] = rss
        return r

    def ceiling(self, sessions, rate):
        count = max(1000, rate * self.seconds)
        port = free_sip_port()
        ans = self.answerer(port)
        load0 = loadavg()
        call = self.caller(port, sessions, count, rate)
        wait_line(call.stderr, "established", 120, "chat peer (call)")
        cpu0 = cpu_seconds(ans.pid)
        out, _ = call.communicate(timeout=600)
        cpu = cpu_seconds(ans.pid) - cpu0
        self.stop(ans)
        res = peer_result(ans, "answerer")
        got = res["received"]
        r = self.row("ceiling (peer->peer MSRP)", sessions, rate, count, got, res, cpu, load0)
        r["stoxgw"] = "n/a"
        return r

    def memory(self, sessions, endpoints=1, attempts=3):
        """Retried while stoxgw dies during set-up (the count of deaths is in the result)."""
        deaths = 0
        for _ in range(attempts):
            m = self._memory(sessions, endpoints)
            if m["stoxgw"] == "ok":
                break
            deaths += 1
        m["deaths_before"] = deaths if m["stoxgw"] == "ok" else deaths - 1
        return m

    def _memory(self, sessions, endpoints=1):
        self.start_gateway(free_sip_port())
        time.sleep(1.0)
        rss0 = rss_kb(self.gw.pid)
        call = self.caller(self.sip_port, sessions, 0, 1, hold=True, endpoints=endpoints)
        line = wait_line(call.stderr, "established", 60 + sessions / self.cps * 2, "chat peer")
        established = int(line.split()[1])
        rss_busy = rss_kb(self.gw.pid)
        time.sleep(6.0)  # > transaction_timeout_ms: sofia's completed transactions are freed
        state = self.gw_state()
        rss1 = rss_kb(self.gw.pid) if state == "ok" else 0
        call.stdin.close()
        self.stop(call)
        self.stop_gateway()
        return {"sessions": sessions, "tcp_connections": min(endpoints, sessions),
                "established": established, "rss_before_kb": rss0, "rss_setup_kb": rss_busy,
                "rss_idle_kb": rss1,
                "kb_per_session": round((rss1 - rss0) / max(established, 1), 2) if rss1 else None,
                "stoxgw": state, "load": f"{loadavg():.1f}"}


def markdown(rows, mem, machine):
    out = [f"Machine: {machine}", "",
           "| direction | sessions | target/s | sent | delivered | loss | delivered/s | p50 ms | "
           "p99 ms | CPU µs/msg | load 1m (start/end) | stoxgw |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['direction']} | {r['sessions']} | {r['rate']} | {r['sent']} | "
                   f"{r['delivered']} | {r['loss']} | {r['delivered_per_s']} | {r['p50_ms']:.2f} | "
                   f"{r['p99_ms']:.2f} | {r['cpu_us_per_msg']} | {r['load']} | {r['stoxgw']} |")
    if mem:
        out += ["", "| idle sessions | MSRP connections | established | VmRSS before KB | "
                "VmRSS during setup KB | VmRSS idle KB | KB per session | stoxgw |",
                "|---|---|---|---|---|---|---|---|"]
        for m in mem:
            out.append(f"| {m['sessions']} | {m['tcp_connections']} | {m['established']} | "
                       f"{m['rss_before_kb']} | {m['rss_setup_kb']} | {m['rss_idle_kb']} | "
                       f"{m['kb_per_session']} | {m['stoxgw']} |")
    return "\n".join(out)


def perf_report(data):
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym",
                          "--stdio", "-g", "none", "--percent-limit", "0.7"],
                         capture_output=True, text=True)
    with open(data + ".txt", "w") as f:
        f.write(rep.stdout)
    print("\n".join(l for l in rep.stdout.splitlines() if l and not l.startswith("#"))[:5000])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--rates", default="1000,5000,10000")
    ap.add_argument("--sessions", default="1,1000", help="session counts of the rate runs")
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--idle", default="1000,10000", help="idle session counts (memory)")
    ap.add_argument("--idle-connections", type=int, default=1000,
                    help="also measure this many idle sessions on one MSRP connection each")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cps", type=int, default=1000, help="SIP-side session setups per second")
    ap.add_argument("--only", default="x2s,s2x,ceiling,memory")
    ap.add_argument("--markdown")
    ap.add_argument("--perf", metavar="PREFIX",
                    help="perf record stoxgw during the largest session count at the top rate "
                         "(PREFIX-x2s.data, PREFIX-s2x.data + .txt reports)")
    a = ap.parse_args()
    rates = [int(r) for r in a.rates.split(",") if r]
    counts = [int(s) for s in a.sessions.split(",") if s]
    idle = [int(s) for s in a.idle.split(",") if s]
    only = set(a.only.split(","))
    machine = f"{os.cpu_count()} cores, {os.uname().release}, " + \
              subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                             capture_output=True, text=True).stdout.strip()
    b = Bench(a.build, a.seconds)
    b.cps = a.cps
    rows, mem = [], []
    try:
        b.start_prosody()
        for rep in range(a.repeat):
            for s in counts:
                for r in rates:
                    top = a.perf and rep == 0 and s == counts[-1] and r == rates[-1]
                    jobs = []
                    if "x2s" in only:
                        jobs.append(lambda: b.xmpp_to_sip(s, r, top and a.perf + "-x2s.data"))
                    if "s2x" in only:
                        jobs.append(lambda: b.sip_to_xmpp(s, r, top and a.perf + "-s2x.data"))
                    if "ceiling" in only:
                        jobs.append(lambda: b.ceiling(s, r))
                    for job in jobs:
                        row = job()
                        row["run"] = rep + 1
                        rows.append(row)
                        print(json.dumps(row), flush=True)
            if "memory" in only:
                for n in idle:
                    m = b.memory(n)
                    mem.append(m)
                    print(json.dumps(m), flush=True)
                if a.idle_connections:
                    m = b.memory(a.idle_connections, endpoints=a.idle_connections)
                    mem.append(m)
                    print(json.dumps(m), flush=True)
    finally:
        b.stop_gateway()
        b.close()
    if a.perf:
        for d in ("x2s", "s2x"):
            if os.path.exists(f"{a.perf}-{d}.data"):
                print(f"--- perf {d} ---")
                perf_report(f"{a.perf}-{d}.data")
    if b.failed_starts:
        print(f"stoxgw died during start-up {b.failed_starts} time(s) (retried)")
    table = markdown(rows, mem, machine)
    print(table)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()

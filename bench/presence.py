#!/usr/bin/python3
"""stoxgw presence benchmark (issue 4 item 7). Not part of the test suite.

Three measurements, each with its baseline from the same run (docs/performance.md, "Presence"):
  memory  : VmRSS of stoxgw with the presence plugin and an empty store (baseline), then with
            N (100,000) W-X records restored, then with N W-S records restored (separate gateway
            runs): (RSS - baseline) / N bytes per subscription. The plugin loads every record
            at start. W-X restore arms one refresh timer per dialog (no traffic while measured);
            W-S restore queues one paced probe per approved dialog (subscribe_rate per second),
            Prosody answers each (juliet's roster holds the N watchers) and each answer becomes
            one NOTIFY. RSS is sampled `--settle` seconds after "ready:" and again once that
            probe/NOTIFY wave is over.
  restart : time from launching stoxgw with N stored subscriptions (N/2 W-X + N/2 W-S, and N
            W-S; a fresh store each time) to its "presence: resumed ..." and "ready:" lines and
            to the XMPP component handshake ("fully serving" = ready and authenticated); then an
            OPTIONS and an in-dialog SUBSCRIBE refresh of a restored W-S dialog are sent at once
            and their answers timed.
  fanout  : juliet's roster holds 10,000 contacts wN@example.net (subscription "from"; the
            roster file is written directly into Prosody's internal storage), the store 10,000
            approved W-S dialogs wN -> juliet. After the restore wave, juliet logs in (wave 0)
            and changes status K times, each change once the gateway is idle again. NOTIFYs per
            second from the first change to the end of the last wave, CPU per NOTIFY of stoxgw,
            Prosody and the responder, UDP receive-buffer drops, and the exact NOTIFY count per
            dialog (the gateway's stored CSeq, checked against the responder's total).
            Baseline: the responder's own ceiling (sipp sends NOTIFYs straight to it).
Responders: memory/restart use this file in `responder` mode (stdlib UDP, answers 200, counts
per Call-ID: enough for their 2,000/s); the fan-out uses bench_sip_responder (sofia-sip, fast
enough, but it counts only totals). bench_presence_store_gen writes the stores.

usage: bench/presence.py BUILD_DIR [--only memory,restart,fanout] [--repeat 2] [--count 100000]
                         [--fanout 10000] [--changes 5] [--coalesce-ms 0] [--window N]
                         [--transport udp|tcp] [--no-ceiling] [--perf FILE] [--json FILE] [--keep]
       bench/presence.py responder PORT DUMPFILE   (internal)
"""
import argparse, base64, json, os, re, shutil, signal, socket, sqlite3, subprocess, sys, tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in bench/
from run import cpu_seconds, free_port, free_sip_port, wait_port  # noqa: E402  (IM benchmark)

PRESENCE = "org.stoxgw.presence"
XMPP_DOMAIN, SIP_DOMAIN, SECRET = "example.com", "example.net", "benchsecret"


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def udp_rcvbuf_errors():
    """System-wide UDP receive-buffer drops (/proc/net/snmp): datagrams lost on loopback."""
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def udp_port_drops(port):
    """Receive-buffer drops of the UDP sockets bound to 127.0.0.1:port (/proc/net/udp `drops`),
    to tell which side of the fan-out loses datagrams."""
    suffix = f"0100007F:{port:04X}"
    total = 0
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) > 12 and parts[1] == suffix:
                total += int(parts[-1])
    return total


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- SIP responder (runs as its own process) -------------------------------------------------
_KEEP = (b"Via:", b"v:", b"From:", b"f:", b"To:", b"t:", b"Call-ID:", b"i:", b"CSeq:")


def responder_main(port, dump):
    """Answers 200 to every request (ACK excepted) and counts distinct requests (Call-ID + CSeq:
    retransmissions are answered but counted apart) per method and NOTIFYs per Call-ID. A
    datagram "STATS" gets a JSON answer (live count, monotonic time of the last new request);
    SIGTERM writes the per-Call-ID counts to DUMP and prints a summary line."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE (root): absorb bursts
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.bind(("127.0.0.1", port))
    seen, per_call, methods = set(), {}, {}
    total, retrans, first, last = 0, 0, 0.0, 0.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    recv, send, mono = s.recvfrom, s.sendto, time.monotonic
    s.settimeout(0.2)
    sys.stderr.write("responder ready\n")
    sys.stderr.flush()
    while not stop:
        try:
            data, addr = recv(65535)
        except (socket.timeout, InterruptedError):
            continue
        if data.startswith(b"STATS"):
            send(json.dumps({"received": total, "retransmissions": retrans, "first": first,
                             "last": last}).encode(), addr)
            continue
        sp = data.find(b" ")
        method = data[:sp]
        if method == b"SIP/2.0" or method == b"ACK" or sp < 0:
            continue
        keep = [b"SIP/2.0 200 OK"]
        cid = cseq = b""
        for line in data[:data.find(b"\r\n\r\n")].split(b"\r\n")[1:]:
            if line.startswith(_KEEP):
                if line.startswith((b"Call-ID:", b"i:")):
                    cid = line[line.find(b":") + 1:].strip()
                elif line.startswith(b"CSeq:"):
                    cseq = line
                elif line.startswith((b"To:", b"t:")) and b";tag=" not in line:
                    line += b";tag=resp"
                keep.append(line)
        keep.append(b"Content-Length: 0\r\n\r\n")
        send(b"\r\n".join(keep), addr)
        key = cid + cseq
        if key in seen:
            retrans += 1
            continue
        seen.add(key)
        total += 1
        last = mono()
        if total == 1:
            first = last
        methods[method] = methods.get(method, 0) + 1
        if method == b"NOTIFY":
            per_call[cid] = per_call.get(cid, 0) + 1
    with open(dump, "w") as f:
        json.dump({k.decode(): v for k, v in per_call.items()}, f)
    print(json.dumps({"received": total, "retransmissions": retrans,
                      "span_s": round(last - first, 3),
                      "methods": {k.decode(): v for k, v in methods.items()}}), flush=True)


class Responder:
    def __init__(self, bench, port=None):
        self.port = port or free_sip_port()
        self.dump = os.path.join(bench.tmp, f"responder-{self.port}.json")
        self.proc = bench.spawn([sys.executable, os.path.abspath(__file__), "responder",
                                 str(self.port), self.dump], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.proc.stderr.readline()
        self.ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ctl.bind(("127.0.0.1", 0))
        self.ctl.settimeout(2)

    def stats(self):
        self.ctl.sendto(b"STATS", ("127.0.0.1", self.port))
        return json.loads(self.ctl.recv(65535))

    def wait_quiet(self, quiet_s=2.0, timeout=120.0):
        """Waits until no request has arrived for quiet_s (or timeout); returns the stats."""
        t0 = time.monotonic()
        while True:
            st = self.stats()
            now = time.monotonic()
            if now - max(st["last"], t0) > quiet_s or now - t0 > timeout:
                return st
            time.sleep(0.1)

    def finish(self):
        self.proc.send_signal(signal.SIGTERM)
        out = json.loads(self.proc.communicate(timeout=30)[0])
        with open(self.dump) as f:
            out["per_call"] = json.load(f)
        return out


# --- raw-socket XMPP c2s client (as bench_xmpp_client: PLAIN, bind) ---------------------------
class Xmpp:
    def __init__(self, port, user, password, resource="bench"):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        self.buf = b""
        self._open()
        self._until(b"</stream:features>")
        cred = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{cred}"
                  "</auth>")
        if b"<success" not in self._until(b"success", b"failure"):
            raise RuntimeError("XMPP login failed")
        self._open()
        self._until(b"</stream:features>")
        self.send(f"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  f"<resource>{resource}</resource></bind></iq>")
        self._until(b"</iq>")

    def _open(self):
        self.buf = b""
        self.send(f"<?xml version='1.0'?><stream:stream to='{XMPP_DOMAIN}' version='1.0' "
                  "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")

    def send(self, text):
        self.s.sendall(text.encode())

    def _until(self, *marks):
        while not any(m in self.buf for m in marks):
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("XMPP stream closed: " + self.buf[-300:].decode(errors="replace"))
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out

    def roster_size(self):
        self.send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
        data = self._until(b"</query>", b"<query xmlns='jabber:iq:roster'/>")
        return len(re.findall(rb"<item ", data))

    def drain(self):
        self.s.setblocking(False)
        try:
            while self.s.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
        self.s.setblocking(True)

    def close(self):
        try:
            self.send("</stream:stream>")
            self.s.close()
        except OSError:
            pass


def udp_request(port, text, timeout=5.0):
    """Sends one SIP request over UDP and returns (status, seconds to the final answer)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    lport = s.getsockname()[1]
    s.settimeout(timeout)
    t0 = time.monotonic()
    s.sendto(text.replace("@LPORT@", str(lport)).encode(), ("127.0.0.1", port))
    try:
        while True:
            data = s.recv(65535)
            status = int(data.split(b" ", 2)[1])
            if status >= 200:
                return status, time.monotonic() - t0
    except socket.timeout:
        return None, timeout
    finally:
        s.close()


def options_request(port):
    n = int(time.time() * 1000)
    return ("OPTIONS sip:example.net SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:@LPORT@;branch=z9hG4bK-opt{n};rport\r\n"
            f"From: <sip:probe@{SIP_DOMAIN}>;tag=o{n}\r\nTo: <sip:{SIP_DOMAIN}>\r\n"
            f"Call-ID: opt-{n}@bench\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n")


def refresh_request(port, index, store_offset):
    """In-dialog SUBSCRIBE refresh of restored W-S dialog `index` (bench_presence_store_gen's
    Call-ID and tags; RFC 6665 §4.1.2.1)."""
    i = store_offset + index
    n = int(time.time() * 1000)
    return (f"SUBSCRIBE sip:juliet@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:@LPORT@;branch=z9hG4bK-ref{n};rport\r\n"
            f"From: <sip:w{index}@{SIP_DOMAIN}>;tag=rt{i}\r\n"
            f"To: <sip:juliet@{XMPP_DOMAIN}>;tag=lt{i}\r\n"
            f"Call-ID: bench-{i}-7f3a91c2@gw.{SIP_DOMAIN}\r\nCSeq: 2 SUBSCRIBE\r\n"
            f"Contact: <sip:w{index}@127.0.0.1:@LPORT@>\r\nEvent: presence\r\n"
            "Accept: application/pidf+xml\r\nExpires: 3600\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n")


# --- the bench -----------------------------------------------------------------------------
class Bench:
    def __init__(self, build, args):
        self.build = os.path.abspath(build)
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix="stoxpres.")
        self.procs = []
        self.stoxgw = os.path.join(self.build, "core", "stoxgw")
        self.gen = os.path.join(self.build, "bench", "bench_presence_store_gen")
        self.responder = os.path.join(self.build, "bench", "bench_sip_responder")
        self.plugins = os.path.join(self.build, "plugins")
        self.prosody = None
        self.run_no = 0

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=15):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def close(self):
        for p in reversed(self.procs):
            self.stop(p, 5)
        if not self.a.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept", self.tmp, file=sys.stderr)

    # --- Prosody with juliet's roster written directly (internal storage) ------------------
    def start_prosody(self, roster_size):
        if self.prosody is not None:
            self.stop(self.prosody)
        self.c2s, self.comp = free_port(), free_port()
        run = os.path.join(self.tmp, f"prosody-{roster_size}")
        shutil.rmtree(run, ignore_errors=True)
        os.makedirs(os.path.join(run, "data"))
        os.makedirs(os.path.join(run, "certs"))
        with open(os.path.join(TOP, "scripts/local/prosody.cfg.lua.in")) as f:
            cfg = f.read()
        for k, v in {"@RUN@": run, "@C2S_PORT@": str(self.c2s), "@COMPONENT_PORT@": str(self.comp),
                     "@XMPP_DOMAIN@": XMPP_DOMAIN, "@SIP_DOMAIN@": SIP_DOMAIN,
                     "@SECRET@": SECRET}.items():
            cfg = cfg.replace(k, v)
        cfg = cfg.replace('{ min = "info" }', '{ min = "error" }')
        path = os.path.join(run, "prosody.cfg.lua")
        with open(path, "w") as f:
            f.write(cfg)
        subprocess.run(["prosodyctl", "--config", path, "register", "juliet", XMPP_DOMAIN,
                        "juliet"], check=True, capture_output=True)
        # <data>/<host with '.' escaped as %2e>/roster/<user>.dat, a Lua table (util.datamanager).
        roster_dir = os.path.join(run, "data", XMPP_DOMAIN.replace(".", "%2e"), "roster")
        os.makedirs(roster_dir, exist_ok=True)
        with open(os.path.join(roster_dir, "juliet.dat"), "w") as f:
            f.write("return {\n\t[false] = {\n\t\t[\"version\"] = 1;\n\t\t[\"pending\"] = {};\n\t};\n")
            for i in range(roster_size):
                f.write(f"\t[\"w{i}@{SIP_DOMAIN}\"] = {{\n\t\t[\"groups\"] = {{}};\n"
                        "\t\t[\"subscription\"] = \"from\";\n\t};\n")
            f.write("};\n")
        self.prosody = self.spawn(["prosody", "-F", "--config", path], cwd=run,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.c2s, self.prosody, "prosody")
        wait_port(self.comp, self.prosody, "prosody component port")

    # --- stores and the gateway -------------------------------------------------------------
    def make_store(self, watchers, notifiers, target_port, transport="udp"):
        path = os.path.join(self.tmp, f"store-{watchers}-{notifiers}.sqlite")
        target = f"127.0.0.1:{target_port}" + ("" if transport == "udp" else ";transport=tcp")
        subprocess.run([self.gen, "--path", path, "--watchers", str(watchers), "--notifiers",
                        str(notifiers), "--target", target],
                       check=True, capture_output=True)
        return path

    def gateway_config(self, store_path, short_transactions=True):
        cfg = {"store": {"kind": "sqlite", "path": store_path}}
        if self.a.coalesce_ms is not None:
            cfg["coalesce_window_ms"] = self.a.coalesce_ms
        if self.a.window is not None:
            cfg["max_notifies_in_flight"] = self.a.window
        plugins = {PRESENCE: {"required": True, "config": cfg}}
        for pid in sorted(os.listdir(self.plugins)):
            if pid != PRESENCE and os.path.isfile(os.path.join(self.plugins, pid, "plugin.json")):
                plugins[pid] = {"enabled": False}
        self.sip_port = free_sip_port()
        sip = {"listen": [f"udp:127.0.0.1:{self.sip_port}", f"tcp:127.0.0.1:{self.sip_port}"],
               "domains": [SIP_DOMAIN]}
        if short_transactions:
            # As bench/run.py (peers.md G7): completed UDP transactions are kept 4 s, not
            # 64*T1 = 32 s, so that RSS does not count 32 s of finished NOTIFYs. Not for the
            # fan-out: there Timer F (the same setting) keeps its RFC value of 32 s.
            sip["transaction_timeout_ms"] = 4000
        return {
            "config_version": 1,
            "log": {"level": "info"},
            "core": {"threads": 2},
            "sip": sip,
            "xmpp": {"component": {"host": "127.0.0.1", "port": self.comp, "domain": SIP_DOMAIN,
                                   "secret": SECRET}},
            "plugins": plugins,
        }

    def start_gateway(self, store_path, timeout=60, short_transactions=True):
        """Starts stoxgw and timestamps its log lines as they appear (monotonic seconds after
        the launch). Returns the process and the timings."""
        self.run_no += 1
        path = os.path.join(self.tmp, f"stoxgw-{self.run_no}.json")
        with open(path, "w") as f:
            json.dump(self.gateway_config(store_path, short_transactions), f)
        log_path = os.path.join(self.tmp, f"stoxgw-{self.run_no}.log")
        log = open(log_path, "w+")
        t0 = time.monotonic()
        gw = self.spawn([self.stoxgw, "run", "--config", path, "--plugin-path", self.plugins],
                        stdout=log, stderr=subprocess.STDOUT)
        seen = {}
        marks = {"resumed": "presence: resumed", "ready": "ready:",
                 "authenticated": f"XMPP component {SIP_DOMAIN} authenticated"}
        text = ""
        while time.monotonic() - t0 < timeout:
            log.seek(0)
            text = log.read()
            now = time.monotonic() - t0
            for k, m in marks.items():
                if k not in seen and m in text:
                    seen[k] = now
            if len(seen) == len(marks):
                break
            if gw.poll() is not None:
                raise RuntimeError("stoxgw exited:\n" + text[-3000:])
            time.sleep(0.005)
        else:
            raise RuntimeError("stoxgw not ready:\n" + text[-3000:])
        m = re.search(r"resumed (\d+) watcher and (\d+) notifier subscriptions in (\d+) ms", text)
        seen["logged_load_ms"] = int(m.group(3)) if m else None
        seen["resumed_counts"] = (int(m.group(1)), int(m.group(2))) if m else None
        gw.log_path = log_path
        return gw, seen

    # --- 1. memory ---------------------------------------------------------------------------
    def memory(self, n):
        rows = []
        resp = Responder(self)
        stores = {"baseline (empty store)": self.make_store(0, 0, resp.port),
                  "W-X": self.make_store(n, 0, resp.port),
                  "W-S": self.make_store(0, n, resp.port)}
        self.start_prosody(n)  # juliet's roster holds the n W-S watchers (probes are answered)
        for rep in range(self.a.repeat):
            base = None
            for label, store in stores.items():
                before = resp.stats()["received"]
                gw, seen = self.start_gateway(store)
                time.sleep(self.a.settle)
                rss_settled = rss_bytes(gw.pid)
                # W-S: wait for the paced probe -> NOTIFY wave to end, then sample again.
                st = resp.wait_quiet(quiet_s=3.0, timeout=3.0 + n / 1000.0) \
                    if label == "W-S" else resp.stats()
                rss_after = rss_bytes(gw.pid)
                cpu = cpu_seconds(gw.pid)
                self.stop(gw)
                row = {"measure": "memory", "run": rep + 1, "role": label, "records": 0 if label.startswith("baseline") else n,
                       "load_ms": seen["logged_load_ms"], "rss_settled_MiB": round(rss_settled / 2**20, 1),
                       "rss_after_wave_MiB": round(rss_after / 2**20, 1),
                       "notifies_during": st["received"] - before, "gw_cpu_s": round(cpu, 2),
                       "loadavg": loadavg()}
                if base is None:
                    base = (rss_settled, rss_after)
                else:
                    row["bytes_per_sub_settled"] = round((rss_settled - base[0]) / n)
                    row["bytes_per_sub_after_wave"] = round((rss_after - base[1]) / n)
                rows.append(row)
                print(json.dumps(row), flush=True)
        resp.finish()
        return rows

    # --- 2. restart --------------------------------------------------------------------------
    def restart(self, n):
        rows = []
        resp = Responder(self)
        mixes = [("50k W-X + 50k W-S", n // 2, n - n // 2), ("100k W-S", 0, n)]
        self.start_prosody(n)
        for rep in range(self.a.repeat):
            for label, w, s in mixes:
                store = self.make_store(w, s, resp.port)  # fresh: nothing from the last run
                gw, seen = self.start_gateway(store)
                served = max(seen["ready"], seen["authenticated"])
                opt_status, opt_s = udp_request(self.sip_port, options_request(self.sip_port))
                sub_status, sub_s = udp_request(self.sip_port, refresh_request(self.sip_port, 7, w))
                self.stop(gw)
                row = {"measure": "restart", "run": rep + 1, "store": label,
                       "resumed_line_s": round(seen["resumed"], 3),
                       "logged_load_ms": seen["logged_load_ms"],
                       "ready_s": round(seen["ready"], 3),
                       "authenticated_s": round(seen["authenticated"], 3),
                       "fully_serving_s": round(served, 3),
                       "options": opt_status, "options_ms": round(opt_s * 1000, 1),
                       "refresh_subscribe": sub_status, "refresh_ms": round(sub_s * 1000, 1),
                       "resumed": seen["resumed_counts"], "loadavg": loadavg()}
                rows.append(row)
                print(json.dumps(row), flush=True)
        resp.finish()
        return rows

    # --- 3. fan-out --------------------------------------------------------------------------
    def sofia_responder(self, port):
        """bench_sip_responder (sofia-sip nta, answers 200; its transaction layer keeps each
        transaction 32 s and absorbs retransmissions, so `received` counts distinct requests)."""
        p = self.spawn([self.responder, "--listen", f"sip:127.0.0.1:{port}", "--t1x64", "32000"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(0.3)
        return p

    def finish_sofia(self, p):
        p.send_signal(signal.SIGTERM)
        return json.loads(p.communicate(timeout=30)[0])

    @staticmethod
    def wait_idle(pids, idle_s=0.6, timeout=120):
        """Waits until the summed CPU time of pids has not moved for idle_s (10 ms ticks);
        returns the monotonic time of the last movement."""
        t0 = time.monotonic()
        last, since = None, time.monotonic()
        while time.monotonic() - t0 < timeout:
            cpu = sum(cpu_seconds(p) for p in pids)
            if cpu != last:
                last, since = cpu, time.monotonic()
            elif time.monotonic() - since >= idle_s:
                break
            time.sleep(0.02)
        return since

    def notify_scenario(self):
        scen = os.path.join(self.tmp, "notify_uac.xml")
        with open(scen, "w") as f:
            f.write("""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench NOTIFY UAC">
  <send retrans="500"><![CDATA[
NOTIFY sip:w[call_number]@127.0.0.1:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:juliet@example.com>;tag=[call_number]
To: <sip:w[call_number]@example.net>;tag=r[call_number]
Call-ID: [call_id]
CSeq: 2 NOTIFY
Max-Forwards: 70
Event: presence
Subscription-State: active;expires=3000
Content-Type: application/pidf+xml
Content-Length: [len]

<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:juliet@example.com"><tuple id="ID-bench"><status><basic>open</basic></status></tuple></presence>
]]></send>
  <recv response="200"/>
</scenario>
""")
        return scen

    def ceiling(self, seconds=2, rate=20000):
        """The responder's own ceiling: sipp sends NOTIFYs straight to bench_sip_responder."""
        port = free_sip_port()
        resp = self.sofia_responder(port)
        count = rate * seconds
        cpu0 = cpu_seconds(resp.pid)
        out = subprocess.run(["sipp", "-sf", self.notify_scenario(), "-i", "127.0.0.1", "-p",
                              str(free_sip_port()), "-m", str(count), "-r", str(rate), "-l",
                              str(rate), "-nostdin", "-timeout", "60s", f"127.0.0.1:{port}"],
                             capture_output=True, text=True, cwd=self.tmp)
        cpu = cpu_seconds(resp.pid) - cpu0
        res = self.finish_sofia(resp)
        ok = 0
        for line in out.stdout.splitlines():
            if "Successful call" in line:
                ok = int(line.split("|")[2].split()[0])
        return {"measure": "fanout ceiling (sipp NOTIFY -> bench_sip_responder)", "run": None,
                "target_per_s": rate, "sent": count, "answered": res["received"], "sipp_2xx": ok,
                "per_s": round(res["received"] / res["span_s"]) if res["span_s"] else None,
                "responder_cpu_us_per_notify": round(cpu * 1e6 / max(res["received"], 1), 1),
                "loadavg": loadavg()}

    def fanout(self, n, changes):
        rows = []
        for rep in range(self.a.repeat):
            for rate in () if self.a.no_ceiling else (10000, 20000):
                rows.append(self.ceiling(rate=rate))
                rows[-1]["run"] = rep + 1
                print(json.dumps(rows[-1]), flush=True)
            port = free_sip_port()
            store = self.make_store(0, n, port, self.a.transport)
            self.start_prosody(n)
            # One responder for the whole run: a wave's late retransmissions must still be
            # answered (a dead port would turn into 408/503 and remove the dialog).
            resp = self.sofia_responder(port)
            gw, seen = self.start_gateway(store, short_transactions=False)
            # Restore: one paced probe per dialog; each answer (juliet is offline) is a NOTIFY.
            time.sleep(1.0)
            self.wait_idle([gw.pid, self.prosody.pid, resp.pid], idle_s=2.0)
            juliet = Xmpp(self.c2s, "juliet", "juliet")
            roster = juliet.roster_size()
            perf = None
            if self.a.perf and rep == 0:
                perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g",
                                         "-o", self.a.perf + ".data", "-p", str(gw.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
            waves = []
            shows = ["", "away", "dnd", "xa", "chat"]
            t_first = None
            c_start = None
            for k in range(changes + 1):  # wave 0: the login (initial presence broadcast)
                c0 = (cpu_seconds(gw.pid), cpu_seconds(self.prosody.pid), cpu_seconds(resp.pid))
                drops0 = udp_rcvbuf_errors()
                sock0 = (udp_port_drops(port), udp_port_drops(self.sip_port))
                show = shows[k % len(shows)]
                stanza = "<presence>" + (f"<show>{show}</show>" if show else "") + \
                    f"<status>bench {k}</status></presence>"
                t0 = time.monotonic()
                if k == 1:
                    t_first, c_start = t0, c0
                juliet.send(stanza)
                time.sleep(0.1)
                t_end = self.wait_idle([gw.pid, resp.pid], idle_s=1.0)
                c1 = (cpu_seconds(gw.pid), cpu_seconds(self.prosody.pid), cpu_seconds(resp.pid))
                juliet.drain()
                wave = {"wave": k, "seconds": round(t_end - t0, 3),
                        "per_s": round(n / (t_end - t0)),
                        "gw_cpu_s": round(c1[0] - c0[0], 2),
                        "prosody_cpu_s": round(c1[1] - c0[1], 2),
                        "responder_cpu_s": round(c1[2] - c0[2], 2),
                        "udp_rcvbuf_errors": udp_rcvbuf_errors() - drops0,
                        "responder_socket_drops": udp_port_drops(port) - sock0[0],
                        "gateway_socket_drops": udp_port_drops(self.sip_port) - sock0[1]}
                waves.append(wave)
                print("  wave", json.dumps(wave), flush=True)
            t_last = t_end
            c_end = c1
            if perf:
                perf.send_signal(signal.SIGINT)
                perf.wait(60)
            time.sleep(1.0)
            self.stop(gw)  # stop() flushes the store: d_local_cseq is the NOTIFY count
            juliet.close()  # after: juliet's unavailable broadcast would start another wave
            res = self.finish_sofia(resp)
            db = sqlite3.connect(store)
            cseqs = {}
            for (c,) in db.execute("SELECT d_local_cseq FROM notifier"):
                k = "dialog removed" if c is None else c - 1
                cseqs[k] = cseqs.get(k, 0) + 1
            db.close()
            expected = n * changes
            busy = t_last - t_first
            total_sent = sum(k * v for k, v in cseqs.items() if k != "dialog removed")
            row = {"measure": "fanout", "run": rep + 1, "transport": self.a.transport,
                   "window": self.a.window or "plugin default", "watchers": n,
                   "roster": roster, "status_changes": changes,
                   "expected_notifies": expected,
                   "notifies_per_s": round(expected / busy),
                   "first_change_to_last_notify_s": round(busy, 2),
                   "wave_rates": [w["per_s"] for w in waves[1:]],
                   "login_wave_per_s": waves[0]["per_s"],
                   "gw_cpu_us_per_notify": round((c_end[0] - c_start[0]) * 1e6 / expected, 1),
                   "prosody_cpu_us_per_notify": round((c_end[1] - c_start[1]) * 1e6 / expected, 1),
                   "responder_cpu_us_per_notify": round((c_end[2] - c_start[2]) * 1e6 / expected, 1),
                   "responder_received_total": res["received"],
                   # Every dialog got restore + login + K NOTIFYs and the responder saw them all.
                   "complete": res["received"] == n * (changes + 2) and
                   cseqs.get(changes + 2) == n,
                   "store_notifies_sent_total": total_sent,
                   "store_notifies_per_dialog": {str(k): v for k, v in cseqs.items()},
                   # System-wide (other users of the box count too), then per socket.
                   "udp_rcvbuf_errors": sum(w["udp_rcvbuf_errors"] for w in waves),
                   "responder_socket_drops": sum(w["responder_socket_drops"] for w in waves),
                   "gateway_socket_drops": sum(w["gateway_socket_drops"] for w in waves),
                   "loadavg": loadavg()}
            rows.append(row)
            print(json.dumps(row), flush=True)
        if self.a.perf:
            rep = subprocess.run(["perf", "report", "-i", self.a.perf + ".data", "--no-children",
                                  "--sort", "dso,sym", "--stdio", "-g", "none",
                                  "--percent-limit", "0.7"], capture_output=True, text=True)
            with open(self.a.perf, "w") as f:
                f.write(rep.stdout)
            # Per thread (the sofia thread vs the Asio workers): FILE.threads.
            thr = subprocess.run(["perf", "report", "-i", self.a.perf + ".data", "--no-children",
                                  "--sort", "pid,dso,sym", "--stdio", "-g", "none",
                                  "--percent-limit", "0.5"], capture_output=True, text=True)
            with open(self.a.perf + ".threads", "w") as f:
                f.write(thr.stdout)
            print("\n".join(l for l in rep.stdout.splitlines() if l and not l.startswith("#"))[:5000])
        return rows


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "responder":
        return responder_main(int(sys.argv[2]), sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--only", default="memory,restart,fanout")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--count", type=int, default=100000, help="subscriptions for memory/restart")
    ap.add_argument("--fanout", type=int, default=10000, help="SIP watchers of juliet")
    ap.add_argument("--changes", type=int, default=5, help="status changes after the login")
    ap.add_argument("--settle", type=float, default=4.0, help="seconds after ready before RSS")
    ap.add_argument("--coalesce-ms", type=int, default=0,
                    help="coalesce_window_ms of the plugin (default 0: every change is sent)")
    ap.add_argument("--window", type=int, metavar="N",
                    help="max_notifies_in_flight of the plugin (default: the plugin's default)")
    ap.add_argument("--no-ceiling", action="store_true",
                    help="fan-out: skip the sipp -> responder ceiling runs")
    ap.add_argument("--perf", metavar="FILE", help="perf record stoxgw during the fan-out")
    ap.add_argument("--transport", choices=("udp", "tcp"), default="udp",
                    help="fan-out: transport of the watchers' remote targets (default udp)")
    ap.add_argument("--json", metavar="FILE", help="write every row as JSON lines")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    a = ap.parse_args()
    print(f"# {os.cpu_count()} cores, load average {loadavg()}", flush=True)
    b = Bench(a.build, a)
    rows = []
    try:
        for what in a.only.split(","):
            if what == "memory":
                rows += b.memory(a.count)
            elif what == "restart":
                rows += b.restart(a.count)
            elif what == "fanout":
                rows += b.fanout(a.fanout, a.changes)
            else:
                raise SystemExit(f"unknown measurement {what}")
    finally:
        b.close()
    if a.json:
        with open(a.json, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()

"""SIP peers for tests: sipp scenarios (peers.md §4.3) and a tiny raw UDP/TCP client."""

import os
import random
import re
import select
import socket
import subprocess
import threading
import time

from . import ports, util

# RFC 3261 §7.3.3 compact forms.
_COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via", "l": "content-length",
            "c": "content-type", "m": "contact", "k": "supported", "s": "subject",
            "e": "content-encoding", "o": "event", "u": "allow-events", "r": "refer-to",
            "b": "referred-by", "x": "session-expires"}

T1 = 0.5
T2 = 4.0


def _canon(name):
    name = name.strip().lower()
    return _COMPACT.get(name, name)


class SipMessage:
    """A parsed SIP request or response (RFC 3261 §7)."""

    def __init__(self, start_line, headers, body):
        self.start_line = start_line
        self.headers = headers  # [(name as sent, value)]
        self.body = body  # bytes
        self.received_at = time.monotonic()

    @property
    def is_response(self):
        return self.start_line.startswith("SIP/2.0 ")

    @property
    def status(self):
        return int(self.start_line.split(" ", 2)[1]) if self.is_response else None

    @property
    def reason(self):
        parts = self.start_line.split(" ", 2)
        return parts[2] if self.is_response and len(parts) > 2 else ""

    @property
    def method(self):
        return None if self.is_response else self.start_line.split(" ", 1)[0]

    @property
    def request_uri(self):
        return None if self.is_response else self.start_line.split(" ")[1]

    def header(self, name, default=None):
        values = self.header_values(name)
        return values[0] if values else default

    def header_values(self, name):
        want = _canon(name)
        return [v for n, v in self.headers if _canon(n) == want]

    def has_header(self, name):
        return bool(self.header_values(name))

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def branch(self):
        via = self.header("Via", "")
        m = re.search(r";\s*branch=([^;,\s]+)", via)
        return m.group(1) if m else None

    def __repr__(self):
        return "<%s%s>" % (self.start_line, "" if not self.body else " +%d bytes" %
                           len(self.body))


def parse_message(data):
    """Parses one complete SIP message (bytes). Raises ValueError on garbage."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    lines = head.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        raise ValueError("empty SIP message")
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # RFC 3261 §7.3.1 folding
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError("bad header line %r" % line)
        headers.append((name.strip(), value.strip()))
    return SipMessage(lines[0].strip(), headers, body)


class StreamFramer:
    """Splits a TCP byte stream into SIP messages by Content-Length (RFC 3261 §18.3)."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            self.buf = self.buf.lstrip(b"\r\n")  # keep-alive CRLFs (RFC 5626 §3.5.1)
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return out
            head = self.buf[:end].decode("utf-8", errors="replace")
            m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)\s*$", head)
            length = int(m.group(1)) if m else 0
            total = end + 4 + length
            if len(self.buf) < total:
                return out
            out.append(parse_message(self.buf[:total]))
            self.buf = self.buf[total:]


def random_token(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


class Transaction:
    """A client transaction of SipClient (RFC 3261 §17.1.2, non-INVITE)."""

    def __init__(self, branch, data, call_id):
        self.branch = branch
        self.data = data
        self.call_id = call_id
        self.sent_at = time.monotonic()
        self.provisionals = []
        self.final = None
        self.timed_out = False
        self._done = threading.Event()
        self._next_retransmit = self.sent_at + T1
        self._interval = T1

    def wait(self, timeout=35.0):
        """The final response, or None (timeout of the wait, or Timer F fired)."""
        self._done.wait(timeout)
        return self.final

    @property
    def done(self):
        return self._done.is_set()

    @property
    def status(self):
        return self.final.status if self.final else None


class SipClient:
    """A small UA client over UDP or TCP on 127.0.0.1 talking to one server port.

    UDP requests are retransmitted per Timer E until a final response or Timer F (32 s);
    TCP requests go over one connection. Responses are matched by Via branch; anything
    else (answers to raw garbage, requests) goes to ``unmatched``.
    """

    def __init__(self, server_port, transport="udp", host="127.0.0.1"):
        self.server = (host, server_port)
        self.transport = transport
        self.unmatched = []
        self.closed = threading.Event()  # TCP: the server closed the connection
        self._cond = threading.Condition()
        self._tx = {}
        self._stop = False
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((host, 0))
        elif transport == "tcp":
            self.sock = socket.create_connection(self.server, timeout=5)
            self.sock.settimeout(None)
            self._framer = StreamFramer()
        else:
            raise ValueError("transport must be udp or tcp")
        self.local_port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._loop, daemon=True, name="sip-client")
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self._stop = True
        try:
            if self.transport == "tcp":
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join(3)
        self.sock.close()

    # -- building ----------------------------------------------------------------------------
    def build(self, method, request_uri, from_uri="sip:romeo@example.net", to_uri=None,
              headers=(), body=b"", call_id=None, cseq=1, branch=None, from_tag=None):
        """The bytes of a request; returns (data, branch, call_id)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        branch = branch or "z9hG4bK" + random_token(16)
        call_id = call_id or random_token(20) + "@stoxtest"
        lines = [
            "%s %s SIP/2.0" % (method, request_uri),
            "Via: SIP/2.0/%s 127.0.0.1:%d;branch=%s;rport" % (self.transport.upper(),
                                                              self.local_port, branch),
            "Max-Forwards: 70",
            "From: <%s>;tag=%s" % (from_uri, from_tag or random_token(8)),
            "To: <%s>" % (to_uri or request_uri),
            "Call-ID: %s" % call_id,
            "CSeq: %d %s" % (cseq, method),
        ]
        lines += ["%s: %s" % (n, v) for n, v in headers]
        lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body, branch, call_id

    # -- sending -----------------------------------------------------------------------------
    def send(self, method, request_uri, **kw):
        """Starts a client transaction; returns it at once (``wait()`` for the answer)."""
        data, branch, call_id = self.build(method, request_uri, **kw)
        tx = Transaction(branch, data, call_id)
        with self._cond:
            self._tx[branch] = tx
        self._write(data)
        return tx

    def request(self, method, request_uri, timeout=35.0, **kw):
        """Sends and waits; returns the final response (None if there was none)."""
        return self.send(method, request_uri, **kw).wait(timeout)

    def send_raw(self, data):
        """Writes bytes as they are (malformed requests, garbage)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._write(data)

    def wait_unmatched(self, timeout=5.0):
        """Takes the next message that matched no transaction of ours (or None)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.unmatched:
                left = deadline - time.monotonic()
                if left <= 0 or (self.transport == "tcp" and self.closed.is_set()):
                    return None
                self._cond.wait(min(left, 0.1))
            return self.unmatched.pop(0)

    # -- internals ---------------------------------------------------------------------------
    def _write(self, data):
        if self.transport == "udp":
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def _deliver(self, msg):
        with self._cond:
            tx = self._tx.get(msg.branch()) if msg.is_response else None
            if tx is None or tx.done:
                self.unmatched.append(msg)
            elif msg.status < 200:
                tx.provisionals.append(msg)
                tx._interval = T2  # RFC 3261 §17.1.2.2: Proceeding retransmits at T2
            else:
                tx.final = msg
                del self._tx[tx.branch]
                tx._done.set()
            self._cond.notify_all()

    def _timers(self):
        now = time.monotonic()
        resend = []
        with self._cond:
            for branch, tx in list(self._tx.items()):
                if now - tx.sent_at >= 64 * T1:  # Timer F
                    tx.timed_out = True
                    del self._tx[branch]
                    tx._done.set()
                elif self.transport == "udp" and now >= tx._next_retransmit:  # Timer E
                    resend.append(tx.data)
                    tx._interval = min(tx._interval * 2, T2)
                    tx._next_retransmit = now + tx._interval
        for data in resend:
            try:
                self._write(data)
            except OSError:
                pass

    def _loop(self):
        while not self._stop:
            try:
                r, _, _ = select.select([self.sock], [], [], 0.05)
            except (OSError, ValueError):
                return
            if r:
                try:
                    data = (self.sock.recvfrom(262144)[0] if self.transport == "udp"
                            else self.sock.recv(262144))
                except OSError:
                    data = b""
                if self.transport == "tcp" and not data:
                    self.closed.set()
                    with self._cond:
                        self._cond.notify_all()
                    return
                try:
                    msgs = ([parse_message(data)] if self.transport == "udp"
                            else self._framer.feed(data))
                except ValueError:
                    msgs = []
                for m in msgs:
                    self._deliver(m)
            self._timers()


def sip_options_probe(port, timeout=10):
    """Runs sofia's ``sip-options sip:127.0.0.1:PORT`` (peers.md §3b health probe).
    Returns (exit code, output)."""
    r = subprocess.run(["sip-options", "sip:127.0.0.1:%d" % port], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace")


# ---------------------------------------------------------------------------------------------
# sipp

def render_scenario(name, values, out_path):
    """Copies scenarios/<name> to `out_path`, replacing @KEY@ by values[KEY]. sipp's own
    -key is not substituted inside regexps (peers.md G17), hence plain text templating."""
    with open(os.path.join(util.scenario_dir(), name), encoding="utf-8") as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@%s@" % key, str(value))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError("scenario %s: no value for %s" % (name, ", ".join(sorted(set(left)))))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)
    return out_path


class Sipp:
    """One sipp run (Popen with -nostdin, killed by PID on cleanup; peers.md G17).

    ``remote`` is "host:port" for a UAC; a UAS scenario listens on ``port``. sipp matches
    responses to calls by the Call-ID it generates, so scenarios send ``[call_id]``.
    """

    _seq = [0]

    def __init__(self, directory, scenario, values=None, remote=None, port=None,
                 transport="udp", calls=1, rate=None, timeout=15, call_id_prefix=None,
                 extra=()):
        Sipp._seq[0] += 1
        self.name = "sipp%d-%s" % (Sipp._seq[0], os.path.splitext(scenario)[0])
        self.dir = directory
        self.port = port or (ports.free_udp_port() if transport == "udp"
                             else ports.free_tcp_port())
        self.scenario_path = render_scenario(scenario, values or {},
                                             os.path.join(directory, self.name + ".xml"))
        self.messages_path = os.path.join(directory, self.name + "_messages.log")
        self.log_path = os.path.join(directory, self.name + "_logs.log")
        self.errors_path = os.path.join(directory, self.name + "_errors.log")
        self.output_path = os.path.join(directory, self.name + ".out")
        self.argv = ["sipp", "-sf", self.scenario_path, "-i", "127.0.0.1", "-p", str(self.port),
                     "-m", str(calls), "-nostdin", "-timeout", "%ds" % timeout,
                     "-timeout_error", "-trace_msg", "-message_file", self.messages_path,
                     "-trace_logs", "-log_file", self.log_path, "-trace_err",
                     "-error_file", self.errors_path,
                     "-t", "u1" if transport == "udp" else "t1"]
        if rate:
            self.argv += ["-r", str(rate)]
        if call_id_prefix:
            # [call_id] becomes <prefix>-<call number>: tests know each Call-ID in advance.
            self.argv += ["-cid_str", call_id_prefix + "-%u"]
        self.argv += list(extra)
        if remote:
            self.argv.append(remote)
        self._child = None
        self.returncode = None

    def start(self):
        self._child = util.Child(self.argv, self.output_path, cwd=self.dir)
        return self

    def wait(self, timeout=30.0):
        """sipp's exit code (0: every call succeeded), killing it after `timeout` s."""
        code = self._child.wait(timeout)
        if code is None:
            self._child.kill()
            code = self._child.returncode()
        self.returncode = code
        return code

    def wait_listening(self, timeout=5.0):
        """For a UAS: waits until sipp holds its UDP port (a bind attempt then fails)."""
        def busy():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", self.port))
                return False
            except OSError:
                return True
            finally:
                s.close()
        if not util.wait_until(lambda: busy() or not self._child.running(), timeout) or \
                not self._child.running():
            raise RuntimeError("sipp UAS did not start:\n" + self.diagnostics())

    def kill(self):
        if self._child is not None:
            self._child.kill()

    def running(self):
        return self._child is not None and self._child.running()

    def messages(self, direction=None):
        """Messages from the -trace_msg file: [(direction 'sent'|'received', SipMessage)]."""
        text = util.read_text(self.messages_path)
        out = []
        for block in re.split(r"(?m)^-{10,}.*$", text):
            m = re.match(r"\s*\S+ message (sent|received)[^\n]*\n\n?(.*)", block, re.S)
            if not m:
                continue
            raw = m.group(2).strip("\n").replace("\r\n", "\n").replace("\n", "\r\n")
            try:
                msg = parse_message(raw.encode("utf-8"))
            except ValueError:
                continue
            if direction is None or m.group(1) == direction:
                out.append((m.group(1), msg))
        return out

    def received(self):
        return [m for _, m in self.messages("received")]

    def diagnostics(self, lines=40):
        parts = ["--- %s: %s ---" % (self.name, " ".join(self.argv))]
        for label, path in (("output", self.output_path), ("errors", self.errors_path),
                            ("logs", self.log_path), ("messages", self.messages_path)):
            parts.append("--- sipp %s (%s) ---\n%s" % (label, path, util.tail(path, lines)))
        return "\n".join(parts)

"""A small SIP user-agent core (RFC 3261 subset) on 127.0.0.1, over UDP and TCP on one port.

Written for ``msrp_peer`` (the independent chat test peer); usable alone. What it does:

* transport (RFC 3261 §18): one UDP socket and one TCP listener bound to the same port
  (port 0 picks one), TCP framing by Content-Length, connection reuse per remote address;
* client transactions (§17.1): Via branch matching, UDP retransmission (Timer A/E), timeout
  (Timer B/F), the ACK for a non-2xx final response to INVITE (§17.1.1.3);
* server transactions (§17.2): retransmitted requests get the last response again, final
  INVITE responses are retransmitted until the ACK (2xx: §13.3.1.4 on every transport,
  non-2xx: Timer G on UDP), CANCEL (§9.2) is matched to its INVITE;
* dialogs (§12) as plain data (:class:`Dialog`) with in-dialog request building.

Requests arriving are handed to ``on_request(msg)`` on the UA thread (it must not block);
``msg.source`` says where it came from, and :meth:`SipUA.respond` answers it.
"""

import random
import re
import select
import socket
import threading
import time

from .sip import StreamFramer, parse_message, random_token

HOST = "127.0.0.1"


# -- small parsing helpers ---------------------------------------------------------------------
def addr_spec(value):
    """The URI of a name-addr or addr-spec header value (RFC 3261 §20.10)."""
    value = value.strip()
    if "<" in value and ">" in value:
        return value[value.index("<") + 1:value.index(">")]
    return value.split(";", 1)[0].strip()


def header_tag(value):
    """The tag parameter of a From/To value (outside the URI), or None."""
    rest = value[value.index(">") + 1:] if ">" in value else value
    m = re.search(r";\s*tag=([^;,\s]+)", rest)
    return m.group(1) if m else None


def uri_target(uri, default_transport="udp"):
    """(host, port, transport) to reach a SIP URI (RFC 3263 reduced to literal host:port)."""
    m = re.match(r"sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?]+)(?::(\d+))?([^?]*)", uri.strip(), re.I)
    if not m:
        raise ValueError("not a SIP URI: %r" % uri)
    host = m.group(1).strip("[]")
    port = int(m.group(2)) if m.group(2) else 5060
    t = re.search(r";\s*transport=([A-Za-z]+)", m.group(3) or "")
    return host, port, (t.group(1).lower() if t else default_transport)


def cseq_of(msg):
    """(number, METHOD) of the CSeq header."""
    num, _, method = msg.header("CSeq", "0 X").strip().partition(" ")
    return int(num), method.strip().upper()


REASONS = {100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK",
           202: "Accepted", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 415: "Unsupported Media Type",
           480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
           486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
           491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented",
           503: "Service Unavailable", 603: "Decline", 606: "Not Acceptable"}


# -- transactions ------------------------------------------------------------------------------
class ClientTransaction:
    """One request we sent (RFC 3261 §17.1). ``wait()`` gives the final response or None."""

    def __init__(self, ua, method, request, data, dest, transport):
        self.ua = ua
        self.method = method
        self.request = request  # the parsed request as sent
        self.data = data
        self.dest = dest
        self.transport = transport
        self.branch = request.branch()
        self.key = (self.branch, method)  # §17.1.3: branch and CSeq method
        self.provisionals = []
        self.final = None
        self.timed_out = False
        self.ack_data = None  # set by the UA core for 2xx, re-sent on 2xx retransmissions
        self._done = threading.Event()
        self._any = threading.Event()
        self._started = time.monotonic()
        self._interval = ua.t1
        self._next = self._started + ua.t1

    @property
    def done(self):
        return self._done.is_set()

    @property
    def status(self):
        return self.final.status if self.final else None

    def wait(self, timeout=10.0):
        self._done.wait(timeout)
        return self.final

    def wait_provisional(self, status=None, timeout=5.0):
        """The first provisional response (with `status` if given), or None."""
        deadline = time.monotonic() + timeout
        while True:
            for p in list(self.provisionals):
                if status is None or p.status == status:
                    return p
            left = deadline - time.monotonic()
            if left <= 0 or self.done:
                return None
            self._any.wait(min(left, 0.05))
            self._any.clear()


class _ServerTransaction:
    def __init__(self, request):
        self.request = request
        self.last = None  # bytes of the last response
        self.final_status = None
        self.acked = threading.Event()
        self.retransmit = False
        self.interval = 0.0
        self.next = 0.0
        self.started = time.monotonic()


class Dialog:
    """Dialog state (RFC 3261 §12) and in-dialog request building (§12.2.1.1)."""

    def __init__(self, call_id, local_uri, local_tag, remote_uri, remote_tag, remote_target,
                 route_set, transport, local_cseq=None, contact=None):
        self.call_id = call_id
        self.local_uri = local_uri
        self.local_tag = local_tag
        self.remote_uri = remote_uri
        self.remote_tag = remote_tag
        self.remote_target = remote_target
        self.route_set = list(route_set)
        self.transport = transport
        self.local_cseq = local_cseq if local_cseq is not None else random.randint(1, 10000)
        self.remote_cseq = None
        self.contact = contact

    def next_cseq(self):
        self.local_cseq += 1
        return self.local_cseq

    def headers(self, method, cseq):
        """From/To/Call-ID/CSeq/Route/Contact of an in-dialog request."""
        h = [("From", "<%s>;tag=%s" % (self.local_uri, self.local_tag)),
             ("To", "<%s>" % self.remote_uri + (";tag=%s" % self.remote_tag
                                                 if self.remote_tag else "")),
             ("Call-ID", self.call_id), ("CSeq", "%d %s" % (cseq, method))]
        h += [("Route", r) for r in self.route_set]
        if self.contact and method not in ("ACK", "BYE", "CANCEL"):
            h.append(("Contact", self.contact))
        return h

    def destination(self):
        """(host, port, transport): the first loose route (§16.12), else the remote target."""
        uri = addr_spec(self.route_set[0]) if self.route_set else self.remote_target
        return uri_target(uri, self.transport)


class _TcpConn:
    def __init__(self, sock, addr):
        self.sock = sock
        self.addr = addr
        self.framer = StreamFramer()
        self.lock = threading.Lock()
        self.closed = False

    def send(self, data):
        with self.lock:
            self.sock.sendall(data)


# -- the UA core -------------------------------------------------------------------------------
class SipUA:
    """Transport plus transaction layer of a SIP UA on 127.0.0.1:port (UDP and TCP)."""

    def __init__(self, on_request, port=0, t1=0.5, trace=None, name="ua"):
        self.on_request = on_request
        self.t1 = t1
        self.t2 = 8 * t1
        self.name = name
        self._trace = trace or (lambda direction, text: None)
        self._lock = threading.RLock()
        self._client = {}  # branch -> ClientTransaction
        self._client_done = {}  # branch -> (tx, expiry): catches retransmitted finals
        self._server = {}  # (branch, method) -> _ServerTransaction
        self._conns = {}  # socket -> _TcpConn
        self._stop = False
        self.udp, self.tcp = self._bind(port)
        self.port = self.udp.getsockname()[1]
        self._thread = threading.Thread(target=self._loop, daemon=True, name="sip-ua-" + name)
        self._thread.start()

    @staticmethod
    def _bind(port):
        # RFC 3261 §18: a UA listening on UDP also listens on TCP on the same port.
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((HOST, port))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((HOST, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                if port:
                    raise
                continue
            tcp.listen(16)
            return udp, tcp
        raise RuntimeError("no port free for both UDP and TCP")

    def close(self):
        self._stop = True
        self._thread.join(3)
        with self._lock:
            pending = list(self._client.values())
            self._client.clear()
            conns = list(self._conns.values())
        for tx in pending:  # nothing will answer now: release the waiters
            tx.timed_out = True
            tx._done.set()
            tx._any.set()
            self._conns.clear()
        for c in conns:
            self._close_conn(c)
        self.udp.close()
        self.tcp.close()

    # -- building --------------------------------------------------------------------------
    def via(self, transport, branch):
        return "SIP/2.0/%s %s:%d;branch=%s;rport" % (transport.upper(), HOST, self.port, branch)

    def build_request(self, method, ruri, headers, body=b"", transport="udp", branch=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        branch = branch or "z9hG4bK" + random_token(16)
        lines = ["%s %s SIP/2.0" % (method, ruri), "Via: " + self.via(transport, branch),
                 "Max-Forwards: 70"]
        lines += ["%s: %s" % (n, v) for n, v in headers]
        lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body

    # -- client side -----------------------------------------------------------------------
    def send_request(self, method, ruri, headers, body=b"", dest=None, transport="udp"):
        """Starts a client transaction towards dest=(host, port); returns it."""
        data = self.build_request(method, ruri, headers, body, transport)
        req = parse_message(data)
        tx = ClientTransaction(self, method, req, data, dest, transport)
        with self._lock:
            self._client[tx.key] = tx
        self.send_raw(data, dest, transport)
        return tx

    def send_ack(self, ruri, headers, dest, transport, branch=None):
        """Sends an ACK outside any transaction (2xx ACK, §13.2.2.4); returns its bytes."""
        data = self.build_request("ACK", ruri, headers, b"", transport, branch)
        self.send_raw(data, dest, transport)
        return data

    def send_raw(self, data, dest, transport="udp"):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._trace("out", "%s %s:%d\n%s" % (transport, dest[0], dest[1],
                                              data.decode("utf-8", "replace")))
        if transport == "udp":
            self.udp.sendto(data, dest)
        else:
            self._connection(dest).send(data)

    def _connection(self, dest):
        with self._lock:
            for c in self._conns.values():
                if c.addr == tuple(dest) and not c.closed:
                    return c
        s = socket.create_connection(dest, timeout=5)
        s.settimeout(None)
        c = _TcpConn(s, tuple(dest))
        with self._lock:
            self._conns[s] = c
        return c

    # -- server side -----------------------------------------------------------------------
    def respond(self, req, status, reason=None, headers=(), body=b"", to_tag=None):
        """Answers a request received by this UA (RFC 3261 §8.2.6)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        vias = req.header_values("Via")
        transport, addr, conn = req.source
        if vias and transport == "udp":  # RFC 3581 §4 / RFC 3261 §18.2.1
            top = vias[0]
            if ";rport" in top and not re.search(r";rport=", top):
                top = top.replace(";rport", ";rport=%d" % addr[1], 1)
            vias = [top + ";received=%s" % addr[0]] + vias[1:]
        to = req.header("To", "")
        if to_tag and header_tag(to) is None:
            to += ";tag=%s" % to_tag
        lines = ["SIP/2.0 %d %s" % (status, reason or REASONS.get(status, "Unknown"))]
        lines += ["Via: %s" % v for v in vias]
        lines += ["From: %s" % req.header("From", ""), "To: %s" % to,
                  "Call-ID: %s" % req.header("Call-ID", ""), "CSeq: %s" % req.header("CSeq", "")]
        if req.method == "INVITE" and 100 < status < 300:  # §12.1.1
            lines += ["Record-Route: %s" % r for r in req.header_values("Record-Route")]
        lines += ["%s: %s" % (n, v) for n, v in headers]
        lines.append("Content-Length: %d" % len(body))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
        with self._lock:
            st = self._server.get(self._server_key(req))
            if st is not None:
                st.last = data
                if status >= 200 and req.method == "INVITE":
                    st.final_status = status
                    if status < 300 or transport == "udp":
                        st.retransmit = True
                        st.interval = self.t1
                        st.next = time.monotonic() + self.t1
                        st.started = time.monotonic()
        self._send_response(data, req.source)
        return data

    def _send_response(self, data, source):
        transport, addr, conn = source
        self._trace("out", "%s %s:%d\n%s" % (transport, addr[0], addr[1],
                                              data.decode("utf-8", "replace")))
        try:
            if transport == "udp":
                self.udp.sendto(data, addr)
            elif conn is not None and not conn.closed:
                conn.send(data)
        except OSError:
            pass

    @staticmethod
    def _server_key(req):
        method = "INVITE" if req.method == "ACK" else req.method
        return (req.branch(), method)

    # -- receiving -------------------------------------------------------------------------
    def _receive(self, msg, source):
        msg.source = source
        self._trace("in", "%s %s:%d\n%s" % (source[0], source[1][0], source[1][1],
                                             msg.start_line + "\n" + "\n".join(
                                                 "%s: %s" % hv for hv in msg.headers) +
                                             "\n\n" + msg.text))
        if msg.is_response:
            self._on_response(msg)
        else:
            self._on_request(msg)

    def _on_response(self, msg):
        key = (msg.branch(), cseq_of(msg)[1])
        with self._lock:
            tx = self._client.get(key)
            done = self._client_done.get(key)
        if tx is None:
            if done and msg.status >= 200:
                tx = done[0]
                if tx.method == "INVITE" and tx.ack_data is not None:
                    # A retransmitted final response: the ACK again (§13.2.2.4, §17.1.1.2).
                    self.send_raw(tx.ack_data, tx.dest, tx.transport)
            return
        if msg.status < 200:
            tx.provisionals.append(msg)
            tx._interval = self.t2  # Proceeding: Timer E at T2 (§17.1.2.2); INVITE stops A
            tx._next = time.monotonic() + (3600 if tx.method == "INVITE" else self.t2)
            tx._any.set()
            return
        if tx.method == "INVITE" and msg.status >= 300:
            tx.ack_data = self._non2xx_ack(tx, msg)
        tx.final = msg
        with self._lock:
            self._client.pop(tx.key, None)
            self._client_done[tx.key] = (tx, time.monotonic() + 64 * self.t1)
        tx._done.set()
        tx._any.set()

    def _non2xx_ack(self, tx, resp):
        # §17.1.1.3: same branch and Request-URI, To from the response.
        req = tx.request
        headers = [("From", req.header("From")), ("To", resp.header("To")),
                   ("Call-ID", req.header("Call-ID")),
                   ("CSeq", "%d ACK" % cseq_of(req)[0])]
        headers += [("Route", r) for r in req.header_values("Route")]
        return self.send_ack(req.request_uri, headers, tx.dest, tx.transport, tx.branch)

    def _on_request(self, msg):
        key = self._server_key(msg)
        if msg.method == "ACK":
            with self._lock:
                st = self._server.get(key)
                if st is None:  # 2xx ACK: new branch, matched by Call-ID and CSeq (§13.3.1.4)
                    num = cseq_of(msg)[0]
                    for (b, m), cand in self._server.items():
                        r = cand.request
                        if (m == "INVITE" and r.header("Call-ID") == msg.header("Call-ID")
                                and cseq_of(r)[0] == num):
                            st = cand
                            break
                if st is not None:
                    st.retransmit = False
                    st.acked.set()
            self._deliver(msg)
            return
        with self._lock:
            st = self._server.get(key)
            if st is None:
                self._server[key] = _ServerTransaction(msg)
        if st is not None:  # a retransmission (§17.2.1 / §17.2.2)
            if st.last:
                self._send_response(st.last, msg.source)
            return
        if msg.method == "CANCEL":
            with self._lock:
                inv = self._server.get((msg.branch(), "INVITE"))
            if inv is None:
                self.respond(msg, 481)
                return
            self.respond(msg, 200)
            msg.cancelled_invite = inv.request
        self._deliver(msg)

    def _deliver(self, msg):
        try:
            self.on_request(msg)
        except Exception as e:  # a bug in the test peer must not kill the UA thread
            self._trace("error", "on_request raised %r" % e)
            if msg.method != "ACK":
                try:
                    self.respond(msg, 500)
                except OSError:
                    pass

    # -- loop ------------------------------------------------------------------------------
    def _timers(self):
        now = time.monotonic()
        resend = []
        with self._lock:
            for key, tx in list(self._client.items()):
                if now - tx._started >= 64 * self.t1:  # Timer B / F
                    tx.timed_out = True
                    del self._client[key]
                    tx._done.set()
                    tx._any.set()
                elif tx.transport == "udp" and now >= tx._next:  # Timer A / E
                    resend.append((tx.data, tx.dest, "udp", None))
                    tx._interval = (tx._interval * 2 if tx.method == "INVITE"
                                    else min(tx._interval * 2, self.t2))
                    tx._next = now + tx._interval
            for key, (tx, expiry) in list(self._client_done.items()):
                if now >= expiry:
                    del self._client_done[key]
            for key, st in list(self._server.items()):
                if st.retransmit and now >= st.next:
                    if now - st.started >= 64 * self.t1:  # Timer H / §13.3.1.4 give-up
                        st.retransmit = False
                    else:
                        resend.append((st.last, None, None, st.request.source))
                        st.interval = min(st.interval * 2, self.t2)
                        st.next = now + st.interval
                if now - st.request.received_at > 64 * self.t1 + 5 and not st.retransmit:
                    del self._server[key]
        for data, dest, transport, source in resend:
            try:
                if source is not None:
                    self._send_response(data, source)
                else:
                    self.send_raw(data, dest, transport)
            except OSError:
                pass

    def _close_conn(self, c):
        c.closed = True
        try:
            c.sock.close()
        except OSError:
            pass

    def _loop(self):
        while not self._stop:
            with self._lock:
                socks = [self.udp, self.tcp] + list(self._conns)
            try:
                readable, _, _ = select.select(socks, [], [], 0.02)
            except (OSError, ValueError):
                with self._lock:  # a connection was closed under us: drop it
                    for s, c in list(self._conns.items()):
                        if s.fileno() < 0:
                            del self._conns[s]
                continue
            for s in readable:
                if s is self.udp:
                    try:
                        data, addr = self.udp.recvfrom(262144)
                    except OSError:
                        continue
                    try:
                        msg = parse_message(data)
                    except ValueError:
                        self._trace("error", "unparsable UDP datagram from %s:%d" % addr)
                        continue
                    self._receive(msg, ("udp", addr, None))
                elif s is self.tcp:
                    try:
                        cs, addr = self.tcp.accept()
                    except OSError:
                        continue
                    with self._lock:
                        self._conns[cs] = _TcpConn(cs, addr)
                else:
                    c = self._conns.get(s)
                    if c is None:
                        continue
                    try:
                        data = s.recv(262144)
                    except OSError:
                        data = b""
                    if not data:
                        with self._lock:
                            self._conns.pop(s, None)
                        self._close_conn(c)
                        continue
                    try:
                        msgs = c.framer.feed(data)
                    except ValueError:
                        self._trace("error", "unparsable TCP data from %s:%d" % c.addr)
                        msgs = []
                    for m in msgs:
                        self._receive(m, ("tcp", c.addr, c))
            self._timers()

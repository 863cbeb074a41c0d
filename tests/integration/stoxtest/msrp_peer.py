#!/usr/bin/python3
"""An independent SIP + MSRP chat peer for the integration tests (RFC 7573 on the SIP side).

Written from RFC 3261 (SIP UA subset, in ``sip_ua``), RFC 4566/4145/6135 (SDP, a=setup),
RFC 4975 (MSRP), RFC 3994 (isComposing) and RFC 3862 (CPIM); it shares no code with the
gateway's C++ MSRP stack, so that each catches the other's bugs. Stdlib only, threads.

API in short
------------
``MsrpPeer(user="bob", transport="udp", answer=200, setup_answer="passive", ...)``
    A SIP UA on 127.0.0.1 (UDP and TCP on ``peer.sip_port``) with an MSRP listener on
    ``peer.msrp_port``. ``close()`` stops everything (use it with ``addCleanup``).
    Incoming INVITE: 180 (``ring``), then ``answer`` (200 with an SDP answer; an int >= 300
    rejects with that status; None leaves it ringing for ``call.answer()``/``call.reject()``).
    Our a=setup in answers: ``setup_answer`` ("passive"/"active") when offered actpass
    (RFC 6135 §4.2.2); an offer without a=setup makes us passive (RFC 4975 §5.4).
``peer.invite(to_uri, port, transport=None, setup="actpass") -> Call``
    UAC: INVITE with our SDP offer (``setup=None`` leaves a=setup out); on 2xx the ACK goes
    out and MSRP is set up per the answer's a=setup (active side connects and sends a
    bodiless SEND at once, RFC 4975 §5.4 / RFC 6135 §4.2.2).
``peer.wait_call(timeout)``, ``peer.wait_message(timeout, pred)``, ``peer.wait_request(...)``
    Observability: ``peer.requests`` (every SIP request received), ``peer.calls``,
    ``peer.msrp_errors`` (framing errors seen), ``peer.trace`` (every message in/out).
``Call``: ``wait_established``, ``wait_final``, ``wait_msrp``, ``wait_terminated``;
    ``send_message(body, content_type, chunk_size, success_report, failure_report)`` returns
    an :class:`OutgoingMessage` (``wait_responses``, ``wait_report``); ``send_iscomposing``;
    ``send_report(received, status)``; ``send_raw(bytes)`` (malformed frames, see
    ``MALFORMED``); ``drop(rst=True)``; ``bye()``, ``reinvite()``, ``update()``, ``cancel()``;
    inboxes ``messages`` (:class:`ReceivedMessage`), ``reports``, ``bodiless``, ``aborted``,
    ``rejected`` (chunks we answered with an error), ``sip_requests``;
    knobs ``msrp_status`` (int for SENDs with a body, or callable(frame) -> int that also
    sees bodiless SENDs: e.g. 413/415/481 to test the gateway's error mapping) and
    ``auto_report`` (success REPORTs when Success-Report: yes, RFC 4975 §7.1.3).
    ``peer.unmatched_responses``: MSRP responses to frames sent with ``send_raw``.

Relay client (RFC 4976): ``MsrpPeer(..., relay=R)`` with R an msrp URI or an object with
``uri`` and ``credentials`` ((user, password) or None; e.g. ``kamailio_msrp.KamailioMsrpRelay``),
``relay_credentials`` to override them. Each call then opens its own connection to the relay
and sends AUTH before its SDP is built (digest if challenged with 401, RFC 4976 §5.1/§9.1;
a relay that answers 200 at once is taken as is), puts the reversed Use-Path before its own
URI in a=path, sends every request over that connection with To-Path = Use-Path + the remote
a=path, and the relay's connection is the call's MSRP connection in both a=setup roles
(active: our first bodiless SEND goes through the relay; passive: the first request that
arrives through it binds the session). ``call.use_path``, ``call.auth_responses`` (the AUTH
responses, in order). Without a relay nothing changes.

Known limits: our path always carries the real listener port, also when we are active
(RFC 6135 §4.2.2 suggests 9 there); one MSRP connection per session that we open; chunks are
written whole (never interrupted mid-chunk); SIP targets are literal host:port (no DNS, no
authentication, no PRACK/100rel, no forking); with a relay, a lost relay connection ends the
session's MSRP (no new AUTH), and Authentication-Info is not checked (Kamailio sends none).
``cpim_wrap``/``cpim_unwrap`` (RFC 3862), ``iscomposing``/``parse_iscomposing`` (RFC 3994),
``build_sdp``/``Sdp`` (RFC 4566 + RFC 4975 §8), ``MsrpUri``, ``MsrpParser``.

Example::

    gw_side = MsrpPeer(user="bob", setup_answer="active")
    self.addCleanup(gw_side.close)
    ...  # the gateway INVITEs sip:bob@127.0.0.1:<gw_side.sip_port>
    call = gw_side.wait_call(timeout=5)
    self.assertTrue(call.wait_msrp(timeout=5))
    msg = call.wait_message(timeout=5)
    self.assertEqual(msg.text, "Art thou not Romeo, and a Montague?")
    out = call.send_message("x" * 100000, chunk_size=2048, success_report=True)
    self.assertEqual(set(out.wait_responses(timeout=5)), {200})
    call.send_iscomposing("active", refresh=60)
    call.bye()

CLI: ``cd tests/integration && /usr/bin/python3 -m stoxtest.msrp_peer --help`` (an answering
or calling peer that prints what it receives; the answering side echoes text back).
"""

import argparse
import hashlib
import os
import random
import re
import socket
import string
import struct
import sys
import threading
import time
import xml.etree.ElementTree as ET

if __package__ in (None, ""):  # run as a script: make "stoxtest" importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "stoxtest"  # noqa: A001

from .sip_ua import Dialog, SipUA, addr_spec, cseq_of, header_tag, uri_target  # noqa: E402
from .sip import random_token  # noqa: E402

HOST = "127.0.0.1"
ISCOMPOSING_TYPE = "application/im-iscomposing+xml"
ISCOMPOSING_NS = "urn:ietf:params:xml:ns:im-iscomposing"
DEFAULT_ACCEPT_TYPES = ("text/plain", "message/cpim", ISCOMPOSING_TYPE)
DEFAULT_WRAPPED_TYPES = ("text/plain", ISCOMPOSING_TYPE)
MSRP_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
                408: "Request Timeout", 413: "Message Too Large",
                415: "Unsupported Media Type", 423: "Out Of Bounds",
                481: "Session Does Not Exist", 501: "Unknown Method",
                506: "Session Already Bound"}


def _ident(n=16):
    # RFC 4975 §7.1: transaction ids and session ids need >= 64 bits of randomness; 16
    # alphanumerics from SystemRandom carry ~95.
    rng = random.SystemRandom()
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


class _Inbox:
    """A list with a condition: ``wait`` takes (removes) the first matching item."""

    def __init__(self):
        self._items = []
        self.history = []  # every item ever put, never consumed
        self._cond = threading.Condition()

    def put(self, item):
        with self._cond:
            self._items.append(item)
            self.history.append(item)
            self._cond.notify_all()

    def wait(self, timeout=5.0, pred=None):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, item in enumerate(self._items):
                    if pred is None or pred(item):
                        return self._items.pop(i)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def __len__(self):
        with self._cond:
            return len(self._items)

    def __iter__(self):
        with self._cond:
            return iter(list(self.history))


# =============================================================================================
# CPIM (RFC 3862) and isComposing (RFC 3994)
# =============================================================================================
class CpimMessage:
    def __init__(self, headers, mime_headers, body):
        self.headers = headers  # [(name, value)] of the CPIM message headers
        self.mime_headers = mime_headers  # [(name, value)] of the encapsulated MIME part
        self.body = body

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    @property
    def content_type(self):
        for n, v in self.mime_headers:
            if n.lower() == "content-type":
                return v
        return None

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")


def _angle(uri):
    return uri if "<" in uri else "<%s>" % uri


def cpim_wrap(body, content_type="text/plain;charset=UTF-8",
              from_uri="im:anonymous@anonymous.invalid", to_uri="im:anonymous@anonymous.invalid",
              datetime=None, headers=(), mime_headers=()):
    """A message/cpim body (RFC 3862 §3): CPIM headers, blank line, MIME headers, blank line,
    content. ``datetime`` True adds the current time (RFC 3862 §5.7)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = ["From: %s" % _angle(from_uri), "To: %s" % _angle(to_uri)]
    if datetime is True:
        datetime = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if datetime:
        lines.append("DateTime: %s" % datetime)
    lines += ["%s: %s" % hv for hv in headers]
    mime = ["Content-Type: %s" % content_type] + ["%s: %s" % hv for hv in mime_headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + "\r\n".join(mime) + "\r\n\r\n").encode(
        "utf-8") + body


def _split_block(data):
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = data.find(sep)
        if i >= 0:
            return data[:i], data[i + len(sep):]
    return data, b""


def _header_lines(block):
    out = []
    for line in block.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError("bad CPIM header line %r" % line)
        out.append((name.strip(), value.strip()))
    return out


def cpim_unwrap(data):
    """Parses a message/cpim body into a :class:`CpimMessage`. Lenient like the spec's
    AMB-27: a Content-Type in the first block is taken as the encapsulated one."""
    first, rest = _split_block(data)
    headers = _header_lines(first)
    if any(n.lower() == "content-type" for n, _ in headers):
        mime = [(n, v) for n, v in headers if n.lower().startswith("content-")]
        headers = [(n, v) for n, v in headers if not n.lower().startswith("content-")]
        return CpimMessage(headers, mime, rest)
    second, body = _split_block(rest)
    return CpimMessage(headers, _header_lines(second), body)


def iscomposing(state="active", refresh=None, contenttype=None, lastactive=None):
    """An RFC 3994 §4 status message (bytes)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<isComposing xmlns="%s">' % ISCOMPOSING_NS, "<state>%s</state>" % state]
    if lastactive:
        parts.append("<lastactive>%s</lastactive>" % lastactive)
    if contenttype:
        parts.append("<contenttype>%s</contenttype>" % contenttype)
    if refresh is not None:
        parts.append("<refresh>%d</refresh>" % refresh)
    parts.append("</isComposing>")
    return "\n".join(parts).encode("utf-8")


def parse_iscomposing(data):
    """{'state', 'refresh', 'contenttype', 'lastactive'} of an RFC 3994 document. Unknown
    states read as 'idle' (RFC 3994 §4: receivers treat unknown tokens as idle)."""
    root = ET.fromstring(data)
    if root.tag != "{%s}isComposing" % ISCOMPOSING_NS:
        raise ValueError("not an isComposing document: %s" % root.tag)

    def text(name):
        el = root.find("{%s}%s" % (ISCOMPOSING_NS, name))
        return el.text.strip() if el is not None and el.text else None

    state = text("state")
    refresh = text("refresh")
    return {"state": state if state in ("active", "idle") else "idle",
            "raw_state": state, "refresh": int(refresh) if refresh else None,
            "contenttype": text("contenttype"), "lastactive": text("lastactive")}


# =============================================================================================
# SDP (RFC 4566; RFC 4975 §8; RFC 4145 / RFC 6135 a=setup)
# =============================================================================================
def build_sdp(path, accept_types=DEFAULT_ACCEPT_TYPES, accept_wrapped_types=DEFAULT_WRAPPED_TYPES,
              setup="actpass", max_size=None, sess_id=None, version=1, direction=None,
              host=HOST, port=None, proto="TCP/MSRP"):
    """Our session description: m/c carry the path's port and host (RFC 4975 §8.1). With a
    relay the path is several URIs; m/c then name the first one, where the peer connects."""
    uri = MsrpUri.parse(path.split()[0])
    lines = ["v=0", "o=- %s %d IN IP4 %s" % (sess_id or random.randint(1, 2 ** 31), version,
                                             host),
             "s=-", "c=IN IP4 %s" % uri.host, "t=0 0",
             "m=message %d %s *" % (uri.port if port is None else port, proto),
             "a=accept-types:%s" % " ".join(accept_types)]
    if accept_wrapped_types:
        lines.append("a=accept-wrapped-types:%s" % " ".join(accept_wrapped_types))
    lines.append("a=path:%s" % path)
    if max_size is not None:
        lines.append("a=max-size:%d" % max_size)
    if setup:
        lines.append("a=setup:%s" % setup)
    if direction:
        lines.append("a=%s" % direction)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


class Sdp:
    """The parts of an SDP body a chat peer needs: the first m=message section."""

    def __init__(self, text):
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        self.text = text
        self.session = {}  # session-level type -> [values]
        self.media = None  # (media, port, proto, fmt)
        self.attrs = []  # attributes of the message section (or session level)
        self.connection = None
        in_msg = False
        seen_media = False
        for line in text.replace("\r\n", "\n").split("\n"):
            line = line.strip()
            if len(line) < 2 or line[1] != "=":
                continue
            t, v = line[0], line[2:]
            if t == "m":
                seen_media = True
                parts = v.split()
                in_msg = self.media is None and parts and parts[0] == "message"
                if in_msg and len(parts) >= 4:
                    self.media = (parts[0], int(parts[1]), parts[2], " ".join(parts[3:]))
                continue
            if not seen_media:
                self.session.setdefault(t, []).append(v)
                if t == "c":
                    self.connection = v
                if t == "a":
                    self.attrs.append(v)
            elif in_msg:
                if t == "c":
                    self.connection = v
                if t == "a":
                    self.attrs.append(v)

    def attr(self, name):
        """Values of a=name:... (last one wins for single-valued use); [] if absent."""
        out = []
        for a in self.attrs:
            n, _, v = a.partition(":")
            if n.strip().lower() == name:
                out.append(v.strip())
        return out

    @property
    def origin(self):
        return (self.session.get("o") or [None])[0]

    @property
    def path(self):
        vals = self.attr("path")
        return " ".join(vals).split() if vals else []

    @property
    def accept_types(self):
        vals = self.attr("accept-types")
        return " ".join(vals).split() if vals else []

    @property
    def accept_wrapped_types(self):
        vals = self.attr("accept-wrapped-types")
        return " ".join(vals).split() if vals else []

    @property
    def setup(self):
        """a=setup value, None if absent; holdconn counts as absent (RFC 6135 §4.2.1)."""
        vals = self.attr("setup")
        v = vals[-1].lower() if vals else None
        return None if v == "holdconn" else v

    @property
    def max_size(self):
        vals = self.attr("max-size")
        return int(vals[-1]) if vals else None

    def valid_msrp(self):
        """'' if this is a usable MSRP offer/answer (RFC 4975 §8), else why not."""
        if not self.media:
            return "no m=message line"
        if self.media[1] == 0:
            return "m=message port 0"
        if self.media[2].upper() not in ("TCP/MSRP", "TCP/TLS/MSRP"):
            return "proto %s" % self.media[2]
        if not self.path:
            return "no a=path"
        try:
            MsrpUri.parse(self.path[-1])
        except ValueError as e:
            return str(e)
        if not self.accept_types:
            return "no a=accept-types"
        return ""


def type_accepted(content_type, accepted):
    """RFC 4975 §8.6: `content_type` matches one of `accepted` ('*' and 'type/*' too)."""
    t = content_type.split(";", 1)[0].strip().lower()
    for a in accepted:
        a = a.lower()
        if a == "*" or a == t or (a.endswith("/*") and t.startswith(a[:-1])):
            return True
    return False


# =============================================================================================
# HTTP Digest for MSRP AUTH (RFC 2617 with the RFC 4976 §9.1 restrictions)
# =============================================================================================
def parse_digest_challenge(value):
    """The parameters of a 'Digest ...' WWW-Authenticate value (lower-case keys), or None."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params = {}
    for m in re.finditer(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))',
                         rest):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return params if "nonce" in params and "realm" in params else None


def digest_authorization(challenge, user, password, method, uri, cnonce=None, nc=1):
    """An Authorization value answering `challenge`. §9.1: qop=auth is required, MD5 only
    (no MD5-sess, no auth-int), cnonce and nc always, uri quoted."""
    algorithm = challenge.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise ConnectionError("relay asks for digest algorithm %s (RFC 4976 §9.1: MD5)" %
                              algorithm)
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    if "auth" not in qops:
        raise ConnectionError("relay's challenge lacks qop=auth (RFC 4976 §9.1): %r" % qops)

    def md5(text):
        return hashlib.md5(text.encode("utf-8")).hexdigest()

    cnonce = cnonce or _ident(16)
    ncs = "%08x" % nc
    ha1 = md5("%s:%s:%s" % (user, challenge["realm"], password))
    ha2 = md5("%s:%s" % (method, uri))
    response = md5("%s:%s:%s:%s:auth:%s" % (ha1, challenge["nonce"], ncs, cnonce, ha2))
    parts = ['username="%s"' % user, 'realm="%s"' % challenge["realm"],
             'nonce="%s"' % challenge["nonce"], 'uri="%s"' % uri, "qop=auth", "nc=%s" % ncs,
             'cnonce="%s"' % cnonce, 'response="%s"' % response, "algorithm=MD5"]
    if "opaque" in challenge:
        parts.append('opaque="%s"' % challenge["opaque"])
    return "Digest " + ", ".join(parts)


# =============================================================================================
# MSRP (RFC 4975)
# =============================================================================================
class MsrpUri:
    """An msrp/msrps URI (RFC 4975 §6) and its §6.1 comparison key."""

    _RE = re.compile(r"^(msrps?)://(?:([^@/;]*)@)?(\[[^\]]+\]|[^:/;]+)(?::(\d+))?"
                     r"(?:/([A-Za-z0-9\-._~+=/%]+))?;([A-Za-z0-9]+)((?:;[^;]*)*)$", re.I)

    def __init__(self, scheme, host, port, session_id, transport, text):
        self.scheme = scheme
        self.host = host
        self.port = port
        self.session_id = session_id
        self.transport = transport
        self.text = text

    @classmethod
    def parse(cls, text):
        m = cls._RE.match(text.strip())
        if not m:
            raise ValueError("not an MSRP URI: %r" % text)
        return cls(m.group(1).lower(), m.group(3).strip("[]"),
                   int(m.group(4)) if m.group(4) else None, m.group(5), m.group(6), text.strip())

    def key(self):
        # §6.1: scheme/host/transport case-insensitive, port exact, session-id case-sensitive.
        return (self.scheme, self.host.lower(), self.port, self.session_id,
                self.transport.lower())

    def __str__(self):
        return self.text


class MsrpFrame:
    """One MSRP request or response (RFC 4975 §7)."""

    def __init__(self, tid, method=None, status=None, comment="", headers=None, body=None,
                 flag="$"):
        self.tid = tid
        self.method = method
        self.status = status
        self.comment = comment
        self.headers = headers or []  # [(name, value)] in wire order
        self.body = body  # bytes, or None for a bodiless frame (no Content-Type)
        self.flag = flag
        self.received_at = time.monotonic()

    @property
    def is_request(self):
        return self.method is not None

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    @property
    def to_path(self):
        return (self.header("To-Path") or "").split()

    @property
    def from_path(self):
        return (self.header("From-Path") or "").split()

    @property
    def content_type(self):
        return self.header("Content-Type")

    @property
    def message_id(self):
        return self.header("Message-ID")

    def byte_range(self):
        """(start, end or None for '*', total or None for '*'), default (1, None, None)."""
        v = self.header("Byte-Range")
        if v is None:
            return 1, None, None
        m = re.match(r"^\s*(\d+)-(\d+|\*)/(\d+|\*)\s*$", v)
        if not m:
            raise ValueError("bad Byte-Range %r" % v)
        return (int(m.group(1)), None if m.group(2) == "*" else int(m.group(2)),
                None if m.group(3) == "*" else int(m.group(3)))

    def encode(self):
        first = ("MSRP %s %s" % (self.tid, self.method) if self.is_request else
                 "MSRP %s %03d%s" % (self.tid, self.status,
                                     " " + self.comment if self.comment else ""))
        head = first + "\r\n" + "".join("%s: %s\r\n" % hv for hv in self.headers)
        end = ("-------%s%s\r\n" % (self.tid, self.flag)).encode("ascii")
        if self.body is None:
            return head.encode("utf-8") + end
        return head.encode("utf-8") + b"\r\n" + self.body + b"\r\n" + end

    def __repr__(self):
        what = self.method if self.is_request else str(self.status)
        return "<MSRP %s %s%s>" % (self.tid, what, "" if self.body is None else
                                   " +%d bytes" % len(self.body))


class MsrpParseError(ValueError):
    pass


class MsrpParser:
    """Incremental framing of an MSRP byte stream (RFC 4975 §9), robust to any split."""

    MAX_HEAD = 64 * 1024
    MAX_FRAME = 64 * 1024 * 1024

    def __init__(self):
        self.buf = bytearray()
        self._scan = 0  # where to resume searching for the end-line of the current body

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            frame = self._one()
            if frame is None:
                return out
            out.append(frame)

    def _one(self):
        buf = self.buf
        eol = buf.find(b"\r\n")
        if eol < 0:
            if len(buf) > self.MAX_HEAD:
                raise MsrpParseError("no CRLF in %d bytes" % len(buf))
            return None
        first = bytes(buf[:eol]).decode("utf-8", errors="replace")
        m = re.match(r"^MSRP ([A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}) (?:([A-Z]+)|(\d{3})(?: (.*))?)$",
                     first)
        if not m:
            raise MsrpParseError("bad first line %r" % first[:100])
        tid = m.group(1)
        end_line = ("-------" + tid).encode("ascii")
        headers = []
        pos = eol + 2
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                if len(buf) - pos > self.MAX_HEAD:
                    raise MsrpParseError("header block too long")
                return None
            line = bytes(buf[pos:nl])
            if line.startswith(end_line) and len(line) == len(end_line) + 1 and \
                    line[-1:] in (b"+", b"$", b"#"):
                body, flag, consumed = None, line[-1:].decode(), nl + 2
                break
            if line == b"":
                # Body: data then CRLF end-line (§7.1); search from where we left off.
                start = nl + 2
                pat = re.compile(b"\r\n" + re.escape(end_line) + b"([+$#])\r\n")
                found = pat.search(buf, max(start, self._scan))
                if not found:
                    self._scan = max(start, len(buf) - len(end_line) - 5)
                    if len(buf) > self.MAX_FRAME:
                        raise MsrpParseError("no end-line within %d bytes" % self.MAX_FRAME)
                    return None
                body = bytes(buf[start:found.start()])
                flag = found.group(1).decode()
                consumed = found.end()
                break
            text = line.decode("utf-8", errors="replace")
            name, colon, value = text.partition(":")
            if not colon or not name or " " in name:
                raise MsrpParseError("bad header line %r" % text[:100])
            headers.append((name, value.strip()))
            pos = nl + 2
        del self.buf[:consumed]
        self._scan = 0
        if m.group(2):
            return MsrpFrame(tid, method=m.group(2), headers=headers, body=body, flag=flag)
        return MsrpFrame(tid, status=int(m.group(3)), comment=m.group(4) or "", headers=headers,
                         body=body, flag=flag)


# Canned malformed frames for Call.send_raw (the session's paths are filled in).
MALFORMED = {
    "garbage": "this is not MSRP at all\r\n\r\n",
    "bad_first_line": "MSRP ab SEND\r\nTo-Path: {to}\r\nFrom-Path: {fr}\r\n-------ab$\r\n",
    "bad_byte_range": ("MSRP {tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {fr}\r\n"
                       "Message-ID: {mid}\r\nByte-Range: x-y/z\r\nContent-Type: text/plain\r\n"
                       "\r\nhello\r\n-------{tid}$\r\n"),
    "no_to_path": ("MSRP {tid} SEND\r\nFrom-Path: {fr}\r\nMessage-ID: {mid}\r\n"
                   "Content-Type: text/plain\r\n\r\nhello\r\n-------{tid}$\r\n"),
    "wrong_to_path": ("MSRP {tid} SEND\r\nTo-Path: msrp://127.0.0.1:9/nosuchsession;tcp\r\n"
                      "From-Path: {fr}\r\nMessage-ID: {mid}\r\nContent-Type: text/plain\r\n\r\n"
                      "hello\r\n-------{tid}$\r\n"),
    "unknown_method": ("MSRP {tid} FROB\r\nTo-Path: {to}\r\nFrom-Path: {fr}\r\n"
                       "Message-ID: {mid}\r\n-------{tid}$\r\n"),
    "header_no_colon": ("MSRP {tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {fr}\r\n"
                        "Message-ID {mid}\r\n-------{tid}$\r\n"),
}


class ReceivedMessage:
    """A complete message reassembled from one or more SEND chunks."""

    def __init__(self, call, message_id, content_type, headers, body, chunks, tids,
                 from_path, success_report, failure_report):
        self.call = call
        self.message_id = message_id
        self.content_type = content_type
        self.headers = headers  # headers of the first chunk received
        self.body = body
        self.chunks = chunks
        self.tids = tids
        self.from_path = from_path
        self.success_report = success_report
        self.failure_report = failure_report
        self.received_at = time.monotonic()

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    @property
    def mime_type(self):
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def cpim(self):
        return cpim_unwrap(self.body) if self.mime_type == "message/cpim" else None

    @property
    def iscomposing(self):
        """The RFC 3994 fields if this is an isComposing document (also CPIM-wrapped)."""
        if self.mime_type == ISCOMPOSING_TYPE:
            return parse_iscomposing(self.body)
        c = self.cpim
        if c is not None and (c.content_type or "").split(";")[0].strip().lower() == \
                ISCOMPOSING_TYPE:
            return parse_iscomposing(c.body)
        return None

    def __repr__(self):
        return "<ReceivedMessage %s %s %d bytes in %d chunks>" % (
            self.message_id, self.content_type, len(self.body), self.chunks)


class OutgoingMessage:
    """A message we sent: its Message-ID, tids and the responses/REPORTs it got."""

    def __init__(self, call, message_id, size):
        self.call = call
        self.message_id = message_id
        self.size = size
        self.tids = []
        self.responses = {}  # tid -> MsrpFrame
        self.reports = _Inbox()
        self.stopped_by = None  # the status (413, 481, ...) that made us stop sending
        self._cond = threading.Condition()

    def wait_responses(self, timeout=5.0):
        """The status of each chunk's response, in order, once all arrived (or so far)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.responses) < len(self.tids):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return [self.responses[t].status for t in self.tids if t in self.responses]

    def wait_report(self, timeout=5.0):
        return self.reports.wait(timeout)

    def _response(self, frame):
        with self._cond:
            self.responses[frame.tid] = frame
            if frame.status >= 300 and frame.status in (413, 415, 481, 506):
                self.stopped_by = frame.status  # RFC 4975 §10: stop sending this message
            self._cond.notify_all()


class _MsrpConn:
    """One MSRP TCP connection, with its reader thread."""

    def __init__(self, peer, sock, outgoing):
        self.peer = peer
        self.sock = sock
        self.outgoing = outgoing
        self.parser = MsrpParser()
        self.lock = threading.Lock()
        self.closed = threading.Event()
        try:
            self.addr = sock.getpeername()
        except OSError:
            self.addr = ("?", 0)
        self._thread = threading.Thread(target=self._run, daemon=True, name="msrp-conn")
        self._thread.start()

    def send(self, data):
        if self.closed.is_set():
            raise ConnectionError("MSRP connection is closed")
        with self.lock:
            self.sock.sendall(data)

    def close(self, rst=False):
        if rst:  # SO_LINGER 0: close() sends RST, the abrupt loss of RFC 4975 §5.4
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.sock.shutdown(socket.SHUT_RD)  # wakes our reader; sends nothing
            except OSError:
                pass
        else:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed.set()

    def join(self, timeout=3):
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self):
        try:
            while True:
                try:
                    data = self.sock.recv(262144)
                except OSError:
                    break
                if not data:
                    break
                try:
                    frames = self.parser.feed(data)
                except MsrpParseError as e:
                    self.peer._msrp_error(self, str(e))
                    break
                for f in frames:
                    self.peer._trace("in", "msrp %s:%d\n%s" % (self.addr[0], self.addr[1],
                                                              _show(f)))
                    try:
                        self.peer._on_msrp_frame(self, f)
                    except Exception as e:  # keep the connection thread alive on peer bugs
                        self.peer._msrp_error(self, "handling %r: %r" % (f, e))
        finally:
            self.closed.set()
            try:
                self.sock.close()
            except OSError:
                pass
            self.peer._on_msrp_closed(self)


def _show(frame_or_bytes, limit=300):
    data = frame_or_bytes.encode() if isinstance(frame_or_bytes, MsrpFrame) else frame_or_bytes
    text = data.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + "... (%d bytes)" % len(data)


# =============================================================================================
# Calls
# =============================================================================================
class Call:
    """One chat session: a SIP INVITE dialog and its MSRP session (RFC 4975 §5)."""

    def __init__(self, peer, role, call_id, transport):
        self.peer = peer
        self.role = role  # "uac" or "uas"
        self.call_id = call_id
        self.transport = transport
        self.state = "init"  # init/early/confirmed/terminated/failed
        self.dialog = None
        self.invite = None  # our INVITE tx (uac) or the INVITE received (uas)
        self.final = None  # final response to the INVITE (uac) or its status (uas)
        self.local_sdp = None
        self.remote_sdp = None
        self.msrp_role = None  # "active" or "passive"
        self.local_path = "msrp://%s:%d/%s;tcp" % (HOST, peer.msrp_port, _ident())
        self.remote_path = []
        self.use_path = []  # RFC 4976 §5.1: our relay's Use-Path (empty: no relay)
        self.relay_conn = None  # the connection the AUTH went over
        self.auth_responses = []  # every response to our AUTHs (MsrpFrame), in order
        self.conn = None
        self.msrp_status = peer.msrp_status
        self.auto_report = peer.auto_report
        self.messages = _Inbox()
        self.reports = _Inbox()  # every REPORT received (MsrpFrame)
        self.bodiless = _Inbox()  # bodiless SENDs received (MsrpFrame)
        self.aborted = _Inbox()  # messages ended with '#' (ReceivedMessage, partial body)
        self.rejected = _Inbox()  # (MsrpFrame, status) answered with an error
        self.responses = _Inbox()  # every MSRP response received (MsrpFrame)
        self.sip_requests = _Inbox()  # in-dialog SIP requests received
        self._partial = {}  # Message-ID -> reassembly state
        self._outgoing = {}  # Message-ID -> OutgoingMessage
        self._sdp_version = 1
        self._sess_id = random.randint(1, 2 ** 31)
        self._established = threading.Event()
        self._finished = threading.Event()  # final response known
        self._msrp_ready = threading.Event()
        self._terminated = threading.Event()
        self._msrp_started = False
        self._lock = threading.RLock()

    # -- waits -----------------------------------------------------------------------------
    def wait_established(self, timeout=5.0):
        """True once the dialog is confirmed (2xx sent/received)."""
        return self._established.wait(timeout)

    def wait_final(self, timeout=5.0):
        """UAC: the final response to our INVITE (None if none yet)."""
        self._finished.wait(timeout)
        return self.final

    def wait_msrp(self, timeout=5.0):
        """True once the MSRP connection is bound to this session (RFC 4975 §5.4)."""
        return self._msrp_ready.wait(timeout)

    def wait_terminated(self, timeout=5.0):
        return self._terminated.wait(timeout)

    def wait_message(self, timeout=5.0, pred=None):
        return self.messages.wait(timeout, pred)

    def wait_report(self, timeout=5.0, pred=None):
        return self.reports.wait(timeout, pred)

    def wait_request(self, method, timeout=5.0):
        return self.sip_requests.wait(timeout, lambda r: r.method == method)

    @property
    def terminated(self):
        return self._terminated.is_set()

    # -- SDP / MSRP setup ------------------------------------------------------------------
    @property
    def sdp_path(self):
        """Our a=path: the reversed Use-Path, then our own URI (RFC 4976 §5.1)."""
        return " ".join(list(reversed(self.use_path)) + [self.local_path])

    @property
    def to_path(self):
        """To-Path of our requests: the Use-Path, then the peer's a=path (RFC 4976 §5.1)."""
        return self.use_path + self.remote_path

    def _our_sdp(self, setup):
        p = self.peer
        return build_sdp(self.sdp_path, p.accept_types, p.accept_wrapped_types, setup,
                         p.max_size, self._sess_id, self._sdp_version)

    def _answer_setup(self, offered):
        # RFC 6135 §4.2.2 / RFC 4145 §4.1: actpass -> our choice; active -> passive;
        # passive -> active; none -> RFC 4975 §5.4 (the offerer is active).
        if offered == "actpass":
            return self.peer.setup_answer
        if offered == "active":
            return "passive"
        if offered == "passive":
            return "active"
        return None

    def _start_msrp(self):
        """After the SDP exchange: the active side connects and sends a bodiless SEND."""
        self.peer._register_session(self)
        if self.relay_conn is not None:
            self._start_msrp_via_relay()
            return
        if self.msrp_role != "active":
            return
        if self.conn is not None and not self.conn.closed.is_set():
            return
        uri = MsrpUri.parse(self.remote_path[0])  # connect to the leftmost (§8.1/MSRP-25)
        t = threading.Thread(target=self._connect, args=(uri,), daemon=True,
                             name="msrp-connect")
        self.peer._threads.append(t)
        t.start()

    def _start_msrp_via_relay(self):
        # RFC 4976 §5: all our traffic goes over the connection to our relay, whatever the
        # a=setup roles; they only say whether the far side or the relay opens the other leg.
        rc = self.relay_conn
        if rc.closed.is_set():
            self.peer._msrp_error(rc, "relay connection lost; no new AUTH (known limit)")
            return
        with self._lock:
            if self.conn is None:
                self.conn = rc
        if self.msrp_role != "active":
            return  # the first request through the relay binds the session
        if self.peer.initial_send:
            first = self._send_frame_for(None, None, _ident(), 1, 0, 0, False, None)
            self.peer._expect_response(first.tid, self, None)
            self._send_frame(first)
        self._msrp_ready.set()

    def _relay_auth(self, timeout=5.0):
        """Connects to our relay and AUTHs (RFC 4976 §5.1, digest per §9.1); sets use_path.
        Raises ConnectionError with the reason on failure."""
        p = self.peer
        relay = MsrpUri.parse(p.relay_uri)
        try:
            sock = socket.create_connection((relay.host, relay.port), timeout=timeout)
            sock.settimeout(None)
        except OSError as e:
            raise ConnectionError("connect to relay %s failed: %s" % (relay, e))
        conn = _MsrpConn(p, sock, outgoing=True)
        with p._lock:
            p._conns.append(conn)
        self.relay_conn = conn
        authorization = None
        for _ in range(3):  # first try, answer to a challenge, one stale-nonce retry
            headers = [("To-Path", relay.text), ("From-Path", self.local_path)]
            if authorization:
                headers.append(("Authorization", authorization))
            frame = MsrpFrame(_ident(), method="AUTH", headers=headers)
            box = _Inbox()
            with p._lock:
                p._auth_waiters[frame.tid] = box
            self._send_frame_on(conn, frame)
            resp = box.wait(timeout)
            with p._lock:
                p._auth_waiters.pop(frame.tid, None)
            if resp is None:
                raise ConnectionError("relay %s did not answer AUTH" % relay)
            self.auth_responses.append(resp)
            if resp.status == 200:
                use = (resp.header("Use-Path") or "").split()
                try:
                    for u in use:
                        MsrpUri.parse(u)
                except ValueError as e:
                    raise ConnectionError("relay's Use-Path is unusable: %s" % e)
                if not use:
                    raise ConnectionError("relay's 200 to AUTH has no Use-Path")
                self.use_path = use
                return use
            if resp.status == 401 and p.relay_credentials:
                challenge = parse_digest_challenge(resp.header("WWW-Authenticate") or "")
                if challenge is None:
                    raise ConnectionError("relay's 401 has no Digest challenge")
                if authorization and challenge.get("stale", "").lower() != "true":
                    raise ConnectionError("relay refused our credentials: 401 %s" %
                                          resp.comment)
                user, password = p.relay_credentials
                # §9.1: the digest-uri is the rightmost To-Path URI, method AUTH.
                authorization = digest_authorization(challenge, user, password, "AUTH",
                                                     relay.text)
                continue
            raise ConnectionError("relay answered AUTH with %d %s" % (resp.status,
                                                                       resp.comment))
        raise ConnectionError("relay %s kept answering AUTH with 401 (stale nonce)" % relay)

    def _send_frame_on(self, conn, frame):
        data = frame.encode()
        self.peer._trace("out", "msrp %s:%d\n%s" % (conn.addr[0], conn.addr[1], _show(data)))
        conn.send(data)

    def _connect(self, uri):
        try:
            sock = socket.create_connection((uri.host, uri.port), timeout=5)
            sock.settimeout(None)
        except OSError as e:
            self.peer._msrp_error(None, "connect to %s failed: %s" % (uri, e))
            return
        conn = _MsrpConn(self.peer, sock, outgoing=True)
        with self.peer._lock:
            self.peer._conns.append(conn)
        if self.peer._closing:
            conn.close()
            return
        self.conn = conn
        if self.peer.initial_send:
            # RFC 4975 §5.4 / RFC 6135 §4.2.2: the active side sends a SEND at once.
            first = self._send_frame_for(None, None, _ident(), 1, 0, 0, False, None)
            self.peer._expect_response(first.tid, self, None)
            self._send_frame(first)
        self._msrp_ready.set()

    def _on_sdp(self, sdp_bytes, we_offered, our_setup):
        """Records the peer's SDP and decides who connects."""
        sdp = Sdp(sdp_bytes)
        why = sdp.valid_msrp()
        if why:
            raise ValueError(why)
        self.remote_sdp = sdp
        self.remote_path = sdp.path
        if we_offered:
            theirs = sdp.setup
            if our_setup is None or theirs is None:
                self.msrp_role = "active"  # RFC 4975 §5.4: the offerer connects
            elif theirs == "active":
                self.msrp_role = "passive"
            else:
                self.msrp_role = "active"
        else:
            mine = our_setup
            self.msrp_role = "active" if mine == "active" else "passive"

    # -- MSRP sending ----------------------------------------------------------------------
    def _send_frame_for(self, data, content_type, message_id, start, end, total,
                        success, failure, flag="$", headers=(), end_star=False):
        tid = _ident()
        while data is not None and ("-------" + tid).encode() in data:
            tid = _ident()  # RFC 4975 §7.1: the end-line must not occur in the body
        h = [("To-Path", " ".join(self.to_path)), ("From-Path", self.local_path),
             ("Message-ID", message_id)]
        if success:
            h.append(("Success-Report", "yes"))
        if failure is not None and failure is not True:
            h.append(("Failure-Report", failure))
        elif failure is True:
            h.append(("Failure-Report", "yes"))
        h.append(("Byte-Range", "%d-%s/%s" % (start, "*" if end_star else end,
                                             "*" if total is None else total)))
        h += list(headers)
        if data is not None:
            h.append(("Content-Type", content_type))  # last header (RFC 4975 §7.1)
        return MsrpFrame(tid, method="SEND", headers=h, body=data, flag=flag)

    def _send_frame(self, frame):
        conn = self.conn
        if conn is None:
            raise ConnectionError("no MSRP connection for this session")
        data = frame.encode()
        self.peer._trace("out", "msrp %s:%d\n%s" % (conn.addr[0], conn.addr[1], _show(data)))
        conn.send(data)

    def send_message(self, body, content_type="text/plain", chunk_size=None,
                     success_report=False, failure_report=None, message_id=None, headers=(),
                     wait_each=False, abort_after=None, interruptible=None):
        """Sends one message as SEND chunks (RFC 4975 §7.1.1).

        chunk_size: bytes per chunk (default peer.chunk_size); success_report True adds
        ``Success-Report: yes``; failure_report None omits the header (means yes), else
        "yes"/"no"/"partial"; headers: extra MIME/extension headers before Content-Type;
        wait_each: wait for each chunk's response before the next; abort_after: after that
        many chunks send the rest of nothing but a '#' chunk; interruptible: Byte-Range end
        '*' (default: for chunks over 2048 octets, RFC 4975 §7.1.1 MUST).
        Stops early when a 413/415/481/506 arrives (RFC 4975 §10). Returns OutgoingMessage.
        """
        if not self._msrp_ready.wait(5):
            raise ConnectionError("MSRP session not connected")
        if isinstance(body, str):
            body = body.encode("utf-8")
        chunk_size = chunk_size or self.peer.chunk_size
        out = OutgoingMessage(self, message_id or _ident(20), len(body))
        with self._lock:
            self._outgoing[out.message_id] = out
        total = len(body)
        pos = 0
        count = 0
        while True:
            if out.stopped_by:
                break
            piece = body[pos:pos + chunk_size]
            last = pos + len(piece) >= total
            flag = "$" if last else "+"
            if abort_after is not None and count >= abort_after:
                piece, flag, last = b"", "#", True
            star = (len(piece) > 2048) if interruptible is None else interruptible
            frame = self._send_frame_for(piece, content_type, out.message_id, pos + 1,
                                         pos + len(piece), total, success_report,
                                         failure_report, flag, headers, star)
            with out._cond:
                out.tids.append(frame.tid)
            self.peer._expect_response(frame.tid, self, out)
            self._send_frame(frame)
            count += 1
            pos += len(piece)
            if wait_each and failure_report not in ("no", "partial"):
                out.wait_responses(timeout=5)
            if last:
                break
        return out

    def send_text(self, text, **kw):
        return self.send_message(text, "text/plain;charset=UTF-8", **kw)

    def send_cpim(self, body, content_type="text/plain;charset=UTF-8", from_uri=None, to_uri=None,
                  **kw):
        wrapped = cpim_wrap(body, content_type, from_uri or self.peer.aor,
                            to_uri or (self.dialog.remote_uri if self.dialog else "im:x@x"))
        return self.send_message(wrapped, "message/cpim", **kw)

    def send_iscomposing(self, state="active", refresh=None, contenttype="text/plain",
                         lastactive=None, cpim=False, **kw):
        """An RFC 3994 status message as an ordinary SEND (optionally CPIM-wrapped)."""
        doc = iscomposing(state, refresh, contenttype, lastactive)
        if cpim:
            return self.send_cpim(doc, ISCOMPOSING_TYPE, **kw)
        return self.send_message(doc, ISCOMPOSING_TYPE, **kw)

    def send_report(self, received, status=200, comment=None, byte_range=None):
        """A REPORT for a received message (RFC 4975 §7.1.2): To-Path = its From-Path."""
        if isinstance(received, ReceivedMessage):
            mid, to_path, size = received.message_id, received.from_path, len(received.body)
        else:  # (message_id, from_path list, size)
            mid, to_path, size = received
        frame = MsrpFrame(_ident(), method="REPORT", headers=[
            ("To-Path", " ".join(to_path)), ("From-Path", self.local_path),
            ("Message-ID", mid),
            ("Byte-Range", byte_range or "1-%d/%d" % (size, size)),
            ("Status", "000 %03d %s" % (status, comment or MSRP_REASONS.get(status, "")))])
        self._send_frame(frame)
        return frame

    def send_raw(self, data, **fmt):
        """Writes bytes on the MSRP connection as they are. A key of MALFORMED is expanded
        with this session's paths ({to}, {fr}, {tid}, {mid})."""
        if isinstance(data, str):
            if data in MALFORMED:
                values = {"to": " ".join(self.to_path), "fr": self.local_path,
                          "tid": _ident(), "mid": _ident()}
                values.update(fmt)
                data = MALFORMED[data].format(**values)
            data = data.encode("utf-8")
        conn = self.conn
        if conn is None:
            raise ConnectionError("no MSRP connection for this session")
        self.peer._trace("out", "msrp raw\n%s" % _show(data))
        conn.send(data)

    def drop(self, rst=True):
        """Drops the MSRP TCP connection abruptly (RST by default), no BYE."""
        conn = self.conn
        if conn is not None:
            conn.close(rst=rst)
            conn.join()

    # -- MSRP receiving --------------------------------------------------------------------
    def _respond(self, conn, req, status, comment=None):
        # RFC 4975 §7.2: To-Path = previous hop (leftmost From-Path), From-Path = us.
        frame = MsrpFrame(req.tid, status=status,
                          comment=comment or MSRP_REASONS.get(status, ""),
                          headers=[("To-Path", (req.from_path or [""])[0]),
                                   ("From-Path", self.local_path)])
        data = frame.encode()
        self.peer._trace("out", "msrp %s:%d\n%s" % (conn.addr[0], conn.addr[1], _show(data)))
        try:
            conn.send(data)
        except OSError:
            pass

    def _status_for(self, frame):
        st = self.msrp_status
        if callable(st):
            st = st(frame)
        return 200 if st is None else int(st)

    def _on_request(self, conn, f):
        failure = (f.header("Failure-Report") or "yes").strip().lower()

        def answer(status):
            # RFC 4975 §7.1.4: "no" -> never respond; "partial" -> errors only.
            if failure == "no" or (failure == "partial" and status == 200):
                return
            self._respond(conn, f, status)

        if f.method == "REPORT":
            self.reports.put(f)  # never answered (§7.1.2)
            with self._lock:
                out = self._outgoing.get(f.message_id)
            if out is not None:
                out.reports.put(f)
            return
        if f.method != "SEND":
            answer(501)
            return
        try:
            start, end, total = f.byte_range()
        except ValueError:
            answer(400)
            return
        if f.body is None:  # bodiless SEND (§5.4 connection set-up, keep-alive)
            self.bodiless.put(f)
            # An int msrp_status is for content; a callable also judges bodiless SENDs.
            status = self._status_for(f) if callable(self.msrp_status) else 200
            if status != 200:
                self.rejected.put((f, status))
            answer(status)
            return
        if not type_accepted(f.content_type or "", self.peer.accept_types):
            self.rejected.put((f, 415))
            answer(415)
            return
        status = self._status_for(f)
        if status != 200:
            self.rejected.put((f, status))
            answer(status)
            return
        done = self._reassemble(f, start, total)
        answer(200)
        if done is not None:
            if f.flag == "#":
                self.aborted.put(done)
                return
            self.messages.put(done)
            self.peer.messages.put(done)
            if done.success_report and self.auto_report:
                self.send_report(done)

    def _reassemble(self, f, start, total):
        """Adds a chunk; returns the ReceivedMessage once complete (RFC 4975 §7.3.1)."""
        mid = f.message_id or f.tid
        with self._lock:
            st = self._partial.get(mid)
            if st is None:
                if f.flag in "$#" and start == 1:  # the whole message in one chunk
                    return self._complete(mid, f, f.body, 1, [f.tid])
                st = self._partial[mid] = {"first": f, "data": bytearray(), "have": [],
                                           "total": None, "tids": []}
            st["tids"].append(f.tid)
            need = start - 1 + len(f.body)
            if len(st["data"]) < need:
                st["data"].extend(b"\0" * (need - len(st["data"])))
            st["data"][start - 1:need] = f.body  # on overlap the last one wins
            st["have"].append((start - 1, need))
            if f.flag in "$#":
                st["total"] = need  # the '$' chunk defines the end
                if f.flag == "#":
                    st["aborted"] = True
            if st["total"] is None:
                return None
            covered = 0
            for a, b in sorted(st["have"]):
                if a > covered:
                    return None
                covered = max(covered, b)
            if covered < st["total"]:
                return None
            del self._partial[mid]
            return self._complete(mid, st["first"], bytes(st["data"][:st["total"]]),
                                  len(st["tids"]), st["tids"])

    def _complete(self, mid, first, body, chunks, tids):
        return ReceivedMessage(self, mid, first.content_type, first.headers, body, chunks, tids,
                               first.from_path,
                               (first.header("Success-Report") or "no").lower() == "yes",
                               (first.header("Failure-Report") or "yes").lower())

    def _on_response(self, f, out):
        self.responses.put(f)
        if out is not None:
            out._response(f)

    # -- SIP -------------------------------------------------------------------------------
    def _dest(self):
        host, port, transport = self.dialog.destination()
        return (host, port), self.transport

    def request(self, method, body=b"", content_type=None, headers=(), timeout=5.0, wait=True):
        """An in-dialog request (BYE, re-INVITE, UPDATE, INFO, ...): the final response."""
        d = self.dialog
        h = d.headers(method, d.next_cseq()) + list(headers)
        if body:
            h.append(("Content-Type", content_type or "application/sdp"))
        dest, transport = self._dest()
        tx = self.peer.ua.send_request(method, d.remote_target, h, body, dest, transport)
        if not wait:
            return tx
        resp = tx.wait(timeout)
        if resp is not None and method == "INVITE" and 200 <= resp.status < 300:
            self._ack(resp, tx)
        if resp is not None and method in ("INVITE", "UPDATE") and 200 <= resp.status < 300:
            self._reanswered(resp)
        return resp

    def _reanswered(self, resp):
        # The answer to our re-offer: take over a new path; after a lost connection the
        # roles are negotiated again and the active side reconnects (RFC 4975 §5.4).
        if not resp.body:
            return
        sdp = Sdp(resp.body)
        if sdp.valid_msrp():
            return
        self.remote_sdp = sdp
        self.remote_path = sdp.path
        if self.conn is not None and not self.conn.closed.is_set():
            return
        self.msrp_role = "passive" if sdp.setup == "active" else "active"
        self.conn = None
        self._msrp_ready.clear()
        self._start_msrp()

    def bye(self, timeout=5.0):
        """Sends BYE (RFC 3261 §15.1.1), closes the MSRP session; returns the response."""
        resp = self.request("BYE", timeout=timeout)
        self._terminate()
        return resp

    def reinvite(self, timeout=5.0, setup="actpass"):
        """A session refresh: re-INVITE with our unchanged SDP (RFC 4975 §8.4)."""
        return self.request("INVITE", self._our_sdp(setup), timeout=timeout)

    def update(self, timeout=5.0, setup="actpass"):
        return self.request("UPDATE", self._our_sdp(setup), timeout=timeout)

    def cancel(self):
        """CANCEL our pending INVITE (RFC 3261 §9.1)."""
        tx = self.invite
        req = tx.request
        h = [("From", req.header("From")), ("To", req.header("To")),
             ("Call-ID", req.header("Call-ID")), ("CSeq", "%d CANCEL" % cseq_of(req)[0])]
        data = self.peer.ua.build_request("CANCEL", req.request_uri, h, b"", tx.transport,
                                          tx.branch)
        return self.peer.ua.send_raw(data, tx.dest, tx.transport)

    def answer(self, status=200, reason=None, headers=()):
        """UAS: answers the pending INVITE (200 with our SDP answer, or an error)."""
        self.peer._answer(self, status, reason, headers)

    def reject(self, status=486, reason=None, headers=()):
        self.peer._answer(self, status, reason, headers)

    def _ack(self, resp, tx):
        d = self.dialog
        h = [("From", "<%s>;tag=%s" % (d.local_uri, d.local_tag)),
             ("To", resp.header("To")), ("Call-ID", d.call_id),
             ("CSeq", "%d ACK" % cseq_of(tx.request)[0])]
        h += [("Route", r) for r in d.route_set]
        dest, transport = self._dest()
        tx.ack_data = self.peer.ua.send_ack(d.remote_target, h, dest, transport)

    def _terminate(self):
        self.state = "terminated"
        self._terminated.set()
        self.peer._unregister_session(self)
        conn = self.conn
        if conn is not None and not self.peer._conn_in_use(conn, self):
            conn.close()
        rc = self.relay_conn  # ours alone (one AUTH per session, RFC 4976 §5.1)
        if rc is not None and rc is not conn:
            rc.close()

    def __repr__(self):
        return "<Call %s %s %s msrp=%s>" % (self.role, self.call_id, self.state, self.msrp_role)


# =============================================================================================
# The peer
# =============================================================================================
class MsrpPeer:
    """A SIP UA + MSRP endpoint on 127.0.0.1; see the module docstring."""

    def __init__(self, user="bob", domain=None, transport="udp", answer=200, ring=True,
                 answer_delay=0.0, setup_answer="passive", setup_offer="actpass",
                 accept_types=DEFAULT_ACCEPT_TYPES, accept_wrapped_types=DEFAULT_WRAPPED_TYPES,
                 max_size=None, chunk_size=2048, msrp_status=200, auto_report=True,
                 initial_send=True, sip_port=0, t1=0.5, name=None, log_path=None,
                 relay=None, relay_credentials="default"):
        self.user = user
        self.transport = transport
        self.answer = answer
        self.ring = ring
        self.answer_delay = answer_delay
        self.setup_answer = setup_answer
        self.setup_offer = setup_offer
        self.accept_types = list(accept_types)
        self.accept_wrapped_types = list(accept_wrapped_types or ())
        self.max_size = max_size
        self.chunk_size = chunk_size
        self.msrp_status = msrp_status
        self.auto_report = auto_report
        self.initial_send = initial_send
        # RFC 4976 client side: the relay's URI and (user, password) for its digest challenge.
        self.relay_uri = None if relay is None else str(getattr(relay, "uri", relay))
        if self.relay_uri is not None:
            MsrpUri.parse(self.relay_uri)  # a bad URI fails here, not in the first call
        if relay_credentials == "default":
            relay_credentials = getattr(relay, "credentials", None)
        self.relay_credentials = tuple(relay_credentials) if relay_credentials else None
        self.name = name or user
        self.trace = []  # (time, direction, text)
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        self._log_lock = threading.Lock()
        self.requests = _Inbox()  # every SIP request received
        self.messages = _Inbox()  # every complete MSRP message, all calls
        self.msrp_errors = []  # framing errors seen on our MSRP connections
        self.unmatched_responses = _Inbox()  # MSRP responses to no SEND of ours (send_raw)
        self.calls = []
        self._incoming = _Inbox()
        self._lock = threading.RLock()
        self._sessions = {}  # MsrpUri key -> Call
        self._pending = {}  # tid -> (Call, OutgoingMessage)
        self._auth_waiters = {}  # tid of an AUTH -> _Inbox for its response
        self._conns = []
        self._threads = []  # helper threads and timers, joined by close()
        self._closing = False
        self.msrp_listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.msrp_listener.bind((HOST, 0))
        self.msrp_listener.listen(16)
        self.msrp_port = self.msrp_listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name="msrp-accept")
        self._accept_thread.start()
        self.ua = SipUA(self._on_sip_request, port=sip_port, t1=t1, trace=self._trace,
                        name=self.name)
        self.sip_port = self.ua.port
        self.domain = domain or "%s:%d" % (HOST, self.sip_port)
        self.aor = "sip:%s@%s" % (user, self.domain)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def contact(self, transport=None):
        t = transport or self.transport
        return "<sip:%s@%s:%d%s>" % (self.user, HOST, self.sip_port,
                                     ";transport=tcp" if t == "tcp" else "")

    def close(self):
        """Closes every socket and joins every thread; safe to call twice."""
        if self._closing:
            return
        self._closing = True
        try:
            self.msrp_listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.msrp_listener.close()
        self._accept_thread.join(3)
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.close()
            c.join()
        self.ua.close()
        for t in list(self._threads):
            if isinstance(t, threading.Timer):
                t.cancel()
            if t is not threading.current_thread():
                t.join(3)
        if self._log:
            with self._log_lock:
                self._log.close()
                self._log = None

    def _trace(self, direction, text):
        entry = (time.time(), direction, text)
        self.trace.append(entry)
        if self._log:
            with self._log_lock:
                if self._log:
                    self._log.write("%s %s %s\n%s\n\n" % (
                        time.strftime("%H:%M:%S", time.localtime(entry[0])),
                        self.name, direction, text))
                    self._log.flush()

    def logs(self):
        """The trace as text (for a test's failure diagnostics)."""
        return "\n\n".join("%.3f %s %s\n%s" % e for e in self.trace[-60:])

    # -- waits -----------------------------------------------------------------------------
    def wait_call(self, timeout=5.0):
        """The next incoming call (as soon as its INVITE arrived)."""
        return self._incoming.wait(timeout)

    def wait_message(self, timeout=5.0, pred=None):
        return self.messages.wait(timeout, pred)

    def wait_request(self, method=None, timeout=5.0):
        return self.requests.wait(timeout, lambda r: method is None or r.method == method)

    # -- UAC -------------------------------------------------------------------------------
    def invite(self, to_uri, port=None, host=HOST, transport=None, setup="default",
               headers=(), call_id=None, from_uri=None, subject=None, body=None):
        """Sends an INVITE with our MSRP offer; returns the Call at once.

        port/host: where to send it (default: the Request-URI's host:port); setup: a=setup of
        the offer ("actpass" by default, None to omit it); body: an SDP to send instead."""
        transport = transport or self.transport
        if setup == "default":
            setup = self.setup_offer
        call = Call(self, "uac", call_id or random_token(20) + "@msrp-peer", transport)
        if port is None:
            host, port, _ = uri_target(to_uri, transport)
        local_tag = random_token(10)
        call.dialog = Dialog(call.call_id, from_uri or self.aor, local_tag, to_uri, None,
                             to_uri, [], transport, contact=self.contact(transport))
        call._offer_setup = setup
        if self.relay_uri:
            call._relay_auth()  # ConnectionError to the caller: no relay, no offer
        call.local_sdp = body if body is not None else call._our_sdp(setup)
        with self._lock:
            self.calls.append(call)
        # Listen for our session before offering it: an active answerer may connect as
        # soon as it has sent its 200 (RFC 6135 §4.2.2).
        self._register_session(call)
        h = call.dialog.headers("INVITE", call.dialog.local_cseq)
        if subject:
            h.append(("Subject", subject))
        h += list(headers) + [("Content-Type", "application/sdp")]
        call.state = "calling"
        call.invite = self.ua.send_request("INVITE", to_uri, h, call.local_sdp, (host, port),
                                           transport)
        t = threading.Thread(target=self._uac_wait, args=(call,), daemon=True, name="uac-invite")
        self._threads.append(t)
        t.start()
        return call

    def _uac_wait(self, call):
        tx = call.invite
        resp = tx.wait(64 * self.ua.t1 + 1)
        call.final = resp
        if self._closing:
            call._finished.set()
            return
        if resp is None or resp.status >= 300:
            call.state = "failed"
            call._finished.set()
            call._terminated.set()
            return
        d = call.dialog
        d.remote_tag = header_tag(resp.header("To", ""))
        contact = resp.header("Contact")
        if contact:
            d.remote_target = addr_spec(contact)
        d.route_set = list(reversed(resp.header_values("Record-Route")))  # §12.1.2
        call._ack(resp, tx)
        try:
            call._on_sdp(resp.body, True, call._offer_setup)
        except ValueError as e:
            self._trace("error", "bad SDP answer: %s" % e)
            call.state = "failed"
            call._finished.set()
            call.bye()
            return
        call.state = "confirmed"
        call._established.set()
        call._finished.set()
        call._start_msrp()

    # -- UAS -------------------------------------------------------------------------------
    def _on_sip_request(self, req):
        self.requests.put(req)
        call = self._call_by_id(req.header("Call-ID"))
        m = req.method
        if m == "INVITE" and (call is None or call.dialog is None
                              or header_tag(req.header("To", "")) is None):
            if call is None:
                self._new_incoming(req)
            return
        if m == "OPTIONS" and call is None:
            self.ua.respond(req, 200, headers=[
                ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, MESSAGE"),
                ("Accept", "application/sdp")], to_tag=random_token(10))
            return
        if m == "MESSAGE" and call is None:
            self.ua.respond(req, 200, to_tag=random_token(10))
            return
        if call is None or (call.terminated and m != "ACK"):
            if m != "ACK":  # §12.2.2: no such dialog (any more)
                self.ua.respond(req, 481)
            return
        call.sip_requests.put(req)
        if m == "ACK":
            if call.role == "uas" and call.state == "confirmed":
                if not call._msrp_started:
                    call._msrp_started = True
                    call._start_msrp()
            return
        if m == "CANCEL":
            if call.state in ("init", "early"):
                self.ua.respond(req.cancelled_invite, 487, to_tag=call.dialog.local_tag)
                call.state = "failed"
                call._terminated.set()
            return
        num = cseq_of(req)[0]
        d = call.dialog
        if d.remote_cseq is not None and num < d.remote_cseq:
            self.ua.respond(req, 500, "CSeq out of order")  # §12.2.2
            return
        d.remote_cseq = num
        if m == "BYE":
            self.ua.respond(req, 200)
            call._terminate()
        elif m in ("INVITE", "UPDATE"):
            self._refresh(call, req)
        elif m in ("OPTIONS", "INFO", "MESSAGE"):
            self.ua.respond(req, 200)
        else:
            self.ua.respond(req, 405, headers=[
                ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, MESSAGE, INFO")])

    def _refresh(self, call, req):
        # A session refresh: answer 200 with our unchanged SDP (same o-line, RFC 4975 §8.4).
        # While the connection lives the roles stay; a new offer after a lost connection
        # (RFC 4975 §5.4) negotiates them again and its (possibly new) path is taken over.
        if not req.body:
            if req.method == "UPDATE":  # RFC 3311 §5.2: no offer, no answer
                self.ua.respond(req, 200, headers=[("Contact", self.contact(call.transport))])
                return
            sdp = None
        else:
            sdp = Sdp(req.body)
            why = sdp.valid_msrp()
            if why:
                self.ua.respond(req, 488, headers=[("Warning", '399 msrp-peer "%s"' % why)])
                return
        alive = call.conn is not None and not call.conn.closed.is_set()
        if alive or sdp is None:
            role = call.msrp_role
        elif sdp.setup:
            role = call._answer_setup(sdp.setup)
        else:
            role = "passive"  # RFC 4975 §5.4: the offerer connects
        if sdp is not None and sdp.path != call.remote_path:
            call.remote_path = sdp.path
            call.remote_sdp = sdp
        setup_line = role if (sdp is None or sdp.setup) else None
        self.ua.respond(req, 200, headers=[("Contact", self.contact(call.transport)),
                                           ("Content-Type", "application/sdp")],
                        body=call._our_sdp(setup_line))
        if not alive:
            call._msrp_ready.clear()
            call.conn = None
            call.msrp_role = role
            call._start_msrp()

    def _new_incoming(self, req):
        call = Call(self, "uas", req.header("Call-ID"), req.source[0])
        call.invite = req
        contact = req.header("Contact")
        call.dialog = Dialog(call.call_id, addr_spec(req.header("To", "")), random_token(10),
                             addr_spec(req.header("From", "")),
                             header_tag(req.header("From", "")),
                             addr_spec(contact) if contact else addr_spec(req.header("From")),
                             req.header_values("Record-Route"), req.source[0],
                             contact=self.contact(req.source[0]))
        call.dialog.remote_cseq = cseq_of(req)[0]
        with self._lock:
            self.calls.append(call)
        if self.ring:
            self.ua.respond(req, 180, to_tag=call.dialog.local_tag,
                            headers=[("Contact", call.dialog.contact)])
            call.state = "early"
        self._incoming.put(call)
        if self.answer is None:
            return
        if self.answer_delay:
            t = threading.Timer(self.answer_delay, self._answer, (call, self.answer))
            self._threads.append(t)
            t.start()
        else:
            self._answer(call, self.answer)

    def _answer(self, call, status, reason=None, headers=()):
        req = call.invite
        if call.state not in ("init", "early") or self._closing:
            return
        if status >= 300:
            call.state = "failed"
            call.final = status
            self.ua.respond(req, status, reason, headers, to_tag=call.dialog.local_tag)
            call._finished.set()
            call._terminated.set()
            return
        try:
            sdp = Sdp(req.body)
            why = sdp.valid_msrp()
            if why:
                raise ValueError(why)
            setup = call._answer_setup(sdp.setup)
            call._on_sdp(req.body, False, setup)
        except ValueError as e:
            # RFC 4975 §8.6 / RFC 3261 §13.3.1.3: an unusable offer gets 488.
            call.state = "failed"
            call.final = 488
            self.ua.respond(req, 488, headers=[("Warning", '399 msrp-peer "%s"' % e)],
                            to_tag=call.dialog.local_tag)
            call._finished.set()
            call._terminated.set()
            return
        if self.relay_uri:
            try:
                call._relay_auth()
            except ConnectionError as e:
                self._trace("error", "relay AUTH failed: %s" % e)
                call.state = "failed"
                call.final = 503
                self.ua.respond(req, 503, headers=[("Warning", '399 msrp-peer "%s"' % e)],
                                to_tag=call.dialog.local_tag)
                call._finished.set()
                call._terminated.set()
                return
        call.local_sdp = call._our_sdp(setup)
        self._register_session(call)  # before the 200: the peer may connect at once
        call.state = "confirmed"
        call.final = status
        self.ua.respond(req, status, reason, [("Contact", call.dialog.contact),
                                              ("Content-Type", "application/sdp")] + list(headers),
                        body=call.local_sdp, to_tag=call.dialog.local_tag)
        call._established.set()
        call._finished.set()

    def _call_by_id(self, call_id):
        with self._lock:
            for c in reversed(self.calls):
                if c.call_id == call_id and not c.terminated:
                    return c
            for c in reversed(self.calls):
                if c.call_id == call_id:
                    return c
        return None

    # -- MSRP plumbing ---------------------------------------------------------------------
    def _register_session(self, call):
        with self._lock:
            self._sessions[MsrpUri.parse(call.local_path).key()] = call

    def _unregister_session(self, call):
        with self._lock:
            self._sessions.pop(MsrpUri.parse(call.local_path).key(), None)

    def _conn_in_use(self, conn, but):
        with self._lock:
            return any(c.conn is conn for c in self._sessions.values() if c is not but)

    def _expect_response(self, tid, call, out):
        with self._lock:
            self._pending[tid] = (call, out)

    def _accept_loop(self):
        while not self._closing:
            try:
                sock, _ = self.msrp_listener.accept()
            except OSError:
                return
            if self._closing:
                sock.close()
                return
            conn = _MsrpConn(self, sock, outgoing=False)
            with self._lock:
                self._conns.append(conn)

    def _msrp_error(self, conn, why):
        self.msrp_errors.append(why)
        self._trace("error", "msrp: %s" % why)

    def _on_msrp_closed(self, conn):
        with self._lock:
            calls = [c for c in self.calls if c.conn is conn]
        for c in calls:
            c._msrp_ready.clear()  # RFC 4975 §5.4: the session failed with its connection

    def _on_msrp_frame(self, conn, f):
        if not f.is_request:
            with self._lock:
                box = self._auth_waiters.get(f.tid)
            if box is not None:
                box.put(f)
                return
            with self._lock:
                call, out = self._pending.pop(f.tid, (None, None))
            if call is not None:
                call._on_response(f, out)
            else:  # e.g. the answer to a send_raw() frame
                self.unmatched_responses.put(f)
            return
        to = f.to_path
        call = None
        if len(to) == 1:  # RFC 4975 §7.3: exactly one URI, ours
            try:
                key = MsrpUri.parse(to[0]).key()
            except ValueError:
                key = None
            with self._lock:
                call = self._sessions.get(key)
        if call is None:
            failure = (f.header("Failure-Report") or "yes").lower()
            if f.method != "REPORT" and failure != "no":
                tmp = MsrpFrame(f.tid, status=481, comment="Session Does Not Exist",
                                headers=[("To-Path", (f.from_path or [""])[0]),
                                         ("From-Path", to[0] if to else "")])
                conn.send(tmp.encode())
            return
        with call._lock:
            if call.conn is None or call.conn.closed.is_set():
                call.conn = conn  # §5.4: the first request binds the passive side
                call._msrp_ready.set()
            elif call.conn is conn and not call._msrp_ready.is_set():
                call._msrp_ready.set()  # passive behind a relay: the relay's leg is up
            elif call.conn is not conn:
                if f.method != "REPORT":
                    call._respond(conn, f, 506)
                return
        call._on_request(conn, f)


# =============================================================================================
# CLI
# =============================================================================================
def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m stoxtest.msrp_peer",
        description="SIP + MSRP chat peer (RFC 4975) on 127.0.0.1. Without --call it waits "
                    "for INVITEs; with --call it calls. Received messages are printed; "
                    "the answering side echoes text messages back.")
    ap.add_argument("--user", default="bob")
    ap.add_argument("--port", type=int, default=0, help="SIP port (UDP+TCP), 0 = any")
    ap.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    ap.add_argument("--setup", default="passive",
                    help="a=setup we answer to actpass (passive/active) or offer (actpass)")
    ap.add_argument("--reject", type=int, help="reject INVITEs with this status")
    ap.add_argument("--msrp-status", type=int, default=200, help="answer SENDs with this")
    ap.add_argument("--call", metavar="URI", help="INVITE this SIP URI (host:port inside)")
    ap.add_argument("--send", default="hello from msrp_peer", help="first message (--call)")
    args = ap.parse_args(argv)
    peer = MsrpPeer(user=args.user, sip_port=args.port, transport=args.transport,
                    answer=args.reject or 200, msrp_status=args.msrp_status,
                    setup_answer=args.setup if args.setup != "actpass" else "passive")
    print("SIP %s on 127.0.0.1:%d, MSRP listener on 127.0.0.1:%d, AOR %s" % (
        args.transport, peer.sip_port, peer.msrp_port, peer.aor), flush=True)
    try:
        if args.call:
            call = peer.invite(args.call, setup=args.setup if args.setup == "actpass" else None)
            resp = call.wait_final(40)
            print("INVITE ->", resp.start_line if resp else "no answer", flush=True)
            if call.wait_msrp(10):
                call.send_text(args.send)
        while True:
            msg = peer.wait_message(timeout=1.0)
            if msg is None:
                continue
            print("[%s] %s: %s" % (msg.call.call_id, msg.content_type, msg.text), flush=True)
            if not args.call and msg.mime_type == "text/plain" and msg.call.wait_msrp(1):
                msg.call.send_text("echo: " + msg.text)
    except KeyboardInterrupt:
        pass
    finally:
        peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

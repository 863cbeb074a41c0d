"""XMPP clients for tests: slixmpp driven from unittest, and a raw-socket client.

``XmppClient`` runs slixmpp's asyncio loop in a background thread; every stanza it receives
(message, presence, iq) lands in a thread-safe inbox that tests search with ``wait_for``.
``RawXmppClient`` logs in with SASL PLAIN over plain TCP and writes whatever bytes the test
wants, for cases slixmpp would refuse to produce.
"""

import asyncio
import base64
import logging
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher.base import MatcherBase

from . import util

STANZA_ERROR_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"
CLIENT_NS = "jabber:client"
STREAM_NS = "http://etherx.jabber.org/streams"

logging.getLogger("slixmpp").setLevel(logging.ERROR)


_ids = [0]
_ids_lock = threading.Lock()


def next_id():
    """A process-wide counter for stanza ids."""
    with _ids_lock:
        _ids[0] += 1
        return _ids[0]


def local_name(tag):
    return tag.rsplit("}", 1)[-1]


class Received:
    """One stanza as received: the ElementTree element plus convenience accessors."""

    def __init__(self, element, at=None):
        self.xml = element
        self.at = at if at is not None else time.monotonic()

    @property
    def name(self):
        return local_name(self.xml.tag)

    def get(self, attr, default=None):
        return self.xml.get(attr, default)

    @property
    def type(self):
        return self.xml.get("type", "normal" if self.name == "message" else None)

    def child(self, name, ns=CLIENT_NS):
        return self.xml.find("{%s}%s" % (ns, name))

    def child_text(self, name, ns=CLIENT_NS):
        c = self.child(name, ns)
        return None if c is None else (c.text or "")

    @property
    def body(self):
        return self.child_text("body")

    @property
    def subject(self):
        return self.child_text("subject")

    @property
    def thread(self):
        return self.child_text("thread")

    @property
    def lang(self):
        return self.xml.get("{http://www.w3.org/XML/1998/namespace}lang")

    def error_condition(self):
        """(error type, defined condition) of a type='error' stanza, else (None, None)."""
        err = self.child("error")
        if err is None:
            return None, None
        for c in err:
            if c.tag.startswith("{%s}" % STANZA_ERROR_NS) and local_name(c.tag) != "text":
                return err.get("type"), local_name(c.tag)
        return err.get("type"), None

    def __str__(self):
        return ET.tostring(self.xml, encoding="unicode")

    __repr__ = __str__


class Inbox:
    """Thread-safe list of received stanzas; ``wait_for`` takes the first match out."""

    def __init__(self):
        self._items = []
        self._cond = threading.Condition()

    def put(self, item):
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout=10.0):
        """The first stanza for which predicate(stanza) is true (removed from the inbox), or
        None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, item in enumerate(self._items):
                    try:
                        ok = predicate(item)
                    except Exception:  # a predicate looking at a stanza of another shape
                        ok = False
                    if ok:
                        return self._items.pop(i)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def all(self, predicate=lambda s: True):
        with self._cond:
            return [s for s in self._items if predicate(s)]

    def take_all(self, predicate=lambda s: True):
        with self._cond:
            out = [s for s in self._items if predicate(s)]
            self._items = [s for s in self._items if not predicate(s)]
            return out


class _AnyStanza(MatcherBase):
    def __init__(self):
        super().__init__(None)

    def match(self, xml):
        return local_name(xml.tag) in ("message", "presence", "iq")


class XmppClient:
    """A logged-in XMPP client whose slixmpp loop runs in its own thread.

    ``reconnect=True`` logs in again after the server went away (Prosody restarts); each
    completed login bumps ``sessions``.
    """

    def __init__(self, jid, password, port, host="127.0.0.1", reconnect=False):
        self.jid = jid
        self.password = password
        self.address = (host, port)
        self.inbox = Inbox()
        self.reconnect = reconnect
        self.sessions = 0
        self.bound_jid = None
        self._session = threading.Event()
        self._failed = None
        self._closing = False
        self._thread = None
        self._loop = None
        self.xmpp = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def connect(self, timeout=10.0):
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True,
                                        name="xmpp-" + self.jid)
        self._thread.start()
        started.wait(5)
        if not self._session.wait(timeout):
            why = self._failed or "no session within %.0f s" % timeout
            self.close()
            raise RuntimeError("XMPP login of %s failed: %s" % (self.jid, why))
        return self

    def wait_session(self, count, timeout=15.0):
        """Waits until `count` logins completed (after a reconnect)."""
        return bool(util.wait_until(lambda: self.sessions >= count, timeout))

    def close(self):
        if self._loop is None:
            return
        self._closing = True
        done = threading.Event()

        async def shutdown():
            try:
                await asyncio.wait_for(self.xmpp.disconnect(wait=1.0), 3)
            except Exception:
                pass
            done.set()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
            done.wait(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        except RuntimeError:
            pass  # loop already closed
        self._thread.join(5)
        self._loop = None

    # -- sending -----------------------------------------------------------------------------
    def send_raw(self, data):
        """Writes raw XML to the stream (from any thread)."""
        self._call(lambda: self.xmpp.send_raw(data))

    def send_message(self, to, body=None, mtype=None, subject=None, thread=None, lang=None,
                     mid=None, extra=""):
        """Sends a <message/>; returns its id."""
        mid = mid or "m%d" % next_id()
        attrs = " to=%s id=%s" % (quoteattr(to), quoteattr(mid))
        if mtype:
            attrs += " type=%s" % quoteattr(mtype)
        if lang:
            attrs += " xml:lang=%s" % quoteattr(lang)
        inner = ""
        if subject is not None:
            inner += "<subject>%s</subject>" % escape(subject)
        if body is not None:
            inner += "<body>%s</body>" % escape(body)
        if thread is not None:
            inner += "<thread>%s</thread>" % escape(thread)
        self.send_raw("<message%s>%s%s</message>" % (attrs, inner, extra))
        return mid

    def wait_for(self, predicate, timeout=10.0):
        return self.inbox.wait_for(predicate, timeout)

    # -- internals ---------------------------------------------------------------------------
    def _call(self, fn):
        if self._loop is None:
            raise RuntimeError("XMPP client %s is not connected" % self.jid)
        self._loop.call_soon_threadsafe(fn)

    def _run(self, started):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        x = slixmpp.ClientXMPP(self.jid, self.password)
        self.xmpp = x
        x.register_handler(Callback("stoxtest-inbox", _AnyStanza(), self._on_stanza))
        x.add_event_handler("session_start", self._on_session)
        x.add_event_handler("failed_auth", lambda _: self._fail("authentication failed"))
        x.add_event_handler("disconnected", self._on_disconnected)
        x.connect(self.address, use_ssl=False, disable_starttls=True, force_starttls=False)
        started.set()
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            try:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            finally:
                loop.close()

    def _fail(self, why):
        self._failed = why

    def _on_stanza(self, stanza):
        # A copy: slixmpp reuses nothing, but the element must outlive the handler safely.
        self.inbox.put(Received(ET.fromstring(ET.tostring(stanza.xml))))

    async def _on_session(self, _event):
        self.bound_jid = str(self.xmpp.boundjid)
        # Initial presence makes the resource available; Prosody routes messages to a bare
        # JID only to available resources (RFC 6121 §8.5.2.1.1). The roster round trip makes
        # sure the presence was processed before the test sends anything.
        self.xmpp.send_presence()
        try:
            await self.xmpp.get_roster(timeout=5)
        except Exception as e:  # still usable; note it for failure messages
            self._failed = "roster: %s" % e
        self.sessions += 1
        self._session.set()

    def _on_disconnected(self, _reason):
        if self._closing or not self.reconnect:
            return
        # The server went away (restart): log in again; slixmpp backs off on refused connects.
        self._loop.call_later(0.2, lambda: self.xmpp.connect(
            self.address, use_ssl=False, disable_starttls=True, force_starttls=False))


class RawXmppClient:
    """XMPP over a plain TCP socket: SASL PLAIN, resource binding, then raw bytes.

    ``stanzas`` parses what the server sends (after login) into ``Received`` elements.
    """

    def __init__(self, user, domain, password, port, host="127.0.0.1", resource="raw"):
        self.user, self.domain, self.password = user, domain, password
        self.resource = resource
        self.address = (host, port)
        self.sock = None
        self.jid = None
        self.inbox = Inbox()
        self._parser = None
        self._depth = 0
        self._reader = None
        self.closed_by_server = threading.Event()
        self.raw_in = bytearray()

    def __enter__(self):
        self.login()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def login(self, timeout=10.0):
        self.sock = socket.create_connection(self.address, timeout=timeout)
        buf = self._open_stream(timeout)
        if b"PLAIN" not in buf:
            raise RuntimeError("server offers no SASL PLAIN: %r" % buf)
        token = base64.b64encode(b"\0" + self.user.encode() + b"\0" +
                                 self.password.encode()).decode()
        self.sock.sendall(("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                           "%s</auth>" % token).encode())
        buf = self._read_until(lambda b: b"<success" in b or b"<failure" in b, timeout)
        if b"<success" not in buf:
            raise RuntimeError("SASL PLAIN failed: %r" % buf)
        self._open_stream(timeout)  # RFC 6120 §6.4.6: restart after SASL
        self.sock.sendall(("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:"
                           "xmpp-bind'><resource>%s</resource></bind></iq>" %
                           escape(self.resource)).encode())
        buf = self._read_until(lambda b: re.search(rb"</iq>|<iq[^>]*/>", b), timeout)
        m = re.search(rb"<jid>([^<]+)</jid>", buf)
        if not m:
            raise RuntimeError("resource binding failed: %r" % buf)
        self.jid = m.group(1).decode()
        # From here on a pull parser splits the stream into stanzas (stream header at depth 1).
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._parser.feed(("<stream:stream xmlns='jabber:client' xmlns:stream='%s'>" %
                           STREAM_NS).encode())
        self._drain_events()
        self.sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="raw-xmpp-" + self.user)
        self._reader.start()
        return self

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send_presence(self):
        self.send("<presence/>")

    def wait_for(self, predicate, timeout=10.0):
        return self.inbox.wait_for(predicate, timeout)

    def close(self):
        if self.sock is None:
            return
        try:
            self.sock.sendall(b"</stream:stream>")
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self._reader:
            self._reader.join(3)
        self.sock = None

    # -- internals ---------------------------------------------------------------------------
    def _open_stream(self, timeout):
        self.sock.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                           "xmlns:stream='%s' to='%s' version='1.0'>" %
                           (STREAM_NS, self.domain)).encode())
        return self._read_until(lambda b: b"</stream:features>" in b or
                                b"<stream:features/>" in b, timeout)

    def _read_until(self, done, timeout):
        buf = b""
        deadline = time.monotonic() + timeout
        while not done(buf):
            if time.monotonic() > deadline:
                raise RuntimeError("timeout reading from the XMPP server; got %r" % buf)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("XMPP server closed the stream; got %r" % buf)
            if b"<stream:error" in chunk:
                raise RuntimeError("stream error: %r" % (buf + chunk))
            buf += chunk
        return buf

    def _read_loop(self):
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                self.closed_by_server.set()
                return
            self.raw_in += chunk
            try:
                self._parser.feed(chunk)
                self._drain_events()
            except ET.ParseError:
                self.closed_by_server.set()
                return

    def _drain_events(self):
        for event, elem in self._parser.read_events():
            if event == "start":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 1:
                    self.inbox.put(Received(elem))

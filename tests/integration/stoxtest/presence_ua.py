"""SIP presence user agents for the presence tests (RFC 3856 / RFC 6665), over ``sip_ua.SipUA``.

* :class:`Presentity` answers SUBSCRIBEs for its users as a notifier: 200 with a To tag, then
  NOTIFYs (pending or active, PIDF from :func:`pidf`) in each dialog; ``notify_all`` pushes a new
  state to every watcher. It also sends PUBLISH (RFC 3903) to a presence server.
* :class:`Watcher` subscribes to a URI through a next hop (the gateway or a proxy) and collects
  the NOTIFYs it receives, answering each 200 (or a chosen status).

Both run on the UA's thread; test threads use the wait_* helpers, which take timeouts.
"""

import threading
import time

from .sip import random_token
from .sip_ua import Dialog, SipUA, addr_spec, header_tag

PIDF_NS = "urn:ietf:params:xml:ns:pidf"


def pidf(entity, tuples):
    """A PIDF document; tuples: [(id, 'open'|'closed', show or None, note or None)]."""
    out = ["<?xml version='1.0' encoding='UTF-8'?>",
           "<presence xmlns='%s' entity='%s'>" % (PIDF_NS, entity)]
    for tid, basic, show, note in tuples:
        out.append("<tuple id='%s'><status><basic>%s</basic>" % (tid, basic))
        if show:
            out.append("<show xmlns='jabber:client'>%s</show>" % show)
        out.append("</status>")
        if note:
            out.append("<note>%s</note>" % note)
        out.append("</tuple>")
    out.append("</presence>")
    return "".join(out)


class _Base:
    def __init__(self, name, transport="udp"):
        self.transport = transport
        self.cond = threading.Condition()
        self.requests = []  # every request received, in order
        self.ua = SipUA(self._on_request, name=name)
        self.port = self.ua.port

    def close(self):
        self.ua.close()

    def contact(self, user):
        return "<sip:%s@127.0.0.1:%d>" % (user, self.port)

    def _record(self, msg):
        with self.cond:
            self.requests.append(msg)
            self.cond.notify_all()

    def wait_request(self, predicate, timeout=10.0, start=0):
        """The first request (from index `start`) matching predicate, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.requests[start:]:
                    if predicate(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def count(self, method):
        with self.cond:
            return sum(1 for m in self.requests if m.method == method)


class Presentity(_Base):
    """Notifier for SIP users at this UA. ``state[user]`` is the PIDF body (or None: empty)."""

    def __init__(self, users, subscription_state="active", transport="udp"):
        super().__init__("presentity", transport)
        self.users = users
        self.subscription_state = subscription_state
        self.state = {}
        self.dialogs = []  # (user, Dialog, dest)
        self.subscribe_status = 200

    def _on_request(self, msg):
        self._record(msg)
        if msg.method != "SUBSCRIBE":
            self.ua.respond(msg, 200 if msg.method in ("NOTIFY", "OPTIONS") else 405)
            return
        if self.subscribe_status != 200:
            self.ua.respond(msg, self.subscribe_status)
            return
        user = addr_spec(msg.header("To")).split(":", 1)[1].split("@", 1)[0]
        expires = int(msg.header("Expires", "3600"))
        tag = header_tag(msg.header("To"))
        call_id = msg.header("Call-ID")
        dlg = None
        for u, d, _ in self.dialogs:
            if d.call_id == call_id and d.local_tag == tag:
                dlg = d
        if dlg is None:
            tag = random_token(8)
            contact = addr_spec(msg.header("Contact"))
            dlg = Dialog(call_id, addr_spec(msg.header("To")), tag, addr_spec(msg.header("From")),
                         header_tag(msg.header("From")), contact, [], self.transport,
                         local_cseq=0, contact=self.contact(user))
            self.dialogs.append((user, dlg, None))
        self.ua.respond(msg, 200, headers=[("Expires", str(expires)),
                                            ("Contact", self.contact(user))], to_tag=tag)
        if expires == 0:
            self._notify(dlg, user, "terminated;reason=timeout")
            self.dialogs = [x for x in self.dialogs if x[1] is not dlg]
        else:
            self._notify(dlg, user, "%s;expires=%d" % (self.subscription_state, expires))

    def _notify(self, dlg, user, sub_state):
        body = self.state.get(user) or ""
        headers = dlg.headers("NOTIFY", dlg.next_cseq()) + [
            ("Event", "presence"), ("Subscription-State", sub_state)]
        if body:
            headers.append(("Content-Type", "application/pidf+xml"))
        host, port, transport = dlg.destination()
        return self.ua.send_request("NOTIFY", dlg.remote_target, headers, body,
                                    dest=(host, port), transport=transport)

    def notify_all(self, user, body, sub_state="active;expires=600"):
        """Sets the user's state and NOTIFYs every dialog of that user; returns transactions."""
        self.state[user] = body
        return [self._notify(d, u, sub_state) for u, d, _ in self.dialogs if u == user]

    def publish(self, aor, body, dest, expires=3600, etag=None):
        """RFC 3903 PUBLISH of `body` for `aor` to dest=(host, port); returns the transaction.
        ``etag``: modify the publication the SIP-ETag of an earlier 200 names (§4.4)."""
        headers = [("SIP-If-Match", etag)] if etag else []
        headers += [("From", "<%s>;tag=%s" % (aor, random_token(8))), ("To", "<%s>" % aor),
                   ("Call-ID", random_token(16) + "@pub"), ("CSeq", "1 PUBLISH"),
                   ("Event", "presence"), ("Expires", str(expires)),
                   ("Content-Type", "application/pidf+xml")]
        return self.ua.send_request("PUBLISH", aor, headers, body, dest=dest,
                                    transport=self.transport)


class Watcher(_Base):
    """Subscribes as `aor` and collects NOTIFYs (answered `notify_status`)."""

    def __init__(self, aor, transport="udp"):
        super().__init__("watcher", transport)
        self.aor = aor
        self.notify_status = 200
        self.dialog = None

    def _on_request(self, msg):
        self._record(msg)
        if msg.method == "NOTIFY" and self.dialog and self.dialog.remote_tag is None:
            self.dialog.remote_tag = header_tag(msg.header("From"))
        self.ua.respond(msg, self.notify_status if msg.method == "NOTIFY" else 200)

    def subscribe(self, target, dest, expires=3600, headers=(), new_dialog=True):
        """SUBSCRIBE to `target` via dest=(host, port); returns the final response."""
        if new_dialog or self.dialog is None:
            self.dialog = Dialog(random_token(16) + "@watcher", self.aor, random_token(8),
                                 target, None, target, [], self.transport, local_cseq=0,
                                 contact=self.contact(self.aor.split(":")[1].split("@")[0]))
        d = self.dialog
        hdrs = d.headers("SUBSCRIBE", d.next_cseq()) + [("Event", "presence"),
                                                       ("Expires", str(expires))]
        if not any(n.lower() == "accept" for n, _ in headers):
            hdrs.append(("Accept", "application/pidf+xml"))
        hdrs += list(headers)
        ruri = d.remote_target
        final = self.ua.send_request("SUBSCRIBE", ruri, hdrs, b"", dest=dest,
                                     transport=self.transport).wait(35)
        if final is not None and 200 <= final.status < 300:
            if d.remote_tag is None:
                d.remote_tag = header_tag(final.header("To"))
            if final.header("Contact"):
                d.remote_target = addr_spec(final.header("Contact"))
        return final

    def notifies(self):
        with self.cond:
            return [m for m in self.requests if m.method == "NOTIFY"]

    def wait_notify(self, predicate=lambda m: True, timeout=10.0, start=0):
        """The first NOTIFY at or after index `start` (among NOTIFYs) matching predicate."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                n = [m for m in self.requests if m.method == "NOTIFY"]
                for m in n[start:]:
                    if predicate(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

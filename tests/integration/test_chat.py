#!/usr/bin/python3
"""One-to-one chat (RFC 7573) end to end through the real chat plugin (org.stoxgw.chat): a real
Prosody with slixmpp as juliet@example.com on the XMPP side, the independent SIP + MSRP peer
(stoxtest/msrp_peer.py) as romeo@example.net on the SIP side, and once Kamailio's MSRP relay
(RFC 4976) in between.

The gateway's outbound proxy is the peer, so every INVITE the gateway sends for example.net
reaches it; the peer calls juliet by sending its INVITE straight to the gateway's SIP port.
Requirement and vector IDs (CHAT-*, MSRP-*, TV-*) are those of
/work/shared/spec/stox-sessions.md (§2 chat mapping, §6.1 test vectors).
"""

import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoxtest import base, gateway, kamailio_msrp, util  # noqa: E402
from stoxtest.msrp_peer import MsrpPeer, MsrpUri, Sdp  # noqa: E402

CHAT_PLUGIN = "org.stoxgw.chat"
ROMEO_JID = "romeo@example.net"
ROMEO_SIP = "sip:romeo@example.net"
JULIET_SIP = "sip:juliet@example.com"
RESOURCE = "balcony"
CHATSTATES_NS = "http://jabber.org/protocol/chatstates"
RECEIPTS_NS = "urn:xmpp:receipts"
ISCOMPOSING = "application/im-iscomposing+xml"

# 100 KB of XML-safe text with no CR (XML would normalise it) and no MSRP end-line inside.
BIG_TO_SIP = "".join(chr(0x21 + (i * 7) % 90) for i in range(100000)).replace("-", "x")
BIG_TO_XMPP = "".join(chr(0x30 + (i * 11) % 75) for i in range(100000)).replace("-", "y")


def _staged():
    try:
        return util.plugin_staged(CHAT_PLUGIN)
    except RuntimeError:
        return False


def new_thread():
    return "th-" + uuid.uuid4().hex[:12]


def has_child(stanza, name, ns):
    return stanza.xml.find("{%s}%s" % (ns, name)) is not None


def from_romeo(s):
    return s.name == "message" and (s.get("from") or "").split("/")[0] == ROMEO_JID


def chat_body(text=None):
    """Predicate: a type='chat' message from romeo with a body (equal to `text` if given)."""
    return lambda s: (from_romeo(s) and s.type == "chat" and s.body is not None and
                      (text is None or s.body == text))


def chat_state(state):
    return lambda s: from_romeo(s) and has_child(s, state, CHATSTATES_NS)


def error_for(mid):
    return lambda s: from_romeo(s) and s.type == "error" and s.get("id") == mid


@unittest.skipUnless(_staged(), "the chat plugin (%s) is not built: no <build>/plugins/%s/"
                     "plugin.json" % (CHAT_PLUGIN, CHAT_PLUGIN))
class ChatTestBase(base.IntegrationTestCase):
    """Prosody + stoxgw with only the chat plugin + juliet (slixmpp) + romeo (MsrpPeer)."""

    def peer(self, name="romeo", **kw):
        log = os.path.join(self.dir, name + ".log")
        p = MsrpPeer(user=name, t1=0.1, log_path=log, **kw)
        self.addCleanup(p.close)
        self._diagnostics.append(lambda: "--- peer %s (%s) ---\n%s" % (name, log,
                                                                       util.tail(log, 80)))
        return p

    def start_all(self, chat_config=None, extra=None, with_im=False, **peer_kw):
        self.romeo = self.peer(**peer_kw)
        self.prosody = self.start_prosody()
        plugins = {CHAT_PLUGIN: {"required": True, "config": chat_config or {}}}
        if with_im:  # the pager-mode plugin claims normal messages (AMB-35)
            plugins["org.stoxgw.im"] = {"required": True}
        self.gw = self.start_gateway(
            self.prosody, plugins=plugins,
            outbound_proxy="sip:127.0.0.1:%d" % self.romeo.sip_port, extra=extra)
        self.assertIn("ready: %d plugin(s) started" % len(plugins), self.gw.log)
        # Runs before the base class kills it: a gateway that died during the test, or does
        # not stop cleanly on SIGTERM, fails the test (a crash must never pass unnoticed).
        self.addCleanup(self.stop_gateway_cleanly)
        self.juliet = self.xmpp_client(self.prosody, resource=RESOURCE)

    def stop_gateway_cleanly(self):
        if not self.gw.running():
            code = self.gw._child.returncode() if self.gw._child else self.gw.exit_code
            self.fail("stoxgw died during the test (exit code %s)" % code)
        self.gw.stop()

    # -- juliet ------------------------------------------------------------------------------
    def send_chat(self, body=None, thread=None, extra="", mid=None):
        return self.juliet.send_message(ROMEO_JID, body, mtype="chat", thread=thread,
                                        extra=extra, mid=mid)

    def send_state(self, state, thread):
        return self.send_chat(None, thread, extra="<%s xmlns='%s'/>" % (state, CHATSTATES_NS))

    def juliet_gets(self, pred, what, timeout=10):
        return self.assertStanza(self.juliet.wait_for(pred, timeout), what)

    def assert_juliet_gets_nothing(self, pred, timeout=1.0, what="stanza"):
        s = self.juliet.wait_for(pred, timeout)
        self.assertIsNone(s, "juliet got an unexpected %s: %s" % (what, s))

    # -- sessions ----------------------------------------------------------------------------
    def open_x2s(self, first="Art thou not Romeo, and a Montague?", thread=None):
        """juliet writes first (RFC 7573 §4): returns (thread, peer call, first message)."""
        thread = thread or new_thread()
        self.send_chat(first, thread)
        call = self.romeo.wait_call(timeout=10)
        self.assertIsNotNone(call, "no INVITE reached the SIP peer")
        self.assertTrue(call.wait_established(5), "the peer did not answer")
        self.assertIsNotNone(call.wait_request("ACK", timeout=5), "no ACK for the 200")
        self.assertTrue(call.wait_msrp(5), "MSRP session not connected")
        msg = call.wait_message(timeout=10)
        self.assertIsNotNone(msg, "the first message did not arrive over MSRP")
        self.assertEqual(msg.text, first)
        return thread, call, msg

    def open_s2x(self, first="Neither, fair saint, if either thee dislike.", **invite_kw):
        """romeo calls juliet (RFC 7573 §5): returns (peer call, juliet's first stanza)."""
        call = self.romeo.invite(JULIET_SIP, port=self.gw.sip_port, from_uri=ROMEO_SIP,
                                 **invite_kw)
        resp = call.wait_final(timeout=10)
        self.assertIsNotNone(resp, "the gateway did not answer the INVITE")
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(call.wait_msrp(5), "MSRP session not connected")
        call.send_text(first)
        got = self.juliet_gets(chat_body(first), "the peer's first message at juliet")
        return call, got

    def invites(self):
        return [r for r in self.romeo.requests.history if r.method == "INVITE"]

    def barrier_invite(self):
        """A message to another SIP user opens a second session: once its INVITE reaches the
        peer, every stanza juliet sent before it has been handled by the gateway (one ordered
        c2s stream, one component stream). The call is refused (the bounce is consumed)."""
        before = self.romeo.answer
        self.romeo.answer = None
        mid = self.juliet.send_message("nobody@example.net", "barrier", mtype="chat",
                                       thread=new_thread())
        call = self.romeo.wait_call(timeout=10)
        self.assertIsNotNone(call, "barrier INVITE did not arrive")
        self.romeo.answer = before
        return call, mid


class ChatX2STest(ChatTestBase):
    """XMPP-initiated sessions (RFC 7573 §4, ladder §2.4)."""

    # TV-01, TV-02, CHAT-4/5/6, COMMON-1, MSRP-31: the first message opens the session, later
    # ones of the same conversation reuse it (one INVITE only), the reply comes back threaded.
    def test_tv01_tv02_first_message_invites_then_same_session(self):
        self.start_all()
        thread, call, first = self.open_x2s()
        inv = call.invite
        self.assertTrue(inv.request_uri.startswith(ROMEO_SIP), inv.request_uri)
        self.assertEqual(inv.header("Call-ID"), thread)  # CHAT-5: Call-ID = <thread/>
        self.assertIn("<%s>" % JULIET_SIP, inv.header("From"))
        self.assertIn(";tag=", inv.header("From"))
        self.assertIn(";gr=%s" % RESOURCE, inv.header("Contact"))  # COMMON-1
        sdp = Sdp(inv.body)
        self.assertEqual(sdp.valid_msrp(), "")
        self.assertEqual(sdp.media[0], "message")
        self.assertEqual(sdp.media[2], "TCP/MSRP")
        path = MsrpUri.parse(sdp.path[-1])
        self.assertEqual(sdp.media[1], path.port)  # TV-01: m= port = path port
        self.assertEqual(sdp.connection.split()[-1], path.host)  # c= host = path host
        self.assertEqual(path.transport.lower(), "tcp")
        self.assertGreaterEqual(len(path.session_id or ""), 14)  # >= 80 random bits
        self.assertIn("text/plain", sdp.accept_types)
        self.assertIn(ISCOMPOSING, sdp.accept_types)
        self.assertEqual(sdp.setup, "actpass")  # MSRP-31
        # TV-02: ACK with the INVITE's CSeq number; strict profile SEND headers.
        ack = [r for r in call.sip_requests.history if r.method == "ACK"][0]
        self.assertEqual(ack.header("CSeq").split()[0], inv.header("CSeq").split()[0])
        self.assertEqual(first.failure_report, "no")  # CHAT-16
        self.assertFalse(first.success_report)
        self.assertEqual(first.mime_type, "text/plain")
        # Second and third message: same session, in order, no new INVITE.
        self.send_chat("It is my lady, O, it is my love!", thread)
        self.send_chat("O, that she knew she were!", thread)
        for text in ("It is my lady, O, it is my love!", "O, that she knew she were!"):
            msg = call.wait_message(timeout=10)
            self.assertIsNotNone(msg, "%r did not arrive" % text)
            self.assertEqual(msg.text, text)
        self.assertEqual(len(self.invites()), 1, "a second INVITE for the same conversation")
        self.assertEqual(len(self.romeo.calls), 1)
        # The reply travels back on the same session, threaded (CHAT-7).
        call.send_text("She speaks, yet she says nothing.")
        got = self.juliet_gets(chat_body("She speaks, yet she says nothing."), "romeo's reply")
        self.assertEqual(got.type, "chat")
        self.assertEqual(got.thread, thread)
        self.assertEqual(got.get("to"), "juliet@example.com/" + RESOURCE)  # AMB-2: locked
        self.assertEqual(self.romeo.msrp_errors, [])

    # CHAT-6, §2.3.1: messages sent while the INVITE is pending are queued and sent in order
    # once the session is up.
    def test_chat6_messages_during_pending_invite_arrive_in_order(self):
        self.start_all(answer=None)
        thread = new_thread()
        texts = ["queued %d: %s" % (i, "abcdefghij" * i) for i in range(1, 6)]
        for t in texts:
            self.send_chat(t, thread)
        call = self.romeo.wait_call(timeout=10)
        self.assertIsNotNone(call, "no INVITE")
        barrier, barrier_mid = self.barrier_invite()  # all five are queued at the gateway now
        barrier.reject(480)
        self.juliet_gets(lambda s: s.type == "error" and s.get("id") == barrier_mid,
                         "the barrier's bounce")
        self.assertEqual(call.state, "early", "the first INVITE must still be pending")
        call.answer(200)
        self.assertTrue(call.wait_msrp(5), "MSRP not connected after the answer")
        got = [call.wait_message(timeout=10) for _ in texts]
        self.assertEqual([m.text if m else None for m in got], texts)
        self.assertEqual(len([r for r in self.invites()
                              if r.header("Call-ID") == thread]), 1)
        self.assert_juliet_gets_nothing(lambda s: s.type == "error", 0.5, "error")

    # TV-25, AMB-5: a <thread/> that is no valid Call-ID gets a generated Call-ID; the peer's
    # replies carry the original thread.
    def test_tv25_thread_not_a_call_id(self):
        self.start_all()
        thread = "project plan / Q3 %s" % uuid.uuid4().hex[:6]
        _, call, _ = self.open_x2s("x", thread=thread)
        call_id = call.invite.header("Call-ID")
        self.assertNotEqual(call_id, thread)
        # RFC 3261 §25.1: callid = word ["@" word]
        self.assertRegex(call_id, r"^[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
                                  r"(@[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+)?$")
        call.send_text("y")
        got = self.juliet_gets(chat_body("y"), "the reply")
        self.assertEqual(got.thread, thread)

    # §2.3.5 / README limits: the queue of a pending session is bounded (max_queued_messages,
    # <resource-constraint/>), and an unanswered INVITE ends in <remote-server-timeout/> for
    # every queued message (invite_timeout_s). Nothing is dropped silently.
    def test_pending_queue_limit_and_invite_timeout(self):
        self.start_all(chat_config={"max_queued_messages": 2, "invite_timeout_s": 5},
                       answer=None)
        thread = new_thread()
        m1 = self.send_chat("one", thread)
        m2 = self.send_chat("two", thread)
        m3 = self.send_chat("three", thread)
        self.assertIsNotNone(self.romeo.wait_call(timeout=10), "no INVITE")
        err = self.juliet_gets(error_for(m3), "resource-constraint for the third message")
        self.assertEqual(err.error_condition()[1], "resource-constraint")
        started = time.monotonic()
        for mid in (m1, m2):
            err = self.juliet_gets(error_for(mid), "timeout error for %s" % mid, timeout=12)
            self.assertEqual(err.error_condition()[1], "remote-server-timeout", err)
        self.assertLess(time.monotonic() - started, 8)

    # TV-02 variant (RFC 6135 §4.2.2): the peer answers a=setup:active, so it connects and the
    # gateway waits for its first SEND before sending the queued message.
    def test_tv02_variant_peer_answers_active(self):
        self.start_all(setup_answer="active")
        thread, call, _ = self.open_x2s("Wherefore art thou Romeo?")
        self.assertEqual(call.msrp_role, "active")
        self.assertTrue(call.conn.outgoing, "the peer (active) must have opened the connection")
        call.send_text("Call me but love.")
        got = self.juliet_gets(chat_body("Call me but love."), "reply over the peer's connection")
        self.assertEqual(got.thread, thread)


class ChatS2XTest(ChatTestBase):
    """SIP-initiated sessions (RFC 7573 §5, ladder §2.5)."""

    # TV-03, TV-05, CHAT-7/8, MSRP-28/32: the INVITE is answered 200 with an MSRP answer; SENDs
    # become chat messages threaded by Call-ID; juliet's reply goes back on the same session.
    def test_tv03_tv05_invite_answered_sends_reach_juliet_reply_on_same_session(self):
        self.start_all()
        call, got = self.open_s2x()
        sdp = call.remote_sdp
        self.assertEqual(sdp.setup, "passive")  # actpass offer -> passive (MSRP-32)
        self.assertIsNotNone(sdp.max_size, "no a=max-size in the answer (CHAT-18)")
        self.assertEqual(call.msrp_role, "active")
        self.assertEqual(got.type, "chat")
        self.assertEqual(got.thread, call.call_id)  # CHAT-7
        self.assertEqual(got.get("to"), "juliet@example.com")  # bare until juliet writes
        self.assertEqual(got.get("from").split("/")[0], ROMEO_JID)
        # TV-26 reverse: Content-Language -> xml:lang.
        call.send_message("Ahoj", "text/plain", headers=[("Content-Language", "cs")])
        cs = self.juliet_gets(chat_body("Ahoj"), "the Czech message")
        self.assertEqual(cs.lang, "cs")
        # TV-15: a CPIM-wrapped message is unwrapped.
        call.send_cpim("See you soon")
        self.juliet_gets(chat_body("See you soon"), "the CPIM-wrapped message")
        # Juliet's reply: same session, no INVITE from the gateway.
        self.send_chat("Thou knowest the mask of night is on my face.", call.call_id)
        msg = call.wait_message(timeout=10)
        self.assertIsNotNone(msg, "juliet's reply did not reach the peer")
        self.assertEqual(msg.text, "Thou knowest the mask of night is on my face.")
        self.send_chat("Else would a maiden blush bepaint my cheek.")  # no thread: AMB-5
        msg = call.wait_message(timeout=10)
        self.assertIsNotNone(msg, "juliet's threadless reply did not reach the peer")
        self.assertEqual(msg.text, "Else would a maiden blush bepaint my cheek.")
        self.assertEqual(self.invites(), [], "the gateway sent an INVITE for a live session")
        self.assertEqual(len(self.romeo.calls), 1)

    # TV-14: an offer whose accept-types have no text at all is refused with 488.
    def test_tv14_offer_without_text_gets_488(self):
        self.start_all(accept_types=("image/jpeg", "application/octet-stream"),
                       accept_wrapped_types=())
        call = self.romeo.invite(JULIET_SIP, port=self.gw.sip_port, from_uri=ROMEO_SIP)
        resp = call.wait_final(timeout=10)
        self.assertIsNotNone(resp)
        self.assertEqual(resp.status, 488, resp)
        self.assert_juliet_gets_nothing(from_romeo, 0.5)


class ChatChunkingTest(ChatTestBase):
    """CHAT-17/18/19, MSRP-12/19: large messages."""

    # CHAT-17, CHAT-18, MSRP-19: a 100 KB message both ways, chunked, with the limits raised
    # (max_message_bytes; the component's stanza limit; Prosody's defaults are 256 KB c2s and
    # 512 KB component, so they need no change).
    def test_chat17_chunked_100kb_both_ways(self):
        self.start_all(chat_config={"max_message_bytes": 262144},
                       extra={"xmpp": {"component": {"max_stanza_bytes": 1048576}}})
        call, _ = self.open_s2x()
        self.assertEqual(call.remote_sdp.max_size, 262144)
        out = call.send_message(BIG_TO_XMPP, "text/plain", chunk_size=4096)
        self.assertEqual(out.wait_responses(15), [200] * -(-len(BIG_TO_XMPP) // 4096))
        got = self.juliet_gets(chat_body(), "the 100 KB message at juliet", timeout=20)
        self.assertEqual(len(got.body), len(BIG_TO_XMPP))
        self.assertEqual(got.body, BIG_TO_XMPP)
        self.send_chat(BIG_TO_SIP, call.call_id)
        msg = call.wait_message(timeout=20)
        self.assertIsNotNone(msg, "juliet's 100 KB message did not reach the peer")
        self.assertEqual(len(msg.body), len(BIG_TO_SIP))
        self.assertEqual(msg.text, BIG_TO_SIP)
        self.assertGreater(msg.chunks, 1, "100 KB must be chunked (MSRP-12)")
        self.assertEqual(self.romeo.msrp_errors, [])

    # CHAT-17, MSRP-19 under load: several chunked messages back to back from the peer while
    # juliet writes too, so that the gateway's MSRP socket has reads and writes pending at
    # once. The gateway must stay up and deliver every message in order.
    def test_chat17_chunked_burst_gateway_survives(self):
        self.start_all(chat_config={"max_message_bytes": 65536})
        call, _ = self.open_s2x()
        texts = ["%02d:" % i + BIG_TO_XMPP[i * 100:i * 100 + 12000] for i in range(8)]
        for i, t in enumerate(texts):
            call.send_message(t, "text/plain", chunk_size=2048)
            self.send_chat("ack %d" % i, call.call_id)
        for i, t in enumerate(texts):
            got = self.juliet.wait_for(chat_body(), 15)
            self.assertIsNotNone(got, "message %d of the burst did not arrive (gateway alive: "
                                 "%s)" % (i, self.gw.running()))
            self.assertEqual(got.body, t, "message %d out of order or damaged" % i)
        for i in range(8):
            m = call.wait_message(timeout=10)
            self.assertIsNotNone(m, "juliet's 'ack %d' did not arrive" % i)
            self.assertEqual(m.text, "ack %d" % i)
        self.assertTrue(self.gw.running(), "stoxgw died during the burst")

    # CHAT-19 / TV-12 / AMB-33: over the limit: 413 from the gateway, no stanza; juliet's
    # oversize message gets <policy-violation/>.
    def test_chat19_oversize_both_ways(self):
        self.start_all()  # max_message_bytes default 8192
        call, _ = self.open_s2x()
        self.assertEqual(call.remote_sdp.max_size, 8192)
        out = call.send_message("z" * 20000, "text/plain", chunk_size=4096)
        statuses = out.wait_responses(5)
        self.assertIn(413, statuses, statuses)
        self.assertEqual(out.stopped_by, 413)
        self.assert_juliet_gets_nothing(chat_body(), 1.0, "oversize message")
        mid = self.send_chat("w" * 9000, call.call_id)
        err = self.juliet_gets(error_for(mid), "policy-violation for juliet's 9000 bytes")
        self.assertEqual(err.error_condition()[1], "policy-violation")
        # The session still works.
        self.send_chat("small again", call.call_id)
        msg = call.wait_message(timeout=10)
        self.assertIsNotNone(msg)
        self.assertEqual(msg.text, "small again")


class ChatStatesTest(ChatTestBase):
    """CHAT-11/12, RFC 7573 §6 Tables 3/4 (digest §2.3.3)."""

    # TV-16, TV-18: composing -> isComposing active; paused -> idle; inactive -> nothing more.
    def test_tv16_tv18_composing_to_iscomposing_when_accepted(self):
        self.start_all()
        thread, call, _ = self.open_x2s()
        self.send_state("composing", thread)
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m, "no isComposing for <composing/>")
        self.assertEqual(m.mime_type, ISCOMPOSING)
        self.assertEqual(m.iscomposing["state"], "active")
        self.assertEqual(m.failure_report, "no")
        self.send_state("paused", thread)
        self.send_state("inactive", thread)  # TV-18: already idle, nothing
        self.send_chat("after the states", thread)
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m, "no isComposing idle for <paused/>")
        self.assertEqual(m.mime_type, ISCOMPOSING)
        self.assertEqual(m.iscomposing["state"], "idle")
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m)
        self.assertEqual((m.mime_type, m.text), ("text/plain", "after the states"),
                         "a second idle was sent for <inactive/> (TV-18)")

    # TV-16 negative (MSRP-27): a peer whose accept-types (and wrapped types) lack isComposing
    # gets none; the message after the state proves nothing was sent in between.
    def test_tv16_no_iscomposing_when_not_accepted(self):
        self.start_all(accept_types=("text/plain", "message/cpim"),
                       accept_wrapped_types=("text/plain",))
        thread, call, _ = self.open_x2s()
        self.send_state("composing", thread)
        self.send_state("active", thread)
        self.send_chat("no states before me", thread)
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m)
        self.assertEqual((m.mime_type, m.text), ("text/plain", "no states before me"))
        self.assertEqual(len(call.rejected), 0, "the gateway sent a type we did not accept")

    # MSRP-27 / RFC 3994 §3.2: isComposing only in accept-wrapped-types -> CPIM-wrapped.
    def test_iscomposing_cpim_wrapped_when_only_wrapped_accepted(self):
        self.start_all(accept_types=("text/plain", "message/cpim"),
                       accept_wrapped_types=("text/plain", ISCOMPOSING))
        thread, call, _ = self.open_x2s()
        self.send_state("composing", thread)
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m, "no (wrapped) isComposing")
        self.assertEqual(m.mime_type, "message/cpim")
        self.assertEqual(m.iscomposing["state"], "active")

    # TV-17, CHAT-11 Table 3: isComposing active -> <composing/>, idle -> <active/>.
    def test_tv17_iscomposing_to_chat_states(self):
        self.start_all()
        call, _ = self.open_s2x()
        call.send_iscomposing("active", refresh=60)
        c = self.juliet_gets(chat_state("composing"), "<composing/>")
        self.assertIsNone(c.body)
        self.assertEqual(c.thread, call.call_id)
        self.assertEqual(c.type, "chat")
        call.send_iscomposing("idle")
        a = self.juliet_gets(chat_state("active"), "<active/>")
        self.assertIsNone(a.body)
        self.assertEqual(a.thread, call.call_id)


class ChatReceiptsTest(ChatTestBase):
    """CHAT-15, digest §2.3.4."""

    # TV-21: <request/> -> Success-Report: yes; the peer's success REPORT -> <received id/>.
    def test_tv21_receipt_request_to_success_report_and_back(self):
        self.start_all()
        thread, call, _ = self.open_x2s()
        mid = self.send_chat("Meeting moved to 3pm.", thread,
                             extra="<request xmlns='%s'/>" % RECEIPTS_NS)
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m)
        self.assertEqual(m.text, "Meeting moved to 3pm.")
        self.assertTrue(m.success_report, "no Success-Report: yes for <request/>")
        self.assertEqual(m.failure_report, "no")
        rec = self.juliet_gets(lambda s: from_romeo(s) and has_child(s, "received", RECEIPTS_NS),
                               "<received/> for the success REPORT")
        self.assertEqual(rec.xml.find("{%s}received" % RECEIPTS_NS).get("id"), mid)
        self.assertIsNone(rec.body)

    # TV-22: Success-Report: yes -> <request/>; juliet's <received/> -> REPORT 000 200.
    # The receipt is a typeless (normal) message: the chat plugin's payload claim (first child
    # in urn:xmpp:receipts) wins over the pager-mode plugin's claim of normal messages, which is
    # loaded too (both plugins together: their claims do not conflict).
    def test_tv22_success_report_request_to_receipt_and_report(self):
        self.start_all(with_im=True)
        call, _ = self.open_s2x()
        out = call.send_message("Ahoj", "text/plain", success_report=True)
        got = self.juliet_gets(chat_body("Ahoj"), "the message asking for a receipt")
        self.assertTrue(has_child(got, "request", RECEIPTS_NS), "no <request/> (CHAT-15)")
        self.assertIsNone(out.wait_report(0.5), "REPORT before juliet's receipt (mode receipt)")
        # XEP-0184 §5 / TV-22 input 2: the receipt is a message without type.
        self.juliet.send_raw("<message to='%s' id='rcpt-%s'><received xmlns='%s' id='%s'/>"
                             "</message>" % (got.get("from"), uuid.uuid4().hex[:8],
                                             RECEIPTS_NS, got.get("id")))
        report = out.wait_report(timeout=10)
        self.assertIsNotNone(report, "no success REPORT after juliet's <received/>")
        self.assertEqual(report.header("Status"), "000 200 OK")
        self.assertEqual(report.message_id, out.message_id)
        self.assertEqual(report.header("Byte-Range"), "1-4/4")

    # TV-22 as clients that copy the type of the original send it: <received/> in a
    # type='chat' message (the type the plugin claims).
    def test_tv22_receipt_in_chat_message_to_report(self):
        self.start_all()
        call, _ = self.open_s2x()
        out = call.send_message("Ahoj", "text/plain", success_report=True)
        got = self.juliet_gets(chat_body("Ahoj"), "the message asking for a receipt")
        self.assertTrue(has_child(got, "request", RECEIPTS_NS), "no <request/> (CHAT-15)")
        self.juliet.send_raw("<message to='%s' type='chat' id='rcpt-%s'><received xmlns='%s' "
                             "id='%s'/></message>" % (got.get("from"), uuid.uuid4().hex[:8],
                                                      RECEIPTS_NS, got.get("id")))
        report = out.wait_report(timeout=10)
        self.assertIsNotNone(report, "no success REPORT after juliet's <received/>")
        self.assertEqual(report.header("Status"), "000 200 OK")
        self.assertEqual(report.message_id, out.message_id)
        self.assertEqual(report.header("Byte-Range"), "1-4/4")


class ChatTeardownTest(ChatTestBase):
    """CHAT-9/10/12/13: BYE <-> <gone/>."""

    # TV-20: the peer's BYE -> 200 + <gone/>; juliet's next message opens a new session with a
    # new Call-ID (the old one is not reused).
    def test_tv20_peer_bye_gives_gone_and_next_message_opens_new_session(self):
        self.start_all()
        thread, call, _ = self.open_x2s()
        resp = call.bye()
        self.assertIsNotNone(resp, "no answer to BYE")
        self.assertEqual(resp.status, 200)
        gone = self.juliet_gets(chat_state("gone"), "<gone/> after the BYE")
        self.assertEqual(gone.thread, thread)
        self.send_chat("Art thou gone so?", thread)
        call2 = self.romeo.wait_call(timeout=10)
        self.assertIsNotNone(call2, "no new INVITE after the session ended")
        self.assertNotEqual(call2.call_id, call.call_id, "TV-20: the Call-ID was reused")
        self.assertTrue(call2.wait_msrp(5))
        m = call2.wait_message(timeout=10)
        self.assertIsNotNone(m)
        self.assertEqual(m.text, "Art thou gone so?")
        call2.send_text("I am here.")
        back = self.juliet_gets(chat_body("I am here."), "reply on the new session")
        self.assertEqual(back.thread, thread, "the original thread must be kept (TV-25 table)")

    # TV-19: juliet's <gone/> -> in-dialog BYE; the session is gone at the peer.
    def test_tv19_gone_from_juliet_sends_bye(self):
        self.start_all()
        thread, call, _ = self.open_x2s()
        self.send_state("gone", thread)
        bye = call.wait_request("BYE", timeout=10)
        self.assertIsNotNone(bye, "no BYE for <gone/>")
        self.assertEqual(bye.header("Call-ID"), call.call_id)
        self.assertEqual(bye.header("CSeq").split()[1], "BYE")
        self.assertIsNotNone(call.dialog.remote_tag)
        self.assertIn("tag=%s" % call.dialog.local_tag, bye.header("To"))
        self.assertTrue(call.wait_terminated(5))
        self.assert_juliet_gets_nothing(lambda s: from_romeo(s) and s.type == "error", 0.5,
                                        "error")

    # TV-19 S2X: juliet's <gone/> also ends a session the SIP side opened.
    def test_tv19_gone_ends_sip_initiated_session(self):
        self.start_all()
        call, _ = self.open_s2x()
        self.send_state("gone", call.call_id)
        self.assertIsNotNone(call.wait_request("BYE", timeout=10), "no BYE for <gone/>")


class ChatFailureTest(ChatTestBase):
    """§2.3.5: lost connections, bad frames, refused INVITEs, MSRP errors; never silence."""

    def wait_delivered_or_error(self, text, mid, timeout=15):
        """Never silence: the peer gets `text` (on any call) or juliet gets an error for mid.
        Returns ('delivered', message) or ('error', stanza)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.gw.running():
            m = self.romeo.wait_message(timeout=0.2, pred=lambda m: m.text == text)
            if m is not None:
                return "delivered", m
            e = self.juliet.wait_for(error_for(mid), 0.05)
            if e is not None:
                return "error", e
        self.assertTrue(self.gw.running(), "stoxgw died before %r was delivered" % text)
        self.fail("silence: %r was neither delivered nor bounced within %.0f s" %
                  (text, timeout))

    # MSRP-22, §2.3.5: the peer drops the MSRP connection (RST): one re-INVITE with a new path
    # and the next message arrives, or juliet gets an error. Never silence.
    def test_msrp22_connection_drop_reinvite_or_error(self):
        self.start_all()
        thread, call, _ = self.open_x2s()
        call.drop(rst=True)
        mid = self.send_chat("Are you still there?", thread)
        outcome, _ = self.wait_delivered_or_error("Are you still there?", mid)
        if outcome == "delivered":
            # The plugin documents recovery by one re-INVITE with a new path (README).
            self.assertTrue([r for r in call.sip_requests.history if r.method == "INVITE"],
                            "delivered without a re-INVITE after the connection loss")
        mid2 = self.send_chat("And now?", thread)
        self.wait_delivered_or_error("And now?", mid2)
        self.assertTrue(self.gw.running())

    # MSRP-22 with the gateway as the passive side (S2X): the peer's connection drops.
    def test_msrp22_connection_drop_s2x_reinvite_or_error(self):
        self.start_all()
        call, _ = self.open_s2x()
        call.drop(rst=True)
        mid = self.send_chat("Romeo?", call.call_id)
        self.wait_delivered_or_error("Romeo?", mid)
        self.assertTrue(self.gw.running())

    # MSRP-4/18, RFC 4975 §7.3: malformed frames from the peer get an error response or the
    # connection is closed; the gateway stays up and juliet's next message is delivered or
    # bounced.
    def test_malformed_msrp_frames_gateway_survives(self):
        self.start_all()
        for kind in ("bad_byte_range", "unknown_method", "header_no_colon", "bad_first_line",
                     "no_to_path", "wrong_to_path", "garbage"):
            with self.subTest(kind=kind):
                self.assertTrue(self.gw.running(), "stoxgw died before %s" % kind)
                # XMPP-initiated: after a close, the gateway re-INVITEs and connects again
                # itself (with the peer as the active side, the peer's own re-INVITE answer
                # races with its noticing the close; see the report).
                thread, call, _ = self.open_x2s("before %s" % kind)
                conn = call.conn
                tid = "malformed%d" % len(kind)
                call.send_raw(kind, tid=tid)
                # The answer to this frame (bad_first_line has its own tid "ab").
                def answered():
                    return [f for f in self.romeo.unmatched_responses.history
                            if f.tid in (tid, "ab")]
                util.wait_until(lambda: answered() or conn.closed.is_set(), 3)
                resp = (answered() or [None])[0]
                closed = conn.closed.is_set()
                self.assertTrue(resp is not None or closed,
                                "%s: neither an error response nor a closed connection" % kind)
                if resp is not None:
                    self.assertGreaterEqual(resp.status, 400, resp)
                self.assertTrue(self.gw.running(), "the gateway died on %s" % kind)
                self.assert_juliet_gets_nothing(chat_body("hello"), 0.3,
                                                "body of the malformed frame")
                mid = self.send_chat("after %s" % kind, thread)
                self.wait_delivered_or_error("after %s" % kind, mid)
                call.bye()
        self.assertTrue(self.gw.running())

    # TV-28, COMMON-9 (RFC 7247 §7 Table 3): a refused INVITE bounces every queued message with
    # the mapped condition (strict profile: 488 -> not-acceptable, no page-mode fallback).
    def test_tv28_refused_invite_maps_to_xmpp_error(self):
        self.start_all()
        expected = {486: ("recipient-unavailable", "wait"), 603: ("recipient-unavailable", None),
                    488: ("not-acceptable", None), 404: ("item-not-found", None)}
        for status, (condition, etype) in expected.items():
            with self.subTest(status=status):
                # The core's own table agrees with the digest's (stoxgw map-error).
                self.assertEqual(gateway.map_error(str(status))[0], condition)
                self.romeo.answer = status
                thread = new_thread()
                m1 = self.send_chat("first %d" % status, thread)
                m2 = self.send_chat("second %d" % status, thread)
                for mid in (m1, m2):
                    err = self.juliet_gets(error_for(mid), "error for %s (%d)" % (mid, status))
                    self.assertEqual(err.error_condition()[1], condition, err)
                    if etype:
                        self.assertEqual(err.error_condition()[0], etype, err)
                    self.assertEqual(err.get("to"), "juliet@example.com/" + RESOURCE)
        self.assertEqual(self.romeo.messages.history, [])

    # TV-27 (robust profile, failure_report partial, AMB-3): MSRP 413/415 responses to the
    # gateway's SEND -> policy-violation / not-acceptable to juliet; the session survives.
    def test_tv27_msrp_error_responses_map_to_xmpp_errors(self):
        self.start_all(chat_config={"failure_report": "partial"})
        thread, call, first = self.open_x2s()
        self.assertEqual(first.failure_report, "partial")
        for status, condition in ((413, "policy-violation"), (415, "not-acceptable")):
            with self.subTest(status=status):
                call.msrp_status = status
                mid = self.send_chat("refused with %d" % status, thread)
                err = self.juliet_gets(error_for(mid), "error for the %d" % status)
                self.assertEqual(err.error_condition()[1], condition, err)
        call.msrp_status = 200
        self.send_chat("accepted again", thread)
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m, "the session did not survive the MSRP errors")
        self.assertEqual(m.text, "accepted again")


class ChatLoadTest(ChatTestBase):
    """The chat plugin under sustained load through the loaded stox_chat.so."""

    S2X_COUNT = 2000
    X2S_COUNT = 200

    # CHAT-7/8, MSRP-19 under load: 2,000 SENDs from the SIP side as fast as the peer writes
    # them, on one session, with 200 of juliet's messages going the other way meanwhile. Every
    # message arrives, in order, every SEND is answered 200 (RFC 4975 §7.1.1) and stoxgw stays
    # up. This is the load that crashed the gateway within seconds while the plugin ran its own
    # copy of Asio on the core's io_context (SIGSEGV in compensating_work_started, fixed in
    # 3b2c562): bytes arriving on an MSRP connection whose read handler is still queued.
    def test_load_2000_s2x_and_200_x2s_on_one_session(self):
        self.start_all()
        call, _ = self.open_s2x("warm-up")
        t0 = time.monotonic()
        outs = []
        every = self.S2X_COUNT // self.X2S_COUNT
        for i in range(self.S2X_COUNT):
            outs.append(call.send_text("s2x %04d" % i))
            if i % every == 0:
                self.send_chat("x2s %03d" % (i // every), call.call_id)
        for i in range(self.S2X_COUNT):
            got = self.juliet.wait_for(chat_body(), 10)
            self.assertIsNotNone(got, "SIP->XMPP message %d of %d did not arrive (stoxgw alive: "
                                 "%s)" % (i, self.S2X_COUNT, self.gw.running()))
            self.assertEqual(got.body, "s2x %04d" % i, "SIP->XMPP message out of order")
            self.assertEqual(got.thread, call.call_id)
        for i in range(self.X2S_COUNT):
            m = call.wait_message(timeout=10)
            self.assertIsNotNone(m, "XMPP->SIP message %d of %d did not arrive (stoxgw alive: "
                                 "%s)" % (i, self.X2S_COUNT, self.gw.running()))
            self.assertEqual(m.text, "x2s %03d" % i, "XMPP->SIP message out of order")
        elapsed = time.monotonic() - t0
        codes = [c for o in outs for c in o.wait_responses(5)]
        self.assertEqual(len(codes), self.S2X_COUNT, "SENDs left unanswered")
        self.assertEqual(set(codes), {200})
        self.assertIsNone(self.juliet.wait_for(lambda s: s.type == "error", 0.2),
                          "juliet got an error stanza")
        self.assertEqual(self.romeo.msrp_errors, [])
        self.assertTrue(self.gw.running(), "stoxgw died under load")
        # Still usable afterwards: one more message each way.
        call.send_text("after the burst")
        self.juliet_gets(chat_body("after the burst"), "a message after the burst")
        self.send_chat("still here", call.call_id)
        m = call.wait_message(timeout=10)
        self.assertIsNotNone(m)
        self.assertEqual(m.text, "still here")
        print("\n[load] %d + %d messages in %.1f s" % (self.S2X_COUNT, self.X2S_COUNT, elapsed),
              file=sys.stderr)


class ChatRelayTest(ChatTestBase):
    """RFC 4976: the peer is behind Kamailio's MSRP relay; the gateway is a plain RFC 4975
    endpoint that connects to the first URI of the peer's path (MSRP-25)."""

    def setUp(self):
        kamailio_msrp.require_kamailio_msrp()  # SkipTest with the reason
        super().setUp()

    # MSRP-25, CHAT-4/8: messages both ways (a chunked one too, chunks < 10 KB for Kamailio)
    # with romeo behind the relay, sessions opened from each side.
    def test_relay_peer_behind_kamailio_both_ways(self):
        relay = kamailio_msrp.KamailioMsrpRelay(os.path.join(self.dir, "kamailio"))
        self.addCleanup(relay.stop)
        self._diagnostics.append(relay.logs)
        relay.start()
        self.start_all(chat_config={"max_message_bytes": 65536}, relay=relay)
        # XMPP-initiated: the INVITE's answer carries a=path relay + romeo.
        thread, call, _ = self.open_x2s("Through the relay, Romeo.")
        self.assertEqual(len(call.use_path), 1)
        self.assertEqual(len(call.remote_path), 1)  # the gateway's own path
        call.send_text("Through the relay, Juliet.")
        got = self.juliet_gets(chat_body("Through the relay, Juliet."), "reply via the relay")
        self.assertEqual(got.thread, thread)
        big = BIG_TO_XMPP[:30000]
        call.send_message(big, "text/plain", chunk_size=4096)
        got = self.juliet_gets(chat_body(), "30 KB via the relay", timeout=15)
        self.assertEqual(got.body, big)
        self.send_chat(BIG_TO_SIP[:30000], thread)
        m = call.wait_message(timeout=15)
        self.assertIsNotNone(m, "30 KB from juliet did not arrive via the relay")
        self.assertEqual(m.text, BIG_TO_SIP[:30000])
        # SIP-initiated through the relay as well.
        call2, got2 = self.open_s2x("A second session via the relay.")
        self.assertEqual(len(call2.use_path), 1)
        self.send_chat("Answered via the relay.", call2.call_id)
        m = call2.wait_message(timeout=10)
        self.assertIsNotNone(m)
        self.assertEqual(m.text, "Answered via the relay.")
        # Everything really went through Kamailio.
        self.assertGreaterEqual(relay.log_text().count("msrp-in SEND"), 4)
        self.assertTrue(all(c.outgoing for c in self.romeo._conns),
                        "someone connected to romeo's listener: the relay was bypassed")
        self.assertEqual(self.romeo.msrp_errors, [])


if __name__ == "__main__":
    base.main()

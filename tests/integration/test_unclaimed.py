#!/usr/bin/python3
"""The core alone (no plugin on the plugin path): what nobody claims is refused, never
dropped (docs/architecture.md "Nothing lost, nothing silent"), and bad SIP input never stops
the gateway from serving."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoxtest import base, sip  # noqa: E402

ROMEO = "romeo@example.net"


class UnclaimedTest(base.IntegrationTestCase):

    def setUp(self):
        super().setUp()
        self.prosody = self.start_prosody()
        self.gw = self.start_gateway(self.prosody, plugin_path=self.empty_plugin_dir())
        self.assertIn("ready: 0 plugin(s) started", self.gw.log)

    def assert_options_ok(self, transport="udp", what="OPTIONS"):
        """The gateway still serves: OPTIONS is answered 200 by the core (RFC 3261 §11)."""
        with sip.SipClient(self.gw.sip_port, transport=transport) as c:
            r = c.request("OPTIONS", "sip:example.net", timeout=10)
        self.assertIsNotNone(r, "%s over %s: no answer\n%s" % (what, transport, self.gw.logs()))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.gw.running())

    def raw_malformed(self, transport, request):
        """Sends `request` (text with %(port)d / %(transport)s) and returns the answer."""
        with sip.SipClient(self.gw.sip_port, transport=transport) as c:
            c.send_raw(request % {"port": c.local_port, "transport": transport.upper()})
            return c.wait_unmatched(timeout=5)

    # ---- XMPP side --------------------------------------------------------------------------

    # docs/architecture.md "Nothing lost, nothing silent": an unclaimed <message/> ->
    # <feature-not-implemented/> from the addressee, id kept (RFC 6120 §8.3.1, §8.3.3.3).
    def test_message_gets_feature_not_implemented(self):
        juliet = self.xmpp_client(self.prosody)
        mid = juliet.send_message(ROMEO, body="hello romeo", mtype="chat")
        reply = self.assertStanza(juliet.wait_for(
            lambda s: s.name == "message" and s.get("id") == mid), "error reply")
        self.assertEqual(reply.type, "error", str(reply))
        self.assertEqual(reply.get("from"), ROMEO)
        self.assertEqual(reply.get("to"), juliet.bound_jid)
        self.assertEqual(reply.error_condition(), ("cancel", "feature-not-implemented"),
                         str(reply))

    # RFC 6120 §8.2.3: an iq get/set with an unknown payload, to the component domain or to
    # a user of it, is answered with an iq error carrying the same id.
    def test_iq_with_unknown_payload_gets_error(self):
        raw = self.raw_xmpp_client(self.prosody)
        raw.send("<iq type='get' to='example.net' id='q1'><query xmlns='urn:example:unknown'/>"
                 "</iq>")
        raw.send("<iq type='set' to='%s' id='q2'><x xmlns='urn:example:unknown'/></iq>" % ROMEO)
        for qid, frm in (("q1", "example.net"), ("q2", ROMEO)):
            reply = self.assertStanza(raw.wait_for(
                lambda s, qid=qid: s.name == "iq" and s.get("id") == qid), "iq %s reply" % qid)
            self.assertEqual(reply.get("type"), "error", str(reply))
            self.assertEqual(reply.get("from"), frm, str(reply))
            etype, condition = reply.error_condition()
            self.assertIsNotNone(condition, str(reply))
            self.assertEqual(etype, "cancel", str(reply))

    # CORE-ERR-14, TV-ERR-E5: error stanzas are never answered (RFC 6120 §8.3.1).
    def test_error_stanza_is_not_answered(self):
        raw = self.raw_xmpp_client(self.prosody)
        raw.send("<message type='error' to='%s' id='e1'><error type='cancel'>"
                 "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                 "</message>" % ROMEO)
        raw.send("<message to='%s' id='after'><body>x</body></message>" % ROMEO)
        reply = self.assertStanza(raw.wait_for(
            lambda s: s.name == "message" and s.get("id") == "after"), "reply to 'after'")
        self.assertEqual(reply.type, "error")
        # The second message was answered, so an answer to the first would be here by now.
        self.assertEqual(raw.inbox.all(lambda s: s.get("id") == "e1"), [])

    # ---- SIP side ---------------------------------------------------------------------------

    # docs/architecture.md: an unclaimed MESSAGE -> 501 (RFC 3261 §21.5.2), sent by sipp.
    def test_sip_message_from_sipp_gets_501(self):
        s = self.sipp("message_uac.xml",
                      values={"RURI": "sip:juliet@example.com", "FROM": "sip:romeo@example.net",
                              "HEADERS": "", "BODY": "nobody claims me", "STATUS": 501},
                      remote="127.0.0.1:%d" % self.gw.sip_port, timeout=10)
        s.start()
        self.assertEqual(s.wait(20), 0, s.diagnostics())

    # ... and its Allow lists what the gateway implements (RFC 3261 §20.5: "the
    # set of methods supported by the UA generating the message"), the same set as the Allow
    # of the core's own OPTIONS answer, which with no plugin is OPTIONS alone.
    def test_sip_message_gets_501_with_allow(self):
        def methods(allow):
            return sorted(m.strip() for m in (allow or "").split(",") if m.strip())

        for transport in ("udp", "tcp"):
            with self.subTest(transport=transport):
                c = self.sip_client(self.gw, transport)
                r = c.request("MESSAGE", "sip:juliet@example.com",
                              headers=[("Content-Type", "text/plain")], body="hi", timeout=10)
                self.assertIsNotNone(r, transport)
                self.assertEqual(r.status, 501, r)
                self.assertTrue(r.has_header("Allow"), r.headers)
                options = c.request("OPTIONS", "sip:example.net", timeout=10)
                self.assertEqual(methods(options.header("Allow")), ["OPTIONS"], options.headers)
                self.assertEqual(methods(r.header("Allow")), methods(options.header("Allow")),
                                 "Allow of the 501 differs from the gateway's OPTIONS answer")

    # RFC 3261 §11, docs/architecture.md: OPTIONS -> 200 from the core; sofia's sip-options
    # works as a health probe (peers.md §3b).
    def test_options_gets_200(self):
        code, out = sip.sip_options_probe(self.gw.sip_port)
        self.assertEqual(code, 0, out)
        self.assertIn("200", out)
        c = self.sip_client(self.gw, "udp")
        r = c.request("OPTIONS", "sip:example.net", timeout=10)
        self.assertEqual(r.status, 200, r)
        self.assertIn("OPTIONS", r.header("Allow", ""))

    # RFC 3261 §8.1.1 / §8.2: malformed requests over UDP -> 400, and the gateway serves on.
    def test_malformed_requests_over_udp_get_400(self):
        self.check_malformed("udp")

    # RFC 3261 §8.1.1 / §8.2: the same over TCP.
    def test_malformed_requests_over_tcp_get_400(self):
        self.check_malformed("tcp")

    def check_malformed(self, transport):
        common = ("Via: SIP/2.0/%(transport)s 127.0.0.1:%(port)d;branch=z9hG4bK{b};rport\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:romeo@example.net>;tag=1\r\n"
                  "To: <sip:juliet@example.com>\r\n")
        cases = {
            # RFC 3261 §8.1.1.7 / §20.16: the CSeq method must match the request method.
            "cseq-mismatch": "MESSAGE sip:juliet@example.com SIP/2.0\r\n" + common +
                             "Call-ID: bad1@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
            # RFC 3261 §8.1.1: Call-ID is mandatory.
            "no-call-id": "MESSAGE sip:juliet@example.com SIP/2.0\r\n" + common +
                          "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
            # A CSeq that is not a number.
            "cseq-nan": "MESSAGE sip:juliet@example.com SIP/2.0\r\n" + common +
                        "Call-ID: bad3@x\r\nCSeq: one MESSAGE\r\nContent-Length: 0\r\n\r\n",
        }
        for name, text in cases.items():
            with self.subTest(case=name, transport=transport):
                r = self.raw_malformed(transport, text.replace("{b}", name))
                self.assertIsNotNone(r, "%s over %s: no answer\n%s" %
                                     (name, transport, self.gw.logs()))
                self.assertEqual(r.status, 400, r)
                self.assert_options_ok(transport, "OPTIONS after %s" % name)

    # house-style "never crash on bad input": garbage on the TCP port (and UDP) does not stop
    # the gateway from serving.
    def test_garbage_does_not_crash(self):
        garbage = [b"\x00\xff" * 512, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                   b"SIP/2.0 200 OK\r\n\r\n", b"MESSAGE\r\n\r\n", os.urandom(4096),
                   b"INVITE sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\nabc"]
        for data in garbage:
            with socket.create_connection(("127.0.0.1", self.gw.sip_port), timeout=5) as s:
                s.sendall(data)
                s.settimeout(1.0)
                try:
                    s.recv(65536)  # an answer or a close; either is fine
                except (socket.timeout, ConnectionResetError):
                    pass
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.sendto(data[:60000], ("127.0.0.1", self.gw.sip_port))
        time.sleep(0.3)
        self.assertTrue(self.gw.running(), self.gw.logs())
        self.assert_options_ok("tcp", "OPTIONS after garbage")
        self.assert_options_ok("udp", "OPTIONS after garbage")
        code, out = sip.sip_options_probe(self.gw.sip_port)
        self.assertEqual(code, 0, out)

    # RFC 3261 §21.4.11: a 200 KB request over TCP is refused (413, or the connection is
    # closed) and the gateway keeps serving.
    def test_oversized_request_over_tcp_is_refused(self):
        c = self.sip_client(self.gw, "tcp")
        tx = c.send("MESSAGE", "sip:juliet@example.com",
                    headers=[("Content-Type", "text/plain")], body="x" * (200 * 1024))
        final = tx.wait(10)
        if final is not None:
            self.assertEqual(final.status, 413, final)
        else:
            self.assertTrue(c.closed.is_set() or c.wait_unmatched(1) is not None,
                            "neither 413 nor a closed connection\n" + self.gw.logs())
        self.assertTrue(self.gw.running(), self.gw.logs())
        self.assert_options_ok("tcp", "OPTIONS after the oversized request")
        self.assert_options_ok("udp", "OPTIONS after the oversized request")

    # README.md: SIGTERM stops the gateway cleanly, exit code 0.
    def test_stops_cleanly(self):
        self.assert_options_ok("udp")
        self.gw.stop()


if __name__ == "__main__":
    base.main()

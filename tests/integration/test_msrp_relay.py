#!/usr/bin/python3
"""Interop through a third-party MSRP relay: Kamailio's ``msrp`` module (RFC 4976), with two
independent Python peers (stoxtest/msrp_peer.py), without the gateway.

Peer A uses the relay (AUTH with digest, Use-Path in its a=path, RFC 4976 §5.1); peer B is
a plain RFC 4975 endpoint that reaches A through the relay because A's a=path starts with
it, exactly like the gateway's C++ MSRP stack will (no AUTH, connect to the first URI of the
path, the whole path as To-Path). Messages, a chunked 100 KB one included, flow both ways
(MSRP-11/12/19 chunking, MSRP-15 REPORTs, MSRP-25 first-URI connection). Skipped when
Kamailio's msrp module is not installed.
"""

import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoxtest import base, kamailio_msrp, msrp_peer, util  # noqa: E402
from stoxtest.msrp_peer import MsrpParser, MsrpUri, MsrpPeer  # noqa: E402

BIG = bytes((i * 7 + 13) % 251 for i in range(100000))  # 100 KB, no end-line inside
BIG_BACK = bytes((i * 11 + 5) % 241 for i in range(100000))
CHUNK = 4096  # Kamailio relays chunks up to ~8 KB (peers.md); 4 KB is a common size
TEXT_A = "But soft, what light through yonder window breaks?"
TEXT_B = "It is the east, and Juliet is the sun."


class MsrpRelayTest(base.IntegrationTestCase):

    def setUp(self):
        kamailio_msrp.require_kamailio_msrp()  # SkipTest with the reason
        super().setUp()

    # -- helpers ---------------------------------------------------------------------------
    def relay(self, name="kamailio", **kw):
        r = kamailio_msrp.KamailioMsrpRelay(os.path.join(self.dir, name), **kw)
        self.addCleanup(r.stop)
        self._diagnostics.append(r.logs)
        r.start()
        return r

    def peer(self, name, **kw):
        p = MsrpPeer(user=name, t1=0.1, log_path=os.path.join(self.dir, name + ".log"), **kw)
        self.addCleanup(p.close)
        self._diagnostics.append(lambda: "---- %s ----\n%s" % (name, util.tail(
            os.path.join(self.dir, name + ".log"), 80)))
        return p

    def call(self, caller, callee, **kw):
        """caller INVITEs callee; returns (caller's call, callee's call), MSRP bound on both."""
        call_c = caller.invite("sip:%s@127.0.0.1:%d" % (callee.user, callee.sip_port), **kw)
        call_e = callee.wait_call(timeout=5)
        self.assertIsNotNone(call_e, "callee got no INVITE")
        resp = call_c.wait_final(timeout=5)
        self.assertIsNotNone(resp, "caller got no final response")
        self.assertEqual(resp.status, 200, resp)
        self.assertIsNotNone(call_e.wait_request("ACK", timeout=5), "callee got no ACK")
        self.assertTrue(call_c.wait_msrp(5), "caller: MSRP not connected")
        self.assertTrue(call_e.wait_msrp(5), "callee: MSRP not connected")
        return call_c, call_e

    def assert_relayed_paths(self, relay, call_a, call_b):
        """A's a=path is Use-Path + A (RFC 4976 §5.1) and B sends to it as it is."""
        self.assertEqual(len(call_a.use_path), 1, call_a.use_path)
        use = MsrpUri.parse(call_a.use_path[0])
        self.assertEqual((use.host, use.port), ("127.0.0.1", relay.port))
        self.assertTrue(use.session_id, "Use-Path URI without a session part")
        self.assertEqual(call_b.remote_path, [call_a.use_path[0], call_a.local_path],
                         "B must see relay + A as A's a=path")
        self.assertEqual(call_a.to_path, [call_a.use_path[0], call_b.local_path])
        # Both sides talk to the relay, never to each other.
        self.assertIs(call_a.conn, call_a.relay_conn)
        self.assertEqual(call_a.conn.addr, ("127.0.0.1", relay.port))
        self.assertNotEqual(call_b.conn.addr[1], call_a.peer.msrp_port)
        self.assertTrue(all(c.outgoing for c in call_a.peer._conns),
                        "someone connected to A's listener: the relay was bypassed")

    def exchange(self, call_a, call_b):
        """Text and a chunked 100 KB message both ways, with success REPORTs end to end."""
        out = call_a.send_text(TEXT_A)
        msg = call_b.wait_message(timeout=5)
        self.assertIsNotNone(msg, "B got no text from A")
        self.assertEqual(msg.text, TEXT_A)
        self.assertEqual(out.wait_responses(5), [200])  # the relay's hop-by-hop 200
        # B sees the relay's session URI in front of A's URI (RFC 4976 §6.4.1).
        self.assertEqual(msg.from_path, [call_a.use_path[0], call_a.local_path])

        out = call_b.send_text(TEXT_B)
        msg = call_a.wait_message(timeout=5)
        self.assertIsNotNone(msg, "A got no text from B")
        self.assertEqual(msg.text, TEXT_B)
        self.assertEqual(out.wait_responses(5), [200])
        self.assertEqual(msg.from_path, [call_a.use_path[0], call_b.local_path])

        chunks = -(-len(BIG) // CHUNK)
        out = call_a.send_message(BIG, "text/plain", chunk_size=CHUNK, success_report=True)
        msg = call_b.wait_message(timeout=15)
        self.assertIsNotNone(msg, "B got no 100 KB message")
        self.assertEqual(msg.body, BIG)
        self.assertEqual(msg.chunks, chunks)
        self.assertEqual(msg.message_id, out.message_id)
        self.assertEqual(out.wait_responses(10), [200] * chunks)
        report = out.wait_report(timeout=5)  # B's REPORT went back through the relay
        self.assertIsNotNone(report, "A got no success REPORT")
        self.assertEqual(report.header("Status"), "000 200 OK")
        self.assertEqual(report.header("Byte-Range"), "1-100000/100000")

        out = call_b.send_message(BIG_BACK, "text/plain", chunk_size=CHUNK,
                                  success_report=True)
        msg = call_a.wait_message(timeout=15)
        self.assertIsNotNone(msg, "A got no 100 KB message")
        self.assertEqual(msg.body, BIG_BACK)
        self.assertEqual(msg.chunks, chunks)
        self.assertEqual(out.wait_responses(10), [200] * chunks)
        report = out.wait_report(timeout=5)
        self.assertIsNotNone(report, "B got no success REPORT")
        self.assertEqual(report.header("Status"), "000 200 OK")

        self.assertEqual(call_a.peer.msrp_errors, [])
        self.assertEqual(call_b.peer.msrp_errors, [])
        self.assertEqual(len(call_b.rejected), 0)
        self.assertEqual(len(call_a.rejected), 0)

    def assert_through_relay(self, relay, sends):
        """The relay's own log shows the SENDs (not just a bypass that happened to work)."""
        log = relay.log_text()
        self.assertGreaterEqual(log.count("msrp-in SEND"), sends, "relay saw too few SENDs")

    # -- tests -----------------------------------------------------------------------------
    def test_relay_client_calls_direct_peer_passive(self):
        """A (via relay, digest AUTH) INVITEs B; B answers passive: the relay connects to B."""
        relay = self.relay()
        a = self.peer("alice", relay=relay)
        b = self.peer("bob", setup_answer="passive")
        call_a, call_b = self.call(a, b)
        self.assertEqual([r.status for r in call_a.auth_responses], [401, 200])
        self.assertIsNotNone(call_a.auth_responses[0].header("WWW-Authenticate"))
        self.assertEqual(call_b.msrp_role, "passive")
        # A's bodiless SEND (RFC 4975 §5.4) reached B through the relay.
        first = call_b.bodiless.wait(timeout=5)
        self.assertIsNotNone(first, "A's connection-setup SEND did not reach B")
        self.assertEqual(first.from_path, [call_a.use_path[0], call_a.local_path])
        self.assert_relayed_paths(relay, call_a, call_b)
        self.exchange(call_a, call_b)
        self.assert_through_relay(relay, 1 + 2 + 2 * -(-len(BIG) // CHUNK))
        self.assertEqual(call_a.bye().status, 200)

    def test_relay_client_calls_direct_peer_active(self):
        """B answers active: B connects to the first URI of A's a=path (the relay) with the
        whole path as To-Path, as the C++ stack does (MSRP-25), and the relay sends A's
        traffic back over B's connection (RFC 4976 §6.4.2 connection reuse)."""
        relay = self.relay()
        a = self.peer("alice", relay=relay)
        b = self.peer("bob", setup_answer="active")
        call_a, call_b = self.call(a, b)
        self.assertEqual(call_b.msrp_role, "active")
        self.assertEqual(call_b.conn.addr, ("127.0.0.1", relay.port))
        first = call_a.bodiless.wait(timeout=5)
        self.assertIsNotNone(first, "B's connection-setup SEND did not reach A")
        self.assertEqual(first.from_path, [call_a.use_path[0], call_b.local_path])
        self.assert_relayed_paths(relay, call_a, call_b)
        self.exchange(call_a, call_b)
        self.assertEqual(len(b._conns), 1, "the relay opened a second connection to B")
        self.assertFalse([t for t in b.trace if t[1] == "out" and " 506 " in t[2]],
                         "B refused a second connection for its session")
        self.assertEqual(call_b.bye().status, 200)

    def test_direct_peer_calls_relay_client(self):
        """The reverse: B (direct) INVITEs A (via relay); A answers active, so its first SEND
        goes through the relay, which connects to B's listener."""
        relay = self.relay()
        a = self.peer("alice", relay=relay, setup_answer="active")
        b = self.peer("bob")
        call_b, call_a = self.call(b, a)
        self.assertEqual([r.status for r in call_a.auth_responses], [401, 200])
        self.assertEqual(call_a.msrp_role, "active")
        self.assertEqual(call_b.msrp_role, "passive")
        self.assert_relayed_paths(relay, call_a, call_b)
        self.exchange(call_a, call_b)
        self.assertEqual(call_b.bye().status, 200)
        self.assertTrue(call_a.wait_terminated(5))
        util.wait_until(lambda: call_a.relay_conn.closed.is_set(), 3)
        self.assertTrue(call_a.relay_conn.closed.is_set(), "A kept its relay connection")

    def test_plain_auth_and_two_sessions(self):
        """A relay configured without digest: AUTH gets 200 at once. Two calls get two
        Use-Path URIs (RFC 4976 §5.1: one per session) and stay apart."""
        relay = self.relay(auth="none")
        a = self.peer("alice", relay=relay)
        b = self.peer("bob")
        call_a1, call_b1 = self.call(a, b)
        call_a2, call_b2 = self.call(a, b)
        self.assertEqual([r.status for r in call_a1.auth_responses], [200])
        self.assertNotEqual(call_a1.use_path, call_a2.use_path)
        call_a1.send_text("one")
        call_a2.send_text("two")
        self.assertEqual(call_b1.wait_message(5).text, "one")
        self.assertEqual(call_b2.wait_message(5).text, "two")
        call_b2.send_text("two back")
        call_b1.send_text("one back")
        self.assertEqual(call_a1.wait_message(5).text, "one back")
        self.assertEqual(call_a2.wait_message(5).text, "two back")

    def test_wrong_password_is_refused(self):
        """A digest with the wrong password gets another 401; the peer gives up with a clear
        error instead of offering a path it does not have."""
        relay = self.relay()
        a = self.peer("alice", relay=relay, relay_credentials=(relay.username, "wrong"))
        b = self.peer("bob")
        with self.assertRaises(ConnectionError) as ctx:
            a.invite("sip:bob@127.0.0.1:%d" % b.sip_port)
        self.assertIn("401", str(ctx.exception))
        self.assertIsNone(b.wait_call(timeout=0.5), "an INVITE went out without a Use-Path")

    def test_unknown_session_gets_481(self):
        """A SEND to a relay session that was never handed out is refused (RFC 4976 §6.4)."""
        relay = self.relay()
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as s:
            s.sendall(("MSRP t481 SEND\r\nTo-Path: msrp://127.0.0.1:%d/nosuch;tcp "
                       "msrp://127.0.0.1:9/x;tcp\r\nFrom-Path: msrp://127.0.0.1:9/y;tcp\r\n"
                       "Message-ID: m1\r\nByte-Range: 1-2/2\r\nContent-Type: text/plain\r\n\r\n"
                       "hi\r\n-------t481$\r\n" % relay.port).encode())
            parser, frames = MsrpParser(), []
            while not frames:
                data = s.recv(4096)
                if not data:
                    break
                frames = parser.feed(data)
        self.assertTrue(frames, "relay closed without answering")
        self.assertEqual((frames[0].tid, frames[0].status), ("t481", 481))

    # -- Kamailio 5.6 quirks the gateway must live with (pinned, so a change shows) ----------
    def test_quirk_new_connection_to_active_far_end_without_reuse(self):
        """With the module's documented routing (no connection reuse), a frame towards a far
        endpoint that connected to the relay itself (a=setup:active) goes out on a *new*
        connection to that endpoint's listener; a conforming endpoint refuses it with 506
        (RFC 4975 §5.4), while the sender already has the relay's 200: the message is lost."""
        relay = self.relay(reuse_inbound=False)
        a = self.peer("alice", relay=relay)
        b = self.peer("bob", setup_answer="active")
        call_a, call_b = self.call(a, b)
        out = call_a.send_text(TEXT_A)
        self.assertEqual(out.wait_responses(5), [200])
        self.assertIsNone(call_b.wait_message(timeout=1.0), "reached B without reuse?")
        self.assertTrue([t for t in b.trace if t[1] == "out" and " 506 " in t[2]],
                        "B did not refuse the relay's second connection")
        self.assertIsNone(out.wait_report(timeout=0.5), "the relay sent a failure REPORT")

    def test_quirk_chunk_size_limit(self):
        """Frames over ~10.5 KB do not fit the module's internal SIP message: the config
        answers 501 (its $msrp(...) reads fail); 8 KB chunks pass."""
        relay = self.relay()
        a = self.peer("alice", relay=relay)
        b = self.peer("bob")
        call_a, call_b = self.call(a, b)
        out = call_a.send_message(b"y" * 8192, "text/plain", chunk_size=8192)
        self.assertEqual(out.wait_responses(5), [200])
        self.assertEqual(len(call_b.wait_message(timeout=5).body), 8192)
        out = call_a.send_message(b"z" * 12000, "text/plain", chunk_size=12000)
        self.assertEqual(out.wait_responses(5), [501])
        self.assertIsNone(call_b.wait_message(timeout=0.5))

    def test_quirk_far_end_error_is_swallowed(self):
        """The relay acknowledges a SEND itself (RFC 4976 §6.4.1) and then drops the far
        end's error response without the failure REPORT §6.4.1 requires: the sender never
        learns that B refused the content with 415."""
        relay = self.relay()
        a = self.peer("alice", relay=relay)
        b = self.peer("bob", msrp_status=415)
        call_a, call_b = self.call(a, b)
        out = call_a.send_text(TEXT_A)
        self.assertEqual(out.wait_responses(5), [200])
        rejected = call_b.rejected.wait(timeout=5)
        self.assertIsNotNone(rejected, "B did not see the SEND")
        self.assertEqual(rejected[1], 415)
        self.assertIsNone(out.wait_report(timeout=1.0))
        self.assertEqual(len(a.unmatched_responses), 0, "B's 415 reached A after all")


class DigestTest(unittest.TestCase):
    """The peer's digest for AUTH (RFC 2617 §3.5 example; RFC 4976 §9.1 rules)."""

    def test_rfc2617_vector(self):
        challenge = msrp_peer.parse_digest_challenge(
            'Digest realm="testrealm@host.com", qop="auth,auth-int", '
            'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
            'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
        value = msrp_peer.digest_authorization(challenge, "Mufasa", "Circle Of Life", "GET",
                                               "/dir/index.html", cnonce="0a4f113b")
        self.assertIn('response="6629fae49393a05397450978507c4ef1"', value)
        self.assertIn("qop=auth, nc=00000001", value)
        self.assertIn('uri="/dir/index.html"', value)

    def test_rfc4976_restrictions(self):
        self.assertIsNone(msrp_peer.parse_digest_challenge('Basic realm="x"'))
        no_qop = msrp_peer.parse_digest_challenge('Digest realm="r", nonce="n"')
        with self.assertRaises(ConnectionError):
            msrp_peer.digest_authorization(no_qop, "u", "p", "AUTH", "msrp://h:1;tcp")
        sess = msrp_peer.parse_digest_challenge(
            'Digest realm="r", nonce="n", qop="auth", algorithm=MD5-sess')
        with self.assertRaises(ConnectionError):
            msrp_peer.digest_authorization(sess, "u", "p", "AUTH", "msrp://h:1;tcp")


if __name__ == "__main__":
    base.main()

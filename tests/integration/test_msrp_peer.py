#!/usr/bin/python3
"""Self-test of the independent SIP + MSRP chat peer (stoxtest/msrp_peer.py): two peers talk
to each other over loopback, without the gateway. The peer is the second implementation the
chat plugin's tests rely on (RFC 7573 over RFC 3261 + RFC 4975), so its own behaviour is
pinned here: offer/answer with a=setup (RFC 6135), chunking and reassembly, reports, error
responses, isComposing (RFC 3994), CPIM (RFC 3862), session refresh, BYE, framing errors."""

import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoxtest import base, msrp_peer, util  # noqa: E402
from stoxtest.msrp_peer import MsrpPeer  # noqa: E402

BIG = bytes((i * 7 + 13) % 251 for i in range(100000))  # 100 KB, no end-line inside
TEXT = "Art thou not Romeo, and a Montague?"


class MsrpPeerTest(base.IntegrationTestCase):

    def peer(self, name, **kw):
        p = MsrpPeer(user=name, t1=0.1, log_path=os.path.join(self.dir, name + ".log"), **kw)
        self.addCleanup(p.close)
        self._diagnostics.append(lambda: "---- %s ----\n%s" % (name, util.tail(
            os.path.join(self.dir, name + ".log"), 80)))
        return p

    def connect(self, a, b, transport="udp", setup="default", **kw):
        """A INVITEs B; returns (A's call, B's call), MSRP bound on both sides."""
        call_a = a.invite("sip:%s@127.0.0.1:%d" % (b.user, b.sip_port), transport=transport,
                          setup=setup, **kw)
        call_b = b.wait_call(timeout=5)
        self.assertIsNotNone(call_b, "B got no INVITE")
        resp = call_a.wait_final(timeout=5)
        self.assertIsNotNone(resp, "A got no final response")
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(call_a.wait_established(5))
        self.assertIsNotNone(call_b.wait_request("ACK", timeout=5), "B got no ACK")
        self.assertTrue(call_a.wait_msrp(5), "A: MSRP not connected")
        self.assertTrue(call_b.wait_msrp(5), "B: MSRP not connected")
        return call_a, call_b

    def exchange(self, call_a, call_b):
        """MSRP both ways with chunking (MSRP-11/12/19), a REPORT (MSRP-15) and isComposing."""
        out = call_a.send_message(BIG, "text/plain", chunk_size=2048, success_report=True)
        msg = call_b.wait_message(timeout=10)
        self.assertIsNotNone(msg, "B got no message")
        self.assertEqual(msg.body, BIG)
        self.assertEqual(msg.chunks, 49)
        self.assertEqual(msg.message_id, out.message_id)
        self.assertTrue(msg.success_report)
        self.assertEqual(out.wait_responses(timeout=5), [200] * 49)
        report = out.wait_report(timeout=5)
        self.assertIsNotNone(report, "A got no REPORT")
        self.assertEqual(report.header("Status"), "000 200 OK")
        self.assertEqual(report.header("Byte-Range"), "1-100000/100000")
        self.assertEqual(report.to_path, [call_a.local_path])

        back = call_b.send_message(BIG, "text/plain", chunk_size=30000)
        got = call_a.wait_message(timeout=10)
        self.assertIsNotNone(got, "A got no message")
        self.assertEqual((got.body, got.chunks), (BIG, 4))
        self.assertEqual(back.wait_responses(timeout=5), [200] * 4)
        self.assertIsNone(back.wait_report(timeout=0.2), "REPORT without Success-Report")

        call_a.send_iscomposing("active", refresh=60)
        ic = call_b.wait_message(timeout=5)
        self.assertEqual(ic.mime_type, msrp_peer.ISCOMPOSING_TYPE)
        self.assertEqual(ic.iscomposing["state"], "active")
        self.assertEqual(ic.iscomposing["refresh"], 60)

    # -- offer/answer and connection roles (RFC 6135 §4.2.2, RFC 4975 §5.4; MSRP-21/31/32) --
    def test_actpass_answered_passive_udp(self):
        a, b = self.peer("alice"), self.peer("bob", setup_answer="passive")
        call_a, call_b = self.connect(a, b)
        self.assertEqual(call_b.local_sdp.decode().count("a=setup:passive"), 1)
        self.assertEqual((call_a.msrp_role, call_b.msrp_role), ("active", "passive"))
        self.assertEqual(call_a.remote_sdp.setup, "passive")
        first = call_b.bodiless.wait(timeout=5)
        self.assertIsNotNone(first, "the active side sent no bodiless SEND")
        self.assertEqual(first.to_path, [call_b.local_path])
        self.exchange(call_a, call_b)
        self.exchange(call_b, call_a)
        resp = call_a.bye()
        self.assertEqual(resp.status, 200)
        self.assertTrue(call_b.wait_terminated(5))
        self.assertEqual(call_b.sip_requests.history[-1].method, "BYE")

    def test_actpass_answered_active_tcp(self):
        a, b = self.peer("alice", transport="tcp"), self.peer("bob", setup_answer="active")
        call_a, call_b = self.connect(a, b, transport="tcp")
        self.assertIn("a=setup:active", call_b.local_sdp.decode())
        self.assertEqual((call_a.msrp_role, call_b.msrp_role), ("passive", "active"))
        self.assertIsNotNone(call_a.bodiless.wait(timeout=5))
        self.assertEqual(call_b.transport, "tcp")
        self.exchange(call_a, call_b)
        self.exchange(call_b, call_a)
        resp = call_b.bye()  # the UAS hangs up (RFC 3261 §15)
        self.assertEqual(resp.status, 200)
        self.assertTrue(call_a.wait_terminated(5))

    def test_offer_without_setup_makes_offerer_active(self):
        for setup, b_setup in ((None, "active"), ("active", "active"), ("passive", "passive")):
            with self.subTest(offer=setup):
                a, b = self.peer("a%s" % setup), self.peer("b%s" % setup, setup_answer=b_setup)
                call_a, call_b = self.connect(a, b, setup=setup)
                want_a = "passive" if setup == "passive" else "active"
                self.assertEqual(call_a.msrp_role, want_a)
                self.assertEqual(call_b.msrp_role,
                                 "active" if want_a == "passive" else "passive")
                if setup is None:
                    self.assertNotIn("a=setup", call_b.local_sdp.decode())
                call_a.send_text(TEXT)
                self.assertEqual(call_b.wait_message(timeout=5).text, TEXT)
                self.assertEqual(call_a.bye().status, 200)

    # -- INVITE failures (RFC 3261 §13.2.2.3, §9) -------------------------------------------
    def test_reject_statuses(self):
        for status in (486, 603, 480):
            with self.subTest(status=status):
                a, b = self.peer("a%d" % status), self.peer("b%d" % status, answer=status)
                call = a.invite("sip:b@127.0.0.1:%d" % b.sip_port)
                resp = call.wait_final(timeout=5)
                self.assertEqual(resp.status, status)
                self.assertIsNotNone(call.invite.wait_provisional(180, timeout=1))
                self.assertEqual(call.state, "failed")
                # the transaction layer ACKed the failure (RFC 3261 §17.1.1.3)
                self.assertIsNotNone(b.wait_request("ACK", timeout=5))

    def test_unusable_offer_gets_488(self):
        a, b = self.peer("alice"), self.peer("bob")
        call = a.invite("sip:b@127.0.0.1:%d" % b.sip_port,
                        body=b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                             b"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
        self.assertEqual(call.wait_final(timeout=5).status, 488)

    def test_no_answer_then_cancel(self):
        a, b = self.peer("alice"), self.peer("bob", answer=None)
        call = a.invite("sip:b@127.0.0.1:%d" % b.sip_port)
        self.assertIsNotNone(call.invite.wait_provisional(180, timeout=5))
        self.assertIsNotNone(b.wait_call(timeout=5))
        self.assertIsNone(call.wait_final(timeout=0.5), "answered although answer=None")
        call.cancel()
        self.assertEqual(call.wait_final(timeout=5).status, 487)

    def test_manual_answer(self):
        a, b = self.peer("alice"), self.peer("bob", answer=None)
        call_a = a.invite("sip:b@127.0.0.1:%d" % b.sip_port)
        call_b = b.wait_call(timeout=5)
        call_b.answer()
        self.assertEqual(call_a.wait_final(timeout=5).status, 200)
        self.assertTrue(call_a.wait_msrp(5) and call_b.wait_msrp(5))

    # -- MSRP error responses and report headers (RFC 4975 §7.1.4, §10; MSRP-16/20/30) -------
    def test_msrp_error_statuses(self):
        a, b = self.peer("alice"), self.peer("bob")
        call_a, call_b = self.connect(a, b)
        call_b.msrp_status = 413
        out = call_a.send_message(BIG, chunk_size=4096, wait_each=True)
        self.assertEqual(out.wait_responses(timeout=5), [413])  # stopped after the 413
        self.assertEqual(out.stopped_by, 413)
        self.assertEqual(call_b.rejected.wait(timeout=1)[1], 413)
        call_b.msrp_status = lambda f: 481 if b"bad" in (f.body or b"") else 200
        self.assertEqual(call_a.send_text("bad").wait_responses(5), [481])
        self.assertEqual(call_a.send_text("good").wait_responses(5), [200])
        self.assertEqual(call_b.wait_message(timeout=5).text, "good")
        call_b.msrp_status = 200
        # a type outside accept-types: 415 (MSRP-20)
        self.assertEqual(call_a.send_message(b"\x89PNG", "image/png").wait_responses(5), [415])
        # Failure-Report: no -> no response at all; partial -> errors only (MSRP-16)
        self.assertEqual(call_a.send_text("quiet", failure_report="no").wait_responses(0.5), [])
        self.assertEqual(call_a.send_text("p", failure_report="partial").wait_responses(0.5), [])
        call_b.msrp_status = 413
        self.assertEqual(call_a.send_text("p2", failure_report="partial").wait_responses(5),
                         [413])

    def test_manual_report_and_cpim(self):
        a, b = self.peer("alice"), self.peer("bob", auto_report=False)
        call_a, call_b = self.connect(a, b)
        out = call_a.send_cpim(TEXT, success_report=True, failure_report="no")
        got = call_b.wait_message(timeout=5)
        self.assertEqual(got.mime_type, "message/cpim")
        self.assertEqual(got.cpim.content_type, "text/plain;charset=UTF-8")
        self.assertEqual(got.cpim.text, TEXT)
        self.assertEqual(got.cpim.header("From"), "<%s>" % a.aor)
        self.assertIsNone(out.wait_report(timeout=0.3), "auto REPORT although disabled")
        call_b.send_report(got, 200)
        rep = out.wait_report(timeout=5)
        self.assertEqual(rep.header("Byte-Range"), "1-%d/%d" % (len(got.body), len(got.body)))
        self.assertIsNone(rep.header("Success-Report"))  # MSRP-14
        call_b.send_report(got, 413, "too big")
        self.assertEqual(out.wait_report(timeout=5).header("Status"), "000 413 too big")

    # -- session refresh, OPTIONS, in-dialog requests (RFC 4975 §8.4) ----------------------
    def test_refresh_and_options(self):
        a, b = self.peer("alice"), self.peer("bob")
        call_a, call_b = self.connect(a, b)
        answer = call_b.local_sdp
        for method in ("reinvite", "update"):
            resp = getattr(call_a, method)()
            self.assertEqual(resp.status, 200, method)
            self.assertEqual(resp.body, answer, "refresh must answer the same SDP")
        self.assertEqual(call_b.reinvite().status, 200)  # the other direction
        self.assertEqual(call_a.request("OPTIONS").status, 200)
        tx = a.ua.send_request("OPTIONS", "sip:bob@127.0.0.1:%d" % b.sip_port, [
            ("From", "<sip:x@127.0.0.1>;tag=1"), ("To", "<sip:bob@127.0.0.1>"),
            ("Call-ID", "opt1"), ("CSeq", "1 OPTIONS")], dest=("127.0.0.1", b.sip_port))
        self.assertEqual(tx.wait(5).status, 200)
        call_a.send_text("still there")
        self.assertEqual(call_b.wait_message(timeout=5).text, "still there")
        self.assertEqual(call_a.bye().status, 200)
        # a request for the dead dialog gets 481 (RFC 3261 §12.2.2)
        self.assertEqual(call_a.request("OPTIONS").status, 481)

    # -- broken transports: malformed frames, dropped connection, recovery (MSRP-22) -------
    def test_malformed_frames(self):
        for kind, want in (("unknown_method", 501), ("wrong_to_path", 481),
                           ("bad_byte_range", 400)):
            with self.subTest(kind=kind):
                a, b = self.peer("a" + kind), self.peer("b" + kind)
                call_a, call_b = self.connect(a, b)
                call_a.send_raw(kind)
                resp = a.unmatched_responses.wait(timeout=5)
                self.assertIsNotNone(resp, "no response to %s" % kind)
                self.assertEqual(resp.status, want)
        a, b = self.peer("agarbage"), self.peer("bgarbage")
        call_a, call_b = self.connect(a, b)
        call_a.send_raw("garbage")
        self.assertTrue(util.wait_until(lambda: b.msrp_errors, 5), "garbage not detected")
        self.assertTrue(util.wait_until(lambda: call_a.conn.closed.is_set(), 5),
                        "B kept the connection after a framing error")

    def test_drop_and_recover_with_reinvite(self):
        a, b = self.peer("alice"), self.peer("bob")
        call_a, call_b = self.connect(a, b)
        call_a.drop()
        self.assertTrue(util.wait_until(lambda: not call_b.wait_msrp(0), 5),
                        "B did not notice the lost connection")
        self.assertRaises(ConnectionError, call_a.send_text, "x")
        self.assertEqual(call_a.reinvite().status, 200)
        self.assertTrue(call_a.wait_msrp(5) and call_b.wait_msrp(5), "no new connection")
        call_a.send_text("again")
        self.assertEqual(call_b.wait_message(timeout=5).text, "again")

    def test_second_connection_gets_506(self):
        a, b = self.peer("alice"), self.peer("bob")
        call_a, call_b = self.connect(a, b)
        s = socket.create_connection(("127.0.0.1", b.msrp_port), timeout=5)
        self.addCleanup(s.close)
        frame = call_a._send_frame_for(b"hi", "text/plain", "m1", 1, 2, 2, False, None)
        s.sendall(frame.encode())
        parser = msrp_peer.MsrpParser()
        frames = []
        while not frames:
            data = s.recv(65536)
            self.assertTrue(data, "connection closed without a response")
            frames = parser.feed(data)
        self.assertEqual((frames[0].tid, frames[0].status), (frame.tid, 506))


class MsrpCodecTest(unittest.TestCase):
    """The peer's codecs alone (no sockets)."""

    def test_parser_any_split(self):
        frames = [msrp_peer.MsrpFrame("abcd1234", method="SEND", headers=[
            ("To-Path", "msrp://127.0.0.1:1/x;tcp"), ("From-Path", "msrp://127.0.0.1:2/y;tcp"),
            ("Message-ID", "m"), ("Byte-Range", "1-5/5"), ("Content-Type", "text/plain")],
            body=b"\r\nab\r\n"),
            msrp_peer.MsrpFrame("abcd1234", status=200, comment="OK", headers=[
                ("To-Path", "msrp://127.0.0.1:2/y;tcp"), ("From-Path", "msrp://a:1/x;tcp")]),
            msrp_peer.MsrpFrame("zzzz9999", method="SEND", headers=[
                ("To-Path", "msrp://h:1/x;tcp"), ("From-Path", "msrp://h:2/y;tcp"),
                ("Message-ID", "e"), ("Content-Type", "text/plain")], body=b"")]
        wire = b"".join(f.encode() for f in frames)
        for step in (1, 2, 7, len(wire)):
            p = msrp_peer.MsrpParser()
            got = []
            for i in range(0, len(wire), step):
                got += p.feed(wire[i:i + step])
            self.assertEqual([(f.tid, f.method, f.status, f.body) for f in got],
                             [(f.tid, f.method, f.status, f.body) for f in frames], step)
        with self.assertRaises(msrp_peer.MsrpParseError):
            msrp_peer.MsrpParser().feed(b"HTTP/1.1 200 OK\r\n\r\n")

    def test_uri_comparison(self):
        key = msrp_peer.MsrpUri.parse
        self.assertEqual(key("MSRP://Host:2855/AbC;TCP").key(),
                         key("msrp://host:2855/AbC;tcp").key())
        self.assertNotEqual(key("msrp://h:2855/abc;tcp").key(), key("msrp://h:2855/ABC;tcp").key())
        self.assertNotEqual(key("msrp://h:2855/a;tcp").key(), key("msrp://h/a;tcp").key())
        self.assertRaises(ValueError, key, "msrp://h:2855/a")  # no transport

    def test_cpim_roundtrip_and_lenient(self):
        w = msrp_peer.cpim_wrap("hé", from_uri="im:a@x", to_uri="im:b@y", datetime=True)
        c = msrp_peer.cpim_unwrap(w)
        self.assertEqual((c.header("From"), c.header("To"), c.text),
                         ("<im:a@x>", "<im:b@y>", "hé"))
        self.assertIsNotNone(c.header("DateTime"))
        # AMB-27: no blank line between CPIM and MIME headers
        c = msrp_peer.cpim_unwrap(b"From: <im:a@x>\r\nContent-Type: text/plain\r\n\r\nhi")
        self.assertEqual((c.content_type, c.text), ("text/plain", "hi"))

    def test_iscomposing(self):
        d = msrp_peer.parse_iscomposing(msrp_peer.iscomposing("idle", lastactive="2024"))
        self.assertEqual((d["state"], d["lastactive"], d["refresh"]), ("idle", "2024", None))
        d = msrp_peer.parse_iscomposing(msrp_peer.iscomposing("typing"))
        self.assertEqual(d["state"], "idle")  # RFC 3994 §4: unknown token = idle

    def test_sdp(self):
        sdp = msrp_peer.Sdp(msrp_peer.build_sdp("msrp://127.0.0.1:7000/s1;tcp", max_size=9000))
        self.assertEqual(sdp.media[:3], ("message", 7000, "TCP/MSRP"))
        self.assertEqual((sdp.path, sdp.setup, sdp.max_size),
                         (["msrp://127.0.0.1:7000/s1;tcp"], "actpass", 9000))
        self.assertEqual(sdp.valid_msrp(), "")
        held = msrp_peer.Sdp(msrp_peer.build_sdp("msrp://h:1/s;tcp", setup="holdconn"))
        self.assertIsNone(held.setup)  # RFC 6135 §4.2.1


if __name__ == "__main__":
    threading.excepthook = lambda args: sys.stderr.write("thread %s died: %r\n" % (
        args.thread.name, args.exc_value))
    base.main()

#!/usr/bin/python3
"""IM end to end (RFC 7572 pager mode) through the real IM plugin (org.stoxgw.im), a real
Prosody, sipp and a raw SIP client: SIP MESSAGE <-> XMPP <message/>, with delivery reported
honestly both ways (RFC 7247 §7 error mapping, checked against ``stoxgw map-error``)."""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoxtest import base, gateway, sip, util  # noqa: E402

ROMEO_SIP = "sip:romeo@example.net"
JULIET_SIP = "sip:juliet@example.com"
ROMEO_JID = "romeo@example.net"
RESOURCE = "balcony"


def _im_staged():
    try:
        return util.plugin_staged(base.IM_PLUGIN)
    except RuntimeError:
        return False


def name_addr_uri(value):
    """The URI of a From/To value: '<sip:a@b;gr=x>;tag=1' -> 'sip:a@b;gr=x'."""
    value = value.strip()
    if "<" in value:
        return value[value.index("<") + 1:value.index(">")]
    return value.split(";", 1)[0]


@unittest.skipUnless(_im_staged(), "the IM plugin (%s) is not built: no "
                     "<build>/plugins/%s/plugin.json" % (base.IM_PLUGIN, base.IM_PLUGIN))
class ImTest(base.IntegrationTestCase):

    def start_peers(self, im_config=None, outbound_proxy="", extra=None):
        self.prosody = self.start_prosody()
        plugins = {base.IM_PLUGIN: {"required": True, "config": im_config or {}}}
        self.gw = self.start_gateway(self.prosody, plugins=plugins,
                                     outbound_proxy=outbound_proxy, extra=extra)
        self.assertIn("ready: 1 plugin(s) started", self.gw.log)
        self.juliet = self.xmpp_client(self.prosody, resource=RESOURCE)

    def uas(self, status=200, reason="OK", expect=".", calls=1, port=None):
        """A sipp UAS that answers `calls` MESSAGEs with `status`."""
        return self.sipp("message_uas_check.xml", port=port, calls=calls, timeout=15,
                         values={"EXPECT": expect, "STATUS": status, "REASON": reason})

    def start_with_uas(self, **uas_kw):
        port = sip.ports.free_udp_port()
        self.start_peers(outbound_proxy="sip:127.0.0.1:%d" % port)
        s = self.uas(port=port, **uas_kw).start()
        s.wait_listening()
        return s

    def wait_juliet_message(self, pred, what, timeout=10):
        return self.assertStanza(self.juliet.wait_for(
            lambda s: s.name == "message" and pred(s), timeout), what)

    def received_message(self, sipp_uas):
        got = [m for m in sipp_uas.received() if m.method == "MESSAGE"]
        self.assertEqual(len(got), 1, sipp_uas.diagnostics())
        return got[0]

    # ---- SIP -> XMPP -----------------------------------------------------------------------

    # TV-IM-02 (basic S2X), IM-10, IM-12: sipp's MESSAGE reaches juliet with from, body and
    # thread (= Call-ID, Table M2), no type or 'normal'; sipp gets 202 (success_status).
    def test_sip_message_from_sipp_reaches_juliet(self):
        self.start_peers()
        s = self.sipp("message_uac.xml", remote="127.0.0.1:%d" % self.gw.sip_port,
                      call_id_prefix="s2x-basic", timeout=10,
                      values={"RURI": JULIET_SIP, "FROM": ROMEO_SIP, "HEADERS": "",
                              "BODY": "hello juliet from sipp", "STATUS": 202})
        s.start()
        m = self.wait_juliet_message(lambda s: s.thread == "s2x-basic-1", "sipp's MESSAGE")
        self.assertEqual(m.get("from"), ROMEO_JID, str(m))
        self.assertEqual(m.get("to").split("/")[0], "juliet@example.com", str(m))
        # sipp terminates the body line with CRLF ([len] counts it, peers.md Appendix).
        self.assertEqual(m.body.rstrip("\r\n"), "hello juliet from sipp", str(m))
        self.assertEqual(m.type, "normal", str(m))  # IM-12, A-30: never chat by default
        self.assertEqual(s.wait(15), 0, s.diagnostics())

    # A-28 (answer after the stanza was written, with the await window): the 2xx goes back
    # only after the stanza reached juliet.
    def test_2xx_only_after_delivery(self):
        self.start_peers()
        c = self.sip_client(self.gw, "udp")
        tx = c.send("MESSAGE", JULIET_SIP, from_uri=ROMEO_SIP, call_id="order-1@stoxtest",
                    headers=[("Content-Type", "text/plain")], body="ordered")
        final = tx.wait(10)
        self.assertIsNotNone(final, self.gw.logs())
        self.assertEqual(final.status, 202, final)
        m = self.wait_juliet_message(lambda s: s.thread == "order-1@stoxtest", "the stanza")
        self.assertLessEqual(m.at, final.received_at,
                             "the SIP 202 arrived %.3f s before the stanza reached juliet" %
                             (m.at - final.received_at))

    # A-28, IM-9, IM-REF-4: success_status 200 (strict RFC 7572) is honoured; no Contact.
    def test_success_status_200(self):
        self.start_peers(im_config={"success_status": 200})
        c = self.sip_client(self.gw, "udp")
        r = c.request("MESSAGE", JULIET_SIP, from_uri=ROMEO_SIP, timeout=10,
                      headers=[("Content-Type", "text/plain")], body="strict")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.has_header("Contact"), r.headers)  # IM-REF-4
        self.wait_juliet_message(lambda s: s.body == "strict", "the stanza")

    # IM-16, IM-19 ("Both protocols use UTF-8"), IM-REF-8: a UTF-8 body arrives unchanged
    # (the sipp scenario is written in UTF-8).
    def test_unicode_body_sip_to_xmpp(self):
        self.start_peers()
        text = "Grüße, Юлия! 恋 💌 ☃ é"
        s = self.sipp("message_uac.xml", remote="127.0.0.1:%d" % self.gw.sip_port,
                      call_id_prefix="s2x-utf8", timeout=10,
                      values={"RURI": JULIET_SIP, "FROM": ROMEO_SIP, "HEADERS": "",
                              "BODY": text, "STATUS": 202})
        s.start()
        m = self.wait_juliet_message(lambda s: s.thread == "s2x-utf8-1", "the UTF-8 MESSAGE")
        self.assertEqual(m.body.rstrip("\r\n"), text)
        self.assertEqual(s.wait(15), 0, s.diagnostics())

    # RFC 3261 §18.1.1, A-32: a 4 KB MESSAGE goes over TCP (above 1300 bytes); it fits the
    # 10 000-byte stanza limit, arrives whole, and the sender gets its 2xx on the connection.
    def test_4kb_body_over_tcp(self):
        self.start_peers()
        body = "".join("line %04d: %s\n" % (i, "x" * 30) for i in range(100))[:4096]
        self.assertEqual(len(body.encode()), 4096)
        c = self.sip_client(self.gw, "tcp")
        r = c.request("MESSAGE", JULIET_SIP, from_uri=ROMEO_SIP, call_id="big-tcp@stoxtest",
                      headers=[("Content-Type", "text/plain;charset=UTF-8")], body=body,
                      timeout=10)
        self.assertIsNotNone(r, self.gw.logs())
        self.assertEqual(r.status, 202, r)
        m = self.wait_juliet_message(lambda s: s.thread == "big-tcp@stoxtest", "4 KB stanza")
        self.assertEqual(m.body, body)

    # Table M2: TV-IM-09 Subject -> <subject/>, A-29 Call-ID -> <thread/>, TV-IM-07
    # Content-Language -> xml:lang (IM-19).
    def test_subject_thread_language_sip_to_xmpp(self):
        self.start_peers()
        c = self.sip_client(self.gw, "udp")
        r = c.request("MESSAGE", JULIET_SIP, from_uri=ROMEO_SIP, call_id="verona-42@example.net",
                      headers=[("Content-Type", "text/plain;charset=UTF-8"),
                               ("Subject", "Il balcone"), ("Content-Language", "it")],
                      body="Ci vediamo stasera", timeout=10)
        self.assertEqual(r.status, 202, r)
        m = self.wait_juliet_message(lambda s: s.thread == "verona-42@example.net", "stanza")
        self.assertEqual(m.subject, "Il balcone", str(m))
        self.assertEqual(m.lang, "it", str(m))
        self.assertEqual(m.body, "Ci vediamo stasera", str(m))

    # TV-IM-06: XML escaping S2X: "1 < 2 & 3 > 2" arrives as that text; the reverse (TV-IM-04)
    # Call-ID thr-<hex> comes back as the original thread.
    def test_xml_escaping_and_thread_decoding_sip_to_xmpp(self):
        self.start_peers()
        c = self.sip_client(self.gw, "udp")
        r = c.request("MESSAGE", JULIET_SIP, from_uri=ROMEO_SIP,
                      call_id="thr-6368617420343223c3a9",
                      headers=[("Content-Type", "text/plain")], body="1 < 2 & 3 > 2", timeout=10)
        self.assertEqual(r.status, 202, r)
        m = self.wait_juliet_message(lambda s: s.body == "1 < 2 & 3 > 2", "escaped stanza")
        self.assertEqual(m.thread, "chat 42#é", str(m))

    # TV-ERR-E3, TV-ERR-X13, CORE-ERR-6: an XMPP user that does not exist -> the SIP sender
    # gets the core's mapping of the condition Prosody answers with, never 503.
    def test_unknown_xmpp_user_gets_mapped_error(self):
        self.start_peers()
        # What Prosody itself answers for nobody@example.com, seen by a plain client.
        raw = self.raw_xmpp_client(self.prosody, resource="probe")
        raw.send("<message to='nobody@example.com' id='probe'><body>?</body></message>")
        bounce = self.assertStanza(raw.wait_for(lambda s: s.get("id") == "probe"),
                                   "Prosody's bounce")
        condition = bounce.error_condition()[1]
        self.assertIsNotNone(condition, str(bounce))
        expected = int(gateway.map_error(condition)[0])

        c = self.sip_client(self.gw, "udp")
        r = c.request("MESSAGE", "sip:nobody@example.com", from_uri=ROMEO_SIP, timeout=10,
                      headers=[("Content-Type", "text/plain")], body="anyone there?")
        self.assertIsNotNone(r, self.gw.logs())
        self.assertNotEqual(r.status, 503, r)
        self.assertTrue(400 <= r.status <= 699, r)
        self.assertEqual(r.status, expected, "Prosody answered <%s/>; map-error says %d" %
                         (condition, expected))

    # ---- XMPP -> SIP -----------------------------------------------------------------------

    # TV-IM-01 (basic X2S), IM-6, IM-REF-1, IM-4: juliet's message reaches the SIP side
    # through the outbound proxy, From carrying her resource as gr; no Contact or Subject;
    # nothing goes back to XMPP on success. Prosody 0.12 stamps xml:lang='en' on every c2s
    # stanza (even from a stream without xml:lang), so IM-19 / TV-IM-08 apply:
    # Content-Language: en.
    def test_xmpp_message_reaches_sip(self):
        uas = self.start_with_uas(expect="Montague")
        raw = self.raw_xmpp_client(self.prosody, resource="yn0cl4bnw0yr3vym")
        raw.send_presence()
        text = "Art thou not Romeo, and a Montague?"
        raw.send("<message to='%s' id='m1'><body>%s</body></message>" % (ROMEO_JID, text))
        self.assertEqual(uas.wait(15), 0, uas.diagnostics() + self.gw.logs())
        req = self.received_message(uas)
        self.assertEqual(req.request_uri, ROMEO_SIP, req)
        self.assertEqual(name_addr_uri(req.header("From")),
                         "sip:juliet@example.com;gr=yn0cl4bnw0yr3vym", req.headers)
        self.assertIn(";tag=", req.header("From"))
        self.assertEqual(name_addr_uri(req.header("To")), ROMEO_SIP, req.headers)
        self.assertNotIn("tag=", req.header("To"))
        self.assertEqual(req.header("Content-Type"), "text/plain;charset=UTF-8", req.headers)
        self.assertEqual(req.text, text)
        self.assertEqual(req.header("Content-Length"), "35", req.headers)
        self.assertEqual(req.header("CSeq"), "1 MESSAGE", req.headers)
        self.assertEqual(req.header("Max-Forwards"), "70", req.headers)
        self.assertEqual(req.header("Content-Language"), "en", req.headers)
        for absent in ("Contact", "Subject"):
            self.assertFalse(req.has_header(absent), "%s in %s" % (absent, req.headers))
        # IM-4: success is silent on the XMPP side.
        self.assertIsNone(raw.wait_for(lambda s: s.get("id") == "m1", timeout=1.0))

    # IM-19, Table M1: UTF-8 survives into the SIP body, labelled charset=UTF-8.
    def test_unicode_body_xmpp_to_sip(self):
        uas = self.start_with_uas()
        text = "Grüße, Romeo! 恋 💌 ☃"
        self.juliet.send_message(ROMEO_JID, body=text)
        self.assertEqual(uas.wait(15), 0, uas.diagnostics())
        req = self.received_message(uas)
        self.assertEqual(req.text, text)
        self.assertIn("charset=UTF-8", req.header("Content-Type"))

    # Table M1: <subject/> -> Subject, TV-IM-03 <thread/> -> Call-ID, TV-IM-04 a thread that
    # is no valid Call-ID -> thr-<hex>, TV-IM-08 xml:lang -> Content-Language.
    def test_subject_thread_language_xmpp_to_sip(self):
        uas = self.start_with_uas(calls=2)
        self.juliet.send_message(ROMEO_JID, body="Bonsoir", subject="Le balcon",
                                 thread="th-1@verona", lang="fr")
        thread2 = "chat 42#é"  # TV-IM-04: Call-ID thr-6368617420343223c3a9
        util.wait_until(lambda: len(uas.received()) >= 1, 10)
        self.juliet.send_message(ROMEO_JID, body="encore", thread=thread2)
        self.assertEqual(uas.wait(15), 0, uas.diagnostics())
        first, second = [m for m in uas.received() if m.method == "MESSAGE"]
        self.assertEqual(first.header("Subject"), "Le balcon", first.headers)
        self.assertEqual(first.header("Call-ID"), "th-1@verona", first.headers)
        self.assertEqual(first.header("Content-Language"), "fr", first.headers)
        self.assertEqual(second.header("Call-ID"), "thr-6368617420343223c3a9", second.headers)

    # TV-ERR-E1 (404 -> item-not-found), TV-IM-17 (480), TV-ERR-S01 (486 ->
    # recipient-unavailable, wait), CORE-ERR-7: SIP failures become stanza errors equal to
    # `stoxgw map-error CODE`.
    def test_sip_errors_map_to_stanza_errors(self):
        port = sip.ports.free_udp_port()
        self.start_peers(outbound_proxy="sip:127.0.0.1:%d" % port)
        cases = ((404, "Not Found", "item-not-found"),
                 (480, "Temporarily Unavailable", "recipient-unavailable"),
                 (486, "Busy Here", "recipient-unavailable"))
        for code, reason, condition in cases:
            with self.subTest(status=code):
                uas = self.uas(status=code, reason=reason, port=port)
                uas.start()
                uas.wait_listening()
                mid = self.juliet.send_message(ROMEO_JID, body="are you there (%d)?" % code)
                err = self.wait_juliet_message(lambda s, mid=mid: s.get("id") == mid,
                                               "error for %d" % code)
                self.assertEqual(uas.wait(10), 0, uas.diagnostics())
                self.assertEqual(err.type, "error", str(err))
                self.assertEqual(err.get("from"), ROMEO_JID, str(err))
                etype, cond = err.error_condition()
                self.assertEqual(cond, condition, str(err))
                mapped = gateway.map_error(str(code))
                self.assertEqual([cond, etype], mapped[:2], str(err))

    # ---- delivery across a Prosody restart ---------------------------------------------------

    # IM-REF-6 (a 4xx/5xx means not delivered) and docs/architecture.md "Nothing lost,
    # nothing silent": 200 MESSAGEs while Prosody restarts; each one either reaches juliet or
    # its sender gets an error final response, and a 2xx always means it arrived.
    def test_prosody_restart_during_stream(self):
        self.start_peers(im_config={"answer_deadline_ms": 5000},
                         extra={"xmpp": {"component": {"send_queue_deadline_ms": 3000}}})
        self.juliet.close()
        juliet = self.xmpp_client(self.prosody, resource=RESOURCE, reconnect=True)
        # About 300 MESSAGEs/s: several stanzas are in flight when Prosody goes away, which
        # is exactly when a delivery outcome is easiest to get wrong.
        total, restart_at, interval = 200, 60, 0.003
        c = self.sip_client(self.gw, "udp")
        txs = {}
        restarted = threading.Event()

        def restart():
            self.prosody.restart()
            restarted.set()

        restarter = threading.Thread(target=restart, daemon=True)
        for n in range(total):
            if n == restart_at:
                restarter.start()
            txs[n] = c.send("MESSAGE", JULIET_SIP, from_uri=ROMEO_SIP,
                            call_id="burst-%03d@stoxtest" % n, body="burst %03d" % n,
                            headers=[("Content-Type", "text/plain")])
            time.sleep(interval)
        restarter.join(20)
        self.assertTrue(restarted.is_set(), "Prosody did not restart")
        # answer_deadline_ms bounds every answer; UDP retransmissions cover losses.
        for tx in txs.values():
            tx.wait(20)
        time.sleep(0.5)  # a stanza in flight when its 2xx left is not lost, just late

        arrived = set()
        for s in juliet.inbox.take_all(lambda s: s.name == "message" and
                                       (s.thread or "").startswith("burst-")):
            arrived.add(int(s.thread[6:9]))
        errored = {n for n, tx in txs.items() if tx.final is not None and tx.status >= 300}
        succeeded = {n for n, tx in txs.items() if tx.final is not None and tx.status < 300}
        unanswered = {n for n, tx in txs.items() if tx.final is None}
        lost = set(range(total)) - arrived - errored
        statuses = {}
        for tx in txs.values():
            statuses[tx.status] = statuses.get(tx.status, 0) + 1
        summary = ("sent %d: arrived %d, errored %d (statuses %s), unanswered %d, "
                   "2xx but never arrived %s, error but arrived %s" %
                   (total, len(arrived), len(errored), statuses, len(unanswered),
                    sorted(succeeded - arrived), sorted(errored & arrived)))
        sys.stderr.write("\n%s\n" % summary)
        self.assertGreater(len(arrived), 0, summary)
        self.assertEqual(unanswered, set(), summary)
        self.assertEqual(lost, set(), summary)
        self.assertEqual(len(arrived) + len(errored - arrived), total, summary)
        self.assertTrue(juliet.wait_session(2, timeout=15), "juliet did not log in again")


if __name__ == "__main__":
    base.main()

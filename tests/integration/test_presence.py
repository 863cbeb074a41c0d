"""Presence plugin (RFC 8048) against real peers: Prosody + slixmpp on the XMPP side, SIP user
agents from stoxtest.presence_ua on the SIP side (the gateway's outbound proxy points at the
presentity's UA, so SUBSCRIBEs reach it), plus restarts, unreachable peers and bad input.

W-X: an XMPP user watches a SIP contact (the gateway subscribes). W-S: a SIP user watches an XMPP
contact (the gateway notifies). Requirement IDs are in stox-core.md §2.
"""

import os
import unittest

from stoxtest import base, kamailio_presence, presence_ua, util

PRESENCE_PLUGIN = "org.stoxgw.presence"
CLIENT_NS = "jabber:client"


def _staged():
    return util.plugin_staged(PRESENCE_PLUGIN)


def presence_from(prefix, ptype=None):
    """Predicate: a <presence/> whose from starts with prefix and whose type is ptype."""
    def match(s):
        return (s.name == "presence" and (s.get("from") or "").startswith(prefix) and
                s.get("type") == ptype)
    return match


@unittest.skipUnless(_staged(), "the presence plugin is not built")
class PresenceTestBase(base.IntegrationTestCase):

    def start_all(self, outbound_proxy="", presence_config=None, extra=None, start_juliet=True):
        self.prosody = self.start_prosody()
        self.store_path = os.path.join(self.dir, "presence.sqlite")
        cfg = {"store": {"kind": "sqlite", "path": self.store_path, "batch_interval_ms": 20},
               "coalesce_window_ms": 50}
        cfg.update(presence_config or {})
        self.plugins = {PRESENCE_PLUGIN: {"required": True, "config": cfg}}
        self.extra = extra or {}
        self.outbound_proxy = outbound_proxy
        self.gw = self.start_gateway(self.prosody, plugins=self.plugins,
                                     outbound_proxy=outbound_proxy, extra=self.extra)
        self.assertIn("ready: 1 plugin(s) started", self.gw.log)
        if start_juliet:
            self.juliet = self.xmpp_client(self.prosody, resource="balcony")
            # The roster is driven by the test, not by slixmpp's automatic answers.
            self.juliet.xmpp.auto_authorize = None
            self.juliet.xmpp.auto_subscribe = False

    def presentity(self, users=("romeo",), **kw):
        p = presence_ua.Presentity(list(users), **kw)
        self.addCleanup(p.close)
        return p

    def watcher(self, aor="sip:romeo@example.net"):
        w = presence_ua.Watcher(aor)
        self.addCleanup(w.close)
        return w

    def gw_dest(self):
        return ("127.0.0.1", self.gw.sip_port)


class WatcherRoleTest(PresenceTestBase):
    """W-X: juliet (XMPP) watches romeo (SIP)."""

    def setUp(self):
        super().setUp()
        self.romeo = self.presentity()
        self.romeo.state["romeo"] = presence_ua.pidf(
            "pres:romeo@example.net", [("ID-desk", "open", "away", "At lunch")])
        self.start_all(outbound_proxy="sip:127.0.0.1:%d" % self.romeo.port)

    def subscribe_juliet(self):
        self.juliet.send_raw("<presence to='romeo@example.net' type='subscribe'/>")
        sub = self.romeo.wait_request(lambda m: m.method == "SUBSCRIBE", 10)
        self.assertIsNotNone(sub, "no SUBSCRIBE reached the SIP side")
        return sub

    def test_pres_wx_1_5_6_subscribe_then_presence(self):
        sub = self.subscribe_juliet()
        # PRES-WX-1 / TV-PRES-01
        self.assertEqual(sub.header("Event"), "presence")
        self.assertEqual(sub.header("Accept"), "application/pidf+xml")
        self.assertEqual(sub.header("Expires"), "3600")
        self.assertIn("sip:juliet@example.com", sub.header("From"))
        # PRES-WX-5: subscribed first, then PRES-WX-6: the presence of the tuple.
        self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net", "subscribed")),
                          "subscribed")
        p = self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net/desk")),
                              "romeo's presence")
        self.assertEqual(p.child_text("show"), "away")
        self.assertEqual(p.child_text("status"), "At lunch")
        # PRES-NOT-13: closed -> unavailable, from the full JID.
        self.romeo.notify_all("romeo", presence_ua.pidf("pres:romeo@example.net",
                                                        [("ID-desk", "closed", None, None)]))
        self.assertStanza(self.juliet.wait_for(
            presence_from("romeo@example.net/desk", "unavailable")), "unavailable")

    def test_pres_wx_4_pending_notify_sends_nothing(self):
        self.romeo.subscription_state = "pending"
        self.subscribe_juliet()
        n = self.romeo.wait_request(lambda m: m.method == "SUBSCRIBE", 5)
        self.assertIsNotNone(n)
        self.assertIsNone(self.juliet.wait_for(presence_from("romeo@example.net"), 2))
        # The approval arrives later as an active NOTIFY.
        self.romeo.notify_all("romeo", self.romeo.state["romeo"])
        self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net", "subscribed")),
                          "subscribed after approval")

    def test_pres_wx_10_403_cancels_the_authorization(self):
        self.romeo.subscribe_status = 403
        self.juliet.send_raw("<presence to='romeo@example.net' type='subscribe'/>")
        # 403/489/603: the authorization is refused for good (RFC 8048 §5.2.2 MUST), which
        # XMPP says with `unsubscribed` from the contact's bare JID.
        self.assertStanza(self.juliet.wait_for(
            presence_from("romeo@example.net", "unsubscribed")), "unsubscribed")
        self.assertEqual(self.romeo.count("SUBSCRIBE"), 1)

    def test_initial_subscribe_refused_otherwise_gives_a_presence_error(self):
        self.romeo.subscribe_status = 404
        self.juliet.send_raw("<presence to='romeo@example.net' type='subscribe'/>")
        # Table E2 (§2.3.1): 404 -> item-not-found.
        err = self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net", "error")),
                                "presence error")
        self.assertEqual(err.error_condition()[1], "item-not-found")

    def test_pres_wx_12_13_unsubscribe(self):
        self.subscribe_juliet()
        self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net", "subscribed")),
                          "subscribed")
        n_before = self.romeo.count("SUBSCRIBE")
        self.juliet.send_raw("<presence to='romeo@example.net' type='unsubscribe'/>")
        unsub = self.romeo.wait_request(
            lambda m: m.method == "SUBSCRIBE" and m.header("Expires") == "0", 10)
        self.assertIsNotNone(unsub, "no SUBSCRIBE Expires: 0")
        self.assertEqual(self.romeo.count("SUBSCRIBE"), n_before + 1)
        # The `unsubscribed` the gateway sends on the 200 (PRES-WX-13) is not shown to juliet:
        # her server already cancelled the subscription and drops it (RFC 6121 §3.2.3); the
        # unit test TV-PRES-10 checks the stanza itself. Nothing more reaches the SIP side.
        self.assertIsNone(self.romeo.wait_request(lambda m: m.method == "SUBSCRIBE", 2,
                                                  start=len(self.romeo.requests)))

    def test_malformed_pidf_gets_400_and_no_stanza(self):
        self.subscribe_juliet()
        self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net/desk")), "first")
        self.juliet.inbox.take_all()
        txs = self.romeo.notify_all("romeo", "<presence xmlns='urn:ietf:params:xml:ns:pidf'")
        final = txs[0].wait(10)
        self.assertIsNotNone(final)
        self.assertEqual(final.status, 400)
        txs = self.romeo.notify_all(
            "romeo", "<?xml version='1.0'?><!DOCTYPE p [<!ENTITY a 'x'>]><presence "
                     "xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:romeo@example.net'/>")
        self.assertEqual(txs[0].wait(10).status, 400)
        self.assertIsNone(self.juliet.wait_for(presence_from("romeo@example.net"), 1))
        self.assertTrue(self.gw.running())

    def test_gateway_restart_keeps_the_subscription_without_resubscribing(self):
        self.subscribe_juliet()
        self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net/desk")), "first")
        subscribes = self.romeo.count("SUBSCRIBE")
        self.gw.stop()
        self.gw.start(keep_port=True)
        self.assertIn("resumed 1 watcher", self.gw.log)
        self.juliet.inbox.take_all()
        # No burst of SUBSCRIBEs to the SIP side at restart (issue 4 item 4).
        self.assertIsNone(self.romeo.wait_request(lambda m: m.method == "SUBSCRIBE", 2,
                                                  start=len(self.romeo.requests)))
        self.assertEqual(self.romeo.count("SUBSCRIBE"), subscribes)
        # The existing dialog still delivers.
        txs = self.romeo.notify_all("romeo", presence_ua.pidf(
            "pres:romeo@example.net", [("ID-desk", "open", "dnd", None)]))
        self.assertEqual(txs[0].wait(10).status, 200)
        p = self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net/desk")),
                              "presence after restart")
        self.assertEqual(p.child_text("show"), "dnd")


class WatcherRoleUnreachableTest(PresenceTestBase):

    def test_sip_side_unreachable_gives_a_presence_error(self):
        # The outbound proxy is a port where nothing listens: the SUBSCRIBE times out (408) or
        # fails at the transport (nta's 503, which Table E2 maps to internal-server-error);
        # either way juliet is told, never silence.
        dead = presence_ua.Presentity(["nobody"])
        port = dead.port
        dead.close()
        self.start_all(outbound_proxy="sip:127.0.0.1:%d;transport=tcp" % port,
                       extra={"sip": {"transaction_timeout_ms": 2000}})
        self.juliet.send_raw("<presence to='romeo@example.net' type='subscribe'/>")
        err = self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net", "error"),
                                                     15), "presence error")
        self.assertIn(err.error_condition()[1], ("remote-server-timeout", "internal-server-error"))


class NotifierRoleTest(PresenceTestBase):
    """W-S: romeo (SIP) watches juliet (XMPP)."""

    def setUp(self):
        super().setUp()
        self.start_all()
        self.romeo = self.watcher()

    def approve_next_request(self):
        # PRES-WS-2: the XMPP server delivers the subscription request to the user.
        req = self.assertStanza(self.juliet.wait_for(
            lambda s: s.name == "presence" and s.get("type") == "subscribe"), "subscribe")
        self.assertEqual(req.get("from"), "romeo@example.net")
        self.juliet.send_raw("<presence to='romeo@example.net' type='subscribed'/>")

    def test_pres_ws_1_3_6_subscribe_approve_and_notify(self):
        final = self.romeo.subscribe("sip:juliet@example.com", self.gw_dest())
        self.assertIsNotNone(final)
        self.assertEqual(final.status, 200)  # PRES-WS-1: 200 at once
        # NOTIFY pending right after the 200.
        n = self.romeo.wait_notify(timeout=5)
        self.assertIsNotNone(n)
        self.assertTrue(n.header("Subscription-State").startswith("pending"))
        self.approve_next_request()
        # PRES-WS-3: approval -> active; then juliet's presence arrives as PIDF (PRES-WS-6).
        active = self.romeo.wait_notify(
            lambda m: m.header("Subscription-State", "").startswith("active"), 10)
        self.assertIsNotNone(active, "no active NOTIFY")
        self.juliet.send_raw("<presence><show>away</show><status>Out</status></presence>")
        pidf = self.romeo.wait_notify(lambda m: b"<show" in m.body and b"away" in m.body, 10)
        self.assertIsNotNone(pidf, "no NOTIFY with juliet's away status")
        self.assertEqual(pidf.header("Content-Type"), "application/pidf+xml")
        self.assertIn(b"ID-balcony", pidf.body)
        self.assertIn(b"Out", pidf.body)

    def test_pres_ws_4_decline(self):
        self.romeo.subscribe("sip:juliet@example.com", self.gw_dest())
        self.assertStanza(self.juliet.wait_for(
            lambda s: s.name == "presence" and s.get("type") == "subscribe"), "subscribe")
        self.juliet.send_raw("<presence to='romeo@example.net' type='unsubscribed'/>")
        n = self.romeo.wait_notify(
            lambda m: m.header("Subscription-State", "").startswith("terminated"), 10)
        self.assertIsNotNone(n)
        self.assertIn("reason=rejected", n.header("Subscription-State"))

    def test_wrong_event_and_accept(self):
        # TV-PRES-32: 489 for another event package (unclaimed: answered by the core or the
        # plugin), 406 when PIDF is not acceptable.
        final = self.romeo.subscribe("sip:juliet@example.com", self.gw_dest(),
                                     headers=[("Accept", "application/xpidf+xml")])
        self.assertEqual(final.status, 406)
        w2 = self.watcher()
        w2.dialog = None
        d = presence_ua.Dialog("ev@x", "sip:romeo@example.net", "t1", "sip:juliet@example.com",
                               None, "sip:juliet@example.com", [], "udp", local_cseq=0)
        tx = w2.ua.send_request("SUBSCRIBE", "sip:juliet@example.com",
                                d.headers("SUBSCRIBE", 1) + [("Event", "dialog"),
                                                             ("Expires", "60")],
                                dest=self.gw_dest())
        self.assertEqual(tx.wait(10).status, 489)
        self.assertIsNone(self.juliet.wait_for(
            lambda s: s.name == "presence" and s.get("type") == "subscribe", 1))

    def test_gateway_restart_keeps_notifying(self):
        self.romeo.subscribe("sip:juliet@example.com", self.gw_dest())
        self.approve_next_request()
        self.assertIsNotNone(self.romeo.wait_notify(
            lambda m: m.header("Subscription-State", "").startswith("active"), 10))
        self.gw.stop()
        self.gw.start(keep_port=True)
        self.assertIn("resumed 0 watcher and 1 notifier", self.gw.log)
        count = len(self.romeo.notifies())
        self.juliet.send_raw("<presence><show>dnd</show></presence>")
        n = self.romeo.wait_notify(lambda m: b"dnd" in m.body, 10, start=count)
        self.assertIsNotNone(n, "no NOTIFY after the restart")
        # Same dialog: no new SUBSCRIBE was needed.
        self.assertEqual(n.header("Call-ID"), self.romeo.dialog.call_id)

    def test_prosody_restart(self):
        self.romeo.subscribe("sip:juliet@example.com", self.gw_dest())
        self.approve_next_request()
        self.assertIsNotNone(self.romeo.wait_notify(
            lambda m: m.header("Subscription-State", "").startswith("active"), 10))
        self.juliet.close()
        self.prosody.restart()
        self.gw.wait_authenticated(count=2, timeout=20)
        juliet = self.xmpp_client(self.prosody, resource="balcony")
        count = len(self.romeo.notifies())
        juliet.send_raw("<presence><show>xa</show></presence>")
        n = self.romeo.wait_notify(lambda m: b"xa" in m.body, 10, start=count)
        self.assertIsNotNone(n, "no NOTIFY after Prosody's restart")


class KamailioInteropTest(PresenceTestBase):
    """Interop with Kamailio's presence server (issue 4 item 6), the Presence Server model of
    PRES-ARCH-1 (the other tests use the proxy/UA model; PRES-ARCH-2's two notions are both
    exercised: the notification dialog and the presence authorization), and PRES-WX-3 (the
    notifier's immediate active NOTIFY). A SIP UA PUBLISHes to Kamailio
    and an XMPP user subscribed through stoxgw sees it; a SIP watcher subscribed through Kamailio
    and stoxgw receives NOTIFYs when the XMPP user changes status."""

    def setUp(self):
        super().setUp()
        self.kamailio = kamailio_presence.KamailioPresence(os.path.join(self.dir, "kamailio"))
        self.addCleanup(self.kamailio.stop)
        self._diagnostics.append(self.kamailio.logs)
        self.start_all(outbound_proxy="sip:127.0.0.1:%d" % self.kamailio.port)
        self.kamailio.start(self.gw.sip_port)
        self.kam = ("127.0.0.1", self.kamailio.port)

    def test_publish_to_kamailio_reaches_the_xmpp_watcher(self):
        phone = self.presentity(users=())
        body = presence_ua.pidf("sip:romeo@example.net", [("ID-phone", "open", "away", "Lunch")])
        pub = phone.publish("sip:romeo@example.net", body, self.kam).wait(10)
        self.assertIsNotNone(pub)
        self.assertEqual(pub.status, 200, "PUBLISH to Kamailio: %s" % pub)
        self.juliet.send_raw("<presence to='romeo@example.net' type='subscribe'/>")
        self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net", "subscribed"),
                                               15), "subscribed (Kamailio's active NOTIFY)")
        p = self.assertStanza(self.juliet.wait_for(presence_from("romeo@example.net/phone"), 15),
                              "romeo's published presence")
        self.assertEqual(p.child_text("show"), "away")
        # The phone modifies its publication (RFC 3903 §4.4): Kamailio notifies the gateway,
        # the gateway tells juliet.
        body = presence_ua.pidf("sip:romeo@example.net", [("ID-phone", "open", "dnd", "Call")])
        etag = pub.header("SIP-ETag")
        self.assertTrue(etag)
        self.assertEqual(phone.publish("sip:romeo@example.net", body, self.kam,
                                       etag=etag).wait(10).status, 200)
        p = self.assertStanza(self.juliet.wait_for(
            lambda s: presence_from("romeo@example.net/phone")(s) and
            s.child_text("show") == "dnd", 15), "romeo's second publication")
        self.assertEqual(p.child_text("status"), "Call")

    def test_sip_watcher_through_kamailio_receives_notifies(self):
        romeo = self.watcher()
        final = romeo.subscribe("sip:juliet@example.com", self.kam)
        self.assertIsNotNone(final)
        self.assertEqual(final.status, 200)
        # Kamailio stays in the dialog: its Record-Route comes back once (RFC 3261 §12.1.1).
        self.assertEqual(len(final.header_values("Record-Route")), 1, final.text)
        romeo.dialog.route_set = final.header_values("Record-Route")
        req = self.assertStanza(self.juliet.wait_for(
            lambda s: s.name == "presence" and s.get("type") == "subscribe", 10), "subscribe")
        self.assertEqual(req.get("from"), "romeo@example.net")
        self.juliet.send_raw("<presence to='romeo@example.net' type='subscribed'/>")
        self.assertIsNotNone(romeo.wait_notify(
            lambda m: m.header("Subscription-State", "").startswith("active"), 10),
            "no active NOTIFY through Kamailio")
        self.juliet.send_raw("<presence><show>chat</show><status>Free</status></presence>")
        n = romeo.wait_notify(lambda m: b"chat" in m.body, 10)
        self.assertIsNotNone(n, "no NOTIFY with juliet's status through Kamailio")
        self.assertIn(b"Free", n.body)


if __name__ == "__main__":
    base.main()

#!/usr/bin/python3
"""The XEP-0114 component link against a real Prosody: handshake, restarts, wrong secret,
start order, oversized stanzas, clean stop (docs/architecture.md "Startup and shutdown").

The gateway runs without plugins here: an unclaimed <message/> bounces back with
<feature-not-implemented/>, which proves the whole path client -> Prosody -> gateway ->
Prosody -> client without depending on any plugin.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoxtest import base, gateway  # noqa: E402

ROMEO = "romeo@example.net"


class ComponentLinkTest(base.IntegrationTestCase):

    def start_core_gateway(self, prosody, **kw):
        return self.start_gateway(prosody, plugin_path=self.empty_plugin_dir(), **kw)

    def assert_link_works(self, prosody, client=None, what="message through the link"):
        """A message to the gateway's domain comes back as an error from the gateway."""
        client = client or self.xmpp_client(prosody)
        mid = client.send_message(ROMEO, body="ping %f" % time.time())
        reply = self.assertStanza(client.wait_for(
            lambda s: s.name == "message" and s.get("id") == mid, timeout=10), what)
        self.assertEqual(reply.type, "error", str(reply))
        # Prosody bounces with service-unavailable (from example.net) when no component is
        # connected; only the gateway answers feature-not-implemented from romeo.
        self.assertEqual(reply.get("from"), ROMEO, str(reply))
        self.assertEqual(reply.error_condition()[1], "feature-not-implemented", str(reply))

    # XEP-0114 §3 handshake with a real server; SIGTERM stops with exit 0 after closing the
    # stream (docs/architecture.md "Startup and shutdown").
    def test_authenticates_and_stops_cleanly(self):
        prosody = self.start_prosody()
        gw = self.start_core_gateway(prosody)
        self.assertIn("ready: 0 plugin(s) started", gw.log)
        self.assert_link_works(prosody)
        gw.stop()
        self.assertIn("closing the XMPP stream (stopping)", gw.log)
        self.assertIn("stopped", gw.log.splitlines()[-1])

    # docs/architecture.md (XMPP link: reconnect): Prosody restarted, i.e. a clean stream
    # close -> the gateway reconnects and traffic flows again.
    def test_reconnects_after_prosody_restart(self):
        prosody = self.start_prosody()
        gw = self.start_core_gateway(prosody)
        prosody.restart()
        gw.wait_authenticated(count=2, timeout=10)
        self.assertRegex(gw.log, r"XMPP link to 127\.0\.0\.1:%d down" % prosody.component_port)
        self.assert_link_works(prosody, what="message after the restart")
        gw.stop()

    # Same after a crash: Prosody killed (no stream close) -> refused connects, backoff
    # (xmpp.component.reconnect_min_ms/max_ms, docs/config.md), reconnect.
    def test_reconnects_after_prosody_crash(self):
        prosody = self.start_prosody()
        gw = self.start_core_gateway(prosody)
        prosody.kill()
        time.sleep(0.5)  # a few refused connects: the backoff must keep trying
        prosody.start()
        gw.wait_authenticated(count=2, timeout=10)
        self.assert_link_works(prosody, what="message after the crash")
        self.assertTrue(gw.running())
        gw.stop()

    # XEP-0114 §3 / RFC 6120 §4.9.3.12: a wrong secret is a <not-authorized/> stream error the
    # gateway survives: it logs it, keeps retrying with backoff, and authenticates once the
    # server accepts its secret.
    def test_wrong_secret_is_logged_and_retried(self):
        prosody = self.start_prosody(secret="the-right-secret")
        gw = self.start_core_gateway(prosody, secret="a-wrong-secret", wait_authenticated=False)
        gw.wait_log(r"sent stream error <not-authorized/>", count=2, timeout=10)
        self.assertTrue(gw.running(), gw.logs())
        self.assertNotIn(gateway.authenticated_line(gw.domain), gw.log)
        # The server now expects the gateway's secret: the next attempt succeeds.
        prosody.secret = "a-wrong-secret"
        prosody.restart()
        gw.wait_authenticated(timeout=10)
        self.assert_link_works(prosody)
        gw.stop()

    # docs/architecture.md "Startup and shutdown": started before the server -> "ready"
    # anyway (SIP serves), and the link comes up once Prosody listens.
    def test_gateway_started_before_prosody(self):
        prosody = self.start_prosody(start=False)
        gw = self.start_core_gateway(prosody, wait_authenticated=False)
        gw.wait_log(r"XMPP link to 127\.0\.0\.1:%d down" % prosody.component_port, count=2,
                    timeout=10)
        self.assertTrue(gw.running())
        prosody.start()
        # reconnect_max_ms is 1000 in tests: one more attempt within about a second.
        gw.wait_authenticated(timeout=10)
        self.assert_link_works(prosody)
        gw.stop()

    # RFC 6120 §4.9.3.14, docs/config.md xmpp.component.max_stanza_bytes: a larger stanza
    # closes the stream with <policy-violation/>; the gateway reconnects and goes on.
    def test_oversized_stanza_from_server_closes_stream_and_recovers(self):
        prosody = self.start_prosody()
        gw = self.start_core_gateway(
            prosody, extra={"xmpp": {"component": {"max_stanza_bytes": 4096}}})
        raw = self.raw_xmpp_client(prosody)
        raw.send("<message to='%s' id='big'><body>%s</body></message>" % (ROMEO, "x" * 8192))
        gw.wait_log(r"closing the XMPP stream with <policy-violation/>", timeout=10)
        gw.wait_authenticated(count=2, timeout=10)
        self.assertTrue(gw.running())
        self.assert_link_works(prosody, what="message after the oversized one")
        gw.stop()

    # Deeply nested and unusual (but well-formed) payloads from the server do not break the
    # link: each gets its error reply (RFC 6120 §8.3), the stream stays up.
    def test_unusual_payloads_keep_the_link_up(self):
        prosody = self.start_prosody()
        gw = self.start_core_gateway(prosody)
        raw = self.raw_xmpp_client(prosody)
        nested = "<a xmlns='urn:example:deep'>" * 200 + "</a>" * 200
        payloads = {
            "deep": "<message to='%s' id='deep'><body>d</body>%s</message>" % (ROMEO, nested),
            "ents": "<message to='%s' id='ents'><body>&lt;&amp;&gt;&#x1F600;&#233;</body>"
                    "</message>" % ROMEO,
            "attrs": "<message to='%s' id='attrs' xmlns:q='urn:q' q:x='1'><body q:y='2'>a"
                     "</body><q:z/></message>" % ROMEO,
        }
        for payload in payloads.values():
            raw.send(payload)
        for mid in payloads:
            reply = self.assertStanza(raw.wait_for(
                lambda s, mid=mid: s.name == "message" and s.get("id") == mid, timeout=10),
                "error reply to %s" % mid)
            self.assertEqual(reply.type, "error", str(reply))
        self.assertEqual(gw.log.count(gateway.authenticated_line(gw.domain)), 1,
                         "the link was re-established: " + gw.logs())
        gw.stop()

    # README.md ("SIGTERM ... stop it cleanly"): SIGTERM as soon as "ready:" is logged still
    # stops cleanly (exit 0); a supervisor may stop a service the moment it reports ready.
    # Repeated, because the window between the "ready:" line and the signal handler being
    # installed is short.
    def test_sigterm_right_after_ready_exits_cleanly(self):
        prosody = self.start_prosody()
        gw = gateway.Gateway(os.path.join(self.dir, "stoxgw"), prosody=prosody,
                             plugin_path=self.empty_plugin_dir())
        self._diagnostics.append(gw.logs)
        codes = [gw.sigterm_at_ready() for _ in range(10)]
        self.assertEqual(codes, [0] * 10, "exit codes of 10 runs (-15: died of the signal)")

    # docs/architecture.md "Startup and shutdown": SIGTERM while the link is down (reconnect
    # pending) still stops in time.
    def test_stops_cleanly_while_prosody_is_down(self):
        prosody = self.start_prosody()
        gw = self.start_core_gateway(prosody)
        prosody.stop()
        gw.wait_log(r"XMPP link to .* down", timeout=10)
        started = time.monotonic()
        gw.stop(timeout=10)
        self.assertLess(time.monotonic() - started, 6.0, gw.logs())


if __name__ == "__main__":
    base.main()

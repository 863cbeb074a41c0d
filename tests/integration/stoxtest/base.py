"""The TestCase base of the integration tests: per-test log folder, peers stopped by cleanup,
log tails printed when a test fails."""

import os
import sys
import tempfile
import unittest

from . import gateway, prosody, sip, util, xmpp

IM_PLUGIN = "org.stoxgw.im"


class IntegrationTestCase(unittest.TestCase):
    """Each test gets <log root>/<module>/<Class.test>/ (wiped first) for every peer's files.

    Everything started through the helpers below is stopped by ``addCleanup``, in reverse
    order, whether the test passed or not; a failed test also prints the tails of the logs.
    """

    maxDiff = None

    def setUp(self):
        module = os.path.splitext(os.path.basename(sys.modules[type(self).__module__].__file__
                                                   or "tests"))[0]
        self.dir = util.fresh_dir(os.path.join(util.log_root(), module,
                                               "%s.%s" % (type(self).__name__,
                                                          self._testMethodName)))
        self._diagnostics = []
        # Registered first, so it runs last: the logs are complete by then.
        self.addCleanup(self._report_on_failure)

    # -- peers -------------------------------------------------------------------------------
    def start_prosody(self, name="prosody", users=(("juliet", "juliet-pw"),), start=True,
                      **kw):
        p = prosody.Prosody(os.path.join(self.dir, name), **kw)
        for user, password in users:
            p.register(user, password)
        self.addCleanup(p.stop)
        self._diagnostics.append(p.logs)
        if start:
            p.start()
        return p

    def start_gateway(self, prosody_=None, name="stoxgw", wait_authenticated=True, **kw):
        g = gateway.Gateway(os.path.join(self.dir, name), prosody=prosody_, **kw)
        self.addCleanup(g.kill_if_running)
        self._diagnostics.append(g.logs)
        g.start(wait_authenticated=wait_authenticated)
        return g

    def empty_plugin_dir(self):
        """A plugin path holding no plugin: the gateway runs with the core alone."""
        return tempfile.mkdtemp(prefix="no-plugins-", dir=self.dir)

    def xmpp_client(self, prosody_, user="juliet", password="juliet-pw", resource=None, **kw):
        jid = "%s@%s" % (user, prosody_.xmpp_domain) + ("/" + resource if resource else "")
        c = xmpp.XmppClient(jid, password, prosody_.c2s_port, **kw)
        self.addCleanup(c.close)
        c.connect()
        return c

    def raw_xmpp_client(self, prosody_, user="juliet", password="juliet-pw", resource="raw"):
        c = xmpp.RawXmppClient(user, prosody_.xmpp_domain, password, prosody_.c2s_port,
                               resource=resource)
        self.addCleanup(c.close)
        c.login()
        return c

    def sip_client(self, gw, transport="udp"):
        c = sip.SipClient(gw.sip_port, transport=transport)
        self.addCleanup(c.close)
        return c

    def sipp(self, scenario, **kw):
        s = sip.Sipp(self.dir, scenario, **kw)
        self.addCleanup(s.kill)
        self._diagnostics.append(s.diagnostics)
        return s

    # -- assertions --------------------------------------------------------------------------
    def assertStanza(self, stanza, what):
        """Fails with the gateway/Prosody logs when a wait_for returned None."""
        if stanza is None:
            self.fail("%s: nothing received" % what)
        return stanza

    def _failed(self):
        # The running test's result object (unittest keeps it in _outcome, CPython 3.4-3.12);
        # an error or failure of this test is already recorded there when cleanups run.
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if result is None:
            return True  # unknown: better too many logs than none
        # A failed subTest is recorded under its _SubTest, whose test_case is this test.
        return any(getattr(test, "test_case", test) is self
                   for test, _ in list(result.errors) + list(result.failures))

    def _report_on_failure(self):
        if not self._failed():
            return
        out = ["", "=" * 30 + " logs of %s (folder %s) " % (self.id(), self.dir) + "=" * 30]
        for diag in self._diagnostics:
            try:
                out.append(diag())
            except Exception as e:  # diagnostics must never hide the real failure
                out.append("(diagnostics failed: %s)" % e)
        sys.stderr.write("\n".join(out) + "\n")


def main():
    """unittest.main(), plus exit code 77 (CTest SKIP_RETURN_CODE) when every test skipped."""
    program = unittest.main(verbosity=2, exit=False)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)

"""A private Prosody 0.12 per test (peers.md §4.1): own folder, own ports, no TLS, no s2s."""

import os
import subprocess
import time

from . import ports, util

XMPP_DOMAIN = "example.com"
COMPONENT_DOMAIN = "example.net"
DEFAULT_SECRET = "s3cret-integration"

_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prosody.cfg.lua.in")


class Prosody:
    """Runs `prosody -F` on free loopback ports.

    ``with Prosody(dir) as p:`` starts it; ``p.stop()`` / ``p.restart()`` keep ports and data,
    so clients and the gateway can reconnect to the same place. ``secret`` may be changed
    before ``restart()`` (the config file is rewritten on each start).
    """

    def __init__(self, directory, secret=DEFAULT_SECRET, xmpp_domain=XMPP_DOMAIN,
                 component_domain=COMPONENT_DOMAIN):
        self.dir = util.fresh_dir(directory)
        self.secret = secret
        self.xmpp_domain = xmpp_domain
        self.component_domain = component_domain
        self.c2s_port = ports.free_tcp_port()
        self.component_port = ports.free_tcp_port()
        self.config_path = os.path.join(self.dir, "prosody.cfg.lua")
        self.console_log = os.path.join(self.dir, "prosody.console.log")
        self.debug_log = os.path.join(self.dir, "prosody.log")
        self._child = None
        self.starts = 0
        for sub in ("data", "certs"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self._write_config()

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self, timeout=10.0):
        if self.running():
            raise RuntimeError("Prosody already running")
        self._write_config()
        self.starts += 1
        with open(self.console_log, "a") as f:
            f.write("=== start %d ===\n" % self.starts)
        offset = os.path.getsize(self.console_log)
        self._child = util.Child(["prosody", "-F", "--config", self.config_path],
                                 self.console_log, cwd=self.dir)
        # Readiness from the log, not by connecting: a probe connection makes Prosody log an
        # "Error calling onconnect" traceback that would only confuse failure reports.
        wanted = ["Activated service 'c2s' on [127.0.0.1]:%d" % self.c2s_port,
                  "Activated service 'component' on [127.0.0.1]:%d" % self.component_port]
        ready = util.wait_until(
            lambda: not self._child.running() or all(
                w in util.read_since(self.console_log, offset) for w in wanted), timeout)
        if not ready or not self._child.running():
            log = self.logs()
            self.kill()
            raise RuntimeError("Prosody did not start (c2s %d, component %d):\n%s" %
                               (self.c2s_port, self.component_port, log))

    def stop(self, timeout=5.0):
        """SIGTERM and wait; SIGKILL if it hangs. Safe to call twice."""
        if self._child is not None:
            started = time.monotonic()
            code, killed = self._child.terminate(timeout)
            self._child = None
            with open(self.console_log, "a") as f:
                f.write("=== stop: exit code %s after %.2f s%s ===\n" %
                        (code, time.monotonic() - started,
                         " (SIGKILL: no exit within %.0f s of SIGTERM)" % timeout
                         if killed else ""))

    def kill(self):
        """SIGKILL: a crash, as the gateway sees it (no stream close)."""
        if self._child is not None:
            self._child.kill()
            self._child = None

    def restart(self, down_for=0.0):
        self.stop()
        if down_for > 0:
            time.sleep(down_for)
        self.start()

    def running(self):
        return self._child is not None and self._child.running()

    @property
    def pid(self):
        return self._child.pid if self._child else None

    # -- accounts ----------------------------------------------------------------------------
    def register(self, user, password):
        """Creates user@xmpp_domain with prosodyctl (works whether or not Prosody runs)."""
        r = subprocess.run(["prosodyctl", "--config", self.config_path, "register", user,
                            self.xmpp_domain, password],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30, cwd=self.dir)
        if r.returncode != 0:
            raise RuntimeError("prosodyctl register %s failed (%d): %s" %
                               (user, r.returncode, r.stdout.decode(errors="replace")))
        return "%s@%s" % (user, self.xmpp_domain)

    # -- diagnostics -------------------------------------------------------------------------
    def logs(self, lines=60):
        return "--- prosody console (%s) ---\n%s\n--- prosody debug log (%s) ---\n%s" % (
            self.console_log, util.tail(self.console_log, lines), self.debug_log,
            util.tail(self.debug_log, lines))

    def _write_config(self):
        with open(_TEMPLATE) as f:
            text = f.read()
        for key, value in (("@DIR@", self.dir), ("@C2S_PORT@", str(self.c2s_port)),
                           ("@COMPONENT_PORT@", str(self.component_port)),
                           ("@XMPP_DOMAIN@", self.xmpp_domain),
                           ("@COMPONENT_DOMAIN@", self.component_domain),
                           ("@SECRET@", self.secret)):
            text = text.replace(key, value)
        with open(self.config_path, "w") as f:
            f.write(text)

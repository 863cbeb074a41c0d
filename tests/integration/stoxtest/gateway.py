"""The real stoxgw binary, configured for one test (docs/config.md)."""

import json
import os
import re
import signal
import subprocess
import threading

from . import ports, prosody as prosody_mod, util

READY = "ready:"


def authenticated_line(domain):
    """The log line core/src/xmpp/component_link.cpp writes once the handshake succeeded."""
    return "XMPP component %s authenticated" % domain


def _merge(into, extra):
    """Merges `extra` into `into` like the gateway merges conf.d fragments (objects by key)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


class Gateway:
    """Runs ``stoxgw run --config <dir>/stoxgw.json --plugin-path <dir>``.

    ``plugins`` is the config's ``plugins`` section; ``plugin_path`` defaults to the staged
    plugins of the build (an empty folder runs the gateway with no plugin at all).
    ``extra`` is merged into the generated config (e.g. faster reconnects).
    """

    def __init__(self, directory, prosody=None, plugins=None, plugin_path=None,
                 outbound_proxy="", secret=None, component_port=None, extra=None,
                 domains=("example.net",)):
        self.dir = util.fresh_dir(directory)
        self.config_path = os.path.join(self.dir, "stoxgw.json")
        self.log_path = os.path.join(self.dir, "stoxgw.log")
        self.plugin_path = plugin_path or util.staged_plugin_dir()
        self.domain = prosody.component_domain if prosody else prosody_mod.COMPONENT_DOMAIN
        self._prosody = prosody
        self._plugins = plugins or {}
        self._outbound_proxy = outbound_proxy
        self._secret = secret if secret is not None else (
            prosody.secret if prosody else prosody_mod.DEFAULT_SECRET)
        self._component_port = component_port or (prosody.component_port if prosody else None)
        if self._component_port is None:
            raise ValueError("Gateway needs a Prosody or a component_port")
        self._extra = extra or {}
        self._domains = list(domains)
        self.sip_port = None
        self._child = None
        self._offset = 0
        self.exit_code = None

    def config(self):
        cfg = {
            "config_version": 1,
            "log": {"level": "debug"},
            "sip": {
                "listen": ["udp:127.0.0.1:%d" % self.sip_port,
                           "tcp:127.0.0.1:%d" % self.sip_port],
                "domains": self._domains,
                "outbound_proxy": self._outbound_proxy,
            },
            "xmpp": {
                "component": {
                    "host": "127.0.0.1",
                    "port": self._component_port,
                    "domain": self.domain,
                    "secret": self._secret,
                    # Tests restart Prosody: keep reconnect delays short (defaults 0.5-30 s).
                    "reconnect_min_ms": 100,
                    "reconnect_max_ms": 1000,
                    "connect_timeout_ms": 3000,
                },
            },
            "plugins": self._plugin_section(),
        }
        return _merge(cfg, json.loads(json.dumps(self._extra)))

    def _plugin_section(self):
        """The configured plugins; every other plugin found on the path is disabled, so that a
        test runs exactly the plugins it names."""
        section = json.loads(json.dumps(self._plugins))
        try:
            found = sorted(os.listdir(self.plugin_path))
        except OSError:
            found = []
        for plugin_id in found:
            if (plugin_id not in section and
                    os.path.isfile(os.path.join(self.plugin_path, plugin_id, "plugin.json"))):
                section[plugin_id] = {"enabled": False}
        return section

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill_if_running()
        return False

    def start(self, wait_authenticated=True, timeout=15.0, keep_port=False):
        """Starts and waits for "ready:" (and for the component handshake if asked).

        A SIP port taken between discovery and bind is retried with another port.
        ``keep_port``: a restart listens on the same SIP port as before (peers keep their
        dialogs' remote targets).
        """
        for attempt in range(3):
            if not (keep_port and self.sip_port and attempt == 0):
                self.sip_port = ports.free_udp_tcp_port()
            with open(self.config_path, "w") as f:
                json.dump(self.config(), f, indent=2)
            with open(self.log_path, "a") as f:
                f.write("=== stoxgw start (SIP port %d) ===\n" % self.sip_port)
            self._offset = os.path.getsize(self.log_path)
            self._child = util.Child([util.stoxgw_path(), "run", "--config", self.config_path,
                                      "--plugin-path", self.plugin_path], self.log_path,
                                     cwd=self.dir)
            found = util.wait_until(lambda: READY in self.log or not self._child.running(),
                                    timeout)
            if found and READY in self.log:
                break
            code = self._child.returncode()
            if code is not None and "cannot listen on" in self.log and attempt < 2:
                continue  # port raced away; try another
            self.kill_if_running()
            raise RuntimeError("stoxgw did not become ready (exit code %s):\n%s" %
                               (code, self.logs()))
        if wait_authenticated:
            self.wait_authenticated(timeout=timeout)
        return self

    def sigterm_at_ready(self, timeout=15.0):
        """Starts the gateway and sends SIGTERM the moment its "ready:" line is written (read
        from a pipe, not polled), as a supervisor would that stops a service as soon as it
        reports ready. Returns the exit code (-15: killed by the signal, no clean stop)."""
        self.sip_port = ports.free_udp_tcp_port()
        with open(self.config_path, "w") as f:
            json.dump(self.config(), f, indent=2)
        proc = util.spawn([util.stoxgw_path(), "run", "--config", self.config_path,
                           "--plugin-path", self.plugin_path], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir)
        # A gateway that never gets ready, or hangs after SIGTERM, is killed by the watchdog,
        # which also ends the pipe (EOF) this thread reads.
        killed = threading.Event()

        def kill():
            killed.set()
            proc.kill()

        watchdog = threading.Timer(timeout, kill)
        watchdog.start()
        try:
            with open(self.log_path, "ab") as log:
                log.write(b"=== stoxgw start, SIGTERM at ready ===\n")
                sent = False
                for line in proc.stderr:  # until EOF: the whole log of the run is kept
                    log.write(line)
                    if not sent and READY.encode() in line:
                        proc.send_signal(signal.SIGTERM)
                        sent = True
            code = proc.wait()
            if killed.is_set():
                raise AssertionError("stoxgw did not get ready and stop within %.0f s:\n%s" %
                                     (timeout, self.logs()))
            return code
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()

    def wait_authenticated(self, count=1, timeout=15.0):
        """Waits until the handshake succeeded `count` times since this start."""
        line = authenticated_line(self.domain)
        if not util.wait_until(lambda: self.log.count(line) >= count, timeout):
            raise AssertionError("component not authenticated %d time(s) within %.0f s:\n%s" %
                                 (count, timeout, self.logs()))

    def wait_log(self, pattern, timeout=10.0, count=1):
        """Waits for `count` log lines matching the regex `pattern` (since this start)."""
        rx = re.compile(pattern)
        if not util.wait_until(lambda: len(rx.findall(self.log)) >= count, timeout):
            raise AssertionError("no log line matching %r (x%d) within %.0f s:\n%s" %
                                 (pattern, count, timeout, self.logs()))
        return rx.findall(self.log)

    def stop(self, timeout=10.0):
        """SIGTERM; the gateway must exit 0 within `timeout` (returns the exit code)."""
        if self._child is None:
            return self.exit_code
        code, killed = self._child.terminate(timeout)
        self._child = None
        self.exit_code = code
        if killed:
            raise AssertionError("stoxgw did not stop within %.0f s of SIGTERM (killed):\n%s" %
                                 (timeout, self.logs()))
        if code != 0:
            raise AssertionError("stoxgw exited with %s after SIGTERM:\n%s" %
                                 (code, self.logs()))
        return code

    def kill_if_running(self):
        """Cleanup path: stops without asserting (the test already reported what failed)."""
        if self._child is not None:
            self.exit_code, _ = self._child.terminate(5.0)
            self._child = None

    def running(self):
        return self._child is not None and self._child.running()

    @property
    def pid(self):
        return self._child.pid if self._child else None

    # -- output ------------------------------------------------------------------------------
    @property
    def log(self):
        """Log text of the current (or last) run."""
        return util.read_since(self.log_path, self._offset)

    def logs(self, lines=80):
        return "--- stoxgw log (%s) ---\n%s" % (self.log_path, util.tail(self.log_path, lines))


def map_error(argument, full=False):
    """Runs ``stoxgw map-error ARG [--full]`` and returns its stdout words (the core's
    RFC 7247 §7 mapping), e.g. ["403"] or ["recipient-unavailable", "wait"]."""
    argv = [util.stoxgw_path(), "map-error", argument]
    if full:
        argv.append("--full")
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                   r.stderr.decode(errors="replace")))
    return r.stdout.decode().split()

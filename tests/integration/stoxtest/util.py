"""Paths, polling and child-process ownership shared by the helpers."""

import atexit
import ctypes
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_live = set()
_live_lock = threading.Lock()


def die_with_parent():
    # Runs in the child between fork and exec: if the test process dies (CTest timeout,
    # SIGKILL), the kernel kills this peer too, so no stale process keeps a port (G8).
    # The "parent" is the forking *thread*: spawn() forks from one thread that lives as long
    # as the process, never from a test's helper thread.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class _Spawner:
    """One thread that lives as long as the test process and starts every child."""

    def __init__(self):
        self._jobs = queue.Queue()
        threading.Thread(target=self._run, daemon=True, name="spawner").start()

    def _run(self):
        while True:
            fn, box, done = self._jobs.get()
            try:
                box.append((True, fn()))
            except BaseException as e:  # handed back to the caller
                box.append((False, e))
            done.set()

    def call(self, fn):
        box, done = [], threading.Event()
        self._jobs.put((fn, box, done))
        done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value


_spawner = _Spawner()


def spawn(argv, **kw):
    """subprocess.Popen from the spawner thread, with die_with_parent."""
    return _spawner.call(lambda: subprocess.Popen(argv, preexec_fn=die_with_parent, **kw))


@atexit.register
def _kill_leftovers():
    with _live_lock:
        leftovers = list(_live)
    for child in leftovers:
        child.kill()


def stoxgw_path():
    """The gateway binary: $STOXGW (set by CTest), else <build>/core/stoxgw."""
    path = os.environ.get("STOXGW") or os.path.join(binary_dir(), "core", "stoxgw")
    if not os.access(path, os.X_OK):
        raise RuntimeError("stoxgw not found at %s (set STOXGW or STOX_BINARY_DIR)" % path)
    return path


def binary_dir():
    """The CMake build directory: $STOX_BINARY_DIR (set by CTest)."""
    path = os.environ.get("STOX_BINARY_DIR")
    if not path:
        raise RuntimeError("STOX_BINARY_DIR is not set (run through ctest, or see README.md)")
    return path


def source_dir():
    """The source tree: $STOX_SOURCE_DIR, else two levels above this package."""
    return os.environ.get("STOX_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def staged_plugin_dir():
    """Where the build stages plugins: <build>/plugins/<id>/ (house-style §4.8)."""
    return os.path.join(binary_dir(), "plugins")


def plugin_staged(plugin_id):
    """True when <build>/plugins/<id>/plugin.json exists (the plugin was built)."""
    return os.path.isfile(os.path.join(staged_plugin_dir(), plugin_id, "plugin.json"))


def scenario_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios")


def log_root():
    """Root of the per-test log folders: $STOX_INTEGRATION_LOG_DIR (CTest sets it to
    <build>/tests/integration/logs), else <tmp>/stoxgw-integration."""
    return os.environ.get("STOX_INTEGRATION_LOG_DIR") or os.path.join(
        tempfile.gettempdir(), "stoxgw-integration")


def fresh_dir(path):
    """Empties (or creates) `path`: every test run starts from nothing (peers.md G15)."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def wait_until(predicate, timeout, interval=0.02):
    """Polls `predicate` until it returns a true value (returned) or `timeout` s pass (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def read_text(path):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def read_since(path, offset):
    """Text of `path` from byte `offset` on (one run's part of an appended log)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def tail(path, lines=40):
    text = read_text(path)
    return "\n".join(text.splitlines()[-lines:])


class Child:
    """A child process with its output in a file, stopped by PID only (peers.md G8)."""

    def __init__(self, argv, log_path, cwd=None, env=None):
        self.argv = list(argv)
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = spawn(self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
                          stderr=subprocess.STDOUT, cwd=cwd, env=env)
        with _live_lock:
            _live.add(self)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def returncode(self):
        return self.proc.poll()

    def wait(self, timeout):
        """The exit code, or None if still running after `timeout` s."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def terminate(self, timeout=5.0):
        """SIGTERM, then SIGKILL after `timeout` s. Returns (exit code, killed)."""
        killed = False
        if self.running():
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait(timeout) is None:
                killed = True
                self.kill()
        self._close()
        return self.proc.returncode, killed

    def kill(self):
        if self.running():
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._close()

    def output(self):
        return read_text(self.log_path)

    def _close(self):
        with _live_lock:
            _live.discard(self)
        if not self._log.closed:
            self._log.close()

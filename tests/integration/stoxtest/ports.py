"""Free port discovery on 127.0.0.1.

A port is found by binding port 0 and closing the socket again, so another process may still
take it before the caller binds it; callers that start servers retry on "address in use".
Ports handed out once are never handed out again by this process, so two peers of one test
never collide with each other.
"""

import socket
import threading

HOST = "127.0.0.1"

_lock = threading.Lock()
_given = set()


def _probe(kind, port=0):
    """Binds `port` (0: any) for `kind` (SOCK_STREAM/SOCK_DGRAM); returns the port or None."""
    s = socket.socket(socket.AF_INET, kind)
    try:
        # No SO_REUSEADDR: a TCP port in TIME_WAIT then counts as busy, as servers see it.
        s.bind((HOST, port))
        return s.getsockname()[1]
    except OSError:
        return None
    finally:
        s.close()


def _claim(port):
    with _lock:
        if port in _given:
            return False
        _given.add(port)
        return True


def free_tcp_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    for _ in range(100):
        port = _probe(socket.SOCK_STREAM)
        if port and _claim(port):
            return port
    raise RuntimeError("no free TCP port found on %s" % HOST)


def free_udp_port():
    """A UDP port on 127.0.0.1 that was free a moment ago."""
    for _ in range(100):
        port = _probe(socket.SOCK_DGRAM)
        if port and _claim(port):
            return port
    raise RuntimeError("no free UDP port found on %s" % HOST)


def free_udp_tcp_port():
    """A port number free for both UDP and TCP (a SIP listener binds both, RFC 3261 §18)."""
    for _ in range(200):
        port = _probe(socket.SOCK_DGRAM)
        if not port:
            continue
        if _probe(socket.SOCK_STREAM, port) and _claim(port):
            return port
    raise RuntimeError("no port free for both UDP and TCP found on %s" % HOST)


def accepts_tcp(port, timeout=0.2):
    """True if something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False

"""Loopback ports for servers started by the launcher and the tests.

A port the kernel hands out for `bind(("127.0.0.1", 0))` lies in the ephemeral range, which is the same
range the kernel uses for outgoing connections.  Between probing such a port and the server binding it,
any client socket (a database pool, an HTTP client) may take it as its local port, and the server then
fails with "address already in use".  Ports are therefore picked below the ephemeral range, where the
kernel never assigns client ports, and each port is handed out once per process.
"""

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 20000
_handed_out: set[int] = set()


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _first_ephemeral_port() -> int:
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port on 127.0.0.1 outside the ephemeral range, never the same one twice in a process."""
    highest = max(_first_ephemeral_port() - 1, LOWEST_PORT + 1000)
    for _ in range(200):
        port = random.randint(LOWEST_PORT, highest)
        if port not in _handed_out and port_is_free(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port on 127.0.0.1 between {LOWEST_PORT} and {highest}")

"""Loopback ports for servers started by the launcher and the tests.

`bind(("127.0.0.1", 0))` returns a port from the ephemeral range, which the kernel also uses as the local
port of outgoing connections. A database or HTTP client may take such a port between the probe and the
server's bind, so ports are picked below that range and each one is returned once per process.
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
    """Return a free port on 127.0.0.1 below the ephemeral range, not returned before in this process."""
    highest = max(_first_ephemeral_port() - 1, LOWEST_PORT + 1000)
    for _ in range(200):
        port = random.randint(LOWEST_PORT, highest)
        if port not in _handed_out and port_is_free(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port found on 127.0.0.1 between {LOWEST_PORT} and {highest} after 200 tries; "
                       "stop leftover servers or set the ports explicitly")

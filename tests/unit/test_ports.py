"""Ports picked for test and launcher servers stay outside the kernel's ephemeral range."""

import os
import socket

from deploy import launcher
from services.common import ports


def test_free_port_below_ephemeral_range():
    first_ephemeral = ports._first_ephemeral_port()
    picked = [ports.free_port() for _ in range(50)]
    assert min(picked) >= ports.LOWEST_PORT
    assert max(picked) < first_ephemeral
    assert len(set(picked)) == len(picked)
    with socket.socket() as server:
        server.bind(("127.0.0.1", picked[0]))


def test_port_is_free_false_when_bound():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert not ports.port_is_free(server.getsockname()[1])


def test_listens_on_only_for_owner():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        assert launcher.listens_on(os.getpid(), port)
        assert not launcher.listens_on(os.getppid(), port)

"""Ports picked for test and launcher servers stay outside the kernel's ephemeral range."""

import socket

from services.common import ports


def test_free_port_is_below_the_ephemeral_range_and_bindable():
    first_ephemeral = ports._first_ephemeral_port()
    picked = [ports.free_port() for _ in range(50)]
    assert all(ports.LOWEST_PORT <= port < first_ephemeral for port in picked)
    assert len(set(picked)) == len(picked)
    with socket.socket() as server:
        server.bind(("127.0.0.1", picked[0]))


def test_a_port_in_use_is_not_free():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert not ports.port_is_free(server.getsockname()[1])

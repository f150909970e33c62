"""_pgmio: the PGM endpoints' batched datagram calls (GIL kept), on loopback UDP."""

from __future__ import annotations

import socket

import pytest

from fastzmq import _pgmio


@pytest.fixture
def pair():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    tx.bind(("127.0.0.1", 0))
    rx.setblocking(False)
    tx.setblocking(False)
    yield tx, rx
    tx.close()
    rx.close()


def test_send_batch_then_recv_batch(pair):
    tx, rx = pair
    port = rx.getsockname()[1]
    pkts = [bytes([i]) * (i + 1) for i in range(50)]
    assert _pgmio.send_batch(tx.fileno(), pkts, socket.inet_aton("127.0.0.1"), port) == 50
    got = _pgmio.recv_batch(rx.fileno(), 30, False, b"")
    got += _pgmio.recv_batch(rx.fileno(), 100, False, b"")  # the limit is honoured
    assert [d for d, _ in got] == pkts
    assert {src for _, src in got} == {"127.0.0.1"}
    assert _pgmio.recv_batch(rx.fileno(), 10, False, b"") == []  # nothing waits: no block


def test_send_batch_drops_what_cannot_go_and_checks_its_arguments(pair):
    tx, _ = pair
    # no listener on this port: loopback UDP still takes the datagram (ICMP comes later);
    # a closed descriptor refuses all: counted as not sent, no exception (a wire loss)
    bad_fd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fd = bad_fd.fileno()
    bad_fd.close()
    assert _pgmio.send_batch(fd, [b"x", b"y"], socket.inet_aton("127.0.0.1"), 9) == 0
    with pytest.raises(TypeError):
        _pgmio.send_batch(tx.fileno(), ["text"], socket.inet_aton("127.0.0.1"), 9)
    with pytest.raises(ValueError):
        _pgmio.send_batch(tx.fileno(), [b"x"], b"\x7f\x00\x00", 9)


@pytest.mark.skipif(not hasattr(socket, "SOCK_RAW"), reason="no raw sockets")
def test_recv_batch_raw_strips_the_ip_header_and_keeps_one_destination(pair):
    """raw=True (pgm://): the IP header is removed and only datagrams sent to group4
    are kept. Seen through a raw UDP socket (needs CAP_NET_RAW: root)."""
    try:
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    except PermissionError:
        pytest.skip("raw sockets need CAP_NET_RAW")
    try:
        raw.setblocking(False)
        tx, rx = pair
        port = rx.getsockname()[1]
        lo = socket.inet_aton("127.0.0.1")
        assert _pgmio.send_batch(tx.fileno(), [b"hello", b"world"], lo, port) == 2
        got = _pgmio.recv_batch(raw.fileno(), 64, True, lo)
        mine = [d[8:] for d, _ in got if d[2:4] == port.to_bytes(2, "big")]  # UDP header
        assert mine == [b"hello", b"world"]
        _pgmio.send_batch(tx.fileno(), [b"again"], lo, port)
        other = socket.inet_aton("127.0.0.2")  # not the destination: filtered out
        assert not [d for d, _ in _pgmio.recv_batch(raw.fileno(), 64, True, other)]
    finally:
        raw.close()

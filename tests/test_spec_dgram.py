"""DGRAM: [address, body] pairs over udp://, as libzmq's raw datagram socket."""

from __future__ import annotations

import socket

import pytest

import fastzmq as zmq


def _udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_two_dgrams_exchange_address_body_pairs(ctx):
    a = ctx.socket(zmq.DGRAM)
    b = ctx.socket(zmq.DGRAM)
    a.rcvtimeo = b.rcvtimeo = 2000
    pa, pb = _udp_port(), _udp_port()
    a.bind(f"udp://127.0.0.1:{pa}")
    b.bind(f"udp://127.0.0.1:{pb}")
    a.send(b"127.0.0.1:%d" % pb, zmq.SNDMORE)
    a.send(b"hello")
    addr = b.recv()
    assert b.rcvmore
    assert addr == b"127.0.0.1:%d\0" % pa  # who sent it (NUL-terminated, as libzmq)
    assert b.recv() == b"hello"
    assert not b.rcvmore
    b.send_multipart([addr, b"world"])
    assert a.recv_multipart() == [b"127.0.0.1:%d\0" % pb, b"world"]


def test_dgram_with_a_plain_udp_socket(ctx):
    d = ctx.socket(zmq.DGRAM)
    d.rcvtimeo = 2000
    port = _udp_port()
    d.bind(f"udp://*:{port}")
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    plain.bind(("127.0.0.1", 0))
    plain.settimeout(2)
    try:
        plain.sendto(b"raw bytes", ("127.0.0.1", port))
        frames = d.recv_multipart(copy=False)
        assert [f.bytes for f in frames] == [
            b"127.0.0.1:%d\0" % plain.getsockname()[1],
            b"raw bytes",
        ]
        assert frames[0].more and not frames[1].more
        d.send_multipart([frames[0].bytes, b"answer"])
        assert plain.recvfrom(100) == (b"answer", ("127.0.0.1", port))
    finally:
        plain.close()


def test_dgram_send_rules(ctx):
    d = ctx.socket(zmq.DGRAM)
    d.bind(f"udp://127.0.0.1:{_udp_port()}")
    with pytest.raises(zmq.ZMQError) as e:
        d.send(b"no address first")
    assert e.value.errno == zmq.EINVAL
    d.send(b"127.0.0.1:9", zmq.SNDMORE)
    with pytest.raises(zmq.ZMQError) as e:
        d.send(b"three parts?", zmq.SNDMORE)
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as e:
        d.bind("tcp://127.0.0.1:*")
    assert e.value.errno == zmq.ENOCOMPATPROTO
    with pytest.raises(zmq.ZMQError) as e:
        d.connect(f"udp://127.0.0.1:{_udp_port()}")  # libzmq 4.3.5: a DGRAM only binds
    assert e.value.errno == zmq.ENOCOMPATPROTO
    assert d.THREAD_SAFE == 0  # libzmq's DGRAM is not thread-safe


def test_dgram_is_pollable(ctx):
    d = ctx.socket(zmq.DGRAM)
    port = _udp_port()
    d.bind(f"udp://127.0.0.1:{port}")
    poller = zmq.Poller()
    poller.register(d, zmq.POLLIN)
    assert poller.poll(20) == []
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        plain.sendto(b"x", ("127.0.0.1", port))
        assert dict(poller.poll(2000)) == {d: zmq.POLLIN}
        assert d.recv_multipart()[1] == b"x"
    finally:
        plain.close()

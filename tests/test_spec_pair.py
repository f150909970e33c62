"""RFC 31 (EXPAIR): PAIR is an exclusive, bidirectional link to one peer."""

from __future__ import annotations

import pytest

import fastzmq as zmq


def _pair(ctx, transport, wait_peers):
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    for s in (a, b):
        s.rcvtimeo = s.sndtimeo = 2000
    b.connect(transport.bind(a))
    wait_peers(a, 1)
    return a, b


def test_pair_is_bidirectional_and_ordered(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    for i in range(100):
        a.send(b"a%d" % i)
        b.send(b"b%d" % i)
    assert [b.recv() for _ in range(100)] == [b"a%d" % i for i in range(100)]
    assert [a.recv() for _ in range(100)] == [b"b%d" % i for i in range(100)]


def test_pair_multipart_is_atomic(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    a.send(b"1", zmq.SNDMORE)
    a.send(b"", zmq.SNDMORE)
    a.send(b"3")
    a.send_multipart([b"x", b"y"])
    assert b.recv_multipart() == [b"1", b"", b"3"]
    assert b.recv_multipart() == [b"x", b"y"]


def test_pair_accepts_one_peer_only(ctx):
    a = ctx.socket(zmq.PAIR)
    a.bind("inproc://pair-excl")
    first, second = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    first.connect("inproc://pair-excl")
    second.connect("inproc://pair-excl")
    second.send(b"from-second", zmq.DONTWAIT)
    first.send(b"from-first", zmq.DONTWAIT)
    a.rcvtimeo = 500
    assert a.recv() == b"from-first"
    with pytest.raises(zmq.Again):
        a.recv(zmq.DONTWAIT)  # the second peer's message never reaches a
    a.send(b"reply")
    first.rcvtimeo = 500
    assert first.recv() == b"reply"
    with pytest.raises(zmq.Again):
        second.recv(zmq.DONTWAIT)


def test_pair_peer_replaced_after_disconnect(ctx):
    a = ctx.socket(zmq.PAIR)
    a.bind("inproc://pair-again")
    first = ctx.socket(zmq.PAIR)
    first.connect("inproc://pair-again")
    first.send(b"1")
    a.rcvtimeo = 500
    assert a.recv() == b"1"
    first.close(linger=0)
    second = ctx.socket(zmq.PAIR)
    second.connect("inproc://pair-again")
    second.send(b"2")
    assert a.recv() == b"2"


def test_pair_send_without_peer_is_again(ctx):
    a = ctx.socket(zmq.PAIR)
    a.bind("inproc://pair-alone")
    with pytest.raises(zmq.Again):
        a.send(b"x", zmq.DONTWAIT)

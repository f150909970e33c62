"""Socket shadows (pyzmq's Socket.shadow / Socket(socket) / from_socket / underlying):
another handle on the same socket, sharing its state."""

from __future__ import annotations

import asyncio
import copy
import gc

import pytest

import fastzmq as zmq
import fastzmq.asyncio as zaio

T = 5000  # ms


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _pair(ctx, a, b, addr="inproc://shadow"):
    x = ctx.socket(a)
    y = ctx.socket(b)
    for s in (x, y):
        s.linger = 0
        s.rcvtimeo = T
        s.sndtimeo = T
    x.bind(addr)
    y.connect(addr)
    return x, y


def test_shadow_shares_the_socket(ctx):
    push, pull = _pair(ctx, zmq.PUSH, zmq.PULL)
    by_int = zmq.Socket.shadow(pull.underlying)
    by_obj = zmq.Socket.shadow(pull)
    by_ctor = zmq.Socket(pull)
    by_kw = zmq.Socket(shadow=pull.underlying)
    for sh in (by_int, by_obj, by_ctor, by_kw):
        assert sh._shadow and sh.underlying == pull.underlying
        assert sh.context is pull.context and sh.type == zmq.PULL
    assert by_obj._shadow_obj is pull and by_ctor._shadow_obj is pull
    assert push.underlying != pull.underlying
    for i, sh in enumerate((by_int, by_obj, by_ctor, by_kw, pull)):
        push.send(b"%d" % i)
        assert sh.recv() == b"%d" % i  # each message read once, through any handle
    # a multipart message: half read through one handle, the rest through the other
    push.send_multipart([b"a", b"b"])
    assert by_obj.recv() == b"a"
    assert pull.getsockopt(zmq.RCVMORE) == 1 and by_obj.rcvmore_flag
    assert pull.recv() == b"b"


def test_shadow_options_and_endpoints_are_the_sockets(ctx):
    s = ctx.socket(zmq.ROUTER)
    sh = zmq.Socket.shadow(s)
    sh.rcvtimeo = 123
    sh.routing_id = b"me"
    assert s.rcvtimeo == 123 and s.getsockopt(zmq.ROUTING_ID) == b"me"
    s.sndhwm = 77
    assert sh.sndhwm == 77 and sh.get(zmq.SNDHWM) == 77
    port = sh.bind_to_random_port("tcp://127.0.0.1")
    assert s.last_endpoint == sh.last_endpoint == f"tcp://127.0.0.1:{port}".encode()
    assert sh.FD == s.FD
    d = ctx.socket(zmq.DEALER)
    d.linger = 0
    d.routing_id = b"d"
    d.connect(f"tcp://127.0.0.1:{port}")
    d.send(b"hi")
    assert sh.poll(T) == zmq.POLLIN and s.get(zmq.EVENTS) & zmq.POLLIN
    assert s.recv_multipart() == [b"d", b"hi"]
    sh.send_multipart([b"d", b"back"])
    d.rcvtimeo = T
    assert d.recv() == b"back"
    s.close()
    d.close()


def test_closing_either_closes_the_socket(ctx):
    push, pull = _pair(ctx, zmq.PUSH, zmq.PULL)
    sh = zmq.Socket.shadow(pull)
    sh.close()
    assert pull.closed and sh.closed
    with pytest.raises(zmq.ZMQError) as e:
        pull.recv()
    assert e.value.errno == zmq.ENOTSOCK
    push2, pull2 = _pair(ctx, zmq.PUSH, zmq.PULL, "inproc://shadow2")
    sh2 = zmq.Socket(pull2)
    pull2.close()
    assert sh2.closed
    with pytest.raises(zmq.ZMQError) as e:
        sh2.recv()
    assert e.value.errno == zmq.ENOTSOCK
    with pytest.raises(zmq.ZMQError) as e:
        zmq.Socket.shadow(pull2)  # a closed socket cannot be shadowed
    assert e.value.errno == zmq.ENOTSOCK


def test_dropping_a_shadow_closes_nothing(ctx):
    push, pull = _pair(ctx, zmq.PUSH, zmq.PULL)
    sh = zmq.Socket.shadow(pull)
    del sh
    gc.collect()
    assert not pull.closed
    push.send(b"still")
    assert pull.recv() == b"still"


def test_copy_is_a_shadow(ctx):
    s = ctx.socket(zmq.PUB)
    for c in (copy.copy(s), copy.deepcopy(s)):
        assert c._shadow and c.underlying == s.underlying and c is not s
    s.close()


def test_shadow_of_a_shadow_is_of_the_socket(ctx):
    push, pull = _pair(ctx, zmq.PUSH, zmq.PULL)
    sh2 = zmq.Socket.shadow(zmq.Socket.shadow(pull))
    assert sh2.target is pull
    push.send(b"x")
    assert sh2.recv() == b"x"


def test_unknown_underlying_is_an_error():
    with pytest.raises(zmq.ZMQError) as e:
        zmq.Socket.shadow(12345)
    assert e.value.errno == zmq.ENOTSOCK
    with pytest.raises(TypeError):
        zmq.Socket.shadow("not a socket")


def test_asyncio_from_socket_shares_the_socket(ctx):
    push, pull = _pair(ctx, zmq.PUSH, zmq.PULL)
    apull = zaio.Socket.from_socket(pull)
    also = zaio.Socket(pull)
    assert isinstance(apull, zaio.Socket) and apull.underlying == pull.underlying
    assert also.type == pull.type

    async def main():
        fut = apull.recv()
        push.send(b"async")
        return await asyncio.wait_for(fut, T / 1000)

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(main()) == b"async"
    finally:
        apull.close()
        loop.close()
    assert pull.closed  # closing the asyncio handle closed the socket

"""Shadows of draft sockets (CLIENT, SERVER, RADIO, DISH, DGRAM...): another handle on
the same socket, as for the classic types (tests/test_socket_shadow.py)."""

from __future__ import annotations

import asyncio
import socket

import pytest

import fastzmq as zmq
import fastzmq.asyncio as zaio

T = 5000  # ms


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _server_client(ctx):
    server = ctx.socket(zmq.SERVER)
    client = ctx.socket(zmq.CLIENT)
    for s in (server, client):
        s.linger = 0
        s.rcvtimeo = T
        s.sndtimeo = T
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client.connect(f"tcp://127.0.0.1:{port}")
    return server, client


def test_shadow_of_a_server_and_a_client(ctx):
    server, client = _server_client(ctx)
    sserver = zmq.Socket.shadow(server.underlying)
    sclient = zmq.Socket(client)
    assert isinstance(sserver, zmq.Socket) and sserver.underlying == server.underlying
    assert sserver.socket_type == zmq.SERVER
    sclient.send(b"via the client's shadow")
    f = sserver.recv(copy=False)
    assert f.bytes == b"via the client's shadow" and f.routing_id
    sserver.send(b"answer", routing_id=f.routing_id)
    assert client.recv() == b"answer"  # the shadow's send went out of the socket
    client.send(b"again")
    g = server.recv(copy=False)  # a message is taken once, whichever handle reads
    assert (g.bytes, g.routing_id) == (b"again", f.routing_id)
    with pytest.raises(zmq.Again):
        sserver.recv(zmq.DONTWAIT)


def test_shadow_polls_and_options_are_the_sockets(ctx):
    server, client = _server_client(ctx)
    shadow = zmq.Socket.shadow(server)
    assert shadow.poll(0) == 0
    client.send(b"x")
    assert shadow.poll(T) == zmq.POLLIN  # the socket's readiness
    assert server.recv() == b"x"
    shadow.rcvtimeo = 0  # set through the shadow: the socket's own recv stops waiting
    with pytest.raises(zmq.Again):
        server.recv()
    assert shadow.getsockopt(zmq.THREAD_SAFE) == 1


def test_shadow_binds_for_the_socket_and_closes_it(ctx):
    dgram = ctx.socket(zmq.DGRAM)
    dgram.rcvtimeo = T
    shadow = zmq.Socket.shadow(dgram.underlying)
    shadow.bind("udp://127.0.0.1:0")  # the socket's endpoint, not the shadow's
    port = int(dgram.last_endpoint.rsplit(b":", 1)[1])
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    plain.bind(("127.0.0.1", 0))
    plain.settimeout(T / 1000)
    try:
        plain.sendto(b"ping", ("127.0.0.1", port))
        addr, body = dgram.recv_multipart()
        assert body == b"ping"
        shadow.send_multipart([addr, b"pong"])  # the pair's two frames through the shadow
        assert plain.recvfrom(100) == (b"pong", ("127.0.0.1", port))
    finally:
        plain.close()
    shadow.close()
    assert dgram.closed


def test_dish_joins_through_its_shadow(ctx):
    radio = ctx.socket(zmq.RADIO)
    dish = ctx.socket(zmq.DISH)
    dish.rcvtimeo = T
    dish.bind("inproc://shadow-dish")
    radio.connect("inproc://shadow-dish")
    sdish = zmq.Socket.shadow(dish)
    sradio = zmq.Socket.shadow(zmq.Socket.shadow(radio))  # a shadow of a shadow
    assert sradio.underlying == radio.underlying
    sdish.join("g")
    sradio.send(b"not for us", group="h")
    sradio.send(b"for us", group="g")
    f = dish.recv(copy=False)
    assert (f.group, f.bytes) == ("g", b"for us")
    sdish.leave("g")
    with pytest.raises(zmq.ZMQError) as e:
        dish.leave("g")  # the shadow's leave was the socket's
    assert e.value.errno == zmq.EINVAL


def test_asyncio_from_socket_of_a_draft_socket(ctx):
    server, client = _server_client(ctx)
    aserver = zaio.Socket.from_socket(server)
    assert isinstance(aserver, zaio.Socket) and aserver.underlying == server.underlying

    async def main():
        fut = aserver.recv(copy=False)
        client.send(b"async")
        f = await asyncio.wait_for(fut, T / 1000)
        await aserver.send(b"re:" + f.bytes, routing_id=f.routing_id)
        return client.recv()

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(main()) == b"re:async"
    finally:
        loop.close()


def test_copy_of_a_draft_socket_is_a_shadow(ctx):
    import copy

    server, client = _server_client(ctx)
    twin = copy.copy(server)
    assert type(twin) is type(server) and twin.underlying == server.underlying
    client.send(b"copied")
    assert twin.recv() == b"copied"

"""fastzmq.green with the draft types: blocking calls yield to the gevent hub, as the
classic types' do (tests/test_green.py proves cooperation the same way: a greenlet keeps
ticking while another is blocked in a fastzmq call)."""

from __future__ import annotations

import pytest

gevent = pytest.importorskip("gevent")

import fastzmq.green as gzmq  # noqa: E402


@pytest.fixture
def gctx():
    c = gzmq.Context()
    yield c
    for s in list(c._sockets):
        s.close(linger=0)
    c.term()


def _ticker(stop: list) -> int:
    n = 0
    while not stop:
        n += 1
        gevent.sleep(0.005)
    return n


def test_draft_types_are_green_sockets(gctx):
    for t in (gzmq.CLIENT, gzmq.SERVER, gzmq.RADIO, gzmq.DISH, gzmq.DGRAM, gzmq.PEER):
        s = gctx.socket(t)
        assert isinstance(s, gzmq.Socket) and s.socket_type == t


def test_server_recv_yields_while_waiting(gctx):
    server = gctx.socket(gzmq.SERVER)
    client = gctx.socket(gzmq.CLIENT)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client.connect(f"tcp://127.0.0.1:{port}")
    stop: list = []
    ticks = gevent.spawn(_ticker, stop)

    def serve():
        f = server.recv(copy=False)  # blocks this greenlet only
        server.send(b"re:" + f.bytes, routing_id=f.routing_id)

    srv = gevent.spawn(serve)
    gevent.sleep(0.1)  # the server greenlet is parked in recv; the ticker runs
    client.send(b"hi")
    with gevent.Timeout(5):
        assert client.recv() == b"re:hi"
        srv.join()
    stop.append(1)
    assert ticks.get(timeout=5) >= 5


def test_radio_dish_and_a_timeout(gctx):
    dish = gctx.socket(gzmq.DISH)
    radio = gctx.socket(gzmq.RADIO)
    dish.bind("inproc://green-dish")
    radio.connect("inproc://green-dish")
    dish.join("g")
    got = gevent.spawn(lambda: dish.recv(copy=False))
    gevent.sleep(0.05)
    radio.send(b"skip", group="h")
    radio.send(b"ok", group="g")
    f = got.get(timeout=5)
    assert (f.group, f.bytes) == ("g", b"ok")
    with pytest.warns(UserWarning):
        dish.rcvtimeo = 50  # honoured (pyzmq's zmq.green ignores it): Again, not a hang
    with gevent.Timeout(5), pytest.raises(gzmq.Again):
        dish.recv()


def test_green_shadow_of_a_draft_socket(gctx):
    server = gctx.socket(gzmq.SERVER)
    client = gctx.socket(gzmq.CLIENT)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client.connect(f"tcp://127.0.0.1:{port}")
    shadow = gzmq.Socket.shadow(server.underlying)
    assert isinstance(shadow, gzmq.Socket) and shadow.socket_type == gzmq.SERVER
    waiter = gevent.spawn(lambda: shadow.recv(copy=False))
    gevent.sleep(0.05)
    client.send(b"to the socket")
    f = waiter.get(timeout=5)
    assert f.bytes == b"to the socket"

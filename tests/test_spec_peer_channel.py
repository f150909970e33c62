"""RFC 51 (PEER/CHANNEL): PEER routes by id and connects with connect_peer; CHANNEL is a
thread-safe PAIR."""

from __future__ import annotations

import threading

import pytest

import fastzmq as zmq


def _timeouts(*socks, ms=2000):
    for s in socks:
        s.rcvtimeo = ms
        s.sndtimeo = ms


def test_peer_connect_peer_returns_a_routing_id(ctx, transport, wait_peers):
    a = ctx.socket(zmq.PEER)
    addr = transport.bind(a)
    b = ctx.socket(zmq.PEER)
    _timeouts(a, b)
    rid = b.connect_peer(addr)
    assert 0 < rid < 2**32
    b.send(b"hello", routing_id=rid)  # queued before the connection completes
    f = a.recv(copy=False)
    assert f.bytes == b"hello"
    a.send(b"back", routing_id=f.routing_id)
    g = b.recv(copy=False)
    assert g.bytes == b"back" and g.routing_id == rid


def test_peer_talks_to_several_peers(ctx, wait_peers):
    hub = ctx.socket(zmq.PEER)
    peers = [ctx.socket(zmq.PEER) for _ in range(3)]
    _timeouts(hub, *peers)
    for i, p in enumerate(peers):
        p.bind(f"inproc://pc-hub-{i}")
    rids = [hub.connect_peer(f"inproc://pc-hub-{i}") for i in range(3)]
    assert len(set(rids)) == 3
    for i, rid in enumerate(rids):
        hub.send(b"to %d" % i, routing_id=rid)
    assert [p.recv() for p in peers] == [b"to 0", b"to 1", b"to 2"]
    with pytest.raises(zmq.ZMQError) as e:
        hub.send(b"x", routing_id=max(rids) + 1000)
    assert e.value.errno == zmq.EHOSTUNREACH


def test_connect_peer_only_for_peer(ctx):
    client = ctx.socket(zmq.CLIENT)
    with pytest.raises(zmq.ZMQError) as e:
        client.connect_peer("inproc://nowhere")
    assert e.value.errno == zmq.ENOTSUP


def test_peer_incompatible_with_server(ctx):
    server = ctx.socket(zmq.SERVER)
    server.rcvtimeo = 300
    port = server.bind_to_random_port("tcp://127.0.0.1")
    peer = ctx.socket(zmq.PEER)
    rid = peer.connect_peer(f"tcp://127.0.0.1:{port}")
    peer.send(b"x", routing_id=rid, flags=zmq.DONTWAIT)
    with pytest.raises(zmq.Again):
        server.recv()


def test_channel_is_a_pair(ctx, transport, wait_peers):
    a = ctx.socket(zmq.CHANNEL)
    addr = transport.bind(a)
    b = ctx.socket(zmq.CHANNEL)
    _timeouts(a, b)
    b.connect(addr)
    b.send(b"ping")
    assert a.recv() == b"ping"
    a.send(b"pong")
    assert b.recv() == b"pong"
    with pytest.raises(zmq.ZMQError) as e:
        a.send(b"x", zmq.SNDMORE)
    assert e.value.errno == zmq.EINVAL


def test_channel_takes_one_peer(ctx):
    a = ctx.socket(zmq.CHANNEL)
    a.bind("inproc://pc-one")
    b = ctx.socket(zmq.CHANNEL)
    c = ctx.socket(zmq.CHANNEL)
    _timeouts(a, b, c)
    b.connect("inproc://pc-one")
    c.connect("inproc://pc-one")
    b.send(b"from b")
    c.send(b"from c", flags=zmq.DONTWAIT)
    assert a.recv() == b"from b"
    a.rcvtimeo = 100
    with pytest.raises(zmq.Again):
        a.recv()  # the second CHANNEL was refused


def test_channel_threads_send_and_recv(ctx):
    a = ctx.socket(zmq.CHANNEL)
    b = ctx.socket(zmq.CHANNEL)
    a.bind("inproc://pc-threads")
    b.connect("inproc://pc-threads")
    _timeouts(a, b, ms=5000)
    got: list[bytes] = []

    def echo() -> None:
        for _ in range(400):
            b.send(b.recv())

    def collect() -> None:
        for _ in range(400):
            got.append(a.recv())

    threads = [threading.Thread(target=echo), threading.Thread(target=collect)]
    for t in threads:
        t.start()
    for i in range(400):
        a.send(b"%d" % i)
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert got == [b"%d" % i for i in range(400)]

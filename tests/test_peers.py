"""The peer-state API: peers(), peer_count(), wait_peers() (docs/peers.md)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

import fastzmq as zmq


def test_wait_peers_times_out_without_peers(ctx):
    push = ctx.socket(zmq.PUSH)
    push.connect("tcp://127.0.0.1:1")  # nothing listens there
    assert push.wait_peers(1, timeout=0) is False
    assert push.wait_peers(1, timeout=50) is False
    assert push.peer_count() == 0
    assert push.wait_peers(0, timeout=0) is True


def test_wait_peers_tcp_and_details(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    ep = pull.last_endpoint.decode()
    push = ctx.socket(zmq.PUSH)
    push.connect(ep)
    assert push.wait_peers(1, timeout=2000)
    assert pull.wait_peers(1, timeout=2000)
    (mine,) = push.peers()
    assert mine["endpoint"] == ep and mine["transport"] == "tcp"
    assert mine["handshake_done"] is True and mine["peer_type"] == "PULL"
    assert mine["peer_address"] == ep[len("tcp://") :]
    assert abs(mine["connected_since"] - time.time()) < 60
    (theirs,) = pull.peers()
    assert theirs["peer_type"] == "PUSH" and theirs["handshake_done"]
    host, port = theirs["peer_address"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0  # the connecting side's address


def test_wait_peers_counts_several_and_wakes_on_arrival(ctx):
    router = ctx.socket(zmq.ROUTER)
    router.bind("tcp://127.0.0.1:*")
    ep = router.last_endpoint.decode()
    dealers = []

    def later():
        time.sleep(0.1)
        for i in range(3):
            d = zmq.Socket(ctx, zmq.DEALER)
            d.routing_id = b"d%d" % i
            d.connect(ep)
            dealers.append(d)

    t = threading.Thread(target=later)
    t.start()
    try:
        assert router.wait_peers(3, timeout=5000)
        assert router.peer_count() >= 3
        ids = sorted(p["routing_id"] for p in router.peers())
        assert ids == [b"d0", b"d1", b"d2"]
    finally:
        t.join(5)
        for d in dealers:
            d.close(linger=0)


def test_peer_goes_away(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    push = zmq.Socket(ctx, zmq.PUSH)
    push.connect(pull.last_endpoint.decode())
    assert pull.wait_peers(1, timeout=2000)
    push.close(linger=0)
    deadline = time.monotonic() + 3
    while pull.peer_count() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pull.peer_count() == 0 and pull.peers() == []


def test_handshaking_connection_is_listed_not_counted(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    port = int(pull.last_endpoint.decode().rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=2)  # never greets
    try:
        deadline = time.monotonic() + 3
        while not pull.peers() and time.monotonic() < deadline:
            time.sleep(0.01)
        (p,) = pull.peers()
        assert p["handshake_done"] is False and p["connected_since"] is None
        assert pull.wait_peers(1, timeout=50) is False
    finally:
        raw.close()


def test_inproc_peers(ctx):
    a = ctx.socket(zmq.PAIR)
    a.bind("inproc://peers-test")
    assert a.wait_peers(1, timeout=0) is False
    b = ctx.socket(zmq.PAIR)
    b.connect("inproc://peers-test")
    assert a.wait_peers(1, timeout=1000) and b.wait_peers(1, timeout=0)
    (p,) = a.peers()
    assert p["transport"] == "inproc" and p["peer_type"] == "PAIR"


def test_wait_peers_checks(ctx):
    s = ctx.socket(zmq.PUSH)
    with pytest.raises(zmq.ZMQError):
        s.wait_peers(-1)
    s.close()
    with pytest.raises(zmq.ZMQError):
        s.wait_peers(1, timeout=0)
    with pytest.raises(zmq.ZMQError):
        s.peers()


def test_wait_peers_wakes_when_a_connect_side_pipe_activates(ctx):
    # a REQ's pipe exists from connect(); its activation wakes nothing else, but it must
    # wake wait_peers (the peer binds while we sleep)
    with socket.socket() as probe:  # a free port (nothing listens there yet)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.connect(f"tcp://127.0.0.1:{port}")
    rep = ctx.socket(zmq.REP)
    rep.linger = 0
    timer = threading.Timer(0.2, rep.bind, (f"tcp://127.0.0.1:{port}",))
    timer.start()
    try:
        assert req.wait_peers(1, timeout=5000)
    finally:
        timer.join(5)


def test_last_heard_moves_when_the_peer_sends_and_stays_when_idle(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    push = ctx.socket(zmq.PUSH)
    push.connect(pull.last_endpoint.decode())
    assert pull.wait_peers(1, timeout=2000)
    (p,) = pull.peers()
    first = p["last_heard"]
    assert first is not None and first <= time.monotonic()  # the handshake was heard
    time.sleep(0.05)
    (p,) = pull.peers()
    assert p["last_heard"] == first  # an idle peer: nothing arrived
    before = time.monotonic()
    push.send(b"hello")
    pull.rcvtimeo = 2000
    assert pull.recv() == b"hello"
    (p,) = pull.peers()
    assert before <= p["last_heard"] <= time.monotonic()
    assert p["last_heard"] > first
    (mine,) = push.peers()
    assert mine["last_heard"] is not None  # the connecting side heard the handshake too


def test_last_heard_is_none_before_the_handshake_and_for_inproc(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    port = int(pull.last_endpoint.decode().rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=2)  # never greets
    try:
        deadline = time.monotonic() + 3
        while not pull.peers() and time.monotonic() < deadline:
            time.sleep(0.01)
        (p,) = pull.peers()
        assert p["last_heard"] is None
    finally:
        raw.close()
    a = ctx.socket(zmq.PAIR)
    a.bind("inproc://last-heard")
    b = ctx.socket(zmq.PAIR)
    b.connect("inproc://last-heard")
    assert a.wait_peers(1, timeout=1000)
    (p,) = a.peers()
    assert p["last_heard"] is None

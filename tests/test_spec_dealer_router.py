"""RFC 28 (REQREP): DEALER load-balances and fair-queues; ROUTER routes by identity."""

from __future__ import annotations

import time

import pytest

import fastzmq as zmq
from conftest import recv_all


def _timeouts(*socks):
    for s in socks:
        s.rcvtimeo = s.sndtimeo = 2000


def test_router_prepends_peer_chosen_identity(ctx, transport, wait_peers):
    router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    _timeouts(router, dealer)
    dealer.setsockopt(zmq.ROUTING_ID, b"alice")
    dealer.connect(transport.bind(router))
    dealer.send_multipart([b"a", b"b"])
    assert router.recv_multipart() == [b"alice", b"a", b"b"]
    router.send_multipart([b"alice", b"x", b"y"])
    assert dealer.recv_multipart() == [b"x", b"y"]


def test_router_generates_five_byte_ids(ctx, transport, wait_peers):
    router = ctx.socket(zmq.ROUTER)
    _timeouts(router)
    addr = transport.bind(router)
    dealers = [ctx.socket(zmq.DEALER) for _ in range(3)]
    ids = []
    for d in dealers:
        d.connect(addr)
        d.send(b"hi")
        rid, body = router.recv_multipart()
        assert body == b"hi"
        ids.append(rid)
    for rid in ids:
        assert len(rid) == 5 and rid[:1] == b"\x00"
    assert len(set(ids)) == 3
    for d, rid in zip(dealers, ids):  # each generated id routes back to its peer
        router.send_multipart([rid, rid])
        d.rcvtimeo = 2000
        assert d.recv() == rid


def test_router_drops_unroutable_silently(ctx):
    router = ctx.socket(zmq.ROUTER)
    router.bind("inproc://dr-drop")
    router.send_multipart([b"nobody", b"lost"])  # no error, no block
    dealer = ctx.socket(zmq.DEALER)
    dealer.routing_id = b"nobody"
    dealer.connect("inproc://dr-drop")
    router.send_multipart([b"nobody", b"found"])
    dealer.rcvtimeo = 1000
    assert dealer.recv() == b"found"
    with pytest.raises(zmq.Again):
        dealer.recv(zmq.DONTWAIT)


def test_router_mandatory_raises_ehostunreach(ctx):
    router = ctx.socket(zmq.ROUTER)
    router.router_mandatory = 1
    router.bind("inproc://dr-mand")
    with pytest.raises(zmq.ZMQError) as e:
        router.send_multipart([b"nobody", b"x"])
    assert e.value.errno == zmq.EHOSTUNREACH
    with pytest.raises(zmq.ZMQError) as e:
        router.send(b"nobody", zmq.SNDMORE)
    assert e.value.errno == zmq.EHOSTUNREACH
    dealer = ctx.socket(zmq.DEALER)
    dealer.routing_id = b"d"
    dealer.connect("inproc://dr-mand")
    router.send_multipart([b"d", b"ok"])  # the failed message left nothing behind
    dealer.rcvtimeo = 1000
    assert dealer.recv_multipart() == [b"ok"]


def test_router_mandatory_full_pipe_is_again(ctx):
    router = ctx.socket(zmq.ROUTER)
    router.router_mandatory = 1
    router.sndhwm = 1
    router.bind("inproc://dr-full")
    dealer = ctx.socket(zmq.DEALER)
    dealer.rcvhwm = 1
    dealer.routing_id = b"d"
    dealer.connect("inproc://dr-full")
    sent = 0
    with pytest.raises(zmq.Again):
        for _ in range(100):
            router.send_multipart([b"d", b"m"], zmq.DONTWAIT)
            sent += 1
    assert sent == 2  # inproc HWM: router's SNDHWM + dealer's RCVHWM


def test_dealer_round_robins_and_fair_queues(ctx, transport, wait_peers):
    dealer = ctx.socket(zmq.DEALER)
    _timeouts(dealer)
    addr = transport.bind(dealer)
    peers = [ctx.socket(zmq.DEALER) for _ in range(2)]
    for p in peers:
        _timeouts(p)
        p.connect(addr)
    wait_peers(dealer, 2)
    for i in range(6):
        dealer.send(b"%d" % i)
    got = [[p.recv() for _ in range(3)] for p in peers]
    assert sorted(got) == [[b"0", b"2", b"4"], [b"1", b"3", b"5"]]
    for i, p in enumerate(peers):
        for j in range(3):
            p.send(b"%d%d" % (i, j))
    if transport.name != "inproc":
        time.sleep(0.3)
    back = [dealer.recv() for _ in range(6)]
    assert sorted(m[:1] for m in back[:2]) == [b"0", b"1"]  # one from each per round
    assert sorted(m[:1] for m in back[2:4]) == [b"0", b"1"]


def test_router_multipart_atomic_with_many_peers(ctx, transport, wait_peers):
    router = ctx.socket(zmq.ROUTER)
    _timeouts(router)
    addr = transport.bind(router)
    dealers = []
    for i in range(3):
        d = ctx.socket(zmq.DEALER)
        d.routing_id = b"d%d" % i
        d.connect(addr)
        dealers.append(d)
    for i, d in enumerate(dealers):
        for j in range(3):
            d.send_multipart([b"%d" % i, b"%d" % j, b"end"])
    msgs = [router.recv_multipart() for _ in range(9)]
    for m in msgs:
        assert len(m) == 4 and m[0] == b"d" + m[1] and m[3] == b"end"
    assert recv_all(router, 50) == []


def test_router_handover(ctx):
    router = ctx.socket(zmq.ROUTER)
    router.router_handover = 1
    router.bind("inproc://dr-handover")
    a, b = ctx.socket(zmq.DEALER), ctx.socket(zmq.DEALER)
    for s in (a, b):
        s.routing_id = b"same"
        s.rcvtimeo = 500
        s.connect("inproc://dr-handover")
    router.send_multipart([b"same", b"to-newest"])
    assert b.recv() == b"to-newest"
    with pytest.raises(zmq.Again):
        a.recv(zmq.DONTWAIT)


def test_duplicate_identity_without_handover_keeps_the_first(ctx):
    router = ctx.socket(zmq.ROUTER)
    router.rcvtimeo = 1000
    router.bind("inproc://dr-dup")
    a, b = ctx.socket(zmq.DEALER), ctx.socket(zmq.DEALER)
    for s in (a, b):
        s.routing_id = b"same"
        s.rcvtimeo = 500
        s.connect("inproc://dr-dup")
    router.send_multipart([b"same", b"first"])
    assert a.recv() == b"first"
    with pytest.raises(zmq.Again):
        b.recv(zmq.DONTWAIT)

"""RFC 30 (PIPELINE): PUSH load-balances round-robin, PULL fair-queues, both keep order."""

from __future__ import annotations

import time

import pytest

import fastzmq as zmq
from conftest import recv_all


@pytest.fixture
def timeouts():
    def set_(*socks):
        for s in socks:
            s.rcvtimeo = 2000
            s.sndtimeo = 2000

    return set_


def test_push_round_robins_over_connected_pulls(ctx, transport, wait_peers, timeouts):
    push = ctx.socket(zmq.PUSH)
    addr = transport.bind(push)
    pulls = [ctx.socket(zmq.PULL) for _ in range(3)]
    for p in pulls:
        timeouts(p)
        p.connect(addr)
    wait_peers(push, 3)
    for i in range(30):
        push.send(b"%d" % i)
    got = [[int(m) for m in (p.recv() for _ in range(10))] for p in pulls]
    # each PULL gets every third message, in order: strict round-robin
    starts = sorted(g[0] for g in got)
    assert starts == [0, 1, 2]
    for g in got:
        assert g == list(range(g[0], 30, 3))
    for p in pulls:
        assert recv_all(p, 50) == []


def test_pull_fair_queues_between_pushes(ctx, transport, wait_peers, timeouts):
    pull = ctx.socket(zmq.PULL)
    timeouts(pull)
    addr = transport.bind(pull)
    pushes = [ctx.socket(zmq.PUSH) for _ in range(3)]
    for p in pushes:
        p.connect(addr)
    wait_peers(pull, 3)
    for i, p in enumerate(pushes):
        for j in range(5):
            p.send(b"%d-%d" % (i, j))
    if transport.name != "inproc":
        time.sleep(0.3)  # let every message arrive, so all three queues are non-empty
    got = [pull.recv() for _ in range(15)]
    # fair-queuing: the first round takes one message from each sender
    assert sorted(m[:1] for m in got[:3]) == [b"0", b"1", b"2"]
    assert sorted(m[:1] for m in got[3:6]) == [b"0", b"1", b"2"]
    for i in range(3):
        mine = [m for m in got if m.startswith(b"%d-" % i)]
        assert mine == [b"%d-%d" % (i, j) for j in range(5)]  # per-peer order kept


def test_push_blocks_without_peers_then_delivers_after_connect(ctx):
    push = ctx.socket(zmq.PUSH)
    push.bind("inproc://pp-late")
    with pytest.raises(zmq.Again):
        push.send(b"x", zmq.DONTWAIT)  # no peer: nothing to load-balance to
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 1000
    pull.connect("inproc://pp-late")
    push.sndtimeo = 1000
    push.send(b"x")
    assert pull.recv() == b"x"


def test_pushpull_multipart_is_atomic(ctx, transport, wait_peers, timeouts):
    push = ctx.socket(zmq.PUSH)
    addr = transport.bind(push)
    pulls = [ctx.socket(zmq.PULL) for _ in range(2)]
    for p in pulls:
        timeouts(p)
        p.connect(addr)
    wait_peers(push, 2)
    for i in range(4):
        push.send(b"a%d" % i, zmq.SNDMORE)
        push.send(b"b%d" % i, zmq.SNDMORE)
        push.send(b"c%d" % i)
    for p in pulls:
        for _ in range(2):
            m = p.recv_multipart()
            i = m[0][1:]
            assert m == [b"a" + i, b"b" + i, b"c" + i]
            assert not p.rcvmore


def test_recv_frame_by_frame_sets_rcvmore(ctx, transport, timeouts):
    pull = ctx.socket(zmq.PULL)
    timeouts(pull)
    addr = transport.bind(pull)
    push = ctx.socket(zmq.PUSH)
    push.connect(addr)
    push.send_multipart([b"1", b"2", b"3"])
    assert pull.recv() == b"1" and pull.getsockopt(zmq.RCVMORE) == 1
    assert pull.recv() == b"2" and pull.rcvmore
    assert pull.recv() == b"3" and pull.getsockopt(zmq.RCVMORE) == 0


def test_unfinished_multipart_never_leaves_on_close(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://pp-half")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://pp-half")
    push.send(b"head", zmq.SNDMORE)
    push.close(linger=0)
    with pytest.raises(zmq.Again):
        pull.recv(zmq.DONTWAIT)


def test_pull_cannot_send_push_cannot_recv(ctx):
    push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    with pytest.raises(zmq.ZMQError) as e:
        pull.send(b"x")
    assert e.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as e:
        push.recv(zmq.DONTWAIT)
    assert e.value.errno == zmq.ENOTSUP

"""The inproc transport: ordering of bind/connect, scoping, HWM, zero copy, stress, CPU."""

from __future__ import annotations

import random
import threading
import time

import pytest

import fastzmq as zmq
from conftest import recv_all


def test_connect_before_bind(ctx):
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://late-binder")
    push.send(b"queued-before-bind")  # the pipe exists at connect: it queues
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 1000
    pull.bind("inproc://late-binder")
    assert pull.recv() == b"queued-before-bind"


def test_connect_before_bind_subscriptions_are_kept(ctx):
    sub = ctx.socket(zmq.SUB)
    sub.connect("inproc://late-pub")
    sub.subscribe(b"a")
    pub = ctx.socket(zmq.PUB)
    pub.bind("inproc://late-pub")
    pub.send(b"a1")
    pub.send(b"b1")
    assert recv_all(sub, 50) == [[b"a1"]]


def test_many_connectors_to_one_binder(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://many")
    pushes = [ctx.socket(zmq.PUSH) for _ in range(20)]
    for i, p in enumerate(pushes):
        p.connect("inproc://many")
        p.send(b"%d" % i)
    got = sorted(int(m[0]) for m in recv_all(pull, 50))
    assert got == list(range(20))


def test_bind_twice_is_eaddrinuse(ctx):
    a, b = ctx.socket(zmq.PULL), ctx.socket(zmq.PULL)
    a.bind("inproc://taken")
    with pytest.raises(zmq.ZMQError) as e:
        b.bind("inproc://taken")
    assert e.value.errno == zmq.EADDRINUSE


def test_endpoints_are_scoped_to_their_context(ctx):
    other = zmq.Context()
    try:
        pull = ctx.socket(zmq.PULL)
        pull.bind("inproc://scoped")
        foreign = other.socket(zmq.PULL)
        foreign.bind("inproc://scoped")  # same name, other context: no clash
        push = other.socket(zmq.PUSH)
        push.connect("inproc://scoped")
        push.send(b"to-other")
        assert foreign.recv(zmq.DONTWAIT) == b"to-other"
        with pytest.raises(zmq.Again):
            pull.recv(zmq.DONTWAIT)
    finally:
        other.destroy(linger=0)


def test_unbind_frees_the_name_and_drops_peers(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://unb")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://unb")
    push.send(b"1")
    assert pull.recv(zmq.DONTWAIT) == b"1"
    pull.unbind("inproc://unb")
    with pytest.raises(zmq.Again):
        push.send(b"2", zmq.DONTWAIT)  # its only peer is gone
    again = ctx.socket(zmq.PULL)
    again.bind("inproc://unb")  # the name is free
    with pytest.raises(zmq.ZMQError) as e:
        pull.unbind("inproc://unb")
    assert e.value.errno == zmq.ENOENT


def test_disconnect_stops_delivery(ctx):
    pulls = [ctx.socket(zmq.PULL) for _ in range(2)]
    push = ctx.socket(zmq.PUSH)
    for i, p in enumerate(pulls):
        p.bind(f"inproc://disc{i}")
        push.connect(f"inproc://disc{i}")
    push.disconnect("inproc://disc0")
    for i in range(4):
        push.send(b"%d" % i, zmq.DONTWAIT)
    assert recv_all(pulls[0], 30) == []
    assert [m[0] for m in recv_all(pulls[1], 30)] == [b"0", b"1", b"2", b"3"]


@pytest.mark.parametrize("sndhwm,rcvhwm", [(3, 4), (1, 1), (10, 0)])
def test_hwm_is_sender_sndhwm_plus_receiver_rcvhwm(ctx, sndhwm, rcvhwm):
    push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    push.sndhwm = sndhwm
    pull.rcvhwm = rcvhwm
    pull.bind(f"inproc://hwm{sndhwm}-{rcvhwm}")
    push.connect(f"inproc://hwm{sndhwm}-{rcvhwm}")
    limit = 5000 if rcvhwm == 0 else sndhwm + rcvhwm
    sent = 0
    try:
        while sent < limit:
            push.send(b"m", zmq.DONTWAIT)
            sent += 1
    except zmq.Again:
        pass
    assert sent == limit  # 0 on either side: unlimited
    if rcvhwm:
        with pytest.raises(zmq.Again):
            push.send(b"m", zmq.DONTWAIT)


def test_hwm_rule_also_applies_when_connecting_first(ctx):
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 2
    push.connect("inproc://hwm-cf")
    pull = ctx.socket(zmq.PULL)
    pull.rcvhwm = 3
    pull.bind("inproc://hwm-cf")
    sent = 0
    with pytest.raises(zmq.Again):
        for _ in range(100):
            push.send(b"m", zmq.DONTWAIT)
            sent += 1
    assert sent == 5


def test_zero_copy_the_same_object_arrives(ctx):
    push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    pull.bind("inproc://zc")
    push.connect("inproc://zc")
    payload = random.randbytes(100_000) if hasattr(random, "randbytes") else b"x" * 100_000
    push.send(payload)
    assert pull.recv() is payload
    parts = [b"head", payload]
    push.send_multipart(parts)
    got = pull.recv_multipart()
    assert got[0] is parts[0] and got[1] is payload


def test_blocked_recv_uses_no_cpu(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://idle")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://idle")
    cpu = []

    def blocked():
        c0 = time.thread_time()
        pull.recv()
        cpu.append(time.thread_time() - c0)

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.5)
    push.send(b"wake")
    t.join(5)
    assert not t.is_alive()
    assert cpu[0] < 0.05  # a busy loop would use ~0.5 s


N_PRODUCERS = 4
PER_PRODUCER = 250_000
POOL = 4096


def _pool(pid: int, rng: random.Random) -> list:
    return [bytes([pid]) + i.to_bytes(2, "big") + bytes(rng.randrange(200)) for i in range(POOL)]


def test_stress_threads_ordered_and_lossless(ctx):
    """4 producer threads x 250k messages of random sizes into one PULL: in order, none lost.

    Each producer cycles through its own pool of distinct objects; inproc is zero
    copy, so the receiver checks identity: the right object, in the right order.
    """
    rng = random.Random(7)
    pools = [_pool(pid, rng) for pid in range(N_PRODUCERS)]
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 5000
    pull.bind("inproc://stress")
    pushes = []
    for _ in range(N_PRODUCERS):
        p = ctx.socket(zmq.PUSH)
        p.sndtimeo = 5000
        p.connect("inproc://stress")
        pushes.append(p)
    errors = []

    def produce(pid):
        send, pool = pushes[pid].send, pools[pid]
        try:
            for i in range(PER_PRODUCER):
                send(pool[i % POOL])
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=produce, args=(i,)) for i in range(N_PRODUCERS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    nxt = [0] * N_PRODUCERS
    recv = pull.recv
    try:
        for _ in range(N_PRODUCERS * PER_PRODUCER):
            m = recv()
            pid = m[0]
            assert m is pools[pid][nxt[pid] % POOL], f"producer {pid} out of order"
            nxt[pid] += 1
    finally:
        for t in threads:
            t.join(10)
    elapsed = time.monotonic() - t0
    assert not errors
    assert nxt == [PER_PRODUCER] * N_PRODUCERS
    with pytest.raises(zmq.Again):
        pull.recv(zmq.DONTWAIT)
    assert elapsed < 20


def test_messages_sent_before_close_are_still_delivered(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://linger")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://linger")
    push.send_multipart([b"a", b"b"])
    push.send(b"c")
    push.close()
    assert recv_all(pull, 30) == [[b"a", b"b"], [b"c"]]


@pytest.mark.parametrize("sock_type", [zmq.PULL, zmq.PAIR])
def test_a_sole_peer_that_closed_is_drained_then_replaced(ctx, sock_type):
    # one pipe: recv reads it directly (no fair-queue round); once the closed peer's
    # messages are drained the pipe is dropped, a recv waits, and a new peer is served
    ep = f"inproc://sole-{sock_type}"
    s = ctx.socket(sock_type)
    s.bind(ep)
    peer_type = zmq.PUSH if sock_type == zmq.PULL else zmq.PAIR
    first = ctx.socket(peer_type)
    first.connect(ep)
    first.send(b"1")
    first.send(b"2")
    first.close()
    s.rcvtimeo = 2000
    assert [s.recv(), s.recv()] == [b"1", b"2"]
    s.rcvtimeo = 50
    with pytest.raises(zmq.Again):
        s.recv()
    second = ctx.socket(peer_type)
    second.connect(ep)
    second.send(b"3")
    s.rcvtimeo = 2000
    assert s.recv() == b"3"


def test_a_connecter_closed_before_the_binder_adopted_it_loses_nothing(ctx):
    # the PUSH binder has not run since A connected (A's attach waits in its mailbox) when A
    # closes: A's detach must follow the attach, or PUSH round-robins into a dead pipe
    push = ctx.socket(zmq.PUSH)
    push.bind("inproc://early-close")
    a = ctx.socket(zmq.PULL)
    a.connect("inproc://early-close")
    a.close()
    b = ctx.socket(zmq.PULL)
    b.connect("inproc://early-close")
    push.sndtimeo = 2000
    for i in range(4):
        push.send(b"%d" % i)
    b.rcvtimeo = 2000
    assert [b.recv() for _ in range(4)] == [b"0", b"1", b"2", b"3"]


def test_rebind_after_binder_closed_serves_new_connectors(ctx):
    first = ctx.socket(zmq.PULL)
    first.bind("inproc://rebind")
    first.close()
    second = ctx.socket(zmq.PULL)
    second.bind("inproc://rebind")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://rebind")
    push.send(b"x")
    assert second.recv(zmq.DONTWAIT) == b"x"


def test_closing_a_socket_that_never_used_inproc_leaves_the_bindings(ctx):
    """close() of a tcp-only socket skips the context's inproc tables (no scan per close);
    the bindings and pending connects of other sockets are untouched, and a socket that did
    use inproc still gives its endpoints back at close."""
    binder = ctx.socket(zmq.PAIR)
    binder.bind("inproc://kept")
    waiting = ctx.socket(zmq.PAIR)
    waiting.connect("inproc://pending-bind")  # connect before bind: pending in the context
    tcp_only = ctx.socket(zmq.PAIR)
    tcp_only.bind("tcp://127.0.0.1:*")
    assert tcp_only._inproc_used is False and binder._inproc_used is True
    tcp_only.close()
    with pytest.raises(zmq.ZMQError) as info:
        ctx.socket(zmq.PAIR).bind("inproc://kept")
    assert info.value.errno == zmq.EADDRINUSE
    late = ctx.socket(zmq.PAIR)
    late.bind("inproc://pending-bind")  # the pending connect joins it
    waiting.send(b"still pending", zmq.DONTWAIT)
    late.rcvtimeo = 5000
    assert late.recv() == b"still pending"
    binder.close()
    again = ctx.socket(zmq.PAIR)
    again.bind("inproc://kept")  # freed by the close of the socket that bound it

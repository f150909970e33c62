"""RFC 49 (SCATTER/GATHER): PUSH/PULL's pattern, single-part, thread-safe."""

from __future__ import annotations

import threading

import pytest

import fastzmq as zmq


def _drain(sock, ms=100):
    out = []
    while sock.poll(ms, zmq.POLLIN):
        out.append(sock.recv())
    return out


def test_scatter_round_robins_gather_fair_queues(ctx, transport, wait_peers):
    scatter = ctx.socket(zmq.SCATTER)
    addr = transport.bind(scatter)
    gathers = [ctx.socket(zmq.GATHER) for _ in range(3)]
    for g in gathers:
        g.connect(addr)
    wait_peers(scatter, 3)
    for i in range(30):
        scatter.send(b"%d" % i)
    got = [[int(m) for m in _drain(g)] for g in gathers]
    assert sorted(g[0] for g in got) == [0, 1, 2]
    for g in got:
        assert g == list(range(g[0], 30, 3))  # strict round robin, in order


def test_gather_fair_queues_from_several_scatters(ctx, wait_peers):
    gather = ctx.socket(zmq.GATHER)
    gather.bind("inproc://sg-fq")
    scatters = [ctx.socket(zmq.SCATTER) for _ in range(2)]
    for s in scatters:
        s.connect("inproc://sg-fq")
    wait_peers(gather, 2)
    for i in range(3):
        for k, s in enumerate(scatters):
            s.send(b"%d:%d" % (k, i))
    got = _drain(gather)
    assert sorted(got) == sorted(b"%d:%d" % (k, i) for k in range(2) for i in range(3))
    # alternating between the two peers (fair queueing)
    assert [m[:1] for m in got[:4]] in ([b"0", b"1", b"0", b"1"], [b"1", b"0", b"1", b"0"])


def test_directions_and_single_part(ctx):
    scatter = ctx.socket(zmq.SCATTER)
    gather = ctx.socket(zmq.GATHER)
    with pytest.raises(zmq.ZMQError) as e:
        scatter.recv()
    assert e.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as e:
        gather.send(b"x")
    assert e.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as e:
        scatter.send(b"x", zmq.SNDMORE)
    assert e.value.errno == zmq.EINVAL
    assert scatter.THREAD_SAFE == 1 and gather.THREAD_SAFE == 1


def test_incompatible_with_push_pull(ctx):
    import zmq as pyzmq

    gather = ctx.socket(zmq.GATHER)
    gather.rcvtimeo = 300
    port = gather.bind_to_random_port("tcp://127.0.0.1")
    pctx = pyzmq.Context()
    push = pctx.socket(pyzmq.PUSH)
    push.linger = 0
    try:
        push.connect(f"tcp://127.0.0.1:{port}")
        push.send(b"a PUSH is not a SCATTER", pyzmq.DONTWAIT)
        with pytest.raises(zmq.Again):
            gather.recv()
    finally:
        push.close()
        pctx.term()


def test_several_threads_on_each_socket(ctx):
    scatter = ctx.socket(zmq.SCATTER)
    gather = ctx.socket(zmq.GATHER)
    gather.bind("inproc://sg-threads")
    scatter.connect("inproc://sg-threads")
    scatter.sndtimeo = gather.rcvtimeo = 5000
    scatter.sndhwm = gather.rcvhwm = 10  # senders block at the HWM and are woken
    got: list[bytes] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def send(k: int) -> None:
        try:
            for i in range(300):
                scatter.send(b"%d-%d" % (k, i))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def recv() -> None:
        try:
            while True:
                m = gather.recv()
                if m == b"stop":
                    return
                with lock:
                    got.append(m)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    senders = [threading.Thread(target=send, args=(k,)) for k in range(3)]
    receivers = [threading.Thread(target=recv) for _ in range(3)]
    for t in senders + receivers:
        t.start()
    for t in senders:
        t.join(20)
    for _ in receivers:
        scatter.send(b"stop")
    for t in receivers:
        t.join(10)
    assert not any(t.is_alive() for t in senders + receivers)
    assert errors == []
    assert sorted(got) == sorted(b"%d-%d" % (k, i) for k in range(3) for i in range(300))

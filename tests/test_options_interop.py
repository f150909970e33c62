"""Options whose effect shows on the wire, against libzmq 4.3.5 (through pyzmq).

PROBE_ROUTER (an empty message announces the connecting side), CONNECT_ROUTING_ID (a
connecting ROUTER names its peer), INVERT_MATCHING (an inverted PUB sends what its
subscribers did not subscribe to; an inverted SUB keeps the rest), ROUTER_NOTIFY with
a libzmq peer coming and going. Every blocking call is bounded; sockets are closed
with linger 0 and both contexts terminated.
"""

from __future__ import annotations

import time

import pytest

import fastzmq

zmq = pytest.importorskip("zmq")

T = 3000


@pytest.fixture
def pctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _p(pctx, kind, **opts):
    s = pctx.socket(getattr(zmq, kind))
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = T
    for k, v in opts.items():
        s.setsockopt(getattr(zmq, k.upper()), v)
    return s


def _f(ctx, kind, **opts):
    s = ctx.socket(getattr(fastzmq, kind))
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = T
    for k, v in opts.items():
        setattr(s, k, v)
    return s


def test_probe_router_both_ways(ctx, pctx):
    # fastzmq DEALER -> libzmq ROUTER: the probe arrives as an empty message
    router = _p(pctx, "ROUTER")
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = _f(ctx, "DEALER", routing_id=b"fz-dealer", probe_router=1)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    assert router.recv_multipart() == [b"fz-dealer", b""]
    # libzmq DEALER -> fastzmq ROUTER
    frouter = _f(ctx, "ROUTER")
    fport = frouter.bind_to_random_port("tcp://127.0.0.1")
    pdealer = _p(pctx, "DEALER", routing_id=b"lz-dealer", probe_router=1)
    pdealer.connect(f"tcp://127.0.0.1:{fport}")
    assert frouter.recv_multipart() == [b"lz-dealer", b""]
    # ROUTER to ROUTER: the prober learns the binder's id from its answer
    prober = _f(ctx, "ROUTER", routing_id=b"fz-router", probe_router=1)
    lz = _p(pctx, "ROUTER", routing_id=b"lz-router")
    lport = lz.bind_to_random_port("tcp://127.0.0.1")
    prober.connect(f"tcp://127.0.0.1:{lport}")
    assert lz.recv_multipart() == [b"fz-router", b""]
    lz.send_multipart([b"fz-router", b"hello"])
    assert prober.recv_multipart() == [b"lz-router", b"hello"]
    # without the option nothing is sent on connect
    quiet = _f(ctx, "DEALER", routing_id=b"quiet")
    quiet.connect(f"tcp://127.0.0.1:{port}")
    router.rcvtimeo = 300
    with pytest.raises(zmq.Again):
        router.recv_multipart()


def test_connect_routing_id_names_the_peer(ctx, pctx):
    lz = _p(pctx, "ROUTER", routing_id=b"lz-name")
    port = lz.bind_to_random_port("tcp://127.0.0.1")
    fz = _f(ctx, "ROUTER", routing_id=b"fz", router_mandatory=1)
    fz.connect_routing_id = b"chosen"
    fz.connect(f"tcp://127.0.0.1:{port}")
    deadline = time.monotonic() + T / 1000
    while True:  # the peer's id is ours to choose: the one it announced is not used
        try:
            fz.send_multipart([b"chosen", b"hi"])
            break
        except fastzmq.ZMQError as e:
            assert e.errno == fastzmq.EHOSTUNREACH and time.monotonic() < deadline
            time.sleep(0.01)
    assert lz.recv_multipart() == [b"fz", b"hi"]
    with pytest.raises(fastzmq.ZMQError) as e:
        fz.send_multipart([b"lz-name", b"x"])
    assert e.value.errno == fastzmq.EHOSTUNREACH
    # it served that one connect: the next peer keeps its own id
    lz2 = _p(pctx, "ROUTER", routing_id=b"second")
    port2 = lz2.bind_to_random_port("tcp://127.0.0.1")
    fz.connect(f"tcp://127.0.0.1:{port2}")
    deadline = time.monotonic() + T / 1000
    while True:
        try:
            fz.send_multipart([b"second", b"hey"])
            break
        except fastzmq.ZMQError:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert lz2.recv_multipart() == [b"fz", b"hey"]


def _pump_until(pub, sub, send_topics, timeout=T / 1000):
    """Publish send_topics in rounds until sub receives something; all received."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not got:
        for t in send_topics:
            pub.send(t)
        time.sleep(0.02)
        while True:
            try:
                got.append(sub.recv(zmq.NOBLOCK))
            except (zmq.Again, fastzmq.Again):
                break
    return got


def test_invert_matching_with_libzmq(ctx, pctx):
    # fastzmq PUB (inverted) -> libzmq SUB (inverted, subscribed to "skip" only): a PUB
    # that did not invert would never send "keep" to a peer that never asked for it
    fpub = _f(ctx, "PUB", invert_matching=1)
    port = fpub.bind_to_random_port("tcp://127.0.0.1")
    psub = _p(pctx, "SUB", invert_matching=1)
    psub.setsockopt(zmq.SUBSCRIBE, b"skip")
    psub.connect(f"tcp://127.0.0.1:{port}")
    got = _pump_until(fpub, psub, [b"skip-1", b"keep-1"])
    assert got and all(m == b"keep-1" for m in got)
    # libzmq PUB (inverted) -> fastzmq SUB (inverted)
    ppub = _p(pctx, "PUB", invert_matching=1)
    pport = ppub.bind_to_random_port("tcp://127.0.0.1")
    fsub = _f(ctx, "SUB", invert_matching=1)
    fsub.subscribe(b"skip")
    fsub.connect(f"tcp://127.0.0.1:{pport}")
    assert fsub.wait_subscribed(T)
    got = _pump_until(ppub, fsub, [b"skip-2", b"keep-2"])
    assert got and all(m == b"keep-2" for m in got)
    # the filter is the SUB's too: a libzmq PUB without the option sends "skip" (the
    # subscription) and the inverted fastzmq SUB drops it
    plain = _p(pctx, "PUB")
    port3 = plain.bind_to_random_port("tcp://127.0.0.1")
    fsub3 = _f(ctx, "SUB", invert_matching=1)
    fsub3.subscribe(b"skip")
    fsub3.connect(f"tcp://127.0.0.1:{port3}")
    assert fsub3.wait_subscribed(T)
    for _ in range(5):
        plain.send(b"skip-3")
    time.sleep(0.2)
    with pytest.raises(fastzmq.Again):
        fsub3.recv(fastzmq.DONTWAIT)


def test_router_notify_with_a_libzmq_peer(ctx, pctx):
    router = _f(ctx, "ROUTER", router_notify=fastzmq.NOTIFY_CONNECT | fastzmq.NOTIFY_DISCONNECT)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    peer = _p(pctx, "DEALER", routing_id=b"lz")
    peer.connect(f"tcp://127.0.0.1:{port}")
    assert router.recv_multipart() == [b"lz", b""]
    peer.send(b"data")
    assert router.recv_multipart() == [b"lz", b"data"]
    peer.close(0)
    assert router.recv_multipart() == [b"lz", b""]

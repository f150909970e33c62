"""proxy(): XSUB/XPUB forwards data down and subscriptions up; ROUTER/DEALER queue."""

from __future__ import annotations

import threading
import time

import pytest

import fastzmq as zmq


def _run_proxy(ctx, front_type, back_type, front_ep, back_ep):
    front = ctx.socket(front_type)
    back = ctx.socket(back_type)
    front.bind(front_ep)
    back.bind(back_ep)
    endpoints = (front.last_endpoint.decode(), back.last_endpoint.decode())
    errors = []

    def run():
        try:
            zmq.proxy(front, back)
        except zmq.ContextTerminated:
            pass
        except zmq.ZMQError as e:  # a socket closed under it
            errors.append(e)
        finally:
            front.close(linger=0)
            back.close(linger=0)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, endpoints


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_pubsub_through_xsub_xpub_proxy(transport):
    ctx = zmq.Context()
    if transport == "inproc":
        up, down = "inproc://up", "inproc://down"
    else:
        # ports the OS picks: a fixed one may be held by a TIME-WAIT of an earlier client
        up, down = "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"
    t, (up, down) = _run_proxy(ctx, zmq.XSUB, zmq.XPUB, up, down)
    pub = ctx.socket(zmq.PUB)
    pub.connect(up)
    sub = ctx.socket(zmq.SUB)
    sub.connect(down)
    sub.subscribe(b"weather")
    sub.rcvtimeo = 100
    got = None
    deadline = time.monotonic() + 5
    while got is None and time.monotonic() < deadline:
        pub.send(b"sports nothing")
        pub.send(b"weather 21C")
        try:
            got = sub.recv()
        except zmq.Again:
            pass
    assert got == b"weather 21C"  # the subscription travelled up, the data came down
    sub.rcvtimeo = 200
    pub.send(b"sports still nothing")
    pub.send(b"weather 22C")
    assert sub.recv() == b"weather 22C"  # the unsubscribed topic was filtered out
    for s in (pub, sub):
        s.close(linger=0)
    ctx.term()
    t.join(5)
    assert not t.is_alive()


def test_router_dealer_queue():
    ctx = zmq.Context()
    t, _ = _run_proxy(ctx, zmq.ROUTER, zmq.DEALER, "inproc://front", "inproc://back")
    worker = ctx.socket(zmq.REP)
    worker.connect("inproc://back")
    clients = [ctx.socket(zmq.REQ) for _ in range(3)]
    for c in clients:
        c.connect("inproc://front")
        c.rcvtimeo = 5000
    worker.rcvtimeo = 5000
    for i, c in enumerate(clients):
        c.send(b"req %d" % i)
        req = worker.recv()
        worker.send(req.replace(b"req", b"rep"))
        assert c.recv() == b"rep %d" % i  # the envelope brought the reply back to its client
    for s in clients + [worker]:
        s.close(linger=0)
    ctx.term()
    t.join(5)
    assert not t.is_alive()

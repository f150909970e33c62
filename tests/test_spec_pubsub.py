"""RFC 29 (PUBSUB): prefix filtering, subscriptions upstream, XPUB/XSUB as messages."""

from __future__ import annotations

import pytest

import fastzmq as zmq
from conftest import recv_all, wait_until


def _pubsub(ctx, transport, wait_peers, *topics, pub_type=zmq.PUB, sub_type=zmq.SUB):
    pub, sub = ctx.socket(pub_type), ctx.socket(sub_type)
    sub.rcvtimeo = 2000
    pub.rcvtimeo = 2000
    sub.connect(transport.bind(pub))
    for t in topics:
        sub.subscribe(t)
    wait_peers(pub, 1)
    return pub, sub


def _sync(pub, sub, topic=b""):
    """Send probes until one arrives: the subscriptions have reached the publisher."""

    def arrived():
        pub.send(topic + b"\xffsync")
        return bool(sub.poll(20))

    wait_until(arrived, 5.0, "subscription to reach the publisher")
    while sub.poll(50):
        sub.recv_multipart()


def test_prefix_filtering(ctx, transport, wait_peers):
    pub, sub = _pubsub(ctx, transport, wait_peers, b"news.")
    _sync(pub, sub, b"news.")
    for t in (b"news.a", b"sport.b", b"news", b"news.", b"xnews.c"):
        pub.send(t)
    pub.send(b"end.", zmq.DONTWAIT)
    assert [m[0] for m in recv_all(sub, 100)] == [b"news.a", b"news."]


def test_empty_prefix_receives_everything(ctx, transport, wait_peers):
    pub, sub = _pubsub(ctx, transport, wait_peers, b"")
    _sync(pub, sub)
    for t in (b"a", b"", b"zzz"):
        pub.send(t)
    assert [m[0] for m in recv_all(sub, 100)] == [b"a", b"", b"zzz"]


def test_no_subscription_receives_nothing(ctx):
    pub, sub = ctx.socket(zmq.PUB), ctx.socket(zmq.SUB)
    pub.bind("inproc://ps-none")
    sub.connect("inproc://ps-none")
    pub.send(b"anything")
    assert recv_all(sub, 50) == []


def test_multiple_subscriptions_and_unsubscribe(ctx, transport, wait_peers):
    pub, sub = _pubsub(ctx, transport, wait_peers, b"a", b"b", b"a")
    _sync(pub, sub, b"a")
    pub.send(b"a1")
    pub.send(b"b1")
    pub.send(b"c1")
    assert [m[0] for m in recv_all(sub, 100)] == [b"a1", b"b1"]
    sub.unsubscribe(b"a")  # "a" was subscribed twice: still once
    sub.unsubscribe(b"b")
    _sync(pub, sub, b"a")
    pub.send(b"a2")
    pub.send(b"b2")
    assert [m[0] for m in recv_all(sub, 100)] == [b"a2"]
    sub.unsubscribe(b"a")
    sub.subscribe(b"z")
    _sync(pub, sub, b"z")
    pub.send(b"a3")
    pub.send(b"z3")
    assert [m[0] for m in recv_all(sub, 100)] == [b"z3"]


def test_pub_multipart_filtered_on_first_frame_atomic(ctx, transport, wait_peers):
    pub, sub = _pubsub(ctx, transport, wait_peers, b"k")
    _sync(pub, sub, b"k")
    pub.send_multipart([b"k1", b"body", b"tail"])
    pub.send(b"x1", zmq.SNDMORE)
    pub.send(b"k-in-body")
    pub.send_multipart([b"k2", b""])
    assert recv_all(sub, 100) == [[b"k1", b"body", b"tail"], [b"k2", b""]]


def test_pub_fans_out_to_every_matching_sub(ctx):
    pub = ctx.socket(zmq.PUB)
    pub.bind("inproc://ps-fan")
    subs = []
    for t in (b"a", b"b", b""):
        s = ctx.socket(zmq.SUB)
        s.connect("inproc://ps-fan")
        s.subscribe(t)
        subs.append(s)
    pub.send(b"a!")
    pub.send(b"b!")
    assert [recv_all(s, 50) for s in subs] == [[[b"a!"]], [[b"b!"]], [[b"a!"], [b"b!"]]]


def test_pub_cannot_recv_sub_cannot_send(ctx):
    pub, sub = ctx.socket(zmq.PUB), ctx.socket(zmq.SUB)
    for call, sock in ((lambda s: s.recv(zmq.DONTWAIT), pub), (lambda s: s.send(b"x"), sub)):
        with pytest.raises(zmq.ZMQError) as e:
            call(sock)
        assert e.value.errno == zmq.ENOTSUP


def test_pub_drops_at_hwm_and_counts(ctx):
    pub, sub = ctx.socket(zmq.PUB), ctx.socket(zmq.SUB)
    pub.sndhwm = 5
    sub.rcvhwm = 5
    pub.bind("inproc://ps-hwm")
    sub.connect("inproc://ps-hwm")
    sub.subscribe(b"")
    for i in range(50):
        pub.send(b"%d" % i, zmq.DONTWAIT)  # never blocks, never raises
    got = recv_all(sub, 50)
    assert got == [[b"%d" % i] for i in range(10)]  # SNDHWM + RCVHWM, the oldest kept
    assert pub.get_stats()["dropped_hwm"] == 40


def test_xpub_receives_subscriptions(ctx, transport, wait_peers):
    xpub, sub = _pubsub(ctx, transport, wait_peers, b"t1", pub_type=zmq.XPUB)
    assert xpub.recv() == b"\x01t1"
    sub.subscribe(b"t2")
    assert xpub.recv() == b"\x01t2"
    sub.unsubscribe(b"t1")
    assert xpub.recv() == b"\x00t1"
    xpub.send(b"t2-data")
    assert sub.recv() == b"t2-data"


def test_xpub_passes_duplicates_only_when_verbose(ctx):
    for verbose in (0, 1):
        xpub = ctx.socket(zmq.XPUB)
        xpub.xpub_verbose = verbose
        xpub.bind(f"inproc://ps-verbose{verbose}")
        subs = [ctx.socket(zmq.SUB) for _ in range(2)]
        for s in subs:
            s.connect(f"inproc://ps-verbose{verbose}")
            s.subscribe(b"dup")
        got = recv_all(xpub, 50)
        assert got == [[b"\x01dup"]] * (2 if verbose else 1)
        subs[0].unsubscribe(b"dup")
        assert recv_all(xpub, 50) == []  # someone is still subscribed
        subs[1].unsubscribe(b"dup")
        assert recv_all(xpub, 50) == [[b"\x00dup"]]


def test_xpub_reports_unsubscribe_when_subscriber_leaves(ctx):
    xpub = ctx.socket(zmq.XPUB)
    xpub.bind("inproc://ps-leave")
    sub = ctx.socket(zmq.SUB)
    sub.connect("inproc://ps-leave")
    sub.subscribe(b"x")
    assert recv_all(xpub, 50) == [[b"\x01x"]]
    sub.close(linger=0)
    assert recv_all(xpub, 50) == [[b"\x00x"]]


def test_xsub_sends_subscriptions_as_messages(ctx, transport, wait_peers):
    pub, xsub = _pubsub(ctx, transport, wait_peers, pub_type=zmq.PUB, sub_type=zmq.XSUB)
    xsub.send(b"\x01w")
    _sync(pub, xsub, b"w")
    pub.send(b"weather")
    pub.send(b"news")
    assert [m[0] for m in recv_all(xsub, 100)] == [b"weather"]
    xsub.send(b"\x00w")
    xsub.send(b"\x01n")
    _sync(pub, xsub, b"n")
    pub.send(b"weather")
    pub.send(b"news")
    assert [m[0] for m in recv_all(xsub, 100)] == [b"news"]


def test_xsub_to_xpub_passes_subscriptions_through(ctx):
    xpub, xsub = ctx.socket(zmq.XPUB), ctx.socket(zmq.XSUB)
    xpub.bind("inproc://ps-x2x")
    xsub.connect("inproc://ps-x2x")
    xsub.send(b"\x01abc")
    assert recv_all(xpub, 50) == [[b"\x01abc"]]
    xpub.send(b"abc-1")
    xsub.rcvtimeo = 1000
    assert xsub.recv() == b"abc-1"

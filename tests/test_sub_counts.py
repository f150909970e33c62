"""Subscription counting across SUB and publisher, as libzmq does it.

* A SUB counts its own subscriptions (subscribe twice, cancel twice), sends a
  SUBSCRIBE for every subscribe() but a CANCEL only when its count drops to zero.
* A publisher holds, per peer, a prefix subscribed or not: a repeated SUBSCRIBE
  changes nothing and one CANCEL ends it.
* A SUB's first connection sends each subscription once (the ones queued at
  connect() are not sent a second time when the handshake completes).

Checked fastzmq <-> fastzmq and against libzmq (pyzmq) on the other side.
"""

from __future__ import annotations

import pytest

import fastzmq
from fastzmq._trie import Mtrie
from fastzmq._trie_py import Mtrie as MtrieModel

zmq = pytest.importorskip("zmq")

T_MS = 3000


def _opts(s, **kw):
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = T_MS
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def _drain(sock, ms=150):
    out = []
    while sock.poll(ms):
        out.append(sock.recv())
    return out


def _deliveries(pub, sub, topic, n=20):
    """Publish n messages on topic (probing until the first arrives); count arrivals."""
    got = 0
    for _ in range(n):
        pub.send(topic + b"-x")
    while sub.poll(150):
        if sub.recv().startswith(topic):
            got += 1
    return got


@pytest.mark.parametrize("impl", [Mtrie, MtrieModel])
def test_mtrie_contains(impl):
    t = impl()
    assert not t.contains(b"ab", 3)
    t.add(b"ab", 3)
    assert t.contains(b"ab", 3)
    assert not t.contains(b"a", 3) and not t.contains(b"ab", 4)
    t.remove(b"ab", 3)
    assert not t.contains(b"ab", 3)


def test_first_connection_sends_each_subscription_once(ctx):
    xpub = _opts(ctx.socket(fastzmq.XPUB), xpub_verbose=1)
    xpub.bind("tcp://127.0.0.1:*")
    sub = _opts(ctx.socket(fastzmq.SUB))
    sub.connect(xpub.last_endpoint.decode())
    sub.subscribe(b"news")  # queued before the handshake completes
    assert xpub.recv() == b"\x01news"
    assert sub.poll(100) == 0  # the SUB takes in "connection up" from its mailbox
    assert _drain(xpub) == []  # and does not send the subscription a second time
    sub.unsubscribe(b"news")
    assert xpub.recv() == b"\x00news"


def test_sub_counts_and_cancels_once_at_zero(ctx):
    xpub = _opts(ctx.socket(fastzmq.XPUB), xpub_verboser=1)  # shows every CANCEL too
    xpub.bind("tcp://127.0.0.1:*")
    sub = _opts(ctx.socket(fastzmq.SUB))
    sub.connect(xpub.last_endpoint.decode())
    sub.subscribe(b"a")
    sub.subscribe(b"a")
    assert [xpub.recv(), xpub.recv()] == [b"\x01a", b"\x01a"]  # verbose: repeats shown
    sub.unsubscribe(b"a")
    assert _drain(xpub) == []  # still subscribed once: nothing goes up
    sub.unsubscribe(b"a")
    assert xpub.recv() == b"\x00a"


def test_libzmq_sub_double_subscribe_single_cancel_at_fastzmq_xpub(ctx):
    """libzmq's SUB sends both SUBSCRIBEs but only the last CANCEL: that one CANCEL
    must end the peer's subscription here (verbose XPUB reports the topic gone)."""
    xpub = _opts(ctx.socket(fastzmq.XPUB), xpub_verbose=1)
    xpub.bind("tcp://127.0.0.1:*")
    zctx = zmq.Context()
    try:
        sub = zctx.socket(zmq.SUB)
        sub.linger = 0
        sub.connect(xpub.last_endpoint.decode())
        sub.setsockopt(zmq.SUBSCRIBE, b"a")
        sub.setsockopt(zmq.SUBSCRIBE, b"a")
        assert [xpub.recv(), xpub.recv()] == [b"\x01a", b"\x01a"]
        sub.setsockopt(zmq.UNSUBSCRIBE, b"a")  # libzmq: count 1, nothing sent
        assert _drain(xpub) == []
        sub.setsockopt(zmq.UNSUBSCRIBE, b"a")  # the one CANCEL
        assert xpub.recv() == b"\x00a"
        sub.close()
    finally:
        zctx.destroy(linger=0)


def test_fastzmq_sub_double_subscribe_single_cancel_at_libzmq_pub(ctx):
    zctx = zmq.Context()
    try:
        pub = zctx.socket(zmq.PUB)
        pub.linger = 0
        port = pub.bind_to_random_port("tcp://127.0.0.1")
        sub = _opts(ctx.socket(fastzmq.SUB))
        sub.connect(f"tcp://127.0.0.1:{port}")
        sub.subscribe(b"a")
        sub.subscribe(b"a")
        assert sub.wait_subscribed(T_MS)
        sub.unsubscribe(b"a")  # count 1: no CANCEL, the libzmq PUB keeps sending
        assert sub.wait_subscribed(T_MS)
        assert _deliveries(pub, sub, b"a") == 20
        pub.close()
    finally:
        zctx.destroy(linger=0)

"""The slow-joiner answer: ``Socket.wait_subscribed`` (docs/pubsub.md).

* fastzmq SUB <-> fastzmq PUB over tcp, ipc and inproc (either side binding), and
  <-> a libzmq (pyzmq) PUB over tcp and ipc: once ``wait_subscribed`` returns True,
  the very first message the publisher sends on a subscribed topic arrives. No
  sleep anywhere; the publisher is idle (not sending) while the subscriber waits,
  also when it sits in another thread blocked on a REQ/REP "start" signal.
* Bursts (3000 topics), unsubscribe, a publisher restart (subscriptions re-sent and
  pinged again), the timeout path, ``peers``, ENOTSUP, ContextTerminated.
* Messages read past while looking for the PONG are delivered in order, none lost,
  and make the socket POLLIN.
* Raw ZMTP: a fastzmq PUB's engine answers PING with the same context while its
  socket is idle, and only at a message boundary of a stream that is mid-message;
  a ZMTP 3.0 publisher gets no PING (written-to-the-kernel counts as acknowledged).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

import fastzmq
from conftest import bind_retrying, free_tcp_port, live_pipes, wait_until
from fastzmq._frame import Decoder, encode_command
from fastzmq.zmtp.handshake import Handshake, HandshakeComplete
from zmtp_peer import run_handshake

zmq = pytest.importorskip("zmq")

T_MS = 5000  # bound of every blocking call, ms
T_S = T_MS / 1000.0


def fsock(ctx, kind, **opts):
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = T_MS
    for name, value in opts.items():
        setattr(s, name, value)
    return s


@pytest.fixture
def pctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def psock(pctx, kind, **opts):
    s = pctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = T_MS
    for name, value in opts.items():
        setattr(s, name, value)
    return s


def pz_endpoint(pub, transport, tmp_path) -> str:
    if transport == "tcp":
        return f"tcp://127.0.0.1:{pub.bind_to_random_port('tcp://127.0.0.1')}"
    ep = f"ipc://{tmp_path}/pub.ipc"
    pub.bind(ep)
    return ep


# ------------------------------------------------------------------ fastzmq PUB
@pytest.mark.parametrize("sub_binds", [False, True])
def test_first_message_after_wait_fastzmq_pub(ctx, transport, sub_binds):
    pub, sub = fsock(ctx, fastzmq.PUB), fsock(ctx, fastzmq.SUB)
    if sub_binds:
        pub.connect(transport.bind(sub))
    else:
        sub.connect(transport.bind(pub))
    sub.subscribe(b"news")
    assert sub.wait_subscribed(T_MS) is True
    pub.send(b"news 1")  # the very first message: nothing sent before, no sleep
    assert sub.recv() == b"news 1"
    assert pub.get_stats()["dropped_hwm"] == 0


def test_idle_publisher_thread_waits_for_start(ctx, transport):
    """The classic pattern: the publisher blocks on a start signal from the subscriber."""
    pub, rep = fsock(ctx, fastzmq.PUB), fsock(ctx, fastzmq.REP)
    sub, req = fsock(ctx, fastzmq.SUB), fsock(ctx, fastzmq.REQ)
    sub.connect(transport.bind(pub))
    req.connect(transport.bind(rep))
    errors = []

    def publisher():
        try:
            assert rep.recv() == b"start"  # idle here while the subscriber waits
            for i in range(10):
                pub.send(b"t %d" % i)
            rep.send(b"sent")
        except Exception as e:  # reported by the main thread
            errors.append(e)

    th = threading.Thread(target=publisher)
    th.start()
    try:
        sub.subscribe(b"t")
        assert sub.wait_subscribed(T_MS)
        req.send(b"start")
        assert req.recv() == b"sent"
        assert [sub.recv() for _ in range(10)] == [b"t %d" % i for i in range(10)]
    finally:
        th.join(T_S)
    assert not th.is_alive() and not errors


def test_burst_of_3000_topics(ctx, transport):
    pub, sub = fsock(ctx, fastzmq.PUB, rcvhwm=0), fsock(ctx, fastzmq.SUB)
    sub.connect(transport.bind(pub))
    topics = [b"topic-%05d/" % i for i in range(3000)]
    for t in topics:
        sub.subscribe(t)
    assert sub.wait_subscribed(T_MS)
    for t in (topics[0], topics[1500], topics[-1]):
        pub.send(t + b"x")
    assert [sub.recv() for _ in range(3)] == [
        topics[0] + b"x",
        topics[1500] + b"x",
        topics[-1] + b"x",
    ]


def test_unsubscribe_then_wait(ctx, transport):
    pub, sub = fsock(ctx, fastzmq.PUB), fsock(ctx, fastzmq.SUB)
    sub.connect(transport.bind(pub))
    sub.subscribe(b"a")
    sub.subscribe(b"b")
    assert sub.wait_subscribed(T_MS)
    sub.unsubscribe(b"a")
    assert sub.wait_subscribed(T_MS)
    pub.send(b"a dropped by the publisher")
    pub.send(b"b kept")
    assert sub.recv() == b"b kept"  # the CANCEL reached the publisher before its send


def test_messages_read_past_are_kept_in_order(ctx, transport):
    pub, sub = fsock(ctx, fastzmq.PUB), fsock(ctx, fastzmq.SUB)
    sub.connect(transport.bind(pub))
    sub.subscribe(b"a")
    assert sub.wait_subscribed(T_MS)
    for i in range(100):
        pub.send_multipart([b"a", b"%d" % i])
    sub.subscribe(b"b")
    assert sub.wait_subscribed(T_MS)
    if transport.name != "inproc":  # the PONG came after the 100: they were read past
        assert sub.get_stats()["read_ahead"] == 100
    pub.send_multipart([b"b", b"last"])
    assert sub.poll(T_MS) == fastzmq.POLLIN
    got = [sub.recv_multipart() for _ in range(101)]
    assert got == [[b"a", b"%d" % i] for i in range(100)] + [[b"b", b"last"]]
    assert sub.get_stats()["read_ahead"] == 0


def test_read_ahead_is_filtered_at_delivery(ctx):
    pub, sub = fsock(ctx, fastzmq.PUB), fsock(ctx, fastzmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{pub.bind_to_random_port('tcp://127.0.0.1')}")
    sub.subscribe(b"a")
    assert sub.wait_subscribed(T_MS)
    pub.send(b"a1")
    sub.subscribe(b"b")
    assert sub.wait_subscribed(T_MS)
    sub.unsubscribe(b"a")  # the read-ahead a1 no longer passes our filter
    pub.send(b"b1")
    assert sub.recv() == b"b1"


def test_xsub(ctx, transport):
    pub, xsub = fsock(ctx, fastzmq.PUB), fsock(ctx, fastzmq.XSUB)
    xsub.connect(transport.bind(pub))
    xsub.send(b"\x01x")
    assert xsub.wait_subscribed(T_MS)
    pub.send(b"x1")
    assert xsub.recv() == b"x1"


def test_restart_resends_and_pings_again(ctx):
    port = free_tcp_port()
    ep = f"tcp://127.0.0.1:{port}"
    sub = fsock(ctx, fastzmq.SUB, reconnect_ivl=20)
    pub = fsock(ctx, fastzmq.PUB)
    pub.bind(ep)
    sub.connect(ep)
    sub.subscribe(b"old")
    assert sub.wait_subscribed(T_MS)
    pub.close()
    wait_until(lambda: live_pipes(sub) == 0, T_S, "the subscriber to notice the restart")
    assert sub.wait_subscribed(0) is False  # no publisher connected right now
    pub = fsock(ctx, fastzmq.PUB)
    bind_retrying(pub, ep, T_S)
    assert sub.wait_subscribed(T_MS)  # nothing new subscribed: the resend was pinged
    pub.send(b"old 1")
    assert sub.recv() == b"old 1"
    # restart again, and subscribe at once (the drop may not be noticed yet)
    pub.close()
    pub = fsock(ctx, fastzmq.PUB)
    bind_retrying(pub, ep, T_S)
    sub.subscribe(b"new")
    assert sub.wait_subscribed(T_MS)
    pub.send(b"new 1")
    pub.send(b"old 2")
    assert [sub.recv(), sub.recv()] == [b"new 1", b"old 2"]


# ------------------------------------------------------------------ libzmq PUB
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_first_message_after_wait_libzmq_pub(ctx, pctx, transport, tmp_path):
    pub = psock(pctx, zmq.PUB)
    sub = fsock(ctx, fastzmq.SUB)
    sub.connect(pz_endpoint(pub, transport, tmp_path))
    sub.subscribe(b"news")
    assert sub.wait_subscribed(T_MS)
    pub.getsockopt(zmq.EVENTS)  # libzmq's send polls its commands at most once a ms
    pub.send(b"news 1")
    assert sub.recv() == b"news 1"


def test_libzmq_pub_idle_for_a_while_matches_on_first_send(ctx, pctx):
    """No EVENTS call: a libzmq PUB idle for more than ~1 ms applies them on send."""
    pub = psock(pctx, zmq.PUB)
    sub = fsock(ctx, fastzmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{pub.bind_to_random_port('tcp://127.0.0.1')}")
    sub.subscribe(b"news")
    assert sub.wait_subscribed(T_MS)
    time.sleep(0.01)  # libzmq's own command throttle (max_command_delay), not ours
    pub.send(b"news 1")
    assert sub.recv() == b"news 1"


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_libzmq_pub_connects_to_our_sub(ctx, pctx, transport, tmp_path):
    sub = fsock(ctx, fastzmq.SUB)
    if transport == "tcp":
        ep = f"tcp://127.0.0.1:{sub.bind_to_random_port('tcp://127.0.0.1')}"
    else:
        ep = f"ipc://{tmp_path}/sub.ipc"
        sub.bind(ep)
    sub.subscribe(b"n")
    pub = psock(pctx, zmq.PUB)
    pub.connect(ep)
    assert sub.wait_subscribed(T_MS)
    pub.getsockopt(zmq.EVENTS)
    pub.send(b"n1")
    assert sub.recv() == b"n1"


def test_libzmq_idle_publisher_burst_and_interleaved(ctx, pctx):
    pub = psock(pctx, zmq.PUB, rcvhwm=0)
    sub = fsock(ctx, fastzmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{pub.bind_to_random_port('tcp://127.0.0.1')}")
    topics = [b"topic-%05d/" % i for i in range(3000)]
    for t in topics:
        sub.subscribe(t)
    assert sub.wait_subscribed(T_MS)  # libzmq answers from its I/O thread: pub is idle
    pub.getsockopt(zmq.EVENTS)
    pub.send(topics[-1] + b"first")
    assert sub.recv() == topics[-1] + b"first"
    for i in range(50):
        pub.send(topics[i] + b"%d" % i)
    sub.subscribe(b"late")
    assert sub.wait_subscribed(T_MS)  # reads past (some of) the 50, keeps them
    # A busy libzmq PUB applies new subscriptions at most about once a millisecond
    # (docs/pubsub.md), so the marker is on an old topic: order and completeness only.
    pub.send(topics[0] + b"end")
    got = [sub.recv() for _ in range(51)]
    assert got == [topics[i] + b"%d" % i for i in range(50)] + [topics[0] + b"end"]


def test_libzmq_restart(ctx):
    port = free_tcp_port()
    ep = f"tcp://127.0.0.1:{port}"
    sub = fsock(ctx, fastzmq.SUB, reconnect_ivl=20)
    sub.connect(ep)
    sub.subscribe(b"k")
    for i in range(2):
        c = zmq.Context()
        try:
            pub = psock(c, zmq.PUB)
            pub.bind(ep)
            assert sub.wait_subscribed(T_MS)
            pub.getsockopt(zmq.EVENTS)
            pub.send(b"k%d" % i)
            assert sub.recv() == b"k%d" % i
        finally:
            c.destroy(linger=0)
        wait_until(lambda: live_pipes(sub) == 0, T_S, "the subscriber to notice the restart")


# ------------------------------------------------------------------ API edges
def test_timeout_returns_false(ctx):
    sub = fsock(ctx, fastzmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{free_tcp_port()}")  # nobody there
    sub.subscribe(b"")
    t0 = time.monotonic()
    assert sub.wait_subscribed(100) is False
    assert 0.09 <= time.monotonic() - t0 < 2.0
    assert sub.wait_subscribed(0) is False


def test_peers_counts_publishers(ctx):
    pubs = [fsock(ctx, fastzmq.PUB) for _ in range(2)]
    sub = fsock(ctx, fastzmq.SUB)
    sub.subscribe(b"p")
    sub.connect(f"tcp://127.0.0.1:{pubs[0].bind_to_random_port('tcp://127.0.0.1')}")
    assert sub.wait_subscribed(T_MS, peers=1)
    assert sub.wait_subscribed(50, peers=2) is False
    sub.connect(f"tcp://127.0.0.1:{pubs[1].bind_to_random_port('tcp://127.0.0.1')}")
    assert sub.wait_subscribed(T_MS, peers=2)
    for i, p in enumerate(pubs):
        p.send(b"p%d" % i)
    assert sorted([sub.recv(), sub.recv()]) == [b"p0", b"p1"]


@pytest.mark.parametrize("kind", ["PUB", "PUSH", "REQ", "XPUB"])
def test_other_socket_types_enotsup(ctx, kind):
    s = fsock(ctx, getattr(fastzmq, kind))
    with pytest.raises(fastzmq.ZMQError) as e:
        s.wait_subscribed(0)
    assert e.value.errno == fastzmq.ENOTSUP


def test_context_term_wakes_a_waiter():
    c = fastzmq.Context()
    sub = c.socket(fastzmq.SUB)
    sub.linger = 0
    sub.connect(f"tcp://127.0.0.1:{free_tcp_port()}")
    box = []

    def wait():
        try:
            box.append(sub.wait_subscribed())  # forever
        except fastzmq.ContextTerminated as e:
            box.append(e)
        finally:
            sub.close()

    th = threading.Thread(target=wait)
    th.start()
    time.sleep(0.05)  # let it block (not needed for correctness: term is sticky)
    c.term()
    th.join(T_S)
    assert not th.is_alive() and isinstance(box[0], fastzmq.ContextTerminated)


# ------------------------------------------------------------------ raw ZMTP peers
def raw_sub(pub, version=(3, 1), rcvbuf=0):
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    conn = socket.socket()
    if rcvbuf:  # before connect: it sizes the TCP window
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    conn.settimeout(T_S)
    conn.connect(("127.0.0.1", port))
    ev = run_handshake(conn, Handshake("SUB", version=version))
    assert isinstance(ev, HandshakeComplete)
    return conn, ev


def read_until(conn, dec, pred):
    frames = []
    deadline = time.monotonic() + T_S
    while not pred(frames):
        assert time.monotonic() < deadline, "timed out"
        chunk = conn.recv(1 << 20)
        assert chunk, "peer closed"
        dec.feed(chunk)
        frames += dec.frames()
    return frames


def pong(ctx_bytes):
    return b"\x04PONG" + ctx_bytes


def test_engine_answers_ping_while_socket_idle(ctx):
    pub = fsock(ctx, fastzmq.PUB)
    conn, ev = raw_sub(pub)
    with conn:
        conn.sendall(encode_command(b"SUBSCRIBE", b"z") + encode_command(b"PING", b"\x00\x00ctx-1"))
        dec = Decoder()
        dec.feed(ev.leftover)
        frames = read_until(conn, dec, lambda f: len(f) >= 1)
        assert [tuple(f) for f in frames] == [(4, pong(b"ctx-1"))]
        pub.send(b"z1")  # the socket reads the PING now: it must not answer twice
        frames = read_until(conn, dec, lambda f: len(f) >= 1)
        assert [tuple(f) for f in frames] == [(0, b"z1")]
        conn.sendall(encode_command(b"PING", b"\x00\x00"))  # empty context
        frames = read_until(conn, dec, lambda f: len(f) >= 1)
        assert [tuple(f) for f in frames] == [(4, pong(b""))]


def test_engine_pong_only_at_message_boundary(ctx):
    """The PUB's stream is mid-message (the peer does not read): the PONG waits for the end."""
    pub = fsock(ctx, fastzmq.PUB, sndhwm=0)
    conn, ev = raw_sub(pub, rcvbuf=65536)
    with conn:
        conn.sendall(encode_command(b"SUBSCRIBE", b""))
        conn.sendall(encode_command(b"PING", b"\x00\x00sync"))  # subscribed once this is back
        dec = Decoder()
        dec.feed(ev.leftover)
        assert [tuple(f) for f in read_until(conn, dec, lambda f: f)] == [(4, pong(b"sync"))]
        body = b"m" * 100_000
        for i in range(20):  # 4 MB: far more than the kernel buffers take
            pub.send_multipart([b"%02d" % i, body])
        conn.sendall(encode_command(b"PING", b"\x00\x00mid"))
        frames = read_until(conn, dec, lambda f: sum(1 for x in f if not x.more) >= 21)
    kinds = [(f.flags & 4, f.more, f.body if f.flags & 4 else f.body[:2]) for f in frames]
    pong_mid = (4, False, pong(b"mid"))
    assert kinds.count(pong_mid) == 1
    data = [k for k in kinds if k != pong_mid]
    assert data == [k for i in range(20) for k in ((0, True, b"%02d" % i), (0, False, b"mm"))]
    at = kinds.index(pong_mid)
    assert at % 2 == 0  # between messages, never between a message's two frames


def test_zmtp30_publisher_gets_no_ping(ctx):
    """A 3.0 peer knows no PING: written to the kernel is what acknowledges."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(T_S)
    sub = fsock(ctx, fastzmq.SUB)
    with lst:
        sub.connect(f"tcp://127.0.0.1:{lst.getsockname()[1]}")
        conn, _ = lst.accept()
    with conn:
        conn.settimeout(T_S)
        ev = run_handshake(conn, Handshake("PUB", version=(3, 0), as_server=True))
        assert isinstance(ev, HandshakeComplete) and ev.version == (3, 0)
        wait_until(lambda: live_pipes(sub) == 1, T_S, "the 3.0 connection")
        sub.subscribe(b"old")
        assert sub.wait_subscribed(T_MS)
        dec = Decoder()
        dec.feed(ev.leftover)
        conn.settimeout(0.2)
        frames = []
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                dec.feed(chunk)
        except socket.timeout:
            pass
        frames = [tuple(f) for f in dec.frames()]
        assert frames == [(0, b"\x01old")]  # the 3.0 subscription message, and no PING

"""fastzmq.green: blocking calls yield to the gevent hub; the example runs.

Each test proves cooperation the same way: while one greenlet is blocked in a
fastzmq call, another greenlet keeps running (a blocked thread would freeze it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

gevent = pytest.importorskip("gevent")

import fastzmq  # noqa: E402
import fastzmq.green as gzmq  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# where fastzmq was imported from: src/ in a dev build, site-packages when installed
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastzmq.__file__)))
T = 5.0


@pytest.fixture
def gctx():
    c = gzmq.Context()
    yield c
    for s in list(c._sockets):
        s.close(linger=0)
    c.term()


def _pair(gctx, transport, wait_peers, a_type=gzmq.PUSH, b_type=gzmq.PULL):
    a, b = gctx.socket(a_type), gctx.socket(b_type)
    a.connect(transport.bind(b))
    wait_peers(b, 1)
    wait_peers(a, 1)
    return a, b


def _ticker(stop: list) -> int:
    n = 0
    while not stop:
        n += 1
        gevent.sleep(0.005)
    return n


def test_names(gctx):
    assert gzmq.Context is not fastzmq.Context and gzmq.POLLIN == fastzmq.POLLIN
    s = gctx.socket(gzmq.PULL)
    assert isinstance(s, gzmq.Socket) and isinstance(s, fastzmq.Socket)


def test_fastzmq_imports_without_gevent():
    code = "import sys; sys.modules['gevent'] = None; import fastzmq, fastzmq.asyncio; print('ok')"
    env = dict(os.environ, PYTHONPATH=PKG_PARENT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.strip() == b"ok"


def test_recv_yields_to_hub(gctx, transport, wait_peers):
    a, b = _pair(gctx, transport, wait_peers)
    stop: list = []
    ticker = gevent.spawn(_ticker, stop)
    receiver = gevent.spawn(b.recv_multipart)
    gevent.sleep(0.1)
    assert not receiver.ready()
    a.send_multipart([b"a", b"b"])
    assert receiver.get(timeout=T) == [b"a", b"b"]
    stop.append(1)
    assert ticker.get(timeout=T) >= 5  # it kept ticking while recv was blocked


def test_rcvtimeo_raises_again(gctx):
    b = gctx.socket(gzmq.PULL)
    b.bind("inproc://green-timeo")
    b.rcvtimeo = 60
    t0 = time.monotonic()
    with pytest.raises(gzmq.Again):
        gevent.spawn(b.recv).get(timeout=T)
    assert 0.05 < time.monotonic() - t0 < 2
    with pytest.raises(gzmq.Again):
        b.recv(gzmq.DONTWAIT)


def test_send_backpressure_between_greenlets(gctx, transport, wait_peers):
    a, b = gctx.socket(gzmq.PUSH), gctx.socket(gzmq.PULL)
    a.sndhwm = b.rcvhwm = 10
    a.connect(transport.bind(b))
    wait_peers(b, 1)
    n = 3000
    producer = gevent.spawn(lambda: [a.send(b"%d" % i) for i in range(n)])
    consumer = gevent.spawn(lambda: [b.recv() for _ in range(n)])
    assert consumer.get(timeout=10) == [b"%d" % i for i in range(n)]
    producer.get(timeout=T)


def test_req_rep_greenlets(gctx, transport, wait_peers):
    req, rep = _pair(gctx, transport, wait_peers, gzmq.REQ, gzmq.REP)

    def serve():
        for _ in range(100):
            rep.send(rep.recv() + b"!")

    server = gevent.spawn(serve)
    for i in range(100):
        req.send(b"%d" % i)
        assert req.recv() == b"%d!" % i
    server.get(timeout=T)


def test_thread_flood_no_lost_wakeup(gctx, transport, wait_peers):
    b = gctx.socket(gzmq.PULL)
    a = gctx.socket(gzmq.PUSH, socket_class=fastzmq.Socket)  # blocking, for the thread
    a.connect(transport.bind(b))
    wait_peers(b, 1)
    b.rcvtimeo = 3000  # a lost wake-up would surface as Again
    n = 5000

    def produce():
        for i in range(n):
            a.send(b"%d" % i)
            if i % 89 == 0:
                time.sleep(0.0003)

    t = threading.Thread(target=produce)
    t.start()
    try:
        got = gevent.spawn(lambda: [b.recv() for _ in range(n)]).get(timeout=20)
    finally:
        t.join(10)
    assert got == [b"%d" % i for i in range(n)]


def test_green_poller_mixes_and_yields(gctx, transport, wait_peers):
    a, b = _pair(gctx, transport, wait_peers)
    left, right = socket.socketpair()
    try:
        p = gzmq.Poller()
        p.register(b, gzmq.POLLIN)
        p.register(left, gzmq.POLLIN)
        stop: list = []
        ticker = gevent.spawn(_ticker, stop)
        t0 = time.monotonic()
        assert p.poll(100) == []
        assert 0.09 < time.monotonic() - t0 < 2
        gevent.spawn_later(0.05, right.send, b"!")
        assert p.poll(3000) == [(left.fileno(), gzmq.POLLIN)]
        left.recv(1)
        gevent.spawn_later(0.05, a.send, b"z")
        assert p.poll(3000) == [(b, gzmq.POLLIN)]
        assert b.recv() == b"z"
        stop.append(1)
        assert ticker.get(timeout=T) >= 10
        r, w, x = gzmq.select([b], [a], [], 0.5)
        assert r == [] and w == [a]
    finally:
        left.close()
        right.close()


def test_example_runs():
    env = dict(os.environ, PYTHONPATH=PKG_PARENT)
    script = os.path.join(ROOT, "examples", "green_reqrep.py")
    out = subprocess.run([sys.executable, script, "4"], env=env, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert out.stdout.decode().strip().endswith("12 replies")

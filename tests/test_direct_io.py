"""Direct I/O of REQ and REP sockets (``_io.pyx``, "Direct sends and reads"): on a tcp or
ipc connection, the socket's own thread writes what it sends to the OS socket when the
I/O thread is idle, and a recv blocked on its one connection reads the OS socket itself
while it spins. Most tests stall the I/O thread (a command that blocks it), so whatever
moves meanwhile was moved by the socket's thread; the others check the hand-overs to
the I/O thread (a disconnection, heartbeats, big messages) and the sockets left out."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import zmq as pyzmq

import fastzmq as zmq
import fastzmq.utils.monitor
from conftest import io_stalled
from fastzmq import tuning
from fastzmq._io import Engine
from fastzmq._waiter import poller_backend

TIMEOUT = 3.0
SHORT_MS = 1000  # a recv that must be served within the stall (TIMEOUT)

# The socket's thread may only pump an engine whose poller is edge-triggered: the
# level-triggered poll backend's interest list belongs to the I/O thread.
edge_triggered = pytest.mark.skipif(
    poller_backend() == "poll", reason="direct I/O needs an edge-triggered poller"
)


@pytest.fixture
def long_spin():
    """A blocked recv spins (reading its connection) for up to 1 s instead of 50 us: a
    round trip with the libzmq peer fits in one spin whatever the machine's load."""
    old = tuning.get_spin()
    tuning.set_spin(1_000_000)
    yield
    tuning.set_spin(old)


@pytest.fixture
def pctx():
    c = pyzmq.Context()
    yield c
    c.destroy(linger=0)


def opened(context, kind, **options):
    """A socket of context (fastzmq's or pyzmq's): linger 0, bounded calls, options set."""
    s = context.socket(kind)
    s.linger = 0
    s.rcvtimeo = int(TIMEOUT * 1000)
    s.sndtimeo = int(TIMEOUT * 1000)
    for name, value in options.items():
        setattr(s, name, value)
    return s


class Echo(threading.Thread):
    """A pyzmq REP answering every request with itself (after ``delay`` s), until stopped."""

    def __init__(self, rep, delay: float = 0.0):
        super().__init__(daemon=True)
        self.rep, self.delay = rep, delay
        self.done = threading.Event()
        self.served = 0

    def run(self) -> None:
        while not self.done.is_set():
            if not self.rep.poll(50):
                continue
            msg = self.rep.recv_multipart()
            if self.delay:
                time.sleep(self.delay)
            self.rep.send_multipart(msg)
            self.served += 1

    def stop(self) -> None:
        self.done.set()
        self.join(TIMEOUT)
        assert not self.is_alive()


def engines(sock) -> list:
    """sock's connections (I/O-thread objects; read-only use)."""
    return [e for e in sock._io_thread().slots if isinstance(e, Engine) and e.socket is sock]


@edge_triggered
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_req_round_trips_while_the_io_thread_is_stalled(ctx, pctx, long_spin, transport, tmp_path):
    rep = opened(pctx, pyzmq.REP)
    rep.bind("tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/direct.sock")
    addr = rep.getsockopt(pyzmq.LAST_ENDPOINT).decode()
    echo = Echo(rep)
    echo.start()
    req = opened(ctx, zmq.REQ)
    req.connect(addr)
    try:
        req.send(b"warm-up")
        assert req.recv() == b"warm-up"  # connected, handshake done
        req.rcvtimeo = SHORT_MS
        with io_stalled(req, TIMEOUT):
            for i in range(50):
                req.send_multipart([b"req", b"%d" % i])
                assert req.recv_multipart() == [b"req", b"%d" % i]
        req.rcvtimeo = int(TIMEOUT * 1000)
        req.send(b"after")  # and the I/O thread carries on from where we left
        assert req.recv() == b"after"
    finally:
        echo.stop()


@edge_triggered
def test_rep_serves_while_the_io_thread_is_stalled(ctx, pctx, long_spin):
    rep = opened(ctx, zmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = opened(pctx, pyzmq.REQ)
    req.connect(f"tcp://127.0.0.1:{port}")
    replies: list = []

    def client(n: int) -> None:
        for i in range(n):
            req.send(b"%d" % i)
            replies.append(req.recv())

    t = threading.Thread(target=client, args=(1,))
    t.start()
    rep.send(rep.recv())
    t.join(TIMEOUT)
    assert replies == [b"0"]
    replies.clear()
    rep.rcvtimeo = SHORT_MS
    with io_stalled(rep, TIMEOUT):
        t = threading.Thread(target=client, args=(50,))
        t.start()
        for _ in range(50):
            rep.send(rep.recv())
        t.join(TIMEOUT)
    assert not t.is_alive()
    assert replies == [b"%d" % i for i in range(50)]


@edge_triggered
def test_pings_are_answered_by_the_reading_thread(ctx, pctx, long_spin):
    """A libzmq peer heartbeating every 10 ms with a 150 ms timeout, our I/O thread stalled
    and our REQ in recv for 400 ms: only the socket's thread can answer the PINGs, and
    the connection must survive with its reply."""
    rep = opened(pctx, pyzmq.REP, heartbeat_ivl=10, heartbeat_timeout=150)
    mon = rep.get_monitor_socket(pyzmq.EVENT_DISCONNECTED)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    echo = Echo(rep, delay=0.4)
    echo.start()
    req = opened(ctx, zmq.REQ)
    req.connect(f"tcp://127.0.0.1:{port}")
    try:
        req.send(b"warm-up")
        assert req.recv() == b"warm-up"
        (conn,) = engines(req)
        pongs = conn.pongs_sent
        req.rcvtimeo = SHORT_MS
        with io_stalled(req, TIMEOUT):
            req.send(b"slow")
            assert req.recv() == b"slow"
            answered = conn.pongs_sent - pongs
        assert answered >= 10  # ~40 PINGs came during the 400 ms
        assert not mon.poll(200), "the peer dropped us"
    finally:
        echo.stop()
        rep.disable_monitor()
        mon.close(linger=0)


def test_peer_gone_while_reading_hands_over(ctx, pctx, long_spin):
    """The peer closes while our REQ reads its connection: the I/O thread is told and
    ends the connection (DISCONNECTED), and the REQ's recv times out as usual."""
    rep = opened(pctx, pyzmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = opened(ctx, zmq.REQ, reconnect_ivl=60_000)
    mon = req.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    req.connect(f"tcp://127.0.0.1:{port}")
    req.send(b"one")
    assert rep.recv() == b"one"
    rep.send(b"one")
    assert req.recv() == b"one"
    req.send(b"two")
    assert rep.recv() == b"two"
    timer = threading.Timer(0.1, rep.close, kwargs={"linger": 0})
    timer.start()
    req.rcvtimeo = 600
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        req.recv()
    assert time.monotonic() - t0 < 2.0
    timer.join(TIMEOUT)
    assert mon.poll(int(TIMEOUT * 1000)), "no DISCONNECTED"
    assert zmq.utils.monitor.recv_monitor_message(mon)["event"] == zmq.EVENT_DISCONNECTED
    req.disable_monitor()
    mon.close()


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_contents_under_heartbeats_and_big_messages(ctx, pctx, transport, tmp_path):
    """Both sides heartbeating every ms (the I/O threads' PINGs and PONGs interleave with
    the sockets' direct sends and reads) and sizes up to 2 MiB (bodies sent by reference,
    sends the kernel cannot take at once: the I/O thread finishes them): every reply is
    the request, in order."""
    rep = opened(ctx, zmq.REP, heartbeat_ivl=1, heartbeat_timeout=1000)
    if transport == "tcp":
        port = rep.bind_to_random_port("tcp://127.0.0.1")
        addr = f"tcp://127.0.0.1:{port}"
    else:
        addr = f"ipc://{tmp_path}/direct.sock"
        rep.bind(addr)
    req = opened(pctx, pyzmq.REQ, heartbeat_ivl=1, heartbeat_timeout=1000)
    req.connect(addr)
    sizes = [0, 1, 16, 255, 256, 4096, 65536, 200_000, 2 << 20]
    errors: list = []

    def client() -> None:
        try:
            for i in range(600):
                body = bytes([i & 0xFF]) * sizes[i % len(sizes)]
                req.send_multipart([b"%d" % i, body])
                if req.recv_multipart() != [b"%d" % i, body]:
                    errors.append(i)
        except Exception as exc:  # reported below
            errors.append(exc)

    t = threading.Thread(target=client)
    t.start()
    served = 0
    while t.is_alive() and served < 600:
        rep.send_multipart(rep.recv_multipart())
        served += 1
    t.join(TIMEOUT)
    assert not t.is_alive()
    assert errors == []
    assert served == 600
    ours = engines(rep)
    assert ours and ours[0].pings_received > 0  # the heartbeats did run meanwhile


def test_dealer_leaves_sending_to_the_io_thread(ctx, pctx):
    """Only REQ and REP send directly (one message in flight per peer): a DEALER's
    messages wait for the I/O thread, which sends a backlog in few syscalls."""
    router = opened(pctx, pyzmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = opened(ctx, zmq.DEALER)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"warm-up")
    assert router.recv_multipart()[1] == b"warm-up"
    with io_stalled(dealer, TIMEOUT):
        dealer.send(b"queued")
        assert not router.poll(300)
    assert router.poll(int(TIMEOUT * 1000))
    assert router.recv_multipart()[1] == b"queued"


def test_switched_off(ctx, pctx):
    """tuning.set_direct(False): new connections leave all I/O to the I/O thread."""
    assert tuning.get_direct() is True
    rep = opened(pctx, pyzmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    echo = Echo(rep)
    echo.start()
    tuning.set_direct(False)
    try:
        req = opened(ctx, zmq.REQ)
        req.connect(f"tcp://127.0.0.1:{port}")
        req.send(b"warm-up")
        assert req.recv() == b"warm-up"
        with io_stalled(req, TIMEOUT):
            req.send(b"queued")
            req.rcvtimeo = 300
            with pytest.raises(zmq.Again):
                req.recv()
        req.rcvtimeo = int(TIMEOUT * 1000)
        assert req.recv() == b"queued"
    finally:
        tuning.set_direct(True)
        echo.stop()
    with pytest.raises(TypeError):
        tuning.set_direct(1)


@pytest.mark.skipif(poller_backend() != "poll", reason="the poll backend's case")
def test_poll_backend_leaves_io_to_the_io_thread(ctx, pctx, long_spin):
    """On the level-triggered poll backend a REQ's messages wait for the I/O thread."""
    rep = opened(pctx, pyzmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = opened(ctx, zmq.REQ)
    req.connect(f"tcp://127.0.0.1:{port}")
    req.send(b"warm-up")
    assert rep.recv() == b"warm-up"
    rep.send(b"warm-up")
    assert req.recv() == b"warm-up"
    with io_stalled(req, TIMEOUT):
        req.send(b"queued")
        assert not rep.poll(300)
    assert rep.poll(int(TIMEOUT * 1000))


@pytest.mark.parametrize(("value", "expect"), [("0", "False"), ("1", "True"), ("2", "ValueError")])
def test_environment_switch(value, expect):
    """FASTZMQ_DIRECT=0/1 sets direct I/O at import; any other value is refused there."""
    code = (
        "try:\n import fastzmq.tuning as t; print(t.get_direct())\n"
        "except ValueError as e:\n print('ValueError', e)"
    )
    env = dict(os.environ, FASTZMQ_DIRECT=value)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    ).stdout
    assert out.split()[0] == expect, out

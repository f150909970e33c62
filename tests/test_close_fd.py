"""A socket gives its FD (the wake-up eventfd, or self-pipe) back at close(), as in pyzmq,
not when the object is freed; signals that race with the close write to no reused fd."""

from __future__ import annotations

import gc
import os
import socket as pysocket
import threading
import time

import pytest

import fastzmq as zmq
from conftest import fd_readable, wait_until


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settled_fds() -> int:
    """The fd count once it has held still for 0.2 s (an earlier test's connections are
    closed by its I/O thread, asynchronously; its garbage is collected first)."""
    gc.collect()
    deadline = time.monotonic() + 5
    n = _open_fds()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        m = _open_fds()
        if m == n:
            return n
        n = m
    return n


pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="counts fds through /proc"
)


def test_closed_sockets_kept_referenced_hold_no_fd(ctx):
    base = _settled_fds()
    socks = [ctx.socket(t) for t in (zmq.PUSH, zmq.PULL, zmq.REQ, zmq.ROUTER, zmq.SUB) * 40]
    assert _open_fds() >= base + len(socks)  # one FD each while open
    for s in socks:
        s.close()
    assert _open_fds() <= base  # given back at close, though every object is alive
    with pytest.raises(zmq.ZMQError) as e:
        socks[0].getsockopt(zmq.FD)
    assert e.value.errno == zmq.ENOTSOCK


def test_connected_sockets_give_every_fd_back(ctx, transport):
    addr = {"inproc": "inproc://close-fd", "tcp": "tcp://127.0.0.1:*"}.get(
        transport, f"ipc:///tmp/fastzmq-close-fd-{os.getpid()}"
    )
    pull = ctx.socket(zmq.PULL)
    pull.bind(addr)
    endpoint = pull.last_endpoint.decode()
    pull.rcvtimeo = 5000
    base = _settled_fds()
    pushes = []
    for i in range(20):
        p = ctx.socket(zmq.PUSH)
        p.linger = 1000
        p.connect(endpoint)
        p.send(b"%d" % i)
        pushes.append(p)
    assert sorted(int(pull.recv()) for _ in range(20)) == list(range(20))
    for p in pushes:
        p.close()
    # the connections' own fds go in the I/O thread (asynchronously, as in libzmq); the
    # sockets' FDs went at close
    wait_until(lambda: _open_fds() <= base, 5.0, "every fd of the closed sockets back")
    pull.close()


def test_a_signal_after_close_writes_to_no_reused_fd(ctx):
    s = ctx.socket(zmq.PULL)
    fd = s.FD
    s.close()
    # the lowest free numbers are taken again: a socketpair gets the old FD's number
    pairs = []
    while True:
        a, b = pysocket.socketpair()
        pairs.append((a, b))
        if fd in (a.fileno(), b.fileno()) or len(pairs) > 50:
            break
    try:
        assert fd in (pairs[-1][0].fileno(), pairs[-1][1].fileno())
        s._wake()  # what term() and the close of a shadow do: signals the old waiter
        for a, b in pairs:
            assert not fd_readable(a.fileno()) and not fd_readable(b.fileno())
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_io_thread_signals_racing_with_close_hit_no_reused_fd(ctx):
    """A PULL asleep in recv is woken by the I/O thread (another OS thread, without the
    GIL) while a tcp peer sends; close it right after a timed-out wait, reuse its FD's
    number at once, and nothing may ever arrive on the socketpair that got it."""
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 0
    port = push.bind_to_random_port("tcp://127.0.0.1")
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            try:
                push.send(b"x", zmq.DONTWAIT)
            except zmq.Again:
                time.sleep(0.0005)
            time.sleep(0.0002)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    stray = reused = 0
    try:
        for _ in range(60):
            pull = ctx.socket(zmq.PULL)
            pull.rcvhwm = 1
            pull.connect(f"tcp://127.0.0.1:{port}")
            pull.rcvtimeo = 2
            for _ in range(3):
                try:
                    pull.recv()
                except zmq.Again:
                    pass
            fd = pull.FD
            pull.close(0)
            a, b = pysocket.socketpair()
            try:
                if fd in (a.fileno(), b.fileno()):
                    reused += 1
                    time.sleep(0.002)  # any late write would have landed by now
                    stray += fd_readable(a.fileno()) + fd_readable(b.fileno())
            finally:
                a.close()
                b.close()
    finally:
        stop.set()
        t.join(5)
        push.close(0)
    assert not t.is_alive()
    assert reused > 0  # the situation was there: the old number in use again
    assert stray == 0


def test_polling_a_closed_socket_is_enotsock(ctx):
    s = ctx.socket(zmq.PULL)
    poller = zmq.Poller()
    poller.register(s, zmq.POLLIN)
    assert poller.poll(0) == []
    s.close()
    for call in (lambda: poller.poll(10), lambda: zmq.zmq_poll([(s, zmq.POLLIN)], 10)):
        with pytest.raises(zmq.ZMQError) as e:
            call()
        assert e.value.errno == zmq.ENOTSOCK


def test_a_thread_blocked_in_recv_wakes_when_another_closes_the_socket(ctx):
    s = ctx.socket(zmq.PULL)
    s.rcvtimeo = 10_000
    got: list = []

    def blocked() -> None:
        t0 = time.monotonic()
        try:
            s.recv()
        except zmq.ZMQError as e:
            got.append((e.errno, time.monotonic() - t0))

    t = threading.Thread(target=blocked, daemon=True)
    t.start()
    time.sleep(0.2)
    s.close()
    t.join(5)
    assert not t.is_alive()
    assert got and got[0][0] == zmq.ENOTSOCK and got[0][1] < 5

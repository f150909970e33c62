"""Poller, select, Socket.poll, and the FD/EVENTS edge-triggered contract.

Every transport (inproc, tcp, ipc: the ``transport`` fixture skips those not built
yet) must wake a poller; an idle poll must sleep, not spin; a stream of messages
arriving while the consumer sits between EVENTS and the OS poll must never leave it
asleep (a lost wake-up would show up as a poll that times out with data queued).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

import fastzmq as zmq
from conftest import fd_readable
from fastzmq.poll import Poller


def _pair(ctx, transport, wait_peers, a_type=zmq.PUSH, b_type=zmq.PULL):
    """(sender, receiver): receiver binds, sender connects, connection up."""
    a, b = ctx.socket(a_type), ctx.socket(b_type)
    addr = transport.bind(b)
    a.connect(addr)
    wait_peers(b, 1)
    wait_peers(a, 1)
    return a, b


# ---------------------------------------------------------------- registration
def test_register_modify_unregister(ctx):
    s = ctx.socket(zmq.PULL)
    p = Poller()
    p.register(s, zmq.POLLIN)
    assert s in p and p.sockets == [(s, zmq.POLLIN)]
    p.modify(s, zmq.POLLIN | zmq.POLLOUT)
    assert p.sockets == [(s, zmq.POLLIN | zmq.POLLOUT)]
    p.register(s, 0)  # pyzmq: flags 0 unregisters
    assert s not in p and p.sockets == []
    with pytest.raises(KeyError):
        p.unregister(s)
    with pytest.raises(TypeError):
        p.register(object(), zmq.POLLIN)


def test_unregister_keeps_order(ctx):
    socks = [ctx.socket(zmq.PULL) for _ in range(4)]
    p = Poller()
    for s in socks:
        p.register(s, zmq.POLLIN)
    p.unregister(socks[1])
    assert [s for s, _ in p.sockets] == [socks[0], socks[2], socks[3]]
    p.unregister(socks[3])
    p.register(socks[1], zmq.POLLIN)
    assert [s for s, _ in p.sockets] == [socks[0], socks[2], socks[1]]


def test_timeout_and_zero_timeout(ctx):
    s = ctx.socket(zmq.PULL)
    s.bind("inproc://poll-timeout")
    p = Poller()
    p.register(s, zmq.POLLIN)
    t0 = time.monotonic()
    assert p.poll(0) == []
    assert time.monotonic() - t0 < 0.05
    t0 = time.monotonic()
    assert p.poll(120) == []
    assert 0.11 <= time.monotonic() - t0 < 1.0


# ---------------------------------------------------------------- readiness
def test_pollin_pollout_each_transport(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    p = Poller()
    p.register(a, zmq.POLLIN | zmq.POLLOUT)
    p.register(b, zmq.POLLIN | zmq.POLLOUT)
    assert dict(p.poll(1000)) == {a: zmq.POLLOUT}  # PUSH can send; PULL has nothing
    a.send(b"x")
    assert b.poll(2000) == zmq.POLLIN  # over tcp/ipc the message takes a moment
    assert dict(p.poll(0)) == {a: zmq.POLLOUT, b: zmq.POLLIN}
    assert b.recv() == b"x"


def test_wakes_from_another_thread(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    p = Poller()
    p.register(b, zmq.POLLIN)
    t = threading.Timer(0.1, a.send, args=(b"late",))
    t.start()
    try:
        t0 = time.monotonic()
        assert p.poll(3000) == [(b, zmq.POLLIN)]
        assert 0.05 < time.monotonic() - t0 < 2.0
    finally:
        t.join(5)
    assert b.recv(zmq.DONTWAIT) == b"late"


def test_socket_poll_method(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    assert b.poll(0) == 0
    assert a.poll(1000, zmq.POLLOUT) == zmq.POLLOUT
    a.send(b"m")
    assert b.poll(2000) == zmq.POLLIN
    assert b.poll(0, zmq.POLLIN | zmq.POLLOUT) == zmq.POLLIN  # PULL never POLLOUT
    b.recv()


def test_idle_poll_does_not_spin(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    r, w = os.pipe()
    try:
        p = Poller()
        p.register(b, zmq.POLLIN)
        p.register(r, zmq.POLLIN)
        cpu0, t0 = time.process_time(), time.monotonic()
        assert p.poll(300) == []
        cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    finally:
        os.close(r)
        os.close(w)
    assert wall >= 0.29
    assert cpu < 0.05, f"idle poll of 300 ms used {cpu * 1000:.1f} ms of CPU"


def test_closed_socket_raises(ctx):
    s = ctx.socket(zmq.PULL)
    p = Poller()
    p.register(s, zmq.POLLIN)
    s.close()
    with pytest.raises(zmq.ZMQError) as e:
        p.poll(0)
    assert e.value.errno == zmq.ENOTSOCK


def test_term_wakes_poller():
    c = zmq.Context()
    s = c.socket(zmq.PULL)
    s.bind("inproc://poll-term")
    got: list = []

    def run() -> None:
        p = Poller()
        p.register(s, zmq.POLLIN)
        try:
            p.poll(5000)
        except zmq.ContextTerminated as e:
            got.append(e)
        s.close()

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.1)
    c.term()  # returns once the polling thread closed its socket
    t.join(5)
    assert not t.is_alive() and len(got) == 1


# ---------------------------------------------------------------- plain fds
def test_mix_with_socketpair(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    left, right = socket.socketpair()
    try:
        p = Poller()
        p.register(b, zmq.POLLIN)
        p.register(left, zmq.POLLIN)
        assert p.poll(50) == []
        right.send(b"!")
        assert p.poll(1000) == [(left.fileno(), zmq.POLLIN)]  # pyzmq reports plain fds as ints
        a.send(b"z")
        assert b.poll(2000)
        assert dict(p.poll(0)) == {b: zmq.POLLIN, left.fileno(): zmq.POLLIN}
        assert left.recv(1) == b"!" and b.recv() == b"z"
        assert p.poll(0) == []
    finally:
        left.close()
        right.close()


def test_plain_fd_wakes_blocked_poll(ctx):
    s = ctx.socket(zmq.PULL)
    r, w = os.pipe()
    try:
        p = Poller()
        p.register(s, zmq.POLLIN)
        p.register(r, zmq.POLLIN)
        t = threading.Timer(0.05, os.write, args=(w, b"x"))
        t.start()
        assert p.poll(3000) == [(r, zmq.POLLIN)]
        t.join(5)
        os.close(w)
        w = -1
        os.read(r, 1)
        # writer gone: poll reports the hang-up as POLLERR, like zmq_poll
        assert dict(p.poll(1000)).get(r, 0) & zmq.POLLERR
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_pollout_on_plain_fd():
    left, right = socket.socketpair()
    try:
        p = Poller()
        p.register(left.fileno(), zmq.POLLOUT)
        assert p.poll(1000) == [(left.fileno(), zmq.POLLOUT)]
    finally:
        left.close()
        right.close()


def test_select(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    left, right = socket.socketpair()
    try:
        assert zmq.select([b, left], [], [], 0) == ([], [], [])
        a.send(b"s")
        right.send(b"s")
        assert b.poll(2000)
        r, w, x = zmq.select([b, left], [a], [], 1.0)
        assert set(r) == {b, left.fileno()} and w == [a] and x == []
    finally:
        left.close()
        right.close()
    b.recv()


# ---------------------------------------------------------------- FD / EVENTS
def test_fd_events_edge_contract(ctx, transport, wait_peers):
    a, b = _pair(ctx, transport, wait_peers)
    fd = b.FD
    assert fd == b.getsockopt(zmq.FD) == b.fileno()
    assert b.EVENTS == 0  # drains and arms
    assert not fd_readable(fd)
    a.send(b"1")
    assert fd_readable(fd, 2000)  # the arm promised a wake-up
    assert b.EVENTS & zmq.POLLIN
    assert not fd_readable(fd)  # EVENTS drained it; still POLLIN though
    assert b.EVENTS & zmq.POLLIN
    assert b.recv() == b"1"
    assert b.EVENTS == 0
    a.send(b"2")
    assert fd_readable(fd, 2000)
    assert b.recv(zmq.DONTWAIT) == b"2"


def test_foreign_loop_usage(ctx, transport, wait_peers):
    """The documented loop for foreign event loops receives everything, no spinning."""
    a, b = _pair(ctx, transport, wait_peers)
    n = 2000
    t = threading.Thread(target=lambda: [a.send(b"%d" % i) for i in range(n)])
    t.start()
    got, wakeups = [], 0
    fd = b.FD
    try:
        while len(got) < n:
            while b.EVENTS & zmq.POLLIN:
                got.append(b.recv(zmq.DONTWAIT))
            if len(got) < n:
                assert fd_readable(fd, 3000), f"lost wake-up after {len(got)} messages"
                wakeups += 1
    finally:
        t.join(5)
    assert got == [b"%d" % i for i in range(n)]
    assert wakeups <= n


# ---------------------------------------------------------------- stress
def test_no_lost_wakeup_under_stress(ctx, transport, wait_peers):
    """Thousands of messages in bursts while the poller goes in and out of sleep."""
    a, b = _pair(ctx, transport, wait_peers)
    a.sndhwm = b.rcvhwm = 0
    n = 5000

    def produce() -> None:
        for i in range(n):
            a.send(b"%d" % i)
            if i % 97 == 0:
                time.sleep(0.0005)

    t = threading.Thread(target=produce)
    t.start()
    p = Poller()
    p.register(b, zmq.POLLIN)
    got = 0
    try:
        while got < n:
            assert p.poll(3000), f"poll timed out after {got} of {n} messages"
            try:
                while True:
                    b.recv(zmq.DONTWAIT)
                    got += 1
            except zmq.Again:
                pass
    finally:
        t.join(10)
    assert got == n


def test_many_sockets_one_poller(ctx, transport, wait_peers):
    pairs = [_pair(ctx, transport, wait_peers) for _ in range(8)]
    p = Poller()
    for _, b in pairs:
        p.register(b, zmq.POLLIN)
    for i, (a, _) in enumerate(pairs):
        if i % 3 == 0:
            a.send(b"x")
    want = {b for i, (_, b) in enumerate(pairs) if i % 3 == 0}
    deadline = time.monotonic() + 3
    seen: set = set()
    while seen != want and time.monotonic() < deadline:
        seen = {s for s, ev in p.poll(500) if ev & zmq.POLLIN}
    assert seen == want

"""Spinning before sleeping: a blocked send/recv busy-waits (GIL released) for up to
get_spin() microseconds, then sleeps on its fd. Correctness with the spin on, off, and so
short that every wait races its end; the bounds (RCVTIMEO, budget) and the knob itself."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

import fastzmq as zmq


@pytest.fixture
def spin():
    """Set the spin budget for one test; restore the previous one after it."""
    before = zmq.get_spin()
    yield zmq.set_spin
    zmq.set_spin(before)


def test_default_and_bad_values(spin):
    assert zmq.get_spin() == 50  # the documented default (no FASTZMQ_SPIN_US in the tests)
    spin(0)
    assert zmq.get_spin() == 0
    spin(1_000_000)
    assert zmq.get_spin() == 1_000_000
    for bad in (-1, 1_000_001, 2.5, "10", None, True):
        with pytest.raises(ValueError, match="spin must be an int"):
            zmq.set_spin(bad)
    assert zmq.get_spin() == 1_000_000  # a refused value changes nothing


def test_bad_environment_value_is_a_clear_error():
    r = subprocess.run(
        [sys.executable, "-c", "import fastzmq"],
        env={**os.environ, "FASTZMQ_SPIN_US": "fast"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "FASTZMQ_SPIN_US must be an integer" in r.stderr


def _pair(ctx, bind, wait_peers):
    """A connected PAIR pair; bind(sock) binds and returns the address to connect to."""
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    for s in (a, b):
        s.rcvtimeo = 5000
        s.sndtimeo = 5000
    b.connect(bind(a))
    wait_peers(a, 1)
    wait_peers(b, 1)
    return a, b


def _inproc_bind(sock):
    sock.bind("inproc://spin")
    return "inproc://spin"


def _round_trips(client, server, n: int, slow_every: int = 0) -> None:
    """client sends n distinct messages, one at a time; a thread on server answers each with
    it reversed (every slow_every-th answer 2 ms late). Every answer must be the right one."""
    errors = []

    def serve():
        try:
            for i in range(n):
                msg = server.recv()
                if slow_every and i % slow_every == 0:
                    time.sleep(0.002)
                server.send(msg[::-1])
        except Exception as e:  # reported below
            errors.append(e)

    t = threading.Thread(target=serve)
    t.start()
    try:
        for i in range(n):
            msg = b"msg-%d" % i
            client.send(msg)
            assert client.recv() == msg[::-1]
    finally:
        t.join(30)
    assert not t.is_alive()
    assert errors == []


@pytest.mark.parametrize("budget_us", [0, 50, 300_000])
def test_blocked_recv_gets_a_late_message(ctx, transport, wait_peers, spin, budget_us):
    """The message comes 30 ms into the wait: inside a 300 ms spin (woken by the flag, no
    fd signal), after a 50 us one (woken through the fd), or with no spin at all."""
    spin(budget_us)
    a, b = _pair(ctx, transport.bind, wait_peers)
    timer = threading.Timer(0.03, b.send, (b"late",))
    timer.start()
    try:
        t0 = time.monotonic()
        assert a.recv() == b"late"
        elapsed = time.monotonic() - t0
    finally:
        timer.join()
    assert 0.02 <= elapsed < 2.0
    if budget_us == 300_000:
        assert elapsed < 0.29  # ended by the message, not by the spin budget


def test_rcvtimeo_bounds_the_spin(ctx, wait_peers, spin):
    spin(1_000_000)  # a 1 s spin must not outlast a 20 ms RCVTIMEO
    a, _b = _pair(ctx, _inproc_bind, wait_peers)
    a.rcvtimeo = 20
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        a.recv()
    assert time.monotonic() - t0 < 0.5


@pytest.mark.timeout(60)
@pytest.mark.parametrize("budget_us", [0, 1, 50])
def test_ping_pong_between_threads_loses_nothing(ctx, transport, wait_peers, spin, budget_us):
    """Two threads bounce messages: every recv blocks, and with a 1 us budget most waits
    race the end of their spin against the peer's send. A lost wake-up raises Again."""
    spin(budget_us)
    a, b = _pair(ctx, transport.bind, wait_peers)
    _round_trips(a, b, 3000)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("budget_us", [0, 1, 50])
def test_send_blocked_on_hwm_is_woken_by_the_consumer(ctx, spin, budget_us):
    """SNDHWM=RCVHWM=1 over inproc: the sender blocks on nearly every message, and the
    consumer's reads wake it (mid-spin or asleep); all arrive, in order."""
    spin(budget_us)
    push = ctx.socket(zmq.PUSH)
    pull = ctx.socket(zmq.PULL)
    push.sndhwm = 1
    pull.rcvhwm = 1
    push.sndtimeo = 5000
    pull.rcvtimeo = 5000
    pull.bind("inproc://spin-hwm")
    push.connect("inproc://spin-hwm")
    n = 5000
    got = []

    def consume():
        for _ in range(n):
            got.append(pull.recv())

    t = threading.Thread(target=consume)
    t.start()
    try:
        for i in range(n):
            push.send(i.to_bytes(4, "little"))
    finally:
        t.join(30)
    assert not t.is_alive()
    assert got == [i.to_bytes(4, "little") for i in range(n)]


def test_a_long_wait_sleeps_after_the_budget(ctx, wait_peers, spin):
    """After its budget a blocked recv sleeps: 300 ms of waiting costs ~1 spin of CPU."""
    spin(50)
    a, _b = _pair(ctx, _inproc_bind, wait_peers)
    a.rcvtimeo = 300
    cpu = []

    def waiter():
        c0 = time.thread_time()
        with pytest.raises(zmq.Again):
            a.recv()
        cpu.append(time.thread_time() - c0)

    t = threading.Thread(target=waiter)
    t.start()
    t.join(10)
    assert not t.is_alive()
    assert cpu[0] < 0.05  # a spin for the whole wait would be ~0.3 s


@pytest.mark.timeout(60)
@pytest.mark.parametrize("budget_us", [0, 1, 50])
@pytest.mark.parametrize("slow_every", [0, 50])
def test_req_rep_round_trips(ctx, transport, spin, budget_us, slow_every):
    """REQ/REP: after handing a request (or reply) to its socket, the I/O thread spins on the
    engine's waiter for the answer. Answers come inside the spin, race its end (1 us), or
    come long after it (every slow_every-th reply is 2 ms late): none is lost or reordered."""
    spin(budget_us)
    rep = ctx.socket(zmq.REP)
    req = ctx.socket(zmq.REQ)
    for s in (rep, req):
        s.rcvtimeo = 5000
        s.sndtimeo = 5000
    req.connect(transport.bind(rep))
    _round_trips(req, rep, 1500, slow_every)


def test_no_spin_while_no_peer_is_up(ctx, spin):
    """A recv on a socket whose pipes have no connection yet (a REQ still connecting) sleeps
    at once: nothing can arrive within a spin budget, so spinning would only burn a CPU."""
    spin(1_000_000)  # a budget longer than the wait: a spinning recv would burn all of it
    probe = ctx.socket(zmq.PULL)
    port = probe.bind_to_random_port("tcp://127.0.0.1")
    probe.close()  # a port with nobody behind it: the REQ keeps trying to connect
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.rcvtimeo = 300
    req.connect(f"tcp://127.0.0.1:{port}")
    req.send(b"hello")  # queued on the connecter's pipe
    cpu = []

    def waiter():
        c0 = time.thread_time()
        with pytest.raises(zmq.Again):
            req.recv()
        cpu.append(time.thread_time() - c0)

    t = threading.Thread(target=waiter)
    t.start()
    t.join(10)
    assert not t.is_alive()
    assert cpu[0] < 0.1  # a spin for the whole wait would be ~0.3 s

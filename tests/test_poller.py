"""The I/O layer's seam: one fd per connection (the engines' shared wake-up fd), the wake
group's protocol, the poller backends (FASTZMQ_POLLER), and no busy loop on either."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

import fastzmq as zmq
from conftest import fd_readable
from fastzmq._waiter import WakeGroup, poller_backend


def _fd_targets() -> list:
    """What each open fd is: "socket:[inode]", "pipe:[inode]", "anon_inode:[eventfd]"...
    (inodes identify sockets and pipes; fd numbers are reused as other tests' garbage goes)."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # closed meanwhile (the listing's own fd, or another thread's)
    return out


# ---------------------------------------------------------------- wake group
def test_wake_group_member_signal_needs_armed_member():
    g = WakeGroup()
    g.arm()
    g.wake_member(7)  # member 7 is not armed: no wake-up at all
    assert g.take() == []
    assert not fd_readable(g.fileno())


def test_wake_group_busy_thread_is_woken_by_memory_only():
    g = WakeGroup()
    g.arm_member(3)
    g.wake_member(3)  # the group (its I/O thread) is not armed: no fd write
    assert not fd_readable(g.fileno())
    assert g.take() == [3]
    assert g.take() == []


def test_wake_group_sleeping_thread_gets_one_fd_write():
    g = WakeGroup()
    g.arm()
    g.arm_member(5)
    g.arm_member(70)  # another chunk of members
    g.wake_member(5)
    assert fd_readable(g.fileno())
    g.wake_member(70)  # the group was disarmed by the first wake: queued, no second write
    g.drain()
    assert not fd_readable(g.fileno())
    assert sorted(g.take()) == [5, 70]


def test_wake_group_member_queued_once_until_taken():
    g = WakeGroup()
    for _ in range(3):
        g.arm_member(1)
        g.wake_member(1)
    assert g.take() == [1]
    g.arm_member(1)
    g.wake_member(1)  # taken (cleared): it can be queued again
    assert g.take() == [1]


# ---------------------------------------------------------------- one fd per connection
@pytest.mark.parametrize("n", [16])
def test_one_fd_per_connection_end(ctx, n):
    router = ctx.socket(zmq.ROUTER)
    router.bind("tcp://127.0.0.1:*")
    ep = router.last_endpoint.decode()
    dealers = [ctx.socket(zmq.DEALER) for _ in range(n)]
    for d in dealers:
        d.linger = 0
    before = _fd_targets()
    for d in dealers:
        d.connect(ep)
    assert router.wait_peers(n, timeout=5000)
    for d in dealers:
        assert d.wait_peers(1, timeout=5000)
    after = _fd_targets()
    # both ends live in this process: each connection is its two OS sockets, nothing else
    new = set(after) - set(before)
    assert sum(t.startswith("socket:") for t in new) == 2 * n
    assert not any(t.startswith("pipe:") for t in new)  # poll backend's wake-up fds
    assert after.count("anon_inode:[eventfd]") <= before.count("anon_inode:[eventfd]")
    for i, d in enumerate(dealers):
        d.send(b"%d" % i)
    router.rcvtimeo = 5000
    got = sorted(router.recv_multipart()[1] for _ in range(n))
    assert got == sorted(b"%d" % i for i in range(n))


# ---------------------------------------------------------------- no busy loop
def test_throttled_and_blocked_engines_do_not_spin(ctx):
    """RCVHWM stops the reader's engine with bytes in the kernel, and the writer's engine
    is blocked on a full send buffer: on a level-triggered poller both must be masked."""
    pull = ctx.socket(zmq.PULL)
    pull.rcvhwm = 5
    pull.rcvbuf = 65536
    pull.bind("tcp://127.0.0.1:*")
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 0
    push.sndbuf = 65536
    push.linger = 0
    push.connect(pull.last_endpoint.decode())
    assert push.wait_peers(1, timeout=5000)
    body = b"x" * 1024
    total = 3000
    for _ in range(total):
        push.send(body)
    (io,) = ctx._io
    time.sleep(0.2)  # let the engines fill the buffers and stop
    w0 = io.n_waits
    time.sleep(0.3)
    assert io.n_waits - w0 < 50, io.n_waits - w0  # a spinning poller returns thousands
    pull.rcvtimeo = 5000
    for _ in range(total):
        assert pull.recv() == body


# ---------------------------------------------------------------- backend choice
def _child(code: str, poller: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.pop("FASTZMQ_POLLER", None)
    if poller is not None:
        env["FASTZMQ_POLLER"] = poller
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


_ROUND_TRIP = """
    import os, stat
    import fastzmq as zmq
    from fastzmq._waiter import poller_backend
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = ctx.socket(zmq.REQ)
    req.connect("tcp://127.0.0.1:%d" % port)
    rep.rcvtimeo = req.rcvtimeo = 5000
    for i in range(200):
        req.send(b"%d" % i)
        rep.send(rep.recv())
        assert req.recv() == b"%d" % i
    fifo = stat.S_ISFIFO(os.fstat(req.FD).st_mode)
    print(poller_backend(), ctx._io[0].backend, "fifo" if fifo else "not-fifo")
    req.close(0); rep.close(0); ctx.term()
"""


def test_poll_backend_selected_by_env():
    r = _child(_ROUND_TRIP, "poll")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["poll", "poll", "fifo"]  # a socket's FD: a pipe's read end


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="epoll is Linux's")
def test_default_backend_is_epoll_with_eventfds():
    r = _child(_ROUND_TRIP, None)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["epoll", "epoll", "not-fifo"]


_BAD_POLLER = """
    import errno
    import fastzmq as zmq  # importing works: the setting is judged where it is used
    from fastzmq import _waiter
    for make in (zmq.Context, lambda: _waiter.Waiter(), _waiter.poller_backend):
        try:
            make()
        except zmq.ZMQError as e:
            assert e.errno == errno.EINVAL, e.errno
            print(str(e))
        else:
            print("accepted")
"""


def test_unknown_backend_is_a_zmqerror_at_context_creation():
    r = _child(_BAD_POLLER, "Select")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and "accepted" not in lines, lines
    for line in lines:
        assert "FASTZMQ_POLLER='Select'" in line, line
        valid = line.split("valid values are ", 1)[1]
        assert "poll" in valid and "default" in valid, line
        if sys.platform.startswith("linux"):
            assert "epoll" in valid, line


def test_this_process_backend_is_reported():
    expected = os.environ.get("FASTZMQ_POLLER") or ("epoll" if sys.platform == "linux" else None)
    if expected is None:
        pytest.skip("no default to compare with on this platform")
    assert poller_backend() == expected


def test_zmtp1_relay_does_not_spin(ctx):
    """A ZMTP 1.0 peer's byte relay (_legacy) registers its fds edge-triggered: on the
    level-triggered poll backend it must say what it waits for (IOThread.want)."""
    from test_zmtp2 import RawPeer  # the hand-written 2.0/1.0 peer

    pair = ctx.socket(zmq.PAIR)
    pair.linger = 0
    port = pair.bind_to_random_port("tcp://127.0.0.1")
    peer = RawPeer.connect(port, v1=True)
    try:
        peer.send([b"hi"])
        pair.rcvtimeo = 5000
        assert pair.recv() == b"hi"
        pair.send(b"back")
        assert peer.recv() == [b"back"]
        (io,) = ctx._io
        time.sleep(0.1)
        w0 = io.n_waits
        time.sleep(0.3)
        assert io.n_waits - w0 < 50, io.n_waits - w0  # without IOThread.want: ~28,000
    finally:
        peer.close()

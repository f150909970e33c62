"""Connection life under churn and abuse: nothing kept after a connection dies.

fd counts come from /proc/self/fd (exact); RSS checks use generous bounds. The
fd-exhaustion tests run in a subprocess with a small RLIMIT_NOFILE.
"""

from __future__ import annotations

import errno
import gc
import os
import socket
import struct
import subprocess
import sys
import textwrap
import time

import pytest

import fastzmq as zmq
from fastzmq.zmtp.handshake import Handshake

sys.path.insert(0, os.path.dirname(__file__))
from zmtp_peer import run_handshake  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


def nfds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(autouse=True)
def _collected():
    """Free earlier tests' objects (closing their fds) before a test counts fds; the
    checks are "no more fds than at the start" (fewer is fine, more is a leak)."""
    gc.collect()


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def wait_until(pred, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def listener_of(sock):
    (io,) = sock.context._io
    (lst,) = io.by_socket[sock]
    return lst


def test_connections_dying_in_setup_are_forgotten(ctx):
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    lst = listener_of(pull)
    before = nfds()
    for _ in range(300):  # connect and close at once: most die during the handshake
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.close()
    assert wait_until(lambda: not lst.conns and nfds() <= before), (len(lst.conns), nfds())


def test_finished_connections_release_fds_at_once(ctx):
    """Handshaken connections that close free their fds and eventfds well before
    HANDSHAKE_IVL (30 s): the handshake timer is cancelled."""
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    lst = listener_of(pull)
    assert pull.handshake_ivl == 30000
    before = nfds()
    pull.rcvtimeo = 5000
    for i in range(30):
        # a plain socket (the fixture's context keeps closed sockets, and their eventfd)
        push = zmq.Socket(ctx, zmq.PUSH)
        push.connect(f"tcp://127.0.0.1:{port}")
        push.send(b"%d" % i)
        assert pull.recv() == b"%d" % i
        push.close(linger=0)
    del push
    assert wait_until(lambda: not lst.conns, 5.0)
    pull.poll(0)  # the socket drops the detached pipes (and their engines' eventfds)
    assert wait_until(lambda: nfds() <= before, 5.0), (nfds(), before)


def test_churn_rss_and_fds_come_back(ctx):
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    lst = listener_of(pull)
    fds0 = nfds()
    marks = []
    for _ in range(3):
        for _ in range(500):
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.close()
        # (the last connections may still be in the accept queue: wait for both)
        assert wait_until(lambda: not lst.conns and nfds() <= fds0, 10.0), nfds()
        marks.append(rss_mb())
    # the set-up race kept ~2 KB per connection, never returned: allow noise, not growth
    assert marks[2] - marks[0] < 3.0, marks


def test_huge_announced_frame_memory_returns(ctx):
    """A peer announcing a 2^40-byte frame, sending 64 MiB of it, then leaving."""
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    lst = listener_of(pull)
    base = rss_mb()
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        run_handshake(c, Handshake(socket_type="PUSH"))
        c.sendall(b"\x02" + struct.pack(">Q", 2**40))
        block = b"x" * (1 << 20)
        for _ in range(64):
            c.sendall(block)
        assert wait_until(lambda: rss_mb() > base + 40, 10.0), "the frame was not buffered"
    finally:
        c.close()
    assert wait_until(lambda: not lst.conns, 5.0)
    assert wait_until(lambda: rss_mb() < base + 16, 5.0), (base, rss_mb())
    with pytest.raises(zmq.Again):
        pull.recv(zmq.DONTWAIT)  # nothing of it was ever delivered


# ---------------------------------------------------------------- fd exhaustion
_EMFILE_CHILD = textwrap.dedent(
    """
    import os, resource, socket, sys, time
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
    import fastzmq as zmq

    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    held = []
    for i in range(200):  # fill the fd table (both ends live in this process)
        try:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=1))
        except OSError:
            pass
    time.sleep(0.2)
    try:
        ctx.socket(zmq.PUSH)
        print("socket: ok")
    except zmq.ZMQError as e:
        print("socket: ZMQError", e.errno)
    except OSError as e:
        print("socket: OSError", e.errno)
    for s in held:
        s.close()
    held = []
    push = ctx.socket(zmq.PUSH)
    push.connect("tcp://127.0.0.1:%d" % port)
    for i in range(5):
        push.send(b"%d" % i)
    pull.rcvtimeo = 5000
    print("got", b",".join(pull.recv() for _ in range(5)).decode())
    # leave with sockets open and every fd in use again: the exit must be clean
    for i in range(200):
        try:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=1))
        except OSError:
            pass
    print("exit", flush=True)
    """
)


def test_emfile_is_zmqerror_listener_recovers_clean_exit():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    r = subprocess.run(
        [sys.executable, "-c", _EMFILE_CHILD],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert f"socket: ZMQError {zmq.EMFILE}" in r.stdout, r.stdout
    assert "got 0,1,2,3,4" in r.stdout, (r.stdout, r.stderr)
    assert "exit" in r.stdout
    assert "libgcc_s" not in r.stderr and "Traceback" not in r.stderr, r.stderr


# ---------------------------------------------------------------- errors at the call
@pytest.mark.parametrize(
    ("method", "addr", "code"),
    [
        ("connect", "ipc://" + "a" * 200, errno.ENAMETOOLONG),
        ("bind", "ipc://" + "a" * 200, errno.ENAMETOOLONG),
        ("bind", "ipc://@" + "a" * 107, errno.ENAMETOOLONG),
        ("connect", "tcp://127.0.0.1", zmq.EINVAL),
        ("connect", "tcp://*:5555", zmq.EINVAL),
        ("connect", "ipc://", zmq.EINVAL),
        ("connect", "foo://x", zmq.EPROTONOSUPPORT),
        ("bind", "pgm://eth0;239.1.1.1:5555", zmq.ENOCOMPATPROTO),  # PUSH: libzmq's errno
        ("bind", "tcp://nosuchif0:5555", zmq.ENODEV),
    ],
)
def test_errors_raise_at_the_call(ctx, method, addr, code):
    s = ctx.socket(zmq.PUSH)
    with pytest.raises(zmq.ZMQError) as info:
        getattr(s, method)(addr)
    assert info.value.errno == code
    if code == errno.ENAMETOOLONG:
        assert str(zmq.IPC_PATH_MAX_LEN) in str(info.value)


def test_longest_ipc_path_is_accepted(ctx, tmp_path):
    s = ctx.socket(zmq.PUSH)
    s.connect("ipc://" + "a" * zmq.IPC_PATH_MAX_LEN)  # connects later (nothing there)


_EXIT_HANDLER_CHILD = textwrap.dedent(
    """
    import atexit
    state = {}
    def bye():  # registered before fastzmq's own exit handler, so it runs after it
        state["push"].close(linger=100)
        state["ctx"].term()
        print("termed", flush=True)
    atexit.register(bye)
    import fastzmq as zmq
    ctx = state["ctx"] = zmq.Context()
    push = state["push"] = ctx.socket(zmq.PUSH)
    push.connect("tcp://127.0.0.1:1")
    push.send(b"queued")  # never delivered: only LINGER ends it
    """
)


def test_term_in_a_late_exit_handler_returns():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    r = subprocess.run(
        [sys.executable, "-c", _EXIT_HANDLER_CHILD],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert r.returncode == 0 and "termed" in r.stdout, (r.returncode, r.stdout, r.stderr)


@pytest.mark.parametrize(
    ("method", "addr"),
    [("connect", "noproc://no/such/file"), ("bind", "tcp://nosuchif0:5555"), ("bind", "inproc://")],
)
def test_errors_name_the_endpoint(ctx, method, addr):
    """pyzmq's bind/connect errors name the endpoint (addr='...')."""
    s = ctx.socket(zmq.PUSH)
    with pytest.raises(zmq.ZMQError) as info:
        getattr(s, method)(addr)
    assert addr in str(info.value)


def test_unbind_close_term_frees_the_port_at_once():
    """bind, unbind, close, term in quick succession (what a device does to reserve a
    port): when term() returns the port is free, even if the I/O thread had not yet run
    the listener's start and stop when it was told to stop."""
    for _ in range(20):
        c = zmq.Context()
        s = c.socket(zmq.PUSH)
        port = s.bind_to_random_port("tcp://127.0.0.1")
        s.unbind(f"tcp://127.0.0.1:{port}")
        s.close(linger=0)
        c.term()
        probe = socket.socket()
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))  # EADDRINUSE while anything listens there
        finally:
            probe.close()


@pytest.mark.parametrize("tcp_info", [True, False])
def test_loopback_connect_skips_the_poller_round(ctx, monkeypatch, tcp_info):
    """A loopback tcp connect is up when connect() returns: the connecter sees that
    (TCP_INFO) and starts the handshake at once, never waiting for the poller's EPOLLOUT
    (Connecter.on_event). Without TCP_INFO it waits for the poller, as elsewhere."""
    from fastzmq import _transport

    if not tcp_info:
        monkeypatch.setattr(_transport, "_TCP_INFO", None)
    elif _transport._TCP_INFO is None:
        pytest.skip("no TCP_INFO on this platform")
    calls = []
    real = _transport.Connecter.on_event
    monkeypatch.setattr(
        _transport.Connecter, "on_event", lambda self, *a: calls.append(a) or real(self, *a)
    )
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 5000
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    for i in range(3):
        push = ctx.socket(zmq.PUSH)
        push.linger = 1000
        push.connect(f"tcp://127.0.0.1:{port}")
        push.send(b"m%d" % i)
        assert pull.recv() == b"m%d" % i
        push.close()
    pull.close()
    assert (len(calls) == 0) == tcp_info, calls


def _hold_io_thread(sock):
    """Keep the socket's I/O thread busy until the returned event is set."""
    import threading

    io = sock._io_thread()
    held, release = threading.Event(), threading.Event()
    io.call(lambda: (held.set(), release.wait(10)))
    assert held.wait(5)
    return release


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_first_dial_is_made_in_the_callers_thread(ctx, tmp_path, transport):
    """A connect() to an address known without DNS dials at the call: the peer sees the
    connection even while the I/O thread is busy with earlier work (under churn, the
    previous socket's teardown); the I/O thread then takes the dial over as usual."""
    if transport == "tcp":
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        endpoint = f"tcp://127.0.0.1:{ls.getsockname()[1]}"
    else:
        ls = socket.socket(socket.AF_UNIX)
        path = str(tmp_path / "dial")
        ls.bind(path)
        endpoint = "ipc://" + path
    ls.listen()
    ls.settimeout(5)
    dealer = ctx.socket(zmq.DEALER)
    release = _hold_io_thread(dealer)
    try:
        dealer.connect(endpoint)
        conn, _ = ls.accept()  # while the I/O thread is still held
    finally:
        release.set()
    try:
        # the I/O thread then runs the handshake on that connection: our greeting arrives
        conn.settimeout(5)
        assert conn.recv(1) == b"\xff"
    finally:
        conn.close()
        ls.close()


def test_a_name_is_resolved_in_the_io_thread(ctx):
    """A host name needs DNS, which may block: that dial waits for the I/O thread."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    ls.settimeout(0.3)
    dealer = ctx.socket(zmq.DEALER)
    release = _hold_io_thread(dealer)
    try:
        dealer.connect(f"tcp://localhost:{ls.getsockname()[1]}")
        with pytest.raises(socket.timeout):
            ls.accept()
    finally:
        release.set()
    ls.settimeout(5)
    conn, _ = ls.accept()  # made by the I/O thread once it is free
    conn.close()
    ls.close()


def test_dial_falls_back_to_pythons_connect(ctx, monkeypatch):
    """An address form _fdio.connect does not build (ValueError) is connected by Python's
    socket method instead: the connection still comes up."""
    from fastzmq import _transport

    def refuse(fd, family, address):
        raise ValueError("not built here")

    monkeypatch.setattr(_transport._fdio, "connect", refuse)
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b.connect(f"tcp://127.0.0.1:{port}")
    b.send(b"hi")
    a.rcvtimeo = 5000
    assert a.recv() == b"hi"

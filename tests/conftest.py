"""Shared fixtures for the socket-level tests.

* ``ctx``: a fastzmq Context whose sockets are all tracked. At teardown every socket
  still open is closed with linger=0, then ``term()`` runs in a helper thread with a
  bounded wait: if it does not return (a socket leaked outside the tracker, a thread
  still blocked), the test FAILS instead of hanging the run.
* ``transport``: parametrizes a test over inproc, tcp and ipc. It yields a
  ``Transport`` whose ``bind(sock)`` binds a fresh endpoint and returns the address
  a peer connects to. tcp/ipc are skipped (with the reason) until
  ``bind("tcp://127.0.0.1:*")`` works in this build.
* ``wait_peers(sock, n)``: waits until ``sock`` has ``n`` live pipes (tcp/ipc
  connections complete asynchronously; inproc ones are immediate).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import socket
import tempfile
import threading
import time
from typing import Any, Callable

import pytest

import fastzmq as zmq

TERM_TIMEOUT = 5.0

from netbed import leftovers as _netbed_leftovers  # noqa: E402
from netbed import netbed  # noqa: E402,F401  (the multi-host test bed fixture)


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "netbed(hosts=2): number of hosts of the netbed fixture")


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    left = _netbed_leftovers()
    if left:  # a bed's teardown failed: say so loudly, and clean up
        import subprocess

        print(f"\nnetbed: namespaces left behind, now removed: {left}")
        for ns in left:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        session.exitstatus = 1


_counter = itertools.count()


class TrackingContext(zmq.Context):
    """A Context that remembers (strongly) every socket made through it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "_tracked", [])

    def socket(self, socket_type: int, *args: Any, **kwargs: Any) -> Any:
        s = super().socket(socket_type, *args, **kwargs)
        tracked = self._tracked
        if len(tracked) >= 64 and not len(tracked) % 64:  # closed ones need no tracking,
            tracked[:] = [t for t in tracked if not t.closed]  # and hold fds till freed
        tracked.append(s)
        return s


def _term_bounded(ctx: zmq.Context, timeout: float) -> bool:
    """term() in a helper thread; True if it returned within timeout."""
    done = threading.Event()

    def run() -> None:
        try:
            ctx.term()
        finally:
            done.set()

    t = threading.Thread(target=run, name="ctx-term", daemon=True)
    t.start()
    return done.wait(timeout)


def close_and_term(ctx: TrackingContext, timeout: float = TERM_TIMEOUT) -> None:
    tracked, ctx._tracked = ctx._tracked, []
    for s in tracked:
        if not s.closed:
            s.close(linger=0)
    # (the closed sockets are let go here: held until the context went, in a reference
    # cycle that only a full collection frees, their fds piled up over the suite: 2,200
    # after test_options' option table, past select()'s FD_SETSIZE in a later test)
    del tracked
    if _term_bounded(ctx, timeout):
        return
    leaked = [s for s in list(ctx._sockets) if not s.closed]
    names = [repr(s) for s in leaked]
    for s in leaked:  # unstick the term thread so the run can go on
        s.close(linger=0)
    _term_bounded(ctx, 1.0)
    pytest.fail(f"Context.term() did not return within {timeout}s: leaked sockets {names}")


@pytest.fixture
def ctx():
    c = TrackingContext()
    yield c
    close_and_term(c)


# ---------------------------------------------------------------- transports
class Transport:
    """Endpoint factory for one transport."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tmp: str | None = None

    def address(self) -> str:
        n = next(_counter)
        if self.name == "inproc":
            return f"inproc://t{os.getpid()}-{n}"
        if self.name == "tcp":
            return "tcp://127.0.0.1:*"
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="fzmq-")
        return f"ipc://{self._tmp}/s{n}"

    def bind(self, sock: Any) -> str:
        """Bind sock to a fresh endpoint; return the address to connect to."""
        sock.bind(self.address())
        return sock.last_endpoint.decode()

    def cleanup(self) -> None:
        if self._tmp is not None:
            for f in os.listdir(self._tmp):
                try:
                    os.unlink(os.path.join(self._tmp, f))
                except OSError:
                    pass
            os.rmdir(self._tmp)


_probe_cache: dict[str, str | None] = {}


def _transport_unavailable(name: str) -> str | None:
    """None if binding on this transport works, else why not."""
    if name == "inproc":
        return None
    if name in _probe_cache:
        return _probe_cache[name]
    addr = "tcp://127.0.0.1:*" if name == "tcp" else f"ipc://{tempfile.mktemp(prefix='fzp')}"
    c = zmq.Context()
    reason = None
    try:
        s = c.socket(zmq.PAIR)
        try:
            s.bind(addr)
        finally:
            s.close(linger=0)
    except (ImportError, NotImplementedError, zmq.ZMQError) as e:
        reason = f"{name} transport not available yet: {type(e).__name__}: {e}"
    if not _term_bounded(c, TERM_TIMEOUT) and reason is None:
        reason = f"{name} transport: Context.term() hung after a bind"
    if name == "ipc" and os.path.exists(addr[len("ipc://") :]):
        os.unlink(addr[len("ipc://") :])
    _probe_cache[name] = reason
    return reason


@pytest.fixture(params=["inproc", "tcp", "ipc"])
def transport(request):
    reason = _transport_unavailable(request.param)
    if reason is not None:
        pytest.skip(reason)
    t = Transport(request.param)
    yield t
    t.cleanup()


def live_pipes(sock: Any) -> int:
    sock._events()  # processes the socket's mailbox (pipe attach/detach)
    return sum(1 for p in sock._get_pipes() if not p.detached and p.connected)


def fd_readable(fd: int, timeout_ms: int = 0) -> bool:
    """Whether fd is readable within timeout_ms (poll(2), not select(): an fd may be past
    FD_SETSIZE late in a suite run)."""
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(timeout_ms))


def wait_until(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.002)


def free_tcp_port() -> int:
    """A loopback port nobody listens on right now."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def bind_retrying(sock: Any, addr: str, deadline_s: float = 2.0) -> None:
    """close() releases a listener asynchronously (in the I/O thread, as libzmq does),
    so an immediate rebind of the same address may see EADDRINUSE for a moment."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            sock.bind(addr)
            return
        except zmq.ZMQError as e:
            if e.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


@pytest.fixture
def wait_peers():
    def wait(sock: Any, n: int, timeout: float = 5.0) -> None:
        wait_until(lambda: live_pipes(sock) >= n, timeout, f"{n} connected peers on {sock!r}")

    return wait


def recv_exactly(conn: Any, n: int) -> bytes:
    """n bytes from a raw (Python) socket; its timeout bounds each recv, EOF fails."""
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        assert chunk, f"peer closed after {buf!r}, {n} bytes expected"
        buf += chunk
    return buf


def recv_all(sock: Any, timeout_ms: int = 200) -> list:
    """Every message that arrives until the socket stays silent for timeout_ms."""
    out = []
    while sock.poll(timeout_ms, zmq.POLLIN):
        out.append(sock.recv_multipart())
    return out


@contextlib.contextmanager
def io_stalled(sock: Any, bound: float = 3.0):
    """sock's I/O thread is kept busy inside the block (at most ``bound`` seconds), from
    the moment the block starts: what moves meanwhile was moved by another thread."""
    started, gate = threading.Event(), threading.Event()

    def stall() -> None:
        started.set()
        gate.wait(bound)

    sock._io_thread().call(stall)
    assert started.wait(bound), "the I/O thread did not run the stall"
    try:
        yield
    finally:
        gate.set()

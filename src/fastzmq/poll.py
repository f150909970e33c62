"""Poller and select: wait on fastzmq sockets and plain file descriptors together.

Theory of operation
-------------------
A fastzmq socket's ``FD`` (an eventfd, see ``_waiter.pyx``) is *edge-triggered*, as
pyzmq's is: it becomes readable when the socket's state *may* have changed, not
while the socket is ready. ``EVENTS`` (``Socket._events()``) drains the fd, reports
POLLIN/POLLOUT as they are now, and arms the socket's waiters for what is not ready,
so that the next producer (or consumer, for POLLOUT) that changes it writes the fd.
A reading of ``EVENTS`` that says "not ready" is therefore a promise: the fd will
become readable if that changes. That gives the one correct loop, used here, in
``fastzmq.asyncio`` and in ``fastzmq.green``:

    loop:
        ev = socket.EVENTS          # drain + arm
        if ev & wanted: act; continue
        wait until FD is readable    # no lost wake-up: the arm came first

``Poller.poll`` is that loop over many sockets at once, plus plain fds (ints, or
objects with ``fileno()``), all in one OS ``poll()``: the fastzmq FDs for POLLIN,
the plain fds for what was asked. It returns as soon as anything is ready, after
asking the plain fds once more with a zero timeout, so a result holds everything
ready at that moment (as libzmq's ``zmq_poll`` does). A wake-up that turns out to
be stale (the FD changed, but nothing asked for is ready) sleeps again for the time
that is left, so an idle poll costs one system call, not a spin.
"""

from __future__ import annotations

import select as _select
import time
from typing import Any

from fastzmq import constants as _c
from fastzmq.error import ContextTerminated, ZMQError
from fastzmq.socket import Socket

POLLIN = int(_c.POLLIN)
POLLOUT = int(_c.POLLOUT)
POLLERR = int(_c.POLLERR)

_OS_IN = _select.POLLIN | getattr(_select, "POLLPRI", 0)
_OS_OUT = _select.POLLOUT
_OS_ERR = _select.POLLERR | _select.POLLHUP | _select.POLLNVAL


def _fileno(obj: Any) -> int:
    if isinstance(obj, int):
        if obj < 0:
            raise ValueError(f"invalid file descriptor: {obj}")
        return obj
    if hasattr(obj, "fileno"):
        return int(obj.fileno())
    raise TypeError(f"cannot poll {obj!r}: not a socket, an fd, or an object with fileno()")


def _os_mask(flags: int) -> int:
    return (_select.POLLIN if flags & POLLIN else 0) | (_OS_OUT if flags & POLLOUT else 0)


def _zmq_events(os_mask: int, flags: int) -> int:
    """An OS poll() result for a plain fd, as zmq events (errors/hang-ups are POLLERR)."""
    ev = 0
    if os_mask & _OS_IN:
        ev |= POLLIN
    if os_mask & _OS_OUT:
        ev |= POLLOUT
    ev &= flags
    if os_mask & _OS_ERR:
        ev |= POLLERR
    return ev


def _socket_events(sock: Socket, flags: int) -> int:
    """EVENTS of a fastzmq socket, masked (drains and re-arms its FD)."""
    if sock.closed:
        raise ZMQError(_c.ENOTSOCK, "Socket operation on non-socket (the socket is closed)")
    ctx = sock.context
    if ctx is not None and ctx._terminated:
        raise ContextTerminated()
    return int(sock._events()) & flags


def _remaining_ms(deadline: float | None) -> int:
    if deadline is None:
        return -1
    left = deadline - time.monotonic()
    return 0 if left <= 0 else max(1, int(left * 1000 + 0.999))


def _deadline(timeout: float | None) -> float | None:
    """pyzmq's timeout convention: milliseconds; None or negative waits forever."""
    if timeout is None or timeout < 0:
        return None
    return time.monotonic() + timeout / 1000.0


class Poller:
    """pyzmq's Poller: ``register`` sockets or fds, then ``poll(timeout_ms)``.

    Registered objects may be fastzmq sockets, int file descriptors, or any object
    with a ``fileno()`` method (a Python ``socket.socket``, a file). ``poll`` returns
    ``[(obj, events)]``: the fastzmq socket itself, or for anything else the int fd
    (pyzmq's rule, also when a file object was registered); events a mask of POLLIN,
    POLLOUT and POLLERR (POLLERR only for plain fds: error or hang-up).
    """

    _os_poll_factory = staticmethod(_select.poll)

    def __init__(self) -> None:
        self.sockets: list[tuple[Any, int]] = []
        self._map: dict[Any, int] = {}
        self._os: Any = None  # OS poll object, rebuilt after (un)registering
        self._zsocks: list[tuple[Socket, int]] = []
        self._fd_owners: dict[int, list[tuple[Any, int]]] = {}
        self._masks: dict[int, int] = {}  # fd -> OS poll mask, as registered in _os

    def __contains__(self, socket: Any) -> bool:
        return socket in self._map

    def register(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Start (or change) polling ``socket`` for ``flags``; flags=0 unregisters."""
        if not flags:
            if socket in self._map:
                self.unregister(socket)
            return
        if not isinstance(socket, Socket):
            _fileno(socket)  # fail now on what cannot be polled, as pyzmq does
        if socket in self._map:
            self.sockets[self._map[socket]] = (socket, int(flags))
        else:
            self._map[socket] = len(self.sockets)
            self.sockets.append((socket, int(flags)))
        self._os = None

    def modify(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Change the flags of a registered socket (same as ``register``)."""
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        """Stop polling ``socket``; KeyError if it was not registered."""
        idx = self._map.pop(socket)
        self.sockets.pop(idx)
        for s, i in self._map.items():
            if i > idx:
                self._map[s] = i - 1
        self._os = None

    def _rebuild(self) -> Any:
        """The OS poll object over every FD, and the split into sockets and plain fds."""
        masks: dict[int, int] = {}
        self._zsocks = []
        self._fd_owners = {}
        for obj, flags in self.sockets:
            if isinstance(obj, Socket):
                obj._check_alive()  # a closed socket's FD is gone: ENOTSOCK, as zmq_poll
                self._zsocks.append((obj, flags))
                fd, mask = obj._fileno(), _select.POLLIN
            else:
                fd, mask = _fileno(obj), _os_mask(flags)
                self._fd_owners.setdefault(fd, []).append((obj, flags))
            masks[fd] = masks.get(fd, 0) | mask
        os_poll = self._os_poll_factory()
        for fd, mask in masks.items():
            os_poll.register(fd, mask)
        self._masks = masks
        self._os = os_poll
        return os_poll

    def _block(self, os_poll: Any, wait_ms: int) -> list:
        """Sleep in the OS poll (subclasses for other event loops override this)."""
        return os_poll.poll(wait_ms)

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Events ready within ``timeout`` ms (None or negative: wait forever)."""
        deadline = _deadline(timeout)
        os_poll = self._os if self._os is not None else self._rebuild()
        while True:
            ready = self._zmq_ready()
            if ready:
                if self._fd_owners:
                    ready.extend(self._fd_ready(os_poll.poll(0)))
                return ready
            wait_ms = _remaining_ms(deadline)
            events = os_poll.poll(0) if wait_ms == 0 else self._block(os_poll, wait_ms)
            fd_ready = self._fd_ready(events)
            if fd_ready:
                return self._zmq_ready() + fd_ready
            if wait_ms == 0:
                return []

    def _zmq_ready(self) -> list[tuple[Any, int]]:
        ready = []
        for sock, flags in self._zsocks:
            ev = _socket_events(sock, flags)
            if ev:
                ready.append((sock, ev))
        return ready

    def _fd_ready(self, events: list) -> list[tuple[Any, int]]:
        """Plain fds that are ready, reported as the int fd (as pyzmq's zmq_poll does,
        also for an object registered by its ``fileno()``)."""
        out = []
        owners = self._fd_owners
        for fd, os_mask in events:
            ev = 0
            for _obj, flags in owners.get(fd, ()):
                ev |= _zmq_events(os_mask, flags)
            if ev:
                out.append((fd, ev))
        return out


def select(rlist: list, wlist: list, xlist: list, timeout: float | None = None) -> tuple:
    """pyzmq's select: ``timeout`` in seconds (None: forever); returns (rlist, wlist, xlist)."""
    return _select_with(Poller(), rlist, wlist, xlist, timeout)


def _select_with(p: Poller, rlist: list, wlist: list, xlist: list, timeout: float | None) -> tuple:
    wanted: dict[Any, int] = {}
    for objs, flag in ((rlist, POLLIN), (wlist, POLLOUT), (xlist, POLLERR)):
        for s in objs:
            wanted[s] = wanted.get(s, 0) | flag
    for s, flags in wanted.items():
        p.register(s, flags)
    ms = None if timeout is None or timeout < 0 else timeout * 1000
    ready = p.poll(ms)
    r = [s for s, ev in ready if ev & POLLIN]
    w = [s for s, ev in ready if ev & POLLOUT]
    x = [s for s, ev in ready if ev & POLLERR]
    return r, w, x


def zmq_poll(sockets: list, timeout: float | None = -1) -> list[tuple[Any, int]]:
    """pyzmq's low-level ``zmq_poll([(socket_or_fd, flags), ...], timeout_ms)``.

    Returns ``[(socket_or_fd, events)]`` for those ready within ``timeout`` ms
    (negative or None: wait forever).
    """
    p = Poller()
    for sock, flags in sockets:
        p.register(sock, flags)
    if timeout is not None and timeout < 0:
        timeout = None
    return p.poll(timeout)

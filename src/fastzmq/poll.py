"""Poller and select: wait on fastzmq sockets and plain file descriptors together.

A fastzmq socket's ``FD`` is edge-triggered, as in pyzmq: it becomes readable when
the socket's state *may* have changed, and reading ``EVENTS`` (``_events()``) tells
what is ready and re-arms the FD for what is not. The loop here is therefore:
ask every socket for its events; if something is ready, return; else sleep in the
OS poll on all the FDs and go round again.
"""

from __future__ import annotations

import select as _select
import time
from typing import Any

from fastzmq import constants as _c
from fastzmq.socket import Socket

POLLIN = int(_c.POLLIN)
POLLOUT = int(_c.POLLOUT)
POLLERR = int(_c.POLLERR)


def _fileno(obj: Any) -> int:
    if isinstance(obj, int):
        return obj
    if hasattr(obj, "fileno"):
        return int(obj.fileno())
    raise TypeError(f"cannot poll {obj!r}: not a socket, an fd, or an object with fileno()")


class Poller:
    """pyzmq's Poller: register sockets or fds, then poll(timeout_ms)."""

    def __init__(self) -> None:
        self.sockets: list[tuple[Any, int]] = []
        self._map: dict[Any, int] = {}

    def __contains__(self, socket: Any) -> bool:
        return socket in self._map

    def register(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Start (or change) polling socket for flags; flags=0 unregisters."""
        if not flags:
            if socket in self._map:
                self.unregister(socket)
            return
        if not isinstance(socket, Socket):
            _fileno(socket)  # validate now, as pyzmq does
        if socket in self._map:
            self.sockets[self._map[socket]] = (socket, flags)
        else:
            self._map[socket] = len(self.sockets)
            self.sockets.append((socket, flags))

    def modify(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        idx = self._map.pop(socket)
        self.sockets.pop(idx)
        for s, i in self._map.items():
            if i > idx:
                self._map[s] = i - 1

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Events ready within timeout ms (None or negative: wait forever)."""
        if timeout is None or timeout < 0:
            deadline = None
        else:
            deadline = time.monotonic() + timeout / 1000.0
        while True:
            ready, os_poll = self._check()
            if ready:
                return ready
            wait_ms = _remaining_ms(deadline)
            if wait_ms == 0:
                return []
            events = os_poll.poll(wait_ms)
            fd_ready = self._fd_events(events)
            if fd_ready:
                zmq_ready, _ = self._check(poll_fds=False)
                return zmq_ready + fd_ready

    def _check(self, poll_fds: bool = True) -> tuple[list, Any]:
        ready: list[tuple[Any, int]] = []
        os_poll = _select.poll()
        self._fd_owner: dict[int, tuple[Any, int]] = {}
        for sock, flags in self.sockets:
            if isinstance(sock, Socket):
                ev = int(sock._events()) & flags
                if ev:
                    ready.append((sock, ev))
                os_poll.register(sock._fileno(), _select.POLLIN)
            elif poll_fds:
                fd = _fileno(sock)
                mask = (_select.POLLIN if flags & POLLIN else 0) | (
                    _select.POLLOUT if flags & POLLOUT else 0
                )
                os_poll.register(fd, mask | _select.POLLERR)
                self._fd_owner[fd] = (sock, flags)
        if poll_fds and self._fd_owner:
            now = self._fd_events(_poll_now(self._fd_owner))
            ready.extend(now)
        return ready, os_poll

    def _fd_events(self, events: list) -> list[tuple[Any, int]]:
        out = []
        for fd, mask in events:
            owner = self._fd_owner.get(fd)
            if owner is None:
                continue
            sock, flags = owner
            ev = 0
            if mask & (_select.POLLIN | _select.POLLHUP):
                ev |= POLLIN
            if mask & _select.POLLOUT:
                ev |= POLLOUT
            if mask & (_select.POLLERR | _select.POLLNVAL):
                ev |= POLLERR
            ev &= flags | POLLERR
            if ev:
                out.append((sock, ev))
        return out


def _poll_now(owners: dict) -> list:
    p = _select.poll()
    for fd, (_, flags) in owners.items():
        p.register(
            fd,
            (_select.POLLIN if flags & POLLIN else 0) | (_select.POLLOUT if flags & POLLOUT else 0),
        )
    return p.poll(0)


def _remaining_ms(deadline: float | None) -> int:
    if deadline is None:
        return -1
    left = deadline - time.monotonic()
    return 0 if left <= 0 else max(1, int(left * 1000 + 0.999))


def select(rlist: list, wlist: list, xlist: list, timeout: float | None = None) -> tuple:
    """pyzmq's select: timeout in seconds (None: forever); returns (rlist, wlist, xlist)."""
    p = Poller()
    for s in rlist:
        p.register(s, POLLIN)
    for s in wlist:
        p.register(s, (p._map and dict(p.sockets).get(s, 0) or 0) | POLLOUT)
    for s in xlist:
        p.register(s, (dict(p.sockets).get(s, 0)) | POLLERR)
    ms = None if timeout is None or timeout < 0 else timeout * 1000
    ready = p.poll(ms)
    r = [s for s, ev in ready if ev & POLLIN]
    w = [s for s, ev in ready if ev & POLLOUT]
    x = [s for s, ev in ready if ev & POLLERR]
    return r, w, x

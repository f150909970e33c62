"""gevent-cooperative Context and Socket.

Theory of operation
-------------------
Every blocking call is the compiled operation with DONTWAIT, retried after waiting
for the socket's edge-triggered ``FD`` with ``gevent.socket.wait_read``, which parks
only the calling greenlet. Before each wait the socket's ``EVENTS`` is read: that
drains the FD and arms the socket's waiters for what is not ready, so a message (or
room to send) arriving after the check writes the FD and wakes the greenlet (the
loop documented in ``fastzmq.poll``). SNDTIMEO/RCVTIMEO bound the wait and raise
``Again``; ``Context.term()`` writes the FD, and the retried operation raises
``ContextTerminated``.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Callable

import gevent
from gevent.socket import wait_read

from fastzmq import _draft_socket
from fastzmq import constants as _c
from fastzmq import context as _context
from fastzmq import socket as _socket
from fastzmq._draft import DraftCore
from fastzmq._socket import SocketCore
from fastzmq.error import Again
from fastzmq.green import poll as _green_poll

POLLIN = int(_c.POLLIN)
POLLOUT = int(_c.POLLOUT)
DONTWAIT = int(_c.DONTWAIT)

_send = SocketCore.send
_recv = SocketCore.recv
_send_multipart = SocketCore.send_multipart
_recv_multipart = SocketCore.recv_multipart


_TIMEOS = (int(_c.RCVTIMEO), int(_c.SNDTIMEO))
_TIMEO_WARNING = (
    "RCVTIMEO/SNDTIMEO on a green socket: fastzmq.green honours them (raising Again),"
    " pyzmq's zmq.green ignores them; use gevent.Timeout for code that must run on both"
)
# the C fields themselves, read without the warning
_RCVTIMEO = SocketCore.__dict__["rcvtimeo"].__get__
_SNDTIMEO = SocketCore.__dict__["sndtimeo"].__get__


class _WaitTimeout(Exception):
    pass


def _timeo_property(name: str, option: int) -> property:
    core = SocketCore.__dict__[name]

    def fget(self: Any) -> int:
        warnings.warn(_TIMEO_WARNING, UserWarning, stacklevel=2)
        return core.__get__(self)

    def fset(self: Any, value: int) -> None:
        warnings.warn(_TIMEO_WARNING, UserWarning, stacklevel=2)
        _socket.Socket.set(self, option, value)

    return property(fget, fset)


class Socket(_socket.Socket):
    """A fastzmq socket whose blocking calls yield to the gevent hub."""

    _repr_cls = "fastzmq.green.Socket"
    _poller_class = _green_poll.Poller  # Socket.poll() yields to the hub
    # The FD stays open until the socket object is freed: a greenlet parked on it (in
    # wait_read or a green Poller) when another greenlet closes the socket must still see
    # the close's wake-up, and the hub's poller forgets an fd once it is closed.
    _fd_closes_with_socket = False
    # pyzmq's zmq.green warns about these (it ignores them); so do we (we do not)
    rcvtimeo = _timeo_property("rcvtimeo", int(_c.RCVTIMEO))
    sndtimeo = _timeo_property("sndtimeo", int(_c.SNDTIMEO))

    def set(self, option: int, value: Any) -> None:
        if option in _TIMEOS:
            warnings.warn(_TIMEO_WARNING, UserWarning, stacklevel=2)
        super().set(option, value)

    def get(self, option: int) -> Any:
        if option in _TIMEOS:
            warnings.warn(_TIMEO_WARNING, UserWarning, stacklevel=2)
        return super().get(option)

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False, **kw: Any):
        return self._cooperate(
            _send, POLLOUT, _SNDTIMEO(self.target or self), flags, (data,), (copy, track), kw
        )

    def send_multipart(
        self, msg_parts: Any, flags: int = 0, copy: bool = True, track: bool = False, **kw: Any
    ):
        lead = (list(msg_parts),)
        return self._cooperate(
            _send_multipart, POLLOUT, _SNDTIMEO(self.target or self), flags, lead, (copy, track)
        )

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False):
        return self._cooperate(
            _recv, POLLIN, _RCVTIMEO(self.target or self), flags, (), (copy, track)
        )

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False):
        return self._cooperate(
            _recv_multipart, POLLIN, _RCVTIMEO(self.target or self), flags, (), (copy, track)
        )

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        view, nbytes = _socket._into_view(buffer, nbytes)
        return self._cooperate(
            _socket._recv_into, POLLIN, _RCVTIMEO(self.target or self), flags, (view, nbytes), ()
        )

    def _cooperate(
        self,
        op: Callable,
        want: int,
        timeout_ms: int,
        flags: int,
        lead: tuple,
        args: tuple,
        kw: dict | None = None,
    ) -> Any:
        """op(*lead, flags, *args) with DONTWAIT; on Again, wait for the FD (yielding), retry."""
        kw = kw or {}
        if flags & DONTWAIT:
            return op(self, *lead, flags, *args, **kw)
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000.0
        idle = 0
        while True:
            try:
                return op(self, *lead, flags | DONTWAIT, *args, **kw)
            except Again:
                pass
            if self._wait(want, deadline):
                idle = 0
            else:  # EVENTS says ready yet the op said Again: do not hog the hub
                idle += 1
                if idle > 2:
                    gevent.sleep(0.001)

    def _wait(self, want: int, deadline: float | None) -> bool:
        """Return False at once if ``want`` is ready, else yield until the FD fires (True)."""
        if self._events() & want:
            return False
        timeout = None
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise Again()
        try:
            wait_read(self._fileno(), timeout=timeout, timeout_exc=_WaitTimeout())
        except _WaitTimeout:
            raise Again() from None
        return True


_d_send = DraftCore.send
_d_recv = DraftCore.recv
_d_send_multipart = DraftCore.send_multipart
_d_recv_multipart = DraftCore.recv_multipart


class DraftSocket(Socket, _draft_socket.DraftSocket):
    """A green socket of a draft type (CLIENT, SERVER, RADIO, DISH...): the draft core's
    operations with DONTWAIT, waiting on the FD in between as ``Socket`` does. The draft
    core is thread-safe; here its waits yield to the hub instead."""

    _classic_class = Socket  # its monitor PAIR is a green socket too

    def send(self, data: Any, flags: int = 0, copy: bool = True, track: bool = False, **kw: Any):
        timeo = _SNDTIMEO(self.target or self)
        return self._cooperate(_d_send, POLLOUT, timeo, flags, (data,), (copy, track), kw)

    def send_multipart(
        self, msg_parts: Any, flags: int = 0, copy: bool = True, track: bool = False, **kw: Any
    ):
        timeo = _SNDTIMEO(self.target or self)
        lead = (list(msg_parts),)
        return self._cooperate(_d_send_multipart, POLLOUT, timeo, flags, lead, (copy, track), kw)

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False):
        timeo = _RCVTIMEO(self.target or self)
        return self._cooperate(_d_recv, POLLIN, timeo, flags, (), (copy, track))

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False):
        timeo = _RCVTIMEO(self.target or self)
        return self._cooperate(_d_recv_multipart, POLLIN, timeo, flags, (), (copy, track))

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        view, nbytes = _socket._into_view(buffer, nbytes)
        timeo = _RCVTIMEO(self.target or self)
        return self._cooperate(
            _draft_socket._draft_recv_into, POLLIN, timeo, flags, (view, nbytes), ()
        )


class Context(_context.Context):
    """A Context whose sockets are ``fastzmq.green.Socket``."""

    _socket_class = Socket
    _repr_cls = "fastzmq.green.Context"
    _instance = None  # Context.instance() of this class: its own, not the sync one

    def term(self) -> None:
        """term() waits in gevent's thread pool, so other greenlets (the ones that
        still have to close their sockets) run meanwhile."""
        gevent.get_hub().threadpool.apply(_context.Context.term, (self,))

"""DraftSocket: pyzmq's Socket API for the draft types (``_draft.pyx`` is the core).

``Context.socket(zmq.CLIENT)`` (and ``zmq.Socket(ctx, zmq.CLIENT)``) returns one of
these: a ``Socket`` whose send/recv are the draft core's. Beyond pyzmq's API:
``join``/``leave`` (DISH), ``connect_peer`` (PEER, libzmq's ``zmq_connect_peer``: the
routing id of the new peer), ``udp://`` endpoints (RADIO, DISH, DGRAM).

A shadow of a draft socket (``Socket.shadow``, ``Socket(sock)``, ``from_socket``) is an
instance of the draft class asked for (``draft_class_for``): the draft core's entry
points and the methods here act on its ``target``, the socket.
"""

from __future__ import annotations

import sys
from typing import Any

from fastzmq import _udp
from fastzmq import constants as _c
from fastzmq._draft import THREAD_SAFE_TYPES, DraftCore
from fastzmq.error import ZMQError
from fastzmq.socket import Socket, _Bound, _Connected, _into_view


class _UdpEndpoint:
    """What ``_endpoints`` records for a udp endpoint (unbind/disconnect find it)."""

    transport = "udp"

    def __init__(self, raw: str, url: str) -> None:
        self.raw = raw
        self.url = url


def _is_udp(addr: Any) -> bool:
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8")
    return isinstance(addr, str) and addr.startswith("udp://")


class DraftSocket(Socket, DraftCore):
    """A CLIENT, SERVER, RADIO, DISH, SCATTER, GATHER, PEER, CHANNEL or DGRAM socket."""

    _classic_class = Socket  # what get_monitor_socket() makes its PAIR with
    _draft = True

    # the draft core's methods, ahead of Socket's (the classic core's fast entries)
    send = DraftCore.send
    recv = DraftCore.recv
    send_multipart = DraftCore.send_multipart
    recv_multipart = DraftCore.recv_multipart
    join = DraftCore.join
    leave = DraftCore.leave
    _events = DraftCore._events
    _attach = DraftCore._attach
    _detach = DraftCore._detach
    _init_core = DraftCore._init_core

    def bind(self, addr: str) -> Any:
        if self.target is not None:  # a shadow: the socket's
            return DraftSocket.bind(self.target, addr)
        if _is_udp(addr):
            self._check_alive()
            url = addr.decode() if isinstance(addr, bytes) else addr
            resolved = _udp.bind(self, url)
            self._last_endpoint = resolved.encode()
            self._endpoints.append(("bind", resolved, _UdpEndpoint(url, resolved)))
            return _Bound(self, resolved)
        if self.socket_type == _c.DGRAM:
            raise ZMQError(_c.ENOCOMPATPROTO, "DGRAM sockets use udp:// only")
        return self._locked_call(Socket.bind, self, addr)

    def connect(self, addr: str) -> Any:
        if self.target is not None:
            return DraftSocket.connect(self.target, addr)
        if _is_udp(addr):
            self._check_alive()
            url = addr.decode() if isinstance(addr, bytes) else addr
            resolved = _udp.connect(self, url)
            self._last_endpoint = url.encode()
            self._endpoints.append(("connect", resolved, _UdpEndpoint(url, resolved)))
            return _Connected(self, url)
        if self.socket_type == _c.DGRAM:
            raise ZMQError(_c.ENOCOMPATPROTO, "DGRAM sockets use udp:// only")
        return self._locked_call(Socket.connect, self, addr)

    def connect_peer(self, addr: str) -> int:
        """PEER: connect to ``addr`` and return the routing id to send to that peer."""
        if self.target is not None:
            return DraftSocket.connect_peer(self.target, addr)
        if self.socket_type != _c.PEER:
            raise ZMQError(_c.ENOTSUP, "connect_peer() is for PEER sockets")
        if self.immediate:
            raise ZMQError(_c.EFAULT, "connect_peer() needs IMMEDIATE off (as libzmq)")
        return self._locked_call(self._connect_peer, addr)

    def _connect_peer(self, addr: str) -> int:
        before = self.last_attached
        Socket.connect(self, addr)
        pipe = self.last_attached
        if pipe is None or pipe is before:
            raise ZMQError(_c.EFAULT, "connect_peer(): no pipe was created")
        return self._rid_of(pipe)

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        view, nbytes = _into_view(buffer, nbytes)
        return _draft_recv_into(self, view, nbytes, flags)

    def setsockopt(self, option: int, value: Any) -> None:
        if self.target is not None:
            return DraftSocket.setsockopt(self.target, option, value)
        if option == _c.XPUB_NODROP and self.socket_type == _c.RADIO:
            super().setsockopt(option, value)
            self.nodrop = bool(value)
            return
        super().setsockopt(option, value)

    def getsockopt(self, option: int) -> Any:
        if option == _c.THREAD_SAFE:
            return int(self.socket_type in THREAD_SAFE_TYPES)
        return super().getsockopt(option)


def _draft_recv_into(sock: Any, view: memoryview, nbytes: int, flags: int) -> int:
    data = DraftCore.recv(sock, flags)
    n = min(nbytes, len(data))
    view[:n] = data[:n]
    return len(data)


def _async_class() -> Any:
    """fastzmq.asyncio's Socket for the draft types (made on first use: asyncio is heavy)."""
    global _AsyncDraftSocket
    if _AsyncDraftSocket is not None:
        return _AsyncDraftSocket
    from fastzmq import asyncio as _aio

    class AsyncDraftSocket(_aio.Socket, DraftSocket):
        """An asyncio socket of a draft type: the asyncio ops over the draft core."""

        _repr_cls = "fastzmq.asyncio.Socket"
        _classic_class = _aio.Socket  # its monitor PAIR is an asyncio socket too

        def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
            args = (flags | _c.DONTWAIT, copy, track)
            return self._op(self._recvq, DraftCore.recv, args, {}, flags)

        def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
            args = (flags | _c.DONTWAIT, copy, track)
            return self._op(self._recvq, DraftCore.recv_multipart, args, {}, flags)

        def send(
            self, data: Any, flags: int = 0, copy: bool = True, track: bool = False, **kw: Any
        ) -> Any:
            args = (data, flags | _c.DONTWAIT, copy, track)
            return self._op(self._sendq, DraftCore.send, args, kw, flags)

        def send_multipart(
            self, msg_parts: Any, flags: int = 0, copy: bool = True, track: bool = False, **kw: Any
        ) -> Any:
            args = (list(msg_parts), flags | _c.DONTWAIT, copy, track)
            return self._op(self._sendq, DraftCore.send_multipart, args, kw, flags)

        def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> Any:
            view, nbytes = _into_view(buffer, nbytes)
            args = (view, nbytes, flags | _c.DONTWAIT)
            return self._op(self._recvq, _draft_recv_into, args, {}, flags)

        def _recv_then(self, load: Any, flags: int) -> Any:
            args = (DraftCore.recv, load, flags | _c.DONTWAIT, True, False)
            return self._op(self._recvq, _aio._recv_and_load, args, {}, flags)

        def recv_serialized(self, deserialize: Any, flags: int = 0, copy: bool = True) -> Any:
            args = (DraftCore.recv_multipart, deserialize, flags | _c.DONTWAIT, copy, False)
            return self._op(self._recvq, _aio._recv_and_load, args, {}, flags)

    _AsyncDraftSocket = AsyncDraftSocket
    return AsyncDraftSocket


_AsyncDraftSocket: Any = None


def draft_class_for(cls: Any) -> Any:
    """The class a draft-type socket asked of ``cls`` is made with (a draft socket, or a
    shadow of one); ENOTSUP if none."""
    if cls is Socket:
        return DraftSocket
    green = sys.modules.get("fastzmq.green.core")  # (imported only with gevent)
    if green is not None and cls is green.Socket:
        return green.DraftSocket
    from fastzmq import asyncio as _aio

    if cls is _aio.Socket:
        return _async_class()
    raise ZMQError(_c.ENOTSUP, f"{cls.__module__}.{cls.__name__} has no draft socket types yet")


__all__ = ["DraftSocket", "draft_class_for"]

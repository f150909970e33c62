"""Socket monitor events: the one entry point every layer reports through.

``emit(sock, event, value, endpoint)`` is called wherever a connection's life
changes (bind, connect, accept, handshake, close). It costs nothing when the
socket is not monitored: the first thing it does is test ``sock._monitor``.

A monitored socket has a ``Monitor``: an inproc PAIR bound to the address given to
``Socket.monitor``, on which each event goes out as libzmq's two frames (6 bytes:
little-endian uint16 event, uint32 value; then the endpoint), so pyzmq's
``parse_monitor_message`` reads them.

One writer. Events happen in the socket's thread (BIND_FAILED), in the I/O thread
(everything about connections), or in another I/O thread; the PAIR is a socket and
its pipe is single-producer, so exactly one thread writes it: the monitor's I/O
thread. An event raised there is sent at once (after any queued before it); an
event raised in any other thread is appended to a queue (``deque.append`` is
atomic) and a drain is posted to that I/O thread. The PAIR is created and bound by
``Socket.monitor`` before the monitor is published in ``sock._monitor``, and it is
closed by the I/O thread (``stop``), after the last event and MONITOR_STOPPED.
Sends never block: an event that finds no room (no reader connected, or the
reader's queue at its HWM) is dropped, as the I/O thread must never wait.
"""

from __future__ import annotations

import errno as _errno
import struct
import threading
from collections import deque
from typing import Any

from fastzmq import constants as _c
from fastzmq.error import ZMQError

_HEAD = struct.Struct("<HI")


def emit(sock: Any, event: int, value: int, endpoint: str) -> None:
    """Report ``event`` (an ``EVENT_*`` flag) with ``value`` on ``endpoint``."""
    mon = sock._monitor
    if mon is None:
        return
    mon.emit(event, value, endpoint)


def encode_event(event: int, value: int, endpoint: str | bytes) -> list[bytes]:
    """The two frames of one event, in libzmq's (version 1) monitor format."""
    if isinstance(endpoint, str):
        endpoint = endpoint.encode("utf-8")
    return [_HEAD.pack(event & 0xFFFF, value & 0xFFFFFFFF), endpoint]


def protocol_error_code(exc: Any) -> int | None:
    """The ZMQ_PROTOCOL_ERROR_* code libzmq reports for a handshake ProtocolError, or
    None where libzmq reports HANDSHAKE_FAILED_NO_DETAIL instead (a peer whose greeting
    is not ZMTP 3: libzmq takes it for a ZMTP 1.0 peer and fails without detail)."""
    from fastzmq import zmtp

    code = getattr(exc, "zmq_code", None)  # a mechanism may carry the exact code
    if isinstance(code, int):
        return code
    if isinstance(exc, zmtp.BadGreeting):
        return None
    if isinstance(exc, zmtp.MechanismMismatch):
        return _c.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
    if isinstance(exc, zmtp.IncompatibleSocketType):
        return _c.PROTOCOL_ERROR_ZMTP_INVALID_METADATA
    if isinstance(exc, zmtp.BadFrame):
        return _c.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED
    return _c.PROTOCOL_ERROR_ZMTP_UNSPECIFIED


class Monitor:
    """The monitor of one socket: an event filter and the PAIR that carries events."""

    def __init__(self, sock: Any, addr: str, events: int) -> None:
        if not addr.startswith("inproc://"):
            raise ZMQError(_c.EPROTONOSUPPORT, "a monitor endpoint must be inproc://")
        if events >> 16:
            raise ZMQError(_c.EINVAL, f"invalid monitor events: {events:#x}")
        ctx = sock.context
        self.events = events
        self.io = ctx._io_thread()  # the one thread that ever writes the PAIR
        self.queue: deque = deque()
        pair = _MonitorPair(ctx, _c.PAIR)
        pair._owner = self
        try:
            pair.linger = 0
            pair.bind(addr)
        except ZMQError:
            pair.close(0)
            raise
        self.pair: Any = pair

    def emit(self, event: int, value: int, endpoint: str) -> None:
        if not event & self.events:
            return
        if threading.current_thread() is self.io.thread:
            if self.queue:
                self._drain()
            self._send(event, value, endpoint)
        else:
            self.queue.append((event, value, endpoint))
            self.io.call(self._drain)

    def _drain(self) -> None:
        queue = self.queue
        while queue:
            self._send(*queue.popleft())

    def _send(self, event: int, value: int, endpoint: str) -> None:
        pair = self.pair
        if pair is None:
            return
        try:
            pair.send_multipart(encode_event(event, value, endpoint), _c.DONTWAIT)
        except ZMQError as e:
            if e.errno not in (_errno.EAGAIN, _c.ETERM, _c.ENOTSOCK):
                raise

    def stop(self) -> None:
        """I/O thread: send what is queued and MONITOR_STOPPED, then close the PAIR."""
        if self.pair is None:
            return
        self._drain()
        if self.events & _c.EVENT_MONITOR_STOPPED:
            self._send(_c.EVENT_MONITOR_STOPPED, 0, "")
        pair, self.pair = self.pair, None
        pair._owner = None
        pair.close(0)

    def shutdown(self) -> None:
        """From the socket's thread: stop in the I/O thread and wait for it."""
        try:
            self.io.call_sync(self.stop)
        except ZMQError:  # the I/O thread is gone (term): close here, nobody else writes
            pair, self.pair = self.pair, None
            if pair is not None:
                pair._owner = None
                pair.close(0)


def _pair_class() -> Any:
    from fastzmq.socket import Socket

    class MonitorPair(Socket):
        """The monitor's own PAIR: written by its I/O thread only. Closed from another
        thread (Context.destroy closes every socket), it asks that thread to close it."""

        _owner: Any = None

        def close(self, linger: int | None = None) -> None:
            mon = self._owner
            if mon is not None and threading.current_thread() is not mon.io.thread:
                mon.shutdown()
                return
            super().close(0)

    return MonitorPair


class _LazyPair:
    cls: Any = None

    def __call__(self, ctx: Any, kind: int) -> Any:
        if self.cls is None:
            self.cls = _pair_class()
        return self.cls(ctx, kind)


_MonitorPair = _LazyPair()

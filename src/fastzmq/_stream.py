"""STREAM's raw connections: TCP bytes with no ZMTP (no greeting, no framing).

A ``RawConnection`` takes the place of a ZMTP ``Connection`` (``_transport.py``) for a
STREAM socket's accepted or connected TCP sockets. It lives in the I/O thread as a slow
(GIL-holding) epoll object: what it reads goes to the socket's ``StreamType`` as one
``[routing id, bytes]`` message per read; what the socket sends reaches it through
``IOThread.call`` and is written as is. STREAM is for talking to non-ZMQ peers (HTTP and
the like), not a hot path, so it keeps the engine (``_io.pyx``) out of it entirely.
"""

from __future__ import annotations

import errno
from collections import deque
from typing import Any

from fastzmq import constants as _c
from fastzmq._monitor import emit

KIND_SLOW = 2  # the I/O thread's slow-object kind (see _io.pyx)
EPOLLIN, EPOLLOUT = 0x001, 0x004
_READ = 65536


class RawConnection:
    """One TCP connection of a STREAM socket."""

    hs_failed = False  # (Connecter.on_dead: there is no handshake to fail)
    pipe = None  # (Listener.on_dead: there is no pipe)

    def __init__(self, io: Any, sock: Any, pysock: Any, owner: Any, endpoint: str, peer: Any):
        self.io = io
        self.socket = sock
        self.pysock = pysock
        self.owner = owner
        self.endpoint = endpoint
        self.peer_addr = peer
        self.fd = pysock.fileno()
        self.slot = -1
        self.out: deque = deque()  # bytes still to write (one entry per message sent)
        self.queued = 0  # messages sent by the socket not yet written whole (SNDHWM)
        self.want_room = False  # the socket waits for queued to drop below SNDHWM
        self.reading = True  # False while the socket's queue is at RCVHWM
        self.closing = False  # close once everything queued is written
        self.active = False
        self.rid = getattr(owner, "fixed_rid", None) or None
        if self.rid is not None:
            owner.fixed_rid = None  # CONNECT_ROUTING_ID names one connection

    def fileno(self) -> int:
        return self.fd

    def start(self) -> None:
        self.slot = self.io.new_slot(self)
        self.io.register(self.fd, self.slot, KIND_SLOW, EPOLLIN)
        self.active = True
        self.rid = self.socket.impl._opened(self, self.rid)
        emit(self.socket, _c.EVENT_HANDSHAKE_SUCCEEDED, 0, self.endpoint)
        self.on_event(KIND_SLOW, EPOLLIN)

    def on_event(self, kind: int, mask: int) -> None:
        if not self.active:
            return
        if mask & EPOLLOUT:
            self._flush()
        if mask & ~EPOLLOUT:
            self._read()

    def _read(self) -> None:
        while self.active and self.reading:
            try:
                data = self.pysock.recv(_READ)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self.die(e.errno or errno.ECONNRESET)
                return
            if not data:
                self.die(0)
                return
            self.socket.impl._received(self, data)
        self._rearm()

    def resume_read(self) -> None:
        """(I/O thread) the socket's queue drained below RCVHWM: read again."""
        if self.active and not self.reading:
            self.reading = True
            self._rearm()
            self._read()

    def _rearm(self) -> None:
        if self.active:
            mask = (EPOLLIN if self.reading else 0) | (EPOLLOUT if self.out else 0)
            if mask:
                self.io.register(self.fd, self.slot, KIND_SLOW, mask)
            else:  # (not even EPOLLHUP/ERR, which epoll reports whatever the mask)
                self.io.unregister(self.fd)

    def write(self, data: bytes) -> None:
        """(I/O thread) queue data and write what the kernel takes now."""
        if not self.active:
            return
        self.out.append(data)
        self._flush()

    def close_soon(self) -> None:
        """(I/O thread) close once what is queued is written (send of [id, b""])."""
        if not self.active:
            return
        self.closing = True
        self._flush()

    def _flush(self) -> None:
        while self.out and self.active:
            data = self.out[0]
            try:
                n = self.pysock.send(data)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                self.die(e.errno or errno.EPIPE)
                return
            if n < len(data):
                self.out[0] = data[n:]
                break
            self.out.popleft()
            self.queued -= 1
            if self.want_room and not self.socket.closed:
                self.want_room = False
                self.socket._wake()
        if not self.active:
            return
        self._rearm()
        if not self.out and self.closing:
            self.die(0)

    def out_pending(self) -> int:
        return len(self.out)

    def unsent(self) -> int:
        return sum(len(d) for d in self.out)

    def info(self) -> dict:
        return {"endpoint": self.endpoint, "peer_address": self.peer_addr, "zmtp": None}

    def stop(self, linger: int) -> None:
        """The socket is closed: what was queued goes out if the kernel takes it now."""
        if self.active and linger != 0:
            self._flush()
        self.die(0)

    def die(self, code: int) -> None:
        if not self.active:
            return
        self.active = False
        try:
            self.io.unregister(self.fd)
        except OSError:
            pass
        self.io.free_slot(self.slot)
        self.pysock.close()
        if self.want_room and not self.socket.closed:
            self.socket._wake()
        emit(self.socket, _c.EVENT_DISCONNECTED, self.fd, self.endpoint)
        self.socket.impl._closed(self)
        self.owner.on_dead(self)

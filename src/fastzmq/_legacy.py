"""The byte relay of a ZMTP 1.0 connection (RFC 13 framing), in the I/O thread.

The I/O engine (``_io.Engine``) reads and writes ZMTP 2.0/3 frames only. For a 1.0 peer,
``Connection`` hands the engine one end of a socketpair instead of the peer's socket, and
a ``V1Relay`` moves bytes between the other end and the peer's socket, translating the
framing both ways (``fastzmq.zmtp.zmtp1``). It is a slow path object (Python, with the
GIL), fine for a protocol kept only for old peers.

Both fds are in epoll edge-triggered under one slot; every event runs ``pump``, which
moves what it can in both directions. A direction stops reading while what it has
translated is not yet written (bounded memory), and resumes at the writer's EPOLLOUT.
On the level-triggered poll backend (FASTZMQ_POLLER=poll) ``pump`` ends by telling the
poller what it waits for (``IOThread.want``), so a writable socket does not spin it.
EOF or an error on the peer's side closes the engine's end, so the engine dies as it
would for a direct connection; the engine closing its end (``Connection.die``) makes the
relay flush what it can and close the peer's socket.
"""

from __future__ import annotations

import socket as _pysocket
from typing import Any

from fastzmq import _fdio
from fastzmq.zmtp import ProtocolError
from fastzmq.zmtp.zmtp1 import FromV1, ToV1

KIND_SLOW = 2
_IN, _OUT = 0x001, 0x004  # EPOLLIN, EPOLLOUT
_MASK = _IN | _OUT | 0x2000 | (1 << 31)  # EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET
_CHUNK = 65536

# injected for a PUB/XPUB whose 1.0 peer subscribes to nothing (as libzmq: everything)
SUBSCRIBE_ALL = b"\x00\x01\x01"


class V1Relay:
    def __init__(self, io: Any, wire: Any, relay_end: Any, leftover: bytes, prefix: bytes):
        self.io = io
        self.wire = wire  # the peer's socket
        self.end = relay_end  # our end of the socketpair (the engine has the other)
        self.from_wire = FromV1(prefix)
        self.to_wire = ToV1()
        self.in_buf = b""  # translated from the peer, not yet written to the engine
        self.out_buf = b""  # translated for the peer, not yet written to it
        self.wire_eof = False
        self.end_eof = False
        self.closed = False
        self.slot = io.new_slot(self)
        try:
            self.in_buf = self.from_wire.feed(leftover)
        except ProtocolError:
            self.wire_eof = True
        io.register(wire.fileno(), self.slot, KIND_SLOW, _MASK)
        io.register(relay_end.fileno(), self.slot, KIND_SLOW, _MASK)

    def on_event(self, kind: int, mask: int) -> None:
        self.pump()

    def pump(self) -> None:
        if self.closed:
            return
        wfd, efd = self.wire.fileno(), self.end.fileno()
        moved = True
        while moved and not self.closed:
            moved = False
            if self.in_buf:  # peer -> engine
                n = _send(efd, self.in_buf)
                if n < 0:
                    self.close()
                    return
                moved = n > 0
                self.in_buf = self.in_buf[n:]
            if not self.in_buf and not self.wire_eof:
                data = _recv(wfd)
                if data is None:
                    pass
                elif not data:
                    self.wire_eof = True
                    self._shut_end()
                else:
                    try:
                        self.in_buf = self.from_wire.feed(data)
                    except ProtocolError:  # a malformed 1.0 frame: cut the connection
                        self.close()
                        return
                    moved = True
            if self.out_buf:  # engine -> peer
                n = _send(wfd, self.out_buf)
                if n < 0:
                    self.close()
                    return
                moved = moved or n > 0
                self.out_buf = self.out_buf[n:]
            if not self.out_buf and not self.end_eof:
                data = _recv(efd)
                if data is None:
                    pass
                elif not data:
                    self.end_eof = True
                else:
                    self.out_buf = self.to_wire.feed(data)
                    moved = True
        if self.end_eof and (not self.out_buf or self.wire_eof):
            self.close()  # the engine is gone and what it wrote went out (or cannot)
        elif self.wire_eof and not self.in_buf:
            self._shut_end()
        if not self.closed:  # a level-triggered poller (poll backend): only what we wait for
            io = self.io
            io.want(wfd, _IN * (not self.in_buf and not self.wire_eof) | _OUT * bool(self.out_buf))
            io.want(efd, _IN * (not self.out_buf and not self.end_eof) | _OUT * bool(self.in_buf))

    def _shut_end(self) -> None:
        try:
            self.end.shutdown(_pysocket.SHUT_WR)  # the engine reads EOF: it dies
        except OSError:
            pass

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for s in (self.wire, self.end):
            try:
                self.io.unregister(s.fileno())
            except Exception:
                pass
            try:
                _fdio.close(s.detach())
            except OSError:
                pass
        self.io.free_slot(self.slot)
        self.slot = -1


def _send(fd: int, data: bytes) -> int:
    """Bytes written (0: would block), or -1 on an error (the connection is gone)."""
    try:
        return _fdio.send(fd, data)
    except (BlockingIOError, InterruptedError):
        return 0
    except OSError:
        return -1


def _recv(fd: int):
    """Bytes read, b"" at EOF or on an error, None if nothing is there yet."""
    try:
        return _fdio.recv(fd, _CHUNK)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


def start(conn: Any, leftover: bytes, prefix: bytes) -> V1Relay:
    """Put a relay between ``conn`` (a ``Connection`` whose handshake met a 1.0 peer) and
    its peer: the engine gets one end of a socketpair (``conn.pysock`` and its fd)."""
    io, wire = conn.io, conn.pysock
    engine_end, relay_end = _pysocket.socketpair(
        _pysocket.AF_UNIX, _pysocket.SOCK_STREAM | _pysocket.SOCK_NONBLOCK
    )
    io.unregister(wire.fileno())
    conn.pysock = engine_end
    conn.set_fd(engine_end.fileno())
    return V1Relay(io, wire, relay_end, leftover, prefix)

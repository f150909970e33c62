# cython: language_level=3
"""STREAM: raw TCP to non-ZMQ peers (libzmq's ZMQ_STREAM).

Each connection (``_stream.RawConnection``, I/O thread) has a routing id (generated, or
CONNECT_ROUTING_ID for a connect()); what it reads is received as [id, bytes]; a send
is [id (SNDMORE), bytes], written as is; [id, b""] closes that connection once what was
sent before is written. With STREAM_NOTIFY (default on) a connection and a
disconnection are each received as [id, b""]. There are no pipes: messages in are
queued on the type, sends go to the I/O thread as calls.
"""

import time
from collections import deque

from fastzmq._socket cimport SocketCore, TypeBase

from fastzmq import constants as _c
from fastzmq._socket import register
from fastzmq.error import Again, ZMQError

cdef enum:
    DONTWAIT = 1

cdef int EHOSTUNREACH = _c.EHOSTUNREACH
cdef int STREAM_NOTIFY = _c.STREAM_NOTIFY


cdef class StreamType(TypeBase):
    """STREAM: route by id out (raw bytes), fair arrival order in."""

    cdef SocketCore core
    cdef dict by_rid                # routing id -> RawConnection
    cdef object inq                 # deque of [id, bytes] for the user (filled by the I/O thread)
    cdef unsigned long long next_rid
    cdef object out_conn            # the connection the message being sent goes to
    cdef set paused                 # connections not read while inq is at RCVHWM

    def __cinit__(self):
        self.lb_fast = False
        self.fq_fast = False
        self.always_out = True
        self.attach_late = True  # (no pipe is ever attached)
        self.raw = True
        self.by_rid = {}
        self.inq = deque()
        self.paused = set()
        self.next_rid = 0x6b8b4567

    cdef int xinit(self, SocketCore s) except -1:
        self.core = s
        return 0

    # ---- the I/O thread's side (with the GIL)
    def _opened(self, conn, rid):
        if not rid or rid in self.by_rid:
            self.next_rid += 1
            rid = b"\x00" + (self.next_rid & 0xFFFFFFFF).to_bytes(4, "big")
        self.by_rid[rid] = conn
        if self.core.options.get(STREAM_NOTIFY, 1):
            self._deliver([rid, b""])
        return rid

    def _received(self, conn, bytes data):
        self._deliver([conn.rid, data])
        if self.core.rcvhwm > 0 and len(self.inq) >= self.core.rcvhwm:
            conn.reading = False  # RCVHWM: stop reading it until the user catches up
            self.paused.add(conn)

    def _closed(self, conn):
        if self.by_rid.get(conn.rid) is conn:
            del self.by_rid[conn.rid]
            if self.core.options.get(STREAM_NOTIFY, 1) and not self.core.closed:
                self._deliver([conn.rid, b""])

    def _deliver(self, list msg):
        if self.core.closed:  # (its fd may be closed already)
            return
        self.inq.append(msg)
        self.core._signal()

    # ---- send: [id, data]
    cdef bint xbegin(self, SocketCore s, bytes first, int flags) except -1:
        conn = self.by_rid.get(first)
        if conn is None:
            s.out_drop = True
            raise ZMQError(EHOSTUNREACH, "Host unreachable (no connection with that routing id)")
        self._wait_room(s, conn, flags)
        self.out_conn = conn
        return False

    cdef int _wait_room(self, SocketCore s, conn, int flags) except -1:
        """SNDHWM: block (per SNDTIMEO) while conn has that many messages unwritten."""
        cdef double deadline = 0
        if s.sndhwm <= 0 or conn.queued < s.sndhwm:
            return 0
        if flags & DONTWAIT or s.sndtimeo == 0:
            raise Again()
        if s.sndtimeo > 0:
            deadline = time.monotonic() + s.sndtimeo / 1000.0
        while conn.active and conn.queued >= s.sndhwm:
            conn.want_room = True
            s._arm_both()
            if not conn.active or conn.queued < s.sndhwm:
                s._disarm_both()
                break
            if s._wait_armed(s.sndtimeo, deadline) and conn.queued >= s.sndhwm:
                raise Again()
        return 0

    cdef int xsend_one(self, SocketCore s, bytes data, int flags) except -1:
        return 0  # an id frame alone (no SNDMORE): nothing to send, as libzmq

    cdef int xsend(self, SocketCore s, list frames, int flags) except -1:
        conn = self.out_conn
        self.out_conn = None
        if conn is None:
            return 0
        data = b"".join(frames)
        if data:
            conn.queued += 1
            conn.io.call(conn.write, data)
        else:
            conn.io.call(conn.close_soon)
        return 0

    # ---- recv
    cdef list xrecv(self, SocketCore s, int flags):
        while True:
            if self.inq:
                msg = self.inq.popleft()
                if self.paused and len(self.inq) <= s.rcvhwm // 2:
                    for conn in self.paused:
                        conn.io.call(conn.resume_read)
                    self.paused.clear()
                return msg
            s._block_readable(flags)

    cdef bint xreadable(self, SocketCore s) except -1:
        return len(self.inq) > 0

    cdef int xclose(self, SocketCore s) except -1:
        self.inq.clear()
        return 0


register(_c.STREAM, "STREAM", StreamType)

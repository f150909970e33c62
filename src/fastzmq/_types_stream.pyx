# cython: language_level=3
"""STREAM: raw TCP to non-ZMQ peers (libzmq's ZMQ_STREAM).

Each connection (``_stream.RawConnection``, I/O thread) has a routing id (generated, or
CONNECT_ROUTING_ID for a connect()); what it reads is received as [id, bytes]; a send
is [id (SNDMORE), bytes], written as is; [id, b""] closes that connection once what was
sent before is written. With STREAM_NOTIFY (default on) a connection and a
disconnection are each received as [id, b""]. TCP connections have no pipes: messages in
are queued on the type, sends go to the I/O thread as calls.

Over inproc (as libzmq: any socket type of the context may be the peer, bind or connect
first) each peer is a pipe with a routing id of its own (generated, or
CONNECT_ROUTING_ID for a connect()): a peer's message is received as [id, data] (a
multipart one as its frames joined: STREAM data is a byte stream; libzmq aborts on it),
[id, data] writes data to the peer as one frame, [id, b""] disconnects it, and, as in
libzmq, neither is announced by a [id, b""] (STREAM_NOTIFY is the TCP engine's). A full
pipe makes the id frame's send wait per SNDTIMEO (DONTWAIT: Again), as libzmq's EAGAIN.
"""

import time
from collections import deque

from fastzmq._pipe cimport Pipe
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
    cdef dict by_rid                # routing id -> RawConnection (tcp/ipc) or Pipe (inproc)
    cdef object inq                 # deque of [id, bytes] for the user (filled by the I/O thread)
    cdef unsigned long long next_rid
    cdef object out_conn            # the connection the message being sent goes to
    cdef set paused                 # connections not read while inq is at RCVHWM

    def __cinit__(self):
        self.lb_fast = False
        self.fq_fast = False
        self.always_out = True
        self.attach_late = True  # (tcp/ipc attach no pipe; inproc's attach at once)
        self.raw = True
        self.by_rid = {}
        self.inq = deque()
        self.paused = set()
        self.next_rid = 0x6b8b4567

    cdef int xinit(self, SocketCore s) except -1:
        self.core = s
        return 0

    cdef bytes _new_rid(self, rid):
        if not rid or rid in self.by_rid:
            self.next_rid += 1
            rid = b"\x00" + (self.next_rid & 0xFFFFFFFF).to_bytes(4, "big")
        return rid

    # ---- inproc peers: pipes (the socket's thread)
    cdef bint xattach(self, SocketCore s, Pipe p) except -1:
        # a connect()'s end (it has a twin) keeps CONNECT_ROUTING_ID (_inproc.connect
        # leaves b"" without it); a bind's end always gets a generated id
        rid = self._new_rid(p.routing_id if p.twin is not None else None)
        p.routing_id = rid
        self.by_rid[rid] = p
        return True

    cdef bint xdetach(self, SocketCore s, Pipe p) except -1:
        if self.by_rid.get(p.routing_id) is p:
            del self.by_rid[p.routing_id]
        return True

    cdef list xfilter(self, SocketCore s, Pipe p, list msg):
        if len(msg) == 1 and type(msg[0]) is bytes:
            return [p.routing_id, msg[0]]
        return [p.routing_id, b"".join([bytes(f) for f in msg])]

    # ---- the I/O thread's side (with the GIL)
    def _opened(self, conn, rid):
        rid = self._new_rid(rid)
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
        if type(conn) is Pipe:
            self._wait_pipe(s, <Pipe>conn, flags)
            self.out_conn = conn
            return False
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

    cdef int _wait_pipe(self, SocketCore s, Pipe p, int flags) except -1:
        """An inproc peer's pipe full: libzmq's id frame is EAGAIN, which a blocking send
        waits out per SNDTIMEO (the peer reading frees room and wakes us)."""
        cdef double deadline = 0
        if p.can_write():
            return 0
        if s.sndtimeo > 0:
            deadline = time.monotonic() + s.sndtimeo / 1000.0
        while not p.can_write() and not p.detached:
            if flags & DONTWAIT or s.sndtimeo == 0:
                s.out_drop = True
                raise Again()
            s._arm_both()
            if p.can_write() or p.detached:
                s._disarm_both()
                break
            if s._wait_armed(s.sndtimeo, deadline) and not p.can_write():
                s.out_drop = True
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
        if type(conn) is Pipe:
            if data:
                (<Pipe>conn).write_one(data)
            elif not (<Pipe>conn).detached:
                from fastzmq import _inproc

                _inproc.disconnect_pipe(s, conn)  # [id, b""]: libzmq terminates the pipe
            return 0
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
            if s.pipes:
                try:
                    return s._fq_recv(flags | DONTWAIT)  # an inproc peer's (xfilter)
                except Again:
                    pass
            s._block_readable(flags)

    cdef bint xreadable(self, SocketCore s) except -1:
        return len(self.inq) > 0 or (len(s.pipes) > 0 and s._pipes_readable())

    cdef int xclose(self, SocketCore s) except -1:
        self.inq.clear()
        return 0


register(_c.STREAM, "STREAM", StreamType)

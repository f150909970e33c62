# cython: language_level=3
"""The routing family: ROUTER, and REP over ROUTER.

ROUTER names each pipe by its peer's routing id (or one it makes up) and routes each
outgoing message by its first frame; what it receives gets the sender's id in front.
REP is a ROUTER that keeps the request's envelope (the frames up to the empty delimiter)
aside and puts it back in front of the one reply.
"""

from collections import deque

from fastzmq._pipe cimport Pipe
from fastzmq._socket cimport SocketCore, TypeBase

from fastzmq import constants as _c
from fastzmq._socket import register
from fastzmq.error import Again, ZMQError

cdef enum:
    DONTWAIT = 1

cdef int EFSM = _c.EFSM
cdef int EHOSTUNREACH = _c.EHOSTUNREACH


cdef class RouterType(TypeBase):
    """ROUTER: route by identity out, fair-queue in (id frame first); ROUTER_MANDATORY,
    ROUTER_HANDOVER, ROUTER_NOTIFY."""

    cdef dict pipe_by_rid           # routing id -> Pipe
    cdef dict parked                # routing id -> pipes refused as duplicates
    cdef unsigned long long next_rid
    cdef object notify_queue        # ROUTER_NOTIFY: deque of [routing id, b""] messages

    def __cinit__(self):
        self.lb_fast = False
        self.fq_fast = False
        self.always_out = True
        self.attach_late = True  # its pipe is named by the peer's routing id
        self.wake_on_detach = True  # ROUTER_NOTIFY, parked peers
        self.pipe_by_rid = {}
        self.parked = {}
        self.next_rid = 0x6b8b4567

    # ---- pipes: every one under a routing id
    cdef bint xattach(self, SocketCore s, Pipe p) except -1:
        return self._assign_routing_id(s, p)

    cdef bint _assign_routing_id(self, SocketCore s, Pipe pipe) except -1:
        """Register pipe under its peer's routing id (or a generated one); False if the id
        is taken: libzmq ignores that peer until the id is free, unless ROUTER_HANDOVER,
        which gives the id to the newcomer and disconnects the old peer."""
        cdef Pipe old
        rid = pipe.routing_id
        if not rid:
            rid = self._new_rid()
        elif rid in self.pipe_by_rid:
            if not s.router_handover:
                self.parked.setdefault(rid, []).append(pipe)
                return False
            old = self.pipe_by_rid.pop(rid)
            old.routing_id = self._new_rid()
            old.detached = True
            owner = old.owner
            if owner is not None and hasattr(owner, "close_pipe"):
                owner.io.call(owner.close_pipe, old)  # a wire peer: close its connection
        pipe.routing_id = rid
        self.pipe_by_rid[rid] = pipe
        return True

    def _new_rid(self):
        self.next_rid += 1
        return b"\x00" + (self.next_rid & 0xFFFFFFFF).to_bytes(4, "big")

    def _unpark(self, SocketCore s, rid):
        """A routing id is free: the first peer refused under it takes it."""
        cdef Pipe p
        waiting = self.parked.get(rid)
        while waiting:
            p = waiting.pop(0)
            if not p.detached:
                if not waiting:
                    del self.parked[rid]
                self.pipe_by_rid[p.routing_id] = p
                s._adopt(p)
                return
        self.parked.pop(rid, None)

    cdef bint xdetach(self, SocketCore s, Pipe pipe) except -1:
        rid = pipe.routing_id
        waiting = self.parked.get(rid) if rid is not None else None
        if waiting and pipe in waiting:  # refused as a duplicate, never attached
            waiting.remove(pipe)
            if not waiting:
                del self.parked[rid]
            return False
        if rid is not None and self.pipe_by_rid.get(rid) is pipe:
            del self.pipe_by_rid[rid]
            if s.router_notify & 2 and pipe.connected:
                # (a connecter's pipe whose connection died was notified then)
                self._notify(s, rid)
            if rid in self.parked:
                self._unpark(s, rid)
        return True

    cdef int xconnected(self, SocketCore s, Pipe p, int how) except -1:
        if p.routing_id is None:
            return 0
        if how and s.router_notify & 1:
            self._notify(s, p.routing_id)
        elif not how and s.router_notify & 2 and not p.detached:
            self._notify(s, p.routing_id)
        return 0

    cdef int _notify(self, SocketCore s, bytes rid) except -1:
        """ROUTER_NOTIFY: a [routing id, empty] message for the user."""
        if self.notify_queue is None:
            self.notify_queue = deque()
        self.notify_queue.append([rid, b""])
        s._signal()
        return 0

    cdef int xclose(self, SocketCore s) except -1:
        self.pipe_by_rid.clear()
        self.parked.clear()
        self.notify_queue = None
        return 0

    # ---- send: the first frame names the pipe
    cdef bint xbegin(self, SocketCore s, bytes first, int flags) except -1:
        self._pick_route(s, first, flags)
        return False  # the routing id is not sent on the wire

    cdef int _pick_route(self, SocketCore s, bytes rid, int flags) except -1:
        cdef Pipe p = self.pipe_by_rid.get(rid)
        if p is None or p.detached:
            if s.router_mandatory:
                raise ZMQError(EHOSTUNREACH, "Host unreachable (no peer with that routing id)")
            s.out_drop = True
            s.dropped_unroutable += 1
            return 0
        if not p.can_write():
            if s.router_mandatory:
                if flags & DONTWAIT or s.sndtimeo == 0:
                    raise Again()
            else:
                s.out_drop = True
                return 0
        s.out_pipe = p
        return 0

    cdef int xsend_one(self, SocketCore s, bytes data, int flags) except -1:
        # a single frame that is only a routing id: nothing to send
        s.out_pipe = None
        self._pick_route(s, data, flags)
        s.out_pipe = None
        return 0

    cdef int xsend(self, SocketCore s, list frames, int flags) except -1:
        cdef Pipe p = s.out_pipe
        s.out_pipe = None
        if s.out_drop or p is None:
            return 0
        p.write_msg(frames)
        return 0

    # ---- recv: the sender's id in front
    cdef list xqueued(self, SocketCore s):
        if self.notify_queue:
            return self.notify_queue.popleft()
        return None

    cdef list xfilter(self, SocketCore s, Pipe p, list msg):
        return [p.routing_id] + msg

    cdef bint xreadable(self, SocketCore s) except -1:
        if self.notify_queue:
            return True
        return s._pipes_readable()


cdef class RepType(RouterType):
    """REP: a ROUTER that strips the request's envelope and puts it back on the reply;
    strictly recv, send, recv, send..."""

    cdef list rep_envelope          # the request's envelope, delimiter included
    cdef bint rep_pending           # a request was received, a reply is due
    cdef Pipe rep_pipe              # where the reply goes

    def __cinit__(self):
        self.attach_late = False  # the requester's id arrives with each request
        self.wake_on_detach = False  # (a REP blocked in recv would wake for nothing)

    cdef int xclose(self, SocketCore s) except -1:
        RouterType.xclose(self, s)
        self.rep_pipe = None  # (a pipe kept here would keep the closed socket alive)
        self.rep_envelope = None
        return 0

    cdef bint xbegin(self, SocketCore s, bytes first, int flags) except -1:
        if not self.rep_pending:
            raise ZMQError(EFSM)
        return True

    cdef int xsend_one(self, SocketCore s, bytes data, int flags) except -1:
        return self.xsend(s, [data], flags)

    cdef int xsend(self, SocketCore s, list frames, int flags) except -1:
        s.out_pipe = None
        if not self.rep_pending:
            raise ZMQError(EFSM)
        self.rep_pending = False
        cdef Pipe p = self.rep_pipe
        self.rep_pipe = None
        envelope = self.rep_envelope
        self.rep_envelope = None
        if p is not None and not p.detached:
            p.write_msg(envelope + frames)
        elif s.router_mandatory:
            raise ZMQError(EHOSTUNREACH, "Host unreachable (the requester is gone)")
        return 0

    cdef list xrecv(self, SocketCore s, int flags):
        if self.rep_pending:
            raise ZMQError(EFSM)
        return s._fq_recv(flags)

    cdef list xfilter(self, SocketCore s, Pipe p, list msg):
        cdef Py_ssize_t i
        for i in range(len(msg)):
            if msg[i] == b"":
                self.rep_envelope = msg[: i + 1]
                self.rep_pipe = p
                self.rep_pending = True
                return msg[i + 1:] or [b""]
        return None  # no delimiter: not a request, drop it

    cdef int xevents(self, SocketCore s, int ev) except -1:
        return ev & ~1 if self.rep_pending else ev & ~2


register(_c.ROUTER, "ROUTER", RouterType)
register(_c.REP, "REP", RepType)

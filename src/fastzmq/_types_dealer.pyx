# cython: language_level=3
"""The load-balancing family: PAIR, PUSH, PULL, DEALER, and REQ over DEALER.

TypeBase's defaults are DEALER's (send load-balanced, receive fair-queued), so the
others say only how they differ: PUSH cannot receive, PULL cannot send, PAIR takes one
peer, REQ wraps each request in an RFC 28 envelope and alternates send / recv.
"""

import time

from fastzmq._pipe cimport Pipe
from fastzmq._socket cimport SocketCore, TypeBase

from fastzmq import constants as _c
from fastzmq._socket import register
from fastzmq.error import ZMQError

cdef int EFSM = _c.EFSM


cdef class DealerType(TypeBase):
    """DEALER: load-balance out, fair-queue in (TypeBase's defaults)."""


cdef class PairType(TypeBase):
    """PAIR: DEALER's strategies over one peer; a second one is refused."""

    cdef bint xattach(self, SocketCore s, Pipe p) except -1:
        if s._live_pipes() >= 1:
            p.detached = True
            return False
        return True


cdef class PushType(TypeBase):
    """PUSH: load-balance out; no receiving."""

    def __cinit__(self):
        self.can_recv = False


cdef class PullType(TypeBase):
    """PULL: fair-queue in; no sending."""

    def __cinit__(self):
        self.can_send = False


cdef class ReqType(DealerType):
    """REQ: a request (an empty delimiter frame first, with REQ_CORRELATE a request id
    before it) to the load-balanced pipe, then only that pipe's reply (REQ_RELAXED: a
    new request may go out before, and a reply from any pipe is taken)."""

    cdef bint req_sent              # a request is out, a reply is due
    cdef Pipe req_pipe              # where the request went
    cdef bytes req_id               # REQ_CORRELATE: the id frame of the request that is out
    cdef unsigned int req_counter   # REQ_CORRELATE: the last request id used

    def __cinit__(self):
        self.lb_fast = False  # every message gets an envelope
        self.fq_fast = False
        self.req_counter = <unsigned int>(time.monotonic_ns() & 0xFFFFFFFF)

    cdef int xclose(self, SocketCore s) except -1:
        self.req_pipe = None  # (a pipe kept here would keep the closed socket alive)
        return 0

    cdef bint xbegin(self, SocketCore s, bytes first, int flags) except -1:
        if self.req_sent and not s.req_relaxed:
            raise ZMQError(EFSM)
        s.out_pipe = s._wait_writable(flags)
        return True

    cdef int xsend(self, SocketCore s, list frames, int flags) except -1:
        cdef Pipe p = s.out_pipe
        s.out_pipe = None
        if self.req_sent and not s.req_relaxed:
            raise ZMQError(EFSM)
        if p is None:
            p = s._wait_writable(flags)
        if s.req_correlate:
            # REQ_CORRELATE: a request id frame before the delimiter; only the reply
            # echoing it is accepted
            self.req_counter = (self.req_counter + 1) & 0xFFFFFFFF
            self.req_id = self.req_counter.to_bytes(4, "big")
            p.write_msg([self.req_id, b""] + frames)
        else:
            self.req_id = None
            p.write_msg([b""] + frames)
        self.req_sent = True
        self.req_pipe = p
        s.in_parts = None
        return 0

    cdef list xrecv(self, SocketCore s, int flags):
        if not self.req_sent:
            raise ZMQError(EFSM)
        return s._fq_recv(flags)

    cdef list xfilter(self, SocketCore s, Pipe p, list msg):
        if p is not self.req_pipe and not s.req_relaxed:
            return None  # a late reply from another peer
        if self.req_id is not None:
            if len(msg) < 3 or msg[0] != self.req_id:
                return None  # not the reply to the request that is out
            msg = msg[1:]
        if len(msg) < 2 or msg[0] != b"":
            return None  # malformed: no empty delimiter
        self.req_sent = False
        return msg[1:]

    cdef int xevents(self, SocketCore s, int ev) except -1:
        return ev & ~2 if self.req_sent else ev & ~1


register(_c.PAIR, "PAIR", PairType)
register(_c.PUSH, "PUSH", PushType)
register(_c.PULL, "PULL", PullType)
register(_c.DEALER, "DEALER", DealerType)
register(_c.REQ, "REQ", ReqType)

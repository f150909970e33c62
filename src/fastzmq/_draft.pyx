# cython: language_level=3, boundscheck=False, wraparound=False
"""The draft socket types: CLIENT, SERVER, RADIO, DISH, SCATTER, GATHER, PEER, CHANNEL, DGRAM.

Theory of operation
-------------------
``DraftCore`` extends the socket core with what the draft types share: single-part
messages (RFC 41/48/49/51: SNDMORE raises EINVAL, a multipart message from a peer is
dropped), a routing id per peer (SERVER, PEER: a uint32, libzmq's rule), groups
(RADIO/DISH: JOIN/LEAVE as ZMTP 3.1 commands over tcp/ipc/inproc, a group frame before
each body), and DGRAM's [address, body] pairs over ``udp://`` (``_udp.py``). It reuses
the core's pipes, mailbox and waiters. Each type is a registered ``TypeBase`` subclass
(``ClientType``, ``ServerType``...; families ``_LbType``, ``_RoutedType``, ``_OnePeerType``)
holding its own state and ``d_*`` hooks: which pipes it takes, where a message goes,
what a message from a pipe carries (routing id, group), which commands it heeds:

    type      send                               recv
    CLIENT    load-balanced (blocks at SNDHWM)   fair-queued
    SERVER    to routing_id (EHOSTUNREACH)       fair-queued, routing_id set
    PEER      as SERVER; connect_peer -> id      as SERVER
    CHANNEL   to its one peer                    from its one peer
    SCATTER   load-balanced                      ENOTSUP
    GATHER    ENOTSUP                            fair-queued
    RADIO     to the pipes that joined the       ENOTSUP
              group, and every udp destination
              (lossy unless XPUB_NODROP)
    DISH      ENOTSUP (join/leave instead)       fair-queued, only joined groups
    DGRAM     [address, body] as datagrams       [address, body]

Thread safety (libzmq makes every draft type but DGRAM thread-safe): each operation's
non-blocking part runs under a per-socket lock (a PyThread lock, taken with the GIL
held, never held across a wait). A blocked call sleeps on the socket's FD, like a
classic socket, but several threads may sleep at once: the counts ``rsleep``/``wsleep``
say how many wait to read/write, and whoever wakes (or takes a message, or polls
EVENTS) while others still sleep re-arms their flags and signals the FD if what they
wait for is there (the *baton*), so no wake-up is lost when one thread drains the FD
that another was about to sleep on. Spinning before sleeping is kept for a lone sleeper.
"""

import time

from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.pythread cimport (
    NOWAIT_LOCK,
    WAIT_LOCK,
    PyThread_acquire_lock,
    PyThread_allocate_lock,
    PyThread_free_lock,
    PyThread_release_lock,
    PyThread_type_lock,
)
from libc.stdint cimport uint32_t

from fastzmq._frame cimport FRAME_COMMAND, FRAME_MORE
from fastzmq._pipe cimport PIPE_INPROC, Pipe
from fastzmq._socket cimport SocketCore, TypeBase
from fastzmq._waiter cimport (
    waiter_arm,
    waiter_disarm,
    waiter_drain,
    waiter_signal,
    waiter_spin,
    waiter_spin_budget,
)

import os

from fastzmq import constants as _c
from fastzmq.error import Again, ContextTerminated, ZMQError
from fastzmq._framebuf import received as _received
from fastzmq.message import Frame

from fastzmq._pipe import _InprocCommand
from fastzmq._socket import register

cdef enum:
    SERVER = 12
    CLIENT = 13
    RADIO = 14
    DISH = 15
    GATHER = 16
    SCATTER = 17
    DGRAM = 18
    PEER = 19
    CHANNEL = 20
    DONTWAIT = 1
    SNDMORE = 2
    GROUP_MAX = 255

cdef int EAGAIN = _c.EAGAIN
cdef int EINVAL = _c.EINVAL
cdef int ENOTSUP = _c.ENOTSUP
cdef int EHOSTUNREACH = _c.EHOSTUNREACH

DRAFT_TYPE_NAMES = {
    SERVER: "SERVER", CLIENT: "CLIENT", RADIO: "RADIO", DISH: "DISH", GATHER: "GATHER",
    SCATTER: "SCATTER", DGRAM: "DGRAM", PEER: "PEER", CHANNEL: "CHANNEL",
}
# the types libzmq makes thread-safe (ZMQ_THREAD_SAFE reads 1)
THREAD_SAFE_TYPES = frozenset({SERVER, CLIENT, RADIO, DISH, GATHER, SCATTER, PEER, CHANNEL})
# the types that may use udp:// (libzmq: ENOCOMPATPROTO for the others)
UDP_TYPES = frozenset({RADIO, DISH, DGRAM})

cdef class _DraftType(TypeBase):
    """A draft type's own part: its name (READY's Socket-Type), the flags the core and the
    transports read, its per-pipe state and the d_* hooks DraftCore calls under the
    socket's lock. (libzmq's draft types are thread-safe: each whole operation runs under
    that lock and blocks with several sleepers, so DraftCore drives send/recv itself and
    the core's single-threaded x* send/recv hooks are not used.)"""

    cdef bint pairs     # messages are [first, body] pairs (DISH: group; DGRAM: address)

    def __cinit__(self):
        self.lb_fast = False
        self.fq_fast = False
        self.always_out = True
        self.attach_late = False
        self.wake_on_detach = False
        self.wake_on_activate = False

    cdef bint d_attach(self, list pipes, Pipe p) except -1:
        """A new pipe: False refuses it (it is marked detached and never used)."""
        return True

    cdef int d_detach(self, Pipe p) except -1:
        """The peer of p is gone: forget what refers to it."""
        return 0

    cdef int d_command(self, Pipe p, bytes name, bytes data) except -1:
        """A ZMTP command from p's peer (JOIN/LEAVE for a RADIO)."""
        return 0

    cdef bint d_accept(self, object first) except -1:
        """pairs: does the message whose first frame is this reach the user?"""
        return True

    cdef uint32_t d_rid(self, Pipe p) noexcept:
        """The routing id a message from p carries (0: none)."""
        return 0

    cdef Pipe d_out(self, SocketCore s, uint32_t rid):
        """The pipe for the next message, None if it must wait (no room, no peer)."""
        return None


cdef class _LbType(_DraftType):
    """CLIENT, SCATTER: load-balanced over the pipes with room (the core's round robin)."""

    cdef Pipe d_out(self, SocketCore s, uint32_t rid):
        return s._lb_pick()


cdef class ClientType(_LbType):
    pass


cdef class ScatterType(_LbType):
    def __cinit__(self):
        self.can_recv = False


cdef class GatherType(_DraftType):
    def __cinit__(self):
        self.can_send = False


cdef class _RoutedType(_DraftType):
    """SERVER, PEER: each peer gets a uint32 routing id (libzmq: from a random start)."""

    cdef uint32_t next_rid
    cdef dict rid_pipe      # routing id -> Pipe
    cdef dict pipe_rid      # pipe_id -> routing id

    def __cinit__(self):
        self.next_rid = <uint32_t>(int.from_bytes(os.urandom(4), "little") | 1)
        self.rid_pipe = {}
        self.pipe_rid = {}

    cdef bint d_attach(self, list pipes, Pipe p) except -1:
        self.next_rid += 1
        if self.next_rid == 0:
            self.next_rid = 1
        self.rid_pipe[self.next_rid] = p
        self.pipe_rid[p.pipe_id] = self.next_rid
        return True

    cdef int d_detach(self, Pipe p) except -1:
        rid = self.pipe_rid.pop(p.pipe_id, None)
        if rid is not None and self.rid_pipe.get(rid) is p:
            del self.rid_pipe[rid]
        return 0

    cdef uint32_t d_rid(self, Pipe p) noexcept:
        cdef object rid = self.pipe_rid.get(p.pipe_id)
        return 0 if rid is None else <uint32_t>rid

    cdef Pipe d_out(self, SocketCore s, uint32_t rid):
        cdef Pipe p = self.rid_pipe.get(rid)
        if p is None or p.detached:
            raise ZMQError(EHOSTUNREACH, f"no peer with routing id {rid}")
        return p if p.can_write() else None

    def rid_of(self, Pipe p):
        return self.pipe_rid.get(p.pipe_id, 0)


cdef class ServerType(_RoutedType):
    pass


cdef class PeerType(_RoutedType):
    pass


cdef class _OnePeerType(_DraftType):
    """CHANNEL: one peer (libzmq refuses the others)."""

    cdef bint d_attach(self, list pipes, Pipe p) except -1:
        cdef Pipe q
        for q in pipes:
            if not q.detached:
                return False
        return True

    cdef Pipe d_out(self, SocketCore s, uint32_t rid):
        cdef Pipe p
        for p in s.pipes:
            if not p.detached:
                return p if p.can_write() else None
        return None


cdef class ChannelType(_OnePeerType):
    pass


cdef class DgramType(_DraftType):
    """DGRAM: a pipe per udp endpoint (only udp:// reaches it), fair-queued; sends go out
    through ``udp_out`` (``_udp.py``), never a pipe."""

    def __cinit__(self):
        self.pairs = True


cdef class RadioType(_DraftType):
    """Groups joined by each peer (JOIN/LEAVE commands): group -> pipes."""

    cdef dict groups

    def __cinit__(self):
        self.can_recv = False
        self.groups = {}

    cdef int d_command(self, Pipe p, bytes name, bytes data) except -1:
        cdef list members
        if name == b"JOIN":
            members = self.groups.setdefault(data, [])
            if p not in members:
                members.append(p)  # (a repeated JOIN, after a reconnection: once)
        elif name == b"LEAVE":
            members = self.groups.get(data)
            if members is not None and p in members:
                members.remove(p)
                if not members:
                    del self.groups[data]
        return 0

    cdef int d_detach(self, Pipe p) except -1:
        for g in list(self.groups):
            members = self.groups[g]
            if p in members:
                members.remove(p)
                if not members:
                    del self.groups[g]
        return 0

    cdef int xconnected(self, SocketCore s, Pipe p, int how) except -1:
        if how == 0:  # the connection is down: the next one JOINs afresh
            self.d_detach(p)
        return 0


cdef class DishType(_DraftType):
    """Our groups; JOINs go to every new peer, and again on every reconnection."""

    cdef set joined

    def __cinit__(self):
        self.can_send = False
        self.pairs = True
        self.joined = set()

    cdef bint d_attach(self, list pipes, Pipe p) except -1:
        self.send_joins(p)
        return True

    cdef int send_joins(self, Pipe p) except -1:
        if p.endpoint is not None and str(p.endpoint).startswith("udp://"):
            return 0  # a udp pipe only brings datagrams in
        for g in self.joined:
            p.write_command(b"JOIN", g)
        return 0

    cdef bint d_accept(self, object first) except -1:
        return first in self.joined  # (udp brings every group: filtered here)

    cdef int xconnected(self, SocketCore s, Pipe p, int how) except -1:
        if how == 1:  # a new connection of a connect()'s pipe: the RADIO knows nothing yet
            self.send_joins(p)
        return 0


for _t, _cls in (
    (SERVER, ServerType), (CLIENT, ClientType), (RADIO, RadioType), (DISH, DishType),
    (GATHER, GatherType), (SCATTER, ScatterType), (DGRAM, DgramType), (PEER, PeerType),
    (CHANNEL, ChannelType),
):
    register(_t, DRAFT_TYPE_NAMES[_t], _cls)


cdef inline bint _sends(int t) noexcept:
    return t != GATHER and t != DISH


cdef inline bint _recvs(int t) noexcept:
    return t != SCATTER and t != RADIO


cdef inline bint _by_id(int t) noexcept:
    return t == SERVER or t == PEER


cdef bytes _as_bytes(object data):
    if type(data) is bytes:
        return <bytes>data
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    if isinstance(data, Frame):
        return data.bytes
    return memoryview(data).tobytes()


cdef bytes _group_bytes(object group):
    cdef bytes g
    if isinstance(group, str):
        g = (<str>group).encode("utf-8", "surrogateescape")
    elif isinstance(group, bytes):
        g = <bytes>group
    else:
        raise TypeError(f"group must be str or bytes, not {type(group).__name__}")
    if PyBytes_GET_SIZE(g) > GROUP_MAX:
        raise ZMQError(EINVAL, "a group is at most 255 bytes")
    return g


cdef class DraftCore(SocketCore):
    cdef PyThread_type_lock lk
    cdef int rsleep, wsleep         # threads sleeping to read / to write (under lk)
    cdef _DraftType t_              # self.impl, typed: the type's own part (d_* hooks)
    cdef public list udp_out        # RADIO/DGRAM: udp senders (``_udp.Sender``)
    # the message _take returned: its body, routing id (SERVER/PEER) and first frame (DISH:
    # the group, DGRAM: the address); a message read ahead (EVENTS, DISH filter) is "held"
    cdef object in_body
    cdef uint32_t in_rid
    cdef object in_first
    cdef bint held
    cdef bint more_out              # DGRAM: the address frame is sent, the body is due
    cdef bytes dgram_addr
    cdef object dgram_body          # DGRAM: the body of the pair whose address was returned
    cdef public object last_attached  # the pipe attached last (connect_peer)
    cdef public bint nodrop         # RADIO: XPUB_NODROP (block/EAGAIN instead of dropping)

    def __cinit__(self, *args, **kwargs):
        self.lk = PyThread_allocate_lock()
        if self.lk == NULL:
            raise MemoryError()
        self.udp_out = []

    def __dealloc__(self):
        if self.lk != NULL:
            PyThread_free_lock(self.lk)

    def _init_core(self, int socket_type):
        if socket_type not in DRAFT_TYPE_NAMES:
            raise ZMQError(EINVAL, f"Invalid socket type: {socket_type}")
        SocketCore._init_core(self, socket_type)  # its impl: the registered _DraftType
        self.t_ = <_DraftType>self.impl
        if socket_type == DISH or socket_type == DGRAM:
            self.linger = 0

    # ------------------------------------------------------------------ lock
    cdef inline int _lock(self) except -1:
        if not PyThread_acquire_lock(self.lk, NOWAIT_LOCK):
            with nogil:
                PyThread_acquire_lock(self.lk, WAIT_LOCK)
        return 0

    cdef inline void _unlock(self) noexcept:
        PyThread_release_lock(self.lk)

    # ------------------------------------------------------------------ pipes
    def _attach(self, Pipe pipe, bint fresh=False):
        """As SocketCore._attach (``fresh``: no wake-up for a pipe no other thread saw)."""
        pipe.out.writer = &self.ww
        pipe.out._writer_ref = self
        pipe.inq.reader = &self.sig.w
        pipe.inq._reader_ref = self
        pipe.pipe_id = self.next_pipe_id
        self.next_pipe_id += 1
        if not self.t_.d_attach(self.pipes, pipe):
            pipe.detached = True  # refused (CHANNEL, DGRAM: one peer, as libzmq)
            return
        self.pipes.append(pipe)
        self.last_attached = pipe
        if not fresh:
            waiter_signal(&self.sig.w)

    def _drop_all_pipes(self):
        """close(): the type forgets every pipe too, and so does connect_peer's record (a
        pipe's rings hold this socket's waiters: a pipe kept would be a cycle)."""
        cdef Pipe p
        for p in self.pipes:
            self.t_.d_detach(p)
        SocketCore._drop_all_pipes(self)
        self.last_attached = None

    def _detach(self, Pipe pipe):
        pipe.detached = True
        self.t_.d_detach(pipe)
        if not pipe.has_msg():
            self._drop_pipe(pipe)

    # ------------------------------------------------------------------ commands
    cdef int _command(self, Pipe p, object frame) except -1:
        """A command frame from a peer, for the type (JOIN/LEAVE for a RADIO)."""
        cdef bytes name, data
        if type(frame) is _InprocCommand:
            name = frame.name
            data = frame.data
        else:
            n = (<bytes>frame)[0] if PyBytes_GET_SIZE(frame) else 0
            name = (<bytes>frame)[1:1 + n]
            data = (<bytes>frame)[1 + n:]
        return self.t_.d_command(p, name, data)

    cdef int _radio_update(self) except -1:
        """Read every pending JOIN/LEAVE (a RADIO's pipes carry nothing else)."""
        cdef Pipe p
        cdef int fl = 0
        cdef list gone = None
        for p in self.pipes:
            while p.has_msg():
                msg = p.read_msg(&fl)
                if msg is None:
                    break
                if fl & FRAME_COMMAND:
                    self._command(p, msg[0])
            if p.detached:
                if gone is None:
                    gone = []
                gone.append(p)
        if gone is not None:
            for p in gone:
                self._drop_pipe(p)
        return 0

    # ------------------------------------------------------------------ receiving
    cdef object _take(self):
        """The next message's body (in_rid, in_first set), or None (lock held)."""
        cdef list pipes = self.pipes
        cdef Py_ssize_t n, i, k
        cdef Pipe p
        cdef int fl = 0
        cdef int t = self.socket_type
        cdef object f, body
        cdef list gone = None
        if self.held:
            self.held = False
            return self.in_body
        if self.mailbox:
            self._process_mailbox()
        n = len(pipes)
        for i in range(n):
            k = (self.fq_idx + i) % n
            p = pipes[k]
            while p.has_msg():
                f = p.read_frame(&fl)
                if f is None:
                    break
                if fl & FRAME_COMMAND:
                    self._command(p, f)
                    continue
                if self.t_.pairs:
                    if not fl & FRAME_MORE:
                        continue  # not a [group, body] / [address, body] pair: dropped
                    body = p.read_frame(&fl)
                    if fl & FRAME_MORE:
                        self._skip_rest(p)
                        continue
                    if not self.t_.d_accept(f):
                        continue  # DISH: a group we did not join
                    self.in_first = f
                elif fl & FRAME_MORE:
                    self._skip_rest(p)  # single-part sockets drop multipart messages (libzmq)
                    continue
                else:
                    body = f
                self.fq_idx = k + 1
                self.in_rid = self.t_.d_rid(p)
                if gone is not None:
                    for p in gone:
                        self._drop_pipe(p)
                return body
            if p.detached:
                if gone is None:
                    gone = []
                gone.append(p)
        if gone is not None:
            for p in gone:
                self._drop_pipe(p)
        return None

    cdef int _skip_rest(self, Pipe p) except -1:
        """Drop the remaining frames of p's current message."""
        cdef int fl = FRAME_MORE
        while fl & FRAME_MORE:
            if p.read_frame(&fl) is None:
                break
        return 0

    cdef bint _readable(self):
        """Lock held: is a message there? (reads it ahead: held)."""
        if self.held or (self.socket_type == DGRAM and self.dgram_body is not None):
            return True
        if not _recvs(self.socket_type):
            if self.socket_type == RADIO:
                self._radio_update()
            return False
        body = self._take()
        if body is None:
            return False
        self.in_body = body
        self.held = True
        return True

    cdef bint _writable(self):
        cdef int t = self.socket_type
        cdef Pipe p
        if not _sends(t):
            return t == DISH  # libzmq: a DISH always reports POLLOUT (join/leave)
        if t == RADIO or t == SERVER or t == PEER:
            return True  # libzmq: xhas_out is always true for these
        if t == DGRAM:
            return len(self.udp_out) > 0
        for p in self.pipes:
            if p.can_write():
                return True
        return False

    # ------------------------------------------------------------------ waiting
    cdef int _pass_baton(self) except -1:
        """Lock held: others sleep; keep them armed, and wake them if their turn came."""
        cdef bint wake = False
        if self.rsleep > 0:
            waiter_arm(&self.sig.w)
            if self._readable():
                wake = True
        if self.wsleep > 0:
            waiter_arm(&self.ww)
            if self._writable():
                wake = True
        if wake:
            waiter_signal(&self.sig.w)
        return 0

    cdef int _sleep(self, bint for_write, int timeout_ms, double deadline) except -1:
        """Lock held on entry and on return: sleep on the FD (armed by the caller)
        until signalled or the deadline; returns 1 if the deadline has passed."""
        cdef int remaining = timeout_ms
        cdef bint woke = False
        cdef bint alone
        cdef long long spin_ns = waiter_spin_budget()
        if timeout_ms > 0:
            remaining = <int>((deadline - time.monotonic()) * 1000.0 + 0.999)
            if remaining <= 0:
                return 1
        if for_write:
            self.wsleep += 1
        else:
            self.rsleep += 1
        alone = self.rsleep + self.wsleep == 1
        self._unlock()
        try:
            if remaining > 0 and spin_ns > <long long>remaining * 1000000:
                spin_ns = <long long>remaining * 1000000
            if alone and remaining != 0 and spin_ns > 0:
                with nogil:
                    woke = waiter_spin(&self.sig.w, &self.ww, NULL, spin_ns, 0, -1)
            if not woke:
                self.sig.wait_c(remaining)
        finally:
            self._lock()
            if for_write:
                self.wsleep -= 1
            else:
                self.rsleep -= 1
        if self.rsleep == 0:
            waiter_disarm(&self.sig.w)
        if self.wsleep == 0:
            waiter_disarm(&self.ww)
        if not woke:
            waiter_drain(&self.sig.w)
        if self.ctx_term or self.closed:
            if self.rsleep or self.wsleep:
                waiter_signal(&self.sig.w)  # pass it on: every sleeper must see it
            if self.ctx_term:
                raise ContextTerminated()
            raise self._closed_error()
        if self.rsleep or self.wsleep:
            self._pass_baton()
        if self.mailbox:
            self._process_mailbox()
        if timeout_ms > 0 and time.monotonic() >= deadline:
            return 1
        return 0

    cdef int _enter_locked(self) except -1:
        if self.closed:
            raise self._closed_error()
        if self.ctx_term:
            raise ContextTerminated()
        if self.mailbox:
            self._process_mailbox()
        return 0

    # ------------------------------------------------------------------ recv
    cdef object _recv_one(self, int flags, bint as_frame):
        """The next message's body (a Frame with its routing id / group if as_frame),
        blocking per RCVTIMEO."""
        cdef object m
        cdef int t = self.socket_type
        cdef double deadline = 0
        cdef int timeo
        self._lock()
        try:
            self._enter_locked()
            if not _recvs(t):
                raise ZMQError(ENOTSUP, f"{DRAFT_TYPE_NAMES[t]} sockets cannot receive")
            if t == DGRAM and self.dgram_body is not None:
                m = self.dgram_body
                self.dgram_body = None
                self.in_first = None
                self.rcvmore = False
                return self._frame(m) if as_frame else m
            m = self._take()
            if m is None:
                timeo = self.rcvtimeo
                if flags & DONTWAIT or timeo == 0:
                    raise Again()
                if timeo > 0:
                    deadline = time.monotonic() + timeo / 1000.0
                while m is None:
                    waiter_arm(&self.sig.w)
                    m = self._take()
                    if m is not None:
                        if self.rsleep == 0:
                            waiter_disarm(&self.sig.w)
                        break
                    if self._sleep(False, timeo, deadline):
                        m = self._take()
                        if m is None:
                            raise Again()
            if self.rsleep or self.wsleep:
                self._pass_baton()
            if t == DGRAM:  # the address first, the body on the next call
                self.dgram_body = m
                self.rcvmore = True
                m = self.in_first
                self.in_first = None
            if as_frame:  # under the lock: in_rid / in_first are this message's
                m = self._frame(m)
        finally:
            self._unlock()
        return m

    def recv(self, int flags=0, bint copy=True, bint track=False):
        """One message (bytes; a Frame with .routing_id / .group with copy=False)."""
        if self.target is not None:  # a shadow: the socket's
            return DraftCore.recv(self.target, flags, copy, track)
        return self._recv_one(flags, not copy)

    cdef object _frame(self, object body):
        """A received Frame with the routing id / group of the message just taken."""
        f = _received(Frame, body, self.rcvmore, None)
        if self.socket_type == SERVER or self.socket_type == PEER:
            f._routing_id = self.in_rid
        elif self.socket_type == DISH:
            f._group = (<bytes>self.in_first).decode("utf-8", "surrogateescape")
        return f

    def recv_multipart(self, int flags=0, copy=True, track=False):
        if self.target is not None:
            return DraftCore.recv_multipart(self.target, flags, copy, track)
        cdef list parts = [self._recv_one(flags, not copy)]
        while self.rcvmore:  # DGRAM: the body after the address
            parts.append(self._recv_one(flags, not copy))
        return parts

    # ------------------------------------------------------------------ send
    def send(self, data, int flags=0, bint copy=True, bint track=False, routing_id=None,
             group=None):
        """Send one message: ``routing_id`` (SERVER, PEER) and ``group`` (RADIO) as
        pyzmq's draft API, or carried by a Frame (``frame.routing_id``/``frame.group``)."""
        if self.target is not None:
            return DraftCore.send(self.target, data, flags, copy, track, routing_id, group)
        cdef int t = self.socket_type
        cdef bytes body
        if type(data) is bytes and not track and not flags & SNDMORE and t != DGRAM:
            self._send_one(<bytes>data, flags, routing_id, group)  # the common case
            return None
        tracker = None
        if isinstance(data, Frame):
            if routing_id is None and data._routing_id:
                routing_id = data._routing_id
            if group is None and data._group:
                group = data._group
            tracker = data.tracker
            if track and tracker is None:
                raise ValueError("Not a tracked message")
        body = _as_bytes(data)
        if t == DGRAM:
            self._send_dgram(body, flags)
        else:
            if flags & SNDMORE:
                raise ZMQError(EINVAL, f"{DRAFT_TYPE_NAMES[t]} sockets send single-part messages")
            self._send_one(body, flags, routing_id, group)
        if tracker is not None and (track or not copy):
            return tracker  # the frame's own (we copied: nothing else to wait for)
        if track:
            from fastzmq.message import _FINISHED_TRACKER
            return _FINISHED_TRACKER
        return None

    def send_multipart(self, msg_parts, int flags=0, copy=True, track=False, **kwargs):
        if self.target is not None:
            return DraftCore.send_multipart(self.target, msg_parts, flags, copy, track, **kwargs)
        parts = list(msg_parts)
        if not parts:
            raise ValueError("cannot send an empty multipart message")
        if self.socket_type == DGRAM:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                self.send(part, flags if last else flags | SNDMORE, copy, track)
            return None
        if len(parts) > 1 or flags & SNDMORE:
            raise ZMQError(EINVAL, f"{DRAFT_TYPE_NAMES[self.socket_type]} sockets send single-part messages")
        return self.send(parts[0], flags, copy, track, **kwargs)

    cdef int _send_one(self, bytes body, int flags, object routing_id, object group) except -1:
        cdef int t = self.socket_type
        cdef Pipe p = None
        cdef double deadline = 0
        cdef int timeo
        cdef bytes g = None
        cdef uint32_t rid = 0
        if not _sends(t):
            raise ZMQError(ENOTSUP, f"{DRAFT_TYPE_NAMES[t]} sockets cannot send")
        if _by_id(t):
            if routing_id is None or not isinstance(routing_id, int) or not 0 < routing_id < 2**32:
                raise ZMQError(EHOSTUNREACH, "a SERVER/PEER message needs the routing_id of a peer")
            rid = routing_id
        if t == RADIO:
            g = _group_bytes(group if group is not None else b"")
        self._lock()
        try:
            self._enter_locked()
            if t == RADIO:
                self._radio_send(g, body, flags)
                return 0
            p = self._out_pipe(rid)
            if p is None:
                timeo = self.sndtimeo
                if flags & DONTWAIT or timeo == 0:
                    raise Again()
                if timeo > 0:
                    deadline = time.monotonic() + timeo / 1000.0
                while p is None:
                    waiter_arm(&self.ww)
                    p = self._out_pipe(rid)
                    if p is not None:
                        if self.wsleep == 0:
                            waiter_disarm(&self.ww)
                        break
                    if self._sleep(True, timeo, deadline):
                        p = self._out_pipe(rid)
                        if p is None:
                            raise Again()
            p.write_one(body)
            if self.rsleep or self.wsleep:
                self._pass_baton()
        finally:
            self._unlock()
        return 0

    cdef Pipe _out_pipe(self, uint32_t rid):
        """Lock held: where the next message goes (the type decides), None if it must
        wait; EHOSTUNREACH: no peer with that routing id."""
        if rid and self.mailbox:
            self._process_mailbox()
        return self.t_.d_out(self, rid)

    cdef int _radio_send(self, bytes g, bytes body, int flags) except -1:
        """Lock held: to every pipe that joined g, and to every udp destination."""
        cdef dict groups = (<RadioType>self.t_).groups
        cdef list members
        cdef Pipe p
        cdef double deadline = 0
        self._radio_update()
        members = groups.get(g)
        if members:
            if self.nodrop:
                while True:
                    for p in members:
                        if not p.can_write():
                            break
                    else:
                        break
                    if flags & DONTWAIT or self.sndtimeo == 0:
                        raise Again()
                    if self.sndtimeo > 0 and deadline == 0:
                        deadline = time.monotonic() + self.sndtimeo / 1000.0
                    waiter_arm(&self.ww)
                    if self._sleep(True, self.sndtimeo, deadline):
                        raise Again()
                    self._radio_update()
                    members = groups.get(g) or []
            frames = [g, body]
            for p in members:
                if p.can_write():
                    p.write_msg(frames)  # (a full pipe: dropped, RADIO is lossy)
        for s in self.udp_out:
            s.send(g, body)
        return 0

    cdef int _send_dgram(self, bytes data, int flags) except -1:
        self._lock()
        try:
            self._enter_locked()
            if not self.more_out:
                if not flags & SNDMORE:
                    raise ZMQError(EINVAL, "DGRAM: send the address frame with SNDMORE first")
                self.dgram_addr = data
                self.more_out = True
                return 0
            if flags & SNDMORE:
                raise ZMQError(EINVAL, "DGRAM messages are [address, body] pairs")
            self.more_out = False
            if self.udp_out:
                (<object>self.udp_out[0]).send_to(self.dgram_addr, data)
            # (no udp endpoint: dropped, as libzmq)
        finally:
            self._unlock()
        return 0

    # ------------------------------------------------------------------ groups, peers
    def join(self, group):
        """DISH: receive the messages of ``group`` (str or bytes, at most 255 bytes)."""
        if self.target is not None:
            return DraftCore.join(self.target, group)
        cdef bytes g = _group_bytes(group)
        cdef Pipe p
        if self.socket_type != DISH:
            raise ZMQError(ENOTSUP, "join() is for DISH sockets")
        joined = (<DishType>self.t_).joined
        self._lock()
        try:
            self._enter_locked()
            if g in joined:
                raise ZMQError(EINVAL, f"already joined {group!r}")
            joined.add(g)
            for p in self.pipes:
                if not p.detached and not str(p.endpoint or "").startswith("udp://"):
                    p.write_command(b"JOIN", g)
        finally:
            self._unlock()

    def leave(self, group):
        """DISH: stop receiving ``group``."""
        if self.target is not None:
            return DraftCore.leave(self.target, group)
        cdef bytes g = _group_bytes(group)
        cdef Pipe p
        if self.socket_type != DISH:
            raise ZMQError(ENOTSUP, "leave() is for DISH sockets")
        joined = (<DishType>self.t_).joined
        self._lock()
        try:
            self._enter_locked()
            if g not in joined:
                raise ZMQError(EINVAL, f"not joined to {group!r}")
            joined.discard(g)
            for p in self.pipes:
                if not p.detached and not str(p.endpoint or "").startswith("udp://"):
                    p.write_command(b"LEAVE", g)
            if self.held and self.in_first == g:
                self.held = False  # read ahead before the leave: no longer ours
        finally:
            self._unlock()

    def _rid_of(self, pipe):
        return self.t_.d_rid(<Pipe>pipe)

    def _locked_call(self, fn, *args):
        """Run fn under the socket's lock (bind/connect from several threads)."""
        if self.target is not None:  # (a shadow's own lock guards nothing)
            return DraftCore._locked_call(self.target, fn, *args)
        self._lock()
        try:
            return fn(*args)
        finally:
            self._unlock()

    # ------------------------------------------------------------------ polling
    def _events(self):
        if self.target is not None:
            return DraftCore._events(self.target)
        cdef int ev = 0
        cdef int t = self.socket_type
        self._lock()
        try:
            if self.mailbox:
                self._process_mailbox()
            waiter_drain(&self.sig.w)
            if _recvs(t) and self._readable():
                ev |= 1
            if self._writable():
                ev |= 2
            if not ev & 1:
                waiter_arm(&self.sig.w)
                if _recvs(t) and self._readable():
                    ev |= 1
                elif t == RADIO:
                    self._radio_update()
            if not ev & 2 and _sends(t):
                waiter_arm(&self.ww)
                if self._writable():
                    ev |= 2
            if self.rsleep or self.wsleep:
                self._pass_baton()
        finally:
            self._unlock()
        return ev


def udp_deliver(Pipe pipe, bytes first, bytes body):
    """The I/O thread's side of a udp pipe: queue one datagram as [first, body]; False if
    the pipe is at its HWM (the datagram is dropped, as the kernel would)."""
    if pipe.detached or not pipe.can_write():
        return False
    pipe.write_msg([first, body])
    return True

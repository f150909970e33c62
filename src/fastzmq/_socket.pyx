# cython: language_level=3
"""The socket core: routing strategies over pipes, and every classic socket type.

Theory of operation
-------------------
A socket owns a list of pipes (``_pipe.pyx``), one per peer, and runs entirely in
the caller's thread. The routing strategies are written once and shared:

* load-balance (``_lb_pick``): round-robin over pipes that are below SNDHWM
  (PUSH, DEALER, REQ; PAIR is load-balance over at most one pipe);
* fair-queue (``_fq_pick``): round-robin over pipes with a message queued
  (PULL, DEALER, ROUTER, REP, SUB, XSUB, PAIR, REQ's replies);
* distribute (``_dist_send``): every pipe whose subscriptions match the first
  frame, dropping (and counting) where a pipe is at its HWM (PUB, XPUB);
* route by identity (``_route_send``): the first frame names the pipe (ROUTER).

RFC 28 envelopes (REQ/REP) and the REQ/REP state machines (``EFSM``) sit on top;
RFC 29 subscriptions (SUB sends SUBSCRIBE/CANCEL, PUB filters with the ``Mtrie``)
likewise. ``wait_subscribed`` (docs/pubsub.md) follows each pipe's subscription
changes with a PING (RFC 37 "Connection Heartbeating") and waits for the PONGs; the
messages it must read past to find them are kept in ``sub_stash``, delivered first.
Other threads talk to the socket only through ``mailbox`` (a list; attach/detach of
pipes) followed by a signal on the socket's waiter fd, which is also the socket's
pollable ``FD``.

Blocking: arm the waiter, re-check, then sleep on the fd with the GIL released
(``Waiter.wait_c``, which runs signal handlers so Ctrl-C raises). A producer or
consumer on the other side of a ring wakes us only when we are armed.
"""

import time
from collections import deque

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp

from fastzmq._frame cimport FRAME_COMMAND, FRAME_MORE
from fastzmq._pipe cimport PIPE_INPROC, Pipe
from fastzmq._trie cimport Mtrie, Trie
from fastzmq._waiter cimport (
    waiter_t,
    Waiter,
    waiter_arm,
    waiter_disarm,
    waiter_drain,
    waiter_signal,
    waiter_spin,
    waiter_spin_budget,
)

from fastzmq import constants as _c
from fastzmq.error import Again, ContextTerminated, ZMQError
from fastzmq.message import Frame

from fastzmq._pipe import _InprocCommand

cdef enum:
    PAIR = 0
    PUB = 1
    SUB = 2
    REQ = 3
    REP = 4
    DEALER = 5
    ROUTER = 6
    PULL = 7
    PUSH = 8
    XPUB = 9
    XSUB = 10

cdef enum:
    DONTWAIT = 1
    SNDMORE = 2

cdef int EAGAIN = _c.EAGAIN
cdef int EFSM = _c.EFSM
cdef int ENOTSUP = _c.ENOTSUP
cdef int ENOTSOCK = _c.ENOTSOCK
cdef int EHOSTUNREACH = _c.EHOSTUNREACH
cdef int ETERM = _c.ETERM
cdef int EINVAL = _c.EINVAL

# How long a woken socket waits for its inproc sender to release the GIL (see _waiter.pyx);
# the spin budget itself is waiter_spin_budget().
cdef long long _gate_ns = 5000

SOCKET_TYPE_NAMES = {
    PAIR: "PAIR", PUB: "PUB", SUB: "SUB", REQ: "REQ", REP: "REP", DEALER: "DEALER",
    ROUTER: "ROUTER", PULL: "PULL", PUSH: "PUSH", XPUB: "XPUB", XSUB: "XSUB",
}

cdef inline bint _can_send(int t) noexcept:
    return t != PULL and t != SUB

cdef inline bint _can_recv(int t) noexcept:
    return t != PUSH and t != PUB

cdef inline bint _has_subs(int t) noexcept:
    return t == SUB or t == XSUB

cdef inline bint _is_pub(int t) noexcept:
    return t == PUB or t == XPUB


_PING_TAG = b"fzsb"  # our PING contexts: tag + 8-byte sequence number


cdef class _SubAck:
    """Per pipe: subscription changes not yet pinged, last PING sent, last PONG seen."""

    cdef public bint live       # handshake seen by this socket (attach/reconnected)
    cdef public bint dirty      # subscriptions written since the last PING
    cdef public bint confirm    # the second round trip is still to be started
    cdef public uint64_t sent
    cdef public uint64_t acked


cdef class SocketCore:
    def __cinit__(self, *args, **kwargs):
        self.sig = Waiter()
        self.ww.asleep = 0
        self.ww.fd = self.sig.w.fd
        self.ww.wfd = self.sig.w.wfd
        self.mailbox = []
        self.pipes = []
        self.last_in_id = -1
        self.pipe_by_id = {}
        self.pipe_by_rid = {}
        self.out_parts = None
        self.in_parts = None
        self.options = {}
        self.sndhwm = 1000
        self.rcvhwm = 1000
        self.sndtimeo = -1
        self.rcvtimeo = -1
        self.linger = -1
        self.maxmsgsize = -1
        self.next_rid = 0x6b8b4567
        self.req_counter = <unsigned int>(time.monotonic_ns() & 0xFFFFFFFF)
        self.match_buf = NULL
        self.match_cap = 0
        self.sub_acks = {}
        self.parked = {}

    def __dealloc__(self):
        if self.match_buf != NULL:
            free(self.match_buf)

    def _init_core(self, int socket_type):
        if socket_type not in SOCKET_TYPE_NAMES:
            raise ZMQError(EINVAL, f"Invalid socket type: {socket_type}")
        self.socket_type = socket_type
        if _has_subs(socket_type):
            self.subs = Trie()
            self.linger = 0  # libzmq: subscribers do not linger on their subscriptions
        if _is_pub(socket_type):
            self.mtrie = Mtrie()
            self.xpub_queue = deque()

    # ------------------------------------------------------------------ pipes
    def _post(self, command, arg, bint wake=True):
        """Called from any thread: queue a command for this socket and wake it; with
        wake=False (a command that changes nothing a blocked call waits for) only
        _wait_peers is woken, or a mailbox of 64 commands (what they hold is freed), and
        the rest is processed at the socket's next call. The callers hold the GIL, which
        orders this against _wait_peers' flag and count."""
        self.mailbox.append((command, arg))
        if wake or self.peers_waiting or len(self.mailbox) >= 64:
            waiter_signal(&self.sig.w)

    cdef int _process_mailbox(self) except -1:
        while self.mailbox:
            command, arg = self.mailbox.pop(0)
            if command == "attach":
                self._attach(arg)
            elif command == "detach":
                self._detach(arg)
            elif command == "reconnected":
                self._on_reconnected(arg)
            elif command == "activated":
                self._on_activated(arg)
            elif command == "disconnected":
                self._on_disconnected(arg)
        return 0

    def _take_mail(self):
        """Process the mailbox now (pipes posted by other threads), nothing else."""
        if self.mailbox:
            self._process_mailbox()

    def _attach(self, Pipe pipe):
        """Adopt a pipe: wire up its waiters, give it an id, send our subscriptions."""
        pipe.out.writer = &self.ww
        pipe.out._writer_ref = self
        pipe.inq.reader = &self.sig.w
        pipe.inq._reader_ref = self
        pipe.pipe_id = self.next_pipe_id
        self.next_pipe_id += 1
        if self.socket_type == ROUTER or self.socket_type == REP:
            if not self._assign_routing_id(pipe):
                return  # a duplicate routing id: parked until the id is free
        if self.socket_type == PAIR and self._live_pipes() >= 1:
            pipe.detached = True  # PAIR takes one peer only
            return
        self.pipes.append(pipe)
        if _is_pub(self.socket_type):
            self.pipe_by_id[pipe.pipe_id] = pipe
            if self.xpub_welcome is not None:
                pipe.write_one(self.xpub_welcome)
        if _has_subs(self.socket_type):
            self._send_all_subs(pipe)
        if self.probe_router:
            # PROBE_ROUTER: an empty message announces us, once per pipe as in libzmq
            # (a connecter's pipe queues it for its first connection)
            if self.probed is not None and pipe in self.probed:
                self.probed.discard(pipe)
            else:
                pipe.write_one(b"")
        if pipe.connected:
            self._on_connected(pipe)
        # the peer may have queued messages before we were attached
        waiter_signal(&self.sig.w)

    def _probe_unattached(self, Pipe pipe):
        """PROBE_ROUTER on a ROUTER's connect(): its pipe is attached only once the peer
        is known, but libzmq queues the probe at connect() (socket thread, before the
        I/O thread sees the pipe)."""
        if self.probe_router:
            pipe.write_one(b"")
            if self.probed is None:
                self.probed = set()
            self.probed.add(pipe)

    def _on_connected(self, Pipe pipe):
        """A peer is there (a new pipe, or a connecter's pipe (re)connected)."""
        if self.router_notify & 1 and pipe.routing_id is not None:
            self._notify(pipe.routing_id)

    def _notify(self, bytes rid):
        """ROUTER_NOTIFY: a [routing id, empty] message for the user."""
        if self.notify_queue is None:
            self.notify_queue = deque()
        self.notify_queue.append([rid, b""])
        waiter_signal(&self.sig.w)

    def _on_disconnected(self, Pipe pipe):
        """A connecter's connection died (its pipe lives on for the reconnection)."""
        if self.router_notify & 2 and pipe.routing_id is not None and not pipe.detached:
            self._notify(pipe.routing_id)

    cdef Py_ssize_t _live_pipes(self):
        cdef Pipe p
        cdef Py_ssize_t n = 0
        for p in self.pipes:
            if not p.detached:
                n += 1
        return n

    def _assign_routing_id(self, Pipe pipe):
        """Register pipe under its peer's routing id (or a generated one); False if the id
        is taken: libzmq ignores that peer until the id is free, unless ROUTER_HANDOVER,
        which gives the id to the newcomer and disconnects the old peer."""
        cdef Pipe old
        rid = pipe.routing_id
        if not rid:
            rid = self._new_rid()
        elif rid in self.pipe_by_rid:
            if not self.router_handover:
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

    def _unpark(self, rid):
        """A routing id is free: the first peer refused under it takes it."""
        cdef Pipe p
        waiting = self.parked.get(rid)
        while waiting:
            p = waiting.pop(0)
            if not p.detached:
                if not waiting:
                    del self.parked[rid]
                self._attach_parked(p)
                return
        self.parked.pop(rid, None)

    def _attach_parked(self, Pipe pipe):
        self.pipe_by_rid[pipe.routing_id] = pipe
        self.pipes.append(pipe)
        if self.probe_router:
            pipe.write_one(b"")
        if pipe.connected:
            self._on_connected(pipe)
        waiter_signal(&self.sig.w)

    def _detach(self, Pipe pipe):
        """The peer is gone: stop sending to it; drop it once its queue is read."""
        waiting = self.parked.get(pipe.routing_id) if pipe.routing_id is not None else None
        if waiting and pipe in waiting:  # refused as a duplicate, never attached
            waiting.remove(pipe)
            if not waiting:
                del self.parked[pipe.routing_id]
            pipe.detached = True
            return
        pipe.detached = True
        if (self.socket_type == ROUTER or self.socket_type == REP) and pipe.routing_id is not None:
            if self.pipe_by_rid.get(pipe.routing_id) is pipe:
                del self.pipe_by_rid[pipe.routing_id]
                if self.router_notify & 2 and pipe.connected:
                    # (a connecter's pipe whose connection died was notified then)
                    self._notify(pipe.routing_id)
                if pipe.routing_id in self.parked:
                    self._unpark(pipe.routing_id)
        if _is_pub(self.socket_type):
            self.pipe_by_id.pop(pipe.pipe_id, None)
            gone = self.mtrie.remove_pipe(pipe.pipe_id)
            if self.socket_type == XPUB:
                for prefix in gone:
                    self.xpub_queue.append(b"\x00" + prefix)
        if _has_subs(self.socket_type):
            self.sub_acks.pop(pipe.pipe_id, None)
        if not pipe.has_msg():
            self._drop_pipe(pipe)

    def _on_reconnected(self, Pipe pipe):
        if _has_subs(self.socket_type):
            self._send_all_subs(pipe)
        self._on_connected(pipe)

    def _on_activated(self, Pipe pipe):
        """The first connection of a pipe adopted at connect(): the subscriptions written
        since are queued in it and go out now; mark it live, to be pinged, resend nothing."""
        if _has_subs(self.socket_type):
            # a ZMTP 3.0 peer needs them again in its own form (they were queued as 3.1
            # commands before its version was known)
            self._send_all_subs(pipe, pipe.kind != PIPE_INPROC and pipe.zmtp_minor == 0)
        self._on_connected(pipe)

    def _drop_pipe(self, Pipe pipe):
        try:
            self.pipes.remove(pipe)
        except ValueError:
            pass
        if self.req_pipe is pipe:
            self.req_pipe = None

    # ------------------------------------------------------------------ strategies
    cdef Pipe _lb_pick(self):
        cdef list pipes = self.pipes
        cdef Py_ssize_t n = len(pipes), i, k = self.lb_idx
        cdef Pipe p
        if k >= n:
            k = 0
        for i in range(n):  # round robin from lb_idx; no division on the hot path
            p = <Pipe>pipes[k]
            k += 1
            if k == n:
                k = 0
            if p.can_write():
                self.lb_idx = k
                return p
        return None

    cdef Pipe _fq_pick(self):
        cdef list pipes = self.pipes
        cdef Py_ssize_t n = len(pipes), i, k = self.fq_idx
        cdef Pipe p
        if k >= n:
            k = 0
        for i in range(n):
            p = <Pipe>pipes[k]
            k += 1
            if k == n:
                k = 0
            if p.has_msg():
                self.fq_idx = k  # the next message comes from the next pipe
                return p
            if p.detached:
                self._drop_pipe(p)
                return self._fq_pick()
        return None

    cdef int _enter(self) except -1:
        """Every public call starts here: the common case is three C flag tests."""
        if self.closed or self.mailbox or self.ctx_term:
            self._check_open()
        return 0

    cdef int _check_open(self) except -1:
        if self.closed:
            raise self._closed_error()
        if self.ctx_term:
            raise ContextTerminated()
        if self.mailbox:
            self._process_mailbox()
        return 0

    def _closed_error(self):
        """What a call on a closed socket raises (socket.py adds the fork() child case)."""
        return ZMQError(ENOTSOCK, "Socket operation on non-socket (the socket is closed)")

    cdef int _wait(self, bint for_write, int timeout_ms, double deadline) except -1:
        """Sleep until signalled or the deadline passes (raise Again then).

        Spins first (GIL released, up to the spin budget): a wake-up that comes meanwhile
        costs neither side a syscall. Then polls the socket's fd.
        """
        cdef int remaining = timeout_ms
        if timeout_ms > 0:
            remaining = <int>((deadline - time.monotonic()) * 1000.0 + 0.999)
            if remaining <= 0:
                raise Again()
        cdef bint woke = remaining != 0 and waiter_spin_budget() > 0 and self._spin(remaining)
        if not woke:
            self.sig.wait_c(remaining)
        waiter_disarm(&self.ww)
        waiter_disarm(&self.sig.w)
        if not woke:
            waiter_drain(&self.sig.w)
        if self.ctx_term:
            raise ContextTerminated()
        if self.closed:
            raise self._closed_error()
        if self.mailbox:
            self._process_mailbox()
        if timeout_ms > 0 and time.monotonic() >= deadline:
            return 1
        return 0

    cdef bint _spin(self, int remaining_ms):
        """waiter_spin on both waiters; with one inproc peer, gated on its read waiter."""
        cdef long long spin_ns = waiter_spin_budget()
        cdef waiter_t* gate = NULL
        cdef Pipe p
        if remaining_ms > 0:
            spin_ns = min(spin_ns, <long long>remaining_ms * 1000000)
        if len(self.pipes) == 1:
            p = self.pipes[0]
            if p.kind == PIPE_INPROC:
                gate = p.out.reader
        with nogil:
            return waiter_spin(&self.sig.w, &self.ww, gate, spin_ns, _gate_ns, -1)

    cdef Pipe _wait_writable(self, int flags):
        """The load-balanced pipe for the next message, blocking per SNDTIMEO."""
        cdef Pipe p = self._lb_pick()
        cdef bint armed = False
        cdef double deadline = 0
        if p is not None:
            return p  # the common case: no clock, no waiter
        if self.sndtimeo > 0:
            deadline = time.monotonic() + self.sndtimeo / 1000.0
        while True:
            p = self._lb_pick()
            if p is not None:
                if armed:
                    waiter_disarm(&self.ww)
                return p
            if flags & DONTWAIT or self.sndtimeo == 0:
                raise Again()
            if not armed:
                waiter_arm(&self.ww)
                armed = True
                continue
            if self._wait(True, self.sndtimeo, deadline):
                if self._lb_pick() is None:
                    raise Again()
            armed = False

    # ------------------------------------------------------------------ send
    def send(self, data, int flags=0, bint copy=True, bint track=False, routing_id=None, group=None):
        """Send one frame; with SNDMORE, more frames of the same message follow."""
        if track or (not copy and type(data) is not bytes):
            # trackers (and a Frame's own): socket.py's _send_tracked
            return self._send_tracked(data, flags, copy, track, False)
        return self._send(data, flags, False)

    def _pipes_now(self):
        """The attached pipes (for MessageTracker: which ones a send wrote to)."""
        return list(self.pipes)

    cdef object _send(self, object data, int flags, bint track):
        """send() after argument parsing (``_fastcall.pyx`` calls it directly)."""
        cdef int t = self.socket_type
        cdef Pipe p
        self._enter()
        if not _can_send(t):
            raise ZMQError(ENOTSUP, f"{SOCKET_TYPE_NAMES[t]} sockets cannot send")
        if type(data) is not bytes:
            data = _to_frame_bytes(data)
        if flags & SNDMORE:
            self._send_more(data, flags)
        elif self.out_parts is None and (t == PUSH or t == DEALER or t == PAIR):
            # the hot path: a single-frame message, load-balanced; one peer with room
            # (the common case) needs no round robin
            if len(self.pipes) == 1 and (<Pipe>self.pipes[0]).can_write():
                p = <Pipe>self.pipes[0]
            else:
                p = self._wait_writable(flags)
            p.write_one(data)
        elif self.out_parts is None and (t == PUB or t == XPUB):
            # the other hot path: a single-frame message, distributed (no list built)
            self._process_inbound_subs()
            self._dist_send(None, data)
        else:
            self._finish_message(data, flags)
        return None

    def send_multipart(self, msg_parts, int flags=0, copy=True, track=False, **kwargs):
        """Send a sequence of frames as one message."""
        cdef list frames = []
        cdef Py_ssize_t i, n
        cdef object part
        cdef int t = self.socket_type
        if track or not copy:  # trackers (and Frames' own): socket.py's _send_tracked
            return self._send_tracked(msg_parts, flags, copy, track, True)
        self._enter()
        if not _can_send(t):
            raise ZMQError(ENOTSUP, f"{SOCKET_TYPE_NAMES[t]} sockets cannot send")
        for i, part in enumerate(msg_parts):
            if type(part) is bytes:
                frames.append(part)
            elif isinstance(part, str):
                raise TypeError(f"Frame {i} ({part!r:.32}) is str: encode it or use send_string")
            else:
                frames.append(_to_frame_bytes(part))
        n = len(frames)
        if n == 0:
            raise ValueError("cannot send an empty multipart message")
        more = flags & SNDMORE  # the message goes on after these parts (pyzmq)
        flags &= ~SNDMORE
        if not more and self.out_parts is None and (t == PUSH or t == DEALER or t == PAIR):
            self._wait_writable(flags).write_msg(frames)
        else:
            for i in range(n - 1):
                self._send_more(frames[i], flags | SNDMORE)
            if more:
                self._send_more(frames[n - 1], flags | SNDMORE)
            else:
                self._finish_message(frames[n - 1], flags)
        return None

    cdef int _send_more(self, bytes data, int flags) except -1:
        cdef int t = self.socket_type
        if self.out_parts is None:
            if t == REQ and self.req_sent and not self.req_relaxed:
                raise ZMQError(EFSM)
            if t == REP and not self.rep_pending:
                raise ZMQError(EFSM)
            self.out_parts = []
            self.out_pipe = None
            self.out_drop = False
            if t == PUSH or t == DEALER or t == PAIR or t == REQ:
                self.out_pipe = self._wait_writable(flags)
            elif t == ROUTER:
                self._pick_route(data, flags)
                return 0  # the routing id is not sent on the wire
        self.out_parts.append(data)
        return 0

    cdef int _pick_route(self, bytes rid, int flags) except -1:
        cdef Pipe p = self.pipe_by_rid.get(rid)
        if p is None or p.detached:
            if self.router_mandatory:
                self.out_parts = None
                raise ZMQError(EHOSTUNREACH, "Host unreachable (no peer with that routing id)")
            self.out_drop = True
            self.dropped_unroutable += 1
            return 0
        if not p.can_write():
            if self.router_mandatory:
                if flags & DONTWAIT or self.sndtimeo == 0:
                    self.out_parts = None
                    raise Again()
            else:
                self.out_drop = True
                return 0
        self.out_pipe = p
        return 0

    cdef int _finish_message(self, bytes data, int flags) except -1:
        cdef list frames
        if self.out_parts is None:
            frames = [data]
            if self.socket_type == ROUTER:
                # a single frame that is only a routing id: nothing to send
                self._pick_route(data, flags)
                self.out_drop = True
        else:
            frames = self.out_parts
            frames.append(data)
        self.out_parts = None
        return self._send_msg(frames, flags)

    cdef int _send_msg(self, list frames, int flags) except -1:
        cdef int t = self.socket_type
        cdef Pipe p = self.out_pipe
        self.out_pipe = None
        if t == PUB or t == XPUB:
            self._process_inbound_subs()
            return self._dist_send(frames, frames[0])
        if t == XSUB:
            return self._xsub_send(frames, flags)
        if t == ROUTER:
            if self.out_drop or p is None:
                return 0
            p.write_msg(frames)
            return 0
        if t == REQ:
            if self.req_sent and not self.req_relaxed:
                raise ZMQError(EFSM)
            if p is None:
                p = self._wait_writable(flags)
            if self.req_correlate:
                # REQ_CORRELATE: a request id frame before the delimiter; only the
                # reply echoing it is accepted
                self.req_counter = (self.req_counter + 1) & 0xFFFFFFFF
                self.req_id = self.req_counter.to_bytes(4, "big")
                p.write_msg([self.req_id, b""] + frames)
            else:
                self.req_id = None
                p.write_msg([b""] + frames)
            self.req_sent = True
            self.req_pipe = p
            self.in_parts = None
            return 0
        if t == REP:
            if not self.rep_pending:
                raise ZMQError(EFSM)
            self.rep_pending = False
            p = self.req_pipe
            self.req_pipe = None
            envelope = self.rep_envelope
            self.rep_envelope = None
            if p is not None and not p.detached:
                p.write_msg(envelope + frames)
            elif self.router_mandatory:
                raise ZMQError(EHOSTUNREACH, "Host unreachable (the requester is gone)")
            return 0
        if p is None:
            p = self._wait_writable(flags)
        p.write_msg(frames)
        return 0

    cdef int _dist_send(self, list frames, bytes topic) except -1:
        """Every pipe subscribed to a prefix of topic (the first frame) gets the message:
        frames, or topic alone when frames is None (the single-frame fast path)."""
        cdef int n, i
        cdef Pipe p
        if len(self.pipes) == 0:
            return 0
        if self.match_cap < self.next_pipe_id + 1:
            self.match_cap = self.next_pipe_id + 64
            self.match_buf = <int*>realloc(self.match_buf, self.match_cap * sizeof(int))
            if self.match_buf == NULL:
                self.match_cap = 0
                raise MemoryError()
        n = self.mtrie.match_c(<const unsigned char*>PyBytes_AS_STRING(topic),
                               PyBytes_GET_SIZE(topic), self.match_buf, self.match_cap)
        if self.invert_matching or self.xpub_manual_last_value:
            return self._dist_inverted(frames, topic, n)
        for i in range(n):
            self._dist_to(self.pipe_by_id.get(self.match_buf[i]), frames, topic)
        return 0

    cdef int _dist_to(self, object p, list frames, bytes topic) except -1:
        """One subscriber's copy: written, or at its HWM dropped (counted) or, with
        XPUB_NODROP, Again."""
        if p is None or (<Pipe>p).detached:
            return 0
        if (<Pipe>p).can_write():
            if frames is None:
                (<Pipe>p).write_one(topic)
            else:
                (<Pipe>p).write_msg(frames)
        elif self.xpub_nodrop:
            raise Again()
        else:
            self.dropped_hwm += 1
        return 0

    cdef int _dist_inverted(self, list frames, bytes topic, int n) except -1:
        """_dist_send's rare cases: INVERT_MATCHING (every pipe *not* matched gets the
        message) and XPUB_MANUAL_LAST_VALUE (only the last subscriber, once)."""
        cdef Pipe p
        cdef int i
        matched = {self.match_buf[i] for i in range(n)}
        if self.xpub_manual_last_value and self.last_sub_pipe is not None:
            last = self.last_sub_pipe.pipe_id
            self.last_sub_pipe = None
            targets = [last] if (last in matched) != self.invert_matching else []
        elif self.invert_matching:
            targets = [pid for pid in self.pipe_by_id if pid not in matched]
        else:
            targets = [self.match_buf[i] for i in range(n)]
        for pid in targets:
            self._dist_to(self.pipe_by_id.get(pid), frames, topic)
        return 0

    def _topics_count(self):
        """TOPICS_COUNT: distinct prefixes subscribed (SUB/XSUB) or subscribed to (PUB/XPUB)."""
        if self.mailbox:
            self._process_mailbox()
        if _has_subs(self.socket_type):
            return len(self.subs.prefixes())
        self._process_inbound_subs()
        return len(self.mtrie.prefixes())

    # ------------------------------------------------------------------ subscriptions
    def _subscribe(self, bytes topic, bint add):
        """SUB/XSUB: change our own subscriptions and tell every peer."""
        cdef Pipe p
        if add:
            changed = self.subs.add(topic)
        else:
            changed = self.subs.remove(topic)
            if not changed:
                return False  # still subscribed (counted): the publishers keep it, as libzmq
        for p in self.pipes:  # every subscribe goes up (XPUB_VERBOSE peers see repeats)
            if not p.detached:
                self._send_sub(p, topic, add)
        return changed

    cdef int _send_sub(self, Pipe p, bytes topic, bint add) except -1:
        self._ack_of(p).dirty = True
        if p.kind != PIPE_INPROC and p.zmtp_minor == 0:
            p.write_one((b"\x01" if add else b"\x00") + topic)
        else:
            p.write_command(b"SUBSCRIBE" if add else b"CANCEL", topic)
        return 0

    def _send_all_subs(self, Pipe p, bint resend=True):
        """A new pipe or connection: (re)send every subscription, ping it afresh."""
        cdef _SubAck rec = self._ack_of(p)
        rec.live = p.connected
        rec.dirty = True
        if resend:
            for topic in self.subs.prefixes():
                self._send_sub(p, topic, True)

    # ---- wait_peers: the peer-state API (docs/peers.md)
    def _wait_peers(self, timeout=None, int peers=1):
        """Block until >= peers peers are connected (handshake done; inproc: joined),
        timeout in ms (None/negative: forever, 0: check); False on timeout. Sleeps on the
        socket's fd: every new peer reaches the socket as a mailbox post, which wakes it."""
        cdef int ms = -1
        cdef double deadline = 0
        self._enter()
        if timeout is not None and timeout >= 0:
            ms = <int>min(-(-timeout // 1), 2**31 - 1)
            deadline = time.monotonic() + timeout / 1000.0
        self.peers_waiting = True  # (set before the count: see _post)
        try:
            while True:
                if self._count_peers() >= peers:
                    return True
                if ms == 0:
                    return False
                waiter_arm(&self.sig.w)
                if self._count_peers() >= peers:
                    waiter_disarm(&self.sig.w)
                    return True
                try:
                    if self._wait(False, ms, deadline):
                        return self._count_peers() >= peers
                except Again:
                    waiter_disarm(&self.sig.w)
                    return self._count_peers() >= peers
        finally:
            self.peers_waiting = False

    def _count_peers(self):
        cdef Pipe p
        cdef int n = 0
        if self.mailbox:
            self._process_mailbox()
        for p in self.pipes:
            if p.connected and not p.detached:
                n += 1
        return n

    # ---- wait_subscribed: PING after subscription changes, wait for the PONGs
    cdef object _ack_of(self, Pipe p):
        rec = self.sub_acks.get(p.pipe_id)
        if rec is None:
            rec = self.sub_acks[p.pipe_id] = _SubAck()
        return rec

    def _wait_subscribed(self, timeout=None, int peers=1):
        """Block until >= peers publishers are connected and have acknowledged every
        subscription change sent to them (timeout in ms, None: forever); False on timeout."""
        cdef int ms = -1
        cdef double deadline = 0
        self._enter()
        if not _has_subs(self.socket_type):
            raise ZMQError(ENOTSUP, f"{SOCKET_TYPE_NAMES[self.socket_type]} sockets have no subscriptions")
        if timeout is not None and timeout >= 0:
            ms = <int>min(-(-timeout // 1), 2**31 - 1)  # ceil: 0.5 ms still waits
            deadline = time.monotonic() + timeout / 1000.0
        while True:
            if self._subs_acked(peers):
                return True
            if ms == 0:
                return False
            waiter_arm(&self.sig.w)     # inbound data (a PONG) or the mailbox
            waiter_arm(&self.ww)        # the engine took bytes (3.0 peers)
            if self._subs_acked(peers):
                waiter_disarm(&self.ww)
                waiter_disarm(&self.sig.w)
                return True
            try:
                if self._wait(False, ms, deadline):
                    return self._subs_acked(peers)
            except Again:
                waiter_disarm(&self.ww)
                waiter_disarm(&self.sig.w)
                return False

    def _subs_acked(self, int peers):
        """One pass: ping what changed, read ahead to PONGs, count acknowledged peers."""
        while True:
            if self.mailbox:
                self._process_mailbox()  # (re)connections resend subscriptions
            ok, n = self._ack_pass()
            if not self.mailbox:  # posted before the data we read: go round again
                return ok and n >= peers

    def _ack_pass(self):
        cdef Pipe p
        cdef _SubAck rec
        cdef bint ok = True
        cdef int n = 0
        for p in list(self.pipes):
            if p.detached:
                continue
            if p.kind == PIPE_INPROC:
                n += p.connected  # in the publisher's pipe: its next send applies it
                continue
            rec = self._ack_of(p)
            if not p.connected:
                rec.live = False  # wait for its reconnection (which resends)
                continue
            if not rec.live:
                continue
            n += 1
            if p.zmtp_minor == 0:
                ok = ok and p.out_pending() == 0  # no PING in 3.0: written is all we know
                continue
            if rec.dirty:
                self._ping(p, rec)
                rec.confirm = True
            if rec.acked < rec.sent:
                self._read_ahead(p, rec)
            if rec.acked >= rec.sent and rec.confirm:
                # libzmq writes a PONG before it flushes the commands that preceded the
                # PING to its socket; a second round trip proves that flush happened
                rec.confirm = False
                self._ping(p, rec)
                self._read_ahead(p, rec)
            ok = ok and rec.acked >= rec.sent
        return ok, n

    def _ping(self, Pipe p, _SubAck rec):
        self.ping_seq += 1
        p.write_command(b"PING", b"\x00\x00" + _PING_TAG + self.ping_seq.to_bytes(8, "big"))
        rec.sent = self.ping_seq
        rec.dirty = False

    def _read_ahead(self, Pipe p, _SubAck rec):
        """Read p up to its PONG; the data messages on the way are kept for recv."""
        cdef int fl = 0
        cdef list msg
        while rec.acked < rec.sent and p.has_msg():
            msg = p.read_msg(&fl)
            if msg is None:
                return
            if fl & FRAME_COMMAND:
                self._apply_command(p, msg[0])
                continue
            if self.sub_stash is None:
                self.sub_stash = deque()
            self.sub_stash.append((p, msg))

    cdef list _unstash(self):
        """The next read-ahead message that passes the filter, or None."""
        cdef list msg
        while self.sub_stash:
            p, msg = self.sub_stash.popleft()
            msg = self._filter_in(p, msg)
            if msg is not None:
                return msg
        return None

    def _on_pong(self, Pipe p, bytes context):
        cdef _SubAck rec = self.sub_acks.get(p.pipe_id)
        if rec is None or len(context) != 12 or context[:4] != _PING_TAG:
            return
        seq = int.from_bytes(context[4:], "big")
        if rec.acked < seq <= rec.sent:
            rec.acked = seq

    cdef int _xsub_send(self, list frames, int flags) except -1:
        cdef bytes first = frames[0]
        cdef Pipe p
        if len(frames) == 1 and len(first) > 0 and first[0] in (0, 1):
            self._subscribe(first[1:], first[0] == 1)
            return 0
        if len(frames) > 1:
            self._xsub_local_subs(frames)
        for p in self.pipes:  # other messages go upstream to every publisher
            if not p.detached and p.can_write():
                p.write_msg(frames)
        return 0

    def _xsub_local_subs(self, list frames):
        """A multipart message from an XSUB goes upstream whole (the XPUB reads its
        subscription frames); our own filter takes them as libzmq does: the first frame
        if it starts with 1/0, the later ones unless ONLY_FIRST_SUBSCRIBE is set and no
        frame before was a subscription."""
        cdef bint process = True
        for i, f in enumerate(frames):
            if i == 0:
                process = not self.only_first_subscribe
            elif not process:
                continue
            if len(f) > 0 and f[0] in (0, 1):
                process = True
                if f[0] == 1:
                    self.subs.add(f[1:])
                else:
                    self.subs.remove(f[1:])

    cdef int _process_inbound_subs(self) except -1:
        """PUB/XPUB: apply the SUBSCRIBE/CANCEL commands (or 3.0 messages) peers sent."""
        cdef Pipe p
        cdef int fl = 0
        cdef list msg
        cdef list gone = None
        for p in self.pipes:  # runs on every publish: no copy of the list unless one is gone
            while p.has_msg():
                msg = p.read_msg(&fl)
                if msg is None:
                    break
                if len(msg) == 1:
                    self._apply_sub(p, msg[0], fl)
                else:
                    self._apply_parts(p, msg)
            if p.detached and not p.has_msg():
                if gone is None:
                    gone = []
                gone.append(p)
        if gone is not None:
            for p in gone:
                self._drop_pipe(p)
        return 0

    cdef int _apply_sub(self, Pipe p, frame, int fl) except -1:
        cdef bint add = False
        if fl & FRAME_COMMAND:
            data = _sub_command(frame, &add)
            if data is None:
                self._apply_command(p, frame)
                return 0
        else:
            if not frame or frame[0] not in (0, 1):
                if self.socket_type == XPUB:
                    self.xpub_queue.append(frame)  # plain upstream message (XSUB sends)
                return 0
            add = frame[0] == 1
            data = frame[1:]
        if self.socket_type == XPUB and self.xpub_manual:
            self.xpub_queue.append(((b"\x01" if add else b"\x00") + data, p))
            return 0
        first = self._pipe_sub(data, p.pipe_id, add)
        if self.socket_type == XPUB and (first or self.xpub_verboser or (add and self.xpub_verbose)):
            self.xpub_queue.append((b"\x01" if add else b"\x00") + data)
        return 0

    def _apply_parts(self, Pipe p, list msg):
        """A multipart message upstream (from an XSUB): as libzmq, the first frame is a
        (un)subscription if it starts with 1/0, and so are the later ones unless
        ONLY_FIRST_SUBSCRIBE is set and the first was not; the other frames reach an
        XPUB's user as one message (a PUB drops them)."""
        cdef list user = []
        cdef bint process = True
        for i, f in enumerate(msg):
            is_sub = (i == 0 or process) and len(f) > 0 and f[0] in (0, 1)
            if i == 0:
                process = not self.only_first_subscribe or is_sub
            if is_sub:
                self._apply_sub(p, f, 0)
            else:
                user.append(f)
        if user and self.socket_type == XPUB:
            self.xpub_queue.append(user)

    cdef bint _pipe_sub(self, bytes prefix, int pipe_id, bint add) except -1:
        """Subscribe (or cancel) one peer to prefix; True if no peer had it before (or
        none has it now). Per peer a prefix is subscribed or not: a repeat changes
        nothing and one CANCEL ends it, as in libzmq's publishers (a libzmq SUB sends a
        SUBSCRIBE for each subscribe() but a CANCEL only when its own count is zero)."""
        if not add:
            return self.mtrie.remove(prefix, pipe_id)
        return not self.mtrie.contains(prefix, pipe_id) and self.mtrie.add(prefix, pipe_id)

    def _other_command(self, Pipe p, name, data):
        if name == b"PONG" and _has_subs(self.socket_type):
            self._on_pong(p, bytes(data))
        # Anything else is dropped. A PING is answered by the connection's engine in the
        # I/O thread (_io.pyx), at once, whatever this thread is doing, and never reaches
        # a socket; inproc has no heartbeats.

    def _manual_subscribe(self, bytes topic, bint add):
        """XPUB_MANUAL: subscribe the pipe of the last subscription message."""
        p = self.last_sub_pipe
        if p is None or (<Pipe>p).detached:
            return
        self._pipe_sub(topic, (<Pipe>p).pipe_id, add)


    # ------------------------------------------------------------------ recv
    def recv(self, int flags=0, bint copy=True, bint track=False):
        """Receive one frame (bytes, or a Frame with copy=False)."""
        cdef object f
        self._enter()
        f = self._recv_frame(flags)
        if copy:
            return f
        return Frame._from_bytes(f, self.rcvmore, self._in_properties())

    def recv_multipart(self, int flags=0, copy=True, track=False):
        """Receive every frame of one message, as a list."""
        cdef list parts
        self._enter()
        parts = [self._recv_frame(flags)]
        while self.rcvmore:
            parts.append(self._recv_frame(flags))
        if not copy:
            n = len(parts) - 1
            props = self._in_properties()
            return [Frame._from_bytes(b, i < n, props) for i, b in enumerate(parts)]
        return parts

    cdef object _in_properties(self):
        """The metadata of the connection the current message came from, or None."""
        cdef Pipe p
        for p in self.pipes:
            if p.pipe_id == self.last_in_id:
                return p.properties
        return None

    cdef object _recv_frame(self, int flags):
        cdef int t = self.socket_type
        cdef int fl = 0
        cdef Pipe p
        cdef object f
        cdef bint blocked = False
        if self.in_parts:
            f = self.in_parts.pop(0)
            self.rcvmore = len(self.in_parts) > 0
            return f
        if not _can_recv(t):
            raise ZMQError(ENOTSUP, f"{SOCKET_TYPE_NAMES[t]} sockets cannot receive")
        if (t == PULL or t == DEALER or t == PAIR or ((t == SUB or t == XSUB) and not self.sub_stash)) \
                and not self.conflate:
            while True:
                if len(self.pipes) == 1:
                    # one peer (the common case): read it directly, no fair-queue round
                    p = <Pipe>self.pipes[0]
                    f = p.read_frame(&fl)
                    if f is None:
                        if p.detached:
                            self._drop_pipe(p)
                            continue
                        p = None
                else:
                    p = self._fq_pick()
                    if p is not None:
                        f = p.read_frame(&fl)
                if p is not None:
                    if fl & FRAME_COMMAND:
                        self._apply_command(p, f)
                        continue
                    if (t == SUB or t == XSUB) and self.subs.check_c(
                            <const unsigned char*>PyBytes_AS_STRING(f),
                            PyBytes_GET_SIZE(f)) == self.invert_matching:
                        while fl & FRAME_MORE:  # not subscribed: drop the whole message
                            p.read_frame(&fl)
                        continue
                    if fl & FRAME_MORE:
                        self.in_parts = []
                        while fl & FRAME_MORE:
                            self.in_parts.append(p.read_frame(&fl))
                        self.rcvmore = True
                    else:
                        self.rcvmore = False
                    self.last_in_id = p.pipe_id
                    return f
                if not blocked:  # a new recv: its RCVTIMEO deadline starts now
                    self.options["_rdeadline"] = 0
                    blocked = True
                self._block_readable(flags)
        cdef list msg = self._recv_msg(flags)
        f = msg.pop(0)
        if msg:
            self.in_parts = msg
            self.rcvmore = True
        else:
            self.rcvmore = False
        return f

    def _apply_command(self, Pipe p, frame):
        name, data = _command_parts(frame)
        self._other_command(p, name, data)

    cdef int _block_readable(self, int flags) except -1:
        cdef double deadline = 0
        if flags & DONTWAIT or self.rcvtimeo == 0:
            raise Again()
        waiter_arm(&self.sig.w)
        if self._readable_now():
            waiter_disarm(&self.sig.w)
            return 0
        if self.rcvtimeo > 0:
            deadline = self.options.get("_rdeadline") or 0
            if not deadline:
                deadline = time.monotonic() + self.rcvtimeo / 1000.0
                self.options["_rdeadline"] = deadline
            try:
                if self._wait(False, self.rcvtimeo, deadline):
                    if not self._readable_now():
                        raise Again()
            except Again:
                self.options["_rdeadline"] = 0
                raise
        else:
            self._wait(False, -1, 0)
        return 0

    cdef bint _readable_now(self):
        cdef Pipe p
        if self.socket_type == XPUB:
            # what XPUB's pipes carry is subscriptions; only some become messages
            self._process_inbound_subs()
            return len(self.xpub_queue) > 0
        if self.socket_type == PUB:
            return False  # its pipes carry subscriptions, applied by its next send
        if self.notify_queue:
            return True
        for p in self.pipes:
            if p.has_msg() and self._msg_first(p):
                return True
        return False

    cdef bint _msg_first(self, Pipe p) except -1:
        """p has a message for the user: command frames at its head (a PONG, a command
        this socket type ignores) are applied and skipped, so they never make POLLIN."""
        cdef const unsigned char* head
        cdef size_t avail
        cdef int fl = 0
        while p.has_msg():
            if p.kind == PIPE_INPROC:
                return True
            head = p.inq.read_space(&avail)
            if head == NULL or not head[0] & FRAME_COMMAND:
                return True
            self._apply_command(p, p.read_frame(&fl))
        return False

    cdef list _recv_msg(self, int flags):
        """One whole message for the enveloped / filtered socket types."""
        cdef int t = self.socket_type
        cdef int fl = 0
        cdef Pipe p
        cdef list msg
        self.options["_rdeadline"] = 0
        while True:
            if t == XPUB:
                self._process_inbound_subs()
                if self.xpub_queue:
                    item = self.xpub_queue.popleft()
                    if type(item) is tuple:  # XPUB_MANUAL: (message, the pipe it came from)
                        self.last_sub_pipe = item[1]
                        item = item[0]
                    elif type(item) is list:  # a multipart message from an XSUB
                        return item
                    return [item]
                self._block_readable(flags)
                continue
            if self.notify_queue:  # ROUTER_NOTIFY
                return self.notify_queue.popleft()
            if t == REQ and not self.req_sent:
                raise ZMQError(EFSM)
            if t == REP and self.rep_pending:
                raise ZMQError(EFSM)
            if self.sub_stash:
                msg = self._unstash()
                if msg is not None:
                    self.options["_rdeadline"] = 0
                    self.last_in_id = -1
                    return msg
            p = self._fq_pick()
            if p is None:
                self._block_readable(flags)
                continue
            if self.conflate:
                msg = self._read_last(p, &fl)
                if msg is None:
                    continue
            else:
                msg = p.read_msg(&fl)
            if fl & FRAME_COMMAND:
                self._apply_command(p, msg[0])
                continue
            msg = self._filter_in(p, msg)
            if msg is not None:
                self.options["_rdeadline"] = 0
                self.last_in_id = p.pipe_id
                return msg

    cdef list _read_last(self, Pipe p, int* fl):
        """CONFLATE: read everything queued in p and keep only the last message (commands
        on the way are applied); None if p held only commands."""
        cdef list last = None
        cdef list msg
        cdef int f = 0
        while p.has_msg():
            msg = p.read_msg(&f)
            if msg is None:
                break
            if f & FRAME_COMMAND:
                self._apply_command(p, msg[0])
                continue
            last = msg
        fl[0] = 0
        if last is not None and len(last) > 1:
            return last[-1:]  # libzmq's conflate queue holds one frame: the last one
        return last

    cdef list _filter_in(self, Pipe p, list msg):
        """Apply the socket type's receive rules; None drops the message."""
        cdef int t = self.socket_type
        cdef Py_ssize_t i
        cdef bytes first
        if t == SUB or t == XSUB:
            first = msg[0]
            if self.subs.check_c(<const unsigned char*>PyBytes_AS_STRING(first),
                                 PyBytes_GET_SIZE(first)) != self.invert_matching:
                return msg
            return None
        if t == ROUTER:
            return [p.routing_id] + msg
        if t == REQ:
            if p is not self.req_pipe and not self.req_relaxed:
                return None  # a late reply from another peer
            if self.req_id is not None:
                if len(msg) < 3 or msg[0] != self.req_id:
                    return None  # not the reply to the request that is out
                msg = msg[1:]
            if len(msg) < 2 or msg[0] != b"":
                return None  # malformed: no empty delimiter
            self.req_sent = False
            return msg[1:]
        if t == REP:
            for i in range(len(msg)):
                if msg[i] == b"":
                    self.rep_envelope = msg[: i + 1]
                    self.req_pipe = p
                    self.rep_pending = True
                    return msg[i + 1:] or [b""]
            return None  # no delimiter: not a request, drop it
        return msg

    # ------------------------------------------------------------------ polling
    def _events(self):
        """POLLIN/POLLOUT now; arms the waiters for what is not ready (edge FD)."""
        cdef int ev = 0
        if self.mailbox:
            self._process_mailbox()
        waiter_drain(&self.sig.w)
        if _can_recv(self.socket_type):
            if _has_subs(self.socket_type):
                if self.in_parts or self._prefetch_filtered():
                    ev |= 1
            elif self.in_parts or self._readable_now():
                ev |= 1
        if _can_send(self.socket_type):
            if self.socket_type in (PUB, XPUB, ROUTER, XSUB) or self.out_parts is not None:
                ev |= 2
            elif self.socket_type == REP:
                if self.rep_pending:
                    ev |= 2
            elif self.socket_type == REQ and self.req_sent and not self.req_relaxed:
                pass
            elif self._lb_pick_peek():
                ev |= 2
        if not ev & 1:
            waiter_arm(&self.sig.w)
            if not _can_recv(self.socket_type):
                pass  # PUB: inbound subscriptions are not messages it can recv
            elif _has_subs(self.socket_type):
                if self._prefetch_filtered():
                    ev |= 1
            elif self._readable_now():
                ev |= 1
        if not ev & 2 and _can_send(self.socket_type):
            waiter_arm(&self.ww)
            if self._lb_pick_peek():
                ev |= 2
        if self.socket_type == REQ:
            if self.req_sent:
                ev &= ~2
            else:
                ev &= ~1
        elif self.socket_type == REP:
            if self.rep_pending:
                ev &= ~1
            else:
                ev &= ~2
        return ev

    def _prefetch_filtered(self):
        """SUB/XSUB: read ahead to the next message that passes the filter.

        Queued messages may all be filtered out, so "a pipe has data" is not
        POLLIN. The message found is kept whole in ``in_parts`` for recv.
        """
        cdef Pipe p
        cdef int fl = 0
        cdef list msg
        if self.sub_stash:
            msg = self._unstash()
            if msg is not None:
                self.in_parts = msg
                return True
        while True:
            p = self._fq_pick()
            if p is None:
                return False
            msg = p.read_msg(&fl)
            if fl & FRAME_COMMAND:
                self._apply_command(p, msg[0])
                continue
            msg = self._filter_in(p, msg)
            if msg is not None:
                self.in_parts = msg
                return True

    cdef bint _lb_pick_peek(self):
        cdef Pipe p
        for p in self.pipes:
            if p.can_write():
                return True
        return False

    def _fileno(self):
        return self.sig.w.fd

    def _wake(self):
        """Wake a thread blocked in this socket (term, close from another thread)."""
        waiter_signal(&self.sig.w)

    def _terminate(self):
        """Context.term(): every call from now on, and every blocked one, gets ETERM."""
        self.ctx_term = True
        waiter_signal(&self.sig.w)

    def _get_pipes(self):
        return list(self.pipes)

    def _drop_all_pipes(self):
        cdef Pipe p
        for p in self.pipes:
            p.drop_queued()
        self.pipes = []
        self.sub_stash = None
        self.pipe_by_id.clear()
        self.pipe_by_rid.clear()
        self.parked.clear()
        self.probed = None
        self.notify_queue = None
        self.last_sub_pipe = None

    def _close_fd(self):
        self.sig.close()

    def get_stats(self):
        """Counters: messages dropped at a full pipe (PUB/XPUB) and unroutable (ROUTER)."""
        return {
            "dropped_hwm": self.dropped_hwm,
            "dropped_unroutable": self.dropped_unroutable,
            "pipes": len(self.pipes),
            "read_ahead": len(self.sub_stash) if self.sub_stash else 0,
        }


cdef object _sub_command(object frame, bint* add):
    """The prefix of a SUBSCRIBE or CANCEL command frame (wire bytes or an inproc
    command), with *add set; None for any other command. Wire frames are matched in
    place: no name/data bytes objects for the common case (subscription bursts)."""
    cdef const char* c
    cdef Py_ssize_t n
    if type(frame) is bytes:  # name-length byte, name, data
        c = PyBytes_AS_STRING(frame)
        n = PyBytes_GET_SIZE(frame)
        if n >= 10 and c[0] == 9 and memcmp(c + 1, b"SUBSCRIBE", 9) == 0:
            add[0] = True
            return frame[10:]
        if n >= 7 and c[0] == 6 and memcmp(c + 1, b"CANCEL", 6) == 0:
            add[0] = False
            return frame[7:]
        return None
    name, data = _command_parts(frame)
    if name == b"SUBSCRIBE" or name == b"CANCEL":
        add[0] = name == b"SUBSCRIBE"
        return data
    return None


def _command_parts(frame):
    if type(frame) is _InprocCommand:
        return frame.name, frame.data
    n = frame[0] if frame else 0
    return bytes(frame[1 : 1 + n]), bytes(frame[1 + n :])


cdef bytes _to_frame_bytes(object data):
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    if isinstance(data, Frame):
        content = data._data  # its memory as is: .bytes would make (and cache) a copy
        return content if type(content) is bytes else data.bytes
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not {type(data).__name__!r}") from None



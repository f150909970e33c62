# cython: language_level=3
"""The socket core: the machinery every socket type shares, and the socket type seam.

Theory of operation
-------------------
A socket owns a list of pipes (``_pipe.pyx``), one per peer, and runs entirely in
the caller's thread. ``SocketCore`` (the C base of ``socket.Socket``) holds what every
type shares: the pipes, the mailbox, blocking and spinning, options, and the routing
strategies, each written once:

* load-balance (``_lb_pick``, ``_wait_writable``, ``_lb_send``): round-robin over pipes
  below SNDHWM (PUSH, DEALER, REQ; PAIR is load-balance over at most one pipe);
* fair-queue (``_fq_pick``, ``_fq_recv``): round-robin over pipes with a message queued
  (PULL, DEALER, ROUTER, REP, SUB, XSUB, PAIR, REQ's replies);
* distribute (``XPubType._dist_send`` in ``_types_pubsub.pyx``): every pipe whose
  subscriptions match the first frame (PUB, XPUB);
* route by identity (``RouterType._pick_route`` in ``_types_router.pyx``): the first
  frame names the pipe (ROUTER).

What one socket type adds is a ``TypeBase`` subclass (``impl``), found by the type's
name: ``PairType``, ``PushType``, ``PullType``, ``DealerType``, ``ReqType`` in
``_types_dealer.pyx``; ``RouterType``, ``RepType`` in ``_types_router.pyx``;
``XPubType``, ``PubType``, ``XSubType``, ``SubType`` in ``_types_pubsub.pyx``. Its
``x*`` hooks (libzmq's xsend/xrecv/xattach_pipe/xpipe_terminated...) are C virtual
methods called with the core; ``register(socket_type, cls)`` makes ``ctx.socket(type)``
use it (``docs``: /ARCHITECTURE.md "Socket types"). The single-peer fast paths (send of
one frame to the one load-balanced pipe, recv of one frame from the one fair-queued
pipe) never call a hook: they test flags the type set once (``lb_fast``, ``fq_fast``).

Other threads talk to the socket only through ``mailbox`` (a list; attach/detach of
pipes) followed by a signal on the socket's waiter fd, which is also the socket's
pollable ``FD``.

Blocking: arm the waiter, re-check, then sleep on the fd with the GIL released
(``Waiter.wait_c``, which runs signal handlers so Ctrl-C raises). A producer or
consumer on the other side of a ring wakes us only when we are armed.
"""

import time
from collections import deque
from importlib import import_module

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

from fastzmq._frame cimport FRAME_COMMAND, FRAME_MORE
from fastzmq._pipe cimport PIPE_INPROC, Pipe
from fastzmq._waiter cimport (
    fz_load_relaxed_int,
    waiter_t,
    Waiter,
    waiter_arm,
    waiter_disarm,
    waiter_drain,
    waiter_retire,
    waiter_signal,
    waiter_spin,
    waiter_spin_budget,
)

from fastzmq import constants as _c
from fastzmq.error import Again, ContextTerminated, ZMQError
from fastzmq.message import Frame

from fastzmq._pipe import _InprocCommand

cdef enum:
    DONTWAIT = 1
    SNDMORE = 2

cdef int ENOTSUP = _c.ENOTSUP
cdef int ENOTSOCK = _c.ENOTSOCK
cdef int EINVAL = _c.EINVAL

# How long a woken socket waits for its inproc sender to release the GIL (see _waiter.pyx);
# the spin budget itself is waiter_spin_budget().
cdef long long _gate_ns = 5000

# socket type number -> name (ZMTP's Socket-Type property); register() adds to it
SOCKET_TYPE_NAMES = {
    0: "PAIR", 1: "PUB", 2: "SUB", 3: "REQ", 4: "REP", 5: "DEALER",
    6: "ROUTER", 7: "PULL", 8: "PUSH", 9: "XPUB", 10: "XSUB", 11: "STREAM",
}

# socket type number -> TypeBase subclass; filled by the modules below at their import
_TYPES = {}
# the modules that register socket types, imported at the first socket's creation
TYPE_MODULES = [
    "fastzmq._types_dealer",
    "fastzmq._types_router",
    "fastzmq._types_pubsub",
    "fastzmq._types_stream",
]


def register(int socket_type, str name, cls):
    """Make ``ctx.socket(socket_type)`` create a socket whose type part is ``cls()``."""
    if not issubclass(cls, TypeBase):
        raise TypeError(f"{cls!r} is not a TypeBase subclass")
    _TYPES[socket_type] = cls
    SOCKET_TYPE_NAMES[socket_type] = name


def type_class(int socket_type):
    """The TypeBase subclass of socket_type (None: not a socket type we have)."""
    cls = _TYPES.get(socket_type)
    if cls is None:
        for mod in TYPE_MODULES:
            import_module(mod)
        cls = _TYPES.get(socket_type)
    return cls


cdef class TypeBase:
    """The part of a socket type that is its own. The defaults are DEALER's: send
    load-balanced, receive fair-queued, every pipe taken, nothing filtered.

    Every hook gets the core ``s`` (all its fields and strategies, see _socket.pxd).
    A subclass sets its flags in ``__cinit__`` and overrides only what differs."""

    def __cinit__(self):
        self.socket_type = -1
        self.can_send = True
        self.can_recv = True
        self.lb_fast = True
        self.fq_fast = True

    cdef int xinit(self, SocketCore s) except -1:
        """The socket was created (set type-specific option defaults here)."""
        return 0

    cdef bint xattach(self, SocketCore s, Pipe p) except -1:
        """A pipe to a new peer: False refuses it (the base does not add it)."""
        return True

    cdef bint xdetach(self, SocketCore s, Pipe p) except -1:
        """The pipe's peer is gone (p.detached is set after); False: p was never
        attached (refused by xattach and kept aside), the base forgets it at once."""
        return True

    cdef int xconnected(self, SocketCore s, Pipe p, int how) except -1:
        """A peer's connection: how 0 down (the pipe lives on), 1 up again (reconnected),
        2 first connection of a pipe made at connect() (activated), 3 attached with its
        connection up."""
        return 0

    cdef int xsend_one(self, SocketCore s, bytes data, int flags) except -1:
        """A single-frame message (not taken by the lb_fast path)."""
        return self.xsend(s, [data], flags)

    cdef bint xbegin(self, SocketCore s, bytes first, int flags) except -1:
        """The first frame of a multipart message (SNDMORE): pick its route now
        (s.out_pipe, s.out_drop); False: the frame is not part of what is sent."""
        if self.lb_fast:
            s.out_pipe = s._wait_writable(flags)
        return True

    cdef int xsend(self, SocketCore s, list frames, int flags) except -1:
        """A whole message (s.out_pipe: the pipe chosen at its first frame, or None)."""
        return s._lb_send(frames, flags)

    cdef int xsend_routed(self, SocketCore s, bytes data, int flags, object routing_id,
                          object group) except -1:
        """send(data, routing_id=..., group=...) with either given: libzmq ignores a
        message's routing id and group but on the types that use them."""
        s._send(data, flags, False)
        return 0

    cdef object xframe(self, SocketCore s, object frame):
        """A Frame about to be returned by recv(copy=False) (set its routing_id/group)."""
        return frame

    cdef list xrecv(self, SocketCore s, int flags):
        """One whole message for the user (blocking per flags / RCVTIMEO)."""
        return s._fq_recv(flags)

    cdef list xfilter(self, SocketCore s, Pipe p, list msg):
        """A message read from p: what the user gets, or None to drop it."""
        return msg

    cdef list xqueued(self, SocketCore s):
        """A message the type made itself (ROUTER_NOTIFY), taken before the pipes'."""
        return None

    cdef bint xaccept(self, SocketCore s, bytes first) except -1:
        """fq_filter types: does a message with this first frame reach the user?"""
        return True

    cdef bint xreadable(self, SocketCore s) except -1:
        """Is a message for the user there now (POLLIN, blocking recv)?"""
        return s._pipes_readable()

    cdef int xevents(self, SocketCore s, int ev) except -1:
        """The final POLLIN|POLLOUT (1|2) of ZMQ_EVENTS (REQ/REP mask one by state)."""
        return ev

    cdef int xcommand(self, SocketCore s, Pipe p, object name, object data) except -1:
        """A ZMTP command that reached the socket (PING/PONG never do, but SUB's PONGs)."""
        return 0

    cdef int xclose(self, SocketCore s) except -1:
        """Every pipe is dropped (close): forget per-pipe state."""
        return 0


cdef class SocketCore:
    def __cinit__(self, *args, **kwargs):
        self.sig = Waiter()
        self.ww.asleep = 0
        self.ww.users = 0
        self.ww.fd = self.sig.w.fd
        self.ww.wfd = self.sig.w.wfd
        self.mailbox = []
        self.pipes = []
        self.last_in_id = -1
        self.out_parts = None
        self.in_parts = None
        self.options = {}
        self.sndhwm = 1000
        self.rcvhwm = 1000
        self.sndtimeo = -1
        self.rcvtimeo = -1
        self.linger = -1
        self.maxmsgsize = -1

    def _init_core(self, int socket_type):
        cls = type_class(socket_type)
        if cls is None:
            raise ZMQError(EINVAL, f"Invalid socket type: {socket_type}")
        cdef TypeBase impl = cls()
        impl.socket_type = socket_type
        impl.name = SOCKET_TYPE_NAMES[socket_type]
        self.impl = impl
        self.socket_type = socket_type
        self.can_send = impl.can_send
        self.can_recv = impl.can_recv
        self.lb_fast = impl.lb_fast
        self.fq_fast = impl.fq_fast
        self.fq_filter = impl.fq_filter
        self._update_fast()
        impl.xinit(self)

    cdef int _update_fast(self) except -1:
        """recv's fast path in one flag: after CONFLATE or the read-ahead changes."""
        self.fast_recv = (self.can_recv and self.fq_fast and not self._conflate
                          and self.stash is None)
        return 0

    @property
    def conflate(self):
        return self._conflate

    @conflate.setter
    def conflate(self, bint value):
        self._conflate = value
        self._update_fast()

    def _shadow_of(self, SocketCore target):
        """Make this object a shadow of target (socket.py's Socket.shadow): the public
        entry points below forward to it; nothing of this core is used."""
        while target.target is not None:  # a shadow of a shadow: the socket itself
            target = target.target
        self.target = target
        self.socket_type = target.socket_type
        self.impl = target.impl
        self.closed = target.closed

    # ------------------------------------------------------------------ pipes
    def _post(self, command, arg, bint wake=True):
        """Called from any thread: queue a command for this socket and wake it; with
        wake=False (a command that changes nothing a blocked call waits for) only
        _wait_peers is woken, or a mailbox of 64 commands (what they hold is freed), and
        the rest is processed at the socket's next call. The callers hold the GIL, which
        orders this against _wait_peers' flag and count."""
        if self.closed:
            return  # (never processed: a pipe kept in the mailbox would be a cycle)
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
                self.impl.xconnected(self, arg, 1)
            elif command == "activated":
                self.impl.xconnected(self, arg, 2)
            elif command == "disconnected":
                self.impl.xconnected(self, arg, 0)
        return 0

    cdef int _signal(self) except -1:
        waiter_signal(&self.sig.w)
        return 0

    def _take_mail(self):
        """Process the mailbox now (pipes posted by other threads), nothing else."""
        if self.mailbox:
            self._process_mailbox()

    def _attach(self, Pipe pipe, bint fresh=False):
        """Adopt a pipe: wire up its waiters, give it an id, let the type take it.
        ``fresh``: a pipe made in this thread that no other thread has seen yet (a
        tcp/ipc connect's), so nothing can be queued in it and no wake-up is due."""
        pipe.out.writer = &self.ww
        pipe.out._writer_ref = self
        pipe.inq.reader = &self.sig.w
        pipe.inq._reader_ref = self
        pipe.pipe_id = self.next_pipe_id
        self.next_pipe_id += 1
        if not self.impl.xattach(self, pipe):
            return
        self._adopt(pipe, fresh)

    def _adopt(self, Pipe pipe, bint fresh=False):
        """Add an accepted pipe (also a ROUTER's pipe parked until its id was free)."""
        self.pipes.append(pipe)
        if self.probe_router:
            # PROBE_ROUTER: an empty message announces us, once per pipe as in libzmq
            # (a connecter's pipe queues it for its first connection)
            if self.probed is not None and pipe in self.probed:
                self.probed.discard(pipe)
            else:
                pipe.write_one(b"")
        if pipe.connected:
            self.impl.xconnected(self, pipe, 3)
        if not fresh:  # the peer may have queued messages before we were attached
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

    cdef Py_ssize_t _live_pipes(self):
        cdef Pipe p
        cdef Py_ssize_t n = 0
        for p in self.pipes:
            if not p.detached:
                n += 1
        return n

    def _detach(self, Pipe pipe):
        """The peer is gone: stop sending to it; drop it once its queue is read."""
        if not self.impl.xdetach(self, pipe):
            pipe.detached = True
            return
        pipe.detached = True
        if not pipe.has_msg():
            self._drop_pipe(pipe)

    def _drop_pipe(self, Pipe pipe):
        try:
            self.pipes.remove(pipe)
        except ValueError:
            pass

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
        cdef bint woke = (remaining != 0 and waiter_spin_budget() > 0
                          and self._spin(remaining, for_write))
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

    cdef bint _spin(self, int remaining_ms, bint for_write=False):
        """waiter_spin on both waiters; with one inproc peer, gated on its read waiter."""
        cdef long long spin_ns = waiter_spin_budget()
        cdef waiter_t* gate = NULL
        cdef Pipe p
        if remaining_ms > 0:
            spin_ns = min(spin_ns, <long long>remaining_ms * 1000000)
        if self.pipes:
            for p in self.pipes:
                if p.connected:
                    break
            else:  # no peer is up (e.g. a REQ still connecting): nothing comes that soon
                return False
        if len(self.pipes) == 1:
            p = self.pipes[0]
            if p.kind == PIPE_INPROC:
                gate = p.out.reader
            elif p.out.direct_fn != NULL and not for_write:  # (direct_in with it)
                return self._spin_direct(p, spin_ns)
        with nogil:
            return waiter_spin(&self.sig.w, &self.ww, gate, spin_ns, _gate_ns, -1)

    cdef bint _spin_direct(self, Pipe p, long long spin_ns):
        """_spin for a read on one connection whose engine lets us pump it: spin watching
        its OS socket too, and when that turns readable, read it here (Ring.direct_in)
        instead of waiting for the I/O thread to wake and hand the message over."""
        cdef long long deadline = time.monotonic_ns() + spin_ns
        cdef long long left
        cdef int fd
        cdef bint woke
        while True:
            left = deadline - time.monotonic_ns()
            if left <= 0 or p.out.direct_fn == NULL:
                return False
            fd = p.out.direct_fd
            with nogil:
                woke = waiter_spin(&self.sig.w, &self.ww, NULL, left, 0, fd)
            if woke:
                return True
            if fz_load_relaxed_int(&self.sig.w.asleep) != 1 or p.out.direct_fn == NULL:
                return False  # signalled meanwhile (the caller's poll returns at once)
            waiter_disarm(&self.sig.w)  # awake: our own publish must not signal us
            if p.out.direct_in(p.out.direct_ctx) != 0:
                waiter_arm(&self.sig.w)
                return p.has_msg()
            if p.has_msg():
                return True
            waiter_arm(&self.sig.w)
            if p.has_msg():
                return True

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

    cdef int _lb_send(self, list frames, int flags) except -1:
        """Load-balance: the message to the pipe chosen at its first frame, or now."""
        cdef Pipe p = self.out_pipe
        self.out_pipe = None
        if p is None:
            p = self._wait_writable(flags)
        p.write_msg(frames)
        return 0

    # ------------------------------------------------------------------ send
    def send(self, data, int flags=0, bint copy=True, bint track=False, routing_id=None, group=None):
        """Send one frame; with SNDMORE, more frames of the same message follow."""
        if self.target is not None:
            return SocketCore.send(self.target, data, flags, copy, track, routing_id, group)
        if track or (not copy and type(data) is not bytes):
            # trackers (and a Frame's own): socket.py's _send_tracked
            return self._send_tracked(data, flags, copy, track, False)
        if routing_id is not None or group is not None:
            if type(data) is not bytes:
                data = _to_frame_bytes(data)
            self.impl.xsend_routed(self, data, flags, routing_id, group)
            return None
        return self._send(data, flags, False)

    def _pipes_now(self):
        """The attached pipes (for MessageTracker: which ones a send wrote to)."""
        return list(self.pipes)

    def _cannot(self, what):
        return ZMQError(ENOTSUP, f"{SOCKET_TYPE_NAMES[self.socket_type]} sockets cannot {what}")

    cdef object _send(self, object data, int flags, bint track):
        """send() after argument parsing (``_fastcall.pyx`` calls it directly)."""
        cdef Pipe p
        self._enter()
        if not self.can_send:
            raise self._cannot("send")
        if type(data) is not bytes:
            data = _to_frame_bytes(data)
        if flags & SNDMORE:
            self._send_more(data, flags)
        elif self.out_parts is None:
            if self.lb_fast:
                # the hot path: a single-frame message, load-balanced; one peer with room
                # (the common case) needs no round robin
                if len(self.pipes) == 1 and (<Pipe>self.pipes[0]).can_write():
                    p = <Pipe>self.pipes[0]
                else:
                    p = self._wait_writable(flags)
                p.write_one(data)
            else:
                self.impl.xsend_one(self, data, flags)
        else:
            self._finish_message(data, flags)
        return None

    def send_multipart(self, msg_parts, int flags=0, copy=True, track=False, **kwargs):
        """Send a sequence of frames as one message."""
        cdef list frames = []
        cdef Py_ssize_t i, n
        cdef object part
        if self.target is not None:
            return SocketCore.send_multipart(self.target, msg_parts, flags, copy, track, **kwargs)
        if track or not copy:  # trackers (and Frames' own): socket.py's _send_tracked
            return self._send_tracked(msg_parts, flags, copy, track, True)
        self._enter()
        if not self.can_send:
            raise self._cannot("send")
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
        if not more and self.out_parts is None and self.lb_fast:
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
        if self.out_parts is None:
            self.out_pipe = None
            self.out_drop = False
            keep = self.impl.xbegin(self, data, flags)
            self.out_parts = []
            if not keep:
                return 0
        self.out_parts.append(data)
        return 0

    cdef int _finish_message(self, bytes data, int flags) except -1:
        cdef list frames
        if self.out_parts is None:
            return self.impl.xsend_one(self, data, flags)
        frames = self.out_parts
        frames.append(data)
        self.out_parts = None
        try:
            return self.impl.xsend(self, frames, flags)
        finally:
            self.out_pipe = None

    def _abort_message(self):
        """The message being assembled is given up (an error at its first frame)."""
        self.out_parts = None
        self.out_pipe = None

    # ------------------------------------------------------------------ recv
    def recv(self, int flags=0, bint copy=True, bint track=False):
        """Receive one frame (bytes, or a Frame with copy=False)."""
        cdef object f
        if self.target is not None:
            return SocketCore.recv(self.target, flags, copy, track)
        self._enter()
        f = self._recv_frame(flags)
        if copy:
            return f
        return self.impl.xframe(self, Frame._from_bytes(f, self.rcvmore, self._in_properties()))

    def recv_multipart(self, int flags=0, copy=True, track=False):
        """Receive every frame of one message, as a list."""
        cdef list parts
        if self.target is not None:
            return SocketCore.recv_multipart(self.target, flags, copy, track)
        self._enter()
        parts = [self._recv_frame(flags)]
        while self.rcvmore:
            parts.append(self._recv_frame(flags))
        if not copy:
            n = len(parts) - 1
            props = self._in_properties()
            return [self.impl.xframe(self, Frame._from_bytes(b, i < n, props))
                    for i, b in enumerate(parts)]
        return parts

    cdef object _in_properties(self):
        """The metadata of the connection the current message came from, or None."""
        cdef Pipe p
        for p in self.pipes:
            if p.pipe_id == self.last_in_id:
                return p.properties
        return None

    cdef object _recv_frame(self, int flags):
        cdef int fl = 0
        cdef Pipe p
        cdef object f
        cdef bint blocked = False
        if self.in_parts:
            f = self.in_parts.pop(0)
            self.rcvmore = len(self.in_parts) > 0
            return f
        if self.fast_recv:
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
                        self._command(p, f)
                        continue
                    if self.fq_filter and not self.impl.xaccept(self, f):
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
        if not self.can_recv:
            raise self._cannot("receive")
        cdef list msg = self._recv_msg(flags)
        f = msg.pop(0)
        if msg:
            self.in_parts = msg
            self.rcvmore = True
        else:
            self.rcvmore = False
        return f

    cdef list _recv_msg(self, int flags):
        """One whole message, from the type's xrecv."""
        self.options["_rdeadline"] = 0
        cdef list msg = self.impl.xrecv(self, flags)
        self.options["_rdeadline"] = 0
        return msg

    cdef list _fq_recv(self, int flags):
        """Fair-queue: the next message any pipe has that the type's xfilter keeps."""
        cdef int fl = 0
        cdef Pipe p
        cdef list msg
        while True:
            msg = self.impl.xqueued(self)
            if msg is not None:
                return msg
            if self.stash:
                msg = self._unstash()
                if msg is not None:
                    self.last_in_id = -1
                    return msg
            p = self._fq_pick()
            if p is None:
                self._block_readable(flags)
                continue
            if self._conflate:
                msg = self._read_last(p, &fl)
                if msg is None:
                    continue
            else:
                msg = p.read_msg(&fl)
            if fl & FRAME_COMMAND:
                self._command(p, msg[0])
                continue
            msg = self.impl.xfilter(self, p, msg)
            if msg is not None:
                self.last_in_id = p.pipe_id
                return msg

    cdef int _command(self, Pipe p, object frame) except -1:
        name, data = _command_parts(frame)
        self.impl.xcommand(self, p, name, data)
        return 0

    def _apply_command(self, Pipe p, frame):
        self._command(p, frame)

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

    cdef bint _readable_now(self) except -1:
        return self.impl.xreadable(self)

    cdef bint _pipes_readable(self) except -1:
        """A pipe has a message for the user (commands at its head applied first)."""
        cdef Pipe p
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
            self._command(p, p.read_frame(&fl))
        return False

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
                self._command(p, msg[0])
                continue
            last = msg
        fl[0] = 0
        if last is not None and len(last) > 1:
            return last[-1:]  # libzmq's conflate queue holds one frame: the last one
        return last

    cdef list _unstash(self):
        """The next read-ahead message that passes the type's filter, or None. An empty
        stash is None again, so recv's fast path tests only `stash is None`."""
        cdef list msg
        while self.stash:
            p, msg = self.stash.popleft()
            if not self.stash:
                self.stash = None
                self._update_fast()
            msg = self.impl.xfilter(self, p, msg)
            if msg is not None:
                return msg
        self.stash = None
        self._update_fast()
        return None

    def _stash_msg(self, Pipe p, list msg):
        """Keep a message read ahead (wait_subscribed) for recv."""
        if self.stash is None:
            self.stash = deque()
            self._update_fast()
        self.stash.append((p, msg))

    # ------------------------------------------------------------------ polling
    def _events(self):
        """POLLIN/POLLOUT now; arms the waiters for what is not ready (edge FD)."""
        cdef int ev = 0
        if self.target is not None:
            return self.target._events()
        if self.mailbox:
            self._process_mailbox()
        waiter_drain(&self.sig.w)
        if self.can_recv and (self.in_parts or self._ready_in()):
            ev |= 1
        if self.can_send:
            if self.impl.always_out or self.out_parts is not None or self._lb_pick_peek():
                ev |= 2
        if not ev & 1:
            waiter_arm(&self.sig.w)
            if self.can_recv and self._ready_in():
                ev |= 1
        if not ev & 2 and self.can_send:
            waiter_arm(&self.ww)
            if self._lb_pick_peek():
                ev |= 2
        return self.impl.xevents(self, ev)

    cdef bint _ready_in(self) except -1:
        """POLLIN: for the filtering types (SUB, XSUB) the next message that passes the
        filter is read ahead into ``in_parts`` (queued ones may all be filtered out, so
        "a pipe has data" is not POLLIN); for the others, the type's xreadable."""
        cdef Pipe p
        cdef int fl = 0
        cdef list msg
        if not self.fq_filter:
            return self._readable_now()
        if self.stash:
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
                self._command(p, msg[0])
                continue
            msg = self.impl.xfilter(self, p, msg)
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
        if self.target is not None:
            return self.target._fileno()
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
        self.mailbox = []  # (posted before close: nothing processes them any more)
        self.stash = None
        self._update_fast()
        self.probed = None
        self.out_pipe = None
        # the type forgets its pipes too: a pipe's rings hold the socket's waiters (and so
        # the socket), so a pipe still referenced here would be a cycle only the GC frees
        self.impl.xclose(self)

    def _close_fd(self):
        """Give back the wake-up fd (Socket.close, once the socket is marked closed), as
        libzmq closes a socket's mailbox fd: a closed socket kept alive by references holds
        no fd. Signals still racing in from other threads (the I/O thread's engines, inproc
        peers) are held off by waiter_retire, so none writes to a reused fd number."""
        waiter_retire(&self.ww)  # (borrows sig's fds: retired first, closed by sig)
        self.sig.close()

    def get_stats(self):
        """Counters: messages dropped at a full pipe (PUB/XPUB) and unroutable (ROUTER)."""
        if self.target is not None:
            return self.target.get_stats()
        return {
            "dropped_hwm": self.dropped_hwm,
            "dropped_unroutable": self.dropped_unroutable,
            "pipes": len(self.pipes),
            "read_ahead": len(self.stash) if self.stash else 0,
        }

    # ---- what socket.py asks of some types only (subscriptions): the type answers
    def _subscribe(self, bytes topic, bint add):
        return self._type_op("_subscribe", "have no subscriptions")(self, topic, add)

    def _manual_subscribe(self, bytes topic, bint add):
        return self._type_op("_manual_subscribe", "have no subscriptions")(self, topic, add)

    def _topics_count(self):
        if self.mailbox:
            self._process_mailbox()
        return self._type_op("_topics_count", "have no subscriptions")(self)

    def _wait_subscribed(self, timeout=None, int peers=1):
        self._enter()
        return self._type_op("_wait_subscribed", "have no subscriptions")(self, timeout, peers)

    def _type_op(self, name, what):
        op = getattr(self.impl, name, None)
        if op is None:
            raise ZMQError(ENOTSUP, f"{SOCKET_TYPE_NAMES[self.socket_type]} sockets {what}")
        return op

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

    def _has_mail(self):
        return len(self.mailbox) > 0

    def _arm_both(self):
        """Arm both waiters (inbound data or the mailbox; the write side) before a last
        check and _wait_armed (wait_subscribed)."""
        waiter_arm(&self.sig.w)
        waiter_arm(&self.ww)

    def _disarm_both(self):
        waiter_disarm(&self.ww)
        waiter_disarm(&self.sig.w)

    def _wait_armed(self, int ms, double deadline):
        """Sleep once armed (see _wait): True if the deadline passed."""
        return self._wait(False, ms, deadline)


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

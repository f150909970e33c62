# cython: language_level=3
"""The I/O thread: the poller loop, engines, listeners and connecters for tcp and ipc.

Theory of operation
-------------------
One I/O thread per context (more with ``io_threads``) owns every OS socket. Its loop
(``IOThread._run``) waits in the poller (``_poller.h``: epoll by default) and
dispatches events **without the GIL**: an event on an active engine's fd runs
``Engine.pump`` in C, and so does a signal of the engine's waiter (a socket thread
published into the engine's outbound ring, or freed room in its inbound ring). An
engine's waiter has no fd: it is a member of the thread's ``WakeGroup`` (one fd for
all), whose stack of signalled members the loop takes after every wait. Everything rare (accepting, connecting, the
handshake, errors, closing, timers, commands from socket threads) is queued as a
"slow" slot and handled afterwards with the GIL held.

``Engine.pump`` (data phase, RFC 23/37 framing):
* out: ``sendmsg`` whole runs of the outbound ring (many messages per syscall),
  with the bodies the socket sent by reference (``_pipe.pyx``, "Zero copy") spliced
  in at their positions (``_gather``); scan what left to count finished messages
  (SNDHWM is whole messages), consume; a body whose last byte left completes its
  record, which lets the socket thread release the object;
  (an engine given a C hook by ``set_xmit``, a PGM source's, hands it the iovecs instead
  of ``sendmsg``; EAGAIN from it means paced: its own timer fd wakes the engine);
  (an engine given a C hook by ``set_recv``, a PGM receiver's, reads from it instead of
  ``recv``: ZMTP 3 bytes decoded from the PGM datagrams, ``_pgmrcv.pyx``);
* in: ``recv`` straight into the inbound ring's free space, scan it (validating
  flags, enforcing MAXMSGSIZE), and publish only up to the end of the last complete
  message, so a socket never sees part of a message; stop reading at RCVHWM; a huge
  data frame's body (``BIG_FRAME_MIN``) is received into the bytes object the user gets
  and handed over by reference ("huge frames" below, ARCHITECTURE.md);
* sleep: arm the engine's waiter only when it wants a wake-up from the socket side
  (outbound ring empty, or input throttled), then re-check (Dekker pairing with the
  ring's publish/consume; see _waiter.pxd).

Control commands (RFC 37 "Connection Heartbeating"; docs/heartbeats.md): every engine
answers a PING itself, at once, whatever its socket's thread is doing, as libzmq does.
PING and PONG never reach the socket (except the PONGs a SUB's ``wait_subscribed`` waits
for, docs/pubsub.md): an idle socket must not queue them, nor be woken, nor see POLLIN.
The frame scanner counts command headers (``scan_state.ncmds``); only a read in which
that count moved (or which ends inside a command) is walked again by ``_strip``, which
handles PING/PONG and moves the rest of the read down over them before it is committed.
A small command cut by the end of a read is held back (``hold``) and completed by the
next one, so a PING is never half committed. The PONG (and our own PING) may only go on
the wire at a message boundary of the outbound stream: the engine flushes up to a
boundary position (the current one if the stream is at a boundary, else everything the
socket had published: the socket publishes whole messages), writes the command bytes
(``ctl``), then resumes. Every PING gets its PONG, in order (up to 4 pending: a flood
keeps the latest), so the peer's own heartbeats never hide a ``wait_subscribed`` PING. By
the time a PONG leaves, the commands received before its PING (SUBSCRIBE, CANCEL) are
published to the socket's inbound ring, so a publisher's next send sees them.
A slow consumer is not a dead peer: an engine stopped at RCVHWM reads (hears) nothing,
so a timeout or TTL that finds it stopped judges again later. A lingering close waits
for the kernel to deliver what it holds (``_drain``): closing with unread input (the
peer's PINGs) would reset the connection and drop it.

Heartbeats (HEARTBEAT_IVL/TIMEOUT/TTL; ZMTP 3.1 peers only) run on the I/O thread's
timer heap, with the GIL, never on the data path: "heard from the peer" is a counter of
successful reads (``rx_reads``) that a timer compares with its value when the PING was
queued. With IVL > 0 each connection queues a PING every IVL (our TTL in deciseconds,
a 4-byte sequence context) and dies with ETIMEDOUT if nothing was read TIMEOUT after it
(default IVL). A peer's PING with TTL > 0 arms a TTL watch (the pump asks for it through
``hb_req``, served by the slow path): nothing read for TTL after its last PING, and the
connection dies. Timers are cancelled when the connection dies (``detach_rings``).

The NULL handshake stager (``hsc_*``). A plain connection's handshake (NULL, no ZAP, a
ZMTP 3 peer) is the same bytes every time, and the sans-I/O ``Handshake`` would otherwise
run with the GIL at each of its stages (signature, major version, the rest of the greeting,
READY), one slow-path round per stage on each side. So the engine may run it as a stager
in C, without the GIL: it is given our side's *script* (every byte the ``Handshake`` would
send a ZMTP 3 NULL peer, in order: ``Handshake.null_script``), reads what the peer sends
into a small buffer, and sends each stage of the script once the peer's bytes allow it,
exactly as the ``Handshake`` stages them (our major once the peer's signature is whole and
valid, the rest of the greeting and READY once its major is 2 or more).
The stager decides nothing: at the first byte it does not expect (another revision or
mechanism, a frame other than a short command), at the peer's first whole command (its
READY, the normal end; what the bytes it accepted allow is sent first), at EOF, an error
or a full send buffer, it stops. At the normal end (the
whole script sent, the peer's clean NULL greeting and short READY read) the connection
completes from ``zmtp.handshake.complete_null``, which takes only what a ``Handshake`` would
complete the same way and declines anything else; otherwise the connection builds a
``Handshake`` and hands it everything the stager read in one ``step``, which validates and
completes (or fails) it as if it had read those bytes itself; the bytes the stager sent
must be the start of what the ``Handshake`` produced (checked; else the connection dies),
and the rest of that is sent as usual. One slow-path round per side instead of three, and
the protocol's rules stay in the handshake module.

Direct sends and reads (REQ and REP on tcp/ipc, plain or PLAIN/NULL, edge-triggered
poller; ``fastzmq.tuning.set_direct``). A request/reply round trip otherwise passes
through four threads per direction pair: the socket's thread, its I/O thread, the peer's
I/O thread, the peer socket's thread. On a 2-CPU machine the scheduler often keeps both
socket threads on one CPU and both I/O threads on the other, and every hop is a wake-up
(``bench/reqrep_harness.py``). Such a socket has one message in flight per peer, so there
is no backlog to batch, and its own thread can do the engine's I/O:
* send: ``Ring.publish`` finds the engine's waiter asleep (the engine wants data and the
  I/O thread is not pumping it) and calls ``_direct_send``, which flushes the outbound
  ring with the engine's own ``_flush_out`` in the socket's thread. Only what it could
  not finish (a full socket buffer, a PING or PONG due) wakes the I/O thread.
* read: a blocked recv on the socket's one connection spins watching the OS socket too
  (``SocketCore._spin_direct``); when it turns readable, ``_direct_in`` runs the engine's
  whole pump there (read, strip and answer PINGs, publish to the inbound ring). An error
  or a timer to start (``hb_req``) signals the engine, so the I/O thread's slow path
  ends the connection or arms the timer as usual; past the spin budget the socket
  sleeps on its waiter and the I/O thread delivers, as for any socket. Having handed a
  message to a sleeping socket, the I/O thread still spins for its answer
  (``_reply_expected``, ``IOThread._await_reply``): the socket, woken, will answer or
  close through it soon (a REQ's close after its reply: churn-tcp lost ~6% without it).
Who may touch the engine's pump state: ``xo``, a lock word. The I/O thread takes it for
every pump (``_xo_lock``, which spins: the other holder is quick and never waits for
anything) and a socket's thread only tries it (a failure means the I/O thread is
pumping; it is woken as usual). Both direct paths run in a socket's thread holding the
GIL, so none of the I/O thread's slow paths (which hold the GIL: the timers, death,
``detach_rings``, ``set_closing``) runs meanwhile; those clear the ring's ``direct_fn``
first, so a socket's thread never reaches an engine that is going or gone, nor an OS
socket closed or reused. The engine keeps its edge-triggered readiness honest: the
socket's thread reads until EAGAIN like the I/O thread would, and the I/O thread's
event for the same bytes then finds nothing to read.

epoll is edge-triggered: ``in_ready``/``out_blocked`` remember readiness across
pumps, and both directions go on until EAGAIN (a short read is not proof of an
empty kernel buffer: AF_UNIX streams return less than is queued). On the
level-triggered poll backend the same flags decide the fd's interest after every pump
(``_want``): read once EAGAIN was seen, write while blocked bytes wait.
"""

import errno as _errno
import heapq
import os
import threading
import time
from collections import deque

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, _PyBytes_Resize
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF
from libc.errno cimport EAGAIN, ECONNRESET, EINTR, EPIPE, errno
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove, memset
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from fastzmq._curve cimport CURVE_ERR_FRAME, CURVE_OVERHEAD, CurveCodec
from fastzmq._frame cimport (
    FRAME_COMMAND,
    FRAME_MORE,
    SCAN_ERR_TOO_LARGE,
    decode_header,
    encode_header,
    scan_at_boundary,
    scan_frames,
    scan_init,
    scan_state,
)
from fastzmq._pipe cimport Pipe, ZcQueue, low_water_for, zc_ref
from fastzmq._ring cimport BIG_FRAME_MIN, RefRing, Ring, ref_rec
from fastzmq._waiter cimport (
    WakeGroup,
    Waiter,
    fz_cas_acq_rel_int,
    fz_cpu_relax,
    fz_exchange_acq_rel_int,
    fz_load_relaxed_int,
    fz_store_seq_cst_int,
    fz_load_relaxed_ptr,
    fz_store_release_ptr,
    wake_group_take,
    waiter_arm,
    waiter_backend,
    waiter_disarm,
    waiter_drain,
    waiter_signal,
    waiter_spin_budget,
    waiter_spin_io,
    waiter_t,
)

from fastzmq import constants as _c
from fastzmq._waiter import check_backend
from fastzmq.error import ZMQError


cdef extern from "_poller.h" nogil:
    ctypedef struct fz_event:
        uint32_t events
        uint64_t tag
    ctypedef struct fz_poller:
        int backend
        int fd
    int fz_poller_open(fz_poller* p, int backend)
    void fz_poller_close(fz_poller* p)
    int fz_poller_add(fz_poller* p, int fd, uint64_t tag, uint32_t events)
    int fz_poller_del(fz_poller* p, int fd)
    void fz_poller_want(fz_poller* p, int fd, uint32_t events)
    int fz_poller_wait(fz_poller* p, fz_event* out, int max, int timeout_ms)
    enum:
        FZ_IN
        FZ_OUT
        FZ_ERR
        FZ_HUP
        FZ_RDHUP
        FZ_BACKEND_POLL
    uint32_t FZ_ET

cdef extern from "Python.h":
    void _decref "Py_DECREF"(PyObject* o)

# readiness bits (_poller.h's, equal to epoll's numbers: _transport.py spells them so)
cdef enum:
    EPOLLIN = FZ_IN
    EPOLLOUT = FZ_OUT
    EPOLLERR = FZ_ERR
    EPOLLHUP = FZ_HUP
    EPOLLRDHUP = FZ_RDHUP

cdef extern from "sys/uio.h" nogil:
    cdef struct iovec:
        void* iov_base
        size_t iov_len

cdef extern from "sys/socket.h" nogil:
    cdef struct msghdr:
        void* msg_name
        unsigned int msg_namelen
        iovec* msg_iov
        size_t msg_iovlen
        void* msg_control
        size_t msg_controllen
        int msg_flags
    ssize_t sendmsg(int fd, const msghdr* msg, int flags)
    ssize_t recv(int fd, void* buf, size_t n, int flags)
    ssize_t send(int fd, const void* buf, size_t n, int flags)
    enum:
        MSG_NOSIGNAL
        MSG_DONTWAIT

cdef extern from "sched.h" nogil:
    int sched_yield()

cdef extern from "unistd.h" nogil:
    int close(int fd)

cdef extern from "sys/ioctl.h" nogil:
    int ioctl(int fd, unsigned long request, ...)
    enum:
        TIOCOUTQ        # bytes in a socket's send queue, not yet acknowledged (tcp) or read (unix)

cdef extern from "sys/socket.h" nogil:
    int shutdown(int fd, int how)
    enum:
        SHUT_WR

# An engine's outbound transmit hook (PGM sources, _pgmsrc.pyx): takes the gathered
# iovecs instead of sendmsg() on the fd; returns the bytes taken, or -1 with errno
# (EAGAIN: paced, the hook's own timer fd, registered on the engine's slot, wakes it).
ctypedef ssize_t (*xmit_fn)(void* ctx, iovec* iov, int cnt) noexcept nogil
# An engine's inbound hook (PGM receivers, _pgmrcv.pyx): called instead of recv() on the
# fd; writes up to n bytes of ZMTP 3 frames at buf and returns how many (> 0), or -1
# with errno (EAGAIN: nothing now; the hook's fd, registered on the engine's slot, wakes it).
ctypedef ssize_t (*recv_fn)(void* ctx, unsigned char* buf, size_t n) noexcept nogil

cdef enum:
    KIND_ENGINE = 0     # an engine's OS socket
    KIND_WAKE = 1       # the I/O thread's wake group fd (engines signalled by sockets)
    KIND_SLOW = 2       # a listener or connecter socket (always the slow path)
    KIND_CMD = 3        # the I/O thread's own command waiter

cdef enum:
    ST_HANDSHAKE = 0
    ST_ACTIVE = 1
    ST_DEAD = 2

cdef enum:
    MAX_EVENTS = 256
    MAX_IOV = 64
    ERR_EOF = -100

cdef size_t MAX_SEND_BYTES = 4 * 1024 * 1024
cdef size_t LIMIT_BODY_ONLY = <size_t>-1  # _ctl_step: only a body by reference may go now
cdef size_t BIG_FIRST_BYTES = 32 * 1024 * 1024  # a huge body's first allocation (then x2)
cdef size_t CURVE_BATCH_BYTES = 256 * 1024  # sealed bytes staged per send (stays in cache)
cdef enum:
    SMALL_CMD = 23          # largest command body held back when cut: a PING's
                            # name-len(1) "PING"(4) ttl(2) context(0-16)
    HOLD_MAX = 32           # its frame: a header (at most 9) and that body
    HSC_IN = 512            # the handshake stager's buffer for the peer's bytes
    MAX_PONGS = 4           # PONGs kept due while the outbound stream cannot take them
    TMP_IN = 256            # a read into the stack when a chunk's tail is too short
    SOCK_SUB = 2            # socket types whose wait_subscribed reads PONGs
    SOCK_XSUB = 10
    SOCK_REQ = 3            # socket types whose engines wait for the reply (_await_reply)
    SOCK_REP = 4

# the context of wait_subscribed's PINGs (_types_pubsub.pyx _PING_TAG + an 8-byte sequence)
cdef const char* SUB_PONG_TAG = "fzsb"
cdef enum:
    SUB_PONG_CTX = 12


cdef inline unsigned long long _frame_size(const unsigned char* hdr, int n) noexcept nogil:
    cdef unsigned long long size = 0
    cdef int i
    if n == 2:
        return hdr[1]
    for i in range(1, 9):
        size = (size << 8) | hdr[i]
    return size


cdef inline bint _in_command(const scan_state* st) noexcept nogil:
    """The scanner stopped inside a command frame (its header or its body)."""
    return ((st.hdr_len != 0 and (st.hdr[0] & 4) != 0)
            or (st.remaining != 0 and (st.cur_flags & 4) != 0))


cdef inline void _body_iov(iovec* v, const zc_ref* r, size_t sent) noexcept nogil:
    """v covers what is left of r's body after its first `sent` bytes."""
    v.iov_base = <void*>(r.data + sent)
    v.iov_len = r.size - sent


cdef inline uint64_t _tag(int slot, int kind) noexcept nogil:
    return (<uint64_t>slot << 2) | kind


# ====================================================================== Engine
cdef class Engine:
    """One ZMTP connection: the OS socket, its handshake, then the data pump."""

    cdef int fd
    cdef public int state
    cdef public int slot
    cdef Ring out                   # socket -> wire (we consume)
    cdef Ring inq                   # wire -> socket (we produce)
    cdef ZcQueue zc                 # bodies the socket sent by reference (we consume)
    cdef size_t zc_off              # bytes of the head record's body already sent
    cdef waiter_t* wn               # woken by the socket side: our member of the I/O
                                    # thread's WakeGroup (kept alive by the rings' refs)
    cdef fz_poller* poller          # level-triggered poller (poll backend) to tell our
                                    # interest after each pump; NULL on edge-triggered ones
    cdef scan_state in_scan
    cdef scan_state out_scan
    cdef uint64_t rcvhwm
    cdef bint in_ready              # the kernel may have bytes for us
    cdef bint out_blocked           # the kernel's send buffer was full
    cdef bint out_dead              # EPIPE: the peer reads no more; input may remain
    cdef bint throttled             # input stopped at RCVHWM
    cdef bint closing               # lingering: close once out is flushed
    cdef bint draining              # ... and flushed: FIN sent, the kernel delivers the rest
    cdef public int error           # why it died (errno, ERR_EOF or a scan error)
    cdef public object pysock       # the Python socket object (owns the fd)
    cdef public object hs           # the Handshake while in ST_HANDSHAKE
    # the NULL handshake stager (see the module docstring)
    cdef readonly bint hsc          # it runs this handshake (from hsc_start to hsc_take)
    cdef bint hsc_over              # it stopped: Python takes over (hsc_take)
    cdef int hsc_err                # what ended its reading: errno, ERR_EOF, 0: nothing
    cdef int hsc_stage              # how much of the script the peer's bytes allow (0..3)
    cdef int hsc_sent               # bytes of the script sent
    cdef int hsc_len                # bytes of the peer's in hsc_in
    cdef bytes hsc_script           # our side's bytes: signature, major, tail, READY
    cdef const unsigned char* hsc_out  # its buffer
    cdef int hsc_out_len
    cdef unsigned char hsc_in[HSC_IN]
    cdef object _hs_out             # handshake bytes not yet sent (property hs_out)
    cdef public object owner        # Listener or Connecter
    cdef public object socket       # the fastzmq socket this connection serves
    cdef public Pipe pipe
    cdef public long long maxmsgsize
    # control commands (see the module docstring)
    cdef bint keep_sub_pongs        # SUB/XSUB: wait_subscribed's PONGs go to the socket
    cdef int hold_len               # a small command cut at the end of a read: not committed
    cdef unsigned char hold[HOLD_MAX]
    cdef bint ctl_due               # a PONG and/or a PING goes out once out reaches ctl_at
    cdef bint ping_due
    cdef uint64_t ctl_at            # absolute out position: a message boundary
    cdef int npongs                 # PONGs due (their contexts, oldest first)
    cdef int pong_len[MAX_PONGS]
    cdef unsigned char pong_ctx[MAX_PONGS][16]
    cdef int ctl_len, ctl_off       # command bytes being written
    cdef unsigned char ctl[MAX_PONGS * 23 + 13]
    cdef public uint64_t pongs_sent, pings_sent, pings_received
    # heartbeats (see the module docstring)
    cdef public object io           # the IOThread (its timers)
    cdef uint64_t rx_reads          # reads that brought bytes: "heard from the peer"
    cdef double hb_ivl, hb_timeout  # seconds, 0: off
    cdef int hb_ttl_ds              # our TTL, sent in our PINGs (deciseconds)
    cdef uint64_t rx_at_ping        # rx_reads when our PING that the timeout watches was queued
    cdef double peer_ttl            # seconds, from the peer's last PING (0: none)
    cdef double peer_ping_at        # monotonic time of that PING
    cdef uint64_t rx_at_peer_ping   # rx_reads just after it
    cdef bint ttl_watch             # a TTL timer is running
    cdef bint hb_req                # the pump wants _hb_service (a TTL watch to start)
    cdef object t_ivl, t_timeout, t_ttl, t_drain  # timer handles (IOThread.add_timer)
    cdef bint expects_reply         # REQ/REP: a message in is soon followed by one out
    cdef bint delivered             # _fill_in handed such a socket a message
    cdef bint direct                # its socket's thread may pump it (direct I/O)
    cdef public CurveCodec curve    # CURVE traffic transform (None: plain frames on the wire)
    cdef double rx_at               # monotonic time of the last read that brought bytes
    cdef xmit_fn xmit               # not NULL: the outbound bytes go to this hook (PGM)
    cdef void* xctx
    cdef recv_fn rcv                # not NULL: the inbound bytes come from this hook (PGM)
    cdef void* rctx
    cdef public uint64_t throttles  # times input stopped at RCVHWM (PGM's stats: pauses)
    # huge frames (BIG_FRAME_MIN or more): body received straight into its bytes object
    cdef RefRing bigq               # the pipe's queue of such bodies, to the socket
    cdef PyObject* big              # the bytes object being filled (ours), or NULL
    cdef char* big_data             # its buffer
    cdef size_t big_size, big_got, big_cap  # announced body size, bytes in, allocated
    cdef uint64_t big_pos           # inbound-ring position just after its header
    cdef ref_rec* bigv              # finished bodies of the message being received (ours)
    cdef int nbig, capbig
    # who owns the pump state: 1 while the I/O thread pumps us, or a socket's thread sends
    # or reads for us (_direct_send, _direct_in: "Direct sends and reads" above)
    cdef int xo

    def __cinit__(self):
        self.state = ST_HANDSHAKE
        self.slot = -1
        self.fd = -1
        self._hs_out = b""

    def __dealloc__(self):
        self._big_release()

    @property
    def hs_out(self):
        return self._hs_out

    @hs_out.setter
    def hs_out(self, value):
        self._hs_out = value
        if self.poller != NULL and self.state == ST_HANDSHAKE:
            fz_poller_want(self.poller, self.fd, FZ_IN | (FZ_OUT if value else 0))

    @property
    def last_heard(self):
        """time.monotonic() of the last read that brought bytes from the peer (0.0: none)."""
        return self.rx_at

    cdef int pump(self) noexcept nogil:
        """Move bytes both ways until nothing more can move; 0, or why it must die."""
        cdef int rc
        _xo_lock(&self.xo)
        rc = self._pump_held()
        fz_store_seq_cst_int(&self.xo, 0)
        return rc

    cdef int _pump_held(self) noexcept nogil:
        cdef uint64_t reads = self.rx_reads
        cdef int rc = self._pump()
        if self.rx_reads != reads:
            self.rx_at = _now()  # once per pump that heard the peer (peers(): last heard)
        if self.poller != NULL:
            self._want()
        return rc

    cdef void _want(self) noexcept nogil:
        """Level-triggered poller: ask for read readiness only once a read saw EAGAIN (not
        while stopped at RCVHWM), for write readiness only while unsent bytes are blocked."""
        cdef uint32_t ev = 0
        if not self.in_ready:
            ev |= FZ_IN
        if self.out_blocked and not self.out_dead and self.xmit == NULL:
            ev |= FZ_OUT
        fz_poller_want(self.poller, self.fd, ev)

    cdef int _pump(self) noexcept nogil:
        cdef int rc
        while True:
            rc = self._flush_out()
            if rc != 0:
                return rc
            if self.closing and not self._out_ready():
                return self._drain()
            rc = self._fill_in()
            if rc != 0:
                return rc
            if self.ctl_due and not self.out_blocked:
                continue  # a PING arrived (or ours is due): send it now
            if not self._arm():
                return 0

    cdef int _drain(self) noexcept nogil:
        """Lingering, the ring flushed: end once the kernel has delivered everything (ERR_EOF).

        close() with unread input makes the kernel reset the connection, and a reset drops
        what it still had to send (a peer's PINGs make unread input likely). So: send FIN
        after the data, read and drop what comes, and end when the send queue is empty
        (polled by a timer, _drain_tick) or the peer, having read it all, closes."""
        cdef int queued = 0
        cdef unsigned char sink[2048]
        cdef ssize_t n
        while True:  # unread input first: then close() sends FIN, not a reset
            n = recv(self.fd, sink, sizeof(sink), MSG_DONTWAIT)
            if n == 0:
                return ERR_EOF  # the peer read everything and closed
            if n < 0:
                if errno == EINTR:
                    continue
                if errno == EAGAIN:
                    self.in_ready = False
                    break
                return ERR_EOF  # reset: nothing more can be delivered
            self.rx_reads += 1
        if ioctl(self.fd, TIOCOUTQ, &queued) < 0 or queued <= 0:
            return ERR_EOF
        if not self.draining:
            self.draining = True
            shutdown(self.fd, SHUT_WR)
            self.hb_req = True  # the slow path starts _drain_tick
        return 0

    cdef int _send_failed(self) noexcept nogil:
        """A send()/sendmsg() returned -1: what errno means for the outbound direction.
        -1: interrupted, try again; 0: stop sending for now (the kernel's buffer is full, or
        the peer reads no more: then send no more, but read what it sent); else the errno
        the connection dies of."""
        if errno == EAGAIN:
            self.out_blocked = True
            return 0
        if errno == EINTR:
            return -1
        if errno == EPIPE or errno == ECONNRESET:
            self.out_dead = True
            self.out_blocked = True
            return 0
        return errno

    cdef bint _arm(self) noexcept nogil:
        """Arm the waiter if we want the socket to wake us; True if work appeared."""
        cdef bint want_out = not self.out_blocked
        cdef bint want_in = self.throttled
        if (not want_out and not want_in) or self.wn == NULL:
            return False  # (no waiter yet: activated before the I/O thread registered us)
        if want_in:
            fz_store_release_ptr(<void**>&self.inq.writer, self.wn)
        waiter_arm(self.wn)
        if want_out and self._out_ready():
            waiter_disarm(self.wn)
            return True
        if want_in and self.inq.below_hwm(self.rcvhwm):
            waiter_disarm(self.wn)
            self.throttled = False
            fz_store_release_ptr(<void**>&self.inq.writer, NULL)
            return True
        return False

    cdef const zc_ref* _body_here(self) noexcept nogil:
        """The record whose body comes next on the wire (its header is sent), or NULL."""
        cdef size_t nref
        cdef bint all_seen
        cdef const zc_ref* r = self.zc.peek(&nref, &all_seen)
        return r if nref > 0 and r[0].pos == self.out.rpos else NULL

    cdef bint _out_ready(self) noexcept nogil:
        """Something to send: out-ring bytes, or the rest of a body at the read position
        (or, under CURVE, sealed bytes not yet sent)."""
        if self.curve is not None and self.curve.olen > self.curve.ooff:
            return True
        return self.out.readable() > 0 or self._body_here() != NULL

    cdef int _gather(self, iovec* iov, unsigned char* isref, size_t limit) noexcept nogil:
        """The iovecs of the next sendmsg: out-ring runs (at most limit bytes of them) with
        the bodies sent by reference spliced in where they belong; isref[i] marks a body.

        Ring runs are read (acquire) before the records, so every record of a position
        inside them is visible (pushed before the bytes were published). A body sits at
        its record's position: right after its header, so never at a message boundary,
        which is where a PONG limit ends the runs. When the records visible at once end
        (chunk boundary) before the runs do, the runs stop at the last record: a later
        record could belong inside them.
        """
        cdef iovec runs[MAX_IOV]
        cdef int nruns = self.out.read_iov(runs, MAX_IOV, limit)
        cdef int i, m = 0
        cdef size_t nref, j = 0, k, left
        cdef bint all_seen
        cdef const zc_ref* r = self.zc.peek(&nref, &all_seen)
        cdef const unsigned char* base
        cdef uint64_t pos = self.out.rpos
        if nref == 0:
            memcpy(iov, runs, nruns * sizeof(iovec))
            memset(isref, 0, nruns)
            return nruns
        for i in range(nruns):
            base = <const unsigned char*>runs[i].iov_base
            left = runs[i].iov_len
            while left:
                if j == nref and not all_seen:
                    return m
                if m == MAX_IOV:
                    return m
                if j < nref and r[j].pos == pos:
                    _body_iov(&iov[m], &r[j], self.zc_off if j == 0 else 0)
                    isref[m] = 1
                    m += 1
                    j += 1
                    continue
                k = left
                if j < nref and r[j].pos - pos < k:
                    k = <size_t>(r[j].pos - pos)
                iov[m].iov_base = <void*>base
                iov[m].iov_len = k
                isref[m] = 0
                m += 1
                base += k
                left -= k
                pos += k
        if j < nref and r[j].pos == pos and m < MAX_IOV:
            # a body right after the last run (its header was the last byte published)
            _body_iov(&iov[m], &r[j], self.zc_off if j == 0 else 0)
            isref[m] = 1
            m += 1
        return m

    cdef int _flush_out(self) noexcept nogil:
        cdef iovec iov[MAX_IOV]
        cdef unsigned char isref[MAX_IOV]
        cdef msghdr mh
        cdef int cnt, i, rc
        cdef ssize_t n
        cdef size_t left, k, nmsgs, total, ring_bytes
        cdef Py_ssize_t last_end
        cdef size_t limit
        if self.curve is not None:
            return self._curve_flush_out()
        if self.xmit != NULL:
            self.out_blocked = False  # a hook is never kernel-blocked: it asks its pacing
        while not self.out_blocked:
            limit = MAX_SEND_BYTES
            if self.ctl_off < self.ctl_len or self.ctl_due:
                rc = self._ctl_step(&limit)
                if rc != 0:
                    return rc
                if limit == 0:
                    continue  # command bytes moved (or blocked): look again
                if limit == LIMIT_BODY_ONLY:
                    limit = 0  # _gather: no ring bytes, the body at the read position
            cnt = self._gather(iov, isref, limit)
            if cnt == 0:
                return 0
            mh.msg_name = NULL
            mh.msg_namelen = 0
            mh.msg_iov = iov
            mh.msg_iovlen = cnt
            mh.msg_control = NULL
            mh.msg_controllen = 0
            mh.msg_flags = 0
            if self.xmit != NULL:
                n = self.xmit(self.xctx, iov, cnt)
            else:
                n = sendmsg(self.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT)
            if n < 0:
                rc = self._send_failed()
                if rc < 0:
                    continue
                return rc
            total = 0
            ring_bytes = 0
            left = <size_t>n
            for i in range(cnt):
                if left == 0:
                    break
                k = iov[i].iov_len if iov[i].iov_len < left else left
                scan_frames(&self.out_scan, <const unsigned char*>iov[i].iov_base, k,
                            &last_end, &nmsgs)
                total += nmsgs
                left -= k
                if not isref[i]:
                    ring_bytes += k
                elif k == iov[i].iov_len:
                    self.zc.finish()    # the whole body is in the kernel
                    self.zc_off = 0
                else:
                    self.zc_off += k
            self.out.consume(ring_bytes, total)
            # a short write is not proof the buffer is full: go on until EAGAIN
        return 0

    cdef unsigned char* _in_space(self, unsigned char* tmp, size_t* room) noexcept nogil:
        """Where the next bytes go: the ring's write space with the held bytes (if any)
        put back in front, or tmp when the chunk's tail has no room beyond them (rare).
        *room = free bytes after the held ones; NULL when out of memory."""
        cdef size_t avail
        cdef unsigned char* p = self.inq.write_space(&avail)
        if p == NULL:
            return NULL
        if avail <= <size_t>self.hold_len:
            p = tmp
            avail = TMP_IN
        if self.hold_len:
            memmove(p, self.hold, self.hold_len)
        room[0] = avail - self.hold_len
        return p

    cdef bint _reply_expected(self) noexcept nogil:
        """Whether the I/O thread should spin for the answer to what it is about to hand
        over (IOThread._await_reply): request/reply traffic; with direct I/O only when the
        socket sleeps (else it reads and answers by itself; a sleeper, woken, answers or
        closes through us soon)."""
        if not self.expects_reply:
            return False
        if not self.direct:
            return True
        return self.inq.reader != NULL and fz_load_relaxed_int(&self.inq.reader.asleep) == 1

    cdef int _fill_in(self) noexcept nogil:
        cdef unsigned char tmp[TMP_IN]
        cdef unsigned char* p
        cdef size_t room
        cdef ssize_t n
        cdef int rc
        if self.curve is not None:
            return self._curve_fill_in()
        while self.in_ready:
            if self.rcvhwm and not self.inq.below_hwm(self.rcvhwm):
                if not self.throttled:
                    self.throttles += 1
                self.throttled = True
                return 0
            if self.big != NULL:
                p = <unsigned char*>self._big_space(&room)  # (hold_len is 0 in a body)
            else:
                p = self._in_space(tmp, &room)
            if p == NULL:
                return 12  # ENOMEM
            if self.rcv != NULL:
                n = self.rcv(self.rctx, p + self.hold_len, room)
            else:
                n = recv(self.fd, p + self.hold_len, room, MSG_DONTWAIT)
            if n == 0:
                return ERR_EOF
            if n < 0:
                if errno == EAGAIN:
                    self.in_ready = False
                    return 0
                if errno == EINTR:
                    continue
                return errno
            self.rx_reads += 1
            if self.big != NULL:
                rc = self._big_absorb(<size_t>n)
            else:
                rc = self._absorb(p, self.hold_len + <size_t>n, p != tmp)
            if rc != 0:
                return rc
            # A short read does not prove the kernel buffer is drained (an AF_UNIX
            # stream may return less than is queued): with edge-triggered epoll we must
            # read until EAGAIN, or the tail of a burst waits for an edge that never comes.
        return 0

    cdef int _absorb(self, unsigned char* buf, size_t n, bint in_ring) noexcept nogil:
        """Take n bytes that arrived (held bytes first): scan, commit, publish the whole
        messages. buf is the ring's write space (in_ring) or a copy to write in."""
        cdef scan_state before = self.in_scan
        cdef uint64_t base = self.inq.wpos
        cdef Py_ssize_t last_end
        cdef size_t nmsgs, tail = 0
        cdef int rc
        self.hold_len = 0
        rc = scan_frames(&self.in_scan, buf, n, &last_end, &nmsgs)
        if rc < 0:
            return rc
        if self.in_scan.ncmds != before.ncmds or _in_command(&self.in_scan):
            # a command is here: handle PING/PONG (and hold a cut one back), scan again
            self.in_scan = before
            n = self._strip(buf, n, &before)
            rc = scan_frames(&self.in_scan, buf, n, &last_end, &nmsgs)
            if rc < 0:
                return rc
        if self.in_scan.remaining != 0 and self.in_scan.cur_size >= BIG_FRAME_MIN:
            tail = self._big_start(buf, n)  # the body's first bytes leave buf
            if tail == <size_t>-1:
                return 12  # ENOMEM
            n -= tail
        if in_ring:
            self.inq.commit(n)
        elif self.inq.write(buf, n) < 0:
            return 12  # ENOMEM
        if tail:
            self.big_pos = self.inq.wpos
        if nmsgs:
            if self.nbig and self._big_publish() != 0:
                return 12
            self.delivered = self._reply_expected()
            self.inq.publish_to(base + <uint64_t>last_end, nmsgs)
        return 0

    # ---------------------------------------------------------------- huge frames
    # A data frame of BIG_FRAME_MIN bytes or more is received straight into the bytes object
    # the user gets: allocated (with the GIL) when its header arrives, grown by doubling as
    # the body arrives (realloc of an mmap'd block: no copy), so memory follows what the peer
    # sent, not what it announced. The ring gets the header; the object goes to the socket by
    # the pipe's RefRing when its message is published. Released if the connection dies.
    cdef size_t _big_start(self, unsigned char* buf, size_t n) noexcept nogil:
        """The scan of buf[:n] ended inside a huge frame's body: start receiving it by
        reference, taking the body bytes at the end of buf. How many (0: not here), or -1."""
        cdef unsigned long long got = self.in_scan.cur_size - self.in_scan.remaining
        cdef size_t cap
        if (got > n or self.in_scan.cur_flags & FRAME_COMMAND or self.bigq is None
                or self.in_scan.cur_size > <unsigned long long>(<size_t>-1 >> 1)):
            return 0  # the header came earlier, a command, no queue: in the ring as usual
        cap = <size_t>self.in_scan.cur_size
        if cap > BIG_FIRST_BYTES:
            cap = BIG_FIRST_BYTES
        if self._big_alloc(cap) != 0:
            return <size_t>-1
        self.big_size = <size_t>self.in_scan.cur_size
        self.big_got = <size_t>got
        memcpy(self.big_data, buf + n - got, <size_t>got)
        return <size_t>got

    cdef int _big_alloc(self, size_t cap) noexcept with gil:
        """Allocate the body object (cap bytes), or resize it to cap; -1: out of memory
        (the object is gone then)."""
        cdef PyObject* o = self.big
        try:
            if o == NULL:
                obj = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>cap)
                Py_INCREF(obj)
                o = <PyObject*>obj
            else:
                _PyBytes_Resize(&o, <Py_ssize_t>cap)
        except BaseException:
            self.big = NULL  # (_PyBytes_Resize freed it)
            self.big_data = NULL
            return -1
        self.big = o
        self.big_data = PyBytes_AS_STRING(<object>o)
        self.big_cap = cap
        return 0

    cdef char* _big_space(self, size_t* room) noexcept nogil:
        """Where the body's next bytes go (growing the object when it is full); NULL when
        out of memory. Never beyond the body: the next frame goes to the ring."""
        cdef size_t cap
        if self.big_got == self.big_cap:
            cap = self.big_cap * 2
            if cap > self.big_size:
                cap = self.big_size
            if self._big_alloc(cap) != 0:
                return NULL
        room[0] = self.big_cap - self.big_got
        return self.big_data + self.big_got

    cdef int _big_absorb(self, size_t n) noexcept nogil:
        """n more body bytes are in; at the body's end, keep the object for its message
        (and publish the message if the frame ended it)."""
        cdef Py_ssize_t last_end
        cdef size_t nmsgs = 0
        cdef ref_rec* v
        cdef int rc = scan_frames(&self.in_scan,
                                  <const unsigned char*>self.big_data + self.big_got, n,
                                  &last_end, &nmsgs)
        if rc < 0:
            return rc
        self.big_got += n
        if self.big_got < self.big_size:
            return 0
        if self.nbig == self.capbig:
            v = <ref_rec*>realloc(self.bigv, (self.capbig * 2 + 4) * sizeof(ref_rec))
            if v == NULL:
                return 12
            self.bigv = v
            self.capbig = self.capbig * 2 + 4
        self.bigv[self.nbig].pos = self.big_pos
        self.bigv[self.nbig].obj = self.big
        self.nbig += 1
        self.big = NULL
        self.big_data = NULL
        if nmsgs:  # the frame ended its message
            if self._big_publish() != 0:
                return 12
            self.delivered = self._reply_expected()
            self.inq.publish_to(self.inq.wpos, 1)
        return 0

    cdef int _big_publish(self) noexcept nogil:
        """Hand the message's bodies to the socket (before its bytes are published)."""
        cdef int i
        for i in range(self.nbig):
            if self.bigq.push(self.bigv[i].pos, self.bigv[i].obj) != 0:
                self.bigq.unpush()  # none went: they stay ours (released at death)
                return -1
        self.bigq.publish()
        self.nbig = 0
        return 0

    cdef void _big_release(self):
        """Death: drop the body being filled and the finished ones never handed over."""
        cdef int i
        if self.big != NULL:
            _decref(self.big)
        self.big = NULL
        self.big_data = NULL
        for i in range(self.nbig):
            _decref(self.bigv[i].obj)
        self.nbig = 0
        free(self.bigv)
        self.bigv = NULL
        self.capbig = 0

    # ---------------------------------------------------------------- PING, PONG
    cdef size_t _strip(self, unsigned char* buf, size_t n, const scan_state* st) noexcept nogil:
        """Walk the frames of buf[:n] (the scanner was in state *st before it): handle every
        PING and PONG and remove it (the rest moves down), hold back a small command cut
        at the end. Returns how many bytes remain to commit."""
        cdef size_t pos = 0, take, left, flen
        cdef int hl
        cdef unsigned long long size
        cdef unsigned char hdr[9]
        if st.remaining:
            if st.remaining >= n:
                return n
            pos = <size_t>st.remaining
        elif st.hdr_len:  # a split data-frame header (a command's is never committed split)
            hl = 9 if st.hdr[0] & 2 else 2
            take = <size_t>(hl - st.hdr_len)
            if take > n:
                return n
            memcpy(hdr, st.hdr, st.hdr_len)
            memcpy(hdr + st.hdr_len, buf, take)
            size = _frame_size(hdr, hl)
            if size >= n - take:
                return n
            pos = take + <size_t>size
        while pos < n:
            left = n - pos
            hl = 9 if buf[pos] & 2 else 2
            if left < <size_t>hl:
                return self._hold_back(buf, pos, n) if buf[pos] & 4 else n
            size = _frame_size(buf + pos, hl)
            if buf[pos] & 4 and size <= SMALL_CMD:
                flen = hl + <size_t>size
                if flen > left:
                    return self._hold_back(buf, pos, n)
                if self._on_command(buf + pos + hl, <int>size):
                    memmove(buf + pos, buf + pos + flen, left - flen)
                    n -= flen
                    continue
                pos += flen
                continue
            if size >= left - hl:
                return n  # this frame runs to the end of buf (or beyond)
            pos += hl + <size_t>size
        return n

    cdef size_t _hold_back(self, const unsigned char* buf, size_t pos, size_t n) noexcept nogil:
        """Keep buf[pos:n] (the start of a small command) for the next read; commit to pos."""
        memcpy(self.hold, buf + pos, n - pos)
        self.hold_len = <int>(n - pos)
        return pos

    cdef bint _on_command(self, const unsigned char* body, int n) noexcept nogil:
        """A whole small command: act on PING/PONG; True if it is to be removed."""
        if n < 5 or body[0] != 4:
            return False
        if memcmp(body + 1, <const char*>"PING", 4) == 0:
            self.pings_received += 1
            if n >= 7:
                self._ping_in((body[5] << 8) | body[6], body + 7, n - 7)
            return True
        if memcmp(body + 1, <const char*>"PONG", 4) == 0:
            # only wait_subscribed's PONGs are the socket's business
            return not (self.keep_sub_pongs and n == 5 + SUB_PONG_CTX
                        and memcmp(body + 5, SUB_PONG_TAG, 4) == 0)
        return False

    cdef void _ping_in(self, int ttl, const unsigned char* ctx, int k) noexcept nogil:
        if self.npongs == MAX_PONGS:  # a flood while we cannot send: keep the latest
            memmove(self.pong_len, self.pong_len + 1, (MAX_PONGS - 1) * sizeof(int))
            memmove(self.pong_ctx, self.pong_ctx[1], (MAX_PONGS - 1) * 16)
            self.npongs -= 1
        self.pong_len[self.npongs] = k
        memcpy(self.pong_ctx[self.npongs], ctx, k)
        self.npongs += 1
        self._ctl_request()
        self.peer_ttl = ttl * 0.1
        if ttl:
            self.peer_ping_at = _now()
            self.rx_at_peer_ping = self.rx_reads
            if not self.ttl_watch:
                self.hb_req = True

    cdef void _ctl_request(self) noexcept nogil:
        """A command is to go out at the first message boundary at or after what is out now."""
        cdef uint64_t at
        if scan_at_boundary(&self.out_scan):
            at = self.out.consumed_bytes()
        else:
            at = self.out.published_bytes()
        if not self.ctl_due or at < self.ctl_at:
            self.ctl_at = at
        self.ctl_due = True

    cdef int _ctl_step(self, size_t* limit) noexcept nogil:
        """Move command bytes, or bound *limit so ring data stops at their boundary.

        *limit is set to 0 when this step did the work (bytes sent, or queued), and to
        LIMIT_BODY_ONLY when only the rest of a body sent by reference may go before them.
        """
        cdef ssize_t n
        cdef uint64_t done
        cdef int rc
        if self.ctl_off < self.ctl_len:
            limit[0] = 0
            n = send(self.fd, self.ctl + self.ctl_off, self.ctl_len - self.ctl_off,
                     MSG_NOSIGNAL | MSG_DONTWAIT)
            if n < 0:
                rc = self._send_failed()
                return rc if rc > 0 else 0  # (interrupted: the caller comes back at once)
            self.ctl_off += <int>n
            if self.ctl_off == self.ctl_len:
                self.ctl_off = self.ctl_len = 0
            return 0
        done = self.out.consumed_bytes()
        if done >= self.ctl_at and not scan_at_boundary(&self.out_scan):
            # the message ends with a body sent by reference (it has no ring bytes, so its
            # end and its header's end are one ring position): the rest of it goes first
            limit[0] = LIMIT_BODY_ONLY
        elif done >= self.ctl_at:
            self._build_ctl()
            limit[0] = 0
        elif self.ctl_at - done < limit[0]:
            limit[0] = <size_t>(self.ctl_at - done)
        return 0

    cdef void _build_ctl(self) noexcept nogil:
        cdef int i, k, n = 0
        cdef unsigned char* c
        for i in range(self.npongs):
            k = self.pong_len[i]
            c = self.ctl + n
            c[0] = 4            # a short command frame
            c[1] = <unsigned char>(5 + k)
            c[2] = 4            # name length
            memcpy(c + 3, <const char*>"PONG", 4)
            memcpy(c + 7, self.pong_ctx[i], k)
            n += 7 + k
            self.pongs_sent += 1
        self.npongs = 0
        if self.ping_due:
            self.pings_sent += 1
            c = self.ctl + n
            c[0] = 4
            c[1] = 11           # name-len, "PING", ttl (2), context (4: our sequence)
            c[2] = 4
            memcpy(c + 3, <const char*>"PING", 4)
            c[7] = <unsigned char>(self.hb_ttl_ds >> 8)
            c[8] = <unsigned char>(self.hb_ttl_ds & 0xFF)
            c[9] = <unsigned char>(self.pings_sent >> 24)
            c[10] = <unsigned char>(self.pings_sent >> 16)
            c[11] = <unsigned char>(self.pings_sent >> 8)
            c[12] = <unsigned char>self.pings_sent
            n += 13
        self.ctl_len = n
        self.ctl_off = 0
        self.ping_due = self.ctl_due = False

    # ---------------------------------------------------------------- heartbeat timers
    def _hb_start(self):
        """Activation: our PINGs every HEARTBEAT_IVL, if set (ZMTP 3.1 peers only)."""
        opt = getattr(self.socket, "_option_value", None)
        if opt is None or self.io is None or self.pipe is None or self.pipe.zmtp_minor < 1:
            return
        ivl = opt(_c.HEARTBEAT_IVL)
        if ivl <= 0:
            return
        timeout = opt(_c.HEARTBEAT_TIMEOUT)
        self.hb_ivl = ivl / 1000.0
        self.hb_timeout = (ivl if timeout < 0 else timeout) / 1000.0
        self.hb_ttl_ds = min(0xFFFF, max(0, opt(_c.HEARTBEAT_TTL)) // 100)
        self.t_ivl = self.io.add_timer(self.hb_ivl, self._hb_ping)

    def _hb_ping(self):
        self.t_ivl = None
        if self.state != ST_ACTIVE:
            return
        self.t_ivl = self.io.add_timer(self.hb_ivl, self._hb_ping)
        self.ping_due = True
        self._ctl_request()
        if self.hb_timeout > 0 and self.t_timeout is None:
            self.rx_at_ping = self.rx_reads
            self.t_timeout = self.io.add_timer(self.hb_timeout, self._hb_timeout)
        rc = self.c_pump()
        if rc:
            self.error = rc
            self.die(rc)

    def _hb_timeout(self):
        self.t_timeout = None
        if self.state != ST_ACTIVE or self.rx_reads != self.rx_at_ping:
            return
        if self.throttled:
            # our socket is not reading (RCVHWM): what the peer sent waits in the kernel,
            # unread; a slow consumer is not a dead peer. Judge again once we read.
            self.t_timeout = self.io.add_timer(self.hb_timeout, self._hb_timeout)
            return
        self.error = _errno.ETIMEDOUT
        self.die(_errno.ETIMEDOUT)  # Connection.die: the owner reconnects as usual

    def _hb_service(self):
        """The pump saw a PING with a TTL (watch the peer), or started draining (poll the
        send queue): slow path, with the GIL."""
        self.hb_req = False
        if self.draining and self.t_drain is None and self.state == ST_ACTIVE:
            self.t_drain = self.io.add_timer(0.002, self._drain_tick)
        if self.state == ST_ACTIVE and self.peer_ttl > 0 and not self.ttl_watch:
            self.ttl_watch = True
            self.t_ttl = self.io.add_timer(self.peer_ttl, self._hb_ttl)

    def _hb_ttl(self):
        self.t_ttl = None
        self.ttl_watch = False
        if self.state != ST_ACTIVE or self.peer_ttl <= 0:
            return
        if self.rx_reads != self.rx_at_peer_ping:
            return  # heard since its last PING: the next PING watches again
        left = self.peer_ping_at + self.peer_ttl - time.monotonic()
        if self.throttled:  # not reading (RCVHWM): see _hb_timeout
            left = max(left, self.peer_ttl)
        if left > 0:
            self.ttl_watch = True
            self.t_ttl = self.io.add_timer(left, self._hb_ttl)
            return
        self.error = _errno.ETIMEDOUT
        self.die(_errno.ETIMEDOUT)

    def _drain_tick(self):
        self.t_drain = None
        if self.state != ST_ACTIVE:
            return
        rc = self.c_pump()
        if rc:
            self.die(rc)
        elif self.t_drain is None:
            self.t_drain = self.io.add_timer(0.005, self._drain_tick)

    def unsent(self):
        """Bytes in the kernel's send queue the peer has not acknowledged (or read)."""
        cdef int queued = 0
        if self.fd < 0 or ioctl(self.fd, TIOCOUTQ, &queued) < 0:
            return 0
        return queued

    def _hb_cancel(self):
        for h in (self.t_ivl, self.t_timeout, self.t_ttl, self.t_drain):
            if h is not None:
                self.io.cancel_timer(h)
        self.t_ivl = self.t_timeout = self.t_ttl = self.t_drain = None
        self.ttl_watch = False
        self.hb_req = False

    # ---------------------------------------------------------------- slow path
    def activate(self, Pipe pipe, bytes leftover, long long maxmsgsize, uint64_t rcvhwm):
        """Handshake done: attach to the pipe's rings and start pumping. We are woken through
        our member of the I/O thread's WakeGroup (self.io, our slot): bound here if we have
        a slot, else when the I/O thread registers our fd (IOThread.register)."""
        self.wn = NULL
        self.pipe = pipe
        self.out = pipe.out
        self.inq = pipe.inq
        self.zc = pipe.zc
        self.zc_off = 0
        self.bigq = pipe.bigin
        self.rcvhwm = rcvhwm
        self.maxmsgsize = maxmsgsize
        scan_init(&self.in_scan, maxmsgsize)
        scan_init(&self.out_scan, -1)
        self.out.reader = NULL
        self.inq.writer = NULL
        self.inq.low_water = low_water_for(rcvhwm)  # visible with the writer (release store)
        self.in_ready = True
        self.out_blocked = False
        self.rx_at = _now()  # the handshake just heard the peer
        stype = getattr(self.socket, "socket_type", -1)
        self.keep_sub_pongs = stype == SOCK_SUB or stype == SOCK_XSUB
        # request/reply: each message handed in is soon followed by one going out (REQ/REP
        # strictly; CLIENT/SERVER (13/12) by their usual use: the spin ends at other events)
        self.expects_reply = stype == SOCK_REQ or stype == SOCK_REP or stype == 12 or stype == 13
        if (_direct_on and (stype == SOCK_REQ or stype == SOCK_REP) and self.curve is None
                and self.xmit == NULL and self.rcv == NULL and self.poller == NULL):
            self.direct = True
            self.out.direct_ctx = <void*>self
            self.out.direct_fn = _direct_send
            self.out.direct_in = _direct_in
            self.out.direct_fd = self.fd
        self.state = ST_ACTIVE
        if self.slot >= 0:
            self._bind_wake()
        self._hb_start()
        if self.curve is not None:
            return self._curve_feed(leftover)
        if leftover:
            return self._feed(leftover)
        return 0

    cdef int _bind_wake(self) except -1:
        """Our member of the I/O thread's WakeGroup becomes the rings' waiter (the out
        ring's reader now: release store, a socket thread may be publishing meanwhile;
        the arm that follows in pump() makes the Dekker pairing whole)."""
        cdef WakeGroup group = (<IOThread?>self.io).wake
        cdef waiter_t* m = group.member(self.slot)
        fz_exchange_acq_rel_int(&m.asleep, 0)
        self.out._reader_ref = group
        self.inq._writer_ref = group
        self.wn = m
        fz_store_release_ptr(<void**>&self.out.reader, m)
        return 0

    cdef int _feed(self, bytes data) except? -1:
        """What came with the end of the handshake, taken as if read from the socket."""
        cdef unsigned char tmp[TMP_IN]
        cdef const unsigned char* src = <const unsigned char*>(<char*>data)
        cdef size_t left = len(data), room, k
        cdef unsigned char* p
        cdef int rc
        self.rx_reads += 1
        while left:
            if self.big != NULL:  # inside a huge body (see "huge frames")
                p = <unsigned char*>self._big_space(&room)
                if p == NULL:
                    return 12
                k = left if left < room else room
                memcpy(p, src, k)
                src += k
                left -= k
                rc = self._big_absorb(k)
                if rc != 0:
                    return rc
                continue
            p = self._in_space(tmp, &room)
            if p == NULL:
                return 12  # ENOMEM
            k = left if left < room else room
            memcpy(p + self.hold_len, src, k)
            src += k
            left -= k
            rc = self._absorb(p, self.hold_len + k, p != tmp)
            if rc != 0:
                return rc
        return 0

    # ---------------------------------------------------------------- CURVE traffic
    # (theory in _curve.pyx: rings keep plain ZMTP frames, the wire carries MESSAGE commands)
    cdef int _curve_flush_out(self) noexcept nogil:
        cdef ssize_t n
        while not self.out_blocked:
            if self.curve.ooff < self.curve.olen:
                n = send(self.fd, self.curve.obuf + self.curve.ooff, self.curve.olen - self.curve.ooff, MSG_NOSIGNAL | MSG_DONTWAIT)
                if n < 0:
                    n = self._send_failed()
                    if n < 0:
                        continue
                    return <int>n
                self.curve.ooff += <size_t>n
                continue
            n = self._curve_seal_batch()
            if n < 0:
                return <int>(-n)
            if n == 0:
                return 0
        return 0

    cdef ssize_t _curve_seal_batch(self) noexcept nogil:
        """Seal whole frames of the outbound ring (and a due PONG) into the staging buffer;
        the number of frames sealed, or a negative errno."""
        cdef ssize_t frames = 0
        cdef unsigned char hdr[9]
        cdef const unsigned char* p
        cdef unsigned char* dst
        cdef size_t avail, k, size, got, nmsgs, hmsgs
        cdef Py_ssize_t last_end
        cdef unsigned long long usize
        cdef int flags, hl
        cdef const zc_ref* r
        cdef int i
        while self.curve.olen - self.curve.ooff < CURVE_BATCH_BYTES:
            if self.ctl_due and self.out.consumed_bytes() >= self.ctl_at:
                self._build_ctl()  # short command frames (PONGs, our PING): one MESSAGE each
                i = 0
                while i < self.ctl_len:
                    k = self.ctl[i + 1]
                    dst = self.curve.begin_frame(k, 2)
                    if dst == NULL:
                        return -12
                    memcpy(dst, self.ctl + i + 2, k)
                    self.curve.seal_last()
                    frames += 1
                    i += 2 + <int>k
                self.ctl_len = self.ctl_off = 0
                continue
            p = self.out.read_space(&avail)
            if p == NULL:
                break
            if self.ctl_due and self.out.consumed_bytes() >= self.ctl_at:
                continue
            k = self._curve_seal_run(p, avail, &frames)
            if k == <size_t>-1:
                return -71  # EPROTO: the socket publishes well-formed frames
            if k:
                continue
            # one frame the run cannot take: its header or body crosses a chunk boundary,
            # or its body is sent by reference
            hl = 9 if p[0] & 2 else 2
            if self.out.read(hdr, hl) != 0:
                return -71  # EPROTO: the socket publishes whole frames
            hmsgs = 0
            if scan_frames(&self.out_scan, hdr, hl, &last_end, &hmsgs) < 0:
                return -71
            if decode_header(hdr, hl, &flags, &usize) != hl:
                return -71
            size = <size_t>usize
            dst = self.curve.begin_frame(size, (1 if flags & FRAME_MORE else 0)
                                | (2 if flags & FRAME_COMMAND else 0))
            if dst == NULL:
                return -12
            if hmsgs:
                self.out.consume(0, hmsgs)  # an empty frame ended a message
            r = self._body_here() if size else NULL
            if r != NULL:
                # a body sent by reference: sealed straight from the object
                self.curve.seal_last_from(<const unsigned char*>r[0].data)
                nmsgs = 0
                scan_frames(&self.out_scan, <const unsigned char*>r[0].data, size,
                            &last_end, &nmsgs)
                self.zc.finish()
                self.zc_off = 0
                self.out.consume(0, nmsgs)
            else:
                got = 0
                while got < size:
                    p = self.out.read_space(&avail)
                    if p == NULL:
                        return -71
                    k = size - got if size - got < avail else avail
                    memcpy(dst + got, p, k)
                    nmsgs = 0
                    scan_frames(&self.out_scan, p, k, &last_end, &nmsgs)
                    self.out.consume(k, nmsgs)
                    got += k
                self.curve.seal_last()
            frames += 1
        return frames

    cdef size_t _curve_seal_run(self, const unsigned char* p, size_t avail,
                                ssize_t* frames) noexcept nogil:
        """Seal the whole frames lying in p[0:avail] (read space of the outbound ring), up to
        the staging limit, a due command's boundary or a body sent by reference; consume
        them with one scan. The bytes taken (0: not even the first frame), or -1 if the
        ring holds a malformed frame."""
        cdef size_t off = 0, lim = avail, hl, size, nref, nmsgs = 0
        cdef uint64_t zpos = 0
        cdef unsigned long long usize
        cdef int flags
        cdef bint all_seen
        cdef Py_ssize_t last_end
        cdef unsigned char* dst
        cdef const zc_ref* r = self.zc.peek(&nref, &all_seen)
        if nref > 0:  # a body by reference right after its header there (never behind us)
            zpos = r[0].pos - self.out.rpos if r[0].pos >= self.out.rpos else 0
        if self.ctl_due and self.ctl_at - self.out.consumed_bytes() < lim:
            lim = <size_t>(self.ctl_at - self.out.consumed_bytes())  # a message boundary
        while off < lim and self.curve.olen - self.curve.ooff < CURVE_BATCH_BYTES:
            hl = 9 if p[off] & 2 else 2  # FRAME_LONG
            if avail - off < hl or (nref > 0 and off + hl >= zpos):
                break
            if decode_header(p + off, hl, &flags, &usize) != <int>hl:
                return <size_t>-1
            if usize > avail - off - hl:
                break
            size = <size_t>usize
            dst = self.curve.begin_frame(size, (1 if flags & FRAME_MORE else 0)
                                | (2 if flags & FRAME_COMMAND else 0))
            if dst == NULL:
                break  # out of memory: the caller's path reports it
            self.curve.seal_last_from(p + off + hl)
            frames[0] += 1
            off += hl + size
        if off:
            if scan_frames(&self.out_scan, p, off, &last_end, &nmsgs) < 0:
                return <size_t>-1
            self.out.consume(off, nmsgs)
        return off

    cdef int _curve_fill_in(self) noexcept nogil:
        cdef ssize_t n
        cdef int rc
        while self.in_ready:
            if self.rcvhwm and not self.inq.below_hwm(self.rcvhwm):
                self.throttled = True
                return 0
            if self.curve.ensure_in(1 << 16) != 0:
                return 12
            n = recv(self.fd, self.curve.ibuf + self.curve.ilen, self.curve.icap - self.curve.ilen, MSG_DONTWAIT)
            if n == 0:
                return ERR_EOF
            if n < 0:
                if errno == EAGAIN:
                    self.in_ready = False
                    return 0
                if errno == EINTR:
                    continue
                return errno
            self.curve.ilen += <size_t>n
            self.rx_reads += 1
            rc = self._curve_open_all()
            if rc != 0:
                return rc
        return 0

    cdef int _curve_open_all(self) noexcept nogil:
        """Open every complete MESSAGE in ibuf into the inbound ring; publish whole messages
        (those before a bad frame too: they were authentic); 0 or why the peer must go.

        Frames are opened one after the other into the ring's write space and committed and
        scanned once per run (_curve_commit_run); a frame that does not fit the chunk's rest
        is opened into scratch memory and written across the chunk boundary."""
        cdef int flags, hl, rc = 0, rhl
        cdef unsigned long long size
        cdef size_t n, avail = 0, used = 0, nmsgs
        cdef Py_ssize_t last_end
        cdef unsigned char* w = NULL
        cdef unsigned char* dst
        cdef unsigned char pflags
        cdef size_t total = 0
        cdef uint64_t end = 0
        while self.curve.ilen > self.curve.ioff:
            hl = decode_header(self.curve.ibuf + self.curve.ioff,
                               self.curve.ilen - self.curve.ioff, &flags, &size)
            if hl <= 0:
                rc = hl
                break
            if flags & FRAME_MORE or size < CURVE_OVERHEAD:
                rc = CURVE_ERR_FRAME
                break
            if self.maxmsgsize >= 0 and size - CURVE_OVERHEAD > <unsigned long long>self.maxmsgsize:
                rc = SCAN_ERR_TOO_LARGE
                break
            if self.curve.ilen - self.curve.ioff < hl + size:
                break  # ibuf grows as the bytes arrive (_curve_fill_in), not on an announcement
            n = <size_t>size - CURVE_OVERHEAD
            rhl = 9 if n > 255 else 2
            if w == NULL or avail - used < rhl + n:
                rc = self._curve_commit_run(w, used, &total, &end)
                if rc != 0:
                    break
                used = 0
                w = self.inq.write_space(&avail)
                if w == NULL:
                    rc = 12
                    break
            if avail - used >= rhl + n:
                dst = w + used
            elif n > SMALL_CMD and self.curve.fast:
                # across the chunk boundary: straight into the chunks (not via scratch)
                rc = self._curve_commit_run(w, used, &total, &end)
                if rc != 0:
                    break
                used = 0
                w = NULL
                rc = self._curve_open_split(hl, <size_t>size, rhl, n, &total, &end)
                if rc != 0:
                    break
                continue
            else:
                dst = self.curve.get_scratch(rhl + n)
                if dst == NULL:
                    rc = 12
                    break
            rc = self.curve.open_into(self.curve.ibuf + self.curve.ioff + hl, <size_t>size,
                                      dst + rhl - 1)
            if rc != 0:
                break
            self.curve.ioff += hl + <size_t>size
            pflags = dst[rhl - 1]
            if pflags & 2 and n <= SMALL_CMD and self._on_command(dst + rhl, <int>n):
                continue  # PING/PONG: handled by the engine, never committed
            encode_header(dst, n, (FRAME_MORE if pflags & 1 else 0)
                          | (FRAME_COMMAND if pflags & 2 else 0))
            if dst == w + used:
                used += rhl + n
                continue
            # across the chunk boundary: what is pending first, then this frame
            rc = self._curve_commit_run(w, used, &total, &end)
            if rc != 0:
                break
            used = 0
            w = NULL
            if self.inq.write(dst, rhl + n) != 0:
                rc = 12
                break
            nmsgs = 0
            rc = scan_frames(&self.in_scan, dst, rhl + n, &last_end, &nmsgs)
            if rc < 0:
                break
            if nmsgs:
                total += nmsgs
                end = self.inq.wpos
        if rc == 0:
            rc = self._curve_commit_run(w, used, &total, &end)
        else:
            self._curve_commit_run(w, used, &total, &end)  # the authentic frames before
        if self.curve.ioff == self.curve.ilen:
            self.curve.ioff = self.curve.ilen = 0
        if total:
            self.inq.publish_to(end, total)
            self.delivered = self.expects_reply
        return rc

    cdef int _curve_open_split(self, int hl, size_t size, int rhl, size_t n, size_t* total,
                               uint64_t* end) noexcept nogil:
        """Open the frame at ioff (wire header hl, body size; plaintext n + its header rhl)
        straight into the inbound ring across its chunks: checked first, then decrypted
        piece by piece into each chunk's write space."""
        cdef const unsigned char* body = self.curve.ibuf + self.curve.ioff + hl
        cdef unsigned char hdr[9]
        cdef unsigned char* p
        cdef size_t at = 1, k, avail, nmsgs = 0, got
        cdef Py_ssize_t last_end
        cdef int rc = self.curve.open_check(body, size)
        if rc < 0:
            return rc
        encode_header(hdr, n, (FRAME_MORE if rc & 1 else 0) | (FRAME_COMMAND if rc & 2 else 0))
        if self.inq.write(hdr, rhl) != 0:
            return 12
        rc = scan_frames(&self.in_scan, hdr, rhl, &last_end, &nmsgs)
        if rc < 0:
            return rc
        while at <= n:
            p = self.inq.write_space(&avail)
            if p == NULL:
                return 12
            k = n + 1 - at if n + 1 - at < avail else avail
            self.curve.open_range(p, body, at, k)
            self.inq.commit(k)
            got = 0
            rc = scan_frames(&self.in_scan, p, k, &last_end, &got)
            if rc < 0:
                return rc
            nmsgs += got
            at += k
        self.curve.ioff += hl + size
        if nmsgs:  # the frame ended a message
            total[0] += nmsgs
            end[0] = self.inq.wpos
        return 0

    cdef int _curve_commit_run(self, unsigned char* w, size_t used, size_t* total,
                               uint64_t* end) noexcept nogil:
        """Commit the frames opened at w[0:used] (write space) and count their messages."""
        cdef uint64_t base = self.inq.wpos
        cdef Py_ssize_t last_end
        cdef size_t nmsgs = 0
        cdef int rc
        if used == 0:
            return 0
        self.inq.commit(used)
        rc = scan_frames(&self.in_scan, w, used, &last_end, &nmsgs)
        if nmsgs:  # on an error too: the messages it completed before the bad frame
            total[0] += nmsgs
            end[0] = base + <uint64_t>last_end
        return rc if rc < 0 else 0

    cdef int _curve_feed(self, bytes data) except? -1:
        cdef CurveCodec c = self.curve
        cdef size_t n = len(data)
        if n:
            self.rx_reads += 1
            if c.ensure_in(n) != 0:
                return 12
            memcpy(c.ibuf + c.ilen, <const char*>data, n)
            c.ilen += n
        return self._curve_open_all()

    def set_curve(self, CurveCodec codec):
        """CURVE traffic from now on (call before activate)."""
        self.curve = codec

    def detach_rings(self):
        """Death of the connection: leave the pipe at a message boundary."""
        if self.io is not None:
            self._hb_cancel()
        self.hold_len = 0
        self.poller = NULL  # our fd leaves the poller (and its number may be reused)
        if self.out is None:
            return
        self.out.direct_fn = NULL  # (the GIL: no socket thread is in _direct_send)
        if self.wn != NULL:
            waiter_disarm(self.wn)
        self._skip_partial_out()
        self._big_release()
        self.bigq = None
        self.inq.rollback()
        self.inq.writer = NULL
        self.out.reader = NULL
        self.out = None
        self.inq = None
        self.zc = None
        self.zc_off = 0

    cdef void _skip_partial_out(self):
        """Drop the unsent rest of a half-sent message: it is never resent half."""
        cdef const unsigned char* p
        cdef size_t avail, k, nmsgs
        cdef Py_ssize_t last_end
        cdef const zc_ref* r
        while not scan_at_boundary(&self.out_scan):
            r = self._body_here()
            if r != NULL:
                # inside a body sent by reference (its header is consumed): skip the rest
                k = r[0].size - self.zc_off
                nmsgs = 0
                if scan_frames(&self.out_scan, <const unsigned char*>r[0].data + self.zc_off,
                               k, &last_end, &nmsgs) < 0:
                    return
                self.zc.finish()
                self.zc_off = 0
                self.out.consume(0, nmsgs)
                continue
            p = self.out.read_space(&avail)
            if p == NULL:
                return
            # feed a frame body whole, a header byte by byte: never past a message end
            # (nor past a body sent by reference: it follows its header)
            k = self.out_scan.remaining if self.out_scan.remaining else 1
            if k > avail:
                k = avail
            nmsgs = 0
            if scan_frames(&self.out_scan, p, k, &last_end, &nmsgs) < 0:
                return
            self.out.consume(k, nmsgs)

    def set_fd(self, int fd):
        self.fd = fd

    def set_xmit(self, size_t fn, size_t ctx):
        """Send the outbound bytes through a C hook (an ``xmit_fn`` and its context, as
        addresses; 0, 0: sendmsg on the fd again). The owner keeps ctx alive meanwhile."""
        self.xmit = <xmit_fn>fn
        self.xctx = <void*>ctx

    def set_recv(self, size_t fn, size_t ctx):
        """Take the inbound bytes from a C hook (a ``recv_fn`` and its context, as
        addresses; 0, 0: recv on the fd again). The owner keeps ctx alive meanwhile."""
        self.rcv = <recv_fn>fn
        self.rctx = <void*>ctx

    def fileno(self):
        return self.fd

    @property
    def active(self):
        return self.state == ST_ACTIVE

    # ---------------------------------------------------------------- handshake stager
    def hsc_start(self, bytes script, int sent=0):
        """Run the handshake as the NULL stager with our side's script (at least the 64-byte
        greeting), of which the first ``sent`` bytes were sent already (at most the 10 of
        the signature: a connect's); True while it goes on, False once Python must take
        over (hsc_take)."""
        if len(script) < 64:
            raise ValueError("a stager script starts with the 64-byte greeting")
        if not 0 <= sent <= 10:
            raise ValueError("only the signature may be sent before the stager starts")
        self.hsc_script = script
        self.hsc_out = <const unsigned char*>PyBytes_AS_STRING(script)
        self.hsc_out_len = <int>len(script)
        self.hsc = True
        self.hsc_over = False
        self.hsc_err = 0
        self.hsc_stage = 0
        self.hsc_sent = sent
        self.hsc_len = 0
        return self._hsc_run()

    def hsc_step(self):
        """One stager round with the GIL (the slow path's twin of _fast_event's)."""
        return self._hsc_run()

    def hsc_take(self):
        """End the stager: (the peer's bytes it read, how many bytes of the script it sent,
        what ended its reading: an errno, ERR_EOF or 0)."""
        data = PyBytes_FromStringAndSize(<char*>self.hsc_in, self.hsc_len)
        result = (data, self.hsc_sent, self.hsc_err)
        self.hsc = False
        self.hsc_over = False
        self.hsc_script = None
        self.hsc_out = NULL
        self.hsc_len = 0
        return result

    cdef int _hsc_target(self) noexcept nogil:
        """The end of the script's part the peer's bytes allow: the signature (10), our
        major (11), then the rest of the greeting and READY together (all of it)."""
        if self.hsc_stage == 0:
            return 10
        if self.hsc_stage == 1:
            return 11
        return self.hsc_out_len

    cdef bint _hsc_advance(self) noexcept nogil:
        """Move the stage on for the peer's bytes so far, as the Handshake's stages would;
        False: stop (a byte the stager does not expect, or the peer's first command whole)."""
        cdef const unsigned char* b = self.hsc_in
        cdef int n = self.hsc_len
        if self.hsc_stage == 0:
            if b[0] != 0xFF:
                return False  # a ZMTP 1.0 peer
            if n < 10:
                return True
            if not b[9] & 1:
                return False  # a ZMTP 1.0 peer's identity frame
            self.hsc_stage = 1
        if self.hsc_stage == 1:
            if n < 11:
                return True
            if b[10] < 2:
                return False  # a ZMTP 2.0 or 1.0 peer's revision
            self.hsc_stage = 2
        if self.hsc_stage == 2:
            if n < 64:
                return True
            if memcmp(b + 12, self.hsc_out + 12, 20) != 0:
                return False  # another mechanism: the Handshake says what
            self.hsc_stage = 3
        # the peer's first command (its READY): stop once it is whole
        if n <= 64:
            return True
        if b[64] != 0x04:
            return False  # a long frame or not a command: the Handshake's general path
        if n < 66:
            return True
        return n < 66 + <int>b[65]

    cdef bint _hsc_run(self) noexcept nogil:
        """Read until EAGAIN, then send what the peer's bytes allow of the script. True
        while the stager goes on; False once it stops (hsc_over)."""
        cdef ssize_t n
        cdef int target
        if self.hsc_over or self.hsc_out == NULL:
            return False
        while True:
            if self.hsc_len >= HSC_IN:
                self.hsc_over = True  # (a long READY: the Handshake reads the rest)
                break
            n = recv(self.fd, self.hsc_in + self.hsc_len, HSC_IN - self.hsc_len, MSG_DONTWAIT)
            if n > 0:
                self.hsc_len += <int>n
                if not self._hsc_advance():
                    self.hsc_over = True
                    break
                continue
            if n == 0:
                self.hsc_err = ERR_EOF
                self.hsc_over = True
                break
            if errno == EINTR:
                continue
            if errno != EAGAIN:
                self.hsc_err = errno
                self.hsc_over = True
            break
        if self.hsc_err:
            return False  # (the Handshake reads the bytes before the end, then dies of it)
        # Send what the stage allows, also when stopping: those bytes are the Handshake's
        # output for what was read (a stage moves only on bytes it accepts), and our READY
        # leaves before the hand-over's Python runs (the peer's READY often comes with the
        # rest of its greeting).
        target = self._hsc_target()
        while self.hsc_sent < target:
            n = send(self.fd, self.hsc_out + self.hsc_sent, target - self.hsc_sent,
                     MSG_NOSIGNAL | MSG_DONTWAIT)
            if n > 0:
                self.hsc_sent += <int>n
            elif n < 0 and errno == EINTR:
                continue
            else:  # a full buffer or an error: the Handshake's sending deals with it
                self.hsc_over = True
                return False
        if self.hsc_over:
            return False
        if self.poller != NULL:
            fz_poller_want(self.poller, self.fd, FZ_IN)
        return True

    def c_pump(self):
        rc = self.pump()
        if self.hb_req:
            self._hb_service()
        return rc

    def mark_ready(self, uint32_t mask):
        """Slow-path twin of _fast_event's readiness bookkeeping."""
        if mask & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR):
            self.in_ready = True
        if mask & EPOLLOUT and not self.out_dead:
            self.out_blocked = False

    def set_closing(self):
        self.closing = True
        if self.out is not None:
            self.out.direct_fn = NULL

    def out_pending(self):
        return self.out is not None and self._out_ready()


# ====================================================================== IOThread
_transport_mod = None


cdef object _transport():
    """fastzmq._transport (it imports this module: so at first use, then kept; an import
    in a function costs microseconds on every connect)."""
    global _transport_mod
    if _transport_mod is None:
        from fastzmq import _transport as mod
        _transport_mod = mod
    return _transport_mod


cdef class IOThread:
    """A background thread running the epoll loop (see the module docstring)."""

    cdef fz_poller poller           # the readiness seam (_poller.h): epoll, kqueue or poll
    cdef bint level                 # poll backend: engines state their interest after pumps
    cdef Waiter cmd_waiter
    cdef readonly WakeGroup wake    # one fd for every engine's wake-ups (see _waiter.pyx)
    cdef readonly uint64_t n_waits  # poller waits that returned (tests: no busy loop)
    cdef PyObject** slot_ptrs       # slot -> Engine (borrowed; self.slots owns them)
    cdef int nslots_cap
    cdef public list slots          # slot -> Engine / Listener / Connecter / None
    cdef list free_slots
    cdef object cmds                # deque of callables run in the I/O thread
    cdef readonly list timers       # heap of [deadline, seq, callable or None: cancelled]
    cdef Py_ssize_t n_cancelled     # cancelled entries still in the heap
    cdef uint64_t timer_seq
    cdef double deadline            # monotonic time of the first timer, 0: none
    cdef public bint stopping
    cdef public object thread
    cdef unsigned long thread_ident  # the I/O thread's threading.get_ident() (0: not running)
    cdef public object context
    cdef public int index
    cdef public dict by_socket      # fastzmq socket -> list of Listener/Connecter/Engine
    cdef public object idle         # threading.Event: set when no lingering engine is left
    cdef public set lingering       # engines flushing their outbound ring before closing
    cdef public bint stager         # NULL handshakes run in the engines' C stager (tests: off)

    def __cinit__(self, context, int index=0):
        self.poller.fd = -1
        if waiter_backend() < 0:
            check_backend()  # FASTZMQ_POLLER names no backend: ZMQError(EINVAL)
        if fz_poller_open(&self.poller, waiter_backend()) < 0:
            raise OSError(errno, os.strerror(errno))
        self.level = self.poller.backend == FZ_BACKEND_POLL
        self.cmd_waiter = Waiter()
        self.wake = WakeGroup()
        self.nslots_cap = 64
        self.slot_ptrs = <PyObject**>malloc(self.nslots_cap * sizeof(PyObject*))
        self.slots = []
        self.free_slots = []
        self.cmds = deque()
        self.timers = []
        self.context = context
        self.index = index
        self.by_socket = {}
        self.idle = threading.Event()
        self.idle.set()
        self.lingering = set()
        self.stager = True
        self._poller_add(self.cmd_waiter.w.fd, _tag(0, KIND_CMD), FZ_IN)
        self._poller_add(self.wake.g.w.fd, _tag(0, KIND_WAKE), FZ_IN)

    def __dealloc__(self):
        if self.slot_ptrs != NULL:
            free(self.slot_ptrs)
        fz_poller_close(&self.poller)

    @property
    def backend(self):
        """The readiness poller of this thread: "epoll", "kqueue" or "poll"."""
        from fastzmq._waiter import poller_backend

        return poller_backend()

    # ---------------------------------------------------------------- thread
    def start(self):
        self.thread = threading.Thread(target=self._run, name=f"fastzmq-io-{self.index}",
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        self.cmd_waiter.signal()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(5)
            if self.thread.is_alive():
                return  # wedged: leave its objects to it rather than race it
        # Commands posted just before the stop (a listener's start and its unbind's stop,
        # say) never ran: run them now, so what they would close is closed, then the rest.
        self._run_commands()
        self._close_everything()

    def call(self, fn, *args):
        """Run fn(*args) in the I/O thread (from any thread)."""
        self.cmds.append((fn, args))
        self.cmd_waiter.signal()

    def call_sync(self, fn, *args):
        """Run fn(*args) in the I/O thread and wait for its result (or exception)."""
        if threading.current_thread() is self.thread:
            return fn(*args)
        done = threading.Event()
        box = []

        def run():
            try:
                box.append((True, fn(*args)))
            except BaseException as e:  # handed back to the caller
                box.append((False, e))
            done.set()

        self.call(run)
        while not done.wait(0.1):
            if not self.thread.is_alive():
                raise ZMQError(_c.ETERM, "the I/O thread has stopped")
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def _run(self):
        cdef fz_event events[MAX_EVENTS]
        cdef int n, i, kind, slot, timeout, nslow, nwoken
        cdef int slow[MAX_EVENTS]
        cdef int woken[MAX_EVENTS]      # slots of signalled engines that need the slow path
        cdef PyObject* hot
        cdef waiter_t* gw = &self.wake.g.w
        cdef void** pending = &self.wake.g.head
        cdef bint armed
        self.thread_ident = threading.get_ident()
        # The steady state never holds the GIL: it is taken only when a slow event, a
        # command or a due timer is there (see the module docstring).
        with nogil:
            while not self.stopping:
                timeout = _timeout_ms(self.deadline)
                # Sleep only with the wake group armed and empty (Dekker with waiter_signal):
                # engines signalled meanwhile are taken below, without any fd write.
                armed = False
                if timeout != 0:
                    if fz_load_relaxed_ptr(pending) != NULL:
                        timeout = 0
                    else:
                        waiter_arm(gw)
                        armed = True
                        if fz_load_relaxed_ptr(pending) != NULL:
                            timeout = 0
                n = fz_poller_wait(&self.poller, events, MAX_EVENTS, timeout)
                self.n_waits += 1
                if armed:
                    waiter_disarm(gw)
                nslow = 0
                hot = NULL
                for i in range(n):
                    kind = events[i].tag & 3
                    slot = <int>(events[i].tag >> 2)
                    if kind == KIND_ENGINE:
                        if _fast_event(self.slot_ptrs[slot], kind, events[i].events):
                            if (<Engine>self.slot_ptrs[slot]).delivered:
                                (<Engine>self.slot_ptrs[slot]).delivered = False
                                hot = self.slot_ptrs[slot]
                            continue
                    elif kind == KIND_WAKE:
                        waiter_drain(gw)
                        continue
                    slow[nslow] = i
                    nslow += 1
                nwoken = self._pump_woken(woken, &hot)
                if nslow or nwoken or (self.deadline > 0 and _now() >= self.deadline):
                    with gil:
                        self._slow_batch(events, slow, nslow, woken, nwoken)
                        hot = NULL  # the slow path may have closed it
                if hot != NULL and waiter_spin_budget() > 0:
                    self._await_reply(hot)

    cdef int _pump_woken(self, int* woken, PyObject** hot) noexcept nogil:
        """Pump every engine signalled through the wake group; returns how many (slots in
        woken, at most MAX_EVENTS) need the slow path. Each member's queued mark is cleared
        before its pump, so a signal during the pump queues it again (never lost)."""
        cdef waiter_t* m = wake_group_take(&self.wake.g)
        cdef waiter_t* nxt
        cdef PyObject* obj
        cdef int nwoken = 0
        while m != NULL:
            nxt = m.next
            fz_exchange_acq_rel_int(&m.queued, 0)
            obj = self.slot_ptrs[m.id] if m.id < self.nslots_cap else NULL
            if obj != NULL and (<Engine>obj).wn == m and (<Engine>obj).state == ST_ACTIVE:
                if _fast_event(obj, KIND_WAKE, 0):
                    if (<Engine>obj).delivered:
                        (<Engine>obj).delivered = False
                        hot[0] = obj
                elif nwoken < MAX_EVENTS:
                    woken[nwoken] = m.id
                    nwoken += 1
                else:
                    waiter_signal(m)  # no room this round: queued again, taken next round
            m = nxt
        return nwoken

    cdef void _await_reply(self, PyObject* obj) noexcept nogil:
        """An engine just handed its socket a message, and is waiting for outbound data:
        spin on its waiter for a while (a reply, in request/reply traffic) instead of going
        back to the poller (up to waiter_spin_budget()), so the socket's publish wakes us
        without a syscall. The spin ends early when anything else is ready: another engine
        signalled (the wake group's stack), or an fd event (polling the epoll/kqueue fd does
        not consume its events; the poll backend has no such fd, so there the spin is deaf
        to fd events for at most its budget): other connections never wait for our hunch."""
        cdef waiter_t* w = (<Engine>obj).wn
        if (<Engine>obj).state != ST_ACTIVE or fz_load_relaxed_int(&w.asleep) != 1:
            return
        if waiter_spin_io(w, waiter_spin_budget(), self.poller.fd, &self.wake.g.head):
            # no event, nothing to drain (the waker saw us spinning and wrote no fd): pump
            if not _fast_event(obj, KIND_ENGINE, 0):
                with gil:
                    try:
                        self._slow_event(KIND_ENGINE, (<Engine>obj).slot, 0)
                    except Exception as exc:
                        _report(exc)

    cdef void _slow_batch(self, fz_event* events, int* slow, int nslow, int* woken,
                          int nwoken) noexcept:
        cdef int i, kind, slot
        for i in range(nslow):
            kind = events[slow[i]].tag & 3
            slot = <int>(events[slow[i]].tag >> 2)
            try:
                self._slow_event(kind, slot, events[slow[i]].events)
            except Exception as exc:  # never let one connection kill the thread
                _report(exc)
        for i in range(nwoken):
            try:
                self._slow_event(KIND_WAKE, woken[i], 0)
            except Exception as exc:
                _report(exc)
        try:
            if self.cmds:
                self._run_commands()
            if self.timers:
                self._run_timers()
        except Exception as exc:
            _report(exc)
        self.deadline = self.timers[0][0] if self.timers else 0.0

    def _run_commands(self):
        waiter_drain(&self.cmd_waiter.w)
        while self.cmds:
            fn, args = self.cmds.popleft()
            try:
                fn(*args)
            except Exception as exc:
                _report(exc)

    def _run_timers(self):
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, fn = heapq.heappop(self.timers)
            if fn is None:
                self.n_cancelled -= 1
                continue
            try:
                fn()
            except Exception as exc:
                _report(exc)

    def add_timer(self, double delay_s, fn):
        """Run fn() in the I/O thread after delay_s; returns a handle for cancel_timer."""
        self.timer_seq += 1
        entry = [time.monotonic() + delay_s, self.timer_seq, fn]
        if self.thread is not None and threading.get_ident() != self.thread_ident:
            self.call(self._push_timer, entry)  # the heap is the I/O thread's alone
        else:
            self._push_timer(entry)
        return entry

    def _push_timer(self, entry):
        heapq.heappush(self.timers, entry)
        self.deadline = self.timers[0][0]

    def cancel_timer(self, entry):
        """Forget a timer (I/O thread only): its callable, and what that holds, go at once;
        the heap is compacted once cancelled entries are the majority."""
        if entry is None or entry[2] is None:
            return
        entry[2] = None
        self.n_cancelled += 1
        if self.n_cancelled > 64 and self.n_cancelled * 2 > len(self.timers):
            self.timers = [e for e in self.timers if e[2] is not None]
            heapq.heapify(self.timers)
            self.n_cancelled = 0
            self.deadline = self.timers[0][0] if self.timers else 0.0

    # ---------------------------------------------------------------- slots
    def new_slot(self, obj):
        cdef int slot
        if self.free_slots:
            slot = self.free_slots.pop()
            self.slots[slot] = obj
        else:
            slot = len(self.slots)
            self.slots.append(obj)
            if slot >= self.nslots_cap:
                self.nslots_cap *= 2
                self.slot_ptrs = <PyObject**>realloc(self.slot_ptrs,
                                                       self.nslots_cap * sizeof(PyObject*))
        self.slot_ptrs[slot] = <PyObject*>obj if isinstance(obj, Engine) else NULL
        return slot

    def free_slot(self, int slot):
        if 0 <= slot < len(self.slots):
            self.slots[slot] = None
            self.slot_ptrs[slot] = NULL
            self.free_slots.append(slot)

    cdef int _poller_add(self, int fd, uint64_t tag, uint32_t mask) except -1:
        if fz_poller_add(&self.poller, fd, tag, mask) < 0:
            raise OSError(errno, os.strerror(errno))
        return 0

    def register(self, int fd, int slot, int kind, uint32_t mask):
        """Add fd to the poller (mask: readiness bits, epoll's numbers, FZ_ET for edge).
        An engine's fd on the level-triggered poll backend starts with read interest (and
        write while handshake bytes wait); its engine states its interest from then on."""
        cdef Engine eng
        if kind == KIND_ENGINE and 0 <= slot < len(self.slots):
            obj = self.slots[slot]
            if isinstance(obj, Engine):
                eng = <Engine>obj
                if eng.state == ST_ACTIVE and eng.wn == NULL and eng.out is not None:
                    eng._bind_wake()  # activated before it had a slot (pgm's bridge)
                if self.level:
                    eng.poller = &self.poller
                    mask = FZ_IN | (FZ_OUT if eng._hs_out else 0)
        self._poller_add(fd, _tag(slot, kind), mask)

    def unregister(self, int fd):
        fz_poller_del(&self.poller, fd)

    def want(self, int fd, uint32_t mask):
        """A level-triggered poller (poll backend) reports fd only for these events from
        now on (EPOLLIN / EPOLLOUT); a no-op on the edge-triggered ones. For slow-path
        objects registered edge-triggered that stop reading or writing (e.g. _legacy)."""
        fz_poller_want(&self.poller, fd, mask)

    def _slow_event(self, int kind, int slot, uint32_t mask):
        if kind == KIND_CMD:
            return
        obj = self.slots[slot] if slot < len(self.slots) else None
        if obj is None:
            return
        if kind != KIND_SLOW and isinstance(obj, Engine) and (<Engine>obj).hb_req:
            (<Engine>obj)._hb_service()
            if (<Engine>obj).state == ST_ACTIVE and (<Engine>obj).error == 0:
                return  # _fast_event pumped already (an error is read like input there)
        obj.on_event(kind, mask)

    # ---------------------------------------------------------------- API for sockets
    def bind(self, sock, ep):
        # (binds in the caller's thread: errors raise here)
        listener = _transport().Listener(self, sock, ep)
        self.call(listener.start)
        self.by_socket.setdefault(sock, []).append(listener)
        return listener.resolved

    def connect(self, sock, ep):
        connecter = _transport().Connecter(self, sock, ep)
        self.by_socket.setdefault(sock, []).append(connecter)
        self.call(connecter.start)

    def drop_endpoint(self, sock, str url, str kind):
        for obj in list(self.by_socket.get(sock, ())):
            if obj.kind == kind and obj.url == url:
                self.by_socket[sock].remove(obj)
                self.call(obj.stop, 0)

    def close_socket(self, sock, int linger):
        objs = self.by_socket.pop(sock, [])
        if objs:
            self.idle.clear()
            self.call(self._stop_all, objs, linger)  # one command: one wake-up

    def _stop_all(self, objs, int linger):
        for obj in objs:
            try:
                obj.stop(linger)
            except Exception as exc:  # (as _run_commands: one failure stops no other)
                _report(exc)
        self.check_idle()

    def check_idle(self):
        # (is_set first: Event.set takes its Condition's lock and notifies, three times
        # per closed connection otherwise; a clear() is always followed by a command
        # whose end calls this, so a set is never missed)
        if not self.lingering and not self.idle.is_set():
            self.idle.set()

    def wait_sockets_closed(self, timeout=None):
        """term(): wait for lingering engines to flush (or their linger to expire)."""
        self.idle.wait(timeout)

    def _close_everything(self):
        for obj in list(self.slots):
            if obj is not None:
                try:
                    obj.stop(0)
                except Exception:
                    pass
        self.slots = []


cdef bint _fast_event(PyObject* obj, int kind, uint32_t mask) noexcept nogil:
    """Handle an event without the GIL if the engine is active and healthy."""
    cdef int rc
    if obj == NULL:
        return False
    if (<Engine>obj).state != ST_ACTIVE:
        if (<Engine>obj).state == ST_HANDSHAKE and (<Engine>obj).hsc and kind == KIND_ENGINE:
            return (<Engine>obj)._hsc_run()  # False: the slow path takes the handshake over
        return False
    _xo_lock(&(<Engine>obj).xo)  # (the readiness flags are pump state too)
    if kind != KIND_WAKE:
        # A hang-up is read like input: what the peer sent before closing is still in
        # the kernel, and recv() returning 0 (after it) is what ends the connection. An
        # error (a reset) likewise: recv() returns the data queued before it, then the
        # error, which ends the connection; an engine stopped at RCVHWM reads it later.
        if mask & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR):
            (<Engine>obj).in_ready = True
        if mask & EPOLLOUT and not (<Engine>obj).out_dead:
            (<Engine>obj).out_blocked = False
    rc = (<Engine>obj)._pump_held()
    fz_store_seq_cst_int(&(<Engine>obj).xo, 0)
    if rc != 0:
        (<Engine>obj).error = rc
        return False
    return not (<Engine>obj).hb_req  # a TTL watch to start: the slow path does it


cdef inline void _xo_lock(int* xo) noexcept nogil:
    """Own an engine's pump state; a socket's thread holds it for one send or read."""
    cdef unsigned int i = 0
    while not fz_cas_acq_rel_int(xo, 0, 1):
        fz_cpu_relax()
        i += 1
        if (i & 63) == 0:
            sched_yield()  # that thread may be on this CPU


cdef bint _direct_send(void* ctx) noexcept nogil:
    """Ring.publish's direct take, in a socket's thread holding the GIL (so no slow path of
    the I/O thread runs meanwhile), the engine's waiter asleep: send what the socket just
    published ourselves, unless the I/O thread pumps the engine now. True if nothing is
    left for the I/O thread to do (then nobody is woken)."""
    cdef bint done = False
    if not fz_cas_acq_rel_int(&(<Engine>ctx).xo, 0, 1):
        return False  # the I/O thread pumps it: its next look sees the bytes (we wake it)
    if ((<Engine>ctx).state == ST_ACTIVE and not (<Engine>ctx).out_blocked
            and not (<Engine>ctx).closing and not (<Engine>ctx).ctl_due
            and (<Engine>ctx).ctl_off >= (<Engine>ctx).ctl_len):
        done = ((<Engine>ctx)._flush_out() == 0 and not (<Engine>ctx).out_blocked
                and not (<Engine>ctx)._out_ready() and not (<Engine>ctx).ctl_due)
    fz_store_seq_cst_int(&(<Engine>ctx).xo, 0)
    return done


cdef int _direct_in(void* ctx) noexcept nogil:
    """The socket's thread, holding the GIL, blocked in a read on this one connection,
    the OS socket readable: pump it here (unless the I/O thread is doing so). -1 when the
    I/O thread must take over: an error (its own poller event for the EOF or error that
    ended our read comes anyway: edge-triggered, it was raised when those arrived, and its
    pump finds them again), or a timer to start (hb_req: the engine is signalled)."""
    cdef int rc = 0
    cdef bint timer = False
    if not fz_cas_acq_rel_int(&(<Engine>ctx).xo, 0, 1):
        return 0
    if ((<Engine>ctx).state == ST_ACTIVE and not (<Engine>ctx).closing
            and (<Engine>ctx).poller == NULL):
        (<Engine>ctx).in_ready = True
        rc = (<Engine>ctx)._pump_held()
        timer = rc == 0 and (<Engine>ctx).hb_req
    fz_store_seq_cst_int(&(<Engine>ctx).xo, 0)
    if timer and (<Engine>ctx).wn != NULL:
        waiter_signal((<Engine>ctx).wn)
    return -1 if rc != 0 or timer else 0


cdef bint _direct_on = True


def set_direct(bint on):
    """Direct I/O for REQ/REP connections activated from now on (fastzmq.tuning)."""
    global _direct_on
    _direct_on = on


def get_direct():
    return _direct_on


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef inline int _timeout_ms(double deadline) noexcept nogil:
    cdef double ms
    if deadline <= 0:
        return -1
    ms = (deadline - _now()) * 1000.0
    return 0 if ms <= 0 else <int>(ms + 1)


def _report(exc):
    import sys
    import traceback

    if os.environ.get("FASTZMQ_DEBUG"):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)

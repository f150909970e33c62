"""Waiter: a pollable fd plus an atomic ``asleep`` flag, so a thread sleeps only when it must
and is woken only when it sleeps.

Theory of operation
-------------------
A waiter belongs to one sleeping side (a socket, or the I/O thread). ``fd`` is what it polls
(and, for a socket, what it exposes as its pollable ``FD``): an eventfd on Linux, the read
end of a non-blocking pipe elsewhere (``wfd`` is then the write end).

Sleeping and waking are a Dekker pair over two memory locations, the sleeper's condition C
(for a ring: its published position or message count) and ``asleep``:

    sleeper                               waker
    store asleep = 1        (seq_cst)     store C                 (release)
    fence                   (seq_cst)     fence                   (seq_cst)
    load C  -> true: disarm, go on        load asleep -> 1: exchange(asleep, 0);
            -> false: poll(fd), drain              if it was 1: write fd

The two seq_cst fences are totally ordered. If the sleeper's fence comes first, the waker's
load of ``asleep`` sees 1 (or a later value written by a disarm, or by another waker that then
signals); if the waker's fence comes first, the sleeper's re-check sees C. Without the fences,
each side's load could be satisfied before its own store became visible to the other (StoreLoad
reordering, allowed on x86-64 through the store buffer and on ARM), and both would miss: the
sleeper sleeps on a true condition and nobody writes the fd. The exchange makes a single waker
signal per arm; a stale fd count from an earlier signal only causes a spurious wake-up, after
which the sleeper re-checks. The common path of a waker (nobody asleep) is a fence and a load.

Spinning before sleeping (``waiter_spin``). A sleep and its wake-up cost a syscall on each
side and a trip through the scheduler: several microseconds on a VM, most of a round trip.
So a blocked socket first busy-waits, with the GIL released, for a bounded time: it turns its
armed flag (1) into *spinning* (2) with a compare-and-swap and watches the flag. A waker's
exchange clears any non-zero flag but signals only a 1, so a spinning sleeper costs its waker
no syscall and wakes within a few hundred nanoseconds. When the budget runs out, a second
compare-and-swap (2 -> 1) makes the sleeper armed again before it polls; if it fails, a waker
got there first (and did not signal), so the sleeper goes on without polling. Either way the
Dekker argument above is unchanged: a waker that sees 2 has published C, and the sleeper
observes its clear. The spin reads the clock and calls ``sched_yield()`` every 64 pauses, so
on a small machine it gives its CPU to a runnable thread (an I/O thread, the peer) at once.

A woken sleeper must then take the GIL. If its waker is a thread of the same process (an inproc
peer) that still holds the GIL, taking it would sleep on the GIL's condition variable, which is
the very wake-up the spin avoided. So a socket with one inproc peer passes that peer's read
waiter as a *gate*: once woken it keeps spinning (at most a few microseconds) until the peer is
spinning too, that is, has released the GIL in its own blocking call. That turns an inproc ping
pong into two GIL hand-overs with no kernel involvement. The gate only delays; it never decides.

Retiring (``waiter_retire``, ``Waiter.close``). A socket's fd goes at its close(), while
other threads may still hold pointers to its waiter (rings) and signal it. A signaller of a
plain waiter counts itself into ``users`` (an atomic add) before it reads the fds and writes,
and out after. Retiring sets ``WAITER_RETIRED`` in ``users`` (an atomic or), then waits for
the count to drop to zero: a signaller whose add saw the flag writes nothing, and one that
came in before it is finished when the fds are closed, so no write lands on a reused number.
A sleeper in ``wait`` sees the fd gone within one slice (below) and returns.

Signals: ``Waiter.wait`` polls without the GIL. On EINTR it takes the GIL and runs Python's
signal handlers (``PyErr_CheckSignals``), so a KeyboardInterrupt raised by a handler propagates
out of ``wait`` promptly. Because a signal may land between the GIL release and ``poll()`` (then
poll does not see EINTR), a long wait is cut into slices of at most 200 ms with a handler check
between slices: the bound on signal latency, at the cost of five idle wake-ups a second.
"""

import os

from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno
from libc.errno cimport EINTR, errno
from libc.stdlib cimport calloc, free, realloc

cdef extern from "_poller.h" nogil:
    int fz_wake_open(int* rfd, int* wfd, int use_pipe)
    void fz_wake_write(int rfd, int wfd)
    void fz_wake_read_all(int rfd, int wfd)
    int fz_native_backend()
    enum:
        FZ_BACKEND_EPOLL
        FZ_BACKEND_KQUEUE
        FZ_BACKEND_POLL
        FZ_HAVE_EPOLL
        FZ_HAVE_KQUEUE

cdef extern from *:
    """
    #include <poll.h>
    #include <stdint.h>
    #include <time.h>

    static int fz_poll_in(int fd, int timeout_ms) {
        struct pollfd p;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        int r = poll(&p, 1, timeout_ms);
        return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }

    static int64_t fz_monotonic_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }

    static int64_t fz_monotonic_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    """
    int fz_poll_in(int fd, int timeout_ms) nogil
    long long fz_monotonic_ms() nogil
    long long fz_monotonic_ns() nogil
    int close(int fd) nogil

cdef extern from "<sched.h>":
    int sched_yield() nogil

cdef enum:
    WAITER_RETIRED = 1 << 30  # waiter_t.users: the waiter signals no more (waiter_retire)
    _SIGNAL_SLICE_MS = 200  # longest poll() between two checks for Python signal handlers
    _SPIN_CHECK_MASK = 63   # spin: read the clock and yield the CPU every 64 pauses
    _GATE_CHECK_MASK = 7    # gate: read the clock every 8 pauses (the wait is a few us)


# ---------------------------------------------------------------- backend
_BACKEND_NAMES = {FZ_BACKEND_EPOLL: "epoll", FZ_BACKEND_KQUEUE: "kqueue", FZ_BACKEND_POLL: "poll"}


def _choose_backend():
    """FASTZMQ_POLLER: unset (or "default") = this build's native poller; "poll" = poll(2)
    with self-pipes; "epoll" / "kqueue" where this build has them. Anything else is -1:
    check_backend() then raises at the first Context, socket or I/O thread (a setting is
    never accepted and ignored; an ImportError at ``import fastzmq`` would read as a missing
    module, and code that falls back to another library on ImportError would hide it)."""
    global _bad_setting
    want = os.environ.get("FASTZMQ_POLLER", "").strip().lower()
    have = {"poll": FZ_BACKEND_POLL}
    if FZ_HAVE_EPOLL:
        have["epoll"] = FZ_BACKEND_EPOLL
    if FZ_HAVE_KQUEUE:
        have["kqueue"] = FZ_BACKEND_KQUEUE
    if want in ("", "default"):
        return fz_native_backend()
    if want not in have:
        _bad_setting = (
            f"FASTZMQ_POLLER={os.environ['FASTZMQ_POLLER']!r} is not a poller backend: "
            f"valid values are {', '.join(sorted(have))} or default (or leave it unset)"
        )
        return -1
    return have[want]


_bad_setting = None
cdef int _backend = _choose_backend()


def check_backend():
    """Raise ZMQError(EINVAL) naming the valid values if FASTZMQ_POLLER is not one."""
    if _backend < 0:
        from errno import EINVAL

        from fastzmq.error import ZMQError

        raise ZMQError(EINVAL, _bad_setting)


cdef int waiter_backend() noexcept nogil:
    return _backend


def poller_backend():
    """The readiness poller this process uses: "epoll", "kqueue" or "poll"."""
    check_backend()
    return _BACKEND_NAMES[_backend]


cdef inline int _wake_open(int* rfd, int* wfd) noexcept nogil:
    return fz_wake_open(rfd, wfd, _backend != FZ_BACKEND_EPOLL)


# ---------------------------------------------------------------- waiters
cdef void waiter_signal(waiter_t* w) noexcept nogil:
    cdef wake_group_t* g = <wake_group_t*>w.group
    cdef void* head
    if g != NULL:
        # queue the member once (a queued member is pumped anyway), then wake the group's
        # thread if it sleeps: the push (release CAS) is its condition (Dekker, as above)
        if fz_exchange_acq_rel_int(&w.queued, 1) != 0:
            return
        while True:
            head = fz_load_relaxed_ptr(&g.head)
            w.next = <waiter_t*>head
            if fz_cas_release_ptr(&g.head, head, w):
                break
        waiter_wake_if_asleep(&g.w)
    elif w.wfd >= 0:
        # Enter (count ourselves in), then write only if the waiter is not retired: the
        # fds are read after the increment, and waiter_retire waits for us to leave.
        if not fz_fetch_add_acq_rel_int(&w.users, 1) & WAITER_RETIRED:
            fz_wake_write(w.fd, w.wfd)
        fz_fetch_sub_release_int(&w.users, 1)


cdef void waiter_retire(waiter_t* w) noexcept nogil:
    cdef unsigned int i = 0
    fz_fetch_or_acq_rel_int(&w.users, WAITER_RETIRED)
    # Wait for the signallers inside (each is one write(2) away from leaving; a preempted
    # one gets the CPU through the yield).
    while fz_load_acquire_int(&w.users) != WAITER_RETIRED:
        fz_cpu_relax()
        i += 1
        if (i & _SPIN_CHECK_MASK) == 0:
            sched_yield()
    w.fd = -1
    w.wfd = -1


cdef void waiter_arm(waiter_t* w) noexcept nogil:
    fz_store_seq_cst_int(&w.asleep, 1)
    fz_fence_seq_cst()


DEFAULT_SPIN_US = 50
cdef long long _spin_budget_ns = DEFAULT_SPIN_US * 1000


cdef long long waiter_spin_budget() noexcept nogil:
    return _spin_budget_ns


def set_spin_budget(spin_us):
    """Set how long (microseconds) a blocked call spins before it sleeps; 0: never."""
    global _spin_budget_ns
    if type(spin_us) is not int or not 0 <= spin_us <= 1_000_000:
        raise ValueError(f"spin must be an int from 0 to 1000000 microseconds, not {spin_us!r}")
    _spin_budget_ns = spin_us * 1000


def get_spin_budget():
    """How long (microseconds) a blocked call spins before it sleeps."""
    return _spin_budget_ns // 1000


cdef inline bint _spin_start(waiter_t* w) noexcept nogil:
    return w != NULL and fz_cas_acq_rel_int(&w.asleep, 1, 2)


cdef inline bint _spin_end(waiter_t* w) noexcept nogil:
    """Spinning -> armed; False if a waker cleared the flag first (it did not signal)."""
    return fz_cas_acq_rel_int(&w.asleep, 2, 1)


cdef inline bint _cleared(bint spinning, waiter_t* w) noexcept nogil:
    return spinning and fz_load_relaxed_int(&w.asleep) == 0


cdef bint waiter_spin(waiter_t* a, waiter_t* b, waiter_t* gate,
                      long long spin_ns, long long gate_ns, int watch_fd) noexcept nogil:
    return _spin(a, b, gate, spin_ns, gate_ns, watch_fd, NULL)


cdef bint waiter_spin_io(waiter_t* a, long long spin_ns, int watch_fd,
                         void** watch_ptr) noexcept nogil:
    return _spin(a, NULL, NULL, spin_ns, 0, watch_fd, watch_ptr)


cdef inline bint _spin(waiter_t* a, waiter_t* b, waiter_t* gate, long long spin_ns,
                       long long gate_ns, int watch_fd, void** watch_ptr) noexcept nogil:
    cdef bint sa = _spin_start(a)
    cdef bint sb = _spin_start(b)
    cdef long long now, deadline
    cdef unsigned int i = 0
    cdef bint woke = False
    if not (sa or sb):
        return False  # not armed: already woken (and signalled), or never armed
    deadline = fz_monotonic_ns() + spin_ns
    while not (_cleared(sa, a) or _cleared(sb, b)):
        fz_cpu_relax()
        i += 1
        if (i & _SPIN_CHECK_MASK) == 0:
            if fz_monotonic_ns() >= deadline:
                break
            if watch_fd >= 0 and fz_poll_in(watch_fd, 0) != 0:
                break
            if watch_ptr != NULL and fz_load_relaxed_ptr(watch_ptr) != NULL:
                break
            sched_yield()  # a runnable thread on this CPU (an I/O thread) goes first
    # each spinning flag goes back to armed, unless a waker got there first
    if sa and not _spin_end(a):
        woke = True
    if sb and not _spin_end(b):
        woke = True
    if woke and gate != NULL:
        # Taking the GIL while the sender still holds it would sleep on the GIL's condition
        # variable (a futex wake-up, several us): give it a moment to park first.
        now = fz_monotonic_ns()
        deadline = now + gate_ns
        while fz_load_relaxed_int(&gate.asleep) != 2 and now < deadline:
            fz_cpu_relax()
            i += 1
            if (i & _GATE_CHECK_MASK) == 0:
                now = fz_monotonic_ns()
    return woke


cdef void waiter_disarm(waiter_t* w) noexcept nogil:
    fz_store_relaxed_int(&w.asleep, 0)


cdef void waiter_drain(waiter_t* w) noexcept nogil:
    if w.fd >= 0:
        fz_wake_read_all(w.fd, w.wfd)


cdef int waiter_poll(waiter_t* w, int timeout_ms) noexcept nogil:
    return fz_poll_in(w.fd, timeout_ms)


cdef void _waiter_close(waiter_t* w) noexcept nogil:
    cdef int fd = w.fd, wfd = w.wfd
    waiter_retire(w)  # no signaller writes to them any more: the numbers may be reused
    if wfd >= 0 and wfd != fd:
        close(wfd)
    if fd >= 0:
        close(fd)


cdef int _check_open(Waiter self) except -1:
    if self.w.fd < 0:
        raise ValueError("waiter is closed")
    return 0


cdef class Waiter:
    """An eventfd (or pipe) and an ``asleep`` flag. See the module docstring for the protocol."""

    def __cinit__(self):
        self.w.asleep = 0
        self.w.users = 0
        self.w.fd = -1
        self.w.wfd = -1
        if _backend < 0:
            check_backend()
        if _wake_open(&self.w.fd, &self.w.wfd) < 0:
            PyErr_SetFromErrno(OSError)

    def __dealloc__(self):
        _waiter_close(&self.w)

    def fileno(self):
        """The pollable fd: readable after a signal, until drained."""
        _check_open(self)
        return self.w.fd

    @property
    def closed(self):
        return self.w.fd < 0

    @property
    def asleep(self):
        """Current value of the asleep flag (for tests and debugging)."""
        return fz_load_relaxed_int(&self.w.asleep) != 0

    @property
    def flag(self):
        """The raw flag: 0 awake, 1 armed, 2 spinning (for tests)."""
        return fz_load_relaxed_int(&self.w.asleep)

    def signal(self):
        _check_open(self)
        waiter_signal(&self.w)

    def wake_if_asleep(self):
        """Fence; if asleep, clear the flag and signal. Returns nothing."""
        _check_open(self)
        waiter_wake_if_asleep(&self.w)

    def arm(self):
        waiter_arm(&self.w)

    def disarm(self):
        waiter_disarm(&self.w)

    def drain(self):
        _check_open(self)
        waiter_drain(&self.w)

    def close(self):
        """Close the fds, once no other thread is signalling them (waiter_retire); a
        later signal does nothing and a sleeper in wait() returns."""
        _waiter_close(&self.w)

    def spin(self, long long spin_ns, Waiter gate=None, long long gate_ns=0, int watch_fd=-1):
        """waiter_spin on this waiter (for tests): True if a waker cleared it meanwhile."""
        cdef bint woke
        cdef waiter_t* g = NULL if gate is None else &gate.w
        with nogil:
            woke = waiter_spin(&self.w, NULL, g, spin_ns, gate_ns, watch_fd)
        return woke

    def wait(self, int timeout_ms=-1):
        """Block until the fd is readable (True) or timeout_ms passes (False); -1 = forever.

        Does not drain. Releases the GIL while blocked; Python signal handlers run on EINTR.
        """
        return self.wait_c(timeout_ms) == 1

    cdef int wait_c(self, int timeout_ms) except -1:
        cdef long long deadline = fz_monotonic_ms() + timeout_ms
        cdef long long left
        cdef int step, rc, err
        _check_open(self)
        while True:
            if self.w.fd < 0:
                return 1  # closed by another thread meanwhile (a socket's close): wake up
            step = _SIGNAL_SLICE_MS
            if timeout_ms >= 0:
                left = deadline - fz_monotonic_ms()
                if left < step:
                    step = <int>left if left > 0 else 0
            with nogil:
                rc = fz_poll_in(self.w.fd, step)
                err = errno
            if rc > 0:
                return 1
            if rc < 0 and err != EINTR:
                raise OSError(err, "poll() on the waiter fd failed")
            PyErr_CheckSignals()
            if timeout_ms >= 0 and fz_monotonic_ms() >= deadline:
                return 0


# ---------------------------------------------------------------- wake groups
cdef enum:
    _MEMBERS_PER_CHUNK = 64


cdef class WakeGroup:
    """One wake-up fd for many waiters: an I/O thread and its engines (one fd per connection,
    the OS socket, instead of an eventfd each).

    A member (``member(id)``, the engine of slot ``id``) is armed, spun on and woken like any
    waiter, but its signal (``waiter_signal``: the waker saw it armed) pushes it on the group's
    lock-free stack, once until taken, and then wakes the group's own waiter ``g.w`` only if
    that is armed, i.e. the I/O thread sleeps (or is about to) in its poller, whose set holds
    ``g.w.fd``. The I/O thread arms ``g.w`` before it waits, re-checks the stack (Dekker), and
    after every wait takes the whole stack (``wake_group_take``) and pumps those engines. So a
    syscall happens only on an empty -> non-empty transition of an engine's ring with the
    engine armed AND its thread asleep; a busy I/O thread is woken by memory alone.

    Members live in chunks that never move nor go before the group does: a ring keeps the
    group alive (its waiter reference), so a late signal of a member whose engine died lands
    on valid memory and costs at most a spurious pump of the member's next owner.
    """

    def __cinit__(self):
        cdef Waiter w = Waiter()
        self.fd_owner = w
        self.g.w = w.w          # the fds stay owned (and closed) by w
        self.g.w.asleep = 0
        self.g.head = NULL

    def __dealloc__(self):
        cdef int i
        if self.chunks != NULL:
            for i in range(self.nchunks):
                free(self.chunks[i])
            free(self.chunks)

    cdef waiter_t* member(self, int id) except NULL:
        cdef int c = id // _MEMBERS_PER_CHUNK, i, k
        cdef waiter_t** grown
        cdef waiter_t* m
        if id < 0:
            raise ValueError("negative member id")
        if c >= self.nchunks:
            grown = <waiter_t**>realloc(self.chunks, (c + 1) * sizeof(waiter_t*))
            if grown == NULL:
                raise MemoryError()
            self.chunks = grown
            for i in range(self.nchunks, c + 1):
                self.chunks[i] = <waiter_t*>calloc(_MEMBERS_PER_CHUNK, sizeof(waiter_t))
                if self.chunks[i] == NULL:
                    self.nchunks = i
                    raise MemoryError()
                for k in range(_MEMBERS_PER_CHUNK):
                    m = &self.chunks[i][k]
                    m.fd = -1
                    m.wfd = -1
                    m.id = i * _MEMBERS_PER_CHUNK + k
                    m.group = &self.g
            self.nchunks = c + 1
        return &self.chunks[c][id % _MEMBERS_PER_CHUNK]

    def fileno(self):
        """The group's pollable fd (readable after a signal while armed, until drained)."""
        return self.g.w.fd

    # ---- for tests (the I/O thread uses the C API) ----
    def arm(self):
        waiter_arm(&self.g.w)

    def disarm(self):
        waiter_disarm(&self.g.w)

    def drain(self):
        waiter_drain(&self.g.w)

    def wake_member(self, int id):
        """As a ring's waker would: wake member id if it is armed."""
        waiter_wake_if_asleep(self.member(id))

    def arm_member(self, int id):
        waiter_arm(self.member(id))

    def take(self):
        """The ids of the members signalled since the last take (each cleared)."""
        cdef waiter_t* m = wake_group_take(&self.g)
        cdef waiter_t* nxt
        ids = []
        while m != NULL:
            nxt = m.next
            fz_exchange_acq_rel_int(&m.queued, 0)
            ids.append(m.id)
            m = nxt
        return ids

# C-level API of the waiter: who sleeps and who wakes them (see _waiter.pyx for the theory).
#
# The Dekker-style contract, for any condition C made true by another thread:
#   sleeper: waiter_arm(w); if C: waiter_disarm(w) else: sleep on w.fd (poll), waiter_drain(w)
#   waker:   make C true (release or seq_cst store); waiter_wake_if_asleep(w)
# Either the sleeper's re-check sees C, or the waker sees asleep == 1 and signals the fd.
# A spurious wake-up is harmless (the sleeper re-checks); a lost one cannot happen.

from libc.stdint cimport uint64_t


cdef extern from "_atomic.h":
    uint64_t fz_load_relaxed_u64(const uint64_t* p) noexcept nogil
    uint64_t fz_load_acquire_u64(const uint64_t* p) noexcept nogil
    void fz_store_relaxed_u64(uint64_t* p, uint64_t v) noexcept nogil
    void fz_store_release_u64(uint64_t* p, uint64_t v) noexcept nogil
    int fz_load_relaxed_int(const int* p) noexcept nogil
    int fz_load_acquire_int(const int* p) noexcept nogil
    int fz_fetch_add_acq_rel_int(int* p, int v) noexcept nogil
    int fz_fetch_sub_release_int(int* p, int v) noexcept nogil
    int fz_fetch_or_acq_rel_int(int* p, int v) noexcept nogil
    void fz_store_seq_cst_int(int* p, int v) noexcept nogil
    void fz_store_relaxed_int(int* p, int v) noexcept nogil
    int fz_exchange_acq_rel_int(int* p, int v) noexcept nogil
    int fz_cas_acq_rel_int(int* p, int expected, int desired) noexcept nogil
    void* fz_exchange_acq_rel_ptr(void** p, void* v) noexcept nogil
    void* fz_load_acquire_ptr(void** p) noexcept nogil
    void* fz_load_relaxed_ptr(void** p) noexcept nogil
    int fz_cas_release_ptr(void** p, void* expected, void* desired) noexcept nogil
    void fz_store_release_ptr(void** p, void* v) noexcept nogil
    void fz_fence_seq_cst() noexcept nogil
    void fz_cpu_relax() noexcept nogil


cdef struct waiter_t:
    # 0 awake; 1 armed: the owner is (about to be) blocked on fd, a waker must signal;
    # 2 spinning: the owner busy-waits for the flag to drop to 0, a waker need not signal
    int asleep      # atomics only
    int fd          # pollable read end: an eventfd (Linux), a non-blocking pipe (poll
                    # backend, kqueue platforms); -1 for a member of a wake group
    int wfd         # written to wake (== fd for an eventfd)
    # A member of a wake group (an engine of an I/O thread: fd == -1) is signalled by
    # queueing it on the group's pending stack and waking the group's own waiter.
    int queued      # 1 while on the group's stack (atomics only)
    int id          # the member's number in its group (the engine's slot)
    waiter_t* next  # the stack's link
    void* group     # wake_group_t*, or NULL: a plain waiter with its own fd
    # A plain waiter's signal writes its fd from any thread; the owner may close that fd
    # (a socket's close()). users counts the signallers between their check and their
    # write, plus WAITER_RETIRED once retired: a signaller that sees it writes nothing,
    # and retiring waits for those already inside, so no write lands on a recycled fd.
    int users       # atomics only


# One wake-up fd shared by many waiters (an I/O thread and its engines): see WakeGroup.
cdef struct wake_group_t:
    waiter_t w      # the I/O thread's own waiter: armed while it waits in the poller
    void* head      # lock-free stack (waiter_t*) of members signalled since the last take


# Unconditional wake: make fd readable (EAGAIN ignored: then it already is). Nothing once
# the waiter is retired.
cdef void waiter_signal(waiter_t* w) noexcept nogil
# Stop a plain waiter's signals for good: from now on waiter_signal writes nothing, and
# the signallers already writing have finished when this returns; then fd = wfd = -1.
# The fds are not closed (the caller owns them: Waiter.close closes its own).
cdef void waiter_retire(waiter_t* w) noexcept nogil
# asleep = 1 (seq_cst) followed by a full fence. The caller then RE-CHECKS its condition.
cdef void waiter_arm(waiter_t* w) noexcept nogil
cdef void waiter_disarm(waiter_t* w) noexcept nogil
# Busy-wait (GIL released) up to spin_ns for a waker, before sleeping on the fd. Each of a, b
# (either may be NULL) that is armed (1) is spinning (2) meanwhile, so a waker clears it
# without a syscall. Returns 1 if a waker cleared one: the caller need not poll, and that
# waker wrote nothing to the fd. Otherwise 0, and every spinning waiter is armed again (1).
# gate (may be NULL): once woken, go on spinning up to gate_ns until gate is spinning too,
# i.e. its owner (an inproc peer that just sent to us) has released the GIL.
# watch_fd (-1: none): give up the spin as soon as this fd is readable (other work).
cdef bint waiter_spin(waiter_t* a, waiter_t* b, waiter_t* gate,
                      long long spin_ns, long long gate_ns, int watch_fd) noexcept nogil
# waiter_spin(a, NULL, NULL, spin_ns, 0, watch_fd) that also gives up as soon as *watch_ptr
# is not NULL (the I/O thread: another engine of its wake group was signalled).
cdef bint waiter_spin_io(waiter_t* a, long long spin_ns, int watch_fd,
                         void** watch_ptr) noexcept nogil
# The spin budget of blocked sockets and of the I/O thread (fastzmq.tuning.set_spin), in ns.
cdef long long waiter_spin_budget() noexcept nogil
# Read the fd until empty (non-blocking).
cdef void waiter_drain(waiter_t* w) noexcept nogil
# Poll w.fd for readability without the GIL: 1 readable, 0 timeout, -1 error (errno set,
# EINTR included). For nogil sleepers (I/O thread helpers, tests); Python threads use Waiter.wait.
cdef int waiter_poll(waiter_t* w, int timeout_ms) noexcept nogil


# Full fence, then: if asleep, exchange it to 0 and, if it was still 1, signal. Inline: the
# common case (nobody asleep) costs one fence and one load, no call and no syscall.
cdef inline void waiter_wake_if_asleep(waiter_t* w) noexcept nogil:
    fz_fence_seq_cst()
    if fz_load_relaxed_int(&w.asleep) != 0:
        if fz_exchange_acq_rel_int(&w.asleep, 0) == 1:
            waiter_signal(w)


# The poller backend this process uses (FZ_BACKEND_EPOLL / _KQUEUE / _POLL of _poller.h),
# chosen once at import (FASTZMQ_POLLER); waiters use pipes unless it is epoll.
cdef int waiter_backend() noexcept nogil


# Members signalled since the last take (a NULL-terminated list through .next, most recent
# first), each still marked queued: the taker clears .queued before acting on a member.
cdef inline waiter_t* wake_group_take(wake_group_t* g) noexcept nogil:
    if fz_load_relaxed_ptr(&g.head) == NULL:
        return NULL
    return <waiter_t*>fz_exchange_acq_rel_ptr(&g.head, NULL)


cdef class WakeGroup:
    cdef wake_group_t g
    cdef waiter_t** chunks      # members, in chunks that never move (rings point at them)
    cdef int nchunks
    cdef object fd_owner        # the Waiter owning g.w's fds
    # The member numbered id (allocated, zeroed, on first use); NULL on malloc failure.
    cdef waiter_t* member(self, int id) except NULL


cdef class Waiter:
    cdef waiter_t w
    # Block until fd is readable (1) or timeout_ms elapses (0); -1 ms = forever. Releases the
    # GIL; runs Python signal handlers on EINTR (and at least every 200 ms), so Ctrl-C raises.
    cdef int wait_c(self, int timeout_ms) except -1

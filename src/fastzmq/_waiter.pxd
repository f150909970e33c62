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
    void fz_store_seq_cst_int(int* p, int v) noexcept nogil
    void fz_store_relaxed_int(int* p, int v) noexcept nogil
    int fz_exchange_acq_rel_int(int* p, int v) noexcept nogil
    int fz_cas_acq_rel_int(int* p, int expected, int desired) noexcept nogil
    void* fz_exchange_acq_rel_ptr(void** p, void* v) noexcept nogil
    void* fz_load_acquire_ptr(void** p) noexcept nogil
    void fz_store_release_ptr(void** p, void* v) noexcept nogil
    void fz_fence_seq_cst() noexcept nogil
    void fz_cpu_relax() noexcept nogil


cdef struct waiter_t:
    # 0 awake; 1 armed: the owner is (about to be) blocked on fd, a waker must signal;
    # 2 spinning: the owner busy-waits for the flag to drop to 0, a waker need not signal
    int asleep      # atomics only
    int fd          # pollable read end: an eventfd on Linux, a non-blocking pipe elsewhere
    int wfd         # written to wake (== fd for an eventfd)


# Unconditional wake: make fd readable (EAGAIN ignored: then it already is).
cdef void waiter_signal(waiter_t* w) noexcept nogil
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


cdef class Waiter:
    cdef waiter_t w
    # Block until fd is readable (1) or timeout_ms elapses (0); -1 ms = forever. Releases the
    # GIL; runs Python signal handlers on EINTR (and at least every 200 ms), so Ctrl-C raises.
    cdef int wait_c(self, int timeout_ms) except -1

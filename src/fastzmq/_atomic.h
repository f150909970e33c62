/* C11 atomics for Cython code (the ring and the waiter).
 *
 * Cython cannot spell `_Atomic` types, so the shared fields are declared as plain
 * integers/pointers in the .pxd files and are touched ONLY through these wrappers, which
 * view them as the matching `_Atomic` type for the duration of one operation. All the
 * types used are lock-free and have the same size and alignment as their atomic
 * counterparts on every platform we build for (x86-64, aarch64; GCC and Clang), which is
 * what makes the view sound in practice.
 *
 * Naming: fz_<op>_<order>_<type>; type u64 = uint64_t, int = int, ptr = void*.
 */
#ifndef FASTZMQ_ATOMIC_H
#define FASTZMQ_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#define FZ_A64(p) ((_Atomic uint64_t *)(p))
#define FZ_AINT(p) ((_Atomic int *)(p))
#define FZ_APTR(p) ((void *_Atomic *)(p))

/* ---- 64-bit counters (positions, message counts) ---- */
static inline uint64_t fz_load_relaxed_u64(const uint64_t *p) {
    return atomic_load_explicit(FZ_A64(p), memory_order_relaxed);
}
static inline uint64_t fz_load_acquire_u64(const uint64_t *p) {
    return atomic_load_explicit(FZ_A64(p), memory_order_acquire);
}
static inline void fz_store_relaxed_u64(uint64_t *p, uint64_t v) {
    atomic_store_explicit(FZ_A64(p), v, memory_order_relaxed);
}
static inline void fz_store_release_u64(uint64_t *p, uint64_t v) {
    atomic_store_explicit(FZ_A64(p), v, memory_order_release);
}

/* ---- int flags (the waiter's `asleep`) ---- */
static inline int fz_load_relaxed_int(const int *p) {
    return atomic_load_explicit(FZ_AINT(p), memory_order_relaxed);
}
static inline void fz_store_seq_cst_int(int *p, int v) {
    atomic_store_explicit(FZ_AINT(p), v, memory_order_seq_cst);
}
static inline void fz_store_relaxed_int(int *p, int v) {
    atomic_store_explicit(FZ_AINT(p), v, memory_order_relaxed);
}
static inline int fz_exchange_acq_rel_int(int *p, int v) {
    return atomic_exchange_explicit(FZ_AINT(p), v, memory_order_acq_rel);
}

static inline int fz_load_acquire_int(const int *p) {
    return atomic_load_explicit(FZ_AINT(p), memory_order_acquire);
}
/* read-modify-write on a counter with flag bits (the waiter's `users`): the old value */
static inline int fz_fetch_add_acq_rel_int(int *p, int v) {
    return atomic_fetch_add_explicit(FZ_AINT(p), v, memory_order_acq_rel);
}
static inline int fz_fetch_sub_release_int(int *p, int v) {
    return atomic_fetch_sub_explicit(FZ_AINT(p), v, memory_order_release);
}
static inline int fz_fetch_or_acq_rel_int(int *p, int v) {
    return atomic_fetch_or_explicit(FZ_AINT(p), v, memory_order_acq_rel);
}

/* compare-and-swap: 1 if *p was `expected` and is now `desired`, else 0 (*p unchanged) */
static inline int fz_cas_acq_rel_int(int *p, int expected, int desired) {
    return atomic_compare_exchange_strong_explicit(FZ_AINT(p), &expected, desired,
                                                   memory_order_acq_rel, memory_order_acquire);
}

/* ---- pointers (spare chunks handed back; waiter pointers switched while read) ---- */
static inline void *fz_exchange_acq_rel_ptr(void **p, void *v) {
    return atomic_exchange_explicit(FZ_APTR(p), v, memory_order_acq_rel);
}
static inline void *fz_load_acquire_ptr(void **p) {
    return atomic_load_explicit(FZ_APTR(p), memory_order_acquire);
}
static inline void *fz_load_relaxed_ptr(void **p) {
    return atomic_load_explicit(FZ_APTR(p), memory_order_relaxed);
}
/* compare-and-swap (release on success): push onto a lock-free stack; 1 if done */
static inline int fz_cas_release_ptr(void **p, void *expected, void *desired) {
    return atomic_compare_exchange_weak_explicit(FZ_APTR(p), &expected, desired,
                                                 memory_order_release, memory_order_relaxed);
}
/* a ring's reader/writer waiter pointer, switched by one thread while the other reads it */
static inline void fz_store_release_ptr(void **p, void *v) {
    atomic_store_explicit(FZ_APTR(p), v, memory_order_release);
}

/* ---- fences ---- */
/* Full StoreLoad barrier: the Dekker pairing between a waker and a sleeper. */
static inline void fz_fence_seq_cst(void) { atomic_thread_fence(memory_order_seq_cst); }

/* Polite busy-wait hint for spin loops. */
static inline void fz_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif /* FASTZMQ_ATOMIC_H */

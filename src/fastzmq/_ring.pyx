"""Chunked lock-free single-producer single-consumer byte ring, and an object ring on top.

Theory of operation
-------------------
The one queue of fastzmq (ARCHITECTURE.md, "ring"): ZMTP bytes between a socket's thread and
the I/O thread, 8-byte PyObject* records between two sockets (inproc). Exactly one producer
thread and one consumer thread; no lock, no CAS loop, no syscall on the data path.

Storage. A singly linked list of equal chunks (a power of two, default 64 KiB). Positions are
absolute 64-bit byte counters that never wrap in practice; a position p lives in the chunk
whose base b satisfies b <= p <= b + chunk_size (p == b + chunk_size is the *end* of that chunk,
not yet the start of the next). The producer owns the tail chunk (wchunk) and appends; the
consumer owns the head chunk (rchunk) and frees the chunks it has finished.

Producer: write_space() hands out the free room of wchunk; when wchunk is full it takes a new
chunk (the spare, or malloc), sets new.next = NULL, links wchunk.next = new (a plain store)
and moves on. commit() advances the private wpos. publish(nmsgs) does, in order:
  1. store published_msgs += nmsgs               (release)
  2. store published_pos = wpos                  (release)
  3. seq_cst fence; load reader.asleep; if 1: exchange it to 0 and signal it: write its
     wake-up fd, or, for an engine, queue it on its I/O thread's WakeGroup
     (waiter_wake_if_asleep, see _waiter.pyx).
Consumer: loads published_pos (acquire) into its cache rlimit; every byte below it, and every
`next` link of a chunk ending below it, was written before the release store (2), so the
acquire makes it visible (message passing, correct on x86-64 TSO and on ARM alike), and so
is the count stored in (1). It only
follows rchunk.next once rlimit > end of rchunk, i.e. once the producer has provably linked the
next chunk. consume(n, nmsgs) advances rpos, hands each finished chunk back, then stores
consumed_pos (release) and consumed_msgs (release), and, when nmsgs > 0 and pending_msgs() <=
low_water (published_msgs loaded relaxed: it can only be stale low, so the test errs towards
waking), runs waiter_wake_if_asleep(writer).

Chunk hand-back. A finished chunk is exchanged (acq_rel) into the first of the N_SPARE
`spare` slots; whatever the exchange returns (an older spare) is exchanged into the next slot,
and what falls out of the last one leaves the ring (to the shared pool, below, or free).
The producer takes a spare by exchanging each slot against NULL until one gives a chunk. Exchanges are atomic, so a chunk is never lost nor
handed out twice, whatever the interleaving. The consumer's release orders its last reads of the chunk before the
hand-over, the producer's acquire orders its new writes after it: the producer never scribbles
on bytes the consumer is still reading. At most N_SPARE spares exist, so memory is bounded by
the data in flight plus N_SPARE chunks, and a stream that swings between a few chunks of
backlog mallocs nothing (with one spare, 64 KiB messages made the allocator hand chunks
back to the kernel and re-fault them: a tenth of the receiver's time in page faults).

Shared chunk pool. Spares only absorb small swings. A tcp receiver whose consumer is
descheduled for a moment builds a backlog of many MB in its inbound ring and drains it again
(the I/O thread keeps reading); with spares alone every such swing mallocs and frees dozens of
64 KiB chunks, and the allocator trims and re-faults them (25k mallocs per 50k 64 KiB
messages, about a tenth of tcp throughput). So rings of the default chunk size share a second
level behind their spares: one process-wide stack of chunks under a mutex, at most
`pool_limit` chunks (default 2 MiB). The mutex is taken once per 64 KiB chunk, and only when
the spares are empty (take) or full (hand-back); its lock/unlock order a chunk's last reads
by one thread before its next writes by another, as the spare exchange does. Memory stays
bounded: in flight, plus N_SPARE per ring, plus the pool limit for the whole process.

Message counts. published_msgs is stored before published_pos: a thread that has seen a
message's bytes (acquire on the position) sees a count that includes it, so the consumer's
consumed count never exceeds the published count it can load afterwards. (The other order
would let the consumer consume a message, then read a count that does not include it yet:
pending would underflow.) A count may therefore run ahead of the visible bytes for an instant:
readable() > 0, not pending_msgs() > 0, says that bytes can be read. pending_msgs() loads
consumed_msgs (acquire) before published_msgs (acquire), so from any thread the second load is
at least what the consumer had seen; it still clamps at 0 as a guard.

Why no wake-up is lost. A sleeper (say the consumer, waiting for data) does
  arm: store asleep = 1 (seq_cst), fence (seq_cst); re-check readable(); sleep only if empty.
The producer does: store published_pos (release), fence (seq_cst), load asleep.
Both sides store, fence, then load the other's location (Dekker). The fences are totally
ordered: if the consumer's comes first, the producer's load sees asleep = 1 and it signals; if
the producer's comes first, the consumer's re-check sees the new position and it does not
sleep. The StoreLoad barrier is what forbids the one bad outcome, each load reading the old
value while its own store sits in a store buffer. The writer side is symmetric: the producer
arms, re-checks pending_msgs() < its HWM; the consumer stores consumed_msgs, fences, loads
asleep. The consumer only looks when pending <= low_water (hysteresis, as libzmq's LWM): a
producer blocked at the HWM is woken when the queue has drained to low_water, which a consumer
that keeps reading always reaches: skipping the check means pending > low_water, so messages
remain that the consumer will consume, re-testing each time. The load of published_msgs for
that test may be stale, but only low (never below what the consumer consumed, see above),
which at worst wakes a writer that was not waiting for it (spurious, harmless). Each side also
keeps its last loaded copy of the other's count (rpubm, wcons) and reloads only when the copy
says "time to act": copies only lag, so they under-count what the other side has done, and a
"pending > low_water" (consumer) or "pending < hwm" (producer, below_hwm) that holds with the
copy holds with the fresh value too. When the copy says otherwise, the fresh load decides, as
before; so the Dekker re-check after arming still sees the fresh count whenever it matters.
This keeps each side off the other's cache line while the queue is neither full nor drained.
"""

from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free
from libc.string cimport memcpy, memset
from posix.stdlib cimport posix_memalign
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec
from posix.uio cimport iovec

from fastzmq._waiter cimport (
    Waiter,
    fz_exchange_acq_rel_ptr,
    fz_fence_seq_cst,
    fz_load_acquire_ptr,
    fz_load_relaxed_int,
    fz_load_acquire_u64,
    fz_load_relaxed_u64,
    fz_store_release_u64,
    waiter_t,
    waiter_wake_if_asleep,
)

DEFAULT_CHUNK_SIZE = 65536
BIG_FRAME_BYTES = BIG_FRAME_MIN  # frames this big are received by reference (RefRing)

cdef enum:
    _CHUNK_HDR = 64          # chunk header size: keeps the data cache-line aligned
    N_SPARE = 4              # recycled chunks kept per ring (see "Chunk hand-back")
    _MIN_CHUNK = 64
    _POOL_CHUNK = 65536      # only rings of this chunk size share the pool
    _POOL_DEFAULT = 32       # chunks (2 MiB)

cdef uint64_t _NO_LOW_WATER = 0xFFFFFFFFFFFFFFFF

cdef extern from "<malloc.h>" nogil:
    int malloc_trim(size_t pad)

cdef size_t _TRIM_AFTER = 2 * 1024 * 1024   # bytes freed at once by a dying ring


cdef inline void _trim_if_big(size_t freed) noexcept nogil:
    # A connection that dies holding a large backlog (e.g. a peer that announced a huge
    # frame and sent part of it) frees thousands of chunks at once; malloc keeps them in
    # its heap unless asked, and RSS would never come back. Only the death paths call this.
    if freed >= _TRIM_AFTER:
        malloc_trim(0)


# ---- shared chunk pool (see "Shared chunk pool") ----

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_mutex_t:
        pass
    int pthread_mutex_init(pthread_mutex_t* m, const void* attr)
    int pthread_mutex_lock(pthread_mutex_t* m)
    int pthread_mutex_unlock(pthread_mutex_t* m)


cdef struct chunk_pool_t:
    pthread_mutex_t lock
    chunk_t* head           # a stack linked through chunk.next
    size_t count
    size_t limit
    uint64_t hits           # takes served from the pool
    uint64_t misses         # takes that had to malloc
    uint64_t overflows      # hand-backs freed because the pool was full


cdef chunk_pool_t _pool
_pool.head = NULL
_pool.count = 0
_pool.limit = _POOL_DEFAULT
_pool.hits = _pool.misses = _pool.overflows = 0
if pthread_mutex_init(&_pool.lock, NULL) != 0:
    raise OSError("pthread_mutex_init failed")


cdef chunk_t* _pool_take() noexcept nogil:
    cdef chunk_t* c
    pthread_mutex_lock(&_pool.lock)
    c = _pool.head
    if c != NULL:
        _pool.head = c.next
        _pool.count -= 1
        _pool.hits += 1
    else:
        _pool.misses += 1
    pthread_mutex_unlock(&_pool.lock)
    return c


cdef bint _pool_give(chunk_t* c) noexcept nogil:
    cdef bint kept = False
    pthread_mutex_lock(&_pool.lock)
    if _pool.count < _pool.limit:
        c.next = _pool.head
        _pool.head = c
        _pool.count += 1
        kept = True
    else:
        _pool.overflows += 1
    pthread_mutex_unlock(&_pool.lock)
    return kept


def reinit_after_fork():
    """In a fork() child: the pool's mutex may have been held by a thread that does not
    exist here; start over with a fresh one (the chunks it holds stay valid memory)."""
    pthread_mutex_init(&_pool.lock, NULL)


def set_pool_limit(size_t max_bytes):
    """Keep at most max_bytes of spare 64 KiB ring chunks for the whole process (0: none);
    chunks above the new limit are freed at once."""
    cdef chunk_t* drop = NULL
    cdef chunk_t* c
    with nogil:
        pthread_mutex_lock(&_pool.lock)
        _pool.limit = max_bytes // _POOL_CHUNK
        while _pool.count > _pool.limit:
            c = _pool.head
            _pool.head = c.next
            _pool.count -= 1
            c.next = drop
            drop = c
        pthread_mutex_unlock(&_pool.lock)
        while drop != NULL:
            c = drop.next
            free(drop)
            drop = c


def pool_stats():
    """The shared chunk pool: chunks held, limit (chunks), takes served, takes that malloc'ed,
    hand-backs freed because it was full."""
    cdef size_t count, limit
    cdef uint64_t hits, misses, overflows
    with nogil:
        pthread_mutex_lock(&_pool.lock)
        count, limit = _pool.count, _pool.limit
        hits, misses, overflows = _pool.hits, _pool.misses, _pool.overflows
        pthread_mutex_unlock(&_pool.lock)
    return {"chunks": count, "limit": limit, "chunk_bytes": _POOL_CHUNK,
            "hits": hits, "misses": misses, "overflows": overflows}


cdef inline unsigned char* _data(chunk_t* c) noexcept nogil:
    return (<unsigned char*>c) + _CHUNK_HDR


cdef size_t _round_chunk(size_t n) noexcept:
    cdef size_t s = _MIN_CHUNK
    while s < n:
        s <<= 1
    return s


cdef class Ring:
    """SPSC chunked byte ring. C-level API in _ring.pxd; Python test API on PyRing."""

    def __cinit__(self, size_t chunk_size=DEFAULT_CHUNK_SIZE):
        self.chunk_size = _round_chunk(chunk_size)
        self.low_water = _NO_LOW_WATER
        cdef chunk_t* c = self._take_chunk()
        if c == NULL:
            raise MemoryError()
        self.wchunk = self.rchunk = self.pchunk = c

    def __dealloc__(self):
        self._free_all()

    # ---- chunk management ----
    cdef chunk_t* _take_chunk(self) noexcept nogil:
        cdef void* mem = NULL
        cdef int i
        for i in range(N_SPARE):
            mem = fz_exchange_acq_rel_ptr(&self.spare[i], NULL)
            if mem != NULL:
                break
        if mem == NULL:     # from outside this ring: the shared pool, else malloc
            if self.chunk_size == _POOL_CHUNK:
                mem = _pool_take()
            if mem == NULL and posix_memalign(&mem, 64, _CHUNK_HDR + self.chunk_size) != 0:
                return NULL
            self.n_alloc += 1
        (<chunk_t*>mem).next = NULL
        return <chunk_t*>mem

    cdef void _recycle(self, chunk_t* c) noexcept nogil:
        cdef void* mem = c
        cdef int i
        for i in range(N_SPARE):
            mem = fz_exchange_acq_rel_ptr(&self.spare[i], mem)
            if mem == NULL:
                return
        self._release(<chunk_t*>mem)

    cdef void _release(self, chunk_t* c) noexcept nogil:
        # Out of this ring: to the shared pool if it takes it, else free.
        if self.chunk_size != _POOL_CHUNK or not _pool_give(c):
            free(c)
        self.n_free += 1

    cdef void _free_all(self) noexcept nogil:
        # Single-threaded teardown: both sides are gone.
        cdef chunk_t* c = self.rchunk
        cdef chunk_t* nxt
        cdef int i
        cdef size_t freed = 0
        while c != NULL:
            nxt = c.next
            self._release(c)
            freed += self.chunk_size
            c = nxt
        self.rchunk = self.wchunk = NULL
        for i in range(N_SPARE):
            c = <chunk_t*>fz_exchange_acq_rel_ptr(&self.spare[i], NULL)
            if c != NULL:
                self._release(c)
        self.closed = True
        _trim_if_big(freed)

    # ---- producer ----
    cdef unsigned char* write_space(self, size_t* avail) noexcept nogil:
        cdef size_t off = <size_t>(self.wpos - self.wbase)
        cdef chunk_t* c
        if off == self.chunk_size:
            c = self._take_chunk()
            if c == NULL:
                avail[0] = 0
                return NULL
            self.wchunk.next = c      # published by the release store of published_pos
            self.wchunk = c
            self.wbase += self.chunk_size
            off = 0
        avail[0] = self.chunk_size - off
        return _data(self.wchunk) + off

    cdef void commit(self, size_t n) noexcept nogil:
        self.wpos += n

    cdef int write(self, const void* data, size_t n) noexcept nogil:
        cdef const unsigned char* src = <const unsigned char*>data
        cdef size_t avail, k
        cdef unsigned char* dst
        while n:
            dst = self.write_space(&avail)
            if dst == NULL:
                return -1
            k = n if n < avail else avail
            memcpy(dst, src, k)
            self.wpos += k
            src += k
            n -= k
        return 0

    cdef void publish(self, size_t nmsgs) noexcept nogil:
        if self.wpos == self.wpub and nmsgs == 0:
            return
        if nmsgs:   # the count first: whoever sees the bytes (acquire) sees the count too
            self.wmsgs += nmsgs
            fz_store_release_u64(&self.published_msgs, self.wmsgs)
        self.wpub = self.wpos
        self.pchunk = self.wchunk
        self.pbase = self.wbase
        fz_store_release_u64(&self.published_pos, self.wpos)
        if self.reader != NULL:
            if self.direct_fn != NULL and self._taken_direct():
                return
            waiter_wake_if_asleep(self.reader)

    cdef bint _taken_direct(self) noexcept nogil:
        """The reader is asleep and its direct take left nothing to wake it for."""
        fz_fence_seq_cst()
        if fz_load_relaxed_int(&self.reader.asleep) != 1:
            return False
        return self.direct_fn(self.direct_ctx)

    cdef int put_word(self, void* w) noexcept nogil:
        cdef size_t avail
        cdef unsigned char* dst = self.write_space(&avail)
        if dst == NULL:
            return -1
        (<void**>dst)[0] = w
        self.wpos += sizeof(void*)
        self.publish(1)
        return 0

    cdef bint below_hwm(self, uint64_t hwm) noexcept nogil:
        if self.wmsgs - self.wcons < hwm:
            return True
        self.wcons = fz_load_acquire_u64(&self.consumed_msgs)
        return self.wmsgs - self.wcons < hwm

    cdef uint64_t committed_unpublished(self) noexcept nogil:
        return self.wpos - self.wpub

    cdef void publish_to(self, uint64_t pos, size_t nmsgs) noexcept nogil:
        # pchunk/pbase follow the published position so that rollback() can return to it;
        # the consumer never frees the chunk holding the published position (see _advance).
        if pos >= self.wbase:
            self.pchunk = self.wchunk
            self.pbase = self.wbase
        else:
            while pos > self.pbase + self.chunk_size:
                self.pchunk = self.pchunk.next
                self.pbase += self.chunk_size
        if nmsgs:   # before the position, as in publish()
            self.wmsgs += nmsgs
            fz_store_release_u64(&self.published_msgs, self.wmsgs)
        self.wpub = pos
        fz_store_release_u64(&self.published_pos, pos)
        if self.reader != NULL:
            if self.direct_fn != NULL and self._taken_direct():
                return
            waiter_wake_if_asleep(self.reader)

    cdef void rollback(self) noexcept nogil:
        # Chunks after pchunk hold only unpublished bytes: the consumer cannot reach them.
        cdef chunk_t* c = self.pchunk.next
        cdef chunk_t* nxt
        cdef size_t freed = 0
        if self.wpos == self.wpub:
            return
        while c != NULL:
            nxt = c.next
            free(c)
            freed += self.chunk_size
            self.n_alloc -= 1   # producer-owned counter: n_free stays consumer-only (no race)
            c = nxt
        self.pchunk.next = NULL
        self.wchunk = self.pchunk
        self.wbase = self.pbase
        self.wpos = self.wpub
        _trim_if_big(freed)

    # ---- consumer ----
    cdef size_t readable(self) noexcept nogil:
        self.rlimit = fz_load_acquire_u64(&self.published_pos)
        return <size_t>(self.rlimit - self.rpos)

    cdef void _advance(self) noexcept nogil:
        # Step into the next chunk only once a byte beyond this one is published (so the
        # producer has linked it); hand each finished chunk back.
        cdef chunk_t* old
        while (self.rpos - self.rbase >= self.chunk_size
               and self.rlimit > self.rbase + self.chunk_size):
            old = self.rchunk
            self.rchunk = old.next
            self.rbase += self.chunk_size
            self._recycle(old)

    cdef const unsigned char* read_space(self, size_t* avail) noexcept nogil:
        cdef size_t off, room, have
        if self.rpos == self.rlimit:
            self.rlimit = fz_load_acquire_u64(&self.published_pos)
            if self.rpos == self.rlimit:
                avail[0] = 0
                return NULL
        if self.rpos - self.rbase >= self.chunk_size:   # (the test is _advance's, inline)
            self._advance()
        off = <size_t>(self.rpos - self.rbase)
        room = self.chunk_size - off
        have = <size_t>(self.rlimit - self.rpos)
        avail[0] = room if room < have else have
        return _data(self.rchunk) + off

    cdef int read_iov(self, void* iov, int max_iov, size_t max_bytes) noexcept nogil:
        cdef iovec* v = <iovec*>iov
        cdef uint64_t pos = self.rpos, base = self.rbase, end
        cdef chunk_t* c = self.rchunk
        cdef size_t off, k
        cdef int i = 0
        self.rlimit = fz_load_acquire_u64(&self.published_pos)
        end = self.rlimit
        if end - pos > max_bytes:
            end = pos + max_bytes
        while pos < end and i < max_iov:
            off = <size_t>(pos - base)
            if off == self.chunk_size:
                c = c.next
                base += self.chunk_size
                off = 0
            k = self.chunk_size - off
            if k > end - pos:
                k = <size_t>(end - pos)
            v[i].iov_base = _data(c) + off
            v[i].iov_len = k
            pos += k
            i += 1
        return i

    cdef void consume(self, size_t n, size_t nmsgs) noexcept nogil:
        cdef uint64_t pub
        cdef waiter_t* w
        self.rpos += n
        if self.rpos - self.rbase >= self.chunk_size:
            self._advance()
        fz_store_release_u64(&self.consumed_pos, self.rpos)
        if nmsgs == 0:
            return
        self.rmsgs += nmsgs
        fz_store_release_u64(&self.consumed_msgs, self.rmsgs)
        # read the pointer once: an engine switches its waiter in and out (RCVHWM
        # throttle) from the I/O thread while we run; the waiter itself outlives that
        w = <waiter_t*>fz_load_acquire_ptr(<void**>&self.writer)
        if w != NULL:
            # the cached count lags, so "pending > low_water" by it is certain and needs no
            # load of the producer's cache line; otherwise decide by a fresh count
            pub = self.rpubm
            if pub <= self.rmsgs or pub - self.rmsgs <= self.low_water:
                pub = fz_load_relaxed_u64(&self.published_msgs)
                self.rpubm = pub
                if pub <= self.rmsgs or pub - self.rmsgs <= self.low_water:
                    waiter_wake_if_asleep(w)

    cdef int read(self, void* out, size_t n) noexcept nogil:
        cdef unsigned char* dst = <unsigned char*>out
        cdef uint64_t pos = self.rpos, base = self.rbase
        cdef chunk_t* c = self.rchunk
        cdef size_t off, k, left = n
        if self.readable() < n:
            return -1
        while left:
            off = <size_t>(pos - base)
            if off == self.chunk_size:
                c = c.next
                base += self.chunk_size
                off = 0
            k = self.chunk_size - off
            if k > left:
                k = left
            memcpy(dst, _data(c) + off, k)
            dst += k
            pos += k
            left -= k
        self.consume(n, 0)
        return 0

    cdef void* take_word(self) noexcept nogil:
        cdef size_t avail
        cdef const unsigned char* src = self.read_space(&avail)
        cdef void* w
        if src == NULL:
            return NULL
        w = (<void**>src)[0]
        self.consume(sizeof(void*), 1)
        return w

    # ---- both ----
    cdef uint64_t pending_msgs(self) noexcept nogil:
        cdef uint64_t done = fz_load_acquire_u64(&self.consumed_msgs)
        cdef uint64_t pub = fz_load_acquire_u64(&self.published_msgs)
        return pub - done if pub > done else 0

    cdef uint64_t published_bytes(self) noexcept nogil:
        return fz_load_acquire_u64(&self.published_pos)

    cdef uint64_t consumed_bytes(self) noexcept nogil:
        return fz_load_acquire_u64(&self.consumed_pos)

    # ---- Python-visible configuration (names that do not shadow the C API) ----
    def set_reader(self, Waiter w):
        """Waiter woken by publish(); None detaches. Call before the threads start."""
        self._reader_ref = w
        self.reader = NULL if w is None else &w.w

    def set_writer(self, Waiter w):
        """Waiter woken by consume(); None detaches. Call before the threads start."""
        self._writer_ref = w
        self.writer = NULL if w is None else &w.w

    def set_low_water(self, uint64_t v):
        """An asleep writer is woken by consume(n, nmsgs > 0) once pending_msgs() <= v."""
        self.low_water = v

    @property
    def low_water_mark(self):
        return self.low_water

    @property
    def chunk_bytes(self):
        return self.chunk_size

    @property
    def chunks_allocated(self):
        return self.n_alloc

    @property
    def chunks_freed(self):
        return self.n_free



# ---------------------------------------------------------------------------------------------
# Python test API (the C names above cannot be reused by def methods of Ring: a def method
# of the same name would shadow the cdef one even for C callers).
# ---------------------------------------------------------------------------------------------

cdef extern from "Python.h":
    void _decref "Py_DECREF"(PyObject* o) nogil


cdef class PyRing:
    """Python-level driver of a Ring, for tests and experiments (one thread at a time)."""

    cdef readonly Ring ring

    def __cinit__(self, size_t chunk_size=DEFAULT_CHUNK_SIZE):
        self.ring = Ring(chunk_size)

    cdef Ring _open(self):
        if self.ring.closed:
            raise ValueError("ring is closed")
        return self.ring

    def write(self, const unsigned char[::1] data not None):
        """Copy data in (spanning chunks) and commit it; publish() makes it visible."""
        cdef Ring r = self._open()
        if data.shape[0] and r.write(&data[0], data.shape[0]) < 0:
            raise MemoryError()

    def write_reserve(self, const unsigned char[::1] data not None):
        """Write through write_space()+commit(): at most one contiguous run. Returns bytes taken."""
        cdef Ring r = self._open()
        cdef size_t avail, k = data.shape[0]
        cdef unsigned char* dst = r.write_space(&avail)
        if dst == NULL:
            raise MemoryError()
        if k > avail:
            k = avail
        if k:
            memcpy(dst, &data[0], k)
        r.commit(k)
        return k

    def publish(self, size_t nmsgs=0):
        self._open().publish(nmsgs)

    def publish_to(self, uint64_t pos, size_t nmsgs=0):
        """Publish up to absolute position pos (published_bytes <= pos <= committed)."""
        cdef Ring r = self._open()
        if pos < r.wpub or pos > r.wpos:
            raise ValueError(f"pos {pos} outside published {r.wpub} .. committed {r.wpos}")
        r.publish_to(pos, nmsgs)

    def rollback(self):
        """Drop every committed byte that is not published."""
        self._open().rollback()

    def read(self, size_t n):
        """Copy exactly n published bytes out and consume them (ValueError if fewer readable)."""
        cdef Ring r = self._open()
        cdef bytearray out = bytearray(n)
        cdef unsigned char* dst = out
        if r.read(dst, n) < 0:
            raise ValueError(f"only {r.readable()} bytes readable, {n} requested")
        return bytes(out)

    def peek(self):
        """The contiguous published run at the read cursor (b'' if none), not consumed."""
        cdef size_t avail
        cdef const unsigned char* p = self._open().read_space(&avail)
        return b"" if p == NULL else p[:avail]

    def read_iov(self, int max_iov=64, size_t max_bytes=<size_t>-1):
        """The published runs read_iov() reports, as a list of bytes (nothing consumed)."""
        cdef Ring r = self._open()
        cdef iovec v[64]
        cdef int i, n
        if max_iov > 64 or max_iov < 0:
            raise ValueError("max_iov must be in 0..64")
        n = r.read_iov(v, max_iov, max_bytes)
        return [(<unsigned char*>v[i].iov_base)[:v[i].iov_len] for i in range(n)]

    def consume(self, size_t n, size_t nmsgs=0):
        cdef Ring r = self._open()
        if n > r.readable():
            raise ValueError(f"cannot consume {n} bytes: {r.readable()} readable")
        if nmsgs > r.pending_msgs():
            raise ValueError(f"cannot consume {nmsgs} messages: {r.pending_msgs()} pending")
        r.consume(n, nmsgs)

    @property
    def readable(self):
        return self._open().readable()

    @property
    def pending_msgs(self):
        return self._open().pending_msgs()

    def below_hwm(self, uint64_t hwm):
        """The producer's test "fewer than hwm messages pending" (cached count, then fresh)."""
        return self._open().below_hwm(hwm)

    @property
    def committed_unpublished(self):
        return self._open().committed_unpublished()

    @property
    def published_bytes(self):
        return self.ring.published_bytes()

    @property
    def consumed_bytes(self):
        return self.ring.consumed_bytes()

    def close(self):
        """Free every chunk (both sides must be done with the ring)."""
        self.ring._free_all()


# ---------------------------------------------------------------------------------------------
# ObjectRing: PyObject* records for inproc
# ---------------------------------------------------------------------------------------------

cdef void _drop_all(ObjectRing self) noexcept:
    cdef PyObject* p
    if self.ring is None or self.ring.closed:
        return
    p = self.take()
    while p != NULL:
        _decref(p)
        p = self.take()


cdef class ObjectRing:
    """SPSC queue of Python objects: each put() moves one strong reference into the ring."""

    def __cinit__(self, size_t chunk_size=DEFAULT_CHUNK_SIZE):
        self.ring = Ring(chunk_size)

    def __dealloc__(self):
        _drop_all(self)

    cpdef int put(self, object o) except -1:
        cdef PyObject* p = <PyObject*>o
        if o is None:
            raise TypeError("None cannot be queued: get() uses it to mean 'empty'")
        if self.ring.closed:
            raise ValueError("ring is closed")
        Py_INCREF(o)
        if self.ring.put_word(p) < 0:
            Py_DECREF(o)
            raise MemoryError()
        return 0

    cdef PyObject* take(self) noexcept nogil:
        return <PyObject*>self.ring.take_word()

    cpdef object get(self):
        cdef PyObject* p
        if self.ring.closed:
            raise ValueError("ring is closed")
        p = self.take()
        if p == NULL:
            return None
        o = <object>p       # a new reference for the caller...
        _decref(p)          # ...and the queue's one dropped: net, the queue's reference moved
        return o

    @property
    def pending(self):
        return self.ring.pending_msgs()

    def close(self):
        """Release every queued reference and free the chunks."""
        _drop_all(self)
        self.ring._free_all()


# ---------------------------------------------------------------------------------------------
# RefRing: bodies received by reference (huge frames)
# ---------------------------------------------------------------------------------------------

cdef class RefRing:
    """Huge frames (theory in ARCHITECTURE.md, "Huge frames"): an engine that reads a data
    frame header announcing BIG_FRAME_MIN bytes or more allocates the final bytes object and
    receives the body straight into it; the inbound ring gets the header only, and this
    queue a record (position just after the header, the object). The socket's read of that
    header takes the object: the body is neither staged in ring chunks nor copied out."""

    def __cinit__(self):
        self.ring = Ring(4096)  # 256 records a chunk: a record never straddles two

    def __dealloc__(self):
        cdef ref_rec rec
        if self.ring is None or self.ring.closed:
            return
        # both sides are gone: drop what was handed over and never taken (a record pushed
        # and not published cannot be here: the engine publishes or unpushes at once)
        while self.ring.read(&rec, sizeof(ref_rec)) == 0:
            _decref(rec.obj)

    cdef int push(self, uint64_t pos, PyObject* obj) noexcept nogil:
        cdef size_t avail
        cdef ref_rec* r = <ref_rec*>self.ring.write_space(&avail)
        if r == NULL:
            return -1
        r.pos = pos
        r.obj = obj
        self.ring.commit(sizeof(ref_rec))
        self.npushed += 1
        return 0

    cdef void publish(self) noexcept nogil:
        # no waiter: the inbound ring's publish_to that follows wakes the socket
        self.ring.publish(self.npushed)
        self.npushed = 0

    cdef void unpush(self) noexcept nogil:
        self.ring.rollback()
        self.npushed = 0

    cdef object take_at(self, uint64_t pos):
        cdef size_t avail
        cdef const ref_rec* r = <const ref_rec*>self.ring.read_space(&avail)
        cdef object o
        if r == NULL or r.pos != pos:
            return None
        o = <object>r.obj   # a new reference for the caller...
        _decref(r.obj)      # ...and the queue's one dropped
        self.ring.consume(sizeof(ref_rec), 1)
        return o

    @property
    def pending(self):
        """Bodies handed over and not yet taken by the socket."""
        return self.ring.pending_msgs()

    @property
    def taken(self):
        """Bodies the socket has taken (received by reference) so far."""
        return self.ring.consumed_bytes() // sizeof(ref_rec)


# ---------------------------------------------------------------------------------------------
# nogil drivers for the stress tests and the benchmark: each side runs in its own thread,
# entirely without the GIL, sleeping on its waiter exactly as a socket would.
# ---------------------------------------------------------------------------------------------

from fastzmq._waiter cimport (
    fz_cpu_relax,
    waiter_arm,
    waiter_disarm,
    waiter_drain,
    waiter_poll,
    waiter_spin,
    waiter_t,
)

cdef enum:
    _WAKE_TIMEOUT_MS = 1000    # a sleeper not woken within this (and 2 s more) = lost wake-up
    _HDR = 12                  # stress message header: u32 total size, u64 sequence number
    _S_SLEEPS = 0
    _S_LOST = 1
    _S_ERRORS = 2
    _S_DONE = 3
    _S_SPUN = 4     # waits that a waker ended while the waiter was spinning (no syscall)
    _S_NSTATS = 5


cdef inline long long _now_ms() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000 + ts.tv_nsec // 1000000


cdef inline uint64_t _xorshift(uint64_t* s) noexcept nogil:
    cdef uint64_t x = s[0]
    x ^= x << 13
    x ^= x >> 7
    x ^= x << 17
    s[0] = x
    return x


cdef inline bint _ready(Ring r, bint want_data, uint64_t arg) noexcept nogil:
    # consumer: at least arg bytes readable; producer: fewer than arg messages pending
    if want_data:
        return r.readable() >= arg
    return r.below_hwm(arg)


cdef int _await(Ring r, waiter_t* w, bint want_data, uint64_t arg, int spin,
                long long deadline, uint64_t* st, long long flag_spin_ns=0) noexcept nogil:
    """Spin, then arm / re-check / [waiter_spin] / poll / drain until ready. -1 past the
    deadline. spin polls the condition; flag_spin_ns spins on the armed flag (waiter_spin)."""
    cdef int i, rc
    for i in range(spin):
        if _ready(r, want_data, arg):
            return 0
        fz_cpu_relax()
    while True:
        waiter_arm(w)
        if _ready(r, want_data, arg):
            waiter_disarm(w)
            return 0
        if flag_spin_ns > 0 and waiter_spin(w, NULL, NULL, flag_spin_ns, 0, -1):
            st[_S_SPUN] += 1
            continue                 # woken without a syscall: re-check
        st[_S_SLEEPS] += 1
        rc = waiter_poll(w, _WAKE_TIMEOUT_MS)
        if rc == 0 and _ready(r, want_data, arg) and waiter_poll(w, 2000) == 0:
            st[_S_LOST] += 1       # the condition is true yet nobody signalled
        waiter_drain(w)
        if _now_ms() > deadline:
            waiter_disarm(w)
            return -1


cdef int _stress_produce_nogil(Ring r, uint64_t nmsgs, size_t max_size, uint64_t seed,
                               uint64_t hwm, int batch_max, int spin, long long deadline,
                               uint64_t* st, long long flag_spin_ns) noexcept nogil:
    cdef unsigned char hdr[_HDR]
    cdef uint64_t seq, rnd = seed | 1
    cdef uint32_t size
    cdef size_t i, avail, k, j
    cdef unsigned char* dst
    cdef int batch = 0, batch_len = 1
    for seq in range(nmsgs):
        size = <uint32_t>(_HDR + _xorshift(&rnd) % (max_size - _HDR + 1))
        memcpy(hdr, &size, 4)
        memcpy(hdr + 4, &seq, 8)
        if r.write(hdr, _HDR) < 0:
            return -1
        i = _HDR
        while i < size:                      # the payload goes through write_space/commit
            dst = r.write_space(&avail)
            if dst == NULL:
                return -1
            k = size - i if size - i < avail else avail
            for j in range(k):
                dst[j] = <unsigned char>(seq * 7 + i + j)
            r.commit(k)
            i += k
        batch += 1
        if batch >= batch_len or seq + 1 == nmsgs:
            r.publish(batch)
            batch = 0
            batch_len = 1 + <int>(_xorshift(&rnd) % <uint64_t>batch_max)
            if not r.below_hwm(hwm) and _await(r, r.writer, False, hwm, spin, deadline, st,
                                                   flag_spin_ns):
                return -1
        st[_S_DONE] = seq + 1
    return 0


cdef int _stress_consume_nogil(Ring r, uint64_t nmsgs, int spin, long long deadline,
                               uint64_t* st, long long flag_spin_ns) noexcept nogil:
    cdef unsigned char hdr[_HDR]
    cdef uint64_t seq, got
    cdef uint32_t size
    cdef size_t i, avail, j
    cdef const unsigned char* p
    for seq in range(nmsgs):
        if _await(r, r.reader, True, _HDR, spin, deadline, st, flag_spin_ns):
            return -1
        r.read(hdr, _HDR)
        memcpy(&size, hdr, 4)
        memcpy(&got, hdr + 4, 8)
        if got != seq or size < _HDR:
            st[_S_ERRORS] += 1
            return -1
        i = _HDR
        while i < size:                      # whole messages are published: no waiting here
            p = r.read_space(&avail)
            if p == NULL:
                st[_S_ERRORS] += 1
                return -1
            if avail > size - i:
                avail = size - i
            for j in range(avail):
                if p[j] != <unsigned char>(seq * 7 + i + j):
                    st[_S_ERRORS] += 1
            r.consume(avail, 0)
            i += avail
        r.consume(0, 1)
        st[_S_DONE] = seq + 1
    return 0


cdef dict _stats(uint64_t* st, int rc):
    return {"rc": rc, "sleeps": st[_S_SLEEPS], "lost_wakeups": st[_S_LOST],
            "errors": st[_S_ERRORS], "done": st[_S_DONE], "spun": st[_S_SPUN]}


def _stress_produce(Ring r not None, uint64_t nmsgs, size_t max_size=200, uint64_t seed=1,
                    uint64_t hwm=1000, int batch_max=4, int spin=0, double timeout=20.0,
                    long long flag_spin_ns=0):
    """Producer side of the stress test (needs r's writer waiter). Returns a stats dict."""
    cdef uint64_t st[_S_NSTATS]
    cdef long long deadline = _now_ms() + <long long>(timeout * 1000)
    cdef int rc
    if r.writer == NULL or max_size < _HDR or batch_max < 1 or hwm < 1:
        raise ValueError("needs a writer waiter, max_size >= 12, batch_max >= 1, hwm >= 1")
    st[:] = [0, 0, 0, 0, 0]
    with nogil:
        rc = _stress_produce_nogil(r, nmsgs, max_size, seed, hwm, batch_max, spin, deadline, st,
                                  flag_spin_ns)
    return _stats(st, rc)


def _stress_consume(Ring r not None, uint64_t nmsgs, int spin=0, double timeout=20.0,
                    long long flag_spin_ns=0):
    """Consumer side: checks order, sequence numbers and every payload byte."""
    cdef uint64_t st[_S_NSTATS]
    cdef long long deadline = _now_ms() + <long long>(timeout * 1000)
    cdef int rc
    if r.reader == NULL:
        raise ValueError("needs a reader waiter")
    st[:] = [0, 0, 0, 0, 0]
    with nogil:
        rc = _stress_consume_nogil(r, nmsgs, spin, deadline, st, flag_spin_ns)
    return _stats(st, rc)


cdef int _bench_produce_nogil(Ring r, uint64_t nmsgs, size_t size, uint64_t hwm, int spin,
                              long long deadline, uint64_t* st) noexcept nogil:
    cdef unsigned char buf[65536]
    cdef uint64_t i
    memset(buf, 0x5A, size)
    for i in range(nmsgs):
        if r.write(buf, size) < 0:
            return -1
        r.publish(1)
        if not r.below_hwm(hwm) and _await(r, r.writer, False, hwm, spin, deadline, st):
            return -1
    return 0


cdef int _bench_consume_nogil(Ring r, uint64_t nmsgs, size_t size, int spin,
                              long long deadline, uint64_t* st) noexcept nogil:
    cdef unsigned char buf[65536]
    cdef uint64_t i
    cdef size_t left, avail
    cdef const unsigned char* p
    for i in range(nmsgs):
        if _await(r, r.reader, True, size, spin, deadline, st):
            return -1
        left = size
        while left:
            p = r.read_space(&avail)
            if avail > left:
                avail = left
            memcpy(buf + size - left, p, avail)
            left -= avail
            r.consume(avail, 1 if left == 0 else 0)
    st[_S_DONE] = nmsgs
    return 0


def _bench_spsc(uint64_t nmsgs, size_t msg_size, uint64_t hwm=10000, int spin=2000,
                size_t chunk_size=DEFAULT_CHUNK_SIZE, double timeout=60.0):
    """Producer (this thread) and consumer (a new thread) move nmsgs messages of msg_size bytes
    through one Ring, both in nogil loops with waiters attached (write+publish(1) per message;
    read_space+memcpy+consume per message; HWM with low_water = hwm // 2).
    Returns (seconds, consumer_stats, producer_stats)."""
    import threading
    import time

    cdef uint64_t st[_S_NSTATS]
    cdef long long deadline = _now_ms() + <long long>(timeout * 1000)
    cdef int rc
    if msg_size == 0 or msg_size > 65536:
        raise ValueError("msg_size must be in 1..65536")
    ring = Ring(chunk_size)
    rw, ww = Waiter(), Waiter()
    ring.set_reader(rw)
    ring.set_writer(ww)
    ring.set_low_water(hwm // 2)
    out = {}
    ready = threading.Event()

    def consumer():
        cdef uint64_t cst[_S_NSTATS]
        cdef int crc
        cst[:] = [0, 0, 0, 0, 0]
        ready.set()
        with nogil:
            crc = _bench_consume_nogil(ring, nmsgs, msg_size, spin, deadline, cst)
        out["consumer"] = _stats(cst, crc)

    t = threading.Thread(target=consumer, daemon=True)
    t.start()
    ready.wait()
    st[:] = [0, 0, 0, 0, 0]
    t0 = time.perf_counter()
    with nogil:
        rc = _bench_produce_nogil(ring, nmsgs, msg_size, hwm, spin, deadline, st)
    t.join()
    elapsed = time.perf_counter() - t0
    rw.close()
    ww.close()
    return elapsed, out.get("consumer"), _stats(st, rc)


def _bench_single_thread(uint64_t nmsgs, size_t msg_size, int batch=1, bint waiters=True):
    """write+publish then read_space+consume in ONE thread, waiters attached (unless
    waiters=False: then no wake-up check, hence no fence) but never asleep: the uncontended
    cost of the data path. Returns ns per message (both halves together)."""
    import time

    cdef unsigned char buf[4096]
    cdef uint64_t i
    cdef int j
    cdef size_t avail
    if msg_size == 0 or msg_size > 4096 or batch < 1:
        raise ValueError("msg_size must be in 1..4096 and batch >= 1")
    cdef Ring r = Ring()
    rw, ww = Waiter(), Waiter()
    if waiters:
        r.set_reader(rw)
        r.set_writer(ww)
    memset(buf, 1, msg_size)
    t0 = time.perf_counter()
    with nogil:
        i = 0
        while i < nmsgs:
            for j in range(batch):
                r.write(buf, msg_size)
                r.publish(1)
            for j in range(batch):
                r.read_space(&avail)
                r.consume(msg_size, 1)
            i += batch
    elapsed = time.perf_counter() - t0
    return elapsed * 1e9 / nmsgs

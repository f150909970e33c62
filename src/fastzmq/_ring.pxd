# C-level API of the chunked single-producer single-consumer ring (theory in _ring.pyx).
#
# One producer thread calls the "producer" methods, one consumer thread the "consumer" ones;
# the "both" methods may be called from either. Nothing here takes a lock or makes a syscall,
# except a wake-up write when the other side's waiter is asleep.

cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport uint64_t

from fastzmq._waiter cimport waiter_t

# A consumer's offer to take published bytes at once, in the producer's thread (see
# Ring.publish): called when the reader is asleep; True if nothing is left to wake it for.
ctypedef bint (*direct_fn_t)(void* ctx) noexcept nogil
# Its input twin, for the socket's thread blocked in a read: 0, or -1 when it must stop.
ctypedef int (*direct_in_t)(void* ctx) noexcept nogil


cdef struct chunk_t:
    chunk_t* next       # written by the producer before any byte beyond this chunk is published


# final: every method call from Cython is a direct (inlinable) C call, no vtable.
@cython.final
cdef class Ring:
    # ---- configuration (written before use, then read-only) ----
    cdef waiter_t* reader       # may be NULL; woken (wake_if_asleep) when publish() makes data visible
    cdef waiter_t* writer       # may be NULL; woken when consume(n, nmsgs>0) leaves pending_msgs() <= low_water
    cdef size_t chunk_size      # bytes of data per chunk, a power of two >= 64
    cdef uint64_t low_water     # default: ULLONG_MAX (wake an asleep writer on every consume with nmsgs > 0)
    cdef object _reader_ref     # keeps the Waiter objects behind reader/writer alive
    cdef object _writer_ref
    cdef bint closed
    cdef direct_fn_t direct_fn  # NULL, or the consumer's direct take (set/cleared with the GIL)
    cdef void* direct_ctx
    cdef direct_in_t direct_in  # set with direct_fn (and left: direct_fn says if it is usable)
    cdef int direct_fd          # the connection's OS socket (while direct_fn is set)
    cdef char _pad0[64]
    # ---- producer-private ----
    cdef chunk_t* wchunk        # chunk holding the write cursor
    cdef uint64_t wbase         # absolute position of wchunk's first byte
    cdef uint64_t wpos          # committed position (private until published)
    cdef uint64_t wpub          # producer's copy of published_pos
    cdef uint64_t wmsgs         # producer's copy of published_msgs
    cdef uint64_t n_alloc       # chunks taken from the pool or malloc, minus those rollback() freed (debug counter)
    cdef chunk_t* pchunk        # chunk holding the published position (rollback target)
    cdef uint64_t pbase         # absolute position of pchunk's first byte
    cdef uint64_t wcons         # producer's last loaded consumed_msgs (lags: see below_hwm)
    cdef char _pad1[64]
    # ---- written by the producer (release), read by the consumer (acquire) ----
    cdef uint64_t published_pos
    cdef uint64_t published_msgs
    cdef char _pad2[64]
    # ---- consumer-private ----
    cdef chunk_t* rchunk        # chunk holding the read cursor
    cdef uint64_t rbase         # absolute position of rchunk's first byte
    cdef uint64_t rpos          # read cursor (== consumed_pos)
    cdef uint64_t rlimit        # consumer's last acquired value of published_pos
    cdef uint64_t rmsgs         # consumer's copy of consumed_msgs
    cdef uint64_t rpubm         # consumer's last loaded published_msgs (lags: see consume)
    cdef uint64_t n_free        # chunks handed to the pool or free'd (debug counter; close() adds the rest)
    cdef char _pad3[64]
    # ---- written by the consumer (release / exchange), read by the producer ----
    cdef uint64_t consumed_pos
    cdef uint64_t consumed_msgs
    cdef void* spare[4]         # recycled chunks (N_SPARE slots), each handed over with an atomic exchange
    cdef char _pad4[64]

    # --- producer side ---
    # Contiguous free bytes at the write cursor (*avail > 0); takes the next chunk (the spare, or
    # malloc) when the current one is full. NULL (and *avail = 0) on malloc failure.
    cdef unsigned char* write_space(self, size_t* avail) noexcept nogil
    # Advance the write cursor by n <= *avail of the last write_space(). Not yet visible.
    cdef void commit(self, size_t n) noexcept nogil
    # Copy n bytes in (spanning chunks) and commit them. 0 ok, -1 out of memory (then a prefix
    # of the bytes may be committed: the ring is meant to be dropped).
    cdef int write(self, const void* data, size_t n) noexcept nogil
    # Add nmsgs to the published message count, make every committed byte visible, then wake
    # the reader if it is asleep. A no-op when nothing new is committed and nmsgs == 0.
    cdef void publish(self, size_t nmsgs) noexcept nogil
    cdef uint64_t committed_unpublished(self) noexcept nogil
    # pending_msgs() < hwm, for the producer only. Decided against the producer's cached copy of
    # consumed_msgs when that already says yes (it can only lag, so the yes is certain), with a
    # fresh load otherwise: the consumer's cache line is not touched while the queue has room.
    cdef bint below_hwm(self, uint64_t hwm) noexcept nogil
    # One 8-byte record (a pointer) written, committed and published (nmsgs = 1) in one call:
    # the inproc hot path. Records sit at 8-aligned positions and 8 divides chunk_size, so a
    # record never straddles chunks. 0 ok, -1 out of memory (nothing written).
    cdef int put_word(self, void* w) noexcept nogil
    # Like publish, but only up to absolute position pos (<= the committed position): the
    # I/O thread publishes whole messages and keeps a partial one committed but invisible.
    cdef void publish_to(self, uint64_t pos, size_t nmsgs) noexcept nogil
    cdef bint _taken_direct(self) noexcept nogil
    # Forget every committed byte that is not published (a connection died mid-message).
    cdef void rollback(self) noexcept nogil

    # --- consumer side ---
    # consume(n) may release at most what readable()/read_space()/read_iov() last reported.
    cdef size_t readable(self) noexcept nogil
    # Contiguous published bytes at the read cursor (within one chunk); NULL and *avail = 0 if none.
    cdef const unsigned char* read_space(self, size_t* avail) noexcept nogil
    # Fill iov (a struct iovec[max_iov]) with the published runs from the read cursor, at most
    # max_bytes in all. Returns the number of entries (0 if nothing is readable). Consumes nothing.
    cdef int read_iov(self, void* iov, int max_iov, size_t max_bytes) noexcept nogil
    # Release n bytes (freeing finished chunks) and count nmsgs messages consumed; when
    # nmsgs > 0 and pending_msgs() <= low_water, wake the writer if it is asleep.
    cdef void consume(self, size_t n, size_t nmsgs) noexcept nogil
    # Copy exactly n published bytes out and consume them (nmsgs = 0). -1 if fewer are readable.
    cdef int read(self, void* out, size_t n) noexcept nogil
    # The oldest 8-byte record, consumed as one message (nmsgs = 1); NULL if none is published.
    # Only for rings that carry nothing but put_word() records.
    cdef void* take_word(self) noexcept nogil

    # --- both ---
    cdef uint64_t pending_msgs(self) noexcept nogil     # published_msgs - consumed_msgs (>= 0)
    cdef uint64_t published_bytes(self) noexcept nogil
    cdef uint64_t consumed_bytes(self) noexcept nogil

    # --- private helpers ---
    cdef chunk_t* _take_chunk(self) noexcept nogil
    cdef void _recycle(self, chunk_t* c) noexcept nogil
    cdef void _release(self, chunk_t* c) noexcept nogil
    cdef void _advance(self) noexcept nogil
    cdef void _free_all(self) noexcept nogil


# A queue of PyObject* for inproc: each message is one 8-byte record holding a strong reference.
# put() and get() are cpdef: C callers get a direct call (the class is final), tests call them
# from Python. None cannot be queued (get() returns None for "empty").
@cython.final
cdef class ObjectRing:
    cdef readonly Ring ring
    # INCREF o, write its pointer, publish(1). TypeError for None, MemoryError on malloc failure.
    cpdef int put(self, object o) except -1
    # The oldest queued object (the queue's reference is handed to the caller), or None if empty.
    cpdef object get(self)
    # Same without the GIL: a new reference the caller owns, or NULL if empty.
    cdef PyObject* take(self) noexcept nogil


# Frames whose body is at least this big are received by a tcp/ipc engine straight into their
# final bytes object, not into the inbound ring (theory in _ring.pyx, "Huge frames").
cdef enum:
    BIG_FRAME_MIN = 8 << 20


# One body handed over by reference: the object holding the body of the frame whose header
# ends at inbound-ring position pos (the ring holds the header, not the body).
cdef struct ref_rec:
    uint64_t pos
    PyObject* obj       # a strong reference, owned by the queue until taken


# SPSC queue of ref_rec (engine -> socket), beside a wire pipe's inbound ring. The producer
# pushes the records of a message and publishes them before it publishes the message's bytes
# (so a consumer that sees the bytes sees the records); the consumer takes the head record
# when it reads a header ending at that position. Freeing the queue drops what is left.
@cython.final
cdef class RefRing:
    cdef Ring ring
    cdef size_t npushed         # producer: records pushed since the last publish
    # producer (no GIL needed: ownership of obj moves, no count changes). 0 ok, -1 no memory.
    cdef int push(self, uint64_t pos, PyObject* obj) noexcept nogil
    cdef void publish(self) noexcept nogil
    # forget what was pushed since the last publish (the producer keeps those objects)
    cdef void unpush(self) noexcept nogil
    # consumer: the head record's object if its pos is pos (the queue's reference moves to the
    # caller), else None
    cdef object take_at(self, uint64_t pos)

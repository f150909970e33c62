# A pipe: the two rings between a socket and one peer (theory in _pipe.pyx).

cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport uint64_t

from fastzmq._ring cimport RefRing, Ring

cdef enum:
    PIPE_WIRE = 0       # tcp/ipc: rings carry ZMTP-encoded frames; the peer is an engine
    PIPE_INPROC = 1     # inproc: rings carry 8-byte PyObject* records; the peer is a socket


# A frame body sent by reference (wire pipes, bodies of ZC_MIN_BYTES or more): the body's bytes
# go on the wire straight from the bytes object, between out-ring bytes pos-1 and pos.
cdef struct zc_ref:
    uint64_t pos        # absolute out-ring position of the body: just after its frame header
    size_t size         # body length
    const char* data    # the bytes object's buffer
    PyObject* obj       # the bytes object, borrowed (the queue's held deque owns it)


# The by-reference side of a wire pipe's outbound stream (theory in _pipe.pyx, "Zero copy").
# refs: zc_ref records, socket thread -> I/O thread; held: the objects, kept alive by the socket
# thread until the engine has consumed their records (the I/O thread never holds the GIL).
@cython.final
cdef class ZcQueue:
    cdef Ring refs
    cdef object held            # deque of the bodies, in push order
    cdef uint64_t pushed        # socket thread: records pushed
    cdef uint64_t reaped        # socket thread: bodies released
    # socket thread
    cdef int push(self, uint64_t pos, bytes body) except -1
    cdef void reap(self) noexcept
    # I/O thread (nogil): the published records at the head, contiguous; *count records (0: none).
    # *all_seen is false when more records are published beyond those returned (next chunk).
    cdef const zc_ref* peek(self, size_t* count, bint* all_seen) noexcept nogil
    # The head record's body is wholly in the kernel: consume the record (reap may release it).
    cdef void finish(self) noexcept nogil


# The low-water mark of a ring whose producer blocks at hwm (0: unlimited): a consumer wakes
# a blocked producer only once the queue has drained to it (libzmq's LWM rule), so a producer
# that is always ahead is woken once per batch, not once per message.
cdef uint64_t low_water_for(uint64_t hwm) noexcept nogil


# final: the socket's calls (can_write, write_one, read_frame...) are direct C calls, no vtable.
@cython.final
cdef class Pipe:
    cdef readonly int kind
    cdef Ring out               # we produce, the peer consumes
    cdef Ring inq               # the peer produces, we consume
    cdef readonly uint64_t sndhwm  # 0: unlimited (whole messages); set_sndhwm() sets it
    cdef public bytes routing_id  # the peer's identity (ROUTER), or a generated one
    cdef public object peer_type  # the peer's socket type name (str), when known
    cdef public int zmtp_minor   # 1 for ZMTP 3.1 peers, 0 for 3.0 (subscription form)
    cdef public int pipe_id      # small int, unique per socket (subscription tries)
    cdef public bint detached    # the peer is gone: drain what is queued, then drop
    cdef public bint connected   # an engine is attached (wire), or the peer exists (inproc)
    cdef public object endpoint  # the endpoint string this pipe came from
    cdef public object owner     # the I/O-side object (engine/connecter) or peer socket
    cdef public object twin      # inproc, connecter's end only: the binder's end, which the
                                 # binder may not have adopted yet (its attach is in the mailbox)
    cdef public ZcQueue zc       # wire: bodies sent by reference (None for inproc)
    cdef public RefRing bigin    # wire: huge bodies received by reference (None for inproc)
    cdef public object properties  # wire: the connection's metadata for Frame.get (User-Id...)
    cdef list stash              # inproc: remaining frames of a multipart message being read

    cdef bint can_write(self) noexcept
    cdef int write_msg(self, list frames) except -1
    cdef int write_one(self, object frame) except -1
    cdef int write_command(self, bytes name, bytes data) except -1
    cdef bint has_msg(self) noexcept
    # One frame: *flags gets FRAME_MORE / FRAME_COMMAND; None when nothing is readable.
    cdef object read_frame(self, int* flags)
    cdef list read_msg(self, int* flags)
    cdef void drop_queued(self)
    cdef int _write_frame(self, bytes b, int flags) except -1
    cdef int _write_header_ref(self, bytes b, int flags) except -1
    cdef object _read_inproc(self, int* flags)
    cdef object _read_wire(self, int* flags)

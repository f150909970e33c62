# A pipe: the two rings between a socket and one peer (theory in _pipe.pyx).

cimport cython
from libc.stdint cimport uint64_t

from fastzmq._ring cimport Ring

cdef enum:
    PIPE_WIRE = 0       # tcp/ipc: rings carry ZMTP-encoded frames; the peer is an engine
    PIPE_INPROC = 1     # inproc: rings carry 8-byte PyObject* records; the peer is a socket


# final: the socket's calls (can_write, write_one, read_frame...) are direct C calls, no vtable.
@cython.final
cdef class Pipe:
    cdef readonly int kind
    cdef Ring out               # we produce, the peer consumes
    cdef Ring inq               # the peer produces, we consume
    cdef public uint64_t sndhwm  # 0: unlimited (whole messages)
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
    cdef object _read_inproc(self, int* flags)
    cdef object _read_wire(self, int* flags)

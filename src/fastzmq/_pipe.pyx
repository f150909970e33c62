# cython: language_level=3
"""Pipes: a socket's two rings to one peer.

Theory of operation
-------------------
A pipe is the socket-side view of a pair of single-producer single-consumer rings
(``_ring.pyx``): ``out`` (this socket produces) and ``inq`` (this socket consumes).

* Wire pipes (tcp, ipc) carry ZMTP 3.x frames exactly as they go on the wire
  (RFC 23 "Framing"). ``write_msg`` encodes each frame's header and copies its body
  into ``out`` and publishes the whole message at once, so the engine on the other
  side only ever sees whole messages. The engine publishes into ``inq`` only up to
  the end of the last complete message it scanned, so ``read_frame`` never meets a
  partial message: a multipart message is atomic by construction.
* Inproc pipes carry one 8-byte ``PyObject*`` record per message: a ``bytes`` for a
  single-frame message, a ``tuple`` of ``bytes`` for a multipart one. The receiver
  gets the very object that was sent (zero copy).

Zero copy (wire pipes). A frame body of ``ZC_MIN_BYTES`` or more that is a ``bytes``
object is not copied into ``out``: only its header is, and a ``zc_ref`` record (the
out-ring position just after that header, the body's address and length) goes into
``zc.refs``, a ring of its own. The engine splices the body into its ``sendmsg`` iovecs
at that position (``Engine._gather``), so the bytes go from the object to the kernel.
The record is published before the out-ring bytes that reach its position, so an
engine that has seen those bytes (acquire) sees the record too. The socket keeps the
object alive in ``zc.held`` (a deque, in push order) until the engine has consumed the
record, which it does once the whole body is in the kernel; ``reap`` then releases it
on the socket thread, the only one that may touch a reference count. Reaping happens
on the next send, and everything is released when the pipe is freed. Only ``bytes``
qualify: they are immutable, so the wire sees what ``send`` saw.

Huge frames, inbound (wire pipes). A data frame of ``BIG_FRAME_MIN`` or more arrives by
reference too: the engine receives its body into the bytes object itself and puts only
the header into ``inq``; the object comes in ``bigin`` (a ``RefRing``), published before
the message's bytes, keyed by the ring position just after its header. ``_read_wire``
takes it there instead of copying a body out of the ring.

HWM counts whole messages: ``out.pending_msgs()`` is published minus consumed
messages, and the consumer (engine or peer socket) counts the messages it consumes.
The socket thread is the only caller of every method here.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.string cimport memcpy

from collections import deque

from fastzmq._frame cimport FRAME_COMMAND, FRAME_LONG, FRAME_MORE, decode_header, encode_header
from fastzmq._ring cimport BIG_FRAME_MIN, RefRing, Ring
from fastzmq._waiter cimport fz_load_acquire_u64

# Bodies of at least this many bytes go to the wire by reference (see "Zero copy").
cdef enum:
    _ZC_MIN = 16384
ZC_MIN_BYTES = _ZC_MIN

cdef inline bytes _as_bytes(object frame):
    if type(frame) is bytes:
        return <bytes>frame
    if isinstance(frame, str):
        raise TypeError("str objects cannot be sent as frames: encode them, or use send_string")
    if hasattr(frame, "bytes") and not isinstance(frame, (bytearray, memoryview)):
        return frame.bytes  # a Frame
    return bytes(frame)


cdef inline int _put_ref(Ring r, object o) except -1:
    """One inproc record: a strong reference to o, handed to the reader with the record."""
    Py_INCREF(o)
    if r.put_word(<PyObject*>o) < 0:
        Py_DECREF(o)
        raise MemoryError()
    return 0


cdef class ZcQueue:
    """Bodies sent by reference: records to the engine, objects held until it is done."""

    def __cinit__(self):
        self.refs = Ring(4096)  # 128 records a chunk: a record never straddles two
        self.held = deque()

    cdef int push(self, uint64_t pos, bytes body) except -1:
        cdef size_t avail
        cdef zc_ref* r
        self.reap()
        r = <zc_ref*>self.refs.write_space(&avail)
        if r == NULL:
            raise MemoryError()
        self.held.append(body)
        r.pos = pos
        r.size = <size_t>PyBytes_GET_SIZE(body)
        r.data = PyBytes_AS_STRING(body)
        r.obj = <PyObject*>body     # borrowed: held owns the reference
        self.refs.commit(sizeof(zc_ref))
        self.refs.publish(1)        # no reader waiter: the out ring's publish wakes the engine
        self.pushed += 1
        return 0

    cdef void reap(self) noexcept:
        # consumed_msgs (acquire): the engine consumed a record only after the kernel took
        # the whole body, so every object it counts may go
        cdef uint64_t done = fz_load_acquire_u64(&self.refs.consumed_msgs)
        while self.reaped < done:
            self.held.popleft()
            self.reaped += 1

    cdef const zc_ref* peek(self, size_t* count, bint* all_seen) noexcept nogil:
        cdef size_t total = self.refs.readable(), avail
        cdef const unsigned char* p
        if total == 0:
            count[0] = 0
            all_seen[0] = True
            return NULL
        p = self.refs.read_space(&avail)
        count[0] = avail // sizeof(zc_ref)
        all_seen[0] = avail == total
        return <const zc_ref*>p

    cdef void finish(self) noexcept nogil:
        self.refs.consume(sizeof(zc_ref), 1)

    def __len__(self):
        """Bodies not yet released (queued, on their way, or sent and not yet reaped)."""
        return len(self.held)

    def reap_now(self):
        """Release the bodies the engine is done with; the number still held."""
        self.reap()
        return len(self.held)


cdef enum:
    _MAX_WM_DELTA = 1024    # the LWM sits at most this far below the HWM


cdef uint64_t low_water_for(uint64_t hwm) noexcept nogil:
    if hwm == 0:
        return 0xFFFFFFFFFFFFFFFF   # never blocks: any consume may wake (none will be asleep)
    if hwm > 2 * _MAX_WM_DELTA:
        return hwm - _MAX_WM_DELTA
    return (hwm + 1) // 2


cdef class Pipe:
    def __cinit__(self, int kind, Ring out, Ring inq):
        self.kind = kind
        self.out = out
        self.inq = inq
        self.sndhwm = 0
        self.routing_id = None
        self.peer_type = None
        self.zmtp_minor = 1
        self.pipe_id = -1
        self.detached = False
        self.connected = False
        self.stash = None
        self.zc = ZcQueue() if kind == PIPE_WIRE else None
        self.bigin = RefRing() if kind == PIPE_WIRE else None

    def set_sndhwm(self, uint64_t hwm):
        """Messages our side may queue (0: unlimited); the consumer of our outbound ring wakes
        us, when blocked there, once it has drained to low_water_for(hwm).
        Call before the consumer runs."""
        self.sndhwm = hwm
        self.out.low_water = low_water_for(hwm)

    def low_water_marks(self):
        """(outbound, inbound) rings' low-water marks, for tests and debugging."""
        return self.out.low_water, self.inq.low_water

    def track_point(self):
        """Where our outbound stream ends now: (out-ring position, by-reference bodies
        pushed). A MessageTracker compares it with track_reached() (not a hot path)."""
        return self.out.published_bytes(), (self.zc.pushed if self.zc is not None else 0)

    def track_reached(self, uint64_t pos, uint64_t pushed):
        """The peer side has taken our stream up to that point: the ring bytes, and every
        body sent by reference wholly in the kernel."""
        if self.out.consumed_bytes() < pos:
            return False
        return self.zc is None or fz_load_acquire_u64(&self.zc.refs.consumed_msgs) >= pushed

    def __repr__(self):
        kind = "wire" if self.kind == PIPE_WIRE else "inproc"
        return f"<Pipe {kind} id={self.pipe_id} endpoint={self.endpoint!r}>"

    # ---- sending ----
    cdef bint can_write(self) noexcept:
        if self.detached:
            return False
        return self.sndhwm == 0 or self.out.below_hwm(self.sndhwm)

    cdef int write_one(self, object frame) except -1:
        cdef bytes b
        cdef Py_ssize_t n
        cdef size_t avail, h
        cdef unsigned char* dst
        b = <bytes>frame if type(frame) is bytes else _as_bytes(frame)
        if self.kind == PIPE_INPROC:
            return _put_ref(self.out, b)
        n = PyBytes_GET_SIZE(b)
        if n >= _ZC_MIN:
            self._write_header_ref(b, 0)
            self.out.publish(1)
            return 0
        if self.zc.pushed != self.zc.reaped:
            self.zc.reap()
        dst = self.out.write_space(&avail)
        if dst == NULL:
            raise MemoryError()
        if avail >= <size_t>n + 9:
            h = encode_header(dst, n, 0)
            memcpy(dst + h, PyBytes_AS_STRING(b), n)
            self.out.commit(h + n)
        else:
            self._write_frame(b, 0)
        self.out.publish(1)
        return 0

    cdef int _write_frame(self, bytes b, int flags) except -1:
        cdef unsigned char hdr[9]
        cdef Py_ssize_t n = PyBytes_GET_SIZE(b)
        cdef size_t h
        if n >= _ZC_MIN:
            return self._write_header_ref(b, flags)
        h = encode_header(hdr, n, flags)
        if self.out.write(hdr, h) < 0 or self.out.write(PyBytes_AS_STRING(b), n) < 0:
            raise MemoryError()
        return 0

    cdef int _write_header_ref(self, bytes b, int flags) except -1:
        """The frame's header into out, its body by reference (see "Zero copy")."""
        cdef unsigned char hdr[9]
        cdef size_t h = encode_header(hdr, PyBytes_GET_SIZE(b), flags)
        if self.out.write(hdr, h) < 0:
            raise MemoryError()
        return self.zc.push(self.out.wpos, b)

    cdef int write_msg(self, list frames) except -1:
        cdef Py_ssize_t i, last = len(frames) - 1
        if last == 0:
            return self.write_one(frames[0])
        if self.kind == PIPE_INPROC:
            return _put_ref(self.out, tuple([_as_bytes(f) for f in frames]))
        for i in range(last + 1):
            self._write_frame(_as_bytes(frames[i]), FRAME_MORE if i < last else 0)
        self.out.publish(1)
        return 0

    cdef int write_command(self, bytes name, bytes data) except -1:
        """A ZMTP command frame (wire) or a ('cmd', name, data) record (inproc)."""
        cdef bytes body
        if self.kind == PIPE_INPROC:
            return _put_ref(self.out, _InprocCommand(name, data))
        body = bytes([len(name)]) + name + data
        self._write_frame(body, FRAME_COMMAND)
        self.out.publish(1)
        return 0

    def out_pending(self):
        """Nonzero while anything is queued for the peer (LINGER decisions): the out-ring
        bytes not yet taken, plus one per body sent by reference not yet wholly in the
        kernel. Side-effect free, so any thread may ask."""
        cdef uint64_t n = self.out.published_bytes() - self.out.consumed_bytes()
        if self.zc is not None:
            n += (self.zc.refs.published_bytes() - self.zc.refs.consumed_bytes()) // sizeof(zc_ref)
        return n

    # ---- receiving ----
    cdef bint has_msg(self) noexcept:
        if self.stash:
            return True
        return self.inq.readable() > 0

    cdef object read_frame(self, int* flags):
        if self.kind == PIPE_INPROC:
            return self._read_inproc(flags)
        return self._read_wire(flags)

    cdef object _read_inproc(self, int* flags):
        cdef PyObject* p
        cdef object o
        if self.stash:
            o = self.stash.pop(0)
            flags[0] = FRAME_MORE if self.stash else 0
            return o
        p = <PyObject*>self.inq.take_word()
        if p == NULL:
            return None
        o = <object>p
        Py_DECREF(o)  # the ring's reference is now ours (held by o)
        if type(o) is bytes:
            flags[0] = 0
            return o
        if type(o) is _InprocCommand:
            flags[0] = FRAME_COMMAND
            return o
        self.stash = list(<tuple>o)
        o = self.stash.pop(0)
        flags[0] = FRAME_MORE if self.stash else 0
        return o

    cdef object _read_wire(self, int* flags):
        cdef size_t avail
        cdef const unsigned char* src = self.inq.read_space(&avail)
        cdef int h, fl
        cdef unsigned long long size
        cdef bytes b
        cdef object o
        cdef unsigned char hdr[9]
        if src == NULL:
            return None
        if avail >= 2 and not (src[0] & FRAME_LONG):
            # a short header, read in place (the I/O thread's scanner validated the flags)
            h = 2
            fl = src[0]
            size = src[1]
        else:
            h = decode_header(src, avail, &fl, &size)
        if h > 0 and avail >= h + size:
            # fast path: the whole frame is contiguous
            b = PyBytes_FromStringAndSize(<const char*>src + h, <Py_ssize_t>size)
            self.inq.consume(h + size, 0 if fl & FRAME_MORE else 1)
            flags[0] = fl
            return b
        # slow path: the frame spans chunks; the message is complete, so read it piecewise
        self.inq.read(hdr, 1)
        h = 9 if hdr[0] & 2 else 2
        self.inq.read(hdr + 1, h - 1)
        decode_header(hdr, h, &fl, &size)
        if size >= BIG_FRAME_MIN:
            # a huge body the engine received straight into its bytes (_ring.pyx, RefRing)
            o = self.bigin.take_at(self.inq.rpos)
            if o is not None:
                self.inq.consume(0, 0 if fl & FRAME_MORE else 1)
                flags[0] = fl
                return o
        b = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>size)
        if size:
            self.inq.read(PyBytes_AS_STRING(b), size)
        self.inq.consume(0, 0 if fl & FRAME_MORE else 1)
        flags[0] = fl
        return b

    cdef list read_msg(self, int* flags):
        """Every frame of the next message (or one command), or None if nothing is queued."""
        cdef int fl = 0
        cdef object f = self.read_frame(&fl)
        cdef list parts
        if f is None:
            return None
        flags[0] = fl
        parts = [f]
        while fl & FRAME_MORE:
            parts.append(self.read_frame(&fl))
        return parts

    cdef void drop_queued(self):
        """Release whatever is queued in our inbound ring (inproc references included)."""
        cdef int fl = 0
        while self.has_msg():
            self.read_frame(&fl)


class _InprocCommand:
    """A ZMTP command carried over an inproc pipe (SUBSCRIBE, CANCEL)."""

    __slots__ = ("name", "data")

    def __init__(self, name, data):
        self.name = name
        self.data = data


def make_inproc_pair(size_t chunk_size=4096):
    """Two connected inproc pipes (a's out is b's in): returns (a, b)."""
    cdef Ring r1 = Ring(chunk_size)
    cdef Ring r2 = Ring(chunk_size)
    return Pipe(PIPE_INPROC, r1, r2), Pipe(PIPE_INPROC, r2, r1)


def make_wire_pipe(size_t chunk_size=65536):
    """A wire pipe and its two rings: returns (pipe, out_ring, in_ring)."""
    cdef Ring out = Ring(chunk_size)
    cdef Ring inq = Ring(chunk_size)
    return Pipe(PIPE_WIRE, out, inq), out, inq


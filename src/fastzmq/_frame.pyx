# cython: language_level=3
"""ZMTP 3.x frame codec, sans-I/O (RFC 23 / RFC 37, section "Framing").

Theory of operation
-------------------
A ZMTP frame is ``flags (1 byte) | size (1 or 8 bytes, big-endian) | body``. Flags:
bit 0 MORE, bit 1 LONG (8-byte size), bit 2 COMMAND; bits 3-7 are reserved and must be
zero, and MORE is illegal on a command. A *message* is a run of frames ending with one
whose MORE bit is clear; a command is a single frame and counts as a message of its own.
A command may not appear between the frames of a multipart message (RFC 37 grammar:
``traffic = *(command | message)``).

Two readers share the same header rules (``decode_header`` + ``_check_frame``):

* the **scanner** (``scan_frames``, C-level, nogil) only *counts*: it walks headers and
  skips bodies, carrying a tiny state (``scan_state``) across calls so that any split of
  the stream gives the same results. It never allocates, whatever size a frame announces,
  and rejects a message as soon as the header that makes it exceed ``maxmsgsize`` arrives.
  The I/O thread uses it to publish only whole messages. Runs of short data frames go
  through a tight loop (``_scan_short``) that accepts only what is plainly valid and leaves
  everything else, errors included, to the general path; the Decoder is the reference the
  property tests hold it to.
* the **Decoder** (Python-facing) buffers bytes in a ``bytearray`` and yields ``Frame``
  objects. Bodies are copied once into ``bytes``; consumed bytes are dropped from the front
  of the bytearray (O(1) in CPython), so large bodies fed in small chunks cost linear time.

Errors are sticky: after a protocol error the stream is unusable and every later call
reports the same error.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

import time

# ----------------------------------------------------------------------------------------
# C level: headers


cdef size_t encode_header(unsigned char* out, unsigned long long size, int flags) noexcept nogil:
    cdef int i
    flags &= FRAME_MORE | FRAME_COMMAND
    if size > 255:
        out[0] = <unsigned char>(flags | FRAME_LONG)
        for i in range(8):
            out[1 + i] = <unsigned char>((size >> (56 - 8 * i)) & 0xFF)
        return 9
    out[0] = <unsigned char>flags
    out[1] = <unsigned char>size
    return 2


cdef inline unsigned long long _load_be64(const unsigned char* p) noexcept nogil:
    return ((<unsigned long long>p[0] << 56) | (<unsigned long long>p[1] << 48)
            | (<unsigned long long>p[2] << 40) | (<unsigned long long>p[3] << 32)
            | (<unsigned long long>p[4] << 24) | (<unsigned long long>p[5] << 16)
            | (<unsigned long long>p[6] << 8) | <unsigned long long>p[7])


cdef int decode_header(const unsigned char* buf, size_t avail, int* flags,
                       unsigned long long* size) noexcept nogil:
    cdef int f
    if avail < 1:
        return 0
    f = buf[0]
    if f & FRAME_RESERVED_MASK:
        return SCAN_ERR_RESERVED_FLAGS
    if (f & (FRAME_MORE | FRAME_COMMAND)) == (FRAME_MORE | FRAME_COMMAND):
        return SCAN_ERR_MORE_ON_COMMAND
    if f & FRAME_LONG:
        if avail < 9:
            return 0
        if buf[1] & 0x80:
            return SCAN_ERR_BAD_LONG
        flags[0] = f
        size[0] = _load_be64(buf + 1)
        return 9
    if avail < 2:
        return 0
    flags[0] = f
    size[0] = buf[1]
    return 2


cdef inline int _check_frame(int flags, unsigned long long size, int in_msg,
                             unsigned long long msg_total, long long maxmsgsize) noexcept nogil:
    """Message-level rules for a frame whose header is valid; msg_total <= maxmsgsize holds."""
    if in_msg and (flags & FRAME_COMMAND):
        return SCAN_ERR_COMMAND_IN_MESSAGE
    if maxmsgsize >= 0 and size > <unsigned long long>maxmsgsize - msg_total:
        return SCAN_ERR_TOO_LARGE
    return 0


# ----------------------------------------------------------------------------------------
# C level: the scanner


cdef void scan_init(scan_state* st, long long maxmsgsize) noexcept nogil:
    st.maxmsgsize = maxmsgsize if maxmsgsize >= 0 else -1
    st.remaining = 0
    st.msg_total = 0
    st.cur_flags = 0
    st.hdr_len = 0
    st.in_msg = 0
    st.error = 0
    st.ncmds = 0
    st.cur_size = 0


cdef bint scan_at_boundary(const scan_state* st) noexcept nogil:
    return st.remaining == 0 and st.hdr_len == 0 and not st.in_msg and st.error == 0


cdef inline void _end_frame(scan_state* st, int flags, size_t pos, Py_ssize_t* last_end,
                            size_t* nmsgs) noexcept nogil:
    if flags & FRAME_MORE:
        st.in_msg = 1
    else:
        st.in_msg = 0
        st.msg_total = 0
        last_end[0] = <Py_ssize_t>pos
        nmsgs[0] += 1


cdef inline int _take_frame(scan_state* st, int flags, unsigned long long size, size_t n,
                            size_t* pos, Py_ssize_t* last_end, size_t* nmsgs) noexcept nogil:
    """A valid header ends at *pos: check the frame, then skip its body (or what is here)."""
    cdef int rc = _check_frame(flags, size, st.in_msg, st.msg_total, st.maxmsgsize)
    if rc:
        st.error = rc
        return rc
    st.msg_total += size
    if flags & FRAME_COMMAND:
        st.ncmds += 1
    if size > n - pos[0]:
        st.remaining = size - (n - pos[0])
        st.cur_flags = flags
        st.cur_size = size
        pos[0] = n
        return 0
    pos[0] += <size_t>size
    _end_frame(st, flags, pos[0], last_end, nmsgs)
    return 0


cdef int _resume(scan_state* st, const unsigned char* buf, size_t n, size_t* pos,
                 Py_ssize_t* last_end, size_t* nmsgs) noexcept nogil:
    """Finish the body or the split header left over by the previous call."""
    cdef size_t need, take
    cdef int flags, hl
    cdef unsigned long long size
    if st.remaining:
        if n < st.remaining:
            st.remaining -= n
            pos[0] = n
            return 0
        pos[0] = <size_t>st.remaining
        st.remaining = 0
        _end_frame(st, st.cur_flags, pos[0], last_end, nmsgs)
        return 0
    need = 9 if st.hdr[0] & FRAME_LONG else 2
    take = need - <size_t>st.hdr_len
    if take > n:
        take = n
    memcpy(st.hdr + st.hdr_len, buf, take)
    st.hdr_len += <int>take
    pos[0] = take
    if <size_t>st.hdr_len < need:
        return 0
    st.hdr_len = 0
    hl = decode_header(st.hdr, need, &flags, &size)
    if hl < 0:
        st.error = hl
        return hl
    return _take_frame(st, flags, size, n, pos, last_end, nmsgs)


cdef inline size_t _scan_short(scan_state* st, const unsigned char* buf, size_t n, size_t pos,
                               Py_ssize_t* last_end, size_t* nmsgs) noexcept nogil:
    """The common case in a tight loop: short data frames (flags 0 or MORE) wholly inside buf,
    within maxmsgsize. Returns where it stopped; anything else (a long or command frame, bad
    flags, a frame cut at the end of buf, a message too large) is left to the general path,
    which reports errors. Keeps the scanner state as the general path would."""
    cdef unsigned long long total = st.msg_total, size
    cdef unsigned long long room = <unsigned long long>st.maxmsgsize   # ULLONG_MAX if -1
    cdef int f, in_msg = st.in_msg
    cdef Py_ssize_t end = -1
    cdef size_t count = 0
    while pos + 2 <= n:
        f = buf[pos]
        if f > FRAME_MORE:
            break
        size = buf[pos + 1]
        if size > n - pos - 2 or size > room - total:
            break
        pos += 2 + <size_t>size
        if f:
            total += size
            in_msg = 1
        else:
            total = 0
            in_msg = 0
            end = <Py_ssize_t>pos
            count += 1
    st.msg_total = total
    st.in_msg = in_msg
    if count:
        last_end[0] = end
        nmsgs[0] += count
    return pos


cdef int scan_frames(scan_state* st, const unsigned char* buf, size_t n,
                     Py_ssize_t* last_end, size_t* nmsgs) noexcept nogil:
    cdef size_t pos = 0
    cdef int flags, hl, rc
    cdef unsigned long long size
    last_end[0] = -1
    nmsgs[0] = 0
    if st.error:
        return st.error
    if st.remaining or st.hdr_len:
        rc = _resume(st, buf, n, &pos, last_end, nmsgs)
        if rc:
            return rc
    while pos < n:
        pos = _scan_short(st, buf, n, pos, last_end, nmsgs)
        if pos >= n:
            break
        hl = decode_header(buf + pos, n - pos, &flags, &size)
        if hl <= 0:
            if hl < 0:
                st.error = hl
                return hl
            memcpy(st.hdr, buf + pos, n - pos)    # a split header: at most 8 bytes
            st.hdr_len = <int>(n - pos)
            return 0
        pos += <size_t>hl
        rc = _take_frame(st, flags, size, n, &pos, last_end, nmsgs)
        if rc:
            return rc
    return 0


# ----------------------------------------------------------------------------------------
# Python level: errors


_MESSAGES = {
    SCAN_ERR_RESERVED_FLAGS: "frame flags have reserved bits 3-7 set",
    SCAN_ERR_MORE_ON_COMMAND: "MORE flag set on a command frame",
    SCAN_ERR_BAD_LONG: "long frame size has its top bit set (>= 2**63)",
    SCAN_ERR_COMMAND_IN_MESSAGE: "command frame inside a multipart message",
}


cdef int _raise_scan_error(int code, long long maxmsgsize) except -1:
    from fastzmq.zmtp import BadFrame, MessageTooLarge  # lazy: fastzmq.zmtp imports us

    if code == SCAN_ERR_TOO_LARGE:
        raise MessageTooLarge(f"message exceeds maxmsgsize={maxmsgsize} bytes")
    raise BadFrame(_MESSAGES.get(code, f"bad frame (code {code})"))


def error_for_code(int code, long long maxmsgsize=-1):
    """The ProtocolError instance a SCAN_ERR_* code stands for (for callers of the C API)."""
    try:
        _raise_scan_error(code, maxmsgsize)
    except Exception as exc:
        return exc


# ----------------------------------------------------------------------------------------
# Python level: encoding


cdef inline bytes _frame_bytes(const unsigned char* src, size_t size, int flags):
    cdef unsigned char hdr[9]
    cdef size_t hl = encode_header(hdr, size, flags)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>(hl + size))
    cdef unsigned char* dst = <unsigned char*>PyBytes_AS_STRING(out)
    memcpy(dst, hdr, hl)
    memcpy(dst + hl, src, size)
    return out


def encode_frame(data, bint more=False, bint command=False):
    """One ZMTP frame carrying ``data`` (any bytes-like object) as its body."""
    cdef Py_buffer view
    cdef int flags = (FRAME_MORE if more else 0) | (FRAME_COMMAND if command else 0)
    if more and command:
        raise ValueError("a command frame cannot have MORE set")
    if type(data) is bytes:
        return _frame_bytes(<const unsigned char*>PyBytes_AS_STRING(data), len(<bytes>data), flags)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        return _frame_bytes(<const unsigned char*>view.buf, <size_t>view.len, flags)
    finally:
        PyBuffer_Release(&view)


def encode_message(parts):
    """A whole message: MORE on every frame but the last. ``parts`` must not be empty."""
    cdef Py_ssize_t count = len(parts), i, j
    cdef Py_buffer* views
    cdef size_t total = 0, off = 0
    cdef bytes out
    cdef unsigned char* dst
    if count == 0:
        raise ValueError("a message has at least one part")
    views = <Py_buffer*>malloc(count * sizeof(Py_buffer))
    if views == NULL:
        raise MemoryError()
    i = 0
    try:
        while i < count:
            PyObject_GetBuffer(parts[i], &views[i], PyBUF_SIMPLE)
            total += <size_t>views[i].len + (9 if views[i].len > 255 else 2)
            i += 1
        out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>total)
        dst = <unsigned char*>PyBytes_AS_STRING(out)
        for j in range(count):
            off += encode_header(dst + off, <size_t>views[j].len,
                                 FRAME_MORE if j < count - 1 else 0)
            memcpy(dst + off, views[j].buf, <size_t>views[j].len)
            off += <size_t>views[j].len
        return out
    finally:
        while i > 0:
            i -= 1
            PyBuffer_Release(&views[i])
        free(views)


def encode_command(bytes name, data=b""):
    """A command frame: name length (1 byte), name, data (RFC 23 "command-body")."""
    if not 1 <= len(name) <= 255:
        raise ValueError(f"command name must be 1 to 255 bytes, got {len(name)}")
    return encode_frame(bytes((len(name),)) + name + bytes(data), command=True)


def parse_command(body):
    """Split a command frame body into ``(name, data)``; BadFrame if the name is truncated."""
    cdef bytes b = bytes(body)
    cdef Py_ssize_t n
    if len(b) < 1 or b[0] == 0:
        from fastzmq.zmtp import BadFrame

        raise BadFrame("command frame has an empty name")
    n = b[0]
    if len(b) < 1 + n:
        from fastzmq.zmtp import BadFrame

        raise BadFrame(f"command name truncated: announces {n} bytes, {len(b) - 1} present")
    return b[1 : 1 + n], b[1 + n :]


# ----------------------------------------------------------------------------------------
# Python level: decoding


cdef class Frame:
    """One decoded frame: ``flags`` (int) and ``body`` (bytes); unpacks as (flags, body)."""

    cdef readonly int flags
    cdef readonly bytes body

    def __init__(self, int flags, bytes body):
        self.flags = flags
        self.body = body

    @property
    def more(self):
        return bool(self.flags & FRAME_MORE)

    @property
    def command(self):
        return bool(self.flags & FRAME_COMMAND)

    def __iter__(self):
        return iter((self.flags & (FRAME_MORE | FRAME_COMMAND), self.body))

    def __eq__(self, other):
        if not isinstance(other, Frame):
            return NotImplemented
        return (self.flags & 5) == ((<Frame>other).flags & 5) and self.body == (<Frame>other).body

    __hash__ = None

    def __repr__(self):
        kind = "command" if self.command else ("more" if self.more else "last")
        return f"Frame({kind}, {self.body!r})"


cdef inline Frame _new_frame(int flags, bytes body):
    cdef Frame f = Frame.__new__(Frame)
    f.flags = flags
    f.body = body
    return f


cdef class Decoder:
    """Incremental frame decoder: ``feed(bytes)``, then ``frames()`` or iterate.

    ``maxmsgsize`` (-1 = unlimited) bounds the sum of a message's frame bodies; a header
    that would exceed it raises ``MessageTooLarge`` before its body arrives.
    """

    cdef bytearray _buf
    cdef Py_ssize_t _pos
    cdef readonly long long maxmsgsize
    cdef unsigned long long _msg_total
    cdef int _in_msg
    cdef object _error

    def __init__(self, long long maxmsgsize=-1):
        self._buf = bytearray()
        self._pos = 0
        self.maxmsgsize = maxmsgsize if maxmsgsize >= 0 else -1
        self._msg_total = 0
        self._in_msg = 0
        self._error = None

    def feed(self, data):
        if self._error is not None:
            raise self._error
        self._buf += data

    cdef int _fail(self, int code) except -1:
        try:
            _raise_scan_error(code, self.maxmsgsize)
        except Exception as exc:
            self._error = exc
            raise

    cdef Frame _next(self):
        cdef Py_ssize_t avail = PyByteArray_GET_SIZE(self._buf) - self._pos
        cdef const unsigned char* p
        cdef int flags = 0, hl, rc
        cdef unsigned long long size = 0
        if avail <= 0:
            return None
        p = <const unsigned char*>PyByteArray_AS_STRING(self._buf) + self._pos
        hl = decode_header(p, <size_t>avail, &flags, &size)
        if hl == 0:
            return None
        if hl < 0:
            self._fail(hl)
        rc = _check_frame(flags, size, self._in_msg, self._msg_total, self.maxmsgsize)
        if rc:
            self._fail(rc)
        if size > <unsigned long long>(avail - hl):
            return None
        self._pos += hl + <Py_ssize_t>size
        if flags & FRAME_MORE:
            self._in_msg = 1
            self._msg_total += size
        else:
            self._in_msg = 0
            self._msg_total = 0
        return _new_frame(flags, PyBytes_FromStringAndSize(<const char*>p + hl, <Py_ssize_t>size))

    cdef void _compact(self):
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0

    def next_frame(self):
        """The next complete frame, or None if more bytes are needed."""
        if self._error is not None:
            raise self._error
        f = self._next()
        if f is not None and self._pos > 65536:
            self._compact()
        return f

    def frames(self):
        """All complete frames available now, as a list of Frame."""
        cdef list out = []
        cdef Frame f
        if self._error is not None:
            raise self._error
        try:
            f = self._next()
            while f is not None:
                out.append(f)
                f = self._next()
        finally:
            self._compact()
        return out

    def __iter__(self):
        return iter(self.frames())

    def pending(self):
        """The bytes received but not yet decoded into frames."""
        return bytes(self._buf[self._pos :])

    @property
    def at_boundary(self):
        """True when no partial frame is buffered and no multipart message is open."""
        return self._error is None and not self._in_msg and PyByteArray_GET_SIZE(self._buf) == self._pos


# ----------------------------------------------------------------------------------------
# Python level: the scanner, for tests


cdef class Scanner:
    """Python wrapper of ``scan_frames``: ``feed(bytes) -> (last_end, nmsgs)``."""

    cdef scan_state st

    def __init__(self, long long maxmsgsize=-1):
        scan_init(&self.st, maxmsgsize)

    def feed(self, data):
        cdef Py_buffer view
        cdef Py_ssize_t last_end = -1
        cdef size_t nmsgs = 0
        cdef int rc
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            with nogil:
                rc = scan_frames(&self.st, <const unsigned char*>view.buf, <size_t>view.len,
                                 &last_end, &nmsgs)
        finally:
            PyBuffer_Release(&view)
        if rc:
            _raise_scan_error(rc, self.st.maxmsgsize)
        return last_end, nmsgs

    @property
    def at_boundary(self):
        return scan_at_boundary(&self.st)

    @property
    def maxmsgsize(self):
        return self.st.maxmsgsize


def scan(data, long long maxmsgsize=-1, Scanner state=None):
    """Scan ``data`` (continuing ``state`` if given): returns ``(last_end, nmsgs)``."""
    if state is None:
        state = Scanner(maxmsgsize)
    return state.feed(data)


# ----------------------------------------------------------------------------------------
# Benchmark helpers (C-level loops timed from Python)


def _bench_scan(data, long repeats):
    """Seconds to scan ``data`` from a fresh state ``repeats`` times (nogil loop)."""
    cdef Py_buffer view
    cdef scan_state st
    cdef Py_ssize_t last_end = -1
    cdef size_t nmsgs = 0, first = 0
    cdef long r
    cdef int rc = 0
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        t0 = time.perf_counter()
        with nogil:
            for r in range(repeats):
                scan_init(&st, -1)
                rc |= scan_frames(&st, <const unsigned char*>view.buf, <size_t>view.len,
                                  &last_end, &nmsgs)
                if r == 0:
                    first = nmsgs
                elif nmsgs != first:
                    rc = -100
        t1 = time.perf_counter()
    finally:
        PyBuffer_Release(&view)
    if rc:
        raise RuntimeError(f"scan failed during benchmark: {rc}")
    return t1 - t0


def _bench_encode(long long size, long count, long repeats):
    """Seconds to encode ``count`` frames of ``size`` bytes into one buffer, ``repeats`` times."""
    cdef size_t per = <size_t>size + (9 if size > 255 else 2)
    cdef unsigned char* out = <unsigned char*>malloc(per * <size_t>count)
    cdef unsigned char* body = <unsigned char*>malloc(<size_t>size + 1)
    cdef size_t off = 0
    cdef long r, i
    cdef unsigned long check = 0
    if out == NULL or body == NULL:
        free(out)
        free(body)
        raise MemoryError()
    memset(body, 0x5A, <size_t>size + 1)
    try:
        t0 = time.perf_counter()
        with nogil:
            for r in range(repeats):
                off = 0
                for i in range(count):
                    off += encode_header(out + off, <unsigned long long>size, FRAME_MORE if i & 1 else 0)
                    memcpy(out + off, body, <size_t>size)
                    off += <size_t>size
                check += out[off - 1] + out[0]
        t1 = time.perf_counter()
        if check == 0:   # keeps the stores observable
            raise RuntimeError("encode benchmark produced nothing")
        return t1 - t0
    finally:
        free(out)
        free(body)

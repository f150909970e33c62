# cython: language_level=3, boundscheck=False, wraparound=False
"""C versions of the PGM data path's byte work (``_pgm.py`` holds the reference Python
and uses these when built; ``tests/test_pgm.py`` checks that both agree):

* ``checksum``: the Internet checksum (RFC 1071) of a packet, optionally with the
  checksum field (2 bytes at ``zero_at``) read as zero, so a received packet is
  verified without a copy;
* ``v3``: libzmq's ZMTP 1.0 frames (the stream inside a source's TSDUs) re-encoded as
  ZMTP 3 frames for the engine, whole messages only, in one pass.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from fastzmq._pgmnet cimport be64


def checksum(const unsigned char[::1] data, Py_ssize_t zero_at=-1):
    """The Internet checksum of data (the complemented one's-complement sum of its
    big-endian 16-bit words; an odd tail byte is padded with zero). zero_at: the
    offset of a 16-bit field read as zero (even; -1: none)."""
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t i
    cdef uint64_t s = 0
    for i in range(0, n - 1, 2):
        s += (<uint32_t>data[i] << 8) | data[i + 1]
    if n & 1:
        s += <uint32_t>data[n - 1] << 8
    if 0 <= zero_at and zero_at + 1 < n:
        s -= (<uint32_t>data[zero_at] << 8) | data[zero_at + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def v3(bytearray buf, bytearray cur, long long maxmsgsize):
    """Re-encode the complete ZMTP 1.0 frames at the start of buf as ZMTP 3.

    cur holds the re-encoded frames of a message not complete yet (it is updated).
    Returns (ZMTP 3 bytes of the messages completed, how many, bytes of buf used); the
    count is -1 for a zero-length frame and -2 for a frame over maxmsgsize (>= 0), and
    then nothing is changed."""
    cdef const unsigned char* b = <const unsigned char*>PyByteArray_AS_STRING(buf)
    cdef Py_ssize_t end = PyByteArray_GET_SIZE(buf)
    cdef Py_ssize_t ncur = PyByteArray_GET_SIZE(cur)
    cdef Py_ssize_t cap = ncur + end + 16
    cdef unsigned char* o = <unsigned char*>malloc(cap)
    cdef Py_ssize_t p = 0, k = ncur, last = 0
    cdef uint64_t n, size
    cdef int h, more, count = 0
    cdef int i
    if o == NULL:
        raise MemoryError()
    try:
        memcpy(o, PyByteArray_AS_STRING(cur), ncur)
        while p < end:
            n = b[p]
            h = 1
            if n == 0xFF:
                if end - p < 9:
                    break
                n = be64(b + p + 1)
                h = 9
            if n == 0:
                return b"", -1, 0
            if maxmsgsize >= 0 and n - 1 > <uint64_t>maxmsgsize:
                return b"", -2, 0
            if n > <uint64_t>(end - p - h):
                break
            more = b[p + h] & 1
            size = n - 1
            if size < 256:
                o[k] = more
                o[k + 1] = <unsigned char>size
                k += 2
            else:
                o[k] = more | 2
                for i in range(8):
                    o[k + 1 + i] = (size >> (56 - 8 * i)) & 0xFF
                k += 9
            memcpy(o + k, b + p + h + 1, size)
            k += size
            p += h + n
            if not more:
                last = k
                count += 1
        out = PyBytes_FromStringAndSize(<char*>o, last)
        cur[:] = PyBytes_FromStringAndSize(<char*>o + last, k - last)
        return out, count, p
    finally:
        free(o)


def zmtp3_to_v1(bytearray data, bytearray out, list starts):
    """Re-encode the whole messages at the front of a ZMTP 3 frame stream (what the
    engine writes; commands skipped) as ZMTP 1.0 frames appended to out, each message's
    offset in out appended to starts; returns the bytes of data consumed (a partial last
    message stays for the next call). ``_pgm.Packer.add_zmtp3`` in C."""
    cdef const unsigned char* d = <const unsigned char*>PyByteArray_AS_STRING(data)
    cdef Py_ssize_t end = PyByteArray_GET_SIZE(data)
    cdef Py_ssize_t base = PyByteArray_GET_SIZE(out)
    # each frame takes >= 2 bytes of data and grows by <= 8 bytes re-encoded
    cdef Py_ssize_t cap = end + 4 * end + 16
    cdef unsigned char* o = <unsigned char*>malloc(cap)
    cdef Py_ssize_t p = 0, k = 0, done = 0, cur = -1, keep = 0
    cdef uint64_t n, size
    cdef int h, flags, i
    if o == NULL:
        raise MemoryError()
    try:
        while end - p >= 2:
            flags = d[p]
            if flags & 2:
                if end - p < 9:
                    break
                n = be64(d + p + 1)
                h = 9
            else:
                n = d[p + 1]
                h = 2
            if n > <uint64_t>(end - p - h):
                break
            if flags & 4:  # a command (between messages): nothing for PGM
                p += h + n
                if cur < 0:
                    done = p
                continue
            if cur < 0:
                cur = k
            size = n + 1
            if size < 255:
                o[k] = <unsigned char>size
                k += 1
            else:
                o[k] = 0xFF
                for i in range(8):
                    o[k + 1 + i] = (size >> (56 - 8 * i)) & 0xFF
                k += 9
            o[k] = flags & 1
            k += 1
            memcpy(o + k, d + p + h, n)
            k += n
            p += h + n
            if not flags & 1:
                starts.append(base + cur)
                cur = -1
                done = p
                keep = k
        out += PyBytes_FromStringAndSize(<char*>o, keep)  # not a partial message
        return done
    finally:
        free(o)

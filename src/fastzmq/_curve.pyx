# cython: language_level=3
"""CURVE traffic in the I/O thread without the GIL (RFC 25 "MESSAGE command", RFC 26).

Theory of operation
-------------------
After a CURVE handshake the engine keeps its rings in plain ZMTP frames, exactly as for
NULL and PLAIN, and transforms at the wire:

* out: each frame of the outbound ring (flags, body) becomes one wire frame, flags 0, body
  ``\\x07MESSAGE | short nonce (8) | Box[flags + body]`` (libzmq 4.3's form), sealed in a
  staging buffer (``obuf``) and sent from there; many frames per ``send``.
* in: wire bytes are received into ``ibuf``; each complete MESSAGE is opened straight into
  the inbound ring's free space (the boxed flags byte lands where the frame header's last
  byte goes, then the header is written over it), so the ring, the frame scanner, MAXMSGSIZE
  (which thus applies to the plaintext) and the PING scanner work as for plain traffic.

Nonces: 24 bytes, a 16-byte label ("CurveZMQMESSAGEC" client to server, "CurveZMQMESSAGES"
server to client) and a big-endian 64-bit counter carried on the wire; our counter goes on
from where the handshake left it, and a received counter must exceed the last one accepted
(replays and reordering are refused).

Crypto is libsodium's ``crypto_box_easy_afternm`` / ``crypto_box_open_easy_afternm`` with the
key precomputed at the handshake (``crypto_box_beforenm``), called through C function
pointers taken from PyNaCl's bundled libsodium (``nacl._sodium``, a cffi module): no second
copy of the library, no GIL in the pump.
"""

from libc.stdint cimport uint64_t, uintptr_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove


cdef inline void _put_be64(unsigned char* p, uint64_t v) noexcept nogil:
    cdef int i
    for i in range(8):
        p[7 - i] = <unsigned char>(v & 0xFF)
        v >>= 8


cdef class CurveCodec:
    """Keys, nonces and buffers of one CURVE connection's data phase."""

    def __cinit__(self, bytes key, bint as_server, uint64_t send_next, uint64_t recv_last):
        import nacl._sodium as sodium

        if len(key) != 32:
            raise ValueError("CURVE precomputed key must be 32 bytes")
        memcpy(self.key, <const char*>key, 32)
        cdef bytes slabel = b"CurveZMQMESSAGES" if as_server else b"CurveZMQMESSAGEC"
        cdef bytes rlabel = b"CurveZMQMESSAGEC" if as_server else b"CurveZMQMESSAGES"
        memcpy(self.snonce, <const char*>slabel, 16)
        memcpy(self.rnonce, <const char*>rlabel, 16)
        self.send_n = send_next
        self.recv_n = recv_last
        ffi, lib = sodium.ffi, sodium.lib
        self.seal_fn = <box_fn><uintptr_t>int(ffi.cast("uintptr_t", lib.crypto_box_easy_afternm))
        self.open_fn = <box_fn><uintptr_t>int(
            ffi.cast("uintptr_t", lib.crypto_box_open_easy_afternm)
        )
        self.ocap = 1 << 16
        self.obuf = <unsigned char*>malloc(self.ocap)
        self.icap = 1 << 16
        self.ibuf = <unsigned char*>malloc(self.icap)
        if self.obuf == NULL or self.ibuf == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.obuf)
        free(self.ibuf)
        free(self.scratch)

    cdef unsigned char* begin_frame(self, size_t size, int flags) noexcept nogil:
        cdef size_t wire = CURVE_OVERHEAD + size
        cdef size_t need = self.olen + 9 + wire
        cdef size_t cap
        cdef unsigned char* p
        cdef unsigned char* q
        if self.ooff == self.olen:
            self.ooff = self.olen = 0
            need = 9 + wire
        if need > self.ocap:
            cap = self.ocap
            while cap < need:
                cap *= 2
            q = <unsigned char*>realloc(self.obuf, cap)
            if q == NULL:
                return NULL
            self.obuf, self.ocap = q, cap
        p = self.obuf + self.olen
        # the wire header: flags 0 (long if needed), body = the MESSAGE command
        if wire > 255:
            p[0] = 2
            _put_be64(p + 1, wire)
            p += 9
        else:
            p[0] = 0
            p[1] = <unsigned char>wire
            p += 2
        memcpy(p, <const char*>"\x07MESSAGE", 8)
        _put_be64(self.snonce + 16, self.send_n)
        memcpy(p + 8, self.snonce + 16, 8)
        self.send_n += 1
        p[32] = <unsigned char>(flags & 3)
        # remember where the box starts (the MAC slot) for seal_last
        self._last_box = p + 16
        self._last_len = 1 + size
        self.olen = <size_t>(p - self.obuf) + wire
        return p + 33

    cdef void seal_last(self) noexcept nogil:
        # in place: the ciphertext lands on the plaintext (libsodium allows c + MAC == m)
        self.seal_fn(self._last_box, self._last_box + 16, self._last_len, self.snonce, self.key)

    cdef int ensure_in(self, size_t need) noexcept nogil:
        """Room for `need` more bytes after ilen (compacting, then growing)."""
        cdef size_t cap
        cdef unsigned char* q
        if self.ioff == self.ilen:
            self.ioff = self.ilen = 0
        elif self.ioff and self.icap - self.ilen < need and (self.ilen - self.ioff) * 4 <= self.icap:
            # move a small partial frame to the front; a large one is not copied again
            # and again: the buffer grows instead, to about four times the largest frame
            memmove(self.ibuf, self.ibuf + self.ioff, self.ilen - self.ioff)
            self.ilen -= self.ioff
            self.ioff = 0
        if self.icap - self.ilen >= need:
            return 0
        cap = self.icap
        while cap - self.ilen < need:
            cap *= 2
        q = <unsigned char*>realloc(self.ibuf, cap)
        if q == NULL:
            return -1
        self.ibuf, self.icap = q, cap
        return 0

    cdef unsigned char* get_scratch(self, size_t need) noexcept nogil:
        cdef unsigned char* q
        if need > self.scap:
            q = <unsigned char*>realloc(self.scratch, need)
            if q == NULL:
                return NULL
            self.scratch, self.scap = q, need
        return self.scratch

    cdef int open_into(self, const unsigned char* body, size_t size,
                       unsigned char* out) noexcept nogil:
        cdef uint64_t n = 0
        cdef int i
        if size < CURVE_OVERHEAD or memcmp(body, <const char*>"\x07MESSAGE", 8) != 0:
            return CURVE_ERR_FRAME
        for i in range(8):
            n = (n << 8) | body[8 + i]
        if n <= self.recv_n:
            return CURVE_ERR_NONCE
        memcpy(self.rnonce + 16, body + 8, 8)
        if self.open_fn(out, body + 16, size - 16, self.rnonce, self.key) != 0:
            return CURVE_ERR_CRYPTO
        self.recv_n = n
        if out[0] & ~3:
            return CURVE_ERR_FLAGS
        return 0

    @property
    def counters(self):
        return self.send_n, self.recv_n

# cython: language_level=3
"""CURVE traffic in the I/O thread without the GIL (RFC 25 "MESSAGE command", RFC 26).

Theory of operation
-------------------
After a CURVE handshake the engine keeps its rings in plain ZMTP frames, exactly as for
NULL and PLAIN, and transforms at the wire:

* out: each frame of the outbound ring (flags, body) becomes one wire frame, flags 0, body
  ``\\x07MESSAGE | short nonce (8) | Box[flags + body]`` (libzmq 4.3's form), encrypted
  from where the body lies (ring run, or the object of a body sent by reference) into a
  staging buffer (``obuf``) and sent from there; many frames per ``send``, and the frames
  of a ring run are scanned and consumed at once.
* in: wire bytes are received into ``ibuf``; the complete MESSAGEs are opened back to back
  straight into the inbound ring's free space (the boxed flags byte lands where the frame
  header's last byte goes, then the header is written over it) and committed and scanned
  once per run; a frame longer than the chunk's rest is checked first (``open_check``) and
  then decrypted piece by piece into the chunks it spans (``open_range``). So the ring, the
  frame scanner, MAXMSGSIZE (which thus applies to the plaintext) and the PING scanner work
  as for plain traffic.

Nonces: 24 bytes, a 16-byte label ("CurveZMQMESSAGEC" client to server, "CurveZMQMESSAGES"
server to client) and a big-endian 64-bit counter carried on the wire; our counter goes on
from where the handshake left it, and a received counter must exceed the last one accepted
(replays and reordering are refused).

Crypto is libsodium's, called through C function pointers taken from PyNaCl's bundled
libsodium (the loaded ``nacl._sodium`` module: no second copy of the library, no GIL in the
pump). A MESSAGE box is ``crypto_box_afternm`` = XSalsa20-Poly1305 under the key precomputed
at the handshake (``crypto_box_beforenm``), and XSalsa20's first step, HSalsa20(key,
nonce[0:16]), depends only on the 16-byte label: it is one subkey per direction for the
connection's life. So the codec computes the two subkeys once and each frame costs only what
depends on its counter, composed from libsodium's own primitives exactly as libsodium's
``crypto_secretbox_detached``/``open_detached`` compose them: keystream block 0 of Salsa20(subkey,
counter) gives the Poly1305 one-time key (bytes 0..31) and encrypts the first 32 bytes, the
rest is ``crypto_stream_salsa20_xor_ic`` from block 1, and the tag is Poly1305 over the
ciphertext (checked in constant time, before anything is decrypted). At 16 bytes that is one
Salsa20 block and one Poly1305 per frame, where ``crypto_box_easy_afternm`` costs an HSalsa20
and one block to seal, and an HSalsa20 and two blocks to open. The bytes are those of
``crypto_box_easy_afternm`` (tests/test_curve_codec.py compares them, and the interop tests
run against libzmq); if the primitives cannot be found the codec uses
``crypto_box_easy_afternm`` / ``crypto_box_open_easy_afternm`` instead.
"""

from libc.stdint cimport uint64_t, uintptr_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memmove
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec


ctypedef int (*core_fn)(unsigned char* out, const unsigned char* inp, const unsigned char* k,
                        const unsigned char* c) noexcept nogil
ctypedef int (*stream_xor_ic_fn)(unsigned char* c, const unsigned char* m,
                                 unsigned long long mlen, const unsigned char* n, uint64_t ic,
                                 const unsigned char* k) noexcept nogil
ctypedef int (*auth_fn)(unsigned char* out, const unsigned char* inp, unsigned long long n,
                        const unsigned char* k) noexcept nogil
ctypedef int (*verify_fn)(const unsigned char* h, const unsigned char* inp, unsigned long long n,
                          const unsigned char* k) noexcept nogil
ctypedef void (*memzero_fn)(void* p, size_t n) noexcept nogil


cdef struct primitives:
    box_fn box_easy_afternm
    box_fn box_open_easy_afternm
    core_fn hsalsa20                # crypto_core_hsalsa20
    stream_xor_ic_fn salsa20_xor_ic  # crypto_stream_salsa20_xor_ic
    auth_fn poly1305                # crypto_onetimeauth_poly1305
    verify_fn poly1305_verify         # crypto_onetimeauth_poly1305_verify (constant time)
    memzero_fn memzero              # sodium_memzero


cdef primitives S
cdef int _loaded = 0
cdef unsigned char _zeros[64]   # static: all zero (the keystream block is zeros xor stream)    # 0 not yet, 1 the easy API only, 2 the primitives too


cdef uintptr_t _addr(lib, str name) except? 0:
    import ctypes

    try:
        return <uintptr_t>ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
    except AttributeError:
        return 0


cdef int _load() except -1:
    """Take the entry points from the libsodium PyNaCl has loaded (once per process)."""
    global _loaded
    if _loaded:
        return _loaded
    import ctypes
    import os

    import nacl._sodium as sodium
    import nacl.bindings  # noqa: F401 (its import runs sodium_init: best implementations)

    ffi, lib = sodium.ffi, sodium.lib
    S.box_easy_afternm = <box_fn><uintptr_t>int(
        ffi.cast("uintptr_t", lib.crypto_box_easy_afternm)
    )
    S.box_open_easy_afternm = <box_fn><uintptr_t>int(
        ffi.cast("uintptr_t", lib.crypto_box_open_easy_afternm)
    )
    _loaded = 1
    # The primitives are exported by the extension (bundled libsodium) or its dependency
    # (a system libsodium), but not wrapped by cffi: look them up in the very same loaded
    # object (RTLD_NOLOAD: never a second, uninitialised copy).
    try:
        so = ctypes.CDLL(sodium.__file__, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    except OSError:
        return _loaded
    cdef uintptr_t h = _addr(so, "crypto_core_hsalsa20")
    cdef uintptr_t x = _addr(so, "crypto_stream_salsa20_xor_ic")
    cdef uintptr_t a = _addr(so, "crypto_onetimeauth_poly1305")
    cdef uintptr_t v = _addr(so, "crypto_onetimeauth_poly1305_verify")
    cdef uintptr_t z = _addr(so, "sodium_memzero")
    if h and x and a and v and z:
        S.hsalsa20 = <core_fn>h
        S.salsa20_xor_ic = <stream_xor_ic_fn>x
        S.poly1305 = <auth_fn>a
        S.poly1305_verify = <verify_fn>v
        S.memzero = <memzero_fn>z
        _loaded = 2
    return _loaded


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    static inline void fz_put_be64(unsigned char* p, uint64_t v) {
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v);
    #elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
    #error "unknown byte order"
    #endif
        memcpy(p, &v, 8);
    }
    static inline uint64_t fz_get_be64(const unsigned char* p) {
        uint64_t v;
        memcpy(&v, p, 8);
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v);
    #endif
        return v;
    }
    /* out[i] = a[i] ^ b[i] for i < n (n is small: the head of a frame in keystream block 0),
       eight bytes at a time */
    static inline void fz_xor_bytes(unsigned char* out, const unsigned char* a,
                                    const unsigned char* b, size_t n) {
        size_t i = 0;
        uint64_t x, y;
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            x ^= y;
            memcpy(out + i, &x, 8);
        }
        for (; i < n; i++)
            out[i] = a[i] ^ b[i];
    }
    /* wipe a keystream block (its first half is a Poly1305 key): zeroes that the compiler
       may not drop (the barrier makes the memory observable), as sodium_memzero's fallback */
    #if defined(__GNUC__)
    #define FZ_WIPE_INLINE 1
    static inline void fz_wipe(void* p, size_t n) {
        memset(p, 0, n);
        __asm__ __volatile__("" : : "r"(p) : "memory");
    }
    #else
    #define FZ_WIPE_INLINE 0
    static inline void fz_wipe(void* p, size_t n) { (void)p; (void)n; }
    #endif
    /* "\x07MESSAGE": the command name that starts every MESSAGE body (8 bytes) */
    static const unsigned char fz_message_name[8] = {7, 'M', 'E', 'S', 'S', 'A', 'G', 'E'};
    static inline void fz_put_name(unsigned char* p) { memcpy(p, fz_message_name, 8); }
    static inline int fz_is_name(const unsigned char* p) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, fz_message_name, 8);
        return a == b;
    }
    """
    void _put_be64 "fz_put_be64"(unsigned char* p, uint64_t v) noexcept nogil
    uint64_t _get_be64 "fz_get_be64"(const unsigned char* p) noexcept nogil
    void _xor_bytes "fz_xor_bytes"(unsigned char* out, const unsigned char* a,
                                   const unsigned char* b, size_t n) noexcept nogil
    void _wipe_inline "fz_wipe"(void* p, size_t n) noexcept nogil
    int FZ_WIPE_INLINE
    void _put_name "fz_put_name"(unsigned char* p) noexcept nogil
    bint _is_name "fz_is_name"(const unsigned char* p) noexcept nogil


cdef inline void _wipe(unsigned char* p, size_t n) noexcept nogil:
    if FZ_WIPE_INLINE:
        _wipe_inline(p, n)
    else:
        S.memzero(p, n)


cdef void _seal(unsigned char* mac, unsigned char* c, size_t n, const unsigned char* n8,
                const unsigned char* sub) noexcept nogil:
    """XSalsa20-Poly1305 with the HSalsa20 subkey given: c[0:n] encrypted in place, tag to
    mac (libsodium's crypto_secretbox_detached after its HSalsa20 step)."""
    cdef unsigned char block[64]
    S.salsa20_xor_ic(block, _zeros, 64, n8, 0, sub)
    _xor_bytes(c, c, block + 32, n if n < 32 else 32)
    if n > 32:
        S.salsa20_xor_ic(c + 32, c + 32, n - 32, n8, 1, sub)
    S.poly1305(mac, c, n, block)
    _wipe(block, 64)


cdef void _seal_from(unsigned char* mac, unsigned char* c, unsigned char flags,
                     const unsigned char* m, size_t n, const unsigned char* n8,
                     const unsigned char* sub) noexcept nogil:
    """_seal of the plaintext flags + m[0:n] into c[0:1 + n], read from where m lies (no
    copy first): the flags byte takes keystream byte 32, m[0:31] the rest of block 0, and
    m[31:] starts block 1, so the bulk is one aligned crypto_stream_salsa20_xor_ic."""
    cdef unsigned char block[64]
    S.salsa20_xor_ic(block, _zeros, 64, n8, 0, sub)
    c[0] = flags ^ block[32]
    _xor_bytes(c + 1, m, block + 33, n if n < 31 else 31)
    if n > 31:
        S.salsa20_xor_ic(c + 32, m + 31, n - 31, n8, 1, sub)
    S.poly1305(mac, c, 1 + n, block)
    _wipe(block, 64)


cdef int _open(unsigned char* out, const unsigned char* mac, const unsigned char* c, size_t n,
               const unsigned char* n8, const unsigned char* sub) noexcept nogil:
    """The inverse: the tag checked first (constant time), then c[0:n] decrypted to out."""
    cdef unsigned char block[64]
    S.salsa20_xor_ic(block, _zeros, 64, n8, 0, sub)
    if S.poly1305_verify(mac, c, n, block) != 0:
        _wipe(block, 64)
        return -1
    _xor_bytes(out, c, block + 32, n if n < 32 else 32)
    if n > 32:
        S.salsa20_xor_ic(out + 32, c + 32, n - 32, n8, 1, sub)
    _wipe(block, 64)
    return 0


cdef class CurveCodec:
    """Keys, nonces and buffers of one CURVE connection's data phase."""

    def __cinit__(self, bytes key, bint as_server, uint64_t send_next, uint64_t recv_last,
                  bint primitives=True):
        if len(key) != 32:
            raise ValueError("CURVE precomputed key must be 32 bytes")
        memcpy(self.key, <const char*>key, 32)
        cdef bytes slabel = b"CurveZMQMESSAGES" if as_server else b"CurveZMQMESSAGEC"
        cdef bytes rlabel = b"CurveZMQMESSAGEC" if as_server else b"CurveZMQMESSAGES"
        memcpy(self.snonce, <const char*>slabel, 16)
        memcpy(self.rnonce, <const char*>rlabel, 16)
        self.send_n = send_next
        self.recv_n = recv_last
        self.fast = _load() == 2 and primitives
        if self.fast:
            S.hsalsa20(self.ssub, self.snonce, self.key, NULL)
            S.hsalsa20(self.rsub, self.rnonce, self.key, NULL)
        self.ocap = 1 << 16
        self.obuf = <unsigned char*>malloc(self.ocap)
        self.icap = 1 << 16
        self.ibuf = <unsigned char*>malloc(self.icap)
        if self.obuf == NULL or self.ibuf == NULL:
            raise MemoryError()

    def __dealloc__(self):
        if _loaded == 2:
            S.memzero(self.key, 32)
            S.memzero(self.ssub, 32)
            S.memzero(self.rsub, 32)
        free(self.obuf)
        free(self.ibuf)
        free(self.scratch)

    cdef unsigned char* begin_frame(self, size_t size, int flags) noexcept nogil:
        cdef size_t wire = CURVE_OVERHEAD + size
        cdef size_t hl = 9 if wire > 255 else 2
        cdef size_t need, cap
        cdef unsigned char* p
        cdef unsigned char* q
        if self.ooff == self.olen:
            self.ooff = self.olen = 0
        need = self.olen + hl + wire
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
        if hl == 9:
            p[0] = 2
            _put_be64(p + 1, wire)
        else:
            p[0] = 0
            p[1] = <unsigned char>wire
        p += hl
        _put_name(p)
        _put_be64(p + 8, self.send_n)  # the short nonce, as Salsa20's nonce (seal_last*)
        if not self.fast:
            memcpy(self.snonce + 16, p + 8, 8)
        self.send_n += 1
        p[32] = <unsigned char>(flags & 3)
        # remember where the box starts (the MAC slot) for seal_last
        self._last_box = p + 16
        self._last_len = 1 + size
        self.olen += hl + wire
        return p + 33

    cdef void seal_last(self) noexcept nogil:
        # in place: the ciphertext lands on the plaintext, the tag in front of it
        if self.fast:
            _seal(self._last_box, self._last_box + 16, self._last_len, self._last_box - 8,
                  self.ssub)
        else:  # libsodium allows c + MAC == m
            S.box_easy_afternm(self._last_box, self._last_box + 16, self._last_len,
                               self.snonce, self.key)

    cdef void seal_last_from(self, const unsigned char* body) noexcept nogil:
        # the body read where it lies: encrypted straight into the staging buffer
        if self.fast:
            _seal_from(self._last_box, self._last_box + 16, self._last_box[16], body,
                       self._last_len - 1, self._last_box - 8, self.ssub)
        else:
            memcpy(self._last_box + 17, body, self._last_len - 1)
            S.box_easy_afternm(self._last_box, self._last_box + 16, self._last_len,
                               self.snonce, self.key)

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
        cdef uint64_t n
        if size < CURVE_OVERHEAD or not _is_name(body):
            return CURVE_ERR_FRAME
        n = _get_be64(body + 8)
        if n <= self.recv_n:
            return CURVE_ERR_NONCE
        if self.fast:  # the short nonce as it came: Salsa20's nonce under the subkey
            if _open(out, body + 16, body + 32, size - 32, body + 8, self.rsub) != 0:
                return CURVE_ERR_CRYPTO
        else:
            memcpy(self.rnonce + 16, body + 8, 8)
            if S.box_open_easy_afternm(out, body + 16, size - 16, self.rnonce, self.key) != 0:
                return CURVE_ERR_CRYPTO
        self.recv_n = n
        if out[0] & ~3:
            return CURVE_ERR_FLAGS
        return 0

    cdef int open_check(self, const unsigned char* body, size_t size) noexcept nogil:
        """Open a frame in two steps (primitives only): this checks it (form, nonce, tag)
        and returns its flags byte (>= 0) or why it is refused (< 0); then open_range
        decrypts any part of the plaintext, wherever it is to go."""
        cdef uint64_t n
        cdef unsigned char block[64]
        cdef unsigned char flags
        if size < CURVE_OVERHEAD or not _is_name(body):
            return CURVE_ERR_FRAME
        n = _get_be64(body + 8)
        if n <= self.recv_n:
            return CURVE_ERR_NONCE
        S.salsa20_xor_ic(block, _zeros, 64, body + 8, 0, self.rsub)
        if S.poly1305_verify(body + 16, body + 32, size - 32, block) != 0:
            _wipe(block, 64)
            return CURVE_ERR_CRYPTO
        flags = body[32] ^ block[32]
        _wipe(block, 64)
        self.recv_n = n
        if flags & ~3:
            return CURVE_ERR_FLAGS
        return flags

    cdef void open_range(self, unsigned char* out, const unsigned char* body, size_t start,
                         size_t k) noexcept nogil:
        """Plaintext bytes [start, start + k) of a frame open_check accepted, to out."""
        cdef unsigned char block[64]
        cdef const unsigned char* c = body + 32 + start
        cdef uint64_t at = 32 + start            # keystream offset
        cdef size_t head = (64 - at % 64) % 64
        if head > k:
            head = k
        if head:  # into the middle of a keystream block: that block on the side
            S.salsa20_xor_ic(block, _zeros, 64, body + 8, at // 64, self.rsub)
            _xor_bytes(out, c, block + at % 64, head)
            _wipe(block, 64)
        if k > head:
            S.salsa20_xor_ic(out + head, c + head, k - head, body + 8, (at + head) // 64,
                             self.rsub)

    @property
    def counters(self):
        return self.send_n, self.recv_n

    @property
    def uses_primitives(self):
        """True: the per-direction subkeys and libsodium's primitives; False: the easy API."""
        return bool(self.fast)

    # The two directions one frame at a time, for tests (the engine calls the cdef methods).
    def seal_frame(self, int flags, bytes body, bint copy=False):
        """The wire bytes (frame header included) of one sealed frame (drops what the
        staging buffer held: not for a codec an engine uses); copy: the body copied into
        place and sealed there (seal_last) instead of read where it is (seal_last_from)."""
        cdef size_t n = len(body)
        cdef unsigned char* dst
        self.ooff = self.olen = 0
        dst = self.begin_frame(n, flags)
        if dst == NULL:
            raise MemoryError()
        if copy:
            memcpy(dst, <const char*>body, n)
            self.seal_last()
        else:
            self.seal_last_from(<const unsigned char*><const char*>body)
        out = (<char*>self.obuf)[:self.olen]
        self.ooff = self.olen = 0
        return out

    def open_frame_in_parts(self, bytes body, size_t part):
        """open_frame in two steps (open_check, then open_range `part` bytes at a time)."""
        cdef size_t n = len(body), at = 1, k
        cdef int rc = self.open_check(<const unsigned char*><const char*>body, n)
        cdef bytearray out
        if rc < 0:
            raise ValueError(rc)
        out = bytearray(n - 32)
        out[0] = rc
        while at < n - 32:
            k = min(part, n - 32 - at)
            self.open_range(<unsigned char*>(<char*>out) + at,
                            <const unsigned char*><const char*>body, at, k)
            at += k
        return out[0], bytes(out[1:])

    def open_frame(self, bytes body):
        """One received frame's body (a MESSAGE command) -> (flags, plaintext); ValueError
        with the CURVE_ERR_* code if it is refused."""
        cdef size_t n = len(body)
        cdef unsigned char* out = <unsigned char*>malloc(n + 1)
        cdef int rc
        if out == NULL:
            raise MemoryError()
        try:
            rc = self.open_into(<const unsigned char*><const char*>body, n, out)
            if rc != 0:
                raise ValueError(rc)
            return out[0], (<char*>out)[1 : n - 32]
        finally:
            free(out)


cdef double _mono() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


def _bench_frames(size_t size, size_t count):
    """ns per frame of `size` body bytes, in nogil loops of `count` (bench/bench_curve.py):
    the codec's seal (begin_frame + seal_last_from) and open (open_into), and the libsodium
    calls they make alone (keystream block 0, the rest of the stream, Poly1305, its verify).
    """
    if _load() != 2:
        raise RuntimeError("libsodium's primitives are not available")
    import os

    key = os.urandom(32)
    cdef CurveCodec tx = CurveCodec(key, False, 1, 0)
    cdef CurveCodec rx = CurveCodec(key, True, 1, 0)
    body_obj = os.urandom(size)
    cdef const unsigned char* body = <const unsigned char*><const char*>body_obj
    frames = [_body_of(tx.seal_frame(0, body_obj)) for _ in range(count)]
    cdef size_t wire = CURVE_OVERHEAD + size
    joined = b"".join(frames)
    cdef const unsigned char* src = <const unsigned char*><const char*>joined
    cdef unsigned char* out = <unsigned char*>malloc(size + 64)
    cdef unsigned char* scratch = <unsigned char*>malloc(size + 64)
    cdef unsigned char block[64]
    cdef unsigned char mac[16]
    cdef size_t i
    cdef int bad = 0
    cdef double t0, t_seal, t_open, t_block, t_rest, t_poly, t_verify
    if out == NULL or scratch == NULL:
        free(out)
        free(scratch)
        raise MemoryError()
    memcpy(scratch, body, size)
    try:
        with nogil:
            t0 = _mono()
            for i in range(count):
                if tx.begin_frame(size, 0) == NULL:
                    bad = 1
                    break
                tx.seal_last_from(body)
                tx.ooff = tx.olen  # the staging buffer sent
            t_seal = _mono() - t0
            t0 = _mono()
            for i in range(count):
                bad |= rx.open_into(src + i * wire, wire, out)
            t_open = _mono() - t0
            t0 = _mono()
            for i in range(count):
                S.salsa20_xor_ic(block, _zeros, 64, src + i * wire + 8, 0, tx.ssub)
            t_block = _mono() - t0
            t0 = _mono()
            if size > 31:
                for i in range(count):
                    S.salsa20_xor_ic(scratch, scratch, size - 31, src + i * wire + 8, 1, tx.ssub)
            t_rest = _mono() - t0
            t0 = _mono()
            for i in range(count):
                S.poly1305(mac, src + i * wire + 32, 1 + size, block)
            t_poly = _mono() - t0
            t0 = _mono()
            for i in range(count):
                S.poly1305_verify(mac, src + i * wire + 32, 1 + size, block)
            t_verify = _mono() - t0
    finally:
        free(out)
        free(scratch)
    if bad:
        raise RuntimeError("a frame sealed by the codec did not open (or out of memory)")
    scale = 1e9 / count
    return {
        "seal": t_seal * scale,
        "open": t_open * scale,
        "salsa20_block0": t_block * scale,
        "salsa20_rest": t_rest * scale,
        "poly1305": t_poly * scale,
        "poly1305_verify": t_verify * scale,
    }


def _body_of(bytes frame):
    return frame[2:] if frame[0] == 0 else frame[9:]

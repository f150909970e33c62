# CURVE data phase (RFC 25 "MESSAGE command", RFC 26 nonces): keys, nonce counters, staging
# buffers and libsodium entry points for one connection's engine (theory in _curve.pyx).

from libc.stdint cimport uint64_t

ctypedef int (*box_fn)(unsigned char* out, const unsigned char* inp, unsigned long long n,
                       const unsigned char* nonce, const unsigned char* key) noexcept nogil

cdef enum:
    CURVE_OVERHEAD = 33         # "\x07MESSAGE"(8) + short nonce(8) + MAC(16) + flags(1)
    CURVE_ERR_FRAME = -20       # a traffic frame that is not a well-formed MESSAGE command
    CURVE_ERR_NONCE = -21       # a short nonce not above the last one accepted (replay)
    CURVE_ERR_CRYPTO = -22      # the box does not open (forged or corrupted)
    CURVE_ERR_FLAGS = -23       # reserved bits in the boxed flags byte


cdef class CurveCodec:
    cdef unsigned char key[32]          # crypto_box_beforenm of the short-term keys
    cdef unsigned char snonce[24]       # our label + counter
    cdef unsigned char rnonce[24]       # the peer's label + counter
    cdef uint64_t send_n                # the next short nonce we send
    cdef uint64_t recv_n                # the last short nonce accepted from the peer
    cdef unsigned char ssub[32]         # HSalsa20(key, our label): XSalsa20's subkey
    cdef unsigned char rsub[32]         # HSalsa20(key, the peer's label)
    cdef bint fast                      # libsodium's primitives with the subkeys (else the
                                        # crypto_box_*_easy_afternm calls)
    # outbound: [ooff, olen) sealed wire bytes not yet sent
    cdef unsigned char* obuf
    cdef size_t ocap, olen, ooff
    # inbound: [ioff, ilen) wire bytes received, not yet opened
    cdef unsigned char* ibuf
    cdef size_t icap, ilen, ioff
    cdef unsigned char* _last_box       # the frame begin_frame prepared (MAC slot)
    cdef size_t _last_len
    cdef unsigned char* scratch         # plaintext of a frame that does not fit the ring's chunk
    cdef size_t scap

    # Append one sealed MESSAGE wire frame for a plaintext frame of `size` body bytes with
    # `flags` (1 MORE, 2 COMMAND); returns a pointer where the caller copies the body (then
    # calls seal_last), or NULL on out of memory.
    cdef unsigned char* begin_frame(self, size_t size, int flags) noexcept nogil
    cdef void seal_last(self) noexcept nogil
    # The same with the body read from `body` (its size as given to begin_frame), not copied
    # to the returned pointer first.
    cdef void seal_last_from(self, const unsigned char* body) noexcept nogil
    cdef int ensure_in(self, size_t need) noexcept nogil
    cdef unsigned char* get_scratch(self, size_t need) noexcept nogil
    # Open one MESSAGE body (after its wire header) into out[0 .. 1 + n) (flags byte first).
    cdef int open_into(self, const unsigned char* body, size_t size, unsigned char* out) noexcept nogil
    # The same in two steps, for a plaintext that goes to several places (a frame across ring
    # chunks), with the primitives only (fast): open_check -> flags byte or CURVE_ERR_*, then
    # open_range for plaintext bytes [start, start + k) (start >= 1: after the flags byte).
    cdef int open_check(self, const unsigned char* body, size_t size) noexcept nogil
    cdef void open_range(self, unsigned char* out, const unsigned char* body, size_t start,
                         size_t k) noexcept nogil

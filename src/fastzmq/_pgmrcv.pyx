# cython: language_level=3, boundscheck=False, wraparound=False
"""A PGM receiver's in-order data path, in C, inside the I/O thread's nogil dispatch.

The receiver's engine (``_io.pyx``) reads from ``_recv`` (``Engine.set_recv``) instead
of ``recv``: it reads the PGM datagrams from the network socket (``recvmmsg``), verifies
each checksum and, for ODATA/RDATA of a source in the *fast* table that carries exactly
the next sequence number (nothing missing, nothing held), re-encodes libzmq's ZMTP 1.0
frames of the TSDU as ZMTP 3 frames of whole messages (``Decoder``) for the engine,
which scans them into the pipe's inbound ring as from a tcp peer. No GIL, no socketpair.

Everything else (SPMs, NCFs, a gap, a duplicate, a packet with options, a new source...)
is copied to a queue for Python (``take``; an eventfd tells the I/O thread), and its
source leaves the table, so its later packets queue behind it in order. While a gap
waits for repair, a source can be handed over *holding*: its new data just past the
highest packet known is kept here in order (as the Python Receiver would hold it), and
repairs or duplicates of older packets are queued without ending that. Python
(``_pgm_transport.py``, the sans-I/O ``_pgm.Receiver``) reads back the table's state
(``pull``: next, lead, trail, heard, messages delivered, held data), handles the queue (NAKs,
repairs, loss, joins), appends what it delivers (``deliver``) and hands the in-order
sources back (``push``). Each source's ``Decoder`` is shared by both sides, so a message
cut across the hand-over is reassembled either way.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.errno cimport EAGAIN, EINTR, errno
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove, memset
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from fastzmq._pgmnet cimport be64, c_write, iovec, sockaddr_in, socklen_t


cdef extern from "<sys/socket.h>" nogil:
    struct msghdr:
        void* msg_name
        socklen_t msg_namelen
        iovec* msg_iov
        size_t msg_iovlen
        void* msg_control
        size_t msg_controllen
        int msg_flags

    struct mmsghdr:
        msghdr msg_hdr
        unsigned int msg_len

    int recvmmsg(int fd, mmsghdr* vec, unsigned int vlen, int flags, void* timeout)
    int MSG_DONTWAIT
    int MSG_TRUNC


cdef extern from *:
    """
    #include <errno.h>
    static inline void fz_rcv_set_errno(int e) { errno = e; }
    """
    void fz_set_errno "fz_rcv_set_errno"(int e) noexcept nogil


cdef enum:
    ODATA = 4
    RDATA = 5
    HDR = 24            # PGM header (16) + ODATA's sqn and trail (8)
    VLEN = 16           # datagrams per recvmmsg
    SLOT = 65536        # bytes per datagram slot
    MAXSRC = 16         # sources in the fast table
    SLOW_YIELD = 1024   # packets queued for Python before the hook lets it run
    NO_START = 0xFFFF


ctypedef struct gbuf:
    unsigned char* p
    size_t len
    size_t cap
    size_t off          # (out) bytes already taken by the engine


ctypedef struct dec_t:
    bint joined
    long long maxmsgsize
    gbuf buf            # ZMTP 1.0 bytes of a frame not complete yet
    gbuf cur            # ZMTP 3 bytes of a message not complete yet


cdef enum:
    M_PYTHON = 0        # Python has the source: its packets queue for Python
    M_FAST = 1          # in order: the next packet is decoded here
    M_HOLD = 2          # a gap waits for repair (Python's NAKs): new data just past the
                        # highest known packet is held here, in order, for Python


ctypedef struct rsrc_t:
    unsigned char tsi[8]  # GSI (6) and source port (2), as on the wire
    int mode
    uint32_t next       # the next packet to hand on (M_HOLD: the gap's first)
    uint32_t lead       # the highest packet known (M_FAST: next - 1)
    uint32_t trail
    uint32_t sqns       # the receive window (packets)
    double heard
    uint64_t delivered  # messages, since the last pull
    uint32_t ip         # the last datagram's source address (network order)
    dec_t* dec
    gbuf held           # M_HOLD: TSDUs lead+1... as records of u32 length and bytes
    uint32_t nheld


ctypedef struct rx_t:
    int fd
    int notify_fd
    bint raw
    bint check_group
    unsigned char group4[4]
    unsigned int dport
    gbuf out            # ZMTP 3 bytes of whole messages, for the engine
    gbuf slow           # queued for Python: records of u32 length, u32 address, packet
    size_t slow_max
    int slow_count      # packets queued since Python's last take
    int nsrc
    rsrc_t src[MAXSRC]
    mmsghdr* mm
    iovec* iov
    sockaddr_in* names
    unsigned char* bufs
    uint64_t fast_packets, held_packets, slow_packets, slow_dropped, bad_checksums
    uint64_t delivered


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef inline uint32_t _be32(const unsigned char* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef inline bint _seq_lt(uint32_t a, uint32_t b) noexcept nogil:
    """a before b in serial arithmetic (as _pgm.seq_lt)."""
    return a != b and <uint32_t>(b - a) < 0x80000000u


cdef bint _csum_ok(const unsigned char* d, size_t n) noexcept nogil:
    """The packet's checksum (bytes 6-7, 0: none) is right (_pgm.parse's check)."""
    cdef uint32_t want = (<uint32_t>d[6] << 8) | d[7]
    cdef uint64_t s = 0
    cdef size_t i
    if want == 0:
        return True
    for i in range(0, n - 1 if n else 0, 2):
        s += (<uint32_t>d[i] << 8) | d[i + 1]
    if n & 1:
        s += <uint32_t>d[n - 1] << 8
    s -= want  # the field read as zero
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    s = (~s) & 0xFFFF
    if s == 0:
        s = 0xFFFF
    return s == want


cdef int _reserve(gbuf* b, size_t extra) noexcept nogil:
    cdef size_t cap
    cdef unsigned char* p
    if b.len + extra <= b.cap:
        return 0
    cap = b.cap * 2 if b.cap else 4096
    while cap < b.len + extra:
        cap *= 2
    p = <unsigned char*>realloc(b.p, cap)
    if p == NULL:
        return -1
    b.p = p
    b.cap = cap
    return 0


cdef inline int _append(gbuf* b, const unsigned char* d, size_t n) noexcept nogil:
    if _reserve(b, n) < 0:
        return -1
    memcpy(b.p + b.len, d, n)
    b.len += n
    return 0


cdef void _dec_reset(dec_t* d) noexcept nogil:
    """Data was lost: forget the partial message (_pgm.Decoder.reset)."""
    d.joined = False
    d.buf.len = 0
    d.cur.len = 0


cdef int _feed(dec_t* d, const unsigned char* t, size_t n, gbuf* out) noexcept nogil:
    """One in-order TSDU: the ZMTP 3 bytes of the messages it completes go to out.
    Returns how many, or < 0 (-1: a zero-length frame, -2: over MAXMSGSIZE, -3: no
    offset, -4: out of memory) with out as it was: the caller resets the decoder (as
    _pgm.Receiver does on PgmError)."""
    cdef size_t off, slen, p = 0, h, size, start = out.len
    cdef const unsigned char* src
    cdef uint64_t fl
    cdef int more, count = 0, i
    cdef bint from_buf
    if n < 2:
        return -3
    off = (<size_t>t[0] << 8) | t[1]
    if not d.joined:
        if off == NO_START or off >= n - 2:
            return 0  # no message starts here: wait for one
        src = t + 2 + off
        slen = n - 2 - off
        d.joined = True
    else:
        src = t + 2
        slen = n - 2
    from_buf = d.buf.len != 0
    if from_buf:  # a frame was cut across packets: go on from the held bytes
        if _append(&d.buf, src, slen) < 0:
            return -4
        src = d.buf.p
        slen = d.buf.len
    while p < slen:
        fl = src[p]
        h = 1
        if fl == 0xFF:
            if slen - p < 9:
                break
            fl = be64(src + p + 1)
            h = 9
        if fl == 0:
            out.len = start
            return -1
        if d.maxmsgsize >= 0 and fl - 1 > <uint64_t>d.maxmsgsize:
            out.len = start
            return -2
        if fl > <uint64_t>(slen - p - h):
            break
        more = src[p + h] & 1
        size = <size_t>fl - 1
        if _reserve(&d.cur, size + 9) < 0:
            out.len = start
            return -4
        if size < 256:
            d.cur.p[d.cur.len] = more
            d.cur.p[d.cur.len + 1] = <unsigned char>size
            d.cur.len += 2
        else:
            d.cur.p[d.cur.len] = more | 2
            for i in range(8):
                d.cur.p[d.cur.len + 1 + i] = (<uint64_t>size >> (56 - 8 * i)) & 0xFF
            d.cur.len += 9
        memcpy(d.cur.p + d.cur.len, src + p + h + 1, size)
        d.cur.len += size
        p += h + <size_t>fl
        if not more:
            if _append(out, d.cur.p, d.cur.len) < 0:
                out.len = start
                return -4
            d.cur.len = 0
            count += 1
    if from_buf:
        memmove(d.buf.p, d.buf.p + p, d.buf.len - p)
        d.buf.len -= p
    elif p < slen and _append(&d.buf, src + p, slen - p) < 0:
        out.len = start
        return -4
    return count


cdef rsrc_t* _find(rx_t* r, const unsigned char* d) noexcept nogil:
    """The table's entry of the packet's source (GSI at 8, source port at 0), or NULL."""
    cdef int i
    cdef rsrc_t* s
    for i in range(r.nsrc):
        s = &r.src[i]
        if memcmp(s.tsi, d + 8, 6) == 0 and s.tsi[6] == d[0] and s.tsi[7] == d[1]:
            return s
    return NULL


cdef inline void _len32(unsigned char* rec, uint32_t n) noexcept nogil:
    memcpy(rec, &n, 4)


cdef void _packet(rx_t* r, unsigned char* d, size_t n, uint32_t ip, double now) noexcept nogil:
    cdef size_t hl
    cdef rsrc_t* s
    cdef uint32_t sqn, trail, tlen, u
    cdef int c
    cdef unsigned char rec[8]
    cdef uint64_t one = 1
    if r.raw:  # the IP header first (raw sockets); only our group's
        if n < 20:
            return
        hl = (d[0] & 0x0F) * 4
        if hl > n:
            return
        if r.check_group and memcmp(d + 16, r.group4, 4) != 0:
            return
        d += hl
        n -= hl
    if n < 16:
        return  # (not PGM: _pgm.parse would refuse it)
    if ((<unsigned int>d[2] << 8) | d[3]) != r.dport:
        return  # another data-destination port: the Receiver ignores it
    if not _csum_ok(d, n):
        r.bad_checksums += 1
        return
    s = _find(r, d)
    if (s != NULL and s.mode != M_PYTHON and (d[4] == ODATA or d[4] == RDATA) and d[5] == 0
            and n >= HDR):
        sqn = _be32(d + 16)
        trail = _be32(d + 20)
        tlen = (<uint32_t>d[14] << 8) | d[15]
        if tlen == n - HDR and sqn == s.lead + 1:
            if s.mode == M_FAST and not _seq_lt(sqn + 1, trail):
                s.heard = now
                s.ip = ip
                if _seq_lt(s.trail, trail):
                    s.trail = trail
                s.next = sqn + 1
                s.lead = sqn
                c = _feed(s.dec, d + HDR, tlen, &r.out)
                if c < 0:
                    _dec_reset(s.dec)
                else:
                    s.delivered += <uint64_t>c
                    r.delivered += <uint64_t>c
                r.fast_packets += 1
                return
            # M_HOLD: what the Python Receiver would do with it (held, no NAK, lead
            # moves) unless the trail passed the gap or it lies beyond the window
            if (s.mode == M_HOLD and not _seq_lt(s.next, trail)
                    and <uint32_t>(sqn - s.next) < s.sqns
                    and s.held.len + tlen + 4 <= r.slow_max):
                u = tlen
                if _append(&s.held, <unsigned char*>&u, 4) == 0:
                    if _append(&s.held, d + HDR, tlen) == 0:
                        s.heard = now
                        s.ip = ip
                        if _seq_lt(s.trail, trail):
                            s.trail = trail
                        s.lead = sqn
                        s.nheld += 1
                        r.held_packets += 1
                        return
                    s.held.len -= 4
        elif (s.mode == M_HOLD and tlen == n - HDR and _seq_lt(sqn, s.lead + 1)
                and not _seq_lt(s.next, trail)):
            # a repair (or a duplicate) of what is not past lead: Python's, but the
            # source keeps holding (Python takes the held data first: the same result)
            s = NULL
    if s != NULL:
        s.mode = M_PYTHON  # Python has it now: its later packets queue behind this one
    if r.slow.len + n + 8 > r.slow_max:
        r.slow_dropped += 1  # Python is far behind: like a loss on the wire (NAKed)
        return
    if r.slow.len == 0 and r.notify_fd >= 0:
        c_write(r.notify_fd, &one, 8)  # Python's turn (the I/O thread's slow path)
    _len32(rec, <uint32_t>n)
    memcpy(rec + 4, &ip, 4)
    if _append(&r.slow, rec, 8) < 0 or _append(&r.slow, d, n) < 0:
        r.slow_dropped += 1
        return
    r.slow_packets += 1
    r.slow_count += 1


cdef ssize_t _recv(void* ctx, unsigned char* buf, size_t n) noexcept nogil:
    """The engine's recv(): ZMTP 3 bytes of whole messages, or -1 with EAGAIN once the
    network socket has nothing more (what it read for Python is queued meanwhile)."""
    cdef rx_t* r = <rx_t*>ctx
    cdef size_t avail, k
    cdef int got, i
    cdef double now
    while True:
        avail = r.out.len - r.out.off
        if avail:
            k = avail if avail < n else n
            memcpy(buf, r.out.p + r.out.off, k)
            r.out.off += k
            if r.out.off == r.out.len:
                r.out.off = r.out.len = 0
            return <ssize_t>k
        if r.fd < 0 or r.slow_count >= SLOW_YIELD:
            # (Python's turn: it takes the queue, then pumps the engine again)
            fz_set_errno(EAGAIN)
            return -1
        for i in range(VLEN):
            r.mm[i].msg_hdr.msg_namelen = sizeof(sockaddr_in)
            r.mm[i].msg_hdr.msg_flags = 0
        got = recvmmsg(r.fd, r.mm, VLEN, MSG_DONTWAIT, NULL)
        if got < 0:
            if errno == EINTR:
                continue
            fz_set_errno(EAGAIN)  # (EAGAIN, or an error the next datagram meets again)
            return -1
        if got == 0:
            fz_set_errno(EAGAIN)
            return -1
        now = _now()
        for i in range(got):
            if r.mm[i].msg_hdr.msg_flags & MSG_TRUNC:
                continue  # larger than any PGM packet we take
            _packet(r, r.bufs + <size_t>i * SLOT, r.mm[i].msg_len,
                    r.names[i].sin_addr.s_addr, now)


cdef ssize_t _discard(void* ctx, iovec* iov, int cnt) noexcept nogil:
    """The engine's outbound bytes (the SUB's subscriptions): PGM carries none."""
    cdef ssize_t total = 0
    cdef int i
    for i in range(cnt):
        total += <ssize_t>iov[i].iov_len
    return total


cdef class Decoder:
    """libzmq's ZMTP 1.0 frames out of one source's in-order TSDUs, as ZMTP 3 bytes of
    whole messages (``_pgm.Decoder.feed_v3``'s contract), shared by the C path and the
    Python ``Receiver`` (``Receiver(make_decoder=Decoder)``)."""

    cdef dec_t* d

    def __cinit__(self, long long maxmsgsize=-1):
        self.d = <dec_t*>malloc(sizeof(dec_t))
        if self.d == NULL:
            raise MemoryError()
        memset(self.d, 0, sizeof(dec_t))
        self.d.maxmsgsize = maxmsgsize

    def __dealloc__(self):
        if self.d != NULL:
            free(self.d.buf.p)
            free(self.d.cur.p)
            free(self.d)

    @property
    def joined(self):
        return self.d.joined

    @property
    def maxmsgsize(self):
        return self.d.maxmsgsize

    def reset(self):
        """Data was lost: forget the partial message; returns 1 if there was one."""
        dropped = 1 if (self.d.buf.len or self.d.cur.len) else 0
        _dec_reset(self.d)
        return dropped

    def feed_v3(self, bytes tsdu):
        """(ZMTP 3 bytes of the messages this TSDU completes, how many); raises
        _pgm.PgmError as _pgm.Decoder does (the caller resets)."""
        cdef gbuf out
        cdef int c
        memset(&out, 0, sizeof(out))
        c = _feed(self.d, <const unsigned char*>PyBytes_AS_STRING(tsdu),
                  <size_t>PyBytes_GET_SIZE(tsdu), &out)
        try:
            if c < 0:
                from fastzmq._pgm import PgmError

                if c == -4:
                    raise MemoryError()
                raise PgmError(
                    ("zero-length ZMTP 1.0 frame", "frame larger than MAXMSGSIZE",
                     "TSDU shorter than libzmq's offset")[-c - 1]
                )
            return PyBytes_FromStringAndSize(<char*>out.p, out.len) if out.len else b"", c
        finally:
            free(out.p)


cdef class Receiver:
    """The C state of one PGM receiver endpoint (see the module docstring)."""

    cdef rx_t r
    cdef list decs  # the fast table's Decoders (kept alive while it points at them)

    def __cinit__(self, int fd, bint raw, bytes group4, unsigned int dport, int notify_fd,
                  size_t slow_max=8 << 20):
        cdef int i
        memset(&self.r, 0, sizeof(rx_t))
        self.decs = []
        self.r.fd = fd
        self.r.notify_fd = notify_fd
        self.r.raw = raw
        self.r.dport = dport
        self.r.slow_max = slow_max
        if raw and len(group4) == 4:
            self.r.check_group = True
            memcpy(self.r.group4, PyBytes_AS_STRING(group4), 4)
        self.r.mm = <mmsghdr*>malloc(VLEN * sizeof(mmsghdr))
        self.r.iov = <iovec*>malloc(VLEN * sizeof(iovec))
        self.r.names = <sockaddr_in*>malloc(VLEN * sizeof(sockaddr_in))
        self.r.bufs = <unsigned char*>malloc(<size_t>VLEN * SLOT)
        if (self.r.mm == NULL or self.r.iov == NULL or self.r.names == NULL
                or self.r.bufs == NULL):
            raise MemoryError()
        memset(self.r.mm, 0, VLEN * sizeof(mmsghdr))
        for i in range(VLEN):
            self.r.iov[i].iov_base = self.r.bufs + <size_t>i * SLOT
            self.r.iov[i].iov_len = SLOT
            self.r.mm[i].msg_hdr.msg_iov = &self.r.iov[i]
            self.r.mm[i].msg_hdr.msg_iovlen = 1
            self.r.mm[i].msg_hdr.msg_name = &self.r.names[i]

    def __dealloc__(self):
        cdef int i
        for i in range(MAXSRC):
            free(self.r.src[i].held.p)
        free(self.r.mm)
        free(self.r.iov)
        free(self.r.names)
        free(self.r.bufs)
        free(self.r.out.p)
        free(self.r.slow.p)

    @property
    def hook(self):
        """(recv_fn, ctx) addresses for ``Engine.set_recv``."""
        return <size_t>&_recv, <size_t>&self.r

    @property
    def discard(self):
        """(xmit_fn, ctx) addresses for ``Engine.set_xmit``: outbound bytes dropped."""
        return <size_t>&_discard, <size_t>&self.r

    def close(self):
        """The endpoint is closing: no more reads of its fd."""
        self.r.fd = -1
        self.r.notify_fd = -1

    def read(self, size_t n=65536):
        """Call the hook as the engine does (tests): bytes, or None (EAGAIN)."""
        buf = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>n)
        cdef ssize_t k = _recv(&self.r, <unsigned char*>PyBytes_AS_STRING(buf), n)
        if k < 0:
            return None
        return buf[:k]

    def take(self):
        """The packets queued for Python, in order: a list of (packet, source IPv4 text)."""
        cdef list out = []
        cdef size_t p = 0
        cdef uint32_t n
        cdef unsigned char* a
        while p + 8 <= self.r.slow.len:
            memcpy(&n, self.r.slow.p + p, 4)
            a = self.r.slow.p + p + 4
            out.append((PyBytes_FromStringAndSize(<char*>self.r.slow.p + p + 8, n),
                        f"{a[0]}.{a[1]}.{a[2]}.{a[3]}"))
            p += 8 + n
        self.r.slow.len = 0
        self.r.slow_count = 0
        return out

    def deliver(self, bytes data):
        """ZMTP 3 bytes of whole messages (the Python Receiver's) for the engine, after
        what the C path has ready."""
        if _append(&self.r.out, <const unsigned char*>PyBytes_AS_STRING(data),
                   <size_t>PyBytes_GET_SIZE(data)) < 0:
            raise MemoryError()

    @property
    def pending(self):
        """Bytes waiting for the engine."""
        return self.r.out.len - self.r.out.off

    def pull(self):
        """Python takes over every source of the table: a list of (gsi, sport, next,
        lead, trail, heard, messages delivered since the last pull, source IPv4 text,
        the TSDUs held since (lead - len + 1 ... lead)); the table is emptied (``push``
        refills it)."""
        cdef list out = []
        cdef int i
        cdef uint32_t k
        cdef size_t p
        cdef rsrc_t* s
        for i in range(self.r.nsrc):
            s = &self.r.src[i]
            a = <unsigned char*>&s.ip
            held = []
            p = 0
            for _ in range(s.nheld):
                memcpy(&k, s.held.p + p, 4)
                held.append(PyBytes_FromStringAndSize(<char*>s.held.p + p + 4, k))
                p += 4 + k
            s.held.len = 0
            s.nheld = 0
            out.append((
                PyBytes_FromStringAndSize(<char*>s.tsi, 6), (s.tsi[6] << 8) | s.tsi[7],
                s.next, s.lead, s.trail, s.heard, s.delivered,
                f"{a[0]}.{a[1]}.{a[2]}.{a[3]}" if s.ip else "", held,
            ))
        self.r.nsrc = 0
        self.decs = []
        return out

    def push(self, list sources):
        """The sources the C path takes next: (gsi, sport, Decoder, next, lead, trail,
        window, hold) each; hold False: in order, nothing missing or held (next is
        lead + 1); True: a gap at next waits for repair, new data past lead is held
        (up to 16 sources; the rest stay Python's)."""
        cdef rsrc_t* s
        cdef Decoder dec
        cdef gbuf keep
        self.r.nsrc = 0
        self.decs = []
        for gsi, sport, dec, nxt, lead, trail, sqns, hold in sources[:MAXSRC]:
            if len(gsi) != 6:
                raise ValueError("gsi: 6 bytes")
            s = &self.r.src[self.r.nsrc]
            keep = s.held  # (its buffer is reused)
            memset(s, 0, sizeof(rsrc_t))
            s.held.p = keep.p
            s.held.cap = keep.cap
            memcpy(s.tsi, PyBytes_AS_STRING(gsi), 6)
            s.tsi[6] = (sport >> 8) & 0xFF
            s.tsi[7] = sport & 0xFF
            s.mode = M_HOLD if hold else M_FAST
            s.next, s.lead, s.trail, s.sqns = nxt, lead, trail, sqns
            s.dec = dec.d
            self.decs.append(dec)
            self.r.nsrc += 1

    @property
    def modes(self):
        """Each table entry's mode (tests): 1 in order, 2 holding, 0 Python's."""
        return [self.r.src[i].mode for i in range(self.r.nsrc)]

    def stats(self):
        return {
            "fast_packets": self.r.fast_packets,
            "held_packets": self.r.held_packets,
            "slow_packets": self.r.slow_packets,
            "slow_dropped": self.r.slow_dropped,
            "bad_checksums": self.r.bad_checksums,
        }

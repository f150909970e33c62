# cython: language_level=3, boundscheck=False, wraparound=False
"""A PGM source's steady-state send, in C, inside the I/O thread's nogil dispatch.

The source's engine (``_io.pyx``) hands its gathered outbound bytes (ZMTP 3 frames
from the pipe's ring, bodies sent by reference included) to ``_xmit`` instead of
``sendmsg``: it re-encodes them as libzmq's ZMTP 1.0 framing into TSDUs (the 2-byte
offset of the first message start), builds each ODATA header and checksum in place in
the transmit window (a C ring of packets), ``sendto``s it and paces at RATE. No GIL,
no socketpair. When RATE stops it, it returns EAGAIN and arms a timerfd registered on
the engine's slot; the engine's next pump (that fd's event) goes on.

Python (``_pgm_transport.py``, ``_pgm.Sender``) keeps what is rare: SPMs, NAKs, NCFs
and RDATA. It reads the window through ``lead``, ``trail``, ``get(sqn)``; while repairs
wait it sets ``hold`` (RDATA goes before new ODATA) and shares the pacing clock
(``t_next``). Data after a quiet spell writes the ``notify_fd`` eventfd once (when
``want_notify`` is set), so the heartbeat SPM series restarts (``Sender.data_sent``).
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.errno cimport EAGAIN, EINTR, errno
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from fastzmq._pgmnet cimport (
    AF_INET,
    MSG_DONTWAIT,
    c_read,
    c_sendto,
    c_write,
    htons,
    iovec,
    sockaddr,
    sockaddr_in,
)


cdef extern from "<sys/eventfd.h>" nogil:
    int c_eventfd "eventfd"(unsigned int initval, int flags)
    int EFD_NONBLOCK
    int EFD_CLOEXEC


cdef extern from "<sys/timerfd.h>" nogil:
    struct itimerspec:
        timespec it_interval
        timespec it_value

    int timerfd_create(int clockid, int flags)
    int timerfd_settime(int fd, int flags, const itimerspec* new, itimerspec* old)
    int TFD_NONBLOCK
    int TFD_CLOEXEC


cdef extern from *:
    """
    #include <errno.h>
    static inline void fz_set_errno(int e) { errno = e; }
    """
    void fz_set_errno(int e) noexcept nogil  # (an assignment to errno would make a local)


cdef enum:
    HDR = 24            # PGM header (16) + ODATA's sqn and trail (8)
    ODATA = 4
    NO_START = 0xFFFF

ctypedef ssize_t (*xmit_fn)(void* ctx, iovec* iov, int cnt) noexcept nogil


ctypedef struct src_t:
    int fd                  # the datagram socket (UDP or raw PGM)
    int timer_fd            # pacing wake-up (registered on the engine's slot)
    int notify_fd           # eventfd: data went out after a quiet spell (Python's SPMs)
    sockaddr_in sa
    unsigned char hdr[16]   # the PGM header template: ports, type, GSI
    size_t cap              # TSDU bytes per packet (the 2-byte offset included)
    uint64_t sqns           # window size (packets)
    unsigned char** win     # window slots (packets, HDR + TSDU), allocated on first use
    uint32_t* wlen          # TSDU bytes of each slot's packet
    uint64_t seq            # packets sent (the next one's index)
    uint64_t count          # packets held in the window
    uint32_t lead, trail    # as on the wire (32-bit)
    double rate             # bytes per second
    double t_next           # pacing: when the next packet may go
    double timer_at         # the timerfd's deadline (0: disarmed)
    bint hold               # Python has repairs queued: no ODATA now
    bint want_notify
    uint64_t odata, refused, paced
    uint64_t odata_bytes    # PGM bytes of the ODATA sent (headers included)
    # the packet being filled (lives in its window slot)
    unsigned char* cur
    size_t plen             # TSDU bytes in cur (2 = empty: the offset only)
    int pstart              # offset (in the TSDU) of the first message start, -1: none
    # ZMTP 3 input state
    unsigned char h3[9]
    int h3n                 # header bytes collected (0: between frames)
    uint64_t body_left      # body bytes of the current frame still to come
    bint in_body
    bint skip               # the current frame is a command: dropped
    bint more               # the current frame has MORE
    bint at_start           # the next frame starts a message
    double now


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef inline uint32_t _csum(const unsigned char* d, size_t n) noexcept nogil:
    """The Internet checksum (RFC 1071), big-endian words, an odd tail padded."""
    cdef uint64_t s = 0
    cdef size_t i
    for i in range(0, n - 1 if n else 0, 2):
        s += (<uint32_t>d[i] << 8) | d[i + 1]
    if n & 1:
        s += <uint32_t>d[n - 1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


cdef inline void _be32(unsigned char* p, uint32_t v) noexcept nogil:
    p[0] = (v >> 24) & 0xFF
    p[1] = (v >> 16) & 0xFF
    p[2] = (v >> 8) & 0xFF
    p[3] = v & 0xFF


cdef int _begin(src_t* s) noexcept nogil:
    """Start the next packet in its window slot (the oldest one's, once full)."""
    cdef uint64_t idx = s.seq % s.sqns
    if s.win[idx] == NULL:
        s.win[idx] = <unsigned char*>malloc(HDR + s.cap)
        if s.win[idx] == NULL:
            return -1
    s.cur = s.win[idx]
    s.plen = 2
    s.pstart = -1
    return 0


cdef void _send_packet(src_t* s) noexcept nogil:
    cdef unsigned char* p = s.cur
    cdef uint64_t idx = s.seq % s.sqns
    cdef uint32_t tsdu = <uint32_t>s.plen
    cdef uint32_t c
    cdef uint64_t one = 1
    cdef ssize_t rc
    s.lead = <uint32_t>s.seq  # (32-bit wrap)
    s.seq += 1
    if s.count < s.sqns:
        s.count += 1
    else:
        s.trail += 1
    memcpy(p, s.hdr, 16)
    p[14] = (tsdu >> 8) & 0xFF
    p[15] = tsdu & 0xFF
    _be32(p + 16, s.lead)
    _be32(p + 20, s.trail)
    c = NO_START if s.pstart < 0 else <uint32_t>s.pstart - 2
    p[HDR] = (c >> 8) & 0xFF
    p[HDR + 1] = c & 0xFF
    c = _csum(p, HDR + tsdu)
    if c == 0:
        c = 0xFFFF
    p[6] = (c >> 8) & 0xFF
    p[7] = c & 0xFF
    s.wlen[idx] = tsdu
    while True:
        rc = c_sendto(s.fd, p, HDR + tsdu, MSG_DONTWAIT, <sockaddr*>&s.sa, sizeof(s.sa))
        if rc >= 0 or errno != EINTR:
            break
    if rc < 0:
        s.refused += 1  # a full queue, no route: like a loss on the wire, NAKs repair it
    s.odata += 1
    s.odata_bytes += HDR + tsdu
    if s.t_next < s.now - 0.01:
        s.t_next = s.now - 0.01
    s.t_next += (HDR + tsdu + 28) / s.rate
    s.cur = NULL
    if s.want_notify:
        s.want_notify = False
        c_write(s.notify_fd, &one, 8)


cdef int _put(src_t* s, const unsigned char* d, size_t n, bint start) noexcept nogil:
    """Append re-encoded bytes (a full packet goes at once); start: they begin a
    message (the packet's offset field)."""
    cdef size_t k
    while n:
        if s.cur == NULL and _begin(s) < 0:
            return -1
        if start:
            if s.pstart < 0:
                s.pstart = <int>s.plen
            start = False
        k = s.cap - s.plen
        if k > n:
            k = n
        memcpy(s.cur + HDR + s.plen, d, k)
        s.plen += k
        d += k
        n -= k
        if s.plen == s.cap:
            _send_packet(s)
    return 0


cdef int _header_done(src_t* s) noexcept nogil:
    """A ZMTP 3 frame header is complete: its ZMTP 1.0 header goes out."""
    cdef unsigned char v1[10]
    cdef uint64_t n = 0, size
    cdef int i, flags = s.h3[0]
    if flags & 2:
        for i in range(8):
            n = (n << 8) | s.h3[1 + i]
    else:
        n = s.h3[1]
    s.h3n = 0
    s.body_left = n
    s.in_body = True
    s.skip = (flags & 4) != 0
    if s.skip:
        return 0  # a command: nothing for PGM
    s.more = flags & 1
    size = n + 1
    if size < 255:
        v1[0] = <unsigned char>size
        v1[1] = flags & 1
        i = 2
    else:
        v1[0] = 0xFF
        for i in range(8):
            v1[1 + i] = (size >> (56 - 8 * i)) & 0xFF
        v1[9] = flags & 1
        i = 10
    if _put(s, v1, i, s.at_start) < 0:
        return -1
    s.at_start = False
    return 0


cdef inline void _frame_done(src_t* s) noexcept nogil:
    s.in_body = False
    if not s.skip and not s.more:
        s.at_start = True


cdef void _arm_timer(src_t* s) noexcept nogil:
    cdef itimerspec its
    cdef double d = s.t_next - s.now - 0.001
    if s.timer_at > 0 and s.timer_at <= s.t_next:
        return
    if d < 0.0002:
        d = 0.0002
    memset(&its, 0, sizeof(its))
    its.it_value.tv_sec = <long>d
    its.it_value.tv_nsec = <long>((d - <long>d) * 1e9)
    if timerfd_settime(s.timer_fd, 0, &its, NULL) == 0:
        s.timer_at = s.now + d


cdef void _disarm(src_t* s) noexcept nogil:
    cdef itimerspec its
    memset(&its, 0, sizeof(its))
    timerfd_settime(s.timer_fd, 0, &its, NULL)


cdef ssize_t _xmit(void* ctx, iovec* iov, int cnt) noexcept nogil:
    """The engine's outbound bytes: take what RATE allows (whole input is accepted up to
    the point pacing stops a new packet); -1/EAGAIN when nothing could go."""
    cdef src_t* s = <src_t*>ctx
    cdef ssize_t taken = 0
    cdef const unsigned char* d
    cdef size_t left, k, room
    cdef int i
    cdef uint64_t junk
    s.now = _now()
    if s.timer_at > 0 and s.now >= s.timer_at:
        # clear it (level-triggered pollers), disarmed if it has not fired yet
        if c_read(s.timer_fd, &junk, 8) < 0:
            _disarm(s)
        s.timer_at = 0
    for i in range(cnt):
        d = <const unsigned char*>iov[i].iov_base
        left = iov[i].iov_len
        while left:
            if s.hold or (s.cur == NULL and s.t_next > s.now + 0.002):
                s.paced += 1
                if taken == 0:
                    if not s.hold:
                        _arm_timer(s)
                    fz_set_errno(EAGAIN)
                    return -1
                return taken  # the engine asks again: then EAGAIN, and the timer
            if s.in_body:
                k = left if left < s.body_left else <size_t>s.body_left
                if not s.skip:  # at most to the packet's end: pacing looks at each one
                    room = s.cap - (s.plen if s.cur != NULL else 2)
                    if k > room:
                        k = room
                if not s.skip and k and _put(s, d, k, False) < 0:
                    break
                s.body_left -= k
                d += k
                left -= k
                taken += k
                if s.body_left == 0:
                    _frame_done(s)
                continue
            s.h3[s.h3n] = d[0]
            s.h3n += 1
            d += 1
            left -= 1
            taken += 1
            if s.h3n == (9 if s.h3[0] & 2 else 2):
                if _header_done(s) < 0:
                    break
                if s.body_left == 0:
                    _frame_done(s)
    if s.cur != NULL:
        _send_packet(s)  # the input ran out: what is there goes now
    if taken == 0:
        fz_set_errno(12)  # ENOMEM (a window slot could not be allocated)
        return -1
    return taken


def timer_fd():
    """A new non-blocking CLOCK_MONOTONIC timerfd (for ``Source``'s pacing)."""
    cdef int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
    if fd < 0:
        raise OSError(errno, "timerfd_create")
    return fd


def event_fd():
    """A new non-blocking eventfd (``Source``'s notify fd; os.eventfd needs Python 3.10)."""
    cdef int fd = c_eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)
    if fd < 0:
        raise OSError(errno, "eventfd")
    return fd


cdef class Source:
    """The C state of one PGM source (see the module docstring)."""

    cdef src_t s

    def __cinit__(self, int fd, bytes header, int cap, uint64_t sqns, double rate,
                  const unsigned char[::1] addr4, int port, int timer_fd, int notify_fd):
        memset(&self.s, 0, sizeof(src_t))
        if len(header) != 16 or cap < 16 or sqns < 1:
            raise ValueError("header: 16 bytes, cap >= 16, sqns >= 1")
        self.s.fd = fd
        self.s.timer_fd = timer_fd
        self.s.notify_fd = notify_fd
        memcpy(self.s.hdr, <const char*>header, 16)
        self.s.hdr[4] = ODATA
        self.s.hdr[6] = self.s.hdr[7] = 0
        self.s.cap = cap
        self.s.sqns = sqns
        self.s.rate = rate
        self.s.lead = 0xFFFFFFFF
        self.s.at_start = True
        self.s.sa.sin_family = AF_INET
        self.s.sa.sin_port = htons(<unsigned short>port)
        memcpy(&self.s.sa.sin_addr, &addr4[0], 4)
        self.s.win = <unsigned char**>calloc(sqns, sizeof(unsigned char*))
        self.s.wlen = <uint32_t*>calloc(sqns, sizeof(uint32_t))
        if self.s.win == NULL or self.s.wlen == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef uint64_t i
        if self.s.win != NULL:
            for i in range(self.s.sqns):
                free(self.s.win[i])
            free(self.s.win)
        free(self.s.wlen)

    @property
    def hook(self):
        """(function, context) addresses for ``Engine.set_xmit``."""
        return <size_t>(<xmit_fn>_xmit), <size_t>&self.s

    @property
    def lead(self):
        return self.s.lead

    @property
    def trail(self):
        return self.s.trail

    @property
    def odata(self):
        return self.s.odata

    @property
    def odata_bytes(self):
        return self.s.odata_bytes

    @property
    def refused(self):
        return self.s.refused

    @property
    def paced(self):
        return self.s.paced

    @property
    def t_next(self):
        return self.s.t_next

    @t_next.setter
    def t_next(self, double v):
        self.s.t_next = v

    @property
    def hold(self):
        return self.s.hold

    @hold.setter
    def hold(self, bint v):
        self.s.hold = v

    @property
    def want_notify(self):
        return self.s.want_notify

    @want_notify.setter
    def want_notify(self, bint v):
        self.s.want_notify = v

    def stop_timer(self):
        """Forget the pacing timer's deadline (after its fd is closed)."""
        self.s.timer_at = 0

    def __len__(self):
        return <Py_ssize_t>self.s.count

    cdef int _index(self, object sqn, uint64_t* idx):
        cdef uint32_t back
        if not isinstance(sqn, int) or not 0 <= sqn <= 0xFFFFFFFF:
            return 0
        back = self.s.lead - <uint32_t>sqn
        if back >= self.s.count:
            return 0
        idx[0] = (self.s.seq - 1 - back) % self.s.sqns
        return 1

    def __contains__(self, sqn):
        cdef uint64_t idx
        return bool(self._index(sqn, &idx))

    def get(self, sqn, default=None):
        """The TSDU of packet sqn while the window holds it (for RDATA), else default."""
        cdef uint64_t idx
        if not self._index(sqn, &idx):
            return default
        return PyBytes_FromStringAndSize(<char*>self.s.win[idx] + HDR, self.s.wlen[idx])

    def packet(self, sqn):
        """The whole ODATA packet as sent (tests), or None."""
        cdef uint64_t idx
        if not self._index(sqn, &idx):
            return None
        return PyBytes_FromStringAndSize(<char*>self.s.win[idx], HDR + self.s.wlen[idx])

    def feed(self, const unsigned char[::1] data):
        """Run the hook on data as one iovec (tests, no engine): bytes taken, or -errno."""
        cdef iovec v
        cdef ssize_t n
        if data.shape[0] == 0:
            return 0
        v.iov_base = <void*>&data[0]
        v.iov_len = data.shape[0]
        n = _xmit(&self.s, &v, 1)
        return n if n >= 0 else -errno

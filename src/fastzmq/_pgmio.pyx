# cython: language_level=3
"""The PGM endpoints' datagram calls, batched and GIL-held (``_pgm_transport.py``).

Python's ``sendto``/``recvfrom`` release the GIL around each system call. In the I/O
thread that is one GIL handoff per PGM packet, and when a socket thread sends flat out
(and so always wants the GIL) each handoff costs the I/O thread up to a switch interval
(5 ms) to get it back: measured, the PGM source then spent half its time waiting for
the GIL after its sendto calls. These calls never block (MSG_DONTWAIT), so they keep
the GIL and do a whole batch of datagrams per Python call.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.errno cimport EINTR, errno
from libc.string cimport memcpy, memset

from fastzmq._pgmnet cimport (
    AF_INET,
    MSG_DONTWAIT,
    c_recvfrom,
    c_sendto,
    htons,
    sockaddr,
    sockaddr_in,
    socklen_t,
)


cdef enum:
    BUFSIZE = 65536

cdef unsigned char _buf[BUFSIZE]


def send_batch(int fd, list packets, const unsigned char[::1] addr4, int port):
    """sendto() each packet (bytes) to the IPv4 address addr4 (4 bytes) and port (0 for
    raw sockets). A packet the kernel does not take (a full buffer, no route) is dropped,
    like a loss on the wire: receivers NAK it. Returns how many the kernel took."""
    cdef sockaddr_in sa
    cdef ssize_t rc
    cdef int sent = 0
    cdef object pkt
    if addr4.shape[0] != 4:
        raise ValueError("addr4: 4 bytes")
    memset(&sa, 0, sizeof(sa))
    sa.sin_family = AF_INET
    sa.sin_port = htons(<unsigned short>port)
    memcpy(&sa.sin_addr, &addr4[0], 4)
    for pkt in packets:
        if type(pkt) is not bytes:
            raise TypeError("packets: bytes")
        while True:
            rc = c_sendto(fd, PyBytes_AS_STRING(pkt), <size_t>PyBytes_GET_SIZE(pkt),
                          MSG_DONTWAIT, <sockaddr*>&sa, sizeof(sa))
            if rc >= 0 or errno != EINTR:
                break
        if rc >= 0:
            sent += 1
    return sent


cdef dict _names = {}


cdef str _ip_name(unsigned int s_addr):
    """The dotted form of a network-order IPv4 address (cached: few sources)."""
    name = _names.get(s_addr)
    if name is None:
        b = (<unsigned char*>&s_addr)
        name = f"{b[0]}.{b[1]}.{b[2]}.{b[3]}"
        if len(_names) > 4096:
            _names.clear()
        _names[s_addr] = name
    return name


def recv_batch(int fd, int limit, bint raw, const unsigned char[::1] group4):
    """Up to limit datagrams waiting on fd: a list of (payload, source IPv4 as text).
    raw: the fd is a raw IP socket; the IP header is removed, and with group4 (4 bytes,
    else empty) only datagrams sent to that group are kept. Stops when none waits (or at
    an error, which the next call meets again)."""
    cdef list out = []
    cdef sockaddr_in sa
    cdef socklen_t alen
    cdef ssize_t n
    cdef int hl
    cdef int i
    for i in range(limit):
        alen = sizeof(sa)
        n = c_recvfrom(fd, _buf, BUFSIZE, MSG_DONTWAIT, <sockaddr*>&sa, &alen)
        if n < 0:
            if errno == EINTR:
                continue
            break
        if raw:
            if n < 20:
                continue
            hl = (_buf[0] & 0x0F) * 4
            if hl > n:
                continue
            if group4.shape[0] == 4 and (
                _buf[16] != group4[0] or _buf[17] != group4[1]
                or _buf[18] != group4[2] or _buf[19] != group4[3]
            ):
                continue
            data = PyBytes_FromStringAndSize(<char*>_buf + hl, n - hl)
        else:
            data = PyBytes_FromStringAndSize(<char*>_buf, n)
        out.append((data, _ip_name(sa.sin_addr.s_addr)))
    return out

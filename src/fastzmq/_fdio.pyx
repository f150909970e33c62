"""Non-blocking socket calls for the I/O thread's slow path (and a connect's first dial,
made in the caller's thread) that keep the GIL.

Python's socket methods release the GIL around every system call. In the I/O thread's
connection set-up (accept, handshake, close) each such release is a chance for a socket
thread that waits for the GIL (woken by the mailbox, say) to take it, and the I/O thread
then waits to get it back: under connection churn that was several GIL handoffs per
connection on each side. These calls never block (the fds are non-blocking, or closing),
so holding the GIL for their few microseconds costs nobody anything. The same holds the
other way round for a socket thread's dial (``stream_socket``, ``connect``): released mid-way,
the GIL goes to its I/O thread, and the dial waits for it to come back.

Errors raise as Python's socket methods do: ``BlockingIOError`` (EAGAIN),
``InterruptedError`` (EINTR), else ``OSError(errno)``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.errno cimport EAGAIN, EINTR, errno
from libc.string cimport memcpy, memset

import errno as errno_module
import os


cdef extern from "<sys/socket.h>" nogil:
    ctypedef unsigned int socklen_t

    struct sockaddr:
        unsigned short sa_family

    struct sockaddr_storage:
        unsigned short ss_family

    ssize_t c_send "send"(int fd, const void* buf, size_t n, int flags)
    ssize_t c_recv "recv"(int fd, void* buf, size_t n, int flags)
    int accept4(int fd, sockaddr* addr, socklen_t* addrlen, int flags)
    int c_socket "socket"(int family, int type, int proto)
    int c_connect "connect"(int fd, const sockaddr* addr, socklen_t addrlen)
    int SOCK_STREAM
    int MSG_DONTWAIT
    int MSG_NOSIGNAL
    int SOCK_NONBLOCK
    int SOCK_CLOEXEC
    int AF_INET
    int AF_INET6
    int AF_UNIX

cdef extern from "<netinet/in.h>" nogil:
    struct in_addr:
        pass

    struct in6_addr:
        pass

    struct sockaddr_in:
        unsigned short sin_family
        unsigned short sin_port
        in_addr sin_addr

    struct sockaddr_in6:
        unsigned short sin6_family
        unsigned short sin6_port
        unsigned int sin6_flowinfo
        in6_addr sin6_addr
        unsigned int sin6_scope_id

    unsigned short ntohs(unsigned short)
    unsigned short htons(unsigned short)
    unsigned int htonl(unsigned int)

cdef extern from "<sys/un.h>" nogil:
    struct sockaddr_un:
        unsigned short sun_family
        char sun_path[108]

cdef extern from "<arpa/inet.h>" nogil:
    const char* inet_ntop(int af, const void* src, char* dst, socklen_t size)
    int inet_pton(int af, const char* src, void* dst)

cdef extern from "<unistd.h>" nogil:
    int c_close "close"(int fd)


cdef object _error(int code):
    if code == EAGAIN:  # (EWOULDBLOCK on Linux)
        return BlockingIOError(code, os.strerror(code))
    if code == EINTR:
        return InterruptedError(code, os.strerror(code))
    return OSError(code, os.strerror(code))


def send(int fd, const unsigned char[::1] data):
    """send() what fits now; the number of bytes sent."""
    cdef ssize_t n = c_send(fd, &data[0] if data.shape[0] else NULL, data.shape[0],
                            MSG_DONTWAIT | MSG_NOSIGNAL)
    if n < 0:
        raise _error(errno)
    return n


def recv(int fd, Py_ssize_t size):
    """recv() up to size bytes; b"" at end of stream."""
    cdef bytes out = PyBytes_FromStringAndSize(NULL, size)
    cdef ssize_t n = c_recv(fd, PyBytes_AS_STRING(out), size, MSG_DONTWAIT)
    if n < 0:
        raise _error(errno)
    if n == size:
        return out
    return out[:n]


def close(int fd):
    """close() a descriptor (detached from its socket object first)."""
    if c_close(fd) < 0 and errno != EINTR:
        raise _error(errno)


def accept(int fd):
    """accept4() one connection, non-blocking and close-on-exec: (fd, family, address),
    the address as Python's accept() gives it for tcp ((host, port, ...)), "" otherwise;
    None when none is waiting (EAGAIN: every accept loop ends there, and an exception
    per loop would cost more than the accept)."""
    cdef sockaddr_storage ss
    cdef socklen_t length = sizeof(ss)
    cdef char text[64]
    cdef int conn
    memset(&ss, 0, sizeof(ss))
    conn = accept4(fd, <sockaddr*>&ss, &length, SOCK_NONBLOCK | SOCK_CLOEXEC)
    if conn < 0:
        if errno == EAGAIN:
            return None
        raise _error(errno)
    family = ss.ss_family
    if family == AF_INET:
        inet_ntop(AF_INET, &(<sockaddr_in*>&ss).sin_addr, text, sizeof(text))
        return conn, family, (text.decode(), ntohs((<sockaddr_in*>&ss).sin_port))
    if family == AF_INET6:
        inet_ntop(AF_INET6, &(<sockaddr_in6*>&ss).sin6_addr, text, sizeof(text))
        return conn, family, (text.decode(), ntohs((<sockaddr_in6*>&ss).sin6_port), 0, 0)
    return conn, family, ""


def stream_socket(int family):
    """A new stream socket, non-blocking and close-on-exec: its fd."""
    cdef int fd = c_socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
    if fd < 0:
        raise _error(errno)
    return fd


def connect(int fd, int family, address):
    """connect() a non-blocking socket to an address as Python's socket methods take it
    for the family (tcp: (host, port[, flowinfo, scope_id]) with a numeric host; ipc: the
    path, a leading NUL for an abstract one): 0 or the errno, as ``connect_ex``."""
    cdef sockaddr_in sin
    cdef sockaddr_in6 sin6
    cdef sockaddr_un sun
    cdef bytes raw
    cdef socklen_t length
    cdef int rc
    if family == AF_INET:
        memset(&sin, 0, sizeof(sin))
        sin.sin_family = AF_INET
        sin.sin_port = htons(<unsigned short>address[1])
        raw = address[0].encode()
        if inet_pton(AF_INET, raw, &sin.sin_addr) != 1:
            raise ValueError(f"not a numeric IPv4 address: {address[0]!r}")
        rc = c_connect(fd, <sockaddr*>&sin, sizeof(sin))
    elif family == AF_INET6:
        memset(&sin6, 0, sizeof(sin6))
        sin6.sin6_family = AF_INET6
        sin6.sin6_port = htons(<unsigned short>address[1])
        if len(address) > 2:
            sin6.sin6_flowinfo = htonl(<unsigned int>address[2])
        if len(address) > 3:
            sin6.sin6_scope_id = <unsigned int>address[3]
        raw = address[0].partition("%")[0].encode()  # (the scope is the tuple's)
        if inet_pton(AF_INET6, raw, &sin6.sin6_addr) != 1:
            raise ValueError(f"not a numeric IPv6 address: {address[0]!r}")
        rc = c_connect(fd, <sockaddr*>&sin6, sizeof(sin6))
    elif family == AF_UNIX:
        raw = os.fsencode(address)
        if len(raw) >= sizeof(sun.sun_path):
            return errno_module.ENAMETOOLONG
        memset(&sun, 0, sizeof(sun))
        sun.sun_family = AF_UNIX
        memcpy(sun.sun_path, PyBytes_AS_STRING(raw), len(raw))
        # an abstract name is exactly its bytes; a path ends with its NUL
        length = <socklen_t>((<char*>sun.sun_path - <char*>&sun) + len(raw)
                             + (raw[:1] != b"\0"))
        rc = c_connect(fd, <sockaddr*>&sun, length)
    else:
        raise ValueError(f"address family {family} is not a stream family")
    if rc < 0:
        return errno
    return 0

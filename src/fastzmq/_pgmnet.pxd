# cython: language_level=3
"""The POSIX socket declarations the PGM modules share (``_pgmio``, ``_pgmsrc``,
``_pgmrcv``), and the one byte-order helper their codecs share (``be64``).

Portable ones only: Linux-only calls (eventfd, timerfd, recvmmsg) are declared in the
Linux-only modules that use them (setup.py's ``LINUX_ONLY``).
"""

from libc.stdint cimport uint64_t


cdef inline uint64_t be64(const unsigned char* p) noexcept nogil:
    """A big-endian 64-bit length (ZMTP's long frame size)."""
    cdef uint64_t v = 0
    cdef int i
    for i in range(8):
        v = (v << 8) | p[i]
    return v


cdef extern from "<sys/uio.h>" nogil:
    cdef struct iovec:
        void* iov_base
        size_t iov_len


cdef extern from "<sys/socket.h>" nogil:
    ctypedef unsigned int socklen_t

    struct sockaddr:
        unsigned short sa_family

    ssize_t c_sendto "sendto"(int fd, const void* buf, size_t n, int flags,
                              const sockaddr* addr, socklen_t alen)
    ssize_t c_recvfrom "recvfrom"(int fd, void* buf, size_t n, int flags,
                                  sockaddr* addr, socklen_t* alen)
    int MSG_DONTWAIT
    int AF_INET


cdef extern from "<netinet/in.h>" nogil:
    struct in_addr:
        unsigned int s_addr

    struct sockaddr_in:
        unsigned short sin_family
        unsigned short sin_port
        in_addr sin_addr

    unsigned short htons(unsigned short)


cdef extern from "<unistd.h>" nogil:
    ssize_t c_read "read"(int fd, void* buf, size_t n)
    ssize_t c_write "write"(int fd, const void* buf, size_t n)

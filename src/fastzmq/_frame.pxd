# C-level API of the ZMTP 3.x frame codec (RFC 23 section "Framing", RFC 37 "Framing").
#
# Everything here is nogil and touches no Python object: the I/O thread runs the
# scanner over freshly received ring memory without the GIL (see ARCHITECTURE.md).

cdef enum:
    FRAME_MORE = 1
    FRAME_LONG = 2
    FRAME_COMMAND = 4
    FRAME_RESERVED_MASK = 0xF8
    # negative error codes returned by scan_frames / decode_header
    SCAN_ERR_RESERVED_FLAGS = -1
    SCAN_ERR_MORE_ON_COMMAND = -2
    SCAN_ERR_TOO_LARGE = -3              # message exceeds maxmsgsize
    SCAN_ERR_BAD_LONG = -4               # long size with top bit set (>= 2**63)
    SCAN_ERR_COMMAND_IN_MESSAGE = -5     # command frame between the frames of a multipart message


cdef struct scan_state:
    long long maxmsgsize            # -1 = unlimited; the sum of a message's frame bodies may not exceed it
    unsigned long long remaining    # body bytes of the current frame not yet seen (0: not inside a body)
    unsigned long long msg_total    # body bytes of the current message's frames so far (incl. current)
    int cur_flags                   # flags of the frame whose body is being skipped
    int hdr_len                     # bytes of a split header collected in hdr (0: at a frame start)
    int in_msg                      # 1 when the previous frame had MORE
    int error                       # sticky: first error code seen, 0 if none
    unsigned char hdr[9]            # a header split across two scan_frames calls
    unsigned long long ncmds        # command frame headers decoded so far (the engine looks
                                    # for PING/PONG only in a buffer where this moved)
    unsigned long long cur_size     # body size of the frame being skipped (valid while remaining)


cdef void scan_init(scan_state* st, long long maxmsgsize) noexcept nogil

# Scan n bytes of a ZMTP frame stream, continuing from *st (any split of the stream gives the
# same results). Returns 0 on success or a negative SCAN_ERR_* (sticky: later calls return it
# again). On success *last_end = offset within buf just past the last complete message (a
# command frame counts as a complete message of its own), or -1 if no message completed inside
# buf; *nmsgs = number of messages (incl. commands) completed inside buf.
cdef int scan_frames(scan_state* st, const unsigned char* buf, size_t n,
                     Py_ssize_t* last_end, size_t* nmsgs) noexcept nogil

# Is the scanner between messages (not inside a multipart message or a frame)?
cdef bint scan_at_boundary(const scan_state* st) noexcept nogil

# Writes a 2- or 9-byte header into out and returns its length; sets FRAME_LONG itself when
# size > 255 (and clears it otherwise). flags: FRAME_MORE and/or FRAME_COMMAND.
cdef size_t encode_header(unsigned char* out, unsigned long long size, int flags) noexcept nogil

# Returns the header length (2 or 9), 0 if avail is too short to tell, or a negative SCAN_ERR_*.
cdef int decode_header(const unsigned char* buf, size_t avail, int* flags,
                       unsigned long long* size) noexcept nogil

from libc.stdint cimport int64_t, uint64_t

from fastzmq._pipe cimport Pipe
from fastzmq._waiter cimport Waiter, waiter_t


cdef class TypeBase:
    """What one socket type adds to the shared machinery of SocketCore (see _socket.pyx)."""
    cdef readonly int socket_type
    cdef readonly str name
    # read once by SocketCore at creation (its fast paths test its own copies)
    cdef readonly bint can_send     # False: send raises ENOTSUP
    cdef readonly bint can_recv     # False: recv raises ENOTSUP, never POLLIN
    cdef readonly bint lb_fast      # a whole message goes to the load-balanced pipe (PUSH, DEALER, PAIR)
    cdef readonly bint fq_fast      # recv reads the fair-queued pipe frame by frame (PULL, DEALER, PAIR, SUB, XSUB)
    cdef readonly bint fq_filter    # ... and asks xaccept about each message's first frame (SUB, XSUB)
    cdef readonly bint always_out   # POLLOUT whatever the pipes say (PUB, XPUB, ROUTER, XSUB, REP)
    # read by the transports (_transport.py)
    cdef readonly bint attach_late  # a connect()'s pipe is attached once the peer is known (ROUTER)
    cdef readonly bint wake_on_detach    # a lost peer concerns a blocked call (ROUTER, XPUB)
    cdef readonly bint wake_on_activate  # a connect()'s first connection does (SUB, XSUB)
    cdef readonly bint raw          # connections carry raw bytes, no ZMTP (STREAM: _stream.py)

    cdef int xinit(self, SocketCore s) except -1
    cdef bint xattach(self, SocketCore s, Pipe p) except -1
    cdef bint xdetach(self, SocketCore s, Pipe p) except -1
    cdef int xconnected(self, SocketCore s, Pipe p, int how) except -1
    cdef int xsend_one(self, SocketCore s, bytes data, int flags) except -1
    cdef bint xbegin(self, SocketCore s, bytes first, int flags) except -1
    cdef int xsend(self, SocketCore s, list frames, int flags) except -1
    cdef int xsend_routed(self, SocketCore s, bytes data, int flags, object routing_id,
                          object group) except -1
    cdef object xframe(self, SocketCore s, object frame)
    cdef list xrecv(self, SocketCore s, int flags)
    cdef list xfilter(self, SocketCore s, Pipe p, list msg)
    cdef list xqueued(self, SocketCore s)
    cdef bint xaccept(self, SocketCore s, bytes first) except -1
    cdef bint xreadable(self, SocketCore s) except -1
    cdef int xevents(self, SocketCore s, int ev) except -1
    cdef int xcommand(self, SocketCore s, Pipe p, object name, object data) except -1
    cdef int xclose(self, SocketCore s) except -1


cdef class SocketCore:
    cdef readonly int socket_type
    cdef readonly TypeBase impl     # the socket type's own part (a TypeBase subclass)
    cdef readonly SocketCore target # a shadow's socket (every call goes there), else None
    cdef bint can_send, can_recv, lb_fast, fq_fast, fq_filter  # copies of impl's
    cdef bint fast_recv             # can_recv, fq_fast, no CONFLATE, nothing read ahead
    cdef Waiter sig                 # the pollable FD; rw waiter = &sig.w
    cdef waiter_t ww                # write-side waiter sharing sig's fd
    cdef list mailbox               # (command, arg) from other threads; a list: `if mailbox` is a C test
    cdef bint peers_waiting         # _wait_peers sleeps: every post wakes it (see _post)
    cdef public list pipes          # every attached pipe
    cdef Py_ssize_t lb_idx, fq_idx
    cdef public int next_pipe_id
    # sending state
    cdef list out_parts             # frames of a multipart message being assembled
    cdef public Pipe out_pipe       # the pipe chosen at its first frame (None: decide at the end)
    cdef public bint out_drop       # the message being assembled is to be dropped (ROUTER)
    # receiving state
    cdef public list in_parts       # frames of the current message not yet returned
    cdef public bint rcvmore
    cdef readonly object stash      # deque of (pipe, msg) read ahead (SUB's wait_subscribed), or None
    # options (hot ones as C fields; the rest in options)
    cdef public int64_t sndhwm, rcvhwm
    cdef public int sndtimeo, rcvtimeo, linger
    cdef public int64_t maxmsgsize
    cdef public bint router_mandatory, immediate, xpub_verbose, xpub_verboser, xpub_manual
    cdef public bint xpub_nodrop, req_relaxed, req_correlate
    cdef bint _conflate             # CONFLATE (the `conflate` property keeps fast_recv right)
    cdef public bint invert_matching, router_handover, probe_router
    cdef public bint xpub_manual_last_value, only_first_subscribe
    cdef public int router_notify   # ROUTER_NOTIFY bits: 1 connect, 2 disconnect
    cdef set probed                 # PROBE_ROUTER: pipes probed before their attach (ROUTER)
    cdef public bytes routing_id_opt
    cdef public bytes xpub_welcome
    cdef public dict options
    # state
    cdef public bint closed
    cdef readonly bint ctx_term     # the context was terminated (checked on every call)
    cdef public object context
    cdef public uint64_t dropped_hwm  # PUB/XPUB: messages dropped because a pipe was full
    cdef public uint64_t dropped_unroutable
    cdef public int last_in_id      # pipe_id the current message came from (Frame.get metadata)

    cdef int _process_mailbox(self) except -1
    cdef int _enter(self) except -1
    cdef int _check_open(self) except -1
    cdef Pipe _lb_pick(self)
    cdef Pipe _fq_pick(self)
    cdef int _wait(self, bint for_write, int timeout_ms, double deadline) except -1
    cdef bint _spin(self, int remaining_ms, bint for_write=*)
    cdef bint _spin_direct(self, Pipe p, long long spin_ns)
    cdef object _send(self, object data, int flags, bint track)
    cdef object _recv_frame(self, int flags)
    cdef list _recv_msg(self, int flags)
    cdef list _fq_recv(self, int flags)
    cdef object _in_properties(self)
    cdef Py_ssize_t _live_pipes(self)
    cdef Pipe _wait_writable(self, int flags)
    cdef int _lb_send(self, list frames, int flags) except -1
    cdef int _send_more(self, bytes data, int flags) except -1
    cdef int _finish_message(self, bytes data, int flags) except -1
    cdef int _block_readable(self, int flags) except -1
    cdef bint _readable_now(self) except -1
    cdef bint _pipes_readable(self) except -1
    cdef bint _ready_in(self) except -1
    cdef bint _msg_first(self, Pipe p) except -1
    cdef int _command(self, Pipe p, object frame) except -1
    cdef bint _lb_pick_peek(self)
    cdef list _unstash(self)
    cdef list _read_last(self, Pipe p, int* fl)
    cdef int _signal(self) except -1
    cdef int _update_fast(self) except -1

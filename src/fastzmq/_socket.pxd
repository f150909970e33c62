from libc.stdint cimport int64_t, uint64_t

from fastzmq._pipe cimport Pipe
from fastzmq._trie cimport Mtrie, Trie
from fastzmq._waiter cimport Waiter, waiter_t


cdef class SocketCore:
    cdef readonly int socket_type
    cdef Waiter sig                 # the pollable FD; rw waiter = &sig.w
    cdef waiter_t ww                # write-side waiter sharing sig's fd
    cdef list mailbox               # (command, arg) from other threads; a list: `if mailbox` is a C test
    cdef bint peers_waiting         # _wait_peers sleeps: every post wakes it (see _post)
    cdef list pipes                 # every attached pipe
    cdef Py_ssize_t lb_idx, fq_idx
    cdef int next_pipe_id
    cdef dict pipe_by_id            # pipe_id -> Pipe (PUB/XPUB)
    cdef dict pipe_by_rid           # routing id -> Pipe (ROUTER)
    cdef uint64_t next_rid
    # sending state
    cdef list out_parts             # frames of a multipart message being assembled
    cdef Pipe out_pipe              # the pipe chosen at its first frame (None: decide at the end)
    cdef bint out_drop              # the message being assembled is to be dropped (ROUTER)
    # receiving state
    cdef list in_parts              # frames of the current message not yet returned
    cdef public bint rcvmore
    # REQ/REP
    cdef bint req_sent              # REQ: a request is out, a reply is due
    cdef Pipe req_pipe              # REQ: where the request went; REP: where the reply goes
    cdef bytes req_id               # REQ_CORRELATE: the id frame of the request that is out
    cdef unsigned int req_counter   # REQ_CORRELATE: the last request id used
    cdef list rep_envelope          # REP: the request's envelope, delimiter included
    cdef bint rep_pending           # REP: a request was received, a reply is due
    # subscriptions
    cdef Trie subs                  # SUB/XSUB: what we are subscribed to
    cdef Mtrie mtrie                # PUB/XPUB: who is subscribed to what
    cdef object xpub_queue          # XPUB: deque of subscription messages for the user
    cdef int* match_buf
    cdef dict sub_acks              # SUB/XSUB: pipe_id -> _SubAck (wait_subscribed)
    cdef object sub_stash           # SUB/XSUB: deque of (pipe, msg) read ahead for a PONG
    cdef uint64_t ping_seq          # SUB/XSUB: the last PING sequence number sent
    cdef int match_cap
    # options (hot ones as C fields; the rest in options)
    cdef public int64_t sndhwm, rcvhwm
    cdef public int sndtimeo, rcvtimeo, linger
    cdef public int64_t maxmsgsize
    cdef public bint router_mandatory, immediate, xpub_verbose, xpub_verboser, xpub_manual
    cdef public bint xpub_nodrop, req_relaxed, req_correlate, conflate
    cdef public bint invert_matching, router_handover, probe_router
    cdef public bint xpub_manual_last_value, only_first_subscribe
    cdef public int router_notify   # ROUTER_NOTIFY bits: 1 connect, 2 disconnect
    cdef object notify_queue        # ROUTER_NOTIFY: deque of [routing id, b""] messages
    cdef dict parked                # ROUTER: routing id -> pipes refused as duplicates
    cdef set probed                 # PROBE_ROUTER: pipes probed before their attach (ROUTER)
    cdef Pipe last_sub_pipe         # XPUB_MANUAL: the pipe of the last subscription message
    cdef public bytes routing_id_opt
    cdef public bytes xpub_welcome
    cdef public dict options
    # state
    cdef public bint closed
    cdef readonly bint ctx_term     # the context was terminated (checked on every call)
    cdef public object context
    cdef readonly uint64_t dropped_hwm  # PUB/XPUB: messages dropped because a pipe was full
    cdef readonly uint64_t dropped_unroutable
    cdef int last_in_id             # pipe_id the current message came from (Frame.get metadata)

    cdef int _process_mailbox(self) except -1
    cdef int _enter(self) except -1
    cdef int _check_open(self) except -1
    cdef Pipe _lb_pick(self)
    cdef Pipe _fq_pick(self)
    cdef int _wait(self, bint for_write, int timeout_ms, double deadline) except -1
    cdef bint _spin(self, int remaining_ms)
    cdef int _send_msg(self, list frames, int flags) except -1
    cdef object _send(self, object data, int flags, bint track)
    cdef object _recv_frame(self, int flags)
    cdef list _recv_msg(self, int flags)
    cdef object _in_properties(self)
    cdef int _process_inbound_subs(self) except -1
    cdef Py_ssize_t _live_pipes(self)
    cdef Pipe _wait_writable(self, int flags)
    cdef int _send_more(self, bytes data, int flags) except -1
    cdef int _pick_route(self, bytes rid, int flags) except -1
    cdef int _finish_message(self, bytes data, int flags) except -1
    cdef int _dist_send(self, list frames, bytes topic) except -1
    cdef int _apply_sub(self, Pipe p, frame, int fl) except -1
    cdef bint _pipe_sub(self, bytes prefix, int pipe_id, bint add) except -1
    cdef object _ack_of(self, Pipe p)
    cdef int _send_sub(self, Pipe p, bytes topic, bint add) except -1
    cdef int _xsub_send(self, list frames, int flags) except -1
    cdef int _block_readable(self, int flags) except -1
    cdef bint _readable_now(self)
    cdef bint _msg_first(self, Pipe p) except -1
    cdef list _filter_in(self, Pipe p, list msg)
    cdef bint _lb_pick_peek(self)
    cdef list _unstash(self)
    cdef list _read_last(self, Pipe p, int* fl)
    cdef int _dist_inverted(self, list frames, bytes topic, int n) except -1
    cdef int _dist_to(self, object p, list frames, bytes topic) except -1

# cython: language_level=3
"""The publish-subscribe family (RFC 29): XPUB, PUB over XPUB, XSUB, SUB over XSUB.

XPUB distributes each message to every pipe subscribed to a prefix of its first frame
(an ``Mtrie``: prefix -> pipe ids), dropping (and counting) where a pipe is at its HWM,
and hands the subscriptions its peers send to its user; PUB is an XPUB that keeps them
to itself. XSUB keeps its subscriptions in a ``Trie``, tells every publisher of each
change (SUBSCRIBE/CANCEL commands, or 3.0 messages) and receives only what matches;
subscriptions and other messages can be sent; SUB is an XSUB that cannot send.

``wait_subscribed`` (docs/pubsub.md) follows each pipe's subscription changes with a
PING (RFC 37 "Connection Heartbeating") and waits for the PONGs; the messages it must
read past to find them are kept in the core's ``stash``, delivered first.
"""

import time
from collections import deque

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp

from fastzmq._frame cimport FRAME_COMMAND
from fastzmq._pipe cimport PIPE_INPROC, Pipe
from fastzmq._socket cimport SocketCore, TypeBase
from fastzmq._trie cimport Mtrie, Trie

from fastzmq import constants as _c
from fastzmq._socket import _command_parts, register
from fastzmq.error import Again

_PING_TAG = b"fzsb"  # our PING contexts: tag + 8-byte sequence number


cdef class XPubType(TypeBase):
    """XPUB: distribute out; its peers' (un)subscriptions become messages for the user
    (XPUB_VERBOSE/VERBOSER, XPUB_MANUAL, XPUB_WELCOME_MSG, XPUB_NODROP, ...)."""

    cdef bint user_subs             # subscription messages go to the user (XPUB, not PUB)
    cdef Mtrie mtrie                # who is subscribed to what
    cdef dict pipe_by_id            # pipe_id -> Pipe
    cdef object xpub_queue          # deque of subscription messages for the user
    cdef Pipe last_sub_pipe         # XPUB_MANUAL: the pipe of the last subscription message
    cdef int* match_buf
    cdef int match_cap

    def __cinit__(self):
        self.lb_fast = False
        self.fq_fast = False
        self.always_out = True
        self.wake_on_detach = True  # its unsubscriptions reach the user
        self.user_subs = True
        self.mtrie = Mtrie()
        self.pipe_by_id = {}
        self.xpub_queue = deque()

    def __dealloc__(self):
        if self.match_buf != NULL:
            free(self.match_buf)

    # ---- pipes
    cdef bint xattach(self, SocketCore s, Pipe p) except -1:
        self.pipe_by_id[p.pipe_id] = p
        if s.xpub_welcome is not None:
            p.write_one(s.xpub_welcome)
        return True

    cdef bint xdetach(self, SocketCore s, Pipe p) except -1:
        self.pipe_by_id.pop(p.pipe_id, None)
        gone = self.mtrie.remove_pipe(p.pipe_id)
        if self.user_subs:
            for prefix in gone:
                self.xpub_queue.append(b"\x00" + prefix)
        return True

    cdef int xclose(self, SocketCore s) except -1:
        self.pipe_by_id.clear()
        self.last_sub_pipe = None
        return 0

    # ---- send: distribute
    cdef int xsend_one(self, SocketCore s, bytes data, int flags) except -1:
        self._process_inbound_subs(s)
        return self._dist_send(s, None, data)

    cdef int xsend(self, SocketCore s, list frames, int flags) except -1:
        self._process_inbound_subs(s)
        return self._dist_send(s, frames, frames[0])

    cdef int _dist_send(self, SocketCore s, list frames, bytes topic) except -1:
        """Every pipe subscribed to a prefix of topic (the first frame) gets the message:
        frames, or topic alone when frames is None (the single-frame fast path)."""
        cdef int n, i
        if len(s.pipes) == 0:
            return 0
        if self.match_cap < s.next_pipe_id + 1:
            self.match_cap = s.next_pipe_id + 64
            self.match_buf = <int*>realloc(self.match_buf, self.match_cap * sizeof(int))
            if self.match_buf == NULL:
                self.match_cap = 0
                raise MemoryError()
        n = self.mtrie.match_c(<const unsigned char*>PyBytes_AS_STRING(topic),
                               PyBytes_GET_SIZE(topic), self.match_buf, self.match_cap)
        if s.invert_matching or s.xpub_manual_last_value:
            return self._dist_inverted(s, frames, topic, n)
        for i in range(n):
            self._dist_to(s, self.pipe_by_id.get(self.match_buf[i]), frames, topic)
        return 0

    cdef int _dist_to(self, SocketCore s, object p, list frames, bytes topic) except -1:
        """One subscriber's copy: written, or at its HWM dropped (counted) or, with
        XPUB_NODROP, Again."""
        if p is None or (<Pipe>p).detached:
            return 0
        if (<Pipe>p).can_write():
            if frames is None:
                (<Pipe>p).write_one(topic)
            else:
                (<Pipe>p).write_msg(frames)
        elif s.xpub_nodrop:
            raise Again()
        else:
            s.dropped_hwm += 1
        return 0

    cdef int _dist_inverted(self, SocketCore s, list frames, bytes topic, int n) except -1:
        """_dist_send's rare cases: INVERT_MATCHING (every pipe *not* matched gets the
        message) and XPUB_MANUAL_LAST_VALUE (only the last subscriber, once)."""
        cdef int i
        matched = {self.match_buf[i] for i in range(n)}
        if s.xpub_manual_last_value and self.last_sub_pipe is not None:
            last = self.last_sub_pipe.pipe_id
            self.last_sub_pipe = None
            targets = [last] if (last in matched) != s.invert_matching else []
        elif s.invert_matching:
            targets = [pid for pid in self.pipe_by_id if pid not in matched]
        else:
            targets = [self.match_buf[i] for i in range(n)]
        for pid in targets:
            self._dist_to(s, self.pipe_by_id.get(pid), frames, topic)
        return 0

    # ---- recv: the subscription messages
    cdef list xrecv(self, SocketCore s, int flags):
        while True:
            self._process_inbound_subs(s)
            if self.xpub_queue:
                item = self.xpub_queue.popleft()
                if type(item) is tuple:  # XPUB_MANUAL: (message, the pipe it came from)
                    self.last_sub_pipe = item[1]
                    item = item[0]
                elif type(item) is list:  # a multipart message from an XSUB
                    return item
                return [item]
            s._block_readable(flags)

    cdef bint xreadable(self, SocketCore s) except -1:
        # what XPUB's pipes carry is subscriptions; only some become messages
        self._process_inbound_subs(s)
        return len(self.xpub_queue) > 0

    # ---- inbound subscriptions
    cdef int _process_inbound_subs(self, SocketCore s) except -1:
        """Apply the SUBSCRIBE/CANCEL commands (or 3.0 messages) peers sent."""
        cdef Pipe p
        cdef int fl = 0
        cdef list msg
        cdef list gone = None
        for p in s.pipes:  # runs on every publish: no copy of the list unless one is gone
            while p.has_msg():
                msg = p.read_msg(&fl)
                if msg is None:
                    break
                if len(msg) == 1:
                    self._apply_sub(s, p, msg[0], fl)
                else:
                    self._apply_parts(s, p, msg)
            if p.detached and not p.has_msg():
                if gone is None:
                    gone = []
                gone.append(p)
        if gone is not None:
            for p in gone:
                s._drop_pipe(p)
        return 0

    cdef int _apply_sub(self, SocketCore s, Pipe p, frame, int fl) except -1:
        cdef bint add = False
        if fl & FRAME_COMMAND:
            data = _sub_command(frame, &add)
            if data is None:
                s._command(p, frame)
                return 0
        else:
            if not frame or frame[0] not in (0, 1):
                if self.user_subs:
                    self.xpub_queue.append(frame)  # plain upstream message (XSUB sends)
                return 0
            add = frame[0] == 1
            data = frame[1:]
        if self.user_subs and s.xpub_manual:
            self.xpub_queue.append(((b"\x01" if add else b"\x00") + data, p))
            return 0
        first = self._pipe_sub(data, p.pipe_id, add)
        if self.user_subs and (first or s.xpub_verboser or (add and s.xpub_verbose)):
            self.xpub_queue.append((b"\x01" if add else b"\x00") + data)
        return 0

    cdef int _apply_parts(self, SocketCore s, Pipe p, list msg) except -1:
        """A multipart message upstream (from an XSUB): as libzmq, the first frame is a
        (un)subscription if it starts with 1/0, and so are the later ones unless
        ONLY_FIRST_SUBSCRIBE is set and the first was not; the other frames reach an
        XPUB's user as one message (a PUB drops them)."""
        cdef list user = []
        cdef bint process = True
        for i, f in enumerate(msg):
            is_sub = (i == 0 or process) and len(f) > 0 and f[0] in (0, 1)
            if i == 0:
                process = not s.only_first_subscribe or is_sub
            if is_sub:
                self._apply_sub(s, p, f, 0)
            else:
                user.append(f)
        if user and self.user_subs:
            self.xpub_queue.append(user)
        return 0

    cdef bint _pipe_sub(self, bytes prefix, int pipe_id, bint add) except -1:
        """Subscribe (or cancel) one peer to prefix; True if no peer had it before (or
        none has it now). Per peer a prefix is subscribed or not: a repeat changes
        nothing and one CANCEL ends it, as in libzmq's publishers (a libzmq SUB sends a
        SUBSCRIBE for each subscribe() but a CANCEL only when its own count is zero)."""
        if not add:
            return self.mtrie.remove(prefix, pipe_id)
        return not self.mtrie.contains(prefix, pipe_id) and self.mtrie.add(prefix, pipe_id)

    # ---- what socket.py asks (SocketCore forwards)
    def _topics_count(self, SocketCore s):
        """TOPICS_COUNT: distinct prefixes subscribed to."""
        self._process_inbound_subs(s)
        return len(self.mtrie.prefixes())

    def _manual_subscribe(self, SocketCore s, bytes topic, bint add):
        """XPUB_MANUAL: subscribe the pipe of the last subscription message."""
        p = self.last_sub_pipe
        if p is None or (<Pipe>p).detached:
            return
        self._pipe_sub(topic, (<Pipe>p).pipe_id, add)


cdef class PubType(XPubType):
    """PUB: an XPUB whose peers' subscriptions stay inside; no receiving."""

    def __cinit__(self):
        self.user_subs = False
        self.can_recv = False
        self.wake_on_detach = False

    cdef bint xreadable(self, SocketCore s) except -1:
        return False  # its pipes carry subscriptions, applied by its next send


cdef class _SubAck:
    """Per pipe: subscription changes not yet pinged, last PING sent, last PONG seen."""

    cdef public bint live       # handshake seen by this socket (attach/reconnected)
    cdef public bint dirty      # subscriptions written since the last PING
    cdef public bint confirm    # the second round trip is still to be started
    cdef public uint64_t sent
    cdef public uint64_t acked


cdef class XSubType(TypeBase):
    """XSUB: fair-queue in, filtered by its subscriptions; sending a 1/0-led frame
    (un)subscribes, anything else goes to every publisher."""

    cdef Trie subs                  # what we are subscribed to
    cdef dict sub_acks              # pipe_id -> _SubAck (wait_subscribed)
    cdef uint64_t ping_seq          # the last PING sequence number sent

    def __cinit__(self):
        self.lb_fast = False
        self.fq_filter = True
        self.always_out = True
        self.wake_on_activate = True  # the subscriptions go out
        self.subs = Trie()
        self.sub_acks = {}

    cdef int xinit(self, SocketCore s) except -1:
        s.linger = 0  # libzmq: subscribers do not linger on their subscriptions
        return 0

    # ---- pipes: each gets every subscription
    cdef bint xattach(self, SocketCore s, Pipe p) except -1:
        self._send_all_subs(p, True)
        return True

    cdef bint xdetach(self, SocketCore s, Pipe p) except -1:
        self.sub_acks.pop(p.pipe_id, None)
        return True

    cdef int xconnected(self, SocketCore s, Pipe p, int how) except -1:
        if how == 1:
            self._send_all_subs(p, True)
        elif how == 2:
            # the first connection of a pipe adopted at connect(): the subscriptions
            # written since are queued in it and go out now; a ZMTP 3.0 peer needs them
            # again in its own form (they were queued as 3.1 commands before its version
            # was known)
            self._send_all_subs(p, p.kind != PIPE_INPROC and p.zmtp_minor == 0)
        return 0

    # ---- recv: filtered
    cdef bint xaccept(self, SocketCore s, bytes first) except -1:
        return self.subs.check_c(<const unsigned char*>PyBytes_AS_STRING(first),
                                 PyBytes_GET_SIZE(first)) != s.invert_matching

    cdef list xfilter(self, SocketCore s, Pipe p, list msg):
        if self.xaccept(s, msg[0]):
            return msg
        return None

    cdef int xcommand(self, SocketCore s, Pipe p, object name, object data) except -1:
        if name == b"PONG":
            self._on_pong(p, bytes(data))
        # Anything else is dropped. A PING is answered by the connection's engine in the
        # I/O thread (_io.pyx), at once, whatever this thread is doing, and never reaches
        # a socket; inproc has no heartbeats.
        return 0

    # ---- send: subscriptions, and messages upstream
    cdef int xsend(self, SocketCore s, list frames, int flags) except -1:
        cdef bytes first = frames[0]
        cdef Pipe p
        if len(frames) == 1 and len(first) > 0 and first[0] in (0, 1):
            self._subscribe(s, first[1:], first[0] == 1)
            return 0
        if len(frames) > 1:
            self._xsub_local_subs(s, frames)
        for p in s.pipes:  # other messages go upstream to every publisher
            if not p.detached and p.can_write():
                p.write_msg(frames)
        return 0

    def _xsub_local_subs(self, SocketCore s, list frames):
        """A multipart message from an XSUB goes upstream whole (the XPUB reads its
        subscription frames); our own filter takes them as libzmq does: the first frame
        if it starts with 1/0, the later ones unless ONLY_FIRST_SUBSCRIBE is set and no
        frame before was a subscription."""
        cdef bint process = True
        for i, f in enumerate(frames):
            if i == 0:
                process = not s.only_first_subscribe
            elif not process:
                continue
            if len(f) > 0 and f[0] in (0, 1):
                process = True
                if f[0] == 1:
                    self.subs.add(f[1:])
                else:
                    self.subs.remove(f[1:])

    # ---- subscriptions
    def _subscribe(self, SocketCore s, bytes topic, bint add):
        """Change our own subscriptions and tell every peer."""
        cdef Pipe p
        if add:
            changed = self.subs.add(topic)
        else:
            changed = self.subs.remove(topic)
            if not changed:
                return False  # still subscribed (counted): the publishers keep it, as libzmq
        for p in s.pipes:  # every subscribe goes up (XPUB_VERBOSE peers see repeats)
            if not p.detached:
                self._send_sub(p, topic, add)
        return changed

    def _topics_count(self, SocketCore s):
        return len(self.subs.prefixes())

    cdef int _send_sub(self, Pipe p, bytes topic, bint add) except -1:
        self._ack_of(p).dirty = True
        if p.kind != PIPE_INPROC and p.zmtp_minor == 0:
            p.write_one((b"\x01" if add else b"\x00") + topic)
        else:
            p.write_command(b"SUBSCRIBE" if add else b"CANCEL", topic)
        return 0

    cdef int _send_all_subs(self, Pipe p, bint resend) except -1:
        """A new pipe or connection: (re)send every subscription, ping it afresh."""
        cdef _SubAck rec = self._ack_of(p)
        rec.live = p.connected
        rec.dirty = True
        if resend:
            for topic in self.subs.prefixes():
                self._send_sub(p, topic, True)
        return 0

    # ---- wait_subscribed: PING after subscription changes, wait for the PONGs
    cdef _SubAck _ack_of(self, Pipe p):
        rec = self.sub_acks.get(p.pipe_id)
        if rec is None:
            rec = self.sub_acks[p.pipe_id] = _SubAck()
        return rec

    def _wait_subscribed(self, SocketCore s, timeout=None, int peers=1):
        """Block until >= peers publishers are connected and have acknowledged every
        subscription change sent to them (timeout in ms, None: forever); False on timeout."""
        cdef int ms = -1
        cdef double deadline = 0
        if timeout is not None and timeout >= 0:
            ms = <int>min(-(-timeout // 1), 2**31 - 1)  # ceil: 0.5 ms still waits
            deadline = time.monotonic() + timeout / 1000.0
        while True:
            if self._subs_acked(s, peers):
                return True
            if ms == 0:
                return False
            # sleep on inbound data (a PONG), the mailbox, and the engine taking bytes
            # (3.0 peers); re-check once armed
            s._arm_both()
            if self._subs_acked(s, peers):
                s._disarm_both()
                return True
            try:
                if s._wait_armed(ms, deadline):
                    return self._subs_acked(s, peers)
            except Again:
                s._disarm_both()
                return False

    def _subs_acked(self, SocketCore s, int peers):
        """One pass: ping what changed, read ahead to PONGs, count acknowledged peers."""
        while True:
            s._take_mail()  # (re)connections resend subscriptions
            ok, n = self._ack_pass(s)
            if not s._has_mail():  # posted before the data we read: go round again
                return ok and n >= peers

    def _ack_pass(self, SocketCore s):
        cdef Pipe p
        cdef _SubAck rec
        cdef bint ok = True
        cdef int n = 0
        for p in list(s.pipes):
            if p.detached:
                continue
            if p.kind == PIPE_INPROC:
                n += p.connected  # in the publisher's pipe: its next send applies it
                continue
            rec = self._ack_of(p)
            if not p.connected:
                rec.live = False  # wait for its reconnection (which resends)
                continue
            if not rec.live:
                continue
            n += 1
            if p.zmtp_minor == 0:
                ok = ok and p.out_pending() == 0  # no PING in 3.0: written is all we know
                continue
            if rec.dirty:
                self._ping(p, rec)
                rec.confirm = True
            if rec.acked < rec.sent:
                self._read_ahead(s, p, rec)
            if rec.acked >= rec.sent and rec.confirm:
                # libzmq writes a PONG before it flushes the commands that preceded the
                # PING to its socket; a second round trip proves that flush happened
                rec.confirm = False
                self._ping(p, rec)
                self._read_ahead(s, p, rec)
            ok = ok and rec.acked >= rec.sent
        return ok, n

    cdef int _ping(self, Pipe p, _SubAck rec) except -1:
        self.ping_seq += 1
        p.write_command(b"PING", b"\x00\x00" + _PING_TAG + self.ping_seq.to_bytes(8, "big"))
        rec.sent = self.ping_seq
        rec.dirty = False
        return 0

    cdef int _read_ahead(self, SocketCore s, Pipe p, _SubAck rec) except -1:
        """Read p up to its PONG; the data messages on the way are kept for recv."""
        cdef int fl = 0
        cdef list msg
        while rec.acked < rec.sent and p.has_msg():
            msg = p.read_msg(&fl)
            if msg is None:
                return 0
            if fl & FRAME_COMMAND:
                s._command(p, msg[0])
                continue
            s._stash_msg(p, msg)
        return 0

    def _on_pong(self, Pipe p, bytes context):
        cdef _SubAck rec = self.sub_acks.get(p.pipe_id)
        if rec is None or len(context) != 12 or context[:4] != _PING_TAG:
            return
        seq = int.from_bytes(context[4:], "big")
        if rec.acked < seq <= rec.sent:
            rec.acked = seq


cdef class SubType(XSubType):
    """SUB: an XSUB that cannot send (it subscribes through setsockopt)."""

    def __cinit__(self):
        self.can_send = False
        self.always_out = False


cdef object _sub_command(object frame, bint* add):
    """The prefix of a SUBSCRIBE or CANCEL command frame (wire bytes or an inproc
    command), with *add set; None for any other command. Wire frames are matched in
    place: no name/data bytes objects for the common case (subscription bursts)."""
    cdef const char* c
    cdef Py_ssize_t n
    if type(frame) is bytes:  # name-length byte, name, data
        c = PyBytes_AS_STRING(frame)
        n = PyBytes_GET_SIZE(frame)
        if n >= 10 and c[0] == 9 and memcmp(c + 1, b"SUBSCRIBE", 9) == 0:
            add[0] = True
            return frame[10:]
        if n >= 7 and c[0] == 6 and memcmp(c + 1, b"CANCEL", 6) == 0:
            add[0] = False
            return frame[7:]
        return None
    name, data = _command_parts(frame)
    if name == b"SUBSCRIBE" or name == b"CANCEL":
        add[0] = name == b"SUBSCRIBE"
        return data
    return None


register(_c.XPUB, "XPUB", XPubType)
register(_c.PUB, "PUB", PubType)
register(_c.XSUB, "XSUB", XSubType)
register(_c.SUB, "SUB", SubType)

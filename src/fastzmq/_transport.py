"""tcp and ipc: listeners, connecters and connections (the I/O thread's slow path).

Everything here runs in the I/O thread with the GIL, except the constructors of
``Listener`` and ``Connecter``, which run in the socket's thread so that bind errors
(EADDRINUSE, ...) raise where the user called ``bind``, and so that a connect to an
address known without DNS is dialled at the call (``Connecter._dial``, which also sends
our ZMTP signature on a connection that is up at once; the I/O thread takes the dial over
in ``start``). The data phase of a connection is ``Engine.pump`` in ``_io.pyx``, without
the GIL.

Connection life (RFC 23/37): OS connection -> greeting and mechanism handshake
(``zmtp.handshake``, sans-I/O; a NULL handshake's stages run in the engine's C stager,
whose clean end completes with ``complete_null`` and anything else is handed to a
``Handshake``: "The NULL handshake stager" in ``_io``) -> active (pumping) -> dead. A
connecter's pipe outlives its connections: messages queue before the first connection
and across reconnects (back-off from RECONNECT_IVL doubling up to RECONNECT_IVL_MAX). A
listener's pipes live and die with their connections.

A connection is created, put where its owner keeps it, and only then started
(``start``), so a connection that dies during set-up is always removed again.
Every timer a connection arms is cancelled when it dies: a finished connection
holds nothing (fd, timer, memory) after ``die``, and a live one holds one fd, its
OS socket (its engine is woken through its I/O thread's shared wake-up fd). A
listener that runs out of fds (EMFILE/ENFILE) pauses accepting and resumes on a
short timer or as soon as one of its connections closes. Socket monitor events are reported through
``_monitor.emit`` with libzmq's values (fd, errno or interval).
"""

from __future__ import annotations

import errno
import os
import socket as _pysocket
import struct
import tempfile
import time
from typing import Any

from fastzmq import _endpoint, _fdio, _options, _security, _socks
from fastzmq import constants as _c
from fastzmq._io import Engine
from fastzmq._monitor import emit, protocol_error_code
from fastzmq._pipe import make_wire_pipe
from fastzmq._socket import SOCKET_TYPE_NAMES
from fastzmq._stream import RawConnection
from fastzmq.error import ZMQError
from fastzmq.zmtp import BadGreeting, IncompatibleSocketType, MechanismMismatch
from fastzmq.zmtp.handshake import (
    MECHANISM,
    NEED_DATA,
    Handshake,
    HandshakeComplete,
    HandshakeFailed,
    complete_null,
    encode_signature,
    is_plain_null,
    null_script_for,
)

KIND_ENGINE, KIND_WAKE, KIND_SLOW = 0, 1, 2
EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP = 0x001, 0x004, 0x008, 0x010
EPOLLRDHUP, EPOLLET = 0x2000, 1 << 31
_ENGINE_MASK = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET


# Options kept only in the socket's options dict (neither core fields nor security options):
# read here without Socket._option_value's dispatch, several times per connection.
_PLAIN_OPTIONS = frozenset(
    (
        _c.HANDSHAKE_IVL,
        _c.RECONNECT_IVL,
        _c.RECONNECT_IVL_MAX,
        _c.RECONNECT_STOP,
        _c.CONNECT_TIMEOUT,
        _c.BACKLOG,
        _c.IPV6,
        _c.USE_FD,
    )
)


_HANDSHAKE_IVL = _options.default(_c.HANDSHAKE_IVL, _c.REQ)  # (the same for every type)
_RECONNECT_IVL = _options.default(_c.RECONNECT_IVL, _c.REQ)
_CONNECT_ROUTING_ID = int(_c.CONNECT_ROUTING_ID)
# (endpoint, the socket's IPV6 option as stored) -> (sockaddr, family) of an IP literal
_LITERALS: dict = {}


def _opt(sock: Any, option: int) -> int:
    if option in _PLAIN_OPTIONS:
        value = sock.options.get(option)
        return _options.default(option, sock.socket_type) if value is None else value
    return sock._option_value(option)


def _bind_error(e: OSError, ep: Any) -> ZMQError:
    code = e.errno or _c.EINVAL
    return ZMQError(code, f"{os.strerror(code)}: {ep.raw}")


_OS_LEVEL_OPTIONS = frozenset(
    (
        _c.SNDBUF,
        _c.RCVBUF,
        _c.TOS,
        _c.TCP_KEEPALIVE,
        _c.TCP_MAXRT,
        _c.BINDTODEVICE,
    )
)  # what _tune applies to the OS socket (the keepalive family only with TCP_KEEPALIVE)


def _tune(pysock: Any, family: int, sock: Any = None) -> None:
    """Non-blocking, TCP_NODELAY, and the socket's OS-level options, as libzmq sets them:
    SNDBUF/RCVBUF (-1: the OS default), TOS (0: untouched), TCP_KEEPALIVE (-1: the OS
    default; 1 with _CNT/_IDLE/_INTVL unless -1), TCP_MAXRT (TCP_USER_TIMEOUT, ms) and
    BINDTODEVICE. An OSError raises (the caller turns it into a ZMQError or a retry)."""
    if pysock.gettimeout() != 0:  # (created or accepted non-blocking: no ioctl then)
        pysock.setblocking(False)
    tcp = family in (_pysocket.AF_INET, _pysocket.AF_INET6)
    if tcp:
        pysock.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_NODELAY, 1)
    if sock is None:
        return
    opts = sock.options  # only what the user set: the defaults leave the OS alone
    if not opts or opts.keys().isdisjoint(_OS_LEVEL_OPTIONS):
        return
    sol, ip = _pysocket.SOL_SOCKET, _pysocket.IPPROTO_TCP
    for option, level, name in (
        (_c.SNDBUF, sol, _pysocket.SO_SNDBUF),
        (_c.RCVBUF, sol, _pysocket.SO_RCVBUF),
    ):
        value = opts.get(option, -1)
        if value >= 0:
            pysock.setsockopt(level, name, value)
    if not tcp:
        return
    tos = opts.get(_c.TOS, 0)
    if tos:
        if family == _pysocket.AF_INET6:
            pysock.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_TCLASS, tos)
            try:  # a v4-mapped peer on a dual-stack socket
                pysock.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_TOS, tos)
            except OSError:
                pass
        else:
            pysock.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_TOS, tos)
    keepalive = opts.get(_c.TCP_KEEPALIVE, -1)
    if keepalive != -1:
        pysock.setsockopt(sol, _pysocket.SO_KEEPALIVE, keepalive)
        if keepalive == 1:
            for option, name in (
                (_c.TCP_KEEPALIVE_CNT, _pysocket.TCP_KEEPCNT),
                (_c.TCP_KEEPALIVE_IDLE, _pysocket.TCP_KEEPIDLE),
                (_c.TCP_KEEPALIVE_INTVL, _pysocket.TCP_KEEPINTVL),
            ):
                value = opts.get(option, -1)
                if value != -1:
                    pysock.setsockopt(ip, name, value)
    maxrt = opts.get(_c.TCP_MAXRT, 0)
    if maxrt:
        pysock.setsockopt(ip, _pysocket.TCP_USER_TIMEOUT, maxrt)
    device = opts.get(_c.BINDTODEVICE)
    if device:
        pysock.setsockopt(sol, _pysocket.SO_BINDTODEVICE, device)


def _admit(conn: Any, family: int, opts: dict) -> bool:
    """TCP_ACCEPT_FILTER (tcp: the peer's address in one of the networks) and
    IPC_FILTER_PID/UID/GID (ipc: the peer's credentials match one id), as libzmq."""
    if family == _pysocket.AF_UNIX:
        pids = opts.get(_c.IPC_FILTER_PID, ())
        uids = opts.get(_c.IPC_FILTER_UID, ())
        gids = opts.get(_c.IPC_FILTER_GID, ())
        if not (pids or uids or gids):
            return True
        cred = conn.getsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_PEERCRED, 12)
        pid, uid, gid = struct.unpack("3i", cred)
        if pid in pids or uid in uids or gid in gids:
            return True
        if gids:  # the peer user's supplementary groups count too (libzmq)
            import grp
            import pwd

            try:
                user = pwd.getpwuid(uid).pw_name
            except KeyError:
                return False
            return any(g.gr_gid in gids and user in g.gr_mem for g in grp.getgrall())
        return False
    networks = opts.get(_c.TCP_ACCEPT_FILTER, ())
    if not networks:
        return True
    import ipaddress

    addr = ipaddress.ip_address(conn.getpeername()[0].split("%", 1)[0])
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == n.version and addr in n for n in networks)


def _peer_address(pysock: Any, peer: Any = None) -> bytes:
    """The peer's IP address (ZAP's "address" frame, the "Peer-Address" property); for
    ipc, as libzmq on Linux, ``localhost:UID:GID:PID`` of the peer process. ``peer``:
    the address accept() or connect() already gave (IPv4), which saves a getpeername()."""
    if isinstance(peer, tuple) and len(peer) == 2:  # (an IPv4 sockaddr: no family lookup)
        return peer[0].encode()
    try:
        family = pysock.family
        if family in (_pysocket.AF_INET, _pysocket.AF_INET6):
            return pysock.getpeername()[0].encode()
        if family == getattr(_pysocket, "AF_UNIX", None) and hasattr(_pysocket, "SO_PEERCRED"):
            cred = pysock.getsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_PEERCRED, 12)
            pid, uid, gid = struct.unpack("3i", cred)
            return f"localhost:{uid}:{gid}:{pid}".encode()
    except (OSError, struct.error):
        pass
    return b""


def _failure_report(exc: Any) -> tuple | None:
    """What the monitor hears of a failed handshake, as libzmq: (event, value); () for
    nothing (a peer's ERROR that is no ZAP status); None for HANDSHAKE_FAILED_NO_DETAIL
    (a greeting that is not ZMTP 3, which libzmq takes for an old peer)."""
    if isinstance(exc, BadGreeting):
        return None
    if isinstance(getattr(exc, "zmq_code", None), int) or isinstance(
        exc, (MechanismMismatch, IncompatibleSocketType)
    ):
        return (_c.EVENT_HANDSHAKE_FAILED_PROTOCOL, protocol_error_code(exc))
    return _security.failure_event(exc) or ()  # mechanism and ZAP failures


class Connection(Engine):
    """One ZMTP connection: handshake in Python, then the compiled pump."""

    def __init__(
        self,
        io: Any,
        sock: Any,
        pysock: Any,
        owner: Any,
        endpoint: str,
        peer: Any,
        sent: bytes = b"",
        identity: bytes | None = None,
    ) -> None:
        """``sent``: our signature, when the dial sent it already; ``identity``: the routing
        id read at the dial (``Connecter._dial``), else the socket's now."""
        self.io = io
        self.socket = sock
        self.pysock = pysock
        self.owner = owner
        self.endpoint = endpoint  # for monitor events and peers()
        self.peer_addr = peer  # the peer's socket address (tcp: (host, port); ipc: path)
        self.since = 0.0  # time.time() when the handshake completed
        self.timer = None  # the handshake or linger timer (cancelled by die)
        self.reported = False  # a handshake failure was reported with its detail
        self.slot = -1
        self.set_fd(pysock.fileno())
        self.zap_asked = False
        self.legacy = False  # the peer speaks ZMTP 2.0 or 1.0
        self.wire_fd = 0  # (1.0: the peer's fd, while the engine's is a socketpair's)
        self.relay = None  # (1.0: the _legacy.V1Relay translating the framing)
        self.peer_address = _peer_address(pysock, peer)
        mechanism, as_server = _security.mechanism_for(sock, self.peer_address)
        self.mechanism = mechanism
        self.as_server = as_server
        # (as libzmq, a connection keeps the routing id its connect saw: one set later
        # applies from the next dial, and the signature sent matches this handshake's)
        self.identity = (sock.routing_id_opt or b"") if identity is None else identity
        self.presend = len(sent)
        if self.io.stager and is_plain_null(mechanism):
            # NULL to a ZMTP 3 peer: the engine's stager runs the greeting and READY in C,
            # and the hand-over builds a Handshake only if the peer's bytes need one
            self.hs = None
            self.script = null_script_for(
                SOCKET_TYPE_NAMES[sock.socket_type], self.identity, as_server
            )
        else:
            self.hs = self._new_handshake()
            self.hs_out = self.hs.data_to_send()[self.presend :]
            self.script = None

    def _new_handshake(self) -> Handshake:
        sock = self.socket
        return Handshake(
            socket_type=SOCKET_TYPE_NAMES[sock.socket_type],
            identity=self.identity,
            mechanism=self.mechanism,
            as_server=self.as_server,
        )

    def start(self) -> None:
        """Register and begin the handshake (after the owner has recorded us)."""
        io = self.io
        self.slot = io.new_slot(self)
        try:
            io.register(self.fileno(), self.slot, KIND_ENGINE, _ENGINE_MASK)
        except OSError as e:
            self.die(e.errno or errno.EIO)
            return
        ivl = self.socket.options.get(_c.HANDSHAKE_IVL)  # (as _opt, one call less)
        if ivl is None:
            ivl = _HANDSHAKE_IVL
        if ivl > 0:
            self.timer = io.add_timer(ivl / 1000.0, self._handshake_timeout)
        if self.script is not None:
            if not self.hsc_start(self.script, self.presend):
                self._hsc_handover(EPOLLIN)
            return
        self._handshake_io(EPOLLOUT | EPOLLIN)

    # ---------------------------------------------------------------- events
    def on_event(self, kind: int, mask: int) -> None:
        if self.state == 0:
            if self.hsc:  # the stager has the handshake (see _io): it goes on, or stops
                if not self.hsc_step():
                    self._hsc_handover(mask)
                return
            if mask & _HS_IN or self.hs_out:
                self._handshake_io(mask)
            # else: writable (the edge every fresh registration reports) or a wake-up
            # from the socket, with nothing to read and nothing queued: no recv for EAGAIN
        elif self.state == 1:
            if self.error == 0:
                self.mark_ready(mask)
                rc = self.c_pump()  # reads what the peer sent before any error or close
                if rc:
                    self.error = rc
                elif mask & EPOLLERR:
                    self.error = -1
            if self.error:
                self.die(self.error)

    def _handshake_io(self, mask: int) -> None:
        try:
            fd = self.fileno()
            while True:
                try:
                    data = _fdio.recv(fd, _HS_READ)  # (keeps the GIL: see _fdio)
                except (BlockingIOError, InterruptedError):
                    # Read first, then one write of all the handshake queued: the greeting
                    # goes in stages, and what the peer already sent lets stages merge
                    # (e.g. an accepted peer's signature: ours and our major in one send).
                    self._hs_send()
                    return
                if not data:
                    self.die(_EOF)
                    return
                if self._hs_step(*self.hs.step(data)):
                    return
                if len(data) < _HS_READ and not mask & _HS_END:
                    # A short read drained the socket (edge-triggered: a later arrival is
                    # a new event), and no EOF/error is pending: no recv to meet EAGAIN.
                    self._hs_send()
                    return
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.die(e.errno or -1)
        except Exception:  # a bug must not leave a half-open connection: fail closed
            self.die(-1)
            raise

    def _hsc_handover(self, mask: int) -> None:
        """The stager stopped. In the plain case (our script all sent, and what it read is
        the peer's clean NULL greeting and READY: ``complete_null``) the connection is
        active at once, without a Handshake object. Else a Handshake reads all the stager
        read, at once, and goes on from there (completes, fails, or reads on); what the
        stager sent must be the start of the Handshake's output, whose rest is sent as
        usual."""
        data, sent, err = self.hsc_take()
        script, self.script = self.script, None
        try:
            if not err and sent == len(script):
                ev = complete_null(SOCKET_TYPE_NAMES[self.socket.socket_type], data)
                if ev is not None:  # the plain case: no Handshake object at all
                    self._activate(ev)
                    return
            self.hs = hs = self._new_handshake()
            ev, produced = hs.step(data)  # (all it sends, from its signature on)
            if produced[:sent] != script[:sent]:  # (a stager bug: never talk past it)
                self.die(errno.EPROTO)
                raise RuntimeError("handshake stager sent bytes the Handshake would not")
            self.hs_out = produced[sent:]
            if self._hs_step(ev, b""):
                return
            if err:
                self.die(err)  # (after the bytes that came before it, as _handshake_io)
                return
            self._handshake_io(mask | EPOLLIN)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.die(e.errno or -1)
        except Exception:  # a bug must not leave a half-open connection: fail closed
            self.die(-1)
            raise

    def _hs_step(self, ev: Any, out: Any = None) -> bool:
        """Queue what the handshake produced (``out``, else its data_to_send()) and act on
        ``ev``; True once it is over (then the output is flushed first: an ERROR, or the
        last bytes before the engine's)."""
        if out is None:
            out = self.hs.data_to_send()
        if out:
            self.hs_out += out
        if ev is not NEED_DATA:
            # (Sending our last handshake bytes with MSG_MORE, so that they share a segment
            # with the first queued message, was measured slower: the peer then starts its
            # own completion only after our activation, instead of alongside it.)
            self._hs_send()
        if isinstance(ev, HandshakeComplete):
            self._activate(ev)  # reports HANDSHAKE_SUCCEEDED
            return True
        if isinstance(ev, HandshakeFailed):
            report = _failure_report(ev.error)
            if report is not None:  # else die() reports HANDSHAKE_FAILED_NO_DETAIL
                self.reported = True
                if report:
                    emit(self.socket, report[0], report[1], self.endpoint)
            self.die(errno.EPROTO)
            return True
        hs = self.hs
        request = hs.mechanism.zap_request  # (Handshake.zap_request, without the call)
        if request is not None and hs.state == MECHANISM and not self.zap_asked:
            self.zap_asked = True  # one ZAP exchange per handshake
            if not _security.zap_client(self.io).request(self, request):
                reply = _security.no_handler_reply(self.hs.mechanism, self.socket)
                return self._hs_step(self.hs.zap_reply(reply))
        return False

    def on_zap_reply(self, reply: Any) -> None:
        """The ZAP handler answered (a ZapReply, or a ProtocolError): go on (I/O thread)."""
        if self.state != 0 or self.hs is None:
            return
        try:
            if not self._hs_step(self.hs.zap_reply(reply)):
                self._handshake_io(EPOLLIN)  # commands may have waited for the verdict
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.die(e.errno or -1)
        except Exception:  # a bug must not leave a half-open connection: fail closed
            self.die(-1)
            raise

    def _hs_send(self) -> None:
        while self.hs_out:
            n = _fdio.send(self.fileno(), self.hs_out)
            self.hs_out = self.hs_out[n:]

    def _handshake_timeout(self) -> None:
        if self.state == 0:
            self.die(errno.ETIMEDOUT)

    def _activate(self, ev: HandshakeComplete) -> None:
        sock = self.socket
        self.io.cancel_timer(self.timer)
        self.timer = None
        self.since = time.time()
        pipe = self.owner.pipe_for(self, ev)
        pipe.zmtp_minor = ev.version[1]  # 0 also for 2.0/1.0: subscriptions as messages
        pipe.peer_type = ev.peer_socket_type or None
        pipe.properties = _security.properties(ev, self.mechanism, self.peer_address)
        codec = _security.traffic_codec(self.mechanism)
        if codec is not None:
            self.set_curve(codec)  # CURVE: the engine seals and opens MESSAGE commands
        self.hs = None
        leftover = ev.leftover
        if ev.version[0] < 3:
            leftover = self._legacy_peer(ev)
        rcvhwm = max(0, sock.rcvhwm)
        rc = self.activate(pipe, leftover, sock.maxmsgsize, rcvhwm)
        if not self.legacy:  # (libzmq reports no handshake with a 2.0/1.0 peer)
            emit(sock, _c.EVENT_HANDSHAKE_SUCCEEDED, 0, self.endpoint)
        self.owner.on_active(self, pipe)
        if self.state != 1:
            return  # on_active flushed and closed it (a socket closed while connecting)
        if rc == 0:
            rc = self.c_pump()
        if rc:
            self.error = rc
            self.die(rc)

    def _legacy_peer(self, ev: HandshakeComplete) -> bytes:
        """A ZMTP 2.0 or 1.0 peer: its message frames are ZMTP 3.0's (2.0), or a relay
        translates them (1.0, ``_legacy``). Returns the leftover the engine starts with."""
        self.legacy = True
        self.wire_fd = self.fileno()
        if ev.framing != 1:
            return ev.leftover
        from fastzmq import _legacy

        # a 1.0 subscriber sends no subscriptions: a PUB/XPUB takes it as subscribed to all
        pub = self.socket.socket_type in (_c.PUB, _c.XPUB) and not ev.peer_socket_type
        self.relay = _legacy.start(self, ev.leftover, _legacy.SUBSCRIBE_ALL if pub else b"")
        self.io.register(self.fileno(), self.slot, KIND_ENGINE, _ENGINE_MASK)
        self.relay.pump()
        return b""

    # ---------------------------------------------------------------- death
    def die(self, why: int) -> None:
        """Close the connection; ``why`` is 0 for a deliberate stop, else the error."""
        if self.state == 2:
            return
        was_handshaking = self.state == 0
        self.hs_failed = was_handshaking and why == errno.EPROTO  # RECONNECT_STOP reads it
        self.state = 2
        self.error = why
        io = self.io
        io.cancel_timer(self.timer)
        self.timer = None
        fd = self.fileno()
        if why != 0 and self.socket._monitor is not None:
            # (libzmq: a 2.0/1.0 peer's connection never "succeeded" its handshake, so
            # its end is reported as a failed one, with the errno)
            if (was_handshaking or self.legacy) and not self.reported:
                detail = 0 if why == _EOF else (why if why > 0 else errno.EPROTO)
                emit(self.socket, _c.EVENT_HANDSHAKE_FAILED_NO_DETAIL, detail, self.endpoint)
            emit(self.socket, _c.EVENT_DISCONNECTED, self.wire_fd or fd, self.endpoint)
        if self.slot >= 0:
            try:
                io.unregister(fd)
            except Exception:
                pass
        self.detach_rings()
        try:
            _fdio.close(self.pysock.detach())  # (keeps the GIL: see _fdio)
        except OSError:
            pass
        if self.slot >= 0:
            io.free_slot(self.slot)
            self.slot = -1
        if self.relay is not None:
            self.relay.pump()  # it reads our end's EOF now: flushes what it can, closes
        self.hs = None
        io.lingering.discard(self)
        self.owner.on_dead(self)
        if not io.lingering and not io.idle.is_set():  # (io.check_idle, without a lock)
            io.idle.set()

    def stop(self, linger: int) -> None:
        """Close now, or once the outbound ring is flushed (LINGER ms at most)."""
        if self.state == 1 and linger != 0 and (self.out_pending() or self.unsent()):
            self.set_closing()
            self.io.lingering.add(self)
            if linger > 0:
                self.timer = self.io.add_timer(linger / 1000.0, self._linger_expired)
            rc = self.c_pump()
            if rc:
                self.die(rc)
            return
        self.die(0)

    def _linger_expired(self) -> None:
        self.timer = None
        self.die(0)

    def info(self) -> dict:
        """What peers() reports about this connection (I/O thread)."""
        pipe = self.pipe
        return {
            "endpoint": self.endpoint,
            "transport": self.owner.ep.transport,
            "peer_address": _format_peer(self.peer_addr),
            "handshake_done": self.state == 1,
            "connected_since": self.since if self.state == 1 else None,
            "peer_type": getattr(pipe, "peer_type", None) if pipe is not None else None,
            "routing_id": getattr(pipe, "routing_id", None) if pipe is not None else None,
            # time.monotonic() when bytes from the peer last arrived (any traffic: messages,
            # commands, heartbeats); kept per pump by the engine, no clock read per message
            "last_heard": (self.last_heard or None) if self.state == 1 else None,
        }


_EOF = -100  # die(): the peer closed the connection
_HS_READ = 65536  # a handshake read
_HS_END = EPOLLRDHUP | EPOLLHUP | EPOLLERR  # an event that may hide an EOF after the data
_HS_IN = EPOLLIN | _HS_END  # an event that gives the handshake something to read
_STREAM_NB = _pysocket.SOCK_STREAM | _pysocket.SOCK_NONBLOCK  # created non-blocking
_RETRY_ACCEPT_S = 0.1  # a listener out of fds tries again after this (or at a close)


_TCP_ESTABLISHED = 1  # tcp_info's first byte (Linux)
_TCP_INFO = getattr(_pysocket, "TCP_INFO", None)


def _established(s: Any) -> bool:
    """A tcp connect() that returned EINPROGRESS is complete already (Linux: TCP_INFO's
    state byte; elsewhere the poller tells)."""
    if _TCP_INFO is None:
        return False
    try:
        return s.getsockopt(_pysocket.IPPROTO_TCP, _TCP_INFO, 1)[0] == _TCP_ESTABLISHED
    except OSError:
        return False


def _is_ip_literal(host: str) -> bool:
    for family in (_pysocket.AF_INET, _pysocket.AF_INET6):
        try:
            _pysocket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            pass
    return False


def _format_peer(addr: Any) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8", "replace")
    return str(addr or "")


class Listener:
    """A bound tcp/ipc endpoint accepting connections."""

    kind = "bind"

    def __init__(self, io: Any, sock: Any, ep: Any) -> None:
        self.io = io
        self.socket = sock
        self.ep = ep
        self.conns: set = set()
        self.slot = -1
        self.path = None
        self.paused = None  # the retry timer while accept() is out of fds
        self.wildcard = False  # bound to every address: a connection's endpoint is its own
        use_fd = _opt(sock, _c.USE_FD)
        if use_fd >= 0:
            self.pysock = self._adopt_fd(ep, use_fd)
        elif ep.transport == "ipc":
            self.pysock = self._bind_ipc(ep)
        else:
            self.pysock = self._bind_tcp(ep)

    def _bind_tcp(self, ep: Any) -> Any:
        try:
            sa, family = _endpoint.resolve(ep, bool(_opt(self.socket, _c.IPV6)))
            s = _pysocket.socket(family, _pysocket.SOCK_STREAM)
        except OSError as e:
            raise _bind_error(e, ep) from None
        try:
            s.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            if family == _pysocket.AF_INET6:
                s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_V6ONLY, 0)
            _tune(s, family, self.socket)  # BINDTODEVICE, buffers: before bind/listen
            s.bind(sa)
            s.listen(max(1, _opt(self.socket, _c.BACKLOG)))
            s.setblocking(False)
            host, port = s.getsockname()[:2]
        except OSError as e:
            s.close()
            raise _bind_error(e, ep) from None
        shown = ep.host if ep.host else ("0.0.0.0" if family == _pysocket.AF_INET else "::")
        if ep.host and _endpoint._literal_family(ep.host) is None:
            shown = host  # a host or interface name: show the address bound, as libzmq
        self.wildcard = not ep.host
        if family == _pysocket.AF_INET6 or ":" in shown:
            shown = f"[{shown}]"
        self.resolved = f"tcp://{shown}:{port}"
        self.url = self.resolved
        return s

    def _adopt_fd(self, ep: Any, fd: int) -> Any:
        """USE_FD: listen on a socket the caller bound and put into listening state (libzmq
        neither binds nor listens it; the endpoint only names the transport)."""
        try:
            s = _pysocket.socket(fileno=fd)
            s.setblocking(False)
            name = s.getsockname()
        except OSError as e:
            raise _bind_error(e, ep) from None
        if s.family == _pysocket.AF_UNIX:
            path = name if isinstance(name, str) else name.decode(errors="replace")
            self.resolved = f"ipc://{path}"
        else:
            host = f"[{name[0]}]" if s.family == _pysocket.AF_INET6 else name[0]
            self.resolved = f"tcp://{host}:{name[1]}"
        self.url = self.resolved
        return s

    def _bind_ipc(self, ep: Any) -> Any:
        path = ep.address
        if path == "*":
            path = tempfile.mktemp(prefix="fastzmq-", suffix=".ipc")
        try:
            s = _pysocket.socket(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
        except OSError as e:
            raise _bind_error(e, ep) from None
        try:
            if os.path.exists(path) and not path.startswith("@"):
                os.unlink(path)
            s.bind(path if not path.startswith("@") else "\0" + path[1:])
            s.listen(max(1, _opt(self.socket, _c.BACKLOG)))
            s.setblocking(False)
        except OSError as e:
            s.close()
            raise _bind_error(e, ep) from None
        self.path = path if not path.startswith("@") else None
        self.resolved = f"ipc://{path}"
        self.url = self.resolved
        return s

    def start(self) -> None:
        self.slot = self.io.new_slot(self)
        self.io.register(self.pysock.fileno(), self.slot, KIND_SLOW, EPOLLIN)
        emit(self.socket, _c.EVENT_LISTENING, self.pysock.fileno(), self.url)
        self.on_event(KIND_SLOW, EPOLLIN)

    def on_event(self, kind: int, mask: int) -> None:
        if self.paused is not None or self.slot < 0:
            return
        lfd = self.pysock.fileno()
        sock = self.socket
        while True:
            try:  # accept4 non-blocking, keeping the GIL (see _fdio)
                accepted = _fdio.accept(lfd)
                if accepted is None:
                    return  # none waiting
                cfd, family, addr = accepted
                conn = _pysocket.socket(family, _STREAM_NB, 0, cfd)
                if family == _pysocket.AF_INET6:
                    addr = conn.getpeername()  # with its scope, as Python gives it
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                code = e.errno or errno.EIO
                emit(self.socket, _c.EVENT_ACCEPT_FAILED, code, self.url)
                if code in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self._pause()  # level-triggered: retrying now would spin
                    return
                continue  # ECONNABORTED and friends: that one connection is gone
            try:
                opts = sock.options
                if opts and not _admit(conn, family, opts):
                    conn.close()
                    continue
                _tune(conn, family, sock)
            except OSError as e:
                emit(self.socket, _c.EVENT_ACCEPT_FAILED, e.errno or errno.EIO, self.url)
                conn.close()
                continue
            kind = RawConnection if sock.impl.raw else Connection  # (STREAM: raw)
            endpoint = self.url if sock._monitor is None else self._endpoint_of(conn)
            c = kind(self.io, sock, conn, self, endpoint, addr)
            emit(sock, _c.EVENT_ACCEPTED, c.fileno(), c.endpoint)
            self.conns.add(c)
            c.start()

    def _endpoint_of(self, conn: Any) -> str:
        if not self.wildcard or self.socket._monitor is None:
            return self.url
        try:  # the address this connection came in on, as libzmq reports it
            host, port = conn.getsockname()[:2]
        except OSError:
            return self.url
        return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"

    def _pause(self) -> None:
        self.io.unregister(self.pysock.fileno())
        self.paused = self.io.add_timer(_RETRY_ACCEPT_S, self._resume)

    def _resume(self) -> None:
        if self.paused is None:
            return
        self.io.cancel_timer(self.paused)
        self.paused = None
        if self.slot < 0:
            return
        self.io.register(self.pysock.fileno(), self.slot, KIND_SLOW, EPOLLIN)
        self.on_event(KIND_SLOW, EPOLLIN)

    def pipe_for(self, conn: Any, ev: Any) -> Any:
        pipe, _, _ = make_wire_pipe()
        pipe.set_sndhwm(max(0, self.socket.sndhwm))
        pipe.routing_id = ev.peer_identity or None
        pipe.endpoint = self.url
        pipe.connected = True
        pipe.owner = self  # ROUTER_HANDOVER closes the connection through close_pipe
        return pipe

    def close_pipe(self, pipe: Any) -> None:
        """Close the connection behind pipe (I/O thread; ROUTER_HANDOVER)."""
        for conn in list(self.conns):
            if conn.pipe is pipe:
                conn.die(0)

    def on_active(self, conn: Any, pipe: Any) -> None:
        self.socket._post("attach", pipe)

    def on_dead(self, conn: Any) -> None:
        self.conns.discard(conn)
        if conn.pipe is not None:
            # A wake-up only if the socket acts on it at once (ROUTER: notify, parked
            # peers; XPUB: unsubscriptions); else its next call drops the pipe (a REP
            # blocked in recv would wake for nothing at every disconnection).
            sock = self.socket
            wake = sock.impl.wake_on_detach or sock.router_notify & 2
            sock._post("detach", conn.pipe, wake)
        if self.paused is not None:
            self._resume()  # an fd was freed: accept what waits

    def peers(self) -> list:
        return [c.info() for c in self.conns]

    def stop(self, linger: int) -> None:
        if self.paused is not None:
            self.io.cancel_timer(self.paused)
            self.paused = None
        if self.slot >= 0:
            fd = self.pysock.fileno()
            self.io.unregister(fd)
            self.io.free_slot(self.slot)
            self.slot = -1
            self.pysock.close()
            emit(self.socket, _c.EVENT_CLOSED, fd, self.url)
        else:
            self.pysock.close()
        if self.path:
            try:
                os.unlink(self.path)
            except OSError as e:
                emit(self.socket, _c.EVENT_CLOSE_FAILED, e.errno or errno.EIO, self.url)
        for conn in list(self.conns):
            conn.stop(linger)


class Connecter:
    """A connected endpoint: one pipe, reconnecting for as long as it lives."""

    kind = "connect"

    def __init__(self, io: Any, sock: Any, ep: Any) -> None:
        self.io = io
        self.socket = sock
        self.ep = ep
        self.url = ep.url
        self.stopped = False
        self.linger_deadline: float | None = None  # set when closed with messages queued
        self.linger_timer = None
        self.retry_timer = None
        self.resolved: Any = None  # (sockaddr, family) of an IP literal, kept across attempts
        self.conn = None
        self.pending = None
        self.slot = -1
        ivl = sock.options.get(_c.RECONNECT_IVL)  # (as _opt, one call less)
        self.ivl0 = max(0, _RECONNECT_IVL if ivl is None else ivl)  # (read at connect)
        self.ivl = self.ivl0  # the next retry's delay (RECONNECT_IVL_MAX backs it off)
        self.pipe, _, _ = make_wire_pipe()
        self.pipe.set_sndhwm(max(0, sock.sndhwm))
        self.pipe.endpoint = self.url
        # CONNECT_ROUTING_ID: the name this ROUTER gives the peer; it serves one connect()
        self.fixed_rid = sock.options.pop(_CONNECT_ROUTING_ID, None)
        if self.fixed_rid:
            self.pipe.routing_id = self.fixed_rid
        # Messages may queue before the peer exists, unless IMMEDIATE (or a ROUTER,
        # which must learn the peer's identity first: its type's attach_late).
        self.attached = not (sock.immediate or sock.impl.attach_late)
        self.was_active = False  # a connection has completed its handshake before
        self.attempts = 0  # connect() calls made
        self.socks = None  # (socket, Socks5) while the SOCKS_PROXY exchange runs
        if self.attached:  # (a fresh pipe: its socket's thread needs no wake-up)
            sock._attach(self.pipe, True)
        else:
            sock._probe_unattached(self.pipe)  # PROBE_ROUTER (a ROUTER's connect)

        # The first dial is made here, in the caller's thread, when it needs no name
        # lookup: the peer sees the connection while this thread goes on and while the I/O
        # thread finishes what was queued before (under churn, the previous socket's
        # teardown), instead of after both. The I/O thread takes it from there (start).
        self.dialed_here = self._no_lookup()
        self.first = self._dial() if self.dialed_here else None

    def _no_lookup(self) -> bool:
        """The endpoint's address is known without DNS (ipc; a tcp IP literal with no
        source address and no SOCKS proxy): resolving and connecting cannot block."""
        ep = self.ep
        if ep.transport == "ipc":
            return True
        return (
            ep.transport == "tcp"
            and not ep.source
            and not self.socket.options.get(_c.SOCKS_PROXY)
            and _is_ip_literal(ep.host)
        )

    def start(self) -> None:
        if not self.dialed_here:
            self._attempt()
            return
        first, self.first, self.dialed_here = self.first, None, False
        self._dialed(first)

    def _attempt(self) -> None:
        self.retry_timer = None
        if self.stopped or self.conn is not None or self.pending is not None:
            return
        self._dialed(self._dial())

    def _dial(self) -> tuple | None:
        """Resolve the address, make the OS socket and start its connect: (socket,
        address, family, connect's errno, whether it is up, the bytes of our greeting sent),
        or None when there is no address or no socket. Acts on nothing else (it may run in
        the caller's thread: see __init__).

        A connection up at once (ipc; loopback tcp connects inside the call) gets our
        signature at once, the first bytes of every ZMTP handshake: the peer reads it with
        its accept, and its first answer carries its major version too, while this side's
        I/O thread is still setting the connection up. (Not to a STREAM peer, which has no
        ZMTP, nor to a SOCKS proxy, which speaks first.) The routing id is read here, and
        the connection's handshake uses the same (the signature encodes its length)."""
        self.attempts += 1
        try:
            if self.ep.transport == "ipc":
                family, sa = _pysocket.AF_UNIX, self.ep.address
                if sa.startswith("@"):
                    sa = "\0" + sa[1:]
            elif self.resolved is not None:
                sa, family = self.resolved
            elif (known := self._known_literal()) is not None:
                self.resolved = sa, family = known
            else:
                ipv6 = bool(_opt(self.socket, _c.IPV6))
                proxy = self.socket.options.get(_c.SOCKS_PROXY)
                if proxy:  # connect to the proxy; it connects to the endpoint
                    host, port = _socks.split_proxy(proxy)
                    sa, family = _endpoint.resolve_host(host, port, ipv6, False)
                else:
                    sa, family = _endpoint.resolve(self.ep, ipv6, bind=False)
                if self.ep.source:  # "source;destination": the local end first
                    src, sport = _endpoint.split_source(self.ep.source)
                    v6 = family == _pysocket.AF_INET6
                    source, _ = _endpoint.resolve_host(src, sport, v6, True)
                if self._no_lookup():
                    self.resolved = (sa, family)  # no DNS behind it: resolve once
                    if len(_LITERALS) < 256:  # (and once per process: a new socket's too)
                        _LITERALS[self.ep, self.socket.options.get(_c.IPV6)] = self.resolved
            # (_fdio's calls keep the GIL, Python's release it: a dial in the caller's
            # thread would otherwise hand the GIL to the I/O thread mid-way, and wait)
            s = _pysocket.socket(family, _STREAM_NB, 0, _fdio.stream_socket(family))
        except (OSError, ZMQError):
            return None
        try:
            _tune(s, family, self.socket)
            if self.ep.transport == "tcp" and self.ep.source:
                s.bind(source)
            try:
                err = _fdio.connect(s.fileno(), family, sa)
            except ValueError:  # (an address form it does not build: Python's call does)
                err = s.connect_ex(sa)
        except OSError as e:
            err = e.errno or errno.EIO
        up = err == 0 or (
            err == errno.EINPROGRESS and family != _pysocket.AF_UNIX and _established(s)
        )
        sent = b""
        identity = self.socket.routing_id_opt or b""
        if up and not self.socket.impl.raw and not self.socket.options.get(_c.SOCKS_PROXY):
            signature = encode_signature(identity)
            try:
                sent = signature[: _fdio.send(s.fileno(), signature)]
            except OSError:
                pass  # (the connection's first read meets the error)
        return s, sa, family, err, up, sent, identity

    def _dialed(self, dial: tuple | None) -> None:
        """Go on from a dial (I/O thread): up, in progress, or failed and retried."""
        if dial is None:
            self._retry()
            return
        s, sa, family, err, up, sent, identity = dial
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
            fd = s.fileno()
            s.close()
            emit(self.socket, _c.EVENT_CLOSED, fd, self.url)
            if err == errno.ECONNREFUSED and self._stop_on(1):
                return
            self._retry()
            return
        self.peer = sa
        if up:  # (ipc, and loopback tcp: no poller round for its EPOLLOUT)
            if err:
                emit(self.socket, _c.EVENT_CONNECT_DELAYED, err, self.url)
            self._up(s, sent, identity)
            return
        self.pending = s
        self.slot = self.io.new_slot(self)
        self.io.register(s.fileno(), self.slot, KIND_SLOW, EPOLLOUT | EPOLLERR | EPOLLHUP)
        if err:
            emit(self.socket, _c.EVENT_CONNECT_DELAYED, err, self.url)
        timeout = _opt(self.socket, _c.CONNECT_TIMEOUT)
        if timeout > 0:
            self.io.add_timer(timeout / 1000.0, lambda: self._connect_timeout(s))

    def _known_literal(self) -> tuple | None:
        """The address of this endpoint's IP literal, resolved by an earlier connecter."""
        opts = self.socket.options
        if opts.get(_c.SOCKS_PROXY):
            return None
        return _LITERALS.get((self.ep, opts.get(_c.IPV6)))

    def _connect_timeout(self, s: Any) -> None:
        """CONNECT_TIMEOUT: a connect still in progress is abandoned and retried."""
        if self.pending is not s:
            return
        self.pending = None
        self.io.unregister(s.fileno())
        self.io.free_slot(self.slot)
        self.slot = -1
        s.close()
        self._retry()

    def _stop_on(self, bit: int) -> bool:
        """RECONNECT_STOP: stop for good if the user asked to on this condition."""
        if _opt(self.socket, _c.RECONNECT_STOP) & bit:
            self._hard_stop()
            return True
        return False

    def on_event(self, kind: int, mask: int) -> None:
        if self.socks is not None:
            self._socks_io()
            return
        s = self.pending
        if s is None:
            return
        self.pending = None
        fd = s.fileno()
        self.io.unregister(fd)
        self.io.free_slot(self.slot)
        self.slot = -1
        err = s.getsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_ERROR)
        if err or self.stopped:
            s.close()
            emit(self.socket, _c.EVENT_CLOSED, fd, self.url)
            if err == errno.ECONNREFUSED and self._stop_on(1):
                return
            self._retry()
            return
        self._up(s)

    def _up(self, s: Any, sent: bytes = b"", identity: bytes | None = None) -> None:
        """The OS connection is up: the SOCKS exchange first, or the ZMTP connection
        (``sent``: what the dial sent of our greeting; ``identity``: the routing id then)."""
        proxy = self.socket.options.get(_c.SOCKS_PROXY) if self.ep.transport == "tcp" else None
        if proxy:
            self._socks_start(s)
            return
        self._connected(s, sent, identity)

    def _connected(self, s: Any, sent: bytes = b"", identity: bytes | None = None) -> None:
        fd = s.fileno()
        sock = self.socket
        if sock.impl.raw:  # (STREAM: no ZMTP)
            self.conn = RawConnection(self.io, sock, s, self, self.url, self.peer)
        else:
            self.conn = Connection(self.io, sock, s, self, self.url, self.peer, sent, identity)
        emit(self.socket, _c.EVENT_CONNECTED, fd, self.url)
        self.conn.start()  # may die at once: on_dead clears self.conn and retries

    # ---------------------------------------------------------------- SOCKS_PROXY
    def _socks_start(self, s: Any) -> None:
        opts = self.socket.options
        client = _socks.Socks5(
            self.ep.host,
            self.ep.port,
            opts.get(_c.SOCKS_USERNAME, b""),
            opts.get(_c.SOCKS_PASSWORD, b""),
        )
        self.socks = (s, client)
        self.slot = self.io.new_slot(self)
        self.io.register(s.fileno(), self.slot, KIND_SLOW, EPOLLIN | EPOLLERR | EPOLLHUP)
        ivl = _opt(self.socket, _c.HANDSHAKE_IVL)
        if ivl > 0:
            self.io.add_timer(ivl / 1000.0, lambda: self._socks_fail(s))
        try:
            s.sendall(client.start())  # a few bytes into an empty socket buffer
        except OSError:
            self._socks_fail(s)

    def _socks_io(self) -> None:
        s, client = self.socks
        try:
            while not client.done:
                data = s.recv(client.need())
                if not data:
                    raise _socks.SocksError("the proxy closed the connection")
                out = client.feed(data)
                if out:
                    s.sendall(out)
        except (BlockingIOError, InterruptedError):
            return
        except (OSError, _socks.SocksError):
            self._socks_fail(s)
            return
        self.socks = None
        self.io.unregister(s.fileno())
        self.io.free_slot(self.slot)
        self.slot = -1
        if self.stopped:
            s.close()
            return
        self._connected(s)

    def _socks_fail(self, s: Any) -> None:
        if self.socks is None or self.socks[0] is not s:
            return  # (a timer for an exchange that is over)
        self.socks = None
        self.io.unregister(s.fileno())
        self.io.free_slot(self.slot)
        self.slot = -1
        s.close()
        self._retry()

    def _retry(self) -> None:
        if self.stopped:
            return
        if _opt(self.socket, _c.RECONNECT_IVL) == -1:  # libzmq: -1 never reconnects
            self._hard_stop()
            return
        delay = self.ivl if self.ivl > 0 else 100
        ivl_max = _opt(self.socket, _c.RECONNECT_IVL_MAX)
        if ivl_max > self.ivl:
            self.ivl = min(self.ivl * 2, ivl_max)
        self.retry_timer = self.io.add_timer(delay / 1000.0, self._attempt)
        emit(self.socket, _c.EVENT_CONNECT_RETRIED, delay, self.url)

    def pipe_for(self, conn: Any, ev: Any) -> Any:
        if ev.peer_identity and not self.fixed_rid:
            self.pipe.routing_id = ev.peer_identity
        return self.pipe

    def on_active(self, conn: Any, pipe: Any) -> None:
        pipe.connected = True
        self.ivl = self.ivl0
        if self.linger_deadline is not None:  # closed while connecting: flush, then go
            left = -1 if self.linger_deadline == 0 else self.linger_deadline - time.monotonic()
            conn.stop(-1 if left == -1 else max(1, int(left * 1000)))
            return
        if not self.attached:
            self.attached = True
            self.socket._post("attach", pipe)
        elif not self.was_active:  # adopted at connect(): what it queued goes out now
            # The socket acts on this only for subscriptions or ROUTER_NOTIFY (and
            # wait_peers): else no wake-up (a REQ blocked in recv would wake for nothing).
            sock = self.socket
            sock._post("activated", pipe, sock.impl.wake_on_activate or sock.router_notify & 1)
        else:
            self.socket._post("reconnected", pipe)
        self.was_active = True

    def on_dead(self, conn: Any) -> None:
        self.conn = None
        was_up = self.pipe.connected
        self.pipe.connected = False
        if was_up and self.attached and self.socket.router_notify & 2:
            self.socket._post("disconnected", self.pipe)
        if self.linger_deadline is not None and not self.pipe.out_pending():
            self._hard_stop()  # lingering, and everything was flushed
        elif not self.stopped:
            if conn.hs_failed and self._stop_on(2):
                return  # the handshake failed (RECONNECT_STOP_HANDSHAKE_FAILED)
            if was_up and self._stop_on(4):
                return  # RECONNECT_STOP_AFTER_DISCONNECT
            self._retry()

    def peers(self) -> list:
        if self.conn is None:
            return []
        return [self.conn.info()]

    def stop(self, linger: int) -> None:
        """Socket closed: with LINGER and queued messages, keep connecting to flush them."""
        # (security: a CURVE engine may hold sealed bytes the ring no longer shows; and the
        # kernel may hold bytes not yet delivered: closing now could reset and drop them)
        conn = self.conn if self.conn is not None and self.conn.active else None
        conn_pending = conn is not None and (conn.out_pending() or conn.unsent())
        if linger != 0 and (self.pipe.out_pending() or conn_pending) and not self.stopped:
            self.linger_deadline = 0.0 if linger < 0 else time.monotonic() + linger / 1000.0
            self.io.lingering.add(self)
            if linger > 0:
                self.linger_timer = self.io.add_timer(linger / 1000.0, self._hard_stop)
            if self.conn is not None and self.conn.active:
                self.conn.stop(linger)
            return
        self._hard_stop()

    def _hard_stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.io.cancel_timer(self.linger_timer)
        self.io.cancel_timer(self.retry_timer)
        self.linger_timer = self.retry_timer = None
        self.io.lingering.discard(self)
        if self.socks is not None:
            s = self.socks[0]
            self.socks = None
            self.io.unregister(s.fileno())
            self.io.free_slot(self.slot)
            s.close()
        if self.pending is not None:
            fd = self.pending.fileno()
            self.io.unregister(fd)
            self.io.free_slot(self.slot)
            self.pending.close()
            self.pending = None
            emit(self.socket, _c.EVENT_CLOSED, fd, self.url)
        if self.conn is not None:
            self.conn.stop(0)
        if not self.socket.closed and self.attached:
            self.socket._post("detach", self.pipe)
        self.io.check_idle()

"""tcp and ipc: listeners, connecters and connections (the I/O thread's slow path).

Everything here runs in the I/O thread with the GIL, except the constructors of
``Listener`` and ``Connecter``, which run in the socket's thread so that bind errors
(EADDRINUSE, ...) raise where the user called ``bind``. The data phase of a
connection is ``Engine.pump`` in ``_io.pyx``, without the GIL.

Connection life (RFC 23/37): OS connection -> greeting and mechanism handshake
(``zmtp.handshake``, sans-I/O) -> active (pumping) -> dead. A connecter's pipe
outlives its connections: messages queue before the first connection and across
reconnects (back-off from RECONNECT_IVL doubling up to RECONNECT_IVL_MAX). A
listener's pipes live and die with their connections.

A connection is created, put where its owner keeps it, and only then started
(``start``), so a connection that dies during set-up is always removed again.
Every timer a connection arms is cancelled when it dies: a finished connection
holds nothing (fd, eventfd, memory) after ``die``. A listener that runs out of
fds (EMFILE/ENFILE) pauses accepting and resumes on a short timer or as soon as
one of its connections closes. Socket monitor events are reported through
``_monitor.emit`` with libzmq's values (fd, errno or interval).
"""

from __future__ import annotations

import errno
import os
import socket as _pysocket
import tempfile
import time
from typing import Any

from fastzmq import _endpoint
from fastzmq import constants as _c
from fastzmq._io import Engine
from fastzmq._monitor import emit, protocol_error_code
from fastzmq._pipe import make_wire_pipe
from fastzmq._socket import SOCKET_TYPE_NAMES
from fastzmq._waiter import Waiter
from fastzmq.error import ZMQError
from fastzmq.zmtp.handshake import Handshake, HandshakeComplete, HandshakeFailed

KIND_ENGINE, KIND_WAKE, KIND_SLOW = 0, 1, 2
EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP = 0x001, 0x004, 0x008, 0x010
EPOLLRDHUP, EPOLLET = 0x2000, 1 << 31
_ENGINE_MASK = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET


def _opt(sock: Any, option: int) -> int:
    return sock._option_value(option)


def _bind_error(e: OSError, ep: Any) -> ZMQError:
    code = e.errno or _c.EINVAL
    return ZMQError(code, f"{os.strerror(code)}: {ep.raw}")


def _tune(pysock: Any, family: int) -> None:
    pysock.setblocking(False)
    if family in (_pysocket.AF_INET, _pysocket.AF_INET6):
        pysock.setsockopt(_pysocket.IPPROTO_TCP, _pysocket.TCP_NODELAY, 1)


class Connection(Engine):
    """One ZMTP connection: handshake in Python, then the compiled pump."""

    def __init__(
        self, io: Any, sock: Any, pysock: Any, owner: Any, endpoint: str, peer: Any
    ) -> None:
        self.io = io
        self.socket = sock
        self.pysock = pysock
        self.owner = owner
        self.endpoint = endpoint  # for monitor events and peers()
        self.peer_addr = peer  # the peer's socket address (tcp: (host, port); ipc: path)
        self.since = 0.0  # time.time() when the handshake completed
        self.waiter_obj = None
        self.timer = None  # the handshake or linger timer (cancelled by die)
        self.reported = False  # a handshake failure was reported with its detail
        self.slot = -1
        self.set_fd(pysock.fileno())
        self.hs = Handshake(
            socket_type=SOCKET_TYPE_NAMES[sock.socket_type],
            identity=sock.routing_id_opt or b"",
        )
        self.hs_out = self.hs.data_to_send()

    def start(self) -> None:
        """Register and begin the handshake (after the owner has recorded us)."""
        io = self.io
        self.slot = io.new_slot(self)
        try:
            io.register(self.fileno(), self.slot, KIND_ENGINE, _ENGINE_MASK)
        except OSError as e:
            self.die(e.errno or errno.EIO)
            return
        ivl = _opt(self.socket, _c.HANDSHAKE_IVL)
        if ivl > 0:
            self.timer = io.add_timer(ivl / 1000.0, self._handshake_timeout)
        self._handshake_io(EPOLLOUT | EPOLLIN)

    # ---------------------------------------------------------------- events
    def on_event(self, kind: int, mask: int) -> None:
        if self.state == 0:
            self._handshake_io(mask)
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
            self._hs_send()
            while True:
                data = self.pysock.recv(65536)
                if not data:
                    self.die(_EOF)
                    return
                self.hs.receive_data(data)
                ev = self.hs.next_event()
                self.hs_out += self.hs.data_to_send()
                self._hs_send()
                if isinstance(ev, HandshakeComplete):
                    self._activate(ev)
                    return
                if isinstance(ev, HandshakeFailed):
                    code = protocol_error_code(ev.error)
                    if code is not None:
                        self.reported = True
                        emit(self.socket, _c.EVENT_HANDSHAKE_FAILED_PROTOCOL, code, self.endpoint)
                    self.die(errno.EPROTO)
                    return
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.die(e.errno or -1)

    def _hs_send(self) -> None:
        while self.hs_out:
            n = self.pysock.send(self.hs_out)
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
        pipe.zmtp_minor = ev.version[1]
        pipe.peer_type = ev.peer_socket_type
        waiter = self.owner.waiter_for(self)
        self.waiter_obj = waiter
        self.hs = None
        self.io.register(waiter.fileno(), self.slot, KIND_WAKE, EPOLLIN | EPOLLET)
        rcvhwm = max(0, sock.rcvhwm)
        rc = self.activate(pipe, waiter, ev.leftover, sock.maxmsgsize, rcvhwm)
        emit(sock, _c.EVENT_HANDSHAKE_SUCCEEDED, 0, self.endpoint)
        self.owner.on_active(self, pipe)
        if self.state != 1:
            return  # on_active flushed and closed it (a socket closed while connecting)
        if rc == 0:
            rc = self.c_pump()
        if rc:
            self.error = rc
            self.die(rc)

    # ---------------------------------------------------------------- death
    def die(self, why: int) -> None:
        """Close the connection; ``why`` is 0 for a deliberate stop, else the error."""
        if self.state == 2:
            return
        was_handshaking = self.state == 0
        self.state = 2
        self.error = why
        io = self.io
        io.cancel_timer(self.timer)
        self.timer = None
        fd = self.fileno()
        if why != 0 and self.socket._monitor is not None:
            if was_handshaking and not self.reported:
                detail = 0 if why == _EOF else (why if why > 0 else errno.EPROTO)
                emit(self.socket, _c.EVENT_HANDSHAKE_FAILED_NO_DETAIL, detail, self.endpoint)
            emit(self.socket, _c.EVENT_DISCONNECTED, fd, self.endpoint)
        if self.slot >= 0:
            try:
                io.unregister(fd)
                if self.waiter_obj is not None:
                    io.unregister(self.waiter_obj.fileno())
            except Exception:
                pass
        self.detach_rings()
        try:
            self.pysock.close()
        except OSError:
            pass
        if self.slot >= 0:
            io.free_slot(self.slot)
            self.slot = -1
        self.hs = None
        io.lingering.discard(self)
        self.owner.on_dead(self)
        io.check_idle()

    def stop(self, linger: int) -> None:
        """Close now, or once the outbound ring is flushed (LINGER ms at most)."""
        if self.state == 1 and linger != 0 and self.out_pending():
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
        }


_EOF = -100  # die(): the peer closed the connection
_RETRY_ACCEPT_S = 0.1  # a listener out of fds tries again after this (or at a close)


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
        if ep.transport == "ipc":
            self.pysock = self._bind_ipc(ep)
        else:
            self.pysock = self._bind_tcp(ep)

    def _bind_tcp(self, ep: Any) -> Any:
        try:
            sa, family = _endpoint.resolve(ep)
            s = _pysocket.socket(family, _pysocket.SOCK_STREAM)
        except OSError as e:
            raise _bind_error(e, ep) from None
        try:
            s.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            if family == _pysocket.AF_INET6:
                s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_V6ONLY, 0)
            s.bind(sa)
            s.listen(max(1, _opt(self.socket, _c.BACKLOG)))
            s.setblocking(False)
            host, port = s.getsockname()[:2]
        except OSError as e:
            s.close()
            raise _bind_error(e, ep) from None
        shown = ep.host if ep.host else ("0.0.0.0" if family == _pysocket.AF_INET else "::")
        self.wildcard = not ep.host
        if family == _pysocket.AF_INET6 or ":" in shown:
            shown = f"[{shown}]"
        self.resolved = f"tcp://{shown}:{port}"
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
        while True:
            try:
                conn, addr = self.pysock.accept()
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
                _tune(conn, conn.family)
            except OSError as e:
                emit(self.socket, _c.EVENT_ACCEPT_FAILED, e.errno or errno.EIO, self.url)
                conn.close()
                continue
            c = Connection(self.io, self.socket, conn, self, self._endpoint_of(conn), addr)
            emit(self.socket, _c.EVENT_ACCEPTED, c.fileno(), c.endpoint)
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
        return pipe

    def waiter_for(self, conn: Any) -> Any:
        return Waiter()

    def on_active(self, conn: Any, pipe: Any) -> None:
        self.socket._post("attach", pipe)

    def on_dead(self, conn: Any) -> None:
        self.conns.discard(conn)
        if conn.pipe is not None:
            self.socket._post("detach", conn.pipe)
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
        self.ivl = max(0, _opt(sock, _c.RECONNECT_IVL))
        try:
            self.waiter = Waiter()
        except OSError as e:  # EMFILE: raised at connect(), as libzmq does
            raise ZMQError(e.errno or errno.EMFILE, os.strerror(e.errno or errno.EMFILE)) from None
        self.pipe, _, _ = make_wire_pipe()
        self.pipe.set_sndhwm(max(0, sock.sndhwm))
        self.pipe.endpoint = self.url
        # Messages may queue before the peer exists, unless IMMEDIATE (or a ROUTER,
        # which must learn the peer's identity first).
        self.attached = not (sock.immediate or sock.socket_type == _c.ROUTER)
        self.was_active = False  # a connection has completed its handshake before
        if self.attached:
            sock._attach(self.pipe)

    def start(self) -> None:
        self._attempt()

    def _attempt(self) -> None:
        self.retry_timer = None
        if self.stopped or self.conn is not None or self.pending is not None:
            return
        try:
            if self.ep.transport == "ipc":
                family, sa = _pysocket.AF_UNIX, self.ep.address
                if sa.startswith("@"):
                    sa = "\0" + sa[1:]
            elif self.resolved is not None:
                sa, family = self.resolved
            else:
                sa, family = _endpoint.resolve(self.ep)
                if _is_ip_literal(self.ep.host):  # no DNS behind it: resolve once
                    self.resolved = (sa, family)
            s = _pysocket.socket(family, _pysocket.SOCK_STREAM)
        except (OSError, ZMQError):
            self._retry()
            return
        try:
            _tune(s, family)
            err = s.connect_ex(sa)
        except OSError as e:
            err = e.errno or errno.EIO
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
            fd = s.fileno()
            s.close()
            emit(self.socket, _c.EVENT_CLOSED, fd, self.url)
            self._retry()
            return
        self.pending = s
        self.peer = sa
        self.slot = self.io.new_slot(self)
        self.io.register(s.fileno(), self.slot, KIND_SLOW, EPOLLOUT | EPOLLERR | EPOLLHUP)
        if err:
            emit(self.socket, _c.EVENT_CONNECT_DELAYED, err, self.url)

    def on_event(self, kind: int, mask: int) -> None:
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
            self._retry()
            return
        self.conn = Connection(self.io, self.socket, s, self, self.url, self.peer)
        emit(self.socket, _c.EVENT_CONNECTED, fd, self.url)
        self.conn.start()

    def _retry(self) -> None:
        if self.stopped:
            return
        delay = self.ivl if self.ivl > 0 else 100
        ivl_max = _opt(self.socket, _c.RECONNECT_IVL_MAX)
        if ivl_max > self.ivl:
            self.ivl = min(self.ivl * 2, ivl_max)
        self.retry_timer = self.io.add_timer(delay / 1000.0, self._attempt)
        emit(self.socket, _c.EVENT_CONNECT_RETRIED, delay, self.url)

    def pipe_for(self, conn: Any, ev: Any) -> Any:
        if ev.peer_identity:
            self.pipe.routing_id = ev.peer_identity
        return self.pipe

    def waiter_for(self, conn: Any) -> Any:
        return self.waiter

    def on_active(self, conn: Any, pipe: Any) -> None:
        pipe.connected = True
        self.ivl = max(0, _opt(self.socket, _c.RECONNECT_IVL))
        if self.linger_deadline is not None:  # closed while connecting: flush, then go
            left = -1 if self.linger_deadline == 0 else self.linger_deadline - time.monotonic()
            conn.stop(-1 if left == -1 else max(1, int(left * 1000)))
            return
        if not self.attached:
            self.attached = True
            self.socket._post("attach", pipe)
        elif not self.was_active:  # adopted at connect(): what it queued goes out now
            self.socket._post("activated", pipe)
        else:
            self.socket._post("reconnected", pipe)
        self.was_active = True

    def on_dead(self, conn: Any) -> None:
        self.conn = None
        self.pipe.connected = False
        if self.linger_deadline is not None and not self.pipe.out_pending():
            self._hard_stop()  # lingering, and everything was flushed
        elif not self.stopped:
            self._retry()

    def peers(self) -> list:
        if self.conn is None:
            return []
        return [self.conn.info()]

    def stop(self, linger: int) -> None:
        """Socket closed: with LINGER and queued messages, keep connecting to flush them."""
        if linger != 0 and self.pipe.out_pending() and not self.stopped:
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

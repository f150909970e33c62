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
"""

from __future__ import annotations

import errno
import os
import socket as _pysocket
import tempfile
import time
from typing import Any

from fastzmq import _endpoint, _monitor, _security
from fastzmq import constants as _c
from fastzmq._io import Engine
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


def _peer_address(pysock: Any) -> bytes:
    """The peer's IP address (ZAP's "address" frame); empty for ipc."""
    try:
        if pysock.family in (_pysocket.AF_INET, _pysocket.AF_INET6):
            return pysock.getpeername()[0].encode()
    except OSError:
        pass
    return b""


class Connection(Engine):
    """One ZMTP connection: handshake in Python, then the compiled pump."""

    def __init__(self, io: Any, sock: Any, pysock: Any, owner: Any) -> None:
        self.io = io
        self.socket = sock
        self.pysock = pysock
        self.owner = owner
        self.waiter_obj = None
        self.set_fd(pysock.fileno())
        self.slot = io.new_slot(self)
        self.zap_asked = False
        self.peer_address = _peer_address(pysock)
        mechanism, as_server = _security.mechanism_for(sock, self.peer_address)
        self.hs = Handshake(
            socket_type=SOCKET_TYPE_NAMES[sock.socket_type],
            identity=sock.routing_id_opt or b"",
            mechanism=mechanism,
            as_server=as_server,
        )
        self.hs_out = self.hs.data_to_send()
        io.register(self.fileno(), self.slot, KIND_ENGINE, _ENGINE_MASK)
        ivl = _opt(sock, _c.HANDSHAKE_IVL)
        if ivl > 0:
            io.add_timer(ivl / 1000.0, self._handshake_timeout)
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
                    self.die(-100)
                    return
                self.hs.receive_data(data)
                if self._hs_step(self.hs.next_event()):
                    return
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.die(e.errno or -1)
        except Exception:  # a bug must not leave a half-open connection: fail closed
            self.die(-1)
            raise

    def _hs_step(self, ev: Any) -> bool:
        """Send what the handshake queued, then act on ``ev``; True once it is over."""
        self.hs_out += self.hs.data_to_send()
        self._hs_send()
        if isinstance(ev, HandshakeComplete):
            _monitor.emit(self.socket, _c.EVENT_HANDSHAKE_SUCCEEDED, 0, self.owner.url)
            self._activate(ev)
            return True
        if isinstance(ev, HandshakeFailed):
            report = _security.failure_event(ev.error)
            if report is not None:
                _monitor.emit(self.socket, report[0], report[1], self.owner.url)
            self.die(-1)
            return True
        request = self.hs.zap_request
        if request is not None and not self.zap_asked:
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
            n = self.pysock.send(self.hs_out)
            self.hs_out = self.hs_out[n:]

    def _handshake_timeout(self) -> None:
        if self.state == 0:
            self.die(errno.ETIMEDOUT)

    def _activate(self, ev: HandshakeComplete) -> None:
        sock = self.socket
        pipe = self.owner.pipe_for(self, ev)
        pipe.zmtp_minor = ev.version[1]
        pipe.peer_type = ev.peer_socket_type
        waiter = self.owner.waiter_for(self)
        self.waiter_obj = waiter
        pipe.properties = _security.properties(ev, self.hs.mechanism, self.peer_address)
        codec = _security.traffic_codec(self.hs.mechanism)
        if codec is not None:
            self.set_curve(codec)  # CURVE: the engine seals and opens MESSAGE commands
        self.hs = None
        self.io.register(waiter.fileno(), self.slot, KIND_WAKE, EPOLLIN | EPOLLET)
        rcvhwm = max(0, sock.rcvhwm)
        rc = self.activate(pipe, waiter, ev.leftover, sock.maxmsgsize, rcvhwm)
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
        if self.state == 2:
            return
        self.state = 2
        self.error = why
        try:
            self.io.unregister(self.fileno())
            if self.waiter_obj is not None:
                self.io.unregister(self.waiter_obj.fileno())
        except Exception:
            pass
        self.detach_rings()
        try:
            self.pysock.close()
        except OSError:
            pass
        self.io.free_slot(self.slot)
        self.io.lingering.discard(self)
        self.owner.on_dead(self)
        self.io.check_idle()

    def stop(self, linger: int) -> None:
        """Close now, or once the outbound ring is flushed (LINGER ms at most)."""
        if self.state == 1 and linger != 0 and self.out_pending():
            self.set_closing()
            self.io.lingering.add(self)
            if linger > 0:
                self.io.add_timer(linger / 1000.0, lambda: self.die(0))
            rc = self.c_pump()
            if rc:
                self.die(rc)
            return
        self.die(0)


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
        if ep.transport == "ipc":
            self.pysock = self._bind_ipc(ep)
        else:
            self.pysock = self._bind_tcp(ep)

    def _bind_tcp(self, ep: Any) -> Any:
        sa, family = _endpoint.resolve(ep)
        s = _pysocket.socket(family, _pysocket.SOCK_STREAM)
        try:
            s.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            if family == _pysocket.AF_INET6:
                s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_V6ONLY, 0)
            s.bind(sa)
            s.listen(max(1, _opt(self.socket, _c.BACKLOG)))
        except OSError as e:
            s.close()
            raise ZMQError(
                e.errno or _c.EINVAL, f"{os.strerror(e.errno or 22)}: {ep.raw}"
            ) from None
        s.setblocking(False)
        host, port = s.getsockname()[:2]
        shown = ep.host if ep.host else ("0.0.0.0" if family == _pysocket.AF_INET else "::")
        if family == _pysocket.AF_INET6 or ":" in shown:
            shown = f"[{shown}]"
        self.resolved = f"tcp://{shown}:{port}"
        self.url = self.resolved
        return s

    def _bind_ipc(self, ep: Any) -> Any:
        path = ep.address
        if path == "*":
            path = tempfile.mktemp(prefix="fastzmq-", suffix=".ipc")
        s = _pysocket.socket(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
        try:
            if os.path.exists(path) and not path.startswith("@"):
                os.unlink(path)
            s.bind(path if not path.startswith("@") else "\0" + path[1:])
            s.listen(max(1, _opt(self.socket, _c.BACKLOG)))
        except OSError as e:
            s.close()
            raise ZMQError(
                e.errno or _c.EINVAL, f"{os.strerror(e.errno or 22)}: {ep.raw}"
            ) from None
        s.setblocking(False)
        self.path = path if not path.startswith("@") else None
        self.resolved = f"ipc://{path}"
        self.url = self.resolved
        return s

    def start(self) -> None:
        self.slot = self.io.new_slot(self)
        self.io.register(self.pysock.fileno(), self.slot, KIND_SLOW, EPOLLIN)
        self.on_event(KIND_SLOW, EPOLLIN)

    def on_event(self, kind: int, mask: int) -> None:
        while True:
            try:
                conn, _ = self.pysock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # EMFILE and friends: try again on the next event
            _tune(conn, conn.family)
            self.conns.add(Connection(self.io, self.socket, conn, self))

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

    def stop(self, linger: int) -> None:
        if self.slot >= 0:
            self.io.unregister(self.pysock.fileno())
            self.io.free_slot(self.slot)
            self.slot = -1
        self.pysock.close()
        if self.path:
            try:
                os.unlink(self.path)
            except OSError:
                pass
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
        self.conn = None
        self.pending = None
        self.slot = -1
        self.ivl = max(0, _opt(sock, _c.RECONNECT_IVL))
        self.waiter = Waiter()
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
        if self.stopped or self.conn is not None or self.pending is not None:
            return
        try:
            if self.ep.transport == "ipc":
                family, sa = _pysocket.AF_UNIX, self.ep.address
                if sa.startswith("@"):
                    sa = "\0" + sa[1:]
            else:
                sa, family = _endpoint.resolve(self.ep)
            s = _pysocket.socket(family, _pysocket.SOCK_STREAM)
        except (OSError, ZMQError):
            self._retry()
            return
        _tune(s, family)
        err = s.connect_ex(sa)
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
            s.close()
            self._retry()
            return
        self.pending = s
        self.slot = self.io.new_slot(self)
        self.io.register(s.fileno(), self.slot, KIND_SLOW, EPOLLOUT | EPOLLERR | EPOLLHUP)

    def on_event(self, kind: int, mask: int) -> None:
        s = self.pending
        if s is None:
            return
        self.pending = None
        self.io.unregister(s.fileno())
        self.io.free_slot(self.slot)
        self.slot = -1
        err = s.getsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_ERROR)
        if err or self.stopped:
            s.close()
            self._retry()
            return
        self.conn = Connection(self.io, self.socket, s, self)

    def _retry(self) -> None:
        if self.stopped:
            return
        delay = self.ivl if self.ivl > 0 else 100
        ivl_max = _opt(self.socket, _c.RECONNECT_IVL_MAX)
        if ivl_max > self.ivl:
            self.ivl = min(self.ivl * 2, ivl_max)
        self.io.add_timer(delay / 1000.0, self._attempt)

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

    def stop(self, linger: int) -> None:
        """Socket closed: with LINGER and queued messages, keep connecting to flush them."""
        # (security: a CURVE engine may hold sealed bytes the ring no longer shows)
        conn_pending = self.conn is not None and self.conn.active and self.conn.out_pending()
        if linger != 0 and (self.pipe.out_pending() or conn_pending) and not self.stopped:
            self.linger_deadline = 0.0 if linger < 0 else time.monotonic() + linger / 1000.0
            self.io.lingering.add(self)
            if linger > 0:
                self.io.add_timer(linger / 1000.0, self._hard_stop)
            if self.conn is not None and self.conn.active:
                self.conn.stop(linger)
            return
        self._hard_stop()

    def _hard_stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.io.lingering.discard(self)
        if self.pending is not None:
            self.io.unregister(self.pending.fileno())
            self.io.free_slot(self.slot)
            self.pending.close()
            self.pending = None
        if self.conn is not None:
            self.conn.stop(0)
        if not self.socket.closed and self.attached:
            self.socket._post("detach", self.pipe)
        self.io.check_idle()

"""Socket: pyzmq's Socket API over the compiled socket core.

The hot methods (``send``, ``recv``, ``send_multipart``, ``recv_multipart``) are the
compiled ones of ``SocketCore``; ``send`` and ``recv`` are reached through the direct-call
entries that ``_fastcall.install`` puts on this class (the same bodies, see
``_fastcall.pyx``). What lives here is the rarely-called surface: options, bind/connect,
the string/JSON/pickle helpers, polling and closing.
"""

from __future__ import annotations

import errno as _errno
import json
import pickle
import random
import threading
import time
from typing import Any, Generic, TypeVar

from fastzmq import _endpoint, _fastcall
from fastzmq import constants as _c
from fastzmq import message as _message
from fastzmq._socket import SOCKET_TYPE_NAMES, SocketCore
from fastzmq.error import ZMQBindError, ZMQError
from fastzmq.message import _FINISHED_TRACKER, Frame, MessageTracker

_ATTR_OPTIONS = {o.name.lower(): int(o) for o in _c.SocketOption}
_ATTR_OPTIONS["hwm"] = -1  # pyzmq's virtual option: SNDHWM and RCVHWM at once
_ATTR_OPTIONS["identity"] = int(_c.ROUTING_ID)
# SocketCore attributes that are options held in C fields: name -> option
_CORE_INT = {
    _c.SNDHWM: "sndhwm",
    _c.RCVHWM: "rcvhwm",
    _c.SNDTIMEO: "sndtimeo",
    _c.RCVTIMEO: "rcvtimeo",
    _c.LINGER: "linger",
    _c.MAXMSGSIZE: "maxmsgsize",
    _c.ROUTER_MANDATORY: "router_mandatory",
    _c.IMMEDIATE: "immediate",
    _c.XPUB_VERBOSE: "xpub_verbose",
    _c.XPUB_VERBOSER: "xpub_verboser",
    _c.XPUB_MANUAL: "xpub_manual",
    _c.XPUB_NODROP: "xpub_nodrop",
    _c.REQ_RELAXED: "req_relaxed",
    _c.REQ_CORRELATE: "req_correlate",
    _c.CONFLATE: "conflate",
}
_SUB, _SUBSCRIBE, _UNSUBSCRIBE = int(_c.SUB), int(_c.SUBSCRIBE), int(_c.UNSUBSCRIBE)
# the C fields' own descriptors, used where a generated option property shadows them
_CORE_FIELDS = {
    name: SocketCore.__dict__[name] for name in _ATTR_OPTIONS if name in SocketCore.__dict__
}
_DEFAULTS = {
    _c.RECONNECT_IVL: 100,
    _c.RECONNECT_IVL_MAX: 0,
    _c.BACKLOG: 100,
    _c.HANDSHAKE_IVL: 30000,
    _c.SNDBUF: -1,
    _c.RCVBUF: -1,
    _c.IPV6: 0,
    _c.TCP_KEEPALIVE: -1,
    _c.TCP_KEEPALIVE_CNT: -1,
    _c.TCP_KEEPALIVE_IDLE: -1,
    _c.TCP_KEEPALIVE_INTVL: -1,
    _c.MECHANISM: 0,
    _c.PLAIN_SERVER: 0,
    _c.AFFINITY: 0,
    _c.RATE: 100,
    _c.RECOVERY_IVL: 10000,
    _c.MULTICAST_HOPS: 1,
    _c.TOS: 0,
    _c.HEARTBEAT_IVL: 0,
    _c.HEARTBEAT_TTL: 0,
    _c.HEARTBEAT_TIMEOUT: -1,
    _c.CONNECT_TIMEOUT: 0,
    _c.TCP_MAXRT: 0,
    _c.INVERT_MATCHING: 0,
    _c.ROUTER_HANDOVER: 0,
    _c.PROBE_ROUTER: 0,
    _c.THREAD_SAFE: 0,
    _c.BLOCKY: 1,
}


T = TypeVar("T")  # what recv() returns by default: pyzmq's Socket[bytes] (SyncSocket)


class Socket(SocketCore, Generic[T]):
    """A fastzmq socket. Create it with ``Context.socket(type)``."""

    def __init__(self, context: Any = None, socket_type: int = -1, **kwargs: Any) -> None:
        if context is None:
            from fastzmq.context import Context

            context = Context.instance()
        if socket_type == -1:
            raise ZMQError(_c.EINVAL, "a socket type is required")
        self._init_core(int(socket_type))
        self.context = context
        # copy=False sends shorter than this are copied (and their tracker done at once)
        self.copy_threshold = _message._copy_threshold()
        self._endpoints: list[tuple[str, str, Any]] = []  # (kind, endpoint, handle)
        self._last_endpoint = b""
        self._monitor = None
        self._inproc_gone = False  # set by _inproc.close_socket (under the context lock)
        context._add_socket(self)

    # ------------------------------------------------------------------ options
    def setsockopt(self, option: int, value: Any) -> None:
        """Set a socket option; a wrong name, type or value raises ZMQError(EINVAL)."""
        if type(value) is bytes and self.socket_type == _SUB and not self.closed:
            # subscription bursts: skip the generic checks, which cannot fail here
            if option == _SUBSCRIBE:
                self._subscribe(value, True)
                return
            if option == _UNSUBSCRIBE:
                self._subscribe(value, False)
                return
        self._check_alive()
        option = int(option)
        kind = _c.OPTION_TYPES.get(option)
        if kind is None:
            raise ZMQError(_c.EINVAL, f"Invalid socket option: {option}")
        if option in _c.READONLY_SOCKOPTS:
            raise ZMQError(_c.EINVAL, f"Socket option {_opt_name(option)} is read-only")
        if kind == "bytes":
            value = self._check_bytes_option(option, value)
        else:
            value = self._check_int_option(option, value)
        self._apply_option(option, value)

    def _check_bytes_option(self, option: int, value: Any) -> bytes:
        if isinstance(value, str):
            raise TypeError(f"unicode not allowed for {_opt_name(option)}, use setsockopt_string")
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise ZMQError(
                _c.EINVAL,
                f"{_opt_name(option)} takes bytes, not {type(value).__name__}",
            )
        value = bytes(value)
        if option in (_c.ROUTING_ID, _c.CONNECT_ROUTING_ID) and not 0 < len(value) <= 255:
            raise ZMQError(_c.EINVAL, f"{_opt_name(option)} must be 1 to 255 bytes long")
        if option == _c.ROUTING_ID and value[:1] == b"\x00":
            raise ZMQError(_c.EINVAL, "ROUTING_ID may not start with a zero byte")
        return value

    def _check_int_option(self, option: int, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ZMQError(
                _c.EINVAL, f"{_opt_name(option)} takes an int, not {type(value).__name__}"
            )
        if not _c.option_in_range(option, value):
            lo, hi = _c.SOCKOPT_RANGES.get(option, (None, None))
            raise ZMQError(
                _c.EINVAL, f"Invalid value {value} for {_opt_name(option)} (range {lo}..{hi})"
            )
        return value

    def _apply_option(self, option: int, value: Any) -> None:
        t = self.socket_type
        if option in (_c.SUBSCRIBE, _c.UNSUBSCRIBE):
            if t == _c.XPUB and self.xpub_manual:
                self._manual_subscribe(value, option == _c.SUBSCRIBE)
                return
            if t != _c.SUB:
                raise ZMQError(_c.EINVAL, f"{_opt_name(option)} is only valid on SUB sockets")
            self._subscribe(value, option == _c.SUBSCRIBE)
            return
        attr = _CORE_INT.get(option)
        if attr is not None:
            _CORE_FIELDS[attr].__set__(self, value)
        elif option == _c.ROUTING_ID:
            self.routing_id_opt = value
        elif option == _c.XPUB_WELCOME_MSG:
            self.xpub_welcome = value or None
        self.options[option] = value

    def getsockopt(self, option: int) -> Any:
        """Get a socket option (FD, EVENTS, TYPE, RCVMORE, LAST_ENDPOINT, ...)."""
        option = int(option)
        if option == _c.EVENTS:
            self._check_alive()
            return _c.PollEvent(self._events())
        if self.closed:
            raise ZMQError(_c.ENOTSOCK, "Socket operation on non-socket (the socket is closed)")
        return self._option_value(option)

    def _option_value(self, option: int) -> Any:
        """An option's value, also after close (the I/O thread reads them while lingering)."""
        if option == _c.FD:
            return self._fileno()
        if option == _c.TYPE:
            return _c.SocketType(self.socket_type)
        if option == _c.RCVMORE:
            return int(self.rcvmore)
        if option == _c.LAST_ENDPOINT:
            return self._last_endpoint
        if option == _c.ROUTING_ID:
            return self.routing_id_opt or b""
        attr = _CORE_INT.get(option)
        if attr is not None:
            return int(getattr(self, attr))
        if option in self.options:
            return self.options[option]
        if option in _DEFAULTS:
            return _DEFAULTS[option]
        kind = _c.OPTION_TYPES.get(option)
        if kind is None:
            raise ZMQError(_c.EINVAL, f"Invalid socket option: {option}")
        return b"" if kind == "bytes" else 0

    def set(self, option: int, value: Any) -> None:
        if int(option) == -1:  # HWM
            self.set_hwm(value)
        else:
            self.setsockopt(option, value)

    def get(self, option: int) -> Any:
        if int(option) == -1:
            return self.get_hwm()
        return self.getsockopt(option)

    def setsockopt_string(self, option: int, optval: str, encoding: str = "utf-8") -> None:
        if not isinstance(optval, str):
            raise TypeError(f"unicode strings only, not {type(optval).__name__}")
        self.setsockopt(option, optval.encode(encoding))

    def getsockopt_string(self, option: int, encoding: str = "utf-8") -> str:
        return self.getsockopt(option).decode(encoding)

    set_string = setsockopt_string
    get_string = getsockopt_string

    def set_hwm(self, value: int) -> None:
        self.setsockopt(_c.SNDHWM, value)
        self.setsockopt(_c.RCVHWM, value)

    def get_hwm(self) -> int:
        return self.getsockopt(_c.SNDHWM)

    hwm = property(get_hwm, set_hwm)

    def subscribe(self, topic: str | bytes) -> None:
        """Subscribe to a topic prefix (SUB), accepting str or bytes."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(_c.SUBSCRIBE, topic)

    def unsubscribe(self, topic: str | bytes) -> None:
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(_c.UNSUBSCRIBE, topic)

    def wait_subscribed(self, timeout: float | None = None, peers: int = 1) -> bool:
        """Wait until the subscriptions have reached the publishers (the slow joiner).

        SUB and XSUB only (others raise ZMQError(ENOTSUP)). Returns True once at least
        ``peers`` publishers are connected and every connected publisher acknowledged
        every subscription change sent to it: the publisher's next send matches them.
        ``timeout`` is in milliseconds, like ``poll``; None or negative waits forever,
        0 only checks. Returns False on timeout. Acknowledgement is a ZMTP 3.1 PING
        answered by PONG; messages received meanwhile are kept, in order, for ``recv``.
        See docs/pubsub.md (what "reached" means, ZMTP 3.0 peers, inproc).
        """
        self._check_alive()
        return self._wait_subscribed(timeout, peers)

    @property
    def type(self) -> int:
        return _c.SocketType(self.socket_type)

    @property
    def FD(self) -> int:
        """Edge-triggered fd: readable when EVENTS may have changed (docs/polling.md)."""
        return self.getsockopt(_c.FD)

    @property
    def EVENTS(self) -> int:
        """POLLIN/POLLOUT ready now; reading it re-arms FD (usage loop: docs/polling.md)."""
        return self.getsockopt(_c.EVENTS)

    @property
    def routing_id(self) -> bytes:
        return self.getsockopt(_c.ROUTING_ID)

    @routing_id.setter
    def routing_id(self, value: bytes) -> None:
        self.setsockopt(_c.ROUTING_ID, value)

    identity = routing_id

    @property
    def last_endpoint(self) -> bytes:
        return self._last_endpoint

    @property
    def rcvmore_flag(self) -> bool:
        return bool(self.rcvmore)

    def fileno(self) -> int:
        return self.FD

    # ------------------------------------------------------------------ endpoints
    def bind(self, addr: str) -> Any:
        """Bind to an endpoint: tcp://host:port, ipc://path or inproc://name."""
        self._check_alive()
        try:
            ep = _endpoint.parse(addr)
            _check_ipc_path(ep)
            if ep.transport == "inproc":
                from fastzmq import _inproc

                _inproc.bind(self, ep)
                resolved = ep.url
            else:
                resolved = self.context._io_thread().bind(self, ep)
        except ZMQError as e:
            raise _naming(e, addr) from None
        self._last_endpoint = resolved.encode()
        self._endpoints.append(("bind", resolved, ep))
        return _Bound(self, resolved)

    def connect(self, addr: str) -> Any:
        """Connect to an endpoint (asynchronously: the peer need not exist yet)."""
        self._check_alive()
        try:
            ep = _endpoint.parse(addr, connect=True)
            _check_ipc_path(ep)
            if ep.transport == "inproc":
                from fastzmq import _inproc

                _inproc.connect(self, ep)
            else:
                self.context._io_thread().connect(self, ep)
        except ZMQError as e:
            raise _naming(e, addr) from None
        self._last_endpoint = ep.url.encode()
        self._endpoints.append(("connect", ep.url, ep))
        return _Connected(self, ep.url)

    def unbind(self, addr: str | bytes) -> None:
        self._drop_endpoint("bind", addr)

    def disconnect(self, addr: str | bytes) -> None:
        self._drop_endpoint("connect", addr)

    def _drop_endpoint(self, kind: str, addr: str | bytes) -> None:
        self._check_alive()
        if isinstance(addr, bytes):
            addr = addr.decode()
        for i, (k, url, ep) in enumerate(self._endpoints):
            if k == kind and (url == addr or ep.url == addr or ep.raw == addr):
                del self._endpoints[i]
                if ep.transport == "inproc":
                    from fastzmq import _inproc

                    _inproc.drop(self, ep, kind)
                else:
                    for io in self.context._io:
                        io.drop_endpoint(self, url, kind)
                return
        raise ZMQError(_c.ENOENT, f"No such endpoint: {addr}")

    def bind_to_random_port(
        self,
        addr: str,
        min_port: int = 49152,
        max_port: int = 65536,
        max_tries: int = 100,
    ) -> int:
        """Bind to a random port in a range (or let the OS choose with the defaults)."""
        if min_port == 49152 and max_port == 65536:
            self.bind(f"{addr}:*")
            return int(self._last_endpoint.decode().rsplit(":", 1)[-1])
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as e:
                if e.errno not in (_c.EADDRINUSE, _errno.EACCES):
                    raise
            else:
                return port
        raise ZMQBindError("Could not bind socket to random port.")

    def _send_tracked(self, data: Any, flags: int, copy: bool, track: bool, multi: bool) -> Any:
        """send/send_multipart with ``track=True`` or ``copy=False`` (from SocketCore).

        As pyzmq: a copied message (``copy=True``, or shorter than ``copy_threshold``)
        is done at once (``_FINISHED_TRACKER``); otherwise the tracker is done once the
        message has left this socket (every pipe it was written to has been consumed
        past it: on the wire, or taken by the inproc peer) and, for a tracked Frame,
        once that Frame is gone (its own tracker). A Frame sent with ``copy=False``
        returns its tracker even without ``track``; ``track=True`` with an untracked
        Frame is a ValueError.
        """
        parts = list(data) if multi else [data]
        frames = [p for p in parts if isinstance(p, Frame)] if not copy else []
        for f in frames:
            if track and f.tracker is None:
                raise ValueError("Not a tracked message")
        if not track and not any(f.tracker is not None for f in frames):
            _send_plain(self, data if not multi else parts, flags, multi)
            return None
        # zero-copy semantics (pyzmq): copy=False and a part at least copy_threshold long
        shared = not copy and any(_nbytes(p) >= self.copy_threshold for p in parts)
        before = {id(p): p.track_point() for p in self._pipes_now()} if shared else {}
        _send_plain(self, data if not multi else parts, flags, multi)
        watch: list[Any] = [f.tracker for f in frames if f.tracker is not None]
        if shared:
            for pipe in self._pipes_now():
                point = pipe.track_point()
                if before.get(id(pipe)) != point:  # this send wrote to that pipe
                    watch.append(_PipeTaken(pipe, point))
        return MessageTracker(*watch) if watch else _FINISHED_TRACKER

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive one frame into ``buffer`` (writable, contiguous); return the frame's
        full length. At most ``nbytes`` bytes (0: the buffer's size) are written; a
        longer frame is truncated, as with recv(2)."""
        view, nbytes = _into_view(buffer, nbytes)
        return _recv_into(self, view, nbytes, flags)

    # ------------------------------------------------------------------ sugar
    def send_string(
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8", **kwargs: Any
    ) -> Any:
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags, copy=copy, **kwargs)

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        return self.recv(flags).decode(encoding)

    send_unicode = send_string
    recv_unicode = recv_string

    def send_pyobj(
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL, **kwargs: Any
    ) -> Any:
        return self.send(pickle.dumps(obj, protocol), flags, **kwargs)

    def recv_pyobj(self, flags: int = 0) -> Any:
        return pickle.loads(self.recv(flags))

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> Any:
        send_kwargs = {
            k: kwargs.pop(k) for k in ("copy", "track", "routing_id", "group") if k in kwargs
        }
        return self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags, **send_kwargs)

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        return json.loads(self.recv(flags), **kwargs)

    def send_serialized(
        self, msg: Any, serialize: Any, flags: int = 0, copy: bool = True, **kwargs: Any
    ) -> Any:
        return self.send_multipart(serialize(msg), flags=flags, copy=copy, **kwargs)

    def recv_serialized(self, deserialize: Any, flags: int = 0, copy: bool = True) -> Any:
        return deserialize(self.recv_multipart(flags, copy=copy))

    def poll(self, timeout: int | None = None, flags: int = _c.POLLIN) -> int:
        """Wait until the socket has the requested events; return those ready (0: timeout)."""
        self._check_alive()
        poller_class = self._poller_class
        if poller_class is None:
            from fastzmq.poll import Poller as poller_class
        p = poller_class()
        p.register(self, flags)
        ready = dict(p.poll(timeout))
        return ready.get(self, 0)

    # ------------------------------------------------------------------ lifecycle
    def _check_alive(self) -> None:
        if self.closed:
            raise ZMQError(_c.ENOTSOCK, "Socket operation on non-socket (the socket is closed)")

    def close(self, linger: int | None = None) -> None:
        """Close the socket; queued outgoing messages get LINGER ms to leave."""
        if self.closed:
            return
        if linger is None:
            linger = self.linger
            if self.context is not None and _c.LINGER in getattr(self.context, "sockopts", {}):
                linger = self.context.sockopts[_c.LINGER] if self.linger == -1 else linger
        from fastzmq import _inproc

        _inproc.close_socket(self)
        if self.context is not None:
            for io in list(self.context._io):
                io.close_socket(self, linger)
        self.closed = True
        self._wake()
        self._drop_all_pipes()
        if self.context is not None:
            self.context._remove_socket(self)

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self.closed:
                self.close(linger=0)
        except Exception:
            pass

    _repr_cls = "fastzmq.Socket"
    _poller_class: Any = None  # None: fastzmq.Poller (green sockets poll cooperatively)

    def __repr__(self) -> str:
        cls = type(self)
        name = cls._repr_cls if "_repr_cls" in vars(cls) else f"{cls.__module__}.{cls.__name__}"
        closed = " closed" if self.closed else ""
        kind = SOCKET_TYPE_NAMES.get(self.socket_type)
        return f"<{name}(zmq.{kind}) at {hex(id(self))}{closed}>"

    def monitor(self, addr: str | None, events: int = _c.EVENT_ALL) -> None:
        raise ZMQError(_c.ENOTSUP, "socket monitor: not implemented yet")

    def get_monitor_socket(self, events: int = _c.EVENT_ALL, addr: str | None = None) -> Any:
        raise ZMQError(_c.ENOTSUP, "socket monitor: not implemented yet")


def _nbytes(part: Any) -> int:
    return len(part) if isinstance(part, (bytes, Frame)) else memoryview(part).nbytes


def _send_plain(sock: Any, data: Any, flags: int, multi: bool) -> None:
    if multi:
        SocketCore.send_multipart(sock, data, flags)
    else:
        SocketCore.send(sock, data, flags)


class _PipeTaken(threading.Event):
    """Set once a pipe's peer side has taken our stream up to a point (MessageTracker)."""

    def __init__(self, pipe: Any, point: tuple) -> None:
        super().__init__()
        self._pipe: Any = pipe
        self._point = point

    def is_set(self) -> bool:
        if self._pipe is not None and self._pipe.track_reached(*self._point):
            self._pipe = None  # reached for good
            super().set()
        return super().is_set()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while not self.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.01)
        return True


def _into_view(buffer: Any, nbytes: int) -> tuple[memoryview, int]:
    """recv_into's checks: a writable C-contiguous buffer and 0 <= nbytes <= its size."""
    view = memoryview(buffer)  # TypeError for what has no buffer
    if view.readonly:
        raise BufferError("recv_into needs a writable buffer")
    if not view.c_contiguous:
        raise BufferError("recv_into needs a contiguous buffer")
    view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    if nbytes < 0:
        raise ValueError(f"nbytes must be >= 0, not {nbytes}")
    if nbytes == 0:
        nbytes = view.nbytes
    elif nbytes > view.nbytes:
        raise ValueError(f"nbytes={nbytes} is larger than the buffer ({view.nbytes} bytes)")
    return view, nbytes


def _recv_into(sock: Any, view: memoryview, nbytes: int, flags: int) -> int:
    """One frame received (SocketCore.recv) and copied into view[:nbytes]."""
    data = SocketCore.recv(sock, flags)
    n = min(nbytes, len(data))
    view[:n] = data[:n]
    return len(data)


def _naming(e: ZMQError, addr: Any) -> ZMQError:
    """The same error, its message naming the endpoint (as pyzmq's bind/connect do)."""
    text = str(e)
    if str(addr) in text:
        return e
    new = type(e)(e.errno, f"{text} (addr={addr!r})") if e.errno else ZMQError(f"{text} ({addr!r})")
    return new


def _check_ipc_path(ep: Any) -> None:
    """libzmq's ENAMETOOLONG for an ipc path longer than sockaddr_un can hold."""
    if ep.transport == "ipc" and len(ep.address.encode()) > _c.IPC_PATH_MAX_LEN:
        raise ZMQError(
            _errno.ENAMETOOLONG,
            f"ipc path {ep.address!r} is longer than {_c.IPC_PATH_MAX_LEN} characters"
            " (sizeof(sockaddr_un.sun_path)); zmq.IPC_PATH_MAX_LEN is the limit",
        )


def _opt_name(option: int) -> str:
    try:
        return _c.SocketOption(option).name
    except ValueError:
        return str(option)


def _option_property(name: str, option: int) -> property:
    """``sock.<option name>``: get/set the option, validated as setsockopt does.

    Generated properties rather than ``__getattr__``: a class with ``__getattr__``
    loses CPython's cached method lookup, and every ``sock.send`` would then build a
    bound method (measured: about a fifth of a 16-byte inproc send).
    """
    core = _CORE_FIELDS.get(name)
    if core is not None:  # held in a C field of SocketCore: read it directly

        def fget(self: Socket) -> Any:
            return core.__get__(self, Socket)
    else:

        def fget(self: Socket) -> Any:
            return self.get(option)

    def fset(self: Socket, value: Any) -> None:
        self.set(option, value)

    return property(fget, fset, doc=f"The {name.upper()} socket option.")


for _name, _option in _ATTR_OPTIONS.items():
    if _name not in Socket.__dict__:
        setattr(Socket, _name, _option_property(_name, _option))
del _name, _option


SyncSocket = Socket[bytes]  # pyzmq's alias: a socket whose recv() returns bytes

# send(data[, flags]) and recv([flags]) called straight from the interpreter: see _fastcall.pyx
_fastcall.install(Socket)


class _Bound:
    """What bind() returns: usable as a context manager that unbinds (pyzmq 26)."""

    _kind = "bind"

    def __init__(self, socket: Socket, addr: str) -> None:
        self.socket = socket
        self.addr = addr

    def __repr__(self) -> str:
        return f"<SocketContext({self._kind}={self.addr!r})>"

    def __enter__(self) -> Socket:
        return self.socket

    def __exit__(self, *exc: Any) -> None:
        if not self.socket.closed:
            try:
                self.socket.unbind(self.addr)
            except ZMQError:
                pass


class _Connected(_Bound):
    _kind = "connect"

    def __exit__(self, *exc: Any) -> None:
        if not self.socket.closed:
            try:
                self.socket.disconnect(self.addr)
            except ZMQError:
                pass

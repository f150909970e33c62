"""Socket: pyzmq's Socket API over the compiled socket core.

The hot methods (``send``, ``recv``, ``send_multipart``, ``recv_multipart``) are the
compiled ones of ``SocketCore``; ``send`` and ``recv`` are reached through the direct-call
entries that ``_fastcall.install`` puts on this class (the same bodies, see
``_fastcall.pyx``). What lives here is the rarely-called surface: options, bind/connect,
the string/JSON/pickle helpers, polling and closing.
"""

from __future__ import annotations

import errno as _errno
import functools
import json
import os
import pickle
import random
import threading
import time
import weakref
from typing import Any, Generic, TypeVar

from fastzmq import _endpoint, _fastcall, _inproc, _monitor, _options
from fastzmq import constants as _c
from fastzmq import message as _message
from fastzmq._socket import SOCKET_TYPE_NAMES, SocketCore
from fastzmq.error import ZMQBindError, ZMQError
from fastzmq.message import _FINISHED_TRACKER, Frame, MessageTracker

_security_mod: Any = None


def _security_module() -> Any:
    """fastzmq._security, imported at first use rather than at import (it loads the ZMTP
    mechanisms), then kept here: an import statement in a function costs about 2.5 us a
    call, and setsockopt/getsockopt/close run on every connection's path."""
    global _security_mod
    if _security_mod is None:
        from fastzmq import _security

        _security_mod = _security
    return _security_mod


# SocketCore attributes that are options held in C fields: option -> attribute
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
    _c.INVERT_MATCHING: "invert_matching",
    _c.ROUTER_HANDOVER: "router_handover",
    _c.PROBE_ROUTER: "probe_router",
    _c.ROUTER_NOTIFY: "router_notify",
    _c.XPUB_MANUAL_LAST_VALUE: "xpub_manual_last_value",
    _c.ONLY_FIRST_SUBSCRIBE: "only_first_subscribe",
}
_SUB, _SUBSCRIBE, _UNSUBSCRIBE = int(_c.SUB), int(_c.SUBSCRIBE), int(_c.UNSUBSCRIBE)
# CONFLATE works in libzmq on DEALER, PULL, SUB, PUSH and PUB; fastzmq conflates the
# inbound queue (DEALER, PULL, SUB) and refuses it on PUSH/PUB (ENOTSUP), whose effect
# would be on the outbound queue; other types accept it without effect, as libzmq
_CONFLATE_TYPES = frozenset({int(_c.DEALER), int(_c.PULL), int(_c.SUB)})
# the C fields' own descriptors (the generated option properties shadow them on Socket)
_CORE_FIELDS = {name: SocketCore.__dict__[name] for name in _CORE_INT.values()}
# every option name pyzmq knows as an attribute (aliases included): lower and upper case
_ATTR_OPTIONS = {n.lower(): int(o) for n, o in _c.SocketOption.__members__.items()}
_ATTR_OPTIONS.update({n: int(o) for n, o in _c.SocketOption.__members__.items()})


T = TypeVar("T")  # what recv() returns by default: pyzmq's Socket[bytes] (SyncSocket)


# Socket.underlying -> the socket, for Socket.shadow(<int>) (filled when underlying is read)
_LIVE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _shadow_target(address: Any) -> Any:
    """The socket a shadow is made on: a Socket (or a shadow of one), or an ``underlying``."""
    if isinstance(address, SocketCore):
        target = address
    else:
        try:
            key = int(address)
        except (TypeError, ValueError):
            raise TypeError(f"shadow needs a Socket or its underlying, not {address!r}") from None
        target = _LIVE.get(key)
        if target is None:
            raise ZMQError(_c.ENOTSOCK, f"no live fastzmq socket has underlying {key:#x}")
    target = target.target or target
    if target.closed:
        raise ZMQError(_c.ENOTSOCK, "Socket operation on non-socket (the socket is closed)")
    return target


_DECLARED: set = set()  # (class, public attribute name) found declared by __setattr__


class Socket(SocketCore, Generic[T]):
    """A fastzmq socket. Create it with ``Context.socket(type)``."""

    context: Any
    copy_threshold: int
    _shadow = False  # this object is a shadow: another handle on a socket (pyzmq)
    _shadow_obj: Any = None  # what it was made from (a Socket or an underlying), kept alive

    def __setattr__(self, key: str, value: Any) -> None:
        """pyzmq's rule: a public attribute must be declared on the class (a property, an
        option attribute, an annotation) or be an option's name; anything else is an
        AttributeError, so a mistyped option (``s.lingr = 0``) is never silently kept.
        Private names (``_x``) and what the instance already holds are set as usual."""
        if key[:1] != "_" and key not in self.__dict__:
            cls = type(self)
            if (cls, key) not in _DECLARED:  # (a few per socket: context, closed, ...)
                for klass in cls.__mro__:
                    if key in klass.__dict__ or key in getattr(klass, "__annotations__", ()):
                        break
                else:
                    raise AttributeError(f"{cls.__name__} has no such option: {key.upper()}")
                if len(_DECLARED) < 4096:
                    _DECLARED.add((cls, key))
        object.__setattr__(self, key, value)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if not getattr(cls, "_draft", False):  # a draft type (CLIENT...): its own class
            t = args[1] if len(args) > 1 else kwargs.get("socket_type", -1)
            shadow = kwargs.get("shadow") or (
                args[0] if args and isinstance(args[0], SocketCore) else 0
            )
            if isinstance(t, int) and _c.SERVER <= t <= _c.CHANNEL:
                from fastzmq._draft_socket import draft_class_for

                cls = draft_class_for(cls)  # (_draft_socket.py)
            elif shadow:
                if getattr(type(_shadow_target(shadow)), "_draft", False):
                    from fastzmq._draft_socket import draft_class_for

                    cls = draft_class_for(cls)  # a shadow of a draft socket: a draft class
        try:
            return super().__new__(cls, *args, **kwargs)
        except OSError as e:  # EMFILE/ENFILE creating the socket's eventfd: libzmq's errno
            code = e.errno or _c.EMFILE
            raise ZMQError(code, os.strerror(code)) from None

    def __init__(self, context: Any = None, socket_type: int = -1, **kwargs: Any) -> None:
        shadow = kwargs.pop("shadow", 0)
        if isinstance(context, SocketCore):  # pyzmq: Socket(socket) shadows socket
            shadow, context = context, None
        if shadow:
            self._init_shadow(shadow)
            return
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(kwargs)}")
        if context is None:
            from fastzmq.context import Context

            context = Context.instance()
        if socket_type == -1:
            raise ZMQError(_c.EINVAL, "a socket type is required")
        self._init_core(int(socket_type))
        if getattr(context, "_options", {}).get(_c.IPV6):  # the context's IPV6 default
            self.options[_c.IPV6] = 1
        object.__setattr__(self, "context", context)  # (SocketCore's slot; declared)
        # Plain instance attributes, all declared: set in the instance's dict, without a
        # __setattr__ call each (socket creation is on a connection churn's critical path)
        self.__dict__.update(
            # copy=False sends shorter than this are copied (their tracker done at once)
            copy_threshold=_message._copy_threshold(),
            _endpoints=[],  # [(kind, endpoint, handle)]
            _last_endpoint=b"",
            _monitor=None,  # fastzmq._monitor.Monitor while monitored
            _monitor_socket=None,  # the PAIR get_monitor_socket() returned
            _inproc_gone=False,  # set by _inproc.close_socket (under the context lock)
            _inproc_used=False,  # it bound or connected inproc: close has entries to drop
        )
        context._add_socket(self)

    def _init_shadow(self, address: Any) -> None:
        """A shadow: every call goes to the socket (the C entry points forward through
        ``SocketCore.target``, the Python ones below through ``_forward``). It shares
        the socket's state, so a message sent through one is seen through the other;
        closing either closes the socket (pyzmq: one libzmq socket); dropping a shadow
        closes nothing."""
        target = _shadow_target(address)
        self._shadow = True
        self._shadow_obj = address
        self._shadow_of(target)
        self.context = target.context
        self.copy_threshold = target.copy_threshold
        self._monitor = None
        target._shadows.add(self)  # closing the socket marks its shadows closed

    @property
    def _shadows(self) -> weakref.WeakSet:
        s = self.__dict__.get("_shadow_set")
        if s is None:
            s = self.__dict__["_shadow_set"] = weakref.WeakSet()
        return s

    @property
    def underlying(self) -> int:
        """The socket's handle, equal for a socket and its shadows: Socket.shadow takes it."""
        target = self.target or self
        _LIVE[id(target)] = target
        return id(target)

    @classmethod
    def shadow(cls, address: Any) -> Any:
        """Another handle on a socket (``address``: a Socket or its ``underlying``)."""
        return cls(shadow=address)

    @classmethod
    def from_socket(cls, socket: Any) -> Any:
        """A handle of this class on ``socket`` (e.g. a ``fastzmq.asyncio.Socket`` on a
        blocking one): a shadow of it."""
        return cls(shadow=socket)

    def __copy__(self, memo: Any = None) -> Any:
        """A copy of a socket is a shadow of it (pyzmq)."""
        return type(self).shadow(self.underlying)

    __deepcopy__ = __copy__

    # ------------------------------------------------------------------ options
    def setsockopt(self, option: int, value: Any) -> None:
        """Set a socket option, validated as libzmq does (``_options.py``)."""
        if self.target is not None:
            return Socket.setsockopt(self.target, option, value)
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
        value = _options.check_set(option, self.socket_type, value)
        security = _security_module()
        if option in security.OPTIONS:  # security options (owner: _security.py)
            security.set_option(self, option, value)
            return
        self._apply_option(option, value)

    def _apply_option(self, option: int, value: Any) -> None:
        if option in (_SUBSCRIBE, _UNSUBSCRIBE):
            if self.socket_type == _c.XPUB:
                if not _CORE_FIELDS["xpub_manual"].__get__(self, Socket):
                    raise ZMQError(_c.EINVAL, "XPUB takes SUBSCRIBE only with XPUB_MANUAL")
                self._manual_subscribe(value, option == _SUBSCRIBE)
                return
            self._subscribe(value, option == _SUBSCRIBE)
            return
        if option == _c.CONFLATE and self.socket_type not in _CONFLATE_TYPES:
            if value and self.socket_type in (_c.PUSH, _c.PUB):
                raise ZMQError(_c.ENOTSUP, "CONFLATE on the sending side is not supported")
            self.options[option] = value  # libzmq: no effect on this socket type
            return
        attr = _CORE_INT.get(option)
        if attr is not None:
            _CORE_FIELDS[attr].__set__(self, value)
            if option == _c.XPUB_MANUAL_LAST_VALUE:  # libzmq: it implies XPUB_MANUAL
                _CORE_FIELDS["xpub_manual"].__set__(self, value)
            return
        if option == _c.ROUTING_ID:
            self.routing_id_opt = value
        elif option == _c.XPUB_WELCOME_MSG:
            self.xpub_welcome = value or None
        elif option == _c.IPV4ONLY:
            option, value = _c.IPV6, 1 - value
        elif option == _c.TCP_ACCEPT_FILTER:  # each call adds a network to the list
            value = self.options.get(option, ()) + (_options.parse_accept_filter(value),)
        elif option in (_c.IPC_FILTER_PID, _c.IPC_FILTER_UID, _c.IPC_FILTER_GID):
            value = self.options.get(option, ()) + (value,)  # each call adds one id
        self.options[option] = value

    def getsockopt(self, option: int) -> Any:
        """Get a socket option (FD, EVENTS, TYPE, RCVMORE, LAST_ENDPOINT, ...)."""
        if self.target is not None:
            return Socket.getsockopt(self.target, option)
        option = int(option)
        if option == _c.EVENTS:
            self._check_alive()
            return _c.PollEvent(self._events())
        if self.closed:
            raise ZMQError(_c.ENOTSOCK, "Socket operation on non-socket (the socket is closed)")
        _options.check_get(option, self.socket_type)
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
        security = _security_module()
        if option in security.OPTIONS:  # security options (owner: _security.py)
            return security.get_option(self, option)
        attr = _CORE_INT.get(option)
        if attr is not None and option not in self.options:
            return int(_CORE_FIELDS[attr].__get__(self, Socket))
        if option == _c.IPV4ONLY:
            return 1 - self._option_value(_c.IPV6)
        if option == _c.TOPICS_COUNT:
            return self._topics_count()
        if option in self.options:
            return self.options[option]
        return _options.default(option, self.socket_type)

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
        row = _options.ROWS.get(int(option))
        if row is None or row.kind != "bytes":
            raise TypeError(f"option {_opt_name(option)} will not return a string")
        return self.getsockopt(option).decode(encoding)

    set_string = setsockopt_unicode = setsockopt_string
    get_string = getsockopt_unicode = getsockopt_string

    def set_hwm(self, value: int) -> None:
        self.setsockopt(_c.SNDHWM, value)
        self.setsockopt(_c.RCVHWM, value)

    def get_hwm(self) -> int:
        return self.getsockopt(_c.SNDHWM)

    hwm = property(get_hwm, set_hwm)

    def _subscribe_topic(self, topic: str | bytes) -> None:
        """Subscribe to a topic prefix (SUB), accepting str or bytes."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.setsockopt(_c.SUBSCRIBE, topic)

    def _unsubscribe_topic(self, topic: str | bytes) -> None:
        """Cancel a subscription (SUB), accepting str or bytes."""
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

    # ------------------------------------------------------------------ peer state
    def peers(self) -> list[dict]:
        """The peers of this socket now, one dict each (docs/peers.md): ``endpoint``,
        ``transport``, ``peer_address``, ``handshake_done``, ``connected_since``
        (time.time() at the handshake), ``peer_type``, ``routing_id``, ``last_heard``
        (time.monotonic() when the peer's bytes last arrived; tcp/ipc)."""
        self._check_alive()
        self._take_mail()
        out: list[dict] = []
        for io in list(self.context._io):  # tcp/ipc: asked of the I/O thread that owns them
            out.extend(io.call_sync(_transport_peers, io, self))
        for p in self._get_pipes():
            if p.kind == 1 and not p.detached:  # inproc: a joined peer socket
                peer = p.owner
                out.append(
                    {
                        "endpoint": p.endpoint,
                        "transport": "inproc",
                        "peer_address": p.endpoint,
                        "handshake_done": bool(p.connected),
                        "connected_since": None,
                        "peer_type": SOCKET_TYPE_NAMES.get(getattr(peer, "socket_type", -1)),
                        "routing_id": p.routing_id,
                        "last_heard": None,
                    }
                )
        return out

    def wait_peers(self, n: int = 1, timeout: float | None = None) -> bool:
        """Wait until at least ``n`` peers are connected (tcp/ipc: handshake done;
        inproc: joined). ``timeout`` in milliseconds as in ``poll`` (None or negative:
        forever, 0: check now); returns False on timeout. See docs/peers.md."""
        self._check_alive()
        if n < 0:
            raise ZMQError(_c.EINVAL, "n must be >= 0")
        return self._wait_peers(timeout, n)

    def peer_count(self) -> int:
        """How many peers are connected now (what ``wait_peers`` counts)."""
        self._check_alive()
        return self._count_peers()

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
        return (self.target or self)._last_endpoint

    @property
    def rcvmore_flag(self) -> bool:
        return bool((self.target or self).rcvmore)

    def fileno(self) -> int:
        return self.FD

    # ------------------------------------------------------------------ endpoints
    def _io_thread(self) -> Any:
        """The I/O thread for a new endpoint: AFFINITY (a bit mask of I/O threads; 0 any)
        picks among the context's threads, the least busy first (libzmq: EMTHREAD if none)."""
        io = self.context._io_thread()
        affinity = self.options.get(_c.AFFINITY, 0)
        if not affinity:
            return io
        allowed = [t for i, t in enumerate(self.context._io) if affinity & (1 << i)]
        if not allowed:
            raise ZMQError(_c.EMTHREAD, "No I/O thread matches the AFFINITY mask")
        return min(allowed, key=lambda t: len(t.by_socket))

    def bind(self, addr: str) -> Any:
        """Bind to an endpoint: tcp://host:port, ipc://path or inproc://name."""
        self._check_alive()
        try:
            ep = _endpoint.parse(addr)
        except ZMQError as e:
            raise _with_addr(e, addr) from None
        if ep.transport == "inproc":
            _inproc.bind(self, ep)
            resolved = ep.url
        else:
            try:
                if ep.transport in _endpoint.MULTICAST:  # bind is connect (libzmq)
                    from fastzmq import _pgm_transport

                    resolved = _pgm_transport.open(self._io_thread(), self, ep, "bind")
                else:
                    resolved = self._io_thread().bind(self, ep)
            except ZMQError as e:
                if self._monitor is not None:
                    _monitor.emit(self, _c.EVENT_BIND_FAILED, e.errno, ep.raw)
                raise _with_addr(e, addr) from None
        self._last_endpoint = resolved.encode()
        self._endpoints.append(("bind", resolved, ep))
        return _Bound(self, resolved)

    def connect(self, addr: str) -> Any:
        """Connect to an endpoint (asynchronously: the peer need not exist yet)."""
        self._check_alive()
        try:
            ep = _endpoint.parse(addr, connect=True)
        except ZMQError as e:
            raise _with_addr(e, addr) from None
        if ep.transport == "inproc":
            _inproc.connect(self, ep)
        elif ep.transport in _endpoint.MULTICAST:
            from fastzmq import _pgm_transport

            try:
                _pgm_transport.open(self._io_thread(), self, ep, "connect")
            except ZMQError as e:
                raise _with_addr(e, addr) from None
        else:
            self._io_thread().connect(self, ep)
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
        if self.target is not None:  # a shadow: the socket's (and no wrapper on this path)
            return Socket.poll(self.target, timeout, flags)
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
            raise self._closed_error()

    def _closed_error(self) -> ZMQError:
        if getattr(self, "_forked", False):  # a fork() child using the parent's socket
            from fastzmq.context import _forked_error

            return _forked_error(self.context._pid)
        return ZMQError(_c.ENOTSOCK, "Socket operation on non-socket (the socket is closed)")

    def close(self, linger: int | None = None) -> None:
        """Close the socket; queued outgoing messages get LINGER ms to leave."""
        if self.target is not None:  # a shadow closes the socket, as in pyzmq
            self.closed = True
            self.target.close(linger)
            return
        if self.closed:
            return
        if linger is None:
            linger = self.linger
            if self.context is not None and _c.LINGER in getattr(self.context, "sockopts", {}):
                linger = self.context.sockopts[_c.LINGER] if self.linger == -1 else linger
        _inproc.close_socket(self)
        if self.context is not None:
            for io in list(self.context._io):
                io.close_socket(self, linger)
        if self._monitor is not None:  # after the endpoints' CLOSED events: MONITOR_STOPPED
            self._monitor.shutdown()
            self._monitor = None
        self.closed = True
        for shadow in list(self.__dict__.get("_shadow_set", ())):
            shadow.closed = True
        self._wake()
        self._drop_all_pipes()
        if self.context is not None:
            self.context._remove_socket(self)
        if self._fd_closes_with_socket:
            self._close_fd()  # as in pyzmq, the FD goes at close, not when the object does

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self.closed and not self._shadow:
                self.close(linger=0)
        except Exception:
            pass

    _repr_cls = "fastzmq.Socket"
    # close() gives the FD back (False for gevent sockets: a greenlet parked in wait_read
    # on it would never wake, since the hub's poller drops an fd once it is closed)
    _fd_closes_with_socket = True
    _poller_class: Any = None  # None: fastzmq.Poller (green sockets poll cooperatively)

    def __repr__(self) -> str:
        cls = type(self)
        name = cls._repr_cls if "_repr_cls" in vars(cls) else f"{cls.__module__}.{cls.__name__}"
        closed = " closed" if self.closed else ""
        kind = SOCKET_TYPE_NAMES.get(self.socket_type)
        return f"<{name}(zmq.{kind}) at {hex(id(self))}{closed}>"

    # ------------------------------------------------------------------ monitor
    def monitor(self, addr: str | bytes | None, events: int = _c.EVENT_ALL) -> None:
        """Publish this socket's events on an inproc PAIR bound at ``addr`` (libzmq's
        zmq_socket_monitor); ``addr=None`` stops monitoring (MONITOR_STOPPED, then the
        PAIR closes). See ``fastzmq._monitor`` for the format and the threading."""
        self._check_alive()
        if isinstance(addr, bytes):
            addr = addr.decode("utf-8")
        old = self._monitor
        if addr is None:
            if old is not None:
                old.shutdown()  # what is queued, then MONITOR_STOPPED; later events drop
                self._monitor = None
            return
        if not isinstance(events, int):
            raise TypeError(f"events must be an int, not {type(events).__name__}")
        if old is not None:  # libzmq: a new monitor replaces the previous one
            old.shutdown()
            self._monitor = None
        from fastzmq._monitor import Monitor

        self._monitor = Monitor(self, addr, int(events))

    def get_monitor_socket(self, events: int | None = None, addr: str | None = None) -> Any:
        """A PAIR socket connected to this socket's monitor (started here if needed)."""
        mon = getattr(self, "_monitor_socket", None)
        if mon is not None and not mon.closed:
            return mon
        if addr is None:
            addr = f"inproc://monitor.s-{self.FD}"
        self.monitor(addr, _c.EVENT_ALL if events is None else events)
        try:  # the same flavour as this socket (an asyncio socket gets an asyncio PAIR)
            flavour = getattr(type(self), "_classic_class", type(self))  # a draft type's: Socket
            pair = self.context.socket(_c.PAIR, socket_class=flavour)
        except TypeError:
            pair = self.context.socket(_c.PAIR)
        pair.connect(addr)
        self._monitor_socket = pair
        return pair

    def disable_monitor(self) -> None:
        """Stop monitoring: the monitor PAIR sends MONITOR_STOPPED and closes."""
        self._monitor_socket = None
        self.monitor(None, 0)


def _with_addr(e: ZMQError, addr: Any) -> ZMQError:
    """pyzmq names the endpoint in bind/connect errors: "... (addr='tcp://...')"."""
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8", "replace")
    if isinstance(addr, str) and addr not in e.strerror:
        e.strerror = f"{e.strerror} (addr={addr!r})"
    return e


def _transport_peers(io: Any, sock: Socket) -> list[dict]:
    """I/O thread: what the listeners and connecters of sock know about their peers."""
    out: list[dict] = []
    for obj in list(io.by_socket.get(sock, ())):
        peers = getattr(obj, "peers", None)
        if peers is not None:
            out.extend(peers())
    return out


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


def _opt_name(option: int) -> str:
    return _options.name(option)


class _MethodOrOption:
    """``sock.subscribe``: the method on read; ``sock.subscribe = topic`` subscribes (pyzmq)."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        if obj is None:
            return self.func
        return self.func.__get__(obj, cls)

    def __set__(self, obj: Any, value: Any) -> None:
        self.func(obj, value)


Socket.subscribe = _MethodOrOption(Socket._subscribe_topic)  # type: ignore[assignment]
Socket.unsubscribe = _MethodOrOption(Socket._unsubscribe_topic)  # type: ignore[assignment]


def _option_property(name: str, option: int) -> property:
    """``sock.<option name>``: get/set the option, validated as setsockopt does.

    Generated properties rather than ``__getattr__``: a class with ``__getattr__``
    loses CPython's cached method lookup, and every ``sock.send`` would then build a
    bound method (measured: about a fifth of a 16-byte inproc send). Reading a
    write-only option raises AttributeError, as pyzmq's attributes do.
    """
    core = _CORE_FIELDS.get(_CORE_INT.get(option, ""))
    row = _options.ROWS.get(option)
    if core is not None and row is not None and row.mode == "rw" and option != _c.CONFLATE:

        def fget(self: Socket) -> Any:  # held in a C field of SocketCore: read it directly
            return core.__get__(self.target or self, Socket)
    else:

        def fget(self: Socket) -> Any:
            try:
                return self.getsockopt(option)
            except ZMQError as e:
                if e.errno == _c.EINVAL:
                    raise AttributeError(f"{name} attribute is write-only or unknown") from None
                raise

    def fset(self: Socket, value: Any) -> None:
        if option in (_SUBSCRIBE, _UNSUBSCRIBE) and isinstance(value, str):
            value = value.encode("utf-8")  # pyzmq: s.SUBSCRIBE = "topic" subscribes
        self.setsockopt(option, value)

    return property(fget, fset, doc=f"The {name.upper()} socket option.")


for _name, _option in _ATTR_OPTIONS.items():
    if _name in ("hwm", "HWM", "subscribe", "unsubscribe", "rcvmore"):
        continue  # defined by hand (rcvmore: SocketCore's own field)
    if _name not in Socket.__dict__:
        setattr(Socket, _name, _option_property(_name, _option))
Socket.HWM = Socket.hwm  # type: ignore[attr-defined]
del _name, _option


SyncSocket = Socket[bytes]  # pyzmq's alias: a socket whose recv() returns bytes


def _forwarded(name: str) -> None:
    """Socket.<name> on a shadow is the socket's own (the methods a shadow must not run
    on its unused core; send/recv and the option getters/setters forward themselves)."""
    func = Socket.__dict__[name]

    @functools.wraps(func)
    def method(self: Socket, *args: Any, **kwargs: Any) -> Any:
        target = self.target
        if target is not None:
            return func(target, *args, **kwargs)  # Socket's own: not a subclass's Future
        return func(self, *args, **kwargs)

    setattr(Socket, name, method)


for _name in (
    "bind", "connect", "unbind", "disconnect", "monitor", "get_monitor_socket",
    "disable_monitor", "peers", "wait_peers", "peer_count", "wait_subscribed",
    "_send_tracked", "recv_into", "bind_to_random_port",
):  # fmt: skip
    _forwarded(_name)
del _name

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

"""Security options, the mechanism each connection speaks, and the ZAP client.

Theory of operation
-------------------
Options (libzmq ``options.cpp``): the security options of a socket live in one immutable
:class:`SecurityConfig`, replaced as a whole by every ``setsockopt`` (so the I/O thread,
reading ``sock._security`` when a connection starts, never sees half an update). As in
libzmq the *last* mechanism option set decides: ``PLAIN_SERVER=1`` makes a PLAIN server,
``PLAIN_USERNAME``/``PLAIN_PASSWORD`` a PLAIN client, ``CURVE_SERVER=1`` a CURVE server,
``CURVE_SERVERKEY`` a CURVE client, ``CURVE_PUBLICKEY``/``CURVE_SECRETKEY`` CURVE with the
role unchanged; ``PLAIN_SERVER=0``/``CURVE_SERVER=0`` go back to NULL. Malformed values raise
``ZMQError(EINVAL)`` (a key is 32 bytes or 40 Z85 characters, optionally NUL-terminated;
usernames, passwords and ZAP domains 1-255 bytes). CURVE options need PyNaCl: without it
they raise EINVAL, as libzmq built without CURVE does. ``MECHANISM`` reports the
configured mechanism (0 NULL, 1 PLAIN, 2 CURVE). Reading a CURVE key returns its 40 Z85
characters (libzmq's answer to a 41-byte buffer, NUL stripped).

Connections (``mechanism_for``): the handshake is built from that snapshot, so a socket set
up for PLAIN or CURVE greets with that mechanism's name and the handshake refuses any peer
announcing another one (no NULL fallback, no password sent to a NULL peer). Server-side
mechanisms ask ZAP through a ``DEFERRED`` authenticator: the mechanism publishes
``zap_request`` and the connection hands it to the I/O thread's :class:`ZapClient`.

ZAP (RFC 27, libzmq ``zap_client.cpp``): when a request is due, the handler must be bound
at ``inproc://zeromq.zap.01`` in the socket's context. If it is not: PLAIN fails (no ERROR,
HANDSHAKE_FAILED_NO_DETAIL EFAULT), CURVE accepts the key, NULL proceeds; with
ZAP_ENFORCE_DOMAIN, CURVE and NULL fail like PLAIN (a CURVE server with that option and no
domain does not ask ZAP at all). Otherwise a DEALER owned by the I/O thread (one per
I/O thread, never touched by another thread: the inproc pipes stay single-producer,
single-consumer) sends ``"" | 1.0 | id | domain | address | identity | mechanism |
credentials`` and the handshake waits; the DEALER's FD sits in the I/O thread's epoll and
its replies are matched by request id (one id per request, since the DEALER is shared by
the connections of that thread). A malformed reply fails the handshake with
HANDSHAKE_FAILED_PROTOCOL and libzmq's ZAP error code, a 300/400/500 with
HANDSHAKE_FAILED_AUTH and the code (400/500 send ERROR(code), 300 closes silently).
"""

from __future__ import annotations

import dataclasses
import errno
import weakref
from typing import Any

from fastzmq import constants as _c
from fastzmq.error import ZMQError
from fastzmq.zmtp import MechanismMismatch, PeerError, ProtocolError
from fastzmq.zmtp.mechanisms.null import NullMechanism
from fastzmq.zmtp.zap import (
    DEFERRED,
    STATUS_CODES,
    ZapError,
    ZapReply,
    ZapRequest,
    encode_request,
)

NULL, PLAIN, CURVE = 0, 1, 2
ZAP_ADDRESS = "zeromq.zap.01"  # inproc://zeromq.zap.01

OPTIONS = frozenset(
    int(o)
    for o in (
        _c.MECHANISM,
        _c.PLAIN_SERVER,
        _c.PLAIN_USERNAME,
        _c.PLAIN_PASSWORD,
        _c.CURVE_SERVER,
        _c.CURVE_PUBLICKEY,
        _c.CURVE_SECRETKEY,
        _c.CURVE_SERVERKEY,
        _c.ZAP_DOMAIN,
        _c.ZAP_ENFORCE_DOMAIN,
    )
)
_CURVE_OPTIONS = frozenset(
    int(o) for o in (_c.CURVE_SERVER, _c.CURVE_PUBLICKEY, _c.CURVE_SECRETKEY, _c.CURVE_SERVERKEY)
)


@dataclasses.dataclass(frozen=True)
class SecurityConfig:
    mechanism: int = NULL
    as_server: bool = False
    plain_username: bytes = b""
    plain_password: bytes = b""
    curve_public: bytes = bytes(32)
    curve_secret: bytes = bytes(32)
    curve_server_key: bytes = bytes(32)
    zap_domain: bytes = b""
    zap_enforce_domain: bool = False


DEFAULT = SecurityConfig()


def config(sock: Any) -> SecurityConfig:
    return getattr(sock, "_security", DEFAULT)


def have_curve() -> bool:
    try:
        import nacl.bindings  # noqa: F401
    except ImportError:
        return False
    return True


def _einval(what: str) -> ZMQError:
    return ZMQError(_c.EINVAL, f"Invalid argument: {what}")


def _curve_key(value: bytes, name: str) -> bytes:
    if len(value) == 41 and value[40:] == b"\x00":
        value = value[:40]
    if len(value) == 32:
        return value
    if len(value) == 40:
        from fastzmq.utils.z85 import decode

        try:
            key = decode(value)
        except Exception:
            key = b""
        if len(key) == 32:
            return key
    raise _einval(f"{name} must be 32 bytes or 40 Z85 characters")


def _string(value: bytes, name: str) -> bytes:
    if not 0 < len(value) <= 255:
        raise _einval(f"{name} must be 1 to 255 bytes long")
    return value


def set_option(sock: Any, option: int, value: Any) -> None:
    """setsockopt of a security option (already type-checked by socket.py)."""
    cfg = config(sock)
    rep = dataclasses.replace
    if option in _CURVE_OPTIONS and not have_curve():
        raise _einval("CURVE needs PyNaCl (pip install 'fastzmq[curve]')")
    if option in (_c.PLAIN_SERVER, _c.CURVE_SERVER):
        if value not in (0, 1):
            raise _einval(f"{_c.SocketOption(option).name} takes 0 or 1")
        mech = (PLAIN if option == _c.PLAIN_SERVER else CURVE) if value else NULL
        cfg = rep(cfg, as_server=bool(value), mechanism=mech)
    elif option == _c.PLAIN_USERNAME:
        cfg = rep(cfg, plain_username=_string(value, "PLAIN_USERNAME"), as_server=False)
        cfg = rep(cfg, mechanism=PLAIN)
    elif option == _c.PLAIN_PASSWORD:
        cfg = rep(cfg, plain_password=_string(value, "PLAIN_PASSWORD"), as_server=False)
        cfg = rep(cfg, mechanism=PLAIN)
    elif option == _c.CURVE_PUBLICKEY:
        cfg = rep(cfg, curve_public=_curve_key(value, "CURVE_PUBLICKEY"), mechanism=CURVE)
    elif option == _c.CURVE_SECRETKEY:
        cfg = rep(cfg, curve_secret=_curve_key(value, "CURVE_SECRETKEY"), mechanism=CURVE)
    elif option == _c.CURVE_SERVERKEY:
        key = _curve_key(value, "CURVE_SERVERKEY")
        cfg = rep(cfg, curve_server_key=key, mechanism=CURVE, as_server=False)
    elif option == _c.ZAP_DOMAIN:
        cfg = rep(cfg, zap_domain=_string(value, "ZAP_DOMAIN"))
    elif option == _c.ZAP_ENFORCE_DOMAIN:
        cfg = rep(cfg, zap_enforce_domain=bool(value))
    else:
        raise _einval(f"socket option {option} is read-only")
    sock._security = cfg


def get_option(sock: Any, option: int) -> Any:
    cfg = config(sock)
    if option == _c.MECHANISM:
        return cfg.mechanism
    if option == _c.PLAIN_SERVER:
        return int(cfg.as_server and cfg.mechanism == PLAIN)
    if option == _c.CURVE_SERVER:
        return int(cfg.as_server and cfg.mechanism == CURVE)
    if option == _c.PLAIN_USERNAME:
        return cfg.plain_username
    if option == _c.PLAIN_PASSWORD:
        return cfg.plain_password
    if option == _c.ZAP_DOMAIN:
        return cfg.zap_domain
    if option == _c.ZAP_ENFORCE_DOMAIN:
        return int(cfg.zap_enforce_domain)
    if option in _CURVE_OPTIONS:
        if not have_curve():
            raise _einval("CURVE needs PyNaCl (pip install 'fastzmq[curve]')")
        from fastzmq.utils.z85 import encode

        key = {
            _c.CURVE_PUBLICKEY: cfg.curve_public,
            _c.CURVE_SECRETKEY: cfg.curve_secret,
            _c.CURVE_SERVERKEY: cfg.curve_server_key,
        }[option]
        return encode(key)
    raise _einval(f"socket option {option}")


# --------------------------------------------------------------------------- connections


def mechanism_for(sock: Any, peer_address: bytes):
    """(mechanism, as_server) for a new connection of ``sock`` (I/O thread)."""
    cfg = config(sock)
    identity = sock.routing_id_opt or b""
    if cfg.mechanism == PLAIN:
        from fastzmq.zmtp.mechanisms.plain import PlainClient, PlainServer

        if cfg.as_server:
            return PlainServer(DEFERRED, cfg.zap_domain, peer_address, identity), True
        return PlainClient(cfg.plain_username, cfg.plain_password), False
    if cfg.mechanism == CURVE:
        from fastzmq.zmtp.mechanisms.curve import CurveClient, CurveServer

        if cfg.as_server:
            # libzmq asks ZAP unless ZAP_ENFORCE_DOMAIN is set with no domain
            ask = bool(cfg.zap_domain) or not cfg.zap_enforce_domain
            zap = DEFERRED if ask else None
            # our public key is derived from the secret (libzmq serves a socket whose
            # CURVE_PUBLICKEY was never set; clients vouch for the key they know)
            mech = CurveServer(cfg.curve_secret, None, zap, cfg.zap_domain, peer_address, identity)
            return mech, True
        public = None if cfg.curve_public == bytes(32) else cfg.curve_public  # unset: derived
        mech = CurveClient(cfg.curve_server_key, public, cfg.curve_secret)
        return mech, False
    if cfg.zap_domain:
        request = ZapRequest(cfg.zap_domain, peer_address, identity, b"NULL", ())
        return NullMechanism(request), False
    return NullMechanism(), False


class NoZapHandler(ProtocolError):
    """Nothing is bound at inproc://zeromq.zap.01 where the mechanism requires a handler."""

    send_error = False
    event = _c.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    event_value = errno.EFAULT


class ZapProtocolError(ZapError):
    """The ZAP handler's reply is malformed (libzmq: HANDSHAKE_FAILED_PROTOCOL)."""

    send_error = False

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.event = _c.EVENT_HANDSHAKE_FAILED_PROTOCOL
        self.event_value = code


def failure_event(exc: ProtocolError) -> tuple[int, int] | None:
    """The monitor event (and value) libzmq reports for a failed handshake, if any."""
    ev = getattr(exc, "event", None)
    if ev is not None:
        return int(ev), int(exc.event_value)
    status = getattr(exc, "status_code", None)
    if status is not None:  # a ZAP refusal, on the server side
        return int(_c.EVENT_HANDSHAKE_FAILED_AUTH), int(status)
    if isinstance(exc, PeerError):
        # libzmq (mechanism_base_t::handle_error_reason): a ZAP status code is an auth
        # failure; any other reason reports nothing
        if exc.reason in ("300", "400", "500"):
            return int(_c.EVENT_HANDSHAKE_FAILED_AUTH), int(exc.reason)
        return None
    if isinstance(exc, MechanismMismatch):
        return int(_c.EVENT_HANDSHAKE_FAILED_PROTOCOL), int(
            _c.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
        )
    text = str(exc)
    if "does not open" in text or "cookie" in text or "vouch" in text:
        code = _c.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
    elif "expected" in text and "got" in text:
        code = _c.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
    elif "metadata" in text or "property" in text:
        code = _c.PROTOCOL_ERROR_ZMTP_INVALID_METADATA
    else:
        code = _c.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED
    return int(_c.EVENT_HANDSHAKE_FAILED_PROTOCOL), int(code)


def no_handler_reply(mechanism: Any, sock: Any):
    """What a due ZAP request means when no handler is bound (libzmq's choices)."""
    if mechanism.name == b"PLAIN" or config(sock).zap_enforce_domain:
        return NoZapHandler("no ZAP handler bound at inproc://zeromq.zap.01")
    return ZapReply("200")  # CURVE: any key (the Stonehouse pattern); NULL: proceed


def properties(ev: Any, mechanism: Any, peer_address: bytes) -> dict:
    """A connection's message properties (``Frame.get``), as libzmq builds them: the peer's
    handshake metadata, then the ZAP handler's metadata, ``User-Id`` and ``Peer-Address``."""

    props = {
        name: bytes(value).decode("utf-8", "replace") for name, value in ev.peer_metadata.items()
    }
    if mechanism.zap_metadata:
        props.update(
            (name, bytes(value).decode("utf-8", "replace"))
            for name, value in mechanism.zap_metadata.items()
        )
    if mechanism.user_id:
        props["User-Id"] = bytes(mechanism.user_id).decode("utf-8", "replace")
    if peer_address:
        props["Peer-Address"] = bytes(peer_address).decode("utf-8", "replace")
    return props


def traffic_codec(mechanism: Any):
    """The engine's CURVE codec after a completed CURVE handshake, else None."""
    if mechanism.name != b"CURVE":
        return None
    from fastzmq._curve import CurveCodec

    return CurveCodec(
        mechanism._shared, mechanism.as_server, mechanism._nonce, mechanism._peer_nonce
    )


# --------------------------------------------------------------------------- ZAP client


def zap_client(io: Any) -> ZapClient:
    """The ZAP client of this I/O thread (created on first use, in the I/O thread)."""
    ctx = io.context
    clients = ctx.__dict__.setdefault("_zap_clients", {})
    client = clients.get(io.index)
    if client is None:
        client = clients[io.index] = ZapClient(io)
    return client


class ZapClient:
    """A DEALER connected to the ZAP handler, used only by one I/O thread."""

    def __init__(self, io: Any) -> None:
        self.io = io
        self.sock = None
        self.binder = None
        self.slot = -1
        self.seq = 0
        self.waiting: dict[bytes, Any] = {}  # request id -> weakref to the connection

    def request(self, conn: Any, request: ZapRequest) -> bool:
        """Send ``request`` for ``conn`` (its ``on_zap_reply`` is called later); False if
        no handler is bound."""
        ctx = self.io.context
        with ctx._lock:
            binder = ctx._inproc.get(ZAP_ADDRESS)
        if binder is None or binder.closed:
            return False
        if binder is not self.binder or self.sock is None:
            self._reset(binder)
        self.seq += 1
        rid = str(self.seq).encode()
        frames = [b""] + encode_request(dataclasses.replace(request, request_id=rid))
        try:
            self.sock.send_multipart(frames, _c.DONTWAIT)
        except ZMQError:
            return False
        self.waiting[rid] = weakref.ref(conn)
        return True

    def _reset(self, binder: Any) -> None:
        self._close()
        from fastzmq.socket import Socket

        ctx = self.io.context
        sock = Socket(ctx, _c.DEALER)
        ctx._remove_socket(sock)  # owned by the I/O thread: term() does not wait for it
        sock.sndhwm = 0
        sock.rcvhwm = 0
        sock.linger = 0
        sock.connect("inproc://" + ZAP_ADDRESS)
        self.sock, self.binder = sock, binder
        self.slot = self.io.new_slot(self)
        self.io.register(sock.FD, self.slot, 2, 0x001 | (1 << 31))  # KIND_SLOW, EPOLLIN|ET
        self.on_event(2, 0)

    def _close(self) -> None:
        waiting = list(self.waiting.values())
        self.waiting.clear()
        for ref in waiting:
            conn = ref()
            if conn is not None:
                conn.on_zap_reply(
                    ZapProtocolError("ZAP handler went away", _c.PROTOCOL_ERROR_ZAP_UNSPECIFIED)
                )
        if self.sock is not None:
            try:
                self.io.unregister(self.sock.FD)
            except Exception:
                pass
            self.io.free_slot(self.slot)
            self.slot = -1
            self.sock.close(0)
            self.sock = None
            self.binder = None

    def on_event(self, kind: int, mask: int) -> None:
        sock = self.sock
        while sock is not None and not sock.closed and sock.EVENTS & _c.POLLIN:
            frames = sock.recv_multipart(_c.DONTWAIT)
            self._dispatch(frames)

    def _dispatch(self, frames: list) -> None:
        rid = frames[2] if len(frames) > 2 else None
        ref = self.waiting.pop(rid, None)
        conn = ref() if ref is not None else None
        if conn is None:
            return  # a reply to a connection that is gone (or a forged id): dropped
        conn.on_zap_reply(parse_zap_reply(frames, rid))

    def stop(self, linger: int) -> None:
        self._close()


def parse_zap_reply(frames: list, rid: bytes):
    """Envelope + 6 frames -> ZapReply, or ZapProtocolError with libzmq's event code."""
    if len(frames) != 7:
        return ZapProtocolError("ZAP reply frame count", _c.PROTOCOL_ERROR_ZAP_MALFORMED_REPLY)
    delim, version, got_rid, status, _text, user_id, metadata = frames
    if delim:
        return ZapProtocolError("ZAP reply without delimiter", _c.PROTOCOL_ERROR_ZAP_UNSPECIFIED)
    if version != b"1.0":
        return ZapProtocolError("ZAP reply version", _c.PROTOCOL_ERROR_ZAP_BAD_VERSION)
    if got_rid != rid:
        return ZapProtocolError("ZAP reply request id", _c.PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID)
    code = status.decode("latin-1")
    if code not in STATUS_CODES:
        return ZapProtocolError("ZAP reply status code", _c.PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE)
    from fastzmq.zmtp.commands import decode_metadata

    try:
        props = decode_metadata(metadata)
    except ProtocolError:
        return ZapProtocolError("ZAP reply metadata", _c.PROTOCOL_ERROR_ZAP_INVALID_METADATA)
    return ZapReply(code, _text.decode("utf-8", "replace"), user_id, props, rid)

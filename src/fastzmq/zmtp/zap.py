"""ZAP, the ZeroMQ Authentication Protocol (RFC 27), sans I/O.

Theory of operation
-------------------
A server-side PLAIN or CURVE mechanism (and NULL with a ZAP domain) asks a ZAP handler
whether to let a peer in. RFC 27 "Formal Specification" defines the exchange as two
multipart messages, which this module encodes and parses as lists of frames:

* request: ``version ("1.0") | request id | domain | address | identity | mechanism |
  credentials...`` (NULL: none, PLAIN: username and password, CURVE: the client's 32-byte
  long-term public key);
* reply: ``version | request id | status code | status text | user id | metadata``, the
  status code being ``200`` (ok), ``300`` (temporary failure), ``400`` (denied) or ``500``
  (internal error), the metadata in ZMTP property form.

The REQ/REP envelope (libzmq puts an empty delimiter frame first) belongs to the socket that
carries the exchange, not here. On the wire the handler lives on ``inproc://zeromq.zap.01``;
inside the handshake a mechanism either calls an :class:`Authenticator` synchronously (tests,
embedding), or, given :data:`DEFERRED`, publishes its ``zap_request`` and waits for
``zap_reply(reply)``: that is how real sockets ask the handler bound at that endpoint from
the I/O thread without blocking it (``fastzmq._security``). libzmq 4.3's answers to each status
(RFC 27 "Error Handling", and its ``zap_client.cpp``): 200 lets the handshake go on, 300
closes the connection without an ERROR command, 400 and 500 send ERROR whose reason is the
status code itself. :class:`AuthenticationFailed` carries that decision to the handshake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Mapping, Sequence, Tuple, Union

from fastzmq.zmtp import ProtocolError
from fastzmq.zmtp.commands import decode_metadata, encode_metadata

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_VERSION = b"1.0"

STATUS_OK = "200"
STATUS_TEMPORARY = "300"
STATUS_DENIED = "400"
STATUS_INTERNAL = "500"
STATUS_CODES = (STATUS_OK, STATUS_TEMPORARY, STATUS_DENIED, STATUS_INTERNAL)

# How many credential frames each mechanism sends (RFC 27 "Mechanism-specific credentials").
CREDENTIAL_COUNTS = {b"NULL": 0, b"PLAIN": 2, b"CURVE": 1}

__all__ = [
    "DEFERRED",
    "ZAP_ENDPOINT",
    "AuthenticationFailed",
    "Authenticator",
    "CurveKeyAuthenticator",
    "FunctionAuthenticator",
    "PasswordAuthenticator",
    "ZapError",
    "ZapReply",
    "ZapRequest",
    "as_authenticator",
    "authenticate",
    "encode_reply",
    "encode_request",
    "parse_reply",
    "parse_request",
]


class ZapError(ProtocolError):
    """A ZAP request or reply is malformed (wrong version, frame count, status code...)."""


class AuthenticationFailed(ProtocolError):
    """The ZAP handler refused the peer (status 300, 400 or 500).

    ``error_reason`` is what goes in the ERROR command (the status code, as libzmq sends
    it); ``send_error`` is false for 300, which closes the connection silently."""

    def __init__(self, status_code: str, status_text: str = "") -> None:
        detail = f": {status_text}" if status_text else ""
        super().__init__(f"authentication failed, ZAP status {status_code}{detail}")
        self.status_code = status_code
        self.status_text = status_text
        self.error_reason = status_code
        self.send_error = status_code != STATUS_TEMPORARY


def _b(value: Union[str, bytes]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class ZapRequest:
    domain: bytes
    address: bytes
    identity: bytes
    mechanism: bytes
    credentials: Tuple[bytes, ...] = ()
    request_id: bytes = b"1"
    version: bytes = ZAP_VERSION


@dataclass(frozen=True)
class ZapReply:
    status_code: str
    status_text: str = ""
    user_id: bytes = b""
    metadata: dict = field(default_factory=dict)
    request_id: bytes = b"1"
    version: bytes = ZAP_VERSION

    @property
    def ok(self) -> bool:
        return self.status_code == STATUS_OK


def encode_request(request: ZapRequest) -> List[bytes]:
    head = [request.version, request.request_id, request.domain, request.address]
    return head + [request.identity, request.mechanism, *request.credentials]


def parse_request(frames: Sequence[bytes]) -> ZapRequest:
    """RFC 27 request frames (no envelope) -> :class:`ZapRequest`; ``ZapError`` if malformed."""
    frames = [bytes(f) for f in frames]
    if len(frames) < 6:
        raise ZapError(f"ZAP request has {len(frames)} frames, at least 6 are required")
    version, request_id, domain, address, identity, mechanism = frames[:6]
    _check_version(version)
    credentials = tuple(frames[6:])
    expected = CREDENTIAL_COUNTS.get(mechanism)
    if expected is not None and len(credentials) != expected:
        raise ZapError(f"ZAP {mechanism!r} request with {len(credentials)} credential frames")
    if mechanism == b"CURVE" and len(credentials[0]) != 32:
        raise ZapError("ZAP CURVE credential must be a 32-byte public key")
    return ZapRequest(domain, address, identity, mechanism, credentials, request_id, version)


def encode_reply(reply: ZapReply) -> List[bytes]:
    return [
        reply.version,
        reply.request_id,
        reply.status_code.encode("ascii"),
        reply.status_text.encode("utf-8"),
        reply.user_id,
        encode_metadata(reply.metadata),
    ]


def parse_reply(frames: Sequence[bytes], request_id: bytes | None = None) -> ZapReply:
    """RFC 27 reply frames (no envelope) -> :class:`ZapReply`; ``ZapError`` if malformed."""
    frames = [bytes(f) for f in frames]
    if len(frames) != 6:
        raise ZapError(f"ZAP reply has {len(frames)} frames, 6 are required")
    version, rid, status, text, user_id, metadata = frames
    _check_version(version)
    if request_id is not None and rid != request_id:
        raise ZapError(f"ZAP reply to request {rid!r}, expected {request_id!r}")
    code = status.decode("ascii", "replace")
    if code not in STATUS_CODES:
        raise ZapError(f"ZAP reply with invalid status code {status!r}")
    try:
        props = decode_metadata(metadata)
    except ProtocolError as exc:
        raise ZapError(f"ZAP reply with malformed metadata: {exc}") from None
    return ZapReply(code, text.decode("utf-8", "replace"), user_id, props, rid, version)


def _check_version(version: bytes) -> None:
    if version != ZAP_VERSION:
        raise ZapError(f"ZAP version {version!r}, expected {ZAP_VERSION!r}")


# --------------------------------------------------------------------------- in-process hook


class Authenticator:
    """Answers ZAP requests synchronously. Subclasses override :meth:`authenticate`."""

    def authenticate(self, request: ZapRequest) -> ZapReply:
        raise NotImplementedError

    def reply(self, request: ZapRequest, status: str, text: str = "", **kw) -> ZapReply:
        return ZapReply(status, text, request_id=request.request_id, **kw)


Outcome = Union[str, int, Tuple]


class FunctionAuthenticator(Authenticator):
    """Wraps ``fn(domain, address, identity, mechanism, credentials)``, returning a status
    code, or ``(status, user_id)``, or ``(status, user_id, metadata)``."""

    def __init__(self, fn: Callable[..., Outcome]) -> None:
        self.fn = fn

    def authenticate(self, request: ZapRequest) -> ZapReply:
        r = request
        outcome = self.fn(r.domain, r.address, r.identity, r.mechanism, r.credentials)
        if not isinstance(outcome, tuple):
            outcome = (outcome,)
        status, user_id, metadata = (*outcome, b"", {})[:3]
        return self.reply(r, str(status), user_id=_b(user_id), metadata=dict(metadata))


class PasswordAuthenticator(Authenticator):
    """PLAIN: accepts a username whose password matches; the user id is the username.
    With ``domain`` set, requests for other ZAP domains are denied."""

    def __init__(self, passwords: Mapping, domain: Union[str, bytes, None] = None) -> None:
        self.passwords = {_b(user): _b(pw) for user, pw in passwords.items()}
        self.domain = None if domain is None else _b(domain)

    def authenticate(self, request: ZapRequest) -> ZapReply:
        if request.mechanism != b"PLAIN" or len(request.credentials) != 2:
            return self.reply(request, STATUS_DENIED, "PLAIN credentials expected")
        if self.domain is not None and request.domain != self.domain:
            return self.reply(request, STATUS_DENIED, "unknown domain")
        user, password = request.credentials
        if user not in self.passwords or self.passwords[user] != password:
            return self.reply(request, STATUS_DENIED, "invalid username or password")
        return self.reply(request, STATUS_OK, "OK", user_id=user)


class CurveKeyAuthenticator(Authenticator):
    """CURVE: accepts client public keys (raw 32 bytes or 40 Z85 characters) from a set;
    ``allow_any=True`` accepts every key (encryption without authentication). The user id
    is the client key in Z85, as pyzmq's authenticator reports it."""

    def __init__(self, keys: Iterable = (), allow_any: bool = False) -> None:
        from fastzmq.utils.z85 import decode

        self.keys = {k if len(k) == 32 else decode(k) for k in map(_b, keys)}
        self.allow_any = allow_any

    def authenticate(self, request: ZapRequest) -> ZapReply:
        from fastzmq.utils.z85 import encode

        if request.mechanism != b"CURVE" or len(request.credentials) != 1:
            return self.reply(request, STATUS_DENIED, "CURVE credentials expected")
        key = request.credentials[0]
        if not self.allow_any and key not in self.keys:
            return self.reply(request, STATUS_DENIED, "unknown public key")
        return self.reply(request, STATUS_OK, "OK", user_id=encode(key))


class _Deferred:
    """Marker authenticator: the mechanism does not call a hook, it sets ``zap_request``
    and waits for the engine to hand it the reply (``zap_reply``), so the handshake never
    blocks the I/O thread on the ZAP handler (see ``fastzmq._security``)."""

    def __repr__(self) -> str:
        return "DEFERRED"


DEFERRED = _Deferred()


def check_reply(reply: ZapReply) -> ZapReply:
    """A parsed reply: returned if 200, else :class:`AuthenticationFailed`."""
    if not reply.ok:
        raise AuthenticationFailed(reply.status_code, reply.status_text)
    return reply


def as_authenticator(obj) -> Authenticator | None:
    """``None``, an :class:`Authenticator`, or a plain function (see FunctionAuthenticator)."""
    if obj is None or obj is DEFERRED or isinstance(obj, Authenticator):
        return obj
    if hasattr(obj, "authenticate"):
        return obj
    if callable(obj):
        return FunctionAuthenticator(obj)
    raise TypeError(f"not an authenticator: {obj!r}")


def authenticate(authenticator, request: ZapRequest) -> ZapReply:
    """Run the hook (see :func:`as_authenticator`); a non-200 reply raises
    :class:`AuthenticationFailed`.

    An exception inside the hook, or a reply that does not survive the wire form (bad status
    code, wrong request id), is a 500, as a broken ZAP handler would be for libzmq."""
    authenticator = as_authenticator(authenticator)
    try:
        reply = authenticator.authenticate(request)
        reply = parse_reply(encode_reply(reply), request.request_id)
    except Exception as exc:  # the handler's fault, not the peer's
        raise AuthenticationFailed(STATUS_INTERNAL, f"ZAP handler failed: {exc!r}") from exc
    return check_reply(reply)

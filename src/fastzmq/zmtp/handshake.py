"""The ZMTP 3.x handshake as a sans-I/O object (after h11's Connection).

Theory of operation
-------------------
``Handshake`` never touches a socket or a clock. The engine calls ``receive_data(bytes)``
with whatever arrived, sends ``data_to_send()``, and calls ``next_event()`` until it gets
``NEED_DATA``, ``HandshakeComplete`` or ``HandshakeFailed``. The states:

``GREETING``  (RFC 23/37 "Version Negotiation")
    Our full 64-byte greeting is queued at construction: signature ``FF 00*8 7F``, version
    3.1 (or 3.0 on request), mechanism name null-padded to 20 bytes, as-server, 31 zero
    bytes. The peer's greeting is checked as its bytes arrive: byte 0 must be 0xFF and
    byte 9 0x7F (signature), byte 10 the major version >= 3 (older ZMTP is refused; higher
    versions are accepted, as the RFC requires). At 64 bytes the mechanism names must match.
    The version spoken is the lower of the two (a 3.0 peer gets 3.0 forms of SUBSCRIBE).
``MECHANISM`` (RFC 23/37 "Authentication", "The NULL Security Mechanism")
    The bytes after the greeting are command frames, decoded by ``fastzmq._frame.Decoder``
    (bounded by ``max_command_size``). A peer ERROR fails with ``PeerError``; every other
    command goes to the pluggable mechanism, whose replies are framed and queued. A data
    frame here is a protocol error.
``ZAP``       (inside ``MECHANISM``) a server mechanism built with a ``DEFERRED``
    authenticator exposes ``zap_request``; the engine asks the handler and calls
    ``zap_reply(reply)``, after which the handshake goes on.
``DONE``      once the mechanism is complete: the peer's Socket-Type must be compatible with
    ours (RFC 37 table). Bytes received beyond the handshake are handed over as
    ``HandshakeComplete.leftover``: they belong to the traffic stream.
``FAILED``    any ProtocolError. After the greeting we also queue an ERROR command naming the
    reason (except when the peer itself sent ERROR), so the engine should flush
    ``data_to_send()`` before closing. A mechanism's exception may set ``error_reason``
    (ZAP refusals send the status code, as libzmq does) or ``send_error = False`` (ZAP 300,
    PLAIN without a ZAP handler: libzmq closes without ERROR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Tuple, Union

from fastzmq._frame import Decoder, encode_command, parse_command
from fastzmq.zmtp import (
    BadFrame,
    BadGreeting,
    IncompatibleSocketType,
    MechanismMismatch,
    PeerError,
    ProtocolError,
)
from fastzmq.zmtp.commands import ERROR, encode_error_data, get_property, parse_error_reason
from fastzmq.zmtp.mechanisms import Mechanism
from fastzmq.zmtp.mechanisms.null import NullMechanism

GREETING_SIZE = 64
SIGNATURE_HEAD = 0xFF
SIGNATURE_TAIL = 0x7F
KNOWN_MECHANISMS = (b"NULL", b"PLAIN", b"CURVE", b"GSSAPI")
DEFAULT_MAX_COMMAND_SIZE = 1 << 20
# libzmq 4.3.5's PLAIN server sends its ZAP refusal as a 9-byte command "^RROR" + reason
# (observed on the wire; its own clients report it as the ERROR it means): read it so.
_LIBZMQ_PLAIN_ERROR = b"^RROR"

# RFC 37 "The Socket-Type Property": who may talk to whom.
_PEERS = {
    "REQ": {"REP", "ROUTER"},
    "REP": {"REQ", "DEALER"},
    "DEALER": {"REP", "DEALER", "ROUTER"},
    "ROUTER": {"REQ", "DEALER", "ROUTER"},
    "PUB": {"SUB", "XSUB"},
    "XPUB": {"SUB", "XSUB"},
    "SUB": {"PUB", "XPUB"},
    "XSUB": {"PUB", "XPUB"},
    "PUSH": {"PULL"},
    "PULL": {"PUSH"},
    "PAIR": {"PAIR"},
    "CLIENT": {"SERVER"},
    "SERVER": {"CLIENT"},
    "RADIO": {"DISH"},
    "DISH": {"RADIO"},
    "SCATTER": {"GATHER"},
    "GATHER": {"SCATTER"},
    "PEER": {"PEER"},
    "CHANNEL": {"CHANNEL"},
}
_SENDS_IDENTITY = {"REQ", "DEALER", "ROUTER"}


def socket_types_compatible(ours: str, theirs: str) -> bool:
    return theirs.upper() in _PEERS.get(ours.upper(), ())


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()


@dataclass(frozen=True)
class HandshakeComplete:
    peer_version: Tuple[int, int]
    peer_socket_type: str
    peer_identity: bytes
    peer_metadata: dict = field(default_factory=dict)
    leftover: bytes = b""
    version: Tuple[int, int] = (3, 1)  # what both sides speak: min(ours, peer's)
    peer_as_server: bool = False


@dataclass(frozen=True)
class HandshakeFailed:
    error: ProtocolError


Event = Union[_NeedData, HandshakeComplete, HandshakeFailed]

GREETING, MECHANISM, DONE, FAILED = "GREETING", "MECHANISM", "DONE", "FAILED"


def encode_greeting(mechanism: bytes, as_server: bool, version=(3, 1)) -> bytes:
    if len(mechanism) > 20:
        raise ValueError("mechanism name is at most 20 bytes")
    head = bytes((SIGNATURE_HEAD,)) + bytes(8) + bytes((SIGNATURE_TAIL, version[0], version[1]))
    return head + mechanism.ljust(20, b"\x00") + bytes((1 if as_server else 0,)) + bytes(31)


def check_greeting_prefix(data: bytes) -> None:
    """Reject a greeting as early as its first bytes allow (BadGreeting)."""
    if len(data) >= 1 and data[0] != SIGNATURE_HEAD:
        raise BadGreeting(f"bad signature: first byte 0x{data[0]:02x}, expected 0xff")
    if len(data) >= 10 and data[9] != SIGNATURE_TAIL:
        raise BadGreeting(f"bad signature: byte 9 is 0x{data[9]:02x}, expected 0x7f")
    if len(data) >= 11 and data[10] < 3:
        raise BadGreeting(f"peer speaks ZMTP major version {data[10]}; 3.x is required")


def parse_mechanism_name(greeting: bytes) -> bytes:
    raw = greeting[12:32]
    name = raw.rstrip(b"\x00")
    if b"\x00" in name:
        raise MechanismMismatch(f"malformed mechanism field {raw!r}")
    return name


class Handshake:
    """Greeting + security mechanism + metadata for one connection, sans I/O."""

    def __init__(
        self,
        socket_type: str = "DEALER",
        identity: bytes = b"",
        mechanism: Mechanism | None = None,
        as_server: bool = False,
        metadata: Mapping[str, Union[str, bytes]] | None = None,
        version: Tuple[int, int] = (3, 1),
        max_command_size: int = DEFAULT_MAX_COMMAND_SIZE,
    ) -> None:
        if tuple(version) not in ((3, 0), (3, 1)):
            raise ValueError(f"can only speak ZMTP 3.0 or 3.1, not {version}")
        self.socket_type = socket_type.upper()
        if self.socket_type not in _PEERS:
            raise ValueError(f"unknown socket type {socket_type!r}")
        self.identity = bytes(identity)
        self.mechanism = mechanism if mechanism is not None else NullMechanism()
        self.as_server = as_server
        self.version = tuple(version)
        self.state = GREETING
        self.peer_version: Tuple[int, int] | None = None
        self.peer_as_server = False
        self._metadata = self._our_metadata(metadata or {})
        self._out = bytearray(encode_greeting(self.mechanism.name, as_server, self.version))
        self._greeting = bytearray()
        self._decoder = Decoder(max_command_size)
        self._result: Event | None = None

    # ------------------------------------------------------------------ public API

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer; an empty ``data`` is not EOF (the engine handles EOF)."""
        if self.state == DONE and data:
            raise RuntimeError("handshake is complete: later bytes belong to the traffic stream")
        if self.state in (DONE, FAILED):
            return
        if self.state == GREETING:
            self._greeting += data
        else:
            self._decoder.feed(data)

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call (greeting, commands, ERROR)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> Event:
        if self._result is not None:
            return self._result
        try:
            event = self._advance()
        except ProtocolError as exc:
            event = self._fail(exc)
        if event is not NEED_DATA:
            self._result = event
        return event

    @property
    def zap_request(self):
        """The ZAP request the mechanism waits on (``DEFERRED`` authenticators), or None."""
        return self.mechanism.zap_request if self.state == MECHANISM else None

    def zap_reply(self, reply) -> Event:
        """Hand the mechanism the ZAP handler's parsed reply (a ``ZapReply``), or a
        ``ProtocolError`` when the exchange itself failed; returns the next event."""
        if self._result is not None or self.state != MECHANISM:
            return self.next_event()
        try:
            if isinstance(reply, ProtocolError):
                raise reply
            self._queue(self.mechanism.zap_reply(reply))
            event = self._complete() if self.mechanism.is_complete else self._advance()
        except ProtocolError as exc:
            event = self._fail(exc)
        if event is not NEED_DATA:
            self._result = event
        return event

    # ------------------------------------------------------------------ states

    def _advance(self) -> Event:
        if self.state == GREETING and not self._on_greeting():
            return NEED_DATA
        while True:
            frame = self._decoder.next_frame()
            if frame is None:
                return NEED_DATA
            if not frame.command:
                raise BadFrame("data frame received before the handshake completed")
            if bytes(frame.body[:5]) == _LIBZMQ_PLAIN_ERROR:
                raise PeerError(parse_error_reason(bytes(frame.body[5:])))
            self._on_command(*parse_command(frame.body))
            if self.mechanism.is_complete:
                return self._complete()

    def _on_greeting(self) -> bool:
        check_greeting_prefix(bytes(self._greeting[:11]))
        if len(self._greeting) < GREETING_SIZE:
            return False
        greeting = bytes(self._greeting[:GREETING_SIZE])
        self._check_mechanism(parse_mechanism_name(greeting))
        self.peer_version = (greeting[10], greeting[11])
        self.peer_as_server = greeting[32] == 1
        self.state = MECHANISM
        self._decoder.feed(bytes(self._greeting[GREETING_SIZE:]))
        self._greeting = bytearray()
        self._queue(self.mechanism.start(self._metadata, self.peer_as_server))
        return True

    def _check_mechanism(self, theirs: bytes) -> None:
        ours = self.mechanism.name
        if theirs == ours:
            return
        if theirs not in KNOWN_MECHANISMS:
            raise MechanismMismatch(f"peer uses unknown mechanism {theirs!r}; ours is {ours!r}")
        raise MechanismMismatch(f"peer uses mechanism {theirs!r}; ours is {ours!r}")

    def _on_command(self, name: bytes, data: bytes) -> None:
        if name == ERROR:
            raise PeerError(parse_error_reason(data))
        self._queue(self.mechanism.receive_command(name, data))

    def _complete(self) -> HandshakeComplete:
        meta = self.mechanism.peer_metadata
        raw_type = get_property(meta, "Socket-Type")
        if raw_type is None:
            raise IncompatibleSocketType("peer announced no Socket-Type")
        peer_type = raw_type.decode("latin-1")
        if not socket_types_compatible(self.socket_type, peer_type):
            raise IncompatibleSocketType(
                f"a {self.socket_type} socket cannot talk to a {peer_type} peer"
            )
        self.state = DONE
        return HandshakeComplete(
            peer_version=self.peer_version,
            peer_socket_type=peer_type.upper(),
            peer_identity=get_property(meta, "Identity", b""),
            peer_metadata=dict(meta),
            leftover=self._decoder.pending(),
            version=min(self.version, self.peer_version),
            peer_as_server=self.peer_as_server,
        )

    def _fail(self, exc: ProtocolError) -> HandshakeFailed:
        # A mechanism may name the ERROR reason (ZAP: the status code) or ask for none.
        silent = isinstance(exc, PeerError) or not getattr(exc, "send_error", True)
        if self.state == MECHANISM and not silent:
            reason = getattr(exc, "error_reason", None) or str(exc)
            self._out += encode_command(ERROR, encode_error_data(reason))
        self.state = FAILED
        return HandshakeFailed(exc)

    # ------------------------------------------------------------------ helpers

    def _queue(self, commands) -> None:
        for name, data in commands:
            self._out += encode_command(name, data)

    def _our_metadata(self, extra: Mapping[str, Union[str, bytes]]) -> dict:
        meta = {"Socket-Type": self.socket_type.encode()}
        if self.socket_type in _SENDS_IDENTITY:
            meta["Identity"] = self.identity
        for name, value in extra.items():
            meta[name] = value.encode() if isinstance(value, str) else bytes(value)
        return meta

    def __repr__(self) -> str:
        return f"<Handshake {self.socket_type} {self.mechanism.name.decode()} {self.state}>"

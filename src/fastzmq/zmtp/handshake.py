"""The ZMTP handshake as a sans-I/O object (after h11's Connection), with the fallback
to ZMTP 2.0 and 1.0 peers.

Theory of operation
-------------------
``Handshake`` never touches a socket or a clock. The engine calls ``receive_data(bytes)``
with whatever arrived, sends ``data_to_send()``, and calls ``next_event()`` until it gets
``NEED_DATA``, ``HandshakeComplete`` or ``HandshakeFailed``. The greeting goes out in
stages, as libzmq sends it, so that a peer of any ZMTP revision can read it (RFC 15
"Backwards Interoperability", RFC 23 "Version Negotiation"):

``SIGNATURE`` only our 10-byte signature is queued at construction: ``FF``, the length of
    our identity + 1 as 8 bytes big-endian, ``7F``. To a ZMTP 1.0 peer that is the header of
    an identity frame; to any later peer, a signature. We wait for the peer's first bytes:
    a first byte other than ``FF``, or a 10th byte with bit 0 clear, is a 1.0 peer
    (``V1_IDENTITY``); else we queue our major version (3) and go to ``REVISION``.
``REVISION`` the peer's 11th byte. 2 or more: we queue the rest of our ZMTP 3 greeting
    (minor, mechanism, as-server, filler) and go to ``GREETING``; a plain NULL handshake
    (no ZAP, no extra metadata) queues its READY with it, as that waits for nothing of the
    peer's: the side whose greeting ends last then finds the peer's READY already there.
    1 (ZMTP 2.0) or 0 (the versioned ZMTP 1.0 of libzmq 3.0): we queue our socket-type byte
    (RFC 15 numbers) and our identity frame (2.0 framing, or 1.0 framing for revision 0)
    and go to ``OLD_GREETING``.
``OLD_GREETING`` / ``V1_IDENTITY`` (RFC 15 / RFC 13) the peer's socket type (2.0: checked
    against ``COMPATIBLE_PEERS``, XPUB/XSUB being PUB/SUB on the wire; 1.0 has none) and
    identity frame; then ``HandshakeComplete`` with ``version`` (2, 0) or (1, 0). These
    revisions have no security: only a NULL mechanism without ZAP speaks them; any other
    socket refuses the peer (``LegacyPeerRefused``, a mechanism mismatch), fail closed.
``GREETING``  (ZMTP 3) at 64 bytes the mechanism names must match. The version spoken is
    the lower of the two (a 3.0 peer gets 3.0 forms of SUBSCRIBE).
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
    ``HandshakeComplete.leftover``: they belong to the traffic stream (for a 1.0 peer, in
    1.0 framing: see ``fastzmq.zmtp.zmtp1``).
``FAILED``    any ProtocolError. After the greeting we also queue an ERROR command naming the
    reason (except when the peer itself sent ERROR), so the engine should flush
    ``data_to_send()`` before closing. A mechanism's exception may set ``error_reason``
    (ZAP refusals send the status code, as libzmq does) or ``send_error = False`` (ZAP 300,
    PLAIN without a ZAP handler: libzmq closes without ERROR). A 2.0/1.0 peer is never
    sent an ERROR (it has no commands).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Mapping, Tuple, Union

from fastzmq._frame import Decoder, encode_command, parse_command
from fastzmq.zmtp import (
    BadFrame,
    BadGreeting,
    IncompatibleSocketType,
    LegacyPeerRefused,
    MechanismMismatch,
    PeerError,
    ProtocolError,
)
from fastzmq.zmtp.commands import (
    ERROR,
    READY,
    decode_metadata,
    encode_error_data,
    encode_metadata,
    get_property,
    parse_error_reason,
)
from fastzmq.zmtp.mechanisms import Mechanism
from fastzmq.zmtp.mechanisms.null import NullMechanism

GREETING_SIZE = 64
SIGNATURE_SIZE = 10
V2_GREETING_SIZE = 12  # signature, revision, socket type (then the identity frame)
SIGNATURE_HEAD = 0xFF
SIGNATURE_TAIL = 0x7F
KNOWN_MECHANISMS = (b"NULL", b"PLAIN", b"CURVE", b"GSSAPI")
DEFAULT_MAX_COMMAND_SIZE = 1 << 20
MAX_OLD_IDENTITY = 255  # RFC 13/15: an identity is at most 255 bytes
# libzmq 4.3.5's PLAIN server sends its ZAP refusal as a 9-byte command "^RROR" + reason
# (observed on the wire; its own clients report it as the ERROR it means): read it so.
_LIBZMQ_PLAIN_ERROR = b"^RROR"

# RFC 37 "The Socket-Type Property" (and RFC 15 "Socket Compatibility" for 2.0 peers, with
# XPUB/XSUB as PUB/SUB): who may talk to whom. The one table of peer types: a new socket
# type adds its row here.
COMPATIBLE_PEERS = {
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
_PEERS = COMPATIBLE_PEERS  # (the former name)
_SENDS_IDENTITY = {"REQ", "DEALER", "ROUTER"}

# RFC 15's socket-type byte. XPUB and XSUB are PUB and SUB on the wire (RFC 15
# "Publish-Subscribe"); libzmq 3.x sends its own numbers for them (9, 10): read those too.
# A type without a number here (the draft types) cannot talk to a 2.0 peer.
ZMTP2_TYPE_CODES = {
    "PAIR": 0,
    "PUB": 1,
    "SUB": 2,
    "REQ": 3,
    "REP": 4,
    "DEALER": 5,
    "ROUTER": 6,
    "PULL": 7,
    "PUSH": 8,
    "XPUB": 1,
    "XSUB": 2,
}
ZMTP2_TYPE_NAMES = {
    0: "PAIR",
    1: "PUB",
    2: "SUB",
    3: "REQ",
    4: "REP",
    5: "DEALER",
    6: "ROUTER",
    7: "PULL",
    8: "PUSH",
    9: "XPUB",
    10: "XSUB",
}


def socket_types_compatible(ours: str, theirs: str) -> bool:
    return theirs.upper() in COMPATIBLE_PEERS.get(ours.upper(), ())


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()


@dataclass(frozen=True)
class HandshakeComplete:
    peer_version: Tuple[int, int]
    peer_socket_type: str  # "" for a ZMTP 1.0 peer (it announces none)
    peer_identity: bytes
    peer_metadata: dict = field(default_factory=dict)
    leftover: bytes = b""
    version: Tuple[int, int] = (3, 1)  # what both sides speak: min(ours, peer's)
    peer_as_server: bool = False

    @property
    def framing(self) -> int:
        """The framing of the traffic that follows: 1 (RFC 13, a translation is needed),
        else 2 (ZMTP 2.0 and 3.x message frames are alike)."""
        return 1 if self.version[0] < 2 else 2


@dataclass(frozen=True)
class HandshakeFailed:
    error: ProtocolError


Event = Union[_NeedData, HandshakeComplete, HandshakeFailed]

SIGNATURE, REVISION, GREETING = "SIGNATURE", "REVISION", "GREETING"
OLD_GREETING, V1_IDENTITY = "OLD_GREETING", "V1_IDENTITY"
MECHANISM, DONE, FAILED = "MECHANISM", "DONE", "FAILED"
_GREETING_STATES = (SIGNATURE, REVISION, GREETING, OLD_GREETING, V1_IDENTITY)


_EMPTY_SIGNATURE = b"\xff" + bytes(7) + b"\x01\x7f"  # (no identity: the usual case)


def encode_signature(identity: bytes = b"") -> bytes:
    """Our first 10 bytes: a signature to ZMTP 2.0+ peers, an identity frame's header (the
    identity size + 1, flags 0x7F) to ZMTP 1.0 peers (RFC 15)."""
    if not identity:
        return _EMPTY_SIGNATURE
    return b"\xff" + struct.pack(">Q", len(identity) + 1) + b"\x7f"


_TAILS: dict = {}  # (mechanism, as_server, minor) -> greeting tail (a handful of kinds)


def encode_greeting_tail(mechanism: bytes, as_server: bool, minor: int) -> bytes:
    """The ZMTP 3 greeting after the signature and the major version (53 bytes)."""
    key = (mechanism, bool(as_server), minor)
    tail = _TAILS.get(key)
    if tail is not None:
        return tail
    if len(mechanism) > 20:
        raise ValueError("mechanism name is at most 20 bytes")
    tail = bytes((minor,)) + mechanism.ljust(20, b"\x00") + bytes((1 if as_server else 0,))
    tail += bytes(31)
    if len(_TAILS) < 64:
        _TAILS[key] = tail
    return tail


def encode_greeting(mechanism: bytes, as_server: bool, version=(3, 1)) -> bytes:
    """A whole 64-byte ZMTP 3 greeting, as a ZMTP 3 peer may send it at once."""
    head = bytes((SIGNATURE_HEAD,)) + bytes(8) + bytes((SIGNATURE_TAIL, version[0]))
    return head + encode_greeting_tail(mechanism, as_server, version[1])


def encode_v1_frame(body: bytes, more: bool = False) -> bytes:
    """One RFC 13 frame: length (1 byte, or FF + 8 bytes from 255 on) including the flags."""
    n = len(body) + 1
    head = bytes((n,)) if n < 255 else b"\xff" + struct.pack(">Q", n)
    return head + bytes((1 if more else 0,)) + bytes(body)


def parse_v1_frame(buf, pos: int = 0, limit: int = MAX_OLD_IDENTITY + 1):
    """An RFC 13 frame at ``buf[pos:]``: (flags, body, end) or None if incomplete;
    BadGreeting if its length is 0 or above ``limit`` (length includes the flags byte)."""
    if len(buf) <= pos:
        return None
    n, head = buf[pos], 1
    if n == 0xFF:
        if len(buf) < pos + 9:
            return None
        (n,) = struct.unpack_from(">Q", buf, pos + 1)
        head = 9
    if n == 0 or n > limit:
        raise BadGreeting(f"ZMTP 1.0 identity frame of length {n}")
    end = pos + head + n
    if len(buf) < end:
        return None
    return buf[pos + head], bytes(buf[pos + head + 1 : end]), end


def parse_v2_frame(buf, pos: int = 0, limit: int = MAX_OLD_IDENTITY):
    """An RFC 15 frame at ``buf[pos:]``: (flags, body, end) or None if incomplete."""
    if len(buf) < pos + 2:
        return None
    flags = buf[pos]
    if flags & ~0x03:
        raise BadGreeting(f"ZMTP 2.0 frame with reserved flags 0x{flags:02x}")
    if flags & 0x02:
        if len(buf) < pos + 9:
            return None
        (n,) = struct.unpack_from(">Q", buf, pos + 1)
        head = 9
    else:
        n, head = buf[pos + 1], 2
    if n > limit:
        raise BadGreeting(f"ZMTP 2.0 identity frame of {n} bytes")
    end = pos + head + n
    if len(buf) < end:
        return None
    return flags, bytes(buf[pos + head : end]), end


def parse_mechanism_name(greeting: bytes) -> bytes:
    raw = greeting[12:32]
    name = raw.rstrip(b"\x00")
    if b"\x00" in name:
        raise MechanismMismatch(f"malformed mechanism field {raw!r}")
    return name


_NULL_READY: dict = {}  # (socket type, identity) -> our READY command frame


def _null_ready(socket_type: str, identity: bytes) -> bytes:
    """Our NULL READY (Socket-Type, and Identity for the types that send one), cached:
    the bytes the general path builds through the mechanism, once per socket kind."""
    key = (socket_type, identity)
    frame = _NULL_READY.get(key)
    if frame is None:
        meta = {"Socket-Type": socket_type.encode()}
        if socket_type in _SENDS_IDENTITY:
            meta["Identity"] = identity
        frame = encode_command(READY, encode_metadata(meta))
        if len(_NULL_READY) < 1024:  # (bounded: identities are user data)
            _NULL_READY[key] = frame
    return frame


def peer_socket_type(ours: str, metadata: Mapping[str, bytes]) -> str:
    """The peer's Socket-Type from its READY metadata, upper case; IncompatibleSocketType
    if it names none or one ``ours`` (upper case) cannot talk to (RFC 37 table)."""
    raw_type = get_property(metadata, "Socket-Type")
    if raw_type is None:
        raise IncompatibleSocketType("peer announced no Socket-Type")
    peer_type = raw_type.decode("latin-1").upper()
    if peer_type not in COMPATIBLE_PEERS[ours]:
        raise IncompatibleSocketType(f"a {ours} socket cannot talk to a {peer_type} peer")
    return peer_type


def is_plain_null(mechanism: Mechanism) -> bool:
    """NULL without ZAP: with no extra metadata, a connection's handshake is the same bytes
    for every connection of a socket kind (``null_script_for``)."""
    return type(mechanism) is NullMechanism and mechanism._ask is None


_NULL_SCRIPTS: dict = {}  # (socket type, identity, as_server, version) -> the script


def null_script_for(
    socket_type: str, identity: bytes = b"", as_server: bool = False, version=(3, 1)
) -> bytes:
    """Every byte a NULL handshake without ZAP or extra metadata sends a ZMTP 3 NULL peer,
    in order (``Handshake.null_script``): signature, major version, the rest of the
    greeting, READY. Cached per socket kind; ``socket_type`` is upper case."""
    key = (socket_type, identity, as_server, version)
    script = _NULL_SCRIPTS.get(key)
    if script is None:
        script = (
            encode_signature(identity)
            + bytes((version[0],))
            + encode_greeting_tail(NullMechanism.name, as_server, version[1])
            + _null_ready(socket_type, identity)
        )
        if len(_NULL_SCRIPTS) < 1024:  # (bounded: identities are user data)
            _NULL_SCRIPTS[key] = script
    return script


_NULL_GREETING_MECHANISM = NullMechanism.name.ljust(20, b"\x00")
_READY_HEAD = b"\x05READY"


def complete_null(socket_type: str, data: bytes) -> HandshakeComplete | None:
    """The completion of a NULL handshake (no ZAP, no extra metadata, ZMTP 3.1 on our
    side) from all the peer sent, when that is the plain case: a ZMTP 3 greeting naming
    NULL, then a whole short READY whose metadata is well formed and names a socket type
    ours talks to (``socket_type``, upper case); what follows it is the leftover. None for
    anything else, and then a ``Handshake`` fed the same bytes completes or fails it by
    the general rules: this only saves building one when nothing is in doubt. The result
    is equal to that ``Handshake``'s, which has sent ``null_script_for`` by then."""
    n = len(data)
    if n < 72 or data[0] != SIGNATURE_HEAD or not data[9] & 0x01 or data[10] < 3:
        return None  # (revision 2 is read as 3 by the Handshake: left to it)
    if data[12:32] != _NULL_GREETING_MECHANISM or data[64] != 0x04:
        return None
    end = 66 + data[65]
    if end < 72 or n < end or data[66:72] != _READY_HEAD:
        return None
    try:
        meta = decode_metadata(data[72:end])
        peer_type = peer_socket_type(socket_type, meta)
    except ProtocolError:
        return None
    peer_version = (data[10], data[11])
    return HandshakeComplete(
        peer_version=peer_version,
        peer_socket_type=peer_type,
        peer_identity=get_property(meta, "Identity", b""),
        peer_metadata=meta,  # (a dict of its own: decode_metadata's)
        leftover=data[end:],
        version=min((3, 1), peer_version),
        peer_as_server=data[32] == 1,
    )


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
        if self.socket_type not in COMPATIBLE_PEERS:
            raise ValueError(f"unknown socket type {socket_type!r}")
        self.identity = bytes(identity)
        self.mechanism = mechanism if mechanism is not None else NullMechanism()
        self.as_server = as_server
        self.version = tuple(version)
        self.state = SIGNATURE
        self.peer_version: Tuple[int, int] | None = None
        self.peer_as_server = False
        self._metadata_extra = metadata
        self._out = bytearray(encode_signature(self.identity))
        self._greeting = bytearray()
        self._decoder: Decoder | None = None
        self._max_command_size = max_command_size
        self._result: Event | None = None

    # ------------------------------------------------------------------ public API

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer; an empty ``data`` is not EOF (the engine handles EOF)."""
        if self.state == DONE and data:
            raise RuntimeError("handshake is complete: later bytes belong to the traffic stream")
        if self.state in (DONE, FAILED):
            return
        if self.state == MECHANISM and self._decoder is not None:
            self._decoder.feed(data)
        else:
            self._greeting += data  # (also the NULL fast path's READY, before a decoder)

    def step(self, data: bytes) -> Tuple[Event, bytes]:
        """``receive_data(data)``, ``next_event()`` and ``data_to_send()`` in one call (an
        engine's use after each read, at one Python call instead of three): (event, the
        bytes queued for the peer)."""
        state = self.state
        if state == MECHANISM and self._decoder is not None:
            self._decoder.feed(data)
        elif state == DONE:
            if data:
                raise RuntimeError("handshake is complete: later bytes belong to the traffic")
        elif state != FAILED:
            self._greeting += data
        event = self._result
        if event is None:
            event = self.next_event()
        out = self._out
        if not out:
            return event, b""
        sent = bytes(out)
        out.clear()
        return event, sent

    def null_script(self) -> bytes | None:
        """Every byte this handshake sends a ZMTP 3 peer that also speaks NULL, in order:
        our signature, major version, the rest of the greeting, READY. None unless this is
        the NULL fast path (NULL, no ZAP, no extra metadata) and nothing was read yet.

        An engine may send these bytes itself, each stage once the peer's bytes allow it
        as this class stages them, then hand all it read to ``step`` (which completes or
        fails the handshake as usual); what it sent is then the start of this object's
        output (see the stager in ``fastzmq._io``)."""
        if self.state != SIGNATURE or self._greeting or not self._null_fast():
            return None
        return null_script_for(self.socket_type, self.identity, self.as_server, self.version)

    def _null_fast(self) -> bool:
        """NULL without ZAP and without extra metadata (every plain connection): our READY
        is the same bytes for every connection of a socket type and identity."""
        return is_plain_null(self.mechanism) and not self._metadata_extra

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
        if self.state != MECHANISM:
            event = self._on_greeting()
            if event is not None:
                return event
        if self._decoder is None:  # the NULL fast path: the peer's READY, read directly
            event = self._fast_ready()
            if event is not None:
                return event
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

    def _on_greeting(self) -> Event | None:
        """The greeting states: an event, or None once in MECHANISM."""
        buf = self._greeting
        if self.state == SIGNATURE:
            if not buf:
                return NEED_DATA
            if buf[0] != SIGNATURE_HEAD:
                return self._start_v1()
            if len(buf) < SIGNATURE_SIZE:
                return NEED_DATA
            if not buf[9] & 0x01:  # the flags of a 1.0 identity frame: no signature
                return self._start_v1()
            self._out.append(self.version[0])
            self.state = REVISION
        if self.state == REVISION:
            if len(buf) <= SIGNATURE_SIZE:
                return NEED_DATA
            revision = buf[SIGNATURE_SIZE]
            if revision >= 2:  # (there never was a revision 2: libzmq reads it as 3)
                mech, minor = self.mechanism.name, self.version[1]
                self._out += encode_greeting_tail(mech, self.as_server, minor)
                if self._null_fast():
                    # Our READY with the rest of the greeting: NULL's READY waits for
                    # nothing of the peer's, so it need not wait for the peer's greeting
                    # (one round trip less for the side that sends its greeting last);
                    # a peer whose greeting then names another mechanism is refused as
                    # before, and has learnt only our socket type.
                    self._out += _null_ready(self.socket_type, self.identity)
                    self.mechanism._ready_sent = True
                self.state = GREETING
            else:
                self._refuse_unless_null(f"ZMTP {'2.0' if revision else '1.0'}")
                code = ZMTP2_TYPE_CODES.get(self.socket_type)
                if code is None:
                    raise IncompatibleSocketType(
                        f"a {self.socket_type} socket cannot talk to a ZMTP 2.0 peer"
                    )
                self._out.append(code)
                if revision == 1:
                    self._out += bytes((0, len(self.identity))) + self.identity
                else:
                    self._out += encode_v1_frame(self.identity)
                self.peer_version = (2, 0) if revision == 1 else (1, 0)
                self.state = OLD_GREETING
        if self.state == OLD_GREETING:
            return self._on_old_greeting()
        if self.state == V1_IDENTITY:
            return self._on_v1_identity()
        if len(buf) < GREETING_SIZE:
            return NEED_DATA
        greeting = bytes(buf[:GREETING_SIZE])
        self._check_mechanism(parse_mechanism_name(greeting))
        self.peer_version = (greeting[10], greeting[11])
        self.peer_as_server = greeting[32] == 1
        self.state = MECHANISM
        mech = self.mechanism
        if self._null_fast():
            # our READY went with the greeting's rest (REVISION); the peer's READY is read
            # by _fast_ready, which hands anything else to the general path below
            del buf[:GREETING_SIZE]
            return None
        self._decoder = Decoder(self._max_command_size)
        self._decoder.feed(bytes(buf[GREETING_SIZE:]))
        self._greeting = bytearray()
        metadata = self._our_metadata(self._metadata_extra or {})
        self._queue(mech.start(metadata, self.peer_as_server))
        return None

    def _fast_ready(self) -> Event | None:
        """(NULL fast path, in MECHANISM before any decoder) The peer's first command,
        read from the buffered bytes when it is a short READY: NEED_DATA while it is
        incomplete, the completion once it is whole. Anything else (a long frame, ERROR,
        another command, a data frame) gets a Decoder fed with the bytes so far: None,
        and the general path goes on exactly as if there were no fast path."""
        buf = self._greeting
        n = len(buf)
        if n == 0:
            return NEED_DATA
        if buf[0] == 0x04:  # a short command frame
            if n < 2:
                return NEED_DATA
            size = buf[1]
            if size <= self._max_command_size and (n < 8 or buf[2:8] == b"\x05READY"):
                if n < 2 + size:
                    return NEED_DATA
                if size >= 6:
                    self.mechanism.receive_command(READY, bytes(buf[8 : 2 + size]))
                    leftover = bytes(buf[2 + size :])
                    self._greeting = bytearray()
                    return self._complete(leftover)
        self._decoder = Decoder(self._max_command_size)
        self._decoder.feed(bytes(buf))
        self._greeting = bytearray()
        return None

    def _refuse_unless_null(self, what: str) -> None:
        """ZMTP 2.0/1.0 carry no security: only a NULL socket without ZAP speaks them
        (libzmq refuses them whenever ZAP is enabled); anything else fails closed."""
        mech = self.mechanism
        if not isinstance(mech, NullMechanism) or mech.authenticates:
            how = mech.name.decode() + ("" if mech.name != b"NULL" else " with ZAP")
            raise LegacyPeerRefused(f"peer speaks {what}, which has no security; ours is {how}")

    def _start_v1(self) -> Event:
        """A ZMTP 1.0 peer (RFC 13): our signature was the header of our identity frame;
        its body follows, and the peer's first frame is its identity."""
        self._refuse_unless_null("ZMTP 1.0")
        self._out += self.identity
        self.peer_version = (1, 0)
        self.state = V1_IDENTITY
        return self._on_v1_identity()

    def _on_v1_identity(self) -> Event:
        buf = self._greeting
        flags_at = 9 if buf[0] == 0xFF else 1
        if len(buf) > flags_at and buf[flags_at] & 0x01:
            # An identity is one frame. (RFC 13 leaves idflags unchecked and libzmq waits
            # on; refusing MORE here turns away most non-ZMTP clients at once: "GET ",
            # "POST", "SSH-", a TLS hello all look like a 1.0 frame with MORE set.)
            raise BadGreeting("ZMTP 1.0 identity frame with the MORE flag: not a ZMTP peer")
        frame = parse_v1_frame(buf)
        if frame is None:
            return NEED_DATA
        _, identity, end = frame
        return self._complete_old("", identity, end)

    def _on_old_greeting(self) -> Event:
        buf = self._greeting
        if len(buf) < V2_GREETING_SIZE:
            return NEED_DATA
        peer_type = ZMTP2_TYPE_NAMES.get(buf[11])
        if peer_type is None:
            raise IncompatibleSocketType(f"ZMTP 2.0 peer of unknown socket type {buf[11]}")
        if not socket_types_compatible(self.socket_type, peer_type):
            raise IncompatibleSocketType(
                f"a {self.socket_type} socket cannot talk to a {peer_type} peer (ZMTP 2.0)"
            )
        if self.peer_version == (2, 0):
            frame = parse_v2_frame(buf, V2_GREETING_SIZE)
        else:
            frame = parse_v1_frame(buf, V2_GREETING_SIZE)
        if frame is None:
            return NEED_DATA
        flags, identity, end = frame
        if self.peer_version == (2, 0) and flags & 0x01:
            raise BadGreeting("ZMTP 2.0 identity frame with the MORE flag")
        return self._complete_old(peer_type, identity, end)

    def _complete_old(self, peer_type: str, identity: bytes, end: int) -> HandshakeComplete:
        self.state = DONE
        leftover = bytes(self._greeting[end:])
        self._greeting = bytearray()
        return HandshakeComplete(
            peer_version=self.peer_version,
            peer_socket_type=peer_type,
            peer_identity=identity,
            leftover=leftover,
            version=self.peer_version,
        )

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

    def _complete(self, leftover: bytes | None = None) -> HandshakeComplete:
        meta = self.mechanism.peer_metadata
        peer_type = peer_socket_type(self.socket_type, meta)
        identity = get_property(meta, "Identity", b"")
        self.state = DONE
        return HandshakeComplete(
            peer_version=self.peer_version,
            peer_socket_type=peer_type,
            peer_identity=identity,
            peer_metadata=dict(meta),
            leftover=self._decoder.pending() if leftover is None else leftover,
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

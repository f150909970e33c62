"""ZMTP command bodies: metadata, READY/ERROR, SUBSCRIBE/CANCEL, PING/PONG.

Theory of operation
-------------------
A command frame's body is ``name-length (1 byte) | name | data`` (RFC 23 "Commands").
This module builds and parses the *data* part of the commands ZMTP itself defines:

* metadata (RFC 23/37 "The NULL Security Mechanism"): ``*(name-len:1 name value-len:4 value)``,
  names 1-255 bytes and case-insensitive, values 0 to 2**31-1 bytes (big-endian size);
* ERROR: ``reason-len:1 reason`` (0-255 bytes);
* SUBSCRIBE / CANCEL (RFC 37 "The Publish-Subscribe Pattern"): the topic is the whole data.
  A ZMTP 3.0 peer knows no such commands: there a subscription is a one-frame *message*
  whose body is ``\\x01 topic`` (subscribe) or ``\\x00 topic`` (cancel);
* PING (RFC 37 "Connection Heartbeating"): ``ttl:2 (deciseconds) context:0-16``;
  PONG echoes the context.

Encoders return whole frames (header included); decoders take a command *body* and return
small immutable objects. Malformed input raises ``BadFrame``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Mapping, Tuple, Union

from fastzmq._frame import encode_command, encode_frame, parse_command
from fastzmq.zmtp import BadFrame

READY = b"READY"
ERROR = b"ERROR"
SUBSCRIBE = b"SUBSCRIBE"
CANCEL = b"CANCEL"
PING = b"PING"
PONG = b"PONG"

MAX_PING_CONTEXT = 16
MAX_PROPERTY_VALUE = 2**31 - 1

Version = Tuple[int, int]

# --------------------------------------------------------------------------- metadata


def _as_bytes(value: Union[str, bytes], what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def encode_metadata(props: Mapping[Union[str, bytes], Union[str, bytes]]) -> bytes:
    """Metadata properties as carried by READY (and PLAIN's INITIATE/READY)."""
    out = bytearray()
    for name, value in props.items():
        n = _as_bytes(name, "property name")
        v = _as_bytes(value, "property value")
        if not 1 <= len(n) <= 255:
            raise ValueError(f"property name must be 1 to 255 bytes: {n!r}")
        if len(v) > MAX_PROPERTY_VALUE:
            raise ValueError("property value longer than 2**31-1 bytes")
        out += bytes((len(n),)) + n + struct.pack(">I", len(v)) + v
    return bytes(out)


def decode_metadata(data: bytes) -> dict:
    """``{name (str, as sent): value (bytes)}``; every property is kept, known or not."""
    props = {}
    pos, end = 0, len(data)
    while pos < end:
        n = data[pos]
        if n == 0:
            raise BadFrame("metadata property with an empty name")
        if pos + 1 + n + 4 > end:
            raise BadFrame("metadata property truncated in its name or value size")
        name = data[pos + 1 : pos + 1 + n].decode("latin-1")
        (size,) = struct.unpack_from(">I", data, pos + 1 + n)
        pos += 1 + n + 4
        if size > MAX_PROPERTY_VALUE or pos + size > end:
            raise BadFrame(f"metadata property {name!r} value truncated or too long")
        props[name] = bytes(data[pos : pos + size])
        pos += size
    return props


def get_property(props: Mapping[str, bytes], name: str, default=None):
    """Case-insensitive lookup of a metadata property (RFC 37: names are case-insensitive):
    the spelling asked for first (the one peers send), then a scan."""
    value = props.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, value in props.items():
        if key.lower() == wanted:
            return value
    return default


# --------------------------------------------------------------------------- READY / ERROR


def encode_ready(props: Mapping[Union[str, bytes], Union[str, bytes]]) -> bytes:
    return encode_command(READY, encode_metadata(props))


def encode_error_data(reason: str) -> bytes:
    raw = reason.encode("ascii", "replace")[:255]
    return bytes((len(raw),)) + raw


def encode_error(reason: str) -> bytes:
    """An ERROR command frame; the reason is cut to 255 ASCII bytes."""
    return encode_command(ERROR, encode_error_data(reason))


def parse_error_reason(data: bytes) -> str:
    if not data or len(data) < 1 + data[0]:
        raise BadFrame("ERROR command with a truncated reason")
    return data[1 : 1 + data[0]].decode("ascii", "replace")


# --------------------------------------------------------------------------- traffic commands


@dataclass(frozen=True)
class Subscribe:
    topic: bytes


@dataclass(frozen=True)
class Cancel:
    topic: bytes


@dataclass(frozen=True)
class Ping:
    ttl: int  # deciseconds, 0 = no hint
    context: bytes = b""


@dataclass(frozen=True)
class Pong:
    context: bytes = b""


@dataclass(frozen=True)
class Error:
    reason: str


@dataclass(frozen=True)
class UnknownCommand:
    name: bytes
    data: bytes


def _is_31(version: Version) -> bool:
    return tuple(version) >= (3, 1)


def encode_subscribe(topic: bytes, version: Version = (3, 1)) -> bytes:
    """SUBSCRIBE as a command (3.1) or as a ``\\x01topic`` message (3.0 peer)."""
    if _is_31(version):
        return encode_command(SUBSCRIBE, topic)
    return encode_frame(b"\x01" + bytes(topic))


def encode_cancel(topic: bytes, version: Version = (3, 1)) -> bytes:
    """CANCEL as a command (3.1) or as a ``\\x00topic`` message (3.0 peer)."""
    if _is_31(version):
        return encode_command(CANCEL, topic)
    return encode_frame(b"\x00" + bytes(topic))


def encode_ping(ttl: int = 0, context: bytes = b"") -> bytes:
    """PING with a TTL in deciseconds (0-65535) and up to 16 bytes of context."""
    if not 0 <= ttl <= 0xFFFF:
        raise ValueError(f"PING ttl must fit 16 bits (deciseconds), got {ttl}")
    if len(context) > MAX_PING_CONTEXT:
        raise ValueError("PING context is at most 16 bytes")
    return encode_command(PING, struct.pack(">H", ttl) + bytes(context))


def encode_pong(context: bytes = b"") -> bytes:
    if len(context) > MAX_PING_CONTEXT:
        raise ValueError("PONG context is at most 16 bytes")
    return encode_command(PONG, bytes(context))


def _decode_ping(data: bytes) -> Ping:
    if len(data) < 2:
        raise BadFrame("PING command shorter than its 2-byte TTL")
    if len(data) > 2 + MAX_PING_CONTEXT:
        raise BadFrame("PING context longer than 16 bytes")
    return Ping(struct.unpack_from(">H", data)[0], bytes(data[2:]))


def _decode_pong(data: bytes) -> Pong:
    if len(data) > MAX_PING_CONTEXT:
        raise BadFrame("PONG context longer than 16 bytes")
    return Pong(bytes(data))


_DECODERS = {
    SUBSCRIBE: lambda data: Subscribe(bytes(data)),
    CANCEL: lambda data: Cancel(bytes(data)),
    PING: _decode_ping,
    PONG: _decode_pong,
    ERROR: lambda data: Error(parse_error_reason(data)),
}


def decode_command(body: bytes):
    """A traffic-phase command frame body -> Subscribe/Cancel/Ping/Pong/Error/UnknownCommand."""
    name, data = parse_command(body)
    decode = _DECODERS.get(name.upper())
    if decode is None:
        return UnknownCommand(name, data)
    return decode(data)


def decode_subscription_message(body: bytes) -> Union[Subscribe, Cancel] | None:
    """The ZMTP 3.0 form: a one-frame message ``\\x01topic`` / ``\\x00topic``; else None."""
    if not body or body[0] > 1:
        return None
    topic = bytes(body[1:])
    return Subscribe(topic) if body[0] == 1 else Cancel(topic)


def pong_for(ping: Union[Ping, bytes]) -> bytes:
    """The PONG frame answering ``ping``, a ``Ping`` or a PING command's data (echoes its
    context; ``BadFrame`` if the data is malformed)."""
    if not isinstance(ping, Ping):
        ping = _decode_ping(bytes(ping))
    return encode_pong(ping.context)

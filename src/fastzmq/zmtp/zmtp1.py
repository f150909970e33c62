"""ZMTP 1.0 framing (RFC 13) <-> ZMTP 2.0/3 message framing, as streams, sans I/O.

Theory of operation
-------------------
A ZMTP 1.0 frame is ``length flags body`` where the length counts the flags byte: one
byte (1-254), or ``FF`` and 8 bytes big-endian; flags bit 0 is MORE, the other bits are
reserved (ignored, as libzmq's v1 decoder does). A ZMTP 2.0/3 frame is ``flags length
body``: flags bit 0 MORE, bit 1 LONG (8-byte length, else 1 byte), bit 2 COMMAND (3.x).

The I/O engine only speaks the second form, so a connection to a 1.0 peer runs through
these two translators (``fastzmq._legacy`` carries the bytes): ``FromV1`` turns the
peer's stream into ZMTP 2.0 frames, ``ToV1`` turns ours into 1.0 frames. Both work on
arbitrary chunks (a header may be cut anywhere) and pass bodies through without holding
a whole frame. ``ToV1`` drops command frames: a 1.0 peer has no commands (and with a 1.0
peer our engine sends none but PONGs answering PINGs it never gets).
"""

from __future__ import annotations

import struct

from fastzmq.zmtp import BadFrame

_LONG = struct.Struct(">Q")


def _v2_header(more: int, size: int) -> bytes:
    if size > 255:
        return bytes((more | 0x02,)) + _LONG.pack(size)
    return bytes((more, size))


def _v1_header(more: int, size: int) -> bytes:
    n = size + 1
    if n >= 255:
        return b"\xff" + _LONG.pack(n) + bytes((more,))
    return bytes((n, more))


class FromV1:
    """A 1.0 peer's byte stream -> ZMTP 2.0 frames. ``prefix`` is put first (e.g. the
    subscription libzmq injects for a 1.0 subscriber, which sends none)."""

    def __init__(self, prefix: bytes = b"") -> None:
        self._head = bytearray()
        self._left = 0  # body bytes of the current frame still to pass through
        self._pending = bytes(prefix)

    def feed(self, data: bytes) -> bytes:
        out = [self._pending] if self._pending else []
        self._pending = b""
        i, n, head = 0, len(data), self._head
        while i < n:
            if self._left:
                take = min(self._left, n - i)
                out.append(data[i : i + take])
                i += take
                self._left -= take
                continue
            head.append(data[i])
            i += 1
            if head[0] == 0:
                raise BadFrame("ZMTP 1.0 frame of length 0")
            need = 10 if head[0] == 0xFF else 2
            if len(head) < need:
                continue
            length = _LONG.unpack_from(head, 1)[0] if need == 10 else head[0]
            if length == 0:
                raise BadFrame("ZMTP 1.0 frame of length 0")
            out.append(_v2_header(head[-1] & 0x01, length - 1))
            self._left = length - 1
            head.clear()
        return b"".join(out)


class ToV1:
    """Our ZMTP 2.0/3 frames -> a 1.0 peer's framing (command frames are dropped)."""

    def __init__(self) -> None:
        self._head = bytearray()
        self._left = 0
        self._skip = False  # the current body belongs to a command: dropped

    def feed(self, data: bytes) -> bytes:
        out = []
        i, n, head = 0, len(data), self._head
        while i < n:
            if self._left:
                take = min(self._left, n - i)
                if not self._skip:
                    out.append(data[i : i + take])
                i += take
                self._left -= take
                continue
            head.append(data[i])
            i += 1
            need = 9 if head[0] & 0x02 else 2
            if len(head) < need:
                continue
            size = _LONG.unpack_from(head, 1)[0] if need == 9 else head[1]
            self._skip = bool(head[0] & 0x04)
            if not self._skip:
                out.append(_v1_header(head[0] & 0x01, size))
            self._left = size
            head.clear()
        return b"".join(out)

"""Z85, the printable encoding of binary keys (ZeroMQ RFC 32), with pyzmq's names.

Theory of operation
-------------------
The input is read as big-endian 32-bit words (so its length must be a multiple of 4);
each word becomes five base-85 digits, most significant first, drawn from an alphabet of
85 printable characters that avoids quotes, backslash and space (RFC 32 "Formal
Specification"). Decoding reverses it: groups of five characters, each mapped back to its
digit, folded into a word that must fit 32 bits. Anything else is a ``ValueError``.
"""

from __future__ import annotations

import struct
from typing import Union

__all__ = ["Z85CHARS", "decode", "encode"]

Z85CHARS = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

_INVALID = 0xFF
_DIGIT = bytearray([_INVALID]) * 256  # character -> digit, 0xFF where not in the alphabet
for _value, _char in enumerate(Z85CHARS):
    _DIGIT[_char] = _value
_DIGIT = bytes(_DIGIT)

_Raw = Union[bytes, bytearray, memoryview]


def encode(data: _Raw) -> bytes:
    """``data`` (a multiple of 4 bytes long) as Z85 text, 5 characters per 4 bytes."""
    data = bytes(data)
    if len(data) % 4:
        raise ValueError(f"Z85 encodes a multiple of 4 bytes, not {len(data)}")
    out = bytearray(len(data) // 4 * 5)
    pos = 0
    for word in struct.unpack(f">{len(data) // 4}I", data):
        for i in range(4, -1, -1):
            word, digit = divmod(word, 85)
            out[pos + i] = Z85CHARS[digit]
        pos += 5
    return bytes(out)


def decode(text: Union[str, _Raw]) -> bytes:
    """Z85 ``text`` (str or bytes, a multiple of 5 characters) back to raw bytes."""
    if isinstance(text, str):
        try:
            text = text.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("Z85 text must be ASCII") from None
    text = bytes(text)
    if len(text) % 5:
        raise ValueError(f"Z85 decodes a multiple of 5 characters, not {len(text)}")
    words = [_word(text, pos) for pos in range(0, len(text), 5)]
    return struct.pack(f">{len(words)}I", *words)


def _word(text: bytes, pos: int) -> int:
    value = 0
    for char in text[pos : pos + 5]:
        digit = _DIGIT[char]
        if digit == _INVALID:
            raise ValueError(f"{chr(char)!r} in the group at offset {pos} is not a Z85 character")
        value = value * 85 + digit
    if value > 0xFFFFFFFF:
        raise ValueError(f"Z85 group {text[pos : pos + 5]!r} exceeds 32 bits")
    return value

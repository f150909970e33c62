"""JSON to and from UTF-8 bytes (pyzmq's ``zmq.utils.jsonapi``), over the stdlib ``json``."""

from __future__ import annotations

import json
from typing import Any

jsonmod = json

__all__ = ["dumps", "loads"]


def dumps(o: object, **kwargs: Any) -> bytes:
    """``json.dumps(o, **kwargs)`` encoded as UTF-8."""
    return json.dumps(o, **kwargs).encode("utf-8")


def loads(s: bytes | str, **kwargs: Any) -> Any:
    """``json.loads`` of UTF-8 bytes (or str)."""
    if isinstance(s, (bytes, bytearray, memoryview)):
        s = bytes(s).decode("utf-8")
    return json.loads(s, **kwargs)

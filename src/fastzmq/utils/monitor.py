"""Reading socket monitor events (pyzmq's ``zmq.utils.monitor``).

Each event is two frames: 6 bytes (little-endian uint16 event, uint32 value), then
the endpoint. ``recv_monitor_message`` works on a plain socket (returns the dict) and
on an asyncio socket (returns an awaitable of it).
"""

from __future__ import annotations

import struct
from typing import Any, TypedDict

from fastzmq import constants as _c

_HEAD = struct.Struct("<Hi")


class MonitorMessage(TypedDict):
    event: int
    value: int
    endpoint: bytes


def parse_monitor_message(msg: list) -> MonitorMessage:
    """Decode one monitor event ``[head, endpoint]`` into event, value and endpoint."""
    if len(msg) != 2 or len(msg[0]) != 6:
        raise RuntimeError(f"Invalid event message format: {msg}")
    event_id, value = _HEAD.unpack(bytes(msg[0]))
    endpoint = msg[1] if isinstance(msg[1], bytes) else bytes(msg[1])
    try:
        event: int = _c.Event(event_id)
    except ValueError:
        event = event_id
    return {"event": event, "value": value, "endpoint": endpoint}


async def _parse_async(awaitable: Any) -> MonitorMessage:
    return parse_monitor_message(await awaitable)


def recv_monitor_message(socket: Any, flags: int = 0) -> Any:
    """Receive and decode one event from a monitor PAIR (``get_monitor_socket()``).

    On an asyncio socket this returns an awaitable of the event."""
    msg = socket.recv_multipart(flags)
    if hasattr(msg, "__await__"):
        return _parse_async(msg)
    return parse_monitor_message(msg)


__all__ = ["parse_monitor_message", "recv_monitor_message"]

"""Socket monitor events: the one entry point every layer reports through.

``emit(sock, event, value, endpoint)`` is called wherever a connection's life
changes (bind, connect, accept, handshake, close). It must cost nothing when the
socket is not monitored: the first thing it does is test ``sock._monitor``.

The monitor itself (libzmq's two-frame wire format on an inproc PAIR, the
``Socket.monitor`` API) is built in this module; until then a monitored socket
cannot exist (``Socket.monitor`` raises ENOTSUP), so events go nowhere.
"""

from __future__ import annotations

from typing import Any


def emit(sock: Any, event: int, value: int, endpoint: str) -> None:
    """Report ``event`` (an ``EVENT_*`` flag) with ``value`` on ``endpoint``."""
    mon = sock._monitor
    if mon is None:
        return
    mon.emit(event, value, endpoint)

"""gevent-cooperative Poller and select.

The zero-timeout checks (EVENTS of each socket, plain fds with a zero-timeout OS
poll) are those of ``fastzmq.poll.Poller``; only the sleep differs: it is
``gevent.select.poll`` over the same fds, which parks the calling greenlet.
"""

from __future__ import annotations

from typing import Any

import gevent.select

from fastzmq import poll as _poll

__all__ = ["Poller", "select"]


class Poller(_poll.Poller):
    """Poller whose blocking ``poll`` yields to the gevent hub."""

    def _block(self, os_poll: Any, wait_ms: int) -> list:
        green = gevent.select.poll()
        for fd, mask in self._masks.items():
            green.register(fd, mask)
        return green.poll(None if wait_ms < 0 else wait_ms)


def select(rlist: list, wlist: list, xlist: list, timeout: float | None = None) -> tuple:
    """Cooperative ``select`` (timeout in seconds)."""
    return _poll._select_with(Poller(), rlist, wlist, xlist, timeout)

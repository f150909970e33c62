"""pyzmq's ``zmq.utils.garbage``: where pyzmq parks zero-copy buffers libzmq still uses.

pyzmq needs a thread for this because libzmq frees a message from its own threads,
which cannot touch Python objects. fastzmq does not: a zero-copy body is kept alive
by the sending socket (the pipe's ``ZcQueue`` record, released in the socket's own
thread once the I/O thread has consumed it; ``Frame``'s tracker follows that), so
nothing of fastzmq's is ever stored here and ``gc.refs`` stays empty.

The object remains for code written against pyzmq: ``store(obj, event)`` keeps
``obj`` alive until ``release(key)``, which also sets ``event``.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

__all__ = ["GarbageCollector", "gc", "gcref"]


class gcref(NamedTuple):
    obj: object
    event: threading.Event | None


class GarbageCollector:
    """Keeps objects alive under an integer key until released."""

    def __init__(self, context: Any = None) -> None:
        self.refs: dict[int, gcref] = {}
        self._lock = threading.Lock()
        self.context = context

    def store(self, obj: object, event: threading.Event | None = None) -> int:
        """Keep ``obj`` alive; returns the key that releases it."""
        ref = gcref(obj, event)
        key = id(ref)
        with self._lock:
            self.refs[key] = ref
        return key

    def release(self, key: int) -> None:
        """Drop the object stored under ``key`` and set its event."""
        with self._lock:
            ref = self.refs.pop(key, None)
        if ref is not None and ref.event is not None:
            ref.event.set()

    def stop(self) -> None:
        with self._lock:
            refs = list(self.refs)
        for key in refs:
            self.release(key)


gc = GarbageCollector()

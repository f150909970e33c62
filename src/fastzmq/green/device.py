"""Cooperative devices: ``proxy``/``device`` whose waits yield to the gevent hub."""

from __future__ import annotations

from typing import Any

from fastzmq import _proxy
from fastzmq.green.poll import Poller

__all__ = ["device", "proxy"]


def proxy(frontend: Any, backend: Any, capture: Any = None) -> None:
    """``fastzmq.proxy``, polling with the green Poller (other greenlets keep running)."""
    _proxy._run(frontend, backend, _proxy._capture_hook(capture), poller_class=Poller)


def device(device_type: int, frontend: Any, backend: Any) -> None:
    """pyzmq's legacy ``device(...)``: a cooperative proxy."""
    proxy(frontend, backend)

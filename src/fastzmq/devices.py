"""Devices: ``proxy`` joins a frontend socket to a backend socket.

As libzmq's ``zmq_proxy``: every message that arrives on one side is forwarded whole
(all its frames) to the other, and copied to ``capture`` if given. With an XPUB
frontend and an XSUB backend it forwards data downstream and subscriptions upstream;
with ROUTER/DEALER it is a shared queue. ``proxy`` runs until a socket is closed or
its context terminated (then ContextTerminated propagates, as in pyzmq).
"""

from __future__ import annotations

from typing import Any

from fastzmq import constants as _c
from fastzmq.error import Again
from fastzmq.poll import Poller

_BATCH = 1000  # messages moved per socket per wake-up, so neither side starves the other


def _forward(src: Any, dst: Any, capture: Any) -> None:
    for _ in range(_BATCH):
        try:
            msg = src.recv_multipart(_c.DONTWAIT)
        except Again:
            return
        if capture is not None:
            capture.send_multipart(msg)
        dst.send_multipart(msg)


def proxy(frontend: Any, backend: Any, capture: Any = None) -> None:
    """Forward messages between frontend and backend until one of them fails."""
    poller = Poller()
    poller.register(frontend, _c.POLLIN)
    if backend is not frontend:
        poller.register(backend, _c.POLLIN)
    while True:
        for sock, _ in poller.poll():
            if sock is frontend:
                _forward(frontend, backend, capture)
            else:
                _forward(backend, frontend, capture)


def device(device_type: int, frontend: Any, backend: Any) -> None:
    """pyzmq's legacy ``device(QUEUE|FORWARDER|STREAMER, frontend, backend)``."""
    proxy(frontend, backend)

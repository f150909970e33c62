"""The proxy loop: ``proxy``, ``proxy_steerable``, ``monitored_queue`` and ``device``.

As libzmq's ``zmq_proxy``: every message that arrives on one side is forwarded whole
(all its frames) to the other, and copied to ``capture`` if given. With an XPUB
frontend and an XSUB backend it forwards data downstream and subscriptions upstream;
with ROUTER/DEALER it is a shared queue. A single socket may be both sides (an
echo device). The loop runs until a socket is closed or its context terminated
(then ContextTerminated propagates, as in pyzmq), or, for ``proxy_steerable``, a
``TERMINATE`` arrives on the control socket.

One loop serves all four entry points: what differs is the hook that sees each
message (capture, monitor prefix) and the poller (``fastzmq.green`` passes its
cooperative Poller so a green device yields to the hub).
"""

from __future__ import annotations

import struct
from typing import Any, Callable

from fastzmq import constants as _c
from fastzmq.error import Again
from fastzmq.poll import Poller

_BATCH = 1000  # messages moved per socket per wake-up, so neither side starves the other
_SNDMORE = int(_c.SNDMORE)


class _Stats:
    """libzmq's proxy statistics: per side, messages and bytes in and out."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        # frontend in msgs/bytes, out msgs/bytes; backend the same
        self.counts = [0] * 8

    def count(self, side: int, direction: int, msg: list) -> None:
        base = side * 4 + direction * 2
        self.counts[base] += 1
        self.counts[base + 1] += sum(len(part) for part in msg)

    def frames(self) -> list[bytes]:
        return [struct.pack("=Q", n) for n in self.counts]


def _send_copy(sock: Any, msg: list, prefix: bytes | None = None) -> None:
    """A copy of ``msg`` to a capture/monitor socket (optionally led by ``prefix``)."""
    parts = msg if prefix is None else [prefix, *msg]
    sock.send_multipart(parts)


def _forward(
    src: Any,
    dst: Any,
    hook: Callable[[list, bool], None] | None,
    stats: _Stats,
    side: int,
    swap_ids: bool,
) -> None:
    for _ in range(_BATCH):
        try:
            msg = src.recv_multipart(_c.DONTWAIT)
        except Again:
            return
        stats.count(side, 0, msg)
        if swap_ids and len(msg) >= 2:  # ROUTER to ROUTER: [from, to, ...] -> [to, from, ...]
            msg[0], msg[1] = msg[1], msg[0]
        if hook is not None:
            hook(msg, side == 0)
        dst.send_multipart(msg)
        stats.count(1 - side, 1, msg)


def _control(control: Any, state: dict, stats: _Stats) -> bool:
    """Handle one steering command; True means TERMINATE."""
    try:
        cmd = control.recv(_c.DONTWAIT)
    except Again:
        return False
    if cmd == b"PAUSE":
        state["paused"] = True
    elif cmd == b"RESUME":
        state["paused"] = False
    elif cmd == b"TERMINATE":
        return True
    elif cmd == b"STATISTICS":
        control.send_multipart(stats.frames())
    return False


def _run(
    frontend: Any,
    backend: Any,
    hook: Callable[[list, bool], None] | None = None,
    control: Any = None,
    poller_class: type = Poller,
    swap_ids: bool = False,
) -> None:
    poller = poller_class()
    poller.register(frontend, _c.POLLIN)
    if backend is not frontend:
        poller.register(backend, _c.POLLIN)
    if control is not None:
        poller.register(control, _c.POLLIN)
    stats = _Stats()
    state = {"paused": False}
    while True:
        ready = dict(poller.poll())
        if control is not None and control in ready:
            if _control(control, state, stats):
                return
        if state["paused"]:
            continue
        if frontend in ready:
            _forward(frontend, backend, hook, stats, 0, swap_ids)
        if backend is not frontend and backend in ready:
            _forward(backend, frontend, hook, stats, 1, swap_ids)


def _capture_hook(capture: Any) -> Callable[[list, bool], None] | None:
    if capture is None:
        return None
    return lambda msg, inbound: _send_copy(capture, msg)


def proxy(frontend: Any, backend: Any, capture: Any = None) -> None:
    """Forward messages between frontend and backend until one of them fails."""
    _run(frontend, backend, _capture_hook(capture))


def proxy_steerable(frontend: Any, backend: Any, capture: Any = None, control: Any = None) -> None:
    """``proxy`` steered by commands on ``control``: PAUSE, RESUME, TERMINATE, STATISTICS.

    STATISTICS answers 8 frames of native uint64: frontend messages in, bytes in,
    messages out, bytes out, then the same for the backend (libzmq's order).
    """
    _run(frontend, backend, _capture_hook(capture), control)


def monitored_queue(
    in_socket: Any,
    out_socket: Any,
    mon_socket: Any,
    in_prefix: bytes = b"in",
    out_prefix: bytes = b"out",
) -> None:
    """``proxy`` that copies every message to ``mon_socket``, led by a prefix frame
    telling its direction (``in_prefix`` for in -> out, ``out_prefix`` for out -> in).

    Between two ROUTER sockets (pyzmq's rule) the first two frames are swapped:
    ``[sender, recipient, ...]`` arrives and ``[recipient, sender, ...]`` goes on, so
    the recipient's ROUTER routes it and the recipient learns who sent it.
    """
    for name, prefix in (("in_prefix", in_prefix), ("out_prefix", out_prefix)):
        if not isinstance(prefix, bytes):
            raise TypeError(f"{name} must be bytes, not {type(prefix).__name__}")

    def hook(msg: list, inbound: bool) -> None:
        _send_copy(mon_socket, msg, in_prefix if inbound else out_prefix)

    routers = in_socket.socket_type == _c.ROUTER and out_socket.socket_type == _c.ROUTER
    _run(in_socket, out_socket, hook, swap_ids=routers)


def device(device_type: int, frontend: Any, backend: Any) -> None:
    """pyzmq's legacy ``device(QUEUE|FORWARDER|STREAMER, frontend, backend)``: a proxy."""
    proxy(frontend, backend)

"""The draft socket types' workloads: a CLIENT/SERVER round trip and a RADIO/DISH rate.

Both libraries run the same code, but pyzmq's wheels are built without libzmq's draft
API (``zmq.has("draft")`` is False there: ``ctx.socket(zmq.CLIENT)`` fails), so its
cells read "not yet" and these rows have fastzmq's numbers and no ratio. (libzmq with
the draft API is in zeromq.js 6.8, which ``tests/test_interop_zeromqjs.py`` talks to;
its numbers through node's event loop would measure node more than libzmq.)
"""

from __future__ import annotations

from types import ModuleType
from typing import Callable, Dict

from fastzmq.bench.notyet import SetupTimeout
from fastzmq.bench.roles import (
    PROBE,
    Sockets,
    bind,
    latency_result,
    latency_warm,
    lost,
    message_cycle,
    receive_cycle,
    send_cycle,
)

GROUP = "bench"


def _need_drafts(z: ModuleType) -> None:
    if not z.has("draft"):
        raise NotImplementedError("built without the draft API (libzmq's draft sockets)")


def server_echo(z: ModuleType, spec: dict, chan) -> dict:
    """SERVER: send each message back to the routing id it came from."""
    _need_drafts(z)
    with Sockets(z, spec) as socks:
        sock = socks.make("SERVER")
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        total = spec["count"] + latency_warm(spec["count"])
        sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
        recv, send = sock.recv, sock.send
        i = 0
        try:
            for i in range(total):
                frame = recv(copy=False)
                send(frame)  # the received Frame carries its routing id back
                if i == 0:
                    sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
        except z.Again:
            if i == 0:
                raise SetupTimeout(f"no request within {spec['setup_ms']} ms") from None
            return lost(total, i)
        return {"status": "ok", "echoed": total}


def client_latency(z: ModuleType, spec: dict, chan) -> dict:
    _need_drafts(z)
    with Sockets(z, spec) as socks:
        sock = socks.make("CLIENT")
        sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
        sock.connect(spec["endpoints"]["data"])
        return latency_result(z, sock, spec["count"], spec)


def radio(z: ModuleType, spec: dict, chan) -> dict:
    """RADIO: probe the group until the DISH has one, then send the cycle; HWM 0 (a
    RADIO drops at its HWM: unlimited, nothing is lost over tcp)."""
    import time

    _need_drafts(z)
    with Sockets(z, spec) as socks:
        sock = socks.make("RADIO", hwm=0)
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        deadline = time.monotonic() + spec["setup_ms"] / 1000.0
        while not chan.poll("go"):
            if time.monotonic() > deadline:
                raise SetupTimeout("the DISH never confirmed a probe")
            sock.send(PROBE, group=GROUP)
            time.sleep(0.001)
        send = sock.send

        def send_group(msg: bytes) -> None:
            send(msg, group=GROUP)

        send_cycle(send_group, message_cycle(spec["size"]), 0, spec["count"])
        return {"status": "ok", "sent": spec["count"]}


def dish(z: ModuleType, spec: dict, chan) -> dict:
    _need_drafts(z)
    with Sockets(z, spec) as socks:
        sock = socks.make("DISH", hwm=0, linger=0)
        sock.join(GROUP)
        sock.connect(spec["endpoints"]["data"])
        sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
        try:
            while sock.recv() != PROBE:
                pass
        except z.Again:
            raise SetupTimeout("no probe from the RADIO") from None
        chan.emit("synced")
        return receive_cycle(z, sock, message_cycle(spec["size"]), spec["count"], spec)


ROLES: Dict[str, Callable[[ModuleType, dict, object], dict]] = {
    "server_echo": server_echo,
    "client_latency": client_latency,
    "radio": radio,
    "dish": dish,
}

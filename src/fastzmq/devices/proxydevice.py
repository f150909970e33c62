"""Proxy devices: a Device with a third, monitor socket (``zmq_proxy``'s capture)."""

from __future__ import annotations

from typing import Any

from fastzmq import constants as _c
from fastzmq._proxy import proxy
from fastzmq.devices.basedevice import Device, ProcessDevice, ThreadDevice, _bind_retrying

__all__ = ["Proxy", "ThreadProxy", "ProcessProxy"]


class ProxyBase:
    """Adds the monitor socket (``mon``): every message is copied to it."""

    def __init__(self, in_type: int, out_type: int, mon_type: int = _c.PUB) -> None:
        Device.__init__(self, _c.QUEUE, in_type, out_type)  # type: ignore[arg-type]
        self.mon_type = mon_type
        self._mon_binds: list[str] = []
        self._mon_connects: list[str] = []
        self._mon_sockopts: list[tuple[int, Any]] = []

    def bind_mon(self, addr: str) -> None:
        self._mon_binds.append(addr)

    def bind_mon_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        port = self._reserve_random_port(addr, *args, **kwargs)  # type: ignore[attr-defined]
        self.bind_mon(f"{addr}:{port}")
        return port

    def connect_mon(self, addr: str) -> None:
        self._mon_connects.append(addr)

    def setsockopt_mon(self, opt: int, value: Any) -> None:
        self._mon_sockopts.append((opt, value))

    def _setup_sockets(self) -> tuple[Any, Any, Any]:
        ins, outs = Device._setup_sockets(self)  # type: ignore[arg-type]
        mons = self._context.socket(self.mon_type)  # type: ignore[attr-defined]
        self._sockets.append(mons)  # type: ignore[attr-defined]
        for opt, value in self._mon_sockopts:
            mons.setsockopt(opt, value)
        for addr in self._mon_binds:
            _bind_retrying(mons, addr)
        for addr in self._mon_connects:
            mons.connect(addr)
        return ins, outs, mons

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        proxy(ins, outs, mons)


class Proxy(ProxyBase, Device):
    """A proxy device (with monitor socket) run in the calling thread."""


class ThreadProxy(ProxyBase, ThreadDevice):
    """A proxy device run in a background thread."""


class ProcessProxy(ProxyBase, ProcessDevice):
    """A proxy device run in a background process."""

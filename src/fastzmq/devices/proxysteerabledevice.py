"""Steerable proxy devices: a Proxy with a fourth, control socket (``zmq_proxy_steerable``)."""

from __future__ import annotations

from typing import Any

from fastzmq import constants as _c
from fastzmq._proxy import proxy_steerable
from fastzmq.devices.basedevice import _bind_retrying
from fastzmq.devices.proxydevice import ProcessProxy, Proxy, ProxyBase, ThreadProxy

__all__ = ["ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable"]


class ProxySteerableBase(ProxyBase):
    """Adds the control socket (``ctrl``): PAUSE, RESUME, TERMINATE, STATISTICS."""

    def __init__(
        self, in_type: int, out_type: int, mon_type: int = _c.PUB, ctrl_type: int | None = None
    ) -> None:
        super().__init__(in_type, out_type, mon_type)
        self.ctrl_type = ctrl_type
        self._ctrl_binds: list[str] = []
        self._ctrl_connects: list[str] = []
        self._ctrl_sockopts: list[tuple[int, Any]] = []

    def bind_ctrl(self, addr: str) -> None:
        self._ctrl_binds.append(addr)

    def bind_ctrl_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        port = self._reserve_random_port(addr, *args, **kwargs)  # type: ignore[attr-defined]
        self.bind_ctrl(f"{addr}:{port}")
        return port

    def connect_ctrl(self, addr: str) -> None:
        self._ctrl_connects.append(addr)

    def setsockopt_ctrl(self, opt: int, value: Any) -> None:
        self._ctrl_sockopts.append((opt, value))

    def _setup_sockets(self) -> tuple[Any, ...]:
        ins, outs, mons = super()._setup_sockets()
        ctrl = None
        if self.ctrl_type is not None:
            ctrl = self._context.socket(self.ctrl_type)  # type: ignore[attr-defined]
            self._sockets.append(ctrl)  # type: ignore[attr-defined]
            for opt, value in self._ctrl_sockopts:
                ctrl.setsockopt(opt, value)
            for addr in self._ctrl_binds:
                _bind_retrying(ctrl, addr)
            for addr in self._ctrl_connects:
                ctrl.connect(addr)
        return ins, outs, mons, ctrl

    def run_device(self) -> None:
        ins, outs, mons, ctrl = self._setup_sockets()
        proxy_steerable(ins, outs, mons, ctrl)


class ProxySteerable(ProxySteerableBase, Proxy):
    """A steerable proxy device run in the calling thread."""


class ThreadProxySteerable(ProxySteerableBase, ThreadProxy):
    """A steerable proxy device run in a background thread."""


class ProcessProxySteerable(ProxySteerableBase, ProcessProxy):
    """A steerable proxy device run in a background process."""

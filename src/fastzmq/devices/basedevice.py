"""Device: a proxy between two sockets it creates itself, run here, in a thread or a process.

pyzmq's ``zmq.devices.basedevice``. The device records what to do with each socket
(bind, connect, options) and creates the sockets when it runs, in the thread or
process that runs it. ``bind_*_to_random_port`` picks a free port at once (the
port is reserved by binding it briefly) so the caller can connect before start.
"""

from __future__ import annotations

import time
from multiprocessing import Process
from threading import Thread
from typing import Any, Callable

from fastzmq import constants as _c
from fastzmq._proxy import device as _device
from fastzmq.context import Context
from fastzmq.error import ZMQBindError, ZMQError

__all__ = ["Device", "ThreadDevice", "ProcessDevice"]


class Device:
    """A proxy between an ``in`` socket and an ``out`` socket (``out_type=-1``: one
    socket serves both sides). ``run()`` blocks; ``start()``/``join()`` for the
    background variants."""

    context_factory: Callable[[], Context] = Context.instance
    daemon: bool

    def __init__(
        self, device_type: int = _c.QUEUE, in_type: int | None = None, out_type: int | None = None
    ) -> None:
        if in_type is None:
            raise TypeError("in_type must be specified")
        if out_type is None:
            raise TypeError("out_type must be specified")
        self.device_type = device_type
        self.in_type = in_type
        self.out_type = out_type
        self._in_binds: list[str] = []
        self._in_connects: list[str] = []
        self._in_sockopts: list[tuple[int, Any]] = []
        self._out_binds: list[str] = []
        self._out_connects: list[str] = []
        self._out_sockopts: list[tuple[int, Any]] = []
        self._random_addrs: list[str] = []
        self.daemon = True
        self.done = False
        self._sockets: list[Any] = []

    # -- what to do with the in socket ----------------------------------------
    def bind_in(self, addr: str) -> None:
        self._in_binds.append(addr)

    def bind_in_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_in(f"{addr}:{port}")
        return port

    def connect_in(self, addr: str) -> None:
        self._in_connects.append(addr)

    def setsockopt_in(self, opt: int, value: Any) -> None:
        self._in_sockopts.append((opt, value))

    # -- what to do with the out socket ---------------------------------------
    def bind_out(self, addr: str) -> None:
        self._out_binds.append(addr)

    def bind_out_to_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_out(f"{addr}:{port}")
        return port

    def connect_out(self, addr: str) -> None:
        self._out_connects.append(addr)

    def setsockopt_out(self, opt: int, value: Any) -> None:
        self._out_sockopts.append((opt, value))

    def _reserve_random_port(self, addr: str, *args: Any, **kwargs: Any) -> int:
        """A port free now and not handed out before by this device."""
        ctx = Context()
        try:
            binder = ctx.socket(_c.PUSH)
            try:
                for _ in range(kwargs.get("max_tries", 100)):
                    try:
                        port = binder.bind_to_random_port(addr, *args, **kwargs)
                    except ZMQBindError:
                        break
                    url = f"{addr}:{port}"
                    binder.unbind(url)
                    if url not in self._random_addrs:
                        self._random_addrs.append(url)
                        return port
                raise ZMQBindError("Could not bind socket to random port.")
            finally:
                binder.close(linger=0)
        finally:
            ctx.term()

    # -- running --------------------------------------------------------------
    def _setup_sockets(self) -> tuple[Any, Any]:
        ctx = self.context_factory()
        self._context = ctx
        ins = ctx.socket(self.in_type)
        self._sockets.append(ins)
        if self.out_type < 0:
            outs = ins
        else:
            outs = ctx.socket(self.out_type)
            self._sockets.append(outs)
        for opt, value in self._in_sockopts:
            ins.setsockopt(opt, value)
        for addr in self._in_binds:
            _bind_retrying(ins, addr)
        for addr in self._in_connects:
            ins.connect(addr)
        # a single-socket device (out_type < 0) applies the "out" settings to it too
        for opt, value in self._out_sockopts:
            outs.setsockopt(opt, value)
        for addr in self._out_binds:
            _bind_retrying(outs, addr)
        for addr in self._out_connects:
            outs.connect(addr)
        return ins, outs

    def run_device(self) -> None:
        ins, outs = self._setup_sockets()
        _device(self.device_type, ins, outs)

    def _close_sockets(self) -> None:
        for s in self._sockets:
            if not s.closed:
                s.close()

    def run(self) -> None:
        """Run the device in the calling thread (until its context ends)."""
        try:
            self.run_device()
        except ZMQError as e:
            if e.errno not in (_c.ETERM, _c.ENOTSOCK):
                raise
        finally:
            self.done = True
            self._close_sockets()

    def start(self) -> None:
        """Run the device (here: blocking; ThreadDevice/ProcessDevice: in the background)."""
        self.run()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the device to finish (a foreground device already has)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.01)


def _bind_retrying(sock: Any, addr: str) -> None:
    """Bind; a just-reserved tcp port may still be in its closing state for a moment."""
    for _ in range(50):
        try:
            sock.bind(addr)
            return
        except ZMQError as e:
            if e.errno != _c.EADDRINUSE:
                raise
            time.sleep(0.01)
    sock.bind(addr)


class BackgroundDevice(Device):
    """A device that runs in a launcher (thread or process) of its own."""

    _launcher_class: Callable[..., Any] = Thread

    def _make_launcher(self) -> Any:
        return self._launcher_class(target=self.run)

    def start(self) -> None:
        self.launcher = self._make_launcher()
        self.launcher.daemon = self.daemon
        self.launcher.start()

    def join(self, timeout: float | None = None) -> None:
        self.launcher.join(timeout=timeout)


class ThreadDevice(BackgroundDevice):
    """A Device that runs in a daemon thread (sockets of ``Context.instance()``)."""

    _launcher_class = Thread


class ProcessDevice(BackgroundDevice):
    """A Device that runs in a process of its own (with a fresh Context there)."""

    _launcher_class = Process
    context_factory = Context

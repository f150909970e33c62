"""The ZAP handler on an asyncio event loop (pyzmq's ``zmq.auth.asyncio``).

``start()`` binds the ZAP socket and starts a task on the loop that reads requests while
``EVENTS`` says one is there, and otherwise waits for the socket's FD, watched with
``loop.add_reader`` only for the time of that wait. ``stop()`` removes the watch at once,
before the socket (and so its FD number) is closed: a cancelled task's clean-up runs
later, by when the number may belong to another socket.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import fastzmq
from fastzmq.auth.base import Authenticator

__all__ = ["AsyncioAuthenticator"]


class AsyncioAuthenticator(Authenticator):
    """ZAP authentication on an asyncio loop: the running loop at ``start()``, or the
    deprecated ``loop`` argument."""

    def __init__(
        self,
        context: fastzmq.Context | None = None,
        loop: Any = None,
        encoding: str = "utf-8",
        log: Any = None,
    ) -> None:
        super().__init__(context, encoding, log)
        if loop is not None:
            warnings.warn(
                f"{type(self).__name__}(loop) is deprecated: start() uses the running loop",
                DeprecationWarning,
                stacklevel=2,
            )
        self._loop_arg = loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Future | None = None
        self._fd: int | None = None

    def start(self) -> None:
        """Bind the ZAP socket and start answering it on the loop."""
        loop = self._loop_arg
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = asyncio.get_event_loop()
        super().start()
        self._loop = loop
        self._task = asyncio.ensure_future(self._serve(), loop=loop)

    def stop(self) -> None:
        """Stop answering and close the ZAP socket."""
        self._unwatch()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        super().stop()

    async def _serve(self) -> None:
        sock = self.zap_socket
        try:
            while sock is self.zap_socket:
                if sock.getsockopt(fastzmq.EVENTS) & fastzmq.POLLIN:  # arms the FD if not
                    msg = sock.recv_multipart(fastzmq.NOBLOCK)
                    await self.handle_zap_message(msg)
                else:
                    await self._readable(sock)
        except fastzmq.ContextTerminated:
            self._unwatch()
            sock.close(0)

    async def _readable(self, sock: Any) -> None:
        loop = self._loop
        woke = loop.create_future()
        self._fd = sock.getsockopt(fastzmq.FD)
        loop.add_reader(self._fd, _resolve, woke)
        try:
            await woke
        finally:
            self._unwatch()

    def _unwatch(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(fd)


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)

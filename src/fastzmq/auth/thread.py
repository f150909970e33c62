"""The ZAP handler in a background thread (pyzmq's ``zmq.auth.thread``).

``ThreadAuthenticator.start()`` binds the ZAP socket, then hands it to an
:class:`AuthenticationThread` that polls it together with one end of an inproc PAIR
"pipe"; ``stop()`` sends ``TERMINATE`` down the pipe and joins the thread, which closes
its end on the way out. Requests are answered one at a time (REP), each run to completion
on the thread's own asyncio loop, so a credentials provider may be a coroutine.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, List

import fastzmq
from fastzmq.auth.base import Authenticator

__all__ = ["AuthenticationThread", "ThreadAuthenticator"]


class AuthenticationThread(threading.Thread):
    """Runs an :class:`Authenticator`'s receive loop (started by ThreadAuthenticator)."""

    def __init__(self, authenticator: Authenticator, pipe: Any) -> None:
        super().__init__(daemon=True, name="fastzmq-zap")
        self.authenticator = authenticator
        self.log = authenticator.log
        self.pipe = pipe
        self.started = threading.Event()

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            self._serve(loop)
        except fastzmq.ContextTerminated:
            # the context is going away without stop(): close the ZAP socket too, or
            # term() would wait for it forever
            zap = self.authenticator.zap_socket
            if zap is not None:
                zap.close(0)
        finally:
            if self.pipe is not None:
                self.pipe.close(0)
                self.pipe = None
            loop.close()

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        zap = self.authenticator.zap_socket
        poller = fastzmq.Poller()
        poller.register(self.pipe, fastzmq.POLLIN)
        poller.register(zap, fastzmq.POLLIN)
        self.started.set()
        while True:
            events = dict(poller.poll())
            if self.pipe in events:
                if self._handle_pipe_message(self.pipe.recv_multipart()):
                    return
            if zap in events:
                msg = zap.recv_multipart()
                loop.run_until_complete(self.authenticator.handle_zap_message(msg))

    def _handle_pipe_message(self, msg: List[bytes]) -> bool:
        """True when told to stop."""
        command = msg[0]
        self.log.debug("auth received API command %r", command)
        if command == b"TERMINATE":
            return True
        self.log.error("Invalid auth command from API: %r", command)
        self.pipe.send(b"ERROR")
        return False


class ThreadAuthenticator(Authenticator):
    """Run ZAP authentication in a background thread."""

    def __init__(
        self,
        context: fastzmq.Context | None = None,
        encoding: str = "utf-8",
        log: Any = None,
    ) -> None:
        super().__init__(context=context, encoding=encoding, log=log)
        self.pipe: Any = None
        self.pipe_endpoint = f"inproc://zeromq.zap.pipe.{id(self):x}"
        self.thread: AuthenticationThread | None = None

    def start(self) -> None:
        """Bind the ZAP socket and start the thread that answers it."""
        super().start()
        pipe = thread_pipe = None
        try:
            pipe = self.context.socket(fastzmq.PAIR, socket_class=fastzmq.Socket)
            pipe.linger = 1
            pipe.bind(self.pipe_endpoint)
            thread_pipe = self.context.socket(fastzmq.PAIR, socket_class=fastzmq.Socket)
            thread_pipe.linger = 1
            thread_pipe.connect(self.pipe_endpoint)
            thread = AuthenticationThread(self, thread_pipe)
            thread.start()
        except BaseException:
            for sock in (pipe, thread_pipe):
                if sock is not None:
                    sock.close(0)
            super().stop()
            raise
        self.pipe, self.thread = pipe, thread
        if not thread.started.wait(timeout=10):
            self.stop()
            raise RuntimeError("Authenticator thread failed to start")

    def stop(self) -> None:
        """Stop the thread (waiting for it) and close the ZAP socket."""
        if self.pipe is not None:
            try:
                if self.is_alive():
                    self.pipe.send(b"TERMINATE")
            except fastzmq.ZMQError:
                pass  # the context is terminated: the thread is leaving by itself
            if self.thread is not None:
                self.thread.join()
            self.thread = None
            self.pipe.close(0)
            self.pipe = None
        if self.zap_socket is not None and not self.zap_socket.closed:
            super().stop()
        self.zap_socket = None

    def is_alive(self) -> bool:
        """Is the ZAP thread running?"""
        return bool(self.thread and self.thread.is_alive())

    def __del__(self) -> None:
        try:
            self.stop()
        except Exception:
            pass

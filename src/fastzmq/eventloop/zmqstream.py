"""ZMQStream: a fastzmq socket driven by callbacks from tornado's IOLoop (pyzmq's API).

``stream.on_recv(callback)`` calls ``callback(msg_parts)`` for every message that
arrives; ``stream.send_multipart(msg)`` queues a message that is sent when the socket
can take it, then calls the ``on_send`` callback with ``(msg, status)``.

Theory of operation
-------------------
The socket's ``FD`` is edge-triggered (see ``fastzmq.poll``), so the stream registers
it with the IOLoop for READ and, at each wake-up, reads ``EVENTS``: that drains the
FD and arms it for what is not ready. It handles one message per direction, then, if
``EVENTS`` still shows work it wants, schedules itself again with ``add_callback``
instead of waiting for an edge that will not come: other handlers of the loop run
in between, as in pyzmq.
"""

from __future__ import annotations

import asyncio
import inspect
import pickle
import queue
import warnings
from typing import Any, Callable

from tornado.ioloop import IOLoop
from tornado.log import gen_log

from fastzmq import constants as _c
from fastzmq.error import Again, ContextTerminated, ZMQError
from fastzmq.utils import jsonapi

__all__ = ["ZMQStream"]

POLLIN = int(_c.POLLIN)
POLLOUT = int(_c.POLLOUT)

_log = gen_log  # pyzmq's name for it: zmqstream.gen_log


class ZMQStream:
    """Callbacks for a socket's messages, run by a tornado IOLoop."""

    def __init__(self, socket: Any, io_loop: IOLoop | None = None) -> None:
        from fastzmq import asyncio as _zaio
        from fastzmq.socket import Socket

        if isinstance(socket, _zaio.Socket):
            # its methods return Futures: use a plain shadow of it, as pyzmq does
            warnings.warn(
                "ZMQStream takes a plain fastzmq.Socket; using Socket(shadow=<the asyncio "
                "socket>) (or create it with socket_class=fastzmq.Socket)",
                RuntimeWarning,
                stacklevel=2,
            )
            socket = Socket(shadow=socket)
        self.socket = socket
        self.io_loop = io_loop or IOLoop.current()
        self.poller = None
        self._send_queue: queue.Queue = queue.Queue()
        self._recv_callback: Callable | None = None
        self._send_callback: Callable | None = None
        self._close_callback: Callable | None = None
        self._recv_copy = False
        self._flushed = False
        self._state = 0
        self._scheduled = False
        # the socket itself (tornado polls its fileno()): IOLoop.close(all_fds=True) then
        # closes the socket, not the fd under it
        self._fd = socket
        self._fd_number = socket.FD  # to unregister once the socket is closed elsewhere
        self.io_loop.add_handler(socket, self._handle_events, IOLoop.READ)
        self.bind = socket.bind
        self.bind_to_random_port = socket.bind_to_random_port
        self.connect = socket.connect
        self.setsockopt = socket.setsockopt
        self.getsockopt = socket.getsockopt
        self.setsockopt_string = socket.setsockopt_string
        self.getsockopt_string = socket.getsockopt_string
        self.setsockopt_unicode = getattr(socket, "setsockopt_unicode", socket.setsockopt_string)
        self.getsockopt_unicode = getattr(socket, "getsockopt_unicode", socket.getsockopt_string)

    # ---------------------------------------------------------------- callbacks
    def on_recv(self, callback: Callable | None, copy: bool = True) -> None:
        """Call ``callback(msg)`` (a list of bytes, or of Frames with copy=False) for each
        message; None stops receiving."""
        self._check_closed()
        assert callback is None or callable(callback), "on_recv needs a callable or None"
        self._recv_callback = callback
        self._recv_copy = copy
        if callback is None:
            self._drop_state(POLLIN)
        else:
            self._add_state(POLLIN)

    def on_recv_stream(self, callback: Callable | None, copy: bool = True) -> None:
        """As on_recv, with ``callback(stream, msg)``."""
        if callback is None:
            self.stop_on_recv()
        else:
            self.on_recv(lambda msg: callback(self, msg), copy=copy)

    def stop_on_recv(self) -> None:
        self.on_recv(None)

    def on_send(self, callback: Callable | None) -> None:
        """Call ``callback(msg, status)`` after each queued message is sent (status: the
        send's result, e.g. a MessageTracker, or the ZMQError it raised)."""
        self._check_closed()
        assert callback is None or callable(callback), "on_send needs a callable or None"
        self._send_callback = callback

    def on_send_stream(self, callback: Callable | None) -> None:
        """As on_send, with ``callback(stream, msg, status)``."""
        if callback is None:
            self.stop_on_send()
        else:
            self.on_send(lambda msg, status: callback(self, msg, status))

    def stop_on_send(self) -> None:
        self.on_send(None)

    def stop_on_err(self) -> None:
        """Deprecated in pyzmq (no error callbacks exist): does nothing."""

    def on_err(self, callback: Callable) -> None:
        """Deprecated in pyzmq: never called (errors are raised or passed to on_send)."""

    # ---------------------------------------------------------------- sending
    def send(
        self,
        msg: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        callback: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue a one-part message."""
        self.send_multipart([msg], flags=flags, copy=copy, track=track, callback=callback, **kwargs)

    def send_multipart(
        self,
        msg: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        callback: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue a message; it is sent when the socket is writable (then on_send runs)."""
        self._check_closed()
        kwargs.update(flags=flags, copy=copy, track=track)
        self._send_queue.put((list(msg), kwargs))
        if callback is not None:
            self.on_send(callback)
        self._add_state(POLLOUT)

    def send_string(
        self,
        u: str,
        flags: int = 0,
        encoding: str = "utf-8",
        callback: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(u, str):
            raise TypeError("unicode/str objects only")
        self.send(u.encode(encoding), flags=flags, callback=callback, **kwargs)

    send_unicode = send_string

    def send_json(
        self, obj: Any, flags: int = 0, callback: Callable | None = None, **kwargs: Any
    ) -> None:
        self.send(jsonapi.dumps(obj), flags=flags, callback=callback, **kwargs)

    def send_pyobj(
        self,
        obj: Any,
        flags: int = 0,
        protocol: int = pickle.DEFAULT_PROTOCOL,
        callback: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        self.send(pickle.dumps(obj, protocol), flags=flags, callback=callback, **kwargs)

    # ---------------------------------------------------------------- state
    def receiving(self) -> bool:
        return self._recv_callback is not None

    def sending(self) -> bool:
        return not self._send_queue.empty()

    def closed(self) -> bool:
        if self.socket is None:
            return True
        if self.socket.closed:
            self.close()  # the socket was closed elsewhere: drop our handler
            return True
        return False

    def set_close_callback(self, callback: Callable | None) -> None:
        self._close_callback = callback

    def close(self, linger: int | None = None) -> None:
        """Stop, remove the handler and close the socket (if it is not closed yet)."""
        if self.socket is None:
            return
        if self.socket.closed:  # closed elsewhere (e.g. the socket of this shadow)
            warnings.warn(
                f"Unregistering FD {self._fd_number} after closing socket: close the "
                "stream (stream.close()) rather than its socket",
                stacklevel=2,
            )
            self.io_loop.remove_handler(self._fd_number)
        else:
            try:
                self.io_loop.remove_handler(self._fd)
            except (KeyError, ValueError):
                pass
        if not self.socket.closed:
            self.socket.close(linger)
        self.socket = None
        if self._close_callback is not None:
            self._run_callback(self._close_callback)

    def flush(self, flag: int = POLLIN | POLLOUT, limit: int | None = None) -> int:
        """Handle what is ready now, at most ``limit`` messages: the number handled."""
        count = 0
        while self.socket is not None and (limit is None or count < limit):
            ev = self.socket.EVENTS
            if flag & POLLIN and ev & POLLIN and self.receiving():
                self._handle_recv()
            elif flag & POLLOUT and ev & POLLOUT and self.sending():
                self._handle_send()
            else:
                break
            count += 1
        self._flushed = bool(count)
        self._reschedule()
        return count

    def _check_closed(self) -> None:
        if self.socket is None:
            raise OSError("Stream is closed")

    def _add_state(self, state: int) -> None:
        self._state |= state
        self._reschedule()

    def _drop_state(self, state: int) -> None:
        self._state &= ~state

    def _reschedule(self) -> None:
        """Run the handler again soon if the socket already has work we want (edge FD)."""
        if self._scheduled or self.socket is None:
            return
        self._scheduled = True
        self.io_loop.add_callback(self._handle_events, self._fd, 0)

    # ---------------------------------------------------------------- events
    def _handle_events(self, fd: Any, events: int) -> None:
        self._scheduled = False
        self._flushed = False
        if self.socket is None:
            return
        try:
            ev = self.socket.EVENTS
        except ContextTerminated:
            self.close()
            return
        except ZMQError as e:
            if not self.closed():
                raise
            gen_log.warning("Got events for stream %s attached to closed socket: %s", self, e)
            return
        if ev & POLLIN and self.receiving():
            self._handle_recv()
            if self.socket is None:
                return
        if ev & POLLOUT and self.sending():
            self._handle_send()
            if self.socket is None:
                return
        try:
            ev = self.socket.EVENTS  # re-arms the FD for what is not ready
        except ZMQError:
            return
        if (ev & POLLIN and self.receiving()) or (ev & POLLOUT and self.sending()):
            self._reschedule()

    def _handle_recv(self) -> None:
        try:
            msg = self.socket.recv_multipart(_c.DONTWAIT, copy=self._recv_copy)
        except Again:
            return
        callback = self._recv_callback
        if callback is not None:
            self._run_callback(callback, msg)

    def _handle_send(self) -> None:
        msg, kwargs = self._send_queue.get()
        try:
            status = self.socket.send_multipart(msg, **kwargs)
        except ZMQError as e:
            _log.error("SEND Error: %s", e)
            status = e
        if self._send_callback is not None:
            self._run_callback(self._send_callback, msg, status)

    def _run_callback(self, callback: Callable, *args: Any) -> None:
        try:
            result = callback(*args)
        except Exception:
            _log.error("Uncaught exception in ZMQStream callback", exc_info=True)
            raise
        if inspect.isawaitable(result):  # a coroutine callback: run it, report its errors
            self.io_loop.add_future(asyncio.ensure_future(result), _reraise)


def _reraise(future: Any) -> None:
    """A coroutine callback's failure is logged as a plain callback's is."""
    try:
        future.result()
    except Exception:
        _log.error("Uncaught exception in ZMQStream callback", exc_info=True)

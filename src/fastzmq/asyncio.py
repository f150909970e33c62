"""asyncio flavour of fastzmq: ``Context``, ``Socket`` and ``Poller`` returning awaitables.

``import fastzmq.asyncio as zmq_asyncio`` mirrors ``zmq.asyncio``: ``send``, ``recv``,
``send_multipart``, ``recv_multipart``, the string/JSON/pickle helpers and ``poll``
return ``asyncio.Future`` objects.

Theory of operation
-------------------
Each call first tries the operation at once with DONTWAIT. Most calls succeed (a
message is queued, the pipe has room), so the common path is the compiled
operation plus an already-resolved Future: awaiting it does not even yield to the
loop. Only on ``Again`` is the call queued (FIFO per direction: a later call never
overtakes an earlier pending one) and the socket's edge-triggered ``FD`` watched with
``loop.add_reader``.

When the FD fires, ``_process`` runs the loop documented in ``fastzmq.poll``:
read ``EVENTS`` (which drains the FD and arms the socket's waiters for what is not
ready), complete queued calls while the socket is ready, and go round until a pass
completes nothing. The last ``EVENTS`` of that pass armed the FD, so a message that
arrives afterwards writes it: no lost wake-up. The reader stays registered while
calls are pending and is removed lazily, at the first FD event that finds none, so a
busy socket does not pay two ``epoll_ctl`` calls per wait.

Cancellation: a pending call is only a Future in the queue. The operation runs when
the socket is ready *and* the Future is still pending, so a cancelled ``recv``
consumes nothing and the next ``recv`` gets the message. ``asyncio.wait_for``
timeouts are cancellations. RCVTIMEO/SNDTIMEO, when set, fail a pending call with
``Again`` after that many ms, as in pyzmq.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import warnings
from collections import deque
from typing import Any, Callable

from fastzmq import constants as _c
from fastzmq import context as _context
from fastzmq import poll as _poll
from fastzmq import socket as _socket
from fastzmq._socket import SocketCore
from fastzmq.error import Again, ZMQError

__all__ = ["Context", "Socket", "Poller", "ZMQEventLoop", "install"]

POLLIN = int(_c.POLLIN)
POLLOUT = int(_c.POLLOUT)
DONTWAIT = int(_c.DONTWAIT)

_send = SocketCore.send
_recv = SocketCore.recv
_send_multipart = SocketCore.send_multipart
_recv_multipart = SocketCore.recv_multipart
_get_running_loop = asyncio.get_running_loop


def _get_loop() -> asyncio.AbstractEventLoop:
    try:
        return _get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def _done(loop: asyncio.AbstractEventLoop, result: Any) -> asyncio.Future:
    f = loop.create_future()
    f.set_result(result)
    return f


def _failed(loop: asyncio.AbstractEventLoop, exc: BaseException) -> asyncio.Future:
    f = loop.create_future()
    f.set_exception(exc)
    return f


def _chain(src: asyncio.Future, fn: Callable[[Any], Any]) -> asyncio.Future:
    """A Future of fn(src's result); cancelling it cancels src (so nothing is consumed)."""
    loop = src.get_loop()
    if src.done() and not src.cancelled() and src.exception() is None:
        try:
            return _done(loop, fn(src.result()))
        except Exception as e:
            return _failed(loop, e)
    out = loop.create_future()

    def on_src(f: asyncio.Future) -> None:
        if out.done():
            return
        if f.cancelled():
            out.cancel()
        elif f.exception() is not None:
            out.set_exception(f.exception())
        else:
            try:
                out.set_result(fn(f.result()))
            except Exception as e:
                out.set_exception(e)

    def on_out(o: asyncio.Future) -> None:
        if o.cancelled():
            src.cancel()

    src.add_done_callback(on_src)
    out.add_done_callback(on_out)
    return out


def _recv_and_load(sock: Any, recv: Callable, load: Callable, *args: Any) -> Any:
    return load(recv(sock, *args))


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(Again())


class Socket(_socket.Socket):
    """A fastzmq socket whose blocking methods return asyncio Futures."""

    _repr_cls = "fastzmq.asyncio.Socket"

    def __init__(self, context: Any = None, socket_type: int = -1, **kwargs: Any) -> None:
        super().__init__(context, socket_type, **kwargs)
        self._recvq: deque = deque()  # (future, fn, args, kwargs), FIFO
        self._sendq: deque = deque()
        self._watchers: list = []  # [(future, flags)] from poll()
        self._reader_loop: Any = None  # the loop our FD reader is registered with
        self._stalls = 0

    # ---------------------------------------------------------------- the ops
    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> asyncio.Future:
        """Receive one frame: a Future of bytes (or Frame with copy=False)."""
        return self._op(self._recvq, _recv, (flags | DONTWAIT, copy, track), {}, flags)

    def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> asyncio.Future:
        """Receive a whole message: a Future of a list of frames."""
        return self._op(self._recvq, _recv_multipart, (flags | DONTWAIT, copy, track), {}, flags)

    def send(
        self, data: Any, flags: int = 0, copy: bool = True, track: bool = False, **kwargs: Any
    ) -> asyncio.Future:
        """Send one frame: a Future that resolves (to None, or a tracker) once queued."""
        args = (data, flags | DONTWAIT, copy, track)
        return self._op(self._sendq, _send, args, kwargs, flags)

    def send_multipart(
        self, msg_parts: Any, flags: int = 0, copy: bool = True, track: bool = False, **kw: Any
    ) -> asyncio.Future:
        """Send a sequence of frames as one message."""
        args = (list(msg_parts), flags | DONTWAIT, copy, track)
        return self._op(self._sendq, _send_multipart, args, kw, flags)

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> asyncio.Future:
        """Receive one frame into ``buffer``: a Future of the frame's full length."""
        view, nbytes = _socket._into_view(buffer, nbytes)
        return self._op(
            self._recvq, _socket._recv_into, (view, nbytes, flags | DONTWAIT), {}, flags
        )

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> asyncio.Future:
        return self._recv_then(lambda b: b.decode(encoding), flags)

    recv_unicode = recv_string

    def recv_json(self, flags: int = 0, **kwargs: Any) -> asyncio.Future:
        return self._recv_then(lambda b: json.loads(b, **kwargs), flags)

    def recv_pyobj(self, flags: int = 0) -> asyncio.Future:
        return self._recv_then(pickle.loads, flags)

    def recv_serialized(
        self, deserialize: Callable, flags: int = 0, copy: bool = True
    ) -> asyncio.Future:
        args = (_recv_multipart, deserialize, flags | DONTWAIT, copy, False)
        return self._op(self._recvq, _recv_and_load, args, {}, flags)

    def _recv_then(self, load: Callable, flags: int) -> asyncio.Future:
        """recv, then load() in the same step: one Future, so cancelling it consumes nothing."""
        args = (_recv, load, flags | DONTWAIT, True, False)
        return self._op(self._recvq, _recv_and_load, args, {}, flags)

    def poll(self, timeout: int | None = None, flags: int = POLLIN) -> asyncio.Future:
        """A Future of the events ready within timeout ms (0 on timeout)."""
        p = Poller()
        p.register(self, flags)
        return _chain(p.poll(timeout), lambda ready: dict(ready).get(self, 0))

    def _op(self, q: deque, fn: Callable, args: tuple, kwargs: dict, flags: int) -> asyncio.Future:
        """Try now (DONTWAIT); on Again, queue behind earlier pending calls and watch the FD."""
        loop = _get_loop()
        if not q:
            try:
                return _done(loop, fn(self, *args, **kwargs))
            except Again as e:
                if flags & DONTWAIT:
                    return _failed(loop, e)
            except Exception as e:
                return _failed(loop, e)
        fut = loop.create_future()
        q.append((fut, fn, args, kwargs))
        timeout = self.rcvtimeo if q is self._recvq else self.sndtimeo
        if timeout >= 0:
            timer = loop.call_later(timeout / 1000.0, _expire, fut)
            fut.add_done_callback(lambda _f: timer.cancel())
        self._watch(loop)
        self._process()  # arms the FD, and catches what arrived since the try
        return fut

    # ---------------------------------------------------------------- the FD
    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._reader_loop is loop:
            return
        self._unwatch()
        loop.add_reader(self._fileno(), self._on_fd)
        self._reader_loop = loop

    def _unwatch(self) -> None:
        loop, self._reader_loop = self._reader_loop, None
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self._fileno())

    def _on_fd(self) -> None:
        if self.closed or not (self._recvq or self._sendq or self._watchers):
            self._unwatch()  # lazily: nothing is waiting any more
            return
        self._process()

    def _process(self) -> None:
        """Complete queued calls while the socket is ready (see the module docstring)."""
        while True:
            try:
                ev = self._events()
            except Exception as e:  # closed or terminated: fail everything pending
                self._fail_all(e)
                return
            if self._watchers:
                self._fire_watchers(ev)
            done = stalled = False
            if ev & POLLIN and self._recvq:
                d, s = self._run(self._recvq)
                done, stalled = done or d, stalled or s
            if ev & POLLOUT and self._sendq:
                d, s = self._run(self._sendq)
                done, stalled = done or d, stalled or s
            if done:
                self._stalls = 0
            elif not stalled:
                return
            elif self._stall():
                return

    def _stall(self) -> bool:
        """EVENTS said ready but the op said Again (e.g. ROUTER_MANDATORY at HWM):
        look again a few times, then retry on a short timer rather than spin."""
        self._stalls += 1
        if self._stalls < 4:
            return False
        self._stalls = 0
        if self._reader_loop is not None:
            self._reader_loop.call_later(0.001, self._on_fd)
        return True

    def _run(self, q: deque) -> tuple[bool, bool]:
        """Run queued ops in order until one says Again: (completed any, hit Again)."""
        done = False
        while q:
            fut, fn, args, kwargs = q[0]
            if fut.done():  # cancelled or timed out: it consumes nothing
                q.popleft()
                continue
            try:
                result = fn(self, *args, **kwargs)
            except Again:
                return done, True
            except Exception as e:
                q.popleft()
                fut.set_exception(e)
            else:
                q.popleft()
                fut.set_result(result)
            done = True
        return done, False

    def _fire_watchers(self, ev: int) -> None:
        keep = []
        for fut, flags in self._watchers:
            if fut.done():
                continue
            if ev & flags:
                fut.set_result(ev & flags)
            else:
                keep.append((fut, flags))
        self._watchers = keep

    def _add_watcher(self, fut: asyncio.Future, flags: int) -> None:
        if self.closed:  # (its FD is gone) wake the poll at once: it sees the close
            _resolve(fut)
            return
        self._watchers = [w for w in self._watchers if not w[0].done()]  # cancelled polls
        self._watchers.append((fut, flags))
        self._watch(fut.get_loop())

    def _fail_all(self, exc: BaseException) -> None:
        for q in (self._recvq, self._sendq):
            while q:
                fut = q.popleft()[0]
                if not fut.done():
                    fut.set_exception(exc)
        for fut, _ in self._watchers:
            if not fut.done():
                fut.set_exception(exc)
        self._watchers = []
        self._unwatch()

    @property
    def _recv_futures(self) -> list:
        """The pending receive-side futures (recv calls, poll watchers), as pyzmq names them."""
        pending = [f for f, *_ in self._recvq if not f.done()]
        return pending + [f for f, _ in self._watchers if not f.done()]

    def close(self, linger: int | None = None) -> None:
        """Close the socket; calls still pending are cancelled."""
        if not self.closed:
            try:
                self._unwatch()
            except Exception:
                pass
            for q in (getattr(self, "_recvq", ()), getattr(self, "_sendq", ())):
                for fut, *_ in q:
                    fut.cancel()
            for fut, _ in getattr(self, "_watchers", ()):
                fut.cancel()
        super().close(linger)


class Poller(_poll.Poller):
    """Poller whose ``poll(timeout_ms)`` returns a Future of ``[(socket, events)]``."""

    def poll(self, timeout: float | None = None) -> asyncio.Future:  # type: ignore[override]
        loop = _get_loop()
        try:
            ready = _poll.Poller.poll(self, 0)
        except Exception as e:
            return _failed(loop, e)
        if ready or timeout == 0:
            return _done(loop, ready)
        return asyncio.ensure_future(self._wait(loop, timeout), loop=loop)

    async def _wait(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> list:
        deadline = _poll._deadline(timeout)
        while True:
            woke = loop.create_future()
            undo = self._arm(loop, woke)
            try:
                ready = self._poll_now()  # after arming: nothing slips by
                left = _poll._remaining_ms(deadline)
                if ready or left == 0:
                    return ready
                if left > 0:
                    timer = loop.call_later(left / 1000.0, _resolve, woke)
                await woke
                if left > 0:
                    timer.cancel()
            finally:
                for fn in undo:
                    fn()

    def _poll_now(self) -> list:
        """A zero-timeout poll; a registered socket closed meanwhile cancels the wait
        (pyzmq: the poll future of a socket that closes is cancelled, not ENOTSOCK)."""
        try:
            return _poll.Poller.poll(self, 0)
        except ZMQError as e:
            closed = any(isinstance(o, _socket.Socket) and o.closed for o, _ in self.sockets)
            if e.errno == _c.ENOTSOCK and closed:
                raise asyncio.CancelledError() from None
            raise

    def _arm(self, loop: asyncio.AbstractEventLoop, woke: asyncio.Future) -> list:
        """Make ``woke`` resolve on any registered FD; return the undo callables."""
        undo = []
        for obj, flags in self.sockets:
            if isinstance(obj, Socket):
                obj._add_watcher(woke, flags)
            elif isinstance(obj, _socket.Socket):
                fd = obj._fileno()
                loop.add_reader(fd, _resolve, woke)
                undo.append(lambda fd=fd: loop.remove_reader(fd))
            else:
                fd = _poll._fileno(obj)
                if flags & POLLIN or not flags & POLLOUT:
                    loop.add_reader(fd, _resolve, woke)
                    undo.append(lambda fd=fd: loop.remove_reader(fd))
                if flags & POLLOUT:
                    loop.add_writer(fd, _resolve, woke)
                    undo.append(lambda fd=fd: loop.remove_writer(fd))
        return undo


def _resolve(fut: asyncio.Future, *_: Any) -> None:
    if not fut.done():
        fut.set_result(None)


class Context(_context.Context):
    """A Context whose sockets are ``fastzmq.asyncio.Socket``."""

    _socket_class = Socket
    _repr_cls = "fastzmq.asyncio.Context"
    _instance = None  # Context.instance() of this class: its own, not the sync one


class ZMQEventLoop(asyncio.SelectorEventLoop):
    """pyzmq's deprecated event loop: a plain SelectorEventLoop (fastzmq sockets need
    nothing special from the loop; their FD is an ordinary file descriptor)."""

    def __init__(self, selector: Any = None) -> None:
        _deprecated()
        super().__init__(selector)


def install() -> None:
    """pyzmq's deprecated ``zmq.asyncio.install()``: nothing to install, warns."""
    _deprecated()


def _deprecated() -> None:
    warnings.warn(
        "ZMQEventLoop and zmq.asyncio.install are deprecated in pyzmq 17:"
        " no special event loop is needed",
        DeprecationWarning,
        stacklevel=3,
    )

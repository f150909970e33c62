"""Context: owns the I/O thread(s), the inproc endpoint registry and its sockets.

A Context is thread-safe. Sockets are not (as in libzmq): use each from one thread
at a time. ``term()`` marks the context terminated, wakes every call blocked in one
of its sockets with ``ContextTerminated``, waits for the sockets to be closed, then
stops the I/O thread.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Generic, TypeVar

from fastzmq import constants as _c
from fastzmq.error import ZMQError

T = TypeVar("T", bound="Context")
ST = TypeVar("ST")  # the socket class this context makes (pyzmq: Context[Socket[bytes]])


class Context(Generic[ST]):
    """A fastzmq context, with pyzmq's API."""

    _instance: Context | None = None
    _instance_lock = threading.Lock()
    sockopts: dict[int, Any]

    def __init__(self, io_threads: int = 1, **kwargs: Any) -> None:
        if isinstance(io_threads, Context):  # pyzmq's shadow-ish use: Context(other)
            io_threads = 1
        if io_threads < 0:
            raise ZMQError(_c.EINVAL, "io_threads must be >= 0")
        self._io_threads_n = max(1, int(io_threads))
        self._io: list = []
        self._lock = threading.RLock()
        self._sockets: weakref.WeakSet = weakref.WeakSet()
        self._terminated = False
        self._closed = False
        self._inproc: dict[str, Any] = {}  # endpoint -> binding socket
        # endpoint -> [(socket, binder's end, connecter's end, deferred)]
        self._inproc_pending: dict[str, list] = {}
        self._options: dict[int, int] = {
            _c.IO_THREADS: self._io_threads_n,
            _c.MAX_SOCKETS: 1023,
            _c.SOCKET_LIMIT: 65535,
            _c.IPV6: 0,
            _c.BLOCKY: 1,
            _c.MAX_MSGSZ: 2**31 - 1,
        }
        object.__setattr__(self, "sockopts", {})

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def instance(cls: type[T], io_threads: int = 1) -> T:
        """The process-wide shared Context (created on first use)."""
        inst = cls._instance
        if inst is None or inst.closed or not isinstance(inst, cls):
            with cls._instance_lock:
                inst = cls._instance
                if inst is None or inst.closed or not isinstance(inst, cls):
                    inst = cls._instance = cls(io_threads)
        return inst  # type: ignore[return-value]

    @property
    def closed(self) -> bool:
        return self._closed

    def socket(self, socket_type: int, socket_class: type | None = None, **kwargs: Any):
        """A new socket of the given type (zmq.PUSH, ...)."""
        if self._closed or self._terminated:
            raise ZMQError(_c.ETERM, "Context was terminated")
        if socket_class is None:
            from fastzmq.socket import Socket

            socket_class = Socket
        s = socket_class(self, socket_type, **kwargs)
        for opt, value in self.sockopts.items():
            try:
                s.setsockopt(opt, value)
            except ZMQError:
                pass  # pyzmq ignores defaults that do not apply to this type
        return s

    def _add_socket(self, s) -> None:
        with self._lock:
            self._sockets.add(s)

    def _remove_socket(self, s) -> None:
        with self._lock:
            self._sockets.discard(s)
            for ep, binder in list(self._inproc.items()):
                if binder is s:
                    del self._inproc[ep]

    def term(self) -> None:
        """Terminate: wake blocked calls with ContextTerminated, wait for sockets to close."""
        if self._closed:
            return
        self._terminated = True
        for s in list(self._sockets):
            s._terminate()
        for io in self._io:
            io.wait_sockets_closed()
        while True:
            with self._lock:
                live = [s for s in self._sockets if not s.closed]
            if not live:
                break
            # libzmq blocks until every socket is closed; so do we.
            threading.Event().wait(0.01)
        for io in self._io:
            io.stop()
        self._io = []
        self._closed = True

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket of this context (with linger, if given), then term()."""
        self._terminated = True
        for s in list(self._sockets):
            if not s.closed:
                s.close(linger=linger)
        self.term()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.destroy() if exc and exc[0] is not None else self.term()

    def __del__(self) -> None:
        try:
            if not self._closed and not any(not s.closed for s in self._sockets):
                for io in self._io:
                    io.stop()
                self._io = []
                self._closed = True
        except Exception:
            pass

    # ------------------------------------------------------------------ I/O threads
    def _io_thread(self):
        """The I/O thread for a new connection or listener (started on first use)."""
        from fastzmq._io import IOThread

        with self._lock:
            if self._terminated:
                raise ZMQError(_c.ETERM, "Context was terminated")
            if not self._io:
                self._io = [IOThread(self, i) for i in range(self._io_threads_n)]
                for io in self._io:
                    io.start()
            self._io_rr = getattr(self, "_io_rr", -1) + 1
            return self._io[self._io_rr % len(self._io)]

    # ------------------------------------------------------------------ options
    def set(self, option: int, value: int) -> None:
        """Set a context option (IO_THREADS before the first socket, MAX_SOCKETS, ...)."""
        if option not in _c.CTXOPT_RANGES and option not in self._options:
            raise ZMQError(_c.EINVAL, f"Invalid context option: {option}")
        if not isinstance(value, int) or not _c.option_in_range(option, value, _c.CTXOPT_RANGES):
            raise ZMQError(_c.EINVAL, f"Invalid value {value!r} for context option {option}")
        if option == _c.IO_THREADS and not self._io:
            self._io_threads_n = max(1, value)
        self._options[option] = value

    def get(self, option: int) -> int:
        if option not in self._options:
            raise ZMQError(_c.EINVAL, f"Invalid context option: {option}")
        return self._options[option]

    def setsockopt(self, option: int, value: Any) -> None:
        """Default socket option for sockets created later by this context."""
        self.sockopts[option] = value

    def getsockopt(self, option: int) -> Any:
        return self.sockopts[option]

    def __setattr__(self, name: str, value: Any) -> None:
        opt = getattr(_c.SocketOption, name.upper(), None) if not name.startswith("_") else None
        if opt is not None:
            self.sockopts[int(opt)] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        opt = getattr(_c.SocketOption, name.upper(), None)
        if opt is not None and int(opt) in self.sockopts:
            return self.sockopts[int(opt)]
        ctxopt = getattr(_c.ContextOption, name.upper(), None)
        if ctxopt is not None:
            return self.get(int(ctxopt))
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._sockets)} sockets"
        return f"<fastzmq.Context({state}) at {hex(id(self))}>"


SyncContext = Context["Socket[bytes]"]  # pyzmq's alias: a Context making SyncSockets

"""Context: owns the I/O thread(s), the inproc endpoint registry and its sockets.

A Context is thread-safe. Sockets are not (as in libzmq): use each from one thread
at a time. ``term()`` marks the context terminated, wakes every call blocked in one
of its sockets with ``ContextTerminated``, waits for the sockets to be closed, then
stops the I/O thread.

fork(): a child process inherits the parent's contexts and sockets but not their
I/O threads. In the child every inherited context is marked as the parent's
(``os.register_at_fork``): its sockets are closed for the child, any use raises
``ZMQError(ENOTSUP)`` saying so, ``term()`` returns at once (and touches nothing the
parent still uses: no unlink, no shutdown), and ``Context.instance()`` makes a
fresh context. At exit, I/O threads still running are stopped (``atexit``) so no
daemon thread is left inside the interpreter's finalization.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from typing import Any, TypeVar

from fastzmq import constants as _c
from fastzmq.error import ZMQError

T = TypeVar("T", bound="Context")

_live: weakref.WeakSet = weakref.WeakSet()  # every Context not yet closed (fork, exit)


def _forked_error(pid: int) -> ZMQError:
    return ZMQError(
        _c.ENOTSUP,
        f"this context was created in another process (pid {pid}), before fork(): "
        "create a new Context (or use Context.instance()) in the child",
    )


def _after_fork_in_child() -> None:
    """In a forked child: the parent's contexts and sockets are the parent's."""
    from fastzmq import _ring

    _ring.reinit_after_fork()  # the chunk pool's mutex may have been held at fork
    Context._instance_lock = threading.Lock()
    for ctx in list(_live):
        ctx._orphan()


def _at_exit() -> None:
    """Stop I/O threads still running, so none is inside the interpreter's finalization
    (a daemon thread that takes the GIL then is killed by pthread_exit, which aborts the
    process when it cannot load libgcc_s, e.g. with every fd in use)."""
    for ctx in list(_live):
        if ctx._pid != os.getpid():
            continue
        for io in list(ctx._io):
            try:
                io.stopping = True
                io.call(lambda: None)  # wake its epoll_wait
                if io.thread is not None:
                    io.thread.join(1.0)
                io.idle.set()  # a term() from a later exit handler must not wait for it
            except Exception:
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)


class Context:
    """A fastzmq context, with pyzmq's API."""

    _instance: Context | None = None
    _instance_lock = threading.Lock()
    _forked = False  # set in a fork() child on the parent's contexts
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
        self._pid = os.getpid()
        _live.add(self)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def instance(cls: type[T], io_threads: int = 1) -> T:
        """The process-wide shared Context (created on first use)."""
        inst = cls._instance
        pid = os.getpid()
        if inst is None or inst.closed or not isinstance(inst, cls) or inst._pid != pid:
            with cls._instance_lock:
                inst = cls._instance
                if inst is None or inst.closed or not isinstance(inst, cls) or inst._pid != pid:
                    inst = cls._instance = cls(io_threads)
        return inst  # type: ignore[return-value]

    @property
    def closed(self) -> bool:
        return self._closed

    def _orphan(self) -> None:
        """fork() child: this context and its sockets belong to the parent process."""
        self._forked = True
        self._closed = True
        self._terminated = True
        self._io = []  # the parent's threads: nothing here to stop or join
        for s in list(self._sockets):
            s._forked = True
            s._monitor = None
            s.closed = True  # every call raises (see Socket._closed_error)
        self._sockets = weakref.WeakSet()
        _live.discard(self)

    def socket(self, socket_type: int, socket_class: type | None = None, **kwargs: Any):
        """A new socket of the given type (zmq.PUSH, ...)."""
        if self._forked:
            raise _forked_error(self._pid)
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
            # lingering engines flush in the I/O thread: wait, unless it is gone (stopped
            # at interpreter exit by _at_exit, before a later exit handler's term())
            while not io.idle.wait(0.1):
                if io.thread is None or not io.thread.is_alive():
                    break
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
        _live.discard(self)

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
                try:
                    ios = [IOThread(self, i) for i in range(self._io_threads_n)]
                    for io in ios:
                        io.start()
                except OSError as e:  # EMFILE for the epoll fd or the command eventfd
                    code = e.errno or _c.EMFILE
                    raise ZMQError(code, os.strerror(code)) from None
                self._io = ios
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

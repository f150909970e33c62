"""Context: owns the I/O thread(s), the inproc endpoint registry and its sockets.

A Context is thread-safe. Sockets are not (as in libzmq): use each from one thread
at a time. ``term()`` marks the context terminated, wakes every call blocked in one
of its sockets with ``ContextTerminated``, waits for the sockets to be closed, then
stops the I/O thread.

What libzmq calls the context (``ctx_t``: I/O threads, inproc endpoints, options,
the sockets term() waits for) is the :class:`_Underlying` object here. A
``Context`` is a Python handle on one; ``Context.shadow(ctx)`` (or
``Context(shadow=ctx)``, ``Context(ctx)``, ``copy.copy(ctx)``) makes another handle
on the same one, as pyzmq's shadow contexts share a libzmq context: an asyncio
context and a sync one can then talk over inproc. ``ctx.underlying`` is its
address-like key. Each handle keeps its own socket-option defaults and its own
list of sockets for ``destroy()``; terminating any handle terminates the shared
context (then the others raise EFAULT, libzmq's error for a dead context).

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
import warnings
import weakref
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from fastzmq import _thread_options
from fastzmq import constants as _c
from fastzmq._waiter import check_backend
from fastzmq.error import ZMQError

T = TypeVar("T", bound="Context")
ST = TypeVar("ST")  # the socket class this context makes (pyzmq: Context[Socket[bytes]])

# underlying address -> _Underlying, for Context(shadow=<int>)
_UNDERLYING: weakref.WeakValueDictionary[int, _Underlying] = weakref.WeakValueDictionary()

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


class _Underlying:
    """The shared state behind every handle on one context (libzmq's ``ctx_t``)."""

    def __init__(self, io_threads: int) -> None:
        self.io_threads_n = max(1, io_threads)
        self.io: list = []
        self.io_rr = -1
        self.lock = threading.RLock()
        self.sockets: weakref.WeakSet = weakref.WeakSet()  # every live socket, all handles
        self.terminated = False
        self.closed = False
        self.inproc: dict[str, Any] = {}  # endpoint -> binding socket
        # endpoint -> [(socket, binder's end, connecter's end, deferred)]
        self.inproc_pending: dict[str, list] = {}
        self.options: dict[int, int] = {
            _c.IO_THREADS: self.io_threads_n,
            _c.MAX_SOCKETS: 1023,
            _c.SOCKET_LIMIT: 65535,
            _c.IPV6: 0,
            _c.BLOCKY: 1,
            _c.MAX_MSGSZ: 2**31 - 1,
            _c.THREAD_NAME_PREFIX: 0,
            _c.THREAD_SCHED_POLICY: _thread_options.DEFAULT,
        }
        # THREAD_AFFINITY_CPU_ADD/REMOVE, THREAD_SCHED_POLICY, THREAD_PRIORITY
        self.thread_opts = _thread_options.ThreadOptions()
        _UNDERLYING[id(self)] = self


class Context(Generic[ST]):
    """A fastzmq context, with pyzmq's API."""

    _instance: Any = None
    _forked = False  # set in a fork() child on the parent's contexts
    _instance_lock = threading.Lock()
    _socket_class: Any = None  # None: fastzmq.Socket (set by subclasses: asyncio, green)
    sockopts: dict[int, Any]

    def __init__(self, io_threads: int | Context = 1, shadow: Context | int = 0) -> None:
        if isinstance(io_threads, Context):  # pyzmq: Context(other) shadows other
            shadow, io_threads = io_threads, 1
        if shadow:
            u = _find_underlying(shadow)
            self._shadow = True
            self._shadow_obj = shadow  # keeps a shadowed handle alive, as pyzmq does
        else:
            if not isinstance(io_threads, int) or io_threads < 0:
                raise ZMQError(_c.EINVAL, "io_threads must be an int >= 0")
            check_backend()  # a bad FASTZMQ_POLLER: ZMQError(EINVAL) naming the valid ones
            u = _Underlying(io_threads)
            self._shadow = False
        self._u = u
        # the shared containers, under the names the socket layer uses
        self._lock = u.lock
        self._io = u.io
        self._inproc = u.inproc
        self._inproc_pending = u.inproc_pending
        self._options = u.options
        self._sockets: weakref.WeakSet = weakref.WeakSet()  # this handle's, for destroy()
        self._warn_destroy_close = False
        self._closed = False
        object.__setattr__(self, "sockopts", {})
        self._pid = os.getpid()
        _live.add(self)

    # ------------------------------------------------------------------ identity
    @property
    def underlying(self) -> int:
        """The shared context's key: equal for a context and its shadows."""
        return id(self._u)

    @classmethod
    def shadow(cls: type[T], address: Context | int) -> T:
        """Another handle on the same context (``address``: a Context or its ``underlying``)."""
        return cls(shadow=address)

    def __copy__(self: T, memo: Any = None) -> T:
        """A copy of a Context is a shadow of it (pyzmq)."""
        return type(self).shadow(self.underlying)

    __deepcopy__ = __copy__

    def __reduce__(self) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    @property
    def _terminated(self) -> bool:
        return self._u.terminated

    @property
    def _io_threads_n(self) -> int:
        return self._u.io_threads_n

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def instance(cls: type[T], io_threads: int = 1) -> T:
        """The process-wide shared Context (created on first use).

        As in pyzmq, a subclass sees its parent's live instance until it makes its
        own (then kept on the subclass); ``_instance = None`` in a subclass body
        gives it its own from the start.
        """
        inst = cls._instance
        pid = os.getpid()
        if inst is None or inst.closed or inst._pid != pid:
            with cls._instance_lock:
                inst = cls._instance
                if inst is None or inst.closed or inst._pid != pid:
                    # after fork() the parent's instance is not usable: make a new one
                    inst = cls._instance = cls(io_threads)
        return inst

    @property
    def closed(self) -> bool:
        """This handle was terminated (a shadow of a terminated context is not, as in pyzmq)."""
        return self._closed

    def _orphan(self) -> None:
        """fork() child: this context and its sockets belong to the parent process."""
        self._forked = True
        self._closed = True
        u = self._u
        u.terminated = u.closed = True
        u.io.clear()  # the parent's threads (this is the child's copy of the list)
        for s in list(u.sockets):
            s._forked = True
            s._monitor = None
            s.closed = True  # every call raises (see Socket._closed_error)
        u.sockets = weakref.WeakSet()
        self._sockets = weakref.WeakSet()
        _live.discard(self)

    def socket(self, socket_type: int, socket_class: Any = None, **kwargs: Any) -> ST:
        """A new socket of the given type (zmq.PUSH, ...)."""
        if self._forked:
            raise _forked_error(self._pid)
        u = self._u
        if self._closed:
            raise ZMQError(_c.ENOTSUP, "Context was terminated")
        if u.closed:  # another handle terminated it: libzmq's dead-context error
            raise ZMQError(_c.EFAULT, "Context was terminated")
        if u.terminated:
            raise ZMQError(_c.ETERM, "Context was terminated")
        with u.lock:
            if len(u.sockets) >= u.options[_c.MAX_SOCKETS]:
                raise ZMQError(_c.EMFILE, f"Too many open sockets (MAX_SOCKETS={len(u.sockets)})")
        if socket_class is None:
            socket_class = self._socket_class
            if socket_class is None:
                from fastzmq.socket import Socket

                socket_class = Socket
        s = socket_class(self, socket_type, **kwargs)
        if not u.options[_c.BLOCKY] and _c.LINGER not in self.sockopts:
            s.setsockopt(_c.LINGER, 0)  # libzmq: a non-blocky context's sockets linger 0
        if u.options[_c.IPV6] and _c.IPV6 not in self.sockopts:
            s.setsockopt(_c.IPV6, 1)
        for opt, value in self.sockopts.items():
            try:
                s.setsockopt(opt, value)
            except ZMQError:
                pass  # pyzmq ignores defaults that do not apply to this type
        return s

    def _add_socket(self, s) -> None:
        with self._u.lock:
            self._u.sockets.add(s)
            self._sockets.add(s)

    def _remove_socket(self, s) -> None:
        with self._u.lock:
            self._u.sockets.discard(s)
            self._sockets.discard(s)
            # (its inproc bindings went in _inproc.close_socket, which close() calls first)

    def term(self) -> None:
        """Terminate: wake blocked calls with ContextTerminated, wait for sockets to close."""
        u = self._u
        if u.closed:
            self._closed = True
            return
        u.terminated = True
        for s in list(u.sockets):
            s._terminate()
        for io in list(u.io):
            # lingering engines flush in the I/O thread: wait, unless it is gone (stopped
            # at interpreter exit by _at_exit, before a later exit handler's term())
            while not io.idle.wait(0.1):
                if io.thread is None or not io.thread.is_alive():
                    break
        while True:
            with u.lock:
                live = [s for s in u.sockets if not s.closed]
            if not live:
                break
            # libzmq blocks until every socket is closed; so do we.
            threading.Event().wait(0.01)
        for io in list(u.io):
            io.stop()
        u.io.clear()
        u.closed = self._closed = True
        _live.discard(self)

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket of this context (with linger, if given), then term().

        Not thread-safe, as in pyzmq: it closes sockets other threads may be using.
        """
        if self.closed:
            return
        for s in list(self._sockets):
            if not s.closed:
                if self._warn_destroy_close:
                    warnings.warn(
                        f"Destroying context with unclosed socket {s}",
                        ResourceWarning,
                        stacklevel=3,
                        source=s,
                    )
                s.close(linger=linger)
        self.term()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: Any) -> None:
        # pyzmq: leaving the block closes what was left open (with a warning), then terms
        self._warn_destroy_close = True
        self.destroy()

    def __del__(self) -> None:
        try:
            if self._shadow or self.closed:
                return
            u = self._u
            if any(not s.closed for s in u.sockets):
                return  # a live socket holds this context: it will be collected later
            for io in list(u.io):
                io.stop()
            u.io.clear()
            u.closed = self._closed = True
        except Exception:
            pass

    # ------------------------------------------------------------------ I/O threads
    def _io_thread(self):
        """The I/O thread for a new connection or listener (started on first use)."""
        u = self._u
        with u.lock:
            if u.terminated:
                raise ZMQError(_c.ETERM, "Context was terminated")
            if not u.io:
                from fastzmq._io import IOThread  # (here: once per context, not per call)

                prefix = u.options[_c.THREAD_NAME_PREFIX]
                ios: list = []
                try:
                    ios.extend(IOThread(self, i) for i in range(u.io_threads_n))
                    for io in ios:
                        io.start()
                        if prefix:  # libzmq names its threads "<prefix>/ZMQbg/IO/<n>"
                            io.thread.name = f"{prefix}/{io.thread.name}"
                    u.thread_opts.apply(_thread_options.native_ids(ios))
                except (OSError, ZMQError) as e:
                    for io in ios:  # none is used: stop what started
                        if io.thread is not None:
                            io.stop()
                    if isinstance(e, ZMQError):  # the OS refused the thread options
                        raise
                    code = e.errno or _c.EMFILE  # EMFILE for the epoll fd or the eventfd
                    raise ZMQError(code, os.strerror(code)) from None
                u.io.extend(ios)
            u.io_rr += 1
            return u.io[u.io_rr % len(u.io)]

    # ------------------------------------------------------------------ options
    def set(self, option: int, value: int) -> None:
        """Set a context option (IO_THREADS before the first socket, MAX_SOCKETS, ...)."""
        u = self._u
        if option not in _c.CTXOPT_RANGES and option not in u.options:
            raise ZMQError(_c.EINVAL, f"Invalid context option: {option}")
        if not isinstance(value, int) or not _c.option_in_range(option, value, _c.CTXOPT_RANGES):
            raise ZMQError(_c.EINVAL, f"Invalid value {value!r} for context option {option}")
        if option == _c.IO_THREADS and not u.io:
            u.io_threads_n = max(1, value)
        if option in _thread_options.OPTIONS:
            with u.lock:  # (as libzmq's; applied now to running I/O threads, see the module)
                opts = u.thread_opts.updated(option, value)
                opts.apply(_thread_options.native_ids(u.io))
                u.thread_opts = opts
            if option != _c.THREAD_SCHED_POLICY:
                return  # (write-only in libzmq: get raises EINVAL)
        u.options[option] = value

    def get(self, option: int) -> int:
        if option not in self._u.options:
            raise ZMQError(_c.EINVAL, f"Invalid context option: {option}")
        return self._u.options[option]

    def setsockopt(self, option: int, value: Any) -> None:
        """Default socket option for sockets created later by this context."""
        self.sockopts[option] = value

    def getsockopt(self, option: int) -> Any:
        return self.sockopts[option]

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            upper = name.upper()
            ctxopt = _c.ContextOption.__members__.get(upper)
            if ctxopt is not None:
                self.set(int(ctxopt), value)
                return
            opt = _c.SocketOption.__members__.get(upper)
            if opt is not None:
                self.sockopts[int(opt)] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        upper = name.upper()
        ctxopt = _c.ContextOption.__members__.get(upper)
        if ctxopt is not None:
            try:
                return self.get(int(ctxopt))
            except ZMQError as e:  # write-only or unknown here: an AttributeError (mock)
                raise AttributeError(f"{name} attribute is write-only") from e
        opt = _c.SocketOption.__members__.get(upper)
        if opt is not None and int(opt) in self.sockopts:
            return self.sockopts[int(opt)]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__:
            object.__delattr__(self, name)
            return
        opt = _c.SocketOption.__members__.get(name.upper())
        if opt is None or int(opt) not in self.sockopts:
            raise AttributeError(name)
        del self.sockopts[int(opt)]

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_c.ContextOption.__members__})

    _repr_cls = "fastzmq.Context"

    def __repr__(self) -> str:
        cls = type(self)
        name = cls._repr_cls if "_repr_cls" in vars(cls) else f"{cls.__module__}.{cls.__name__}"
        if self.closed:
            return f"<{name}() closed at {hex(id(self))}>"
        n = sum(1 for s in self._sockets if not s.closed)
        count = f"{n} socket{'s' if n != 1 else ''}" if n else ""
        return f"<{name}({count}) at {hex(id(self))}>"


def _find_underlying(shadow: Context | int) -> _Underlying:
    if isinstance(shadow, Context):
        return shadow._u
    u = getattr(shadow, "_u", None)
    if isinstance(u, _Underlying):
        return u
    if isinstance(shadow, int):
        found = _UNDERLYING.get(shadow)
        if found is not None:
            return found
    raise ZMQError(_c.EFAULT, f"Not a live fastzmq context: {shadow!r}")


if TYPE_CHECKING:
    from fastzmq.socket import Socket  # noqa: F401  (named in the SyncContext string)

SyncContext = Context["Socket[bytes]"]  # pyzmq's alias: a Context making SyncSockets

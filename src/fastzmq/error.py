"""fastzmq's exceptions: pyzmq's classes, hierarchy and messages.

``ZMQError`` carries an errno from :class:`fastzmq.constants.Errno` (platform POSIX
numbers, and libzmq's own ``ZMQ_HAUSNUMERO + n`` ones) and the text libzmq's
``zmq_strerror`` gives for it. ``_raise_errno`` picks the subclass pyzmq would
raise (EAGAIN -> Again, ETERM -> ContextTerminated, EINTR -> InterruptedSystemCall).
"""

from __future__ import annotations

import os
import threading
from errno import EINTR

from fastzmq.constants import _HAUSNUMERO, Errno, zmq_version, zmq_version_info

# libzmq's texts for the numbers it defines itself (err.cpp); the POSIX fallbacks
# only matter on a platform whose errno.h lacks them.
_ZMQ_TEXTS = {
    Errno.EFSM: "Operation cannot be accomplished in current state",
    Errno.ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
    Errno.ETERM: "Context was terminated",
    Errno.EMTHREAD: "No thread available",
    Errno.EHOSTUNREACH: "Host unreachable",  # libzmq's wording, on every platform
}
_FALLBACK_TEXTS = {
    "ENOTSUP": "Not supported",
    "EPROTONOSUPPORT": "Protocol not supported",
    "ENOBUFS": "No buffer space available",
    "ENETDOWN": "Network is down",
    "EADDRINUSE": "Address in use",
    "EADDRNOTAVAIL": "Address not available",
    "ECONNREFUSED": "Connection refused",
    "EINPROGRESS": "Operation in progress",
}
for _name, _text in _FALLBACK_TEXTS.items():
    if Errno[_name] > _HAUSNUMERO:
        _ZMQ_TEXTS[Errno[_name]] = _text
del _name, _text


def strerror(errnum: int) -> str:
    """The message libzmq's ``zmq_strerror`` gives for ``errnum``."""
    text = _ZMQ_TEXTS.get(errnum)
    return text if text is not None else os.strerror(errnum)


_last = threading.local()  # the errno of the last ZMQError made in this thread


def zmq_errno() -> int:
    """libzmq's ``zmq_errno()``: the errno of the last failed call in this thread (0: none)."""
    return getattr(_last, "errno", 0)


class ZMQBaseError(Exception):
    """Base of every fastzmq exception."""


class ZMQError(ZMQBaseError):
    """An errno-style error: ``.errno`` (int or None) and ``.strerror`` (str).

    ``ZMQError(errno)`` takes libzmq's text for the number; ``ZMQError(errno, msg)``
    uses ``msg``; ``ZMQError("text")`` has no errno. ``ZMQError()`` is errno 0,
    what pyzmq reports when libzmq's errno is clear.
    """

    errno: int | None = None
    strerror: str

    def __init__(self, errno: int | str | None = None, msg: str | None = None) -> None:
        if errno is None:
            errno = 0
        if isinstance(errno, int):
            self.errno = errno
            _last.errno = errno
            self.strerror = strerror(errno) if msg is None else msg
        else:
            self.strerror = str(errno) if msg is None else msg

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ZMQBindError(ZMQBaseError):
    """``Socket.bind_to_random_port`` found no free port."""


class NotDone(ZMQBaseError):
    """``MessageTracker.wait`` timed out before fastzmq was done with the message."""


class ContextTerminated(ZMQError):
    """ETERM: the socket's context was terminated."""

    def __init__(self, errno: object = "ignored", msg: str | None = None) -> None:
        super().__init__(Errno.ETERM, msg)


class Again(ZMQError):
    """EAGAIN: the call would block (DONTWAIT, or a timeout expired)."""

    def __init__(self, errno: object = "ignored", msg: str | None = None) -> None:
        super().__init__(Errno.EAGAIN, msg)


class InterruptedSystemCall(ZMQError, InterruptedError):
    """EINTR. fastzmq retries interrupted calls itself, so users should not see it."""

    errno = EINTR

    def __init__(self, errno: object = "ignored", msg: str | None = None) -> None:
        super().__init__(EINTR, msg)

    def __str__(self) -> str:
        return f"{self.strerror}: the call should have been retried (fastzmq bug, please report)"


class ZMQVersionError(NotImplementedError):
    """A feature needs a newer libzmq API level than the one fastzmq emulates."""

    def __init__(self, min_version: str, msg: str = "Feature") -> None:
        super().__init__(min_version, msg)
        self.msg = msg
        self.min_version = min_version
        self.version = zmq_version()

    def __repr__(self) -> str:
        return f"ZMQVersionError({str(self)!r})"

    def __str__(self) -> str:
        return f"{self.msg} requires libzmq >= {self.min_version}, have {self.version}"


class DraftFDWarning(RuntimeWarning):
    """Using the FD of a thread-safe (draft) socket type."""


_SUBCLASS_BY_ERRNO = {
    Errno.EAGAIN: Again,
    Errno.ETERM: ContextTerminated,
    EINTR: InterruptedSystemCall,
}


def _error_for(errnum: int, msg: str | None = None) -> ZMQError:
    """The exception pyzmq would raise for ``errnum``, not raised."""
    cls = _SUBCLASS_BY_ERRNO.get(errnum)
    if cls is None:
        return ZMQError(errnum, msg)
    return cls(errnum, msg)


def _raise_errno(errnum: int, msg: str | None = None) -> None:
    """Raise the exception pyzmq would raise for ``errnum`` (never returns)."""
    raise _error_for(errnum, msg)


def _check_version(min_version_info: tuple, msg: str = "Feature") -> None:
    """Raise ZMQVersionError if the emulated libzmq is older than ``min_version_info``."""
    if zmq_version_info() < tuple(min_version_info):
        raise ZMQVersionError(".".join(str(v) for v in min_version_info), msg)


__all__ = [
    "ZMQBaseError",
    "ZMQError",
    "ZMQBindError",
    "NotDone",
    "ContextTerminated",
    "Again",
    "InterruptedSystemCall",
    "ZMQVersionError",
    "DraftFDWarning",
    "strerror",
]

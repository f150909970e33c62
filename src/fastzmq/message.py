"""Frame (one message part, pyzmq's ``zmq.Frame``) and MessageTracker.

Theory of operation
-------------------
A Frame holds its content as a ``bytes`` (what ``recv`` produces, or the Frame's
own copy) or, for a zero-copy frame over a caller's buffer, as a flat
``memoryview`` of that buffer. ``Frame(data, copy=...)`` decides as pyzmq does:
``copy=None`` shares buffers of at least ``COPY_THRESHOLD`` bytes and copies the
rest. The buffer protocol (``memoryview(frame)``, ``frame.buffer``, numpy) and the
once-copied ``frame.bytes`` come from the C base class in ``_framebuf.pyx``, which
also says when the exported memory is writable (as pyzmq's: when it is the frame's
own).

Tracking (``track=True``) answers "may I modify my buffer again?". A frame that
copied has nothing to wait for and gets the shared, already-done
``_FINISHED_TRACKER``. A zero-copy tracked frame gets a :class:`_Holds` counter:
one hold for the Frame object itself (released by a ``weakref.finalize`` when the
Frame is collected) plus one per socket that keeps a reference to the buffer after
``send`` returns (``frame._acquire()`` ... ``frame._release()``, called by the
socket layer). The tracker's event is set when the last hold goes away, exactly
when libzmq would have freed the message under pyzmq. Untracked frames pay none
of this: ``_acquire``/``_release`` are no-ops for them.

The socket layer builds received frames with ``Frame._from_bytes`` (no argument
parsing) and may attach connection metadata (``Socket-Type``, ``Identity``,
``Peer-Address``, ``User-Id``; RFC 37 section "The Metadata") for ``frame.get``.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref

from fastzmq._framebuf import FrameBase, copy_bytes
from fastzmq._framebuf import received as _received
from fastzmq.constants import COPY_THRESHOLD, Errno, MessageOption
from fastzmq.error import NotDone, ZMQError

_GROUP_MAX_LENGTH = 255  # ZMQ_GROUP_MAX_LENGTH
_VSM_MAX = 33  # libzmq copies messages this short, so they are never "shared"
_FOREVER = None


def _copy_threshold() -> int:
    """pyzmq lets users change ``zmq.COPY_THRESHOLD`` at run time: honour that."""
    pkg = sys.modules.get("fastzmq")
    return COPY_THRESHOLD if pkg is None else vars(pkg).get("COPY_THRESHOLD", COPY_THRESHOLD)


def _flat_view(data: object) -> memoryview:
    """A one-dimensional unsigned-byte view of any C-contiguous buffer."""
    view = memoryview(data)
    if not view.c_contiguous:
        raise BufferError("a Frame needs a contiguous buffer")
    if view.ndim == 1 and view.format == "B":
        return view
    return view.cast("B")


class _Holds:
    """How many parties still use a zero-copy buffer; sets ``event`` at zero."""

    __slots__ = ("count", "event", "lock")

    def __init__(self) -> None:
        self.count = 1  # the Frame itself
        self.event = threading.Event()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            self.count += 1

    def release(self) -> None:
        with self.lock:
            self.count -= 1
            done = self.count == 0
        if done:
            self.event.set()


class MessageTracker:
    """Tracks whether fastzmq is done with one or more zero-copy messages.

    ``MessageTracker(*towatch)`` accepts ``threading.Event`` objects, other trackers
    and tracked Frames. ``done`` is true once all of them are.
    """

    __slots__ = ("events", "peers")

    def __init__(self, *towatch: object) -> None:
        self.events: set = set()
        self.peers: set = set()
        for obj in towatch:
            self._watch(obj)

    def _watch(self, obj: object) -> None:
        if isinstance(obj, threading.Event):
            self.events.add(obj)
        elif isinstance(obj, MessageTracker):
            self.peers.add(obj)
        elif isinstance(obj, Frame):
            if obj.tracker is None:
                raise ValueError("Not a tracked message")
            self.peers.add(obj.tracker)
        else:
            raise TypeError(f"Require Events or Message Frames, not {type(obj)}")

    @property
    def done(self) -> bool:
        """Is fastzmq completely done with the tracked message(s)?"""
        return all(e.is_set() for e in self.events) and all(p.done for p in self.peers)

    def wait(self, timeout: float | None = -1) -> None:
        """Block until done; raise NotDone if ``timeout`` seconds pass first.

        ``None``, ``False`` or a negative timeout wait forever (pyzmq's default is -1).
        """
        if timeout is None or timeout is False or timeout < 0:
            deadline = _FOREVER
        else:
            deadline = time.monotonic() + timeout
        self._wait_until(deadline)

    def _wait_until(self, deadline: float | None) -> None:
        for event in self.events:
            if not event.wait(_remaining(deadline)):
                raise NotDone
        for peer in self.peers:
            peer._wait_until(deadline)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} done={self.done}>"


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


_FINISHED_TRACKER = MessageTracker()


class Frame(FrameBase):
    """One message part: ``Frame(data=None, track=False, copy=None, copy_threshold=None)``.

    ``.bytes`` (the content), ``.buffer`` (a memoryview), ``len()``, ``bytes(frame)``,
    ``.more`` (more parts follow, set on received frames), ``.tracker`` (a
    MessageTracker if ``track``), ``get(MORE | SHARED | "routing_id" | "group" |
    metadata property)``, and the draft attributes ``.routing_id`` and ``.group``.
    Like pyzmq's, frames compare by identity: compare ``frame.bytes`` for content.
    """

    __slots__ = ()  # the state lives in FrameBase (C fields)

    def __init__(
        self,
        data: object = None,
        track: bool = False,
        copy: bool | None = None,
        copy_threshold: int | None = None,
        **kwargs: object,
    ) -> None:
        self.more = False
        self._routing_id = 0
        self._group = ""
        self._properties = None
        self._shared = False
        self._holds = None
        self.tracker_event = None
        self.tracker = _FINISHED_TRACKER if track else None
        if data is None:
            self._data = b""
            return
        if isinstance(data, str):
            raise TypeError("Str objects not allowed. Only: bytes, buffer interfaces.")
        if type(data) is bytes:
            if _wants_copy(copy, copy_threshold, len(data)):
                self._data = copy_bytes(data)  # our own: its buffer may be written
                self._owned = True
            else:  # shared, read-only: bytes cannot change
                self._data = data
                if track:
                    self._share()
            return
        view = _flat_view(data)
        if _wants_copy(copy, copy_threshold, view.nbytes):
            self._data = view.tobytes()
            self._owned = True
        else:
            self._data = view
            if track:
                self._share()

    def _share(self) -> None:
        """Track who still uses the caller's buffer this frame shares."""
        holds = _Holds()
        self._holds = holds
        self.tracker_event = holds.event
        self.tracker = MessageTracker(holds.event)
        weakref.finalize(self, holds.release)

    @classmethod
    def _from_bytes(cls, data: bytes, more: bool = False, properties: dict | None = None) -> Frame:
        """Fast constructor for received frames (no tracking, no argument checks)."""
        return _received(cls, data, more, properties)

    # -- used by the socket layer -------------------------------------------

    def _acquire(self) -> None:
        """A socket keeps this frame's buffer beyond ``send``: tracked frames count it."""
        if self._holds is not None:
            self._holds.acquire()

    def _release(self) -> None:
        """That socket is done with the buffer."""
        if self._holds is not None:
            self._holds.release()

    # -- content -------------------------------------------------------------

    def __len__(self) -> int:
        data = self._data
        return len(data) if type(data) is bytes else data.nbytes

    def __bytes__(self) -> bytes:
        return self.bytes

    def __copy__(self) -> Frame:
        return self.fast_copy()

    def fast_copy(self) -> Frame:
        """A new Frame over the same content (no copy), tracker and metadata."""
        new = Frame._from_bytes(self._data, False, self._properties)
        new._owned = self._owned
        new.tracker = self.tracker
        new.tracker_event = self.tracker_event
        new._routing_id = self._routing_id
        new._group = self._group
        if len(self) > _VSM_MAX:
            self._shared = new._shared = True
        return new

    # -- options and properties ----------------------------------------------

    def get(self, option: int | str | bytes) -> int | str:
        """``MORE``/``SHARED`` (ints), ``"routing_id"``, ``"group"``, or a metadata
        property such as ``"Socket-Type"`` or ``"User-Id"``; unknown: ZMQError(EINVAL)."""
        if isinstance(option, int):
            return self._get_int(option)
        if isinstance(option, bytes):
            option = option.decode("utf8")
        if not isinstance(option, str):
            raise TypeError(f"expected str, got: {option!r}")
        if option == "routing_id":
            if not self._routing_id:
                raise ZMQError(Errno.EINVAL)
            return self._routing_id
        if option == "group":
            return self._group
        return self._get_property(option)

    def _get_int(self, option: int) -> int:
        if option == MessageOption.MORE:
            return int(self.more)
        if option == MessageOption.SHARED:
            return int(self._shared)
        raise ZMQError(Errno.EINVAL)

    def _get_property(self, name: str) -> str:
        # As libzmq's zmq_msg_gets: the exact name (case matters), and "Identity" also
        # finds a peer's "Routing-Id" (the name's newer spelling).
        props = self._properties
        if props is not None:
            value = props.get(name)
            if value is None and name == "Identity":
                value = props.get("Routing-Id")
            if value is not None:
                return value
        raise ZMQError(Errno.EINVAL)

    def set(self, option: int | str, value: object) -> None:
        """Set ``"routing_id"`` (non-zero uint32) or ``"group"`` (<= 255 bytes)."""
        if option == "routing_id":
            self.routing_id = value
        elif option == "group":
            self.group = value
        else:
            raise ZMQError(Errno.EINVAL)  # libzmq has no settable int message option

    @property
    def routing_id(self) -> int:
        """The CLIENT/SERVER routing id (0: none)."""
        return self._routing_id

    @routing_id.setter
    def routing_id(self, value: int) -> None:
        if not isinstance(value, int) or not 0 < value < 2**32:
            raise ZMQError(Errno.EINVAL)
        self._routing_id = value

    @property
    def group(self) -> str:
        """The RADIO/DISH group ('' when none)."""
        return self._group

    @group.setter
    def group(self, value: str | bytes) -> None:
        text = value.decode("utf8") if isinstance(value, bytes) else value
        if not isinstance(text, str) or len(text.encode("utf8")) > _GROUP_MAX_LENGTH:
            raise ZMQError(Errno.EINVAL)
        self._group = text

    def __getitem__(self, key: int | str | bytes) -> int | str:
        return self.get(key)

    def __repr__(self) -> str:
        nbytes = len(self)
        if nbytes <= 16:
            return f"<fastzmq.Frame({self.bytes!r})>"
        head = bytes(memoryview(self._data)[:12])
        return f"<fastzmq.Frame({head!r}...{_human_size(nbytes)})>"


def _wants_copy(copy: bool | None, threshold: int | None, nbytes: int) -> bool:
    if copy is not None:
        return bool(copy)
    if threshold is None:
        threshold = _copy_threshold()
    return nbytes < threshold


def _human_size(nbytes: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if nbytes >= scale:
            return f"{nbytes // scale}{unit}"
    return f"{nbytes}B"


Message = Frame  # pyzmq's deprecated alias

__all__ = ["Frame", "Message", "MessageTracker"]

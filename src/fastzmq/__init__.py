"""fastzmq: ZeroMQ rebuilt for Python.

Not a binding to libzmq: fastzmq speaks ZMTP 3.x on the wire itself, so it talks
to any libzmq peer, and offers pyzmq's API, so ``import fastzmq as zmq`` works.
The public names and submodules are pyzmq's (``fastzmq.sugar``, ``fastzmq.devices``,
``fastzmq.utils.jsonapi``, ``fastzmq.log.handlers``, ``fastzmq.decorators``, ...).
"""

from fastzmq import (
    constants,
    sugar,  # noqa: F401  (pyzmq's zmq.sugar, imported by zmq's __init__)
)
from fastzmq._curve_keys import curve_keypair, curve_public
from fastzmq._proxy import device, proxy, proxy_steerable
from fastzmq._version import __revision__, __version__
from fastzmq.constants import *  # noqa: F403
from fastzmq.constants import (
    COPY_THRESHOLD,
    DRAFT_API,
    IPC_PATH_MAX_LEN,
    PYZMQ_DRAFT_API,
    has,
    pyzmq_version,
    pyzmq_version_info,
    zmq_version,
    zmq_version_info,
)
from fastzmq.context import Context, SyncContext
from fastzmq.error import (
    Again,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    strerror,
    zmq_errno,
)
from fastzmq.message import _FINISHED_TRACKER, Frame, Message, MessageTracker
from fastzmq.poll import Poller, select, zmq_poll
from fastzmq.socket import Socket, SyncSocket
from fastzmq.sugar.stopwatch import Stopwatch
from fastzmq.tuning import get_spin, set_spin


def get_includes() -> list[str]:
    """pyzmq's C headers for Cython extensions: fastzmq has none (no libzmq to link)."""
    return []


def get_library_dirs() -> list[str]:
    """pyzmq's bundled-libzmq directory: fastzmq has no C library to link."""
    return []


__all__ = [
    "Context",
    "SyncContext",
    "Socket",
    "SyncSocket",
    "Frame",
    "Message",
    "MessageTracker",
    "Poller",
    "select",
    "zmq_poll",
    "proxy",
    "proxy_steerable",
    "device",
    "ZMQBaseError",
    "ZMQError",
    "ZMQBindError",
    "ZMQVersionError",
    "Again",
    "ContextTerminated",
    "InterruptedSystemCall",
    "NotDone",
    "strerror",
    "zmq_errno",
    "has",
    "curve_keypair",
    "curve_public",
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
    "constants",
    "COPY_THRESHOLD",
    "DRAFT_API",
    "PYZMQ_DRAFT_API",
    "IPC_PATH_MAX_LEN",
    "_FINISHED_TRACKER",
    "__version__",
    "__revision__",
    "Stopwatch",
    "get_includes",
    "get_library_dirs",
    "get_spin",
    "set_spin",
]
__all__ += [name for name in constants.__all__ if name not in __all__]

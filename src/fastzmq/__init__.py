"""fastzmq: ZeroMQ rebuilt for Python.

Not a binding to libzmq: fastzmq speaks ZMTP 3.x on the wire itself, so it talks
to any libzmq peer, and offers pyzmq's API, so ``import fastzmq as zmq`` works.
"""

from fastzmq import constants
from fastzmq._curve_keys import curve_keypair, curve_public
from fastzmq._version import __version__
from fastzmq.constants import *  # noqa: F403
from fastzmq.constants import (
    COPY_THRESHOLD,
    has,
    pyzmq_version,
    pyzmq_version_info,
    zmq_version,
    zmq_version_info,
)
from fastzmq.context import Context
from fastzmq.devices import device, proxy
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
)
from fastzmq.message import _FINISHED_TRACKER, Frame, Message, MessageTracker
from fastzmq.poll import Poller, select
from fastzmq.socket import Socket
from fastzmq.tuning import get_spin, set_spin

__all__ = [
    "Context",
    "Socket",
    "Frame",
    "Message",
    "MessageTracker",
    "Poller",
    "select",
    "proxy",
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
    "has",
    "curve_keypair",
    "curve_public",
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
    "constants",
    "COPY_THRESHOLD",
    "_FINISHED_TRACKER",
    "__version__",
    "get_spin",
    "set_spin",
]
__all__ += constants.__all__

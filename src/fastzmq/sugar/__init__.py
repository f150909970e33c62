"""pyzmq's ``zmq.sugar`` layout: each submodule re-exports fastzmq's own objects.

``fastzmq.sugar.socket.Socket is fastzmq.Socket``, and so on: there is one
implementation (``fastzmq.socket``, ``fastzmq.context``, ...), these are the names
pyzmq code imports it by.
"""

from fastzmq import error
from fastzmq._proxy import device
from fastzmq.error import *  # noqa: F403
from fastzmq.sugar import context, frame, poll, socket, stopwatch, tracker, version  # noqa: F401
from fastzmq.sugar.context import *  # noqa: F403
from fastzmq.sugar.frame import *  # noqa: F403
from fastzmq.sugar.poll import *  # noqa: F403
from fastzmq.sugar.socket import *  # noqa: F403
from fastzmq.sugar.stopwatch import Stopwatch
from fastzmq.sugar.tracker import *  # noqa: F403
from fastzmq.sugar.version import *  # noqa: F403

__all__ = ["device", "Stopwatch"]
for _submod in (context, error, frame, poll, socket, tracker, version):
    __all__.extend(_submod.__all__)
del _submod

"""pyzmq's deprecated ``zmq.eventloop.ioloop``: tornado's IOLoop, which needs nothing
from fastzmq (a socket's FD is an ordinary file descriptor)."""

import warnings

from tornado.ioloop import IOLoop

warnings.warn(
    "zmq.eventloop.ioloop is deprecated in pyzmq 17:"
    " fastzmq works with tornado's and asyncio's default event loops.",
    DeprecationWarning,
    stacklevel=2,
)

ZMQIOLoop = IOLoop

__all__ = ["IOLoop", "ZMQIOLoop", "install"]


def install() -> None:
    """Deprecated: there is nothing to install."""
    warnings.warn(
        "zmq.eventloop.ioloop.install is deprecated in pyzmq 17", DeprecationWarning, stacklevel=2
    )

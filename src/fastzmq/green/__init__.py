"""fastzmq.green: gevent-cooperative fastzmq, as ``zmq.green`` is for pyzmq.

``import fastzmq.green as zmq`` gives every name of ``fastzmq`` with ``Context``,
``Socket``, ``Poller`` and ``select`` replaced by versions whose blocking calls yield
to the gevent hub instead of blocking the thread. Importing this package needs
gevent; importing ``fastzmq`` does not.
"""

from __future__ import annotations

from fastzmq import *  # noqa: F403
from fastzmq import __all__ as _all  # re-exported: every name of fastzmq
from fastzmq.green.core import Context, Socket
from fastzmq.green.poll import Poller, select

__all__ = [*_all, "Context", "Socket", "Poller", "select"]  # the green ones

"""fastzmq.green: gevent-cooperative fastzmq, as ``zmq.green`` is for pyzmq.

``import fastzmq.green as zmq`` gives every name of ``fastzmq`` with ``Context``,
``Socket``, ``Poller`` and ``select`` replaced by versions whose blocking calls yield
to the gevent hub instead of blocking the thread. Importing this package needs
gevent; importing ``fastzmq`` does not.
"""

from __future__ import annotations

from fastzmq import *  # noqa: F403
from fastzmq import __all__ as _all  # re-exported: every name of fastzmq
from fastzmq.green.core import Context, Socket  # noqa: F401  (in __all__ via fastzmq)
from fastzmq.green.device import device, proxy  # noqa: F401
from fastzmq.green.poll import Poller, select  # noqa: F401

__all__ = [*_all]  # every name of fastzmq; Context, Socket, Poller, select, device, proxy green

"""``zmq.sugar.context``: fastzmq's Context."""

from fastzmq.context import Context, SyncContext

__all__ = ["Context", "SyncContext"]

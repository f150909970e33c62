"""``zmq.sugar.tracker``: fastzmq's MessageTracker."""

from fastzmq.message import _FINISHED_TRACKER, MessageTracker

__all__ = ["MessageTracker", "_FINISHED_TRACKER"]

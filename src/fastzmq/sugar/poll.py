"""``zmq.sugar.poll``: fastzmq's Poller and select."""

from fastzmq.poll import Poller, select

__all__ = ["Poller", "select"]

"""``zmq.sugar.frame``: fastzmq's Frame."""

from fastzmq.message import Frame, Message

__all__ = ["Frame", "Message"]

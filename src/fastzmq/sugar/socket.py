"""``zmq.sugar.socket``: fastzmq's Socket."""

from fastzmq.socket import Socket, SyncSocket

__all__ = ["Socket", "SyncSocket"]

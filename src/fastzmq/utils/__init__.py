"""Small helpers shared by fastzmq's layers (pyzmq's ``zmq.utils`` names)."""

from __future__ import annotations

from fastzmq.utils import z85

__all__ = ["z85"]

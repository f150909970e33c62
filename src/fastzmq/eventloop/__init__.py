"""Tornado integration (pyzmq's ``zmq.eventloop``): ``ZMQStream`` over tornado's IOLoop.

tornado is an optional dependency: importing this package without it raises the
ImportError that names it.
"""

from tornado.ioloop import IOLoop

__all__ = ["IOLoop"]

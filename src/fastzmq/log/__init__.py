"""Logging over ZeroMQ (pyzmq's ``zmq.log``): see ``fastzmq.log.handlers``."""

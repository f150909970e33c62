"""fastzmq: ZeroMQ rebuilt for Python."""

from fastzmq._version import __version__

__all__ = ["__version__"]

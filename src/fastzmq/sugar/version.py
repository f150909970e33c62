"""``zmq.sugar.version``: the versions fastzmq reports (pyzmq API level, libzmq API level)."""

from fastzmq._version import __revision__, __version__
from fastzmq.constants import pyzmq_version, pyzmq_version_info, zmq_version, zmq_version_info

__all__ = [
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
    "__version__",
    "__revision__",
]
VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH = pyzmq_version_info()[:3]
VERSION_EXTRA = ""  # a release: no ".devN" part, so pyzmq_version_info() has 3 fields

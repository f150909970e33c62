"""The ZAP handler on tornado's IOLoop (pyzmq's ``zmq.auth.ioloop``, deprecated there).

tornado runs on asyncio, so :class:`IOLoopAuthenticator` is the asyncio authenticator;
``io_loop=`` (deprecated) picks the loop under that IOLoop.
"""

from __future__ import annotations

import warnings
from typing import Any

import fastzmq
from fastzmq.auth.asyncio import AsyncioAuthenticator

__all__ = ["IOLoopAuthenticator"]

warnings.warn(
    "zmq.auth.ioloop.IOLoopAuthenticator is deprecated: use zmq.auth.asyncio.AsyncioAuthenticator",
    DeprecationWarning,
    stacklevel=2,
)


class IOLoopAuthenticator(AsyncioAuthenticator):
    """ZAP authentication on tornado's IOLoop (i.e. on its asyncio loop)."""

    def __init__(
        self,
        context: fastzmq.Context | None = None,
        encoding: str = "utf-8",
        log: Any = None,
        io_loop: Any = None,
    ) -> None:
        loop = None
        if io_loop is not None:
            warnings.warn(
                f"{type(self).__name__}(io_loop) is deprecated: start() uses the running loop",
                DeprecationWarning,
                stacklevel=2,
            )
            loop = io_loop.asyncio_loop
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # warned above already
            super().__init__(context=context, loop=loop, encoding=encoding, log=log)

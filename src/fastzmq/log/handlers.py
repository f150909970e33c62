"""``PUBHandler``: a logging handler that publishes records on a PUB socket.

Each record goes out as two frames, ``[topic, message]``. The topic is
``root_topic.LEVELNAME[.subtopic]``, where the subtopic is whatever precedes
``TOPIC_DELIM`` ("::") in the log message (``log.info("db.query::slow")``); a SUB
side subscribes by prefix. ``TopicLogger`` takes the subtopic as a separate first
argument of every log method. (pyzmq's ``zmq.log.handlers`` API.)
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from fastzmq import constants as _c

__all__ = ["PUBHandler", "TopicLogger", "TOPIC_DELIM"]

TOPIC_DELIM = "::"

_LOCATED = "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"


def _default_formatters() -> dict[int, logging.Formatter | None]:
    return {
        logging.DEBUG: logging.Formatter(_LOCATED),
        logging.INFO: logging.Formatter("%(message)s\n"),
        logging.WARNING: logging.Formatter(_LOCATED),
        logging.ERROR: logging.Formatter(
            "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n"
        ),
        logging.CRITICAL: logging.Formatter(_LOCATED),
    }


class PUBHandler(logging.Handler):
    """Publish log records on a PUB socket: give the socket, or an address to bind one to."""

    def __init__(self, interface_or_socket: Any, context: Any = None, root_topic: str = "") -> None:
        from fastzmq.context import Context
        from fastzmq.socket import Socket

        super().__init__()
        self.root_topic = root_topic
        self.formatters = _default_formatters()
        if isinstance(interface_or_socket, Socket):
            self.socket = interface_or_socket
            self.ctx = interface_or_socket.context
        else:
            self.ctx = context or Context()
            self.socket = self.ctx.socket(_c.PUB)
            self.socket.bind(interface_or_socket)

    @property
    def root_topic(self) -> str:
        return self._root_topic

    @root_topic.setter
    def root_topic(self, value: str | bytes) -> None:
        self.setRootTopic(value)

    def setRootTopic(self, root_topic: str | bytes) -> None:
        """The first part of every topic this handler publishes ('' for none)."""
        if isinstance(root_topic, bytes):
            root_topic = root_topic.decode("utf8")
        self._root_topic = root_topic

    def setFormatter(self, fmt: logging.Formatter | None, level: int = logging.NOTSET) -> None:
        """Use ``fmt`` for records of ``level``, or for every level when NOTSET."""
        if level == logging.NOTSET:
            for known in self.formatters:
                self.formatters[known] = fmt
        else:
            self.formatters[level] = fmt

    def format(self, record: logging.LogRecord) -> str:
        fmt = self.formatters.get(record.levelno) or logging.Formatter()
        return fmt.format(record)

    def emit(self, record: logging.LogRecord) -> None:
        """Send ``[topic, formatted message]`` on the socket."""
        head, sep, rest = str(record.msg).partition(TOPIC_DELIM)
        subtopic = ""
        if sep:
            subtopic = head
            record = copy.copy(record)  # the caller's record stays as it was
            record.msg = rest
        try:
            body = self.format(record).encode("utf8")
        except Exception:
            self.handleError(record)
            return
        parts = [self.root_topic] if self.root_topic else []
        parts.append(record.levelname)
        if subtopic:
            parts.append(subtopic)
        self.socket.send_multipart([".".join(parts).encode("utf8", "replace"), body])


class TopicLogger(logging.Logger):
    """A Logger whose methods take ``(topic, msg, *args)``: ``log.debug("db", "slow %s", q)``."""

    def log(self, level: int, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if self.isEnabledFor(level):
            kwargs.setdefault("stacklevel", 2)
            logging.Logger._log(self, level, f"{topic}{TOPIC_DELIM}{msg}", args, **kwargs)


def _topic_method(level: int, exc_info: bool = False) -> Any:
    def method(self: TopicLogger, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:
        if exc_info:
            kwargs.setdefault("exc_info", True)
        if self.isEnabledFor(level):
            kwargs.setdefault("stacklevel", 2)
            logging.Logger._log(self, level, f"{topic}{TOPIC_DELIM}{msg}", args, **kwargs)

    return method


TopicLogger.debug = _topic_method(logging.DEBUG)  # type: ignore[method-assign]
TopicLogger.info = _topic_method(logging.INFO)  # type: ignore[method-assign]
TopicLogger.warning = TopicLogger.warn = _topic_method(logging.WARNING)  # type: ignore[method-assign,assignment]
TopicLogger.error = _topic_method(logging.ERROR)  # type: ignore[method-assign]
TopicLogger.exception = _topic_method(logging.ERROR, exc_info=True)  # type: ignore[method-assign]
TopicLogger.critical = TopicLogger.fatal = _topic_method(logging.CRITICAL)  # type: ignore[method-assign,assignment]

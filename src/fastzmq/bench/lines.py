"""Newline-delimited JSON messages over pipes, read with a timeout.

The parent and its worker processes talk over the workers' stdin/stdout: one
JSON object per line, each stdout line prefixed with ``PREFIX`` so that stray
prints are ignored. Reads never block past their deadline (select + os.read).
"""

from __future__ import annotations

import json
import os
import select
import time

PREFIX = "@fzbench "


class LineReader:
    """Buffered line reader over a file descriptor, with per-call timeouts."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""
        self.eof = False

    def has_line(self) -> bool:
        return b"\n" in self.buf

    def fill(self) -> None:
        """Read what is available now (call only when select says readable)."""
        chunk = os.read(self.fd, 65536)
        if chunk:
            self.buf += chunk
        else:
            self.eof = True

    def pop_line(self) -> str | None:
        if b"\n" not in self.buf:
            return None
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace")

    def readline(self, timeout: float) -> str | None:
        """The next line, or None on timeout or end of file."""
        deadline = time.monotonic() + timeout
        while not self.has_line():
            left = max(0.0, deadline - time.monotonic())
            if self.eof:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                self.fill()
            elif left <= 0:
                return None
        return self.pop_line()


def encode(event: str, **fields: object) -> bytes:
    """One protocol line: PREFIX + JSON object with an "event" key."""
    fields["event"] = event
    return (PREFIX + json.dumps(fields) + "\n").encode()


def decode(line: str) -> dict | None:
    """The message of a protocol line, or None for anything else."""
    if not line.startswith(PREFIX):
        return None
    try:
        return json.loads(line[len(PREFIX) :])
    except ValueError:
        return None

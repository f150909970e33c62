"""A benchmark worker process: ``python -m fastzmq.bench._child IMPL``.

Imports the implementation module IMPL (``fastzmq`` or ``zmq``) first, so that
start-up overlaps with the other workers', then reads its role's spec from
stdin (one protocol line, see ``lines.py``), runs the role and writes events and
the final "result" to stdout. stdin stays open as the parent's side channel
("go", "stop"). Never imports pyzmq unless asked to by name.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

from fastzmq.bench.lines import LineReader, decode, encode
from fastzmq.bench.notyet import classify
from fastzmq.bench.roles import run_role


class PipeChannel:
    """The worker's side of the parent link: stdout for events, stdin for words."""

    def __init__(self) -> None:
        self.reader = LineReader(sys.stdin.fileno())
        self.out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)

    def emit(self, event: str, **fields: object) -> None:
        self.out.write(encode(event, **fields))

    def next_message(self, timeout: float) -> dict | None:
        line = self.reader.readline(timeout)
        while line is not None:
            msg = decode(line)
            if msg is not None:
                return msg
            line = self.reader.readline(timeout)
        return None

    def wait(self, word: str, timeout: float) -> bool:
        msg = self.next_message(timeout)
        return msg is not None and msg.get("event") == word

    def poll(self, word: str) -> bool:
        return self.wait(word, 0.0)


def main(argv: list) -> int:
    chan = PipeChannel()
    try:
        z = importlib.import_module(argv[1])
    except Exception as exc:  # noqa: BLE001 - an import failure is a "not yet"
        chan.emit("result", **classify(exc))
        return 0
    chan.emit("up")
    spec = chan.next_message(timeout=60.0)
    if spec is None:
        chan.emit("result", status="error", detail="no spec from parent")
        return 1
    result = run_role(z, spec, chan)
    chan.emit("result", **json.loads(json.dumps(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

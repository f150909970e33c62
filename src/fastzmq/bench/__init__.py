"""fastzmq's benchmark against pyzmq: ``python -m fastzmq.bench`` (see bench/README.md).

Modules: ``workloads`` (what runs), ``roles`` (the socket code of each side),
``procs`` (worker processes and their wiring), ``runner`` (alternation,
repetition, calibration), ``stats`` and ``report`` (the table), ``envinfo``
(--json), ``plot`` (--plot). pyzmq is imported only by name, lazily, in workers
asked to run it.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv=None) -> int:
    from fastzmq.bench.__main__ import main as _main

    return _main(argv)

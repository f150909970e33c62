"""Write the benchmark table into a README between two marker lines."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from typing import List

START = "<!-- bench:start (written by python -m fastzmq.bench --readme README.md) -->"
END = "<!-- bench:end -->"


def machine() -> str:
    """One line: CPU count, memory, OS, Python, pyzmq/libzmq versions."""
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    libs = ""
    try:
        import zmq  # only to name the version we compared against

        libs = f", pyzmq {zmq.__version__} / libzmq {zmq.zmq_version()}"
    except ImportError:
        pass
    return (
        f"{os.cpu_count()} CPUs{mem}, {platform.system()} {platform.machine()}, "
        f"CPython {platform.python_version()}{libs}"
    )


def section(lines: List[str], argv: List[str], plot: str | None) -> str:
    today = datetime.date.today().isoformat()
    cmd = "python -m fastzmq.bench " + " ".join(argv)
    parts = [
        START,
        f"Run on {today}, {machine()}, with `{cmd.strip()}`.",
        "",
        "```",
        *lines,
        "```",
    ]
    if plot:
        parts += ["", f"![throughput against message size]({plot})"]
    parts.append(END)
    return "\n".join(parts)


def update(path: str, lines: List[str], argv: List[str], plot: str | None) -> None:
    """Replace the marked section of path (or append one) with the new table."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new = section(lines, argv, plot)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + new + tail
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"table written into {path}", file=sys.stderr)

"""Import time and memory of fastzmq against pyzmq (issue 20, item 7).

    python tools/import_cost.py [--runs 21] [--python PATH]

For each of ``fastzmq`` and ``zmq`` (pyzmq), in fresh interpreters run alternately:
the CPU time (user + sys) and wall time of ``python -c "import X"`` minus those of
``python -c "pass"`` (medians), the modules the import adds, and the resident set size
(VmRSS) after ``import X; X.Context()``. CPU time is the steadier number on a shared
machine; ``python -X importtime -c "import X"`` gives the per-module breakdown.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

PROBE = """
import sys
before = set(sys.modules)
import {mod}
added = set(sys.modules) - before
ctx = {mod}.Context()
with open("/proc/self/status") as f:
    rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
ctx.term()
print(len(added), rss)
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """(cpu seconds, wall seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    py = args.python
    env_note = os.environ.get("PYTHONPATH", "")
    mods = ("fastzmq", "zmq")
    samples: dict[str, list[tuple[float, float]]] = {m: [] for m in ("pass", *mods)}
    for _ in range(args.runs):  # alternate, so that load changes hit all three alike
        samples["pass"].append(timed([py, "-c", "pass"]))
        for m in mods:
            samples[m].append(timed([py, "-c", f"import {m}"]))
    base_cpu = statistics.median(c for c, _ in samples["pass"])
    base_wall = statistics.median(w for _, w in samples["pass"])
    print(f"{py} ({sys.version.split()[0]} here), {args.runs} runs each, PYTHONPATH={env_note!r}")
    print("module    import cpu ms  import wall ms  modules added  RSS after Context() MiB")
    for m in mods:
        cpu = statistics.median(c for c, _ in samples[m]) - base_cpu
        wall = statistics.median(w for _, w in samples[m]) - base_wall
        out = subprocess.run(
            [py, "-c", PROBE.format(mod=m)], check=True, capture_output=True, text=True
        ).stdout.split()
        print(f"{m:8} {cpu * 1e3:13.1f} {wall * 1e3:15.1f} {out[0]:>14} {int(out[1]) / 1024:23.1f}")


if __name__ == "__main__":
    main()

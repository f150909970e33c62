"""Import time and memory of fastzmq against pyzmq (issue 20, item 7).

    python tools/import_cost.py [--runs 21] [--python PATH]

For ``fastzmq`` and ``zmq`` (pyzmq), in fresh interpreters of PATH: the CPU time (user +
sys) of ``python -c "import X"`` minus that of ``python -c "pass"`` (medians, run
alternately), the modules the import adds, and the resident set size after
``import X; X.Context()``. The benchmark records the same (5 runs) in its --json
environment (``fastzmq.bench.envinfo.import_cost``). CPU time is the steadier number on
a shared machine; ``python -X importtime -c "import X"`` gives the per-module breakdown.
"""

from __future__ import annotations

import argparse
import sys

from fastzmq.bench.envinfo import import_cost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    print(f"{args.python}, {args.runs} runs each")
    print("module    import cpu ms  modules added  RSS after Context() MiB")
    for mod in ("fastzmq", "zmq"):
        c = import_cost(mod, args.runs, args.python)
        if c is None:
            print(f"{mod:8} does not import")
            continue
        rss = c["rss_after_context_kib"] / 1024
        print(f"{mod:8} {c['import_cpu_ms']:13.1f} {c['modules_added']:14} {rss:23.1f}")


if __name__ == "__main__":
    main()

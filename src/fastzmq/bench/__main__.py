"""Command line: ``python -m fastzmq.bench [--quick] [--only W] [--json F] [--plot F.png]``."""

from __future__ import annotations

import argparse
import re
import sys
from typing import List, Tuple

from fastzmq.bench import workloads as wls
from fastzmq.bench.envinfo import PYZMQ_HINT, has_module, write_json
from fastzmq.bench.runner import Impl, Settings, run_all

LABELS = {"fastzmq": "fastzmq", "zmq": "pyzmq"}
QUICK = Settings(target_s=0.1, repeat=3)
DEFAULT = Settings(target_s=0.6, repeat=5)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fastzmq.bench",
        description="fastzmq against pyzmq: each workload alternated and repeated, "
        "medians and ratios in one table (method: bench/README.md).",
    )
    p.add_argument("--quick", action="store_true", help="short runs, 3 repetitions (< 1 min)")
    p.add_argument("--repeat", type=int, metavar="N", help="runs per implementation and cell")
    p.add_argument("--seconds", type=float, metavar="S", help="target duration of one run")
    p.add_argument("--only", metavar="WORKLOAD", help="substring or comma list of workloads")
    p.add_argument("--json", metavar="FILE", help="write every sample and the environment")
    p.add_argument("--plot", metavar="FILE.png", help="throughput vs size (needs matplotlib)")
    p.add_argument("--readme", metavar="FILE", help="write the table (and plot) into FILE")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument(
        "--impls",
        default="fastzmq,zmq",
        metavar="A,B",
        help="implementation modules, first is compared to second "
        "(development: zmq,zmq runs pyzmq against itself; fastzmq+hb,fastzmq "
        "measures heartbeats' cost, IVL 100 ms, or +hbIVL)",
    )
    return p


def parse_args(argv: List[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be positive")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    base = QUICK if args.quick else DEFAULT
    return Settings(
        target_s=args.seconds if args.seconds is not None else base.target_s,
        repeat=args.repeat if args.repeat is not None else base.repeat,
    )


HB_TIMEOUT_MS = 10_000  # +hb variants: TIMEOUT and TTL, with room for a full queue


def heartbeat_variant(item: str) -> Tuple[str, str, str]:
    """``fastzmq+hb`` (IVL 100 ms) or ``fastzmq+hb50``: (module, label suffix, hb spec)."""
    module, plus, variant = item.partition("+")
    if not plus:
        return module, "", ""
    m = re.fullmatch(r"hb(\d*)", variant)
    if m is None or m.group(1) in ("0",):
        raise ValueError(f"unknown variant {item!r}: MODULE+hb or MODULE+hbIVL (ms)")
    ivl = int(m.group(1) or 100)
    return module, "+" + variant, f"{ivl},{HB_TIMEOUT_MS},{HB_TIMEOUT_MS}"


def impls_from(spec: str) -> List[Impl]:
    """Impl per comma item; labels from LABELS, repeated modules numbered (zmq,zmq).

    ``MODULE+hb[IVL]`` is MODULE with heartbeats on every socket (IVL ms, default 100):
    ``--impls fastzmq+hb,fastzmq`` measures what heartbeats cost, alternated in one run.
    """
    impls: List[Impl] = []
    for item in [m.strip() for m in spec.split(",") if m.strip()]:
        module, suffix, hb = heartbeat_variant(item)
        label = LABELS.get(module, module) + suffix
        taken = {i.label for i in impls}
        n = 2
        base = label
        while label in taken:
            label, n = f"{base}#{n}", n + 1
        impls.append(Impl(label, module, hb))
    return impls


def available(impls: List[Impl], err=None) -> List[Impl]:
    """Drop pyzmq when it is not installed, saying how to install it."""
    err = err or sys.stderr
    if any(i.module == "zmq" for i in impls) and not has_module("zmq"):
        print(PYZMQ_HINT + "; running fastzmq alone.", file=err)
        return [i for i in impls if i.module != "zmq"]
    return impls


def list_workloads(quick: bool = False) -> None:
    for wl in wls.standard(quick):
        sizes = ", ".join(wls.size_label(wl, s) for s in wl.sizes)
        print(f"{wl.name:<20} {wl.kind:<10} {wl.title}  [{sizes}]")


def finish(args, chosen, impls, settings, samples) -> int:
    from fastzmq.bench.report import table

    labels = [i.label for i in impls]
    lines = list(table(chosen, samples, labels, settings.repeat))
    print("\n".join(lines))
    if args.json:
        write_json(args.json, impls, settings, samples, [w.name for w in chosen])
        print(f"samples written to {args.json}", file=sys.stderr)
    rc = write_plot(args.plot, chosen, samples, labels) if args.plot else 0
    if args.readme:
        from fastzmq.bench.readme import update

        argv = [a for a in sys.argv[1:]] if args.argv is None else args.argv
        plot = args.plot if args.plot and rc == 0 else None
        update(args.readme, lines, argv, plot)
    return rc


def write_plot(path, chosen, samples, labels) -> int:
    from fastzmq.bench.plot import plot

    try:
        plot(path, chosen, samples, labels)
    except (ImportError, ValueError) as exc:
        print(f"no plot: {exc}", file=sys.stderr)
        return 1
    print(f"plot written to {path}", file=sys.stderr)
    return 0


def main(argv: List[str] | None = None) -> int:
    args = parse_args(argv)
    args.argv = argv
    if args.list:
        list_workloads(args.quick)
        return 0
    every = wls.standard(args.quick)
    try:
        chosen = wls.select(every, args.only) if args.only else every
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        impls = available(impls_from(args.impls))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not impls:
        print("no implementation to run", file=sys.stderr)
        return 2
    settings = settings_from(args)
    try:
        samples = run_all(chosen, impls, settings)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return finish(args, chosen, impls, settings, samples)


if __name__ == "__main__":
    sys.exit(main())

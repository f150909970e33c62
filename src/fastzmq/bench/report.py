"""The result table: one row per (workload, size), one column block per implementation.

Throughput rows show msgs/s and MB/s (medians over the runs), latency rows the
median of the per-run medians and p99s in microseconds, rate rows (subscribe,
cancel, match) operations/s and ns per operation (from the median rate). The
ratio says how much better the first implementation is: A/B for throughput and
rates, B/A for latency, so >1 always means the first (fastzmq) is better.
Spread is (max-min)/median of the per-run figures. A cell with any failed run
(calibration included) shows the failure instead of a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

from fastzmq.bench.runner import NOT_RUN, Sample, failure_label
from fastzmq.bench.stats import median, spread_pct
from fastzmq.bench.workloads import SUBS, SUBS_QUICK, Workload, size_label

NAME_W, SIZE_W, NUM_W = 20, 7, 9
ABBREV = {"fastzmq": "fz", "pyzmq": "pz"}
BLOCK_W = 2 * NUM_W + 1


@dataclass
class Cell:
    """One implementation's summary for one (workload, size)."""

    failure: str | None = None
    runs: int = 0
    value: float = 0.0  # median msgs/s, or median latency in us
    second: float = 0.0  # MB/s, or median p99 in us
    spread: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None and self.runs > 0


def summarize(samples: List[Sample], kind: str, size: int) -> Cell:
    """The cell for one implementation's samples of one (workload, size)."""
    failed = [s for s in samples if not s.ok]
    if failed:
        label = failure_label(failed[0])
        if len(failed) > 1 and failed[0].status not in NOT_RUN:
            label += f" x{len(failed)}"
        return Cell(failure=label)
    runs = [s for s in samples if s.rep >= 0]
    if not runs:
        return Cell(failure="-")
    if kind == "latency":
        meds = [s.median_us for s in runs]
        return Cell(
            None, len(runs), median(meds), median([s.p99_us for s in runs]), spread_pct(meds)
        )
    rates = [s.rate for s in runs]
    rate = median(rates)
    second = 1e9 / rate if kind == "rate" else rate * size / 1e6
    return Cell(None, len(runs), rate, second, spread_pct(rates))


def ratio(kind: str, first: Cell, second: Cell) -> float | None:
    """>1 means the first implementation is better."""
    if not (first.ok and second.ok) or not first.value or not second.value:
        return None
    if kind == "latency":
        return second.value / first.value
    return first.value / second.value


def fmt_rate(x: float) -> str:
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e3:
        return "%.1fk" % (x / 1e3)
    return f"{x:.0f}"


def fmt_num(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_block(kind: str, cell: Cell) -> str:
    if not cell.ok:
        return (cell.failure or "-").rjust(BLOCK_W)
    if kind == "latency":
        return f"{cell.value:{NUM_W}.1f} {cell.second:{NUM_W}.1f}"
    return f"{fmt_rate(cell.value):>{NUM_W}} {fmt_num(cell.second):>{NUM_W}}"


def fmt_spread(cells: List[Cell]) -> str:
    return "/".join(f"{c.spread:.0f}%" if c.ok else "-" for c in cells)


def row(wl: Workload, size: int, cells: List[Cell]) -> str:
    blocks = "  ".join(fmt_block(wl.kind, c) for c in cells)
    r = ratio(wl.kind, cells[0], cells[1]) if len(cells) > 1 else None
    r_text = f"{r:.2f}x" if r is not None else "-"
    return line(wl.name, size_label(wl, size), blocks, r_text, fmt_spread(cells))


def line(name: str, size: str, blocks: str, ratio_text: str, spread: str) -> str:
    """One table line: the column layout in one place."""
    return f"{name:<{NAME_W}} {size:>{SIZE_W}}  {blocks}  {ratio_text:>7}  {spread}"


def abbrev(label: str) -> str:
    """fz, pz; other labels by their first two letters (and a +variant, a #n suffix)."""
    base, _, n = label.partition("#")
    name, plus, variant = base.partition("+")
    return ABBREV.get(name, name[:2]) + plus + variant + n


def sub_header(kind: str, n: int, labels: List[str]) -> str:
    if kind == "latency":
        units = f"{'med us':>{NUM_W}} {'p99 us':>{NUM_W}}"
        r = f"{abbrev(labels[-1])}/{abbrev(labels[0])}" if n > 1 else ""
    elif kind == "rate":
        units = f"{'ops/s':>{NUM_W}} {'ns/op':>{NUM_W}}"
        r = f"{abbrev(labels[0])}/{abbrev(labels[-1])}" if n > 1 else ""
    else:
        units = f"{'msg/s':>{NUM_W}} {'MB/s':>{NUM_W}}"
        r = f"{abbrev(labels[0])}/{abbrev(labels[-1])}" if n > 1 else ""
    blocks = "  ".join([units] * n)
    return line("", "", blocks, r, "").rstrip()


def header(labels: List[str], repeat: int) -> List[str]:
    first = labels[0]
    title = f"{' vs '.join(labels)}, median of {repeat} alternated runs each"
    names = "  ".join(label.center(BLOCK_W) for label in labels)
    top = line("workload", "size", names, "ratio", "spread " + "/".join(map(abbrev, labels)))
    legend = f"ratio > 1 means {first} is better (throughput: msg/s ratio; latency: median ratio)"
    return [title, legend, "", top]


def table(
    workloads: List[Workload], samples: List[Sample], labels: List[str], repeat: int
) -> List[str]:
    """The whole table as lines (no trailing newlines)."""
    groups: Dict[tuple, List[Sample]] = {}
    for s in samples:
        groups.setdefault((s.workload, s.size, s.impl), []).append(s)
    lines = header(labels, repeat)
    kind = None
    for wl in workloads:
        for size in wl.sizes:
            if wl.kind != kind:
                kind = wl.kind
                lines.append(sub_header(kind, len(labels), labels))
            cells = [summarize(groups.get((wl.name, size, lb), []), wl.kind, size) for lb in labels]
            lines.append(row(wl, size, cells).rstrip())
    lines.append("")
    lines.append(
        "spread = (max - min) / median over the runs; HWM: 10000 msgs capped at 64 MiB "
        "queued (PUB/SUB: 0)"
    )
    if any(wl.unit == "subs" for wl in workloads):
        lines.append(SUBS_NOTE)
    lines.extend(peer_notes(workloads, groups, labels))
    lines.extend(epgm_notes(workloads, groups, labels))
    return lines


def epgm_notes(workloads: List[Workload], groups: Dict[tuple, List[Sample]], labels) -> List[str]:
    from fastzmq.bench.epgm import notes

    return notes(workloads, groups, labels)


def peer_notes(workloads: List[Workload], groups: Dict[tuple, List[Sample]], labels) -> List[str]:
    """scale-*: the ROUTER's fds and RSS per connected peer (medians over the runs)."""
    out = []
    for wl in workloads:
        if wl.unit != "peers":
            continue
        for size in wl.sizes:
            parts = []
            for lb in labels:
                runs = [s for s in groups.get((wl.name, size, lb), []) if s.ok and s.rep >= 0]
                fds = [s.extra["fds_per_peer"] for s in runs if "fds_per_peer" in s.extra]
                rss = [s.extra["rss_kib_per_peer"] for s in runs if "rss_kib_per_peer" in s.extra]
                if fds and rss:
                    parts.append(
                        f"{abbrev(lb)} {median(fds):.2f} fds, {median(rss):.1f} KiB RSS per peer"
                    )
                else:
                    parts.append(f"{abbrev(lb)} -")
            out.append(f"{wl.name} {size_label(wl, size)}: " + "; ".join(parts))
    return out


SUBS_NOTE = (
    f"subs-*: size = subscriptions ({SUBS // 1000}k, --quick {SUBS_QUICK // 1000}k), HWM 0; "
    "match: 20 B, half on unsubscribed topics"
)

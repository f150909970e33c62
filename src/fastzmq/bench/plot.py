"""--plot: throughput against message size, one panel per transport (matplotlib, lazily)."""

from __future__ import annotations

from typing import List

from fastzmq.bench.runner import Sample
from fastzmq.bench.workloads import Workload

MATPLOTLIB_HINT = "--plot needs matplotlib: `pip install matplotlib` (or `pip install .[bench]`)"


def series(workloads: List[Workload], samples: List[Sample], labels: List[str]) -> dict:
    """{transport: {(workload, impl): [(size, median MB/s, min, max)]}} from clean cells only."""
    from fastzmq.bench.report import summarize

    out: dict = {}
    for wl in workloads:
        if wl.kind != "throughput" or len(wl.sizes) < 2:
            continue
        for label in labels:
            points = []
            for size in wl.sizes:
                mine = [
                    s for s in samples if (s.workload, s.size, s.impl) == (wl.name, size, label)
                ]
                cell = summarize(mine, wl.kind, size)
                if cell.ok:
                    rates = [s.rate * size / 1e6 for s in mine if s.rep >= 0]
                    points.append((size, cell.second, min(rates), max(rates)))
            if points:
                out.setdefault(wl.transport, {})[(wl.pattern, label)] = points
    return out


def plot(path: str, workloads: List[Workload], samples: List[Sample], labels: List[str]) -> None:
    """Write the figure; raises ImportError (with MATPLOTLIB_HINT) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(MATPLOTLIB_HINT) from exc
    data = series(workloads, samples, labels)
    if not data:
        raise ValueError("nothing to plot: no throughput workload with several sizes succeeded")
    fig, axes = plt.subplots(1, len(data), figsize=(5 * len(data), 4), squeeze=False)
    for ax, (transport, lines) in zip(axes[0], sorted(data.items())):
        for (pattern, label), points in sorted(lines.items()):
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            err = [[y - p[2] for y, p in zip(ys, points)], [p[3] - y for y, p in zip(ys, points)]]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"{label} {pattern}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(transport)
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel("MB/s (median, min-max bars)")
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

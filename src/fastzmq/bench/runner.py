"""Alternation and repetition: every cell (workload, size) runs each implementation
in turn (A, B, A, B, ...) after one discarded calibration run that sizes the
message count for the target duration.

A run is one call of ``run_fn(workload, module, size, count, opts)`` returning a
result dict (``procs.run_once`` by default; tests pass fakes). An implementation
that reports "not yet" in a cell is not run again in that cell.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, TextIO

from fastzmq.bench.workloads import Workload, count_for, hwm_for, msg_bytes, size_label

RunFn = Callable[[Workload, str, int, int, dict], dict]


@dataclass(frozen=True)
class Impl:
    label: str  # column header: "fastzmq", "pyzmq"
    module: str  # importable name: "fastzmq", "zmq"
    heartbeat: str = ""  # "IVL,TIMEOUT,TTL" (ms) on every socket of its workers; "": off


@dataclass(frozen=True)
class Settings:
    target_s: float = 1.0  # duration of one run
    repeat: int = 5
    setup_ms: int = 5000  # connect + first message
    idle_ms: int = 3000  # longest gap between two messages
    linger_ms: int = 5000

    def opts(self, size: int) -> dict:
        deadline = self.setup_ms / 1000.0 + max(20.0, 30.0 * self.target_s)
        return {
            "hwm": hwm_for(size),
            "setup_ms": self.setup_ms,
            "idle_ms": self.idle_ms,
            "linger_ms": self.linger_ms,
            "deadline_s": deadline,
        }


@dataclass
class Sample:
    workload: str
    size: int
    impl: str
    module: str
    rep: int  # -1 for the calibration run (not in the table)
    count: int
    status: str
    detail: str = ""
    rate: float | None = None  # msgs/s (round trips/s for latency)
    seconds: float | None = None
    median_us: float | None = None
    p99_us: float | None = None
    received: int | None = None
    wall: float | None = None  # the whole run, process start to reaped
    extra: Dict[str, float] = field(default_factory=dict)  # EXTRA_KEYS, for --json only

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return asdict(self)


EXTRA_KEYS = (
    "setsockopt_rate",  # subs-subscribe/cancel: the SUB's setsockopt loop alone
    "fds_per_peer",  # scale-router-tcp: the ROUTER's fds and RSS per connected peer
    "rss_kib_per_peer",
    "pgm_repaired",  # epgm-*: fastzmq's receiver, packets repaired and given up
    "pgm_lost",
)
NOT_RUN = ("notyet", "skipped")  # an implementation is not run again in that cell


def make_sample(wl: Workload, impl: Impl, size: int, rep: int, count: int, res: dict) -> Sample:
    keys = ("detail", "rate", "seconds", "median_us", "p99_us", "received")
    fields = {k: res[k] for k in keys if res.get(k) is not None}
    status = res.get("status", "error")
    needed = ("rate", "median_us", "p99_us") if wl.kind == "latency" else ("rate",)
    if status == "ok" and any(k not in fields for k in needed):
        status, fields["detail"] = "error", f"incomplete result: {sorted(fields)}"
    extra = {k: res[k] for k in EXTRA_KEYS if isinstance(res.get(k), (int, float))}
    return Sample(wl.name, size, impl.label, impl.module, rep, count, status, **fields, extra=extra)


def guess_rate(wl: Workload, size: int) -> float:
    """A deliberately low rate guess: at most wl.guess_rate, at most 200 MB/s."""
    return min(wl.guess_rate, 200e6 / msg_bytes(wl, size))


class Progress:
    """One line per finished run (plain) or a status line rewritten with \\r (tty)."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done = total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def _prefix(self, wl: str, size: str, impl: str) -> str:
        width = len(str(self.total))
        return f"[{self.done:{width}d}/{self.total}] {wl:<20} {size:>6} {impl:<8}"

    def begin(self, wl: str, size: str, impl: str, what: str) -> None:
        if self.tty:
            line = f"{self._prefix(wl, size, impl)} {what}..."
            self.stream.write("\r" + line[:99].ljust(99))
            self.stream.flush()

    def end(self, sample: Sample, size: str, what: str) -> None:
        self.done += 1
        prefix = self._prefix(sample.workload, size, sample.impl)
        line = f"{prefix} {what} {describe(sample)}"
        self.stream.write(("\r" + line[:99].ljust(99)) if self.tty else line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 99 + "\r")
            self.stream.flush()


def describe(sample: Sample) -> str:
    if not sample.ok:
        return failure_label(sample)
    if sample.median_us is not None:
        return f"median {sample.median_us:.1f} us"
    return "%.0f/s" % (sample.rate or 0.0)


def failure_label(sample: Sample) -> str:
    """The table's text for a failed run."""
    if sample.status == "notyet":
        return "not yet"
    if sample.status == "skipped":  # cannot run here (the reason: sample.detail)
        return "skipped"
    if sample.status == "lost":
        return sample.detail.split(": ")[-1] if "LOST" in sample.detail else "LOST"
    if sample.status == "timeout":
        return "timeout"
    return {"order": "OUT OF ORDER", "size": "BAD SIZE"}.get(sample.status, "error")


class Runner:
    def __init__(
        self, impls: List[Impl], settings: Settings, run_fn: RunFn, progress: Progress | None = None
    ) -> None:
        self.impls, self.settings, self.run_fn = impls, settings, run_fn
        self.progress = progress
        self.samples: List[Sample] = []

    def one(self, wl: Workload, impl: Impl, size: int, rep: int, count: int) -> Sample:
        what = "calibrating" if rep < 0 else f"run {rep + 1}"
        label = size_label(wl, size)
        if self.progress:
            self.progress.begin(wl.name, label, impl.label, what)
        start = time.monotonic()
        opts = self.settings.opts(size)
        if impl.heartbeat:
            opts = dict(opts, heartbeat=impl.heartbeat)
        res = self.run_fn(wl, impl.module, size, count, opts)
        sample = make_sample(wl, impl, size, rep, count, res)
        sample.wall = time.monotonic() - start
        self.samples.append(sample)
        if self.progress:
            self.progress.end(sample, label, what)
        return sample

    def calibrate(self, wl: Workload, size: int, skip: set) -> int:
        """The message count for this cell, from one discarded run of the first impl that works."""
        target = self.settings.target_s
        count = count_for(wl, guess_rate(wl, size), target / 2, size)
        for impl in self.impls:
            sample = self.one(wl, impl, size, -1, count)
            if sample.status in NOT_RUN:
                skip.add(impl.label)
            if sample.ok and sample.rate:  # a tiny run overestimates: grow at most 10x
                return min(count_for(wl, sample.rate, target, size), max(count, 10 * count))
        return count

    def cell(self, wl: Workload, size: int) -> None:
        skip: set = set()
        count = self.calibrate(wl, size, skip)
        for rep in range(self.settings.repeat):
            for impl in self.impls:
                if impl.label not in skip:
                    if self.one(wl, impl, size, rep, count).status in NOT_RUN:
                        skip.add(impl.label)

    def run(self, workloads: List[Workload]) -> List[Sample]:
        for wl in workloads:
            for size in wl.sizes:
                self.cell(wl, size)
        if self.progress:
            self.progress.finish()
        return self.samples


def total_runs(workloads: List[Workload], n_impls: int, repeat: int) -> int:
    """Upper bound on runs (calibration included), for the progress display."""
    cells = sum(len(w.sizes) for w in workloads)
    return cells * (n_impls * repeat + 1)


def run_all(
    workloads: List[Workload],
    impls: List[Impl],
    settings: Settings,
    run_fn: RunFn | None = None,
    stream: TextIO | None = None,
) -> List[Sample]:
    if run_fn is None:
        from fastzmq.bench.procs import run_once as run_fn
    progress = Progress(total_runs(workloads, len(impls), settings.repeat), stream)
    return Runner(impls, settings, run_fn, progress).run(workloads)


def by_cell(samples: List[Sample]) -> Dict[tuple, List[Sample]]:
    """Measured (non-calibration) samples keyed by (workload, size, impl label)."""
    cells: Dict[tuple, List[Sample]] = {}
    for s in samples:
        if s.rep >= 0:
            cells.setdefault((s.workload, s.size, s.impl), []).append(s)
    return cells

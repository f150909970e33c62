"""The connection workloads of the benchmark: churn-tcp and scale-router-tcp."""

from __future__ import annotations

import importlib.util

import pytest

from fastzmq.bench import report, runner, workloads
from fastzmq.bench.runner import Impl, Settings

IMPLS = ["fastzmq"] + (["zmq"] if importlib.util.find_spec("zmq") else [])


def by_name(name: str, quick: bool = False) -> workloads.Workload:
    return next(w for w in workloads.standard(quick) if w.name == name)


def smoke_opts(size: int) -> dict:
    return Settings(target_s=0.05, setup_ms=5000, idle_ms=1000, linger_ms=1000).opts(size)


def test_workloads_are_listed():
    churn, scale = by_name("churn-tcp"), by_name("scale-router-tcp")
    assert churn.kind == scale.kind == "rate"
    assert scale.sizes == (1_000, 10_000) and by_name("scale-router-tcp", True).sizes == (1_000,)
    assert workloads.size_label(scale, 10_000) == "10k"
    assert workloads.msg_bytes(scale, 10_000) == 8


@pytest.mark.parametrize("module", IMPLS)
@pytest.mark.timeout(40)
def test_churn_runs(module):
    from fastzmq.bench.procs import run_once

    wl = by_name("churn-tcp")
    result = run_once(wl, module, 16, 60, smoke_opts(16))
    assert result["status"] == "ok", result
    assert result["received"] == 60 and result["rate"] > 0


@pytest.mark.parametrize("module", IMPLS)
@pytest.mark.timeout(40)
def test_scale_runs_and_reports_per_peer_costs(module):
    from fastzmq.bench.procs import run_once

    wl, peers = by_name("scale-router-tcp"), 40
    result = run_once(wl, module, peers, 2000, smoke_opts(peers))
    assert result["status"] == "ok", result
    assert result["received"] == 2000 and result["rate"] > 0
    assert 0.5 <= result["fds_per_peer"] <= 4  # a tcp fd each, and what comes with it
    assert result["rss_kib_per_peer"] > 0
    impl = Impl("fastzmq", module)
    sample = runner.make_sample(wl, impl, peers, 0, 2000, result)
    assert set(sample.extra) == {"fds_per_peer", "rss_kib_per_peer", "listen_overflows"}
    assert result["listen_overflows"] >= 0  # (Linux: read from /proc/net/netstat)
    wl_small = workloads.Workload(**{**wl.__dict__, "sizes": (peers,)})
    lines = report.table([wl_small], [sample], ["fastzmq"], 1)
    note = [ln for ln in lines if ln.startswith("scale-router-tcp 40:")]
    assert note and "fds" in note[0] and "KiB RSS per peer" in note[0]

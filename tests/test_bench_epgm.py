"""The epgm rows of ``python -m fastzmq.bench`` (``fastzmq.bench.epgm``): skipped with
the reason where they cannot run, real runs across two namespaces where they can."""

from __future__ import annotations

import io

import pytest

from fastzmq.bench import epgm, procs, report, workloads
from fastzmq.bench.runner import Impl, Settings, run_all
from netbed import leftovers, unavailable

IMPLS = [Impl("fastzmq", "fastzmq"), Impl("pyzmq", "zmq")]


def by_name(name: str) -> workloads.Workload:
    return next(w for w in workloads.standard() if w.name == name)


def test_rows_are_standard_workloads():
    plain, lossy = by_name("epgm-pub-sub"), by_name("epgm-loss1-pub-sub")
    assert plain.sizes == lossy.sizes == (64, 4096)
    assert plain.params["loss"] == 0 and lossy.params["loss"] == 1
    assert [w.name for w in workloads.select(workloads.standard(), "epgm")] == [
        "epgm-pub-sub",
        "epgm-loss1-pub-sub",
    ]


def test_unavailable_bed_skips_with_the_reason_and_is_not_retried(monkeypatch):
    monkeypatch.setattr(epgm, "_bed_unavailable", lambda: "the bed needs root (test)")
    wl = by_name("epgm-pub-sub")
    samples = run_all([wl], IMPLS, Settings(repeat=3), run_fn=procs.run_once, stream=io.StringIO())
    # one calibration attempt per implementation and cell, then no runs
    assert [s.status for s in samples] == ["skipped"] * 4
    lines = report.table([wl], samples, ["fastzmq", "pyzmq"], 3)
    rows = [ln for ln in lines if ln.startswith("epgm-pub-sub")]
    assert len(rows) == 2 and all(r.count("skipped") == 2 for r in rows)
    assert "epgm fastzmq: skipped: the bed needs root (test)" in lines
    assert "epgm pyzmq: skipped: the bed needs root (test)" in lines


def test_missing_system_libzmq_skips_that_column_only(monkeypatch):
    monkeypatch.setattr(epgm, "_bed_unavailable", lambda: None)
    monkeypatch.setattr(epgm, "SYSTEM_PYTHON", "/nonexistent/python3")
    epgm._system_libzmq.cache_clear()
    try:
        why = epgm.skip_reason("zmq")
        assert why is not None and "/nonexistent/python3" in why
        assert epgm.skip_reason("fastzmq") is None
    finally:
        epgm._system_libzmq.cache_clear()


need_bed = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@need_bed
@pytest.mark.parametrize("name", ["epgm-pub-sub", "epgm-loss1-pub-sub"])
def test_fastzmq_run_delivers_every_message_in_order(name):
    wl = by_name(name)
    res = procs.run_once(wl, "fastzmq", 64, 3000, Settings(target_s=0.1).opts(64))
    assert res["status"] == "ok", res
    assert res["received"] == epgm.MIN_BYTES // 64 and res["rate"] > 0
    assert res["pgm_lost"] == 0
    if wl.params["loss"]:
        assert res["pgm_repaired"] > 0  # 1% of ~3000 packets dropped, then repaired
    assert leftovers() == []


@need_bed
def test_libzmq_run_when_the_system_has_it():
    why = epgm.skip_reason("zmq")
    if why:
        pytest.skip(why)
    res = procs.run_once(by_name("epgm-pub-sub"), "zmq", 4096, 500, Settings().opts(4096))
    assert res["status"] == "ok", res
    assert res["received"] == 2000  # the floor: max(count, 4 MiB / size, 2000)
    assert leftovers() == []

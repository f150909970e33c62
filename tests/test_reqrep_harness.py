"""bench/reqrep_harness.py runs for both libraries: two processes, plain blocking REQ/REP,
a second Python thread in each, and one result line with the round-trip count asked for."""

import os
import re
import subprocess
import sys

import pytest

HARNESS = os.path.join(os.path.dirname(__file__), os.pardir, "bench", "reqrep_harness.py")
LINE = re.compile(
    r"^(\w+)\s+idle=(\w+)\s+rcvtimeo=\s*(-?\d+) n=(\d+) median=\s*([\d.]+) us p99=\s*([\d.]+) us$"
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("lib", "idle"), [("fastzmq", "event"), ("fastzmq", "sleep"), ("pyzmq", "event")]
)
def test_harness_runs_and_reports(lib, idle):
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(__file__), os.pardir, "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, HARNESS, "--lib", lib, "--idle", idle, "-n", "300", "--warm", "30"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=100)
    assert out.returncode == 0, out.stderr
    m = LINE.match(out.stdout.strip())
    assert m, out.stdout
    assert (m.group(1), m.group(2), m.group(3), m.group(4)) == (lib, idle, "-1", "300")
    median, p99 = float(m.group(5)), float(m.group(6))
    assert 0 < median <= p99

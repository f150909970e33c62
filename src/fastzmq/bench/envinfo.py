"""The environment of a run and the --json output (every sample, every setting)."""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
from dataclasses import asdict
from typing import List

from fastzmq.bench.runner import Impl, Sample, Settings

PYZMQ_HINT = "pyzmq is not installed: `pip install pyzmq` (or `pip install .[bench]`)"


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def module_version(name: str) -> str | None:
    """The module's __version__ (imported lazily), or None if it does not import."""
    if not has_module(name):
        return None
    try:
        mod = importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a broken implementation has no version
        return None
    version = getattr(mod, "__version__", None)
    if name == "zmq" and hasattr(mod, "zmq_version"):
        version = f"{version} (libzmq {mod.zmq_version()})"
    return version


_PROBE = """
import sys
before = set(sys.modules)
import {mod}
added = len(set(sys.modules) - before)
ctx = {mod}.Context()
with open("/proc/self/status") as f:
    rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
ctx.term()
print(added, rss)
"""


def _child_cpu(cmd: List[str]) -> float:
    """CPU seconds (user + sys) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_cost(module: str, runs: int = 5, python: str = sys.executable) -> dict | None:
    """What ``import module`` costs in a fresh interpreter: CPU ms (median over ``runs``,
    minus an empty interpreter's, run alternately), the modules it adds, and the RSS
    (KiB) after ``module.Context()``. None if the module does not import."""
    if not has_module(module):
        return None
    try:
        base, cost = [], []
        for _ in range(runs):
            base.append(_child_cpu([python, "-c", "pass"]))
            cost.append(_child_cpu([python, "-c", f"import {module}"]))
        out = subprocess.run(
            [python, "-c", _PROBE.format(mod=module)], check=True, capture_output=True, text=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return None
    return {
        "import_cpu_ms": round((statistics.median(cost) - statistics.median(base)) * 1e3, 1),
        "modules_added": int(out[0]),
        "rss_after_context_kib": int(out[1]),
    }


def environment(impls: List[Impl]) -> dict:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": {i.label: module_version(i.module) for i in impls},
        "import_cost": {i.label: import_cost(i.module) for i in impls},
    }


def write_json(
    path: str, impls: List[Impl], settings: Settings, samples: List[Sample], workloads: List[str]
) -> None:
    doc = {
        "environment": environment(impls),
        "settings": asdict(settings),
        "impls": [asdict(i) for i in impls],
        "workloads": workloads,
        "samples": [s.to_dict() for s in samples],
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

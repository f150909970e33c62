"""The environment of a run and the --json output (every sample, every setting)."""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import json
import os
import platform
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


def environment(impls: List[Impl]) -> dict:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": {i.label: module_version(i.module) for i in impls},
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

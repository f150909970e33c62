"""The epgm rows: PUB -> SUB over ``epgm://`` between two network namespaces.

Each run builds a fresh two-host bed (``netns.py``: namespaces on a bridge; with
``loss``, nftables drops that share of what the receiving host gets), starts the SUB
in host 1 and the PUB in host 0 (``_epgm_role.py``), waits until the SUB has heard a
probe, lets the PUB send ``count`` numbered messages (SNDHWM/RCVHWM 0: none dropped at
either socket), and measures the SUB from the first to the last. A run passes only if
every message arrives, in order: under loss that is the rate at which PGM repairs keep
up. RATE is 200 Mbit/s on both sides.

The comparison column is libzmq's own epgm: pyzmq's wheels have no PGM, so the
``zmq`` implementation runs under the system's ``/usr/bin/python3`` with its
``zmq`` (Debian's python3-zmq: libzmq 4.3.4 + OpenPGM). Where a run cannot happen
(not root, no namespaces or nftables, no system libzmq with pgm) the cell reads
"skipped" and the table's notes give the reason; nothing raises.
"""

from __future__ import annotations

import functools
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

from fastzmq.bench import netns
from fastzmq.bench.workloads import RoleSpec, Workload

SYSTEM_PYTHON = "/usr/bin/python3"
ROLE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_epgm_role.py")
GROUP, PORT = "239.192.77.1", 5617
RATE_KBPS = 200_000
MIN_BYTES = 4 << 20  # a run sends at least this much (or 2000 messages)


def workload(loss: int) -> Workload:
    name = f"epgm-loss{loss}-pub-sub" if loss else "epgm-pub-sub"
    title = "epgm PUB -> SUB across 2 namespaces, RATE 200 Mbit/s"
    if loss:
        title += f", {loss}% of the receiver's packets dropped (repairs keep up)"
    title += "; pyzmq column: libzmq 4.3.4+OpenPGM via /usr/bin/python3"
    roles = (RoleSpec("sub", "epgm_sub"), RoleSpec("pub", "epgm_pub"))
    return Workload(
        name,
        title,
        "throughput",
        "epgm",
        (64, 4096),
        roles,
        "sub",
        params={"loss": loss},
        guess_rate=20_000.0,
        min_count=2000,
        pattern="epgm",
    )


@functools.cache
def _bed_unavailable() -> str | None:
    return netns.unavailable()


@functools.cache
def _system_libzmq() -> str | None:
    """Why libzmq with pgm cannot be driven here, or None."""
    if not os.path.exists(SYSTEM_PYTHON):
        return f"no {SYSTEM_PYTHON} (libzmq's epgm runs under the system Python)"
    code = "import zmq, sys; sys.exit(0 if zmq.has('pgm') else 3)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        r = subprocess.run(
            [SYSTEM_PYTHON, "-c", code], capture_output=True, timeout=20, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON} failed: {exc}"
    if r.returncode == 3:
        return f"{SYSTEM_PYTHON}'s zmq has no pgm (libzmq built without OpenPGM)"
    if r.returncode:
        return f"no system libzmq: {SYSTEM_PYTHON} cannot import zmq (apt-get install python3-zmq)"
    return None


def skip_reason(impl: str) -> str | None:
    why = _bed_unavailable()
    if why is None and impl == "zmq":
        why = _system_libzmq()
    return why


class _Side:
    """One role's process in a host, read by lines with deadlines."""

    def __init__(self, bed: netns.NetBed, host: int, impl: str, role: str, spec: dict) -> None:
        if impl == "zmq":
            py = SYSTEM_PYTHON
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        else:
            py, env = sys.executable, bed.env()
        self.role = role
        self.err = tempfile.TemporaryFile()
        argv = [py, ROLE_SCRIPT, impl, role, json.dumps(spec)]
        self.proc = subprocess.Popen(
            bed.cmd(host, argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            env=env,
        )
        bed.procs.append(self.proc)
        self.buf = b""

    def expect(self, word: str, deadline: float) -> str | None:
        """The rest of the next line starting with word; None at the deadline or exit
        (the result line ends the wait too: it says why)."""
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                line, _, self.buf = self.buf.partition(b"\n")
                text = line.decode("utf-8", "replace")
                if text.split(" ")[0] in (word, "result"):
                    return text
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None
                self.buf += chunk

    def tell(self, word: str) -> None:
        try:
            self.proc.stdin.write(word.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def stderr_tail(self) -> str:
        self.err.seek(0)
        lines = self.err.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else "no output"


def _result(side: _Side, line: str | None, want: str) -> dict | None:
    """None if line is the wanted word; else the failure it stands for."""
    if line is not None and line.split(" ")[0] == want:
        return None
    if line is not None and line.startswith("result "):
        res = json.loads(line[len("result ") :])
        if res.get("status") != "ok":
            return res
    what = f"before {want!r}" if line is None else f"{line[:60]!r} instead of {want!r}"
    return {"status": "timeout", "detail": f"{side.role}: {what} ({side.stderr_tail()})"}


def _drive(bed: netns.NetBed, impl: str, spec: dict, deadline: float) -> dict:
    sub = _Side(bed, 1, impl, "sub", dict(spec, endpoint=f"epgm://{bed.addrs[1]};{GROUP}:{PORT}"))
    bad = _result(sub, sub.expect("ready", deadline), "ready")
    if bad:
        return bad
    pub = _Side(bed, 0, impl, "pub", dict(spec, endpoint=f"epgm://{bed.addrs[0]};{GROUP}:{PORT}"))
    for side, word in ((pub, "ready"), (sub, "synced")):
        bad = _result(side, side.expect(word, deadline), word)
        if bad:
            return bad
    pub.tell("go")
    line = sub.expect("result", deadline)
    pub.tell("stop")
    try:
        pub.proc.wait(3)  # it closes on "stop"; bed.close() kills it otherwise
    except subprocess.TimeoutExpired:
        pass
    if line is None or not line.startswith("result "):
        return {"status": "timeout", "detail": f"sub: no result ({sub.stderr_tail()})"}
    return json.loads(line[len("result ") :])


def run_once(wl: Workload, impl: str, size: int, count: int, opts: dict) -> dict:
    """One run of an epgm workload (procs.run_once hands these over); never raises."""
    why = skip_reason(impl)
    if why:
        return {"status": "skipped", "detail": why}
    count = max(count, MIN_BYTES // size, 2000)
    spec = {
        "size": size,
        "count": count,
        "rate": RATE_KBPS,
        "setup_s": opts["setup_ms"] / 1000.0,
        "idle_ms": opts["idle_ms"],
        "deadline_s": opts["deadline_s"],
    }
    bed = None
    try:
        bed = netns.NetBed(2)
        if wl.params.get("loss"):
            bed.loss(1, int(wl.params["loss"]))
        return _drive(bed, impl, spec, time.monotonic() + opts["deadline_s"])
    except netns.Unavailable as exc:
        return {"status": "skipped", "detail": str(exc)}
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return {"status": "error", "detail": f"epgm bed: {exc!r}"}
    finally:
        if bed is not None:
            bed.close()


def notes(workloads: List[Workload], groups: Dict[tuple, list], labels: List[str]) -> List[str]:
    """epgm rows: why a cell was skipped; fastzmq's repaired/lost packets (medians)."""
    out: List[str] = []
    reasons: Dict[str, set] = {}
    for wl in workloads:
        if wl.transport != "epgm":
            continue
        for size in wl.sizes:
            for lb in labels:
                runs = groups.get((wl.name, size, lb), [])
                for s in runs:
                    if s.status == "skipped":
                        reasons.setdefault(lb, set()).add(s.detail)
                rep = sorted(s.extra["pgm_repaired"] for s in runs if "pgm_repaired" in s.extra)
                lost = sorted(s.extra["pgm_lost"] for s in runs if "pgm_lost" in s.extra)
                if rep and wl.params.get("loss"):
                    out.append(
                        f"{wl.name} {size} B {lb}: packets repaired per run (median) "
                        f"{rep[len(rep) // 2]:.0f}, given up {lost[-1]:.0f} at most"
                    )
    for lb, why in sorted(reasons.items()):
        out.append(f"epgm {lb}: skipped: {'; '.join(sorted(why))}")
    return out

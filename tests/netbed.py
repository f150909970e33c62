"""A multi-host test bed: network namespaces joined by a bridge, for network-facing tests
(the namespaces themselves: ``fastzmq.bench.netns``, shared with the epgm bench rows).

``netbed`` (a pytest fixture, registered in conftest.py) yields a ``NetBed`` with two
hosts by default (``@pytest.mark.netbed(hosts=3)`` for more). Topology::

    host ns "<p>h0" eth0 10.77.<n>.1/24 --veth-- hub ns "<p>hub" bridge br0
    host ns "<p>h1" eth0 10.77.<n>.2/24 --veth-- (same bridge)     ...

The bridge floods multicast (snooping off) and every host routes 224.0.0.0/4 out of
eth0, so a datagram sent to a group from one host reaches the others (and, with
IP_MULTICAST_LOOP, the sender). Each host has lo up.

* ``bed.run(i, code, timeout)``: run ``python -c code`` inside host i (``ip netns exec``)
  with fastzmq importable (PYTHONPATH = the directory holding the fastzmq package,
  whichever copy the test run imports) and return the CompletedProcess; ``bed.spawn``
  starts one (a Popen tracked by the bed: killed at teardown).
* ``bed.loss(i, percent)``: drop that share of the packets host i receives (nftables:
  ``numgen random mod 100 < N drop`` on the input hook); 0 removes the rule. This
  kernel has no netem, so loss is the only impairment the bed provides.
* ``bed.link(i, up)``: cut (or restore) host i's cable (its veth end in the hub), so
  the host keeps its address and routes but nothing passes.

Teardown (also after a failure) kills spawned processes and deletes the namespaces,
which deletes their interfaces. The fixture skips, with the reason, when the run is
not root or ``ip netns`` does not work; ``bed.loss`` skips when nftables is missing.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from typing import Any

import pytest

from fastzmq.bench import netns
from fastzmq.bench.netns import FASTZMQ_PATH, leftovers, unavailable

__all__ = ["FASTZMQ_PATH", "NetBed", "Proc", "leftovers", "netbed", "unavailable"]


class Proc:
    """A process in a host: lines of its stdout are read by a thread (``expect``), its
    stdin takes lines (``send``); stderr is kept for failure messages."""

    def __init__(self, cmd: list, env: dict) -> None:
        self.popen = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue = queue.Queue()
        self.seen: list = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float = 10) -> str:
        """The next stdout line starting with prefix (fails the test after timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = ""
                if left > 0:
                    continue
            if line is None or (line == "" and time.monotonic() >= deadline):
                self.popen.kill()
                err = self.popen.communicate(timeout=5)[1]
                why = "exited" if line is None else f"timed out after {timeout}s"
                pytest.fail(f"process {why} before {prefix!r}; seen {self.seen}; stderr:\n{err}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def send(self, line: str) -> None:
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def wait(self, timeout: float = 10) -> int:
        return self.popen.wait(timeout)


class NetBed(netns.NetBed):
    """The bench's bed plus tracked processes (``spawn``) and pytest skips."""

    def spawn(self, i: int, code: str, env: dict | None = None) -> Proc:
        p = Proc(self._cmd(i, code), self.env(env))
        self.procs.append(p.popen)
        return p

    def loss(self, i: int, percent: int) -> None:
        try:
            super().loss(i, percent)
        except netns.Unavailable as e:
            pytest.skip(str(e))


@pytest.fixture
def netbed(request: Any):
    why = unavailable()
    if why:
        pytest.skip(why)
    marker = request.node.get_closest_marker("netbed")
    hosts = marker.kwargs.get("hosts", 2) if marker else 2
    bed = NetBed(hosts)
    try:
        yield bed
    finally:
        bed.close()

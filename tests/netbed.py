"""A multi-host test bed: network namespaces joined by a bridge, for network-facing tests.

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

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import fastzmq

FASTZMQ_PATH = os.path.dirname(os.path.dirname(os.path.abspath(fastzmq.__file__)))
_seq = [0]


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=check)


def unavailable() -> str | None:
    """Why the bed cannot be built here, or None."""
    if os.geteuid() != 0:
        return "the network test bed needs root (network namespaces, veth, nftables)"
    if shutil.which("ip") is None:
        return "the network test bed needs iproute2's `ip`"
    probe = f"fzprobe{os.getpid()}"
    try:
        r = _ip("netns", "add", probe, check=False)
        if r.returncode != 0:
            return f"`ip netns add` fails here: {r.stderr.strip()}"
        r = _ip("-n", probe, "link", "add", "v0", "type", "veth", "peer", "v1", check=False)
        if r.returncode != 0:
            return f"veth pairs are unavailable: {r.stderr.strip()}"
    finally:
        _ip("netns", "del", probe, check=False)
    return None


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


class NetBed:
    def __init__(self, hosts: int = 2) -> None:
        _seq[0] += 1
        n = (os.getpid() * 7 + _seq[0]) % 200 + 20
        self.prefix = f"fz{os.getpid() % 100000}x{_seq[0]}"
        self.hub = f"{self.prefix}hub"
        self.hosts = [f"{self.prefix}h{i}" for i in range(hosts)]
        self.addrs = [f"10.77.{n}.{i + 1}" for i in range(hosts)]
        self.procs: list[subprocess.Popen] = []
        self._made: list[str] = []
        self._nft: set[int] = set()
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def _build(self) -> None:
        for ns in (self.hub, *self.hosts):
            _ip("netns", "add", ns)
            self._made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", self.hub, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        _ip("-n", self.hub, "link", "set", "br0", "up")
        for i, ns in enumerate(self.hosts):
            port = f"p{i}"
            _ip("-n", self.hub, "link", "add", port, "type", "veth", "peer", "eth0", "netns", ns)
            _ip("-n", self.hub, "link", "set", port, "master", "br0")
            _ip("-n", self.hub, "link", "set", port, "up")
            _ip("-n", ns, "addr", "add", f"{self.addrs[i]}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")

    # ------------------------------------------------------------- processes
    def _cmd(self, i: int, code: str) -> list:
        return ["ip", "netns", "exec", self.hosts[i], sys.executable, "-c", code]

    def env(self, extra: dict | None = None) -> dict:
        env = dict(os.environ)
        env["PYTHONPATH"] = FASTZMQ_PATH
        env.update(extra or {})
        return env

    def spawn(self, i: int, code: str, env: dict | None = None) -> Proc:
        p = Proc(self._cmd(i, code), self.env(env))
        self.procs.append(p.popen)
        return p

    def run(self, i: int, code: str, timeout: float = 20, env: dict | None = None) -> Any:
        return subprocess.run(
            self._cmd(i, code), capture_output=True, text=True, timeout=timeout, env=self.env(env)
        )

    def exec(self, i: int, *argv: str, timeout: float = 10) -> Any:
        """Run a command (argv) inside host i; raises on failure."""
        return subprocess.run(
            ["ip", "netns", "exec", self.hosts[i], *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    # ------------------------------------------------------------ impairments
    def loss(self, i: int, percent: int) -> None:
        """Drop percent% of what host i receives (0: no loss)."""
        if shutil.which("nft") is None:
            pytest.skip("packet loss needs nftables (`apt-get install nftables`)")
        ns = self.hosts[i]
        if i in self._nft:
            subprocess.run(
                ["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "fzloss"],
                capture_output=True,
                timeout=10,
            )
            self._nft.discard(i)
        if percent <= 0:
            return
        rules = (
            "table inet fzloss {\n chain input {\n  type filter hook input priority 0;\n"
            f"  numgen random mod 100 < {int(percent)} drop\n }}\n}}\n"
        )
        r = subprocess.run(
            ["ip", "netns", "exec", ns, "nft", "-f", "-"],
            input=rules,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if r.returncode != 0:
            pytest.skip(f"nftables rule refused here: {r.stderr.strip()}")
        self._nft.add(i)

    def link(self, i: int, up: bool) -> None:
        """Cut (up=False) or restore host i's cable: its veth end on the bridge."""
        _ip("-n", self.hub, "link", "set", f"p{i}", "up" if up else "down")

    # -------------------------------------------------------------- teardown
    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.communicate(timeout=5)
            except Exception:
                pass
        self.procs = []
        for ns in reversed(self._made):
            _ip("netns", "del", ns, check=False)
        self._made = []


def leftovers(prefix: str = "fz") -> list:
    """Namespaces of this process's beds still present (should be none)."""
    out = _ip("netns", "list", check=False).stdout.split("\n")
    mine = f"{prefix}{os.getpid() % 100000}x"
    return [line.split()[0] for line in out if line.startswith(mine)]


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

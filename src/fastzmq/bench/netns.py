"""Hosts made of network namespaces joined by a bridge (root only): the network test
bed of ``tests/netbed.py`` and the epgm benchmark rows (``bench/epgm.py``).

Topology::

    host ns "<p>h0" eth0 10.77.<n>.1/24 --veth-- hub ns "<p>hub" bridge br0
    host ns "<p>h1" eth0 10.77.<n>.2/24 --veth-- (same bridge)     ...

The bridge floods multicast (snooping off) and every host routes 224.0.0.0/4 out of
eth0, so a datagram sent to a group from one host reaches the others (and, with
IP_MULTICAST_LOOP, the sender). Each host has lo up.

* ``bed.loss(i, percent)``: drop that share of the packets host i receives (nftables:
  ``numgen random mod 100 < N drop`` on the input hook); 0 removes the rule. This
  kernel has no netem, so loss is the only impairment the bed provides.
* ``bed.link(i, up)``: cut (or restore) host i's cable (its veth end in the hub).
* ``bed.cmd(i, argv)``: argv run inside host i (``ip netns exec``); ``bed.env()``: an
  environment with this fastzmq importable.

``close()`` kills the processes in ``bed.procs`` and deletes the namespaces (and so
their interfaces). What the bed cannot do here raises ``Unavailable`` with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import fastzmq

FASTZMQ_PATH = os.path.dirname(os.path.dirname(os.path.abspath(fastzmq.__file__)))
_seq = [0]


class Unavailable(Exception):
    """The bed (or an impairment) cannot be had here; the message says why."""


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
    def cmd(self, i: int, argv: list) -> list:
        """argv run inside host i."""
        return ["ip", "netns", "exec", self.hosts[i], *argv]

    def _cmd(self, i: int, code: str) -> list:
        return self.cmd(i, [sys.executable, "-c", code])

    def env(self, extra: dict | None = None) -> dict:
        env = dict(os.environ)
        env["PYTHONPATH"] = FASTZMQ_PATH
        env.update(extra or {})
        return env

    def run(self, i: int, code: str, timeout: float = 20, env: dict | None = None) -> Any:
        return subprocess.run(
            self._cmd(i, code), capture_output=True, text=True, timeout=timeout, env=self.env(env)
        )

    def exec(self, i: int, *argv: str, timeout: float = 10) -> Any:
        """Run a command (argv) inside host i; raises on failure."""
        return subprocess.run(
            self.cmd(i, list(argv)), capture_output=True, text=True, timeout=timeout, check=True
        )

    # ------------------------------------------------------------ impairments
    def loss(self, i: int, percent: int) -> None:
        """Drop percent% of what host i receives (0: no loss)."""
        if shutil.which("nft") is None:
            raise Unavailable("packet loss needs nftables (`apt-get install nftables`)")
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
            raise Unavailable(f"nftables rule refused here: {r.stderr.strip()}")
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
            except Exception:  # noqa: BLE001 - teardown goes on
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

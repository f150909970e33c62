"""Run one workload once for one implementation: spawn, wire up, collect, reap.

Theory of operation
-------------------
Every role runs in its own worker process (``python -m fastzmq.bench._child
IMPL``), so each side has its own GIL and a crash or hang of an implementation
cannot take the harness down. All workers start at once (imports overlap), then:

1. binders (roles without ``connects``) get their spec and report "bound" with
   the real endpoint (tcp port 0 / wildcard resolved);
2. a connector gets its spec as soon as every endpoint it needs is known;
3. gates: a waiting role (PUB, ventilator) is sent "go" once the roles it needs
   have reported ("synced": the SUB received a probe, the sink a hello from each
   worker; "ready": a worker connected);
4. once the measuring role reports, roles in ``stops`` are sent "stop";
5. every worker's "result" is collected; the first failing one decides the run.

A global deadline bounds the whole run ("timeout"); workers are always reaped
(stdin closed, a short wait, then SIGKILL).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Dict, Tuple

import fastzmq
from fastzmq.bench.lines import LineReader, decode, encode
from fastzmq.bench.workloads import RoleSpec, Workload

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastzmq.__file__)))


def child_env() -> dict:
    """Workers start with -S (no site: ~70 ms less each) and the parent's sys.path."""
    env = dict(os.environ)
    paths = [PACKAGE_ROOT] + [p for p in sys.path if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class Worker:
    """One worker process and its pipes."""

    def __init__(self, role: RoleSpec, impl: str) -> None:
        self.role = role
        self.stderr = tempfile.TemporaryFile()
        cmd = [sys.executable, "-S", "-m", "fastzmq.bench._child", impl]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=child_env()
        )
        self.reader = LineReader(self.proc.stdout.fileno())
        self.result: dict | None = None
        self.events: set = set()
        self.spec_sent = False

    def send(self, event: str, **fields: object) -> None:
        try:
            self.proc.stdin.write(encode(event, **fields))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # it has exited; its missing result tells the story

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    def reap(self, grace: float = 2.0) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def next_message(workers: Dict[str, Worker], deadline: float) -> Tuple[Worker | None, dict]:
    """The next protocol message from any worker; ("eof") when one exits without a result."""
    while True:
        for w in workers.values():
            line = w.reader.pop_line()
            while line is not None:
                msg = decode(line)
                if msg is not None:
                    return w, msg
                line = w.reader.pop_line()
            if w.reader.eof and w.result is None:
                return w, {"event": "eof"}
        live = {w.reader.fd: w for w in workers.values() if not w.reader.eof}
        left = deadline - time.monotonic()
        if left <= 0 or not live:
            return None, {"event": "deadline"}
        ready, _, _ = select.select(list(live), [], [], left)
        for fd in ready:
            live[fd].reader.fill()


class Run:
    """The wiring of one run: specs, endpoints, gates."""

    def __init__(self, wl: Workload, impl: str, size: int, count: int, opts: dict) -> None:
        self.wl = wl
        self.impl = impl
        self.tmpdir = tempfile.mkdtemp(prefix="fzbench-")
        self.base = dict(opts, size=size, count=count, bind=self.bind_addrs(), **wl.params)
        self.endpoints: Dict[str, str] = {}
        self.workers: Dict[str, Worker] = {}
        self.gates_open: set = set()

    def bind_addrs(self) -> Dict[str, str]:
        keys = {k for r in self.wl.roles for k in r.binds} or {"data"}
        tag = uuid.uuid4().hex[:8]
        addr = {
            "tcp": lambda k: "tcp://127.0.0.1:*",
            "ipc": lambda k: f"ipc://{self.tmpdir}/{k}.ipc",
            "inproc": lambda k: f"inproc://fzbench-{k}-{tag}",
        }[self.wl.transport]
        return {k: addr(k) for k in keys}

    def start(self) -> None:
        for role in self.wl.roles:
            self.workers[role.name] = Worker(role, self.impl)
        self.send_specs()

    def send_specs(self) -> None:
        for w in self.workers.values():
            if not w.spec_sent and all(k in self.endpoints for k in w.role.connects):
                spec = dict(self.base, role=w.role.role, endpoints=dict(self.endpoints))
                spec.update(w.role.params)
                w.send("spec", **spec)
                w.spec_sent = True

    def open_gates(self) -> None:
        for gate in self.wl.gates:
            done = all(event in self.workers[name].events for name, event in gate.needs)
            if done and gate.waiter not in self.gates_open:
                self.gates_open.add(gate.waiter)
                self.workers[gate.waiter].send("go")

    def handle(self, w: Worker, msg: dict) -> dict | None:
        """Act on one message; a failure result ends the run at once."""
        event = msg.get("event")
        w.events.add(event)
        if event == "bound":
            self.endpoints[msg["key"]] = msg["endpoint"]
            self.send_specs()
        elif event == "result":
            w.result = msg
            if w.role.name == self.wl.measure:
                for name in self.wl.stops:
                    self.workers[name].send("stop")
            if msg.get("status") != "ok":
                return self.failure(w, msg)
        elif event == "eof":
            detail = "worker {} exited ({})".format(w.role.name, w.stderr_tail() or "no output")
            return {"status": "error", "detail": detail}
        self.open_gates()
        return None

    def failure(self, w: Worker, msg: dict) -> dict:
        out = {k: v for k, v in msg.items() if k != "event"}
        out["detail"] = "{}: {}".format(w.role.name, out.get("detail", ""))
        return out

    def collect(self, deadline: float) -> dict:
        while any(w.result is None for w in self.workers.values()):
            w, msg = next_message(self.workers, deadline)
            if w is None:
                return self.deadline_result()
            failed = self.handle(w, msg)
            if failed is not None:
                return failed
        result = dict(self.workers[self.wl.measure].result)
        result.pop("event", None)
        return result

    def deadline_result(self) -> dict:
        if len(self.endpoints) < len(self.base["bind"]) and self.wl.transport != "inproc":
            return {"status": "notyet", "detail": "setup timeout (no endpoint bound)"}
        waiting = [n for n, w in self.workers.items() if w.result is None]
        return {"status": "timeout", "detail": "no result from " + ", ".join(waiting)}

    def close(self, grace: float) -> None:
        for w in self.workers.values():
            w.reap(grace)
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def run_once(wl: Workload, impl: str, size: int, count: int, opts: dict) -> dict:
    """Run `wl` once with implementation module `impl`; always a result dict."""
    if wl.transport == "epgm":  # its own harness: network namespaces, the system libzmq
        from fastzmq.bench.epgm import run_once as epgm_run

        return epgm_run(wl, impl, size, count, opts)
    run = Run(wl, impl, size, count, opts)
    result = {"status": "error", "detail": "interrupted"}
    try:
        run.start()
        result = run.collect(time.monotonic() + opts["deadline_s"])
    finally:
        run.close(2.0 if result.get("status") == "ok" else 0.2)
    return result

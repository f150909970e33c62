"""Connection churn with the two ends from different libraries, to see which side costs.

The loop is the bench's churn-tcp cycle (``fastzmq.bench.conns``): the client, N times,
creates a REQ, connects it, sends its counter, waits for the echo and closes it (linger 0);
the server is a REP echo in another process. Here the client and the server each run with
fastzmq or pyzmq, in the four pairings, alternated, so a gap shows on the side it comes from.

    python bench/churn_pairs.py                 # 4 pairings x 3 rounds, 2000 cycles each
    python bench/churn_pairs.py --cycles 5000 --rounds 5 --threads

Prints, per pairing, the median connections/s over the rounds and the client process's CPU
per connection (its socket thread and its I/O thread). What it showed on the 2-core machine
(2026-12-04, quiet, ``--cycles 2000 --rounds 3``): fastzmq<->fastzmq 1065/s, fastzmq
client -> pyzmq server 1152/s, pyzmq client -> fastzmq server 1361/s, pyzmq<->pyzmq
1596/s; client CPU per connection 638-702 us for a fastzmq client, 442-449 us for pyzmq's.
Most of the gap is the connecting side's (its connecter, handshake and teardown). On
2026-12-05 (``--rounds 5``, after the handshake lost a round trip): 2309, 2078, 2032 and
2195/s in that order, client CPU 370, 370, 376 and 356 us per connection.

``--threads`` also prints the client's CPU per thread and connection (from /proc; our I/O
thread is the second "python"). A fastzmq client against pyzmq's server: socket thread user
140-152 us, I/O thread user 245-280 us and system 235-290 us; a pyzmq client: socket thread
78-95 us, libzmq's I/O thread user 42-70 us and system 190-240 us. The difference is the
Python our I/O thread runs to set up and tear down each connection.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

PORT = 5719


def _lib(name: str):
    return __import__("zmq" if name == "pyzmq" else "fastzmq")


def serve(lib: str, port: int) -> None:
    z = _lib(lib)
    ctx = z.Context()
    rep = ctx.socket(z.REP)
    rep.linger = 0
    rep.bind(f"tcp://127.0.0.1:{port}")
    rep.rcvtimeo = 3000  # ends once the client is done
    print("ready", flush=True)
    try:
        while True:
            rep.send(rep.recv())
    except z.Again:
        pass
    rep.close()
    ctx.term()


def thread_cpu() -> dict:
    """{thread name (and id): (user s, system s)} for this process's threads (Linux)."""
    tck = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:  # (a thread that just ended)
            continue
        out[f"{name}/{tid}"] = (int(fields[11]) / tck, int(fields[12]) / tck)
    return out


def client(lib: str, port: int, cycles: int, threads: bool = False) -> tuple[float, float]:
    z = _lib(lib)
    ctx = z.Context()
    endpoint = f"tcp://127.0.0.1:{port}"

    def run(n: int) -> None:
        for i in range(n):
            s = ctx.socket(z.REQ)
            s.setsockopt(z.LINGER, 0)
            s.setsockopt(z.RCVTIMEO, 3000)
            s.connect(endpoint)
            msg = b"%d" % i
            s.send(msg)
            if s.recv() != msg:
                raise SystemExit(f"cycle {i}: wrong echo")
            s.close()

    run(200)  # warm-up
    before = thread_cpu() if threads else {}
    t0, c0 = time.perf_counter(), time.process_time()
    run(cycles)
    rate = cycles / (time.perf_counter() - t0)
    cpu_us = 1e6 * (time.process_time() - c0) / cycles
    for name, (user, system) in thread_cpu().items():
        if name in before:
            u = 1e6 * (user - before[name][0]) / cycles
            k = 1e6 * (system - before[name][1]) / cycles
            if u + k >= 5:
                print(f"  {lib} client, thread {name}: user {u:.0f} us, system {k:.0f} us")
    ctx.term()
    return rate, cpu_us


def pairing(
    client_lib: str, server_lib: str, cycles: int, port: int, threads: bool = False
) -> tuple[float, float]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", server_lib, "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if server.stdout is None or server.stdout.readline().strip() != "ready":
            raise SystemExit("the server did not start")
        out = subprocess.run(
            [sys.executable, __file__, "--client", client_lib, "--port", str(port)]
            + ["--cycles", str(cycles)]
            + (["--threads"] if threads else []),
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout.splitlines()
        for line in out[:-1]:
            print(line)
        rate, cpu = out[-1].split()
        return float(rate), float(cpu)
    finally:
        server.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument(
        "--threads",
        action="store_true",
        help="also print the client's CPU per thread and connection (Linux /proc)",
    )
    ap.add_argument("--serve", choices=("fastzmq", "pyzmq"), help=argparse.SUPPRESS)
    ap.add_argument("--client", choices=("fastzmq", "pyzmq"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(a.serve, a.port)
        return
    if a.client:
        rate, cpu = client(a.client, a.port, a.cycles, a.threads)
        print(f"{rate:.1f} {cpu:.1f}")
        return
    pairs = [(c, s) for c in ("fastzmq", "pyzmq") for s in ("fastzmq", "pyzmq")]
    results: dict = {p: [] for p in pairs}
    for r in range(a.rounds):
        for i, p in enumerate(pairs):
            # a fresh port per run: no TIME_WAIT or late peer of the previous pairing
            port = a.port + 1 + (r * len(pairs) + i) % 500
            results[p].append(pairing(p[0], p[1], a.cycles, port, a.threads))
    for (c, s), runs in results.items():
        rate = statistics.median(x for x, _ in runs)
        cpu = statistics.median(y for _, y in runs)
        print(f"client {c:8s} server {s:8s} {rate:8.0f} conn/s  client CPU {cpu:5.0f} us/conn")


if __name__ == "__main__":
    main()

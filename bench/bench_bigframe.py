"""Huge single-frame messages over tcp/ipc: receive time and the receiver's peak RSS.

The sender is a subprocess (fastzmq PUSH, bodies sent by reference); it sends one small
"go" message, then COUNT messages of SIZE bytes. The receiver (this process, PULL) starts
its clock at "go" and stops it when the last byte of the last message is in its hands.

    PYTHONPATH=src python bench/bench_bigframe.py [--sizes 1M,64M,1G] [--repeat 3]
        [--transport tcp|ipc] [--count N]

Prints one line per size: median wall time per message, MB/s, the receiver process's
median CPU time per message (user + system: steadier than wall time on a shared machine),
and its peak RSS growth (ru_maxrss; each size runs in a fresh receiver process).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SENDER = r"""
import sys, fastzmq as zmq
addr, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = zmq.Context()
s = ctx.socket(zmq.PUSH)
s.sndtimeo = 120000
s.linger = 120000
s.connect(addr)
body = b"x" * size
s.send(b"go")
for _ in range(count):
    s.send(body)
s.close()
ctx.term()
"""

RECEIVER = r"""
import json, resource, subprocess, sys, time, fastzmq as zmq
sender, addr = sys.argv[1], sys.argv[2]
size, count, repeat = (int(a) for a in sys.argv[3:6])
ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.rcvtimeo = 120000
if addr.startswith("tcp"):
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    addr = f"tcp://127.0.0.1:{port}"
else:
    pull.bind(addr)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = []
cpus = []
for _ in range(repeat):
    p = subprocess.Popen([sys.executable, "-c", sender, addr, str(size), str(count)])
    assert pull.recv() == b"go"
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for _ in range(count):
        m = pull.recv()
        assert len(m) == size
        del m
    times.append((time.perf_counter() - t0) / count)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpus.append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / count)
    p.wait(timeout=120)
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"times": times, "cpus": cpus, "rss_growth_mb": (rss1 - rss0) / 1024}))
pull.close()
ctx.term()
"""


def parse_size(s: str) -> int:
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1M,64M,1G")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--transport", default="tcp", choices=["tcp", "ipc"])
    ap.add_argument("--count", type=int, default=0, help="messages per run (0: by size)")
    args = ap.parse_args()
    for s in args.sizes.split(","):
        size = parse_size(s)
        count = args.count or max(1, min(200, (256 << 20) // size))
        with tempfile.TemporaryDirectory() as d:
            addr = "tcp://" if args.transport == "tcp" else f"ipc://{d}/big.ipc"
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    RECEIVER,
                    SENDER,
                    addr,
                    str(size),
                    str(count),
                    str(args.repeat),
                ],
                capture_output=True,
                text=True,
                timeout=600,
                env=os.environ,
            )
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            raise SystemExit(out.returncode)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        med = statistics.median(r["times"])
        cpu = statistics.median(r["cpus"])
        print(
            f"{args.transport} {s:>5} x{count:<4} median {med * 1e3:9.2f} ms/msg "
            f"{size / med / 1e6:6.0f} MB/s  receiver CPU {cpu * 1e3:8.2f} ms/msg  "
            f"runs {[round(t * 1e3, 1) for t in r['times']]}  "
            f"peak RSS +{r['rss_growth_mb']:.0f} MB",
            flush=True,
        )
        time.sleep(0.2)


if __name__ == "__main__":
    main()

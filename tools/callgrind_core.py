"""Instructions per send / recv of a 16-byte message, counted by callgrind.

Usage: ``PYTHONPATH=src python tools/callgrind_core.py [N]`` (valgrind must be installed;
``CASES=a,b`` runs only those cases).

Each case runs twice under ``valgrind --tool=callgrind --separate-threads=yes``: once
with the measured phase repeated N times and once with it repeated 0 times (same set-up),
and prints (Ir of the caller's thread, N run - 0 run) / N. Only the caller's thread is
counted: the I/O thread's work (and its waiting) is not part of send/recv.

Cases: push-pull over inproc and tcp (send phase: N sends with no HWM; recv phase: N
recvs of messages already queued), and a REQ/REP round trip (req.send, rep.recv,
rep.send, req.recv) over inproc and tcp (tcp: blocking recvs; the "poll" case adds a
poll before each recv). tcp counts vary from run to run (how often a blocked call wakes
depends on the I/O thread's timing under valgrind); inproc counts are exact.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time

MSG = b"x" * 16


def _pair(zmq, ctx, a, b, transport):
    s = ctx.socket(a)
    r = ctx.socket(b)
    for x in (s, r):
        x.sndhwm = 0
        x.rcvhwm = 0
        x.linger = 0
    if transport == "inproc":
        r.bind("inproc://cg")
        s.connect("inproc://cg")
    else:
        port = r.bind_to_random_port("tcp://127.0.0.1")
        s.connect(f"tcp://127.0.0.1:{port}")
    return s, r


def child(case: str, n: int) -> None:
    if "tcp" in case:
        # no spinning before a sleep: what a spin costs depends on how long the I/O
        # thread takes under valgrind, not on the socket core
        os.environ["FASTZMQ_SPIN_US"] = "0"
    import fastzmq as zmq

    ctx = zmq.Context()
    kind, transport, phase = case.split(":")
    if kind == "pushpull":
        s, r = _pair(zmq, ctx, zmq.PUSH, zmq.PULL, transport)
        s.send(MSG)  # warm up: connection made, one message through
        assert r.poll(20000)
        r.recv()
        send = s.send
        for _ in range(n):
            send(MSG)
        if phase == "recv":
            if transport == "tcp":
                time.sleep(3.0)  # let the I/O thread move every byte (same in both runs)
            recv = r.recv
            for _ in range(n):
                recv(zmq.DONTWAIT)
    else:
        q, p = _pair(zmq, ctx, zmq.REQ, zmq.REP, transport)
        for i in range(n + 1):  # the first round trip warms up
            if i == 1 and n == 0:
                break
            q.send(MSG)
            if phase == "poll":
                assert p.poll(20000)
            p.recv()  # (tcp: a blocking recv, FASTZMQ_SPIN_US=0: it sleeps on the fd)
            p.send(MSG)
            if phase == "poll":
                assert q.poll(20000)
            q.recv()
        s, r = q, p
    s.close()
    r.close()
    ctx.term()


def _ir(out_prefix: str) -> int:
    """Ir of the main thread (the file of thread 1)."""
    files = sorted(glob.glob(out_prefix + "*-01")) or sorted(glob.glob(out_prefix + "*"))
    with open(files[0]) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + files[0])


def run(case: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "cg.out")
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--separate-threads=yes",
                f"--callgrind-out-file={prefix}",
                sys.executable,
                __file__,
                "--child",
                case,
                str(n),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONHASHSEED="0"),  # the same dict layouts in every run
        )
        return _ir(prefix)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    cases = [
        ("pushpull:inproc:send", "push-pull inproc send"),
        ("pushpull:inproc:recv", "push-pull inproc send+recv"),
        ("pushpull:tcp:send", "push-pull tcp send"),
        ("pushpull:tcp:recv", "push-pull tcp send+recv"),
        ("reqrep:inproc:rt", "req-rep inproc round trip"),
        ("reqrep:tcp:rt", "req-rep tcp round trip"),
        ("reqrep:tcp:poll", "req-rep tcp round trip (+2 polls)"),
    ]
    only = os.environ.get("CASES")  # e.g. CASES=pushpull:tcp:send,pushpull:tcp:recv
    if only:
        cases = [c for c in cases if c[0] in only.split(",")]
    res = {}
    for case, label in cases:
        per = (run(case, n) - run(case, 0)) / n
        res[case] = per
        print(f"{label:40s} {per:8.0f} Ir/iteration", flush=True)
    for t in ("inproc", "tcp"):
        if f"pushpull:{t}:recv" not in res or f"pushpull:{t}:send" not in res:
            continue
        recv = res[f"pushpull:{t}:recv"] - res[f"pushpull:{t}:send"]
        print(f"{'push-pull ' + t + ' recv (difference)':40s} {recv:8.0f} Ir/iteration")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()

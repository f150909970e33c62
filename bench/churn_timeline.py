"""Where one churn cycle's time goes: a timeline across both processes' threads.

The cycle is the bench's churn-tcp one (a REQ connects, sends one message, waits for the
echo, closes; a REP in another process echoes), both ends fastzmq. Each process stamps
CLOCK_MONOTONIC (``time.perf_counter_ns``, one clock for every process on Linux) on entry
to and exit from the Python steps of a connection's life (wrapped methods of
``fastzmq._transport``) and around the client's own calls. The stamps of both processes
are merged, each cycle is taken from the client's ``socket()``, and every step's median
offset is printed in order: the gaps between them are the time spent elsewhere (the
kernel, wake-ups, the C handshake stager, the other process).

    PYTHONPATH=src python bench/churn_timeline.py --cycles 2000

The wrappers cost about a microsecond per stamp, so the cycle is a little slower than in
``churn_pairs.py``. What it showed on the 2-core machine (2026-12-04): ``bench/README.md``,
"Which side of a connection costs".
"""

from __future__ import annotations

import argparse
import functools
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

PORT = 5819

# (class name in fastzmq._transport, method, label): the steps stamped on each side
CLIENT_STEPS = [
    ("Connecter", "_hard_stop", "client io: teardown of the last connection"),
    ("Connecter", "_dial", "client: dial (at connect(), in the caller)"),
    ("Connecter", "_dialed", "client io: dialed"),
    ("Connection", "__init__", "client io: Connection()"),
    ("Connection", "start", "client io: start (greeting out)"),
    ("Connection", "_hsc_handover", "client io: handshake hand-over"),
    ("Connection", "_activate", "client io: activation (message out)"),
]
SERVER_STEPS = [
    ("Listener", "on_event", "server io: accept"),
    ("Connection", "start", "server io: start (greeting out)"),
    ("Connection", "_hsc_handover", "server io: handshake hand-over"),
    ("Connection", "_activate", "server io: activation"),
    ("Connection", "die", "server io: teardown (peer closed)"),
]


def _instrument(steps: list, marks: list) -> None:
    from fastzmq import _transport

    clock = time.perf_counter_ns
    for cls_name, method, label in steps:
        cls = getattr(_transport, cls_name)
        fn = getattr(cls, method)

        def wrapped(*args, __fn=fn, __label=label, **kwargs):
            marks.append((clock(), __label + " >"))
            try:
                return __fn(*args, **kwargs)
            finally:
                marks.append((clock(), __label + " <"))

        setattr(cls, method, functools.wraps(fn)(wrapped))


def serve(port: int, out: str) -> None:
    import fastzmq as zmq

    marks: list = []
    _instrument(SERVER_STEPS, marks)
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    rep.linger = 0
    rep.rcvtimeo = 2000  # ends once the client is done
    rep.bind(f"tcp://127.0.0.1:{port}")
    print("ready", flush=True)
    clock = time.perf_counter_ns
    try:
        while True:
            msg = rep.recv()
            marks.append((clock(), "server main: recv returned"))
            rep.send(msg)
    except zmq.Again:
        pass
    rep.close()
    ctx.term()
    with open(out, "wb") as f:
        pickle.dump(marks, f)


def client(port: int, cycles: int, out: str) -> None:
    import fastzmq as zmq

    marks: list = []
    _instrument(CLIENT_STEPS, marks)
    ctx = zmq.Context()
    endpoint = f"tcp://127.0.0.1:{port}"
    clock = time.perf_counter_ns

    def run(n: int, keep: bool) -> None:
        for i in range(n):
            if not keep:
                marks.clear()
            marks.append((clock(), "client main: socket() >"))
            s = ctx.socket(zmq.REQ)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 3000)
            marks.append((clock(), "client main: connect() >"))
            s.connect(endpoint)
            msg = b"%d" % i
            s.send(msg)
            marks.append((clock(), "client main: recv() >"))
            if s.recv() != msg:
                raise SystemExit(f"cycle {i}: wrong echo")
            marks.append((clock(), "client main: recv() <"))
            s.close()
            marks.append((clock(), "client main: close() <"))

    run(200, keep=False)  # warm-up
    marks.clear()
    t0 = time.perf_counter()
    run(cycles, keep=True)
    rate = cycles / (time.perf_counter() - t0)
    ctx.term()
    with open(out, "wb") as f:
        pickle.dump((rate, marks), f)


def timeline(marks: list, cycles: int) -> list:
    """[(label, median offset in us from the cycle's socket())] in order of the medians,
    for the steps seen in at least half of the cycles."""
    offsets: dict = {}
    start = None
    seen: set = set()
    for t, label in sorted(marks):
        if label == "client main: socket() >":
            start, seen = t, set()
        if start is None or label in seen:
            continue  # (before the first cycle; a step's second run in a cycle)
        seen.add(label)
        offsets.setdefault(label, []).append((t - start) / 1000)
    rows = [(k, statistics.median(v)) for k, v in offsets.items() if len(v) >= cycles / 2]
    return sorted(rows, key=lambda r: r[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(a.port, a.out)
        return
    if a.client:
        client(a.port, a.cycles, a.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        s_out, c_out = os.path.join(tmp, "server"), os.path.join(tmp, "client")
        me = [sys.executable, __file__, "--port", str(a.port)]
        server = subprocess.Popen(
            me + ["--serve", "--out", s_out], stdout=subprocess.PIPE, text=True
        )
        try:
            if server.stdout is None or server.stdout.readline().strip() != "ready":
                raise SystemExit("the server did not start")
            subprocess.run(
                me + ["--client", "--cycles", str(a.cycles), "--out", c_out],
                timeout=300,
                check=True,
            )
        finally:
            server.wait(30)
        with open(c_out, "rb") as f:
            rate, marks = pickle.load(f)
        with open(s_out, "rb") as f:
            marks += pickle.load(f)
    print(f"{a.cycles} cycles, {rate:.0f} conn/s ({1e6 / rate:.0f} us per cycle)")
    print(f"{'step':48s} {'median us from socket()':>24s}")
    for label, offset in timeline(marks, a.cycles):
        print(f"{label:48s} {offset:24.1f}")


if __name__ == "__main__":
    main()

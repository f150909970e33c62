"""An independent REQ/REP round-trip harness, written the way a user would time it.

Two processes on tcp://127.0.0.1: a REP echo server (``sock.send(sock.recv())`` forever) and a
REQ client timing each ``send``/``recv`` pair with ``time.perf_counter_ns``. No RCVTIMEO on either
side (plain blocking calls), and each process runs a second Python thread:

* ``--idle event`` (default): the thread blocks in ``threading.Event().wait()`` and never runs;
* ``--idle sleep``: the thread wakes every ``--sleep-ms`` (5 ms) in a ``time.sleep`` loop;
* ``--idle spin``: the thread is always runnable (a pure-Python busy loop), for contrast;
* ``--idle none``: no second thread.

``--rcvtimeo MS`` sets RCVTIMEO on both sockets, as the project's bench does, to compare.

    python bench/reqrep_harness.py --lib fastzmq
    python bench/reqrep_harness.py --lib pyzmq --idle sleep

Prints one line: library, idle mode, median and p99 round trip in microseconds.

What it showed (2-core VM shared with other jobs, load average 4-6): run back to back, this
harness and ``python -m fastzmq.bench --only req-rep-tcp`` agree (fastzmq 35-57 us, pyzmq
66-104 us in both). The idle thread, blocked (``event``) or waking every 5 ms (``sleep``),
changes nothing measurable, nor does RCVTIMEO: a thread that does not want the GIL never
contends for it, so the spin's GIL release and re-take stay uncontended. What moves the
numbers is CPU contention from other processes: fastzmq's spin (see ``fastzmq.tuning``) saves
the socket-side wake-ups only while a round trip fits in its budget and the peer thread gets a
CPU at once; on an idle machine that gives about 20 us against pyzmq's 49, on a busy one the
spins often run out and both libraries pay kernel wake-ups. ``--idle spin`` (a runnable
Python thread) shows the one GIL effect there is, the same for both libraries: every
re-take of the GIL waits for the switch interval (5 ms), so a round trip costs milliseconds.

Its two modes (2026-12-05, quiet 2-core VM, default spin): most runs give 40-56 us, some
26-35 us, against pyzmq's 74-78 us in every run. ``perf sched timehist`` during runs shows
what decides: in the slow runs the scheduler keeps both socket threads (the client's and
the server's) on one CPU, spinning and yielding to each other every few microseconds, and
both I/O threads on the other, waking each other through the loopback one after the other;
in the fast runs the four threads are mixed. A placement holds for the whole run (a
wake-up pulls an I/O thread to its waker's CPU; a spinner stays where it is). With
``FASTZMQ_SPIN_US=0`` every run gives about 60 us; a budget of 100 or 150 us leaves the
two modes as they are (medians of 6 runs: 39.5 and 43.0 us, against 44.3 at 50). Nor
does how often a spinner yields its CPU (``_SPIN_CHECK_MASK`` in ``_waiter``, every 64
pauses): every 16 gave 38-60 us in 8 runs; every 256, 25-27 us in 5 runs of 10 but 70-80
us in the other 5 (slower than pyzmq); every 1024, 47-60 us; every 64 in the same set,
26-28 us in 2 runs and 42-56 us in 8.

What removed the modes (2026-12-05, same VM): fewer threads in a round trip. REQ and REP
now do their connection's I/O in the socket's thread when they can (direct I/O: the send
written by the socket's thread, the reply read by its blocked recv; ARCHITECTURE.md,
"Threads and ownership"), so a round trip wakes two threads instead of six. Eight runs
of each, alternated with the tree before and pyzmq: fastzmq 20.5-33.0 us (median 20.8),
the tree before 39.8-56.7 (median 55.1), pyzmq 76.4-93.5 (median 77.7); with ``--idle
sleep`` 29.2-34.8 against 75.8-79.9, with ``--idle none`` 20.6-20.8 against 74.4-75.0.
``FASTZMQ_DIRECT=0`` gives the old behaviour back, to compare.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import threading
import time

STOP = b"stop"


def load(lib: str):
    return importlib.import_module("zmq" if lib == "pyzmq" else "fastzmq")


def start_idle_thread(mode: str, sleep_ms: float) -> threading.Event:
    """The second Python thread of the process; set the returned event to end it."""
    done = threading.Event()
    if mode == "none":
        return done

    def event_wait() -> None:
        done.wait()

    def sleep_loop() -> None:
        while not done.is_set():
            time.sleep(sleep_ms / 1000.0)

    def busy_loop() -> None:
        n = 0
        while not done.is_set():
            n += 1

    target = {"event": event_wait, "sleep": sleep_loop, "spin": busy_loop}[mode]
    threading.Thread(target=target, daemon=True).start()
    return done


def die_with_parent() -> None:
    """Linux: the server gets SIGKILL when the client process ends, even killed mid-run."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        parent = os.getppid()
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)


def serve(args: argparse.Namespace) -> None:
    die_with_parent()
    z = load(args.lib)
    done = start_idle_thread(args.idle, args.sleep_ms)
    ctx = z.Context()
    sock = ctx.socket(z.REP)
    sock.setsockopt(z.LINGER, 0)
    if args.rcvtimeo >= 0:
        sock.setsockopt(z.RCVTIMEO, args.rcvtimeo)
    sock.bind("tcp://127.0.0.1:0")
    endpoint = sock.getsockopt(z.LAST_ENDPOINT)
    print(endpoint.decode() if isinstance(endpoint, bytes) else endpoint, flush=True)
    while True:
        msg = sock.recv()
        sock.send(msg)
        if msg == STOP:
            break
    done.set()
    sock.close()
    ctx.term()


def client(args: argparse.Namespace, endpoint: str) -> list:
    z = load(args.lib)
    done = start_idle_thread(args.idle, args.sleep_ms)
    ctx = z.Context()
    sock = ctx.socket(z.REQ)
    sock.setsockopt(z.LINGER, 0)
    if args.rcvtimeo >= 0:
        sock.setsockopt(z.RCVTIMEO, args.rcvtimeo)
    sock.connect(endpoint)
    msg = b"x" * args.size
    send, recv, clock = sock.send, sock.recv, time.perf_counter_ns
    lat = []
    for i in range(args.warm + args.n):
        t = clock()
        send(msg)
        reply = recv()
        lat.append(clock() - t)
        if reply != msg:
            raise SystemExit(f"round trip {i}: wrong reply {reply[:16]!r}")
    sock.send(STOP)
    sock.recv()
    done.set()
    sock.close()
    ctx.term()
    return lat[args.warm :]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", choices=["fastzmq", "pyzmq"], default="fastzmq")
    ap.add_argument("--idle", choices=["event", "sleep", "spin", "none"], default="event")
    ap.add_argument("--sleep-ms", type=float, default=5.0)
    ap.add_argument("-n", type=int, default=20000, help="timed round trips")
    ap.add_argument("--warm", type=int, default=2000, help="round trips before timing")
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--rcvtimeo", type=int, default=-1, help="RCVTIMEO ms on both; -1: unset")
    ap.add_argument(
        "--role", choices=["client", "server"], default="client", help=argparse.SUPPRESS
    )
    args = ap.parse_args(argv)
    if args.role == "server":
        serve(args)
        return 0
    cmd = [sys.executable, os.path.abspath(__file__), "--role", "server"]
    cmd += ["--lib", args.lib, "--idle", args.idle, "--sleep-ms", str(args.sleep_ms)]
    cmd += ["--rcvtimeo", str(args.rcvtimeo)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        endpoint = server.stdout.readline().strip()
        if not endpoint:
            raise SystemExit("the server did not start")
        lat = client(args, endpoint)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    lat.sort()
    med = statistics.median(lat) / 1e3
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1e3
    print(
        f"{args.lib:8s} idle={args.idle:5s} rcvtimeo={args.rcvtimeo:5d} "
        f"n={len(lat)} median={med:6.1f} us p99={p99:7.1f} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

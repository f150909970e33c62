"""Benchmark of the SPSC ring (fastzmq._ring): C-level data path and the Python object ring.

    PYTHONPATH=src python bench/bench_ring.py [--quick]

Measures:
- single thread, nogil: write+publish(1) then read_space+consume(.., 1) per message, waiters
  attached but never asleep: the uncontended cost of the data path (ns per message, both halves);
- two threads, nogil loops (producer + consumer), waiters attached, HWM 10000: messages/s and
  MB/s for 16 B and 4 KiB messages;
- ObjectRing put/get between two Python threads (the consumer sleeps on a Waiter when empty).
"""

from __future__ import annotations

import argparse
import threading
import time

from fastzmq import _ring
from fastzmq._ring import ObjectRing
from fastzmq._waiter import Waiter


def bench_single(nmsgs: int) -> None:
    for size in (16, 4096):
        ns = min(_ring._bench_single_thread(nmsgs, size) for _ in range(3))
        print(f"single thread   {size:5d} B: {ns:7.1f} ns/msg (write+publish+read_space+consume)")


def bench_spsc(nmsgs: int, size: int) -> None:
    best = None
    for _ in range(3):
        secs, cons, prod = _ring._bench_spsc(nmsgs, size)
        assert cons["rc"] == 0 and prod["rc"] == 0 and cons["done"] == nmsgs, (cons, prod)
        if best is None or secs < best[0]:
            best = (secs, cons, prod)
    secs, cons, prod = best
    rate = nmsgs / secs
    print(
        f"two threads     {size:5d} B: {rate / 1e6:7.2f} M msg/s  {rate * size / 1e6:8.1f} MB/s"
        f"  (consumer sleeps {cons['sleeps']}, producer sleeps {prod['sleeps']})"
    )


def bench_object_ring(nmsgs: int) -> None:
    ring = ObjectRing()
    w = Waiter()
    ring.ring.set_reader(w)
    item = b"x" * 16
    done = threading.Event()

    def consumer() -> None:
        got = 0
        get = ring.get
        while got < nmsgs:
            if get() is not None:
                got += 1
                continue
            w.arm()
            if get() is not None:
                w.disarm()
                got += 1
                continue
            w.wait(1000)
            w.drain()
        done.set()

    t = threading.Thread(target=consumer)
    t0 = time.perf_counter()
    t.start()
    put = ring.put
    for _ in range(nmsgs):
        put(item)
    t.join()
    secs = time.perf_counter() - t0
    w.close()
    print(f"ObjectRing put/get, 2 Python threads: {nmsgs / secs / 1e6:6.2f} M objects/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer messages (a smoke run)")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    bench_single(10_000_000 // scale)
    bench_spsc(10_000_000 // scale, 16)
    bench_spsc(1_000_000 // scale, 4096)
    bench_object_ring(1_000_000 // scale)


if __name__ == "__main__":
    main()

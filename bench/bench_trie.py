"""Benchmark the subscription tries (fastzmq._trie) with many random subscriptions.

Run: ``PYTHONPATH=src python bench/bench_trie.py [--subs 100000] [--pipes 64]``

Measures, for Trie (SUB side) and Mtrie (PUB side):
  subscribe rate (add), cancel rate (remove), Mtrie.remove_pipe time (a walk),
  match/check rate for a topic that matches exactly one subscription, both as a C-level
  loop (``_bench_match``/``_bench_check``: match_c/check_c without the GIL) and as a
  Python-level loop of ``match()``/``check()``; and the same match with 1k subscriptions,
  to show that matching cost does not grow with the number of subscriptions.
The plain-Python reference model's match is timed too, for scale.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Callable, List

from fastzmq import _trie, _trie_py


def rate(fn: Callable[[], int], min_time: float = 0.3) -> float:
    """Operations per second of fn (which returns how many operations it did)."""
    ops, start = 0, time.perf_counter()
    while True:
        ops += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return ops / elapsed


def random_subs(n: int, seed: int = 1) -> List[bytes]:
    rng = random.Random(seed)
    seen: dict = {}  # insertion-ordered: the same list on every run
    while len(seen) < n:
        seen[rng.randbytes(rng.randint(4, 16))] = None
    return list(seen)


def one_match_topic(subs: List[bytes]) -> bytes:
    """A topic that exactly one subscription is a prefix of (checked by brute force)."""
    for s in subs:
        topic = s + b".payload"
        if sum(topic.startswith(p) for p in subs) == 1:
            return topic
    raise RuntimeError("no topic matching exactly one subscription")


def show(label: str, value: float, unit: str = "/s", fmt: str = ",.0f") -> None:
    print(f"  {label:<34} {value:>14{fmt}} {unit}")


def py_loop(fn: Callable[[bytes], object], topic: bytes, n: int = 10000) -> int:
    for _ in map(fn, [topic] * n):
        pass
    return n


def timed(label: str, fn: Callable[[], None], n: int) -> None:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {n / elapsed:>14,.0f} /s   ({elapsed * 1e3:8.1f} ms for {n:,})")


def bench_trie(subs: List[bytes], topic: bytes) -> None:
    print(f"Trie (SUB side), {len(subs):,} subscriptions")
    t = _trie.Trie()
    timed("subscribe (add)", lambda: [t.add(p) for p in subs], len(subs))
    show("C nodes", t.nodes, "")
    assert t.check(topic)
    n = 1_000_000
    show("check, C loop (check_c)", rate(lambda: t._bench_check(topic, n)))
    show("check, Python loop", rate(lambda: py_loop(t.check, topic)))
    timed("cancel (remove)", lambda: [t.remove(p) for p in subs], len(subs))
    assert t.nodes == 1


def match_rates(m: _trie.Mtrie, topic: bytes) -> tuple:
    c_rate = rate(lambda: m._bench_match(topic, 1_000_000))
    py_rate = rate(lambda: py_loop(m.match, topic))
    return c_rate, py_rate


def bench_mtrie(subs: List[bytes], topic: bytes, npipes: int) -> None:
    print(f"Mtrie (PUB side), {len(subs):,} subscriptions over {npipes} pipes")
    m = _trie.Mtrie()
    timed("subscribe (add)", lambda: [m.add(p, i % npipes) for i, p in enumerate(subs)], len(subs))
    show("C nodes", m.nodes, "")
    assert len(m.match(topic)) == 1
    c_rate, py_rate = match_rates(m, topic)
    show("match, C loop (match_c)", c_rate)
    show("match, Python loop (-> set)", py_rate)
    timed(
        "cancel (remove)", lambda: [m.remove(p, i % npipes) for i, p in enumerate(subs)], len(subs)
    )
    assert m.nodes == 1
    for i, p in enumerate(subs):
        m.add(p, i % npipes)
    start = time.perf_counter()
    m.remove_pipe(npipes)  # never subscribed: known from the per-pipe count
    show("remove_pipe, pipe without subs", (time.perf_counter() - start) * 1e6, "us", ",.1f")
    start = time.perf_counter()
    m.remove_pipe(0)
    show(f"remove_pipe, 1 of {npipes} pipes", (time.perf_counter() - start) * 1e3, "ms", ",.1f")


def bench_scaling(subs: List[bytes], topic: bytes) -> None:
    small = [s for s in subs[:1000]]
    if not any(topic.startswith(s) for s in small):
        small.append(next(s for s in subs if topic.startswith(s)))
    m = _trie.Mtrie()
    for i, p in enumerate(small):
        m.add(p, i % 64)
    c_rate, py_rate = match_rates(m, topic)
    print(f"Mtrie with {len(small):,} subscriptions (same topic): matching cost vs set size")
    show("match, C loop (match_c)", c_rate)
    show("match, Python loop (-> set)", py_rate)


def bench_model(subs: List[bytes], topic: bytes) -> None:
    ref = _trie_py.Mtrie()
    for i, p in enumerate(subs):
        ref.add(p, i % 64)
    print(f"Reference model (_trie_py, linear scan), {len(subs):,} subscriptions")
    show("match, Python", rate(lambda: len(ref.match(topic))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subs", type=int, default=100_000)
    ap.add_argument("--pipes", type=int, default=64)
    args = ap.parse_args()
    subs = random_subs(args.subs)
    topic = one_match_topic(subs)
    print(f"topic: {len(topic)} bytes, matches exactly 1 subscription\n")
    bench_trie(subs, topic)
    bench_mtrie(subs, topic, args.pipes)
    bench_scaling(subs, topic)
    bench_model(subs, topic)


if __name__ == "__main__":
    main()

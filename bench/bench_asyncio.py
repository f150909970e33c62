"""asyncio PUSH/PULL throughput: fastzmq.asyncio against zmq.asyncio (pyzmq).

One process, one event loop per run: a producer task awaits ``send`` of N messages
of SIZE bytes, a consumer task awaits ``recv`` of all of them, over tcp on
127.0.0.1 (or --transport ipc/inproc). Runs alternate between the two libraries
(fastzmq, pyzmq, fastzmq, ...) so drift hits both alike; the table reports the
median msg/s of each and their ratio.

    PYTHONPATH=src python bench/bench_asyncio.py [-n 200000] [-r 7] [--size 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time


def _address(transport: str, k: int) -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return f"ipc://{tempfile.gettempdir()}/bench-aio-{k}-{time.monotonic_ns()}"
    return f"inproc://bench-aio-{k}"


async def _pushpull(mod, ctx, n: int, size: int, addr: str) -> float:
    pull = ctx.socket(mod.PULL)
    push = ctx.socket(mod.PUSH)
    pull.bind(addr)
    push.connect(pull.getsockopt(mod.LAST_ENDPOINT).decode())
    payload = b"x" * size
    await push.send(payload)  # connection up before the clock starts
    await pull.recv()

    async def produce() -> None:
        send = push.send
        for _ in range(n):
            await send(payload)

    t0 = time.perf_counter()
    producer = asyncio.ensure_future(produce())
    recv = pull.recv
    for _ in range(n):
        await recv()
    await producer
    dt = time.perf_counter() - t0
    push.close(linger=0)
    pull.close(linger=0)
    return n / dt


def run_once(lib: str, n: int, size: int, transport: str, k: int) -> float:
    if lib == "fastzmq":
        import fastzmq as mod
        import fastzmq.asyncio as amod
    else:
        import zmq as mod
        import zmq.asyncio as amod
    ctx = amod.Context()
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_pushpull(mod, ctx, n, size, _address(transport, k)))
    finally:
        loop.close()
        ctx.term()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200_000, help="messages per run")
    ap.add_argument("-r", "--repeats", type=int, default=7)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--transport", default="tcp", choices=["tcp", "ipc", "inproc"])
    args = ap.parse_args()
    rates: dict[str, list[float]] = {"fastzmq": [], "pyzmq": []}
    run_once("fastzmq", args.n // 10, args.size, args.transport, -1)  # warm up both
    run_once("pyzmq", args.n // 10, args.size, args.transport, -2)
    for k in range(args.repeats):
        for lib in ("fastzmq", "pyzmq") if k % 2 == 0 else ("pyzmq", "fastzmq"):
            rates[lib].append(run_once(lib, args.n, args.size, args.transport, k))
    med = {lib: statistics.median(v) for lib, v in rates.items()}
    print(f"asyncio PUSH/PULL, {args.transport}, {args.size} B, {args.n} msgs x {args.repeats}")
    for lib, v in rates.items():
        spread = f"min {min(v):,.0f} max {max(v):,.0f}"
        print(f"  {lib:8s} median {med[lib]:>12,.0f} msg/s  ({spread})")
    print(f"  ratio fastzmq/pyzmq: {med['fastzmq'] / med['pyzmq']:.2f}x")


if __name__ == "__main__":
    main()

"""epgm throughput on the network test bed: fastzmq and libzmq (Debian's 4.3.4 +
OpenPGM, through /usr/bin/python3's python3-zmq), 64 B and 4 KiB messages, with
optional loss on the receiving host (repairs counted where fastzmq receives).

Run as root (it builds network namespaces): ``python bench/bench_pgm.py [--loss 1]
[--seconds 2] [--rate 1000000]``. The source sends for ``--seconds`` at RATE kbit/s
(SNDHWM 1000: a PUB drops past it); the receiver counts whole messages and measures
from the first to the last. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from netbed import NetBed, Proc, unavailable  # noqa: E402

GROUP, PORT = "239.192.9.1", 5600

SUB = """
import json, time
import @MOD@ as zmq
c = zmq.Context()
s = c.socket(zmq.SUB)
s.setsockopt(zmq.SUBSCRIBE, b"")
s.setsockopt(zmq.RATE, @RATE@)
s.setsockopt(zmq.RCVTIMEO, 8000)
s.connect("epgm://@ADDR@;@GROUP@:@PORT@")
print("ready", flush=True)
n = 0
s.recv()
t0 = t1 = time.monotonic()
s.setsockopt(zmq.RCVTIMEO, 1000)
try:
    while True:
        s.recv()
        n += 1
        t1 = time.monotonic()
except zmq.Again:
    pass
stats = {}
if "@MOD@" == "fastzmq":
    from fastzmq import _pgm_transport
    stats = _pgm_transport.stats(s)
print("result", json.dumps([n, t1 - t0, stats]), flush=True)
s.close(0); c.term()
"""

PUB = """
import time
import @MOD@ as zmq
c = zmq.Context()
p = c.socket(zmq.PUB)
p.setsockopt(zmq.RATE, @RATE@)
p.connect("epgm://@ADDR@;@GROUP@:@PORT@")
time.sleep(0.3)
msg = b"m" * @SIZE@
t0 = time.monotonic()
sent = 0
while time.monotonic() - t0 < @SECONDS@:
    for _ in range(100):
        p.send(msg)
    sent += 100
    if @YIELD@:
        time.sleep(0.0005)  # leave the GIL to the I/O thread now and then
print("sent", sent, flush=True)
time.sleep(2.5)
p.close(0); c.term()
"""


def fill(code: str, **kw: object) -> str:
    for k, v in kw.items():
        code = code.replace(f"@{k}@", str(v))
    return code


def one(bed: NetBed, mod: str, size: int, args: argparse.Namespace) -> dict:
    py = "/usr/bin/python3" if mod == "zmq" else sys.executable
    env = bed.env()

    def spawn(i: int, code: str) -> Proc:
        p = Proc(["ip", "netns", "exec", bed.hosts[i], py, "-c", code], env)
        bed.procs.append(p.popen)
        return p

    kw = dict(MOD=mod, GROUP=GROUP, PORT=PORT, RATE=args.rate, SIZE=size, SECONDS=args.seconds)
    kw["YIELD"] = args.yield_gil
    rx = spawn(1, fill(SUB, ADDR=bed.addrs[1], **kw))
    rx.expect("ready")
    tx = spawn(0, fill(PUB, ADDR=bed.addrs[0], **kw))
    sent = int(tx.expect("sent", args.seconds + 30).split()[1])
    n, secs, stats = json.loads(rx.expect("result", 60).split(" ", 1)[1])
    tx.wait(20)
    if os.environ.get("BENCH_PGM_DEBUG"):
        print(stats, rx.popen.stderr.read()[-3000:], file=sys.stderr)
    return {"sent": sent, "got": n, "secs": secs, "stats": stats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", type=int, default=0, help="percent dropped at the receiver")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rate", type=int, default=1000000, help="RATE, kbit/s")
    ap.add_argument("--impl", default="fastzmq,zmq")
    ap.add_argument("--yield-gil", action="store_true", help="the sender sleeps 0.5 ms per 100")
    args = ap.parse_args()
    why = unavailable()
    if why:
        sys.exit(f"bench_pgm: {why}")
    print(f"epgm, 2 namespaces on a bridge, RATE {args.rate} kbit/s, loss {args.loss}%")
    print("| impl | size | sent | received | msg/s | MB/s | repaired | lost |")
    print("|---|---|---|---|---|---|---|---|")
    for mod in args.impl.split(","):
        for size in (64, 4096):
            bed = NetBed(2)
            try:
                if args.loss:
                    bed.loss(1, args.loss)
                r = one(bed, mod, size, args)
            finally:
                bed.close()
            rate = r["got"] / r["secs"] if r["secs"] > 0 else 0.0
            st = r["stats"]
            name = "fastzmq" if mod == "fastzmq" else "libzmq 4.3.4"
            print(
                f"| {name} | {size} | {r['sent']} | {r['got']} | {rate:,.0f} | "
                f"{rate * size / 1e6:.1f} | {st.get('repaired', '-')} | {st.get('lost', '-')} |"
            )


if __name__ == "__main__":
    main()

"""CURVE per-frame cost: ns per frame sealed / opened by the I/O thread's codec, and the
libsodium calls inside them, for 16 B, 4 KiB and 64 KiB frames.

Run: ``PYTHONPATH=src python bench/bench_curve.py``. Measured in nogil loops
(``_curve._bench_frames``):

* seal: ``begin_frame`` + ``seal_last_from`` (header, short nonce, Salsa20 + Poly1305 from
  where the body lies into the staging buffer), what the engine does per outbound frame
* open: ``open_into`` (form, nonce order, Poly1305 verify, decrypt), per inbound frame
* salsa20_block0: keystream block 0 (the Poly1305 key and the first 32 bytes' stream)
* salsa20_rest: the stream from block 1 on (frames above 31 bytes)
* poly1305 / poly1305_verify: the tag over flags + body

seal - (block0 + rest + poly1305) is the codec's own cost per frame; likewise for open.
Each figure is the median of several repeats.
"""

from __future__ import annotations

import statistics

from fastzmq import _curve

REPEATS = 7
SIZES = ((16, 200_000), (4096, 20_000), (65536, 2_000))


def main() -> None:
    names = ("seal", "open", "salsa20_block0", "salsa20_rest", "poly1305", "poly1305_verify")
    print("size    " + "".join(f"{n:>17}" for n in names) + "   (ns per frame, median)")
    for size, count in SIZES:
        runs = [_curve._bench_frames(size, count) for _ in range(REPEATS)]
        med = {n: statistics.median(r[n] for r in runs) for n in names}
        print(f"{size:<8}" + "".join(f"{med[n]:>17.1f}" for n in names))
        libsodium = med["salsa20_block0"] + med["salsa20_rest"] + med["poly1305"]
        print(
            f"{'':8}codec's own: seal {med['seal'] - libsodium:.1f} ns, open "
            f"{med['open'] - (libsodium - med['poly1305'] + med['poly1305_verify']):.1f} ns"
        )


if __name__ == "__main__":
    main()

"""Codec micro-benchmark: ns per frame for 16 B and 64 KiB frames.

Run: ``PYTHONPATH=src python bench/bench_codec.py``. Paths measured:

* C encode: ``encode_header`` + memcpy into one buffer, in a nogil loop (``_frame._bench_encode``)
* C scan: ``scan_frames`` over a buffer of many frames, nogil loop (``_frame._bench_scan``)
* Py encode: ``encode_frame`` / ``encode_message`` called from Python
* Py decode: ``Decoder.feed`` + ``Decoder.frames()`` (one ``bytes`` per frame body)

Each figure is the median of several repeats.
"""

from __future__ import annotations

import statistics
import time

from fastzmq import _frame

REPEATS = 7


def median_ns(fn, frames_per_call):
    samples = [fn() / frames_per_call * 1e9 for _ in range(REPEATS)]
    return statistics.median(samples)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_size(size, count, loops):
    body = b"\x5a" * size
    stream = _frame.encode_frame(body) * count
    parts = [body] * 4

    def py_encode():
        return timed(lambda: [_frame.encode_frame(body) for _ in range(count)])

    def py_encode_msg():
        return timed(lambda: [_frame.encode_message(parts) for _ in range(count // 4)])

    def py_decode():
        def run():
            dec = _frame.Decoder()
            dec.feed(stream)
            assert len(dec.frames()) == count

        return timed(run)

    return {
        "C encode": median_ns(lambda: _frame._bench_encode(size, count, loops), count * loops),
        "C scan": median_ns(lambda: _frame._bench_scan(stream, loops), count * loops),
        "Py encode_frame": median_ns(py_encode, count),
        "Py encode_message (4 parts)": median_ns(py_encode_msg, (count // 4) * 4),
        "Py Decoder": median_ns(py_decode, count),
    }


def main():
    print(f"{'path':32} {'16 B':>12} {'64 KiB':>12}   (ns/frame, median of {REPEATS})")
    small = bench_size(16, 100_000, 20)
    large = bench_size(65536, 256, 20)
    for name in small:
        print(f"{name:32} {small[name]:12.1f} {large[name]:12.1f}")


if __name__ == "__main__":
    main()

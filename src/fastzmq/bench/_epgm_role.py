"""One side of an epgm benchmark run, as a plain script (``bench/epgm.py`` starts it
inside a network namespace): ``python _epgm_role.py MODULE ROLE SPEC_JSON``.

It imports nothing but MODULE (``fastzmq``, or ``zmq`` under the system's
/usr/bin/python3 for libzmq + OpenPGM), so it runs under either interpreter. It talks
to the parent by lines: stdout ``ready`` / ``synced`` / ``sent`` / ``result JSON``,
stdin ``go`` (the PUB may start) and ``stop`` (the PUB may close).

pub: probes (``P``) every 10 ms until ``go``, then sends SPEC's count numbered
messages (8-byte sequence number, padded to size) at SNDHWM 0, so nothing is dropped
at the PUB, and stays up (for repairs) until ``stop``. sub: reports ``synced`` at the
first probe, then takes every message in order; its rate is from the first numbered
message to the last.
"""

from __future__ import annotations

import importlib
import json
import select
import struct
import sys
import time

SEQ = struct.Struct("<Q")


def say(*words: object) -> None:
    print(*words, flush=True)


def stdin_word(timeout: float) -> str | None:
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if not ready:
        return None
    return sys.stdin.readline().strip() or "eof"


def make(z, kind: str, spec: dict):
    ctx = z.Context()
    s = ctx.socket(getattr(z, kind))
    s.setsockopt(z.RATE, spec["rate"])
    s.setsockopt(z.LINGER, 0)
    s.setsockopt(z.SNDHWM if kind == "PUB" else z.RCVHWM, 0)
    return ctx, s


def pub(z, spec: dict) -> None:
    ctx, s = make(z, "PUB", spec)
    s.connect(spec["endpoint"])
    say("ready")
    deadline = time.monotonic() + spec["setup_s"]
    word = None
    while word is None and time.monotonic() < deadline:
        s.send(b"P")
        word = stdin_word(0.01)
    if word != "go":
        say("result", json.dumps({"status": "timeout", "detail": "pub: no go"}))
        return
    pad = b"m" * max(0, spec["size"] - SEQ.size)
    pack, send = SEQ.pack, s.send
    for i in range(spec["count"]):
        send(pack(i) + pad)
    say("sent")
    stdin_word(spec["deadline_s"])  # "stop" once the SUB has its result (repairs until then)
    say("result", json.dumps({"status": "ok"}))
    s.close()
    ctx.term()


def sub(z, spec: dict) -> None:
    ctx, s = make(z, "SUB", spec)
    s.setsockopt(z.SUBSCRIBE, b"")
    s.setsockopt(z.RCVTIMEO, int(spec["setup_s"] * 1000))
    s.connect(spec["endpoint"])
    say("ready")
    res = {"status": "ok"}
    try:
        msg = s.recv()
    except z.Again:
        res = {"status": "timeout", "detail": "sub: no probe from the PUB"}
    else:
        say("synced")
        res = take(z, s, spec, msg)
    if spec["module"] == "fastzmq":
        from fastzmq import _pgm_transport

        st = _pgm_transport.stats(s)
        res["pgm_repaired"], res["pgm_lost"] = st.get("repaired", 0), st.get("lost", 0)
    say("result", json.dumps(res))
    s.close()
    ctx.term()


def take(z, s, spec: dict, msg: bytes) -> dict:
    count, size = spec["count"], spec["size"]
    s.setsockopt(z.RCVTIMEO, spec["idle_ms"])
    recv, unpack = s.recv, SEQ.unpack_from
    n = 0
    t0 = t1 = time.monotonic()
    try:
        while msg == b"P":
            msg = recv()
        t0 = time.monotonic()
        while True:
            if len(msg) != size:
                return {"status": "size", "detail": f"message {n}: {len(msg)} bytes"}
            seq = unpack(msg)[0]
            if seq != n:
                return {"status": "order", "detail": f"message {n}: got number {seq}"}
            n += 1
            if n == count:
                break
            msg = recv()
        t1 = time.monotonic()
    except z.Again:
        return {"status": "lost", "detail": f"LOST {count - n} of {count}", "received": n}
    secs = t1 - t0
    rate = (n - 1) / secs if secs > 0 and n > 1 else 0.0
    return {"status": "ok", "rate": rate, "seconds": secs, "received": n}


def main() -> None:
    module, role, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    spec["module"] = module
    try:
        z = importlib.import_module(module)
        {"pub": pub, "sub": sub}[role](z, spec)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        say("result", json.dumps({"status": "error", "detail": f"{role}: {exc!r}"}))


if __name__ == "__main__":
    main()

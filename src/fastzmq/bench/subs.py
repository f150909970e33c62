"""Subscription workloads: subscribe and cancel rates, and matching with many topics.

Theory of operation
-------------------
ZMTP carries a SUB's subscriptions to its publisher as messages (RFC 29, and
RFC 37 section "Subscription" for the 3.1 SUBSCRIBE/CANCEL commands; libzmq
sends the 3.0 form, a message starting with byte 1 or 0). The only way to
measure them through both implementations alike is through sockets:

* subscribe / cancel rate (``subs_sub`` measures, ``subs_xpub`` counts): the
  SUB connects and subscribes the marker topic ``HELO-connected``; the XPUB
  (verbose, so it passes every subscription up) reads until that marker's
  subscription and publishes the marker back, which the SUB waits for. For
  "cancel" the SUB then subscribes all N topics (untimed) and a second marker
  ``HELO-subscribed``, echoed the same way once the XPUB has all N (one
  connection keeps order). Only then, with the connection up and the XPUB
  idle, does the SUB read the clock and call setsockopt N times
  (``topic-000000``, ``topic-000001``, ...). The XPUB counts each distinct
  expected message, stops at N or after ``idle_ms`` without one, reads the
  clock and publishes ``HELO-done`` + count + time. The SUB's rate is N over
  (XPUB's last arrival - SUB's first setsockopt): both read
  ``time.monotonic_ns``, CLOCK_MONOTONIC on Linux, one clock for every process
  of the machine. Fewer than N arrivals is a "lost" result, never a rate.
  SNDHWM = RCVHWM = 0 on both sockets (``subs_hwm`` in the spec, 0 unless a
  test sets it): libzmq drops subscriptions past the SUB's SNDHWM or the
  XPUB's RCVHWM otherwise.
* match rate (``match_pub`` measures, ``match_sub`` checks): the SUB
  subscribes N topics, then ``HELO``, and syncs as the other PUB/SUB workloads
  do (probes until the SUB reports "synced"). The PUB then publishes 20-byte
  messages (12-byte topic + 8-byte sequence number) alternating between a
  subscribed topic and an unsubscribed one of the same shape
  (``topic-1xxxxx``, which shares every subscription's ``topic-`` prefix and
  only fails on the digits). The PUB's send loop is timed; the SUB checks that
  exactly the even sequence numbers arrived, in order.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Callable, Dict, List

from fastzmq.bench.notyet import SetupTimeout
from fastzmq.bench.roles import (
    PACK,
    PROBE,
    Sockets,
    bind,
    lost,
    probe_until_go,
    rate_result,
    receive_ordered,
    warm_count,
)

CONNECTED, SUBSCRIBED, DONE = b"HELO-connected", b"HELO-subscribed", b"HELO-done"
TOPIC_LEN = 12
MATCH_SIZE = TOPIC_LEN + 8


def topics(n: int, start: int = 0) -> List[bytes]:
    """n distinct 12-byte topics topic-<start> .. topic-<start+n-1> (6 digits)."""
    if start + n > 1_000_000:
        raise ValueError("at most 1,000,000 topics of six digits")
    return [b"topic-%06d" % i for i in range(start, start + n)]


def subscription_option(z: ModuleType, phase: str) -> int:
    return {"subscribe": z.SUBSCRIBE, "cancel": z.UNSUBSCRIBE}[phase]


# --- subscribe / cancel: XPUB side ------------------------------------------------


def _until_marker(z: ModuleType, sock, marker: bytes, wanted: Dict[bytes, int], spec: dict):
    """Read subscriptions until marker's, publish marker back (the SUB waits for it);
    how many distinct `wanted` subscriptions came before it."""
    sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
    seen = bytearray(len(wanted))
    try:
        msg = sock.recv()
        while msg != b"\x01" + marker:
            i = wanted.get(msg)
            if i is not None:
                seen[i] = 1
            msg = sock.recv()
    except z.Again:
        raise SetupTimeout(f"no {marker!r} subscription within {spec['setup_ms']} ms") from None
    sock.send(marker)
    return sum(seen)


def _count_burst(z: ModuleType, sock, wanted: Dict[bytes, int], spec: dict):
    """Distinct wanted messages received, and the time of the last one."""
    seen = bytearray(len(wanted))
    got, t_last = 0, time.monotonic_ns()
    sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])  # the SUB's burst starts after our marker
    recv = sock.recv
    try:
        while got < len(seen):
            i = wanted.get(recv())
            if i is not None and not seen[i]:
                seen[i] = 1
                got += 1
                t_last = time.monotonic_ns()
                if got == 1:
                    sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
    except z.Again:
        pass
    return got, t_last


def _with_flag(flag: bytes, names: List[bytes]) -> Dict[bytes, int]:
    return {flag + t: i for i, t in enumerate(names)}


def subs_xpub(z: ModuleType, spec: dict, chan) -> dict:
    n, phase = spec["size"], spec["phase"]
    names = topics(n)
    with Sockets(z, spec) as socks:
        sock = socks.make("XPUB", hwm=spec.get("subs_hwm", 0))
        sock.setsockopt(z.XPUB_VERBOSE, 1)
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        _until_marker(z, sock, CONNECTED, {}, spec)
        if phase == "cancel":
            setup = _until_marker(z, sock, SUBSCRIBED, _with_flag(b"\x01", names), spec)
            if setup != n:
                return dict(lost(n, setup), detail=f"setup: LOST {n - setup}/{n}")
        flag = b"\x01" if phase == "subscribe" else b"\x00"
        got, t_last = _count_burst(z, sock, _with_flag(flag, names), spec)
        sock.send(DONE + PACK.pack(got) + PACK.pack(t_last))
        return {"status": "ok", "received": got}


# --- subscribe / cancel: SUB side (the measurement) -----------------------------


def _await(z: ModuleType, sock, accept: Callable[[bytes], bool], timeout_ms: int) -> bytes:
    """The next message that `accept`s (others skipped), each recv within timeout_ms."""
    sock.setsockopt(z.RCVTIMEO, timeout_ms)
    while True:
        msg = sock.recv()
        if accept(msg):
            return msg


def _is_report(msg: bytes) -> bool:
    return msg.startswith(DONE) and len(msg) == len(DONE) + 16


def _handshake(z: ModuleType, sock, marker: bytes, spec: dict) -> None:
    """Subscribe marker and wait until the publisher sends it back."""
    sock.setsockopt(z.SUBSCRIBE, marker)
    try:
        _await(z, sock, marker.__eq__, spec["setup_ms"])
    except z.Again:
        raise SetupTimeout(f"{marker!r} not echoed within {spec['setup_ms']} ms") from None


def subs_sub(z: ModuleType, spec: dict, chan) -> dict:
    n, phase = spec["size"], spec["phase"]
    names = topics(n)
    with Sockets(z, spec) as socks:
        sock = socks.make("SUB", hwm=spec.get("subs_hwm", 0), linger=0)
        sock.connect(spec["endpoints"]["data"])
        _handshake(z, sock, CONNECTED, spec)
        sock.setsockopt(z.SUBSCRIBE, DONE)
        if phase == "cancel":
            for topic in names:
                sock.setsockopt(z.SUBSCRIBE, topic)
            _handshake(z, sock, SUBSCRIBED, spec)
        option, setsockopt = subscription_option(z, phase), sock.setsockopt
        t0 = time.monotonic_ns()
        for topic in names:
            setsockopt(option, topic)
        t_sent = time.monotonic_ns()
        return _burst_result(z, sock, n, t0, t_sent, spec)


def _burst_result(z: ModuleType, sock, n: int, t0: int, t_sent: int, spec: dict) -> dict:
    # the XPUB reports after its last arrival or idle_ms later: allow most of the run
    wait_ms = max(spec["idle_ms"] * 2, int(spec["deadline_s"] * 1000) - spec["setup_ms"])
    try:
        report = _await(z, sock, _is_report, wait_ms)
    except z.Again:
        return {"status": "timeout", "detail": f"no report from the XPUB in {wait_ms} ms"}
    got = PACK.unpack_from(report, len(DONE))[0]
    t_last = PACK.unpack_from(report, len(DONE) + 8)[0]
    if got < n:
        return lost(n, got)
    # The last subscription can arrive before the SUB reads t_sent: each setsockopt has sent
    # its message already, and the SUB's thread may be descheduled before the clock read.
    # Only an arrival before the first subscription left is impossible on one machine.
    if t_last < t0:
        return {"status": "error", "detail": "XPUB clock before SUB clock: not one machine?"}
    secs = (t_last - t0) / 1e9
    sent = max(t_sent - t0, 1) / 1e9
    return {
        "status": "ok",
        "expected": n,
        "received": got,
        "seconds": secs,
        "rate": n / secs,
        "setsockopt_rate": n / sent,
    }


# --- match rate: PUB with N subscriptions, half the messages matching ------------


def mixed_topics(n: int) -> List[bytes]:
    """2n topics: even indexes subscribed (topic-0..n-1), odd ones not (topic-n..2n-1)."""
    hits, misses = topics(n), topics(n, start=n)
    return [t for pair in zip(hits, misses) for t in pair]


def publish_mixed(sock, count: int, n: int) -> dict:
    """Publish seqs 0..count-1, message i on mixed_topics(n)[i % 2n]; time the sends."""
    send, pack, mix = sock.send, PACK.pack, mixed_topics(n)
    period, mark = len(mix), warm_count(count)
    t0 = time.perf_counter()
    for i in range(count):
        if i == mark:
            t0 = time.perf_counter()
        send(mix[i % period] + pack(i))
    result = rate_result(count, mark, t0, time.perf_counter())
    result["sent"] = count
    return result


def match_pub(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("PUB", hwm=0)
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        probe_until_go(sock, chan, spec)
        return publish_mixed(sock, spec["count"], spec["size"])


def match_sub(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("SUB", hwm=0, linger=0)
        for topic in topics(spec["size"]):
            sock.setsockopt(z.SUBSCRIBE, topic)
        sock.setsockopt(z.SUBSCRIBE, PROBE)
        sock.connect(spec["endpoints"]["data"])
        try:
            _await(z, sock, PROBE.__eq__, spec["setup_ms"])
        except z.Again:
            raise SetupTimeout(f"no probe within {spec['setup_ms']} ms") from None
        chan.emit("synced")
        expected = range(0, spec["count"], 2)
        return receive_ordered(z, sock, expected, MATCH_SIZE, spec, at=TOPIC_LEN)


ROLES = {
    "subs_xpub": subs_xpub,
    "subs_sub": subs_sub,
    "match_pub": match_pub,
    "match_sub": match_sub,
}

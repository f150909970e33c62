"""The socket code of every workload: one function per role, run in a worker.

Theory of operation
-------------------
A workload is a set of roles (receiver, sender, REP, PUB, ...), each run in its
own process (tcp, ipc) or as two threads of one process (inproc). A role gets
``z``, the implementation module (``fastzmq`` or pyzmq's ``zmq``: the same API,
so one code path serves both), a ``spec`` dict, and a ``chan`` to the parent
(see ``_child.py``): ``chan.emit(event, **fields)`` reports ("bound", "ready",
"synced"), ``chan.wait(word, timeout)`` / ``chan.poll(word)`` read the parent's
"go" / "stop". A role returns its result fields; exceptions become "not yet" or
"error" results in ``run_role``.

Senders go round a cycle of distinct messages built before the clock starts
(``message_cycle``); each holds its place in the cycle (8 bytes) at offset 0, or
after the 4-byte topic for PUB/SUB. Receivers compare each message with the one
due in its place and count them (``receive_cycle``); the pipeline's sink gets
distinct sequence numbers and checks each arrives once. Timing runs from the
message after the warm-up to the last one (``perf_counter``). Every blocking call
has a timeout: RCVTIMEO/SNDTIMEO (``setup_ms`` until the first message, then
``idle_ms``), thread joins, and the parent kills a worker past its deadline.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from types import ModuleType
from typing import Callable, Dict, List

from fastzmq.bench.notyet import SetupTimeout, classify

PACK = struct.Struct(">Q")
PROBE = b"HELO"
HELLO = b"W"
N_TOPICS = 1000
TOPICS = [b"t%03d" % i for i in range(N_TOPICS)]


def warm_count(n: int) -> int:
    """Messages received before the clock starts: 10% of the run, 1 to 1000."""
    return max(1, min(1000, n // 10))


def payload_tail(size: int, head: int) -> bytes:
    if size < head:
        raise ValueError(f"message size {size} below the {head}-byte header")
    return b"\x00" * (size - head)


CYCLE_BYTES = 1024 * 1024


def message_cycle(size: int, topics: List[bytes] | None = None) -> List[bytes]:
    """The distinct messages a sender goes round: message k is ``cycle[k % len(cycle)]``.

    Built before the clock starts, so the timed loops do no per-message packing or
    slicing (that harness work, the same for both libraries, used to be a third of
    a 16 B message's cost and hid the difference being measured). Each message holds
    its position in the cycle (seq, 8 bytes) after the topic, if any; the cycle has
    4096 messages (fewer above 256 B: 1 MiB in all, so it stays in cache like freshly
    made data would), a multiple of len(topics).
    """
    head = len(topics[0]) if topics else 0
    tail = payload_tail(size, head + 8)
    step = len(topics) if topics else 1
    n = max(1, min(4096, CYCLE_BYTES // size))
    n = max(step, n - n % step)
    return [(topics[k % step] if topics else b"") + PACK.pack(k) + tail for k in range(n)]


def send_cycle(send: Callable, cycle: List[bytes], start: int, stop: int) -> None:
    """Send messages start..stop-1 of the endless cycle (whole runs of the list)."""
    n, k = len(cycle), start
    while k < stop:
        run = cycle[k % n : k % n + (stop - k)]
        for msg in run:
            send(msg)
        k += len(run)


class Sockets:
    """One context and its sockets, always closed (linger 0 if the role failed)."""

    def __init__(self, z: ModuleType, spec: dict) -> None:
        self.z = z
        self.spec = spec
        self.socks: List[object] = []
        self.ctx = z.Context()

    def make(self, type_name: str, hwm: int | None = None, linger: int | None = None):
        z = self.z
        sock = self.ctx.socket(getattr(z, type_name))
        self.socks.append(sock)
        hwm = self.spec["hwm"] if hwm is None else hwm
        sock.setsockopt(z.SNDHWM, hwm)
        sock.setsockopt(z.RCVHWM, hwm)
        sock.setsockopt(z.LINGER, self.spec["linger_ms"] if linger is None else linger)
        sock.setsockopt(z.SNDTIMEO, self.spec["setup_ms"])
        # "IVL,TIMEOUT,TTL" in ms: heartbeats on every socket, to measure their cost
        # (bench/README.md): from a +hb implementation, or for every one from the environment
        hb = self.spec.get("heartbeat") or os.environ.get("FASTZMQ_BENCH_HEARTBEAT")
        if hb:
            for opt, ms in zip(
                (z.HEARTBEAT_IVL, z.HEARTBEAT_TIMEOUT, z.HEARTBEAT_TTL), hb.split(",")
            ):
                sock.setsockopt(opt, int(ms))
        return sock

    def close(self, failed: bool) -> None:
        for sock in self.socks:
            try:
                if failed:
                    sock.setsockopt(self.z.LINGER, 0)
                sock.close()
            except Exception:  # noqa: BLE001 - closing must not mask the result
                pass
        self.ctx.term()

    def __enter__(self) -> Sockets:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc_type is not None)


# CURVE workloads: a fixed server key pair both processes derive; clients make their own.
_CURVE_SERVER_SECRET = bytes(range(1, 33))


def secure(z: ModuleType, sock, spec: dict, server: bool) -> None:
    """Set CURVE up on ``sock`` when the workload asks for it (same calls for both libraries)."""
    if not spec.get("curve"):
        return
    import nacl.bindings as nb

    public = nb.crypto_scalarmult_base(_CURVE_SERVER_SECRET)
    if server:
        sock.setsockopt(z.CURVE_SECRETKEY, _CURVE_SERVER_SECRET)
        sock.setsockopt(z.CURVE_PUBLICKEY, public)
        sock.setsockopt(z.CURVE_SERVER, 1)
        return
    cpk, csk = nb.crypto_box_keypair()
    sock.setsockopt(z.CURVE_SERVERKEY, public)
    sock.setsockopt(z.CURVE_PUBLICKEY, cpk)
    sock.setsockopt(z.CURVE_SECRETKEY, csk)


def bind(z: ModuleType, sock, addr: str) -> str:
    """Bind and return the actual endpoint (port 0 / wildcard resolved)."""
    sock.bind(addr)
    endpoint = sock.getsockopt(z.LAST_ENDPOINT)
    return endpoint.decode() if isinstance(endpoint, bytes) else str(endpoint)


# --- receiving -------------------------------------------------------------


def _recv_first(z: ModuleType, sock, size: int, setup_ms: int) -> bytes:
    """The first message of the right size (probes skipped), within setup_ms."""
    again = z.Again
    sock.setsockopt(z.RCVTIMEO, setup_ms)
    while True:
        try:
            msg = sock.recv()
        except again:
            raise SetupTimeout(f"no message within {setup_ms} ms") from None
        if len(msg) == size or msg != PROBE:
            return msg


def _bad(msg: bytes, i: int, size: int, at: int, want: int) -> dict | None:
    if len(msg) != size:
        detail = f"message {i} has {len(msg)} bytes, wanted {size}"
        return {"status": "size", "detail": detail, "received": i}
    seq = PACK.unpack_from(msg, at)[0]
    if seq != want:
        detail = f"message {i} has seq {seq}, wanted {want}"
        return {"status": "order", "detail": detail, "received": i}
    return None


def lost(expected: int, received: int) -> dict:
    detail = f"LOST {expected - received}/{expected}"
    return {"status": "lost", "detail": detail, "expected": expected, "received": received}


def rate_result(n: int, mark: int, t0: float, t1: float) -> dict:
    secs = max(t1 - t0, 1e-9)
    timed = n - mark
    return {
        "status": "ok",
        "expected": n,
        "received": n,
        "timed": timed,
        "seconds": secs,
        "rate": timed / secs,
    }


def receive_cycle(z: ModuleType, sock, cycle: List[bytes], n: int, spec: dict, step: int = 1):
    """Receive messages 0, step, 2*step, ... of the sender's cycle (n of them), in order;
    each must equal the expected bytes exactly. Time all but the warm-up."""
    expect = [cycle[(k * step) % len(cycle)] for k in range(len(cycle))]  # whole periods
    mark = warm_count(n)
    first = _recv_first(z, sock, len(expect[0]), spec["setup_ms"])
    if first != expect[0]:
        return _mismatch(first, 0, expect[0])
    sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
    bad = _expect_run(z, sock.recv, expect, 1, mark, n)
    if bad:
        return bad
    t0 = time.perf_counter()
    bad = _expect_run(z, sock.recv, expect, max(mark, 1), n, n)
    if bad:
        return bad
    return rate_result(n, mark, t0, time.perf_counter())


def _expect_run(z: ModuleType, recv: Callable, expect: List[bytes], start: int, stop: int, n: int):
    """Receive messages start..stop-1 of n (expect is periodic): None if all are right,
    else the failed result (a mismatch, or LOST when RCVTIMEO runs out)."""
    period, k = len(expect), start
    try:
        while k < stop:
            run = expect[k % period : k % period + (stop - k)]
            for want in run:
                msg = recv()
                if msg != want:
                    while msg == PROBE:  # a late probe (sent before "go")
                        msg = recv()
                    if msg != want:
                        return _mismatch(msg, k, want)
                k += 1
    except z.Again:
        return lost(n, k)
    return None


def _mismatch(msg: bytes, i: int, want: bytes) -> dict:
    if len(msg) != len(want):
        detail = f"message {i} has {len(msg)} bytes, wanted {len(want)}"
        return {"status": "size", "detail": detail, "received": i}
    detail = f"message {i} is not the one sent in that place (order, loss or corruption)"
    return {"status": "order", "detail": detail, "received": i}


def receive_ordered(z: ModuleType, sock, expected: range, size: int, spec: dict, at: int = 0):
    """Receive len(expected) messages whose seqs are `expected`, in order; time them."""
    n = len(expected)
    mark = warm_count(n)
    first = _recv_first(z, sock, size, spec["setup_ms"])
    bad = _bad(first, 0, size, at, expected[0])
    if bad:
        return bad
    sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
    recv, unpack, again = sock.recv, PACK.unpack_from, z.Again
    i, t0 = 1, time.perf_counter()
    try:
        while i < n:
            msg = recv()
            if len(msg) != size or unpack(msg, at)[0] != expected[i]:
                if msg == PROBE:
                    continue
                return _bad(msg, i, size, at, expected[i])
            i += 1
            if i == mark:
                t0 = time.perf_counter()
    except again:
        return lost(n, i)
    return rate_result(n, mark, t0, time.perf_counter())


def receive_unordered(z: ModuleType, sock, n: int, size: int, spec: dict) -> dict:
    """Receive seqs 0..n-1 in any order (several senders), each exactly once."""
    mark = warm_count(n)
    seen = bytearray(n)
    first = _recv_first(z, sock, size, spec["setup_ms"])
    sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
    recv, unpack, again = sock.recv, PACK.unpack_from, z.Again
    i, t0, msg = 0, time.perf_counter(), first
    try:
        while True:
            seq = unpack(msg)[0] if len(msg) == size else n
            if seq >= n or seen[seq]:
                return _bad(msg, i, size, 0, -1) or _dup(i, seq)
            seen[seq] = 1
            i += 1
            if i == mark:
                t0 = time.perf_counter()
            if i == n:
                break
            msg = recv()
    except again:
        return lost(n, i)
    return rate_result(n, mark, t0, time.perf_counter())


def _dup(i: int, seq: int) -> dict:
    detail = f"message {i}: seq {seq} duplicated or out of range"
    return {"status": "order", "detail": detail, "received": i}


# --- sending ---------------------------------------------------------------


def send_stream(
    z: ModuleType, sock, count: int, size: int, cycle: List[bytes] | None = None
) -> dict:
    """Send messages 0..count-1 of the cycle (built here unless given); a send blocked past
    SNDTIMEO fails the run."""
    send_cycle(sock.send, message_cycle(size) if cycle is None else cycle, 0, count)
    return {"status": "ok", "sent": count}


def send_numbered(z: ModuleType, sock, count: int, size: int) -> dict:
    """Send seqs 0..count-1, each distinct (the pipeline's sink checks each arrives once)."""
    send, pack, tail = sock.send, PACK.pack, payload_tail(size, 8)
    for i in range(count):
        send(pack(i) + tail)
    return {"status": "ok", "sent": count}


def publish(z: ModuleType, sock, count: int, size: int) -> dict:
    """Publish messages 0..count-1 of the topic cycle (topics round-robin); time the
    sends after the warm-up (publish rate)."""
    cycle, mark = message_cycle(size, TOPICS), warm_count(count)
    send_cycle(sock.send, cycle, 0, mark)
    t0 = time.perf_counter()
    send_cycle(sock.send, cycle, mark, count)
    t1 = time.perf_counter()
    result = rate_result(count, mark, t0, t1)
    result["sent"] = count
    return result


# --- roles: PUSH/PULL, PAIR (tcp, ipc) ---------------------------------------


def stream_recv(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make(spec["recv_type"], linger=0)
        secure(z, sock, spec, server=True)
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        return receive_cycle(z, sock, message_cycle(spec["size"]), spec["count"], spec)


def stream_send(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make(spec["send_type"])
        secure(z, sock, spec, server=False)
        sock.connect(spec["endpoints"]["data"])
        return send_stream(z, sock, spec["count"], spec["size"])


# --- inproc: two threads of one process ------------------------------------


def _sender_thread(z, ctx, spec, cycle: List[bytes], errors: list) -> None:
    try:
        sock = ctx.socket(getattr(z, spec["send_type"]))
        try:
            sock.setsockopt(z.SNDHWM, spec["hwm"])
            sock.setsockopt(z.SNDTIMEO, spec["setup_ms"])
            sock.setsockopt(z.LINGER, spec["linger_ms"])
            sock.connect(spec["bind"]["data"])
            send_stream(z, sock, spec["count"], spec["size"], cycle)
        finally:
            sock.close()
    except Exception as exc:  # noqa: BLE001 - reported by the receiving thread
        errors.append(exc)


def inproc_stream(z: ModuleType, spec: dict, chan) -> dict:
    errors: list = []
    with Sockets(z, spec) as socks:
        sock = socks.make(spec["recv_type"], linger=0)
        bind(z, sock, spec["bind"]["data"])
        # One cycle for both threads: the receiver checks each message against the very
        # object the sender sent, so a library that hands over that object (zero copy)
        # passes the check by identity, and one that hands over a copy pays a compare of
        # every byte (a memcmp of 4 KiB is ~45% of fastzmq's time per message otherwise).
        cycle = message_cycle(spec["size"])
        args = (z, socks.ctx, spec, cycle, errors)
        thread = threading.Thread(target=_sender_thread, args=args, daemon=True)
        thread.start()
        try:
            result = receive_cycle(z, sock, cycle, spec["count"], spec)
        except Exception as exc:  # noqa: BLE001 - prefer the sender's own error
            thread.join(spec["setup_ms"] / 1000.0 + 1.0)
            raise (errors[0] if errors else exc) from None
        thread.join(spec["setup_ms"] / 1000.0 + 1.0)
    if errors:
        raise errors[0]
    return result


# --- REQ/REP latency --------------------------------------------------------


def rep_echo(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("REP")
        secure(z, sock, spec, server=True)
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        total = spec["count"] + latency_warm(spec["count"])
        again = z.Again
        sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
        try:
            for i in range(total):
                sock.send(sock.recv())
                if i == 0:
                    sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
        except again:
            if i == 0:
                raise SetupTimeout(f"no request within {spec['setup_ms']} ms") from None
            return lost(total, i)
        return {"status": "ok", "echoed": total}


def latency_warm(count: int) -> int:
    return max(50, min(1000, count // 10))


def req_latency(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("REQ")
        secure(z, sock, spec, server=False)
        sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
        sock.connect(spec["endpoints"]["data"])
        return latency_result(z, sock, spec["count"], spec)


def latency_result(z: ModuleType, sock, count: int, spec: dict) -> dict:
    """Time warm-up plus `count` round trips on sock; median and p99 of the timed ones."""
    from fastzmq.bench.stats import median, percentile

    tail, size = payload_tail(spec["size"], 8), spec["size"]
    warm = latency_warm(count)
    lat = _round_trips(z, sock, warm + count, tail, size, spec)
    if isinstance(lat, dict):
        return lat
    lat = lat[warm:]
    total = sum(lat) / 1e9
    return {
        "status": "ok",
        "expected": count,
        "received": count,
        "seconds": total,
        "rate": count / total,
        "median_us": median(lat) / 1e3,
        "p99_us": percentile(lat, 99) / 1e3,
    }


def _round_trips(z, sock, n: int, tail: bytes, size: int, spec: dict):
    """Latencies (ns) of n round trips, or a failure result."""
    send, recv, pack, clock, again = sock.send, sock.recv, PACK.pack, time.perf_counter_ns, z.Again
    lat = []
    i = 0
    try:
        for i in range(n):
            msg = pack(i) + tail
            t = clock()
            send(msg)
            reply = recv()
            lat.append(clock() - t)
            if reply != msg:
                return _bad(reply, i, size, 0, i)
            if i == 0:
                sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
    except again:
        if i == 0:
            raise SetupTimeout(f"no reply within {spec['setup_ms']} ms") from None
        return lost(n, i)
    return lat


# --- PAIR ping-pong latency: two threads of one process (inproc) --------------


def _echo_thread(z, ctx, spec, total: int, errors: list) -> None:
    """Connect a PAIR and send back each of `total` messages; errors go to the list."""
    try:
        sock = ctx.socket(z.PAIR)
        try:
            sock.setsockopt(z.LINGER, spec["linger_ms"])
            sock.setsockopt(z.SNDTIMEO, spec["setup_ms"])
            sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
            sock.connect(spec["bind"]["data"])
            recv, send = sock.recv, sock.send
            send(recv())
            sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
            for _ in range(total - 1):
                send(recv())
        finally:
            sock.close()
    except Exception as exc:  # noqa: BLE001 - reported by the measuring thread
        errors.append(exc)


def inproc_pingpong(z: ModuleType, spec: dict, chan) -> dict:
    """PAIR <-> PAIR round trips between this thread and an echoing thread."""
    errors: list = []
    count = spec["count"]
    total = count + latency_warm(count)
    with Sockets(z, spec) as socks:
        sock = socks.make("PAIR", linger=0)
        sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
        bind(z, sock, spec["bind"]["data"])
        args = (z, socks.ctx, spec, total, errors)
        thread = threading.Thread(target=_echo_thread, args=args, daemon=True)
        thread.start()
        try:
            result = latency_result(z, sock, count, spec)
        except Exception as exc:  # noqa: BLE001 - prefer the echo thread's own error
            thread.join(spec["setup_ms"] / 1000.0 + 1.0)
            raise (errors[0] if errors else exc) from None
        thread.join(spec["setup_ms"] / 1000.0 + 1.0)
    if errors and result.get("status") != "ok":
        raise errors[0]
    return result


# --- PUB/SUB over tcp, 1000 topics -------------------------------------------


def pub(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("PUB", hwm=0)
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        probe_until_go(sock, chan, spec)
        return publish(z, sock, spec["count"], spec["size"])


def probe_until_go(sock, chan, spec: dict) -> None:
    """Publish PROBE every ms until the parent says "go" (the SUB got one)."""
    deadline = time.monotonic() + spec["setup_ms"] / 1000.0
    while not chan.poll("go"):
        if time.monotonic() > deadline:
            raise SetupTimeout("SUB never confirmed a probe")
        sock.send(PROBE)
        time.sleep(0.001)


def sub(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("SUB", hwm=0, linger=0)
        wanted = TOPICS if spec["topics"] == "all" else TOPICS[:1]
        for topic in wanted:  # topics first: the probe's arrival then proves them all
            sock.setsockopt(z.SUBSCRIBE, topic)
        sock.setsockopt(z.SUBSCRIBE, PROBE)
        sock.connect(spec["endpoints"]["data"])
        _recv_first(z, sock, len(PROBE), spec["setup_ms"])
        chan.emit("synced")
        step = 1 if spec["topics"] == "all" else N_TOPICS
        n = len(range(0, spec["count"], step))
        cycle = message_cycle(spec["size"], TOPICS)
        return receive_cycle(z, sock, cycle, n, spec, step=step)


# --- the zguide pipeline: ventilator -> 2 workers -> sink --------------------


def ventilator(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("PUSH")
        chan.emit("bound", key="vent", endpoint=bind(z, sock, spec["bind"]["vent"]))
        if not chan.wait("go", spec["setup_ms"] / 1000.0):
            raise SetupTimeout("workers never became ready")
        return send_numbered(z, sock, spec["count"], spec["size"])


def worker(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        src, dst = socks.make("PULL", linger=0), socks.make("PUSH")
        src.connect(spec["endpoints"]["vent"])
        dst.connect(spec["endpoints"]["sink"])
        src.setsockopt(z.RCVTIMEO, 100)
        dst.send(HELLO)  # lets the sink see both workers before the ventilator starts
        chan.emit("ready")
        return {"status": "ok", "forwarded": _forward(z, src, dst, chan, spec)}


def _forward(z, src, dst, chan, spec) -> int:
    """Forward until the parent says stop (checked only when idle) or the deadline."""
    recv, send, again = src.recv, dst.send, z.Again
    deadline = time.monotonic() + spec["deadline_s"]
    done = 0
    while time.monotonic() < deadline:
        try:
            while True:
                send(recv())
                done += 1
        except again:
            if chan.poll("stop"):
                break
    return done


def sink(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("PULL", linger=0)
        chan.emit("bound", key="sink", endpoint=bind(z, sock, spec["bind"]["sink"]))
        for _ in range(spec["workers"]):
            _recv_first(z, sock, len(HELLO), spec["setup_ms"])
        chan.emit("synced")
        return receive_unordered(z, sock, spec["count"], spec["size"], spec)


ROLES: Dict[str, Callable[[ModuleType, dict, object], dict]] = {
    "stream_recv": stream_recv,
    "stream_send": stream_send,
    "inproc_stream": inproc_stream,
    "rep_echo": rep_echo,
    "req_latency": req_latency,
    "inproc_pingpong": inproc_pingpong,
    "pub": pub,
    "sub": sub,
    "ventilator": ventilator,
    "worker": worker,
    "sink": sink,
}


def all_roles() -> Dict[str, Callable[[ModuleType, dict, object], dict]]:
    """ROLES plus the subscription, connection and draft workloads' roles (``subs.py``,
    ``conns.py``, ``drafts.py``, which import this module)."""
    from fastzmq.bench import conns, drafts, subs

    return {**ROLES, **subs.ROLES, **conns.ROLES, **drafts.ROLES}


class NullChannel:
    """A channel for roles run in-process without a parent (inproc, tests)."""

    def emit(self, event: str, **fields: object) -> None:
        pass

    def wait(self, word: str, timeout: float) -> bool:
        return True

    def poll(self, word: str) -> bool:
        return True


def run_role(z: ModuleType, spec: dict, chan=None) -> dict:
    """Run one role; failures become "not yet" or "error" results, never exceptions."""
    try:
        return all_roles()[spec["role"]](z, spec, chan or NullChannel())
    except Exception as exc:  # noqa: BLE001 - every failure is a table cell
        return classify(exc, z)

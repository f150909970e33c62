"""The engine's NULL handshake stager (``fastzmq._io``, "The NULL handshake stager"): a
fastzmq socket must put the same bytes on the wire, at the same moments, whether the
stager or the sans-I/O ``Handshake`` runs the handshake, and end the same way.

A raw TCP peer feeds its side in chunks; after each chunk it reads exactly what the
reference (a ``Handshake`` fed the same chunks) sends at that point, and checks that nothing
more comes. Each case runs with the stager on and off; a spy on ``Handshake.step`` shows
which one did the staging (with the stager, a clean NULL end completes with no
``Handshake`` at all: ``complete_null``)."""

from __future__ import annotations

import socket
import struct
import time

import pytest

import fastzmq as zmq
from conftest import recv_exactly
from fastzmq import _transport
from fastzmq._frame import encode_command, encode_message
from fastzmq.utils.monitor import recv_monitor_message
from fastzmq.zmtp.commands import READY, encode_metadata
from fastzmq.zmtp.handshake import NEED_DATA, Handshake, encode_greeting
from fastzmq.zmtp.mechanisms.null import NullMechanism

TIMEOUT = 3.0


def ready(socket_type: bytes, **extra: bytes) -> bytes:
    meta = {"Socket-Type": socket_type}
    meta.update({k.replace("_", "-"): v for k, v in extra.items()})
    return encode_command(READY, encode_metadata(meta))


GREETING_31 = encode_greeting(b"NULL", False, (3, 1))
GREETING_30 = encode_greeting(b"NULL", False, (3, 0))
HELLO = encode_message([b"hello"])


def cut(stream: bytes, points) -> list:
    """stream split at the given offsets."""
    out, last = [], 0
    for p in list(points) + [len(stream)]:
        if p > last:
            out.append(stream[last:p])
            last = p
    return out


# (our socket type, the peer's stream, where it is cut)
CASES = {
    "whole": ("DEALER", GREETING_31 + ready(b"ROUTER") + HELLO, ()),
    "staged": ("DEALER", GREETING_31 + ready(b"ROUTER") + HELLO, (10, 11, 64, 64 + 27)),
    "bytewise-start": ("DEALER", GREETING_31 + ready(b"ROUTER") + HELLO, range(1, 13)),
    "ready-split": ("DEALER", GREETING_31 + ready(b"ROUTER") + HELLO, (64, 66, 70, 80)),
    "zmtp-3.0": ("PULL", GREETING_30 + ready(b"PUSH") + HELLO, (10, 11, 64)),
    "long-ready": (
        "DEALER",
        GREETING_31 + ready(b"ROUTER", X_Big=b"x" * 400) + HELLO,  # a long command frame
        (11, 64, 200),
    ),
}


def reference(socket_type: str, chunks: list) -> list:
    """What a Handshake sends at the start and after each chunk (until it ends)."""
    hs = Handshake(socket_type=socket_type, mechanism=NullMechanism())
    outs = [hs.data_to_send()]
    for chunk in chunks:
        ev, out = hs.step(chunk)
        outs.append(out)
        if ev is not NEED_DATA:
            break
    return outs


def nothing_more(s: socket.socket, wait: float = 0.05) -> bool:
    """No byte (and no EOF) comes within ``wait`` seconds."""
    s.settimeout(wait)
    try:
        s.recv(1)
    except socket.timeout:
        return True
    finally:
        s.settimeout(TIMEOUT)
    return False


@pytest.fixture
def steps(monkeypatch):
    """Counts Handshake.step calls (each one is a slow-path round of a handshake)."""
    calls = []
    real = Handshake.step

    def spy(self, data):
        calls.append(len(data))
        return real(self, data)

    monkeypatch.setattr(Handshake, "step", spy)
    return calls


def fastzmq_peer(ctx, kind: str, stager: bool, bind: bool, before=None):
    """A fastzmq socket of kind and a raw TCP socket connected to it (ours connects to the
    raw one, or the raw one connects to ours); before(socket) runs before that."""
    s = ctx.socket(getattr(zmq, kind))
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = int(TIMEOUT * 1000)
    s._io_thread().stager = stager
    if before is not None:
        before(s)
    if bind:
        s.bind("tcp://127.0.0.1:*")
        port = int(s.last_endpoint.rsplit(b":", 1)[1])
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        return s, raw
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    lsn.settimeout(TIMEOUT)
    s.connect(f"tcp://127.0.0.1:{lsn.getsockname()[1]}")
    raw, _ = lsn.accept()
    lsn.close()
    raw.settimeout(TIMEOUT)
    return s, raw


@pytest.mark.parametrize("bind", [False, True], ids=["we-connect", "we-bind"])
@pytest.mark.parametrize("stager", [True, False], ids=["stager", "handshake"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_wire_is_the_handshakes(ctx, steps, case, stager, bind):
    kind, stream, points = CASES[case]
    chunks = cut(stream, points)
    outs = reference(kind, chunks)
    del steps[:]
    s, raw = fastzmq_peer(ctx, kind, stager, bind)
    try:
        assert recv_exactly(raw, len(outs[0])) == outs[0]
        assert nothing_more(raw)
        for chunk, out in zip(chunks, outs[1:]):
            raw.sendall(chunk)
            assert recv_exactly(raw, len(out)) == out, (case, chunk)
            assert nothing_more(raw), (case, chunk)
        for chunk in chunks[len(outs) - 1 :]:  # (after the end: traffic)
            raw.sendall(chunk)
        # traffic both ways, as after any handshake
        got = s.recv_multipart()
        assert got[-1] == b"hello"
        if kind != "PULL":
            if kind == "ROUTER":
                s.send_multipart([got[0], b"back"])
            else:
                s.send(b"back")
            assert recv_exactly(raw, 6) == b"\x00\x04back"
        long_ready = case == "long-ready"
        if stager and not long_ready:
            # the stager staged, and its clean end completed without a Handshake
            assert steps == [], steps
        else:
            assert len(steps) >= (1 if long_ready else len(outs) - 1), steps
    finally:
        raw.close()
        s.close()


def events_of(mon, until: int) -> list:
    seen = []
    while True:
        ev = recv_monitor_message(mon)
        seen.append((ev["event"], ev["value"]))
        if ev["event"] == until:
            return seen


FAILURES = {
    # the peer speaks PLAIN: a mechanism mismatch (an ERROR after our greeting, then close)
    "plain-peer": (encode_greeting(b"PLAIN", False), (10, 11)),
    # the peer speaks ZMTP 2.0 (revision 1): our socket type and identity frame, 2.0 style
    "zmtp-2.0": (b"\xff" + bytes(8) + b"\x7f\x01\x05\x00\x00", (10, 11)),
    # the peer closes after its signature
    "eof-after-signature": (b"\xff" + bytes(8) + b"\x7f", ()),
    # the peer's first command is not READY
    "not-ready": (GREETING_31 + encode_command(b"HELLO", b""), (64,)),
    # a ZMTP 1.0 peer (no signature): our identity frame's body, then its frames
    "zmtp-1.0": (b"\x01\x00", ()),
}


HANDSHAKE_EVENTS = (
    zmq.EVENT_HANDSHAKE_SUCCEEDED,
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
    zmq.EVENT_HANDSHAKE_FAILED_AUTH,
)


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_ends_and_events_match_with_and_without_the_stager(ctx, case):
    stream, points = FAILURES[case]
    chunks = cut(stream, points)
    outs = reference("DEALER", chunks)
    results = []
    monitors = []

    def monitored(s):
        monitors.append(s.get_monitor_socket())
        monitors[-1].rcvtimeo = int(TIMEOUT * 1000)
        s.reconnect_ivl = 10_000  # one connection per run

    for stager in (True, False):
        s, raw = fastzmq_peer(ctx, "DEALER", stager, False, monitored)
        mon = monitors[-1]
        wire = recv_exactly(raw, len(outs[0]))
        for chunk, out in zip(chunks, outs[1:]):
            raw.sendall(chunk)
            wire += recv_exactly(raw, len(out))
        if case == "eof-after-signature":
            raw.shutdown(socket.SHUT_WR)
        if case not in ("zmtp-2.0", "zmtp-1.0"):
            # fastzmq ends the connection: EOF after exactly the reference's bytes
            assert raw.recv(100) == b""
            end = zmq.EVENT_DISCONNECTED
        else:
            end = zmq.EVENT_CONNECTED
        events = events_of(mon, end) if end != zmq.EVENT_CONNECTED else []
        raw.close()
        handshake_values = [v for e, v in events if e in HANDSHAKE_EVENTS]  # (not fds)
        results.append((wire, [e for e, _ in events], handshake_values))
        s.disable_monitor()
        mon.close()
        s.close()
    assert results[0] == results[1]
    assert results[0][0] == b"".join(outs)


def test_a_stager_that_strays_from_the_handshake_is_cut_off(ctx, monkeypatch):
    """The check at the hand-over to a Handshake: if the bytes the stager sent were not the
    Handshake's (a bug), the connection dies instead of completing. (The peer's READY is a
    long frame, which only a Handshake reads; a clean short one completes without one, from
    the same script function as the Handshake's: test_handshake_fastpath proves them equal.)"""
    real = _transport.null_script_for

    def wrong(*args):
        return real(*args).replace(b"DEALER", b"ROUTER")

    monkeypatch.setattr(_transport, "null_script_for", wrong)
    s, raw = fastzmq_peer(ctx, "DEALER", True, False)
    mon = s.get_monitor_socket()
    mon.rcvtimeo = int(TIMEOUT * 1000)
    try:
        raw.sendall(GREETING_31)
        ours = recv_exactly(raw, 64)
        assert ours[:10] == b"\xff" + bytes(7) + b"\x01\x7f"
        raw.sendall(ready(b"ROUTER", X_Big=b"x" * 400))
        data, deadline = b"", time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            part = raw.recv(100)
            if not part:
                break
            data += part
        else:
            pytest.fail("the connection was not closed")
        assert b"ROUTER" in data  # (what the stray stager sent)
        events = []
        while True:
            try:
                ev = recv_monitor_message(mon)
            except zmq.Again:
                break
            events.append(ev["event"])
            if ev["event"] == zmq.EVENT_DISCONNECTED:
                break
        assert zmq.EVENT_HANDSHAKE_SUCCEEDED not in events
        assert zmq.EVENT_DISCONNECTED in events
    finally:
        raw.close()
        s.disable_monitor()
        mon.close()
        s.close()


def test_null_script_is_what_the_handshake_sends_a_zmtp3_null_peer():
    for kind, identity in (("DEALER", b""), ("REQ", b"me"), ("PUB", b""), ("ROUTER", b"r")):
        hs = Handshake(socket_type=kind, identity=identity, mechanism=NullMechanism())
        script = hs.null_script()
        sent = hs.data_to_send()
        ev, out = hs.step(GREETING_31)
        assert ev is NEED_DATA
        assert script == sent + out
        assert struct.unpack(">Q", script[1:9])[0] == len(identity) + 1
    # not the NULL fast path: no script
    hs = Handshake(socket_type="DEALER", metadata={"X-A": b"1"})
    assert hs.null_script() is None
    hs = Handshake(socket_type="DEALER")
    hs.step(b"\xff")
    assert hs.null_script() is None  # (bytes were read already)

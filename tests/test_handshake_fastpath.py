"""The NULL fast path of ``Handshake`` (no ZAP, no extra metadata): our READY from a
per-socket-kind cache and the peer's short READY read without a Decoder. Every case is
run twice, through the fast path and through the general one (a NullMechanism subclass
is never fast), fed in several chunk sizes: the events, errors, bytes sent and leftover
must be the same, and the fast path must be the one taken where it applies."""

from __future__ import annotations

import struct

import pytest

from fastzmq._frame import encode_command, encode_frame, encode_message
from fastzmq.zmtp import BadFrame, IncompatibleSocketType, PeerError
from fastzmq.zmtp.commands import encode_error, encode_metadata, encode_ready
from fastzmq.zmtp.handshake import (
    NEED_DATA,
    Handshake,
    HandshakeComplete,
    HandshakeFailed,
    encode_greeting,
)
from fastzmq.zmtp.mechanisms.null import NullMechanism
from fastzmq.zmtp.zap import ZapRequest


class GeneralNull(NullMechanism):
    """The same mechanism, but not exactly NullMechanism: the general path."""


TRAFFIC = encode_message([b"hello", b"world"]) + encode_frame(b"x" * 300)


def long_command(name: bytes, data: bytes) -> bytes:
    body = bytes((len(name),)) + name + data
    return b"\x06" + struct.pack(">Q", len(body)) + body


def run(hs: Handshake, stream: bytes, step: int):
    """Feed ``stream`` in ``step``-byte chunks: (event, everything hs sent, unfed bytes)."""
    sent = hs.data_to_send()
    ev = NEED_DATA
    for i in range(0, len(stream), step):
        hs.receive_data(stream[i : i + step])
        ev = hs.next_event()
        sent += hs.data_to_send()
        if ev is not NEED_DATA:
            return ev, sent, stream[i + step :]
    return ev, sent, b""


def summary(ev):
    if isinstance(ev, HandshakeComplete):
        return ("ok", ev)
    if isinstance(ev, HandshakeFailed):
        return ("failed", type(ev.error), str(ev.error))
    return ("need",)


CASES = {
    "compatible": (
        "DEALER",
        encode_greeting(b"NULL", False) + encode_ready({"Socket-Type": b"ROUTER"}) + TRAFFIC,
    ),
    "identity": (
        "ROUTER",
        encode_greeting(b"NULL", False)
        + encode_ready({"Socket-Type": b"DEALER", "Identity": b"peer-7", "X-Extra": b"v"}),
    ),
    "zmtp30": (
        "PUSH",
        encode_greeting(b"NULL", False, (3, 0)) + encode_ready({"Socket-Type": b"PULL"}),
    ),
    "incompatible": (
        "REQ",
        encode_greeting(b"NULL", False) + encode_ready({"Socket-Type": b"PUB"}),
    ),
    "no-socket-type": ("REQ", encode_greeting(b"NULL", False) + encode_ready({"Identity": b"x"})),
    "truncated-metadata": (
        "REQ",
        encode_greeting(b"NULL", False)
        + encode_command(b"READY", encode_metadata({"Socket-Type": b"REP"})[:-2]),
    ),
    "ready-without-data": ("REQ", encode_greeting(b"NULL", False) + encode_command(b"READY", b"")),
    "peer-error": ("REQ", encode_greeting(b"NULL", False) + encode_error("go away")),
    "ping-first": (
        "REQ",
        encode_greeting(b"NULL", False) + encode_command(b"PING", b"\x00\x01") + TRAFFIC,
    ),
    "data-first": ("REQ", encode_greeting(b"NULL", False) + encode_frame(b"hi")),
    "readx": ("REQ", encode_greeting(b"NULL", False) + encode_command(b"READX", b"")),
    "long-ready": (
        "DEALER",
        encode_greeting(b"NULL", False)
        + long_command(b"READY", encode_metadata({"Socket-Type": b"DEALER"}))
        + TRAFFIC,
    ),
}
FAST = {"compatible", "identity", "zmtp30", "incompatible", "no-socket-type"}
FAST |= {"truncated-metadata", "ready-without-data"}


@pytest.mark.parametrize("step", [1, 3, 64, 65, 10_000])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_matches_general_path(case, step):
    socket_type, stream = CASES[case]
    fast = Handshake(socket_type, identity=b"me")
    general = Handshake(socket_type, identity=b"me", mechanism=GeneralNull())
    ev_f, sent_f, rest_f = run(fast, stream, step)
    ev_g, sent_g, rest_g = run(general, stream, step)
    assert summary(ev_f) == summary(ev_g)
    assert sent_f == sent_g  # the same greeting, READY and (on failure) ERROR bytes
    assert rest_f == rest_g
    assert ev_f is not NEED_DATA
    # the decision: the fast path reads a short READY (valid or not) without a Decoder
    assert (fast._decoder is None) == (case in FAST)
    assert general._decoder is not None


def test_fast_path_outcomes():
    """What the fast path decides, spelled out (the general path agrees, above)."""
    ev, _, rest = run(Handshake("DEALER"), CASES["compatible"][1], 10_000)
    assert isinstance(ev, HandshakeComplete)
    assert ev.peer_socket_type == "ROUTER" and ev.leftover + rest == TRAFFIC
    ev, _, _ = run(Handshake("ROUTER"), CASES["identity"][1], 7)
    assert ev.peer_identity == b"peer-7" and ev.peer_metadata["X-Extra"] == b"v"
    ev, _, _ = run(Handshake("PUSH"), CASES["zmtp30"][1], 5)
    assert ev.version == (3, 0) and ev.peer_version == (3, 0)
    hs = Handshake("REQ")
    ev, sent, _ = run(hs, CASES["incompatible"][1], 10_000)
    assert isinstance(ev.error, IncompatibleSocketType)
    assert sent.endswith(encode_error(str(ev.error)))  # ERROR names the reason
    ev, _, _ = run(Handshake("REQ"), CASES["truncated-metadata"][1], 2)
    assert isinstance(ev.error, BadFrame)
    ev, _, _ = run(Handshake("REQ"), CASES["peer-error"][1], 2)
    assert isinstance(ev.error, PeerError) and ev.error.reason == "go away"


def test_our_ready_is_cached_per_socket_kind_and_correct():
    """The cached READY is what the mechanism would build: Socket-Type, and Identity for
    REQ/DEALER/ROUTER only; a different identity is a different READY."""
    for socket_type, identity, meta in (
        ("DEALER", b"a", {"Socket-Type": b"DEALER", "Identity": b"a"}),
        ("DEALER", b"b", {"Socket-Type": b"DEALER", "Identity": b"b"}),
        ("PUSH", b"a", {"Socket-Type": b"PUSH"}),
    ):
        hs = Handshake(socket_type, identity=identity)
        hs.data_to_send()
        hs.receive_data(encode_greeting(b"NULL", False))
        assert hs.next_event() is NEED_DATA
        assert hs.data_to_send().endswith(encode_ready(meta))


def test_extra_metadata_or_zap_take_the_general_path():
    """Extra metadata, or a ZAP domain (READY waits for the handler), is not fast."""
    peer = encode_greeting(b"NULL", False) + encode_ready({"Socket-Type": b"ROUTER"})
    hs = Handshake("DEALER", metadata={"X-App": "1"})
    ev, sent, _ = run(hs, peer, 10_000)
    assert isinstance(ev, HandshakeComplete) and hs._decoder is not None
    assert encode_ready({"Socket-Type": b"DEALER", "Identity": b"", "X-App": b"1"}) in sent
    zap = NullMechanism(ZapRequest(b"dom", b"127.0.0.1", b"", b"NULL", ()))
    hs = Handshake("DEALER", mechanism=zap)
    ev, sent, _ = run(hs, peer, 10_000)
    assert ev is NEED_DATA and hs.zap_request is not None  # waiting for the handler
    assert b"READY" not in sent  # our READY waits for the verdict


def run_step(hs: Handshake, stream: bytes, step: int):
    """As run(), through Handshake.step (one call per read, as the engine uses it)."""
    sent = hs.data_to_send()
    ev = NEED_DATA
    for i in range(0, len(stream), step):
        ev, out = hs.step(stream[i : i + step])
        sent += out
        if ev is not NEED_DATA:
            return ev, sent, stream[i + step :]
    return ev, sent, b""


OLD_PEERS = {
    # a ZMTP 2.0 peer (revision 1, socket type ROUTER, an empty identity frame), then traffic
    "zmtp20": ("DEALER", b"\xff" + bytes(8) + b"\x7f\x01\x06" + b"\x00\x00" + TRAFFIC),
    # a ZMTP 1.0 peer: its identity frame is its greeting
    "zmtp10": ("DEALER", b"\x01\x00" + b"\x01\x00x"),
    "curve-peer": ("DEALER", encode_greeting(b"CURVE", False)),
}


@pytest.mark.parametrize("step", [1, 3, 11, 64, 10_000])
@pytest.mark.parametrize("case", sorted(CASES) + sorted(OLD_PEERS))
@pytest.mark.parametrize("general", [False, True])
def test_step_is_receive_next_event_and_data_to_send(case, step, general):
    socket_type, stream = {**CASES, **OLD_PEERS}[case]

    def make():
        mech = GeneralNull() if general else None
        return Handshake(socket_type, identity=b"me", mechanism=mech)

    ev_a, sent_a, rest_a = run(make(), stream, step)
    ev_b, sent_b, rest_b = run_step(make(), stream, step)
    assert summary(ev_a) == summary(ev_b)
    assert sent_a == sent_b and rest_a == rest_b
    if isinstance(ev_a, HandshakeComplete):
        assert ev_a == ev_b  # version, peer type, identity, metadata, leftover


def test_step_after_the_end():
    hs = Handshake("DEALER")
    ev, _, rest = run_step(hs, CASES["compatible"][1], 10_000)
    assert isinstance(ev, HandshakeComplete)
    assert hs.step(b"") == (ev, b"")  # nothing more to say, the same event
    with pytest.raises(RuntimeError):
        hs.step(b"more")  # later bytes belong to the traffic stream
    failed = Handshake("REQ")
    ev, _, _ = run_step(failed, CASES["incompatible"][1], 10_000)
    assert isinstance(ev, HandshakeFailed)
    assert failed.step(b"ignored") == (ev, b"")

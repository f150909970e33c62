"""The NULL fast path of ``Handshake`` (no ZAP, no extra metadata): our READY from a
per-socket-kind cache and the peer's short READY read without a Decoder. Every case is
run twice, through the fast path and through the general one (a NullMechanism subclass
is never fast), fed in several chunk sizes: the events, errors, bytes sent and leftover
must be the same, and the fast path must be the one taken where it applies."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastzmq._frame import encode_command, encode_frame, encode_message
from fastzmq.zmtp import BadFrame, IncompatibleSocketType, PeerError
from fastzmq.zmtp.commands import encode_error, encode_metadata, encode_ready
from fastzmq.zmtp.handshake import (
    NEED_DATA,
    Handshake,
    HandshakeComplete,
    HandshakeFailed,
    complete_null,
    encode_greeting,
    null_script_for,
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


# --------------------------------------------------------------------------- complete_null
# What a connection's hand-over uses after the engine's stager (no Handshake object): it
# must either decline (None) or return exactly the Handshake's completion, which by then
# has sent exactly null_script_for's bytes.

PLAIN_ENDS = {"compatible", "identity", "zmtp30"}


def handshake_over(socket_type: str, stream: bytes):
    """(event, bytes sent) of a Handshake fed ``stream`` at once (the stager's hand-over)."""
    hs = Handshake(socket_type, identity=b"me")
    ev, sent = hs.step(stream)
    return ev, sent


@pytest.mark.parametrize("case", sorted(CASES) + sorted(OLD_PEERS))
def test_complete_null_is_the_handshakes_completion(case):
    socket_type, stream = {**CASES, **OLD_PEERS}[case]
    fast = complete_null(socket_type, stream)
    ev, sent = handshake_over(socket_type, stream)
    if case in PLAIN_ENDS:
        assert fast is not None
        assert fast == ev  # version, peer type, identity, metadata, leftover, as-server
        assert sent == null_script_for(socket_type, b"me")
    else:
        assert fast is None  # a failure, a long READY, another command: the Handshake's


def test_complete_null_declines_what_is_not_yet_whole_or_not_plain():
    stream = CASES["compatible"][1]
    end = len(stream) - len(TRAFFIC)
    for n in range(end):  # any prefix: the READY is not whole yet
        assert complete_null("DEALER", stream[:n]) is None
    assert complete_null("DEALER", stream[:end]).leftover == b""
    greeting = encode_greeting(b"NULL", False)
    ready = encode_ready({"Socket-Type": b"ROUTER"})
    # revision 2 (the Handshake reads it as 3, with version (2, x)), as-server set, 3.0
    assert complete_null("DEALER", greeting[:10] + b"\x02" + greeting[11:] + ready) is None
    ev = complete_null("DEALER", greeting[:32] + b"\x01" + greeting[33:] + ready)
    assert (
        ev.peer_as_server
        and ev == handshake_over("DEALER", greeting[:32] + b"\x01" + greeting[33:] + ready)[0]
    )
    # a Socket-Type spelled in another case is still the type (RFC 37), as the Handshake reads it
    odd = greeting + encode_ready({"socket-type": b"router"})
    assert complete_null("DEALER", odd) == handshake_over("DEALER", odd)[0]


def test_null_script_for_is_every_types_handshake_output():
    from fastzmq.zmtp.handshake import COMPATIBLE_PEERS

    for socket_type, peers in COMPATIBLE_PEERS.items():
        for identity in (b"", b"id-1"):
            peer = next(iter(peers))
            stream = encode_greeting(b"NULL", False) + encode_ready({"Socket-Type": peer.encode()})
            hs = Handshake(socket_type, identity=identity)
            ev, sent = hs.step(stream)
            assert isinstance(ev, HandshakeComplete), socket_type
            assert sent == null_script_for(socket_type, identity)
            assert Handshake(socket_type, identity=identity).null_script() == sent


_CLEAN = encode_greeting(b"NULL", False) + encode_ready(
    {"Socket-Type": b"ROUTER", "Identity": b"abc"}
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(_CLEAN) - 1), st.integers(0, 255)), max_size=3),
    st.integers(0, len(_CLEAN)),
    st.binary(max_size=20),
)
def test_complete_null_never_accepts_what_the_handshake_would_not(edits, cut_at, tail):
    """Any corruption of a clean greeting and READY (changed bytes, a cut, more bytes after):
    complete_null either declines it or agrees with the Handshake, event and bytes sent."""
    data = bytearray(_CLEAN)
    for pos, value in edits:
        data[pos] = value
    data = bytes(data[:cut_at]) + tail
    fast = complete_null("DEALER", data)
    if fast is None:
        return
    ev, sent = handshake_over("DEALER", data)
    assert fast == ev
    assert sent == null_script_for("DEALER", b"me")


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12),
        st.binary(max_size=30),
        max_size=4,
    ),
    st.sampled_from(["ROUTER", "router", "DEALER", "PUB", "REP"]),
)
def test_complete_null_takes_every_clean_ready(extra, peer_type):
    meta = {k: v for k, v in extra.items() if k.lower() != "socket-type"}
    meta["Socket-Type"] = peer_type.encode()
    stream = encode_greeting(b"NULL", False) + encode_ready(meta)
    fast = complete_null("DEALER", stream)
    ev, _ = handshake_over("DEALER", stream)
    if len(stream) - 64 > 257:  # (a long frame: the Handshake's general path)
        assert fast is None
    elif isinstance(ev, HandshakeComplete):
        assert fast == ev  # every clean, compatible READY is taken
    else:
        assert fast is None  # an incompatible peer type fails in the Handshake

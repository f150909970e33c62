"""Sans-I/O tests of fastzmq.zmtp.handshake: bytes in, bytes and events out."""

from __future__ import annotations

import pytest

from fastzmq._frame import Decoder, encode_command, encode_frame, encode_message
from fastzmq.zmtp import (
    BadFrame,
    BadGreeting,
    IncompatibleSocketType,
    MechanismMismatch,
    PeerError,
)
from fastzmq.zmtp.commands import encode_error, encode_ready
from fastzmq.zmtp.handshake import (
    NEED_DATA,
    Handshake,
    HandshakeComplete,
    HandshakeFailed,
    socket_types_compatible,
)
from fastzmq.zmtp.mechanisms import Mechanism


def pump(a, b, rounds=8):
    ea = eb = NEED_DATA
    for _ in range(rounds):
        b.receive_data(a.data_to_send())
        a.receive_data(b.data_to_send())
        ea, eb = a.next_event(), b.next_event()
    return ea, eb


def greeting(
    major=3, minor=1, mechanism=b"NULL", as_server=0, signature=b"\xff" + bytes(8) + b"\x7f"
):
    return (
        signature
        + bytes((major, minor))
        + mechanism.ljust(20, b"\0")
        + bytes((as_server,))
        + bytes(31)
    )


V3_REST = 54  # what follows our signature in a ZMTP 3 greeting: major, minor, mechanism...


def feed_rest(hs, data, step=None):
    """Feed ``data`` in ``step``-byte chunks until an event: (event, bytes not fed)."""
    step = step or len(data) or 1
    ev = NEED_DATA
    for i in range(0, len(data), step):
        hs.receive_data(data[i : i + step])
        ev = hs.next_event()
        if ev is not NEED_DATA:
            return ev, data[i + step :]
    return ev, b""


def feed(hs, data, step=None):
    return feed_rest(hs, data, step)[0]


def staged_greeting(hs, peer=None):
    """What ``hs`` sends in all before its first command, given a ZMTP 3 peer's greeting."""
    out = hs.data_to_send()
    hs.receive_data(peer or greeting())
    assert hs.next_event() is NEED_DATA
    return out + hs.data_to_send()[:54]


def test_greeting_layout():
    hs = Handshake("PUSH")
    first = hs.data_to_send()
    assert first == b"\xff" + bytes(7) + b"\x01\x7f"  # the signature alone, first
    hs.receive_data(b"\xff" + bytes(8) + b"\x7f")
    assert hs.next_event() is NEED_DATA
    assert hs.data_to_send() == b"\x03"  # then the major version
    hs.receive_data(b"\x03")
    assert hs.next_event() is NEED_DATA
    rest = hs.data_to_send()
    assert first + b"\x03" + rest[: V3_REST - 1] == greeting(signature=first)
    # (a plain NULL handshake's READY follows at once: test_null_ready_waits_for_revision)
    assert rest[V3_REST - 1 :] == encode_ready({"Socket-Type": b"PUSH"})
    g = staged_greeting(Handshake("PUSH", version=(3, 0), as_server=True))
    assert g == greeting(minor=0, as_server=1, signature=g[:10])


def test_pair_completes_with_metadata():
    a = Handshake("DEALER", identity=b"me", metadata={"X-App": "demo"})
    b = Handshake("ROUTER", as_server=True)
    ea, eb = pump(a, b)
    assert isinstance(ea, HandshakeComplete) and isinstance(eb, HandshakeComplete)
    assert (eb.peer_socket_type, eb.peer_identity, eb.peer_version) == ("DEALER", b"me", (3, 1))
    assert eb.peer_metadata["X-App"] == b"demo"
    assert ea.peer_socket_type == "ROUTER" and ea.peer_as_server and ea.leftover == b""


def test_identity_sent_only_by_req_dealer_router():
    for stype, peer in [("PUSH", "PULL"), ("PUB", "SUB"), ("PAIR", "PAIR")]:
        _, eb = pump(Handshake(stype, identity=b"x"), Handshake(peer))
        assert "Identity" not in eb.peer_metadata and eb.peer_identity == b""
    for stype, peer in [("REQ", "REP"), ("DEALER", "DEALER"), ("ROUTER", "ROUTER")]:
        _, eb = pump(Handshake(stype, identity=b"x"), Handshake(peer))
        assert eb.peer_identity == b"x"


def peer_stream(socket_type=b"ROUTER", extra=b"", major=3, minor=1):
    return greeting(major, minor) + encode_ready({"Socket-Type": socket_type}) + extra


@pytest.mark.parametrize("step", [1, 2, 7, 64, 1000])
def test_byte_at_a_time_and_leftover(step):
    traffic = encode_message([b"hello", b"world"]) + encode_frame(b"x" * 300)
    hs = Handshake("DEALER")
    ev, rest = feed_rest(hs, peer_stream(extra=traffic), step)
    assert isinstance(ev, HandshakeComplete)
    assert ev.leftover + rest == traffic  # nothing lost, nothing duplicated
    dec = Decoder()
    dec.feed(ev.leftover + rest)
    assert [f.body for f in dec.frames()] == [b"hello", b"world", b"x" * 300]


def test_bytes_after_completion_are_refused():
    hs = Handshake("DEALER")
    assert isinstance(feed(hs, peer_stream()), HandshakeComplete)
    hs.receive_data(b"")
    with pytest.raises(RuntimeError):
        hs.receive_data(b"\x00\x00")


def _ready_in(sent: bytes) -> bool:
    dec = Decoder()
    dec.feed(sent)
    return [f.body[:6] for f in dec.frames() if f.command] == [b"\x05READY"]


def test_null_ready_waits_for_revision():
    """A plain NULL READY leaves with the rest of our greeting, as soon as the peer's
    revision says ZMTP 3 (it waits for nothing else of the peer's); with extra metadata
    (the general path) it waits for the peer's whole greeting."""
    hs = Handshake("DEALER")
    hs.data_to_send()
    assert hs.next_event() is NEED_DATA and hs.data_to_send() == b""
    hs.receive_data(greeting()[:10])
    assert hs.next_event() is NEED_DATA and hs.data_to_send() == b"\x03"
    hs.receive_data(greeting()[10:11])
    assert hs.next_event() is NEED_DATA
    assert _ready_in(hs.data_to_send()[V3_REST - 1 :])
    hs.receive_data(greeting()[11:] + encode_ready({"Socket-Type": b"ROUTER"}))
    assert isinstance(hs.next_event(), HandshakeComplete) and hs.data_to_send() == b""

    hs = Handshake("DEALER", metadata={"X-App": "demo"})
    hs.data_to_send()
    hs.receive_data(greeting()[:11])
    assert hs.next_event() is NEED_DATA and len(hs.data_to_send()) == V3_REST
    hs.receive_data(greeting()[11:63])
    assert hs.next_event() is NEED_DATA and hs.data_to_send() == b""
    hs.receive_data(greeting()[63:])
    assert hs.next_event() is NEED_DATA and _ready_in(hs.data_to_send())


def test_zmtp30_peer_is_accepted_and_remembered():
    hs = Handshake("DEALER")
    ev = feed(hs, peer_stream(minor=0))
    assert ev.peer_version == (3, 0) and ev.version == (3, 0)
    ev = feed(Handshake("DEALER"), peer_stream(major=4, minor=2))
    assert ev.peer_version == (4, 2) and ev.version == (3, 1)


def test_property_names_case_insensitive_and_unknown_kept():
    ready = encode_command(
        b"READY", b"\x0bsocket-TYPE\x00\x00\x00\x03REP\x05x-foo\x00\x00\x00\x01z"
    )
    ev = feed(Handshake("REQ"), greeting() + ready)
    assert ev.peer_socket_type == "REP"
    assert ev.peer_metadata == {"socket-TYPE": b"REP", "x-foo": b"z"}


FAILURES = [
    ("1.0 identity of length 0", b"\x00\x00", BadGreeting),
    ("1.0 long identity", b"\xff" + bytes(6) + b"\x01\x01\x00", BadGreeting),
    ("unknown mechanism", greeting(mechanism=b"FOO"), MechanismMismatch),
    ("mismatched mechanism", greeting(mechanism=b"PLAIN"), MechanismMismatch),
    ("incompatible socket type", peer_stream(b"PUB"), IncompatibleSocketType),
    ("no socket type", greeting() + encode_ready({}), IncompatibleSocketType),
    ("peer ERROR", greeting() + encode_error("go away"), PeerError),
    ("data frame in handshake", greeting() + encode_frame(b"x"), BadFrame),
    ("reserved flags", greeting() + b"\x10\x00", BadFrame),
    ("MORE on command", greeting() + b"\x05\x00", BadFrame),
    ("truncated command name", greeting() + encode_frame(b"\x09READ", command=True), BadFrame),
    ("unexpected command", greeting() + encode_command(b"HELLO"), BadFrame),
    ("bad metadata", greeting() + encode_command(b"READY", b"\x05ab"), BadFrame),
]


@pytest.mark.parametrize("name,data,exc", FAILURES, ids=[f[0] for f in FAILURES])
@pytest.mark.parametrize("step", [1, 1000])
def test_failures(name, data, exc, step):
    hs = Handshake("DEALER")
    hs.data_to_send()
    ev = feed(hs, data, step)
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, exc), ev
    assert str(ev.error)
    assert hs.next_event() is ev  # terminal
    hs.receive_data(b"more")  # ignored once failed
    greeting_ok = exc not in (BadGreeting, MechanismMismatch)
    sent = hs.data_to_send()
    dec = Decoder()
    dec.feed(sent[V3_REST:] if greeting_ok else b"")
    errors = [f for f in dec.frames() if f.body.startswith(b"\x05ERROR")]
    assert len(errors) == (1 if greeting_ok and exc is not PeerError else 0)


def test_major_version_2_is_read_as_3():
    """There never was a revision 2: libzmq answers it with a ZMTP 3 greeting, so do we."""
    ev = feed(
        Handshake("DEALER"), greeting(major=2, minor=0) + encode_ready({"Socket-Type": b"ROUTER"})
    )
    assert isinstance(ev, HandshakeComplete) and ev.peer_version == (2, 0)


def test_incompatible_sends_error_with_reason():
    a, b = Handshake("PUSH"), Handshake("PUB")
    ea, eb = pump(a, b)
    assert isinstance(ea, HandshakeFailed) and isinstance(
        ea.error, (IncompatibleSocketType, PeerError)
    )
    assert isinstance(eb, HandshakeFailed)
    assert "PUSH" in str(eb.error) or "PUB" in str(eb.error)


def test_peer_error_reason():
    ev = feed(Handshake("DEALER"), greeting() + encode_error("bad credentials"))
    assert ev.error.reason == "bad credentials"


def test_command_size_is_bounded():
    big = encode_command(b"READY", b"\x01x" + (10**6).to_bytes(4, "big") + bytes(10**6))
    ev = feed(Handshake("DEALER", max_command_size=4096), greeting() + big[:5000])
    assert isinstance(ev, HandshakeFailed)


def test_compatibility_table_is_symmetric():
    types = [
        "REQ",
        "REP",
        "DEALER",
        "ROUTER",
        "PUB",
        "XPUB",
        "SUB",
        "XSUB",
        "PUSH",
        "PULL",
        "PAIR",
        "CLIENT",
        "SERVER",
        "RADIO",
        "DISH",
        "SCATTER",
        "GATHER",
        "PEER",
        "CHANNEL",
    ]
    for a in types:
        for b in types:
            assert socket_types_compatible(a, b) == socket_types_compatible(b, a)
    assert socket_types_compatible("req", "ROUTER") and not socket_types_compatible("REQ", "REQ")
    with pytest.raises(ValueError):
        Handshake("STREAM")
    with pytest.raises(ValueError):
        Handshake("PUSH", version=(2, 0))


class EchoMechanism(Mechanism):
    """A toy two-step mechanism: proves the handshake drives any Mechanism."""

    name = b"X-ECHO"

    def start(self, metadata, peer_as_server):
        self.meta = metadata
        return [(b"HELLO", b"")]

    def receive_command(self, name, data):
        if name == b"HELLO":
            return [(b"DONE", encode_ready(self.meta)[2 + 6 :])]
        if name == b"DONE":
            from fastzmq.zmtp.commands import decode_metadata

            self.peer_metadata = decode_metadata(data)
            self.is_complete = True
            return []
        raise BadFrame(f"unexpected {name!r}")


def test_pluggable_mechanism():
    a = Handshake("PAIR", mechanism=EchoMechanism())
    b = Handshake("PAIR", mechanism=EchoMechanism(), as_server=True)
    ea, eb = pump(a, b)
    assert isinstance(ea, HandshakeComplete) and isinstance(eb, HandshakeComplete)
    assert eb.peer_socket_type == "PAIR"
    # and mismatch against NULL
    _, ec = pump(Handshake("PAIR", mechanism=EchoMechanism()), Handshake("PAIR"))
    assert isinstance(ec, HandshakeFailed) and isinstance(ec.error, MechanismMismatch)

"""Unit and property tests of the ZMTP frame codec (fastzmq._frame) and zmtp.commands."""

from __future__ import annotations

import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastzmq import _frame
from fastzmq._frame import Decoder, Scanner, encode_command, encode_frame, encode_message, scan
from fastzmq.zmtp import BadFrame, MessageTooLarge, ProtocolError
from fastzmq.zmtp import commands as cmd

# --------------------------------------------------------------------------- strategies

bodies = st.one_of(st.binary(max_size=20), st.binary(min_size=250, max_size=300))
messages = st.lists(bodies, min_size=1, max_size=4)
commands_ = st.tuples(st.binary(min_size=1, max_size=12), st.binary(max_size=270))
items = st.lists(
    st.one_of(messages.map(lambda m: ("msg", m)), commands_.map(lambda c: ("cmd", c))), max_size=8
)


def build(seq):
    """(stream bytes, expected [(flags, body)], message end offsets)."""
    out, frames, ends = b"", [], []
    for kind, value in seq:
        if kind == "msg":
            out += encode_message(value)
            frames += [(1, b) for b in value[:-1]] + [(0, value[-1])]
        else:
            name, data = value
            out += encode_command(name, data)
            frames.append((4, bytes((len(name),)) + name + data))
        ends.append(len(out))
    return out, frames, ends


def decode_chunks(chunks, maxmsgsize=-1):
    dec = Decoder(maxmsgsize)
    got = []
    for c in chunks:
        dec.feed(c)
        got += [tuple(f) for f in dec.frames()]
    return got, dec


def split(data, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


# --------------------------------------------------------------------------- encoding


def test_short_and_long_headers():
    assert encode_frame(b"x" * 255)[:2] == b"\x00\xff"
    long = encode_frame(b"x" * 256, more=True)
    assert long[:9] == b"\x03" + struct.pack(">Q", 256)
    assert encode_frame(b"", command=True) == b"\x04\x00"
    assert encode_frame(memoryview(b"ab")) == b"\x00\x02ab"


def test_encode_message_sets_more_on_all_but_last():
    assert encode_message([b"a", bytearray(b"bc"), b""]) == b"\x01\x01a\x01\x02bc\x00\x00"
    with pytest.raises(ValueError):
        encode_message([])


def test_command_encode_and_parse():
    frame = encode_command(b"READY", b"data")
    assert frame == b"\x04\x0a\x05READYdata"
    assert _frame.parse_command(frame[2:]) == (b"READY", b"data")
    with pytest.raises(ValueError):
        encode_frame(b"x", more=True, command=True)


@pytest.mark.parametrize("body", [b"", b"\x00", b"\x05READ", b"\xffabc"])
def test_parse_command_rejects_truncated_name(body):
    with pytest.raises(BadFrame):
        _frame.parse_command(body)


# --------------------------------------------------------------------------- malformed table

MALFORMED = [
    ("reserved flag bit 3", b"\x08\x00", BadFrame, -1),
    ("reserved flag bit 7", b"\x80\x01x", BadFrame, -1),
    ("MORE on a command", b"\x05\x00", BadFrame, -1),
    ("long size with top bit", b"\x02\x80" + bytes(7), BadFrame, -1),
    ("command inside multipart", b"\x01\x01a\x04\x00", BadFrame, -1),
    ("oversize single frame", b"\x00\x05hello", MessageTooLarge, 4),
    ("oversize across parts", b"\x01\x03abc\x00\x02de", MessageTooLarge, 4),
    ("oversize announced only", b"\x02" + struct.pack(">Q", 2**40), MessageTooLarge, 1000),
]


@pytest.mark.parametrize("name,data,exc,limit", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_rejected_by_decoder_and_scanner(name, data, exc, limit):
    dec = Decoder(limit)
    dec.feed(data)
    with pytest.raises(exc):
        dec.frames()
    with pytest.raises(exc):  # errors are sticky
        dec.feed(b"\x00\x00")
    with pytest.raises(exc):
        scan(data, limit)
    with pytest.raises(exc):  # byte by byte, the scanner fails too
        s = Scanner(limit)
        for i in range(len(data)):
            s.feed(data[i : i + 1])


def test_maxmsgsize_boundary_is_inclusive():
    ok = encode_message([b"ab", b"cd"])
    assert scan(ok, 4) == (len(ok), 1)
    dec = Decoder(4)
    dec.feed(ok + encode_frame(b"abcd"))
    assert [f.body for f in dec.frames()] == [b"ab", b"cd", b"abcd"]
    with pytest.raises(MessageTooLarge):
        scan(encode_message([b"ab", b"cde"]), 4)


def test_huge_announced_frame_allocates_nothing():
    header = b"\x02" + struct.pack(">Q", 2**63 - 1)
    s = Scanner()
    assert s.feed(header + b"abc") == (-1, 0)
    assert not s.at_boundary
    dec = Decoder()
    dec.feed(header + b"abc")
    assert dec.frames() == []
    assert dec.pending() == header + b"abc"


def test_large_body_in_small_chunks_is_linear():
    body = bytes(range(256)) * (8 * 4096)  # 8 MiB
    data = encode_frame(body)
    dec = Decoder()
    t0 = time.perf_counter()
    got = []
    for i in range(0, len(data), 4096):
        dec.feed(data[i : i + 4096])
        got += dec.frames()
    elapsed = time.perf_counter() - t0
    assert [f.body for f in got] == [body]
    assert elapsed < 2.0, f"8 MiB in 4 KiB chunks took {elapsed:.2f}s: quadratic copying?"


def test_frame_object():
    dec = Decoder()
    dec.feed(encode_message([b"a", b"b"]) + encode_command(b"PING", b"\x00\x01"))
    a, b, c = dec.frames()
    assert (a.more, a.command, b.more, c.command) == (True, False, False, True)
    assert tuple(a) == (1, b"a") and a == a and a != b
    assert "more" in repr(a)
    assert dec.at_boundary


def test_next_frame_and_pending():
    dec = Decoder()
    dec.feed(encode_frame(b"one") + b"\x00\x05ab")
    assert dec.next_frame().body == b"one"
    assert dec.next_frame() is None
    assert dec.pending() == b"\x00\x05ab"
    assert not dec.at_boundary


# --------------------------------------------------------------------------- properties

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(items)
def test_roundtrip(seq):
    data, frames, _ = build(seq)
    got, dec = decode_chunks([data])
    assert got == frames
    assert dec.at_boundary


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(messages.map(lambda m: ("msg", m)), commands_.map(lambda c: ("cmd", c))),
        max_size=3,
    )
)
def test_every_split_point_and_byte_by_byte(seq):
    data, frames, _ = build(seq)
    for cut in range(len(data) + 1):
        assert decode_chunks([data[:cut], data[cut:]])[0] == frames
    assert decode_chunks([data[i : i + 1] for i in range(len(data))])[0] == frames


@SETTINGS
@given(items, st.lists(st.integers(min_value=0), max_size=12))
def test_scanner_agrees_with_decoder(seq, cuts):
    data, frames, ends = build(seq)
    s = Scanner()
    offset, total, seen_ends = 0, 0, []
    for chunk in split(data, cuts):
        last_end, n = s.feed(chunk)
        inside = [e for e in ends if offset < e <= offset + len(chunk)]
        assert n == len(inside)
        assert last_end == (inside[-1] - offset if inside else -1)
        total += n
        seen_ends += inside
        offset += len(chunk)
    assert total == len(ends) == sum(1 for f in frames if not f[0] & 1)
    assert s.at_boundary


def _outcome(fn):
    try:
        return ("ok", fn())
    except ProtocolError as exc:
        return ("error", type(exc))


@SETTINGS
@given(
    st.binary(max_size=64),
    st.lists(st.integers(min_value=0), max_size=6),
    st.sampled_from([-1, 0, 3, 300]),
)
def test_random_bytes_parse_or_reject(data, cuts, limit):
    def via_decoder():
        return decode_chunks(split(data, cuts), limit)[0]

    def via_scanner():
        s = Scanner(limit)
        return sum(s.feed(c)[1] for c in split(data, cuts))

    dec, scn = _outcome(via_decoder), _outcome(via_scanner)
    assert dec[0] == scn[0]
    if dec[0] == "ok":
        assert scn[1] == sum(1 for f in dec[1] if not f[0] & 1)
    else:
        assert dec[1] is scn[1]


# --------------------------------------------------------------------------- commands


def test_metadata_roundtrip_keeps_unknown_and_case():
    meta = {"Socket-Type": b"DEALER", "identity": b"\x01x", "X-Custom": "v\u00e9"}
    raw = cmd.encode_metadata(meta)
    got = cmd.decode_metadata(raw)
    assert got == {"Socket-Type": b"DEALER", "identity": b"\x01x", "X-Custom": "vé".encode()}
    assert cmd.get_property(got, "SOCKET-type") == b"DEALER"
    assert cmd.get_property(got, "Identity") == b"\x01x"
    assert cmd.get_property(got, "missing", b"") == b""


@pytest.mark.parametrize(
    "raw", [b"\x00", b"\x03abc\x00\x00", b"\x03abc\x00\x00\x00\x05abc", b"\x03ab"]
)
def test_metadata_rejects_malformed(raw):
    with pytest.raises(BadFrame):
        cmd.decode_metadata(raw)


def test_traffic_commands_31_and_30_forms():
    assert cmd.encode_subscribe(b"t") == encode_command(b"SUBSCRIBE", b"t")
    assert cmd.encode_cancel(b"t") == encode_command(b"CANCEL", b"t")
    assert cmd.encode_subscribe(b"t", (3, 0)) == encode_frame(b"\x01t")
    assert cmd.encode_cancel(b"t", (3, 0)) == encode_frame(b"\x00t")
    assert cmd.decode_command(encode_command(b"SUBSCRIBE", b"ab")[2:]) == cmd.Subscribe(b"ab")
    assert cmd.decode_command(encode_command(b"CANCEL", b"")[2:]) == cmd.Cancel(b"")
    assert cmd.decode_subscription_message(b"\x01ab") == cmd.Subscribe(b"ab")
    assert cmd.decode_subscription_message(b"\x00") == cmd.Cancel(b"")
    assert cmd.decode_subscription_message(b"\x02x") is None
    assert cmd.decode_subscription_message(b"") is None


def test_ping_pong_error():
    ping = cmd.decode_command(cmd.encode_ping(600, b"ctx")[2:])
    assert ping == cmd.Ping(600, b"ctx")
    assert cmd.decode_command(cmd.pong_for(ping)[2:]) == cmd.Pong(b"ctx")
    assert cmd.decode_command(cmd.encode_error("nope")[2:]) == cmd.Error("nope")
    assert cmd.decode_command(encode_command(b"JOIN", b"g")[2:]) == cmd.UnknownCommand(
        b"JOIN", b"g"
    )
    with pytest.raises(ValueError):
        cmd.encode_ping(70000)
    with pytest.raises(ValueError):
        cmd.encode_ping(1, b"x" * 17)
    for bad in (
        encode_command(b"PING", b"\x00"),
        encode_command(b"PING", bytes(19)),
        encode_command(b"PONG", bytes(17)),
        encode_command(b"ERROR", b"\x05ab"),
    ):
        with pytest.raises(BadFrame):
            cmd.decode_command(bad[2:])


def test_error_for_code_maps_codes():
    assert isinstance(_frame.error_for_code(-3, 10), MessageTooLarge)
    for code in (-1, -2, -4, -5):
        assert isinstance(_frame.error_for_code(code), BadFrame)

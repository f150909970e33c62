"""The CURVE data phase in the I/O thread (``_curve.CurveCodec`` and ``Engine._curve_*``).

The codec seals with libsodium's primitives and per-direction HSalsa20 subkeys; its bytes
must be exactly ``crypto_box_afternm``'s (checked here against PyNaCl's own call), and it
must refuse what RFC 26 refuses. The engine seals whole runs of ring frames and opens
frames back to back into the inbound ring: streams of mixed sizes (frames across ring
chunks, bodies sent by reference, multipart) must arrive intact and in order, with libzmq
on either side."""

from __future__ import annotations

import os

import pytest

import fastzmq as fz
from fastzmq import _curve

CurveCodec = _curve.CurveCodec

nb = pytest.importorskip("nacl.bindings")

C2S, S2C = b"CurveZMQMESSAGEC", b"CurveZMQMESSAGES"
ERR_FRAME, ERR_NONCE, ERR_CRYPTO, ERR_FLAGS = -20, -21, -22, -23
# around the Salsa20 block (64), the one-time key's half block (32), the short header (255),
# and the 8-byte words the head of block 0 is combined in (7..9, 23..25)
SIZES = [0, 1, 7, 8, 9, 15, 16, 23, 24, 25, 30, 31, 32, 33, 63, 64, 65, 95, 96, 97, 254, 255, 256]
SIZES += [4096, 70000]


def _key() -> bytes:
    a_pk, a_sk = nb.crypto_box_keypair()
    b_pk, _ = nb.crypto_box_keypair()
    return nb.crypto_box_beforenm(b_pk, a_sk)


def _reference(key: bytes, label: bytes, counter: int, flags: int, body: bytes) -> bytes:
    """The MESSAGE command body made with PyNaCl's crypto_box_afternm."""
    short = counter.to_bytes(8, "big")
    return b"\x07MESSAGE" + short + nb.crypto_box_afternm(bytes([flags]) + body, label + short, key)


def _body(frame: bytes) -> bytes:
    """A sealed wire frame without its ZMTP header (flags 0 short, 2 long)."""
    assert frame[0] in (0, 2)
    return frame[2:] if frame[0] == 0 else frame[9:]


def test_pynacl_gives_the_primitives():
    assert CurveCodec(_key(), False, 1, 0).uses_primitives
    assert not CurveCodec(_key(), False, 1, 0, False).uses_primitives


@pytest.mark.parametrize("copy", [False, True])  # body read in place / copied, then sealed
@pytest.mark.parametrize("primitives", [True, False])
@pytest.mark.parametrize("as_server", [False, True])
def test_sealed_bytes_are_crypto_box_afternm(primitives, as_server, copy):
    key = _key()
    codec = CurveCodec(key, as_server, 7, 0, primitives)
    label = S2C if as_server else C2S
    for i, size in enumerate(SIZES):
        body = os.urandom(size)
        flags = i % 4
        frame = codec.seal_frame(flags, body, copy)
        assert _body(frame) == _reference(key, label, 7 + i, flags, body), size
        assert len(_body(frame)) == 33 + size
    assert codec.counters == (7 + len(SIZES), 0)


@pytest.mark.parametrize("primitives", [True, False])
def test_opens_crypto_box_afternm_and_refuses_the_rest(primitives):
    key = _key()
    codec = CurveCodec(key, True, 1, 4, primitives)  # server: opens client frames
    for i, size in enumerate(SIZES):
        body = os.urandom(size)
        assert codec.open_frame(_reference(key, C2S, 5 + i, i % 4, body)) == (i % 4, body)
    last = 4 + len(SIZES)
    assert codec.counters[1] == last
    good = _reference(key, C2S, last + 1, 1, b"payload" * 5)
    # any flipped bit: in the nonce, the tag, the ciphertext (first and later blocks)
    for at in (8, 15, 16, 31, 32, 33, len(good) - 1):
        bad = bytearray(good)
        bad[at] ^= 0x10
        with pytest.raises(ValueError) as e:
            codec.open_frame(bytes(bad))
        assert e.value.args[0] in (ERR_CRYPTO, ERR_NONCE)
    with pytest.raises(ValueError, match=str(ERR_CRYPTO)):  # the other direction's label
        codec.open_frame(_reference(key, S2C, last + 1, 0, b"x"))
    with pytest.raises(ValueError, match=str(ERR_CRYPTO)):  # another connection's key
        codec.open_frame(_reference(_key(), C2S, last + 1, 0, b"x"))
    with pytest.raises(ValueError, match=str(ERR_FRAME)):
        codec.open_frame(b"\x07MESSAGX" + good[8:])
    with pytest.raises(ValueError, match=str(ERR_FRAME)):
        codec.open_frame(good[:32])
    assert codec.open_frame(good) == (1, b"payload" * 5)
    with pytest.raises(ValueError, match=str(ERR_NONCE)):  # replayed
        codec.open_frame(good)
    with pytest.raises(ValueError, match=str(ERR_NONCE)):  # older
        codec.open_frame(_reference(key, C2S, last, 0, b"x"))
    with pytest.raises(ValueError, match=str(ERR_FLAGS)):  # reserved bits in the box
        codec.open_frame(_reference(key, C2S, last + 2, 4, b"x"))


def test_opened_in_parts_as_across_ring_chunks():
    """open_check + open_range (a frame decrypted into several chunks) give the same
    plaintext for any split, and refuse what open_frame refuses before writing any."""
    key = _key()
    for size in (24, 31, 32, 33, 64, 100, 5000):
        body = os.urandom(size)
        for part in (1, 7, 31, 32, 33, 63, 64, 65, 4096):
            codec = CurveCodec(key, True, 1, 0)
            assert codec.open_frame_in_parts(_reference(key, C2S, 1, 1, body), part) == (1, body)
    codec = CurveCodec(key, True, 1, 0)
    bad = bytearray(_reference(key, C2S, 1, 0, b"y" * 100))
    bad[50] ^= 1
    with pytest.raises(ValueError, match=str(ERR_CRYPTO)):
        codec.open_frame_in_parts(bytes(bad), 10)
    with pytest.raises(ValueError, match=str(ERR_FLAGS)):
        codec.open_frame_in_parts(_reference(key, C2S, 2, 8, b"y" * 100), 10)
    with pytest.raises(ValueError, match=str(ERR_NONCE)):
        codec.open_frame_in_parts(_reference(key, C2S, 2, 0, b"y" * 100), 10)


def test_round_trip_between_codecs():
    key = _key()
    client, server = CurveCodec(key, False, 1, 0), CurveCodec(key, True, 1, 0)
    for size in SIZES:
        body = os.urandom(size)
        assert server.open_frame(_body(client.seal_frame(1, body))) == (1, body)
        assert client.open_frame(_body(server.seal_frame(2, body))) == (2, body)


# --------------------------------------------------------------------------- engines

zmq = pytest.importorskip("zmq")


def _stream():
    """Messages whose frames straddle 64 KiB ring chunks, with bodies of 16 KiB and more
    (sent by reference) between small frames, and multipart messages."""
    out = []
    for i in range(1500):
        k = i % 97
        if k == 13:
            out.append([b"%d" % i, bytes([i % 256]) * 20000])
        elif k == 50:
            out.append([b"%d" % i, b"", bytes([i % 251]) * 70000, b"end"])
        else:
            out.append([b"%d" % i + b"." * (i * 37 % 300)])
    return out


def _curve_pair(slib, sctx, clib, cctx):
    spub, ssec = zmq.curve_keypair()
    cpub, csec = zmq.curve_keypair()
    pull, push = sctx.socket(slib.PULL), cctx.socket(clib.PUSH)
    for s in (pull, push):
        s.linger = 0
        s.rcvtimeo = s.sndtimeo = 5000
    pull.curve_secretkey, pull.curve_publickey, pull.curve_server = ssec, spub, True
    push.curve_serverkey, push.curve_publickey, push.curve_secretkey = spub, cpub, csec
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push.connect(f"tcp://127.0.0.1:{port}")
    return push, pull


@pytest.mark.parametrize(
    "sender,receiver", [("fast", "libzmq"), ("libzmq", "fast"), ("fast", "fast")]
)
def test_mixed_stream_in_order(ctx, sender, receiver):
    pctx = zmq.Context()
    try:
        libs = {"fast": (fz, ctx), "libzmq": (zmq, pctx)}
        push, pull = _curve_pair(*libs[receiver], *libs[sender])
        try:
            msgs = _stream()
            for m in msgs:
                push.send_multipart(m)
            for i, m in enumerate(msgs):
                assert pull.recv_multipart() == m, i
        finally:
            push.close()
            pull.close()
    finally:
        pctx.destroy(linger=0)


@pytest.mark.parametrize("size", [16, 4096, 70000])
def test_bench_helper_opens_what_it_seals(size):
    """bench/bench_curve.py's timing loops seal with one codec and open with its peer's;
    a frame that does not open raises (no timing is checked here)."""
    result = _curve._bench_frames(size, 3)
    assert set(result) == {
        "seal",
        "open",
        "salsa20_block0",
        "salsa20_rest",
        "poly1305",
        "poly1305_verify",
    }

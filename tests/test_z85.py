"""Z85 (RFC 32) and the CURVE key helpers, against the RFC's vector and pyzmq."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastzmq.utils import z85

zmq = pytest.importorskip("zmq")
zmq_z85 = pytest.importorskip("zmq.utils.z85")

RFC32_RAW = bytes([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])


def test_rfc32_vector():
    assert z85.encode(RFC32_RAW) == b"HelloWorld"
    assert z85.decode(b"HelloWorld") == RFC32_RAW
    assert z85.decode("HelloWorld") == RFC32_RAW


def test_extremes():
    assert z85.encode(bytes(4)) == b"00000"
    assert z85.encode(b"\xff" * 4) == b"%nSc0"
    assert z85.decode(b"%nSc0") == b"\xff" * 4
    assert z85.encode(b"") == b"" and z85.decode(b"") == b""


@given(st.binary(max_size=64).map(lambda b: b[: len(b) // 4 * 4]))
def test_round_trip_and_agrees_with_pyzmq(raw):
    text = z85.encode(raw)
    assert len(text) == len(raw) // 4 * 5
    assert text == zmq_z85.encode(raw)
    assert z85.decode(text) == raw == zmq_z85.decode(text)


@given(st.lists(st.integers(0, 84), max_size=40).map(lambda d: d[: len(d) // 5 * 5]))
def test_decode_any_valid_text_like_pyzmq(digits):
    text = bytes(z85.Z85CHARS[d] for d in digits)
    try:
        expected = zmq_z85.decode(text)
    except struct.error:
        with pytest.raises(ValueError, match="32 bits"):
            z85.decode(text)
        return
    assert z85.decode(text) == expected


@pytest.mark.parametrize("raw", [b"a", b"abc", b"abcde"])
def test_encode_rejects_lengths_not_multiple_of_4(raw):
    with pytest.raises(ValueError, match="multiple of 4"):
        z85.encode(raw)


@pytest.mark.parametrize(
    "text, match",
    [
        (b"Hell", "multiple of 5"),
        (b"Hello World", "multiple of 5"),
        (b"Hello Worl", "not a Z85 character"),
        (b'Hell"', "not a Z85 character"),
        (b"#####", "32 bits"),  # 85**5 - 1 does not fit a word
        ("Hellö", "ASCII"),
    ],
)
def test_decode_rejects(text, match):
    with pytest.raises(ValueError, match=match):
        z85.decode(text)


def test_curve_keypair_matches_pyzmq():
    pytest.importorskip("nacl")
    import fastzmq

    public, secret = fastzmq.curve_keypair()
    assert len(public) == len(secret) == 40 and public != secret
    assert fastzmq.curve_public(secret) == public == zmq.curve_public(secret)
    their_public, their_secret = zmq.curve_keypair()
    assert fastzmq.curve_public(their_secret) == their_public
    assert fastzmq.curve_public(their_secret.decode()) == their_public
    with pytest.raises(ValueError):
        fastzmq.curve_public(b"short")
    with pytest.raises(fastzmq.ZMQError) as info:
        fastzmq.curve_public(b" " * 40)  # 40 characters, not Z85
    assert info.value.errno == fastzmq.EINVAL
    assert fastzmq.has("curve")


def test_fastzmq_imports_without_pynacl_and_curve_says_why():
    """Without PyNaCl: has("curve") is False, curve_keypair raises ZMQError(ENOTSUP) as
    libzmq without CURVE does, and a CURVE mechanism says what to install."""
    code = (
        "import sys; sys.modules['nacl'] = None; sys.modules['nacl.bindings'] = None\n"
        "import fastzmq, fastzmq.auth, fastzmq.zmtp.mechanisms.curve as c\n"
        "assert not fastzmq.has('curve')\n"
        "for make in (fastzmq.curve_keypair, lambda: fastzmq.curve_public(b'0' * 40)):\n"
        "    try:\n"
        "        make()\n"
        "    except fastzmq.ZMQError as exc:\n"
        "        assert exc.errno == fastzmq.ENOTSUP and 'PyNaCl' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit('no error')\n"
        "try:\n"
        "    c.CurveServer(bytes(32))\n"
        "except c.CurveUnavailable as exc:\n"
        "    assert 'PyNaCl' in str(exc), exc\n"
        "else:\n"
        "    raise SystemExit('no error')\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

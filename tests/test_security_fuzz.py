"""Hostile input against the PLAIN and CURVE handshakes and the CURVE data phase.

Sans-I/O (hypothesis, bytes alone): after a valid greeting, whatever the peer sends makes
the handshake wait for more or fail with a ProtocolError, never raise anything else. On
real sockets: a peer that sends garbage after a valid CURVE HELLO, or garbage MESSAGE
commands after a complete handshake, is cut off while a good client is served."""

from __future__ import annotations

import socket as pysocket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastzmq as zmq
from fastzmq.utils import z85
from fastzmq.zmtp import ProtocolError
from fastzmq.zmtp.handshake import (
    NEED_DATA,
    Handshake,
    HandshakeComplete,
    HandshakeFailed,
    encode_greeting,
)
from fastzmq.zmtp.mechanisms.curve import CurveClient, CurveServer
from fastzmq.zmtp.mechanisms.plain import PlainClient, PlainServer
from fastzmq.zmtp.zap import DEFERRED
from security_helpers import keypair

pytest.importorskip("nacl")

_SK = bytes(range(1, 33))
_PK = z85.decode(b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")  # any valid public key


def test_unusable_server_key_fails_as_protocol_error():
    hs = Handshake("DEALER", mechanism=CurveClient(bytes(32)))  # all-zero: low order
    ev = _feed(hs, [encode_greeting(b"CURVE", True)])
    assert isinstance(ev, HandshakeFailed)


def _servers():
    return {
        "plain": lambda: Handshake("ROUTER", mechanism=PlainServer(DEFERRED), as_server=True),
        "curve": lambda: Handshake("ROUTER", mechanism=CurveServer(_SK), as_server=True),
        "plain-client": lambda: Handshake("DEALER", mechanism=PlainClient(b"u", b"p")),
        "curve-client": lambda: Handshake("DEALER", mechanism=CurveClient(_PK, secret_key=_SK)),
    }


def _feed(hs, chunks):
    for chunk in chunks:
        hs.receive_data(chunk)
        ev = hs.next_event()  # must not raise
        assert ev is NEED_DATA or isinstance(ev, (HandshakeFailed, HandshakeComplete))
        if isinstance(ev, HandshakeFailed):
            assert isinstance(ev.error, ProtocolError)
            return ev
    return None


@pytest.mark.parametrize("kind", sorted(_servers()))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=st.lists(st.binary(max_size=300), max_size=6))
def test_handshake_fuzz_after_greeting(kind, chunks):
    hs = _servers()[kind]()
    mech = hs.mechanism.name
    as_server = not hs.as_server
    ev = _feed(hs, [encode_greeting(mech, as_server)] + chunks)
    assert ev is None or isinstance(ev.error, ProtocolError)


@settings(max_examples=100, deadline=None)
@given(
    cmd=st.sampled_from([b"HELLO", b"INITIATE", b"WELCOME", b"READY", b"MESSAGE", b"ERROR"]),
    body=st.binary(max_size=400),
)
def test_curve_server_fuzz_commands(cmd, body):
    hs = Handshake("ROUTER", mechanism=CurveServer(_SK), as_server=True)
    data = bytes((len(cmd),)) + cmd + body
    frame = (
        bytes((4, len(data))) if len(data) < 256 else b"\x06" + len(data).to_bytes(8, "big")
    ) + data
    ev = _feed(hs, [encode_greeting(b"CURVE", False), frame])
    assert ev is None or isinstance(ev.error, ProtocolError)


def _raw_curve_hello(server_public: bytes) -> tuple[bytes, object]:
    """A valid greeting + HELLO from a sans-I/O CURVE client."""
    hs = Handshake("DEALER", mechanism=CurveClient(server_public))
    out = hs.data_to_send()
    hs.receive_data(encode_greeting(b"CURVE", True))
    hs.next_event()
    return out + hs.data_to_send(), hs


def _closed_by_peer(s: pysocket.socket, timeout: float = 3.0) -> bool:
    s.settimeout(0.2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if s.recv(65536) == b"":
                return True
        except (TimeoutError, pysocket.timeout):
            continue
        except ConnectionResetError:
            return True
    return False


def _server(ctx):
    spk, ssk = keypair()
    srv = ctx.socket(zmq.PULL)
    srv.linger = 0
    srv.curve_secretkey, srv.curve_publickey, srv.curve_server = ssk, spk, 1
    port = srv.bind_to_random_port("tcp://127.0.0.1")
    return srv, spk, port


def _good_client(ctx, spk, port):
    c = ctx.socket(zmq.PUSH)
    c.linger = 0
    pk, sk = keypair()
    c.curve_serverkey, c.curve_publickey, c.curve_secretkey = spk, pk, sk
    c.connect(f"tcp://127.0.0.1:{port}")
    return c


def test_garbage_after_valid_hello_is_cut_off(ctx):
    srv, spk, port = _server(ctx)
    hostile = pysocket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        hello, _ = _raw_curve_hello(z85.decode(spk))
        hostile.sendall(hello + b"\x04\xff" + bytes(range(255)))
        good = _good_client(ctx, spk, port)
        good.send(b"served")
        assert srv.poll(3000) and srv.recv() == b"served"
        assert _closed_by_peer(hostile)
    finally:
        hostile.close()


def test_forged_messages_after_handshake_are_cut_off(ctx):
    """A complete handshake, then a MESSAGE whose box does not open, then a replayed
    nonce: each connection is dropped, nothing is delivered, others are served."""
    srv, spk, port = _server(ctx)
    for forge in ("box", "replay", "not-message"):
        s = pysocket.create_connection(("127.0.0.1", port), timeout=3)
        try:
            hs = Handshake("PUSH", mechanism=CurveClient(z85.decode(spk)))
            s.sendall(hs.data_to_send())
            ev = NEED_DATA
            s.settimeout(3)
            while ev is NEED_DATA:
                hs.receive_data(s.recv(65536))
                ev = hs.next_event()
                s.sendall(hs.data_to_send())
            assert isinstance(ev, HandshakeComplete)
            mech = hs.mechanism
            good = mech.encode_message_frame(0, b"genuine")
            if forge == "box":
                bad = bytearray(mech.encode_message_frame(0, b"evil"))
                bad[-1] ^= 1
                wire = good + bytes(bad)
            elif forge == "replay":
                wire = good + good
            else:
                wire = good + b"\x00\x25" + b"\x07MESSAGX" + bytes(29)
            s.sendall(wire)
            assert srv.poll(3000) and srv.recv() == b"genuine"
            assert _closed_by_peer(s)
            assert srv.poll(100) == 0
        finally:
            s.close()
    good = _good_client(ctx, spk, port)
    good.send(b"still serving")
    assert srv.poll(3000) and srv.recv() == b"still serving"

"""What a connecter puts on the wire against a raw ZMTP 3 peer that sends its whole
greeting and READY at once: the rest of our greeting, our READY (cached) and the first
message queued during the handshake, byte for byte and nothing held back; and with nothing
queued, the READY at once."""

from __future__ import annotations

import socket

import pytest

import fastzmq as zmq
from conftest import recv_exactly
from fastzmq._frame import encode_frame
from fastzmq.zmtp.commands import encode_ready
from fastzmq.zmtp.handshake import encode_greeting, encode_greeting_tail


@pytest.mark.timeout(10)
@pytest.mark.parametrize("kind, name", [(zmq.REQ, b"REQ"), (zmq.DEALER, b"DEALER")])
def test_greeting_ready_and_queued_message(kind, name):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(5)
    port = lst.getsockname()[1]
    ctx = zmq.Context()
    s = ctx.socket(kind)
    s.linger = 0
    try:
        s.connect(f"tcp://127.0.0.1:{port}")
        s.send(b"hello")  # queued before the handshake (the peer has not answered yet)
        conn, _ = lst.accept()
        conn.settimeout(5)
        with conn:
            assert recv_exactly(conn, 10) == b"\xff" + bytes(7) + b"\x01\x7f"
            peer_type = b"REP" if kind == zmq.REQ else b"ROUTER"
            conn.sendall(encode_greeting(b"NULL", False) + encode_ready({"Socket-Type": peer_type}))
            expected = (
                b"\x03"
                + encode_greeting_tail(b"NULL", False, 1)
                + encode_ready({"Socket-Type": name, "Identity": b""})
                + (encode_frame(b"", more=True) if kind == zmq.REQ else b"")
                + encode_frame(b"hello")
            )
            assert recv_exactly(conn, len(expected)) == expected
    finally:
        s.close()
        ctx.term()
        lst.close()


@pytest.mark.timeout(10)
def test_nothing_queued_sends_ready_at_once():
    """No message queued: the READY is sent at once (nothing waits for a later send)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(5)
    port = lst.getsockname()[1]
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    try:
        s.connect(f"tcp://127.0.0.1:{port}")
        conn, _ = lst.accept()
        conn.settimeout(5)
        with conn:
            recv_exactly(conn, 10)
            conn.sendall(encode_greeting(b"NULL", False) + encode_ready({"Socket-Type": b"ROUTER"}))
            ready = encode_ready({"Socket-Type": b"DEALER", "Identity": b""})
            want = b"\x03" + encode_greeting_tail(b"NULL", False, 1) + ready
            assert recv_exactly(conn, len(want)) == want
    finally:
        s.close()
        ctx.term()
        lst.close()

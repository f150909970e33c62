"""A connect's first bytes (``Connecter._dial``): a connection that is up as soon as
connect() returns (ipc, loopback tcp) gets our ZMTP signature from the dial itself, in the
thread that dialled, before the I/O thread has set the connection up. The connection then
goes on from there: the signature is never sent twice, and the connection keeps the
routing id its dial saw (the signature encodes its length): one set after connect()
applies from the next connection, as in libzmq, whose connection keeps the options of
its connect()."""

from __future__ import annotations

import socket

import pytest

import fastzmq as zmq
from conftest import io_stalled, recv_exactly
from fastzmq._frame import Decoder, encode_command
from fastzmq.zmtp.commands import READY, decode_metadata, encode_metadata
from fastzmq.zmtp.handshake import encode_greeting, encode_signature

TIMEOUT = 3.0
ROUTER_READY = encode_command(READY, encode_metadata({"Socket-Type": b"ROUTER"}))


@pytest.fixture
def listener():
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(4)
    lsn.settimeout(TIMEOUT)
    yield lsn
    lsn.close()


def accept(lsn: socket.socket) -> socket.socket:
    raw, _ = lsn.accept()
    raw.settimeout(TIMEOUT)
    return raw


def signature_now(raw: socket.socket) -> bytes:
    """The first 10 bytes, read while the I/O thread is still stalled (well inside the
    stall's bound): bytes the dial sent."""
    raw.settimeout(TIMEOUT / 3)
    try:
        return recv_exactly(raw, 10)
    finally:
        raw.settimeout(TIMEOUT)


def fz_socket(ctx, kind=zmq.DEALER, **options):
    """A fastzmq socket (a DEALER unless kind says), linger 0, bounded recv."""
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = int(TIMEOUT * 1000)
    for name, value in options.items():
        setattr(s, name, value)
    return s


def peer_handshake(raw: socket.socket) -> dict:
    """Play a ZMTP 3.1 NULL ROUTER on raw, after our signature was read: returns the
    fastzmq side's READY metadata."""
    raw.sendall(encode_greeting(b"NULL", False, (3, 1)) + ROUTER_READY)
    rest = recv_exactly(raw, 54)  # (its major version and the rest of its greeting)
    assert rest[:2] == b"\x03\x01" and rest[2:6] == b"NULL"
    dec = Decoder()
    while True:
        dec.feed(raw.recv(4096))
        frames = list(dec.frames())
        if frames:
            assert frames[0].command and bytes(frames[0].body[:6]) == b"\x05READY"
            return decode_metadata(bytes(frames[0].body[6:]))


@pytest.mark.parametrize("stager", [True, False], ids=["stager", "handshake"])
def test_signature_leaves_with_the_dial(ctx, listener, stager):
    s = fz_socket(ctx)
    s._io_thread().stager = stager
    with io_stalled(s):
        s.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
        raw = accept(listener)
        # the I/O thread is still stalled: these bytes came from connect() itself
        assert signature_now(raw) == encode_signature(b"")
    try:
        meta = peer_handshake(raw)
        assert meta["Socket-Type"] == b"DEALER"
        raw.sendall(b"\x00\x02hi")
        assert s.recv() == b"hi"
        s.send(b"back")
        assert recv_exactly(raw, 6) == b"\x00\x04back"
    finally:
        raw.close()
        s.close()


def test_a_routing_id_set_after_connect_applies_from_the_next_connection(ctx, listener):
    s = fz_socket(ctx, reconnect_ivl=10)
    with io_stalled(s):
        s.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
        first = accept(listener)
        assert signature_now(first) == encode_signature(b"")
        s.routing_id = b"abc"  # after connect(), before the I/O thread set the connection up
    second = None
    try:
        # the connection goes on with the routing id its dial saw: not dropped, not garbled
        meta = peer_handshake(first)
        assert meta["Identity"] == b""
        first.sendall(b"\x00\x02hi")
        assert s.recv() == b"hi"
        first.close()  # the next connection (a reconnect) says the new routing id
        second = accept(listener)
        assert recv_exactly(second, 10) == encode_signature(b"abc")
        assert peer_handshake(second)["Identity"] == b"abc"
    finally:
        first.close()
        s.close()
        if second is not None:
            second.close()


def test_ipc_connect_sends_its_signature_too(ctx, tmp_path):
    path = str(tmp_path / "sig.ipc")
    lsn = socket.socket(socket.AF_UNIX)
    lsn.bind(path)
    lsn.listen(1)
    lsn.settimeout(TIMEOUT)
    s = fz_socket(ctx)
    try:
        with io_stalled(s):
            s.connect(f"ipc://{path}")
            raw = accept(lsn)
            assert signature_now(raw) == encode_signature(b"")
    finally:
        lsn.close()
    try:
        peer_handshake(raw)
        raw.sendall(b"\x00\x02hi")
        assert s.recv() == b"hi"
    finally:
        raw.close()
        s.close()


def test_no_signature_to_a_stream_peer(ctx, listener):
    s = fz_socket(ctx, zmq.STREAM)
    with io_stalled(s):
        s.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
        raw = accept(listener)
    try:
        raw.settimeout(0.2)
        with pytest.raises(socket.timeout):
            raw.recv(1)  # STREAM has no ZMTP: nothing is sent for it
        raw.settimeout(TIMEOUT)
        raw.sendall(b"plain")
        rid, data = s.recv_multipart()
        if data == b"":  # (the connect notification first)
            rid, data = s.recv_multipart()
        assert data == b"plain"
    finally:
        raw.close()
        s.close()

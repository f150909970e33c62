"""Golden bytes from libzmq itself: pyzmq on one end of a plain TCP socket, our codec and
handshake on the other. pyzmq is used here only as the real libzmq peer."""

from __future__ import annotations

import socket
import time

import pytest

from fastzmq._frame import Decoder, encode_message
from fastzmq.zmtp import IncompatibleSocketType
from fastzmq.zmtp.commands import Subscribe, decode_command, decode_subscription_message
from fastzmq.zmtp.handshake import NEED_DATA, Handshake, HandshakeComplete, HandshakeFailed
from zmtp_peer import TIMEOUT, zsocket

zmq = pytest.importorskip("zmq")


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


@pytest.fixture
def listener():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.settimeout(TIMEOUT)
    yield s
    s.close()


GREETING = 64


def run_handshake(conn, hs, greeting_only=False):
    """Drive ``hs`` over ``conn``; returns (event, raw bytes received). greeting_only:
    send our greeting but hold back what follows it (our READY) until ``hs`` decides."""
    sent, held = 0, b""

    def send(data):
        nonlocal sent, held
        if greeting_only:
            held += data
            data, held = held[: max(0, GREETING - sent)], held[max(0, GREETING - sent) :]
        conn.sendall(data)
        sent += len(data)

    send(hs.data_to_send())
    raw, ev = b"", NEED_DATA
    deadline = time.monotonic() + TIMEOUT
    while ev is NEED_DATA and time.monotonic() < deadline:
        chunk = conn.recv(65536)
        if not chunk:
            break
        raw += chunk
        hs.receive_data(chunk)
        ev = hs.next_event()
        send(hs.data_to_send())
    return ev, raw


def read_frames(conn, dec, count):
    frames = dec.frames()
    while len(frames) < count:
        chunk = conn.recv(65536)
        assert chunk, "peer closed"
        dec.feed(chunk)
        frames += dec.frames()
    return frames


def accept_from(ctx, listener, kind, **opts):
    z = zsocket(ctx, kind, **opts)
    z.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
    conn, _ = listener.accept()
    conn.settimeout(TIMEOUT)
    return z, conn


def test_libzmq_dealer_greeting_ready_and_multipart(ctx, listener):
    z, conn = accept_from(ctx, listener, zmq.DEALER, IDENTITY=b"dealer-1")
    with conn:
        z.send_multipart([b"hello", b"", b"x" * 300])
        ev, raw = run_handshake(conn, Handshake("ROUTER", as_server=True))
        # libzmq's greeting: signature, version 3.1, NULL, as-server 0, zero filler
        assert raw[0] == 0xFF and raw[9] == 0x7F and raw[10:12] == b"\x03\x01"
        assert raw[12:32] == b"NULL".ljust(20, b"\0") and raw[32] == 0 and raw[33:64] == bytes(31)
        assert isinstance(ev, HandshakeComplete)
        assert (ev.peer_version, ev.peer_socket_type, ev.peer_identity) == (
            (3, 1),
            "DEALER",
            b"dealer-1",
        )
        assert ev.peer_metadata == {"Socket-Type": b"DEALER", "Identity": b"dealer-1"}
        dec = Decoder()
        dec.feed(ev.leftover)
        frames = read_frames(conn, dec, 3)
        assert [tuple(f) for f in frames] == [(1, b"hello"), (1, b""), (0, b"x" * 300)]
    z.close()


def test_libzmq_push_to_our_pull(ctx, listener):
    z, conn = accept_from(ctx, listener, zmq.PUSH)
    with conn:
        z.send_multipart([b"a", b"bc"])
        ev, _ = run_handshake(conn, Handshake("PULL", as_server=True))
        assert isinstance(ev, HandshakeComplete) and ev.peer_socket_type == "PUSH"
        assert ev.peer_metadata == {"Socket-Type": b"PUSH"}  # no Identity for PUSH
        dec = Decoder()
        dec.feed(ev.leftover)
        assert [f.body for f in read_frames(conn, dec, 2)] == [b"a", b"bc"]
    z.close()


@pytest.mark.parametrize("version", [(3, 1), (3, 0)])
def test_our_push_to_libzmq_pull(ctx, version):
    pull = zsocket(ctx, zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        ev, raw = run_handshake(conn, Handshake("PUSH", version=version))
        assert isinstance(ev, HandshakeComplete)
        assert ev.peer_socket_type == "PULL" and ev.version == version
        conn.sendall(encode_message([b"from", b"fastzmq", b"y" * 1000]))
        assert pull.recv_multipart() == [b"from", b"fastzmq", b"y" * 1000]
    pull.close()


@pytest.mark.parametrize("version", [(3, 1), (3, 0)])
def test_libzmq_sub_subscription_form_follows_version(ctx, listener, version):
    """libzmq 4.3 sends SUBSCRIBE as a command to a 3.1 peer, as \\x01topic to a 3.0 peer."""
    z, conn = accept_from(ctx, listener, zmq.SUB)
    with conn:
        z.subscribe(b"topic")
        ev, _ = run_handshake(conn, Handshake("PUB", as_server=True, version=version))
        assert isinstance(ev, HandshakeComplete) and ev.peer_socket_type == "SUB"
        dec = Decoder()
        dec.feed(ev.leftover)
        (frame,) = read_frames(conn, dec, 1)
        if version == (3, 1):
            assert frame.command and decode_command(frame.body) == Subscribe(b"topic")
        else:
            assert not frame.command and decode_subscription_message(frame.body) == Subscribe(
                b"topic"
            )
        # and our PUB's messages reach it
        conn.sendall(encode_message([b"topic-1", b"payload"]))
        assert z.recv_multipart() == [b"topic-1", b"payload"]
    z.close()


def test_incompatible_libzmq_peer_is_refused(ctx):
    pull = zsocket(ctx, zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        # libzmq writes its READY once the greetings are done, but reads a READY that
        # came in with our greeting first, and on a mismatch closes without writing its
        # own (then we would see only an EOF). Holding ours back makes its READY, and so
        # the reason, certain: the exchange libzmq has with a slower peer.
        ev, _ = run_handshake(conn, Handshake("PUB"), greeting_only=True)
        assert isinstance(ev, HandshakeFailed)
        assert isinstance(ev.error, IncompatibleSocketType)
        assert "PULL" in str(ev.error)
    pull.close()

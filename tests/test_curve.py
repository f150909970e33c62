"""CURVE (RFC 25/26): both sides paired in memory, the traffic boxes, tampering, and our
client and server against libzmq through pyzmq over a plain TCP socket."""

from __future__ import annotations

import socket

import pytest

from fastzmq._frame import Decoder
from fastzmq.zmtp import BadFrame, PeerError
from fastzmq.zmtp.handshake import NEED_DATA, Handshake, HandshakeComplete, HandshakeFailed
from fastzmq.zmtp.zap import AuthenticationFailed, CurveKeyAuthenticator
from zmtp_peer import TIMEOUT, run_handshake, zsocket

nacl = pytest.importorskip("nacl.bindings")
from fastzmq.auth import curve_keypair  # noqa: E402
from fastzmq.zmtp.mechanisms.curve import (  # noqa: E402
    FLAG_COMMAND,
    FLAG_MORE,
    CurveClient,
    CurveServer,
    parse_key,
)

SERVER_PUBLIC, SERVER_SECRET = curve_keypair()
CLIENT_PUBLIC, CLIENT_SECRET = curve_keypair()


def client_mech(server_key=SERVER_PUBLIC):
    return CurveClient(server_key, CLIENT_PUBLIC, CLIENT_SECRET)


def pair(cmech=None, smech=None):
    client = Handshake("DEALER", mechanism=cmech or client_mech(), identity=b"c1")
    server = Handshake("ROUTER", mechanism=smech or CurveServer(SERVER_SECRET), as_server=True)
    return client, server


def pump(a, b, step=None, rounds=20):
    """Move bytes both ways, ``step`` bytes at a time, until both have an event."""
    ea = eb = NEED_DATA
    for _ in range(rounds):
        for src, dst in ((a, b), (b, a)):
            data = src.data_to_send()
            n = step or max(len(data), 1)
            for i in range(0, len(data), n):
                dst.receive_data(data[i : i + n])
                if dst.next_event() is not NEED_DATA:
                    break
        ea, eb = a.next_event(), b.next_event()
        if ea is not NEED_DATA and eb is not NEED_DATA:
            break
    return ea, eb


def completed_pair():
    client, server = pair()
    ec, es = pump(client, server)
    assert isinstance(ec, HandshakeComplete) and isinstance(es, HandshakeComplete)
    return client.mechanism, server.mechanism


@pytest.mark.parametrize("step", [None, 1, 13])
def test_pair_completes_and_server_knows_client_key(step):
    smech = CurveServer(SERVER_SECRET)
    client, server = pair(smech=smech)
    ec, es = pump(client, server, step)
    assert isinstance(ec, HandshakeComplete) and isinstance(es, HandshakeComplete)
    assert es.peer_socket_type == "DEALER" and es.peer_identity == b"c1"
    assert ec.peer_socket_type == "ROUTER"
    assert smech.client_key == parse_key(CLIENT_PUBLIC)
    assert smech.public_key == parse_key(SERVER_PUBLIC)


def step(src, dst):
    """Deliver everything ``src`` has queued to ``dst``; returns what was delivered."""
    data = src.data_to_send()
    dst.receive_data(data)
    assert dst.next_event() is NEED_DATA
    return data


def up_to_initiate(client, server):
    """Greetings, HELLO, WELCOME: returns (hello, welcome, initiate) wire bytes."""
    for _ in range(2):  # signature, major version, the rest: the greeting goes in stages
        step(client, server)
        step(server, client)
    hello = step(client, server)
    welcome = step(server, client)
    return hello, welcome, client.data_to_send()


def command_bodies(data):
    dec = Decoder()
    dec.feed(data)
    frames = dec.frames()
    assert all(f.command for f in frames)
    return [f.body for f in frames]


def test_command_sizes_match_rfc26():
    hello, welcome, initiate = up_to_initiate(*pair())
    (hello,) = command_bodies(hello)
    assert len(hello) == 200 and hello[:8] == b"\x05HELLO\x01\x00" and hello[8:80] == bytes(72)
    (welcome,) = command_bodies(welcome)
    assert len(welcome) == 168 and welcome.startswith(b"\x07WELCOME")
    (initiate,) = command_bodies(initiate)
    assert initiate.startswith(b"\x08INITIATE") and len(initiate) >= 257


def test_messages_both_ways_with_flags():
    c, s = completed_pair()
    frames = [c.encode_message_frame(FLAG_MORE, b"part1"), c.encode_message_frame(0, b"")]
    dec = Decoder()
    dec.feed(b"".join(frames))
    got = [s.decode_message_frame(f.body) for f in dec.frames()]
    assert got == [(FLAG_MORE, b"part1"), (0, b"")]
    reply = s.encode_message_frame(FLAG_COMMAND, b"\x04PING\x00\x00")
    dec.feed(reply)
    (frame,) = dec.frames()
    assert not frame.command and not frame.more  # libzmq's form: an ordinary frame
    assert c.decode_message_frame(frame.body) == (FLAG_COMMAND, b"\x04PING\x00\x00")


def test_replayed_reordered_and_garbled_messages_are_rejected():
    c, s = completed_pair()
    first = c.encode_message(0, b"one")
    second = c.encode_message(0, b"two")
    assert s.decode_message(second) == (0, b"two")
    with pytest.raises(BadFrame, match="replayed or out of order"):
        s.decode_message(first)  # older nonce
    with pytest.raises(BadFrame, match="replayed"):
        s.decode_message(second)  # same nonce again
    third = bytearray(c.encode_message(0, b"three"))
    third[-1] ^= 0x01
    with pytest.raises(BadFrame, match="does not open"):
        s.decode_message(bytes(third))
    # a box the server made cannot be passed back to it (the other direction's nonce label)
    _, s2 = completed_pair()  # its peer nonce is 2 (INITIATE); its own run 2, 3, ...
    s2.encode_message(0, b"burn nonce 2")
    with pytest.raises(BadFrame, match="does not open"):
        s2.decode_message(s2.encode_message(0, b"mirror"))
    with pytest.raises(BadFrame, match="too short"):
        s.decode_message(b"\x00" * 10)
    with pytest.raises(BadFrame, match="not a MESSAGE"):
        s.decode_message_frame(b"\x05READY" + c.encode_message(0, b"x"))


def test_traffic_before_completion_is_an_error():
    with pytest.raises(RuntimeError):
        client_mech().encode_message(0, b"early")


def test_wrong_server_key_fails_both_sides():
    other_public, _ = curve_keypair()
    ec, es = pump(*pair(cmech=client_mech(other_public)))
    assert isinstance(es, HandshakeFailed) and isinstance(es.error, BadFrame)
    assert isinstance(ec, HandshakeFailed) and isinstance(ec.error, PeerError)


def test_authenticator_allows_and_denies_client_keys():
    allowed = CurveServer(SERVER_SECRET, authenticator=CurveKeyAuthenticator([CLIENT_PUBLIC]))
    ec, es = pump(*pair(smech=allowed))
    assert isinstance(es, HandshakeComplete) and allowed.user_id == CLIENT_PUBLIC
    denied = CurveServer(SERVER_SECRET, authenticator=CurveKeyAuthenticator([SERVER_PUBLIC]))
    ec, es = pump(*pair(smech=denied))
    assert isinstance(es, HandshakeFailed) and isinstance(es.error, AuthenticationFailed)
    assert isinstance(ec, HandshakeFailed) and ec.error.reason == "400"


def test_initiate_replayed_into_another_connection_is_rejected():
    """A recorded INITIATE carries a cookie only its own server connection can open."""
    _, _, initiate1 = up_to_initiate(*pair())
    client2, server2 = pair()
    up_to_initiate(client2, server2)
    server2.receive_data(initiate1)
    ev = server2.next_event()
    assert isinstance(ev, HandshakeFailed) and "cookie" in str(ev.error)


def test_hello_tampering_is_rejected():
    hello = bytearray(client_mech().start({}, False)[0][1])
    hello[-1] ^= 0xFF
    server = CurveServer(SERVER_SECRET)
    server.start({}, True)
    with pytest.raises(BadFrame, match="HELLO box"):
        server.receive_command(b"HELLO", bytes(hello))
    fresh = CurveServer(SERVER_SECRET)
    fresh.start({}, True)
    with pytest.raises(BadFrame, match="HELLO must be"):
        fresh.receive_command(b"HELLO", b"short")


def test_keys_accept_raw_or_z85():
    raw = parse_key(SERVER_PUBLIC)
    assert len(raw) == 32 and parse_key(raw) == raw == parse_key(SERVER_PUBLIC.decode())
    with pytest.raises(ValueError):
        parse_key(b"x" * 31)


# --------------------------------------------------------------------------- vs libzmq

zmq = pytest.importorskip("zmq")


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def read_messages(conn, mech, dec, count):
    """Decrypt ``count`` traffic frames from ``conn`` (after the handshake)."""
    out = []
    while len(out) < count:
        frame = dec.next_frame()
        if frame is None:
            chunk = conn.recv(65536)
            assert chunk, "peer closed"
            dec.feed(chunk)
            continue
        out.append(mech.decode_message_frame(frame.body))
    return out


def exchange(conn, ev, mech, z):
    conn.sendall(
        mech.encode_message_frame(FLAG_MORE, b"from")
        + mech.encode_message_frame(0, b"fastzmq" * 100)
    )
    assert z.recv_multipart() == [b"from", b"fastzmq" * 100]
    z.send_multipart([b"from", b"libzmq"])
    dec = Decoder()
    dec.feed(ev.leftover)
    assert read_messages(conn, mech, dec, 2) == [(FLAG_MORE, b"from"), (0, b"libzmq")]


def test_our_client_to_libzmq_server(ctx):
    public, secret = zmq.curve_keypair()
    z = zsocket(ctx, zmq.DEALER, curve_server=True, curve_secretkey=secret)
    port = z.bind_to_random_port("tcp://127.0.0.1")
    mech = CurveClient(public, CLIENT_PUBLIC, CLIENT_SECRET)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        ev = run_handshake(conn, Handshake("DEALER", mechanism=mech))
        assert isinstance(ev, HandshakeComplete) and ev.peer_socket_type == "DEALER"
        exchange(conn, ev, mech, z)
    z.close()


def test_our_client_with_wrong_server_key_is_refused_by_libzmq(ctx):
    _, secret = zmq.curve_keypair()
    z = zsocket(ctx, zmq.DEALER, curve_server=True, curve_secretkey=secret)
    port = z.bind_to_random_port("tcp://127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        ev = run_handshake(conn, Handshake("DEALER", mechanism=client_mech()))
        assert not isinstance(ev, HandshakeComplete)
    z.close()


def test_libzmq_client_to_our_server(ctx):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    public, secret = zmq.curve_keypair()
    z = zsocket(
        ctx,
        zmq.DEALER,
        curve_serverkey=SERVER_PUBLIC,
        curve_publickey=public,
        curve_secretkey=secret,
    )
    try:
        z.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
        conn, _ = listener.accept()
        conn.settimeout(TIMEOUT)
        auth = CurveKeyAuthenticator([public])
        mech = CurveServer(SERVER_SECRET, authenticator=auth)
        with conn:
            ev = run_handshake(conn, Handshake("DEALER", mechanism=mech, as_server=True))
            assert isinstance(ev, HandshakeComplete) and mech.user_id == public
            exchange(conn, ev, mech, z)
    finally:
        listener.close()
        z.close()

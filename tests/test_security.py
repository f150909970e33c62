"""Security on real fastzmq sockets: options (validated, libzmq's last-option-decides rule),
PLAIN/CURVE handshakes that fail closed, ZAP through a handler bound in the context, the
CURVE data phase, monitor events. Interop with libzmq is in test_curve_interop.py."""

from __future__ import annotations

import pytest

import fastzmq as zmq
from fastzmq.utils import z85
from security_helpers import EventRecorder, ZapHandler, keypair

pytest.importorskip("nacl")

TCP = "tcp://127.0.0.1"


# --------------------------------------------------------------------------- options


def test_mechanism_follows_last_option(ctx):
    s = ctx.socket(zmq.DEALER)
    assert s.mechanism == zmq.NULL
    pk, sk = keypair()
    s.curve_secretkey = sk
    assert (s.mechanism, s.curve_server) == (zmq.CURVE, 0)
    s.curve_server = True
    assert (s.mechanism, s.curve_server, s.plain_server) == (zmq.CURVE, 1, 0)
    s.plain_username = b"u"
    assert (s.mechanism, s.curve_server, s.plain_server) == (zmq.PLAIN, 0, 0)
    s.plain_server = 1
    assert (s.mechanism, s.plain_server) == (zmq.PLAIN, 1)
    s.curve_serverkey = pk  # a CURVE client now
    assert (s.mechanism, s.plain_server, s.curve_server) == (zmq.CURVE, 0, 0)
    s.plain_server = 0
    assert s.mechanism == zmq.NULL


def test_curve_keys_raw_z85_and_nul_terminated(ctx):
    s = ctx.socket(zmq.DEALER)
    pk, sk = keypair()
    raw = z85.decode(pk)
    for value in (pk, raw, pk + b"\x00"):
        s.curve_publickey = value
        assert s.curve_publickey == pk
    s.setsockopt(zmq.CURVE_SERVERKEY, raw)
    assert s.getsockopt(zmq.CURVE_SERVERKEY) == pk


@pytest.mark.parametrize(
    "option,value",
    [
        (zmq.CURVE_PUBLICKEY, b"x" * 39),
        (zmq.CURVE_SECRETKEY, b"x" * 31),
        (zmq.CURVE_SERVERKEY, b"#" * 40),  # not Z85
        (zmq.CURVE_SERVERKEY, b""),
        (zmq.PLAIN_USERNAME, b""),
        (zmq.PLAIN_PASSWORD, b"p" * 256),
        (zmq.ZAP_DOMAIN, b""),
        (zmq.ZAP_DOMAIN, b"d" * 256),
        (zmq.CURVE_SERVER, 2),
        (zmq.PLAIN_SERVER, -1),
        (zmq.MECHANISM, 1),
    ],
)
def test_malformed_values_raise_einval(ctx, option, value):
    s = ctx.socket(zmq.DEALER)
    with pytest.raises(zmq.ZMQError) as info:
        s.setsockopt(option, value)
    assert info.value.errno == zmq.EINVAL
    assert s.mechanism == zmq.NULL  # nothing half-applied


def test_plain_and_zap_strings_read_back(ctx):
    s = ctx.socket(zmq.DEALER)
    s.plain_username = b"admin"
    s.plain_password = b"x" * 255
    s.zap_domain = b"global"
    s.zap_enforce_domain = 1
    assert (s.plain_username, s.plain_password) == (b"admin", b"x" * 255)
    assert (s.zap_domain, s.zap_enforce_domain) == (b"global", 1)


# --------------------------------------------------------------------------- helpers


def curve_server(ctx, stype, zap=None):
    spk, ssk = keypair()
    srv = ctx.socket(stype)
    srv.linger = 0
    srv.curve_secretkey = ssk
    srv.curve_publickey = spk
    srv.curve_server = True
    port = srv.bind_to_random_port(TCP)
    return srv, spk, f"{TCP}:{port}"


def curve_client(ctx, stype, server_key, addr):
    cpk, csk = keypair()
    c = ctx.socket(stype)
    c.linger = 0
    c.curve_serverkey = server_key
    c.curve_publickey = cpk
    c.curve_secretkey = csk
    c.connect(addr)
    return c, cpk


def plain_server(ctx, stype):
    srv = ctx.socket(stype)
    srv.linger = 0
    srv.plain_server = True
    port = srv.bind_to_random_port(TCP)
    return srv, f"{TCP}:{port}"


def plain_client(ctx, stype, addr, user=b"admin", password=b"secret"):
    c = ctx.socket(stype)
    c.linger = 0
    c.plain_username = user
    c.plain_password = password
    c.connect(addr)
    return c


def passwords(table):
    def decide(frames):
        # "" is stripped by REP: version, id, domain, address, identity, mechanism, user, pw
        user, pw = frames[6], frames[7]
        return (b"200", user) if table.get(user) == pw else (b"400", b"")

    return decide


# --------------------------------------------------------------------------- fail closed


def test_curve_server_refuses_null_client(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    srv, _, addr = curve_server(ctx, zmq.PULL)
    null = ctx.socket(zmq.PUSH)
    null.linger = 0
    null.connect(addr)
    null.send(b"plaintext")
    assert srv.poll(300) == 0
    codes = rec.wait_for(srv, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
    assert zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH in codes


def test_plain_client_never_sends_password_to_null_server(ctx):
    import socket as pysocket

    lsn = pysocket.create_server(("127.0.0.1", 0))
    lsn.settimeout(3)
    port = lsn.getsockname()[1]
    c = plain_client(ctx, zmq.DEALER, f"{TCP}:{port}", password=b"TOPSECRET")
    conn, _ = lsn.accept()
    conn.settimeout(1)
    from fastzmq.zmtp.handshake import encode_greeting

    conn.sendall(
        encode_greeting(b"NULL", False) + b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER"
    )
    seen = b""
    try:
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            seen += chunk
    except OSError:
        pass
    conn.close()
    lsn.close()
    c.close()
    assert seen[12:17] == b"PLAIN"  # it greeted with PLAIN...
    assert b"TOPSECRET" not in seen  # ...and closed at the mismatch, before HELLO


def test_plain_without_zap_handler_is_refused(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    srv, addr = plain_server(ctx, zmq.PULL)
    c = plain_client(ctx, zmq.PUSH, addr)
    c.send(b"hi")
    assert srv.poll(300) == 0
    assert rec.wait_for(srv, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)


def test_plain_with_our_zap_handler(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    zap = ZapHandler(ctx, passwords({b"admin": b"secret"}))
    try:
        srv, addr = plain_server(ctx, zmq.REP)
        srv.zap_domain = b"global"
        good = plain_client(ctx, zmq.REQ, addr)
        bad = plain_client(ctx, zmq.REQ, addr, password=b"wrong")
        bad.send(b"from bad")
        good.send(b"from good")
        assert srv.poll(3000)
        assert srv.recv() == b"from good"
        srv.send(b"ok")
        assert good.poll(3000) and good.recv() == b"ok"
        assert srv.poll(200) == 0  # the bad client's message never arrives
        assert 400 in rec.wait_for(srv, zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        assert 400 in rec.wait_for(bad, zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        req = [f for f in zap.requests if f[7] == b"secret"][0]
        assert req[:3] == [b"1.0", req[1], b"global"] and req[3] == b"127.0.0.1"
        assert req[5:] == [b"PLAIN", b"admin", b"secret"]
    finally:
        zap.close()


def test_curve_without_zap_accepts_any_key_and_encrypts(ctx):
    srv, spk, addr = curve_server(ctx, zmq.PULL)
    c, _ = curve_client(ctx, zmq.PUSH, spk, addr)
    big = bytes(range(256)) * 4096  # 1 MiB
    c.send_multipart([b"head", b"", big])
    for i in range(100):
        c.send(b"m%d" % i)
    assert srv.poll(5000)
    assert srv.recv_multipart() == [b"head", b"", big]
    assert [srv.recv() for _ in range(100)] == [b"m%d" % i for i in range(100)]


def test_curve_wrong_server_key_fails(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    srv, _, addr = curve_server(ctx, zmq.PULL)
    other, _ = keypair()
    c, _ = curve_client(ctx, zmq.PUSH, other, addr)
    c.send(b"x")
    assert srv.poll(300) == 0
    assert zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC in rec.wait_for(
        srv, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    )


def test_curve_zap_denies_unknown_key_and_serves_known(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    allowed = set()
    zap = ZapHandler(ctx, lambda f: (b"200", b"known") if f[6] in allowed else (b"400", b""))
    try:
        srv, spk, addr = curve_server(ctx, zmq.ROUTER)
        bad, _ = curve_client(ctx, zmq.DEALER, spk, addr)
        cpk, csk = keypair()
        allowed.add(z85.decode(cpk))
        good = ctx.socket(zmq.DEALER)
        good.linger = 0
        good.curve_serverkey, good.curve_publickey, good.curve_secretkey = spk, cpk, csk
        good.connect(addr)
        bad.send(b"bad")
        good.send_multipart([b"a", b"b"])
        assert srv.poll(3000)
        rid, *body = srv.recv_multipart()
        assert body == [b"a", b"b"]
        srv.send_multipart([rid, b"reply"])
        assert good.poll(3000) and good.recv() == b"reply"
        assert srv.poll(200) == 0
        assert 400 in rec.wait_for(srv, zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        assert all(f[5] == b"CURVE" and len(f[6]) == 32 for f in zap.requests)
    finally:
        zap.close()


def test_zap_300_closes_without_error(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    zap = ZapHandler(ctx, lambda f: (b"300", b""))
    try:
        srv, addr = plain_server(ctx, zmq.PULL)
        c = plain_client(ctx, zmq.PUSH, addr)
        c.send(b"x")
        assert srv.poll(300) == 0
        assert 300 in rec.wait_for(srv, zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        assert not [v for e, v in rec.of(c) if e == zmq.EVENT_HANDSHAKE_FAILED_AUTH]
    finally:
        zap.close()


def test_null_with_zap_domain_asks_handler(ctx):
    zap = ZapHandler(ctx, lambda f: (b"400", b"") if f[3] == b"127.0.0.1" else (b"200", b""))
    try:
        srv = ctx.socket(zmq.PULL)
        srv.linger = 0
        srv.zap_domain = b"dom"
        port = srv.bind_to_random_port(TCP)
        c = ctx.socket(zmq.PUSH)
        c.linger = 0
        c.connect(f"{TCP}:{port}")
        c.send(b"x")
        assert srv.poll(300) == 0  # denied by address
        assert zap.requests and zap.requests[0][2] == b"dom" and zap.requests[0][5] == b"NULL"
    finally:
        zap.close()


def test_curve_reqrep_and_pubsub(ctx):
    srv, spk, addr = curve_server(ctx, zmq.REP)
    c, _ = curve_client(ctx, zmq.REQ, spk, addr)
    for i in range(20):
        c.send(b"q%d" % i)
        assert srv.poll(3000)
        srv.send(srv.recv() + b"!")
        assert c.poll(3000) and c.recv() == b"q%d!" % i
    pub, ppk, paddr = curve_server(ctx, zmq.PUB)
    sub, _ = curve_client(ctx, zmq.SUB, ppk, paddr)
    sub.subscribe(b"t")
    assert sub.wait_subscribed(3000)  # PING/PONG travel as sealed commands
    pub.send_multipart([b"t1", b"data"])
    pub.send(b"x-not-matching")
    assert sub.poll(3000) and sub.recv_multipart() == [b"t1", b"data"]


def test_curve_maxmsgsize_applies_to_plaintext(ctx):
    srv, spk, addr = curve_server(ctx, zmq.PULL)
    srv.maxmsgsize = 100
    c, _ = curve_client(ctx, zmq.PUSH, spk, addr)
    c.send(b"x" * 100)  # 100 plaintext bytes pass, though the sealed frame is larger
    assert srv.poll(3000) and srv.recv() == b"x" * 100
    c.send(b"y" * 101)
    assert srv.poll(300) == 0


def test_user_id_and_metadata_reach_frame_properties(ctx):
    from fastzmq.zmtp.commands import encode_metadata

    zap = ZapHandler(ctx, lambda f: (b"200", b"alice", encode_metadata({"Hello": b"World"})))
    try:
        srv, addr = plain_server(ctx, zmq.ROUTER)
        c = ctx.socket(zmq.DEALER)
        c.linger = 0
        c.routing_id = b"me"
        c.plain_username, c.plain_password = b"admin", b"secret"
        c.connect(addr)
        c.send_multipart([b"a", b"b"])
        assert srv.poll(3000)
        frames = srv.recv_multipart(copy=False)
        assert [f.bytes for f in frames] == [b"me", b"a", b"b"]
        for f in frames:
            assert f.get("User-Id") == "alice"
            assert f.get("Hello") == "World"
            assert f.get("Socket-Type") == "DEALER"
            assert f.get("Peer-Address") == "127.0.0.1"
        srv.send_multipart([b"me", b"back"])
        assert c.poll(3000)
        back = c.recv(copy=False)
        assert back.get("Socket-Type") == "ROUTER"
        with pytest.raises(zmq.ZMQError):
            back.get("User-Id")  # the client side has no ZAP verdict
    finally:
        zap.close()


def test_malformed_zap_reply_fails_with_zap_protocol_code(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    zap = ZapHandler(ctx, lambda f: (b"999", b""))
    try:
        srv, addr = plain_server(ctx, zmq.PULL)
        c = plain_client(ctx, zmq.PUSH, addr)
        c.send(b"x")
        assert srv.poll(300) == 0
        codes = rec.wait_for(srv, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
        assert zmq.PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE in codes
    finally:
        zap.close()


def test_successful_handshake_is_reported(ctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    srv, spk, addr = curve_server(ctx, zmq.PULL)
    c, _ = curve_client(ctx, zmq.PUSH, spk, addr)
    c.send(b"x")
    assert srv.poll(3000) and srv.recv() == b"x"
    assert rec.wait_for(srv, zmq.EVENT_HANDSHAKE_SUCCEEDED) == [0]
    assert rec.wait_for(c, zmq.EVENT_HANDSHAKE_SUCCEEDED) == [0]


def test_curve_over_ipc_with_only_secret_keys_set(ctx, tmp_path):
    """As libzmq: a server needs only its secret key; our client's public key, when not
    set, is derived from its secret."""
    spk, ssk = keypair()
    srv = ctx.socket(zmq.PULL)
    srv.linger = 0
    srv.curve_secretkey, srv.curve_server = ssk, 1
    addr = f"ipc://{tmp_path}/curve.ipc"
    srv.bind(addr)
    c = ctx.socket(zmq.PUSH)
    c.linger = 0
    c.curve_serverkey, c.curve_secretkey = spk, keypair()[1]
    c.connect(addr)
    c.send_multipart([b"a", b"b" * 100_000])
    assert srv.poll(3000) and srv.recv_multipart() == [b"a", b"b" * 100_000]

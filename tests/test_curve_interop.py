"""PLAIN and CURVE against libzmq (pyzmq): fastzmq as client and as server, binding and
connecting, REQ/REP, DEALER/ROUTER, PUB/SUB, PUSH/PULL; libzmq's ZAP handler
(ThreadAuthenticator) and ours; refusals (wrong password, wrong server key, unknown key,
IP denied); 1 MiB and multipart under CURVE."""

from __future__ import annotations

import pytest

import fastzmq as fz
from security_helpers import EventRecorder, ZapHandler

zmq = pytest.importorskip("zmq")
pytest.importorskip("nacl")
from zmq.auth.thread import ThreadAuthenticator  # noqa: E402

PAIRS = [
    ("REQ", "REP"),
    ("DEALER", "ROUTER"),
    ("PUSH", "PULL"),
    ("SUB", "PUB"),
]  # (client type, server type)


@pytest.fixture
def pctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _port(sock, lib) -> str:
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return f"tcp://127.0.0.1:{port}"


def _exchange(client, server, ctype):
    """One message each way where the pattern allows, checked; multipart included."""
    if ctype == "SUB":
        client.setsockopt(zmq.SUBSCRIBE, b"")
        for _ in range(100):  # the slow joiner: publish until the SUB hears
            server.send_multipart([b"topic", b"x" * 3])
            if client.poll(50):
                assert client.recv_multipart() == [b"topic", b"xxx"]
                return
        raise AssertionError("SUB never received")
    client.send_multipart([b"hello", b"world"])
    assert server.poll(5000), "server received nothing"
    got = server.recv_multipart()
    if ctype == "PUSH":
        assert got == [b"hello", b"world"]
        return
    if ctype == "DEALER":
        rid, *body = got
        assert body == [b"hello", b"world"]
        server.send_multipart([rid, b"back"])
    else:
        assert got == [b"hello", b"world"]
        server.send(b"back")
    assert client.poll(5000), "client received no reply"
    assert client.recv_multipart() == [b"back"]


def _make(lib, ctx, name):
    s = ctx.socket(getattr(lib, name))
    s.linger = 0
    s.sndtimeo = 3000  # a libzmq socket whose peer refuses it may have no pipe to send to
    return s


def _send_refused(sock, data):
    """Send from a client the server will refuse: libzmq may block (no pipe) -> Again."""
    try:
        sock.send(data)
    except (zmq.Again, fz.Again):
        pass


def _setup_curve(server, client, server_keys, client_keys):
    server.curve_secretkey = server_keys[1]
    server.curve_publickey = server_keys[0]
    server.curve_server = True
    client.curve_serverkey = server_keys[0]
    client.curve_publickey = client_keys[0]
    client.curve_secretkey = client_keys[1]


@pytest.mark.parametrize("ctype,stype", PAIRS)
@pytest.mark.parametrize("fast_side", ["client", "server"])
@pytest.mark.parametrize("server_binds", [True, False])
@pytest.mark.parametrize("mech", ["CURVE", "PLAIN"])
def test_matrix(ctx, pctx, ctype, stype, fast_side, server_binds, mech):
    slib, sctx = (fz, ctx) if fast_side == "server" else (zmq, pctx)
    clib, cctx = (fz, ctx) if fast_side == "client" else (zmq, pctx)
    server, client = _make(slib, sctx, stype), _make(clib, cctx, ctype)
    auth = zap = None
    if mech == "CURVE":
        _setup_curve(server, client, zmq.curve_keypair(), zmq.curve_keypair())
    else:
        server.plain_server = True
        client.plain_username, client.plain_password = b"admin", b"secret"
    if slib is zmq and mech == "PLAIN":
        auth = ThreadAuthenticator(pctx)
        auth.start()
        auth.configure_plain(domain="*", passwords={"admin": "secret"})
    elif mech == "PLAIN":
        zap = ZapHandler(
            ctx, lambda f: (b"200", b"admin") if f[6:] == [b"admin", b"secret"] else (b"400", b"")
        )
    try:
        if server_binds:
            client.connect(_port(server, slib))
        else:
            server.connect(_port(client, clib))
        _exchange(client, server, ctype)
    finally:
        if auth is not None:
            auth.stop()
        if zap is not None:
            zap.close()


@pytest.mark.parametrize("fast_side", ["client", "server"])
def test_curve_large_and_multipart(ctx, pctx, fast_side):
    slib, sctx = (fz, ctx) if fast_side == "server" else (zmq, pctx)
    clib, cctx = (fz, ctx) if fast_side == "client" else (zmq, pctx)
    server, client = _make(slib, sctx, "PULL"), _make(clib, cctx, "PUSH")
    _setup_curve(server, client, zmq.curve_keypair(), zmq.curve_keypair())
    client.connect(_port(server, slib))
    big = bytes(range(256)) * 4096
    parts = [b"", b"a" * 300, big, b"z"]
    for _ in range(3):
        client.send_multipart(parts)
    for i in range(200):
        client.send(b"%d" % i)
    for _ in range(3):
        assert server.poll(5000)
        assert server.recv_multipart() == parts
    assert [server.recv() for _ in range(200)] == [b"%d" % i for i in range(200)]


# --------------------------------------------------------------------------- refusals


def test_fast_client_wrong_password_refused_by_libzmq(ctx, pctx, monkeypatch):
    rec = EventRecorder(monkeypatch)
    auth = ThreadAuthenticator(pctx)
    auth.start()
    auth.configure_plain(domain="*", passwords={"admin": "secret"})
    try:
        srv = _make(zmq, pctx, "PULL")
        srv.plain_server = True
        c = _make(fz, ctx, "PUSH")
        c.plain_username, c.plain_password = b"admin", b"wrong"
        c.connect(_port(srv, zmq))
        _send_refused(c, b"x")
        assert srv.poll(500) == 0
        assert 400 in rec.wait_for(c, fz.EVENT_HANDSHAKE_FAILED_AUTH)
    finally:
        auth.stop()


def test_fast_client_wrong_server_key(ctx, pctx):
    srv = _make(zmq, pctx, "PULL")
    c = _make(fz, ctx, "PUSH")
    _setup_curve(srv, c, zmq.curve_keypair(), zmq.curve_keypair())
    c.curve_serverkey = zmq.curve_keypair()[0]
    c.connect(_port(srv, zmq))
    _send_refused(c, b"x")
    assert srv.poll(500) == 0


def test_libzmq_client_unknown_key_denied_by_libzmq_zap(ctx, pctx):
    """fastzmq client, libzmq server whose authenticator knows only another key."""
    auth = ThreadAuthenticator(pctx)
    auth.start()
    known_pk, _ = zmq.curve_keypair()
    auth.configure_curve_callback(
        domain="*",
        credentials_provider=type("P", (), {"callback": lambda s, d, k: k == known_pk})(),
    )
    try:
        srv = _make(zmq, pctx, "PULL")
        c = _make(fz, ctx, "PUSH")
        _setup_curve(srv, c, zmq.curve_keypair(), zmq.curve_keypair())
        c.connect(_port(srv, zmq))
        _send_refused(c, b"x")
        assert srv.poll(500) == 0
    finally:
        auth.stop()


def test_ip_denied_by_libzmq_zap(ctx, pctx):
    auth = ThreadAuthenticator(pctx)
    auth.start()
    auth.deny("127.0.0.1")
    auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
    try:
        srv = _make(zmq, pctx, "PULL")
        c = _make(fz, ctx, "PUSH")
        _setup_curve(srv, c, zmq.curve_keypair(), zmq.curve_keypair())
        c.connect(_port(srv, zmq))
        _send_refused(c, b"x")
        assert srv.poll(500) == 0
    finally:
        auth.stop()


def test_libzmq_clients_against_our_zap(ctx, pctx, monkeypatch):
    """fastzmq CURVE server + our ZAP handler: libzmq client with a known key served,
    one with an unknown key refused (both see it), the server keeps serving."""
    rec = EventRecorder(monkeypatch)
    good_keys, bad_keys = zmq.curve_keypair(), zmq.curve_keypair()
    allowed = fz.utils.z85.decode(good_keys[0])
    zap = ZapHandler(ctx, lambda f: (b"200", b"good") if f[6] == allowed else (b"400", b""))
    try:
        srv = _make(fz, ctx, "ROUTER")
        server_keys = zmq.curve_keypair()
        bad = _make(zmq, pctx, "DEALER")
        _setup_curve(srv, bad, server_keys, bad_keys)
        good = _make(zmq, pctx, "DEALER")
        good.curve_serverkey = server_keys[0]
        good.curve_publickey, good.curve_secretkey = good_keys
        addr = _port(srv, fz)
        bad.connect(addr)
        good.connect(addr)
        _send_refused(bad, b"bad")
        good.send(b"good")
        assert srv.poll(3000)
        rid, body = srv.recv_multipart()
        assert body == b"good"
        assert srv.poll(300) == 0
        assert 400 in rec.wait_for(srv, fz.EVENT_HANDSHAKE_FAILED_AUTH)
    finally:
        zap.close()


def test_libzmq_null_client_refused_by_fast_curve_server(ctx, pctx):
    srv = _make(fz, ctx, "PULL")
    srv.curve_secretkey = zmq.curve_keypair()[1]
    srv.curve_server = True
    c = _make(zmq, pctx, "PUSH")
    c.connect(_port(srv, fz))
    _send_refused(c, b"plaintext")
    assert srv.poll(500) == 0


def test_libzmq_client_to_fast_server_with_only_its_secret_key(ctx, pctx):
    srv = _make(fz, ctx, "PULL")
    server_public, server_secret = zmq.curve_keypair()
    srv.curve_secretkey, srv.curve_server = server_secret, 1
    c = _make(zmq, pctx, "PUSH")
    c.curve_serverkey = server_public
    c.curve_publickey, c.curve_secretkey = zmq.curve_keypair()
    c.connect(_port(srv, fz))
    c.send(b"sealed")
    assert srv.poll(3000) and srv.recv() == b"sealed"

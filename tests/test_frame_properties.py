"""Frame.get() message properties on received frames, compared with pyzmq/libzmq.

The same scenario runs once with fastzmq and once with pyzmq (libzmq 4.3.5): a PULL or
ROUTER receives one message with ``copy=False`` and every property is asked for. Both
libraries must give the same answers (a string, or ZMQError EINVAL), and a few answers
are also pinned by what they must mean (the peer's socket type, its IP, its key).
"""

from __future__ import annotations

import importlib
import os

import pytest

import fastzmq

zmq_real = pytest.importorskip("zmq")

NAMES = ("Socket-Type", "Peer-Address", "Identity", "User-Id", "Routing-Id", "socket-type")
SERVER_KEYS = fastzmq.curve_keypair()
CLIENT_KEYS = fastzmq.curve_keypair()


def _properties(lib, endpoint: str, curve: bool = False, identity: bytes | None = None):
    auth_thread = importlib.import_module(lib.__name__ + ".auth.thread")
    auth = importlib.import_module(lib.__name__ + ".auth")
    ctx = lib.Context()
    authenticator = None
    try:
        rx = ctx.socket(lib.ROUTER if identity else lib.PULL)
        tx = ctx.socket(lib.DEALER if identity else lib.PUSH)
        for s in (rx, tx):
            s.linger = 0
            s.rcvtimeo = s.sndtimeo = 5000
        if curve:
            authenticator = auth_thread.ThreadAuthenticator(ctx)
            authenticator.start()
            authenticator.configure_curve(domain="*", location=auth.CURVE_ALLOW_ANY)
            rx.curve_server = True
            rx.curve_secretkey = SERVER_KEYS[1]
            tx.curve_serverkey = SERVER_KEYS[0]
            tx.curve_publickey, tx.curve_secretkey = CLIENT_KEYS
        if identity:
            tx.routing_id = identity
        rx.bind(endpoint)
        tx.connect(rx.last_endpoint.decode())
        tx.send(b"hello")
        frame = rx.recv_multipart(copy=False)[-1]
        answers = {}
        for name in NAMES:
            try:
                answers[name] = frame.get(name)
            except lib.ZMQError as e:
                answers[name] = ("ZMQError", e.errno)
        return answers
    finally:
        if authenticator is not None:
            authenticator.stop()
        ctx.destroy(linger=0)


SCENARIOS = {
    "tcp": ("tcp://127.0.0.1:*", False, None),
    "tcp-identity": ("tcp://127.0.0.1:*", False, b"peer-1"),
    "tcp-curve": ("tcp://127.0.0.1:*", True, None),
    "ipc": ("ipc://{tmp}/p.ipc", False, None),
    "ipc-identity": ("ipc://{tmp}/p.ipc", False, b"peer-1"),
    "inproc": ("inproc://props", False, None),
    "inproc-identity": ("inproc://props-id", False, b"peer-1"),
}


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("props")
    out = {}
    for name, (endpoint, curve, identity) in SCENARIOS.items():
        ep = endpoint.format(tmp=tmp)
        out[name] = {
            lib.__name__: _properties(lib, ep, curve, identity) for lib in (fastzmq, zmq_real)
        }
    return out


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_same_answers_as_libzmq(answers, scenario):
    got = answers[scenario]
    assert got["fastzmq"] == got["zmq"]


EINVAL = ("ZMQError", fastzmq.EINVAL)


def test_socket_type_is_the_peers(answers):
    assert answers["tcp"]["fastzmq"]["Socket-Type"] == "PUSH"
    assert answers["tcp-identity"]["fastzmq"]["Socket-Type"] == "DEALER"
    assert answers["ipc"]["fastzmq"]["Socket-Type"] == "PUSH"
    assert answers["inproc"]["fastzmq"]["Socket-Type"] == EINVAL  # inproc carries none


def test_peer_address(answers):
    assert answers["tcp"]["fastzmq"]["Peer-Address"] == "127.0.0.1"
    me = f"localhost:{os.getuid()}:{os.getgid()}:{os.getpid()}"
    if hasattr(__import__("socket"), "SO_PEERCRED"):
        assert answers["ipc"]["fastzmq"]["Peer-Address"] == me


def test_identity_is_the_peers_routing_id(answers):
    assert answers["tcp-identity"]["fastzmq"]["Identity"] == "peer-1"
    assert answers["tcp"]["fastzmq"]["Identity"] == EINVAL  # PUSH sends no identity


def test_user_id_is_the_zap_verdict(answers):
    assert answers["tcp-curve"]["fastzmq"]["User-Id"] == CLIENT_KEYS[0].decode()
    assert answers["tcp"]["fastzmq"]["User-Id"] == EINVAL  # no ZAP handler asked


def test_names_are_exact_and_unknown_is_einval(answers):
    for per_lib in answers.values():
        assert per_lib["fastzmq"]["socket-type"] == EINVAL
        assert per_lib["fastzmq"]["Routing-Id"] == EINVAL


def test_identity_falls_back_to_routing_id():
    f = fastzmq.Frame._from_bytes(b"x", properties={"Routing-Id": "r1"})
    assert f.get("Identity") == "r1"
    with pytest.raises(fastzmq.ZMQError):
        f.get("routing-id")

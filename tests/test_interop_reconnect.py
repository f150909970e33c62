"""Interop under failure: a libzmq (pyzmq) peer that restarts, and hostile raw TCP peers.

* Reconnect: fastzmq connects to a pyzmq socket bound on a fixed tcp port; the pyzmq side
  (socket and context) goes away and a new one binds the same port. fastzmq reconnects by
  itself (RECONNECT_IVL 50 ms); messages queued while the peer was down arrive once, in
  order (sequence numbers), and later ones too.
* Bad peers (RFC 23/37 "Error Handling": a peer that breaks the protocol is disconnected):
  garbage instead of a greeting, a frame with reserved flag bits, a message past
  MAXMSGSIZE after a valid handshake, a peer that never completes the handshake within
  HANDSHAKE_IVL. Each gets its connection closed (recv on the raw socket returns b""),
  while a pyzmq peer on the same fastzmq socket keeps working.
"""

from __future__ import annotations

import socket
import time

import pytest

import fastzmq
from conftest import bind_retrying, free_tcp_port, live_pipes, wait_until
from fastzmq._frame import encode_message
from fastzmq.zmtp.handshake import NEED_DATA, Handshake, HandshakeComplete

zmq = pytest.importorskip("zmq")

TIMEOUT_MS = 5000
RAW_TIMEOUT = 3.0


def _configure(s, opts) -> None:
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = TIMEOUT_MS
    for name, value in opts.items():
        setattr(s, name, value)


def fsock(ctx, kind: str, **opts):
    s = ctx.socket(getattr(fastzmq, kind))
    _configure(s, opts)
    return s


def psock(ctx, kind: str, **opts):
    s = ctx.socket(getattr(zmq, kind))
    _configure(s, opts)
    return s


# ------------------------------------------------------------------ reconnect
class RestartablePeer:
    """A pyzmq socket bound on a fixed port, in its own context, that can be restarted."""

    def __init__(self, kind: str, port: int) -> None:
        self.kind, self.port = kind, port
        self.ctx = self.sock = None

    def start(self):
        self.ctx = zmq.Context()
        self.sock = psock(self.ctx, self.kind)
        self.sock.bind(f"tcp://127.0.0.1:{self.port}")
        return self.sock

    def stop(self) -> None:
        if self.ctx is not None:
            self.sock.close(linger=0)
            self.ctx.term()
            self.ctx = self.sock = None


@pytest.fixture
def peer_factory():
    peers = []

    def make(kind: str, port: int) -> RestartablePeer:
        peers.append(RestartablePeer(kind, port))
        return peers[-1]

    yield make
    for p in peers:
        p.stop()


def seq(n: int) -> bytes:
    return b"seq-%06d" % n


def recv_payload(sock, kind: str) -> bytes:
    msg = sock.recv_multipart()
    if kind == "ROUTER":
        assert len(msg) == 2 and msg[0], msg
        return msg[1]
    (body,) = msg
    return body


def assert_silent(sock, ms: int = 200) -> None:
    assert not sock.poll(ms), f"unexpected extra message {sock.recv_multipart()!r}"


@pytest.mark.parametrize("fkind,pkind", [("PUSH", "PULL"), ("DEALER", "ROUTER")])
def test_reconnects_after_libzmq_peer_restarts(ctx, peer_factory, fkind, pkind):
    port = free_tcp_port()
    peer = peer_factory(pkind, port)
    p = peer.start()
    f = fsock(ctx, fkind, reconnect_ivl=50)
    f.connect(f"tcp://127.0.0.1:{port}")
    f.send(seq(0))
    assert recv_payload(p, pkind) == seq(0)

    peer.stop()
    # wait until fastzmq saw the connection die, so the next sends cannot go to the old
    # kernel socket (what was written there before the close is lost, as in libzmq)
    wait_until(lambda: live_pipes(f) == 0, 5.0, "fastzmq to notice the peer closed")
    for n in range(1, 6):
        f.send(seq(n))  # queued in the connect-side pipe while nobody listens

    p = peer.start()
    got = [recv_payload(p, pkind) for _ in range(5)]
    assert got == [seq(n) for n in range(1, 6)]
    for n in range(6, 9):
        f.send(seq(n))
    assert [recv_payload(p, pkind) for _ in range(3)] == [seq(n) for n in range(6, 9)]
    assert_silent(p)  # exactly once: no duplicate of anything queued


def test_dealer_gets_replies_from_restarted_router(ctx, peer_factory):
    port = free_tcp_port()
    peer = peer_factory("ROUTER", port)
    dealer = fsock(ctx, "DEALER", reconnect_ivl=50, routing_id=b"d1")
    dealer.connect(f"tcp://127.0.0.1:{port}")
    for round_ in range(3):
        router = peer.start()
        dealer.send(b"ping %d" % round_)
        assert router.recv_multipart() == [b"d1", b"ping %d" % round_]
        router.send_multipart([b"d1", b"pong %d" % round_])
        assert dealer.recv() == b"pong %d" % round_
        peer.stop()
        wait_until(lambda: live_pipes(dealer) == 0, 5.0, "fastzmq to notice the peer closed")


def test_libzmq_reconnects_to_restarted_fastzmq_binder(pctx_and_port, ctx):
    """The other direction: pyzmq PUSH connects, the fastzmq PULL is closed and rebound.
    libzmq may write into the dead connection before it notices, so the PUSH resends
    until one message arrives (fastzmq's accept side is what is tested here)."""
    pctx, port = pctx_and_port
    push = psock(pctx, "PUSH", reconnect_ivl=50)
    push.connect(f"tcp://127.0.0.1:{port}")
    for round_ in range(2):
        pull = fsock(ctx, "PULL")
        bind_retrying(pull, f"tcp://127.0.0.1:{port}")
        deadline = time.monotonic() + 5.0
        got = []
        while seq(round_) not in got:
            assert time.monotonic() < deadline, "libzmq never reached the rebound fastzmq"
            push.send(seq(round_))
            while pull.poll(50):
                got.append(pull.recv())
        # resends of earlier rounds may still arrive; nothing else may
        assert set(got) <= {seq(n) for n in range(round_ + 1)}, got
        pull.close(linger=0)


@pytest.fixture
def pctx_and_port():
    c = zmq.Context()
    yield c, free_tcp_port()
    c.destroy(linger=0)


# ------------------------------------------------------------------ bad peers
@pytest.fixture
def pctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


@pytest.fixture
def raw_clients():
    made = []

    def connect(port: int) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", port), timeout=RAW_TIMEOUT)
        s.settimeout(RAW_TIMEOUT)
        made.append(s)
        return s

    yield connect
    for s in made:
        s.close()


def bound_pull(ctx, pctx, **opts):
    """A fastzmq PULL on tcp, a working pyzmq PUSH connected to it, and its port."""
    pull = fsock(ctx, "PULL", **opts)
    pull.bind("tcp://127.0.0.1:*")
    endpoint = pull.last_endpoint.decode()
    push = psock(pctx, "PUSH")
    push.connect(endpoint)
    return pull, push, int(endpoint.rsplit(":", 1)[1])


def closed_by_peer(conn: socket.socket, timeout: float = RAW_TIMEOUT) -> bool:
    """Read (and discard) until EOF; True if the peer closed within timeout."""
    conn.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if conn.recv(65536) == b"":
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def assert_good_peer_works(pull, push, tag: bytes) -> None:
    push.send_multipart([tag, b"z" * 300])
    assert pull.recv_multipart() == [tag, b"z" * 300]


def raw_handshake(conn: socket.socket, as_type: str) -> HandshakeComplete:
    hs = Handshake(as_type)
    conn.sendall(hs.data_to_send())
    ev = NEED_DATA
    while ev is NEED_DATA:
        chunk = conn.recv(65536)
        assert chunk, "fastzmq closed during the handshake"
        hs.receive_data(chunk)
        ev = hs.next_event()
        conn.sendall(hs.data_to_send())
    assert isinstance(ev, HandshakeComplete), ev
    return ev


GREETING_V2 = b"\xff" + bytes(8) + b"\x7f" + b"\x01" + b"\x00"  # ZMTP 2.0 revision 1


@pytest.mark.parametrize(
    "garbage",
    [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", GREETING_V2 + b"\x00" * 20, b"\xff" + b"\x00" * 200],
    ids=["http", "zmtp2-greeting", "bad-signature"],
)
def test_garbage_greeting_is_dropped_good_peer_unaffected(ctx, pctx, raw_clients, garbage):
    pull, push, port = bound_pull(ctx, pctx)
    assert_good_peer_works(pull, push, b"before")
    conn = raw_clients(port)
    conn.sendall(garbage)
    assert_good_peer_works(pull, push, b"during")
    assert closed_by_peer(conn), "fastzmq kept the garbage-sending connection open"
    assert_good_peer_works(pull, push, b"after")


def test_reserved_flag_bits_after_handshake_are_dropped(ctx, pctx, raw_clients):
    pull, push, port = bound_pull(ctx, pctx)
    conn = raw_clients(port)
    raw_handshake(conn, "PUSH")
    conn.sendall(encode_message([b"valid"]))
    assert pull.recv_multipart() == [b"valid"]  # the raw peer really is a working peer
    conn.sendall(b"\xf0\x03bad")  # flags with reserved bits 7..3 set
    assert closed_by_peer(conn)
    assert_good_peer_works(pull, push, b"after")


def test_oversize_frame_past_maxmsgsize_is_dropped(ctx, pctx, raw_clients):
    pull, push, port = bound_pull(ctx, pctx, maxmsgsize=1000)
    conn = raw_clients(port)
    raw_handshake(conn, "PUSH")
    conn.sendall(encode_message([b"m" * 1000]))  # exactly at the limit: accepted
    assert pull.recv() == b"m" * 1000
    conn.sendall(encode_message([b"M" * 1001]))
    assert closed_by_peer(conn), "a frame past MAXMSGSIZE did not close the connection"
    assert not pull.poll(100), "the oversize message was delivered"
    assert_good_peer_works(pull, push, b"after")


def test_oversize_long_frame_header_alone_is_dropped(ctx, pctx, raw_clients):
    """A long-frame header announcing 2**40 bytes: dropped at once, nothing allocated."""
    pull, push, port = bound_pull(ctx, pctx, maxmsgsize=1 << 20)
    conn = raw_clients(port)
    raw_handshake(conn, "PUSH")
    conn.sendall(b"\x02" + (1 << 40).to_bytes(8, "big"))
    assert closed_by_peer(conn)
    assert_good_peer_works(pull, push, b"after")


def test_silent_client_dropped_after_handshake_ivl(ctx, pctx, raw_clients):
    pull, push, port = bound_pull(ctx, pctx, handshake_ivl=200)
    assert_good_peer_works(pull, push, b"before")
    conn = raw_clients(port)
    t0 = time.monotonic()
    assert closed_by_peer(conn, 3.0), "a silent client was never dropped"
    elapsed = time.monotonic() - t0
    assert 0.1 <= elapsed <= 2.0, f"dropped after {elapsed:.3f}s, HANDSHAKE_IVL is 0.2s"
    assert_good_peer_works(pull, push, b"after")
    assert live_pipes(pull) == 1


def test_half_greeting_then_silence_dropped_after_handshake_ivl(ctx, pctx, raw_clients):
    pull, push, port = bound_pull(ctx, pctx, handshake_ivl=200)
    conn = raw_clients(port)
    conn.sendall(Handshake("PUSH").data_to_send()[:20])
    assert closed_by_peer(conn, 3.0)
    assert_good_peer_works(pull, push, b"after")

"""ZMTP 2.0 (RFC 15) and 1.0 (RFC 13) peers: hand-made byte streams against the sans-I/O
handshake and the framing translators, then raw Python-socket peers against fastzmq
sockets of every classic type (round trips, subscriptions, refusals, back-off)."""

from __future__ import annotations

import random
import socket
import struct
import time

import pytest

import fastzmq as zmq
from fastzmq.utils.monitor import recv_monitor_message
from fastzmq.zmtp import BadFrame, BadGreeting, IncompatibleSocketType, LegacyPeerRefused
from fastzmq.zmtp.handshake import (
    NEED_DATA,
    Handshake,
    HandshakeComplete,
    HandshakeFailed,
    encode_v1_frame,
)
from fastzmq.zmtp.mechanisms.null import NullMechanism
from fastzmq.zmtp.mechanisms.plain import PlainClient
from fastzmq.zmtp.zmtp1 import FromV1, ToV1

TIMEOUT = 3.0
SIG = b"\xff" + bytes(8) + b"\x7f"
CODES = {"PAIR": 0, "PUB": 1, "SUB": 2, "REQ": 3, "REP": 4, "DEALER": 5, "ROUTER": 6}
CODES.update({"PULL": 7, "PUSH": 8, "XPUB": 1, "XSUB": 2})


def v2_frame(body: bytes, more: bool = False) -> bytes:
    if len(body) > 255:
        return bytes((2 | more,)) + struct.pack(">Q", len(body)) + body
    return bytes((int(more), len(body))) + body


def v2_message(frames) -> bytes:
    return b"".join(v2_frame(f, i < len(frames) - 1) for i, f in enumerate(frames))


def drive_rest(hs, data, step=None):
    """Feed ``data`` (``step`` bytes at a time) until an event; (event, everything hs
    sent, the bytes not fed)."""
    sent = hs.data_to_send()
    ev = NEED_DATA
    step = step or max(1, len(data))
    for i in range(0, len(data), step):
        hs.receive_data(data[i : i + step])
        ev = hs.next_event()
        sent += hs.data_to_send()
        if ev is not NEED_DATA:
            return ev, sent, data[i + step :]
    return ev, sent, b""


def drive(hs, data, step=None):
    return drive_rest(hs, data, step)[:2]


# ------------------------------------------------------------------ sans-I/O: 2.0


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_v2_peer_bytes_both_ways(step):
    traffic = v2_message([b"", b"hello"])
    peer = SIG + b"\x01" + bytes((CODES["ROUTER"],)) + v2_frame(b"peer-id") + traffic
    ev, sent, rest = drive_rest(Handshake("DEALER", identity=b"me"), peer, step)
    assert isinstance(ev, HandshakeComplete), ev
    assert (ev.version, ev.peer_version, ev.framing) == ((2, 0), (2, 0), 2)
    assert ev.peer_socket_type == "ROUTER" and ev.peer_identity == b"peer-id"
    assert ev.leftover + rest == traffic  # nothing lost, nothing duplicated
    # our side: signature with identity size + 1, major 3, DEALER, identity frame (2.0)
    assert sent == b"\xff" + struct.pack(">Q", 3) + b"\x7f" + b"\x03\x05" + b"\x00\x02me"


def test_v2_signature_first_and_nothing_more_until_the_peer_speaks():
    hs = Handshake("PUSH")
    assert hs.data_to_send() == b"\xff" + struct.pack(">Q", 1) + b"\x7f"
    hs.receive_data(SIG[:9])
    assert hs.next_event() is NEED_DATA and hs.data_to_send() == b""
    hs.receive_data(SIG[9:])
    assert hs.next_event() is NEED_DATA and hs.data_to_send() == b"\x03"
    hs.receive_data(b"\x01")  # revision 1: ZMTP 2.0, no mechanism name ever follows
    assert hs.next_event() is NEED_DATA and hs.data_to_send() == b"\x08\x00\x00"


@pytest.mark.parametrize(
    "ours,theirs",
    [("XPUB", 2), ("PUB", 10), ("XSUB", 1), ("SUB", 9), ("REQ", 4), ("PULL", 8), ("PAIR", 0)],
)
def test_v2_socket_type_codes(ours, theirs):
    ev, sent = drive(Handshake(ours), SIG + bytes((1, theirs)) + v2_frame(b""))
    assert isinstance(ev, HandshakeComplete), ev
    assert sent[11] == CODES[ours]  # XPUB/XSUB are PUB/SUB on the wire (RFC 15)


@pytest.mark.parametrize(
    "ours,theirs", [("PUSH", 8), ("PUB", 1), ("REQ", 3), ("DEALER", 7), ("PAIR", 42)]
)
def test_v2_incompatible_or_unknown_type_fails(ours, theirs):
    ev, _ = drive(Handshake(ours), SIG + bytes((1, theirs)) + v2_frame(b""))
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, IncompatibleSocketType)


def test_draft_type_cannot_speak_v2():
    ev, sent = drive(Handshake("CLIENT"), SIG + b"\x01\x05" + v2_frame(b""))
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, IncompatibleSocketType)
    assert len(sent) == 11  # signature and major only: no ERROR to a peer without commands


def test_v2_identity_frame_rules():
    ev, _ = drive(Handshake("ROUTER"), SIG + b"\x01\x05" + b"\x01\x01x")  # MORE
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, BadGreeting)
    ev, _ = drive(Handshake("ROUTER"), SIG + b"\x01\x05" + b"\x10\x00")  # reserved bit
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, BadGreeting)
    long_id = b"\x02" + struct.pack(">Q", 300) + b"x" * 300
    ev, _ = drive(Handshake("ROUTER"), SIG + b"\x01\x05" + long_id)
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, BadGreeting)
    ev, _ = drive(Handshake("ROUTER"), SIG + b"\x01\x05" + b"\x02" + struct.pack(">Q", 2) + b"ab")
    assert isinstance(ev, HandshakeComplete) and ev.peer_identity == b"ab"  # LONG form


def test_revision_0_is_v1_framing_after_a_versioned_greeting():
    traffic = encode_v1_frame(b"msg")
    ev, sent = drive(Handshake("PULL", identity=b"i"), SIG + b"\x00\x08" + b"\x03\x00ab" + traffic)
    assert isinstance(ev, HandshakeComplete) and ev.framing == 1 and ev.version == (1, 0)
    assert ev.peer_socket_type == "PUSH" and ev.peer_identity == b"ab"
    assert ev.leftover == traffic
    assert sent[10:] == b"\x03\x07" + b"\x02\x00i"  # our identity in 1.0 framing


# ------------------------------------------------------------------ sans-I/O: 1.0


@pytest.mark.parametrize("step", [1, 1000])
def test_v1_unversioned_peer(step):
    traffic = encode_v1_frame(b"a", more=True) + encode_v1_frame(b"b" * 300)
    ev, sent, rest = drive_rest(Handshake("PULL", identity=b"xyz"), b"\x04\x00abc" + traffic, step)
    assert isinstance(ev, HandshakeComplete), ev
    assert (ev.version, ev.framing, ev.peer_socket_type, ev.peer_identity) == (
        (1, 0),
        1,
        "",
        b"abc",
    )
    assert ev.leftover + rest == traffic
    # our signature was a 1.0 identity header (length 3 + 1, flags 0x7F): the body follows
    assert sent == b"\xff" + struct.pack(">Q", 4) + b"\x7f" + b"xyz"


def test_v1_long_header_peer_and_anonymous():
    ev, sent = drive(Handshake("SUB"), b"\xff" + struct.pack(">Q", 1) + b"\x00")
    assert isinstance(ev, HandshakeComplete) and ev.peer_identity == b"" and ev.framing == 1
    assert sent == b"\xff" + struct.pack(">Q", 1) + b"\x7f"  # (empty identity: no body)


@pytest.mark.parametrize(
    "data",
    [b"GET / HTTP/1.1\r\n", b"\x16\x03\x01\x02\x00", b"SSH-2.0-x", b"\x00\x00", b"\xff" + bytes(9)],
    ids=["http", "tls", "ssh", "length-0", "long-length-0"],
)
def test_non_zmtp_clients_fail_at_once(data):
    ev, _ = drive(Handshake("PULL"), data)
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, BadGreeting), ev


# ------------------------------------------------------------------ security: fail closed


def _secure(kind):
    if kind == "plain":
        return PlainClient("u", "p")
    if kind == "curve":
        from fastzmq.zmtp.mechanisms.curve import CurveClient

        return CurveClient(bytes(range(32)))
    return NullMechanism(zap_request=object())  # NULL with a ZAP domain


@pytest.mark.parametrize("kind", ["plain", "curve", "null-zap"])
@pytest.mark.parametrize(
    "peer",
    [SIG + b"\x01\x05\x00\x00", SIG + b"\x00\x05\x01\x00", b"\x01\x00"],
    ids=["2.0", "r0", "1.0"],
)
def test_secured_socket_refuses_old_peers(kind, peer):
    hs = Handshake("DEALER", mechanism=_secure(kind))
    ev, sent = drive(hs, peer)
    assert isinstance(ev, HandshakeFailed) and isinstance(ev.error, LegacyPeerRefused), ev
    assert len(sent) <= 11  # nothing of ours beyond signature (+ major): no identity
    assert b"no security" in str(ev.error).encode()


# ------------------------------------------------------------------ 1.0 framing translation


def _chunks(data, rng):
    i = 0
    while i < len(data):
        n = rng.randint(1, 40)
        yield data[i : i + n]
        i += n


def test_v1_translation_both_ways_any_chunking():
    rng = random.Random(7)
    bodies = [b"", b"a", b"x" * 253, b"y" * 254, b"z" * 255, b"w" * 1000]
    v1 = b"".join(encode_v1_frame(b, more=i % 2 == 0) for i, b in enumerate(bodies))
    v2 = b"".join(v2_frame(b, more=i % 2 == 0) for i, b in enumerate(bodies))
    for _ in range(5):
        dec = FromV1(prefix=b"P")
        assert b"".join(dec.feed(c) for c in _chunks(v1, rng)) == b"P" + v2
        enc = ToV1()
        assert b"".join(enc.feed(c) for c in _chunks(v2, rng)) == v1
    # commands (ZMTP 3 bit 2) never reach a 1.0 peer
    enc = ToV1()
    ping = b"\x04\x07\x04PING\x00\x00"
    assert enc.feed(ping + v2_frame(b"m") + b"\x06" + struct.pack(">Q", 300) + bytes(300)) == (
        encode_v1_frame(b"m")
    )
    with pytest.raises(BadFrame):
        FromV1().feed(b"\x02\x00a\x00")


# ------------------------------------------------------------------ raw-socket peers


class RawPeer:
    """A hand-written ZMTP 2.0 (or 1.0) peer on a plain Python socket."""

    def __init__(self, sock, stype="PAIR", identity=b"", v1=False):
        self.s = sock
        self.s.settimeout(TIMEOUT)
        self.buf = b""
        self.v1 = v1
        if v1:
            self.s.sendall(encode_v1_frame(identity))
            got = self.read(10)
            assert got[0] == 0xFF and got[9] == 0x7F, got
            self.read(struct.unpack(">Q", got[1:9])[0] - 1)  # the rest of its identity
        else:
            self.s.sendall(SIG + b"\x01" + bytes((CODES[stype],)) + v2_frame(identity))
            got = self.read(12)
            assert got[0] == 0xFF and got[9] == 0x7F and got[10] == 3, got
            self.their_type = got[11]
            self.their_identity = self.read_frame()[1]

    @classmethod
    def connect(cls, port, **kw):
        return cls(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT), **kw)

    def read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        if self.v1:
            n = self.read(1)[0]
            if n == 0xFF:
                n = struct.unpack(">Q", self.read(8))[0]
            flags = self.read(1)[0]
            return flags & 1, self.read(n - 1)
        flags = self.read(1)[0]
        assert flags & ~3 == 0, flags  # 2.0: no command bit, no reserved bits
        n = struct.unpack(">Q", self.read(8))[0] if flags & 2 else self.read(1)[0]
        return flags & 1, self.read(n)

    def recv(self):
        frames, more = [], 1
        while more:
            more, body = self.read_frame()
            frames.append(body)
        return frames

    def send(self, frames):
        if self.v1:
            data = b"".join(encode_v1_frame(f, i < len(frames) - 1) for i, f in enumerate(frames))
        else:
            data = v2_message(frames)
        self.s.sendall(data)

    def closed(self):
        try:
            self.s.settimeout(TIMEOUT)
            while self.s.recv(65536):
                pass
            return True
        except (socket.timeout, ConnectionResetError):
            return False

    def close(self):
        self.s.close()


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _bound(ctx, kind, **opts):
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = int(TIMEOUT * 1000)
    for k, v in opts.items():
        setattr(s, k, v)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    return s, port


# (ours, peer's type, peer's identity, steps) -- a step is ("peer", frames) for the raw
# peer sending, ("ours", frames) for our socket sending, each checked at the other end
ROUND_TRIPS = [
    ("PAIR", "PAIR", b"", [("peer", [b"a", b"b"]), ("ours", [b"c"])]),
    ("PULL", "PUSH", b"", [("peer", [b"work"]), ("peer", [b"x" * 300])]),
    ("PUSH", "PULL", b"", [("ours", [b"job"])]),
    ("REP", "REQ", b"", [("peer", [b"", b"q"]), ("ours", [b"r"])]),
    ("REQ", "REP", b"", [("ours", [b"q"]), ("peer", [b"", b"r"])]),
    ("ROUTER", "DEALER", b"dealer-1", [("peer", [b"hi"]), ("ours", [b"dealer-1", b"yo"])]),
    ("DEALER", "ROUTER", b"", [("ours", [b"up"]), ("peer", [b"down"])]),
    ("ROUTER", "REQ", b"", [("peer", [b"", b"q"])]),
    ("DEALER", "REP", b"", [("ours", [b"", b"q"]), ("peer", [b"", b"r"])]),
]


def _expected_ours(ours, frames, peer_identity):
    if ours == "REP" or ours == "REQ":
        return frames[1:]  # the envelope is the socket's
    if ours == "ROUTER":
        return [peer_identity or None] + frames
    return frames


def _expected_peer(ours, frames):
    if ours in ("REQ", "REP"):
        return [b""] + frames
    if ours == "ROUTER":
        return frames[1:]
    return frames


@pytest.mark.parametrize(
    "ours,theirs,ident,steps", ROUND_TRIPS, ids=[f"{r[0]}-{r[1]}" for r in ROUND_TRIPS]
)
def test_round_trip_with_v2_peer(ctx, ours, theirs, ident, steps):
    s, port = _bound(ctx, getattr(zmq, ours))
    peer = RawPeer.connect(port, stype=theirs, identity=ident)
    try:
        assert peer.their_type == CODES[ours]
        for who, frames in steps:
            if who == "peer":
                peer.send(frames)
                got = s.recv_multipart()
                want = _expected_ours(ours, frames, ident)
                if want[0] is None:  # a ROUTER names an anonymous peer itself
                    assert len(got[0]) == 5 and got[1:] == want[1:]
                else:
                    assert got == want
            else:
                s.send_multipart(frames)
                assert peer.recv() == _expected_peer(ours, frames)
    finally:
        peer.close()


def test_our_connect_to_a_v2_listener(ctx):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(TIMEOUT)
    d = ctx.socket(zmq.DEALER)
    d.linger = 0
    d.rcvtimeo = int(TIMEOUT * 1000)
    d.routing_id = b"dd"
    d.connect(f"tcp://127.0.0.1:{lst.getsockname()[1]}")
    conn, _ = lst.accept()
    peer = RawPeer(conn, stype="ROUTER", identity=b"")
    try:
        assert peer.their_type == CODES["DEALER"] and peer.their_identity == b"dd"
        d.send(b"queued")
        assert peer.recv() == [b"queued"]
        peer.send([b"back"])
        assert d.recv() == b"back"
    finally:
        peer.close()
        lst.close()


def recv_while_polling(peer, sock):
    deadline = time.monotonic() + TIMEOUT
    peer.s.settimeout(0.02)
    try:
        while time.monotonic() < deadline:
            sock.poll(10)
            try:
                return peer.recv()
            except socket.timeout:
                pass
    finally:
        peer.s.settimeout(TIMEOUT)
    raise AssertionError("nothing received")


def test_pub_filters_for_v2_subscriber(ctx):
    pub, port = _bound(ctx, zmq.PUB)
    peer = RawPeer.connect(port, stype="SUB")
    try:
        peer.send([b"\x01top"])  # the 2.0 subscription: a message
        deadline = time.monotonic() + TIMEOUT
        peer.s.settimeout(0.05)
        got = None
        while got is None and time.monotonic() < deadline:
            pub.send(b"other")
            pub.send(b"top-1")
            try:
                got = peer.recv()
            except socket.timeout:
                pass
        assert got == [b"top-1"]  # never "other": the PUB filtered for this peer
    finally:
        peer.close()


@pytest.mark.parametrize("kind", ["SUB", "XSUB"])
def test_sub_sends_v2_subscription_messages(ctx, kind):
    sub, port = _bound(ctx, getattr(zmq, kind))
    peer = RawPeer.connect(port, stype="PUB")
    try:
        if kind == "SUB":
            sub.subscribe(b"t")
        else:
            sub.send(b"\x01t")
        # (the socket learns of its new peer at its next call, as in libzmq: poll meanwhile)
        assert recv_while_polling(peer, sub) == [b"\x01t"]  # a message, not a command
        peer.send([b"t-data"])
        assert sub.recv() == b"t-data"
        if kind == "SUB":
            sub.unsubscribe(b"t")
            assert peer.recv() == [b"\x00t"]
    finally:
        peer.close()


def test_xpub_receives_v2_subscriptions(ctx):
    xpub, port = _bound(ctx, zmq.XPUB)
    peer = RawPeer.connect(port, stype="SUB")
    try:
        peer.send([b"\x01news"])
        assert xpub.recv() == b"\x01news"
    finally:
        peer.close()


@pytest.mark.parametrize("ours", ["PAIR", "PULL", "REP", "ROUTER"])
def test_round_trip_with_v1_peer(ctx, ours):
    s, port = _bound(ctx, getattr(zmq, ours))
    peer = RawPeer.connect(port, identity=b"old-1", v1=True)
    try:
        frames = [b"", b"q" * 300] if ours in ("REP", "ROUTER") else [b"m", b"x" * 300]
        peer.send(frames)
        got = s.recv_multipart()
        if ours == "REP":
            assert got == frames[1:]
        elif ours == "ROUTER":
            assert got == [b"old-1"] + frames
        else:
            assert got == frames
        if ours == "PULL":
            return
        reply = [b"old-1", b"", b"r" * 260] if ours == "ROUTER" else [b"r" * 260]
        s.send_multipart(reply)
        want = [b"", b"r" * 260] if ours in ("REP", "ROUTER") else [b"r" * 260]
        assert peer.recv() == want
    finally:
        peer.close()


def test_pub_sends_everything_to_v1_subscriber(ctx):
    """A 1.0 SUB filters itself and sends no subscription: libzmq subscribes it to all."""
    pub, port = _bound(ctx, zmq.PUB)
    peer = RawPeer.connect(port, v1=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        peer.s.settimeout(0.05)
        got = None
        while got is None and time.monotonic() < deadline:
            pub.send(b"anything")
            try:
                got = peer.recv()
            except socket.timeout:
                pass
        assert got == [b"anything"]
    finally:
        peer.close()


def _events(mon, until, timeout=TIMEOUT):
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mon.poll(50):
            ev = recv_monitor_message(mon)
            got.append((ev["event"], ev["value"]))
            if ev["event"] == until:
                break
    return got


def test_plain_server_refuses_v2_peer_with_protocol_event(ctx):
    s = ctx.socket(zmq.PULL)
    s.linger = 0
    s.plain_server = True
    mon = s.get_monitor_socket()
    port = s.bind_to_random_port("tcp://127.0.0.1")
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        raw.sendall(SIG + b"\x01\x08\x00\x00")
        events = _events(mon, zmq.EVENT_DISCONNECTED)
        kinds = [e for e, _ in events]
        assert zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL in kinds, events
        value = dict(events)[zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL]
        assert value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
        assert zmq.EVENT_HANDSHAKE_SUCCEEDED not in kinds
        raw.settimeout(TIMEOUT)
        data = b""
        while True:  # closed by us; what we sent was our signature and major only
            chunk = raw.recv(100)
            if not chunk:
                break
            data += chunk
        assert data[:10] == b"\xff" + struct.pack(">Q", 1) + b"\x7f" and data[10:] == b"\x03"
    finally:
        raw.close()
        mon.close()


def test_v2_peer_events_as_libzmq(ctx):
    """libzmq reports no HANDSHAKE_SUCCEEDED for a 2.0 peer, and its end as a failed
    handshake (NO_DETAIL) before DISCONNECTED: fastzmq does the same."""
    s = ctx.socket(zmq.PAIR)
    s.linger = 0
    mon = s.get_monitor_socket()
    port = s.bind_to_random_port("tcp://127.0.0.1")
    peer = RawPeer.connect(port, stype="PAIR")
    peer.send([b"x"])
    assert s.recv() == b"x"
    peer.close()
    kinds = [e for e, _ in _events(mon, zmq.EVENT_DISCONNECTED)]
    assert kinds[-2:] == [zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_DISCONNECTED], kinds
    assert zmq.EVENT_HANDSHAKE_SUCCEEDED not in kinds
    mon.close()


def test_refused_peer_reconnects_with_backoff(ctx):
    """A peer we cannot speak with (here a 2.0 peer against a PLAIN client): the
    connection is closed each time and the retries back off up to RECONNECT_IVL_MAX."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    lst.settimeout(TIMEOUT)
    c = ctx.socket(zmq.PUSH)
    c.linger = 0
    c.plain_username, c.plain_password = b"u", b"p"
    c.reconnect_ivl, c.reconnect_ivl_max = 20, 160
    mon = c.get_monitor_socket()
    c.connect(f"tcp://127.0.0.1:{lst.getsockname()[1]}")
    conns = []
    try:
        retried = []
        deadline = time.monotonic() + TIMEOUT
        while len(retried) < 5 and time.monotonic() < deadline:
            try:
                conn, _ = lst.accept()
            except socket.timeout:
                break
            conns.append(conn)
            conn.sendall(SIG + b"\x01\x07\x00\x00")  # a 2.0 PULL
            for ev, value in _events(mon, zmq.EVENT_CONNECT_RETRIED):
                if ev == zmq.EVENT_CONNECT_RETRIED:
                    retried.append(value)
                if ev == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
                    assert value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
        assert retried == [20, 40, 80, 160, 160], retried
    finally:
        for conn in conns:
            conn.close()
        lst.close()
        mon.close()


def _fds() -> set:
    """This process's open fds, as (number, target) pairs."""
    import os

    out = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            out.add((name, os.readlink(f"/proc/self/fd/{name}")))
        except OSError:
            pass  # (the listing's own fd)
    return out


def _gone(fds, sock=None) -> bool:
    """Wait until none of ``fds`` is open any more (polling ``sock``, whose next call
    drops a dead peer's pipe and its waiter); True if so."""
    deadline = time.monotonic() + TIMEOUT
    while fds & _fds():
        if time.monotonic() > deadline:
            return False
        if sock is not None:
            sock.poll(10)
        else:
            time.sleep(0.01)
    return True


def test_v1_connections_leave_no_fd_behind(ctx):
    """A 1.0 connection holds the peer's socket and a socketpair (and a waiter); all close
    with it, whichever side ends it."""
    import gc

    s, port = _bound(ctx, zmq.PAIR)
    before = _fds()
    peer = RawPeer.connect(port, v1=True)  # the peer ends it
    peer.send([b"x"])
    assert s.recv() == b"x"
    opened = _fds() - before
    assert len([f for f in opened if "socket" in f[1]]) >= 4  # ours, the pair, the peer's
    peer.close()
    assert _gone(opened, s), opened & _fds()
    before = _fds()
    peer = RawPeer.connect(port, v1=True)  # we end it: the relay closes the peer's socket
    peer.send([b"y"])
    assert s.recv() == b"y"
    opened = _fds() - before
    s.close()
    assert peer.closed()
    peer.close()
    del s
    gc.collect()  # (a closed socket keeps its own eventfd until it is collected)
    assert _gone(opened), opened & _fds()

"""Heartbeats (ZMTP 3.1, RFC 37 "Connection Heartbeating"; docs/heartbeats.md).

* Raw ZMTP peers (plain Python sockets, the sans-I/O ``Handshake``): every socket type,
  over tcp and ipc, answers a PING with a PONG echoing its context, from the I/O thread,
  while the socket's thread sleeps, is blocked in recv or in a poll, or is busy; a PING
  cut anywhere in the stream (byte by byte too) is answered and the data around it
  arrives whole and in order; PING and PONG never reach the user, never make
  Poller/EVENTS report POLLIN and never make the socket's FD readable.
* A peer's PING TTL: a peer that then stays silent is dropped; one that keeps talking
  is not.
* HEARTBEAT_IVL/TIMEOUT/TTL: the socket sends PINGs (our TTL in deciseconds, with a
  context), keeps a peer that answers, drops one that goes silent, then reconnects;
  the connection's timers are cancelled when it dies.
* libzmq peers (pyzmq) with heartbeats on both sides: REQ/REP, DEALER/ROUTER, PUB/SUB,
  PUSH/PULL, PAIR, idle then busy: no disconnect (pyzmq monitor, EVENT_DISCONNECTED)
  and no lost message.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time

import pytest

import fastzmq
from conftest import fd_readable, live_pipes, wait_until
from fastzmq._frame import Decoder, encode_frame
from fastzmq.zmtp.commands import encode_ping, encode_pong
from fastzmq.zmtp.handshake import Handshake, HandshakeComplete
from zmtp_peer import run_handshake

T_MS = 5000  # bound of every blocking call
T_S = T_MS / 1000.0

PEER_OF = {
    "PAIR": "PAIR",
    "PUB": "SUB",
    "SUB": "PUB",
    "REQ": "REP",
    "REP": "REQ",
    "DEALER": "ROUTER",
    "ROUTER": "DEALER",
    "PULL": "PUSH",
    "PUSH": "PULL",
    "XPUB": "SUB",
    "XSUB": "PUB",
}
CAN_RECV = {"PAIR", "SUB", "REP", "DEALER", "ROUTER", "PULL", "XSUB"}


def fsock(ctx, kind, **opts):
    s = ctx.socket(getattr(fastzmq, kind) if isinstance(kind, str) else kind)
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = T_MS
    for name, value in opts.items():
        setattr(s, name, value)
    return s


def fbind(sock, transport, tmp):
    if transport == "tcp":
        sock.bind("tcp://127.0.0.1:*")
    else:
        sock.bind(f"ipc://{tmp}/s{id(sock)}")
    return sock.last_endpoint.decode()


def pong(context):
    return b"\x04PONG" + context


class RawPeer:
    """A ZMTP 3.1 peer over a plain socket: handshake by hand, then raw frames."""

    def __init__(self, conn, peer_type, as_server=False):
        self.conn = conn
        conn.settimeout(T_S)
        ev = run_handshake(conn, Handshake(peer_type, as_server=as_server))
        assert isinstance(ev, HandshakeComplete), ev
        self.dec = Decoder()
        self.dec.feed(ev.leftover)
        self.pending = []

    @classmethod
    def connect(cls, endpoint, peer_type):
        if endpoint.startswith("tcp://"):
            host, port = endpoint[len("tcp://") :].rsplit(":", 1)
            conn = socket.create_connection((host, int(port)), timeout=T_S)
        else:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(T_S)
            conn.connect(endpoint[len("ipc://") :])
        return cls(conn, peer_type)

    def send(self, data):
        self.conn.sendall(data)

    def ping(self, context, ttl=0):
        self.send(encode_ping(ttl, context))

    def frame(self, timeout=T_S):
        """The next frame (a _frame.Frame); AssertionError if none within timeout."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            left = deadline - time.monotonic()
            assert left > 0, "no frame from the fastzmq side"
            self.conn.settimeout(left)
            try:
                chunk = self.conn.recv(65536)
            except socket.timeout:
                continue
            assert chunk, "the fastzmq side closed the connection"
            self.dec.feed(chunk)
            self.pending += self.dec.frames()
        return self.pending.pop(0)

    def next_command(self, timeout=T_S):
        while True:
            f = self.frame(timeout)
            if f.command:
                return f.body

    def next_pong(self, timeout=T_S):
        """The next PONG's body, skipping the other side's own PINGs."""
        while True:
            body = self.next_command(timeout)
            if body.startswith(b"\x04PONG"):
                return body

    def closed_within(self, timeout):
        """True once the other side has closed the connection (EOF or reset)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.conn.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                chunk = self.conn.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.dec.feed(chunk)
            self.pending += self.dec.frames()
        return False

    def close(self):
        self.conn.close()


@pytest.fixture
def tmpdir_ipc():
    d = tempfile.mkdtemp(prefix="fzhb-")
    yield d
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)


def accepted(sock, transport, tmp, peer_type):
    """sock binds; a raw peer of peer_type connects; waits until sock adopted it."""
    peer = RawPeer.connect(fbind(sock, transport, tmp), peer_type)
    wait_until(lambda: live_pipes(sock) == 1, T_S, "the raw peer's pipe")
    return peer


def assert_nothing_for_user(sock, kind):
    """No message, no POLLIN, and a poll that sleeps: what was sent was not for the user."""
    assert not sock.EVENTS & fastzmq.POLLIN
    assert sock.poll(50, fastzmq.POLLIN) == 0
    if kind in CAN_RECV and kind != "REQ":
        with pytest.raises(fastzmq.Again):
            sock.recv(fastzmq.DONTWAIT)


# ------------------------------------------------------------------ every PING answered
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("kind", sorted(PEER_OF))
def test_every_type_answers_ping(ctx, tmpdir_ipc, transport, kind):
    sock = fsock(ctx, kind)
    peer = accepted(sock, transport, tmpdir_ipc, PEER_OF[kind])
    try:
        for i, context in enumerate([b"ctx-0", b"", b"\xff" * 16]):
            peer.ping(context, ttl=i)
            assert peer.next_command() == pong(context)
        assert_nothing_for_user(sock, kind)
    finally:
        peer.close()


@pytest.mark.parametrize("doing", ["sleeping", "recv", "poll", "busy"])
def test_answered_whatever_the_socket_thread_does(ctx, tmpdir_ipc, doing):
    sock = fsock(ctx, "PULL")
    peer = accepted(sock, "tcp", tmpdir_ipc, "PUSH")
    stop = threading.Event()
    box = []

    def run():
        if doing == "recv":
            box.append(sock.recv())
        elif doing == "poll":
            poller = fastzmq.Poller()
            poller.register(sock, fastzmq.POLLIN)
            box.append(poller.poll(T_MS))
        elif doing == "busy":
            n = 0
            while not stop.is_set():
                n += 1  # pure Python: holds the GIL but for the switch interval
            box.append(n)
        else:
            stop.wait(T_S)
            box.append(None)

    th = threading.Thread(target=run)
    th.start()
    try:
        time.sleep(0.05)  # let it settle into what it does (not needed for correctness)
        for i in range(3):
            peer.ping(b"while-%d" % i)
            assert peer.next_command() == pong(b"while-%d" % i)
        assert th.is_alive()  # the PINGs did not end its recv/poll
        peer.send(encode_frame(b"wake"))
        stop.set()
        th.join(T_S)
        assert not th.is_alive()
        if doing == "recv":
            assert box == [b"wake"]
        elif doing == "poll":
            assert box == [[(sock, fastzmq.POLLIN)]]
            assert sock.recv() == b"wake"
        else:
            assert sock.recv() == b"wake"
    finally:
        stop.set()
        th.join(T_S)
        peer.close()


def test_ping_cut_anywhere(ctx, tmpdir_ipc):
    """data + PING + data, split at every byte: the PONG comes, the data is whole."""
    sock = fsock(ctx, "PULL")
    peer = accepted(sock, "ipc", tmpdir_ipc, "PUSH")
    try:
        unit = encode_frame(b"a", more=True) + encode_frame(b"b")
        ping = encode_ping(7, b"cut")
        stream = unit + ping + unit
        for cut in range(1, len(stream)):
            peer.send(stream[:cut])
            time.sleep(0.002)  # usually two reads (the test holds either way)
            peer.send(stream[cut:])
            assert peer.next_command() == pong(b"cut")
            assert sock.recv_multipart() == [b"a", b"b"]
            assert sock.recv_multipart() == [b"a", b"b"]
        for b in ping:  # byte by byte
            peer.send(bytes((b,)))
            time.sleep(0.001)
        assert peer.next_command() == pong(b"cut")
        assert_nothing_for_user(sock, "PULL")
    finally:
        peer.close()


def test_ping_in_the_handshake_read(ctx, tmpdir_ipc):
    """A PING sent with the end of the handshake (same read) is answered too."""
    sock = fsock(ctx, "DEALER")
    port_ep = fbind(sock, "tcp", tmpdir_ipc)
    host, port = port_ep[len("tcp://") :].rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=T_S)
    try:
        hs = Handshake("ROUTER")
        conn.sendall(hs.data_to_send())
        ev = None
        while not isinstance(ev, HandshakeComplete):
            hs.receive_data(conn.recv(65536))
            ev = hs.next_event()
            out = hs.data_to_send()
            if isinstance(ev, HandshakeComplete):
                out += encode_ping(0, b"early") + encode_frame(b"first")
            conn.sendall(out)
        dec = Decoder()
        dec.feed(ev.leftover)
        frames = []
        while not any(f.command for f in frames):
            dec.feed(conn.recv(65536))
            frames += dec.frames()
        assert [f.body for f in frames if f.command] == [pong(b"early")]
        assert sock.recv() == b"first"
    finally:
        conn.close()


def test_pong_for_takes_a_ping_or_its_data():
    from fastzmq.zmtp import BadFrame
    from fastzmq.zmtp.commands import Ping, pong_for

    assert pong_for(Ping(3, b"ctx")) == pong_for(b"\x00\x03ctx") == encode_pong(b"ctx")
    with pytest.raises(BadFrame):
        pong_for(b"\x00")  # no room for the TTL


# ------------------------------------------------------------------ polling
def test_ping_and_pong_never_wake_a_poller(ctx, tmpdir_ipc):
    sock = fsock(ctx, "PULL")
    peer = accepted(sock, "tcp", tmpdir_ipc, "PUSH")
    poller = fastzmq.Poller()
    poller.register(sock, fastzmq.POLLIN)
    try:
        assert poller.poll(0) == []
        assert not sock.EVENTS & fastzmq.POLLIN  # drained and armed
        peer.ping(b"p1")
        peer.send(encode_pong(b"stray"))  # an unsolicited PONG: not for the user either
        peer.ping(b"p2")
        assert [peer.next_command(), peer.next_command()] == [pong(b"p1"), pong(b"p2")]
        assert not fd_readable(sock.FD, 100)  # the socket was not even woken
        assert poller.poll(100) == []
        assert not sock.EVENTS & fastzmq.POLLIN
        peer.send(encode_frame(b"real"))
        assert poller.poll(T_MS) == [(sock, fastzmq.POLLIN)]
        assert sock.recv() == b"real"
    finally:
        peer.close()


# ------------------------------------------------------------------ the peer's TTL
def test_peer_ttl_drops_a_silent_peer(ctx, tmpdir_ipc):
    sock = fsock(ctx, "ROUTER")
    peer = accepted(sock, "tcp", tmpdir_ipc, "DEALER")
    try:
        peer.ping(b"t", ttl=2)  # 200 ms
        assert peer.next_command() == pong(b"t")
        assert peer.closed_within(T_S)
        wait_until(lambda: live_pipes(sock) == 0, T_S, "the pipe's detach")
    finally:
        peer.close()


def test_peer_ttl_keeps_a_peer_that_talks(ctx, tmpdir_ipc):
    sock = fsock(ctx, "PULL")
    peer = accepted(sock, "tcp", tmpdir_ipc, "PUSH")
    try:
        for i in range(8):  # 800 ms, TTL 300 ms: each message or PING renews it
            if i % 2:
                peer.send(encode_frame(b"%d" % i))
            else:
                peer.ping(b"k", ttl=3)
            time.sleep(0.1)
        assert not peer.closed_within(0.05)
        assert [sock.recv() for _ in range(4)] == [b"1", b"3", b"5", b"7"]
    finally:
        peer.close()


# ------------------------------------------------------------------ our heartbeats
def _parse_ping(body):
    assert body[:5] == b"\x04PING", body
    return int.from_bytes(body[5:7], "big"), body[7:]


def test_ivl_pings_keep_an_answering_peer_then_drop_a_silent_one(ctx):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    lst.settimeout(T_S)
    sock = fsock(ctx, "DEALER", heartbeat_ivl=50, heartbeat_timeout=200, heartbeat_ttl=2000)
    sock.reconnect_ivl = 10
    sock.connect(f"tcp://127.0.0.1:{lst.getsockname()[1]}")
    try:
        conn, _ = lst.accept()
        peer = RawPeer(conn, "ROUTER", as_server=True)
        contexts = []
        t_end = time.monotonic() + 0.6
        while time.monotonic() < t_end:  # answer every PING: the connection lives
            ttl, context = _parse_ping(peer.next_command())
            assert ttl == 20  # 2000 ms in deciseconds
            contexts.append(context)
            peer.send(encode_pong(context))
        assert len(contexts) >= 3 and len(set(contexts)) == len(contexts)
        assert all(1 <= len(c) <= 16 for c in contexts)
        assert not peer.closed_within(0.01)
        assert peer.closed_within(T_S)  # silent now: dropped within the timeout
        peer.close()
        conn2, _ = lst.accept()  # and the usual reconnect follows
        peer2 = RawPeer(conn2, "ROUTER", as_server=True)
        _parse_ping(peer2.next_command())
        sock.send(b"after")
        while (f := peer2.frame()).command:
            pass  # our PINGs
        assert f.body == b"after"
        peer2.close()
    finally:
        lst.close()


def test_timeout_defaults_to_ivl_and_any_data_counts(ctx, tmpdir_ipc):
    """HEARTBEAT_TIMEOUT unset: IVL. A peer that never PONGs but sends data is heard."""
    sock = fsock(ctx, "PULL", heartbeat_ivl=60)
    peer = accepted(sock, "ipc", tmpdir_ipc, "PUSH")
    try:
        t_end = time.monotonic() + 0.5
        n = 0
        while time.monotonic() < t_end:
            peer.send(encode_frame(b"d%d" % n))
            n += 1
            time.sleep(0.02)
        assert not peer.closed_within(0.01)
        assert [sock.recv() for _ in range(n)] == [b"d%d" % i for i in range(n)]
        assert peer.closed_within(T_S)  # now silent
    finally:
        peer.close()


def _live_timers(sock):
    """The heartbeat timers still armed in the socket's I/O thread."""
    io = sock.context._io[0]
    return [e for e in list(io.timers) if e[2] is not None and e[2].__name__.startswith("_hb_")]


def test_timers_cancelled_when_the_connection_dies(ctx, tmpdir_ipc):
    sock = fsock(ctx, "PULL", heartbeat_ivl=30)
    peers = [accepted(sock, "tcp", tmpdir_ipc, "PUSH")]
    for _ in range(2):
        ep = sock.last_endpoint.decode()
        peers.append(RawPeer.connect(ep, "PUSH"))
    wait_until(lambda: live_pipes(sock) == 3, T_S, "3 peers")
    for p in peers:
        p.ping(b"x", ttl=50)  # a TTL watch too
        assert p.next_pong() == pong(b"x")
    wait_until(lambda: len(_live_timers(sock)) >= 3, T_S, "heartbeat timers")
    for p in peers:
        p.close()
    wait_until(lambda: live_pipes(sock) == 0, T_S, "the pipes' detach")
    wait_until(lambda: _live_timers(sock) == [], T_S, "no timer left holding an engine")


# ------------------------------------------------------------------ libzmq peers
zmq = pytest.importorskip("zmq")

PAIRS = [  # (fastzmq type, libzmq type, who binds, transport)
    ("REQ", "REP", "libzmq", "tcp"),
    ("REP", "REQ", "fastzmq", "ipc"),
    ("DEALER", "ROUTER", "libzmq", "tcp"),
    ("ROUTER", "DEALER", "fastzmq", "tcp"),
    ("SUB", "PUB", "libzmq", "tcp"),
    ("PUB", "SUB", "fastzmq", "ipc"),
    ("PUSH", "PULL", "fastzmq", "tcp"),
    ("PULL", "PUSH", "libzmq", "ipc"),
    ("PAIR", "PAIR", "fastzmq", "tcp"),
]
HB = dict(heartbeat_ivl=50, heartbeat_timeout=300, heartbeat_ttl=1000)


def _exchange(f, z, fkind, n):
    """n messages the way the pair goes; returns how many were lost."""
    got = 0
    for i in range(n):
        msg = b"m%d" % i
        if fkind == "REQ":
            f.send(msg)
            rid = z.recv()
            z.send(rid)
            got += f.recv() == msg
        elif fkind == "REP":
            z.send(msg)
            f.send(f.recv())
            got += z.recv() == msg
        elif fkind == "DEALER":
            f.send(msg)
            rid, body = z.recv_multipart()
            z.send_multipart([rid, body])
            got += f.recv() == msg
        elif fkind == "ROUTER":
            z.send(msg)
            rid, body = f.recv_multipart()
            f.send_multipart([rid, body])
            got += z.recv() == msg
        elif fkind in ("SUB", "PUB", "PUSH", "PULL"):
            src, dst = (z, f) if fkind in ("SUB", "PULL") else (f, z)
            src.send(msg)
            got += dst.recv() == msg
        else:  # PAIR both ways
            f.send(msg)
            got += z.recv() == msg
        time.sleep(0.002)
    return n - got


@pytest.mark.parametrize("fkind,zkind,binder,transport", PAIRS)
def test_libzmq_peer_heartbeats_both_sides(ctx, tmpdir_ipc, fkind, zkind, binder, transport):
    zctx = zmq.Context()
    try:
        z = zctx.socket(getattr(zmq, zkind))
        z.linger = 0
        z.rcvtimeo = z.sndtimeo = T_MS
        for k, v in HB.items():
            setattr(z, k, v)
        mon = z.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        f = fsock(ctx, fkind, **HB)
        if zkind == "SUB":
            z.subscribe(b"")
        if fkind == "SUB":
            f.subscribe(b"")
        if binder == "fastzmq":
            ep = fbind(f, transport, tmpdir_ipc)
            z.connect(ep)
        else:
            ep = f"ipc://{tmpdir_ipc}/z" if transport == "ipc" else "tcp://127.0.0.1:*"
            z.bind(ep)
            f.connect(z.last_endpoint.decode())
        wait_until(lambda: live_pipes(f) == 1, T_S, "the connection")
        if fkind == "SUB":
            assert f.wait_subscribed(T_MS)
        elif fkind == "PUB":
            _wait_pub_reaches(f, z)
        lost = _exchange(f, z, fkind, 5)
        time.sleep(0.5)  # idle: only heartbeats go both ways (libzmq drops in 300 ms)
        lost += _exchange(f, z, fkind, 100)  # busy
        time.sleep(0.05)
        disconnects = 0
        while mon.poll(0):  # it reports EVENT_DISCONNECTED only
            mon.recv_multipart()
            disconnects += 1
        assert (disconnects, lost) == (0, 0)
        mon.close(linger=0)
        z.close()
    finally:
        zctx.destroy(linger=0)


def _wait_pub_reaches(f, z):
    """Probe until the libzmq SUB's subscription has reached our PUB, then drain probes."""
    deadline = time.monotonic() + T_S
    while not z.poll(10):
        assert time.monotonic() < deadline, "the subscription never arrived"
        f.send(b"probe")
    while z.poll(50):
        assert z.recv() == b"probe"


def test_wait_subscribed_with_heartbeats_on_both_sides(ctx, tmpdir_ipc):
    """The SUB's own PINGs, the PUB's PONGs and both sides' heartbeats, together."""
    hb = dict(heartbeat_ivl=10, heartbeat_timeout=2000, heartbeat_ttl=2000)  # PINGs, no drops
    pub = fsock(ctx, "PUB", **hb)
    sub = fsock(ctx, "SUB", **hb)
    sub.connect(fbind(pub, "tcp", tmpdir_ipc))
    for i in range(5):
        sub.subscribe(b"t%d" % i)
        assert sub.wait_subscribed(T_MS)
        pub.send(b"t%d" % i)
        assert sub.recv() == b"t%d" % i
        time.sleep(0.03)  # a few heartbeats in between
    assert not sub.EVENTS & fastzmq.POLLIN
    assert sub.get_stats()["read_ahead"] == 0


# ------------------------------------------------------------------ closing with heartbeats
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_close_after_a_burst_loses_nothing(ctx, tmpdir_ipc, transport):
    """The receiver's PINGs sit unread at the sender when it closes: closing then would
    reset the connection and drop what its kernel still had to send. LINGER delivers it."""
    pull = fsock(ctx, "PULL", heartbeat_ivl=5, heartbeat_timeout=2000, rcvhwm=100)
    ep = fbind(pull, transport, tmpdir_ipc)
    pctx = fastzmq.Context()  # its own I/O thread
    try:
        push = pctx.socket(fastzmq.PUSH)
        push.heartbeat_ivl = 5
        push.heartbeat_timeout = 2000
        push.sndhwm = 0
        push.connect(ep)
        wait_until(lambda: live_pipes(pull) == 1, T_S, "the connection")
        n = 200_000
        for i in range(n):
            push.send(b"%015d" % i)
        time.sleep(0.05)  # the receiver's PINGs arrive meanwhile; nobody reads yet
        push.close(linger=T_MS)
        got = [pull.recv() for _ in range(n)]
        assert got == [b"%015d" % i for i in range(n)]
    finally:
        pctx.term()


def test_a_slow_consumer_is_not_a_dead_peer(ctx, tmpdir_ipc):
    """Stopped at RCVHWM, the engine reads nothing and so hears nothing: that is not the
    peer's silence, and must not drop the connection (and what it carried)."""
    pull = fsock(ctx, "PULL", heartbeat_ivl=20, heartbeat_timeout=100, rcvhwm=10)
    ep = fbind(pull, "tcp", tmpdir_ipc)
    pctx = fastzmq.Context()
    try:
        push = pctx.socket(fastzmq.PUSH)
        push.linger = 0
        push.heartbeat_ivl = 20
        push.heartbeat_timeout = 2000
        push.connect(ep)
        wait_until(lambda: live_pipes(pull) == 1, T_S, "the connection")
        for i in range(2000):
            push.send(b"%d" % i)
        time.sleep(0.3)  # the consumer sleeps: 3 heartbeat timeouts
        assert [pull.recv() for _ in range(2000)] == [b"%d" % i for i in range(2000)]
        push.close()
    finally:
        pctx.term()


def test_heartbeats_under_curve_with_a_libzmq_peer(ctx):
    """Under CURVE the PINGs travel sealed: the engine answers and strips them after
    opening, and seals its own PONGs and PINGs."""
    pytest.importorskip("nacl")
    zctx = zmq.Context()
    try:
        spub, ssec = zmq.curve_keypair()
        cpub, csec = zmq.curve_keypair()
        z = zctx.socket(zmq.ROUTER)
        z.linger = 0
        z.rcvtimeo = z.sndtimeo = T_MS
        z.curve_server = True
        z.curve_secretkey = ssec
        for k, v in HB.items():
            setattr(z, k, v)
        mon = z.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        port = z.bind_to_random_port("tcp://127.0.0.1")
        f = fsock(ctx, "DEALER", **HB)
        f.curve_serverkey, f.curve_publickey, f.curve_secretkey = spub, cpub, csec
        f.connect(f"tcp://127.0.0.1:{port}")
        lost = _exchange(f, z, "DEALER", 5)
        time.sleep(0.5)  # idle: sealed heartbeats both ways
        lost += _exchange(f, z, "DEALER", 50)
        assert not f.EVENTS & fastzmq.POLLIN
        assert (mon.poll(50), lost) == (0, 0)
        mon.close(linger=0)
        z.close()
    finally:
        zctx.destroy(linger=0)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_commands_wait_for_the_end_of_a_body_sent_by_reference(ctx, tmpdir_ipc, transport):
    """A big body goes to the kernel by reference, in pieces when the socket's buffer is
    small (ipc). Its message ends at the same ring position as its header, so a PING or
    PONG due then must wait for the body's last byte, not go right after its header (the
    libzmq peer would read the command inside the body, and the stream after it as junk)."""
    push = fsock(ctx, "PUSH", heartbeat_ivl=1, heartbeat_timeout=2000)
    zctx = zmq.Context()
    try:
        pull = zctx.socket(zmq.PULL)
        pull.linger = 0
        pull.rcvtimeo = T_MS
        pull.heartbeat_ivl = 1  # its PINGs: our PONGs are due often too
        pull.heartbeat_timeout = 2000
        if transport == "tcp":
            port = pull.bind_to_random_port("tcp://127.0.0.1")
            push.connect(f"tcp://127.0.0.1:{port}")
        else:
            pull.bind(f"ipc://{tmpdir_ipc}/big")
            push.connect(f"ipc://{tmpdir_ipc}/big")
        bodies = [bytes([i]) * (2 << 20) for i in range(12)]
        for body in bodies:
            push.send_multipart([b"head", body], copy=False)
            time.sleep(0.002)  # heartbeat timers fire between and during the sends
        got = [pull.recv_multipart() for _ in bodies]
        assert [m[0] for m in got] == [b"head"] * len(bodies)
        assert [m[1] == b for m, b in zip(got, bodies)] == [True] * len(bodies)
        pull.close()
    finally:
        zctx.destroy(linger=0)

"""Large frame bodies go to the wire by reference (_pipe.pyx, "Zero copy").

The socket writes only the frame header into the out ring and hands the engine the
``bytes`` object itself; the engine splices it into its sendmsg iovecs. These tests
check what a user can observe: the stream is byte-exact in every mix of large and
small frames (read by libzmq), a body stays alive exactly until it is on the wire,
closing releases what was never sent, and a connection that dies inside a body
leaves the stream at a message boundary for the next peer.
"""

from __future__ import annotations

import gc
import os
import socket
import struct
import sys
import time

import pytest

import fastzmq
from conftest import bind_retrying, free_tcp_port, wait_until
from fastzmq._pipe import ZC_MIN_BYTES
from fastzmq.zmtp.handshake import Handshake, HandshakeComplete
from zmtp_peer import run_handshake, zsocket

zmq = pytest.importorskip("zmq")

TIMEOUT_MS = 5000
BIG = ZC_MIN_BYTES


@pytest.fixture
def pctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def fsock(ctx, kind, **opts):
    s = ctx.socket(getattr(fastzmq, kind))
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = TIMEOUT_MS
    for k, v in opts.items():
        setattr(s, k, v)
    return s


def body(n: int, seed: int) -> bytes:
    """n bytes that differ per seed and per position (a misplaced run shows)."""
    unit = seed.to_bytes(4, "little") + os.urandom(60)
    return (unit * (n // 64 + 1))[:n]


# Single frames just under, at and over the threshold, and multipart messages whose
# large frames sit first, in the middle, last and side by side.
MESSAGES = [
    [body(BIG - 1, 1)],
    [body(BIG, 2)],
    [b"small"],
    [body(BIG + 1, 3)],
    [body(1 << 20, 4)],
    [b"head", body(100_000, 5), b"tail"],
    [body(70_000, 6), body(BIG, 7)],
    [b""],
    [body(300_000, 8), b"", body(BIG * 3, 9), b"x" * 300],
    [body(65_536, 10)] * 3,
]


def expected_stream(rounds: int) -> list[list[bytes]]:
    return [m for _ in range(rounds) for m in MESSAGES]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("fastzmq_binds", [True, False], ids=["fz-binds", "fz-connects"])
def test_libzmq_reads_the_stream_byte_exact(ctx, pctx, tmp_path, transport, fastzmq_binds):
    """With fastzmq connecting, everything is queued before the peer exists: some 170
    bodies wait at once, more than one chunk of records (the engine must not send ring
    bytes past a record it cannot see yet)."""
    push = fsock(ctx, "PUSH")
    pull = zsocket(pctx, zmq.PULL)
    addr = "tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/zc"
    if transport == "tcp" and not fastzmq_binds:
        addr = f"tcp://127.0.0.1:{free_tcp_port()}"
    want = expected_stream(rounds=12)
    if fastzmq_binds:
        push.bind(addr)
        pull.connect(push.last_endpoint.decode())
    else:
        push.connect(addr)
    for m in want:
        push.send_multipart(m)
    if not fastzmq_binds:
        bind_retrying(pull, addr)
    got = [pull.recv_multipart() for _ in want]
    assert [[len(f) for f in m] for m in got] == [[len(f) for f in m] for m in want]
    assert got == want


def test_fastzmq_peer_reads_the_stream_and_hwm_counts_messages(ctx):
    """fastzmq on both ends, with a small SNDHWM: by-reference bodies are whole messages
    for HWM (DONTWAIT raises Again at the limit, not earlier or later)."""
    pull = fsock(ctx, "PULL", rcvhwm=1)
    push = fsock(ctx, "PUSH", sndhwm=4)
    pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.last_endpoint.decode())
    push.send(b"hello")
    assert pull.recv() == b"hello"
    want = expected_stream(rounds=3)
    got = []
    for m in want:
        while True:
            try:
                push.send_multipart(m, fastzmq.DONTWAIT)
                break
            except fastzmq.Again:
                got.append(pull.recv_multipart())
    while len(got) < len(want):
        got.append(pull.recv_multipart())
    assert got == want


def test_a_body_is_held_until_it_is_on_the_wire_then_released(ctx, pctx):
    push = fsock(ctx, "PUSH")
    port = free_tcp_port()
    push.connect(f"tcp://127.0.0.1:{port}")
    big = body(200_000, 11)
    base = sys.getrefcount(big)
    push.send(big)  # no peer yet: queued
    time.sleep(0.05)
    push.send(b"reap?")  # a send reaps what the engine is done with: nothing yet
    assert sys.getrefcount(big) == base + 1, "a queued body must stay alive"
    pull = zsocket(pctx, zmq.PULL)
    bind_retrying(pull, f"tcp://127.0.0.1:{port}")
    assert pull.recv() == big
    assert pull.recv() == b"reap?"

    def released() -> bool:
        push.send(b"tick")
        assert pull.recv() == b"tick"
        return sys.getrefcount(big) == base

    wait_until(released, what="the sent body to be released")


def test_closing_releases_bodies_never_sent(ctx):
    push = fsock(ctx, "PUSH")
    push.connect(f"tcp://127.0.0.1:{free_tcp_port()}")  # nobody listens
    bigs = [body(BIG * 2, 20 + i) for i in range(5)]
    base = [sys.getrefcount(b) for b in bigs]
    push.send_multipart(bigs[:2])
    for i in range(2, len(bigs)):
        push.send(bigs[i])
    assert [sys.getrefcount(b) for b in bigs] == [n + 1 for n in base]
    push.close(linger=0)

    def released() -> bool:
        gc.collect()
        return [sys.getrefcount(b) for b in bigs] == base

    wait_until(released, what="close(linger=0) to release the queued bodies")


def test_a_peer_dying_inside_a_body_leaves_the_next_peer_a_clean_stream(ctx, pctx):
    """The first peer reads a little of a body far larger than the kernel's buffers and
    hangs up: the engine drops the unsent rest (never resent half), and the messages
    queued behind it reach the next peer intact."""
    port = free_tcp_port()
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(1)
    lsock.settimeout(TIMEOUT_MS / 1000)
    push = fsock(ctx, "PUSH", reconnect_ivl=20)
    push.connect(f"tcp://127.0.0.1:{port}")
    try:
        conn, _ = lsock.accept()
    finally:
        lsock.close()
    conn.settimeout(TIMEOUT_MS / 1000)
    with conn:
        assert isinstance(run_handshake(conn, Handshake("PULL")), HandshakeComplete)
        huge = body(48 << 20, 30)  # far beyond loopback socket buffers: sent in pieces
        push.send(huge)
        after = [[b"after-1"], [body(BIG * 4, 31)], [b"a", body(BIG, 32), b"z"]]
        for m in after:
            push.send_multipart(m)
        got = 0
        while got < 200_000:
            chunk = conn.recv(65536)
            assert chunk, "fastzmq closed the connection"
            got += len(chunk)
        # close with RST: the engine sees the connection die with most of the body unsent
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    pull = zsocket(pctx, zmq.PULL)
    bind_retrying(pull, f"tcp://127.0.0.1:{port}")
    assert [pull.recv_multipart() for _ in after] == after
    (pipe,) = push._get_pipes()
    wait_until(lambda: pipe.zc.reap_now() == 0, what="every body to be released")

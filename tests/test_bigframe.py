"""Huge frames are received straight into the bytes object the user gets (_ring.pyx RefRing,
ARCHITECTURE.md "Huge frames"), and sent by reference.

What a user can observe: every byte arrives intact (hashes) at every size around the
threshold, alone and in multipart messages, over tcp and ipc, from fastzmq and from libzmq;
the body really took the by-reference path (the pipe's counter of bodies taken); memory
follows what the peer sent, not what it announced, and all of it comes back when the peer
dies mid-frame (tracemalloc sees the bytes object, which is a Python allocation);
MAXMSGSIZE refuses a frame before anything is allocated; RCVHWM still counts whole
messages; and sending a huge body allocates nothing of its size.
"""

from __future__ import annotations

import gc
import hashlib
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import tracemalloc

import pytest

import fastzmq as zmq
from conftest import wait_until
from fastzmq._ring import BIG_FRAME_BYTES
from fastzmq.zmtp.handshake import Handshake

sys.path.insert(0, os.path.dirname(__file__))
from zmtp_peer import run_handshake  # noqa: E402

BIG = BIG_FRAME_BYTES
MIB = 1 << 20
T_MS = 10000


def payload(n: int, seed: int) -> bytes:
    """n bytes that differ at every position and between seeds (cheap to build)."""
    block = hashlib.sha256(b"%d" % seed).digest() * 2048  # 64 KiB
    reps = n // len(block) + 1
    return (block * reps)[:n]


def digest(b) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture(params=["tcp", "ipc"])
def endpoint(request):
    if request.param == "tcp":
        yield "tcp://127.0.0.1:*"
    else:
        d = tempfile.mkdtemp()
        yield f"ipc://{d}/big.ipc"
        try:
            os.unlink(f"{d}/big.ipc")
        except FileNotFoundError:
            pass
        os.rmdir(d)


def pair(ctx, endpoint, **pull_opts):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = T_MS
    for k, v in pull_opts.items():
        setattr(pull, k, v)
    pull.bind(endpoint)
    push = ctx.socket(zmq.PUSH)
    push.sndtimeo = T_MS
    push.connect(pull.last_endpoint)
    return push, pull


def the_pipe(sock):
    """The socket's one connected pipe, once the connection is up (a send returns when
    queued, which can be before the peer's handshake is done)."""

    def connected():
        sock._events()
        return [p for p in sock._get_pipes() if p.connected]

    wait_until(lambda: len(connected()) == 1, 10.0, "one connected pipe")
    (p,) = connected()
    return p


def taken(sock) -> int:
    return the_pipe(sock).bigin.taken


SIZES = [BIG - 1, BIG, BIG + 12345, 40 * MIB + 3]  # 40 MiB: the object grows while filled


@pytest.mark.parametrize("size", SIZES)
def test_single_frame_intact(ctx, endpoint, size):
    push, pull = pair(ctx, endpoint)
    body = payload(size, size)
    push.send(body)
    got = pull.recv()
    assert type(got) is bytes and len(got) == size and digest(got) == digest(body)
    assert taken(pull) == (1 if size >= BIG else 0)
    push.send(b"after")  # the stream goes on at the right place
    assert pull.recv() == b"after"


def test_multipart_mix_intact_and_copy_false(ctx, endpoint):
    push, pull = pair(ctx, endpoint)
    parts = [b"head", payload(BIG + 1, 1), b"", payload(300, 2), payload(2 * BIG + 5, 3), b"t"]
    for _ in range(2):
        push.send_multipart(parts)
    assert [digest(p) for p in pull.recv_multipart()] == [digest(p) for p in parts]
    frames = pull.recv_multipart(copy=False)
    assert [digest(f.buffer) for f in frames] == [digest(p) for p in parts]
    assert [f.more for f in frames] == [True] * 5 + [False]
    assert taken(pull) == 4


def test_from_libzmq(ctx, endpoint):
    zmq_ = pytest.importorskip("zmq")
    pctx = zmq_.Context()
    try:
        pull = ctx.socket(zmq.PULL)
        pull.rcvtimeo = T_MS
        pull.bind(endpoint)
        push = pctx.socket(zmq_.PUSH)
        push.linger = 0
        push.sndtimeo = T_MS
        push.connect(pull.last_endpoint)
        parts = [payload(BIG + 7, 4), b"x", payload(BIG, 5)]
        push.send_multipart(parts)
        push.send(parts[0])
        assert [digest(p) for p in pull.recv_multipart()] == [digest(p) for p in parts]
        assert digest(pull.recv()) == digest(parts[0])
        assert taken(pull) == 3
        push.close()
    finally:
        pctx.destroy(linger=0)


def raw_push(port: int) -> socket.socket:
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    run_handshake(c, Handshake(socket_type="PUSH"))
    return c


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.fixture
def tracing():
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("announced", [48 * MIB, 2**40])
def test_peer_dying_mid_frame_frees_the_body(ctx, tracing, announced):
    """The body grows with what arrives (not with the announcement) and goes at death."""
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    block = payload(MIB, 9)
    base = traced()
    sent = 40 * MIB
    c = raw_push(port)
    try:
        c.sendall(b"\x00\x02hi" + b"\x02" + struct.pack(">Q", announced))
        for _ in range(sent // MIB):
            c.sendall(block)
        assert pull.recv() == b"hi"
        # the bytes object holds what arrived (tracemalloc sees it): at least the sent
        # body, and no more than twice it (grown by doubling), whatever was announced
        wait_until(lambda: traced() - base >= sent - 2 * MIB, 10.0, "the body to be received")
        assert traced() - base <= 2 * sent
    finally:
        c.close()
    wait_until(lambda: traced() - base < MIB, 10.0, "the body's memory to be released")
    with pytest.raises(zmq.Again):
        pull.recv(zmq.DONTWAIT)  # nothing of it was ever delivered


def test_dying_between_frames_of_a_message_frees_finished_bodies(ctx, tracing):
    """A message whose first huge frame is complete and whose second is cut: both go."""
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    base = traced()
    c = raw_push(port)
    try:
        c.sendall(b"\x03" + struct.pack(">Q", BIG))  # MORE
        c.sendall(payload(BIG, 1))
        c.sendall(b"\x02" + struct.pack(">Q", BIG) + payload(BIG // 2, 2))
        wait_until(lambda: traced() - base >= BIG + BIG // 2 - MIB, 10.0, "both bodies")
    finally:
        c.close()
    wait_until(lambda: traced() - base < MIB, 10.0, "the bodies' memory to be released")
    with pytest.raises(zmq.Again):
        pull.recv(zmq.DONTWAIT)


def test_maxmsgsize_refuses_before_allocating(ctx, tracing):
    pull = ctx.socket(zmq.PULL)
    pull.maxmsgsize = 16 * MIB
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    tracemalloc.reset_peak()
    base = traced()
    c = raw_push(port)
    try:
        c.sendall(b"\x02" + struct.pack(">Q", 32 * MIB) + b"x" * 1000)
        c.settimeout(5)
        try:
            assert c.recv(100) == b""  # we hang up on it
        except ConnectionResetError:
            pass
    finally:
        c.close()
    assert tracemalloc.get_traced_memory()[1] - base < 8 * MIB  # the body never existed
    # a frame under the limit still goes through, by reference
    push = ctx.socket(zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    body = payload(12 * MIB, 7)
    push.send(body)
    pull.rcvtimeo = T_MS
    assert digest(pull.recv()) == digest(body)


@pytest.mark.parametrize("hwm", [2, 0])
def test_rcvhwm_counts_whole_huge_messages(ctx, hwm):
    push, pull = pair(ctx, "tcp://127.0.0.1:*", rcvhwm=hwm)
    bodies = [payload(BIG + i, i) for i in range(6)]
    for b in bodies:
        push.send(b)
    q = the_pipe(pull).bigin
    want = hwm or 6
    wait_until(lambda: q.pending == want, 10.0, f"{want} huge messages queued")
    time.sleep(0.2)
    assert q.pending == want  # at RCVHWM the engine stops reading: no third one
    assert [digest(pull.recv()) for _ in bodies] == [digest(b) for b in bodies]
    assert q.taken == 6


def test_sending_a_huge_body_copies_nothing(ctx, tracing):
    """The body goes to the kernel from the caller's bytes (a by-reference iovec)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    size = 64 * MIB
    body = payload(size, 3)
    sink = bytearray(size + 4096)
    push = ctx.socket(zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{lst.getsockname()[1]}")
    lst.settimeout(5)
    conn, _ = lst.accept()
    lst.close()
    got = [0]

    def reader():
        conn.settimeout(10)
        view = memoryview(sink)
        try:
            # bytes after READY that came in the handshake's last read are the message's
            lead = run_handshake(conn, Handshake(socket_type="PULL")).leftover
            view[: len(lead)] = lead
            got[0] = len(lead)
            while got[0] < size + 9:
                n = conn.recv_into(view[got[0] :])
                if not n:
                    break
                got[0] += n
        except OSError:
            pass

    t = threading.Thread(target=reader)
    t.start()
    try:
        tracemalloc.reset_peak()
        base = traced()
        push.send(body)
        wait_until(lambda: got[0] >= size + 9, 15.0, "the body on the wire")
        assert tracemalloc.get_traced_memory()[1] - base < 4 * MIB
    finally:
        conn.close()
        t.join(10)
    assert not t.is_alive()
    assert bytes(sink[:9]) == b"\x02" + struct.pack(">Q", size)
    assert digest(memoryview(sink)[9 : 9 + size]) == digest(body)


def test_huge_frame_arriving_with_the_handshake(ctx):
    """The peer's READY, a huge frame's header and the start of its body in one write: the
    engine gets them as the handshake's leftover (Engine._feed), then the rest by reads."""
    from fastzmq.zmtp.handshake import NEED_DATA

    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = T_MS
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    body = payload(BIG + 5, 11)
    frame = b"\x02" + struct.pack(">Q", len(body)) + body
    first = 48 * 1024  # with READY, in one write
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        hs = Handshake(socket_type="PUSH")
        c.sendall(hs.data_to_send())
        ev, sent_ready = NEED_DATA, False
        deadline = time.monotonic() + 5
        while not sent_ready and time.monotonic() < deadline:
            hs.receive_data(c.recv(65536))
            ev = hs.next_event()
            out = hs.data_to_send()
            if b"\x05READY" in out:
                out += frame[:first]
                sent_ready = True
            c.sendall(out)
        assert sent_ready, ev
        c.sendall(frame[first:])
        got = pull.recv()
        assert digest(got) == digest(body)
        assert taken(pull) == 1
    finally:
        c.close()

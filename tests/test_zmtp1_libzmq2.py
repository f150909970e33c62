"""Interop with a real ZMTP 1.0 peer: libzmq 2.2 (loaded with ctypes).

Runs when FASTZMQ_LIBZMQ2 names a libzmq 2.x shared object (tools/build_libzmq3.sh also
builds the zeromq2-x sources, with -luuid); skipped otherwise. A 1.0 connection runs
through fastzmq's framing relay (``_legacy``): round trips with long frames, a ROUTER
naming the peer by its 1.0 identity, a PUB serving a 2.x SUB (which sends no
subscriptions), and our connect to a binding 2.x socket."""

from __future__ import annotations

import ctypes
import os
import socket
import time

import pytest

import fastzmq as zmq

LIB = os.environ.get("FASTZMQ_LIBZMQ2")
pytestmark = pytest.mark.skipif(not LIB, reason="FASTZMQ_LIBZMQ2 (a libzmq 2.x .so) not set")

TIMEOUT_MS = 3000
TYPES = {"PAIR": 0, "PUB": 1, "SUB": 2, "REQ": 3, "REP": 4, "DEALER": 5, "ROUTER": 6}
TYPES.update({"PULL": 7, "PUSH": 8})
IDENTITY, SUBSCRIBE, RCVMORE, LINGER, RCVTIMEO, SNDMORE = 5, 6, 13, 17, 27, 2
MSG_T = 64  # >= sizeof(zmq_msg_t) in libzmq 2.x (40)


class Z2:
    """Just enough of libzmq 2.2's C API (message-based send/recv)."""

    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(path)
        vp, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
        lib.zmq_init.restype = vp
        lib.zmq_init.argtypes = [i]
        lib.zmq_socket.restype = vp
        lib.zmq_socket.argtypes = [vp, i]
        lib.zmq_connect.argtypes = lib.zmq_bind.argtypes = [vp, ctypes.c_char_p]
        lib.zmq_setsockopt.argtypes = [vp, i, vp, sz]
        lib.zmq_getsockopt.argtypes = [vp, i, vp, vp]
        lib.zmq_send.argtypes = lib.zmq_recv.argtypes = [vp, vp, i]
        lib.zmq_msg_init.argtypes = [vp]
        lib.zmq_msg_init_size.argtypes = [vp, sz]
        lib.zmq_msg_data.restype = vp
        lib.zmq_msg_data.argtypes = [vp]
        lib.zmq_msg_size.restype = sz
        lib.zmq_msg_size.argtypes = [vp]
        lib.zmq_msg_close.argtypes = [vp]
        lib.zmq_close.argtypes = [vp]
        lib.zmq_term.argtypes = [vp]
        major, minor, patch = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        lib.zmq_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch))
        self.version = (major.value, minor.value, patch.value)
        self.ctx = lib.zmq_init(1)

    def socket(self, kind, opts=None):
        s = self.lib.zmq_socket(self.ctx, TYPES[kind])
        for opt, value in ((LINGER, 0), (RCVTIMEO, TIMEOUT_MS)):
            v = ctypes.c_int(value)
            self.lib.zmq_setsockopt(s, opt, ctypes.byref(v), 4)
        for opt, value in (opts or {}).items():
            self.lib.zmq_setsockopt(s, opt, value, len(value))
        return s

    def send_multipart(self, s, frames):
        for n, f in enumerate(frames):
            m = ctypes.create_string_buffer(MSG_T)
            self.lib.zmq_msg_init_size(m, len(f))
            ctypes.memmove(self.lib.zmq_msg_data(m), f, len(f))
            assert self.lib.zmq_send(s, m, SNDMORE if n < len(frames) - 1 else 0) == 0
            self.lib.zmq_msg_close(m)

    def recv_multipart(self, s):
        out = []
        while True:
            m = ctypes.create_string_buffer(MSG_T)
            self.lib.zmq_msg_init(m)
            assert self.lib.zmq_recv(s, m, 0) == 0, "libzmq 2.2 recv timed out"
            out.append(ctypes.string_at(self.lib.zmq_msg_data(m), self.lib.zmq_msg_size(m)))
            self.lib.zmq_msg_close(m)
            more, size = ctypes.c_int64(), ctypes.c_size_t(8)
            self.lib.zmq_getsockopt(s, RCVMORE, ctypes.byref(more), ctypes.byref(size))
            if not more.value:
                return out

    def close(self, s):
        self.lib.zmq_close(s)

    def term(self):
        self.lib.zmq_term(self.ctx)


@pytest.fixture
def z2():
    z = Z2(LIB)
    assert z.version[0] == 2, z.version  # a ZMTP 1.0 peer, else this test proves nothing
    yield z
    z.term()


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


BIG = b"y" * 3000  # a 1.0 frame with the 0xFF + 8-byte length


@pytest.mark.parametrize(
    "ours_kind,theirs_kind",
    [("PAIR", "PAIR"), ("REP", "REQ"), ("ROUTER", "DEALER"), ("PULL", "PUSH")],
)
def test_round_trip_with_libzmq22(ctx, z2, ours_kind, theirs_kind):
    ours = ctx.socket(getattr(zmq, ours_kind))
    ours.linger, ours.rcvtimeo = 0, TIMEOUT_MS
    port = ours.bind_to_random_port("tcp://127.0.0.1")
    theirs = z2.socket(theirs_kind, {IDENTITY: b"old-id"} if ours_kind == "ROUTER" else None)
    try:
        assert z2.lib.zmq_connect(theirs, f"tcp://127.0.0.1:{port}".encode()) == 0
        z2.send_multipart(theirs, [b"hi", BIG])
        got = ours.recv_multipart()
        if ours_kind == "ROUTER":
            assert got == [b"old-id", b"hi", BIG]  # named by its 1.0 identity frame
            ours.send_multipart([b"old-id", b"back", BIG])
        else:
            assert got == [b"hi", BIG]
            if ours_kind == "PULL":
                return
            ours.send_multipart([b"back", BIG])
        assert z2.recv_multipart(theirs) == [b"back", BIG]
    finally:
        z2.close(theirs)


def test_pub_serves_libzmq22_sub(ctx, z2):
    """A 2.x SUB filters itself and sends no subscription: we publish all to it."""
    pub = ctx.socket(zmq.PUB)
    pub.linger = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    theirs = z2.socket("SUB", {SUBSCRIBE: b"ne"})
    try:
        assert z2.lib.zmq_connect(theirs, f"tcp://127.0.0.1:{port}".encode()) == 0
        v = ctypes.c_int(20)
        z2.lib.zmq_setsockopt(theirs, RCVTIMEO, ctypes.byref(v), 4)
        got, deadline = None, time.monotonic() + TIMEOUT_MS / 1000
        while got is None and time.monotonic() < deadline:
            pub.send_multipart([b"other"])
            pub.send_multipart([b"news", BIG])
            m = ctypes.create_string_buffer(MSG_T)
            z2.lib.zmq_msg_init(m)
            if z2.lib.zmq_recv(theirs, m, 0) == 0:
                got = ctypes.string_at(z2.lib.zmq_msg_data(m), z2.lib.zmq_msg_size(m))
            z2.lib.zmq_msg_close(m)
        assert got == b"news"  # (its own filter dropped "other")
    finally:
        z2.close(theirs)


def test_our_req_connects_to_libzmq22_rep(ctx, z2):
    theirs = z2.socket("REP")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    try:
        assert z2.lib.zmq_bind(theirs, f"tcp://127.0.0.1:{port}".encode()) == 0
        req = ctx.socket(zmq.REQ)
        req.linger, req.rcvtimeo = 0, TIMEOUT_MS
        req.connect(f"tcp://127.0.0.1:{port}")
        req.send_multipart([b"q", BIG])
        assert z2.recv_multipart(theirs) == [b"q", BIG]
        z2.send_multipart(theirs, [b"a"])
        assert req.recv() == b"a"
    finally:
        z2.close(theirs)

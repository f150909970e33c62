"""Interop with a real ZMTP 2.0 peer: libzmq 3.2 (loaded with ctypes).

Runs when FASTZMQ_LIBZMQ3 names a libzmq 3.x shared object (tools/build_libzmq3.sh
builds one from the zeromq3-x sources in ~15 s); skipped otherwise. Every classic socket
pair, each side binding in turn: a round trip, and PUB/SUB filtering with libzmq 3.2's
subscription messages."""

from __future__ import annotations

import ctypes
import os
import time

import pytest

import fastzmq as zmq

LIB = os.environ.get("FASTZMQ_LIBZMQ3")
pytestmark = pytest.mark.skipif(not LIB, reason="FASTZMQ_LIBZMQ3 (a libzmq 3.x .so) not set")

TIMEOUT_MS = 3000
# libzmq 3.2's numbers (zmq.h)
TYPES = {"PAIR": 0, "PUB": 1, "SUB": 2, "REQ": 3, "REP": 4, "DEALER": 5, "ROUTER": 6}
TYPES.update({"PULL": 7, "PUSH": 8, "XPUB": 9, "XSUB": 10})
IDENTITY, SUBSCRIBE, RCVMORE, LINGER, RCVTIMEO, SNDMORE = 5, 6, 13, 17, 27, 2


class Z3:
    """Just enough of libzmq 3.2's C API."""

    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(path)
        lib.zmq_ctx_new.restype = ctypes.c_void_p
        lib.zmq_socket.restype = ctypes.c_void_p
        lib.zmq_socket.argtypes = [ctypes.c_void_p, ctypes.c_int]
        for name in ("zmq_bind", "zmq_connect"):
            getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.zmq_setsockopt.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_size_t,
        ]
        lib.zmq_getsockopt.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.zmq_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
        lib.zmq_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        lib.zmq_close.argtypes = [ctypes.c_void_p]
        lib.zmq_ctx_destroy.argtypes = [ctypes.c_void_p]
        self.ctx = lib.zmq_ctx_new()
        major, minor, patch = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        lib.zmq_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch))
        self.version = (major.value, minor.value, patch.value)

    def socket(self, kind, opts=None):
        s = self.lib.zmq_socket(self.ctx, TYPES[kind])
        self.setint(s, LINGER, 0)
        self.setint(s, RCVTIMEO, TIMEOUT_MS)
        for opt, value in (opts or {}).items():
            self.lib.zmq_setsockopt(s, opt, value, len(value))
        return s

    def setint(self, s, opt, value):
        v = ctypes.c_int(value)
        assert self.lib.zmq_setsockopt(s, opt, ctypes.byref(v), ctypes.sizeof(v)) == 0

    def send_multipart(self, s, frames):
        for i, f in enumerate(frames):
            flags = SNDMORE if i < len(frames) - 1 else 0
            assert self.lib.zmq_send(s, f, len(f), flags) == len(f)

    def recv_multipart(self, s):
        frames, buf = [], ctypes.create_string_buffer(65536)
        while True:
            n = self.lib.zmq_recv(s, buf, len(buf), 0)
            assert n >= 0, "libzmq 3.2 recv timed out"
            frames.append(buf.raw[:n])
            more, size = ctypes.c_int(), ctypes.c_size_t(ctypes.sizeof(ctypes.c_int))
            self.lib.zmq_getsockopt(s, RCVMORE, ctypes.byref(more), ctypes.byref(size))
            if not more.value:
                return frames

    def close(self, s):
        self.lib.zmq_close(s)

    def term(self):
        self.lib.zmq_ctx_destroy(self.ctx)


@pytest.fixture
def z3():
    z = Z3(LIB)
    assert z.version[0] == 3, z.version  # a ZMTP 2.0 peer, else this test proves nothing
    yield z
    z.term()


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _ours(ctx, kind, **opts):
    s = ctx.socket(getattr(zmq, kind))
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = TIMEOUT_MS
    for k, v in opts.items():
        setattr(s, k, v)
    return s


def _wire(ctx, z3, ours_kind, theirs_kind, we_bind, ours_opts=None, theirs_opts=None):
    ours = _ours(ctx, ours_kind, **(ours_opts or {}))
    theirs = z3.socket(theirs_kind, theirs_opts)
    if we_bind:
        port = ours.bind_to_random_port("tcp://127.0.0.1")
        assert z3.lib.zmq_connect(theirs, f"tcp://127.0.0.1:{port}".encode()) == 0
    else:
        import socket

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        assert z3.lib.zmq_bind(theirs, f"tcp://127.0.0.1:{port}".encode()) == 0
        ours.connect(f"tcp://127.0.0.1:{port}")
    return ours, theirs


# (ours, theirs, first sender, frames): the other side answers with reversed frames
PAIRS = [
    ("PAIR", "PAIR", "ours"),
    ("PAIR", "PAIR", "theirs"),
    ("PUSH", "PULL", "ours"),
    ("PULL", "PUSH", "theirs"),
    ("REQ", "REP", "ours"),
    ("REP", "REQ", "theirs"),
    ("DEALER", "ROUTER", "ours"),
    ("ROUTER", "DEALER", "theirs"),
    ("DEALER", "DEALER", "ours"),
    ("ROUTER", "REQ", "theirs"),
    ("REQ", "ROUTER", "ours"),
    ("DEALER", "REP", "ours"),
]


def _envelope(kind):
    """What a REQ/REP socket adds to what its user sends, seen on the wire."""
    return [b""] if kind in ("REQ", "REP") else []


@pytest.mark.parametrize("we_bind", [True, False], ids=["we-bind", "we-connect"])
@pytest.mark.parametrize(
    "ours_kind,theirs_kind,first", PAIRS, ids=[f"{a}-{b}" for a, b, _ in PAIRS]
)
def test_round_trip_with_libzmq32(ctx, z3, ours_kind, theirs_kind, first, we_bind):
    ours, theirs = _wire(
        ctx, z3, ours_kind, theirs_kind, we_bind, theirs_opts={IDENTITY: b"z3-peer"}
    )
    big = b"x" * 3000  # a LONG frame (8-byte size) both ways
    payload = [b"hello", big]
    try:
        if first == "ours":
            # a DEALER talking to a REP writes the REP's envelope itself
            sent = (_envelope(theirs_kind) if ours_kind == "DEALER" else []) + payload
            ours.send_multipart(sent)
            got = z3.recv_multipart(theirs)
            if theirs_kind == "ROUTER":
                assert len(got[0]) == 5 and got[1:] == _envelope(ours_kind) + payload
                z3.send_multipart(theirs, got[:-2] + payload[::-1])
            else:
                assert got == (payload if theirs_kind == "REP" else sent)
                if ours_kind == "PUSH":
                    return
                z3.send_multipart(theirs, payload[::-1])
            back = ours.recv_multipart()
            pad = _envelope(theirs_kind) if ours_kind == "DEALER" else []
            assert back == pad + payload[::-1]
        else:
            z3.send_multipart(theirs, payload)
            got = ours.recv_multipart()
            if ours_kind == "ROUTER":
                # its identity frame names it, as libzmq 3.2 sent it in the 2.0 greeting
                assert got == [b"z3-peer"] + _envelope(theirs_kind) + payload
                ours.send_multipart(got[:-2] + payload[::-1])
            else:
                assert got == payload
                if ours_kind == "PULL":
                    return
                ours.send_multipart(payload[::-1])
            assert z3.recv_multipart(theirs) == payload[::-1]
    finally:
        z3.close(theirs)


@pytest.mark.parametrize(
    "pub_kind,we_bind",
    [
        ("PUB", True),
        ("PUB", False),
        ("XPUB", True),
        ("XPUB", False),
    ],
)
def test_our_pub_filters_for_libzmq32_sub(ctx, z3, pub_kind, we_bind):
    ours, theirs = _wire(ctx, z3, pub_kind, "SUB", we_bind, theirs_opts={SUBSCRIBE: b"top"})
    try:
        if pub_kind == "XPUB":
            # libzmq sends a binding SUB's subscriptions once its socket thread handles
            # the new pipe, i.e. inside a call on that socket; a connecting XPUB (ours,
            # and libzmq 4.3.5's alike) reads them at its next send: so both sides act
            z3.setint(theirs, RCVTIMEO, 20)
            buf = ctypes.create_string_buffer(100)
            ours.rcvtimeo = 20
            sub_msg = None
            end = time.monotonic() + TIMEOUT_MS / 1000
            while sub_msg is None and time.monotonic() < end:
                z3.lib.zmq_recv(theirs, buf, 100, 0)  # "other" is filtered out: EAGAIN
                ours.send(b"other")
                try:
                    sub_msg = ours.recv()
                except zmq.Again:
                    pass
            assert sub_msg == b"\x01top"  # libzmq 3.2's subscription message
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        z3.setint(theirs, RCVTIMEO, 50)
        buf = ctypes.create_string_buffer(100)
        got = b""
        while not got and time.monotonic() < deadline:
            ours.send(b"other")
            ours.send(b"top-1")
            n = z3.lib.zmq_recv(theirs, buf, 100, 0)
            if n >= 0:
                got = buf.raw[:n]
        assert got == b"top-1"
    finally:
        z3.close(theirs)


@pytest.mark.parametrize("we_bind", [True, False], ids=["we-bind", "we-connect"])
@pytest.mark.parametrize("sub_kind", ["SUB", "XSUB"])
def test_our_sub_with_libzmq32_pub(ctx, z3, sub_kind, we_bind):
    ours, theirs = _wire(ctx, z3, sub_kind, "XPUB", we_bind)
    try:
        if sub_kind == "SUB":
            ours.subscribe(b"t")
        else:
            ours.send(b"\x01t")
        # (our socket learns of the connection at its next call, as libzmq's: poll it)
        z3.setint(theirs, RCVTIMEO, 20)
        buf = ctypes.create_string_buffer(100)
        got, deadline = -1, time.monotonic() + TIMEOUT_MS / 1000
        while got < 0 and time.monotonic() < deadline:
            ours.poll(10)
            got = z3.lib.zmq_recv(theirs, buf, 100, 0)
        assert buf.raw[: max(got, 0)] == b"\x01t"  # the XPUB got our 2.0 subscription
        z3.send_multipart(theirs, [b"x-no"])
        z3.send_multipart(theirs, [b"t-yes"])
        assert ours.recv() == b"t-yes" if sub_kind == "SUB" else ours.recv() in (b"x-no", b"t-yes")
    finally:
        z3.close(theirs)


def test_plain_socket_refuses_libzmq32(ctx, z3):
    ours = _ours(ctx, "PULL", plain_server=True)
    mon = ours.get_monitor_socket()
    port = ours.bind_to_random_port("tcp://127.0.0.1")
    theirs = z3.socket("PUSH")
    try:
        assert z3.lib.zmq_connect(theirs, f"tcp://127.0.0.1:{port}".encode()) == 0
        from fastzmq.utils.monitor import recv_monitor_message

        deadline = time.monotonic() + TIMEOUT_MS / 1000
        seen = None
        while seen is None and time.monotonic() < deadline:
            if mon.poll(50):
                ev = recv_monitor_message(mon)
                if ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
                    seen = ev["value"]
        assert seen == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
    finally:
        z3.close(theirs)
        mon.close()

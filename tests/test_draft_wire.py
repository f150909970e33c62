"""The draft types on the wire, against hand-made ZMTP 3.1 peers (no libzmq needed):
RADIO's group frame and DISH's JOIN/LEAVE commands (RFC 48 over ZMTP), SERVER's and
GATHER's dropping of multipart messages (the draft types are single-part)."""

from __future__ import annotations

import socket
import time

import fastzmq as zmq
from fastzmq.zmtp.handshake import Handshake
from zmtp_peer import TIMEOUT, run_handshake


def _raw_peer(port: int, socket_type: str) -> socket.socket:
    c = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    run_handshake(c, Handshake(socket_type=socket_type))
    return c


def _frame(body: bytes, flags: int = 0) -> bytes:
    assert len(body) < 256
    return bytes([flags, len(body)]) + body


def _read_exact(c: socket.socket, n: int, out: bytes = b"") -> bytes:
    while len(out) < n:
        chunk = c.recv(n - len(out))
        assert chunk, "connection closed"
        out += chunk
    return out


def test_radio_writes_group_frame_then_body_to_a_joined_dish(ctx):
    radio = ctx.socket(zmq.RADIO)
    port = radio.bind_to_random_port("tcp://127.0.0.1")
    c = _raw_peer(port, "DISH")
    try:
        c.sendall(_frame(b"\x04JOINweather", 0x04))  # a JOIN command
        deadline = time.monotonic() + TIMEOUT
        c.settimeout(0.02)
        got = b""
        while not got:  # the JOIN reaches the RADIO asynchronously: send until one arrives
            assert time.monotonic() < deadline
            radio.send(b"other", group="sport")
            radio.send(b"rain", group="weather")
            try:
                got = c.recv(64)
            except socket.timeout:
                pass
        c.settimeout(TIMEOUT)
        want = _frame(b"weather", 0x01) + _frame(b"rain")  # group (MORE), then the body
        got += _read_exact(c, max(0, len(want) - len(got)))
        assert got[: len(want)] == want
        c.sendall(_frame(b"\x05LEAVEweather", 0x04))
    finally:
        c.close()


def test_dish_sends_join_and_leave_commands(ctx):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    dish = ctx.socket(zmq.DISH)
    dish.join("a")
    dish.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
    c, _ = listener.accept()
    try:
        c.settimeout(TIMEOUT)
        done = run_handshake(c, Handshake(socket_type="RADIO"))
        want = _frame(b"\x04JOINa", 0x04)
        assert _read_exact(c, len(want), done.leftover) == want
        dish.join("bb")
        dish.leave("a")
        want = _frame(b"\x04JOINbb", 0x04) + _frame(b"\x05LEAVEa", 0x04)
        assert _read_exact(c, len(want)) == want
        c.sendall(_frame(b"bb", 0x01) + _frame(b"hello"))
        dish.rcvtimeo = 2000
        f = dish.recv(copy=False)
        assert (f.group, f.bytes) == ("bb", b"hello")
    finally:
        c.close()
        listener.close()


def test_single_part_sockets_drop_multipart_messages(ctx):
    for ours, theirs in ((zmq.SERVER, "CLIENT"), (zmq.GATHER, "SCATTER"), (zmq.CLIENT, "SERVER")):
        sock = ctx.socket(ours)
        sock.rcvtimeo = 2000
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        c = _raw_peer(port, theirs)
        try:
            c.sendall(_frame(b"part1", 0x01) + _frame(b"part2") + _frame(b"solo"))
            assert sock.recv() == b"solo"
        finally:
            c.close()

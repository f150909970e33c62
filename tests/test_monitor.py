"""The socket monitor: libzmq's events, values and two-frame format.

Sequences are checked against what libzmq 4.3.5 emits for the same story (see the
comments); the libzmq-compatibility tests run the very same raw peer against a pyzmq
socket and against ours and compare the events.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
import time

import pytest

import fastzmq as zmq
import fastzmq.asyncio as zasyncio
from fastzmq.utils.monitor import parse_monitor_message, recv_monitor_message

E = zmq.Event


def events(mon, until=None, timeout=2.0):
    """Read events until one of type ``until`` (or until quiet for 0.3 s)."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not mon.poll(300 if until is None else 100):
            if until is None:
                break
            continue
        ev = recv_monitor_message(mon)
        got.append(ev)
        if until is not None and ev["event"] == until:
            break
    return got


def kinds(evs):
    return [E(e["event"]).name for e in evs]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_wire_format_is_libzmqs(ctx):
    """Two frames: 6 bytes (little-endian uint16 event, uint32 value), then the endpoint."""
    pull = ctx.socket(zmq.PULL)
    mon = pull.get_monitor_socket(zmq.EVENT_LISTENING)
    pull.bind("tcp://127.0.0.1:*")
    mon.rcvtimeo = 2000
    head, endpoint = mon.recv_multipart()
    assert len(head) == 6
    event, value = struct.unpack("<HI", head)
    assert event == zmq.EVENT_LISTENING
    assert value > 2  # the listening socket's fd
    assert endpoint == pull.last_endpoint


def test_pyzmq_parse_reads_our_events(ctx):
    pyzmq_monitor = pytest.importorskip("zmq.utils.monitor")
    pull = ctx.socket(zmq.PULL)
    mon = pull.get_monitor_socket()
    pull.bind("tcp://127.0.0.1:*")
    mon.rcvtimeo = 2000
    ev = pyzmq_monitor.parse_monitor_message(mon.recv_multipart())
    assert int(ev["event"]) == zmq.EVENT_LISTENING
    assert ev["endpoint"] == pull.last_endpoint


def test_connect_and_accept_sequences(ctx):
    pull = ctx.socket(zmq.PULL)
    mpull = pull.get_monitor_socket()
    push = ctx.socket(zmq.PUSH)
    mpush = push.get_monitor_socket()
    pull.bind("tcp://127.0.0.1:*")
    ep = pull.last_endpoint
    push.connect(ep.decode())
    push.send(b"hi")
    pull.rcvtimeo = 2000
    assert pull.recv() == b"hi"
    # libzmq: connecter CONNECT_DELAYED(EINPROGRESS), CONNECTED(fd), HANDSHAKE_SUCCEEDED(0)
    c = events(mpush, until=zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert kinds(c) == ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]
    assert c[0]["value"] == errno.EINPROGRESS
    assert c[1]["value"] > 2 and c[2]["value"] == 0
    assert all(e["endpoint"] == ep for e in c)
    # libzmq: binder LISTENING(fd), ACCEPTED(fd), HANDSHAKE_SUCCEEDED(0)
    b = events(mpull, until=zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert kinds(b) == ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    assert b[0]["value"] != b[1]["value"]
    # the peer goes: the accepted connection reports DISCONNECTED with its own fd
    push.close(linger=0)
    d = events(mpull, until=zmq.EVENT_DISCONNECTED)
    assert kinds(d) == ["DISCONNECTED"]
    assert d[0]["value"] == b[1]["value"]
    # closing the socket: the listener's CLOSED (its LISTENING fd), then MONITOR_STOPPED
    pull.close()
    z = events(mpull, until=zmq.EVENT_MONITOR_STOPPED)
    assert kinds(z) == ["CLOSED", "MONITOR_STOPPED"]
    assert z[0]["value"] == b[0]["value"]
    assert z[1]["endpoint"] == b""


def test_refused_connect_retries(ctx):
    push = ctx.socket(zmq.PUSH)
    push.reconnect_ivl = 40
    mon = push.get_monitor_socket()
    push.connect(f"tcp://127.0.0.1:{free_port()}")
    got = []
    deadline = time.monotonic() + 3
    while kinds(got).count("CONNECT_RETRIED") < 2 and time.monotonic() < deadline:
        got += events(mon, until=zmq.EVENT_CONNECT_RETRIED)
    # libzmq: CONNECT_DELAYED(EINPROGRESS), CLOSED(fd), CONNECT_RETRIED(interval ms), again
    assert kinds(got)[:6] == ["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"] * 2
    assert got[0]["value"] == errno.EINPROGRESS
    assert got[2]["value"] == 40


def test_reconnect_after_peer_loss(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    ep = pull.last_endpoint.decode()
    push = ctx.socket(zmq.PUSH)
    push.reconnect_ivl = 30
    mon = push.get_monitor_socket()
    push.connect(ep)
    first = events(mon, until=zmq.EVENT_HANDSHAKE_SUCCEEDED)
    fd = first[1]["value"]
    pull.unbind(ep)  # drops the listener and its connections
    # libzmq: DISCONNECTED(fd of the connection), then CONNECT_RETRIED(ivl)
    got = events(mon, until=zmq.EVENT_CONNECT_RETRIED)
    assert kinds(got) == ["DISCONNECTED", "CONNECT_RETRIED"]
    assert got[0]["value"] == fd and got[1]["value"] == 30


def test_unbind_reports_closed(ctx):
    pull = ctx.socket(zmq.PULL)
    mon = pull.get_monitor_socket()
    pull.bind("tcp://127.0.0.1:*")
    ep = pull.last_endpoint
    (listening,) = events(mon, until=zmq.EVENT_LISTENING)
    pull.unbind(ep)
    (closed,) = events(mon, until=zmq.EVENT_CLOSED)
    assert closed["value"] == listening["value"] and closed["endpoint"] == ep


def test_ipc_events(ctx, tmp_path):
    pull = ctx.socket(zmq.PULL)
    mon = pull.get_monitor_socket()
    addr = f"ipc://{tmp_path}/m.ipc"
    pull.bind(addr)
    push = ctx.socket(zmq.PUSH)
    push.connect(addr)
    got = events(mon, until=zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert kinds(got) == ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    assert all(e["endpoint"] == addr.encode() for e in got)


def test_bind_failed(ctx):
    a = ctx.socket(zmq.PULL)
    a.bind("tcp://127.0.0.1:*")
    b = ctx.socket(zmq.PULL)
    mon = b.get_monitor_socket()
    with pytest.raises(zmq.ZMQError):
        b.bind(a.last_endpoint.decode())
    (ev,) = events(mon, until=zmq.EVENT_BIND_FAILED)
    assert ev["event"] == zmq.EVENT_BIND_FAILED and ev["value"] == errno.EADDRINUSE
    assert ev["endpoint"] == a.last_endpoint


def test_event_mask_filters(ctx):
    pull = ctx.socket(zmq.PULL)
    mon = pull.get_monitor_socket(zmq.EVENT_ACCEPTED)
    pull.bind("tcp://127.0.0.1:*")
    push = ctx.socket(zmq.PUSH)
    push.connect(pull.last_endpoint.decode())
    got = events(mon, until=zmq.EVENT_ACCEPTED)
    got += events(mon)  # anything else would arrive within the quiet period
    assert kinds(got) == ["ACCEPTED"]


def test_disable_monitor_sends_stopped_and_closes(ctx):
    pull = ctx.socket(zmq.PULL)
    mon = pull.get_monitor_socket()
    assert pull.get_monitor_socket() is mon  # already monitoring: the same PAIR
    pull.disable_monitor()
    assert kinds(events(mon, until=zmq.EVENT_MONITOR_STOPPED)) == ["MONITOR_STOPPED"]
    pull.bind("tcp://127.0.0.1:*")
    assert events(mon) == []  # nothing after the monitor stopped


def test_monitor_address_checks(ctx):
    s = ctx.socket(zmq.PUSH)
    with pytest.raises(zmq.ZMQError) as info:
        s.monitor("tcp://127.0.0.1:5555")
    assert info.value.errno == zmq.EPROTONOSUPPORT
    with pytest.raises(zmq.ZMQError) as info:
        s.monitor("inproc://m-bad-events", 1 << 20)
    assert info.value.errno == zmq.EINVAL
    s.monitor(None)  # not monitoring: nothing to stop


def test_parse_rejects_malformed():
    with pytest.raises(RuntimeError):
        parse_monitor_message([b"\x01\x00"])
    ev = parse_monitor_message([struct.pack("<HI", zmq.EVENT_CONNECTED, 9), b"tcp://x:1"])
    assert ev == {"event": zmq.EVENT_CONNECTED, "value": 9, "endpoint": b"tcp://x:1"}


# ------------------------------------------------------------ handshake failures vs libzmq
_GREETING = b"\xff" + bytes(8) + b"\x7f\x03\x01"
_PEERS = {
    # libzmq takes a non-ZMTP-3 greeting for ZMTP 1.0 and fails without detail
    "garbage": (b"GET / HTTP/1.1\r\n\r\n" + b"x" * 64, "HANDSHAKE_FAILED_NO_DETAIL"),
    # a mechanism we do not run: PROTOCOL with ZMTP_MECHANISM_MISMATCH
    "mechanism": (
        _GREETING + b"PLAIN".ljust(20, b"\0") + b"\0" + bytes(31),
        "HANDSHAKE_FAILED_PROTOCOL",
    ),
}


def _raw_peer_events(zmod, payload):
    """Accept one raw peer that sends payload then leaves; the events (name, value)."""
    c = zmod.Context()
    try:
        s = c.socket(zmod.PULL)
        s.linger = 0
        mon = s.get_monitor_socket()
        mon.linger = 0
        port = s.bind_to_random_port("tcp://127.0.0.1")
        peer = socket.create_connection(("127.0.0.1", port), timeout=2)
        peer.sendall(payload)
        got = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and "DISCONNECTED" not in [g[0] for g in got]:
            if mon.poll(100):
                head, _ = mon.recv_multipart()
                ev, value = struct.unpack("<HI", head)
                got.append((E(ev).name, value))
            elif not got or got[-1][0] == "ACCEPTED":
                peer.close()  # libzmq waits for more of a 1.0 peer: leave
        peer.close()
        s.close()
        mon.close()
        return [g for g in got if g[0] != "LISTENING"]
    finally:
        c.term()


@pytest.mark.parametrize("story", sorted(_PEERS))
def test_handshake_failures_match_libzmq(story):
    pyzmq = pytest.importorskip("zmq")
    payload, expected = _PEERS[story]
    ours = _raw_peer_events(zmq, payload)
    theirs = _raw_peer_events(pyzmq, payload)
    assert [k for k, _ in ours] == ["ACCEPTED", expected, "DISCONNECTED"], ours
    assert [k for k, _ in theirs] == [k for k, _ in ours], (theirs, ours)
    if expected == "HANDSHAKE_FAILED_PROTOCOL":
        assert ours[1][1] == theirs[1][1] == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH


def test_asyncio_monitor_socket():
    async def main():
        c = zasyncio.Context()
        try:
            s = c.socket(zmq.PULL)
            mon = s.get_monitor_socket()
            assert isinstance(mon, zasyncio.Socket)
            s.bind("tcp://127.0.0.1:*")
            ev = await asyncio.wait_for(recv_monitor_message(mon), 2)
            assert ev["event"] == zmq.EVENT_LISTENING
            s.close(linger=0)
            ev = await asyncio.wait_for(recv_monitor_message(mon), 2)
            assert ev["event"] == zmq.EVENT_CLOSED
            ev = await asyncio.wait_for(recv_monitor_message(mon), 2)
            assert ev["event"] == zmq.EVENT_MONITOR_STOPPED
            mon.close(linger=0)
        finally:
            c.term()

    asyncio.run(asyncio.wait_for(main(), 10))


def test_destroy_with_monitor_does_not_hang():
    c = zmq.Context()
    s = c.socket(zmq.PUSH)
    mon = s.get_monitor_socket()
    s.connect(f"tcp://127.0.0.1:{free_port()}")
    mon.poll(200)
    c.destroy(linger=0)  # closes the monitor PAIR too, whatever the order
    assert s.closed and mon.closed

"""A closed socket is freed by reference counting, not left to the cyclic GC.

A socket's pipes hold its wake-up waiters alive (their rings' reader and writer), so
anything the socket keeps pointing at a pipe after close() is a reference cycle: the
socket, its pipes and their ring chunks (64 KiB each) then wait for a GC pass, and with
the GC disabled, as some applications run, they are never freed. Each case below runs
with the GC off, closes both sockets and terminates their context, and checks that
nothing of them is left.
"""

from __future__ import annotations

import gc
import time
import weakref

import pytest

import fastzmq as zmq

TIMEOUT_MS = 5000


def _exchange(a, b) -> None:
    """One message from a to b (and the reply where the pattern has one)."""
    kind = a.socket_type
    if kind in (zmq.PUB, zmq.XPUB, zmq.RADIO):
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while True:  # (until the subscription or join has arrived)
            if kind == zmq.RADIO:
                a.send(b"m", group="g")
            else:
                a.send(b"m")
            if b.poll(50):
                b.recv()
                return
            assert time.monotonic() < deadline, "no message through"
    if kind == zmq.SERVER:  # (a SERVER answers: the CLIENT speaks first)
        b.send(b"hello")
        frame = a.recv(copy=False)
        a.send(b"back", routing_id=frame.routing_id)
        assert b.recv() == b"back"
        return
    if kind == zmq.DEALER and b.socket_type == zmq.REP:
        a.send_multipart([b"", b"hello"])  # (the envelope a REP expects)
        assert b.recv() == b"hello"
        b.send(b"back")
        assert a.recv_multipart() == [b"", b"back"]
        return
    a.send(b"hello")
    if b.socket_type in (zmq.ROUTER, zmq.STREAM):
        b.recv_multipart()
        return
    assert b.recv() == b"hello"
    if kind == zmq.REQ:
        b.send(b"back")
        assert a.recv() == b"back"


PAIRS = [
    ("REQ", "REP"),
    ("DEALER", "ROUTER"),
    ("DEALER", "REP"),
    ("REQ", "ROUTER"),
    ("PUSH", "PULL"),
    ("PAIR", "PAIR"),
    ("PUB", "SUB"),
    ("XPUB", "XSUB"),
]
DRAFT_PAIRS = [("SERVER", "CLIENT"), ("RADIO", "DISH"), ("SCATTER", "GATHER")]


def _ids(pair) -> str:
    return "-".join(pair)


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
@pytest.mark.parametrize("binder_first", [True, False], ids=["a-binds", "b-binds"])
@pytest.mark.parametrize("pair", PAIRS + DRAFT_PAIRS, ids=_ids)
def test_a_closed_socket_needs_no_gc(pair, transport, binder_first, tmp_path):
    if pair in DRAFT_PAIRS and not zmq.has("draft"):
        pytest.skip("draft socket types not built")
    gc.collect()
    gc.disable()
    try:
        refs = _run_pair(pair, transport, binder_first, tmp_path)
        leftovers = [r() for r in refs if r() is not None]
        assert not leftovers, leftovers
    finally:
        gc.enable()


def _run_pair(pair, transport, binder_first, tmp_path) -> list:
    ctx = zmq.Context()
    a = ctx.socket(getattr(zmq, pair[0]))
    b = ctx.socket(getattr(zmq, pair[1]))
    for s in (a, b):
        s.linger = 0
        s.rcvtimeo = s.sndtimeo = TIMEOUT_MS
    if b.socket_type == zmq.SUB:
        b.subscribe(b"")
    if b.socket_type == zmq.XSUB:
        b.send(b"\x01")  # (subscribe to everything)
    if b.socket_type == zmq.DISH:
        b.join("g")
    binder, connecter = (a, b) if binder_first else (b, a)
    if transport == "tcp":
        port = binder.bind_to_random_port("tcp://127.0.0.1")
        connecter.connect(f"tcp://127.0.0.1:{port}")
    elif transport == "ipc":
        path = tmp_path / "s"
        binder.bind(f"ipc://{path}")
        connecter.connect(f"ipc://{path}")
    else:
        binder.bind("inproc://lifetime")
        connecter.connect("inproc://lifetime")
    _exchange(a, b)
    refs = [weakref.ref(a), weakref.ref(b)]
    a.close()
    b.close()
    ctx.term()  # (every connection torn down: the I/O thread holds none of their pipes)
    del a, b, binder, connecter
    return refs

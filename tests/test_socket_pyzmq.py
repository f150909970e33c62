"""Socket behaviours as pyzmq: recv_into, trackers, multipart SNDMORE, errors, repr, poll."""

from __future__ import annotations

import array
import asyncio
import errno
import gc
import os
import time

import pytest

import fastzmq as zmq
import fastzmq.asyncio as azmq

T_MS = 5000


@pytest.fixture
def pair(ctx):
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    a.bind("inproc://sp-pair")
    b.connect("inproc://sp-pair")
    b.rcvtimeo = T_MS
    return a, b


def test_recv_into_fills_truncates_and_reports_length(pair):
    a, b = pair
    a.send_multipart([b"hello", b"there world", b"part 3", b"gone"])
    buf = array.array("Q", [0])  # itemsize 8: counted in bytes
    assert b.recv_into(buf) == 5 and buf.tobytes()[:5] == b"hello"
    small = bytearray(4)
    assert b.recv_into(small) == 11 and small == b"ther"
    ten = bytearray(10)
    assert b.recv_into(ten, nbytes=4) == 6 and ten == b"part" + bytes(6)
    empty = bytearray(3)
    assert b.recv_into(memoryview(empty)[:0]) == 4 and empty == bytes(3)


def test_recv_into_rejects_bad_buffers(pair):
    _, b = pair
    with pytest.raises(ValueError):
        b.recv_into(bytearray(4), nbytes=-1)
    with pytest.raises(ValueError):
        b.recv_into(bytearray(4), nbytes=5)
    with pytest.raises(BufferError):
        b.recv_into(memoryview(b"readonly"))
    with pytest.raises(BufferError):
        b.recv_into(memoryview(bytearray(8))[::2])
    with pytest.raises(TypeError):
        b.recv_into(object())
    with pytest.raises(zmq.Again):
        b.recv_into(bytearray(4), flags=zmq.DONTWAIT)


def test_asyncio_recv_into(ctx):
    async def main():
        actx = azmq.Context.shadow(ctx)
        a, b = actx.socket(zmq.PAIR), actx.socket(zmq.PAIR)
        try:
            a.bind("inproc://sp-async")
            b.connect("inproc://sp-async")
            buf = bytearray(8)
            fut = b.recv_into(buf)
            await a.send(b"async!")
            assert await asyncio.wait_for(fut, 5) == 6 and buf[:6] == b"async!"
        finally:
            a.close(0)
            b.close(0)

    asyncio.run(main())


def test_send_multipart_with_sndmore_keeps_the_message_open(pair):
    a, b = pair
    a.send_multipart([b"1", b"2"], flags=zmq.SNDMORE)
    with pytest.raises(zmq.Again):
        b.recv(zmq.DONTWAIT)  # nothing complete yet
    a.send(b"3")
    assert b.recv_multipart() == [b"1", b"2", b"3"]


def test_tracker_waits_for_the_bytes_to_leave(ctx):
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    port = _free_port()
    push.connect(f"tcp://127.0.0.1:{port}")  # nobody there yet: the message stays queued
    assert push.send(b"small", copy=False, track=True) is zmq._FINISHED_TRACKER
    push.copy_threshold = 0
    tracker = push.send_multipart([b"zero", b"copy"], copy=False, track=True)
    assert not tracker.done
    with pytest.raises(zmq.NotDone):
        tracker.wait(0.05)
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = T_MS
    pull.bind(f"tcp://127.0.0.1:{port}")
    assert pull.recv_multipart()[0] == b"small"
    assert pull.recv_multipart() == [b"zero", b"copy"]
    tracker.wait(5)
    assert tracker.done


def test_frame_tracker_needs_the_frame_gone(pair):
    a, b = pair
    a.copy_threshold = 0
    frame = zmq.Frame(b"tracked", copy=False, track=True)
    tracker = a.send(frame, copy=False)  # a Frame's tracker even without track=True
    assert b.recv() == b"tracked"
    assert not tracker.done  # the Frame still exists
    del frame
    gc.collect()
    tracker.wait(5)
    with pytest.raises(ValueError):
        a.send(zmq.Frame(b"x"), copy=False, track=True)


def test_errors_name_the_endpoint(ctx):
    s = ctx.socket(zmq.PUSH)
    for call, url in ((s.bind, "tcp://1.2.3.4.5:1234567"), (s.connect, "noproc://x/y")):
        with pytest.raises(zmq.ZMQError) as e:
            call(url)
        assert url in str(e.value)
    long_path = "ipc://" + "a" * (zmq.IPC_PATH_MAX_LEN + 1)
    with pytest.raises(zmq.ZMQError) as e:
        s.bind(long_path)
    assert e.value.errno == errno.ENAMETOOLONG and str(zmq.IPC_PATH_MAX_LEN) in str(e.value)


def test_repr_as_pyzmq(ctx):
    s = ctx.socket(zmq.PUSH)
    assert "fastzmq.Socket(zmq.PUSH)" in repr(s) and "closed" not in repr(s)
    bound = s.bind("inproc://sp-repr")
    assert "bind='inproc://sp-repr'" in repr(bound)
    s.close()
    assert repr(s).endswith("closed>")


def test_pub_never_reports_pollin(ctx):
    pub, sub = ctx.socket(zmq.PUB), ctx.socket(zmq.SUB)
    pub.bind("inproc://sp-pub")
    sub.connect("inproc://sp-pub")
    sub.subscribe(b"")
    assert sub.wait_subscribed(T_MS)  # the subscription is queued inbound at the PUB
    assert pub.EVENTS == zmq.POLLOUT
    assert dict(zmq.Poller().poll(0)) == {}
    p = zmq.Poller()
    p.register(pub, zmq.POLLIN | zmq.POLLOUT)
    assert p.poll(0) == [(pub, zmq.POLLOUT)]


def test_poller_reports_file_objects_by_fd():
    r, w = os.pipe()
    with os.fdopen(r, "rb") as rf, os.fdopen(w, "wb") as wf:
        p = zmq.Poller()
        p.register(rf, zmq.POLLIN)
        assert p.poll(0) == []
        wf.write(b"x")
        wf.flush()
        assert p.poll(T_MS) == [(rf.fileno(), zmq.POLLIN)]
        assert zmq.select([rf], [], [], 1) == ([rf.fileno()], [], [])


def test_green_socket_poll_and_term_yield(ctx):
    gevent = pytest.importorskip("gevent")
    import fastzmq.green as gzmq

    gctx = gzmq.Context.shadow(ctx)
    a, b = gctx.socket(zmq.PAIR), gctx.socket(zmq.PAIR)
    try:
        a.bind("inproc://sp-green")
        b.connect("inproc://sp-green")
        t0 = time.monotonic()
        waiter = gevent.spawn(b.poll, 10000)
        gevent.spawn(a.send, b"go")
        assert waiter.get(timeout=5) == zmq.POLLIN
        assert time.monotonic() - t0 < 5
    finally:
        a.close(0)
        b.close(0)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_asyncio_poll_of_a_closing_socket_is_cancelled(ctx):
    async def main():
        actx = azmq.Context.shadow(ctx)
        s = actx.socket(zmq.PULL)
        fut = s.poll(timeout=1000)
        s.close()
        for _ in range(5):
            await asyncio.sleep(0)
        assert fut.cancelled()
        s2 = actx.socket(zmq.PULL)
        try:
            for _ in range(5):
                f = asyncio.ensure_future(s2.poll(timeout=1000))
                await asyncio.sleep(0)
                f.cancel()
            await asyncio.sleep(0.05)
            assert s2._recv_futures == []  # cancelled polls leave nothing behind
        finally:
            s2.close()

    asyncio.run(main())


def test_zmq_event_loop_is_deprecated_but_works():
    with pytest.warns(DeprecationWarning):
        loop = azmq.ZMQEventLoop()
    try:
        assert loop.run_until_complete(asyncio.sleep(0, result=3)) == 3
    finally:
        loop.close()


def test_green_timeo_warns_and_still_applies(ctx):
    pytest.importorskip("gevent")
    import fastzmq.green as gzmq

    s = gzmq.Context.shadow(ctx).socket(zmq.PULL)
    try:
        with pytest.warns(UserWarning, match="honours"):
            s.rcvtimeo = 50
        with pytest.warns(UserWarning):
            assert s.rcvtimeo == 50
        t0 = time.monotonic()
        with pytest.raises(zmq.Again):
            s.recv()  # the timeout takes effect
        assert time.monotonic() - t0 < 5
    finally:
        s.close(0)


def test_socket_shadows_are_handles_on_the_socket_not_new_sockets():
    """Every form of shadow (tests/test_socket_shadow.py has the behaviour) is another
    handle on the one socket: the context counts one socket, and term() does not wait
    for the shadows (closing the socket closes them)."""
    import fastzmq.asyncio as zasync

    c = zmq.Context()
    s = c.socket(zmq.PUSH)
    try:
        shadows = [
            zmq.Socket.shadow(s),
            zmq.Socket(s),
            zasync.Socket(s),
            zasync.Socket.from_socket(s),
        ]
        assert {sh.underlying for sh in shadows} == {s.underlying}
        assert len(c._sockets) == 1
    finally:
        s.close(linger=0)
        c.term()
    assert all(sh.closed for sh in shadows)

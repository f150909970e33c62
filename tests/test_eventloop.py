"""fastzmq.eventloop: tornado's ZMQStream over fastzmq sockets."""

from __future__ import annotations

import asyncio
import logging

import pytest

import fastzmq as zmq

pytest.importorskip("tornado")
from tornado.ioloop import IOLoop  # noqa: E402

from fastzmq.eventloop import zmqstream  # noqa: E402

T = 5


def _streams(ctx):
    push = zmqstream.ZMQStream(ctx.socket(zmq.PUSH))
    pull = zmqstream.ZMQStream(ctx.socket(zmq.PULL))
    port = push.bind_to_random_port("tcp://127.0.0.1")
    pull.connect(f"tcp://127.0.0.1:{port}")
    return push, pull


def test_on_recv_and_on_send_round_trip(ctx):
    async def main():
        push, pull = _streams(ctx)
        got: asyncio.Future = asyncio.get_running_loop().create_future()
        sent = []
        pull.on_recv(lambda msg: got.done() or got.set_result(msg))
        push.on_send(lambda msg, status: sent.append(msg))
        push.send_multipart([b"a", b"b"])
        assert await asyncio.wait_for(got, T) == [b"a", b"b"]
        assert sent == [[b"a", b"b"]]
        with pytest.raises(AssertionError):
            pull.on_recv(1)
        push.close(linger=0)
        pull.close(linger=0)
        assert push.closed() and pull.closed()

    asyncio.run(main())


def test_many_messages_arrive_without_new_edges(ctx):
    async def main():
        push, pull = _streams(ctx)
        n = 200
        got = []
        done: asyncio.Future = asyncio.get_running_loop().create_future()

        def on_msg(msg):
            got.append(msg[0])
            if len(got) == n:
                done.set_result(None)

        for i in range(n):  # queued before anyone listens: one edge for all of them
            push.send(str(i).encode())
        await asyncio.sleep(0.2)
        pull.on_recv(on_msg)
        await asyncio.wait_for(done, T)
        assert got == [str(i).encode() for i in range(n)]
        push.close(linger=0)
        pull.close(linger=0)

    asyncio.run(main())


def test_coroutine_callback_errors_are_logged(ctx, caplog):
    async def main():
        push, pull = _streams(ctx)
        seen: asyncio.Future = asyncio.get_running_loop().create_future()

        async def callback(msg):
            seen.set_result(msg)
            raise ValueError("boom")

        pull.on_recv(callback)
        push.send(b"x")
        await asyncio.wait_for(seen, T)
        await asyncio.sleep(0.1)
        push.close(linger=0)
        pull.close(linger=0)

    with caplog.at_level(logging.ERROR, logger=zmqstream.gen_log.name):
        asyncio.run(main())
    assert "Uncaught exception in ZMQStream callback" in caplog.text


def test_ioloop_close_all_fds_closes_the_socket_not_its_fd(ctx):
    aloop = asyncio.new_event_loop()

    async def current():
        return IOLoop.current()

    io_loop = aloop.run_until_complete(current())
    s = ctx.socket(zmq.PULL)
    zmqstream.ZMQStream(s, io_loop)
    io_loop.close(all_fds=True)  # closes the asyncio loop too
    assert s.closed and aloop.is_closed()


@pytest.mark.parametrize("lib", ["fastzmq", "pyzmq"])
def test_pyzmq_style_example_runs(lib):
    """examples/pyzmq_app.py: replies through a CURVE-secured ThreadProxy, monitor events,
    an unauthorised key refused, logs over PUBHandler. With ``lib="pyzmq"`` the very same
    source runs on pyzmq with only "fastzmq" replaced by "zmq": it is pyzmq code."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "examples", "pyzmq_app.py")
    # the fastzmq this test runs against (an installed one, or src/ while developing)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(zmq.__file__)))
    if lib == "pyzmq":
        pytest.importorskip("zmq")
        with open(path) as f:
            source = f.read().replace("fastzmq", "zmq")
        cmd = [sys.executable, "-c", source, "4"]
    else:
        cmd = [sys.executable, path, "4"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "OK"
    assert sorted(x for x in lines if x.startswith("done ")) == [
        f"done {name}-{i}" for name in "ab" for i in range(4)
    ]
    assert "monitor a: HANDSHAKE_SUCCEEDED" in lines and "monitor b: HANDSHAKE_SUCCEEDED" in lines
    assert "intruder: refused" in lines

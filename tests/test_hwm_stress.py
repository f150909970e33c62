"""RCVHWM throttling under a fast stream: the receiving engine arms and disarms its
waiter (switching the inbound ring's writer pointer) many thousand times while the
socket thread consumes. Regression: the consumer read that pointer twice and could
call the wake-up with NULL (a segfault about one run in twenty of the benchmark's
tcp 256 B stream before the fix)."""

from __future__ import annotations

import pytest

import fastzmq as zmq

N = 200_000


@pytest.mark.parametrize("scheme", ["tcp", "ipc"])
@pytest.mark.timeout(60)
def test_tiny_rcvhwm_stream_arrives_whole(ctx, tmp_path, scheme):
    pull = ctx.socket(zmq.PULL)
    pull.rcvhwm = 4  # throttle the engine on almost every read
    pull.rcvtimeo = 5000
    pull.linger = 0
    addr = "tcp://127.0.0.1:*" if scheme == "tcp" else f"ipc://{tmp_path}/s"
    pull.bind(addr)
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 4
    push.sndtimeo = 5000
    push.linger = 0
    push.connect(pull.last_endpoint.decode())
    msgs = [b"%015d" % i for i in range(256)]
    total, sent, got = (N // 256) * 256, 0, 0
    while got < total:  # one thread: send until the pipes are full, then drain a little
        while sent < total:
            try:
                push.send(msgs[sent % 256], zmq.DONTWAIT)
            except zmq.Again:
                break
            sent += 1
        for _ in range(min(3, sent - got)):
            assert pull.recv() == msgs[got % 256]
            got += 1
    assert got == sent == total

"""LINGER: messages queued at close() still reach the peer (regressions).

Two bugs these pin down: a socket closed before its connection was up dropped its
queued messages (libzmq keeps connecting and flushes for LINGER ms); and over ipc
the tail of a burst was lost when the peer's close arrived in the same epoll event
as its last data (EPOLLIN|EPOLLHUP).
"""

from __future__ import annotations

import pytest

import fastzmq as zmq


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("count,size", [(1, 16), (3, 16), (1, 65536), (50, 60000), (2000, 16)])
def test_close_right_after_send_delivers_everything(tmp_path, transport, count, size):
    rctx, sctx = zmq.Context(), zmq.Context()
    pull = rctx.socket(zmq.PULL)
    try:
        pull.rcvtimeo = 5000
        # one thread sends everything before it reads anything: unlimited HWMs, or the
        # blocked send would wait for a recv that cannot come (as with libzmq)
        pull.rcvhwm = 0
        if transport == "tcp":
            pull.bind("tcp://127.0.0.1:*")
        else:
            pull.bind(f"ipc://{tmp_path}/linger.ipc")
        push = sctx.socket(zmq.PUSH)
        push.sndtimeo = 5000
        push.sndhwm = 0
        push.connect(pull.last_endpoint.decode())
        for i in range(count):
            push.send(i.to_bytes(4, "big") + b"x" * (size - 4))
        push.close(linger=5000)  # most likely before the connection is even up
        sctx.term()  # returns once the queued messages are flushed (or linger expires)
        got = [int.from_bytes(pull.recv()[:4], "big") for _ in range(count)]
        assert got == list(range(count))
    finally:
        pull.close(linger=0)
        rctx.term()


def test_linger_zero_drops_unsent_messages_and_term_returns_at_once():
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.connect("tcp://127.0.0.1:9")  # nobody listens: messages can only queue
    push.send(b"never delivered")
    push.close(linger=0)
    ctx.term()  # must not wait for a peer that never comes

"""fork(): the child gets fresh contexts; the parent's ones raise there, never hang."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

import fastzmq as zmq

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    # 3.12+ warns about fork() in a process with threads (the I/O thread): that is the point
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def run_in_child(fn, timeout: float = 10.0) -> dict:
    """Run fn() in a forked child; its dict result (or the error) comes back as JSON."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            out = {"ok": True, **fn()}
        except BaseException as e:  # reported to the parent
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            pytest.fail("the child hung")
        time.sleep(0.01)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    return json.loads(data)


def test_child_gets_fresh_instance_and_parent_objects_raise(tmp_path):
    parent_ctx = zmq.Context.instance()
    pull = parent_ctx.socket(zmq.PULL)
    addr = f"ipc://{tmp_path}/f.ipc"
    pull.bind(addr)
    push = parent_ctx.socket(zmq.PUSH)
    push.connect(addr)
    parent_pid = os.getpid()

    def child():
        out = {}
        ctx = zmq.Context.instance()
        out["fresh"] = ctx is not parent_ctx
        # the parent's socket: a clear ZMQError, not a lost message or a hang
        for name, call in (
            ("send", lambda: push.send(b"x")),
            ("recv", lambda: pull.recv()),
            ("socket", lambda: parent_ctx.socket(zmq.PUSH)),
            ("connect", lambda: push.connect(addr)),
        ):
            try:
                call()
                out[name] = "no error"
            except zmq.ZMQError as e:
                out[name] = [e.errno, str(e)]
        t = time.monotonic()
        parent_ctx.term()  # returns at once; touches nothing the parent uses
        push.close()
        out["term_s"] = time.monotonic() - t
        # the child's own context works
        a = ctx.socket(zmq.PAIR)
        b = ctx.socket(zmq.PAIR)
        a.bind("inproc://forked")
        b.connect("inproc://forked")
        b.send(b"child")
        a.rcvtimeo = 2000
        out["inproc"] = a.recv().decode()
        a.close()
        b.close()
        ctx.term()
        return out

    out = run_in_child(child)
    assert out["ok"], out
    assert out["fresh"] is True
    for name in ("send", "recv", "socket", "connect"):
        code, text = out[name]
        assert code == zmq.ENOTSUP, (name, out[name])
        assert "another process" in text and str(parent_pid) in text
    assert out["term_s"] < 1.0
    assert out["inproc"] == "child"
    # the parent is untouched: its ipc endpoint and connection still work
    push.send(b"after fork")
    pull.rcvtimeo = 2000
    assert pull.recv() == b"after fork"
    assert os.path.exists(f"{tmp_path}/f.ipc")
    push.close(linger=0)
    pull.close(linger=0)
    parent_ctx.term()


def test_child_tcp_with_fresh_context():
    parent_ctx = zmq.Context()
    s = parent_ctx.socket(zmq.PULL)
    s.bind("tcp://127.0.0.1:*")  # the parent has an I/O thread running at fork time

    def child():
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = ctx.socket(zmq.PUSH)
        push.connect(f"tcp://127.0.0.1:{port}")
        push.send(b"over tcp")
        pull.rcvtimeo = 2000
        got = pull.recv().decode()
        push.close(linger=0)
        pull.close(linger=0)
        ctx.term()
        return {"got": got}

    out = run_in_child(child)
    assert out == {"ok": True, "got": "over tcp"}
    s.close(linger=0)
    parent_ctx.term()

"""Typing: Socket[T] and Context[T] are generic for mypy, and a Socket is not Any."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

import fastzmq as zmq

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def test_generic_subscription_at_runtime():
    alias = zmq.Socket[bytes]
    assert alias.__origin__ is zmq.Socket and alias.__args__ == (bytes,)
    assert zmq.Context[zmq.Socket[bytes]].__origin__ is zmq.Context


def test_mypy_sees_generic_sockets(tmp_path):
    pytest.importorskip("mypy")
    good = tmp_path / "good.py"
    good.write_text(
        textwrap.dedent(
            """
            import fastzmq as zmq

            ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
            s: zmq.Socket[bytes] = ctx.socket(zmq.PUSH)
            alias: zmq.SyncSocket = s
            s.sndbuf = 1024  # option attributes stay usable
            reveal_type(ctx.socket(zmq.PULL))
            """
        )
    )
    bad = tmp_path / "bad.py"
    bad.write_text(
        textwrap.dedent(
            """
            import fastzmq as zmq

            ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
            n: int = ctx.socket(zmq.PUSH)
            """
        )
    )
    env = dict(os.environ, MYPYPATH=SRC)
    cmd = [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent"]
    out = subprocess.run(
        [*cmd, str(good)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0, out.stdout
    # mypy spells the argument "bytes" or "builtins.bytes", by version
    assert re.search(
        r'Revealed type is "fastzmq\.socket\.Socket\[(builtins\.)?bytes\]"', out.stdout
    )
    out = subprocess.run(
        [*cmd, str(bad)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 1 and "Incompatible types in assignment" in out.stdout

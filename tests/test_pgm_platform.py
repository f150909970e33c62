"""PGM where its C modules are not built (setup.py builds ``_pgmsrc`` on Linux only):
``import fastzmq`` still works, pgm:// and epgm:// raise EPROTONOSUPPORT at bind/connect
and ``zmq.has("pgm")`` says False. Simulated here by hiding the module."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import fastzmq as zmq
from fastzmq import _pgm_transport

URLS = ("epgm://127.0.0.1;239.192.7.7:5577", "pgm://127.0.0.1;239.192.7.7:5577")


def test_missing_c_module_is_eprotonosupport(ctx, monkeypatch):
    assert zmq.has("pgm") is _pgm_transport.available()
    monkeypatch.setattr(_pgm_transport, "_pgmsrc", None)
    assert zmq.has("pgm") is False
    for stype in (zmq.PUB, zmq.SUB, zmq.XPUB, zmq.XSUB, zmq.PUSH):
        s = ctx.socket(stype)
        for url in URLS:
            for call in (s.bind, s.connect):
                with pytest.raises(zmq.ZMQError) as e:
                    call(url)
                assert e.value.errno == zmq.EPROTONOSUPPORT
                assert "not supported on this platform" in str(e.value)
                assert "Linux" in str(e.value)
        assert s.get(zmq.LAST_ENDPOINT) == b""  # nothing was opened
        s.close(0)


HIDDEN = """
import sys
sys.modules["fastzmq._pgmsrc"] = None  # as if setup.py had not built it
import fastzmq as zmq
print("has", zmq.has("pgm"))
s = zmq.Context.instance().socket(zmq.SUB)
try:
    s.connect("epgm://127.0.0.1;239.192.7.7:5577")
    print("opened")
except zmq.ZMQError as e:
    print("errno", int(e.errno))  # an IntEnum prints its name on Python < 3.11
s.close(0)
zmq.Context.instance().term()
"""


def test_import_without_the_c_module():
    """The module's absence never fails `import fastzmq`: only the call raises."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(zmq.__file__)))
    r = subprocess.run(
        [sys.executable, "-c", HIDDEN],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["has False", f"errno {zmq.EPROTONOSUPPORT}"], r.stdout

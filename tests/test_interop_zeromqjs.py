"""Draft types against libzmq itself: zeromq.js 6.8 ships a libzmq built with the draft
API (pyzmq's wheels do not). CLIENT/SERVER, RADIO/DISH (tcp and udp), SCATTER/GATHER
and DGRAM, each direction, with ``tests/zeromqjs_peer.js`` as the libzmq side.

Needs ``node`` and the ``zeromq@6.8.0`` package: found at ``$FASTZMQ_ZEROMQJS`` (a
directory holding ``node_modules/zeromq``) or in ``~/.cache/fastzmq/zeromqjs``, where
the first run installs it with npm (a few seconds; set FASTZMQ_ZEROMQJS_INSTALL=0 to
forbid). Skipped, with the reason, when either is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

import fastzmq as zmq
from conftest import free_tcp_port

VERSION = "6.8.0"
HERE = os.path.dirname(os.path.abspath(__file__))
PEER_JS = os.path.join(HERE, "zeromqjs_peer.js")
_found: dict[str, object] = {}


def _package_dir() -> str:
    """The zeromq package directory, or pytest.skip with the reason."""
    if "dir" in _found:
        if _found["dir"] is None:
            pytest.skip(str(_found["why"]))
        return str(_found["dir"])
    why = None
    found = None
    node = shutil.which("node")
    if node is None:
        why = "node is not installed"
    else:
        roots = [os.environ.get("FASTZMQ_ZEROMQJS", "")]
        cache = os.path.join(os.path.expanduser("~"), ".cache", "fastzmq", "zeromqjs")
        roots.append(cache)
        for root in roots:
            if root and os.path.exists(os.path.join(root, "node_modules", "zeromq", "draft.js")):
                found = os.path.join(root, "node_modules", "zeromq")
                break
        if found is None and os.environ.get("FASTZMQ_ZEROMQJS_INSTALL") != "0":
            found, why = _install(cache)
        elif found is None:
            why = "zeromq.js is not installed (FASTZMQ_ZEROMQJS_INSTALL=0)"
        if found is not None:
            check = subprocess.run(
                [node, "-e", f"require({json.dumps(os.path.join(found, 'draft'))})"],
                capture_output=True,
                timeout=30,
            )
            if check.returncode != 0:
                why = f"zeromq.js does not load: {check.stderr.decode()[-300:]}"
                found = None
    _found.update(dir=found, why=why)
    return _package_dir()


def _install(root: str) -> tuple:
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed (needed once to fetch zeromq.js)"
    os.makedirs(root, exist_ok=True)
    if not os.path.exists(os.path.join(root, "package.json")):
        with open(os.path.join(root, "package.json"), "w") as f:
            f.write("{}\n")
    try:
        r = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", root, f"zeromq@{VERSION}"],
            capture_output=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired:
        return None, "npm install zeromq timed out (180 s)"
    pkg = os.path.join(root, "node_modules", "zeromq")
    if r.returncode != 0 or not os.path.exists(os.path.join(pkg, "draft.js")):
        return None, f"npm install zeromq@{VERSION} failed: {r.stderr.decode()[-300:]}"
    return pkg, None


class JsPeer:
    """One zeromq.js process; ``result()`` is what it printed (bounded waits)."""

    def __init__(self, role: str, endpoint: str, bind: bool, **cfg: object) -> None:
        cfg.update(role=role, endpoint=endpoint, bind=bind)
        self.proc = subprocess.Popen(
            ["node", PEER_JS, _package_dir(), json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(20):
            self.kill()
            pytest.fail(f"zeromq.js {role} never got ready: {self._stderr()}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode().strip()
            if line == "ready":
                self.ready.set()
            else:
                self.lines.append(line)
        self.ready.set()

    def _stderr(self) -> str:
        try:
            return self.proc.stderr.read().decode()[-2000:] if self.proc.stderr else ""
        except ValueError:
            return ""

    def poke(self) -> None:
        try:
            self.proc.stdin.write(b"stop\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def running(self) -> bool:
        return self.proc.poll() is None

    def result(self, timeout: float = 20) -> object:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("zeromq.js peer did not finish")
        self.reader.join(5)
        if code != 0:
            pytest.fail(f"zeromq.js peer failed ({code}): {self._stderr()}")
        return json.loads(self.lines[-1])["result"]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def js():
    peers: list[JsPeer] = []

    def start(*args: object, **kw: object) -> JsPeer:
        p = JsPeer(*args, **kw)
        peers.append(p)
        return p

    yield start
    for p in peers:
        p.kill()
        for stream in (p.proc.stdin, p.proc.stdout, p.proc.stderr):
            if stream is not None:
                stream.close()


def _udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_fastzmq_client_to_libzmq_server(ctx, js):
    port = free_tcp_port()
    server = js("server", f"tcp://127.0.0.1:{port}", True, count=10)
    client = ctx.socket(zmq.CLIENT)
    client.rcvtimeo = 5000
    client.connect(f"tcp://127.0.0.1:{port}")
    for i in range(10):
        client.send(b"py-%d" % i)
    answers = [client.recv() for _ in range(10)]
    assert answers == [b"echo:py-%d" % i for i in range(10)]
    got = server.result()
    assert [g["body"] for g in got] == [f"py-{i}" for i in range(10)]
    assert len({g["routing_id"] for g in got}) == 1 and got[0]["routing_id"] > 0


def test_libzmq_client_to_fastzmq_server(ctx, js):
    server = ctx.socket(zmq.SERVER)
    server.rcvtimeo = 5000
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client = js("client", f"tcp://127.0.0.1:{port}", False, count=10)
    for _ in range(10):
        f = server.recv(copy=False)
        server.send(b"re:" + f.bytes, routing_id=f.routing_id)
    assert client.result() == [f"re:js-{i}" for i in range(10)]


def _radio_until_done(radio: zmq.Socket, peer: JsPeer) -> None:
    deadline = time.monotonic() + 15
    i = 0
    while peer.running() and time.monotonic() < deadline:
        radio.send(b"skip-%d" % i, group="other")
        radio.send(b"py-%d" % i, group="g")
        i += 1
        time.sleep(0.003)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_fastzmq_radio_to_libzmq_dish(ctx, js, transport):
    if transport == "tcp":
        ep = f"tcp://127.0.0.1:{free_tcp_port()}"
    else:
        ep = f"udp://127.0.0.1:{_udp_port()}"
    dish = js("dish", ep, True, count=10)
    radio = ctx.socket(zmq.RADIO)
    radio.connect(ep)
    _radio_until_done(radio, dish)
    got = dish.result()
    assert len(got) == 10
    assert all(g["group"] == "g" and g["body"].startswith("py-") for g in got)
    nums = [int(g["body"][3:]) for g in got]
    assert nums == sorted(nums)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_libzmq_radio_to_fastzmq_dish(ctx, js, transport):
    dish = ctx.socket(zmq.DISH)
    dish.rcvtimeo = 10000
    if transport == "tcp":
        port = dish.bind_to_random_port("tcp://127.0.0.1")
        ep = f"tcp://127.0.0.1:{port}"
    else:
        ep = f"udp://127.0.0.1:{_udp_port()}"
        dish.bind(ep)
    dish.join("g")
    radio = js("radio", ep, False)
    frames = [dish.recv(copy=False) for _ in range(10)]
    radio.poke()
    assert radio.result() > 0
    assert all(f.group == "g" and f.bytes.startswith(b"js-") for f in frames)


def test_fastzmq_scatter_to_libzmq_gather(ctx, js):
    port = free_tcp_port()
    gather = js("gather", f"tcp://127.0.0.1:{port}", True, count=10)
    scatter = ctx.socket(zmq.SCATTER)
    scatter.connect(f"tcp://127.0.0.1:{port}")
    for i in range(10):
        scatter.send(b"py-%d" % i)
    assert gather.result() == [f"py-{i}" for i in range(10)]


def test_libzmq_scatter_to_fastzmq_gather(ctx, js):
    gather = ctx.socket(zmq.GATHER)
    gather.rcvtimeo = 5000
    port = gather.bind_to_random_port("tcp://127.0.0.1")
    scatter = js("scatter", f"tcp://127.0.0.1:{port}", False, count=10)
    assert [gather.recv() for _ in range(10)] == [b"js-%d" % i for i in range(10)]
    assert scatter.result() == 10


def test_dgram_with_libzmq_dgram(ctx, js):
    jport = _udp_port()
    peer = js("dgram", f"udp://127.0.0.1:{jport}", True, count=3)
    d = ctx.socket(zmq.DGRAM)
    d.rcvtimeo = 5000
    port = _udp_port()
    d.bind(f"udp://127.0.0.1:{port}")
    for i in range(3):
        d.send_multipart([b"127.0.0.1:%d" % jport, b"py-%d" % i])
    replies = [d.recv_multipart() for _ in range(3)]
    # both libraries deliver the sender's address as b"ip:port\0"
    assert replies == [[b"127.0.0.1:%d\0" % jport, b"echo:py-%d" % i] for i in range(3)]
    got = peer.result()
    assert got == [{"address": f"127.0.0.1:{port}\0", "body": f"py-{i}"} for i in range(3)]

"""Shared pieces of the security tests: keys, a ZAP handler on a fastzmq REP socket."""

from __future__ import annotations

import threading

import fastzmq as zmq
from fastzmq import _monitor, _transport
from fastzmq.utils import z85


def keypair() -> tuple[bytes, bytes]:
    """(public, secret) as Z85, made with PyNaCl."""
    import nacl.bindings

    pk, sk = nacl.bindings.crypto_box_keypair()
    return z85.encode(pk), z85.encode(sk)


class ZapHandler:
    """A RFC 27 handler on a fastzmq REP bound at inproc://zeromq.zap.01, in a thread.

    ``decide(request_frames) -> (status, user_id[, metadata])``, metadata in ZMTP property
    form; every request is recorded."""

    def __init__(self, ctx, decide) -> None:
        self.decide = decide
        self.requests: list = []
        self.sock = ctx.socket(zmq.REP)
        self.sock.linger = 0
        self.sock.bind("inproc://zeromq.zap.01")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.sock.poll(20):
                continue
            frames = self.sock.recv_multipart()
            self.requests.append(frames)
            status, user_id, *meta = self.decide(frames)
            meta = meta[0] if meta else b""
            self.sock.send_multipart([b"1.0", frames[1], status, b"text", user_id, meta])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


class EventRecorder:
    """Records every monitor event the transport layer emits, monitored or not (it
    wraps ``emit`` where ``_transport`` and ``_monitor`` look it up)."""

    def __init__(self, monkeypatch) -> None:
        self.events: list = []
        self._lock = threading.Lock()
        real = _monitor.emit

        def emit(sock, event, value, endpoint):
            with self._lock:
                self.events.append((sock, int(event), int(value)))
            real(sock, event, value, endpoint)

        monkeypatch.setattr(_monitor, "emit", emit)
        monkeypatch.setattr(_transport, "emit", emit)

    def of(self, sock) -> list:
        with self._lock:
            return [(e, v) for s, e, v in self.events if s is sock]

    def wait_for(self, sock, event: int, timeout: float = 3.0) -> list:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [v for e, v in self.of(sock) if e == event]
            if found:
                return found
            time.sleep(0.01)
        return []

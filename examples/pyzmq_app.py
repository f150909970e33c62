"""A pyzmq-style application, unchanged but for its import lines.

A ThreadProxy (``zmq.devices``) joins a ROUTER front end to a DEALER back end. The
front end listens on TCP as a CURVE server; a ThreadAuthenticator (``zmq.auth``) lets in
only the client keys found in a certificate directory made with
``zmq.auth.create_certificates``. A worker driven by tornado's ZMQStream
(``zmq.eventloop.zmqstream``) answers behind the proxy, and clients written with
``zmq.asyncio`` send requests through it, all on one asyncio event loop (tornado runs on
asyncio). Each client watches its socket with the monitor
(``get_monitor_socket`` + ``zmq.utils.monitor.recv_monitor_message``). An intruder,
who knows the server's key but whose own key is not authorised, is refused: its request
never reaches the worker. A PUBHandler (``zmq.log.handlers``) publishes the worker's
log lines, and a SUB collects them.

Run: python examples/pyzmq_app.py [requests]
(prints one line per reply, one per client's monitor, the intruder's fate, then OK)
To run it with pyzmq, replace "fastzmq" by "zmq" in the import lines.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile

import fastzmq as zmq
import fastzmq.asyncio
import fastzmq.auth
import fastzmq.auth.thread
import fastzmq.utils.monitor
from fastzmq import devices
from fastzmq.eventloop.zmqstream import ZMQStream
from fastzmq.log.handlers import PUBHandler

BACK, LOGS = "inproc://back", "inproc://logs"


def make_keys(root: str) -> dict:
    """Server, client and intruder certificates; only the client's is authorised."""
    keys = {}
    for name in ("server", "client", "intruder"):
        os.mkdir(os.path.join(root, name))
        _, secret_file = zmq.auth.create_certificates(os.path.join(root, name), name)
        keys[name] = zmq.auth.load_certificate(secret_file)  # (public, secret)
    allowed = os.path.join(root, "allowed")
    os.mkdir(allowed)
    shutil.copy(os.path.join(root, "client", "client.key"), allowed)
    keys["allowed_dir"] = allowed
    return keys


def start_proxy(ctx: zmq.Context, server_secret: bytes) -> tuple[devices.ThreadProxy, str]:
    proxy = devices.ThreadProxy(zmq.ROUTER, zmq.DEALER, zmq.PUB)
    proxy.context_factory = lambda: ctx  # inproc needs the application's context
    proxy.setsockopt_in(zmq.CURVE_SERVER, 1)
    proxy.setsockopt_in(zmq.CURVE_SECRETKEY, server_secret)
    port = proxy.bind_in_to_random_port("tcp://127.0.0.1")
    proxy.bind_out(BACK)
    proxy.bind_mon("inproc://monitor")
    proxy.start()
    return proxy, f"tcp://127.0.0.1:{port}"


def start_worker(ctx: zmq.Context, log: logging.Logger, seen: list) -> ZMQStream:
    stream = ZMQStream(ctx.socket(zmq.REP))
    stream.connect(BACK)

    def answer(msg: list) -> None:
        seen.append(msg[0])
        log.info("work::answering %s", msg[0].decode())
        stream.send_multipart([b"done " + msg[0]])

    stream.on_recv(answer)
    return stream


def curve_client(actx, front: str, server_public: bytes, own: tuple):
    sock = actx.socket(zmq.REQ)
    sock.curve_serverkey = server_public
    sock.curve_publickey, sock.curve_secretkey = own
    monitor = sock.get_monitor_socket()
    sock.connect(front)
    return sock, monitor


async def watch(monitor, until: int, timeout_ms: int = 5000) -> list[int]:
    """The monitor's events, up to the first ``until`` event (or a quiet timeout)."""
    events = []
    while await monitor.poll(timeout_ms):
        event = await zmq.utils.monitor.recv_monitor_message(monitor)
        events.append(event["event"])
        if event["event"] == until:
            break
    return events


async def client(actx, front: str, keys: dict, name: str, n: int) -> tuple[list, list]:
    sock, monitor = curve_client(actx, front, keys["server"][0], keys["client"])
    replies = []
    try:
        for i in range(n):
            await sock.send(f"{name}-{i}".encode())
            replies.append((await asyncio.wait_for(sock.recv(), 5)).decode())
        events = await watch(monitor, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    finally:
        sock.disable_monitor()
        monitor.close(linger=0)
        sock.close(linger=0)
    return replies, events


async def intruder(actx, front: str, keys: dict) -> tuple[bool, list]:
    sock, monitor = curve_client(actx, front, keys["server"][0], keys["intruder"])
    try:
        await asyncio.wait_for(sock.send(b"intruder-0"), 5)  # queued, never let through
        events = await watch(monitor, zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        answered = bool(await sock.poll(500))
    finally:
        sock.disable_monitor()
        monitor.close(linger=0)
        sock.close(linger=0)
    return answered, events


async def main(n: int) -> int:
    ctx = zmq.Context()
    actx = zmq.asyncio.Context.shadow(ctx)  # one context: inproc works across both
    keydir = tempfile.mkdtemp()
    keys = make_keys(keydir)
    auth = zmq.auth.thread.ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=keys["allowed_dir"])
    handler = PUBHandler(LOGS, context=ctx)  # binds a PUB
    logs = ctx.socket(zmq.SUB)
    logs.connect(LOGS)
    logs.subscribe(b"")
    log = logging.getLogger("pyzmq_app")
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(handler)
    while not logs.poll(20):  # a subscription takes effect asynchronously: wait for it
        log.info("warmup::ready")
    seen: list = []
    proxy, front = start_proxy(ctx, keys["server"][1])
    worker = start_worker(ctx, log, seen)
    try:
        names = ("a", "b")
        results = await asyncio.gather(
            *(client(actx, front, keys, name, n) for name in names), intruder(actx, front, keys)
        )
        ok = True
        for name, (replies, events) in zip(names, results):
            for reply in replies:
                print(reply)
            handshake = zmq.EVENT_HANDSHAKE_SUCCEEDED in events
            print(f"monitor {name}: {'HANDSHAKE_SUCCEEDED' if handshake else events}")
            ok = ok and handshake
        answered, events = results[-1]
        refused = not answered and zmq.EVENT_HANDSHAKE_FAILED_AUTH in events
        refused = refused and b"intruder-0" not in seen
        print(f"intruder: {'refused' if refused else 'LET IN'}")
        expected = [f"done {name}-{i}" for name in names for i in range(n)]
        got_logs = 0
        while logs.poll(100) and got_logs < 2 * n:
            topic, _ = logs.recv_multipart()
            got_logs += topic == b"INFO.work"
        ok = ok and refused and got_logs == 2 * n
        ok = ok and [r for rs, _ in results[:-1] for r in rs] == expected
        print("OK" if ok else "MISMATCH")
        return 0 if ok else 1
    finally:
        log.removeHandler(handler)
        worker.close(linger=0)
        handler.socket.close(linger=0)
        logs.close(linger=0)
        auth.stop()
        ctx.term()  # ends the proxy thread (ContextTerminated), which closes its sockets
        proxy.join(5)
        shutil.rmtree(keydir)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))

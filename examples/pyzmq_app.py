"""A pyzmq-style application, unchanged but for its import line.

A ThreadProxy (``zmq.devices``) joins a ROUTER front end to a DEALER back end. A
worker driven by tornado's ZMQStream (``zmq.eventloop.zmqstream``) answers behind
it, and clients written with ``zmq.asyncio`` send requests through it, all on one
asyncio event loop (tornado runs on asyncio). A PUBHandler (``zmq.log.handlers``)
publishes the worker's log lines, and a SUB collects them.

Run: python examples/pyzmq_app.py [requests]   (prints one line per reply, then OK)
"""

from __future__ import annotations

import asyncio
import logging
import sys

import fastzmq as zmq
import fastzmq.asyncio
from fastzmq import devices
from fastzmq.eventloop.zmqstream import ZMQStream
from fastzmq.log.handlers import PUBHandler

FRONT, BACK, LOGS = "inproc://front", "inproc://back", "inproc://logs"


def start_proxy(ctx: zmq.Context) -> devices.ThreadProxy:
    proxy = devices.ThreadProxy(zmq.ROUTER, zmq.DEALER, zmq.PUB)
    proxy.context_factory = lambda: ctx  # inproc needs the application's context
    proxy.bind_in(FRONT)
    proxy.bind_out(BACK)
    proxy.bind_mon("inproc://monitor")
    proxy.start()
    return proxy


def start_worker(ctx: zmq.Context, log: logging.Logger) -> ZMQStream:
    stream = ZMQStream(ctx.socket(zmq.REP))
    stream.connect(BACK)

    def answer(msg: list) -> None:
        log.info("work::answering %s", msg[0].decode())
        stream.send_multipart([b"done " + msg[0]])

    stream.on_recv(answer)
    return stream


async def client(actx: fastzmq.asyncio.Context, name: str, n: int) -> list[str]:
    sock = actx.socket(zmq.REQ)
    sock.connect(FRONT)
    replies = []
    try:
        for i in range(n):
            await sock.send(f"{name}-{i}".encode())
            replies.append((await asyncio.wait_for(sock.recv(), 5)).decode())
    finally:
        sock.close(linger=0)
    return replies


async def main(n: int) -> int:
    ctx = zmq.Context()
    actx = fastzmq.asyncio.Context.shadow(ctx)  # one context: inproc works across both
    handler = PUBHandler(LOGS, context=ctx)  # binds a PUB
    logs = ctx.socket(zmq.SUB)
    logs.connect(LOGS)
    logs.subscribe(b"")
    log = logging.getLogger("pyzmq_app")
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(handler)
    logs.wait_subscribed(5000)
    proxy = start_proxy(ctx)
    worker = start_worker(ctx, log)
    try:
        results = await asyncio.gather(*(client(actx, name, n) for name in ("a", "b")))
        for replies in results:
            for reply in replies:
                print(reply)
        expected = [f"done {name}-{i}" for name in ("a", "b") for i in range(n)]
        got_logs = 0
        while logs.poll(100) and got_logs < 2 * n:
            topic, _ = logs.recv_multipart()
            got_logs += topic == b"INFO.work"
        ok = [r for rs in results for r in rs] == expected and got_logs == 2 * n
        print("OK" if ok else "MISMATCH")
        return 0 if ok else 1
    finally:
        log.removeHandler(handler)
        worker.close(linger=0)
        handler.socket.close(linger=0)
        logs.close(linger=0)
        ctx.term()  # ends the proxy thread (ContextTerminated), which closes its sockets
        proxy.join(5)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))

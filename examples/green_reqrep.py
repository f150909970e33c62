"""Request-reply through a broker, all in one process with gevent greenlets.

The zguide's rrclient / rrbroker / rrworker trio, rewritten for Python 3 and
fastzmq.green: clients (REQ) talk to a ROUTER front end, the broker shuttles
messages to a DEALER back end, workers (REP) answer. Every blocking call yields
to the gevent hub, so the greenlets take turns in a single thread.

Run: python examples/green_reqrep.py [requests-per-client]
"""

from __future__ import annotations

import sys

import gevent

import fastzmq.green as zmq


def worker(ctx: zmq.Context, backend: str, name: str) -> None:
    sock = ctx.socket(zmq.REP)
    sock.connect(backend)
    try:
        while True:
            request = sock.recv_string()
            sock.send_string(f"World from {name} (to {request})")
    finally:
        sock.close(linger=0)


def broker(frontend: zmq.Socket, backend: zmq.Socket) -> None:
    poller = zmq.Poller()
    poller.register(frontend, zmq.POLLIN)
    poller.register(backend, zmq.POLLIN)
    while True:
        for sock, _ in poller.poll():
            other = backend if sock is frontend else frontend
            other.send_multipart(sock.recv_multipart())


def client(ctx: zmq.Context, frontend: str, name: str, n: int) -> list[str]:
    sock = ctx.socket(zmq.REQ)
    sock.connect(frontend)
    replies = []
    try:
        for i in range(n):
            sock.send_string(f"Hello {i} from {name}")
            replies.append(sock.recv_string())
    finally:
        sock.close(linger=0)
    return replies


def main(n: int = 10) -> int:
    ctx = zmq.Context()
    frontend = ctx.socket(zmq.ROUTER)
    backend = ctx.socket(zmq.DEALER)
    frontend.bind("tcp://127.0.0.1:*")
    backend.bind("tcp://127.0.0.1:*")
    front_addr = frontend.last_endpoint.decode()
    back_addr = backend.last_endpoint.decode()
    helpers = [gevent.spawn(broker, frontend, backend)]
    helpers += [gevent.spawn(worker, ctx, back_addr, f"worker-{k}") for k in range(2)]
    clients = [gevent.spawn(client, ctx, front_addr, f"client-{k}", n) for k in range(3)]
    gevent.joinall(clients, timeout=20, raise_error=True)
    total = 0
    for c in clients:
        for reply in c.get(block=False):
            print("Received reply:", reply)
            total += 1
    gevent.killall(helpers, timeout=5)
    frontend.close(linger=0)
    backend.close(linger=0)
    ctx.term()
    print(f"{total} replies")
    return 0 if total == 3 * n else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))

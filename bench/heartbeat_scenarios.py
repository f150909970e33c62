"""Heartbeats against libzmq, measured: disconnects and lost messages (issue 15).

    PYTHONPATH=src python bench/heartbeat_scenarios.py [--seconds 2] [--ours IVL]

* router-dealer: a libzmq ROUTER (bind, HEARTBEAT_IVL=100, HEARTBEAT_TIMEOUT=300) and
  an idle fastzmq DEALER. The DEALER sends one request at the start; the ROUTER holds
  the reply for most of the run, then sends it: the reply is lost if the connection
  was dropped meanwhile (a new connection is a new routing id).
* pub-sub: a libzmq PUB (bind, same heartbeats) sends 150 msg/s to a fastzmq SUB.

Disconnects are counted by a pyzmq monitor on the libzmq side (EVENT_DISCONNECTED).
``--ours IVL`` also sets HEARTBEAT_IVL (and TIMEOUT 3*IVL, TTL 5*IVL) on the fastzmq side.
"""

from __future__ import annotations

import argparse
import threading
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

import fastzmq


class Disconnects:
    """Counts EVENT_DISCONNECTED on a pyzmq socket, in a thread."""

    def __init__(self, sock):
        self.mon = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.mon.rcvtimeo = 50
        self.count = 0
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop:
            try:
                ev = recv_monitor_message(self.mon)
            except zmq.Again:
                continue
            if ev["event"] == zmq.EVENT_DISCONNECTED:
                self.count += 1

    def close(self):
        self.stop = True
        self.th.join(2)
        self.mon.close(linger=0)
        return self.count


def _ours(sock, ivl):
    sock.linger = 0
    if ivl:
        sock.heartbeat_ivl = ivl
        sock.heartbeat_timeout = 3 * ivl
        sock.heartbeat_ttl = 5 * ivl


def router_dealer(seconds, ivl):
    zctx, fctx = zmq.Context(), fastzmq.Context()
    router = zctx.socket(zmq.ROUTER)
    router.linger = 0
    router.heartbeat_ivl, router.heartbeat_timeout = 100, 300
    mon = Disconnects(router)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = fctx.socket(fastzmq.DEALER)
    _ours(dealer, ivl)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"request")
    router.rcvtimeo = 2000
    rid, body = router.recv_multipart()
    time.sleep(seconds * 0.9)  # both sides idle
    router.send_multipart([rid, b"reply"])
    dealer.rcvtimeo = int(seconds * 100 + 200)
    try:
        lost = 0 if dealer.recv() == b"reply" else 1
    except fastzmq.Again:
        lost = 1
    time.sleep(seconds * 0.1)
    n = mon.close()
    dealer.close()
    router.close()
    fctx.term()
    zctx.term()
    return n, lost


def pub_sub(seconds, ivl):
    zctx, fctx = zmq.Context(), fastzmq.Context()
    pub = zctx.socket(zmq.PUB)
    pub.linger = 0
    pub.heartbeat_ivl, pub.heartbeat_timeout = 100, 300
    mon = Disconnects(pub)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = fctx.socket(fastzmq.SUB)
    _ours(sub, ivl)
    sub.subscribe(b"")
    sub.connect(f"tcp://127.0.0.1:{port}")
    assert sub.wait_subscribed(2000)
    total = int(150 * seconds)
    got = []

    def reader():
        sub.rcvtimeo = 500
        while True:
            try:
                got.append(sub.recv())
            except fastzmq.Again:
                return

    th = threading.Thread(target=reader)
    th.start()
    t0 = time.monotonic()
    for i in range(total):
        pub.send(b"%d" % i)
        time.sleep(max(0.0, t0 + (i + 1) / 150 - time.monotonic()))
    th.join(5)
    n = mon.close()
    sub.close()
    pub.close()
    fctx.term()
    zctx.term()
    return n, total - len(got), total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--ours", type=int, default=0, help="HEARTBEAT_IVL on the fastzmq side (ms)")
    a = ap.parse_args()
    n, lost = router_dealer(a.seconds, a.ours)
    print(f"router-dealer: {n} disconnects, reply lost: {lost}")
    n, lost, total = pub_sub(a.seconds, a.ours)
    print(f"pub-sub:       {n} disconnects, {lost} of {total} messages lost")


if __name__ == "__main__":
    main()

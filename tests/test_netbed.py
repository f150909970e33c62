"""tcp across hosts of the network test bed (tests/netbed.py): loss, a cut cable.

Each end runs in its own network namespace (a subprocess under ``ip netns exec``).
Skipped, with the reason, where the bed cannot be built (not root, no netns).
"""

from __future__ import annotations

import json
import time

import pytest

from netbed import NetBed, leftovers, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))

UDP_ECHO = """
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 6000))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton("239.77.0.1"), socket.inet_aton("0.0.0.0")))
s.settimeout(5)
print("ready", flush=True)
n = 0
try:
    while n < @N@:
        s.recv(100)
        n += 1
except socket.timeout:
    pass
print("got", n, flush=True)
"""

UDP_SEND = """
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for i in range(@N@):
    s.sendto(b"x" * 20, ("239.77.0.1", 6000))
    time.sleep(0.001)
"""


def test_bed_multicast_reaches_other_hosts_and_teardown_is_clean():
    bed = NetBed(3)
    try:
        a = bed.spawn(1, _fill(UDP_ECHO, N=50))
        b = bed.spawn(2, _fill(UDP_ECHO, N=50))
        a.expect("ready")
        b.expect("ready")
        r = bed.run(0, _fill(UDP_SEND, N=50))
        assert r.returncode == 0, r.stderr
        assert a.expect("got") == "got 50"
        assert b.expect("got") == "got 50"
        names = set(bed.hosts) | {bed.hub}
    finally:
        bed.close()
    assert not leftovers()
    assert not names & set(leftovers())


def test_bed_loss_drops_a_share(netbed):
    netbed.loss(1, 50)
    rx = netbed.spawn(1, _fill(UDP_ECHO, N=400))
    rx.expect("ready")
    r = netbed.run(0, _fill(UDP_SEND, N=400))
    assert r.returncode == 0, r.stderr
    got = int(rx.expect("got").split()[1])
    assert 100 < got < 300  # 50% of 400 dropped, give or take
    netbed.loss(1, 0)  # the rule is gone again: everything passes
    rx = netbed.spawn(1, _fill(UDP_ECHO, N=50))
    rx.expect("ready")
    netbed.run(0, _fill(UDP_SEND, N=50))
    assert rx.expect("got") == "got 50"


PULL = """
import json, sys, fastzmq as zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PULL)
s.rcvtimeo = 15000
s.bind("tcp://@ADDR@:5555")
print("ready", flush=True)
got = []
for i in range(@N@):
    try:
        got.append(s.recv().decode())
    except zmq.Again:
        break
    if len(got) == @MARK@:
        print("mark", flush=True)
print("result", json.dumps(got), flush=True)
s.close(0); ctx.term()
"""

PUSH = """
import fastzmq as zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PUSH)
s.connect("tcp://@ADDR@:5555")
for i in range(@N@):
    s.send(b"m%d" % i + b"." * 200)
s.close(linger=20000); ctx.term()
print("done", flush=True)
"""


def _fill(code: str, **kw: object) -> str:
    for k, v in kw.items():
        code = code.replace(f"@{k}@", str(v))
    return code


def test_tcp_pushpull_across_hosts_with_loss(netbed):
    netbed.loss(0, 1)
    netbed.loss(1, 1)
    n = 3000
    rx = netbed.spawn(1, _fill(PULL, ADDR=netbed.addrs[1], N=n, MARK=-1))
    rx.expect("ready")
    tx = netbed.spawn(0, _fill(PUSH, ADDR=netbed.addrs[1], N=n))
    got = json.loads(rx.expect("result", 30).split(" ", 1)[1])
    tx.expect("done", 30)
    assert [g.split(".")[0] for g in got] == [f"m{i}" for i in range(n)]


REP = """
import fastzmq as zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REP)
s.rcvtimeo = 15000
s.bind("tcp://@ADDR@:5556")
print("ready", flush=True)
try:
    for i in range(@N@):
        s.send(s.recv() + b"!")
except zmq.Again:
    print("stalled", flush=True)
s.close(linger=5000); ctx.term()
"""

REQ = """
import fastzmq as zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.rcvtimeo = 15000
s.connect("tcp://@ADDR@:5556")
ok = 0
for i in range(@N@):
    s.send(b"q%d" % i)
    if s.recv() == b"q%d!" % i:
        ok += 1
print("ok", ok, flush=True)
s.close(0); ctx.term()
"""


def test_tcp_reqrep_across_hosts_with_loss(netbed):
    netbed.loss(0, 1)
    netbed.loss(1, 1)
    n = 300
    rep = netbed.spawn(1, _fill(REP, ADDR=netbed.addrs[1], N=n))
    rep.expect("ready")
    req = netbed.spawn(0, _fill(REQ, ADDR=netbed.addrs[1], N=n))
    assert req.expect("ok", 40) == f"ok {n}"


PUSH_CUT = """
import sys, fastzmq as zmq
from fastzmq.utils.monitor import recv_monitor_message
ctx = zmq.Context()
s = ctx.socket(zmq.PUSH)
@HB@
mon = s.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
mon.rcvtimeo = 8000
s.connect("tcp://@ADDR@:5555")
def event():
    return recv_monitor_message(mon)["event"]
assert event() == zmq.EVENT_CONNECTED
for i in range(100):
    s.send(b"m%d" % i)
print("phase1", flush=True)
sys.stdin.readline()  # the cable is cut
if @WAIT_DISCONNECT@:
    assert event() == zmq.EVENT_DISCONNECTED
    print("disconnected", flush=True)
for i in range(100, 200):
    s.send(b"m%d" % i)
print("queued", flush=True)
sys.stdin.readline()  # restored
if @WAIT_DISCONNECT@:
    assert event() == zmq.EVENT_CONNECTED
    print("reconnected", flush=True)
s.disable_monitor(); mon.close(0)
s.close(linger=20000); ctx.term()
print("done", flush=True)
"""


@pytest.mark.parametrize("heartbeat", [False, True], ids=["tcp-retransmits", "heartbeat"])
def test_tcp_link_cut_and_restored(netbed, heartbeat):
    """A 2 s cut: without heartbeats tcp retransmits and the same connection resumes;
    with HEARTBEAT_IVL/TIMEOUT the cut is noticed (DISCONNECTED), the connecter
    reconnects after the repair (CONNECTED), and what was queued meanwhile arrives."""
    hb = "s.heartbeat_ivl = 200; s.heartbeat_timeout = 600" if heartbeat else ""
    rx = netbed.spawn(1, _fill(PULL, ADDR=netbed.addrs[1], N=200, MARK=100))
    rx.expect("ready")
    tx = netbed.spawn(0, _fill(PUSH_CUT, ADDR=netbed.addrs[1], HB=hb, WAIT_DISCONNECT=heartbeat))
    tx.expect("phase1")
    rx.expect("mark")  # the first 100 are across before the cut
    netbed.link(0, False)
    cut = time.monotonic()
    tx.send("cut")
    if heartbeat:
        tx.expect("disconnected", 5)
    tx.expect("queued")
    time.sleep(max(0.0, 2.0 - (time.monotonic() - cut)))
    netbed.link(0, True)
    tx.send("restored")
    if heartbeat:
        tx.expect("reconnected", 10)
    got = json.loads(rx.expect("result", 20).split(" ", 1)[1])
    tx.expect("done", 20)
    assert got == [f"m{i}" for i in range(200)]

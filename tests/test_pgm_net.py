"""epgm:// across hosts of the network test bed: fastzmq <-> fastzmq under 0/1/5% loss,
a receiver that falls out of the source's window, and interop both ways with libzmq
4.3.4 + OpenPGM (Debian's libzmq5 and python3-zmq, driven by /usr/bin/python3).

The source runs in host 0, the receiver in host 1 (libzmq disables multicast loop, so
its peers must be on other hosts). Loss is nftables dropping that share of what the
receiver's host gets (ODATA, SPM, NCF, RDATA alike).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from netbed import unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))

SYSTEM_PY = "/usr/bin/python3"


def _libzmq_pgm() -> str | None:
    """Why libzmq-with-OpenPGM interop cannot run here, or None."""
    if not os.path.exists(SYSTEM_PY):
        return f"no {SYSTEM_PY}"
    r = subprocess.run(
        [SYSTEM_PY, "-c", "import zmq; print(zmq.zmq_version(), zmq.has('pgm'))"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    if r.returncode != 0:
        return "python3-zmq is not installed for /usr/bin/python3 (apt-get install python3-zmq)"
    if not r.stdout.strip().endswith("True"):
        return f"the system libzmq ({r.stdout.strip()}) has no pgm/epgm"
    return None


GROUP, PORT = "239.192.7.1", 5560

SUB = """
import json, sys, time
import @MOD@ as zmq
c = zmq.Context()
s = c.socket(zmq.SUB)
s.setsockopt(zmq.SUBSCRIBE, b"")
s.setsockopt(zmq.RCVTIMEO, @TIMEOUT@)
s.setsockopt(zmq.RATE, @RATE@)  # with RECOVERY_IVL: the receive window (libzmq's rule)
s.setsockopt(zmq.RECOVERY_IVL, @RIVL@)
s.connect("@SCHEME@://@ADDR@;@GROUP@:@PORT@")
mon = None
if "@MOD@" == "fastzmq":
    mon = s.get_monitor_socket(0x8000)
print("ready", flush=True)
got = []
try:
    while len(got) < @N@:
        got.append([f[:12].decode() + ":%d" % len(f) for f in s.recv_multipart()])
        if len(got) == @MARK@:
            print("mark", flush=True)
except zmq.Again:
    pass
extra = {}
if mon is not None:
    from fastzmq import _pgm_transport
    extra = _pgm_transport.stats(s)
    events = []
    while mon.poll(100):
        events.append(mon.recv_multipart())
    extra["loss_events"] = len(events)
    s.disable_monitor(); mon.close(0)
print("result", json.dumps([got, extra]), flush=True)
s.close(0); c.term()
"""

PUB = """
import json, select, sys, time
import @MOD@ as zmq
c = zmq.Context()
p = c.socket(zmq.PUB)
p.setsockopt(zmq.RATE, @RATE@)
p.setsockopt(zmq.RECOVERY_IVL, @RIVL@)
p.setsockopt(zmq.SNDHWM, 0)
p.connect("@SCHEME@://@ADDR@;@GROUP@:@PORT@")
time.sleep(0.3)
if @HOLD@:  # the receiver has had the first SPMs; the test now sets the loss
    print("joined", flush=True)
    select.select([sys.stdin], [], [], 20) and sys.stdin.readline()
def burst(a, b):
    for i in range(a, b):
        if i % 3 == 0:
            p.send_multipart([b"mp%d" % i, b"x" * @SIZE@, b"end%d" % i])
        else:
            p.send(b"m%d " % i + b"y" * @SIZE@)
burst(0, @N1@)
print("sent1", flush=True)
if @N1@ < @N@:
    select.select([sys.stdin], [], [], 20) and sys.stdin.readline()
    burst(@N1@, @N@)
print("sent", flush=True)
select.select([sys.stdin], [], [], 30)  # stay (repairs) until told
stats = {}
if "@MOD@" == "fastzmq":
    from fastzmq import _pgm_transport
    stats = _pgm_transport.stats(p)
print("stats", json.dumps(stats), flush=True)
p.close(0); c.term()
"""


def expected(n: int, size: int) -> list:
    out = []
    for i in range(n):
        if i % 3 == 0:
            out.append(
                [f"mp{i}:{len(b'mp%d' % i)}", f"{'x' * 12}:{size}", f"end{i}:{len(b'end%d' % i)}"]
            )
        else:
            body = (b"m%d " % i + b"y" * size)[:12].decode()
            out.append([f"{body}:{len(b'm%d ' % i) + size}"])
    return out


def _fill(code: str, **kw: object) -> str:
    for k, v in kw.items():
        code = code.replace(f"@{k}@", str(v))
    return code


def _py(mod: str) -> str | None:
    return SYSTEM_PY if mod == "zmq" else None


def run_pair(
    bed,
    src_mod,
    dst_mod,
    n,
    size=200,
    rate=20000,
    rivl=10000,
    cut=None,
    timeout=8000,
    scheme="epgm",
    loss_after_join=0,
):
    """Source in host 0, receiver in host 1; returns (messages, receiver stats, source
    stats). cut: (n1) send n1 messages, cut host 1's cable, send the rest, restore.
    loss_after_join: percent of host 1's packets dropped from when the source's first
    SPMs have reached the receiver. At 40% loss from the start, the first SPMs and data
    packets can all be lost, and the receiver then begins at the first packet it gets,
    as a late joiner does (seen once in CI: libzmq's receiver started at message 3).
    That is test_epgm_late_joiner_*'s subject, not a repair."""
    n1 = n if cut is None else cut
    kw = dict(ADDR=bed.addrs[1], GROUP=GROUP, PORT=PORT, N=n, TIMEOUT=timeout, RATE=rate, RIVL=rivl)
    kw["SCHEME"] = scheme
    kw["MARK"] = -1 if cut is None else cut
    kw["HOLD"] = bool(loss_after_join)
    rx = bed.spawn_py(1, _fill(SUB, MOD=dst_mod, **kw), _py(dst_mod))
    rx.expect("ready")
    kw["ADDR"] = bed.addrs[0]
    tx = bed.spawn_py(0, _fill(PUB, MOD=src_mod, SIZE=size, N1=n1, **kw), _py(src_mod))
    if loss_after_join:
        tx.expect("joined", 30)
        bed.loss(1, loss_after_join)
        tx.send("go")
    tx.expect("sent1", 30)
    if cut is not None:
        import time

        rx.expect("mark", 30)  # the first part is across
        time.sleep(0.2)
        bed.link(1, False)
        tx.send("go")
        tx.expect("sent", 30)
        time.sleep(1.5)
        bed.link(1, True)
    got, rstats = json.loads(rx.expect("result", 40).split(" ", 1)[1])
    tx.send("stop")
    sstats = json.loads(tx.expect("stats", 10).split(" ", 1)[1])
    return got, rstats, sstats


@pytest.fixture
def bed(netbed):
    def spawn_py(i, code, py=None):
        if py is None:
            return netbed.spawn(i, code)
        from netbed import Proc

        p = Proc(["ip", "netns", "exec", netbed.hosts[i], py, "-c", code], dict(os.environ))
        netbed.procs.append(p.popen)
        return p

    netbed.spawn_py = spawn_py
    return netbed


@pytest.mark.parametrize("loss", [0, 1, 5])
def test_epgm_fastzmq_both_ends_with_loss(bed, loss):
    bed.loss(1, loss)
    n = 1500
    got, rstats, sstats = run_pair(bed, "fastzmq", "fastzmq", n, size=900)
    assert got == expected(n, 900), (rstats, sstats)  # every message, in order, whole
    assert rstats["lost"] == 0 and rstats["loss_events"] == 0
    if loss:
        assert rstats["repaired"] > 0 and sstats["rdata"] >= rstats["repaired"]
        assert rstats["nak_sent"] > 0 and sstats["naks"] > 0
    else:
        assert rstats["repaired"] == 0


def test_epgm_receiver_out_of_window_loses_visibly(bed):
    # RATE 1000 kbit/s and RECOVERY_IVL 200 ms: a window of 16 packets; the receiver's
    # cable is cut while ~100 packets go out, so the repair is impossible
    n = 300
    got, rstats, sstats = run_pair(
        bed, "fastzmq", "fastzmq", n, size=1400, rate=1000, rivl=200, cut=100, timeout=3000
    )
    want = expected(n, 1400)
    assert rstats["lost"] > 0 and rstats["loss_events"] > 0
    assert got[:100] == want[:100]
    rest = got[100:]
    assert rest and len(got) < n
    start = want.index(rest[0])  # resumed at a whole message, and in order from there
    assert rest == want[start : start + len(rest)]
    assert sstats["window"] <= 16


@pytest.mark.parametrize("loss", [0, 5])
def test_epgm_interop_fastzmq_pub_to_libzmq_sub(bed, loss):
    why = _libzmq_pgm()
    if why:
        pytest.skip(why)
    bed.loss(1, loss)
    n = 600
    got, _, sstats = run_pair(bed, "fastzmq", "zmq", n, size=700)
    assert got == expected(n, 700)
    if loss:
        assert sstats["naks"] > 0 and sstats["rdata"] > 0  # OpenPGM's NAKs, our repairs


@pytest.mark.parametrize("loss", [0, 5])
def test_epgm_interop_libzmq_pub_to_fastzmq_sub(bed, loss):
    why = _libzmq_pgm()
    if why:
        pytest.skip(why)
    bed.loss(1, loss)
    n = 600
    got, rstats, _ = run_pair(bed, "zmq", "fastzmq", n, size=700)
    assert got == expected(n, 700)
    assert rstats["lost"] == 0
    if loss:
        assert rstats["nak_sent"] > 0 and rstats["repaired"] > 0  # OpenPGM answered our NAKs


def test_epgm_fastzmq_source_repairs_libzmq_under_heavy_loss(bed):
    """OpenPGM's receiver NAKs in lists under 40% loss; we answer with NCF lists and
    RDATA for each listed packet: every message arrives, in order."""
    why = _libzmq_pgm()
    if why:
        pytest.skip(why)
    n = 1500
    got, _, sstats = run_pair(bed, "fastzmq", "zmq", n, size=700, loss_after_join=40)
    assert got == expected(n, 700)
    assert sstats["ncfs"] >= sstats["rdata"] > 0 and sstats["naks"] > 0


def test_epgm_libzmq_source_repairs_our_nak_lists(bed):
    """Under heavy loss our receiver NAKs several packets at once (OPT_NAK_LIST, as
    OpenPGM's receivers do); OpenPGM's source repairs every one of them."""
    why = _libzmq_pgm()
    if why:
        pytest.skip(why)
    n = 1500
    got, rstats, _ = run_pair(bed, "zmq", "fastzmq", n, size=700, loss_after_join=40)
    assert got == expected(n, 700)
    assert rstats["lost"] == 0 and rstats["repaired"] > 0
    assert rstats["nak_packets"] < rstats["nak_sent"]  # some NAKs listed several sqns


@pytest.mark.parametrize("direction", ["fastzmq", "to-libzmq", "from-libzmq"])
def test_pgm_raw_ip(bed, direction):
    """pgm:// (IP protocol 113 on raw sockets: needs CAP_NET_RAW; the bed runs as root)."""
    if direction != "fastzmq":
        why = _libzmq_pgm()
        if why:
            pytest.skip(why)
    bed.loss(1, 3)
    src = "zmq" if direction == "from-libzmq" else "fastzmq"
    dst = "zmq" if direction == "to-libzmq" else "fastzmq"
    n = 300
    got, rstats, sstats = run_pair(bed, src, dst, n, size=500, scheme="pgm")
    assert got == expected(n, 500)
    if dst == "fastzmq":
        assert rstats["lost"] == 0
    if src == "fastzmq":
        assert sstats["odata"] > 0


CAPTURE = """
import json, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("@GROUP@") + socket.inet_aton("0.0.0.0"))
s.settimeout(2)
print("ready", flush=True)
seen = []
try:
    while True:
        d = s.recv(65536)
        if d[16:20] == socket.inet_aton("@GROUP@") and struct.unpack("!H", d[22:24])[0] == @PORT@:
            seen.append((d[8], struct.unpack("!H", d[2:4])[0]))  # TTL, IP total length
except socket.timeout:
    pass
print("seen", json.dumps(seen), flush=True)
"""

OPTS_PUB = """
import json, time, fastzmq as zmq
from fastzmq import _pgm_transport
c = zmq.Context()
p = c.socket(zmq.PUB)
p.multicast_hops = 5
p.multicast_maxtpdu = 600
p.rate = 800  # kbit/s: 100 kB/s
p.recovery_ivl = 1000  # window: (800 // 8) * 1000 // 600 = 166 packets
p.sndhwm = 0
p.connect("epgm://@ADDR@;@GROUP@:@PORT@")
t0 = time.monotonic()
for i in range(100):
    p.send(b"%d " % i + b"z" * 1000)
last, t_last = -1, t0
while time.monotonic() - t_last < 0.3:  # until no ODATA for 0.3 s
    time.sleep(0.01)
    n = _pgm_transport.stats(p)["odata"]
    if n != last:
        last, t_last = n, time.monotonic()
elapsed = t_last - t0
print("result", json.dumps([elapsed, _pgm_transport.stats(p)]), flush=True)
p.close(0); c.term()
"""

LOOP = """
import fastzmq as zmq
c = zmq.Context()
got = []
for loop in (0, 1):
    p = c.socket(zmq.PUB); p.multicast_loop = loop; p.rate = 10000
    s = c.socket(zmq.SUB); s.subscribe(b""); s.rcvtimeo = 1000
    url = "epgm://@ADDR@;239.192.7.@N@:5562"
    s.connect(url); p.connect(url)
    for i in range(20):
        p.send(b"hello")
    n = 0
    try:
        while n < 20:
            s.recv(); n += 1
    except zmq.Again:
        pass
    got.append(n)
    p.close(0); s.close(0)
c.term()
print("result", got, flush=True)
"""


def test_epgm_options_take_effect(bed):
    """MULTICAST_HOPS is the TTL on the wire, MULTICAST_MAXTPDU bounds the datagrams,
    RATE paces ODATA, RATE*RECOVERY_IVL/MAXTPDU sizes the window, MULTICAST_LOOP
    decides whether a receiver on the sending host hears it."""
    cap = bed.spawn(1, _fill(CAPTURE, GROUP=GROUP, PORT=PORT))
    cap.expect("ready")
    pub = bed.spawn(0, _fill(OPTS_PUB, ADDR=bed.addrs[0], GROUP=GROUP, PORT=PORT))
    elapsed, stats = json.loads(pub.expect("result", 20).split(" ", 1)[1])
    seen = json.loads(cap.expect("seen", 20).split(" ", 1)[1])
    assert len(seen) >= stats["odata"] > 150  # 100 kB in TSDUs of 546 bytes
    assert {ttl for ttl, _ in seen} == {5}
    assert max(size for _, size in seen) <= 600
    assert max(size for _, size in seen) > 550  # the TSDUs are filled up to it
    assert stats["window"] == 166
    sent = sum(size for _, size in seen)
    assert elapsed > 0.7 * sent / 100_000  # paced (a lower bound: load only adds)
    lp = bed.run(0, _fill(LOOP, ADDR=bed.addrs[0], N=9), timeout=20)
    assert lp.returncode == 0, lp.stderr
    assert lp.stdout.split("result", 1)[1].strip() == "[0, 20]"


SAME_HOST = """
import time, fastzmq as zmq
c = zmq.Context()
url = "epgm://eth0;239.192.7.20:5563"  # an interface name
out = {}
# XPUB -> XSUB, and SUB's own filter (PGM carries no subscriptions)
xp = c.socket(zmq.XPUB); xp.rate = 10000
xs = c.socket(zmq.XSUB); xs.rcvtimeo = 2000
sub = c.socket(zmq.SUB); sub.subscribe(b"a"); sub.rcvtimeo = 2000
xs.connect(url); sub.connect(url); xp.connect(url)
out["wait_subscribed"] = sub.wait_subscribed(2000)  # PGM carries none: the SUB filters
xs.send(b"\\x01")  # subscribe all (locally: PGM does not carry it)
out["xpub_sees"] = xp.recv()  # the transport's subscribe-all
for t in (b"a1", b"b1", b"a2"):
    xp.send_multipart([t, b"body"])
out["xsub"] = [xs.recv_multipart() for _ in range(3)]
out["sub"] = [sub.recv_multipart() for _ in range(2)]
sub.rcvtimeo = 300
try:
    out["sub_extra"] = sub.recv_multipart()
except zmq.Again:
    out["sub_extra"] = None
# disconnect: the endpoint goes, nothing more arrives
xs.disconnect(url)
xp.send(b"after")
xs.rcvtimeo = 500
try:
    out["after_disconnect"] = xs.recv()
except zmq.Again:
    out["after_disconnect"] = None
xp.close(0); xs.close(0); sub.close(0)
# SNDBUF/RCVBUF are the PGM sockets' (the kernel doubles what it is given)
import socket
r = c.socket(zmq.SUB); r.rcvbuf = 100000; r.connect(url)
w = c.socket(zmq.PUB); w.sndbuf = 60000; w.connect(url)
def pgm_sockets(sock):
    return [o for io in c._io for o in io.by_socket.get(sock, ())]
out["rcvbuf"] = pgm_sockets(r)[0].inp.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
out["sndbuf"] = pgm_sockets(w)[0].out.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
r.close(0); w.close(0)
# two sources on one group: each one's messages whole and in order
pa = c.socket(zmq.PUB); pa.rate = 10000
pb = c.socket(zmq.PUB); pb.rate = 10000
s2 = c.socket(zmq.SUB); s2.subscribe(b""); s2.rcvtimeo = 2000
s2.connect(url); pa.connect(url); pb.connect(url)
for i in range(50):
    pa.send_multipart([b"a", b"%d" % i, b"x" * 2000])
    pb.send_multipart([b"b", b"%d" % i, b"y" * 2000])
two = {b"a": [], b"b": []}
try:
    for _ in range(100):
        f = s2.recv_multipart()
        assert len(f) == 3 and len(f[2]) == 2000, f
        two[f[0]].append(int(f[1]))
except zmq.Again:
    pass
out["two_sources"] = two
pa.close(0); pb.close(0); s2.close(0)
# a default-LINGER close flushes what is queued (paced at RATE), then term() returns
p = c.socket(zmq.PUB); p.rate = 1000; p.sndhwm = 0
s = c.socket(zmq.SUB); s.subscribe(b""); s.rcvtimeo = 5000
s.connect(url); p.connect(url)
for i in range(40):
    p.send(b"%d" % i + b"q" * 1000)
t0 = time.monotonic()
p.close()
out["linger_s"] = round(time.monotonic() - t0, 2)
n = 0
try:
    while n < 40:
        s.recv(); n += 1
except zmq.Again:
    pass
out["after_close"] = n
s.close(0)
c.term()
print("result", repr(out), flush=True)
"""


def test_epgm_xpub_xsub_filter_disconnect_linger_buffers(bed):
    import ast

    r = bed.run(0, _fill(SAME_HOST, ADDR=bed.addrs[0]), timeout=30)
    assert r.returncode == 0, r.stderr
    out = ast.literal_eval(r.stdout.split("result", 1)[1].strip())
    assert out["xpub_sees"] == b"\x01"
    assert out["wait_subscribed"] is True
    assert out["xsub"] == [[b"a1", b"body"], [b"b1", b"body"], [b"a2", b"body"]]
    assert out["sub"] == [[b"a1", b"body"], [b"a2", b"body"]] and out["sub_extra"] is None
    assert out["after_disconnect"] is None
    assert out["after_close"] == 40
    assert (out["rcvbuf"], out["sndbuf"]) == (200000, 120000)
    assert out["two_sources"] == {b"a": list(range(50)), b"b": list(range(50))}


LATE = """
import json, sys, time
import @MOD@ as zmq
c = zmq.Context()
p = c.socket(zmq.PUB)
p.setsockopt(zmq.RATE, 4000)
p.setsockopt(zmq.SNDHWM, 0)
p.connect("epgm://@ADDR@;@GROUP@:@PORT@")
print("ready", flush=True)
t0 = time.monotonic()
i = 0
while time.monotonic() - t0 < 3.0:
    # each message spans several packets: a late joiner lands mid-message
    p.send_multipart([b"%d" % i, b"a" * 3000, b"b" * 2000, b"end%d" % i])
    i += 1
    time.sleep(0.01)
print("sent", i, flush=True)
time.sleep(0.5)
p.close(0); c.term()
"""

LATE_SUB = """
import json, time
import @MOD@ as zmq
c = zmq.Context()
s = c.socket(zmq.SUB)
s.setsockopt(zmq.SUBSCRIBE, b"")
s.setsockopt(zmq.RCVTIMEO, 2000)
s.setsockopt(zmq.RATE, 4000)
s.connect("epgm://@ADDR@;@GROUP@:@PORT@")
got = []
try:
    while True:
        f = s.recv_multipart()
        got.append([f[0].decode(), len(f[1]), len(f[2]), f[3].decode(), len(f)])
except zmq.Again:
    pass
print("result", json.dumps(got), flush=True)
s.close(0); c.term()
"""


@pytest.mark.parametrize(
    ("src", "dst"), [("fastzmq", "fastzmq"), ("zmq", "fastzmq"), ("fastzmq", "zmq")]
)
def test_epgm_late_joiner_starts_at_a_message_boundary(bed, src, dst):
    if "zmq" in (src, dst):
        why = _libzmq_pgm()
        if why:
            pytest.skip(why)
    kw = dict(GROUP=GROUP, PORT=PORT)
    pub = bed.spawn_py(0, _fill(LATE, MOD=src, ADDR=bed.addrs[0], **kw), _py(src))
    pub.expect("ready")
    import time

    time.sleep(1.0)  # the stream is well under way
    sub = bed.spawn_py(1, _fill(LATE_SUB, MOD=dst, ADDR=bed.addrs[1], **kw), _py(dst))
    got = json.loads(sub.expect("result", 20).split(" ", 1)[1])
    sent = int(pub.expect("sent", 10).split()[1])
    assert 0 < len(got) < sent
    first = int(got[0][0])
    assert first > 0  # joined late
    # whole messages only, from a message start, in order, none missing
    assert got == [[str(i), 3000, 2000, f"end{i}", 4] for i in range(first, first + len(got))]


BACKPRESSURE = """
import time, fastzmq as zmq
from fastzmq import _pgm_transport
c = zmq.Context()
url = "epgm://eth0;239.192.7.30:5564"
p = c.socket(zmq.PUB); p.rate = 50000; p.sndhwm = 0
s = c.socket(zmq.SUB); s.subscribe(b""); s.rcvhwm = 10; s.rcvtimeo = 5000
s.rate = 50000  # the receive window follows RATE * RECOVERY_IVL, as in libzmq
s.connect(url); p.connect(url)
for i in range(3000):
    p.send(b"%d " % i + b"w" * 1000)
time.sleep(1.5)  # the subscriber does not read: its side fills up
got = []
try:
    while len(got) < 3000:
        got.append(int(s.recv().split()[0]))
except zmq.Again:
    pass
print("result", got == list(range(3000)), _pgm_transport.stats(s), flush=True)
p.close(0); s.close(0); c.term()
"""


def test_epgm_full_subscriber_pauses_instead_of_dropping(bed):
    """A SUB at RCVHWM: the transport stops reading the network (libzmq's receiver stops
    polling); what the kernel then drops is repaired from the source's window."""
    r = bed.run(0, BACKPRESSURE, timeout=40)
    assert r.returncode == 0, r.stderr
    ok, stats = r.stdout.split("result ", 1)[1].split(" ", 1)
    assert ok == "True", stats
    assert "'pauses': 0," not in stats and "'lost': 0," in stats


@pytest.mark.netbed(hosts=3)
def test_epgm_two_receivers_with_loss(bed):
    """One source, receivers on two hosts, each losing 5%: both get everything; the
    source's NCFs stand for the other receiver's NAKs too."""
    bed.loss(1, 5)
    bed.loss(2, 5)
    n, size = 800, 600
    kw = dict(GROUP=GROUP, PORT=PORT, N=n, TIMEOUT=8000, RATE=20000, RIVL=10000, SCHEME="epgm")
    kw["MARK"], kw["HOLD"] = -1, False
    rxs = [bed.spawn(i, _fill(SUB, MOD="fastzmq", ADDR=bed.addrs[i], **kw)) for i in (1, 2)]
    for rx in rxs:
        rx.expect("ready")
    tx = bed.spawn(0, _fill(PUB, MOD="fastzmq", SIZE=size, N1=n, ADDR=bed.addrs[0], **kw))
    results = [json.loads(rx.expect("result", 40).split(" ", 1)[1]) for rx in rxs]
    tx.send("stop")
    sstats = json.loads(tx.expect("stats", 10).split(" ", 1)[1])
    for got, rstats in results:
        assert got == expected(n, size)
        assert rstats["lost"] == 0 and rstats["repaired"] > 0
    assert sstats["rdata"] > 0

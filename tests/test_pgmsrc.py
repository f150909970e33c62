"""The PGM source's C send path (fastzmq._pgmsrc), without an engine: ZMTP 3 bytes in,
ODATA packets out on a real UDP socket, byte-exact against libzmq's capture and the
Python reference (_pgm.Packer, build_data), the window, pacing and the hold."""

from __future__ import annotations

import errno
import os
import random
import socket

import pytest

from conftest import fd_readable
from fastzmq import _pgm
from test_pgm import GSI, LIB_ODATA

_pgmsrc = pytest.importorskip("fastzmq._pgmsrc", reason="built on Linux only")


def zmtp3(msgs: list, commands: bool = False) -> bytes:
    out = bytearray()
    for frames in msgs:
        if commands:
            out += b"\x04\x05\x04PING"  # a command between messages: not for PGM
        for i, f in enumerate(frames):
            more = 1 if i < len(frames) - 1 else 0
            if len(f) < 256:
                out += bytes((more, len(f))) + f
            else:
                out += bytes((more | 2,)) + len(f).to_bytes(8, "big") + f
    return bytes(out)


@pytest.fixture
def udp():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tfd = _pgmsrc.timer_fd()
    yield rx, tx, tfd
    rx.close()
    tx.close()
    os.close(tfd)


def source(udp, cap=1500, sqns=1000, rate=1e12, sport=0xE1B6, dport=5555):
    rx, tx, tfd = udp
    header = _pgm.HEADER.pack(sport, dport, _pgm.ODATA, 0, 0, GSI, 0)
    port = rx.getsockname()[1]
    return _pgmsrc.Source(
        tx.fileno(), header, cap, sqns, rate, socket.inet_aton("127.0.0.1"), port, tfd, -1
    )


def test_libzmq_packet_byte_exact(udp):
    src = source(udp)
    data = zmtp3([[b"hello"], [b"A", b"BB"], [b"x" * 300]])
    assert src.feed(data) == len(data)
    assert src.packet(0) == LIB_ODATA
    assert udp[0].recv(65536) == LIB_ODATA  # sent as built
    assert (src.lead, src.trail, src.odata, len(src)) == (0, 0, 1, 1)
    assert src.odata_bytes == len(LIB_ODATA)


@pytest.mark.parametrize("seed", range(4))
def test_any_cut_decodes_to_the_same_messages(udp, seed):
    """Fed in random pieces (cut inside headers and bodies), with commands between
    messages: every packet is valid ODATA in sequence, and the TSDUs decode to the
    messages sent; fed at once, the TSDUs are exactly the Python Packer's."""
    rnd = random.Random(seed)
    msgs = [
        [
            rnd.randbytes(rnd.choice((0, 1, 7, 200, 254, 255, 300, 3000)))
            for _ in range(rnd.randint(1, 3))
        ]
        for _ in range(60)
    ]
    data = zmtp3(msgs, commands=True)
    cap = rnd.choice((100, 546, 1452))
    src = source(udp, cap=cap)
    p = 0
    while p < len(data):
        k = rnd.randint(1, 700)
        n = src.feed(data[p : p + k])
        assert n == min(k, len(data) - p)
        p += n
    dec = _pgm.Decoder()
    got = []
    for sqn in range(src.odata):
        pkt = _pgm.parse(udp[0].recv(65536))  # checksum verified
        assert (pkt.type, pkt.sqn, pkt.trail, pkt.gsi) == (_pgm.ODATA, sqn, 0, GSI)
        assert len(pkt.data) <= cap and pkt.data == src.get(sqn)
        got += dec.feed(pkt.data)
    assert got == msgs
    whole = source(udp, cap=cap)
    assert whole.feed(data) == len(data)
    packer = _pgm.Packer(cap)
    packer.add_zmtp3(bytearray(data))
    assert [whole.get(i) for i in range(whole.odata)] == packer.take()


def test_window_keeps_the_last_sqns_for_repairs(udp):
    src = source(udp, cap=100, sqns=5)
    data = zmtp3([[b"m%d" % i + b"z" * 150] for i in range(10)])
    assert src.feed(data) == len(data)
    n = src.odata
    assert n > 5 and len(src) == 5
    assert (src.lead, src.trail) == (n - 1, n - 5)
    assert (n - 6) not in src and src.get(n - 6) is None and (n - 5) in src
    last = _pgm.parse(src.packet(n - 1))
    assert (last.sqn, last.trail) == (n - 1, n - 5)  # the trail on the wire follows
    # the Python Sender answers NAKs and builds RDATA from this window
    tx = _pgm.Sender(GSI, 0xE1B6, 5555, "127.0.0.1", "239.1.1.1", 5)
    tx.window, tx.lead, tx.trail = src, src.lead, src.trail
    nak = _pgm.parse(
        _pgm.build_nak(5555, 0xE1B6, GSI, n - 2, "127.0.0.1", "239.1.1.1", more=[n - 6])
    )
    assert len(tx.on_nak(nak)) == 1 and list(tx.repair_q) == [n - 2]  # n-6 is gone
    rdata = tx.rdata_packet(0.0)
    assert rdata == _pgm.build_data(0xE1B6, 5555, GSI, n - 2, n - 5, src.get(n - 2), True)


def test_pacing_stops_and_arms_the_timer(udp):
    rx, tx, tfd = udp
    src = source(udp, cap=1000, rate=100_000)  # 100 kB/s: about 1.2 kB per burst
    data = zmtp3([[b"p" * 900] for _ in range(50)])
    taken = 0
    while True:
        n = src.feed(data[taken:])
        if n < 0:
            break
        taken += n
    assert n == -errno.EAGAIN and 0 < taken < len(data)
    assert src.paced >= 1 and src.odata < 10
    assert fd_readable(tfd, 2000)  # the timer wakes the engine
    assert src.feed(data[taken:]) > 0  # and then it goes on


def test_hold_stops_new_data(udp):
    src = source(udp)
    src.hold = True  # repairs are queued: RDATA goes first
    data = zmtp3([[b"held"]])
    assert src.feed(data) == -errno.EAGAIN and src.odata == 0
    src.hold = False
    assert src.feed(data) == len(data) and src.odata == 1

"""The PGM receiver's C data path (fastzmq._pgmrcv) against the Python Receiver, on the
same packets: datagrams sent to a real UDP socket, read by the engine's hook (``read``)
with what it queues handled by ``_pgm_transport.RxPath`` (the transport's glue), and
compared byte for byte with the sans-I/O ``_pgm.Receiver`` fed the same packets."""

from __future__ import annotations

import os
import random
import socket

import pytest

from fastzmq import _pgm

_pgmrcv = pytest.importorskip("fastzmq._pgmrcv", reason="built on Linux only")
_pgmsrc = pytest.importorskip("fastzmq._pgmsrc", reason="built on Linux only")
from fastzmq._pgm_transport import RxPath  # noqa: E402

GSI = bytes.fromhex("b7c6d1bc038a")
GSI2 = bytes.fromhex("0102030405a6")
SPORT, DPORT = 0xA238, 5555
TSDU = 200  # small packets: messages run across several


def messages(n: int, seed: int = 1) -> list:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = rng.choice((0, 3, 40, 150, 300, 700))  # some longer than a packet
        frames = [b"%d" % i, bytes(rng.randrange(256) for _ in range(size))]
        if i % 7 == 3:
            frames.append(b"tail")
        out.append(frames)
    return out


def zmtp3(msgs: list) -> bytes:
    out = bytearray()
    for frames in msgs:
        for i, f in enumerate(frames):
            more = 1 if i < len(frames) - 1 else 0
            if len(f) < 256:
                out += bytes((more, len(f))) + f
            else:
                out += bytes((more | 2,)) + len(f).to_bytes(8, "big") + f
    return bytes(out)


def data_packets(msgs: list, gsi: bytes = GSI, sport: int = SPORT, first: int = 0) -> list:
    pk = _pgm.Packer(TSDU)
    for m in msgs:
        pk.add(m)
    return [
        _pgm.build_data(sport, DPORT, gsi, first + i, first, t) for i, t in enumerate(pk.take())
    ]


class CSide:
    """The C path with the transport's glue, on a loopback UDP socket."""

    def __init__(self, maxmsgsize: int = -1) -> None:
        self.rs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rs.bind(("127.0.0.1", 0))
        self.rs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.ts = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.efd = _pgmsrc.event_fd()
        self.crx = _pgmrcv.Receiver(self.rs.fileno(), False, b"", DPORT, self.efd)
        rx = _pgm.Receiver(DPORT, "239.1.1.1", maxmsgsize, 1000, True, _pgmrcv.Decoder)
        self.rx = rx
        self.path = RxPath(rx, self.crx)
        self.out = bytearray()
        self.seen = 0

    def send(self, pkts: list) -> None:
        for p in pkts:
            self.ts.sendto(p, self.rs.getsockname())

    def pump(self) -> None:
        """The engine's reads until EAGAIN, then Python's turn, until nothing moves."""
        while True:
            while (b := self.crx.read(997)) is not None:  # an odd size: cuts anywhere
                self.out += b
            queued = self.crx.stats()["slow_packets"]
            for c in self.path.slow(0.0):
                self.crx.deliver(c)
            if queued == self.seen and self.crx.pending == 0:
                return
            self.seen = queued

    def feed(self, pkts: list, batch: bool = False) -> None:
        if batch:
            self.send(pkts)
            self.pump()
            return
        for p in pkts:
            self.send([p])
            self.pump()

    def stats(self) -> dict:
        d, got = self.path.stats()
        assert got == []  # (pump handled the queue)
        return d

    def close(self) -> None:
        self.crx.close()
        self.rs.close()
        self.ts.close()
        os.close(self.efd)


def python_side(pkts: list, maxmsgsize: int = -1) -> tuple:
    rx = _pgm.Receiver(DPORT, "239.1.1.1", maxmsgsize, 1000, True)
    out = bytearray()
    for p in pkts:
        try:
            pkt = _pgm.parse(p)
        except _pgm.PgmError:
            continue
        for c in rx.on_packet(pkt, "127.0.0.1", 0.0):
            out += c
    return bytes(out), {**rx.stats(), "losses": rx.losses}


KEYS = ("delivered", "lost", "repaired", "duplicates", "held", "naks_pending")


def check(pkts: list, batch: bool = False, maxmsgsize: int = -1) -> dict:
    c = CSide(maxmsgsize)
    try:
        c.feed(pkts, batch)
        want, wstats = python_side(pkts, maxmsgsize)
        got = c.stats()
        assert bytes(c.out) == want
        assert {k: got[k] for k in KEYS} == {k: wstats[k] for k in KEYS}
        assert c.rx.losses == wstats["losses"]  # the monitor's EVENT_PGM_DATA_LOST values
        return {**got, "losses": sum(n for _, n in c.rx.losses)}
    finally:
        c.close()


@pytest.mark.parametrize("batch", [False, True])
def test_in_order_goes_through_c(batch):
    msgs = messages(120)
    pkts = data_packets(msgs)
    st = check(pkts, batch)
    assert st["delivered"] == 120
    if not batch:  # the first packet (a new source) is Python's, the rest the C path's
        assert st["slow_packets"] == 1 and st["fast_packets"] == len(pkts) - 1
    else:  # read before Python's turn: the new source's packets queue behind its first
        assert st["slow_packets"] == len(pkts)
    c = CSide()
    try:
        c.feed(pkts, batch)
        assert bytes(c.out) == zmtp3(msgs)  # exactly the ZMTP 3 a tcp peer would send
    finally:
        c.close()


@pytest.mark.parametrize("batch", [False, True])
def test_gap_then_repair(batch):
    msgs = messages(80, seed=2)
    pkts = data_packets(msgs)
    k = len(pkts) // 3
    repair = _pgm.build_data(SPORT, DPORT, GSI, k, 0, _pgm.parse(pkts[k]).data, repair=True)
    order = pkts[:k] + pkts[k + 1 : k + 6] + [repair] + pkts[k + 6 :]
    st = check(order, batch)
    assert st["delivered"] == 80 and st["repaired"] == 1 and st["lost"] == 0
    if not batch:
        # Python sees the first packet, the one that shows the gap and the repair; the C
        # path holds the 4 after the gap for it, and decodes the rest
        assert st["slow_packets"] == 3 and st["held_packets"] == 4
        assert st["fast_packets"] == len(pkts) - 3 - 4


def test_hold_gives_way_when_the_trail_passes_the_gap():
    pkts = data_packets(messages(80, seed=12))
    tsdu = [_pgm.parse(p).data for p in pkts]
    # 10 is missing; 11-14 are held by C; then the source's trail moves past 10
    order = pkts[:10] + pkts[11:15]
    order += [_pgm.build_data(SPORT, DPORT, GSI, 15, 12, tsdu[15])] + pkts[16:]
    c = CSide()
    try:
        c.feed(order[:14])
        assert c.crx.modes == [2]  # holding for the repair
        assert c.crx.stats()["held_packets"] == 3
    finally:
        c.close()
    st = check(order)
    assert st["lost"] == 1 and st["losses"] == 1  # 10: behind the trail (11 is held)


def test_duplicates_and_corrupt_checksums():
    pkts = data_packets(messages(60, seed=3))
    bad = bytearray(pkts[5])
    bad[-1] ^= 0x55  # the checksum no longer matches
    order = pkts[:5] + [bytes(bad)] + pkts[5:9] + [pkts[7], pkts[3]] + pkts[9:]
    st = check(order)
    assert st["duplicates"] == 2 and st["bad_checksums"] == 1 and st["delivered"] == 60


def test_late_join_mid_message():
    msgs = messages(50, seed=4)
    pkts = data_packets(msgs)
    # start on a packet that carries the tail of a message first: the partial is skipped
    first = next(i for i, p in enumerate(pkts) if i and _pgm.parse(p).data[:2] != b"\x00\x00")
    st = check(pkts[first:])
    assert 0 < st["delivered"] < 50


def test_hand_over_mid_message_both_ways():
    """An SPM arrives while a message is cut across packets: Python finishes it with the
    decoder the C path started it with, then gives the source back."""
    msgs = [[b"big", b"y" * 900], [b"small"], [b"big2", b"z" * 700]]
    pkts = data_packets(msgs)
    spm = _pgm.build_spm(SPORT, DPORT, GSI, 0, 0, 1, "127.0.0.1")
    order = pkts[:2] + [spm] + pkts[2:4] + [spm] + pkts[4:]
    st = check(order)
    assert st["delivered"] == 3 and st["fast_packets"] > 0


def test_loss_out_of_window_and_fin():
    pkts = data_packets(messages(200, seed=5))
    # a jump further than the window (1000 packets) is not possible here: the trail moves
    order = (
        pkts[:10]
        + [_pgm.build_data(SPORT, DPORT, GSI, 14, 13, _pgm.parse(pkts[14]).data)]
        + pkts[15:]
    )
    st = check(order)
    assert st["lost"] == 3 and st["naks_pending"] == 1  # 10-12 behind the trail; 13 NAKed
    fin = _pgm.build_spm(SPORT, DPORT, GSI, 1, 0, len(pkts) + 3, "127.0.0.1", fin=True)
    st = check(pkts[:20] + pkts[25:] + [fin])
    # the gap, then what the FIN says was sent after (the source itself is forgotten)
    assert st["losses"] == 5 + 4 and st["lost"] == 0


def test_two_sources_interleaved_and_maxmsgsize():
    a = data_packets(messages(40, seed=6))
    b = data_packets(messages(40, seed=7), gsi=GSI2, sport=7)
    order = [p for pair in zip(a, b) for p in pair] + a[len(b) :] + b[len(a) :]
    assert check(order, batch=True)["delivered"] == 80
    st = check(order)
    assert st["delivered"] == 80 and st["fast_packets"] > 60
    st = check(order, maxmsgsize=200)  # larger frames: the message is dropped
    assert st["delivered"] < 80


def test_random_loss_repair_reorder_duplicates():
    rng = random.Random(8)
    seen = {"held_packets": 0, "fast_packets": 0, "repaired": 0}
    for _ in range(30):
        pkts = data_packets(messages(80, seed=rng.randrange(1000)))
        order: list = []
        repairs: list = []  # (position, packet)
        for i, p in enumerate(pkts):
            pkt = _pgm.parse(p)
            r = rng.random()
            if r < 0.12:  # lost; mostly repaired a little later
                if rng.random() < 0.8:
                    rd = _pgm.build_data(SPORT, DPORT, GSI, i, 0, pkt.data, repair=True)
                    repairs.append((len(order) + rng.randrange(1, 15), rd))
            elif r < 0.17 and order:
                order.insert(rng.randrange(max(0, len(order) - 5), len(order)), p)  # late
            else:
                order.append(p)
                if r > 0.96:
                    order.append(p)  # duplicate
                if r > 0.98:
                    order.append(_pgm.build_spm(SPORT, DPORT, GSI, i, 0, i, "127.0.0.1"))
        for pos, rd in sorted(repairs, key=lambda x: -x[0]):
            order.insert(min(pos, len(order)), rd)
        st = check(order, batch=rng.random() < 0.3)
        for k in seen:
            seen[k] += st[k]
    assert all(seen.values()), seen  # each path was taken


def test_a_timer_first_handles_the_queue():
    """The NAK timer may run before the queue's event: it handles the queued packets
    first, so no source goes back to C with packets of its own still queued."""
    pkts = data_packets(messages(60, seed=13))
    order = pkts[:5] + pkts[6:20] + pkts[5:6] + pkts[20:]
    c = CSide()
    try:
        for p in order:
            c.send([p])
            while (b := c.crx.read()) is not None:
                c.out += b
            naks, got = c.path.due(0.0)  # (no NAK due yet: the back-off is random)
            for g in got:
                c.crx.deliver(g)
        c.pump()
        want, _ = python_side(order)
        assert bytes(c.out) == want and c.stats()["delivered"] == 60
    finally:
        c.close()


def test_python_gets_its_turn_in_a_flood():
    """A new source's flood queues for Python; after SLOW_YIELD packets the hook lets
    Python run (EAGAIN) though the socket still holds datagrams, and reads on after."""
    pkts = data_packets([[b"%d" % i] for i in range(40000)])
    assert len(pkts) > 1100
    c = CSide()
    try:
        c.send(pkts)
        while c.crx.read() is not None:
            pass
        assert c.crx.stats()["slow_packets"] == 1024  # then it stopped: Python's turn
        c.pump()
        want, _ = python_side(pkts)
        assert bytes(c.out) == want and c.stats()["delivered"] == 40000
    finally:
        c.close()


def test_decoder_matches_python_decoder():
    """The shared Decoder keeps _pgm.Decoder.feed_v3's contract, errors included."""
    pk = _pgm.Packer(64)
    for m in messages(30, seed=9):
        pk.add(m)
    tsdus = pk.take()
    for maxmsgsize in (-1, 100):
        cd, pd = _pgmrcv.Decoder(maxmsgsize), _pgm.Decoder(maxmsgsize)
        for t in tsdus[3:] + [b"\x00", b"\x00\x00\x01"]:  # a late join; then bad TSDUs
            try:
                want = pd.feed_v3_py(t)
            except _pgm.PgmError:
                with pytest.raises(_pgm.PgmError):
                    cd.feed_v3(t)
                cd.reset()
                pd.reset()
                continue
            assert cd.feed_v3(t) == want
            assert cd.joined == pd.joined


def test_subscriptions_discarded_and_hook_addresses():
    c = CSide()
    try:
        fn, ctx = c.crx.hook
        dfn, dctx = c.crx.discard
        assert fn and ctx and dfn and dctx == ctx
        assert c.crx.read() is None  # nothing waits: EAGAIN, no block
    finally:
        c.close()

"""PGM packets and state machines (fastzmq._pgm), sans-I/O, against bytes libzmq 4.3.4 +
OpenPGM 5.3 put on the wire (captured on this project's test bed: a libzmq PUB sending
b"hello", [b"A", b"BB"] and 300 x b"x" on epgm://10.77.207.1;239.192.1.1:5555)."""

from __future__ import annotations

import errno
import struct
import sys

import pytest

import fastzmq as zmq
from fastzmq import _endpoint, _pgm

GSI = bytes.fromhex("b7c6d1bc038a")
LIB_SPM = bytes.fromhex("e1b615b30000a238b7c6d1bc038a00000000000000000000ffffffff000100000a4dcf01")
LIB_ODATA = bytes.fromhex(
    "e1b615b304002352b7c6d1bc038a01460000000000000000"
    "0000060068656c6c6f02014103004242ff000000000000012d00" + "78" * 300
)
LIB_FIN = bytes.fromhex(
    "e1b615b30001141fb7c6d1bc038a0000000000080000000000000000000100000a4dcf01000400088e040000"
)


def test_parse_libzmq_packets():
    spm = _pgm.parse(LIB_SPM)
    assert (spm.type, spm.sport, spm.dport, spm.gsi) == (_pgm.SPM, 0xE1B6, 5555, GSI)
    assert (spm.sqn, spm.trail, spm.lead, spm.nla) == (0, 0, 0xFFFFFFFF, "10.77.207.1")
    od = _pgm.parse(LIB_ODATA)
    assert (od.type, od.sqn, od.trail, len(od.data)) == (_pgm.ODATA, 0, 0, 326)
    fin = _pgm.parse(LIB_FIN)
    assert fin.options == ((_pgm.OPT_FIN, b"\0"),) and fin.sqn == 8


def test_build_is_byte_exact():
    assert _pgm.build_spm(0xE1B6, 5555, GSI, 0, 0, 0xFFFFFFFF, "10.77.207.1") == LIB_SPM
    assert _pgm.build_spm(0xE1B6, 5555, GSI, 8, 0, 0, "10.77.207.1", fin=True) == LIB_FIN
    assert _pgm.build_data(0xE1B6, 5555, GSI, 0, 0, _pgm.parse(LIB_ODATA).data) == LIB_ODATA


def test_checksum_is_verified():
    bad = bytearray(LIB_ODATA)
    bad[-1] ^= 1
    with pytest.raises(_pgm.PgmError):
        _pgm.parse(bytes(bad))
    nocsum = LIB_ODATA[:6] + b"\0\0" + LIB_ODATA[8:]  # 0: "no checksum" is accepted
    assert _pgm.parse(nocsum).data == _pgm.parse(LIB_ODATA).data
    with pytest.raises(_pgm.PgmError):
        _pgm.parse(LIB_ODATA[:20])


def test_packer_matches_libzmq_framing():
    p = _pgm.Packer(1448)
    p.add([b"hello"])
    p.add([b"A", b"BB"])
    p.add([b"x" * 300])
    assert p.take() == [_pgm.parse(LIB_ODATA).data]


def test_packer_offsets_across_packets():
    p = _pgm.Packer(12)  # 10 bytes of frames per packet
    p.add([b"a" * 15])  # 17 bytes: packets 0-1
    p.add([b"b"])  # starts at 17: packet 1, offset 7
    tsdus = p.take()
    offs = [struct.unpack("!H", t[:2])[0] for t in tsdus]
    assert offs == [0, 7]
    d = _pgm.Decoder()
    assert d.feed(tsdus[0]) == []
    assert d.feed(tsdus[1]) == [[b"a" * 15], [b"b"]]


def test_decoder_joins_at_a_message_start_and_drops_partials():
    p = _pgm.Packer(12)
    p.add([b"a" * 25])  # packets 0, 1, 2 (no start in 1)
    p.add([b"c"])
    tsdus = p.take()
    assert struct.unpack("!H", tsdus[1][:2])[0] == _pgm.NO_START
    late = _pgm.Decoder()
    assert late.feed(tsdus[1]) == []  # no start here: skipped
    assert late.feed(tsdus[2]) == [[b"c"]]  # joins at the start of [c]
    d = _pgm.Decoder()
    d.feed(tsdus[0])
    assert d.reset() == 1  # lost: the partial message goes
    assert d.feed(tsdus[2]) == [[b"c"]]


def _stream(n, tsdu=40):
    p = _pgm.Packer(tsdu)
    msgs = [[b"m%d" % i, b"y" * (i % 30)] for i in range(n)]
    for m in msgs:
        p.add(m)
    return msgs, p.take()


def test_sender_receiver_repair():
    msgs, tsdus = _stream(40)
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=1000)
    rx = _pgm.Receiver(5555, "239.1.1.1")
    got = []
    now = 0.0
    got += rx.on_packet(_pgm.parse(tx.spm_packet(now)), "10.0.0.1", now)
    for i, t in enumerate(tsdus):
        pkt = tx.odata_packet(t)
        if i % 5 == 2:
            continue  # lost on the wire
        got += rx.on_packet(_pgm.parse(pkt), "10.0.0.1", now)
    assert len(got) < len(msgs)
    now += 1.0
    out, freed = rx.due(now)
    lost = [i for i in range(len(tsdus)) if i % 5 == 2]
    assert len(out) == 1 and not freed  # one NAK lists them all (OPT_NAK_LIST)
    [(dest, nak)] = out
    assert dest == "10.0.0.1"
    assert _pgm.requested(_pgm.parse(nak)) == lost
    ncfs = tx.on_nak(_pgm.parse(nak))
    [ncf] = [_pgm.parse(n) for n in ncfs]  # one NCF names them all, as the NAK did
    assert ncf.type == _pgm.NCF and _pgm.requested(ncf) == lost
    assert tx.on_nak(_pgm.parse(nak)) == ncfs  # a repeat: the NCF again, no more RDATA
    for ncf in ncfs:
        got += rx.on_packet(_pgm.parse(ncf), "10.0.0.1", now)
    for _ in lost:
        got += rx.on_packet(_pgm.parse(tx.rdata_packet(now)), "10.0.0.1", now)
    assert tx.rdata_packet(now) is None
    assert got == msgs
    assert rx.stats()["repaired"] == len(lost) and rx.stats()["lost"] == 0


def test_naks_list_up_to_63_sqns():
    """100 lost packets are NAKed in two NAKs (63 + 37 sqns), each sqn once, in order;
    the packet is what OpenPGM sends (the options byte: present + network-significant)."""
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=1000)
    rx = _pgm.Receiver(5555, "239.1.1.1", sqns=1000)
    rx.on_packet(_pgm.parse(tx.spm_packet(0.0)), "10.0.0.1", 0.0)
    pkts = [tx.odata_packet(b"\0\0" + bytes([i % 256])) for i in range(202)]
    for i, pkt in enumerate(pkts):
        if i % 2 == 0 or i == 201:
            rx.on_packet(_pgm.parse(pkt), "10.0.0.1", 0.0)
    out, _ = rx.due(1.0)
    naks = [_pgm.parse(n) for _, n in out]
    assert [len(_pgm.requested(n)) for n in naks] == [63, 37]
    assert sum((_pgm.requested(n) for n in naks), []) == list(range(1, 201, 2))
    assert all(n.type == _pgm.NAK and n.options[0][0] == _pgm.OPT_NAK_LIST for n in naks)
    assert out[0][1][5] == _pgm.OPT_PRESENT | 0x02
    assert rx.stats()["nak_sent"] == 100 and rx.stats()["nak_packets"] == 2


def test_sender_spm_heartbeats_from_the_start_and_through_a_burst():
    """A receiver learns where to send NAKs only from an SPM (OpenPGM counts a gap it
    cannot NAK as lost), so the session opens with the heartbeat series, and a long burst
    still carries an SPM every 0.1 s instead of pushing it past the burst's end."""
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=1000)
    sent = []
    now = 0.0
    while now < 1.5:  # idle: the series after the first SPM, not the 30 s ambient
        if tx.spm_due(now) <= now:
            pkt = _pgm.parse(tx.spm_packet(now))
            assert pkt.type == _pgm.SPM and pkt.nla == "10.0.0.1"
            sent.append(round(now, 2))
        now = round(now + 0.01, 2)
    assert sent == pytest.approx([0.0, 0.1, 0.2, 0.3], abs=0.011)  # then 1.3 s later
    sent.clear()
    end = now + 2.0
    while now < end:  # a burst: data every 10 ms for 2 s
        tx.odata_packet(b"x")
        tx.data_sent(now)
        if tx.spm_due(now) <= now:
            tx.spm_packet(now)
            sent.append(now)
        now = round(now + 0.01, 2)
    assert len(sent) >= 18 and max(b - a for a, b in zip(sent, sent[1:])) <= 0.11
    assert tx.spm_due(now) - now <= 0.1  # and the series goes on after it


def test_sender_spm_heartbeats_start_over_after_repairs():
    """RDATA is data going out: the heartbeat series starts over, so a receiver still
    repairing hears an SPM within 0.1 s of the last repair, not when the series after the
    burst would next send one (libzmq's receiver runs its NAK timers only when a packet
    comes; a lost repair then stalled it for 7 s under 40% loss)."""
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=1000)
    now = 0.0
    for i in range(10):
        tx.odata_packet(b"\0\0%d" % i)
    tx.data_sent(now)
    while now < 2.0:  # the series after the burst: 0.1 s steps, then 1.3 s
        if tx.spm_due(now) <= now:
            tx.spm_packet(now)
        now = round(now + 0.01, 2)
    assert tx.spm_due(now) - now > 1.0  # idle: the next SPM is far off
    nak = _pgm.build_nak(5555, 7000, GSI, 3, "10.0.0.1", "239.1.1.1", more=(5,))
    tx.on_nak(_pgm.parse(nak))
    assert tx.spm_due(now) - now > 1.0  # an NCF alone is no data
    assert tx.rdata_packet(now) is not None
    assert tx.spm_due(now) == pytest.approx(now + 0.1)
    assert tx.rdata_packet(now + 0.05) is not None
    assert tx.spm_due(now) == pytest.approx(now + 0.1)  # a due SPM keeps its time
    assert tx.rdata_packet(now + 0.05) is None
    assert tx.spm_due(now) == pytest.approx(now + 0.1)  # nothing sent: nothing changes


def test_receiver_out_of_window_loses_visibly_never_partially():
    p = _pgm.Packer(30)
    msgs = [[b"m%d" % i, b"z" * 40] for i in range(30)]  # each spans packets
    for m in msgs:
        p.add(m)
    tsdus = p.take()
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=8)
    rx = _pgm.Receiver(5555, "239.1.1.1")
    got = []
    pkts = [tx.odata_packet(t) for t in tsdus]
    got += rx.on_packet(_pgm.parse(pkts[0]), "10.0.0.1", 0.0)
    for pkt in pkts[20:]:  # 1..19 never arrive, and left the window of 8
        got += rx.on_packet(_pgm.parse(pkt), "10.0.0.1", 0.0)
    assert rx.stats()["lost"] >= 19 - 8
    assert rx.losses
    assert got and all(m in msgs for m in got)  # whole messages only
    assert got == msgs[msgs.index(got[0]) :]  # and in order from a message start


def test_nak_retries_give_up():
    msgs, tsdus = _stream(40)
    assert len(tsdus) > 5
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=1000)
    rx = _pgm.Receiver(5555, "239.1.1.1")
    got = []
    pkts = [tx.odata_packet(t) for t in tsdus]
    for i, pkt in enumerate(pkts):
        if i != 3:
            got += rx.on_packet(_pgm.parse(pkt), "10.0.0.1", 0.0)
    now, sent = 0.0, 0
    while rx.next_deadline() is not None and now < 100:
        now = rx.next_deadline() + 0.001
        out, freed = rx.due(now)
        sent += len(out)
        got += freed
    assert sent == _pgm.NAK_RETRIES and rx.stats()["lost"] == 1
    assert got and all(m in msgs for m in got)


def test_window_size_rule():
    assert _pgm.window_sqns(100, 10000, 1500) == 80  # libzmq's defaults
    assert _pgm.window_sqns(1, 1, 1500) == 1
    assert _pgm.max_tsdu(1500) == 1448


def test_endpoint_syntax():
    ep = _endpoint.parse("epgm://eth0;239.192.1.1:5555")
    assert (ep.transport, ep.source, ep.host, ep.port) == ("epgm", "eth0", "239.192.1.1", 5555)
    ep = _endpoint.parse("pgm://10.0.0.1;239.192.1.1:7500")
    assert (ep.source, ep.host) == ("10.0.0.1", "239.192.1.1")
    for bad in ("epgm://239.192.1.1:5555", "epgm://eth0;10.0.0.1:5555", "epgm://x;239.1.1.1:0"):
        with pytest.raises(zmq.ZMQError) as e:
            _endpoint.parse(bad)
        assert e.value.errno == zmq.EINVAL


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PGM's C modules are built on Linux only"
)


@linux_only
def test_only_pub_sub_types(ctx):
    s = ctx.socket(zmq.PUSH)
    with pytest.raises(zmq.ZMQError) as e:
        s.connect("epgm://127.0.0.1;239.192.1.1:5555")
    assert e.value.errno == zmq.ENOCOMPATPROTO
    s = ctx.socket(zmq.PUB)
    with pytest.raises(zmq.ZMQError) as e:
        s.connect("epgm://nosuchif0;239.192.1.1:5555")
    assert e.value.errno == zmq.ENODEV
    s = ctx.socket(zmq.SUB)
    s.plain_server = True  # security fails closed: PGM would carry the data in clear
    with pytest.raises(zmq.ZMQError) as e:
        s.connect("epgm://127.0.0.1;239.192.1.1:5555")
    assert e.value.errno == zmq.ENOTSUP


PGM_UNPRIVILEGED = """
import fastzmq as zmq
s = zmq.Context().socket(zmq.PUB)
try:
    s.connect("pgm://127.0.0.1;239.192.1.1:5555")
    print("opened")
except zmq.ZMQError as e:
    print("errno", e.errno, e)
s.close(0)
"""


@linux_only
def test_raw_pgm_without_privilege_is_eperm(ctx):
    """pgm:// needs raw sockets: without CAP_NET_RAW the call raises EPERM, saying so."""
    import os
    import subprocess
    import sys

    if os.geteuid() != 0:
        s = ctx.socket(zmq.PUB)
        with pytest.raises(zmq.ZMQError) as e:
            s.connect("pgm://127.0.0.1;239.192.1.1:5555")
        assert e.value.errno == errno.EPERM and "CAP_NET_RAW" in str(e.value)
        return
    import shutil

    if shutil.which("setpriv") is None:
        pytest.skip("root, and no setpriv to drop CAP_NET_RAW")
    root = os.path.dirname(os.path.dirname(os.path.abspath(zmq.__file__)))
    r = subprocess.run(
        ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]
        + [sys.executable, "-c", PGM_UNPRIVILEGED],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert r.stdout.startswith(f"errno {errno.EPERM} "), r.stdout + r.stderr
    assert "CAP_NET_RAW" in r.stdout


def test_nak_list_option():
    """OpenPGM receivers NAK several packets at once (OPT_NAK_LIST): each is repaired."""
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=100)
    for i in range(10):
        tx.odata_packet(b"\0\0" + bytes([i]))
    nak = _pgm.build_nak(5555, 7000, GSI, 2, "10.0.0.1", "239.1.1.1", more=(4, 7, 50))
    pkt = _pgm.parse(nak)
    assert pkt.options[0][0] == _pgm.OPT_NAK_LIST
    assert _pgm.requested(pkt) == [2, 4, 7, 50]
    [ncf] = tx.on_nak(pkt)
    assert _pgm.requested(_pgm.parse(ncf)) == [2, 4, 7]  # 50 was never sent
    repaired = []
    while (r := tx.rdata_packet(0.0)) is not None:
        p = _pgm.parse(r)
        assert p.type == _pgm.RDATA
        repaired.append((p.sqn, p.data[2]))
    assert repaired == [(2, 2), (4, 4), (7, 7)]


def test_fin_ends_a_source():
    msgs, tsdus = _stream(20)
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=100)
    rx = _pgm.Receiver(5555, "239.1.1.1")
    got = rx.on_packet(_pgm.parse(tx.spm_packet(0.0)), "10.0.0.1", 0.0)
    pkts = [tx.odata_packet(t) for t in tsdus]
    for p in pkts[:-2] + pkts[-1:]:  # the one before last is lost, and never repaired
        got += rx.on_packet(_pgm.parse(p), "10.0.0.1", 0.0)
    got += rx.on_packet(_pgm.parse(tx.spm_packet(0.1, fin=True)), "10.0.0.1", 0.1)
    assert rx.peers == {}  # forgotten
    assert rx.losses == [((GSI, 7000), 1)]
    idx = [msgs.index(m) for m in got]  # whole messages, in order, some missing
    assert idx == sorted(set(idx)) and len(got) < len(msgs)


def test_a_gap_is_walked_once():
    """Packets arriving after a gap do not re-walk it (that was quadratic under load)."""
    tx = _pgm.Sender(GSI, 7000, 5555, "10.0.0.1", "239.1.1.1", sqns=100000)
    rx = _pgm.Receiver(5555, "239.1.1.1", sqns=100000)
    calls = []
    want = rx._want
    rx._want = lambda peer, sqn, now: (calls.append(sqn), want(peer, sqn, now))
    pkts = [tx.odata_packet(b"\0\0" + bytes(10)) for _ in range(3000)]
    rx.on_packet(_pgm.parse(pkts[0]), "10.0.0.1", 0.0)
    for p in pkts[1000:]:  # 1..999 lost
        rx.on_packet(_pgm.parse(p), "10.0.0.1", 0.0)
    assert len(calls) <= 3000  # each sequence number once (re-walking: ~2 million)
    assert rx.stats()["naks_pending"] == 999


def _zmtp3(frames):
    out = b""
    for i, f in enumerate(frames):
        more = 1 if i < len(frames) - 1 else 0
        if len(f) < 256:
            out += bytes((more, len(f))) + f
        else:
            out += bytes((more | 2,)) + struct.pack("!Q", len(f)) + f
    return out


def test_feed_v3_matches_feed():
    """The transport's decoder (straight to ZMTP 3 bytes) says what the frame decoder says,
    also after a join mid-stream and a loss."""
    import random

    rng = random.Random(7)
    msgs = [
        [
            bytes([i % 251]) * rng.choice((0, 1, 200, 254, 255, 256, 3000))
            for _ in range(rng.randint(1, 3))
        ]
        for i in range(300)
    ]
    p = _pgm.Packer(200)
    for m in msgs:
        p.add(m)
    tsdus = p.take()
    a, b = _pgm.Decoder(), _pgm.Decoder()
    got_a, got_b, count = [], b"", 0
    for i, t in enumerate(tsdus[5:]):
        if i == 40:  # a loss: both forget the partial message
            a.reset()
            b.reset()
            continue
        got_a += a.feed(t)
        data, n = b.feed_v3(t)
        got_b += data
        count += n
    assert count == len(got_a) > 200
    assert got_b == b"".join(_zmtp3(m) for m in got_a)


def test_packer_from_zmtp3_stream():
    """The source's path: the engine's ZMTP 3 stream re-encoded without frame objects,
    the same packets as from the frames; commands skipped; a partial message waits."""
    msgs = [[b"a" * 10], [b"b", b"c" * 300], [b""], [b"d" * 256, b"e"]]
    stream = b"".join(_zmtp3(m) for m in msgs)
    stream = b"\x04\x05\x04PING" + stream  # a command first
    ref = _pgm.Packer(100)
    for m in msgs:
        ref.add(m)
    p = _pgm.Packer(100)
    partial = stream + _zmtp3([b"x", b"yy"])[:-1]
    assert p.add_zmtp3(bytearray(partial)) == len(stream)
    assert p.take() == ref.take()


def test_c_codec_is_in_use_and_checksums_agree():
    """_pgmcodec (C) is what _pgm uses when built; its checksums equal the Python
    reference's, odd lengths, all-ones words and the skipped checksum field included."""
    import random

    from fastzmq import _pgmcodec

    assert _pgm._pgmcodec is _pgmcodec
    rng = random.Random(3)
    cases = [b"", b"\x00", b"\xff", b"\xff\xff" * 40, b"\x00" * 9, LIB_ODATA]
    cases += [rng.randbytes(rng.randint(0, 1600)) for _ in range(300)]
    for data in cases:
        assert _pgmcodec.checksum(data) == _pgm.checksum_py(data) == _pgm.checksum(data)
        if len(data) >= 8:
            zeroed = data[:6] + b"\0\0" + data[8:]
            assert _pgmcodec.checksum(data, 6) == _pgm.checksum_py(zeroed)
    # a received packet verifies in place; one flipped bit fails
    assert _pgm.parse(LIB_ODATA).type == _pgm.ODATA
    bad = bytearray(LIB_ODATA)
    bad[-1] ^= 1
    with pytest.raises(_pgm.PgmError):
        _pgm.parse(bytes(bad))


def _feed_both(tsdus: list, maxmsgsize: int = -1) -> tuple:
    """feed_v3 (C) and feed_v3_py over the same TSDUs: (bytes, count, error) each."""
    results = []
    for fn in ("feed_v3", "feed_v3_py"):
        d = _pgm.Decoder(maxmsgsize)
        out, count, err = b"", 0, None
        for t in tsdus:
            try:
                data, n = getattr(d, fn)(t)
            except _pgm.PgmError as e:
                err = str(e)
                d.reset()
                continue
            out += data
            count += n
        results.append((out, count, err))
    return results[0], results[1]


def test_c_v3_reencoding_matches_python():
    """The C re-encoding gives the Python reference's bytes and counts: messages split
    across TSDUs at every kind of boundary, long (0xff) frames, 255/256-byte bodies."""
    import random

    rng = random.Random(11)
    for tsdu_size in (40, 200, 1400):
        msgs = [
            [rng.randbytes(rng.choice((0, 1, 2, 253, 254, 255, 256, 700, 3000))) for _ in range(k)]
            for k in (rng.randint(1, 4) for _ in range(200))
        ]
        p = _pgm.Packer(tsdu_size)
        for m in msgs:
            p.add(m)
        tsdus = p.take()
        fast, ref = _feed_both(tsdus)
        assert fast == ref and ref[1] == len(msgs) and ref[2] is None
        fast, ref = _feed_both(tsdus[3:])  # a join mid-stream
        assert fast == ref and 0 < ref[1] < len(msgs)


def test_c_v3_rejects_what_python_rejects():
    """A zero-length frame and a frame over MAXMSGSIZE raise PgmError in both."""
    zero = b"\x00\x00" + b"\x00"  # offset 0, then a frame of length 0
    fast, ref = _feed_both([zero])
    assert fast == ref and ref[2] == "zero-length ZMTP 1.0 frame"
    big = _pgm.Packer(1400)
    big.add([b"x" * 100])
    big.add([b"y" * 10])
    tsdus = big.take()
    fast, ref = _feed_both(tsdus, maxmsgsize=50)
    assert fast == ref and ref[2] == "frame larger than MAXMSGSIZE"
    fast, ref = _feed_both(tsdus, maxmsgsize=100)  # at the limit: accepted
    assert fast == ref and ref[1] == 2 and ref[2] is None


def test_c_zmtp3_to_v1_matches_python():
    """The source's re-encoding in C gives the Python reference's packets: commands
    skipped, long frames, a partial message left for the next call at every cut."""
    import random

    rng = random.Random(5)
    msgs = [
        [rng.randbytes(rng.choice((0, 1, 253, 254, 255, 256, 2000))) for _ in range(k)]
        for k in (rng.randint(1, 3) for _ in range(120))
    ]
    ping = b"\x04\x05\x04PING"  # a command frame between messages
    stream = b"".join(_zmtp3(m) + (ping if i % 7 == 0 else b"") for i, m in enumerate(msgs))
    for cut in sorted({0, 1, 2, 9, 10, len(stream) // 3, len(stream) - 1, len(stream)}):
        got = []
        for fn in ("add_zmtp3", "add_zmtp3_py"):
            p = _pgm.Packer(1400)
            first = getattr(p, fn)(bytearray(stream[:cut]))
            rest = bytearray(stream[first:])
            second = getattr(p, fn)(rest)
            got.append((first, second, p.take()))
        assert got[0] == got[1]
        assert got[0][0] + got[0][1] == len(stream)

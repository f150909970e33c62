"""PGM (RFC 3208) packets and state machines, sans-I/O, as libzmq + OpenPGM use them.

Packets: every PGM packet starts with a 16-byte header (source port, destination port,
type, options, checksum, GSI, TSDU length); the TSI of a session is GSI + the source's
port. ODATA/RDATA carry sequence number and window trail, then the TSDU; SPM carries its
own sequence number, the window's trail and lead, and the source's address (NLA); NAK
and NCF carry the sequence number asked for, the source's NLA and the group's NLA. The
checksum is the Internet checksum of the whole PGM packet (0 means "none"; a computed
0 is sent as 0xffff). Options (OPT_LENGTH first, the last one flagged OPT_END) are
parsed and skipped; none is needed for libzmq's traffic.

libzmq's framing inside each TSDU (``pgm_sender.cpp``/``pgm_receiver.cpp``): 2 bytes,
big-endian, giving the offset of the first *message* start in the rest of the packet
(0xffff: none starts here), then a stream of ZMTP 1.0 frames: a length byte (flags +
body) or 0xff and an 8-byte length, a flags byte (1: more), the body. A receiver that
joins (or re-joins after a loss) skips to the first packet with a message start.

``Sender``: assigns sequence numbers, keeps the transmit window (libzmq's size rule:
RATE * RECOVERY_IVL / MAXTPDU packets), answers NAKs with NCF + RDATA, says when to
send SPMs (ambient, and the heartbeat series after data). ``Receiver``: one ``Peer``
per TSI with its receive window, NAK back-off/repeat/retry timers, and the frame
decoder; data is handed on only in order and only as whole messages; what leaves the
sender's window before it could be repaired is dropped, counted and reported.
"""

from __future__ import annotations

import heapq
import random
import struct
from collections import deque
from typing import Any, NamedTuple

try:  # the C versions of checksum and the ZMTP 1.0 -> 3 re-encoding (same results)
    from fastzmq import _pgmcodec
except ImportError:  # not built: this module's Python (the reference) does it all
    _pgmcodec = None

SPM, POLL, POLR, ODATA, RDATA, NAK, NNAK, NCF, SPMR = 0, 1, 2, 4, 5, 8, 9, 0x0A, 0x0C
OPT_PRESENT = 0x01
OPT_LENGTH, OPT_FRAGMENT, OPT_NAK_LIST, OPT_FIN, OPT_SYN = 0x00, 0x01, 0x02, 0x0E, 0x0D
OPT_END = 0x80
AFI_IP, AFI_IP6 = 1, 2
HEADER = struct.Struct("!HHBBH6sH")  # sport, dport, type, options, checksum, gsi, tsdu len
DATA = struct.Struct("!II")  # sqn, trail
SPM_BODY = struct.Struct("!IIIHH")  # sqn, trail, lead, afi, reserved (+ NLA)
NAK_BODY = struct.Struct("!IHH")  # sqn, afi, reserved (+ source NLA, then group NLA)
MASK = 0xFFFFFFFF
NO_START = 0xFFFF

# overheads under the TSDU (libzmq sizes its packets from MULTICAST_MAXTPDU this way)
IP4_HEADER, UDP_HEADER = 20, 8
DATA_OVERHEAD = HEADER.size + DATA.size


class PgmError(ValueError):
    """A packet that is not PGM, is truncated, or fails its checksum."""


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data (``_pgmcodec.checksum`` when built)."""
    if _pgmcodec is not None:
        return _pgmcodec.checksum(data)
    return checksum_py(data)


def checksum_py(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data, in Python.

    The one's-complement sum of the 16-bit words is the data, read as one big-endian
    number in base 65536, modulo 65535 (65536 = 1 mod 65535), except that a non-zero
    sum is 0xffff where the remainder is 0: one C-level modulo instead of a word loop.
    """
    if len(data) % 2:
        data = bytes(data) + b"\0"
    n = int.from_bytes(data, "big")
    total = n % 0xFFFF
    if total == 0 and n:
        total = 0xFFFF
    return ~total & 0xFFFF


def seq_lt(a: int, b: int) -> bool:
    """a before b in 32-bit serial arithmetic."""
    return a != b and ((b - a) & MASK) < 0x80000000


def seq_diff(a: int, b: int) -> int:
    """b - a (signed, serial)."""
    d = (b - a) & MASK
    return d - (1 << 32) if d >= 0x80000000 else d


class Packet(NamedTuple):
    type: int
    sport: int
    dport: int
    gsi: bytes
    sqn: int = 0
    trail: int = 0
    lead: int = 0
    nla: str = ""  # SPM: the source's address; NAK/NCF: the source NLA
    group: str = ""  # NAK/NCF: the group NLA
    data: bytes = b""  # ODATA/RDATA: the TSDU
    options: tuple = ()  # (type, body) of each option

    @property
    def tsi(self) -> tuple:
        return (self.gsi, self.sport)


def _nla(buf: bytes, off: int) -> tuple:
    afi, _ = struct.unpack_from("!HH", buf, off)
    if afi == AFI_IP:
        return ".".join(str(b) for b in buf[off + 4 : off + 8]), off + 8
    if afi == AFI_IP6:
        import socket

        return socket.inet_ntop(socket.AF_INET6, buf[off + 4 : off + 20]), off + 20
    raise PgmError(f"unknown NLA address family {afi}")


def _pack_nla(addr: str) -> bytes:
    if ":" in addr:
        import socket

        return struct.pack("!HH", AFI_IP6, 0) + socket.inet_pton(socket.AF_INET6, addr)
    return struct.pack("!HH", AFI_IP, 0) + bytes(int(x) for x in addr.split("."))


def _options(buf: bytes, off: int) -> tuple:
    """Parse the option chain at off: (options, offset after it)."""
    if len(buf) < off + 4 or buf[off] != OPT_LENGTH or buf[off + 1] != 4:
        raise PgmError("options without a leading OPT_LENGTH")
    total = struct.unpack_from("!H", buf, off + 2)[0]
    end = off + total
    if total < 4 or end > len(buf):
        raise PgmError("option chain overruns the packet")
    opts = []
    p = off + 4
    while p < end:
        if p + 2 > end:
            raise PgmError("truncated option")
        t, ln = buf[p], buf[p + 1]
        if ln < 3 or p + ln > end:
            raise PgmError("bad option length")
        opts.append((t & 0x7F, bytes(buf[p + 3 : p + ln])))
        p += ln
        if t & OPT_END:
            break
    return tuple(opts), end


def parse(buf: bytes) -> Packet:
    """Decode one PGM packet (the UDP payload for epgm); raises PgmError."""
    if len(buf) < HEADER.size:
        raise PgmError("shorter than a PGM header")
    sport, dport, ptype, opt, csum, gsi, tsdu_len = HEADER.unpack_from(buf)
    if csum:
        if _pgmcodec is not None:  # the checksum field read as zero, without a copy
            want = _pgmcodec.checksum(buf, 6) or 0xFFFF
        else:
            want = checksum_py(bytes(buf[:6]) + b"\0\0" + bytes(buf[8:])) or 0xFFFF
        if want != csum:
            raise PgmError("bad checksum")
    off = HEADER.size
    try:
        if ptype in (ODATA, RDATA):
            sqn, trail = DATA.unpack_from(buf, off)
            off += DATA.size
            opts: tuple = ()
            if opt & OPT_PRESENT:
                opts, off = _options(buf, off)
            data = bytes(buf[off:])
            if len(data) != tsdu_len:
                raise PgmError("TSDU length does not match the packet")
            return Packet(ptype, sport, dport, gsi, sqn, trail, data=data, options=opts)
        if ptype == SPM:
            sqn, trail, lead, _, _ = SPM_BODY.unpack_from(buf, off)
            nla, off = _nla(buf, off + 12)
            opts = _options(buf, off)[0] if opt & OPT_PRESENT else ()
            return Packet(ptype, sport, dport, gsi, sqn, trail, lead, nla=nla, options=opts)
        if ptype in (NAK, NNAK, NCF):
            sqn = struct.unpack_from("!I", buf, off)[0]
            src, off = _nla(buf, off + 4)
            grp, off = _nla(buf, off)
            opts = _options(buf, off)[0] if opt & OPT_PRESENT else ()
            return Packet(ptype, sport, dport, gsi, sqn, nla=src, group=grp, options=opts)
        if ptype == SPMR:
            return Packet(ptype, sport, dport, gsi)
    except struct.error:
        raise PgmError("truncated packet") from None
    return Packet(ptype, sport, dport, gsi)  # POLL/POLR/ACK...: callers ignore them


def requested(pkt: Packet) -> list:
    """The sequence numbers a NAK or NCF names: its own, then any OPT_NAK_LIST ones."""
    out = [pkt.sqn]
    for t, body in pkt.options:
        if t == OPT_NAK_LIST and len(body) >= 5:  # a reserved byte, then 32-bit sqns
            k = (len(body) - 1) // 4
            out.extend(struct.unpack_from(f"!{k}I", body, 1))
    return out


def _finish(head: bytes, body: bytes) -> bytes:
    pkt = head + body
    csum = checksum(pkt) or 0xFFFF
    return pkt[:6] + struct.pack("!H", csum) + pkt[8:]


def build_data(sport, dport, gsi, sqn, trail, tsdu, repair=False) -> bytes:
    head = HEADER.pack(sport, dport, RDATA if repair else ODATA, 0, 0, gsi, len(tsdu))
    return _finish(head, DATA.pack(sqn & MASK, trail & MASK) + tsdu)


def build_spm(sport, dport, gsi, sqn, trail, lead, nla, fin=False) -> bytes:
    body = struct.pack("!III", sqn & MASK, trail & MASK, lead & MASK) + _pack_nla(nla)
    opt = 0
    if fin:  # OPT_LENGTH then OPT_FIN (the last: OPT_END), as OpenPGM closes a session
        body += struct.pack("!BBH", OPT_LENGTH, 4, 8) + struct.pack("!BBH", OPT_FIN | 0x80, 4, 0)
        opt = OPT_PRESENT
    return _finish(HEADER.pack(sport, dport, SPM, opt, 0, gsi, 0), body)


def build_nak(sport, dport, gsi, sqn, source, group, ncf=False, more=()) -> bytes:
    """A NAK (receiver -> source: sport is the data's dport, dport the source's port) or
    an NCF (source -> group: the data's ports); more: further sqns, in OPT_NAK_LIST."""
    body = struct.pack("!I", sqn & MASK) + _pack_nla(source) + _pack_nla(group)
    opt = 0
    if more:
        ln = 4 + len(more) * 4
        body += struct.pack("!BBH", OPT_LENGTH, 4, 4 + ln)
        body += struct.pack("!BBBB", OPT_NAK_LIST | OPT_END, ln, 0, 0)
        body += struct.pack(f"!{len(more)}I", *more)
        opt = OPT_PRESENT | 0x02  # network-significant, as RFC 3208 says for NAK lists
    return _finish(HEADER.pack(sport, dport, NCF if ncf else NAK, opt, 0, gsi, 0), body)


def build_spmr(sport, dport, gsi) -> bytes:
    return _finish(HEADER.pack(sport, dport, SPMR, 0, 0, gsi, 0), b"")


def max_tsdu(maxtpdu: int, udp: bool = True) -> int:
    """The TSDU bytes that fit in one packet of MULTICAST_MAXTPDU bytes."""
    return max(16, maxtpdu - IP4_HEADER - (UDP_HEADER if udp else 0) - DATA_OVERHEAD)


def window_sqns(rate_kbps: int, recovery_ivl_ms: int, maxtpdu: int) -> int:
    """libzmq's window size in packets: RATE * RECOVERY_IVL bytes over MAXTPDU, at least 1."""
    return max(1, (rate_kbps // 8) * recovery_ivl_ms // maxtpdu)


# ------------------------------------------------------------------ libzmq's APDU framing
def encode_v1(frames: list) -> bytes:
    """One message in ZMTP 1.0 framing (libzmq's v1 encoder)."""
    out = bytearray()
    last = len(frames) - 1
    for i, f in enumerate(frames):
        n = len(f) + 1
        flags = 0 if i == last else 1
        if n < 255:
            out += bytes((n, flags))
        else:
            out += b"\xff" + struct.pack("!Q", n) + bytes((flags,))
        out += f
    return bytes(out)


class Packer:
    """Cuts a stream of whole messages into TSDUs with libzmq's 2-byte start offset."""

    def __init__(self, tsdu: int) -> None:
        self.room = tsdu - 2
        self.buf = bytearray()
        self.starts: list = []  # offsets in buf where a message begins

    def add(self, frames: list) -> None:
        self.starts.append(len(self.buf))
        self.buf += encode_v1(frames)

    def add_zmtp3(self, data: bytearray) -> int:
        """Re-encode the whole messages at the front of a ZMTP 3 frame stream (what the
        engine writes; commands skipped); returns the bytes consumed (a partial last
        message stays for the next call). In C (``_pgmcodec``) when built."""
        if _pgmcodec is not None:
            return _pgmcodec.zmtp3_to_v1(data, self.buf, self.starts)
        return self.add_zmtp3_py(data)

    def add_zmtp3_py(self, data: bytearray) -> int:
        """add_zmtp3 in Python (the reference)."""
        out = self.buf
        p, end, done = 0, len(data), 0
        cur = -1  # where the message being re-encoded starts in out
        while p + 2 <= end:
            flags = data[p]
            if flags & 2:
                if p + 9 > end:
                    break
                n = int.from_bytes(data[p + 1 : p + 9], "big")
                h = 9
            else:
                n = data[p + 1]
                h = 2
            if p + h + n > end:
                break
            if flags & 4:  # a command (between messages): nothing for PGM
                p += h + n
                if cur < 0:
                    done = p
                continue
            if cur < 0:
                cur = len(out)
            more = flags & 1
            size = n + 1
            if size < 255:
                out.append(size)
            else:
                out.append(0xFF)
                out += size.to_bytes(8, "big")
            out.append(more)
            out += data[p + h : p + h + n]
            p += h + n
            if not more:
                self.starts.append(cur)
                cur = -1
                done = p
        if cur >= 0:
            del out[cur:]  # the message is not all there yet
        return done

    def __len__(self) -> int:
        return len(self.buf)

    def take(self) -> list:
        """Every TSDU the buffered messages make (the last one may be short)."""
        out = []
        pos, si, buf, starts = 0, 0, self.buf, self.starts
        while pos < len(buf):
            end = min(pos + self.room, len(buf))
            while si < len(starts) and starts[si] < pos:
                si += 1
            off = starts[si] - pos if si < len(starts) and starts[si] < end else NO_START
            out.append(struct.pack("!H", off) + bytes(buf[pos:end]))
            pos = end
        self.buf = bytearray()
        self.starts = []
        return out


class Decoder:
    """ZMTP 1.0 frames out of in-order TSDUs of one source, whole messages only.

    ``feed`` returns messages as lists of frames; ``feed_v3`` (the transport's) returns
    them already re-encoded as ZMTP 3 frames, for the engine, without Python objects
    per frame."""

    def __init__(self, maxmsgsize: int = -1) -> None:
        self.maxmsgsize = maxmsgsize
        self.joined = False
        self.buf = bytearray()
        self.frames: list = []
        self.cur = bytearray()  # feed_v3: the partial message, re-encoded

    def reset(self) -> int:
        """Data was lost: forget the partial message; returns how many frames were dropped."""
        dropped = len(self.frames) + (1 if self.buf or self.cur else 0)
        self.joined = False
        self.buf = bytearray()
        self.frames = []
        self.cur = bytearray()
        return dropped

    def _take(self, tsdu: bytes) -> bool:
        """Append the TSDU's frame bytes (from a message start, until joined)."""
        if len(tsdu) < 2:
            raise PgmError("TSDU shorter than libzmq's offset")
        off = (tsdu[0] << 8) | tsdu[1]
        if not self.joined:
            if off == NO_START or off >= len(tsdu) - 2:
                return False
            self.buf += tsdu[2 + off :]
            self.joined = True
        else:
            self.buf += tsdu[2:]
        return True

    def _frame(self, buf: bytearray, p: int) -> tuple:
        """(header size, 1 + body size) of the frame at p, or (0, 0) if incomplete."""
        n = buf[p]
        h = 1
        if n == 0xFF:
            if p + 9 > len(buf):
                return 0, 0
            n = int.from_bytes(buf[p + 1 : p + 9], "big")
            h = 9
        if n == 0:
            raise PgmError("zero-length ZMTP 1.0 frame")
        if self.maxmsgsize >= 0 and n - 1 > self.maxmsgsize:
            raise PgmError("frame larger than MAXMSGSIZE")
        if p + h + n > len(buf):
            return 0, 0
        return h, n

    def feed(self, tsdu: bytes) -> list:
        """The messages completed by this TSDU (each a list of frames)."""
        if not self._take(tsdu):
            return []
        out = []
        buf = self.buf
        p = 0
        while p < len(buf):
            h, n = self._frame(buf, p)
            if not h:
                break
            flags = buf[p + h]
            self.frames.append(bytes(buf[p + h + 1 : p + h + n]))
            p += h + n
            if not flags & 1:
                out.append(self.frames)
                self.frames = []
        del buf[:p]
        return out

    def feed_v3(self, tsdu: bytes) -> tuple:
        """(ZMTP 3 bytes of the messages completed by this TSDU, how many); in C
        (``_pgmcodec.v3``) when built, else ``feed_v3_py``."""
        if _pgmcodec is None:
            return self.feed_v3_py(tsdu)
        if not self._take(tsdu):
            return b"", 0
        out, count, used = _pgmcodec.v3(self.buf, self.cur, self.maxmsgsize)
        if count < 0:
            raise PgmError(
                "zero-length ZMTP 1.0 frame" if count == -1 else "frame larger than MAXMSGSIZE"
            )
        del self.buf[:used]
        return out, count

    def feed_v3_py(self, tsdu: bytes) -> tuple:
        """feed_v3 in Python (the reference)."""
        if not self._take(tsdu):
            return b"", 0
        out = bytearray()
        cur = self.cur
        buf = self.buf
        p, count, end = 0, 0, len(buf)
        while p < end:
            n = buf[p]
            if (
                n != 0xFF
                and n
                and p + 1 + n <= end
                and (self.maxmsgsize < 0 or n <= self.maxmsgsize)
            ):
                h = 1  # the common case, inline: a short frame, complete
            else:
                h, n = self._frame(buf, p)
                if not h:
                    break
            more = buf[p + h] & 1
            size = n - 1
            if size < 256:
                cur.append(more)
                cur.append(size)
            else:
                cur.append(more | 2)
                cur += size.to_bytes(8, "big")
            cur += buf[p + h + 1 : p + h + n]
            p += h + n
            if not more:
                out += cur
                del cur[:]
                count += 1
        del buf[:p]
        return bytes(out), count


# ------------------------------------------------------------------ the sender
class Sender:
    """Transmit window, sequence numbers, NAK answers and SPM timing (no I/O)."""

    HEARTBEAT = (0.1, 0.1, 0.1, 0.1, 1.3, 7.0, 16.0, 25.0, 30.0)  # libzmq's series
    AMBIENT = 30.0

    def __init__(self, gsi: bytes, sport: int, dport: int, nla: str, group: str, sqns: int):
        self.gsi, self.sport, self.dport = gsi, sport, dport
        self.nla, self.group = nla, group
        self.sqns = sqns
        self.window: dict = {}  # sqn -> TSDU
        self.lead = MASK  # nothing sent yet: lead = trail - 1
        self.trail = 0
        self.spm_sqn = 0
        # The heartbeat series starts with the session (SPMs at 0, 0.1, 0.2, 0.3, 1.6 s, ...):
        # a receiver learns our NLA, where its NAKs go, only from an SPM, and OpenPGM
        # declares loss it cannot NAK lost at once, so one dropped SPM must not cost data.
        self.hb_index = 0
        self.next_spm = 0.0  # due at once: the first SPM announces the session
        self.odata = self.rdata = self.naks = self.ncfs = self.spms = 0
        self.repair_q: deque = deque()  # sqns NAKed, RDATA not sent yet
        self.repair_set: set = set()

    def odata_packet(self, tsdu: bytes) -> bytes:
        self.lead = (self.lead + 1) & MASK
        self.window[self.lead] = tsdu
        while len(self.window) > self.sqns:
            del self.window[self.trail]
            self.trail = (self.trail + 1) & MASK
        self.odata += 1
        return build_data(self.sport, self.dport, self.gsi, self.lead, self.trail, tsdu)

    def data_sent(self, now: float) -> None:
        """Data went out: the heartbeat SPM series starts over. An SPM already due sooner
        keeps its time, so a burst carries one every HEARTBEAT[0] (a receiver that missed
        the earlier ones can NAK within 0.1 s, not only after the burst)."""
        self.hb_index = 0
        self.next_spm = min(self.next_spm, now + self.HEARTBEAT[0])

    def spm_due(self, now: float) -> float:
        return self.next_spm

    def spm_packet(self, now: float, fin: bool = False) -> bytes:
        if self.hb_index < len(self.HEARTBEAT):
            self.hb_index += 1
        ivl = self.HEARTBEAT[self.hb_index] if self.hb_index < len(self.HEARTBEAT) else None
        self.next_spm = now + (ivl if ivl is not None else self.AMBIENT)
        pkt = build_spm(
            self.sport, self.dport, self.gsi, self.spm_sqn, self.trail, self.lead, self.nla, fin
        )
        self.spm_sqn = (self.spm_sqn + 1) & MASK
        self.spms += 1
        return pkt

    def on_nak(self, pkt: Packet) -> list:
        """A NAK for us (OpenPGM may list more sequence numbers in OPT_NAK_LIST): the NCFs
        to multicast at once, naming the packets still in the window (one NCF for up to
        NAK_LIST_MAX of them, listed as OpenPGM's source lists them); the RDATA is
        queued (``rdata_packet``), once however many ask for it."""
        if pkt.gsi != self.gsi or pkt.dport != self.sport or pkt.sport != self.dport:
            return []
        self.naks += 1
        held = []
        for sqn in requested(pkt):
            if sqn not in self.window:
                continue
            if sqn not in self.repair_set:
                self.repair_set.add(sqn)
                self.repair_q.append(sqn)
            held.append(sqn)
        self.ncfs += len(held)
        ncfs = []
        for i in range(0, len(held), NAK_LIST_MAX):
            first, *more = held[i : i + NAK_LIST_MAX]
            ncfs.append(
                build_nak(self.sport, self.dport, self.gsi, first, self.nla, self.group, True, more)
            )
        return ncfs

    def rdata_packet(self, now: float) -> bytes | None:
        """The next queued repair (RDATA goes before new ODATA), or None. A repair is data
        going out, so the heartbeat SPMs start over as after ODATA: a receiver still
        missing packets gets SPMs soon after the repairs, not 1.3 or 7 s later. libzmq's
        receiver needs them: after it reads a batch it arms no timer, and runs OpenPGM's
        NAK timers again only when a packet comes (seen under 40% loss: a lost repair
        stalled it past its RCVTIMEO until the next heartbeat SPM)."""
        while self.repair_q:
            sqn = self.repair_q.popleft()
            self.repair_set.discard(sqn)
            tsdu = self.window.get(sqn)
            if tsdu is not None:
                self.rdata += 1
                self.data_sent(now)
                return build_data(self.sport, self.dport, self.gsi, sqn, self.trail, tsdu, True)
        return None


# ------------------------------------------------------------------ the receiver
NAK_BO_IVL, NAK_RPT_IVL, NAK_RDATA_IVL, NAK_RETRIES = 0.05, 0.2, 0.2, 50  # libzmq's values
PEER_EXPIRY = 300.0
NAK_BURST = 256  # sqns NAKed per timer run at most
NAK_LIST_MAX = 63  # sqns per NAK: its own and 62 in OPT_NAK_LIST (OpenPGM's limit)
BACKOFF, WAIT_NCF, WAIT_DATA = 0, 1, 2


class Peer:
    """One source (TSI) as a receiver sees it."""

    def __init__(self, tsi: tuple, maxmsgsize: int, sqns: int) -> None:
        self.tsi = tsi
        self.nla = ""  # from its SPMs (or, until one comes, the datagrams' source)
        self.spm_nla = False
        self.next: int | None = None  # the next sequence number to hand on
        self.lead: int | None = None  # the highest sequence number known to exist
        self.trail = 0
        self.held: dict = {}  # sqn -> TSDU, arrived ahead of next
        self.naks: dict = {}  # sqn -> [state, deadline, tries]
        self.decoder = Decoder(maxmsgsize)
        self.sqns = sqns
        self.delivered = self.lost = self.repaired = self.duplicates = 0
        self.nak_sent = 0  # sqns NAKed (each try counts)
        self.nak_packets = 0  # NAKs sent (one lists up to NAK_LIST_MAX sqns)
        self.heard = 0.0  # when we last heard from it


class Receiver:
    """Receive windows of every source on one group:port (no I/O).

    ``on_packet`` returns the complete messages now deliverable; ``due(now)`` returns
    the NAKs to send (destination address, packet); ``lost`` events are collected in
    ``losses`` (peer, packets) for the transport to report.
    """

    def __init__(
        self,
        dport: int,
        group: str,
        maxmsgsize: int = -1,
        sqns: int = 80,
        v3: bool = False,
        make_decoder: Any = None,
    ) -> None:
        self.v3 = v3  # hand on ZMTP 3 bytes (one bytes per packet) instead of frame lists
        # a v3 decoder per new source (the transport's: _pgmrcv.Decoder, shared with the
        # C path); None: Decoder
        self.make_decoder = make_decoder
        self.dport = dport
        self.group = group
        self.maxmsgsize = maxmsgsize
        self.sqns = sqns
        self.peers: dict = {}
        self.losses: list = []
        self.heap: list = []  # (deadline, tsi, sqn) of NAK timers; stale entries skipped
        self.rng = random.Random()

    # statistics over every source
    def stats(self) -> dict:
        keys = ("delivered", "lost", "repaired", "duplicates", "nak_sent", "nak_packets")
        out = {k: sum(getattr(p, k) for p in self.peers.values()) for k in keys}
        out["held"] = sum(len(p.held) for p in self.peers.values())  # waiting for a repair
        out["naks_pending"] = sum(len(p.naks) for p in self.peers.values())
        return out

    def _peer(self, pkt: Packet, src_ip: str) -> Peer:
        peer = self.peers.get(pkt.tsi)
        if peer is None:
            peer = self.peers[pkt.tsi] = Peer(pkt.tsi, self.maxmsgsize, self.sqns)
            if self.make_decoder is not None:
                peer.decoder = self.make_decoder(self.maxmsgsize)
        if not peer.spm_nla and src_ip:
            peer.nla = src_ip
        return peer

    def on_packet(self, pkt: Packet, src_ip: str, now: float) -> list:
        if pkt.dport != self.dport:
            return []
        if pkt.type in (ODATA, RDATA):
            return self._on_data(pkt, src_ip, now)
        if pkt.type == SPM:
            peer = self._peer(pkt, src_ip)
            peer.heard = now
            peer.nla, peer.spm_nla = pkt.nla, True
            if peer.next is None:
                peer.next = (pkt.lead + 1) & MASK
            self._trail(peer, pkt.trail)
            if any(t == OPT_FIN for t, _ in pkt.options):
                # the source has closed: nothing more can be repaired; hand on what we
                # hold, count the rest lost, forget it
                self._trail(peer, (pkt.lead + 1) & MASK)
                out = self._advance(peer)
                del self.peers[pkt.tsi]
                return out
            # data up to the lead we have not seen: its tail was lost
            self._extend(peer, (pkt.lead + 1) & MASK, now)
            return self._advance(peer)
        if pkt.type == NCF:
            peer = self.peers.get(pkt.tsi)
            if peer is not None:
                for sqn in requested(pkt):
                    if sqn in peer.naks:
                        self._set_nak(peer, sqn, WAIT_DATA, now + NAK_RDATA_IVL, peer.naks[sqn][2])
        return []

    def _want(self, peer: Peer, sqn: int, now: float) -> None:
        if sqn not in peer.held and sqn not in peer.naks:
            self._set_nak(peer, sqn, BACKOFF, now + self.rng.uniform(0, NAK_BO_IVL), 0)

    def _set_nak(self, peer: Peer, sqn: int, state: int, deadline: float, tries: int) -> None:
        peer.naks[sqn] = [state, deadline, tries]
        heapq.heappush(self.heap, (deadline, peer.tsi, sqn))  # older entries go stale

    def _on_data(self, pkt: Packet, src_ip: str, now: float) -> list:
        peer = self._peer(pkt, src_ip)
        peer.heard = now
        if peer.next is None:
            peer.next = pkt.sqn  # a new source (or a late join): start here
        self._trail(peer, pkt.trail)
        if seq_lt(pkt.sqn, peer.next) or pkt.sqn in peer.held:
            peer.duplicates += 1
            return self._advance(peer)
        if seq_diff(peer.next, pkt.sqn) >= peer.sqns:
            # far ahead of what we wait for: what lies between is out of any window
            self._lose(peer, (pkt.sqn - peer.sqns + 1) & MASK)
        if pkt.sqn in peer.naks:
            del peer.naks[pkt.sqn]
            peer.repaired += 1
        peer.held[pkt.sqn] = pkt.data
        self._extend(peer, (pkt.sqn + 1) & MASK, now)
        return self._advance(peer)

    def _extend(self, peer: Peer, end: int, now: float) -> None:
        """The source has sent everything before end: NAK what we lack of what is new to
        us (after the highest sequence number known so far: each gap is walked once)."""
        start = peer.next
        if peer.lead is not None and not seq_lt(peer.lead, start):
            start = (peer.lead + 1) & MASK
        if seq_diff(start, end) > peer.sqns:
            start = (end - peer.sqns) & MASK  # more than a window: the rest is gone anyway
        s = start
        while seq_lt(s, end):
            self._want(peer, s, now)
            s = (s + 1) & MASK
        last = (end - 1) & MASK
        if peer.lead is None or seq_lt(peer.lead, last):
            peer.lead = last

    def _trail(self, peer: Peer, trail: int) -> None:
        if seq_lt(peer.trail, trail):
            peer.trail = trail

    def _lose(self, peer: Peer, upto: int) -> int:
        """Give up on the gap at next (up to the first packet held, or upto)."""
        missing = 0
        s = peer.next
        while seq_lt(s, upto) and s not in peer.held:
            peer.naks.pop(s, None)
            missing += 1
            s = (s + 1) & MASK
        if missing:
            peer.next = s
            peer.lost += missing
            peer.decoder.reset()  # a partial message is dropped, never handed on
            self.losses.append((peer.tsi, missing))
        return missing

    def _advance(self, peer: Peer) -> list:
        """Hand on what is in order; a gap the source's window no longer covers is lost."""
        out: list = []
        while peer.next is not None:
            while peer.next in peer.held:
                tsdu = peer.held.pop(peer.next)
                peer.naks.pop(peer.next, None)
                peer.next = (peer.next + 1) & MASK
                try:
                    if self.v3:
                        data, count = peer.decoder.feed_v3(tsdu)
                        if count:
                            out.append(data)
                            peer.delivered += count
                        continue
                    msgs = peer.decoder.feed(tsdu)
                except PgmError:
                    peer.decoder.reset()
                    continue
                peer.delivered += len(msgs)
                out.extend(msgs)
            if not (seq_lt(peer.next, peer.trail) and self._lose(peer, peer.trail)):
                break
        return out

    def _top(self) -> tuple | None:
        """The earliest live heap entry (stale ones, superseded or answered, dropped)."""
        heap = self.heap
        while heap:
            deadline, tsi, sqn = heap[0]
            peer = self.peers.get(tsi)
            st = peer.naks.get(sqn) if peer is not None else None
            if st is not None and st[1] == deadline:
                return heap[0]
            heapq.heappop(heap)
        return None

    def due(self, now: float) -> tuple:
        """(NAKs to send as (address, packet) pairs, messages freed by giving up).

        NAK deadlines sit in a heap: the cost is per NAK due, not per NAK pending (a
        receiver far behind has thousands pending). At most NAK_BURST sqns are NAKed
        per call (the rest are put off by 10 ms), up to NAK_LIST_MAX per NAK packet."""
        naks, freed = [], []
        for peer in list(self.peers.values()):
            if peer.heard and now - peer.heard > PEER_EXPIRY:
                del self.peers[peer.tsi]  # silent for 300 s (libzmq's PGM_PEER_EXPIRY)
        gave_up: dict = {}
        asked: dict = {}  # tsi -> the sqns to NAK now, in order
        n_asked = 0
        while True:
            top = self._top()
            if top is None or top[0] > now:
                break
            heapq.heappop(self.heap)
            _, tsi, sqn = top
            peer = self.peers[tsi]
            state, _, tries = peer.naks[sqn]
            if state != BACKOFF and tries >= NAK_RETRIES:
                g = gave_up.get(tsi)
                gave_up[tsi] = sqn if g is None or seq_lt(g, sqn) else g
                del peer.naks[sqn]
                continue
            if not peer.nla or n_asked >= NAK_BURST:
                self._set_nak(peer, sqn, state, now + 0.01, tries)
                continue
            asked.setdefault(tsi, []).append(sqn)
            n_asked += 1
            peer.nak_sent += 1
            self._set_nak(peer, sqn, WAIT_NCF, now + NAK_RPT_IVL, tries + 1)
        for tsi, sqns in asked.items():  # as OpenPGM: up to 63 sqns a NAK (OPT_NAK_LIST)
            peer = self.peers[tsi]
            nla = peer.nla
            base = sqns[0] if peer.next is None else peer.next
            sqns.sort(key=lambda q: (q - base) & MASK)  # in sequence (serial arithmetic)
            gsi, sport = tsi
            for i in range(0, len(sqns), NAK_LIST_MAX):
                first, *more = sqns[i : i + NAK_LIST_MAX]
                nak = build_nak(self.dport, sport, gsi, first, nla, self.group, more=more)
                naks.append((nla, nak))
                peer.nak_packets += 1
        for tsi, last in gave_up.items():
            peer = self.peers[tsi]
            self._lose(peer, (last + 1) & MASK)
            freed.extend(self._advance(peer))
        return naks, freed

    def next_deadline(self) -> float | None:
        top = self._top()
        return None if top is None else top[0]

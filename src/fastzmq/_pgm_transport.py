"""epgm:// (PGM over UDP) and pgm:// (PGM over raw IP, protocol 113) endpoints.

``open(io, sock, ep, kind)`` (socket thread) makes one ``PgmEndpoint``: a PUB/XPUB
becomes a PGM source, a SUB/XSUB a PGM receiver (other types: ENOCOMPATPROTO, as
libzmq). bind and connect do the same thing, as in libzmq. Errors (no such interface,
address in use) raise there; the rest runs in the I/O thread.

The socket side is a normal wire pipe served by a normal ``Engine`` (``_io.pyx``): rings,
HWMs, wake-ups and multipart atomicity are the tcp ones. A source's engine hands its
outbound bytes to ``_pgmsrc`` (``Engine.set_xmit``): packing, ODATA, checksums, the
window and pacing run in C in the I/O thread's nogil dispatch, woken by the socket or by
a timerfd on the engine's slot. A receiver's engine sits on the network socket and
reads through ``_pgmrcv``'s hook (``Engine.set_recv``): the in-order data of the sources
it is handed, re-framed as ZMTP 3, in C without the GIL; the rest it queues for the
sans-I/O ``_pgm.Receiver`` (``RxPath``: gaps, NAKs, repairs, joins, loss). What is rare
(SPMs, NAKs, NCFs, RDATA, the timers) is Python for both.

A source subscribes its pipe to everything (as libzmq: PGM carries no subscriptions;
the receiving SUB filters), by one ZMTP 3.0 SUBSCRIBE message fed at set-up (so an XPUB
reads one ``b"\\x01"``). Options read at open: RATE (kbit/s, paces ODATA), RECOVERY_IVL
and MULTICAST_MAXTPDU (the window: libzmq's RATE*RECOVERY_IVL/MAXTPDU packets; the TSDU
size), MULTICAST_HOPS (TTL), MULTICAST_LOOP (IP_MULTICAST_LOOP; libzmq forces it off),
SNDBUF/RCVBUF (the UDP sockets), MAXMSGSIZE (the receiver's decoder).

Loss that NAKs cannot repair (the source's window moved past it, or NAK retries ran
out) drops the partial message, resynchronises at the next message start, counts the
lost packets (``stats``) and emits ``EVENT_PGM_DATA_LOST`` (value: packets lost).
"""

from __future__ import annotations

import errno
import os
import socket as _pysocket
import time
from typing import Any

from fastzmq import _pgm, _pgmio
from fastzmq import constants as _c
from fastzmq._io import Engine
from fastzmq._monitor import emit
from fastzmq._pipe import make_wire_pipe
from fastzmq.error import ZMQError

try:  # built on Linux only (timerfd, eventfd, recvmmsg): setup.py
    from fastzmq import _pgmrcv, _pgmsrc
except ImportError:  # pragma: no cover - other platforms
    _pgmsrc = _pgmrcv = None  # type: ignore[assignment]

KIND_ENGINE, KIND_WAKE, KIND_SLOW = 0, 1, 2
EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLRDHUP, EPOLLET = 0x001, 0x004, 0x008, 0x2000, 1 << 31
_ENGINE_MASK = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET
EVENT_PGM_DATA_LOST = 0x8000  # fastzmq's: a PGM receiver lost data it could not repair
IPPROTO_PGM = 113
_SOURCES = (_c.PUB, _c.XPUB)
_RECEIVERS = (_c.SUB, _c.XSUB)
MASK = 0xFFFFFFFF


def _zerr(e: OSError) -> ZMQError:
    return ZMQError(e.errno or errno.EINVAL, os.strerror(e.errno or errno.EINVAL))


class _Bridge(Engine):
    """The socket's side: a plain engine over one end of a socketpair."""

    def on_event(self, kind: int, mask: int) -> None:
        if self.state != 1:
            return
        if self.error == 0:
            self.mark_ready(mask)
            rc = self.c_pump()
            if rc:
                self.error = rc
        if self.error:
            self.owner.bridge_died(self.error)

    def stop(self, linger: int) -> None:
        self.owner.stop(0)


class _Fd:
    """One registered fd of a PgmEndpoint (the I/O thread's slots hold one object each)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def on_event(self, kind: int, mask: int) -> None:
        self.fn(mask)

    def stop(self, linger: int) -> None:
        pass


def _parse_iface(ep: Any) -> str:
    """The interface's IPv4 address ("" for the default)."""
    from fastzmq import _endpoint

    iface = ep.source
    if iface in ("", "*"):
        return ""
    if _endpoint._literal_family(iface) == _pysocket.AF_INET:
        return iface
    found = _endpoint.interface_address(iface, False)
    if found is None:
        raise ZMQError(errno.ENODEV, f"No such interface (or no IPv4 address): {iface!r}")
    return found[0]


def _local_address(iface: str, group: str, port: int) -> str:
    """The address the kernel would send from (for the SPM's NLA) when none is given."""
    if iface:
        return iface
    s = _pysocket.socket(_pysocket.AF_INET, _pysocket.SOCK_DGRAM)
    try:
        s.connect((group, port))
        return s.getsockname()[0]
    except OSError:
        return "0.0.0.0"
    finally:
        s.close()


class RxPath:
    """A receiver's packets: the C path (``_pgmrcv.Receiver``, in the engine's pump) takes
    the in-order data of the sources it is handed; the sans-I/O ``_pgm.Receiver`` the
    rest, which the C path queues (``slow``), and its timers (``due``). Each entry takes
    the sources back from C first (``enter``) and hands the in-order ones over again
    after (``leave``), so one side at a time owns a source's state."""

    def __init__(self, rx: Any, crx: Any) -> None:
        self.rx, self.crx = rx, crx

    def slow(self, now: float) -> list:
        """The packets the C path queued, as they came: the ZMTP 3 bytes they free."""
        self.enter()
        got = self._queued(now)
        self.leave()
        return got

    def due(self, now: float) -> tuple:
        """The Receiver's timers: (NAKs to send, the ZMTP 3 bytes freed: by the queued
        packets, handled first, and by giving up)."""
        self.enter()
        got = self._queued(now)
        naks, freed = self.rx.due(now)
        self.leave()
        return naks, got + freed

    def stats(self) -> tuple:
        """(the counters, the ZMTP 3 bytes the queued packets freed: handled first)."""
        self.enter()
        got = self._queued(time.monotonic())
        d = self.rx.stats()
        self.leave()
        d.update(self.crx.stats())
        return d, got

    def _queued(self, now: float) -> list:
        # (before the sources go back to C: none of theirs may still wait here)
        got: list = []
        rx = self.rx
        for data, src in self.crx.take():
            try:
                pkt = _pgm.parse(data)
            except _pgm.PgmError:
                continue
            got.extend(rx.on_packet(pkt, src, now))
        return got

    def enter(self) -> None:
        """Python takes the C path's sources back (their state since the last hand-over)."""
        peers = self.rx.peers
        for gsi, sport, nxt, lead, trail, heard, delivered, ip, held in self.crx.pull():
            peer = peers.get((gsi, sport))
            if peer is None:
                continue
            if held:  # new data past the gap, in order: as _on_data holds it
                first = (lead - len(held) + 1) & MASK
                for i, tsdu in enumerate(held):
                    peer.held[(first + i) & MASK] = tsdu
            peer.next, peer.lead, peer.trail = nxt, lead, trail
            peer.heard = max(peer.heard, heard)
            peer.delivered += delivered
            if ip and not peer.spm_nla:
                peer.nla = ip

    def leave(self) -> None:
        """The C path takes the sources that are in order (nothing missing or held: it
        decodes their next packets) and those waiting for a repair (it holds the new data
        that follows the highest packet known, as the Receiver would)."""
        out = []
        for (gsi, sport), p in self.rx.peers.items():
            nxt, lead = p.next, p.lead
            if (
                nxt is None
                or lead is None
                or _pgm.seq_lt(nxt, p.trail)
                or not isinstance(p.decoder, _pgmrcv.Decoder)
            ):
                continue
            if lead == (nxt - 1) & MASK and not p.held and not p.naks:
                out.append((gsi, sport, p.decoder, nxt, lead, p.trail, p.sqns, False))
            elif p.naks and not _pgm.seq_lt(lead, nxt):
                out.append((gsi, sport, p.decoder, nxt, lead, p.trail, p.sqns, True))
        self.crx.push(out)


class PgmEndpoint:
    """One pgm/epgm endpoint of a socket: its pipe, bridge engine, and PGM sockets."""

    def __init__(self, io: Any, sock: Any, ep: Any, kind: str) -> None:
        stype = sock.socket_type
        if stype not in _SOURCES and stype not in _RECEIVERS:
            raise ZMQError(_c.ENOCOMPATPROTO, "pgm/epgm need PUB, XPUB, SUB or XSUB")
        if sock._option_value(_c.MECHANISM) != 0:
            # libzmq multicasts in clear whatever the socket's mechanism; we fail closed
            raise ZMQError(
                errno.ENOTSUP, "pgm/epgm have no security mechanism: unset PLAIN/CURVE first"
            )
        self.io, self.socket, self.ep, self.kind = io, sock, ep, kind
        self.url = ep.url
        self.udp = ep.transport == "epgm"
        self.source = stype in _SOURCES
        self.group, self.port = ep.host, ep.port
        self.group_bytes = _pysocket.inet_aton(self.group)
        self.iface = _parse_iface(ep)
        opt = sock._option_value
        self.rate = max(1, opt(_c.RATE)) * 1000 / 8.0  # bytes per second
        maxtpdu = opt(_c.MULTICAST_MAXTPDU)
        self.tsdu = _pgm.max_tsdu(maxtpdu, self.udp)
        sqns = _pgm.window_sqns(opt(_c.RATE), opt(_c.RECOVERY_IVL), maxtpdu)
        self.stopped = False
        self.slots: list = []
        self.closing_deadline: float | None = None
        self.timer = None
        self.timer_runs = 0
        self.pysocks: list = []
        self.fds: list = []  # raw fds: a source's pacing timerfd, the notify eventfds
        self.csrc: Any = None  # a source's C send path (_pgmsrc.Source)
        self.crx: Any = None  # a receiver's C data path (_pgmrcv.Receiver)
        self.seen_odata = 0
        try:
            self._open_sockets(opt, sqns)
        except OSError as e:
            self._close_sockets()
            raise _zerr(e) from None
        # the socket's side: a wire pipe served by an engine; a source's engine sits on
        # one end of a socketpair (its outbound bytes go to _pgmsrc's hook), a receiver's
        # on the network socket (its inbound bytes come from _pgmrcv's hook)
        if self.source:
            try:
                a, b = _pysocket.socketpair(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
            except OSError as e:  # EMFILE...
                self._close_sockets()
                raise _zerr(e) from None
            self.pysocks += [a, b]
            a.setblocking(False)
            b.setblocking(False)
            eng_sock = a
        else:
            eng_sock = self.inp
        self.pipe, _, _ = make_wire_pipe()
        self.pipe.set_sndhwm(max(0, sock.sndhwm))
        self.pipe.endpoint = self.url
        self.pipe.zmtp_minor = 0  # no heartbeats; subscriptions in 3.0 message form
        self.pipe.connected = True
        eng = _Bridge()
        eng.io, eng.socket, eng.owner, eng.pysock = io, sock, self, eng_sock
        eng.set_fd(eng_sock.fileno())
        if self.crx is not None:
            eng.set_recv(*self.crx.hook)
            eng.set_xmit(*self.crx.discard)  # the SUB's subscriptions: PGM carries none
        self.engine = eng
        # a source's pipe is subscribed to everything before the first send (libzmq)
        first = b"\x00\x01\x01" if self.source else b""
        # (woken through the I/O thread's shared wake-up fd once start() registers it)
        rc = eng.activate(self.pipe, first, sock.maxmsgsize, max(0, sock.rcvhwm))
        if rc:
            eng.detach_rings()
            self._close_sockets()
            raise ZMQError(errno.ENOMEM, "pgm: could not start the pipe")
        if self.source:
            try:
                self._c_source(sqns)
            except OSError as e:
                eng.detach_rings()
                self._close_sockets()
                raise _zerr(e) from None
        self.pipe.owner = self
        sock._attach(self.pipe)

    def _c_source(self, sqns: int) -> None:
        """The steady-state send in C, in the I/O thread's nogil dispatch (_pgmsrc): the
        engine hands its outbound bytes to the hook instead of the socketpair."""
        tfd = _pgmsrc.timer_fd()
        self.fds.append(tfd)
        efd = _pgmsrc.event_fd()
        self.fds.append(efd)
        tx = self.tx
        header = _pgm.HEADER.pack(tx.sport, tx.dport, _pgm.ODATA, 0, 0, tx.gsi, 0)
        port = self.port if self.udp else 0
        c = _pgmsrc.Source(
            self.out_fd, header, self.tsdu, sqns, self.rate, self.group_bytes, port, tfd, efd
        )
        tx.window = c  # NAKs and RDATA read the C window
        self.csrc = c
        self.engine.set_xmit(*c.hook)

    # ---------------------------------------------------------------- set-up
    def _open_sockets(self, opt: Any, sqns: int) -> None:
        sndbuf, rcvbuf = opt(_c.SNDBUF), opt(_c.RCVBUF)
        if self.udp:
            out = _pysocket.socket(_pysocket.AF_INET, _pysocket.SOCK_DGRAM)
        else:  # raw PGM: needs CAP_NET_RAW (root)
            try:
                out = _pysocket.socket(_pysocket.AF_INET, _pysocket.SOCK_RAW, IPPROTO_PGM)
            except PermissionError:
                raise ZMQError(
                    errno.EPERM, "pgm:// needs raw sockets (CAP_NET_RAW); epgm:// does not"
                ) from None
        self.pysocks.append(out)
        out.setblocking(False)
        if sndbuf >= 0:
            out.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_SNDBUF, sndbuf)
        if rcvbuf >= 0:
            out.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_RCVBUF, rcvbuf)
        out.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_MULTICAST_TTL, opt(_c.MULTICAST_HOPS))
        out.setsockopt(
            _pysocket.IPPROTO_IP, _pysocket.IP_MULTICAST_LOOP, 1 if opt(_c.MULTICAST_LOOP) else 0
        )
        if self.iface:
            out.setsockopt(
                _pysocket.IPPROTO_IP, _pysocket.IP_MULTICAST_IF, _pysocket.inet_aton(self.iface)
            )
        self.out = out
        self.out_fd = out.fileno()
        if self.source:
            # NAKs come unicast to our address (the SPM's NLA) and the port
            self.nla = _local_address(self.iface, self.group, self.port)
            if self.udp:
                out.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
                out.bind((self.iface or "0.0.0.0", self.port))
            gsi = os.urandom(6)
            sport = int.from_bytes(os.urandom(2), "big") or 1
            self.tx = _pgm.Sender(gsi, sport, self.port, self.nla, self.group, sqns)
            self.rx = None
            self.inp = out
            self.inp_fd = out.fileno()
        else:
            if self.udp:
                inp = _pysocket.socket(_pysocket.AF_INET, _pysocket.SOCK_DGRAM)
            else:
                inp = _pysocket.socket(_pysocket.AF_INET, _pysocket.SOCK_RAW, IPPROTO_PGM)
            self.pysocks.append(inp)
            inp.setblocking(False)
            inp.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            if rcvbuf >= 0:
                inp.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_RCVBUF, rcvbuf)
            if self.udp:
                inp.bind((self.group, self.port))  # only this group's datagrams
            mreq = _pysocket.inet_aton(self.group) + _pysocket.inet_aton(self.iface or "0.0.0.0")
            inp.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_ADD_MEMBERSHIP, mreq)
            self.inp = inp
            self.inp_fd = inp.fileno()
            self.tx = None
            self.rx = _pgm.Receiver(
                self.port,
                self.group,
                self.socket.maxmsgsize,
                sqns,
                v3=True,
                make_decoder=_pgmrcv.Decoder,
            )
            efd = _pgmsrc.event_fd()  # the C path has packets for Python
            self.fds.append(efd)
            self.crx = _pgmrcv.Receiver(self.inp_fd, not self.udp, self.group_bytes, self.port, efd)
            self.path = RxPath(self.rx, self.crx)

    def start(self) -> None:
        """I/O thread: register the fds and start the timers."""
        io = self.io
        eng = self.engine
        eng.slot = io.new_slot(eng)
        if self.source:
            io.register(eng.fileno(), eng.slot, KIND_ENGINE, _ENGINE_MASK)
            # the pacing timer wakes the engine itself (its pump, without the GIL)
            io.register(self.fds[0], eng.slot, KIND_ENGINE, EPOLLIN | EPOLLET)
            self._reg_fd(self.fds[1], self._notify_event, EPOLLIN)
            self._reg_fd(self.inp_fd, self._net_event, EPOLLIN)  # NAKs, SPMRs
            self._send(self.tx.spm_packet(time.monotonic()))
        else:
            # the network socket wakes the engine, whose pump reads it through _pgmrcv
            # (without the GIL); what that leaves for Python comes by the eventfd
            io.register(eng.fileno(), eng.slot, KIND_ENGINE, EPOLLIN | EPOLLET)
            self._reg_fd(self.fds[0], self._slow_event, EPOLLIN)
        self._tick()
        rc = eng.c_pump()
        if rc:
            self.bridge_died(rc)

    def _reg_fd(self, fd: int, fn: Any, mask: int) -> None:
        obj = _Fd(fn)
        slot = self.io.new_slot(obj)
        self.slots.append((fd, slot, obj))
        self.io.register(fd, slot, KIND_SLOW, mask)

    # ---------------------------------------------------------------- the network
    def _send(self, pkt: bytes, dest: str | None = None) -> None:
        """One packet to the group (or to dest); what the kernel refuses (a full queue,
        no route now: a cut cable...) is like a loss on the wire: NAKs repair it."""
        addr = self.group_bytes if dest is None else _pysocket.inet_aton(dest)
        _pgmio.send_batch(self.out_fd, [pkt], addr, self.port if self.udp else 0)

    def _net_event(self, mask: int) -> None:
        """A source's socket: NAKs and SPMRs."""
        now = time.monotonic()
        repairs = False
        for data, _ in _pgmio.recv_batch(self.inp_fd, 512, not self.udp, b""):
            try:
                pkt = _pgm.parse(data)
            except _pgm.PgmError:
                continue
            if pkt.type == _pgm.NAK:
                for ncf in self.tx.on_nak(pkt):
                    self._send(ncf)
                    repairs = True
            elif pkt.type == _pgm.SPMR and pkt.gsi == self.tx.gsi:
                self._sync(now)
                self._send(self.tx.spm_packet(now))
        if repairs:
            self._pace()

    # ---------------------------------------------------------------- a receiver
    def _slow_event(self, mask: int) -> None:
        """What the C path left for Python (SPMs, NCFs, gaps, repairs, new sources...),
        through the sans-I/O Receiver, as the packets came."""
        try:
            os.read(self.fds[0], 8)
        except OSError:
            pass
        if self.stopped:
            return
        got = self.path.slow(time.monotonic())
        self._deliver(got)  # (and the engine reads on: the C path may have let us run)
        self._check_losses()
        self._tick()

    def _check_losses(self) -> None:
        while self.rx.losses:
            _, n = self.rx.losses.pop(0)
            emit(self.socket, EVENT_PGM_DATA_LOST, n, self.url)

    def _deliver(self, chunks: list) -> None:
        """ZMTP 3 bytes of whole messages (the Receiver's v3 mode) for the engine, behind
        what the C path has ready; the engine takes them at once (or, at RCVHWM, once
        the socket reads: it stops reading the network meanwhile, as libzmq's
        pgm_receiver stops polling, and NAKs repair what the kernel drops)."""
        for data in chunks:
            if data:
                self.crx.deliver(data)
        eng = self.engine
        eng.mark_ready(EPOLLIN)
        rc = eng.c_pump()
        if rc:
            self.bridge_died(rc)

    def _sync(self, now: float) -> None:
        """A C source: the Sender learns the window's edges, and that data went out."""
        c = self.csrc
        if c is None:
            return
        self.tx.lead, self.tx.trail = c.lead, c.trail
        if c.odata != self.seen_odata:
            self.seen_odata = c.odata
            self.tx.data_sent(now)

    def _notify_event(self, mask: int) -> None:
        """A C source sent data after a quiet spell: the heartbeat SPMs start over."""
        try:
            os.read(self.fds[1], 8)  # the eventfd's counter (os.eventfd_read is 3.10+)
        except OSError:
            pass
        self._sync(time.monotonic())
        self._tick()

    def _pace(self) -> None:
        """A source's repairs: RDATA at RATE (the C path's pacing clock), before new ODATA
        (which the C path holds back meanwhile)."""
        now = time.monotonic()
        c, tx = self.csrc, self.tx
        self._sync(now)
        t_next = c.t_next
        batch: list = []
        while tx.repair_q and t_next <= now + 0.002:
            pkt = tx.rdata_packet(now)
            if pkt is None:
                break
            batch.append(pkt)
            t_next = max(t_next, now - 0.01) + (len(pkt) + 28) / self.rate
        c.t_next = t_next
        if batch:
            _pgmio.send_batch(self.out_fd, batch, self.group_bytes, self.port if self.udp else 0)
        c.hold = bool(tx.repair_q)
        if not c.hold:
            rc = self.engine.c_pump()  # new data again (it arms its own timer if paced)
            if rc:
                self.bridge_died(rc)
                return
        self._tick()

    # ---------------------------------------------------------------- timers
    def _tick(self) -> None:
        """(Re)arm the one timer: pacing, SPMs (source) or NAKs (receiver)."""
        if self.stopped:
            return
        now = time.monotonic()
        if self.source:
            due = self.tx.spm_due(now)
            if self.tx.repair_q:
                due = min(due, self.csrc.t_next)
            # data after this would pull the next SPM nearer: have the C path tell us
            self.csrc.want_notify = due > now + self.tx.HEARTBEAT[0]
        else:
            due = self.rx.next_deadline()
            if due is None:
                due = now + 1.0
        if self.timer is not None and self.timer[0] <= due + 0.001:
            return  # the armed one comes first
        self.io.cancel_timer(self.timer)
        self.timer = self.io.add_timer(max(0.0, due - now), self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        self.timer_runs += 1
        if self.stopped:
            return
        now = time.monotonic()
        if self.source:
            self._sync(now)
            if self.tx.repair_q:
                self._pace()
            if self.tx.spm_due(now) <= now:
                self._send(self.tx.spm_packet(now))
            if self.closing_deadline is not None:
                self._maybe_finish()
        else:
            naks, freed = self.path.due(now)
            for dest, pkt in naks:
                self._send(pkt, dest)
            if freed:
                self._deliver(freed)
            self._check_losses()
        self._tick()

    # ---------------------------------------------------------------- life
    def bridge_died(self, why: int) -> None:
        self._hard_stop()

    def stop(self, linger: int) -> None:
        """Socket closed (or endpoint dropped): a source flushes what is queued first,
        for LINGER ms at most (-1: until done)."""
        if self.stopped:
            return
        if self.source and linger != 0 and self._pending():
            self.closing_deadline = 0.0 if linger < 0 else time.monotonic() + linger / 1000.0
            self.io.lingering.add(self)
            self._check_flushed()
            return
        self._hard_stop()

    def _pending(self) -> bool:
        """A source has data its engine has not handed to the C path yet."""
        return bool(self.pipe.out_pending())

    def _check_flushed(self) -> None:
        if self.stopped:
            return
        self.engine.c_pump()
        if not self._pending():
            self._hard_stop()
            return
        if self.closing_deadline and time.monotonic() >= self.closing_deadline:
            self._hard_stop()
            return
        self.io.add_timer(0.005, self._check_flushed)

    def _maybe_finish(self) -> None:
        if not self._pending():
            self._hard_stop()

    def _hard_stop(self) -> None:
        if self.stopped:
            return
        if self.source:
            self._sync(time.monotonic())
            self._send(self.tx.spm_packet(time.monotonic(), fin=True))
        self.stopped = True
        io = self.io
        io.cancel_timer(self.timer)
        self.timer = None
        io.lingering.discard(self)
        eng = self.engine
        for fd, slot, _ in self.slots:
            io.unregister(fd)
            io.free_slot(slot)
        self.slots = []
        if self.csrc is not None:
            eng.set_xmit(0, 0)
            io.unregister(self.fds[0])
        if self.crx is not None:
            self.crx.close()
        if eng.slot >= 0:
            io.unregister(eng.fileno())
            io.free_slot(eng.slot)
            eng.slot = -1
        eng.state = 2
        eng.detach_rings()
        self._close_sockets()  # the socketpair too
        if self.crx is not None:
            eng.set_recv(0, 0)
            eng.set_xmit(0, 0)
        if not self.socket.closed:
            self.socket._post("detach", self.pipe)
        io.check_idle()

    def _close_sockets(self) -> None:
        # the raw fd numbers too: a closed number may be reused by the next open()
        self.out_fd = self.inp_fd = -1
        for s in self.pysocks:
            s.close()
        self.pysocks = []
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def stats(self) -> dict:
        if self.source:
            t = self.tx
            c = self.csrc
            return {
                "odata": t.odata + (c.odata if c is not None else 0),
                "paced": c.paced if c is not None else 0,
                "refused": c.refused if c is not None else 0,
                "odata_bytes": c.odata_bytes if c is not None else 0,
                "rdata": t.rdata,
                "naks": t.naks,
                "ncfs": t.ncfs,
                "spms": t.spms,
                "window": len(t.window),
            }
        d, got = self.path.stats()
        if got:
            self._deliver(got)
            self._check_losses()
        d["pauses"] = self.engine.throttles
        d["timer_runs"] = self.timer_runs
        d["sources"] = len(self.rx.peers)
        return d


def available() -> bool:
    """Whether this build has PGM's C modules (Linux only)."""
    return _pgmsrc is not None and _pgmrcv is not None


def open(io: Any, sock: Any, ep: Any, kind: str) -> str:
    """Socket thread: make the endpoint (errors raise here), start it in the I/O thread."""
    if not available():
        raise ZMQError(
            _c.EPROTONOSUPPORT,
            f"{ep.transport}:// is not supported on this platform: fastzmq's PGM needs"
            " Linux (its C data path uses timerfd and eventfd)",
        )
    obj = PgmEndpoint(io, sock, ep, kind)
    io.by_socket.setdefault(sock, []).append(obj)
    io.call(obj.start)
    return ep.url


def stats(sock: Any) -> dict:
    """PGM counters of a socket's pgm/epgm endpoints, summed (for tests and tuning):
    a source's odata/rdata/naks/ncfs/spms, a receiver's delivered (messages), lost
    (packets), repaired, duplicates, nak_sent, held, naks_pending, pauses (reading stopped
    while the socket side was full), timer_runs."""
    total: dict = {}
    for io in sock.context._io:
        objs = [o for o in io.by_socket.get(sock, ()) if isinstance(o, PgmEndpoint)]
        for o in objs:
            for k, v in io.call_sync(o.stats).items():
                total[k] = total.get(k, 0) + v
    return total

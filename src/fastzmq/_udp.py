"""The ``udp://`` transport of RADIO, DISH and DGRAM, with libzmq's datagram formats.

Endpoints as libzmq's ``udp_address_t`` reads them (IPv4; with the IPV6 option IPv6,
``udp://[::1]:port``, see ``UdpAddress``):

- ``udp://host:port``: a DISH or DGRAM bind listens on host:port (``*``: every
  interface); a RADIO's connect sends to host:port;
- ``udp://group:port`` with a multicast group: listen on *:port and join the group
  (DISH), send to the group (RADIO);
- ``udp://iface;group:port``: the same on one interface (an IP literal, ``*`` or a NIC
  name; IPv6 multicast needs a NIC name or ``*``, as libzmq: ENODEV); the address after
  ``;`` must then be multicast (EINVAL otherwise).

As in libzmq 4.3.5, a RADIO may only connect, a DISH or DGRAM only bind (the other
call, and any other type: ENOCOMPATPROTO); each may do so several times: a RADIO sends
to every destination, a DISH or DGRAM receives on every endpoint, and a DGRAM sends
from the first endpoint of the destination's family (libzmq accepts a DGRAM's second
bind but drops its pipe, so nothing arrives there; here it works). Datagrams (at most
8192 bytes, libzmq's MAX_UDP_MSG):

- RADIO -> DISH: one byte group length, the group, the body. A RADIO sends to every udp
  destination whatever the group; the DISH drops groups it has not joined.
- DGRAM: the datagram is the body; the socket sees [b"ip:port\\0", body] pairs (the
  address NUL-terminated, exactly as libzmq delivers it), and sends to the address of
  the first frame (with or without that NUL). An IPv6 sender is b"[ip6]:port\\0" (libzmq
  4.3.5's DGRAM cannot receive from one: it asserts IPv4), an IPv4 one on a dual-stack
  socket its plain IPv4 form.

Sending happens in the caller's thread (one non-blocking ``sendto``: a datagram the
kernel will not take, or longer than 8192 bytes, is dropped, as libzmq's engine drops
it). Receiving is the I/O thread's: the OS socket is in its epoll set, and each datagram
becomes one [group, body] (or [address, body]) message in an inproc-style pipe to the
socket, so POLLIN, blocking and Poller work as for any pipe. Past RCVHWM queued
datagrams, new ones are dropped (UDP: the kernel would drop them too).
"""

from __future__ import annotations

import errno
import socket as _pysocket
import struct
from typing import Any

from fastzmq import _endpoint
from fastzmq import constants as _c
from fastzmq._draft import UDP_TYPES, udp_deliver
from fastzmq._pipe import make_inproc_pair
from fastzmq.error import ZMQError

MAX_UDP_MSG = 8192  # libzmq's MAX_UDP_MSG
_BATCH = 256  # datagrams read per epoll event (level-triggered: the rest comes next round)
_KIND_SLOW = 2  # _io.pyx KIND_SLOW: an object with on_event(kind, mask), never the fast path
_EPOLLIN = 1
_MSG_DONTWAIT = getattr(_pysocket, "MSG_DONTWAIT", 0x40)
_ANY = "0.0.0.0"


class UdpAddress:
    """A resolved udp endpoint: where to bind (receivers) and where to send (senders).

    As libzmq's ``udp_address_t``: with the IPV6 option the family is IPv6 (``*`` is
    ``::``, an IPv4 literal becomes ``::ffff:a.b.c.d``, names resolve to IPv6 and
    IPv4-mapped); without it an IPv6 address is ENODEV to bind and EINVAL to connect.
    ``bind_if`` is the interface index of IPv6 multicast (0: any, from ``*`` or no
    interface; -1: the interface was given as an address, which IPv6 multicast cannot
    use: ENODEV)."""

    def __init__(self, url: str, bind: bool, ipv6: bool = False) -> None:
        if not url.startswith("udp://"):
            raise ZMQError(_c.EPROTONOSUPPORT, f"not a udp endpoint: {url!r}")
        self.url = url
        self.family = _pysocket.AF_INET6 if ipv6 else _pysocket.AF_INET
        rest = url[len("udp://") :]
        iface = _any(self.family)  # the interface of multicast (bind address when given)
        self.bind_if = -1
        has_iface = ";" in rest
        if has_iface:
            src, _, rest = rest.rpartition(";")
            iface, self.bind_if = _interface(src, ipv6)
            if _is_multicast(iface):
                raise ZMQError(_c.EINVAL, "a multicast address cannot be the interface")
        host, port = _split(rest, url)
        self.target = _sockaddr(_resolve(host, bind, ipv6, url), port)
        self.multicast = _is_multicast(self.target[0])
        if has_iface:
            if not self.multicast:
                raise ZMQError(_c.EINVAL, "udp://iface;addr:port needs a multicast address")
            self.bind_addr = _sockaddr(iface, port)
        elif self.multicast or not bind:
            self.bind_addr = _sockaddr((_any(self.family), 0), port)
            self.bind_if = 0
        else:
            self.bind_addr = self.target
        if ipv6 and self.multicast and self.bind_if < 0:
            raise ZMQError(_c.ENODEV, "IPv6 multicast needs an interface name (or *)")

    def resolved_url(self, port: int) -> str:
        host = self.target[0]
        if self.family == _pysocket.AF_INET6:
            host = f"[{host}]"
        head = self.url[len("udp://") :].rpartition(";")[0]
        return f"udp://{head + ';' if head else ''}{host}:{port}"


def _any(family: int) -> str:
    return "::" if family == _pysocket.AF_INET6 else _ANY


def _sockaddr(host: Any, port: int) -> tuple:
    """A Python socket address: (ip, port) or (ip6, port, 0, scope id)."""
    if isinstance(host, tuple):  # (ip6 or ip, scope id)
        ip, scope = host
    else:
        ip, scope = host, 0
    if ":" in ip:
        return (ip, port, 0, scope)
    return (ip, port)


def _split(rest: str, url: str) -> tuple:
    host, sep, port_s = rest.rpartition(":")
    if not sep or not host:
        raise ZMQError(_c.EINVAL, f"Invalid udp endpoint {url!r}: expected host:port")
    if port_s == "*":
        port = 0
    else:
        try:
            port = int(port_s)
        except ValueError:
            raise ZMQError(_c.EINVAL, f"Invalid port in {url!r}") from None
    if not 0 <= port <= 65535:
        raise ZMQError(_c.EINVAL, f"Invalid port in {url!r}")
    if len(host) >= 2 and host[0] == "[" and host[-1] == "]":
        host = host[1:-1]
    return host, port


def _scope(host: str, url: str) -> tuple:
    """(address, scope id) of ``addr%zone`` (a zone is an interface name or index)."""
    addr, pct, zone = host.rpartition("%")
    if not pct:
        return host, 0
    if not zone:
        raise ZMQError(_c.EINVAL, f"Invalid zone in {url!r}")
    if zone[0].isalpha():
        try:
            scope = _pysocket.if_nametoindex(zone)
        except OSError:
            scope = 0
    else:
        scope = int(zone) if zone.isdigit() else 0
    if scope == 0:
        raise ZMQError(_c.EINVAL, f"Invalid zone in {url!r}")
    return addr, scope


def _literal(host: str, ipv6: bool) -> str | None:
    """host as the family's literal (IPv4 as ``::ffff:a.b.c.d`` with ipv6), or None."""
    try:
        _pysocket.inet_pton(_pysocket.AF_INET, host)
        return "::ffff:" + host if ipv6 else host
    except OSError:
        pass
    if ipv6:
        try:
            return _pysocket.inet_ntop(
                _pysocket.AF_INET6, _pysocket.inet_pton(_pysocket.AF_INET6, host)
            )
        except OSError:
            pass
    return None


def _nic(name: str, ipv6: bool) -> str | None:
    """The address of interface ``name`` in the family (libzmq: IPv6 only with ipv6)."""
    if ipv6:
        found = _endpoint._interface_ipv6(name)
        return found[0] if found is not None else None
    return _endpoint._interface_ipv4(name)


def _interface(src: str, ipv6: bool) -> tuple:
    """(address or (address, scope), interface index) of the part before ``;``."""
    family = _pysocket.AF_INET6 if ipv6 else _pysocket.AF_INET
    if src == "*":
        return _any(family), 0
    if len(src) >= 2 and src[0] == "[" and src[-1] == "]":
        src = src[1:-1]
    lit = _literal(src, ipv6)
    if lit is not None:
        return lit, -1
    addr = _nic(src, ipv6)
    if addr is None:
        raise ZMQError(_c.ENODEV, f"No such interface: {src!r}")
    try:
        index = _pysocket.if_nametoindex(src)
    except OSError:
        index = -1
    return addr, index


def _resolve(host: str, bind: bool, ipv6: bool, url: str) -> Any:
    """The target's address (an IPv6 one with its scope id as (address, scope))."""
    if host == "*":
        if not bind:
            raise ZMQError(_c.EINVAL, f"Invalid udp endpoint {url!r}: '*' only to bind")
        return "::" if ipv6 else _ANY
    if not ipv6:
        try:
            _pysocket.inet_aton(host)
            return host
        except OSError:
            pass
    name, scope = _scope(host, url)
    lit = _literal(name, ipv6)
    if lit is not None:
        return (lit, scope) if scope else lit
    if bind:
        addr = _nic(name, ipv6)
        if addr is not None:
            return addr
    family = _pysocket.AF_INET6 if ipv6 else _pysocket.AF_INET
    flags = getattr(_pysocket, "AI_V4MAPPED", 0) if ipv6 else 0
    try:
        found = _pysocket.getaddrinfo(name, None, family, _pysocket.SOCK_DGRAM, 0, flags)
    except (OSError, UnicodeError):
        # libzmq: a bind address that does not resolve is ENODEV, a destination EINVAL
        code = _c.ENODEV if bind else _c.EINVAL
        raise ZMQError(code, f"cannot resolve {host!r} (IPV6 {int(ipv6)})") from None
    sa = found[0][4]
    return (sa[0], scope or sa[3]) if len(sa) == 4 and (scope or sa[3]) else sa[0]


def _is_multicast(ip: str) -> bool:
    if ":" in ip:
        try:
            return _pysocket.inet_pton(_pysocket.AF_INET6, ip.partition("%")[0])[0] == 0xFF
        except OSError:
            return False
    return 224 <= int(ip.split(".")[0]) <= 239


def _udp_socket(family: int = _pysocket.AF_INET) -> _pysocket.socket:
    try:
        s = _pysocket.socket(family, _pysocket.SOCK_DGRAM)
    except OSError as e:
        raise ZMQError(e.errno or errno.EMFILE, str(e)) from None
    s.setblocking(False)
    return s


def _multicast_out(s: _pysocket.socket, sock: Any, addr: UdpAddress) -> None:
    """MULTICAST_LOOP, MULTICAST_HOPS and the interface of a multicast sender (libzmq)."""
    opts = sock.options
    loop = 1 if opts.get(_c.MULTICAST_LOOP, 1) else 0
    hops = opts.get(_c.MULTICAST_HOPS, 1)
    if addr.family == _pysocket.AF_INET6:
        s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_MULTICAST_LOOP, loop)
        if hops > 0:
            s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_MULTICAST_HOPS, hops)
        if addr.bind_if > 0:
            s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_MULTICAST_IF, addr.bind_if)
        return
    s.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_MULTICAST_LOOP, loop)
    if hops > 0:
        s.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_MULTICAST_TTL, hops)
    if addr.bind_addr[0] != _ANY:
        s.setsockopt(
            _pysocket.IPPROTO_IP, _pysocket.IP_MULTICAST_IF, _pysocket.inet_aton(addr.bind_addr[0])
        )


def _listen(s: _pysocket.socket, addr: UdpAddress) -> int:
    """Bind a receiving socket (and join its multicast group); returns the port."""
    s.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
    where = addr.bind_addr
    v6 = addr.family == _pysocket.AF_INET6
    if addr.multicast:
        s.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEPORT, 1)
        where = _sockaddr(_any(addr.family), addr.bind_addr[1])
    if v6 and where[0] == "::":
        s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_V6ONLY, 0)  # dual stack
    s.bind(where)
    if addr.multicast and v6:
        group = _pysocket.inet_pton(_pysocket.AF_INET6, addr.target[0])
        mreq = group + struct.pack("@I", max(addr.bind_if, 0))
        s.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_JOIN_GROUP, mreq)
    elif addr.multicast:
        mreq = _pysocket.inet_aton(addr.target[0]) + _pysocket.inet_aton(addr.bind_addr[0])
        s.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_ADD_MEMBERSHIP, mreq)
    return s.getsockname()[1]


class Sender:
    """The send side of a udp endpoint (caller's thread): RADIO datagrams or DGRAM's."""

    kind = "connect"

    def __init__(self, sock: Any, addr: UdpAddress, s: _pysocket.socket, owns: bool) -> None:
        self.sock = sock
        self.url = addr.url
        self.target = addr.target
        self.s = s
        self.owns = owns  # close s on stop (a DGRAM's shares its Receiver's)
        self.dropped = 0

    def send(self, group: bytes, body: bytes) -> None:
        """RADIO: [len][group][body] to the destination."""
        n = 1 + len(group) + len(body)
        if n > MAX_UDP_MSG:
            self.dropped += 1
            return
        try:
            self.s.sendto(b"%c%b%b" % (len(group), group, body), _MSG_DONTWAIT, self.target)
        except OSError:
            self.dropped += 1  # EAGAIN (kernel buffer full), unreachable: lossy as libzmq

    def send_to(self, address: bytes, body: bytes) -> None:
        """DGRAM: body to the b"ip:port" (or b"[ip6]:port") of the first frame (invalid:
        dropped, as libzmq; a trailing NUL, as received addresses carry, is allowed).
        With several endpoints the first one (in bind order) of the destination's
        family sends it (an IPv4 destination: an IPv4 socket, else a dual-stack one)."""
        s = self.s
        outs = self.sock.udp_out
        if len(outs) > 1:
            s = _dgram_socket_for(address, outs)
        dest = _dgram_dest(address, s.family)
        if dest is None or len(body) > MAX_UDP_MSG:
            self.dropped += 1
            return
        try:
            s.sendto(body, _MSG_DONTWAIT, dest)
        except OSError:
            self.dropped += 1

    def start(self) -> None:
        pass

    def stop(self, linger: int = 0) -> None:
        try:
            self.sock.udp_out.remove(self)
        except ValueError:
            pass
        if self.owns:
            self.s.close()


class Receiver:
    """The receive side (I/O thread): datagrams into a pipe to the socket."""

    def __init__(self, io: Any, sock: Any, addr: UdpAddress, s: _pysocket.socket, kind: str):
        self.io = io
        self.sock = sock
        self.kind = kind
        self.s = s
        self.raw = sock.socket_type == _c.DGRAM  # [address, body] instead of [group, body]
        port = s.getsockname()[1]
        self.url = addr.resolved_url(port) if kind == "bind" else addr.url
        self.mine, self.theirs = make_inproc_pair()
        self.mine.endpoint = self.url
        self.mine.connected = True
        self.theirs.set_sndhwm(max(0, sock.rcvhwm))
        self.slot = -1
        self.sender: Sender | None = None
        self.dropped = 0

    def start(self) -> None:  # I/O thread
        if self.s.fileno() < 0:
            return
        self.slot = self.io.new_slot(self)
        self.io.register(self.s.fileno(), self.slot, _KIND_SLOW, _EPOLLIN)

    def on_event(self, kind: int, mask: int) -> None:  # I/O thread, GIL held
        s = self.s
        theirs = self.theirs
        for _ in range(_BATCH):
            try:
                data, peer = s.recvfrom(MAX_UDP_MSG)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # ECONNREFUSED from an ICMP error and the like: nothing to read
            if self.raw:
                first, body = _dgram_address(peer), data
            else:
                if not data or len(data) - 1 < data[0]:
                    continue  # malformed: shorter than its group (libzmq drops it)
                n = data[0]
                first, body = data[1 : 1 + n], data[1 + n :]
            if not udp_deliver(theirs, first, body):
                self.dropped += 1

    def stop(self, linger: int = 0) -> None:  # I/O thread
        if self.slot >= 0:
            try:
                self.io.unregister(self.s.fileno())
            except OSError:
                pass
            self.io.free_slot(self.slot)
            self.slot = -1
        if self.sender is not None:
            self.sender.stop()
        self.s.close()
        if not self.sock.closed:
            self.sock._post("detach", self.mine)


def _dgram_address(peer: tuple) -> bytes:
    """A DGRAM's sender address frame: b"ip:port\\0" as libzmq's (an IPv4-mapped sender
    on an IPv6 socket as its IPv4 address); an IPv6 sender as b"[ip6]:port\\0"."""
    host = peer[0]
    if len(peer) == 4:
        if host.startswith("::ffff:") and "." in host:
            host = host[7:]
        else:
            return b"[%s]:%d\0" % (host.encode(), peer[1])
    return b"%s:%d\0" % (host.encode(), peer[1])


def _dgram_socket_for(address: bytes, outs: list) -> _pysocket.socket:
    """The socket of the first DGRAM endpoint fit for the address's family."""
    v4 = [o.s for o in outs if o.s.family == _pysocket.AF_INET]
    v6 = [o.s for o in outs if o.s.family == _pysocket.AF_INET6]
    fits = v6 if address[:1] == b"[" else v4 + v6
    return fits[0] if fits else outs[0].s


def _dgram_dest(address: bytes, family: int) -> tuple | None:
    """The socket address a DGRAM sends to, from b"ip:port" / b"[ip6]:port" (None: invalid
    or not reachable from this socket's family; port 0 is invalid, as libzmq's)."""
    host_b, _, port_s = address.rstrip(b"\0").rpartition(b":")
    try:
        port = int(port_s)
        host = host_b.decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    if not 0 < port <= 65535:
        return None
    v6 = len(host) >= 2 and host[0] == "[" and host[-1] == "]"
    try:
        if not v6:
            ip = _pysocket.inet_ntoa(_pysocket.inet_aton(host))
            if family == _pysocket.AF_INET6:
                return ("::ffff:" + ip, port, 0, 0)
            return (ip, port)
        if family != _pysocket.AF_INET6:
            return None
        host = host[1:-1]
        if "%" in host:
            numeric = _pysocket.AI_NUMERICHOST
            found = _pysocket.getaddrinfo(host, port, family, _pysocket.SOCK_DGRAM, 0, numeric)
            return found[0][4]
        _pysocket.inet_pton(family, host)
        return (host, port, 0, 0)
    except (OSError, UnicodeError):
        return None


def _check_type(sock: Any, bind: bool) -> None:
    t = sock.socket_type
    if t not in UDP_TYPES or (bind and t == _c.RADIO) or (not bind and t != _c.RADIO):
        raise ZMQError(_c.ENOCOMPATPROTO, "udp:// is for RADIO (connect), DISH and DGRAM (bind)")


def _os_error(e: OSError) -> ZMQError:
    code = e.errno or errno.EINVAL
    return ZMQError(code, f"udp: {e.strerror or e}")


def bind(sock: Any, url: str) -> str:
    """DISH/DGRAM bind: returns the resolved endpoint (the port chosen for ``:*``/``:0``)."""
    _check_type(sock, True)
    return _open(sock, UdpAddress(url, True, _ipv6(sock)), "bind")


def connect(sock: Any, url: str) -> str:
    """RADIO: send there (DISH, DGRAM: ENOCOMPATPROTO, as libzmq 4.3.5)."""
    _check_type(sock, False)
    addr = UdpAddress(url, False, _ipv6(sock))
    s = _udp_socket(addr.family)
    try:
        if addr.multicast:
            _multicast_out(s, sock, addr)
    except OSError as e:
        s.close()
        raise _os_error(e) from None
    sender = Sender(sock, addr, s, True)
    io = sock._io_thread()
    io.by_socket.setdefault(sock, []).append(sender)
    sock.udp_out.append(sender)
    return url


def _ipv6(sock: Any) -> bool:
    return bool(sock.options.get(_c.IPV6, 0))


def _open(sock: Any, addr: UdpAddress, kind: str) -> str:
    s = _udp_socket(addr.family)
    try:
        _listen(s, addr)
        if sock.socket_type == _c.DGRAM and addr.multicast:
            _multicast_out(s, sock, addr)
    except OSError as e:
        s.close()
        raise _os_error(e) from None
    io = sock._io_thread()
    rec = Receiver(io, sock, addr, s, kind)
    if sock.socket_type == _c.DGRAM:
        rec.sender = Sender(sock, addr, s, False)
        sock.udp_out.append(rec.sender)
    sock._locked_call(sock._attach, rec.mine)
    io.by_socket.setdefault(sock, []).append(rec)
    io.call(rec.start)
    return rec.url


__all__ = ["MAX_UDP_MSG", "UdpAddress", "bind", "connect"]

"""The ``udp://`` transport of RADIO, DISH and DGRAM, with libzmq's datagram formats.

Endpoints as libzmq's ``udp_address_t`` reads them (IPv4):

- ``udp://host:port``: a DISH or DGRAM bind listens on host:port (``*``: every
  interface); a connect sends to host:port (RADIO) or listens on *:port (DISH, DGRAM:
  libzmq binds the port of a unicast destination on any address);
- ``udp://group:port`` with a multicast group: listen on *:port and join the group
  (DISH), send to the group (RADIO);
- ``udp://iface;group:port``: the same on one interface (an IPv4 literal, ``*`` or a NIC
  name); the address after ``;`` must then be multicast (EINVAL otherwise).

A RADIO may only connect (bind: ENOCOMPATPROTO), a DISH or DGRAM bind or connect, any
other type: ENOCOMPATPROTO. Datagrams (at most 8192 bytes, libzmq's MAX_UDP_MSG):

- RADIO -> DISH: one byte group length, the group, the body. A RADIO sends to every udp
  destination whatever the group; the DISH drops groups it has not joined.
- DGRAM: the datagram is the body; the socket sees [b"ip:port\\0", body] pairs (the
  address NUL-terminated, exactly as libzmq delivers it), and sends to the address of
  the first frame (with or without that NUL).

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
    """A resolved udp endpoint: where to bind (receivers) and where to send (senders)."""

    def __init__(self, url: str, bind: bool) -> None:
        if not url.startswith("udp://"):
            raise ZMQError(_c.EPROTONOSUPPORT, f"not a udp endpoint: {url!r}")
        self.url = url
        rest = url[len("udp://") :]
        self.iface = _ANY  # the interface of multicast (bind address when given)
        has_iface = ";" in rest
        if has_iface:
            src, _, rest = rest.rpartition(";")
            self.iface = _interface(src)
            if _is_multicast(self.iface):
                raise ZMQError(_c.EINVAL, "a multicast address cannot be the interface")
        host, port = _split(rest, url)
        self.target = (_resolve(host, bind, url), port)
        self.multicast = _is_multicast(self.target[0])
        if has_iface:
            if not self.multicast:
                raise ZMQError(_c.EINVAL, "udp://iface;addr:port needs a multicast address")
            self.bind_addr = (self.iface, port)
        elif self.multicast or not bind:
            self.bind_addr = (_ANY, port)
        else:
            self.bind_addr = self.target

    def resolved_url(self, port: int) -> str:
        host = self.target[0]
        head = self.url[len("udp://") :].rpartition(";")[0]
        return f"udp://{head + ';' if head else ''}{host}:{port}"


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
    if host.startswith("[") or ":" in host:
        raise ZMQError(_c.ENOTSUP, "udp:// over IPv6 is not implemented in fastzmq")
    return host, port


def _interface(src: str) -> str:
    if src == "*":
        return _ANY
    try:
        _pysocket.inet_aton(src)
        return src
    except OSError:
        pass
    addr = _endpoint.interface_address(src, False)
    if addr is None:
        raise ZMQError(_c.ENODEV, f"No such interface: {src!r}")
    return addr[0] if isinstance(addr, tuple) else addr


def _resolve(host: str, bind: bool, url: str) -> str:
    if host == "*":
        if not bind:
            raise ZMQError(_c.EINVAL, f"Invalid udp endpoint {url!r}: '*' only to bind")
        return _ANY
    try:
        _pysocket.inet_aton(host)
        return host
    except OSError:
        pass
    if bind:
        addr = _endpoint.interface_address(host, False)
        if addr is not None:
            return addr[0] if isinstance(addr, tuple) else addr
    try:
        return _pysocket.getaddrinfo(host, None, _pysocket.AF_INET, _pysocket.SOCK_DGRAM)[0][4][0]
    except OSError:
        raise ZMQError(_c.EINVAL, f"cannot resolve {host!r}") from None


def _is_multicast(ip: str) -> bool:
    return 224 <= int(ip.split(".")[0]) <= 239


def _udp_socket() -> _pysocket.socket:
    try:
        s = _pysocket.socket(_pysocket.AF_INET, _pysocket.SOCK_DGRAM)
    except OSError as e:
        raise ZMQError(e.errno or errno.EMFILE, str(e)) from None
    s.setblocking(False)
    return s


def _multicast_out(s: _pysocket.socket, sock: Any, addr: UdpAddress) -> None:
    """MULTICAST_LOOP, MULTICAST_HOPS and the interface of a multicast sender (libzmq)."""
    opts = sock.options
    loop = 1 if opts.get(_c.MULTICAST_LOOP, 1) else 0
    s.setsockopt(_pysocket.IPPROTO_IP, _pysocket.IP_MULTICAST_LOOP, loop)
    hops = opts.get(_c.MULTICAST_HOPS, 1)
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
    if addr.multicast:
        s.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEPORT, 1)
        where = (_ANY, addr.bind_addr[1])
    s.bind(where)
    if addr.multicast:
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
        """DGRAM: body to the b"ip:port" of the first frame (invalid: dropped, as libzmq;
        a trailing NUL, as libzmq's received addresses carry, is allowed)."""
        host, _, port_s = address.rstrip(b"\0").rpartition(b":")
        try:
            port = int(port_s)
            dest = (_pysocket.inet_ntoa(_pysocket.inet_aton(host.decode("ascii"))), port)
        except (ValueError, OSError, UnicodeDecodeError):
            self.dropped += 1
            return
        if port == 0 or len(body) > MAX_UDP_MSG:
            self.dropped += 1
            return
        try:
            self.s.sendto(body, _MSG_DONTWAIT, dest)
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
                first, body = b"%s:%d\0" % (peer[0].encode(), peer[1]), data
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


def _check_type(sock: Any, bind: bool) -> None:
    t = sock.socket_type
    if t not in UDP_TYPES or (bind and t == _c.RADIO):
        raise ZMQError(_c.ENOCOMPATPROTO, "udp:// is for RADIO (connect), DISH and DGRAM")


def _os_error(e: OSError) -> ZMQError:
    code = e.errno or errno.EINVAL
    return ZMQError(code, f"udp: {e.strerror or e}")


def bind(sock: Any, url: str) -> str:
    """DISH/DGRAM bind: returns the resolved endpoint (the port chosen for ``:*``/``:0``)."""
    _check_type(sock, True)
    return _open(sock, UdpAddress(url, True), "bind")


def connect(sock: Any, url: str) -> str:
    """RADIO: send there; DISH: listen on *:port (multicast: join); DGRAM: as libzmq."""
    _check_type(sock, False)
    addr = UdpAddress(url, False)
    if sock.socket_type == _c.RADIO:
        s = _udp_socket()
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
    return _open(sock, addr, "connect")


def _open(sock: Any, addr: UdpAddress, kind: str) -> str:
    s = _udp_socket()
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
        if sock.udp_out:
            s.close()
            raise ZMQError(_c.EINVAL, "a DGRAM socket has one udp endpoint (libzmq: one peer)")
        rec.sender = Sender(sock, addr, s, False)
        sock.udp_out.append(rec.sender)
    sock._locked_call(sock._attach, rec.mine)
    io.by_socket.setdefault(sock, []).append(rec)
    io.call(rec.start)
    return rec.url


__all__ = ["MAX_UDP_MSG", "UdpAddress", "bind", "connect"]

"""Endpoint strings: ``tcp://host:port``, ``ipc://path``, ``inproc://name``,
``epgm://iface;group:port`` and ``pgm://iface;group:port``.

``parse`` validates an endpoint and splits it; errors carry pyzmq's errno values:
EINVAL for a malformed address, EPROTONOSUPPORT for an unknown transport,
ENAMETOOLONG for an ipc path longer than ``IPC_PATH_MAX_LEN``.
"""

from __future__ import annotations

import errno as _errno
import socket as _socket
from typing import NamedTuple

from fastzmq import constants as _c
from fastzmq.error import ZMQError

TRANSPORTS = ("tcp", "ipc", "inproc", "pgm", "epgm", "tipc", "vmci", "udp", "ws", "wss", "norm")
SUPPORTED = ("tcp", "ipc", "inproc", "pgm", "epgm")
MULTICAST = ("pgm", "epgm")
IPC_PATH_MAX_LEN = _c.IPC_PATH_MAX_LEN  # sizeof(sockaddr_un.sun_path) - 1


class Endpoint(NamedTuple):  # not a dataclass: `dataclasses` costs ~10 ms at import
    raw: str
    transport: str
    address: str  # what follows "://"
    host: str = ""
    port: int = 0  # 0: any (bind to "*" or ":0")
    family: int = 0  # AF_INET / AF_INET6 for tcp; AF_UNIX for ipc
    source: str = ""  # tcp connect "source;destination": the local address to bind first

    @property
    def url(self) -> str:
        return f"{self.transport}://{self.address}"


def parse(addr: str | bytes, connect: bool = False) -> Endpoint:
    """Split and validate an endpoint (raises ZMQError with pyzmq's errno)."""
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8")
    if not isinstance(addr, str):
        raise TypeError(f"endpoint must be str, not {type(addr).__name__}")
    transport, sep, rest = addr.partition("://")
    if not sep or not transport:
        raise ZMQError(_c.EINVAL, f"Invalid endpoint {addr!r}: expected transport://address")
    if transport not in TRANSPORTS:
        raise ZMQError(_c.EPROTONOSUPPORT, f"Protocol not supported: {transport!r}")
    if transport == "udp":  # (the draft types take udp:// before this: _draft_socket.py)
        raise ZMQError(_c.ENOCOMPATPROTO, "udp:// is for RADIO, DISH and DGRAM (libzmq)")
    if transport not in SUPPORTED:
        raise ZMQError(_c.EPROTONOSUPPORT, f"Transport {transport!r} is not supported yet")
    if not rest:
        raise ZMQError(_c.EINVAL, f"Invalid endpoint {addr!r}: empty address")
    if transport == "inproc":
        return Endpoint(addr, transport, rest)
    if transport == "ipc":
        if len(rest.encode("utf-8")) > IPC_PATH_MAX_LEN:
            raise ZMQError(
                _errno.ENAMETOOLONG,
                f"ipc path {rest!r} is longer than {IPC_PATH_MAX_LEN} bytes "
                "(sizeof(sockaddr_un.sun_path) - 1); fastzmq.IPC_PATH_MAX_LEN is that limit",
            )
        return Endpoint(addr, transport, rest, family=_socket.AF_UNIX)
    if transport in MULTICAST:
        return _parse_pgm(addr, transport, rest)
    return _parse_tcp(addr, rest, connect)


def _parse_pgm(addr: str, transport: str, rest: str) -> Endpoint:
    """``INTERFACE;GROUP:PORT`` (libzmq's form): host is the IPv4 multicast group, source
    the interface (an IPv4 address or an interface name, resolved to its address when
    opened; empty: the default route's)."""
    iface, sep, rest2 = rest.partition(";")
    if not sep:
        raise ZMQError(
            _c.EINVAL, f"Invalid endpoint {addr!r}: expected {transport}://IFACE;GROUP:PORT"
        )
    group, sep, port_s = rest2.rpartition(":")
    try:
        port = int(port_s)
        octets = _socket.inet_aton(group) if group.count(".") == 3 else b""
    except (ValueError, OSError):
        raise ZMQError(_c.EINVAL, f"Invalid endpoint {addr!r}") from None
    if not sep or not 0 < port < 65536 or len(octets) != 4 or not 224 <= octets[0] <= 239:
        raise ZMQError(
            _c.EINVAL, f"Invalid endpoint {addr!r}: GROUP must be an IPv4 multicast address"
        )
    return Endpoint(
        addr, transport, rest, host=group, port=port, family=_socket.AF_INET, source=iface
    )


def _parse_tcp(addr: str, rest: str, connect: bool) -> Endpoint:
    source = ""
    if connect and ";" in rest:  # "source;destination": bind the source, then connect
        source, rest = rest.split(";", 1)
        if not source:
            raise ZMQError(_c.EINVAL, f"Invalid source address in {addr!r}")
    host, sep, port_s = rest.rpartition(":")
    if not sep or not host:
        raise ZMQError(_c.EINVAL, f"Invalid endpoint {addr!r}: expected tcp://host:port")
    if port_s in ("*", "0") and not connect:
        port = 0
    else:
        try:
            port = int(port_s)
        except ValueError:
            raise ZMQError(_c.EINVAL, f"Invalid port {port_s!r} in {addr!r}") from None
        if not 0 < port < 65536:
            raise ZMQError(_c.EINVAL, f"Port out of range in {addr!r}")
    family = _socket.AF_INET
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        family = _socket.AF_INET6
    elif ":" in host:
        family = _socket.AF_INET6
    if host == "*":
        if connect:
            raise ZMQError(_c.EINVAL, f"Cannot connect to a wildcard address: {addr!r}")
        host = ""
    elif host.count("%") == 0 and "." not in host and ":" not in host and not host.isalnum():
        if not all(ch.isalnum() or ch in "-_." for ch in host):
            raise ZMQError(_c.EINVAL, f"Invalid host in {addr!r}")
    return Endpoint(addr, "tcp", rest, host=host, port=port, family=family, source=source)


def resolve(ep: Endpoint, ipv6: bool = False, bind: bool = True) -> tuple:
    """(socket address, family) for ep, as libzmq resolves it.

    Without IPV6 only IPv4 is used: an IPv6 literal fails (ENODEV). With IPV6 the
    wildcard is ``::`` (the listener serves IPv4 too: dual stack) and names prefer IPv6.
    A bind host may be an interface name (``tcp://lo:*``): its address is used.
    """
    if ep.transport == "ipc":
        return (ep.address,)
    return resolve_host(ep.host, ep.port, ipv6, bind)


def resolve_host(host: str, port: int, ipv6: bool, bind: bool) -> tuple:
    if host == "":
        if ipv6:
            return ("::", port, 0, 0), _socket.AF_INET6
        return ("0.0.0.0", port), _socket.AF_INET
    literal = _literal_family(host)
    if literal == _socket.AF_INET and "%" not in host:
        return (host, port), literal  # what getaddrinfo returns for it, without the call
    if literal == _socket.AF_INET6 and not ipv6:
        raise ZMQError(_c.ENODEV, f"IPv6 address {host!r} without the IPV6 option")
    if literal is None and host in _interfaces():
        found = interface_address(host, ipv6)
        if found is not None:
            return _sockaddr(found, port), found[1]
        if bind:
            raise ZMQError(_c.ENODEV, f"Interface {host!r} has no usable address")
    families = (_socket.AF_INET6, _socket.AF_INET) if ipv6 else (_socket.AF_INET,)
    for fam in families:
        try:
            infos = _socket.getaddrinfo(host, port, fam, _socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            continue
        if infos:
            return infos[0][4], fam
    # libzmq: an interface name or unknown host on bind is ENODEV
    raise ZMQError(_c.ENODEV, f"No such device or host: {host!r}")


def split_source(src: str) -> tuple:
    """(host, port) of a connect source: ``eth0``, ``10.0.0.1:5555``, ``[::1]:0``, ``*``."""
    port = 0
    if src.startswith("["):
        host, _, rest = src[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif src.count(":") == 1:
        host, _, p = src.partition(":")
        port = int(p) if p.isdigit() else 0
    else:
        host = src
    return ("" if host == "*" else host), port


def _literal_family(host: str) -> int | None:
    for fam in (_socket.AF_INET, _socket.AF_INET6):
        try:
            _socket.inet_pton(fam, host.split("%", 1)[0])
            return fam
        except OSError:
            pass
    return None


def _sockaddr(found: tuple, port: int) -> tuple:
    addr, fam, scope = found
    return (addr, port, 0, scope) if fam == _socket.AF_INET6 else (addr, port)


def _interfaces() -> set:
    try:
        return {name for _, name in _socket.if_nameindex()}
    except OSError:
        return set()


def interface_address(name: str, ipv6: bool) -> tuple | None:
    """(address, family, scope id) of a network interface, IPv6 first when ipv6."""
    v6 = _interface_ipv6(name) if ipv6 else None
    if v6 is not None:
        return v6
    v4 = _interface_ipv4(name)
    return (v4, _socket.AF_INET, 0) if v4 is not None else None


def _interface_ipv4(name: str) -> str | None:
    import fcntl
    import struct

    s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        req = struct.pack("256s", name.encode()[:15])
        res = fcntl.ioctl(s.fileno(), 0x8915, req)  # SIOCGIFADDR
        return _socket.inet_ntoa(res[20:24])
    except OSError:
        return None
    finally:
        s.close()


def _interface_ipv6(name: str) -> tuple | None:
    """From /proc/net/if_inet6 (Linux): a global or host address, else a link-local one."""
    best = None
    try:
        with open("/proc/net/if_inet6") as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) < 6 or parts[5] != name:
            continue
        hexaddr, index, scope = parts[0], int(parts[1], 16), int(parts[3], 16)
        addr = _socket.inet_ntop(_socket.AF_INET6, bytes.fromhex(hexaddr))
        if scope == 0x20:  # link-local: needs the interface's scope id
            best = best or (addr, _socket.AF_INET6, index)
        else:
            return (addr, _socket.AF_INET6, 0)
    return best

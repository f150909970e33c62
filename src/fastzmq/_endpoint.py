"""Endpoint strings: ``tcp://host:port``, ``ipc://path``, ``inproc://name``.

``parse`` validates an endpoint and splits it; errors carry pyzmq's errno values:
EINVAL for a malformed address, EPROTONOSUPPORT for an unknown transport.
"""

from __future__ import annotations

import socket as _socket
from typing import NamedTuple

from fastzmq import constants as _c
from fastzmq.error import ZMQError

TRANSPORTS = ("tcp", "ipc", "inproc", "pgm", "epgm", "tipc", "vmci", "udp", "ws", "wss", "norm")
SUPPORTED = ("tcp", "ipc", "inproc")


class Endpoint(NamedTuple):  # not a dataclass: `dataclasses` costs ~10 ms at import
    raw: str
    transport: str
    address: str  # what follows "://"
    host: str = ""
    port: int = 0  # 0: any (bind to "*" or ":0")
    family: int = 0  # AF_INET / AF_INET6 for tcp; AF_UNIX for ipc

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
    if transport not in SUPPORTED:
        raise ZMQError(_c.EPROTONOSUPPORT, f"Transport {transport!r} is not supported yet")
    if not rest:
        raise ZMQError(_c.EINVAL, f"Invalid endpoint {addr!r}: empty address")
    if transport == "inproc":
        return Endpoint(addr, transport, rest)
    if transport == "ipc":
        return Endpoint(addr, transport, rest, family=_socket.AF_UNIX)
    return _parse_tcp(addr, rest, connect)


def _parse_tcp(addr: str, rest: str, connect: bool) -> Endpoint:
    if connect and ";" in rest:  # "source;destination": we do not bind the source
        rest = rest.split(";", 1)[1]
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
    return Endpoint(addr, "tcp", rest, host=host, port=port, family=family)


def resolve(ep: Endpoint) -> tuple:
    """A socket address for ep (may do a DNS lookup for host names)."""
    if ep.transport == "ipc":
        return (ep.address,)
    host = ep.host
    if host == "":
        return ("::" if ep.family == _socket.AF_INET6 else "0.0.0.0", ep.port), ep.family
    try:
        infos = _socket.getaddrinfo(
            host, ep.port, ep.family if ":" in host else 0, _socket.SOCK_STREAM
        )
    except OSError:
        # libzmq: an interface name or unknown host on bind is ENODEV; on connect EINVAL
        raise ZMQError(_c.ENODEV, f"No such device or host: {host!r}") from None
    infos.sort(key=lambda i: i[0] != _socket.AF_INET)
    fam, _, _, _, sa = infos[0]
    return sa, fam

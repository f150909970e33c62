"""SOCKS5 client (RFC 1928, username/password RFC 1929), sans-I/O: SOCKS_PROXY.

A connecter with SOCKS_PROXY set connects to the proxy and runs this exchange before
ZMTP: greeting (no authentication, or username/password when SOCKS_USERNAME is set),
then CONNECT to the endpoint's host and port (a name is passed to the proxy to
resolve, as libzmq does). ``need()`` says how many bytes to read next, so nothing
past the proxy's last reply (the ZMTP peer's greeting) is consumed.
"""

from __future__ import annotations

import socket as _socket
import struct


class SocksError(Exception):
    """The proxy refused or spoke something else: close and retry."""


class Socks5:
    def __init__(self, host: str, port: int, username: bytes = b"", password: bytes = b"") -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.state = "method"
        self.buf = b""
        self.done = False

    def start(self) -> bytes:
        if self.username:
            return b"\x05\x02\x00\x02"  # offer: none, username/password
        return b"\x05\x01\x00"

    def need(self) -> int:
        """Bytes still to read for the current reply."""
        if self.state in ("method", "auth"):
            return 2 - len(self.buf)
        # CONNECT reply: VER REP RSV ATYP, then the bound address and port
        if len(self.buf) < 5:
            return 5 - len(self.buf)
        atyp = self.buf[3]
        size = {1: 4, 4: 16}.get(atyp, self.buf[4] + 1 if atyp == 3 else 0)
        if size == 0:
            raise SocksError(f"bad address type {atyp} in the proxy's reply")
        return 4 + size + 2 - len(self.buf)

    def feed(self, data: bytes) -> bytes:
        """Take bytes read from the proxy; return what to send next (may be b"")."""
        self.buf += data
        if self.need() > 0:
            return b""
        reply, self.buf = self.buf, b""
        if self.state == "method":
            if reply[0] != 5 or reply[1] not in (0, 2) or (reply[1] == 2 and not self.username):
                raise SocksError("the proxy accepts none of our authentication methods")
            if reply[1] == 2:
                self.state = "auth"
                u, p = self.username[:255], self.password[:255]
                return b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p
            return self._connect()
        if self.state == "auth":
            if reply[1] != 0:
                raise SocksError("the proxy refused the username/password")
            return self._connect()
        if reply[0] != 5 or reply[1] != 0:
            raise SocksError(f"the proxy could not connect (reply {reply[1]})")
        self.done = True
        return b""

    def _connect(self) -> bytes:
        self.state = "connect"
        host = self.host.strip("[]")
        try:
            addr = b"\x01" + _socket.inet_pton(_socket.AF_INET, host)
        except OSError:
            try:
                addr = b"\x04" + _socket.inet_pton(_socket.AF_INET6, host)
            except OSError:
                name = host.encode("idna")
                addr = b"\x03" + bytes([len(name)]) + name
        return b"\x05\x01\x00" + addr + struct.pack(">H", self.port)


def split_proxy(value: bytes) -> tuple:
    """SOCKS_PROXY's "host:port" (port 1080 when absent)."""
    text = value.decode("utf-8", "replace")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    return host, int(port) if port.isdigit() else 1080

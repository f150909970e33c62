"""The PLAIN mechanism (RFC 24 ZMTP-PLAIN; RFC 23/37 "The PLAIN Security Mechanism").

Theory of operation
-------------------
Username and password in clear text, then metadata, in four commands::

    client                          server
    HELLO(username, password) ->
                                 <- WELCOME            (or ERROR, or a silent close)
    INITIATE(metadata)        ->
                                 <- READY(metadata)

HELLO's data is ``len:1 username len:1 password`` (0-255 bytes each, nothing after);
WELCOME carries no data; INITIATE and READY carry metadata as NULL's READY does.

The server hands the credentials to a ZAP :class:`~fastzmq.zmtp.zap.Authenticator`
(``authenticate(ZapRequest) -> ZapReply``, see :mod:`fastzmq.zmtp.zap`) synchronously,
while handling HELLO. A refusal raises ``AuthenticationFailed``, which makes the handshake
send ERROR(status code), as libzmq does, or close silently on a 300. With *no*
authenticator the server refuses every client: libzmq 4.3's ``plain_server`` fails the
handshake (without an ERROR command) when nothing is bound to ``inproc://zeromq.zap.01``;
pass ``authenticator=None`` knowingly, or an authenticator that allows all.

Which side is which comes from the constructor (``PlainClient``/``PlainServer``); give the
handshake the same role (``Handshake(as_server=mechanism.as_server)``).
"""

from __future__ import annotations

from typing import List, Mapping, Union

from fastzmq.zmtp import BadFrame, ProtocolError
from fastzmq.zmtp.commands import READY, decode_metadata, encode_metadata
from fastzmq.zmtp.mechanisms import Command, Mechanism
from fastzmq.zmtp.zap import DEFERRED, ZapRequest, as_authenticator, authenticate, check_reply

HELLO = b"HELLO"
WELCOME = b"WELCOME"
INITIATE = b"INITIATE"

__all__ = ["PlainClient", "PlainServer", "decode_hello", "encode_hello"]


class NoZapHandler(ProtocolError):
    """A PLAIN server without an authenticator: the handshake fails, no ERROR sent."""

    send_error = False


def _b(value: Union[str, bytes]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def encode_hello(username: bytes, password: bytes) -> bytes:
    if len(username) > 255 or len(password) > 255:
        raise ValueError("PLAIN username and password are at most 255 bytes each")
    return bytes((len(username),)) + username + bytes((len(password),)) + password


def decode_hello(data: bytes) -> tuple:
    """HELLO data -> (username, password); ``BadFrame`` if truncated or padded."""
    if len(data) < 1 or len(data) < 1 + data[0] + 1:
        raise BadFrame("PLAIN HELLO truncated")
    ulen = data[0]
    username = bytes(data[1 : 1 + ulen])
    plen = data[1 + ulen]
    if len(data) != 2 + ulen + plen:
        raise BadFrame("PLAIN HELLO password truncated or followed by extra bytes")
    return username, bytes(data[2 + ulen :])


class _Plain(Mechanism):
    name = b"PLAIN"
    as_server = False

    def __init__(self) -> None:
        super().__init__()
        self._metadata: Mapping[str, bytes] = {}
        self._expect = b""

    def _take(self, name: bytes) -> None:
        if self.is_complete or name != self._expect:
            wanted = self._expect.decode() if self._expect and not self.is_complete else "nothing"
            raise BadFrame(f"PLAIN: expected {wanted}, got {name!r} command")


class PlainClient(_Plain):
    """Sends ``username``/``password``; completes on the server's READY."""

    def __init__(self, username: Union[str, bytes] = b"", password: Union[str, bytes] = b""):
        super().__init__()
        self.username, self.password = _b(username), _b(password)
        self._hello = encode_hello(self.username, self.password)

    def start(self, metadata: Mapping[str, bytes], peer_as_server: bool) -> List[Command]:
        self._metadata = metadata
        self._expect = WELCOME
        return [(HELLO, self._hello)]

    def receive_command(self, name: bytes, data: bytes) -> List[Command]:
        self._take(name)
        if name == WELCOME:
            if data:
                raise BadFrame("PLAIN WELCOME must carry no data")
            self._expect = READY
            return [(INITIATE, encode_metadata(self._metadata))]
        self.peer_metadata = decode_metadata(data)
        self.is_complete = True
        return []


class PlainServer(_Plain):
    """Checks HELLO's credentials through ``authenticator``; completes on INITIATE.

    ``zap_domain``, ``peer_address`` and ``zap_identity`` (our socket's routing id, which
    libzmq sends) fill the ZAP request. After success ``user_id`` and ``zap_metadata`` hold
    the handler's answer (libzmq exposes them as the ``User-Id`` and other message
    properties)."""

    as_server = True

    def __init__(
        self,
        authenticator=None,
        zap_domain: Union[str, bytes] = b"",
        peer_address: Union[str, bytes] = b"",
        zap_identity: bytes = b"",
    ) -> None:
        super().__init__()
        self.authenticator = as_authenticator(authenticator)
        self.zap_domain, self.peer_address = _b(zap_domain), _b(peer_address)
        self.zap_identity = bytes(zap_identity)
        self.username = b""
        self.user_id = b""
        self.zap_metadata: dict = {}

    def start(self, metadata: Mapping[str, bytes], peer_as_server: bool) -> List[Command]:
        self._metadata = metadata
        self._expect = HELLO
        return []

    def receive_command(self, name: bytes, data: bytes) -> List[Command]:
        self._take(name)
        if name == HELLO:
            if not self._check(*decode_hello(data)):
                self._expect = b""  # nothing is acceptable until the ZAP reply
                return []
            self._expect = INITIATE
            return [(WELCOME, b"")]
        self.peer_metadata = decode_metadata(data)
        self.is_complete = True
        return [(READY, encode_metadata(self._metadata))]

    def zap_reply(self, reply) -> List[Command]:
        if self.zap_request is None:
            return super().zap_reply(reply)
        self.zap_request = None
        check_reply(reply)
        self.user_id, self.zap_metadata = reply.user_id, reply.metadata
        self._expect = INITIATE
        return [(WELCOME, b"")]

    def _check(self, username: bytes, password: bytes) -> bool:
        """True if accepted now; False if the request waits for ``zap_reply``."""
        if self.authenticator is None:
            raise NoZapHandler("PLAIN server has no ZAP handler: every client is refused")
        request = ZapRequest(
            self.zap_domain,
            self.peer_address,
            self.zap_identity,
            self.name,
            (username, password),
        )
        self.username = username
        if self.authenticator is DEFERRED:
            self.zap_request = request
            return False
        reply = authenticate(self.authenticator, request)
        self.user_id, self.zap_metadata = reply.user_id, reply.metadata
        return True

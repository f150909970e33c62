"""The CURVE mechanism: CurveZMQ (RFC 26) carried by ZMTP (RFC 25 ZMTP-CURVE), sans I/O.

Theory of operation
-------------------
Keys: the server has a long-term pair (S, s), the client a long-term pair (C, c) and knows
S in advance. Each side makes a short-term pair per connection (C', c' and S', s'). A
``Box[x](A->B)`` is NaCl's crypto_box of x from secret a to public B, 16 bytes of MAC in
front; every box has a 24-byte nonce made of a 16- or 8-byte label and 8 or 16 bytes that
are a big-endian counter ("short nonce") or random ("long nonce"). RFC 26 "Commands"::

    HELLO     version 1.0, 72 zero bytes, C', short nonce,
              Box[64 zero bytes](C'->S)                 nonce "CurveZMQHELLO---" + short
    WELCOME   long nonce, Box[S' + cookie](S->C')       nonce "WELCOME-" + long
              cookie = long nonce + SecretBox[C' + s'](K), nonce "COOKIE--" + long,
              K a key only the server knows (so the server could forget s' until INITIATE)
    INITIATE  cookie, short nonce, Box[C + vouch + metadata](C'->S')
                                                        nonce "CurveZMQINITIATE" + short
              vouch = long nonce + Box[C' + S](C->S'),  nonce "VOUCH---" + long
    READY     short nonce, Box[metadata](S'->C')        nonce "CurveZMQREADY---" + short

The server checks the cookie, that INITIATE opens with the cookie's keys, and that the
vouch binds the client's long-term key C to this C' and this server; then asks the ZAP
authenticator about C (RFC 27 mechanism "CURVE", one credential: the 32-byte key). With no
authenticator every client is accepted, as libzmq 4.3 does when nothing is bound to
``inproc://zeromq.zap.01`` (the "Stonehouse" pattern: encrypted, not authenticated).

Traffic (RFC 25 "MESSAGE command"): after the handshake every ZMTP frame, message or
command, travels as one MESSAGE command: ``short nonce + Box[flags + body](short-term)``
with nonce "CurveZMQMESSAGEC" (client to server) or "CurveZMQMESSAGES" + short, flags
bit 0 MORE and bit 1 COMMAND. On the wire libzmq 4.3 carries each MESSAGE command in an
*ordinary* frame (frame flags 0, body ``\x07MESSAGE`` + data), not a command frame, and
takes a command-flagged one for an unknown command; we do the same. Short nonces count up
from 1 on each side across handshake and traffic (client HELLO=1, INITIATE=2, messages
from 3; server READY=1, messages from 2); a receiver refuses any short nonce not above the
last one it accepted, which rejects replays and reordering. Any box that fails to open is
a ``BadFrame``.

PyNaCl is imported when a CURVE mechanism is created, not before: fastzmq imports without
it, and asking for CURVE then raises :class:`CurveUnavailable`.
"""

from __future__ import annotations

import os
import struct
from typing import List, Mapping, Tuple, Union

from fastzmq._frame import encode_frame
from fastzmq.zmtp import BadFrame
from fastzmq.zmtp.commands import READY, decode_metadata, encode_metadata
from fastzmq.zmtp.mechanisms import Command, Mechanism
from fastzmq.zmtp.zap import DEFERRED, ZapRequest, as_authenticator, authenticate, check_reply

HELLO = b"HELLO"
WELCOME = b"WELCOME"
INITIATE = b"INITIATE"
MESSAGE = b"MESSAGE"
_MESSAGE_PREFIX = b"\x07MESSAGE"

FLAG_MORE = 0x01
FLAG_COMMAND = 0x02

KEY_SIZE = 32
MAC_SIZE = 16
HELLO_SIZE = 2 + 72 + 32 + 8 + 80  # data after the command name
WELCOME_SIZE = 16 + 144
COOKIE_SIZE = 96
INITIATE_MIN = COOKIE_SIZE + 8 + MAC_SIZE + 128
READY_MIN = 8 + MAC_SIZE
MESSAGE_MIN = 8 + MAC_SIZE + 1

__all__ = [
    "FLAG_COMMAND",
    "FLAG_MORE",
    "CurveClient",
    "CurveServer",
    "CurveUnavailable",
    "load_nacl",
    "parse_key",
]


class CurveUnavailable(ImportError):
    """CURVE needs PyNaCl (``pip install fastzmq[curve]``)."""


def load_nacl():
    """``nacl.bindings``, or :class:`CurveUnavailable` with the fix in its message."""
    try:
        import nacl.bindings
    except ImportError as exc:
        raise CurveUnavailable(
            "the CURVE mechanism needs PyNaCl: pip install 'fastzmq[curve]' (or PyNaCl)"
        ) from exc
    return nacl.bindings


def parse_key(key: Union[str, bytes], what: str = "key") -> bytes:
    """A CURVE key as 32 raw bytes, given raw or as 40 Z85 characters (as pyzmq accepts)."""
    if isinstance(key, str):
        key = key.encode("ascii")
    key = bytes(key)
    if len(key) == 40:
        from fastzmq.utils.z85 import decode

        key = decode(key)
    if len(key) != KEY_SIZE:
        raise ValueError(f"CURVE {what} must be 32 bytes or 40 Z85 characters")
    return key


def _short(n: int) -> bytes:
    return struct.pack(">Q", n)


class _Curve(Mechanism):
    name = b"CURVE"
    as_server = False
    encrypts_traffic = True  # the engine must pass traffic through encode/decode_message
    _send_label = b""
    _recv_label = b""

    def __init__(self) -> None:
        super().__init__()
        self._nacl = load_nacl()
        self._nonce = 1  # our next short nonce
        self._peer_nonce = 0  # the last short nonce we accepted from the peer
        self._shared = b""  # crypto_box_beforenm of the short-term keys
        self._metadata: Mapping[str, bytes] = {}
        self._expect = b""

    # ------------------------------------------------------------------ nonces and boxes

    def _next_nonce(self) -> bytes:
        n = self._nonce
        self._nonce += 1
        return _short(n)

    def _check_nonce(self, short: bytes) -> int:
        (n,) = struct.unpack(">Q", short)
        if n <= self._peer_nonce:
            raise BadFrame(f"CURVE short nonce {n} replayed or out of order")
        return n

    def _open(self, box: bytes, nonce: bytes, public: bytes, secret: bytes, what: str) -> bytes:
        try:
            return self._nacl.crypto_box_open(box, nonce, public, secret)
        except Exception:
            raise BadFrame(f"CURVE {what} box does not open (wrong key or corrupted)") from None

    def _open_shared(self, box: bytes, nonce: bytes, what: str) -> bytes:
        try:
            return self._nacl.crypto_box_open_afternm(box, nonce, self._shared)
        except Exception:
            raise BadFrame(f"CURVE {what} box does not open (wrong key or corrupted)") from None

    def _open_counted(self, data: bytes, label: bytes, what: str) -> bytes:
        """``short nonce + box`` under the short-term keys, the nonce checked and recorded."""
        n = self._check_nonce(data[:8])
        plain = self._open_shared(bytes(data[8:]), label + bytes(data[:8]), what)
        self._peer_nonce = n
        return plain

    def _take(self, name: bytes) -> None:
        if self.is_complete or name != self._expect:
            wanted = self._expect.decode() if self._expect else "nothing"
            if self.is_complete:
                wanted = "MESSAGE"
            raise BadFrame(f"CURVE: expected {wanted}, got {name!r} command")

    # ------------------------------------------------------------------ traffic phase

    def encode_message(self, flags: int, body: bytes) -> bytes:
        """The MESSAGE command's data (after its name) for one frame of traffic."""
        if not self.is_complete:
            raise RuntimeError("CURVE traffic before the handshake completed")
        short = self._next_nonce()
        plain = bytes((flags & (FLAG_MORE | FLAG_COMMAND),)) + bytes(body)
        return short + self._nacl.crypto_box_afternm(plain, self._send_label + short, self._shared)

    def encode_message_frame(self, flags: int, body: bytes) -> bytes:
        """One traffic frame (``flags``: FLAG_MORE | FLAG_COMMAND) as a whole wire frame."""
        return encode_frame(_MESSAGE_PREFIX + self.encode_message(flags, body))

    def decode_message(self, data: bytes) -> Tuple[int, bytes]:
        """MESSAGE command data (after its name) -> ``(flags, body)``; BadFrame if forged,
        replayed, reordered or garbled."""
        if not self.is_complete:
            raise RuntimeError("CURVE traffic before the handshake completed")
        if len(data) < MESSAGE_MIN:
            raise BadFrame("CURVE MESSAGE too short")
        plain = self._open_counted(data, self._recv_label, "MESSAGE")
        if plain[0] & ~(FLAG_MORE | FLAG_COMMAND):
            raise BadFrame(f"CURVE MESSAGE with reserved flag bits 0x{plain[0]:02x}")
        return plain[0], plain[1:]

    def decode_message_frame(self, frame_body: bytes) -> Tuple[int, bytes]:
        """The body of one received traffic frame (``\\x07MESSAGE`` + data) -> ``(flags,
        body)``; anything else is refused."""
        if bytes(frame_body[:8]) != _MESSAGE_PREFIX:
            raise BadFrame("CURVE traffic frame is not a MESSAGE command")
        return self.decode_message(frame_body[8:])


class CurveClient(_Curve):
    """Connects to a server whose long-term public key is ``server_key``.

    ``public_key``/``secret_key`` are our long-term pair (raw or Z85); without them a fresh
    pair is made (the server then sees an unknown key)."""

    _send_label = b"CurveZMQMESSAGEC"
    _recv_label = b"CurveZMQMESSAGES"

    def __init__(self, server_key, public_key=None, secret_key=None) -> None:
        super().__init__()
        self.server_key = parse_key(server_key, "server key")
        if secret_key is None:
            public_key, secret_key = self._nacl.crypto_box_keypair()
        self.secret_key = parse_key(secret_key, "secret key")
        derived = self._nacl.crypto_scalarmult_base(self.secret_key)
        self.public_key = derived if public_key is None else parse_key(public_key, "public key")
        self._cn_public, self._cn_secret = self._nacl.crypto_box_keypair()

    def start(self, metadata: Mapping[str, bytes], peer_as_server: bool) -> List[Command]:
        self._metadata = metadata
        self._expect = WELCOME
        short = self._next_nonce()
        try:
            box = self._nacl.crypto_box(
                bytes(64), b"CurveZMQHELLO---" + short, self.server_key, self._cn_secret
            )
        except Exception:  # libsodium refuses a low-order (e.g. all-zero) public key
            raise BadFrame("CURVE server key is not a usable public key") from None
        return [(HELLO, b"\x01\x00" + bytes(72) + self._cn_public + short + box)]

    def receive_command(self, name: bytes, data: bytes) -> List[Command]:
        self._take(name)
        if name == WELCOME:
            return [self._on_welcome(bytes(data))]
        self._on_ready(bytes(data))
        return []

    def _on_welcome(self, data: bytes) -> Command:
        if len(data) != WELCOME_SIZE:
            raise BadFrame(f"CURVE WELCOME must be {WELCOME_SIZE} bytes of data")
        nonce = b"WELCOME-" + data[:16]
        plain = self._open(data[16:], nonce, self.server_key, self._cn_secret, "WELCOME")
        server_short, cookie = plain[:32], plain[32:]
        try:
            self._shared = self._nacl.crypto_box_beforenm(server_short, self._cn_secret)
            box = self._initiate_box(server_short)
        except Exception:  # a low-order short-term key
            raise BadFrame("CURVE WELCOME carries an unusable short-term key") from None
        self._expect = READY
        return (INITIATE, cookie + box)

    def _initiate_box(self, server_short: bytes) -> bytes:
        vouch_nonce = os.urandom(16)
        vouch = self._nacl.crypto_box(
            self._cn_public + self.server_key,
            b"VOUCH---" + vouch_nonce,
            server_short,
            self.secret_key,
        )
        plain = self.public_key + vouch_nonce + vouch + encode_metadata(self._metadata)
        short = self._next_nonce()
        return short + self._nacl.crypto_box_afternm(
            plain, b"CurveZMQINITIATE" + short, self._shared
        )

    def _on_ready(self, data: bytes) -> None:
        if len(data) < READY_MIN:
            raise BadFrame("CURVE READY too short")
        plain = self._open_counted(data, b"CurveZMQREADY---", "READY")
        self.peer_metadata = decode_metadata(plain)
        self.is_complete = True


class CurveServer(_Curve):
    """Accepts clients with our long-term ``secret_key`` (raw or Z85).

    ``authenticator`` (see :mod:`fastzmq.zmtp.zap`) decides on the client's long-term key;
    ``zap_domain``, ``peer_address`` and ``zap_identity`` fill the ZAP request. After the
    handshake ``client_key`` is the client's long-term public key (raw), ``user_id`` and
    ``zap_metadata`` the authenticator's answer."""

    as_server = True
    _send_label = b"CurveZMQMESSAGES"
    _recv_label = b"CurveZMQMESSAGEC"

    def __init__(
        self,
        secret_key,
        public_key=None,
        authenticator=None,
        zap_domain: Union[str, bytes] = b"",
        peer_address: Union[str, bytes] = b"",
        zap_identity: bytes = b"",
    ) -> None:
        super().__init__()
        self.secret_key = parse_key(secret_key, "secret key")
        derived = self._nacl.crypto_scalarmult_base(self.secret_key)
        self.public_key = derived if public_key is None else parse_key(public_key, "public key")
        self.authenticator = as_authenticator(authenticator)
        self.zap_domain = zap_domain.encode() if isinstance(zap_domain, str) else zap_domain
        self.peer_address = peer_address.encode() if isinstance(peer_address, str) else peer_address
        self.zap_identity = bytes(zap_identity)
        self.client_key = b""
        self.user_id = b""
        self.zap_metadata: dict = {}
        self._cookie_key = b""
        self._cn_client = b""

    def start(self, metadata: Mapping[str, bytes], peer_as_server: bool) -> List[Command]:
        self._metadata = metadata
        self._expect = HELLO
        return []

    def receive_command(self, name: bytes, data: bytes) -> List[Command]:
        self._take(name)
        if name == HELLO:
            return [self._on_hello(bytes(data))]
        ready = self._on_initiate(bytes(data))
        return [] if ready is None else [ready]

    def _on_hello(self, data: bytes) -> Command:
        if len(data) != HELLO_SIZE:
            raise BadFrame(f"CURVE HELLO must be {HELLO_SIZE} bytes of data")
        if data[:2] != b"\x01\x00":
            raise BadFrame(f"CURVE HELLO version {data[0]}.{data[1]}, expected 1.0")
        client_short, short, box = data[74:106], data[106:114], data[114:]
        n = self._check_nonce(short)
        nonce = b"CurveZMQHELLO---" + short
        if self._open(box, nonce, client_short, self.secret_key, "HELLO") != bytes(64):
            raise BadFrame("CURVE HELLO signature is not 64 zero bytes")
        self._peer_nonce, self._cn_client = n, client_short
        self._expect = INITIATE
        return (WELCOME, self._welcome(client_short))

    def _welcome(self, client_short: bytes) -> bytes:
        server_short, server_short_secret = self._nacl.crypto_box_keypair()
        self._cookie_key = os.urandom(32)
        cookie_nonce = os.urandom(16)
        cookie = cookie_nonce + self._nacl.crypto_secretbox(
            client_short + server_short_secret, b"COOKIE--" + cookie_nonce, self._cookie_key
        )
        welcome_nonce = os.urandom(16)
        box = self._nacl.crypto_box(
            server_short + cookie, b"WELCOME-" + welcome_nonce, client_short, self.secret_key
        )
        return welcome_nonce + box

    def _on_initiate(self, data: bytes) -> Command:
        if len(data) < INITIATE_MIN:
            raise BadFrame("CURVE INITIATE too short")
        server_short_secret = self._open_cookie(data[:COOKIE_SIZE])
        self._shared = self._nacl.crypto_box_beforenm(self._cn_client, server_short_secret)
        plain = self._open_counted(data[COOKIE_SIZE:], b"CurveZMQINITIATE", "INITIATE")
        client_key = plain[:32]
        self._check_vouch(client_key, plain[32:48], plain[48:128], server_short_secret)
        self.peer_metadata = decode_metadata(plain[128:])
        self.client_key = client_key
        if not self._authenticate(client_key):
            self._expect = b""  # nothing is acceptable until the ZAP reply
            return None
        return self._ready()

    def zap_reply(self, reply) -> List[Command]:
        if self.zap_request is None:
            return super().zap_reply(reply)
        self.zap_request = None
        check_reply(reply)
        self.user_id, self.zap_metadata = reply.user_id, reply.metadata
        return [self._ready()]

    def _ready(self) -> Command:
        self.is_complete = True
        short = self._next_nonce()
        box = self._nacl.crypto_box_afternm(
            encode_metadata(self._metadata), b"CurveZMQREADY---" + short, self._shared
        )
        return (READY, short + box)

    def _open_cookie(self, cookie: bytes) -> bytes:
        try:
            plain = self._nacl.crypto_secretbox_open(
                cookie[16:], b"COOKIE--" + cookie[:16], self._cookie_key
            )
        except Exception:
            raise BadFrame("CURVE INITIATE carries a cookie we did not issue") from None
        if plain[:32] != self._cn_client:
            raise BadFrame("CURVE cookie belongs to another client short-term key")
        return plain[32:]

    def _check_vouch(self, client_key, vouch_nonce, vouch, server_short_secret) -> None:
        plain = self._open(
            vouch, b"VOUCH---" + vouch_nonce, client_key, server_short_secret, "vouch"
        )
        if plain[:32] != self._cn_client or plain[32:] != self.public_key:
            raise BadFrame("CURVE vouch does not match this connection's keys")

    def _authenticate(self, client_key: bytes) -> bool:
        """True if accepted now; False if the request waits for ``zap_reply``."""
        if self.authenticator is None:
            return True  # libzmq without a ZAP handler: encryption without authentication
        request = ZapRequest(
            self.zap_domain, self.peer_address, self.zap_identity, self.name, (client_key,)
        )
        if self.authenticator is DEFERRED:
            self.zap_request = request
            return False
        reply = authenticate(self.authenticator, request)
        self.user_id, self.zap_metadata = reply.user_id, reply.metadata
        return True

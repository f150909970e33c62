"""ZMTP protocol pieces that never touch a socket: errors, handshake, commands.

The exception classes live here (and nowhere else) so that every layer, including the
compiled codec ``fastzmq._frame``, raises the same ones. The handshake names are
re-exported lazily (PEP 562) because ``fastzmq._frame`` imports this package for its
errors, and the handshake imports ``fastzmq._frame``.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """The peer broke ZMTP: the connection must be closed."""


class BadGreeting(ProtocolError):
    """The 64-byte greeting is malformed or announces an unsupported version."""


class BadFrame(ProtocolError):
    """A frame or a command is malformed (flags, size, command name, metadata)."""


class MessageTooLarge(ProtocolError):
    """A message is larger than the configured maximum message size."""


class MechanismMismatch(ProtocolError):
    """The peer's security mechanism differs from ours, or is not one we know."""


class LegacyPeerRefused(MechanismMismatch):
    """A ZMTP 2.0/1.0 peer (no security) met a socket with PLAIN, CURVE or ZAP: refused."""


class IncompatibleSocketType(ProtocolError):
    """The peer's Socket-Type may not talk to ours (RFC 37 compatibility table)."""


class PeerError(ProtocolError):
    """The peer sent an ERROR command; ``reason`` is its text."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"peer sent ERROR: {reason}")
        self.reason = reason


_LAZY = {
    "Handshake": "handshake",
    "HandshakeComplete": "handshake",
    "HandshakeFailed": "handshake",
    "NEED_DATA": "handshake",
    "GREETING_SIZE": "handshake",
    "socket_types_compatible": "handshake",
    "Mechanism": "mechanisms",
    "NullMechanism": "mechanisms.null",
}

__all__ = [
    "BadFrame",
    "BadGreeting",
    "IncompatibleSocketType",
    "LegacyPeerRefused",
    "MechanismMismatch",
    "MessageTooLarge",
    "PeerError",
    "ProtocolError",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

"""Security mechanisms for the ZMTP handshake (RFC 23/37 "Authentication and Confidentiality").

A mechanism is a small object the :class:`~fastzmq.zmtp.handshake.Handshake` drives after
the greetings have been exchanged and the mechanism names matched:

1. ``start(metadata, peer_as_server)`` returns the commands we send first (maybe none);
   ``metadata`` is our connection metadata (Socket-Type, Identity, user properties), which
   the mechanism carries in whichever command it defines (READY for NULL, INITIATE/READY
   for PLAIN and CURVE).
2. ``receive_command(name, data)`` is called for every command the peer sends (except
   ERROR, which the handshake handles) and returns the commands to send in reply. It
   raises a :class:`~fastzmq.zmtp.ProtocolError` subclass on anything unacceptable.
3. Once ``is_complete`` is true, ``peer_metadata`` holds the peer's properties.

A server-side mechanism built with ``authenticator=DEFERRED`` (:mod:`fastzmq.zmtp.zap`)
does not call a hook: when it needs the ZAP handler's verdict it sets ``zap_request`` and
sends nothing more until ``zap_reply(reply)`` is called (which returns the commands to send
next, or raises ``AuthenticationFailed``); the engine carries the exchange.

Commands are ``(name: bytes, data: bytes)`` pairs; the handshake frames them. A mechanism
never sees bytes of the stream, a socket or a clock, so new mechanisms (PLAIN, CURVE) plug
in without touching the handshake.
"""

from __future__ import annotations

from typing import List, Mapping, Tuple

Command = Tuple[bytes, bytes]

__all__ = ["Command", "Mechanism", "NullMechanism"]


class Mechanism:
    """Base class: subclasses set ``name`` and implement the three steps above."""

    name: bytes = b""

    def __init__(self) -> None:
        self.is_complete = False
        self.peer_metadata: dict = {}
        self.zap_request = None  # a ZapRequest awaiting its reply (DEFERRED authenticators)
        self.user_id = b""
        self.zap_metadata: dict = {}

    def zap_reply(self, reply) -> List[Command]:
        """The ZAP handler's parsed reply to ``zap_request``; commands to send next."""
        raise RuntimeError(f"{type(self).__name__} has no ZAP request pending")

    def start(self, metadata: Mapping[str, bytes], peer_as_server: bool) -> List[Command]:
        raise NotImplementedError

    def receive_command(self, name: bytes, data: bytes) -> List[Command]:
        raise NotImplementedError

    def __repr__(self) -> str:
        state = "complete" if self.is_complete else "in progress"
        return f"<{type(self).__name__} {self.name.decode()} {state}>"


def __getattr__(name: str):
    if name == "NullMechanism":
        from fastzmq.zmtp.mechanisms.null import NullMechanism

        return NullMechanism
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

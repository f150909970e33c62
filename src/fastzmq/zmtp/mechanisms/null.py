"""The NULL mechanism (RFC 23/37 "The NULL Security Mechanism").

Each side sends READY with its metadata as soon as the greetings are exchanged and the
handshake is complete once the peer's READY has arrived. No authentication, except that a
socket with a ZAP domain asks the ZAP handler first (libzmq's ``null_mechanism``): given a
``zap_request``, READY waits for the handler's 200; a 400/500 sends ERROR(status), a 300
closes silently.
"""

from __future__ import annotations

from typing import List, Mapping

from fastzmq.zmtp import BadFrame
from fastzmq.zmtp.commands import READY, decode_metadata, encode_metadata
from fastzmq.zmtp.mechanisms import Command, Mechanism
from fastzmq.zmtp.zap import check_reply


class NullMechanism(Mechanism):
    name = b"NULL"

    def __init__(self, zap_request=None) -> None:
        super().__init__()
        self._ask = zap_request  # asked at start(); READY waits for the answer
        self._metadata: Mapping[str, bytes] = {}
        self._ready_sent = False
        self._peer_ready = False

    @property
    def authenticates(self) -> bool:
        """A ZAP handler is asked (a ZAP domain is set): no ZMTP 2.0/1.0 peer then."""
        return self._ask is not None

    def start(self, metadata: Mapping[str, bytes], peer_as_server: bool) -> List[Command]:
        self._metadata = metadata
        if self._ask is not None:
            self.zap_request = self._ask
            return []
        self._ready_sent = True
        return [(READY, encode_metadata(metadata))]

    def receive_command(self, name: bytes, data: bytes) -> List[Command]:
        if self._peer_ready:
            raise BadFrame(f"unexpected {name!r} command after READY (NULL mechanism)")
        if name != READY:
            raise BadFrame(f"expected READY, got {name!r} command (NULL mechanism)")
        self.peer_metadata = decode_metadata(data)
        self._peer_ready = True
        self.is_complete = self._ready_sent
        return []

    def zap_reply(self, reply) -> List[Command]:
        if self.zap_request is None:
            return super().zap_reply(reply)
        self.zap_request = None
        check_reply(reply)
        self.user_id, self.zap_metadata = reply.user_id, reply.metadata
        self._ready_sent = True
        self.is_complete = self._peer_ready
        return [(READY, encode_metadata(self._metadata))]

"""The NULL mechanism (RFC 23/37 "The NULL Security Mechanism").

Each side sends READY with its metadata as soon as the greetings are exchanged and the
handshake is complete once the peer's READY has arrived. No authentication.
"""

from __future__ import annotations

from typing import List, Mapping

from fastzmq.zmtp import BadFrame
from fastzmq.zmtp.commands import READY, decode_metadata, encode_metadata
from fastzmq.zmtp.mechanisms import Command, Mechanism


class NullMechanism(Mechanism):
    name = b"NULL"

    def start(self, metadata: Mapping[str, bytes], peer_as_server: bool) -> List[Command]:
        return [(READY, encode_metadata(metadata))]

    def receive_command(self, name: bytes, data: bytes) -> List[Command]:
        if self.is_complete:
            raise BadFrame(f"unexpected {name!r} command after READY (NULL mechanism)")
        if name != READY:
            raise BadFrame(f"expected READY, got {name!r} command (NULL mechanism)")
        self.peer_metadata = decode_metadata(data)
        self.is_complete = True
        return []

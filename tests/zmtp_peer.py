"""Helpers for tests that talk ZMTP by hand to a real libzmq peer (through pyzmq)."""

from __future__ import annotations

import time

from fastzmq.zmtp.handshake import NEED_DATA

TIMEOUT = 5.0  # seconds, for every blocking call on either side


def zsocket(ctx, kind, **opts):
    """A pyzmq socket with linger 0 and bounded send/recv; opts are option names."""
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = int(TIMEOUT * 1000)
    for name, value in opts.items():
        setattr(s, name, value)
    return s


def run_handshake(conn, hs):
    """Drive ``hs`` over the plain socket ``conn`` until an event or EOF; the last event."""
    conn.sendall(hs.data_to_send())
    ev, deadline = NEED_DATA, time.monotonic() + TIMEOUT
    while ev is NEED_DATA and time.monotonic() < deadline:
        chunk = conn.recv(65536)
        if not chunk:
            break
        hs.receive_data(chunk)
        ev = hs.next_event()
        conn.sendall(hs.data_to_send())
    return ev

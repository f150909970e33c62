"""inproc transport: sockets of one Context joined by a pair of object rings.

``connect`` before ``bind`` is allowed (as in libzmq): the connecting socket gets its
pipe at once (messages queue), and the peer side waits in the context's pending list
until a socket binds the endpoint. With IMMEDIATE the connecting socket gets its pipe
only when the bind happens (posted to its mailbox), so until then it has no peer:
``send`` blocks or raises ``Again``, as with a tcp peer that is not connected yet.

Races with closing: ``bind`` joins pending connecters and posts to them under the
context lock, and ``close_socket``/``drop`` mark or filter under the same lock, then
process their own mailbox; so a pipe is either never handed over, or handed over
before the closing side looks at its pipes (and detached like any other).

HWM follows libzmq's inproc rule: a pipe holds the sender's SNDHWM plus the receiver's
RCVHWM (0 on either side means unlimited).
"""

from __future__ import annotations

from typing import Any

from fastzmq import constants as _c
from fastzmq._pipe import make_inproc_pair
from fastzmq.error import ZMQError


def _hwm(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else a + b


def _join(binder: Any, connecter: Any, b_side: Any, c_side: Any) -> None:
    c_side.set_sndhwm(_hwm(connecter.sndhwm, binder.rcvhwm))
    b_side.set_sndhwm(_hwm(binder.sndhwm, connecter.rcvhwm))
    if c_side.routing_id is None:  # else CONNECT_ROUTING_ID named the binder already
        c_side.routing_id = binder.routing_id_opt
    b_side.routing_id = connecter.routing_id_opt
    c_side.connected = b_side.connected = True


def bind(sock: Any, ep: Any) -> None:
    ctx = sock.context
    with ctx._lock:
        if ep.address in ctx._inproc:
            raise ZMQError(_c.EADDRINUSE, f"Address already in use: {ep.url}")
        ctx._inproc[ep.address] = sock
        sock._inproc_used = True
        pending = ctx._inproc_pending.pop(ep.address, [])
        joined = []
        for connecter, b_side, c_side, deferred in pending:
            if connecter.closed or connecter._inproc_gone:
                continue
            _join(sock, connecter, b_side, c_side)
            b_side.owner = connecter
            c_side.owner = sock
            b_side.endpoint = ep.url
            if deferred:  # IMMEDIATE: the connecter gets its pipe now that a peer exists
                connecter._post("attach", c_side)
            joined.append(b_side)
    for b_side in joined:
        sock._attach(b_side)


def connect(sock: Any, ep: Any) -> None:
    ctx = sock.context
    c_side, b_side = make_inproc_pair()
    c_side.twin = b_side  # no cycle: the binder's end does not point back
    c_side.endpoint = b_side.endpoint = ep.url
    c_side.set_sndhwm(sock.sndhwm)
    c_side.routing_id = sock.options.pop(int(_c.CONNECT_ROUTING_ID), None)
    if c_side.routing_id is None and sock.impl.raw:
        c_side.routing_id = b""  # STREAM: its own id for the peer, not the binder's identity
    with ctx._lock:
        sock._inproc_used = True
        binder = ctx._inproc.get(ep.address)
        deferred = False
        if binder is None or binder.closed:
            deferred = bool(sock.immediate)
            pending = ctx._inproc_pending.setdefault(ep.address, [])
            pending.append((sock, b_side, c_side, deferred))
            binder = None
    c_side.owner = binder
    if deferred:
        return
    if binder is not None:  # joined first: attach sees the peer's routing id, connected
        _join(binder, sock, b_side, c_side)
        b_side.owner = sock
    sock._attach(c_side)
    if binder is not None:
        binder._post("attach", b_side)


def drop(sock: Any, ep: Any, kind: str) -> None:
    """unbind / disconnect of an inproc endpoint."""
    ctx = sock.context
    with ctx._lock:
        if kind == "bind" and ctx._inproc.get(ep.address) is sock:
            del ctx._inproc[ep.address]
        pend = ctx._inproc_pending.get(ep.address, [])
        ctx._inproc_pending[ep.address] = [p for p in pend if p[0] is not sock]
    sock._take_mail()  # adopt a pipe a bind posted (IMMEDIATE) before the filter above
    for pipe in sock._get_pipes():
        if pipe.kind == 1 and pipe.endpoint == ep.url:
            _detach_pair(sock, pipe)


def disconnect_pipe(sock: Any, pipe: Any) -> None:
    """Drop one inproc pipe, both ends (a STREAM's [id, b""], as libzmq's pipe terminate)."""
    _detach_pair(sock, pipe)


def _peer_ends(sock: Any, pipe: Any) -> list:
    """The peer's end(s) of our inproc pipe. A connecter knows its twin directly: the binder
    may not have processed the attach yet, and a detach posted after it (same mailbox, FIFO)
    still reaches it; a search of the binder's attached pipes would miss it, leaving a dead
    pipe the binder would keep sending into."""
    if pipe.twin is not None:
        return [pipe.twin]
    return [
        other
        for other in pipe.owner._get_pipes()
        if other.kind == 1 and other.owner is sock and other.endpoint == pipe.endpoint
    ]


def _detach_pair(sock: Any, pipe: Any) -> None:
    peer = pipe.owner
    sock._detach(pipe)
    if peer is not None and not peer.closed:
        for other in _peer_ends(sock, pipe):
            peer._post("detach", other)


def close_socket(sock: Any) -> None:
    """Tell every inproc peer we are gone; forget our bindings and pending connects."""
    ctx = sock.context
    if ctx is None:
        return
    if not getattr(sock, "_inproc_used", True):  # (set under the lock, before any entry)
        sock._inproc_gone = True  # (no inproc entry to drop: no scan of the context's)
        sock._take_mail()
        return
    with ctx._lock:
        sock._inproc_gone = True  # bind() hands this socket nothing more
        for address, binder in list(ctx._inproc.items()):
            if binder is sock:
                del ctx._inproc[address]
        for address, pend in list(ctx._inproc_pending.items()):
            ctx._inproc_pending[address] = [p for p in pend if p[0] is not sock]
    sock._take_mail()  # adopt pipes a bind posted before we were marked (then detach them)
    for pipe in sock._get_pipes():
        if pipe.kind == 1:
            peer = pipe.owner
            if peer is not None and not peer.closed:
                for other in _peer_ends(sock, pipe):
                    peer._post("detach", other)

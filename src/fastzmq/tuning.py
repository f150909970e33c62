"""fastzmq's own knobs (not part of pyzmq's API).

Spinning: a ``send``/``recv`` that has to block first busy-waits, with the GIL released, for
up to ``get_spin()`` microseconds (50 by default) before it sleeps on the socket's fd. A
message that arrives meanwhile wakes it within a fraction of a microsecond and costs its
sender no syscall. A socket whose pipes have no connection up yet (a REQ still connecting)
sleeps at once: nothing can arrive within the budget. Likewise the I/O thread, after
handing a REQ or REP socket a message, spins up to the same budget for the reply (or next
request) instead of going back to epoll.
This is what makes request/reply and inproc ping-pong round trips fast. The price is CPU:
a socket that waits often and briefly burns up to that budget per wait (a blocked call that
waits longer than the budget sleeps for the rest, using no CPU). The gain needs a free CPU:
when other processes keep every CPU busy, the peer thread is often not running within the
budget, the spin runs out and the wait costs a kernel wake-up as it would without spinning
(``bench/reqrep_harness.py`` and ``bench/README.md`` have the measurements).

``FASTZMQ_SPIN_US`` in the environment sets the budget when fastzmq is imported; 0 turns
spinning off (sleep at once, as libzmq does).

Direct I/O: a REQ or REP socket has one message in flight per peer, so on tcp and ipc
(without CURVE) its own thread writes what it sends to the OS socket when the connection
is idle, and a recv blocked on its one connection reads the OS socket itself while it
spins, instead of handing each message to and from the I/O thread (two thread wake-ups
per direction). Heartbeats are still answered by whichever thread reads; errors, timers
and anything the socket's thread cannot finish (a full socket buffer) go to the I/O
thread. ``set_direct(False)`` (or ``FASTZMQ_DIRECT=0`` in the environment) leaves every
connection made afterwards to the I/O thread alone, as in libzmq. Other socket types
always leave I/O to the I/O thread, which sends a backlog of messages in few syscalls.

Chunk pool: the queues between sockets and the I/O thread grow and shrink in 64 KiB chunks.
Each queue keeps a few spare chunks; beyond those, the process keeps up to
``get_chunk_pool()`` bytes of chunks (2 MiB by default) for any queue to reuse, so a stream
whose backlog swings by megabytes does not malloc, free and page-fault its way through them.
``set_chunk_pool(0)`` returns every pooled chunk to the allocator and stops pooling.
"""

from __future__ import annotations

import os

from fastzmq import _io, _ring, _waiter

__all__ = ["get_chunk_pool", "get_direct", "get_spin", "set_chunk_pool", "set_direct", "set_spin"]


def set_spin(microseconds: int) -> None:
    """How long a blocking send/recv spins before it sleeps, 0 to 1000000 us; 0: never."""
    _waiter.set_spin_budget(microseconds)


def get_spin() -> int:
    """The current spin budget of blocking send/recv, in microseconds."""
    return int(_waiter.get_spin_budget())


def set_direct(on: bool) -> None:
    """Whether REQ and REP sockets do their own I/O on connections made from now on (True by
    default): see "Direct I/O" above."""
    if type(on) is not bool:
        raise TypeError(f"set_direct takes True or False, not {on!r}")
    _io.set_direct(on)


def get_direct() -> bool:
    """Whether new REQ/REP connections use direct I/O."""
    return bool(_io.get_direct())


def set_chunk_pool(max_bytes: int) -> None:
    """Keep at most max_bytes of spare 64 KiB queue chunks for reuse, process-wide; 0: none.
    Lowering it frees the excess at once."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 0 <= max_bytes < 2**48:
        raise ValueError(f"chunk pool size must be an int from 0 to 2**48 bytes, not {max_bytes!r}")
    _ring.set_pool_limit(max_bytes)


def get_chunk_pool() -> int:
    """The chunk pool's limit in bytes (a whole number of 64 KiB chunks)."""
    s = _ring.pool_stats()
    return int(s["limit"] * s["chunk_bytes"])


def _from_environment() -> None:
    direct = os.environ.get("FASTZMQ_DIRECT", "").strip()
    if direct:
        if direct not in ("0", "1"):
            raise ValueError(f"FASTZMQ_DIRECT must be 0 or 1, not {direct!r}")
        set_direct(direct == "1")
    value = os.environ.get("FASTZMQ_SPIN_US")
    if value is None or value.strip() == "":
        return
    try:
        set_spin(int(value))
    except ValueError:
        raise ValueError(
            f"FASTZMQ_SPIN_US must be an integer from 0 to 1000000 (microseconds), not {value!r}"
        ) from None


_from_environment()

"""libzmq's context options for its background threads, applied to our I/O threads.

``THREAD_AFFINITY_CPU_ADD`` / ``_REMOVE`` build a set of CPUs, ``THREAD_SCHED_POLICY`` and
``THREAD_PRIORITY`` a scheduling request. libzmq applies them when a context starts its
threads, and aborts the process when the OS refuses (``posix_assert``). Here they are
applied to each I/O thread as it starts, and to the running ones when set later (libzmq
would keep them for threads it never starts again: accepted and ignored); a refusal is a
``ZMQError`` with the OS's errno, raised by the call that applied them (the ``set``, or
the ``bind``/``connect`` that started the threads), and a refused ``set`` is not kept.

The scheduling rules are libzmq's (``thread_t::applySchedulingParameters``): the policy
is the thread's own unless ``THREAD_SCHED_POLICY`` names one; under SCHED_FIFO and
SCHED_RR the static priority is ``THREAD_PRIORITY``; under any other policy the static
priority is 0 and a ``THREAD_PRIORITY`` above 0 asks for the highest niceness, -20
(CAP_SYS_NICE, or an RLIMIT_NICE that allows it; EPERM otherwise). Linux only: elsewhere
setting them raises ENOTSUP.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from fastzmq import constants as _c
from fastzmq.error import ZMQError

DEFAULT = -1  # ZMQ_THREAD_SCHED_POLICY_DFLT, ZMQ_THREAD_PRIORITY_DFLT

# the context options this module owns (libzmq's thread_ctx_t options)
OPTIONS = frozenset(
    (
        _c.THREAD_AFFINITY_CPU_ADD,
        _c.THREAD_AFFINITY_CPU_REMOVE,
        _c.THREAD_SCHED_POLICY,
        _c.THREAD_PRIORITY,
    )
)

SUPPORTED = all(
    hasattr(os, name)
    for name in ("sched_setaffinity", "sched_setscheduler", "sched_getscheduler", "setpriority")
)


class ThreadOptions:
    """What the user asked for (one per context, shared by its handles)."""

    def __init__(self) -> None:
        self.cpus: set[int] = set()
        self.policy = DEFAULT
        self.priority = DEFAULT

    @property
    def requested(self) -> bool:
        return bool(self.cpus) or self.policy != DEFAULT or self.priority != DEFAULT

    def updated(self, option: int, value: int) -> ThreadOptions:
        """A copy with ``option`` set to ``value`` (REMOVE of a CPU not in the set: EINVAL,
        as libzmq)."""
        new = ThreadOptions()
        new.cpus, new.policy, new.priority = set(self.cpus), self.policy, self.priority
        if option == _c.THREAD_AFFINITY_CPU_ADD:
            new.cpus.add(value)
        elif option == _c.THREAD_AFFINITY_CPU_REMOVE:
            if value not in new.cpus:
                raise ZMQError(_c.EINVAL, f"CPU {value} is not in the I/O threads' affinity")
            new.cpus.discard(value)
        elif option == _c.THREAD_SCHED_POLICY:
            new.policy = value
        elif option == _c.THREAD_PRIORITY:
            new.priority = value
        return new

    def apply(self, thread_ids: Iterable[int]) -> None:
        """Apply to the threads with these native ids; ZMQError with the OS's errno."""
        if not self.requested:
            return
        if not SUPPORTED:
            raise ZMQError(_c.ENOTSUP, "thread affinity and scheduling need Linux")
        for tid in thread_ids:
            try:
                _apply_one(self, tid)
            except OSError as e:
                code = e.errno or _c.EINVAL
                raise ZMQError(code, f"I/O thread scheduling: {os.strerror(code)}") from None


def _apply_one(opts: ThreadOptions, tid: int) -> None:
    if opts.policy != DEFAULT or opts.priority != DEFAULT:
        policy = os.sched_getscheduler(tid) if opts.policy == DEFAULT else opts.policy
        realtime = policy in (os.SCHED_FIFO, os.SCHED_RR)
        static = opts.priority if realtime and opts.priority != DEFAULT else 0
        os.sched_setscheduler(tid, policy, os.sched_param(static))
        if not realtime and opts.priority > 0:
            os.setpriority(os.PRIO_PROCESS, tid, -20)  # (Linux: a thread's own niceness)
    if opts.cpus:
        os.sched_setaffinity(tid, opts.cpus)


def native_ids(io_threads: Iterable[Any]) -> list[int]:
    """The native ids of the running I/O threads."""
    return [
        io.thread.native_id
        for io in io_threads
        if io.thread is not None and io.thread.native_id is not None
    ]

"""libzmq's I/O-thread context options take effect on fastzmq's I/O threads.

THREAD_AFFINITY_CPU_ADD/REMOVE, THREAD_SCHED_POLICY and THREAD_PRIORITY were once stored
and ignored; each test reads the thread's affinity, policy or niceness back from the OS.
"""

from __future__ import annotations

import errno
import os

import pytest

import fastzmq as zmq
from fastzmq import _thread_options

pytestmark = pytest.mark.skipif(not _thread_options.SUPPORTED, reason="Linux only")


def _io_tids(ctx) -> list[int]:
    tids = _thread_options.native_ids(ctx._io)
    assert tids, "no I/O thread running"
    return tids


@pytest.fixture
def ctx():
    c = zmq.Context(io_threads=2)
    yield c
    c.destroy(linger=0)


def _start_io(ctx):
    s = ctx.socket(zmq.PULL)
    s.linger = 0
    s.bind("tcp://127.0.0.1:*")
    return s


@pytest.fixture
def two_cpus():
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs to tell a pinned thread from a free one")
    return cpus[:2]


def test_affinity_set_before_start_pins_every_io_thread(ctx, two_cpus):
    first, _ = two_cpus
    ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, first)
    s = _start_io(ctx)
    try:
        assert [os.sched_getaffinity(t) for t in _io_tids(ctx)] == [{first}, {first}]
        assert len(os.sched_getaffinity(0)) >= 2  # (the caller's own stays free)
    finally:
        s.close()


def test_affinity_set_later_reaches_running_threads(ctx, two_cpus):
    first, second = two_cpus
    s = _start_io(ctx)
    try:
        assert all(len(os.sched_getaffinity(t)) >= 2 for t in _io_tids(ctx))
        ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, second)
        assert all(os.sched_getaffinity(t) == {second} for t in _io_tids(ctx))
        ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, first)
        ctx.set(zmq.THREAD_AFFINITY_CPU_REMOVE, second)
        assert all(os.sched_getaffinity(t) == {first} for t in _io_tids(ctx))
    finally:
        s.close()


def test_remove_of_a_cpu_not_added_is_einval(ctx):
    ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, 0)
    with pytest.raises(zmq.ZMQError) as e:
        ctx.set(zmq.THREAD_AFFINITY_CPU_REMOVE, 1)
    assert e.value.errno == zmq.EINVAL
    ctx.set(zmq.THREAD_AFFINITY_CPU_REMOVE, 0)


def test_write_only_and_readable_as_libzmq(ctx):
    assert ctx.get(zmq.THREAD_SCHED_POLICY) == -1  # ZMQ_THREAD_SCHED_POLICY_DFLT
    for option in (zmq.THREAD_AFFINITY_CPU_ADD, zmq.THREAD_AFFINITY_CPU_REMOVE):
        with pytest.raises(zmq.ZMQError) as e:
            ctx.get(option)
        assert e.value.errno == zmq.EINVAL
    # THREAD_PRIORITY is write-only and shares its number, 3, with SOCKET_LIMIT, which
    # get reads (libzmq): setting the one leaves the other
    ctx.set(zmq.THREAD_PRIORITY, 0)
    assert ctx.get(zmq.SOCKET_LIMIT) == 65535
    with pytest.raises(zmq.ZMQError) as e:
        ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, -1)
    assert e.value.errno == zmq.EINVAL


def test_a_cpu_the_os_refuses_fails_the_call_that_starts_the_threads(ctx):
    ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, 4000)  # no such CPU
    with pytest.raises(zmq.ZMQError) as e:
        _start_io(ctx)
    assert e.value.errno == zmq.EINVAL
    assert ctx._io == []  # nothing half-started is kept
    ctx.set(zmq.THREAD_AFFINITY_CPU_REMOVE, 4000)
    s = _start_io(ctx)  # and the context works once the request is withdrawn
    s.close()


def test_a_refused_set_on_running_threads_is_not_kept(ctx):
    s = _start_io(ctx)
    try:
        before = [os.sched_getaffinity(t) for t in _io_tids(ctx)]
        with pytest.raises(zmq.ZMQError) as e:
            ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, 4000)
        assert e.value.errno == zmq.EINVAL
        assert [os.sched_getaffinity(t) for t in _io_tids(ctx)] == before
        with pytest.raises(zmq.ZMQError):  # (4000 was never added)
            ctx.set(zmq.THREAD_AFFINITY_CPU_REMOVE, 4000)
    finally:
        s.close()


def test_sched_policy_applies(ctx):
    ctx.set(zmq.THREAD_SCHED_POLICY, os.SCHED_BATCH)
    s = _start_io(ctx)
    try:
        assert ctx.get(zmq.THREAD_SCHED_POLICY) == os.SCHED_BATCH
        assert all(os.sched_getscheduler(t) == os.SCHED_BATCH for t in _io_tids(ctx))
        assert os.sched_getscheduler(0) != os.SCHED_BATCH
    finally:
        s.close()


def test_priority_under_a_normal_policy_asks_for_niceness_minus_20(ctx):
    # libzmq's rule: a THREAD_PRIORITY above 0 under SCHED_OTHER/BATCH/IDLE means nice -20
    ctx.set(zmq.THREAD_PRIORITY, 1)
    if os.geteuid() != 0:
        with pytest.raises(zmq.ZMQError) as e:
            _start_io(ctx)
        assert e.value.errno in (errno.EPERM, errno.EACCES)
        return
    s = _start_io(ctx)
    try:
        assert all(os.getpriority(os.PRIO_PROCESS, t) == -20 for t in _io_tids(ctx))
        assert os.getpriority(os.PRIO_PROCESS, 0) != -20
    finally:
        s.close()


def test_realtime_policy_takes_the_priority(ctx):
    if os.geteuid() != 0:
        pytest.skip("SCHED_FIFO needs CAP_SYS_NICE")
    ctx.set(zmq.THREAD_SCHED_POLICY, os.SCHED_FIFO)
    ctx.set(zmq.THREAD_PRIORITY, 1)  # the lowest real-time priority: starves no one here
    try:
        s = _start_io(ctx)
    except zmq.ZMQError as e:  # a container without real-time budget
        pytest.skip(f"the OS refused SCHED_FIFO here: {e}")
    try:
        for t in _io_tids(ctx):
            assert os.sched_getscheduler(t) == os.SCHED_FIFO
            assert os.sched_getparam(t).sched_priority == 1
    finally:
        s.close()

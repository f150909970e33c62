"""Context behaviour as pyzmq: with-blocks, shadows, instance(), options that take effect."""

from __future__ import annotations

import copy
import pickle
import threading

import pytest

import fastzmq as zmq
import fastzmq.asyncio as azmq


def test_with_block_closes_leftover_sockets_with_a_warning():
    done = threading.Event()
    box = {}

    def body():
        with pytest.warns(ResourceWarning):
            with zmq.Context() as ctx:
                box["s"] = ctx.socket(zmq.PUSH)
                box["s"].bind("tcp://127.0.0.1:*")
        box["ctx"] = ctx
        done.set()

    t = threading.Thread(target=body, daemon=True)
    t.start()
    assert done.wait(10), "leaving the with-block hung"
    assert box["s"].closed and box["ctx"].closed


def test_shadow_shares_inproc_between_sync_and_asyncio():
    ctx = zmq.Context()
    actx = azmq.Context.shadow(ctx)
    assert actx.underlying == ctx.underlying and actx._shadow
    a = ctx.socket(zmq.PAIR)
    b = actx.socket(zmq.PAIR)
    try:
        a.bind("inproc://shadow-pair")
        b.connect("inproc://shadow-pair")
        a.send(b"over inproc")
        assert zmq.Socket.poll(b, 5000)  # the sync poll, outside any event loop
        assert zmq.Socket.recv(b, zmq.DONTWAIT) == b"over inproc"
    finally:
        a.close(0)
        b.close(0)
        ctx.term()
    assert not actx.closed  # as pyzmq: only the handle that terminated is "closed"
    with pytest.raises(zmq.ZMQError) as e:
        actx.socket(zmq.PAIR)
    assert e.value.errno == zmq.EFAULT
    with pytest.raises(zmq.ZMQError) as e:
        ctx.socket(zmq.PAIR)
    assert e.value.errno == zmq.ENOTSUP


def test_shadow_by_address_copy_and_positional():
    ctx = zmq.Context()
    try:
        for other in (
            zmq.Context.shadow(ctx.underlying),
            zmq.Context(ctx),
            zmq.Context(shadow=ctx),
            copy.copy(ctx),
            copy.deepcopy(ctx),
        ):
            assert other.underlying == ctx.underlying and other._shadow
            del other
        assert not ctx.closed  # collecting a shadow leaves the context alone
        with pytest.raises(zmq.ZMQError) as e:
            zmq.Context.shadow(12345)
        assert e.value.errno == zmq.EFAULT
        with pytest.raises(TypeError):
            pickle.dumps(ctx)
    finally:
        ctx.term()


def test_instance_inheritance_as_pyzmq():
    class Inherit(zmq.Context):
        pass

    class Own(zmq.Context):
        _instance = None

    base = zmq.Context.instance()
    try:
        assert Inherit.instance() is base
        own = Own.instance()
        assert type(own) is Own and own is not base
        own.term()
    finally:
        base.term()
    fresh = Inherit.instance()  # the parent's is closed: the subclass makes its own
    try:
        assert type(fresh) is Inherit and zmq.Context.instance() is not fresh
    finally:
        zmq.Context.instance().term()
        fresh.term()


def test_max_sockets_is_enforced():
    ctx = zmq.Context()
    ctx.max_sockets = 2
    assert ctx.get(zmq.MAX_SOCKETS) == 2
    socks = [ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)]
    try:
        with pytest.raises(zmq.ZMQError) as e:
            ctx.socket(zmq.PAIR)
        assert e.value.errno == zmq.EMFILE
        socks.pop().close()
        socks.append(ctx.socket(zmq.PAIR))  # room again once one is closed
    finally:
        for s in socks:
            s.close()
        ctx.term()


def test_non_blocky_context_gives_linger_zero():
    ctx = zmq.Context()
    try:
        assert ctx.socket(zmq.PUSH).linger == -1
        ctx.blocky = 0
        s = ctx.socket(zmq.PUSH)
        assert s.linger == 0
        ctx.linger = 50  # an explicit default wins
        assert ctx.socket(zmq.PUSH).linger == 50
    finally:
        ctx.destroy(linger=0)


def test_thread_name_prefix_and_io_threads():
    ctx = zmq.Context(io_threads=2)
    ctx.set(zmq.THREAD_NAME_PREFIX, 7)
    s = ctx.socket(zmq.PULL)
    try:
        s.bind("tcp://127.0.0.1:*")
        names = [io.thread.name for io in ctx._io]
        assert len(names) == 2 and all(n.startswith("7/") for n in names)
    finally:
        s.close(0)
        ctx.term()


def test_repr_counts_sockets():
    ctx = zmq.Context()
    assert "fastzmq.Context()" in repr(ctx)
    s = ctx.socket(zmq.PAIR)
    assert "(1 socket)" in repr(ctx)
    s.close()
    ctx.term()
    assert "closed" in repr(ctx)
    assert "fastzmq.asyncio.Context" in repr(azmq.Context())


def test_write_only_context_option_is_an_attribute_error():
    ctx = zmq.Context()
    try:
        with pytest.raises(AttributeError):
            ctx.thread_affinity_cpu_add  # noqa: B018
        assert "IO_THREADS" in dir(ctx)
    finally:
        ctx.term()


def test_asyncio_and_green_instances_are_their_own():
    base = zmq.Context.instance()
    actx = azmq.Context.instance()
    try:
        assert type(actx) is azmq.Context and actx is not base
    finally:
        actx.term()
        base.term()

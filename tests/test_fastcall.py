"""Socket.send / Socket.recv fast entry points (_fastcall.pyx): every call shape behaves
exactly as SocketCore's full methods do, and the fast descriptors are really installed."""

from __future__ import annotations

import inspect
import itertools

import pytest

import fastzmq as zmq
from fastzmq import _fastcall
from fastzmq._socket import SocketCore

_n = itertools.count()


@pytest.fixture
def pair(ctx):
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    for s in (a, b):
        s.rcvtimeo = s.sndtimeo = 2000
    ep = f"inproc://fastcall-{next(_n)}"
    b.bind(ep)
    a.connect(ep)
    return a, b


def test_installed_as_method_descriptors_on_socket():
    for name in ("send", "recv"):
        entry = zmq.Socket.__dict__[name]
        assert type(entry).__name__ == "method_descriptor"
        assert entry.__objclass__ is zmq.Socket
        # the full methods stay on SocketCore (the forward target)
        assert type(SocketCore.__dict__[name]).__name__ != "method_descriptor"


def test_signatures_match_the_full_methods():
    for name in ("send", "recv"):
        fast = inspect.signature(getattr(zmq.Socket, name))
        full = inspect.signature(getattr(SocketCore, name))
        assert list(fast.parameters)[1:] == list(full.parameters)[1:]
        for p in list(fast.parameters)[1:]:
            assert fast.parameters[p].default == full.parameters[p].default, (name, p)
        summary = getattr(zmq.Socket, name).__doc__
        assert summary and summary in getattr(SocketCore, name).__doc__


def test_every_call_shape_delivers(pair):
    a, b = pair
    a.send(b"one")  # fast: data
    a.send(b"two", zmq.SNDMORE)  # fast: data, flags
    a.send(b"three", 0)
    a.send(b"four", flags=zmq.SNDMORE)  # forwarded: keyword
    a.send(b"five", 0, False)  # forwarded: positional copy
    a.send(bytearray(b"six"), copy=True, track=False)
    tracker = a.send(b"seven", track=True)
    assert tracker.done
    a.send(memoryview(b"eight"))
    assert b.recv() == b"one"  # fast: no argument
    assert b.recv(0) == b"two" and b.rcvmore  # fast: flags
    assert b.recv(flags=0) == b"three" and not b.rcvmore  # forwarded
    assert b.recv(0, True) == b"four" and b.rcvmore
    frame = b.recv(copy=False)
    assert isinstance(frame, zmq.Frame) and frame.bytes == b"five" and not frame.more
    assert b.recv(zmq.DONTWAIT) == b"six"
    assert b.recv(0, False, False).bytes == b"seven"
    assert b.recv() == b"eight"


def test_errors_are_those_of_the_full_methods(pair):
    a, b = pair
    with pytest.raises(TypeError):
        a.send()
    with pytest.raises(TypeError):
        a.send(b"x", "not a flag")  # fast path's int conversion
    with pytest.raises(TypeError):
        SocketCore.send(a, b"x", "not a flag")
    with pytest.raises(OverflowError):
        a.send(b"x", 2**40)
    with pytest.raises(TypeError):
        a.send(b"x", bogus=1)
    with pytest.raises(TypeError):
        a.send(b"x", 0, True, False, None, None, "seventh")
    with pytest.raises(TypeError, match="unicode"):
        a.send("text")
    with pytest.raises(TypeError):
        b.recv("nope")
    with pytest.raises(TypeError):
        b.recv(0, True, False, "fourth")
    with pytest.raises(zmq.Again):
        b.recv(zmq.DONTWAIT)
    with pytest.raises(zmq.Again):
        b.recv(flags=zmq.DONTWAIT)
    # nothing was sent or lost by the failed calls
    a.send(b"after")
    assert b.recv() == b"after"
    with pytest.raises(zmq.Again):
        b.recv(zmq.DONTWAIT)


def test_closed_socket_raises_enotsock_on_both_paths(ctx):
    s = ctx.socket(zmq.PAIR)
    s.close()
    for call in (lambda: s.send(b"x"), lambda: s.send(b"x", 0), lambda: s.send(b"x", copy=True)):
        with pytest.raises(zmq.ZMQError) as e:
            call()
        assert e.value.errno == zmq.ENOTSOCK
    for call in (s.recv, lambda: s.recv(0), lambda: s.recv(copy=True)):
        with pytest.raises(zmq.ZMQError) as e:
            call()
        assert e.value.errno == zmq.ENOTSOCK


def test_subclasses_inherit_and_override(ctx):
    calls = []

    class Logged(zmq.Socket):
        def send(self, data, *args, **kwargs):
            calls.append(data)
            return super().send(data, *args, **kwargs)

    class Plain(zmq.Socket):
        pass

    a = ctx.socket(zmq.PAIR, socket_class=Logged)
    b = ctx.socket(zmq.PAIR, socket_class=Plain)
    b.rcvtimeo = 2000
    ep = f"inproc://fastcall-{next(_n)}"
    b.bind(ep)
    a.connect(ep)
    a.send(b"x")
    a.send(b"y", zmq.SNDMORE)
    a.send(b"z", copy=False)
    assert calls == [b"x", b"y", b"z"]
    assert b.recv() == b"x"  # inherited fast descriptor, generic call path
    assert b.recv(0) == b"y" and b.recv(copy=True) == b"z"


def test_install_rejects_other_classes():
    with pytest.raises(TypeError):
        _fastcall.install(object)

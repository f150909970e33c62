"""fastzmq.error behaves like pyzmq's zmq.error."""

from __future__ import annotations

import errno
import os
import pickle

import pytest

import fastzmq.constants as c
import fastzmq.error as e

zmq = pytest.importorskip("zmq")

CLASSES = [
    "ZMQBaseError",
    "ZMQError",
    "ZMQBindError",
    "NotDone",
    "ContextTerminated",
    "Again",
    "InterruptedSystemCall",
    "ZMQVersionError",
]


def mro_names(cls):
    return [k.__name__ for k in cls.__mro__]


@pytest.mark.parametrize("name", CLASSES)
def test_hierarchy_matches_pyzmq(name):
    assert mro_names(getattr(e, name)) == mro_names(getattr(zmq.error, name))


@pytest.mark.parametrize("num", list(zmq.Errno) + [errno.EINTR, errno.ENOENT, 0, 99999])
def test_strerror_matches_libzmq(num):
    assert e.strerror(int(num)) == zmq.strerror(int(num))


def test_zmq_error_from_errno():
    err = e.ZMQError(c.EAGAIN)
    ref = zmq.ZMQError(zmq.EAGAIN)
    assert err.errno == ref.errno == errno.EAGAIN
    assert str(err) == str(ref) == err.strerror == os.strerror(errno.EAGAIN)
    assert repr(err) == repr(ref)


def test_zmq_error_with_message_and_without_errno():
    err = e.ZMQError(c.EFSM, "custom")
    assert (err.errno, str(err)) == (c.EFSM, "custom")
    bare = e.ZMQError("just text")
    ref = zmq.ZMQError("just text")
    assert bare.errno is None is ref.errno
    assert str(bare) == str(ref) == "just text"


def test_zmq_error_default_is_errno_zero():
    err = e.ZMQError()
    assert err.errno == 0 and str(err) == os.strerror(0)


def test_subclass_errnos_and_texts():
    assert e.Again().errno == errno.EAGAIN and str(e.Again()) == str(zmq.Again())
    assert e.ContextTerminated().errno == c.ETERM
    assert str(e.ContextTerminated()) == "Context was terminated"
    intr = e.InterruptedSystemCall()
    assert intr.errno == errno.EINTR and isinstance(intr, InterruptedError)
    assert str(intr).startswith("Interrupted system call")


def test_raise_errno_picks_subclass():
    cases = {
        c.EAGAIN: e.Again,
        c.ETERM: e.ContextTerminated,
        errno.EINTR: e.InterruptedSystemCall,
        c.EFSM: e.ZMQError,
        c.EHOSTUNREACH: e.ZMQError,
    }
    for num, cls in cases.items():
        with pytest.raises(e.ZMQError) as info:
            e._raise_errno(num)
        assert type(info.value) is cls and info.value.errno == num
    with pytest.raises(e.ZMQError, match="over HWM"):
        e._raise_errno(c.EFSM, "over HWM")


def test_catching_like_pyzmq_code_does():
    try:
        e._raise_errno(c.EAGAIN)
    except e.ZMQError as err:
        assert err.errno == c.EAGAIN
    with pytest.raises(e.Again):
        e._raise_errno(errno.EAGAIN)
    with pytest.raises(e.ZMQBaseError):
        e._raise_errno(c.ETERM)


def test_errors_pickle():
    for err in (e.ZMQError(c.EINVAL), e.Again(), e.ContextTerminated(), e.ZMQError("x")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and back.errno == err.errno and str(back) == str(err)


def test_version_error():
    err = e.ZMQVersionError("4.4", "Thing")
    assert str(err) == "Thing requires libzmq >= 4.4, have 4.3.5"
    assert isinstance(err, NotImplementedError)
    e._check_version((4, 3), "old feature")
    with pytest.raises(e.ZMQVersionError, match="new feature requires libzmq >= 5.0"):
        e._check_version((5, 0), "new feature")

"""Frame and MessageTracker: pyzmq's behaviour, plus fastzmq's tracking holds."""

from __future__ import annotations

import copy
import gc
import threading
import time

import pytest

import fastzmq.constants as c
from fastzmq.error import NotDone, ZMQError
from fastzmq.message import _FINISHED_TRACKER, Frame, Message, MessageTracker

zmq = pytest.importorskip("zmq")


@pytest.mark.parametrize(
    "data", [b"", b"abc", bytearray(b"ab"), memoryview(b"abcd")[1:3], b"x" * 100_000]
)
def test_content_like_pyzmq(data):
    ours, ref = Frame(data), zmq.Frame(data)
    assert ours.bytes == ref.bytes and len(ours) == len(ref)
    assert bytes(ours) == bytes(ref)
    assert ours.buffer.tobytes() == bytes(ref.buffer)
    assert not ours.more


def test_empty_frame():
    f = Frame()
    assert f.bytes == b"" and len(f) == 0 and f.tracker is None


def test_multidimensional_buffer_is_flattened():
    view = memoryview(bytearray(range(12))).cast("B", (3, 4))
    f = Frame(view, copy=False)
    assert len(f) == 12 and f.bytes == bytes(range(12))


def test_rejects_str_and_non_buffers_like_pyzmq():
    with pytest.raises(TypeError, match="Str objects not allowed"):
        Frame("text")
    with pytest.raises(TypeError):
        Frame(12)


def test_copy_false_shares_the_buffer():
    buf = bytearray(b"hello")
    f = Frame(buf, copy=False)
    buf[0:1] = b"J"
    assert f.bytes == b"Jello"


def test_copy_true_snapshots_the_buffer():
    buf = bytearray(b"hello")
    f = Frame(buf, copy=True)
    buf[0:1] = b"J"
    assert f.bytes == b"hello"


def test_copy_threshold_decides_when_copy_is_none():
    small, big = bytearray(10), bytearray(c.COPY_THRESHOLD)
    fs, fb = Frame(small), Frame(big)
    small[0] = big[0] = 1
    assert fs.bytes[0] == 0 and fb.bytes[0] == 1
    shared = Frame(small, copy_threshold=5)
    small[1] = 7
    assert shared.bytes[1] == 7


def test_bytes_frame_copies_small_and_shares_large_read_only():
    data = b"y" * 1000
    small = Frame(data)  # below COPY_THRESHOLD: pyzmq copies into the frame's own memory
    assert small.bytes == data and small.bytes is not data and small.bytes is small.bytes
    small.buffer[0] = ord("z")  # its own memory: writable, the caller's bytes untouched
    assert data[0] == ord("y") and bytes(memoryview(small))[:1] == b"z"
    big = Frame(data, copy=False)  # shares the caller's bytes: exported read-only
    assert big.bytes is data and memoryview(big).readonly


def test_buffer_is_memoryview():
    f = Frame(b"abc")
    assert isinstance(f.buffer, memoryview) and f.buffer[1] == ord("b")


def test_memoryview_of_frame():
    assert memoryview(Frame(b"abc")).tobytes() == b"abc"


def test_get_options_like_pyzmq():
    ours, ref = Frame(b"abc"), zmq.Frame(b"abc")
    assert ours.get(c.MORE) == ref.get(zmq.MORE) == 0
    assert ours.get(c.SHARED) == ref.get(zmq.SHARED) == 0
    assert ours[c.MORE] == 0
    for bad in (c.SRCFD, 99, "User-Id"):
        with pytest.raises(ZMQError) as info:
            ours.get(bad)
        assert info.value.errno == c.EINVAL
        with pytest.raises(zmq.ZMQError):
            ref.get(bad)
    with pytest.raises(TypeError):
        ours.get(1.5)


def test_more_is_reported():
    f = Frame._from_bytes(b"part", more=True)
    assert f.more and f.get(c.MORE) == 1


def test_set_int_option_is_einval():
    with pytest.raises(ZMQError) as info:
        Frame(b"a").set(c.MORE, 1)
    assert info.value.errno == c.EINVAL


def test_metadata_properties():
    props = {"Socket-Type": "DEALER", "User-Id": "alice"}
    f = Frame._from_bytes(b"x", properties=props)
    assert f.get("Socket-Type") == "DEALER" and f[b"User-Id"] == "alice"
    for missing in ("socket-type", "Peer-Address"):  # libzmq: exact names only
        with pytest.raises(ZMQError):
            f.get(missing)


def test_routing_id_and_group():
    f = Frame(b"x")
    assert f.routing_id == 0 and f.group == ""
    with pytest.raises(ZMQError):
        f.get("routing_id")
    f.routing_id = 42
    f.set("group", b"news")
    assert f.get("routing_id") == 42 and f.routing_id == 42 and f.group == "news"
    for bad in (0, -1, 2**32, "x"):
        with pytest.raises(ZMQError):
            f.routing_id = bad
    with pytest.raises(ZMQError):
        f.group = "g" * 256
    f.group = "g" * 255


def test_identity_semantics_like_pyzmq():
    a, b = Frame(b"abc"), Frame(b"abc")
    assert (a == b) == (zmq.Frame(b"abc") == zmq.Frame(b"abc")) is False
    assert a == a and len({a, b}) == 2


def test_repr():
    assert repr(Frame(b"abc")) == "<fastzmq.Frame(b'abc')>"
    assert repr(Frame(b"y" * 2000)) == "<fastzmq.Frame(b'yyyyyyyyyyyy'...2kB)>"
    assert repr(Frame(b"y" * 20)) == "<fastzmq.Frame(b'yyyyyyyyyyyy'...20B)>"


def test_fast_copy_shares_content_and_marks_shared():
    f = Frame(b"z" * 100)
    f.routing_id = 7
    g = copy.copy(f)
    assert g is not f and g._data is f._data and g.routing_id == 7
    assert f.get(c.SHARED) == g.get(c.SHARED) == 1
    tiny = Frame(b"z")
    copy.copy(tiny)
    assert tiny.get(c.SHARED) == 0  # libzmq never shares very small messages


def test_message_alias():
    assert Message is Frame


# -- tracking ------------------------------------------------------------------


def test_untracked_frame_has_no_tracker():
    assert Frame(b"a").tracker is None
    assert Frame(bytearray(100), copy=False).tracker is None


def test_copied_tracked_frame_is_done_at_once():
    f = Frame(b"a", track=True)
    assert f.tracker is _FINISHED_TRACKER and f.tracker.done
    f.tracker.wait(0)


def test_zero_copy_tracker_done_when_frame_collected():
    f = Frame(bytearray(100), copy=False, track=True)
    tracker = f.tracker
    assert not tracker.done
    with pytest.raises(NotDone):
        tracker.wait(0.01)
    del f
    gc.collect()
    assert tracker.done
    tracker.wait(0)


def test_zero_copy_tracker_waits_for_every_socket_hold():
    f = Frame(bytearray(100), copy=False, track=True)
    tracker, holds = f.tracker, f._holds
    f._acquire()
    f._acquire()
    del f
    gc.collect()
    assert not tracker.done  # two sockets still hold the buffer
    holds.release()
    assert not tracker.done
    holds.release()
    assert tracker.done


def test_release_from_another_thread_wakes_wait():
    f = Frame(bytearray(100), copy=False, track=True)
    tracker, holds = f.tracker, f._holds
    f._acquire()
    del f
    gc.collect()
    timer = threading.Timer(0.05, holds.release)
    timer.start()
    start = time.monotonic()
    tracker.wait(5)
    assert tracker.done and time.monotonic() - start < 4
    timer.join(5)


def test_acquire_release_are_noops_untracked():
    f = Frame(b"a")
    f._acquire()
    f._release()
    assert f.tracker is None


def test_tracker_of_events_and_peers():
    ev = threading.Event()
    inner = MessageTracker(ev)
    outer = MessageTracker(inner, Frame(b"x", track=True))
    assert not outer.done
    with pytest.raises(NotDone):
        outer.wait(0.01)
    ev.set()
    assert outer.done
    outer.wait(None)
    outer.wait()


def test_tracker_rejects_other_objects_like_pyzmq():
    with pytest.raises(TypeError):
        MessageTracker(5)
    with pytest.raises(ValueError):
        MessageTracker(Frame(b"untracked"))
    assert MessageTracker().done


def test_wait_timeout_is_total_not_per_event():
    events = [threading.Event() for _ in range(5)]
    tracker = MessageTracker(*events)
    start = time.monotonic()
    with pytest.raises(NotDone):
        tracker.wait(0.05)
    assert time.monotonic() - start < 0.5  # 5 x 50 ms would be 0.25 s


def test_received_frame_wraps_the_bytes_without_copy_or_tracking():
    data = b"payload"
    props = {"Socket-Type": "PAIR"}
    f = Frame._from_bytes(data, True, props)
    assert type(f) is Frame
    assert f._data is data  # the very object: no copy on the receive path
    assert memoryview(f).obj is f and len(f) == len(data)
    assert f.more is True and f.tracker is None
    assert f.get("Socket-Type") == "PAIR"
    g = Frame._from_bytes(data)
    assert g.more is False and g.bytes == data


def test_zero_copy_tracking_also_for_bytes():
    f = Frame(b"q" * 10, copy=False, track=True)
    tracker = f.tracker
    assert tracker is not _FINISHED_TRACKER and not tracker.done
    del f
    gc.collect()
    assert tracker.done


def test_buffer_protocol_on_every_python():
    f = Frame._from_bytes(b"\x01\x02\x03\x04")
    view = memoryview(f)  # C-level buffer protocol, not only PEP 688
    assert view.ndim == 1 and view.shape == (4,) and not view.readonly
    assert f.buffer is f.buffer
    view[0] = 9
    assert f.buffer[0] == 9
    with pytest.raises(BufferError):
        Frame(memoryview(bytearray(10))[::2])
    ba = bytearray(b"abcd")
    shared = Frame(ba, copy=False)
    memoryview(shared)[0] = ord("A")  # zero-copy over a writable buffer writes through
    assert ba == b"Abcd"


def test_numpy_frombuffer_reads_a_received_frame():
    np = pytest.importorskip("numpy")
    a = np.arange(6, dtype=">i4")
    f = Frame._from_bytes(a.tobytes())
    assert (np.frombuffer(f, dtype=">i4") == a).all()

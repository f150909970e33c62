"""Low-water marks: a producer blocked at its HWM is woken once the queue has drained to
the LWM (libzmq's rule), not on the consumer's first read. Without them a tcp receiver
slower than its I/O thread woke that thread about once per 140 messages."""

from __future__ import annotations

import pytest

import fastzmq as zmq
from fastzmq._pipe import make_inproc_pair, make_wire_pipe
from fastzmq._ring import PyRing
from fastzmq._waiter import Waiter

NONE = 2**64 - 1  # no mark: any consume may wake (an unlimited queue never blocks anyone)


@pytest.mark.parametrize(
    ("hwm", "lwm"),
    [(0, NONE), (1, 1), (2, 1), (10, 5), (1000, 500), (2048, 1024), (2049, 1025), (10000, 8976)],
)
def test_lwm_is_half_the_hwm_or_at_most_1024_below_it(hwm, lwm):
    pipe, out, _ = make_wire_pipe()
    pipe.set_sndhwm(hwm)
    assert pipe.sndhwm == hwm
    assert out.low_water_mark == lwm
    assert pipe.low_water_marks()[0] == lwm


def test_sndhwm_is_set_only_through_set_sndhwm():
    pipe, _, _ = make_wire_pipe()
    with pytest.raises(AttributeError):
        pipe.sndhwm = 5


def test_a_blocked_writer_is_woken_at_the_low_water_mark_not_before():
    r = PyRing(4096)
    w = Waiter()
    r.ring.set_writer(w)
    r.ring.set_low_water(5)
    for i in range(10):
        r.write(bytes([i]))
    r.publish(10)  # the writer is at its HWM of 10 and goes to sleep
    w.arm()
    for i in range(4):  # 9, 8, 7, 6 left: still above the mark, nobody is woken
        assert r.read(1) == bytes([i])
        r.consume(0, 1)
        assert w.asleep and w.wait(0) == 0
    assert r.read(1) == b"\x04"
    r.consume(0, 1)  # 5 left: the mark
    assert not w.asleep and w.wait(0) == 1
    w.close()


@pytest.mark.timeout(20)
def test_tcp_pipes_get_the_marks_of_both_hwms(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.rcvhwm = 3000
    pull.rcvtimeo = 5000
    pull.linger = 0
    pull.bind("tcp://127.0.0.1:*")
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 100
    push.linger = 0
    push.connect(pull.last_endpoint.decode())
    push.send(b"hello")
    assert pull.recv() == b"hello"  # both engines are active now
    (sender,) = push._get_pipes()
    (receiver,) = pull._get_pipes()
    assert sender.low_water_marks()[0] == 50  # the socket thread blocked at SNDHWM
    assert receiver.low_water_marks()[1] == 3000 - 1024  # the I/O thread throttled at RCVHWM


def test_inproc_pipes_get_the_mark_of_the_summed_hwms(ctx):
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.sndhwm, b.rcvhwm = 10, 20
    b.sndhwm, a.rcvhwm = 3000, 0
    for s in (a, b):
        s.linger = 0
    b.bind("inproc://lwm")
    a.connect("inproc://lwm")
    b.send(b"x")
    a.rcvtimeo = 5000
    assert a.recv() == b"x"
    (pa,) = a._get_pipes()
    (pb,) = b._get_pipes()
    assert pa.sndhwm == 30 and pa.low_water_marks()[0] == 15
    assert pb.sndhwm == 0 and pb.low_water_marks()[0] == NONE  # unlimited: a's RCVHWM is 0


def test_make_inproc_pair_starts_unlimited():
    c_side, b_side = make_inproc_pair()
    assert c_side.sndhwm == b_side.sndhwm == 0
    assert c_side.low_water_marks() == (NONE, NONE)

"""pyzmq's Socket API: options, errors, sugar, Frames, HWM, timeouts, term, Ctrl-C."""

from __future__ import annotations

import signal
import threading
import time

import pytest

import fastzmq as zmq


@pytest.fixture
def pair(ctx):
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    a.bind("inproc://api-pair")
    b.connect("inproc://api-pair")
    a.rcvtimeo = b.rcvtimeo = 2000
    return a, b


def _errno(call, *args):
    with pytest.raises(zmq.ZMQError) as e:
        call(*args)
    return e.value.errno


# ---------------------------------------------------------------- options
def test_options_as_attributes(ctx):
    s = ctx.socket(zmq.DEALER)
    s.sndhwm = 7
    assert s.getsockopt(zmq.SNDHWM) == 7 and s.sndhwm == 7
    s.setsockopt(zmq.RCVTIMEO, 123)
    assert s.rcvtimeo == 123
    s.linger = 0
    assert s.get(zmq.LINGER) == 0
    s.hwm = 11
    assert (s.sndhwm, s.rcvhwm, s.hwm) == (11, 11, 11)
    s.routing_id = b"me"
    assert s.identity == b"me" and s.getsockopt(zmq.ROUTING_ID) == b"me"
    assert s.type == zmq.DEALER and s.getsockopt(zmq.TYPE) == zmq.DEALER
    assert s.getsockopt(zmq.RCVMORE) == 0
    assert isinstance(s.FD, int) and s.fileno() == s.FD


def test_setsockopt_errors(ctx):
    s = ctx.socket(zmq.DEALER)
    assert _errno(s.setsockopt, 99999, 1) == zmq.EINVAL
    assert _errno(s.setsockopt, zmq.SNDHWM, -5) == zmq.EINVAL
    with pytest.raises(TypeError):  # pyzmq: a wrong type is TypeError, not EINVAL
        s.setsockopt(zmq.SNDHWM, b"x")
    assert _errno(s.setsockopt, zmq.ROUTING_ID, b"") == zmq.EINVAL
    assert _errno(s.setsockopt, zmq.SUBSCRIBE, b"t") == zmq.EINVAL  # not a SUB
    assert _errno(s.setsockopt, zmq.TYPE, 1) == zmq.EINVAL  # read-only
    with pytest.raises(TypeError):
        s.setsockopt(zmq.ROUTING_ID, "str")
    with pytest.raises(zmq.ZMQError) as e:
        s.setsockopt(zmq.SNDHWM, -5)
    assert "SNDHWM" in str(e.value)  # the message names the option
    assert _errno(s.getsockopt, 99999) == zmq.EINVAL
    with pytest.raises(AttributeError):
        s.no_such_option  # noqa: B018


def test_invalid_socket_type(ctx):
    assert _errno(ctx.socket, 99) == zmq.EINVAL


def test_enotsup_on_wrong_direction(ctx):
    for t in (zmq.PULL, zmq.SUB):
        assert _errno(ctx.socket(t).send, b"x") == zmq.ENOTSUP
    for t in (zmq.PUSH, zmq.PUB):
        assert _errno(ctx.socket(t).recv, zmq.DONTWAIT) == zmq.ENOTSUP


def test_enotsock_after_close(ctx):
    s = ctx.socket(zmq.PAIR)
    s.close()
    assert s.closed
    s.close()  # idempotent
    for call, args in (
        (s.send, (b"x",)),
        (s.recv, ()),
        (s.send_multipart, ([b"x"],)),
        (s.recv_multipart, ()),
        (s.setsockopt, (zmq.LINGER, 0)),
        (s.getsockopt, (zmq.LINGER,)),
        (s.bind, ("inproc://closed",)),
        (s.connect, ("inproc://closed",)),
    ):
        assert _errno(call, *args) == zmq.ENOTSOCK


def test_context_manager_closes(ctx):
    with ctx.socket(zmq.PUSH) as s:
        assert not s.closed
    assert s.closed
    with zmq.Context() as c:
        with c.socket(zmq.PAIR) as t:
            t.bind("inproc://cm")
    assert c.closed


# ---------------------------------------------------------------- sugar
def test_send_recv_string_json_pyobj(pair):
    a, b = pair
    a.send_string("héllo")
    assert b.recv_string() == "héllo"
    a.send_json({"k": [1, 2]})
    assert b.recv_json() == {"k": [1, 2]}
    a.send_pyobj({"set": {1, 2}})
    assert b.recv_pyobj() == {"set": {1, 2}}
    with pytest.raises(TypeError):
        a.send("str")
    with pytest.raises(TypeError):
        a.send_string(b"bytes")


def test_copy_false_returns_frame(pair):
    a, b = pair
    a.send_multipart([b"one", b"two"])
    f = b.recv(copy=False)
    assert isinstance(f, zmq.Frame)
    assert f.bytes == b"one" and f.more
    f2 = b.recv(copy=False)
    assert f2.bytes == b"two" and not f2.more
    a.send(zmq.Frame(b"framed"))
    assert b.recv() == b"framed"
    a.send(memoryview(b"view"), copy=False)
    parts = b.recv_multipart(copy=False)
    assert [p.bytes for p in parts] == [b"view"]


def test_track_returns_done_tracker(pair):
    a, b = pair
    t = a.send(b"x", copy=False, track=True)
    assert isinstance(t, zmq.MessageTracker)
    t.wait(1)
    assert t.done
    assert b.recv() == b"x"


# ---------------------------------------------------------------- HWM and timeouts
def test_hwm_then_dontwait_is_again(ctx):
    push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    push.sndhwm = 3
    pull.rcvhwm = 2
    pull.bind("inproc://api-hwm")
    push.connect("inproc://api-hwm")
    for i in range(5):
        push.send(b"%d" % i, zmq.DONTWAIT)
    with pytest.raises(zmq.Again):
        push.send(b"x", zmq.DONTWAIT)
    assert pull.recv(zmq.DONTWAIT) == b"0"
    push.send(b"5", zmq.DONTWAIT)  # one slot freed
    with pytest.raises(zmq.Again):
        push.send(b"x", zmq.DONTWAIT)


@pytest.mark.parametrize("timeout_ms", [100, 300])
def test_rcvtimeo_raises_again_after_the_timeout(ctx, timeout_ms):
    s = ctx.socket(zmq.PULL)
    s.bind("inproc://api-rcvtimeo")
    s.rcvtimeo = timeout_ms
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        s.recv()
    dt = time.monotonic() - t0
    assert timeout_ms / 1000 * 0.9 <= dt < timeout_ms / 1000 + 1.0


def test_sndtimeo_raises_again_after_the_timeout(ctx):
    s = ctx.socket(zmq.PUSH)
    s.bind("inproc://api-sndtimeo")
    s.sndtimeo = 200
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        s.send(b"nobody")
    assert 0.18 <= time.monotonic() - t0 < 1.5


def _later(delay, fn, *args):
    t = threading.Timer(delay, fn, args)
    t.start()
    return t


@pytest.mark.parametrize("stype", [zmq.PULL, zmq.SUB])
def test_rcvtimeo_restarts_for_each_recv(ctx, stype):
    """A recv that blocked and succeeded must not leave its deadline to the next."""
    pull = ctx.socket(stype)
    if stype == zmq.SUB:
        pull.subscribe(b"")
    pull.bind("inproc://api-rearm")
    push = ctx.socket(zmq.PUSH if stype == zmq.PULL else zmq.PUB)
    push.connect("inproc://api-rearm")
    pull.rcvtimeo = 300
    t = _later(0.05, push.send, b"1")
    assert pull.recv() == b"1"
    t.join()
    time.sleep(0.35)  # the first recv's deadline is now in the past
    t = _later(0.05, push.send, b"2")
    try:
        assert pull.recv() == b"2"
    finally:
        t.join()


def test_blocked_send_wakes_when_space_frees(ctx):
    push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    push.sndhwm = pull.rcvhwm = 1
    pull.bind("inproc://api-wsend")
    push.connect("inproc://api-wsend")
    push.send(b"a")
    push.send(b"b")
    push.sndtimeo = 2000
    t = _later(0.05, pull.recv)
    t0 = time.monotonic()
    push.send(b"c")
    assert time.monotonic() - t0 < 1.0
    t.join()


# ---------------------------------------------------------------- term and signals
def test_term_wakes_blocked_recv_with_context_terminated():
    c = zmq.Context()
    s = c.socket(zmq.PULL)
    s.bind("inproc://api-term")
    caught = []

    def blocked():
        try:
            s.recv()
        except zmq.ContextTerminated as e:
            caught.append(e)
        finally:
            s.close(linger=0)

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    c.term()
    t.join(5)
    assert not t.is_alive()
    assert len(caught) == 1 and caught[0].errno == zmq.ETERM
    assert time.monotonic() - t0 < 2.0
    assert c.closed


class _Interrupt(Exception):
    pass


def test_signal_handler_interrupts_blocked_recv(ctx):
    s = ctx.socket(zmq.PULL)
    s.bind("inproc://api-sig")

    def handler(signum, frame):
        raise _Interrupt()

    old = signal.signal(signal.SIGUSR1, handler)
    main = threading.main_thread().ident
    t = _later(0.1, signal.pthread_kill, main, signal.SIGUSR1)
    t0 = time.monotonic()
    try:
        with pytest.raises(_Interrupt):
            s.recv()
    finally:
        t.join()
        signal.signal(signal.SIGUSR1, old)
    assert time.monotonic() - t0 < 1.0  # promptly (wait slices are 200 ms), not after a long poll
    s.rcvtimeo = 0
    with pytest.raises(zmq.Again):
        s.recv()  # the socket is still usable


def test_setitimer_interrupts_blocked_send(ctx):
    s = ctx.socket(zmq.PUSH)
    s.bind("inproc://api-itimer")

    def handler(signum, frame):
        raise _Interrupt()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        with pytest.raises(_Interrupt):
            s.send(b"nobody-listens")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_term_wakes_blocked_send_with_context_terminated():
    c = zmq.Context()
    s = c.socket(zmq.PUSH)
    s.bind("inproc://api-term-send")
    caught = []

    def blocked():
        try:
            s.send(b"nobody")
        except zmq.ContextTerminated as e:
            caught.append(e)
        finally:
            s.close(linger=0)

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.1)
    c.term()
    t.join(5)
    assert not t.is_alive() and len(caught) == 1


def test_new_socket_after_term_is_enotsup():
    c = zmq.Context()
    c.term()
    assert _errno(c.socket, zmq.PAIR) == zmq.ENOTSUP  # pyzmq's answer on a closed Context


def test_conflate_keeps_only_the_last_message(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.conflate = 1
    pull.bind("inproc://api-conflate")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://api-conflate")
    for i in range(10):
        push.send(b"%d" % i, zmq.DONTWAIT)
    assert pull.recv(zmq.DONTWAIT) == b"9"
    with pytest.raises(zmq.Again):
        pull.recv(zmq.DONTWAIT)


def test_immediate_does_not_queue_before_the_peer_exists(ctx):
    """inproc IMMEDIATE: no pipe (so no queueing) until a socket binds; then it works."""
    push = ctx.socket(zmq.PUSH)
    push.immediate = 1
    push.sndtimeo = 2000
    push.connect("inproc://api-immediate")
    with pytest.raises(zmq.Again):
        push.send(b"x", zmq.DONTWAIT)
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = 2000
    pull.bind("inproc://api-immediate")
    push.send(b"y")  # blocks until the pipe the bind posted is adopted
    assert pull.recv() == b"y"


def test_immediate_connecter_gone_before_the_bind_leaves_the_binder_no_pipe(ctx):
    closed = ctx.socket(zmq.PUSH)
    closed.immediate = 1
    closed.connect("inproc://api-immediate-gone")
    dropped = ctx.socket(zmq.PUSH)
    dropped.immediate = 1
    dropped.connect("inproc://api-immediate-gone")
    closed.close(linger=0)
    dropped.disconnect("inproc://api-immediate-gone")
    binder = ctx.socket(zmq.PUSH)
    binder.bind("inproc://api-immediate-gone")
    with pytest.raises(zmq.Again):
        binder.send(b"to nobody", zmq.DONTWAIT)
    puller = ctx.socket(zmq.PULL)
    puller.rcvtimeo = 2000
    puller.connect("inproc://api-immediate-gone")
    binder.sndtimeo = 2000
    binder.send(b"to the live peer")
    assert puller.recv() == b"to the live peer"

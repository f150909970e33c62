"""pyzmq's module layout over fastzmq: sugar aliases, utils, decorators, log, devices."""

from __future__ import annotations

import json
import logging
import struct
import threading
import warnings

import pytest

import fastzmq as zmq
from fastzmq import devices
from fastzmq.decorators import context, socket
from fastzmq.log.handlers import PUBHandler, TopicLogger
from fastzmq.utils import garbage, jsonapi, strtypes

TIMEOUT_MS = 5000


def _recv(sock, timeout_ms: int = TIMEOUT_MS):
    assert sock.poll(timeout_ms), "nothing arrived in time"
    return sock.recv_multipart(zmq.DONTWAIT)


def test_sugar_modules_are_fastzmq_objects():
    import fastzmq.sugar as sugar

    assert sugar.socket.Socket is zmq.Socket
    assert sugar.context.Context is zmq.Context
    assert sugar.frame.Frame is zmq.Frame
    assert sugar.poll.Poller is zmq.Poller
    assert sugar.tracker.MessageTracker is zmq.MessageTracker
    assert sugar.version.pyzmq_version() == zmq.pyzmq_version()
    assert zmq.pyzmq_version_info()[0] >= 27
    for name in zmq.__all__:
        assert hasattr(zmq, name), name


def test_generic_aliases_at_runtime():
    assert zmq.Socket[bytes].__origin__ is zmq.Socket
    ctx = zmq.SyncContext()
    try:
        s = zmq.SyncSocket(ctx, zmq.PAIR)
        assert isinstance(s, zmq.Socket)
        s.close()
    finally:
        ctx.term()


def test_zmq_errno_follows_last_error():
    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    try:
        with pytest.raises(zmq.Again):
            s.recv(zmq.DONTWAIT)
        assert zmq.zmq_errno() == zmq.EAGAIN
        with pytest.raises(zmq.ZMQError):
            s.connect("bogus://x")
        assert zmq.zmq_errno() != zmq.EAGAIN
    finally:
        s.close(0)
        ctx.term()


def test_zmq_poll_reports_ready_sockets():
    ctx = zmq.Context()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    try:
        a.bind("inproc://zpoll")
        b.connect("inproc://zpoll")
        assert zmq.zmq_poll([(b, zmq.POLLIN)], 0) == []
        a.send(b"x")
        assert zmq.zmq_poll([(b, zmq.POLLIN), (a, zmq.POLLOUT)], TIMEOUT_MS) == [
            (b, zmq.POLLIN),
            (a, zmq.POLLOUT),
        ]
    finally:
        a.close(0)
        b.close(0)
        ctx.term()


def test_jsonapi_and_strtypes():
    assert jsonapi.dumps({"a": [1, "é"]}) == json.dumps({"a": [1, "é"]}).encode()
    assert jsonapi.loads(b'{"a": 1}') == {"a": 1}
    assert jsonapi.loads('"s"') == "s"
    with pytest.warns(DeprecationWarning):
        assert strtypes.cast_bytes("é") == "é".encode()
    with pytest.warns(DeprecationWarning):
        assert strtypes.cast_unicode(b"x") == "x"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError):
            strtypes.cast_bytes(5)


def test_garbage_store_and_release():
    gc = garbage.GarbageCollector()
    ev = threading.Event()
    key = gc.store(b"buf", ev)
    assert key in gc.refs and not ev.is_set()
    gc.release(key)
    assert key not in gc.refs and ev.is_set()
    assert not garbage.gc.refs  # fastzmq itself never parks buffers there


def test_decorators_inject_and_close():
    seen = {}

    @context()
    @socket(zmq.PUSH)
    def work(ctx, push):
        seen["ctx"], seen["push"] = ctx, push
        assert push.socket_type == zmq.PUSH and push.context is ctx

    work()
    assert seen["push"].closed and seen["ctx"].closed

    @context("c", io_threads=2)
    @socket("s", zmq.PAIR, context_name="c")
    def named(c, s):
        return c, s

    c, s = named()
    assert s.context is c and s.closed

    @context(name="c")
    def twice(c):
        pass

    with pytest.raises(TypeError):
        twice(c=1)


def test_pub_handler_topics():
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    handler = PUBHandler("inproc://log", context=ctx, root_topic="app")
    sub.connect("inproc://log")
    sub.subscribe(b"")
    sub.wait_subscribed(TIMEOUT_MS)
    log = logging.getLogger("fastzmq.test.pubhandler")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        log.info("db.query::slow %s", "select")
        assert _recv(sub) == [b"app.INFO.db.query", b"slow select\n"]
        handler.root_topic = b"other"
        handler.setFormatter(logging.Formatter("<%(message)s>"))
        log.warning("plain")
        assert _recv(sub) == [b"other.WARNING", b"<plain>"]
    finally:
        log.removeHandler(handler)
        handler.socket.close(0)
        sub.close(0)
        ctx.term()


def test_topic_logger_puts_topic_first():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    log = TopicLogger("fastzmq.test.topic")
    log.addHandler(Keep())
    log.setLevel(logging.DEBUG)
    log.warning("net", "down %d", 3)
    log.log(logging.ERROR, "disk", "full")
    try:
        raise ValueError("x")
    except ValueError:
        log.exception("err", "caught")
    assert records == ["net::down 3", "disk::full", "err::caught"]


def test_thread_proxy_forwards_and_captures():
    ctx = zmq.Context()
    dev = devices.ThreadProxy(zmq.PULL, zmq.PUSH, zmq.PUSH)
    dev.context_factory = lambda: ctx
    dev.bind_in("inproc://tp-in")
    dev.bind_out("inproc://tp-out")
    dev.connect_mon("inproc://tp-mon")
    dev.start()
    push, pull, mon = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL), ctx.socket(zmq.PULL)
    try:
        mon.bind("inproc://tp-mon")
        push.connect("inproc://tp-in")
        pull.connect("inproc://tp-out")
        push.send_multipart([b"a", b"b"])
        assert _recv(pull) == [b"a", b"b"]
        assert _recv(mon) == [b"a", b"b"]
    finally:
        for s in (push, pull, mon):
            s.close(0)
        ctx.term()  # ends the device: its sockets get ETERM and are closed
        dev.join(5)
    assert not dev.launcher.is_alive()


def _two_free_ports() -> int:
    import socket as pysocket

    for base in range(42000, 43000, 2):
        try:
            with pysocket.socket() as s1, pysocket.socket() as s2:
                s1.bind(("127.0.0.1", base))
                s2.bind(("127.0.0.1", base + 1))
        except OSError:
            continue
        return base
    pytest.skip("no two consecutive free ports")


def test_random_port_reservation_exhausts():
    base = _two_free_ports()
    dev = devices.Device(zmq.QUEUE, zmq.PULL, zmq.PUSH)
    ports = {dev.bind_in_to_random_port("tcp://127.0.0.1", base, base + 2) for _ in range(2)}
    assert ports == {base, base + 1}  # a port handed out once is not handed out again
    with pytest.raises(zmq.ZMQBindError):
        dev.bind_in_to_random_port("tcp://127.0.0.1", base, base + 2, max_tries=20)


def test_monitored_queue_router_router_swaps_ids():
    ctx = zmq.Context()
    ins, outs, mon = ctx.socket(zmq.ROUTER), ctx.socket(zmq.ROUTER), ctx.socket(zmq.PAIR)
    a, b, watch = ctx.socket(zmq.DEALER), ctx.socket(zmq.DEALER), ctx.socket(zmq.PAIR)
    a.routing_id, b.routing_id = b"a", b"b"
    ins.bind("inproc://mq-in")
    outs.bind("inproc://mq-out")
    mon.bind("inproc://mq-mon")
    watch.connect("inproc://mq-mon")
    a.connect("inproc://mq-in")
    b.connect("inproc://mq-out")
    t = threading.Thread(target=_run_until_term, args=(zmq.devices.monitored_queue, ins, outs, mon))
    t.start()
    try:
        a.send_multipart([b"b", b"hi"])
        assert _recv(b) == [b"a", b"hi"]
        assert _recv(watch) == [b"in", b"b", b"a", b"hi"]
        b.send_multipart([b"a", b"back"])
        assert _recv(a) == [b"b", b"back"]
        assert _recv(watch) == [b"out", b"a", b"b", b"back"]
    finally:
        for s in (a, b, watch):
            s.close(0)
        ctx.term()
        t.join(5)
    assert not t.is_alive()


def _run_until_term(fn, *socks):
    try:
        fn(*socks)
    except zmq.ContextTerminated:
        pass
    finally:
        for s in socks:
            s.close(0)


def test_proxy_steerable_commands():
    ctx = zmq.Context()
    front, back, ctrl = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH), ctx.socket(zmq.PAIR)
    push, pull, steer = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL), ctx.socket(zmq.PAIR)
    front.bind("inproc://ps-in")
    back.bind("inproc://ps-out")
    ctrl.bind("inproc://ps-ctl")
    push.connect("inproc://ps-in")
    pull.connect("inproc://ps-out")
    steer.connect("inproc://ps-ctl")
    t = threading.Thread(target=zmq.proxy_steerable, args=(front, back, None, ctrl))
    t.start()
    try:
        push.send(b"12345")
        assert _recv(pull) == [b"12345"]
        steer.send(b"PAUSE")
        steer.send(b"STATISTICS")
        stats = [struct.unpack("=Q", f)[0] for f in _recv(steer)]
        assert stats == [1, 5, 0, 0, 0, 0, 1, 5]
        push.send(b"held")
        assert not pull.poll(100)  # paused: nothing forwarded
        steer.send(b"RESUME")
        assert _recv(pull) == [b"held"]
        steer.send(b"TERMINATE")
        t.join(5)
        assert not t.is_alive()
    finally:
        for s in (front, back, ctrl, push, pull, steer):
            s.close(0)
        ctx.term()

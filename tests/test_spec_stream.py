"""STREAM (libzmq's ZMQ_STREAM): raw TCP with a routing id frame first, connect and
disconnect notifications as [id, b""], and [id, b""] sent closing that peer."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

import fastzmq as zmq

T = 5000  # ms


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _stream(ctx, **opts):
    s = ctx.socket(zmq.STREAM)
    s.linger = 0
    s.rcvtimeo = T
    s.sndtimeo = T
    for k, v in opts.items():
        s.setsockopt(getattr(zmq, k), v)
    return s


def _read_all(conn: socket.socket) -> bytes:
    got = b""
    while True:
        d = conn.recv(65536)
        if not d:
            return got
        got += d


def test_plain_tcp_client(ctx):
    s = _stream(ctx)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=T / 1000) as c:
        rid, empty = s.recv_multipart()  # STREAM_NOTIFY (default on): the connection
        assert empty == b"" and len(rid) == 5
        c.sendall(b"ping")
        got = b""
        while got != b"ping":
            r, data = s.recv_multipart()
            assert r == rid
            got += data
        s.send(rid, zmq.SNDMORE)
        s.send(b"pong")
        assert c.recv(4) == b"pong"
        c.close()
        assert s.recv_multipart() == [rid, b""]  # the disconnection


def test_empty_message_closes_the_peer_after_what_was_sent(ctx):
    s = _stream(ctx)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=T / 1000) as c:
        rid, _ = s.recv_multipart()
        s.send_multipart([rid, b"x" * 100000])
        s.send_multipart([rid, b""])
        assert _read_all(c) == b"x" * 100000  # all of it, then EOF
    assert s.recv_multipart() == [rid, b""]
    with pytest.raises(zmq.ZMQError) as e:  # that id is gone
        s.send(rid, zmq.SNDMORE)
    assert e.value.errno == zmq.EHOSTUNREACH


def test_http_request_and_response(ctx):
    s = _stream(ctx)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    body = b"hello over STREAM"
    failures = []

    def serve():
        try:
            rid, _ = s.recv_multipart()
            request = b""
            while b"\r\n\r\n" not in request:
                r, data = s.recv_multipart()
                assert r == rid
                request += data
            assert request.startswith(b"GET /path HTTP/1.1\r\n")
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            head += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
            s.send_multipart([rid, head + body])
            s.send_multipart([rid, b""])
        except Exception as e:  # reported by the main thread
            failures.append(e)

    t = threading.Thread(target=serve)
    t.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=T / 1000)
        conn.request("GET", "/path")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == body
        conn.close()
    finally:
        t.join(T / 1000)
    assert not t.is_alive() and not failures


def test_connect_with_connect_routing_id_to_a_plain_server(ctx):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(T / 1000)
    s = _stream(ctx)
    s.setsockopt(zmq.CONNECT_ROUTING_ID, b"web")
    s.connect(f"tcp://127.0.0.1:{srv.getsockname()[1]}")
    peer, _ = srv.accept()
    with srv, peer:
        peer.settimeout(T / 1000)
        assert s.recv_multipart() == [b"web", b""]
        s.send_multipart([b"web", b"to server"])
        assert peer.recv(100) == b"to server"
        peer.sendall(b"to client")
        assert s.recv_multipart() == [b"web", b"to client"]
        peer.close()
        assert s.recv_multipart() == [b"web", b""]


def test_stream_notify_off(ctx):
    s = _stream(ctx, STREAM_NOTIFY=0)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=T / 1000) as c:
        c.sendall(b"data")
        rid, data = s.recv_multipart()  # the data first: no notification before it
        assert data == b"data"
    s.rcvtimeo = 200
    with pytest.raises(zmq.Again):  # nor after the disconnection
        s.recv_multipart()


def test_unknown_id_and_options(ctx):
    s = _stream(ctx)
    with pytest.raises(zmq.ZMQError) as e:
        s.send(b"nobody", zmq.SNDMORE)
    assert e.value.errno == zmq.EHOSTUNREACH
    assert s.get(zmq.EVENTS) & zmq.POLLOUT
    with pytest.raises(zmq.ZMQError) as e:  # STREAM_NOTIFY belongs to STREAM only
        d = ctx.socket(zmq.DEALER)
        try:
            d.setsockopt(zmq.STREAM_NOTIFY, 0)
        finally:
            d.close()
    assert e.value.errno == zmq.EINVAL


def test_poll_sees_raw_data(ctx):
    s = _stream(ctx, STREAM_NOTIFY=0)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    assert s.poll(50) == 0
    with socket.create_connection(("127.0.0.1", port), timeout=T / 1000) as c:
        c.sendall(b"x")
        assert s.poll(T) == zmq.POLLIN
        assert s.recv_multipart()[1] == b"x"


def test_interop_with_libzmq_stream():
    pyzmq = pytest.importorskip("zmq")
    pctx = pyzmq.Context()
    ctx = zmq.Context()
    try:
        theirs = pctx.socket(pyzmq.STREAM)
        theirs.linger = 0
        theirs.rcvtimeo = T
        port = theirs.bind_to_random_port("tcp://127.0.0.1")
        ours = _stream(ctx)
        ours.connect(f"tcp://127.0.0.1:{port}")
        our_id, empty = ours.recv_multipart()
        assert empty == b""
        their_id, empty = theirs.recv_multipart()
        assert empty == b""
        ours.send_multipart([our_id, b"from fastzmq"])
        got = b""
        while got != b"from fastzmq":
            r, data = theirs.recv_multipart()
            assert r == their_id
            got += data
        theirs.send_multipart([their_id, b"from libzmq"])
        got = b""
        while got != b"from libzmq":
            r, data = ours.recv_multipart()
            assert r == our_id
            got += data
        ours.send_multipart([our_id, b""])  # we close: libzmq is told
        assert theirs.recv_multipart() == [their_id, b""]
        assert ours.recv_multipart() == [our_id, b""]  # and so are we
        ours.close()
        theirs.close()
    finally:
        ctx.destroy(linger=0)
        pctx.destroy(linger=0)


def test_libzmq_stream_connects_to_ours():
    pyzmq = pytest.importorskip("zmq")
    pctx = pyzmq.Context()
    ctx = zmq.Context()
    try:
        ours = _stream(ctx)
        port = ours.bind_to_random_port("tcp://127.0.0.1")
        theirs = pctx.socket(pyzmq.STREAM)
        theirs.linger = 0
        theirs.rcvtimeo = T
        theirs.connect(f"tcp://127.0.0.1:{port}")
        their_id = theirs.recv_multipart()[0]  # libzmq's own connect notification
        our_id, empty = ours.recv_multipart()
        assert empty == b""
        theirs.send_multipart([their_id, b"hello"])
        got = b""
        while got != b"hello":
            r, data = ours.recv_multipart()
            assert r == our_id
            got += data
        ours.send_multipart([our_id, b"world"])
        got = b""
        while got != b"world":
            r, data = theirs.recv_multipart()
            assert r == their_id
            got += data
        ours.close()
        theirs.close()
    finally:
        ctx.destroy(linger=0)
        pctx.destroy(linger=0)


def test_sndhwm_bounds_what_waits_for_a_slow_peer(ctx):
    s = _stream(ctx, SNDHWM=2)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=T / 1000) as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        rid, _ = s.recv_multipart()
        chunk = b"y" * (1 << 20)
        sent = 0
        with pytest.raises(zmq.Again):  # the peer reads nothing: the queue fills
            for _ in range(1000):
                s.send(rid, zmq.SNDMORE | zmq.DONTWAIT)
                s.send(chunk, zmq.DONTWAIT)
                sent += 1
        assert sent < 1000
        s.sndtimeo = 100
        with pytest.raises(zmq.Again):  # a blocking send times out as well (once the
            for _ in range(1000):  # kernel's buffers are full too)
                s.send_multipart([rid, chunk])


def test_rcvhwm_stops_reading_and_loses_nothing(ctx):
    s = _stream(ctx, RCVHWM=2)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    c = socket.create_connection(("127.0.0.1", port), timeout=1.0)
    rid, _ = s.recv_multipart()  # the connection
    data = b"z" * (64 << 20)
    sent = 0
    try:
        while sent < len(data):  # we do not read: the client blocks once buffers are full
            sent += c.send(data[sent : sent + (1 << 20)])
    except socket.timeout:
        pass
    assert sent < len(data)
    c.close()
    got = 0
    while True:
        r, chunk = s.recv_multipart()
        assert r == rid
        if chunk == b"":  # the disconnection, after every byte
            break
        assert chunk == b"z" * len(chunk)
        got += len(chunk)
    assert got == sent  # everything the kernel took arrived, in order


def test_ipc(ctx, tmp_path):
    s = _stream(ctx)
    path = str(tmp_path / "stream.ipc")
    s.bind(f"ipc://{path}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(T / 1000)
        c.connect(path)
        rid, _ = s.recv_multipart()
        c.sendall(b"over ipc")
        got = b""
        while got != b"over ipc":
            got += s.recv_multipart()[1]
        s.send_multipart([rid, b"back"])
        assert c.recv(4) == b"back"
    s.bind("inproc://stream")  # inproc works too, as libzmq's: tests/test_stream_inproc.py

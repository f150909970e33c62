"""STREAM over inproc://, as libzmq 4.3.5 does it: each peer a pipe with a generated
routing id (or CONNECT_ROUTING_ID), [id, data] both ways, [id, b""] disconnects, no
connect/disconnect notification. Each case runs on pyzmq (libzmq 4.3.5) and fastzmq."""

from __future__ import annotations

import time

import pytest
import zmq as pyzmq

import fastzmq

LIBS = [pytest.param(pyzmq, id="libzmq"), pytest.param(fastzmq, id="fastzmq")]


@pytest.fixture
def pair_of(request):
    made = []

    def make(lib, peer_type, stream_binds=True, name="s"):
        ctx = lib.Context()
        stream = ctx.socket(lib.STREAM)
        peer = ctx.socket(peer_type)
        for s in (stream, peer):
            s.linger = 0
            s.rcvtimeo = 2000
            s.sndtimeo = 2000
        made.append((ctx, stream, peer))
        ep = f"inproc://stream-{name}"
        if stream_binds:
            stream.bind(ep)
            peer.connect(ep)
        else:
            peer.bind(ep)
            stream.connect(ep)
        return stream, peer

    yield make
    for ctx, stream, peer in made:
        stream.close()
        peer.close()
        ctx.term()


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("stream_binds", [True, False])
@pytest.mark.parametrize("peer", ["DEALER", "PAIR"])
def test_exchange_with_an_inproc_peer(pair_of, lib, stream_binds, peer):
    stream, other = pair_of(lib, getattr(lib, peer), stream_binds)
    with pytest.raises(lib.Again):
        stream.recv(lib.DONTWAIT)  # no [id, b""] connect notification over inproc
    other.send(b"hello")
    rid, data = stream.recv_multipart()
    assert data == b"hello"
    assert len(rid) == 5 and rid[0] == 0  # libzmq's generated id: 0 then 4 bytes
    stream.send_multipart([rid, b"world"])
    assert other.recv_multipart() == [b"world"]  # one frame, no MORE


@pytest.mark.parametrize("lib", LIBS)
def test_two_peers_get_two_ids(pair_of, lib):
    stream, a = pair_of(lib, lib.DEALER, True, name="two")
    b = stream.context.socket(lib.DEALER)
    b.linger = 0
    b.rcvtimeo = 2000
    try:
        b.connect("inproc://stream-two")
        a.send(b"from a")
        b.send(b"from b")
        got = dict(reversed(stream.recv_multipart()) for _ in range(2))
        assert set(got) == {b"from a", b"from b"} and got[b"from a"] != got[b"from b"]
        stream.send_multipart([got[b"from b"], b"to b"])
        stream.send_multipart([got[b"from a"], b"to a"])
        assert (a.recv(), b.recv()) == (b"to a", b"to b")
    finally:
        b.close()


@pytest.mark.parametrize("lib", LIBS)
def test_connect_routing_id_names_the_peer(pair_of, lib):
    ctx = lib.Context()
    stream = ctx.socket(lib.STREAM)
    dealer = ctx.socket(lib.DEALER)
    try:
        for s in (stream, dealer):
            s.linger = 0
            s.rcvtimeo = 2000
        dealer.bind("inproc://stream-rid")
        stream.connect_rid = b"the-peer"
        stream.connect("inproc://stream-rid")
        stream.send_multipart([b"the-peer", b"named"])
        assert dealer.recv() == b"named"
        dealer.send(b"back")
        assert stream.recv_multipart() == [b"the-peer", b"back"]
    finally:
        stream.close()
        dealer.close()
        ctx.term()


@pytest.mark.parametrize("lib", LIBS)
def test_empty_frame_disconnects_the_peer(pair_of, lib):
    stream, dealer = pair_of(lib, lib.DEALER, True, name="close")
    dealer.send(b"hi")
    rid, _ = stream.recv_multipart()
    stream.send_multipart([rid, b""])
    deadline = time.monotonic() + 2
    while True:  # the pipe goes asynchronously (libzmq's terminate handshake)
        try:
            stream.send_multipart([rid, b"late"])
        except lib.ZMQError as e:
            # fastzmq forgets the id at once: EHOSTUNREACH; libzmq keeps the terminating
            # pipe until the peer socket acknowledges (it is idle here): EAGAIN
            assert e.errno == (lib.EAGAIN if lib is pyzmq else lib.EHOSTUNREACH)
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(lib.Again):
        dealer.recv(lib.DONTWAIT)  # nothing after the close reached it
    with pytest.raises(lib.Again):
        stream.recv(lib.DONTWAIT)  # and no disconnect notification either


@pytest.mark.parametrize("lib", LIBS)
def test_unknown_id_is_unreachable(pair_of, lib):
    stream, _ = pair_of(lib, lib.DEALER, True, name="unknown")
    with pytest.raises(lib.ZMQError) as e:
        stream.send_multipart([b"\x00nope", b"x"])
    assert e.value.errno == lib.EHOSTUNREACH


@pytest.mark.parametrize("lib", LIBS)
def test_full_pipe_refuses_the_id_frame(lib):
    """libzmq's STREAM: EAGAIN at the id frame when the peer's pipe is full (a blocking
    send waits out SNDTIMEO first)."""
    ctx = lib.Context()
    stream = ctx.socket(lib.STREAM)
    dealer = ctx.socket(lib.DEALER)
    try:
        for s in (stream, dealer):
            s.linger = 0
            s.rcvtimeo = 2000
            s.sndhwm = s.rcvhwm = 2  # an inproc pipe holds sndhwm + the peer's rcvhwm
            s.sndtimeo = 50
        stream.bind("inproc://stream-full")
        dealer.connect("inproc://stream-full")
        dealer.send(b"hi")
        rid, _ = stream.recv_multipart()
        sent = 0
        with pytest.raises(lib.Again):
            for _ in range(100):
                stream.send_multipart([rid, b"x"])
                sent += 1
        assert 0 < sent < 100
        with pytest.raises(lib.Again):
            stream.send_multipart([rid, b"x"], lib.DONTWAIT)
        assert [dealer.recv() for _ in range(sent)] == [b"x"] * sent
        stream.sndtimeo = 2000
        stream.send_multipart([rid, b"room again"])  # (libzmq: once the reader says so)
        assert dealer.recv() == b"room again"
    finally:
        stream.close()
        dealer.close()
        ctx.term()


def test_a_multipart_message_arrives_as_one_data_frame(pair_of):
    """libzmq aborts (zmq_assert) on a multipart message into a STREAM's pipe; STREAM data
    is a byte stream, so the frames arrive joined."""
    stream, dealer = pair_of(fastzmq, fastzmq.DEALER, True, name="multi")
    dealer.send_multipart([b"ab", b"cd", b"ef"])
    rid, data = stream.recv_multipart()
    assert data == b"abcdef"
    assert not stream.rcvmore


def test_stream_is_pollable_for_inproc_input(pair_of):
    stream, dealer = pair_of(fastzmq, fastzmq.DEALER, True, name="poll")
    poller = fastzmq.Poller()
    poller.register(stream, fastzmq.POLLIN)
    assert poller.poll(20) == []
    dealer.send(b"wake")
    assert dict(poller.poll(2000)) == {stream: fastzmq.POLLIN}
    assert stream.recv_multipart()[1] == b"wake"

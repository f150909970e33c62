"""Several udp:// endpoints on one socket, as libzmq 4.3.5 allows them: a RADIO connects
to several destinations, a DISH or DGRAM binds several ports. (A DGRAM's second bind:
libzmq returns 0 and drops the endpoint's pipe; here it receives and sends.)"""

from __future__ import annotations

import socket
import time

import pytest

import fastzmq as zmq


def _plain(family: int = socket.AF_INET, host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(3)
    return s


def _port_of(sock) -> int:
    return int(sock.last_endpoint.rsplit(b":", 1)[1])


def test_radio_connects_to_two_destinations(ctx):
    a, b = _plain(), _plain()
    try:
        radio = ctx.socket(zmq.RADIO)
        radio.connect(f"udp://127.0.0.1:{a.getsockname()[1]}")
        radio.connect(f"udp://127.0.0.1:{b.getsockname()[1]}")
        radio.send(b"both", group="g")
        assert a.recvfrom(100)[0] == b"\x01gboth"
        assert b.recvfrom(100)[0] == b"\x01gboth"
    finally:
        a.close()
        b.close()


def test_dish_binds_two_ports_and_hears_both(ctx):
    dish = ctx.socket(zmq.DISH)
    dish.rcvtimeo = 3000
    dish.bind("udp://127.0.0.1:0")
    p1 = _port_of(dish)
    dish.bind("udp://127.0.0.1:0")
    p2 = _port_of(dish)
    assert p1 != p2
    dish.join("g")
    radio = ctx.socket(zmq.RADIO)
    radio.connect(f"udp://127.0.0.1:{p1}")
    radio.connect(f"udp://127.0.0.1:{p2}")
    radio.send(b"x", group="g")
    assert [dish.recv(), dish.recv()] == [b"x", b"x"]  # one datagram to each port


def test_dgram_second_bind_receives_too(ctx):
    d = ctx.socket(zmq.DGRAM)
    d.rcvtimeo = 3000
    d.bind("udp://127.0.0.1:0")
    p1 = _port_of(d)
    d.bind("udp://127.0.0.1:0")
    p2 = _port_of(d)
    plain = _plain()
    try:
        me = b"127.0.0.1:%d\0" % plain.getsockname()[1]
        plain.sendto(b"to first", ("127.0.0.1", p1))
        plain.sendto(b"to second", ("127.0.0.1", p2))
        got = sorted([tuple(d.recv_multipart()), tuple(d.recv_multipart())])
        assert got == [(me, b"to first"), (me, b"to second")]
        d.send_multipart([me, b"reply"])  # from the first endpoint of the family
        data, src = plain.recvfrom(100)
        assert (data, src[1]) == (b"reply", p1)
        d.unbind(f"udp://127.0.0.1:{p1}")
        deadline = time.monotonic() + 3
        while len(d.udp_out) > 1:  # the I/O thread drops the endpoint (asynchronous)
            assert time.monotonic() < deadline
            time.sleep(0.005)
        d.send_multipart([me, b"after unbind"])  # the second endpoint sends now
        data, src = plain.recvfrom(100)
        assert (data, src[1]) == (b"after unbind", p2)
    finally:
        plain.close()


def test_dgram_sends_from_the_endpoint_of_the_destination_family(ctx):
    d = ctx.socket(zmq.DGRAM)
    d.bind("udp://127.0.0.1:0")  # an IPv4 socket
    p4 = _port_of(d)
    d.ipv6 = True
    d.bind("udp://[::1]:0")  # an IPv6 one (the option is read at bind, as libzmq)
    p6 = _port_of(d)
    v4, v6 = _plain(), _plain(socket.AF_INET6, "::1")
    try:
        d.send_multipart([b"[::1]:%d" % v6.getsockname()[1], b"six"])
        d.send_multipart([b"127.0.0.1:%d" % v4.getsockname()[1], b"four"])
        data, src = v6.recvfrom(100)
        assert (data, src[1]) == (b"six", p6)
        data, src = v4.recvfrom(100)
        assert (data, src[1]) == (b"four", p4)
    finally:
        v4.close()
        v6.close()


@pytest.mark.parametrize("kind", ["DISH", "DGRAM"])
def test_connect_is_radio_only_as_libzmq(ctx, kind):
    s = ctx.socket(getattr(zmq, kind))
    with pytest.raises(zmq.ZMQError) as e:
        s.connect("udp://127.0.0.1:5555")
    assert e.value.errno == zmq.ENOCOMPATPROTO
    radio = ctx.socket(zmq.RADIO)
    with pytest.raises(zmq.ZMQError) as e:
        radio.bind("udp://127.0.0.1:5555")
    assert e.value.errno == zmq.ENOCOMPATPROTO


@pytest.mark.parametrize("kind", ["PUSH", "SUB", "STREAM", "ROUTER"])
def test_classic_types_refuse_udp_as_libzmq(ctx, kind):
    import zmq as pyzmq

    pctx = pyzmq.Context()
    try:
        ps = pctx.socket(getattr(pyzmq, kind))
        with pytest.raises(pyzmq.ZMQError) as theirs:
            ps.bind("udp://127.0.0.1:5555")
        ps.close(0)
    finally:
        pctx.term()
    s = ctx.socket(getattr(zmq, kind))
    for op in (s.bind, s.connect):
        with pytest.raises(zmq.ZMQError) as ours:
            op("udp://127.0.0.1:5555")
        assert ours.value.errno == theirs.value.errno == zmq.ENOCOMPATPROTO

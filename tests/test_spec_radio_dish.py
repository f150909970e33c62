"""RFC 48 (RADIO/DISH): groups, join/leave, tcp/ipc/inproc and udp (libzmq's datagrams)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

import fastzmq as zmq
from conftest import free_tcp_port


def _drain(sock, ms=100):
    out = []
    while sock.poll(ms, zmq.POLLIN):
        f = sock.recv(copy=False)
        out.append((f.group, f.bytes))
    return out


def _joined(radio, dish, group="g", timeout=5.0):
    """Send probes until the DISH gets one (its JOIN reached the RADIO), then drain."""
    deadline = time.monotonic() + timeout
    while not dish.poll(10, zmq.POLLIN):
        assert time.monotonic() < deadline, "the DISH never received a probe"
        radio.send(b"probe", group=group)
    while dish.poll(50, zmq.POLLIN):
        dish.recv()


def _udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_groups_filter_over_every_stream_transport(ctx, transport):
    dish = ctx.socket(zmq.DISH)
    addr = transport.bind(dish)
    dish.join("news")
    dish.join(b"weather")
    radio = ctx.socket(zmq.RADIO)
    radio.connect(addr)
    _joined(radio, dish, "news")
    radio.send(b"goal", group="sport")
    radio.send(b"headline", group="news")
    frame = zmq.Frame(b"rain")
    frame.group = "weather"
    radio.send(frame)
    assert _drain(dish) == [("news", b"headline"), ("weather", b"rain")]
    dish.leave("news")
    dish.poll(50)  # (nothing to read: the LEAVE is on its way)
    time.sleep(0.1)
    radio.send(b"late", group="news")
    radio.send(b"sun", group="weather")
    assert _drain(dish) == [("weather", b"sun")]


def test_radio_distributes_to_every_dish_of_the_group(ctx):
    radio = ctx.socket(zmq.RADIO)
    radio.bind("inproc://rd-many")
    dishes = [ctx.socket(zmq.DISH) for _ in range(3)]
    for i, d in enumerate(dishes):
        d.connect("inproc://rd-many")
        d.join("all")
        if i == 0:
            d.join("first")
    for d in dishes:
        _joined(radio, d, "all")
    radio.send(b"everyone", group="all")
    radio.send(b"only-first", group="first")
    got = [_drain(d) for d in dishes]
    assert got[0] == [("all", b"everyone"), ("first", b"only-first")]
    assert got[1] == got[2] == [("all", b"everyone")]


def test_join_leave_rules(ctx):
    dish = ctx.socket(zmq.DISH)
    dish.join("a")
    with pytest.raises(zmq.ZMQError) as e:
        dish.join("a")  # twice
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as e:
        dish.leave("b")  # never joined
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as e:
        dish.join("x" * 256)  # ZMQ_GROUP_MAX_LENGTH is 255
    assert e.value.errno == zmq.EINVAL
    dish.join("x" * 255)
    dish.leave("a")
    with pytest.raises(zmq.ZMQError) as e:
        dish.send(b"no")
    assert e.value.errno == zmq.ENOTSUP
    radio = ctx.socket(zmq.RADIO)
    with pytest.raises(zmq.ZMQError) as e:
        radio.recv()
    assert e.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as e:
        radio.join("a")
    assert e.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as e:
        radio.send(b"a", zmq.SNDMORE, group="g")
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as e:
        radio.send(b"a", group="g" * 256)
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError):
        zmq.Frame(b"x").group = "g" * 256


def test_dish_rejoins_after_reconnect(ctx):
    port = free_tcp_port()
    radio = ctx.socket(zmq.RADIO)
    radio.bind(f"tcp://127.0.0.1:{port}")
    dish = ctx.socket(zmq.DISH)
    dish.reconnect_ivl = 20
    dish.join("g")
    dish.connect(f"tcp://127.0.0.1:{port}")
    _joined(radio, dish)
    radio.close(linger=0)
    radio = ctx.socket(zmq.RADIO)
    deadline = time.monotonic() + 2
    while True:
        try:
            radio.bind(f"tcp://127.0.0.1:{port}")
            break
        except zmq.ZMQError:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    _joined(radio, dish)  # the new RADIO learned the group from the reconnection
    radio.send(b"again", group="g")
    assert _drain(dish) == [("g", b"again")]


def test_xpub_nodrop_makes_radio_block(ctx):
    radio = ctx.socket(zmq.RADIO)
    radio.sndhwm = 4
    radio.bind("inproc://rd-nodrop")
    dish = ctx.socket(zmq.DISH)
    dish.rcvhwm = 4
    dish.connect("inproc://rd-nodrop")
    dish.join("g")
    _joined(radio, dish)
    for _ in range(50):  # lossy by default: never blocks
        radio.send(b"x", group="g", flags=zmq.DONTWAIT)
    lossy = len(_drain(dish, 50))
    assert lossy < 50
    radio.xpub_nodrop = 1
    radio.sndtimeo = 0
    sent = 0
    with pytest.raises(zmq.Again):
        for _ in range(50):
            radio.send(b"y", group="g")
            sent += 1
    assert len(_drain(dish, 50)) == sent


def test_udp_unicast(ctx):
    port = _udp_port()
    dish = ctx.socket(zmq.DISH)
    dish.rcvtimeo = 2000
    dish.bind(f"udp://127.0.0.1:{port}")
    dish.join("g")
    radio = ctx.socket(zmq.RADIO)
    radio.connect(f"udp://127.0.0.1:{port}")
    radio.send(b"other", group="h")  # udp carries every group: the DISH filters
    radio.send(b"over udp", group="g")
    f = dish.recv(copy=False)
    assert (f.group, f.bytes) == ("g", b"over udp")
    assert _drain(dish, 50) == []


def test_udp_datagram_format(ctx):
    """libzmq's format: one byte group length, the group, the body."""
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    plain.bind(("127.0.0.1", 0))
    plain.settimeout(2)
    try:
        radio = ctx.socket(zmq.RADIO)
        radio.connect(f"udp://127.0.0.1:{plain.getsockname()[1]}")
        radio.send(b"body", group="grp")
        assert plain.recvfrom(9000)[0] == b"\x03grpbody"
        radio.send(b"z" * 9000, group="g")  # over libzmq's 8192-byte datagram: dropped
        radio.send(b"small", group="g")
        assert plain.recvfrom(9000)[0] == b"\x01gsmall"
        dish = ctx.socket(zmq.DISH)
        dish.rcvtimeo = 2000
        port = _udp_port()
        dish.bind(f"udp://*:{port}")
        dish.join("ab")
        plain.sendto(b"\x05short", ("127.0.0.1", port))  # shorter than its group: dropped
        plain.sendto(b"\x02abhello", ("127.0.0.1", port))
        f = dish.recv(copy=False)
        assert (f.group, f.bytes) == ("ab", b"hello")
    finally:
        plain.close()


def test_udp_multicast(ctx):
    port = _udp_port()
    ep = f"udp://127.0.0.1;239.193.7.9:{port}"
    dish = ctx.socket(zmq.DISH)
    dish.rcvtimeo = 2000
    try:
        dish.bind(ep)
    except zmq.ZMQError as e:
        pytest.skip(f"no IPv4 multicast on loopback here: {e}")
    dish.join("m")
    radio = ctx.socket(zmq.RADIO)
    radio.connect(ep)
    radio.send(b"to the group", group="m")
    f = dish.recv(copy=False)
    assert (f.group, f.bytes) == ("m", b"to the group")
    # MULTICAST_LOOP and MULTICAST_HOPS reach the OS socket of the next connect (over
    # lo the datagram is delivered either way: it goes out on the loopback device)
    ip = socket.IPPROTO_IP
    loud = radio.udp_out[0].s
    assert loud.getsockopt(ip, socket.IP_MULTICAST_LOOP) == 1
    assert loud.getsockopt(ip, socket.IP_MULTICAST_TTL) == 1
    quiet = ctx.socket(zmq.RADIO)
    quiet.multicast_loop = 0
    quiet.multicast_hops = 7
    quiet.connect(ep)
    out = quiet.udp_out[0].s
    assert out.getsockopt(ip, socket.IP_MULTICAST_LOOP) == 0
    assert out.getsockopt(ip, socket.IP_MULTICAST_TTL) == 7
    assert socket.inet_ntoa(out.getsockopt(ip, socket.IP_MULTICAST_IF, 4)) == "127.0.0.1"


def test_udp_endpoint_rules(ctx):
    radio = ctx.socket(zmq.RADIO)
    with pytest.raises(zmq.ZMQError) as e:
        radio.bind("udp://127.0.0.1:5555")  # a RADIO only connects over udp
    assert e.value.errno == zmq.ENOCOMPATPROTO
    client = ctx.socket(zmq.CLIENT)
    with pytest.raises(zmq.ZMQError) as e:
        client.connect("udp://127.0.0.1:5555")
    assert e.value.errno == zmq.ENOCOMPATPROTO
    dish = ctx.socket(zmq.DISH)
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind("udp://127.0.0.1;127.0.0.2:5555")  # iface; needs a multicast group
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind("udp://127.0.0.1")
    assert e.value.errno == zmq.EINVAL


def test_udp_unbind_stops_delivery(ctx):
    port = _udp_port()
    dish = ctx.socket(zmq.DISH)
    dish.bind(f"udp://127.0.0.1:{port}")
    dish.join("g")
    radio = ctx.socket(zmq.RADIO)
    radio.connect(f"udp://127.0.0.1:{port}")
    radio.send(b"1", group="g")
    assert _drain(dish, 500) == [("g", b"1")]
    dish.unbind(f"udp://127.0.0.1:{port}")
    time.sleep(0.05)
    radio.send(b"2", group="g")
    assert _drain(dish, 100) == []


def test_dish_recv_from_several_threads(ctx):
    radio = ctx.socket(zmq.RADIO)
    radio.bind("inproc://rd-threads")
    radio.sndhwm = 0
    dish = ctx.socket(zmq.DISH)
    dish.rcvhwm = 0
    dish.rcvtimeo = 3000
    dish.connect("inproc://rd-threads")
    dish.join("g")
    _joined(radio, dish)
    got: list[bytes] = []
    lock = threading.Lock()

    def reader() -> None:
        while True:
            m = dish.recv()
            if m == b"stop":
                return
            with lock:
                got.append(m)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    for i in range(600):
        radio.send(b"%d" % i, group="g")
    for _ in readers:
        radio.send(b"stop", group="g")
    for t in readers:
        t.join(10)
    assert not any(t.is_alive() for t in readers)
    assert sorted(got) == sorted(b"%d" % i for i in range(600))


def test_udp_dish_connect_is_refused_as_libzmq(ctx):
    """libzmq 4.3.5 (connect_internal; its test_dish_connect_fails): only a RADIO connects."""
    dish = ctx.socket(zmq.DISH)
    with pytest.raises(zmq.ZMQError) as e:
        dish.connect(f"udp://127.0.0.1:{_udp_port()}")
    assert e.value.errno == zmq.ENOCOMPATPROTO
    assert dish.get(zmq.LAST_ENDPOINT) == b""


def test_udp_radio_disconnect_stops_sending(ctx):
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    plain.bind(("127.0.0.1", 0))
    plain.settimeout(2)
    try:
        ep = f"udp://127.0.0.1:{plain.getsockname()[1]}"
        radio = ctx.socket(zmq.RADIO)
        radio.connect(ep)
        radio.send(b"1", group="g")
        assert plain.recvfrom(100)[0] == b"\x01g1"
        radio.disconnect(ep)
        deadline = time.monotonic() + 2
        while radio.udp_out:  # the I/O thread drops the sender
            assert time.monotonic() < deadline
            time.sleep(0.005)
        radio.send(b"2", group="g")
        plain.settimeout(0.1)
        with pytest.raises(socket.timeout):
            plain.recvfrom(100)
    finally:
        plain.close()

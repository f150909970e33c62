"""udp:// over IPv6 (RADIO/DISH and DGRAM), with the IPV6 option as libzmq reads it:
``udp://[::1]:port``, ``*`` as ``::`` (dual stack), IPv6 multicast on a named interface.
Against libzmq (zeromq.js's draft build) where a peer exists, else a plain socket."""

from __future__ import annotations

import socket
import time

import pytest

import fastzmq as zmq
from test_interop_zeromqjs import js  # noqa: F401  (the zeromq.js peer fixture)


def _port6() -> int:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _sock(ctx, kind: int):
    s = ctx.socket(kind)
    s.ipv6 = True
    s.rcvtimeo = 3000
    return s


def _port_of(sock) -> int:
    return int(sock.last_endpoint.rsplit(b":", 1)[1])


def test_radio_to_dish_over_ipv6_loopback(ctx):
    dish = _sock(ctx, zmq.DISH)
    dish.bind("udp://[::1]:0")
    assert dish.last_endpoint.startswith(b"udp://[::1]:")
    dish.join("tv")
    radio = _sock(ctx, zmq.RADIO)
    radio.connect(f"udp://[::1]:{_port_of(dish)}")
    radio.send(b"other", group="news")
    radio.send(b"friends", group="tv")
    f = dish.recv(copy=False)
    assert (f.group, f.bytes) == ("tv", b"friends")


def test_radio_datagram_bytes_to_a_plain_ipv6_socket(ctx):
    plain = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    plain.bind(("::1", 0))
    plain.settimeout(3)
    try:
        radio = _sock(ctx, zmq.RADIO)
        radio.connect(f"udp://[::1]:{plain.getsockname()[1]}")
        radio.send(b"body", group="grp")
        data, peer = plain.recvfrom(100)
        assert data == b"\x03grpbody"
        assert peer[0] == "::1"
    finally:
        plain.close()


def test_dish_on_the_ipv6_wildcard_is_dual_stack(ctx):
    dish = _sock(ctx, zmq.DISH)
    dish.bind("udp://*:0")
    assert dish.last_endpoint.startswith(b"udp://[::]:")
    dish.join("g")
    port = _port_of(dish)
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        plain = socket.socket(family, socket.SOCK_DGRAM)
        try:
            plain.sendto(b"\x01gfrom " + host.encode(), (host, port))
            assert dish.recv() == b"from " + host.encode()
        finally:
            plain.close()


def test_dgram_over_ipv6_addresses_in_brackets(ctx):
    a = _sock(ctx, zmq.DGRAM)
    b = _sock(ctx, zmq.DGRAM)
    a.bind("udp://[::1]:0")
    b.bind("udp://[::1]:0")
    a.send_multipart([b"[::1]:%d" % _port_of(b), b"hello"])
    assert b.recv_multipart() == [b"[::1]:%d\0" % _port_of(a), b"hello"]
    b.send_multipart([b"[::1]:%d\0" % _port_of(a), b"back"])  # the received frame as is
    assert a.recv_multipart() == [b"[::1]:%d\0" % _port_of(b), b"back"]


def test_dgram_on_ipv6_wildcard_talks_to_ipv4_as_libzmq_formats_it(ctx):
    d = _sock(ctx, zmq.DGRAM)
    d.bind("udp://*:0")
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    plain.bind(("127.0.0.1", 0))
    plain.settimeout(3)
    try:
        plain.sendto(b"v4", ("127.0.0.1", _port_of(d)))
        addr, body = d.recv_multipart()
        assert (addr, body) == (b"127.0.0.1:%d\0" % plain.getsockname()[1], b"v4")
        d.send_multipart([addr, b"answer"])
        assert plain.recvfrom(100)[0] == b"answer"
    finally:
        plain.close()


def test_dgram_drops_an_ipv6_destination_on_an_ipv4_socket(ctx):
    d = ctx.socket(zmq.DGRAM)
    d.bind("udp://127.0.0.1:0")
    d.send_multipart([b"[::1]:9", b"x"])  # unreachable from AF_INET: dropped, as invalid
    assert d.udp_out[0].dropped == 1


def test_ipv6_endpoints_without_the_option_fail_as_libzmq(ctx):
    dish = ctx.socket(zmq.DISH)
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind("udp://[::1]:5555")
    assert e.value.errno == zmq.ENODEV  # libzmq: a bind address that does not resolve
    radio = ctx.socket(zmq.RADIO)
    with pytest.raises(zmq.ZMQError) as e:
        radio.connect("udp://[::1]:5555")
    assert e.value.errno == zmq.EINVAL


def test_ipv6_multicast_needs_an_interface_index(ctx):
    dish = _sock(ctx, zmq.DISH)
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind("udp://[::1];[ff02::7a65:1]:5555")  # an address is not an index: libzmq
    assert e.value.errno == zmq.ENODEV
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind("udp://*;[::1]:5555")  # iface; needs a multicast group
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind("udp://[fe80::1%]:5555")  # an empty zone
    assert e.value.errno == zmq.EINVAL


def _multicast_v6_interface() -> str | None:
    """An up interface with IPv6 and multicast (not lo: Linux sends no IPv6 multicast there)."""
    try:
        with open("/proc/net/if_inet6") as f:
            names = {line.split()[5] for line in f if len(line.split()) >= 6}
    except OSError:
        return None
    import fcntl
    import struct

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for name in sorted(names - {"lo"}):
            try:
                res = fcntl.ioctl(s.fileno(), 0x8913, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            flags = struct.unpack("H", res[16:18])[0]
            if flags & 0x1 and flags & 0x1000:  # IFF_UP, IFF_MULTICAST
                return name
    finally:
        s.close()
    return None


def test_ipv6_multicast_on_a_named_interface(ctx):
    iface = _multicast_v6_interface()
    if iface is None:
        pytest.skip("no up interface with IPv6 and multicast")
    ep = f"udp://{iface};[ff02::7a65:726f:6df1:a01]:{_port6()}"
    dish = _sock(ctx, zmq.DISH)
    dish.bind(ep)
    dish.join("mc")
    radio = _sock(ctx, zmq.RADIO)
    radio.connect(ep)  # MULTICAST_LOOP is on by default: we hear ourselves
    radio.send(b"to the group", group="mc")
    f = dish.recv(copy=False)
    assert (f.group, f.bytes) == ("mc", b"to the group")


def test_ipv6_multicast_loop_off_is_not_heard(ctx):
    iface = _multicast_v6_interface()
    if iface is None:
        pytest.skip("no up interface with IPv6 and multicast")
    ep = f"udp://{iface};[ff02::7a65:726f:6df1:a02]:{_port6()}"
    dish = _sock(ctx, zmq.DISH)
    dish.rcvtimeo = 300
    dish.bind(ep)
    dish.join("mc")
    radio = _sock(ctx, zmq.RADIO)
    radio.multicast_loop = False
    radio.connect(ep)
    radio.send(b"unheard", group="mc")
    with pytest.raises(zmq.Again):
        dish.recv()


# ---- against libzmq (zeromq.js 6.8, draft API)


def test_libzmq_radio_to_fastzmq_dish_over_ipv6(ctx, js):  # noqa: F811
    dish = _sock(ctx, zmq.DISH)
    dish.rcvtimeo = 10000
    port = _port6()
    dish.bind(f"udp://[::1]:{port}")
    dish.join("g")
    radio = js("radio", f"udp://[::1]:{port}", False, ipv6=True)
    frames = [dish.recv(copy=False) for _ in range(5)]
    radio.poke()
    assert radio.result() > 0
    assert all(f.group == "g" and f.bytes.startswith(b"js-") for f in frames)


def test_fastzmq_radio_to_libzmq_dish_over_ipv6(ctx, js):  # noqa: F811
    port = _port6()
    dish = js("dish", f"udp://*:{port}", True, count=5, ipv6=True)  # libzmq's own test's form
    radio = _sock(ctx, zmq.RADIO)
    radio.connect(f"udp://[::1]:{port}")
    i = 0
    while dish.running() and i < 3000:
        radio.send(b"py-%d" % i, group="g")
        i += 1
        if i % 10 == 0:
            time.sleep(0.005)
    got = dish.result()
    assert len(got) == 5 and all(g["group"] == "g" and g["body"].startswith("py-") for g in got)

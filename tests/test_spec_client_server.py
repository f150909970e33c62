"""RFC 41 (CLIENT/SERVER): single-part messages, routing ids, thread safety, polling."""

from __future__ import annotations

import threading
import time

import pytest

import fastzmq as zmq


def _drain(sock, ms=100):
    """Every message that arrives until the socket stays silent for ms."""
    out = []
    while sock.poll(ms, zmq.POLLIN):
        out.append(sock.recv())
    return out


def _timeouts(*socks, ms=2000):
    for s in socks:
        s.rcvtimeo = ms
        s.sndtimeo = ms


def test_draft_api_is_on():
    assert zmq.DRAFT_API is True
    assert zmq.has("draft") is True


def test_server_learns_routing_id_and_answers(ctx, transport, wait_peers):
    server = ctx.socket(zmq.SERVER)
    addr = transport.bind(server)
    clients = [ctx.socket(zmq.CLIENT) for _ in range(2)]
    _timeouts(server, *clients)
    for c in clients:
        c.connect(addr)
    wait_peers(server, 2)
    clients[0].send(b"from0")
    clients[1].send(b"from1")
    got = {}
    for _ in range(2):
        frame = server.recv(copy=False)
        assert isinstance(frame, zmq.Frame)
        assert 0 < frame.routing_id < 2**32
        assert frame.get("routing_id") == frame.routing_id
        got[frame.bytes] = frame.routing_id
    assert got[b"from0"] != got[b"from1"]
    # answer each by its id: the keyword (pyzmq's draft API) and a Frame carrying it
    server.send(b"to0", routing_id=got[b"from0"])
    reply = zmq.Frame(b"to1")
    reply.routing_id = got[b"from1"]
    server.send(reply)
    assert clients[0].recv() == b"to0"
    assert clients[1].recv() == b"to1"
    assert _drain(clients[0], 50) == [] and _drain(clients[1], 50) == []


def test_server_send_needs_a_known_routing_id(ctx):
    server = ctx.socket(zmq.SERVER)
    server.bind("inproc://cs-unknown")
    client = ctx.socket(zmq.CLIENT)
    client.connect("inproc://cs-unknown")
    _timeouts(server, client)
    with pytest.raises(zmq.ZMQError) as e:
        server.send(b"nobody")  # no routing id at all
    assert e.value.errno == zmq.EHOSTUNREACH
    client.send(b"hi")
    rid = server.recv(copy=False).routing_id
    with pytest.raises(zmq.ZMQError) as e:
        server.send(b"x", routing_id=rid ^ 0x5A5A)
    assert e.value.errno == zmq.EHOSTUNREACH
    server.send(b"ok", routing_id=rid)
    assert client.recv() == b"ok"
    client.close(linger=0)
    deadline = time.monotonic() + 5
    while True:  # the peer is gone: its id no longer routes
        try:
            server.send(b"gone", routing_id=rid, flags=zmq.DONTWAIT)
        except zmq.ZMQError as err:
            assert err.errno == zmq.EHOSTUNREACH
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_single_part_only(ctx):
    for kind in (zmq.CLIENT, zmq.SERVER):
        s = ctx.socket(kind)
        with pytest.raises(zmq.ZMQError) as e:
            s.send(b"a", zmq.SNDMORE, routing_id=1)
        assert e.value.errno == zmq.EINVAL
        with pytest.raises(zmq.ZMQError) as e:
            s.send_multipart([b"a", b"b"])
        assert e.value.errno == zmq.EINVAL


def test_client_load_balances_and_fair_queues(ctx, wait_peers):
    client = ctx.socket(zmq.CLIENT)
    servers = [ctx.socket(zmq.SERVER) for _ in range(2)]
    _timeouts(client, *servers)
    for i, s in enumerate(servers):
        s.bind(f"inproc://cs-lb-{i}")
        client.connect(f"inproc://cs-lb-{i}")
    wait_peers(client, 2)
    for i in range(10):
        client.send(b"%d" % i)
    per = [sorted(int(m) for m in _drain(s, 100)) for s in servers]
    assert sorted(per[0] + per[1]) == list(range(10))
    assert len(per[0]) == len(per[1]) == 5  # round robin
    # fair queueing back: both servers answer, the client gets every answer
    for i in range(2):
        client.send(b"hello %d" % i)
    for s in servers:
        rid = s.recv(copy=False).routing_id
        for k in range(3):
            s.send(b"r%d" % k, routing_id=rid)
    assert sorted(_drain(client, 100)) == [b"r0", b"r0", b"r1", b"r1", b"r2", b"r2"]


def test_client_blocks_without_peer_and_times_out(ctx):
    client = ctx.socket(zmq.CLIENT)
    client.sndtimeo = 50
    client.rcvtimeo = 50
    with pytest.raises(zmq.Again):
        client.send(b"x")
    with pytest.raises(zmq.Again):
        client.recv()
    with pytest.raises(zmq.Again):
        client.send(b"x", zmq.DONTWAIT)


def test_client_sndhwm_blocks(ctx):
    server = ctx.socket(zmq.SERVER)
    client = ctx.socket(zmq.CLIENT)
    client.sndhwm = 5
    server.rcvhwm = 5
    server.bind("inproc://cs-hwm")
    client.connect("inproc://cs-hwm")
    sent = 0
    with pytest.raises(zmq.Again):
        for _ in range(100):
            client.send(b"m", zmq.DONTWAIT)
            sent += 1
    assert 0 < sent < 100
    assert len(_drain(server, 50)) == sent


def test_server_drops_peers_of_other_types(ctx):
    import zmq as pyzmq

    server = ctx.socket(zmq.SERVER)
    server.rcvtimeo = 300
    port = server.bind_to_random_port("tcp://127.0.0.1")
    pctx = pyzmq.Context()
    dealer = pctx.socket(pyzmq.DEALER)
    dealer.linger = 0
    try:
        dealer.connect(f"tcp://127.0.0.1:{port}")
        dealer.send(b"not a client")
        with pytest.raises(zmq.Again):
            server.recv()  # the handshake refused the DEALER (RFC 41 socket types)
    finally:
        dealer.close()
        pctx.term()


def test_thread_safe_many_senders_many_receivers(ctx, transport, wait_peers):
    """Several threads send on one CLIENT while several threads receive on one SERVER
    and answer by routing id; each thread of the CLIENT also receives: every message
    arrives exactly once."""
    server = ctx.socket(zmq.SERVER)
    addr = transport.bind(server)
    client = ctx.socket(zmq.CLIENT)
    client.connect(addr)
    _timeouts(server, client, ms=5000)
    assert server.THREAD_SAFE == 1 and client.THREAD_SAFE == 1
    wait_peers(server, 1)
    n_threads, per_thread = 4, 200
    total = n_threads * per_thread
    seen_server: list[bytes] = []
    seen_client: list[bytes] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    served = threading.Semaphore(0)

    def serve() -> None:
        try:
            while True:
                f = server.recv(copy=False)
                if f.bytes == b"stop":
                    return
                with lock:
                    seen_server.append(f.bytes)
                server.send(b"re:" + f.bytes, routing_id=f.routing_id)
                served.release()
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    def talk(k: int) -> None:
        try:
            for i in range(per_thread):
                client.send(b"%d-%d" % (k, i))
            for _ in range(per_thread):
                m = client.recv()
                with lock:
                    seen_client.append(m)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    servers = [threading.Thread(target=serve) for _ in range(3)]
    talkers = [threading.Thread(target=talk, args=(k,)) for k in range(n_threads)]
    for t in servers + talkers:
        t.start()
    for t in talkers:
        t.join(30)
    for _ in servers:
        client.send(b"stop")
    for t in servers:
        t.join(10)
    assert not any(t.is_alive() for t in servers + talkers)
    assert errors == []
    want = sorted(b"%d-%d" % (k, i) for k in range(n_threads) for i in range(per_thread))
    assert sorted(seen_server) == want
    assert sorted(seen_client) == sorted(b"re:" + m for m in want)
    assert len(seen_client) == total


def test_blocked_recv_does_not_block_send_of_another_thread(ctx):
    server = ctx.socket(zmq.SERVER)
    server.bind("inproc://cs-block")
    client = ctx.socket(zmq.CLIENT)
    client.connect("inproc://cs-block")
    _timeouts(server, client, ms=5000)
    got = []
    t = threading.Thread(target=lambda: got.append(client.recv()))
    t.start()
    time.sleep(0.05)  # the thread sleeps in recv, on the same socket
    client.send(b"q")  # must not wait for that recv
    f = server.recv(copy=False)
    server.send(b"a", routing_id=f.routing_id)
    t.join(5)
    assert not t.is_alive()
    assert got == [b"a"]


def test_poller_and_events(ctx):
    server = ctx.socket(zmq.SERVER)
    server.bind("inproc://cs-poll")
    client = ctx.socket(zmq.CLIENT)
    client.connect("inproc://cs-poll")
    poller = zmq.Poller()
    poller.register(server, zmq.POLLIN)
    assert poller.poll(20) == []
    assert not server.EVENTS & zmq.POLLIN
    client.send(b"wake")
    assert dict(poller.poll(2000)) == {server: zmq.POLLIN}
    f = server.recv(copy=False)
    assert f.bytes == b"wake"
    assert poller.poll(20) == []
    # POLLIN from a message sent while another thread polls
    threading.Timer(0.05, lambda: client.send(b"later")).start()
    assert dict(poller.poll(2000)) == {server: zmq.POLLIN}
    assert server.recv() == b"later"
    assert client.EVENTS & zmq.POLLOUT


def test_recv_string_json_and_recv_into(ctx):
    server = ctx.socket(zmq.SERVER)
    server.bind("inproc://cs-sugar")
    client = ctx.socket(zmq.CLIENT)
    client.connect("inproc://cs-sugar")
    _timeouts(server, client)
    client.send_string("héllo")
    f = server.recv(copy=False)
    assert f.bytes.decode() == "héllo"
    server.send_json({"a": 1}, routing_id=f.routing_id)
    assert client.recv_json() == {"a": 1}
    client.send(b"0123456789")
    buf = bytearray(4)
    assert server.recv_into(buf) == 10
    assert bytes(buf) == b"0123"


def test_term_and_close_wake_every_blocked_thread():
    ctx = zmq.Context()
    server = ctx.socket(zmq.SERVER)
    server.bind("inproc://cs-term")
    client = ctx.socket(zmq.CLIENT)
    client.sndhwm = 1
    errors: list[int] = []

    def wait_recv(sock) -> None:
        try:
            sock.recv()
        except zmq.ZMQError as e:
            errors.append(e.errno)

    threads = [threading.Thread(target=wait_recv, args=(server,)) for _ in range(3)]
    threads.append(threading.Thread(target=wait_recv, args=(client,)))
    for t in threads:
        t.start()
    time.sleep(0.05)
    client.close(linger=0)  # the client's sleeper: ENOTSOCK
    threads[-1].join(5)
    assert errors == [zmq.ENOTSOCK]
    term = threading.Thread(target=ctx.term)
    term.start()  # the server's three sleepers: ETERM, then close() lets term() return
    for t in threads[:3]:
        t.join(5)
    assert sorted(errors) == sorted([zmq.ENOTSOCK] + [zmq.ETERM] * 3)
    server.close(linger=0)
    term.join(5)
    assert not any(t.is_alive() for t in threads + [term])


def test_asyncio_client_server():
    import asyncio

    import fastzmq.asyncio as zaio

    async def main() -> None:
        actx = zaio.Context()
        server = actx.socket(zmq.SERVER)
        client = actx.socket(zmq.CLIENT)
        try:
            port = server.bind_to_random_port("tcp://127.0.0.1")
            client.connect(f"tcp://127.0.0.1:{port}")
            server.rcvtimeo = 100
            with pytest.raises(zmq.Again):
                await server.recv()
            server.rcvtimeo = client.rcvtimeo = 3000
            pending = asyncio.ensure_future(server.recv(copy=False))
            await asyncio.sleep(0.01)
            assert not pending.done()
            await client.send(b"request")
            frame = await asyncio.wait_for(pending, 5)
            await server.send(b"reply", routing_id=frame.routing_id)
            assert await asyncio.wait_for(client.recv(), 5) == b"reply"
            await server.send_string("text", routing_id=frame.routing_id)
            assert await asyncio.wait_for(client.recv_string(), 5) == "text"
        finally:
            server.close(linger=0)
            client.close(linger=0)
            actx.term()

    asyncio.run(main())

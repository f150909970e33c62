"""Socket options that act on the OS sockets and on tcp/ipc endpoints.

Each test checks the effect where it happens: the OS socket's own options (read back
with getsockopt on the connection's socket), which peers get through, when a connecter
tries again. The OS sockets are found through the I/O thread's bookkeeping
(``IOThread.by_socket``: listeners and connecters per fastzmq socket).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import fastzmq as zmq

T = 3000  # ms


def _endpoints(sock):
    return [obj for io in sock.context._io for obj in io.by_socket.get(sock, [])]


def _os_conns(sock, timeout=3.0):
    """The OS sockets of sock's live connections (waits for at least one)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for obj in _endpoints(sock):
            conns = list(getattr(obj, "conns", ())) or [getattr(obj, "conn", None)]
            found += [c.pysock for c in conns if c is not None and c.state == 1]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _pushpull(ctx, url="tcp://127.0.0.1:*", **opts):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = T
    for k, v in opts.items():
        setattr(pull, k, v)
    pull.bind(url)
    push = ctx.socket(zmq.PUSH)
    push.sndtimeo = T
    push.linger = 0
    for k, v in opts.items():
        setattr(push, k, v)
    push.connect(pull.last_endpoint.decode())
    push.send(b"ping")
    assert pull.recv() == b"ping"
    return push, pull


OS_OPTS = {
    "sndbuf": 65536,
    "rcvbuf": 131072,
    "tos": 0x28,
    "tcp_keepalive": 1,
    "tcp_keepalive_cnt": 3,
    "tcp_keepalive_idle": 31,
    "tcp_keepalive_intvl": 7,
    "tcp_maxrt": 7000,
}


def _read_os_opts(s):
    SOL, TCP = socket.SOL_SOCKET, socket.IPPROTO_TCP
    return {
        "sndbuf": s.getsockopt(SOL, socket.SO_SNDBUF),
        "rcvbuf": s.getsockopt(SOL, socket.SO_RCVBUF),
        "tos": s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS),
        "tcp_keepalive": s.getsockopt(SOL, socket.SO_KEEPALIVE),
        "tcp_keepalive_cnt": s.getsockopt(TCP, socket.TCP_KEEPCNT),
        "tcp_keepalive_idle": s.getsockopt(TCP, socket.TCP_KEEPIDLE),
        "tcp_keepalive_intvl": s.getsockopt(TCP, socket.TCP_KEEPINTVL),
        "tcp_maxrt": s.getsockopt(TCP, socket.TCP_USER_TIMEOUT),
    }


def test_os_options_reach_the_os_socket(ctx):
    push, pull = _pushpull(ctx, **OS_OPTS)
    for side in (push, pull):  # the connecting and the accepting end
        (s,) = _os_conns(side)
        got = _read_os_opts(s)
        # Linux doubles the buffer sizes it reports (bookkeeping overhead)
        assert got.pop("sndbuf") == 2 * OS_OPTS["sndbuf"]
        assert got.pop("rcvbuf") == 2 * OS_OPTS["rcvbuf"]
        assert got == {k: v for k, v in OS_OPTS.items() if k not in ("sndbuf", "rcvbuf")}
    # without the options the OS keeps its defaults (the values above are not those)
    push2, pull2 = _pushpull(ctx)
    (s,) = _os_conns(pull2)
    plain = _read_os_opts(s)
    assert plain["tos"] == 0 and plain["tcp_keepalive"] == 0 and plain["tcp_maxrt"] == 0
    assert plain["sndbuf"] != 2 * OS_OPTS["sndbuf"] or plain["rcvbuf"] != 2 * OS_OPTS["rcvbuf"]


def test_keepalive_zero_turns_it_off_and_ipc_takes_the_buffers(ctx, tmp_path):
    push, pull = _pushpull(ctx, tcp_keepalive=0)
    (s,) = _os_conns(pull)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    push, pull = _pushpull(ctx, f"ipc://{tmp_path}/buf.ipc", sndbuf=32768)
    (s,) = _os_conns(pull)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == 2 * 32768


def test_bindtodevice(ctx):
    push, pull = _pushpull(ctx, bindtodevice=b"lo")
    for side in (push, pull):
        (s,) = _os_conns(side)
        dev = s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16)
        assert dev.rstrip(b"\0") == b"lo"
    bad = ctx.socket(zmq.PULL)
    bad.bindtodevice = b"nosuchdev0"
    with pytest.raises(zmq.ZMQError) as e:
        bad.bind("tcp://127.0.0.1:*")
    assert e.value.errno == zmq.ENODEV
    with pytest.raises(zmq.ZMQError) as e:
        bad.bindtodevice = b""
    assert e.value.errno == zmq.EINVAL


def test_backlog_reaches_listen(ctx):
    if shutil.which("ss") is None:
        pytest.skip("needs ss(8) to read a listening socket's backlog")
    pull = ctx.socket(zmq.PULL)
    pull.backlog = 7
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, timeout=10
    ).stdout.split()
    assert out[0] == "LISTEN" and out[2] == "7"  # Send-Q of a listener is its backlog


def _has_ipv6():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback")
def test_ipv6_dual_stack(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.ipv6 = 1
    pull.rcvtimeo = T
    pull.bind("tcp://*:*")
    port = int(pull.last_endpoint.rsplit(b":", 1)[1])
    assert pull.last_endpoint == f"tcp://[::]:{port}".encode()
    v6 = ctx.socket(zmq.PUSH)
    v6.ipv6 = 1
    v6.connect(f"tcp://[::1]:{port}")
    v4 = ctx.socket(zmq.PUSH)
    v4.connect(f"tcp://127.0.0.1:{port}")  # one listener serves both families
    v6.send(b"six")
    v4.send(b"four")
    assert sorted([pull.recv(), pull.recv()]) == [b"four", b"six"]
    # IPV4ONLY is its inverse
    s = ctx.socket(zmq.PUSH)
    assert s.ipv4only == 1 and s.ipv6 == 0
    s.ipv4only = 0
    assert s.ipv6 == 1
    # without IPV6, an IPv6 address is refused (libzmq: ENODEV) and * is IPv4 only
    plain = ctx.socket(zmq.PULL)
    with pytest.raises(zmq.ZMQError) as e:
        plain.bind("tcp://[::1]:*")
    assert e.value.errno == zmq.ENODEV
    plain.bind("tcp://*:*")
    assert plain.last_endpoint.startswith(b"tcp://0.0.0.0:")
    # the context's IPV6 is the default for its new sockets
    ctx.set(zmq.IPV6, 1)
    assert ctx.socket(zmq.PULL).ipv6 == 1


def test_interface_names(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = T
    pull.bind("tcp://lo:*")
    port = int(pull.last_endpoint.rsplit(b":", 1)[1])
    assert pull.last_endpoint == f"tcp://127.0.0.1:{port}".encode()
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(f"tcp://lo:{port}")  # not a host name: the interface's address
    push.send(b"via-lo")
    assert pull.recv() == b"via-lo"
    with pytest.raises(zmq.ZMQError) as e:
        ctx.socket(zmq.PULL).bind("tcp://nosuchif0:*")
    assert e.value.errno == zmq.ENODEV
    if _has_ipv6():
        p6 = ctx.socket(zmq.PULL)
        p6.ipv6 = 1
        p6.bind("tcp://lo:*")
        assert p6.last_endpoint.startswith(b"tcp://[::1]:")


def test_connect_source_address(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = T
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    src = _free_port()
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(f"tcp://127.0.0.1:{src};127.0.0.1:{port}")
    push.send(b"x")
    assert pull.recv() == b"x"
    (s,) = _os_conns(pull)
    assert s.getpeername() == ("127.0.0.1", src)


def _delivered(pull, timeout_ms):
    pull.rcvtimeo = timeout_ms
    try:
        return pull.recv()
    except zmq.Again:
        return None


def _late_binder(ctx, port, push_opts, delay=0.3):
    """push (with opts) connects to a port nobody listens on; a PULL binds it later."""
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    for k, v in push_opts.items():
        setattr(push, k, v)
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"queued")
    time.sleep(delay)  # the first attempts are refused
    pull = ctx.socket(zmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    return push, pull


def test_reconnect_ivl_minus_one_never_reconnects(ctx):
    _, pull = _late_binder(ctx, _free_port(), {"reconnect_ivl": -1})
    assert _delivered(pull, 600) is None
    _, pull = _late_binder(ctx, _free_port(), {"reconnect_ivl": 50})  # control
    assert _delivered(pull, T) == b"queued"


def test_reconnect_ivl_max_backs_off(ctx):
    port = _free_port()
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.reconnect_ivl = 20
    push.reconnect_ivl_max = 160
    push.connect(f"tcp://127.0.0.1:{port}")
    plain = ctx.socket(zmq.PUSH)
    plain.linger = 0
    plain.reconnect_ivl = 20
    plain.connect(f"tcp://127.0.0.1:{port}")
    time.sleep(0.6)
    (backing_off,) = _endpoints(push)
    (steady,) = _endpoints(plain)
    assert backing_off.ivl == 160 and steady.ivl == 20


def test_reconnect_stop(ctx):
    # CONN_REFUSED: the first refusal ends the connecter
    _, pull = _late_binder(ctx, _free_port(), {"reconnect_stop": zmq.RECONNECT_STOP_CONN_REFUSED})
    assert _delivered(pull, 600) is None
    # AFTER_DISCONNECT: a lost connection is not re-established
    for stop, expect in ((zmq.RECONNECT_STOP_AFTER_DISCONNECT, None), (0, b"again")):
        push, pull = _pushpull(ctx, reconnect_ivl=20)
        push.reconnect_stop = stop  # read when the connection dies
        port = int(pull.last_endpoint.rsplit(b":", 1)[1])
        pull.close(0)
        time.sleep(0.2)
        pull = ctx.socket(zmq.PULL)
        pull.bind(f"tcp://127.0.0.1:{port}")
        try:  # stopped: the pipe is gone, as in libzmq, so nothing takes the message
            push.send(b"again", zmq.DONTWAIT)
        except zmq.Again:
            pass
        assert _delivered(pull, 600 if expect is None else T) == expect


def _garbage_server(stop_at):
    """A tcp server answering every connection with a bad ZMTP greeting; counts them."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.05)
    count = []

    def run():
        while time.monotonic() < stop_at:
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            count.append(1)
            try:
                c.sendall(b"\x00" * 64)  # not a ZMTP signature
            except OSError:
                pass
            c.close()
        srv.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return srv.getsockname()[1], count, t


def test_reconnect_stop_handshake_failed(ctx):
    results = {}
    for stop in (zmq.RECONNECT_STOP_HANDSHAKE_FAILED, 0):
        port, count, t = _garbage_server(time.monotonic() + 0.8)
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        push.reconnect_ivl = 30
        push.reconnect_stop = stop
        push.connect(f"tcp://127.0.0.1:{port}")
        t.join(5)
        push.close(0)
        results[stop] = len(count)
    assert results[zmq.RECONNECT_STOP_HANDSHAKE_FAILED] == 1
    assert results[0] >= 3


def test_connect_timeout_abandons_a_stuck_connect(ctx):
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(0)  # never accepted: once the queue is full, SYNs go unanswered
    port = lsn.getsockname()[1]
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    try:
        seen = {}
        for timeout in (100, 0):
            push = ctx.socket(zmq.PUSH)
            push.linger = 0
            push.reconnect_ivl = 20
            push.connect_timeout = timeout
            push.connect(f"tcp://127.0.0.1:{port}")
            (conn,) = _endpoints(push)
            time.sleep(0.7)
            seen[timeout] = conn.attempts
            push.close(0)
        assert seen[100] >= 3  # abandoned and retried every ~120 ms
        assert seen[0] == 1  # the OS keeps trying the one connect
    finally:
        for c in fillers:
            c.close()
        lsn.close()


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_use_fd_listens_on_the_given_socket(ctx, transport):
    if transport == "tcp":
        lsn = socket.socket()
        lsn.bind(("127.0.0.1", 0))
        url = f"tcp://127.0.0.1:{lsn.getsockname()[1]}"
    else:
        path = tempfile.mktemp(suffix=".ipc")
        lsn = socket.socket(socket.AF_UNIX)
        lsn.bind(path)
        url = f"ipc://{path}"
    lsn.listen(8)
    fd = lsn.detach()  # the fastzmq socket owns it from here
    pull = ctx.socket(zmq.PULL)
    pull.rcvtimeo = T
    pull.use_fd = fd
    assert pull.use_fd == fd
    pull.bind(url)  # no bind/listen of its own: it serves the given socket
    assert pull.last_endpoint.decode() == url
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(url)
    push.send(b"through-fd")
    assert pull.recv() == b"through-fd"
    (listener,) = _endpoints(pull)
    assert listener.pysock.fileno() == fd


def test_tcp_accept_filter(ctx):
    pull = ctx.socket(zmq.PULL)
    pull.tcp_accept_filter = b"10.0.0.0/8"
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"refused")
    assert _delivered(pull, 400) is None
    ok = ctx.socket(zmq.PULL)
    ok.tcp_accept_filter = b"10.0.0.0/8"
    ok.tcp_accept_filter = b"127.0.0.0/8"  # a second filter adds to the list
    port = ok.bind_to_random_port("tcp://127.0.0.1")
    push2 = ctx.socket(zmq.PUSH)
    push2.linger = 0
    push2.connect(f"tcp://127.0.0.1:{port}")
    push2.send(b"admitted")
    assert _delivered(ok, T) == b"admitted"
    with pytest.raises(zmq.ZMQError) as e:
        ok.tcp_accept_filter = b"not-an-address"
    assert e.value.errno == zmq.EINVAL


@pytest.mark.parametrize(
    "option,good,bad",
    [
        ("ipc_filter_uid", os.getuid, lambda: os.getuid() + 4242),
        ("ipc_filter_gid", os.getgid, lambda: os.getgid() + 4242),
        ("ipc_filter_pid", os.getpid, lambda: os.getpid() + 4242),
    ],
)
def test_ipc_filters(ctx, tmp_path, option, good, bad):
    for value, expect in ((bad(), None), (good(), b"hello")):
        pull = ctx.socket(zmq.PULL)
        setattr(pull, option, value)
        url = f"ipc://{tmp_path}/{option}-{value}.ipc"
        pull.bind(url)
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        push.connect(url)
        push.send(b"hello")
        assert _delivered(pull, 400 if expect is None else T) == expect


def test_affinity_picks_the_io_thread():
    ctx = zmq.Context(io_threads=2)
    try:
        pull = ctx.socket(zmq.PULL)
        pull.affinity = 2  # the second I/O thread
        pull.bind("tcp://127.0.0.1:*")
        assert pull in ctx._io[1].by_socket and pull not in ctx._io[0].by_socket
        other = ctx.socket(zmq.PULL)
        other.affinity = 4  # no third I/O thread
        with pytest.raises(zmq.ZMQError) as e:
            other.bind("tcp://127.0.0.1:*")
        assert e.value.errno == zmq.EMTHREAD
        for s in (pull, other):
            s.close(0)
    finally:
        ctx.term()


def _socks5_proxy(stop_at, auth=None):
    """A SOCKS5 proxy (RFC 1928/1929) relaying until stop_at; logs (user, host, port)."""
    import selectors

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.05)
    log = []
    threads = []

    def rd(c, n):
        b = b""
        while len(b) < n:
            chunk = c.recv(n - len(b))
            if not chunk:
                raise OSError("closed")
            b += chunk
        return b

    def handle(c):
        target = None
        try:
            c.settimeout(2)
            _, nmethods = rd(c, 2)
            methods = rd(c, nmethods)
            user = None
            if auth is not None:
                if 2 not in methods:
                    c.sendall(b"\x05\xff")
                    return
                c.sendall(b"\x05\x02")
                _, ulen = rd(c, 2)
                user = rd(c, ulen)
                password = rd(c, rd(c, 1)[0])
                ok = (user, password) == auth
                c.sendall(b"\x01" + (b"\x00" if ok else b"\x01"))
                if not ok:
                    return
            else:
                c.sendall(b"\x05\x00")
            atyp = rd(c, 4)[3]
            if atyp == 1:
                host = socket.inet_ntoa(rd(c, 4))
            elif atyp == 3:
                host = rd(c, rd(c, 1)[0]).decode()
            else:
                host = socket.inet_ntop(socket.AF_INET6, rd(c, 16))
            port = int.from_bytes(rd(c, 2), "big")
            log.append((user, host, port))
            target = socket.create_connection((host, port), timeout=2)
            c.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
            with selectors.DefaultSelector() as sel:  # (fds may be > 1024: no select())
                sel.register(c, selectors.EVENT_READ)
                sel.register(target, selectors.EVENT_READ)
                while time.monotonic() < stop_at:
                    for key, _ in sel.select(0.05):
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        (target if key.fileobj is c else c).sendall(data)
        except OSError:
            pass
        finally:
            c.close()
            if target is not None:
                target.close()

    def run():
        while time.monotonic() < stop_at:
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            t = threading.Thread(target=handle, args=(c,), daemon=True)
            t.start()
            threads.append(t)
        srv.close()
        for t in threads:
            t.join(3)

    main = threading.Thread(target=run, daemon=True)
    main.start()
    return srv.getsockname()[1], log, main


@pytest.mark.parametrize("auth", [None, (b"user", b"secret")])
def test_socks_proxy(ctx, auth):
    proxy_port, log, proxy = _socks5_proxy(time.monotonic() + 2.5, auth)
    try:
        pull = ctx.socket(zmq.PULL)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        push.socks_proxy = f"127.0.0.1:{proxy_port}".encode()
        if auth:
            push.socks_username, push.socks_password = auth
        push.connect(f"tcp://localhost:{port}")  # the name goes to the proxy
        push.send(b"via-proxy")
        assert _delivered(pull, 2000) == b"via-proxy"
        assert log[0] == ((auth[0] if auth else None), "localhost", port)
        if auth:  # a wrong password: the proxy refuses, nothing gets through
            bad = ctx.socket(zmq.PUSH)
            bad.linger = 0
            bad.socks_proxy = f"127.0.0.1:{proxy_port}".encode()
            bad.socks_username, bad.socks_password = b"user", b"wrong"
            bad.connect(f"tcp://127.0.0.1:{port}")
            bad.send(b"refused")
            assert _delivered(pull, 300) is None
            bad.close(0)
        push.close(0)
        pull.close(0)
    finally:
        proxy.join(5)

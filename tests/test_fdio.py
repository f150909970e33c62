"""fastzmq._fdio: the I/O thread's GIL-keeping socket calls behave as Python's."""

from __future__ import annotations

import errno
import os
import select
import socket

import pytest

from fastzmq import _fdio


@pytest.fixture
def listener():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    ls.setblocking(False)
    yield ls
    ls.close()


def test_accept_send_recv_close(listener):
    assert _fdio.accept(listener.fileno()) is None  # nothing waiting
    client = socket.create_connection(listener.getsockname(), timeout=5)
    try:
        fd, family, addr = _fdio.accept(listener.fileno())
        assert family == socket.AF_INET
        assert addr == client.getsockname()
        conn = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK, 0, fd)
        assert conn.gettimeout() == 0  # accepted non-blocking
        assert _fdio.send(fd, b"hello") == 5
        assert client.recv(5) == b"hello"
        with pytest.raises(BlockingIOError):
            _fdio.recv(fd, 100)
        client.sendall(b"xyz")
        conn.setblocking(True)
        conn.settimeout(5)
        assert conn.recv(1, socket.MSG_PEEK) == b"x"  # wait until it arrived
        assert _fdio.recv(fd, 100) == b"xyz"
        client.close()
        assert conn.recv(1, socket.MSG_PEEK) == b""  # wait for the end of stream
        assert _fdio.recv(fd, 100) == b""
        _fdio.close(conn.detach())
    finally:
        client.close()


def test_errors_carry_errno():
    with pytest.raises(OSError) as info:
        _fdio.send(-1, b"x")
    assert info.value.errno == 9  # EBADF
    with pytest.raises(OSError) as info:
        _fdio.close(-1)
    assert info.value.errno == 9


def _wait_accept(ls, timeout=5.0):
    ls.settimeout(timeout)
    conn, _ = ls.accept()
    return conn


def test_stream_socket_and_connect_tcp(listener):
    fd = _fdio.stream_socket(socket.AF_INET)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK, 0, fd)
    try:
        assert s.gettimeout() == 0  # created non-blocking
        assert os.get_inheritable(fd) is False  # and close-on-exec
        rc = _fdio.connect(fd, socket.AF_INET, listener.getsockname())
        assert rc in (0, errno.EINPROGRESS)
        conn = _wait_accept(listener)
        try:
            assert conn.getpeername() == s.getsockname()
        finally:
            conn.close()
    finally:
        s.close()


def test_connect_tcp6():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    ls = socket.socket(socket.AF_INET6)
    try:
        ls.bind(("::1", 0))
    except OSError:
        ls.close()
        pytest.skip("no IPv6 loopback")
    ls.listen()
    fd = _fdio.stream_socket(socket.AF_INET6)
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM | socket.SOCK_NONBLOCK, 0, fd)
    try:
        assert _fdio.connect(fd, socket.AF_INET6, ls.getsockname()) in (0, errno.EINPROGRESS)
        conn = _wait_accept(ls)
        try:
            assert conn.getpeername()[:2] == s.getsockname()[:2]
        finally:
            conn.close()
    finally:
        s.close()
        ls.close()


def test_connect_unix_path_and_abstract(tmp_path):
    for name in (str(tmp_path / "sock"), f"\0fastzmq-fdio-{os.getpid()}"):
        ls = socket.socket(socket.AF_UNIX)
        ls.bind(name)
        ls.listen()
        fd = _fdio.stream_socket(socket.AF_UNIX)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK, 0, fd)
        try:
            assert _fdio.connect(fd, socket.AF_UNIX, name) == 0
            conn = _wait_accept(ls)
            conn.close()
            assert s.getpeername() in (name, name.encode())
        finally:
            s.close()
            ls.close()


def test_connect_reports_errno_and_refuses_bad_addresses(listener):
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    fd = _fdio.stream_socket(socket.AF_INET)
    try:
        rc = _fdio.connect(fd, socket.AF_INET, ("127.0.0.1", port))
        if rc == errno.EINPROGRESS:  # (refused once the kernel answers the SYN)
            select.select([], [fd], [], 5)
            with socket.socket(fileno=os.dup(fd)) as s:
                rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        assert rc == errno.ECONNREFUSED
        assert _fdio.connect(fd, socket.AF_UNIX, "x" * 200) == errno.ENAMETOOLONG
        with pytest.raises(ValueError):
            _fdio.connect(fd, socket.AF_INET, ("localhost", port))  # numeric only
        with pytest.raises(ValueError):
            _fdio.connect(fd, 12345, ("127.0.0.1", port))
    finally:
        _fdio.close(fd)

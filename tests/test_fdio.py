"""fastzmq._fdio: the I/O thread's GIL-keeping socket calls behave as Python's."""

from __future__ import annotations

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

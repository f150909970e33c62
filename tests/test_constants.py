"""fastzmq.constants against pyzmq (the reference) and libzmq (through pyzmq)."""

from __future__ import annotations

import enum
import subprocess
import sys
from pathlib import Path

import pytest

import fastzmq.constants as c

zmq = pytest.importorskip("zmq")

ROOT = Path(__file__).resolve().parent.parent

# fastzmq members pyzmq's enums lack, on purpose
EXTRA_MEMBERS = {
    # POSIX errnos libzmq reports (EINTR from blocking calls, EMFILE...)
    "Errno": {"EINTR", "ENOENT", "ENOMEM", "ENODEV", "EMFILE"},
    # libzmq context options pyzmq leaves out of ContextOption
    "ContextOption": {"ZERO_COPY_RECV", "IPV6", "BLOCKY"},
}


def pyzmq_enums():
    for name in dir(zmq.constants):
        obj = getattr(zmq.constants, name)
        if isinstance(obj, type) and issubclass(obj, (enum.IntEnum, enum.IntFlag)):
            if obj.__members__:
                yield obj


@pytest.mark.parametrize("ref", list(pyzmq_enums()), ids=lambda e: e.__name__)
def test_enum_members_match_pyzmq(ref):
    ours = getattr(c, ref.__name__)
    assert issubclass(ours, enum.IntFlag) == issubclass(ref, enum.IntFlag)
    for name, member in ref.__members__.items():
        assert int(ours.__members__[name]) == int(member), name
    extra = set(ours.__members__) - set(ref.__members__)
    assert extra == EXTRA_MEMBERS.get(ref.__name__, set())


def test_every_pyzmq_module_level_int_matches():
    names = [n for n in dir(zmq) if not n.startswith("_") and isinstance(getattr(zmq, n), int)]
    assert len(names) > 240
    for name in names:
        if isinstance(getattr(zmq, name), bool):
            continue  # DRAFT_API flags: capability, not ABI
        assert getattr(c, name) == getattr(zmq, name), name


def test_module_level_names_are_the_enum_members():
    assert c.PUSH is c.SocketType.PUSH and c.PUSH == 8 and c.PUSH.name == "PUSH"
    assert c.BLOCKY is c.SocketOption.BLOCKY
    assert c.EVENT_CONNECTED is c.Event.CONNECTED
    assert c.NOTIFY_DISCONNECT is c.RouterNotify.DISCONNECT
    assert c.RECONNECT_STOP_CONN_REFUSED is c.ReconnectStop.CONN_REFUSED
    assert c.NORM_CCE is c.NormMode.CCE
    assert c.NOBLOCK is c.DONTWAIT and c.IDENTITY is c.ROUTING_ID


def test_module_level_types_match_pyzmq():
    for name in zmq.constants.__all__:
        ref = getattr(zmq.constants, name)
        if isinstance(ref, enum.Enum):
            assert type(getattr(c, name)).__name__ == type(ref).__name__, name


def test_all_lists_every_exported_name():
    for name in c.__all__:
        assert hasattr(c, name), name
    # pyzmq's __all__ also re-exports the enum base classes; we do not
    assert set(zmq.constants.__all__) - {"Enum", "IntEnum", "IntFlag"} <= set(c.__all__)


def test_errno_values():
    import errno

    assert c.EAGAIN == errno.EAGAIN and c.EINTR == errno.EINTR
    assert c.EFSM == 156384712 + 51 and c.EMTHREAD == 156384712 + 54
    assert c.ETERM == c.Errno.ETERM == 156384765


def test_option_types_match_pyzmq():
    for opt in zmq.SocketOption:
        assert c.OPTION_TYPES[int(opt)] == opt._opt_type.value, opt.name
        assert c.SocketOption(int(opt))._opt_type.value == opt._opt_type.value
    assert c.SocketOption.LINGER in c.int_sockopts
    assert c.SocketOption.MAXMSGSIZE in c.int64_sockopts
    assert c.SocketOption.SUBSCRIBE in c.bytes_sockopts
    assert c.fd_sockopts == {c.SocketOption.FD}
    disjoint = [c.int_sockopts, c.int64_sockopts, c.bytes_sockopts, c.fd_sockopts]
    assert sum(len(s) for s in disjoint) == len(c.OPTION_TYPES)


# the socket type on which libzmq accepts each socket-specific option
OWNER = {
    "ROUTER_": zmq.ROUTER,
    "PROBE_ROUTER": zmq.DEALER,
    "XPUB_": zmq.XPUB,
    "ONLY_FIRST_SUBSCRIBE": zmq.XPUB,
    "REQ_": zmq.REQ,
    "STREAM_NOTIFY": zmq.STREAM,
}
SAMPLES = (c.INT_MIN, -100, -99, -2, -1, 0, 1, 2, 255, 6553599, 6553600, c.INT_MAX)


def owner(name: str) -> int:
    for prefix, st in OWNER.items():
        if name.startswith(prefix):
            return st
    return zmq.DEALER


def libzmq_accepts(sock, opt: int, value: int) -> bool:
    try:
        sock.setsockopt(opt, value)
    except zmq.ZMQError:
        return False
    return True


@pytest.mark.timeout(10)
def test_sockopt_ranges_match_libzmq():
    ctx = zmq.Context()
    checked = 0
    try:
        for opt, (lo, hi) in c.SOCKOPT_RANGES.items():
            name = c.SocketOption(opt).name
            sock = ctx.socket(owner(name))
            try:
                if not libzmq_accepts(sock, opt, hi):
                    continue  # not built into this libzmq (GSSAPI, ...) or pyzmq-virtual
                for v in SAMPLES + (lo - 1, lo, hi):
                    if c.INT_MIN <= v <= c.INT_MAX:
                        assert libzmq_accepts(sock, opt, v) == c.option_in_range(opt, v), (name, v)
                checked += 1
            finally:
                sock.close(linger=0)
    finally:
        ctx.term()
    assert checked >= 40


@pytest.mark.timeout(10)
def test_unbounded_int_options_take_any_int_in_libzmq():
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        for opt in (c.AFFINITY, c.MAXMSGSIZE, c.INVERT_MATCHING, c.RECONNECT_STOP):
            assert opt not in c.SOCKOPT_RANGES
            for v in (c.INT_MIN, -1, 0, c.INT_MAX):
                assert libzmq_accepts(sock, opt, v)
        sock.close(linger=0)
    finally:
        ctx.term()


def test_option_in_range():
    assert c.option_in_range(c.LINGER, -1) and not c.option_in_range(c.LINGER, -2)
    assert c.option_in_range(c.SNDHWM, 0) and not c.option_in_range(c.SNDHWM, -1)
    assert not c.option_in_range(c.IMMEDIATE, 2)
    assert c.option_in_range(c.MAXMSGSIZE, -5)
    assert c.option_in_range(c.MAX_SOCKETS, 1, c.CTXOPT_RANGES)
    assert not c.option_in_range(c.MAX_SOCKETS, 0, c.CTXOPT_RANGES)


def test_readonly_sockopts_rejected_by_libzmq():
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        for opt in c.READONLY_SOCKOPTS:
            if c.OPTION_TYPES[opt] == "int":
                assert not libzmq_accepts(sock, opt, 0), c.SocketOption(opt).name
        sock.close(linger=0)
    finally:
        ctx.term()


def test_versions_and_has():
    assert c.zmq_version_info() == (4, 3, 5) and c.zmq_version() == "4.3.5"
    assert c.pyzmq_version() == ".".join(map(str, c.pyzmq_version_info()))
    assert c.has("ipc") is True
    # epgm:// and pgm:// (their C modules are built on Linux only)
    assert c.has("pgm") is sys.platform.startswith("linux") and c.has("nonsense") is False
    try:
        import nacl.bindings  # noqa: F401

        have_nacl = True
    except ImportError:
        have_nacl = False
    assert c.has("curve") is have_nacl
    assert c.has("draft") is c.DRAFT_API


def test_generated_block_is_current():
    gen = ROOT / "tools" / "gen_constants.py"
    proc = subprocess.run([sys.executable, str(gen), "--check"], capture_output=True, timeout=20)
    assert proc.returncode == 0, proc.stderr


def test_constants_never_import_pyzmq():
    code = (
        "import sys, fastzmq.constants, fastzmq.error, fastzmq.message; print('zmq' in sys.modules)"
    )
    import fastzmq

    # the directory fastzmq was imported from: src/ in a dev build, site-packages when installed
    env_path = str(Path(fastzmq.__file__).resolve().parent.parent)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=20,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout.strip() == "False", proc.stderr

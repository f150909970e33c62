"""The socket option table: which options exist, on which socket types, with what values.

One row per ``SocketOption`` number (``ROWS``), measured against libzmq 4.3.5 (as built
into pyzmq, draft API off): whether it can be read and written, the socket types that
accept it, its default, the closed range of int values libzmq accepts, and whether
libzmq folds a non-zero value to 1 on read. ``check_set``/``check_get`` raise what
pyzmq + libzmq raise: TypeError for a value of the wrong Python type, ZMQError(EINVAL)
for an option this socket type (or this libzmq) does not know, for a read of a
write-only option and for an out-of-range value.

Where an option takes effect is ``Row.where`` (the test that walks this table checks
every row has a proof): ``core`` the socket core (``_socket.pyx``/``socket.py``),
``os`` the OS socket (``_transport.tune_socket``), ``tcp`` listeners/connecters
(``_transport.py``/``_endpoint.py``), ``security``/``heartbeat`` those layers,
``absent`` not in libzmq 4.3.5 (EINVAL both ways), ``multicast`` the
pgm/epgm transports (``_pgm_transport.py``; libzmq uses them only there), ``noop``
an option libzmq itself ignores on Linux (LOOPBACK_FASTPATH: Windows only).
Options fastzmq cannot honour (ROUTER_RAW) accept only their default
and raise ENOTSUP for anything else (``UNSUPPORTED``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from fastzmq import constants as _c
from fastzmq.error import ZMQError

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

_O = _c.SocketOption
PAIR, PUB, SUB, REQ, REP, DEALER, ROUTER, PULL, PUSH, XPUB, XSUB, STREAM = range(12)
ALL = frozenset(range(21))  # the classic types, STREAM (11) and the draft types (12-20)
PUBS = frozenset({PUB, XPUB})
ROUTERS = frozenset({ROUTER, REP})  # libzmq's REP is a ROUTER underneath


class Row(NamedTuple):  # not a dataclass: `dataclasses` costs ~10 ms at import
    kind: str  # "int", "int64", "bytes", "fd"
    default: Any
    mode: str = "rw"  # "rw", "w" (write-only), "r" (read-only), "absent"
    types: frozenset = ALL
    lo: int = INT_MIN
    hi: int = INT_MAX
    as_bool: bool = False  # a non-zero value reads back as 1
    where: str = "core"


def _i(default: Any = 0, lo: int = INT_MIN, hi: int = INT_MAX, **kw: Any) -> Row:
    return Row("int", default, lo=lo, hi=hi, **kw)


def _flag(default: int = 0, **kw: Any) -> Row:
    """A boolean libzmq takes as 0/1 only."""
    return Row("int", default, lo=0, hi=1, **kw)


def _relaxed(types: frozenset, **kw: Any) -> Row:
    """A write-only boolean that takes any value >= 0 (ROUTER_MANDATORY, XPUB_*...)."""
    return Row("int", 0, mode="w", types=types, lo=0, hi=INT_MAX, **kw)


def _b(default: bytes = b"", **kw: Any) -> Row:
    return Row("bytes", default, **kw)


_ABSENT_I = Row("int", 0, mode="absent", where="absent")
_ABSENT_B = Row("bytes", b"", mode="absent", where="absent")

ROWS: dict[int, Row] = {
    _O.HWM: _ABSENT_I,  # pyzmq's virtual option: only the ``hwm`` attribute has it
    _O.AFFINITY: Row("int64", 0, lo=INT64_MIN, hi=INT64_MAX, where="tcp"),
    _O.ROUTING_ID: _b(),
    _O.SUBSCRIBE: _b(mode="w", types=frozenset({SUB, XPUB})),  # XPUB: with XPUB_MANUAL
    _O.UNSUBSCRIBE: _b(mode="w", types=frozenset({SUB, XPUB})),
    _O.RATE: _i(100, 1, where="multicast"),
    _O.RECOVERY_IVL: _i(10000, 0, where="multicast"),
    _O.SNDBUF: _i(-1, -1, where="os"),
    _O.RCVBUF: _i(-1, -1, where="os"),
    _O.RCVMORE: _i(0, mode="r"),
    _O.FD: Row("fd", -1, mode="r"),
    _O.EVENTS: _i(0, mode="r"),
    _O.TYPE: _i(0, mode="r"),
    _O.LINGER: _i(-1, -1),
    _O.RECONNECT_IVL: _i(100, -1, where="tcp"),
    _O.BACKLOG: _i(100, 0, where="tcp"),
    _O.RECONNECT_IVL_MAX: _i(0, 0, where="tcp"),
    _O.MAXMSGSIZE: Row("int64", -1, lo=INT64_MIN, hi=INT64_MAX),
    _O.SNDHWM: _i(1000, 0),
    _O.RCVHWM: _i(1000, 0),
    _O.MULTICAST_HOPS: _i(1, 1, where="multicast"),
    _O.RCVTIMEO: _i(-1, -1),
    _O.SNDTIMEO: _i(-1, -1),
    _O.LAST_ENDPOINT: _b(mode="r"),
    _O.ROUTER_MANDATORY: _relaxed(ROUTERS),
    _O.TCP_KEEPALIVE: _i(-1, -1, 1, where="os"),
    _O.TCP_KEEPALIVE_CNT: _i(-1, -1, where="os"),
    _O.TCP_KEEPALIVE_IDLE: _i(-1, -1, where="os"),
    _O.TCP_KEEPALIVE_INTVL: _i(-1, -1, where="os"),
    _O.IMMEDIATE: _flag(),
    _O.XPUB_VERBOSE: _relaxed(PUBS),
    _O.ROUTER_RAW: _relaxed(ROUTERS),
    _O.IPV6: _flag(where="tcp"),
    _O.MECHANISM: _i(0, mode="r", where="security"),
    _O.PLAIN_SERVER: _flag(where="security"),
    _O.PLAIN_USERNAME: _b(where="security"),
    _O.PLAIN_PASSWORD: _b(where="security"),
    _O.CURVE_SERVER: _flag(where="security"),
    _O.CURVE_PUBLICKEY: _b(where="security"),
    _O.CURVE_SECRETKEY: _b(where="security"),
    _O.CURVE_SERVERKEY: _b(where="security"),
    _O.PROBE_ROUTER: _relaxed(frozenset({REQ, REP, DEALER, ROUTER})),
    _O.REQ_CORRELATE: _relaxed(frozenset({REQ})),
    _O.REQ_RELAXED: _relaxed(frozenset({REQ})),
    _O.CONFLATE: _flag(),
    _O.ZAP_DOMAIN: _b(where="security"),
    _O.ROUTER_HANDOVER: _relaxed(ROUTERS),
    _O.TOS: _i(0, 0, where="os"),
    _O.CONNECT_ROUTING_ID: _b(mode="w", types=ROUTERS | {STREAM}),
    _O.GSSAPI_SERVER: _ABSENT_I,  # this libzmq is built without GSSAPI
    _O.GSSAPI_PRINCIPAL: _ABSENT_B,
    _O.GSSAPI_SERVICE_PRINCIPAL: _ABSENT_B,
    _O.GSSAPI_PLAINTEXT: _ABSENT_I,
    _O.HANDSHAKE_IVL: _i(30000, 0, where="tcp"),
    _O.SOCKS_PROXY: _b(where="tcp"),
    _O.XPUB_NODROP: _relaxed(PUBS | {14}),  # and RADIO (14): block instead of dropping
    _O.BLOCKY: _ABSENT_I,  # a context option
    _O.XPUB_MANUAL: _relaxed(PUBS),
    _O.XPUB_WELCOME_MSG: _b(mode="w", types=PUBS),
    _O.STREAM_NOTIFY: _relaxed(frozenset({STREAM})),  # write-only, as libzmq
    _O.INVERT_MATCHING: _i(0, as_bool=True),
    _O.HEARTBEAT_IVL: _i(0, 0, where="heartbeat"),
    _O.HEARTBEAT_TTL: _i(0, -99, 65535 * 100 + 99, where="heartbeat"),
    _O.HEARTBEAT_TIMEOUT: _i(-1, 0, where="heartbeat"),
    _O.XPUB_VERBOSER: _relaxed(PUBS),
    _O.CONNECT_TIMEOUT: _i(0, 0, where="tcp"),
    _O.TCP_MAXRT: _i(0, 0, where="os"),
    _O.THREAD_SAFE: _i(0, mode="r"),
    _O.MULTICAST_MAXTPDU: _i(1500, 1, where="multicast"),
    _O.VMCI_BUFFER_SIZE: Row("int64", 0, mode="absent", where="absent"),
    _O.VMCI_BUFFER_MIN_SIZE: Row("int64", 0, mode="absent", where="absent"),
    _O.VMCI_BUFFER_MAX_SIZE: Row("int64", 0, mode="absent", where="absent"),
    _O.VMCI_CONNECT_TIMEOUT: _ABSENT_I,
    _O.USE_FD: _i(-1, -1, where="tcp"),
    _O.GSSAPI_PRINCIPAL_NAMETYPE: _ABSENT_I,
    _O.GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: _ABSENT_I,
    _O.BINDTODEVICE: _b(where="os"),
    _O.TCP_ACCEPT_FILTER: _b(mode="w", where="tcp"),
    _O.IPC_FILTER_PID: _i(0, mode="w", where="tcp"),
    _O.IPC_FILTER_UID: _i(0, mode="w", where="tcp"),
    _O.IPC_FILTER_GID: _i(0, mode="w", where="tcp"),
    _O.IPV4ONLY: _flag(1, where="tcp"),
    _O.ZAP_ENFORCE_DOMAIN: _i(0, as_bool=True, where="security"),
    _O.LOOPBACK_FASTPATH: _i(0, as_bool=True, where="noop"),
    _O.METADATA: _ABSENT_B,  # draft in 4.3.5
    _O.MULTICAST_LOOP: _i(1, as_bool=True, where="multicast"),
    _O.ROUTER_NOTIFY: Row("int", 0, types=ROUTERS, lo=0, hi=3),  # draft in 4.3.5
    _O.XPUB_MANUAL_LAST_VALUE: _relaxed(PUBS),
    _O.SOCKS_USERNAME: _b(where="tcp"),
    _O.SOCKS_PASSWORD: _b(where="tcp"),
    _O.IN_BATCH_SIZE: _ABSENT_I,
    _O.OUT_BATCH_SIZE: _ABSENT_I,
    _O.WSS_KEY_PEM: _ABSENT_B,
    _O.WSS_CERT_PEM: _ABSENT_B,
    _O.WSS_TRUST_PEM: _ABSENT_B,
    _O.WSS_HOSTNAME: _ABSENT_B,
    _O.WSS_TRUST_SYSTEM: _ABSENT_I,
    _O.ONLY_FIRST_SUBSCRIBE: _relaxed(frozenset({PUB, XPUB, XSUB})),
    _O.RECONNECT_STOP: _i(0, where="tcp"),
    _O.HELLO_MSG: _ABSENT_B,
    _O.DISCONNECT_MSG: _ABSENT_B,
    _O.PRIORITY: _ABSENT_I,
    _O.BUSY_POLL: _ABSENT_I,
    _O.HICCUP_MSG: _ABSENT_B,
    _O.XSUB_VERBOSE_UNSUBSCRIBE: _ABSENT_I,
    _O.TOPICS_COUNT: Row("int", 0, mode="r", types=frozenset({PUB, SUB, XPUB, XSUB})),
    _O.NORM_MODE: _ABSENT_I,
    _O.NORM_UNICAST_NACK: _ABSENT_I,
    _O.NORM_BUFFER_SIZE: _ABSENT_I,
    _O.NORM_SEGMENT_SIZE: _ABSENT_I,
    _O.NORM_BLOCK_SIZE: _ABSENT_I,
    _O.NORM_NUM_PARITY: _ABSENT_I,
    _O.NORM_NUM_AUTOPARITY: _ABSENT_I,
    _O.NORM_PUSH: _ABSENT_I,
}
del _O

# options fastzmq does not implement: only the default (a no-op) is accepted
UNSUPPORTED: dict[int, str] = {
    int(_c.ROUTER_RAW): "ROUTER_RAW (raw tcp through a ROUTER) is not supported",
}

RECONNECT_STOP_ALL = 1 | 2 | 4  # CONN_REFUSED | HANDSHAKE_FAILED | AFTER_DISCONNECT


def name(option: int) -> str:
    try:
        return _c.SocketOption(option).name
    except ValueError:
        return str(option)


def _einval(msg: str) -> ZMQError:
    return ZMQError(_c.EINVAL, msg)


def row_for(option: int, socket_type: int) -> Row:
    """The row of an option this socket type knows (EINVAL otherwise)."""
    row = ROWS.get(option)
    if row is None or row.mode == "absent":
        raise _einval(f"Invalid socket option: {name(option)} (not in libzmq 4.3.5)")
    if socket_type not in row.types:
        raise _einval(f"{name(option)} is not an option of this socket type")
    return row


def check_set(option: int, socket_type: int, value: Any) -> Any:
    """The value to store for setsockopt(option, value), validated as libzmq does."""
    if isinstance(value, str):
        raise TypeError("unicode not allowed, use setsockopt_string")
    row = ROWS.get(option)
    kind = row.kind if row is not None else "int"
    if kind == "bytes":
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, got: {value!r}")
    elif not isinstance(value, int):
        raise TypeError(f"expected int, got: {value!r}")
    row = row_for(option, socket_type)
    if row.mode == "r":
        raise _einval(f"Socket option {name(option)} is read-only")
    if kind == "bytes":
        return _check_bytes(option, socket_type, value)
    value = int(value)
    if not row.lo <= value <= row.hi:
        raise _einval(f"Invalid value {value} for {name(option)} (range {row.lo}..{row.hi})")
    if option in UNSUPPORTED and value != row.default:
        raise ZMQError(_c.ENOTSUP, UNSUPPORTED[option])
    if option == _c.RECONNECT_STOP:
        value &= RECONNECT_STOP_ALL  # libzmq keeps the bits it knows
    if row.as_bool:
        value = int(value != 0)
    return value


def _check_bytes(option: int, socket_type: int, value: bytes) -> bytes:
    if option in (_c.ROUTING_ID, _c.CONNECT_ROUTING_ID) and not 0 < len(value) <= 255:
        raise _einval(f"{name(option)} must be 1 to 255 bytes long")
    if option == _c.BINDTODEVICE and not 0 < len(value) < 16:
        raise _einval("BINDTODEVICE takes an interface name of 1 to 15 bytes")
    if option in (_c.TCP_ACCEPT_FILTER, _c.SOCKS_PROXY) and not value:
        raise _einval(f"{name(option)} may not be empty")
    if option == _c.TCP_ACCEPT_FILTER:
        parse_accept_filter(value)
    if option in UNSUPPORTED and value:
        raise ZMQError(_c.ENOTSUP, UNSUPPORTED[option])
    return value


def parse_accept_filter(value: bytes) -> Any:
    """TCP_ACCEPT_FILTER: an address or CIDR network (EINVAL if malformed)."""
    import ipaddress

    try:
        return ipaddress.ip_network(value.decode("ascii"), strict=False)
    except (ValueError, UnicodeDecodeError):
        raise _einval(f"Invalid TCP_ACCEPT_FILTER {value!r}") from None


def check_get(option: int, socket_type: int) -> Row:
    """The row for getsockopt(option): EINVAL for unknown and write-only options."""
    row = row_for(option, socket_type)
    if row.mode == "w":
        raise _einval(f"Socket option {name(option)} is write-only")
    return row


def default(option: int, socket_type: int) -> Any:
    if option == _c.LINGER and socket_type in (SUB, XSUB):
        return 0  # libzmq: a subscriber does not linger on its subscriptions
    row = ROWS.get(option)
    return row.default if row is not None else 0

"""ZeroMQ's names and numbers, as pyzmq exposes them.

Theory of operation
-------------------
The numeric values are libzmq's public ABI (``zmq.h`` of libzmq 4.3.5, draft
section included): socket types, option numbers, flags, monitor events and the
ZeroMQ-specific errnos (``ZMQ_HAUSNUMERO + n``). POSIX errnos are the platform's
own, read from the :mod:`errno` module, exactly as libzmq uses ``errno.h``.

They are grouped in the same ``IntEnum``/``IntFlag`` classes as pyzmq
(``SocketType``, ``SocketOption``...). Every member is also a module-level name
(``PUSH is SocketType.PUSH``); that block, at the bottom of this file, is written
by ``tools/gen_constants.py`` from the enums and must not be edited by hand.

Option typing: each :class:`SocketOption` member carries ``_opt_type`` (pyzmq's
convention): C ``int``, ``int64``, ``bytes`` or ``fd``. ``OPTION_TYPES`` maps option
number to that type name, and the pyzmq-era sets ``int_sockopts`` etc. are derived
from it. ``SOCKOPT_RANGES`` / ``CTXOPT_RANGES`` give the closed interval of values
libzmq accepts for an int option (measured against libzmq 4.3.5 through pyzmq; the
tests re-check each one against the real library).

This module never imports pyzmq.
"""

from __future__ import annotations

import errno as _errno
import sys
from enum import Enum, IntEnum, IntFlag

_HAUSNUMERO = 156384712

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)


def _posix(name: str, offset: int) -> int:
    """The platform's errno for ``name``, or libzmq's fallback when it has none."""
    return getattr(_errno, name, _HAUSNUMERO + offset)


class Errno(IntEnum):
    """Error numbers raised as ``ZMQError.errno``."""

    EAGAIN = _errno.EAGAIN
    EFAULT = _errno.EFAULT
    EINVAL = _errno.EINVAL
    ENOTSUP = _posix("ENOTSUP", 1)
    EPROTONOSUPPORT = _posix("EPROTONOSUPPORT", 2)
    ENOBUFS = _posix("ENOBUFS", 3)
    ENETDOWN = _posix("ENETDOWN", 4)
    EADDRINUSE = _posix("EADDRINUSE", 5)
    EADDRNOTAVAIL = _posix("EADDRNOTAVAIL", 6)
    ECONNREFUSED = _posix("ECONNREFUSED", 7)
    EINPROGRESS = _posix("EINPROGRESS", 8)
    ENOTSOCK = _posix("ENOTSOCK", 9)
    EMSGSIZE = _posix("EMSGSIZE", 10)
    EAFNOSUPPORT = _posix("EAFNOSUPPORT", 11)
    ENETUNREACH = _posix("ENETUNREACH", 12)
    ECONNABORTED = _posix("ECONNABORTED", 13)
    ECONNRESET = _posix("ECONNRESET", 14)
    ENOTCONN = _posix("ENOTCONN", 15)
    ETIMEDOUT = _posix("ETIMEDOUT", 16)
    EHOSTUNREACH = _posix("EHOSTUNREACH", 17)
    ENETRESET = _posix("ENETRESET", 18)

    # ZeroMQ's own error numbers
    EFSM = _HAUSNUMERO + 51
    ENOCOMPATPROTO = _HAUSNUMERO + 52
    ETERM = _HAUSNUMERO + 53
    EMTHREAD = _HAUSNUMERO + 54

    # POSIX errnos libzmq also reports (not in pyzmq's enum; fastzmq extras)
    EINTR = _errno.EINTR
    ENOENT = _errno.ENOENT
    ENOMEM = _errno.ENOMEM
    ENODEV = _errno.ENODEV
    EMFILE = _errno.EMFILE


class ContextOption(IntEnum):
    """Options for ``Context.get``/``Context.set``."""

    IO_THREADS = 1
    MAX_SOCKETS = 2
    SOCKET_LIMIT = 3
    THREAD_PRIORITY = 3
    THREAD_SCHED_POLICY = 4
    MAX_MSGSZ = 5
    MSG_T_SIZE = 6
    THREAD_AFFINITY_CPU_ADD = 7
    THREAD_AFFINITY_CPU_REMOVE = 8
    THREAD_NAME_PREFIX = 9
    # libzmq context options pyzmq leaves out of this enum (fastzmq extras);
    # the module-level BLOCKY and IPV6 stay the SocketOption members, same numbers.
    ZERO_COPY_RECV = 10
    IPV6 = 42
    BLOCKY = 70


class SocketType(IntEnum):
    """Socket types, the argument of ``Context.socket``."""

    PAIR = 0
    PUB = 1
    SUB = 2
    REQ = 3
    REP = 4
    DEALER = 5
    ROUTER = 6
    PULL = 7
    PUSH = 8
    XPUB = 9
    XSUB = 10
    STREAM = 11
    # deprecated aliases
    XREQ = DEALER
    XREP = ROUTER
    # draft socket types
    SERVER = 12
    CLIENT = 13
    RADIO = 14
    DISH = 15
    GATHER = 16
    SCATTER = 17
    DGRAM = 18
    PEER = 19
    CHANNEL = 20


class _OptType(Enum):
    """How an option's value travels through setsockopt/getsockopt."""

    int = "int"
    int64 = "int64"
    bytes = "bytes"
    fd = "fd"


_I = _OptType.int
_I64 = _OptType.int64
_B = _OptType.bytes


class SocketOption(IntEnum):
    """Options for ``Socket.get``/``Socket.set``; each member has ``_opt_type``."""

    _opt_type: _OptType

    def __new__(cls, value: int, opt_type: _OptType = _I) -> SocketOption:
        member = int.__new__(cls, value)
        member._value_ = value
        member._opt_type = opt_type
        return member

    HWM = 1  # pyzmq's virtual option: SNDHWM and RCVHWM together
    AFFINITY = 4, _I64
    ROUTING_ID = 5, _B
    SUBSCRIBE = 6, _B
    UNSUBSCRIBE = 7, _B
    RATE = 8
    RECOVERY_IVL = 9
    SNDBUF = 11
    RCVBUF = 12
    RCVMORE = 13
    FD = 14, _OptType.fd
    EVENTS = 15
    TYPE = 16
    LINGER = 17
    RECONNECT_IVL = 18
    BACKLOG = 19
    RECONNECT_IVL_MAX = 21
    MAXMSGSIZE = 22, _I64
    SNDHWM = 23
    RCVHWM = 24
    MULTICAST_HOPS = 25
    RCVTIMEO = 27
    SNDTIMEO = 28
    LAST_ENDPOINT = 32, _B
    ROUTER_MANDATORY = 33
    TCP_KEEPALIVE = 34
    TCP_KEEPALIVE_CNT = 35
    TCP_KEEPALIVE_IDLE = 36
    TCP_KEEPALIVE_INTVL = 37
    IMMEDIATE = 39
    XPUB_VERBOSE = 40
    ROUTER_RAW = 41
    IPV6 = 42
    MECHANISM = 43
    PLAIN_SERVER = 44
    PLAIN_USERNAME = 45, _B
    PLAIN_PASSWORD = 46, _B
    CURVE_SERVER = 47
    CURVE_PUBLICKEY = 48, _B
    CURVE_SECRETKEY = 49, _B
    CURVE_SERVERKEY = 50, _B
    PROBE_ROUTER = 51
    REQ_CORRELATE = 52
    REQ_RELAXED = 53
    CONFLATE = 54
    ZAP_DOMAIN = 55, _B
    ROUTER_HANDOVER = 56
    TOS = 57
    CONNECT_ROUTING_ID = 61, _B
    GSSAPI_SERVER = 62
    GSSAPI_PRINCIPAL = 63, _B
    GSSAPI_SERVICE_PRINCIPAL = 64, _B
    GSSAPI_PLAINTEXT = 65
    HANDSHAKE_IVL = 66
    SOCKS_PROXY = 68, _B
    XPUB_NODROP = 69
    BLOCKY = 70
    XPUB_MANUAL = 71
    XPUB_WELCOME_MSG = 72, _B
    STREAM_NOTIFY = 73
    INVERT_MATCHING = 74
    HEARTBEAT_IVL = 75
    HEARTBEAT_TTL = 76
    HEARTBEAT_TIMEOUT = 77
    XPUB_VERBOSER = 78
    CONNECT_TIMEOUT = 79
    TCP_MAXRT = 80
    THREAD_SAFE = 81
    MULTICAST_MAXTPDU = 84
    VMCI_BUFFER_SIZE = 85, _I64
    VMCI_BUFFER_MIN_SIZE = 86, _I64
    VMCI_BUFFER_MAX_SIZE = 87, _I64
    VMCI_CONNECT_TIMEOUT = 88
    USE_FD = 89
    GSSAPI_PRINCIPAL_NAMETYPE = 90
    GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = 91
    BINDTODEVICE = 92, _B

    # deprecated names and options
    IDENTITY = ROUTING_ID
    CONNECT_RID = CONNECT_ROUTING_ID
    TCP_ACCEPT_FILTER = 38, _B
    IPC_FILTER_PID = 58
    IPC_FILTER_UID = 59
    IPC_FILTER_GID = 60
    IPV4ONLY = 31
    DELAY_ATTACH_ON_CONNECT = IMMEDIATE
    FAIL_UNROUTABLE = ROUTER_MANDATORY
    ROUTER_BEHAVIOR = ROUTER_MANDATORY

    # draft options
    ZAP_ENFORCE_DOMAIN = 93
    LOOPBACK_FASTPATH = 94
    METADATA = 95, _B
    MULTICAST_LOOP = 96
    ROUTER_NOTIFY = 97
    XPUB_MANUAL_LAST_VALUE = 98
    SOCKS_USERNAME = 99, _B
    SOCKS_PASSWORD = 100, _B
    IN_BATCH_SIZE = 101
    OUT_BATCH_SIZE = 102
    WSS_KEY_PEM = 103, _B
    WSS_CERT_PEM = 104, _B
    WSS_TRUST_PEM = 105, _B
    WSS_HOSTNAME = 106, _B
    WSS_TRUST_SYSTEM = 107
    ONLY_FIRST_SUBSCRIBE = 108
    RECONNECT_STOP = 109
    HELLO_MSG = 110, _B
    DISCONNECT_MSG = 111, _B
    PRIORITY = 112
    BUSY_POLL = 113
    HICCUP_MSG = 114, _B
    XSUB_VERBOSE_UNSUBSCRIBE = 115
    TOPICS_COUNT = 116
    NORM_MODE = 117
    NORM_UNICAST_NACK = 118
    NORM_BUFFER_SIZE = 119
    NORM_SEGMENT_SIZE = 120
    NORM_BLOCK_SIZE = 121
    NORM_NUM_PARITY = 122
    NORM_NUM_AUTOPARITY = 123
    NORM_PUSH = 124


class MessageOption(IntEnum):
    """Options of ``Frame.get``."""

    MORE = 1
    SHARED = 3
    SRCFD = 2  # deprecated


class Flag(IntFlag):
    """send/recv flags."""

    DONTWAIT = 1
    SNDMORE = 2
    NOBLOCK = DONTWAIT


class RouterNotify(IntEnum):
    """Values of the ROUTER_NOTIFY option (module-level names ``NOTIFY_*``)."""

    CONNECT = 1
    DISCONNECT = 2


class NormMode(IntEnum):
    """Values of the NORM_MODE option (module-level names ``NORM_*``)."""

    FIXED = 0
    CC = 1
    CCL = 2
    CCE = 3
    CCE_ECNONLY = 4


class SecurityMechanism(IntEnum):
    """Values of the MECHANISM option."""

    NULL = 0
    PLAIN = 1
    CURVE = 2
    GSSAPI = 3


class ReconnectStop(IntEnum):
    """Bits of the RECONNECT_STOP option (module-level names ``RECONNECT_STOP_*``)."""

    CONN_REFUSED = 0x1
    HANDSHAKE_FAILED = 0x2
    AFTER_DISCONNECT = 0x4


class Event(IntFlag):
    """Socket monitor events (module-level names ``EVENT_*``) and protocol error codes."""

    PROTOCOL_ERROR_WS_UNSPECIFIED = 0x30000000
    PROTOCOL_ERROR_ZMTP_UNSPECIFIED = 0x10000000
    PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND = 0x10000001
    PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE = 0x10000002
    PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE = 0x10000003
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY = 0x10000016
    PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
    PROTOCOL_ERROR_ZMTP_INVALID_METADATA = 0x10000018
    PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC = 0x11000001
    PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH = 0x11000002
    PROTOCOL_ERROR_ZAP_UNSPECIFIED = 0x20000000
    PROTOCOL_ERROR_ZAP_MALFORMED_REPLY = 0x20000001
    PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID = 0x20000002
    PROTOCOL_ERROR_ZAP_BAD_VERSION = 0x20000003
    PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE = 0x20000004
    PROTOCOL_ERROR_ZAP_INVALID_METADATA = 0x20000005

    CONNECTED = 0x0001
    CONNECT_DELAYED = 0x0002
    CONNECT_RETRIED = 0x0004
    LISTENING = 0x0008
    BIND_FAILED = 0x0010
    ACCEPTED = 0x0020
    ACCEPT_FAILED = 0x0040
    CLOSED = 0x0080
    CLOSE_FAILED = 0x0100
    DISCONNECTED = 0x0200
    MONITOR_STOPPED = 0x0400
    HANDSHAKE_FAILED_NO_DETAIL = 0x0800
    HANDSHAKE_SUCCEEDED = 0x1000
    HANDSHAKE_FAILED_PROTOCOL = 0x2000
    HANDSHAKE_FAILED_AUTH = 0x4000
    ALL_V1 = 0xFFFF
    ALL = ALL_V1
    # draft
    PIPES_STATS = 0x10000
    ALL_V2 = ALL_V1 | PIPES_STATS


class PollEvent(IntFlag):
    """Event bits of poll, ``Socket.poll`` and the EVENTS option."""

    POLLIN = 1
    POLLOUT = 2
    POLLERR = 4
    POLLPRI = 8


class DeviceType(IntEnum):
    """Device types of ``zmq.device``."""

    STREAMER = 1
    FORWARDER = 2
    QUEUE = 3


# ---------------------------------------------------------------------------
# module-level names: which prefix each enum's members get

_GLOBAL_PREFIX = {RouterNotify: "NOTIFY_", NormMode: "NORM_", ReconnectStop: "RECONNECT_STOP_"}

# enums whose members are exported, in precedence order (first wins on a name clash)
EXPORTED_ENUMS = (
    SocketOption,
    ContextOption,
    DeviceType,
    Errno,
    Event,
    Flag,
    MessageOption,
    NormMode,
    PollEvent,
    ReconnectStop,
    RouterNotify,
    SecurityMechanism,
    SocketType,
)


def _global_name(enum_cls: type, name: str) -> str:
    """The module-level name of ``enum_cls.name``, following pyzmq."""
    if enum_cls is Event:
        return name if name.startswith("PROTOCOL_ERROR_") else "EVENT_" + name
    return _GLOBAL_PREFIX.get(enum_cls, "") + name


# ---------------------------------------------------------------------------
# option typing

OPTION_TYPES: dict[int, str] = {int(o): o._opt_type.value for o in SocketOption}


def _typed(kind: str) -> frozenset:
    return frozenset(SocketOption(n) for n, t in OPTION_TYPES.items() if t == kind)


int_sockopts = _typed("int")
int64_sockopts = _typed("int64")
bytes_sockopts = _typed("bytes")
fd_sockopts = _typed("fd")
ctx_opts = frozenset(ContextOption)
msg_opts = frozenset(MessageOption)

# options that can only be read (setsockopt raises EINVAL)
READONLY_SOCKOPTS = frozenset(
    {
        SocketOption.RCVMORE,
        SocketOption.FD,
        SocketOption.EVENTS,
        SocketOption.TYPE,
        SocketOption.LAST_ENDPOINT,
        SocketOption.MECHANISM,
        SocketOption.THREAD_SAFE,
        SocketOption.TOPICS_COUNT,
    }
)


def _ranges(pairs: dict) -> dict[int, tuple[int, int]]:
    """Expand {(lo, hi): [options]} into {option: (lo, hi)}."""
    return {opt: bounds for bounds, opts in pairs.items() for opt in opts}


_S = SocketOption
# closed intervals of values libzmq 4.3.5 accepts for int options; options absent
# here take any C int (or int64). Booleans marked "relaxed" take any value >= 0.
SOCKOPT_RANGES: dict[int, tuple[int, int]] = _ranges(
    {
        (0, 1): [
            _S.IMMEDIATE,
            _S.IPV6,
            _S.IPV4ONLY,
            _S.CONFLATE,
            _S.PLAIN_SERVER,
            _S.CURVE_SERVER,
            _S.GSSAPI_SERVER,
            _S.GSSAPI_PLAINTEXT,
            _S.STREAM_NOTIFY,
        ],
        (-1, 1): [_S.TCP_KEEPALIVE],
        (-1, INT_MAX): [
            _S.SNDBUF,
            _S.RCVBUF,
            _S.LINGER,
            _S.RECONNECT_IVL,
            _S.RCVTIMEO,
            _S.SNDTIMEO,
            _S.TCP_KEEPALIVE_CNT,
            _S.TCP_KEEPALIVE_IDLE,
            _S.TCP_KEEPALIVE_INTVL,
            _S.USE_FD,
        ],
        (0, INT_MAX): [
            _S.HWM,
            _S.SNDHWM,
            _S.RCVHWM,
            _S.RECOVERY_IVL,
            _S.BACKLOG,
            _S.RECONNECT_IVL_MAX,
            _S.TOS,
            _S.HANDSHAKE_IVL,
            _S.HEARTBEAT_IVL,
            _S.HEARTBEAT_TIMEOUT,
            _S.CONNECT_TIMEOUT,
            _S.TCP_MAXRT,
            # relaxed booleans
            _S.PROBE_ROUTER,
            _S.REQ_CORRELATE,
            _S.REQ_RELAXED,
            _S.ROUTER_MANDATORY,
            _S.ROUTER_RAW,
            _S.ROUTER_HANDOVER,
            _S.XPUB_VERBOSE,
            _S.XPUB_VERBOSER,
            _S.XPUB_NODROP,
            _S.XPUB_MANUAL,
            _S.XPUB_MANUAL_LAST_VALUE,
            _S.ONLY_FIRST_SUBSCRIBE,
        ],
        (1, INT_MAX): [_S.RATE, _S.MULTICAST_HOPS, _S.MULTICAST_MAXTPDU],
        # libzmq stores the TTL in deciseconds in 16 bits and divides by 100 first,
        # so -99..-1 round to 0 and are accepted
        (-99, 65535 * 100 + 99): [_S.HEARTBEAT_TTL],
    }
)

_C = ContextOption
CTXOPT_RANGES: dict[int, tuple[int, int]] = _ranges(
    {
        (0, INT_MAX): [
            _C.IO_THREADS,
            _C.THREAD_PRIORITY,
            _C.THREAD_SCHED_POLICY,
            _C.MAX_MSGSZ,
            _C.THREAD_AFFINITY_CPU_ADD,
            _C.THREAD_AFFINITY_CPU_REMOVE,
            _C.ZERO_COPY_RECV,
            _C.IPV6,
            _C.BLOCKY,
        ],
        (1, INT_MAX): [_C.MAX_SOCKETS],
    }
)
del _S, _C


def option_in_range(option: int, value: int, ranges: dict = SOCKOPT_RANGES) -> bool:
    """True if ``value`` is acceptable for int ``option`` (unbounded options: C int)."""
    lo, hi = ranges.get(option, (INT_MIN, INT_MAX))
    return lo <= value <= hi


# ---------------------------------------------------------------------------
# pyzmq's other module-level numbers and the version/capability queries

COPY_THRESHOLD = 65536  # Frame(copy=None) shares buffers at least this long
DRAFT_API = True  # the draft socket types (CLIENT, RADIO...) ship in every build
PYZMQ_DRAFT_API = DRAFT_API
IPC_PATH_MAX_LEN = 103 if sys.platform == "darwin" else 107  # sizeof(sun_path) - 1

_ZMQ_VERSION_INFO = (4, 3, 5)
_PYZMQ_VERSION_INFO = (27, 2, 0)  # the pyzmq release whose API fastzmq follows


def zmq_version_info() -> tuple[int, int, int]:
    """The libzmq API level fastzmq emulates."""
    return _ZMQ_VERSION_INFO


def zmq_version() -> str:
    return ".".join(str(n) for n in _ZMQ_VERSION_INFO)


def pyzmq_version_info() -> tuple[int, int, int]:
    """The pyzmq API level fastzmq tracks."""
    return _PYZMQ_VERSION_INFO


def pyzmq_version() -> str:
    return ".".join(str(n) for n in _PYZMQ_VERSION_INFO)


def _have_nacl() -> bool:
    try:
        import nacl.bindings  # noqa: F401
    except ImportError:
        return False
    return True


def has(capability: str) -> bool:
    """Whether fastzmq provides a transport, mechanism or API ('ipc', 'curve'...)."""
    if capability == "curve":
        return _have_nacl()
    if capability == "ipc":
        return sys.platform != "win32"
    if capability == "draft":
        return DRAFT_API
    if capability == "pgm":
        # epgm://, and pgm:// where raw sockets are allowed (CAP_NET_RAW); Linux builds only
        from fastzmq import _pgm_transport

        return _pgm_transport.available()
    return False  # tipc, norm, gssapi, vmci and anything unknown


# AUTOGENERATED BELOW BY tools/gen_constants.py: DO NOT EDIT

HWM: SocketOption = SocketOption.HWM
AFFINITY: SocketOption = SocketOption.AFFINITY
ROUTING_ID: SocketOption = SocketOption.ROUTING_ID
SUBSCRIBE: SocketOption = SocketOption.SUBSCRIBE
UNSUBSCRIBE: SocketOption = SocketOption.UNSUBSCRIBE
RATE: SocketOption = SocketOption.RATE
RECOVERY_IVL: SocketOption = SocketOption.RECOVERY_IVL
SNDBUF: SocketOption = SocketOption.SNDBUF
RCVBUF: SocketOption = SocketOption.RCVBUF
RCVMORE: SocketOption = SocketOption.RCVMORE
FD: SocketOption = SocketOption.FD
EVENTS: SocketOption = SocketOption.EVENTS
TYPE: SocketOption = SocketOption.TYPE
LINGER: SocketOption = SocketOption.LINGER
RECONNECT_IVL: SocketOption = SocketOption.RECONNECT_IVL
BACKLOG: SocketOption = SocketOption.BACKLOG
RECONNECT_IVL_MAX: SocketOption = SocketOption.RECONNECT_IVL_MAX
MAXMSGSIZE: SocketOption = SocketOption.MAXMSGSIZE
SNDHWM: SocketOption = SocketOption.SNDHWM
RCVHWM: SocketOption = SocketOption.RCVHWM
MULTICAST_HOPS: SocketOption = SocketOption.MULTICAST_HOPS
RCVTIMEO: SocketOption = SocketOption.RCVTIMEO
SNDTIMEO: SocketOption = SocketOption.SNDTIMEO
LAST_ENDPOINT: SocketOption = SocketOption.LAST_ENDPOINT
ROUTER_MANDATORY: SocketOption = SocketOption.ROUTER_MANDATORY
TCP_KEEPALIVE: SocketOption = SocketOption.TCP_KEEPALIVE
TCP_KEEPALIVE_CNT: SocketOption = SocketOption.TCP_KEEPALIVE_CNT
TCP_KEEPALIVE_IDLE: SocketOption = SocketOption.TCP_KEEPALIVE_IDLE
TCP_KEEPALIVE_INTVL: SocketOption = SocketOption.TCP_KEEPALIVE_INTVL
IMMEDIATE: SocketOption = SocketOption.IMMEDIATE
XPUB_VERBOSE: SocketOption = SocketOption.XPUB_VERBOSE
ROUTER_RAW: SocketOption = SocketOption.ROUTER_RAW
IPV6: SocketOption = SocketOption.IPV6
MECHANISM: SocketOption = SocketOption.MECHANISM
PLAIN_SERVER: SocketOption = SocketOption.PLAIN_SERVER
PLAIN_USERNAME: SocketOption = SocketOption.PLAIN_USERNAME
PLAIN_PASSWORD: SocketOption = SocketOption.PLAIN_PASSWORD
CURVE_SERVER: SocketOption = SocketOption.CURVE_SERVER
CURVE_PUBLICKEY: SocketOption = SocketOption.CURVE_PUBLICKEY
CURVE_SECRETKEY: SocketOption = SocketOption.CURVE_SECRETKEY
CURVE_SERVERKEY: SocketOption = SocketOption.CURVE_SERVERKEY
PROBE_ROUTER: SocketOption = SocketOption.PROBE_ROUTER
REQ_CORRELATE: SocketOption = SocketOption.REQ_CORRELATE
REQ_RELAXED: SocketOption = SocketOption.REQ_RELAXED
CONFLATE: SocketOption = SocketOption.CONFLATE
ZAP_DOMAIN: SocketOption = SocketOption.ZAP_DOMAIN
ROUTER_HANDOVER: SocketOption = SocketOption.ROUTER_HANDOVER
TOS: SocketOption = SocketOption.TOS
CONNECT_ROUTING_ID: SocketOption = SocketOption.CONNECT_ROUTING_ID
GSSAPI_SERVER: SocketOption = SocketOption.GSSAPI_SERVER
GSSAPI_PRINCIPAL: SocketOption = SocketOption.GSSAPI_PRINCIPAL
GSSAPI_SERVICE_PRINCIPAL: SocketOption = SocketOption.GSSAPI_SERVICE_PRINCIPAL
GSSAPI_PLAINTEXT: SocketOption = SocketOption.GSSAPI_PLAINTEXT
HANDSHAKE_IVL: SocketOption = SocketOption.HANDSHAKE_IVL
SOCKS_PROXY: SocketOption = SocketOption.SOCKS_PROXY
XPUB_NODROP: SocketOption = SocketOption.XPUB_NODROP
BLOCKY: SocketOption = SocketOption.BLOCKY
XPUB_MANUAL: SocketOption = SocketOption.XPUB_MANUAL
XPUB_WELCOME_MSG: SocketOption = SocketOption.XPUB_WELCOME_MSG
STREAM_NOTIFY: SocketOption = SocketOption.STREAM_NOTIFY
INVERT_MATCHING: SocketOption = SocketOption.INVERT_MATCHING
HEARTBEAT_IVL: SocketOption = SocketOption.HEARTBEAT_IVL
HEARTBEAT_TTL: SocketOption = SocketOption.HEARTBEAT_TTL
HEARTBEAT_TIMEOUT: SocketOption = SocketOption.HEARTBEAT_TIMEOUT
XPUB_VERBOSER: SocketOption = SocketOption.XPUB_VERBOSER
CONNECT_TIMEOUT: SocketOption = SocketOption.CONNECT_TIMEOUT
TCP_MAXRT: SocketOption = SocketOption.TCP_MAXRT
THREAD_SAFE: SocketOption = SocketOption.THREAD_SAFE
MULTICAST_MAXTPDU: SocketOption = SocketOption.MULTICAST_MAXTPDU
VMCI_BUFFER_SIZE: SocketOption = SocketOption.VMCI_BUFFER_SIZE
VMCI_BUFFER_MIN_SIZE: SocketOption = SocketOption.VMCI_BUFFER_MIN_SIZE
VMCI_BUFFER_MAX_SIZE: SocketOption = SocketOption.VMCI_BUFFER_MAX_SIZE
VMCI_CONNECT_TIMEOUT: SocketOption = SocketOption.VMCI_CONNECT_TIMEOUT
USE_FD: SocketOption = SocketOption.USE_FD
GSSAPI_PRINCIPAL_NAMETYPE: SocketOption = SocketOption.GSSAPI_PRINCIPAL_NAMETYPE
GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: SocketOption = SocketOption.GSSAPI_SERVICE_PRINCIPAL_NAMETYPE
BINDTODEVICE: SocketOption = SocketOption.BINDTODEVICE
IDENTITY: SocketOption = SocketOption.IDENTITY
CONNECT_RID: SocketOption = SocketOption.CONNECT_RID
TCP_ACCEPT_FILTER: SocketOption = SocketOption.TCP_ACCEPT_FILTER
IPC_FILTER_PID: SocketOption = SocketOption.IPC_FILTER_PID
IPC_FILTER_UID: SocketOption = SocketOption.IPC_FILTER_UID
IPC_FILTER_GID: SocketOption = SocketOption.IPC_FILTER_GID
IPV4ONLY: SocketOption = SocketOption.IPV4ONLY
DELAY_ATTACH_ON_CONNECT: SocketOption = SocketOption.DELAY_ATTACH_ON_CONNECT
FAIL_UNROUTABLE: SocketOption = SocketOption.FAIL_UNROUTABLE
ROUTER_BEHAVIOR: SocketOption = SocketOption.ROUTER_BEHAVIOR
ZAP_ENFORCE_DOMAIN: SocketOption = SocketOption.ZAP_ENFORCE_DOMAIN
LOOPBACK_FASTPATH: SocketOption = SocketOption.LOOPBACK_FASTPATH
METADATA: SocketOption = SocketOption.METADATA
MULTICAST_LOOP: SocketOption = SocketOption.MULTICAST_LOOP
ROUTER_NOTIFY: SocketOption = SocketOption.ROUTER_NOTIFY
XPUB_MANUAL_LAST_VALUE: SocketOption = SocketOption.XPUB_MANUAL_LAST_VALUE
SOCKS_USERNAME: SocketOption = SocketOption.SOCKS_USERNAME
SOCKS_PASSWORD: SocketOption = SocketOption.SOCKS_PASSWORD
IN_BATCH_SIZE: SocketOption = SocketOption.IN_BATCH_SIZE
OUT_BATCH_SIZE: SocketOption = SocketOption.OUT_BATCH_SIZE
WSS_KEY_PEM: SocketOption = SocketOption.WSS_KEY_PEM
WSS_CERT_PEM: SocketOption = SocketOption.WSS_CERT_PEM
WSS_TRUST_PEM: SocketOption = SocketOption.WSS_TRUST_PEM
WSS_HOSTNAME: SocketOption = SocketOption.WSS_HOSTNAME
WSS_TRUST_SYSTEM: SocketOption = SocketOption.WSS_TRUST_SYSTEM
ONLY_FIRST_SUBSCRIBE: SocketOption = SocketOption.ONLY_FIRST_SUBSCRIBE
RECONNECT_STOP: SocketOption = SocketOption.RECONNECT_STOP
HELLO_MSG: SocketOption = SocketOption.HELLO_MSG
DISCONNECT_MSG: SocketOption = SocketOption.DISCONNECT_MSG
PRIORITY: SocketOption = SocketOption.PRIORITY
BUSY_POLL: SocketOption = SocketOption.BUSY_POLL
HICCUP_MSG: SocketOption = SocketOption.HICCUP_MSG
XSUB_VERBOSE_UNSUBSCRIBE: SocketOption = SocketOption.XSUB_VERBOSE_UNSUBSCRIBE
TOPICS_COUNT: SocketOption = SocketOption.TOPICS_COUNT
NORM_MODE: SocketOption = SocketOption.NORM_MODE
NORM_UNICAST_NACK: SocketOption = SocketOption.NORM_UNICAST_NACK
NORM_BUFFER_SIZE: SocketOption = SocketOption.NORM_BUFFER_SIZE
NORM_SEGMENT_SIZE: SocketOption = SocketOption.NORM_SEGMENT_SIZE
NORM_BLOCK_SIZE: SocketOption = SocketOption.NORM_BLOCK_SIZE
NORM_NUM_PARITY: SocketOption = SocketOption.NORM_NUM_PARITY
NORM_NUM_AUTOPARITY: SocketOption = SocketOption.NORM_NUM_AUTOPARITY
NORM_PUSH: SocketOption = SocketOption.NORM_PUSH
IO_THREADS: ContextOption = ContextOption.IO_THREADS
MAX_SOCKETS: ContextOption = ContextOption.MAX_SOCKETS
SOCKET_LIMIT: ContextOption = ContextOption.SOCKET_LIMIT
THREAD_PRIORITY: ContextOption = ContextOption.THREAD_PRIORITY
THREAD_SCHED_POLICY: ContextOption = ContextOption.THREAD_SCHED_POLICY
MAX_MSGSZ: ContextOption = ContextOption.MAX_MSGSZ
MSG_T_SIZE: ContextOption = ContextOption.MSG_T_SIZE
THREAD_AFFINITY_CPU_ADD: ContextOption = ContextOption.THREAD_AFFINITY_CPU_ADD
THREAD_AFFINITY_CPU_REMOVE: ContextOption = ContextOption.THREAD_AFFINITY_CPU_REMOVE
THREAD_NAME_PREFIX: ContextOption = ContextOption.THREAD_NAME_PREFIX
ZERO_COPY_RECV: ContextOption = ContextOption.ZERO_COPY_RECV
STREAMER: DeviceType = DeviceType.STREAMER
FORWARDER: DeviceType = DeviceType.FORWARDER
QUEUE: DeviceType = DeviceType.QUEUE
EAGAIN: Errno = Errno.EAGAIN
EFAULT: Errno = Errno.EFAULT
EINVAL: Errno = Errno.EINVAL
ENOTSUP: Errno = Errno.ENOTSUP
EPROTONOSUPPORT: Errno = Errno.EPROTONOSUPPORT
ENOBUFS: Errno = Errno.ENOBUFS
ENETDOWN: Errno = Errno.ENETDOWN
EADDRINUSE: Errno = Errno.EADDRINUSE
EADDRNOTAVAIL: Errno = Errno.EADDRNOTAVAIL
ECONNREFUSED: Errno = Errno.ECONNREFUSED
EINPROGRESS: Errno = Errno.EINPROGRESS
ENOTSOCK: Errno = Errno.ENOTSOCK
EMSGSIZE: Errno = Errno.EMSGSIZE
EAFNOSUPPORT: Errno = Errno.EAFNOSUPPORT
ENETUNREACH: Errno = Errno.ENETUNREACH
ECONNABORTED: Errno = Errno.ECONNABORTED
ECONNRESET: Errno = Errno.ECONNRESET
ENOTCONN: Errno = Errno.ENOTCONN
ETIMEDOUT: Errno = Errno.ETIMEDOUT
EHOSTUNREACH: Errno = Errno.EHOSTUNREACH
ENETRESET: Errno = Errno.ENETRESET
EFSM: Errno = Errno.EFSM
ENOCOMPATPROTO: Errno = Errno.ENOCOMPATPROTO
ETERM: Errno = Errno.ETERM
EMTHREAD: Errno = Errno.EMTHREAD
EINTR: Errno = Errno.EINTR
ENOENT: Errno = Errno.ENOENT
ENOMEM: Errno = Errno.ENOMEM
ENODEV: Errno = Errno.ENODEV
EMFILE: Errno = Errno.EMFILE
PROTOCOL_ERROR_WS_UNSPECIFIED: Event = Event.PROTOCOL_ERROR_WS_UNSPECIFIED
PROTOCOL_ERROR_ZMTP_UNSPECIFIED: Event = Event.PROTOCOL_ERROR_ZMTP_UNSPECIFIED
PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: Event = Event.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE: Event = Event.PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE
PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: Event = Event.PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE
PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED: Event = (
    Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED
)
PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE: Event = (
    Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE
)
PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO: Event = (
    Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO
)
PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE: Event = (
    Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE
)
PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR: Event = (
    Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR
)
PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY: Event = (
    Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY
)
PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME: Event = (
    Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME
)
PROTOCOL_ERROR_ZMTP_INVALID_METADATA: Event = Event.PROTOCOL_ERROR_ZMTP_INVALID_METADATA
PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: Event = Event.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: Event = Event.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
PROTOCOL_ERROR_ZAP_UNSPECIFIED: Event = Event.PROTOCOL_ERROR_ZAP_UNSPECIFIED
PROTOCOL_ERROR_ZAP_MALFORMED_REPLY: Event = Event.PROTOCOL_ERROR_ZAP_MALFORMED_REPLY
PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID: Event = Event.PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID
PROTOCOL_ERROR_ZAP_BAD_VERSION: Event = Event.PROTOCOL_ERROR_ZAP_BAD_VERSION
PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE: Event = Event.PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE
PROTOCOL_ERROR_ZAP_INVALID_METADATA: Event = Event.PROTOCOL_ERROR_ZAP_INVALID_METADATA
EVENT_CONNECTED: Event = Event.CONNECTED
EVENT_CONNECT_DELAYED: Event = Event.CONNECT_DELAYED
EVENT_CONNECT_RETRIED: Event = Event.CONNECT_RETRIED
EVENT_LISTENING: Event = Event.LISTENING
EVENT_BIND_FAILED: Event = Event.BIND_FAILED
EVENT_ACCEPTED: Event = Event.ACCEPTED
EVENT_ACCEPT_FAILED: Event = Event.ACCEPT_FAILED
EVENT_CLOSED: Event = Event.CLOSED
EVENT_CLOSE_FAILED: Event = Event.CLOSE_FAILED
EVENT_DISCONNECTED: Event = Event.DISCONNECTED
EVENT_MONITOR_STOPPED: Event = Event.MONITOR_STOPPED
EVENT_HANDSHAKE_FAILED_NO_DETAIL: Event = Event.HANDSHAKE_FAILED_NO_DETAIL
EVENT_HANDSHAKE_SUCCEEDED: Event = Event.HANDSHAKE_SUCCEEDED
EVENT_HANDSHAKE_FAILED_PROTOCOL: Event = Event.HANDSHAKE_FAILED_PROTOCOL
EVENT_HANDSHAKE_FAILED_AUTH: Event = Event.HANDSHAKE_FAILED_AUTH
EVENT_ALL_V1: Event = Event.ALL_V1
EVENT_ALL: Event = Event.ALL
EVENT_PIPES_STATS: Event = Event.PIPES_STATS
EVENT_ALL_V2: Event = Event.ALL_V2
DONTWAIT: Flag = Flag.DONTWAIT
SNDMORE: Flag = Flag.SNDMORE
NOBLOCK: Flag = Flag.NOBLOCK
MORE: MessageOption = MessageOption.MORE
SHARED: MessageOption = MessageOption.SHARED
SRCFD: MessageOption = MessageOption.SRCFD
NORM_FIXED: NormMode = NormMode.FIXED
NORM_CC: NormMode = NormMode.CC
NORM_CCL: NormMode = NormMode.CCL
NORM_CCE: NormMode = NormMode.CCE
NORM_CCE_ECNONLY: NormMode = NormMode.CCE_ECNONLY
POLLIN: PollEvent = PollEvent.POLLIN
POLLOUT: PollEvent = PollEvent.POLLOUT
POLLERR: PollEvent = PollEvent.POLLERR
POLLPRI: PollEvent = PollEvent.POLLPRI
RECONNECT_STOP_CONN_REFUSED: ReconnectStop = ReconnectStop.CONN_REFUSED
RECONNECT_STOP_HANDSHAKE_FAILED: ReconnectStop = ReconnectStop.HANDSHAKE_FAILED
RECONNECT_STOP_AFTER_DISCONNECT: ReconnectStop = ReconnectStop.AFTER_DISCONNECT
NOTIFY_CONNECT: RouterNotify = RouterNotify.CONNECT
NOTIFY_DISCONNECT: RouterNotify = RouterNotify.DISCONNECT
NULL: SecurityMechanism = SecurityMechanism.NULL
PLAIN: SecurityMechanism = SecurityMechanism.PLAIN
CURVE: SecurityMechanism = SecurityMechanism.CURVE
GSSAPI: SecurityMechanism = SecurityMechanism.GSSAPI
PAIR: SocketType = SocketType.PAIR
PUB: SocketType = SocketType.PUB
SUB: SocketType = SocketType.SUB
REQ: SocketType = SocketType.REQ
REP: SocketType = SocketType.REP
DEALER: SocketType = SocketType.DEALER
ROUTER: SocketType = SocketType.ROUTER
PULL: SocketType = SocketType.PULL
PUSH: SocketType = SocketType.PUSH
XPUB: SocketType = SocketType.XPUB
XSUB: SocketType = SocketType.XSUB
STREAM: SocketType = SocketType.STREAM
XREQ: SocketType = SocketType.XREQ
XREP: SocketType = SocketType.XREP
SERVER: SocketType = SocketType.SERVER
CLIENT: SocketType = SocketType.CLIENT
RADIO: SocketType = SocketType.RADIO
DISH: SocketType = SocketType.DISH
GATHER: SocketType = SocketType.GATHER
SCATTER: SocketType = SocketType.SCATTER
DGRAM: SocketType = SocketType.DGRAM
PEER: SocketType = SocketType.PEER
CHANNEL: SocketType = SocketType.CHANNEL

__all__: list[str] = [
    "SocketOption",
    "ContextOption",
    "DeviceType",
    "Errno",
    "Event",
    "Flag",
    "MessageOption",
    "NormMode",
    "PollEvent",
    "ReconnectStop",
    "RouterNotify",
    "SecurityMechanism",
    "SocketType",
    "HWM",
    "AFFINITY",
    "ROUTING_ID",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "RATE",
    "RECOVERY_IVL",
    "SNDBUF",
    "RCVBUF",
    "RCVMORE",
    "FD",
    "EVENTS",
    "TYPE",
    "LINGER",
    "RECONNECT_IVL",
    "BACKLOG",
    "RECONNECT_IVL_MAX",
    "MAXMSGSIZE",
    "SNDHWM",
    "RCVHWM",
    "MULTICAST_HOPS",
    "RCVTIMEO",
    "SNDTIMEO",
    "LAST_ENDPOINT",
    "ROUTER_MANDATORY",
    "TCP_KEEPALIVE",
    "TCP_KEEPALIVE_CNT",
    "TCP_KEEPALIVE_IDLE",
    "TCP_KEEPALIVE_INTVL",
    "IMMEDIATE",
    "XPUB_VERBOSE",
    "ROUTER_RAW",
    "IPV6",
    "MECHANISM",
    "PLAIN_SERVER",
    "PLAIN_USERNAME",
    "PLAIN_PASSWORD",
    "CURVE_SERVER",
    "CURVE_PUBLICKEY",
    "CURVE_SECRETKEY",
    "CURVE_SERVERKEY",
    "PROBE_ROUTER",
    "REQ_CORRELATE",
    "REQ_RELAXED",
    "CONFLATE",
    "ZAP_DOMAIN",
    "ROUTER_HANDOVER",
    "TOS",
    "CONNECT_ROUTING_ID",
    "GSSAPI_SERVER",
    "GSSAPI_PRINCIPAL",
    "GSSAPI_SERVICE_PRINCIPAL",
    "GSSAPI_PLAINTEXT",
    "HANDSHAKE_IVL",
    "SOCKS_PROXY",
    "XPUB_NODROP",
    "BLOCKY",
    "XPUB_MANUAL",
    "XPUB_WELCOME_MSG",
    "STREAM_NOTIFY",
    "INVERT_MATCHING",
    "HEARTBEAT_IVL",
    "HEARTBEAT_TTL",
    "HEARTBEAT_TIMEOUT",
    "XPUB_VERBOSER",
    "CONNECT_TIMEOUT",
    "TCP_MAXRT",
    "THREAD_SAFE",
    "MULTICAST_MAXTPDU",
    "VMCI_BUFFER_SIZE",
    "VMCI_BUFFER_MIN_SIZE",
    "VMCI_BUFFER_MAX_SIZE",
    "VMCI_CONNECT_TIMEOUT",
    "USE_FD",
    "GSSAPI_PRINCIPAL_NAMETYPE",
    "GSSAPI_SERVICE_PRINCIPAL_NAMETYPE",
    "BINDTODEVICE",
    "IDENTITY",
    "CONNECT_RID",
    "TCP_ACCEPT_FILTER",
    "IPC_FILTER_PID",
    "IPC_FILTER_UID",
    "IPC_FILTER_GID",
    "IPV4ONLY",
    "DELAY_ATTACH_ON_CONNECT",
    "FAIL_UNROUTABLE",
    "ROUTER_BEHAVIOR",
    "ZAP_ENFORCE_DOMAIN",
    "LOOPBACK_FASTPATH",
    "METADATA",
    "MULTICAST_LOOP",
    "ROUTER_NOTIFY",
    "XPUB_MANUAL_LAST_VALUE",
    "SOCKS_USERNAME",
    "SOCKS_PASSWORD",
    "IN_BATCH_SIZE",
    "OUT_BATCH_SIZE",
    "WSS_KEY_PEM",
    "WSS_CERT_PEM",
    "WSS_TRUST_PEM",
    "WSS_HOSTNAME",
    "WSS_TRUST_SYSTEM",
    "ONLY_FIRST_SUBSCRIBE",
    "RECONNECT_STOP",
    "HELLO_MSG",
    "DISCONNECT_MSG",
    "PRIORITY",
    "BUSY_POLL",
    "HICCUP_MSG",
    "XSUB_VERBOSE_UNSUBSCRIBE",
    "TOPICS_COUNT",
    "NORM_MODE",
    "NORM_UNICAST_NACK",
    "NORM_BUFFER_SIZE",
    "NORM_SEGMENT_SIZE",
    "NORM_BLOCK_SIZE",
    "NORM_NUM_PARITY",
    "NORM_NUM_AUTOPARITY",
    "NORM_PUSH",
    "IO_THREADS",
    "MAX_SOCKETS",
    "SOCKET_LIMIT",
    "THREAD_PRIORITY",
    "THREAD_SCHED_POLICY",
    "MAX_MSGSZ",
    "MSG_T_SIZE",
    "THREAD_AFFINITY_CPU_ADD",
    "THREAD_AFFINITY_CPU_REMOVE",
    "THREAD_NAME_PREFIX",
    "ZERO_COPY_RECV",
    "STREAMER",
    "FORWARDER",
    "QUEUE",
    "EAGAIN",
    "EFAULT",
    "EINVAL",
    "ENOTSUP",
    "EPROTONOSUPPORT",
    "ENOBUFS",
    "ENETDOWN",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ECONNREFUSED",
    "EINPROGRESS",
    "ENOTSOCK",
    "EMSGSIZE",
    "EAFNOSUPPORT",
    "ENETUNREACH",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOTCONN",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETRESET",
    "EFSM",
    "ENOCOMPATPROTO",
    "ETERM",
    "EMTHREAD",
    "EINTR",
    "ENOENT",
    "ENOMEM",
    "ENODEV",
    "EMFILE",
    "PROTOCOL_ERROR_WS_UNSPECIFIED",
    "PROTOCOL_ERROR_ZMTP_UNSPECIFIED",
    "PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND",
    "PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE",
    "PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE",
    "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED",
    "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE",
    "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO",
    "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE",
    "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR",
    "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY",
    "PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME",
    "PROTOCOL_ERROR_ZMTP_INVALID_METADATA",
    "PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC",
    "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH",
    "PROTOCOL_ERROR_ZAP_UNSPECIFIED",
    "PROTOCOL_ERROR_ZAP_MALFORMED_REPLY",
    "PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID",
    "PROTOCOL_ERROR_ZAP_BAD_VERSION",
    "PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE",
    "PROTOCOL_ERROR_ZAP_INVALID_METADATA",
    "EVENT_CONNECTED",
    "EVENT_CONNECT_DELAYED",
    "EVENT_CONNECT_RETRIED",
    "EVENT_LISTENING",
    "EVENT_BIND_FAILED",
    "EVENT_ACCEPTED",
    "EVENT_ACCEPT_FAILED",
    "EVENT_CLOSED",
    "EVENT_CLOSE_FAILED",
    "EVENT_DISCONNECTED",
    "EVENT_MONITOR_STOPPED",
    "EVENT_HANDSHAKE_FAILED_NO_DETAIL",
    "EVENT_HANDSHAKE_SUCCEEDED",
    "EVENT_HANDSHAKE_FAILED_PROTOCOL",
    "EVENT_HANDSHAKE_FAILED_AUTH",
    "EVENT_ALL_V1",
    "EVENT_ALL",
    "EVENT_PIPES_STATS",
    "EVENT_ALL_V2",
    "DONTWAIT",
    "SNDMORE",
    "NOBLOCK",
    "MORE",
    "SHARED",
    "SRCFD",
    "NORM_FIXED",
    "NORM_CC",
    "NORM_CCL",
    "NORM_CCE",
    "NORM_CCE_ECNONLY",
    "POLLIN",
    "POLLOUT",
    "POLLERR",
    "POLLPRI",
    "RECONNECT_STOP_CONN_REFUSED",
    "RECONNECT_STOP_HANDSHAKE_FAILED",
    "RECONNECT_STOP_AFTER_DISCONNECT",
    "NOTIFY_CONNECT",
    "NOTIFY_DISCONNECT",
    "NULL",
    "PLAIN",
    "CURVE",
    "GSSAPI",
    "PAIR",
    "PUB",
    "SUB",
    "REQ",
    "REP",
    "DEALER",
    "ROUTER",
    "PULL",
    "PUSH",
    "XPUB",
    "XSUB",
    "STREAM",
    "XREQ",
    "XREP",
    "SERVER",
    "CLIENT",
    "RADIO",
    "DISH",
    "GATHER",
    "SCATTER",
    "DGRAM",
    "PEER",
    "CHANNEL",
    "COPY_THRESHOLD",
    "DRAFT_API",
    "PYZMQ_DRAFT_API",
    "IPC_PATH_MAX_LEN",
    "OPTION_TYPES",
    "READONLY_SOCKOPTS",
    "SOCKOPT_RANGES",
    "CTXOPT_RANGES",
    "option_in_range",
    "has",
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
]

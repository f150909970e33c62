"""The standard workloads: which roles, sockets, transports and sizes.

Each workload is data: its roles (one process each, or one process with two
threads for inproc), which endpoints each binds or connects to, which role's
result is the measurement, and the side-channel gates (a role waits for "go"
until other roles have said "ready"/"synced"). ``procs.py`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

KIB = 1024
STREAM_SIZES = (16, 256, 4 * KIB, 64 * KIB)
SUBS, SUBS_QUICK = 100_000, 10_000  # subscriptions in the subs-* workloads (--quick)
MATCH_MSG_BYTES = 20  # subs-match-tcp: 12-byte topic + 8-byte sequence number


@dataclass(frozen=True)
class RoleSpec:
    name: str  # unique within its workload
    role: str  # a key of roles.ROLES
    binds: Tuple[str, ...] = ()  # endpoint keys it binds and reports ("bound")
    connects: Tuple[str, ...] = ()  # endpoint keys it needs before it starts
    params: Dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Gate:
    waiter: str  # this role blocks until told "go" ...
    needs: Tuple[Tuple[str, str], ...]  # ... once each (role, event) has been reported


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    kind: str  # "throughput" (msgs/s), "latency" (round trips, us) or "rate" (ops/s)
    transport: str  # tcp, ipc or inproc: the endpoints' scheme
    sizes: Tuple[int, ...]
    roles: Tuple[RoleSpec, ...]
    measure: str  # the role whose result is the measurement
    params: Dict[str, object] = field(default_factory=dict)
    gates: Tuple[Gate, ...] = ()
    stops: Tuple[str, ...] = ()  # roles told "stop" once `measure` has its result
    guess_rate: float = 100_000.0  # msgs/s, conservative: sizes the calibration run
    min_count: int = 200
    pattern: str = ""  # the plot groups lines by pattern
    unit: str = "B"  # what `sizes` count: message bytes, or "subs" (subscriptions)
    count_is_size: bool = False  # the run's count is its size (not calibrated)

    def role(self, name: str) -> RoleSpec:
        return next(r for r in self.roles if r.name == name)


def _stream(
    pattern: str, transport: str, types: Tuple[str, str], sizes, curve: bool = False
) -> Workload:
    params = {"send_type": types[0], "recv_type": types[1], "curve": curve}
    name = f"{pattern}-{transport}"
    title = f"{transport} {types[0]} -> {types[1]}, one sender"
    if curve:  # a name no other workload's is a substring of (--only matches substrings)
        name, title = f"{pattern}-curve-{transport}", title + ", CURVE"
    if transport == "inproc":
        roles = (RoleSpec("main", "inproc_stream", binds=()),)
        return Workload(
            name,
            title + " (two threads)",
            "throughput",
            transport,
            sizes,
            roles,
            "main",
            params,
            pattern=pattern,
        )
    roles = (
        RoleSpec("recv", "stream_recv", binds=("data",)),
        RoleSpec("send", "stream_send", connects=("data",)),
    )
    title += " (two processes)"
    return Workload(
        name, title, "throughput", transport, sizes, roles, "recv", params, pattern=pattern
    )


def _pubsub(topics: str) -> Workload:
    roles = (
        RoleSpec("pub", "pub", binds=("data",)),
        RoleSpec("sub", "sub", connects=("data",), params={"topics": topics}),
    )
    if topics == "all":
        name, title, measure = "pub-sub-all-tcp", "SUB subscribed to all 1000 topics", "sub"
    else:
        name, title, measure = "pub-sub-one-tcp", "SUB on 1 of 1000 topics: publish rate", "pub"
    return Workload(
        name,
        title,
        "throughput",
        "tcp",
        (64,),
        roles,
        measure,
        gates=(Gate("pub", (("sub", "synced"),)),),
        min_count=5000,
        pattern="pub-sub",
    )


def _reqrep(curve: bool = False) -> Workload:
    roles = (
        RoleSpec("rep", "rep_echo", binds=("data",)),
        RoleSpec("req", "req_latency", connects=("data",)),
    )
    title = "REQ/REP round trip latency (two processes)"
    return Workload(
        "req-rep-curve-tcp" if curve else "req-rep-tcp",
        title + (", CURVE" if curve else ""),
        "latency",
        "tcp",
        (16,),
        roles,
        "req",
        {"curve": curve},
        guess_rate=5_000.0,
        pattern="req-rep",
    )


def _pingpong() -> Workload:
    roles = (RoleSpec("main", "inproc_pingpong"),)
    title = "PAIR <-> PAIR round trip latency (two threads of one process)"
    return Workload(
        "pair-pingpong-inproc",
        title,
        "latency",
        "inproc",
        (16,),
        roles,
        "main",
        guess_rate=20_000.0,
        pattern="pair-pingpong",
    )


def _client_server() -> Workload:
    """client-server-tcp: CLIENT -> SERVER -> CLIENT round trips (draft types)."""
    roles = (
        RoleSpec("server", "server_echo", binds=("data",)),
        RoleSpec("client", "client_latency", connects=("data",)),
    )
    title = "CLIENT/SERVER round trip latency (two processes; draft types)"
    return Workload(
        "client-server-tcp",
        title,
        "latency",
        "tcp",
        (16,),
        roles,
        "client",
        guess_rate=5_000.0,
        pattern="client-server",
    )


def _radio_dish() -> Workload:
    """radio-dish-tcp: RADIO -> DISH on one joined group, received msg/s (draft types)."""
    roles = (
        RoleSpec("radio", "radio", binds=("data",)),
        RoleSpec("dish", "dish", connects=("data",)),
    )
    title = "RADIO -> DISH, one joined group, HWM 0 (two processes; draft types)"
    return Workload(
        "radio-dish-tcp",
        title,
        "throughput",
        "tcp",
        (64,),
        roles,
        "dish",
        gates=(Gate("radio", (("dish", "synced"),)),),
        min_count=5000,
        pattern="radio-dish",
    )


def _subscriptions(phase: str, n_subs: int) -> Workload:
    """subs-subscribe-tcp / subs-cancel-tcp: a burst of n_subs setsockopt calls."""
    roles = (
        RoleSpec("xpub", "subs_xpub", binds=("data",)),
        RoleSpec("sub", "subs_sub", connects=("data",)),
    )
    verb, unit = {"subscribe": ("subscribes", "subs"), "cancel": ("cancels", "cancels")}[phase]
    title = f"SUB {verb} N topics in a burst, until an XPUB has them all: {unit}/s"
    return Workload(
        f"subs-{phase}-tcp",
        title,
        "rate",
        "tcp",
        (n_subs,),
        roles,
        "sub",
        params={"phase": phase},
        pattern="subs",
        unit="subs",
        count_is_size=True,
    )


def _match(n_subs: int) -> Workload:
    """subs-match-tcp: publish rate of a PUB holding n_subs subscriptions of one SUB."""
    roles = (
        RoleSpec("pub", "match_pub", binds=("data",)),
        RoleSpec("sub", "match_sub", connects=("data",)),
    )
    title = "PUB with N subscriptions, half its messages matching: publish rate"
    return Workload(
        "subs-match-tcp",
        title,
        "rate",
        "tcp",
        (n_subs,),
        roles,
        "pub",
        gates=(Gate("pub", (("sub", "synced"),)),),
        guess_rate=100_000.0,
        min_count=5000,
        pattern="subs",
        unit="subs",
    )


def _pipeline() -> Workload:
    workers = tuple(RoleSpec(f"worker{i}", "worker", connects=("vent", "sink")) for i in (1, 2))
    roles = (
        RoleSpec("vent", "ventilator", binds=("vent",)),
        RoleSpec("sink", "sink", binds=("sink",)),
    ) + workers
    needs = tuple((w.name, "ready") for w in workers) + (("sink", "synced"),)
    gate = Gate("vent", needs)
    title = "ventilator -> 2 workers -> sink, 4 processes"
    return Workload(
        "pipeline-tcp",
        title,
        "throughput",
        "tcp",
        (16,),
        roles,
        "sink",
        params={"workers": len(workers)},
        gates=(gate,),
        stops=tuple(w.name for w in workers),
        guess_rate=50_000.0,
        pattern="pipeline",
    )


def _churn() -> Workload:
    """churn-tcp: connection lives per second (connect, handshake, one round trip, close)."""
    roles = (
        RoleSpec("echo", "churn_echo", binds=("data",)),
        RoleSpec("client", "churn_client", connects=("data",)),
    )
    title = "new REQ per cycle: connect, handshake, one round trip, close: connections/s"
    return Workload(
        "churn-tcp",
        title,
        "rate",
        "tcp",
        (16,),
        roles,
        "client",
        guess_rate=300.0,
        min_count=200,
        pattern="conns",
    )


def _scale(quick: bool) -> Workload:
    """scale-router-tcp: N idle DEALERs on one ROUTER; fds and RSS per peer, then msg/s."""
    from fastzmq.bench.conns import N_DEALER_PROCS, SCALE_QUICK, SCALE_SIZES

    dealers = tuple(
        RoleSpec(f"dealers{k}", "scale_dealers", connects=("data",), params={"proc": k})
        for k in range(N_DEALER_PROCS)
    )
    roles = (RoleSpec("router", "scale_router", binds=("data",)),) + dealers
    gates = tuple(Gate(d.name, (("router", "synced"),)) for d in dealers)
    title = "N DEALERs (4 processes) on one ROUTER: round-robin msg/s; fds, RSS per peer"
    return Workload(
        "scale-router-tcp",
        title,
        "rate",
        "tcp",
        SCALE_QUICK if quick else SCALE_SIZES,
        roles,
        "router",
        gates=gates,
        stops=tuple(d.name for d in dealers),
        guess_rate=20_000.0,
        min_count=5000,
        pattern="conns",
        unit="peers",
    )


def _epgm(loss: int) -> Workload:
    """epgm-pub-sub / epgm-loss1-pub-sub: across two network namespaces (``epgm.py``)."""
    from fastzmq.bench.epgm import workload

    return workload(loss)


def standard(quick: bool = False) -> List[Workload]:
    """All workloads, in table order; `quick` uses SUBS_QUICK subscriptions, not SUBS."""
    n_subs = SUBS_QUICK if quick else SUBS
    return [
        _stream("push-pull", "tcp", ("PUSH", "PULL"), STREAM_SIZES),
        _stream("push-pull", "ipc", ("PUSH", "PULL"), STREAM_SIZES),
        _stream("push-pull", "inproc", ("PUSH", "PULL"), STREAM_SIZES),
        _stream("pair", "inproc", ("PAIR", "PAIR"), (16, 4 * KIB)),
        _reqrep(),
        _pingpong(),
        _pubsub("all"),
        _pubsub("one"),
        _pipeline(),
        _subscriptions("subscribe", n_subs),
        _subscriptions("cancel", n_subs),
        _match(n_subs),
        _stream("push-pull", "tcp", ("PUSH", "PULL"), (16, 4 * KIB, 64 * KIB), curve=True),
        _reqrep(curve=True),
        _churn(),
        _scale(quick),
        _client_server(),
        _radio_dish(),
        _epgm(0),
        _epgm(1),
    ]


def select(workloads: List[Workload], only: str) -> List[Workload]:
    """Workloads whose name contains any comma-separated item of `only`."""
    items = [item.strip() for item in only.split(",") if item.strip()]
    chosen = [w for w in workloads if any(item in w.name for item in items)]
    if not chosen:
        names = ", ".join(w.name for w in workloads)
        raise ValueError(f"no workload matches {only!r}; choose from: {names}")
    return chosen


def hwm_for(size: int) -> int:
    """SNDHWM/RCVHWM for throughput runs: 10000 messages, at most 64 MiB queued."""
    return max(100, min(10_000, (64 * KIB * KIB) // size))


def msg_bytes(workload: Workload, size: int) -> int:
    """The message size of a (workload, size) cell: size itself unless it counts subs
    (the match message) or peers (an 8-byte sequence number)."""
    if workload.unit == "peers":
        return 8
    return size if workload.unit == "B" else MATCH_MSG_BYTES


def count_for(workload: Workload, rate: float, seconds: float, size: int) -> int:
    """Messages for a run of about `seconds` at `rate` msgs/s, bounded (or the size)."""
    if workload.count_is_size:
        return size
    cap = max(workload.min_count, min(3_000_000, (2 * KIB**3) // msg_bytes(workload, size)))
    return int(max(workload.min_count, min(cap, rate * seconds)))


def format_size(size: int) -> str:
    if size >= KIB and size % KIB == 0:
        return f"{size // KIB} KiB"
    return f"{size} B"


def size_label(workload: Workload, size: int) -> str:
    """The table's size column: bytes (format_size) or a subscription count (100k)."""
    if workload.unit == "B":
        return format_size(size)
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)

"""Connection workloads: churn (connections per second) and scale (many idle peers).

Theory of operation
-------------------
* churn (``churn_client`` measures, ``churn_echo`` serves): a REP is bound; the
  client, ``count`` times in a row, creates a REQ, connects it, sends its sequence
  number, waits for the echo, and closes it (linger 0). One cycle is a whole
  connection life: TCP connect, ZMTP handshake, one round trip, close. The client
  checks every echo and times the cycles after the warm-up: connections/s. One
  connection at a time, so nothing piles up in the background and the rate is the
  latency of a connection's life.
* scale (``scale_router`` measures, ``scale_dealers`` x4 connect): a ROUTER is
  bound; four processes open N/4 DEALERs each (distinct routing ids) and send one
  hello each. The ROUTER reads its own fd count (``/proc/self/fd``) and RSS before
  binding and once it has all N hellos: fds per peer and RSS per peer (KiB). Then
  the dealers send ``count`` messages in turn across all their sockets (round
  robin) and the ROUTER receives them, fair-queued across the N pipes, checking
  each is a distinct (dealer, seq): received msg/s. Every process raises its
  RLIMIT_NOFILE soft limit to the hard one; pyzmq's MAX_SOCKETS is raised to fit.
  The ROUTER's listen backlog (BACKLOG, libzmq's default 100) is raised to the peer count
  (the kernel caps it at net.core.somaxconn), for both implementations: the four
  processes connect in a burst, and with 100 the kernel's accept queue overflows
  whichever side accepts (measured: ~24,000 SYNs dropped for 10k peers, fastzmq and
  pyzmq alike), each dropped SYN is retried after 1, 2, 4, 8 s, and the set-up time is
  then the SYN back-off's, not the implementation's (a 10k run ran into its 15 s limit
  at random). The SYNs the kernel still drops are reported (``listen_overflows``: the
  machine-wide TcpExtListenOverflows counter's growth during set-up, so other processes'
  overflows count too).
"""

from __future__ import annotations

import os
import resource
import time
from types import ModuleType

from fastzmq.bench.notyet import SetupTimeout
from fastzmq.bench.roles import PACK, Sockets, bind, lost, rate_result, warm_count

N_DEALER_PROCS = 4
SCALE_SIZES, SCALE_QUICK = (1_000, 10_000), (1_000,)
HELLO = b"hello"


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def listen_overflows() -> int:
    """The kernel's count of SYNs dropped at full accept queues (all sockets; Linux)."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return -1
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:") and "ListenOverflows" in names.split():
            return int(values.split()[names.split().index("ListenOverflows")])
    return -1


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --- churn ----------------------------------------------------------------------


def churn_echo(z: ModuleType, spec: dict, chan) -> dict:
    with Sockets(z, spec) as socks:
        sock = socks.make("REP", linger=0)
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        sock.setsockopt(z.RCVTIMEO, spec["setup_ms"])
        recv, send = sock.recv, sock.send
        for _ in range(spec["count"]):
            send(recv())
        return {"status": "ok"}


def churn_client(z: ModuleType, spec: dict, chan) -> dict:
    n, endpoint = spec["count"], spec["endpoints"]["data"]
    mark = warm_count(n)
    with Sockets(z, spec) as socks:
        ctx, req_type, timeo = socks.ctx, z.REQ, spec["setup_ms"]
        rcvtimeo, linger, pack = z.RCVTIMEO, z.LINGER, PACK.pack
        t0 = time.perf_counter()
        for i in range(n):
            if i == mark:
                t0 = time.perf_counter()
            s = ctx.socket(req_type)
            try:
                s.setsockopt(linger, 0)
                s.setsockopt(rcvtimeo, timeo)
                s.connect(endpoint)
                msg = pack(i)
                s.send(msg)
                try:
                    reply = s.recv()
                except z.Again:
                    if i == 0:
                        raise SetupTimeout(f"no echo within {timeo} ms") from None
                    return lost(n, i)
                if reply != msg:
                    return {"status": "order", "detail": f"cycle {i}: wrong echo", "received": i}
            finally:
                s.close()
        return rate_result(n, mark, t0, time.perf_counter())


# --- scale ----------------------------------------------------------------------


def _share(n: int, k: int) -> range:
    """The peer indexes of dealer process k (of N_DEALER_PROCS)."""
    per = -(-n // N_DEALER_PROCS)
    return range(k * per, min(n, (k + 1) * per))


def _setup_ms(spec: dict, n_peers: int) -> int:
    """Time for every peer to connect: 5 ms each at worst, but ending well inside the run's
    deadline, so a shortfall is reported (with the fd count) rather than killed."""
    inside = int(spec["deadline_s"] * 600)  # 60% of the run's deadline
    return max(spec["setup_ms"], min(n_peers * 5, inside))


def scale_router(z: ModuleType, spec: dict, chan) -> dict:
    n_peers, count = spec["size"], spec["count"]
    limit = raise_fd_limit()
    ctx_fds, ctx_rss = fd_count(), rss_kib()
    with Sockets(z, spec) as socks:
        sock = socks.make("ROUTER", hwm=0, linger=0)
        sock.setsockopt(z.BACKLOG, n_peers)  # (see the module docstring)
        base_fds, base_rss = fd_count(), rss_kib()
        overflows = listen_overflows()
        chan.emit("bound", key="data", endpoint=bind(z, sock, spec["bind"]["data"]))
        setup_ms = _setup_ms(spec, n_peers)
        end = time.monotonic() + setup_ms / 1000.0
        seen = set()
        while len(seen) < n_peers:
            left = int((end - time.monotonic()) * 1000)
            if left <= 0 or not sock.poll(left):
                fds = f"{fd_count()} fds open, limit {limit}"
                if overflows >= 0:
                    fds += f", {listen_overflows() - overflows} SYNs dropped at full accept queues"
                raise SetupTimeout(f"{len(seen)} of {n_peers} peers in {setup_ms} ms ({fds})")
            while True:
                try:
                    rid, body = sock.recv_multipart(z.NOBLOCK)
                except z.Again:
                    break
                if body == HELLO:
                    seen.add(rid)
        fds, rss = fd_count() - base_fds, rss_kib() - base_rss
        if overflows >= 0:
            overflows = listen_overflows() - overflows
        chan.emit("synced")
        sock.setsockopt(z.RCVTIMEO, spec["idle_ms"])
        got = bytearray(count)
        mark = warm_count(count)
        recv, unpack = sock.recv_multipart, PACK.unpack_from
        i, t0 = 0, time.perf_counter()
        try:
            while i < count:
                rid, body = recv()
                seq = unpack(body)[0]
                if seq >= count or got[seq]:
                    return {"status": "order", "detail": f"seq {seq} twice", "received": i}
                got[seq] = 1
                i += 1
                if i == mark:
                    t0 = time.perf_counter()
        except z.Again:
            return lost(count, i)
        result = rate_result(count, mark, t0, time.perf_counter())
        result["fds_per_peer"] = fds / n_peers
        result["rss_kib_per_peer"] = rss / n_peers
        result["context_fds"] = base_fds - ctx_fds
        result["context_rss_kib"] = base_rss - ctx_rss
        result["listen_overflows"] = overflows
        return result


def scale_dealers(z: ModuleType, spec: dict, chan) -> dict:
    n_peers, count, k = spec["size"], spec["count"], spec["proc"]
    mine = _share(n_peers, k)
    raise_fd_limit()
    with Sockets(z, spec) as socks:
        if hasattr(z, "MAX_SOCKETS"):
            socks.ctx.set(z.MAX_SOCKETS, n_peers + 64)
        dealers = []
        for p in mine:
            d = socks.make("DEALER", hwm=0, linger=0)
            d.setsockopt(z.ROUTING_ID, b"peer-%06d" % p)
            d.connect(spec["endpoints"]["data"])
            d.send(HELLO)
            dealers.append(d)
        chan.emit("ready")
        if not chan.wait("go", _setup_ms(spec, n_peers) / 1000.0 + 1.5):  # router first
            raise SetupTimeout("the ROUTER never had every peer")
        # messages with seq = k (mod N_DEALER_PROCS) are ours, round robin over our sockets
        pack, nd = PACK.pack, len(dealers)
        for j, seq in enumerate(range(k, count, N_DEALER_PROCS)):
            dealers[j % nd].send(pack(seq))
        chan.wait("stop", spec["deadline_s"])  # keep the peers until the ROUTER has all
        return {"status": "ok"}


ROLES = {
    "churn_echo": churn_echo,
    "churn_client": churn_client,
    "scale_router": scale_router,
    "scale_dealers": scale_dealers,
}

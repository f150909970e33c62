"""Interop with libzmq 4.3 (through pyzmq): fastzmq on one end, the real libzmq on the other.

pyzmq is used here only as the reference peer; fastzmq itself never imports it.

Covered:
* every compatible socket-type pair (RFC 28/29/30/31 patterns), fastzmq owning each side
  in turn where the types differ, each side binding in turn, over tcp and ipc;
* message shapes across the short/long frame boundary (0, 1, 255, 256 bytes, 1 MiB) and a
  multipart message with empty frames, both ways where the pattern replies;
* PUB/SUB filtering and unsubscribe, ROUTER identities both ways.
Reconnect and hostile peers live in ``test_interop_reconnect.py``.

Every blocking call is bounded by RCVTIMEO/SNDTIMEO; every socket is closed with linger 0
and every context terminated by the fixtures.
"""

from __future__ import annotations

import time

import pytest

import fastzmq

zmq = pytest.importorskip("zmq")

TIMEOUT_MS = 5000
SYNC = b"__sync__"
SYNC_END = SYNC + b"end"  # matches a SYNC subscription too

SHAPES = [
    [b""],
    [b"x"],
    [b"s" * 255],  # longest short frame (1-byte size)
    [b"l" * 256],  # shortest long frame (8-byte size)
    [bytes(range(256)) * 4096],  # 1 MiB
    [b"", b"a", b"m" * 300, b""],  # multipart with empty frames and a long one
]
SHAPE_IDS = ["0B", "1B", "255B", "256B", "1MiB", "multipart"]


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def pctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def fsock(ctx, kind: str, **opts):
    """A fastzmq socket with bounded send/recv and linger 0."""
    s = ctx.socket(getattr(fastzmq, kind))
    _configure(s, opts)
    return s


def psock(ctx, kind: str, **opts):
    """A pyzmq (libzmq) socket with bounded send/recv and linger 0."""
    s = ctx.socket(getattr(zmq, kind))
    _configure(s, opts)
    return s


def _configure(s, opts) -> None:
    s.linger = 0
    s.rcvtimeo = s.sndtimeo = TIMEOUT_MS
    for name, value in opts.items():
        setattr(s, name, value)


def bind_addr(transport: str, tmp_path) -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    return f"ipc://{tmp_path}/s"


def link(binder, connector, transport: str, tmp_path) -> None:
    """Bind ``binder``, connect ``connector`` to the endpoint it reports."""
    binder.bind(bind_addr(transport, tmp_path))
    endpoint = binder.last_endpoint
    connector.connect(endpoint.decode() if isinstance(endpoint, bytes) else endpoint)


def make_pair(fctx, pctx, fkind, pkind, binder, transport, tmp_path, fopts=None, popts=None):
    f = fsock(fctx, fkind, **(fopts or {}))
    p = psock(pctx, pkind, **(popts or {}))
    if binder == "fast":
        link(f, p, transport, tmp_path)
    else:
        link(p, f, transport, tmp_path)
    return f, p


# ------------------------------------------------------------ pattern drivers
# Each driver takes the sockets in the order of its name (e.g. req, rep) and one message,
# and asserts the message (and the reply, where the pattern has one) arrives intact.
def reply_to(msg):
    return [b"re:"] + list(msg)


def drive_push_pull(push, pull, msg):
    push.send_multipart(msg)
    assert pull.recv_multipart() == msg


def drive_pair(a, b, msg):
    a.send_multipart(msg)
    assert b.recv_multipart() == msg
    b.send_multipart(reply_to(msg))
    assert a.recv_multipart() == reply_to(msg)


def drive_req_rep(req, rep, msg):
    req.send_multipart(msg)
    assert rep.recv_multipart() == msg
    rep.send_multipart(reply_to(msg))
    assert req.recv_multipart() == reply_to(msg)


def drive_req_router(req, router, msg):
    req.send_multipart(msg)
    got = router.recv_multipart()
    assert got[1:] == [b""] + msg and got[0]
    router.send_multipart([got[0], b""] + reply_to(msg))
    assert req.recv_multipart() == reply_to(msg)


def drive_dealer_rep(dealer, rep, msg):
    dealer.send_multipart([b""] + msg)
    assert rep.recv_multipart() == msg
    rep.send_multipart(reply_to(msg))
    assert dealer.recv_multipart() == [b""] + reply_to(msg)


def drive_dealer_router(dealer, router, msg):
    dealer.send_multipart(msg)
    got = router.recv_multipart()
    assert got[1:] == msg and got[0]
    router.send_multipart([got[0]] + reply_to(msg))
    assert dealer.recv_multipart() == reply_to(msg)


def sync_pub(pub, sub, deadline_s: float = 5.0) -> None:
    """Slow joiner: publish SYNC until the subscriber sees one, then drain the extras."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        pub.send(SYNC)
        if sub.poll(20):
            assert sub.recv() == SYNC
            break
    else:
        pytest.fail("subscriber never received a message within the deadline")
    pub.send(SYNC_END)
    while sub.recv_multipart() != [SYNC_END]:
        pass


def drive_pub_sub(pub, sub, msg):
    pub.send_multipart(msg)
    assert sub.recv_multipart() == msg


def setup_pub_sub(pub, sub):
    sub.subscribe(b"")
    sync_pub(pub, sub)


def await_subscription(xpub, sub, expected: bytes, deadline_s: float = 5.0) -> None:
    """RFC 29: the subscription reaches XPUB as a message. The subscriber is polled
    meanwhile, as an application's recv loop would: in libzmq as in fastzmq, a SUB adopts
    a newly connected peer (and sends it the subscriptions) only when called into."""
    deadline = time.monotonic() + deadline_s
    while not xpub.poll(20):
        sub.poll(0)
        assert time.monotonic() < deadline, "XPUB never received the subscription"
    assert xpub.recv() == expected


def setup_xpub_sub(xpub, sub):
    sub.subscribe(b"")
    await_subscription(xpub, sub, b"\x01")
    sync_pub(xpub, sub)


def setup_pub_xsub(pub, xsub):
    xsub.send(b"\x01")
    sync_pub(pub, xsub)


def setup_xpub_xsub(xpub, xsub):
    xsub.send(b"\x01")
    await_subscription(xpub, xsub, b"\x01")
    sync_pub(xpub, xsub)


# (name, first type, second type, driver, setup)
PATTERNS = {
    "PUSH-PULL": ("PUSH", "PULL", drive_push_pull, None),
    "PAIR-PAIR": ("PAIR", "PAIR", drive_pair, None),
    "REQ-REP": ("REQ", "REP", drive_req_rep, None),
    "REQ-ROUTER": ("REQ", "ROUTER", drive_req_router, None),
    "DEALER-REP": ("DEALER", "REP", drive_dealer_rep, None),
    "DEALER-ROUTER": ("DEALER", "ROUTER", drive_dealer_router, None),
    "DEALER-DEALER": ("DEALER", "DEALER", drive_pair, None),
    "PUB-SUB": ("PUB", "SUB", drive_pub_sub, setup_pub_sub),
    "XPUB-SUB": ("XPUB", "SUB", drive_pub_sub, setup_xpub_sub),
    "PUB-XSUB": ("PUB", "XSUB", drive_pub_sub, setup_pub_xsub),
    "XPUB-XSUB": ("XPUB", "XSUB", drive_pub_sub, setup_xpub_xsub),
}


def _cases():
    """(pattern, which side fastzmq owns): both sides where the types differ."""
    for name, (first, second, _, _) in PATTERNS.items():
        yield name, "first"
        if first != second:
            yield name, "second"


CASES = list(_cases())
CASE_IDS = [f"{name}-fast_{side}" for name, side in CASES]


def open_case(fctx, pctx, name, fast_side, binder, transport, tmp_path):
    """Open the pair; returns (first, second) in the pattern's order."""
    first, second, _, setup = PATTERNS[name]
    fkind, pkind = (first, second) if fast_side == "first" else (second, first)
    f, p = make_pair(fctx, pctx, fkind, pkind, binder, transport, tmp_path)
    a, b = (f, p) if fast_side == "first" else (p, f)
    if setup is not None:
        setup(a, b)
    return a, b


# ---------------------------------------------------------------- the matrix
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("binder", ["fast", "py"])
@pytest.mark.parametrize("name,fast_side", CASES, ids=CASE_IDS)
def test_pair_exchanges_every_shape(ctx, pctx, tmp_path, name, fast_side, binder, transport):
    a, b = open_case(ctx, pctx, name, fast_side, binder, transport, tmp_path)
    drive = PATTERNS[name][2]
    for msg in SHAPES:
        drive(a, b, msg)


@pytest.mark.parametrize("msg", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("fast_side", ["first", "second"])
def test_shape_dealer_router_both_ways(ctx, pctx, tmp_path, msg, fast_side):
    """Each shape alone (a failure names the size), fastzmq as DEALER then as ROUTER."""
    a, b = open_case(ctx, pctx, "DEALER-ROUTER", fast_side, "fast", "tcp", tmp_path)
    drive_dealer_router(a, b, msg)


@pytest.mark.parametrize("count", [1000])
@pytest.mark.parametrize("fast_side", ["first", "second"])
def test_many_messages_in_order(ctx, pctx, tmp_path, fast_side, count):
    """A burst of mixed sizes crosses in order (many frames per read on both engines)."""
    a, b = open_case(ctx, pctx, "PUSH-PULL", fast_side, "py", "tcp", tmp_path)
    sent = [[b"%d" % i, b"p" * (i % 300)] for i in range(count)]
    for m in sent:
        a.send_multipart(m)
    assert [b.recv_multipart() for _ in range(count)] == sent


# ------------------------------------------------------------------ PUB/SUB
def recv_until_silent(sock, quiet_ms: int = 200) -> list:
    out = []
    while sock.poll(quiet_ms):
        out.append(sock.recv_multipart())
    return out


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("fast_side", ["pub", "sub"])
def test_subscription_filters(ctx, pctx, tmp_path, fast_side, transport):
    if fast_side == "pub":
        pub, sub = make_pair(ctx, pctx, "PUB", "SUB", "fast", transport, tmp_path)
    else:
        sub, pub = make_pair(ctx, pctx, "SUB", "PUB", "py", transport, tmp_path)
    sub.subscribe(b"weather.")
    sub.subscribe(SYNC)
    sync_pub(pub, sub)
    for topic in (b"sports.x", b"weath", b"weather.rain", b"WEATHER.x", b"weather."):
        pub.send_multipart([topic, b"body"])
    got = recv_until_silent(sub)
    assert got == [[b"weather.rain", b"body"], [b"weather.", b"body"]]


@pytest.mark.parametrize("fast_side", ["pub", "sub"])
def test_unsubscribe_stops_delivery(ctx, pctx, tmp_path, fast_side):
    if fast_side == "pub":
        pub, sub = make_pair(ctx, pctx, "PUB", "SUB", "fast", "tcp", tmp_path)
    else:
        sub, pub = make_pair(ctx, pctx, "SUB", "PUB", "fast", "tcp", tmp_path)
    sub.subscribe(b"a")
    sub.subscribe(b"b")
    sub.subscribe(SYNC)
    sync_pub(pub, sub)
    sub.unsubscribe(b"a")
    # The CANCEL travels asynchronously: wait until "a" stops arriving, bounded.
    deadline = time.monotonic() + 5.0
    while True:
        pub.send(b"a-probe")
        pub.send(b"b-marker")
        got = recv_until_silent(sub, 50)
        assert [b"b-marker"] in got
        if [b"a-probe"] not in got:
            break
        assert time.monotonic() < deadline, "unsubscribe never took effect"
    for _ in range(20):
        pub.send(b"a-late")
    pub.send(b"b-last")
    assert recv_until_silent(sub) == [[b"b-last"]]


def test_xpub_sees_subscribe_and_cancel_from_libzmq_sub(ctx, pctx, tmp_path):
    xpub, sub = make_pair(ctx, pctx, "XPUB", "SUB", "fast", "tcp", tmp_path)
    sub.subscribe(b"topic")
    assert xpub.recv() == b"\x01topic"
    sub.unsubscribe(b"topic")
    assert xpub.recv() == b"\x00topic"


def test_libzmq_xpub_sees_subscribe_and_cancel_from_fastzmq_sub(ctx, pctx, tmp_path):
    sub, xpub = make_pair(ctx, pctx, "SUB", "XPUB", "py", "tcp", tmp_path)
    sub.subscribe(b"topic")
    assert xpub.recv() == b"\x01topic"
    sub.unsubscribe(b"topic")
    assert xpub.recv() == b"\x00topic"


# ---------------------------------------------------------- ROUTER identities
def send_when_routable(router, msg, deadline_s: float = 5.0) -> None:
    """With ROUTER_MANDATORY, retry while the peer's connection is not up yet."""
    deadline = time.monotonic() + deadline_s
    errors = (fastzmq.ZMQError, zmq.ZMQError)
    while True:
        try:
            router.send_multipart(msg)
            return
        except errors as e:
            if e.errno != zmq.EHOSTUNREACH or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


@pytest.mark.parametrize("binder", ["fast", "py"])
def test_fastzmq_router_addresses_libzmq_dealers_by_id(ctx, pctx, tmp_path, binder):
    router = fsock(ctx, "ROUTER", router_mandatory=1)
    dealers = [psock(pctx, "DEALER", routing_id=rid) for rid in (b"alpha", b"beta")]
    for d in dealers:
        link(router, d, "tcp", tmp_path) if binder == "fast" else link(d, router, "tcp", tmp_path)
    for rid in (b"beta", b"alpha"):
        send_when_routable(router, [rid, b"for " + rid])
    assert [d.recv_multipart() for d in dealers] == [[b"for alpha"], [b"for beta"]]
    dealers[0].send(b"up")
    assert router.recv_multipart() == [b"alpha", b"up"]


@pytest.mark.parametrize("binder", ["fast", "py"])
def test_libzmq_router_addresses_fastzmq_dealers_by_id(ctx, pctx, tmp_path, binder):
    router = psock(pctx, "ROUTER", router_mandatory=1)
    dealers = [fsock(ctx, "DEALER", routing_id=rid) for rid in (b"alpha", b"beta")]
    for d in dealers:
        link(d, router, "tcp", tmp_path) if binder == "fast" else link(router, d, "tcp", tmp_path)
    for rid in (b"beta", b"alpha"):
        send_when_routable(router, [rid, b"for " + rid])
    assert [d.recv_multipart() for d in dealers] == [[b"for alpha"], [b"for beta"]]
    dealers[1].send(b"up")
    assert router.recv_multipart() == [b"beta", b"up"]


def test_req_routing_id_reaches_libzmq_router(ctx, pctx, tmp_path):
    req, router = make_pair(
        ctx, pctx, "REQ", "ROUTER", "py", "tcp", tmp_path, {"routing_id": b"rq"}
    )
    req.send(b"q")
    assert router.recv_multipart() == [b"rq", b"", b"q"]


@pytest.mark.parametrize("fast_side", ["binder", "connector"])
def test_router_router_with_known_ids(ctx, pctx, tmp_path, fast_side):
    """ROUTER-ROUTER (optional in the brief): the connector addresses the binder's id."""
    f = fsock(ctx, "ROUTER", routing_id=b"F", router_mandatory=1)
    p = psock(pctx, "ROUTER", routing_id=b"P", router_mandatory=1)
    binder, connector = (f, p) if fast_side == "binder" else (p, f)
    link(binder, connector, "tcp", tmp_path)
    bid = b"F" if binder is f else b"P"
    cid = b"P" if binder is f else b"F"
    send_when_routable(connector, [bid, b"hello"])
    assert binder.recv_multipart() == [cid, b"hello"]
    binder.send_multipart([cid, b"back"])
    assert connector.recv_multipart() == [bid, b"back"]

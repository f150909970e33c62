"""RFC 28 (REQREP): REQ and REP envelopes and their strict state machines."""

from __future__ import annotations

import pytest

import fastzmq as zmq


def _timeouts(*socks):
    for s in socks:
        s.rcvtimeo = s.sndtimeo = 2000


def _efsm(call, *args):
    with pytest.raises(zmq.ZMQError) as e:
        call(*args)
    assert e.value.errno == zmq.EFSM


def test_req_rep_roundtrip(ctx, transport, wait_peers):
    rep, req = ctx.socket(zmq.REP), ctx.socket(zmq.REQ)
    _timeouts(rep, req)
    req.connect(transport.bind(rep))
    for i in range(20):
        req.send_multipart([b"q%d" % i, b"more"])
        assert rep.recv_multipart() == [b"q%d" % i, b"more"]
        rep.send(b"r%d" % i)
        assert req.recv_multipart() == [b"r%d" % i]


def test_req_state_machine(ctx):
    rep, req = ctx.socket(zmq.REP), ctx.socket(zmq.REQ)
    _timeouts(rep, req)
    rep.bind("inproc://rr-fsm")
    req.connect("inproc://rr-fsm")
    _efsm(req.recv)  # no request sent yet
    req.send(b"1")
    _efsm(req.send, b"2")  # a reply is due first
    _efsm(req.send_multipart, [b"2", b"3"])
    assert rep.recv() == b"1"
    rep.send(b"one")
    assert req.recv() == b"one"
    _efsm(req.recv)
    req.send(b"again")  # back to sending


def test_rep_state_machine(ctx):
    rep, req = ctx.socket(zmq.REP), ctx.socket(zmq.REQ)
    _timeouts(rep, req)
    rep.bind("inproc://rr-repfsm")
    req.connect("inproc://rr-repfsm")
    _efsm(rep.send, b"unasked")
    req.send(b"q")
    assert rep.recv() == b"q"
    _efsm(rep.recv)  # must reply first
    rep.send(b"a")
    _efsm(rep.send, b"a2")
    assert req.recv() == b"a"


def test_req_load_balances_and_ignores_replies_from_others(ctx):
    reps = [ctx.socket(zmq.REP) for _ in range(2)]
    req = ctx.socket(zmq.REQ)
    _timeouts(req, *reps)
    for i, r in enumerate(reps):
        r.bind(f"inproc://rr-lb{i}")
        req.connect(f"inproc://rr-lb{i}")
    got = []
    for i in range(4):
        req.send(b"%d" % i)
        for r in reps:
            if r.poll(0):
                got.append((reps.index(r), r.recv()))
                r.send(b"ok")
        assert req.recv() == b"ok"
    assert [g[0] for g in got] == [0, 1, 0, 1]  # round-robin


def test_dealer_to_rep_needs_the_empty_delimiter(ctx, transport, wait_peers):
    rep, dealer = ctx.socket(zmq.REP), ctx.socket(zmq.DEALER)
    _timeouts(rep, dealer)
    dealer.connect(transport.bind(rep))
    wait_peers(rep, 1)
    dealer.send_multipart([b"no-delimiter"])  # not a request: REP drops it
    dealer.send_multipart([b"", b"hello"])
    assert rep.recv_multipart() == [b"hello"]
    rep.send(b"world")
    assert dealer.recv_multipart() == [b"", b"world"]


def test_rep_keeps_the_whole_envelope(ctx):
    rep, dealer = ctx.socket(zmq.REP), ctx.socket(zmq.DEALER)
    _timeouts(rep, dealer)
    rep.bind("inproc://rr-env")
    dealer.connect("inproc://rr-env")
    dealer.send_multipart([b"hop2", b"hop1", b"", b"body", b"tail"])
    assert rep.recv_multipart() == [b"body", b"tail"]
    rep.send_multipart([b"re", b"ply"])
    assert dealer.recv_multipart() == [b"hop2", b"hop1", b"", b"re", b"ply"]


def test_req_to_router_envelope(ctx, transport, wait_peers):
    router, req = ctx.socket(zmq.ROUTER), ctx.socket(zmq.REQ)
    _timeouts(router, req)
    req.routing_id = b"client"
    req.connect(transport.bind(router))
    req.send(b"ping")
    assert router.recv_multipart() == [b"client", b"", b"ping"]
    router.send_multipart([b"client", b"", b"pong"])
    assert req.recv() == b"pong"


def test_req_drops_reply_without_delimiter(ctx):
    router, req = ctx.socket(zmq.ROUTER), ctx.socket(zmq.REQ)
    _timeouts(router, req)
    req.routing_id = b"c"
    router.bind("inproc://rr-bad")
    req.connect("inproc://rr-bad")
    req.send(b"q")
    router.recv_multipart()
    router.send_multipart([b"c", b"no-delimiter"])
    router.send_multipart([b"c", b"", b"good"])
    assert req.recv() == b"good"


def test_req_relaxed_allows_a_new_request(ctx):
    router, req = ctx.socket(zmq.ROUTER), ctx.socket(zmq.REQ)
    _timeouts(router, req)
    req.req_relaxed = 1
    req.routing_id = b"c"
    router.bind("inproc://rr-relaxed")
    req.connect("inproc://rr-relaxed")
    req.send(b"first")
    req.send(b"second")  # no EFSM in relaxed mode
    assert router.recv_multipart() == [b"c", b"", b"first"]
    assert router.recv_multipart() == [b"c", b"", b"second"]
    router.send_multipart([b"c", b"", b"answer"])
    assert req.recv() == b"answer"


def test_req_correlate_prefixes_a_request_id(ctx):
    router, req = ctx.socket(zmq.ROUTER), ctx.socket(zmq.REQ)
    _timeouts(router, req)
    req.req_relaxed = 1
    req.req_correlate = 1
    req.routing_id = b"c"
    router.bind("inproc://rr-corr")
    req.connect("inproc://rr-corr")
    req.send(b"first")
    rid, req_id1, empty, body = router.recv_multipart()
    assert (rid, empty, body) == (b"c", b"", b"first")
    assert len(req_id1) == 4
    req.send(b"second")
    _, req_id2, _, _ = router.recv_multipart()
    assert req_id2 != req_id1
    # a reply to the superseded request is dropped; the matching one is delivered
    router.send_multipart([b"c", req_id1, b"", b"stale"])
    router.send_multipart([b"c", req_id2, b"", b"fresh"])
    assert req.recv() == b"fresh"


def test_rep_fair_queues_and_replies_to_the_right_req(ctx, transport, wait_peers):
    rep = ctx.socket(zmq.REP)
    _timeouts(rep)
    addr = transport.bind(rep)
    reqs = [ctx.socket(zmq.REQ) for _ in range(3)]
    for r in reqs:
        _timeouts(r)
        r.connect(addr)
    wait_peers(rep, 3)
    for i, r in enumerate(reqs):
        r.send(b"%d" % i)
    for _ in range(3):
        rep.send(b"re:" + rep.recv())
    for i, r in enumerate(reqs):
        assert r.recv() == b"re:%d" % i


def test_rep_drops_reply_when_requester_left(ctx):
    rep = ctx.socket(zmq.REP)
    _timeouts(rep)
    rep.bind("inproc://rr-gone")
    gone, stays = ctx.socket(zmq.REQ), ctx.socket(zmq.REQ)
    _timeouts(stays)
    gone.connect("inproc://rr-gone")
    stays.connect("inproc://rr-gone")
    gone.send(b"q1")
    assert rep.recv() == b"q1"
    gone.close(linger=0)
    rep.send(b"to-nobody")  # no error: the reply is dropped
    stays.send(b"q2")
    assert rep.recv() == b"q2"
    rep.send(b"a2")
    assert stays.recv() == b"a2"

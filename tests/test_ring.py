"""Tests of the SPSC chunked ring (fastzmq._ring): unit, model-based, two-thread stress."""

from __future__ import annotations

import gc
import os
import sys
import threading
import weakref

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fastzmq import _ring
from fastzmq._ring import ObjectRing, PyRing, Ring
from fastzmq._waiter import Waiter


def test_compiled_module_loaded():
    assert _ring.__file__.endswith((".so", ".pyd"))


def test_chunk_size_rounds_up_to_power_of_two():
    assert Ring(100).chunk_bytes == 128
    assert Ring(1).chunk_bytes == 64
    assert Ring().chunk_bytes == 65536


def test_unpublished_bytes_are_invisible():
    r = PyRing(64)
    r.write(b"hello")
    assert r.readable == 0
    assert r.committed_unpublished == 5
    assert r.peek() == b""
    r.publish(1)
    assert r.readable == 5
    assert r.committed_unpublished == 0
    assert r.pending_msgs == 1
    assert r.read(5) == b"hello"
    assert r.readable == 0


def test_write_publish_read_across_chunk_boundaries():
    r = PyRing(64)
    data = bytes(range(200))
    r.write(data[:50])
    r.write(data[50:])
    r.publish(2)
    assert r.peek() == data[:64]  # one chunk's contiguous run
    assert r.read(10) == data[:10]
    assert r.read(100) == data[10:110]  # spans two chunk boundaries
    assert r.read(90) == data[110:]
    with pytest.raises(ValueError):
        r.read(1)


def test_read_of_too_many_bytes_consumes_nothing():
    r = PyRing(64)
    r.write(b"abc")
    r.publish(1)
    with pytest.raises(ValueError):
        r.read(4)
    assert r.read(3) == b"abc"


def test_large_write_spans_many_chunks():
    r = PyRing(256)
    data = os.urandom(1 << 20)
    r.write(data)
    r.publish(1)
    assert r.readable == len(data)
    assert r.read(len(data)) == data
    assert r.published_bytes == r.consumed_bytes == len(data)


def test_read_iov_returns_published_runs_without_consuming():
    r = PyRing(64)
    data = os.urandom(300)
    r.write(data[:20])
    r.publish()  # start at offset 20 so runs are uneven
    r.consume(0)
    assert r.read(20) == data[:20]
    r.write(data[20:])
    assert r.read_iov() == []  # nothing published yet
    r.publish(1)
    runs = r.read_iov()
    assert b"".join(runs) == data[20:]
    assert [len(x) for x in runs] == [44, 64, 64, 64, 44]
    assert r.read_iov(max_iov=2) == runs[:2]
    limited = r.read_iov(max_bytes=100)
    assert b"".join(limited) == data[20:120]
    assert r.readable == 280  # nothing consumed


def test_write_reserve_uses_contiguous_room_only():
    r = PyRing(64)
    r.write(b"x" * 60)
    assert r.write_reserve(b"abcdefgh") == 4  # 4 bytes left in the first chunk
    assert r.write_reserve(b"efgh") == 4  # next chunk
    r.publish(1)
    assert r.read(68) == b"x" * 60 + b"abcdefgh"


def test_pending_msgs_counts_published_minus_consumed():
    r = PyRing(64)
    for i in range(5):
        r.write(bytes([i]) * 3)
    r.publish(3)
    assert r.pending_msgs == 3
    r.publish(2)
    assert r.pending_msgs == 5
    r.consume(6, 2)
    assert r.pending_msgs == 3
    with pytest.raises(ValueError):
        r.consume(0, 4)
    with pytest.raises(ValueError):
        r.consume(10, 0)


def test_spare_chunk_recycling_avoids_malloc_churn():
    r = PyRing(64)
    for _ in range(1000):
        r.write(b"y" * 64)
        r.publish(1)
        assert r.read(64) == b"y" * 64
    # one live chunk plus the spare handed back and forth: no malloc per chunk
    assert r.ring.chunks_allocated <= 3
    r.close()
    assert r.ring.chunks_allocated == r.ring.chunks_freed


def test_no_chunk_leak_with_data_left_in_the_ring():
    r = PyRing(64)
    r.write(os.urandom(10_000))
    r.publish(1)
    r.read(5_000)
    assert r.ring.chunks_allocated >= 10_000 // 64
    r.close()
    assert r.ring.chunks_allocated == r.ring.chunks_freed
    with pytest.raises(ValueError):
        r.readable  # noqa: B018


def test_publish_to_keeps_a_partial_message_invisible():
    r = PyRing(64)
    r.write(b"A" * 50 + b"B" * 100)  # a whole message, then the start of the next
    r.publish_to(50, 1)
    assert r.readable == 50 and r.pending_msgs == 1
    assert r.committed_unpublished == 100
    assert r.read(50) == b"A" * 50
    r.publish_to(150, 1)
    assert r.read(100) == b"B" * 100
    with pytest.raises(ValueError):
        r.publish_to(10)


def test_rollback_drops_unpublished_bytes_across_chunks():
    r = PyRing(64)
    r.write(b"k" * 40)
    r.publish(1)
    r.write(os.urandom(500))  # spans several fresh chunks, never published
    r.rollback()
    assert r.committed_unpublished == 0
    r.write(b"next")
    r.publish(1)
    assert r.read(44) == b"k" * 40 + b"next"
    r.close()
    assert r.ring.chunks_allocated == r.ring.chunks_freed


# ---- ObjectRing ----


def test_object_ring_is_fifo_and_moves_references():
    o = ObjectRing(64)
    items = [object() for _ in range(100)]  # 800 bytes of records: crosses chunks
    before = [sys.getrefcount(x) for x in items]
    for i in range(len(items)):
        o.put(items[i])
    assert [sys.getrefcount(x) for x in items] == [b + 1 for b in before]
    assert o.pending == 100
    got = [o.get() for _ in range(100)]
    assert all(a is b for a, b in zip(got, items))
    del got
    assert [sys.getrefcount(x) for x in items] == before
    assert o.get() is None
    assert o.pending == 0


def test_object_ring_rejects_none():
    with pytest.raises(TypeError):
        ObjectRing().put(None)


class _Token:
    pass


def test_object_ring_dealloc_releases_queued_references():
    o = ObjectRing(64)
    toks = [_Token() for _ in range(20)]
    refs = [weakref.ref(t) for t in toks]
    for t in toks:
        o.put(t)
    del toks, t
    assert all(r() is not None for r in refs)
    del o
    gc.collect()
    assert all(r() is None for r in refs)


def test_object_ring_close_releases_and_frees():
    o = ObjectRing(64)
    tok = _Token()
    ref = weakref.ref(tok)
    for _ in range(3):
        o.put(tok)
    del tok
    o.close()
    assert ref() is None
    assert o.ring.chunks_allocated == o.ring.chunks_freed
    with pytest.raises(ValueError):
        o.put(1)


def test_object_ring_between_two_python_threads():
    o = ObjectRing(256)
    w = Waiter()
    o.ring.set_reader(w)
    n = 20_000
    got = []

    def consume():
        while len(got) < n:
            x = o.get()
            if x is None:
                w.arm()
                x = o.get()
                if x is None:
                    assert w.wait(2000), "lost wake-up"
                    w.drain()
                    continue
                w.disarm()
            got.append(x)

    t = threading.Thread(target=consume)
    t.start()
    for i in range(n):
        o.put(i)
    t.join(10)
    assert not t.is_alive()
    assert got == list(range(n))
    w.close()


# ---- model-based: arbitrary interleavings of producer and consumer operations ----


class RingModel(RuleBasedStateMachine):
    """The ring against a bytearray model: committed, published and consumed bytes/messages."""

    @initialize(chunk=st.sampled_from([64, 128, 256]))
    def setup(self, chunk):
        self.r = PyRing(chunk)
        self.visible = bytearray()  # published, not consumed
        self.unpublished = bytearray()  # committed, not published
        self.msgs = 0  # published messages not consumed

    @rule(data=st.binary(max_size=300))
    def write(self, data):
        self.r.write(data)
        self.unpublished += data

    @rule(data=st.binary(max_size=100))
    def write_reserve(self, data):
        k = self.r.write_reserve(data)
        assert 0 < k <= len(data) or (k == 0 and not data)
        self.unpublished += data[:k]

    @rule(nmsgs=st.integers(0, 3))
    def publish(self, nmsgs):
        self.r.publish(nmsgs)
        self.visible += self.unpublished
        self.unpublished = bytearray()
        self.msgs += nmsgs

    @precondition(lambda self: len(self.visible) > 0)
    @rule(frac=st.floats(0, 1), take_msgs=st.booleans())
    def read(self, frac, take_msgs):
        n = int(len(self.visible) * frac)
        assert self.r.read(n) == bytes(self.visible[:n])
        del self.visible[:n]
        if take_msgs and self.msgs:
            self.r.consume(0, 1)
            self.msgs -= 1

    @rule(n=st.integers(0, 400))
    def consume(self, n):
        n = min(n, len(self.visible))
        self.r.consume(n, 0)
        del self.visible[:n]

    @rule(max_iov=st.integers(0, 8), max_bytes=st.integers(0, 1000))
    def read_iov(self, max_iov, max_bytes):
        runs = self.r.read_iov(max_iov, max_bytes)
        joined = b"".join(runs)
        assert len(runs) <= max_iov
        assert all(runs)
        assert bytes(self.visible).startswith(joined)
        assert len(joined) <= max_bytes
        if len(runs) < max_iov:  # not cut by max_iov: got everything allowed
            assert len(joined) == min(max_bytes, len(self.visible))

    @rule(hwm=st.integers(1, 6))
    def below_hwm(self, hwm):
        # the producer's cached consumed count may lag, but the answer never does
        assert self.r.below_hwm(hwm) == (self.msgs < hwm)

    @invariant()
    def counters_agree(self):
        assert self.r.readable == len(self.visible)
        assert self.r.committed_unpublished == len(self.unpublished)
        assert self.r.pending_msgs == self.msgs
        assert bytes(self.visible).startswith(self.r.peek())
        assert (self.r.peek() == b"") == (len(self.visible) == 0)

    def teardown(self):
        self.r.close()
        assert self.r.ring.chunks_allocated == self.r.ring.chunks_freed


TestRingModel = RingModel.TestCase
TestRingModel.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


# ---- two real threads, nogil, ordered and lossless ----


def _run_pair(ring, nmsgs, **kw):
    prod_kw = {k: kw[k] for k in ("max_size", "seed", "hwm", "batch_max", "spin") if k in kw}
    out = {}

    def consumer():
        out["c"] = _ring._stress_consume(ring, nmsgs, spin=kw.get("spin", 0), timeout=20.0)

    t = threading.Thread(target=consumer)
    t.start()
    out["p"] = _ring._stress_produce(ring, nmsgs, timeout=20.0, **prod_kw)
    t.join(25)
    assert not t.is_alive()
    return out["p"], out["c"]


def _attached_ring(chunk, low_water):
    ring = Ring(chunk)
    rw, ww = Waiter(), Waiter()
    ring.set_reader(rw)
    ring.set_writer(ww)
    ring.set_low_water(low_water)
    return ring, rw, ww


@pytest.mark.timeout(60)
def test_stress_two_threads_millions_of_messages():
    ring, rw, ww = _attached_ring(1024, 500)
    n = 2_000_000
    p, c = _run_pair(ring, n, max_size=100, seed=12345, hwm=1000, batch_max=8, spin=200)
    assert p["rc"] == 0 and c["rc"] == 0, (p, c)
    assert c["errors"] == 0
    assert c["done"] == p["done"] == n
    assert c["lost_wakeups"] == p["lost_wakeups"] == 0
    # everything consumed: only the head chunk and at most N_SPARE (4) spares are still alive
    assert ring.chunks_allocated - ring.chunks_freed <= 5


@pytest.mark.timeout(60)
def test_stress_tiny_chunks_every_message_crosses_chunks():
    ring, rw, ww = _attached_ring(64, 50)
    n = 200_000
    p, c = _run_pair(ring, n, max_size=300, seed=99, hwm=100, batch_max=3, spin=50)
    assert p["rc"] == 0 and c["rc"] == 0, (p, c)
    assert c["errors"] == 0 and c["done"] == n
    assert c["lost_wakeups"] == p["lost_wakeups"] == 0


# ---- the shared chunk pool (rings of the default chunk size) ----

CHUNK = 65536


@pytest.fixture
def pool_limit():
    """Set the process-wide pool limit for one test, then restore it (emptying the pool)."""
    before = _ring.pool_stats()["limit"] * CHUNK

    def set_limit(n_chunks):
        _ring.set_pool_limit(n_chunks * CHUNK)

    yield set_limit
    _ring.set_pool_limit(0)
    _ring.set_pool_limit(before)


def _fill_and_drain(r, n_chunks):
    r.write(b"p" * (n_chunks * CHUNK))
    r.publish(1)
    assert r.read(n_chunks * CHUNK) == b"p" * (n_chunks * CHUNK)


def test_pool_takes_what_the_spares_cannot_and_is_bounded(pool_limit):
    pool_limit(0)  # empty, whatever earlier tests left
    pool_limit(6)
    a = PyRing()
    _fill_and_drain(a, 20)  # 20 chunks pass through: 4 stay as spares, the rest leave the ring
    s = _ring.pool_stats()
    assert s["chunks"] == 6 and s["limit"] == 6 and s["chunk_bytes"] == CHUNK
    assert s["overflows"] >= 20 - 1 - 4 - 6

    b = PyRing()  # a fresh ring takes the pooled chunks before it mallocs
    hits = s["hits"]
    _fill_and_drain(b, 3)
    s = _ring.pool_stats()
    assert s["hits"] - hits == 3 and s["chunks"] == 3

    a.close()
    b.close()  # every chunk a ring took is handed back: to the pool (up to its limit) or freed
    assert a.ring.chunks_allocated == a.ring.chunks_freed
    assert b.ring.chunks_allocated == b.ring.chunks_freed
    assert _ring.pool_stats()["chunks"] == 6

    pool_limit(2)  # lowering the limit frees the excess at once
    assert _ring.pool_stats()["chunks"] == 2
    pool_limit(0)
    assert _ring.pool_stats()["chunks"] == 0


def test_rings_of_other_chunk_sizes_stay_out_of_the_pool(pool_limit):
    pool_limit(0)
    pool_limit(8)
    r = PyRing(4096)
    r.write(b"q" * (40 * 4096))
    r.publish(1)
    r.read(40 * 4096)
    r.close()
    assert _ring.pool_stats()["chunks"] == 0


def test_tuning_sets_the_pool_limit_in_whole_chunks(pool_limit):
    from fastzmq import tuning

    tuning.set_chunk_pool(3 * CHUNK + 100)
    assert tuning.get_chunk_pool() == 3 * CHUNK
    assert _ring.pool_stats()["limit"] == 3
    for bad in (-1, 2**64, 1.5, "1024", True):
        with pytest.raises(ValueError, match="chunk pool size"):
            tuning.set_chunk_pool(bad)
    assert tuning.get_chunk_pool() == 3 * CHUNK


@pytest.mark.timeout(60)
def test_stress_two_pairs_share_the_pool_without_handing_a_chunk_out_twice(pool_limit):
    # Four threads take chunks from and give chunks to one small pool at once. A chunk handed
    # to two rings would be overwritten under a reader: the consumers check every byte.
    pool_limit(0)
    pool_limit(8)
    before = _ring.pool_stats()
    pairs = [_attached_ring(CHUNK, 10) for _ in range(2)]
    n = 3000
    out = [None, None]

    def run(i):
        out[i] = _run_pair(pairs[i][0], n, max_size=200_000, seed=7 + i, hwm=20, batch_max=4)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(50)
        assert not t.is_alive()
    for p, c in out:
        assert p["rc"] == 0 and c["rc"] == 0, (p, c)
        assert c["errors"] == 0 and c["done"] == n
    after = _ring.pool_stats()
    assert after["hits"] > before["hits"] and after["overflows"] > before["overflows"]
    assert after["chunks"] <= 8
    for ring, _, _ in pairs:  # drained: only the head chunk and the spares are still held
        assert ring.chunks_allocated - ring.chunks_freed <= 5

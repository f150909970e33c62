"""Subscription tries: the Cython Trie/Mtrie agree exactly with the Python reference model."""

from __future__ import annotations

import random
import threading
import tracemalloc

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fastzmq import _trie, _trie_py

# Prefixes from a small alphabet, so that prefixes of one another, shared stems, label
# splits and merges happen all the time; plus arbitrary binary now and then.
ALPHABET = [b"\x00", b"\xff", b"a", b"b", b"ab", b"\x00\xff"]
prefix_st = st.one_of(
    st.lists(st.sampled_from(ALPHABET), max_size=5).map(b"".join),
    st.binary(max_size=8),
)
pipe_st = st.integers(min_value=0, max_value=6)


def random_prefix(rng: random.Random, maxlen: int = 6) -> bytes:
    return b"".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, maxlen)))


def random_subs(n: int, seed: int) -> list:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randint(1, 16)) for _ in range(n)]


def radix_nodes(prefixes: list) -> int:
    """Node count of a path-compressed trie holding exactly these prefixes: the root, each
    non-empty prefix, and each branching point (longest common prefix of two prefixes
    that diverge), since an unsubscribed non-root node must have >= 2 children."""
    subs = set(prefixes)
    branches = set()
    for a in subs:
        for b in subs:
            k = 0
            while k < len(a) and k < len(b) and a[k] == b[k]:
                k += 1
            if k < len(a) and k < len(b):  # they diverge after a[:k]
                branches.add(a[:k])
    return 1 + len((subs | branches) - {b""})


def test_compiled_module_loaded():
    assert _trie.__file__.endswith((".so", ".pyd"))


# ----------------------------------------------------------------------------- Trie


class TrieMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.c = _trie.Trie()
        self.py = _trie_py.Trie()

    @rule(p=prefix_st)
    def add(self, p):
        assert self.c.add(p) == self.py.add(p)

    @rule(p=prefix_st)
    def remove(self, p):
        assert self.c.remove(p) == self.py.remove(p)

    @rule(data=st.data())
    def remove_existing(self, data):
        if self.py.prefixes():
            p = data.draw(st.sampled_from(self.py.prefixes()))
            assert self.c.remove(p) == self.py.remove(p)

    @rule(topic=prefix_st)
    def check(self, topic):
        assert self.c.check(topic) == self.py.check(topic)

    @invariant()
    def same_state(self):
        assert self.c.prefixes() == self.py.prefixes()
        assert len(self.c) == len(self.py)
        assert self.c.nodes == radix_nodes(self.py.prefixes())


TestTrieStateful = TrieMachine.TestCase
TestTrieStateful.settings = settings(max_examples=75, stateful_step_count=50, deadline=None)


# ----------------------------------------------------------------------------- Mtrie


class MtrieMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.c = _trie.Mtrie()
        self.py = _trie_py.Mtrie()

    @rule(p=prefix_st, pid=pipe_st)
    def add(self, p, pid):
        assert self.c.add(p, pid) == self.py.add(p, pid)

    @rule(p=prefix_st, pid=pipe_st)
    def remove(self, p, pid):
        assert self.c.remove(p, pid) == self.py.remove(p, pid)

    @rule(data=st.data(), pid=pipe_st)
    def remove_existing(self, data, pid):
        if self.py.prefixes():
            p = data.draw(st.sampled_from(self.py.prefixes()))
            assert self.c.remove(p, pid) == self.py.remove(p, pid)

    @rule(pid=pipe_st)
    def remove_pipe(self, pid):
        assert self.c.remove_pipe(pid) == self.py.remove_pipe(pid)

    @rule(topic=prefix_st)
    def match(self, topic):
        expected = self.py.match(topic)
        assert self.c.match(topic) == expected
        ids = self.c._match_c(topic)
        assert len(ids) == len(set(ids)) and set(ids) == expected

    @invariant()
    def same_state(self):
        assert self.c.prefixes() == self.py.prefixes()
        assert len(self.c) == len(self.py)
        assert self.c.has_all() == self.py.has_all()
        assert self.c.nodes == radix_nodes(self.py.prefixes())


TestMtrieStateful = MtrieMachine.TestCase
TestMtrieStateful.settings = settings(max_examples=75, stateful_step_count=50, deadline=None)


def test_mtrie_random_sequence_agrees():
    rng = random.Random(5)
    c, py = _trie.Mtrie(), _trie_py.Mtrie()
    for _ in range(20000):
        op = rng.random()
        p, pid = random_prefix(rng), rng.randrange(20)
        if op < 0.45:
            assert c.add(p, pid) == py.add(p, pid)
        elif op < 0.8:
            assert c.remove(p, pid) == py.remove(p, pid)
        elif op < 0.83:
            assert c.remove_pipe(pid) == py.remove_pipe(pid)
        else:
            assert c.match(p) == py.match(p)
    assert len(py) > 50 and c.prefixes() == py.prefixes()
    assert c.nodes == radix_nodes(py.prefixes())
    for pid in range(20):
        assert c.remove_pipe(pid) == py.remove_pipe(pid)
    assert len(c) == 0 and c.nodes == 1


def test_trie_random_sequence_agrees():
    rng = random.Random(7)
    c, py = _trie.Trie(), _trie_py.Trie()
    for _ in range(20000):
        op, p = rng.random(), random_prefix(rng, 8)
        if op < 0.45:
            assert c.add(p) == py.add(p)
        elif op < 0.85:
            assert c.remove(p) == py.remove(p)
        else:
            assert c.check(p) == py.check(p)
    assert len(py) > 50 and c.prefixes() == py.prefixes()
    assert c.nodes == radix_nodes(py.prefixes())
    for p in py.prefixes():
        while not c.remove(p):
            pass
    assert len(c) == 0 and c.nodes == 1


# ----------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("cls", [_trie.Trie, _trie_py.Trie])
def test_trie_semantics(cls):
    t = cls()
    assert not t.check(b"") and not t.check(b"x")
    assert t.add(b"ab") and t.add(b"abcd") and not t.add(b"ab")
    assert t.check(b"ab") and t.check(b"abc") and not t.check(b"a") and not t.check(b"b")
    assert not t.remove(b"ab")  # counted: one of two
    assert t.check(b"abz")
    assert t.remove(b"ab") and not t.check(b"abz") and t.check(b"abcde")
    assert not t.remove(b"ab") and not t.remove(b"zz")  # not subscribed
    assert t.add(b"")  # the empty prefix matches everything
    assert t.check(b"") and t.check(b"\xff\x00")
    assert t.prefixes() == [b"", b"abcd"] and len(t) == 2


@pytest.mark.parametrize("cls", [_trie.Mtrie, _trie_py.Mtrie])
def test_mtrie_semantics(cls):
    m = cls()
    assert m.add(b"a", 1)  # new prefix: XPUB forwards it
    assert not m.add(b"a", 2) and not m.add(b"a", 1)  # known prefix
    assert m.add(b"", 3) and m.add(b"abc", 1)
    assert m.match(b"abcd") == {1, 2, 3} and m.match(b"b") == {3} and m.match(b"ab") == {1, 2, 3}
    assert not m.remove(b"a", 1)  # pipe 1 subscribed twice
    assert not m.remove(b"a", 1)  # pipe 2 still has it
    assert not m.remove(b"a", 1)  # pipe 1 no longer subscribed: nothing changes
    assert m.match(b"ab") == {2, 3}
    assert m.remove(b"a", 2)  # last one
    assert m.remove_pipe(1) == [b"abc"] and m.remove_pipe(1) == []
    assert m.has_all() and m.match(b"anything") == {3}
    assert m.remove_pipe(3) == [b""] and len(m) == 0 and m.match(b"") == set()


def test_binary_bytes_and_buffer_types():
    for cls in (_trie.Trie, _trie_py.Trie):
        t = cls()
        t.add(b"\x00")
        t.add(bytearray(b"\xff\xff"))
        assert t.check(b"\x00\x00") and t.check(memoryview(b"\xff\xff\x01"))
        assert not t.check(b"\xff\x00") and not t.check(b"\x01")
        with pytest.raises(TypeError):
            t.add("text")
    m = _trie.Mtrie()
    m.add(b"\x00\xff", 0)
    assert m.match(b"\x00\xff\x00") == {0} and m.match(b"\x00\xfe") == set()


@pytest.mark.parametrize("cls", [_trie.Mtrie, _trie_py.Mtrie])
@pytest.mark.parametrize("bad", [-1, 2**31, 2**40])
def test_pipe_id_range(cls, bad):
    m = cls()
    with pytest.raises(ValueError):
        m.add(b"a", bad)
    assert m.add(b"a", 2**31 - 1) and m.match(b"a") == {2**31 - 1}


def test_long_prefixes_split_and_merge():
    rng = random.Random(1)
    base = rng.randbytes(1500)
    t, m = _trie.Trie(), _trie.Mtrie()
    subs = [base, base[:700], base[:700] + b"\x00", base[:1200] + b"\xff" * 300]
    for i, p in enumerate(subs):
        assert t.add(p) and m.add(p, i)
    assert t.prefixes() == sorted(subs)
    assert m.match(base + b"tail") == {0, 1} and m.match(base[:1200] + b"\xff" * 301) == {1, 3}
    assert not t.check(base[:699]) and t.check(base[:700])
    for i, p in enumerate(subs):
        assert t.remove(p) and m.remove(p, i)
    assert t.nodes == 1 and m.nodes == 1


def deep_chain_work(depth: int, out: list) -> None:
    m = _trie.Mtrie()
    for k in range(depth + 1):
        m.add(b"a" * k, k % 3)
    out.append(len(m.prefixes()) == depth + 1)
    out.append(m.match(b"a" * 10) == {0, 1, 2} and m.match(b"") == {0})
    out.append(m.remove_pipe(1) == [b"a" * k for k in range(1, depth + 1, 3)])
    out.append(m.match(b"a" * 10) == {0, 2})
    del m  # freeing the chain


def test_deep_chain_needs_no_recursion():
    # A 10k-deep chain of nested prefixes, walked, matched, pruned and freed in a thread
    # with a 256 KiB stack: any per-level C recursion would overflow it.
    old = threading.stack_size(256 * 1024)
    try:
        out: list = []
        th = threading.Thread(target=deep_chain_work, args=(10_000, out))
        th.start()
    finally:
        threading.stack_size(old)
    th.join(timeout=20)
    assert not th.is_alive()
    assert out == [True] * 4


def test_dense_sparse_transitions():
    t, m = _trie.Trie(), _trie.Mtrie()
    keys = [bytes([b]) for b in range(256)]
    for i, k in enumerate(keys):
        t.add(b"p" + k)
        m.add(b"p" + k, i)
        assert t.check(b"p" + k + b"x") and m.match(b"p" + k) == {i}
    assert not t.check(b"p") and t.prefixes() == [b"p" + k for k in keys]
    for i, k in enumerate(reversed(keys)):  # shrink past the dense -> sparse threshold
        assert t.remove(b"p" + k) and m.remove(b"p" + k, 255 - i)
        if i % 17 == 0 or i > 230:
            left = [b"p" + x for x in keys[: 255 - i]]
            assert t.prefixes() == left and m.prefixes() == left
            assert not t.check(b"p" + k) and (not left or t.check(left[-1]))
    assert t.nodes == 1 and m.nodes == 1


def test_match_c_dedupes_and_truncates():
    m = _trie.Mtrie()
    big = 2**31 - 1  # beyond the stamp table: deduplicated linearly
    for p in (b"", b"t", b"to", b"top"):
        for pid in (5, 9, big):
            m.add(p, pid)
    m.add(b"top", 2)
    ids = m._match_c(b"topic")
    assert sorted(ids) == [2, 5, 9, big]
    assert len(m._match_c(b"topic", 2)) == 2 and m._match_c(b"topic", 0) == []
    assert sorted(m._match_c(b"x")) == [5, 9, big]


def test_remove_pipe_stops_early_and_skips_unknown_pipes():
    m, py = _trie.Mtrie(), _trie_py.Mtrie()
    for i, p in enumerate(random_subs(3000, 8)):
        for pid in (i % 3, 2**31 - 1 - i % 2):  # small ids (counted) and huge ones (walked)
            assert m.add(p, pid) == py.add(p, pid)
    m.add(b"\x00", 5)
    py.add(b"\x00", 5)
    for pid in (7, 5000, 2**30, 5, 0, 2**31 - 1, 1, 2**31 - 2, 2):
        assert m.remove_pipe(pid) == py.remove_pipe(pid)
        assert m.prefixes() == py.prefixes()
    assert len(m) == 0 and m.nodes == 1


def test_has_all():
    m = _trie.Mtrie()
    assert not m.has_all()
    m.add(b"", 1)
    m.add(b"", 2)
    assert m.has_all()
    m.add(b"x", 1)
    assert not m.has_all()
    m.remove(b"x", 1)
    assert m.has_all()


def test_100k_subscriptions_and_memory_returns():
    subs = random_subs(100_000, 3)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        m = _trie.Mtrie()
        for i, p in enumerate(subs):
            m.add(p, i % 64)
        grown = tracemalloc.get_traced_memory()[0]
        assert len(m) == len(set(subs))
        assert 12345 % 64 in m.match(subs[12345] + b"!")
        for i, p in enumerate(subs):
            m.remove(p, i % 64)
        assert len(m) == 0 and m.nodes == 1
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert grown - before > 5_000_000  # the C nodes are traced (PyMem_RawMalloc)
    assert after - before < 20_000  # and all of it came back


def churn(t, rng: random.Random, rounds: int) -> None:
    for _ in range(rounds):
        batch = [rng.randbytes(rng.randint(1, 12)) for _ in range(500)]
        for p in batch:
            t.add(p)
        for p in batch:
            t.remove(p)


def test_churn_does_not_grow():
    # Sparse child arrays keep some slack (they shrink at 1/4 full), so the first rounds
    # may grow a little; after that, 20 rounds of 500 add+remove must cost well under
    # what a single leaked 16-byte allocation per cancel would (20 * 500 * 16 = 160 KB).
    rng = random.Random(9)
    stable = random_subs(2000, 4)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        t = _trie.Trie()
        for p in stable:
            t.add(p)
        nodes = t.nodes
        churn(t, rng, 10)
        warm = tracemalloc.get_traced_memory()[0]
        churn(t, rng, 20)
        churned = tracemalloc.get_traced_memory()[0]
        assert t.nodes == nodes and t.prefixes() == sorted(set(stable))
        for p in stable:
            t.remove(p)
        assert t.nodes == 1
        del p
        empty = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert churned - warm < 20_000
    assert empty - base < 5_000  # all returned (the stable list predates tracing)


def test_match_walks_topic_not_subscriptions():
    m = _trie.Mtrie()
    m.add(b"quote", 1)
    for i, p in enumerate(random_subs(50_000, 5)):
        if not p.startswith(b"q"):
            m.add(p, 2 + i % 8)
    assert m.match(b"quote.AAPL") == {1}
    assert m._bench_match(b"quote.AAPL", 1000) == 1000
    t = _trie.Trie()
    t.add(b"quote")
    assert t._bench_check(b"quote.X", 1000) == 1000 and t._bench_check(b"quot", 10) == 0

"""Plain-Python reference model of the subscription tries (the test oracle for _trie.pyx).

Same API and return values as ``fastzmq._trie.Trie`` / ``Mtrie``, written to be obviously
correct rather than fast: a subscription is a prefix (RFC 29), counted; matching tries
every subscribed prefix against the topic.
"""

from __future__ import annotations

import operator
from collections import Counter
from typing import Dict, List, Set

_PIPE_ID_LIMIT = 2**31


def _as_bytes(b: object) -> bytes:
    if type(b) is bytes:
        return b
    return bytes(memoryview(b))  # TypeError for str and int, like the Cython version


def _check_pid(pipe_id: object) -> int:
    v = operator.index(pipe_id)
    if not 0 <= v < _PIPE_ID_LIMIT:
        raise ValueError(f"pipe id must be in [0, 2**31): {pipe_id!r}")
    return v


class Trie:
    """Counted set of subscribed prefixes (SUB/XSUB side)."""

    def __init__(self) -> None:
        self._count: Counter[bytes] = Counter()

    def add(self, prefix: bytes) -> bool:
        p = _as_bytes(prefix)
        self._count[p] += 1
        return self._count[p] == 1

    def remove(self, prefix: bytes) -> bool:
        p = _as_bytes(prefix)
        if p not in self._count:
            return False
        self._count[p] -= 1
        if self._count[p]:
            return False
        del self._count[p]
        return True

    def check(self, topic: bytes) -> bool:
        t = _as_bytes(topic)
        return any(t.startswith(p) for p in self._count)

    def prefixes(self) -> List[bytes]:
        return sorted(self._count)

    def __len__(self) -> int:
        return len(self._count)


class Mtrie:
    """Prefix -> pipe ids, counted per pipe (PUB/XPUB side)."""

    def __init__(self) -> None:
        self._subs: Dict[bytes, Counter[int]] = {}

    def add(self, prefix: bytes, pipe_id: int) -> bool:
        pid = _check_pid(pipe_id)
        p = _as_bytes(prefix)
        is_new = p not in self._subs
        self._subs.setdefault(p, Counter())[pid] += 1
        return is_new

    def contains(self, prefix: bytes, pipe_id: int) -> bool:
        pid = _check_pid(pipe_id)
        return pid in self._subs.get(_as_bytes(prefix), ())

    def remove(self, prefix: bytes, pipe_id: int) -> bool:
        pid = _check_pid(pipe_id)
        pipes = self._subs.get(_as_bytes(prefix))
        if pipes is None or pid not in pipes:
            return False
        pipes[pid] -= 1
        if pipes[pid]:
            return False
        del pipes[pid]
        if pipes:
            return False
        del self._subs[_as_bytes(prefix)]
        return True

    def remove_pipe(self, pipe_id: int) -> List[bytes]:
        pid = _check_pid(pipe_id)
        emptied = []
        for p in sorted(self._subs):
            pipes = self._subs[p]
            if pid in pipes:
                del pipes[pid]
                if not pipes:
                    del self._subs[p]
                    emptied.append(p)
        return emptied

    def match(self, topic: bytes) -> Set[int]:
        t = _as_bytes(topic)
        out: Set[int] = set()
        for p, pipes in self._subs.items():
            if t.startswith(p):
                out.update(pipes)
        return out

    def has_all(self) -> bool:
        return list(self._subs) == [b""]

    def prefixes(self) -> List[bytes]:
        return sorted(self._subs)

    def __len__(self) -> int:
        return len(self._subs)

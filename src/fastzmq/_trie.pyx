# cython: language_level=3
"""Subscription tries: what a SUB is subscribed to, and which pipes a PUB sends a topic to.

Theory of operation
-------------------
RFC 29 (PUB/SUB), "The PUB Socket Type": the publisher "SHALL perform a binary comparison
of the subscription against the start of the first frame of the message", i.e. a
subscription is a byte-string *prefix*, the empty prefix matching everything.
"The XPUB Socket Type" lets XPUB "normalize commands ... so that multiple identical
subscriptions result in a single command only" (``Mtrie.add``/``remove`` return True only
for the first subscribe / last cancel of a prefix across all pipes) and requires it to
"generate a suitable unsubscribe request" when a subscriber disconnects
(``Mtrie.remove_pipe`` returns exactly those prefixes). Subscriptions are counted, as in
libzmq: SUBSCRIBE twice then CANCEL once leaves the subscription in place.

Both structures are one *radix trie* (path-compressed prefix tree) of C nodes:

* The root is the empty prefix. Every other node carries the edge label ``seg`` that leads
  to it from its parent (``seglen >= 1``); its prefix is the concatenation of the labels
  on the path from the root. ``seg[0]`` is the byte the parent dispatches on.
* A node's payload is ``count``: for ``Trie`` the number of subscriptions of exactly that
  prefix, for ``Mtrie`` the number of distinct pipes subscribed to it (with per-pipe
  counts in the sorted arrays ``pids``/``pcnt``).
* Invariant: a non-root node with ``count == 0`` has at least two children. Removal keeps
  it: an emptied leaf is freed (and its parent re-checked), an emptied node with one child
  is merged into that child (labels concatenated). So memory is proportional to the live
  subscriptions, whatever the churn, and ``nnodes`` returns to 1 when all are removed.
* Insertion walks down comparing labels; a label that diverges from the new prefix is
  split in two at the divergence point.
* Matching walks the topic once, byte by byte against the labels, collecting the payload
  of every node passed: cost O(len(topic) + matches), independent of the number of
  non-matching subscriptions.

Children: up to 32 are a sorted byte array ``keys`` with a parallel pointer array (a tiny
linear scan, and sorted order gives ``prefixes()`` in lexicographic order for free); past
32 the node switches to a 256-slot table indexed by byte (one load), and back to sparse
below 16 (hysteresis, so churn at the boundary does not flip-flop). Near the root of a
large set of random subscriptions nodes are dense; further down they have 1-3 children.

All traversals (prefixes, remove_pipe, freeing) use an explicit heap stack: a chain of
nested prefixes 100k deep must not overflow the C stack. Memory comes from
PyMem_RawMalloc, so tracemalloc sees it (the tests use that to prove nothing leaks).

``Mtrie.remove_pipe`` walks the trie in byte order (a pipe's subscriptions are not indexed
by pipe; disconnects are rare next to matches), but knows from ``psubs[pid]`` how many
prefixes the pipe holds: nothing to do for a pipe with none, and the walk stops at the
pipe's last one. Phase 1 drops the pipe from the nodes and records the prefixes that
became empty; phase 2 re-finds each of them and restores the invariant, so the traversal
never runs over nodes being freed.

``Mtrie.match_c`` deduplicates pipe ids with a generation stamp per pipe id: a pipe that
is subscribed to several prefixes of the topic is written once, at O(1) per hit.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.number cimport PyNumber_Index
from cpython.mem cimport PyMem_RawFree, PyMem_RawMalloc, PyMem_RawRealloc
from libc.stdint cimport int32_t, uint16_t, uint32_t
from libc.string cimport memcmp, memcpy, memmove, memset

cdef enum:
    DENSE = 256          # kcap value of a 256-way child table
    SPARSE_MAX = 32      # a sparse node grows into a dense one past this many children
    SPARSE_BACK = 16     # a dense node shrinks back to sparse at this many children
    STAMP_MAX = 1 << 20  # pipe ids below this get an O(1) dedupe stamp in match_c
    PIPE_ID_LIMIT = 0x7FFFFFFF

# ---------------------------------------------------------------------------------------
# nodes


cdef Node* node_new(Tree* t, Node* parent, const unsigned char* seg, size_t n) noexcept nogil:
    cdef Node* nd = <Node*>PyMem_RawMalloc(sizeof(Node))
    if nd == NULL:
        return NULL
    memset(nd, 0, sizeof(Node))
    if n:
        nd.seg = <unsigned char*>PyMem_RawMalloc(n)
        if nd.seg == NULL:
            PyMem_RawFree(nd)
            return NULL
        memcpy(nd.seg, seg, n)
    nd.seglen = <uint32_t>n
    nd.parent = parent
    t.nnodes += 1
    return nd


cdef void node_free(Tree* t, Node* nd) noexcept nogil:
    """Free one node and its arrays, not its children."""
    PyMem_RawFree(nd.seg)
    PyMem_RawFree(nd.keys)
    PyMem_RawFree(nd.kids)
    PyMem_RawFree(nd.pids)
    PyMem_RawFree(nd.pcnt)
    PyMem_RawFree(nd)
    t.nnodes -= 1


# ---------------------------------------------------------------------------------------
# children: sparse sorted array or dense 256 table


cdef inline Node* kid_get(const Node* nd, unsigned char c) noexcept nogil:
    cdef int i
    if nd.kcap == DENSE:
        return nd.kids[c]
    for i in range(nd.nkids):
        if nd.keys[i] >= c:
            return nd.kids[i] if nd.keys[i] == c else NULL
    return NULL


cdef inline Node* kid_at(const Node* nd, int i) noexcept nogil:
    """The i-th child in byte order, or NULL for an empty dense slot."""
    return nd.kids[i]


cdef inline int kid_slots(const Node* nd) noexcept nogil:
    return DENSE if nd.kcap == DENSE else nd.nkids


cdef int kid_to_dense(Node* nd) noexcept nogil:
    cdef Node** table = <Node**>PyMem_RawMalloc(DENSE * sizeof(Node*))
    cdef int i
    if table == NULL:
        return -1
    memset(table, 0, DENSE * sizeof(Node*))
    for i in range(nd.nkids):
        table[nd.keys[i]] = nd.kids[i]
    PyMem_RawFree(nd.keys)
    PyMem_RawFree(nd.kids)
    nd.keys = NULL
    nd.kids = table
    nd.kcap = DENSE
    return 0


cdef int kid_to_sparse(Node* nd) noexcept nogil:
    cdef int cap = SPARSE_MAX
    cdef unsigned char* keys = <unsigned char*>PyMem_RawMalloc(cap)
    cdef Node** kids = <Node**>PyMem_RawMalloc(cap * sizeof(Node*))
    cdef int b, j = 0
    if keys == NULL or kids == NULL:
        PyMem_RawFree(keys)
        PyMem_RawFree(kids)
        return -1  # stays dense: still correct, just bigger
    for b in range(DENSE):
        if nd.kids[b] != NULL:
            keys[j] = <unsigned char>b
            kids[j] = nd.kids[b]
            j += 1
    PyMem_RawFree(nd.kids)
    nd.keys = keys
    nd.kids = kids
    nd.kcap = <uint16_t>cap
    return 0


cdef int kid_grow(Node* nd) noexcept nogil:
    cdef int cap
    cdef unsigned char* keys
    cdef Node** kids
    if nd.kcap >= SPARSE_MAX:
        return kid_to_dense(nd)
    cap = 2 if nd.kcap == 0 else nd.kcap * 2
    keys = <unsigned char*>PyMem_RawRealloc(nd.keys, cap)
    if keys == NULL:
        return -1
    nd.keys = keys
    kids = <Node**>PyMem_RawRealloc(nd.kids, cap * sizeof(Node*))
    if kids == NULL:
        return -1
    nd.kids = kids
    nd.kcap = <uint16_t>cap
    return 0


cdef int kid_put(Node* nd, Node* kid) noexcept nogil:
    """Add kid (whose key seg[0] is not yet present). 0, or -1 when out of memory."""
    cdef unsigned char c = kid.seg[0]
    cdef int i
    if nd.kcap != DENSE and nd.nkids == nd.kcap:
        if kid_grow(nd) < 0:
            return -1
    if nd.kcap == DENSE:
        nd.kids[c] = kid
    else:
        i = nd.nkids
        while i > 0 and nd.keys[i - 1] > c:
            nd.keys[i] = nd.keys[i - 1]
            nd.kids[i] = nd.kids[i - 1]
            i -= 1
        nd.keys[i] = c
        nd.kids[i] = kid
    nd.nkids += 1
    return 0


cdef void kid_replace(Node* nd, Node* kid) noexcept nogil:
    """Put kid in the slot of the existing child with the same key."""
    cdef unsigned char c = kid.seg[0]
    cdef int i
    if nd.kcap == DENSE:
        nd.kids[c] = kid
        return
    for i in range(nd.nkids):
        if nd.keys[i] == c:
            nd.kids[i] = kid
            return


cdef void kid_del(Node* nd, unsigned char c) noexcept nogil:
    cdef int i, j
    if nd.kcap == DENSE:
        nd.kids[c] = NULL
        nd.nkids -= 1
        if nd.nkids <= SPARSE_BACK:
            kid_to_sparse(nd)
        return
    for i in range(nd.nkids):
        if nd.keys[i] == c:
            for j in range(i, nd.nkids - 1):
                nd.keys[j] = nd.keys[j + 1]
                nd.kids[j] = nd.kids[j + 1]
            nd.nkids -= 1
            break
    if nd.nkids == 0:
        PyMem_RawFree(nd.keys)
        PyMem_RawFree(nd.kids)
        nd.keys = NULL
        nd.kids = NULL
        nd.kcap = 0
    elif nd.nkids * 4 <= nd.kcap:
        kid_shrink(nd)


cdef void kid_shrink(Node* nd) noexcept nogil:
    """Halve a sparse array that is at most a quarter full (churn must not ratchet memory)."""
    cdef int cap = nd.kcap // 2
    cdef unsigned char* keys = <unsigned char*>PyMem_RawRealloc(nd.keys, cap)
    cdef Node** kids
    if keys == NULL:
        return
    nd.keys = keys
    nd.kcap = <uint16_t>cap  # a kids array left bigger than kcap is harmless
    kids = <Node**>PyMem_RawRealloc(nd.kids, cap * sizeof(Node*))
    if kids != NULL:
        nd.kids = kids


# ---------------------------------------------------------------------------------------
# tree: find, insert (with split), cleanup (with merge), destroy


cdef int tree_init(Tree* t) except -1:
    t.nnodes = 0
    t.nprefixes = 0
    t.root = node_new(t, NULL, NULL, 0)
    if t.root == NULL:
        raise MemoryError()
    return 0


cdef inline size_t common_len(const Node* kid, const unsigned char* data, size_t n) noexcept nogil:
    """Length of the common prefix of kid's label and data[:n] (>= 1: seg[0] matched)."""
    cdef size_t j = 1
    cdef size_t lim = kid.seglen if kid.seglen < n else n
    while j < lim and kid.seg[j] == data[j]:
        j += 1
    return j


cdef Node* tree_find(const Tree* t, const unsigned char* data, size_t n) noexcept nogil:
    """The node whose prefix is exactly data[:n], or NULL."""
    cdef Node* nd = t.root
    cdef Node* kid
    cdef size_t i = 0
    while i < n:
        kid = kid_get(nd, data[i])
        if kid == NULL or kid.seglen > n - i or memcmp(kid.seg, data + i, kid.seglen) != 0:
            return NULL
        i += kid.seglen
        nd = kid
    return nd


cdef Node* node_split(Tree* t, Node* parent, Node* kid, size_t m) noexcept nogil:
    """Cut kid's label after m bytes: a new middle node takes the first m. Returns it."""
    cdef size_t rest = kid.seglen - m
    cdef Node* mid = node_new(t, parent, kid.seg, m)
    cdef unsigned char* seg
    if mid == NULL:
        return NULL
    seg = <unsigned char*>PyMem_RawMalloc(rest)
    if seg == NULL:
        node_free(t, mid)
        return NULL
    memcpy(seg, kid.seg + m, rest)
    # mid's child array must hold one entry; reserve it before changing anything
    mid.keys = <unsigned char*>PyMem_RawMalloc(2)
    mid.kids = <Node**>PyMem_RawMalloc(2 * sizeof(Node*))
    if mid.keys == NULL or mid.kids == NULL:
        PyMem_RawFree(seg)
        node_free(t, mid)
        return NULL
    mid.kcap = 2
    PyMem_RawFree(kid.seg)
    kid.seg = seg
    kid.seglen = <uint32_t>rest
    kid.parent = mid
    mid.keys[0] = seg[0]
    mid.kids[0] = kid
    mid.nkids = 1
    kid_replace(parent, mid)
    return mid


cdef Node* tree_insert(Tree* t, const unsigned char* data, size_t n) noexcept nogil:
    """The node for prefix data[:n], created (splitting a label if needed). NULL: no memory."""
    cdef Node* nd = t.root
    cdef Node* kid
    cdef size_t i = 0, m
    while i < n:
        kid = kid_get(nd, data[i])
        if kid == NULL:
            kid = node_new(t, nd, data + i, n - i)
            if kid != NULL and kid_put(nd, kid) < 0:
                node_free(t, kid)
                kid = NULL
            return kid
        m = common_len(kid, data + i, n - i)
        if m < kid.seglen:
            kid = node_split(t, nd, kid, m)
            if kid == NULL:
                return NULL
        i += m
        nd = kid
    return nd


cdef Node* only_kid(const Node* nd) noexcept nogil:
    cdef int i
    for i in range(kid_slots(nd)):
        if nd.kids[i] != NULL:
            return nd.kids[i]
    return NULL


cdef int node_merge_down(Tree* t, Node* nd) noexcept nogil:
    """nd (not root, count 0) has one child: the child absorbs nd's label and takes its place."""
    cdef Node* kid = only_kid(nd)
    cdef unsigned char* seg = <unsigned char*>PyMem_RawMalloc(nd.seglen + kid.seglen)
    if seg == NULL:
        return -1  # leaves a redundant but correct node
    memcpy(seg, nd.seg, nd.seglen)
    memcpy(seg + nd.seglen, kid.seg, kid.seglen)
    PyMem_RawFree(kid.seg)
    kid.seg = seg
    kid.seglen += nd.seglen
    kid.parent = nd.parent
    kid_replace(nd.parent, kid)
    node_free(t, nd)
    return 0


cdef void tree_cleanup(Tree* t, Node* nd) noexcept nogil:
    """Restore the invariant after nd's count dropped to 0: free or merge empty nodes upward."""
    cdef Node* parent
    while nd != t.root and nd.count == 0:
        if nd.nkids == 0:
            parent = nd.parent
            kid_del(parent, nd.seg[0])
            node_free(t, nd)
            nd = parent
            continue
        if nd.nkids == 1:
            node_merge_down(t, nd)
        return


# explicit DFS stack: (node, length of the prefix before the node's label)
cdef struct Frame:
    Node* nd
    size_t depth

cdef struct Stack:
    Frame* items
    size_t n
    size_t cap


cdef int stack_push(Stack* s, Node* nd, size_t depth) noexcept nogil:
    cdef size_t cap
    cdef Frame* items
    if s.n == s.cap:
        cap = 64 if s.cap == 0 else s.cap * 2
        items = <Frame*>PyMem_RawRealloc(s.items, cap * sizeof(Frame))
        if items == NULL:
            return -1
        s.items = items
        s.cap = cap
    s.items[s.n].nd = nd
    s.items[s.n].depth = depth
    s.n += 1
    return 0


cdef int push_kids(Stack* s, Node* nd, size_t depth) noexcept nogil:
    """Push nd's children in reverse byte order, so they pop in byte order."""
    cdef int i = kid_slots(nd) - 1
    while i >= 0:
        if nd.kids[i] != NULL and stack_push(s, nd.kids[i], depth) < 0:
            return -1
        i -= 1
    return 0


cdef void tree_destroy(Tree* t) noexcept nogil:
    cdef Stack s
    cdef Node* nd
    memset(&s, 0, sizeof(Stack))
    if t.root == NULL:
        return
    stack_push(&s, t.root, 0)
    while s.n:
        s.n -= 1
        nd = s.items[s.n].nd
        if push_kids(&s, nd, 0) < 0:
            break  # out of memory while freeing: leak the rest rather than crash
        node_free(t, nd)
    PyMem_RawFree(s.items)
    t.root = NULL


# ---------------------------------------------------------------------------------------
# Mtrie pipe sets: sorted pipe ids with a subscription count each


cdef inline int pipe_index(const Node* nd, int32_t pid) noexcept nogil:
    """Index of pid in nd.pids, or -(insertion point) - 1."""
    cdef int lo = 0, hi = <int>nd.count - 1, mid
    while lo <= hi:
        mid = (lo + hi) >> 1
        if nd.pids[mid] < pid:
            lo = mid + 1
        elif nd.pids[mid] > pid:
            hi = mid - 1
        else:
            return mid
    return -lo - 1


cdef int pipe_insert(Node* nd, int i, int32_t pid) noexcept nogil:
    cdef uint32_t cap
    cdef int32_t* pids
    cdef uint32_t* pcnt
    if nd.count == nd.pcap:
        cap = 1 if nd.pcap == 0 else nd.pcap * 2
        pids = <int32_t*>PyMem_RawRealloc(nd.pids, cap * sizeof(int32_t))
        if pids == NULL:
            return -1
        nd.pids = pids
        pcnt = <uint32_t*>PyMem_RawRealloc(nd.pcnt, cap * sizeof(uint32_t))
        if pcnt == NULL:
            return -1
        nd.pcnt = pcnt
        nd.pcap = cap
    memmove(nd.pids + i + 1, nd.pids + i, (nd.count - i) * sizeof(int32_t))
    memmove(nd.pcnt + i + 1, nd.pcnt + i, (nd.count - i) * sizeof(uint32_t))
    nd.pids[i] = pid
    nd.pcnt[i] = 1
    nd.count += 1
    return 0


cdef void pipe_drop(Node* nd, int i) noexcept nogil:
    """Remove the pipe at index i, whatever its count."""
    memmove(nd.pids + i, nd.pids + i + 1, (nd.count - i - 1) * sizeof(int32_t))
    memmove(nd.pcnt + i, nd.pcnt + i + 1, (nd.count - i - 1) * sizeof(uint32_t))
    nd.count -= 1
    if nd.count == 0:
        PyMem_RawFree(nd.pids)
        PyMem_RawFree(nd.pcnt)
        nd.pids = NULL
        nd.pcnt = NULL
        nd.pcap = 0


# ---------------------------------------------------------------------------------------
# Python-level helpers shared by both classes

cdef enum:
    COLLECT_ALL = 0      # every prefix with count > 0
    COLLECT_DROP = 1     # drop a pipe everywhere; the prefixes that became empty


cdef inline bytes as_bytes(object b):
    if type(b) is bytes:
        return <bytes>b
    return bytes(memoryview(b))  # bytearray, memoryview...; TypeError for str and int


cdef int32_t check_pid(object pipe_id) except -1:
    cdef int overflow = 0
    cdef long long v
    if type(pipe_id) is not int:
        pipe_id = PyNumber_Index(pipe_id)  # TypeError for float, str...
    v = PyLong_AsLongLongAndOverflow(pipe_id, &overflow)
    if overflow or v < 0 or v > PIPE_ID_LIMIT:
        raise ValueError(f"pipe id must be in [0, 2**31): {pipe_id!r}")
    return <int32_t>v


cdef enum:
    VISIT_SKIP = 0       # nothing to report
    VISIT_DROPPED = 1    # COLLECT_DROP: the pipe was dropped, others remain
    VISIT_EMIT = 2       # report this node's prefix


cdef int visit(Tree* t, Node* nd, int mode, int32_t pid) noexcept nogil:
    cdef int i
    if mode == COLLECT_ALL:
        return VISIT_EMIT if nd.count > 0 else VISIT_SKIP
    i = pipe_index(nd, pid) if nd.count else -1
    if i < 0:
        return VISIT_SKIP
    pipe_drop(nd, i)
    if nd.count == 0:
        t.nprefixes -= 1
        return VISIT_EMIT
    return VISIT_DROPPED


cdef list tree_collect(Tree* t, int mode, int32_t pid, Py_ssize_t limit=-1):
    """Preorder walk in byte order (so the result is sorted); see visit() for modes.
    COLLECT_DROP stops once limit (if >= 0) pipe entries have been dropped."""
    cdef list out = []
    cdef Stack s
    cdef Node* nd
    cdef size_t depth, d, pcap = 0
    cdef unsigned char* path = NULL
    cdef unsigned char* grown
    cdef int seen
    memset(&s, 0, sizeof(Stack))
    try:
        if limit != 0 and stack_push(&s, t.root, 0) < 0:
            raise MemoryError()
        while s.n:
            s.n -= 1
            nd = s.items[s.n].nd
            depth = s.items[s.n].depth
            d = depth + nd.seglen
            if d > pcap:
                pcap = d * 2
                grown = <unsigned char*>PyMem_RawRealloc(path, pcap)
                if grown == NULL:
                    raise MemoryError()
                path = grown
            if nd.seglen:
                memcpy(path + depth, nd.seg, nd.seglen)
            seen = visit(t, nd, mode, pid)
            if seen == VISIT_EMIT:
                out.append(PyBytes_FromStringAndSize(<char*>path, d))
            if seen != VISIT_SKIP and mode == COLLECT_DROP:
                limit -= 1
                if limit == 0:
                    break  # that was the pipe's last subscription
            if push_kids(&s, nd, d) < 0:
                raise MemoryError()
    finally:
        PyMem_RawFree(s.items)
        PyMem_RawFree(path)
    return out


cdef size_t tree_bound(const Tree* t, const unsigned char* data, size_t n) noexcept nogil:
    """Sum of the pipe counts along the topic's path: room enough for match_c."""
    cdef Node* nd = t.root
    cdef Node* kid
    cdef size_t i = 0, total = 0
    while True:
        total += nd.count
        if i >= n:
            return total
        kid = kid_get(nd, data[i])
        if kid == NULL or kid.seglen > n - i or memcmp(kid.seg, data + i, kid.seglen):
            return total
        i += kid.seglen
        nd = kid


cdef inline int emit(const Node* nd, uint32_t* stamps, uint32_t nstamps, uint32_t gen,
                     int* out, int k, int max_out) noexcept nogil:
    """Append nd's pipes to out[k:max_out], skipping ids already stamped with gen."""
    cdef uint32_t j
    cdef int32_t pid
    cdef int x
    cdef bint seen
    for j in range(nd.count):
        pid = nd.pids[j]
        if pid < <int32_t>nstamps:
            if stamps[pid] == gen:
                continue
            stamps[pid] = gen
        else:
            seen = False
            for x in range(k):
                if out[x] == pid:
                    seen = True
                    break
            if seen:
                continue
        if k < max_out:
            out[k] = pid
            k += 1
    return k


cdef inline const unsigned char* ptr(bytes b) noexcept:
    return <const unsigned char*>PyBytes_AS_STRING(b)


# ---------------------------------------------------------------------------------------
# the classes


cdef class Trie:
    """Counted set of subscribed prefixes (SUB/XSUB side)."""

    def __cinit__(self):
        tree_init(&self.t)

    def __dealloc__(self):
        tree_destroy(&self.t)

    def add(self, prefix) -> bool:
        """Subscribe prefix once more. True if it was not subscribed before."""
        cdef bytes b = as_bytes(prefix)
        cdef Node* nd = tree_insert(&self.t, ptr(b), len(b))
        if nd == NULL:
            raise MemoryError()
        if nd.count == 0xFFFFFFFF:
            raise OverflowError("subscription count overflow")
        nd.count += 1
        if nd.count == 1:
            self.t.nprefixes += 1
            return True
        return False

    def remove(self, prefix) -> bool:
        """Cancel one subscription of prefix. True if its count dropped to zero."""
        cdef bytes b = as_bytes(prefix)
        cdef Node* nd = tree_find(&self.t, ptr(b), len(b))
        if nd == NULL or nd.count == 0:
            return False
        nd.count -= 1
        if nd.count:
            return False
        self.t.nprefixes -= 1
        tree_cleanup(&self.t, nd)
        return True

    def check(self, topic) -> bool:
        """True if some subscribed prefix is a prefix of topic."""
        cdef bytes b = as_bytes(topic)
        return self.check_c(ptr(b), len(b))

    cdef bint check_c(self, const unsigned char* data, size_t n) noexcept nogil:
        cdef Node* nd = self.t.root
        cdef Node* kid
        cdef size_t i = 0
        while True:
            if nd.count:
                return True
            if i >= n:
                return False
            kid = kid_get(nd, data[i])
            if kid == NULL or kid.seglen > n - i or memcmp(kid.seg, data + i, kid.seglen):
                return False
            i += kid.seglen
            nd = kid

    def prefixes(self) -> list:
        """Each subscribed prefix once, in byte order."""
        return tree_collect(&self.t, COLLECT_ALL, 0)

    def __len__(self):
        return self.t.nprefixes

    @property
    def nodes(self) -> int:
        """Live C nodes, root included (1 when empty)."""
        return self.t.nnodes

    def _bench_check(self, topic, Py_ssize_t iterations) -> int:
        """Run check_c iterations times without the GIL; returns how many matched."""
        cdef bytes b = as_bytes(topic)
        cdef const unsigned char* data = ptr(b)
        cdef size_t n = len(b)
        cdef Py_ssize_t k, hits = 0
        with nogil:
            for k in range(iterations):
                hits += self.check_c(data, n)
        return hits


cdef class Mtrie:
    """Prefix -> set of pipe ids, counted per pipe (PUB/XPUB side)."""

    def __cinit__(self):
        tree_init(&self.t)
        self.stamps = NULL
        self.psubs = NULL
        self.nstamps = 0
        self.gen = 0

    def __dealloc__(self):
        tree_destroy(&self.t)
        PyMem_RawFree(self.stamps)
        PyMem_RawFree(self.psubs)

    cdef int reserve_stamp(self, int32_t pid) except -1:
        cdef uint32_t n
        cdef uint32_t* grown
        if pid < <int32_t>self.nstamps or pid >= STAMP_MAX:
            return 0
        n = self.nstamps * 2 if self.nstamps >= 64 else 64
        if n <= <uint32_t>pid:
            n = <uint32_t>pid + 1
        if n > STAMP_MAX:
            n = STAMP_MAX
        grown = <uint32_t*>PyMem_RawRealloc(self.stamps, n * sizeof(uint32_t))
        if grown == NULL:
            raise MemoryError()
        memset(grown + self.nstamps, 0, (n - self.nstamps) * sizeof(uint32_t))
        self.stamps = grown
        grown = <uint32_t*>PyMem_RawRealloc(self.psubs, n * sizeof(uint32_t))
        if grown == NULL:
            raise MemoryError()  # stamps grew, nstamps did not: still consistent
        memset(grown + self.nstamps, 0, (n - self.nstamps) * sizeof(uint32_t))
        self.psubs = grown
        self.nstamps = n
        return 0

    def add(self, prefix, pipe_id) -> bool:
        """Subscribe pipe_id to prefix once more. True if no pipe had prefix before."""
        cdef int32_t pid = check_pid(pipe_id)
        cdef bytes b = as_bytes(prefix)
        cdef Node* nd
        cdef int i
        self.reserve_stamp(pid)
        nd = tree_insert(&self.t, ptr(b), len(b))
        if nd == NULL:
            raise MemoryError()
        i = pipe_index(nd, pid)
        if i >= 0:
            if nd.pcnt[i] == 0xFFFFFFFF:
                raise OverflowError("subscription count overflow")
            nd.pcnt[i] += 1
            return False
        if pipe_insert(nd, -i - 1, pid) < 0:
            tree_cleanup(&self.t, nd)
            raise MemoryError()
        if pid < <int32_t>self.nstamps:
            self.psubs[pid] += 1
        if nd.count == 1:
            self.t.nprefixes += 1
            return True
        return False

    def contains(self, prefix, pipe_id) -> bool:
        """True if pipe_id is subscribed to exactly prefix."""
        cdef int32_t pid = check_pid(pipe_id)
        cdef bytes b = as_bytes(prefix)
        cdef Node* nd = tree_find(&self.t, ptr(b), len(b))
        return nd != NULL and nd.count > 0 and pipe_index(nd, pid) >= 0

    def remove(self, prefix, pipe_id) -> bool:
        """Cancel one subscription of pipe_id to prefix. True if no pipe has prefix now
        (False also when pipe_id was not subscribed to it: nothing changed)."""
        cdef int32_t pid = check_pid(pipe_id)
        cdef bytes b = as_bytes(prefix)
        cdef Node* nd = tree_find(&self.t, ptr(b), len(b))
        cdef int i
        if nd == NULL or nd.count == 0:
            return False
        i = pipe_index(nd, pid)
        if i < 0:
            return False
        if nd.pcnt[i] > 1:
            nd.pcnt[i] -= 1
            return False
        pipe_drop(nd, i)
        if pid < <int32_t>self.nstamps:
            self.psubs[pid] -= 1
        if nd.count:
            return False
        self.t.nprefixes -= 1
        tree_cleanup(&self.t, nd)
        return True

    def remove_pipe(self, pipe_id) -> list:
        """Drop every subscription of pipe_id. Returns the prefixes nobody subscribes to
        any more, in byte order. Walks the trie until the pipe's last subscription is gone
        (O(1) for a pipe with none; the whole trie for pipe ids >= 2**20)."""
        cdef int32_t pid = check_pid(pipe_id)
        cdef Py_ssize_t limit = -1
        cdef list emptied
        cdef bytes b
        cdef Node* nd
        if pid < <int32_t>self.nstamps:
            limit = self.psubs[pid]
            self.psubs[pid] = 0
        elif pid < STAMP_MAX:
            return []  # add() reserves every such id: this one never subscribed
        emptied = tree_collect(&self.t, COLLECT_DROP, pid, limit)
        for b in reversed(emptied):  # deepest first
            nd = tree_find(&self.t, ptr(b), len(b))
            if nd != NULL and nd.count == 0:
                tree_cleanup(&self.t, nd)
        return emptied

    cdef int match_c(self, const unsigned char* data, size_t n, int* out,
                     int max_out) noexcept nogil:
        cdef Node* nd = self.t.root
        cdef Node* kid
        cdef size_t i = 0
        cdef int k = 0
        self.gen += 1
        if self.gen == 0:  # wrapped: forget every old stamp
            if self.stamps != NULL:
                memset(self.stamps, 0, self.nstamps * sizeof(uint32_t))
            self.gen = 1
        while True:
            if nd.count:
                k = emit(nd, self.stamps, self.nstamps, self.gen, out, k, max_out)
            if i >= n:
                return k
            kid = kid_get(nd, data[i])
            if kid == NULL or kid.seglen > n - i or memcmp(kid.seg, data + i, kid.seglen):
                return k
            i += kid.seglen
            nd = kid

    cdef bint has_all_c(self) noexcept nogil:
        return self.t.root.count > 0 and self.t.root.nkids == 0

    cdef int root_pipes_c(self, const int32_t** ids) noexcept nogil:
        ids[0] = self.t.root.pids
        return <int>self.t.root.count

    def match(self, topic) -> set:
        """The distinct pipe ids subscribed to some prefix of topic."""
        cdef bytes b = as_bytes(topic)
        cdef int stackbuf[64]
        cdef int k, j
        cdef const int32_t* ids
        if self.has_all_c():
            k = self.root_pipes_c(&ids)
            return {ids[j] for j in range(k)}
        if tree_bound(&self.t, ptr(b), len(b)) <= 64:
            k = self.match_c(ptr(b), len(b), stackbuf, 64)
            return {stackbuf[j] for j in range(k)}
        return set(self._match_c(b, -1))

    def _match_c(self, topic, int max_out=-1) -> list:
        """match_c's output as a list, in emission order (max_out -1: room for all)."""
        cdef bytes b = as_bytes(topic)
        cdef size_t bound = tree_bound(&self.t, ptr(b), len(b))
        cdef int stackbuf[64]
        cdef int* out = stackbuf
        cdef int k
        if max_out < 0:
            max_out = <int>bound
        if <size_t>max_out > 64:
            out = <int*>PyMem_RawMalloc(max_out * sizeof(int))
            if out == NULL:
                raise MemoryError()
        try:
            k = self.match_c(ptr(b), len(b), out, max_out)
            return [out[j] for j in range(k)]
        finally:
            if out != stackbuf:
                PyMem_RawFree(out)

    def has_all(self) -> bool:
        """True when the empty prefix is the only subscribed prefix (see has_all_c)."""
        return self.has_all_c()

    def prefixes(self) -> list:
        """Each prefix some pipe subscribes to, once, in byte order."""
        return tree_collect(&self.t, COLLECT_ALL, 0)

    def __len__(self):
        return self.t.nprefixes

    @property
    def nodes(self) -> int:
        """Live C nodes, root included (1 when empty)."""
        return self.t.nnodes

    def _bench_match(self, topic, Py_ssize_t iterations) -> int:
        """Run match_c iterations times without the GIL; returns the total ids written."""
        cdef bytes b = as_bytes(topic)
        cdef const unsigned char* data = ptr(b)
        cdef size_t n = len(b)
        cdef int max_out = <int>tree_bound(&self.t, data, n)
        cdef int* out = <int*>PyMem_RawMalloc((max_out + 1) * sizeof(int))
        cdef Py_ssize_t k, total = 0
        if out == NULL:
            raise MemoryError()
        with nogil:
            for k in range(iterations):
                total += self.match_c(data, n, out, max_out)
        PyMem_RawFree(out)
        return total

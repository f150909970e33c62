# C-level API of the subscription tries (RFC 29 PUB/SUB: prefix matching of topics).
#
# Trie  (SUB/XSUB): counted set of subscribed prefixes; check_c(topic) says whether any
#                   subscribed prefix is a prefix of topic.
# Mtrie (PUB/XPUB): prefix -> set of pipe ids, counted per pipe; match_c(topic) lists the
#                   distinct pipe ids with some prefix of topic.
# Both are path-compressed (radix) tries of malloc'd C nodes; see _trie.pyx for the layout.
# The *_c methods touch no Python object and may run without the GIL, but a trie is owned by
# one thread (its socket's), like the socket itself: they are not safe against concurrent
# mutation.

from libc.stdint cimport int32_t, uint16_t, uint32_t


cdef struct Node:
    Node* parent
    unsigned char* seg      # edge label from the parent (seg[0] is the key in the parent)
    uint32_t seglen         # 0 only for the root
    uint32_t count          # Trie: subscriptions of exactly this prefix; Mtrie: pipes here
    uint16_t nkids          # number of children
    uint16_t kcap           # sparse capacity, or DENSE (256) for a 256-way table
    unsigned char* keys     # sparse only: sorted first bytes of the children
    Node** kids             # sparse: kids[i] goes with keys[i]; dense: 256 slots by byte
    int32_t* pids           # Mtrie only: sorted pipe ids subscribed here (count of them)
    uint32_t* pcnt          # Mtrie only: subscriptions of each pipe in pids
    uint32_t pcap           # Mtrie only: capacity of pids/pcnt


cdef struct Tree:
    Node* root              # the empty prefix; never freed before the owner dies
    Py_ssize_t nnodes       # live nodes, root included (memory accounting for the tests)
    Py_ssize_t nprefixes    # nodes with count > 0 (distinct subscribed prefixes)


cdef class Trie:
    cdef Tree t
    # True if some subscribed prefix is a prefix of data[:n] (the empty prefix matches all).
    cdef bint check_c(self, const unsigned char* data, size_t n) noexcept nogil


cdef class Mtrie:
    cdef Tree t
    cdef uint32_t* stamps   # per pipe id: generation of the last match_c that emitted it
    cdef uint32_t* psubs    # per pipe id: prefixes it is subscribed to (remove_pipe's stop)
    cdef uint32_t nstamps   # length of stamps and psubs (ids >= nstamps: linear dedupe,
                            # and remove_pipe walks the whole trie)
    cdef uint32_t gen       # current match_c generation
    cdef int reserve_stamp(self, int32_t pid) except -1
    # Writes the distinct pipe ids subscribed to some prefix of data[:n] into out (at most
    # max_out of them; size out to the number of pipes you have) and returns how many.
    cdef int match_c(self, const unsigned char* data, size_t n, int* out,
                     int max_out) noexcept nogil
    # True when the empty prefix is the only subscribed prefix: every topic goes to exactly
    # the pipes of root_pipes_c, no walk needed.
    cdef bint has_all_c(self) noexcept nogil
    # The pipes subscribed to the empty prefix (pointer into the trie, valid until the next
    # mutation) and their number.
    cdef int root_pipes_c(self, const int32_t** ids) noexcept nogil

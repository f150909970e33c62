/* The portability seam of the I/O layer: readiness poller and wake-up primitive.
 *
 * Everything platform-specific about waiting lives here, as static inline functions:
 *
 *   wake-up fd   fz_wake_open / fz_wake_write / fz_wake_read_all
 *                an eventfd (Linux, native backend) or the read end of a non-blocking
 *                self-pipe (poll backend, and kqueue platforms): one pollable fd either way,
 *                which is also what a socket exposes as its FD.
 *   poller       fz_poller_open / _add / _mod / _del / _want / _wait / _close
 *                FZ_BACKEND_EPOLL   epoll, edge-triggered (Linux; the default there)
 *                FZ_BACKEND_KQUEUE  kqueue, EV_CLEAR for edge (macOS/BSD; compiled only
 *                                   where <sys/event.h> exists; untested in this project)
 *                FZ_BACKEND_POLL    poll(2), level-triggered, everywhere (FASTZMQ_POLLER=poll)
 *
 * Events use our own bit values (FZ_IN ...), equal to epoll's on Linux so that callers may
 * keep spelling masks with epoll's numbers.
 *
 * Edge versus level: the engines are written for edge-triggered readiness (they remember
 * "the kernel may have bytes" / "the send buffer was full" and go on until EAGAIN). On the
 * poll backend, which is level-triggered, an fd starts with the interest given and its
 * owner states its interest after every change with fz_poller_want (the engines: read once
 * a read saw EAGAIN, write only while unsent bytes are blocked), so a throttled reader or
 * an idle writer never spins. fz_poller_want is a no-op on the edge-triggered backends.
 * An fd with no interest is parked (a negative fd in the pollfd array: poll(2) skips it,
 * hang-ups included).
 */
#ifndef FASTZMQ_POLLER_H
#define FASTZMQ_POLLER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* FZ_SYNTAX_CHECK_KQUEUE: compile the kqueue backend on Linux against a declarations-only
 * <sys/event.h> (tools/check_kqueue.sh), the only check it gets on this project's machines. */
#if defined(__linux__) && !defined(FZ_SYNTAX_CHECK_KQUEUE)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#define FZ_HAVE_EPOLL 1
#define FZ_HAVE_KQUEUE 0
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__) || defined(FZ_SYNTAX_CHECK_KQUEUE)
#include <sys/event.h>
#define FZ_HAVE_EPOLL 0
#define FZ_HAVE_KQUEUE 1
#else
#define FZ_HAVE_EPOLL 0
#define FZ_HAVE_KQUEUE 0
#endif

#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif

enum {
    FZ_IN = 0x001,
    FZ_OUT = 0x004,
    FZ_ERR = 0x008,
    FZ_HUP = 0x010,
    FZ_RDHUP = 0x2000,
};
#define FZ_ET (1u << 31)

enum { FZ_BACKEND_NATIVE = 0, FZ_BACKEND_EPOLL = 1, FZ_BACKEND_KQUEUE = 2, FZ_BACKEND_POLL = 3 };

/* The native backend of this build: epoll, kqueue, or poll where neither exists. */
static inline int fz_native_backend(void) {
#if FZ_HAVE_EPOLL
    return FZ_BACKEND_EPOLL;
#elif FZ_HAVE_KQUEUE
    return FZ_BACKEND_KQUEUE;
#else
    return FZ_BACKEND_POLL;
#endif
}

/* ------------------------------------------------------------------ wake-up fd */
/* 0 ok, -1 errno. use_pipe = 0 on Linux: an eventfd (rfd == wfd). */
static inline int fz_wake_open(int *rfd, int *wfd, int use_pipe) {
#if FZ_HAVE_EPOLL
    if (!use_pipe) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) return -1;
        *rfd = *wfd = fd;
        return 0;
    }
#else
    (void)use_pipe;
#endif
    int p[2];
    if (pipe(p) < 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    *rfd = p[0];
    *wfd = p[1];
    return 0;
}

static inline void fz_wake_write(int rfd, int wfd) {
    ssize_t r;
    if (rfd == wfd) {
        uint64_t one = 1;
        do { r = write(wfd, &one, sizeof one); } while (r < 0 && errno == EINTR);
    } else {
        char one = 1;
        do { r = write(wfd, &one, 1); } while (r < 0 && errno == EINTR);
    }
    (void)r; /* EAGAIN: the counter/pipe is already non-empty, so rfd is readable */
}

static inline void fz_wake_read_all(int rfd, int wfd) {
    char buf[64];
    ssize_t r;
    if (rfd == wfd) { /* one read resets an eventfd counter */
        do { r = read(rfd, buf, 8); } while (r < 0 && errno == EINTR);
        return;
    }
    for (;;) {
        r = read(rfd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < (ssize_t)sizeof buf) return;
    }
}

/* ------------------------------------------------------------------ poller */
typedef struct {
    uint32_t events; /* FZ_* bits */
    uint64_t tag;
} fz_event;

typedef struct {
    int backend;     /* FZ_BACKEND_EPOLL / _KQUEUE / _POLL */
    int fd;          /* the epoll or kqueue fd (pollable: readable when events wait); -1 for poll */
    /* poll backend */
    struct pollfd *pfds;
    uint64_t *tags;
    int n, cap;
    int *where;      /* fd -> index in pfds, or -1 */
    int where_cap;
    int rot;         /* where the next scan of results starts (fairness past max events) */
} fz_poller;

static inline short fz__to_poll(uint32_t ev) {
    short m = 0;
    if (ev & FZ_IN) m |= POLLIN | POLLRDHUP;
    if (ev & FZ_OUT) m |= POLLOUT;
    return m;
}

static inline uint32_t fz__from_poll(short re) {
    uint32_t ev = 0;
    if (re & POLLIN) ev |= FZ_IN;
    if (re & POLLOUT) ev |= FZ_OUT;
    if (re & POLLERR) ev |= FZ_ERR;
    if (re & POLLHUP) ev |= FZ_HUP;
    if (re & POLLNVAL) ev |= FZ_ERR;
    if (POLLRDHUP && (re & POLLRDHUP)) ev |= FZ_RDHUP;
    return ev;
}

/* 0 ok, -1 errno. backend FZ_BACKEND_NATIVE picks fz_native_backend(). */
static inline int fz_poller_open(fz_poller *p, int backend) {
    memset(p, 0, sizeof *p);
    p->fd = -1;
    if (backend == FZ_BACKEND_NATIVE) backend = fz_native_backend();
    p->backend = backend;
    switch (backend) {
#if FZ_HAVE_EPOLL
    case FZ_BACKEND_EPOLL:
        p->fd = epoll_create1(EPOLL_CLOEXEC);
        return p->fd < 0 ? -1 : 0;
#endif
#if FZ_HAVE_KQUEUE
    case FZ_BACKEND_KQUEUE:
        p->fd = kqueue();
        if (p->fd < 0) return -1;
        fcntl(p->fd, F_SETFD, FD_CLOEXEC);
        return 0;
#endif
    case FZ_BACKEND_POLL:
        return 0;
    default:
        errno = ENOTSUP;
        return -1;
    }
}

static inline void fz_poller_close(fz_poller *p) {
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
    free(p->pfds);
    free(p->tags);
    free(p->where);
    p->pfds = NULL;
    p->tags = NULL;
    p->where = NULL;
    p->n = p->cap = p->where_cap = 0;
}

static inline int fz__poll_index(const fz_poller *p, int fd) {
    return (fd >= 0 && fd < p->where_cap) ? p->where[fd] : -1;
}

#if FZ_HAVE_KQUEUE
static inline int fz__kq_set(fz_poller *p, int fd, uint64_t tag, uint32_t events) {
    struct kevent ch[2];
    int n = 0;
    unsigned short clear = (events & FZ_ET) ? EV_CLEAR : 0;
    /* drop both filters first (ENOENT ignored), then add the wanted ones */
    EV_SET(&ch[0], fd, EVFILT_READ, EV_DELETE, 0, 0, 0);
    EV_SET(&ch[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, 0);
    for (int i = 0; i < 2; i++) kevent(p->fd, &ch[i], 1, NULL, 0, NULL);
    if (events & FZ_IN) {
        EV_SET(&ch[n], fd, EVFILT_READ, EV_ADD | clear, 0, 0, (void *)(uintptr_t)tag);
        n++;
    }
    if (events & FZ_OUT) {
        EV_SET(&ch[n], fd, EVFILT_WRITE, EV_ADD | clear, 0, 0, (void *)(uintptr_t)tag);
        n++;
    }
    return n ? kevent(p->fd, ch, n, NULL, 0, NULL) : 0;
}
#endif

/* Register fd (or change its registration) with `tag` returned in its events. events:
 * FZ_IN / FZ_OUT (error and hang-up are always reported), FZ_ET for edge-triggered where
 * the backend has it. 0 ok, -1 errno. */
static inline int fz_poller_add(fz_poller *p, int fd, uint64_t tag, uint32_t events) {
    switch (p->backend) {
#if FZ_HAVE_EPOLL
    case FZ_BACKEND_EPOLL: {
        struct epoll_event ev;
        ev.events = events; /* FZ_* == EPOLL* on Linux */
        ev.data.u64 = tag;
        if (epoll_ctl(p->fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            if (errno != EEXIST) return -1;
            return epoll_ctl(p->fd, EPOLL_CTL_MOD, fd, &ev);
        }
        return 0;
    }
#endif
#if FZ_HAVE_KQUEUE
    case FZ_BACKEND_KQUEUE:
        return fz__kq_set(p, fd, tag, events);
#endif
    default: {
        int i = fz__poll_index(p, fd);
        if (fd < 0) {
            errno = EBADF;
            return -1;
        }
        if (i < 0) {
            if (fd >= p->where_cap) {
                int nc = p->where_cap ? p->where_cap : 64;
                while (nc <= fd) nc *= 2;
                int *w = (int *)realloc(p->where, nc * sizeof(int));
                if (!w) return -1;
                for (int k = p->where_cap; k < nc; k++) w[k] = -1;
                p->where = w;
                p->where_cap = nc;
            }
            if (p->n == p->cap) {
                int nc = p->cap ? p->cap * 2 : 64;
                struct pollfd *a = (struct pollfd *)realloc(p->pfds, nc * sizeof *a);
                if (!a) return -1;
                p->pfds = a;
                uint64_t *t = (uint64_t *)realloc(p->tags, nc * sizeof *t);
                if (!t) return -1;
                p->tags = t;
                p->cap = nc;
            }
            i = p->n++;
            p->where[fd] = i;
        }
        p->pfds[i].events = fz__to_poll(events);
        p->pfds[i].fd = p->pfds[i].events ? fd : -fd - 1; /* parked: poll(2) skips it */
        p->pfds[i].revents = 0;
        p->tags[i] = tag;
        return 0;
    }
    }
}

/* Forget fd. Unknown fds are not an error (0). */
static inline int fz_poller_del(fz_poller *p, int fd) {
    switch (p->backend) {
#if FZ_HAVE_EPOLL
    case FZ_BACKEND_EPOLL: {
        struct epoll_event ev;
        return epoll_ctl(p->fd, EPOLL_CTL_DEL, fd, &ev);
    }
#endif
#if FZ_HAVE_KQUEUE
    case FZ_BACKEND_KQUEUE:
        return fz__kq_set(p, fd, 0, 0);
#endif
    default: {
        int i = fz__poll_index(p, fd);
        if (i < 0) return 0;
        int last = --p->n;
        if (i != last) {
            p->pfds[i] = p->pfds[last];
            p->tags[i] = p->tags[last];
            int lfd = p->pfds[i].fd < 0 ? -p->pfds[i].fd - 1 : p->pfds[i].fd;
            p->where[lfd] = i;
        }
        p->where[fd] = -1;
        return 0;
    }
    }
}

/* Level-triggered backends only: the events (FZ_IN / FZ_OUT) fd's owner wants to be told
 * about from now on. A no-op on edge-triggered backends, and for an unknown fd. */
static inline void fz_poller_want(fz_poller *p, int fd, uint32_t events) {
    if (p->backend != FZ_BACKEND_POLL) return;
    int i = fz__poll_index(p, fd);
    if (i < 0) return;
    short m = fz__to_poll(events);
    p->pfds[i].events = m;
    p->pfds[i].fd = m ? fd : -fd - 1;
}

/* Wait up to timeout_ms (-1: forever) for events; returns how many were stored in out
 * (at most max), or -1 with errno (EINTR included). */
static inline int fz_poller_wait(fz_poller *p, fz_event *out, int max, int timeout_ms) {
    switch (p->backend) {
#if FZ_HAVE_EPOLL
    case FZ_BACKEND_EPOLL: {
        /* fz_event has epoll_event's layout only by luck of packing: copy instead */
        struct epoll_event evs[256];
        if (max > 256) max = 256;
        int n = epoll_wait(p->fd, evs, max, timeout_ms);
        for (int i = 0; i < n; i++) {
            out[i].events = evs[i].events;
            out[i].tag = evs[i].data.u64;
        }
        return n;
    }
#endif
#if FZ_HAVE_KQUEUE
    case FZ_BACKEND_KQUEUE: {
        struct kevent evs[256];
        struct timespec ts, *tp = NULL;
        if (max > 256) max = 256;
        if (timeout_ms >= 0) {
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
            tp = &ts;
        }
        int n = kevent(p->fd, NULL, 0, evs, max, tp);
        for (int i = 0; i < n; i++) {
            uint32_t ev = 0;
            if (evs[i].filter == EVFILT_READ) ev |= FZ_IN;
            if (evs[i].filter == EVFILT_WRITE) ev |= FZ_OUT;
            if (evs[i].flags & EV_EOF) ev |= (evs[i].filter == EVFILT_READ) ? FZ_RDHUP : FZ_HUP;
            if (evs[i].flags & EV_ERROR) ev |= FZ_ERR;
            out[i].events = ev;
            out[i].tag = (uint64_t)(uintptr_t)evs[i].udata;
        }
        return n;
    }
#endif
    default: {
        int r = poll(p->pfds, (nfds_t)p->n, timeout_ms);
        if (r <= 0) return r;
        int k = 0, n = p->n;
        int start = p->rot < n ? p->rot : 0;
        for (int j = 0; j < n && k < max && r > 0; j++) {
            int i = (start + j) % n;
            short re = p->pfds[i].revents;
            if (!re) continue;
            r--;
            p->pfds[i].revents = 0;
            if (re & POLLNVAL) { /* closed while registered: report it once, then park it */
                p->pfds[i].fd = -p->pfds[i].fd - 1;
                p->pfds[i].events = 0;
            }
            out[k].events = fz__from_poll(re);
            out[k].tag = p->tags[i];
            k++;
            if (k == max) p->rot = i + 1;
        }
        return k;
    }
    }
}

#endif /* FASTZMQ_POLLER_H */

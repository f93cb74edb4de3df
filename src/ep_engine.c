/* The epoll engine: src/io.h's completion interface on one edge-triggered epoll instance, with
 * the arena's free buffer ids on a stack in place of the kernel's provided-buffer ring.
 *
 * Edge- rather than level-triggered, and why:
 *   - The engine keeps its own readiness bits per fd (EP_READABLE / EP_WRITABLE), set by an edge
 *     and cleared only when the socket says EAGAIN (or a read comes back short: the queue was
 *     drained, and any byte that arrives later raises a new edge). So "read one buffer per fd
 *     per round" is just a FIFO of fds still readable, and round-robin across fds is free.
 *   - The interest mask never changes: IN | OUT | RDHUP, set once by EPOLL_CTL_ADD. Level
 *     triggering would need an EPOLL_CTL_MOD each time a recv is disarmed (-ENOBUFS, EOF) or a
 *     send blocks and unblocks, and it would spin on an fd whose peer reset while no recv is
 *     armed, since EPOLLHUP / EPOLLERR cannot be masked.
 *   - An fd is in the interest set only while an operation waits on it (accept, recv, connect,
 *     or a send that hit EAGAIN); it leaves as soon as the last one ends. So the table never
 *     trusts a registration the core could have invalidated with a plain close(2) once nothing
 *     was pending (the io_uring engine tolerates that too), and a re-ADD re-polls the socket, so
 *     an edge that came while the fd was out of the set is not lost.
 *
 * Ordering: one FIFO of ready events; an operation's events go in as they happen and close
 * puts its cancellations before its own IO_CLOSE, so every owner sees its events in order. */
#include "src/ep_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "src/log.h"

#define EP_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

/* The engine's two fd queues, intrusive in the fd table so a close unlinks in O(1). */
enum ep_queue {
    EP_READY, /* an armed accept / recv whose fd is readable: one syscall per round each */
    EP_SENDQ, /* sends to issue at the next flush, in submission order */
    EP_NQUEUES
};

#define EP_REGISTERED 0x01u /* in the epoll interest set */
#define EP_READABLE   0x02u /* input edge seen and not yet drained */
#define EP_WRITABLE   0x04u /* output edge seen since the last EAGAIN */
#define EP_SEND_WAIT  0x08u /* the send hit EAGAIN: re-queued on the next writable edge */
#define EP_PEER_DONE                                                                               \
    0x100u /* the peer's FIN, a reset or an error came with an edge: reads go on                   \
            * until recv says so (0 or an error), short or not, because                            \
            * that edge was the last one this fd will raise */
#define EP_WIDE                                                                                    \
    0x200u /* the last read filled every buffer it had: the next one reads into                    \
            * EP_READ_WIDE buffers at once (readv), until a read comes up short */
#define EP_ON(q) (0x10u << (q)) /* linked on queue q */

/* Buffers one readv may fill when a socket has more queued than one buffer holds (a large
 * value): 16 x 16 KiB, so that a 512 KiB reply takes 2 system calls rather than 32. A socket
 * whose reads fit one buffer (almost every request and reply) reads into one. */
#define EP_READ_WIDE 16

struct ep_link {
    int prev, next; /* fds, -1 at the ends; meaningful only while EP_ON(queue) */
};

/* What the engine holds for one fd; all zero while nothing is pending. */
struct ep_fd {
    void *accept_owner;  /* multishot accept armed */
    void *recv_owner;    /* multishot recv armed */
    void *connect_owner; /* connect in progress */
    void *send_owner;    /* the one send in flight (the core's rule) */
    struct msghdr *send_msg;
    unsigned flags; /* EP_* */
    struct ep_link link[EP_NQUEUES];
};

struct ep_list {
    int head, tail;
    unsigned len;
};

struct ep_engine {
    struct io_engine base;
    int epfd;
    struct ep_fd *fds; /* indexed by fd, grown on demand */
    unsigned nfds;
    struct ep_list queue[EP_NQUEUES];
    uint32_t *free_ids; /* stack of buffer ids lent to nobody: LIFO keeps hot buffers in cache */
    uint32_t nfree;
    struct io_event *q;         /* ring of events made but not yet returned by wait() */
    unsigned qhead, qlen, qcap; /* qcap is a power of two */
    struct epoll_event *evs;
    unsigned nevs;
};

static inline struct ep_engine *ep_of(struct io_engine *e)
{
    return (struct ep_engine *)e;
}

/* ---- the fd queues ---- */

static void ep_enqueue(struct ep_engine *x, enum ep_queue qi, int fd)
{
    struct ep_fd *f = &x->fds[fd];
    struct ep_list *l = &x->queue[qi];
    if (f->flags & EP_ON(qi))
        return;
    f->flags |= EP_ON(qi);
    f->link[qi].prev = l->tail;
    f->link[qi].next = -1;
    if (l->tail >= 0)
        x->fds[l->tail].link[qi].next = fd;
    else
        l->head = fd;
    l->tail = fd;
    l->len++;
}

static void ep_dequeue(struct ep_engine *x, enum ep_queue qi, int fd)
{
    struct ep_fd *f = &x->fds[fd];
    struct ep_list *l = &x->queue[qi];
    if (!(f->flags & EP_ON(qi)))
        return;
    f->flags &= ~EP_ON(qi);
    if (f->link[qi].prev >= 0)
        x->fds[f->link[qi].prev].link[qi].next = f->link[qi].next;
    else
        l->head = f->link[qi].next;
    if (f->link[qi].next >= 0)
        x->fds[f->link[qi].next].link[qi].prev = f->link[qi].prev;
    else
        l->tail = f->link[qi].prev;
    l->len--;
}

/* Takes the first fd off queue qi, or returns -1. */
static int ep_pop(struct ep_engine *x, enum ep_queue qi)
{
    int fd = x->queue[qi].head;
    if (fd >= 0)
        ep_dequeue(x, qi, fd);
    return fd;
}

/* ---- the event FIFO ---- */

static void ep_emit(struct ep_engine *x, void *owner, enum io_kind kind, int32_t res, uint8_t flags,
                    uint32_t buf)
{
    if (x->qlen == x->qcap) {
        /* an event cannot be dropped (every operation ends with exactly one final event) */
        unsigned cap = x->qcap * 2;
        struct io_event *q = malloc(cap * sizeof(*q));
        if (q == NULL)
            log_panic("epoll: out of memory growing the event queue to %u", cap);
        for (unsigned i = 0; i < x->qlen; i++)
            q[i] = x->q[(x->qhead + i) & (x->qcap - 1)];
        free(x->q);
        x->q = q;
        x->qhead = 0;
        x->qcap = cap;
    }
    struct io_event *ev = &x->q[(x->qhead + x->qlen) & (x->qcap - 1)];
    ev->owner = owner;
    ev->res = res;
    ev->buf = buf;
    ev->kind = (uint8_t)kind;
    ev->flags = flags;
    x->qlen++;
}

/* ---- the fd table and registration ---- */

/* Makes sure fd has a slot in the table. Returns 0 or -errno. */
static int ep_slot(struct ep_engine *x, int fd)
{
    if (fd < 0)
        return -EBADF;
    if ((unsigned)fd < x->nfds)
        return 0;
    unsigned n = x->nfds;
    while (n <= (unsigned)fd)
        n *= 2;
    struct ep_fd *t = realloc(x->fds, n * sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    memset(t + x->nfds, 0, (n - x->nfds) * sizeof(*t));
    x->fds = t;
    x->nfds = n;
    return 0;
}

static bool ep_waits_on_epoll(const struct ep_fd *f)
{
    return f->accept_owner != NULL || f->recv_owner != NULL || f->connect_owner != NULL ||
           (f->flags & EP_SEND_WAIT);
}

/* Puts fd in the interest set (no-op if it is). The ADD re-polls the socket, so whatever is
 * ready now arrives as an edge at the next epoll_wait; the old readiness bits are dropped. */
static int ep_register(struct ep_engine *x, int fd)
{
    struct ep_fd *f = &x->fds[fd];
    if (f->flags & EP_REGISTERED)
        return 0;
    struct epoll_event ev = {.events = EP_EVENTS, .data.u64 = (uint64_t)fd};
    x->base.stats.syscalls++;
    if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* registered behind our back: a dup of a file the table had forgotten */
        if (errno != EEXIST)
            return -errno;
        x->base.stats.syscalls++;
        if (epoll_ctl(x->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
            return -errno;
    }
    f->flags = (f->flags | EP_REGISTERED) & ~(EP_READABLE | EP_WRITABLE | EP_PEER_DONE | EP_WIDE);
    return 0;
}

static void ep_unregister(struct ep_engine *x, int fd)
{
    struct ep_fd *f = &x->fds[fd];
    if (!(f->flags & EP_REGISTERED))
        return;
    x->base.stats.syscalls++;
    /* a failure means the fd is gone already, which took it out of the set as well */
    (void)epoll_ctl(x->epfd, EPOLL_CTL_DEL, fd, NULL);
    f->flags &= ~(EP_REGISTERED | EP_READABLE | EP_WRITABLE);
}

/* Called when an operation of fd has ended: leaves the interest set if nothing else waits. */
static void ep_settle(struct ep_engine *x, int fd)
{
    if (!ep_waits_on_epoll(&x->fds[fd]))
        ep_unregister(x, fd);
}

/* The kernel has just handed out fd (accept): whatever the table holds for that number is
 * from a file the core closed itself, and its registration died with it. */
static void ep_forget(struct ep_engine *x, int fd)
{
    if ((unsigned)fd >= x->nfds)
        return;
    struct ep_fd *f = &x->fds[fd];
    if (f->accept_owner || f->recv_owner || f->connect_owner || f->send_owner)
        log_warn("epoll: fd %d was closed with operations pending; they are dropped", fd);
    for (int qi = 0; qi < EP_NQUEUES; qi++)
        ep_dequeue(x, (enum ep_queue)qi, fd);
    memset(f, 0, sizeof(*f));
}

/* accept4 and connect need O_NONBLOCK on the file itself (recv and sendmsg take
 * MSG_DONTWAIT): a stale edge must never put the worker to sleep. */
static int ep_set_nonblock(struct ep_engine *x, int fd)
{
    x->base.stats.syscalls++;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    if (fl & O_NONBLOCK)
        return 0;
    x->base.stats.syscalls++;
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

/* ---- the work of one round ---- */

/* Issues fd's send once. Returns 0 when it completed (its event is queued), or -EAGAIN /
 * -EINTR with the send still pending. */
static int ep_send_try(struct ep_engine *x, int fd)
{
    struct ep_fd *f = &x->fds[fd];
    int32_t res;
    x->base.stats.syscalls++;
    ssize_t n = sendmsg(fd, f->send_msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0)
        res = (int32_t)n; /* the kernel caps one call at MAX_RW_COUNT < 2^31 */
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        return -EAGAIN;
    else if (errno == EINTR)
        return -EINTR;
    else
        res = -errno;
    void *owner = f->send_owner;
    f->send_owner = NULL;
    f->send_msg = NULL;
    f->flags &= ~EP_SEND_WAIT;
    ep_emit(x, owner, IO_SEND, res, 0, MBUF_NONE);
    ep_settle(x, fd);
    return 0;
}

/* Issues the queued sends, in submission order. A short write completes the send (the core
 * resumes with the rest); EAGAIN parks it until the fd's next writable edge. */
static void ep_flush_sends(struct ep_engine *x)
{
    for (unsigned n = x->queue[EP_SENDQ].len; n > 0; n--) {
        int fd = ep_pop(x, EP_SENDQ);
        int ret = ep_send_try(x, fd);
        if (ret == 0)
            continue;
        if (ret == -EINTR) {
            /* no edge is promised after EINTR: retry at the next flush */
            ep_enqueue(x, EP_SENDQ, fd);
            continue;
        }
        struct ep_fd *f = &x->fds[fd];
        f->flags = (f->flags | EP_SEND_WAIT) & ~EP_WRITABLE;
        ret = ep_register(x, fd);
        if (ret < 0) {
            void *owner = f->send_owner;
            f->send_owner = NULL;
            f->send_msg = NULL;
            f->flags &= ~EP_SEND_WAIT;
            ep_emit(x, owner, IO_SEND, ret, 0, MBUF_NONE);
        }
    }
}

/* One accept4 on a readable listening fd: one IO_ACCEPT per connection, as multishot. */
static void ep_accept_one(struct ep_engine *x, int fd)
{
    struct ep_fd *f = &x->fds[fd];
    x->base.stats.syscalls++;
    int nfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (nfd >= 0) {
        ep_forget(x, nfd);
        ep_emit(x, f->accept_owner, IO_ACCEPT, nfd, IO_F_MORE, MBUF_NONE);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        f->flags &= ~EP_READABLE;
        return;
    }
    if (errno == EINTR)
        return;
    /* as the ring's multishot accept: any other error ends it (EMFILE, ENOMEM, ...) */
    void *owner = f->accept_owner;
    f->accept_owner = NULL;
    ep_emit(x, owner, IO_ACCEPT, -errno, 0, MBUF_NONE);
    ep_settle(x, fd);
}

/* One read on a readable fd into a free buffer (into up to EP_READ_WIDE of them with readv, when
 * the last read filled what it had), each filled buffer one multishot completion. */
static void ep_recv_one(struct ep_engine *x, int fd)
{
    struct ep_fd *f = &x->fds[fd];
    struct mbuf_pool *p = x->base.pool;
    void *owner = f->recv_owner;
    int32_t res;

    if (x->nfree == 0) {
        /* the data stays in the socket; the core re-arms once buffers are back */
        x->base.stats.enobufs++;
        res = -ENOBUFS;
        goto out_final;
    }
    uint32_t ids[EP_READ_WIDE];
    struct iovec iov[EP_READ_WIDE];
    unsigned k = (f->flags & EP_WIDE) ? EP_READ_WIDE : 1;
    if (k > x->nfree)
        k = x->nfree;
    for (unsigned i = 0; i < k; i++) {
        ids[i] = x->free_ids[--x->nfree];
        iov[i] = (struct iovec){mbuf_data(p, ids[i]), p->size};
    }
    x->base.stats.syscalls++;
    ssize_t n = k == 1 ? recv(fd, iov[0].iov_base, p->size, MSG_DONTWAIT) : readv(fd, iov, (int)k);
    int err = n < 0 ? errno : 0;
    if (n > 0) {
        size_t cap = (size_t)k * p->size;
        /* a short read drained the queue: the next byte to arrive raises a new edge (but
         * nothing will follow an end the edge already reported: read on to see it) */
        if ((size_t)n < cap && !(f->flags & EP_PEER_DONE))
            f->flags &= ~EP_READABLE;
        if ((size_t)n == cap)
            f->flags |= EP_WIDE;
        else
            f->flags &= ~EP_WIDE;
    }
    unsigned used = 0;
    for (size_t left = n > 0 ? (size_t)n : 0; left > 0; used++) {
        size_t take = left < p->size ? left : p->size;
        ep_emit(x, owner, IO_RECV, (int32_t)take, IO_F_BUF | IO_F_MORE, ids[used]);
        left -= take;
    }
    for (unsigned i = k; i > used; i--)
        x->free_ids[x->nfree++] = ids[i - 1]; /* the buffers the read did not reach */
    if (n > 0)
        return;
    if (err == EAGAIN || err == EWOULDBLOCK) {
        f->flags &= ~(EP_READABLE | EP_WIDE);
        return;
    }
    if (err == EINTR)
        return;
    res = -err; /* 0: EOF */

out_final:
    f->recv_owner = NULL;
    ep_emit(x, owner, IO_RECV, res, 0, MBUF_NONE);
    ep_settle(x, fd);
}

/* One input syscall for each fd that was ready when the round began, so a busy fd waits its
 * turn behind the others; fds still readable go to the back for the next round. */
static void ep_service_ready(struct ep_engine *x)
{
    for (unsigned n = x->queue[EP_READY].len; n > 0; n--) {
        int fd = ep_pop(x, EP_READY);
        if (fd < 0)
            break; /* an accept's ep_forget took a stale entry off the queue */
        struct ep_fd *f = &x->fds[fd];
        if (f->accept_owner != NULL && (f->flags & EP_READABLE))
            ep_accept_one(x, fd);
        if (f->recv_owner != NULL && (f->flags & EP_READABLE))
            ep_recv_one(x, fd);
        if ((f->accept_owner != NULL || f->recv_owner != NULL) && (f->flags & EP_READABLE))
            ep_enqueue(x, EP_READY, fd);
    }
}

static void ep_connect_done(struct ep_engine *x, int fd, uint32_t revents)
{
    struct ep_fd *f = &x->fds[fd];
    int err = 0;
    socklen_t len = sizeof(err);
    x->base.stats.syscalls++;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0 && !(revents & EPOLLOUT))
        return; /* not connected yet */
    void *owner = f->connect_owner;
    f->connect_owner = NULL;
    ep_emit(x, owner, IO_CONNECT, -err, 0, MBUF_NONE);
    ep_settle(x, fd);
}

static void ep_on_event(struct ep_engine *x, int fd, uint32_t revents)
{
    if (fd < 0 || (unsigned)fd >= x->nfds)
        return;
    struct ep_fd *f = &x->fds[fd];
    if (!(f->flags & EP_REGISTERED))
        return;
    if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        f->flags |= EP_READABLE;
    if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        f->flags |= EP_PEER_DONE;
    if (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        f->flags |= EP_WRITABLE;
    if (f->connect_owner != NULL && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        ep_connect_done(x, fd, revents);
    if ((f->flags & EP_SEND_WAIT) && (f->flags & EP_WRITABLE)) {
        f->flags &= ~EP_SEND_WAIT;
        ep_enqueue(x, EP_SENDQ, fd);
    }
    if ((f->accept_owner != NULL || f->recv_owner != NULL) && (f->flags & EP_READABLE))
        ep_enqueue(x, EP_READY, fd);
}

/* One epoll_wait and its edges. Returns the number of edges, -EINTR, or -errno. */
static int ep_poll(struct ep_engine *x, int timeout_ms)
{
    x->base.stats.syscalls++;
    int n = epoll_wait(x->epfd, x->evs, (int)x->nevs, timeout_ms);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++)
        ep_on_event(x, (int)x->evs[i].data.u64, x->evs[i].events);
    return n;
}

static int64_t ep_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the interface ---- */

static int ep_accept(struct io_engine *e, int lfd, void *owner)
{
    struct ep_engine *x = ep_of(e);
    int ret = ep_slot(x, lfd);
    if (ret < 0)
        return ret;
    struct ep_fd *f = &x->fds[lfd];
    if (f->accept_owner != NULL)
        return -EBUSY;
    ret = ep_set_nonblock(x, lfd);
    if (ret < 0)
        return ret;
    ret = ep_register(x, lfd);
    if (ret < 0)
        return ret;
    f->accept_owner = owner;
    if (f->flags & EP_READABLE)
        ep_enqueue(x, EP_READY, lfd);
    return 0;
}

static int ep_recv(struct io_engine *e, int fd, void *owner)
{
    struct ep_engine *x = ep_of(e);
    int ret = ep_slot(x, fd);
    if (ret < 0)
        return ret;
    struct ep_fd *f = &x->fds[fd];
    if (f->recv_owner != NULL)
        return -EBUSY;
    ret = ep_register(x, fd);
    if (ret < 0)
        return ret;
    f->recv_owner = owner;
    /* still registered (another op waits) and not drained: e.g. a re-arm after -ENOBUFS */
    if (f->flags & EP_READABLE)
        ep_enqueue(x, EP_READY, fd);
    return 0;
}

static int ep_send(struct io_engine *e, int fd, struct msghdr *msg, void *owner)
{
    struct ep_engine *x = ep_of(e);
    int ret = ep_slot(x, fd);
    if (ret < 0)
        return ret;
    struct ep_fd *f = &x->fds[fd];
    if (f->send_owner != NULL)
        return -EBUSY;
    f->send_owner = owner;
    f->send_msg = msg;
    ep_enqueue(x, EP_SENDQ, fd);
    return 0;
}

static int ep_connect(struct io_engine *e, int fd, const struct sockaddr *sa, socklen_t len,
                      void *owner)
{
    struct ep_engine *x = ep_of(e);
    int ret = ep_slot(x, fd);
    if (ret < 0)
        return ret;
    struct ep_fd *f = &x->fds[fd];
    /* a socket being connected has nothing else pending (a recv on it would fail ENOTCONN) */
    if (ep_waits_on_epoll(f) || f->send_owner != NULL)
        return -EBUSY;
    /* an unconnected socket polls as HUP | OUT: an edge queued before the connect would pass
     * for its completion, so the fd is registered afresh only once the connect is under way */
    ep_unregister(x, fd);
    ret = ep_set_nonblock(x, fd);
    if (ret < 0)
        return ret;
    x->base.stats.syscalls++;
    if (connect(fd, sa, len) == 0) {
        ep_emit(x, owner, IO_CONNECT, 0, 0, MBUF_NONE);
    } else if (errno != EINPROGRESS) {
        ep_emit(x, owner, IO_CONNECT, -errno, 0, MBUF_NONE);
    } else {
        ret = ep_register(x, fd);
        if (ret < 0)
            return ret;
        f->connect_owner = owner;
    }
    return 0;
}

static int ep_recv_stop(struct io_engine *e, int fd, void *owner)
{
    struct ep_engine *x = ep_of(e);
    if (fd < 0 || (unsigned)fd >= x->nfds || x->fds[fd].recv_owner != owner)
        return -ENOENT;
    struct ep_fd *f = &x->fds[fd];
    ep_dequeue(x, EP_READY, fd);
    f->recv_owner = NULL;
    ep_emit(x, owner, IO_RECV, -ECANCELED, 0, MBUF_NONE);
    ep_settle(x, fd);
    return 0;
}

static int ep_close(struct io_engine *e, int fd, void *owner)
{
    struct ep_engine *x = ep_of(e);
    if (fd >= 0 && (unsigned)fd < x->nfds) {
        struct ep_fd *f = &x->fds[fd];
        /* a send queued in this batch goes out first, as the ring issues its SQE before the
         * close's cancel; only one that would block is cancelled */
        if (f->flags & EP_ON(EP_SENDQ)) {
            ep_dequeue(x, EP_SENDQ, fd);
            (void)ep_send_try(x, fd); /* -EAGAIN / -EINTR: cancelled below */
        }
        ep_dequeue(x, EP_READY, fd);
        if (f->accept_owner != NULL)
            ep_emit(x, f->accept_owner, IO_ACCEPT, -ECANCELED, 0, MBUF_NONE);
        if (f->recv_owner != NULL)
            ep_emit(x, f->recv_owner, IO_RECV, -ECANCELED, 0, MBUF_NONE);
        if (f->connect_owner != NULL)
            ep_emit(x, f->connect_owner, IO_CONNECT, -ECANCELED, 0, MBUF_NONE);
        if (f->send_owner != NULL)
            ep_emit(x, f->send_owner, IO_SEND, -ECANCELED, 0, MBUF_NONE);
        ep_unregister(x, fd);
        memset(f, 0, sizeof(*f));
    }
    x->base.stats.syscalls++;
    int res = close(fd) < 0 ? -errno : 0;
    ep_emit(x, owner, IO_CLOSE, res, 0, MBUF_NONE);
    return 0;
}

static int ep_wait(struct io_engine *e, struct io_event *ev, unsigned max, int timeout_ms)
{
    struct ep_engine *x = ep_of(e);
    int64_t deadline = timeout_ms > 0 ? ep_now_ms() + timeout_ms : 0;
    bool had_events = x->qlen > 0;

    /* the submission half: what the ring would do with its queued SQEs */
    ep_flush_sends(x);

    /* with events in hand already, do not wait (as the ring with CQEs ready) */
    int tmo = timeout_ms;
    while (!had_events && max > 0) {
        bool busy = x->qlen > 0 || x->queue[EP_READY].len > 0 || x->queue[EP_SENDQ].len > 0;
        int ret = ep_poll(x, busy ? 0 : tmo);
        if (ret < 0 && ret != -EINTR)
            return ret;
        ep_flush_sends(x); /* those a writable edge has unblocked */
        ep_service_ready(x);
        if (x->qlen > 0 || ret == -EINTR || tmo == 0)
            break;
        if (timeout_ms > 0) {
            int64_t left = deadline - ep_now_ms();
            if (left <= 0)
                break;
            tmo = (int)left;
        }
    }

    unsigned n = x->qlen < max ? x->qlen : max;
    if (n > INT_MAX)
        n = INT_MAX;
    for (unsigned i = 0; i < n; i++)
        ev[i] = x->q[(x->qhead + i) & (x->qcap - 1)];
    x->qhead = (x->qhead + n) & (x->qcap - 1);
    x->qlen -= n;
    e->stats.events += n;
    return (int)n;
}

static void ep_buf_return(struct io_engine *e, uint32_t id)
{
    struct ep_engine *x = ep_of(e);
    if (id >= e->pool->count || x->nfree >= e->pool->count)
        log_panic("epoll: buffer %u returned out of range or twice (%u free of %u)", id, x->nfree,
                  e->pool->count);
    x->free_ids[x->nfree++] = id;
}

static void ep_destroy(struct io_engine *e)
{
    struct ep_engine *x = ep_of(e);
    close(x->epfd);
    free(x->fds);
    free(x->free_ids);
    free(x->q);
    free(x->evs);
    free(x);
}

static const struct io_ops ep_ops = {
    .name = "epoll",
    .accept = ep_accept,
    .recv = ep_recv,
    .send = ep_send,
    .connect = ep_connect,
    .close = ep_close,
    .recv_stop = ep_recv_stop,
    .wait = ep_wait,
    .buf_return = ep_buf_return,
    .destroy = ep_destroy,
};

struct io_engine *ep_engine_create(struct mbuf_pool *pool, unsigned entries, char *why,
                                   size_t why_len)
{
    struct ep_engine *x = calloc(1, sizeof(*x));
    int err;
    if (x == NULL) {
        snprintf(why, why_len, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    x->base.ops = &ep_ops;
    x->base.pool = pool;
    x->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (x->epfd < 0) {
        err = errno;
        snprintf(why, why_len, "epoll_create1 failed: %s", strerror(err));
        goto out_free;
    }
    x->nevs = entries < 64 ? 64 : entries > 4096 ? 4096 : entries;
    x->nfds = 256;
    x->qcap = 256;
    x->fds = calloc(x->nfds, sizeof(*x->fds));
    x->q = malloc(x->qcap * sizeof(*x->q));
    x->evs = malloc(x->nevs * sizeof(*x->evs));
    x->free_ids = malloc((pool->count ? pool->count : 1) * sizeof(*x->free_ids));
    if (x->fds == NULL || x->q == NULL || x->evs == NULL || x->free_ids == NULL) {
        err = ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto out_close;
    }
    for (int qi = 0; qi < EP_NQUEUES; qi++)
        x->queue[qi] = (struct ep_list){.head = -1, .tail = -1, .len = 0};
    /* stacked so that id 0 is lent first */
    for (uint32_t i = 0; i < pool->count; i++)
        x->free_ids[i] = pool->count - 1 - i;
    x->nfree = pool->count;
    pool->engine = &x->base;
    snprintf(x->base.desc, sizeof(x->base.desc),
             "epoll: edge-triggered, %u events per wait, arena of %u x %u bytes (free list)",
             x->nevs, pool->count, pool->size);
    log_info("%s", x->base.desc);
    return &x->base;

out_close:
    close(x->epfd);
out_free:
    free(x->fds);
    free(x->q);
    free(x->evs);
    free(x->free_ids);
    free(x);
    errno = err;
    return NULL;
}

/* The io_uring engine: one ring per worker, the arena lent to the kernel as a provided-buffer
 * ring, multishot accept and recv, sendmsg, connect, cancel+close, all through the ring. */
#include "uring/ur_engine.h"

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "src/log.h"

#define UR_BGID     0      /* the one buffer group per ring */
#define UR_KIND_MSK 0x7ULL /* user_data = owner pointer | kind (owners are 8-byte aligned) */
#define UR_IGNORE   0ULL   /* user_data of completions nobody waits for (the cancel of a close) */

/* newer than liburing 2.3's headers (kernel 6.2) */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

struct ur_engine {
    struct io_engine base;
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    unsigned br_entries;  /* power of two >= pool->count */
    unsigned br_added;    /* buffers added to br since the last advance */
    unsigned setup_flags; /* what the ring was set up with, for the log */
    bool zc_fixed;        /* the arena is registered as fixed buffer 0 */
    bool zc_vec_fixed;    /* the kernel sends several iovecs from it (sendmsg_zc, 6.15) */
};

static inline struct ur_engine *ur_of(struct io_engine *e)
{
    return (struct ur_engine *)e;
}

static inline uint64_t ur_tag(void *owner, enum io_kind kind)
{
    return (uint64_t)(uintptr_t)owner | (uint64_t)kind;
}

/* Gets an SQE, flushing the submission queue once if it is full. */
static struct io_uring_sqe *ur_sqe(struct ur_engine *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (sqe == NULL) {
        io_uring_submit(&u->ring);
        u->base.stats.syscalls++;
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

static int ur_accept(struct io_engine *e, int lfd, void *owner)
{
    struct ur_engine *u = ur_of(e);
    struct io_uring_sqe *sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ur_tag(owner, IO_ACCEPT));
    return 0;
}

static int ur_recv(struct io_engine *e, int fd, void *owner)
{
    struct ur_engine *u = ur_of(e);
    struct io_uring_sqe *sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = UR_BGID;
    io_uring_sqe_set_data64(sqe, ur_tag(owner, IO_RECV));
    return 0;
}

static int ur_send(struct io_engine *e, int fd, struct msghdr *msg, void *owner)
{
    struct ur_engine *u = ur_of(e);
    struct io_uring_sqe *sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    if (msg->msg_iovlen == 1)
        io_uring_prep_send(sqe, fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len,
                           MSG_NOSIGNAL);
    else
        io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, ur_tag(owner, IO_SEND));
    return 0;
}

/* Zero-copy sends need SEND_ZC and SENDMSG_ZC (6.1). The arena is registered as one fixed
 * buffer only here, when zero-copy sends are wanted: the registration pins it against
 * RLIMIT_MEMLOCK, and without it the kernel pins the pages of each send instead. */
static int ur_zc_enable(struct io_engine *e, char *why, size_t why_len)
{
    struct ur_engine *u = ur_of(e);
    struct io_uring_probe *probe = io_uring_get_probe_ring(&u->ring);
    bool ok = probe != NULL && io_uring_opcode_supported(probe, IORING_OP_SEND_ZC) &&
              io_uring_opcode_supported(probe, IORING_OP_SENDMSG_ZC);
    if (probe != NULL)
        io_uring_free_probe(probe);
    if (!ok) {
        snprintf(why, why_len, "the kernel's io_uring lacks send_zc");
        return -EOPNOTSUPP;
    }
    if (u->zc_fixed)
        return 1;
    struct mbuf_pool *p = e->pool;
    struct iovec whole = {.iov_base = p->arena, .iov_len = (size_t)p->count * p->size};
    int ret = io_uring_register_buffers(&u->ring, &whole, 1);
    if (ret < 0) {
        snprintf(why, why_len, "the arena of %zu KiB cannot be registered (%s%s)",
                 whole.iov_len >> 10, strerror(-ret),
                 ret == -ENOMEM ? ": RLIMIT_MEMLOCK is lower" : "");
        return 0;
    }
    u->zc_fixed = true;
    /* sendmsg_zc from a registered buffer came in 6.15; before it the flag fails the send with
     * -EINVAL, so those kernels send several iovecs zero-copy from plain pages */
    struct utsname un;
    unsigned major = 0, minor = 0;
    if (uname(&un) == 0 && sscanf(un.release, "%u.%u", &major, &minor) == 2)
        u->zc_vec_fixed = major > 6 || (major == 6 && minor >= 15);
    return 1;
}

static int ur_send_zc(struct io_engine *e, int fd, struct msghdr *msg, bool fixed, void *owner)
{
    struct ur_engine *u = ur_of(e);
    struct io_uring_sqe *sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    fixed = fixed && u->zc_fixed;
    if (msg->msg_iovlen == 1) {
        io_uring_prep_send_zc(sqe, fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len,
                              MSG_NOSIGNAL, IORING_SEND_ZC_REPORT_USAGE);
    } else {
        io_uring_prep_sendmsg_zc(sqe, fd, msg, MSG_NOSIGNAL);
        sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
    }
    if (fixed && (msg->msg_iovlen == 1 || u->zc_vec_fixed)) {
        sqe->ioprio |= IORING_RECVSEND_FIXED_BUF;
        sqe->buf_index = 0;
    }
    io_uring_sqe_set_data64(sqe, ur_tag(owner, IO_SEND));
    return 0;
}

static int ur_connect(struct io_engine *e, int fd, const struct sockaddr *sa, socklen_t len,
                      void *owner)
{
    struct ur_engine *u = ur_of(e);
    struct io_uring_sqe *sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_connect(sqe, fd, sa, len);
    io_uring_sqe_set_data64(sqe, ur_tag(owner, IO_CONNECT));
    return 0;
}

static int ur_close(struct io_engine *e, int fd, void *owner)
{
    struct ur_engine *u = ur_of(e);
    /* cancel everything on fd, then close it, in order whatever the cancel's result: a plain
     * close(2) would leave a multishot recv holding the file open */
    if (io_uring_sq_space_left(&u->ring) < 2) {
        io_uring_submit(&u->ring);
        u->base.stats.syscalls++;
    }
    struct io_uring_sqe *sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
    sqe->flags |= IOSQE_IO_HARDLINK;
    io_uring_sqe_set_data64(sqe, UR_IGNORE);
    sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_close(sqe, fd);
    io_uring_sqe_set_data64(sqe, ur_tag(owner, IO_CLOSE));
    return 0;
}

static int ur_recv_stop(struct io_engine *e, int fd, void *owner)
{
    struct ur_engine *u = ur_of(e);
    (void)fd;
    struct io_uring_sqe *sqe = ur_sqe(u);
    if (sqe == NULL)
        return -EBUSY;
    io_uring_prep_cancel64(sqe, ur_tag(owner, IO_RECV), 0);
    io_uring_sqe_set_data64(sqe, UR_IGNORE);
    return 0;
}

static void ur_buf_return(struct io_engine *e, uint32_t id)
{
    struct ur_engine *u = ur_of(e);
    struct mbuf_pool *p = e->pool;
    io_uring_buf_ring_add(u->br, mbuf_data(p, id), p->size, (unsigned short)id,
                          io_uring_buf_ring_mask(u->br_entries), (int)u->br_added);
    u->br_added++;
}

static int ur_wait(struct io_engine *e, struct io_event *ev, unsigned max, int timeout_ms)
{
    struct ur_engine *u = ur_of(e);
    struct io_uring_cqe *cqe;
    int ret;

    /* make the buffers returned since the last call visible to the kernel, in one store */
    if (u->br_added) {
        io_uring_buf_ring_advance(u->br, (int)u->br_added);
        u->br_added = 0;
    }
    if (io_uring_cq_ready(&u->ring) == 0) {
        struct __kernel_timespec ts = {
            .tv_sec = timeout_ms / 1000,
            .tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
        };
        ret =
            io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, timeout_ms >= 0 ? &ts : NULL, NULL);
        e->stats.syscalls++;
        if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
            return ret;
    } else if (io_uring_sq_ready(&u->ring)) {
        io_uring_submit(&u->ring);
        e->stats.syscalls++;
    }

    unsigned head, n = 0, seen = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        if (n == max)
            break;
        seen++;
        uint64_t ud = cqe->user_data;
        if (ud == UR_IGNORE)
            continue;
        struct io_event *x = &ev[n++];
        x->owner = (void *)(uintptr_t)(ud & ~UR_KIND_MSK);
        x->kind = (uint8_t)(ud & UR_KIND_MSK);
        x->res = cqe->res;
        x->flags = (cqe->flags & IORING_CQE_F_MORE) ? IO_F_MORE : 0;
        x->buf = MBUF_NONE;
        if (cqe->flags & IORING_CQE_F_NOTIF) {
            x->flags |= IO_F_NOTIF;
            x->res = (cqe->res & (int32_t)IORING_NOTIF_USAGE_ZC_COPIED) ? 1 : 0;
        }
        if (cqe->flags & IORING_CQE_F_BUFFER) {
            x->flags |= IO_F_BUF;
            x->buf = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        }
        if (x->kind == IO_RECV && x->res == -ENOBUFS)
            e->stats.enobufs++;
    }
    io_uring_cq_advance(&u->ring, seen);
    e->stats.events += n;
    return (int)n;
}

static void ur_destroy(struct io_engine *e)
{
    struct ur_engine *u = ur_of(e);
    io_uring_queue_exit(&u->ring);
    if (u->br != NULL)
        munmap(u->br, u->br_bytes);
    free(u);
}

static const struct io_ops ur_ops = {
    .name = "uring",
    .accept = ur_accept,
    .recv = ur_recv,
    .send = ur_send,
    .zc_enable = ur_zc_enable,
    .send_zc = ur_send_zc,
    .connect = ur_connect,
    .close = ur_close,
    .recv_stop = ur_recv_stop,
    .wait = ur_wait,
    .buf_return = ur_buf_return,
    .destroy = ur_destroy,
};

/* Ring setup flags to try, best first. */
static const unsigned ur_setup_chain[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    0,
};

static int ur_setup_ring(struct ur_engine *u, unsigned entries)
{
    int ret = -EINVAL;
    for (size_t i = 0; i < sizeof(ur_setup_chain) / sizeof(ur_setup_chain[0]); i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof(p));
        p.flags = ur_setup_chain[i];
        p.cq_entries = entries * 4;
        p.flags |= IORING_SETUP_CQSIZE;
        ret = io_uring_queue_init_params(entries, &u->ring, &p);
        if (ret == 0) {
            u->setup_flags = ur_setup_chain[i];
            if (!(p.features & IORING_FEAT_EXT_ARG) || !(p.features & IORING_FEAT_NODROP)) {
                io_uring_queue_exit(&u->ring);
                return -EOPNOTSUPP;
            }
            return 0;
        }
        /* a refusal of io_uring itself will not change with other flags */
        if (ret == -EPERM || ret == -ENOSYS || ret == -EACCES || ret == -ENOMEM)
            return ret;
    }
    return ret;
}

struct io_engine *ur_engine_create(struct mbuf_pool *pool, unsigned entries, char *why,
                                   size_t why_len)
{
    struct ur_engine *u = calloc(1, sizeof(*u));
    int ret;
    if (u == NULL) {
        snprintf(why, why_len, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    u->base.ops = &ur_ops;
    u->base.pool = pool;

    ret = ur_setup_ring(u, entries);
    if (ret < 0) {
        snprintf(why, why_len, "io_uring_setup refused: %s", strerror(-ret));
        goto out_free;
    }

    /* every operation the core uses must be there; a kernel without one runs epoll */
    static const struct {
        int op;
        const char *name;
    } needed[] = {
        {IORING_OP_ACCEPT, "accept"},       {IORING_OP_RECV, "recv"},
        {IORING_OP_SEND, "send"},           {IORING_OP_SENDMSG, "sendmsg"},
        {IORING_OP_CONNECT, "connect"},     {IORING_OP_CLOSE, "close"},
        {IORING_OP_ASYNC_CANCEL, "cancel"},
    };
    struct io_uring_probe *probe = io_uring_get_probe_ring(&u->ring);
    if (probe != NULL) {
        for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
            if (!io_uring_opcode_supported(probe, needed[i].op)) {
                snprintf(why, why_len, "the kernel's io_uring lacks %s", needed[i].name);
                io_uring_free_probe(probe);
                ret = -EOPNOTSUPP;
                goto out_ring;
            }
        io_uring_free_probe(probe);
    }

    /* The arena is not registered as fixed buffers: no operation here uses a fixed buffer, and
     * a registration would pin the whole arena against RLIMIT_MEMLOCK for nothing. */

    /* the provided-buffer ring: every arena buffer lent to the kernel */
    u->br_entries = 1;
    while (u->br_entries < pool->count)
        u->br_entries <<= 1;
    if (u->br_entries > 32768) {
        snprintf(why, why_len, "too many buffers for one provided-buffer ring (%u)", pool->count);
        ret = -EINVAL;
        goto out_ring;
    }
    u->br_bytes = u->br_entries * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, u->br_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        ret = -errno;
        snprintf(why, why_len, "mmap of the buffer ring failed: %s", strerror(errno));
        goto out_ring;
    }
    u->br = mem;
    io_uring_buf_ring_init(u->br);
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)u->br,
        .ring_entries = u->br_entries,
        .bgid = UR_BGID,
    };
    ret = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (ret < 0) {
        snprintf(why, why_len, "provided-buffer ring refused: %s", strerror(-ret));
        goto out_br;
    }
    for (uint32_t i = 0; i < pool->count; i++)
        ur_buf_return(&u->base, i);
    io_uring_buf_ring_advance(u->br, (int)u->br_added);
    u->br_added = 0;
    pool->engine = &u->base;

    snprintf(u->base.desc, sizeof(u->base.desc),
             "uring: ring of %u entries, %s, multishot accept and recv, provided-buffer ring of "
             "%u x %u bytes",
             entries,
             (u->setup_flags & IORING_SETUP_DEFER_TASKRUN)  ? "single issuer, deferred task run"
             : (u->setup_flags & IORING_SETUP_COOP_TASKRUN) ? "cooperative task run"
                                                            : "default task run",
             pool->count, pool->size);
    log_info("%s", u->base.desc);
    return &u->base;

out_br:
    munmap(u->br, u->br_bytes);
out_ring:
    io_uring_queue_exit(&u->ring);
out_free:
    free(u);
    errno = -ret;
    return NULL;
}

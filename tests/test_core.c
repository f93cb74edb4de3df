/* Unit tests of the proxy core (client.c, server.c, worker.c) driven through a scripted fake
 * engine: the core's operations are recorded, the test delivers every completion itself, and
 * the ownership of buffers and messages is checked at each step of a request's life, including
 * a client going away or a server failing at each point. No socket is ever connected: clients
 * are socketpair ends, server connections are sockets the fake closes unconnected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conf/conf.h"
#include "src/health.h"
#include "src/io.h"
#include "src/log.h"
#include "src/mbuf.h"
#include "src/msg.h"
#include "src/stats.h"
#include "src/client.h"
#include "src/server.h"
#include "src/worker.h"

#define NO_OP     SIZE_MAX
#define NSERVERS  2
#define MAX_PEERS 16

/* ---- the scripted engine ---------------------------------------------------------------- */

/* One operation the core submitted. */
struct fop {
    void *owner;
    uint8_t otype; /* the owner's type at submission (the owner may be freed since) */
    uint8_t kind;  /* enum io_kind */
    bool queued;   /* the engine owes its final event (a cancellation, a close) */
    bool done;     /* its final event has been delivered */
    int fd;
    uint8_t *bytes; /* IO_SEND: the bytes of its iovecs at submission */
    size_t len;
};

/* An event the engine owes, for operation op. */
struct qev {
    struct io_event ev;
    size_t op;
};

struct fake {
    struct io_engine base;
    struct fop *ops; /* every operation, in submission order */
    size_t nops, capops;
    struct qev *q; /* owed events, delivered first in first out */
    size_t qhead, nq, capq;
    uint32_t nbufs;
    bool *in_core;     /* buffer id lent to the core, not returned yet */
    uint32_t next_buf; /* round robin: a returned id is not lent again at once */
    uint64_t lent, returned;
    uint32_t bad_returns; /* ids returned that the core did not hold */
    uint32_t bad_ops;     /* submissions against the contract (two sends in flight, ...) */
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "test_core: out of memory\n");
        abort();
    }
    return q;
}

static struct fake *fake_of(struct io_engine *e)
{
    return (struct fake *)((char *)e - offsetof(struct fake, base));
}

static bool fop_outstanding(const struct fop *op)
{
    return !op->done && !op->queued;
}

/* The oldest operation of owner and kind whose final event is neither delivered nor owed. */
static size_t fake_find(const struct fake *f, const void *owner, uint8_t kind)
{
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i].owner == owner && f->ops[i].kind == kind && fop_outstanding(&f->ops[i]))
            return i;
    return NO_OP;
}

/* True once a close was submitted for owner and its IO_CLOSE not delivered yet. */
static bool fake_closing(const struct fake *f, const void *owner)
{
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i].owner == owner && f->ops[i].kind == IO_CLOSE && !f->ops[i].done)
            return true;
    return false;
}

static size_t fake_record(struct fake *f, void *owner, int fd, uint8_t kind)
{
    if (fake_closing(f, owner))
        f->bad_ops++; /* nothing may be submitted for an owner being closed */
    if (f->nops == f->capops) {
        f->capops = f->capops ? f->capops * 2 : 64;
        f->ops = xrealloc(f->ops, f->capops * sizeof(*f->ops));
    }
    struct fop *op = &f->ops[f->nops];
    memset(op, 0, sizeof(*op));
    op->owner = owner;
    op->otype = ((struct owner *)owner)->type;
    op->kind = kind;
    op->fd = fd;
    return f->nops++;
}

static void fake_owe(struct fake *f, size_t op, uint8_t kind, int32_t res)
{
    if (f->nq == f->capq) {
        f->capq = f->capq ? f->capq * 2 : 16;
        f->q = xrealloc(f->q, f->capq * sizeof(*f->q));
    }
    f->ops[op].queued = true;
    f->q[f->nq++] = (struct qev){
        .ev = {.owner = f->ops[op].owner, .kind = kind, .res = res},
        .op = op,
    };
}

static int fake_accept(struct io_engine *e, int lfd, void *owner)
{
    fake_record(fake_of(e), owner, lfd, IO_ACCEPT);
    return 0;
}

static int fake_recv(struct io_engine *e, int fd, void *owner)
{
    struct fake *f = fake_of(e);
    if (fake_find(f, owner, IO_RECV) != NO_OP)
        f->bad_ops++; /* a second multishot recv on one socket */
    fake_record(f, owner, fd, IO_RECV);
    return 0;
}

static int fake_send(struct io_engine *e, int fd, struct msghdr *mh, void *owner)
{
    struct fake *f = fake_of(e);
    if (fake_find(f, owner, IO_SEND) != NO_OP)
        f->bad_ops++; /* at most one send per socket in flight */
    size_t i = fake_record(f, owner, fd, IO_SEND);
    size_t len = 0;
    for (size_t k = 0; k < mh->msg_iovlen; k++)
        len += mh->msg_iov[k].iov_len;
    uint8_t *b = xrealloc(NULL, len ? len : 1);
    size_t at = 0;
    for (size_t k = 0; k < mh->msg_iovlen; k++) {
        memcpy(b + at, mh->msg_iov[k].iov_base, mh->msg_iov[k].iov_len);
        at += mh->msg_iov[k].iov_len;
    }
    f->ops[i].bytes = b;
    f->ops[i].len = len;
    return 0;
}

static int fake_connect(struct io_engine *e, int fd, const struct sockaddr *sa, socklen_t len,
                        void *owner)
{
    (void)sa;
    (void)len;
    fake_record(fake_of(e), owner, fd, IO_CONNECT);
    return 0;
}

/* As an engine must: every pending operation of the owner ends (-ECANCELED), the descriptor
 * is closed, and the close's own IO_CLOSE comes last. */
static int fake_close(struct io_engine *e, int fd, void *owner)
{
    struct fake *f = fake_of(e);
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i].owner == owner && fop_outstanding(&f->ops[i]))
            fake_owe(f, i, f->ops[i].kind, -ECANCELED);
    size_t op = fake_record(f, owner, fd, IO_CLOSE);
    if (fd < 0 || close(fd) < 0)
        f->bad_ops++;
    fake_owe(f, op, IO_CLOSE, 0);
    return 0;
}

static int fake_recv_stop(struct io_engine *e, int fd, void *owner)
{
    (void)fd;
    struct fake *f = fake_of(e);
    size_t op = fake_find(f, owner, IO_RECV);
    if (op == NO_OP)
        return -ENOENT;
    fake_owe(f, op, IO_RECV, -ECANCELED);
    return 0;
}

static int fake_wait(struct io_engine *e, struct io_event *ev, unsigned max, int timeout_ms)
{
    (void)e;
    (void)ev;
    (void)max;
    (void)timeout_ms;
    return 0; /* the test delivers every event itself */
}

static void fake_buf_return(struct io_engine *e, uint32_t id)
{
    struct fake *f = fake_of(e);
    if (id >= f->nbufs || !f->in_core[id]) {
        f->bad_returns++;
        return;
    }
    f->in_core[id] = false;
    f->returned++;
}

static void fake_destroy(struct io_engine *e)
{
    (void)e; /* lives in the fixture */
}

static const struct io_ops fake_ops = {
    .name = "fake",
    .accept = fake_accept,
    .recv = fake_recv,
    .send = fake_send,
    .connect = fake_connect,
    .close = fake_close,
    .recv_stop = fake_recv_stop,
    .wait = fake_wait,
    .buf_return = fake_buf_return,
    .destroy = fake_destroy,
};

/* A buffer the engine hands to the core with a receive. */
static uint32_t fake_lend(struct fake *f)
{
    for (uint32_t k = 0; k < f->nbufs; k++) {
        uint32_t id = (f->next_buf + k) % f->nbufs;
        if (!f->in_core[id]) {
            f->in_core[id] = true;
            f->next_buf = id + 1;
            f->lent++;
            return id;
        }
    }
    fail_msg("every buffer is held by the core");
    return 0;
}

/* ---- fixture ------------------------------------------------------------------------------ */

struct fx {
    char dir[64];
    char conf_path[96];
    char sock_path[96];
    struct conf *conf;
    struct stats_registry reg;
    struct health health;
    struct worker w;
    struct fake fake;
    bool reg_ok, health_ok, worker_ok;
    int peers[MAX_PEERS]; /* the test's ends of the clients' socketpairs */
    int npeers;
};

/* The fixture over one pool of two servers; pool_extra: more keys of the pool (a redis pool). */
static int fx_setup_conf(void **state, const char *pool_extra)
{
    char err[512];
    struct fx *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    *state = fx;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/rp-core-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->conf_path, sizeof(fx->conf_path), "%s/core.yml", fx->dir);
    snprintf(fx->sock_path, sizeof(fx->sock_path), "%s/proxy.sock", fx->dir);
    FILE *fp = fopen(fx->conf_path, "w");
    if (fp == NULL)
        return -1;
    /* two servers on ports nobody listens on: the fake engine never connects */
    fprintf(fp,
            "ringproxy:\n"
            "  buffer_size: 4096\n"
            "  buffers: 64\n"
            "core:\n"
            "  listen: %s\n"
            "  max_value_size: 1000\n"
            "%s"
            "  servers:\n"
            "   - 127.0.0.1:1:1\n"
            "   - 127.0.0.1:2:1\n",
            fx->sock_path, pool_extra);
    fclose(fp);
    if (conf_load_file(fx->conf_path, &fx->conf, err, sizeof(err)) < 0) {
        print_error("conf: %s\n", err);
        return -1;
    }
    if (fx->conf->npools != 1 || fx->conf->pools[0].nservers != NSERVERS)
        return -1;
    if (stats_registry_init(&fx->reg, fx->conf, 1) < 0)
        return -1;
    fx->reg_ok = true;
    if (health_init(&fx->health, fx->conf, &fx->reg, 1, err, sizeof(err)) < 0) {
        print_error("health: %s\n", err);
        return -1;
    }
    fx->health_ok = true;
    struct worker *w = &fx->w;
    if (worker_init(w, 0, fx->conf, IO_CHOICE_EPOLL, &fx->reg, &fx->health, err, sizeof(err)) < 0) {
        print_error("worker: %s\n", err);
        return -1;
    }
    fx->worker_ok = true;

    struct fake *f = &fx->fake;
    f->base.ops = &fake_ops;
    f->base.pool = &w->mbufs;
    f->nbufs = w->mbufs.count;
    f->in_core = calloc(f->nbufs, sizeof(*f->in_core));
    if (f->in_core == NULL)
        return -1;
    w->io = &f->base;
    w->mbufs.engine = &f->base;
    w->now = worker_now();
    return 0;
}

static int fx_setup(void **state)
{
    return fx_setup_conf(state, "");
}

static int fx_setup_redis(void **state)
{
    return fx_setup_conf(state, "  redis: true\n");
}

static int fx_setup_redis_auth(void **state)
{
    return fx_setup_conf(state, "  redis: true\n  redis_auth: sekret\n  redis_db: 3\n");
}

static int fx_teardown(void **state)
{
    struct fx *fx = *state;
    if (fx == NULL)
        return 0;
    struct worker *w = &fx->w;
    struct fake *f = &fx->fake;
    if (fx->worker_ok) {
        /* what a failed test left behind is released without the engine, as worker_main does
         * at the end: clients still open, then server connections whose close never ended */
        while (w->clients != NULL) {
            struct client *c = w->clients;
            if (!c->o.closing)
                client_close(w, c);
            c->o.pending = 0;
            client_free(w, c);
        }
        for (size_t i = 0; i < f->nops; i++)
            if (f->ops[i].kind == IO_CLOSE && !f->ops[i].done && f->ops[i].otype == OWNER_SCONN) {
                f->ops[i].done = true;
                sconn_free(w, f->ops[i].owner);
            }
        worker_destroy(w);
    }
    if (fx->health_ok)
        health_destroy(&fx->health);
    if (fx->reg_ok)
        stats_registry_free(&fx->reg);
    conf_free(fx->conf);
    for (size_t i = 0; i < f->nops; i++)
        free(f->ops[i].bytes);
    free(f->ops);
    free(f->q);
    free(f->in_core);
    for (int i = 0; i < fx->npeers; i++)
        close(fx->peers[i]);
    if (fx->sock_path[0] != '\0')
        unlink(fx->sock_path);
    if (fx->conf_path[0] != '\0')
        unlink(fx->conf_path);
    if (fx->dir[0] != '\0')
        rmdir(fx->dir);
    free(fx);
    return 0;
}

/* ---- driving the core ------------------------------------------------------------------- */

static const char *show(const uint8_t *p, size_t len)
{
    static char out[4][512];
    static int turn;
    char *o = out[turn++ % 4];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 5 < sizeof(out[0]); i++) {
        if (p[i] == '\r')
            n += (size_t)snprintf(o + n, 5, "\\r");
        else if (p[i] == '\n')
            n += (size_t)snprintf(o + n, 5, "\\n");
        else if (p[i] < 0x20 || p[i] >= 0x7f)
            n += (size_t)snprintf(o + n, 5, "\\x%02x", p[i]);
        else
            o[n++] = (char)p[i];
    }
    o[n] = '\0';
    return o;
}

/* Hands one event of operation op to the core (a final one marks op done). */
static void fx_deliver(struct fx *fx, size_t op, const struct io_event *ev)
{
    struct fop *o = &fx->fake.ops[op];
    assert_ptr_equal(o->owner, ev->owner);
    if (!(ev->flags & IO_F_MORE)) {
        assert_false(o->done);
        o->done = true;
    }
    worker_dispatch(&fx->w, ev);
}

/* Delivers the events the engine owes (cancellations, closes), each batch then flushed, as
 * the worker's next wait() would. */
static void fx_drain(struct fx *fx)
{
    struct fake *f = &fx->fake;
    while (f->qhead < f->nq) {
        struct qev q = f->q[f->qhead++];
        fx_deliver(fx, q.op, &q.ev);
        worker_flush(&fx->w);
    }
    f->qhead = f->nq = 0;
}

/* One batch: ev for operation op, the flush, then what the engine owes because of it. */
static void fx_event(struct fx *fx, size_t op, struct io_event ev)
{
    fx_deliver(fx, op, &ev);
    worker_flush(&fx->w);
    fx_drain(fx);
}

static size_t fx_pending(struct fx *fx, const void *owner, uint8_t kind)
{
    return fake_find(&fx->fake, owner, kind);
}

/* Operations of owner (any when NULL) and kind submitted since mark. */
static size_t fx_count(struct fx *fx, size_t mark, const void *owner, uint8_t kind)
{
    size_t n = 0;
    for (size_t i = mark; i < fx->fake.nops; i++)
        if ((owner == NULL || fx->fake.ops[i].owner == owner) && fx->fake.ops[i].kind == kind)
            n++;
    return n;
}

/* Operations of kind for any owner of type otype since mark. */
static size_t fx_count_type(struct fx *fx, size_t mark, uint8_t otype, uint8_t kind)
{
    size_t n = 0;
    for (size_t i = mark; i < fx->fake.nops; i++)
        if (fx->fake.ops[i].otype == otype && fx->fake.ops[i].kind == kind)
            n++;
    return n;
}

/* The engine received len bytes for owner into a buffer it lends the core (its multishot recv
 * stays armed). Returns the buffer id. */
static uint32_t fx_recv(struct fx *fx, void *owner, const char *bytes, size_t len)
{
    size_t op = fx_pending(fx, owner, IO_RECV);
    if (op == NO_OP)
        fail_msg("no receive armed for %p", owner);
    assert_true(len > 0 && len <= fx->w.mbufs.size);
    uint32_t id = fake_lend(&fx->fake);
    memcpy(mbuf_data(&fx->w.mbufs, id), bytes, len);
    fx_event(fx, op,
             (struct io_event){.owner = owner,
                               .kind = IO_RECV,
                               .res = (int32_t)len,
                               .flags = IO_F_MORE | IO_F_BUF,
                               .buf = id});
    return id;
}

static uint32_t fx_recv_str(struct fx *fx, void *owner, const char *s)
{
    return fx_recv(fx, owner, s, strlen(s));
}

/* The owner's receive ends: res 0 is EOF, < 0 an error. */
static void fx_recv_end(struct fx *fx, void *owner, int32_t res)
{
    size_t op = fx_pending(fx, owner, IO_RECV);
    if (op == NO_OP)
        fail_msg("no receive armed for %p", owner);
    fx_event(fx, op, (struct io_event){.owner = owner, .kind = IO_RECV, .res = res});
}

static void fx_connect(struct fx *fx, struct sconn *sc, int32_t res)
{
    size_t op = fx_pending(fx, sc, IO_CONNECT);
    if (op == NO_OP)
        fail_msg("no connect in flight for %p", (void *)sc);
    fx_event(fx, op, (struct io_event){.owner = sc, .kind = IO_CONNECT, .res = res});
}

/* The send in flight for owner, which must carry exactly len bytes. */
static size_t fx_expect_send(struct fx *fx, const void *owner, const char *bytes, size_t len)
{
    size_t op = fx_pending(fx, owner, IO_SEND);
    if (op == NO_OP)
        fail_msg("no send in flight for %p, expected \"%s\"", owner,
                 show((const uint8_t *)bytes, len));
    const struct fop *o = &fx->fake.ops[op];
    if (o->len != len || memcmp(o->bytes, bytes, len) != 0)
        fail_msg("send of %zu bytes \"%s\", expected %zu bytes \"%s\"", o->len,
                 show(o->bytes, o->len), len, show((const uint8_t *)bytes, len));
    return op;
}

static size_t fx_expect_send_str(struct fx *fx, const void *owner, const char *s)
{
    return fx_expect_send(fx, owner, s, strlen(s));
}

static void fx_complete(struct fx *fx, size_t op, int32_t res)
{
    const struct fop *o = &fx->fake.ops[op];
    fx_event(fx, op, (struct io_event){.owner = o->owner, .kind = o->kind, .res = res});
}

/* The send in flight for owner carries s and completes in full. */
static void fx_send_ok(struct fx *fx, const void *owner, const char *s)
{
    size_t op = fx_expect_send_str(fx, owner, s);
    fx_complete(fx, op, (int32_t)strlen(s));
}

static bool fx_returned(struct fx *fx, uint32_t id)
{
    return !fx->fake.in_core[id];
}

/* The buffer is back with the engine (no reference left), or still held with refs. */
static void expect_buf(struct fx *fx, uint32_t id, uint32_t refs)
{
    if (fx->w.mbufs.refs[id] != refs)
        fail_msg("buffer %u has %u references, expected %u", id, fx->w.mbufs.refs[id], refs);
    if (fx_returned(fx, id) != (refs == 0))
        fail_msg("buffer %u %s the engine", id, refs == 0 ? "not returned to" : "returned to");
}

/* The buffer is still held by the core (how many references depends on how slices merged). */
static void expect_held(struct fx *fx, uint32_t id)
{
    if (fx->w.mbufs.refs[id] == 0 || fx_returned(fx, id))
        fail_msg("buffer %u is not held (%u references)", id, fx->w.mbufs.refs[id]);
}

static struct sconn *fx_sconn(struct fx *fx, uint32_t s)
{
    return fx->w.pools[0]->servers[s]->conns[0];
}

static struct server_stats *fx_sstats(struct fx *fx, uint32_t s)
{
    return stats_server(&fx->reg, 0, 0, s);
}

static uint32_t fx_failures(struct fx *fx, uint32_t s)
{
    return atomic_load(&atomic_load(&fx->health.latest)->pools[0].servers[s].failures);
}

static uint32_t fx_route(struct fx *fx, const char *key)
{
    return pool_route(&fx->w, fx->w.pools[0], (const uint8_t *)key, (uint32_t)strlen(key));
}

/* The n-th key ("k0", "k1", ...) that routes to server s. */
static void key_on(struct fx *fx, uint32_t s, unsigned n, char *out, size_t outlen)
{
    for (unsigned i = 0; i < 100000; i++) {
        snprintf(out, outlen, "k%u", i);
        if (fx_route(fx, out) == s && n-- == 0)
            return;
    }
    fail_msg("no key routes to server %u", s);
}

__attribute__((format(printf, 3, 4))) static void sfmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < len);
}

/* A client arrives; its receive is armed at once. */
static struct client *fx_client(struct fx *fx)
{
    int sv[2];
    assert_true(fx->npeers < MAX_PEERS);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fx->peers[fx->npeers++] = sv[1];
    size_t mark = fx->fake.nops;
    client_accept(&fx->w, fx->w.pools[0], sv[0]);
    worker_flush(&fx->w);
    struct client *c = fx->w.clients;
    assert_non_null(c);
    assert_int_equal(c->o.fd, sv[0]);
    assert_int_equal(fx_count(fx, mark, c, IO_RECV), 1);
    size_t op = fx_pending(fx, c, IO_RECV);
    assert_true(op != NO_OP);
    assert_int_equal(fx->fake.ops[op].fd, sv[0]);
    return c;
}

static bool fx_client_open(struct fx *fx, const struct client *c)
{
    for (const struct client *x = fx->w.clients; x != NULL; x = x->next)
        if (x == c)
            return true;
    return false;
}

/* A request of client c answered by server s, checked byte for byte on both sides: the
 * client's buffer returns when the server send completes, the server's when the client's does. */
static void fx_roundtrip(struct fx *fx, struct client *c, uint32_t s, const char *req,
                         const char *rsp)
{
    uint32_t b = fx_recv_str(fx, c, req);
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);
    if (fx_pending(fx, sc, IO_CONNECT) != NO_OP)
        fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, req);
    expect_buf(fx, b, 0);
    uint32_t r = fx_recv_str(fx, sc, rsp);
    fx_send_ok(fx, c, rsp);
    expect_buf(fx, r, 0);
}

static void check_one_error_line(const struct fop *o)
{
    const char *p = (const char *)o->bytes;
    if (o->len < 16 || memcmp(p, "SERVER_ERROR ", 13) != 0 || memcmp(p + o->len - 2, "\r\n", 2))
        fail_msg("expected one SERVER_ERROR line, got \"%s\"", show(o->bytes, o->len));
    for (size_t i = 0; i + 2 < o->len; i++)
        if (p[i] == '\r' || p[i] == '\n')
            fail_msg("more than one line: \"%s\"", show(o->bytes, o->len));
}

/* Every buffer back with the engine exactly once, no message, connection or queued request
 * left, every operation ended by exactly one final event. */
static void fx_check_clean(struct fx *fx)
{
    struct worker *w = &fx->w;
    struct fake *f = &fx->fake;
    fx_drain(fx);
    assert_null(w->clients);
    for (uint32_t s = 0; s < NSERVERS; s++) {
        struct server_stats *st = fx_sstats(fx, s);
        assert_null(fx_sconn(fx, s));
        assert_int_equal(STAT_GET(st->in_queue), 0);
        assert_int_equal(STAT_GET(st->in_queue_bytes), 0);
        assert_int_equal(STAT_GET(st->out_queue), 0);
        assert_int_equal(STAT_GET(st->out_queue_bytes), 0);
        assert_int_equal(STAT_GET(st->server_connections), 0);
    }
    for (uint32_t i = 0; i < w->mbufs.count; i++) {
        if (w->mbufs.refs[i] != 0)
            fail_msg("buffer %u still has %u references", i, w->mbufs.refs[i]);
        if (f->in_core[i])
            fail_msg("buffer %u was never returned to the engine", i);
    }
    assert_int_equal(w->mbufs.held, 0);
    assert_int_equal(w->mbufs.spill_live, 0);
    assert_int_equal(f->bad_returns, 0);
    assert_int_equal(f->returned, f->lent);
    assert_int_equal(w->msgs.live, 0);
    assert_int_equal(f->bad_ops, 0);
    for (size_t i = 0; i < f->nops; i++)
        if (!f->ops[i].done)
            fail_msg("operation %zu (kind %u) never got its final event", i, f->ops[i].kind);
    assert_int_equal(STAT_GET(w->st.curr_connections), 0);
    assert_int_equal(STAT_GET(stats_pool(&fx->reg, 0, 0)->client_connections), 0);
}

/* Closes what is still open, the way peers do (clients reset, servers close), then checks
 * that nothing leaked. */
static void fx_finish(struct fx *fx)
{
    struct worker *w = &fx->w;
    for (;;) {
        struct client *c = w->clients;
        while (c != NULL && fx_pending(fx, c, IO_RECV) == NO_OP)
            c = c->next;
        if (c == NULL)
            break;
        fx_recv_end(fx, c, -ECONNRESET);
    }
    for (uint32_t s = 0; s < NSERVERS; s++) {
        struct sconn *sc = fx_sconn(fx, s);
        if (sc == NULL)
            continue;
        if (fx_pending(fx, sc, IO_CONNECT) != NO_OP)
            fx_connect(fx, sc, -ECONNREFUSED);
        else
            fx_recv_end(fx, sc, 0);
    }
    fx_check_clean(fx);
}

/* ---- 1. a get, step by step ----------------------------------------------------------- */

static void test_get_happy(void **state)
{
    struct fx *fx = *state;
    struct worker *w = &fx->w;
    uint32_t s = fx_route(fx, "foo");
    struct server_stats *st = fx_sstats(fx, s);
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;

    uint32_t b1 = fx_recv_str(fx, c, "get foo\r\n");
    /* parsed: the client dropped its own reference, the request's slice holds the buffer */
    expect_buf(fx, b1, 1);
    assert_int_equal(w->msgs.live, 1);
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);
    assert_int_equal(fx_count(fx, mark, sc, IO_CONNECT), 1);
    assert_int_equal(fx_count(fx, mark, NULL, IO_SEND), 0);
    assert_int_equal(STAT_GET(st->in_queue), 1);
    assert_int_equal(STAT_GET(st->in_queue_bytes), 9);

    /* connected: the receive is armed and the request goes out as received */
    fx_connect(fx, sc, 0);
    assert_true(fx_pending(fx, sc, IO_RECV) != NO_OP);
    assert_int_equal(STAT_GET(st->server_connections), 1);
    size_t op = fx_expect_send_str(fx, sc, "get foo\r\n");
    expect_buf(fx, b1, 1); /* the send holds it now */
    assert_int_equal(STAT_GET(st->in_queue), 0);
    assert_int_equal(STAT_GET(st->out_queue), 1);
    assert_int_equal(STAT_GET(st->out_queue_bytes), 9);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 0);

    fx_complete(fx, op, 9);
    expect_buf(fx, b1, 0);                        /* back exactly when the server send completed */
    assert_int_equal(STAT_GET(st->out_queue), 1); /* awaiting its reply */
    assert_int_equal(w->msgs.live, 1);

    static const char rsp[] = "VALUE foo 0 3\r\nbar\r\nEND\r\n";
    uint32_t b2 = fx_recv_str(fx, sc, rsp);
    assert_int_equal(STAT_GET(st->out_queue), 0);
    assert_int_equal(STAT_GET(st->out_queue_bytes), 0);
    assert_int_equal(STAT_GET(st->responses), 1);
    assert_int_equal(w->msgs.live, 0); /* the reply's slices belong to the client's send */
    op = fx_expect_send_str(fx, c, rsp);
    expect_buf(fx, b2, 1);
    fx_complete(fx, op, (int32_t)strlen(rsp));
    expect_buf(fx, b2, 0); /* back when the client send completed */
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
    assert_int_equal(fx_count(fx, mark, sc, IO_SEND), 1);
    assert_int_equal(fx_failures(fx, s), 0);
    fx_finish(fx);
}

/* A short send to the client: the rest goes next, the buffer returns when all of it is out. */
static void test_get_short_client_send(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "foo");
    struct client *c = fx_client(fx);
    fx_recv_str(fx, c, "get foo\r\n");
    struct sconn *sc = fx_sconn(fx, s);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, "get foo\r\n");
    static const char rsp[] = "VALUE foo 0 3\r\nbar\r\nEND\r\n";
    uint32_t b = fx_recv_str(fx, sc, rsp);
    size_t op = fx_expect_send_str(fx, c, rsp);
    fx_complete(fx, op, 7);
    expect_buf(fx, b, 1);
    fx_send_ok(fx, c, rsp + 7);
    expect_buf(fx, b, 0);
    fx_finish(fx);
}

/* ---- 2. a data block over several receives: forwarded only when whole ---------------- */

static void test_set_split_block(void **state)
{
    struct fx *fx = *state;
    char key[16], key2[16], req[64];
    key_on(fx, 0, 0, key, sizeof(key));
    key_on(fx, 0, 1, key2, sizeof(key2));
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;

    /* on a server with no connection yet: not even a connect before the block is whole */
    sfmt(req, sizeof(req), "set %s 0 0 10\r\n01", key);
    uint32_t b1 = fx_recv_str(fx, c, req);
    uint32_t b2 = fx_recv_str(fx, c, "2345");
    assert_int_equal(fx_count(fx, mark, NULL, IO_CONNECT), 0);
    assert_int_equal(fx_count(fx, mark, NULL, IO_SEND), 0);
    assert_null(fx_sconn(fx, 0));
    expect_buf(fx, b1, 1);
    expect_buf(fx, b2, 1);
    uint32_t b3 = fx_recv_str(fx, c, "6789\r\n");
    struct sconn *sc = fx_sconn(fx, 0);
    assert_non_null(sc);
    assert_int_equal(fx_count(fx, mark, NULL, IO_SEND), 0);
    fx_connect(fx, sc, 0);
    sfmt(req, sizeof(req), "set %s 0 0 10\r\n0123456789\r\n", key);
    size_t op = fx_expect_send_str(fx, sc, req);
    assert_int_equal(fx_count(fx, mark, sc, IO_SEND), 1);
    expect_buf(fx, b1, 1);
    expect_buf(fx, b2, 1);
    expect_buf(fx, b3, 1);
    fx_complete(fx, op, (int32_t)strlen(req));
    expect_buf(fx, b1, 0);
    expect_buf(fx, b2, 0);
    expect_buf(fx, b3, 0);
    uint32_t r = fx_recv_str(fx, sc, "STORED\r\n");
    fx_send_ok(fx, c, "STORED\r\n");
    expect_buf(fx, r, 0);

    /* on the connected server, the line split too and the block's "\r\n" split: one send,
     * after the last byte */
    mark = fx->fake.nops;
    sfmt(req, sizeof(req), "set %s 0 0 5", key2);
    fx_recv_str(fx, c, req);
    fx_recv_str(fx, c, "\r\nab");
    fx_recv_str(fx, c, "cde\r");
    assert_int_equal(fx_count(fx, mark, NULL, IO_SEND), 0);
    assert_int_equal(STAT_GET(fx_sstats(fx, 0)->in_queue), 0);
    fx_recv_str(fx, c, "\n");
    sfmt(req, sizeof(req), "set %s 0 0 5\r\nabcde\r\n", key2);
    fx_send_ok(fx, sc, req);
    assert_int_equal(fx_count(fx, mark, sc, IO_SEND), 1);
    fx_recv_str(fx, sc, "STORED\r\n");
    fx_send_ok(fx, c, "STORED\r\n");
    fx_finish(fx);
}

/* ---- 3. a client vanishes halfway through a request -------------------------------------- */

static void client_vanishes(struct fx *fx, int32_t how)
{
    struct worker *w = &fx->w;
    uint32_t s = fx_route(fx, "x");
    struct client *c2 = fx_client(fx);
    fx_roundtrip(fx, c2, s, "get x\r\n", "END\r\n");
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);

    struct client *c1 = fx_client(fx);
    size_t mark = fx->fake.nops;
    uint32_t b = fx_recv_str(fx, c1, "set x 0 0 100\r\nabc");
    expect_buf(fx, b, 1); /* the incomplete request keeps it */
    fx_recv_end(fx, c1, how);
    assert_int_equal(fx_count(fx, mark, NULL, IO_SEND), 0);
    assert_int_equal(fx_count(fx, mark, NULL, IO_CONNECT), 0);
    /* nothing can complete the request any more: the client is closed and freed */
    if (fx_count(fx, mark, c1, IO_CLOSE) != 1 || fx_client_open(fx, c1))
        fail_msg("client whose receive ended (res %d) halfway through a data block is not "
                 "closed (close submitted: %zu, still open: %d, request buffer refs %u)",
                 how, fx_count(fx, mark, c1, IO_CLOSE), fx_client_open(fx, c1), w->mbufs.refs[b]);
    expect_buf(fx, b, 0);
    assert_int_equal(w->msgs.live, 0);
    assert_int_equal(STAT_GET(fx_sstats(fx, s)->in_queue), 0);

    /* the server connection is untouched: the other client's get goes out on it */
    assert_ptr_equal(fx_sconn(fx, s), sc);
    fx_roundtrip(fx, c2, s, "get x\r\n", "VALUE x 0 1\r\ny\r\nEND\r\n");
    assert_int_equal(fx_count(fx, mark, sc, IO_SEND), 1);
    fx_finish(fx);
}

static void test_client_vanishes_reset(void **state)
{
    client_vanishes(*state, -ECONNRESET);
}

static void test_client_vanishes_eof(void **state)
{
    client_vanishes(*state, 0);
}

/* EOF halfway through a command line: nothing can complete it either. */
static void test_client_eof_mid_line(void **state)
{
    struct fx *fx = *state;
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    uint32_t b = fx_recv_str(fx, c, "get fo");
    fx_recv_end(fx, c, 0);
    assert_int_equal(fx_count(fx, mark, NULL, IO_CONNECT), 0);
    assert_int_equal(fx_count(fx, mark, NULL, IO_SEND), 0);
    if (fx_count(fx, mark, c, IO_CLOSE) != 1 || fx_client_open(fx, c))
        fail_msg("client whose receive ended (EOF) halfway through a command line is not "
                 "closed (close submitted: %zu, still open: %d, buffer refs %u)",
                 fx_count(fx, mark, c, IO_CLOSE), fx_client_open(fx, c), fx->w.mbufs.refs[b]);
    expect_buf(fx, b, 0);
    fx_finish(fx);
}

/* EOF after a whole request (a half close): it is still answered, then the client closed. */
static void test_client_eof_after_request(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "foo");
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c, "get foo\r\n");
    fx_recv_end(fx, c, 0);
    assert_true(fx_client_open(fx, c));
    struct sconn *sc = fx_sconn(fx, s);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, "get foo\r\n");
    fx_recv_str(fx, sc, "END\r\n");
    assert_int_equal(fx_count(fx, mark, c, IO_CLOSE), 0); /* not before the reply is out */
    fx_send_ok(fx, c, "END\r\n");
    assert_int_equal(fx_count(fx, mark, c, IO_CLOSE), 1);
    assert_false(fx_client_open(fx, c));
    fx_finish(fx);
}

/* ---- 4. a client closes at each point of a get's life ---------------------------------- */

enum gone_at {
    GONE_BEFORE_CONNECT, /* queued, the connection not up: never sent */
    GONE_SEND_IN_FLIGHT, /* handed to the server send, not completed */
    GONE_SENT,           /* send completed, no reply yet */
    GONE_HALF_LINE,      /* part of the reply's first line received */
    GONE_HALF_REPLY,     /* the VALUE line and half the data received (and streamed) */
};

static void client_gone(struct fx *fx, enum gone_at at)
{
    struct worker *w = &fx->w;
    char k1[16], k2[16], req1[32], req2[32], rsp1[64], rsp2[64], rest[160];
    key_on(fx, 0, 0, k1, sizeof(k1));
    key_on(fx, 0, 1, k2, sizeof(k2));
    sfmt(req1, sizeof(req1), "get %s\r\n", k1);
    sfmt(req2, sizeof(req2), "get %s\r\n", k2);
    sfmt(rsp1, sizeof(rsp1), "VALUE %s 0 10\r\n0123456789\r\nEND\r\n", k1);
    sfmt(rsp2, sizeof(rsp2), "VALUE %s 0 3\r\nnew\r\nEND\r\n", k2);
    size_t split = at == GONE_HALF_LINE ? 7 : at == GONE_HALF_REPLY ? strlen(rsp1) - 12 : 0;

    struct client *c1 = fx_client(fx);
    uint32_t b1 = fx_recv_str(fx, c1, req1);
    struct sconn *sc = fx_sconn(fx, 0);
    assert_non_null(sc);
    size_t op1 = NO_OP;
    uint32_t rb = MBUF_NONE;
    if (at >= GONE_SEND_IN_FLIGHT) {
        fx_connect(fx, sc, 0);
        op1 = fx_expect_send_str(fx, sc, req1);
    }
    if (at >= GONE_SENT) {
        fx_complete(fx, op1, (int32_t)strlen(req1));
        expect_buf(fx, b1, 0);
    }
    if (at >= GONE_HALF_LINE) {
        rb = fx_recv(fx, sc, rsp1, split);
        if (at == GONE_HALF_REPLY) {
            /* the checked first line and the data so far stream to the client */
            fx_expect_send(fx, c1, rsp1, split);
        } else {
            assert_int_equal(fx_pending(fx, c1, IO_SEND), NO_OP);
        }
        expect_buf(fx, rb, 1);
    }

    size_t mark = fx->fake.nops;
    fx_recv_end(fx, c1, -ECONNRESET);
    assert_int_equal(fx_count(fx, mark, c1, IO_CLOSE), 1);
    assert_false(fx_client_open(fx, c1));
    if (at == GONE_BEFORE_CONNECT) {
        /* never sent: dropped at once, its buffer back */
        expect_buf(fx, b1, 0);
        assert_int_equal(w->msgs.live, 0);
        assert_int_equal(STAT_GET(fx_sstats(fx, 0)->in_queue), 0);
        assert_int_equal(sc->nqueued, 0);
    } else {
        /* the server has it: it stays queued so that the connection stays in step */
        assert_int_equal(w->msgs.live, 1);
        assert_int_equal(sc->nqueued, 1);
        expect_buf(fx, b1, at == GONE_SEND_IN_FLIGHT ? 1 : 0);
    }
    if (rb != MBUF_NONE)
        expect_buf(fx, rb, 0); /* what the client's reply held is released */
    assert_int_equal(fx_count_type(fx, mark, OWNER_CLIENT, IO_SEND), 0);

    /* a new client's get on the same connection gets its own reply, correctly framed */
    struct client *c2 = fx_client(fx);
    size_t mark2 = fx->fake.nops;
    uint32_t b2 = fx_recv_str(fx, c2, req2);
    assert_ptr_equal(fx_sconn(fx, 0), sc);
    if (at == GONE_BEFORE_CONNECT)
        fx_connect(fx, sc, 0);
    if (at == GONE_SEND_IN_FLIGHT) {
        assert_int_equal(fx_count(fx, mark2, sc, IO_SEND), 0); /* one send at a time */
        fx_complete(fx, op1, (int32_t)strlen(req1));
        expect_buf(fx, b1, 0);
    }
    fx_send_ok(fx, sc, req2); /* c2's request alone */
    expect_buf(fx, b2, 0);
    /* the rest of the dropped reply and the new reply arrive in one buffer */
    sfmt(rest, sizeof(rest), "%s%s", at == GONE_BEFORE_CONNECT ? "" : rsp1 + split, rsp2);
    uint32_t rb2 = fx_recv_str(fx, sc, rest);
    fx_send_ok(fx, c2, rsp2);
    assert_int_equal(fx_count_type(fx, mark2, OWNER_CLIENT, IO_SEND), 1);
    expect_buf(fx, rb2, 0);
    assert_int_equal(w->msgs.live, 0);
    assert_int_equal(sc->nqueued, 0);
    assert_int_equal(fx_failures(fx, 0), 0);
    fx_finish(fx);
}

static void test_client_gone_before_connect(void **state)
{
    client_gone(*state, GONE_BEFORE_CONNECT);
}

static void test_client_gone_send_in_flight(void **state)
{
    client_gone(*state, GONE_SEND_IN_FLIGHT);
}

static void test_client_gone_sent(void **state)
{
    client_gone(*state, GONE_SENT);
}

static void test_client_gone_half_line(void **state)
{
    client_gone(*state, GONE_HALF_LINE);
}

static void test_client_gone_half_reply(void **state)
{
    client_gone(*state, GONE_HALF_REPLY);
}

/* A client resets with a get and a noreply set queued, neither sent yet (the connection is
 * still being made): the get goes (nobody waits for it), the noreply set still reaches the
 * server, as memcached would have carried it out once read. */
static void test_client_gone_noreply_write_still_sent(void **state)
{
    struct fx *fx = *state;
    struct worker *w = &fx->w;
    char k[16], req[96], set[48];
    key_on(fx, 0, 0, k, sizeof(k));
    sfmt(set, sizeof(set), "set %s 0 0 1 noreply\r\nx\r\n", k);
    sfmt(req, sizeof(req), "get %s\r\n%s", k, set);
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c, req);
    struct sconn *sc = fx_sconn(fx, 0);
    assert_non_null(sc);
    fx_recv_end(fx, c, -ECONNRESET);
    fx_drain(fx);
    assert_false(fx_client_open(fx, c));
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, set); /* the set alone */
    assert_int_equal(fx_count(fx, mark, sc, IO_SEND), 1);
    assert_int_equal(w->msgs.live, 0);
    fx_finish(fx);
}

/* ---- 5. a server fails at each point ------------------------------------------------------ */

enum fail_at {
    FAIL_CONNECT,    /* connect refused */
    FAIL_SEND,       /* the send fails */
    FAIL_CLOSED,     /* the server closes with the request sent */
    FAIL_HALF_REPLY, /* the server closes with half a reply received (and streamed) */
};

static void server_fails(struct fx *fx, enum fail_at at)
{
    struct worker *w = &fx->w;
    char k[16], req[32], rsp[64];
    key_on(fx, 1, 0, k, sizeof(k));
    sfmt(req, sizeof(req), "get %s\r\n", k);
    sfmt(rsp, sizeof(rsp), "VALUE %s 0 10\r\n0123456789\r\nEND\r\n", k);
    size_t half = strlen(rsp) - 12;

    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    uint32_t b = fx_recv_str(fx, c, req);
    struct sconn *sc = fx_sconn(fx, 1);
    assert_non_null(sc);
    uint32_t rb = MBUF_NONE;
    if (at == FAIL_CONNECT) {
        fx_connect(fx, sc, -ECONNREFUSED);
    } else {
        fx_connect(fx, sc, 0);
        size_t op = fx_expect_send_str(fx, sc, req);
        if (at == FAIL_SEND) {
            fx_complete(fx, op, -EPIPE);
        } else {
            fx_complete(fx, op, (int32_t)strlen(req));
            if (at == FAIL_HALF_REPLY) {
                rb = fx_recv(fx, sc, rsp, half);
                fx_complete(fx, fx_expect_send(fx, c, rsp, half), (int32_t)half);
            }
            fx_recv_end(fx, sc, 0);
        }
    }

    /* the connection is closed and freed, the failure counted once */
    assert_null(fx_sconn(fx, 1));
    assert_int_equal(fx_count(fx, mark, sc, IO_CLOSE), 1);
    assert_false(fake_closing(&fx->fake, sc));
    assert_int_equal(fx_failures(fx, 1), 1);
    assert_int_equal(fx_failures(fx, 0), 0);
    assert_int_equal(STAT_GET(fx_sstats(fx, 1)->server_connections), 0);
    assert_int_equal(STAT_GET(fx_sstats(fx, 1)->in_queue), 0);
    assert_int_equal(STAT_GET(fx_sstats(fx, 1)->out_queue), 0);
    expect_buf(fx, b, 0);

    if (at != FAIL_HALF_REPLY) {
        /* exactly one error line, and the client goes on */
        size_t op = fx_pending(fx, c, IO_SEND);
        if (op == NO_OP)
            fail_msg("the client got no reply");
        check_one_error_line(&fx->fake.ops[op]);
        fx_complete(fx, op, (int32_t)fx->fake.ops[op].len);
        assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
        assert_int_equal(w->msgs.live, 0);
        assert_true(fx_client_open(fx, c));
        /* the next request opens a new connection (and the success clears the count) */
        fx_roundtrip(fx, c, 1, req, rsp);
        assert_int_equal(fx_failures(fx, 1), 0);
    } else {
        /* part of the reply is out: the client cannot be told cleanly and is closed, with
         * nothing more after the bytes it already has (anything else lands inside the data
         * block, where a client would take it for value bytes) */
        expect_buf(fx, rb, 0);
        size_t op = fx_pending(fx, c, IO_SEND);
        if (op != NO_OP) {
            /* see the rest through, so that the failure says what the client ends up with */
            char more[256];
            sfmt(more, sizeof(more), "%s", show(fx->fake.ops[op].bytes, fx->fake.ops[op].len));
            fx_complete(fx, op, (int32_t)fx->fake.ops[op].len);
            fail_msg("after %zu bytes of a reply (\"%s\"), the client is sent \"%s\" more, "
                     "then %s",
                     half, show((const uint8_t *)rsp, half), more,
                     fx_client_open(fx, c) ? "left open" : "closed");
        }
        assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
        assert_int_equal(fx_count(fx, mark, c, IO_CLOSE), 1);
        assert_false(fx_client_open(fx, c));
    }
    fx_finish(fx);
}

static void test_server_connect_refused(void **state)
{
    server_fails(*state, FAIL_CONNECT);
}

static void test_server_send_fails(void **state)
{
    server_fails(*state, FAIL_SEND);
}

static void test_server_closes_after_send(void **state)
{
    server_fails(*state, FAIL_CLOSED);
}

static void test_server_closes_half_reply(void **state)
{
    server_fails(*state, FAIL_HALF_REPLY);
}

/* A reply cut off by its server while later replies (from another server) are ready and the
 * client is halfway through a set: not one byte may follow the cut (it would be read as the
 * rest of the value), the unfinished set goes, and the client is closed. */
static void test_server_cuts_reply_later_replies_withheld(void **state)
{
    struct fx *fx = *state;
    struct worker *w = &fx->w;
    char ka[16], kb[16], req[96], rspa[64], rspb[64];
    key_on(fx, 1, 0, ka, sizeof(ka));
    key_on(fx, 0, 0, kb, sizeof(kb));
    sfmt(req, sizeof(req), "get %s\r\nget %s\r\nset kc 0 0 10\r\nhel", ka, kb);
    sfmt(rspa, sizeof(rspa), "VALUE %s 0 10\r\n01234", ka); /* and then the server closes */
    sfmt(rspb, sizeof(rspb), "VALUE %s 0 3\r\nbbb\r\nEND\r\n", kb);
    char reqa[32], reqb[32];
    sfmt(reqa, sizeof(reqa), "get %s\r\n", ka);
    sfmt(reqb, sizeof(reqb), "get %s\r\n", kb);

    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c, req);
    struct sconn *sa = fx_sconn(fx, 1), *sb = fx_sconn(fx, 0);
    assert_non_null(sa);
    assert_non_null(sb);
    fx_connect(fx, sa, 0);
    fx_connect(fx, sb, 0);
    fx_send_ok(fx, sa, reqa);
    fx_send_ok(fx, sb, reqb);
    fx_recv_str(fx, sb, rspb); /* ready, waiting behind the first reply */
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 0);
    fx_recv_str(fx, sa, rspa); /* streams at once */
    fx_send_ok(fx, c, rspa);
    fx_recv_end(fx, sa, 0); /* cut */
    fx_drain(fx);
    if (fx_pending(fx, c, IO_SEND) != NO_OP) {
        size_t op = fx_pending(fx, c, IO_SEND);
        fail_msg("after the cut reply the client is sent \"%s\"",
                 show(fx->fake.ops[op].bytes, fx->fake.ops[op].len));
    }
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
    assert_int_equal(fx_count(fx, mark, c, IO_CLOSE), 1);
    assert_false(fx_client_open(fx, c));
    assert_int_equal(w->msgs.live, 0);
    fx_finish(fx);
}

/* A connect that fails for a local reason (no ephemeral port left) is not the server's
 * failure: the client gets its error line, the server's count stays. */
static void test_server_connect_local_error(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "foo");
    struct client *c = fx_client(fx);
    uint32_t b = fx_recv_str(fx, c, "get foo\r\n");
    fx_connect(fx, fx_sconn(fx, s), -EADDRNOTAVAIL);
    assert_null(fx_sconn(fx, s));
    assert_int_equal(fx_failures(fx, s), 0);
    assert_int_equal(STAT_GET(fx->w.st.local_errors), 1);
    expect_buf(fx, b, 0);
    size_t op = fx_pending(fx, c, IO_SEND);
    assert_true(op != NO_OP);
    check_one_error_line(&fx->fake.ops[op]);
    fx_complete(fx, op, (int32_t)fx->fake.ops[op].len);
    fx_finish(fx);
}

/* A server that closes a connection with nothing outstanding (an idle timeout, a restart) has
 * failed no request: its failure count stays, and the next request simply reconnects. */
static void test_server_idle_close_not_a_failure(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "foo");
    struct client *c = fx_client(fx);
    fx_roundtrip(fx, c, s, "get foo\r\n", "END\r\n");
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);
    fx_recv_end(fx, sc, 0); /* the server closes the idle connection */
    fx_drain(fx);
    assert_null(fx_sconn(fx, s));
    assert_int_equal(fx_failures(fx, s), 0);
    fx_roundtrip(fx, c, s, "get foo\r\n", "END\r\n"); /* a new connection serves it */
    assert_int_equal(fx_failures(fx, s), 0);
    fx_finish(fx);
}

/* Two clients' requests out on one connection when the server closes: one error line each. */
static void test_server_closes_two_waiting(void **state)
{
    struct fx *fx = *state;
    char k1[16], k2[16], req1[32], req2[32];
    key_on(fx, 0, 0, k1, sizeof(k1));
    key_on(fx, 0, 1, k2, sizeof(k2));
    sfmt(req1, sizeof(req1), "get %s\r\n", k1);
    sfmt(req2, sizeof(req2), "get %s\r\n", k2);
    struct client *c1 = fx_client(fx);
    struct client *c2 = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c1, req1);
    fx_recv_str(fx, c2, req2);
    struct sconn *sc = fx_sconn(fx, 0);
    fx_connect(fx, sc, 0);
    char both[64];
    sfmt(both, sizeof(both), "%s%s", req1, req2);
    fx_send_ok(fx, sc, both); /* coalesced into one send */
    assert_int_equal(STAT_GET(fx_sstats(fx, 0)->out_queue), 2);
    fx_recv_end(fx, sc, 0);
    assert_int_equal(fx_failures(fx, 0), 1);
    struct client *cs[2] = {c1, c2};
    for (int i = 0; i < 2; i++) {
        size_t op = fx_pending(fx, cs[i], IO_SEND);
        if (op == NO_OP)
            fail_msg("client %d got no reply", i + 1);
        check_one_error_line(&fx->fake.ops[op]);
        fx_complete(fx, op, (int32_t)fx->fake.ops[op].len);
        assert_int_equal(fx_count(fx, mark, cs[i], IO_SEND), 1);
    }
    fx_finish(fx);
}

/* ---- 6. noreply ------------------------------------------------------------------------- */

/* The probe: a command the proxy answers itself ("ERROR", as memcached answers a word it does
 * not know), so that nothing but the noreply request involves a server. */
#define PROBE "nosuch\r\n"

static void check_probe_reply(const struct fop *o)
{
    if (o->len != 7 || memcmp(o->bytes, "ERROR\r\n", 7) != 0)
        fail_msg("expected one ERROR line, got \"%s\"", show(o->bytes, o->len));
}

static void test_noreply_connect_fails(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "k");
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    uint32_t b = fx_recv_str(fx, c, "set k 0 0 1 noreply\r\nx\r\n");
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);
    fx_connect(fx, sc, -ECONNREFUSED);
    assert_int_equal(fx_failures(fx, s), 1);
    expect_buf(fx, b, 0);
    assert_int_equal(fx->w.msgs.live, 0);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 0); /* no bytes at all */
    assert_true(fx_client_open(fx, c));

    fx_recv_str(fx, c, PROBE);
    size_t op = fx_pending(fx, c, IO_SEND);
    assert_true(op != NO_OP);
    check_probe_reply(&fx->fake.ops[op]);
    fx_complete(fx, op, (int32_t)fx->fake.ops[op].len);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
    fx_finish(fx);
}

/* The same, with the probe pipelined behind the noreply set before the connect fails. */
static void test_noreply_pipelined_probe(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "k");
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c, "set k 0 0 1 noreply\r\nx\r\n" PROBE);
    size_t op = fx_pending(fx, c, IO_SEND);
    assert_true(op != NO_OP);
    check_probe_reply(&fx->fake.ops[op]);
    fx_complete(fx, op, (int32_t)fx->fake.ops[op].len);
    fx_connect(fx, fx_sconn(fx, s), -ECONNREFUSED);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
    assert_int_equal(fx_pending(fx, c, IO_SEND), NO_OP);
    fx_finish(fx);
}

/* ---- 7. a multi-get split over two servers ----------------------------------------------- */

struct split_keys {
    char a0[16], b[16], a1[16]; /* a0, a1 on server 0, b on server 1 */
    char req[64];               /* get a0 b a1 */
    char req0[48], req1[32];    /* the fragments */
};

static void split_keys(struct fx *fx, struct split_keys *k)
{
    key_on(fx, 0, 0, k->a0, sizeof(k->a0));
    key_on(fx, 1, 0, k->b, sizeof(k->b));
    key_on(fx, 0, 1, k->a1, sizeof(k->a1));
    sfmt(k->req, sizeof(k->req), "get %s %s %s\r\n", k->a0, k->b, k->a1);
    sfmt(k->req0, sizeof(k->req0), "get %s %s\r\n", k->a0, k->a1);
    sfmt(k->req1, sizeof(k->req1), "get %s\r\n", k->b);
}

/* Fragment s is sent and answered with rsp; returns the reply's buffer. */
static uint32_t split_answer(struct fx *fx, uint32_t s, const char *req, const char *rsp)
{
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, req);
    return fx_recv_str(fx, sc, rsp);
}

static void split_one_fails(struct fx *fx, bool fail_first)
{
    struct split_keys k;
    split_keys(fx, &k);
    char rsp0[96];
    sfmt(rsp0, sizeof(rsp0), "VALUE %s 0 1\r\na\r\nVALUE %s 0 1\r\nc\r\nEND\r\n", k.a0, k.a1);
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    uint32_t b = fx_recv_str(fx, c, k.req);
    assert_int_equal(fx->w.msgs.live, 3); /* the request and its two fragments */
    assert_non_null(fx_sconn(fx, 0));
    assert_non_null(fx_sconn(fx, 1));
    uint32_t r0 = MBUF_NONE;
    if (!fail_first)
        r0 = split_answer(fx, 0, k.req0, rsp0);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 0);
    fx_connect(fx, fx_sconn(fx, 1), -ECONNREFUSED);
    if (fail_first) {
        assert_int_equal(fx_count(fx, mark, c, IO_SEND), 0); /* the other is still out */
        r0 = split_answer(fx, 0, k.req0, rsp0);
    }
    size_t op = fx_pending(fx, c, IO_SEND);
    if (op == NO_OP)
        fail_msg("the client got no reply");
    check_one_error_line(&fx->fake.ops[op]);
    fx_complete(fx, op, (int32_t)fx->fake.ops[op].len);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
    expect_buf(fx, b, 0);
    expect_buf(fx, r0, 0);
    assert_int_equal(fx->w.msgs.live, 0);
    assert_int_equal(fx_failures(fx, 1), 1);
    assert_int_equal(fx_failures(fx, 0), 0);
    fx_finish(fx);
}

static void test_split_one_fails_last(void **state)
{
    split_one_fails(*state, false);
}

static void test_split_one_fails_first(void **state)
{
    split_one_fails(*state, true);
}

static void test_split_both_answer(void **state)
{
    struct fx *fx = *state;
    struct split_keys k;
    split_keys(fx, &k);
    char rsp0[64], rsp1[64], merged[160];
    /* a1 is a miss; server 1 answers first */
    sfmt(rsp0, sizeof(rsp0), "VALUE %s 0 1\r\na\r\nEND\r\n", k.a0);
    sfmt(rsp1, sizeof(rsp1), "VALUE %s 0 2\r\nbb\r\nEND\r\n", k.b);
    sfmt(merged, sizeof(merged), "VALUE %s 0 1\r\na\r\nVALUE %s 0 2\r\nbb\r\nEND\r\n", k.a0, k.b);
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    uint32_t b = fx_recv_str(fx, c, k.req);
    uint32_t r1 = split_answer(fx, 1, k.req1, rsp1);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 0);
    expect_held(fx, b); /* the request's keys, and the fragment not sent yet */
    uint32_t r0 = split_answer(fx, 0, k.req0, rsp0);
    size_t op = fx_expect_send_str(fx, c, merged);
    /* the request is freed (its keys released); the send holds both replies' buffers */
    expect_buf(fx, b, 0);
    expect_held(fx, r0);
    expect_held(fx, r1);
    assert_int_equal(fx->w.msgs.live, 0);
    fx_complete(fx, op, (int32_t)strlen(merged));
    expect_buf(fx, r0, 0);
    expect_buf(fx, r1, 0);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
    assert_int_equal(STAT_GET(stats_pool(&fx->reg, 0, 0)->fragments), 2);
    fx_finish(fx);
}

/* ---- 8. memcached's answers where the proxy answers itself ------------------------------ */

/* A set over max_value_size is swallowed and refused here; like memcached, which unlinks the
 * key's old value when such a set fails, the proxy has the key's server delete it (noreply:
 * nobody waits for that), and requests after the set reach the server after the delete. */
static void test_too_large_set_unlinks_old_value(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "big");
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    char block[1200];
    memset(block, 'v', sizeof(block));
    memcpy(block + 1001, "\r\n", 2);
    fx_recv_str(fx, c, "set big 0 0 1001\r\n");
    fx_recv(fx, c, block, 1003);
    assert_int_equal(fx_count(fx, mark, c, IO_SEND), 1);
    fx_send_ok(fx, c, "SERVER_ERROR object too large for cache\r\n");
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, "delete big noreply\r\n");
    fx_roundtrip(fx, c, s, "get big\r\n", "END\r\n");
    /* append (and a noreply set) unlink nothing / say nothing, as in memcached */
    fx_recv_str(fx, c, "append big 0 0 1001\r\n");
    fx_recv(fx, c, block, 1003);
    fx_send_ok(fx, c, "SERVER_ERROR object too large for cache\r\n");
    fx_recv_str(fx, c, "set big 0 0 1001 noreply\r\n");
    fx_recv(fx, c, block, 1003);
    fx_send_ok(fx, sc, "delete big noreply\r\n");
    fx_roundtrip(fx, c, s, "get big\r\n", "END\r\n");
    assert_int_equal(fx_count(fx, mark, sc, IO_SEND), 4);
    fx_finish(fx);
}

/* memcached reads a block as its length and two bytes more; when those are not "\r\n" it
 * says "bad data chunk" and reads on after them: here "f\r\n" is a command of its own. */
static void test_bad_chunk_stays_in_step(void **state)
{
    struct fx *fx = *state;
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c, "set k 0 0 3\r\nabcdef\r\n");
    fx_send_ok(fx, c, "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
    assert_int_equal(fx_count(fx, mark, NULL, IO_CONNECT), 0); /* nothing went to a server */
    assert_true(fx_client_open(fx, c));
    /* a storage line memcached rejects has no block: the next line is a command */
    fx_recv_str(fx, c, "set k 0 0 -1\r\nnosuch\r\n");
    fx_send_ok(fx, c, "CLIENT_ERROR bad command line format\r\nERROR\r\n");
    assert_int_equal(fx_count(fx, mark, NULL, IO_CONNECT), 0);
    assert_true(fx_client_open(fx, c));
    fx_finish(fx);
}

/* An HTTP request closes the connection without a word, as memcached does; so does a first
 * byte of memcached's binary protocol, which the proxy does not speak. */
static void closes_silently(struct fx *fx, const char *bytes, size_t len)
{
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv(fx, c, bytes, len);
    assert_int_equal(fx_count(fx, mark, NULL, IO_SEND), 0);
    if (fx_count(fx, mark, c, IO_CLOSE) != 1 || fx_client_open(fx, c))
        fail_msg("\"%s\" did not close the client", show((const uint8_t *)bytes, len));
    fx_finish(fx);
}

static void test_http_request_closes(void **state)
{
    static const char http[] = "GET / HTTP/1.0\r\n\r\n";
    closes_silently(*state, http, sizeof(http) - 1);
}

static void test_binary_protocol_closes(void **state)
{
    static const char bin[] = "\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01";
    closes_silently(*state, bin, sizeof(bin) - 1);
}

/* A client pipelines more requests than its first window (CLIENT_FIRST_QUEUE): the parse
 * stops between two requests and holds the rest; once the first replies are out, the rest is
 * parsed and forwarded, in order, and the client is read from again, even when the rest were
 * noreply writes (no reply, so no later flush, would resume it). */
static void test_window_holds_then_drains(void **state)
{
    struct fx *fx = *state;
    enum { N = CLIENT_FIRST_QUEUE };
    static const char nr[] = "set k 0 0 1 noreply\r\nx\r\n";
    uint32_t s = fx_route(fx, "k");
    struct client *c = fx_client(fx);
    char req[N * 8 + 4 * sizeof(nr)] = "", first[N * 8 + 1] = "", rest[4 * sizeof(nr)] = "";
    char rsp1[N * 6 + 1] = "";
    for (int i = 0; i < N; i++) {
        strcat(first, "get k\r\n");
        strcat(rsp1, "END\r\n");
    }
    for (int i = 0; i < 4; i++)
        strcat(rest, nr);
    strcat(strcpy(req, first), rest);
    fx_recv_str(fx, c, req);
    assert_non_null(c->held);
    assert_true(c->paused);
    struct sconn *sc = fx_sconn(fx, s);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, first);
    fx_recv_str(fx, sc, rsp1);
    fx_send_ok(fx, c, rsp1);
    /* the held requests went on, and nothing is held any more */
    fx_send_ok(fx, sc, rest);
    assert_null(c->held);
    if (c->paused || fx_pending(fx, c, IO_RECV) == NO_OP)
        fail_msg("the client is not read from again (paused %d, recv armed %d)", c->paused,
                 fx_pending(fx, c, IO_RECV) != NO_OP);
    fx_roundtrip(fx, c, s, "get k\r\n", "END\r\n");
    fx_finish(fx);
}

/* ---- 9. redis pools --------------------------------------------------------------------- */

/* A GET goes to its server as it came, and the reply back as it came. */
static void test_rd_get_happy(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "foo");
    struct client *c = fx_client(fx);
    fx_roundtrip(fx, c, s, "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", "$3\r\nbar\r\n");
    fx_roundtrip(fx, c, s, "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", "$-1\r\n");
    fx_finish(fx);
}

/* A SET whose value arrives in three receives reaches its server only whole; a client that
 * stops halfway costs the server connection nothing. */
static void test_rd_set_only_whole(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "k");
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n01234");
    fx_recv_str(fx, c, "567");
    assert_null(fx_sconn(fx, s)); /* nothing queued: no connection even */
    fx_recv_str(fx, c, "89\r\n");
    struct sconn *sc = fx_sconn(fx, s);
    assert_non_null(sc);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n");
    fx_recv_str(fx, sc, "+OK\r\n");
    fx_send_ok(fx, c, "+OK\r\n");
    /* half a request, then the client goes: nothing of it is sent */
    fx_recv_str(fx, c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n012");
    fx_recv_end(fx, c, -ECONNRESET);
    assert_int_equal(fx_count(fx, mark, sc, IO_SEND), 1);
    fx_finish(fx);
}

/* Two keys on two servers: one fragment each, merged back in the client's order, nil kept. */
static void test_rd_mget_split(void **state)
{
    struct fx *fx = *state;
    char a[16], b[16], a2[16], req[128], r0[96], r1[96];
    key_on(fx, 0, 0, a, sizeof(a));
    key_on(fx, 1, 0, b, sizeof(b));
    key_on(fx, 0, 1, a2, sizeof(a2));
    sfmt(req, sizeof(req), "*4\r\n$4\r\nMGET\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
         strlen(b), b, strlen(a), a, strlen(a2), a2);
    sfmt(r0, sizeof(r0), "*3\r\n$4\r\nMGET\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(a), a,
         strlen(a2), a2);
    sfmt(r1, sizeof(r1), "*2\r\n$4\r\nMGET\r\n$%zu\r\n%s\r\n", strlen(b), b);
    struct client *c = fx_client(fx);
    fx_recv_str(fx, c, req);
    struct sconn *s0 = fx_sconn(fx, 0), *s1 = fx_sconn(fx, 1);
    fx_connect(fx, s0, 0);
    fx_connect(fx, s1, 0);
    fx_send_ok(fx, s0, r0);
    fx_send_ok(fx, s1, r1);
    /* server 0 answers in two pieces, split inside an element */
    fx_recv_str(fx, s0, "*2\r\n$2\r\nv");
    fx_recv_str(fx, s1, "*1\r\n$3\r\nvvv\r\n");
    assert_int_equal(fx_count(fx, 0, c, IO_SEND), 0);
    fx_recv_str(fx, s0, "a\r\n$-1\r\n");
    fx_send_ok(fx, c, "*3\r\n$3\r\nvvv\r\n$2\r\nva\r\n$-1\r\n");
    assert_int_equal(STAT_GET(stats_pool(&fx->reg, 0, 0)->fragments), 2);
    fx_finish(fx);
}

/* DEL over two servers: the integers summed; a server error answers the whole request. */
static void test_rd_del_sum_and_error(void **state)
{
    struct fx *fx = *state;
    char a[16], b[16], req[128], r0[96], r1[96];
    key_on(fx, 0, 0, a, sizeof(a));
    key_on(fx, 1, 0, b, sizeof(b));
    sfmt(req, sizeof(req), "*3\r\n$3\r\nDEL\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(a), a,
         strlen(b), b);
    sfmt(r0, sizeof(r0), "*2\r\n$3\r\nDEL\r\n$%zu\r\n%s\r\n", strlen(a), a);
    sfmt(r1, sizeof(r1), "*2\r\n$3\r\nDEL\r\n$%zu\r\n%s\r\n", strlen(b), b);
    struct client *c = fx_client(fx);
    fx_recv_str(fx, c, req);
    struct sconn *s0 = fx_sconn(fx, 0), *s1 = fx_sconn(fx, 1);
    fx_connect(fx, s0, 0);
    fx_connect(fx, s1, 0);
    fx_send_ok(fx, s0, r0);
    fx_send_ok(fx, s1, r1);
    fx_recv_str(fx, s0, ":1\r\n");
    fx_recv_str(fx, s1, ":1\r\n");
    fx_send_ok(fx, c, ":2\r\n");
    /* again, and server 1 is loading: its error is the answer, and it counts as a failure */
    fx_recv_str(fx, c, req);
    fx_send_ok(fx, s0, r0);
    fx_send_ok(fx, s1, r1);
    fx_recv_str(fx, s1, "-LOADING Redis is loading the dataset in memory\r\n");
    fx_recv_str(fx, s0, ":0\r\n");
    fx_send_ok(fx, c, "-LOADING Redis is loading the dataset in memory\r\n");
    assert_int_equal(fx_failures(fx, 1), 1);
    assert_int_equal(fx_failures(fx, 0), 0);
    fx_finish(fx);
}

/* The client goes while a split MGET waits for its second part: nothing leaks, the part that
 * came is dropped, and the connection stays in step for the next client. */
static void test_rd_mget_client_gone(void **state)
{
    struct fx *fx = *state;
    char a[16], b[16], req[128], r0[96], r1[96];
    key_on(fx, 0, 0, a, sizeof(a));
    key_on(fx, 1, 0, b, sizeof(b));
    sfmt(req, sizeof(req), "*3\r\n$4\r\nMGET\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(a), a,
         strlen(b), b);
    sfmt(r0, sizeof(r0), "*2\r\n$4\r\nMGET\r\n$%zu\r\n%s\r\n", strlen(a), a);
    sfmt(r1, sizeof(r1), "*2\r\n$4\r\nMGET\r\n$%zu\r\n%s\r\n", strlen(b), b);
    struct client *c = fx_client(fx);
    fx_recv_str(fx, c, req);
    struct sconn *s0 = fx_sconn(fx, 0), *s1 = fx_sconn(fx, 1);
    fx_connect(fx, s0, 0);
    fx_connect(fx, s1, 0);
    fx_send_ok(fx, s0, r0);
    fx_send_ok(fx, s1, r1);
    fx_recv_str(fx, s0, "*1\r\n$1\r\nx\r\n");
    fx_recv_end(fx, c, -ECONNRESET);
    assert_false(fx_client_open(fx, c));
    fx_recv_str(fx, s1, "*1\r\n$-1\r\n");
    assert_int_equal(fx->w.msgs.live, 0);
    struct client *c2 = fx_client(fx);
    sfmt(req, sizeof(req), "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", strlen(b), b);
    fx_roundtrip(fx, c2, 1, req, "$1\r\ny\r\n");
    fx_finish(fx);
}

/* Commands the proxy answers, and errors in redis's words; a protocol error closes after its
 * reply. Nothing reaches a server. */
static void test_rd_local_answers(void **state)
{
    struct fx *fx = *state;
    struct client *c = fx_client(fx);
    size_t mark = fx->fake.nops;
    fx_recv_str(fx, c, "*1\r\n$4\r\nPING\r\n");
    fx_send_ok(fx, c, "+PONG\r\n");
    fx_recv_str(fx, c, "*2\r\n$4\r\nECHO\r\n$5\r\nhe\r\no\r\n");
    fx_send_ok(fx, c, "$5\r\nhe\r\no\r\n");
    fx_recv_str(fx, c, "PING \"a b\"\r\n");
    fx_send_ok(fx, c, "$3\r\na b\r\n");
    fx_recv_str(fx, c, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n");
    fx_send_ok(fx, c, "+OK\r\n");
    fx_recv_str(fx, c, "*1\r\n$3\r\nGET\r\n");
    fx_send_ok(fx, c, "-ERR wrong number of arguments for 'get' command\r\n");
    fx_recv_str(fx, c, "*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n");
    fx_send_ok(fx, c, "-ERR unsupported command 'KEYS'\r\n");
    fx_recv_str(fx, c, "*2\r\n$3\r\nFOO\r\n$1\r\na\r\n");
    fx_send_ok(fx, c, "-ERR unknown command 'FOO', with args beginning with: 'a' \r\n");
    fx_recv_str(fx, c, "*0\r\n\r\n*1\r\n$4\r\nPING\r\n");
    fx_send_ok(fx, c, "+PONG\r\n");
    fx_recv_str(fx, c, "*1\r\n$x\r\n");
    fx_send_ok(fx, c, "-ERR Protocol error: invalid bulk length\r\n");
    assert_false(fx_client_open(fx, c));
    assert_int_equal(fx_count_type(fx, mark, OWNER_SCONN, IO_CONNECT), 0);
    fx_finish(fx);
}

/* A pool with redis_auth and redis_db: clients must AUTH first; every server connection starts
 * with the proxy's own AUTH and SELECT, and a server that refuses them fails its requests. */
static void test_rd_auth_and_select(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "foo");
    static const char get[] = "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n";
    static const char setup[] = "*2\r\n$4\r\nAUTH\r\n$6\r\nsekret\r\n"
                                "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n";
    struct client *c = fx_client(fx);
    fx_recv_str(fx, c, get);
    fx_send_ok(fx, c, "-NOAUTH Authentication required.\r\n");
    fx_recv_str(fx, c, "*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n");
    fx_send_ok(fx, c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    fx_recv_str(fx, c, "*2\r\n$4\r\nAUTH\r\n$6\r\nsekret\r\n");
    fx_send_ok(fx, c, "+OK\r\n");
    assert_null(fx_sconn(fx, s));
    fx_recv_str(fx, c, get);
    struct sconn *sc = fx_sconn(fx, s);
    fx_connect(fx, sc, 0);
    char both[256];
    sfmt(both, sizeof(both), "%s%s", setup, get);
    fx_send_ok(fx, sc, both);
    fx_recv_str(fx, sc, "+OK\r\n+OK\r\n$1\r\nv\r\n");
    fx_send_ok(fx, c, "$1\r\nv\r\n");
    assert_int_equal(STAT_GET(fx_sstats(fx, s)->requests), 1); /* the setup is not counted */
    /* the server goes; the next connection's AUTH is refused */
    fx_recv_end(fx, sc, 0);
    fx_recv_str(fx, c, get);
    sc = fx_sconn(fx, s);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, both);
    fx_recv_str(fx, sc, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    fx_send_ok(fx, c, "-ERR backend refused the proxy's AUTH or SELECT\r\n");
    assert_null(fx_sconn(fx, s));
    fx_finish(fx);
}

/* A server that answers with something that is not RESP: its requests fail, it is closed. */
static void test_rd_garbage_reply(void **state)
{
    struct fx *fx = *state;
    uint32_t s = fx_route(fx, "foo");
    struct client *c = fx_client(fx);
    fx_recv_str(fx, c, "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
    struct sconn *sc = fx_sconn(fx, s);
    fx_connect(fx, sc, 0);
    fx_send_ok(fx, sc, "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
    fx_recv_str(fx, sc, "VALUE foo 0 3\r\n");
    fx_send_ok(fx, c, "-ERR backend sent an invalid reply\r\n");
    assert_null(fx_sconn(fx, s));
    fx_finish(fx);
}

/* ---- main --------------------------------------------------------------------------------- */

#define T(f)  cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
#define TR(f) cmocka_unit_test_setup_teardown(f, fx_setup_redis, fx_teardown)

int main(void)
{
    log_init(LOG_CRIT, NULL); /* the core logs every failure these tests provoke */
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_get_happy),
        T(test_get_short_client_send),
        T(test_set_split_block),
        T(test_client_vanishes_reset),
        T(test_client_vanishes_eof),
        T(test_client_eof_mid_line),
        T(test_client_eof_after_request),
        T(test_client_gone_before_connect),
        T(test_client_gone_send_in_flight),
        T(test_client_gone_sent),
        T(test_client_gone_half_line),
        T(test_client_gone_half_reply),
        T(test_server_connect_refused),
        T(test_server_send_fails),
        T(test_server_closes_after_send),
        T(test_server_closes_half_reply),
        T(test_client_gone_noreply_write_still_sent),
        T(test_server_closes_two_waiting),
        T(test_server_cuts_reply_later_replies_withheld),
        T(test_server_idle_close_not_a_failure),
        T(test_server_connect_local_error),
        T(test_noreply_connect_fails),
        T(test_noreply_pipelined_probe),
        T(test_split_one_fails_last),
        T(test_split_one_fails_first),
        T(test_split_both_answer),
        T(test_too_large_set_unlinks_old_value),
        T(test_bad_chunk_stays_in_step),
        T(test_http_request_closes),
        T(test_binary_protocol_closes),
        T(test_window_holds_then_drains),
        TR(test_rd_get_happy),
        TR(test_rd_set_only_whole),
        TR(test_rd_mget_split),
        TR(test_rd_del_sum_and_error),
        TR(test_rd_mget_client_gone),
        TR(test_rd_local_answers),
        TR(test_rd_garbage_reply),
        cmocka_unit_test_setup_teardown(test_rd_auth_and_select, fx_setup_redis_auth, fx_teardown),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}

/* A load-generator thread: connections, request issue (closed or open loop), reply matching,
 * failure handling, all on one edge-triggered epoll loop (see lg_worker.h). */
#include "lg_worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lg_mcrep.h"
#include "lg_resp.h"

#define RBUF_SIZE      (256 * 1024)
#define CONNECT_WINDOW 256 /* connects in progress per thread: spares the backlog */
#define MAX_EVENTS     512
#define TICK_NS        100000000ull /* stall checks every 100 ms */
#define PREFILL_DEPTH  16           /* prefill pipelines at least this deep */

enum conn_state { CS_NEW, CS_CONNECTING, CS_OPEN, CS_FAILED };
enum op { OP_GET, OP_SET, OP_PREFILL, OP_TOUCH };
enum phase { PH_SETUP, PH_RUN, PH_HOLD };

/* A request sent (or encoded, waiting for the socket), in order of its reply. */
struct pending {
    uint64_t t0; /* latency origin: issue time (closed loop) or intended time (open) */
    uint32_t nkeys;
    uint8_t op;
    uint8_t measured; /* t0 within the measured window */
};

struct lg_conn {
    int fd;
    uint8_t state;
    bool touched; /* on the worker's touched list */
    bool settled; /* setup done: connected and prefilled and touched, or failed */
    bool touch_sent;
    uint32_t gidx;    /* global index over all threads */
    int32_t heap_idx; /* position in the open-loop heap, -1 when not in it */
    /* outgoing bytes: [opos, olen) still to send */
    char *obuf;
    size_t olen, opos, ocap;
    /* requests in flight, a ring in send order */
    struct pending *fifo;
    uint32_t head, count, cap;
    uint64_t last_progress; /* last reply byte, connect start, or first request in flight */
    uint64_t slot;          /* open loop: index of the next request on this schedule */
    uint64_t next_due;      /* open loop: its intended send time */
    uint64_t pf_next;       /* prefill: next key index (this connection's stride) */
    union {
        struct lg_mc_parser mc;
        struct lg_resp_parser rd;
    } p;
};

uint64_t lg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL && n != 0) {
        fprintf(stderr, "loadgen: out of memory (%zu bytes)\n", n);
        exit(3);
    }
    return q;
}

/* Keeps the first message of its kind: prefix then text (len bytes, not terminated), with
 * control and non-ASCII bytes shown as '?' so that it is safe in JSON. */
static void note(char *dst, const char *prefix, const char *text, size_t len)
{
    if (dst[0] != '\0')
        return;
    size_t n = strlen(prefix);
    if (n > LG_MSG_LEN - 1)
        n = LG_MSG_LEN - 1;
    memcpy(dst, prefix, n);
    for (size_t i = 0; i < len && n < LG_MSG_LEN - 1; i++) {
        unsigned char ch = (unsigned char)text[i];
        dst[n++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
    }
    dst[n] = '\0';
}

static void thread_cpu(double *user, double *sys)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0) {
        *user = *sys = 0;
        return;
    }
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the open-loop heap: connections that may send, keyed by next_due ---- */

static void heap_set(struct lg_worker *w, uint32_t i, struct lg_conn *c)
{
    w->heap[i] = c;
    c->heap_idx = (int32_t)i;
}

static void heap_up(struct lg_worker *w, uint32_t i)
{
    struct lg_conn *c = w->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (w->heap[parent]->next_due <= c->next_due)
            break;
        heap_set(w, i, w->heap[parent]);
        i = parent;
    }
    heap_set(w, i, c);
}

static void heap_down(struct lg_worker *w, uint32_t i)
{
    struct lg_conn *c = w->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        uint64_t best = c->next_due;
        if (l < w->heap_len && w->heap[l]->next_due < best) {
            m = l;
            best = w->heap[l]->next_due;
        }
        if (l + 1 < w->heap_len && w->heap[l + 1]->next_due < best)
            m = l + 1;
        if (m == i)
            break;
        heap_set(w, i, w->heap[m]);
        i = m;
    }
    heap_set(w, i, c);
}

static void heap_push(struct lg_worker *w, struct lg_conn *c)
{
    w->heap[w->heap_len] = c;
    heap_up(w, w->heap_len++);
}

static void heap_remove(struct lg_worker *w, struct lg_conn *c)
{
    uint32_t i = (uint32_t)c->heap_idx;
    c->heap_idx = -1;
    if (--w->heap_len == i)
        return;
    struct lg_conn *moved = w->heap[w->heap_len];
    heap_set(w, i, moved);
    heap_up(w, i);
    if (moved->heap_idx == (int32_t)i)
        heap_down(w, i);
}

static struct lg_conn *heap_pop(struct lg_worker *w)
{
    struct lg_conn *c = w->heap[0];
    heap_remove(w, c);
    return c;
}

/* ---- connections ---- */

static void settle(struct lg_worker *w, struct lg_conn *c)
{
    if (!c->settled) {
        c->settled = true;
        w->unsettled--;
    }
}

static void mark(struct lg_worker *w, struct lg_conn *c)
{
    if (!c->touched) {
        c->touched = true;
        w->touched[w->ntouched++] = c;
    }
}

/* Gives a connection up: its measured requests in flight are charged as incomplete, with
 * the time waited so far as a lower bound of their latency. */
static void conn_fail(struct lg_worker *w, struct lg_conn *c, enum lg_fail why, uint64_t now,
                      const char *what)
{
    if (c->state == CS_FAILED)
        return;
    note(w->st.first_fail, "", what, strlen(what));
    if (c->state == CS_CONNECTING)
        w->connecting--;
    if (c->state == CS_OPEN)
        w->open--;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set: the descriptor is not shared */
    c->fd = -1;
    c->state = CS_FAILED;
    w->st.failed[why]++;
    w->st.failed_total++;
    for (uint32_t i = 0; i < c->count; i++) {
        const struct pending *p = &c->fifo[(c->head + i) % c->cap];
        if (p->measured) {
            w->st.incomplete++;
            lg_hist_record(&w->st.hist, now > p->t0 ? now - p->t0 : 0);
        }
    }
    w->inflight -= c->count;
    c->count = 0;
    c->olen = c->opos = 0;
    if (c->heap_idx >= 0)
        heap_remove(w, c);
    settle(w, c);
}

static void out_reserve(struct lg_conn *c, size_t need)
{
    if (c->ocap - c->olen >= need)
        return;
    if (c->opos > 0) {
        memmove(c->obuf, c->obuf + c->opos, c->olen - c->opos);
        c->olen -= c->opos;
        c->opos = 0;
        if (c->ocap - c->olen >= need)
            return;
    }
    size_t cap = c->ocap ? c->ocap * 2 : 4096;
    while (cap - c->olen < need)
        cap *= 2;
    c->obuf = xrealloc(c->obuf, cap);
    c->ocap = cap;
}

static uint32_t pick_key(struct lg_worker *w)
{
    const struct lg_config *cfg = w->sh->cfg;
    if (cfg->pattern == LG_KEYS_ZIPF)
        return lg_zipf_next(&w->sh->zipf, &w->rng);
    return lg_rng_below(&w->rng, cfg->keys);
}

/* Encodes one request into the connection's output and queues its pending entry. op is
 * OP_GET or OP_SET for the workload (drawn here when op < 0), OP_PREFILL (a set of key) or
 * OP_TOUCH (a get of key). */
static void issue(struct lg_worker *w, struct lg_conn *c, int op, uint32_t key, uint64_t t0,
                  bool measured, uint64_t now)
{
    const struct lg_shared *sh = w->sh;
    const struct lg_config *cfg = sh->cfg;
    uint32_t nkeys = 1;
    size_t n;

    out_reserve(c, sh->req_max);
    char *dst = c->obuf + c->olen;
    if (op < 0) {
        op = (cfg->get_fraction >= 1.0 || lg_rng_double(&w->rng) < cfg->get_fraction) ? OP_GET
                                                                                      : OP_SET;
        if (op == OP_GET) {
            nkeys = cfg->width;
            for (uint32_t i = 0; i < nkeys; i++)
                w->keys[i] = pick_key(w);
        } else {
            key = pick_key(w);
        }
    } else {
        w->keys[0] = key;
    }
    if (op == OP_GET || op == OP_TOUCH)
        n = lg_req_get(dst, cfg->proto, &sh->kf, w->keys, nkeys);
    else
        n = lg_req_set(dst, cfg->proto, &sh->kf, key, sh->value, cfg->value_size);
    c->olen += n;

    if (c->count == 0)
        c->last_progress = now;
    struct pending *p = &c->fifo[(c->head + c->count) % c->cap];
    p->t0 = t0;
    p->nkeys = nkeys;
    p->op = (uint8_t)op;
    p->measured = measured;
    c->count++;
    w->inflight++;
    if (measured)
        w->issued++;
}

/* Sends what is queued; returns -1 if the connection failed. */
static int conn_flush(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
    while (c->opos < c->olen) {
        ssize_t n = send(c->fd, c->obuf + c->opos, c->olen - c->opos, MSG_NOSIGNAL);
        if (n > 0) {
            c->opos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0; /* EPOLLOUT (edge-triggered) says when to go on */
        conn_fail(w, c, LG_FAIL_IO, now, n < 0 ? strerror(errno) : "send returned 0");
        return -1;
    }
    c->opos = c->olen = 0;
    return 0;
}

/* ---- issuing by phase ---- */

static uint64_t due_time(const struct lg_worker *w, const struct lg_conn *c, uint64_t slot)
{
    /* connection i of N sends its k-th request at t_start + (i + k N) / rate: the connections'
     * schedules interleave into one evenly spaced schedule at the total rate */
    double off = ((double)c->gidx + (double)slot * (double)w->sh->cfg->conns) * w->ns_per_req;
    return w->sh->t_start + (uint64_t)off;
}

static bool schedulable(const struct lg_worker *w, const struct lg_conn *c)
{
    return c->state == CS_OPEN && c->next_due < w->sh->t_end && c->count < w->sh->cfg->pipeline;
}

/* Open loop: sends every request of this connection that is due, as far as the pipeline
 * allows. A request sent late keeps its intended time, so the lag counts in its latency. */
static void open_issue_due(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
    const struct lg_shared *sh = w->sh;
    while (schedulable(w, c) && c->next_due <= now) {
        bool measured = c->next_due >= sh->t_warm;
        issue(w, c, -1, 0, c->next_due, measured, now);
        if (measured) {
            uint64_t lag = now - c->next_due;
            w->st.lag_sum += (double)lag;
            w->st.lag_n++;
            if (lag > w->st.lag_max)
                w->st.lag_max = lag;
        }
        c->slot++;
        c->next_due = due_time(w, c, c->slot);
    }
}

static bool may_issue_closed(const struct lg_worker *w, uint64_t now)
{
    const struct lg_shared *sh = w->sh;
    if (now >= sh->t_end)
        return false;
    return !w->limited || now < sh->t_warm || w->issued < w->quota;
}

/* Tops a connection up with new requests after a reply, a connect or a schedule tick. */
static void conn_fill(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
    const struct lg_config *cfg = w->sh->cfg;
    if (c->state != CS_OPEN)
        return;
    switch (w->phase) {
    case PH_SETUP:
        if (cfg->prefill) {
            while (c->pf_next < cfg->keys && c->count < c->cap) {
                issue(w, c, OP_PREFILL, (uint32_t)c->pf_next, now, false, now);
                c->pf_next += cfg->conns;
            }
            if (c->pf_next < cfg->keys || c->count > 0)
                return;
        }
        if (cfg->idle_touch && !c->touch_sent) {
            c->touch_sent = true;
            issue(w, c, OP_TOUCH, 0, now, false, now);
            return;
        }
        if (c->count == 0)
            settle(w, c);
        return;
    case PH_RUN:
        if (cfg->rate > 0) {
            if (c->heap_idx < 0) {
                open_issue_due(w, c, now);
                if (schedulable(w, c))
                    heap_push(w, c);
            }
            return;
        }
        while (c->count < cfg->pipeline && may_issue_closed(w, now))
            issue(w, c, -1, 0, now, now >= w->sh->t_warm, now);
        return;
    default:
        return;
    }
}

/* ---- replies ---- */

/* What a reply meant for the request at the head of the queue. */
struct outcome {
    bool error;
    uint32_t hits;
};

static bool is_read(uint8_t op)
{
    return op == OP_GET || op == OP_TOUCH;
}

static int judge_mc(const struct pending *p, const struct lg_mc_reply *r, struct outcome *o)
{
    o->hits = 0;
    o->error = r->kind == LG_MC_ERROR;
    if (o->error)
        return 0;
    if (is_read(p->op)) {
        if (r->kind != LG_MC_VALUES || r->hits > p->nkeys)
            return -1;
        o->hits = r->hits;
        return 0;
    }
    if (r->kind == LG_MC_VALUES)
        return -1;
    o->error = r->kind != LG_MC_STORED;
    return 0;
}

static int judge_resp(const struct pending *p, const struct lg_resp_reply *r, struct outcome *o)
{
    o->hits = 0;
    o->error = r->kind == LG_RESP_ERR;
    if (o->error)
        return 0;
    if (!is_read(p->op))
        return r->kind == LG_RESP_SIMPLE ? 0 : -1;
    if (p->nkeys == 1) { /* GET */
        if (r->kind != LG_RESP_BULK && r->kind != LG_RESP_NIL)
            return -1;
        o->hits = r->kind == LG_RESP_BULK;
        return 0;
    }
    if (r->kind != LG_RESP_ARRAY || r->elems != p->nkeys) /* MGET */
        return -1;
    o->hits = r->bulks;
    o->error = r->errors > 0;
    return 0;
}

/* Matches one complete reply with the oldest request in flight; returns -1 if the
 * connection had to be failed. */
static int on_reply(struct lg_worker *w, struct lg_conn *c, const void *reply, uint64_t now)
{
    const struct lg_config *cfg = w->sh->cfg;
    struct outcome o;
    int rc;

    if (c->count == 0) { /* e.g. redis refusing a client past maxclients */
        char what[LG_MSG_LEN] = "";
        size_t len;
        const char *txt = lg_proto_memcached(cfg->proto) ? lg_mc_last_line(&c->p.mc, &len)
                                                         : lg_resp_last_line(&c->p.rd, &len);
        note(what, "reply with no request in flight: ", txt, len);
        conn_fail(w, c, LG_FAIL_PROTOCOL, now, what);
        return -1;
    }
    struct pending p = c->fifo[c->head];
    c->head = (c->head + 1) % c->cap;
    c->count--;
    w->inflight--;
    if (lg_proto_memcached(cfg->proto))
        rc = judge_mc(&p, reply, &o);
    else
        rc = judge_resp(&p, reply, &o);
    if (rc < 0) {
        conn_fail(w, c, LG_FAIL_PROTOCOL, now, "reply does not match its request");
        return -1;
    }
    if (o.error) {
        size_t len;
        const char *txt = lg_proto_memcached(cfg->proto) ? lg_mc_last_line(&c->p.mc, &len)
                                                         : lg_resp_last_line(&c->p.rd, &len);
        if (len == 0) {
            txt = "write not stored";
            len = strlen(txt);
        }
        note(w->st.first_error, "", txt, len);
    }
    switch (p.op) {
    case OP_PREFILL:
        w->st.prefill_sets++;
        w->st.prefill_errors += o.error;
        break;
    case OP_TOUCH:
        w->st.touched++;
        break;
    default:
        if (!p.measured)
            break;
        w->st.requests++;
        lg_hist_record(&w->st.hist, now > p.t0 ? now - p.t0 : 0);
        w->st.keys += p.nkeys;
        if (p.op == OP_GET)
            w->st.gets++;
        else
            w->st.sets++;
        if (o.error)
            w->st.errors++;
        else if (p.op == OP_GET) {
            w->st.hits += o.hits;
            w->st.misses += p.nkeys - o.hits;
        }
        w->st.t_window_end = now;
        break;
    }
    mark(w, c);
    return 0;
}

static int conn_parse(struct lg_worker *w, struct lg_conn *c, const char *buf, size_t len,
                      uint64_t now)
{
    const struct lg_config *cfg = w->sh->cfg;
    size_t pos = 0;
    while (pos < len) {
        size_t used = 0;
        if (lg_proto_memcached(cfg->proto)) {
            struct lg_mc_reply r;
            enum lg_mc_status st = lg_mc_feed(&c->p.mc, buf + pos, len - pos, &used, &r);
            pos += used;
            if (st == LG_MC_AGAIN)
                break;
            if (st == LG_MC_BAD) {
                size_t l;
                const char *t = lg_mc_last_line(&c->p.mc, &l);
                char what[LG_MSG_LEN] = "";
                note(what, "not a memcached reply: ", t, l);
                conn_fail(w, c, LG_FAIL_PROTOCOL, now, what);
                return -1;
            }
            if (on_reply(w, c, &r, now) < 0)
                return -1;
        } else {
            struct lg_resp_reply r;
            enum lg_resp_status st = lg_resp_feed(&c->p.rd, buf + pos, len - pos, &used, &r);
            pos += used;
            if (st == LG_RESP_AGAIN)
                break;
            if (st == LG_RESP_BAD) {
                conn_fail(w, c, LG_FAIL_PROTOCOL, now, "not a RESP reply");
                return -1;
            }
            if (on_reply(w, c, &r, now) < 0)
                return -1;
        }
    }
    return 0;
}

/* Reads until the socket is drained. A short read means drained: with edge-triggered epoll a
 * later arrival raises a new event. After a hang-up, reads go on until EOF is seen. */
static void conn_read(struct lg_worker *w, struct lg_conn *c, bool hup)
{
    for (;;) {
        ssize_t n = recv(c->fd, w->rbuf, RBUF_SIZE, 0);
        uint64_t now = lg_now();
        if (n > 0) {
            c->last_progress = now;
            if (conn_parse(w, c, w->rbuf, (size_t)n, now) < 0)
                return;
            if ((size_t)n < RBUF_SIZE && !hup)
                return;
            continue;
        }
        if (n == 0) {
            conn_fail(w, c, LG_FAIL_CLOSED, now, "server closed the connection");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        conn_fail(w, c, LG_FAIL_IO, now, strerror(errno));
        return;
    }
}

static void conn_opened(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
    w->connecting--;
    w->open++;
    c->state = CS_OPEN;
    c->last_progress = now;
    w->st.connected++;
    if (lg_proto_memcached(w->sh->cfg->proto)) {
        lg_mc_parser_init(&c->p.mc);
        if (w->sh->cfg->proto == LG_PROTO_META)
            c->p.mc.meta = w->sh->cfg->width > 1 ? LG_MC_META_QUIET : LG_MC_META_ONE;
    } else
        lg_resp_parser_init(&c->p.rd);
    mark(w, c); /* conn_fill does the setup work, or settles it */
}

static void conn_start(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
    const struct lg_config *cfg = w->sh->cfg;
    char what[LG_MSG_LEN];
    int one = 1;

    c->last_progress = now;
    c->fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(what, sizeof(what), "socket: %s", strerror(errno));
        conn_fail(w, c, LG_FAIL_IO, now, what);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        snprintf(what, sizeof(what), "epoll_ctl: %s", strerror(errno));
        conn_fail(w, c, LG_FAIL_IO, now, what);
        return;
    }
    c->state = CS_CONNECTING;
    w->connecting++;
    if (connect(c->fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) == 0) {
        conn_opened(w, c, now);
    } else if (errno != EINPROGRESS) {
        snprintf(what, sizeof(what), "connect: %s", strerror(errno));
        conn_fail(w, c,
                  errno == EMFILE || errno == ENFILE || errno == EADDRNOTAVAIL ? LG_FAIL_IO
                                                                               : LG_FAIL_REFUSED,
                  now, what);
    }
}

static void start_connects(struct lg_worker *w, uint64_t now)
{
    while (w->next_connect < w->nconns && w->connecting < CONNECT_WINDOW)
        conn_start(w, &w->conns[w->next_connect++], now);
}

static void on_event(struct lg_worker *w, struct lg_conn *c, uint32_t e)
{
    if (c->state == CS_CONNECTING) {
        uint64_t now = lg_now();
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err != 0) {
            char what[LG_MSG_LEN];
            snprintf(what, sizeof(what), "connect: %s", strerror(err));
            conn_fail(w, c, LG_FAIL_REFUSED, now, what);
            return;
        }
        if (!(e & (EPOLLOUT | EPOLLIN | EPOLLHUP | EPOLLRDHUP)))
            return;
        conn_opened(w, c, now);
    }
    if (c->state != CS_OPEN)
        return;
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_read(w, c, (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    if (c->state == CS_OPEN && (e & EPOLLOUT) && c->opos < c->olen)
        mark(w, c);
}

/* Refills and flushes every connection that saw a reply, a connect or a schedule tick. The
 * clock is read per connection: a closed-loop request's latency starts just before its own
 * send, not before the sends of the connections ahead of it in the batch. */
static void run_touched(struct lg_worker *w)
{
    for (uint32_t i = 0; i < w->ntouched; i++) {
        struct lg_conn *c = w->touched[i];
        uint64_t now = lg_now();
        c->touched = false;
        if (c->state != CS_OPEN)
            continue;
        conn_fill(w, c, now);
        if (c->opos < c->olen)
            conn_flush(w, c, now);
    }
    w->ntouched = 0;
}

static void check_stalls(struct lg_worker *w, uint64_t now)
{
    uint64_t limit = (uint64_t)(w->sh->cfg->timeout_s * 1e9);
    for (uint32_t i = 0; i < w->next_connect; i++) {
        struct lg_conn *c = &w->conns[i];
        if (now - c->last_progress <= limit || now < c->last_progress)
            continue;
        if (c->state == CS_CONNECTING)
            conn_fail(w, c, LG_FAIL_CONNECT_TIMEOUT, now, "connect timed out");
        else if (c->state == CS_OPEN && c->count > 0)
            conn_fail(w, c, LG_FAIL_TIMEOUT, now, "no reply within --timeout");
    }
}

/* Waits for events until `deadline` at the latest (ns precision where the kernel has
 * epoll_pwait2) and handles them. */
static void poll_once(struct lg_worker *w, uint64_t deadline)
{
    struct epoll_event ev[MAX_EVENTS];
    uint64_t now = lg_now();
    uint64_t wait = deadline > now ? deadline - now : 0;
    if (wait > TICK_NS)
        wait = TICK_NS;
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull),
                          .tv_nsec = (long)(wait % 1000000000ull)};
    int n = epoll_pwait2(w->epfd, ev, MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno == ENOSYS)
        n = epoll_wait(w->epfd, ev, MAX_EVENTS, (int)((wait + 999999) / 1000000));
    for (int i = 0; i < n; i++)
        on_event(w, ev[i].data.ptr, ev[i].events);
}

/* ---- phases ---- */

/* Connects every connection (a window at a time), prefills the keys and sends the idle
 * touch, until each connection is settled. */
static void phase_setup(struct lg_worker *w)
{
    uint64_t next_tick = lg_now() + TICK_NS;
    w->phase = PH_SETUP;
    w->unsettled = w->nconns;
    while (w->unsettled > 0) {
        uint64_t now = lg_now();
        start_connects(w, now);
        run_touched(w);
        if (w->unsettled == 0)
            break;
        poll_once(w, next_tick);
        run_touched(w);
        now = lg_now();
        if (now >= next_tick) {
            check_stalls(w, now);
            next_tick = now + TICK_NS;
        }
    }
}

/* Idle mode: holds the connections until t_end, noticing the ones the server closes. */
static void phase_hold(struct lg_worker *w)
{
    w->phase = PH_HOLD;
    for (;;) {
        uint64_t now = lg_now();
        if (now >= w->sh->t_end || w->open == 0) {
            w->st.t_window_end = now < w->sh->t_end ? now : w->sh->t_end;
            break;
        }
        poll_once(w, w->sh->t_end);
        run_touched(w);
    }
}

/* Charges what the window scheduled but never saw answered: requests in flight, and in open
 * loop the due requests a backlogged connection never got to send. Each counts as incomplete
 * with (now - intended time) as a lower bound of its latency. */
static void charge_unfinished(struct lg_worker *w, uint64_t now)
{
    const struct lg_shared *sh = w->sh;
    for (uint32_t i = 0; i < w->nconns; i++) {
        struct lg_conn *c = &w->conns[i];
        if (c->state != CS_OPEN)
            continue;
        for (uint32_t j = 0; j < c->count; j++) {
            const struct pending *p = &c->fifo[(c->head + j) % c->cap];
            if (p->measured) {
                w->st.incomplete++;
                lg_hist_record(&w->st.hist, now > p->t0 ? now - p->t0 : 0);
            }
        }
        if (sh->cfg->rate > 0) {
            for (; c->next_due < sh->t_end; c->next_due = due_time(w, c, ++c->slot)) {
                if (c->next_due >= sh->t_warm) {
                    w->st.incomplete++;
                    lg_hist_record(&w->st.hist, now > c->next_due ? now - c->next_due : 0);
                }
            }
        }
    }
}

/* The measured run: closed or open loop until t_end (or the quota), then a drain of the
 * requests in flight bounded by --timeout. */
static void phase_run(struct lg_worker *w)
{
    const struct lg_shared *sh = w->sh;
    const struct lg_config *cfg = sh->cfg;
    bool open_loop = cfg->rate > 0;
    bool warm_seen = false, end_seen = false;
    double u0 = 0, s0 = 0, u1, s1;
    uint64_t drain_deadline = UINT64_MAX, next_tick = lg_now() + TICK_NS;
    uint64_t timeout_ns = (uint64_t)(cfg->timeout_s * 1e9);

    w->phase = PH_RUN;
    if (open_loop) {
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* wake within 1 us of a due time */
        w->ns_per_req = 1e9 / cfg->rate;
    }
    for (uint32_t i = 0; i < w->nconns; i++) {
        struct lg_conn *c = &w->conns[i];
        if (c->state != CS_OPEN)
            continue;
        if (open_loop) {
            c->slot = 0;
            c->next_due = due_time(w, c, 0);
            if (schedulable(w, c))
                heap_push(w, c);
        } else {
            mark(w, c);
        }
    }
    for (;;) {
        uint64_t now = lg_now();
        if (!warm_seen && now >= sh->t_warm) {
            warm_seen = true;
            thread_cpu(&u0, &s0);
        }
        if (!end_seen) {
            bool quota_done = w->limited && w->issued >= w->quota;
            if (now >= sh->t_end || quota_done) {
                end_seen = true;
                if (now >= sh->t_end) {
                    w->st.t_window_end = sh->t_end;
                    drain_deadline = now + timeout_ns;
                }
            }
        }
        if (w->open == 0) { /* every connection failed: the window closes now */
            if (!end_seen)
                w->st.t_window_end = now < sh->t_end ? now : sh->t_end;
            break;
        }
        if (end_seen && (now >= drain_deadline || (w->inflight == 0 && w->heap_len == 0)))
            break;
        while (open_loop && w->heap_len > 0 && w->heap[0]->next_due <= now) {
            struct lg_conn *c = heap_pop(w);
            open_issue_due(w, c, now);
            if (schedulable(w, c))
                heap_push(w, c);
            mark(w, c);
        }
        run_touched(w);

        uint64_t deadline = next_tick;
        if (!warm_seen && sh->t_warm < deadline)
            deadline = sh->t_warm;
        if (!end_seen && sh->t_end < deadline)
            deadline = sh->t_end;
        if (drain_deadline < deadline)
            deadline = drain_deadline;
        if (open_loop && w->heap_len > 0 && w->heap[0]->next_due < deadline)
            deadline = w->heap[0]->next_due;
        poll_once(w, deadline);
        run_touched(w);
        now = lg_now();
        if (now >= next_tick) {
            check_stalls(w, now);
            next_tick = now + TICK_NS;
        }
    }
    uint64_t now = lg_now();
    charge_unfinished(w, now);
    if (!warm_seen)
        thread_cpu(&u0, &s0);
    thread_cpu(&u1, &s1);
    w->st.cpu_user_s = u1 - u0;
    w->st.cpu_sys_s = s1 - s0;
    if (w->st.t_window_end == 0 || w->st.t_window_end > sh->t_end)
        w->st.t_window_end = sh->t_end != UINT64_MAX ? sh->t_end : now;
}

void *lg_worker_main(void *arg)
{
    struct lg_worker *w = arg;
    const struct lg_config *cfg = w->sh->cfg;
    uint32_t cap = cfg->pipeline;

    if (cfg->prefill && cap < PREFILL_DEPTH)
        cap = PREFILL_DEPTH;
    lg_stats_init(&w->st);
    lg_rng_seed(&w->rng, cfg->seed + 0x9e3779b97f4a7c15ull * (w->id + 1));
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) {
        fprintf(stderr, "loadgen: epoll_create1: %s\n", strerror(errno));
        exit(3);
    }
    w->conns = xrealloc(NULL, (size_t)w->nconns * sizeof(*w->conns));
    w->touched = xrealloc(NULL, (size_t)w->nconns * sizeof(*w->touched));
    w->heap = xrealloc(NULL, (size_t)w->nconns * sizeof(*w->heap));
    w->keys = xrealloc(NULL, (size_t)cfg->width * sizeof(*w->keys));
    w->rbuf = xrealloc(NULL, RBUF_SIZE);
    for (uint32_t i = 0; i < w->nconns; i++) {
        struct lg_conn *c = &w->conns[i];
        memset(c, 0, offsetof(struct lg_conn, p));
        c->fd = -1;
        c->state = CS_NEW;
        c->gidx = w->first + i;
        c->heap_idx = -1;
        c->pf_next = c->gidx;
        c->cap = cap;
        c->fifo = xrealloc(NULL, (size_t)cap * sizeof(*c->fifo));
    }

    phase_setup(w);
    pthread_barrier_wait(&w->sh->ready);
    pthread_barrier_wait(&w->sh->go);
    /* everyone starts together at t_start, so that a closed loop's first requests are
     * already inside the window when there is no warmup */
    struct timespec ts = {.tv_sec = (time_t)(w->sh->t_start / 1000000000ull),
                          .tv_nsec = (long)(w->sh->t_start % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    if (cfg->idle > 0)
        phase_hold(w);
    else
        phase_run(w);

    for (uint32_t i = 0; i < w->nconns; i++) {
        struct lg_conn *c = &w->conns[i];
        if (c->state == CS_OPEN) {
            w->st.open_at_end++;
            close(c->fd);
        }
        free(c->obuf);
        free(c->fifo);
    }
    free(w->conns);
    free(w->touched);
    free(w->heap);
    free(w->keys);
    free(w->rbuf);
    close(w->epfd);
    return NULL;
}

/* Server side: pools and their servers, connections that coalesce many clients' requests into
 * one send per batch, reply framing (forwarded as slices), timeouts, failures and ejection. */
#include "src/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/client.h"
#include "src/log.h"
#include "src/net.h"
#include "src/rd_server.h"
#include "src/worker.h"

/* ---- pools and routing -------------------------------------------------------------- */

uint32_t pool_route(struct worker *w, struct pool_rt *pool, const uint8_t *key, uint32_t len)
{
    const struct conf_pool *cp = pool->cp;
    return dist_route(health_ring(w->health, pool->idx), cp->hash,
                      cp->has_hash_tag ? cp->hash_tag : NULL, (const char *)key, len);
}

int pool_rt_init(struct worker *w, struct pool_rt *pool, uint32_t idx, const struct conf_pool *cp,
                 struct stats_registry *reg, char *err, size_t errlen)
{
    memset(pool, 0, sizeof(*pool));
    pool->w = w;
    pool->idx = idx;
    pool->cp = cp;
    pool->limits.max_key_length = cp->max_key_length;
    pool->limits.max_value_size = cp->max_value_size;
    pool->limits.max_line = w->conf->global.max_request_line;
    pool->st = stats_pool(reg, w->id, idx);
    pool->lst.o.type = OWNER_LISTENER;
    pool->lst.o.fd = -1;
    pool->lst.pool = pool;
    pool->nservers = cp->nservers;
    /* server_connections is the process's: split over the workers, at least one each */
    uint32_t sc = (uint32_t)cp->server_connections, nw = reg->nworkers;
    pool->nconns = sc / nw + (w->id < sc % nw ? 1 : 0);
    if (pool->nconns == 0)
        pool->nconns = 1;
    pool->servers = calloc(cp->nservers, sizeof(*pool->servers));
    if (pool->servers == NULL || rd_pool_init(pool) < 0)
        goto out_nomem;
    for (uint32_t i = 0; i < cp->nservers; i++) {
        struct server *s = &pool->servers[i];
        s->pool = pool;
        s->idx = i;
        s->cs = &cp->servers[i];
        s->st = stats_server(reg, w->id, idx, i);
        s->conns = calloc(pool->nconns, sizeof(*s->conns));
        if (s->conns == NULL)
            goto out_nomem;
        if (net_resolve(&s->cs->addr, &s->addr, &s->addrlen, err, errlen) < 0)
            return -1;
    }

    /* every worker listens on its own SO_REUSEPORT socket; a unix socket is served by
     * worker 0 alone (it cannot be shared that way) */
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (net_resolve(&cp->listen, &ss, &sslen, err, errlen) < 0)
        return -1;
    if (cp->listen.unix_path == NULL || w->id == 0) {
        int fd = net_listen(&ss, sslen, cp->backlog, cp->listen.unix_path == NULL, &cp->listen);
        if (fd < 0) {
            snprintf(err, errlen, "pool '%s': cannot listen on %s%s%s:%u: %s", cp->name,
                     cp->listen.unix_path ? cp->listen.unix_path : "",
                     cp->listen.host ? cp->listen.host : "", cp->listen.unix_path ? "" : "",
                     cp->listen.port, strerror(-fd));
            return -1;
        }
        pool->lst.o.fd = fd;
    }
    return 0;

out_nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

void pool_rt_destroy(struct worker *w, struct pool_rt *pool)
{
    for (uint32_t i = 0; i < pool->nservers && pool->servers != NULL; i++) {
        struct server *s = &pool->servers[i];
        for (uint32_t c = 0; s->conns != NULL && c < pool->nconns; c++)
            if (s->conns[c] != NULL) {
                struct sconn *sc = s->conns[c];
                sconn_fail(w, sc, MSG_ERR_CLOSED);
                sconn_free(w, sc);
            }
        free(s->conns);
    }
    free(pool->servers);
    rd_pool_destroy(pool);
    if (pool->lst.o.fd >= 0 && !pool->lst.o.closing)
        close(pool->lst.o.fd);
}

/* ---- connections -------------------------------------------------------------------- */

/* True for errors that say the proxy ran out of something, not that the server is unwell. */
static bool errno_is_local(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM || e == EADDRNOTAVAIL ||
           e == EAGAIN || e == EBUSY;
}

/* The reply for a request that failed for such an error. */
static enum msg_err local_err(int e)
{
    return e == EMFILE || e == ENFILE    ? MSG_ERR_NOFD
           : e == ENOMEM || e == ENOBUFS ? MSG_ERR_NOMEM
                                         : MSG_ERR_LOCAL;
}

/* Opens connection ci of server s. Returns 0 with *out set, or -errno: a local error
 * (errno_is_local) is nobody's failure; anything else is the server's. */
static int sconn_open(struct worker *w, struct server *s, uint32_t ci, struct sconn **out)
{
    int fd = net_server_socket(&s->addr, s->pool->cp->tcpkeepalive);
    if (fd < 0)
        return fd;
    struct sconn *sc = calloc(1, sizeof(*sc));
    if (sc == NULL) {
        close(fd);
        return -ENOMEM;
    }
    sc->o.type = OWNER_SCONN;
    sc->o.fd = fd;
    sc->server = s;
    sc->conn_idx = ci;
    sc->state = SC_CONNECTING;
    mc_rsp_framer_init(&sc->fr);
    rd_rsp_framer_init(&sc->rfr);
    int ret = w->io->ops->connect(w->io, fd, (struct sockaddr *)&s->addr, s->addrlen, sc);
    if (ret < 0) {
        close(fd);
        free(sc);
        return ret;
    }
    sc->o.pending++;
    s->conns[ci] = sc;
    *out = sc;
    if (s->pool->cp->redis)
        rd_sconn_setup(w, sc); /* AUTH and SELECT go first */
    return 0;
}

/* A local resource ran out while serving server s: a counter and a rate-limited line, and no
 * failure charged to the server. */
static void server_local_error(struct worker *w, struct server *s, int err)
{
    static struct log_limit lim;
    STAT_INC(w->st.local_errors);
    log_limited(&lim, 1000, LOG_ERR,
                "pool '%s': cannot open a connection to %s: %s (a local "
                "limit, not the server's failure)",
                s->pool->cp->name, s->cs->pname, strerror(-err));
}

void sconn_rearm(struct worker *w, struct sconn *sc)
{
    if (sc->starved) {
        sc->starved = false;
        w->nstarved--;
    }
    if (sc->recv_armed || sc->o.closing || sc->state != SC_CONNECTED)
        return;
    if (w->io->ops->recv(w->io, sc->o.fd, sc) == 0) {
        sc->recv_armed = true;
        sc->o.pending++;
    } else {
        sconn_fail(w, sc, MSG_ERR_CLOSED);
    }
}

/* The server failed a request (connect, close, timeout, garbage): counted for every worker. */
static void server_failed(struct worker *w, struct server *s)
{
    health_failure(w->health, s->pool->idx, s->idx);
}

/* Takes m off sc's queue (a list linked both ways, so that any request leaves in O(1)) and out
 * of the queue gauges. */
static void sconn_unlink(struct sconn *sc, struct msg *m)
{
    struct server_stats *st = sc->server->st;
    if (m->sprev == NULL)
        sc->head = m->snext;
    else
        m->sprev->snext = m->snext;
    if (m->snext == NULL)
        sc->tail = m->sprev;
    else
        m->snext->sprev = m->sprev;
    if (sc->unsent == m)
        sc->unsent = m->snext;
    m->snext = m->sprev = NULL;
    sc->nqueued--;
    if (m->state == MS_SENT) {
        STAT_DEC(st->out_queue);
        STAT_SUB(st->out_queue_bytes, m->qbytes);
    } else {
        STAT_DEC(st->in_queue);
        STAT_SUB(st->in_queue_bytes, m->qbytes);
    }
}

/* Takes the oldest request off sc's queue. */
static struct msg *sconn_pop(struct sconn *sc)
{
    struct msg *m = sc->head;
    sconn_unlink(sc, m);
    return m;
}

bool server_drop_unsent(struct worker *w, struct msg *m)
{
    struct sconn *sc = m->sconn;
    if (sc == NULL || m->is_frag || m->req_handed > 0)
        return false;
    sconn_unlink(sc, m);
    m->sconn = NULL;
    m->state = MS_ANSWERED; /* with nobody to answer */
    msg_put(&w->msgs, &w->mbufs, m);
    return true;
}

/* Requests that expect no reply are done once handed to a send and at the head. */
static void sconn_pop_noreply(struct worker *w, struct sconn *sc)
{
    while (sc->head != NULL && sc->head->noreply && sc->head->state == MS_SENT) {
        struct msg *m = sconn_pop(sc);
        msg_server_done(w, m);
    }
}

void sconn_fail(struct worker *w, struct sconn *sc, enum msg_err err)
{
    if (sc->state == SC_DEAD)
        return;
    struct server *s = sc->server;
    bool was_connected = sc->state == SC_CONNECTED;
    bool idle = was_connected && sc->head == NULL;
    sc->state = SC_DEAD;
    s->conns[sc->conn_idx] = NULL;
    if (was_connected)
        STAT_DEC(s->st->server_connections);
    bool local = msg_err_is_local(err); /* counted and logged as local_errors already */
    if (err == MSG_ERR_TIMEOUT)
        STAT_INC(s->st->server_timedout);
    else if (err == MSG_ERR_CLOSED && was_connected)
        STAT_INC(s->st->server_eof);
    else if (!local)
        STAT_INC(s->st->server_err);
    if (sc->starved) {
        sc->starved = false;
        w->nstarved--;
    }
    if (!w->stop && !local)
        log_limited(&s->lim, 1000, LOG_WARN, "pool '%s': server %s: %s, %u requests failed",
                    s->pool->cp->name, s->cs->pname,
                    err == MSG_ERR_TIMEOUT    ? "timed out"
                    : err == MSG_ERR_DOWN     ? "connect failed"
                    : err == MSG_ERR_PROTOCOL ? "invalid reply, connection closed"
                                              : "connection closed",
                    sc->nqueued);
    while (sc->head != NULL) {
        struct msg *m = sconn_pop(sc);
        m->err = (uint8_t)err;
        svec_release_from(&m->req, &w->mbufs, m->req_handed);
        m->req_handed = 0;
        msg_server_done(w, m);
    }
    /* a shutdown is nobody's failure, nor the proxy running out of something, nor a server
     * closing a connection that had nothing outstanding (an idle timeout, a restart: the next
     * connect tells whether it is down) */
    if (!w->stop && !local && !(err == MSG_ERR_CLOSED && idle))
        server_failed(w, s);
    if (!sc->o.closing)
        worker_close_owner(w, &sc->o);
}

void sconn_free(struct worker *w, struct sconn *sc)
{
    if (sc->send != NULL) {
        sendrec_reset(sc->send, &w->mbufs);
        sendrec_give(&w->sendrecs, sc->send);
    }
    linebuf_free(&sc->line);
    free(sc);
}

void server_enqueue(struct worker *w, struct pool_rt *pool, uint32_t idx, struct msg *m)
{
    m->state = MS_QUEUED; /* the server side's now: failures below answer it at once */
    if (idx >= pool->nservers) {
        m->err = MSG_ERR_EJECTED;
        msg_server_done(w, m);
        return;
    }
    struct server *s = &pool->servers[idx];
    uint32_t nconn = pool->nconns;
    uint32_t ci = nconn > 1 ? s->rr++ % nconn : 0;
    struct sconn *sc = s->conns[ci];
    if (sc == NULL) {
        int ret = sconn_open(w, s, ci, &sc);
        if (ret < 0) {
            if (errno_is_local(-ret)) {
                m->err = (uint8_t)local_err(-ret);
                server_local_error(w, s, ret);
            } else {
                m->err = MSG_ERR_DOWN;
                log_limited(&s->lim, 1000, LOG_WARN, "pool '%s': server %s: connect failed: %s",
                            pool->cp->name, s->cs->pname, strerror(-ret));
                server_failed(w, s);
            }
            msg_server_done(w, m);
            return;
        }
    }
    m->server_idx = idx;
    sconn_push(w, sc, m);
}

void sconn_push(struct worker *w, struct sconn *sc, struct msg *m)
{
    struct server *s = sc->server;
    m->state = MS_QUEUED;
    m->sconn = sc;
    m->t_queued = w->now;
    m->snext = NULL;
    m->sprev = sc->tail;
    m->qbytes = svec_bytes(&m->req);
    if (sc->tail != NULL)
        sc->tail->snext = m;
    else
        sc->head = m;
    sc->tail = m;
    if (sc->unsent == NULL)
        sc->unsent = m;
    sc->nqueued++;
    if (!m->setup)
        STAT_INC(s->st->requests);
    STAT_INC(s->st->in_queue);
    STAT_ADD(s->st->in_queue_bytes, m->qbytes);
    if (sc->state == SC_CONNECTED)
        worker_mark_dirty(w, &sc->o);
}

void sconn_flush(struct worker *w, struct sconn *sc)
{
    if (sc->state != SC_CONNECTED || sc->o.closing || (sc->send != NULL && sc->send->busy))
        return;
    if (sc->unsent == NULL)
        return;
    struct sendrec *s = sc->send;
    if (s == NULL) {
        s = sendrec_take(&w->sendrecs);
        if (s == NULL) {
            sconn_fail(w, sc, MSG_ERR_NOMEM);
            return;
        }
        sc->send = s;
    }
    struct msg *m;
    for (m = sc->unsent; m != NULL; m = m->snext) {
        /* bytes the message owns (a fragment's headers, a re-encoded inline request) go with
         * the send, which frees them once it is done */
        if (m->owned != NULL && !sendrec_can_own(s))
            break;
        while (m->req_handed < m->req.n && !sendrec_full(s)) {
            const struct slice *sl = &m->req.v[m->req_handed++];
            sendrec_add(s, sl);
            STAT_ADD(sc->server->st->request_bytes, sl->len);
            slice_account(w, sl);
        }
        m->req.sealed = m->req_handed;
        if (m->req_handed < m->req.n)
            break;
        if (m->owned != NULL) {
            sendrec_own(s, m->owned);
            m->owned = NULL;
        }
        /* every byte of it is in a send now: from the in-queue to the out-queue */
        m->state = MS_SENT;
        struct server_stats *st = sc->server->st;
        STAT_DEC(st->in_queue);
        STAT_SUB(st->in_queue_bytes, m->qbytes);
        STAT_INC(st->out_queue);
        STAT_ADD(st->out_queue_bytes, m->qbytes);
    }
    sc->unsent = m;
    if (s->niov == 0) {
        sendrec_give(&w->sendrecs, s);
        sc->send = NULL;
        return;
    }
    if (w->io->ops->send(w->io, sc->o.fd, sendrec_msghdr(s), sc) < 0) {
        sconn_fail(w, sc, MSG_ERR_CLOSED);
        return;
    }
    s->busy = true;
    sc->o.pending++;
    sconn_pop_noreply(w, sc);
}

static void sconn_sent(struct worker *w, struct sconn *sc, int res)
{
    struct sendrec *s = sc->send;
    if (res <= 0) {
        sconn_fail(w, sc, MSG_ERR_CLOSED);
        return;
    }
    if (!sendrec_complete(s, &w->mbufs, (uint32_t)res)) {
        if (w->io->ops->send(w->io, sc->o.fd, sendrec_msghdr(s), sc) == 0) {
            s->busy = true;
            sc->o.pending++;
        } else {
            sconn_fail(w, sc, MSG_ERR_CLOSED);
        }
        return;
    }
    sconn_flush(w, sc);
}

/* ---- replies ---------------------------------------------------------------------- */

/* A VALUE line arrived for fragment f: which of its keys is it? (The server answers hits in
 * the order the keys were asked, so the search moves forward only.) */
static bool frag_match(struct msg *f, const uint8_t *key, uint32_t len, uint32_t first_slice)
{
    struct mget *mg = f->parent->mg;
    for (uint32_t j = f->frag_keys_next; j < f->frag_nkeys; j++) {
        uint32_t k = f->frag_keys[j];
        if (mg->keys[k].len == len && memcmp(mg->keys[k].ptr, key, len) == 0) {
            mg->items[k].frag = f;
            mg->items[k].first = first_slice;
            mg->items[k].last = first_slice;
            f->frag_keys_next = j + 1;
            return true;
        }
    }
    return false;
}

void sconn_reply_done(struct worker *w, struct sconn *sc, bool ok)
{
    struct msg *m = sconn_pop(sc);
    if (ok)
        health_success(w->health, sc->server->pool->idx, sc->server->idx);
    else
        server_failed(w, sc->server);
    STAT_INC(sc->server->st->responses);
    msg_server_done(w, m);
    sconn_pop_noreply(w, sc);
}

/* Handles a complete reply line for the head request m. Returns -1 on a protocol error, 1
 * when the reply is complete (m may be gone then), 0 when more of it follows. */
static int sconn_line(struct worker *w, struct sconn *sc, struct msg *m, const uint8_t *line,
                      uint32_t len)
{
    const struct conf_pool *cp = sc->server->pool->cp;
    struct mc_rsp_line *rl = &sc->rl;
    mc_rsp_parse_line(line, len, cp->max_value_size, rl);
    enum mc_kind kind = mc_cmd_info(m->cmd)->kind;
    if (m->rsp_type == 0)
        m->rsp_type = (uint8_t)rl->type;
    switch (rl->type) {
    case MC_RSP_VALUE:
        if (kind != MC_KIND_RETRIEVAL)
            return -1;
        if (m->is_frag && !frag_match(m, line + rl->key.off, rl->key.len, sc->line_first))
            return -1;
        mc_rsp_framer_expect_data(&sc->fr, rl->data_len);
        return 0;
    case MC_RSP_END:
        if (kind != MC_KIND_RETRIEVAL)
            return -1;
        if (m->is_frag)
            m->rsp_type = MC_RSP_END;
        sconn_reply_done(w, sc, true);
        return 1;
    case MC_RSP_LINE:
        if (kind == MC_KIND_RETRIEVAL)
            return -1;
        sconn_reply_done(w, sc, true);
        return 1;
    case MC_RSP_ERROR:
        m->rsp_type = MC_RSP_ERROR;
        sconn_reply_done(w, sc, true);
        return 1;
    default:
        return -1;
    }
}

static void sconn_parse(struct worker *w, struct sconn *sc, uint32_t buf, uint32_t n)
{
    if (sc->server->pool->cp->redis) {
        rd_sconn_parse(w, sc, buf, n);
        return;
    }
    const uint8_t *base = mbuf_data(&w->mbufs, buf);
    uint32_t max_line = sc->server->pool->w->conf->global.max_request_line;
    size_t pos = 0;
    STAT_ADD(sc->server->st->response_bytes, n);

    while (pos < n && sc->state == SC_CONNECTED) {
        struct msg *m = sc->head;
        if (m == NULL || m->state != MS_SENT) {
            log_warn("pool '%s': server %s sent %u bytes nobody asked for",
                     sc->server->pool->cp->name, sc->server->cs->pname, (unsigned)(n - pos));
            sconn_fail(w, sc, MSG_ERR_PROTOCOL);
            return;
        }
        bool in_line = mc_rsp_framer_in_line(&sc->fr);
        if (mc_rsp_framer_line_start(&sc->fr))
            sc->line_first = m->rsp.n;
        size_t used = 0;
        enum mc_rsp_status st = mc_rsp_framer_feed(&sc->fr, max_line, base + pos, n - pos, &used);
        const uint8_t *chunk = base + pos;
        pos += used;
        /* fragments keep item boundaries: a framed piece never merges with the one before; the
         * reply of a request (or fragment) whose client is gone is framed, to stay in step,
         * and dropped */
        struct msg *top = m->is_frag ? m->parent : m;
        if (top->client != NULL) {
            svec_push_wait(&m->rsp, &w->mbufs, chunk, (uint32_t)used, buf, m->is_frag);
            top->rsp_counted += used;
            top->client->rsp_queued += used;
            client_check_backlog(w, top->client);
        }
        if (in_line && st == MC_RSP_AGAIN && used > 0) {
            if (linebuf_append(&sc->line, chunk, (uint32_t)used, max_line) < 0) {
                sconn_fail(w, sc, MSG_ERR_PROTOCOL);
                return;
            }
            STAT_ADD(w->st.line_assembly, used);
        }
        int r = 0;
        switch (st) {
        case MC_RSP_AGAIN:
            break;
        case MC_RSP_GOT_LINE: {
            bool gathered = sc->line.len > 0;
            uint32_t len;
            const uint8_t *line = linebuf_finish(&sc->line, chunk, (uint32_t)used, max_line, &len);
            if (line == NULL) {
                sconn_fail(w, sc, MSG_ERR_PROTOCOL);
                return;
            }
            if (gathered)
                STAT_ADD(w->st.line_assembly, used);
            r = sconn_line(w, sc, m, line, len);
            linebuf_reset(&sc->line);
            break;
        }
        case MC_RSP_GOT_DATA:
            if (m->is_frag) {
                struct mget *mg = m->parent->mg;
                uint32_t k = m->frag_keys[m->frag_keys_next - 1];
                mg->items[k].last = m->rsp.n;
            }
            break;
        case MC_RSP_BAD:
            r = -1;
            break;
        }
        if (r < 0) {
            log_warn("pool '%s': server %s sent an invalid reply", sc->server->pool->cp->name,
                     sc->server->cs->pname);
            sconn_fail(w, sc, MSG_ERR_PROTOCOL);
            return;
        }
        /* a reply streams to its client as it arrives (a large value need not be whole);
         * a complete one was handed over by sconn_reply_done */
        if (r == 0 && m->client != NULL && !m->is_frag && m->client->qhead == m)
            worker_mark_dirty(w, &m->client->o);
    }
}

void sconn_event(struct worker *w, struct sconn *sc, const struct io_event *ev)
{
    switch (ev->kind) {
    case IO_CONNECT:
        if (sc->state != SC_CONNECTING)
            break;
        if (ev->res < 0) {
            if (errno_is_local(-ev->res)) {
                server_local_error(w, sc->server, ev->res);
                sconn_fail(w, sc, local_err(-ev->res));
                break;
            }
            log_limited(&sc->server->lim, 1000, LOG_WARN,
                        "pool '%s': server %s: connect failed: %s", sc->server->pool->cp->name,
                        sc->server->cs->pname, strerror(-ev->res));
            sconn_fail(w, sc, MSG_ERR_DOWN);
            break;
        }
        sc->state = SC_CONNECTED;
        STAT_INC(sc->server->st->server_connections);
        sconn_rearm(w, sc);
        worker_mark_dirty(w, &sc->o);
        break;
    case IO_RECV:
        if (!(ev->flags & IO_F_MORE))
            sc->recv_armed = false;
        if (ev->res > 0 && (ev->flags & IO_F_BUF)) {
            sconn_parse(w, sc, ev->buf, (uint32_t)ev->res);
            mbuf_put(&w->mbufs, ev->buf);
            if (!(ev->flags & IO_F_MORE))
                sconn_rearm(w, sc);
        } else if (ev->res == -ENOBUFS) {
            if (!sc->starved) {
                sc->starved = true;
                w->nstarved++;
            }
        } else if (ev->res != -ECANCELED || sc->state == SC_CONNECTED) {
            sconn_fail(w, sc, MSG_ERR_CLOSED);
        }
        break;
    case IO_SEND:
        if (sc->state == SC_CONNECTED)
            sconn_sent(w, sc, ev->res);
        break;
    default:
        break;
    }
}

void servers_tick(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = &w->pools[p];
        const struct conf_pool *cp = pool->cp;
        if (cp->timeout_ms <= 0)
            continue;
        uint64_t tmo = (uint64_t)cp->timeout_ms * 1000000ULL;
        for (uint32_t i = 0; i < pool->nservers; i++) {
            struct server *s = &pool->servers[i];
            for (uint32_t c = 0; c < pool->nconns; c++) {
                struct sconn *sc = s->conns[c];
                if (sc != NULL && sc->head != NULL && w->now - sc->head->t_queued > tmo)
                    sconn_fail(w, sc, MSG_ERR_TIMEOUT);
            }
        }
    }
}

void servers_preconnect(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = &w->pools[p];
        if (!pool->cp->preconnect)
            continue;
        for (uint32_t i = 0; i < pool->nservers; i++) {
            struct server *s = &pool->servers[i];
            for (uint32_t c = 0; c < pool->nconns; c++) {
                struct sconn *sc;
                if (s->conns[c] != NULL)
                    continue;
                int ret = sconn_open(w, s, c, &sc);
                if (ret < 0 && errno_is_local(-ret)) {
                    server_local_error(w, s, ret);
                } else if (ret < 0) {
                    log_limited(&s->lim, 1000, LOG_WARN,
                                "pool '%s': server %s: preconnect failed: %s", pool->cp->name,
                                s->cs->pname, strerror(-ret));
                    server_failed(w, s);
                }
            }
        }
    }
}

void servers_shutdown(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = &w->pools[p];
        for (uint32_t i = 0; i < pool->nservers; i++)
            for (uint32_t c = 0; c < pool->nconns; c++)
                if (pool->servers[i].conns[c] != NULL)
                    sconn_fail(w, pool->servers[i].conns[c], MSG_ERR_CLOSED);
    }
}

/* Server side: pools and their servers, connections that coalesce many clients' requests into
 * one send per batch, reply framing (forwarded as slices), timeouts, failures and ejection. */
#include "src/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf_addr.h"
#include "src/client.h"
#include "src/log.h"
#include "src/net.h"
#include "src/rd_server.h"
#include "src/worker.h"

/* ---- pools and routing -------------------------------------------------------------- */

uint32_t pool_route(struct worker *w, struct pool_rt *pool, const uint8_t *key, uint32_t len)
{
    if (pool->retired)
        return UINT32_MAX; /* a reload removed it: nothing of it is routed any more */
    const struct conf_pool *cp = pool->cp;
    return dist_route(health_ring(w->view, pool->idx), cp->hash,
                      cp->has_hash_tag ? cp->hash_tag : NULL, (const char *)key, len);
}

uint32_t pool_route_prev(struct worker *w, struct pool_rt *pool, const uint8_t *key, uint32_t len)
{
    if (pool->retired || pool->idx >= w->view->npools)
        return UINT32_MAX;
    struct health_pool *hp = &w->view->pools[pool->idx];
    const struct conf_pool *cp = pool->cp;
    const char *tag = cp->has_hash_tag ? cp->hash_tag : NULL;
    uint32_t o = UINT32_MAX;
    if (hp->prev != NULL && w->now < hp->prev_until) {
        /* a reload's window: the ring of the configuration before */
        uint32_t i = dist_route(hp->prev, cp->hash, tag, (const char *)key, len);
        o = i < hp->prev_n ? hp->prev_map[i] : UINT32_MAX;
    } else {
        /* a return from ejection's: the ring from before it (the same servers, by index) */
        struct health_ring *b = atomic_load_explicit(&hp->back, memory_order_acquire);
        if (b != NULL && w->now < atomic_load_explicit(&hp->back_until, memory_order_relaxed))
            o = dist_route(&b->dist, cp->hash, tag, (const char *)key, len);
    }
    /* an old server that is ejected now (or a ghost that failed) is not asked: it would only
     * hold the request up until it times out */
    if (o < pool->nservers && atomic_load_explicit(&hp->servers[o].ejected, memory_order_relaxed))
        return UINT32_MAX;
    if (o != UINT32_MAX && pool_server(pool, o) == NULL)
        return UINT32_MAX;
    return o;
}

bool pool_warming(struct worker *w, const struct pool_rt *pool)
{
    if (pool->retired || pool->idx >= w->view->npools)
        return false;
    struct health_pool *hp = &w->view->pools[pool->idx];
    if (hp->prev != NULL && w->now < hp->prev_until)
        return true;
    return atomic_load_explicit(&hp->back, memory_order_relaxed) != NULL &&
           w->now < atomic_load_explicit(&hp->back_until, memory_order_relaxed);
}

/* A new server idx of pool (cp->servers[idx]), its counters in this worker's slot of view v. */
static struct server *server_new(struct worker *w, struct pool_rt *pool, struct health_view *v,
                                 uint32_t idx, char *err, size_t errlen)
{
    struct server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->pool = pool;
    s->idx = idx;
    s->cs = &pool->cp->servers[idx];
    s->st = stats_layout_server(v->stats, w->id, pool->idx, idx);
    s->nconns = pool->nconns;
    s->conns = calloc(pool->nconns, sizeof(*s->conns));
    if (s->conns == NULL) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return NULL;
    }
    if (net_resolve(&s->cs->addr, &s->addr, &s->addrlen, err, errlen) < 0) {
        free(s->conns);
        free(s);
        return NULL;
    }
    return s;
}

/* Frees s, whose connections are all freed. */
static void server_free(struct worker *w, struct server *s)
{
    if (s->vref != NULL)
        health_view_put(w->health, s->vref);
    free(s->conns);
    free(s);
}

static uint32_t pool_nconns(struct worker *w, const struct conf_pool *cp)
{
    /* server_connections is the process's: split over the workers, at least one each */
    uint32_t sc = (uint32_t)cp->server_connections, nw = w->reg->nworkers;
    uint32_t n = sc / nw + (w->id < sc % nw ? 1 : 0);
    return n == 0 ? 1 : n;
}

static void pool_limits(struct worker *w, struct pool_rt *pool)
{
    pool->limits.max_key_length = pool->cp->max_key_length;
    pool->limits.max_value_size = pool->cp->max_value_size;
    pool->limits.max_line = w->conf->global.max_request_line;
}

/* A listener for pool on fd (or on a socket of its own when fd is -1; none when -2). */
static int pool_listener(struct worker *w, struct pool_rt *pool, int fd, char *err, size_t errlen)
{
    const struct conf_pool *cp = pool->cp;
    if (fd == -2 || !cp->has_listen)
        return 0; /* (a pool only routes reach listens nowhere) */
    if (fd == -1) {
        /* every worker listens on its own SO_REUSEPORT socket; a unix socket is served by
         * worker 0 alone (it cannot be shared that way) */
        if (cp->listen.unix_path != NULL && w->id != 0)
            return 0;
        struct sockaddr_storage ss;
        socklen_t sslen;
        if (net_resolve(&cp->listen, &ss, &sslen, err, errlen) < 0)
            return -1;
        fd = net_bind(&ss, sslen, cp->listen.unix_path == NULL, &cp->listen);
        if (fd < 0) {
            snprintf(err, errlen, "pool '%s': cannot listen on %s%s%s:%u: %s", cp->name,
                     cp->listen.unix_path ? cp->listen.unix_path : "",
                     cp->listen.host ? cp->listen.host : "", cp->listen.unix_path ? "" : "",
                     cp->listen.port, strerror(-fd));
            return -1;
        }
    }
    struct listener *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    l->o.type = OWNER_LISTENER;
    l->o.fd = fd;
    l->pool = pool;
    pool->lst = l;
    return 0;
}

int pool_rt_init(struct worker *w, struct pool_rt *pool, uint32_t idx, const struct conf_pool *cp,
                 int listen_fd, char *err, size_t errlen)
{
    memset(pool, 0, sizeof(*pool));
    pool->w = w;
    pool->idx = idx;
    pool->cp = cp;
    pool_limits(w, pool);
    pool->st = stats_layout_pool(w->view->stats, w->id, idx);
    pool->nconns = pool_nconns(w, cp);
    pool->servers = calloc(cp->nservers ? cp->nservers : 1, sizeof(*pool->servers));
    if (pool->servers == NULL || rd_pool_init(pool) < 0) {
        if (listen_fd >= 0)
            close(listen_fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < cp->nservers; i++) {
        pool->servers[i] = server_new(w, pool, w->view, i, err, errlen);
        if (pool->servers[i] == NULL) {
            if (listen_fd >= 0)
                close(listen_fd);
            return -1;
        }
        pool->nservers++;
    }
    return pool_listener(w, pool, listen_fd, err, errlen);
}

/* Adds this worker's counters of one server (or pool) in the old layout to its slot in the
 * new one. gauges: the gauges too (the same connections go on counting in the new slot); else
 * they stay with the old object, which keeps counting them. */
static void server_stats_carry(struct server_stats *to, const struct server_stats *from,
                               bool gauges)
{
#define CARRY(name, gauge)                                                                         \
    if (gauges || !(gauge))                                                                        \
        STAT_SET(to->name, STAT_GET(from->name));
    SERVER_STATS(CARRY)
#undef CARRY
    for (uint32_t b = 0; b < HIST_BUCKETS; b++)
        STAT_SET(to->latency.bucket[b], STAT_GET(from->latency.bucket[b]));
    STAT_SET(to->latency.sum_ns, STAT_GET(from->latency.sum_ns));
}

static void pool_stats_carry(struct pool_stats *to, const struct pool_stats *from)
{
#define CARRY(name, gauge) STAT_SET(to->name, STAT_GET(from->name));
    POOL_STATS(CARRY)
    POOL_RP_STATS(CARRY)
#undef CARRY
    for (uint32_t i = 0; i < MC_CMD_COUNT; i++)
        STAT_SET(to->mc_cmds[i], STAT_GET(from->mc_cmds[i]));
    for (uint32_t i = 0; i < RD_CMD_COUNT; i++)
        STAT_SET(to->rd_cmds[i], STAT_GET(from->rd_cmds[i]));
}

/* pool's ghosts (retiring servers) are kept no longer: they go as other retiring servers. */
static void pool_ghosts_release(struct pool_rt *pool)
{
    for (uint32_t k = 0; k < pool->nghosts; k++)
        if (pool->ghosts[k] != NULL)
            pool->ghosts[k]->keep_until = 0;
    free(pool->ghosts);
    pool->ghosts = NULL;
    pool->nghosts = 0;
}

/* Takes s out of its pool's routing: it finishes what it has and goes. */
static void server_retire(struct worker *w, struct server *s, struct health_view *ov)
{
    s->retiring = true;
    s->retire_timeout_ms = s->pool->cp->timeout_ms;
    health_view_ref(ov);
    s->vref = ov;
    s->rnext = w->retiring;
    w->retiring = s;
}

void pool_listen_arm(struct worker *w, struct pool_rt *pool)
{
    struct listener *l = pool->lst;
    if (l == NULL || l->o.closing || l->o.pending > 0)
        return;
    if (!l->listening) {
        /* the last step of a start or reload: clients can connect from here on */
        int ret = net_listen_start(l->o.fd, pool->cp->backlog);
        if (ret < 0) {
            log_error("pool '%s': worker %u: listen failed: %s", pool->cp->name, w->id,
                      strerror(-ret));
            return;
        }
        l->listening = true;
    }
    if (w->io->ops->accept(w->io, l->o.fd, l) == 0)
        l->o.pending++;
    else
        l->paused = true; /* no room in the ring: try again on the next tick */
}

/* Closes pool's listener (the close completes later: worker_free_owner frees it). */
void pool_unlisten(struct worker *w, struct pool_rt *pool)
{
    struct listener *l = pool->lst;
    if (l == NULL)
        return;
    pool->lst = NULL;
    l->pool = NULL;
    l->lnext = w->lclosing;
    w->lclosing = l;
    worker_close_owner(w, &l->o);
}

int pool_rt_update(struct worker *w, struct pool_rt *pool, uint32_t idx, const struct conf_pool *cp,
                   struct health_view *ov, struct health_view *nv, int listen_fd)
{
    uint32_t op = pool->idx;
    const struct conf_pool *ocp = pool->cp;
    uint32_t nconns = pool_nconns(w, cp);
    /* servers connected with other settings cannot carry over: they are replaced */
    bool reconnect = nconns != pool->nconns || ocp->tcpkeepalive != cp->tcpkeepalive ||
                     !((ocp->redis_auth == NULL && cp->redis_auth == NULL) ||
                       (ocp->redis_auth != NULL && cp->redis_auth != NULL &&
                        strcmp(ocp->redis_auth, cp->redis_auth) == 0)) ||
                     ocp->redis_db != cp->redis_db;
    struct server **ns = calloc(cp->nservers ? cp->nservers : 1, sizeof(*ns));
    bool *taken = calloc(ocp->nservers + 1, sizeof(*taken));
    char err[256];
    if (ns == NULL || taken == NULL)
        goto out_nomem;
    struct pool_rt next = *pool; /* the new settings, for the servers created below */
    next.cp = cp;
    next.idx = idx;
    next.nconns = nconns;
    next.rd_auth_cmd = next.rd_select_cmd = NULL;
    if (rd_pool_init(&next) < 0)
        goto out_nomem;
    /* first everything that can fail (matching, new servers), then the changes */
    uint32_t *from = calloc(cp->nservers + 1, sizeof(*from));
    if (from == NULL)
        goto out_nomem;
    for (uint32_t i = 0; i < cp->nservers; i++) {
        from[i] = health_view_server(ov, op, &cp->servers[i], taken);
        if (from[i] != UINT32_MAX)
            taken[from[i]] = true;
        if (from[i] != UINT32_MAX && !reconnect)
            continue;
        ns[i] = server_new(w, &next, nv, i, err, sizeof(err));
        if (ns[i] == NULL) {
            log_error("pool '%s': %s", cp->name, err);
            for (uint32_t j = 0; j < i; j++)
                if (ns[j] != NULL)
                    server_free(w, ns[j]);
            free(from);
            rd_pool_destroy(&next);
            goto out_nomem;
        }
        ns[i]->pool = pool;
    }
    for (uint32_t i = 0; i < cp->nservers; i++) {
        if (ns[i] == NULL) {
            /* the same server: its connections and counters go on */
            struct server *s = ns[i] = pool->servers[from[i]];
            s->idx = i;
            s->cs = &cp->servers[i];
            struct server_stats *st = stats_layout_server(nv->stats, w->id, idx, i);
            server_stats_carry(st, s->st, true);
            s->st = st;
        } else if (from[i] != UINT32_MAX) {
            /* the same server on new connections: its counters go on, its gauges stay with
             * the connections that finish on the old one */
            server_stats_carry(ns[i]->st, pool->servers[from[i]]->st, false);
            server_retire(w, pool->servers[from[i]], ov);
        }
    }
    /* the ghosts of a warm-up before go with its ring; this one's are the servers removed
     * now that its previous ring still names (matched by address: this worker may have
     * skipped a configuration the view's ring was made from) */
    pool_ghosts_release(pool);
    const struct health_pool *hp = idx < nv->npools ? &nv->pools[idx] : NULL;
    if (hp != NULL && hp->prev != NULL && hp->prev_ngone > 0) {
        pool->ghosts = calloc(hp->prev_ngone, sizeof(*pool->ghosts));
        pool->nghosts = pool->ghosts != NULL ? hp->prev_ngone : 0; /* none: no warm-up there */
    }
    for (uint32_t os = 0; os < pool->nservers; os++) {
        if (taken[os])
            continue;
        struct server *s = pool->servers[os];
        server_retire(w, s, ov); /* removed: it finishes and goes */
        for (uint32_t k = 0; k < pool->nghosts; k++) {
            if (pool->ghosts[k] != NULL || s->addrlen != hp->prev_gone_len[k] ||
                memcmp(&s->addr, &hp->prev_gone[k], s->addrlen) != 0)
                continue;
            pool->ghosts[k] = s;
            s->ghost_k = k;
            s->keep_until = hp->prev_until;
            break;
        }
    }
    free(from);
    struct pool_stats *pst = stats_layout_pool(nv->stats, w->id, idx);
    pool_stats_carry(pst, pool->st);
    pool->st = pst;
    free(pool->servers);
    free(taken);
    rd_pool_destroy(pool);
    pool->servers = ns;
    pool->nservers = cp->nservers;
    pool->cp = cp;
    pool->idx = idx;
    pool->nconns = nconns;
    pool->rd_auth_cmd = next.rd_auth_cmd;
    pool->rd_select_cmd = next.rd_select_cmd;
    pool->rd_auth_len = next.rd_auth_len;
    pool->rd_select_len = next.rd_select_len;
    pool_limits(w, pool);
    if (listen_fd >= 0) {
        /* a new address: the new listener is open (the reload opened it) before the old
         * one closes */
        struct listener *old = pool->lst;
        pool->lst = NULL;
        if (pool_listener(w, pool, listen_fd, err, sizeof(err)) < 0) {
            log_error("pool '%s': %s", cp->name, err);
            pool->lst = old;
        } else if (old != NULL) {
            struct listener *nl = pool->lst;
            pool->lst = old;
            pool_unlisten(w, pool);
            pool->lst = nl;
        }
    } else if (!cp->has_listen || !conf_addr_equal(&ocp->listen, &cp->listen)) {
        pool_unlisten(w, pool); /* moved to where this worker does not listen (unix), or
                                 * nowhere: only routes reach it now */
    }
    return 0;

out_nomem:
    log_error("pool '%s': out of memory applying the new configuration on worker %u", cp->name,
              w->id);
    free(ns);
    free(taken);
    if (listen_fd >= 0)
        close(listen_fd);
    return -1;
}

void pool_rt_retire(struct worker *w, struct pool_rt *pool, struct health_view *ov)
{
    pool_unlisten(w, pool);
    pool_ghosts_release(pool);
    for (uint32_t i = 0; i < pool->nservers; i++)
        server_retire(w, pool->servers[i], ov);
    pool->nservers = 0;
    pool->retired = true;
    health_view_ref(ov);
    pool->vref = ov;
    pool->rnext = w->retired;
    w->retired = pool;
    for (struct client *c = w->clients; c != NULL; c = c->next)
        if (c->pool == pool)
            client_retire(w, c);
}

void server_destroy(struct worker *w, struct server *s)
{
    for (uint32_t c = 0; c < s->nconns; c++)
        if (s->conns[c] != NULL) {
            struct sconn *sc = s->conns[c];
            sconn_fail(w, sc, MSG_ERR_CLOSED);
            sconn_free(w, sc);
        }
    server_free(w, s);
}

void pool_rt_destroy(struct worker *w, struct pool_rt *pool)
{
    pool_ghosts_release(pool); /* they are on the worker's retiring list, freed from there */
    for (uint32_t i = 0; i < pool->nservers && pool->servers != NULL; i++)
        server_destroy(w, pool->servers[i]);
    free(pool->servers);
    pool->servers = NULL;
    rd_pool_destroy(pool);
    if (pool->lst != NULL) {
        if (!pool->lst->o.closing)
            close(pool->lst->o.fd);
        free(pool->lst);
        pool->lst = NULL;
    }
    if (pool->vref != NULL)
        health_view_put(w->health, pool->vref);
    pool->vref = NULL;
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
    s->nlive++;
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
    if (!s->retiring) { /* a removed server's health is nobody's concern any more */
        health_failure(w->health, w->view, s->pool->idx, s->idx);
        return;
    }
    if (s->keep_until != 0) {
        /* a ghost that fails is asked no more in its warm-up: its keys are misses */
        struct pool_rt *gp = s->pool;
        if (s->ghost_k < gp->nghosts && gp->ghosts[s->ghost_k] == s)
            gp->ghosts[s->ghost_k] = NULL;
        s->keep_until = 0;
    }
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
    sc->server->nlive--;
    if (sc->send != NULL)
        worker_send_release(w, sc->send);
    linebuf_free(&sc->line);
    free(sc);
}

/* The connection of server idx of pool that the next request goes on (connected or
 * connecting), or NULL with *err set: the server is not there or cannot be reached. */
static struct sconn *server_pick(struct worker *w, struct pool_rt *pool, uint32_t idx, uint8_t *err)
{
    struct server *s = pool_server(pool, idx);
    if (s == NULL) {
        *err = MSG_ERR_EJECTED;
        return NULL;
    }
    uint32_t nconn = s->nconns;
    uint32_t ci = nconn > 1 ? s->rr++ % nconn : 0;
    struct sconn *sc = s->conns[ci];
    if (sc == NULL) {
        int ret = sconn_open(w, s, ci, &sc);
        if (ret < 0) {
            if (errno_is_local(-ret)) {
                *err = (uint8_t)local_err(-ret);
                server_local_error(w, s, ret);
            } else {
                *err = MSG_ERR_DOWN;
                log_limited(&s->lim, 1000, LOG_WARN, "pool '%s': server %s: connect failed: %s",
                            pool->cp->name, s->cs->pname, strerror(-ret));
                server_failed(w, s);
            }
            return NULL;
        }
    }
    return sc;
}

void server_enqueue(struct worker *w, struct pool_rt *pool, uint32_t idx, struct msg *m)
{
    server_enqueue_pair(w, pool, idx, m, NULL);
}

void server_enqueue_pair(struct worker *w, struct pool_rt *pool, uint32_t idx, struct msg *a,
                         struct msg *b)
{
    a->state = MS_QUEUED; /* the server side's now: failures below answer it at once */
    if (b != NULL)
        b->state = MS_QUEUED;
    uint8_t err = MSG_OK;
    struct sconn *sc = server_pick(w, pool, idx, &err);
    if (sc == NULL) {
        a->err = err;
        msg_server_done(w, a);
        if (b != NULL) {
            b->err = err;
            msg_server_done(w, b);
        }
        return;
    }
    a->server_idx = idx;
    sconn_push(w, sc, a);
    if (b != NULL) {
        b->server_idx = idx;
        sconn_push(w, sc, b);
    }
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
    if (worker_send(w, &sc->o, s) < 0) {
        sconn_fail(w, sc, MSG_ERR_CLOSED);
        return;
    }
    sconn_pop_noreply(w, sc);
}

static void sconn_sent(struct worker *w, struct sconn *sc, int res)
{
    struct sendrec *s = sc->send;
    if (res <= 0) {
        sconn_fail(w, sc, MSG_ERR_CLOSED);
        return;
    }
    if (!sendrec_advance(s, (uint32_t)res)) {
        if (worker_send(w, &sc->o, s) < 0)
            sconn_fail(w, sc, MSG_ERR_CLOSED);
        return;
    }
    sc->send = NULL;
    worker_send_release(w, s);
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
    if (!ok)
        server_failed(w, sc->server);
    else if (!sc->server->retiring)
        health_success(w->view, sc->server->pool->idx, sc->server->idx);
    STAT_INC(sc->server->st->responses);
    /* queued at its batch's time (w->now), answered now: a fresh clock here (a vDSO call, some
     * 20 ns) rather than this batch's time, which would read 0 for a reply that came with it */
    if (m->t_queued != 0) {
        uint64_t now = worker_now();
        if (now >= m->t_queued)
            hist_record(&sc->server->st->latency, now - m->t_queued);
    }
    msg_server_done(w, m);
    sconn_pop_noreply(w, sc);
}

static bool mc_kind_is_meta(enum mc_kind k)
{
    return k == MC_KIND_META || k == MC_KIND_META_SET;
}

/* Takes the line just framed (len bytes, from slice sc->line_first on: a quiet request's reply
 * keeps every framed piece a slice of its own) out of m's reply. */
static void sconn_drop_line(struct worker *w, struct sconn *sc, struct msg *m, uint32_t len)
{
    struct msg *top = msg_top(m);
    if (top->client == NULL || sc->line_first >= m->rsp.n)
        return; /* nothing of it was kept */
    svec_truncate(&m->rsp, &w->mbufs, sc->line_first);
    top->rsp_counted -= len;
    top->client->rsp_queued -= len;
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
        if (msg_split_frag(m) && !frag_match(m, line + rl->key.off, rl->key.len, sc->line_first))
            return -1;
        mc_rsp_framer_expect_data(&sc->fr, rl->data_len);
        return 0;
    case MC_RSP_END:
        if (kind != MC_KIND_RETRIEVAL)
            return -1;
        if (msg_split_frag(m))
            m->rsp_type = MC_RSP_END;
        sconn_reply_done(w, sc, true);
        return 1;
    case MC_RSP_LINE:
        if (m->quiet && len > 8 && memcmp(line, "VERSION ", 8) == 0) {
            /* the proxy's own MC_META_END is answered: its line is not part of the reply */
            sconn_drop_line(w, sc, m, len);
            sconn_reply_done(w, sc, true);
            return 1;
        }
        if (kind == MC_KIND_RETRIEVAL || mc_kind_is_meta(kind))
            return -1;
        sconn_reply_done(w, sc, true);
        return 1;
    case MC_RSP_ERROR:
        m->rsp_type = MC_RSP_ERROR;
        if (m->quiet)
            return 0; /* errors are never quiet: it is the reply; the VERSION ends it */
        sconn_reply_done(w, sc, true);
        return 1;
    case MC_RSP_META_VALUE:
        if (!mc_kind_is_meta(kind))
            return -1;
        mc_rsp_framer_expect_data(&sc->fr, rl->data_len);
        return 0; /* complete with its data block (sconn_parse), or, quiet, at the VERSION */
    case MC_RSP_META:
        if (!mc_kind_is_meta(kind))
            return -1;
        if (m->quiet)
            return 0;
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
        struct msg *top = msg_top(m);
        if (top->client != NULL) {
            svec_push_wait(&m->rsp, &w->mbufs, chunk, (uint32_t)used, buf, m->is_frag || m->quiet);
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
            if (msg_split_frag(m)) {
                struct mget *mg = m->parent->mg;
                uint32_t k = m->frag_keys[m->frag_keys_next - 1];
                mg->items[k].last = m->rsp.n;
            } else if (m->rsp_type == MC_RSP_META_VALUE && !m->quiet) {
                /* a meta reply is one value, complete with its block */
                sconn_reply_done(w, sc, true);
                r = 1;
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

/* Fails the requests of s that waited longer than tmo ns. */
static void server_tick(struct worker *w, struct server *s, uint64_t tmo)
{
    for (uint32_t c = 0; c < s->nconns; c++) {
        struct sconn *sc = s->conns[c];
        if (sc != NULL && sc->head != NULL && w->now - sc->head->t_queued > tmo)
            sconn_fail(w, sc, MSG_ERR_TIMEOUT);
    }
}

void servers_tick(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = w->pools[p];
        const struct conf_pool *cp = pool->cp;
        if (cp->timeout_ms <= 0)
            continue;
        for (uint32_t i = 0; i < pool->nservers; i++)
            server_tick(w, pool->servers[i], (uint64_t)cp->timeout_ms * 1000000ULL);
    }
    /* a removed server's requests keep the timeout of the configuration they came with */
    for (struct server *s = w->retiring; s != NULL; s = s->rnext) {
        int t = s->retire_timeout_ms;
        if (t > 0)
            server_tick(w, s, (uint64_t)t * 1000000ULL);
    }
}

void servers_reap(struct worker *w)
{
    struct server **sp = &w->retiring;
    while (*sp != NULL) {
        struct server *s = *sp;
        if (s->keep_until != 0 && w->now < s->keep_until) {
            sp = &s->rnext; /* a ghost while its warm-up lasts: it stays connected */
            continue;
        }
        if (s->keep_until != 0) {
            /* its warm-up is over: it goes as other removed servers do */
            s->keep_until = 0;
            struct pool_rt *gp = s->pool;
            if (s->ghost_k < gp->nghosts && gp->ghosts[s->ghost_k] == s)
                gp->ghosts[s->ghost_k] = NULL;
        }
        for (uint32_t c = 0; c < s->nconns; c++) {
            struct sconn *sc = s->conns[c];
            if (sc == NULL || sc->head != NULL || sc->state == SC_DEAD)
                continue;
            /* nothing outstanding: a quiet close, nobody's failure */
            s->conns[c] = NULL;
            if (sc->state == SC_CONNECTED)
                STAT_DEC(s->st->server_connections);
            sc->state = SC_DEAD;
            if (sc->starved) {
                sc->starved = false;
                w->nstarved--;
            }
            worker_close_owner(w, &sc->o);
        }
        if (s->nlive == 0) {
            *sp = s->rnext;
            server_free(w, s);
        } else {
            sp = &s->rnext;
        }
    }
    struct pool_rt **pp = &w->retired;
    while (*pp != NULL) {
        struct pool_rt *pool = *pp;
        bool busy = pool->nclients > 0;
        for (struct server *s = w->retiring; s != NULL && !busy; s = s->rnext)
            busy = s->pool == pool;
        if (busy) {
            pp = &pool->rnext;
            continue;
        }
        *pp = pool->rnext;
        pool_rt_destroy(w, pool);
        free(pool);
    }
}

void servers_preconnect(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = w->pools[p];
        if (!pool->cp->preconnect)
            continue;
        for (uint32_t i = 0; i < pool->nservers; i++) {
            struct server *s = pool->servers[i];
            for (uint32_t c = 0; c < s->nconns; c++) {
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

static void server_shutdown(struct worker *w, struct server *s)
{
    for (uint32_t c = 0; c < s->nconns; c++)
        if (s->conns[c] != NULL)
            sconn_fail(w, s->conns[c], MSG_ERR_CLOSED);
}

void servers_shutdown(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = w->pools[p];
        for (uint32_t i = 0; i < pool->nservers; i++)
            server_shutdown(w, pool->servers[i]);
    }
    for (struct server *s = w->retiring; s != NULL; s = s->rnext)
        server_shutdown(w, s);
}

/* The worker's event loop: collect a batch of completions, hand each to its connection, then
 * flush every connection that has something to send (one send per socket per batch). */
#include "src/worker.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/client.h"
#include "src/log.h"
#include "src/net.h"
#include "src/server.h"

#define WORKER_BATCH 512

uint64_t worker_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void worker_mark_dirty(struct worker *w, struct owner *o)
{
    if (o->dirty || o->closing)
        return;
    o->dirty = true;
    o->dnext = w->dirty;
    w->dirty = o;
}

void worker_close_owner(struct worker *w, struct owner *o)
{
    if (o->closing)
        return;
    o->closing = true;
    if (w->io != NULL && w->io->ops->close(w->io, o->fd, o) == 0) {
        o->pending++;
    } else {
        /* could not even queue the close: do it the plain way */
        close(o->fd);
    }
    o->fd = -1;
}

int worker_send(struct worker *w, struct owner *o, struct sendrec *s)
{
    struct msghdr *mh = sendrec_msghdr(s);
    int ret;
    if (s->zc || (w->zc_min > 0 && s->bytes >= w->zc_min)) {
        ret = w->io->ops->send_zc(w->io, o->fd, mh, w->zc_fixed && s->outside == 0, s);
        if (ret < 0)
            return ret;
        s->zc = true;
        s->peer = o;
        s->o.pending++;
        STAT_INC(w->st.zc_sends);
    } else {
        ret = w->io->ops->send(w->io, o->fd, mh, o);
        if (ret < 0)
            return ret;
    }
    s->busy = true;
    o->pending++;
    return 0;
}

static void zc_unlink(struct worker *w, struct sendrec *s)
{
    if (s->zprev != NULL)
        s->zprev->znext = s->znext;
    else if (w->zc_waiting == s)
        w->zc_waiting = s->znext;
    if (s->znext != NULL)
        s->znext->zprev = s->zprev;
    s->znext = s->zprev = NULL;
}

void worker_send_release(struct worker *w, struct sendrec *s)
{
    s->peer = NULL;
    if (sendrec_busy_zc(s)) {
        /* the kernel still sends from these pages: the last notification releases them */
        s->zprev = NULL;
        s->znext = w->zc_waiting;
        if (s->znext != NULL)
            s->znext->zprev = s;
        w->zc_waiting = s;
        return;
    }
    sendrec_reset(s, &w->mbufs);
    sendrec_give(&w->sendrecs, s);
}

/* An event of a zero-copy send: its result belongs to the connection, its notification to
 * the record. */
static void zc_event(struct worker *w, struct sendrec *s, const struct io_event *ev)
{
    if (ev->flags & IO_F_NOTIF) {
        if (ev->res == 1)
            STAT_INC(w->st.zc_copied);
    } else {
        if (s->peer == NULL)
            log_panic("zero-copy send result with no connection");
        struct io_event r = *ev;
        r.owner = s->peer;
        r.flags = 0;
        worker_dispatch(w, &r);
    }
    if (s->peer == NULL && s->o.pending == 0) {
        zc_unlink(w, s);
        sendrec_reset(s, &w->mbufs);
        sendrec_give(&w->sendrecs, s);
    }
}

static void worker_free_owner(struct worker *w, struct owner *o)
{
    switch (o->type) {
    case OWNER_LISTENER:
        for (struct listener **lp = &w->lclosing; *lp != NULL; lp = &(*lp)->lnext)
            if (*lp == (struct listener *)o) {
                *lp = (*lp)->lnext;
                free(o);
                break;
            }
        break;
    case OWNER_CLIENT:
        client_free(w, (struct client *)o);
        break;
    case OWNER_SCONN:
        sconn_free(w, (struct sconn *)o);
        break;
    default:
        break;
    }
}

static void listener_event(struct worker *w, struct listener *l, const struct io_event *ev)
{
    if (ev->kind != IO_ACCEPT)
        return;
    bool starved = false;
    if (ev->res >= 0 && (w->stop || w->draining || l->o.closing || l->pool == NULL)) {
        close(ev->res); /* accepted while stopping: nobody will serve it */
    } else if (ev->res >= 0) {
        l->backoff_ms = 0;
        client_accept(w, l->pool, ev->res);
    } else if (ev->res != -ECANCELED) {
        int e = -ev->res;
        starved = e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS;
        STAT_INC(w->st.accept_errors);
        if (starved) {
            /* a local limit: back off (10 ms doubling to 1 s) rather than spin on it */
            l->backoff_ms = l->backoff_ms == 0 ? 10 : l->backoff_ms * 2;
            if (l->backoff_ms > 1000)
                l->backoff_ms = 1000;
            l->resume_at = w->now + (uint64_t)l->backoff_ms * 1000000ULL;
        }
        log_limited(&l->lim, 1000, LOG_ERR, "pool '%s': accept failed: %s%s",
                    l->pool != NULL ? l->pool->cp->name : "?", strerror(e),
                    starved ? " (not accepting for a while)" : "");
    }
    if (!(ev->flags & IO_F_MORE) && !l->o.closing && !w->stop && l->pool != NULL) {
        /* multishot accept ended: arm it again, at once unless resources ran out */
        if (starved)
            l->paused = true;
        else
            pool_listen_arm(w, l->pool);
    }
}

static void worker_resume_listeners(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        struct listener *l = w->pools[p]->lst;
        if (l != NULL && l->paused && !l->o.closing && w->now >= l->resume_at) {
            l->paused = false;
            pool_listen_arm(w, w->pools[p]);
        }
    }
}

void worker_dispatch(struct worker *w, const struct io_event *ev)
{
    struct owner *o = ev->owner;
    if (!(ev->flags & IO_F_MORE))
        o->pending--;
    if (ev->flags & IO_F_BUF) {
        mbuf_received(&w->mbufs, ev->buf);
        if (o->closing) {
            mbuf_put(&w->mbufs, ev->buf);
            goto out;
        }
    }
    switch (o->type) {
    case OWNER_LISTENER:
        listener_event(w, (struct listener *)o, ev);
        break;
    case OWNER_CLIENT:
        client_event(w, (struct client *)o, ev);
        break;
    case OWNER_SCONN:
        sconn_event(w, (struct sconn *)o, ev);
        break;
    case OWNER_SENDREC:
        zc_event(w, (struct sendrec *)o, ev);
        return; /* it frees itself; its closing is never set */
    default:
        log_panic("event for an unknown owner type %u", o->type);
    }
out:
    if (o->closing && o->pending == 0)
        worker_free_owner(w, o);
}

void worker_flush(struct worker *w)
{
    while (w->dirty != NULL) {
        struct owner *o = w->dirty;
        w->dirty = o->dnext;
        o->dirty = false;
        if (o->closing)
            continue;
        if (o->type == OWNER_CLIENT)
            client_flush(w, (struct client *)o);
        else if (o->type == OWNER_SCONN)
            sconn_flush(w, (struct sconn *)o);
    }
}

static uint32_t server_evacuate(struct worker *w, struct server *s)
{
    uint32_t moved = 0;
    for (uint32_t i = 0; i < s->nconns; i++) {
        struct sconn *sc = s->conns[i];
        for (struct msg *m = sc != NULL ? sc->head : NULL; m != NULL; m = m->snext)
            moved += msg_evacuate(m, &w->mbufs);
    }
    return moved;
}

static void server_rearm_starved(struct worker *w, struct server *s)
{
    for (uint32_t i = 0; i < s->nconns; i++) {
        struct sconn *sc = s->conns[i];
        if (sc != NULL && sc->starved)
            sconn_rearm(w, sc);
    }
}

uint32_t worker_evacuate(struct worker *w)
{
    uint32_t moved = 0;
    for (struct client *c = w->clients; c != NULL; c = c->next) {
        for (struct msg *m = c->qhead; m != NULL; m = m->cnext)
            moved += msg_evacuate(m, &w->mbufs);
        moved += client_evacuate_held(w, c);
    }
    /* requests whose client is gone, and fragments, are only on server queues */
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = w->pools[p];
        for (uint32_t s = 0; s < pool->nservers; s++)
            moved += server_evacuate(w, pool->servers[s]);
    }
    for (struct server *s = w->retiring; s != NULL; s = s->rnext)
        moved += server_evacuate(w, s);
    w->last_evacuation = w->now;
    w->held_after_evacuation = w->mbufs.held;
    STAT_ADD(w->st.buffers_evacuated, moved);
    return moved;
}

/* The last resort of bounded memory: the arena is short and spill space is used up, so bytes
 * that wait have nowhere to go, and every receive would soon find no buffer (and never see a
 * client's EOF). The clients holding the most are closed, a few per batch, until spill space
 * is free again: one client that reads nothing, or uploads without end, cannot wedge the
 * worker for everybody. */
static void worker_shed(struct worker *w)
{
    static struct log_limit lim;
    for (int round = 0; round < 8 && mbuf_spill_exhausted(&w->mbufs); round++) {
        struct client *big = NULL;
        uint64_t most = 0;
        for (struct client *c = w->clients; c != NULL; c = c->next) {
            if (c->o.closing)
                continue;
            uint64_t b = client_waiting_bytes(c);
            if (b > most) {
                most = b;
                big = c;
            }
        }
        if (big == NULL)
            return;
        STAT_INC(w->st.clients_shed);
        log_limited(&lim, 1000, LOG_ERR,
                    "worker %u: buffer and spill space used up: closing the client that holds "
                    "the most (%llu bytes waiting)",
                    w->id, (unsigned long long)most);
        client_close(w, big);
        w->mbufs.spill_failed = false; /* see whether that was enough */
        worker_evacuate(w);
    }
}

/* Re-arms receives that stopped because the arena was empty, once a few buffers are back
 * (under pressure, waiting bytes are spilled, so buffers return quickly). */
static void worker_rearm_starved(struct worker *w)
{
    uint32_t slack = w->mbufs.count / 16 > 2 ? w->mbufs.count / 16 : 2;
    if (w->mbufs.held + slack > w->mbufs.count)
        return;
    for (uint32_t p = 0; p < w->npools; p++) {
        struct pool_rt *pool = w->pools[p];
        for (uint32_t s = 0; s < pool->nservers; s++)
            server_rearm_starved(w, pool->servers[s]);
    }
    for (struct server *s = w->retiring; s != NULL; s = s->rnext)
        server_rearm_starved(w, s);
    for (struct client *c = w->clients; c != NULL; c = c->next)
        if (c->starved)
            client_rearm(w, c);
}

/* Settings derived from the pools: the tick (a quarter of the shortest timeout, at most 50 ms)
 * and whether idle clients are looked for. */
static void worker_settings(struct worker *w, const struct conf *conf)
{
    w->tick_ms = 50;
    w->idle_sweep = false;
    for (uint32_t p = 0; p < conf->npools; p++) {
        int t = conf->pools[p].timeout_ms;
        if (t > 0 && t / 4 < w->tick_ms)
            w->tick_ms = t / 4 > 1 ? t / 4 : 1;
        if (conf->pools[p].client_idle_timeout_ms > 0)
            w->idle_sweep = true;
    }
}

/* A pool with no servers (what a pool whose setup ran out of memory becomes): every request
 * to it gets an error reply. */
static void pool_rt_empty(struct worker *w, struct pool_rt *pool, uint32_t idx,
                          const struct conf_pool *cp)
{
    memset(pool, 0, sizeof(*pool));
    pool->w = w;
    pool->idx = idx;
    pool->cp = cp;
    pool->limits.max_key_length = cp->max_key_length;
    pool->limits.max_value_size = cp->max_value_size;
    pool->limits.max_line = w->conf->global.max_request_line;
    pool->st = stats_layout_pool(w->view->stats, w->id, idx);
    pool->nconns = 1;
}

/* Moves this worker to the latest configuration: pools of the same name (and protocol) are
 * updated in place (pool_rt_update), new ones set up, removed ones retired. Clients stay
 * connected; requests already routed finish where they went. */
static void worker_apply_view(struct worker *w)
{
    struct health_view *nv = health_view_get(w->health);
    struct health_view *ov = w->view;
    uint32_t nw = w->reg->nworkers;
    struct pool_rt **np = calloc(nv->npools ? nv->npools : 1, sizeof(*np));
    bool *kept = calloc(w->npools + 1, sizeof(*kept));
    if (np == NULL || kept == NULL) {
        static struct log_limit lim;
        free(np);
        free(kept);
        health_view_put(w->health, nv);
        log_limited(&lim, 1000, LOG_ERR, "worker %u: out of memory applying a new configuration",
                    w->id);
        return;
    }
    w->view = nv;
    w->conf = nv->conf;
    for (uint32_t p = 0; p < nv->npools; p++) {
        const struct conf_pool *cp = &nv->conf->pools[p];
        int fd = -1;
        if (nv->listen_fds != NULL) {
            fd = nv->listen_fds[p * nw + w->id];
            nv->listen_fds[p * nw + w->id] = -1;
        }
        uint32_t op = UINT32_MAX;
        for (uint32_t q = 0; q < w->npools && op == UINT32_MAX; q++)
            if (!kept[q] && strcmp(w->pools[q]->cp->name, cp->name) == 0 &&
                w->pools[q]->cp->redis == cp->redis)
                op = q;
        if (op != UINT32_MAX && pool_rt_update(w, w->pools[op], p, cp, ov, nv, fd) == 0) {
            kept[op] = true;
            np[p] = w->pools[op];
            continue;
        }
        if (op != UINT32_MAX)
            fd = -1; /* pool_rt_update closed it */
        char err[320];
        struct pool_rt *pool = malloc(sizeof(*pool));
        if (pool == NULL)
            log_panic("worker %u: out of memory", w->id);
        if (pool_rt_init(w, pool, p, cp, fd >= 0 ? fd : -2, err, sizeof(err)) < 0) {
            log_error("worker %u: pool '%s': %s: its requests fail until the next reload", w->id,
                      cp->name, err);
            pool_rt_destroy(w, pool);
            pool_rt_empty(w, pool, p, cp);
        }
        np[p] = pool;
    }
    for (uint32_t q = 0; q < w->npools; q++)
        if (!kept[q])
            pool_rt_retire(w, w->pools[q], ov);
    free(w->pools);
    free(kept);
    w->pools = np;
    w->npools = nv->npools;
    worker_settings(w, nv->conf);
    health_view_put(w->health, ov);
    for (uint32_t p = 0; p < w->npools; p++)
        if (!w->draining)
            pool_listen_arm(w, w->pools[p]);
        else
            pool_unlisten(w, w->pools[p]);
    servers_preconnect(w);
    servers_reap(w); /* removed servers with nothing outstanding go at once */
    log_info("worker %u: now serving configuration %llu", w->id, (unsigned long long)nv->seq);
}

/* SIGTERM: no new clients; every client is answered what it has asked and closed. */
static void worker_start_drain(struct worker *w)
{
    w->draining = true;
    for (uint32_t p = 0; p < w->npools; p++)
        pool_unlisten(w, w->pools[p]);
    for (struct client *c = w->clients; c != NULL; c = c->next)
        client_retire(w, c);
}

static uint32_t worker_count_clients(const struct worker *w)
{
    uint32_t n = 0;
    for (const struct client *c = w->clients; c != NULL; c = c->next)
        n++;
    return n;
}

/* The ring is created by the thread that will use it: a SINGLE_ISSUER ring belongs to the
 * task that set it up. */
static int worker_start_engine(struct worker *w)
{
    char why[256] = "";
    w->io = io_engine_create(w->choice, &w->mbufs, 4096, why, sizeof(why));
    if (w->io == NULL) {
        snprintf(w->start_err, sizeof(w->start_err), "cannot start the %s engine: %s",
                 w->choice == IO_CHOICE_EPOLL ? "epoll" : "io_uring", why);
        return -1;
    }
    if (why[0] != '\0' && w->id == 0)
        log_warn("io_uring not used (%s): running the %s engine", why, w->io->ops->name);
    if (w->zc_min > 0) {
        /* zero-copy sends are an optimisation: where they cannot be had, plain sends serve */
        why[0] = '\0';
        int zc = w->io->ops->zc_enable != NULL ? w->io->ops->zc_enable(w->io, why, sizeof(why))
                                               : -EOPNOTSUPP;
        if (zc < 0 && why[0] == '\0')
            snprintf(why, sizeof(why), "the %s engine has none", w->io->ops->name);
        w->zc_fixed = zc == 1;
        if (zc < 0)
            w->zc_min = 0;
        uint32_t min = w->conf->global.zero_copy_min;
        if (w->id == 0 && zc < 0)
            log_warn("zero_copy_min: %u ignored: %s; sends copy as usual", min, why);
        else if (w->id == 0 && zc == 0)
            log_warn("zero-copy sends of %u bytes or more, from plain pages: %s", min, why);
        else if (w->id == 0)
            log_notice("zero-copy sends of %u bytes or more, from the registered arena "
                       "(%u KiB per worker)",
                       min, (unsigned)(((uint64_t)w->mbufs.count * w->mbufs.size) >> 10));
    }
    return 0;
}

void *worker_main(void *arg)
{
    const struct worker_boot *b = arg;
    struct worker *w = b->w;
    char err[sizeof(w->start_err)];
    if (worker_init(w, b->id, b->conf, b->choice, b->reg, b->health, err, sizeof(err)) < 0) {
        memcpy(w->start_err, err, sizeof(err));
        w->start_rc = -1;
    } else {
        w->inited = true;
        w->start_rc = worker_start_engine(w);
    }
    w->start_barrier = b->barrier;
    /* main checks every worker's start between these two barriers */
    pthread_barrier_wait(w->start_barrier);
    pthread_barrier_wait(w->start_barrier);
    if (w->start_rc < 0 || w->stop)
        return NULL;
    struct io_event *ev = malloc(WORKER_BATCH * sizeof(*ev));
    if (ev == NULL)
        log_panic("worker %u: out of memory", w->id);

    w->now = w->last_tick = worker_now();
    servers_preconnect(w);
    for (uint32_t p = 0; p < w->npools; p++)
        pool_listen_arm(w, w->pools[p]);
    while (!w->stop) {
        /* between batches this worker holds no ring: replaced ones may be freed */
        health_quiesce(w->health, w->id);
        struct health_view *latest = atomic_load_explicit(&w->health->latest, memory_order_acquire);
        if (latest != NULL && latest != w->view)
            worker_apply_view(w);
        if (atomic_load_explicit(&w->drain, memory_order_relaxed) && !w->draining)
            worker_start_drain(w);
        int n = w->io->ops->wait(w->io, ev, WORKER_BATCH, w->tick_ms);
        if (n < 0) {
            log_error("worker %u: wait failed: %s", w->id, strerror(-n));
            break;
        }
        w->now = worker_now();
        for (int i = 0; i < n; i++)
            worker_dispatch(w, &ev[i]);
        worker_flush(w);
        /* waiting bytes must not keep the arena from the kernel: under pressure, copy them
         * out (a pass walks every queue: at most every 10 ms, and again only when more buffers
         * are held than after the last pass, or 100 ms later) */
        if (mbuf_pressure(&w->mbufs) && w->now - w->last_evacuation >= 10000000ULL &&
            (w->mbufs.held > w->held_after_evacuation ||
             w->now - w->last_evacuation >= 100000000ULL))
            worker_evacuate(w);
        if (mbuf_pressure(&w->mbufs) && mbuf_spill_exhausted(&w->mbufs))
            worker_shed(w);
        if (w->nstarved > 0)
            worker_rearm_starved(w);
        if (w->now - w->last_tick >= (uint64_t)w->tick_ms * 1000000ULL) {
            w->last_tick = w->now;
            mbuf_spill_seal(&w->mbufs); /* a tick apart: this worker is not mid-spill */
            if (w->mbufs.spill_live == 0 && w->mbufs.spill_allocs > 64) {
                /* a burst of spilling is over: give its freed memory back to the system
                 * (malloc keeps it otherwise, and the process would stay that large) */
                w->mbufs.spill_allocs = 0;
                malloc_trim(0);
            }
            servers_tick(w);
            if (w->retiring != NULL || w->retired != NULL)
                servers_reap(w);
            if (w->idle_sweep)
                clients_idle_sweep(w);
            if (w->nlingering > 0)
                clients_linger_sweep(w);
            clients_probe_quiet(w);
            worker_resume_listeners(w);
            worker_flush(w);
        }
        STAT_SET(w->st.syscalls, w->io->stats.syscalls);
        STAT_SET(w->st.events, w->io->stats.events);
        STAT_SET(w->st.enobufs, w->io->stats.enobufs);
        STAT_SET(w->st.buffers_held, w->mbufs.held);
        if (w->draining)
            atomic_store_explicit(&w->nclients_live, worker_count_clients(w), memory_order_relaxed);
    }

    /* shutting down: close everything and drain the final events */
    for (uint32_t p = 0; p < w->npools; p++)
        if (w->pools[p]->lst != NULL)
            worker_close_owner(w, &w->pools[p]->lst->o);
    for (struct client *c = w->clients; c != NULL; c = c->next)
        client_close(w, c);
    servers_shutdown(w);
    uint64_t deadline = worker_now() + 2000000000ULL;
    while (worker_now() < deadline) {
        int n = w->io->ops->wait(w->io, ev, WORKER_BATCH, 50);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            worker_dispatch(w, &ev[i]);
    }
    free(ev);
    /* whatever did not finish closing is released without waiting for the kernel */
    while (w->clients != NULL) {
        struct client *c = w->clients;
        c->o.pending = 0;
        c->o.closing = true;
        client_free(w, c);
    }
    /* no more routing from here: rings this worker saw may go */
    health_worker_gone(w->health, w->id);
    w->io->ops->destroy(w->io);
    w->io = NULL;
    w->mbufs.engine = NULL; /* buffers released from now on have no engine to go back to */
    return NULL;
}

int worker_init(struct worker *w, uint32_t id, const struct conf *conf, enum io_choice choice,
                struct stats_registry *reg, struct health *health, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->conf = conf;
    w->health = health;
    worker_settings(w, conf);
    /* spill space: up to max_spill_mb per worker, allocated only while the arena is short */
    uint32_t spill_max =
        (uint32_t)(((uint64_t)conf->global.max_spill_mb << 20) / conf->global.buffer_size);
    if (spill_max == 0)
        spill_max = 1;
    int ret = mbuf_pool_init(&w->mbufs, conf->global.buffer_size, conf->global.buffers, spill_max);
    if (ret < 0) {
        snprintf(err, errlen, "cannot allocate the buffer arena: %s", strerror(-ret));
        return -1;
    }
    w->sendrecs.arena_count = w->mbufs.count;
    w->zc_min = conf->global.zero_copy_min;
    w->choice = choice;
    w->keycap = conf->global.max_request_line / 2 + 1;
    w->keyscratch = malloc(w->keycap * sizeof(*w->keyscratch));
    w->destscratch = malloc(w->keycap * sizeof(*w->destscratch));
    w->pools = calloc(conf->npools ? conf->npools : 1, sizeof(*w->pools));
    if (w->keyscratch == NULL || w->destscratch == NULL || w->pools == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    reg->workers[id] = &w->st;
    w->reg = reg;
    w->view = health_view_get(health);
    for (uint32_t p = 0; p < conf->npools; p++) {
        if ((w->pools[p] = malloc(sizeof(*w->pools[p]))) == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out_pools;
        }
        w->npools++;
        if (pool_rt_init(w, w->pools[p], p, &conf->pools[p], -1, err, errlen) < 0)
            goto out_pools;
    }
    return 0;

out_pools:
    for (uint32_t p = 0; p < w->npools; p++) {
        pool_rt_destroy(w, w->pools[p]);
        free(w->pools[p]);
    }
    health_view_put(health, w->view);
    w->view = NULL;
out_free:
    free(w->pools);
    free(w->keyscratch);
    free(w->destscratch);
    mbuf_pool_free(&w->mbufs);
    return -1;
}

void worker_destroy(struct worker *w)
{
    for (uint32_t p = 0; p < w->npools; p++) {
        pool_rt_destroy(w, w->pools[p]);
        free(w->pools[p]);
    }
    free(w->pools);
    /* what a reload left to finish, and listeners whose close never completed */
    while (w->retiring != NULL) {
        struct server *s = w->retiring;
        w->retiring = s->rnext;
        server_destroy(w, s);
    }
    while (w->retired != NULL) {
        struct pool_rt *pool = w->retired;
        w->retired = pool->rnext;
        pool_rt_destroy(w, pool);
        free(pool);
    }
    while (w->lclosing != NULL) {
        struct listener *l = w->lclosing;
        w->lclosing = l->lnext;
        free(l);
    }
    if (w->view != NULL)
        health_view_put(w->health, w->view);
    w->view = NULL;
    free(w->keyscratch);
    free(w->destscratch);
    msg_pool_destroy(&w->msgs);
    /* records whose notifications never came (the ring goes away below, and the pages stay
     * referenced by whatever the kernel still holds) */
    while (w->zc_waiting != NULL) {
        struct sendrec *s = w->zc_waiting;
        zc_unlink(w, s);
        sendrec_reset(s, &w->mbufs);
        sendrec_give(&w->sendrecs, s);
    }
    sendrec_cache_destroy(&w->sendrecs);
    if (w->io != NULL)
        w->io->ops->destroy(w->io);
    mbuf_pool_free(&w->mbufs);
}

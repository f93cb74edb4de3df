/* Process-wide server health: shared failure counts, one ejection decision, rings published by
 * pointer swap and retired by generation, and the probe thread that lets servers back in. */
#include "src/health.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf_addr.h"
#include "src/log.h"
#include "src/net.h"

#define HEALTH_TICK_MS    50
#define PROBE_TIMEOUT_MAX 1000 /* ms: the pool's `timeout`, at most this (and this without one) */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A ring over the servers of hp that are not ejected now. NULL when out of memory. */
static struct health_ring *ring_build(struct health_pool *hp)
{
    const struct conf_pool *cp = hp->cp;
    struct health_ring *r = calloc(1, sizeof(*r));
    struct dist_server *ds = calloc(cp->nservers ? cp->nservers : 1, sizeof(*ds));
    if (r == NULL || ds == NULL)
        goto out_free;
    for (uint32_t i = 0; i < cp->nservers; i++) {
        ds[i].ring_name = cp->servers[i].ring_name;
        ds[i].ring_name_len = strlen(cp->servers[i].ring_name);
        ds[i].weight = cp->servers[i].weight;
        ds[i].live = !atomic_load(&hp->servers[i].ejected);
    }
    if (dist_build(&r->dist, cp->distribution, ds, cp->nservers) < 0)
        goto out_free;
    free(ds);
    return r;
out_free:
    free(ds);
    free(r);
    return NULL;
}

/* The ring names and weights of two pools' servers, in order: the same ring. */
static bool same_ring(const struct conf_pool *a, const struct conf_pool *b)
{
    if (a->nservers != b->nservers || a->distribution != b->distribution)
        return false;
    for (uint32_t i = 0; i < a->nservers; i++)
        if (a->servers[i].weight != b->servers[i].weight ||
            strcmp(a->servers[i].ring_name, b->servers[i].ring_name) != 0)
            return false;
    return true;
}

/* Resharding warm-up: hp (new) keeps the ring of ohp (the pool before the reload), over the old
 * servers still in the pool (taken_as[old] = new index, UINT32_MAX when gone: no points). */
static int prev_ring_build(struct health_pool *hp, const struct health_pool *ohp,
                           const uint32_t *taken_as)
{
    const struct conf_pool *ocp = ohp->cp;
    uint32_t n = ocp->nservers;
    struct dist_server *ds = calloc(n ? n : 1, sizeof(*ds));
    hp->prev = calloc(1, sizeof(*hp->prev));
    hp->prev_map = malloc((n ? n : 1) * sizeof(*hp->prev_map));
    hp->prev_gone = calloc(n ? n : 1, sizeof(*hp->prev_gone));
    hp->prev_gone_len = calloc(n ? n : 1, sizeof(*hp->prev_gone_len));
    if (ds == NULL || hp->prev == NULL || hp->prev_map == NULL || hp->prev_gone == NULL ||
        hp->prev_gone_len == NULL)
        goto out_free;
    hp->prev_ngone = 0;
    for (uint32_t i = 0; i < n; i++) {
        ds[i].ring_name = ocp->servers[i].ring_name;
        ds[i].ring_name_len = strlen(ocp->servers[i].ring_name);
        ds[i].weight = ocp->servers[i].weight;
        /* an ejected server's keys were served by others: the ring says where, as it did */
        ds[i].live = !atomic_load(&ohp->servers[i].ejected);
        hp->prev_map[i] = taken_as[i];
        if (taken_as[i] == UINT32_MAX) {
            uint32_t k = hp->prev_ngone++;
            hp->prev_map[i] = hp->cp->nservers + k;
            hp->prev_gone[k] = ohp->servers[i].addr;
            hp->prev_gone_len[k] = ohp->servers[i].addrlen;
        }
    }
    if (dist_build(hp->prev, ocp->distribution, ds, n) < 0)
        goto out_free;
    free(ds);
    hp->prev_n = n;
    hp->prev_until = mono_ns() + (uint64_t)hp->cp->reshard_warmup_s * 1000000000ULL;
    return 0;
out_free:
    free(ds);
    free(hp->prev);
    free(hp->prev_map);
    free(hp->prev_gone);
    free(hp->prev_gone_len);
    hp->prev = NULL;
    hp->prev_map = NULL;
    hp->prev_gone = NULL;
    hp->prev_gone_len = NULL;
    return -1;
}

/* Frees retired rings no worker can still hold. */
static void ring_reclaim(struct health *h)
{
    uint64_t min = UINT64_MAX;
    for (uint32_t w = 0; w < h->nworkers; w++) {
        uint64_t g = atomic_load_explicit(&h->seen[w].gen, memory_order_acquire);
        if (g < min)
            min = g;
    }
    pthread_mutex_lock(&h->retired_lock);
    struct health_ring **pp = &h->retired;
    while (*pp != NULL) {
        struct health_ring *r = *pp;
        if (r->retired_gen <= min) {
            *pp = r->next;
            dist_free(&r->dist);
            free(r);
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&h->retired_lock);
}

/* Retires ring r: freed once every worker has quiesced after this. */
static void ring_retire(struct health *h, struct health_ring *r)
{
    r->retired_gen = atomic_fetch_add(&h->gen, 1) + 1;
    pthread_mutex_lock(&h->retired_lock);
    r->next = h->retired;
    h->retired = r;
    pthread_mutex_unlock(&h->retired_lock);
}

/* Rebuilds and publishes pool hp's ring (caller holds hp->lock). back: a server came back, and
 * the ring replaced is kept as the pool's `back` ring for the warm-up window. Returns false on
 * allocation failure: the old ring stays. */
static bool ring_publish(struct health *h, struct health_pool *hp, bool back)
{
    struct health_ring *r = ring_build(hp);
    if (r == NULL) {
        log_error("pool '%s': out of memory rebuilding the ring", hp->cp->name);
        return false;
    }
    struct health_ring *old = atomic_load_explicit(&hp->ring, memory_order_acquire);
    if (back) {
        /* the back ring, then its window, then the ring: a worker that sees the new ring sees
         * both; one that sees only the first two sees a back ring equal to the ring it routes
         * with, which moves no key */
        struct health_ring *ob = atomic_exchange_explicit(&hp->back, old, memory_order_acq_rel);
        atomic_store(&hp->back_until,
                     mono_ns() + (uint64_t)hp->cp->reshard_warmup_s * 1000000000ULL);
        atomic_store_explicit(&hp->ring, r, memory_order_release);
        if (ob != NULL)
            ring_retire(h, ob);
    } else {
        atomic_store_explicit(&hp->ring, r, memory_order_release);
        ring_retire(h, old);
    }
    return true;
}

static bool name_same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

uint32_t health_view_pool(const struct health_view *v, const char *name)
{
    for (uint32_t p = 0; p < v->npools; p++)
        if (strcmp(v->pools[p].cp->name, name) == 0)
            return p;
    return UINT32_MAX;
}

uint32_t health_view_server(const struct health_view *v, uint32_t p, const struct conf_server *cs,
                            const bool *taken)
{
    const struct conf_pool *cp = v->pools[p].cp;
    uint32_t any = UINT32_MAX;
    for (uint32_t s = 0; s < cp->nservers; s++) {
        if ((taken != NULL && taken[s]) || !conf_addr_equal(&cp->servers[s].addr, &cs->addr))
            continue;
        if (name_same(cp->servers[s].name, cs->name))
            return s;
        if (any == UINT32_MAX)
            any = s;
    }
    return any;
}

static void view_free(struct health_view *v)
{
    for (uint32_t p = 0; p < v->npools; p++) {
        struct health_pool *hp = &v->pools[p];
        struct health_ring *r = atomic_load(&hp->ring);
        if (r != NULL) {
            dist_free(&r->dist);
            free(r);
        }
        if (hp->prev != NULL) {
            dist_free(hp->prev);
            free(hp->prev);
        }
        struct health_ring *b = atomic_load(&hp->back);
        if (b != NULL) {
            dist_free(&b->dist);
            free(b);
        }
        free(hp->prev_map);
        free(hp->prev_gone);
        free(hp->prev_gone_len);
        free(hp->servers);
        pthread_mutex_destroy(&hp->lock);
    }
    if (v->listen_fds != NULL) {
        uint32_t nw = v->stats != NULL ? v->stats->nworkers : 0;
        for (uint32_t i = 0; i < v->npools * nw; i++)
            if (v->listen_fds[i] >= 0)
                close(v->listen_fds[i]);
    }
    free(v->listen_fds);
    free(v->pools);
    stats_layout_free(v->stats);
    if (v->owns_conf)
        conf_free(v->conf);
    free(v);
}

/* A view over conf; prev (or NULL): the view whose servers' health carries over. Caller holds
 * h->view_lock when prev is not NULL (so that no ejection is half-copied). */
static struct health_view *view_new(struct health *h, struct conf *conf,
                                    const struct health_view *prev, char *err, size_t errlen)
{
    struct health_view *v = calloc(1, sizeof(*v));
    if (v == NULL)
        goto out_nomem;
    atomic_init(&v->refs, 1);
    v->conf = conf;
    v->seq = prev != NULL ? prev->seq + 1 : 1;
    v->pools = calloc(conf->npools ? conf->npools : 1, sizeof(*v->pools));
    v->stats = stats_layout_new(conf, h->nworkers, prev != NULL ? prev->stats : NULL);
    if (v->pools == NULL || v->stats == NULL)
        goto out_nomem;
    for (uint32_t p = 0; p < conf->npools; p++) {
        struct health_pool *hp = &v->pools[p];
        const struct conf_pool *cp = &conf->pools[p];
        hp->cp = cp;
        atomic_init(&hp->back, NULL);
        atomic_init(&hp->back_until, 0);
        pthread_mutex_init(&hp->lock, NULL);
        v->npools++;
        hp->servers = calloc(cp->nservers ? cp->nservers : 1, sizeof(*hp->servers));
        if (hp->servers == NULL)
            goto out_nomem;
        for (uint32_t s = 0; s < cp->nservers; s++)
            if (net_resolve(&cp->servers[s].addr, &hp->servers[s].addr, &hp->servers[s].addrlen,
                            err, errlen) < 0)
                goto out_free;
        uint32_t op = prev != NULL ? health_view_pool(prev, cp->name) : UINT32_MAX;
        if (op != UINT32_MAX && prev->pools[op].cp->redis == cp->redis) {
            /* a pool that stays: its servers that stay keep their failures and ejection, and
             * the process's counters (ejections) go on from where they were */
            struct health_pool *ohp = &prev->pools[op];
            bool *taken = calloc(ohp->cp->nservers + 1, sizeof(*taken));
            uint32_t *taken_as = malloc((ohp->cp->nservers + 1) * sizeof(*taken_as));
            if (taken == NULL || taken_as == NULL) {
                free(taken);
                free(taken_as);
                goto out_nomem;
            }
            for (uint32_t os = 0; os < ohp->cp->nservers; os++)
                taken_as[os] = UINT32_MAX;
            STAT_SET(stats_layout_pool(v->stats, h->nworkers, p)->server_ejects,
                     STAT_GET(stats_layout_pool(prev->stats, h->nworkers, op)->server_ejects));
            for (uint32_t s = 0; s < cp->nservers; s++) {
                uint32_t os = health_view_server(prev, op, &cp->servers[s], taken);
                if (os == UINT32_MAX)
                    continue;
                taken[os] = true;
                taken_as[os] = s;
                struct health_server *hs = &hp->servers[s], *ohs = &ohp->servers[os];
                atomic_store(&hs->failures, atomic_load(&ohs->failures));
                atomic_store(&hs->retry_at, atomic_load(&ohs->retry_at));
                atomic_store(&hs->ejected, atomic_load(&ohs->ejected));
                STAT_SET(
                    stats_layout_server(v->stats, h->nworkers, p, s)->server_ejected_at,
                    STAT_GET(
                        stats_layout_server(prev->stats, h->nworkers, op, os)->server_ejected_at));
            }
            free(taken);
            /* a warm-up only where the keys move: a ring that stays the same needs none */
            if (cp->reshard_warmup_s > 0 && !cp->redis && !same_ring(ohp->cp, cp) &&
                prev_ring_build(hp, ohp, taken_as) < 0) {
                free(taken_as);
                goto out_nomem;
            }
            free(taken_as);
        }
        struct health_ring *r = ring_build(hp);
        if (r == NULL)
            goto out_nomem;
        atomic_init(&hp->ring, r);
    }
    return v;
out_nomem:
    snprintf(err, errlen, "out of memory");
out_free:
    if (v != NULL) {
        v->owns_conf = false; /* the caller's to free on failure */
        view_free(v);
    }
    return NULL;
}

int health_init(struct health *h, struct conf *conf, struct stats_registry *reg, uint32_t nworkers,
                char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->reg = reg;
    h->nworkers = nworkers;
    h->stop_pipe[0] = h->stop_pipe[1] = -1;
    atomic_init(&h->gen, 1);
    pthread_mutex_init(&h->retired_lock, NULL);
    pthread_mutex_init(&h->view_lock, NULL);
    h->seen = aligned_alloc(64, (nworkers ? nworkers : 1) * sizeof(*h->seen));
    if (h->seen == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* 0: "may hold any ring" until the worker's first announcement. Starting at "holds none"
     * would let a ring go that the worker loads before its announcement is visible */
    for (uint32_t w = 0; w < nworkers; w++)
        atomic_init(&h->seen[w].gen, 0);
    struct health_view *v = view_new(h, conf, NULL, err, errlen);
    if (v == NULL)
        return -1;
    atomic_store(&h->latest, v);
    stats_registry_set_layout(reg, v->stats);
    return 0;
}

struct health_view *health_view_build(struct health *h, struct conf *conf, char *err, size_t errlen)
{
    pthread_mutex_lock(&h->view_lock);
    struct health_view *v = view_new(h, conf, atomic_load(&h->latest), err, errlen);
    pthread_mutex_unlock(&h->view_lock);
    if (v == NULL) {
        conf_free(conf);
        return NULL;
    }
    v->owns_conf = true;
    return v;
}

void health_view_publish(struct health *h, struct health_view *v)
{
    pthread_mutex_lock(&h->view_lock);
    struct health_view *old = atomic_load(&h->latest);
    atomic_store_explicit(&h->latest, v, memory_order_release);
    stats_registry_set_layout(h->reg, v->stats);
    pthread_mutex_unlock(&h->view_lock);
    if (old != NULL)
        health_view_put(h, old);
}

struct health_view *health_view_get(struct health *h)
{
    pthread_mutex_lock(&h->view_lock);
    struct health_view *v = atomic_load(&h->latest);
    health_view_ref(v);
    pthread_mutex_unlock(&h->view_lock);
    return v;
}

void health_view_ref(struct health_view *v)
{
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void health_view_put(struct health *h, struct health_view *v)
{
    (void)h;
    if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
        view_free(v);
}

void health_worker_gone(struct health *h, uint32_t w)
{
    atomic_store_explicit(&h->seen[w].gen, UINT64_MAX, memory_order_release);
}

bool health_failure(struct health *h, struct health_view *v, uint32_t p, uint32_t s)
{
    struct health_pool *hp = &v->pools[p];
    struct health_server *hs = &hp->servers[s];
    const struct conf_pool *cp = hp->cp;
    uint32_t n = atomic_fetch_add_explicit(&hs->failures, 1, memory_order_relaxed) + 1;
    if (!cp->auto_eject_hosts || n < (uint32_t)cp->server_failure_limit)
        return false;
    /* the probe time is set before the server shows as ejected, so that the health thread
     * never sees the ejection with an older time and probes at once */
    atomic_store(&hs->retry_at, mono_ns() + (uint64_t)cp->server_retry_timeout_ms * 1000000ULL);
    bool expected = false;
    if (!atomic_compare_exchange_strong(&hs->ejected, &expected, true))
        return false; /* another report got there first */
    pthread_mutex_lock(&hp->lock);
    /* out of memory: the old ring stays and routing to this server fails fast, still correct */
    ring_publish(h, hp, false);
    struct pool_stats *ps = stats_layout_pool(v->stats, h->nworkers, p);
    struct server_stats *ss = stats_layout_server(v->stats, h->nworkers, p, s);
    STAT_INC(ps->server_ejects);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    /* microseconds since the epoch, as twemproxy reports it */
    STAT_SET(ss->server_ejected_at, (uint64_t)rt.tv_sec * 1000000ULL + (uint64_t)rt.tv_nsec / 1000);
    pthread_mutex_unlock(&hp->lock);
    log_warn("pool '%s': server %s ejected for %d ms after %u failures", cp->name,
             cp->servers[s].pname, cp->server_retry_timeout_ms, n);
    return true;
}

/* Waits up to the deadline for events on fd, or for stop_fd (>= 0) to become readable (the
 * process is stopping). Returns 0, or -ETIMEDOUT / -ECANCELED / -errno. */
static int probe_wait(int fd, short events, uint64_t deadline, int stop_fd)
{
    for (;;) {
        uint64_t now = mono_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd pfd[2] = {{.fd = fd, .events = events}, {.fd = stop_fd, .events = POLLIN}};
        int ms = (int)((deadline - now + 999999) / 1000000);
        int r = poll(pfd, stop_fd >= 0 ? 2 : 1, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ETIMEDOUT;
        if (stop_fd >= 0 && pfd[1].revents != 0)
            return -ECANCELED;
        return 0;
    }
}

int health_probe(const struct sockaddr_storage *ss, socklen_t len, int timeout_ms, int stop_fd,
                 bool redis)
{
    uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int ret;
    if (connect(fd, (const struct sockaddr *)ss, len) < 0 && errno != EINPROGRESS) {
        ret = -errno;
        goto out_close;
    }
    if ((ret = probe_wait(fd, POLLOUT, deadline, stop_fd)) < 0)
        goto out_close;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
        ret = soerr ? -soerr : -errno;
        goto out_close;
    }
    /* a redis server that wants AUTH first is up all the same: it answers -NOAUTH */
    const char *ask = redis ? "*1\r\n$4\r\nPING\r\n" : "version\r\n";
    ssize_t asklen = (ssize_t)strlen(ask);
    if (send(fd, ask, (size_t)asklen, MSG_NOSIGNAL) != asklen) {
        ret = -EIO;
        goto out_close;
    }
    char buf[128];
    size_t got = 0;
    while (got < sizeof(buf) && memchr(buf, '\n', got) == NULL) {
        if ((ret = probe_wait(fd, POLLIN, deadline, stop_fd)) < 0)
            goto out_close;
        ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);
        if (n == 0) {
            ret = -ECONNRESET;
            goto out_close;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            ret = -errno;
            goto out_close;
        }
        got += (size_t)n;
    }
    if (redis)
        ret = (got >= 5 && memcmp(buf, "+PONG", 5) == 0) ||
                      (got >= 7 && memcmp(buf, "-NOAUTH", 7) == 0)
                  ? 0
                  : -EPROTO;
    else
        ret = got >= 8 && memcmp(buf, "VERSION ", 8) == 0 ? 0 : -EPROTO;
out_close:
    close(fd);
    return ret;
}

static void health_tick_view(struct health *h, struct health_view *v, uint64_t now);

void health_tick(struct health *h, uint64_t now)
{
    struct health_view *v = health_view_get(h);
    health_tick_view(h, v, now);
    health_view_put(h, v);
    ring_reclaim(h);
}

static void health_tick_view(struct health *h, struct health_view *v, uint64_t now)
{
    for (uint32_t p = 0; p < v->npools; p++) {
        struct health_pool *hp = &v->pools[p];
        const struct conf_pool *cp = hp->cp;
        for (uint32_t s = 0; s < cp->nservers; s++) {
            struct health_server *hs = &hp->servers[s];
            if (!atomic_load(&hs->ejected) || now < atomic_load(&hs->retry_at))
                continue;
            int tmo = cp->timeout_ms > 0 && cp->timeout_ms < PROBE_TIMEOUT_MAX ? cp->timeout_ms
                                                                               : PROBE_TIMEOUT_MAX;
            int r = health_probe(&hs->addr, hs->addrlen, tmo, h->stop_pipe[0], cp->redis);
            if (r == -ECANCELED)
                return; /* stopping */
            if (r < 0) {
                atomic_store(&hs->retry_at,
                             mono_ns() + (uint64_t)cp->server_retry_timeout_ms * 1000000ULL);
                log_warn("pool '%s': server %s still down (probe: %s), next probe in %d ms",
                         cp->name, cp->servers[s].pname,
                         r == -EPROTO ? "unexpected answer" : strerror(-r),
                         cp->server_retry_timeout_ms);
                continue;
            }
            pthread_mutex_lock(&hp->lock);
            atomic_store(&hs->ejected, false);
            /* the keys it had were served by others meanwhile: with a warm-up window, their
             * misses on it are read from there (pool_route_prev) */
            if (!ring_publish(h, hp, cp->reshard_warmup_s > 0 && !cp->redis)) {
                /* still out of every ring: try again at the next probe time */
                atomic_store(&hs->ejected, true);
                atomic_store(&hs->retry_at,
                             mono_ns() + (uint64_t)cp->server_retry_timeout_ms * 1000000ULL);
                pthread_mutex_unlock(&hp->lock);
                continue;
            }
            atomic_store(&hs->failures, 0);
            STAT_SET(stats_layout_server(v->stats, h->nworkers, p, s)->server_ejected_at, 0);
            pthread_mutex_unlock(&hp->lock);
            log_notice("pool '%s': server %s answered a probe: back in the ring", cp->name,
                       cp->servers[s].pname);
        }
    }
}

static void *health_thread(void *arg)
{
    struct health *h = arg;
    struct pollfd pfd = {.fd = h->stop_pipe[0], .events = POLLIN};
    for (;;) {
        int r = poll(&pfd, 1, HEALTH_TICK_MS);
        if (r > 0)
            break;
        health_tick(h, mono_ns());
    }
    return NULL;
}

int health_start(struct health *h)
{
    if (pipe2(h->stop_pipe, O_CLOEXEC) < 0)
        return -1;
    if (pthread_create(&h->thread, NULL, health_thread, h) != 0)
        return -1;
    h->thread_started = true;
    return 0;
}

void health_destroy(struct health *h)
{
    if (h->thread_started) {
        ssize_t n = write(h->stop_pipe[1], "x", 1);
        (void)n;
        pthread_join(h->thread, NULL);
    }
    if (h->stop_pipe[0] >= 0) {
        close(h->stop_pipe[0]);
        close(h->stop_pipe[1]);
    }
    struct health_view *v = atomic_exchange(&h->latest, NULL);
    if (v != NULL)
        health_view_put(h, v);
    while (h->retired != NULL) {
        struct health_ring *r = h->retired;
        h->retired = r->next;
        dist_free(&r->dist);
        free(r);
    }
    pthread_mutex_destroy(&h->retired_lock);
    pthread_mutex_destroy(&h->view_lock);
    free(h->seen);
    memset(h, 0, sizeof(*h));
}

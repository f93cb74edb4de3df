/* Adds up the workers' counters into twemproxy's stats JSON and memcached's `stats` reply,
 * and serves the JSON on the stats port from a thread of its own (not on the data path). */
#include "src/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hash/hash.h"
#include "hash/hash_dist.h"
#include "src/net.h"
#include "src/http.h"
#include "src/prom.h"
#include "src/sbuf.h"
#include "src/version.h"

const uint32_t hist_bounds_us[HIST_FINITE] = {
#define HIST_BOUND(us) us,
    HIST_BOUNDS_US(HIST_BOUND)
#undef HIST_BOUND
};

/* The counters of one pool's `stats` reply: every worker counter, then every pool counter. */
#define STATS_COUNT_ONE(name, gauge) +1
#define STATS_MC_COUNTERS            (0 WORKER_STATS(STATS_COUNT_ONE) POOL_STATS(STATS_COUNT_ONE))

struct stats_layout *stats_layout_new(const struct conf *conf, uint32_t nworkers,
                                      const struct stats_layout *prev)
{
    struct stats_layout *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->conf = conf;
    l->nworkers = nworkers;
    l->server_base = calloc(conf->npools + 1, sizeof(*l->server_base));
    if (l->server_base == NULL)
        goto out_free;
    for (uint32_t p = 0; p < conf->npools; p++) {
        l->server_base[p] = l->nservers_total;
        l->nservers_total += conf->pools[p].nservers;
    }
    /* one slot per worker, plus the process's own (ejections, decided once for all workers) */
    l->pools = calloc((size_t)(nworkers + 1) * conf->npools + 1, sizeof(*l->pools));
    l->servers = calloc((size_t)(nworkers + 1) * l->nservers_total + 1, sizeof(*l->servers));
    l->mc_base = calloc((size_t)conf->npools * STATS_MC_COUNTERS + 1, sizeof(*l->mc_base));
    if (l->pools == NULL || l->servers == NULL || l->mc_base == NULL)
        goto out_free;
    for (uint32_t p = 0; prev != NULL && p < conf->npools; p++)
        for (uint32_t q = 0; q < prev->conf->npools; q++)
            if (strcmp(prev->conf->pools[q].name, conf->pools[p].name) == 0)
                memcpy(&l->mc_base[(size_t)p * STATS_MC_COUNTERS],
                       &prev->mc_base[(size_t)q * STATS_MC_COUNTERS],
                       STATS_MC_COUNTERS * sizeof(uint64_t));
    return l;
out_free:
    stats_layout_free(l);
    return NULL;
}

void stats_layout_free(struct stats_layout *l)
{
    if (l == NULL)
        return;
    free(l->server_base);
    free(l->pools);
    free(l->servers);
    free(l->mc_base);
    free(l);
}

int stats_registry_init(struct stats_registry *r, const struct conf *conf, uint32_t nworkers)
{
    memset(r, 0, sizeof(*r));
    r->conf = conf;
    r->nworkers = nworkers;
    r->workers = calloc(nworkers, sizeof(*r->workers));
    if (r->workers == NULL)
        return -1;
    pthread_mutex_init(&r->mc_lock, NULL);
    pthread_mutex_init(&r->conf_lock, NULL);
    r->start_time = (uint64_t)time(NULL);
    r->conf_loaded_at = r->start_time;
    snprintf(r->conf_file, sizeof(r->conf_file), "%s", conf->path ? conf->path : "");
    if (gethostname(r->source, sizeof(r->source) - 1) < 0)
        strcpy(r->source, "unknown");
    r->engine = "none";
    return 0;
}

void stats_registry_set_layout(struct stats_registry *r, struct stats_layout *l)
{
    pthread_mutex_lock(&r->conf_lock);
    r->layout = l;
    r->conf = l->conf;
    pthread_mutex_unlock(&r->conf_lock);
}

void stats_registry_free(struct stats_registry *r)
{
    if (r->workers != NULL) {
        pthread_mutex_destroy(&r->mc_lock);
        pthread_mutex_destroy(&r->conf_lock);
    }
    free(r->workers);
    memset(r, 0, sizeof(*r));
}

uint64_t stats_sum_worker(struct stats_registry *r, size_t off)
{
    uint64_t v = 0;
    for (uint32_t w = 0; w < r->nworkers; w++)
        if (r->workers[w] != NULL)
            v += __atomic_load_n((uint64_t *)((char *)r->workers[w] + off), __ATOMIC_RELAXED);
    return v;
}

uint64_t stats_sum_pool(struct stats_registry *r, uint32_t p, size_t off)
{
    uint64_t v = 0;
    for (uint32_t w = 0; w <= r->nworkers; w++)
        v += __atomic_load_n((uint64_t *)((char *)stats_pool(r, w, p) + off), __ATOMIC_RELAXED);
    return v;
}

uint64_t stats_sum_server(struct stats_registry *r, uint32_t p, uint32_t s, size_t off, bool max)
{
    uint64_t v = 0;
    for (uint32_t w = 0; w <= r->nworkers; w++) {
        uint64_t x =
            __atomic_load_n((uint64_t *)((char *)stats_server(r, w, p, s) + off), __ATOMIC_RELAXED);
        v = max ? (x > v ? x : v) : v + x;
    }
    return v;
}

/* twemproxy names a server in stats by its explicit name, else "host:port". */
void stats_server_name(const struct conf_server *cs, char *out, size_t len)
{
    if (cs->name != NULL)
        snprintf(out, len, "%s", cs->name);
    else if (cs->addr.unix_path != NULL)
        snprintf(out, len, "%s", cs->addr.unix_path);
    else
        snprintf(out, len, "%s:%u", cs->addr.host, cs->addr.port);
}

static char *stats_json_locked(struct stats_registry *r);

char *stats_json(struct stats_registry *r)
{
    pthread_mutex_lock(&r->conf_lock);
    char *j = stats_json_locked(r);
    pthread_mutex_unlock(&r->conf_lock);
    return j;
}

static char *stats_json_locked(struct stats_registry *r)
{
    struct sbuf b = {0};
    uint64_t now = (uint64_t)time(NULL);
    sb_printf(&b, "{\"service\":\"nutcracker\", \"source\":");
    sb_json_str(&b, r->source);
    sb_printf(
        &b,
        ", \"version\":\"" RP_VERSION "\", \"uptime\":%llu, \"timestamp\":%llu, "
        "\"total_connections\":%llu, \"curr_connections\":%llu",
        (unsigned long long)(now - r->start_time), (unsigned long long)now,
        (unsigned long long)stats_sum_worker(r, offsetof(struct worker_stats, total_connections)),
        (unsigned long long)stats_sum_worker(r, offsetof(struct worker_stats, curr_connections)));
    for (uint32_t p = 0; p < r->conf->npools; p++) {
        const struct conf_pool *cp = &r->conf->pools[p];
        sb_printf(&b, ", ");
        sb_json_str(&b, cp->name);
        sb_printf(&b, ": {");
        const char *sep = "";
#define POOL_JSON(name, gauge)                                                                     \
    sb_printf(&b, "%s\"" #name "\":%llu", sep,                                                     \
              (unsigned long long)stats_sum_pool(r, p, offsetof(struct pool_stats, name)));        \
    sep = ", ";
        POOL_STATS(POOL_JSON)
#undef POOL_JSON
        for (uint32_t s = 0; s < cp->nservers; s++) {
            char name[512];
            stats_server_name(&cp->servers[s], name, sizeof(name));
            sb_printf(&b, ", ");
            sb_json_str(&b, name);
            sb_printf(&b, ": {");
            sep = "";
#define SERVER_JSON(name, gauge)                                                                   \
    sb_printf(&b, "%s\"" #name "\":%llu", sep,                                                     \
              (unsigned long long)stats_sum_server(r, p, s, offsetof(struct server_stats, name),   \
                                                   strcmp(#name, "server_ejected_at") == 0));      \
    sep = ", ";
            SERVER_STATS(SERVER_JSON)
#undef SERVER_JSON
            sb_printf(&b, "}");
        }
        sb_printf(&b, "}");
    }
    sb_printf(&b, ", \"ringproxy\": {\"engine\":\"%s\", \"workers\":%u", r->engine, r->nworkers);
#define WORKER_JSON(name, gauge)                                                                   \
    sb_printf(&b, ", \"" #name "\":%llu",                                                          \
              (unsigned long long)stats_sum_worker(r, offsetof(struct worker_stats, name)));
    WORKER_STATS(WORKER_JSON)
#undef WORKER_JSON
    sb_printf(&b, ", \"pools\": {");
    for (uint32_t p = 0; p < r->conf->npools; p++) {
        sb_printf(&b, "%s", p ? ", " : "");
        sb_json_str(&b, r->conf->pools[p].name);
        const char *sep = "";
        sb_printf(&b, ": {");
#define POOL_RP_JSON(name, gauge)                                                                  \
    sb_printf(&b, "%s\"" #name "\":%llu", sep,                                                     \
              (unsigned long long)stats_sum_pool(r, p, offsetof(struct pool_stats, name)));        \
    sep = ", ";
        POOL_RP_STATS(POOL_RP_JSON)
#undef POOL_RP_JSON
        sb_printf(&b, "}");
    }
    sb_printf(&b, "}");
    sb_printf(&b, ", \"conf_file\":");
    sb_json_str(&b, r->conf_file);
    sb_printf(&b,
              ", \"conf_checksum\":\"%s\", \"conf_loaded_at\":%llu, \"conf_reloads\":%llu, "
              "\"conf_reload_failures\":%llu, \"conf_reload_unchanged\":%llu",
              r->conf_checksum, (unsigned long long)r->conf_loaded_at,
              (unsigned long long)atomic_load(&r->conf_reloads),
              (unsigned long long)atomic_load(&r->conf_reload_failures),
              (unsigned long long)atomic_load(&r->conf_reload_unchanged));
    sb_printf(&b, "}}\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Fills v[STATS_MC_COUNTERS] with the pool's counters as they stand. */
static void stats_mc_now(struct stats_registry *r, uint32_t pool, uint64_t *v)
{
    size_t i = 0;
#define WORKER_NOW(name, gauge) v[i++] = stats_sum_worker(r, offsetof(struct worker_stats, name));
    WORKER_STATS(WORKER_NOW)
#undef WORKER_NOW
#define POOL_NOW(name, gauge) v[i++] = stats_sum_pool(r, pool, offsetof(struct pool_stats, name));
    POOL_STATS(POOL_NOW)
#undef POOL_NOW
}

/* Index of the pool named name in r->conf (caller holds conf_lock), or UINT32_MAX. */
static uint32_t stats_pool_index(struct stats_registry *r, const char *name)
{
    for (uint32_t p = 0; p < r->conf->npools; p++)
        if (strcmp(r->conf->pools[p].name, name) == 0)
            return p;
    return UINT32_MAX;
}

char *stats_memcached(struct stats_registry *r, const char *pool_name, size_t *len)
{
    struct sbuf b = {0};
    uint64_t now = (uint64_t)time(NULL);
    uint64_t v[STATS_MC_COUNTERS];
    size_t i = 0;

    pthread_mutex_lock(&r->conf_lock);
    uint32_t pool = stats_pool_index(r, pool_name);
    if (pool == UINT32_MAX) {
        pthread_mutex_unlock(&r->conf_lock);
        return NULL;
    }
    stats_mc_now(r, pool, v);
    pthread_mutex_lock(&r->mc_lock);
    const uint64_t *base = &r->layout->mc_base[(size_t)pool * STATS_MC_COUNTERS];
#define SINCE(gauge) ((gauge) || v[i] < base[i] ? v[i] : v[i] - base[i])
    sb_printf(&b, "STAT pid %ld\r\n", (long)getpid());
    sb_printf(&b, "STAT uptime %llu\r\n", (unsigned long long)(now - r->start_time));
    sb_printf(&b, "STAT time %llu\r\n", (unsigned long long)now);
    sb_printf(&b, "STAT version " RP_VERSION "\r\n");
    sb_printf(&b, "STAT engine %s\r\n", r->engine);
    sb_printf(&b, "STAT workers %u\r\n", r->nworkers);
    sb_printf(&b, "STAT pool %s\r\n", r->conf->pools[pool].name);
#define MC_LINE(name, gauge)                                                                       \
    sb_printf(&b, "STAT " #name " %llu\r\n", (unsigned long long)SINCE(gauge));                    \
    i++;
    WORKER_STATS(MC_LINE)
    POOL_STATS(MC_LINE)
#undef MC_LINE
#undef SINCE
    pthread_mutex_unlock(&r->mc_lock);
    pthread_mutex_unlock(&r->conf_lock);
    sb_printf(&b, "END\r\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

void stats_memcached_reset(struct stats_registry *r, const char *pool_name)
{
    uint64_t v[STATS_MC_COUNTERS];

    pthread_mutex_lock(&r->conf_lock);
    uint32_t pool = stats_pool_index(r, pool_name);
    if (pool != UINT32_MAX) {
        stats_mc_now(r, pool, v);
        pthread_mutex_lock(&r->mc_lock);
        memcpy(&r->layout->mc_base[(size_t)pool * STATS_MC_COUNTERS], v, sizeof(v));
        pthread_mutex_unlock(&r->mc_lock);
    }
    pthread_mutex_unlock(&r->conf_lock);
}

char *stats_memcached_settings(struct stats_registry *r, const char *pool_name, size_t *len)
{
    struct sbuf b = {0};
    pthread_mutex_lock(&r->conf_lock);
    uint32_t pool = stats_pool_index(r, pool_name);
    if (pool == UINT32_MAX) {
        pthread_mutex_unlock(&r->conf_lock);
        return NULL;
    }
    const struct conf_pool *cp = &r->conf->pools[pool];

    sb_printf(&b, "STAT pool %s\r\n", cp->name);
    sb_printf(&b, "STAT hash %s\r\n", hash_name(cp->hash));
    if (cp->has_hash_tag)
        sb_printf(&b, "STAT hash_tag %c%c\r\n", cp->hash_tag[0], cp->hash_tag[1]);
    sb_printf(&b, "STAT distribution %s\r\n", dist_name(cp->distribution));
    sb_printf(&b, "STAT servers %u\r\n", cp->nservers);
    sb_printf(&b, "STAT timeout %d\r\n", cp->timeout_ms);
    sb_printf(&b, "STAT server_connections %d\r\n", cp->server_connections);
    sb_printf(&b, "STAT auto_eject_hosts %s\r\n", cp->auto_eject_hosts ? "yes" : "no");
    sb_printf(&b, "STAT server_retry_timeout %d\r\n", cp->server_retry_timeout_ms);
    sb_printf(&b, "STAT server_failure_limit %d\r\n", cp->server_failure_limit);
    sb_printf(&b, "STAT item_size_max %u\r\n", cp->max_value_size);
    sb_printf(&b, "STAT max_key_length %u\r\n", cp->max_key_length);
    sb_printf(&b, "STAT client_idle_timeout %d\r\n", cp->client_idle_timeout_ms);
    sb_printf(&b, "STAT client_reply_limit %u\r\n", cp->client_reply_limit);
    sb_printf(&b, "STAT max_request_line %u\r\n", r->conf->global.max_request_line);
    sb_printf(&b, "STAT workers %u\r\n", r->nworkers);
    sb_printf(&b, "STAT engine %s\r\n", r->engine);
    sb_printf(&b, "END\r\n");
    pthread_mutex_unlock(&r->conf_lock);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

struct stats_server {
    struct stats_registry *reg;
    int fd;
    int stop_pipe[2];
    pthread_t thread;
};

/* One stats connection: nutcracker's clients connect and read (the JSON comes at once for them
 * once STATS_FIRST_BYTES_MS pass without a byte), HTTP clients send a request first. */
#define STATS_MAX_CONNS      64
#define STATS_FIRST_BYTES_MS 100  /* a raw client that sends nothing gets the JSON after this */
#define STATS_HEAD_MS        2000 /* an HTTP head must be whole within this */
#define STATS_SEND_MS        5000 /* and its answer taken within this */

struct stats_conn {
    int fd;
    bool writing;
    bool spoke;        /* some bytes came */
    uint64_t deadline; /* monotonic ms */
    size_t len;
    char head[HTTP_HEAD_MAX];
    char *out;
    size_t outlen, outoff;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The answer to a connection: body (malloc'd, may be NULL when out of memory) with an HTTP head
 * of status when http. */
static void stats_answer(struct stats_conn *c, bool http, int status, const char *ctype, char *body)
{
    if (!http) {
        c->out = body;
        c->outlen = body != NULL ? strlen(body) : 0;
    } else {
        const char *reason = status == 200   ? "OK"
                             : status == 404 ? "Not Found"
                             : status == 405 ? "Method Not Allowed"
                             : status == 503 ? "Service Unavailable"
                                             : "Bad Request";
        if (body == NULL && status == 200)
            status = 503, reason = "Service Unavailable", ctype = "text/plain; charset=utf-8";
        const char *text = body != NULL ? body : reason;
        size_t blen = strlen(text);
        struct sbuf b = {0};
        sb_printf(&b,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s%s",
                  status, reason, ctype, blen + (body != NULL ? 0 : 1), text,
                  body != NULL ? "" : "\n");
        free(body);
        c->out = b.oom ? NULL : b.p;
        c->outlen = b.oom ? 0 : b.len;
        if (b.oom)
            free(b.p);
    }
    c->outoff = 0;
    c->writing = true;
    c->deadline = mono_ms() + STATS_SEND_MS;
}

static char *stats_metrics(struct stats_registry *r)
{
    pthread_mutex_lock(&r->conf_lock);
    char *m = prom_metrics_locked(r);
    pthread_mutex_unlock(&r->conf_lock);
    return m;
}

/* The connection's bytes so far, looked at once more. */
static void stats_judge(struct stats_server *ss, struct stats_conn *c, bool timed_out)
{
    struct http_req req;
    enum http_result hr = http_parse_head(c->head, c->len, &req);
    if (hr == HTTP_AGAIN && !timed_out)
        return;
    if (hr == HTTP_NOT_HTTP || (hr == HTTP_AGAIN && !c->spoke)) {
        stats_answer(c, false, 0, NULL, stats_json(ss->reg)); /* as nutcracker */
        return;
    }
    if (hr != HTTP_REQUEST) {
        stats_answer(c, true, 400, "text/plain; charset=utf-8", NULL);
        return;
    }
    bool get = strcmp(req.method, "GET") == 0;
    if (strcmp(req.path, "/metrics") == 0 || strcmp(req.path, "/stats") == 0 ||
        strcmp(req.path, "/") == 0) {
        if (!get)
            stats_answer(c, true, 405, "text/plain; charset=utf-8", NULL);
        else if (strcmp(req.path, "/metrics") == 0)
            stats_answer(c, true, 200, "text/plain; version=0.0.4; charset=utf-8",
                         stats_metrics(ss->reg));
        else
            stats_answer(c, true, 200, "application/json", stats_json(ss->reg));
        return;
    }
    stats_answer(c, true, 404, "text/plain; charset=utf-8", NULL);
}

static void stats_conn_close(struct stats_conn *c)
{
    close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
}

static void *stats_thread(void *arg)
{
    struct stats_server *ss = arg;
    struct stats_conn *conns = calloc(STATS_MAX_CONNS, sizeof(*conns));
    struct pollfd *pfd = calloc(STATS_MAX_CONNS + 2, sizeof(*pfd));
    if (conns == NULL || pfd == NULL)
        goto out;
    for (int i = 0; i < STATS_MAX_CONNS; i++)
        conns[i].fd = -1;
    for (;;) {
        uint64_t now = mono_ms(), next = now + 1000;
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = ss->stop_pipe[0], .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = ss->fd, .events = POLLIN};
        int map[STATS_MAX_CONNS];
        for (int i = 0; i < STATS_MAX_CONNS; i++) {
            struct stats_conn *c = &conns[i];
            if (c->fd < 0)
                continue;
            if (c->deadline < next)
                next = c->deadline;
            map[n - 2] = i;
            pfd[n++] = (struct pollfd){.fd = c->fd, .events = c->writing ? POLLOUT : POLLIN};
        }
        int ms = next > now ? (int)(next - now) : 0;
        if (poll(pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        now = mono_ms();
        for (int k = 2; k < n; k++) {
            struct stats_conn *c = &conns[map[k - 2]];
            if (pfd[k].revents == 0 && now < c->deadline)
                continue;
            if (!c->writing) {
                if (pfd[k].revents != 0) {
                    ssize_t got = recv(c->fd, c->head + c->len, sizeof(c->head) - c->len, 0);
                    if (got > 0) {
                        c->len += (size_t)got;
                        if (!c->spoke) {
                            c->spoke = true;
                            c->deadline = now + STATS_HEAD_MS;
                        }
                        stats_judge(ss, c, c->len == sizeof(c->head));
                    } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                        stats_conn_close(c); /* gone before asking anything */
                        continue;
                    }
                } else {
                    stats_judge(ss, c, true);
                }
            }
            if (c->writing) {
                if (c->out == NULL || now >= c->deadline) {
                    stats_conn_close(c);
                    continue;
                }
                ssize_t put = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
                if (put > 0)
                    c->outoff += (size_t)put;
                if ((put < 0 && errno != EAGAIN && errno != EINTR) || c->outoff == c->outlen)
                    stats_conn_close(c);
            }
        }
        if (pfd[1].revents & POLLIN) {
            int fd = accept4(ss->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                int slot = -1;
                for (int i = 0; i < STATS_MAX_CONNS && slot < 0; i++)
                    if (conns[i].fd < 0)
                        slot = i;
                if (slot < 0) {
                    close(fd); /* too many at once: this one tries again */
                } else {
                    struct stats_conn *c = &conns[slot];
                    c->fd = fd;
                    c->writing = c->spoke = false;
                    c->len = 0;
                    c->deadline = now + STATS_FIRST_BYTES_MS;
                }
            }
        }
    }
out:
    for (int i = 0; conns != NULL && i < STATS_MAX_CONNS; i++)
        if (conns[i].fd >= 0)
            stats_conn_close(&conns[i]);
    free(conns);
    free(pfd);
    return NULL;
}

struct stats_server *stats_server_start(struct stats_registry *r, const char *addr, int port,
                                        char *err, size_t errlen)
{
    struct conf_addr a = {.host = (char *)addr, .port = (uint16_t)port};
    struct sockaddr_storage sa;
    socklen_t salen;
    if (net_resolve(&a, &sa, &salen, err, errlen) < 0)
        return NULL;
    struct stats_server *ss = calloc(1, sizeof(*ss));
    if (ss == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ss->reg = r;
    ss->fd = net_listen(&sa, salen, 128, false, NULL);
    if (ss->fd < 0) {
        snprintf(err, errlen, "cannot listen for stats on %s:%d: %s", addr, port,
                 strerror(-ss->fd));
        free(ss);
        return NULL;
    }
    if (pipe2(ss->stop_pipe, O_CLOEXEC) < 0 ||
        pthread_create(&ss->thread, NULL, stats_thread, ss) != 0) {
        snprintf(err, errlen, "cannot start the stats thread");
        close(ss->fd);
        free(ss);
        return NULL;
    }
    return ss;
}

void stats_server_stop(struct stats_server *ss)
{
    if (ss == NULL)
        return;
    ssize_t n = write(ss->stop_pipe[1], "x", 1);
    (void)n;
    pthread_join(ss->thread, NULL);
    close(ss->fd);
    close(ss->stop_pipe[0]);
    close(ss->stop_pipe[1]);
    free(ss);
}

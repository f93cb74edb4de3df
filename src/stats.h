/* Counters (per worker, written only by their worker) and the readers that add them up:
 * twemproxy's stats JSON on the stats port, and memcached's `stats` reply. */
#ifndef RP_STATS_H
#define RP_STATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "proto/mc_cmd.h"
#include "proto/rd_cmd.h"
#include "src/hist.h"

/* Writer side: only the owning worker updates a counter, so a relaxed store is enough; the
 * stats thread reads with relaxed loads (a value may be a moment old, never torn). */
#define STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (uint64_t)(n), __ATOMIC_RELAXED)
#define STAT_INC(field)    STAT_ADD(field, 1)
#define STAT_DEC(field)    __atomic_store_n(&(field), (field)-1, __ATOMIC_RELAXED)
#define STAT_SUB(field, n) __atomic_store_n(&(field), (field) - (uint64_t)(n), __ATOMIC_RELAXED)
#define STAT_SET(field, v) __atomic_store_n(&(field), (uint64_t)(v), __ATOMIC_RELAXED)
#define STAT_GET(field)    __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* X(name, is_gauge) — twemproxy's per-server metrics, in its order. */
#define SERVER_STATS(X)                                                                            \
    X(server_eof, 0)                                                                               \
    X(server_err, 0)                                                                               \
    X(server_timedout, 0)                                                                          \
    X(server_connections, 1)                                                                       \
    X(server_ejected_at, 1)                                                                        \
    X(requests, 0)                                                                                 \
    X(request_bytes, 0)                                                                            \
    X(responses, 0)                                                                                \
    X(response_bytes, 0)                                                                           \
    X(in_queue, 1)                                                                                 \
    X(in_queue_bytes, 1)                                                                           \
    X(out_queue, 1)                                                                                \
    X(out_queue_bytes, 1)

/* twemproxy's per-pool metrics. */
#define POOL_STATS(X)                                                                              \
    X(client_eof, 0)                                                                               \
    X(client_err, 0)                                                                               \
    X(client_connections, 1)                                                                       \
    X(server_ejects, 0)                                                                            \
    X(forward_error, 0)                                                                            \
    X(fragments, 0)

/* ringproxy's own per-pool metrics (not in nutcracker's pool objects: the stats JSON has them
 * under "ringproxy": {"pools": ...}). The route counters are the target pool's (the one whose
 * replica failed), the warm-up ones the warming pool's. */
#define POOL_RP_STATS(X)                                                                           \
    X(replica_errors, 0)     /* replicated writes that failed in this pool */                      \
    X(replica_background, 0) /* writes: one: this pool's writes that finished after the answer */  \
    X(warm_lookups, 0)       /* reads that missed and were asked of the key's old server */        \
    X(warm_hits, 0)          /* of them, found there */                                            \
    X(warm_copies, 0)        /* hits copied to the key's new server */                             \
    X(warm_unlinks, 0)       /* writes that deleted the old server's copy */

/* ringproxy's own per-worker metrics. */
#define WORKER_STATS(X)                                                                            \
    X(total_connections, 0)                                                                        \
    X(curr_connections, 1)                                                                         \
    X(requests, 0)                                                                                 \
    X(bytes_forwarded, 0) /* sent from the buffer they were received into */                       \
    X(bytes_copied, 0)    /* sent from a copy (a command line that spanned buffers) */             \
    X(bytes_invented, 0)  /* written by the proxy: split headers, merged END, errors */            \
    X(line_assembly, 0)   /* line bytes gathered to tokenize a line split over buffers */          \
    X(buffers_held, 1)                                                                             \
    X(buffers_evacuated, 0)   /* waiting slices copied out of the arena under pressure */          \
    X(accept_errors, 0)       /* accepts refused by the kernel (EMFILE, ENFILE, ENOMEM ...) */     \
    X(local_errors, 0)        /* requests failed for lack of a local resource, not the server's */ \
    X(clients_shed, 0)        /* clients closed because arena and spill space were used up */      \
    X(clients_paused, 0)      /* times a client's reading stopped: too much outstanding */         \
    X(clients_idle_closed, 0) /* clients closed after client_idle_timeout with nothing to do */    \
    X(clients_lingered, 0)    /* clients the proxy closed once their output was delivered */       \
    X(linger_abandoned, 0)    /* of them, closed before, their output stalled (or 30 s passed) */  \
    X(route_retries, 0) /* route requests sent on to a route's next pool (miss or failure) */      \
    X(route_replica_errors, 0) /* replicated writes that failed in one of the route's pools */     \
    X(route_background, 0)     /* writes: one: replica writes that finished after the answer */    \
    X(warm_lookups, 0)         /* warm-up: gets that missed and were read from the old server */   \
    X(warm_hits, 0)            /* of them, found there */                                          \
    X(warm_copies, 0)          /* hits copied to the new server (an add: a newer value stays) */   \
    X(warm_unlinks, 0)         /* writes that deleted the old server's copy */                     \
    X(zc_sends, 0)             /* sends made zero-copy (zero_copy_min) */                          \
    X(zc_copied, 0)            /* of them, sends the kernel copied after all (loopback does) */    \
    X(enobufs, 0)                                                                                  \
    X(syscalls, 0)                                                                                 \
    X(events, 0)

#define STATS_FIELD(name, gauge) uint64_t name;
struct server_stats {
    SERVER_STATS(STATS_FIELD)
    /* not in nutcracker's JSON: from a request's queueing on a server connection to its reply
     * being complete (or failed) */
    struct hist latency;
};
struct pool_stats {
    POOL_STATS(STATS_FIELD)
    POOL_RP_STATS(STATS_FIELD)
    /* not in nutcracker's JSON: requests by command (a memcached or a redis pool's) */
    uint64_t mc_cmds[MC_CMD_COUNT];
    uint64_t rd_cmds[RD_CMD_COUNT];
};
struct worker_stats {
    WORKER_STATS(STATS_FIELD)
};
#undef STATS_FIELD

/* The pool and server counters of one configuration, laid out for the readers. Pool and server
 * counters have one slot per worker (0 .. nworkers - 1), written by that worker only, and a
 * process slot (nworkers) for what is decided once for every worker (ejections), written under
 * the health module's pool lock. Readers add every slot up. A reload lays out a new set; each
 * worker carries its own slots of the pools and servers that stay into it when it moves to the
 * new configuration (nobody else writes them, so nothing is lost or counted twice). */
struct stats_layout {
    const struct conf *conf;
    uint32_t nworkers;
    uint32_t nservers_total;      /* servers over all pools */
    uint32_t *server_base;        /* pool index -> its first server in the flat arrays */
    struct pool_stats *pools;     /* [slot * npools + pool] */
    struct server_stats *servers; /* [slot * nservers_total + server_base[pool] + server] */
    /* `stats reset` on a pool's port: the counters that reply shows start again from these
     * (per pool, worker counters then pool counters; gauges are never reset). The stats port
     * and its JSON keep counting from the start. Under the registry's mc_lock. */
    uint64_t *mc_base;
};

/* A layout for conf; prev (or NULL): the `stats reset` bases of pools of the same name are
 * kept. NULL when out of memory. */
struct stats_layout *stats_layout_new(const struct conf *conf, uint32_t nworkers,
                                      const struct stats_layout *prev);
void stats_layout_free(struct stats_layout *l);

static inline struct pool_stats *stats_layout_pool(struct stats_layout *l, uint32_t w, uint32_t p)
{
    return &l->pools[w * l->conf->npools + p];
}

static inline struct server_stats *stats_layout_server(struct stats_layout *l, uint32_t w,
                                                       uint32_t p, uint32_t s)
{
    return &l->servers[w * l->nservers_total + l->server_base[p] + s];
}

/* What the readers add up: the workers' own counters, and the layout of the configuration in
 * force (swapped by a reload under conf_lock, which the readers hold while they read). */
struct stats_registry {
    const struct conf *conf;     /* layout->conf */
    struct stats_layout *layout; /* of the latest configuration */
    pthread_mutex_t conf_lock;   /* conf and layout change under it */
    uint32_t nworkers;
    struct worker_stats **workers; /* [worker], set by each worker */
    const char *engine;            /* engine the workers run on */
    uint64_t start_time;           /* unix seconds */
    char source[256];              /* host name */
    pthread_mutex_t mc_lock;       /* the layouts' mc_base */
    /* the configuration in force (under conf_lock) and how reloads went */
    char conf_file[4096];
    char conf_checksum[17];  /* 16 hex digits: FNV-1a 64 of the file's bytes */
    uint64_t conf_loaded_at; /* unix seconds */
    _Atomic uint64_t conf_reloads, conf_reload_failures, conf_reload_unchanged;
};

int stats_registry_init(struct stats_registry *r, const struct conf *conf, uint32_t nworkers);
void stats_registry_free(struct stats_registry *r);
/* Makes l the layout the readers use (the caller keeps it alive while it is). */
void stats_registry_set_layout(struct stats_registry *r, struct stats_layout *l);

/* The latest layout's slots; for the readers (under conf_lock) and the process slot writers. */
static inline struct pool_stats *stats_pool(struct stats_registry *r, uint32_t w, uint32_t p)
{
    return stats_layout_pool(r->layout, w, p);
}

static inline struct server_stats *stats_server(struct stats_registry *r, uint32_t w, uint32_t p,
                                                uint32_t s)
{
    return stats_layout_server(r->layout, w, p, s);
}

/* Sums over every slot of the latest layout (readers hold conf_lock): a worker counter at offset
 * off of struct worker_stats, a pool's, a server's (max: the largest slot instead of the sum). */
uint64_t stats_sum_worker(struct stats_registry *r, size_t off);
uint64_t stats_sum_pool(struct stats_registry *r, uint32_t p, size_t off);
uint64_t stats_sum_server(struct stats_registry *r, uint32_t p, uint32_t s, size_t off, bool max);
/* twemproxy's name for a server in stats: its explicit name, else "host:port" (or the path). */
void stats_server_name(const struct conf_server *cs, char *out, size_t len);

/* Writes twemproxy's stats JSON (plus a "ringproxy" object) into a malloc'd string. */
char *stats_json(struct stats_registry *r);

/* Writes memcached-style "STAT name value\r\n...END\r\n" for the pool named pool (of the
 * latest configuration) into a malloc'd string; *len receives its length. Counters count from
 * the pool's last stats_memcached_reset. NULL when out of memory or no such pool. */
char *stats_memcached(struct stats_registry *r, const char *pool, size_t *len);

/* `stats reset`: the pool's counters in stats_memcached start again from zero. */
void stats_memcached_reset(struct stats_registry *r, const char *pool);

/* `stats settings`: the pool's configuration as STAT lines, in a malloc'd string. */
char *stats_memcached_settings(struct stats_registry *r, const char *pool, size_t *len);

/* Serves stats_json to every connection on addr:port from a thread of its own. */
struct stats_server;
struct stats_server *stats_server_start(struct stats_registry *r, const char *addr, int port,
                                        char *err, size_t errlen);
void stats_server_stop(struct stats_server *s);

#endif

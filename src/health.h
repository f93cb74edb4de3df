/* The fleet's health, one view per process: failure counts, ejections and the ring every worker
 * routes with. Workers report failures and successes; the first report that crosses a pool's
 * server_failure_limit ejects the server for all workers at once (one new ring, published with
 * an atomic pointer swap). An ejected server comes back only after a probe from the health
 * thread succeeds: a connect and a `version` round trip, repeated every server_retry_timeout
 * while it fails (a server that accepts connections but does not answer stays out).
 *
 * Rings are immutable once published. A worker loads a pool's ring for the requests of one
 * batch of events and announces, between batches, that it holds no ring (health_quiesce); a
 * replaced ring is freed once every worker has announced so after the replacement.
 *
 * All of this is per configuration (struct health_view): a reload publishes a new view, and
 * the health of a server that stays is carried over into it. */
#ifndef RP_HEALTH_H
#define RP_HEALTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "hash/hash_dist.h"
#include "src/stats.h"

struct health_ring {
    struct dist dist;
    uint64_t retired_gen;     /* generation at which it was replaced (0 while current) */
    struct health_ring *next; /* retired list */
};

struct health_server {
    _Atomic uint32_t failures;    /* consecutive failures, over every worker */
    _Atomic bool ejected;         /* out of the ring */
    _Atomic uint64_t retry_at;    /* monotonic ns: next probe of an ejected server */
    struct sockaddr_storage addr; /* where the probe connects */
    socklen_t addrlen;
};

struct health_pool {
    const struct conf_pool *cp;
    struct health_server *servers; /* cp->nservers */
    _Atomic(struct health_ring *) ring;
    /* resharding warm-up (cp->reshard_warmup_s): the ring of the configuration before, over
     * every server of that one (prev_map: its index -> theirs now), until prev_until (monotonic
     * ns); NULL when the reload left the ring as it was. A server the reload removed maps to
     * cp->nservers + k: the k-th of prev_gone, the addresses the workers keep such a server
     * connected at until prev_until (a "ghost", read from and deleted on, never written to) */
    struct dist *prev;
    uint32_t *prev_map;
    uint32_t prev_n;
    uint64_t prev_until;
    struct sockaddr_storage *prev_gone;
    socklen_t *prev_gone_len;
    uint32_t prev_ngone;
    /* the same warm-up after a server's return from ejection: the ring from before it came
     * back (where its keys were served meanwhile), until back_until (monotonic ns). Replaced
     * (the one before retires as rings do) at the next return; read as rings are */
    _Atomic(struct health_ring *) back;
    _Atomic uint64_t back_until;
    pthread_mutex_t lock; /* serialises ejections and returns (ring rebuilds) of this pool */
};

/* One configuration as the process serves it: the conf, every pool's health and ring, and the
 * counters laid out for it. A reload builds a new view from the new conf (servers that stay
 * carry their health over) and publishes it; each worker moves to it between two batches of
 * events. A view is freed when nothing refers to it any more: the process (while it is the
 * latest), each worker on it, each connection or pool a worker keeps from it until its last
 * requests are answered, and the probe thread during one round. */
struct health_view {
    _Atomic uint32_t refs;
    uint64_t seq; /* 1 for the configuration the process started with, + 1 per reload */
    struct conf *conf;
    bool owns_conf;            /* freed with the view (a reload's); the first one belongs to main */
    struct health_pool *pools; /* conf->npools */
    uint32_t npools;
    struct stats_layout *stats; /* the counters of this configuration's pools and servers */
    /* listening sockets a reload opened for a new or moved listen address: [pool * nworkers +
     * worker], -1 where the pool keeps the listener it has (or none is needed). A worker takes
     * its own (and sets -1); the rest are closed with the view. NULL for the first view. */
    int *listen_fds;
};

/* A worker's announcement, on a cache line of its own (workers write theirs, nobody else). */
struct health_seen {
    _Atomic uint64_t gen;
    char pad[64 - sizeof(uint64_t)];
};

struct health {
    struct stats_registry *reg; /* layouts are published through it */
    uint32_t nworkers;
    _Atomic(struct health_view *) latest; /* the configuration new work should use */
    pthread_mutex_t view_lock;            /* publishing a new latest view */
    _Atomic uint64_t gen;                 /* bumped each time a ring is replaced */
    struct health_seen *seen;             /* per worker: the gen it saw when it last held no ring */
    pthread_mutex_t retired_lock;
    struct health_ring *retired;
    pthread_t thread;
    bool thread_started;
    int stop_pipe[2];
};

/* Builds the first view over conf (which stays the caller's): every pool's first ring (all
 * servers live), the probe addresses, the counters' layout (published in reg). Returns 0, or -1
 * with a message in err. */
int health_init(struct health *h, struct conf *conf, struct stats_registry *reg, uint32_t nworkers,
                char *err, size_t errlen);

/* A reload: a new view over conf (the view owns it from here, whatever the result). Servers of
 * a pool of the same name with the same address keep their health (failures, ejection), and
 * counters are laid out for conf. Returns the view with one reference (the caller's), or NULL
 * with a message in err. */
struct health_view *health_view_build(struct health *h, struct conf *conf, char *err,
                                      size_t errlen);
/* Makes v the latest view (taking over the caller's reference) and publishes its counters'
 * layout; the previous latest loses the process's reference. */
void health_view_publish(struct health *h, struct health_view *v);
/* The latest view, with a reference for the caller. */
struct health_view *health_view_get(struct health *h);
void health_view_ref(struct health_view *v);
/* Drops a reference; the last one frees the view (its rings, counters, conf if owned). */
void health_view_put(struct health *h, struct health_view *v);
/* Pool index of the pool named name in v, or UINT32_MAX. */
uint32_t health_view_pool(const struct health_view *v, const char *name);
/* Index in pool p of v of the server at the address of cs (same name preferred), or
 * UINT32_MAX. taken: servers already matched (skipped), or NULL. */
uint32_t health_view_server(const struct health_view *v, uint32_t p, const struct conf_server *cs,
                            const bool *taken);
/* Starts the probe thread. Returns 0 or -1. */
int health_start(struct health *h);
/* Stops the probe thread and frees every ring (no worker may route any more). */
void health_destroy(struct health *h);

/* The ring to route pool p of view v with. Valid until the caller's next health_quiesce. */
static inline const struct dist *health_ring(struct health_view *v, uint32_t p)
{
    return &atomic_load_explicit(&v->pools[p].ring, memory_order_acquire)->dist;
}

/* Worker w holds no ring pointer any more (call between batches of events). */
static inline void health_quiesce(struct health *h, uint32_t w)
{
    uint64_t g = atomic_load_explicit(&h->gen, memory_order_acquire);
    if (atomic_load_explicit(&h->seen[w].gen, memory_order_relaxed) != g)
        atomic_store_explicit(&h->seen[w].gen, g, memory_order_release);
}

/* Worker w will never route again (it stopped): it no longer holds back retirement. */
void health_worker_gone(struct health *h, uint32_t w);

/* A request to server s of pool p failed because of the server (connect refused, closed,
 * timed out, garbage). Counts it over every worker; returns true when this report ejected
 * the server (the caller logs nothing more: this function logged it). */
bool health_failure(struct health *h, struct health_view *v, uint32_t p, uint32_t s);

/* The server answered: its consecutive failures start again from zero. */
static inline void health_success(struct health_view *v, uint32_t p, uint32_t s)
{
    struct health_server *hs = &v->pools[p].servers[s];
    if (atomic_load_explicit(&hs->failures, memory_order_relaxed) != 0)
        atomic_store_explicit(&hs->failures, 0, memory_order_relaxed);
}

/* One probe of an ejected server: connect, `version` and a VERSION line (redis: PING and +PONG,
 * or -NOAUTH), within timeout_ms; it
 * gives up early when stop_fd (-1: none) becomes readable. Returns 0 when the server answered,
 * else -errno (-ETIMEDOUT, -EPROTO for a wrong answer, -ECANCELED when stopped). */
int health_probe(const struct sockaddr_storage *ss, socklen_t len, int timeout_ms, int stop_fd,
                 bool redis);

/* Runs one round of the probe thread's work at monotonic time now (exposed for tests). */
void health_tick(struct health *h, uint64_t now);

#endif

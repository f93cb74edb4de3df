/* The fleet's health, one view per process: failure counts, ejections and the ring every worker
 * routes with. Workers report failures and successes; the first report that crosses a pool's
 * server_failure_limit ejects the server for all workers at once (one new ring, published with
 * an atomic pointer swap). An ejected server comes back only after a probe from the health
 * thread succeeds: a connect and a `version` round trip, repeated every server_retry_timeout
 * while it fails (a server that accepts connections but does not answer stays out).
 *
 * Rings are immutable once published. A worker loads a pool's ring for the requests of one
 * batch of events and announces, between batches, that it holds no ring (health_quiesce); a
 * replaced ring is freed once every worker has announced so after the replacement. */
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
    pthread_mutex_t lock; /* serialises ejections and returns (ring rebuilds) of this pool */
};

/* A worker's announcement, on a cache line of its own (workers write theirs, nobody else). */
struct health_seen {
    _Atomic uint64_t gen;
    char pad[64 - sizeof(uint64_t)];
};

struct health {
    const struct conf *conf;
    struct stats_registry *reg; /* ejections are counted in its process slot */
    struct health_pool *pools;
    uint32_t npools;
    uint32_t nworkers;
    _Atomic uint64_t gen;     /* bumped each time a ring is replaced */
    struct health_seen *seen; /* per worker: the gen it saw when it last held no ring */
    pthread_mutex_t retired_lock;
    struct health_ring *retired;
    pthread_t thread;
    bool thread_started;
    int stop_pipe[2];
};

/* Builds every pool's first ring (all servers live) and resolves the probe addresses. Returns 0,
 * or -1 with a message in err. */
int health_init(struct health *h, const struct conf *conf, struct stats_registry *reg,
                uint32_t nworkers, char *err, size_t errlen);
/* Starts the probe thread. Returns 0 or -1. */
int health_start(struct health *h);
/* Stops the probe thread and frees every ring (no worker may route any more). */
void health_destroy(struct health *h);

/* The ring to route pool p's keys with. Valid until the caller's next health_quiesce. */
static inline const struct dist *health_ring(struct health *h, uint32_t p)
{
    return &atomic_load_explicit(&h->pools[p].ring, memory_order_acquire)->dist;
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
bool health_failure(struct health *h, uint32_t p, uint32_t s);

/* The server answered: its consecutive failures start again from zero. */
static inline void health_success(struct health *h, uint32_t p, uint32_t s)
{
    struct health_server *hs = &h->pools[p].servers[s];
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

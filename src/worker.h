/* A worker: one thread with its own I/O engine, buffer arena, listeners, client and server
 * connections (client.h, server.h), pools and counters. Nothing in it is shared with other
 * workers but the process's view of the fleet (health.h) and the counters' registry. */
#ifndef RP_WORKER_H
#define RP_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "proto/mc_req.h"
#include "src/health.h"
#include "src/io.h"
#include "src/log.h"
#include "src/mbuf.h"
#include "src/msg.h"
#include "src/owner.h"
#include "src/sendrec.h"
#include "src/stats.h"

struct worker;
struct pool_rt;
struct client;
struct server;

struct listener {
    struct owner o;
    struct pool_rt *pool;
    bool listening;         /* listen(2) done: its socket is only bound until the worker's first
                             * accept is armed (pool_listen_arm) */
    bool paused;            /* accept failed for lack of resources (EMFILE...): re-armed later */
    uint32_t backoff_ms;    /* pause after the last such failure: doubles up to a second */
    uint64_t resume_at;     /* monotonic ns when a paused accept is armed again */
    struct log_limit lim;   /* "accept failed" lines */
    struct listener *lnext; /* the worker's list of listeners whose close is under way */
};

struct worker {
    uint32_t id;
    const struct conf *conf;
    struct io_engine *io;
    struct mbuf_pool mbufs;
    struct msg_pool msgs;
    struct sendrec_cache sendrecs;
    struct pool_rt **pools; /* one per pool of the worker's view, in its order */
    uint32_t npools;
    struct health_view *view;  /* the configuration this worker serves (one reference) */
    struct server *retiring;   /* servers a reload took away, finishing their requests */
    struct pool_rt *retired;   /* pools a reload took away, until their clients are gone */
    struct listener *lclosing; /* listeners closed, their close not yet complete */
    bool draining;             /* stopping: no accepting, clients close once answered */
    struct client *clients;    /* every open client */
    struct owner *dirty;       /* connections to flush after this batch of events */
    struct mc_tok *keyscratch; /* tokenizer's key array */
    uint32_t *destscratch;     /* a multi-get's servers, one per key (keycap entries) */
    uint32_t keycap;
    uint64_t now; /* monotonic ns, refreshed per batch */
    uint64_t last_tick;
    uint64_t last_probe; /* monotonic ns of the last clients_probe_quiet pass */
    uint32_t nstarved;   /* connections whose receive waits for buffers */
    uint32_t nlingering; /* clients closed but for the delivery of their output */
    struct stats_registry *reg;
    struct health *health; /* the process's view of the fleet: rings, failures, ejections */
    atomic_int stop;       /* set by the main thread */
    atomic_int drain;      /* set by the main thread: stop accepting, finish, then idle */
    _Atomic uint32_t nclients_live; /* clients still open (read by main while draining) */
    uint64_t last_evacuation; /* monotonic ns of the last pass that copied waiting bytes out */
    uint32_t held_after_evacuation; /* arena buffers still held after that pass */
    enum io_choice choice;
    pthread_barrier_t *start_barrier; /* shared with main: set up, then go */
    int start_rc;
    char start_err[320];
    bool inited; /* worker_init succeeded: worker_destroy undoes it */
    struct worker_stats st;
    uint32_t zc_min;            /* sends of at least this many bytes go zero-copy; 0 = never */
    bool zc_fixed;              /* ... from the registered arena where they can */
    struct sendrec *zc_waiting; /* records given up by their connection, notifications due */
    int tick_ms;
    bool idle_sweep; /* some pool has client_idle_timeout: look for idle clients each tick */
};

/* Sets up worker id over conf: arena, pools, listeners (bound, not listening yet: the first
 * pool_listen_arm listens). Returns 0, or -1 with a message in err. The listeners use
 * SO_REUSEPORT so every worker accepts on its own. */
int worker_init(struct worker *w, uint32_t id, const struct conf *conf, enum io_choice choice,
                struct stats_registry *reg, struct health *health, char *err, size_t errlen);

/* What main hands a worker thread: worker_main sets itself up with it. */
struct worker_boot {
    struct worker *w;
    uint32_t id;
    const struct conf *conf;
    enum io_choice choice;
    struct stats_registry *reg;
    struct health *health;
    pthread_barrier_t *barrier;
};

/* A worker thread (arg: a struct worker_boot that outlives the start): it sets its worker up
 * (worker_init, then the engine, per choice), meets main at the barrier (main checks every
 * worker and starts the rest of the process), meets it again, and only then listens and runs
 * the event loop until w->stop is set. The workers set up side by side, and no client can
 * connect before every part of the process has started. Between two batches of events the
 * loop moves to the latest configuration when a reload published one (worker_apply_view), and,
 * once w->drain is set, stops accepting and lets every client go once it has had its answers.
 */
void *worker_main(void *arg);
void worker_destroy(struct worker *w);

/* One step of the loop, exposed so that unit tests can drive a worker with a scripted engine:
 * hand one event to its owner (buffer accounting included; frees an owner whose close is done),
 * and flush every connection marked dirty (one send per socket). */
void worker_dispatch(struct worker *w, const struct io_event *ev);
void worker_flush(struct worker *w);

/* Internal to the core (client.c, server.c, worker.c). */
void worker_mark_dirty(struct worker *w, struct owner *o);
/* Counts a slice handed to a send: forwarded from the arena, copied, or invented. */
static inline void slice_account(struct worker *w, const struct slice *sl)
{
    if (sl->buf < w->mbufs.count)
        STAT_ADD(w->st.bytes_forwarded, sl->len);
    else if (sl->buf == MBUF_NONE)
        STAT_ADD(w->st.bytes_invented, sl->len);
    else
        STAT_ADD(w->st.bytes_copied, sl->len); /* spill space or a copied line */
}
uint64_t worker_now(void);
void worker_close_owner(struct worker *w, struct owner *o);

/* Submits s (gathered by connection o) as one send: zero-copy when zero_copy_min asks for it
 * (or s went out zero-copy before: the rest of a short send follows the same way), plain
 * otherwise. Counts the operation in o (and in s for zero-copy). Returns 0 or -errno. */
int worker_send(struct worker *w, struct owner *o, struct sendrec *s);

/* The connection is done with s (everything sent, or the connection failed): a plain record
 * is emptied and cached; a zero-copy one keeps its references until the kernel's last
 * notification, then is emptied the same way. */
void worker_send_release(struct worker *w, struct sendrec *s);

/* Copies the arena bytes of every request and reply that waits (not yet handed to a send) into
 * spill space, so that the arena buffers go back to the kernel. Returns the slices moved. */
uint32_t worker_evacuate(struct worker *w);

#endif

/* A worker: one thread with its own I/O engine, buffer arena, listeners, client and server
 * connections, pools and counters. Nothing in it is shared with other workers. */
#ifndef RP_WORKER_H
#define RP_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "hash/hash_dist.h"
#include "proto/mc_req.h"
#include "proto/mc_rsp.h"
#include "src/health.h"
#include "src/io.h"
#include "src/log.h"
#include "src/linebuf.h"
#include "src/mbuf.h"
#include "src/msg.h"
#include "src/sendrec.h"
#include "src/stats.h"

enum owner_type { OWNER_LISTENER = 1, OWNER_CLIENT, OWNER_SCONN };

/* First member of everything that owns I/O operations. */
struct owner {
    uint8_t type;    /* enum owner_type */
    uint8_t pending; /* operations submitted whose final event has not come yet */
    bool closing;    /* close submitted: free once pending reaches zero */
    bool dirty;      /* on the worker's flush list */
    int fd;
    struct owner *dnext; /* flush list */
};

struct worker;
struct pool_rt;

struct listener {
    struct owner o;
    struct pool_rt *pool;
    bool paused;          /* accept failed for lack of resources (EMFILE...): re-armed later */
    uint32_t backoff_ms;  /* pause after the last such failure: doubles up to a second */
    uint64_t resume_at;   /* monotonic ns when a paused accept is armed again */
    struct log_limit lim; /* "accept failed" lines */
};

struct client {
    struct owner o;
    struct pool_rt *pool;
    struct mc_framer fr;
    struct msg *cur;           /* request being received */
    struct msg *qhead, *qtail; /* requests in reply order */
    struct sendrec *send;      /* in-flight reply send, or NULL */
    struct linebuf line;
    struct client *next, *prev; /* worker's client list */
    bool eof;                   /* no more requests: close when every reply is out */
    bool recv_armed;
    bool starved;     /* recv ended with ENOBUFS: re-arm when buffers return */
    bool close_now;   /* protocol error: stop reading, close after flushing */
    bool cut;         /* a reply was cut off by its server: not one more byte may follow it;
                       * closed as soon as no send is in flight */
    bool paused;      /* too many requests outstanding: not reading until they drain */
    uint32_t nqueued; /* requests in qhead..qtail */
};

/* A client may have this many requests outstanding; past it, reading stops until half are
 * answered (a client that pipelines without reading cannot make the proxy hold unbounded
 * state). */
#define CLIENT_MAX_QUEUE 1024

enum sconn_state { SC_CONNECTING = 1, SC_CONNECTED, SC_DEAD };

/* One connection to a server. Requests queue on it in order; `unsent` is the first with bytes
 * not yet handed to a send, and replies arrive for `head` first. */
struct sconn {
    struct owner o;
    struct server *server;
    uint32_t conn_idx;   /* index in server->conns */
    uint32_t line_first; /* reply slice where the current line began */
    uint8_t state;
    bool recv_armed;
    bool starved;
    struct msg *head, *tail; /* every queued request, oldest first */
    struct msg *unsent;      /* first request with bytes still to send */
    uint32_t nqueued;
    struct sendrec *send;
    struct mc_framer fr;
    struct linebuf line;
    struct mc_rsp_line rl; /* the reply line being handled */
};

/* This worker's side of one server: its connections and counters. Whether the server is
 * healthy is not kept here but in the process-wide struct health (w->health). */
struct server {
    struct pool_rt *pool;
    uint32_t idx; /* index in the pool's configuration */
    const struct conf_server *cs;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct sconn **conns; /* pool->nconns entries, NULL when not connected */
    uint32_t rr;          /* round robin over conns */
    struct server_stats *st;
    struct log_limit lim; /* connect failures and closes: one line a second */
};

struct pool_rt {
    struct worker *w;
    uint32_t idx;
    const struct conf_pool *cp;
    struct mc_limits limits;
    uint32_t nconns; /* connections per server on this worker: its share of server_connections */
    struct server *servers;
    uint32_t nservers;
    struct listener lst;
    struct pool_stats *st;
};

struct worker {
    uint32_t id;
    pthread_t thread;
    const struct conf *conf;
    struct io_engine *io;
    struct mbuf_pool mbufs;
    struct msg_pool msgs;
    struct sendrec_cache sendrecs;
    struct pool_rt *pools;
    uint32_t npools;
    struct client *clients;    /* every open client */
    struct owner *dirty;       /* connections to flush after this batch of events */
    struct mc_tok *keyscratch; /* tokenizer's key array */
    uint32_t keycap;
    uint64_t now; /* monotonic ns, refreshed per batch */
    uint64_t last_tick;
    uint32_t nstarved; /* connections whose receive waits for buffers */
    struct stats_registry *reg;
    struct health *health;    /* the process's view of the fleet: rings, failures, ejections */
    atomic_int stop;          /* set by the main thread */
    uint64_t last_evacuation; /* monotonic ns of the last pass that copied waiting bytes out */
    uint32_t held_after_evacuation; /* arena buffers still held after that pass */
    enum io_choice choice;
    pthread_barrier_t *start_barrier; /* shared with main: engine started, then go */
    int start_rc;
    char start_err[320];
    struct worker_stats st;
    int tick_ms;
};

/* Sets up worker id over conf: arena, pools, listeners; the engine (per choice) is started by
 * the worker's own thread (worker_main), which then meets main at start_barrier twice. Returns 0,
 * or -1 with a message in err. The listeners use SO_REUSEPORT so every worker accepts on its own.
 */
int worker_init(struct worker *w, uint32_t id, const struct conf *conf, enum io_choice choice,
                struct stats_registry *reg, struct health *health, char *err, size_t errlen);
/* Runs the event loop until w->stop is set. */
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

void client_accept(struct worker *w, struct pool_rt *pool, int fd);
void client_event(struct worker *w, struct client *c, const struct io_event *ev);
void client_flush(struct worker *w, struct client *c);
void client_rearm(struct worker *w, struct client *c);
/* Detaches the client's requests (their replies will be dropped) and closes it. */
void client_close(struct worker *w, struct client *c);
void client_free(struct worker *w, struct client *c);
/* Bytes held for c: its requests and replies not yet sent, fragments included (an estimate for
 * choosing whom to close when memory runs out; slices in flight are counted too). */
uint64_t client_waiting_bytes(const struct client *c);
/* Makes m's reply the single line text (static, len bytes), dropping what it had. */
void msg_set_reply(struct worker *w, struct msg *m, const char *text, uint32_t len);

int pool_rt_init(struct worker *w, struct pool_rt *pool, uint32_t idx, const struct conf_pool *cp,
                 struct stats_registry *reg, char *err, size_t errlen);
void pool_rt_destroy(struct worker *w, struct pool_rt *pool);
/* Server index for a key, or UINT32_MAX when no server is live. */
uint32_t pool_route(struct worker *w, struct pool_rt *pool, const uint8_t *key, uint32_t len);
/* Queues m on a connection of server idx (connecting if needed). On failure the message is
 * failed at once (its reply becomes a SERVER_ERROR). */
void server_enqueue(struct worker *w, struct pool_rt *pool, uint32_t idx, struct msg *m);
void sconn_event(struct worker *w, struct sconn *sc, const struct io_event *ev);
void sconn_flush(struct worker *w, struct sconn *sc);
void sconn_rearm(struct worker *w, struct sconn *sc);
void sconn_free(struct worker *w, struct sconn *sc);
/* m, whose client is gone, is taken off its server queue and freed if none of its bytes went
 * to a send yet. Returns false (m untouched) otherwise: it stays queued, is answered, and the
 * reply is dropped, so the connection stays in step. */
bool server_drop_unsent(struct worker *w, struct msg *m);
/* Fails requests that waited longer than the pool's timeout. */
void servers_tick(struct worker *w);
/* Opens every connection of the pools with `preconnect` (at start). */
void servers_preconnect(struct worker *w);
/* Copies the arena bytes of every request and reply that waits (not yet handed to a send) into
 * spill space, so that the arena buffers go back to the kernel. Returns the slices moved. */
uint32_t worker_evacuate(struct worker *w);
/* Fails every server connection (shutdown). */
void servers_shutdown(struct worker *w);
/* The server side is done with m (reply complete or failed). */
void msg_server_done(struct worker *w, struct msg *m);

#endif

/* Server side: pools and their servers, connections that coalesce many clients' requests into
 * one send per batch, reply framing, timeouts, and failures reported to the health module. */
#ifndef RP_SERVER_H
#define RP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "proto/mc_frame.h"
#include "proto/mc_req.h"
#include "proto/mc_rsp.h"
#include "proto/rd_rsp.h"
#include "src/io.h"
#include "src/linebuf.h"
#include "src/log.h"
#include "src/msg.h"
#include "src/sendrec.h"
#include "src/stats.h"
#include "src/worker.h"

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
    struct mc_rsp_line rl;    /* the reply line being handled */
    struct rd_rsp_framer rfr; /* redis pools: the reply framer */
    uint32_t elem_first;      /* redis: reply slice where the current array element began */
};

/* This worker's side of one server: its connections and counters. Whether the server is
 * healthy is not kept here but in the process-wide struct health (w->health). */
struct server {
    struct pool_rt *pool;
    uint32_t idx; /* index in the pool's configuration */
    const struct conf_server *cs;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct sconn **conns; /* nconns entries, NULL when not connected */
    uint32_t nconns;      /* the pool's nconns when the server was set up */
    uint32_t rr;          /* round robin over conns */
    uint32_t nlive;       /* connections not freed yet (closing ones too) */
    struct server_stats *st;
    struct log_limit lim; /* connect failures and closes: one line a second */
    /* A server a reload removed (or replaced: its pool's connection count or redis auth
     * changed): it gets no new requests, its connections close once they have nothing
     * outstanding, and it is freed when the last one is. It keeps a reference on the view
     * its cs and st belong to. */
    bool retiring;
    int retire_timeout_ms; /* its pool's timeout when it retired */
    struct health_view *vref;
    struct server *rnext; /* the worker's retiring list */
    /* A removed server kept for a resharding warm-up (a ghost, its pool's ghosts[ghost_k]):
     * its idle connections stay open, and it is not freed, until keep_until (monotonic ns;
     * 0: not kept) */
    uint64_t keep_until;
    uint32_t ghost_k;
};

struct pool_rt {
    struct worker *w;
    uint32_t idx; /* index in the worker's view (w->view) */
    const struct conf_pool *cp;
    struct mc_limits limits;
    uint32_t nconns; /* connections per server on this worker: its share of server_connections */
    struct server **servers;
    uint32_t nservers;
    /* resharding warm-up: the servers the last reload removed that its previous ring still
     * names (index nservers + k; NULL: not on this worker), retiring, kept until the window
     * ends */
    struct server **ghosts;
    uint32_t nghosts;
    struct listener *lst; /* NULL: none on this worker (a unix socket is worker 0's) */
    struct pool_stats *st;
    struct log_limit route_lim; /* a route's pool: its failed replica writes' log lines */
    uint32_t nclients;          /* clients accepted by it and not freed yet */
    /* A pool a reload removed: no listener, no routing; its clients are answered what they
     * asked and closed; freed once they and its servers are gone. vref: the view cp is of. */
    bool retired;
    struct health_view *vref;
    struct pool_rt *rnext; /* the worker's retired list */
    /* redis: the commands every new server connection starts with (AUTH redis_auth, SELECT
     * redis_db), built once; len 0 when not needed */
    char *rd_auth_cmd, *rd_select_cmd;
    uint32_t rd_auth_len, rd_select_len;
};

/* Sets up pool idx of the worker's view (w->view): its servers, and its listener (listen_fd
 * when >= 0, a socket a reload opened; else one of its own, -2: none). Returns 0, or -1 with
 * a message in err. */
int pool_rt_init(struct worker *w, struct pool_rt *pool, uint32_t idx, const struct conf_pool *cp,
                 int listen_fd, char *err, size_t errlen);
void pool_rt_destroy(struct worker *w, struct pool_rt *pool);
/* A reload: pool (of the worker's view ov) becomes pool idx of view nv, whose conf says cp.
 * Servers at the same address keep their connections and counters (this worker's slots are
 * carried into nv's layout); others are created; those left over retire. listen_fd >= 0: a new
 * listener replaces the old one (opened by the reload). Returns 0 or -1 (out of memory: the
 * pool stays as it was, log says so). */
int pool_rt_update(struct worker *w, struct pool_rt *pool, uint32_t idx, const struct conf_pool *cp,
                   struct health_view *ov, struct health_view *nv, int listen_fd);
/* A reload removed pool (of view ov): its listener closes, its clients are answered and
 * closed, its servers retire; it goes on the worker's retired list. */
void pool_rt_retire(struct worker *w, struct pool_rt *pool, struct health_view *ov);
/* Closes retiring servers' idle connections and frees retiring servers and retired pools that
 * nothing refers to any more. */
void servers_reap(struct worker *w);
/* Fails what s has outstanding and frees it with its connections (teardown: the engine is
 * gone, no event can come for them). */
void server_destroy(struct worker *w, struct server *s);
/* Closes pool's listener, if it has one (no more clients for it on this worker). */
void pool_unlisten(struct worker *w, struct pool_rt *pool);
/* Arms the accept of pool's listener (if any). */
void pool_listen_arm(struct worker *w, struct pool_rt *pool);
/* Server idx of pool: one of its servers, or from nservers on one of its ghosts; NULL when
 * there is no such server (any more). */
static inline struct server *pool_server(const struct pool_rt *pool, uint32_t idx)
{
    if (idx < pool->nservers)
        return pool->servers[idx];
    idx -= pool->nservers;
    return idx < pool->nghosts ? pool->ghosts[idx] : NULL;
}

/* Server index for a key, or UINT32_MAX when no server is live. */
uint32_t pool_route(struct worker *w, struct pool_rt *pool, const uint8_t *key, uint32_t len);
/* Resharding warm-up: the server (index in pool now, or a ghost's) key had before the last
 * reload changed the ring, or before the last return of a server from ejection, while that
 * warm-up window lasts (a reload's first); UINT32_MAX otherwise. Valid as a ring is, until the
 * worker's next health_quiesce. */
uint32_t pool_route_prev(struct worker *w, struct pool_rt *pool, const uint8_t *key, uint32_t len);
/* pool's warm-up window is open. */
bool pool_warming(struct worker *w, const struct pool_rt *pool);
/* Queues m on a connection of server idx (connecting if needed). On failure the message is
 * failed at once (its reply becomes a SERVER_ERROR). */
void server_enqueue(struct worker *w, struct pool_rt *pool, uint32_t idx, struct msg *m);
/* Queues a, then b (or NULL), on the same connection of server idx, so that b's request is
 * served after a's; both fail at once when it cannot be reached. */
void server_enqueue_pair(struct worker *w, struct pool_rt *pool, uint32_t idx, struct msg *a,
                         struct msg *b);
void sconn_event(struct worker *w, struct sconn *sc, const struct io_event *ev);
void sconn_flush(struct worker *w, struct sconn *sc);
void sconn_rearm(struct worker *w, struct sconn *sc);
void sconn_free(struct worker *w, struct sconn *sc);
/* m, whose client is gone, is taken off its server queue and freed if none of its bytes went
 * to a send yet. Returns false (m untouched) otherwise: it stays queued, is answered, and the
 * reply is dropped, so the connection stays in step. */
bool server_drop_unsent(struct worker *w, struct msg *m);
/* Internal to the server side (server.c, rd_server.c). */
/* Fails every request on sc with err and closes it. */
void sconn_fail(struct worker *w, struct sconn *sc, enum msg_err err);
/* The head request's reply is complete: it leaves the queue; ok false counts the reply as the
 * server's failure (redis -OOM, -BUSY, -LOADING), true as its success. */
void sconn_reply_done(struct worker *w, struct sconn *sc, bool ok);
/* Queues m (a request of the proxy's own, no client) at the tail of sc itself. */
void sconn_push(struct worker *w, struct sconn *sc, struct msg *m);

/* Fails requests that waited longer than the pool's timeout. */
void servers_tick(struct worker *w);
/* Opens every connection of the pools with `preconnect` (at start). */
void servers_preconnect(struct worker *w);
/* Fails every server connection (shutdown). */
void servers_shutdown(struct worker *w);

#endif

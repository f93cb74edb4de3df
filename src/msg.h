/* A proxied request and its reply, kept as slices of arena buffers, and the worker's pool of
 * them (no malloc per request). */
#ifndef RP_MSG_H
#define RP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/mc_cmd.h"
#include "proto/mc_rsp.h"
#include "src/mbuf.h"

/* A growable array of slices with a few inline entries: most requests and replies fit in one
 * or two buffers, so most messages never allocate. Each slice into the arena holds one buffer
 * reference, dropped when the slice is handed to a send (the send then holds it) or freed. */
struct svec {
    struct slice *v;
    uint32_t n;
    uint32_t cap;
    uint32_t sealed; /* leading slices already handed to a send: never merged into */
    struct slice inl[2];
};

void svec_init(struct svec *s);
/* Appends a slice, taking a reference on its buffer. Adjacent ranges of one buffer merge.
 * Returns 0 or -ENOMEM. */
int svec_push(struct svec *s, struct mbuf_pool *p, const uint8_t *ptr, uint32_t len, uint32_t buf);
/* Makes room for n slices in all, so that the next pushes allocate nothing. 0 or -ENOMEM. */
int svec_reserve(struct svec *s, uint32_t n);
/* Appends src's slices [first, last) to dst, merging adjacent ranges, and moves their buffer
 * references with them: src keeps the slices, referencing nothing (its release skips them).
 * 0 or -ENOMEM (the slices moved so far stay moved). */
int svec_move(struct svec *dst, struct mbuf_pool *p, struct svec *src, uint32_t first,
              uint32_t last);
/* Appends without merging into the previous slice (keeps item boundaries). */
int svec_push_apart(struct svec *s, struct mbuf_pool *p, const uint8_t *ptr, uint32_t len,
                    uint32_t buf);
/* Appends bytes that may have to wait before they are sent: while the arena is short of
 * buffers they are copied into spill space (see mbuf.h) so that the arena buffer can go back
 * to the kernel. apart: do not merge with the previous slice. Returns the bytes copied. */
uint32_t svec_push_wait(struct svec *s, struct mbuf_pool *p, const uint8_t *ptr, uint32_t len,
                        uint32_t buf, bool apart);
/* Drops every reference and empties s (keeps nothing allocated). */
void svec_release(struct svec *s, struct mbuf_pool *p);
/* Drops the references of slices [from, n) only (the earlier ones were handed to a send, which
 * holds them now) and empties s. */
void svec_release_from(struct svec *s, struct mbuf_pool *p, uint32_t from);
/* Drops the slices [keep, n) (keep >= sealed): s keeps its first keep slices. */
void svec_truncate(struct svec *s, struct mbuf_pool *p, uint32_t keep);
/* Empties s without dropping any reference: every slice was handed to a send, which holds
 * them now. */
void svec_forget(struct svec *s);
uint64_t svec_bytes(const struct svec *s);
/* Moves slices [from, n) that point into the arena to spill space (one slice stays one slice,
 * so indices into s keep their meaning), dropping their arena references. Stops early when
 * spill space runs out. Returns the slices moved. */
uint32_t svec_evacuate(struct svec *s, struct mbuf_pool *p, uint32_t from);

/* A position in an svec, for reading a message's bytes by their offset from its start (a redis
 * request's arguments). Offsets asked for in increasing order cost O(1) each. */
struct svec_cur {
    uint32_t i;    /* slice */
    uint64_t base; /* offset of slice i's first byte */
};

/* The len bytes at offset off of s when they lie in one slice (NULL otherwise, or when s holds
 * fewer). cur may be NULL. */
const uint8_t *svec_peek(const struct svec *s, uint64_t off, uint64_t len, struct svec_cur *cur);
/* Copies the len bytes at offset off of s to dst. Returns false when s holds fewer. */
bool svec_copy_out(const struct svec *s, uint64_t off, uint64_t len, uint8_t *dst,
                   struct svec_cur *cur);
/* Appends to dst the slices of src that hold its bytes [off, off + len), each taking a
 * reference (the bytes are shared, not copied). Returns 0, -ENOMEM, or -ERANGE. */
int svec_push_range(struct svec *dst, struct mbuf_pool *p, const struct svec *src, uint64_t off,
                    uint64_t len, struct svec_cur *cur);

struct client;
struct sconn;

/* Why a request got no reply from its server. */
enum msg_err {
    MSG_OK = 0,
    MSG_ERR_DOWN,
    MSG_ERR_TIMEOUT,
    MSG_ERR_CLOSED,
    MSG_ERR_PROTOCOL,
    MSG_ERR_NOMEM,
    MSG_ERR_EJECTED,
    MSG_ERR_NOFD,  /* the proxy ran out of descriptors: a local failure, not the server's */
    MSG_ERR_LOCAL, /* another local resource ran out (ports, ring entries) */
    MSG_ERR_AUTH,  /* redis: the server refused the proxy's AUTH or SELECT */
};

/* True for failures of the proxy's own resources, which are not counted against a server. */
static inline bool msg_err_is_local(enum msg_err e)
{
    return e == MSG_ERR_NOMEM || e == MSG_ERR_NOFD || e == MSG_ERR_LOCAL;
}

/* One item of a split retrieval: where the reply for a key is, in its fragment's reply. */
struct mget_item {
    struct msg *frag; /* fragment the key went to */
    uint32_t first;   /* slice range [first, last) in frag->rsp; first == last: a miss */
    uint32_t last;
};

/* A split multi-key retrieval: the parent's keys, in the client's order. */
struct mget {
    uint32_t nkeys;
    struct slice *keys;      /* each holds a buffer reference until the parent is freed (NULL
                              * for redis: its replies come by position, not by key) */
    struct mget_item *items; /* nkeys entries */
    /* gat, gats: the exptime token as the client wrote it (a copy: the line may move to spill
     * space, key by key, under pressure); explen 0 when it was longer than exp */
    uint8_t explen;
    uint8_t exp[23];
};

/* A zeroed mget for nkeys keys, its arrays in the same allocation (keys only when with_keys,
 * nkeys still 0: the caller counts the keys it references); NULL when out of memory. */
struct mget *mget_new(uint32_t nkeys, bool with_keys);

/* A request's life, in one place. Every transition, and who makes it:
 *
 *   RECEIVING   its command line is being read, or its data block (client_parse)
 *     -> QUEUED      a retrieval or keyed command's line, or a storage command whose data block
 *                    is whole, goes to its server (server_enqueue): only whole requests do
 *     -> SPLIT       a retrieval over several servers, or a broadcast: its fragments (QUEUED
 *                    themselves) go out; it waits for all of them (client_split, broadcast)
 *     -> SWALLOWING  the block of a value or key over the limits is read and discarded; the
 *                    error reply is ready
 *     -> ANSWERED    a local command (version, stats, quit) or a request line in error
 *   SWALLOWING -> ANSWERED   once the block is over
 *   QUEUED -> SENT           every byte of it has been handed to a send (sconn_flush)
 *   SENT -> ANSWERED         its reply is complete (sconn_reply_done), or, noreply, at once
 *   QUEUED, SENT -> ANSWERED its connection failed or timed out (sconn_fail): err says why
 *   SPLIT -> ANSWERED        its last fragment is ANSWERED (parent_complete)
 *
 * Who holds it: the client's queue while in_client (until the reply is handed to a send, or the
 * client goes), the server side while QUEUED, SENT or SPLIT (msg_server_held). It is freed when
 * neither does. A client takes a reply once it is ANSWERED (and streams one whose first line
 * has been checked before that); a noreply request once it is past SWALLOWING, and nothing is
 * ever sent back for it. */
enum msg_state { MS_RECEIVING = 0, MS_SWALLOWING, MS_QUEUED, MS_SENT, MS_SPLIT, MS_ANSWERED };
/* msg_reply_ready counts on this order: everything from QUEUED on is past the client's side */
_Static_assert(MS_RECEIVING < MS_QUEUED && MS_SWALLOWING < MS_QUEUED && MS_QUEUED < MS_SENT &&
                   MS_SENT < MS_SPLIT && MS_SPLIT < MS_ANSWERED,
               "msg_state order");

struct msg {
    struct msg *cnext;     /* next in the client's reply order */
    struct msg *snext;     /* next in the server connection's queue */
    struct msg *sprev;     /* previous in it (NULL at the head) */
    struct client *client; /* NULL once the client is gone (or for a fragment) */
    struct sconn *sconn;   /* server connection it is queued on, NULL otherwise */
    struct msg *parent;    /* fragment: the request it is part of */
    struct msg *frags;     /* parent: its fragments (linked by fnext) */
    struct msg *fnext;

    enum mc_cmd cmd;
    uint16_t rcmd; /* redis: enum rd_cmd */
    uint8_t setup; /* redis: the proxy's own AUTH (1) or SELECT (2) on a new server connection */
    bool rd_fail;  /* redis: the reply is an error that counts as the server's failure (-OOM,
                    * -BUSY, -LOADING, as nutcracker counts them) */
    uint8_t state; /* enum msg_state: where it is in its life */
    bool noreply;
    bool quiet;     /* a quiet meta request: the proxy's own MC_META_END follows it, and its
                     * reply is whatever the server sends before the VERSION (maybe nothing) */
    bool in_client; /* the client's queue still references it (until its reply is handed over) */
    bool is_frag;
    uint8_t err;      /* enum msg_err */
    uint8_t rsp_type; /* enum mc_rsp_type of the reply's first line */

    struct svec req;         /* request bytes not yet handed to a send to the server */
    struct svec rsp;         /* reply bytes not yet handed to a send to the client */
    uint32_t req_handed;     /* request slices already given to server sends: a send holds them */
    uint32_t rsp_handed;     /* reply slices already given to client sends: a send holds them */
    uint32_t frags_pending;  /* parent: fragments without a complete reply */
    uint32_t frag_keys_next; /* fragment: next of its keys a VALUE may match */
    uint32_t *frag_keys;     /* fragment: indices into parent->mg->keys, in order */
    uint32_t frag_nkeys;
    struct mget *mg;      /* parent of a split retrieval */
    uint8_t *owned;       /* bytes this message owns (a generated reply, a copied line) */
    int64_t ival;         /* redis: the reply's integer (a split DEL's parts are summed) */
    uint64_t t_queued;    /* monotonic ns when queued on a server (timeout) */
    uint64_t qbytes;      /* request bytes counted in its server's in/out queue gauges */
    uint64_t rsp_counted; /* reply bytes counted in its client's rsp_queued (fragments' too) */
    uint32_t nkeys;       /* retrieval: keys counted in its client's keys_queued */
    bool redis;           /* from a redis pool: its failures read "-ERR ..." */
    uint32_t server_idx;
    uint64_t route_seq; /* storage request, warm-up request: the view (health_view seq) its
                         * server indices are of */
    uint32_t key_off;   /* ... and where its key is in req, to route it again after a reload */
    uint32_t key_len;
    bool key_b64; /* ... which is base64 (a meta set with the b flag) */
    /* a request of a route pool (src/route.c): its fragments go to the route's pools */
    bool routed;
    bool route_split;     /* a replicate route's multi-key get: missed keys go to the next pool */
    bool route_write;     /* replicated: one fragment per pool at once */
    uint8_t route_tried;  /* pools tried so far (a read or a failover: one at a time) */
    uint8_t route_first;  /* the pool tried first (a read's `read:` choice) */
    uint8_t route_target; /* fragment: which of the route's pools it went to */
    /* resharding warm-up (src/route.c): a get that misses on the key's server is read from the
     * server the previous ring gave it; a write there deletes that old copy */
    bool warm;
    bool warm_write;
    bool warm_stored;    /* a storage request to send as a warm write once its block is whole */
    bool warm_split;     /* a split get of a warming pool: missed keys are looked up again */
    uint8_t warm_round;  /* ... 1: that lookup was made (once), 2: the hits of a gets gat gats
                          * were copied and asked again of their new servers */
    uint8_t warm_stage;  /* 0 asking the new server, 1 the old one, 2 the new one again after
                          * the copy (a fragment: what it carries) */
    uint32_t route_pool; /* fragment: its route pool's index in the configuration */
    uint32_t warm_old;   /* the old server's index (in the pool now) */
    uint32_t warm_new;   /* the key's server */
};

/* A memcached request's reply is a failure: the proxy's own error, or an error line from the
 * server (ERROR, CLIENT_ERROR, SERVER_ERROR), or no memcached reply at all. */
static inline bool msg_mc_failed(const struct msg *m)
{
    return m->err != MSG_OK || m->rsp_type == MC_RSP_ERROR || m->rsp_type == MC_RSP_INVALID;
}

/* A string literal as (text, length) arguments. */
#define LIT(s) (s), (uint32_t)(sizeof(s) - 1)

/* A fragment of a split retrieval: its VALUE lines are matched to its parent's keys (not a
 * fragment that carries a whole request: a route's, a warm-up's, a broadcast's). */
static inline bool msg_split_frag(const struct msg *m)
{
    return m->is_frag && m->parent != NULL && m->parent->mg != NULL && m->warm_stage == 0;
}

/* A fragment that carries a whole request (a route's, a warm-up's), not a part of a split
 * one: its reply is that of the request as it is. */
static inline bool msg_whole_frag(const struct msg *m)
{
    return m->is_frag && (m->parent == NULL || m->parent->routed || m->parent->warm);
}

/* Whose client a reply of m is for: the request m is a part of, through every level (a route's
 * fragment warmed up on its pool has fragments of its own); m itself, with no client, for a
 * route's fragment that outlived its parent. */
static inline struct msg *msg_top(struct msg *m)
{
    while (m->is_frag && m->parent != NULL)
        m = m->parent;
    return m;
}

/* The server side (a connection's queue, or pending fragments) holds m. */
static inline bool msg_server_held(const struct msg *m)
{
    return m->state == MS_QUEUED || m->state == MS_SENT || m->state == MS_SPLIT;
}

/* The client may take m off its queue: its reply is complete (or, noreply, there is none to
 * wait for). */
static inline bool msg_reply_ready(const struct msg *m)
{
    return m->state == MS_ANSWERED || (m->noreply && m->state >= MS_QUEUED);
}

struct msg_pool {
    struct msg *free;
    uint32_t nfree;
    uint64_t live; /* messages in use */
};

struct msg *msg_get(struct msg_pool *mp);
/* Releases everything the message holds (slices not yet handed to a send) (slices, owned bytes,
 * split state) and recycles it. */
void msg_put(struct msg_pool *mp, struct mbuf_pool *p, struct msg *m);
void msg_pool_destroy(struct msg_pool *mp);

/* Moves every arena slice of m that waits (request and reply bytes not yet handed to a send,
 * a split request's keys, its fragments') to spill space. Returns the slices moved. */
uint32_t msg_evacuate(struct msg *m, struct mbuf_pool *p);

#endif

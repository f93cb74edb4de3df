/* Routes over pools: a listening pool whose `route:` names other pools (replicate, failover)
 * sends each request to those pools' servers instead of servers of its own. */
#ifndef RP_ROUTE_H
#define RP_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "src/msg.h"
#include "src/worker.h"

struct client;

/* True when c's pool is a route. */
bool route_is(const struct pool_rt *pool);

/* The pool a read (a retrieval, mg) of a route pool goes to first: the first target, a random
 * one, or the first written (`local`). */
struct pool_rt *route_read_pool(struct worker *w, const struct pool_rt *pool, uint32_t *target);

/* Sends m, a whole request of c's route pool with a single key (its offset and length in
 * m->req in m->key_off / key_len, key_b64 set when base64), to the route's pools: a replicated
 * write to every pool at once, anything else to one pool at a time, on to the next on a failure
 * (or a miss, where the route says so). m->req keeps the request until m is answered. */
void route_start(struct worker *w, struct client *c, struct msg *m, bool write);

/* The server side is done with fragment f of routed request p. */
void route_frag_done(struct worker *w, struct msg *p, struct msg *f);

/* Resharding warm-up, for m of a memcached pool whose key's server (dest) is not the one the
 * previous ring gave it (old, maybe a ghost: a removed server kept for the window): a
 * single-key read (get gets gat gats, mg) asks dest, then on a miss old (mg ... v f t). A hit
 * there is copied to dest (an add); a get is answered with it, any other read is asked of
 * dest again right behind the copy (its cas, its flags' answer). A write goes to dest and
 * deletes the key on old; the answer (dest's) waits for both. m's key is at key_off / key_len
 * in m->req. */
void warm_get(struct worker *w, struct msg *m, struct pool_rt *pool, uint32_t dest, uint32_t old);
void warm_write(struct worker *w, struct msg *m, struct pool_rt *pool, uint32_t dest, uint32_t old);
/* A split `get` of a warming pool whose answers are in: its missed keys whose server changed
 * are looked up on their old servers (mg v f t), each in a fragment of its own. Returns true
 * when such a round is under way. */
bool warm_split_round(struct worker *w, struct msg *p);
/* A round of p's is over. After the lookups: for a get, each hit becomes its key's VALUE for
 * the merge (and is copied to its new server); for gets gat gats, each hit is copied and its
 * key asked again of the new server right behind the copy (true: such requests were queued).
 * After those: each answer that is a hit becomes its key's VALUE. Misses and failures go. */
bool warm_split_collect(struct worker *w, struct msg *p);
/* The server side is done with fragment f of warm-up request p. */
void warm_frag_done(struct worker *w, struct msg *p, struct msg *f);

/* A fragment of a replicated write that finished after its request was answered
 * (writes: one): counted, and freed. */
void route_orphan_done(struct worker *w, struct msg *f);

#endif

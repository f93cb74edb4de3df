/* Key distribution over a pool's servers: ketama, modula and random, as twemproxy 0.5.0
 * builds and searches them, plus hash_tag extraction. */
#ifndef RP_HASH_DIST_H
#define RP_HASH_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash/hash.h"

enum dist_type { DIST_KETAMA, DIST_MODULA, DIST_RANDOM, DIST_COUNT };

/* Looks up a distribution by its nutcracker.yml name; returns -1 if unknown. */
int dist_from_name(const char *name, size_t len);
const char *dist_name(enum dist_type type);

/* What the distribution needs to know of one server, in configuration order. */
struct dist_server {
    const char *ring_name; /* name hashed onto the ketama ring: the explicit server name if
                            * given, else "host:port", or just "host" when port is 11211 */
    size_t ring_name_len;
    uint32_t weight;
    bool live; /* false: ejected, left out when the ring is built */
};

struct dist_point {
    uint32_t value; /* position on the ring (ketama) */
    uint32_t index; /* index of the server in the dist_server array */
};

/* A built distribution. Owns its points array; immutable once built, so it can be shared. */
struct dist {
    enum dist_type type;
    struct dist_point *points;
    uint32_t npoints;
    /* ketama: where to start looking for a hash, by its top bucket_bits bits: bucket[b] is the
     * first point whose value is at least b's lowest hash, so a lookup is one table read and a
     * step or two along the ring (at least as many buckets as points), not a binary search's
     * dozen unpredictable branches. NULL: a binary search (the table could not be had). */
    uint32_t *bucket;
    uint32_t bucket_bits;
    uint32_t nservers; /* servers given to dist_build, live or not */
    uint32_t nlive;    /* servers that were live when built */
};

/* Builds d over servers[0..n) (only live ones get points). Returns 0, or -1 on allocation
 * failure (d is then empty). Any previous contents of d are not freed; servers is not kept.
 * Like twemproxy, the ring is laid out with the servers sorted by ring name (shorter first,
 * then bytewise), which is what decides modula placement; indices returned by dist_pick and
 * dist_route are still into servers[] as given. */
int dist_build(struct dist *d, enum dist_type type, const struct dist_server *servers, uint32_t n);

/* Server index for a key hash. Returns UINT32_MAX when no server is live. For DIST_RANDOM
 * the hash is ignored and a random live server is returned. */
uint32_t dist_pick(const struct dist *d, uint32_t hash);

void dist_free(struct dist *d);

/* If tag (two characters) is set and key contains tag[0] followed later by tag[1] with at least
 * one byte between them, narrows *key and *len to the bytes between; else leaves them unchanged.
 * twemproxy's rule exactly. */
void dist_apply_hash_tag(const char tag[2], const char **key, size_t *len);

/* Server index for a key, the way twemproxy 0.5.0's server_pool_idx picks it: a pool of one
 * server always gets 0; otherwise the key is narrowed by the hash tag (tag NULL or both bytes
 * zero: none), hashed with h (an empty key hashes to 0), and placed by d. Returns UINT32_MAX
 * when no server is live. key may be NULL when len is 0. Pure except for DIST_RANDOM, which
 * draws from random() as twemproxy does. */
uint32_t dist_route(const struct dist *d, enum hash_type h, const char tag[2], const char *key,
                    size_t len);

/* Points a ketama ring gives a live server of weight `weight` out of `total_weight` over
 * `nlive` live servers, computed in single precision exactly as twemproxy does (always a
 * multiple of 4; 160 when all weights are equal). */
uint32_t dist_ketama_points(uint32_t weight, uint32_t total_weight, uint32_t nlive);

#endif

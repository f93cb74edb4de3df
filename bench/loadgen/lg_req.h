/* Request encoders of the load generator: memcached text get/multi-get/set and RESP
 * GET/MGET/SET, written straight into a caller's buffer. Pure: no allocation, no I/O. */
#ifndef LG_REQ_H
#define LG_REQ_H

#include <stddef.h>
#include <stdint.h>

enum lg_proto {
    LG_PROTO_MC,    /* memcached text protocol */
    LG_PROTO_REDIS, /* RESP2 */
    LG_PROTO_META,  /* memcached meta commands: mg k v; a read of n > 1 keys is n quiet
                     * "mg k v q" and an mn; ms k n T0 */
};

/* memcached's protocols, text and meta, share one reply parser (lg_mcrep.h). */
static inline int lg_proto_memcached(enum lg_proto p)
{
    return p != LG_PROTO_REDIS;
}

/* Key names are "<prefix><index>", the index zero-padded to 8 digits ("key:%08u"). */
struct lg_keyfmt {
    const char *prefix;
    size_t prefix_len;
};

#define LG_KEY_DIGITS_MAX 10 /* a uint32_t index */

/* Writes the name of key idx to dst (room for prefix_len + LG_KEY_DIGITS_MAX bytes); returns
 * its length. */
size_t lg_key_format(char *dst, const struct lg_keyfmt *kf, uint32_t idx);

/* Upper bound of the bytes one request can take: a read of `width` keys or a write of a
 * vlen-byte value. */
size_t lg_req_max(enum lg_proto proto, const struct lg_keyfmt *kf, uint32_t width, size_t vlen);

/* A read of n keys (n >= 1): "get k1 .. kn", GET / MGET, or meta gets. Returns the bytes
 * written. */
size_t lg_req_get(char *dst, enum lg_proto proto, const struct lg_keyfmt *kf, const uint32_t *keys,
                  uint32_t n);

/* A write of one key: "set k 0 0 vlen" + value, or SET. Returns the bytes written. */
size_t lg_req_set(char *dst, enum lg_proto proto, const struct lg_keyfmt *kf, uint32_t key,
                  const char *val, size_t vlen);

#endif

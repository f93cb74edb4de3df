/* One send in flight on a socket: the iovecs it carries and the buffer references it holds
 * until the kernel has taken every byte (short sends are resumed from where they stopped). */
#ifndef RP_SENDREC_H
#define RP_SENDREC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "src/mbuf.h"

#define SENDREC_MAX_IOV 1024 /* IOV_MAX on Linux */

struct sendrec {
    struct msghdr mh;
    struct iovec *iov; /* SENDREC_MAX_IOV entries */
    uint32_t *bufs;    /* buffer ids whose references this send holds */
    uint32_t niov;     /* iovecs filled */
    uint32_t first;    /* first iovec not yet fully sent */
    uint32_t nbufs;
    void *owned[64]; /* heap blocks the iovecs point into, freed with the send */
    uint32_t nowned;
    uint64_t bytes; /* bytes in the filled iovecs */
    bool busy;      /* submitted, completion pending */
};

/* Per-worker cache of sendrec arrays, so that idle connections hold none. */
struct sendrec_cache {
    struct sendrec *free[64];
    uint32_t n;
};

struct sendrec *sendrec_take(struct sendrec_cache *c);
void sendrec_give(struct sendrec_cache *c, struct sendrec *s);
void sendrec_cache_destroy(struct sendrec_cache *c);

static inline bool sendrec_full(const struct sendrec *s)
{
    return s->niov == SENDREC_MAX_IOV;
}

/* Adds a slice whose buffer reference the send takes over (the caller drops its own claim
 * without mbuf_put). Returns false when the iovec array is full. */
bool sendrec_add(struct sendrec *s, const struct slice *sl);

/* Takes over a heap block the send's iovecs point into (freed when the send is done).
 * Returns false when there is no room: send what is gathered first. */
bool sendrec_own(struct sendrec *s, void *block);

static inline bool sendrec_can_own(const struct sendrec *s)
{
    return s->nowned < sizeof(s->owned) / sizeof(s->owned[0]);
}

/* Prepares mh for the (remaining) iovecs. */
struct msghdr *sendrec_msghdr(struct sendrec *s);

/* A send completed with res > 0 bytes. Returns true when everything was sent (then every
 * buffer reference is dropped and s is empty), false when the rest must be submitted again. */
bool sendrec_complete(struct sendrec *s, struct mbuf_pool *p, uint32_t res);

/* Drops every reference and empties s (the connection failed). */
void sendrec_reset(struct sendrec *s, struct mbuf_pool *p);

#endif

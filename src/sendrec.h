/* One send in flight on a socket: the iovecs it carries and the buffer references it holds
 * until the kernel has taken every byte (short sends are resumed from where they stopped).
 *
 * A zero-copy send (worker_send, above the ringproxy: zero_copy_min key) hands the kernel the
 * pages themselves, so the references are held past the send's result, until the kernel's
 * notification for every submission of the record has come. Such a record is the owner of its
 * submissions (o, type OWNER_SENDREC): the result goes on to the connection (peer), the
 * notifications come back to the record, which the connection gives up when it is done with it
 * and which is then emptied when the last notification arrives, even after the connection is
 * gone. */
#ifndef RP_SENDREC_H
#define RP_SENDREC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "src/mbuf.h"
#include "src/owner.h"

#define SENDREC_MAX_IOV 1024 /* IOV_MAX on Linux */

struct sendrec {
    struct owner o;     /* a zero-copy send's owner: o.pending counts its notifications to come */
    struct owner *peer; /* the connection whose bytes these are; NULL once it has let go */
    struct sendrec *znext, *zprev; /* the worker's records waiting only for notifications */
    bool zc;              /* submitted zero-copy: buffers are held until every notification */
    uint32_t outside;     /* iovecs not in the arena (heap, spill): no fixed-buffer send */
    uint32_t arena_count; /* buffer ids below this are arena buffers (the registered region) */
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
    uint32_t arena_count; /* the arena's buffer count, copied into every record */
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

/* A send completed with res > 0 bytes. Returns true when everything was sent (the references
 * are still held: the caller releases the record, worker_send_release), false when the rest
 * must be submitted again. */
bool sendrec_advance(struct sendrec *s, uint32_t res);

/* Drops every reference and frees the owned blocks: s is empty and may be reused. */
void sendrec_reset(struct sendrec *s, struct mbuf_pool *p);

static inline bool sendrec_busy_zc(const struct sendrec *s)
{
    return s->zc && s->o.pending > 0;
}

#endif

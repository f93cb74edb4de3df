/* The worker's buffer arena: fixed-size receive buffers (the mbufs) and slices into them.
 *
 * Ownership of one buffer, step by step:
 *   1. The engine lends it to the kernel (provided-buffer ring, or the epoll engine's free list).
 *   2. A receive completes into it: the engine hands it to the core with one reference, held by
 *      the connection while the bytes are parsed.
 *   3. Every request or response slice that points into it takes a reference (mbuf_get).
 *   4. A slice's reference is dropped when the send that carries it has completed, or when its
 *      message is discarded; the connection drops its own once the buffer is parsed.
 *   5. At zero references the buffer goes back to the engine (step 1).
 * A debug build checks that references never go below zero and that returned ids are valid. */
#ifndef RP_MBUF_H
#define RP_MBUF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MBUF_NONE UINT32_MAX       /* slice of bytes the proxy invented (static strings) */
#define MBUF_COPY (UINT32_MAX - 1) /* slice of bytes a message owns, copied from the stream */
/* ids >= MBUF_COPY are not arena buffers: no reference counting */

struct io_engine;

/* Spill buffers: when the arena runs short (mbuf_pressure), bytes that would otherwise pin an
 * arena buffer while they wait (a reply queued behind a slower one, a request behind a stalled
 * server) are copied into heap buffers of the same size, with ids count .. count + spill_max - 1
 * and the same reference counting. The arena buffer then goes straight back to the kernel, so a
 * few blocked requests can never starve every connection of receive buffers. Copies are a
 * deliberate trade (counted as bytes_copied): zero copy while there is room, progress always. */
struct mbuf_pool {
    uint8_t *arena;           /* count * size bytes, page aligned */
    uint32_t size;            /* bytes per buffer */
    uint32_t count;           /* buffers in the arena */
    uint32_t *refs;           /* references per buffer, arena then spill; 0 = lent out / free */
    uint32_t held;            /* arena buffers with refs > 0 */
    struct io_engine *engine; /* where buffers go back to */
    uint8_t **spill;          /* spill_max heap buffers, allocated on demand */
    uint32_t spill_max;
    uint32_t *spill_free; /* free spill ids (relative), a stack */
    uint32_t nspill_free;
    uint32_t spill_cur;    /* spill id being filled (absolute), or MBUF_NONE */
    uint32_t spill_used;   /* bytes of it in use */
    uint32_t spill_live;   /* spill buffers with references */
    uint32_t spill_cached; /* free spill ids whose memory is kept (at most 8) */
    bool spill_failed;     /* the last attempt to spill found no room (or no memory) */
    uint32_t spill_allocs; /* spill buffers malloc'd since the owner last gave memory back */
};

/* A borrowed range of bytes: in an arena buffer (buf = its id) or elsewhere (buf = MBUF_NONE). */
struct slice {
    const uint8_t *ptr;
    uint32_t len;
    uint32_t buf;
};

/* Allocates the arena (not yet lent to anybody) and room for spill_max spill buffers.
 * Returns 0 or -errno. */
int mbuf_pool_init(struct mbuf_pool *p, uint32_t size, uint32_t count, uint32_t spill_max);
void mbuf_pool_free(struct mbuf_pool *p);

static inline uint8_t *mbuf_data(const struct mbuf_pool *p, uint32_t id)
{
    if (id < p->count)
        return p->arena + (uint64_t)id * p->size;
    return p->spill[id - p->count];
}

/* True when so few arena buffers are left that waiting bytes should be copied out. */
static inline bool mbuf_pressure(const struct mbuf_pool *p)
{
    return p->held >= p->count - p->count / 8;
}

/* True when spill space is used up: waiting bytes have nowhere to go but the arena. */
static inline bool mbuf_spill_exhausted(const struct mbuf_pool *p)
{
    return p->spill_failed;
}

/* Copies up to len bytes of src into spill space. On success returns the bytes copied (> 0,
 * possibly fewer than len: call again for the rest), with *dst and *id naming where they are and
 * one reference on *id taken for the caller. Returns 0 (and takes nothing) when no spill space
 * is left or len is 0. */
uint32_t mbuf_spill(struct mbuf_pool *p, const uint8_t *src, uint32_t len, const uint8_t **dst,
                    uint32_t *id);

/* Like mbuf_spill, but all len bytes (len <= size) land contiguously, in a fresh spill buffer
 * when the current one has no room for them. Returns len, or 0 when no spill space is left. */
uint32_t mbuf_spill_whole(struct mbuf_pool *p, const uint8_t *src, uint32_t len,
                          const uint8_t **dst, uint32_t *id);

/* Stops filling the current spill buffer (drops the filler's reference), so that it is released
 * as soon as its slices are: called when spilling pauses, lest one buffer stay live forever. */
void mbuf_spill_seal(struct mbuf_pool *p);

/* Takes one reference on buffer id (no-op for ids >= MBUF_COPY). */
void mbuf_get(struct mbuf_pool *p, uint32_t id);

/* Drops one reference; at zero the buffer goes back to the engine. No-op for ids >= MBUF_COPY. */
void mbuf_put(struct mbuf_pool *p, uint32_t id);

/* The engine received into buffer id: the core now holds it with one reference. */
void mbuf_received(struct mbuf_pool *p, uint32_t id);

#endif

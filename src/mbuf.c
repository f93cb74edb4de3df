/* The buffer arena and its reference counts (see mbuf.h for the ownership rules). */
#include "src/mbuf.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "src/io.h"
#include "src/log.h"

int mbuf_pool_init(struct mbuf_pool *p, uint32_t size, uint32_t count, uint32_t spill_max)
{
    memset(p, 0, sizeof(*p));
    size_t bytes = (size_t)size * count;
    void *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return -errno;
    p->refs = calloc((size_t)count + spill_max, sizeof(*p->refs));
    p->spill = calloc(spill_max ? spill_max : 1, sizeof(*p->spill));
    p->spill_free = calloc(spill_max ? spill_max : 1, sizeof(*p->spill_free));
    if (p->refs == NULL || p->spill == NULL || p->spill_free == NULL) {
        free(p->refs);
        free(p->spill);
        free(p->spill_free);
        munmap(a, bytes);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < spill_max; i++)
        p->spill_free[i] = spill_max - 1 - i;
    p->nspill_free = spill_max;
    p->spill_max = spill_max;
    p->spill_cur = MBUF_NONE;
    p->arena = a;
    p->size = size;
    p->count = count;
    return 0;
}

void mbuf_pool_free(struct mbuf_pool *p)
{
    if (p->arena != NULL)
        munmap(p->arena, (size_t)p->size * p->count);
    for (uint32_t i = 0; i < p->spill_max; i++)
        free(p->spill[i]);
    free(p->spill);
    free(p->spill_free);
    free(p->refs);
    memset(p, 0, sizeof(*p));
}

/* A spill buffer nobody references any more: back on the free stack. The memory of up to 8 free
 * ones is kept for the next spill; beyond that it is freed, so a burst of spilling does not
 * stay resident. */
static void mbuf_spill_release(struct mbuf_pool *p, uint32_t id)
{
    uint32_t rel = id - p->count;
    p->spill_live--;
    p->spill_failed = false; /* room again */
    if (p->spill_cached >= 8) {
        free(p->spill[rel]);
        p->spill[rel] = NULL;
    } else {
        p->spill_cached++; /* on top of the free stack: the next spill takes it first */
    }
    p->spill_free[p->nspill_free++] = rel;
}

uint32_t mbuf_spill(struct mbuf_pool *p, const uint8_t *src, uint32_t len, const uint8_t **dst,
                    uint32_t *id)
{
    if (len == 0)
        return 0;
    if (p->spill_cur == MBUF_NONE || p->spill_used == p->size) {
        if (p->spill_cur != MBUF_NONE) {
            /* full: drop the filler's own reference */
            uint32_t old = p->spill_cur;
            p->spill_cur = MBUF_NONE;
            if (--p->refs[old] == 0)
                mbuf_spill_release(p, old);
        }
        if (p->nspill_free == 0) {
            p->spill_failed = true;
            return 0;
        }
        uint32_t rel = p->spill_free[p->nspill_free - 1];
        if (p->spill[rel] != NULL) {
            p->spill_cached--;
        } else if ((p->spill[rel] = malloc(p->size)) == NULL) {
            p->spill_failed = true;
            return 0;
        } else {
            p->spill_allocs++;
        }
        p->nspill_free--;
        p->spill_cur = p->count + rel;
        p->spill_used = 0;
        p->refs[p->spill_cur] = 1; /* the filler's reference */
        p->spill_live++;
    }
    uint32_t n = p->size - p->spill_used;
    if (n > len)
        n = len;
    uint8_t *d = p->spill[p->spill_cur - p->count] + p->spill_used;
    memcpy(d, src, n);
    p->spill_failed = false;
    p->spill_used += n;
    p->refs[p->spill_cur]++;
    *dst = d;
    *id = p->spill_cur;
    return n;
}

void mbuf_spill_seal(struct mbuf_pool *p)
{
    if (p->spill_cur == MBUF_NONE)
        return;
    uint32_t old = p->spill_cur;
    p->spill_cur = MBUF_NONE;
    if (--p->refs[old] == 0)
        mbuf_spill_release(p, old);
}

uint32_t mbuf_spill_whole(struct mbuf_pool *p, const uint8_t *src, uint32_t len,
                          const uint8_t **dst, uint32_t *id)
{
    if (len == 0 || len > p->size)
        return 0;
    if (p->spill_cur != MBUF_NONE && p->size - p->spill_used < len)
        mbuf_spill_seal(p); /* too little room left in the one being filled */
    return mbuf_spill(p, src, len, dst, id) == len ? len : 0;
}

void mbuf_received(struct mbuf_pool *p, uint32_t id)
{
    assert(id < p->count);
    if (p->refs[id] != 0)
        log_panic("mbuf %u received while still referenced (%u)", id, p->refs[id]);
    p->refs[id] = 1;
    p->held++;
}

void mbuf_get(struct mbuf_pool *p, uint32_t id)
{
    if (id >= MBUF_COPY)
        return;
    assert(id < p->count + p->spill_max && p->refs[id] > 0);
    p->refs[id]++;
}

void mbuf_put(struct mbuf_pool *p, uint32_t id)
{
    if (id >= MBUF_COPY)
        return;
    assert(id < p->count + p->spill_max);
    if (p->refs[id] == 0)
        log_panic("mbuf %u released more often than referenced", id);
    if (--p->refs[id] == 0) {
        if (id >= p->count) {
            mbuf_spill_release(p, id);
            return;
        }
        p->held--;
        if (p->engine != NULL) /* NULL once the engine is gone (shutdown) */
            p->engine->ops->buf_return(p->engine, id);
    }
}

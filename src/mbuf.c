/* The buffer arena and its reference counts (see mbuf.h for the ownership rules). */
#include "src/mbuf.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "src/io.h"
#include "src/log.h"

int mbuf_pool_init(struct mbuf_pool *p, uint32_t size, uint32_t count)
{
    memset(p, 0, sizeof(*p));
    size_t bytes = (size_t)size * count;
    void *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return -errno;
    p->refs = calloc(count, sizeof(*p->refs));
    if (p->refs == NULL) {
        munmap(a, bytes);
        return -ENOMEM;
    }
    p->arena = a;
    p->size = size;
    p->count = count;
    return 0;
}

void mbuf_pool_free(struct mbuf_pool *p)
{
    if (p->arena != NULL)
        munmap(p->arena, (size_t)p->size * p->count);
    free(p->refs);
    memset(p, 0, sizeof(*p));
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
    assert(id < p->count && p->refs[id] > 0);
    p->refs[id]++;
}

void mbuf_put(struct mbuf_pool *p, uint32_t id)
{
    if (id >= MBUF_COPY)
        return;
    assert(id < p->count);
    if (p->refs[id] == 0)
        log_panic("mbuf %u released more often than referenced", id);
    if (--p->refs[id] == 0) {
        p->held--;
        p->engine->ops->buf_return(p->engine, id);
    }
}

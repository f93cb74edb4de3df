/* Send records: gather slices into one sendmsg, resume short sends, release buffers. */
#include "src/sendrec.h"

#include <stdlib.h>
#include <string.h>

struct sendrec *sendrec_take(struct sendrec_cache *c)
{
    if (c->n > 0)
        return c->free[--c->n];
    struct sendrec *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->o.type = OWNER_SENDREC;
    s->o.fd = -1;
    s->arena_count = c->arena_count;
    s->iov = malloc(SENDREC_MAX_IOV * sizeof(*s->iov));
    s->bufs = malloc(SENDREC_MAX_IOV * sizeof(*s->bufs));
    if (s->iov == NULL || s->bufs == NULL) {
        free(s->iov);
        free(s->bufs);
        free(s);
        return NULL;
    }
    return s;
}

static void sendrec_destroy(struct sendrec *s)
{
    free(s->iov);
    free(s->bufs);
    free(s);
}

void sendrec_give(struct sendrec_cache *c, struct sendrec *s)
{
    if (c->n < sizeof(c->free) / sizeof(c->free[0]))
        c->free[c->n++] = s;
    else
        sendrec_destroy(s);
}

void sendrec_cache_destroy(struct sendrec_cache *c)
{
    while (c->n > 0)
        sendrec_destroy(c->free[--c->n]);
}

bool sendrec_add(struct sendrec *s, const struct slice *sl)
{
    if (s->niov == SENDREC_MAX_IOV)
        return false;
    s->iov[s->niov].iov_base = (void *)sl->ptr;
    s->iov[s->niov].iov_len = sl->len;
    s->niov++;
    s->bytes += sl->len;
    if (sl->buf != MBUF_NONE)
        s->bufs[s->nbufs++] = sl->buf;
    if (sl->buf >= s->arena_count)
        s->outside++;
    return true;
}

bool sendrec_own(struct sendrec *s, void *block)
{
    if (s->nowned == sizeof(s->owned) / sizeof(s->owned[0]))
        return false;
    s->owned[s->nowned++] = block;
    return true;
}

struct msghdr *sendrec_msghdr(struct sendrec *s)
{
    memset(&s->mh, 0, sizeof(s->mh));
    s->mh.msg_iov = &s->iov[s->first];
    s->mh.msg_iovlen = s->niov - s->first;
    return &s->mh;
}

void sendrec_reset(struct sendrec *s, struct mbuf_pool *p)
{
    for (uint32_t i = 0; i < s->nbufs; i++)
        mbuf_put(p, s->bufs[i]);
    for (uint32_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    s->nowned = 0;
    s->niov = s->first = s->nbufs = 0;
    s->bytes = 0;
    s->outside = 0;
    s->busy = false;
    s->zc = false;
    s->peer = NULL;
}

bool sendrec_advance(struct sendrec *s, uint32_t res)
{
    s->busy = false;
    while (res > 0 && s->first < s->niov) {
        struct iovec *v = &s->iov[s->first];
        if (res >= v->iov_len) {
            res -= (uint32_t)v->iov_len;
            s->first++;
        } else {
            v->iov_base = (uint8_t *)v->iov_base + res;
            v->iov_len -= res;
            res = 0;
        }
    }
    /* skip empty iovecs so a resumed send never starts with nothing */
    while (s->first < s->niov && s->iov[s->first].iov_len == 0)
        s->first++;
    return s->first == s->niov;
}

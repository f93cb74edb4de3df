/* Slice vectors and the message pool. */
#include "src/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/log.h"

void svec_init(struct svec *s)
{
    s->v = s->inl;
    s->n = 0;
    s->sealed = 0;
    s->cap = sizeof(s->inl) / sizeof(s->inl[0]);
}

int svec_reserve(struct svec *s, uint32_t n)
{
    if (n <= s->cap)
        return 0;
    struct slice *v;
    if (s->v == s->inl) {
        v = malloc(n * sizeof(*v));
        if (v != NULL)
            memcpy(v, s->inl, sizeof(s->inl));
    } else {
        v = realloc(s->v, n * sizeof(*v));
    }
    if (v == NULL)
        return -ENOMEM;
    s->v = v;
    s->cap = n;
    return 0;
}

/* True when [ptr, ptr + len) of buf continues s's last slice, which may still grow. */
static inline bool svec_continues(const struct svec *s, const uint8_t *ptr, uint32_t buf)
{
    if (s->n <= s->sealed)
        return false;
    const struct slice *last = &s->v[s->n - 1];
    return last->buf == buf && last->ptr + last->len == ptr;
}

static int svec_append(struct svec *s, struct mbuf_pool *p, const uint8_t *ptr, uint32_t len,
                       uint32_t buf, bool merge)
{
    if (len == 0)
        return 0;
    if (merge && svec_continues(s, ptr, buf)) {
        s->v[s->n - 1].len += len;
        return 0;
    }
    if (s->n == s->cap && svec_reserve(s, s->cap * 2) < 0)
        return -ENOMEM;
    s->v[s->n++] = (struct slice){.ptr = ptr, .len = len, .buf = buf};
    mbuf_get(p, buf);
    return 0;
}

int svec_move(struct svec *dst, struct mbuf_pool *p, struct svec *src, uint32_t first,
              uint32_t last)
{
    for (uint32_t i = first; i < last; i++) {
        struct slice *sl = &src->v[i];
        if (sl->len == 0)
            continue;
        if (svec_continues(dst, sl->ptr, sl->buf)) {
            dst->v[dst->n - 1].len += sl->len;
            mbuf_put(p, sl->buf); /* one slice, one reference */
        } else {
            if (dst->n == dst->cap && svec_reserve(dst, dst->cap * 2) < 0)
                return -ENOMEM;
            dst->v[dst->n++] = *sl;
        }
        sl->buf = MBUF_NONE;
    }
    return 0;
}

int svec_push(struct svec *s, struct mbuf_pool *p, const uint8_t *ptr, uint32_t len, uint32_t buf)
{
    return svec_append(s, p, ptr, len, buf, true);
}

int svec_push_apart(struct svec *s, struct mbuf_pool *p, const uint8_t *ptr, uint32_t len,
                    uint32_t buf)
{
    return svec_append(s, p, ptr, len, buf, false);
}

uint32_t svec_push_wait(struct svec *s, struct mbuf_pool *p, const uint8_t *ptr, uint32_t len,
                        uint32_t buf, bool apart)
{
    uint32_t done = 0;
    if (buf < p->count && mbuf_pressure(p)) {
        while (done < len) {
            const uint8_t *d;
            uint32_t id;
            uint32_t n = mbuf_spill(p, ptr + done, len - done, &d, &id);
            if (n == 0)
                break; /* no spill space left: the rest stays where it is */
            if (svec_append(s, p, d, n, id, !apart) < 0) {
                mbuf_put(p, id);
                return done;
            }
            mbuf_put(p, id); /* the slice holds its own reference now */
            done += n;
            apart = false; /* pieces of one chunk may merge with each other */
        }
        if (done == len)
            return done;
    }
    svec_append(s, p, ptr + done, len - done, buf, !apart);
    return done;
}

void svec_release(struct svec *s, struct mbuf_pool *p)
{
    for (uint32_t i = 0; i < s->n; i++)
        mbuf_put(p, s->v[i].buf);
    if (s->v != s->inl)
        free(s->v);
    svec_init(s);
}

void svec_release_from(struct svec *s, struct mbuf_pool *p, uint32_t from)
{
    for (uint32_t i = from; i < s->n; i++)
        mbuf_put(p, s->v[i].buf);
    if (s->v != s->inl)
        free(s->v);
    svec_init(s);
}

void svec_truncate(struct svec *s, struct mbuf_pool *p, uint32_t keep)
{
    if (keep >= s->n)
        return;
    if (keep < s->sealed)
        log_panic("svec_truncate: slice %u was handed to a send", keep);
    for (uint32_t i = keep; i < s->n; i++)
        mbuf_put(p, s->v[i].buf);
    s->n = keep;
}

void svec_forget(struct svec *s)
{
    if (s->v != s->inl)
        free(s->v);
    svec_init(s);
}

uint64_t svec_bytes(const struct svec *s)
{
    uint64_t b = 0;
    for (uint32_t i = 0; i < s->n; i++)
        b += s->v[i].len;
    return b;
}

/* Finds the slice holding byte off: its index, with cur->base its first byte's offset.
 * Returns s->n when off is past the end. */
static uint32_t svec_locate(const struct svec *s, uint64_t off, struct svec_cur *cur)
{
    struct svec_cur local = {0, 0};
    if (cur == NULL)
        cur = &local;
    if (cur->i > s->n || off < cur->base)
        *cur = (struct svec_cur){0, 0};
    while (cur->i < s->n && off >= cur->base + s->v[cur->i].len) {
        cur->base += s->v[cur->i].len;
        cur->i++;
    }
    return cur->i;
}

const uint8_t *svec_peek(const struct svec *s, uint64_t off, uint64_t len, struct svec_cur *cur)
{
    struct svec_cur local = {0, 0};
    if (cur == NULL)
        cur = &local;
    uint32_t i = svec_locate(s, off, cur);
    if (i == s->n)
        return len == 0 ? (const uint8_t *)"" : NULL;
    if (off + len > cur->base + s->v[i].len)
        return NULL;
    return s->v[i].ptr + (off - cur->base);
}

bool svec_copy_out(const struct svec *s, uint64_t off, uint64_t len, uint8_t *dst,
                   struct svec_cur *cur)
{
    struct svec_cur local = {0, 0};
    if (cur == NULL)
        cur = &local;
    uint32_t i = svec_locate(s, off, cur);
    uint64_t base = cur->base;
    while (len > 0) {
        if (i == s->n)
            return false;
        uint64_t in = off - base, n = s->v[i].len - in;
        if (n > len)
            n = len;
        memcpy(dst, s->v[i].ptr + in, n);
        dst += n;
        off += n;
        len -= n;
        base += s->v[i].len;
        i++;
    }
    return true;
}

int svec_push_range(struct svec *dst, struct mbuf_pool *p, const struct svec *src, uint64_t off,
                    uint64_t len, struct svec_cur *cur)
{
    struct svec_cur local = {0, 0};
    if (cur == NULL)
        cur = &local;
    uint32_t i = svec_locate(src, off, cur);
    uint64_t base = cur->base;
    while (len > 0) {
        if (i == src->n)
            return -ERANGE;
        const struct slice *sl = &src->v[i];
        uint64_t in = off - base, n = sl->len - in;
        if (n > len)
            n = len;
        if (svec_push(dst, p, sl->ptr + in, (uint32_t)n, sl->buf) < 0)
            return -ENOMEM;
        off += n;
        len -= n;
        base += sl->len;
        i++;
    }
    return 0;
}

/* One slice out of the arena; false when spill space ran out. */
static bool slice_evacuate(struct slice *sl, struct mbuf_pool *p)
{
    if (sl->buf >= p->count || sl->len == 0)
        return true; /* spill space, a copy or static bytes already (or nothing to move) */
    const uint8_t *d;
    uint32_t id;
    if (mbuf_spill_whole(p, sl->ptr, sl->len, &d, &id) != sl->len)
        return false;
    uint32_t old = sl->buf;
    sl->ptr = d;
    sl->buf = id; /* the reference mbuf_spill_whole took is the slice's now */
    mbuf_put(p, old);
    return true;
}

uint32_t svec_evacuate(struct svec *s, struct mbuf_pool *p, uint32_t from)
{
    uint32_t moved = 0;
    for (uint32_t i = from; i < s->n; i++) {
        bool arena = s->v[i].buf < p->count;
        if (!slice_evacuate(&s->v[i], p))
            break;
        moved += arena;
    }
    return moved;
}

uint32_t msg_evacuate(struct msg *m, struct mbuf_pool *p)
{
    uint32_t moved = svec_evacuate(&m->req, p, m->req_handed);
    moved += svec_evacuate(&m->rsp, p, m->rsp_handed);
    /* (a redis split keeps no keys: its replies are matched by position) */
    if (m->mg != NULL && m->mg->keys != NULL)
        for (uint32_t k = 0; k < m->mg->nkeys; k++) {
            bool arena = m->mg->keys[k].buf < p->count;
            if (!slice_evacuate(&m->mg->keys[k], p))
                break;
            moved += arena;
        }
    for (struct msg *f = m->frags; f != NULL; f = f->fnext)
        moved += msg_evacuate(f, p);
    return moved;
}

struct msg *msg_get(struct msg_pool *mp)
{
    struct msg *m = mp->free;
    if (m != NULL) {
        mp->free = m->cnext;
        mp->nfree--;
    } else {
        m = malloc(sizeof(*m));
        if (m == NULL)
            return NULL;
    }
    memset(m, 0, sizeof(*m));
    svec_init(&m->req);
    svec_init(&m->rsp);
    mp->live++;
    return m;
}

struct mget *mget_new(uint32_t nkeys, bool with_keys)
{
    size_t size = sizeof(struct mget) + (size_t)nkeys * sizeof(struct mget_item);
    if (with_keys)
        size += (size_t)nkeys * sizeof(struct slice);
    struct mget *mg = calloc(1, size);
    if (mg == NULL)
        return NULL;
    /* the items right after the struct (both 8-byte aligned), the keys after them */
    mg->items = (struct mget_item *)(mg + 1);
    if (with_keys)
        mg->keys = (struct slice *)(mg->items + nkeys);
    return mg;
}

static void mget_free(struct mget *mg, struct mbuf_pool *p)
{
    for (uint32_t i = 0; mg->keys != NULL && i < mg->nkeys; i++)
        mbuf_put(p, mg->keys[i].buf);
    free(mg);
}

void msg_put(struct msg_pool *mp, struct mbuf_pool *p, struct msg *m)
{
    svec_release_from(&m->req, p, m->req_handed);
    svec_release_from(&m->rsp, p, m->rsp_handed);
    if (m->mg != NULL)
        mget_free(m->mg, p);
    free(m->frag_keys);
    free(m->owned);
    mp->live--;
    /* keep a bounded cache so an idle worker gives memory back */
    if (mp->nfree >= 4096) {
        free(m);
        return;
    }
    m->cnext = mp->free;
    mp->free = m;
    mp->nfree++;
}

void msg_pool_destroy(struct msg_pool *mp)
{
    while (mp->free != NULL) {
        struct msg *m = mp->free;
        mp->free = m->cnext;
        free(m);
    }
    mp->nfree = 0;
}

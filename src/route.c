/* Routes over pools. A request of a route pool is a parent whose fragments carry its bytes (by
 * reference: m->req stays whole until the answer) to the route's pools, each routed by that
 * pool's own ring:
 *   - replicate, a write: one fragment per pool at once. `writes: all` answers once every pool
 *     has, with the first pool's reply, or an error naming the pools that failed; `writes: one`
 *     answers with the first success, and the other fragments finish on their own (counted).
 *   - replicate, a read: one pool (`read:`), then, on a failure or a miss, the next one
 *     (`read_fallback`), until a hit or every pool was asked; the last answer stands.
 *   - failover: the first pool, then the next on a failure (a server error, an ejected or
 *     unreachable server), or on a miss too with `on_miss`.
 * Replies through a route are forwarded once whole (a fragment's reply is not streamed). */
#include "src/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/mc_meta.h"
#include "src/client.h"
#include "src/log.h"
#include "src/server.h"

bool route_is(const struct pool_rt *pool)
{
    return pool->cp->route.kind != CONF_ROUTE_NONE;
}

static struct pool_rt *target_pool(struct worker *w, const struct conf_route *r, uint32_t t)
{
    uint32_t idx = r->target_idx[t];
    return idx < w->npools ? w->pools[idx] : NULL;
}

struct pool_rt *route_read_pool(struct worker *w, const struct pool_rt *pool, uint32_t *target)
{
    const struct conf_route *r = &pool->cp->route;
    uint32_t t = 0;
    if (r->kind == CONF_ROUTE_REPLICATE && r->read == CONF_READ_RANDOM)
        t = (uint32_t)((w->now >> 10) ^ (w->st.requests * 2654435761u)) % r->ntargets;
    *target = t;
    return target_pool(w, r, t);
}

/* A whole reply that means "not there": END alone, or a meta EN; for redis a null. */
static bool frag_missed(const struct msg *f)
{
    if (f->err != MSG_OK)
        return false;
    if (f->redis) {
        uint8_t b[3];
        return svec_bytes(&f->rsp) >= 3 && svec_copy_out(&f->rsp, 0, 3, b, NULL) &&
               (memcmp(b, "$-1", 3) == 0 || memcmp(b, "*-1", 3) == 0 || memcmp(b, "_\r\n", 3) == 0);
    }
    if (f->rsp_type == MC_RSP_END)
        return true;
    if (f->quiet && f->cmd == MC_MG && svec_bytes(&f->rsp) == 0)
        return true; /* a quiet mg says nothing on a miss */
    if (f->rsp_type == MC_RSP_META && f->rsp.n > 0 && f->rsp.v[0].len >= 2)
        return memcmp(f->rsp.v[0].ptr, "EN", 2) == 0;
    return false;
}

/* A reply that is an answer, not a failure. A redis error reply is the command's answer
 * (WRONGTYPE ...) unless it says the server cannot serve (-OOM, -BUSY, -LOADING). */
static bool frag_ok(const struct msg *f)
{
    if (f->redis)
        return f->err == MSG_OK && !f->rd_fail;
    return !msg_mc_failed(f);
}

static void set_nomem(struct worker *w, struct msg *m)
{
    if (m->redis)
        msg_set_reply(w, m, LIT("-ERR out of memory\r\n"));
    else
        msg_set_reply(w, m, LIT("SERVER_ERROR out of memory\r\n"));
}

/* A new fragment of p for target t, its request the parent's bytes (shared), not queued yet. */
static struct msg *frag_for(struct worker *w, struct msg *p, const struct conf_route *r, uint32_t t)
{
    struct msg *f = msg_frag_new(w, p);
    if (f == NULL)
        return NULL;
    f->quiet = p->quiet;
    f->route_target = (uint8_t)t;
    f->route_pool = r->target_idx[t];
    for (uint32_t i = 0; i < p->req.n; i++)
        svec_push(&f->req, &w->mbufs, p->req.v[i].ptr, p->req.v[i].len, p->req.v[i].buf);
    return f;
}

static void frag_enqueue(struct worker *w, struct msg *p, struct msg *f, const struct conf_route *r)
{
    struct pool_rt *tp = target_pool(w, r, f->route_target);
    if (tp == NULL) {
        f->err = MSG_ERR_DOWN;
        msg_server_done(w, f);
        return;
    }
    uint32_t old = UINT32_MAX;
    uint32_t idx = msg_route_in(w, tp, p, p->redis ? NULL : &old);
    if (old != UINT32_MAX && old != idx && idx != UINT32_MAX) {
        /* the pool is warming up, and the key has moved: f goes as a request of the pool's own
         * would (its key's offsets are p's, in the same bytes) */
        f->key_off = p->key_off;
        f->key_len = p->key_len;
        f->key_b64 = p->key_b64;
        enum mc_kind kind = mc_cmd_info(p->cmd)->kind;
        if (kind == MC_KIND_RETRIEVAL || p->cmd == MC_MG) {
            warm_get(w, f, tp, idx, old);
            return;
        }
        if (kind == MC_KIND_STORAGE || kind == MC_KIND_META_SET || kind == MC_KIND_KEYED ||
            p->cmd == MC_MD || p->cmd == MC_MA) {
            warm_write(w, f, tp, idx, old);
            return;
        }
    }
    server_enqueue(w, tp, idx, f);
}

static const char *pool_name(struct worker *w, uint32_t idx)
{
    return idx < w->npools ? w->pools[idx]->cp->name : "?";
}

/* A replicated write failed in f's pool: counted there and for the worker, and logged (a line
 * a second per pool and worker at most). */
static void replica_failed(struct worker *w, const struct msg *f)
{
    STAT_INC(w->st.route_replica_errors);
    if (f->route_pool >= w->npools)
        return;
    struct pool_rt *tp = w->pools[f->route_pool];
    STAT_INC(tp->st->replica_errors);
    log_limited(&tp->route_lim, 1000, LOG_WARN, "route: a replicated write failed in pool '%s'%s",
                tp->cp->name, f->err != MSG_OK ? "" : " (the server answered with an error)");
}

/* p's reply is f's (its slices move over), or the error f failed with. */
static void answer_from(struct worker *w, struct msg *p, struct msg *f)
{
    if (f->err != MSG_OK && p->is_frag) {
        p->err = f->err; /* a route's fragment, warmed: its route judges the failure */
        return;
    }
    if (f->err != MSG_OK) {
        uint32_t len;
        const char *line = msg_err_line(f->err, p->redis, &len);
        msg_set_reply(w, p, line, len);
        if (p->client != NULL)
            STAT_INC(p->client->pool->st->forward_error);
        return;
    }
    (void)svec_reserve(&p->rsp, f->rsp.n);
    svec_move(&p->rsp, &w->mbufs, &f->rsp, 0, f->rsp.n);
    p->rsp_type = f->rsp_type;
}

/* Every fragment still on p's list is done: p is answered (or freed, its client gone). */
static void route_finish(struct worker *w, struct msg *p)
{
    struct msg *f;
    while ((f = p->frags) != NULL) {
        p->frags = f->fnext;
        msg_put(&w->msgs, &w->mbufs, f);
    }
    p->frags_pending = 0;
    if (p->is_frag) {
        /* a route's fragment that was warmed up on its pool: its answer goes to its route */
        msg_server_done(w, p);
        return;
    }
    client_note_reply(p->client, p->rsp_counted);
    p->state = MS_ANSWERED;
    if (!p->in_client)
        msg_put(&w->msgs, &w->mbufs, p);
    else
        worker_mark_dirty(w, &p->client->o);
}

/* writes: all, every pool done: the first pool's reply, or an error naming those that failed. */
static void writes_all_done(struct worker *w, struct msg *p)
{
    struct msg *first = NULL;
    char names[256];
    size_t o = 0;
    names[0] = '\0';
    for (struct msg *f = p->frags; f != NULL; f = f->fnext) {
        if (!frag_ok(f) && o < sizeof(names))
            o += (size_t)snprintf(names + o, sizeof(names) - o, "%s'%s'", o ? ", " : "",
                                  pool_name(w, f->route_pool));
        if (first == NULL || f->route_target < first->route_target)
            first = f;
    }
    svec_release(&p->rsp, &w->mbufs);
    if (p->noreply || p->client == NULL) {
        /* nothing to say */
    } else if (o > 0) {
        char line[320];
        int n = snprintf(line, sizeof(line), "%s replicated write failed in pool %s\r\n",
                         p->redis ? "-ERR" : "SERVER_ERROR", names);
        uint8_t *text = malloc((size_t)n);
        if (text == NULL) {
            set_nomem(w, p);
        } else {
            memcpy(text, line, (size_t)n);
            free(p->owned);
            p->owned = text;
            svec_push(&p->rsp, &w->mbufs, text, (uint32_t)n, MBUF_NONE);
            STAT_INC(p->client->pool->st->forward_error);
        }
    } else if (first != NULL) {
        answer_from(w, p, first);
    }
    route_finish(w, p);
}

void route_start(struct worker *w, struct client *c, struct msg *m, bool write)
{
    const struct conf_route *r = &c->pool->cp->route;
    m->routed = true;
    m->state = MS_SPLIT;
    m->route_write = write && r->kind == CONF_ROUTE_REPLICATE;
    if (m->route_write) {
        /* every fragment exists before any is queued: only the last one's failure can
         * complete the parent */
        struct msg *fs[CONF_ROUTE_MAX];
        for (uint32_t t = 0; t < r->ntargets; t++) {
            fs[t] = frag_for(w, m, r, t);
            if (fs[t] == NULL) {
                msg_drop_frags(w, m);
                set_nomem(w, m);
                return;
            }
        }
        for (uint32_t t = 0; t < r->ntargets; t++)
            frag_enqueue(w, m, fs[t], r);
        return;
    }
    uint32_t first = 0;
    if (r->kind == CONF_ROUTE_REPLICATE)
        (void)route_read_pool(w, c->pool, &first);
    m->route_first = (uint8_t)first;
    m->route_tried = 1;
    struct msg *f = frag_for(w, m, r, first);
    if (f == NULL) {
        set_nomem(w, m);
        return;
    }
    frag_enqueue(w, m, f, r);
}

/* Takes f off p's list. */
static void frag_unlink(struct msg *p, struct msg *f)
{
    for (struct msg **fp = &p->frags; *fp != NULL; fp = &(*fp)->fnext) {
        if (*fp == f) {
            *fp = f->fnext;
            f->fnext = NULL;
            return;
        }
    }
}

void route_frag_done(struct worker *w, struct msg *p, struct msg *f)
{
    p->frags_pending--;
    if (p->route_write) {
        if (!frag_ok(f))
            replica_failed(w, f);
        const struct conf_route *r = p->client != NULL ? &p->client->pool->cp->route : NULL;
        if (r != NULL && r->writes == CONF_WRITES_ONE && frag_ok(f) && !p->noreply) {
            /* the first success answers; the others go on without a parent */
            answer_from(w, p, f);
            frag_unlink(p, f);
            msg_put(&w->msgs, &w->mbufs, f);
            struct msg *o;
            while ((o = p->frags) != NULL) {
                p->frags = o->fnext;
                o->fnext = NULL;
                if (o->state == MS_ANSWERED) {
                    msg_put(&w->msgs, &w->mbufs, o); /* failed already (and counted) */
                } else {
                    o->parent = NULL; /* route_orphan_done counts it when it finishes */
                }
            }
            route_finish(w, p);
            return;
        }
        if (p->frags_pending == 0)
            writes_all_done(w, p);
        return;
    }
    const struct conf_route *r = p->client != NULL ? &p->client->pool->cp->route : NULL;
    bool next = false;
    if (r != NULL && r->kind != CONF_ROUTE_NONE && p->route_tried < r->ntargets) {
        bool failed = !frag_ok(f), missed = frag_missed(f);
        if (r->kind == CONF_ROUTE_REPLICATE)
            next = r->read_fallback && (failed || missed);
        else
            next = failed || (missed && r->on_miss);
    }
    if (next) {
        /* this answer stands only if no other pool has a better one: the newest is kept */
        for (struct msg *o = p->frags; o != NULL;) {
            struct msg *on = o->fnext;
            if (o != f) {
                frag_unlink(p, o);
                msg_put(&w->msgs, &w->mbufs, o);
            }
            o = on;
        }
        uint32_t t = (p->route_first + p->route_tried) % r->ntargets;
        p->route_tried++;
        STAT_INC(w->st.route_retries);
        struct msg *nf = frag_for(w, p, r, t);
        if (nf != NULL) {
            frag_enqueue(w, p, nf, r);
            return;
        }
    }
    svec_release(&p->rsp, &w->mbufs);
    if (p->client != NULL && !p->noreply)
        answer_from(w, p, f);
    route_finish(w, p);
}

void route_orphan_done(struct worker *w, struct msg *f)
{
    if (!frag_ok(f))
        replica_failed(w, f);
    else {
        STAT_INC(w->st.route_background);
        if (f->route_pool < w->npools)
            STAT_INC(w->pools[f->route_pool]->st->replica_background);
    }
    msg_put(&w->msgs, &w->mbufs, f);
}

/* ---- resharding warm-up --------------------------------------------------------------- */

/* A warm-up counter, the worker's and the warming pool's. */
#define WARM_INC(w, pool, name)                                                                    \
    do {                                                                                           \
        STAT_INC((w)->st.name);                                                                    \
        STAT_INC((pool)->st->name);                                                                \
    } while (0)

/* The pool a warm-up request p works on: its client's, or, for a route's fragment, the route
 * pool it went to. */
static struct pool_rt *warm_pool(struct worker *w, const struct msg *p)
{
    if (p->is_frag)
        return p->route_pool < w->npools ? w->pools[p->route_pool] : NULL;
    return p->client != NULL ? p->client->pool : NULL;
}

/* Somebody still waits for p's answer. */
static bool warm_live(struct worker *w, struct msg *p)
{
    return msg_top(p)->client != NULL && warm_pool(w, p) != NULL;
}

/* The server indices p's warm-up took (warm_old, warm_new; for a route's fragment its pool's)
 * still mean what they meant: no reload came in between. */
static bool warm_current(const struct worker *w, const struct msg *p)
{
    return p->route_seq == w->view->seq;
}

/* p could not be set going (out of memory): failed as its server would have failed it. */
static void warm_nomem(struct worker *w, struct msg *p)
{
    if (p->is_frag) {
        p->err = MSG_ERR_NOMEM;
        msg_server_done(w, p);
        return;
    }
    msg_set_reply(w, p, LIT("SERVER_ERROR out of memory\r\n"));
}

/* p's answer is a miss, in a plain get's form. */
static void warm_set_miss(struct worker *w, struct msg *p)
{
    msg_set_reply(w, p, LIT("END\r\n"));
    p->rsp_type = MC_RSP_END;
}

/* A fragment of p sent to server idx of p's pool: p's own bytes (line NULL), or line (copied,
 * owned by the fragment) as command cmd. */
static struct msg *warm_frag(struct worker *w, struct msg *p, const char *line, uint32_t len,
                             enum mc_cmd cmd)
{
    /* a fragment short of its bytes would take the next request's reply: it is made whole,
     * or not at all */
    uint8_t *own = NULL;
    if (line != NULL && (own = malloc(len)) == NULL)
        return NULL;
    struct msg *f = msg_frag_new(w, p);
    if (f == NULL) {
        free(own);
        return NULL;
    }
    bool ok = true;
    if (line == NULL) {
        f->quiet = p->quiet; /* a quiet meta request carries the proxy's end mark along */
        for (uint32_t i = 0; i < p->req.n && ok; i++)
            ok = svec_push(&f->req, &w->mbufs, p->req.v[i].ptr, p->req.v[i].len, p->req.v[i].buf) >=
                 0;
    } else {
        f->cmd = cmd;
        f->noreply = false;
        f->owned = own;
        memcpy(own, line, len);
        ok = svec_push(&f->req, &w->mbufs, own, len, MBUF_NONE) >= 0;
        STAT_ADD(w->st.bytes_invented, len);
    }
    if (!ok) {
        frag_unlink(p, f);
        p->frags_pending--;
        msg_put(&w->msgs, &w->mbufs, f);
        return NULL;
    }
    return f;
}

/* Room for a key as written: memcached's longest (a text key, or a base64 token). */
#define WARM_KEY_MAX 250

/* m's key, as written (key_off / key_len in m->req), into key (WARM_KEY_MAX bytes). */
static bool copy_key(const struct msg *m, uint8_t *key)
{
    return m->key_len <= WARM_KEY_MAX && svec_copy_out(&m->req, m->key_off, m->key_len, key, NULL);
}

void warm_get(struct worker *w, struct msg *m, struct pool_rt *pool, uint32_t dest, uint32_t old)
{
    m->warm = true;
    m->warm_stage = 0;
    m->route_seq = w->view->seq;
    m->warm_new = dest;
    m->warm_old = old;
    m->state = MS_SPLIT;
    struct msg *f = warm_frag(w, m, NULL, 0, m->cmd);
    if (f == NULL) {
        warm_nomem(w, m);
        return;
    }
    server_enqueue(w, pool, dest, f);
}

void warm_write(struct worker *w, struct msg *m, struct pool_rt *pool, uint32_t dest, uint32_t old)
{
    /* the write goes to the key's server, and the copy its previous server may hold is
     * deleted: the reply waits for both, so that no read after it finds the old copy */
    uint8_t key[WARM_KEY_MAX];
    char line[WARM_KEY_MAX + 32];
    int n = -1;
    if (copy_key(m, key))
        n = m->key_b64 ? snprintf(line, sizeof(line), "md %.*s b\r\n", (int)m->key_len, key)
                       : snprintf(line, sizeof(line), "delete %.*s\r\n", (int)m->key_len, key);
    m->warm = m->warm_write = true;
    m->state = MS_SPLIT;
    struct msg *a = warm_frag(w, m, NULL, 0, m->cmd);
    struct msg *b =
        n > 0 ? warm_frag(w, m, line, (uint32_t)n, m->key_b64 ? MC_MD : MC_DELETE) : NULL;
    if (a == NULL || (n > 0 && b == NULL)) {
        msg_drop_frags(w, m);
        warm_nomem(w, m);
        return;
    }
    a->warm_stage = 0;
    if (b != NULL) {
        b->warm_stage = 1;
        WARM_INC(w, pool, warm_unlinks);
    }
    /* both exist before either is queued: only the last one's failure completes m */
    server_enqueue(w, pool, dest, a);
    if (b != NULL)
        server_enqueue(w, pool, old, b);
}

/* The tokens of a meta VA line: its length, client flags (f) and remaining TTL (t, -1: none). */
static bool parse_va(const char *s, uint32_t len, uint32_t *vlen, uint32_t *flags, long *ttl)
{
    char buf[128];
    if (len >= sizeof(buf) || len < 4 || memcmp(s, "VA ", 3) != 0)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *save = NULL, *tok = strtok_r(buf + 3, " ", &save);
    if (tok == NULL)
        return false;
    char *end;
    unsigned long v = strtoul(tok, &end, 10);
    if (*end != '\0' || v > UINT32_MAX)
        return false;
    *vlen = (uint32_t)v;
    *flags = 0;
    *ttl = -1;
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        if (tok[0] == 'f')
            *flags = (uint32_t)strtoul(tok + 1, NULL, 10);
        else if (tok[0] == 't')
            *ttl = strtol(tok + 1, NULL, 10);
    }
    return true;
}

/* An mg hit (VA, asked with v f t) from a key's old server, as read off f's reply. */
struct warm_item {
    uint32_t vlen, flags;
    long ttl;          /* remaining seconds, -1: none */
    uint64_t data_off; /* where the value's block starts in f->rsp */
};

static bool warm_parse(const struct msg *f, struct warm_item *it)
{
    char first[160];
    uint64_t total = svec_bytes(&f->rsp);
    uint32_t hlen = total < sizeof(first) ? (uint32_t)total : (uint32_t)sizeof(first);
    if (!frag_ok(f) || f->rsp_type != MC_RSP_META_VALUE ||
        !svec_copy_out(&f->rsp, 0, hlen, (uint8_t *)first, NULL))
        return false;
    const char *eol = memchr(first, '\n', hlen);
    if (eol == NULL || eol == first || eol[-1] != '\r' ||
        !parse_va(first, (uint32_t)(eol - first - 1), &it->vlen, &it->flags, &it->ttl))
        return false;
    it->data_off = (uint64_t)(eol - first) + 1;
    return it->data_off + it->vlen + 2 <= total;
}

/* Copies the hit `it` of f (the old server's reply) to server new_idx of pool: "ms <key> <len>
 * F<flags> [T<ttl>] ME q" (an add, so a value written there meanwhile stays; b: the key is
 * base64), the block (shared with f's reply), then the proxy's end mark. Its reply (nothing,
 * or NS) goes nowhere. then (or NULL) is queued right after it on the same connection, so
 * that it is served after the copy is stored. */
static void warm_copy(struct worker *w, struct msg *f, const struct warm_item *it,
                      const uint8_t *key, uint32_t klen, bool b64, struct pool_rt *pool,
                      uint32_t new_idx, struct msg *then)
{
    struct msg *c = msg_get(&w->msgs);
    char *line = malloc(klen + 80);
    if (c == NULL || line == NULL) {
        free(line);
        if (c != NULL)
            msg_put(&w->msgs, &w->mbufs, c);
        if (then != NULL)
            server_enqueue(w, pool, new_idx, then);
        return;
    }
    const char *b = b64 ? " b" : "";
    /* memcached takes a TTL of more than 30 days for a unix time: such a one is sent as one */
    long ttl = it->ttl > 2592000 ? (long)time(NULL) + it->ttl : it->ttl;
    int ln = it->ttl > 0 ? snprintf(line, klen + 80, "ms %.*s %u F%u T%ld ME q%s\r\n", (int)klen,
                                    key, it->vlen, it->flags, ttl, b)
                         : snprintf(line, klen + 80, "ms %.*s %u F%u ME q%s\r\n", (int)klen, key,
                                    it->vlen, it->flags, b);
    c->owned = (uint8_t *)line;
    /* a copy short of any of its pieces would put the server out of step with the proxy:
     * none is sent then */
    if (svec_push(&c->req, &w->mbufs, (const uint8_t *)line, (uint32_t)ln, MBUF_NONE) < 0 ||
        svec_push_range(&c->req, &w->mbufs, &f->rsp, it->data_off, it->vlen + 2, NULL) != 0 ||
        svec_push(&c->req, &w->mbufs, (const uint8_t *)MC_META_END, MC_META_END_LEN, MBUF_NONE) <
            0) {
        msg_put(&w->msgs, &w->mbufs, c);
        if (then != NULL)
            server_enqueue(w, pool, new_idx, then);
        return;
    }
    STAT_ADD(w->st.bytes_invented, (uint64_t)ln + MC_META_END_LEN);
    c->cmd = MC_MS;
    c->quiet = true;
    c->state = MS_QUEUED;
    WARM_INC(w, pool, warm_copies);
    server_enqueue_pair(w, pool, new_idx, c, then);
}

/* f's reply is an mg hit (VA) from a key's old server: appends to out the key's reply as a
 * `get` gives it (its VALUE line, written into spill space so that the slice holds a reference
 * wherever it moves, then the block, shared), and copies it to server new_idx of pool. False
 * when f is not a well-formed hit (nothing appended). */
static bool warm_take(struct worker *w, struct svec *out, struct msg *f, const uint8_t *key,
                      uint32_t klen, struct pool_rt *pool, uint32_t new_idx)
{
    struct warm_item it;
    char reply[WARM_KEY_MAX + 64];
    if (klen > WARM_KEY_MAX || !warm_parse(f, &it))
        return false;
    int rn =
        snprintf(reply, sizeof(reply), "VALUE %.*s %u %u\r\n", (int)klen, key, it.flags, it.vlen);
    const uint8_t *d;
    uint32_t buf = MBUF_NONE;
    if (mbuf_spill_whole(&w->mbufs, (const uint8_t *)reply, (uint32_t)rn, &d, &buf) !=
        (uint32_t)rn) {
        mbuf_put(&w->mbufs, buf);
        return false;
    }
    WARM_INC(w, pool, warm_hits);
    svec_push(out, &w->mbufs, d, (uint32_t)rn, buf);
    mbuf_put(&w->mbufs, buf); /* the slice holds its own reference */
    mbuf_spill_seal(&w->mbufs);
    STAT_ADD(w->st.bytes_invented, (uint64_t)rn);
    (void)svec_push_range(out, &w->mbufs, &f->rsp, it.data_off, it.vlen + 2, NULL);
    warm_copy(w, f, &it, key, klen, false, pool, new_idx, NULL);
    return true;
}

/* The old server had it: the client gets it as `get` answers it. */
static void warm_hit(struct worker *w, struct msg *p, struct msg *f, const uint8_t *key,
                     uint32_t klen)
{
    svec_release(&p->rsp, &w->mbufs);
    if (!warm_take(w, &p->rsp, f, key, klen, warm_pool(w, p), p->warm_new)) {
        warm_set_miss(w, p);
        return;
    }
    svec_push(&p->rsp, &w->mbufs, (const uint8_t *)"END\r\n", 5, MBUF_NONE);
    p->rsp_type = MC_RSP_VALUE;
}

/* The old server had it, for a request whose answer is not a plain get's (gets gat gats, mg
 * with its flags): the hit is copied to the key's new server and the request asked again
 * there, right behind the copy. Its answer there is the client's. False when f is not a
 * well-formed hit (p is untouched). */
static bool warm_replay(struct worker *w, struct msg *p, struct msg *f, const uint8_t *key)
{
    struct warm_item it;
    if (!warm_parse(f, &it))
        return false;
    struct msg *r = warm_frag(w, p, NULL, 0, p->cmd);
    if (r == NULL)
        return false;
    struct pool_rt *pool = warm_pool(w, p);
    WARM_INC(w, pool, warm_hits);
    r->warm_stage = 2;
    p->warm_stage = 2;
    /* f's block is shared by the copy (a reference of its own): f can go first, and nothing
     * of p may be touched after the queueing, which may answer it */
    warm_copy(w, f, &it, key, p->key_len, p->key_b64, pool, p->warm_new, r);
    return true;
}

bool warm_split_round(struct worker *w, struct msg *p)
{
    struct mget *mg = p->mg;
    struct pool_rt *pool = p->client->pool;
    p->warm_round = 1;
    p->route_seq = w->view->seq;
    if (mg == NULL || mg->keys == NULL)
        return false;
    uint32_t n = 0;
    for (uint32_t k = 0; k < mg->nkeys; k++) {
        const struct slice *key = &mg->keys[k];
        if (mg->items[k].frag != NULL || key->len > 250)
            continue;
        uint32_t now = pool_route(w, pool, key->ptr, key->len);
        uint32_t old = pool_route_prev(w, pool, key->ptr, key->len);
        if (old == UINT32_MAX || now == UINT32_MAX || old == now)
            continue;
        char line[300];
        int ln = snprintf(line, sizeof(line), "mg %.*s v f t\r\n", (int)key->len, key->ptr);
        struct msg *f = warm_frag(w, p, line, (uint32_t)ln, MC_MG);
        if (f == NULL)
            break;
        f->warm_stage = 1; /* not a part of the split: a whole mg of its own */
        f->warm_old = old;
        f->warm_new = now;
        f->frag_keys = malloc(sizeof(uint32_t));
        if (f->frag_keys != NULL) {
            f->frag_keys[0] = k;
            f->frag_nkeys = 1;
        }
        WARM_INC(w, pool, warm_lookups);
        n++;
    }
    if (n == 0)
        return false;
    /* every lookup exists before any is queued, so only the last one's failure can complete
     * (and free) p: walk them with the next one saved */
    struct msg *f = p->frags;
    for (uint32_t i = 0; i < n; i++) {
        struct msg *next = f->fnext;
        server_enqueue(w, pool, f->warm_old, f);
        f = next;
    }
    return true;
}

/* The request of a split gets gat gats, for key k alone: "<cmd> [<exptime>] <key>\r\n", for
 * the new server once the copy is there. NULL when out of memory. */
static struct msg *warm_split_replay(struct worker *w, struct msg *p, uint32_t k)
{
    const struct mget *mg = p->mg;
    if ((p->cmd == MC_GAT || p->cmd == MC_GATS) && mg->explen == 0)
        return NULL; /* an exptime too long to keep: the key stays a miss */
    const char *name = mc_cmd_info(p->cmd)->name;
    size_t nlen = strlen(name), len = nlen + 1 + mg->explen + 1 + mg->keys[k].len + 2;
    char *line = malloc(len);
    if (line == NULL)
        return NULL;
    size_t o = 0;
    memcpy(line, name, nlen);
    o += nlen;
    line[o++] = ' ';
    if (mg->explen > 0) {
        memcpy(line + o, mg->exp, mg->explen);
        o += mg->explen;
        line[o++] = ' ';
    }
    memcpy(line + o, mg->keys[k].ptr, mg->keys[k].len);
    o += mg->keys[k].len;
    line[o++] = '\r';
    line[o++] = '\n';
    struct msg *r = warm_frag(w, p, line, (uint32_t)o, p->cmd);
    free(line);
    if (r == NULL)
        return NULL;
    r->warm_stage = 2;
    r->frag_keys = malloc(sizeof(uint32_t));
    if (r->frag_keys != NULL) {
        r->frag_keys[0] = k;
        r->frag_nkeys = 1;
    }
    return r;
}

/* r's reply (to a replay of one key) as the key's item of the merge: its VALUE line and block,
 * without the END. False when it is not one well-formed hit. */
static bool warm_replay_item(struct worker *w, struct msg *r, struct svec *got)
{
    uint64_t total = svec_bytes(&r->rsp);
    uint8_t end[5];
    if (msg_mc_failed(r) || r->rsp_type != MC_RSP_VALUE || total <= 5 ||
        !svec_copy_out(&r->rsp, total - 5, 5, end, NULL) || memcmp(end, "END\r\n", 5) != 0)
        return false;
    return svec_push_range(got, &w->mbufs, &r->rsp, 0, total - 5, NULL) == 0;
}

bool warm_split_collect(struct worker *w, struct msg *p)
{
    struct mget *mg = p->mg;
    uint8_t stage = p->warm_round == 1 ? 1 : 2; /* the lookups', or the replays' answers */
    bool replay = p->cmd != MC_GET && stage == 1;
    bool queued = false;
    for (struct msg **fp = &p->frags; *fp != NULL;) {
        struct msg *f = *fp;
        if (f->warm_stage != stage) {
            fp = &f->fnext;
            continue;
        }
        uint32_t k = f->frag_nkeys == 1 ? f->frag_keys[0] : UINT32_MAX;
        bool have = mg != NULL && k < mg->nkeys && p->client != NULL && warm_current(w, p);
        *fp = f->fnext; /* off the list: kept (put back) only when it becomes the key's item */
        f->fnext = NULL;
        struct svec got;
        svec_init(&got);
        if (have && replay) {
            /* gets gat gats: the hit is copied, and the key asked again right behind it (the
             * replay goes in front of the list, where this walk does not look again) */
            struct warm_item it;
            struct msg *r = warm_parse(f, &it) ? warm_split_replay(w, p, k) : NULL;
            if (r != NULL) {
                WARM_INC(w, p->client->pool, warm_hits);
                warm_copy(w, f, &it, mg->keys[k].ptr, mg->keys[k].len, false, p->client->pool,
                          f->warm_new, r);
                queued = true;
            }
        } else if (have && (stage == 1 ? warm_take(w, &got, f, mg->keys[k].ptr, mg->keys[k].len,
                                                   p->client->pool, f->warm_new)
                                       : warm_replay_item(w, f, &got))) {
            /* f's reply becomes the key's VALUE and block, for the merge to take */
            svec_release(&f->rsp, &w->mbufs);
            f->rsp = got;
            if (got.v == got.inl)
                f->rsp.v = f->rsp.inl;
            f->rsp_type = MC_RSP_VALUE;
            f->warm_stage = 3; /* taken: not looked at again */
            mg->items[k] = (struct mget_item){.frag = f, .first = 0, .last = f->rsp.n};
            f->fnext = *fp;
            *fp = f;
            fp = &f->fnext;
            continue;
        }
        /* not there either (or the lookup failed, or the key was asked again): the key
         * stays a miss here */
        svec_release(&got, &w->mbufs);
        msg_put(&w->msgs, &w->mbufs, f);
    }
    p->warm_round = 2;
    return queued;
}

/* f's reply is exactly text. */
static bool reply_is(const struct msg *f, const char *text)
{
    char buf[16];
    size_t n = strlen(text);
    return f->err == MSG_OK && n <= sizeof(buf) && svec_bytes(&f->rsp) == n &&
           svec_copy_out(&f->rsp, 0, n, (uint8_t *)buf, NULL) && memcmp(buf, text, n) == 0;
}

void warm_frag_done(struct worker *w, struct msg *p, struct msg *f)
{
    p->frags_pending--;
    if (p->warm_write) {
        if (p->frags_pending > 0)
            return;
        struct msg *main = NULL, *unlink = NULL;
        for (struct msg *x = p->frags; x != NULL; x = x->fnext) {
            if (x->warm_stage == 0)
                main = x;
            else
                unlink = x;
        }
        svec_release(&p->rsp, &w->mbufs);
        /* a route's fragment always carries its answer up: its route counts a failure */
        if (main != NULL && (p->is_frag || (warm_live(w, p) && !p->noreply))) {
            /* a delete of a key that only the old server still had did delete it */
            if (p->cmd == MC_DELETE && unlink != NULL && unlink->cmd == MC_DELETE &&
                reply_is(main, "NOT_FOUND\r\n") && reply_is(unlink, "DELETED\r\n"))
                answer_from(w, p, unlink);
            else
                answer_from(w, p, main);
        }
        route_finish(w, p);
        return;
    }
    if (p->warm_stage == 0 && warm_live(w, p) && warm_current(w, p) && frag_missed(f)) {
        /* a miss where the key lives now: ask where it lived before. The miss stays on p's
         * list: it is the answer if the old server has nothing either */
        uint8_t key[WARM_KEY_MAX];
        char line[WARM_KEY_MAX + 32];
        if (copy_key(p, key)) {
            int n = snprintf(line, sizeof(line), "mg %.*s v f t%s\r\n", (int)p->key_len, key,
                             p->key_b64 ? " b" : "");
            p->warm_stage = 1;
            WARM_INC(w, warm_pool(w, p), warm_lookups);
            struct msg *nf = warm_frag(w, p, line, (uint32_t)n, MC_MG);
            if (nf != NULL) {
                nf->warm_stage = 1;
                server_enqueue(w, warm_pool(w, p), p->warm_old, nf);
                return;
            }
        }
    }
    struct msg *miss = NULL; /* the new server's answer, when it was a miss */
    for (struct msg *x = p->frags; x != NULL && p->warm_stage > 0; x = x->fnext)
        if (x != f && x->warm_stage == 0)
            miss = x;
    if (p->warm_stage == 1 && warm_live(w, p) && p->cmd != MC_GET) {
        uint8_t key[WARM_KEY_MAX];
        frag_unlink(p, f); /* whatever comes of it, f is this function's to free */
        bool replayed = warm_current(w, p) && copy_key(p, key) && warm_replay(w, p, f, key);
        if (!replayed) {
            svec_release(&p->rsp, &w->mbufs);
            answer_from(w, p, miss != NULL ? miss : f);
            route_finish(w, p);
        }
        msg_put(&w->msgs, &w->mbufs, f); /* p may be gone */
        return;
    }
    svec_release(&p->rsp, &w->mbufs);
    if (warm_live(w, p)) {
        uint8_t key[WARM_KEY_MAX];
        if (p->warm_stage == 0 || p->warm_stage == 2) {
            answer_from(w, p, f); /* the new server's: a hit, or asked again after the copy */
        } else if (frag_ok(f) && f->rsp_type == MC_RSP_META_VALUE && warm_current(w, p) &&
                   copy_key(p, key)) {
            warm_hit(w, p, f, key, p->key_len);
        } else {
            /* not there either (or it failed): the miss stands */
            if (miss != NULL)
                answer_from(w, p, miss);
            else
                warm_set_miss(w, p);
        }
    }
    route_finish(w, p);
}

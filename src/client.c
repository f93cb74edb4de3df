/* Client connections: frame and route requests as their bytes arrive (forwarding the very
 * slices they were received into), split multi-key retrievals, answer local commands, and
 * send replies back in request order. */
#include "src/client.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/log.h"
#include "src/net.h"
#include "src/rd_client.h"
#include "src/route.h"
#include "src/server.h"
#include "src/version.h"
#include "src/worker.h"

static void client_linger(struct worker *w, struct client *c);
static void client_linger_event(struct worker *w, struct client *c, const struct io_event *ev);

static void client_resume(struct worker *w, struct client *c);
static void client_drain_held(struct worker *w, struct client *c);
static void client_retire_check(struct worker *w, struct client *c);

/* Back under half of both limits: reading may resume. */
/* How many requests c may have outstanding: as many as its pool's client_reply_limit holds
 * replies of its usual size, between CLIENT_MIN_QUEUE and CLIENT_MAX_QUEUE. */
static uint32_t client_window(const struct client *c)
{
    return c->rsp_avg == 0 ? CLIENT_FIRST_QUEUE : c->window;
}

/* A server's reply of len bytes for c is complete: how big they run sets c's window. */
void client_note_reply(struct client *c, uint64_t len)
{
    if (c == NULL || len == 0)
        return;
    c->rsp_avg = c->rsp_avg == 0 ? len : (c->rsp_avg * 7 + len) / 8;
    uint64_t n = c->pool->cp->client_reply_limit / c->rsp_avg;
    c->window = n < CLIENT_MIN_QUEUE   ? CLIENT_MIN_QUEUE
                : n > CLIENT_MAX_QUEUE ? CLIENT_MAX_QUEUE
                                       : (uint32_t)n;
}

bool client_backlog_full(const struct client *c)
{
    return c->nqueued >= client_window(c) || c->keys_queued > CLIENT_MAX_KEYS ||
           c->rsp_queued > c->pool->cp->client_reply_limit;
}

static bool client_backlog_low(const struct client *c)
{
    return c->nqueued <= client_window(c) / 2 && c->keys_queued <= CLIENT_MAX_KEYS / 2 &&
           c->rsp_queued <= c->pool->cp->client_reply_limit / 2;
}

void client_check_backlog(struct worker *w, struct client *c)
{
    /* (held bytes alone are no reason: a drain holds its buffer while it parses it) */
    if (c->paused || c->o.closing || !client_backlog_full(c))
        return;
    c->paused = true;
    STAT_INC(w->st.clients_paused);
    /* a recv that cannot be stopped (it has ended, its last event not seen yet) delivers no
     * more than a parse stopped by the backlog holds */
    if (c->recv_armed)
        (void)w->io->ops->recv_stop(w->io, c->o.fd, c);
}

/* Keeps buf[off, off + len) for later, with a reference on buf. */
static bool client_hold(struct worker *w, struct client *c, uint32_t buf, uint32_t off,
                        uint32_t len)
{
    struct held *h = malloc(sizeof(*h));
    if (h == NULL)
        return false;
    h->next = NULL;
    h->buf = buf;
    h->off = off;
    h->len = len;
    mbuf_get(&w->mbufs, buf);
    if (c->held_tail != NULL)
        c->held_tail->next = h;
    else
        c->held = h;
    c->held_tail = h;
    return true;
}

uint32_t client_evacuate_held(struct worker *w, struct client *c)
{
    uint32_t moved = 0;
    for (struct held *h = c->held; h != NULL; h = h->next) {
        const uint8_t *d;
        uint32_t id;
        if (h->buf >= w->mbufs.count)
            continue; /* spilled already */
        if (mbuf_spill_whole(&w->mbufs, mbuf_data(&w->mbufs, h->buf) + h->off, h->len, &d, &id) !=
            h->len)
            break;
        mbuf_put(&w->mbufs, h->buf);
        h->buf = id;
        h->off = (uint32_t)(d - mbuf_data(&w->mbufs, id));
        moved++;
    }
    return moved;
}

static void client_release_held(struct worker *w, struct client *c)
{
    struct held *h;
    while ((h = c->held) != NULL) {
        c->held = h->next;
        mbuf_put(&w->mbufs, h->buf);
        free(h);
    }
    c->held_tail = NULL;
}

/* ---- replies the proxy writes itself ------------------------------------------------- */

void msg_set_reply(struct worker *w, struct msg *m, const char *text, uint32_t len)
{
    svec_release_from(&m->rsp, &w->mbufs, m->rsp_handed);
    m->rsp_handed = 0;
    svec_push(&m->rsp, &w->mbufs, (const uint8_t *)text, len, MBUF_NONE);
    m->state = MS_ANSWERED;
}

/* "CLIENT_ERROR <reason>\r\n" from static pieces. */
static void msg_client_error(struct worker *w, struct msg *m, const char *reason)
{
    svec_release(&m->req, &w->mbufs);
    svec_release(&m->rsp, &w->mbufs);
    svec_push(&m->rsp, &w->mbufs, (const uint8_t *)"CLIENT_ERROR ", 13, MBUF_NONE);
    svec_push(&m->rsp, &w->mbufs, (const uint8_t *)reason, (uint32_t)strlen(reason), MBUF_NONE);
    svec_push(&m->rsp, &w->mbufs, (const uint8_t *)"\r\n", 2, MBUF_NONE);
    m->state = MS_ANSWERED;
}

const char *msg_err_line(enum msg_err e, bool redis, uint32_t *len)
{
    static const char *const rd_lines[] = {
        [MSG_OK] = "-ERR unknown\r\n",
        [MSG_ERR_DOWN] = "-ERR backend unavailable\r\n",
        [MSG_ERR_TIMEOUT] = "-ERR backend timed out\r\n",
        [MSG_ERR_CLOSED] = "-ERR backend closed the connection\r\n",
        [MSG_ERR_PROTOCOL] = "-ERR backend sent an invalid reply\r\n",
        [MSG_ERR_NOMEM] = "-ERR out of memory\r\n",
        [MSG_ERR_EJECTED] = "-ERR backend ejected\r\n",
        [MSG_ERR_NOFD] = "-ERR proxy out of file descriptors\r\n",
        [MSG_ERR_LOCAL] = "-ERR proxy out of local resources\r\n",
        [MSG_ERR_AUTH] = "-ERR backend refused the proxy's AUTH or SELECT\r\n",
    };
    if (redis) {
        const char *r = rd_lines[e < sizeof(rd_lines) / sizeof(rd_lines[0]) ? e : 0];
        *len = (uint32_t)strlen(r);
        return r;
    }
    static const char *const lines[] = {
        [MSG_OK] = "SERVER_ERROR unknown\r\n",
        [MSG_ERR_DOWN] = "SERVER_ERROR backend unavailable\r\n",
        [MSG_ERR_TIMEOUT] = "SERVER_ERROR backend timed out\r\n",
        [MSG_ERR_CLOSED] = "SERVER_ERROR backend closed the connection\r\n",
        [MSG_ERR_PROTOCOL] = "SERVER_ERROR backend sent an invalid reply\r\n",
        [MSG_ERR_NOMEM] = "SERVER_ERROR out of memory\r\n",
        [MSG_ERR_EJECTED] = "SERVER_ERROR backend ejected\r\n",
        [MSG_ERR_NOFD] = "SERVER_ERROR proxy out of file descriptors\r\n",
        [MSG_ERR_LOCAL] = "SERVER_ERROR proxy out of local resources\r\n",
        [MSG_ERR_AUTH] = "SERVER_ERROR backend refused authentication\r\n",
    };
    const char *s = lines[e < sizeof(lines) / sizeof(lines[0]) ? e : 0];
    *len = (uint32_t)strlen(s);
    return s;
}

/* ---- split requests: fragments and their merge ------------------------------------- */

static bool client_split_fallback(struct worker *w, struct msg *p);
static void split_drop_failed(struct worker *w, struct msg *p, bool unless_all);

static void parent_complete(struct worker *w, struct msg *p)
{
    struct msg *f;
    struct msg *bad = NULL;
    if (p->route_split && p->client != NULL && client_split_fallback(w, p))
        return; /* the keys it still lacks are asked of the route's next pool */
    if (p->route_split && p->mg != NULL)
        split_drop_failed(w, p, true); /* a pool that answered outweighs one that failed */
    while (p->warm_round > 0) {
        /* the old servers' answers to the keys that missed (and then, for gets gat gats, the
         * new servers' to the same request asked again after the copy). A hold on p while
         * they are taken: a request queued in there that fails at once cannot complete p
         * from inside */
        p->frags_pending++;
        bool again = warm_split_collect(w, p);
        if (--p->frags_pending > 0)
            return;
        if (!again)
            break;
    }
    for (f = p->frags; f != NULL; f = f->fnext)
        if (msg_mc_failed(f)) {
            bad = f;
            break;
        }

    if (bad == NULL && p->warm_split && !p->warm_round && p->client != NULL &&
        warm_split_round(w, p))
        return; /* its missed keys are looked up where they lived before the reload */
    svec_release(&p->rsp, &w->mbufs);
    client_note_reply(p->client, p->rsp_counted);
    if (p->client != NULL && p->client->rd != NULL) {
        rd_merge(w, p); /* redis has its own shapes of reply */
    } else if (p->client == NULL) {
        /* nobody to answer */
    } else if (bad != NULL && bad->err != MSG_OK) {
        uint32_t len;
        const char *line = msg_err_line(bad->err, false, &len);
        msg_set_reply(w, p, line, len);
        STAT_INC(p->client->pool->st->forward_error);
    } else if (bad != NULL) {
        /* a server's own error line (CLIENT_ERROR, SERVER_ERROR ...) answers the request */
        for (uint32_t i = 0; i < bad->rsp.n; i++)
            svec_push(&p->rsp, &w->mbufs, bad->rsp.v[i].ptr, bad->rsp.v[i].len, bad->rsp.v[i].buf);
    } else if (p->mg != NULL) {
        /* the fragments are freed below: their slices move over, references and all */
        uint32_t n = 1;
        for (f = p->frags; f != NULL; f = f->fnext)
            n += f->rsp.n;
        (void)svec_reserve(&p->rsp, n); /* failing, the moves grow it themselves */
        for (uint32_t k = 0; k < p->mg->nkeys; k++) {
            struct mget_item *it = &p->mg->items[k];
            if (it->frag != NULL)
                svec_move(&p->rsp, &w->mbufs, &it->frag->rsp, it->first, it->last);
        }
        svec_push(&p->rsp, &w->mbufs, (const uint8_t *)"END\r\n", 5, MBUF_NONE);
    } else if (!p->noreply) {
        /* a broadcast every server acknowledged */
        svec_push(&p->rsp, &w->mbufs, (const uint8_t *)"OK\r\n", 4, MBUF_NONE);
    }
    while ((f = p->frags) != NULL) {
        p->frags = f->fnext;
        msg_put(&w->msgs, &w->mbufs, f);
    }
    p->state = MS_ANSWERED;
    if (!p->in_client)
        msg_put(&w->msgs, &w->mbufs, p);
    else
        worker_mark_dirty(w, &p->client->o);
}

void msg_server_done(struct worker *w, struct msg *m)
{
    m->state = MS_ANSWERED;
    m->sconn = NULL;
    if (m->is_frag) {
        struct msg *p = m->parent;
        if (p == NULL)
            route_orphan_done(w, m);
        else if (p->routed)
            route_frag_done(w, p, m);
        else if (p->warm)
            warm_frag_done(w, p, m);
        else if (--p->frags_pending == 0)
            parent_complete(w, p);
        return;
    }
    client_note_reply(m->client, m->rsp_counted);
    if (m->err != MSG_OK && !m->noreply) {
        if (m->rsp_handed > 0) {
            /* part of this reply is already on its way: it cannot be ended cleanly, and an
             * error line would read as value bytes. What was sent stays; nothing follows it,
             * and the client is closed */
            svec_release_from(&m->rsp, &w->mbufs, m->rsp_handed);
            m->rsp_handed = 0;
            if (m->client != NULL)
                m->client->cut = m->client->close_now = true;
        } else {
            uint32_t len;
            const char *line = msg_err_line(m->err, m->redis, &len);
            msg_set_reply(w, m, line, len);
        }
    }
    if (m->err != MSG_OK && m->client != NULL)
        STAT_INC(m->client->pool->st->forward_error);
    if (!m->in_client)
        msg_put(&w->msgs, &w->mbufs, m);
    else if (m->client != NULL)
        worker_mark_dirty(w, &m->client->o);
}

void msg_drop_frags(struct worker *w, struct msg *p)
{
    struct msg *f;
    while ((f = p->frags) != NULL) {
        p->frags = f->fnext;
        msg_put(&w->msgs, &w->mbufs, f);
    }
    p->frags_pending = 0;
}

struct msg *msg_frag_new(struct worker *w, struct msg *p)
{
    struct msg *f = msg_get(&w->msgs);
    if (f == NULL)
        return NULL;
    f->is_frag = true;
    f->parent = p;
    f->cmd = p->cmd;
    f->rcmd = p->rcmd;
    f->noreply = p->noreply;
    f->state = MS_QUEUED; /* the server side's from birth: queued right after */
    f->redis = p->redis;
    f->fnext = p->frags;
    p->frags = f;
    p->frags_pending++;
    return f;
}

/* Sends a broadcast command (the original line, shared by reference) to every server. */
static void client_broadcast(struct worker *w, struct client *c, struct msg *m)
{
    /* a route's broadcast goes to every server of every pool it names */
    struct pool_rt *pools[CONF_ROUTE_MAX];
    uint32_t npools = 0;
    const struct conf_route *r = &c->pool->cp->route;
    if (r->kind == CONF_ROUTE_NONE) {
        pools[npools++] = c->pool;
    } else {
        for (uint32_t t = 0; t < r->ntargets; t++)
            if (r->target_idx[t] < w->npools)
                pools[npools++] = w->pools[r->target_idx[t]];
    }
    struct msg *f;
    bool nomem = false;
    m->state = MS_SPLIT;
    for (uint32_t p = npools; p-- > 0 && !nomem;) {
        for (uint32_t s = pools[p]->nservers; s-- > 0 && !nomem;) {
            f = msg_frag_new(w, m);
            if (f == NULL) {
                nomem = true;
                break;
            }
            /* pushed at the list head: the walk below meets them in pool and server order */
            f->server_idx = s;
            f->route_pool = p;
            for (uint32_t i = 0; i < m->req.n; i++)
                svec_push(&f->req, &w->mbufs, m->req.v[i].ptr, m->req.v[i].len, m->req.v[i].buf);
        }
    }
    svec_release(&m->req, &w->mbufs);
    if (nomem) {
        /* nothing is queued yet: one error rather than a broadcast that misses servers */
        msg_drop_frags(w, m);
        msg_set_reply(w, m, LIT("SERVER_ERROR out of memory\r\n"));
        return;
    }
    if (m->frags == NULL) {
        msg_set_reply(w, m, LIT("SERVER_ERROR backend unavailable\r\n"));
        return;
    }
    /* only the last fragment's failure can complete the parent (and free the list), and no
     * fragment follows it */
    for (f = m->frags; f != NULL;) {
        struct msg *next = f->fnext;
        server_enqueue(w, pools[f->route_pool], f->server_idx, f);
        f = next;
    }
}

/* Builds and queues one fragment per server of pool for the keys of split retrieval m (its
 * mg->keys) whose dest is not UINT32_MAX, each "<head>[<exp> ]<key> <key>...\r\n" in the
 * client's order. Each fragment's line is written out whole into bytes it owns: a copy of its
 * keys (tens of bytes each) costs less than forwarding them in place, which takes two slices
 * per key (the key and the space before it), a buffer reference each, and as many iovecs for
 * the kernel to walk. The keys stay referenced in place (mg->keys) for matching the replies.
 * Returns how many it queued (m may be answered and gone when that is more than 0: a fragment
 * can fail at once), or -1, with none of its fragments left, when memory ran out. */
static int split_build(struct worker *w, struct pool_rt *pool, struct msg *m, const char *head,
                       uint32_t hlen, const uint8_t *exp, uint32_t explen, const uint32_t *dest)
{
    struct mget *mg = m->mg;
    struct split_server {
        struct msg *frag;
        uint32_t count; /* keys */
        uint32_t fill;  /* bytes of its line written */
        uint64_t bytes; /* bytes of its keys, a separator each */
    } *per = calloc(pool->nservers ? pool->nservers : 1, sizeof(*per));
    if (per == NULL)
        return -1;
    uint32_t elen = exp != NULL ? explen + 1 : 0;
    for (uint32_t k = 0; k < mg->nkeys; k++) {
        if (dest[k] == UINT32_MAX)
            continue;
        per[dest[k]].count++;
        per[dest[k]].bytes += mg->keys[k].len + 1; /* a key and a space (or the "\r" at the end) */
    }
    struct msg *before = m->frags; /* new fragments go in front of these */
    bool failed = false;
    for (uint32_t k = 0; k < mg->nkeys && !failed; k++) {
        if (dest[k] == UINT32_MAX)
            continue;
        struct split_server *ps = &per[dest[k]];
        struct msg *f = ps->frag;
        if (f == NULL) {
            f = msg_frag_new(w, m);
            if (f == NULL || (f->frag_keys = malloc(ps->count * sizeof(uint32_t))) == NULL ||
                (f->owned = malloc(hlen + elen + ps->bytes + 1)) == NULL) {
                failed = true;
                break;
            }
            f->server_idx = dest[k];
            ps->frag = f;
            /* a hit is two slices (its VALUE line, its block), and END one */
            (void)svec_reserve(&f->rsp, 2 * ps->count + 1);
            memcpy(f->owned, head, hlen);
            ps->fill = hlen;
            if (elen > 0) {
                memcpy(f->owned + ps->fill, exp, explen);
                f->owned[ps->fill + explen] = ' ';
                ps->fill += elen;
            }
        } else {
            f->owned[ps->fill++] = ' ';
        }
        memcpy(f->owned + ps->fill, mg->keys[k].ptr, mg->keys[k].len);
        ps->fill += mg->keys[k].len;
        f->frag_keys[f->frag_nkeys++] = k;
    }
    if (failed) {
        /* nothing was queued yet: the new fragments go */
        while (m->frags != before) {
            struct msg *f = m->frags;
            m->frags = f->fnext;
            m->frags_pending--;
            msg_put(&w->msgs, &w->mbufs, f);
        }
        free(per);
        return -1;
    }
    int n = 0;
    for (uint32_t s = 0; s < pool->nservers; s++) {
        struct split_server *ps = &per[s];
        if (ps->frag == NULL)
            continue;
        n++;
        ps->frag->owned[ps->fill++] = '\r';
        ps->frag->owned[ps->fill++] = '\n';
        svec_push(&ps->frag->req, &w->mbufs, ps->frag->owned, ps->fill, MBUF_NONE);
        STAT_INC(pool->st->fragments);
    }
    /* queue in server order; a fragment may complete (fail) at once, so walk our own array */
    for (uint32_t s = 0; s < pool->nservers; s++)
        if (per[s].frag != NULL)
            server_enqueue(w, pool, s, per[s].frag);
    free(per);
    return n;
}

/* Splits a retrieval whose keys live on several servers. line stays valid until return;
 * keys are referenced in place (buf) or copied once into m->owned when the line was gathered
 * from several buffers (buf == MBUF_COPY). */
static void client_split_keys(struct worker *w, struct pool_rt *pool, struct msg *m,
                              const uint8_t *line, uint32_t len, uint32_t buf,
                              const struct mc_req *req, const uint32_t *dest)
{
    static const struct {
        const char *s;
        uint32_t n;
    } heads[MC_CMD_COUNT] = {
        [MC_GET] = {"get ", 4},   [MC_GETS] = {"gets ", 5}, [MC_GAT] = {"gat ", 4},
        [MC_GATS] = {"gats ", 5}, [MC_BGET] = {"get ", 4}, /* the old name of get: the same reply */
    };
    if (buf == MBUF_COPY) {
        m->owned = malloc(len);
        if (m->owned == NULL)
            goto out_nomem;
        memcpy(m->owned, line, len);
        line = m->owned;
        STAT_ADD(w->st.bytes_copied, len);
    }
    struct mget *mg = mget_new(req->nkeys, true);
    if (mg == NULL)
        goto out_nomem;
    m->mg = mg;
    for (uint32_t k = 0; k < req->nkeys; k++) {
        mg->keys[k] = (struct slice){line + req->keys[k].off, req->keys[k].len, buf};
        mbuf_get(&w->mbufs, buf);
        mg->nkeys++;
    }
    svec_release(&m->req, &w->mbufs);

    m->state = MS_SPLIT;
    const uint8_t *exp = m->cmd == MC_GAT || m->cmd == MC_GATS ? line + req->exptime.off : NULL;
    if (exp != NULL && req->exptime.len <= sizeof(mg->exp)) {
        memcpy(mg->exp, exp, req->exptime.len);
        mg->explen = (uint8_t)req->exptime.len;
    }
    if (split_build(w, pool, m, heads[m->cmd].s, heads[m->cmd].n, exp, req->exptime.len, dest) >= 0)
        return;
out_nomem:
    svec_release(&m->req, &w->mbufs);
    msg_set_reply(w, m, LIT("SERVER_ERROR out of memory\r\n"));
}

static void client_split(struct worker *w, struct pool_rt *pool, struct msg *m, const uint8_t *line,
                         uint32_t len, uint32_t buf, const struct mc_req *req, const uint32_t *dest)
{
    uint32_t spilled = MBUF_NONE;
    if (buf < w->mbufs.count && mbuf_pressure(&w->mbufs)) {
        /* the keys wait for every fragment's reply: under pressure they must not pin the
         * receive buffer, so the line moves to spill space first */
        const uint8_t *d;
        if (mbuf_spill_whole(&w->mbufs, line, len, &d, &spilled) == len) {
            line = d;
            buf = spilled;
            STAT_ADD(w->st.bytes_copied, len);
        }
    }
    client_split_keys(w, pool, m, line, len, buf, req, dest);
    mbuf_put(&w->mbufs, spilled); /* the keys and fragments hold their own references */
}

/* A failed fragment's keys are as good as missed: what it matched is forgotten, and it goes
 * (unless_all: not when every fragment failed, which is then the answer). */
static void split_drop_failed(struct worker *w, struct msg *p, bool unless_all)
{
    bool any_ok = false;
    for (struct msg *f = p->frags; f != NULL; f = f->fnext)
        any_ok |= !msg_mc_failed(f);
    if (unless_all && !any_ok)
        return;
    for (struct msg **fp = &p->frags; *fp != NULL;) {
        struct msg *f = *fp;
        if (!msg_mc_failed(f)) {
            fp = &f->fnext;
            continue;
        }
        for (uint32_t k = 0; k < p->mg->nkeys; k++)
            if (p->mg->items[k].frag == f)
                p->mg->items[k] = (struct mget_item){0};
        *fp = f->fnext;
        msg_put(&w->msgs, &w->mbufs, f);
    }
}

/* A multi-key get of a replicate route, split over one of its pools, has all its answers: the
 * keys that missed there, or whose fragment failed, are asked of the next pool (read_fallback),
 * in fragments of their own; the hits so far stay where they are, and the merge takes each key
 * from whichever fragment answered it. Returns true when such a round is under way. */
static bool client_split_fallback(struct worker *w, struct msg *p)
{
    const struct conf_route *r = &p->client->pool->cp->route;
    struct mget *mg = p->mg;
    if (r->kind != CONF_ROUTE_REPLICATE || !r->read_fallback || p->route_tried >= r->ntargets ||
        mg == NULL || mg->keys == NULL)
        return false;
    uint32_t t = (p->route_first + p->route_tried) % r->ntargets;
    struct pool_rt *pool = r->target_idx[t] < w->npools ? w->pools[r->target_idx[t]] : NULL;
    if (pool == NULL)
        return false;
    split_drop_failed(w, p, false);
    uint32_t missing = 0;
    for (uint32_t k = 0; k < mg->nkeys; k++)
        missing += mg->items[k].frag == NULL;
    if (missing == 0)
        return false;
    uint32_t *dest = malloc(mg->nkeys * sizeof(*dest));
    if (dest == NULL)
        return false;
    for (uint32_t k = 0; k < mg->nkeys; k++)
        dest[k] = mg->items[k].frag != NULL ? UINT32_MAX /* answered */
                                            : pool_route(w, pool, mg->keys[k].ptr, mg->keys[k].len);
    p->route_tried++;
    STAT_INC(w->st.route_retries);
    const char *head = p->cmd == MC_GETS ? "gets " : "get ";
    /* out of memory, or that pool is out too (no fragment): the keys stay misses */
    int n = split_build(w, pool, p, head, (uint32_t)strlen(head), NULL, 0, dest);
    free(dest);
    return n > 0;
}

/* ---- request lines --------------------------------------------------------------------- */

/* A reply the proxy wrote into malloc'd text (owned by m from here). */
static void msg_set_owned_reply(struct worker *w, struct msg *m, char *text, size_t len)
{
    if (text == NULL) {
        msg_set_reply(w, m, LIT("SERVER_ERROR out of memory\r\n"));
        return;
    }
    m->owned = (uint8_t *)text;
    svec_push(&m->rsp, &w->mbufs, m->owned, (uint32_t)len, MBUF_NONE);
    m->state = MS_ANSWERED;
}

/* stats and quit. `stats` speaks for the proxy: its own counters for this pool (from the last
 * `stats reset`), `stats settings` its configuration; sub-commands about a cache's insides
 * (items, slabs, sizes, conns, detail ...) are for the servers themselves: ERROR, the answer
 * memcached gives a sub-command it does not know. */
static void client_local(struct worker *w, struct client *c, struct msg *m, const uint8_t *line,
                         const struct mc_req *req)
{
    size_t len = 0;

    svec_release(&m->req, &w->mbufs);
    if (m->cmd == MC_QUIT) {
        m->state = MS_ANSWERED;
        c->eof = true;
        return;
    }
    if (m->cmd == MC_MN) {
        /* replies go back in request order, so this one leaves only after every earlier
         * request's reply, or its silence, is settled: what one memcached's MN means */
        msg_set_reply(w, m, LIT("MN\r\n"));
        return;
    }
    const uint8_t *sub = line + req->sub.off;
    uint32_t sublen = req->sub.len;
    if (sublen == 0) {
        char *text = stats_memcached(w->reg, c->pool->cp->name, &len);
        msg_set_owned_reply(w, m, text, len);
    } else if (sublen == 5 && memcmp(sub, "reset", 5) == 0) {
        stats_memcached_reset(w->reg, c->pool->cp->name);
        msg_set_reply(w, m, LIT("RESET\r\n"));
    } else if (sublen == 8 && memcmp(sub, "settings", 8) == 0) {
        char *text = stats_memcached_settings(w->reg, c->pool->cp->name, &len);
        msg_set_owned_reply(w, m, text, len);
    } else {
        msg_set_reply(w, m, LIT("ERROR\r\n"));
    }
}

/* A set whose value is over max_value_size is swallowed and answered here, but memcached,
 * failing such a set, also unlinks the key's old value so that no reader sees stale data: the
 * proxy asks the key's server for the same with a request of its own that no client waits for,
 * `delete <key> noreply` for a set, `md <key> [b] q` and an mn for a meta set (whose key may be
 * base64). req is the set's tokenized line. */
static void client_unlink_old(struct worker *w, struct client *c, const uint8_t *src,
                              const struct mc_req *req)
{
    bool meta = req->cmd == MC_MS;
    const char *head = meta ? "md " : "delete ";
    const char *tail = !meta      ? " noreply\r\n"
                       : req->b64 ? " b q\r\n" MC_META_END
                                  : " q\r\n" MC_META_END;
    uint8_t line[16 + MC_META_BKEY_MAX + 256];
    uint32_t klen = req->keys[0].len, hlen = (uint32_t)strlen(head), tlen = (uint32_t)strlen(tail);
    uint32_t len = hlen + klen + tlen, rlen;
    const uint8_t *rkey = mc_req_route_key(src, req, &rlen);
    const uint8_t *d;
    uint32_t buf = MBUF_NONE;
    struct msg *m;

    if (len > sizeof(line))
        return; /* keys are at most 250 bytes */
    memcpy(line, head, hlen);
    memcpy(line + hlen, src + req->keys[0].off, klen);
    memcpy(line + hlen + klen, tail, tlen);
    /* the line must outlive the send, which may still be in flight when the request, with no
     * reply to wait for, is done: spill space is reference-counted like the arena */
    if (mbuf_spill_whole(&w->mbufs, line, len, &d, &buf) != len ||
        (m = msg_get(&w->msgs)) == NULL) {
        mbuf_put(&w->mbufs, buf);
        STAT_INC(w->st.local_errors);
        return;
    }
    svec_push(&m->req, &w->mbufs, d, len, buf);
    mbuf_put(&w->mbufs, buf); /* the slice holds its own reference */
    mbuf_spill_seal(&w->mbufs);
    STAT_ADD(w->st.bytes_invented, len);
    m->cmd = meta ? MC_MD : MC_DELETE;
    m->noreply = !meta;
    m->quiet = meta; /* its reply (NF, or nothing) ends at the VERSION, and goes nowhere */
    m->redis = c->pool->cp->redis;
    m->state = MS_QUEUED;
    server_enqueue(w, c->pool, pool_route(w, c->pool, rkey, rlen), m);
}

/* A storage request whose data block is whole goes to the server its key was routed to, or,
 * when a reload came in between (the ring and the servers' indices may have changed), to the
 * server the key maps to now: the key is read back from the request's own bytes. */
uint32_t msg_route_in(struct worker *w, struct pool_rt *pool, const struct msg *m, uint32_t *old)
{
    if (old != NULL)
        *old = UINT32_MAX;
    uint8_t small[256], *key = small;
    if (m->key_len > sizeof(small) && (key = malloc(m->key_len)) == NULL)
        return UINT32_MAX;
    uint32_t klen = m->key_len, idx = UINT32_MAX;
    if (svec_copy_out(&m->req, m->key_off, m->key_len, key, NULL)) {
        if (m->key_b64) {
            /* decoded in place: it is never longer than its base64 */
            uint8_t dec[MC_META_BKEY_MAX];
            size_t n = mc_b64_decode(key, klen, dec, sizeof(dec));
            if (n > 0) {
                memcpy(key, dec, n);
                klen = (uint32_t)n;
            }
        }
        idx = pool_route(w, pool, key, klen);
        if (old != NULL && idx != UINT32_MAX)
            *old = pool_route_prev(w, pool, key, klen);
    }
    if (key != small)
        free(key);
    return idx;
}

static void client_enqueue_stored(struct worker *w, struct client *c, struct msg *m)
{
    if (route_is(c->pool)) {
        route_start(w, c, m, true);
        return;
    }
    if (m->warm_stored && m->route_seq == w->view->seq) {
        warm_write(w, m, c->pool, m->server_idx, m->warm_old);
        return;
    }
    if (m->route_seq != w->view->seq)
        m->server_idx = msg_route_in(w, c->pool, m, NULL);
    server_enqueue(w, c->pool, m->server_idx, m);
}

/* Handles one complete command line of request m. buf is the arena buffer holding the whole
 * line, or MBUF_COPY when it was gathered into c->line. */
static void client_line(struct worker *w, struct client *c, struct msg *m, const uint8_t *line,
                        uint32_t len, uint32_t buf)
{
    struct pool_rt *pool = c->pool;
    struct mc_req req = {.keys = w->keyscratch, .key_cap = w->keycap};
    enum mc_parse_result r = mc_req_parse_line(line, len, &pool->limits, &req);
    m->cmd = req.cmd;
    m->noreply = req.noreply;
    STAT_INC(w->st.requests);
    if (req.cmd > MC_CMD_NONE && req.cmd < MC_CMD_COUNT)
        STAT_INC(pool->st->mc_cmds[req.cmd]);

    if (r != MC_PARSE_OK) {
        uint32_t rlen;
        const char *reply = mc_parse_reply(r, &rlen);
        svec_release(&m->req, &w->mbufs);
        if (r == MC_PARSE_CLOSE) {
            /* an HTTP request: no word, as from memcached; what came before is answered */
            m->state = MS_ANSWERED;
            c->eof = true;
            STAT_INC(pool->st->client_err);
            return;
        }
        msg_set_reply(w, m, reply, rlen);
        if (r == MC_PARSE_NO_KEYS)
            return;
        STAT_INC(pool->st->client_err);
        if (r == MC_PARSE_TOO_LARGE || r == MC_PARSE_META_BAD_KEY) {
            /* the block is swallowed, then the error may go */
            mc_framer_expect_data(&c->fr, req.data_len, true);
            m->state = MS_SWALLOWING;
            if (r == MC_PARSE_TOO_LARGE && (req.cmd == MC_SET || req.cmd == MC_MS))
                client_unlink_old(w, c, line, &req);
        }
        return;
    }

    const struct mc_cmd_info *ci = mc_cmd_info(req.cmd);
    bool routed = route_is(pool);
    uint32_t read_target = 0;
    if (routed && (ci->kind == MC_KIND_ANY || (ci->kind == MC_KIND_RETRIEVAL && req.nkeys > 1))) {
        /* the pool a route reads from serves these as its own (a multi-key get splits over
         * its servers, without falling back) */
        struct pool_rt *rp = route_read_pool(w, pool, &read_target);
        if (rp == NULL) {
            svec_release(&m->req, &w->mbufs);
            msg_set_reply(w, m, LIT("SERVER_ERROR backend unavailable\r\n"));
            return;
        }
        pool = rp;
    }
    switch (ci->kind) {
    case MC_KIND_LOCAL:
        client_local(w, c, m, line, &req);
        return;
    case MC_KIND_BROADCAST:
        client_broadcast(w, c, m);
        return;
    case MC_KIND_ANY:
        /* whichever server the empty key maps to (another when that one is ejected) */
        server_enqueue(w, pool, pool_route(w, pool, (const uint8_t *)"", 0), m);
        return;
    case MC_KIND_STORAGE:
    case MC_KIND_META_SET:
        mc_framer_expect_data(&c->fr, req.data_len, false);
        break;
    case MC_KIND_META:
        break;
    case MC_KIND_RETRIEVAL:
        m->nkeys = req.nkeys;
        c->keys_queued += req.nkeys;
        break;
    case MC_KIND_KEYED:
        break;
    case MC_KIND_REFUSED:
    default:
        /* the parser answers these ERROR itself; nothing of them may reach a server */
        svec_release(&m->req, &w->mbufs);
        msg_set_reply(w, m, LIT("ERROR\r\n"));
        return;
    }

    uint32_t rlen;
    const uint8_t *rkey = mc_req_route_key(line, &req, &rlen);
    uint32_t dest = pool_route(w, pool, rkey, rlen);
    /* a quiet meta request may have no reply at all: the MC_META_END after it (sent once the
     * request is whole) says where its reply ends. Requests are forwarded untouched; this is the
     * one thing the proxy adds */
    m->quiet = req.quiet;
    if (m->quiet && ci->kind == MC_KIND_META)
        svec_push(&m->req, &w->mbufs, (const uint8_t *)MC_META_END, MC_META_END_LEN, MBUF_NONE);
    m->key_off = req.keys[0].off;
    m->key_len = req.keys[0].len;
    m->key_b64 = req.b64;
    /* resharding warm-up: a key whose server the last reload changed */
    uint32_t old = routed || dest == UINT32_MAX ? UINT32_MAX : pool_route_prev(w, pool, rkey, rlen);
    if (old != UINT32_MAX && old != dest) {
        if (ci->kind == MC_KIND_STORAGE || ci->kind == MC_KIND_META_SET) {
            m->warm_stored = true; /* once its block is whole (client_enqueue_stored) */
            m->warm_old = old;
        } else if ((ci->kind == MC_KIND_RETRIEVAL && req.nkeys == 1) || req.cmd == MC_MG) {
            warm_get(w, m, pool, dest, old); /* get gets gat gats, mg */
            return;
        } else if (ci->kind == MC_KIND_KEYED || req.cmd == MC_MD || req.cmd == MC_MA) {
            warm_write(w, m, pool, dest, old);
            return;
        }
    }
    if (ci->kind == MC_KIND_STORAGE || ci->kind == MC_KIND_META_SET) {
        /* queued once its data block is whole (client_parse, MC_DONE): a server connection
         * never carries part of a request, so a client that stops or vanishes halfway costs
         * nobody else anything */
        m->server_idx = dest;
        m->route_seq = w->view->seq;
        return;
    }
    if (routed && pool == c->pool) {
        /* one key: writes (delete incr decr touch, md ma) to the route's pools, reads to one
         * of them with its fallbacks */
        bool write = ci->kind == MC_KIND_KEYED || req.cmd == MC_MD || req.cmd == MC_MA;
        route_start(w, c, m, write);
        return;
    }
    if (ci->kind == MC_KIND_RETRIEVAL && req.nkeys > 1) {
        /* where does every key go? one server: forward the line untouched */
        uint32_t *dests = w->destscratch;
        bool split = false;
        dests[0] = dest;
        for (uint32_t k = 1; k < req.nkeys; k++) {
            dests[k] = pool_route(w, pool, line + req.keys[k].off, req.keys[k].len);
            split |= dests[k] != dest;
        }
        if (!routed && req.cmd != MC_BGET && pool_warming(w, pool)) {
            /* a warming pool splits every multi-key get, even onto one server: the keys that
             * miss are looked up on their old servers (warm_split_round) */
            m->warm_split = true;
            split = true;
        }
        if (routed && req.cmd != MC_GAT && req.cmd != MC_GATS) {
            /* a replicated read always splits, even onto one server: the keys that miss (or
             * fail) there are asked of the route's next pool (client_split_fallback) */
            m->route_split = true;
            m->route_first = (uint8_t)read_target;
            m->route_tried = 1;
            split = true;
            if (dest == UINT32_MAX) {
                for (uint32_t k = 1; k < req.nkeys && dest == UINT32_MAX; k++)
                    dest = dests[k];
                if (dest == UINT32_MAX)
                    dest = 0; /* the whole pool is out: its fragments fail, the next pool asks */
            }
        }
        if (split && dest != UINT32_MAX) {
            bool alldown = true;
            for (uint32_t k = 0; k < req.nkeys; k++)
                alldown &= dests[k] == UINT32_MAX;
            if (!alldown || m->route_split) {
                for (uint32_t k = 0; k < req.nkeys; k++)
                    if (dests[k] == UINT32_MAX)
                        dests[k] = dest;
                client_split(w, pool, m, line, len, buf, &req, dests);
                return;
            }
        }
    }
    server_enqueue(w, pool, dest, m);
}

/* ---- receive path ------------------------------------------------------------------- */

struct msg *client_new_msg(struct worker *w, struct client *c)
{
    struct msg *m = msg_get(&w->msgs);
    if (m == NULL)
        return NULL;
    m->client = c;
    m->in_client = true;
    m->redis = c->pool->cp->redis;
    if (c->qtail != NULL)
        c->qtail->cnext = m;
    else
        c->qhead = m;
    c->qtail = m;
    c->nqueued++;
    return m;
}

/* Frames and handles the bytes buf[pos, n). Between two requests, a full backlog stops it:
 * returns where it stopped (n when every byte was used; the caller holds the rest). */
static size_t client_parse(struct worker *w, struct client *c, uint32_t buf, size_t pos, uint32_t n)
{
    const uint8_t *base = mbuf_data(&w->mbufs, buf);
    const struct mc_limits *lim = &c->pool->limits;

    if (!c->spoke && n > pos) {
        c->spoke = true;
        if (base[0] == 0x80) {
            /* memcached's binary protocol, which the proxy does not speak: a clean close */
            c->close_now = true;
            STAT_INC(c->pool->st->client_err);
        }
    }
    while (pos < n && !c->close_now && !c->eof) {
        struct msg *m = c->cur;
        if (m == NULL && client_backlog_full(c))
            break;
        if (m == NULL) {
            m = c->cur = client_new_msg(w, c);
            if (m == NULL) {
                c->close_now = true;
                break;
            }
        }
        bool in_line = c->fr.state == MC_FS_LINE;
        size_t used = 0;
        enum mc_status st = mc_framer_feed(&c->fr, lim, base + pos, n - pos, &used);
        const uint8_t *chunk = base + pos;
        pos += used;

        if (in_line) {
            svec_push_wait(&m->req, &w->mbufs, chunk, (uint32_t)used, buf, false);
            if (st == MC_AGAIN && used > 0) {
                /* the line goes on in the next buffer: gather it for the tokenizer */
                if (linebuf_append(&c->line, chunk, (uint32_t)used, lim->max_line) < 0) {
                    msg_client_error(w, m, "line too long");
                    c->close_now = true;
                }
                STAT_ADD(w->st.line_assembly, used);
            }
        } else if (used > 0 && m->state == MS_RECEIVING) {
            /* a data block is kept (by reference; spilled under pressure) until it is whole */
            svec_push_wait(&m->req, &w->mbufs, chunk, (uint32_t)used, buf, false);
        }

        switch (st) {
        case MC_AGAIN:
            break;
        case MC_LINE: {
            bool gathered = c->line.len > 0;
            uint32_t len;
            const uint8_t *line =
                linebuf_finish(&c->line, chunk, (uint32_t)used, lim->max_line, &len);
            if (line == NULL) {
                msg_client_error(w, m, "line too long");
                c->close_now = true;
                break;
            }
            if (gathered)
                STAT_ADD(w->st.line_assembly, used);
            client_line(w, c, m, line, len, gathered ? MBUF_COPY : buf);
            linebuf_reset(&c->line);
            if (c->fr.state == MC_FS_LINE_DONE) {
                /* no data block follows: the request ends with its line */
                size_t none;
                mc_framer_feed(&c->fr, lim, base + pos, 0, &none);
                c->cur = NULL;
            }
            break;
        }
        case MC_DONE:
            c->cur = NULL;
            if (m->state == MS_RECEIVING && c->fr.bad_chunk) {
                /* memcached read the block's length and two bytes, found no "\r\n" at its
                 * end and goes on after them: so does the proxy, forwarding nothing */
                svec_release(&m->req, &w->mbufs);
                msg_set_reply(w, m, LIT("CLIENT_ERROR bad data chunk\r\n"));
                STAT_INC(c->pool->st->client_err);
            } else if (m->state == MS_RECEIVING) {
                if (m->quiet)
                    svec_push(&m->req, &w->mbufs, (const uint8_t *)MC_META_END, MC_META_END_LEN,
                              MBUF_NONE);
                client_enqueue_stored(w, c, m); /* whole: now it may go */
            } else if (m->state == MS_SWALLOWING) {
                m->state = MS_ANSWERED; /* the block is over: the error reply may go */
            }
            break;
        case MC_ERROR:
            /* a line too long: nothing of this request reached a server. memcached closes
             * without a word unless it is a get or gets (over max_request_line here) */
            STAT_INC(c->pool->st->client_err);
            c->close_now = true;
            if (msg_server_held(m))
                break;
            if (mc_framer_silent_close(&c->fr)) {
                svec_release(&m->req, &w->mbufs);
                m->state = MS_ANSWERED;
            } else {
                msg_client_error(w, m, c->fr.error ? c->fr.error : "bad request");
            }
            break;
        }
    }
    if (!c->close_now && !c->eof && c->cur != NULL && mc_framer_line_overdue(&c->fr)) {
        /* memcached's rule, at the same step (a read): over 2048 bytes of a line other than
         * a get and still no newline is garbage, the connection is closed without a word */
        struct msg *m = c->cur;
        svec_release(&m->req, &w->mbufs);
        linebuf_reset(&c->line);
        m->state = MS_ANSWERED;
        c->close_now = true;
        STAT_INC(c->pool->st->client_err);
    }
    if (c->close_now)
        c->cur = NULL; /* nothing more is read from this client */
    if (c->close_now || c->eof)
        pos = n; /* the rest is never read */
    client_check_backlog(w, c);
    /* replies the proxy wrote itself (errors, version, stats) go out with this batch */
    if (c->close_now || c->eof || (c->qhead != NULL && msg_reply_ready(c->qhead)))
        worker_mark_dirty(w, &c->o);
    return pos;
}

/* Drops the request being received (c->cur, the last of the queue), which never reached a
 * server: its client stopped sending halfway. */
static void client_drop_partial(struct worker *w, struct client *c)
{
    struct msg *m = c->cur;
    if (m == NULL)
        return;
    c->cur = NULL;
    linebuf_reset(&c->line);
    if (msg_server_held(m))
        log_panic("request being received is queued on a server"); /* queued only once whole */
    struct msg *prev = NULL;
    for (struct msg *x = c->qhead; x != NULL && x != m; x = x->cnext)
        prev = x;
    if (prev == NULL)
        c->qhead = m->cnext;
    else
        prev->cnext = m->cnext;
    if (c->qtail == m)
        c->qtail = prev;
    c->nqueued--;
    m->in_client = false;
    m->client = NULL;
    msg_put(&w->msgs, &w->mbufs, m);
}

/* ---- send path ----------------------------------------------------------------------- */

void client_flush(struct worker *w, struct client *c)
{
    if (c->o.closing || (c->send != NULL && c->send->busy))
        return;
    if (c->cut) {
        /* what was sent of the cut reply is out: any later reply would be read as its rest */
        client_linger(w, c);
        return;
    }
    struct sendrec *s = c->send;
    if (s == NULL) {
        s = sendrec_take(&w->sendrecs);
        if (s == NULL) {
            client_close(w, c);
            return;
        }
        c->send = s;
    }
    struct msg *m;
    while ((m = c->qhead) != NULL) {
        if (m->noreply) {
            /* noreply means no reply, whatever became of the request (errors included) */
            if (!msg_reply_ready(m))
                break;
            svec_release_from(&m->rsp, &w->mbufs, m->rsp_handed);
        } else {
            /* a reply streams only once its first line has been checked: a server's garbage
             * must never reach the client (a quiet one only once it is whole: the VERSION that
             * ends it is not the client's) */
            while (m->rsp_handed < m->rsp.n &&
                   (m->state == MS_ANSWERED || (m->rsp_type != 0 && !m->quiet)) &&
                   !sendrec_full(s)) {
                const struct slice *sl = &m->rsp.v[m->rsp_handed++];
                sendrec_add(s, sl);
                slice_account(w, sl);
            }
            m->rsp.sealed = m->rsp_handed;
            if (m->rsp_handed < m->rsp.n || !msg_reply_ready(m))
                break;
            /* a reply the proxy generated lives in m->owned: the send keeps it alive */
            if (m->owned != NULL) {
                if (!sendrec_own(s, m->owned))
                    break;
                m->owned = NULL;
            }
            /* every slice of this reply now belongs to the send */
            svec_forget(&m->rsp);
        }
        c->qhead = m->cnext;
        if (c->qhead == NULL)
            c->qtail = NULL;
        c->nqueued--;
        c->keys_queued -= m->nkeys;
        m->nkeys = 0;
        c->rsp_queued -= m->rsp_counted;
        m->rsp_counted = 0;
        m->rsp_handed = 0;
        m->in_client = false;
        m->client = NULL;
        if (!msg_server_held(m))
            msg_put(&w->msgs, &w->mbufs, m);
    }
    if (c->paused && client_backlog_low(c))
        client_resume(w, c);
    if (s->niov > 0) {
        if (worker_send(w, &c->o, s) < 0)
            client_close(w, c);
        return;
    }
    sendrec_give(&w->sendrecs, s);
    c->send = NULL;
    if (c->qhead == NULL && (c->eof || c->close_now))
        client_linger(w, c);
    else if (c->paused && client_backlog_low(c))
        client_resume(w, c);
}

static void client_sent(struct worker *w, struct client *c, int res)
{
    struct sendrec *s = c->send;
    if (res <= 0) {
        if (res != -ECANCELED)
            STAT_INC(c->pool->st->client_err);
        client_close(w, c);
        return;
    }
    c->last_active = w->now;
    if (!sendrec_advance(s, (uint32_t)res)) {
        /* short send: the rest goes at once, before anything newer */
        if (worker_send(w, &c->o, s) < 0)
            client_close(w, c);
        return;
    }
    c->send = NULL;
    worker_send_release(w, s);
    client_flush(w, c);
}

void clients_idle_sweep(struct worker *w)
{
    struct client *next;
    for (struct client *c = w->clients; c != NULL; c = next) {
        next = c->next;
        int tmo = c->pool->cp->client_idle_timeout_ms;
        /* waiting for the proxy is not idling; sitting on half a request is */
        bool waiting = c->qhead != NULL && !(c->qhead == c->cur && c->cur->cnext == NULL);
        if (tmo <= 0 || c->o.closing || c->lingering || waiting || c->send != NULL)
            continue;
        if (w->now - c->last_active < (uint64_t)tmo * 1000000ULL)
            continue;
        STAT_INC(w->st.clients_idle_closed);
        client_close(w, c);
    }
}

void clients_probe_quiet(struct worker *w)
{
    if (w->now - w->last_probe < 1000000000ULL)
        return;
    w->last_probe = w->now;
    for (struct client *c = w->clients; c != NULL; c = c->next) {
        if (c->o.closing || c->lingering || !c->recv_armed || c->paused ||
            w->now - c->last_active < CLIENT_PROBE_NS || w->now - c->probed < CLIENT_PROBE_NS)
            continue;
        c->probed = w->now;
        struct pollfd p = {.fd = c->o.fd, .events = POLLRDHUP};
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            (void)w->io->ops->recv_stop(w->io, c->o.fd, c); /* its ECANCELED re-arms it */
    }
}

uint64_t client_waiting_bytes(const struct client *c)
{
    uint64_t b = 0;
    for (const struct msg *m = c->qhead; m != NULL; m = m->cnext) {
        b += svec_bytes(&m->req) + svec_bytes(&m->rsp);
        for (const struct msg *f = m->frags; f != NULL; f = f->fnext)
            b += svec_bytes(&f->req) + svec_bytes(&f->rsp);
    }
    return b;
}

/* ---- life cycle --------------------------------------------------------------------- */

void client_rearm(struct worker *w, struct client *c)
{
    if (c->starved) {
        c->starved = false;
        w->nstarved--;
    }
    if (c->recv_armed || c->o.closing)
        return;
    if (!c->lingering && (c->paused || c->eof || c->close_now))
        return;
    if (w->io->ops->recv(w->io, c->o.fd, c) == 0) {
        c->recv_armed = true;
        c->o.pending++;
    } else {
        client_close(w, c);
    }
}

/* Reading resumes once a paused client's backlog has halved. */
static void client_resume(struct worker *w, struct client *c)
{
    c->paused = false;
    client_drain_held(w, c);
    if (c->held != NULL || c->rx_eof)
        return; /* parsing stopped again (client_parse paused it) */
    client_rearm(w, c);
}

void client_accept(struct worker *w, struct pool_rt *pool, int fd)
{
    const struct conf_pool *cp = pool->cp;
    if (cp->client_connections > 0) {
        uint64_t total = 0;
        for (uint32_t i = 0; i < w->reg->nworkers; i++)
            total += STAT_GET(stats_layout_pool(w->view->stats, i, pool->idx)->client_connections);
        if (total >= (uint64_t)cp->client_connections) {
            log_info("pool '%s': client_connections limit %d reached, closing a new client",
                     cp->name, cp->client_connections);
            close(fd);
            return;
        }
    }
    struct client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    c->o.type = OWNER_CLIENT;
    c->o.fd = fd;
    c->pool = pool;
    mc_framer_init(&c->fr, false);
    if (cp->redis && rd_conn_init(w, c) < 0) {
        close(fd);
        free(c);
        return;
    }
    c->next = w->clients;
    if (w->clients != NULL)
        w->clients->prev = c;
    w->clients = c;
    net_client_setup(fd, cp->listen.unix_path == NULL, cp->tcpkeepalive);
    c->last_active = w->now;
    STAT_INC(w->st.curr_connections);
    STAT_INC(w->st.total_connections);
    STAT_INC(pool->st->client_connections);
    pool->nclients++;
    client_rearm(w, c);
}

/* The client is done sending: answer what it asked, then close. A request it left unfinished
 * was never queued anywhere: it goes now. */
static void client_end_of_input(struct worker *w, struct client *c)
{
    client_drop_partial(w, c);
    c->eof = c->fin = true;
    STAT_INC(c->pool->st->client_eof);
    worker_mark_dirty(w, &c->o);
}

/* Frames and handles buf[pos, n) in the client's protocol. */
static size_t client_parse_any(struct worker *w, struct client *c, uint32_t buf, size_t pos,
                               uint32_t n)
{
    if (c->rd != NULL)
        return rd_client_parse(w, c, buf, pos, n);
    return client_parse(w, c, buf, pos, n);
}

/* Parses what was held while the backlog was full, as far as the backlog lets it. */
static void client_drain_held(struct worker *w, struct client *c)
{
    struct held *h;
    while ((h = c->held) != NULL && !client_backlog_full(c) && !c->eof && !c->close_now) {
        size_t end = (size_t)h->off + h->len;
        size_t done = client_parse_any(w, c, h->buf, h->off, (uint32_t)end);
        if (done < end) {
            /* stopped again: the rest stays first in line */
            h->len = (uint32_t)(end - done);
            h->off = (uint32_t)done;
            break;
        }
        c->held = h->next;
        if (c->held == NULL)
            c->held_tail = NULL;
        mbuf_put(&w->mbufs, h->buf);
        free(h);
    }
    if (c->eof || c->close_now)
        client_release_held(w, c);
    else if (c->held != NULL)
        client_check_backlog(w, c); /* stopped between two buffers: full, paused again */
    if (c->held == NULL && c->rx_eof && !c->eof && !c->close_now) {
        c->rx_eof = false;
        client_end_of_input(w, c);
    }
    client_retire_check(w, c);
}

void client_event(struct worker *w, struct client *c, const struct io_event *ev)
{
    if (c->lingering) {
        client_linger_event(w, c, ev);
        return;
    }
    switch (ev->kind) {
    case IO_RECV:
        if (!(ev->flags & IO_F_MORE))
            c->recv_armed = false;
        if (ev->res > 0 && (ev->flags & IO_F_BUF)) {
            c->last_active = w->now;
            if (c->eof || c->close_now || c->rx_eof)
                ; /* nothing more is read from it */
            else if (c->held != NULL) {
                /* a stopped recv may still deliver what it had: in order, behind the rest */
                if (!client_hold(w, c, ev->buf, 0, (uint32_t)ev->res))
                    c->close_now = true;
            } else {
                size_t done = client_parse_any(w, c, ev->buf, 0, (uint32_t)ev->res);
                if (done < (size_t)ev->res &&
                    !client_hold(w, c, ev->buf, (uint32_t)done, (uint32_t)(ev->res - done)))
                    c->close_now = true;
            }
            mbuf_put(&w->mbufs, ev->buf);
            if (c->retire_left > 0) {
                c->retire_left =
                    (uint32_t)ev->res >= c->retire_left ? 0 : c->retire_left - (uint32_t)ev->res;
                client_retire_check(w, c);
            }
            if (!(ev->flags & IO_F_MORE))
                client_rearm(w, c);
        } else if (ev->res == 0 && c->held != NULL) {
            c->rx_eof = c->fin = true; /* acted on after the held bytes */
        } else if (ev->res == 0) {
            client_end_of_input(w, c);
        } else if (ev->res == -ENOBUFS) {
            if (!c->starved) {
                c->starved = true;
                w->nstarved++;
            }
        } else if (ev->res == -ECANCELED) {
            /* a pause stopped the recv; if the backlog drained meanwhile, read again */
            if (!c->paused)
                client_rearm(w, c);
        } else if (ev->res < 0) {
            STAT_INC(c->pool->st->client_err);
            client_close(w, c);
        }
        break;
    case IO_SEND:
        client_sent(w, c, ev->res);
        break;
    default:
        break;
    }
}

/* Lets go of c's requests and stops counting it as connected; its descriptor stays open. */
static void client_detach(struct worker *w, struct client *c)
{
    if (c->detached)
        return;
    c->detached = true;
    /* detach every request. One still being received (its data block not whole) was never
     * queued on a server and goes at once, and so does one queued but not yet sent; the rest are
     * complete requests a server already has, so the connection stays in step: they are
     * answered and their replies dropped as they arrive */
    struct msg *m = c->qhead;
    while (m != NULL) {
        struct msg *next = m->cnext;
        svec_release_from(&m->rsp, &w->mbufs, m->rsp_handed);
        m->rsp_handed = 0;
        m->in_client = false;
        m->client = NULL;
        /* the answered parts of a split request wait for the others: nobody will read them */
        for (struct msg *f = m->frags; f != NULL; f = f->fnext)
            if (f->state == MS_ANSWERED)
                svec_release(&f->rsp, &w->mbufs);
        if (!msg_server_held(m))
            msg_put(&w->msgs, &w->mbufs, m);
        else if (!m->noreply)
            server_drop_unsent(w, m); /* nobody waits for it: do not send it at all */
        /* a noreply write was fire-and-forget from the start: it still goes, as memcached would
         * have carried it out once it had read it */
        m = next;
    }
    c->qhead = c->qtail = c->cur = NULL;
    c->nqueued = 0;
    client_release_held(w, c);
    c->rx_eof = false;
    STAT_DEC(w->st.curr_connections);
    STAT_DEC(c->pool->st->client_connections);
}

void client_close(struct worker *w, struct client *c)
{
    if (c->o.closing)
        return;
    if (c->starved) {
        c->starved = false;
        w->nstarved--;
    }
    if (c->lingering) {
        c->lingering = false;
        w->nlingering--;
    }
    client_detach(w, c);
    worker_close_owner(w, &c->o);
}

/* The close of a client the proxy is done with (see CLIENT_LINGER_STALL_NS in client.h). No send
 * is in flight. A client that sent its EOF can send nothing more, and one whose bytes the kernel
 * has all delivered loses nothing to a reset: both are closed at once. */
static void client_linger(struct worker *w, struct client *c)
{
    if (c->o.closing || c->lingering)
        return;
    int outq = 0;
    if (c->fin || ioctl(c->o.fd, SIOCOUTQ, &outq) < 0 || outq == 0 ||
        shutdown(c->o.fd, SHUT_WR) < 0) {
        client_close(w, c);
        return;
    }
    client_detach(w, c);
    c->lingering = true;
    w->nlingering++;
    c->close_now = true;
    c->paused = false;
    c->linger_outq = (uint32_t)outq;
    c->linger_since = c->linger_moved = w->now;
    STAT_INC(w->st.clients_lingered);
    client_rearm(w, c); /* a receive still armed (or being stopped) goes on, or re-arms */
}

/* A lingering client's events: its bytes are dropped; its EOF or an error ends it. */
static void client_linger_event(struct worker *w, struct client *c, const struct io_event *ev)
{
    if (ev->kind != IO_RECV)
        return;
    if (!(ev->flags & IO_F_MORE))
        c->recv_armed = false;
    if (ev->res > 0 && (ev->flags & IO_F_BUF)) {
        mbuf_put(&w->mbufs, ev->buf);
        if (!c->recv_armed)
            client_rearm(w, c);
    } else if (ev->res == -ECANCELED || ev->res == -ENOBUFS) {
        /* a pause's stop, or no buffer free: read on (a starved receive re-arms when buffers
         * come back) */
        if (ev->res == -ENOBUFS && !c->starved) {
            c->starved = true;
            w->nstarved++;
        } else if (ev->res == -ECANCELED) {
            client_rearm(w, c);
        }
    } else {
        client_close(w, c); /* the client closed, or its connection failed */
    }
}

void clients_linger_sweep(struct worker *w)
{
    struct client *next;
    for (struct client *c = w->clients; c != NULL && w->nlingering > 0; c = next) {
        next = c->next;
        if (!c->lingering || c->o.closing)
            continue;
        int outq = 0;
        if (ioctl(c->o.fd, SIOCOUTQ, &outq) < 0 || outq == 0) {
            client_close(w, c);
            continue;
        }
        if ((uint32_t)outq < c->linger_outq) {
            c->linger_outq = (uint32_t)outq;
            c->linger_moved = w->now;
        }
        if (w->now - c->linger_moved > CLIENT_LINGER_STALL_NS ||
            w->now - c->linger_since > CLIENT_LINGER_MAX_NS) {
            STAT_INC(w->st.linger_abandoned);
            client_close(w, c);
        }
    }
}

/* A retiring client whose input from before the retirement is all read and parsed: from here
 * on, nothing more is read. */
static void client_retire_check(struct worker *w, struct client *c)
{
    if (!c->retiring || c->eof || c->o.closing || c->retire_left > 0 || c->held != NULL)
        return;
    client_drop_partial(w, c);
    c->eof = true;
    worker_mark_dirty(w, &c->o);
}

void client_retire(struct worker *w, struct client *c)
{
    if (c->o.closing || c->eof || c->retiring)
        return;
    c->retiring = true;
    /* a request the client sent just before (still in its socket) was asked before the drain
     * began, as much as one already read: it is read and answered too */
    int pending = 0;
    if (!c->close_now && ioctl(c->o.fd, FIONREAD, &pending) == 0 && pending > 0)
        c->retire_left = (uint32_t)pending;
    client_retire_check(w, c);
}

void client_free(struct worker *w, struct client *c)
{
    if (!c->o.closing)
        client_close(w, c);
    c->pool->nclients--;
    if (c->send != NULL)
        worker_send_release(w, c->send);
    linebuf_free(&c->line);
    rd_conn_free(c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c);
}

/* Redis servers: frame each reply as its bytes arrive (forwarding them as slices of the buffers
 * they landed in), check that the parts of a split request have the shape the merge needs, count
 * -OOM / -BUSY / -LOADING as the server's failures, and start every connection with the pool's
 * AUTH and SELECT. */
#include "src/rd_server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd_cmd.h"
#include "src/client.h"
#include "src/log.h"
#include "src/server.h"

/* "*N\r\n" then each argument as "$len\r\n<bytes>\r\n", malloc'd; NULL when out of memory. */
static char *rd_encode(uint32_t *out_len, uint32_t argc, const char *const *argv)
{
    size_t size = 24;
    for (uint32_t i = 0; i < argc; i++)
        size += 24 + strlen(argv[i]) + 2;
    char *b = malloc(size);
    if (b == NULL)
        return NULL;
    size_t pos = (size_t)snprintf(b, size, "*%u\r\n", argc);
    for (uint32_t i = 0; i < argc; i++)
        pos += (size_t)snprintf(b + pos, size - pos, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    *out_len = (uint32_t)pos;
    return b;
}

int rd_pool_init(struct pool_rt *pool)
{
    const struct conf_pool *cp = pool->cp;
    if (!cp->redis)
        return 0;
    if (cp->redis_auth != NULL) {
        const char *argv[] = {"AUTH", cp->redis_auth};
        pool->rd_auth_cmd = rd_encode(&pool->rd_auth_len, 2, argv);
        if (pool->rd_auth_cmd == NULL)
            return -1;
    }
    if (cp->redis_db != 0) {
        char db[16];
        snprintf(db, sizeof(db), "%d", cp->redis_db);
        const char *argv[] = {"SELECT", db};
        pool->rd_select_cmd = rd_encode(&pool->rd_select_len, 2, argv);
        if (pool->rd_select_cmd == NULL)
            return -1;
    }
    return 0;
}

void rd_pool_destroy(struct pool_rt *pool)
{
    free(pool->rd_auth_cmd);
    free(pool->rd_select_cmd);
    pool->rd_auth_cmd = pool->rd_select_cmd = NULL;
}

static void rd_setup_one(struct worker *w, struct sconn *sc, const char *cmd, uint32_t len,
                         uint8_t which)
{
    struct msg *m;
    if (len == 0 || (m = msg_get(&w->msgs)) == NULL)
        return; /* without memory the connection's first request will find out */
    /* the bytes live as long as the pool: nothing to count or free */
    svec_push(&m->req, &w->mbufs, (const uint8_t *)cmd, len, MBUF_NONE);
    m->setup = which;
    m->redis = true;
    m->server_idx = sc->server->idx;
    sconn_push(w, sc, m);
}

void rd_sconn_setup(struct worker *w, struct sconn *sc)
{
    struct pool_rt *pool = sc->server->pool;
    rd_setup_one(w, sc, pool->rd_auth_cmd, pool->rd_auth_len, 1);
    rd_setup_one(w, sc, pool->rd_select_cmd, pool->rd_select_len, 2);
}

/* The errors nutcracker counts against a server: it is out of memory, busy with a script, or
 * still loading its data. */
static bool rd_error_is_failure(const uint8_t *line, uint32_t len)
{
    return (len >= 4 && memcmp(line, "-OOM", 4) == 0) ||
           (len >= 5 && memcmp(line, "-BUSY", 5) == 0) ||
           (len >= 8 && memcmp(line, "-LOADING", 8) == 0);
}

/* The head line of m's reply: checks it fits what m needs. Returns false when the server
 * must be closed. */
static bool rd_head(struct worker *w, struct sconn *sc, struct msg *m, const uint8_t *line,
                    uint32_t len)
{
    const struct rd_rsp_framer *fr = &sc->rfr;
    struct server *s = sc->server;
    m->rsp_type = fr->type;
    if (fr->type == RD_T_INT)
        m->ival = fr->num;
    if (m->setup) {
        if (fr->type == RD_T_ERROR) {
            uint32_t n = len >= 2 ? len - 2 : len;
            log_limited(&s->lim, 1000, LOG_ERR, "pool '%s': server %s refused the proxy's %s: %.*s",
                        s->pool->cp->name, s->cs->pname, m->setup == 1 ? "AUTH" : "SELECT",
                        (int)(n > 200 ? 200 : n), (const char *)line);
            sconn_fail(w, sc, MSG_ERR_AUTH);
            return true;
        }
        return fr->type == RD_T_STATUS;
    }
    if (fr->type == RD_T_ERROR) {
        m->rd_fail = rd_error_is_failure(line, len);
        return true;
    }
    if (!m->is_frag || msg_whole_frag(m))
        return true;
    /* a part of a split request must have the shape its merge expects */
    const struct rd_cmd_info *ci = rd_cmd_info((enum rd_cmd)m->rcmd);
    switch (ci != NULL ? ci->kind : 0) {
    case RD_KIND_MGET:
        sc->elem_first = m->rsp.n;
        return fr->type == RD_T_ARRAY && fr->num == (int64_t)m->frag_nkeys;
    case RD_KIND_MSET:
        return fr->type == RD_T_STATUS;
    case RD_KIND_SUM:
        return fr->type == RD_T_INT;
    default:
        return false;
    }
}

void rd_sconn_parse(struct worker *w, struct sconn *sc, uint32_t buf, uint32_t n)
{
    const uint8_t *base = mbuf_data(&w->mbufs, buf);
    const struct conf_pool *cp = sc->server->pool->cp;
    uint32_t max_line = w->conf->global.max_request_line;
    size_t pos = 0;
    bool pending = false; /* the last event may be followed by the reply's end at once */
    STAT_ADD(sc->server->st->response_bytes, n);

    while ((pos < n || pending) && sc->state == SC_CONNECTED) {
        struct msg *m = sc->head;
        if (m == NULL || m->state != MS_SENT) {
            log_warn("pool '%s': server %s sent %u bytes nobody asked for", cp->name,
                     sc->server->cs->pname, (unsigned)(n - pos));
            sconn_fail(w, sc, MSG_ERR_PROTOCOL);
            return;
        }
        bool in_head = rd_rsp_in_head(&sc->rfr);
        size_t used = 0;
        enum rd_rsp_ev ev =
            rd_rsp_feed(&sc->rfr, max_line, cp->max_value_size, base + pos, n - pos, &used);
        const uint8_t *chunk = base + pos;
        pos += used;
        pending = ev == RD_RSP_HEAD || ev == RD_RSP_ELEM;
        /* a fragment keeps element boundaries: a framed piece never merges with the one before;
         * the reply of a request whose client is gone is framed, to stay in step, and dropped */
        struct msg *top = msg_top(m);
        if (top->client != NULL && used > 0) {
            svec_push_wait(&m->rsp, &w->mbufs, chunk, (uint32_t)used, buf, m->is_frag);
            top->rsp_counted += used;
            top->client->rsp_queued += used;
            client_check_backlog(w, top->client);
        }
        switch (ev) {
        case RD_RSP_AGAIN:
            if (in_head && used > 0 &&
                linebuf_append(&sc->line, chunk, (uint32_t)used, max_line) < 0)
                goto out_bad;
            break;
        case RD_RSP_HEAD: {
            uint32_t len;
            const uint8_t *line = linebuf_finish(&sc->line, chunk, (uint32_t)used, max_line, &len);
            if (line == NULL)
                goto out_bad;
            bool ok = rd_head(w, sc, m, line, len);
            linebuf_reset(&sc->line);
            if (!ok)
                goto out_bad;
            if (sc->state != SC_CONNECTED)
                return; /* a refused AUTH failed the connection */
            break;
        }
        case RD_RSP_ELEM:
            if (msg_split_frag(m) && sc->rfr.nelem <= m->frag_nkeys) {
                struct mget_item *it = &m->parent->mg->items[m->frag_keys[sc->rfr.nelem - 1]];
                it->frag = m;
                it->first = sc->elem_first;
                it->last = m->rsp.n;
                sc->elem_first = m->rsp.n;
            }
            break;
        case RD_RSP_DONE:
            pending = false;
            sconn_reply_done(w, sc, !m->rd_fail);
            continue;
        case RD_RSP_BAD:
        default:
            goto out_bad;
        }
        /* a reply streams to its client as it arrives (a large value need not be whole) */
        if (m->rsp_type != 0 && m->client != NULL && !m->is_frag && m->client->qhead == m)
            worker_mark_dirty(w, &m->client->o);
    }
    return;

out_bad:
    log_warn("pool '%s': server %s sent an invalid reply%s%s", cp->name, sc->server->cs->pname,
             sc->rfr.error ? ": " : "", sc->rfr.error ? sc->rfr.error : "");
    sconn_fail(w, sc, MSG_ERR_PROTOCOL);
}

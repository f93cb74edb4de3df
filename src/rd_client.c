/* Redis clients: frame RESP requests as their bytes arrive, route each whole request by its
 * keys (forwarding the very slices it was received into), split the multi-key commands that
 * can be split over servers and merge their replies, and answer the commands that belong to
 * the proxy rather than to a server (PING, ECHO, QUIT, SELECT, AUTH, HELLO, COMMAND, CLIENT,
 * INFO). Errors read as redis's own wherever redis has one. */
#include "src/rd_client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "proto/rd_cmd.h"
#include "src/client.h"
#include "src/log.h"
#include "src/route.h"
#include "src/server.h"
#include "src/version.h"

/* Arguments a request may carry (redis allows 2^31; each costs the proxy 16 bytes while the
 * request is received) and the longest command name looked up. */
#define RD_NAME_MAX 32
/* Payloads of a split request at most this long are copied into the fragment's own block
 * (one iovec for many small keys); longer ones are shared by reference. */
#define RD_SPLIT_COPY_MAX 512

int rd_conn_init(struct worker *w, struct client *c)
{
    struct rd_conn *rd = calloc(1, sizeof(*rd));
    if (rd == NULL)
        return -1;
    rd_req_framer_init(&rd->fr);
    rd->authed = c->pool->cp->redis_auth == NULL;
    /* unique over the process: each worker numbers its own connections */
    rd->id = (STAT_GET(w->st.total_connections) + 1) * w->reg->nworkers + w->id;
    c->rd = rd;
    return 0;
}

void rd_conn_free(struct client *c)
{
    if (c->rd == NULL)
        return;
    free(c->rd->args);
    free(c->rd->kbuf);
    free(c->rd->name);
    free(c->rd);
    c->rd = NULL;
}

/* ---- the request's arguments -------------------------------------------------------- */

static bool rd_arg_push(struct rd_conn *rd, uint64_t off, uint64_t len)
{
    if (rd->nargs == rd->cap) {
        uint32_t cap = rd->cap ? rd->cap * 2 : 8;
        struct rd_arg *a = realloc(rd->args, cap * sizeof(*a));
        if (a == NULL)
            return false;
        rd->args = a;
        rd->cap = cap;
    }
    rd->args[rd->nargs++] = (struct rd_arg){off, len};
    return true;
}

/* The request is handled: forget its arguments (a big table goes back). */
static void rd_args_reset(struct rd_conn *rd)
{
    rd->nargs = 0;
    if (rd->cap > 1024) {
        free(rd->args);
        rd->args = NULL;
        rd->cap = 0;
    }
}

/* Copies argument i of m into buf (cap bytes) when it fits. */
static bool rd_arg_small(const struct rd_conn *rd, const struct msg *m, uint32_t i, uint8_t *buf,
                         uint32_t cap, uint32_t *len)
{
    if (i >= rd->nargs || rd->args[i].len > cap)
        return false;
    *len = (uint32_t)rd->args[i].len;
    return svec_copy_out(&m->req, rd->args[i].off, rd->args[i].len, buf, NULL);
}

/* Argument i equals word (lower case), in any case. */
static bool rd_arg_is(const struct rd_conn *rd, const struct msg *m, uint32_t i, const char *word)
{
    uint8_t b[RD_NAME_MAX];
    uint32_t len;
    size_t wl = strlen(word);
    return rd_arg_small(rd, m, i, b, sizeof(b), &len) && len == wl &&
           strncasecmp((const char *)b, word, wl) == 0;
}

/* Argument i as redis's string2ll reads an integer (no sign but '-', no leading zeros). */
static bool rd_arg_int(const struct rd_conn *rd, const struct msg *m, uint32_t i, int64_t *out)
{
    uint8_t b[24];
    uint32_t len, p = 0;
    uint64_t v = 0;
    bool neg = false;
    if (!rd_arg_small(rd, m, i, b, 20, &len) || len == 0)
        return false;
    if (len == 1 && b[0] == '0') {
        *out = 0;
        return true;
    }
    if (b[0] == '-') {
        neg = true;
        p = 1;
    }
    if (p == len || b[p] < '1' || b[p] > '9')
        return false;
    for (; p < len; p++) {
        if (b[p] < '0' || b[p] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(b[p] - '0');
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Argument i's bytes in one piece: in place when they lie in one slice, else gathered into
 * rd->kbuf. NULL when memory ran out. */
static const uint8_t *rd_arg_ptr(struct rd_conn *rd, const struct msg *m, uint32_t i,
                                 struct svec_cur *cur)
{
    const struct rd_arg *a = &rd->args[i];
    const uint8_t *p = svec_peek(&m->req, a->off, a->len, cur);
    if (p != NULL)
        return p;
    if (a->len > rd->kcap) {
        uint8_t *k = realloc(rd->kbuf, a->len);
        if (k == NULL)
            return NULL;
        rd->kbuf = k;
        rd->kcap = (uint32_t)a->len;
    }
    if (!svec_copy_out(&m->req, a->off, a->len, rd->kbuf, NULL))
        return NULL;
    return rd->kbuf;
}

/* ---- replies the proxy writes ------------------------------------------------------- */

/* m's reply becomes the len bytes of text, malloc'd (owned by m from here; NULL: out of
 * memory). The request's bytes are dropped. */
static void rd_reply_owned(struct worker *w, struct msg *m, char *text, size_t len)
{
    svec_release(&m->req, &w->mbufs);
    if (text == NULL) {
        msg_set_reply(w, m, LIT("-ERR out of memory\r\n"));
        return;
    }
    svec_release_from(&m->rsp, &w->mbufs, m->rsp_handed);
    m->rsp_handed = 0;
    free(m->owned);
    m->owned = (uint8_t *)text;
    svec_push(&m->rsp, &w->mbufs, m->owned, (uint32_t)len, MBUF_NONE);
    m->state = MS_ANSWERED;
}

static void rd_reply_static(struct worker *w, struct msg *m, const char *text, uint32_t len)
{
    svec_release(&m->req, &w->mbufs);
    msg_set_reply(w, m, text, len);
}

/* An error reply from a format: as redis does, "\r" and "\n" inside become spaces. */
__attribute__((format(printf, 3, 4))) static void rd_reply_err(struct worker *w, struct msg *m,
                                                               const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + 1, sizeof(buf) - 3, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(buf) - 4)
        n = (int)(sizeof(buf) - 4);
    buf[0] = '-';
    for (int i = 1; i <= n; i++)
        if (buf[i] == '\r' || buf[i] == '\n')
            buf[i] = ' ';
    memcpy(buf + 1 + n, "\r\n", 2);
    size_t len = (size_t)n + 3;
    char *text = malloc(len);
    if (text != NULL)
        memcpy(text, buf, len);
    rd_reply_owned(w, m, text, len);
}

/* At most cap - 1 bytes of argument i as a C string, as redis prints an argument with %s: up
 * to its first NUL byte. */
static void rd_arg_cstr(const struct rd_conn *rd, const struct msg *m, uint32_t i, char *out,
                        size_t cap)
{
    uint64_t len = rd->args[i].len < cap - 1 ? rd->args[i].len : cap - 1;
    svec_copy_out(&m->req, rd->args[i].off, len, (uint8_t *)out, NULL);
    out[len] = '\0';
}

/* A bulk string reply holding argument i of the request: shared by reference, or copied when
 * the request is the proxy's own re-encoding of an inline line (m->owned, freed here). */
static void rd_reply_bulk_arg(struct worker *w, struct msg *m, const struct rd_conn *rd, uint32_t i)
{
    uint64_t len = rd->args[i].len;
    bool copy = m->owned != NULL;
    char *head = malloc(24 + (copy ? len + 2 : 0));
    if (head == NULL) {
        rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
        return;
    }
    size_t hl = (size_t)snprintf(head, 24, "$%" PRIu64 "\r\n", len);
    svec_release_from(&m->rsp, &w->mbufs, m->rsp_handed);
    m->rsp_handed = 0;
    if (copy) {
        svec_copy_out(&m->req, rd->args[i].off, len, (uint8_t *)head + hl, NULL);
        memcpy(head + hl + len, "\r\n", 2);
        rd_reply_owned(w, m, head, hl + len + 2);
        return;
    }
    m->owned = (uint8_t *)head;
    svec_push(&m->rsp, &w->mbufs, (const uint8_t *)head, (uint32_t)hl, MBUF_NONE);
    if (svec_push_range(&m->rsp, &w->mbufs, &m->req, rd->args[i].off, len, NULL) < 0) {
        rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
        return;
    }
    svec_push(&m->rsp, &w->mbufs, (const uint8_t *)"\r\n", 2, MBUF_NONE);
    svec_release(&m->req, &w->mbufs);
    m->state = MS_ANSWERED;
}

/* A growable text for replies built piece by piece. */
struct rbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void rbuf_fmt(struct rbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = b->failed ? 0 : vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (b->failed || n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void rbuf_bulk(struct rbuf *b, const char *s)
{
    rbuf_fmt(b, "$%zu\r\n%s\r\n", strlen(s), s);
}

/* m's reply is b's text (b is consumed). */
static void rd_reply_rbuf(struct worker *w, struct msg *m, struct rbuf *b)
{
    if (b->failed) {
        free(b->p);
        b->p = NULL;
    }
    rd_reply_owned(w, m, b->p, b->len);
}

/* ---- commands the proxy answers ------------------------------------------------------ */

/* The password compared in time that does not depend on where the bytes differ. */
static bool rd_secret_eq(const uint8_t *a, uint32_t alen, const char *b)
{
    size_t blen = strlen(b);
    uint8_t diff = (uint8_t)(alen != blen);
    for (size_t i = 0; i < blen; i++)
        diff |= (uint8_t)(b[i] ^ (i < alen ? a[i] : 0));
    return diff == 0;
}

/* AUTH [user] password as redis 6+ judges it against the pool's redis_auth (the default user
 * only). Returns NULL when it is accepted, else the error reply. */
static const char *rd_auth_check(struct client *c, struct msg *m, uint32_t ui, uint32_t pi)
{
    const struct rd_conn *rd = c->rd;
    const char *secret = c->pool->cp->redis_auth;
    if (ui != 0 && !rd_arg_is(rd, m, ui, "default"))
        return "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    if (secret == NULL)
        return NULL; /* the default user has no password: any one is accepted */
    uint8_t pass[512];
    uint32_t plen;
    if (!rd_arg_small(rd, m, pi, pass, sizeof(pass), &plen) || !rd_secret_eq(pass, plen, secret))
        return "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    return NULL;
}

static void rd_cmd_auth(struct worker *w, struct client *c, struct msg *m)
{
    struct rd_conn *rd = c->rd;
    if (rd->nargs > 3) {
        rd_reply_static(w, m, LIT("-ERR syntax error\r\n"));
        return;
    }
    if (rd->nargs == 2 && c->pool->cp->redis_auth == NULL) {
        rd_reply_static(w, m,
                        LIT("-ERR AUTH <password> called without any password configured for "
                            "the default user. Are you sure your configuration is correct?\r\n"));
        return;
    }
    const char *bad = rd_auth_check(c, m, rd->nargs == 3 ? 1 : 0, rd->nargs - 1);
    if (bad != NULL) {
        STAT_INC(c->pool->st->client_err);
        rd_reply_static(w, m, bad, (uint32_t)strlen(bad));
        return;
    }
    rd->authed = true;
    rd_reply_static(w, m, LIT("+OK\r\n"));
}

/* CLIENT SETNAME's rule: no spaces, newlines or bytes outside '!' .. '~'. */
static bool rd_name_ok(const uint8_t *p, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        if (p[i] < '!' || p[i] > '~')
            return false;
    return true;
}

static bool rd_set_name(struct rd_conn *rd, const struct msg *m, uint32_t i)
{
    char name[256];
    uint32_t len;
    if (!rd_arg_small(rd, m, i, (uint8_t *)name, sizeof(name) - 1, &len) ||
        !rd_name_ok((const uint8_t *)name, len))
        return false;
    name[len] = '\0';
    free(rd->name);
    rd->name = len > 0 ? strdup(name) : NULL;
    return true;
}

/* HELLO [protover [AUTH user pass] [SETNAME name]]: RESP2 only. RESP3 clients (go-redis v9,
 * lettuce) take -NOPROTO as the sign to fall back to RESP2. */
static void rd_cmd_hello(struct worker *w, struct client *c, struct msg *m)
{
    struct rd_conn *rd = c->rd;
    uint32_t i = 1;
    if (rd->nargs >= 2) {
        int64_t ver;
        if (!rd_arg_int(rd, m, 1, &ver)) {
            rd_reply_static(w, m,
                            LIT("-ERR Protocol version is not an integer or out of range\r\n"));
            return;
        }
        if (ver != 2) {
            rd_reply_static(w, m, LIT("-NOPROTO unsupported protocol version\r\n"));
            return;
        }
        i = 2;
    }
    bool authed = rd->authed;
    int32_t setname = -1;
    for (; i < rd->nargs; i++) {
        uint32_t more = rd->nargs - i - 1;
        if (rd_arg_is(rd, m, i, "auth") && more >= 2) {
            const char *bad = rd_auth_check(c, m, i + 1, i + 2);
            if (bad != NULL) {
                STAT_INC(c->pool->st->client_err);
                rd_reply_static(w, m, bad, (uint32_t)strlen(bad));
                return;
            }
            authed = true;
            i += 2;
        } else if (rd_arg_is(rd, m, i, "setname") && more >= 1) {
            setname = (int32_t)++i;
        } else {
            char opt[160];
            rd_arg_cstr(rd, m, i, opt, sizeof(opt));
            rd_reply_err(w, m, "ERR Syntax error in HELLO option '%s'", opt);
            return;
        }
    }
    if (!authed) {
        rd_reply_static(w, m,
                        LIT("-NOAUTH HELLO must be called with the client already authenticated, "
                            "otherwise the HELLO <proto> AUTH <user> <pass> option can be used "
                            "to authenticate the client and select the RESP protocol version at "
                            "the same time\r\n"));
        return;
    }
    if (setname >= 0 && !rd_set_name(rd, m, (uint32_t)setname)) {
        rd_reply_static(w, m,
                        LIT("-ERR Client names cannot contain spaces, newlines or special "
                            "characters.\r\n"));
        return;
    }
    rd->authed = true;
    /* redis 7's map, as the flat array RESP2 gives it */
    struct rbuf b = {0};
    rbuf_fmt(&b, "*14\r\n");
    rbuf_bulk(&b, "server");
    rbuf_bulk(&b, "ringproxy");
    rbuf_bulk(&b, "version");
    rbuf_bulk(&b, RP_VERSION);
    rbuf_bulk(&b, "proto");
    rbuf_fmt(&b, ":2\r\n");
    rbuf_bulk(&b, "id");
    rbuf_fmt(&b, ":%" PRIu64 "\r\n", rd->id);
    rbuf_bulk(&b, "mode");
    rbuf_bulk(&b, "standalone");
    rbuf_bulk(&b, "role");
    rbuf_bulk(&b, "master");
    rbuf_bulk(&b, "modules");
    rbuf_fmt(&b, "*0\r\n");
    rd_reply_rbuf(w, m, &b);
}

/* One COMMAND INFO entry, in the six-field form of redis 6 (which every client reads). */
static void rd_command_entry(struct rbuf *b, const struct rd_cmd_info *ci)
{
    rbuf_fmt(b, "*6\r\n");
    rbuf_bulk(b, ci->name);
    rbuf_fmt(b, ":%d\r\n", ci->arity);
    if (ci->numkeys_at != 0) {
        rbuf_fmt(b, "*1\r\n+movablekeys\r\n");
    } else {
        rbuf_fmt(b, "*0\r\n");
    }
    rbuf_fmt(b, ":%d\r\n:%d\r\n:%d\r\n", ci->first, ci->last, ci->step);
}

static bool rd_served(const struct rd_cmd_info *ci)
{
    return ci != NULL && ci->kind != RD_KIND_UNSUPPORTED;
}

static void rd_cmd_command(struct worker *w, struct client *c, struct msg *m)
{
    struct rd_conn *rd = c->rd;
    struct rbuf b = {0};
    uint32_t served = 0;
    for (int i = RD_CMD_NONE + 1; i < RD_CMD_COUNT; i++)
        served += rd_served(rd_cmd_info((enum rd_cmd)i));
    if (rd->nargs == 1) {
        rbuf_fmt(&b, "*%u\r\n", served);
        for (int i = RD_CMD_NONE + 1; i < RD_CMD_COUNT; i++)
            if (rd_served(rd_cmd_info((enum rd_cmd)i)))
                rd_command_entry(&b, rd_cmd_info((enum rd_cmd)i));
    } else if (rd_arg_is(rd, m, 1, "count") && rd->nargs == 2) {
        rbuf_fmt(&b, ":%u\r\n", served);
    } else if (rd_arg_is(rd, m, 1, "docs")) {
        rbuf_fmt(&b, "*0\r\n"); /* no documentation here: an empty map */
    } else if (rd_arg_is(rd, m, 1, "list") && rd->nargs == 2) {
        rbuf_fmt(&b, "*%u\r\n", served);
        for (int i = RD_CMD_NONE + 1; i < RD_CMD_COUNT; i++)
            if (rd_served(rd_cmd_info((enum rd_cmd)i)))
                rbuf_bulk(&b, rd_cmd_info((enum rd_cmd)i)->name);
    } else if (rd_arg_is(rd, m, 1, "info")) {
        rbuf_fmt(&b, "*%u\r\n", rd->nargs - 2);
        for (uint32_t a = 2; a < rd->nargs; a++) {
            uint8_t name[RD_NAME_MAX];
            uint32_t len;
            const struct rd_cmd_info *ci = NULL;
            if (rd_arg_small(rd, m, a, name, sizeof(name), &len))
                ci = rd_cmd_info(rd_cmd_lookup(name, len));
            if (rd_served(ci))
                rd_command_entry(&b, ci);
            else
                rbuf_fmt(&b, "*-1\r\n");
        }
    } else {
        char sub[160];
        free(b.p);
        rd_arg_cstr(rd, m, 1, sub, sizeof(sub));
        rd_reply_err(w, m, "ERR unknown subcommand '%s'. Try COMMAND HELP.", sub);
        return;
    }
    rd_reply_rbuf(w, m, &b);
}

static void rd_cmd_client(struct worker *w, struct client *c, struct msg *m)
{
    struct rd_conn *rd = c->rd;
    struct rbuf b = {0};
    if (rd_arg_is(rd, m, 1, "setname")) {
        if (rd->nargs != 3) {
            rd_reply_static(w, m,
                            LIT("-ERR wrong number of arguments for 'client|setname' command\r\n"));
        } else if (!rd_set_name(rd, m, 2)) {
            rd_reply_static(w, m,
                            LIT("-ERR Client names cannot contain spaces, newlines or special "
                                "characters.\r\n"));
        } else {
            rd_reply_static(w, m, LIT("+OK\r\n"));
        }
    } else if (rd_arg_is(rd, m, 1, "getname") && rd->nargs == 2) {
        if (rd->name == NULL) {
            rd_reply_static(w, m, LIT("$-1\r\n"));
            return;
        }
        rbuf_bulk(&b, rd->name);
        rd_reply_rbuf(w, m, &b);
    } else if (rd_arg_is(rd, m, 1, "setinfo") && rd->nargs == 4) {
        rd_reply_static(w, m, LIT("+OK\r\n")); /* lib-name, lib-ver: accepted, not kept */
    } else if (rd_arg_is(rd, m, 1, "id") && rd->nargs == 2) {
        rbuf_fmt(&b, ":%" PRIu64 "\r\n", rd->id);
        rd_reply_rbuf(w, m, &b);
    } else {
        /* CLIENT REPLY OFF above all: replies must come back, one per request, for the proxy
         * to keep each server connection in step */
        char sub[64];
        rd_arg_cstr(rd, m, 1, sub, sizeof(sub));
        for (char *p = sub; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        rd_reply_err(w, m, "ERR unsupported command 'client %s'", sub);
    }
}

static void rd_cmd_info_reply(struct worker *w, struct client *c, struct msg *m)
{
    struct rbuf t = {0}, b = {0};
    const struct conf_pool *cp = c->pool->cp;
    uint64_t clients = 0, requests = 0;
    for (uint32_t i = 0; i < w->reg->nworkers; i++) {
        clients += STAT_GET(stats_layout_pool(w->view->stats, i, c->pool->idx)->client_connections);
        if (w->reg->workers[i] != NULL)
            requests += STAT_GET(w->reg->workers[i]->requests);
    }
    uint64_t now = (uint64_t)time(NULL);
    rbuf_fmt(&t,
             "# Server\r\nringproxy_version:%s\r\nprocess_id:%d\r\nuptime_in_seconds:%" PRIu64
             "\r\nworkers:%u\r\n\r\n",
             RP_VERSION, (int)getpid(),
             now > w->reg->start_time ? now - w->reg->start_time : (uint64_t)0, w->reg->nworkers);
    rbuf_fmt(&t, "# Clients\r\nconnected_clients:%" PRIu64 "\r\n\r\n", clients);
    rbuf_fmt(&t, "# Stats\r\ntotal_commands_processed:%" PRIu64 "\r\n\r\n", requests);
    rbuf_fmt(&t, "# Pool\r\npool:%s\r\nservers:%u\r\nhash:%s\r\ndistribution:%s\r\nredis_db:%d\r\n",
             cp->name, cp->nservers, hash_name(cp->hash), dist_name(cp->distribution),
             cp->redis_db);
    if (t.failed) {
        free(t.p);
        rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
        return;
    }
    rbuf_fmt(&b, "$%zu\r\n", t.len);
    if (!b.failed && b.len + t.len + 2 < b.cap) {
        memcpy(b.p + b.len, t.p, t.len);
        b.len += t.len;
    } else {
        rbuf_fmt(&b, "%.*s", (int)t.len, t.p);
    }
    rbuf_fmt(&b, "\r\n");
    free(t.p);
    rd_reply_rbuf(w, m, &b);
}

static void rd_local(struct worker *w, struct client *c, struct msg *m, enum rd_cmd cmd)
{
    struct rd_conn *rd = c->rd;
    switch (cmd) {
    case RD_PING:
        if (rd->nargs == 1)
            rd_reply_static(w, m, LIT("+PONG\r\n"));
        else if (rd->nargs == 2)
            rd_reply_bulk_arg(w, m, rd, 1);
        else
            rd_reply_static(w, m, LIT("-ERR wrong number of arguments for 'ping' command\r\n"));
        return;
    case RD_ECHO:
        rd_reply_bulk_arg(w, m, rd, 1);
        return;
    case RD_QUIT:
        rd_reply_static(w, m, LIT("+OK\r\n"));
        c->eof = true; /* closed once the +OK is out */
        return;
    case RD_SELECT: {
        int64_t db;
        if (!rd_arg_int(rd, m, 1, &db))
            rd_reply_static(w, m, LIT("-ERR value is not an integer or out of range\r\n"));
        else if (db != 0)
            rd_reply_static(w, m,
                            LIT("-ERR ringproxy serves one database per pool (its redis_db): "
                                "only SELECT 0 is allowed\r\n"));
        else
            rd_reply_static(w, m, LIT("+OK\r\n"));
        return;
    }
    case RD_AUTH:
        rd_cmd_auth(w, c, m);
        return;
    case RD_HELLO:
        rd_cmd_hello(w, c, m);
        return;
    case RD_COMMAND:
        rd_cmd_command(w, c, m);
        return;
    case RD_CLIENT:
        rd_cmd_client(w, c, m);
        return;
    case RD_INFO:
        rd_cmd_info_reply(w, c, m);
        return;
    default:
        rd_reply_static(w, m, LIT("-ERR unsupported command\r\n"));
        return;
    }
}

/* ---- routing and splitting ---------------------------------------------------------- */

/* Argument index of key k of a request whose keys are at kp. */
static uint32_t rd_key_arg(const struct rd_keypos *kp, uint32_t k)
{
    return k < kp->count ? kp->first + k * kp->step : kp->nk_first + (k - kp->count);
}

/* Appends n bytes to fragment f's own block (blk, filled to *used) and to its request. */
static void rd_frag_put(struct worker *w, struct msg *f, const void *bytes, size_t n, size_t *used)
{
    uint8_t *dst = f->owned + *used;
    memcpy(dst, bytes, n);
    *used += n;
    svec_push(&f->req, &w->mbufs, dst, (uint32_t)n, MBUF_COPY);
}

/* Appends argument a of parent p (bulk-encoded) to fragment f. */
static bool rd_frag_arg(struct worker *w, const struct rd_conn *rd, struct msg *p, struct msg *f,
                        uint32_t a, size_t *used, struct svec_cur *cur)
{
    char head[24];
    uint64_t len = rd->args[a].len;
    int hl = snprintf(head, sizeof(head), "$%" PRIu64 "\r\n", len);
    rd_frag_put(w, f, head, (size_t)hl, used);
    if (len <= RD_SPLIT_COPY_MAX) {
        uint8_t *dst = f->owned + *used;
        if (!svec_copy_out(&p->req, rd->args[a].off, len, dst, cur))
            return false;
        *used += len;
        svec_push(&f->req, &w->mbufs, dst, (uint32_t)len, MBUF_COPY);
    } else if (svec_push_range(&f->req, &w->mbufs, &p->req, rd->args[a].off, len, cur) < 0) {
        return false;
    }
    rd_frag_put(w, f, "\r\n", 2, used);
    return true;
}

/* Splits MGET, MSET or a counting command (DEL ...) whose keys live on several servers: one
 * fragment per server with its keys (and values) in the client's order. */
static void rd_split(struct worker *w, struct client *c, struct msg *m,
                     const struct rd_cmd_info *ci, const struct rd_keypos *kp, uint32_t nkeys,
                     const uint32_t *dest)
{
    struct rd_conn *rd = c->rd;
    struct pool_rt *pool = c->pool;
    uint32_t per = ci->kind == RD_KIND_MSET ? 2 : 1; /* arguments per key */
    struct msg **byserver = calloc(pool->nservers, sizeof(*byserver));
    uint32_t *count = calloc(pool->nservers, sizeof(*count));
    size_t *size = calloc(pool->nservers, sizeof(*size));
    size_t *used = calloc(pool->nservers, sizeof(*used));
    bool failed = byserver == NULL || count == NULL || size == NULL || used == NULL;
    struct svec_cur cur = {0, 0};

    if (!failed && ci->kind == RD_KIND_MGET) {
        m->mg = mget_new(nkeys, false);
        if (m->mg == NULL)
            failed = true;
        else
            m->mg->nkeys = nkeys;
    }
    /* how big each fragment's own block is: every header, and the payloads copied */
    for (uint32_t k = 0; k < nkeys && !failed; k++) {
        uint32_t s = dest[k];
        count[s]++;
        for (uint32_t j = 0; j < per; j++) {
            uint64_t len = rd->args[rd_key_arg(kp, k) + j].len;
            size[s] += 24 + 2 + (len <= RD_SPLIT_COPY_MAX ? len : 0);
        }
    }
    m->state = MS_SPLIT;
    for (uint32_t s = 0; s < pool->nservers && !failed; s++) {
        if (count[s] == 0)
            continue;
        struct msg *f = msg_frag_new(w, m);
        if (f == NULL) {
            failed = true;
            break;
        }
        byserver[s] = f;
        f->server_idx = s;
        f->owned = malloc(size[s] + 24 + 26 + rd->args[0].len);
        f->frag_keys = malloc(count[s] * sizeof(uint32_t));
        if (f->owned == NULL || f->frag_keys == NULL) {
            failed = true;
            break;
        }
        char head[24];
        int hl = snprintf(head, sizeof(head), "*%u\r\n", 1 + count[s] * per);
        rd_frag_put(w, f, head, (size_t)hl, &used[s]);
        if (!rd_frag_arg(w, rd, m, f, 0, &used[s], NULL))
            failed = true;
    }
    for (uint32_t k = 0; k < nkeys && !failed; k++) {
        uint32_t s = dest[k];
        struct msg *f = byserver[s];
        for (uint32_t j = 0; j < per && !failed; j++)
            failed = !rd_frag_arg(w, rd, m, f, rd_key_arg(kp, k) + j, &used[s], &cur);
        f->frag_keys[f->frag_nkeys++] = k;
    }
    free(count);
    free(size);
    free(used);
    svec_release(&m->req, &w->mbufs);
    if (failed) {
        /* nothing was queued yet: drop the fragments and answer with an error */
        free(byserver);
        msg_drop_frags(w, m);
        msg_set_reply(w, m, LIT("-ERR out of memory\r\n"));
        return;
    }
    STAT_ADD(pool->st->fragments, m->frags_pending);
    /* queue in server order; a fragment may complete (fail) at once, so walk our own array */
    for (uint32_t s = 0; s < pool->nservers; s++)
        if (byserver[s] != NULL)
            server_enqueue(w, pool, s, byserver[s]);
    free(byserver);
}

/* Routes a keyed or splittable command by its keys. */
static void rd_route_over(struct worker *w, struct client *c, struct msg *m,
                          const struct rd_cmd_info *ci, uint32_t key_arg, uint32_t nkeys);

static void rd_route(struct worker *w, struct client *c, struct msg *m,
                     const struct rd_cmd_info *ci)
{
    struct rd_conn *rd = c->rd;
    struct pool_rt *pool = c->pool;
    int64_t numkeys = 0;
    bool nk_ok = false;
    struct rd_keypos kp;

    if (ci->numkeys_at != 0 && ci->numkeys_at < rd->nargs)
        nk_ok = rd_arg_int(rd, m, ci->numkeys_at, &numkeys);
    switch (rd_cmd_keys(ci, rd->nargs, numkeys, nk_ok, &kp)) {
    case RD_KEYS_OK:
        break;
    case RD_KEYS_BAD_PAIRS:
        rd_reply_err(w, m, "ERR wrong number of arguments for '%s' command", ci->name);
        return;
    case RD_KEYS_BAD_NUMKEYS:
        /* whatever is wrong with it, the server says so in its own words */
        server_enqueue(w, pool, pool_route(w, pool, (const uint8_t *)"", 0), m);
        return;
    case RD_KEYS_NONE:
    default:
        STAT_INC(pool->st->client_err);
        rd_reply_err(w, m,
                     "ERR ringproxy routes '%s' by its keys, and this request has none "
                     "(a script needs numkeys of at least 1)",
                     ci->name);
        return;
    }
    uint32_t nkeys = kp.count + kp.nk_count;
    if (route_is(pool)) {
        rd_route_over(w, c, m, ci, rd_key_arg(&kp, 0), nkeys);
        return;
    }
    uint32_t one[1];
    uint32_t *dest = nkeys > 1 ? malloc(nkeys * sizeof(*dest)) : one;
    struct svec_cur cur = {0, 0};
    bool split = false;
    if (dest == NULL) {
        rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
        return;
    }
    for (uint32_t k = 0; k < nkeys; k++) {
        uint32_t a = rd_key_arg(&kp, k);
        if (rd->args[a].len > pool->cp->max_key_length) {
            STAT_INC(pool->st->client_err);
            rd_reply_err(w, m, "ERR key too long for the proxy (max_key_length is %u)",
                         pool->cp->max_key_length);
            goto out;
        }
        const uint8_t *key = rd_arg_ptr(rd, m, a, &cur);
        if (key == NULL) {
            rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
            goto out;
        }
        dest[k] = pool_route(w, pool, key, (uint32_t)rd->args[a].len);
        split |= dest[k] != dest[0];
    }
    if (!split) {
        server_enqueue(w, pool, dest[0], m); /* one server: the request goes as it came */
    } else if (ci->kind == RD_KIND_KEYED) {
        STAT_INC(pool->st->client_err);
        rd_reply_err(w, m,
                     "ERR the keys of '%s' live on different servers (a hash tag keeps keys "
                     "together)",
                     ci->name);
    } else {
        bool down = false;
        for (uint32_t k = 0; k < nkeys; k++)
            down |= dest[k] == UINT32_MAX;
        if (down) /* no live server for some of them: one error for the whole request */
            server_enqueue(w, pool, UINT32_MAX, m);
        else
            rd_split(w, c, m, ci, &kp, nkeys, dest);
    }
out:
    if (dest != one)
        free(dest);
}

/* Commands a route carries as reads: to one pool, on to the next on a miss or a failure. */
static bool rd_cmd_reads(enum rd_cmd cmd)
{
    static const char *const reads[] = {
        "get",
        "getrange",
        "strlen",
        "substr",
        "getbit",
        "bitcount",
        "bitpos",
        "bitfield_ro",
        "exists",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "type",
        "dump",
        "hget",
        "hmget",
        "hgetall",
        "hkeys",
        "hvals",
        "hlen",
        "hexists",
        "hstrlen",
        "lindex",
        "llen",
        "lrange",
        "lpos",
        "scard",
        "sismember",
        "smismember",
        "smembers",
        "zcard",
        "zcount",
        "zlexcount",
        "zmscore",
        "zrange",
        "zrangebylex",
        "zrangebyscore",
        "zrank",
        "zrevrange",
        "zrevrangebylex",
        "zrevrangebyscore",
        "zrevrank",
        "zscore",
        "pfcount",
        "geodist",
        "geohash",
        "geopos",
        "georadius_ro",
        "georadiusbymember_ro",
        "geosearch",
        "sort_ro",
        "xlen",
        "xrange",
        "xrevrange",
        "object",
    };
    const struct rd_cmd_info *ci = rd_cmd_info(cmd);
    for (size_t i = 0; ci != NULL && i < sizeof(reads) / sizeof(reads[0]); i++)
        if (strcmp(ci->name, reads[i]) == 0)
            return true;
    return false;
}

/* Commands whose effect, carried to several pools, is not the same everywhere: a random pick,
 * a script, a cursor. A route refuses them. */
static bool rd_cmd_not_replicable(enum rd_cmd cmd)
{
    static const char *const no[] = {
        "spop",       "srandmember", "zrandmember", "hrandfield", "eval", "eval_ro",    "evalsha",
        "evalsha_ro", "sscan",       "hscan",       "zscan",      "sort", "xautoclaim", "xclaim",
        "xgroup",     "xinfo",       "xpending",    "xack",       "xadd", "xsetid",
    };
    const struct rd_cmd_info *ci = rd_cmd_info(cmd);
    for (size_t i = 0; ci != NULL && i < sizeof(no) / sizeof(no[0]); i++)
        if (strcmp(ci->name, no[i]) == 0)
            return true;
    return false;
}

/* A request of a redis route pool: single-key commands only, writes to every pool (or one at
 * a time for failover), reads to one. key_arg is its key's argument. */
static void rd_route_over(struct worker *w, struct client *c, struct msg *m,
                          const struct rd_cmd_info *ci, uint32_t key_arg, uint32_t nkeys)
{
    struct rd_conn *rd = c->rd;
    enum rd_cmd cmd = (enum rd_cmd)m->rcmd;
    if (nkeys != 1) {
        STAT_INC(c->pool->st->client_err);
        rd_reply_err(w, m, "ERR ringproxy routes carry single-key commands; '%s' has %u keys",
                     ci->name, nkeys);
        return;
    }
    if (rd_cmd_not_replicable(cmd)) {
        STAT_INC(c->pool->st->client_err);
        rd_reply_err(w, m,
                     "ERR ringproxy does not carry '%s' over a route: its effect on several "
                     "pools would not be the same",
                     ci->name);
        return;
    }
    if (rd->args[key_arg].len > c->pool->cp->max_key_length) {
        STAT_INC(c->pool->st->client_err);
        rd_reply_err(w, m, "ERR key too long for the proxy (max_key_length is %u)",
                     c->pool->cp->max_key_length);
        return;
    }
    m->key_off = (uint32_t)rd->args[key_arg].off;
    m->key_len = (uint32_t)rd->args[key_arg].len;
    m->key_b64 = false;
    route_start(w, c, m, !rd_cmd_reads(cmd));
}

/* "unknown command" as redis 7 words it: the name and the first arguments, each cut to what
 * is left of 128 bytes, up to a NUL as C strings end. */
static void rd_unknown(struct worker *w, struct client *c, struct msg *m)
{
    struct rd_conn *rd = c->rd;
    char name[129], args[400];
    size_t al = 0;
    rd_arg_cstr(rd, m, 0, name, sizeof(name));
    args[0] = '\0';
    for (uint32_t i = 1; i < rd->nargs && al < 128; i++) {
        char a[129];
        rd_arg_cstr(rd, m, i, a, 128 - al + 1);
        al += (size_t)snprintf(args + al, sizeof(args) - al, "'%s' ", a);
    }
    STAT_INC(c->pool->st->client_err);
    rd_reply_err(w, m, "ERR unknown command '%s', with args beginning with: %s", name, args);
}

/* Handles one whole request m, its arguments in c->rd->args. */
static void rd_request(struct worker *w, struct client *c, struct msg *m)
{
    struct rd_conn *rd = c->rd;
    uint8_t name[RD_NAME_MAX];
    uint32_t nlen;
    enum rd_cmd cmd = RD_CMD_NONE;

    STAT_INC(w->st.requests);
    if (rd_arg_small(rd, m, 0, name, sizeof(name), &nlen))
        cmd = rd_cmd_lookup(name, nlen);
    m->rcmd = (uint16_t)cmd;
    if (cmd > RD_CMD_NONE && cmd < RD_CMD_COUNT)
        STAT_INC(c->pool->st->rd_cmds[cmd]);
    const struct rd_cmd_info *ci = rd_cmd_info(cmd);
    if (ci == NULL) {
        rd_unknown(w, c, m);
        return;
    }
    /* redis's order: the command must exist, have its arity, then the client be known */
    if (!rd_cmd_arity_ok(ci, rd->nargs)) {
        STAT_INC(c->pool->st->client_err);
        rd_reply_err(w, m, "ERR wrong number of arguments for '%s' command", ci->name);
        return;
    }
    if (!rd->authed && cmd != RD_AUTH && cmd != RD_HELLO && cmd != RD_QUIT) {
        rd_reply_static(w, m, LIT("-NOAUTH Authentication required.\r\n"));
        return;
    }
    switch (ci->kind) {
    case RD_KIND_LOCAL:
        rd_local(w, c, m, cmd);
        return;
    case RD_KIND_UNSUPPORTED: {
        char n[129];
        rd_arg_cstr(rd, m, 0, n, sizeof(n));
        STAT_INC(c->pool->st->client_err);
        rd_reply_err(w, m, "ERR unsupported command '%s'", n);
        return;
    }
    default:
        rd_route(w, c, m, ci);
        return;
    }
}

/* An inline command: its tokens re-encoded as a multibulk request in m's own bytes (a copy,
 * deliberately: inline commands are typed by hand), then handled like any other. */
static void rd_inline(struct worker *w, struct client *c, struct msg *m, const uint8_t *line,
                      uint32_t len)
{
    struct rd_conn *rd = c->rd;
    struct rd_itok stack[16], *toks = stack;
    int n = rd_inline_split(line, len, toks, 16);
    if (n > 16) {
        toks = malloc((size_t)n * sizeof(*toks));
        if (toks == NULL) {
            rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
            return;
        }
        n = rd_inline_split(line, len, toks, (uint32_t)n);
    }
    if (n < 0) {
        rd_reply_static(w, m, LIT("-ERR Protocol error: unbalanced quotes in request\r\n"));
        STAT_INC(c->pool->st->client_err);
        c->close_now = true;
        goto out;
    }
    if (n == 0) {
        m->noreply = true; /* an empty line: redis ignores it */
        svec_release(&m->req, &w->mbufs);
        m->state = MS_ANSWERED;
        goto out;
    }
    size_t size = 24;
    for (int i = 0; i < n; i++)
        size += 24 + toks[i].dlen + 2;
    uint8_t *b = malloc(size);
    if (b == NULL) {
        rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
        goto out;
    }
    size_t pos = (size_t)snprintf((char *)b, 24, "*%d\r\n", n);
    rd->nargs = 0;
    for (int i = 0; i < n; i++) {
        pos += (size_t)snprintf((char *)b + pos, 24, "$%u\r\n", toks[i].dlen);
        if (toks[i].quoted)
            rd_inline_unquote(line, &toks[i], b + pos);
        else
            memcpy(b + pos, line + toks[i].off, toks[i].dlen);
        if (!rd_arg_push(rd, pos, toks[i].dlen)) {
            free(b);
            rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
            goto out;
        }
        pos += toks[i].dlen;
        memcpy(b + pos, "\r\n", 2);
        pos += 2;
    }
    svec_release(&m->req, &w->mbufs);
    free(m->owned);
    m->owned = b; /* the request goes from here: sconn_flush hands it to the send */
    svec_push(&m->req, &w->mbufs, b, (uint32_t)pos, MBUF_COPY);
    STAT_ADD(w->st.line_assembly, pos);
    rd_request(w, c, m);
out:
    if (toks != stack)
        free(toks);
}

size_t rd_client_parse(struct worker *w, struct client *c, uint32_t buf, size_t pos, uint32_t n)
{
    struct rd_conn *rd = c->rd;
    const uint8_t *base = mbuf_data(&w->mbufs, buf);
    struct rd_limits lim = {
        .max_inline = RD_INLINE_MAX,
        .max_bulk = c->pool->cp->max_value_size,
        .max_args = RD_ARGS_MAX,
    };

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
        lim.unauth = !rd->authed;
        size_t used = 0;
        enum rd_req_ev ev = rd_req_feed(&rd->fr, &lim, base + pos, n - pos, &used);
        const uint8_t *chunk = base + pos;
        pos += used;

        if (rd->fr.is_inline) {
            /* gathered for the tokenizer; the line is re-encoded, not forwarded */
            if (ev == RD_REQ_AGAIN && used > 0 &&
                linebuf_append(&c->line, chunk, (uint32_t)used, RD_INLINE_MAX + 2) < 0)
                ev = RD_REQ_ERROR;
        } else if (used > 0) {
            /* kept by reference (spilled under pressure) until the request is whole */
            svec_push_wait(&m->req, &w->mbufs, chunk, (uint32_t)used, buf, false);
        }
        switch (ev) {
        case RD_REQ_AGAIN:
            break;
        case RD_REQ_ARG:
            if (!rd_arg_push(rd, rd->fr.arg_off, rd->fr.arg_len)) {
                rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
                c->close_now = true;
            }
            break;
        case RD_REQ_DONE:
            if (rd->fr.argc == 0) {
                svec_release(&m->req, &w->mbufs); /* "*0": nothing, and no reply */
                break;
            }
            c->cur = NULL;
            if (!rd_arg_push(rd, rd->fr.arg_off, rd->fr.arg_len)) {
                rd_reply_static(w, m, LIT("-ERR out of memory\r\n"));
                c->close_now = true;
            } else {
                rd_request(w, c, m);
            }
            rd_args_reset(rd);
            break;
        case RD_REQ_INLINE: {
            uint32_t len;
            const uint8_t *line =
                linebuf_finish(&c->line, chunk, (uint32_t)used, RD_INLINE_MAX + 2, &len);
            c->cur = NULL;
            if (line == NULL) {
                rd_reply_static(w, m, LIT("-ERR Protocol error: too big inline request\r\n"));
                c->close_now = true;
            } else {
                rd_inline(w, c, m, line, len);
            }
            linebuf_reset(&c->line);
            rd_args_reset(rd);
            break;
        }
        case RD_REQ_ERROR:
        default:
            /* redis answers and closes: nothing of this request reached a server */
            rd_reply_err(w, m, "ERR Protocol error: %s",
                         rd->fr.error != NULL ? rd->fr.error : "invalid request");
            linebuf_reset(&c->line);
            STAT_INC(c->pool->st->client_err);
            c->close_now = true;
            break;
        }
    }
    if (c->close_now)
        c->cur = NULL;
    if (c->close_now || c->eof)
        pos = n; /* the rest is never read */
    client_check_backlog(w, c);
    if (c->close_now || c->eof || (c->qhead != NULL && msg_reply_ready(c->qhead)))
        worker_mark_dirty(w, &c->o);
    return pos;
}

/* ---- merging a split request's replies ----------------------------------------------- */

void rd_merge(struct worker *w, struct msg *p)
{
    const struct rd_cmd_info *ci = rd_cmd_info((enum rd_cmd)p->rcmd);
    struct msg *f, *bad = NULL;
    for (f = p->frags; f != NULL && bad == NULL; f = f->fnext)
        if (f->err != MSG_OK)
            bad = f;
    for (f = p->frags; f != NULL && bad == NULL; f = f->fnext)
        if (f->rsp_type == RD_T_ERROR)
            bad = f;
    if (bad != NULL && bad->err != MSG_OK) {
        uint32_t len;
        const char *line = msg_err_line(bad->err, true, &len);
        msg_set_reply(w, p, line, len);
        STAT_INC(p->client->pool->st->forward_error);
        return;
    }
    if (bad != NULL) {
        /* the first server error answers the request, as from one server */
        for (uint32_t i = 0; i < bad->rsp.n; i++)
            svec_push(&p->rsp, &w->mbufs, bad->rsp.v[i].ptr, bad->rsp.v[i].len, bad->rsp.v[i].buf);
        p->state = MS_ANSWERED;
        return;
    }
    struct rbuf b = {0};
    switch (ci != NULL ? ci->kind : 0) {
    case RD_KIND_MGET:
        rbuf_fmt(&b, "*%u\r\n", p->mg->nkeys);
        if (b.failed)
            break;
        free(p->owned);
        p->owned = (uint8_t *)b.p;
        /* the fragments are freed after: their slices move over, references and all */
        uint32_t n = 1 + p->mg->nkeys;
        for (f = p->frags; f != NULL; f = f->fnext)
            n += f->rsp.n;
        (void)svec_reserve(&p->rsp, n); /* failing, the pushes grow it themselves */
        svec_push(&p->rsp, &w->mbufs, p->owned, (uint32_t)b.len, MBUF_NONE);
        for (uint32_t k = 0; k < p->mg->nkeys; k++) {
            const struct mget_item *it = &p->mg->items[k];
            if (it->frag == NULL)
                svec_push(&p->rsp, &w->mbufs, (const uint8_t *)"$-1\r\n", 5, MBUF_NONE);
            else
                svec_move(&p->rsp, &w->mbufs, &it->frag->rsp, it->first, it->last);
        }
        p->state = MS_ANSWERED;
        return;
    case RD_KIND_MSET:
        msg_set_reply(w, p, LIT("+OK\r\n"));
        return;
    case RD_KIND_SUM: {
        int64_t sum = 0;
        for (f = p->frags; f != NULL; f = f->fnext)
            sum += f->ival;
        rbuf_fmt(&b, ":%" PRId64 "\r\n", sum);
        break;
    }
    default:
        msg_set_reply(w, p, LIT("-ERR proxy cannot merge this reply\r\n"));
        return;
    }
    if (b.failed) {
        free(b.p);
        msg_set_reply(w, p, LIT("-ERR out of memory\r\n"));
        return;
    }
    free(p->owned);
    p->owned = (uint8_t *)b.p;
    svec_push(&p->rsp, &w->mbufs, p->owned, (uint32_t)b.len, MBUF_NONE);
    p->state = MS_ANSWERED;
}

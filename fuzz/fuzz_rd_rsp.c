/* Fuzzes the RESP2 reply framer (rd_rsp_feed). It runs over the stream whole and in
 * input-chosen pieces (empty feeds between some), and both runs must give the events of a
 * reference: a recursive-descent reader of the whole stream with the same rules (RESP2, strict
 * "\r\n", int64 numbers, caps), written independently of the state machine. Also checks that
 * rd_rsp_in_head is true exactly for the bytes of each reply's head line. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd_rsp.h"

#define CHECK(c)   ((c) ? (void)0 : __builtin_trap())
#define HDR        3 /* max_line, max_bulk, chunk seed */
#define MAX_EVENTS 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct event {
    enum rd_rsp_ev ev;
    size_t abs;
    uint8_t type;
    int64_t num;
    uint64_t nelem;
    const char *error;
};

struct trace {
    struct event e[MAX_EVENTS];
    size_t n;
};

static struct trace ref_tr, whole_tr, piece_tr;

static struct event *tr_push(struct trace *t, enum rd_rsp_ev ev, size_t abs)
{
    struct event *e = &t->e[t->n++];

    CHECK(t->n <= MAX_EVENTS);
    memset(e, 0, sizeof(*e));
    e->ev = ev;
    e->abs = abs;
    return e;
}

/* ---- the reference ---- */

enum ref_r { REF_OK, REF_MORE, REF_BAD };

struct ref {
    const uint8_t *s;
    size_t n;
    uint32_t max_line;
    uint64_t max_bulk;
    struct trace *t;
};

static enum ref_r ref_bad(struct ref *r, size_t at, const char *msg)
{
    tr_push(r->t, RD_RSP_BAD, at)->error = msg;
    return REF_BAD;
}

/* One line from p: its type byte, its number (':', '$', '*'), its end (after "\r\n"). */
static enum ref_r ref_line(struct ref *r, size_t p, uint8_t *type, int64_t *v, size_t *end)
{
    __int128 acc = 0;
    bool neg = false, digits = false, text;
    size_t i = p;

    /* every byte of the line, the "\r\n" too, counts toward max_line */
#define REF_BYTE()                                                                                 \
    do {                                                                                           \
        if (i >= r->n)                                                                             \
            return REF_MORE;                                                                       \
        if (i - p >= r->max_line)                                                                  \
            return ref_bad(r, i, "line too long");                                                 \
    } while (0)

    REF_BYTE();
    *type = r->s[i++];
    if (memchr("+-:$*", *type, 5) == NULL)
        return ref_bad(r, i, "bad type byte");
    text = *type == '+' || *type == '-';
    for (;;) {
        uint8_t c;

        REF_BYTE();
        c = r->s[i++];
        if (c == '\r')
            break;
        if (c == '\n')
            return ref_bad(r, i, "bare LF");
        if (text)
            continue;
        if (c == '-' && i == p + 2) {
            neg = true;
            continue;
        }
        if (c < '0' || c > '9')
            return ref_bad(r, i, "bad number");
        digits = true;
        acc = acc * 10 + (neg ? -(c - '0') : (c - '0'));
        if (acc > INT64_MAX || acc < INT64_MIN)
            return ref_bad(r, i, "bad number");
    }
    REF_BYTE();
    if (r->s[i++] != '\n')
        return ref_bad(r, i, "CR without LF");
#undef REF_BYTE
    *end = i;
    *v = (int64_t)acc;
    if (!text && !digits)
        return ref_bad(r, i, "bad number");
    return REF_OK;
}

/* One value from p, inside depth arrays; top: a reply, with its events. */
static enum ref_r ref_value(struct ref *r, size_t p, uint32_t depth, bool top, size_t *end)
{
    uint8_t type;
    int64_t v;
    size_t e;
    enum ref_r res = ref_line(r, p, &type, &v, &e);

    if (res != REF_OK)
        return res;
    if (type == '$') {
        if (v < -1)
            return ref_bad(r, e, "bad bulk length");
        if (v >= 0 && (uint64_t)v > r->max_bulk)
            return ref_bad(r, e, "bulk too big");
    } else if (type == '*') {
        if (v < -1)
            return ref_bad(r, e, "bad array length");
        if (depth == RD_RSP_MAX_DEPTH)
            return ref_bad(r, e, "nesting too deep");
    }
    if (top) {
        struct event *h = tr_push(r->t, RD_RSP_HEAD, e);

        h->type = type;
        h->num = type == '+' || type == '-' ? 0 : v;
    }
    if (type == '$' && v >= 0) {
        uint64_t pl = (uint64_t)v;

        if ((uint64_t)(r->n - e) < pl + 1)
            return REF_MORE;
        if (r->s[e + pl] != '\r')
            return ref_bad(r, e + pl + 1, "bulk not ended by CRLF");
        if ((uint64_t)(r->n - e) < pl + 2)
            return REF_MORE;
        if (r->s[e + pl + 1] != '\n')
            return ref_bad(r, e + pl + 2, "bulk not ended by CRLF");
        e += pl + 2;
    } else if (type == '*' && v > 0) {
        for (int64_t k = 0; k < v; k++) {
            res = ref_value(r, e, depth + 1, false, &e);
            if (res != REF_OK)
                return res;
            if (top)
                tr_push(r->t, RD_RSP_ELEM, e)->nelem = (uint64_t)k + 1;
        }
    }
    if (top) {
        struct event *d = tr_push(r->t, RD_RSP_DONE, e);

        d->nelem = type == '*' && v > 0 ? (uint64_t)v : 0;
    }
    *end = e;
    return REF_OK;
}

static void ref_run(struct ref *r)
{
    size_t p = 0;

    r->t->n = 0;
    while (p < r->n && ref_value(r, p, 0, true, &p) == REF_OK)
        ;
}

/* ---- the framer, whole or in pieces ---- */

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void run(const struct ref *r, uint32_t seed, struct trace *t)
{
    struct rd_rsp_framer f;
    size_t pos = 0, reply_start = 0;
    uint32_t max_piece = seed == 0 ? 0 : 1 + seed % 37;
    bool seen_head = false;

    t->n = 0;
    rd_rsp_framer_init(&f);
    while (pos < r->n) {
        size_t plen = max_piece == 0 ? r->n - pos : rng_next(&seed) % (max_piece + 1);
        size_t off = 0;
        uint8_t *buf;

        if (plen > r->n - pos)
            plen = r->n - pos;
        buf = malloc(plen ? plen : 1);
        CHECK(buf != NULL);
        memcpy(buf, r->s + pos, plen);
        for (;;) {
            size_t used = (size_t)-1;
            bool in_head = rd_rsp_in_head(&f);
            enum rd_rsp_ev ev = rd_rsp_feed(&f, r->max_line, r->max_bulk, plen ? buf + off : NULL,
                                            plen - off, &used);
            struct event *e;

            CHECK(used <= plen - off);
            if (in_head && seen_head)
                CHECK(ev == RD_RSP_DONE && used == 0);
            else if (used > 0)
                CHECK(in_head == !seen_head);
            off += used;
            CHECK(f.depth <= RD_RSP_MAX_DEPTH);
            if (ev == RD_RSP_AGAIN) {
                CHECK(off == plen);
                break;
            }
            e = tr_push(t, ev, pos + off);
            if (ev == RD_RSP_BAD) {
                CHECK(f.error != NULL && f.error[0] != '\0');
                e->error = f.error;
                CHECK(rd_rsp_feed(&f, r->max_line, r->max_bulk, buf, plen, &used) == RD_RSP_BAD &&
                      used == 0);
                free(buf);
                return;
            }
            e->nelem = f.nelem;
            if (ev == RD_RSP_HEAD) {
                CHECK(!seen_head && pos + off - f.line_len == reply_start);
                CHECK(f.line_len <= r->max_line);
                seen_head = true;
                e->type = f.type;
                e->num = f.num;
            } else if (ev == RD_RSP_DONE) {
                CHECK(seen_head);
                seen_head = false;
                reply_start = pos + off;
            } else {
                CHECK(seen_head && used > 0 && f.type == RD_T_ARRAY);
            }
        }
        free(buf);
        pos += plen;
    }
}

static void check_same(const struct trace *a, const struct trace *b)
{
    CHECK(a->n == b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct event *x = &a->e[i], *y = &b->e[i];

        CHECK(x->ev == y->ev && x->abs == y->abs);
        if (x->ev == RD_RSP_HEAD)
            CHECK(x->type == y->type && x->num == y->num);
        if (x->ev == RD_RSP_ELEM || x->ev == RD_RSP_DONE)
            CHECK(x->nelem == y->nelem);
        if (x->ev == RD_RSP_BAD)
            CHECK(strcmp(x->error, y->error) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ref r;

    if (size < HDR)
        return 0;
    r.max_line = data[0] & 0x80 ? 1024 : (uint32_t)(data[0] & 0x3f);
    r.max_bulk = data[1] & 0x80 ? UINT64_MAX : (uint64_t)(data[1] & 0x7f);
    r.s = data + HDR;
    r.n = size - HDR;

    r.t = &ref_tr;
    ref_run(&r);
    run(&r, 0, &whole_tr);
    check_same(&ref_tr, &whole_tr);
    run(&r, (1u + data[2] * 2654435761u) | 1u, &piece_tr);
    check_same(&ref_tr, &piece_tr);
    return 0;
}

/* Fuzzes the RESP request framer (rd_req_feed) and the inline tokenizer (rd_inline_split,
 * rd_inline_unquote). The framer runs over the stream whole and in input-chosen pieces (empty
 * feeds between some), and both runs must give the events of a reference: a direct, not
 * resumable port of redis 7.0's processMultibulkBuffer / processInlineBuffer over the whole
 * stream, as redis sees it when the bytes come one at a time (string2ll as in redis's util.c).
 * Every inline line, and the input itself, is split and checked against a port of
 * sdssplitargs on the C string redis would split. */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd_req.h"

#define CHECK(c)   ((c) ? (void)0 : __builtin_trap())
#define HDR        4 /* max_inline, max_bulk, max_args/unauth, chunk seed */
#define MAX_EVENTS 10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct event {
    enum rd_req_ev ev;
    size_t abs; /* where it ended in the stream */
    uint32_t argc, argi;
    uint64_t arg_off, arg_len, req_off;
    char error[48];
};

struct trace {
    struct event e[MAX_EVENTS];
    size_t n;
};

static struct trace ref_tr, whole_tr, piece_tr;

static struct event *tr_push(struct trace *t, enum rd_req_ev ev, size_t abs)
{
    struct event *e = &t->e[t->n++];

    CHECK(t->n <= MAX_EVENTS);
    memset(e, 0, sizeof(*e));
    e->ev = ev;
    e->abs = abs;
    return e;
}

/* ---- the reference ---- */

/* redis's string2ll (util.c, 7.0) */
static int ref_string2ll(const char *s, size_t slen, long long *value)
{
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;

    if (plen == slen || slen >= 21)
        return 0;
    if (slen == 1 && p[0] == '0') {
        *value = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == slen)
            return 0;
    }
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return 0;
    }
    while (plen < slen && p[0] >= '0' && p[0] <= '9') {
        if (v > (ULLONG_MAX / 10))
            return 0;
        v *= 10;
        if (v > (ULLONG_MAX - (unsigned long long)(p[0] - '0')))
            return 0;
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }
    if (plen < slen)
        return 0;
    if (negative) {
        if (v > ((unsigned long long)(-(LLONG_MIN + 1)) + 1))
            return 0;
        *value = (long long)(0 - v);
    } else {
        if (v > LLONG_MAX)
            return 0;
        *value = (long long)v;
    }
    return 1;
}

enum ref_line { REF_MORE, REF_END, REF_BIG };

/* A line from s[start]: strchr for term finds it unless a NUL comes first; with the bytes
 * coming one at a time, the line is too big at the first byte past cap that is not its end. */
static enum ref_line ref_line(const uint8_t *s, size_t n, size_t start, uint32_t cap, uint8_t term,
                              size_t *at)
{
    bool nul = false;

    for (size_t i = start; i < n; i++) {
        if (!nul && s[i] == term) {
            *at = i;
            return REF_END;
        }
        if (i - start >= cap) {
            *at = i;
            return REF_BIG;
        }
        if (s[i] == 0)
            nul = true;
    }
    return REF_MORE;
}

static void ref_error(struct trace *t, size_t rs, size_t abs, const char *msg)
{
    struct event *e = tr_push(t, RD_REQ_ERROR, abs);

    e->req_off = abs - rs;
    snprintf(e->error, sizeof(e->error), "%s", msg);
}

/* The whole stream as redis reads it; stops at the first error or at a partial request. */
static void ref_run(const uint8_t *s, size_t n, const struct rd_limits *lim, struct trace *t)
{
    size_t p = 0, at;

    t->n = 0;
    while (p < n) {
        size_t rs = p;
        long long ll, argc;
        enum ref_line r;
        int ok;

        if (s[p] != '*') {
            r = ref_line(s, n, p, lim->max_inline, '\n', &at);
            if (r == REF_MORE)
                return;
            if (r == REF_BIG)
                return ref_error(t, rs, at, "too big inline request");
            tr_push(t, RD_REQ_INLINE, at + 1)->req_off = at + 1 - rs;
            p = at + 1;
            continue;
        }
        r = ref_line(s, n, p, lim->max_inline, '\r', &at);
        if (r == REF_MORE)
            return;
        if (r == REF_BIG)
            return ref_error(t, rs, at, "too big mbulk count string");
        if (at + 1 >= n)
            return; /* "Buffer should also contain \n" */
        ok = ref_string2ll((const char *)s + p + 1, at - (p + 1), &argc);
        if (!ok || argc > (long long)lim->max_args)
            return ref_error(t, rs, at + 2, "invalid multibulk length");
        if (argc > 10 && lim->unauth)
            return ref_error(t, rs, at + 2, "unauthenticated multibulk length");
        p = at + 2;
        if (argc <= 0) {
            tr_push(t, RD_REQ_DONE, p)->req_off = p - rs;
            continue;
        }
        for (long long a = 0; a < argc; a++) {
            struct event *e;
            size_t q = p;

            r = ref_line(s, n, q, lim->max_inline, '\r', &at);
            if (r == REF_MORE)
                return;
            if (r == REF_BIG)
                return ref_error(t, rs, at, "too big bulk count string");
            if (at + 1 >= n)
                return;
            if (s[q] != '$') {
                char msg[48];
                uint8_t c = s[q] == '\r' || s[q] == '\n' ? ' ' : s[q];

                snprintf(msg, sizeof(msg), "expected '$', got '%c'", c);
                return ref_error(t, rs, at + 2, msg);
            }
            ok = ref_string2ll((const char *)s + q + 1, at - (q + 1), &ll);
            if (!ok || ll < 0 || (unsigned long long)ll > lim->max_bulk)
                return ref_error(t, rs, at + 2, "invalid bulk length");
            if (ll > 16384 && lim->unauth)
                return ref_error(t, rs, at + 2, "unauthenticated bulk length");
            p = at + 2;
            if ((unsigned long long)(n - p) < (unsigned long long)ll + 2)
                return;
            e = tr_push(t, a + 1 == argc ? RD_REQ_DONE : RD_REQ_ARG, p + (size_t)ll + 2);
            e->argc = (uint32_t)argc;
            e->argi = (uint32_t)a;
            e->arg_off = p - rs;
            e->arg_len = (uint64_t)ll;
            p += (size_t)ll + 2;
            e->req_off = p - rs;
        }
    }
}

/* ---- the framer, whole or in pieces ---- */

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void check_inline(const uint8_t *line, size_t len);

static void run(const uint8_t *s, size_t n, const struct rd_limits *lim, uint32_t seed,
                struct trace *t)
{
    struct rd_req_framer f;
    size_t pos = 0, req_start = 0;
    uint32_t max_piece = seed == 0 ? 0 : 1 + seed % 37;

    t->n = 0;
    rd_req_framer_init(&f);
    while (pos < n || (pos == n && n == 0)) {
        size_t plen = max_piece == 0 ? n - pos : rng_next(&seed) % (max_piece + 1);
        size_t off = 0;
        uint8_t *buf;

        if (plen > n - pos)
            plen = n - pos;
        buf = malloc(plen ? plen : 1);
        CHECK(buf != NULL);
        memcpy(buf, s + pos, plen);
        for (;;) {
            size_t used = (size_t)-1;
            enum rd_req_ev ev = rd_req_feed(&f, lim, plen ? buf + off : NULL, plen - off, &used);
            struct event *e;

            CHECK(used <= plen - off);
            off += used;
            CHECK(f.req_off == pos + off - req_start);
            if (ev == RD_REQ_AGAIN) {
                CHECK(off == plen);
                break;
            }
            e = tr_push(t, ev, pos + off);
            e->req_off = f.req_off;
            if (ev == RD_REQ_ERROR) {
                CHECK(f.error != NULL && f.error[0] != '\0');
                CHECK(strlen(f.error) < sizeof(e->error));
                snprintf(e->error, sizeof(e->error), "%s", f.error);
                /* it stays */
                CHECK(rd_req_feed(&f, lim, buf, plen, &used) == RD_REQ_ERROR && used == 0);
                free(buf);
                return;
            }
            CHECK(used > 0);
            if (ev == RD_REQ_INLINE) {
                CHECK(f.is_inline && s[pos + off - 1] == '\n');
                if (max_piece == 0)
                    check_inline(s + req_start, (size_t)f.req_off);
                req_start = pos + off;
                continue;
            }
            CHECK(!f.is_inline && s[req_start] == '*');
            e->argc = f.argc;
            if (f.argc > 0) {
                e->argi = f.argi;
                e->arg_off = f.arg_off;
                e->arg_len = f.arg_len;
                CHECK(f.argc <= lim->max_args && f.arg_len <= lim->max_bulk);
                CHECK(!lim->unauth || (f.argc <= RD_UNAUTH_ARGS && f.arg_len <= RD_UNAUTH_BULK));
            }
            if (ev == RD_REQ_DONE)
                req_start = pos + off;
        }
        free(buf);
        pos += plen;
        if (n == 0)
            break;
    }
}

static void check_same(const struct trace *a, const struct trace *b)
{
    CHECK(a->n == b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct event *x = &a->e[i], *y = &b->e[i];

        CHECK(x->ev == y->ev && x->abs == y->abs && x->req_off == y->req_off);
        CHECK(strcmp(x->error, y->error) == 0);
        if (x->ev == RD_REQ_ARG || x->ev == RD_REQ_DONE) {
            CHECK(x->argc == y->argc);
            if (x->argc > 0)
                CHECK(x->argi == y->argi && x->arg_off == y->arg_off && x->arg_len == y->arg_len);
        }
    }
}

/* ---- the tokenizer against sdssplitargs ---- */

static int is_hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_digit_to_int(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static int c_isspace(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* redis's sdssplitargs (sds.c, 7.0), writing token bytes one after another to out and their
 * lengths to lens; returns the count or -1. */
static int ref_split(const char *line, uint8_t *out, size_t *lens, size_t cap)
{
    const char *p = line;
    size_t o = 0;
    int argc = 0;

    while (1) {
        while (*p && c_isspace(*p))
            p++;
        if (*p) {
            int inq = 0, insq = 0, done = 0;
            size_t start = o;

            while (!done) {
                if (inq) {
                    if (*p == '\\' && *(p + 1) == 'x' && is_hex_digit(*(p + 2)) &&
                        is_hex_digit(*(p + 3))) {
                        out[o++] =
                            (uint8_t)(hex_digit_to_int(*(p + 2)) * 16 + hex_digit_to_int(*(p + 3)));
                        p += 3;
                    } else if (*p == '\\' && *(p + 1)) {
                        char c;

                        p++;
                        switch (*p) {
                        case 'n':
                            c = '\n';
                            break;
                        case 'r':
                            c = '\r';
                            break;
                        case 't':
                            c = '\t';
                            break;
                        case 'b':
                            c = '\b';
                            break;
                        case 'a':
                            c = '\a';
                            break;
                        default:
                            c = *p;
                            break;
                        }
                        out[o++] = (uint8_t)c;
                    } else if (*p == '"') {
                        if (*(p + 1) && !c_isspace(*(p + 1)))
                            return -1;
                        done = 1;
                    } else if (!*p) {
                        return -1;
                    } else {
                        out[o++] = (uint8_t)*p;
                    }
                } else if (insq) {
                    if (*p == '\\' && *(p + 1) == '\'') {
                        p++;
                        out[o++] = '\'';
                    } else if (*p == '\'') {
                        if (*(p + 1) && !c_isspace(*(p + 1)))
                            return -1;
                        done = 1;
                    } else if (!*p) {
                        return -1;
                    } else {
                        out[o++] = (uint8_t)*p;
                    }
                } else {
                    switch (*p) {
                    case ' ':
                    case '\n':
                    case '\r':
                    case '\t':
                    case '\0':
                        done = 1;
                        break;
                    case '"':
                        inq = 1;
                        break;
                    case '\'':
                        insq = 1;
                        break;
                    default:
                        out[o++] = (uint8_t)*p;
                        break;
                    }
                }
                if (*p)
                    p++;
            }
            CHECK((size_t)argc < cap);
            lens[argc++] = o - start;
        } else {
            return argc;
        }
    }
}

/* line[0, len) split by rd_inline_split (from an exact-size copy) against ref_split of the C
 * string processInlineBuffer would split: up to the first NUL, less a trailing "\n" or "\r\n". */
static void check_split(const uint8_t *line, size_t len, bool strip)
{
    uint8_t *copy = malloc(len ? len : 1), *ref_out = malloc(len + 1), *dec = malloc(len + 1);
    char *cstr = malloc(len + 1);
    size_t *ref_lens = malloc((len / 2 + 2) * sizeof(*ref_lens));
    struct rd_itok *toks = malloc((len / 2 + 2) * sizeof(*toks));
    size_t clen = len, o = 0;
    int want, got, few;

    CHECK(copy && ref_out && dec && cstr && ref_lens && toks);
    memcpy(copy, line, len);
    if (strip && clen > 0 && line[clen - 1] == '\n') {
        clen--;
        if (clen > 0 && line[clen - 1] == '\r')
            clen--;
    }
    memcpy(cstr, line, clen);
    cstr[clen] = '\0';
    want = ref_split(cstr, ref_out, ref_lens, len / 2 + 2);
    got = rd_inline_split(copy, len, toks, (uint32_t)(len / 2 + 2));
    CHECK(got == want);
    for (int i = 0; i < got; i++) {
        CHECK((uint64_t)toks[i].off + toks[i].len <= len && toks[i].len > 0);
        CHECK(i == 0 || toks[i].off > toks[i - 1].off + toks[i - 1].len);
        CHECK(toks[i].dlen == ref_lens[i]);
        CHECK(toks[i].quoted || toks[i].dlen == toks[i].len);
        rd_inline_unquote(copy, &toks[i], dec);
        CHECK(memcmp(dec, ref_out + o, ref_lens[i]) == 0);
        o += ref_lens[i];
    }
    /* less room: the same count, the first tokens the same */
    if (got > 1) {
        struct rd_itok t1;

        few = rd_inline_split(copy, len, &t1, 1);
        CHECK(few == got && t1.off == toks[0].off && t1.len == toks[0].len);
    }
    free(toks);
    free(ref_lens);
    free(cstr);
    free(dec);
    free(ref_out);
    free(copy);
}

static void check_inline(const uint8_t *line, size_t len)
{
    /* as the framer gives it (newline included), and without the newline or "\r\n" */
    check_split(line, len, true);
    check_split(line, len - 1, true);
    if (len >= 2 && line[len - 2] == '\r')
        check_split(line, len - 2, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rd_limits lim;
    const uint8_t *s;
    size_t n;

    if (size < HDR)
        return 0;
    lim.max_inline = data[0] & 0x80 ? RD_INLINE_MAX : (uint32_t)(data[0] & 0x3f);
    lim.max_bulk =
        data[1] & 0x80 ? 20000u + (uint64_t)(data[1] & 0x7f) * 1000u : (uint64_t)(data[1] & 0x7f);
    lim.max_args = data[2] & 0x40 ? RD_ARGS_MAX : (uint32_t)(data[2] & 0x3f);
    lim.unauth = (data[2] & 0x80) != 0;
    s = data + HDR;
    n = size - HDR;

    ref_run(s, n, &lim, &ref_tr);
    run(s, n, &lim, 0, &whole_tr);
    check_same(&ref_tr, &whole_tr);
    run(s, n, &lim, (1u + data[3] * 2654435761u) | 1u, &piece_tr);
    check_same(&ref_tr, &piece_tr);
    /* the tokenizer on anything, NULs and all */
    check_split(s, n, false);
    return 0;
}

/* Unit tests for proto/rd_rsp: the RESP2 reply framer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/rd_rsp.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_LINE 64
#define MAX_BULK 100

static void __attribute__((format(printf, 3, 4)))
tr_add(char *out, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;

    va_start(ap, fmt);
    assert_true((size_t)vsnprintf(out + n, cap - n, fmt, ap) < cap - n);
    va_end(ap);
}

/* Feeds stream[0, len) cut at cuts[0..ncuts) (ascending), each piece in an exact-size heap
 * copy, optionally with an empty feed before every piece. Writes a trace:
 *   H<type><num>@<end>   a reply's head line ended at <end> (absolute)
 *   E<nelem>@<end>       a top-level array element ended
 *   D@<end>              the reply ended
 *   B@<at>:<message>     not RESP2; the trace stops
 *   P                    the stream ended inside a reply
 * and checks the promises: HEAD's line_len, nelem counting up by one, rd_rsp_in_head true
 * exactly for the head line's bytes. */
static void run_rsp_stream(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts,
                           bool empty_feeds, char *out, size_t cap)
{
    struct rd_rsp_framer f;
    size_t abs = 0, reply_start = 0;
    bool seen_head = false;
    uint64_t want_nelem = 0;

    out[0] = '\0';
    rd_rsp_framer_init(&f);
    for (size_t piece = 0; piece <= ncuts; piece++) {
        size_t from = piece == 0 ? 0 : cuts[piece - 1];
        size_t to = piece == ncuts ? len : cuts[piece];
        size_t plen = to - from, off = 0;
        uint8_t *buf = plen > 0 ? malloc(plen) : NULL;

        assert_true(from <= to);
        if (plen > 0) {
            assert_non_null(buf);
            memcpy(buf, stream + from, plen);
        }
        for (;;) {
            size_t used = 99;
            bool in_head = rd_rsp_in_head(&f);
            enum rd_rsp_ev ev;

            if (empty_feeds && off < plen && !(in_head && seen_head)) {
                /* nothing to report without bytes, unless a DONE is pending */
                assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, NULL, 0, &used), RD_RSP_AGAIN);
                assert_int_equal(used, 0);
            }
            ev = rd_rsp_feed(&f, MAX_LINE, MAX_BULK, buf != NULL ? buf + off : NULL, plen - off,
                             &used);
            assert_true(used <= plen - off);
            /* a head's bytes come before the HEAD of their reply, the others after it; a
             * pending DONE consumes nothing */
            if (in_head && seen_head)
                assert_true(ev == RD_RSP_DONE && used == 0);
            else if (used > 0)
                assert_true(in_head == !seen_head);
            off += used;
            abs += used;
            switch (ev) {
            case RD_RSP_AGAIN:
                assert_int_equal(off, plen);
                break;
            case RD_RSP_BAD:
                assert_non_null(f.error);
                tr_add(out, cap, "B@%zu:%s", abs, f.error);
                used = 99;
                assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, buf, plen, &used), RD_RSP_BAD);
                assert_int_equal(used, 0);
                assert_false(rd_rsp_in_head(&f));
                free(buf);
                return;
            case RD_RSP_HEAD:
                assert_false(seen_head);
                assert_int_equal(abs - f.line_len, reply_start);
                seen_head = true;
                tr_add(out, cap, "H%c%lld@%zu ", f.type, (long long)f.num, abs);
                continue;
            case RD_RSP_ELEM:
                assert_true(seen_head);
                assert_int_equal(f.type, RD_T_ARRAY);
                assert_true(used > 0);
                assert_int_equal(f.nelem, ++want_nelem);
                assert_true(f.nelem <= (uint64_t)f.num);
                tr_add(out, cap, "E%llu@%zu ", (unsigned long long)f.nelem, abs);
                continue;
            case RD_RSP_DONE:
                assert_true(seen_head);
                assert_int_equal(f.nelem, want_nelem);
                if (f.type == RD_T_ARRAY)
                    assert_int_equal(f.nelem, f.num > 0 ? (uint64_t)f.num : 0);
                else
                    assert_int_equal(f.nelem, 0);
                tr_add(out, cap, "D@%zu ", abs);
                reply_start = abs;
                seen_head = false;
                want_nelem = 0;
                continue;
            }
            break;
        }
        free(buf);
    }
    if (abs > reply_start)
        tr_add(out, cap, "P");
    if (out[0] != '\0' && out[strlen(out) - 1] == ' ')
        out[strlen(out) - 1] = '\0';
}

/* Whole, cut at every byte boundary, byte by byte (with and without empty feeds) and, for
 * short streams, cut at every pair of boundaries: all must give want. */
static void check_rsp_splits(const uint8_t *stream, size_t len, const char *want)
{
    static char got[1 << 16];
    size_t *cuts = calloc(len + 2, sizeof(*cuts));

    assert_non_null(cuts);
    run_rsp_stream(stream, len, NULL, 0, false, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("whole: got \"%s\", want \"%s\"", got, want);
    for (size_t k = 0; k <= len; k++) {
        cuts[0] = k;
        run_rsp_stream(stream, len, cuts, 1, k % 2 == 1, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("cut at %zu: got \"%s\", want \"%s\"", k, got, want);
    }
    for (size_t k = 0; k + 1 < len; k++)
        cuts[k] = k + 1;
    for (int e = 0; e < 2; e++) {
        run_rsp_stream(stream, len, cuts, len > 0 ? len - 1 : 0, e, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("byte by byte: got \"%s\", want \"%s\"", got, want);
    }
    if (len <= 80) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                cuts[0] = i;
                cuts[1] = j;
                run_rsp_stream(stream, len, cuts, 2, false, got, sizeof(got));
                if (strcmp(got, want) != 0)
                    fail_msg("cuts %zu,%zu: got \"%s\", want \"%s\"", i, j, got, want);
            }
        }
    }
    free(cuts);
}

struct stream_case {
    const char *in;
    size_t len;
    const char *trace;
};

/* clang-format off */
#define STREAM(s, t) {(s), sizeof(s) - 1, (t)}
/* clang-format on */

static const struct stream_case stream_cases[] = {
    STREAM("", ""),
    /* status, error, integer */
    STREAM("+OK\r\n", "H+0@5 D@5"),
    STREAM("+\r\n", "H+0@3 D@3"),
    STREAM("-ERR unknown command 'x'\r\n", "H-0@26 D@26"),
    STREAM("+a\x01\xff\t\"\r\n", "H+0@8 D@8"),
    STREAM(":42\r\n", "H:42@5 D@5"),
    STREAM(":0\r\n", "H:0@4 D@4"),
    STREAM(":-7\r\n", "H:-7@5 D@5"),
    STREAM(":-0\r\n", "H:0@5 D@5"),
    STREAM(":007\r\n", "H:7@6 D@6"),
    STREAM(":9223372036854775807\r\n", "H:9223372036854775807@22 D@22"),
    STREAM(":-9223372036854775808\r\n", "H:-9223372036854775808@23 D@23"),
    /* bulk strings: the payload is any bytes, "\r\n" included */
    STREAM("$3\r\nabc\r\n", "H$3@4 D@9"),
    STREAM("$0\r\n\r\n", "H$0@4 D@6"),
    STREAM("$-1\r\n", "H$-1@5 D@5"),
    STREAM("$4\r\na\r\nb\r\n", "H$4@4 D@10"),
    STREAM("$5\r\n+OK\r\n\r\n", "H$5@4 D@11"),
    STREAM("$3\r\n\0\n\r\r\n", "H$3@4 D@9"),
    /* arrays */
    STREAM("*0\r\n", "H*0@4 D@4"),
    STREAM("*-1\r\n", "H*-1@5 D@5"),
    STREAM("*2\r\n$1\r\na\r\n:1\r\n", "H*2@4 E1@11 E2@15 D@15"),
    STREAM("*5\r\n+a\r\n-b\r\n:3\r\n$1\r\nd\r\n$-1\r\n", "H*5@4 E1@8 E2@12 E3@16 E4@23 E5@28 D@28"),
    STREAM("*3\r\n$-1\r\n*-1\r\n*0\r\n", "H*3@4 E1@9 E2@14 E3@18 D@18"),
    /* nested: only top-level elements are events */
    STREAM("*2\r\n*2\r\n*1\r\n:1\r\n+x\r\n-e\r\n", "H*2@4 E1@20 E2@24 D@24"),
    STREAM("*1\r\n*1\r\n*1\r\n$2\r\nhi\r\n", "H*1@4 E1@20 D@20"),
    STREAM("*2\r\n*0\r\n*2\r\n*-1\r\n*1\r\n*0\r\n", "H*2@4 E1@8 E2@25 D@25"),
    STREAM("*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n", "H*2@4 E1@20 E2@38 D@38"),
    /* pipelined */
    STREAM("+OK\r\n:1\r\n$-1\r\n*1\r\n:2\r\n$1\r\nx\r\n",
           "H+0@5 D@5 H:1@9 D@9 H$-1@14 D@14 H*1@18 E1@22 D@22 H$1@26 D@29"),
    STREAM("*0\r\n*0\r\n", "H*0@4 D@4 H*0@8 D@8"),
    /* partial */
    STREAM("+OK", "P"),
    STREAM("+OK\r", "P"),
    STREAM(":1", "P"),
    STREAM("$3\r\nab", "H$3@4 P"),
    STREAM("$3\r\nabc\r", "H$3@4 P"),
    STREAM("*2\r\n:1\r\n", "H*2@4 E1@8 P"),
    STREAM("*2\r\n*1\r\n", "H*2@4 P"),
    /* not RESP2: the byte that shows it is consumed */
    STREAM("!x\r\n", "B@1:bad type byte"),
    STREAM("\r\n", "B@1:bad type byte"),
    STREAM("OK\r\n", "B@1:bad type byte"),
    STREAM("%1\r\n", "B@1:bad type byte"), /* RESP3 is not RESP2 */
    STREAM("+OK\n", "B@4:bare LF"),
    STREAM("+\n", "B@2:bare LF"),
    STREAM("+OK\rX", "B@5:CR without LF"),
    STREAM("+OK\r\r\n", "B@5:CR without LF"),
    STREAM(":1\n", "B@3:bare LF"),
    STREAM(":x\r\n", "B@2:bad number"),
    STREAM(":\r\n", "B@3:bad number"),
    STREAM(":-\r\n", "B@4:bad number"),
    STREAM(":+1\r\n", "B@2:bad number"),
    STREAM(": 1\r\n", "B@2:bad number"),
    STREAM(":1 \r\n", "B@3:bad number"),
    STREAM(":1-\r\n", "B@3:bad number"),
    STREAM(":--1\r\n", "B@3:bad number"),
    STREAM(":9223372036854775808\r\n", "B@20:bad number"),
    STREAM(":-9223372036854775809\r\n", "B@21:bad number"),
    STREAM("$x\r\n", "B@2:bad number"),
    STREAM("$\r\n", "B@3:bad number"),
    STREAM("$-2\r\n", "B@5:bad bulk length"),
    STREAM("$-9223372036854775808\r\n", "B@23:bad bulk length"),
    STREAM("$100\r\n", "H$100@6 P"),
    STREAM("$101\r\n", "B@6:bulk too big"),
    STREAM("$3\r\nabcX\r\n", "H$3@4 B@8:bulk not ended by CRLF"),
    STREAM("$3\r\nabc\rX", "H$3@4 B@9:bulk not ended by CRLF"),
    STREAM("$3\r\nabc\n", "H$3@4 B@8:bulk not ended by CRLF"),
    STREAM("$3\r\nabcd\r\n", "H$3@4 B@8:bulk not ended by CRLF"),
    STREAM("$0\r\nx", "H$0@4 B@5:bulk not ended by CRLF"),
    STREAM("*-2\r\n", "B@5:bad array length"),
    STREAM("*x\r\n", "B@2:bad number"),
    STREAM("*1\r\n!\r\n", "H*1@4 B@5:bad type byte"),
    STREAM("*2\r\n:1\r\n$-2\r\n", "H*2@4 E1@8 B@13:bad bulk length"),
    STREAM("+OK\r\n+OK\n", "H+0@5 D@5 B@9:bare LF"),
};

static void test_framer_streams(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(stream_cases); i++) {
        const struct stream_case *c = &stream_cases[i];

        check_rsp_splits((const uint8_t *)c->in, c->len, c->trace);
    }
}

/* Lines of max_line - 1, max_line and max_line + 1 bytes, of each kind. */
static void test_framer_line_cap(void **state)
{
    static const char types[] = "+-:$*";
    uint8_t s[200];
    char want[128];

    (void)state;
    for (const char *t = types; *t != '\0'; t++) {
        for (uint32_t n = MAX_LINE - 1; n <= MAX_LINE + 1; n++) {
            s[0] = (uint8_t)*t;
            /* a number with leading zeros: any length, the value 0 */
            memset(s + 1, *t == '+' || *t == '-' ? 's' : '0', n - 3);
            memcpy(s + n - 2, "\r\n", 2);
            if (n > MAX_LINE) {
                snprintf(want, sizeof(want), "B@%u:line too long", MAX_LINE);
            } else if (*t == '$') {
                /* "$0": a payload of nothing follows */
                memcpy(s + n, "\r\n", 2);
                snprintf(want, sizeof(want), "H$0@%u D@%u", n, n + 2);
                check_rsp_splits(s, n + 2, want);
                continue;
            } else {
                snprintf(want, sizeof(want), "H%c0@%u D@%u", *t, n, n);
            }
            check_rsp_splits(s, n, want);
        }
    }
    /* the cap is per line: a payload is not a line, and each line of an array has its own */
    {
        size_t n = (size_t)snprintf((char *)s, sizeof(s), "*2\r\n$90\r\n");

        memset(s + n, 'v', 90);
        n += 90;
        n += (size_t)snprintf((char *)s + n, sizeof(s) - n, "\r\n+%060d\r\n", 0);
        snprintf(want, sizeof(want), "H*2@4 E1@%d E2@%zu D@%zu", 9 + 92, n, n);
        check_rsp_splits(s, n, want);
    }
}

/* Arrays nested RD_RSP_MAX_DEPTH deep are fine; one more is too deep, even an empty one. */
static void test_framer_depth(void **state)
{
    uint8_t s[4 * (RD_RSP_MAX_DEPTH + 2) + 16];
    char want[128];
    size_t n;

    (void)state;
    for (int depth = RD_RSP_MAX_DEPTH - 1; depth <= RD_RSP_MAX_DEPTH + 1; depth++) {
        static const char *const last[] = {":1\r\n", "*0\r\n", "*-1\r\n", "*1\r\n:1\r\n"};

        for (size_t l = 0; l < NELEM(last); l++) {
            /* depth arrays around last[l], itself one more array for all but ":1" */
            int arrays = depth + (l > 0);

            for (n = 0; n < (size_t)depth; n++)
                memcpy(s + 4 * n, "*1\r\n", 4);
            n *= 4;
            memcpy(s + n, last[l], strlen(last[l]));
            n += strlen(last[l]);
            if (arrays <= RD_RSP_MAX_DEPTH)
                snprintf(want, sizeof(want), "H*1@4 E1@%zu D@%zu", n, n);
            else
                /* at the end of the first array line past the limit */
                snprintf(want, sizeof(want), "H*1@4 B@%d:nesting too deep",
                         depth > RD_RSP_MAX_DEPTH ? 4 * (RD_RSP_MAX_DEPTH + 1)
                                                  : 4 * RD_RSP_MAX_DEPTH + (l == 2 ? 5 : 4));
            check_rsp_splits(s, n, want);
        }
    }
}

/* The framer contract step by step, without the driver. */
static void test_framer_api(void **state)
{
    struct rd_rsp_framer f;
    size_t used;

    (void)state;
    rd_rsp_framer_init(&f);
    assert_null(f.error);
    assert_true(rd_rsp_in_head(&f));
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, NULL, 0, &used), RD_RSP_AGAIN);
    assert_int_equal(used, 0);

    /* a head-only reply: HEAD, then DONE on the next call, even without bytes */
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"+O", 2, &used),
                     RD_RSP_AGAIN);
    assert_true(rd_rsp_in_head(&f));
    assert_int_equal(f.line_len, 2);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"K\r\n:5\r\n", 7, &used),
                     RD_RSP_HEAD);
    assert_int_equal(used, 3);
    assert_int_equal(f.type, RD_T_STATUS);
    assert_int_equal(f.line_len, 5);
    assert_true(rd_rsp_in_head(&f));
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, NULL, 0, &used), RD_RSP_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(f.type, RD_T_STATUS); /* still readable */
    assert_true(rd_rsp_in_head(&f));
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)":5\r\n", 4, &used),
                     RD_RSP_HEAD);
    assert_int_equal(f.type, RD_T_INT);
    assert_int_equal(f.num, 5);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"$", 1, &used),
                     RD_RSP_DONE);
    assert_int_equal(used, 0);

    /* a bulk string: HEAD after its line, DONE after its payload */
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"$3\r\nab", 6, &used),
                     RD_RSP_HEAD);
    assert_int_equal(used, 4);
    assert_int_equal(f.type, RD_T_BULK);
    assert_int_equal(f.num, 3);
    assert_false(rd_rsp_in_head(&f));
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, NULL, 0, &used), RD_RSP_AGAIN);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"ab", 2, &used),
                     RD_RSP_AGAIN);
    assert_int_equal(f.data_left, 3);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"c\r\n*2", 5, &used),
                     RD_RSP_DONE);
    assert_int_equal(used, 3);
    assert_true(rd_rsp_in_head(&f));

    /* an array: HEAD, an ELEM per element, DONE after the last */
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"*2\r\n", 4, &used),
                     RD_RSP_HEAD);
    assert_int_equal(f.type, RD_T_ARRAY);
    assert_int_equal(f.num, 2);
    assert_int_equal(f.nelem, 0);
    assert_int_equal(f.depth, 1);
    assert_false(rd_rsp_in_head(&f));
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK,
                                 (const uint8_t *)"*1\r\n:1\r\n$-1\r\n+x\r\n", 17, &used),
                     RD_RSP_ELEM);
    assert_int_equal(used, 8);
    assert_int_equal(f.nelem, 1);
    assert_int_equal(
        rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"$-1\r\n+x\r\n", 9, &used),
        RD_RSP_ELEM);
    assert_int_equal(used, 5);
    assert_int_equal(f.nelem, 2);
    assert_int_equal(f.depth, 0);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"+x\r\n", 4, &used),
                     RD_RSP_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(f.nelem, 2);
    /* the next reply starts afresh */
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"+x\r\n", 4, &used),
                     RD_RSP_HEAD);
    assert_int_equal(f.nelem, 0);
    assert_int_equal(f.num, 0);

    /* BAD stays */
    rd_rsp_framer_init(&f);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"?", 1, &used),
                     RD_RSP_BAD);
    assert_int_equal(used, 1);
    assert_string_equal(f.error, "bad type byte");
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, (const uint8_t *)"+OK\r\n", 5, &used),
                     RD_RSP_BAD);
    assert_int_equal(used, 0);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, MAX_BULK, NULL, 0, &used), RD_RSP_BAD);

    /* the caps are the caller's: a bulk of max_bulk with a huge one */
    rd_rsp_framer_init(&f);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, UINT64_MAX,
                                 (const uint8_t *)"$9223372036854775807\r\n", 22, &used),
                     RD_RSP_HEAD);
    assert_int_equal(f.num, INT64_MAX);
    assert_int_equal(f.data_left, (uint64_t)INT64_MAX + 2);
    rd_rsp_framer_init(&f);
    assert_int_equal(rd_rsp_feed(&f, MAX_LINE, 0, (const uint8_t *)"$1\r\n", 4, &used), RD_RSP_BAD);
    assert_string_equal(f.error, "bulk too big");
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Writes a random reply of at most 'depth' more levels to s; returns its length. *top: its
 * head's type, *nelem: its top-level element count (arrays). */
static size_t gen_reply(uint32_t *seed, uint8_t *s, int depth, char *top, int64_t *num)
{
    unsigned k = rng_next(seed) % (depth > 0 ? 7 : 5);
    size_t n;

    switch (k) {
    case 0:
        *top = '+', *num = 0;
        return (size_t)sprintf((char *)s, "+OK\r\n");
    case 1:
        *top = '-', *num = 0;
        return (size_t)sprintf((char *)s, "-ERR no %u\r\n", rng_next(seed) % 1000);
    case 2:
        *top = ':';
        *num = (int64_t)rng_next(seed) - (int64_t)(1u << 31);
        return (size_t)sprintf((char *)s, ":%lld\r\n", (long long)*num);
    case 3: {
        uint32_t pl = rng_next(seed) % 40;

        *top = '$', *num = pl;
        n = (size_t)sprintf((char *)s, "$%u\r\n", pl);
        for (uint32_t i = 0; i < pl; i++)
            s[n++] = (uint8_t)rng_next(seed);
        memcpy(s + n, "\r\n", 2);
        return n + 2;
    }
    case 4:
        *top = rng_next(seed) % 2 ? '$' : '*', *num = -1;
        return (size_t)sprintf((char *)s, "%c-1\r\n", *top);
    default: {
        uint32_t count = rng_next(seed) % 5;
        char t;
        int64_t v;

        *top = '*', *num = count;
        n = (size_t)sprintf((char *)s, "*%u\r\n", count);
        for (uint32_t i = 0; i < count; i++)
            n += gen_reply(seed, s + n, depth - 1, &t, &v);
        return n;
    }
    }
}

/* Thousands of random replies in one buffer, fed whole, in random pieces and byte by byte:
 * every reply is seen once, in order, with its type, number and element count. */
static void test_framer_pipeline(void **state)
{
    enum { N = 2000 };
    struct want {
        char type;
        int64_t num;
        size_t end;
    } *w = calloc(N, sizeof(*w));
    uint8_t *stream = malloc(N * 2048);
    size_t *cuts = malloc((N * 2048 + 1) * sizeof(*cuts));
    size_t len = 0;
    uint32_t seed = 99;

    (void)state;
    assert_non_null(w);
    assert_non_null(stream);
    assert_non_null(cuts);
    for (unsigned i = 0; i < N; i++) {
        len += gen_reply(&seed, stream + len, 3, &w[i].type, &w[i].num);
        w[i].end = len;
        assert_true(len < (size_t)N * 2048 - 4096);
    }
    for (int mode = 0; mode < 4; mode++) {
        struct rd_rsp_framer f;
        size_t ncuts = 0, abs = 0;
        unsigned rep = 0;

        if (mode == 1 || mode == 3) {
            for (size_t at = 0;;) {
                at += 1 + rng_next(&seed) % (mode == 1 ? 300 : 7);
                if (at >= len)
                    break;
                cuts[ncuts++] = at;
            }
        } else if (mode == 2) {
            for (size_t at = 1; at < len; at++)
                cuts[ncuts++] = at;
        }
        rd_rsp_framer_init(&f);
        for (size_t piece = 0; piece <= ncuts; piece++) {
            size_t to = piece == ncuts ? len : cuts[piece];

            for (;;) {
                size_t used;
                enum rd_rsp_ev ev =
                    rd_rsp_feed(&f, MAX_LINE, MAX_BULK, stream + abs, to - abs, &used);

                abs += used;
                if (ev == RD_RSP_AGAIN)
                    break;
                assert_int_not_equal(ev, RD_RSP_BAD);
                assert_true(rep < N);
                if (ev == RD_RSP_HEAD) {
                    assert_int_equal(f.type, w[rep].type);
                    assert_int_equal(f.num, w[rep].num);
                } else if (ev == RD_RSP_DONE) {
                    assert_int_equal(abs, w[rep].end);
                    if (f.type == RD_T_ARRAY)
                        assert_int_equal(f.nelem, w[rep].num > 0 ? (uint64_t)w[rep].num : 0);
                    rep++;
                }
            }
        }
        assert_int_equal(rep, N);
        assert_int_equal(abs, len);
    }
    free(cuts);
    free(stream);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framer_streams),  cmocka_unit_test(test_framer_line_cap),
        cmocka_unit_test(test_framer_depth),    cmocka_unit_test(test_framer_api),
        cmocka_unit_test(test_framer_pipeline),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

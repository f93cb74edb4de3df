/* Unit tests for proto/rd_req: the RESP request framer and the inline tokenizer. The error
 * texts and edge cases were checked against redis-server 7.0 (see the comments at the
 * tables). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/rd_req.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Framer tests: tiny caps so that every edge fits in a short, readable stream. */
static const struct rd_limits small_lim = {
    .max_inline = 32,
    .max_bulk = 64,
    .max_args = 8,
    .unauth = false,
};
static const struct rd_limits small_unauth = {
    .max_inline = 32,
    .max_bulk = 64,
    .max_args = 64,
    .unauth = true,
};
/* redis's own: 64 KiB lines, proto-max-bulk-len 512 MB (its INT_MAX arguments are ours 1M) */
static const struct rd_limits redis_lim = {
    .max_inline = RD_INLINE_MAX,
    .max_bulk = 512u * 1024 * 1024,
    .max_args = RD_ARGS_MAX,
    .unauth = false,
};
static const struct rd_limits redis_unauth = {
    .max_inline = RD_INLINE_MAX,
    .max_bulk = 512u * 1024 * 1024,
    .max_args = RD_ARGS_MAX,
    .unauth = true,
};

/* ---- framer, driven the way the proxy core drives it ---- */

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
 *   A<argi>:<off>+<len>@<end>    an argument (not the last) ended at <end> (absolute); its
 *                                payload is at <off>, <len> bytes (relative to the request)
 *   D<argc>:<off>+<len>@<end>    the last one, and with it the request
 *   D0@<end>                     an empty request ("*0", "*-1")
 *   I<ntok>@<end>                an inline line; rd_inline_split found <ntok> tokens ("!":
 *                                unbalanced quotes)
 *   E@<at>:<message>             protocol error; the trace stops
 *   P                            the stream ended inside a request
 * and checks what every event promises (req_off, argi, the payload's place). */
static void run_req_stream(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts,
                           bool empty_feeds, const struct rd_limits *lim, char *out, size_t cap)
{
    struct rd_req_framer f;
    size_t abs = 0, req_start = 0;
    uint32_t want_argi = 0;

    out[0] = '\0';
    rd_req_framer_init(&f);
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
        if (empty_feeds) {
            size_t used = 99;

            assert_int_equal(rd_req_feed(&f, lim, NULL, 0, &used), RD_REQ_AGAIN);
            assert_int_equal(used, 0);
            assert_int_equal(f.req_off, abs - req_start);
        }
        for (;;) {
            size_t used = 99;
            enum rd_req_ev ev =
                rd_req_feed(&f, lim, buf != NULL ? buf + off : NULL, plen - off, &used);

            assert_true(used <= plen - off);
            off += used;
            abs += used;
            assert_int_equal(f.req_off, abs - req_start);
            if (ev == RD_REQ_AGAIN) {
                assert_int_equal(off, plen);
                break;
            }
            if (ev == RD_REQ_ERROR) {
                size_t again = 99;

                assert_non_null(f.error);
                tr_add(out, cap, "E@%zu:%s", abs, f.error);
                /* the error stays */
                assert_int_equal(rd_req_feed(&f, lim, buf, plen, &again), RD_REQ_ERROR);
                assert_int_equal(again, 0);
                free(buf);
                return;
            }
            assert_true(used > 0);
            if (ev == RD_REQ_INLINE) {
                struct rd_itok toks[16];
                int n = rd_inline_split(stream + req_start, (size_t)f.req_off, toks, 16);

                assert_true(f.is_inline);
                assert_int_equal(stream[abs - 1], '\n');
                assert_int_not_equal(stream[req_start], '*');
                if (n < 0)
                    tr_add(out, cap, "I!@%zu ", abs);
                else
                    tr_add(out, cap, "I%d@%zu ", n, abs);
                req_start = abs;
                continue;
            }
            assert_false(f.is_inline);
            assert_int_equal(stream[req_start], '*');
            if (ev == RD_REQ_DONE && f.argc == 0) {
                tr_add(out, cap, "D0@%zu ", abs);
                req_start = abs;
                continue;
            }
            /* the payload, then the two bytes redis skips */
            assert_int_equal(f.argi, want_argi);
            assert_true(f.argi < f.argc);
            assert_int_equal(f.arg_off + f.arg_len + 2, f.req_off);
            if (ev == RD_REQ_ARG) {
                assert_true(f.argi + 1 < f.argc);
                tr_add(out, cap, "A%u:%llu+%llu@%zu ", f.argi, (unsigned long long)f.arg_off,
                       (unsigned long long)f.arg_len, abs);
                want_argi++;
                continue;
            }
            assert_int_equal(ev, RD_REQ_DONE);
            assert_int_equal(f.argi + 1, f.argc);
            tr_add(out, cap, "D%u:%llu+%llu@%zu ", f.argc, (unsigned long long)f.arg_off,
                   (unsigned long long)f.arg_len, abs);
            want_argi = 0;
            req_start = abs;
        }
        free(buf);
    }
    if (abs > req_start)
        tr_add(out, cap, "P");
    if (out[0] != '\0' && out[strlen(out) - 1] == ' ')
        out[strlen(out) - 1] = '\0';
}

/* Whole, cut at every byte boundary, byte by byte (with and without empty feeds) and, for
 * short streams, cut at every pair of boundaries: all must give want. Long streams get a
 * hundred random cuts instead of every one. */
static void check_req_splits(const uint8_t *stream, size_t len, const struct rd_limits *lim,
                             const char *want)
{
    static char got[1 << 16];
    size_t *cuts = calloc(len + 2, sizeof(*cuts));
    uint32_t seed = 12345;

    assert_non_null(cuts);
    run_req_stream(stream, len, NULL, 0, false, lim, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("whole: got \"%s\", want \"%s\"", got, want);
    for (size_t k = 0; k <= len; k++) {
        if (len > 4096) {
            seed = seed * 1103515245u + 12345u;
            if (k > 100 && k + 100 < len && seed % (len / 100) != 0)
                continue;
        }
        cuts[0] = k;
        run_req_stream(stream, len, cuts, 1, k % 2 == 1, lim, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("cut at %zu: got \"%s\", want \"%s\"", k, got, want);
    }
    for (size_t k = 0; k + 1 < len; k++)
        cuts[k] = k + 1;
    for (int e = 0; e < 2; e++) {
        run_req_stream(stream, len, cuts, len > 0 ? len - 1 : 0, e, lim, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("byte by byte: got \"%s\", want \"%s\"", got, want);
    }
    if (len <= 80) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                cuts[0] = i;
                cuts[1] = j;
                run_req_stream(stream, len, cuts, 2, false, lim, got, sizeof(got));
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
    const struct rd_limits *lim; /* NULL: small_lim */
    const char *trace;
};

/* clang-format off */
#define STREAM(s, t)       {(s), sizeof(s) - 1, NULL, (t)}
#define STREAM_L(s, l, t)  {(s), sizeof(s) - 1, (l), (t)}
/* clang-format on */

/* Every error text and edge here is what redis-server 7.0.15 does with the same bytes (sent
 * on a socket: the reply, and whether it closed). */
static const struct stream_case stream_cases[] = {
    STREAM("", ""),
    /* multibulk */
    STREAM("*1\r\n$4\r\nPING\r\n", "D1:8+4@14"),
    STREAM("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n", "A0:8+3@13 A1:17+1@20 D3:24+5@31"),
    STREAM("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "A0:8+4@14 D2:18+0@20"),
    STREAM("*2\r\n$0\r\n\r\n$0\r\n\r\n", "A0:8+0@10 D2:14+0@16"),
    /* payloads are any bytes, "\r\n", NUL and "*1\r\n" included */
    STREAM("*1\r\n$6\r\na\r\n\0\r\n\r\n", "D1:8+6@16"),
    STREAM("*2\r\n$4\r\n*1\r\n\r\n$3\r\n\xff\x80\n\r\n", "A0:8+4@14 D2:18+3@23"),
    STREAM("*1\r\n$10\r\n0123456789\r\n", "D1:9+10@21"),
    /* the byte after each '\r' and the two after a payload are not looked at (redis: PONG) */
    STREAM("*1\rX$4\rXPINGXY", "D1:8+4@14"),
    STREAM("*1\r\0$1\r\0a\0\0", "D1:8+1@11"),
    STREAM("*1\r\n$4\r\nPING\n\n*1\r\n$4\r\nPING\r\n", "D1:8+4@14 D1:8+4@28"),
    /* empty requests, which redis skips */
    STREAM("*0\r\n", "D0@4"),
    STREAM("*-1\r\n", "D0@5"),
    STREAM("*-5\r\n", "D0@5"),
    STREAM("*-9223372036854775808\r\n", "D0@23"),
    /* pipelined, back to back, multibulk and inline mixed */
    STREAM("*1\r\n$4\r\nPING\r\n*0\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*-1\r\n",
           "D1:8+4@14 D0@18 A0:8+3@31 D2:17+1@38 I1@44 D0@49"),
    /* partial */
    STREAM("*", "P"),
    STREAM("*1", "P"),
    STREAM("*1\r", "P"),
    STREAM("*1\r\n", "P"),
    STREAM("*1\r\n$", "P"),
    STREAM("*1\r\n$4\r", "P"),
    STREAM("*1\r\n$4\r\nPI", "P"),
    STREAM("*1\r\n$4\r\nPING\r", "P"),
    STREAM("*2\r\n$3\r\nGET\r\n$1\r\nk", "A0:8+3@13 P"),
    STREAM("*1\r\nX", "P"),     /* redis: no reply yet, the '$' is checked with the line */
    STREAM("*1\r\nX\r", "P"),   /* redis: no reply yet */
    STREAM("*1\r\n$-1\r", "P"), /* nor the length */
    STREAM("*8\r\n", "P"),
    STREAM("*1\r\n$64\r\n", "P"),
    /* "invalid multibulk length": string2ll's rules (no '+', no leading zero, no "-0") */
    STREAM("*x\r\n", "E@4:invalid multibulk length"),
    STREAM("*\r\n", "E@3:invalid multibulk length"),
    STREAM("*-\r\n", "E@4:invalid multibulk length"),
    STREAM("*-0\r\n", "E@5:invalid multibulk length"),
    STREAM("*00\r\n", "E@5:invalid multibulk length"),
    STREAM("*01\r\n", "E@5:invalid multibulk length"),
    STREAM("*+1\r\n", "E@5:invalid multibulk length"),
    STREAM("*1x\r\n", "E@5:invalid multibulk length"),
    STREAM("*1 \r\n", "E@5:invalid multibulk length"),
    STREAM("* 1\r\n", "E@5:invalid multibulk length"),
    STREAM("*1-\r\n", "E@5:invalid multibulk length"),
    STREAM("*1\n\r\n", "E@5:invalid multibulk length"),
    STREAM("*9\r\n", "E@4:invalid multibulk length"),
    STREAM("*9223372036854775807\r\n", "E@22:invalid multibulk length"),
    STREAM("*99999999999999999999\r\n", "E@23:invalid multibulk length"),
    STREAM("*-9223372036854775809\r\n", "E@23:invalid multibulk length"),
    STREAM("*-00000000000000000001\r\n", "E@24:invalid multibulk length"),
    STREAM("*1\r\n$4\r\nPING\r\n*x\r\n", "D1:8+4@14 E@18:invalid multibulk length"),
    /* "expected '$', got 'X'": redis turns '\r' and '\n' into spaces and sends any other byte
     * as it is */
    STREAM("*1\r\nX\r\n", "E@7:expected '$', got 'X'"),
    STREAM("*1\r\n:1\r\n", "E@8:expected '$', got ':'"),
    STREAM("*1\r\n\r\r\n", "E@6:expected '$', got ' '"),
    STREAM("*1\r\n\n\r\n", "E@7:expected '$', got ' '"),
    STREAM("*1\r\n\x80\r\n", "E@7:expected '$', got '\x80'"),
    STREAM("*1\r\nx-1\r\n", "E@9:expected '$', got 'x'"), /* before the number */
    STREAM("*1\r\n*1\r\n", "E@8:expected '$', got '*'"),
    STREAM("*2\r\n$1\r\na\r\n@4\r\n", "A0:8+1@11 E@15:expected '$', got '@'"),
    STREAM("*1\r\n$4\r\nPING\r\n*1\r\n@4\r\nPING\r\n", "D1:8+4@14 E@22:expected '$', got '@'"),
    /* a payload longer than its length: the rest is the next "$" line */
    STREAM("*2\r\n$1\r\nab\r\n$1\r\nc\r\n", "A0:8+1@11 E@16:expected '$', got ' '"),
    /* "invalid bulk length" */
    STREAM("*1\r\n$-1\r\n", "E@9:invalid bulk length"),
    STREAM("*1\r\n$-0\r\n", "E@9:invalid bulk length"),
    STREAM("*1\r\n$01\r\n", "E@9:invalid bulk length"),
    STREAM("*1\r\n$\r\n", "E@7:invalid bulk length"),
    STREAM("*1\r\n$x\r\n", "E@8:invalid bulk length"),
    STREAM("*1\r\n$+1\r\n", "E@9:invalid bulk length"),
    STREAM("*1\r\n$1 \r\n", "E@9:invalid bulk length"),
    STREAM("*1\r\n$65\r\n", "E@9:invalid bulk length"),
    STREAM("*1\r\n$99999999999999999999\r\n", "E@27:invalid bulk length"),
    STREAM("*2\r\n$1\r\na\r\n$-5\r\n", "A0:8+1@11 E@16:invalid bulk length"),
    /* inline */
    STREAM("PING\r\n", "I1@6"),
    STREAM("PING\n", "I1@5"),
    STREAM("\n", "I0@1"),
    STREAM("\r\n", "I0@2"),
    STREAM("   \n", "I0@4"),
    STREAM("\x0bPING\r\n", "I1@7"),
    STREAM("GET a\r\nSET b \"x y\"\nECHO 'it''s'\n",
           "I2@7 I3@19 I!@32"), /* a closing quote must be followed by a space */
    STREAM("ECHO \"a\r\n", "I!@9"),
    STREAM("ECHO 'a\r\n", "I!@9"),
    STREAM("ECHO a\"b c\"\r\n", "I2@13"),
    STREAM("SET k v\r\n*1\r\n$4\r\nPING\r\n", "I3@9 D1:8+4@23"),
    STREAM("PI", "P"),
    STREAM("PING\r", "P"),
    STREAM("$1\r\na\r\n", "I1@4 I1@7"), /* not a '*': an inline line */
    /* a NUL hides the end of a line from redis (strchr): it waits, then the line is too big */
    STREAM("PI\0NG\r\nPING\r\n", "P"),
    STREAM("\0PING\r\n", "P"),
    STREAM("*1\0\r\n$4\r\nPING\r\n", "P"),
    STREAM("*1\r\n$4\0\r\nPING\r\n", "P"),
    STREAM("*1\r\n\0\r\nPING\r\n", "P"),
    STREAM("PI\0NG\r\nPING\r\nPING\r\nPING\r\nPING\r\nPING\r\n", "E@32:too big inline request"),
    STREAM("\0\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
           "E@32:too big inline request"),
    /* the caps of small_lim: a line of 32 bytes before its '\r' (or '\n') is fine, a 33rd
     * byte that is not is "too big" (redis: past PROTO_INLINE_MAX_SIZE) */
    STREAM("*1000000000000000000000000000000\r\n", "E@34:invalid multibulk length"),
    STREAM("*10000000000000000000000000000000\r\n", "E@32:too big mbulk count string"),
    STREAM("*1\r\n$1000000000000000000000000000000\r\n", "E@38:invalid bulk length"),
    STREAM("*1\r\n$10000000000000000000000000000000\r\n", "E@36:too big bulk count string"),
    STREAM("*1\r\nX00000000000000000000000000000000\r\n",
           "E@36:too big bulk count string"), /* before the '$' (redis too) */
    STREAM("*1\r\nX000000000000000000000000000000\r\n", "E@37:expected '$', got 'X'"),
    STREAM("SET aaaaaaaaaaaaaaaaaaaaaaa bbbb\n", "I3@33"),
    STREAM("SET aaaaaaaaaaaaaaaaaaaaaaa bbbbb\n", "E@32:too big inline request"),
    STREAM("SET aaaaaaaaaaaaaaaaaaaaaaa bbbb\r\n", "E@32:too big inline request"),
    /* the count has no cap of its own beyond the line's: a payload may be max_bulk */
    STREAM("*1\r\n$64\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n",
           "D1:9+64@75"),
    /* unauthenticated: at most 10 arguments, payloads of at most 16384 bytes */
    STREAM_L("*10\r\n", &small_unauth, "P"),
    STREAM_L("*11\r\n", &small_unauth, "E@5:unauthenticated multibulk length"),
    STREAM_L("*65\r\n", &small_unauth, "E@5:invalid multibulk length"), /* checked first */
    STREAM_L("*-5\r\n", &small_unauth, "D0@5"),
    STREAM_L("*1\r\nX\r\n", &small_unauth, "E@7:expected '$', got 'X'"),
    STREAM_L("*1\r\n$16384\r\n", &redis_unauth, "P"),
    STREAM_L("*1\r\n$16385\r\n", &redis_unauth, "E@12:unauthenticated bulk length"),
    STREAM_L("*2\r\n$3\r\nget\r\n$16385\r\n", &redis_unauth,
             "A0:8+3@13 E@21:unauthenticated bulk length"),
    STREAM_L("*1\r\n$99999999999\r\n", &redis_unauth, "E@18:invalid bulk length"),
    /* redis's caps */
    STREAM_L("*1048576\r\n", &redis_lim, "P"),
    STREAM_L("*1048577\r\n", &redis_lim, "E@10:invalid multibulk length"),
    STREAM_L("*2147483648\r\n", &redis_lim, "E@13:invalid multibulk length"),
    STREAM_L("*1\r\n$536870912\r\n", &redis_lim, "P"),
    STREAM_L("*1\r\n$536870913\r\n", &redis_lim, "E@16:invalid bulk length"),
    STREAM_L("*1\r\n$9223372036854775807\r\n", &redis_lim, "E@26:invalid bulk length"),
    STREAM_L("*1\r\n$9223372036854775808\r\n", &redis_lim, "E@26:invalid bulk length"),
};

static void test_framer_streams(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(stream_cases); i++) {
        const struct stream_case *c = &stream_cases[i];

        check_req_splits((const uint8_t *)c->in, c->len, c->lim != NULL ? c->lim : &small_lim,
                         c->trace);
    }
}

/* A NUL before a line's end: the line goes on (newlines, '\r's and all) until it is too big,
 * counted from its first byte. redis-server: no reply while 65536 bytes or fewer have come
 * since, "too big ..." past that. */
static void test_framer_nul(void **state)
{
    static const struct {
        const char *pre;
        size_t pre_len, line_start;
        const char *before; /* the trace of what comes before the line */
        const char *error;
    } cases[] = {
        {"PI\0NG\r\n", 7, 0, "", "too big inline request"},
        {"\0\n", 2, 0, "", "too big inline request"},
        {"*1\r\n$1\r\na\r\nGET\0\r\n", 16, 11, "D1:8+1@11 ", "too big inline request"},
        {"*1\0\r\n", 5, 0, "", "too big mbulk count string"},
        {"*\0", 2, 0, "", "too big mbulk count string"},
        {"*1\r\n$4\0\r\n", 9, 4, "", "too big bulk count string"},
        {"*1\r\n\0\r\n", 7, 4, "", "too big bulk count string"},
        {"*2\r\n$1\r\na\r\n$1\0\r\n", 16, 11, "A0:8+1@11 ", "too big bulk count string"},
    };
    const uint32_t cap = small_lim.max_inline;

    (void)state;
    for (size_t i = 0; i < NELEM(cases); i++) {
        uint8_t s[128];
        char want[128];
        size_t n = cases[i].line_start + cap; /* the line at its cap, exactly */

        memcpy(s, cases[i].pre, cases[i].pre_len);
        for (size_t k = cases[i].pre_len; k < n + 1; k++)
            s[k] = (uint8_t) "\r\n$*x"[k % 5];
        snprintf(want, sizeof(want), "%sP", cases[i].before);
        check_req_splits(s, n, &small_lim, want);
        snprintf(want, sizeof(want), "%sE@%zu:%s", cases[i].before, n, cases[i].error);
        check_req_splits(s, n + 1, &small_lim, want);
    }
}

/* Lines at redis's 64 KiB cap, just under and just over it. */
static void test_framer_redis_caps(void **state)
{
    const size_t m = RD_INLINE_MAX;
    uint8_t *s = malloc(m + 64);
    char want[128];

    (void)state;
    assert_non_null(s);
    /* inline: 65536 bytes and the newline; a 65537th byte that is not one */
    memset(s, 'a', m);
    s[m] = '\n';
    snprintf(want, sizeof(want), "I1@%zu", m + 1);
    check_req_splits(s, m + 1, &redis_lim, want);
    s[m] = 'a';
    snprintf(want, sizeof(want), "E@%zu:too big inline request", m);
    check_req_splits(s, m + 1, &redis_lim, want);
    check_req_splits(s, m, &redis_lim, "P");

    /* "*N": the '*' and 65535 more bytes wait for the '\r'; one more is too big */
    s[0] = '*';
    memset(s + 1, '1', m);
    check_req_splits(s, m, &redis_lim, "P");
    snprintf(want, sizeof(want), "E@%zu:too big mbulk count string", m);
    check_req_splits(s, m + 1, &redis_lim, want);
    memcpy(s + m, "\r\n", 2);
    snprintf(want, sizeof(want), "E@%zu:invalid multibulk length", m + 2);
    check_req_splits(s, m + 2, &redis_lim, want);

    /* "$N" likewise, counted from its '$' */
    memcpy(s, "*1\r\n$", 5);
    memset(s + 5, '1', m);
    check_req_splits(s, m + 4, &redis_lim, "P");
    snprintf(want, sizeof(want), "E@%zu:too big bulk count string", m + 4);
    check_req_splits(s, m + 5, &redis_lim, want);
    free(s);
}

/* A payload far longer than any line, and one at the cap. */
static void test_framer_big_payload(void **state)
{
    const size_t n = 200000;
    uint8_t *s = malloc(n + 64);
    char want[128];
    int h;

    (void)state;
    assert_non_null(s);
    h = snprintf((char *)s, 64, "*2\r\n$3\r\nSET\r\n$%zu\r\n", n);
    memset(s + h, '\n', n);
    memcpy(s + h + n, "\r\n", 2);
    snprintf(want, sizeof(want), "A0:8+3@13 D2:%d+%zu@%zu", h, n, (size_t)h + n + 2);
    check_req_splits(s, (size_t)h + n + 2, &redis_lim, want);
    free(s);
}

/* The framer contract step by step, without the driver. */
static void test_framer_api(void **state)
{
    struct rd_req_framer f;
    size_t used;

    (void)state;
    rd_req_framer_init(&f);
    assert_int_equal(f.state, RD_RS_START);
    assert_null(f.error);
    /* a feed of nothing, before anything */
    assert_int_equal(rd_req_feed(&f, &small_lim, NULL, 0, &used), RD_REQ_AGAIN);
    assert_int_equal(used, 0);
    assert_int_equal(f.req_off, 0);

    assert_int_equal(rd_req_feed(&f, &small_lim, (const uint8_t *)"*2\r\n$3\r\nGE", 10, &used),
                     RD_REQ_AGAIN);
    assert_int_equal(used, 10);
    assert_int_equal(f.state, RD_RS_DATA);
    assert_int_equal(f.argc, 2);
    assert_int_equal(f.argi, 0);
    assert_int_equal(f.arg_off, 8);
    assert_int_equal(f.arg_len, 3);
    assert_int_equal(f.data_left, 1);
    assert_int_equal(f.req_off, 10);
    assert_false(f.is_inline);
    /* ARG stops after the two bytes after the payload, even with more in the buffer */
    assert_int_equal(
        rd_req_feed(&f, &small_lim, (const uint8_t *)"T\r\n$1\r\nk\r\nPING\r\n", 16, &used),
        RD_REQ_ARG);
    assert_int_equal(used, 3);
    assert_int_equal(f.argi, 0);
    assert_int_equal(f.req_off, 13);
    /* nothing between: argi moves on, nothing else happens */
    assert_int_equal(rd_req_feed(&f, &small_lim, NULL, 0, &used), RD_REQ_AGAIN);
    assert_int_equal(f.argi, 1);
    assert_int_equal(f.req_off, 13);
    assert_int_equal(rd_req_feed(&f, &small_lim, (const uint8_t *)"$1\r\nk\r\nPING\r\n", 13, &used),
                     RD_REQ_DONE);
    assert_int_equal(used, 7);
    assert_int_equal(f.argc, 2);
    assert_int_equal(f.argi, 1);
    assert_int_equal(f.arg_off, 17);
    assert_int_equal(f.arg_len, 1);
    assert_int_equal(f.req_off, 20);
    /* the next request starts at the next feed */
    assert_int_equal(rd_req_feed(&f, &small_lim, (const uint8_t *)"PING\r\n", 6, &used),
                     RD_REQ_INLINE);
    assert_int_equal(used, 6);
    assert_true(f.is_inline);
    assert_int_equal(f.argc, 0);
    assert_int_equal(f.req_off, 6);
    assert_int_equal(f.line_len, 6);
    /* a zero-length feed after it forgets that request */
    assert_int_equal(rd_req_feed(&f, &small_lim, NULL, 0, &used), RD_REQ_AGAIN);
    assert_int_equal(f.req_off, 0);
    assert_false(f.is_inline);
    assert_int_equal(rd_req_feed(&f, &small_lim, (const uint8_t *)"*0\r\n*1\r\n", 8, &used),
                     RD_REQ_DONE);
    assert_int_equal(used, 4);
    assert_int_equal(f.argc, 0);

    /* an error stays, and consumes nothing more */
    assert_int_equal(rd_req_feed(&f, &small_lim, (const uint8_t *)"*x\r\n*1\r\n", 8, &used),
                     RD_REQ_ERROR);
    assert_int_equal(used, 4);
    assert_string_equal(f.error, "invalid multibulk length");
    assert_int_equal(rd_req_feed(&f, &small_lim, (const uint8_t *)"*1\r\n", 4, &used),
                     RD_REQ_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(rd_req_feed(&f, &small_lim, NULL, 0, &used), RD_REQ_ERROR);
    assert_int_equal(used, 0);
    rd_req_framer_init(&f);
    assert_null(f.error);
    assert_int_equal(rd_req_feed(&f, &small_lim, (const uint8_t *)"*1\r\n$1\r\na\r\n", 11, &used),
                     RD_REQ_DONE);
}

/* Every "expected '$', got 'X'" text: the byte as it is, a space for '\r' and '\n'. */
static void test_framer_expected_dollar(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++) {
        uint8_t s[] = "*1\r\n?\r\n";
        char want[64];
        struct rd_req_framer f;
        size_t used;

        if (c == '$')
            continue;
        s[4] = (uint8_t)c;
        snprintf(want, sizeof(want), "expected '$', got '%c'", c == '\r' || c == '\n' ? ' ' : c);
        rd_req_framer_init(&f);
        assert_int_equal(rd_req_feed(&f, &small_lim, s, 7, &used), RD_REQ_ERROR);
        /* a '\r' there ends the line at once, one byte early */
        assert_int_equal(used, c == '\r' ? 6 : 7);
        assert_string_equal(f.error, want);
    }
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Thousands of requests in one buffer, fed whole, in random pieces and byte by byte: every
 * argument is seen once, in order, at its place. */
static void test_framer_pipeline(void **state)
{
    enum { N = 2000, ARGS_MAX = 6, PAY_MAX = 40 };
    struct want {
        bool is_inline;
        uint32_t argc;
        uint32_t off[ARGS_MAX], len[ARGS_MAX];
        size_t start, end;
    };
    struct want *w = calloc(N, sizeof(*w));
    uint8_t *stream = malloc(N * 512);
    size_t *cuts = malloc((N * 512 + 1) * sizeof(*cuts));
    size_t len = 0;
    uint32_t seed = 4242;

    (void)state;
    assert_non_null(w);
    assert_non_null(stream);
    assert_non_null(cuts);
    for (unsigned i = 0; i < N; i++) {
        unsigned kind = rng_next(&seed) % 8;

        w[i].start = len;
        if (kind == 0) {
            w[i].is_inline = true;
            len += (size_t)sprintf((char *)stream + len, "GET key:%u\r\n", i);
        } else if (kind == 1) {
            w[i].argc = 0;
            len += (size_t)sprintf((char *)stream + len, "*%d\r\n", -(int)(rng_next(&seed) % 3));
        } else {
            uint32_t argc = 1 + rng_next(&seed) % ARGS_MAX;

            w[i].argc = argc;
            len += (size_t)sprintf((char *)stream + len, "*%u\r\n", argc);
            for (uint32_t a = 0; a < argc; a++) {
                uint32_t pl = rng_next(&seed) % PAY_MAX;

                len += (size_t)sprintf((char *)stream + len, "$%u\r\n", pl);
                w[i].off[a] = (uint32_t)(len - w[i].start);
                w[i].len[a] = pl;
                for (uint32_t b = 0; b < pl; b++)
                    stream[len++] = (uint8_t)rng_next(&seed);
                memcpy(stream + len, "\r\n", 2);
                len += 2;
            }
        }
        w[i].end = len;
    }
    for (int mode = 0; mode < 4; mode++) {
        struct rd_req_framer f;
        size_t ncuts = 0, abs = 0;
        unsigned req = 0;
        uint32_t arg = 0;

        /* mode 0: whole; 1: random pieces of 1..300; 2: byte by byte; 3: pieces of 1..7 */
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
        rd_req_framer_init(&f);
        for (size_t piece = 0; piece <= ncuts; piece++) {
            size_t to = piece == ncuts ? len : cuts[piece];

            while (abs < to) {
                size_t used;
                enum rd_req_ev ev = rd_req_feed(&f, &redis_lim, stream + abs, to - abs, &used);

                abs += used;
                if (ev == RD_REQ_AGAIN)
                    break;
                assert_int_not_equal(ev, RD_REQ_ERROR);
                assert_true(req < N);
                assert_int_equal(f.req_off, abs - w[req].start);
                if (ev == RD_REQ_INLINE) {
                    assert_true(w[req].is_inline);
                    assert_int_equal(abs, w[req].end);
                    req++;
                    continue;
                }
                assert_false(w[req].is_inline);
                assert_int_equal(f.argc, w[req].argc);
                if (f.argc > 0) {
                    assert_int_equal(f.argi, arg);
                    assert_int_equal(f.arg_off, w[req].off[arg]);
                    assert_int_equal(f.arg_len, w[req].len[arg]);
                }
                arg++;
                if (ev == RD_REQ_DONE) {
                    assert_int_equal(arg, f.argc > 0 ? f.argc : 1);
                    assert_int_equal(abs, w[req].end);
                    req++;
                    arg = 0;
                }
            }
        }
        assert_int_equal(req, N);
        assert_int_equal(abs, len);
    }
    free(cuts);
    free(stream);
    free(w);
}

/* ---- inline tokenizer ---- */

struct tk {
    const char *s;
    size_t n;
};

struct split_case {
    const char *in;
    size_t len;
    int ntok; /* -1: unbalanced */
    struct tk tok[6];
};

/* clang-format off */
#define TK(s) {(s), sizeof(s) - 1}
#define SPLIT(s, n, ...) {(s), sizeof(s) - 1, (n), {__VA_ARGS__}}
/* clang-format on */

/* sdssplitargs's rules; the ones marked redis were also sent to redis-server inline (ECHO) */
static const struct split_case split_cases[] = {
    SPLIT("", 0, {NULL, 0}),
    SPLIT("   ", 0, {NULL, 0}),
    SPLIT(" \t\r\n\v\f", 0, {NULL, 0}),
    SPLIT("GET k", 2, TK("GET"), TK("k")),
    SPLIT("  GET \t k  \r\n", 2, TK("GET"), TK("k")),
    SPLIT("GET k\n", 2, TK("GET"), TK("k")),
    SPLIT("\v\fPING", 1, TK("PING")),            /* redis: a leading \v is skipped */
    SPLIT("a\vb c\f", 2, TK("a\vb"), TK("c\f")), /* redis: but does not end a bare token */
    SPLIT("SET k \"a b\"", 3, TK("SET"), TK("k"), TK("a b")),
    SPLIT("\"\\x41\\x4g\\n\\q\"", 1, TK("Ax4g\nq")), /* redis */
    SPLIT("\"\\x00\\xfF\\xA\"", 1, TK("\0\xffxA")),
    SPLIT("\"\\r\\t\\b\\a\\\\\\\"\\'\"", 1, TK("\r\t\b\a\\\"'")),
    SPLIT("\"a\\\"b\"", 1, TK("a\"b")),
    SPLIT("'a\\'b\\n'", 1, TK("a'b\\n")), /* redis */
    SPLIT("'a\"b' \"a'b\"", 2, TK("a\"b"), TK("a'b")),
    SPLIT("'\\x41'", 1, TK("\\x41")),
    SPLIT("a\"b c\"", 1, TK("ab c")), /* redis: a quote may open inside a token */
    SPLIT("a'b c' d", 2, TK("ab c"), TK("d")),
    SPLIT("\"\"", 1, TK("")),
    SPLIT("'' x", 2, TK(""), TK("x")),
    SPLIT("\"a\"\vx", 2, TK("a"), TK("x")), /* redis: \v after a quote is a space */
    SPLIT("\"a\"\r\n", 1, TK("a")),
    SPLIT("'a'\n", 1, TK("a")),
    SPLIT("\"a\nb\"", 1, TK("a\nb")),
    SPLIT("a\\b \\", 2, TK("a\\b"), TK("\\")),
    SPLIT("\\\"", -1, {NULL, 0}), /* a bare backslash escapes nothing */
    SPLIT("\xff\x80 \x01", 2, TK("\xff\x80"), TK("\x01")),
    /* redis splits a C string: a NUL ends it */
    SPLIT("a\0b", 1, TK("a")),
    SPLIT("\"a\"\0x", 1, TK("a")),
    SPLIT("\"a\0\"", -1, {NULL, 0}),
    /* unbalanced */
    SPLIT("\"a\"b", -1, {NULL, 0}), /* redis */
    SPLIT("'a'b", -1, {NULL, 0}),
    SPLIT("\"a\"\"b\"", -1, {NULL, 0}),
    SPLIT("a\"b\"c", -1, {NULL, 0}),
    SPLIT("\"a", -1, {NULL, 0}), /* redis */
    SPLIT("'a", -1, {NULL, 0}),  /* redis */
    SPLIT("\"a\r\n", -1, {NULL, 0}),
    SPLIT("\"a\\\"", -1, {NULL, 0}),
    SPLIT("\"\\", -1, {NULL, 0}),
    SPLIT("'a\\'", -1, {NULL, 0}),
    SPLIT("x \"", -1, {NULL, 0}),
};

/* Checks what every token promises: in the line, in order, a bare one is its own bytes, a
 * quoted one decodes to dlen bytes. */
static void check_tokens(const uint8_t *line, size_t len, const struct rd_itok *t, int n)
{
    uint32_t prev_end = 0;

    for (int i = 0; i < n; i++) {
        assert_true((uint64_t)t[i].off + t[i].len <= len);
        assert_true(t[i].off >= prev_end);
        assert_true(t[i].len >= 1);
        assert_true(i == 0 || t[i].off > prev_end); /* a space between */
        if (!t[i].quoted) {
            assert_int_equal(t[i].dlen, t[i].len);
            assert_null(memchr(line + t[i].off, '"', t[i].len));
            assert_null(memchr(line + t[i].off, '\'', t[i].len));
        } else {
            assert_true(t[i].len >= 2);
            assert_true(line[t[i].off + t[i].len - 1] == '"' ||
                        line[t[i].off + t[i].len - 1] == '\'');
        }
        prev_end = t[i].off + t[i].len;
    }
}

static void test_split_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(split_cases); i++) {
        const struct split_case *c = &split_cases[i];
        uint8_t *line = malloc(c->len ? c->len : 1);
        struct rd_itok toks[8];
        int n;

        assert_non_null(line);
        memcpy(line, c->in, c->len);
        n = rd_inline_split(line, c->len, toks, 8);
        if (n != c->ntok)
            fail_msg("case %zu: %d tokens, want %d", i, n, c->ntok);
        if (n > 0)
            check_tokens(line, c->len, toks, n);
        for (int k = 0; k < n; k++) {
            uint8_t out[64];

            memset(out, 0x5a, sizeof(out));
            assert_int_equal(toks[k].dlen, c->tok[k].n);
            rd_inline_unquote(line, &toks[k], out);
            assert_memory_equal(out, c->tok[k].s, c->tok[k].n);
            assert_int_equal(out[c->tok[k].n], 0x5a); /* not a byte more */
        }
        free(line);
    }
}

/* Token places, and a call with too little room. */
static void test_split_places(void **state)
{
    static const char line[] = "SET  \"a b\" c\r\n";
    struct rd_itok toks[4];
    uint8_t out[8];

    (void)state;
    assert_int_equal(rd_inline_split((const uint8_t *)line, sizeof(line) - 1, toks, 4), 3);
    assert_int_equal(toks[0].off, 0);
    assert_int_equal(toks[0].len, 3);
    assert_false(toks[0].quoted);
    assert_int_equal(toks[1].off, 5);
    assert_int_equal(toks[1].len, 5);
    assert_int_equal(toks[1].dlen, 3);
    assert_true(toks[1].quoted);
    rd_inline_unquote((const uint8_t *)line, &toks[1], out);
    assert_memory_equal(out, "a b", 3);
    assert_int_equal(toks[2].off, 11);
    assert_int_equal(toks[2].len, 1);

    memset(toks, 0x77, sizeof(toks));
    assert_int_equal(rd_inline_split((const uint8_t *)"a b c d", 7, toks, 2), 4);
    assert_int_equal(toks[0].off, 0);
    assert_int_equal(toks[1].off, 2);
    assert_int_equal(toks[2].off, 0x77777777u); /* untouched */
    assert_int_equal(rd_inline_split((const uint8_t *)"a b c d", 7, NULL, 0), 4);
    assert_int_equal(rd_inline_split((const uint8_t *)"a \"b", 4, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framer_streams),    cmocka_unit_test(test_framer_nul),
        cmocka_unit_test(test_framer_redis_caps), cmocka_unit_test(test_framer_big_payload),
        cmocka_unit_test(test_framer_api),        cmocka_unit_test(test_framer_expected_dollar),
        cmocka_unit_test(test_framer_pipeline),   cmocka_unit_test(test_split_table),
        cmocka_unit_test(test_split_places),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

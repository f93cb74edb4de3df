/* Unit tests for proto/mc_rsp: the reply framer and the reply-line classifier. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/mc_rsp.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_VALUE 1000
#define MAX_LINE  64

/* ---- classifier ---- */

struct line_case {
    const char *in;
    size_t len;
    enum mc_rsp_type type;
    const char *key; /* VALUE */
    uint32_t flags;
    uint64_t data_len;
};

/* clang-format off */
#define IN(s)      .in = (s), .len = sizeof(s) - 1
#define T(s, t)    {IN(s), .type = (t)}
#define INVALID(s) T(s, MC_RSP_INVALID)
/* clang-format on */

static const struct line_case line_cases[] = {
    /* VALUE */
    {IN("VALUE k 0 5\r\n"), MC_RSP_VALUE, "k", 0, 5},
    {IN("VALUE foo 4294967295 0 123\r\n"), MC_RSP_VALUE, "foo", 4294967295u, 0},
    {IN("VALUE k 1 2 18446744073709551615\r\n"), MC_RSP_VALUE, "k", 1, 2},
    {IN("VALUE \x80\xff~! 7 1000\r\n"), MC_RSP_VALUE, "\x80\xff~!", 7, 1000},
    {IN("VALUE k 0 0001000\r\n"), MC_RSP_VALUE, "k", 0, 1000},
    INVALID("VALUE k 0 1001\r\n"),
    INVALID("VALUE k 0 18446744073709551616\r\n"),
    INVALID("VALUE k 0\r\n"),
    INVALID("VALUE k\r\n"),
    INVALID("VALUE\r\n"),
    INVALID("VALUE \r\n"),
    INVALID("VALUE k 0 5 \r\n"),
    INVALID("VALUE k  0 5\r\n"),
    INVALID("VALUE  k 0 5\r\n"),
    INVALID("VALUE k 0 5 1 2\r\n"),
    INVALID("VALUE k 0 5 x\r\n"),
    INVALID("VALUE k 0 5 18446744073709551616\r\n"),
    INVALID("VALUE k -1 5\r\n"),
    INVALID("VALUE k 0 -5\r\n"),
    INVALID("VALUE k 0 +5\r\n"),
    INVALID("VALUE k x 5\r\n"),
    INVALID("VALUE k 4294967296 5\r\n"),
    {IN("VALUE k\x01 0 5\r\n"), MC_RSP_VALUE, "k\x01", 0, 5}, /* keys as memcached allows */
    {IN("VALUE k\x7f 0 5\r\n"), MC_RSP_VALUE, "k\x7f", 0, 5},
    INVALID("VALUE k\t0 5\r\n"),
    INVALID("VALUE k 0 5\n"),
    INVALID("VALUE k 0 5\r\r\n"),
    INVALID("VALUES k 0 5\r\n"),
    INVALID("value k 0 5\r\n"),
    /* END and STAT */
    T("END\r\n", MC_RSP_END),
    INVALID("END \r\n"),
    INVALID("END x\r\n"),
    INVALID("END\n"),
    INVALID("ENDX\r\n"),
    INVALID("end\r\n"),
    T("STAT pid 123\r\n", MC_RSP_STAT),
    T("STAT x\r\n", MC_RSP_STAT),
    INVALID("STAT\r\n"),
    INVALID("STAT \r\n"),
    INVALID("STATS x\r\n"),
    /* errors */
    T("ERROR\r\n", MC_RSP_ERROR),
    T("ERROR Too many open connections\r\n", MC_RSP_ERROR),
    T("CLIENT_ERROR bad data chunk\r\n", MC_RSP_ERROR),
    T("CLIENT_ERROR\r\n", MC_RSP_ERROR),
    T("SERVER_ERROR out of memory storing object\r\n", MC_RSP_ERROR),
    INVALID("ERRORS\r\n"),
    INVALID("SERVER_ERRORx\r\n"),
    INVALID("ERROR\n"),
    /* one-line replies */
    T("STORED\r\n", MC_RSP_LINE),
    T("NOT_STORED\r\n", MC_RSP_LINE),
    T("EXISTS\r\n", MC_RSP_LINE),
    T("NOT_FOUND\r\n", MC_RSP_LINE),
    T("DELETED\r\n", MC_RSP_LINE),
    T("TOUCHED\r\n", MC_RSP_LINE),
    T("OK\r\n", MC_RSP_LINE),
    T("VERSION 1.6.21\r\n", MC_RSP_LINE),
    T("0\r\n", MC_RSP_LINE),
    T("42\r\n", MC_RSP_LINE),
    T("18446744073709551615\r\n", MC_RSP_LINE),
    INVALID("STORED \r\n"),
    INVALID("STORED x\r\n"),
    INVALID("STORED\n"),
    INVALID("STORED\r\r\n"),
    INVALID("STORE\r\n"),
    INVALID("NOT_FOUNDX\r\n"),
    INVALID("OKAY\r\n"),
    INVALID("TOUCH\r\n"),
    INVALID("DELETE\r\n"),
    INVALID("VERSION\r\n"),
    INVALID("VERSION \r\n"),
    INVALID("18446744073709551616\r\n"),
    INVALID("-1\r\n"),
    INVALID("12 \r\n"),
    INVALID("1a\r\n"),
    INVALID("1 2\r\n"),
    /* garbage */
    INVALID(""),
    INVALID("\n"),
    INVALID("\r\n"),
    INVALID(" \r\n"),
    INVALID(" END\r\n"),
    INVALID("\0\r\n"),
    INVALID("E\r\n"),
    INVALID("S\r\n"),
    INVALID("HELLO\r\n"),
    INVALID("garbage\r\n"),
    INVALID("\xff\xfe\r\n"),
    INVALID("END\r\nEND\r\n"),
    /* meta replies (as memcached 1.6.18 writes them: "VA 2 f0 s2 t-1 kfoo O123 c1", "EN kmiss
     * O5", "VA 0 W", "ME foo exp=-1 la=1 cas=1 fetch=yes cls=1 size=64") */
    {IN("VA 5\r\n"), MC_RSP_META_VALUE, .data_len = 5},
    {IN("VA 2 f0 s2 t-1 kfoo O123 c1\r\n"), MC_RSP_META_VALUE, .data_len = 2},
    {IN("VA 0 W\r\n"), MC_RSP_META_VALUE, .data_len = 0},
    {IN("VA 1000 b\r\n"), MC_RSP_META_VALUE, .data_len = 1000},
    INVALID("VA 1001\r\n"),
    INVALID("VA\r\n"),
    INVALID("VA \r\n"),
    INVALID("VA x\r\n"),
    INVALID("VA -1\r\n"),
    INVALID("VA 5 \r\n"),
    INVALID("VA  5\r\n"),
    INVALID("VA 5\n"),
    T("HD\r\n", MC_RSP_META),
    T("HD kfoo c5\r\n", MC_RSP_META),
    T("EN\r\n", MC_RSP_META),
    T("EN kmiss O5\r\n", MC_RSP_META),
    T("NF\r\n", MC_RSP_META),
    T("NS\r\n", MC_RSP_META),
    T("EX c3\r\n", MC_RSP_META),
    T("ME foo exp=-1 la=1 cas=1 fetch=yes cls=1 size=64\r\n", MC_RSP_META),
    T("MN\r\n", MC_RSP_MN),
    INVALID("HD \r\n"),
    INVALID("hd\r\n"),
    INVALID("ME\r\n"),
    INVALID("ME \r\n"),
    INVALID("MN x\r\n"),
    INVALID("MN \r\n"),
    INVALID("XX\r\n"),
    INVALID("HDX\r\n"),
    INVALID("HD\n"),
    T("12\r\n", MC_RSP_LINE), /* two bytes, but a number */
};

static void test_line_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(line_cases); i++) {
        const struct line_case *c = &line_cases[i];
        uint8_t *line = malloc(c->len ? c->len : 1);
        struct mc_rsp_line out;

        assert_non_null(line);
        memcpy(line, c->in, c->len);
        memset(&out, 0x5a, sizeof(out));
        mc_rsp_parse_line(line, c->len, MAX_VALUE, &out);
        if (out.type != c->type)
            fail_msg("\"%s\": type %d, want %d", c->in, out.type, c->type);
        if (c->type == MC_RSP_VALUE) {
            assert_int_equal(out.key.len, strlen(c->key));
            assert_memory_equal(line + out.key.off, c->key, out.key.len);
            assert_int_equal(out.flags, c->flags);
            assert_int_equal(out.data_len, c->data_len);
        } else {
            assert_int_equal(out.key.len, 0);
            assert_int_equal(out.flags, 0);
            assert_int_equal(out.data_len, c->type == MC_RSP_META_VALUE ? c->data_len : 0);
        }
        free(line);
    }
}

static void test_line_max_value(void **state)
{
    struct mc_rsp_line out;

    (void)state;
    mc_rsp_parse_line((const uint8_t *)"VALUE k 0 0\r\n", 13, 0, &out);
    assert_int_equal(out.type, MC_RSP_VALUE);
    mc_rsp_parse_line((const uint8_t *)"VALUE k 0 1\r\n", 13, 0, &out);
    assert_int_equal(out.type, MC_RSP_INVALID);
    /* offsets are 32-bit: a longer line is refused before a byte of it is read */
    if (sizeof(size_t) > sizeof(uint32_t)) {
        mc_rsp_parse_line((const uint8_t *)"END\r\n", (size_t)UINT32_MAX + 1, 0, &out);
        assert_int_equal(out.type, MC_RSP_INVALID);
    }
    mc_rsp_parse_line((const uint8_t *)"VALUE k 0 18446744073709551615\r\n", 32, UINT64_MAX, &out);
    assert_int_equal(out.type, MC_RSP_VALUE);
    assert_int_equal(out.data_len, UINT64_MAX);
}

/* A long key: offsets and length are right far into the line. */
static void test_line_long_key(void **state)
{
    uint8_t buf[600];
    struct mc_rsp_line out;

    (void)state;
    memcpy(buf, "VALUE ", 6);
    memset(buf + 6, 'q', 500);
    memcpy(buf + 506, " 3 9\r\n", 6);
    mc_rsp_parse_line(buf, 512, MAX_VALUE, &out);
    assert_int_equal(out.type, MC_RSP_VALUE);
    assert_int_equal(out.key.off, 6);
    assert_int_equal(out.key.len, 500);
    assert_int_equal(out.flags, 3);
    assert_int_equal(out.data_len, 9);
}

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

static const char *type_name(enum mc_rsp_type t)
{
    switch (t) {
    case MC_RSP_VALUE:
        return "VALUE";
    case MC_RSP_END:
        return "END";
    case MC_RSP_STAT:
        return "STAT";
    case MC_RSP_LINE:
        return "LINE";
    case MC_RSP_ERROR:
        return "ERR";
    case MC_RSP_INVALID:
        return "INV";
    case MC_RSP_META_VALUE:
        return "VA";
    case MC_RSP_META:
        return "META";
    case MC_RSP_MN:
        return "MN";
    }
    return "?";
}

/* Feeds stream[0, len) cut at cuts[0..ncuts) (ascending), each piece in an exact-size heap
 * copy, optionally with an empty feed before every piece. Writes a trace:
 *   <type>@<end of line>   a reply line and its class (VALUE END STAT LINE ERR)
 *   INV@<end of line>      not a reply: the caller would close, the trace stops
 *   G@<end>                a VALUE's data block ended
 *   B@<at>:<message>       framing lost; the trace stops
 *   P                      the stream ended inside a line or data block
 */
static void run_rsp_stream(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts,
                           bool empty_feeds, uint32_t max_line, char *out, size_t cap)
{
    struct mc_framer f;
    size_t abs = 0, line_start = 0;

    out[0] = '\0';
    mc_rsp_framer_init(&f);
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

            assert_int_equal(mc_rsp_framer_feed(&f, max_line, NULL, 0, &used), MC_RSP_AGAIN);
            assert_int_equal(used, 0);
        }
        for (;;) {
            size_t used = 99;
            enum mc_rsp_status st;

            /* the helpers agree with where the bytes really go */
            if (mc_rsp_framer_line_start(&f))
                assert_int_equal(abs, line_start);
            else if (mc_rsp_framer_in_line(&f))
                assert_true(abs > line_start);
            else
                assert_true(f.state == MC_FS_DATA || f.state == MC_FS_DATA_CR ||
                            f.state == MC_FS_DATA_LF);
            st =
                mc_rsp_framer_feed(&f, max_line, buf != NULL ? buf + off : NULL, plen - off, &used);

            assert_true(used <= plen - off);
            off += used;
            abs += used;
            if (st == MC_RSP_AGAIN) {
                assert_int_equal(off, plen);
                break;
            }
            if (st == MC_RSP_BAD) {
                assert_non_null(f.error);
                tr_add(out, cap, "B@%zu:%s", abs, f.error);
                free(buf);
                return;
            }
            if (st == MC_RSP_GOT_DATA) {
                tr_add(out, cap, "G@%zu ", abs);
                line_start = abs;
                continue;
            }
            assert_int_equal(st, MC_RSP_GOT_LINE);
            /* the line is exactly what came since the previous line or block ended */
            assert_int_equal(abs - f.line_len, line_start);
            line_start = abs;
            {
                struct mc_rsp_line rl;

                mc_rsp_parse_line(stream + abs - f.line_len, f.line_len, MAX_VALUE, &rl);
                tr_add(out, cap, "%s@%zu ", type_name(rl.type), abs);
                if (rl.type == MC_RSP_INVALID) {
                    free(buf);
                    goto out_trim;
                }
                if (rl.type == MC_RSP_VALUE || rl.type == MC_RSP_META_VALUE)
                    mc_rsp_framer_expect_data(&f, rl.data_len);
            }
        }
        free(buf);
    }
    if (f.state != MC_FS_LINE_DONE && (f.state != MC_FS_LINE || f.line_len != 0))
        tr_add(out, cap, "P");
out_trim:
    if (out[0] != '\0' && out[strlen(out) - 1] == ' ')
        out[strlen(out) - 1] = '\0';
}

/* Whole, cut at every byte boundary, byte by byte (with and without empty feeds) and, for
 * short streams, cut at every pair of boundaries: all must give want. */
static void check_rsp_splits(const uint8_t *stream, size_t len, uint32_t max_line, const char *want)
{
    char got[8192];
    size_t *cuts = calloc(len + 2, sizeof(*cuts));

    assert_non_null(cuts);
    run_rsp_stream(stream, len, NULL, 0, false, max_line, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("whole: got \"%s\", want \"%s\"", got, want);
    for (size_t k = 0; k <= len; k++) {
        cuts[0] = k;
        run_rsp_stream(stream, len, cuts, 1, k % 2 == 1, max_line, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("cut at %zu: got \"%s\", want \"%s\"", k, got, want);
    }
    for (size_t k = 0; k + 1 < len; k++)
        cuts[k] = k + 1;
    for (int e = 0; e < 2; e++) {
        run_rsp_stream(stream, len, cuts, len > 0 ? len - 1 : 0, e, max_line, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("byte by byte: got \"%s\", want \"%s\"", got, want);
    }
    if (len <= 80) {
        for (size_t i = 0; i <= len; i++) {
            for (size_t j = i; j <= len; j++) {
                cuts[0] = i;
                cuts[1] = j;
                run_rsp_stream(stream, len, cuts, 2, false, max_line, got, sizeof(got));
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
    STREAM("END\r\n", "END@5"),
    STREAM("STORED\r\n", "LINE@8"),
    STREAM("VALUE a 0 3\r\nabc\r\nEND\r\n", "VALUE@13 G@18 END@23"),
    STREAM("VALUE a 0 3\r\nabc\r\nVALUE b 1 0 99\r\n\r\nEND\r\n",
           "VALUE@13 G@18 VALUE@34 G@36 END@41"),
    /* data blocks may hold "\r\n", "\n", NUL and any byte; "END\r\n" inside is data */
    STREAM("VALUE a 0 4\r\n\r\n\r\n\r\nEND\r\n", "VALUE@13 G@19 END@24"),
    STREAM("VALUE a 0 5\r\nEND\r\n\r\nEND\r\n", "VALUE@13 G@20 END@25"),
    STREAM("VALUE \xff\x80 0 4\r\n\0\n\r\xff\r\nEND\r\n", "VALUE@14 G@20 END@25"),
    /* partial */
    STREAM("VALUE a 0 3\r\nab", "VALUE@13 P"),
    STREAM("VALUE a 0 3\r\nabc\r", "VALUE@13 P"),
    STREAM("VALUE a 0 3\r\nabc\r\n", "VALUE@13 G@18"),
    STREAM("VALUE a 0 3\r\nabc\r\nEN", "VALUE@13 G@18 P"),
    STREAM("STOR", "P"),
    /* the block must be followed by exactly "\r\n" */
    STREAM("VALUE a 0 3\r\nabcX\r\n", "VALUE@13 B@16:bad data chunk"),
    STREAM("VALUE a 0 3\r\nabc\n", "VALUE@13 B@16:bad data chunk"),
    STREAM("VALUE a 0 3\r\nabc\r\r\n", "VALUE@13 B@17:bad data chunk"),
    /* stats, errors, counters, pipelined replies */
    STREAM("STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n", "STAT@12 STAT@27 END@32"),
    STREAM("STORED\r\nNOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\nDELETED\r\nTOUCHED\r\nOK\r\n",
           "LINE@8 LINE@20 LINE@28 LINE@39 LINE@48 LINE@57 LINE@61"),
    STREAM("42\r\nERROR\r\nCLIENT_ERROR bad\r\nSERVER_ERROR oom\r\nVERSION 1.6\r\n",
           "LINE@4 ERR@11 ERR@29 ERR@47 LINE@60"),
    /* not memcached: the trace stops at the first bad line */
    STREAM("HELLO\r\nEND\r\n", "INV@7"),
    STREAM("END\nEND\r\n", "INV@4"),
    STREAM("\r\nEND\r\n", "INV@2"),
    STREAM("VALUE a 0 1001\r\n", "INV@16"),
    /* meta: a value's block ends its reply; quiet replies end at MN; "EN" inside a block is
     * data, and so is "MN\r\n" */
    STREAM("VA 2 f0\r\nhi\r\nHD\r\nEN\r\nMN\r\n", "VA@9 G@13 META@17 META@21 MN@25"),
    STREAM("VA 4 k\r\nMN\r\n\r\nMN\r\n", "VA@8 G@14 MN@18"),
    STREAM("VA 0 W\r\n\r\nME k exp=-1\r\nNF\r\nNS\r\nEX\r\n",
           "VA@8 G@10 META@23 META@27 META@31 META@35"),
    STREAM("VA 2\r\nhiX\r\n", "VA@6 B@8:bad data chunk"),
    STREAM("VA 1001\r\n", "INV@9"),
    STREAM("HD\r\nVALUE a 0 1\r\nx\r\nEND\r\n", "META@4 VALUE@17 G@20 END@25"),
};

static void test_framer_streams(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(stream_cases); i++) {
        const struct stream_case *c = &stream_cases[i];

        check_rsp_splits((const uint8_t *)c->in, c->len, MAX_LINE, c->trace);
    }
}

/* Lines of max_line - 1, max_line and max_line + 1 bytes. */
static void test_framer_line_cap(void **state)
{
    uint8_t line[200];
    char want[128];

    (void)state;
    for (uint32_t n = MAX_LINE - 2; n <= MAX_LINE + 2; n++) {
        memcpy(line, "STAT ", 5);
        memset(line + 5, 's', n - 7);
        memcpy(line + n - 2, "\r\n", 2);
        if (n <= MAX_LINE)
            snprintf(want, sizeof(want), "STAT@%u", n);
        else
            snprintf(want, sizeof(want), "B@%u:line too long", MAX_LINE);
        check_rsp_splits(line, n, MAX_LINE, want);
        /* per line: two of them in a row */
        memcpy(line + n, line, n);
        if (n <= MAX_LINE)
            snprintf(want, sizeof(want), "STAT@%u STAT@%u", n, 2 * n);
        check_rsp_splits(line, 2 * n, MAX_LINE, want);
        /* no terminator yet: no verdict until the cap is passed */
        if (n - 1 <= MAX_LINE)
            snprintf(want, sizeof(want), "P");
        else
            snprintf(want, sizeof(want), "B@%u:line too long", MAX_LINE);
        check_rsp_splits(line, n - 1, MAX_LINE, want);
    }
    /* a data block is not a line: it may be far longer than max_line */
    {
        uint8_t s[300];
        int n = snprintf((char *)s, sizeof(s), "VALUE k 0 200\r\n");

        memset(s + n, '\n', 200);
        memcpy(s + n + 200, "\r\nEND\r\n", 7);
        snprintf(want, sizeof(want), "VALUE@%d G@%d END@%d", n, n + 202, n + 207);
        check_rsp_splits(s, (size_t)n + 207, MAX_LINE, want);
    }
}

/* The framer contract step by step, without the driver. */
static void test_framer_api(void **state)
{
    struct mc_framer f;
    size_t used;

    (void)state;
    mc_rsp_framer_init(&f);
    assert_int_equal(f.state, MC_FS_LINE);
    assert_null(f.error);
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, NULL, 0, &used), MC_RSP_AGAIN);
    assert_int_equal(used, 0);
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"STO", 3, &used),
                     MC_RSP_AGAIN);
    assert_int_equal(f.line_len, 3);
    assert_true(mc_rsp_framer_in_line(&f));
    assert_false(mc_rsp_framer_line_start(&f));
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"RED\r\nEND\r\n", 10, &used),
                     MC_RSP_GOT_LINE);
    assert_int_equal(used, 5);
    assert_int_equal(f.line_len, 8);
    /* between a line and the next feed: the next byte starts a line */
    assert_true(mc_rsp_framer_in_line(&f));
    assert_true(mc_rsp_framer_line_start(&f));
    /* no expect_data: the next bytes start the next line, with no step in between */
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"END\r\n", 5, &used),
                     MC_RSP_GOT_LINE);
    assert_int_equal(used, 5);
    assert_int_equal(f.line_len, 5);
    /* an empty feed after a line starts the next one too */
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, NULL, 0, &used), MC_RSP_AGAIN);
    assert_int_equal(f.state, MC_FS_LINE);
    assert_int_equal(f.line_len, 0);

    assert_int_equal(
        mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"VALUE k 0 2\r\nab\r\n", 17, &used),
        MC_RSP_GOT_LINE);
    assert_int_equal(used, 13);
    mc_rsp_framer_expect_data(&f, 2);
    assert_int_equal(f.state, MC_FS_DATA);
    assert_false(mc_rsp_framer_in_line(&f));
    assert_false(mc_rsp_framer_line_start(&f));
    assert_int_equal(f.data_left, 2);
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"a", 1, &used),
                     MC_RSP_AGAIN);
    assert_int_equal(f.data_left, 1);
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"b\r\nEND\r\n", 8, &used),
                     MC_RSP_GOT_DATA);
    assert_int_equal(used, 3);
    assert_int_equal(f.state, MC_FS_LINE);
    assert_int_equal(f.line_len, 0);

    /* a zero-length block */
    assert_int_equal(
        mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"VALUE k 0 0\r\n\r\n", 15, &used),
        MC_RSP_GOT_LINE);
    mc_rsp_framer_expect_data(&f, 0);
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"\r\n", 2, &used),
                     MC_RSP_GOT_DATA);
    assert_int_equal(used, 2);

    /* errors name their cause */
    {
        uint8_t big[100];

        memset(big, 'a', sizeof(big));
        mc_rsp_framer_init(&f);
        assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, big, sizeof(big), &used), MC_RSP_BAD);
        assert_int_equal(used, MAX_LINE);
        assert_string_equal(f.error, "line too long");
    }
    mc_rsp_framer_init(&f);
    assert_int_equal(
        mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"VALUE k 0 1\r\n", 13, &used),
        MC_RSP_GOT_LINE);
    mc_rsp_framer_expect_data(&f, 1);
    assert_int_equal(mc_rsp_framer_feed(&f, MAX_LINE, (const uint8_t *)"xx", 2, &used), MC_RSP_BAD);
    assert_int_equal(used, 1);
    assert_string_equal(f.error, "bad data chunk");
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Thousands of replies in one buffer, fed whole, in random pieces and byte by byte: every
 * line and block is seen once, in order, with the right class and key. */
static void test_framer_pipeline(void **state)
{
    enum { N = 3000 };
    /* each reply is pat[0] <i> pat[1]; VALUE replies name the key "k<i>" */
    static const struct {
        const char *pre, *post;
        enum mc_rsp_type type;
    } pat[] = {
        {"VALUE k", " 0 10\r\n0123\r\n6789\r\n", MC_RSP_VALUE},
        {"VALUE k", " 5 3 77\r\n\x01\xff\n\r\n", MC_RSP_VALUE},
        {"VALUE k", " 0 0\r\n\r\n", MC_RSP_VALUE},
        {"STAT curr_items ", "\r\n", MC_RSP_STAT},
        {"", "\r\n", MC_RSP_LINE},
        {"SERVER_ERROR out of memory ", "\r\n", MC_RSP_ERROR},
        {"END", "\r\n", MC_RSP_END},
    };
    size_t len = 0;
    uint8_t *stream = malloc(N * 64);
    unsigned *which = malloc(N * sizeof(*which));
    size_t *cuts = malloc((N * 64 + 1) * sizeof(*cuts));
    uint32_t seed = 777;

    (void)state;
    assert_non_null(stream);
    assert_non_null(which);
    assert_non_null(cuts);
    for (unsigned i = 0; i < N; i++) {
        unsigned p = rng_next(&seed) % NELEM(pat);
        int n;

        /* "END" takes no number */
        if (pat[p].type == MC_RSP_END)
            n = snprintf((char *)stream + len, 64, "%s%s", pat[p].pre, pat[p].post);
        else
            n = snprintf((char *)stream + len, 64, "%s%u%s", pat[p].pre, i, pat[p].post);
        len += (size_t)n;
        which[i] = p;
    }
    for (int mode = 0; mode < 4; mode++) {
        struct mc_framer f;
        size_t ncuts = 0, abs = 0;
        unsigned lines = 0, blocks = 0, want_blocks = 0;

        /* mode 0: whole; 1: random pieces of 1..200; 2: byte by byte; 3: pieces of 1..7 */
        if (mode == 1 || mode == 3) {
            for (size_t at = 0;;) {
                at += 1 + rng_next(&seed) % (mode == 1 ? 200 : 7);
                if (at >= len)
                    break;
                cuts[ncuts++] = at;
            }
        } else if (mode == 2) {
            for (size_t at = 1; at < len; at++)
                cuts[ncuts++] = at;
        }
        mc_rsp_framer_init(&f);
        for (size_t piece = 0; piece <= ncuts; piece++) {
            size_t to = piece == ncuts ? len : cuts[piece];

            while (abs < to) {
                size_t used;
                enum mc_rsp_status st =
                    mc_rsp_framer_feed(&f, MAX_LINE, stream + abs, to - abs, &used);
                struct mc_rsp_line rl;

                abs += used;
                if (st == MC_RSP_AGAIN)
                    break;
                assert_int_not_equal(st, MC_RSP_BAD);
                if (st == MC_RSP_GOT_DATA) {
                    blocks++;
                    continue;
                }
                assert_true(lines < N);
                mc_rsp_parse_line(stream + abs - f.line_len, f.line_len, MAX_VALUE, &rl);
                assert_int_equal(rl.type, pat[which[lines]].type);
                if (rl.type == MC_RSP_VALUE) {
                    char want[32];
                    int wl = snprintf(want, sizeof(want), "k%u", lines);

                    assert_int_equal(rl.key.len, wl);
                    assert_memory_equal(stream + abs - f.line_len + rl.key.off, want, (size_t)wl);
                    mc_rsp_framer_expect_data(&f, rl.data_len);
                    want_blocks++;
                }
                lines++;
            }
        }
        assert_int_equal(lines, N);
        assert_int_equal(blocks, want_blocks);
        assert_int_equal(abs, len);
    }
    free(cuts);
    free(which);
    free(stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_table),      cmocka_unit_test(test_line_max_value),
        cmocka_unit_test(test_line_long_key),   cmocka_unit_test(test_framer_streams),
        cmocka_unit_test(test_framer_line_cap), cmocka_unit_test(test_framer_api),
        cmocka_unit_test(test_framer_pipeline),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

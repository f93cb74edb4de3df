/* Self-test of the load generator's pure parts: the reply parsers fed every stream whole,
 * split at every byte and byte by byte; the encoders; the histogram; the Zipf sampler.
 * `make -C bench check` runs it; it exits non-zero on the first failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_hist.h"
#include "lg_mcrep.h"
#include "lg_rand.h"
#include "lg_req.h"
#include "lg_resp.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* ---- memcached replies ---- */

#define MAXR 8

struct mc_case {
    const char *in;
    int n; /* replies expected before the end (or before BAD) */
    struct lg_mc_reply r[MAXR];
    int bad;  /* the stream ends in LG_MC_BAD */
    int meta; /* the parser's meta mode */
};

static const struct mc_case mc_cases[] = {
    {"END\r\n", 1, {{LG_MC_VALUES, 0}}, 0},
    {"VALUE key:1 0 5\r\nhello\r\nEND\r\n", 1, {{LG_MC_VALUES, 1}}, 0},
    {"VALUE a 0 3 99\r\nabc\r\nVALUE b 1 0\r\n\r\nEND\r\n", 1, {{LG_MC_VALUES, 2}}, 0},
    {"VALUE k 0 6\r\nEND\r\nX\r\nEND\r\n", 1, {{LG_MC_VALUES, 1}}, 0},
    {"STORED\r\n", 1, {{LG_MC_STORED, 0}}, 0},
    {"NOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\n",
     3,
     {{LG_MC_NOT_STORED, 0}, {LG_MC_NOT_STORED, 0}, {LG_MC_NOT_STORED, 0}},
     0},
    {"ERROR\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory\r\n",
     3,
     {{LG_MC_ERROR, 0}, {LG_MC_ERROR, 0}, {LG_MC_ERROR, 0}},
     0},
    {"STORED\r\nEND\r\nVALUE k 0 1\r\nx\r\nEND\r\nSTORED\r\n",
     4,
     {{LG_MC_STORED, 0}, {LG_MC_VALUES, 0}, {LG_MC_VALUES, 1}, {LG_MC_STORED, 0}},
     0},
    {"VALUE k 0 1\r\nx\r\nSERVER_ERROR backend down\r\nEND\r\n",
     2,
     {{LG_MC_ERROR, 1}, {LG_MC_VALUES, 0}},
     0},
    {"VALUE k 0 3\r\nabcd\r\nEND\r\n", 0, {{0, 0}}, 1},
    {"HELLO\r\n", 0, {{0, 0}}, 1},
    {"STORED\r\nVALUE k 0\r\n", 1, {{LG_MC_STORED, 0}}, 1},
    {"VALUE k 0 x\r\n", 0, {{0, 0}}, 1},
    {"END\n", 0, {{0, 0}}, 1},
    {"VALUE k 0 3\r\nabc\r\nSTORED\r\n", 0, {{0, 0}}, 1},
    {"ENDX\r\n", 0, {{0, 0}}, 1},
    {"VALUE k 0 99999999999\r\n", 0, {{0, 0}}, 1},
    /* meta: one read is one VA or EN; quiet reads end at MN; HD is a write */
    {"VA 5\r\nhello\r\nEN\r\nHD\r\nNS\r\n",
     4,
     {{LG_MC_VALUES, 1}, {LG_MC_VALUES, 0}, {LG_MC_STORED, 0}, {LG_MC_NOT_STORED, 0}},
     0,
     LG_MC_META_ONE},
    {"VA 2 f0\r\nMN\r\nHD\r\n", 2, {{LG_MC_VALUES, 1}, {LG_MC_STORED, 0}}, 0, LG_MC_META_ONE},
    {"VA 1\r\na\r\nVA 3\r\nEN\r\r\nMN\r\nMN\r\nHD\r\n",
     3,
     {{LG_MC_VALUES, 2}, {LG_MC_VALUES, 0}, {LG_MC_STORED, 0}},
     0,
     LG_MC_META_QUIET},
    {"VA 1\r\na\r\nSERVER_ERROR backend down\r\nMN\r\n",
     2,
     {{LG_MC_ERROR, 1}, {LG_MC_VALUES, 0}},
     0,
     LG_MC_META_QUIET},
    {"VA 1\r\na\r\nHD\r\n", 0, {{0, 0}}, 1, LG_MC_META_QUIET},
    {"VA x\r\n", 0, {{0, 0}}, 1, LG_MC_META_ONE},
    {"VALUE k 0 1\r\nx\r\nEND\r\n", 0, {{0, 0}}, 1, LG_MC_META_ONE},
};

/* Feeds in[0..len) in the pieces given by cuts (ascending offsets); checks the replies. */
static void mc_run(const struct mc_case *tc, const size_t *cuts, int ncuts, const char *how)
{
    struct lg_mc_parser p;
    lg_mc_parser_init(&p);
    p.meta = (uint8_t)tc->meta;
    size_t len = strlen(tc->in), start = 0;
    int got = 0, bad = 0;
    for (int c = 0; c <= ncuts && !bad; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        size_t pos = start;
        while (pos < end) {
            size_t used = 0;
            struct lg_mc_reply r;
            enum lg_mc_status st = lg_mc_feed(&p, tc->in + pos, end - pos, &used, &r);
            CHECK(used <= end - pos, "mc %s: consumed too much", how);
            pos += used;
            if (st == LG_MC_BAD) {
                bad = 1;
                break;
            }
            if (st == LG_MC_AGAIN) {
                CHECK(pos == end, "mc %s: AGAIN before the end of the piece", how);
                break;
            }
            CHECK(got < tc->n, "mc %s: extra reply in '%s'", how, tc->in);
            if (got < tc->n)
                CHECK(r.kind == tc->r[got].kind && r.hits == tc->r[got].hits,
                      "mc %s: reply %d of '%s' is kind %d hits %u", how, got, tc->in, r.kind,
                      r.hits);
            got++;
        }
        start = end;
    }
    CHECK(got == tc->n, "mc %s: %d replies from '%s', want %d", how, got, tc->in, tc->n);
    CHECK(bad == tc->bad, "mc %s: bad=%d for '%s'", how, bad, tc->in);
}

static void test_mc(void)
{
    for (size_t i = 0; i < sizeof(mc_cases) / sizeof(mc_cases[0]); i++) {
        const struct mc_case *tc = &mc_cases[i];
        size_t len = strlen(tc->in);
        mc_run(tc, NULL, 0, "whole");
        for (size_t k = 1; k < len; k++)
            mc_run(tc, &k, 1, "split");
        size_t *every = malloc(len * sizeof(*every));
        for (size_t k = 0; k + 1 < len; k++)
            every[k] = k + 1;
        mc_run(tc, every, (int)len - 1, "bytewise");
        free(every);
    }
    /* a 1,000-byte error line is cut for display but still one error reply */
    char big[1100];
    memcpy(big, "SERVER_ERROR ", 13);
    memset(big + 13, 'x', 1000);
    memcpy(big + 1013, "\r\nEND\r\n", 8);
    struct mc_case tc = {big, 2, {{LG_MC_ERROR, 0}, {LG_MC_VALUES, 0}}, 0};
    mc_run(&tc, NULL, 0, "long error");
    /* an endless line is refused */
    struct lg_mc_parser p;
    lg_mc_parser_init(&p);
    char *junk = malloc(LG_MC_LINE_MAX + 10);
    memset(junk, 'y', LG_MC_LINE_MAX + 10);
    size_t used;
    struct lg_mc_reply r;
    CHECK(lg_mc_feed(&p, junk, LG_MC_LINE_MAX + 10, &used, &r) == LG_MC_BAD, "endless line");
    free(junk);
    /* the error text stays readable after DONE */
    lg_mc_parser_init(&p);
    const char *e = "SERVER_ERROR out of memory\r\n";
    CHECK(lg_mc_feed(&p, e, strlen(e), &used, &r) == LG_MC_DONE, "error line");
    size_t tl;
    const char *t = lg_mc_last_line(&p, &tl);
    CHECK(tl == 26 && memcmp(t, "SERVER_ERROR out of memory", 26) == 0, "error text");
}

/* ---- RESP replies ---- */

struct rd_case {
    const char *in;
    int n;
    struct lg_resp_reply r[MAXR]; /* kind, elems, bulks, nils, errors */
    int bad;
};

static const struct rd_case rd_cases[] = {
    {"+OK\r\n", 1, {{LG_RESP_SIMPLE, 0, 0, 0, 0}}, 0},
    {"-ERR unknown command\r\n", 1, {{LG_RESP_ERR, 0, 0, 0, 1}}, 0},
    {":12\r\n:-3\r\n", 2, {{LG_RESP_INT, 0, 0, 0, 0}, {LG_RESP_INT, 0, 0, 0, 0}}, 0},
    {"$5\r\nhello\r\n", 1, {{LG_RESP_BULK, 0, 1, 0, 0}}, 0},
    {"$4\r\n\r\n\r\n\r\n$0\r\n\r\n",
     2,
     {{LG_RESP_BULK, 0, 1, 0, 0}, {LG_RESP_BULK, 0, 1, 0, 0}},
     0},
    {"$-1\r\n", 1, {{LG_RESP_NIL, 0, 0, 1, 0}}, 0},
    {"*3\r\n$1\r\na\r\n$-1\r\n$0\r\n\r\n", 1, {{LG_RESP_ARRAY, 3, 2, 1, 0}}, 0},
    {"*0\r\n*-1\r\n", 2, {{LG_RESP_ARRAY, 0, 0, 0, 0}, {LG_RESP_NIL, 0, 0, 1, 0}}, 0},
    {"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n+OK\r\n",
     2,
     {{LG_RESP_ARRAY, 2, 1, 0, 0}, {LG_RESP_SIMPLE, 0, 0, 0, 0}},
     0},
    {"*2\r\n*0\r\n*2\r\n$-1\r\n*0\r\n", 1, {{LG_RESP_ARRAY, 2, 0, 1, 0}}, 0},
    {"*2\r\n-ERR a\r\n$1\r\nb\r\n", 1, {{LG_RESP_ARRAY, 2, 1, 0, 1}}, 0},
    {"?x\r\n", 0, {{0, 0, 0, 0, 0}}, 1},
    {"$abc\r\n", 0, {{0, 0, 0, 0, 0}}, 1},
    {"$3\r\nabcd\r\n", 0, {{0, 0, 0, 0, 0}}, 1},
    {"$-2\r\n", 0, {{0, 0, 0, 0, 0}}, 1},
    {"+OK\n", 0, {{0, 0, 0, 0, 0}}, 1},
    {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 0, {{0, 0, 0, 0, 0}}, 1},
    {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 1, {{LG_RESP_ARRAY, 1, 0, 0, 0}}, 0},
};

static void rd_run(const struct rd_case *tc, const size_t *cuts, int ncuts, const char *how)
{
    struct lg_resp_parser p;
    lg_resp_parser_init(&p);
    size_t len = strlen(tc->in), start = 0;
    int got = 0, bad = 0;
    for (int c = 0; c <= ncuts && !bad; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        size_t pos = start;
        while (pos < end) {
            size_t used = 0;
            struct lg_resp_reply r;
            enum lg_resp_status st = lg_resp_feed(&p, tc->in + pos, end - pos, &used, &r);
            CHECK(used <= end - pos, "resp %s: consumed too much", how);
            pos += used;
            if (st == LG_RESP_BAD) {
                bad = 1;
                break;
            }
            if (st == LG_RESP_AGAIN) {
                CHECK(pos == end, "resp %s: AGAIN before the end of the piece", how);
                break;
            }
            CHECK(got < tc->n, "resp %s: extra reply in '%s'", how, tc->in);
            if (got < tc->n) {
                const struct lg_resp_reply *x = &tc->r[got];
                CHECK(r.kind == x->kind && r.elems == x->elems && r.bulks == x->bulks &&
                          r.nils == x->nils && r.errors == x->errors,
                      "resp %s: reply %d of '%s': kind %d elems %u bulks %u nils %u errors %u", how,
                      got, tc->in, r.kind, r.elems, r.bulks, r.nils, r.errors);
            }
            got++;
        }
        start = end;
    }
    CHECK(got == tc->n, "resp %s: %d replies from '%s', want %d", how, got, tc->in, tc->n);
    CHECK(bad == tc->bad, "resp %s: bad=%d for '%s'", how, bad, tc->in);
}

static void test_resp(void)
{
    for (size_t i = 0; i < sizeof(rd_cases) / sizeof(rd_cases[0]); i++) {
        const struct rd_case *tc = &rd_cases[i];
        size_t len = strlen(tc->in);
        rd_run(tc, NULL, 0, "whole");
        for (size_t k = 1; k < len; k++)
            rd_run(tc, &k, 1, "split");
        size_t *every = malloc(len * sizeof(*every));
        for (size_t k = 0; k + 1 < len; k++)
            every[k] = k + 1;
        rd_run(tc, every, (int)len - 1, "bytewise");
        free(every);
    }
    struct lg_resp_parser p;
    lg_resp_parser_init(&p);
    const char *e = "-ERR max number of clients reached\r\n";
    size_t used, tl;
    struct lg_resp_reply r;
    CHECK(lg_resp_feed(&p, e, strlen(e), &used, &r) == LG_RESP_DONE, "error reply");
    const char *t = lg_resp_last_line(&p, &tl);
    CHECK(tl == 33 && memcmp(t, "ERR max number of clients reached", 33) == 0, "error text");
}

/* ---- encoders ---- */

static void expect(const char *what, const char *got, size_t n, const char *want)
{
    CHECK(n == strlen(want) && memcmp(got, want, n) == 0, "%s: got '%.*s'", what, (int)n, got);
}

static void test_req(void)
{
    struct lg_keyfmt kf = {"key:", 4};
    char buf[4096];
    uint32_t keys[3] = {42, 0, 123456789};

    expect("key", buf, lg_key_format(buf, &kf, 42), "key:00000042");
    expect("long key", buf, lg_key_format(buf, &kf, 4000000000u), "key:4000000000");
    expect("mc get", buf, lg_req_get(buf, LG_PROTO_MC, &kf, keys, 1), "get key:00000042\r\n");
    expect("mc multiget", buf, lg_req_get(buf, LG_PROTO_MC, &kf, keys, 3),
           "get key:00000042 key:00000000 key:123456789\r\n");
    expect("mc set", buf, lg_req_set(buf, LG_PROTO_MC, &kf, 7, "hello", 5),
           "set key:00000007 0 0 5\r\nhello\r\n");
    expect("redis get", buf, lg_req_get(buf, LG_PROTO_REDIS, &kf, keys, 1),
           "*2\r\n$3\r\nGET\r\n$12\r\nkey:00000042\r\n");
    expect("redis mget", buf, lg_req_get(buf, LG_PROTO_REDIS, &kf, keys, 3),
           "*4\r\n$4\r\nMGET\r\n$12\r\nkey:00000042\r\n$12\r\nkey:00000000\r\n"
           "$13\r\nkey:123456789\r\n");
    expect("redis set", buf, lg_req_set(buf, LG_PROTO_REDIS, &kf, 7, "", 0),
           "*3\r\n$3\r\nSET\r\n$12\r\nkey:00000007\r\n$0\r\n\r\n");
    expect("meta get", buf, lg_req_get(buf, LG_PROTO_META, &kf, keys, 1), "mg key:00000042 v\r\n");
    expect("meta quiet gets", buf, lg_req_get(buf, LG_PROTO_META, &kf, keys, 2),
           "mg key:00000042 v q\r\nmg key:00000000 v q\r\nmn\r\n");
    expect("meta set", buf, lg_req_set(buf, LG_PROTO_META, &kf, 7, "hi", 2),
           "ms key:00000007 2 T0\r\nhi\r\n");

    /* the bound holds for the longest keys */
    struct lg_keyfmt lk = {"a-rather-long-prefix:", 21};
    uint32_t big[100];
    for (int i = 0; i < 100; i++)
        big[i] = 4000000000u;
    char val[1000];
    memset(val, 'v', sizeof(val));
    for (int proto = LG_PROTO_MC; proto <= LG_PROTO_META; proto++) {
        size_t max = lg_req_max(proto, &lk, 100, sizeof(val));
        CHECK(lg_req_get(buf, proto, &lk, big, 100) <= max, "req_max get %d", proto);
        CHECK(lg_req_set(buf, proto, &lk, 4000000000u, val, sizeof(val)) <= max, "req_max set %d",
              proto);
    }
}

/* ---- histogram ---- */

static void test_hist(void)
{
    uint32_t prev = 0;
    for (uint64_t v = 1; v < (1ull << 36); v = v + 1 + v / 97) {
        uint32_t i = lg_hist_index(v);
        CHECK(i >= prev && i < LG_HIST_BUCKETS, "index of %llu", (unsigned long long)v);
        uint64_t hi = lg_hist_bucket_high(i);
        CHECK(hi >= v && (double)(hi - v) <= (double)v / 100.0 + 1, "bucket of %llu ends at %llu",
              (unsigned long long)v, (unsigned long long)hi);
        CHECK(lg_hist_index(hi) == i && lg_hist_index(hi + 1) == i + 1, "bucket edges at %llu",
              (unsigned long long)v);
        prev = i;
    }
    CHECK(lg_hist_index(UINT64_MAX) == LG_HIST_BUCKETS - 1, "top bucket");

    static struct lg_hist a, b;
    lg_hist_init(&a);
    lg_hist_init(&b);
    for (uint64_t v = 1; v <= 100000; v++)
        lg_hist_record(v % 2 ? &a : &b, v * 1000); /* 1 us .. 100 ms */
    lg_hist_merge(&a, &b);
    CHECK(a.count == 100000 && a.max == 100000000 && a.min == 1000, "merge");
    double want[][2] = {{50, 50000e3}, {90, 90000e3}, {99, 99000e3}, {99.9, 99900e3}};
    for (int i = 0; i < 4; i++) {
        double got = (double)lg_hist_percentile(&a, want[i][0]);
        CHECK(fabs(got - want[i][1]) / want[i][1] < 0.01, "p%g = %.0f", want[i][0], got);
    }
    CHECK(lg_hist_percentile(&a, 100) == 100000000, "p100 is the max");
    CHECK(fabs(lg_hist_mean(&a) - 50000.5e3) < 1, "mean %f", lg_hist_mean(&a));
}

/* ---- Zipf ---- */

static void test_zipf(void)
{
    struct lg_rng r;
    lg_rng_seed(&r, 1);
    double ss[] = {0.5, 0.99, 1.0, 1.2};
    uint32_t n = 1000;
    int samples = 2000000;
    uint32_t *cnt = calloc(n, sizeof(*cnt));
    for (int k = 0; k < 4; k++) {
        struct lg_zipf z;
        CHECK(lg_zipf_init(&z, n, ss[k]) == 0, "zipf init");
        memset(cnt, 0, n * sizeof(*cnt));
        for (int i = 0; i < samples; i++) {
            uint32_t x = lg_zipf_next(&z, &r);
            CHECK(x < n, "zipf sample %u out of range", x);
            if (x < n)
                cnt[x]++;
        }
        double hsum = 0;
        for (uint32_t i = 1; i <= n; i++)
            hsum += pow(i, -ss[k]);
        uint32_t ranks[] = {0, 1, 9, 99};
        for (int j = 0; j < 4; j++) {
            double want = pow(ranks[j] + 1, -ss[k]) / hsum * samples;
            double got = cnt[ranks[j]];
            CHECK(fabs(got - want) < 5 * sqrt(want) + 0.01 * want,
                  "zipf s=%g rank %u: %.0f, want %.0f", ss[k], ranks[j], got, want);
        }
    }
    struct lg_zipf one;
    lg_zipf_init(&one, 1, 0.99);
    CHECK(lg_zipf_next(&one, &r) == 0, "zipf n=1");
    CHECK(lg_zipf_init(&one, 10, 0) < 0, "zipf s=0 refused");
    /* uniform */
    memset(cnt, 0, n * sizeof(*cnt));
    for (int i = 0; i < samples; i++)
        cnt[lg_rng_below(&r, n)]++;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t i = 0; i < n; i++) {
        lo = cnt[i] < lo ? cnt[i] : lo;
        hi = cnt[i] > hi ? cnt[i] : hi;
    }
    CHECK(lo > 1700 && hi < 2300, "uniform spread %u..%u", lo, hi);
    free(cnt);
}

int main(void)
{
    test_mc();
    test_resp();
    test_req();
    test_hist();
    test_zipf();
    if (failures) {
        fprintf(stderr, "lg_selftest: %d failure(s)\n", failures);
        return 1;
    }
    printf("lg_selftest: all passed\n");
    return 0;
}

/* Unit tests for proto/mc_cmd and proto/mc_req: command table, request framer, tokenizer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/mc_cmd.h"
#include "proto/mc_req.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define KEY_CAP  4

/* Tokenizer tests: memcached's key cap, a small value cap to test TOO_LARGE cheaply. */
static const struct mc_limits parse_limits = {
    .max_key_length = 250,
    .max_value_size = 1000,
    .max_line = 2048,
};

/* Framer tests: tiny caps so that every edge fits in a short, readable stream. */
static const struct mc_limits small_limits = {
    .max_key_length = 8,
    .max_value_size = 16,
    .max_line = 64,
};

/* ---- command table ---- */

static void test_cmd_table(void **state)
{
    (void)state;
    assert_null(mc_cmd_info(MC_CMD_NONE));
    assert_null(mc_cmd_info(MC_CMD_COUNT));
    for (int c = MC_CMD_NONE + 1; c < MC_CMD_COUNT; c++) {
        const struct mc_cmd_info *info = mc_cmd_info((enum mc_cmd)c);

        assert_non_null(info);
        assert_non_null(info->name);
        assert_int_equal(info->name_len, strlen(info->name));
        assert_int_equal(mc_cmd_lookup(info->name, info->name_len), c);
        assert_true(info->min_args >= 0);
        assert_true(info->max_args == -1 || info->max_args >= info->min_args);
        assert_true(info->noreply_from >= -1);
        switch (info->kind) {
        case MC_KIND_RETRIEVAL:
            /* keys to the end of the line; "noreply" is just a key */
            assert_int_equal(info->max_args, -1);
            assert_int_equal(info->noreply_from, -1);
            assert_true(info->key_index >= 0);
            break;
        case MC_KIND_STORAGE:
        case MC_KIND_KEYED:
            assert_true(info->max_args >= 0);
            assert_int_equal(info->key_index, 0);
            assert_true(info->noreply_from >= 0);
            break;
        case MC_KIND_BROADCAST:
            assert_true(info->max_args >= 0);
            assert_int_equal(info->key_index, -1);
            assert_true(info->noreply_from >= 0);
            break;
        case MC_KIND_META:
        case MC_KIND_META_SET:
            /* a key, then flags memcached judges itself: no bound here, no noreply */
            assert_int_equal(info->max_args, -1);
            assert_int_equal(info->key_index, 0);
            assert_int_equal(info->noreply_from, -1);
            break;
        case MC_KIND_ANY:
        case MC_KIND_LOCAL:
        case MC_KIND_REFUSED:
            /* memcached counts no tokens for these: any arguments, no noreply */
            assert_int_equal(info->max_args, -1);
            assert_int_equal(info->key_index, -1);
            assert_int_equal(info->noreply_from, -1);
            break;
        }
    }
    assert_int_equal(mc_cmd_info(MC_GAT)->key_index, 1);
    assert_int_equal(mc_cmd_info(MC_BGET)->kind, MC_KIND_RETRIEVAL);
    assert_int_equal(mc_cmd_info(MC_SET)->kind, MC_KIND_STORAGE);
    assert_int_equal(mc_cmd_info(MC_FLUSH_ALL)->kind, MC_KIND_BROADCAST);
    assert_int_equal(mc_cmd_info(MC_VERSION)->kind, MC_KIND_ANY);
    assert_int_equal(mc_cmd_info(MC_STATS)->kind, MC_KIND_LOCAL);
    assert_int_equal(mc_cmd_info(MC_SHUTDOWN)->kind, MC_KIND_REFUSED);
    assert_int_equal(mc_cmd_info(MC_MN)->kind, MC_KIND_LOCAL);
    assert_int_equal(mc_cmd_info(MC_MS)->kind, MC_KIND_META_SET);
    assert_int_equal(mc_cmd_info(MC_ME)->kind, MC_KIND_META);
    /* delete's noreply needs a hold argument's place: "delete noreply" deletes "noreply" */
    assert_int_equal(mc_cmd_info(MC_DELETE)->noreply_from, 2);
    assert_string_equal(mc_cmd_info(MC_FLUSH_ALL)->name, "flush_all");
    assert_string_equal(mc_cmd_info(MC_CACHE_MEMLIMIT)->name, "cache_memlimit");
}

/* The obvious lookup, a linear scan of the table, as the reference. */
static enum mc_cmd ref_lookup(const char *name, size_t len)
{
    for (int c = MC_CMD_NONE + 1; c < MC_CMD_COUNT; c++) {
        const struct mc_cmd_info *info = mc_cmd_info((enum mc_cmd)c);

        if (info->name_len == len && memcmp(info->name, name, len) == 0)
            return (enum mc_cmd)c;
    }
    return MC_CMD_NONE;
}

/* Every one-byte change, truncation and extension of every name gives what the reference
 * gives: nothing, or the other command it happens to spell ("get" -> "gat"). */
static void test_cmd_lookup_near_misses(void **state)
{
    static const char *extra[] = {"",           "g",         "ge",           "GET",   "Get",
                                  "gett",       "xet",       "sat",          "gets ", "flush_al",
                                  "flush_alll", "verbosit",  "stat",         "mx",    "m",
                                  "MG",         "FLUSH_ALL", "refresh_cert", "mget",  "lru_crawle"};
    char buf[32];
    unsigned spelled_other = 0;

    (void)state;
    assert_int_equal(mc_cmd_lookup(NULL, 0), MC_CMD_NONE);
    for (size_t i = 0; i < NELEM(extra); i++)
        assert_int_equal(mc_cmd_lookup(extra[i], strlen(extra[i])), MC_CMD_NONE);
    assert_int_equal(mc_cmd_lookup("get\0", 4), MC_CMD_NONE);
    for (int c = MC_CMD_NONE + 1; c < MC_CMD_COUNT; c++) {
        const struct mc_cmd_info *info = mc_cmd_info((enum mc_cmd)c);
        size_t n = info->name_len;

        for (size_t i = 0; i < n; i++) {
            for (int b = 0; b < 256; b++) {
                memcpy(buf, info->name, n);
                if ((uint8_t)buf[i] == b)
                    continue;
                buf[i] = (char)b;
                assert_int_equal(mc_cmd_lookup(buf, n), ref_lookup(buf, n));
                spelled_other += ref_lookup(buf, n) != MC_CMD_NONE;
            }
        }
        memcpy(buf, info->name, n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(mc_cmd_lookup(buf, i), ref_lookup(buf, i));
        for (int b = 0; b < 256; b++) {
            buf[n] = (char)b;
            assert_int_equal(mc_cmd_lookup(buf, n + 1), ref_lookup(buf, n + 1));
        }
    }
    /* get/gat, get/set and gets/gats, both ways (6), and each of the six meta words turned
     * into each of the five others (30) */
    assert_int_equal(spelled_other, 36);
    assert_int_equal(mc_cmd_lookup("gets", 4), MC_GETS);
    assert_int_equal(mc_cmd_lookup("gats", 4), MC_GATS);
    assert_int_equal(mc_cmd_lookup("bget", 4), MC_BGET);
    assert_int_equal(mc_cmd_lookup("mn", 2), MC_MN);
}

/* ---- tokenizer ---- */

struct parse_case {
    const char *in;
    size_t len;
    enum mc_parse_result res;
    enum mc_cmd cmd;
    bool noreply;
    const char *keys; /* expected keys joined by ' ' (keys never hold a space); NULL: none */
    uint32_t flags;
    uint64_t data_len; /* storage: the block that follows (0 whenever none does) */
    uint64_t cas;
    const char *exptime; /* gat/gats */
    const char *sub;     /* stats, version: the first argument */
};

#define IN(s) .in = (s), .len = sizeof(s) - 1

/* clang-format off */
#define OK(s, c, k)         {IN(s), .res = MC_PARSE_OK, .cmd = (c), .keys = (k)}
#define OK_NR(s, c, k)      {IN(s), .res = MC_PARSE_OK, .cmd = (c), .keys = (k), .noreply = true}
#define STORE(s, c, fl, n)  {IN(s), .res = MC_PARSE_OK, .cmd = (c), .keys = "k", .flags = (fl), \
                             .data_len = (n)}
#define ERR(s, c)           {IN(s), .res = MC_PARSE_ERROR, .cmd = (c)}
#define FMT(s, c)           {IN(s), .res = MC_PARSE_BAD_FORMAT, .cmd = (c)}
#define FMT_NR(s, c)        {IN(s), .res = MC_PARSE_BAD_FORMAT, .cmd = (c), .noreply = true}
#define DEL(s)              {IN(s), .res = MC_PARSE_BAD_DELETE, .cmd = MC_DELETE}
#define DEL_NR(s)           {IN(s), .res = MC_PARSE_BAD_DELETE, .cmd = MC_DELETE, .noreply = true}
#define EXPT(s, c)          {IN(s), .res = MC_PARSE_BAD_EXPTIME, .cmd = (c)}
#define CLOSE(s)            {IN(s), .res = MC_PARSE_CLOSE}
/* clang-format on */

/* Every row was checked against memcached 1.6.18 (memcached -U 0, default settings): the line
 * was sent on a fresh connection after "mn\r\n" (a first byte 0x80 would select the binary
 * protocol), followed by its data block for an OK storage row, then by "mn\r\n" again. An OK
 * row is accepted (STORED / NOT_STORED / EXISTS / NOT_FOUND, VALUE ... END, DELETED, a number,
 * OK, VERSION, STAT ... END; nothing when noreply). An error row gets mc_parse_reply()'s line
 * (nothing when noreply) and then "MN": no data block was read. A forwarded row whose
 * arguments the server judges ("incr k abc") is OK here, whatever the server then answers (its
 * own CLIENT_ERROR). TOO_LARGE: the block is swallowed, then the error. CLOSE rows: memcached
 * closed without a word. A row without a terminator was checked with "\n" added. Rows that are
 * the proxy's own policy, not memcached's answer, are in policy_cases below. */
static const struct parse_case parse_cases[] = {
    /* retrieval */
    OK("get a\r\n", MC_GET, "a"),
    OK("get a\n", MC_GET, "a"),
    OK("get a", MC_GET, "a"),
    OK("gets a b c\r\n", MC_GETS, "a b c"),
    OK("get  a   b \r\n", MC_GET, "a b"),
    OK("   get a\r\n", MC_GET, "a"),
    OK("get a b c d\r\n", MC_GET, "a b c d"),
    OK("get noreply\r\n", MC_GET, "noreply"),
    OK("get a noreply\r\n", MC_GET, "a noreply"),
    OK("get \x80\xff\xfe~ !x\r\n", MC_GET, "\x80\xff\xfe~ !x"),
    OK("get a\xc3\xa9\r\n", MC_GET, "a\xc3\xa9"),
    OK("bget a b\r\n", MC_BGET, "a b"),
    OK("get / HTTP/1.1\r\n", MC_GET, "/ HTTP/1.1"), /* a g-word never reaches the HTTP check */
    {IN("gat 100 a b\r\n"), .cmd = MC_GAT, .keys = "a b", .exptime = "100"},
    {IN("gats -1 a\r\n"), .cmd = MC_GATS, .keys = "a", .exptime = "-1"},
    {IN("gat 0 k noreply\r\n"), .cmd = MC_GAT, .keys = "k noreply", .exptime = "0"},
    /* gat's exptime is read with strtol, as memcached's safe_strtol reads it */
    {IN("gat +1 a\r\n"), .cmd = MC_GAT, .keys = "a", .exptime = "+1"},
    {IN("gat -0 a\r\n"), .cmd = MC_GAT, .keys = "a", .exptime = "-0"},
    {IN("gat 2147483648 a\r\n"), .cmd = MC_GAT, .keys = "a", .exptime = "2147483648"},
    {IN("gat 9223372036854775807 a\r\n"), .cmd = MC_GAT, .keys = "a",
     .exptime = "9223372036854775807"},
    {IN("gat -9223372036854775808 a\r\n"), .cmd = MC_GAT, .keys = "a",
     .exptime = "-9223372036854775808"},
    {IN("gat \t1 a\r\n"), .cmd = MC_GAT, .keys = "a", .exptime = "\t1"},
    {IN("gat 1\t a\r\n"), .cmd = MC_GAT, .keys = "a", .exptime = "1\t"},
    {IN("gat 1\v\f a\r\n"), .cmd = MC_GAT, .keys = "a", .exptime = "1\v\f"},
    EXPT("gat x a\r\n", MC_GAT),
    EXPT("gat x\r\n", MC_GAT), /* the exptime is judged before any key is looked for */
    EXPT("gat - a\r\n", MC_GAT),
    EXPT("gat 1x a\r\n", MC_GAT),
    EXPT("gat 0x10 a\r\n", MC_GAT),
    {IN("gat 1\t2 a\r\n"), .cmd = MC_GAT, .keys = "a", .exptime = "1\t2"}, /* 1, then a blank */
    EXPT("gat 9223372036854775808 a\r\n", MC_GAT),
    EXPT("gat -9223372036854775809 a\r\n", MC_GAT),
    EXPT("gats 99999999999999999999999 a\r\n", MC_GATS),
    /* an exptime and no key: memcached answers "END" */
    {IN("gat 10\r\n"), .res = MC_PARSE_NO_KEYS, .cmd = MC_GAT, .exptime = "10"},
    {IN("gats -5   \r\n"), .res = MC_PARSE_NO_KEYS, .cmd = MC_GATS, .exptime = "-5"},
    ERR("get\r\n", MC_GET),
    ERR("get   \r\n", MC_GET),
    ERR("gets\n", MC_GETS),
    ERR("gat\r\n", MC_GAT),
    ERR("gats \r\n", MC_GATS),
    ERR("bget\r\n", MC_BGET),
    OK("get a\tb\r\n", MC_GET, "a\tb"), /* memcached splits on spaces only */
    OK("get a\r\r\n", MC_GET, "a\r"),
    OK("get a\x7f\r\n", MC_GET, "a\x7f"),
    OK("get a\x01\r\n", MC_GET, "a\x01"),
    /* a NUL ends the line memcached reads; the rest up to the newline is skipped */
    OK("get a\0b\r\n", MC_GET, "a"),
    OK("get a\0\r\n", MC_GET, "a"),
    OK("get a\r\0\n", MC_GET, "a\r"),
    OK("get a b\0 c\r\n", MC_GET, "a b"),
    ERR("get\0 a\r\n", MC_GET),
    /* storage */
    STORE("set k 5 0 10\r\n", MC_SET, 5, 10),
    STORE("set k 5 0 10\n", MC_SET, 5, 10),
    STORE("set  k  5  0  10  \r\n", MC_SET, 5, 10),
    {IN("set k 4294967295 -1 0 noreply\r\n"), .cmd = MC_SET, .noreply = true, .keys = "k",
     .flags = 4294967295u},
    STORE("add k 1 2 3\r\n", MC_ADD, 1, 3),
    {IN("replace k 1 2 3 noreply\r\n"), .cmd = MC_REPLACE, .noreply = true, .keys = "k", .flags = 1,
     .data_len = 3},
    {IN("append \xff\x80 0 0 1\r\n"), .cmd = MC_APPEND, .keys = "\xff\x80", .data_len = 1},
    STORE("prepend k 0 0 0\r\n", MC_PREPEND, 0, 0),
    STORE("set k 0 2147483647 1\r\n", MC_SET, 0, 1),
    STORE("set k 0 -2147483648 1\r\n", MC_SET, 0, 1),
    STORE("set k 0 0 00012\r\n", MC_SET, 0, 12),
    STORE("set k 0 0 1000\r\n", MC_SET, 0, 1000),
    /* over the cap (and memcached's 1 MB item limit): the block is swallowed */
    {IN("set k 0 0 2000000\r\n"), .res = MC_PARSE_TOO_LARGE, .cmd = MC_SET, .keys = "k",
     .data_len = 2000000},
    {IN("add k 0 0 2000000 noreply\r\n"), .res = MC_PARSE_TOO_LARGE, .cmd = MC_ADD, .noreply = true,
     .keys = "k", .data_len = 2000000},
    /* INT_MAX - 2 is the largest length memcached takes */
    {IN("set k 0 0 2147483645 noreply\r\n"), .res = MC_PARSE_TOO_LARGE, .cmd = MC_SET,
     .noreply = true, .keys = "k", .data_len = 2147483645},
    FMT("set k 0 0 2147483646\r\n", MC_SET),
    FMT("set k 0 0 2147483647\r\n", MC_SET),
    {IN("cas k 0 0 3 18446744073709551615\r\n"), .cmd = MC_CAS, .keys = "k", .data_len = 3,
     .cas = UINT64_MAX},
    {IN("cas k 7 0 3 7 noreply\r\n"), .cmd = MC_CAS, .noreply = true, .keys = "k", .flags = 7,
     .data_len = 3, .cas = 7},
    {IN("cas k 0 0 1 -0\r\n"), .cmd = MC_CAS, .keys = "k", .data_len = 1},
    {IN("cas k 0 0 1 +5\r\n"), .cmd = MC_CAS, .keys = "k", .data_len = 1, .cas = 5},
    /* strtoull negates: "-18446744073709551615" is 1, and does not read as negative */
    {IN("cas k 0 0 1 -18446744073709551615\r\n"), .cmd = MC_CAS, .keys = "k", .data_len = 1,
     .cas = 1},
    /* a token too many is not noreply: memcached ignores it */
    {IN("cas k 0 0 5 1 2\r\n"), .cmd = MC_CAS, .keys = "k", .data_len = 5, .cas = 1},
    STORE("set k 0 0 5 6\r\n", MC_SET, 0, 5),
    STORE("set k 0 0 1 NOREPLY\r\n", MC_SET, 0, 1),
    STORE("set k 0 0 1 noreply\t\r\n", MC_SET, 0, 1),
    ERR("set k 0 0\r\n", MC_SET),
    ERR("set\r\n", MC_SET),
    ERR("set k\r\n", MC_SET),
    ERR("set k 0 0 5 noreply x\r\n", MC_SET),
    ERR("set k 0 0 5 noreply noreply\r\n", MC_SET),
    ERR("set k\t0 0 5\r\n", MC_SET),
    ERR("set k 0 0\0 5\r\n", MC_SET),
    ERR("cas k 0 0 5\r\n", MC_CAS),
    ERR("cas k 0 0 5 1 2 3\r\n", MC_CAS),
    ERR("prepend k 0 0 1 2 3\r\n", MC_PREPEND),
    /* the last token is noreply even where a number was due: the error is then silent */
    FMT_NR("set k 0 0 noreply\r\n", MC_SET),
    FMT_NR("cas k 0 0 5 noreply\r\n", MC_CAS),
    FMT_NR("set k 0 0 x noreply\r\n", MC_SET),
    FMT_NR("set k 0 0 -1 noreply\r\n", MC_SET),
    /* numbers: strtoul / strtol with memcached's checks, then 32 bits where it keeps 32 */
    STORE("set k +1 0 5\r\n", MC_SET, 1, 5),
    STORE("set k -0 0 1\r\n", MC_SET, 0, 1),
    STORE("set k 4294967296 0 1\r\n", MC_SET, 0, 1),
    STORE("set k 4294967297 0 1\r\n", MC_SET, 1, 1),
    STORE("set k 18446744073709551615 0 1\r\n", MC_SET, 4294967295u, 1),
    STORE("set k -18446744073709551615 0 1\r\n", MC_SET, 1, 1),
    /* -(2^63 + 1) is 2^63 - 1 modulo 2^64: positive, so the '-' does not matter */
    STORE("set k -9223372036854775809 0 1\r\n", MC_SET, 4294967295u, 1),
    STORE("set k \t+7 0 1\r\n", MC_SET, 7, 1),
    STORE("set k 1\t- 0 1\r\n", MC_SET, 1, 1),
    STORE("set k 0 2147483648 1\r\n", MC_SET, 0, 1),
    STORE("set k 0 -2147483649 1\r\n", MC_SET, 0, 1),
    STORE("set k 0 9223372036854775807 1\r\n", MC_SET, 0, 1),
    STORE("set k 0 0 +5\r\n", MC_SET, 0, 5),
    STORE("set k 0 0 -0\r\n", MC_SET, 0, 0),
    STORE("set k 0 0 4294967296\r\n", MC_SET, 0, 0),
    STORE("set k 0 0 4294967297\r\n", MC_SET, 0, 1),
    STORE("set k 0 0 -4294967295\r\n", MC_SET, 0, 1), /* a long, then its low 32 bits */
    STORE("set k 0 0 5\t\r\n", MC_SET, 0, 5),
    STORE("set k 0 0 5\t6\r\n", MC_SET, 0, 5),
    STORE("set k 0 0 \t5\r\n", MC_SET, 0, 5),
    STORE("set k 0 0 5\v\r\n", MC_SET, 0, 5),
    STORE("set k 0 0 5\r\r\n", MC_SET, 0, 5),
    STORE("set k 0 0 5\0 junk\r\n", MC_SET, 0, 5),
    {IN("set k\x01 0 0 5\r\n"), .cmd = MC_SET, .keys = "k\x01", .data_len = 5},
    FMT("set k -1 0 5\r\n", MC_SET),
    FMT("set k -4294967295 0 1\r\n", MC_SET),
    FMT("set k -9223372036854775808 0 1\r\n", MC_SET),
    FMT("set k 18446744073709551616 0 1\r\n", MC_SET),
    FMT("set k 18446744073709551615\t- 0 1\r\n", MC_SET), /* negative-looking, a '-' in it */
    FMT("set k +-1 0 1\r\n", MC_SET),
    FMT("set k 1- 0 1\r\n", MC_SET),
    FMT("set k 0 0 -5\r\n", MC_SET),
    FMT("set k 0 0 5x\r\n", MC_SET),
    FMT("set k 0 0 0x5\r\n", MC_SET),
    FMT("set k 0 0 99999999999999999999999\r\n", MC_SET),
    FMT("set k 0 0 9223372036854775808\r\n", MC_SET),
    FMT("set k 0 x 5\r\n", MC_SET),
    FMT("set k 0 - 5\r\n", MC_SET),
    FMT("set k 0 9223372036854775808 1\r\n", MC_SET),
    FMT("set k 0 -9223372036854775809 1\r\n", MC_SET),
    FMT("cas k 0 0 5 18446744073709551616\r\n", MC_CAS),
    FMT("cas k 0 0 5 -1\r\n", MC_CAS),
    FMT("cas k 0 0 5 -9223372036854775808\r\n", MC_CAS),
    FMT("cas k 0 0 1 9223372036854775808\t-\r\n", MC_CAS),
    FMT("cas k 0 0 5 x\r\n", MC_CAS),
    FMT("cas k 0 0 2000000 x\r\n", MC_CAS), /* the cas unique is judged before the size */
    /* keyed */
    OK("delete k\r\n", MC_DELETE, "k"),
    OK("delete k 0\r\n", MC_DELETE, "k"),
    OK_NR("delete k noreply\r\n", MC_DELETE, "k"),
    OK_NR("delete k 0 noreply\r\n", MC_DELETE, "k"),
    OK("delete noreply\r\n", MC_DELETE, "noreply"),
    OK("delete k\x7f\r\n", MC_DELETE, "k\x7f"),
    ERR("delete\r\n", MC_DELETE),
    ERR("delete k 0 noreply x\r\n", MC_DELETE),
    DEL("delete k 1\r\n"),
    DEL("delete k 00\r\n"),
    DEL("delete k x\r\n"),
    DEL("delete k 0 0\r\n"),
    DEL("delete k noreply 0\r\n"),
    DEL("delete k 0 noreply\t\r\n"),
    DEL_NR("delete k 1 noreply\r\n"),
    DEL_NR("delete k noreply noreply\r\n"),
    OK("incr k 1\r\n", MC_INCR, "k"),
    OK_NR("decr k 18446744073709551615 noreply\r\n", MC_DECR, "k"),
    OK("incr k 0\r\n", MC_INCR, "k"),
    /* the delta is the server's to judge: it answers these itself */
    OK("incr k -1\r\n", MC_INCR, "k"),
    OK("incr k abc\r\n", MC_INCR, "k"),
    OK("incr k 18446744073709551616\r\n", MC_INCR, "k"),
    OK("incr k 1 2\r\n", MC_INCR, "k"),
    OK_NR("decr k noreply\r\n", MC_DECR, "k"),
    ERR("incr k\r\n", MC_INCR),
    ERR("decr k 1 2 3\r\n", MC_DECR),
    OK("touch k 10\r\n", MC_TOUCH, "k"),
    OK_NR("touch k -5 noreply\r\n", MC_TOUCH, "k"),
    OK("touch k 1.5\r\n", MC_TOUCH, "k"),
    OK("touch k 1 2\r\n", MC_TOUCH, "k"),
    OK_NR("touch k noreply\r\n", MC_TOUCH, "k"),
    ERR("touch k\r\n", MC_TOUCH),
    ERR("touch k 1 2 3\r\n", MC_TOUCH),
    /* broadcast: the servers judge the arguments */
    OK("flush_all\r\n", MC_FLUSH_ALL, NULL),
    OK("flush_all 0\r\n", MC_FLUSH_ALL, NULL),
    OK("flush_all -1\n", MC_FLUSH_ALL, NULL),
    OK_NR("flush_all noreply\r\n", MC_FLUSH_ALL, NULL),
    OK_NR("flush_all 0 noreply\r\n", MC_FLUSH_ALL, NULL),
    OK("flush_all x\r\n", MC_FLUSH_ALL, NULL),
    OK("flush_all 0 2\r\n", MC_FLUSH_ALL, NULL),
    OK("flush_all noreply 0\r\n", MC_FLUSH_ALL, NULL),
    ERR("flush_all 0 noreply x\r\n", MC_FLUSH_ALL),
    OK("verbosity 0\r\n", MC_VERBOSITY, NULL),
    OK_NR("verbosity 0 noreply\r\n", MC_VERBOSITY, NULL),
    OK("verbosity x\r\n", MC_VERBOSITY, NULL),
    OK_NR("verbosity noreply\r\n", MC_VERBOSITY, NULL),
    OK("verbosity 0 2\r\n", MC_VERBOSITY, NULL),
    ERR("verbosity\r\n", MC_VERBOSITY),
    ERR("verbosity 0 2 3\r\n", MC_VERBOSITY),
    /* version: any server; stats and quit: the proxy. memcached takes any arguments */
    OK("version\r\n", MC_VERSION, NULL),
    {IN("version x y\r\n"), .cmd = MC_VERSION, .sub = "x"},
    {IN("version noreply\r\n"), .cmd = MC_VERSION, .sub = "noreply"},
    OK("quit\r\n", MC_QUIT, NULL),
    OK("quit\n", MC_QUIT, NULL),
    {IN("quit now\r\n"), .cmd = MC_QUIT, .sub = "now"},
    OK("stats\r\n", MC_STATS, NULL),
    OK("stats  \r\n", MC_STATS, NULL),
    {IN("stats settings\r\n"), .cmd = MC_STATS, .sub = "settings"},
    {IN("stats slabs\r\n"), .cmd = MC_STATS, .sub = "slabs"},
    {IN("stats reset\r\n"), .cmd = MC_STATS, .sub = "reset"},
    {IN("stats a b c d e f g h i\r\n"), .cmd = MC_STATS, .sub = "a"},
    {IN("stats noreply\r\n"), .cmd = MC_STATS, .sub = "noreply"},
    /* memcached keeps 23 tokens: on a longer line the rest is one more "token" */
    ERR("set k 0 0 1 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 noreply\r\n", MC_SET),
    {IN("stats 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25\r\n"),
     .cmd = MC_STATS, .sub = "2"},
    /* HTTP: a word memcached's dispatch does not send to ERROR, whose last token starts with
     * "HTTP/" (of the 23 memcached keeps), closes without a word */
    CLOSE("GET / HTTP/1.1\r\n"),
    CLOSE("POST /x HTTP/1.0\n"),
    CLOSE("HEAD HTTP/\r\n"),
    CLOSE("HTTP/1.1\r\n"),
    CLOSE("foo bar HTTP/2\r\n"),
    CLOSE("mxy HTTP/1.1\r\n"),
    CLOSE("quitx HTTP/1.1\r\n"),
    CLOSE("verbosityx HTTP/1.1\r\n"),
    CLOSE("GET / HTTP/1.1\0 x\r\n"),
    CLOSE("foo 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 HTTP/1.1 x\r\n"),
    ERR("foo 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 HTTP/1.1\r\n", MC_CMD_NONE),
    ERR("foo HTTP\r\n", MC_CMD_NONE),
    ERR("foo http/1.1\r\n", MC_CMD_NONE),
    ERR("foo HTTP/1.1 x\r\n", MC_CMD_NONE),
    ERR("mx HTTP/1.1\r\n", MC_CMD_NONE),    /* a two-byte m-word is a meta command's place */
    ERR("x HTTP/1.1\r\n", MC_CMD_NONE),     /* under two bytes */
    ERR("gimme HTTP/1.1\r\n", MC_CMD_NONE), /* g s a c i d t: their branch says ERROR */
    ERR("sget HTTP/1.1\r\n", MC_CMD_NONE),
    ERR("add1 HTTP/1.1\r\n", MC_CMD_NONE),
    ERR("cget HTTP/1.1\r\n", MC_CMD_NONE),
    ERR("iget HTTP/1.1\r\n", MC_CMD_NONE),
    ERR("dget HTTP/1.1\r\n", MC_CMD_NONE),
    ERR("tget HTTP/1.1\r\n", MC_CMD_NONE),
    ERR("replace HTTP/1.1\r\n", MC_REPLACE), /* a known word: its own token count */
    ERR("flush_all a b HTTP/1.1\r\n", MC_FLUSH_ALL),
    /* unknown and empty */
    ERR("GET a\r\n", MC_CMD_NONE),
    ERR("get\ta\r\n", MC_CMD_NONE),
    ERR("gett a\r\n", MC_CMD_NONE),
    ERR("mget a\r\n", MC_CMD_NONE),
    ERR("x\r\n", MC_CMD_NONE),
    ERR("ab\r\n", MC_CMD_NONE),
    ERR("\t\r\n", MC_CMD_NONE),
    ERR("\r\r\n", MC_CMD_NONE),
    ERR("\0\r\n", MC_CMD_NONE),
    ERR("\0get a\r\n", MC_CMD_NONE),
    ERR("\x80\r\n", MC_CMD_NONE),
    ERR("\r\n", MC_CMD_NONE),
    ERR("\n", MC_CMD_NONE),
    ERR("     \r\n", MC_CMD_NONE),
    ERR(" \n", MC_CMD_NONE),
    ERR("", MC_CMD_NONE),
};

/* The proxy's own policy: memcached has no such answer, so these rows are not memcached's
 * (checked against the contract in proto/mc_req.h and mc_cmd.h instead). The refused commands
 * are a cache server's administration, which the proxy does not carry: memcached 1.6.18 runs
 * them ("shutdown" "ERROR: shutdown not enabled", "watch" starts a log stream), the proxy
 * answers "ERROR". key_cap (KEY_CAP here) and
 * max_value_size (1000 here) are the proxy's limits; memcached's own item limit (-I) gives the
 * same SERVER_ERROR for a larger value. */
static const struct parse_case policy_cases[] = {
    ERR("shutdown\r\n", MC_SHUTDOWN),
    ERR("shutdown graceful\r\n", MC_SHUTDOWN),
    ERR("slabs automove 1\r\n", MC_SLABS),
    ERR("lru_crawler crawl all\r\n", MC_LRU_CRAWLER),
    ERR("lru mode flat\r\n", MC_LRU),
    ERR("watch\r\n", MC_WATCH),
    ERR("cache_memlimit 100\r\n", MC_CACHE_MEMLIMIT),
    ERR("extstore compact_under 1\r\n", MC_EXTSTORE),
    ERR("watch noreply\r\n", MC_WATCH),
    {IN("get a b c d e\r\n"), .res = MC_PARSE_TOO_MANY_KEYS, .cmd = MC_GET, .keys = "a b c d"},
    {IN("gat 1 a b c d e f\r\n"), .res = MC_PARSE_TOO_MANY_KEYS, .cmd = MC_GAT, .keys = "a b c d",
     .exptime = "1"},
    {IN("get a b c d e \x7f\r\n"), .res = MC_PARSE_TOO_MANY_KEYS, .cmd = MC_GET, .keys = "a b c d"},
    {IN("set k 0 0 1001\r\n"), .res = MC_PARSE_TOO_LARGE, .cmd = MC_SET, .keys = "k",
     .data_len = 1001},
    {IN("cas k 1 0 1001 5 noreply\r\n"), .res = MC_PARSE_TOO_LARGE, .cmd = MC_CAS, .noreply = true,
     .keys = "k", .flags = 1, .data_len = 1001, .cas = 5},
};

/* Joins the parsed keys with ' ' into out. */
static void join_keys(const uint8_t *line, const struct mc_req *req, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (uint32_t i = 0; i < req->nkeys; i++) {
        const struct mc_tok *k = &req->keys[i];

        assert_true(n + k->len + 2 <= cap);
        if (i > 0)
            out[n++] = ' ';
        memcpy(out + n, line + k->off, k->len);
        n += k->len;
        out[n] = '\0';
    }
}

/* What memcached reads of a line, as try_read_command_ascii() cuts it: the "\n" goes, a "\r"
 * before it goes unless it is the line's only byte, and the rest is a C string. */
static size_t ref_line_end(const char *in, size_t len)
{
    const char *nul;

    if (len > 0 && in[len - 1] == '\n') {
        len--;
        if (len > 1 && in[len - 1] == '\r')
            len--;
    }
    nul = memchr(in, '\0', len);
    return nul != NULL ? (size_t)(nul - in) : len;
}

static const char *result_name(enum mc_parse_result r)
{
    switch (r) {
    case MC_PARSE_OK:
        return "OK";
    case MC_PARSE_ERROR:
        return "ERROR";
    case MC_PARSE_BAD_FORMAT:
        return "BAD_FORMAT";
    case MC_PARSE_BAD_DELETE:
        return "BAD_DELETE";
    case MC_PARSE_BAD_EXPTIME:
        return "BAD_EXPTIME";
    case MC_PARSE_NO_KEYS:
        return "NO_KEYS";
    case MC_PARSE_TOO_LARGE:
        return "TOO_LARGE";
    case MC_PARSE_CLOSE:
        return "CLOSE";
    case MC_PARSE_TOO_MANY_KEYS:
        return "TOO_MANY_KEYS";
    case MC_PARSE_META_LONG:
        return "META_LONG";
    case MC_PARSE_META_BAD_KEY:
        return "META_BAD_KEY";
    }
    return "?";
}

static void check_tok(const char *what, const uint8_t *line, struct mc_tok t, const char *want)
{
    if (want == NULL) {
        if (t.len != 0)
            fail_msg("%s: got a token of %u bytes, want none", what, t.len);
        return;
    }
    assert_int_equal(t.len, strlen(want));
    assert_memory_equal(line + t.off, want, t.len);
}

/* Parses in[0, len) from an exact-size heap copy (ASan catches any read past the line; the
 * caller frees *line), with garbage everywhere the parser must write. */
static enum mc_parse_result parse_copy(const char *in, size_t len, struct mc_tok *keys,
                                       struct mc_req *req, uint8_t **line)
{
    *line = malloc(len ? len : 1);
    assert_non_null(*line);
    memcpy(*line, in, len);
    memset(req, 0xa5, sizeof(*req));
    memset(keys, 0xa5, KEY_CAP * sizeof(*keys));
    req->keys = keys;
    req->key_cap = KEY_CAP;
    return mc_req_parse_line(*line, len, &parse_limits, req);
}

static void check_parse_case(const struct parse_case *c)
{
    struct mc_tok keys[KEY_CAP];
    struct mc_req req;
    char joined[1024];
    uint8_t *line;
    enum mc_parse_result r = parse_copy(c->in, c->len, keys, &req, &line);

    if (r != c->res)
        fail_msg("\"%s\": result %s, want %s", c->in, result_name(r), result_name(c->res));
    if (req.cmd != c->cmd)
        fail_msg("\"%s\": cmd %d, want %d", c->in, req.cmd, c->cmd);
    if (req.noreply != c->noreply)
        fail_msg("\"%s\": noreply %d, want %d", c->in, req.noreply, c->noreply);
    assert_int_equal(req.line_end, ref_line_end(c->in, c->len));
    assert_int_equal(req.keys, keys);
    assert_int_equal(req.key_cap, KEY_CAP);
    if (c->cmd != MC_CMD_NONE) {
        const struct mc_cmd_info *info = mc_cmd_info(c->cmd);

        assert_int_equal(req.name.len, info->name_len);
        assert_memory_equal(line + req.name.off, info->name, info->name_len);
    }
    /* only a block that follows has a length: no stale one for the caller to swallow */
    assert_int_equal(req.data_len, c->data_len);
    if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE || r == MC_PARSE_TOO_MANY_KEYS) {
        join_keys(line, &req, joined, sizeof(joined));
        assert_string_equal(joined, c->keys != NULL ? c->keys : "");
        assert_int_equal(req.flags, c->flags);
        assert_int_equal(req.cas, c->cas);
    } else {
        assert_int_equal(req.nkeys, 0);
    }
    check_tok("exptime", line, req.exptime, c->exptime);
    check_tok("sub", line, req.sub, c->sub);
    free(line);
}

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(parse_cases); i++)
        check_parse_case(&parse_cases[i]);
}

static void test_parse_policy(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(policy_cases); i++)
        check_parse_case(&policy_cases[i]);
}

static enum mc_parse_result parse_str(const char *s, struct mc_req *req)
{
    return mc_req_parse_line((const uint8_t *)s, strlen(s), &parse_limits, req);
}

/* Keys of exactly max_key_length pass, one byte more fails, for every command with keys
 * (checked against memcached 1.6.18 with its KEY_MAX_LENGTH, 250). */
static void test_parse_key_length(void **state)
{
    /* text before and after the key */
    static const char *fmt[][2] = {
        {"get ", "\r\n"},         {"gets a ", "\r\n"}, {"gat 1 ", "\r\n"},
        {"gats 1 a ", "\r\n"},    {"bget ", " b\r\n"}, {"set ", " 0 0 5\r\n"},
        {"cas ", " 0 0 5 1\r\n"}, {"delete ", "\r\n"}, {"delete ", " 0 noreply\r\n"},
        {"incr ", " 1\r\n"},      {"decr ", " x\r\n"}, {"touch ", " 1\r\n"},
    };
    struct mc_tok keys[KEY_CAP];
    struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};
    char key[300], line[400];

    (void)state;
    for (size_t i = 0; i < NELEM(fmt); i++) {
        for (size_t n = 249; n <= 252; n++) {
            enum mc_parse_result want = n <= 250 ? MC_PARSE_OK : MC_PARSE_BAD_FORMAT;
            enum mc_parse_result r;
            bool found = false;

            memset(key, 'k', n);
            key[n] = '\0';
            snprintf(line, sizeof(line), "%s%s%s", fmt[i][0], key, fmt[i][1]);
            r = parse_str(line, &req);
            if (r != want)
                fail_msg("%s<%zu bytes>%s: %s", fmt[i][0], n, fmt[i][1], result_name(r));
            if (want == MC_PARSE_OK) {
                for (uint32_t k = 0; k < req.nkeys; k++)
                    found |= keys[k].len == n;
                assert_true(found);
            }
            /* a storage line refused: no data block follows, memcached reads it as a command */
            if (mc_cmd_info(req.cmd)->kind == MC_KIND_STORAGE)
                assert_int_equal(req.data_len, want == MC_PARSE_OK ? 5 : 0);
        }
    }
    /* a too-long key is judged before the numbers, so before the size as well */
    memset(key, 'k', 251);
    key[251] = '\0';
    snprintf(line, sizeof(line), "set %s 0 0 5000\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_BAD_FORMAT);
    assert_int_equal(req.data_len, 0);
    snprintf(line, sizeof(line), "set %s 0 0 x noreply\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_BAD_FORMAT);
    assert_true(req.noreply);
    /* but after delete's arguments and gat's exptime, as in memcached */
    snprintf(line, sizeof(line), "delete %s 1\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_BAD_DELETE);
    snprintf(line, sizeof(line), "gat x %s\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_BAD_EXPTIME);
    /* incr's delta is the server's: the key is all that is judged */
    snprintf(line, sizeof(line), "incr %s abc\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_BAD_FORMAT);
    /* retrieval: any key too long fails the whole line */
    snprintf(line, sizeof(line), "get a b %s c\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_BAD_FORMAT);
    assert_int_equal(req.nkeys, 0);
    /* the key cap is the caller's: a smaller one is honoured */
    {
        struct mc_limits lim = parse_limits;

        lim.max_key_length = 3;
        assert_int_equal(mc_req_parse_line((const uint8_t *)"get abc\r\n", 9, &lim, &req),
                         MC_PARSE_OK);
        assert_int_equal(mc_req_parse_line((const uint8_t *)"get abcd\r\n", 10, &lim, &req),
                         MC_PARSE_BAD_FORMAT);
    }
}

static void test_parse_key_cap(void **state)
{
    struct mc_tok keys[2];
    struct mc_req req = {.keys = keys, .key_cap = 0};

    (void)state;
    /* a single-key command with nowhere to put its key */
    assert_int_equal(parse_str("delete k\r\n", &req), MC_PARSE_TOO_MANY_KEYS);
    assert_int_equal(parse_str("get k\r\n", &req), MC_PARSE_TOO_MANY_KEYS);
    assert_int_equal(req.nkeys, 0);
    assert_int_equal(parse_str("set k 0 0 1\r\n", &req), MC_PARSE_TOO_MANY_KEYS);
    assert_int_equal(parse_str("version\r\n", &req), MC_PARSE_OK);
    assert_int_equal(parse_str("flush_all\r\n", &req), MC_PARSE_OK);
    /* the line's own errors come first */
    assert_int_equal(parse_str("set k 0 0 x\r\n", &req), MC_PARSE_BAD_FORMAT);
    assert_int_equal(parse_str("delete k 1\r\n", &req), MC_PARSE_BAD_DELETE);
    assert_int_equal(parse_str("gat 5\r\n", &req), MC_PARSE_NO_KEYS);
    req.key_cap = 1;
    assert_int_equal(parse_str("get a\r\n", &req), MC_PARSE_OK);
    assert_int_equal(parse_str("get a b\r\n", &req), MC_PARSE_TOO_MANY_KEYS);
    assert_int_equal(req.nkeys, 1);
    req.key_cap = 2;
    assert_int_equal(parse_str("gats 5 a b\r\n", &req), MC_PARSE_OK);
    assert_int_equal(req.nkeys, 2);
}

/* A line of ten thousand keys: offsets stay right far from the start, and keys go on past
 * the 23 tokens memcached tokenizes at once (it tokenizes the rest again). */
static void test_parse_many_keys(void **state)
{
    enum { N = 10000 };
    struct mc_tok *keys = calloc(N, sizeof(*keys));
    struct mc_req req = {.keys = keys, .key_cap = N};
    struct mc_limits lim = parse_limits;
    char *line = malloc(N * 8 + 16);
    size_t n;

    (void)state;
    assert_non_null(keys);
    assert_non_null(line);
    n = (size_t)sprintf(line, "get");
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(line + n, " k%d", i);
    n += (size_t)sprintf(line + n, "\r\n");
    lim.max_line = (uint32_t)n;
    assert_int_equal(mc_req_parse_line((uint8_t *)line, n, &lim, &req), MC_PARSE_OK);
    assert_int_equal(req.nkeys, N);
    for (int i = 0; i < N; i += 997) {
        char want[16];
        int wl = snprintf(want, sizeof(want), "k%d", i);

        assert_int_equal(keys[i].len, wl);
        assert_memory_equal(line + keys[i].off, want, (size_t)wl);
    }
    assert_int_equal(keys[N - 1].off + keys[N - 1].len, n - 2);
    req.key_cap = N - 1;
    assert_int_equal(mc_req_parse_line((uint8_t *)line, n, &lim, &req), MC_PARSE_TOO_MANY_KEYS);
    /* a key too long far down the line still fails it */
    req.key_cap = N;
    {
        size_t at = keys[5000].off;
        char *big = malloc(n + 300);

        assert_non_null(big);
        memcpy(big, line, at);
        memset(big + at, 'z', 251);
        memcpy(big + at + 251, line + at, n - at);
        assert_int_equal(mc_req_parse_line((uint8_t *)big, n + 251, &lim, &req),
                         MC_PARSE_BAD_FORMAT);
        free(big);
    }
    free(line);
    free(keys);
}

/* Offsets are 32-bit: a longer line is refused before a byte of it is read. */
static void test_parse_huge_line(void **state)
{
    struct mc_tok keys[KEY_CAP];
    struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};

    (void)state;
    if (sizeof(size_t) <= sizeof(uint32_t))
        skip();
    assert_int_equal(mc_req_parse_line((const uint8_t *)"get a\r\n", (size_t)UINT32_MAX + 1,
                                       &parse_limits, &req),
                     MC_PARSE_ERROR);
    assert_int_equal(req.cmd, MC_CMD_NONE);
}

/* The exact reply line memcached 1.6.18 gives for each local answer. */
static void test_parse_reply(void **state)
{
    static const struct {
        enum mc_parse_result r;
        const char *line;
    } want[] = {
        {MC_PARSE_OK, NULL},
        {MC_PARSE_ERROR, "ERROR\r\n"},
        {MC_PARSE_BAD_FORMAT, "CLIENT_ERROR bad command line format\r\n"},
        {MC_PARSE_BAD_DELETE,
         "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"},
        {MC_PARSE_BAD_EXPTIME, "CLIENT_ERROR invalid exptime argument\r\n"},
        {MC_PARSE_NO_KEYS, "END\r\n"},
        {MC_PARSE_TOO_LARGE, "SERVER_ERROR object too large for cache\r\n"},
        {MC_PARSE_CLOSE, NULL},
        /* the proxy's own: memcached has no key cap */
        {MC_PARSE_TOO_MANY_KEYS, "SERVER_ERROR too many keys in one request\r\n"},
        {MC_PARSE_META_LONG, "CLIENT_ERROR options flags too long\r\n"},
        {MC_PARSE_META_BAD_KEY, "CLIENT_ERROR error decoding key\r\n"},
    };
    uint32_t len;

    (void)state;
    for (size_t i = 0; i < NELEM(want); i++) {
        const char *s;

        len = 99;
        s = mc_parse_reply(want[i].r, &len);
        if (want[i].line == NULL) {
            assert_null(s);
            assert_int_equal(len, 0);
            continue;
        }
        assert_non_null(s);
        assert_string_equal(s, want[i].line);
        assert_int_equal(len, strlen(want[i].line));
    }
    len = 99;
    assert_null(mc_parse_reply((enum mc_parse_result)99, &len));
    assert_int_equal(len, 0);
    assert_null(mc_parse_reply((enum mc_parse_result)(MC_PARSE_META_BAD_KEY + 1), &len));
}

/* ---- meta commands ---- */

struct meta_case {
    const char *in;
    size_t len;
    enum mc_parse_result res;
    enum mc_cmd cmd;
    const char *key; /* the key token (NULL: none was taken) */
    bool quiet, b64;
    const char *bkey;  /* b64: what it decodes to (NULL: it does not) */
    uint64_t data_len; /* ms: the block that follows */
};

/* clang-format off */
#define META(s, c, k)             {IN(s), MC_PARSE_OK, (c), (k), false, false, NULL, 0}
#define META_Q(s, c, k)           {IN(s), MC_PARSE_OK, (c), (k), true, false, NULL, 0}
#define META_B(s, c, k, q, d)     {IN(s), MC_PARSE_OK, (c), (k), (q), true, (d), 0}
#define META_SET(s, k, q, n)      {IN(s), MC_PARSE_OK, MC_MS, (k), (q), false, NULL, (n)}
#define META_ERR(s, c, r)         {IN(s), (r), (c), NULL, false, false, NULL, 0}
/* clang-format on */

/* Each row's verdict is memcached 1.6.18's (sent to it after "mn\r\n", followed by "mn\r\n"
 * again, and for an ms by its block): an OK row reaches memcached's own judgement of its flags
 * (HD, EN, VA, or its CLIENT_ERROR for a bad flag, "invalid flag", "duplicate flag", "error
 * decoding key"; an ms then swallows its block), an error row gets mc_parse_reply()'s line and
 * no block is read. q and b are found as memcached finds flags, by their token's first byte. */
static const struct meta_case meta_cases[] = {
    META("mg k\r\n", MC_MG, "k"),
    META("mg k v f t s c k O123\r\n", MC_MG, "k"),
    META("mg  k   v \r\n", MC_MG, "k"),
    META("mg k\tq\r\n", MC_MG, "k\tq"), /* a tab is not a separator: one key */
    META_Q("mg k v q\r\n", MC_MG, "k"),
    META_Q("mg k qx\r\n", MC_MG, "k"),  /* memcached reads it as q */
    META("mg q v\r\n", MC_MG, "q"),     /* the key is the first token, whatever it says */
    META("mg k v\0 q\r\n", MC_MG, "k"), /* a NUL ends what memcached reads */
    META_ERR("mg\r\n", MC_MG, MC_PARSE_ERROR),
    META_ERR("mg \r\n", MC_MG, MC_PARSE_ERROR),
    META_ERR("md\r\n", MC_MD, MC_PARSE_ERROR),
    META_ERR("ma\r\n", MC_MA, MC_PARSE_ERROR),
    META_ERR("ms\r\n", MC_MS, MC_PARSE_ERROR),
    META_ERR("me\r\n", MC_ME, MC_PARSE_BAD_FORMAT),
    META_Q("md k q\r\n", MC_MD, "k"),
    META("md k I T30\r\n", MC_MD, "k"),
    META_Q("ma k N0 J13 v q\r\n", MC_MA, "k"),
    META("me k\r\n", MC_ME, "k"),
    META("me k q\r\n", MC_ME, "k"),  /* me has no quiet mode: "EN" comes back */
    META("me k bx\r\n", MC_ME, "k"), /* and only a lone "b" after the key */
    META("me k x b\r\n", MC_ME, "k"),
    META_B("me Zm9v b\r\n", MC_ME, "Zm9v", false, "foo"),
    META_ERR("me Zm9 b\r\n", MC_ME, MC_PARSE_BAD_FORMAT),
    META_ERR("me !!!! b\r\n", MC_ME, MC_PARSE_BAD_FORMAT),
    META_B("mg Zm9v b v\r\n", MC_MG, "Zm9v", false, "foo"),
    META_B("mg Zm9v! bx v\r\n", MC_MG, "Zm9v!", false, "foo"),    /* skipped: "!" */
    META_B("mg Zg==Zg== b k\r\n", MC_MG, "Zg==Zg==", false, "f"), /* stops at the padding */
    META_B("mg Zm9v q b\r\n", MC_MG, "Zm9v", true, "foo"),
    /* keys that do not decode: forwarded, their server says "error decoding key" (or, first,
     * "invalid flag") */
    META_B("mg !!!! b v\r\n", MC_MG, "!!!!", false, NULL),
    META_B("mg Zm9 b v\r\n", MC_MG, "Zm9", false, NULL),
    META_B("mg Zm9v==== b\r\n", MC_MG, "Zm9v====", false, NULL),
    META_B("mg Zm9=v b\r\n", MC_MG, "Zm9=v", false, NULL),
    META_B("mg !!!! zz b\r\n", MC_MG, "!!!!", false, NULL),
    /* more than 18 arguments: memcached's "options flags are too long", its own answer */
    META("mg k v v v v v v v v v v v v v v v v v v v\r\n", MC_MG, "k"),
    /* ms */
    META_SET("ms k 2\r\n", "k", false, 2),
    META_SET("ms k 2 T0 F5 q\r\n", "k", true, 2),
    META_SET("ms k 0\r\n", "k", false, 0),
    META_SET("ms k +2\r\n", "k", false, 2),
    META_SET("ms k 02\r\n", "k", false, 2),
    META_SET("ms k -0\r\n", "k", false, 0),
    META_SET("ms k 2\thi\r\n", "k", false, 2),
    META_SET("ms k 4294967298\r\n", "k", false, 2), /* read as a long, kept in 32 bits */
    META_SET("ms k 2 zz\r\n", "k", false, 2),       /* the server's: "invalid flag" */
    META_SET("ms k 2 v q q\r\n", "k", true, 2),
    META_SET("ms k 2 a c d e f g h i j k l m n o p r\r\n", "k", false, 2),
    {IN("ms Zm9v 2 b\r\n"), MC_PARSE_OK, MC_MS, "Zm9v", false, true, "foo", 2},
    {IN("ms !!!! 2 b q\r\n"), MC_PARSE_OK, MC_MS, "!!!!", true, true, NULL, 2},
    META_ERR("ms k\r\n", MC_MS, MC_PARSE_BAD_FORMAT),
    META_ERR("ms k x\r\n", MC_MS, MC_PARSE_BAD_FORMAT),
    META_ERR("ms k 2x\r\n", MC_MS, MC_PARSE_BAD_FORMAT),
    META_ERR("ms k -1\r\n", MC_MS, MC_PARSE_BAD_FORMAT),
    META_ERR("ms k 2147483647\r\n", MC_MS, MC_PARSE_BAD_FORMAT),
    META_ERR("ms k 2 a b c d e f g h i j k l m n o p q\r\n", MC_MS, MC_PARSE_META_LONG),
    META_ERR("ms k x a b c d e f g h i j k l m n o p q\r\n", MC_MS, MC_PARSE_META_LONG),
    /* over max_value_size (1000 here; memcached's own item limit gives the same) */
    {IN("ms k 1001 T0\r\n"), MC_PARSE_TOO_LARGE, MC_MS, "k", false, false, NULL, 1001},
    {IN("ms Zm9v 1001 b\r\n"), MC_PARSE_TOO_LARGE, MC_MS, "Zm9v", false, true, "foo", 1001},
    {IN("ms !!!! 1001 b\r\n"), MC_PARSE_META_BAD_KEY, MC_MS, "!!!!", false, true, NULL, 1001},
};

static void check_meta_case(const struct meta_case *c)
{
    struct mc_tok keys[KEY_CAP];
    struct mc_req req;
    uint8_t *line;
    enum mc_parse_result r = parse_copy(c->in, c->len, keys, &req, &line);

    if (r != c->res || req.cmd != c->cmd)
        fail_msg("\"%s\": result %s cmd %d, want %s %d", c->in, result_name(r), req.cmd,
                 result_name(c->res), c->cmd);
    assert_false(req.noreply);
    assert_int_equal(req.data_len, c->data_len);
    if (c->key == NULL) {
        assert_int_equal(req.nkeys, 0);
        free(line);
        return;
    }
    assert_int_equal(req.nkeys, 1);
    assert_int_equal(req.keys[0].len, strlen(c->key));
    assert_memory_equal(line + req.keys[0].off, c->key, req.keys[0].len);
    if (req.quiet != c->quiet || req.b64 != c->b64)
        fail_msg("\"%s\": quiet %d b64 %d, want %d %d", c->in, req.quiet, req.b64, c->quiet,
                 c->b64);
    {
        uint32_t rlen;
        const uint8_t *rkey = mc_req_route_key(line, &req, &rlen);
        const char *want = c->bkey != NULL ? c->bkey : c->key;

        if (c->b64)
            assert_int_equal(req.bkey_len, c->bkey != NULL ? strlen(c->bkey) : 0);
        assert_int_equal(rlen, strlen(want));
        assert_memory_equal(rkey, want, rlen);
    }
    free(line);
}

static void test_parse_meta(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(meta_cases); i++)
        check_meta_case(&meta_cases[i]);
}

/* A key of 250 bytes passes and one of 251 fails ("bad command line format") for every meta
 * command, a base64 one too (memcached judges the token, not what it decodes to); a 250-byte
 * base64 key decodes to 187 bytes. */
static void test_parse_meta_key_length(void **state)
{
    static const char *fmt[][2] = {
        {"mg ", " v\r\n"}, {"md ", " q\r\n"}, {"ma ", "\r\n"},
        {"me ", "\r\n"},   {"ms ", " 2\r\n"}, {"mg ", " b\r\n"},
    };
    struct mc_tok keys[KEY_CAP];
    struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};
    char key[300], line[400];

    (void)state;
    for (size_t i = 0; i < NELEM(fmt); i++) {
        for (size_t n = 248; n <= 252; n += 4) { /* a multiple of 4: valid base64 */
            memset(key, 'Q', n);
            key[n] = '\0';
            snprintf(line, sizeof(line), "%s%s%s", fmt[i][0], key, fmt[i][1]);
            assert_int_equal(parse_str(line, &req), n <= 250 ? MC_PARSE_OK : MC_PARSE_BAD_FORMAT);
            if (n <= 250 && req.b64)
                assert_int_equal(req.bkey_len, n / 4 * 3);
        }
    }
}

static void test_parse_uint(void **state)
{
    uint64_t v = 7;

    (void)state;
    assert_true(mc_parse_uint((const uint8_t *)"0", 1, 0, &v));
    assert_int_equal(v, 0);
    assert_false(mc_parse_uint((const uint8_t *)"1", 1, 0, &v));
    assert_true(mc_parse_uint((const uint8_t *)"255", 3, 255, &v));
    assert_int_equal(v, 255);
    assert_false(mc_parse_uint((const uint8_t *)"256", 3, 255, &v));
    assert_false(mc_parse_uint((const uint8_t *)"2550", 4, 255, &v));
    assert_true(mc_parse_uint((const uint8_t *)"18446744073709551615", 20, UINT64_MAX, &v));
    assert_int_equal(v, UINT64_MAX);
    assert_false(mc_parse_uint((const uint8_t *)"18446744073709551616", 20, UINT64_MAX, &v));
    assert_false(mc_parse_uint((const uint8_t *)"184467440737095516150", 21, UINT64_MAX, &v));
    assert_false(mc_parse_uint((const uint8_t *)"", 0, UINT64_MAX, &v));
    assert_false(mc_parse_uint((const uint8_t *)" 1", 2, UINT64_MAX, &v));
    assert_false(mc_parse_uint((const uint8_t *)"+1", 2, UINT64_MAX, &v));
    assert_false(mc_parse_uint((const uint8_t *)"1/", 2, UINT64_MAX, &v));
    assert_false(mc_parse_uint((const uint8_t *)"1:", 2, UINT64_MAX, &v));
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

static const char *short_result(enum mc_parse_result r)
{
    switch (r) {
    case MC_PARSE_OK:
        return "";
    case MC_PARSE_ERROR:
        return "!error";
    case MC_PARSE_BAD_FORMAT:
        return "!format";
    case MC_PARSE_BAD_DELETE:
        return "!delete";
    case MC_PARSE_BAD_EXPTIME:
        return "!exptime";
    case MC_PARSE_NO_KEYS:
        return "!nokeys";
    case MC_PARSE_TOO_LARGE:
        return "!large";
    case MC_PARSE_CLOSE:
        return "!close";
    case MC_PARSE_TOO_MANY_KEYS:
        return "!keys";
    case MC_PARSE_META_LONG:
        return "!metalong";
    case MC_PARSE_META_BAD_KEY:
        return "!badkey";
    }
    return "!?";
}

/* Keys the stream driver takes from a line (the proxy's own cap, TOO_MANY_KEYS past it). */
static uint32_t stream_key_cap = KEY_CAP;
#define STREAM_KEYS_MAX 256

/* Feeds stream[0, len) cut at cuts[0..ncuts) (ascending), each piece in an exact-size heap
 * copy, optionally with an empty feed before every piece. Drives the framer as the proxy core
 * does: a storage line that is OK is followed by its data block, one that is TOO_LARGE by a
 * block to swallow, any other by none (memcached reads what follows as the next command).
 * Writes a trace:
 *   <cmd>[!result]@<end of line>   a command line and how it tokenized ("-" if no command)
 *   D@<end>                        request done (a line alone, or with its block)
 *   B@<end>                        request done, its block not ended by "\r\n" (bad chunk)
 *   d@<end>                        request done, its block swallowed (not checked)
 *   E@<at>:<message>[/silent]      framing error (silent: memcached closes without a word);
 *                                  the stream stops
 *   C                              MC_PARSE_CLOSE: the caller closes; the stream stops
 *   P                              the stream ended inside a request
 */
static void run_req_stream(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts,
                           bool empty_feeds, const struct mc_limits *lim, char *out, size_t cap)
{
    struct mc_tok keys[STREAM_KEYS_MAX];
    struct mc_req req = {.keys = keys, .key_cap = stream_key_cap};
    struct mc_framer f;
    size_t abs = 0, req_start = 0;
    bool has_data = false;

    assert_true(stream_key_cap <= NELEM(keys));

    out[0] = '\0';
    mc_framer_init(&f, false);
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
        for (int first = 1;; first = 0) {
            size_t used = 99;
            enum mc_status st;

            if (first && empty_feeds)
                st = mc_framer_feed(&f, lim, NULL, 0, &used);
            else
                st = mc_framer_feed(&f, lim, buf != NULL ? buf + off : NULL, plen - off, &used);
            if (first && empty_feeds) {
                assert_int_equal(used, 0);
                if (st == MC_AGAIN)
                    continue;
                assert_int_equal(st, MC_DONE);
            }
            assert_true(used <= plen - off);
            off += used;
            abs += used;
            if (st == MC_AGAIN) {
                assert_int_equal(off, plen);
                break;
            }
            if (st == MC_ERROR) {
                assert_non_null(f.error);
                tr_add(out, cap, "E@%zu:%s%s", abs, f.error,
                       mc_framer_silent_close(&f) ? "/silent" : "");
                free(buf);
                return;
            }
            if (st == MC_DONE) {
                if (!has_data)
                    tr_add(out, cap, "D@%zu ", abs);
                else if (f.discard)
                    tr_add(out, cap, "d@%zu ", abs);
                else
                    tr_add(out, cap, "%s@%zu ", f.bad_chunk ? "B" : "D", abs);
                /* only a block's end can be a bad chunk */
                if (!has_data)
                    assert_false(f.bad_chunk);
                assert_int_equal(f.state, MC_FS_LINE);
                assert_int_equal(f.line_len, 0);
                req_start = abs;
                has_data = false;
                continue;
            }
            assert_int_equal(st, MC_LINE);
            /* the line is exactly what came since the previous request ended */
            assert_int_equal(abs - f.line_len, req_start);
            assert_int_equal(stream[abs - 1], '\n');
            {
                enum mc_parse_result r =
                    mc_req_parse_line(stream + req_start, f.line_len, lim, &req);
                const struct mc_cmd_info *info = mc_cmd_info(req.cmd);

                tr_add(out, cap, "%s%s@%zu ", info != NULL ? info->name : "-", short_result(r),
                       abs);
                if (r == MC_PARSE_CLOSE) {
                    tr_add(out, cap, "C");
                    free(buf);
                    return;
                }
                if (info == NULL ||
                    (info->kind != MC_KIND_STORAGE && info->kind != MC_KIND_META_SET))
                    continue;
                if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE || r == MC_PARSE_META_BAD_KEY) {
                    mc_framer_expect_data(&f, req.data_len, r != MC_PARSE_OK);
                    has_data = true;
                }
            }
        }
        free(buf);
    }
    if (f.state != MC_FS_LINE || f.line_len != 0)
        tr_add(out, cap, "P");
    /* drop the trailing blank */
    if (out[0] != '\0' && out[strlen(out) - 1] == ' ')
        out[strlen(out) - 1] = '\0';
}

/* Runs the stream whole, cut at every byte boundary, byte by byte (with and without empty
 * feeds) and, for short streams, cut at every pair of boundaries: all must give want. */
static void check_req_splits(const uint8_t *stream, size_t len, const struct mc_limits *lim,
                             const char *want)
{
    char got[8192];
    size_t *cuts = calloc(len + 2, sizeof(*cuts));

    assert_non_null(cuts);
    run_req_stream(stream, len, NULL, 0, false, lim, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("whole: got \"%s\", want \"%s\"", got, want);
    for (size_t k = 0; k <= len; k++) {
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
    const char *trace;
};

/* clang-format off */
#define STREAM(s, t) {(s), sizeof(s) - 1, (t)}
/* clang-format on */

/* Under small_limits (keys of 8 bytes, values of 16, lines of 64). What memcached 1.6.18 does
 * with the same bytes was checked with its own limits (a key of 251 bytes for one of 9, a value
 * over its 1 MB for one over 16): the same replies, in the same places, for the same requests
 * (a bad chunk: "CLIENT_ERROR bad data chunk", then the bytes after the block are the next
 * command). The refused commands excepted ("mn", "shutdown": see policy_cases), and the
 * proxy's key cap ("get a b c d e": memcached has none). */
static const struct stream_case stream_cases[] = {
    STREAM("", ""),
    STREAM("get a\r\n", "get@7 D@7"),
    STREAM("get a\n", "get@6 D@6"),
    STREAM("get a", "P"),
    STREAM("get a\r", "P"),
    STREAM("set k 0 0 5\r\nhello\r\n", "set@13 D@20"),
    STREAM("set k 0 0 5 noreply\nhello\r\n", "set@20 D@27"),
    /* data blocks may hold "\r\n", "\n", NUL and any other byte */
    STREAM("set k 0 0 6\r\na\r\nb\r\n\r\n", "set@13 D@21"),
    STREAM("set k 0 0 4\r\n\r\n\r\n\r\n", "set@13 D@19"),
    STREAM("set k 0 0 4\r\n\0\n\r\xff\r\n", "set@13 D@19"),
    STREAM("cas \xfe\x80 1 2 3 4\r\nget\r\n\r\n", "cas@16 D@21 -!error@23 D@23"),
    STREAM("set k 0 0 0\r\n\r\n", "set@13 D@15"),
    STREAM("set k 0 0 5\r\nhel", "set@13 P"),
    STREAM("set k 0 0 5\r\nhello\r", "set@13 P"),
    /* a block is its length and two more bytes, whatever they are; when they are not "\r\n"
     * the request is a bad chunk and what follows them is the next command */
    STREAM("set k 0 0 3\r\nabcd\r\n", "set@13 B@18 -!error@19 D@19"),
    STREAM("set k 0 0 3\r\nabc\rx", "set@13 B@18"),
    STREAM("set k 0 0 3\r\nabcx\n", "set@13 B@18"),
    STREAM("set k 0 0 3\r\nabc\n", "set@13 P"),
    STREAM("set k 0 0 0\r\n\n", "set@13 P"),
    STREAM("set k 0 0 0\r\n\nx", "set@13 B@15"),
    STREAM("set k 0 0 1\r\nxyzget a\r\n", "set@13 B@16 get@23 D@23"),
    STREAM("set k 0 0 1 noreply\r\nxyz\r\n", "set@21 B@24 -!error@26 D@26"),
    STREAM("set k 0 0 2\r\nab\r\nset k 0 0 2\r\nab\n\nget a\r\n",
           "set@13 D@17 set@30 B@34 get@41 D@41"),
    /* oversized value: the block is swallowed, whatever its last two bytes */
    STREAM("set k 0 0 17\r\n12345678901234567\r\nget a\r\n", "set!large@14 d@33 get@40 D@40"),
    STREAM("set k 0 0 17\r\n12345678901234567XYget a\r\n", "set!large@14 d@33 get@40 D@40"),
    STREAM("set k 0 0 16\r\n1234567890123456\r\n", "set@14 D@32"),
    /* a refused storage line has no block: memcached reads it as commands */
    STREAM("set 123456789 0 0 2\r\nab\r\nget 12345678\r\n",
           "set!format@21 D@21 -!error@25 D@25 get@39 D@39"),
    STREAM("set k 0 0 x\r\nabc\r\n", "set!format@13 D@13 -!error@18 D@18"),
    STREAM("set k 0 0 -1\r\nget a\r\n", "set!format@14 D@14 get@21 D@21"),
    STREAM("set k 0 0\r\nabc\r\n", "set!error@11 D@11 -!error@16 D@16"),
    STREAM("set k 0 0 2 x y\r\nab\r\n", "set!error@17 D@17 -!error@21 D@21"),
    STREAM("set k 0 0 noreply\r\nget a\r\n", "set!format@19 D@19 get@26 D@26"),
    STREAM("set k 0 0 2\0 3\r\nab\r\n", "set@16 D@20"),
    STREAM("get 123456789\r\ndelete k\r\n", "get!format@15 D@15 delete@25 D@25"),
    /* errors that leave the stream in step */
    STREAM("foo bar\r\nget a\r\n", "-!error@9 D@9 get@16 D@16"),
    STREAM("\r\nget a\r\n", "-!error@2 D@2 get@9 D@9"),
    STREAM("\n\n\n", "-!error@1 D@1 -!error@2 D@2 -!error@3 D@3"),
    STREAM("incr k x\r\nget a b c d e\r\n", "incr@10 D@10 get!keys@25 D@25"),
    STREAM("delete k 1\r\ngat 1\r\ngat x k\r\n",
           "delete!delete@12 D@12 gat!nokeys@19 D@19 gat!exptime@28 D@28"),
    STREAM("mn\r\nshutdown\r\n", "mn@4 D@4 shutdown!error@14 D@14"),
    /* meta: ms is followed by its block unless its line fails before the data length is read
     * (a key too long, a length missing or bad, too many flags); a too large one swallows */
    STREAM("ms k 2 T0 q\r\nab\r\nmg k v\r\nmn\r\n", "ms@13 D@17 mg@25 D@25 mn@29 D@29"),
    STREAM("ms k 2\r\nabX\r\n", "ms@8 B@12 -!error@13 D@13"),
    STREAM("ms k 17\r\n12345678901234567\r\nmn\r\n", "ms!large@9 d@28 mn@32 D@32"),
    STREAM("ms !!!! 17 b\r\n12345678901234567\r\nmn\r\n", "ms!badkey@14 d@33 mn@37 D@37"),
    STREAM("ms 123456789 2\r\nab\r\n", "ms!format@16 D@16 -!error@20 D@20"),
    STREAM("ms k x\r\nab\r\n", "ms!format@8 D@8 -!error@12 D@12"),
    STREAM("ms k\r\nab\r\n", "ms!format@6 D@6 -!error@10 D@10"),
    STREAM("ms k 1 a b c d e f g h i j k l m n o p q\r\nx\r\n",
           "ms!metalong@42 D@42 -!error@45 D@45"),
    STREAM("ms k 0\r\n\r\nmd k q\r\nma k\r\nme k\r\n",
           "ms@8 D@10 md@18 D@18 ma@24 D@24 me@30 D@30"),
    /* an HTTP request line: the connection closes, what follows is never read */
    STREAM("get a\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "get@7 D@7 -!close@23 C"),
    /* pipelined */
    STREAM("get a\r\nset k 0 0 1\r\nx\r\ndelete k\r\nincr n 5 noreply\r\nget a b c\r\n",
           "get@7 D@7 set@20 D@23 delete@33 D@33 incr@51 D@51 get@62 D@62"),
    STREAM("set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nset c 0 0 1\r\n3\r\n",
           "set@13 D@16 set@29 D@32 set@45 D@48"),
    STREAM("version\r\nstats\r\nflush_all\r\nverbosity 1\r\nquit\r\n",
           "version@9 D@9 stats@16 D@16 flush_all@27 D@27 verbosity@40 D@40 quit@46 D@46"),
};

static void test_framer_streams(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(stream_cases); i++) {
        const struct stream_case *c = &stream_cases[i];

        check_req_splits((const uint8_t *)c->in, c->len, &small_limits, c->trace);
    }
}

/* Lines of max_line - 1, max_line and max_line + 1 bytes, with either terminator; max_line is
 * under MC_PLAIN_LINE_MAX, so it is the cap of every line, a get's (said) or another's
 * (silent). */
static void test_framer_line_cap(void **state)
{
    const uint32_t max = small_limits.max_line;
    struct mc_limits lim = small_limits;
    static const char *heads[] = {"get ", "set ", "gets ", "xxxx"};
    uint8_t line[200];
    char want[128];

    (void)state;
    lim.max_key_length = 250;
    for (size_t h = 0; h < NELEM(heads); h++) {
        const char *head = heads[h];
        const size_t hl = strlen(head);
        const char *silent = memcmp(head, "get", 3) == 0 ? "" : "/silent";

        for (int crlf = 0; crlf < 2; crlf++) {
            for (uint32_t n = max - 2; n <= max + 2; n++) {
                size_t term = crlf ? 2 : 1;
                static const char *names[] = {"get", "set!error", "gets", "-!error"};
                const char *name = names[h];

                memcpy(line, head, hl);
                memset(line + hl, 'k', n - hl - term);
                memcpy(line + n - term, crlf ? "\r\n" : "\n", term);
                if (n <= max)
                    snprintf(want, sizeof(want), "%s@%u D@%u", name, n, n);
                else
                    snprintf(want, sizeof(want), "E@%u:line too long%s", max, silent);
                check_req_splits(line, n, &lim, want);
                /* the same bytes without the terminator: no verdict until the cap is passed */
                if (n - term <= max)
                    snprintf(want, sizeof(want), "P");
                else
                    snprintf(want, sizeof(want), "E@%u:line too long%s", max, silent);
                check_req_splits(line, n - term, &lim, want);
                /* the cap is per line: a second line of the same size is fine too */
                memcpy(line + n, line, n);
                if (n <= max)
                    snprintf(want, sizeof(want), "%s@%u D@%u %s@%u D@%u", name, n, n, name, 2 * n,
                             2 * n);
                else
                    snprintf(want, sizeof(want), "E@%u:line too long%s", max, silent);
                check_req_splits(line, 2 * n, &lim, want);
            }
        }
    }
    /* a data block is not a line: it may be far longer than max_line */
    {
        uint8_t s[300];
        int n = snprintf((char *)s, sizeof(s), "set k 0 0 200\r\n");

        memset(s + n, '\n', 200);
        memcpy(s + n + 200, "\r\n", 2);
        lim.max_value_size = 200;
        snprintf(want, sizeof(want), "set@%d D@%d", n, n + 202);
        check_req_splits(s, (size_t)n + 202, &lim, want);
    }
}

/* Long streams: whole, byte by byte, and cut once at every boundary near the start, near
 * each of the given points and every 509 bytes elsewhere (every boundary would be too slow). */
static void check_req_some_splits(const uint8_t *stream, size_t len, const struct mc_limits *lim,
                                  const size_t *near, size_t nnear, const char *want)
{
    char got[8192];
    size_t *cuts = calloc(len + 2, sizeof(*cuts));

    assert_non_null(cuts);
    run_req_stream(stream, len, NULL, 0, false, lim, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("whole: got \"%s\", want \"%s\"", got, want);
    for (size_t k = 0; k <= len; k++) {
        bool pick = k < 128 || k % 509 == 0 || k + 4 > len;

        for (size_t i = 0; i < nnear && !pick; i++)
            pick = k + 4 > near[i] && k < near[i] + 4;
        if (!pick)
            continue;
        cuts[0] = k;
        run_req_stream(stream, len, cuts, 1, k % 2 == 1, lim, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("cut at %zu: got \"%s\", want \"%s\"", k, got, want);
    }
    for (size_t k = 0; k + 1 < len; k++)
        cuts[k] = k + 1;
    run_req_stream(stream, len, cuts, len > 0 ? len - 1 : 0, false, lim, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("byte by byte: got \"%s\", want \"%s\"", got, want);
    free(cuts);
}

/* memcached (try_read_command_ascii) closes without a word a connection whose buffer holds
 * more than MC_PLAIN_LINE_WAIT bytes and no newline, unless they start, after at most 100
 * spaces, with "get " or "gets " (a long multi-get); its buffer is 16 KiB, so a longer line of
 * another command is never answered. The framer takes such a line up to MC_PLAIN_LINE_MAX
 * bytes, newline included, whatever its split: what memcached answers when the line comes in
 * one read (the wait is mc_framer_line_overdue(), below). A get or gets may go on to max_line,
 * past which it is answered "line too long". Checked against memcached 1.6.18, each line in
 * one write: "stats" and 16378 spaces then "\n" (16384 bytes) is answered, one byte more
 * closes silently; a get of 40000 bytes is answered. */
static void test_framer_plain_line_max(void **state)
{
    const struct mc_limits lim = {
        .max_key_length = 250, .max_value_size = 1000, .max_line = 2 * MC_PLAIN_LINE_MAX};
    const size_t cap = MC_PLAIN_LINE_MAX; /* the newline included */
    static const struct {
        const char *head;
        size_t spaces; /* before head */
        bool get;      /* may go on past MC_PLAIN_LINE_MAX */
        const char *name;
    } heads[] = {
        {"get ", 0, true, "get"},          {"gets ", 0, true, "gets"},
        {"get ", 100, true, "get"},        {"gets ", 100, true, "gets"},
        {"get ", 101, false, "get"},       {"gat 1 ", 0, false, "gat"},
        {"gats 1 ", 0, false, "gats"},     {"bget ", 0, false, "bget"},
        {"get\tx ", 0, false, "-!error"},  {"getx ", 0, false, "-!error"},
        {"stats ", 0, false, "stats"},     {"stats ", 100, false, "stats"},
        {"version ", 0, false, "version"}, {"x ", 101, false, "-!error"},
    };
    uint8_t *line = malloc(lim.max_line + 16);
    char want[128];

    (void)state;
    assert_non_null(line);
    stream_key_cap = 256; /* a long get has many keys: they are not the point here */
    for (size_t h = 0; h < NELEM(heads); h++) {
        const size_t sizes[] = {2049, 2050, cap - 1, cap, cap + 1, lim.max_line, lim.max_line + 1};

        for (size_t s = 0; s < NELEM(sizes); s++) {
            for (int crlf = 0; crlf < 2; crlf++) {
                const size_t n = sizes[s], term = crlf ? 2 : 1;
                const size_t limit = heads[h].get ? lim.max_line : cap;
                const size_t near[] = {limit};
                size_t at = heads[h].spaces;

                /* spaces, the head, then keys of 200 bytes (short enough to be keys) */
                memset(line, ' ', at);
                memcpy(line + at, heads[h].head, strlen(heads[h].head));
                at += strlen(heads[h].head);
                for (size_t i = at; i < n - term; i++)
                    line[i] = (i - at) % 201 == 200 ? ' ' : 'k';
                memcpy(line + n - term, crlf ? "\r\n" : "\n", term);
                if (n <= limit)
                    snprintf(want, sizeof(want), "%s@%zu D@%zu", heads[h].name, n, n);
                else
                    snprintf(want, sizeof(want), "E@%zu:line too long%s", limit,
                             heads[h].get ? "" : "/silent");
                check_req_some_splits(line, n, &lim, near, NELEM(near), want);
            }
        }
    }
    /* what makes a get is the line's own start: a long line after a block is judged alone */
    {
        size_t n = (size_t)snprintf((char *)line, 64, "set k 0 0 2\r\nab\r\n");
        const size_t from = n, near[] = {from + cap};

        memcpy(line + n, "get ", 4);
        n += 4;
        memset(line + n, 'k', 200);
        n += 200;
        while (n < from + cap + 100) {
            line[n++] = ' ';
            memset(line + n, 'k', 100);
            n += 100;
        }
        line[n++] = '\n';
        snprintf(want, sizeof(want), "set@13 D@17 get@%zu D@%zu", n, n);
        check_req_some_splits(line, n, &lim, near, NELEM(near), want);
        memcpy(line + from, "set ", 4);
        snprintf(want, sizeof(want), "set@13 D@17 E@%zu:line too long/silent", from + cap);
        check_req_some_splits(line, n, &lim, near, NELEM(near), want);
    }
    stream_key_cap = KEY_CAP;
    free(line);
}

/* memcached's other rule: a line that is not a get or gets, with more than MC_PLAIN_LINE_WAIT
 * bytes in its buffer and no newline yet, closes the connection without a word (checked
 * against memcached 1.6.18: "stats" and spaces, 2049 bytes sent, then "\n" in a second write,
 * is closed; 2048 bytes then "\n" is answered). The proxy asks at the end of each receive. */
static void test_framer_line_overdue(void **state)
{
    const struct mc_limits lim = {
        .max_key_length = 250, .max_value_size = 1000, .max_line = 2 * MC_PLAIN_LINE_MAX};
    static const struct {
        const char *head;
        size_t spaces;
        bool get;
    } heads[] = {
        {"stats ", 0, false}, {"get ", 0, true},  {"gets ", 100, true}, {"get ", 101, false},
        {"gat 1 ", 0, false}, {"xyz ", 0, false}, {"set k ", 0, false},
    };
    const size_t n = MC_PLAIN_LINE_WAIT + 300;
    static const size_t steps[] = {1, 7, 500};
    uint8_t *line = malloc(n + 1);

    (void)state;
    assert_non_null(line);
    for (size_t h = 0; h < NELEM(heads); h++) {
        size_t at = heads[h].spaces;

        memset(line, ' ', at);
        memcpy(line + at, heads[h].head, strlen(heads[h].head));
        at += strlen(heads[h].head);
        for (size_t i = at; i < n; i++)
            line[i] = (i - at) % 201 == 200 ? ' ' : 'k';
        line[n] = '\n';
        /* the line in pieces of 1, 7 and 500 bytes: overdue once past the wait, never a get */
        for (size_t s = 0; s < NELEM(steps); s++) {
            const size_t step = steps[s];
            struct mc_framer f;
            size_t fed = 0, used;

            mc_framer_init(&f, false);
            assert_false(mc_framer_line_overdue(&f));
            while (fed < n) {
                size_t piece = n - fed < step ? n - fed : step;

                assert_int_equal(mc_framer_feed(&f, &lim, line + fed, piece, &used), MC_AGAIN);
                fed += used;
                assert_int_equal(mc_framer_line_overdue(&f),
                                 !heads[h].get && fed > MC_PLAIN_LINE_WAIT);
            }
            /* the newline ends it: a whole line is never overdue, nor what follows it */
            assert_int_equal(mc_framer_feed(&f, &lim, line + n, 1, &used), MC_LINE);
            assert_false(mc_framer_line_overdue(&f));
            assert_int_equal(mc_framer_feed(&f, &lim, line, 0, &used), MC_DONE);
            assert_false(mc_framer_line_overdue(&f));
        }
    }
    /* a data block is not a line, however long and whatever it holds */
    {
        struct mc_framer f;
        size_t used;
        uint8_t *block = malloc(3000);

        assert_non_null(block);
        memset(block, 'x', 3000);
        mc_framer_init(&f, false);
        assert_int_equal(mc_framer_feed(&f, &lim, (const uint8_t *)"set k 0 0 3000\r\n", 16, &used),
                         MC_LINE);
        mc_framer_expect_data(&f, 3000, false);
        assert_int_equal(mc_framer_feed(&f, &lim, block, 3000, &used), MC_AGAIN);
        assert_false(mc_framer_line_overdue(&f));
        free(block);
    }
    free(line);
}

/* After "line too long" the framer's state is the same however the line was split (found by
 * fuzz_mc_split: the whole-buffer path left line_len behind). */
static void test_framer_line_cap_state_split_independent(void **state)
{
    struct mc_limits lim = small_limits;
    const uint32_t max = lim.max_line;
    uint8_t line[200];

    (void)state;
    for (int get = 0; get < 2; get++) {
        memset(line, 'x', max + 5);
        if (get)
            memcpy(line, "get ", 4);
        line[max + 5] = '\n';
        for (size_t cut = 0; cut <= max + 6; cut++) {
            struct mc_framer f;
            size_t used = 0, at = 0;
            enum mc_status st = MC_AGAIN;

            mc_framer_init(&f, false);
            if (cut > 0) {
                st = mc_framer_feed(&f, &lim, line, cut, &used);
                at = used;
            }
            if (st == MC_AGAIN) {
                st = mc_framer_feed(&f, &lim, line + at, max + 6 - at, &used);
                at += used;
            }
            assert_int_equal(st, MC_ERROR);
            assert_int_equal(at, max);
            assert_int_equal(f.line_len, max);
            assert_int_equal(mc_framer_silent_close(&f), !get);
        }
    }
}

/* The framer contract step by step, without the driver. */
static void test_framer_api(void **state)
{
    const struct mc_limits *lim = &small_limits;
    struct mc_framer f;
    size_t used;

    (void)state;
    mc_framer_init(&f, true);
    assert_true(f.discard);
    assert_true(f.lenient);
    assert_false(f.bad_chunk);
    assert_int_equal(f.state, MC_FS_LINE);
    assert_null(f.error);
    assert_int_equal(mc_framer_feed(&f, lim, NULL, 0, &used), MC_AGAIN);
    assert_int_equal(used, 0);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"get", 3, &used), MC_AGAIN);
    assert_int_equal(used, 3);
    assert_int_equal(f.line_len, 3);
    /* the line ends in the second buffer; what follows it is not consumed */
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)" a\r\nget", 7, &used), MC_LINE);
    assert_int_equal(used, 4);
    assert_int_equal(f.line_len, 7);
    assert_int_equal(f.state, MC_FS_LINE_DONE);
    /* no data block asked for: DONE at once, nothing consumed, ready for the next line */
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"get", 3, &used), MC_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(f.state, MC_FS_LINE);
    assert_int_equal(f.line_len, 0);
    assert_false(f.bad_chunk);

    /* a data block, told to be discarded */
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"set k 0 0 2\r\n", 13, &used),
                     MC_LINE);
    assert_int_equal(used, 13);
    mc_framer_expect_data(&f, 2, true);
    assert_int_equal(f.state, MC_FS_DATA);
    assert_int_equal(f.data_left, 2);
    assert_true(f.discard);
    assert_int_equal(mc_framer_feed(&f, lim, NULL, 0, &used), MC_AGAIN);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"a", 1, &used), MC_AGAIN);
    assert_int_equal(f.data_left, 1);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"b\r", 2, &used), MC_AGAIN);
    assert_int_equal(f.state, MC_FS_DATA_LF);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"\nquit\r\n", 7, &used), MC_DONE);
    assert_int_equal(used, 1);
    assert_true(f.discard);
    assert_false(f.bad_chunk);
    assert_int_equal(f.state, MC_FS_LINE);

    /* a block forwarded as is */
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"set k 0 0 1\r\nx\r\n", 16, &used),
                     MC_LINE);
    mc_framer_expect_data(&f, 1, false);
    assert_false(f.discard);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"x\r\n", 3, &used), MC_DONE);
    assert_int_equal(used, 3);
    assert_false(f.bad_chunk);

    /* a block not ended by "\r\n" ends all the same, two bytes after its data; bad_chunk says
     * so until the next line starts */
    mc_framer_init(&f, false);
    assert_false(f.discard);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"set k 0 0 1\r\nxy", 15, &used),
                     MC_LINE);
    assert_int_equal(used, 13);
    mc_framer_expect_data(&f, 1, false);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"xy", 2, &used), MC_AGAIN);
    assert_int_equal(used, 2);
    assert_int_equal(f.state, MC_FS_DATA_LF);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"\nget a\r\n", 8, &used), MC_DONE);
    assert_int_equal(used, 1);
    assert_true(f.bad_chunk);
    assert_null(f.error);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"get a\r\n", 7, &used), MC_LINE);
    assert_false(f.bad_chunk);
    assert_int_equal(mc_framer_feed(&f, lim, NULL, 0, &used), MC_DONE);
    /* "\r" then not "\n" is as bad */
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"set k 0 0 1\r\n", 13, &used),
                     MC_LINE);
    mc_framer_expect_data(&f, 1, false);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"x\rx", 3, &used), MC_DONE);
    assert_true(f.bad_chunk);
    /* a new block starts good */
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"set k 0 0 1\r\n", 13, &used),
                     MC_LINE);
    mc_framer_expect_data(&f, 1, false);
    assert_false(f.bad_chunk);

    /* errors name their cause */
    mc_framer_init(&f, false);
    {
        uint8_t big[100];

        memset(big, 'a', sizeof(big));
        assert_int_equal(mc_framer_feed(&f, lim, big, sizeof(big), &used), MC_ERROR);
        assert_int_equal(used, lim->max_line);
        assert_string_equal(f.error, "line too long");
        assert_true(mc_framer_silent_close(&f));
        mc_framer_init(&f, false);
        memcpy(big, "gets ", 5);
        assert_int_equal(mc_framer_feed(&f, lim, big, sizeof(big), &used), MC_ERROR);
        assert_int_equal(used, lim->max_line);
        assert_string_equal(f.error, "line too long");
        assert_false(mc_framer_silent_close(&f));
    }
    /* a zero cap refuses every line */
    {
        struct mc_limits zero = *lim;

        zero.max_line = 0;
        mc_framer_init(&f, false);
        assert_int_equal(mc_framer_feed(&f, &zero, NULL, 0, &used), MC_AGAIN);
        assert_int_equal(mc_framer_feed(&f, &zero, (const uint8_t *)"\n", 1, &used), MC_ERROR);
        assert_int_equal(used, 0);
    }
}

/* Tiny deterministic generator so that failures reproduce. */
static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Thousands of mixed requests in one buffer, fed whole, in random pieces and byte by byte:
 * every request is seen once, in order, with the right command, key and outcome. */
static void test_framer_pipeline(void **state)
{
    enum { N = 3000 };
    /* each request is pat[0] "key<i>" pat[1] */
    static const struct {
        const char *head, *tail;
        enum mc_parse_result r;
        bool bad_chunk;
    } pat[] = {
        {"get ", "\r\n", MC_PARSE_OK, false},
        {"gets ", " a b\r\n", MC_PARSE_OK, false},
        {"set ", " 1 0 10 noreply\r\n0123\r\n6789\r\n", MC_PARSE_OK, false},
        {"cas ", " 1 0 3 99\r\n\x01\xff\n\r\n", MC_PARSE_OK, false},
        {"delete ", "\n", MC_PARSE_OK, false},
        {"incr ", " 7\r\n", MC_PARSE_OK, false},
        {"touch ", " 10\r\n", MC_PARSE_OK, false},
        {"gat 5 ", "\r\n", MC_PARSE_OK, false},
        {"set ", " 0 0 20\r\n01234567890123456789\r\n", MC_PARSE_TOO_LARGE, false},
        {"append ", " 0 0 2\r\nabcd", MC_PARSE_OK, true},
        {"delete ", " 1\r\n", MC_PARSE_BAD_DELETE, false},
        {"prepend ", " 0 0 -2\r\n", MC_PARSE_BAD_FORMAT, false},
    };
    struct mc_limits lim = {.max_key_length = 250, .max_value_size = 16, .max_line = 64};
    size_t cap = N * 64, len = 0;
    uint8_t *stream = malloc(cap);
    unsigned *which = malloc(N * sizeof(*which));
    size_t *cuts = malloc((cap + 1) * sizeof(*cuts));
    uint32_t seed = 12345;

    (void)state;
    assert_non_null(stream);
    assert_non_null(which);
    assert_non_null(cuts);
    for (unsigned i = 0; i < N; i++) {
        char tmp[128];
        unsigned p = rng_next(&seed) % NELEM(pat);
        int n = snprintf(tmp, sizeof(tmp), "%skey%u%s", pat[p].head, i, pat[p].tail);

        memcpy(stream + len, tmp, (size_t)n);
        len += (size_t)n;
        which[i] = p;
    }
    for (int mode = 0; mode < 4; mode++) {
        struct mc_tok keys[KEY_CAP];
        struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};
        struct mc_framer f;
        size_t ncuts = 0, abs = 0, start = 0;
        unsigned seen = 0, done = 0;

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
        mc_framer_init(&f, false);
        for (size_t piece = 0; piece <= ncuts; piece++) {
            size_t to = piece == ncuts ? len : cuts[piece];

            while (abs < to || f.state == MC_FS_LINE_DONE) {
                size_t used;
                enum mc_status st = mc_framer_feed(&f, &lim, stream + abs, to - abs, &used);

                abs += used;
                if (st == MC_AGAIN)
                    break;
                assert_int_not_equal(st, MC_ERROR);
                if (st == MC_DONE) {
                    /* the request that just ended is the one last seen */
                    assert_true(seen > 0);
                    assert_int_equal(f.bad_chunk && !f.discard, pat[which[seen - 1]].bad_chunk);
                    done++;
                    start = abs;
                    continue;
                }
                {
                    enum mc_parse_result r =
                        mc_req_parse_line(stream + start, f.line_len, &lim, &req);
                    char want[32];
                    int wl = snprintf(want, sizeof(want), "key%u", seen);
                    size_t at = (size_t)(strlen(pat[which[seen]].head));

                    assert_true(seen < N);
                    assert_int_equal(r, pat[which[seen]].r);
                    /* the key is where it was written, whether or not it was taken */
                    assert_memory_equal(stream + start + at, want, (size_t)wl);
                    if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE) {
                        assert_int_equal(keys[0].len, wl);
                        assert_int_equal(keys[0].off, at);
                    }
                    if (mc_cmd_info(req.cmd)->kind == MC_KIND_STORAGE &&
                        (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE))
                        mc_framer_expect_data(&f, req.data_len, r != MC_PARSE_OK);
                    seen++;
                }
            }
        }
        assert_int_equal(seen, N);
        assert_int_equal(done, N);
        assert_int_equal(abs, len);
        assert_int_equal(f.state, MC_FS_LINE);
        assert_int_equal(f.line_len, 0);
    }
    free(cuts);
    free(which);
    free(stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_table),
        cmocka_unit_test(test_cmd_lookup_near_misses),
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_policy),
        cmocka_unit_test(test_parse_key_length),
        cmocka_unit_test(test_parse_key_cap),
        cmocka_unit_test(test_parse_many_keys),
        cmocka_unit_test(test_parse_huge_line),
        cmocka_unit_test(test_parse_reply),
        cmocka_unit_test(test_parse_meta),
        cmocka_unit_test(test_parse_meta_key_length),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_framer_streams),
        cmocka_unit_test(test_framer_line_cap),
        cmocka_unit_test(test_framer_plain_line_max),
        cmocka_unit_test(test_framer_line_overdue),
        cmocka_unit_test(test_framer_line_cap_state_split_independent),
        cmocka_unit_test(test_framer_api),
        cmocka_unit_test(test_framer_pipeline),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

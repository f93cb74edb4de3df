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
        if (info->kind == MC_KIND_RETRIEVAL)
            assert_int_equal(info->max_args, -1);
        else
            assert_true(info->max_args >= 0);
    }
    assert_int_equal(mc_cmd_info(MC_GAT)->key_index, 1);
    assert_int_equal(mc_cmd_info(MC_SET)->kind, MC_KIND_STORAGE);
    assert_int_equal(mc_cmd_info(MC_FLUSH_ALL)->kind, MC_KIND_BROADCAST);
    assert_string_equal(mc_cmd_info(MC_FLUSH_ALL)->name, "flush_all");
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
    static const char *extra[] = {"",           "g",        "ge",   "GET",   "Get",
                                  "gett",       "xet",      "sat",  "gets ", "flush_al",
                                  "flush_alll", "verbosit", "stat", "mg",    "FLUSH_ALL"};
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
    /* get/gat, get/set and gets/gats, both ways */
    assert_int_equal(spelled_other, 6);
    assert_int_equal(mc_cmd_lookup("gets", 4), MC_GETS);
    assert_int_equal(mc_cmd_lookup("gats", 4), MC_GATS);
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
    uint64_t data_len;
    uint64_t cas;
    uint64_t delta;
    const char *exptime; /* gat/gats */
};

#define IN(s) .in = (s), .len = sizeof(s) - 1

/* clang-format off */
#define OK(s, c, k) {IN(s), .res = MC_PARSE_OK, .cmd = (c), .keys = (k)}
#define BAD(s, c)   {IN(s), .res = MC_PARSE_BAD_FORMAT, .cmd = (c)}
/* clang-format on */

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
    OK("get \x80\xff\xfe~ !x\r\n", MC_GET, "\x80\xff\xfe~ !x"),
    OK("get a\xc3\xa9\r\n", MC_GET, "a\xc3\xa9"),
    {IN("gat 100 a b\r\n"), .cmd = MC_GAT, .keys = "a b", .exptime = "100"},
    {IN("gats -1 a\r\n"), .cmd = MC_GATS, .keys = "a", .exptime = "-1"},
    {IN("gat 0 k noreply\r\n"), .cmd = MC_GAT, .keys = "k noreply", .exptime = "0"},
    {IN("get a b c d e\r\n"), .res = MC_PARSE_TOO_MANY_KEYS, .cmd = MC_GET, .keys = "a b c d"},
    {IN("gat 1 a b c d e f\r\n"), .res = MC_PARSE_TOO_MANY_KEYS, .cmd = MC_GAT, .keys = "a b c d",
     .exptime = "1"},
    BAD("get\r\n", MC_GET),
    BAD("get   \r\n", MC_GET),
    BAD("gets\n", MC_GETS),
    OK("get a\tb\r\n", MC_GET, "a\tb"), /* memcached splits on spaces only */
    OK("get a\r\r\n", MC_GET, "a\r"),
    OK("get a\x7f\r\n", MC_GET, "a\x7f"),
    OK("get a\x01\r\n", MC_GET, "a\x01"),
    BAD("get a\0b\r\n", MC_GET),
    {IN("get a b c d e \x7f\r\n"), .res = MC_PARSE_TOO_MANY_KEYS, .cmd = MC_GET, .keys = "a b c d"},
    BAD("gat 10\r\n", MC_GAT),
    BAD("gat\r\n", MC_GAT),
    BAD("gat x a\r\n", MC_GAT),
    BAD("gat +1 a\r\n", MC_GAT),
    BAD("gat 2147483648 a\r\n", MC_GAT),
    BAD("gats 99999999999999999999999 a\r\n", MC_GATS),
    /* storage */
    {IN("set k 5 0 10\r\n"), .cmd = MC_SET, .keys = "k", .flags = 5, .data_len = 10},
    {IN("set k 5 0 10\n"), .cmd = MC_SET, .keys = "k", .flags = 5, .data_len = 10},
    {IN("set  k  5  0  10  \r\n"), .cmd = MC_SET, .keys = "k", .flags = 5, .data_len = 10},
    {IN("set k 4294967295 -1 0 noreply\r\n"), .cmd = MC_SET, .noreply = true, .keys = "k",
     .flags = 4294967295u},
    {IN("add k 1 2 3\r\n"), .cmd = MC_ADD, .keys = "k", .flags = 1, .data_len = 3},
    {IN("replace k 1 2 3 noreply\r\n"), .cmd = MC_REPLACE, .noreply = true, .keys = "k", .flags = 1,
     .data_len = 3},
    {IN("append \xff\x80 0 0 1\r\n"), .cmd = MC_APPEND, .keys = "\xff\x80", .data_len = 1},
    {IN("prepend k 0 0 0\r\n"), .cmd = MC_PREPEND, .keys = "k"},
    {IN("set k 0 2147483647 1\r\n"), .cmd = MC_SET, .keys = "k", .data_len = 1},
    {IN("set k 0 -2147483648 1\r\n"), .cmd = MC_SET, .keys = "k", .data_len = 1},
    {IN("set k 0 0 00012\r\n"), .cmd = MC_SET, .keys = "k", .data_len = 12},
    {IN("set k 0 0 1000\r\n"), .cmd = MC_SET, .keys = "k", .data_len = 1000},
    {IN("set k 0 0 1001\r\n"), .res = MC_PARSE_TOO_LARGE, .cmd = MC_SET, .keys = "k",
     .data_len = 1001},
    {IN("set k 0 0 4294967295 noreply\r\n"), .res = MC_PARSE_TOO_LARGE, .cmd = MC_SET,
     .noreply = true, .keys = "k", .data_len = 4294967295u},
    {IN("cas k 0 0 3 18446744073709551615\r\n"), .cmd = MC_CAS, .keys = "k", .data_len = 3,
     .cas = UINT64_MAX},
    {IN("cas k 7 0 3 7 noreply\r\n"), .cmd = MC_CAS, .noreply = true, .keys = "k", .flags = 7,
     .data_len = 3, .cas = 7},
    BAD("set k 0 0\r\n", MC_SET),
    BAD("set\r\n", MC_SET),
    BAD("set k 0 0 5 6\r\n", MC_SET),
    BAD("set k 0 0 5 noreply x\r\n", MC_SET),
    BAD("set k 0 0 5 noreply noreply\r\n", MC_SET),
    BAD("set k 0 0 noreply\r\n", MC_SET),
    BAD("set k -1 0 5\r\n", MC_SET),
    BAD("set k +1 0 5\r\n", MC_SET),
    BAD("set k 4294967296 0 5\r\n", MC_SET),
    BAD("set k 0 0 -5\r\n", MC_SET),
    BAD("set k 0 0 +5\r\n", MC_SET),
    BAD("set k 0 0 5x\r\n", MC_SET),
    BAD("set k 0 0 0x5\r\n", MC_SET),
    BAD("set k 0 0 4294967296\r\n", MC_SET),
    BAD("set k 0 0 99999999999999999999999\r\n", MC_SET),
    BAD("set k 0 x 5\r\n", MC_SET),
    BAD("set k 0 - 5\r\n", MC_SET),
    BAD("set k 0 2147483648 1\r\n", MC_SET),
    BAD("set k 0 -2147483649 1\r\n", MC_SET),
    {IN("set k\x01 0 0 5\r\n"), .cmd = MC_SET, .keys = "k\x01", .data_len = 5},
    BAD("set k\t0 0 5\r\n", MC_SET),
    BAD("set k 0 0 5\t\r\n", MC_SET),
    BAD("cas k 0 0 5\r\n", MC_CAS),
    BAD("cas k 0 0 5 noreply\r\n", MC_CAS),
    BAD("cas k 0 0 5 18446744073709551616\r\n", MC_CAS),
    BAD("cas k 0 0 5 -1\r\n", MC_CAS),
    BAD("cas k 0 0 5 1 2\r\n", MC_CAS),
    /* keyed */
    OK("delete k\r\n", MC_DELETE, "k"),
    OK("delete k 0\r\n", MC_DELETE, "k"),
    {IN("delete k noreply\r\n"), .cmd = MC_DELETE, .noreply = true, .keys = "k"},
    {IN("delete k 0 noreply\r\n"), .cmd = MC_DELETE, .noreply = true, .keys = "k"},
    OK("delete noreply\r\n", MC_DELETE, "noreply"),
    BAD("delete\r\n", MC_DELETE),
    BAD("delete k 1\r\n", MC_DELETE),
    BAD("delete k 00\r\n", MC_DELETE),
    BAD("delete k 0 0\r\n", MC_DELETE),
    BAD("delete k noreply 0\r\n", MC_DELETE),
    BAD("delete k noreply noreply\r\n", MC_DELETE),
    BAD("delete k 0 noreply x\r\n", MC_DELETE),
    OK("delete k\x7f\r\n", MC_DELETE, "k\x7f"),
    {IN("incr k 1\r\n"), .cmd = MC_INCR, .keys = "k", .delta = 1},
    {IN("decr k 18446744073709551615 noreply\r\n"), .cmd = MC_DECR, .noreply = true, .keys = "k",
     .delta = UINT64_MAX},
    {IN("incr k 0\r\n"), .cmd = MC_INCR, .keys = "k"},
    BAD("incr k\r\n", MC_INCR),
    BAD("incr k -1\r\n", MC_INCR),
    BAD("incr k 18446744073709551616\r\n", MC_INCR),
    BAD("incr k 1 2\r\n", MC_INCR),
    BAD("incr k abc\r\n", MC_INCR),
    BAD("decr k noreply\r\n", MC_DECR),
    OK("touch k 10\r\n", MC_TOUCH, "k"),
    {IN("touch k -5 noreply\r\n"), .cmd = MC_TOUCH, .noreply = true, .keys = "k"},
    BAD("touch k\r\n", MC_TOUCH),
    BAD("touch k noreply\r\n", MC_TOUCH),
    BAD("touch k 1 2\r\n", MC_TOUCH),
    BAD("touch k 1.5\r\n", MC_TOUCH),
    /* broadcast */
    OK("flush_all\r\n", MC_FLUSH_ALL, NULL),
    OK("flush_all 10\r\n", MC_FLUSH_ALL, NULL),
    OK("flush_all -1\n", MC_FLUSH_ALL, NULL),
    {IN("flush_all noreply\r\n"), .cmd = MC_FLUSH_ALL, .noreply = true},
    {IN("flush_all 0 noreply\r\n"), .cmd = MC_FLUSH_ALL, .noreply = true},
    BAD("flush_all x\r\n", MC_FLUSH_ALL),
    BAD("flush_all 1 2\r\n", MC_FLUSH_ALL),
    BAD("flush_all noreply 1\r\n", MC_FLUSH_ALL),
    BAD("flush_all 1 noreply x\r\n", MC_FLUSH_ALL),
    OK("verbosity 1\r\n", MC_VERBOSITY, NULL),
    {IN("verbosity 1 noreply\r\n"), .cmd = MC_VERBOSITY, .noreply = true},
    BAD("verbosity\r\n", MC_VERBOSITY),
    BAD("verbosity x\r\n", MC_VERBOSITY),
    BAD("verbosity noreply\r\n", MC_VERBOSITY),
    BAD("verbosity 4294967296\r\n", MC_VERBOSITY),
    BAD("verbosity 1 2\r\n", MC_VERBOSITY),
    /* local */
    OK("version\r\n", MC_VERSION, NULL),
    OK("quit\r\n", MC_QUIT, NULL),
    OK("quit\n", MC_QUIT, NULL),
    OK("stats\r\n", MC_STATS, NULL),
    OK("stats slabs\r\n", MC_STATS, NULL),
    OK("stats a b c d e f g h\r\n", MC_STATS, NULL),
    OK("stats noreply\r\n", MC_STATS, NULL),
    BAD("version x\r\n", MC_VERSION),
    BAD("version noreply\r\n", MC_VERSION),
    BAD("quit now\r\n", MC_QUIT),
    BAD("stats a b c d e f g h i\r\n", MC_STATS),
    /* unknown and empty */
    {IN("GET a\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("get\ta\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("gett a\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("x\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("\t\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("\r\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("\0\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("mg foo v\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("\x80\r\n"), .res = MC_PARSE_UNKNOWN},
    {IN("\r\n"), .res = MC_PARSE_EMPTY},
    {IN("\n"), .res = MC_PARSE_EMPTY},
    {IN("     \r\n"), .res = MC_PARSE_EMPTY},
    {IN(" \n"), .res = MC_PARSE_EMPTY},
    {IN(""), .res = MC_PARSE_EMPTY},
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

/* Length of the line without "\n" / "\r\n". */
static size_t body_len(const char *in, size_t len)
{
    if (len > 0 && in[len - 1] == '\n') {
        len--;
        if (len > 0 && in[len - 1] == '\r')
            len--;
    }
    return len;
}

static void check_parse_case(const struct parse_case *c)
{
    struct mc_tok keys[KEY_CAP];
    struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};
    char joined[1024];
    uint8_t *line;
    enum mc_parse_result r;

    /* An exact-size heap copy: ASan catches any read past the line. */
    line = malloc(c->len ? c->len : 1);
    assert_non_null(line);
    memcpy(line, c->in, c->len);
    memset(&req.noreply, 0xa5, sizeof(req) - offsetof(struct mc_req, noreply));
    req.keys = keys;
    req.key_cap = KEY_CAP;

    r = mc_req_parse_line(line, c->len, &parse_limits, &req);
    if (r != c->res)
        fail_msg("\"%s\": result %d (%s), want %d (%s)", c->in, r, mc_parse_reason(r), c->res,
                 mc_parse_reason(c->res));
    assert_int_equal(req.cmd, c->cmd);
    assert_int_equal(req.line_end, body_len(c->in, c->len));
    assert_int_equal(req.keys, keys);
    assert_int_equal(req.key_cap, KEY_CAP);
    if (c->res == MC_PARSE_BAD_FORMAT || c->res == MC_PARSE_EMPTY || c->res == MC_PARSE_UNKNOWN) {
        /* after BAD_FORMAT the caller closes a storage connection: no length to trust */
        assert_int_equal(req.data_len, 0);
        if (c->res != MC_PARSE_BAD_FORMAT)
            assert_int_equal(req.nkeys, 0);
        free(line);
        return;
    }
    if (c->cmd != MC_CMD_NONE) {
        const struct mc_cmd_info *info = mc_cmd_info(c->cmd);

        assert_int_equal(req.name.len, info->name_len);
        assert_memory_equal(line + req.name.off, info->name, info->name_len);
    }
    assert_int_equal(req.noreply, c->noreply);
    join_keys(line, &req, joined, sizeof(joined));
    assert_string_equal(joined, c->keys != NULL ? c->keys : "");
    assert_int_equal(req.flags, c->flags);
    assert_int_equal(req.data_len, c->data_len);
    assert_int_equal(req.cas, c->cas);
    assert_int_equal(req.delta, c->delta);
    if (c->exptime != NULL) {
        assert_int_equal(req.exptime.len, strlen(c->exptime));
        assert_memory_equal(line + req.exptime.off, c->exptime, req.exptime.len);
    } else {
        assert_int_equal(req.exptime.len, 0);
    }
    free(line);
}

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(parse_cases); i++)
        check_parse_case(&parse_cases[i]);
}

static enum mc_parse_result parse_str(const char *s, struct mc_req *req)
{
    return mc_req_parse_line((const uint8_t *)s, strlen(s), &parse_limits, req);
}

/* Keys of exactly max_key_length pass, one byte more fails, for every command with keys. */
static void test_parse_key_length(void **state)
{
    /* text before and after the key */
    static const char *fmt[][2] = {
        {"get ", "\r\n"},      {"gets a ", "\r\n"},    {"gat 1 ", "\r\n"},
        {"gats 1 a ", "\r\n"}, {"set ", " 0 0 5\r\n"}, {"cas ", " 0 0 5 1\r\n"},
        {"delete ", "\r\n"},   {"incr ", " 1\r\n"},    {"touch ", " 1\r\n"},
    };
    struct mc_tok keys[KEY_CAP];
    struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};
    char key[300], line[400];

    (void)state;
    for (size_t i = 0; i < NELEM(fmt); i++) {
        for (size_t n = 249; n <= 252; n++) {
            enum mc_parse_result want = n <= 250 ? MC_PARSE_OK : MC_PARSE_KEY_TOO_LONG;

            memset(key, 'k', n);
            key[n] = '\0';
            snprintf(line, sizeof(line), "%s%s%s", fmt[i][0], key, fmt[i][1]);
            assert_int_equal(parse_str(line, &req), want);
            if (want == MC_PARSE_OK)
                assert_int_equal(keys[req.nkeys - 1].len, n);
            /* a storage command still says how many data bytes to swallow */
            if (mc_cmd_info(req.cmd)->kind == MC_KIND_STORAGE)
                assert_int_equal(req.data_len, 5);
        }
    }
    /* a too-long key wins over a value that is too large; bad numbers win over both */
    memset(key, 'k', 251);
    key[251] = '\0';
    snprintf(line, sizeof(line), "set %s 0 0 5000\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_KEY_TOO_LONG);
    assert_int_equal(req.data_len, 5000);
    snprintf(line, sizeof(line), "set %s 0 0 x\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_BAD_FORMAT);
    assert_int_equal(req.data_len, 0);
    /* retrieval: any key too long fails the whole line */
    snprintf(line, sizeof(line), "get a b %s c\r\n", key);
    assert_int_equal(parse_str(line, &req), MC_PARSE_KEY_TOO_LONG);
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
    assert_int_equal(parse_str("version\r\n", &req), MC_PARSE_OK);
    req.key_cap = 1;
    assert_int_equal(parse_str("get a\r\n", &req), MC_PARSE_OK);
    assert_int_equal(parse_str("get a b\r\n", &req), MC_PARSE_TOO_MANY_KEYS);
    assert_int_equal(req.nkeys, 1);
    req.key_cap = 2;
    assert_int_equal(parse_str("gats 5 a b\r\n", &req), MC_PARSE_OK);
    assert_int_equal(req.nkeys, 2);
}

/* A line of ten thousand keys: offsets stay right far from the start. */
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
    req.key_cap = N - 1;
    assert_int_equal(mc_req_parse_line((uint8_t *)line, n, &lim, &req), MC_PARSE_TOO_MANY_KEYS);
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
                     MC_PARSE_UNKNOWN);
    assert_int_equal(req.cmd, MC_CMD_NONE);
}

static void test_parse_reason(void **state)
{
    (void)state;
    assert_string_equal(mc_parse_reason(MC_PARSE_UNKNOWN), "unknown command");
    assert_string_equal(mc_parse_reason(MC_PARSE_BAD_FORMAT), "bad command line format");
    assert_string_equal(mc_parse_reason(MC_PARSE_KEY_TOO_LONG), "key too long");
    assert_string_equal(mc_parse_reason(MC_PARSE_TOO_LARGE), "value too large");
    assert_string_equal(mc_parse_reason(MC_PARSE_TOO_MANY_KEYS), "too many keys");
    assert_string_equal(mc_parse_reason(MC_PARSE_EMPTY), "empty command line");
    assert_non_null(mc_parse_reason((enum mc_parse_result)99));
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
    case MC_PARSE_UNKNOWN:
        return "!unknown";
    case MC_PARSE_BAD_FORMAT:
        return "!format";
    case MC_PARSE_KEY_TOO_LONG:
        return "!keylong";
    case MC_PARSE_TOO_LARGE:
        return "!large";
    case MC_PARSE_TOO_MANY_KEYS:
        return "!keys";
    case MC_PARSE_EMPTY:
        return "!empty";
    }
    return "!?";
}

/* Feeds stream[0, len) cut at cuts[0..ncuts) (ascending), each piece in an exact-size heap
 * copy, optionally with an empty feed before every piece. Writes a trace:
 *   <cmd>[!result]@<end of line>   a command line and how it tokenized ("-" if no command)
 *   D@<end> / d@<end>              request done (d: its data block was discarded)
 *   E@<at>:<message>               framing error; the stream stops
 *   X                              storage line with BAD_FORMAT: the caller would close
 *   P                              the stream ended inside a request
 */
static void run_req_stream(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts,
                           bool empty_feeds, const struct mc_limits *lim, char *out, size_t cap)
{
    struct mc_tok keys[KEY_CAP];
    struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};
    struct mc_framer f;
    size_t abs = 0, req_start = 0;
    bool has_data = false;

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
        if (empty_feeds) {
            size_t used = 99;
            enum mc_status st = mc_framer_feed(&f, lim, NULL, 0, &used);

            assert_int_equal(used, 0);
            if (st == MC_DONE) {
                tr_add(out, cap, "%s@%zu ", has_data && f.discard ? "d" : "D", abs);
                req_start = abs;
                has_data = false;
            } else {
                assert_int_equal(st, MC_AGAIN);
            }
        }
        for (;;) {
            size_t used = 99;
            enum mc_status st =
                mc_framer_feed(&f, lim, buf != NULL ? buf + off : NULL, plen - off, &used);

            assert_true(used <= plen - off);
            off += used;
            abs += used;
            if (st == MC_AGAIN) {
                assert_int_equal(off, plen);
                break;
            }
            if (st == MC_ERROR) {
                assert_non_null(f.error);
                tr_add(out, cap, "E@%zu:%s", abs, f.error);
                free(buf);
                return;
            }
            if (st == MC_DONE) {
                tr_add(out, cap, "%s@%zu ", has_data && f.discard ? "d" : "D", abs);
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
                if (info == NULL || info->kind != MC_KIND_STORAGE)
                    continue;
                if (r == MC_PARSE_BAD_FORMAT) {
                    tr_add(out, cap, "X");
                    free(buf);
                    return;
                }
                if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE || r == MC_PARSE_KEY_TOO_LONG) {
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
    STREAM("cas \xfe\x80 1 2 3 4\r\nget\r\n\r\n", "cas@16 D@21 -!empty@23 D@23"),
    STREAM("set k 0 0 0\r\n\r\n", "set@13 D@15"),
    STREAM("set k 0 0 5\r\nhel", "set@13 P"),
    STREAM("set k 0 0 5\r\nhello\r", "set@13 P"),
    /* the block must be followed by exactly "\r\n" */
    STREAM("set k 0 0 3\r\nabcd\r\n", "set@13 E@16:bad data chunk"),
    STREAM("set k 0 0 3\r\nabc\rx", "set@13 E@17:bad data chunk"),
    STREAM("set k 0 0 3\r\nabc\n", "set@13 E@16:bad data chunk"),
    STREAM("set k 0 0 0\r\n\n", "set@13 E@13:bad data chunk"),
    /* oversized value and oversized key: the block is swallowed, the stream stays in sync */
    STREAM("set k 0 0 17\r\n12345678901234567\r\nget a\r\n", "set!large@14 d@33 get@40 D@40"),
    STREAM("set k 0 0 16\r\n1234567890123456\r\n", "set@14 D@32"),
    STREAM("set 123456789 0 0 2\r\nab\r\nget 12345678\r\n", "set!keylong@21 d@25 get@39 D@39"),
    STREAM("get 123456789\r\ndelete k\r\n", "get!keylong@15 D@15 delete@25 D@25"),
    /* a storage line whose length cannot be trusted ends the connection */
    STREAM("set k 0 0 x\r\nabc\r\n", "set!format@13 X"),
    STREAM("set k 0 0\r\nabc\r\n", "set!format@11 X"),
    /* errors that leave the stream in sync */
    STREAM("foo bar\r\nget a\r\n", "-!unknown@9 D@9 get@16 D@16"),
    STREAM("\r\nget a\r\n", "-!empty@2 D@2 get@9 D@9"),
    STREAM("\n\n\n", "-!empty@1 D@1 -!empty@2 D@2 -!empty@3 D@3"),
    STREAM("incr k x\r\nget a b c d e\r\n", "incr!format@10 D@10 get!keys@25 D@25"),
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

/* Lines of max_line - 1, max_line and max_line + 1 bytes, with either terminator. */
static void test_framer_line_cap(void **state)
{
    const uint32_t max = small_limits.max_line;
    struct mc_limits lim = small_limits;
    uint8_t line[200];
    char want[128];

    (void)state;
    lim.max_key_length = 250;
    for (int crlf = 0; crlf < 2; crlf++) {
        for (uint32_t n = max - 2; n <= max + 2; n++) {
            size_t term = crlf ? 2 : 1;

            memcpy(line, "get ", 4);
            memset(line + 4, 'k', n - 4 - term);
            memcpy(line + n - term, crlf ? "\r\n" : "\n", term);
            if (n <= max)
                snprintf(want, sizeof(want), "get@%u D@%u", n, n);
            else
                snprintf(want, sizeof(want), "E@%u:line too long", max);
            check_req_splits(line, n, &lim, want);
            /* the same bytes without the terminator: no verdict until the cap is passed */
            if (n - term <= max)
                snprintf(want, sizeof(want), "P");
            else
                snprintf(want, sizeof(want), "E@%u:line too long", max);
            check_req_splits(line, n - term, &lim, want);
            /* the cap is per line: a second line of the same size is fine too */
            memcpy(line + n, line, n);
            if (n <= max)
                snprintf(want, sizeof(want), "get@%u D@%u get@%u D@%u", n, n, 2 * n, 2 * n);
            else
                snprintf(want, sizeof(want), "E@%u:line too long", max);
            check_req_splits(line, 2 * n, &lim, want);
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

/* After "line too long" the framer's state is the same however the line was split (found by
 * fuzz_mc_split: the whole-buffer path left line_len behind). */
static void test_framer_line_cap_state_split_independent(void **state)
{
    struct mc_limits lim = small_limits;
    const uint32_t max = lim.max_line;
    uint8_t line[200];

    (void)state;
    memset(line, 'x', max + 5);
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
    assert_int_equal(f.state, MC_FS_LINE);

    /* a block forwarded as is */
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"set k 0 0 1\r\nx\r\n", 16, &used),
                     MC_LINE);
    mc_framer_expect_data(&f, 1, false);
    assert_false(f.discard);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"x\r\n", 3, &used), MC_DONE);
    assert_int_equal(used, 3);

    /* errors name their cause */
    mc_framer_init(&f, false);
    assert_false(f.discard);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"set k 0 0 1\r\nxy", 15, &used),
                     MC_LINE);
    mc_framer_expect_data(&f, 1, false);
    assert_int_equal(mc_framer_feed(&f, lim, (const uint8_t *)"xy", 2, &used), MC_ERROR);
    assert_int_equal(used, 1);
    assert_string_equal(f.error, "bad data chunk");
    mc_framer_init(&f, false);
    {
        uint8_t big[100];

        memset(big, 'a', sizeof(big));
        assert_int_equal(mc_framer_feed(&f, lim, big, sizeof(big), &used), MC_ERROR);
        assert_int_equal(used, lim->max_line);
        assert_string_equal(f.error, "line too long");
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
 * every request is seen once, in order, with the right command and key. */
static void test_framer_pipeline(void **state)
{
    enum { N = 3000 };
    /* each request is pat[0] "key<i>" pat[1] */
    static const char *pat[][2] = {
        {"get ", "\r\n"},
        {"gets ", " a b\r\n"},
        {"set ", " 1 0 10 noreply\r\n0123\r\n6789\r\n"},
        {"cas ", " 1 0 3 99\r\n\x01\xff\n\r\n"},
        {"delete ", "\n"},
        {"incr ", " 7\r\n"},
        {"touch ", " 10\r\n"},
        {"gat 5 ", "\r\n"},
        {"set ", " 0 0 20\r\n01234567890123456789\r\n"},
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
        int n = snprintf(tmp, sizeof(tmp), "%skey%u%s", pat[p][0], i, pat[p][1]);

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
                    done++;
                    start = abs;
                    continue;
                }
                {
                    enum mc_parse_result r =
                        mc_req_parse_line(stream + start, f.line_len, &lim, &req);
                    char want[32];
                    int wl = snprintf(want, sizeof(want), "key%u", seen);

                    assert_true(seen < N);
                    assert_int_equal(r, which[seen] == 8 ? MC_PARSE_TOO_LARGE : MC_PARSE_OK);
                    assert_int_equal(keys[0].len, wl);
                    assert_memory_equal(stream + start + keys[0].off, want, (size_t)wl);
                    if (mc_cmd_info(req.cmd)->kind == MC_KIND_STORAGE)
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
        cmocka_unit_test(test_parse_key_length),
        cmocka_unit_test(test_parse_key_cap),
        cmocka_unit_test(test_parse_many_keys),
        cmocka_unit_test(test_parse_huge_line),
        cmocka_unit_test(test_parse_reason),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_framer_streams),
        cmocka_unit_test(test_framer_line_cap),
        cmocka_unit_test(test_framer_line_cap_state_split_independent),
        cmocka_unit_test(test_framer_api),
        cmocka_unit_test(test_framer_pipeline),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for proto/rd_cmd: the redis command table, name lookup, arity, key positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/rd_cmd.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The enum names as spelled in the table, to check them against the command names. */
static const char *const enum_names[RD_CMD_COUNT] = {
#define RD_CMD_ENUM_NAME(e, ...) [e] = #e,
    RD_CMD_TABLE(RD_CMD_ENUM_NAME)
#undef RD_CMD_ENUM_NAME
};

static enum rd_cmd lookup_str(const char *s)
{
    return rd_cmd_lookup((const uint8_t *)s, strlen(s));
}

static uint8_t ascii_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* The obvious lookup, a linear scan folding ASCII letters, as the reference. */
static enum rd_cmd ref_lookup(const uint8_t *name, size_t len)
{
    for (int c = RD_CMD_NONE + 1; c < RD_CMD_COUNT; c++) {
        const struct rd_cmd_info *ci = rd_cmd_info((enum rd_cmd)c);
        size_t i;

        if (ci->name_len != len)
            continue;
        for (i = 0; i < len && ascii_lower(name[i]) == (uint8_t)ci->name[i]; i++)
            ;
        if (i == len)
            return (enum rd_cmd)c;
    }
    return RD_CMD_NONE;
}

/* ---- the table ---- */

static void test_table_rows(void **state)
{
    (void)state;
    assert_null(rd_cmd_info(RD_CMD_NONE));
    assert_null(rd_cmd_info(RD_CMD_COUNT));
    assert_null(rd_cmd_info((enum rd_cmd) - 1));
    for (int c = RD_CMD_NONE + 1; c < RD_CMD_COUNT; c++) {
        const struct rd_cmd_info *ci = rd_cmd_info((enum rd_cmd)c);
        char want[32];

        assert_non_null(ci);
        assert_non_null(ci->name);
        assert_int_equal(ci->name_len, strlen(ci->name));
        /* sorted, strictly: the binary search depends on it */
        if (c > RD_CMD_NONE + 1)
            assert_true(strcmp(rd_cmd_info((enum rd_cmd)(c - 1))->name, ci->name) < 0);
        /* lower case; the enum is RD_ and the name in upper case, '-' as '_' */
        assert_true((size_t)ci->name_len + 4 < sizeof(want));
        snprintf(want, sizeof(want), "RD_%s", ci->name);
        for (size_t i = 0; i < ci->name_len; i++) {
            char ch = ci->name[i];

            assert_true((ch >= 'a' && ch <= 'z') || ch == '_' || ch == '-');
            want[3 + i] = ch == '-' ? '_' : (char)(ch - ('a' - 'A') * (ch >= 'a' && ch <= 'z'));
        }
        assert_string_equal(enum_names[c], want);
        assert_true(ci->arity != 0);
        /* a fixed range is all or nothing, and never starts at the name */
        if (ci->first == 0) {
            assert_int_equal(ci->last, 0);
            assert_int_equal(ci->step, 0);
        } else {
            assert_true(ci->first > 0);
            assert_true(ci->step > 0);
            assert_true(ci->last < 0 || ci->last >= ci->first);
        }
        switch ((enum rd_kind)ci->kind) {
        case RD_KIND_KEYED:
            assert_true(ci->first > 0 || ci->numkeys_at > 0);
            break;
        case RD_KIND_MGET:
        case RD_KIND_SUM:
            assert_int_equal(ci->first, 1);
            assert_int_equal(ci->last, -1);
            assert_int_equal(ci->step, 1);
            assert_int_equal(ci->numkeys_at, 0);
            break;
        case RD_KIND_MSET:
            assert_int_equal(ci->first, 1);
            assert_int_equal(ci->last, -1);
            assert_int_equal(ci->step, 2);
            break;
        case RD_KIND_LOCAL:
            assert_int_equal(ci->first, 0);
            assert_int_equal(ci->numkeys_at, 0);
            break;
        case RD_KIND_UNSUPPORTED:
            break;
        default:
            fail_msg("%s: kind %u", ci->name, ci->kind);
        }
    }
}

/* Every row is found by its name in lower, upper and mixed case. */
static void test_lookup_every_row(void **state)
{
    uint8_t buf[32];

    (void)state;
    for (int c = RD_CMD_NONE + 1; c < RD_CMD_COUNT; c++) {
        const struct rd_cmd_info *ci = rd_cmd_info((enum rd_cmd)c);
        size_t n = ci->name_len;

        assert_int_equal(rd_cmd_lookup((const uint8_t *)ci->name, n), c);
        /* upper case, then the two alternations of lower and upper */
        for (int mode = 0; mode < 3; mode++) {
            for (size_t i = 0; i < n; i++) {
                uint8_t ch = (uint8_t)ci->name[i];
                bool up = mode == 0 || (mode == 1 && i % 2 == 0) || (mode == 2 && i % 2 == 1);

                buf[i] = up && ch >= 'a' && ch <= 'z' ? (uint8_t)(ch - ('a' - 'A')) : ch;
            }
            assert_int_equal(rd_cmd_lookup(buf, n), c);
        }
    }
    assert_int_equal(lookup_str("GET"), RD_GET);
    assert_int_equal(lookup_str("gEt"), RD_GET);
    assert_int_equal(lookup_str("ZRangeStore"), RD_ZRANGESTORE);
    assert_int_equal(lookup_str("EVAL_RO"), RD_EVAL_RO);
    assert_int_equal(lookup_str("GeoRadiusByMember_RO"), RD_GEORADIUSBYMEMBER_RO);
    assert_int_equal(lookup_str("Restore-Asking"), RD_RESTORE_ASKING);
    assert_int_equal(lookup_str("acl"), RD_ACL);                 /* the first row */
    assert_int_equal(lookup_str("ZUNIONSTORE"), RD_ZUNIONSTORE); /* the last */
}

/* Unknown names: empty, too long, a prefix of a name, a name plus a byte, and every one-byte
 * change of every name give what the reference gives. */
static void test_lookup_unknown(void **state)
{
    static const char *names[] = {
        "g",
        "ge",
        "gett",
        "get ",
        " get",
        "zunionstor",
        "zunionstorex",
        "georadiusbymember_r",
        "georadiusbymember_rox",
        "eval_",
        "evalsh",
        "restore-",
        "restore_asking",
        "objects",
        "hello world",
        "x",
        "zzzz",
        "aaa",
        "mgetx",
        "sort_r",
        "bitfield_",
        "-",
        "_",
        "GET\xc0",
    };
    uint8_t buf[128];
    unsigned spelled_other = 0;

    (void)state;
    assert_int_equal(rd_cmd_lookup(NULL, 0), RD_CMD_NONE);
    assert_int_equal(rd_cmd_lookup((const uint8_t *)"get", 0), RD_CMD_NONE);
    for (size_t i = 0; i < NELEM(names); i++)
        assert_int_equal(lookup_str(names[i]), RD_CMD_NONE);
    assert_int_equal(rd_cmd_lookup((const uint8_t *)"get\0", 4), RD_CMD_NONE);
    assert_int_equal(rd_cmd_lookup((const uint8_t *)"\0get", 4), RD_CMD_NONE);
    /* letters fold; the bytes next to them ('@' before 'A', '[' after 'Z') do not */
    assert_int_equal(lookup_str("g@t"), RD_CMD_NONE);
    assert_int_equal(lookup_str("[et"), RD_CMD_NONE);
    assert_int_equal(lookup_str("G\xc5T"), RD_CMD_NONE);
    /* a long name is unknown, whatever it starts with */
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, "georadiusbymember_ro", 20);
    for (size_t n = 21; n <= sizeof(buf); n++)
        assert_int_equal(rd_cmd_lookup(buf, n), RD_CMD_NONE);
    for (int c = RD_CMD_NONE + 1; c < RD_CMD_COUNT; c++) {
        const struct rd_cmd_info *ci = rd_cmd_info((enum rd_cmd)c);
        size_t n = ci->name_len;

        memcpy(buf, ci->name, n);
        /* prefixes: unknown unless they are a row of their own ("eval" of "eval_ro") */
        for (size_t i = 0; i < n; i++)
            assert_int_equal(rd_cmd_lookup(buf, i), ref_lookup(buf, i));
        for (int b = 0; b < 256; b++) {
            buf[n] = (uint8_t)b;
            assert_int_equal(rd_cmd_lookup(buf, n + 1), ref_lookup(buf, n + 1));
        }
        for (size_t i = 0; i < n; i++) {
            for (int b = 0; b < 256; b++) {
                memcpy(buf, ci->name, n);
                if (ascii_lower((uint8_t)b) == (uint8_t)ci->name[i])
                    continue;
                buf[i] = (uint8_t)b;
                assert_int_equal(rd_cmd_lookup(buf, n), ref_lookup(buf, n));
                spelled_other += ref_lookup(buf, n) != RD_CMD_NONE;
            }
        }
    }
    /* some one-byte changes spell another command (get/set, incr/decr, ...) */
    assert_true(spelled_other > 0);
    assert_int_equal(lookup_str("eval"), RD_EVAL);
    assert_int_equal(lookup_str("sort"), RD_SORT);
    assert_int_equal(lookup_str("restore"), RD_RESTORE);
}

/* ---- arity ---- */

struct arity_case {
    enum rd_cmd cmd;
    uint32_t argc;
    bool ok;
};

static void test_arity(void **state)
{
    static const struct arity_case cases[] = {
        {RD_GET, 1, false},
        {RD_GET, 2, true},
        {RD_GET, 3, false},
        {RD_SET, 2, false},
        {RD_SET, 3, true},
        {RD_SET, 8, true},
        {RD_PING, 1, true},
        {RD_PING, 2, true},
        {RD_PING, 3, true},
        {RD_ECHO, 1, false},
        {RD_ECHO, 2, true},
        {RD_ECHO, 3, false},
        {RD_MGET, 1, false},
        {RD_MGET, 2, true},
        {RD_MGET, 1000, true},
        {RD_MSET, 2, false},
        {RD_MSET, 3, true},
        {RD_MSET, 4, true}, /* pairs: later */
        {RD_DEL, 1, false},
        {RD_DEL, 2, true},
        {RD_EVAL, 2, false},
        {RD_EVAL, 3, true},
        {RD_EVAL, 9, true},
        {RD_ZUNIONSTORE, 3, false},
        {RD_ZUNIONSTORE, 4, true},
        {RD_OBJECT, 1, false},
        {RD_OBJECT, 2, true},
        {RD_OBJECT, 3, true},
        {RD_RENAME, 2, false},
        {RD_RENAME, 3, true},
        {RD_RENAME, 4, false},
        {RD_LMOVE, 5, true},
        {RD_LMOVE, 6, false},
        /* redis 7.2's WITHSCORE: the table takes the looser arity */
        {RD_ZRANK, 2, false},
        {RD_ZRANK, 3, true},
        {RD_ZRANK, 4, true},
        {RD_ZREVRANK, 4, true},
        {RD_QUIT, 1, true},
        {RD_SELECT, 2, true},
        {RD_SELECT, 3, false},
        {RD_GEOSEARCHSTORE, 7, false},
        {RD_GEOSEARCHSTORE, 8, true},
        {RD_MULTI, 1, true},
        {RD_MULTI, 2, false},
    };

    (void)state;
    assert_false(rd_cmd_arity_ok(NULL, 2));
    for (size_t i = 0; i < NELEM(cases); i++) {
        const struct rd_cmd_info *ci = rd_cmd_info(cases[i].cmd);

        if (rd_cmd_arity_ok(ci, cases[i].argc) != cases[i].ok)
            fail_msg("%s with %u arguments: want %s", ci->name, cases[i].argc,
                     cases[i].ok ? "ok" : "refused");
    }
    /* argc 0 (an empty request, which never gets here) fits no row: every arity counts the
     * name */
    for (int c = RD_CMD_NONE + 1; c < RD_CMD_COUNT; c++)
        assert_false(rd_cmd_arity_ok(rd_cmd_info((enum rd_cmd)c), 0));
}

/* ---- key positions ---- */

struct keys_case {
    enum rd_cmd cmd;
    uint32_t argc;
    int64_t numkeys;
    bool numkeys_ok;
    enum rd_keys_result res;
    struct rd_keypos kp; /* on RD_KEYS_OK; all zero otherwise */
    const char *what;
};

/* clang-format off */
#define KP(f, l, s, n)            {.first = (f), .last = (l), .step = (s), .count = (n)}
#define KPN(f, l, s, n, nf, nn)   {.first = (f), .last = (l), .step = (s), .count = (n), \
                                   .nk_first = (nf), .nk_count = (nn)}
#define NK(nf, nn)                {.nk_first = (nf), .nk_count = (nn)}
/* clang-format on */

static const struct keys_case keys_cases[] = {
    {RD_GET, 2, 0, false, RD_KEYS_OK, KP(1, 1, 1, 1), "get k"},
    {RD_SET, 5, 0, false, RD_KEYS_OK, KP(1, 1, 1, 1), "set k v EX 10"},
    /* MSET: keys at 1, 3, ...; a key without its value is refused */
    {RD_MSET, 3, 0, false, RD_KEYS_OK, KP(1, 1, 2, 1), "mset a 1"},
    {RD_MSET, 7, 0, false, RD_KEYS_OK, KP(1, 5, 2, 3), "mset a 1 b 2 c 3"},
    {RD_MSET, 4, 0, false, RD_KEYS_BAD_PAIRS, {0}, "mset a 1 b"},
    {RD_MSET, 6, 0, false, RD_KEYS_BAD_PAIRS, {0}, "mset a 1 b 2 c"},
    {RD_MSETNX, 5, 0, false, RD_KEYS_OK, KP(1, 3, 2, 2), "msetnx a 1 b 2"},
    {RD_MSETNX, 4, 0, false, RD_KEYS_BAD_PAIRS, {0}, "msetnx a 1 b"},
    /* DEL and the like: every argument is a key */
    {RD_DEL, 2, 0, false, RD_KEYS_OK, KP(1, 1, 1, 1), "del a"},
    {RD_DEL, 101, 0, false, RD_KEYS_OK, KP(1, 100, 1, 100), "del k1 ... k100"},
    {RD_EXISTS, 4, 0, false, RD_KEYS_OK, KP(1, 3, 1, 3), "exists a b c"},
    {RD_MGET, 3, 0, false, RD_KEYS_OK, KP(1, 2, 1, 2), "mget a b"},
    /* EVAL: numkeys at 2, no fixed key */
    {RD_EVAL, 3, 0, true, RD_KEYS_NONE, {0}, "eval s 0"},
    {RD_EVAL, 5, 0, true, RD_KEYS_NONE, {0}, "eval s 0 a1 a2"},
    {RD_EVAL, 5, 2, true, RD_KEYS_OK, NK(3, 2), "eval s 2 k1 k2"},
    {RD_EVAL, 7, 2, true, RD_KEYS_OK, NK(3, 2), "eval s 2 k1 k2 a1 a2"},
    {RD_EVAL, 5, 3, true, RD_KEYS_BAD_NUMKEYS, {0}, "eval s 3 k1 k2"},
    {RD_EVAL, 3, 1, true, RD_KEYS_BAD_NUMKEYS, {0}, "eval s 1"},
    {RD_EVAL, 5, -1, true, RD_KEYS_BAD_NUMKEYS, {0}, "eval s -1 k1 k2"},
    {RD_EVAL, 5, INT64_MIN, true, RD_KEYS_BAD_NUMKEYS, {0}, "eval s <min> k1 k2"},
    {RD_EVAL, 5, INT64_MAX, true, RD_KEYS_BAD_NUMKEYS, {0}, "eval s <max> k1 k2"},
    {RD_EVAL, 5, 4294967298, true, RD_KEYS_BAD_NUMKEYS, {0}, "eval s 2^32+2 k1 k2"},
    {RD_EVAL, 5, 0, false, RD_KEYS_BAD_NUMKEYS, {0}, "eval s x k1 k2"},
    {RD_EVAL, 5, 2, false, RD_KEYS_BAD_NUMKEYS, {0}, "eval s 2x k1 k2"},
    {RD_EVALSHA, 4, 1, true, RD_KEYS_OK, NK(3, 1), "evalsha h 1 k"},
    {RD_EVAL_RO, 4, 1, true, RD_KEYS_OK, NK(3, 1), "eval_ro s 1 k"},
    {RD_EVALSHA_RO, 3, 0, true, RD_KEYS_NONE, {0}, "evalsha_ro h 0"},
    /* ZUNIONSTORE: the destination, then numkeys at 2 */
    {RD_ZUNIONSTORE, 5, 2, true, RD_KEYS_OK, KPN(1, 1, 1, 1, 3, 2), "zunionstore d 2 a b"},
    {RD_ZUNIONSTORE, 8, 2, true, RD_KEYS_OK, KPN(1, 1, 1, 1, 3, 2),
     "zunionstore d 2 a b WEIGHTS 1 2"},
    {RD_ZUNIONSTORE, 8, 5, true, RD_KEYS_OK, KPN(1, 1, 1, 1, 3, 5), "... numkeys 5 of 5 left"},
    {RD_ZUNIONSTORE, 8, 6, true, RD_KEYS_BAD_NUMKEYS, {0}, "... numkeys 6 of 5 left"},
    {RD_ZUNIONSTORE, 4, 0, true, RD_KEYS_OK, KP(1, 1, 1, 1), "zunionstore d 0 a"},
    {RD_ZUNIONSTORE, 5, 0, false, RD_KEYS_BAD_NUMKEYS, {0}, "zunionstore d x a b"},
    {RD_ZINTERSTORE, 4, 1, true, RD_KEYS_OK, KPN(1, 1, 1, 1, 3, 1), "zinterstore d 1 a"},
    {RD_ZDIFFSTORE, 5, 2, true, RD_KEYS_OK, KPN(1, 1, 1, 1, 3, 2), "zdiffstore d 2 a b"},
    /* ZUNION: numkeys at 1, no fixed key */
    {RD_ZUNION, 4, 2, true, RD_KEYS_OK, NK(2, 2), "zunion 2 a b"},
    {RD_ZUNION, 6, 2, true, RD_KEYS_OK, NK(2, 2), "zunion 2 a b WITHSCORES x"},
    {RD_ZUNION, 4, 3, true, RD_KEYS_BAD_NUMKEYS, {0}, "zunion 3 a b"},
    {RD_ZUNION, 3, 0, true, RD_KEYS_NONE, {0}, "zunion 0 a"},
    {RD_ZINTER, 3, 1, true, RD_KEYS_OK, NK(2, 1), "zinter 1 a"},
    {RD_ZDIFF, 4, 2, true, RD_KEYS_OK, NK(2, 2), "zdiff 2 a b"},
    {RD_SINTERCARD, 6, 2, true, RD_KEYS_OK, NK(2, 2), "sintercard 2 a b LIMIT 5"},
    {RD_ZINTERCARD, 3, 1, true, RD_KEYS_OK, NK(2, 1), "zintercard 1 a"},
    /* containers: the key of the subcommand at 2, none for the ones without one */
    {RD_OBJECT, 3, 0, false, RD_KEYS_OK, KP(2, 2, 1, 1), "object encoding k"},
    {RD_OBJECT, 2, 0, false, RD_KEYS_NONE, {0}, "object help"},
    {RD_XGROUP, 5, 0, false, RD_KEYS_OK, KP(2, 2, 1, 1), "xgroup create k g $"},
    {RD_XGROUP, 2, 0, false, RD_KEYS_NONE, {0}, "xgroup help"},
    {RD_XINFO, 3, 0, false, RD_KEYS_OK, KP(2, 2, 1, 1), "xinfo stream k"},
    {RD_XINFO, 2, 0, false, RD_KEYS_NONE, {0}, "xinfo help"},
    /* BITOP: the destination and the sources, after the operation */
    {RD_BITOP, 4, 0, false, RD_KEYS_OK, KP(2, 3, 1, 2), "bitop not d a"},
    {RD_BITOP, 6, 0, false, RD_KEYS_OK, KP(2, 5, 1, 4), "bitop and d a b c"},
    /* two fixed keys */
    {RD_RPOPLPUSH, 3, 0, false, RD_KEYS_OK, KP(1, 2, 1, 2), "rpoplpush src dst"},
    {RD_RENAME, 3, 0, false, RD_KEYS_OK, KP(1, 2, 1, 2), "rename a b"},
    {RD_LMOVE, 5, 0, false, RD_KEYS_OK, KP(1, 2, 1, 2), "lmove a b LEFT RIGHT"},
    {RD_COPY, 5, 0, false, RD_KEYS_OK, KP(1, 2, 1, 2), "copy a b REPLACE x"},
    {RD_LCS, 3, 0, false, RD_KEYS_OK, KP(1, 2, 1, 2), "lcs a b"},
    {RD_SDIFFSTORE, 4, 0, false, RD_KEYS_OK, KP(1, 3, 1, 3), "sdiffstore d a b"},
    /* last -2: every argument but the timeout */
    {RD_BLPOP, 4, 0, false, RD_KEYS_OK, KP(1, 2, 1, 2), "blpop a b 0"},
    /* a fixed position beyond the arguments: no key */
    {RD_SUNSUBSCRIBE, 1, 0, false, RD_KEYS_NONE, {0}, "sunsubscribe"},
    {RD_GET, 1, 0, false, RD_KEYS_NONE, {0}, "get (arity not checked)"},
    /* no key at all */
    {RD_PING, 1, 0, false, RD_KEYS_NONE, {0}, "ping"},
    {RD_ECHO, 2, 0, false, RD_KEYS_NONE, {0}, "echo x"},
    {RD_KEYS, 2, 0, false, RD_KEYS_NONE, {0}, "keys *"},
    /* numkeys is ignored for a row without it */
    {RD_GET, 2, -5, false, RD_KEYS_OK, KP(1, 1, 1, 1), "get k, numkeys garbage"},
};

static void test_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(keys_cases); i++) {
        const struct keys_case *kc = &keys_cases[i];
        struct rd_keypos kp;
        enum rd_keys_result res;

        memset(&kp, 0xa5, sizeof(kp));
        res = rd_cmd_keys(rd_cmd_info(kc->cmd), kc->argc, kc->numkeys, kc->numkeys_ok, &kp);
        if (res != kc->res)
            fail_msg("%s: result %d, want %d", kc->what, res, kc->res);
        if (memcmp(&kp, &kc->kp, sizeof(kp)) != 0)
            fail_msg("%s: keys %u..%u step %u count %u, numkeys from %u count %u", kc->what,
                     kp.first, kp.last, kp.step, kp.count, kp.nk_first, kp.nk_count);
    }
}

/* Every key position it gives lies within the request, for every row and every small
 * argument count and numkeys. */
static void test_keys_in_range(void **state)
{
    (void)state;
    for (int c = RD_CMD_NONE + 1; c < RD_CMD_COUNT; c++) {
        const struct rd_cmd_info *ci = rd_cmd_info((enum rd_cmd)c);

        for (uint32_t argc = 1; argc < 12; argc++) {
            for (int64_t nk = -2; nk < 14; nk++) {
                struct rd_keypos kp;
                enum rd_keys_result res = rd_cmd_keys(ci, argc, nk, true, &kp);

                if (res != RD_KEYS_OK)
                    continue;
                assert_true(kp.count > 0 || kp.nk_count > 0);
                if (kp.count > 0) {
                    assert_true(kp.first >= 1);
                    assert_true(kp.last < argc);
                    assert_int_equal(kp.last, kp.first + (kp.count - 1) * kp.step);
                }
                if (kp.nk_count > 0) {
                    assert_int_equal(kp.nk_first, ci->numkeys_at + 1);
                    assert_true(kp.nk_first + kp.nk_count <= argc);
                }
            }
        }
    }
    assert_int_equal(rd_cmd_keys(NULL, 3, 0, false, &(struct rd_keypos){0}), RD_KEYS_NONE);
}

/* ---- the table as a whole ---- */

static void test_row_count(void **state)
{
    unsigned per_kind[RD_KIND_UNSUPPORTED + 1] = {0};

    (void)state;
    for (int c = RD_CMD_NONE + 1; c < RD_CMD_COUNT; c++)
        per_kind[rd_cmd_info((enum rd_cmd)c)->kind]++;
    /* every command of redis 7.0.15 (COMMAND COUNT: 240), none more */
    assert_int_equal(RD_CMD_COUNT - 1, 240);
    assert_int_equal(per_kind[RD_KIND_MGET], 1);
    assert_int_equal(per_kind[RD_KIND_MSET], 1);
    assert_int_equal(per_kind[RD_KIND_SUM], 4);
    assert_int_equal(per_kind[RD_KIND_LOCAL], 9);
    assert_int_equal(per_kind[RD_KIND_KEYED], 155);
    assert_int_equal(per_kind[RD_KIND_UNSUPPORTED], 70);
    /* the rows the core names */
    assert_int_equal(rd_cmd_info(RD_MGET)->kind, RD_KIND_MGET);
    assert_int_equal(rd_cmd_info(RD_MSET)->kind, RD_KIND_MSET);
    assert_int_equal(rd_cmd_info(RD_DEL)->kind, RD_KIND_SUM);
    assert_int_equal(rd_cmd_info(RD_UNLINK)->kind, RD_KIND_SUM);
    assert_int_equal(rd_cmd_info(RD_TOUCH)->kind, RD_KIND_SUM);
    assert_int_equal(rd_cmd_info(RD_EXISTS)->kind, RD_KIND_SUM);
    assert_int_equal(rd_cmd_info(RD_PING)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_ECHO)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_QUIT)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_SELECT)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_AUTH)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_HELLO)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_COMMAND)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_CLIENT)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_INFO)->kind, RD_KIND_LOCAL);
    assert_int_equal(rd_cmd_info(RD_EVAL)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_EVALSHA)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_GET)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_SET)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_KEYS)->kind, RD_KIND_UNSUPPORTED);
    /* a few the brief singles out */
    assert_int_equal(rd_cmd_info(RD_SORT_RO)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_OBJECT)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_MSETNX)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_RENAME)->kind, RD_KIND_KEYED);
    assert_int_equal(rd_cmd_info(RD_XREAD)->kind, RD_KIND_UNSUPPORTED);
    assert_int_equal(rd_cmd_info(RD_FCALL)->kind, RD_KIND_UNSUPPORTED);
    assert_int_equal(rd_cmd_info(RD_BLPOP)->kind, RD_KIND_UNSUPPORTED);
    assert_int_equal(rd_cmd_info(RD_MOVE)->kind, RD_KIND_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_rows),     cmocka_unit_test(test_lookup_every_row),
        cmocka_unit_test(test_lookup_unknown), cmocka_unit_test(test_arity),
        cmocka_unit_test(test_keys),           cmocka_unit_test(test_keys_in_range),
        cmocka_unit_test(test_row_count),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for hash/hash_dist: ketama, modula and random rings, hash tags, routing, and
 * placements observed on nutcracker 0.5.0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash/hash.h"
#include "hash/hash_dist.h"

#define NO_SERVER UINT32_MAX

static struct dist_server server(const char *name, uint32_t weight, bool live)
{
    struct dist_server s = {
        .ring_name = name,
        .ring_name_len = strlen(name),
        .weight = weight,
        .live = live,
    };
    return s;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* -------------------------------------------------------------------------------------------
 * names */

static void test_dist_names(void **state)
{
    (void)state;
    assert_int_equal(dist_from_name("ketama", 6), DIST_KETAMA);
    assert_int_equal(dist_from_name("modula", 6), DIST_MODULA);
    assert_int_equal(dist_from_name("random", 6), DIST_RANDOM);
    assert_int_equal(dist_from_name("Ketama", 6), -1);
    assert_int_equal(dist_from_name("ketam", 5), -1);
    assert_int_equal(dist_from_name("modulax", 7), -1);
    assert_int_equal(dist_from_name("", 0), -1);
    for (int t = 0; t < DIST_COUNT; t++) {
        assert_int_equal(dist_from_name(dist_name(t), strlen(dist_name(t))), t);
    }
    assert_null(dist_name(DIST_COUNT));
}

/* -------------------------------------------------------------------------------------------
 * ketama */

static void test_ketama_points_formula(void **state)
{
    (void)state;
    /* equal weights: 160 points each... */
    for (uint32_t n = 1; n <= 24; n++) {
        assert_int_equal(dist_ketama_points(1, n, n), 160);
        assert_int_equal(dist_ketama_points(7, 7 * n, n), 160);
    }
    /* ...except where single precision lands just under 40 hashes: 25, 47, 50, 55, 61, ...
     * equal servers get 156 points each on twemproxy (checked against nutcracker by
     * tests/integration/test_placement.py, TestPlacementManyServers) */
    assert_int_equal(dist_ketama_points(1, 25, 25), 156);
    assert_int_equal(dist_ketama_points(3, 75, 25), 156);
    assert_int_equal(dist_ketama_points(1, 47, 47), 156);
    assert_int_equal(dist_ketama_points(1, 26, 26), 160);
    /* weight share times 160 times live count, floored to a multiple of 4 */
    assert_int_equal(dist_ketama_points(2, 4, 3), 240);
    assert_int_equal(dist_ketama_points(1, 4, 3), 120);
    assert_int_equal(dist_ketama_points(1, 3, 2), 104); /* 26.67 hashes -> 26 */
    /* twemproxy computes in single precision: 1/25 * 40 * 5 is 8 exactly, but 7.9999995 in
     * float, so the server gets 28 points rather than 32 (confirmed against nutcracker by
     * tests/integration/test_placement.py, case fnv1a_64_ketama_float_floor) */
    assert_int_equal(dist_ketama_points(1, 25, 5), 28);
    assert_int_equal(dist_ketama_points(4, 25, 5), 124);
    assert_int_equal(dist_ketama_points(15, 25, 5), 480);
    /* a small enough share gets no points at all */
    assert_int_equal(dist_ketama_points(1, 261, 5), 0);
    assert_int_equal(dist_ketama_points(1, 0, 1), 0);
}

/* The md5 points twemproxy derives from "<name>-<i>": four little-endian words per digest. */
static void expected_points(const char *name, uint32_t nhash, uint32_t *out)
{
    char buf[300];

    for (uint32_t i = 0; i < nhash; i++) {
        uint8_t d[16];
        int len = snprintf(buf, sizeof(buf), "%s-%u", name, (unsigned)i);

        hash_md5_digest(buf, (size_t)len, d);
        for (int k = 0; k < 4; k++) {
            out[4 * i + (uint32_t)k] = le32(d + 4 * k);
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* ring points of the nutcracker ketama_hash(), from `tests/nc_vectors.py ketama` */
static void test_ketama_hash_vectors(void **state)
{
    static const struct {
        const char *name;
        size_t len;
        uint32_t points[4];
    } vectors[] = {
        {"127.0.0.1:11212-0", 17, {0x269dd019, 0xcbdea72d, 0x05ba8950, 0xf8e26127}},
        {"127.0.0.1-0", 11, {0xbdffa47f, 0xac7ecb6e, 0x30801bbb, 0xffe0f4b2}},
        {"127.0.0.1-39", 12, {0x8d20bb5d, 0x27e892e5, 0x7e8f6353, 0x815372fd}},
        {"alpha-17", 8, {0x393e8951, 0xdc33dc9a, 0x23ac47d0, 0x4ac85562}},
        {"cache-1.example.net:22122-159", 29, {0xd65917a7, 0x95663224, 0x68a8fd1f, 0x780fd699}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint8_t d[16];

        hash_md5_digest(vectors[i].name, vectors[i].len, d);
        for (int k = 0; k < 4; k++) {
            assert_int_equal(le32(d + 4 * k), vectors[i].points[k]);
        }
    }
}

static void test_ketama_ring_structure(void **state)
{
    const char *names[] = {"10.0.0.1:11212", "10.0.0.2:11212", "10.0.0.3"};
    struct dist_server s[3];
    uint32_t count[3] = {0, 0, 0};
    uint32_t want[480], have[480];
    size_t nwant = 0;
    struct dist d;

    (void)state;
    for (int i = 0; i < 3; i++) {
        s[i] = server(names[i], 1, true);
    }
    assert_int_equal(dist_build(&d, DIST_KETAMA, s, 3), 0);
    assert_int_equal(d.type, DIST_KETAMA);
    assert_int_equal(d.nservers, 3);
    assert_int_equal(d.nlive, 3);
    assert_int_equal(d.npoints, 480);
    for (uint32_t i = 0; i < d.npoints; i++) {
        assert_true(d.points[i].index < 3);
        count[d.points[i].index]++;
        if (i > 0) {
            assert_true(d.points[i - 1].value <= d.points[i].value);
        }
        have[i] = d.points[i].value;
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(count[i], 160);
        expected_points(names[i], 40, want + nwant);
        nwant += 160;
    }
    /* exactly the md5 points of "<name>-0" .. "<name>-39" */
    qsort(want, nwant, sizeof(want[0]), cmp_u32);
    assert_memory_equal(want, have, sizeof(have));
    /* and each point belongs to the server it was hashed from */
    for (int i = 0; i < 3; i++) {
        uint32_t mine[160];

        expected_points(names[i], 40, mine);
        for (int k = 0; k < 160; k++) {
            assert_int_equal(dist_pick(&d, mine[k]), (uint32_t)i);
        }
    }
    dist_free(&d);
    assert_null(d.points);
    assert_int_equal(d.npoints, 0);
}

static void test_ketama_lookup_and_wrap(void **state)
{
    struct dist_server s[4] = {
        server("a", 1, true),
        server("b", 1, true),
        server("c", 1, true),
        server("d", 1, true),
    };
    struct dist d;
    uint32_t last;

    (void)state;
    assert_int_equal(dist_build(&d, DIST_KETAMA, s, 4), 0);
    last = d.npoints - 1;
    /* below the first point, and 0: the first point */
    assert_int_equal(dist_pick(&d, 0), d.points[0].index);
    assert_int_equal(dist_pick(&d, d.points[0].value), d.points[0].index);
    /* exactly on a point: that point; just past it: the next one */
    for (uint32_t i = 0; i + 1 < d.npoints; i++) {
        if (d.points[i].value == d.points[i + 1].value) {
            continue;
        }
        assert_int_equal(dist_pick(&d, d.points[i].value), d.points[i].index);
        assert_int_equal(dist_pick(&d, d.points[i].value + 1), d.points[i + 1].index);
    }
    assert_int_equal(dist_pick(&d, d.points[last].value), d.points[last].index);
    /* past the last point: wraps to the first */
    assert_true(d.points[last].value < UINT32_MAX);
    assert_int_equal(dist_pick(&d, d.points[last].value + 1), d.points[0].index);
    assert_int_equal(dist_pick(&d, UINT32_MAX), d.points[0].index);
    dist_free(&d);
}

static void test_ketama_weights(void **state)
{
    struct dist_server s[3] = {server("x", 1, true), server("y", 2, true), server("z", 1, true)};
    uint32_t count[3] = {0, 0, 0};
    struct dist d;

    (void)state;
    assert_int_equal(dist_build(&d, DIST_KETAMA, s, 3), 0);
    assert_int_equal(d.npoints, 480);
    for (uint32_t i = 0; i < d.npoints; i++) {
        count[d.points[i].index]++;
    }
    assert_int_equal(count[0], 120);
    assert_int_equal(count[1], 240);
    assert_int_equal(count[2], 120);
    dist_free(&d);

    /* a server whose share floors to zero points never gets a key */
    s[0].weight = 1;
    s[1].weight = 500;
    s[2].weight = 500;
    assert_int_equal(dist_build(&d, DIST_KETAMA, s, 3), 0);
    for (uint32_t i = 0; i < d.npoints; i++) {
        assert_int_not_equal(d.points[i].index, 0);
    }
    dist_free(&d);
}

/* An ejected server is left out and the ring is the ring of the live servers alone. */
static void test_ketama_ejected(void **state)
{
    struct dist_server all[4] = {
        server("s0", 1, true),
        server("s1", 3, false),
        server("s2", 2, true),
        server("s3", 1, true),
    };
    struct dist_server live[3] = {all[0], all[2], all[3]};
    static const uint32_t live_index[3] = {0, 2, 3};
    struct dist d, ref;

    (void)state;
    assert_int_equal(dist_build(&d, DIST_KETAMA, all, 4), 0);
    assert_int_equal(dist_build(&ref, DIST_KETAMA, live, 3), 0);
    assert_int_equal(d.nservers, 4);
    assert_int_equal(d.nlive, 3);
    assert_int_equal(d.npoints, ref.npoints);
    for (uint32_t i = 0; i < d.npoints; i++) {
        assert_int_not_equal(d.points[i].index, 1);
        assert_int_equal(d.points[i].value, ref.points[i].value);
        assert_int_equal(d.points[i].index, live_index[ref.points[i].index]);
    }
    dist_free(&d);
    dist_free(&ref);
}

/* twemproxy hashes at most 272 bytes of "<name>-<i>": a name that long gets 40 identical
 * digests, i.e. only four distinct points repeated */
static void test_ketama_long_name(void **state)
{
    char name[281];
    struct dist_server s[2];
    uint8_t digest[16];
    struct dist d;
    uint32_t n0 = 0;

    (void)state;
    memset(name, 'q', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    s[0] = server(name, 1, true);
    s[1] = server("short", 1, true);
    hash_md5_digest(name, 272, digest);
    assert_int_equal(dist_build(&d, DIST_KETAMA, s, 2), 0);
    assert_int_equal(d.npoints, 320);
    for (uint32_t i = 0; i < d.npoints; i++) {
        if (d.points[i].index != 0) {
            continue;
        }
        n0++;
        assert_true(d.points[i].value == le32(digest) || d.points[i].value == le32(digest + 4) ||
                    d.points[i].value == le32(digest + 8) ||
                    d.points[i].value == le32(digest + 12));
    }
    assert_int_equal(n0, 160);
    dist_free(&d);
}

/* -------------------------------------------------------------------------------------------
 * modula and random */

static void test_modula_name_order(void **state)
{
    /* twemproxy lays servers out sorted by name, shorter first: "a", "bb", "ccc", "aaaa" */
    struct dist_server s[4] = {
        server("bb", 1, true),
        server("aaaa", 1, true),
        server("ccc", 2, true),
        server("a", 2, true),
    };
    static const uint32_t want[6] = {3, 3, 0, 2, 2, 1};
    struct dist d;

    (void)state;
    assert_int_equal(dist_build(&d, DIST_MODULA, s, 4), 0);
    assert_int_equal(d.npoints, 6);
    for (uint32_t i = 0; i < 6; i++) {
        assert_int_equal(d.points[i].index, want[i]);
    }
    for (uint32_t h = 0; h < 100; h++) {
        assert_int_equal(dist_pick(&d, h), want[h % 6]);
    }
    assert_int_equal(dist_pick(&d, UINT32_MAX), want[UINT32_MAX % 6]);
    dist_free(&d);

    /* same length: bytewise, so "127.0.0.1:9000" sorts after "127.0.0.1:10000"? No: lengths
     * differ (14 < 15), the shorter goes first */
    s[0] = server("127.0.0.1:10000", 1, true);
    s[1] = server("127.0.0.1:9000", 1, true);
    assert_int_equal(dist_build(&d, DIST_MODULA, s, 2), 0);
    assert_int_equal(d.points[0].index, 1);
    assert_int_equal(d.points[1].index, 0);
    dist_free(&d);
}

static void test_modula_ejected(void **state)
{
    struct dist_server s[3] = {server("a", 2, true), server("b", 5, false), server("c", 1, true)};
    struct dist d;

    (void)state;
    assert_int_equal(dist_build(&d, DIST_MODULA, s, 3), 0);
    assert_int_equal(d.nlive, 2);
    assert_int_equal(d.npoints, 3);
    assert_int_equal(dist_pick(&d, 0), 0);
    assert_int_equal(dist_pick(&d, 1), 0);
    assert_int_equal(dist_pick(&d, 2), 2);
    assert_int_equal(dist_pick(&d, 3), 0);
    dist_free(&d);
}

static void test_random(void **state)
{
    struct dist_server s[4] = {
        server("a", 1, true),
        server("b", 9, false),
        server("c", 50, true),
        server("d", 1, true),
    };
    uint32_t seen[4] = {0, 0, 0, 0};
    struct dist d;

    (void)state;
    assert_int_equal(dist_build(&d, DIST_RANDOM, s, 4), 0);
    assert_int_equal(d.npoints, 3); /* one point per live server: weights do not count */
    for (int i = 0; i < 3000; i++) {
        uint32_t idx = dist_pick(&d, 0);

        assert_true(idx < 4);
        seen[idx]++;
    }
    assert_int_equal(seen[1], 0);
    assert_true(seen[0] > 0 && seen[2] > 0 && seen[3] > 0);
    dist_free(&d);
}

static void test_no_live_server(void **state)
{
    struct dist_server s[2] = {server("a", 1, false), server("b", 1, false)};
    struct dist d;

    (void)state;
    for (int t = 0; t < DIST_COUNT; t++) {
        assert_int_equal(dist_build(&d, t, s, 2), 0);
        assert_int_equal(d.nlive, 0);
        assert_int_equal(d.npoints, 0);
        assert_int_equal(dist_pick(&d, 12345), NO_SERVER);
        assert_int_equal(dist_route(&d, HASH_MD5, NULL, "k", 1), NO_SERVER);
        dist_free(&d);
        assert_int_equal(dist_build(&d, t, s, 0), 0);
        assert_int_equal(dist_route(&d, HASH_MD5, NULL, "k", 1), NO_SERVER);
        dist_free(&d);
    }
}

/* -------------------------------------------------------------------------------------------
 * hash tags and routing */

static void test_hash_tag(void **state)
{
    static const struct {
        const char *tag; /* NULL: none */
        const char *key;
        const char *hashed;
    } cases[] = {
        {NULL, "user:{42}:name", "user:{42}:name"},   /* no tag configured */
        {"\0\0", "user:{42}:name", "user:{42}:name"}, /* both zero: none */
        {"{}", "plain", "plain"},                     /* no tag in the key */
        {"{}", "user:{42}:name", "42"},
        {"{}", "{42}", "42"},
        {"{}", "a{b}", "b"},          /* tag at the end */
        {"{}", "{}", "{}"},           /* nothing between: whole key */
        {"{}", "a{}b{c}", "a{}b{c}"}, /* only the first '{' is tried */
        {"{}", "abc{", "abc{"},       /* opened at the end, never closed */
        {"{}", "{abc", "{abc"},       /* never closed */
        {"{}", "abc}", "abc}"},       /* closed, never opened */
        {"{}", "}x{y}", "y"},         /* a '}' before the '{' is ignored */
        {"{}", "a{b{c}d}e", "b{c"},   /* nested: first '{' to next '}' */
        {"{}", "{{x}}", "{x"},
        {"{}", "x{\xff\x80}y", "\xff\x80"},
        {"$$", "a$b$c", "b"},   /* same byte both sides */
        {"$$", "$$x$", "$$x$"}, /* adjacent: whole key */
        {"$$", "a$b", "a$b"},
        {"::", "ns::key", "ns::key"},
        {"::", "ns:a:key", "a"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *k = cases[i].key;
        size_t len = strlen(k);

        dist_apply_hash_tag(cases[i].tag, &k, &len);
        assert_int_equal(len, strlen(cases[i].hashed));
        assert_memory_equal(k, cases[i].hashed, len);
        if (strcmp(cases[i].key, cases[i].hashed) != 0) {
            assert_ptr_equal(k, strstr(cases[i].key, cases[i].hashed)); /* a slice, not a copy */
        }
    }
    {
        const char *k = NULL;
        size_t len = 0;

        dist_apply_hash_tag("{}", &k, &len);
        assert_null(k);
        assert_int_equal(len, 0);
    }
}

static void test_route(void **state)
{
    struct dist_server s[3] = {server("a", 1, true), server("b", 2, true), server("c", 1, true)};
    struct dist_server one[1] = {server("solo", 3, true)};
    struct dist d, d1;

    (void)state;
    for (int t = DIST_KETAMA; t <= DIST_MODULA; t++) {
        assert_int_equal(dist_build(&d, t, s, 3), 0);
        /* routing is hash_key + dist_pick */
        for (int h = 0; h < HASH_COUNT; h++) {
            assert_int_equal(dist_route(&d, h, NULL, "somekey", 7),
                             dist_pick(&d, hash_key(h, "somekey", 7)));
        }
        /* the tag narrows the hashed bytes */
        assert_int_equal(dist_route(&d, HASH_FNV1A_64, "{}", "user:{42}:name", 14),
                         dist_route(&d, HASH_FNV1A_64, NULL, "42", 2));
        assert_int_equal(dist_route(&d, HASH_MD5, "{}", "x{42}", 5),
                         dist_route(&d, HASH_MD5, "{}", "{42}zz", 6));
        /* an empty key hashes to 0, whatever the function */
        for (int h = 0; h < HASH_COUNT; h++) {
            assert_int_equal(dist_route(&d, h, NULL, NULL, 0), dist_pick(&d, 0));
        }
        dist_free(&d);

        /* one server: always it, without hashing */
        assert_int_equal(dist_build(&d1, t, one, 1), 0);
        assert_int_equal(dist_route(&d1, HASH_MD5, NULL, "anything", 8), 0);
        assert_int_equal(dist_route(&d1, HASH_MD5, "{}", "{x}", 3), 0);
        dist_free(&d1);
    }
}

/* -------------------------------------------------------------------------------------------
 * placements observed on nutcracker 0.5.0 (`python3 tests/nc_vectors.py placement`): servers
 * named alpha, beta, gamma, delta with weights 1, 2, 3, 1, in that order */

struct placement_vector {
    enum hash_type hash;
    enum dist_type dist;
    const char *tag;
    const char *key;
    size_t len;
    uint32_t server;
};

static const struct placement_vector placements[] = {
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "a", 1, 2},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "foobar", 6, 2},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "123456789", 9, 2},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "\x80", 1, 0},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "\xff", 1, 1},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "\x7f\x80", 2, 1},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "ab\x90", 3, 3},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 3},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 3},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c",
     13, 2},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 1},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "{}\xff", 3, 0},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "a{b{c}d}", 8, 2},
    {HASH_ONE_AT_A_TIME, DIST_KETAMA, NULL, "x{\x80}", 4, 2},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "a", 1, 1},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "foobar", 6, 2},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "123456789", 9, 0},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "\x80", 1, 0},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "\xff", 1, 2},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "\x7f\x80", 2, 3},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "ab\x90", 3, 3},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 3},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c",
     13, 1},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "{}\xff", 3, 1},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "a{b{c}d}", 8, 2},
    {HASH_ONE_AT_A_TIME, DIST_MODULA, NULL, "x{\x80}", 4, 1},
    {HASH_MD5, DIST_KETAMA, NULL, "a", 1, 0},
    {HASH_MD5, DIST_KETAMA, NULL, "foobar", 6, 0},
    {HASH_MD5, DIST_KETAMA, NULL, "123456789", 9, 2},
    {HASH_MD5, DIST_KETAMA, NULL, "\x80", 1, 2},
    {HASH_MD5, DIST_KETAMA, NULL, "\xff", 1, 3},
    {HASH_MD5, DIST_KETAMA, NULL, "\x7f\x80", 2, 2},
    {HASH_MD5, DIST_KETAMA, NULL, "ab\x90", 3, 1},
    {HASH_MD5, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_MD5, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 3},
    {HASH_MD5, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_MD5, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_MD5, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 1},
    {HASH_MD5, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_MD5, DIST_KETAMA, NULL, "{}\xff", 3, 0},
    {HASH_MD5, DIST_KETAMA, NULL, "a{b{c}d}", 8, 0},
    {HASH_MD5, DIST_KETAMA, NULL, "x{\x80}", 4, 3},
    {HASH_MD5, DIST_MODULA, NULL, "a", 1, 2},
    {HASH_MD5, DIST_MODULA, NULL, "foobar", 6, 3},
    {HASH_MD5, DIST_MODULA, NULL, "123456789", 9, 2},
    {HASH_MD5, DIST_MODULA, NULL, "\x80", 1, 2},
    {HASH_MD5, DIST_MODULA, NULL, "\xff", 1, 2},
    {HASH_MD5, DIST_MODULA, NULL, "\x7f\x80", 2, 1},
    {HASH_MD5, DIST_MODULA, NULL, "ab\x90", 3, 0},
    {HASH_MD5, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 3},
    {HASH_MD5, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 1},
    {HASH_MD5, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_MD5, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 2},
    {HASH_MD5, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 1},
    {HASH_MD5, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 3},
    {HASH_MD5, DIST_MODULA, NULL, "{}\xff", 3, 0},
    {HASH_MD5, DIST_MODULA, NULL, "a{b{c}d}", 8, 2},
    {HASH_MD5, DIST_MODULA, NULL, "x{\x80}", 4, 3},
    {HASH_CRC16, DIST_KETAMA, NULL, "a", 1, 3},
    {HASH_CRC16, DIST_KETAMA, NULL, "foobar", 6, 3},
    {HASH_CRC16, DIST_KETAMA, NULL, "123456789", 9, 2},
    {HASH_CRC16, DIST_KETAMA, NULL, "\x80", 1, 3},
    {HASH_CRC16, DIST_KETAMA, NULL, "\xff", 1, 3},
    {HASH_CRC16, DIST_KETAMA, NULL, "\x7f\x80", 2, 1},
    {HASH_CRC16, DIST_KETAMA, NULL, "ab\x90", 3, 2},
    {HASH_CRC16, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_CRC16, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_CRC16, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 0},
    {HASH_CRC16, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 0},
    {HASH_CRC16, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 2},
    {HASH_CRC16, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_CRC16, DIST_KETAMA, NULL, "{}\xff", 3, 1},
    {HASH_CRC16, DIST_KETAMA, NULL, "a{b{c}d}", 8, 2},
    {HASH_CRC16, DIST_KETAMA, NULL, "x{\x80}", 4, 1},
    {HASH_CRC16, DIST_MODULA, NULL, "a", 1, 1},
    {HASH_CRC16, DIST_MODULA, NULL, "foobar", 6, 0},
    {HASH_CRC16, DIST_MODULA, NULL, "123456789", 9, 1},
    {HASH_CRC16, DIST_MODULA, NULL, "\x80", 1, 0},
    {HASH_CRC16, DIST_MODULA, NULL, "\xff", 1, 3},
    {HASH_CRC16, DIST_MODULA, NULL, "\x7f\x80", 2, 0},
    {HASH_CRC16, DIST_MODULA, NULL, "ab\x90", 3, 2},
    {HASH_CRC16, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_CRC16, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_CRC16, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_CRC16, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 3},
    {HASH_CRC16, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 1},
    {HASH_CRC16, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_CRC16, DIST_MODULA, NULL, "{}\xff", 3, 2},
    {HASH_CRC16, DIST_MODULA, NULL, "a{b{c}d}", 8, 2},
    {HASH_CRC16, DIST_MODULA, NULL, "x{\x80}", 4, 2},
    {HASH_CRC32, DIST_KETAMA, NULL, "a", 1, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "foobar", 6, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "123456789", 9, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "\x80", 1, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "\xff", 1, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "\x7f\x80", 2, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "ab\x90", 3, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 3},
    {HASH_CRC32, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "{}\xff", 3, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "a{b{c}d}", 8, 3},
    {HASH_CRC32, DIST_KETAMA, NULL, "x{\x80}", 4, 3},
    {HASH_CRC32, DIST_MODULA, NULL, "a", 1, 2},
    {HASH_CRC32, DIST_MODULA, NULL, "foobar", 6, 0},
    {HASH_CRC32, DIST_MODULA, NULL, "123456789", 9, 2},
    {HASH_CRC32, DIST_MODULA, NULL, "\x80", 1, 2},
    {HASH_CRC32, DIST_MODULA, NULL, "\xff", 1, 2},
    {HASH_CRC32, DIST_MODULA, NULL, "\x7f\x80", 2, 2},
    {HASH_CRC32, DIST_MODULA, NULL, "ab\x90", 3, 0},
    {HASH_CRC32, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_CRC32, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_CRC32, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 1},
    {HASH_CRC32, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 3},
    {HASH_CRC32, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 1},
    {HASH_CRC32, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 1},
    {HASH_CRC32, DIST_MODULA, NULL, "{}\xff", 3, 1},
    {HASH_CRC32, DIST_MODULA, NULL, "a{b{c}d}", 8, 1},
    {HASH_CRC32, DIST_MODULA, NULL, "x{\x80}", 4, 2},
    {HASH_CRC32A, DIST_KETAMA, NULL, "a", 1, 3},
    {HASH_CRC32A, DIST_KETAMA, NULL, "foobar", 6, 3},
    {HASH_CRC32A, DIST_KETAMA, NULL, "123456789", 9, 2},
    {HASH_CRC32A, DIST_KETAMA, NULL, "\x80", 1, 3},
    {HASH_CRC32A, DIST_KETAMA, NULL, "\xff", 1, 2},
    {HASH_CRC32A, DIST_KETAMA, NULL, "\x7f\x80", 2, 1},
    {HASH_CRC32A, DIST_KETAMA, NULL, "ab\x90", 3, 2},
    {HASH_CRC32A, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_CRC32A, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 0},
    {HASH_CRC32A, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_CRC32A, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 3},
    {HASH_CRC32A, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 3},
    {HASH_CRC32A, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 0},
    {HASH_CRC32A, DIST_KETAMA, NULL, "{}\xff", 3, 1},
    {HASH_CRC32A, DIST_KETAMA, NULL, "a{b{c}d}", 8, 0},
    {HASH_CRC32A, DIST_KETAMA, NULL, "x{\x80}", 4, 1},
    {HASH_CRC32A, DIST_MODULA, NULL, "a", 1, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "foobar", 6, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "123456789", 9, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "\x80", 1, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "\xff", 1, 3},
    {HASH_CRC32A, DIST_MODULA, NULL, "\x7f\x80", 2, 3},
    {HASH_CRC32A, DIST_MODULA, NULL, "ab\x90", 3, 1},
    {HASH_CRC32A, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 0},
    {HASH_CRC32A, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_CRC32A, DIST_MODULA, NULL, "{}\xff", 3, 0},
    {HASH_CRC32A, DIST_MODULA, NULL, "a{b{c}d}", 8, 3},
    {HASH_CRC32A, DIST_MODULA, NULL, "x{\x80}", 4, 0},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "a", 1, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "foobar", 6, 1},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "123456789", 9, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "\x80", 1, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "\xff", 1, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "\x7f\x80", 2, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "ab\x90", 3, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     0},
    {HASH_FNV1_64, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 3},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "{}\xff", 3, 2},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "a{b{c}d}", 8, 1},
    {HASH_FNV1_64, DIST_KETAMA, NULL, "x{\x80}", 4, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "a", 1, 1},
    {HASH_FNV1_64, DIST_MODULA, NULL, "foobar", 6, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "123456789", 9, 3},
    {HASH_FNV1_64, DIST_MODULA, NULL, "\x80", 1, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "\xff", 1, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "\x7f\x80", 2, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "ab\x90", 3, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_FNV1_64, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 0},
    {HASH_FNV1_64, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_FNV1_64, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     3},
    {HASH_FNV1_64, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 1},
    {HASH_FNV1_64, DIST_MODULA, NULL, "{}\xff", 3, 2},
    {HASH_FNV1_64, DIST_MODULA, NULL, "a{b{c}d}", 8, 1},
    {HASH_FNV1_64, DIST_MODULA, NULL, "x{\x80}", 4, 0},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "a", 1, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "foobar", 6, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "123456789", 9, 1},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "\x80", 1, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "\xff", 1, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "\x7f\x80", 2, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "ab\x90", 3, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     2},
    {HASH_FNV1A_64, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 1},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "{}\xff", 3, 1},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "a{b{c}d}", 8, 1},
    {HASH_FNV1A_64, DIST_KETAMA, NULL, "x{\x80}", 4, 3},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "a", 1, 0},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "foobar", 6, 2},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "123456789", 9, 2},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "\x80", 1, 1},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "\xff", 1, 2},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "\x7f\x80", 2, 1},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "ab\x90", 3, 0},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 1},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 1},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     0},
    {HASH_FNV1A_64, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 0},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "{}\xff", 3, 0},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "a{b{c}d}", 8, 2},
    {HASH_FNV1A_64, DIST_MODULA, NULL, "x{\x80}", 4, 2},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "a", 1, 1},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "foobar", 6, 2},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "123456789", 9, 2},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "\x80", 1, 2},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "\xff", 1, 2},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "\x7f\x80", 2, 2},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "ab\x90", 3, 2},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 0},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     2},
    {HASH_FNV1_32, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 0},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "{}\xff", 3, 1},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "a{b{c}d}", 8, 0},
    {HASH_FNV1_32, DIST_KETAMA, NULL, "x{\x80}", 4, 1},
    {HASH_FNV1_32, DIST_MODULA, NULL, "a", 1, 0},
    {HASH_FNV1_32, DIST_MODULA, NULL, "foobar", 6, 0},
    {HASH_FNV1_32, DIST_MODULA, NULL, "123456789", 9, 2},
    {HASH_FNV1_32, DIST_MODULA, NULL, "\x80", 1, 3},
    {HASH_FNV1_32, DIST_MODULA, NULL, "\xff", 1, 2},
    {HASH_FNV1_32, DIST_MODULA, NULL, "\x7f\x80", 2, 0},
    {HASH_FNV1_32, DIST_MODULA, NULL, "ab\x90", 3, 0},
    {HASH_FNV1_32, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 0},
    {HASH_FNV1_32, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 3},
    {HASH_FNV1_32, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 0},
    {HASH_FNV1_32, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 2},
    {HASH_FNV1_32, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     1},
    {HASH_FNV1_32, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_FNV1_32, DIST_MODULA, NULL, "{}\xff", 3, 2},
    {HASH_FNV1_32, DIST_MODULA, NULL, "a{b{c}d}", 8, 3},
    {HASH_FNV1_32, DIST_MODULA, NULL, "x{\x80}", 4, 1},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "a", 1, 0},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "foobar", 6, 2},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "123456789", 9, 0},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "\x80", 1, 1},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "\xff", 1, 2},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "\x7f\x80", 2, 2},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "ab\x90", 3, 3},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 3},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     0},
    {HASH_FNV1A_32, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "{}\xff", 3, 1},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "a{b{c}d}", 8, 1},
    {HASH_FNV1A_32, DIST_KETAMA, NULL, "x{\x80}", 4, 2},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "a", 1, 2},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "foobar", 6, 1},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "123456789", 9, 1},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "\x80", 1, 3},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "\xff", 1, 1},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "\x7f\x80", 2, 2},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "ab\x90", 3, 1},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 1},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 3},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     1},
    {HASH_FNV1A_32, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "{}\xff", 3, 3},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "a{b{c}d}", 8, 1},
    {HASH_FNV1A_32, DIST_MODULA, NULL, "x{\x80}", 4, 2},
    {HASH_HSIEH, DIST_KETAMA, NULL, "a", 1, 3},
    {HASH_HSIEH, DIST_KETAMA, NULL, "foobar", 6, 2},
    {HASH_HSIEH, DIST_KETAMA, NULL, "123456789", 9, 0},
    {HASH_HSIEH, DIST_KETAMA, NULL, "\x80", 1, 1},
    {HASH_HSIEH, DIST_KETAMA, NULL, "\xff", 1, 1},
    {HASH_HSIEH, DIST_KETAMA, NULL, "\x7f\x80", 2, 0},
    {HASH_HSIEH, DIST_KETAMA, NULL, "ab\x90", 3, 2},
    {HASH_HSIEH, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_HSIEH, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 3},
    {HASH_HSIEH, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_HSIEH, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_HSIEH, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 2},
    {HASH_HSIEH, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 0},
    {HASH_HSIEH, DIST_KETAMA, NULL, "{}\xff", 3, 2},
    {HASH_HSIEH, DIST_KETAMA, NULL, "a{b{c}d}", 8, 2},
    {HASH_HSIEH, DIST_KETAMA, NULL, "x{\x80}", 4, 2},
    {HASH_HSIEH, DIST_MODULA, NULL, "a", 1, 1},
    {HASH_HSIEH, DIST_MODULA, NULL, "foobar", 6, 1},
    {HASH_HSIEH, DIST_MODULA, NULL, "123456789", 9, 1},
    {HASH_HSIEH, DIST_MODULA, NULL, "\x80", 1, 3},
    {HASH_HSIEH, DIST_MODULA, NULL, "\xff", 1, 2},
    {HASH_HSIEH, DIST_MODULA, NULL, "\x7f\x80", 2, 2},
    {HASH_HSIEH, DIST_MODULA, NULL, "ab\x90", 3, 3},
    {HASH_HSIEH, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_HSIEH, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 1},
    {HASH_HSIEH, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_HSIEH, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 2},
    {HASH_HSIEH, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 0},
    {HASH_HSIEH, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_HSIEH, DIST_MODULA, NULL, "{}\xff", 3, 1},
    {HASH_HSIEH, DIST_MODULA, NULL, "a{b{c}d}", 8, 3},
    {HASH_HSIEH, DIST_MODULA, NULL, "x{\x80}", 4, 1},
    {HASH_MURMUR, DIST_KETAMA, NULL, "a", 1, 3},
    {HASH_MURMUR, DIST_KETAMA, NULL, "foobar", 6, 2},
    {HASH_MURMUR, DIST_KETAMA, NULL, "123456789", 9, 0},
    {HASH_MURMUR, DIST_KETAMA, NULL, "\x80", 1, 3},
    {HASH_MURMUR, DIST_KETAMA, NULL, "\xff", 1, 2},
    {HASH_MURMUR, DIST_KETAMA, NULL, "\x7f\x80", 2, 3},
    {HASH_MURMUR, DIST_KETAMA, NULL, "ab\x90", 3, 1},
    {HASH_MURMUR, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 0},
    {HASH_MURMUR, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 3},
    {HASH_MURMUR, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_MURMUR, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_MURMUR, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 2},
    {HASH_MURMUR, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 0},
    {HASH_MURMUR, DIST_KETAMA, NULL, "{}\xff", 3, 1},
    {HASH_MURMUR, DIST_KETAMA, NULL, "a{b{c}d}", 8, 3},
    {HASH_MURMUR, DIST_KETAMA, NULL, "x{\x80}", 4, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "a", 1, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "foobar", 6, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "123456789", 9, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "\x80", 1, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "\xff", 1, 1},
    {HASH_MURMUR, DIST_MODULA, NULL, "\x7f\x80", 2, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "ab\x90", 3, 3},
    {HASH_MURMUR, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 0},
    {HASH_MURMUR, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 2},
    {HASH_MURMUR, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 1},
    {HASH_MURMUR, DIST_MODULA, NULL, "{}\xff", 3, 1},
    {HASH_MURMUR, DIST_MODULA, NULL, "a{b{c}d}", 8, 2},
    {HASH_MURMUR, DIST_MODULA, NULL, "x{\x80}", 4, 2},
    {HASH_JENKINS, DIST_KETAMA, NULL, "a", 1, 3},
    {HASH_JENKINS, DIST_KETAMA, NULL, "foobar", 6, 2},
    {HASH_JENKINS, DIST_KETAMA, NULL, "123456789", 9, 1},
    {HASH_JENKINS, DIST_KETAMA, NULL, "\x80", 1, 2},
    {HASH_JENKINS, DIST_KETAMA, NULL, "\xff", 1, 3},
    {HASH_JENKINS, DIST_KETAMA, NULL, "\x7f\x80", 2, 3},
    {HASH_JENKINS, DIST_KETAMA, NULL, "ab\x90", 3, 0},
    {HASH_JENKINS, DIST_KETAMA, NULL, "\xff\xfe\xfd", 3, 0},
    {HASH_JENKINS, DIST_KETAMA, NULL, "key\xa0\xa1\xa2", 6, 3},
    {HASH_JENKINS, DIST_KETAMA, NULL, "abcd\xee\xef\xf0", 7, 1},
    {HASH_JENKINS, DIST_KETAMA, NULL, "caf\xc3\xa9", 5, 1},
    {HASH_JENKINS, DIST_KETAMA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     1},
    {HASH_JENKINS, DIST_KETAMA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_JENKINS, DIST_KETAMA, NULL, "{}\xff", 3, 3},
    {HASH_JENKINS, DIST_KETAMA, NULL, "a{b{c}d}", 8, 2},
    {HASH_JENKINS, DIST_KETAMA, NULL, "x{\x80}", 4, 2},
    {HASH_JENKINS, DIST_MODULA, NULL, "a", 1, 2},
    {HASH_JENKINS, DIST_MODULA, NULL, "foobar", 6, 3},
    {HASH_JENKINS, DIST_MODULA, NULL, "123456789", 9, 3},
    {HASH_JENKINS, DIST_MODULA, NULL, "\x80", 1, 1},
    {HASH_JENKINS, DIST_MODULA, NULL, "\xff", 1, 1},
    {HASH_JENKINS, DIST_MODULA, NULL, "\x7f\x80", 2, 0},
    {HASH_JENKINS, DIST_MODULA, NULL, "ab\x90", 3, 2},
    {HASH_JENKINS, DIST_MODULA, NULL, "\xff\xfe\xfd", 3, 1},
    {HASH_JENKINS, DIST_MODULA, NULL, "key\xa0\xa1\xa2", 6, 1},
    {HASH_JENKINS, DIST_MODULA, NULL, "abcd\xee\xef\xf0", 7, 3},
    {HASH_JENKINS, DIST_MODULA, NULL, "caf\xc3\xa9", 5, 2},
    {HASH_JENKINS, DIST_MODULA, NULL, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     2},
    {HASH_JENKINS, DIST_MODULA, NULL,
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_JENKINS, DIST_MODULA, NULL, "{}\xff", 3, 1},
    {HASH_JENKINS, DIST_MODULA, NULL, "a{b{c}d}", 8, 2},
    {HASH_JENKINS, DIST_MODULA, NULL, "x{\x80}", 4, 0},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "a", 1, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "foobar", 6, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "123456789", 9, 1},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "\x80", 1, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "\xff", 1, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "\x7f\x80", 2, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "ab\x90", 3, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "\xff\xfe\xfd", 3, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "key\xa0\xa1\xa2", 6, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "abcd\xee\xef\xf0", 7, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "caf\xc3\xa9", 5, 1},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13,
     2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}",
     "user:{\xff"
     "42}:x",
     12, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "{}\xff", 3, 1},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "a{b{c}d}", 8, 2},
    {HASH_FNV1A_64, DIST_KETAMA, "{}", "x{\x80}", 4, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "a", 1, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "foobar", 6, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "123456789", 9, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "\x80", 1, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "\xff", 1, 3},
    {HASH_CRC32A, DIST_MODULA, "{}", "\x7f\x80", 2, 3},
    {HASH_CRC32A, DIST_MODULA, "{}", "ab\x90", 3, 1},
    {HASH_CRC32A, DIST_MODULA, "{}", "\xff\xfe\xfd", 3, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "key\xa0\xa1\xa2", 6, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "abcd\xee\xef\xf0", 7, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "caf\xc3\xa9", 5, 2},
    {HASH_CRC32A, DIST_MODULA, "{}", "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c", 13, 0},
    {HASH_CRC32A, DIST_MODULA, "{}",
     "user:{\xff"
     "42}:x",
     12, 1},
    {HASH_CRC32A, DIST_MODULA, "{}", "{}\xff", 3, 0},
    {HASH_CRC32A, DIST_MODULA, "{}", "a{b{c}d}", 8, 3},
    {HASH_CRC32A, DIST_MODULA, "{}", "x{\x80}", 4, 2},
};

static void test_nutcracker_placements(void **state)
{
    struct dist_server s[4] = {
        server("alpha", 1, true),
        server("beta", 2, true),
        server("gamma", 3, true),
        server("delta", 1, true),
    };
    struct dist d[DIST_COUNT];
    int bad = 0;

    (void)state;
    assert_int_equal(dist_build(&d[DIST_KETAMA], DIST_KETAMA, s, 4), 0);
    assert_int_equal(dist_build(&d[DIST_MODULA], DIST_MODULA, s, 4), 0);
    for (size_t i = 0; i < sizeof(placements) / sizeof(placements[0]); i++) {
        const struct placement_vector *v = &placements[i];
        uint32_t got = dist_route(&d[v->dist], v->hash, v->tag, v->key, v->len);

        if (got != v->server) {
            print_error("vector %zu: %s/%s key of %zu bytes: got server %u, nutcracker %u\n", i,
                        hash_name(v->hash), dist_name(v->dist), v->len, got, v->server);
            bad++;
        }
    }
    dist_free(&d[DIST_KETAMA]);
    dist_free(&d[DIST_MODULA]);
    assert_int_equal(bad, 0);
}

/* The obvious lower bound over the sorted ring, as the reference for dist_pick's bucket table. */
static uint32_t ref_pick(const struct dist *d, uint32_t hash)
{
    uint32_t lo = 0, hi = d->npoints;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (d->points[mid].value < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return d->points[lo == d->npoints ? 0 : lo].index;
}

/* Rings of 1 to 600 servers with uneven weights: the bucket table picks what the binary search
 * picks, for random hashes and at every point, either side of it, 0 and UINT32_MAX. */
static void test_ketama_bucket_table(void **state)
{
    static const uint32_t sizes[] = {1, 2, 3, 4, 7, 16, 128, 600};
    char names[600][24];
    struct dist_server s[600];
    uint64_t x = 88172645463325252ull;

    (void)state;
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
        uint32_t n = sizes[z];
        struct dist d;
        for (uint32_t i = 0; i < n; i++) {
            snprintf(names[i], sizeof(names[i]), "10.0.%u.%u:11211", i / 256, i % 256);
            s[i] = server(names[i], 1 + i % 5, i % 11 != 3 || n == 1);
        }
        assert_int_equal(dist_build(&d, DIST_KETAMA, s, n), 0);
        assert_non_null(d.bucket);
        assert_true((1ull << d.bucket_bits) >= d.npoints || d.bucket_bits == 20);
        for (int k = 0; k < 20000; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint32_t h = (uint32_t)x;
            assert_int_equal(dist_pick(&d, h), ref_pick(&d, h));
        }
        for (uint32_t i = 0; i < d.npoints; i++) {
            uint32_t v = d.points[i].value;
            assert_int_equal(dist_pick(&d, v), ref_pick(&d, v));
            assert_int_equal(dist_pick(&d, v + 1), ref_pick(&d, v + 1));
            assert_int_equal(dist_pick(&d, v - 1), ref_pick(&d, v - 1));
        }
        assert_int_equal(dist_pick(&d, 0), ref_pick(&d, 0));
        assert_int_equal(dist_pick(&d, UINT32_MAX), ref_pick(&d, UINT32_MAX));
        dist_free(&d);
        assert_null(d.bucket);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dist_names),
        cmocka_unit_test(test_ketama_points_formula),
        cmocka_unit_test(test_ketama_hash_vectors),
        cmocka_unit_test(test_ketama_ring_structure),
        cmocka_unit_test(test_ketama_lookup_and_wrap),
        cmocka_unit_test(test_ketama_bucket_table),
        cmocka_unit_test(test_ketama_weights),
        cmocka_unit_test(test_ketama_ejected),
        cmocka_unit_test(test_ketama_long_name),
        cmocka_unit_test(test_modula_name_order),
        cmocka_unit_test(test_modula_ejected),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_no_live_server),
        cmocka_unit_test(test_hash_tag),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_nutcracker_placements),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

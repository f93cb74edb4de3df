/* Unit tests for proto/mc_meta: base64 keys decoded as memcached decodes them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/mc_meta.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct b64_case {
    const char *in;
    const char *out; /* NULL: memcached answers "error decoding key" */
    size_t out_len;
};

/* clang-format off */
#define DEC(s, o) {(s), (o), sizeof(o) - 1}
#define BAD(s)    {(s), NULL, 0}
/* clang-format on */

/* Every row was sent to memcached 1.6.18 as "mg <in> b k": its miss echoes the key it decoded
 * (encoded again) in the k flag, and a bad row gets "CLIENT_ERROR error decoding key". */
static const struct b64_case b64_cases[] = {
    DEC("Zm9v", "foo"),
    DEC("Zm9v!", "foo"), /* bytes outside the alphabet are skipped */
    DEC("!Zm9v", "foo"),
    DEC("Zm\x01"
        "9v",
        "foo"),
    DEC("Zg==", "f"),
    DEC("Zm8=", "fo"),
    DEC("Zg==Zg==", "f"), /* decoding stops after the first padded group */
    DEC("Zg==!!!!", "f"),
    DEC("Zm9vYmFy", "foobar"),
    DEC("AAAA", "\0\0\0"),
    DEC("/+/+", "\xff\xef\xfe"),
    BAD(""),
    BAD("!!!!"),
    BAD("Zm9"), /* not a multiple of 4 */
    BAD("Zm9=v"),
    BAD("Zm9v===="), /* a group of padding alone */
    BAD("Z==="),     /* three '=' in a group */
    BAD("Zm9vZ"),
    BAD("-_-_"), /* the URL-safe alphabet is not memcached's */
};

static void test_b64_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < NELEM(b64_cases); i++) {
        const struct b64_case *c = &b64_cases[i];
        uint8_t out[MC_META_BKEY_MAX];
        size_t n = mc_b64_decode((const uint8_t *)c->in, strlen(c->in), out, sizeof(out));

        if (c->out == NULL) {
            if (n != 0)
                fail_msg("\"%s\": decoded %zu bytes, want an error", c->in, n);
            continue;
        }
        if (n != c->out_len)
            fail_msg("\"%s\": %zu bytes, want %zu", c->in, n, c->out_len);
        assert_memory_equal(out, c->out, n);
    }
}

/* The standard encoding, written out plainly, as the reference for round trips. */
static size_t ref_encode(const uint8_t *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;

        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = left > 1 ? abc[v >> 6 & 63] : '=';
        out[o++] = left > 2 ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

/* Every length a 250-byte token can carry, random bytes: the decoding is the encoding's
 * inverse; one byte short of the room needed is refused. */
static void test_b64_round_trip(void **state)
{
    uint8_t in[200], out[MC_META_BKEY_MAX];
    char enc[300];

    (void)state;
    srand(7);
    for (size_t n = 1; n <= 187; n++) {
        for (int rep = 0; rep < 20; rep++) {
            size_t elen, got;

            for (size_t i = 0; i < n; i++)
                in[i] = (uint8_t)rand();
            elen = ref_encode(in, n, enc);
            assert_true(elen <= 252);
            got = mc_b64_decode((const uint8_t *)enc, elen, out, sizeof(out));
            assert_int_equal(got, n);
            assert_memory_equal(out, in, n);
            assert_int_equal(mc_b64_decode((const uint8_t *)enc, elen, out, elen / 4 * 3 - 1), 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_table),
        cmocka_unit_test(test_b64_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

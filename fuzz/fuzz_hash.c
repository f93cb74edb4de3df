/* Fuzzes hash/: every hash function on the input (hash_key agrees with the direct function), name
 * lookups, hash tags, and dist_route over small input-built ketama/modula/random rings (<
 * nservers). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hash/hash.h"
#include "hash/hash_dist.h"

#define CHECK(c)    ((c) ? (void)0 : __builtin_trap())
#define MAX_SERVERS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t (*const direct[HASH_COUNT])(const char *, size_t) = {
    [HASH_ONE_AT_A_TIME] = hash_one_at_a_time,
    [HASH_MD5] = hash_md5,
    [HASH_CRC16] = hash_crc16,
    [HASH_CRC32] = hash_crc32,
    [HASH_CRC32A] = hash_crc32a,
    [HASH_FNV1_64] = hash_fnv1_64,
    [HASH_FNV1A_64] = hash_fnv1a_64,
    [HASH_FNV1_32] = hash_fnv1_32,
    [HASH_FNV1A_32] = hash_fnv1a_32,
    [HASH_HSIEH] = hash_hsieh,
    [HASH_MURMUR] = hash_murmur,
    [HASH_JENKINS] = hash_jenkins,
};

static void check_names(const char *s, size_t len)
{
    int h = hash_from_name(s, len), d = dist_from_name(s, len);

    CHECK(h >= -1 && h < HASH_COUNT);
    CHECK(d >= -1 && d < DIST_COUNT);
    if (h >= 0)
        CHECK(strlen(hash_name((enum hash_type)h)) == len &&
              memcmp(hash_name((enum hash_type)h), s, len) == 0);
    if (d >= 0)
        CHECK(strlen(dist_name((enum dist_type)d)) == len &&
              memcmp(dist_name((enum dist_type)d), s, len) == 0);
}

/* Input layout: byte 0: server count (low 3 bits), hash (high bits); bytes 1-2: hash tag;
 * bytes 3..: one byte per server (weight: low 3 bits, live: bit 3); the rest is the key. */
static void check_route(const uint8_t *data, size_t size)
{
    struct dist_server srv[MAX_SERVERS];
    char names[MAX_SERVERS][24];
    uint32_t n, nlive = 0;
    enum hash_type h;
    const char *key;
    size_t klen;

    if (size < 3)
        return;
    n = 1 + (data[0] & 7) % MAX_SERVERS;
    h = (enum hash_type)((data[0] >> 3) % HASH_COUNT);
    if (size < 3 + n)
        return;
    for (uint32_t i = 0; i < n; i++) {
        int len =
            snprintf(names[i], sizeof(names[i]), "10.0.0.%u:%u", i + 1, 11211 + (data[3 + i] >> 4));

        srv[i] = (struct dist_server){.ring_name = names[i],
                                      .ring_name_len = (size_t)len,
                                      .weight = data[3 + i] & 7,
                                      .live = (data[3 + i] & 8) != 0};
        nlive += srv[i].live;
    }
    key = (const char *)data + 3 + n;
    klen = size - 3 - n;
    for (int t = DIST_KETAMA; t < DIST_COUNT; t++) {
        struct dist d;
        uint32_t idx;

        CHECK(dist_build(&d, (enum dist_type)t, srv, n) == 0);
        CHECK(d.nservers == n && d.nlive == nlive);
        idx = dist_route(&d, h, (const char *)data + 1, key, klen);
        if (d.npoints == 0)
            CHECK(idx == UINT32_MAX);
        else
            CHECK(idx < n && (n == 1 || srv[idx].live));
        for (uint32_t p = 0; p < d.npoints; p++)
            CHECK(d.points[p].index < n && srv[d.points[p].index].live);
        dist_free(&d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *key = (const char *)data, *tkey = key;
    size_t tlen = size;
    uint8_t digest[16];

    for (int t = 0; t < HASH_COUNT; t++)
        CHECK(hash_key((enum hash_type)t, key, size) == direct[t](key, size));
    hash_md5_digest(data, size, digest);
    check_names(key, size);
    if (size >= 2) {
        tkey = key + 2;
        tlen = size - 2;
        dist_apply_hash_tag(key, &tkey, &tlen);
        CHECK(tkey >= key + 2 && tkey + tlen <= key + size);
    }
    check_route(data, size);
    return 0;
}

/* MurmurHash2 as twemproxy (after libmemcached) seeds it: seed = 0xdeadbeef * len. */
#include <stdint.h>

#include "hash/hash.h"

#define MURMUR_M 0x5bd1e995u
#define MURMUR_R 24

uint32_t hash_murmur(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint32_t len32 = (uint32_t)len;
    uint32_t h = (UINT32_C(0xdeadbeef) * len32) ^ len32;

    /* twemproxy loads native words; it only runs little-endian, so we load little-endian */
    for (; len >= 4; len -= 4, p += 4) {
        uint32_t k =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

        k *= MURMUR_M;
        k ^= k >> MURMUR_R;
        k *= MURMUR_M;
        h *= MURMUR_M;
        h ^= k;
    }

    switch (len) {
    case 3:
        h ^= (uint32_t)p[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)p[1] << 8;
        /* fall through */
    case 1:
        h ^= p[0];
        h *= MURMUR_M;
        break;
    default:
        break;
    }

    h ^= h >> 13;
    h *= MURMUR_M;
    h ^= h >> 15;
    return h;
}

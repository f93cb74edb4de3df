/* Bob Jenkins' one-at-a-time key hash, as twemproxy computes it (signed key bytes). */
#include <stdint.h>

#include "hash/hash.h"

uint32_t hash_one_at_a_time(const char *key, size_t len)
{
    /* twemproxy adds each byte as a sign-extended char: 0x80..0xff add 0xffffff80.. */
    const signed char *p = (const signed char *)key;
    uint32_t h = 0;

    for (size_t i = 0; i < len; i++) {
        h += (uint32_t)(int32_t)p[i];
        h += h << 10;
        h ^= h >> 6;
    }
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    return h;
}

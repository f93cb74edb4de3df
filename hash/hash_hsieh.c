/* Paul Hsieh's SuperFastHash as twemproxy computes it, one signed-byte quirk included. */
#include <stdint.h>

#include "hash/hash.h"

static inline uint32_t load_le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

uint32_t hash_hsieh(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint32_t h = 0;
    size_t rem;

    if (key == NULL || len == 0) {
        return 0;
    }
    rem = len & 3;
    for (size_t n = len >> 2; n > 0; n--, p += 4) {
        h += load_le16(p);
        h = (h << 16) ^ ((load_le16(p + 2) << 11) ^ h);
        h += h >> 11;
    }

    switch (rem) {
    case 3:
        h += load_le16(p);
        h ^= h << 16;
        /* twemproxy reads this one byte through a signed char: a byte >= 0x80 arrives
         * sign-extended, which sets the top six bits after the shift */
        h ^= (uint32_t)(int32_t)(signed char)p[2] << 18;
        h += h >> 11;
        break;
    case 2:
        h += load_le16(p);
        h ^= h << 11;
        h += h >> 17;
        break;
    case 1:
        h += p[0];
        h ^= h << 10;
        h += h >> 1;
        break;
    default:
        break;
    }

    /* final avalanche */
    h ^= h << 3;
    h += h >> 5;
    h ^= h << 4;
    h += h >> 17;
    h ^= h << 25;
    h += h >> 6;
    return h;
}

/* Bob Jenkins' lookup3 hashlittle() with initval 13, the "jenkins" key hash of twemproxy. */
#include <stdint.h>

#include "hash/hash.h"

#define JENKINS_INITVAL 13u

static inline uint32_t rot(uint32_t x, unsigned k)
{
    return (x << k) | (x >> (32 - k));
}

static inline void jenkins_mix(uint32_t *a, uint32_t *b, uint32_t *c)
{
    *a -= *c;
    *a ^= rot(*c, 4);
    *c += *b;
    *b -= *a;
    *b ^= rot(*a, 6);
    *a += *c;
    *c -= *b;
    *c ^= rot(*b, 8);
    *b += *a;
    *a -= *c;
    *a ^= rot(*c, 16);
    *c += *b;
    *b -= *a;
    *b ^= rot(*a, 19);
    *a += *c;
    *c -= *b;
    *c ^= rot(*b, 4);
    *b += *a;
}

static inline void jenkins_final(uint32_t *a, uint32_t *b, uint32_t *c)
{
    *c ^= *b;
    *c -= rot(*b, 14);
    *a ^= *c;
    *a -= rot(*c, 11);
    *b ^= *a;
    *b -= rot(*a, 25);
    *c ^= *b;
    *c -= rot(*b, 16);
    *a ^= *c;
    *a -= rot(*c, 4);
    *b ^= *a;
    *b -= rot(*a, 14);
    *c ^= *b;
    *c -= rot(*b, 24);
}

/* Little-endian word from up to four bytes (missing high bytes count as zero). */
static inline uint32_t load_part(const unsigned char *p, size_t n)
{
    uint32_t v = 0;

    for (size_t i = 0; i < n && i < 4; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

/*
 * twemproxy picks a word, half-word or byte reading path by the key's alignment; on a
 * little-endian machine all three give the same value, so one byte-wise path is enough (and
 * it never reads past the key, as the word path does).
 */
uint32_t hash_jenkins(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint32_t a, b, c;

    a = b = c = 0xdeadbeefu + (uint32_t)len + JENKINS_INITVAL;
    for (; len > 12; len -= 12, p += 12) {
        a += load_part(p, 4);
        b += load_part(p + 4, 4);
        c += load_part(p + 8, 4);
        jenkins_mix(&a, &b, &c);
    }
    if (len == 0) {
        return c; /* an empty last block is not mixed */
    }
    a += load_part(p, len);
    if (len > 4) {
        b += load_part(p + 4, len - 4);
    }
    if (len > 8) {
        c += load_part(p + 8, len - 8);
    }
    jenkins_final(&a, &b, &c);
    return c;
}

/* MD5 (RFC 1321): the digest ketama hashes server names with, and the "md5" key hash. */
#include <stdint.h>
#include <string.h>

#include "hash/hash.h"

/* floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4 */
static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* per-round left-rotation amounts, four per round */
static const uint8_t md5_rot[4][4] = {
    {7, 12, 17, 22},
    {5, 9, 14, 20},
    {4, 11, 16, 23},
    {6, 10, 15, 21},
};

static inline uint32_t rotl32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static inline uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Mixes one 64-byte block into the four state words. */
static void md5_block(uint32_t st[4], const uint8_t block[64])
{
    uint32_t m[16];
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];

    for (int i = 0; i < 16; i++) {
        m[i] = load_le32(block + 4 * i);
    }
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned g;

        switch (i / 16) {
        case 0:
            f = (b & c) | (~b & d);
            g = i;
            break;
        case 1:
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
            break;
        }
        f += a + md5_k[i] + m[g];
        a = d;
        d = c;
        c = b;
        b += rotl32(f, md5_rot[i / 16][i % 4]);
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

void hash_md5_digest(const void *data, size_t len, uint8_t out[16])
{
    uint32_t st[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    const uint8_t *p = data;
    uint8_t tail[128];
    size_t left = len, ntail;
    uint64_t bits = (uint64_t)len * 8;

    for (; left >= 64; left -= 64, p += 64) {
        md5_block(st, p);
    }
    /* the remainder, the 0x80 marker, zero padding and the bit length: one or two blocks */
    ntail = left + 9 <= 64 ? 64 : 128;
    memset(tail, 0, sizeof(tail));
    if (left > 0) {
        memcpy(tail, p, left);
    }
    tail[left] = 0x80;
    store_le32(tail + ntail - 8, (uint32_t)bits);
    store_le32(tail + ntail - 4, (uint32_t)(bits >> 32));
    md5_block(st, tail);
    if (ntail == 128) {
        md5_block(st, tail + 64);
    }
    for (int i = 0; i < 4; i++) {
        store_le32(out + 4 * i, st[i]);
    }
}

uint32_t hash_md5(const char *key, size_t len)
{
    uint8_t digest[16];

    hash_md5_digest(key, len, digest);
    return load_le32(digest);
}

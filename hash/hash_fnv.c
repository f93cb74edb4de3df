/* The FNV key hashes (fnv1_64, fnv1a_64, fnv1_32, fnv1a_32) with twemproxy's quirks. */
#include <stdint.h>

#include "hash/hash.h"

#define FNV64_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME  UINT64_C(0x100000001b3)
#define FNV32_OFFSET UINT32_C(2166136261)
#define FNV32_PRIME  UINT32_C(16777619)

/*
 * twemproxy widens each key byte from a plain (signed, on x86) char, so a byte >= 0x80 enters
 * the hash sign-extended: 0xff becomes 0xffffffff (or 0xffffffffffffffff in fnv1_64). We read
 * through signed char explicitly so placement is the same on targets where char is unsigned.
 */

uint32_t hash_fnv1_64(const char *key, size_t len)
{
    const signed char *p = (const signed char *)key;
    uint64_t h = FNV64_OFFSET;

    for (size_t i = 0; i < len; i++) {
        h *= FNV64_PRIME;
        h ^= (uint64_t)(int64_t)p[i];
    }
    return (uint32_t)h;
}

/* twemproxy's fnv1a_64 runs in 32 bits: both the offset basis and the prime are truncated to
 * their low 32 bits (0x84222325 and 0x1b3), so it is neither FNV-1a 64 nor FNV-1a 32. */
uint32_t hash_fnv1a_64(const char *key, size_t len)
{
    const signed char *p = (const signed char *)key;
    uint32_t h = (uint32_t)FNV64_OFFSET;

    for (size_t i = 0; i < len; i++) {
        h ^= (uint32_t)(int32_t)p[i];
        h *= (uint32_t)FNV64_PRIME;
    }
    return h;
}

uint32_t hash_fnv1_32(const char *key, size_t len)
{
    const signed char *p = (const signed char *)key;
    uint32_t h = FNV32_OFFSET;

    for (size_t i = 0; i < len; i++) {
        h *= FNV32_PRIME;
        h ^= (uint32_t)(int32_t)p[i];
    }
    return h;
}

uint32_t hash_fnv1a_32(const char *key, size_t len)
{
    const signed char *p = (const signed char *)key;
    uint32_t h = FNV32_OFFSET;

    for (size_t i = 0; i < len; i++) {
        h ^= (uint32_t)(int32_t)p[i];
        h *= FNV32_PRIME;
    }
    return h;
}

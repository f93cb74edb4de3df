/* The key hash table: names and functions indexed by enum hash_type, and the dispatch. */
#include <stdint.h>
#include <string.h>

#include "hash/hash.h"

typedef uint32_t (*hash_fn)(const char *key, size_t len);

static const struct hash_def {
    const char *name; /* as written in nutcracker.yml */
    hash_fn fn;
} hash_defs[HASH_COUNT] = {
    [HASH_ONE_AT_A_TIME] = {"one_at_a_time", hash_one_at_a_time},
    [HASH_MD5] = {"md5", hash_md5},
    [HASH_CRC16] = {"crc16", hash_crc16},
    [HASH_CRC32] = {"crc32", hash_crc32},
    [HASH_CRC32A] = {"crc32a", hash_crc32a},
    [HASH_FNV1_64] = {"fnv1_64", hash_fnv1_64},
    [HASH_FNV1A_64] = {"fnv1a_64", hash_fnv1a_64},
    [HASH_FNV1_32] = {"fnv1_32", hash_fnv1_32},
    [HASH_FNV1A_32] = {"fnv1a_32", hash_fnv1a_32},
    [HASH_HSIEH] = {"hsieh", hash_hsieh},
    [HASH_MURMUR] = {"murmur", hash_murmur},
    [HASH_JENKINS] = {"jenkins", hash_jenkins},
};

uint32_t hash_key(enum hash_type type, const char *key, size_t len)
{
    if ((unsigned)type >= HASH_COUNT) {
        return 0;
    }
    return hash_defs[type].fn(key, len);
}

/* Only the configuration loader calls this, so a linear scan is fine. Names are matched
 * exactly, case included, as twemproxy does. */
int hash_from_name(const char *name, size_t len)
{
    for (int i = 0; i < HASH_COUNT; i++) {
        const char *n = hash_defs[i].name;

        if (strlen(n) == len && memcmp(n, name, len) == 0) {
            return i;
        }
    }
    return -1;
}

const char *hash_name(enum hash_type type)
{
    if ((unsigned)type >= HASH_COUNT) {
        return NULL;
    }
    return hash_defs[type].name;
}

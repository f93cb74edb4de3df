/* The twelve key hash functions of twemproxy 0.5.0, bit-for-bit, behind one enum. */
#ifndef RP_HASH_H
#define RP_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Order and names follow twemproxy's hash_type list (the names accepted in nutcracker.yml). */
enum hash_type {
    HASH_ONE_AT_A_TIME,
    HASH_MD5,
    HASH_CRC16,
    HASH_CRC32,
    HASH_CRC32A,
    HASH_FNV1_64,
    HASH_FNV1A_64,
    HASH_FNV1_32,
    HASH_FNV1A_32,
    HASH_HSIEH,
    HASH_MURMUR,
    HASH_JENKINS,
    HASH_COUNT
};

/* Hashes len bytes of key with the given function, exactly as twemproxy does (signed-char
 * quirks included). Pure; key may be NULL when len is 0. */
uint32_t hash_key(enum hash_type type, const char *key, size_t len);

/* Looks up a hash by its nutcracker.yml name (e.g. "fnv1a_64"); returns -1 if unknown. */
int hash_from_name(const char *name, size_t len);

/* The nutcracker.yml name of a hash function. */
const char *hash_name(enum hash_type type);

/* MD5 digest of len bytes into out[16]; used by the md5 hash and by ketama. */
void hash_md5_digest(const void *data, size_t len, uint8_t out[16]);

/* The functions behind hash_key, one per enum value, for callers that pick one once (and for
 * tests). Same contract as hash_key. Key bytes >= 0x80 are taken the way twemproxy takes them on
 * x86, where char is signed: one_at_a_time, the four fnv and one byte of hsieh see them
 * sign-extended; the others see them as 0x80..0xff. */
uint32_t hash_one_at_a_time(const char *key, size_t len);
uint32_t hash_md5(const char *key, size_t len);
uint32_t hash_crc16(const char *key, size_t len);
uint32_t hash_crc32(const char *key, size_t len);
uint32_t hash_crc32a(const char *key, size_t len);
uint32_t hash_fnv1_64(const char *key, size_t len);
uint32_t hash_fnv1a_64(const char *key, size_t len);
uint32_t hash_fnv1_32(const char *key, size_t len);
uint32_t hash_fnv1a_32(const char *key, size_t len);
uint32_t hash_hsieh(const char *key, size_t len);
uint32_t hash_murmur(const char *key, size_t len);
uint32_t hash_jenkins(const char *key, size_t len);

#endif

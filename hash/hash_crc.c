/* The CRC key hashes: crc16 (twemproxy's unmasked CRC-16/XMODEM), crc32 (libmemcached's
 * 15-bit variant) and crc32a (plain CRC-32). */
#include <stdint.h>

#include "hash/hash.h"

/*
 * Both tables are derived from their polynomial by the preprocessor, so there is no table of
 * magic numbers to get wrong: entry n is n pushed through eight shift/xor steps. CRC-32 is
 * reflected (shifts right); CRC-16/XMODEM is not (shifts left, byte in the top of 16 bits).
 */
#define CRC32_STEP(c)      (((c) >> 1) ^ (0xedb88320u & (0u - ((c)&1u))))
#define CRC16_STEP(c)      ((((c) << 1) ^ (0x1021u & (0u - (((c) >> 15) & 1u)))) & 0xffffu)
#define CRC_STEP2(step, c) step(step(c))
#define CRC_STEP8(step, c) CRC_STEP2(step, CRC_STEP2(step, CRC_STEP2(step, CRC_STEP2(step, c))))

#define CRC32_ENTRY(n) CRC_STEP8(CRC32_STEP, (uint32_t)(n))
#define CRC16_ENTRY(n) CRC_STEP8(CRC16_STEP, (uint32_t)(n) << 8)

#define CRC_ROW4(e, n) e(n), e((n) + 1), e((n) + 2), e((n) + 3)
#define CRC_ROW16(e, n)                                                                            \
    CRC_ROW4(e, n), CRC_ROW4(e, (n) + 4), CRC_ROW4(e, (n) + 8), CRC_ROW4(e, (n) + 12)
#define CRC_ROW64(e, n)                                                                            \
    CRC_ROW16(e, n), CRC_ROW16(e, (n) + 16), CRC_ROW16(e, (n) + 32), CRC_ROW16(e, (n) + 48)
#define CRC_TABLE(e) CRC_ROW64(e, 0), CRC_ROW64(e, 64), CRC_ROW64(e, 128), CRC_ROW64(e, 192)

static const uint16_t crc16_table[256] = {CRC_TABLE(CRC16_ENTRY)}; /* poly 0x1021 */
static const uint32_t crc32_table[256] = {CRC_TABLE(CRC32_ENTRY)}; /* poly 0x04c11db7 */

/* Plain reflected CRC-32 register update over len bytes, without the final inversion. */
static uint32_t crc32_update(uint32_t crc, const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;

    for (size_t i = 0; i < len; i++) {
        crc = (crc >> 8) ^ crc32_table[(crc ^ p[i]) & 0xff];
    }
    return crc;
}

/*
 * CRC-16/XMODEM (poly 0x1021, init 0), but twemproxy keeps the register in 32 bits and never
 * masks it, so each step's "crc << 8" carries the older bytes up into bits 16..31. The low 16
 * bits are the real CRC ("123456789" gives 0x31c3 there); the whole 32-bit value is the hash.
 */
uint32_t hash_crc16(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint32_t crc = 0;

    for (size_t i = 0; i < len; i++) {
        crc = (crc << 8) ^ crc16_table[((crc >> 8) ^ p[i]) & 0xff];
    }
    return crc;
}

/* libmemcached's "crc32": the real CRC-32 shifted down 16 and cut to 15 bits. The byte is
 * masked to 8 bits before the lookup, so a signed char read changes nothing here. */
uint32_t hash_crc32(const char *key, size_t len)
{
    uint32_t crc = ~crc32_update(UINT32_MAX, key, len);

    return (crc >> 16) & 0x7fff;
}

uint32_t hash_crc32a(const char *key, size_t len)
{
    return ~crc32_update(UINT32_MAX, key, len);
}

/* memcached's meta protocol: base64 keys decoded as memcached decodes them. */
#include "proto/mc_meta.h"

#include <stdbool.h>

/* The value of a base64 character, 64 for '=' (it counts, and stands for 0 bits), or -1 for a
 * byte memcached skips. */
static int mc_b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    if (c == '=')
        return 64;
    return -1;
}

size_t mc_b64_decode(const uint8_t *src, size_t len, uint8_t *out, size_t cap)
{
    size_t count = 0, o = 0;
    uint32_t group = 0;
    unsigned in_group = 0, pad = 0;

    for (size_t i = 0; i < len; i++)
        if (mc_b64_value(src[i]) >= 0)
            count++;
    /* the whole output is sized (and checked against cap) before any padding is dropped */
    if (count == 0 || count % 4 != 0 || count / 4 * 3 > cap)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int v = mc_b64_value(src[i]);

        if (v < 0)
            continue;
        if (v == 64) {
            pad++;
            v = 0;
        }
        group = group << 6 | (uint32_t)v;
        if (++in_group < 4)
            continue;
        out[o++] = (uint8_t)(group >> 16);
        out[o++] = (uint8_t)(group >> 8);
        out[o++] = (uint8_t)group;
        group = 0;
        in_group = 0;
        if (pad > 2)
            return 0;
        if (pad > 0)
            return o - pad;
    }
    return o;
}

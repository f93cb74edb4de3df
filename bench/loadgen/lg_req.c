/* memcached text and RESP request encoders (see lg_req.h). */
#include "lg_req.h"

#include <string.h>

/* Writes v in decimal, at least `width` digits (zero-padded); returns the digits written. */
static size_t put_uint(char *dst, uint64_t v, unsigned width)
{
    char tmp[24];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width)
        tmp[n++] = '0';
    for (unsigned i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

static size_t put(char *dst, const char *s, size_t len)
{
    memcpy(dst, s, len);
    return len;
}

size_t lg_key_format(char *dst, const struct lg_keyfmt *kf, uint32_t idx)
{
    size_t n = put(dst, kf->prefix, kf->prefix_len);
    return n + put_uint(dst + n, idx, 8);
}

size_t lg_req_max(enum lg_proto proto, const struct lg_keyfmt *kf, uint32_t width, size_t vlen)
{
    size_t key = kf->prefix_len + LG_KEY_DIGITS_MAX;
    size_t get, set;
    if (proto == LG_PROTO_MC) {
        get = 4 + (size_t)width * (key + 1) + 2; /* get{ key}\r\n */
        set = 4 + key + 5 + 20 + 2 + vlen + 2;   /* set key 0 0 n\r\n..\r\n */
    } else if (proto == LG_PROTO_META) {
        get = (size_t)width * (3 + key + 6) + 4; /* {mg key v q\r\n}mn\r\n */
        set = 3 + key + 1 + 20 + 5 + vlen + 2;   /* ms key n T0\r\n..\r\n */
    } else {
        get = 1 + 10 + 2 + 4 + 4 + 2 +                /* *n\r\n$4\r\nMGET\r\n */
              (size_t)width * (1 + 20 + 2 + key + 2); /* $len\r\nkey\r\n */
        set = 4 + 4 + 5 + (1 + 20 + 2 + key + 2) + (1 + 20 + 2 + vlen + 2);
    }
    return get > set ? get : set;
}

size_t lg_req_get(char *dst, enum lg_proto proto, const struct lg_keyfmt *kf, const uint32_t *keys,
                  uint32_t n)
{
    size_t p = 0;
    if (proto == LG_PROTO_MC) {
        p += put(dst + p, "get", 3);
        for (uint32_t i = 0; i < n; i++) {
            dst[p++] = ' ';
            p += lg_key_format(dst + p, kf, keys[i]);
        }
        p += put(dst + p, "\r\n", 2);
        return p;
    }
    if (proto == LG_PROTO_META) {
        for (uint32_t i = 0; i < n; i++) {
            p += put(dst + p, "mg ", 3);
            p += lg_key_format(dst + p, kf, keys[i]);
            p += n == 1 ? put(dst + p, " v\r\n", 4) : put(dst + p, " v q\r\n", 6);
        }
        if (n > 1)
            p += put(dst + p, "mn\r\n", 4);
        return p;
    }
    if (n == 1) {
        p += put(dst + p, "*2\r\n$3\r\nGET\r\n", 13);
    } else {
        dst[p++] = '*';
        p += put_uint(dst + p, (uint64_t)n + 1, 1);
        p += put(dst + p, "\r\n$4\r\nMGET\r\n", 12);
    }
    for (uint32_t i = 0; i < n; i++) {
        char key[256 + LG_KEY_DIGITS_MAX];
        size_t klen = lg_key_format(key, kf, keys[i]);
        dst[p++] = '$';
        p += put_uint(dst + p, klen, 1);
        p += put(dst + p, "\r\n", 2);
        p += put(dst + p, key, klen);
        p += put(dst + p, "\r\n", 2);
    }
    return p;
}

size_t lg_req_set(char *dst, enum lg_proto proto, const struct lg_keyfmt *kf, uint32_t key,
                  const char *val, size_t vlen)
{
    size_t p = 0;
    if (proto == LG_PROTO_MC) {
        p += put(dst + p, "set ", 4);
        p += lg_key_format(dst + p, kf, key);
        p += put(dst + p, " 0 0 ", 5);
        p += put_uint(dst + p, vlen, 1);
        p += put(dst + p, "\r\n", 2);
    } else if (proto == LG_PROTO_META) {
        p += put(dst + p, "ms ", 3);
        p += lg_key_format(dst + p, kf, key);
        dst[p++] = ' ';
        p += put_uint(dst + p, vlen, 1);
        p += put(dst + p, " T0\r\n", 5);
    } else {
        char name[256 + LG_KEY_DIGITS_MAX];
        size_t klen = lg_key_format(name, kf, key);
        p += put(dst + p, "*3\r\n$3\r\nSET\r\n$", 14);
        p += put_uint(dst + p, klen, 1);
        p += put(dst + p, "\r\n", 2);
        p += put(dst + p, name, klen);
        p += put(dst + p, "\r\n$", 3);
        p += put_uint(dst + p, vlen, 1);
        p += put(dst + p, "\r\n", 2);
    }
    p += put(dst + p, val, vlen);
    p += put(dst + p, "\r\n", 2);
    return p;
}

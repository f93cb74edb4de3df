/* Formatting of the loader's error message (one line, positions 1-based). */
#include "conf/conf_err.h"

#include <stdarg.h>
#include <stdio.h>

void conf_err_at(struct conf_err *e, int line, int col, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (e->set) {
        return;
    }
    e->set = true;
    if (e->buf == NULL || e->len == 0) {
        return;
    }
    if (line > 0) {
        n = snprintf(e->buf, e->len, "%s:%d:%d: ", e->file, line, col);
    } else {
        n = snprintf(e->buf, e->len, "%s: ", e->file);
    }
    if (n < 0 || (size_t)n >= e->len) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
    va_end(ap);
}

const char *conf_quote(char *dst, size_t n, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    size_t i;

    if (n == 0) {
        return dst;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = (c < 0x20 || c >= 0x7f) ? 4 : (c == '\'' || c == '\\') ? 2 : 1;

        /* keep room for "...", the NUL, and this byte */
        if (o + need + 4 > n || o + need > CONF_QUOTE_MAX) {
            break;
        }
        if (need == 4) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        } else {
            if (need == 2) {
                dst[o++] = '\\';
            }
            dst[o++] = (char)c;
        }
    }
    if (i < len && o + 4 <= n) {
        dst[o++] = '.';
        dst[o++] = '.';
        dst[o++] = '.';
    }
    dst[o < n ? o : n - 1] = '\0';
    return dst;
}

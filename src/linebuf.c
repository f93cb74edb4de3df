/* Line gathering for lines split over receive buffers. */
#include "src/linebuf.h"

#include <stdlib.h>
#include <string.h>

int linebuf_append(struct linebuf *lb, const uint8_t *p, uint32_t n, uint32_t max)
{
    if ((uint64_t)lb->len + n > max)
        return -1;
    if (lb->len + n > lb->cap) {
        uint32_t cap = lb->cap ? lb->cap : 256;
        while (cap < lb->len + n)
            cap *= 2;
        uint8_t *q = realloc(lb->p, cap);
        if (q == NULL)
            return -1;
        lb->p = q;
        lb->cap = cap;
    }
    memcpy(lb->p + lb->len, p, n);
    lb->len += n;
    return 0;
}

const uint8_t *linebuf_finish(struct linebuf *lb, const uint8_t *p, uint32_t n, uint32_t max,
                              uint32_t *len)
{
    if (lb->len == 0) {
        *len = n;
        return p;
    }
    if (linebuf_append(lb, p, n, max) < 0)
        return NULL;
    *len = lb->len;
    return lb->p;
}

void linebuf_reset(struct linebuf *lb)
{
    lb->len = 0;
    if (lb->cap > 4096)
        linebuf_free(lb);
}

void linebuf_free(struct linebuf *lb)
{
    free(lb->p);
    lb->p = NULL;
    lb->len = lb->cap = 0;
}

/* A command or reply line that arrived split over receive buffers, gathered for the tokenizer
 * (the forwarded bytes stay slices; this copy is only read). Allocated only while needed. */
#ifndef RP_LINEBUF_H
#define RP_LINEBUF_H

#include <stdint.h>

struct linebuf {
    uint8_t *p;
    uint32_t len;
    uint32_t cap;
};

/* Appends n bytes of a line still going on. Returns 0, or -1 when the line would pass max
 * bytes or memory ran out. */
int linebuf_append(struct linebuf *lb, const uint8_t *p, uint32_t n, uint32_t max);

/* The line that ends with the n bytes at p: p itself when nothing was gathered before,
 * else lb with those bytes appended. *len receives its length; NULL when it does not fit.
 * The result stays valid until linebuf_reset. */
const uint8_t *linebuf_finish(struct linebuf *lb, const uint8_t *p, uint32_t n, uint32_t max,
                              uint32_t *len);

/* Empties lb for the next line, giving back a large allocation. */
void linebuf_reset(struct linebuf *lb);
void linebuf_free(struct linebuf *lb);

#endif

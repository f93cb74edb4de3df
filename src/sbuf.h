/* A growable string for the stats readers: appends never fail halfway, an allocation failure
 * is remembered (oom) and the result dropped by the caller. */
#ifndef RP_SBUF_H
#define RP_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included. */
void sb_json_str(struct sbuf *b, const char *s);

#endif

/* The configuration loader's one error message: "file:line:col: what is wrong", first error wins.
 */
#ifndef RP_CONF_ERR_H
#define RP_CONF_ERR_H

#include <stdbool.h>
#include <stddef.h>

/* Longest quoted value a message shows; longer values are cut and end in "...". */
#define CONF_QUOTE_MAX 96

struct conf_err {
    char *buf;        /* caller's buffer, may be NULL */
    size_t len;       /* its size, may be 0 */
    const char *file; /* name put in front of every message */
    bool set;         /* a message was written: later ones are dropped */
};

/* Writes "file:line:col: " then the formatted text, unless an error is already set.
 * line 0 leaves out the position ("file: text"). */
void conf_err_at(struct conf_err *e, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copies len bytes of s into dst (size n) for a message: control and non-ASCII bytes are
 * escaped as \xNN, quotes and backslashes get a backslash, and the result is cut at
 * CONF_QUOTE_MAX with "...". Returns dst. */
const char *conf_quote(char *dst, size_t n, const char *s, size_t len);

#endif

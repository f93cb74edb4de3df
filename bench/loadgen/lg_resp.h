/* RESP2 replies as the load generator sees them: a resumable parser that consumes a server's
 * byte stream in pieces of any size and reports each complete top-level reply, with counts of
 * what it held (bulk strings, nils, errors). Pure: never allocates, never touches a socket. */
#ifndef LG_RESP_H
#define LG_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_RESP_LINE_KEEP 256           /* bytes of a line kept (error messages are cut) */
#define LG_RESP_LINE_MAX  65536         /* a longer line is a broken stream */
#define LG_RESP_BULK_MAX  (512ll << 20) /* redis's proto-max-bulk-len default */
#define LG_RESP_ARRAY_MAX (1ll << 24)
#define LG_RESP_DEPTH_MAX 8

enum lg_resp_status {
    LG_RESP_AGAIN, /* everything fed was consumed, the reply is not complete yet */
    LG_RESP_DONE,  /* a reply ended after *consumed bytes; *out describes it */
    LG_RESP_BAD,   /* not RESP2: the connection cannot be trusted any more */
};

enum lg_resp_kind {
    LG_RESP_SIMPLE, /* +OK */
    LG_RESP_ERR,    /* -ERR ... */
    LG_RESP_INT,    /* :1 */
    LG_RESP_BULK,   /* $3 foo */
    LG_RESP_NIL,    /* $-1 or *-1 */
    LG_RESP_ARRAY,  /* *n ... */
};

struct lg_resp_reply {
    enum lg_resp_kind kind; /* type of the top-level value */
    uint32_t elems;         /* LG_RESP_ARRAY: its length */
    uint32_t bulks;         /* non-nil bulk strings anywhere in the reply */
    uint32_t nils;          /* nil values anywhere in the reply (a top-level nil included) */
    uint32_t errors;        /* error values anywhere in the reply (a top-level error included) */
};

struct lg_resp_parser {
    uint8_t state;                   /* line, bulk data, or its "\r\n" */
    uint8_t depth;                   /* arrays open */
    bool truncated;                  /* the current line is longer than LG_RESP_LINE_KEEP */
    uint32_t line_len;               /* bytes of the current line so far (kept or not) */
    uint64_t data_left;              /* bytes of the current bulk string still to skip */
    int64_t left[LG_RESP_DEPTH_MAX]; /* elements still due at each open array level */
    struct lg_resp_reply cur;        /* the reply in progress */
    char line[LG_RESP_LINE_KEEP];
};

void lg_resp_parser_init(struct lg_resp_parser *p);

/* Consumes bytes of buf[0..len) up to the end of the next complete reply: LG_RESP_DONE with
 * *consumed up to and including its last byte, LG_RESP_AGAIN with *consumed == len, or
 * LG_RESP_BAD. After DONE, call again with the rest of the buffer. */
enum lg_resp_status lg_resp_feed(struct lg_resp_parser *p, const char *buf, size_t len,
                                 size_t *consumed, struct lg_resp_reply *out);

/* The last line fed, without its type byte and "\r\n" (at most LG_RESP_LINE_KEEP bytes): after
 * DONE with a top-level LG_RESP_ERR, the server's error message. */
const char *lg_resp_last_line(const struct lg_resp_parser *p, size_t *len);

#endif

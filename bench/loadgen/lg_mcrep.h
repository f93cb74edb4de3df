/* memcached text replies as the load generator sees them: a resumable parser that consumes a
 * server's byte stream in pieces of any size and reports each complete reply (a get's VALUE
 * blocks up to END, or one status line). Pure: never allocates, never touches a socket. */
#ifndef LG_MCREP_H
#define LG_MCREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_MC_LINE_KEEP 512          /* bytes of a line kept for tokenising */
#define LG_MC_LINE_MAX  65536        /* a longer line is a broken stream */
#define LG_MC_VALUE_MAX (1ull << 30) /* a larger VALUE block is a broken stream */

enum lg_mc_status {
    LG_MC_AGAIN, /* everything fed was consumed, the reply is not complete yet */
    LG_MC_DONE,  /* a reply ended after *consumed bytes; *out describes it */
    LG_MC_BAD,   /* not memcached's protocol: the connection cannot be trusted any more */
};

enum lg_mc_kind {
    LG_MC_VALUES,     /* retrieval reply: zero or more VALUE blocks, then END */
    LG_MC_STORED,     /* STORED */
    LG_MC_NOT_STORED, /* NOT_STORED, EXISTS, NOT_FOUND: a storage command did nothing */
    LG_MC_ERROR,      /* ERROR, CLIENT_ERROR ..., SERVER_ERROR ... (ends a get reply too) */
};

struct lg_mc_reply {
    enum lg_mc_kind kind;
    uint32_t hits; /* VALUE blocks seen (also for an error that cut a get reply short) */
};

/* Meta replies (set p->meta after lg_mc_parser_init): VA <n> with its block, EN, HD, NS/EX/NF,
 * MN. ONE: a read's reply is one VA or EN; QUIET: a read (quiet gets and an mn) is every VA up
 * to the MN. HD is a write's reply in both. */
enum { LG_MC_TEXT = 0, LG_MC_META_ONE, LG_MC_META_QUIET };

struct lg_mc_parser {
    uint8_t state;      /* line, data block, or its "\r\n" */
    uint8_t meta;       /* LG_MC_TEXT or a meta mode */
    bool truncated;     /* the current line is longer than LG_MC_LINE_KEEP */
    uint32_t line_len;  /* bytes of the current line so far (kept or not) */
    uint32_t hits;      /* VALUE blocks of the reply in progress */
    uint64_t data_left; /* bytes of the current VALUE block still to skip */
    char line[LG_MC_LINE_KEEP];
};

void lg_mc_parser_init(struct lg_mc_parser *p);

/* Consumes bytes of buf[0..len) up to the end of the next complete reply. Returns LG_MC_DONE
 * with *consumed up to and including its last byte, LG_MC_AGAIN with *consumed == len, or
 * LG_MC_BAD. After DONE, call again with the rest of the buffer. */
enum lg_mc_status lg_mc_feed(struct lg_mc_parser *p, const char *buf, size_t len, size_t *consumed,
                             struct lg_mc_reply *out);

/* The text of the last line fed without its "\r\n" (at most LG_MC_LINE_KEEP bytes): after
 * DONE with kind LG_MC_ERROR, the server's error message. */
const char *lg_mc_last_line(const struct lg_mc_parser *p, size_t *len);

#endif

/* memcached ASCII replies from a server: a resumable framer that finds where each reply
 * (and each VALUE item within a retrieval reply) ends, and a pure classifier for one line. */
#ifndef RP_MC_RSP_H
#define RP_MC_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/mc_req.h"

enum mc_rsp_type {
    MC_RSP_VALUE = 1,  /* "VALUE key flags bytes [cas]": a data block follows */
    MC_RSP_END,        /* "END": end of a retrieval reply (also ends stats) */
    MC_RSP_STAT,       /* "STAT ...": a stats line (more follow until END) */
    MC_RSP_LINE,       /* any other one-line reply: STORED, NOT_FOUND, DELETED, OK, a number, ... */
    MC_RSP_ERROR,      /* ERROR, CLIENT_ERROR ..., SERVER_ERROR ...: ends any reply */
    MC_RSP_INVALID,    /* not a memcached reply: the server connection must be closed */
    MC_RSP_META_VALUE, /* "VA <bytes> <flags>*": a meta reply with a data block */
    MC_RSP_META,       /* HD EN NF NS EX (each with flags or none), "ME <...>": a meta reply */
    MC_RSP_MN,         /* "MN": every meta request before the mn is answered */
};

/* A classified reply line; tokens are offsets into the line. */
struct mc_rsp_line {
    enum mc_rsp_type type;
    struct mc_tok key; /* VALUE */
    uint32_t flags;    /* VALUE */
    uint64_t data_len; /* VALUE, META_VALUE: bytes in the data block */
};

/* Classifies one complete reply line (len bytes including "\r\n"). Pure. A VALUE line with
 * a missing or bad length, or a data length above max_value, is MC_RSP_INVALID. */
void mc_rsp_parse_line(const uint8_t *line, size_t len, uint64_t max_value,
                       struct mc_rsp_line *out);

enum mc_rsp_status {
    MC_RSP_AGAIN = 0, /* all consumed; feed more */
    MC_RSP_GOT_LINE,  /* a line ended (the last f->line_len bytes consumed); classify it, then
                       * call mc_rsp_framer_expect_data() after a VALUE line */
    MC_RSP_GOT_DATA,  /* a VALUE's data block (and its "\r\n") ended at *consumed */
    MC_RSP_BAD,       /* framing lost (line too long, bad data terminator): close the server */
};

void mc_rsp_framer_init(struct mc_framer *f);

/* Feeds len bytes of a server's stream; like mc_framer_feed. max_line caps a reply line. */
enum mc_rsp_status mc_rsp_framer_feed(struct mc_framer *f, uint32_t max_line, const uint8_t *buf,
                                      size_t len, size_t *consumed);

/* After a VALUE line: a data block of n bytes plus "\r\n" follows. */
void mc_rsp_framer_expect_data(struct mc_framer *f, uint64_t n);

/* Where the next byte fed will go, for callers that gather lines across buffers. After
 * GOT_LINE the state is MC_FS_LINE_DONE (line_len still describes that line) until the next
 * feed or expect_data, so test with these rather than with state == MC_FS_LINE.
 * in_line: the next byte belongs to a reply line (not to a data block or its "\r\n").
 * line_start: it is also the first byte of that line. */
bool mc_rsp_framer_in_line(const struct mc_framer *f);
bool mc_rsp_framer_line_start(const struct mc_framer *f);

#endif

/* memcached ASCII requests: a resumable framer (where does a request end?) and a pure
 * tokenizer for one command line. Neither allocates nor touches a socket. */
#ifndef RP_MC_REQ_H
#define RP_MC_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/mc_cmd.h"
#include "proto/mc_frame.h"

/* A piece of a line: offset and length relative to the start of the line. */
struct mc_tok {
    uint32_t off;
    uint32_t len;
};

/* Hard caps for one request. */
struct mc_limits {
    uint32_t max_key_length; /* memcached: 250 */
    uint32_t max_value_size; /* bytes in a data block */
    uint32_t max_line;       /* bytes in a command line, terminator included */
};

/* Framer results. */
enum mc_status {
    MC_AGAIN = 0, /* every byte consumed, request not finished: feed more */
    MC_LINE,      /* a command line ended: it is the last p->line_len bytes consumed so far,
                   * "\n" or "\r\n" included. Tokenize it, then call mc_framer_expect_data()
                   * for a storage command (or nothing) and feed the rest. */
    MC_DONE,      /* the request (line, and data block if any) ended at *consumed */
    MC_ERROR,     /* framing is lost: p->error says why; the connection must be closed */
};

void mc_framer_init(struct mc_framer *p, bool discard_data);

/* Feeds len bytes of the request stream. Sets *consumed to the bytes it used (<= len) and
 * returns MC_LINE / MC_DONE (stop at *consumed and act), MC_AGAIN (all used) or MC_ERROR.
 * A line longer than limits->max_line is an error ("line too long"). */
enum mc_status mc_framer_feed(struct mc_framer *p, const struct mc_limits *limits,
                              const uint8_t *buf, size_t len, size_t *consumed);

/* After MC_LINE: the request has a data block of n bytes (plus "\r\n") to frame next.
 * discard: swallow it (oversized value) rather than forward it. With n and no call, the
 * next feed returns MC_DONE at once with nothing consumed. */
void mc_framer_expect_data(struct mc_framer *p, uint64_t n, bool discard);

/* A tokenized command line. Keys and other tokens are offsets into the line. */
struct mc_req {
    enum mc_cmd cmd;
    bool noreply;
    uint32_t nkeys;      /* keys found (retrieval: all of them; others: 0 or 1) */
    struct mc_tok *keys; /* caller-provided array of key_cap entries */
    uint32_t key_cap;
    struct mc_tok name;    /* the command word */
    struct mc_tok exptime; /* gat/gats: the exptime token, to re-emit in split fragments */
    uint32_t flags;        /* storage */
    uint64_t data_len;     /* storage: bytes in the data block */
    uint64_t cas;          /* cas */
    uint64_t delta;        /* incr/decr */
    uint32_t line_end;     /* length of the line without its "\r\n" / "\n" */
};

enum mc_parse_result {
    MC_PARSE_OK = 0,
    MC_PARSE_UNKNOWN,       /* unknown command: reply CLIENT_ERROR, stream still in sync */
    MC_PARSE_BAD_FORMAT,    /* wrong arguments or number: CLIENT_ERROR, in sync (unless storage) */
    MC_PARSE_KEY_TOO_LONG,  /* CLIENT_ERROR, in sync (storage: data_len is valid; swallow it) */
    MC_PARSE_TOO_LARGE,     /* storage value over max_value_size: data_len is valid; swallow it */
    MC_PARSE_TOO_MANY_KEYS, /* more keys than key_cap */
    MC_PARSE_EMPTY,         /* empty or blank line */
};

/* Tokenizes one complete command line (len bytes including its terminator). Pure; fills req
 * (req->keys/key_cap must be set by the caller). For MC_PARSE_BAD_FORMAT on a storage command
 * whose byte count could not be read, the stream cannot be resynchronised: the caller closes. */
enum mc_parse_result mc_req_parse_line(const uint8_t *line, size_t len,
                                       const struct mc_limits *limits, struct mc_req *req);

/* Human-readable reason for a parse result, for "CLIENT_ERROR <reason>". */
const char *mc_parse_reason(enum mc_parse_result r);

/* Strict unsigned decimal: one or more ASCII digits, no sign, no blanks. Stores the value in
 * *out and returns true when it is <= max; false on any other byte, empty input or a value
 * above max (overflow included). Shared by the request and reply parsers. */
bool mc_parse_uint(const uint8_t *s, size_t len, uint64_t max, uint64_t *out);

#endif

/* RESP requests from a client: a resumable framer that finds each argument of a multibulk
 * request (the bytes themselves stay where they are: the caller forwards them as slices), and
 * a tokenizer for inline commands. Pure: no allocation, no I/O. The error texts are redis's
 * own (networking.c), so a client sees what redis-server would have sent. */
#ifndef RP_RD_REQ_H
#define RP_RD_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard caps of one request. */
struct rd_limits {
    uint32_t max_inline; /* an inline command line, and a "*N" or "$N" line (redis: 64 KiB) */
    uint64_t max_bulk;   /* one argument's payload (redis: proto-max-bulk-len) */
    uint32_t max_args;   /* arguments of one multibulk request */
    bool unauth;         /* the client has not authenticated yet and must: redis then allows at
                          * most 10 arguments and 16384-byte payloads */
};

#define RD_INLINE_MAX  (64u * 1024u)
#define RD_ARGS_MAX    (1024u * 1024u)
#define RD_UNAUTH_ARGS 10u
#define RD_UNAUTH_BULK 16384u

enum rd_req_state {
    RD_RS_START = 0, /* before a request's first byte */
    RD_RS_ARGC,      /* in "*N": digits up to '\r' */
    RD_RS_ARGC_LF,   /* the byte after that '\r' (redis does not check it is '\n') */
    RD_RS_DOLLAR,    /* expecting '$' */
    RD_RS_LEN,       /* in "$N": digits up to '\r' */
    RD_RS_LEN_LF,
    RD_RS_DATA,     /* in a payload */
    RD_RS_DATA_END, /* the two bytes after a payload (redis skips them unchecked) */
    RD_RS_INLINE,   /* in an inline line, up to '\n' */
    RD_RS_NEXT,     /* internal: after RD_REQ_ARG; the next feed moves argi to the next one */
    RD_RS_ERROR,    /* internal: after RD_REQ_ERROR; every later feed repeats it */
};

/* Framer state, kept across receive buffers. */
struct rd_req_framer {
    uint8_t state;    /* enum rd_req_state */
    bool is_inline;   /* the request being framed is an inline line */
    uint32_t argc;    /* arguments of the current multibulk request */
    uint32_t argi;    /* index of the argument being framed (after RD_REQ_ARG/DONE: the one
                       * that ended) */
    uint64_t req_off; /* bytes of the current request consumed so far */
    uint64_t arg_off; /* the argument's payload starts at this request offset */
    uint64_t arg_len; /* its payload length */
    uint64_t data_left;
    uint32_t line_len; /* bytes of the current "*N"/"$N"/inline line seen so far */
    int64_t num;       /* number being read */
    uint8_t numflags;  /* internal: sign, digits seen, validity */
    uint8_t lead;      /* internal: first byte of a "$N" line; redis checks that it is '$' only
                        * once the whole line is there, so a long line is "too big" first */
    const char *error; /* after RD_REQ_ERROR: redis's text after "ERR Protocol error: " */
};

enum rd_req_ev {
    RD_REQ_AGAIN = 0, /* every byte consumed; feed more */
    RD_REQ_ARG,       /* argument argi (not the last) ended at *consumed: its payload is the
                       * request's bytes [arg_off, arg_off + arg_len) */
    RD_REQ_DONE,      /* the last argument ended at *consumed (reported as with RD_REQ_ARG);
                       * argc == 0: an empty request ("*0", "*-1"), which redis ignores */
    RD_REQ_INLINE,    /* an inline line ended at *consumed: the request's req_off bytes,
                       * newline included; split it with rd_inline_split */
    RD_REQ_ERROR,     /* protocol error at *consumed: error says which; the connection must be
                       * closed after the error reply */
};

void rd_req_framer_init(struct rd_req_framer *f);

/* Runs over len bytes. Stops after each event (so *consumed bytes all belong to one request);
 * after RD_REQ_DONE or RD_REQ_INLINE the next call starts a new request. A feed of 0 bytes is
 * harmless. Where redis's verdict depends on how the bytes arrived, this one is what redis
 * says when they come one at a time, so it does not depend on the split:
 * - a "*N" or "$N" line is too big when max_inline bytes of it (the '*' or '$' counted) came
 *   and the next one is not '\r'; an inline line when max_inline bytes came and the next one
 *   is not '\n'. The error is then at that next byte, which is not consumed.
 * - any other error is decided at the end of its line (after the byte that follows '\r') and
 *   that byte is consumed.
 * - a NUL before the '\r' of a "*N"/"$N" line, or before the '\n' of an inline line, hides
 *   the end of the line from redis (it looks for it with strchr): the line goes on until it is
 *   too big, and the client waits until then, as with redis. */
enum rd_req_ev rd_req_feed(struct rd_req_framer *f, const struct rd_limits *lim, const uint8_t *buf,
                           size_t len, size_t *consumed);

/* One token of an inline command: either a range of the line (quoted == false) or, for a
 * token in quotes, its length once unescaped (decode it with rd_inline_unquote). */
struct rd_itok {
    uint32_t off, len; /* in the line: the token's bytes, quotes included */
    uint32_t dlen;     /* its decoded length */
    bool quoted;
};

/* Splits an inline line (len bytes, trailing "\r\n" or "\n" included or not) as redis's
 * sdssplitargs does: spaces, tabs, "\r\n" separate; "..." with \n \r \t \b \a \\ \" \xHH
 * escapes; '...' with only \' escaped. Fills at most cap tokens. Returns the number of tokens
 * (it may be > cap: call again with more room), or -1 for unbalanced quotes (redis's
 * "unbalanced quotes in request", also for a closing quote not followed by a space). As
 * there, a NUL ends the line (the framer never gives one), a quote may open inside a token
 * (a"b c" is "ab c"), and \v and \f are skipped between tokens but do not end one. */
int rd_inline_split(const uint8_t *line, size_t len, struct rd_itok *toks, uint32_t cap);

/* Writes the decoded bytes of tok (tok->dlen of them) to out. */
void rd_inline_unquote(const uint8_t *line, const struct rd_itok *tok, uint8_t *out);

#endif

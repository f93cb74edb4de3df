/* memcached ASCII requests: a resumable framer (where does a request end?) and a pure
 * tokenizer for one command line. Neither allocates nor touches a socket. */
#ifndef RP_MC_REQ_H
#define RP_MC_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/mc_cmd.h"
#include "proto/mc_frame.h"
#include "proto/mc_meta.h"

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

/* memcached closes, without a word, a connection whose buffer holds more than
 * MC_PLAIN_LINE_WAIT bytes of a line with no newline yet, unless the line is a get or gets
 * (a multi-get may be long): a longer line is answered when it arrives whole in one read, and
 * never past its read buffer, MC_PLAIN_LINE_MAX bytes (newline included). The proxy applies
 * the same two rules, the first at the end of each receive (mc_framer_line_overdue). */
#define MC_PLAIN_LINE_WAIT 2048
#define MC_PLAIN_LINE_MAX  16384

/* Framer results. */
enum mc_status {
    MC_AGAIN = 0, /* every byte consumed, request not finished: feed more */
    MC_LINE,      /* a command line ended: it is the last p->line_len bytes consumed so far,
                   * "\n" or "\r\n" included. Tokenize it, then call mc_framer_expect_data()
                   * for a storage command (or nothing) and feed the rest. */
    MC_DONE,      /* the request (line, and data block if any) ended at *consumed */
    MC_ERROR,     /* framing is lost: p->error says why; the connection must be closed (and,
                   * when mc_framer_silent_close() says so, without a word) */
};

void mc_framer_init(struct mc_framer *p, bool discard_data);

/* Feeds len bytes of the request stream. Sets *consumed to the bytes it used (<= len) and
 * returns MC_LINE / MC_DONE (stop at *consumed and act), MC_AGAIN (all used) or MC_ERROR.
 * A get or gets line longer than limits->max_line is an error ("line too long"); so is any
 * other line longer than MC_PLAIN_LINE_MAX (or max_line if lower), silently. A data block is
 * read as memcached reads it, its length and two more bytes whatever they are: at the MC_DONE
 * that ends it, p->bad_chunk says whether those two were not "\r\n". */
enum mc_status mc_framer_feed(struct mc_framer *p, const struct mc_limits *limits,
                              const uint8_t *buf, size_t len, size_t *consumed);

/* After MC_LINE: the request has a data block of n bytes (plus "\r\n") to frame next.
 * discard: swallow it (oversized value) rather than forward it. Without the call, the next
 * feed returns MC_DONE at once with nothing consumed. */
void mc_framer_expect_data(struct mc_framer *p, uint64_t n, bool discard);

/* After MC_ERROR: true when memcached would close without a word (a line too long that is not
 * a get or gets), false when the proxy says "CLIENT_ERROR line too long" first. */
bool mc_framer_silent_close(const struct mc_framer *p);

/* At the end of a receive: true when the line being framed is not a get or gets and has
 * more than MC_PLAIN_LINE_WAIT bytes and no newline yet, where memcached closes without a
 * word. */
bool mc_framer_line_overdue(const struct mc_framer *p);

/* A tokenized command line. Keys and other tokens are offsets into the line. */
struct mc_req {
    enum mc_cmd cmd;
    bool noreply;
    uint32_t nkeys;      /* keys found (retrieval: all of them; others: 0 or 1) */
    struct mc_tok *keys; /* caller-provided array of key_cap entries */
    uint32_t key_cap;
    struct mc_tok name;    /* the command word */
    struct mc_tok exptime; /* gat/gats: the exptime token, to re-emit in split fragments */
    struct mc_tok sub;     /* stats: the sub-command token (len 0: none) */
    uint32_t flags;        /* storage */
    uint64_t data_len;     /* storage: bytes in the data block */
    uint64_t cas;          /* cas */
    uint32_t line_end;     /* bytes memcached reads of the line: up to its "\r\n" / "\n" or
                            * a NUL, whichever comes first */
    bool quiet;            /* mg ms md ma: a flag token starts with 'q' (memcached's test), so
                            * the reply may be nothing: the proxy sends MC_META_END after it */
    bool b64;              /* meta: the key is base64 (the b flag) */
    uint32_t bkey_len;     /* b64: bytes of the decoded key in bkey; 0: it does not decode */
    uint8_t bkey[MC_META_BKEY_MAX];
};

/* What to do with a command line. Every answer the proxy gives itself is the line memcached
 * 1.6 gives for the same bytes (mc_parse_reply), and it is suppressed when req->noreply. */
enum mc_parse_result {
    MC_PARSE_OK = 0,        /* forward it (storage: its data block of data_len bytes follows) */
    MC_PARSE_ERROR,         /* "ERROR": empty line, unknown command, wrong number of tokens,
                             * a command the proxy does not carry (MC_KIND_REFUSED) */
    MC_PARSE_BAD_FORMAT,    /* "CLIENT_ERROR bad command line format": a key too long, or a
                             * storage command's bad number (no data block follows: memcached
                             * reads the next bytes as a command) */
    MC_PARSE_BAD_DELETE,    /* delete with arguments other than [0] [noreply] */
    MC_PARSE_BAD_EXPTIME,   /* gat/gats: "CLIENT_ERROR invalid exptime argument" */
    MC_PARSE_NO_KEYS,       /* gat/gats with an exptime and no key: "END" */
    MC_PARSE_TOO_LARGE,     /* storage, data_len over max_value_size: the block (data_len + 2
                             * bytes) is swallowed, then "SERVER_ERROR object too large for
                             * cache"; a set also unlinks the key's old value, as memcached */
    MC_PARSE_CLOSE,         /* an HTTP request line: close without a word, as memcached */
    MC_PARSE_TOO_MANY_KEYS, /* more keys than key_cap (the proxy's own limit) */
    MC_PARSE_META_LONG,     /* ms with more than MC_META_MAX_ARGS arguments: "CLIENT_ERROR
                             * options flags too long", no data block follows */
    MC_PARSE_META_BAD_KEY,  /* ms over max_value_size with a base64 key that does not decode:
                             * memcached's first complaint is the key's; the block is swallowed */
};

/* Tokenizes one complete command line (len bytes including its terminator) as memcached 1.6
 * does: bytes from a NUL on are ignored, tokens split on ' ' only, numbers read as its
 * safe_strto* functions read them (strtol and friends, then truncated to 32 bits where it
 * truncates). Pure; fills req (req->keys/key_cap must be set by the caller). Only what
 * framing and routing depend on is judged here: a keyed or broadcast command's other
 * arguments (a delta, an exptime) go to the server, which answers them itself. */
enum mc_parse_result mc_req_parse_line(const uint8_t *line, size_t len,
                                       const struct mc_limits *limits, struct mc_req *req);

/* The bytes a request is routed by: its first key, or for a meta command with the b flag the
 * key it decodes to (the raw token when it does not decode: its server then answers the error,
 * as it would have answered it). */
static inline const uint8_t *mc_req_route_key(const uint8_t *line, const struct mc_req *req,
                                              uint32_t *len)
{
    if (req->b64 && req->bkey_len > 0) {
        *len = req->bkey_len;
        return req->bkey;
    }
    *len = req->keys[0].len;
    return line + req->keys[0].off;
}

/* The reply line (with "\r\n") the proxy sends for r, in *len bytes; NULL for MC_PARSE_OK and
 * MC_PARSE_CLOSE. */
const char *mc_parse_reply(enum mc_parse_result r, uint32_t *len);

/* Strict unsigned decimal: one or more ASCII digits, no sign, no blanks. Stores the value in
 * *out and returns true when it is <= max; false on any other byte, empty input or a value
 * above max (overflow included). Shared by the request and reply parsers. */
bool mc_parse_uint(const uint8_t *s, size_t len, uint64_t max, uint64_t *out);

#endif

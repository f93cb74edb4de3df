/* RESP2 replies from a redis server: a resumable framer that finds where each reply ends
 * (all five types, arrays nested to RD_RSP_MAX_DEPTH, nil bulk strings and arrays), reports
 * the head of each reply and the end of each top-level array element (so a split MGET can be
 * merged in key order), and streams bulk payloads through without looking at them. Pure. */
#ifndef RP_RD_RSP_H
#define RP_RD_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RD_RSP_MAX_DEPTH 64

enum rd_rsp_type {
    RD_T_NONE = 0,
    RD_T_STATUS = '+',
    RD_T_ERROR = '-',
    RD_T_INT = ':',
    RD_T_BULK = '$',
    RD_T_ARRAY = '*',
};

struct rd_rsp_framer {
    uint8_t state;      /* internal */
    uint8_t type;       /* enum rd_rsp_type of the current reply's head (after RD_RSP_HEAD) */
    uint8_t ltype;      /* type byte of the line being read (any depth) */
    uint32_t depth;     /* arrays open */
    uint32_t line_len;  /* bytes of the current line seen so far (type byte and "\r\n" included) */
    int64_t num;        /* the head's number: ':' its value, '$' the length (-1 nil), '*' the count
                         * (-1 nil) */
    uint64_t nelem;     /* top-level elements of an array reply that have ended so far */
    uint64_t data_left; /* bulk payload (and its "\r\n") still to come */
    uint64_t left[RD_RSP_MAX_DEPTH]; /* elements still to come in each open array */
    int64_t pnum;                    /* internal: number being read */
    uint8_t pflags;                  /* internal */
    const char *error;               /* after RD_RSP_BAD: why */
};

enum rd_rsp_ev {
    RD_RSP_AGAIN = 0, /* every byte consumed; feed more */
    RD_RSP_HEAD,      /* the first line of a reply ended at *consumed (its last line_len bytes):
                       * type and num describe it. Feed on (a zero-length feed is fine) */
    RD_RSP_ELEM,      /* a top-level element of an array reply ended at *consumed (nelem
                       * counts it) */
    RD_RSP_DONE,      /* the reply ended at *consumed */
    RD_RSP_BAD,       /* not RESP2 (unknown type byte, bad number, a line over max_line, nesting
                       * too deep, a payload not ended by "\r\n", a bulk over max_bulk): the
                       * connection must be closed. *consumed includes the byte that showed
                       * it, but for a line over max_line, where it stops at max_line bytes; a
                       * check of a line's value (a length, a count, the nesting) is made once
                       * its "\r\n" is in. An array inside RD_RSP_MAX_DEPTH open ones is too
                       * deep, even an empty or a nil one. Every later call repeats it */
};

void rd_rsp_framer_init(struct rd_rsp_framer *f);

/* Runs over len bytes of a server's stream. Stops after each event; after RD_RSP_DONE the next
 * call starts a new reply. A reply that is only its head line (+, -, :, $-1, *-1, *0) reports
 * RD_RSP_HEAD and then, on the next call, RD_RSP_DONE without consuming anything; an array's
 * last element reports RD_RSP_ELEM, then RD_RSP_DONE the same way. */
enum rd_rsp_ev rd_rsp_feed(struct rd_rsp_framer *f, uint32_t max_line, uint64_t max_bulk,
                           const uint8_t *buf, size_t len, size_t *consumed);

/* True while the next byte fed belongs to the head line of a reply (callers gather that line
 * across buffers when they need its text, an error's say). Also true while a RD_RSP_DONE is
 * pending: the next byte after it starts the next reply. */
bool rd_rsp_in_head(const struct rd_rsp_framer *f);

#endif

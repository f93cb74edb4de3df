/* What one load-generator thread counts; merged over threads for the report. */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <stdint.h>

#include "lg_hist.h"

/* Why a connection was given up. */
enum lg_fail {
    LG_FAIL_REFUSED,         /* connect() failed: refused, unreachable, ... */
    LG_FAIL_CONNECT_TIMEOUT, /* no answer to connect() within --timeout */
    LG_FAIL_CLOSED,          /* the server closed it */
    LG_FAIL_IO,              /* reset, or a socket error of ours (EMFILE, ...) */
    LG_FAIL_PROTOCOL,        /* unparseable reply, or one that does not match the request */
    LG_FAIL_TIMEOUT,         /* requests in flight and no reply byte for --timeout */
    LG_FAIL_COUNT
};

extern const char *const lg_fail_names[LG_FAIL_COUNT];

#define LG_MSG_LEN 160

struct lg_stats {
    struct lg_hist hist; /* measured requests' latencies, in ns */
    uint64_t requests;   /* measured requests completed (a multi-get is one) */
    uint64_t gets, sets;
    uint64_t keys;         /* keys those requests named (a multi-get counts W) */
    uint64_t hits, misses; /* keys read that came back / did not (error replies excluded) */
    uint64_t errors;       /* error replies, and writes answered NOT_STORED etc. */
    uint64_t incomplete;   /* measured requests with no reply when the run ended or their
                            * connection failed: recorded in hist with a lower bound */
    uint64_t prefill_sets, prefill_errors;
    uint64_t connected;   /* connections that were established */
    uint64_t open_at_end; /* connections still open when the run ended */
    uint64_t touched;     /* idle mode: connections whose one request was answered */
    uint64_t failed[LG_FAIL_COUNT];
    uint64_t failed_total;
    double lag_sum; /* open loop: send time minus intended time, ns, measured */
    uint64_t lag_n, lag_max;
    uint64_t t_window_end;        /* CLOCK_MONOTONIC ns when this thread's window closed */
    double cpu_user_s, cpu_sys_s; /* thread CPU from window start to the end of the drain */
    char first_fail[LG_MSG_LEN];  /* text of the first connection failure */
    char first_error[LG_MSG_LEN]; /* text of the first error reply */
};

void lg_stats_init(struct lg_stats *s);

/* Adds src into dst: counts add up, t_window_end and lag_max take the larger, a message is
 * taken from src only when dst has none. */
void lg_stats_merge(struct lg_stats *dst, const struct lg_stats *src);

#endif

/* A load-generator thread: its own epoll loop over its share of the connections, which it
 * connects (and prefills), then drives in closed or open loop, or holds idle. */
#ifndef LG_WORKER_H
#define LG_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lg_opts.h"
#include "lg_rand.h"
#include "lg_req.h"
#include "lg_stats.h"

/* Read-only for the threads once they start, except the phase times, which main sets
 * between the two barriers (the barrier orders the writes before the threads read them). */
struct lg_shared {
    const struct lg_config *cfg;
    struct lg_keyfmt kf;
    const char *value;       /* cfg->value_size bytes, the payload of every write */
    size_t req_max;          /* upper bound of one encoded request */
    struct lg_zipf zipf;     /* when cfg->pattern is LG_KEYS_ZIPF */
    pthread_barrier_t ready; /* threads + main: every connection set up or failed */
    pthread_barrier_t go;    /* threads + main: the times below are set */
    uint64_t t_start;        /* CLOCK_MONOTONIC ns: open loop's schedule starts here */
    uint64_t t_warm;         /* measurement starts (t_start + warmup) */
    uint64_t t_end;          /* measurement ends; UINT64_MAX when bounded by requests */
};

struct lg_conn;

struct lg_worker {
    /* set by main before the thread starts */
    uint32_t id;
    struct lg_shared *sh;
    uint32_t first; /* global index of this thread's first connection */
    uint32_t nconns;
    bool limited;   /* closed loop bounded by --requests: quota applies */
    uint64_t quota; /* measured requests this thread issues when limited */
    pthread_t tid;
    /* the result, read by main after pthread_join */
    struct lg_stats st;
    /* private to the thread */
    int epfd;
    struct lg_conn *conns;
    struct lg_rng rng;
    char *rbuf;               /* receive scratch: the parsers keep no input bytes */
    uint32_t *keys;           /* scratch for one multi-get's key indexes */
    struct lg_conn **touched; /* connections to refill and flush after a batch of events */
    uint32_t ntouched;
    struct lg_conn **heap; /* open loop: connections that can send, by next due time */
    uint32_t heap_len;
    uint32_t next_connect; /* connections not yet started begin here */
    uint32_t connecting;   /* connects in progress */
    uint32_t unsettled;    /* connections whose setup (connect, prefill, touch) is due */
    uint32_t open;         /* connections open */
    uint64_t inflight;     /* requests sent or queued, not yet answered */
    uint64_t issued;       /* measured requests issued (for quota) */
    double ns_per_req;     /* open loop: 1e9 / rate */
    int phase;
};

/* Thread body: arg is a struct lg_worker set up as above. Always passes both barriers. */
void *lg_worker_main(void *arg);

/* CLOCK_MONOTONIC in ns. */
uint64_t lg_now(void);

#endif

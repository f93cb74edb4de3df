/* The load generator's configuration: one immutable struct built from the command line. */
#ifndef LG_OPTS_H
#define LG_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lg_req.h"

enum lg_pattern {
    LG_KEYS_UNIFORM,
    LG_KEYS_ZIPF,
};

struct lg_config {
    char server[300];             /* as given: host:port */
    struct sockaddr_storage addr; /* resolved once, every connection goes there */
    socklen_t addrlen;
    enum lg_proto proto;
    uint32_t conns;      /* total, over all threads */
    uint32_t threads;    /* clamped to conns */
    uint32_t pipeline;   /* requests in flight per connection */
    double get_fraction; /* share of requests that are reads */
    uint32_t keys;       /* key indexes are 0 .. keys-1 */
    enum lg_pattern pattern;
    double zipf_s;
    char key_prefix[201];
    uint32_t value_size; /* bytes of every value written */
    uint32_t width;      /* keys per read: 1 is get/GET, more is multi-get/MGET */
    bool prefill;        /* set every key once before the clock starts */
    double duration_s;   /* measured window; 0 when bounded by requests only */
    double warmup_s;
    uint64_t requests; /* measured requests in total; 0: bounded by duration */
    double rate;       /* open loop: requests/s in total; 0: closed loop */
    double timeout_s;  /* connect / reply stall limit, and the drain limit */
    bool json;
    uint32_t idle;   /* idle mode: connections to open and hold; 0: off */
    bool idle_touch; /* idle mode: one get on each connection first */
    uint64_t seed;
};

/* Fills cfg from argv. Returns 0 to run, 1 when --help was printed, -1 after printing an
 * error to stderr. */
int lg_opts_parse(struct lg_config *cfg, int argc, char **argv);

void lg_opts_usage(FILE *f);

#endif

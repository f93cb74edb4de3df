/* Redis clients: RESP requests framed as their bytes arrive and forwarded as the slices they
 * were received into, routed by key, split over servers and merged back (MGET, MSET, DEL and
 * the other counting commands), and the commands the proxy answers itself. */
#ifndef RP_RD_CLIENT_H
#define RP_RD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/rd_req.h"
#include "src/worker.h"

struct client;
struct msg;

/* Where one argument of the request being received is: its payload's offset from the
 * request's first byte, and its length. */
struct rd_arg {
    uint64_t off;
    uint64_t len;
};

/* A redis client's protocol state (client->rd). */
struct rd_conn {
    struct rd_req_framer fr;
    struct rd_arg *args; /* the arguments of the request being received, in order */
    uint32_t nargs, cap;
    uint8_t *kbuf; /* a key split over slices, gathered for hashing */
    uint32_t kcap;
    bool authed; /* AUTH succeeded (or the pool has no redis_auth) */
    char *name;  /* CLIENT SETNAME, NULL when none */
    uint64_t id; /* CLIENT ID, unique in the process */
};

/* Sets up c->rd for a client of a redis pool. Returns 0 or -1 (out of memory). */
int rd_conn_init(struct worker *w, struct client *c);
/* Frees c->rd (if any). */
void rd_conn_free(struct client *c);
/* Frames and handles the bytes buf[pos, n) of c, like client_parse: returns where a full
 * backlog stopped it (n when every byte was used). */
size_t rd_client_parse(struct worker *w, struct client *c, uint32_t buf, size_t pos, uint32_t n);
/* Every fragment of split request p is answered: builds p's reply (in p->rsp) from theirs. */
void rd_merge(struct worker *w, struct msg *p);

#endif

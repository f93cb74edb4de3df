/* Redis servers: replies framed as they arrive and streamed to their clients as slices, the
 * shapes a split request's parts must have checked, and the AUTH and SELECT every new server
 * connection starts with. */
#ifndef RP_RD_SERVER_H
#define RP_RD_SERVER_H

#include <stdint.h>

#include "src/worker.h"

struct sconn;
struct pool_rt;

/* Builds the pool's AUTH / SELECT commands from its configuration. Returns 0 or -1. */
int rd_pool_init(struct pool_rt *pool);
void rd_pool_destroy(struct pool_rt *pool);
/* Queues the pool's AUTH and SELECT on the new connection sc, ahead of any client's request. */
void rd_sconn_setup(struct worker *w, struct sconn *sc);
/* Frames n bytes of buffer buf received from sc (its head requests' replies). */
void rd_sconn_parse(struct worker *w, struct sconn *sc, uint32_t buf, uint32_t n);

#endif

/* The io_uring engine: implements the completion-style interface of src/io.h on one ring. */
#ifndef RP_UR_ENGINE_H
#define RP_UR_ENGINE_H

#include <stddef.h>

#include "src/io.h"

/* Sets up a ring of `entries` SQEs over pool: SINGLE_ISSUER | DEFER_TASKRUN where the kernel
 * allows (falling back step by step), the arena registered as fixed buffers (a refusal, e.g.
 * RLIMIT_MEMLOCK, is logged and tolerated) and lent to the kernel as a provided-buffer ring.
 * Returns the engine, or NULL with errno set and a one-line reason in why. */
struct io_engine *ur_engine_create(struct mbuf_pool *pool, unsigned entries, char *why,
                                   size_t why_len);

#endif

/* The epoll engine: the completion-style interface of src/io.h on readiness, the baseline the
 * io_uring engine is measured against. */
#ifndef RP_EP_ENGINE_H
#define RP_EP_ENGINE_H

#include <stddef.h>

#include "src/io.h"

/* Sets up one epoll instance over pool: every arena buffer goes on the engine's free list
 * (buf_return pushes an id back) and pool->engine points at the new engine. entries sizes the
 * epoll_wait batch. Same semantics as the io_uring engine, with these differences in cost only:
 * sends are issued at the start of the next wait() (as SQEs are submitted), a multishot recv
 * reads at most one buffer per fd per wait() round, and stats.syscalls counts every syscall
 * made (epoll_wait, epoll_ctl, recv, sendmsg, accept4, connect, getsockopt, fcntl, close).
 * Sockets handed to the engine for accept or connect are switched to O_NONBLOCK.
 * Returns the engine, or NULL with errno set and a one-line reason in why. */
struct io_engine *ep_engine_create(struct mbuf_pool *pool, unsigned entries, char *why,
                                   size_t why_len);

#endif

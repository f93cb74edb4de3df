/* Engine selection: io_uring, epoll, or io_uring with epoll as the fallback. */
#include "src/io.h"

#include <errno.h>
#include <stdio.h>

#include "src/ep_engine.h"
#include "uring/ur_engine.h"

struct io_engine *io_engine_create(enum io_choice choice, struct mbuf_pool *pool, unsigned entries,
                                   char *reason, size_t reason_len)
{
    char why[256] = "";
    struct io_engine *e;
    int err;

    if (reason == NULL)
        reason_len = 0;
    if (reason_len > 0)
        reason[0] = '\0';

    switch (choice) {
    case IO_CHOICE_URING:
        e = ur_engine_create(pool, entries, why, sizeof(why));
        break;
    case IO_CHOICE_EPOLL:
        e = ep_engine_create(pool, entries, why, sizeof(why));
        break;
    case IO_CHOICE_AUTO:
        e = ur_engine_create(pool, entries, why, sizeof(why));
        if (e != NULL)
            return e;
        /* the one line the caller logs: why the ring was not used, as ur_engine_create put it
         * (the caller says "io_uring not used (...)" around it) */
        snprintf(reason, reason_len, "%s", why);
        char ep_why[256] = "";
        e = ep_engine_create(pool, entries, ep_why, sizeof(ep_why));
        if (e == NULL) {
            err = errno;
            snprintf(reason, reason_len, "io_uring: %s; epoll: %s", why, ep_why);
            errno = err;
        }
        return e;
    default:
        snprintf(reason, reason_len, "unknown I/O engine choice %d", (int)choice);
        errno = EINVAL;
        return NULL;
    }
    if (e == NULL) {
        err = errno;
        snprintf(reason, reason_len, "%s", why);
        errno = err;
    }
    return e;
}

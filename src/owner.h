/* The common head of everything that owns I/O operations: listeners, connections, and the
 * records of zero-copy sends (which outlive their connection until the kernel lets go). */
#ifndef RP_OWNER_H
#define RP_OWNER_H

#include <stdbool.h>
#include <stdint.h>

enum owner_type { OWNER_LISTENER = 1, OWNER_CLIENT, OWNER_SCONN, OWNER_SENDREC };

/* First member of everything that owns I/O operations. */
struct owner {
    uint8_t type;    /* enum owner_type */
    uint8_t pending; /* operations submitted whose final event has not come yet */
    bool closing;    /* close submitted: free once pending reaches zero */
    bool dirty;      /* on the worker's flush list */
    int fd;
    struct owner *dnext; /* flush list */
};

#endif

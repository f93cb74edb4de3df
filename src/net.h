/* Socket helpers: resolve configured addresses, open listeners and server sockets. */
#ifndef RP_NET_H
#define RP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conf/conf.h"

/* Resolves a configured address (numeric or host name, or a unix path) into ss.
 * Returns 0, or -1 with a message in err. */
int net_resolve(const struct conf_addr *a, struct sockaddr_storage *ss, socklen_t *len, char *err,
                size_t errlen);

/* Opens a (blocking) listening socket on ss. reuseport: SO_REUSEPORT so that each worker has its
 * own. A unix socket path is unlinked first and given perm when has_perm. Returns fd or -errno. */
int net_listen(const struct sockaddr_storage *ss, socklen_t len, int backlog, bool reuseport,
               const struct conf_addr *a);

/* A new (blocking: each engine sets what it needs) stream socket for a server at ss (TCP_NODELAY
 * for TCP, keepalive when asked). Returns fd or -errno. */
int net_server_socket(const struct sockaddr_storage *ss, bool keepalive);

/* Per accepted client socket: TCP_NODELAY (and keepalive when asked). */
void net_client_setup(int fd, bool tcp, bool keepalive);

#endif

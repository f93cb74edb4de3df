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

/* Opens a (blocking) socket bound to ss, not listening yet: a port in use fails here, and no
 * client can connect until net_listen_start (a start or reload that fails after this touches no
 * client: a connect is refused, never accepted and then reset). reuseport: SO_REUSEPORT so that
 * each worker has its own. A unix socket path is unlinked first and given perm when has_perm.
 * Returns fd or -errno. */
int net_bind(const struct sockaddr_storage *ss, socklen_t len, bool reuseport,
             const struct conf_addr *a);
/* listen(2) on a socket from net_bind. Returns 0 or -errno. */
int net_listen_start(int fd, int backlog);
/* net_bind and net_listen_start at once. Returns fd or -errno. */
int net_listen(const struct sockaddr_storage *ss, socklen_t len, int backlog, bool reuseport,
               const struct conf_addr *a);

/* A new (blocking: each engine sets what it needs) stream socket for a server at ss (TCP_NODELAY
 * for TCP, keepalive when asked). Returns fd or -errno. */
int net_server_socket(const struct sockaddr_storage *ss, bool keepalive);

/* Per accepted client socket: TCP_NODELAY (and keepalive when asked). */
void net_client_setup(int fd, bool tcp, bool keepalive);

#endif

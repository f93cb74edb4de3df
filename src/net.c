/* Socket helpers (setup only: the data path never calls these). */
#include "src/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int net_resolve(const struct conf_addr *a, struct sockaddr_storage *ss, socklen_t *len, char *err,
                size_t errlen)
{
    memset(ss, 0, sizeof(*ss));
    if (a->unix_path != NULL) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        if (strlen(a->unix_path) >= sizeof(un->sun_path)) {
            snprintf(err, errlen, "unix socket path too long: %s", a->unix_path);
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, a->unix_path);
        *len = sizeof(*un);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%u", a->port);
    const char *host = a->host;
    if (host != NULL && host[0] == '[') {
        /* "[::1]" as written in the file */
        static __thread char h6[INET6_ADDRSTRLEN + 2];
        snprintf(h6, sizeof(h6), "%s", host + 1);
        char *e = strchr(h6, ']');
        if (e != NULL)
            *e = '\0';
        host = h6;
    }
    if (host != NULL && (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0))
        hints.ai_flags |= AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "cannot resolve '%s': %s", a->host ? a->host : "", gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int net_bind(const struct sockaddr_storage *ss, socklen_t len, bool reuseport,
             const struct conf_addr *a)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (ss->ss_family == AF_UNIX) {
        unlink(((const struct sockaddr_un *)ss)->sun_path);
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
            goto out_err;
    }
    if (bind(fd, (const struct sockaddr *)ss, len) < 0)
        goto out_err;
    if (ss->ss_family == AF_UNIX && a != NULL && a->has_perm &&
        chmod(((const struct sockaddr_un *)ss)->sun_path, a->perm) < 0)
        goto out_err;
    return fd;
out_err:;
    int e = errno;
    close(fd);
    return -e;
}

int net_listen_start(int fd, int backlog)
{
    return listen(fd, backlog) < 0 ? -errno : 0;
}

int net_listen(const struct sockaddr_storage *ss, socklen_t len, int backlog, bool reuseport,
               const struct conf_addr *a)
{
    int fd = net_bind(ss, len, reuseport, a);
    if (fd < 0)
        return fd;
    int ret = net_listen_start(fd, backlog);
    if (ret < 0) {
        close(fd);
        return ret;
    }
    return fd;
}

int net_server_socket(const struct sockaddr_storage *ss, bool keepalive)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (ss->ss_family != AF_UNIX) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (keepalive)
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    return fd;
}

void net_client_setup(int fd, bool tcp, bool keepalive)
{
    int one = 1;
    if (!tcp)
        return;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (keepalive)
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

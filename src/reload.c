/* Live reload: read, compare, validate, prepare listeners, publish. Runs on the main thread
 * only (the signal loop), so reloads never overlap. */
#include "src/reload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf_addr.h"
#include "src/log.h"
#include "src/net.h"

#define RELOAD_FILE_MAX (64u << 20) /* a configuration file larger than this is refused */

/* The file's bytes in a malloc'd buffer (*len of them). Returns 0 or -errno. */
static int read_file(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int ret = 0;
    for (;;) {
        if (buf == NULL) {
            ret = -ENOMEM;
            break;
        }
        if (n == cap) {
            if (cap >= RELOAD_FILE_MAX) {
                ret = -EFBIG;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                ret = -ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ret = -errno;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (ret < 0) {
        free(buf);
        return ret;
    }
    *out = buf;
    *len = n;
    return 0;
}

static void fnv1a64_hex(const char *p, size_t n, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int reload_checksum(const char *path, char out[17])
{
    char *buf;
    size_t len;
    int ret = read_file(path, &buf, &len);
    if (ret < 0)
        return ret;
    fnv1a64_hex(buf, len, out);
    free(buf);
    return 0;
}

/* Keeps the process settings that a running process cannot change, saying so. */
static void keep_process_settings(struct conf *nc, const struct conf *cur)
{
    struct conf_global *n = &nc->global;
    const struct conf_global *c = &cur->global;
#define KEEP(field, name)                                                                          \
    if ((long long)n->field != (long long)c->field) {                                              \
        log_warn("reload: ringproxy: %s changed from %lld to %lld: this needs a restart; "         \
                 "%lld stays in force",                                                            \
                 name, (long long)c->field, (long long)n->field, (long long)c->field);             \
        n->field = c->field;                                                                       \
    }
    KEEP(workers, "workers")
    KEEP(io, "io")
    KEEP(buffer_size, "buffer_size")
    KEEP(buffers, "buffers")
    KEEP(max_request_line, "max_request_line")
    KEEP(max_spill_mb, "max_spill_mb")
    KEEP(zero_copy_min, "zero_copy_min")
#undef KEEP
}

/* Opens, for each pool of nc whose listener cannot carry over from cur (a new pool, a new
 * address, another protocol), one listening socket per worker (worker 0's only for a unix
 * socket). Returns the [pool * nworkers + worker] table (-1 elsewhere), or NULL with a message
 * in err (everything opened is closed again). */
static int *open_listeners(const struct conf *nc, const struct conf *cur, uint32_t nworkers,
                           char *err, size_t errlen)
{
    size_t n = (size_t)nc->npools * nworkers;
    int *fds = malloc((n ? n : 1) * sizeof(*fds));
    if (fds == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    for (uint32_t p = 0; p < nc->npools; p++) {
        const struct conf_pool *cp = &nc->pools[p];
        const struct conf_pool *old = conf_pool_find(cur, cp->name);
        if (!cp->has_listen)
            continue; /* only routes reach it */
        if (old != NULL && old->has_listen && old->redis == cp->redis &&
            conf_addr_equal(&old->listen, &cp->listen))
            continue; /* the workers keep the listeners they have */
        struct sockaddr_storage ss;
        socklen_t sslen;
        if (net_resolve(&cp->listen, &ss, &sslen, err, errlen) < 0)
            goto out_close;
        bool unix_sock = cp->listen.unix_path != NULL;
        for (uint32_t w = 0; w < (unix_sock ? 1 : nworkers); w++) {
            int fd = net_bind(&ss, sslen, !unix_sock, &cp->listen);
            if (fd < 0) {
                snprintf(err, errlen, "%s:%d:%d: pool '%s': cannot listen on %s%s%s%u: %s",
                         nc->path, cp->listen_line, cp->listen_col, cp->name,
                         unix_sock ? cp->listen.unix_path : cp->listen.host, unix_sock ? "" : ":",
                         "", unix_sock ? 0 : cp->listen.port, strerror(-fd));
                goto out_close;
            }
            fds[(size_t)p * nworkers + w] = fd;
        }
    }
    return fds;
out_close:
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    return NULL;
}

/* What changed, for the log: pools and servers added and removed. */
static void log_changes(const struct conf *nc, const struct conf *cur)
{
    for (uint32_t p = 0; p < nc->npools; p++) {
        const struct conf_pool *cp = &nc->pools[p];
        const struct conf_pool *old = conf_pool_find(cur, cp->name);
        if (old == NULL) {
            log_notice("reload: pool '%s' added (%u servers)", cp->name, cp->nservers);
            continue;
        }
        uint32_t same = 0;
        for (uint32_t s = 0; s < cp->nservers; s++)
            for (uint32_t o = 0; o < old->nservers; o++)
                if (conf_addr_equal(&cp->servers[s].addr, &old->servers[o].addr)) {
                    same++;
                    break;
                }
        if (same != cp->nservers || same != old->nservers)
            log_notice("reload: pool '%s': %u servers kept, %u added, %u removed", cp->name, same,
                       cp->nservers - same, old->nservers > same ? old->nservers - same : 0);
    }
    for (uint32_t p = 0; p < cur->npools; p++)
        if (conf_pool_find(nc, cur->pools[p].name) == NULL)
            log_notice("reload: pool '%s' removed: its clients are answered and closed",
                       cur->pools[p].name);
}

static enum reload_result refuse(struct stats_registry *reg, const char *path, const char *why)
{
    atomic_fetch_add(&reg->conf_reload_failures, 1);
    log_error("reload of '%s' refused: %s; the configuration in force keeps serving", path, why);
    return RELOAD_REFUSED;
}

enum reload_result reload_run(struct health *h, struct stats_registry *reg, const char *path)
{
    char err[1024], sum[17];
    char *text;
    size_t len;
    int ret = read_file(path, &text, &len);
    if (ret < 0) {
        snprintf(err, sizeof(err), "%s: cannot read it: %s", path, strerror(-ret));
        return refuse(reg, path, err);
    }
    fnv1a64_hex(text, len, sum);
    if (strcmp(sum, reg->conf_checksum) == 0) {
        free(text);
        atomic_fetch_add(&reg->conf_reload_unchanged, 1);
        log_notice("reload: '%s' is unchanged (checksum %s): nothing to do", path, sum);
        return RELOAD_UNCHANGED;
    }
    struct conf *nc = NULL;
    ret = conf_load_string(text, len, path, &nc, err, sizeof(err));
    free(text);
    if (ret < 0)
        return refuse(reg, path, err);

    struct health_view *cur = health_view_get(h);
    keep_process_settings(nc, cur->conf);
    int *fds = open_listeners(nc, cur->conf, h->nworkers, err, sizeof(err));
    if (fds == NULL) {
        health_view_put(h, cur);
        conf_free(nc);
        return refuse(reg, path, err);
    }
    log_changes(nc, cur->conf);
    uint32_t npools = nc->npools;
    health_view_put(h, cur);
    struct health_view *v = health_view_build(h, nc, err, sizeof(err)); /* owns nc now */
    if (v == NULL) {
        for (size_t i = 0; i < (size_t)npools * h->nworkers; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        free(fds);
        return refuse(reg, path, err);
    }
    v->listen_fds = fds;
    uint64_t seq = v->seq;
    pthread_mutex_lock(&reg->conf_lock);
    snprintf(reg->conf_file, sizeof(reg->conf_file), "%s", path);
    memcpy(reg->conf_checksum, sum, sizeof(sum));
    reg->conf_loaded_at = (uint64_t)time(NULL);
    pthread_mutex_unlock(&reg->conf_lock);
    health_view_publish(h, v);
    atomic_fetch_add(&reg->conf_reloads, 1);
    log_notice("configuration %llu loaded from '%s' (checksum %s): %u pools",
               (unsigned long long)seq, path, sum, npools);
    return RELOAD_APPLIED;
}

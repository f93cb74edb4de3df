/* Loading a configuration: the file, the top-level map of pools, checks across pools. */
#include "conf/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_addr.h"
#include "conf/conf_err.h"
#include "conf/conf_global.h"
#include "conf/conf_pool.h"
#include "conf/conf_yaml.h"

/* Far above any real configuration (a thousand pools of a hundred servers is ~4 MiB). */
#define CONF_MAX_BYTES (16u << 20)

void conf_free(struct conf *conf)
{
    if (conf == NULL) {
        return;
    }
    for (uint32_t i = 0; i < conf->npools; i++) {
        conf_pool_release(&conf->pools[i]);
    }
    free(conf->pools);
    free(conf->path);
    free(conf);
}

const struct conf_pool *conf_pool_find(const struct conf *conf, const char *name)
{
    if (conf == NULL || name == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < conf->npools; i++) {
        if (strcmp(conf->pools[i].name, name) == 0) {
            return &conf->pools[i];
        }
    }
    return NULL;
}

static int name_cmp(const struct cy_node *a, const struct cy_node *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->str, b->str, n);

    if (c != 0) {
        return c;
    }
    return (a->len > b->len) - (a->len < b->len);
}

static bool node_before(const struct cy_node *a, const struct cy_node *b)
{
    return a->line < b->line || (a->line == b->line && a->col < b->col);
}

static int key_ptr_cmp(const void *x, const void *y)
{
    const struct cy_node *a = *(const struct cy_node *const *)x;
    const struct cy_node *b = *(const struct cy_node *const *)y;
    int c = name_cmp(a, b);

    if (c != 0) {
        return c;
    }
    return node_before(a, b) ? -1 : node_before(b, a) ? 1 : 0;
}

/* Top-level keys: plain, non-empty, unique. Sorting finds duplicates in n log n; of all the
 * repeated names, the message names the repeat written first. */
static int check_names(const struct cy_node *root, struct conf_err *err)
{
    uint32_t n = root->nkids / 2;
    const struct cy_node **keys;
    const struct cy_node *dup = NULL, *first = NULL;
    char q[CONF_QUOTE_MAX + 8];

    for (uint32_t i = 0; i < n; i++) {
        const struct cy_node *k = root->kids[2 * i];

        if (k->kind != CY_SCALAR) {
            conf_err_at(err, k->line, k->col, "a pool name must be a plain name, not %s",
                        cy_kind_name(k));
            return -1;
        }
        if (k->len == 0) {
            conf_err_at(err, k->line, k->col, "empty pool name");
            return -1;
        }
        if (strlen(k->str) != k->len) {
            conf_err_at(err, k->line, k->col, "a pool name holds a NUL byte");
            return -1;
        }
    }
    keys = malloc((n ? n : 1) * sizeof(*keys));
    if (keys == NULL) {
        conf_err_at(err, 0, 0, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        keys[i] = root->kids[2 * i];
    }
    qsort(keys, n, sizeof(*keys), key_ptr_cmp);
    for (uint32_t i = 0; i + 1 < n; i++) {
        if (name_cmp(keys[i], keys[i + 1]) == 0 && (dup == NULL || node_before(keys[i + 1], dup))) {
            dup = keys[i + 1];
            first = keys[i];
        }
    }
    free(keys);
    if (dup != NULL) {
        conf_quote(q, sizeof(q), dup->str, dup->len);
        if (cy_is(dup, CONF_GLOBAL_NAME)) {
            conf_err_at(err, dup->line, dup->col, "duplicate top-level key '%s' (first at %d:%d)",
                        q, first->line, first->col);
        } else {
            conf_err_at(err, dup->line, dup->col, "duplicate pool '%s' (first at %d:%d)", q,
                        first->line, first->col);
        }
        return -1;
    }
    return 0;
}

static int listen_cmp(const void *x, const void *y)
{
    const struct conf_pool *a = *(const struct conf_pool *const *)x;
    const struct conf_pool *b = *(const struct conf_pool *const *)y;
    int c = conf_addr_cmp(&a->listen, &b->listen);

    if (c != 0) {
        return c;
    }
    if (a->listen_line != b->listen_line) {
        return a->listen_line < b->listen_line ? -1 : 1;
    }
    return (a->listen_col > b->listen_col) - (a->listen_col < b->listen_col);
}

/* twemproxy refuses two pools listening on the same address (as written). */
static int check_listen(const struct conf *conf, struct conf_err *err)
{
    const struct conf_pool **ps;
    const struct conf_pool *dup = NULL, *first = NULL;
    char q1[CONF_QUOTE_MAX + 8], q2[CONF_QUOTE_MAX + 8];

    ps = malloc((conf->npools ? conf->npools : 1) * sizeof(*ps));
    if (ps == NULL) {
        conf_err_at(err, 0, 0, "out of memory");
        return -1;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < conf->npools; i++) {
        if (conf->pools[i].has_listen) {
            ps[n++] = &conf->pools[i];
        }
    }
    qsort(ps, n, sizeof(*ps), listen_cmp);
    for (uint32_t i = 0; i + 1 < n; i++) {
        const struct conf_pool *b = ps[i + 1];

        if (conf_addr_cmp(&ps[i]->listen, &b->listen) == 0 &&
            (dup == NULL || b->listen_line < dup->listen_line ||
             (b->listen_line == dup->listen_line && b->listen_col < dup->listen_col))) {
            dup = b;
            first = ps[i];
        }
    }
    free(ps);
    if (dup != NULL) {
        conf_err_at(err, dup->listen_line, dup->listen_col,
                    "pool '%s': listens on the same address as pool '%s' at %d:%d",
                    conf_quote(q1, sizeof(q1), dup->name, strlen(dup->name)),
                    conf_quote(q2, sizeof(q2), first->name, strlen(first->name)),
                    first->listen_line, first->listen_col);
        return -1;
    }
    return 0;
}

/* Routes name pools that exist, have servers, and speak the same protocol; a pool without
 * `listen` is one that some route names. */
static int check_routes(struct conf *conf, struct conf_err *err)
{
    char q1[CONF_QUOTE_MAX + 8], q2[CONF_QUOTE_MAX + 8];

    for (uint32_t i = 0; i < conf->npools; i++) {
        struct conf_pool *p = &conf->pools[i];
        struct conf_route *r = &p->route;

        conf_quote(q1, sizeof(q1), p->name, strlen(p->name));
        for (uint32_t t = 0; t < r->ntargets; t++) {
            const struct conf_pool *tp = NULL;
            uint32_t j;

            for (j = 0; j < conf->npools; j++) {
                if (strcmp(conf->pools[j].name, r->targets[t]) == 0) {
                    tp = &conf->pools[j];
                    break;
                }
            }
            conf_quote(q2, sizeof(q2), r->targets[t], strlen(r->targets[t]));
            if (tp == NULL) {
                conf_err_at(err, r->tline[t], r->tcol[t],
                            "pool '%s': the route names '%s', "
                            "which is not a pool in this file",
                            q1, q2);
                return -1;
            }
            if (tp == p || tp->route.kind != CONF_ROUTE_NONE) {
                conf_err_at(err, r->tline[t], r->tcol[t],
                            "pool '%s': the route names '%s', a pool with a route of its own "
                            "(a route's pools must have servers)",
                            q1, q2);
                return -1;
            }
            if (tp->redis != p->redis) {
                conf_err_at(err, r->tline[t], r->tcol[t],
                            "pool '%s': the route names '%s', which speaks %s", q1, q2,
                            tp->redis ? "redis" : "memcached");
                return -1;
            }
            r->target_idx[t] = j;
        }
    }
    for (uint32_t i = 0; i < conf->npools; i++) {
        const struct conf_pool *p = &conf->pools[i];
        bool named = false;

        if (p->has_listen) {
            continue;
        }
        for (uint32_t j = 0; j < conf->npools && !named; j++) {
            for (uint32_t t = 0; t < conf->pools[j].route.ntargets; t++) {
                named |= conf->pools[j].route.target_idx[t] == i;
            }
        }
        if (!named) {
            conf_err_at(err, p->line, p->col,
                        "pool '%s': missing 'listen' (only a pool that a route names may do "
                        "without one)",
                        conf_quote(q1, sizeof(q1), p->name, strlen(p->name)));
            return -1;
        }
    }
    return 0;
}

static int build(struct conf *conf, const struct cy_node *root, struct conf_err *err)
{
    uint32_t npairs, npools = 0;
    bool have_global = false;

    if (root == NULL || cy_is_empty(root)) {
        conf_err_at(err, 1, 1, "empty configuration: no pools");
        return -1;
    }
    if (root->kind != CY_MAP) {
        conf_err_at(err, root->line, root->col,
                    "the top level must be a mapping of pool names to pools, not %s",
                    cy_kind_name(root));
        return -1;
    }
    if (check_names(root, err) < 0) {
        return -1;
    }
    npairs = root->nkids / 2;
    for (uint32_t i = 0; i < npairs; i++) {
        if (!conf_global_is_section(root->kids[2 * i], root->kids[2 * i + 1])) {
            npools++;
        }
    }
    conf->pools = calloc(npools ? npools : 1, sizeof(*conf->pools));
    if (conf->pools == NULL) {
        conf_err_at(err, 0, 0, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < npairs; i++) {
        const struct cy_node *k = root->kids[2 * i], *v = root->kids[2 * i + 1];

        if (conf_global_is_section(k, v)) {
            have_global = true;
            if (conf_global_parse(&conf->global, v, err) < 0) {
                return -1;
            }
            continue;
        }
        /* counted first, so a failing pool is released with the others */
        if (conf_pool_parse(&conf->pools[conf->npools++], k, v, err) < 0) {
            return -1;
        }
    }
    if (npools == 0) {
        conf_err_at(err, root->line, root->col, "no pools");
        return -1;
    }
    if (!have_global) {
        conf_global_defaults(&conf->global);
    }
    if (check_routes(conf, err) < 0) {
        return -1;
    }
    return check_listen(conf, err);
}

int conf_load_string(const char *text, size_t len, const char *name, struct conf **out, char *err,
                     size_t errlen)
{
    struct conf_err e = {.buf = err, .len = errlen, .file = name ? name : "<string>"};
    struct cy_node *root = NULL;
    struct conf *conf = NULL;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (out == NULL) {
        conf_err_at(&e, 0, 0, "no place to return the configuration");
        return -1;
    }
    *out = NULL;
    if (text == NULL && len > 0) {
        conf_err_at(&e, 0, 0, "no text");
        return -1;
    }
    if (len > CONF_MAX_BYTES) {
        conf_err_at(&e, 0, 0, "%zu bytes: a configuration is limited to %u MiB", len,
                    CONF_MAX_BYTES >> 20);
        return -1;
    }
    if (cy_parse(text ? text : "", len, &root, &e) < 0) {
        return -1;
    }
    conf = calloc(1, sizeof(*conf));
    if (conf == NULL) {
        conf_err_at(&e, 0, 0, "out of memory");
        goto out_fail;
    }
    conf->path = strdup(e.file);
    if (conf->path == NULL) {
        conf_err_at(&e, 0, 0, "out of memory");
        goto out_fail;
    }
    if (build(conf, root, &e) < 0) {
        goto out_fail;
    }
    cy_free(root);
    *out = conf;
    return 0;

out_fail:
    cy_free(root);
    conf_free(conf);
    return -1;
}

/* The one place conf/ touches the file system: read the whole file, then parse the bytes. */
int conf_load_file(const char *path, struct conf **out, char *err, size_t errlen)
{
    struct conf_err e = {.buf = err, .len = errlen, .file = path ? path : "<null>"};
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char eb[128];
    int fd, rc;

    if (out != NULL) {
        *out = NULL;
    }
    if (path == NULL) {
        conf_err_at(&e, 0, 0, "no file name");
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        conf_err_at(&e, 0, 0, "cannot open: %s", strerror_r(errno, eb, sizeof(eb)));
        return -1;
    }
    for (;;) {
        ssize_t n;

        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb;

            if (cap > CONF_MAX_BYTES) {
                conf_err_at(&e, 0, 0, "larger than %u MiB: not a configuration file",
                            CONF_MAX_BYTES >> 20);
                goto out_close;
            }
            nb = realloc(buf, ncap);
            if (nb == NULL) {
                conf_err_at(&e, 0, 0, "out of memory");
                goto out_close;
            }
            buf = nb;
            cap = ncap;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            conf_err_at(&e, 0, 0, "cannot read: %s", strerror_r(errno, eb, sizeof(eb)));
            goto out_close;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    rc = conf_load_string(buf, len, path, out, err, errlen);
    free(buf);
    return rc;

out_close:
    close(fd);
    free(buf);
    return -1;
}

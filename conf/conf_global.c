/* The `ringproxy:` section: workers, I/O engine, buffer arena, request line limit, spill,
 * drain timeout, zero-copy sends. */
#include "conf/conf_global.h"

#include <string.h>

#include "conf/conf_pool.h"
#include "conf/conf_value.h"

enum global_key {
    GK_WORKERS,
    GK_IO,
    GK_BUFFER_SIZE,
    GK_BUFFERS,
    GK_MAX_REQUEST_LINE,
    GK_MAX_SPILL_MB,
    GK_DRAIN_TIMEOUT,
    GK_ZERO_COPY_MIN,
    GK_COUNT
};

static const struct global_key_def {
    const char *name;
    unsigned long long min, max; /* numbers only */
} global_keys[GK_COUNT] = {
    [GK_WORKERS] = {"workers", 0, CONF_WORKERS_MAX},
    [GK_IO] = {"io", 0, 0},
    [GK_BUFFER_SIZE] = {"buffer_size", CONF_BUFFER_SIZE_MIN, CONF_BUFFER_SIZE_MAX},
    [GK_BUFFERS] = {"buffers", CONF_BUFFERS_MIN, CONF_BUFFERS_MAX},
    [GK_MAX_REQUEST_LINE] = {"max_request_line", CONF_REQUEST_LINE_MIN, CONF_REQUEST_LINE_MAX},
    [GK_MAX_SPILL_MB] = {"max_spill_mb", CONF_SPILL_MB_MIN, CONF_SPILL_MB_MAX},
    [GK_DRAIN_TIMEOUT] = {"drain_timeout", 0, CONF_DRAIN_TIMEOUT_MAX},
    [GK_ZERO_COPY_MIN] = {"zero_copy_min", 0, CONF_ZERO_COPY_MIN_MAX},
};

static const char *const io_names[] = {
    [CONF_IO_AUTO] = "auto",
    [CONF_IO_URING] = "uring",
    [CONF_IO_EPOLL] = "epoll",
};

static const char ctx[] = "ringproxy section: ";

const char *conf_io_name(enum conf_io io)
{
    return (unsigned)io < sizeof(io_names) / sizeof(io_names[0]) ? io_names[io] : "?";
}

void conf_global_defaults(struct conf_global *g)
{
    g->workers = 0;
    g->io = CONF_IO_AUTO;
    g->buffer_size = 16384;
    g->buffers = 1024;
    g->max_request_line = 65536;
    g->max_spill_mb = 256;
    g->drain_timeout_ms = CONF_DRAIN_TIMEOUT_DEFAULT;
    g->zero_copy_min = CONF_ZERO_COPY_MIN_DEFAULT;
}

static int find_key(const char *s, size_t len)
{
    for (int i = 0; i < GK_COUNT; i++) {
        if (strlen(global_keys[i].name) == len && memcmp(global_keys[i].name, s, len) == 0) {
            return i;
        }
    }
    return -1;
}

bool conf_global_is_key(const char *key, size_t len)
{
    return find_key(key, len) >= 0;
}

bool conf_global_is_section(const struct cy_node *name, const struct cy_node *body)
{
    if (!cy_is(name, CONF_GLOBAL_NAME)) {
        return false;
    }
    if (cy_is_empty(body)) {
        return true;
    }
    return body->kind == CY_MAP && !conf_map_has(body, "listen") && !conf_map_has(body, "servers");
}

static void unknown_key(const struct cy_node *k, struct conf_err *err)
{
    char q[CONF_QUOTE_MAX + 8];
    const char *names[GK_COUNT];
    const char *hint;

    conf_quote(q, sizeof(q), k->str, k->len);
    if (conf_pool_is_key(k->str, k->len)) {
        conf_err_at(err, k->line, k->col,
                    "%sunknown key '%s': '%s' is a pool key, and a pool named '%s' needs "
                    "'listen' and 'servers'",
                    ctx, q, q, CONF_GLOBAL_NAME);
        return;
    }
    for (int i = 0; i < GK_COUNT; i++) {
        names[i] = global_keys[i].name;
    }
    hint = conf_closest_name(k->str, k->len, names, GK_COUNT);
    conf_err_at(err, k->line, k->col,
                "%sunknown key '%s'%s%s%s (valid: workers, io, "
                "buffer_size, buffers, max_request_line, max_spill_mb, drain_timeout, "
                "zero_copy_min)",
                ctx, q, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

static int parse_io(const struct cy_node *k, const struct cy_node *v, struct conf_global *g,
                    struct conf_err *err)
{
    char q[CONF_QUOTE_MAX + 8];

    if (conf_node_scalar(k, v, ctx, err) < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(io_names) / sizeof(io_names[0]); i++) {
        if (cy_is(v, io_names[i])) {
            g->io = (enum conf_io)i;
            return 0;
        }
    }
    conf_err_at(err, v->line, v->col, "%sunknown io '%s' (valid: uring, epoll, auto)", ctx,
                conf_quote(q, sizeof(q), v->str, v->len));
    return -1;
}

int conf_global_parse(struct conf_global *g, const struct cy_node *body, struct conf_err *err)
{
    const struct cy_node *seen[GK_COUNT] = {0};

    conf_global_defaults(g);
    if (cy_is_empty(body)) {
        return 0;
    }
    if (body->kind != CY_MAP) {
        conf_err_at(err, body->line, body->col, "%sit must be a mapping of keys to values, not %s",
                    ctx, cy_kind_name(body));
        return -1;
    }
    for (uint32_t i = 0; i + 1 < body->nkids; i += 2) {
        const struct cy_node *k = body->kids[i], *v = body->kids[i + 1];
        unsigned long long n;
        int key;

        if (k->kind != CY_SCALAR) {
            conf_err_at(err, k->line, k->col, "%skeys must be plain names, not %s", ctx,
                        cy_kind_name(k));
            return -1;
        }
        key = find_key(k->str, k->len);
        if (key < 0) {
            unknown_key(k, err);
            return -1;
        }
        if (seen[key] != NULL) {
            conf_err_at(err, k->line, k->col, "%sduplicate key '%s' (first at %d:%d)", ctx,
                        global_keys[key].name, seen[key]->line, seen[key]->col);
            return -1;
        }
        seen[key] = k;
        if (key == GK_IO) {
            if (parse_io(k, v, g, err) < 0) {
                return -1;
            }
            continue;
        }
        if (conf_node_uint(k, v, ctx, global_keys[key].min, global_keys[key].max, &n, err) < 0) {
            return -1;
        }
        switch ((enum global_key)key) {
        case GK_WORKERS:
            g->workers = (int)n;
            break;
        case GK_BUFFER_SIZE:
            g->buffer_size = (uint32_t)n;
            break;
        case GK_BUFFERS:
            g->buffers = (uint32_t)n;
            break;
        case GK_MAX_REQUEST_LINE:
            g->max_request_line = (uint32_t)n;
            break;
        case GK_MAX_SPILL_MB:
            g->max_spill_mb = (uint32_t)n;
            break;
        case GK_DRAIN_TIMEOUT:
            g->drain_timeout_ms = (int)n;
            break;
        case GK_ZERO_COPY_MIN:
            g->zero_copy_min = (uint32_t)n;
            break;
        case GK_IO:
        case GK_COUNT:
            break;
        }
    }
    return 0;
}

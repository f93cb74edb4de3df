/* A pool's keys (one table: name, kind, field, bounds), its defaults and its servers. */
#include "conf/conf_pool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_addr.h"
#include "conf/conf_global.h"
#include "conf/conf_value.h"

/* twemproxy's defaults (nc_conf.h), checked against nutcracker 0.5.0 */
#define DEFAULT_TIMEOUT              -1
#define DEFAULT_BACKLOG              512
#define DEFAULT_SERVER_CONNECTIONS   1
#define DEFAULT_SERVER_RETRY_TIMEOUT 30000
#define DEFAULT_SERVER_FAILURE_LIMIT 2

enum pool_key {
    PK_LISTEN,
    PK_HASH,
    PK_HASH_TAG,
    PK_DISTRIBUTION,
    PK_TIMEOUT,
    PK_BACKLOG,
    PK_CLIENT_CONNECTIONS,
    PK_REDIS,
    PK_TCPKEEPALIVE,
    PK_REUSEPORT,
    PK_REDIS_AUTH,
    PK_REDIS_DB,
    PK_PRECONNECT,
    PK_AUTO_EJECT_HOSTS,
    PK_SERVER_CONNECTIONS,
    PK_SERVER_RETRY_TIMEOUT,
    PK_SERVER_FAILURE_LIMIT,
    PK_SERVERS,
    PK_MAX_KEY_LENGTH,
    PK_MAX_VALUE_SIZE,
    PK_CLIENT_IDLE_TIMEOUT,
    PK_CLIENT_REPLY_LIMIT,
    PK_ROUTE,
    PK_RESHARD_WARMUP,
    PK_COUNT
};

enum key_kind {
    KK_LISTEN,
    KK_HASH,
    KK_HASH_TAG,
    KK_DIST,
    KK_INT,
    KK_U32,
    KK_BOOL,
    KK_AUTH,
    KK_SERVERS,
    KK_ROUTE
};

static const struct pool_key_def {
    const char *name;
    enum key_kind kind;
    size_t off; /* the field, for KK_INT (int), KK_U32 (uint32_t) and KK_BOOL (bool) */
    unsigned long long min, max;
} pool_keys[PK_COUNT] = {
    [PK_LISTEN] = {"listen", KK_LISTEN, 0, 0, 0},
    [PK_HASH] = {"hash", KK_HASH, 0, 0, 0},
    [PK_HASH_TAG] = {"hash_tag", KK_HASH_TAG, 0, 0, 0},
    [PK_DISTRIBUTION] = {"distribution", KK_DIST, 0, 0, 0},
    [PK_TIMEOUT] = {"timeout", KK_INT, offsetof(struct conf_pool, timeout_ms), 0, INT_MAX},
    [PK_BACKLOG] = {"backlog", KK_INT, offsetof(struct conf_pool, backlog), 0, INT_MAX},
    [PK_CLIENT_CONNECTIONS] = {"client_connections", KK_INT,
                               offsetof(struct conf_pool, client_connections), 0, INT_MAX},
    [PK_REDIS] = {"redis", KK_BOOL, offsetof(struct conf_pool, redis), 0, 0},
    [PK_TCPKEEPALIVE] = {"tcpkeepalive", KK_BOOL, offsetof(struct conf_pool, tcpkeepalive), 0, 0},
    [PK_REUSEPORT] = {"reuseport", KK_BOOL, offsetof(struct conf_pool, reuseport), 0, 0},
    [PK_REDIS_AUTH] = {"redis_auth", KK_AUTH, 0, 0, 0},
    [PK_REDIS_DB] = {"redis_db", KK_INT, offsetof(struct conf_pool, redis_db), 0, INT_MAX},
    [PK_PRECONNECT] = {"preconnect", KK_BOOL, offsetof(struct conf_pool, preconnect), 0, 0},
    [PK_AUTO_EJECT_HOSTS] = {"auto_eject_hosts", KK_BOOL,
                             offsetof(struct conf_pool, auto_eject_hosts), 0, 0},
    /* twemproxy: "server_connections: cannot be 0" */
    [PK_SERVER_CONNECTIONS] = {"server_connections", KK_INT,
                               offsetof(struct conf_pool, server_connections), 1, INT_MAX},
    [PK_SERVER_RETRY_TIMEOUT] = {"server_retry_timeout", KK_INT,
                                 offsetof(struct conf_pool, server_retry_timeout_ms), 0, INT_MAX},
    [PK_SERVER_FAILURE_LIMIT] = {"server_failure_limit", KK_INT,
                                 offsetof(struct conf_pool, server_failure_limit), 0, INT_MAX},
    [PK_SERVERS] = {"servers", KK_SERVERS, 0, 0, 0},
    [PK_ROUTE] = {"route", KK_ROUTE, 0, 0, 0},
    [PK_RESHARD_WARMUP] = {"reshard_warmup", KK_INT, offsetof(struct conf_pool, reshard_warmup_s),
                           0, 86400},
    /* memcached pools are held to CONF_MC_KEY_MAX once 'redis' is known */
    [PK_MAX_KEY_LENGTH] = {"max_key_length", KK_U32, offsetof(struct conf_pool, max_key_length), 1,
                           CONF_REDIS_KEY_MAX},
    [PK_MAX_VALUE_SIZE] = {"max_value_size", KK_U32, offsetof(struct conf_pool, max_value_size), 1,
                           CONF_VALUE_MAX},
    [PK_CLIENT_IDLE_TIMEOUT] = {"client_idle_timeout", KK_INT,
                                offsetof(struct conf_pool, client_idle_timeout_ms), 0, INT_MAX},
    [PK_CLIENT_REPLY_LIMIT] = {"client_reply_limit", KK_U32,
                               offsetof(struct conf_pool, client_reply_limit), 4096, UINT32_MAX},
};

/* Where each key was seen in one pool: duplicates, and positions for later checks. */
struct pool_seen {
    const struct cy_node *key[PK_COUNT];
    const struct cy_node *val[PK_COUNT];
};

static int find_key(const char *s, size_t len)
{
    for (int i = 0; i < PK_COUNT; i++) {
        if (strlen(pool_keys[i].name) == len && memcmp(pool_keys[i].name, s, len) == 0) {
            return i;
        }
    }
    return -1;
}

bool conf_pool_is_key(const char *key, size_t len)
{
    return find_key(key, len) >= 0;
}

bool conf_map_has(const struct cy_node *body, const char *key)
{
    if (body->kind != CY_MAP) {
        return false;
    }
    for (uint32_t i = 0; i + 1 < body->nkids; i += 2) {
        if (cy_is(body->kids[i], key)) {
            return true;
        }
    }
    return false;
}

static char *dup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void conf_pool_release(struct conf_pool *pool)
{
    free(pool->name);
    for (uint32_t i = 0; i < pool->route.ntargets; i++)
        free(pool->route.targets[i]);
    pool->route.ntargets = 0;
    conf_addr_release(&pool->listen);
    free(pool->redis_auth);
    for (uint32_t i = 0; i < pool->nservers; i++) {
        conf_server_release(&pool->servers[i]);
    }
    free(pool->servers);
    pool->name = NULL;
    pool->redis_auth = NULL;
    pool->servers = NULL;
    pool->nservers = 0;
}

static void set_defaults(struct conf_pool *p)
{
    p->hash = HASH_FNV1A_64;
    p->distribution = DIST_KETAMA;
    p->timeout_ms = DEFAULT_TIMEOUT;
    p->backlog = DEFAULT_BACKLOG;
    p->server_connections = DEFAULT_SERVER_CONNECTIONS;
    p->server_retry_timeout_ms = DEFAULT_SERVER_RETRY_TIMEOUT;
    p->server_failure_limit = DEFAULT_SERVER_FAILURE_LIMIT;
    p->max_value_size = CONF_VALUE_DEFAULT;
    p->client_reply_limit = 64u << 20;
    p->route.read_fallback = true;
    /* booleans false, client_connections and redis_db 0: calloc'ed */
}

/* "a, b, c" of the names a lookup accepts, for messages. */
static void name_list(char *dst, size_t n, const char *(*name_of)(int), int count)
{
    size_t o = 0;

    dst[0] = '\0';
    for (int i = 0; i < count && o < n; i++) {
        const char *nm = name_of(i);
        int w = snprintf(dst + o, n - o, "%s%s", i ? ", " : "", nm ? nm : "?");

        if (w < 0) {
            break;
        }
        o += (size_t)w;
    }
}

static const char *hash_name_i(int i)
{
    return hash_name((enum hash_type)i);
}

static const char *dist_name_i(int i)
{
    return dist_name((enum dist_type)i);
}

/* Twemproxy's server order: by name, shorter first, then bytewise (its string_compare).
 * Ties (duplicates, refused below) are broken by position so the order is total. */
static int server_cmp(const void *a, const void *b)
{
    const struct conf_server *x = a, *y = b;
    size_t lx = strlen(x->ring_name), ly = strlen(y->ring_name);
    int c;

    if (lx != ly) {
        return lx < ly ? -1 : 1;
    }
    c = memcmp(x->ring_name, y->ring_name, lx);
    if (c != 0) {
        return c;
    }
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return (x->col > y->col) - (x->col < y->col);
}

static bool pos_before(int l1, int c1, int l2, int c2)
{
    return l1 < l2 || (l1 == l2 && c1 < c2);
}

static int parse_servers(struct conf_pool *p, const struct cy_node *k, const struct cy_node *v,
                         const char *ctx, struct conf_err *err)
{
    char why[512];
    const struct conf_server *dup = NULL;
    uint32_t n;

    if (cy_is_empty(v)) {
        conf_err_at(err, k->line, k->col, "%s'servers' is empty: list at least one server", ctx);
        return -1;
    }
    if (v->kind != CY_SEQ) {
        conf_err_at(err, v->line, v->col,
                    "%s'servers' must be a sequence of \"host:port:weight [name]\" items, not %s",
                    ctx, cy_kind_name(v));
        return -1;
    }
    n = v->nkids;
    if (n == 0) {
        conf_err_at(err, v->line, v->col, "%s'servers' is empty: list at least one server", ctx);
        return -1;
    }
    p->servers = calloc(n, sizeof(*p->servers));
    if (p->servers == NULL) {
        conf_err_at(err, v->line, v->col, "%sout of memory", ctx);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct cy_node *it = v->kids[i];
        struct conf_server *cs = &p->servers[i];

        if (it->kind != CY_SCALAR) {
            conf_err_at(err, it->line, it->col,
                        "%sa server must be a \"host:port:weight [name]\" string, not %s", ctx,
                        cy_kind_name(it));
            return -1;
        }
        if (strlen(it->str) != it->len) {
            conf_err_at(err, it->line, it->col, "%sa server holds a NUL byte", ctx);
            return -1;
        }
        if (conf_server_parse(it->str, it->len, cs, why, sizeof(why)) < 0) {
            conf_err_at(err, it->line, it->col, "%s%s", ctx, why);
            return -1;
        }
        cs->line = it->line;
        cs->col = it->col;
        p->nservers = i + 1;
    }

    /* twemproxy refuses two servers with the same name (ring name), whatever their addresses;
     * report the one written last of the first pair in the file */
    qsort(p->servers, n, sizeof(*p->servers), server_cmp);
    for (uint32_t i = 0; i + 1 < n; i++) {
        const struct conf_server *a = &p->servers[i], *b = &p->servers[i + 1];

        if (strcmp(a->ring_name, b->ring_name) == 0 &&
            (dup == NULL || pos_before(b->line, b->col, dup->line, dup->col))) {
            dup = b;
        }
    }
    if (dup != NULL) {
        const struct conf_server *first = dup - 1;
        char q1[CONF_QUOTE_MAX + 8], q2[CONF_QUOTE_MAX + 8], q3[CONF_QUOTE_MAX + 8];

        conf_err_at(err, dup->line, dup->col,
                    "%sduplicate server name '%s': '%s' here and '%s' at %d:%d", ctx,
                    conf_quote(q1, sizeof(q1), dup->ring_name, strlen(dup->ring_name)),
                    conf_quote(q2, sizeof(q2), dup->pname, strlen(dup->pname)),
                    conf_quote(q3, sizeof(q3), first->pname, strlen(first->pname)), first->line,
                    first->col);
        return -1;
    }
    return 0;
}

/* `route:` — a mapping with `replicate:` or `failover:` (a list of pool names) and the options
 * of that kind. The names are checked against the other pools once all are read (conf.c). */
static int parse_route(struct conf_pool *p, const struct cy_node *k, const struct cy_node *v,
                       const char *ctx, struct conf_err *err)
{
    struct conf_route *r = &p->route;
    const struct cy_node *list = NULL;
    char q[CONF_QUOTE_MAX + 8];

    r->line = k->line;
    r->col = k->col;
    if (v->kind != CY_MAP || v->nkids == 0) {
        conf_err_at(err, v->line, v->col,
                    "%s'route' must be a mapping: 'replicate: [pools]' or 'failover: [pools]', "
                    "and their options",
                    ctx);
        return -1;
    }
    for (uint32_t i = 0; i + 1 < v->nkids; i += 2) {
        const struct cy_node *rk = v->kids[i], *rv = v->kids[i + 1];
        bool seq = cy_is(rk, "replicate") || cy_is(rk, "failover");

        if (rk->kind != CY_SCALAR) {
            conf_err_at(err, rk->line, rk->col, "%sroute keys must be plain names", ctx);
            return -1;
        }
        if (seq) {
            if (r->kind != CONF_ROUTE_NONE) {
                conf_err_at(err, rk->line, rk->col,
                            "%sa route is either 'replicate' or 'failover', once", ctx);
                return -1;
            }
            r->kind = cy_is(rk, "replicate") ? CONF_ROUTE_REPLICATE : CONF_ROUTE_FAILOVER;
            list = rv;
            continue;
        }
        if (conf_node_scalar(rk, rv, ctx, err) < 0)
            return -1;
        if (cy_is(rk, "read")) {
            if (cy_is(rv, "first"))
                r->read = CONF_READ_FIRST;
            else if (cy_is(rv, "random"))
                r->read = CONF_READ_RANDOM;
            else if (cy_is(rv, "local"))
                r->read = CONF_READ_LOCAL;
            else {
                conf_err_at(err, rv->line, rv->col,
                            "%sunknown route read '%s' (valid: first, random, local)", ctx,
                            conf_quote(q, sizeof(q), rv->str, rv->len));
                return -1;
            }
        } else if (cy_is(rk, "writes")) {
            if (cy_is(rv, "all"))
                r->writes = CONF_WRITES_ALL;
            else if (cy_is(rv, "one"))
                r->writes = CONF_WRITES_ONE;
            else {
                conf_err_at(err, rv->line, rv->col, "%sunknown route writes '%s' (valid: all, one)",
                            ctx, conf_quote(q, sizeof(q), rv->str, rv->len));
                return -1;
            }
        } else if (cy_is(rk, "read_fallback")) {
            if (conf_node_bool(rk, rv, ctx, &r->read_fallback, err) < 0)
                return -1;
        } else if (cy_is(rk, "on_miss")) {
            if (conf_node_bool(rk, rv, ctx, &r->on_miss, err) < 0)
                return -1;
        } else {
            conf_err_at(err, rk->line, rk->col,
                        "%sunknown route key '%s' (valid: replicate, failover, read, "
                        "read_fallback, writes, on_miss)",
                        ctx, conf_quote(q, sizeof(q), rk->str, rk->len));
            return -1;
        }
        /* each option belongs to one kind; which kind may come later in the mapping */
        bool for_replicate = !cy_is(rk, "on_miss");
        for (uint32_t j = 0; j + 1 < v->nkids; j += 2) {
            const struct cy_node *other = v->kids[j];
            if ((cy_is(other, "failover") && for_replicate) ||
                (cy_is(other, "replicate") && !for_replicate)) {
                conf_err_at(err, rk->line, rk->col, "%s'%s' is not an option of '%s'", ctx,
                            conf_quote(q, sizeof(q), rk->str, rk->len), other->str);
                return -1;
            }
        }
    }
    if (list == NULL) {
        conf_err_at(err, v->line, v->col, "%sa route needs 'replicate' or 'failover'", ctx);
        return -1;
    }
    if (list->kind != CY_SEQ || list->nkids < 2 || list->nkids > CONF_ROUTE_MAX) {
        conf_err_at(err, list->line, list->col,
                    "%sa route names 2 to %d pools, as a list ('[a, b]')", ctx, CONF_ROUTE_MAX);
        return -1;
    }
    for (uint32_t i = 0; i < list->nkids; i++) {
        const struct cy_node *it = list->kids[i];
        if (it->kind != CY_SCALAR || it->len == 0 || strlen(it->str) != it->len) {
            conf_err_at(err, it->line, it->col, "%sa route's pools are plain names", ctx);
            return -1;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(r->targets[j], it->str) == 0) {
                conf_err_at(err, it->line, it->col, "%sthe route names pool '%s' twice", ctx,
                            conf_quote(q, sizeof(q), it->str, it->len));
                return -1;
            }
        }
        r->targets[i] = dup_str(it->str, it->len);
        if (r->targets[i] == NULL) {
            conf_err_at(err, it->line, it->col, "%sout of memory", ctx);
            return -1;
        }
        r->tline[i] = it->line;
        r->tcol[i] = it->col;
        r->ntargets = i + 1;
    }
    return 0;
}

static int parse_value(struct conf_pool *p, enum pool_key key, const struct cy_node *k,
                       const struct cy_node *v, const char *ctx, struct conf_err *err)
{
    const struct pool_key_def *d = &pool_keys[key];
    char q[CONF_QUOTE_MAX + 8], list[256], why[512];
    unsigned long long n;
    int i;

    if (d->kind == KK_SERVERS) {
        return parse_servers(p, k, v, ctx, err);
    }
    if (d->kind == KK_ROUTE) {
        return parse_route(p, k, v, ctx, err);
    }
    if (conf_node_scalar(k, v, ctx, err) < 0) {
        return -1;
    }
    switch (d->kind) {
    case KK_LISTEN:
        if (conf_listen_parse(v->str, v->len, &p->listen, why, sizeof(why)) < 0) {
            conf_err_at(err, v->line, v->col, "%s%s", ctx, why);
            return -1;
        }
        p->listen_line = v->line;
        p->listen_col = v->col;
        p->has_listen = true;
        return 0;
    case KK_HASH:
        i = hash_from_name(v->str, v->len);
        if (i < 0) {
            name_list(list, sizeof(list), hash_name_i, HASH_COUNT);
            conf_err_at(err, v->line, v->col, "%sunknown hash '%s' (valid: %s)", ctx,
                        conf_quote(q, sizeof(q), v->str, v->len), list);
            return -1;
        }
        p->hash = (enum hash_type)i;
        return 0;
    case KK_DIST:
        i = dist_from_name(v->str, v->len);
        if (i < 0) {
            name_list(list, sizeof(list), dist_name_i, DIST_COUNT);
            conf_err_at(err, v->line, v->col, "%sunknown distribution '%s' (valid: %s)", ctx,
                        conf_quote(q, sizeof(q), v->str, v->len), list);
            return -1;
        }
        p->distribution = (enum dist_type)i;
        return 0;
    case KK_HASH_TAG:
        /* twemproxy counts bytes: a tag is two single-byte characters */
        if (v->len != 2) {
            conf_err_at(err, v->line, v->col,
                        "%s'hash_tag' must be exactly 2 characters, like \"{}\", not '%s' "
                        "(%zu byte%s)",
                        ctx, conf_quote(q, sizeof(q), v->str, v->len), v->len,
                        v->len == 1 ? "" : "s");
            return -1;
        }
        p->hash_tag[0] = v->str[0];
        p->hash_tag[1] = v->str[1];
        p->has_hash_tag = true;
        return 0;
    case KK_AUTH:
        if (v->len == 0) {
            conf_err_at(err, v->line, v->col, "%s'redis_auth' is empty", ctx);
            return -1;
        }
        p->redis_auth = dup_str(v->str, v->len);
        if (p->redis_auth == NULL) {
            conf_err_at(err, v->line, v->col, "%sout of memory", ctx);
            return -1;
        }
        return 0;
    case KK_INT:
        if (conf_node_uint(k, v, ctx, d->min, d->max, &n, err) < 0) {
            return -1;
        }
        *(int *)(void *)((char *)p + d->off) = (int)n;
        return 0;
    case KK_U32:
        if (conf_node_uint(k, v, ctx, d->min, d->max, &n, err) < 0) {
            return -1;
        }
        *(uint32_t *)(void *)((char *)p + d->off) = (uint32_t)n;
        return 0;
    case KK_BOOL:
        return conf_node_bool(k, v, ctx, (bool *)(void *)((char *)p + d->off), err);
    case KK_SERVERS:
    case KK_ROUTE:
        break;
    }
    return 0;
}

static void unknown_key(const struct cy_node *k, const char *ctx, struct conf_err *err)
{
    const char *names[PK_COUNT];
    const char *hint;
    char q[CONF_QUOTE_MAX + 8];

    conf_quote(q, sizeof(q), k->str, k->len);
    if (conf_global_is_key(k->str, k->len)) {
        conf_err_at(err, k->line, k->col,
                    "%sunknown key '%s': it belongs in the top-level 'ringproxy:' section", ctx, q);
        return;
    }
    for (int i = 0; i < PK_COUNT; i++) {
        names[i] = pool_keys[i].name;
    }
    hint = conf_closest_name(k->str, k->len, names, PK_COUNT);
    if (hint != NULL) {
        conf_err_at(err, k->line, k->col, "%sunknown key '%s' (did you mean '%s'?)", ctx, q, hint);
    } else {
        conf_err_at(err, k->line, k->col, "%sunknown key '%s'", ctx, q);
    }
}

/* Checks that need every key: what must be there, and keys that depend on others. */
static int check_pool(struct conf_pool *p, const struct cy_node *name, const struct pool_seen *s,
                      const char *ctx, struct conf_err *err)
{
    const struct cy_node *v;

    /* a pool without `listen` is one only routes reach: conf.c checks that one does */
    if (s->key[PK_ROUTE] != NULL) {
        if (s->key[PK_LISTEN] == NULL) {
            conf_err_at(err, name->line, name->col, "%sa pool with a 'route' needs 'listen'", ctx);
            return -1;
        }
        if (s->key[PK_SERVERS] != NULL) {
            v = s->key[PK_SERVERS];
            conf_err_at(err, v->line, v->col,
                        "%sa pool has 'servers' or a 'route', not both (a route's servers are "
                        "those of the pools it names)",
                        ctx);
            return -1;
        }
    } else if (s->key[PK_SERVERS] == NULL) {
        conf_err_at(err, name->line, name->col, "%smissing 'servers'", ctx);
        return -1;
    }
    v = s->val[PK_RESHARD_WARMUP];
    if (v != NULL && (p->redis || s->key[PK_ROUTE] != NULL) && p->reshard_warmup_s > 0) {
        conf_err_at(err, v->line, v->col,
                    "%s'reshard_warmup' is for memcached pools with servers (not %s)", ctx,
                    p->redis ? "a redis pool, yet" : "a route: set it on the pools it names");
        return -1;
    }
    v = s->val[PK_REDIS_AUTH];
    if (v != NULL && !p->redis) {
        conf_err_at(err, v->line, v->col,
                    "%s'redis_auth' is only valid in a redis pool (add 'redis: true')", ctx);
        return -1;
    }
    if (s->val[PK_MAX_VALUE_SIZE] == NULL && p->redis)
        p->max_value_size = CONF_REDIS_VALUE_DEFAULT;
    v = s->val[PK_MAX_KEY_LENGTH];
    if (v == NULL) {
        p->max_key_length = p->redis ? CONF_REDIS_KEY_DEFAULT : CONF_MC_KEY_MAX;
    } else if (!p->redis && p->max_key_length > CONF_MC_KEY_MAX) {
        conf_err_at(err, v->line, v->col,
                    "%s'max_key_length' is out of range: %u (memcached allows 1..%d)", ctx,
                    p->max_key_length, CONF_MC_KEY_MAX);
        return -1;
    }
    return 0;
}

int conf_pool_parse(struct conf_pool *pool, const struct cy_node *name, const struct cy_node *body,
                    struct conf_err *err)
{
    char ctx[CONF_QUOTE_MAX + 32], q[CONF_QUOTE_MAX + 8];
    struct pool_seen seen = {{0}, {0}};

    snprintf(ctx, sizeof(ctx), "pool '%s': ", conf_quote(q, sizeof(q), name->str, name->len));
    set_defaults(pool);
    pool->line = name->line;
    pool->col = name->col;
    pool->name = dup_str(name->str, name->len);
    if (pool->name == NULL) {
        conf_err_at(err, name->line, name->col, "%sout of memory", ctx);
        return -1;
    }
    if (cy_is_empty(body)) {
        conf_err_at(err, name->line, name->col,
                    "%sthe pool is empty: it needs 'listen' and "
                    "'servers'",
                    ctx);
        return -1;
    }
    if (body->kind != CY_MAP) {
        conf_err_at(err, body->line, body->col,
                    "%sa pool must be a mapping of keys to values, "
                    "not %s",
                    ctx, cy_kind_name(body));
        return -1;
    }
    for (uint32_t i = 0; i + 1 < body->nkids; i += 2) {
        const struct cy_node *k = body->kids[i], *v = body->kids[i + 1];
        int key;

        if (k->kind != CY_SCALAR) {
            conf_err_at(err, k->line, k->col, "%skeys must be plain names, not %s", ctx,
                        cy_kind_name(k));
            return -1;
        }
        key = find_key(k->str, k->len);
        if (key < 0) {
            unknown_key(k, ctx, err);
            return -1;
        }
        if (seen.key[key] != NULL) {
            conf_err_at(err, k->line, k->col, "%sduplicate key '%s' (first at %d:%d)", ctx,
                        pool_keys[key].name, seen.key[key]->line, seen.key[key]->col);
            return -1;
        }
        seen.key[key] = k;
        seen.val[key] = v;
        if (parse_value(pool, (enum pool_key)key, k, v, ctx, err) < 0) {
            return -1;
        }
    }
    return check_pool(pool, name, &seen, ctx, err);
}

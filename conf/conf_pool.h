/* One pool of nutcracker.yml: its keys, their defaults and checks, and its servers. */
#ifndef RP_CONF_POOL_H
#define RP_CONF_POOL_H

#include <stdbool.h>

#include "conf/conf.h"
#include "conf/conf_err.h"
#include "conf/conf_yaml.h"

/* ringproxy's own pool defaults and limits */
#define CONF_MC_KEY_MAX        250   /* memcached's key length limit */
#define CONF_REDIS_KEY_DEFAULT 65536 /* default max_key_length of a redis pool */
#define CONF_REDIS_KEY_MAX     (1u << 20)
#define CONF_VALUE_DEFAULT     (1u << 20)
#define CONF_REDIS_VALUE_DEFAULT                                                                   \
    (128u << 20)                  /* a redis pool's: whole values must fit in spill space */
#define CONF_VALUE_MAX (1u << 30) /* memcached's -I cannot go past 1 GiB */

/* Fills *pool (zeroed by the caller) from the pool named by the scalar name, whose value is
 * body: every key checked, defaults applied, servers parsed and put in twemproxy's order.
 * Returns 0, or -1 with the message in err; either way *pool may own memory that
 * conf_pool_release frees. */
int conf_pool_parse(struct conf_pool *pool, const struct cy_node *name, const struct cy_node *body,
                    struct conf_err *err);

void conf_pool_release(struct conf_pool *pool);

/* True when the mapping body has a key named key (used to tell the `ringproxy:` section from
 * a pool of that name). */
bool conf_map_has(const struct cy_node *body, const char *key);

/* True when key is one of the pool keys (for hints in the `ringproxy:` section). */
bool conf_pool_is_key(const char *key, size_t len);

#endif

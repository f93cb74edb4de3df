/* The top-level `ringproxy:` section: process-wide settings that twemproxy has no place for. */
#ifndef RP_CONF_GLOBAL_H
#define RP_CONF_GLOBAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "conf/conf_err.h"
#include "conf/conf_yaml.h"

/* The reserved top-level name. */
#define CONF_GLOBAL_NAME "ringproxy"

#define CONF_WORKERS_MAX      256
#define CONF_BUFFER_SIZE_MIN  4096u
#define CONF_BUFFER_SIZE_MAX  (1u << 20)
#define CONF_BUFFERS_MIN      16u
#define CONF_BUFFERS_MAX      65536u
#define CONF_REQUEST_LINE_MIN 1024u
#define CONF_REQUEST_LINE_MAX (1u << 20)
#define CONF_SPILL_MB_MIN     1u
#define CONF_SPILL_MB_MAX     (1u << 20)

/* The defaults, used when the section is absent. */
void conf_global_defaults(struct conf_global *g);

/* True when the top-level entry name: body is the `ringproxy:` section rather than a pool:
 * named "ringproxy", and a mapping without 'listen' and 'servers' (or empty). A pool of that
 * name has both, so no nutcracker.yml is read differently. */
bool conf_global_is_section(const struct cy_node *name, const struct cy_node *body);

/* Reads the section into *g (defaults first). Returns 0, or -1 with the message in err. */
int conf_global_parse(struct conf_global *g, const struct cy_node *body, struct conf_err *err);

/* True when key is one of the section's keys (for hints in pools). */
bool conf_global_is_key(const char *key, size_t len);

#endif

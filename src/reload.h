/* Live reload (SIGHUP, SIGUSR1): the configuration file is read again and validated in full;
 * a valid new configuration is published to every worker (health.h's views), an invalid one is
 * refused and the one in force keeps serving. */
#ifndef RP_RELOAD_H
#define RP_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "src/health.h"
#include "src/stats.h"

enum reload_result { RELOAD_APPLIED, RELOAD_UNCHANGED, RELOAD_REFUSED };

/* FNV-1a 64 of the file at path as 16 hex digits into out[17]. Returns 0 or -errno. */
int reload_checksum(const char *path, char out[17]);

/* Reloads path: unchanged bytes (same checksum as the configuration in force) change nothing;
 * otherwise the file is loaded and validated, the `ringproxy:` settings that cannot change
 * while running are kept as they are (and logged as needing a restart), sockets for new or
 * moved listen addresses are opened for every worker, and the new view is published. Any
 * failure refuses the whole reload, logged with the same file:line:column message as `-t`,
 * and counted in reg. */
enum reload_result reload_run(struct health *h, struct stats_registry *reg, const char *path);

#endif

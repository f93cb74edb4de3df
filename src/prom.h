/* The stats in Prometheus's text exposition format (version 0.0.4), for `GET /metrics`. */
#ifndef RP_PROM_H
#define RP_PROM_H

#include "src/stats.h"

/* Every counter and gauge of the stats JSON, the latency histograms, per-command counters and
 * the process's own figures, into a malloc'd string (NULL when out of memory). The caller holds
 * r->conf_lock. */
char *prom_metrics_locked(struct stats_registry *r);

#endif

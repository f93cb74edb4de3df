/* Prometheus text exposition: names as Prometheus's conventions want them (ringproxy_ prefix,
 * _total on counters, base units: seconds and bytes), labels pool and server, each family with
 * its HELP and TYPE lines. */
#include "src/prom.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/sbuf.h"
#include "src/version.h"

/* A label value, escaped as the format asks (backslash, double quote, newline). */
static void label(struct sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            sb_printf(b, "\\%c", *s);
        else if (*s == '\n')
            sb_printf(b, "\\n");
        else
            sb_printf(b, "%c", *s);
    }
    sb_printf(b, "\"");
}

static void family(struct sbuf *b, const char *name, const char *type, const char *help)
{
    sb_printf(b, "# HELP ringproxy_%s %s\n# TYPE ringproxy_%s %s\n", name, help, name, type);
}

/* "server_eof" -> "eof"-style names keep nutcracker's words; counters get _total. */
static void pool_metrics(struct sbuf *b, struct stats_registry *r)
{
    const struct conf *conf = r->conf;
#define POOL_PROM(m, gauge)                                                                        \
    family(b, gauge ? "pool_" #m : "pool_" #m "_total", gauge ? "gauge" : "counter",               \
           "nutcracker's pool metric " #m);                                                        \
    for (uint32_t p = 0; p < conf->npools; p++) {                                                  \
        sb_printf(b, "ringproxy_pool_" #m "%s{pool=", gauge ? "" : "_total");                      \
        label(b, conf->pools[p].name);                                                             \
        sb_printf(b, "} %llu\n",                                                                   \
                  (unsigned long long)stats_sum_pool(r, p, offsetof(struct pool_stats, m)));       \
    }
    POOL_STATS(POOL_PROM)
#undef POOL_PROM
#define POOL_RP_PROM(m, gauge)                                                                     \
    family(b, "pool_" #m "_total", "counter", "ringproxy's pool metric " #m);                      \
    for (uint32_t p = 0; p < conf->npools; p++) {                                                  \
        sb_printf(b, "ringproxy_pool_" #m "_total{pool=");                                         \
        label(b, conf->pools[p].name);                                                             \
        sb_printf(b, "} %llu\n",                                                                   \
                  (unsigned long long)stats_sum_pool(r, p, offsetof(struct pool_stats, m)));       \
    }
    POOL_RP_STATS(POOL_RP_PROM)
#undef POOL_RP_PROM
}

static void server_labels(struct sbuf *b, const struct conf_pool *cp, uint32_t s)
{
    char name[512];
    stats_server_name(&cp->servers[s], name, sizeof(name));
    sb_printf(b, "pool=");
    label(b, cp->name);
    sb_printf(b, ",server=");
    label(b, name);
}

static void server_metrics(struct sbuf *b, struct stats_registry *r)
{
    const struct conf *conf = r->conf;
#define SERVER_PROM(m, gauge)                                                                      \
    {                                                                                              \
        const char *n = #m;                                                                        \
        if (strncmp(n, "server_", 7) == 0)                                                         \
            n += 7;                                                                                \
        char fam[64];                                                                              \
        snprintf(fam, sizeof(fam), "server_%s%s", n, gauge ? "" : "_total");                       \
        family(b, fam, gauge ? "gauge" : "counter", "nutcracker's server metric " #m);             \
        for (uint32_t p = 0; p < conf->npools; p++)                                                \
            for (uint32_t s = 0; s < conf->pools[p].nservers; s++) {                               \
                sb_printf(b, "ringproxy_%s{", fam);                                                \
                server_labels(b, &conf->pools[p], s);                                              \
                sb_printf(b, "} %llu\n",                                                           \
                          (unsigned long long)stats_sum_server(                                    \
                              r, p, s, offsetof(struct server_stats, m),                           \
                              strcmp(#m, "server_ejected_at") == 0));                              \
            }                                                                                      \
    }
    SERVER_STATS(SERVER_PROM)
#undef SERVER_PROM
}

/* The histogram of server s of pool p (s UINT32_MAX: every server of the pool added up). */
static void histogram(struct sbuf *b, struct stats_registry *r, const char *fam, uint32_t p,
                      uint32_t s)
{
    const struct conf_pool *cp = &r->conf->pools[p];
    uint64_t cum = 0;
    uint32_t first = s == UINT32_MAX ? 0 : s, last = s == UINT32_MAX ? cp->nservers : s + 1;
    uint64_t counts[HIST_BUCKETS] = {0}, sum = 0;
    for (uint32_t i = first; i < last; i++) {
        for (uint32_t k = 0; k < HIST_BUCKETS; k++)
            counts[k] += stats_sum_server(
                r, p, i, offsetof(struct server_stats, latency.bucket) + k * sizeof(uint64_t),
                false);
        sum += stats_sum_server(r, p, i, offsetof(struct server_stats, latency.sum_ns), false);
    }
    for (uint32_t k = 0; k < HIST_BUCKETS; k++) {
        cum += counts[k];
        sb_printf(b, "ringproxy_%s_bucket{", fam);
        if (s == UINT32_MAX) {
            sb_printf(b, "pool=");
            label(b, cp->name);
        } else {
            server_labels(b, cp, s);
        }
        if (k < HIST_FINITE)
            sb_printf(b, ",le=\"%g\"} %llu\n", hist_bounds_us[k] / 1e6, (unsigned long long)cum);
        else
            sb_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    }
    const char *parts[2] = {"sum", "count"};
    for (int i = 0; i < 2; i++) {
        sb_printf(b, "ringproxy_%s_%s{", fam, parts[i]);
        if (s == UINT32_MAX) {
            sb_printf(b, "pool=");
            label(b, cp->name);
        } else {
            server_labels(b, cp, s);
        }
        if (i == 0)
            sb_printf(b, "} %.9f\n", (double)sum / 1e9);
        else
            sb_printf(b, "} %llu\n", (unsigned long long)cum);
    }
}

static void latency_metrics(struct sbuf *b, struct stats_registry *r)
{
    family(b, "server_request_duration_seconds", "histogram",
           "time from a request's queueing on a server connection to its complete reply");
    for (uint32_t p = 0; p < r->conf->npools; p++)
        for (uint32_t s = 0; s < r->conf->pools[p].nservers; s++)
            histogram(b, r, "server_request_duration_seconds", p, s);
    family(b, "pool_request_duration_seconds", "histogram",
           "the pool's servers' request durations added up");
    for (uint32_t p = 0; p < r->conf->npools; p++)
        histogram(b, r, "pool_request_duration_seconds", p, UINT32_MAX);
}

static void command_metrics(struct sbuf *b, struct stats_registry *r)
{
    family(b, "pool_commands_total", "counter", "requests by command (those seen so far)");
    for (uint32_t p = 0; p < r->conf->npools; p++) {
        const struct conf_pool *cp = &r->conf->pools[p];
        uint32_t n = cp->redis ? RD_CMD_COUNT : MC_CMD_COUNT;
        for (uint32_t c = 1; c < n; c++) {
            size_t off = cp->redis ? offsetof(struct pool_stats, rd_cmds) + c * sizeof(uint64_t)
                                   : offsetof(struct pool_stats, mc_cmds) + c * sizeof(uint64_t);
            uint64_t v = stats_sum_pool(r, p, off);
            if (v == 0)
                continue; /* a few series per pool, not one per command of the table */
            const char *name =
                cp->redis ? rd_cmd_info((enum rd_cmd)c)->name : mc_cmd_info((enum mc_cmd)c)->name;
            sb_printf(b, "ringproxy_pool_commands_total{pool=");
            label(b, cp->name);
            sb_printf(b, ",command=");
            label(b, name);
            sb_printf(b, "} %llu\n", (unsigned long long)v);
        }
    }
}

static void process_metrics(struct sbuf *b, struct stats_registry *r)
{
    family(b, "info", "gauge", "version and I/O engine in use");
    sb_printf(b, "ringproxy_info{version=\"%s\",engine=", RP_VERSION);
    label(b, r->engine);
    sb_printf(b, "} 1\n");
    family(b, "workers", "gauge", "worker threads");
    sb_printf(b, "ringproxy_workers %u\n", r->nworkers);
    family(b, "uptime_seconds", "gauge", "seconds since the start");
    sb_printf(b, "ringproxy_uptime_seconds %llu\n",
              (unsigned long long)((uint64_t)time(NULL) - r->start_time));
    family(b, "arena_buffers", "gauge", "receive buffers in the arenas, over every worker");
    sb_printf(b, "ringproxy_arena_buffers %llu\n",
              (unsigned long long)r->conf->global.buffers * r->nworkers);
    family(b, "arena_buffer_size_bytes", "gauge", "bytes per arena buffer");
    sb_printf(b, "ringproxy_arena_buffer_size_bytes %u\n", r->conf->global.buffer_size);
#define WORKER_PROM(name, gauge)                                                                   \
    family(b, gauge ? #name : #name "_total", gauge ? "gauge" : "counter",                         \
           "ringproxy's own " #name ", over every worker");                                        \
    sb_printf(b, "ringproxy_" #name "%s %llu\n", gauge ? "" : "_total",                            \
              (unsigned long long)stats_sum_worker(r, offsetof(struct worker_stats, name)));
    WORKER_STATS(WORKER_PROM)
#undef WORKER_PROM
    family(b, "config_reloads_total", "counter", "configuration reloads by result");
    sb_printf(b, "ringproxy_config_reloads_total{result=\"ok\"} %llu\n",
              (unsigned long long)atomic_load(&r->conf_reloads));
    sb_printf(b, "ringproxy_config_reloads_total{result=\"failed\"} %llu\n",
              (unsigned long long)atomic_load(&r->conf_reload_failures));
    sb_printf(b, "ringproxy_config_reloads_total{result=\"unchanged\"} %llu\n",
              (unsigned long long)atomic_load(&r->conf_reload_unchanged));
    family(b, "config_loaded_timestamp_seconds", "gauge", "when the configuration was loaded");
    sb_printf(b, "ringproxy_config_loaded_timestamp_seconds %llu\n",
              (unsigned long long)r->conf_loaded_at);
    family(b, "config_info", "gauge", "the configuration file in force and its checksum");
    sb_printf(b, "ringproxy_config_info{file=");
    label(b, r->conf_file);
    sb_printf(b, ",checksum=\"%s\"} 1\n", r->conf_checksum);
}

char *prom_metrics_locked(struct stats_registry *r)
{
    struct sbuf b = {0};
    process_metrics(&b, r);
    pool_metrics(&b, r);
    server_metrics(&b, r);
    latency_metrics(&b, r);
    command_metrics(&b, r);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

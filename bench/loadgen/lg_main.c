/* loadgen: a memcached / redis load generator for ringproxy's benchmarks. main parses the
 * options, starts the threads, sets the clock for them, and reports what they measured. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lg_opts.h"
#include "lg_rand.h"
#include "lg_report.h"
#include "lg_worker.h"

#define START_MARGIN_NS 2000000ull /* the threads pass the barrier before t_start */

/* Lifts the descriptor limit to the hard limit (10,000 idle connections need it). */
static void raise_nofile(uint32_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "loadgen: setrlimit(RLIMIT_NOFILE): %s\n", strerror(errno));
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (uint64_t)need + 32 > rl.rlim_cur)
        fprintf(stderr,
                "loadgen: warning: %u connections but a descriptor limit of %llu; the excess "
                "will fail (raise the hard limit: ulimit -Hn)\n",
                need, (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
    struct lg_config cfg;
    int rc = lg_opts_parse(&cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 1;

    signal(SIGPIPE, SIG_IGN);
    raise_nofile(cfg.conns);

    struct lg_shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.cfg = &cfg;
    sh.kf.prefix = cfg.key_prefix;
    sh.kf.prefix_len = strlen(cfg.key_prefix);
    sh.req_max = lg_req_max(cfg.proto, &sh.kf, cfg.width, cfg.value_size);
    if (cfg.pattern == LG_KEYS_ZIPF && lg_zipf_init(&sh.zipf, cfg.keys, cfg.zipf_s) < 0) {
        fprintf(stderr, "loadgen: bad zipf parameters\n");
        return 1;
    }
    char *value = malloc(cfg.value_size + 1);
    if (value == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 3;
    }
    for (uint32_t i = 0; i < cfg.value_size; i++)
        value[i] = (char)('a' + i % 26);
    sh.value = value;
    pthread_barrier_init(&sh.ready, NULL, cfg.threads + 1);
    pthread_barrier_init(&sh.go, NULL, cfg.threads + 1);

    struct lg_worker *ws = calloc(cfg.threads, sizeof(*ws));
    if (ws == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 3;
    }
    uint32_t first = 0;
    for (uint32_t t = 0; t < cfg.threads; t++) {
        struct lg_worker *w = &ws[t];
        w->id = t;
        w->sh = &sh;
        w->first = first;
        w->nconns = cfg.conns / cfg.threads + (t < cfg.conns % cfg.threads);
        if (cfg.requests > 0 && cfg.rate == 0) {
            /* the requests split as the connections do; the shares add up exactly */
            unsigned __int128 n = cfg.requests;
            w->limited = true;
            w->quota = (uint64_t)(n * (first + w->nconns) / cfg.conns - n * first / cfg.conns);
        }
        first += w->nconns;
    }
    uint64_t t0 = lg_now();
    for (uint32_t t = 0; t < cfg.threads; t++) {
        int e = pthread_create(&ws[t].tid, NULL, lg_worker_main, &ws[t]);
        if (e != 0) {
            fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(e));
            return 3;
        }
    }

    pthread_barrier_wait(&sh.ready);
    uint64_t now = lg_now();
    double setup_s = (double)(now - t0) / 1e9;
    sh.t_start = now + START_MARGIN_NS;
    if (cfg.idle > 0) {
        uint64_t established = 0;
        for (uint32_t t = 0; t < cfg.threads; t++)
            established += ws[t].open; /* the barrier makes the threads' writes visible */
        fprintf(stderr, "loadgen: %llu/%u idle connections open after %.2f s; holding %.1f s\n",
                (unsigned long long)established, cfg.conns, setup_s, cfg.duration_s);
        sh.t_warm = sh.t_start;
    } else {
        sh.t_warm = sh.t_start + (uint64_t)(cfg.warmup_s * 1e9);
    }
    sh.t_end = cfg.duration_s > 0 ? sh.t_warm + (uint64_t)(cfg.duration_s * 1e9) : UINT64_MAX;
    pthread_barrier_wait(&sh.go);

    for (uint32_t t = 0; t < cfg.threads; t++)
        pthread_join(ws[t].tid, NULL);

    struct lg_stats total;
    lg_stats_init(&total);
    for (uint32_t t = 0; t < cfg.threads; t++)
        lg_stats_merge(&total, &ws[t].st);
    struct lg_result res = {.st = &total, .setup_s = setup_s, .warmup_s = cfg.warmup_s};
    if (cfg.idle > 0)
        res.warmup_s = 0;
    if (total.t_window_end > sh.t_warm)
        res.duration_s = (double)(total.t_window_end - sh.t_warm) / 1e9;
    if (cfg.json)
        lg_report_json(stdout, &cfg, &res);
    else
        lg_report_text(stdout, &cfg, &res);
    fflush(stdout);

    pthread_barrier_destroy(&sh.ready);
    pthread_barrier_destroy(&sh.go);
    free(ws);
    free(value);
    if (total.connected == 0)
        return 2;
    if (cfg.idle == 0 && total.requests == 0)
        return 2;
    return 0;
}

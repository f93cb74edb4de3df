/* ringproxy's entry point: nutcracker's command line, config check, key routing queries,
 * and the start and orderly stop of the workers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "hash/hash_dist.h"
#include "src/health.h"
#include "src/io.h"
#include "src/cpus.h"
#include "src/log.h"
#include "src/reload.h"
#include "src/stats.h"
#include "src/version.h"
#include "src/worker.h"

#define DEFAULT_CONF        "conf/nutcracker.yml"
#define DEFAULT_STATS_PORT  22222
#define DEFAULT_STATS_ADDR  "0.0.0.0"
#define DEFAULT_STATS_INTVL 30000

struct options {
    const char *conf_file;
    const char *log_file;
    const char *pid_file;
    const char *stats_addr;
    int stats_port;
    int stats_interval;
    int verbosity;
    long mbuf_size;
    int workers; /* -1: from the config */
    int io;      /* -1: from the config, else enum io_choice */
    bool test_conf;
    bool daemonize;
    bool describe;
    bool version;
    bool route;
    const char *route_pool;
};

enum { OPT_IO = 256, OPT_WORKERS, OPT_ROUTE, OPT_POOL };

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"test-conf", no_argument, NULL, 't'},
    {"daemonize", no_argument, NULL, 'd'},
    {"describe-stats", no_argument, NULL, 'D'},
    {"verbose", required_argument, NULL, 'v'},
    {"verbosity", required_argument, NULL, 'v'},
    {"output", required_argument, NULL, 'o'},
    {"conf-file", required_argument, NULL, 'c'},
    {"stats-port", required_argument, NULL, 's'},
    {"stats-interval", required_argument, NULL, 'i'},
    {"stats-addr", required_argument, NULL, 'a'},
    {"pid-file", required_argument, NULL, 'p'},
    {"mbuf-size", required_argument, NULL, 'm'},
    {"io", required_argument, NULL, OPT_IO},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"route", no_argument, NULL, OPT_ROUTE},
    {"pool", required_argument, NULL, OPT_POOL},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ringproxy [-?hVdDt] [-v verbosity level] [-o output file]\n"
            "                 [-c conf file] [-s stats port] [-a stats addr]\n"
            "                 [-i stats interval] [-p pid file] [-m mbuf size]\n"
            "                 [--io=uring|epoll|auto] [--workers=N]\n"
            "                 [--route [--pool=NAME] [KEY...]]\n"
            "\n"
            "Options (as nutcracker's):\n"
            "  -h, --help             : this help\n"
            "  -V, --version          : show version, engines available, and exit\n"
            "  -t, --test-conf        : test configuration for syntax errors and exit\n"
            "  -d, --daemonize        : run as a daemon\n"
            "  -D, --describe-stats   : print stats description and exit\n"
            "  -v, --verbose=N        : set logging level (default: %d, min: 0, max: 11)\n"
            "  -o, --output=S         : set logging file (default: stderr)\n"
            "  -c, --conf-file=S      : set configuration file (default: %s)\n"
            "  -s, --stats-port=N     : set stats monitoring port (default: %d)\n"
            "  -a, --stats-addr=S     : set stats monitoring ip (default: %s)\n"
            "  -i, --stats-interval=N : set stats aggregation interval in msec (default: %d;\n"
            "                           ringproxy adds up its counters on each request)\n"
            "  -p, --pid-file=S       : set pid file (default: off)\n"
            "  -m, --mbuf-size=N      : set size of each arena buffer in bytes (default: 16384)\n"
            "ringproxy's own:\n"
            "      --io=E             : I/O engine: uring, epoll or auto (default: auto)\n"
            "      --workers=N        : worker threads (default: one per CPU)\n"
            "      --route [KEY...]   : print the pool and server of each KEY (stdin, one per\n"
            "                           line, when no KEY or '-') and exit; --pool=NAME limits\n"
            "                           it to one pool\n",
            LOG_NOTICE, DEFAULT_CONF, DEFAULT_STATS_PORT, DEFAULT_STATS_ADDR, DEFAULT_STATS_INTVL);
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    long v;
    int c;
    while ((c = getopt_long(argc, argv, "hVtdDv:o:c:s:i:a:p:m:", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            o->version = true;
            break;
        case 't':
            o->test_conf = true;
            break;
        case 'd':
            o->daemonize = true;
            break;
        case 'D':
            o->describe = true;
            break;
        case 'v':
            if (parse_int(optarg, 0, 11, &v) < 0)
                goto bad;
            o->verbosity = (int)v;
            break;
        case 'o':
            o->log_file = optarg;
            break;
        case 'c':
            o->conf_file = optarg;
            break;
        case 's':
            if (parse_int(optarg, 1, 65535, &v) < 0)
                goto bad;
            o->stats_port = (int)v;
            break;
        case 'i':
            if (parse_int(optarg, 1, 1L << 30, &v) < 0)
                goto bad;
            o->stats_interval = (int)v;
            break;
        case 'a':
            o->stats_addr = optarg;
            break;
        case 'p':
            o->pid_file = optarg;
            break;
        case 'm':
            if (parse_int(optarg, 512, 16777216, &v) < 0)
                goto bad;
            o->mbuf_size = v;
            break;
        case OPT_IO:
            if (strcmp(optarg, "uring") == 0)
                o->io = IO_CHOICE_URING;
            else if (strcmp(optarg, "epoll") == 0)
                o->io = IO_CHOICE_EPOLL;
            else if (strcmp(optarg, "auto") == 0)
                o->io = IO_CHOICE_AUTO;
            else
                goto bad;
            break;
        case OPT_WORKERS:
            if (parse_int(optarg, 1, 256, &v) < 0)
                goto bad;
            o->workers = (int)v;
            break;
        case OPT_ROUTE:
            o->route = true;
            break;
        case OPT_POOL:
            o->route_pool = optarg;
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    return 0;
bad:
    fprintf(stderr, "ringproxy: option -%c: bad value '%s'\n", c < 256 ? c : '-', optarg);
    usage(stderr);
    return -1;
}

static void describe_stats(void)
{
    printf("This is ringproxy-%s\n\npool stats:\n", RP_VERSION);
#define D(name, gauge) printf("  %-20s%s\n", #name, gauge ? "(gauge)" : "(counter)");
    POOL_STATS(D)
    printf("\nserver stats:\n");
    SERVER_STATS(D)
    printf("\nringproxy stats (object \"ringproxy\"):\n");
    WORKER_STATS(D)
#undef D
}

static void print_version(void)
{
    printf("This is ringproxy-%s\n", RP_VERSION);
    struct mbuf_pool pool;
    char why[256] = "";
    if (mbuf_pool_init(&pool, 4096, 16, 0) == 0) {
        struct io_engine *e = io_engine_create(IO_CHOICE_URING, &pool, 8, why, sizeof(why));
        if (e != NULL) {
            printf("io engines: uring (available), epoll\n");
            e->ops->destroy(e);
        } else {
            printf("io engines: epoll (io_uring unavailable: %s)\n", why);
        }
        mbuf_pool_free(&pool);
    }
}

/* --route: where does each key live? */
static int route_line(const struct conf *conf, const struct dist *dists, const char *only,
                      const char *key, size_t len)
{
    int found = 0;
    for (uint32_t p = 0; p < conf->npools; p++) {
        const struct conf_pool *cp = &conf->pools[p];
        if (only != NULL && strcmp(only, cp->name) != 0)
            continue;
        found = 1;
        uint32_t s =
            dist_route(&dists[p], cp->hash, cp->has_hash_tag ? cp->hash_tag : NULL, key, len);
        fwrite(key, 1, len, stdout);
        if (s >= cp->nservers) {
            printf("\t%s\t-\n", cp->name);
            continue;
        }
        const struct conf_server *cs = &cp->servers[s];
        if (cs->addr.unix_path != NULL)
            printf("\t%s\t%s", cp->name, cs->addr.unix_path);
        else
            printf("\t%s\t%s:%u", cp->name, cs->addr.host, cs->addr.port);
        if (cs->name != NULL)
            printf("\t%s", cs->name);
        putchar('\n');
    }
    return found;
}

static int route_keys(const struct conf *conf, const struct options *o, int argc, char **argv)
{
    struct dist *dists = calloc(conf->npools, sizeof(*dists));
    if (dists == NULL)
        return 1;
    for (uint32_t p = 0; p < conf->npools; p++) {
        const struct conf_pool *cp = &conf->pools[p];
        struct dist_server *ds = calloc(cp->nservers, sizeof(*ds));
        if (ds == NULL)
            return 1;
        for (uint32_t i = 0; i < cp->nservers; i++) {
            ds[i].ring_name = cp->servers[i].ring_name;
            ds[i].ring_name_len = strlen(cp->servers[i].ring_name);
            ds[i].weight = cp->servers[i].weight;
            ds[i].live = true;
        }
        if (dist_build(&dists[p], cp->distribution, ds, cp->nservers) < 0)
            return 1;
        free(ds);
    }
    if (o->route_pool != NULL && conf_pool_find(conf, o->route_pool) == NULL) {
        fprintf(stderr, "ringproxy: no pool named '%s'\n", o->route_pool);
        return 1;
    }
    bool from_stdin = optind >= argc || (optind == argc - 1 && strcmp(argv[optind], "-") == 0);
    if (from_stdin) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            if (n > 0 && line[n - 1] == '\n')
                n--;
            if (n > 0 && line[n - 1] == '\r')
                n--;
            route_line(conf, dists, o->route_pool, line, (size_t)n);
        }
        free(line);
    } else {
        for (int i = optind; i < argc; i++)
            route_line(conf, dists, o->route_pool, argv[i], strlen(argv[i]));
    }
    for (uint32_t p = 0; p < conf->npools; p++)
        dist_free(&dists[p]);
    free(dists);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int write_pid_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    ssize_t w = write(fd, buf, (size_t)n);
    close(fd);
    return w == n ? 0 : -1;
}

/* One signal on the main thread: returns the signal when it asks the process to stop, else 0.
 * SIGHUP reopens the log and reloads (nutcracker reopens the log on it; its test suite keeps
 * SIGUSR1 for a reload), SIGUSR1 reloads, SIGTTIN and SIGTTOU move the log level. */
static int handle_signal(int sig, struct health *h, struct stats_registry *reg, const char *path)
{
    switch (sig) {
    case SIGHUP:
        log_reopen();
        log_notice("signal SIGHUP received: log reopened, reloading '%s'", path);
        reload_run(h, reg, path);
        return 0;
    case SIGUSR1:
        log_notice("signal SIGUSR1 received: reloading '%s'", path);
        reload_run(h, reg, path);
        return 0;
    case SIGTTIN:
    case SIGTTOU: {
        /* as nutcracker: TTIN raises the log level, TTOU lowers it */
        int lvl = sig == SIGTTIN ? log_level_up() : log_level_down();
        log_write(LOG_NOTICE, "signal %s received: log level set to %d",
                  sig == SIGTTIN ? "SIGTTIN" : "SIGTTOU", lvl);
        return 0;
    }
    case SIGUSR2:
        return 0;
    default:
        return sig;
    }
}

/* SIGTERM / SIGINT: the workers stop accepting and close each client once it has been answered;
 * this waits until no client is left or the drain timeout of the configuration in force has
 * passed (a second SIGTERM or SIGINT ends the wait at once). */
static void drain(struct worker *workers, int nworkers, struct health *h, const sigset_t *set,
                  int sig)
{
    struct health_view *v = health_view_get(h);
    int timeout_ms = v->conf->global.drain_timeout_ms;
    health_view_put(h, v);
    log_notice("signal %s received: not accepting any more, draining clients for up to %d ms",
               sig == SIGINT    ? "SIGINT"
               : sig == SIGTERM ? "SIGTERM"
                                : "?",
               timeout_ms);
    for (int i = 0; i < nworkers; i++) {
        atomic_store(&workers[i].nclients_live, UINT32_MAX); /* until the worker counts */
        atomic_store(&workers[i].drain, 1);
    }
    uint64_t deadline = worker_now() + (uint64_t)timeout_ms * 1000000ULL;
    uint64_t left = 0;
    for (;;) {
        left = 0;
        for (int i = 0; i < nworkers; i++) {
            uint32_t n = atomic_load(&workers[i].nclients_live);
            left += n == UINT32_MAX ? 1 : n;
        }
        if (left == 0 || worker_now() >= deadline)
            break;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20000000};
        int s2 = sigtimedwait(set, NULL, &ts);
        if (s2 == SIGTERM || s2 == SIGINT) {
            log_notice("second stop signal: not waiting for the drain");
            break;
        }
        if (s2 == SIGTTIN || s2 == SIGTTOU)
            handle_signal(s2, h, NULL, NULL);
    }
    if (left == 0)
        log_notice("drained: every client was answered and closed");
    else
        log_warn("drain timeout: closing %llu clients still open", (unsigned long long)left);
}

static int run(struct conf *conf, const struct options *o)
{
    int nworkers = o->workers > 0 ? o->workers : conf->global.workers;
    if (nworkers <= 0) {
        /* one per CPU this process may use, not one per CPU of the host */
        struct cpus_info ci;
        char quota[64] = "none";
        cpus_usable("", &ci);
        nworkers = ci.usable;
        if (ci.quota > 0)
            snprintf(quota, sizeof(quota), "%.2f CPUs", ci.quota);
        log_notice("workers: %d, one per CPU this process may use (%d of %d online CPUs in its "
                   "affinity mask, cgroup CPU quota %s)",
                   nworkers, ci.affinity, ci.online, quota);
    } else {
        log_notice("workers: %d, as %s", nworkers,
                   o->workers > 0 ? "--workers says" : "the configuration says");
    }
    enum io_choice choice = o->io >= 0                         ? (enum io_choice)o->io
                            : conf->global.io == CONF_IO_URING ? IO_CHOICE_URING
                            : conf->global.io == CONF_IO_EPOLL ? IO_CHOICE_EPOLL
                                                               : IO_CHOICE_AUTO;
    if (o->mbuf_size > 0)
        conf->global.buffer_size = (uint32_t)o->mbuf_size;

    /* signals go to this thread only (sigwait); the workers never see them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGTTIN);
    sigaddset(&set, SIGTTOU);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct stats_registry reg;
    if (stats_registry_init(&reg, conf, (uint32_t)nworkers) < 0) {
        log_error("out of memory");
        return 1;
    }
    if (reload_checksum(o->conf_file, reg.conf_checksum) < 0)
        snprintf(reg.conf_checksum, sizeof(reg.conf_checksum), "unknown");
    char err[512];
    struct health health;
    if (health_init(&health, conf, &reg, (uint32_t)nworkers, err, sizeof(err)) < 0) {
        log_error("%s", err);
        fprintf(stderr, "ringproxy: %s\n", err);
        health_destroy(&health);
        stats_registry_free(&reg);
        return 1;
    }
    /* Every worker sets itself up on its own thread, side by side (arena, pools, listeners
     * bound but not listening, engine). Then main starts the health thread and the stats port,
     * and only once all of that has worked do the workers listen: a start that fails refuses
     * connections, it never accepts one and resets it. */
    struct worker *workers = calloc((size_t)nworkers, sizeof(*workers));
    struct worker_boot *boots = calloc((size_t)nworkers, sizeof(*boots));
    pthread_t *tids = calloc((size_t)nworkers, sizeof(*tids));
    int ret = 1;
    if (workers == NULL || boots == NULL || tids == NULL) {
        log_error("out of memory");
        goto out_workers;
    }
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)nworkers + 1);
    uint64_t t0 = worker_now();
    for (int i = 0; i < nworkers; i++) {
        boots[i] =
            (struct worker_boot){&workers[i], (uint32_t)i, conf, choice, &reg, &health, &barrier};
        if (pthread_create(&tids[i], NULL, worker_main, &boots[i]) != 0) {
            log_error("cannot start worker thread %d", i);
            fprintf(stderr, "ringproxy: cannot start worker thread %d\n", i);
            return 1; /* the threads started so far wait at the barrier: exit outright */
        }
    }
    pthread_barrier_wait(&barrier);
    bool failed = false;
    for (int i = 0; i < nworkers; i++)
        if (workers[i].start_rc < 0) {
            if (!failed) {
                log_error("worker %d: %s", i, workers[i].start_err);
                fprintf(stderr, "ringproxy: %s\n", workers[i].start_err);
            }
            failed = true;
        }
    struct stats_server *ss = NULL;
    if (!failed && health_start(&health) < 0) {
        log_error("cannot start the health thread");
        fprintf(stderr, "ringproxy: cannot start the health thread\n");
        failed = true;
    }
    if (!failed) {
        reg.engine = workers[0].io->ops->name;
        ss = stats_server_start(&reg, o->stats_addr, o->stats_port, err, sizeof(err));
        if (ss == NULL) {
            log_error("%s", err);
            fprintf(stderr, "ringproxy: %s\n", err);
            failed = true;
        }
    }
    for (int i = 0; i < nworkers && failed; i++)
        workers[i].stop = 1;
    pthread_barrier_wait(&barrier);
    if (failed) {
        for (int i = 0; i < nworkers; i++)
            pthread_join(tids[i], NULL);
        pthread_barrier_destroy(&barrier);
        goto out_workers;
    }
    log_info("workers set up in %.1f ms", (double)(worker_now() - t0) / 1e6);
    log_notice("ringproxy-%s started on pid %d: %d workers, %s engine, %u pools, config %s "
               "(checksum %s)",
               RP_VERSION, (int)getpid(), nworkers, reg.engine, conf->npools, conf->path,
               reg.conf_checksum);
    log_notice("%s", workers[0].io->desc);
    for (uint32_t p = 0; p < conf->npools; p++) {
        const struct conf_pool *cp = &conf->pools[p];
        if (cp->route.kind != CONF_ROUTE_NONE) {
            log_notice("pool '%s' listening on %s%s%s%u, a %s route over %u pools", cp->name,
                       cp->listen.unix_path ? cp->listen.unix_path : "",
                       cp->listen.host ? cp->listen.host : "", cp->listen.unix_path ? "" : ":",
                       cp->listen.unix_path ? 0 : cp->listen.port,
                       cp->route.kind == CONF_ROUTE_REPLICATE ? "replicate" : "failover",
                       cp->route.ntargets);
            continue;
        }
        if (!cp->has_listen) {
            log_notice("pool '%s', reached by routes only: %u servers, %s/%s", cp->name,
                       cp->nservers, dist_name(cp->distribution), hash_name(cp->hash));
            continue;
        }
        log_notice("pool '%s' listening on %s%s%s%u, %u servers, %s/%s", cp->name,
                   cp->listen.unix_path ? cp->listen.unix_path : "",
                   cp->listen.host ? cp->listen.host : "", cp->listen.unix_path ? "" : ":",
                   cp->listen.unix_path ? 0 : cp->listen.port, cp->nservers,
                   dist_name(cp->distribution), hash_name(cp->hash));
    }

    int stop_sig = 0;
    while (stop_sig == 0) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        stop_sig = handle_signal(sig, &health, &reg, o->conf_file);
    }
    drain(workers, nworkers, &health, &set, stop_sig);
    for (int i = 0; i < nworkers; i++)
        workers[i].stop = 1;
    for (int i = 0; i < nworkers; i++)
        pthread_join(tids[i], NULL);
    stats_server_stop(ss);
    pthread_barrier_destroy(&barrier);
    ret = 0;
out_workers:
    for (int i = 0; workers != NULL && i < nworkers; i++)
        if (workers[i].inited)
            worker_destroy(&workers[i]);
    free(workers);
    free(boots);
    free(tids);
    health_destroy(&health);
    stats_registry_free(&reg);
    return ret;
}

int main(int argc, char **argv)
{
    struct options o = {
        .conf_file = DEFAULT_CONF,
        .stats_addr = DEFAULT_STATS_ADDR,
        .stats_port = DEFAULT_STATS_PORT,
        .stats_interval = DEFAULT_STATS_INTVL,
        .verbosity = LOG_NOTICE,
        .workers = -1,
        .io = -1,
    };
    if (parse_options(argc, argv, &o) < 0)
        return 1;
    if (o.version) {
        print_version();
        return 0;
    }
    if (o.describe) {
        describe_stats();
        return 0;
    }
    struct conf *conf = NULL;
    char err[1024];
    if (conf_load_file(o.conf_file, &conf, err, sizeof(err)) < 0) {
        if (o.test_conf)
            fprintf(stderr, "%s\nringproxy: configuration file '%s' syntax is invalid\n", err,
                    o.conf_file);
        else
            fprintf(stderr, "ringproxy: %s\n", err);
        return 1;
    }
    if (o.test_conf) {
        fprintf(stderr, "ringproxy: configuration file '%s' syntax is ok\n", o.conf_file);
        conf_free(conf);
        return 0;
    }
    if (o.route) {
        int r = route_keys(conf, &o, argc, argv);
        conf_free(conf);
        return r;
    }
    if (log_init(o.verbosity, o.log_file) < 0) {
        fprintf(stderr, "ringproxy: cannot open log file '%s': %s\n", o.log_file, strerror(errno));
        conf_free(conf);
        return 1;
    }
    if (o.daemonize && daemon(1, 0) < 0) {
        fprintf(stderr, "ringproxy: daemonize failed: %s\n", strerror(errno));
        conf_free(conf);
        return 1;
    }
    /* a proxy holds a descriptor per client: take every one the hard limit allows */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("cannot raise the open files limit: %s", strerror(errno));
    }
    if (o.pid_file != NULL && write_pid_file(o.pid_file) < 0)
        log_warn("cannot write pid file '%s': %s", o.pid_file, strerror(errno));
    int r = run(conf, &o);
    if (o.pid_file != NULL)
        unlink(o.pid_file);
    conf_free(conf);
    return r;
}

/* Command-line parsing and validation for the load generator (see lg_opts.h). */
#include "lg_opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void lg_opts_usage(FILE *f)
{
    fputs("usage: loadgen [options]\n"
          "  -s, --server HOST:PORT    target (default 127.0.0.1:11211)\n"
          "  -P, --protocol memcache|meta|redis (default memcache)\n"
          "  -c, --connections N       connections in total (default 32)\n"
          "  -t, --threads M           threads, each with its own epoll loop (default 1)\n"
          "  -d, --pipeline D          requests in flight per connection (default 1)\n"
          "      --ratio S:G           sets:gets, as memtier (default 1:9)\n"
          "      --get-fraction F      share of reads, 0..1 (alternative to --ratio)\n"
          "  -k, --keys K              key count (default 100000)\n"
          "      --key-pattern uniform|zipf   (default uniform)\n"
          "      --zipf-s S            Zipf exponent (default 0.99; implies zipf)\n"
          "      --key-prefix P        keys are P%08u (default \"key:\")\n"
          "  -v, --value-size B        value bytes for writes (default 100)\n"
          "  -w, --multiget W          keys per read: get k1..kW / MGET (default 1)\n"
          "      --prefill             set every key once before measuring\n"
          "  -D, --duration SECONDS    measured window (default 10 unless --requests)\n"
          "  -n, --requests N          stop after N measured requests\n"
          "      --warmup SECONDS      run unmeasured first (default 0)\n"
          "  -r, --rate R              open loop: R requests/s in total on a fixed schedule\n"
          "      --timeout SECONDS     connect and reply stall limit, drain limit (default 5)\n"
          "      --idle N              open N idle connections, hold them --duration, exit\n"
          "      --idle-touch          idle mode: send one get on each connection first\n"
          "      --seed N              random seed (default: time)\n"
          "      --json                one JSON object on stdout\n"
          "  -h, --help\n",
          f);
}

enum {
    OPT_RATIO = 256,
    OPT_GET_FRACTION,
    OPT_KEY_PATTERN,
    OPT_ZIPF_S,
    OPT_KEY_PREFIX,
    OPT_PREFILL,
    OPT_WARMUP,
    OPT_TIMEOUT,
    OPT_IDLE,
    OPT_IDLE_TOUCH,
    OPT_SEED,
    OPT_JSON,
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, 's'},
    {"protocol", required_argument, NULL, 'P'},
    {"connections", required_argument, NULL, 'c'},
    {"threads", required_argument, NULL, 't'},
    {"pipeline", required_argument, NULL, 'd'},
    {"ratio", required_argument, NULL, OPT_RATIO},
    {"get-fraction", required_argument, NULL, OPT_GET_FRACTION},
    {"keys", required_argument, NULL, 'k'},
    {"key-pattern", required_argument, NULL, OPT_KEY_PATTERN},
    {"zipf-s", required_argument, NULL, OPT_ZIPF_S},
    {"key-prefix", required_argument, NULL, OPT_KEY_PREFIX},
    {"value-size", required_argument, NULL, 'v'},
    {"multiget", required_argument, NULL, 'w'},
    {"prefill", no_argument, NULL, OPT_PREFILL},
    {"duration", required_argument, NULL, 'D'},
    {"requests", required_argument, NULL, 'n'},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"rate", required_argument, NULL, 'r'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"idle", required_argument, NULL, OPT_IDLE},
    {"idle-touch", no_argument, NULL, OPT_IDLE_TOUCH},
    {"seed", required_argument, NULL, OPT_SEED},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bad(const char *opt, const char *arg, const char *why)
{
    fprintf(stderr, "loadgen: --%s %s: %s\n", opt, arg, why);
    return -1;
}

/* An unsigned integer in [lo, hi]. */
static int get_u64(const char *opt, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    if (arg[0] == '-')
        return bad(opt, arg, "must not be negative");
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0')
        return bad(opt, arg, "not an integer");
    if (v < lo || v > hi) {
        char why[96];
        snprintf(why, sizeof(why), "out of range [%llu, %llu]", (unsigned long long)lo,
                 (unsigned long long)hi);
        return bad(opt, arg, why);
    }
    *out = v;
    return 0;
}

static int get_u32(const char *opt, const char *arg, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t v;
    if (get_u64(opt, arg, lo, hi, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* A finite number in [lo, hi]. */
static int get_double(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !isfinite(v))
        return bad(opt, arg, "not a number");
    if (v < lo || v > hi)
        return bad(opt, arg, "out of range");
    *out = v;
    return 0;
}

static int resolve(struct lg_config *cfg)
{
    char host[300];
    const char *colon = strrchr(cfg->server, ':');
    if (colon == NULL || colon == cfg->server || colon[1] == '\0')
        return bad("server", cfg->server, "expected HOST:PORT");
    size_t hl = (size_t)(colon - cfg->server);
    memcpy(host, cfg->server, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') { /* [::1]:port */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {0}, *res;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0)
        return bad("server", cfg->server, gai_strerror(rc));
    memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
    cfg->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int lg_opts_parse(struct lg_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->server, sizeof(cfg->server), "127.0.0.1:11211");
    cfg->proto = LG_PROTO_MC;
    cfg->conns = 32;
    cfg->threads = 1;
    cfg->pipeline = 1;
    cfg->get_fraction = 0.9;
    cfg->keys = 100000;
    cfg->pattern = LG_KEYS_UNIFORM;
    cfg->zipf_s = 0.99;
    snprintf(cfg->key_prefix, sizeof(cfg->key_prefix), "key:");
    cfg->value_size = 100;
    cfg->width = 1;
    cfg->timeout_s = 5;
    cfg->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

    bool pattern_given = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:P:c:t:d:k:v:w:D:n:r:h", long_opts, NULL)) != -1) {
        const char *a = optarg;
        int rc = 0;
        switch (c) {
        case 's':
            if (strlen(a) >= sizeof(cfg->server))
                return bad("server", a, "too long");
            snprintf(cfg->server, sizeof(cfg->server), "%s", a);
            break;
        case 'P':
            if (strcmp(a, "memcache") == 0 || strcmp(a, "memcached") == 0 || strcmp(a, "mc") == 0)
                cfg->proto = LG_PROTO_MC;
            else if (strcmp(a, "redis") == 0 || strcmp(a, "resp") == 0)
                cfg->proto = LG_PROTO_REDIS;
            else if (strcmp(a, "meta") == 0)
                cfg->proto = LG_PROTO_META;
            else
                return bad("protocol", a, "expected memcache, meta or redis");
            break;
        case 'c':
            rc = get_u32("connections", a, 1, 1000000, &cfg->conns);
            break;
        case 't':
            rc = get_u32("threads", a, 1, 1024, &cfg->threads);
            break;
        case 'd':
            rc = get_u32("pipeline", a, 1, 65536, &cfg->pipeline);
            break;
        case OPT_RATIO: {
            unsigned long s, g;
            char tail;
            if (sscanf(a, "%lu:%lu%c", &s, &g, &tail) != 2 || s + g == 0 || s > 1000000 ||
                g > 1000000)
                return bad("ratio", a, "expected SETS:GETS, e.g. 1:9");
            cfg->get_fraction = (double)g / (double)(s + g);
            break;
        }
        case OPT_GET_FRACTION:
            rc = get_double("get-fraction", a, 0, 1, &cfg->get_fraction);
            break;
        case 'k':
            rc = get_u32("keys", a, 1, UINT32_MAX, &cfg->keys);
            break;
        case OPT_KEY_PATTERN:
            pattern_given = true;
            if (strcmp(a, "uniform") == 0 || strcmp(a, "R") == 0) {
                cfg->pattern = LG_KEYS_UNIFORM;
            } else if (strcmp(a, "zipf") == 0) {
                cfg->pattern = LG_KEYS_ZIPF;
            } else if (strncmp(a, "zipf:", 5) == 0) {
                cfg->pattern = LG_KEYS_ZIPF;
                rc = get_double("key-pattern", a + 5, 1e-6, 100, &cfg->zipf_s);
            } else {
                return bad("key-pattern", a, "expected uniform, zipf or zipf:S");
            }
            break;
        case OPT_ZIPF_S:
            rc = get_double("zipf-s", a, 1e-6, 100, &cfg->zipf_s);
            if (!pattern_given)
                cfg->pattern = LG_KEYS_ZIPF;
            break;
        case OPT_KEY_PREFIX:
            if (strlen(a) >= sizeof(cfg->key_prefix))
                return bad("key-prefix", a, "longer than 200 bytes");
            if (strpbrk(a, " \r\n\t") != NULL)
                return bad("key-prefix", a, "must not contain blanks");
            snprintf(cfg->key_prefix, sizeof(cfg->key_prefix), "%s", a);
            break;
        case 'v':
            rc = get_u32("value-size", a, 0, 64u << 20, &cfg->value_size);
            break;
        case 'w':
            rc = get_u32("multiget", a, 1, 100000, &cfg->width);
            break;
        case OPT_PREFILL:
            cfg->prefill = true;
            break;
        case 'D':
            rc = get_double("duration", a, 0.001, 1e6, &cfg->duration_s);
            break;
        case 'n':
            rc = get_u64("requests", a, 1, UINT64_MAX / 2, &cfg->requests);
            break;
        case OPT_WARMUP:
            rc = get_double("warmup", a, 0, 1e6, &cfg->warmup_s);
            break;
        case 'r':
            rc = get_double("rate", a, 0.001, 1e9, &cfg->rate);
            break;
        case OPT_TIMEOUT:
            rc = get_double("timeout", a, 0.01, 1e6, &cfg->timeout_s);
            break;
        case OPT_IDLE:
            rc = get_u32("idle", a, 1, 1000000, &cfg->idle);
            break;
        case OPT_IDLE_TOUCH:
            cfg->idle_touch = true;
            break;
        case OPT_SEED:
            rc = get_u64("seed", a, 0, UINT64_MAX, &cfg->seed);
            break;
        case OPT_JSON:
            cfg->json = true;
            break;
        case 'h':
            lg_opts_usage(stdout);
            return 1;
        default:
            lg_opts_usage(stderr);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "loadgen: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (cfg->idle > 0)
        cfg->conns = cfg->idle;
    if (cfg->idle_touch && cfg->idle == 0) {
        fprintf(stderr, "loadgen: --idle-touch needs --idle N\n");
        return -1;
    }
    if (cfg->requests > 0 && cfg->idle > 0) {
        fprintf(stderr, "loadgen: --requests does not apply to --idle\n");
        return -1;
    }
    if (cfg->duration_s == 0 && cfg->requests == 0)
        cfg->duration_s = 10;
    /* open loop: N requests on the schedule take N/R seconds */
    if (cfg->rate > 0 && cfg->requests > 0) {
        double d = (double)cfg->requests / cfg->rate;
        if (cfg->duration_s == 0 || d < cfg->duration_s)
            cfg->duration_s = d;
    }
    if (cfg->threads > cfg->conns)
        cfg->threads = cfg->conns;
    if (cfg->width > 1 && cfg->proto == LG_PROTO_MC &&
        (size_t)cfg->width * (strlen(cfg->key_prefix) + 9) > 1 << 20) {
        fprintf(stderr, "loadgen: --multiget %u makes a request line above 1 MiB\n", cfg->width);
        return -1;
    }
    return resolve(cfg);
}

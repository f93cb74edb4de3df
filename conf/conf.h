/* nutcracker.yml, read with libyaml into an immutable configuration: every key twemproxy
 * accepts, with its defaults, plus ringproxy's own settings. */
#ifndef RP_CONF_H
#define RP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hash/hash.h"
#include "hash/hash_dist.h"

/* An address as written in the file: host:port, or a unix socket path. */
struct conf_addr {
    char *host; /* NULL for a unix socket; never empty; IPv6 without the brackets ("::1"
                 * whether written "::1:port" or "[::1]:port"). A listen host is a name
                 * or an IP literal; a server host is taken as written (twemproxy
                 * resolves it only when it connects) */
    uint16_t port;
    char *unix_path; /* NULL for TCP; for a listen socket at most 107 bytes (sun_path); a
                      * server's is taken as written, as twemproxy does */
    mode_t perm;     /* unix listen sockets only ("/path 0666"); 0 when not given */
    bool has_perm;   /* chmod the socket to perm: a permission was given and is not 0
                      * (twemproxy leaves the mode alone for 0, as for text it reads as 0) */
};

struct conf_server {
    struct conf_addr addr;
    uint32_t weight;
    char *name;      /* explicit name after the weight, or NULL */
    char *ring_name; /* what ketama hashes: name, else "host:port", or "host" for port 11211
                      * (host and port as written); for a unix socket: its path followed by
                      * ':' ("/tmp/mc.sock:"), as twemproxy builds it. Unique in a pool, and
                      * the key twemproxy's stats use for the server. */
    char *pname;     /* the server as written up to the name: "host:port:weight" */
    int line, col;   /* where it was written, for messages */
};

enum conf_io { CONF_IO_AUTO, CONF_IO_URING, CONF_IO_EPOLL };

/* A listening pool's `route:` (ringproxy only): its requests go to other pools, not servers. */
enum conf_route_kind {
    CONF_ROUTE_NONE = 0,
    CONF_ROUTE_REPLICATE, /* writes to every target, reads from one (with fallback) */
    CONF_ROUTE_FAILOVER   /* to the first target, to the next when it fails */
};
enum conf_route_read { CONF_READ_FIRST = 0, CONF_READ_RANDOM, CONF_READ_LOCAL };
enum conf_route_writes { CONF_WRITES_ALL = 0, CONF_WRITES_ONE };
#define CONF_ROUTE_MAX 8 /* target pools of one route */

struct conf_route {
    enum conf_route_kind kind;
    uint32_t ntargets;
    char *targets[CONF_ROUTE_MAX];       /* pool names, in the order written */
    uint32_t target_idx[CONF_ROUTE_MAX]; /* their indices in conf->pools (resolved after every
                                          * pool is read) */
    int tline[CONF_ROUTE_MAX], tcol[CONF_ROUTE_MAX];
    enum conf_route_read read;     /* replicate: which target serves a read (default first) */
    bool read_fallback;            /* replicate: a miss or an error reads the next (default true) */
    enum conf_route_writes writes; /* replicate: answer after all targets, or the first success */
    bool on_miss;                  /* failover: a miss goes to the next target too */
    int line, col;                 /* where `route:` was written */
};

struct conf_pool {
    char *name;
    bool has_listen; /* false: a pool only routes reach (ringproxy only) */
    struct conf_route route;
    struct conf_addr listen;
    enum hash_type hash; /* default fnv1a_64 */
    char hash_tag[2];    /* both zero when not set */
    bool has_hash_tag;
    enum dist_type distribution; /* default ketama */
    int timeout_ms;              /* default -1: wait forever (twemproxy); 0 is accepted too */
    int backlog;                 /* default 512 */
    bool preconnect;             /* default false */
    bool redis;                  /* default false: memcached */
    char *redis_auth;            /* NULL when not set; never empty; redis pools only */
    int redis_db;                /* default 0 */
    int server_connections;      /* default 1, never 0 */
    bool auto_eject_hosts;       /* default false */
    int server_retry_timeout_ms; /* default 30000 */
    int server_failure_limit;    /* default 2 */
    int client_connections;      /* default 0: unlimited (twemproxy 0.5.0 parses it but
                                  * always uses 0) */
    bool tcpkeepalive;           /* default false */
    bool reuseport;              /* default false (twemproxy after 0.5.0) */
    /* In twemproxy's order, not the file's: sorted by ring_name, shorter names first, then
     * bytewise. twemproxy sorts them so when it checks for duplicate names, and its modula
     * and random distributions index servers in that order. line/col say where each was
     * written. */
    struct conf_server *servers;
    uint32_t nservers;
    /* ringproxy's own per-pool limits */
    uint32_t max_key_length;     /* default 250 (memcached's limit, also its maximum) for a
                                  * memcached pool; 65536 for a redis pool */
    uint32_t max_value_size;     /* default 1 MiB */
    int client_idle_timeout_ms;  /* close a client idle this long (nothing outstanding); 0: never */
    uint32_t client_reply_limit; /* reply bytes queued for one client past which its requests are
                                  * no longer read (until half are sent); default 64 MiB */
    int reshard_warmup_s;        /* after a reload changes the ring: seconds during which a get
                                  * that misses is read from the key's previous server; 0: off */
    int line, col;               /* where the pool's name was written */
    int listen_line, listen_col; /* where its listen address was written */
};

/* Process-wide settings: the optional top-level `ringproxy:` section (see README). */
struct conf_global {
    int workers;               /* default 0: one per CPU */
    enum conf_io io;           /* default auto */
    uint32_t buffer_size;      /* bytes per arena buffer, default 16384 */
    uint32_t buffers;          /* buffers per worker arena, default 1024 */
    uint32_t max_request_line; /* longest command line accepted, default 65536 */
    uint32_t max_spill_mb;     /* heap for spill space per worker, MiB, default 256 */
    uint32_t zero_copy_min;    /* sends of at least this many bytes go zero-copy (io_uring);
                                * 0 = never; default CONF_ZERO_COPY_MIN_DEFAULT */
    int drain_timeout_ms;      /* SIGTERM/SIGINT: how long in-flight requests may take to be
                                * answered before the process exits; default 5000 */
};
#define CONF_DRAIN_TIMEOUT_DEFAULT 5000
#define CONF_ZERO_COPY_MIN_DEFAULT 0
#define CONF_ZERO_COPY_MIN_MAX     (1U << 30)
#define CONF_DRAIN_TIMEOUT_MAX     3600000

struct conf {
    char *path; /* file it was read from ("<string>" otherwise) */
    struct conf_global global;
    struct conf_pool *pools; /* in file order; the `ringproxy:` section is not a pool */
    uint32_t npools;
};

/* Reads and validates a configuration file. On success returns 0 and *out owns a new conf
 * (free with conf_free). On failure returns -1, *out is NULL, and err holds one line naming
 * file:line:column and what is wrong. Never leaves a half-loaded conf behind. */
int conf_load_file(const char *path, struct conf **out, char *err, size_t errlen);

/* Same, from a buffer; name is used in messages in place of the file name. */
int conf_load_string(const char *text, size_t len, const char *name, struct conf **out, char *err,
                     size_t errlen);

void conf_free(struct conf *conf);

/* Finds a pool by name, or NULL. */
const struct conf_pool *conf_pool_find(const struct conf *conf, const char *name);

/* "auto", "uring" or "epoll". */
const char *conf_io_name(enum conf_io io);

#endif

/* The memcached ASCII command table: one row per command, indexed by enum mc_cmd. */
#ifndef RP_MC_CMD_H
#define RP_MC_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the proxy handles a command. */
enum mc_kind {
    MC_KIND_RETRIEVAL, /* get gets gat gats bget: one or more keys, split by server, merged */
    MC_KIND_STORAGE,   /* set add replace append prepend cas: one key + a data block */
    MC_KIND_KEYED,     /* delete incr decr touch: one key, one reply line */
    MC_KIND_BROADCAST, /* flush_all verbosity: sent to every server, one reply */
    MC_KIND_ANY,       /* version: any one server answers (the cache's own version) */
    MC_KIND_LOCAL,     /* stats quit mn: answered by the proxy itself */
    MC_KIND_META,      /* mg md ma me: one key (base64 with the b flag), one reply (or, quiet,
                        * none), flags forwarded untouched */
    MC_KIND_META_SET,  /* ms: key, data length and flags, then a data block */
    MC_KIND_REFUSED,   /* a cache server's administration (shutdown, slabs, lru_crawler ...):
                        * answered ERROR */
};

/* X(enum, name, kind, min_args, max_args, key_index, noreply_from)
 * args counts the tokens after the command name, as memcached's WANT_TOKENS checks do (a
 * count outside [min_args, max_args] is "ERROR"; -1: unbounded; noreply is counted);
 * key_index is the token index (0-based, after the name) of the first key, or -1; retrieval
 * commands take keys from key_index to the end of the line. noreply_from: with at least this
 * many args, a last token "noreply" is the option (memcached's set_noreply_maybe; -1: never,
 * it is then just a token: "get noreply" reads the key "noreply"). */
#define MC_CMD_TABLE(X)                                                                            \
    X(MC_GET, "get", MC_KIND_RETRIEVAL, 1, -1, 0, -1)                                              \
    X(MC_GETS, "gets", MC_KIND_RETRIEVAL, 1, -1, 0, -1)                                            \
    X(MC_GAT, "gat", MC_KIND_RETRIEVAL, 1, -1, 1, -1)                                              \
    X(MC_GATS, "gats", MC_KIND_RETRIEVAL, 1, -1, 1, -1)                                            \
    X(MC_BGET, "bget", MC_KIND_RETRIEVAL, 1, -1, 0, -1)                                            \
    X(MC_SET, "set", MC_KIND_STORAGE, 4, 5, 0, 0)                                                  \
    X(MC_ADD, "add", MC_KIND_STORAGE, 4, 5, 0, 0)                                                  \
    X(MC_REPLACE, "replace", MC_KIND_STORAGE, 4, 5, 0, 0)                                          \
    X(MC_APPEND, "append", MC_KIND_STORAGE, 4, 5, 0, 0)                                            \
    X(MC_PREPEND, "prepend", MC_KIND_STORAGE, 4, 5, 0, 0)                                          \
    X(MC_CAS, "cas", MC_KIND_STORAGE, 5, 6, 0, 0)                                                  \
    X(MC_DELETE, "delete", MC_KIND_KEYED, 1, 3, 0, 2)                                              \
    X(MC_INCR, "incr", MC_KIND_KEYED, 2, 3, 0, 0)                                                  \
    X(MC_DECR, "decr", MC_KIND_KEYED, 2, 3, 0, 0)                                                  \
    X(MC_TOUCH, "touch", MC_KIND_KEYED, 2, 3, 0, 0)                                                \
    X(MC_FLUSH_ALL, "flush_all", MC_KIND_BROADCAST, 0, 2, -1, 0)                                   \
    X(MC_VERBOSITY, "verbosity", MC_KIND_BROADCAST, 1, 2, -1, 0)                                   \
    X(MC_VERSION, "version", MC_KIND_ANY, 0, -1, -1, -1)                                           \
    X(MC_STATS, "stats", MC_KIND_LOCAL, 0, -1, -1, -1)                                             \
    X(MC_QUIT, "quit", MC_KIND_LOCAL, 0, -1, -1, -1)                                               \
    X(MC_SHUTDOWN, "shutdown", MC_KIND_REFUSED, 0, -1, -1, -1)                                     \
    X(MC_SLABS, "slabs", MC_KIND_REFUSED, 0, -1, -1, -1)                                           \
    X(MC_LRU_CRAWLER, "lru_crawler", MC_KIND_REFUSED, 0, -1, -1, -1)                               \
    X(MC_LRU, "lru", MC_KIND_REFUSED, 0, -1, -1, -1)                                               \
    X(MC_WATCH, "watch", MC_KIND_REFUSED, 0, -1, -1, -1)                                           \
    X(MC_CACHE_MEMLIMIT, "cache_memlimit", MC_KIND_REFUSED, 0, -1, -1, -1)                         \
    X(MC_EXTSTORE, "extstore", MC_KIND_REFUSED, 0, -1, -1, -1)                                     \
    X(MC_REFRESH_CERTS, "refresh_certs", MC_KIND_REFUSED, 0, -1, -1, -1)                           \
    X(MC_MG, "mg", MC_KIND_META, 1, -1, 0, -1)                                                     \
    X(MC_MS, "ms", MC_KIND_META_SET, 1, -1, 0, -1)                                                 \
    X(MC_MD, "md", MC_KIND_META, 1, -1, 0, -1)                                                     \
    X(MC_MN, "mn", MC_KIND_LOCAL, 0, -1, -1, -1)                                                   \
    X(MC_MA, "ma", MC_KIND_META, 1, -1, 0, -1)                                                     \
    X(MC_ME, "me", MC_KIND_META, 0, -1, 0, -1)

enum mc_cmd {
    MC_CMD_NONE = 0,
#define MC_CMD_ENUM(e, name, kind, mn, mx, key, nr) e,
    MC_CMD_TABLE(MC_CMD_ENUM)
#undef MC_CMD_ENUM
        MC_CMD_COUNT
};

struct mc_cmd_info {
    const char *name;
    uint8_t name_len;
    enum mc_kind kind;
    int8_t min_args;
    int8_t max_args; /* -1: unbounded */
    int8_t key_index;
    int8_t noreply_from;
};

/* Row of the table for cmd (cmd in (MC_CMD_NONE, MC_CMD_COUNT)). */
const struct mc_cmd_info *mc_cmd_info(enum mc_cmd cmd);

/* Finds a command by name (len bytes, case-sensitive as memcached); MC_CMD_NONE if unknown. */
enum mc_cmd mc_cmd_lookup(const char *name, size_t len);

#endif

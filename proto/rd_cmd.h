/* The redis command table: one row per command the proxy knows, indexed by enum rd_cmd:
 * its arity, where its keys are, and how the proxy carries it. */
#ifndef RP_RD_CMD_H
#define RP_RD_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the proxy carries a command. */
enum rd_kind {
    RD_KIND_KEYED = 1, /* to the server of its keys; with several keys they must all live on
                        * one server (else an error: nutcracker sends such a request to the
                        * first key's server, where it silently reads or writes the wrong data) */
    RD_KIND_MGET,      /* MGET: split by server, the arrays merged back in key order */
    RD_KIND_MSET,      /* MSET: key/value pairs split by server, +OK when every part is OK */
    RD_KIND_SUM,       /* DEL UNLINK TOUCH EXISTS: split by server, the integers summed */
    RD_KIND_LOCAL,     /* answered by the proxy (PING, ECHO, AUTH, SELECT, HELLO, ...) */
    RD_KIND_UNSUPPORTED, /* a redis command a proxy cannot carry (no key to route by, blocking,
                          * transactions, pub/sub, administration): "-ERR unsupported command" */
};

/* X(enum, name, arity, first, last, step, numkeys_at, kind)
 * name is lower case; the table is sorted by name (rd_cmd_lookup searches it in halves; the
 * unit test checks the order). arity as in redis: n > 0 exactly n arguments (the name
 * counted), -n at least n. first/last/step: the fixed key positions as in redis's legacy key
 * spec (first 0: none; last -1: the last argument, -2 the one before). numkeys_at: index of
 * an argument giving how many keys follow it (EVAL, ZUNIONSTORE, ...), 0 when none. Where a
 * newer redis relaxed an arity, the table takes the looser one: the server judges the rest. */
#define RD_CMD_TABLE(X)                                                                            \
    X(RD_APPEND, "append", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_AUTH, "auth", -2, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_CLIENT, "client", -2, 0, 0, 0, 0, RD_KIND_LOCAL)                                          \
    X(RD_COMMAND, "command", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                        \
    X(RD_DEL, "del", -2, 1, -1, 1, 0, RD_KIND_SUM)                                                 \
    X(RD_ECHO, "echo", 2, 0, 0, 0, 0, RD_KIND_LOCAL)                                               \
    X(RD_EVAL, "eval", -3, 0, 0, 0, 2, RD_KIND_KEYED)                                              \
    X(RD_EVALSHA, "evalsha", -3, 0, 0, 0, 2, RD_KIND_KEYED)                                        \
    X(RD_EXISTS, "exists", -2, 1, -1, 1, 0, RD_KIND_SUM)                                           \
    X(RD_GET, "get", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                                 \
    X(RD_HELLO, "hello", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                            \
    X(RD_INFO, "info", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_KEYS, "keys", 2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_MGET, "mget", -2, 1, -1, 1, 0, RD_KIND_MGET)                                              \
    X(RD_MSET, "mset", -3, 1, -1, 2, 0, RD_KIND_MSET)                                              \
    X(RD_PING, "ping", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_QUIT, "quit", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_SELECT, "select", 2, 0, 0, 0, 0, RD_KIND_LOCAL)                                           \
    X(RD_SET, "set", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                                \
    X(RD_TOUCH, "touch", -2, 1, -1, 1, 0, RD_KIND_SUM)                                             \
    X(RD_UNLINK, "unlink", -2, 1, -1, 1, 0, RD_KIND_SUM)                                           \
    X(RD_ZUNIONSTORE, "zunionstore", -4, 1, 1, 1, 2, RD_KIND_KEYED)

enum rd_cmd {
    RD_CMD_NONE = 0,
#define RD_CMD_ENUM(e, ...) e,
    RD_CMD_TABLE(RD_CMD_ENUM)
#undef RD_CMD_ENUM
        RD_CMD_COUNT
};

struct rd_cmd_info {
    const char *name; /* lower case */
    uint8_t name_len;
    int16_t arity;
    int8_t first, last, step;
    uint8_t numkeys_at;
    uint8_t kind; /* enum rd_kind */
};

/* The row of cmd, or NULL for RD_CMD_NONE and out-of-range values. */
const struct rd_cmd_info *rd_cmd_info(enum rd_cmd cmd);

/* The command named by the len bytes at name, in any case; RD_CMD_NONE when unknown. */
enum rd_cmd rd_cmd_lookup(const uint8_t *name, size_t len);

/* True when argc arguments (the name counted) satisfy the command's arity. */
bool rd_cmd_arity_ok(const struct rd_cmd_info *ci, uint32_t argc);

/* Where the keys of one request are: the fixed range first, first + step, ... <= last (none
 * when count is 0), then nk_count keys from nk_first on (one each). */
struct rd_keypos {
    uint32_t first, last, step, count;
    uint32_t nk_first, nk_count;
};

enum rd_keys_result {
    RD_KEYS_OK = 0,
    RD_KEYS_NONE,         /* the request has no key to route by (EVAL with numkeys 0) */
    RD_KEYS_BAD_NUMKEYS,  /* the numkeys argument is not a number or does not fit the
                           * arguments: the server gives its own error for that */
    RD_KEYS_BAD_PAIRS,    /* MSET with a key missing its value (redis: wrong number of
                           * arguments) */
};

/* The key positions of a request of argc arguments (arity already checked). numkeys is the
 * value of argument numkeys_at when the row has one, parsed by the caller (numkeys_ok false
 * when it is not an integer). Pure. */
enum rd_keys_result rd_cmd_keys(const struct rd_cmd_info *ci, uint32_t argc, int64_t numkeys,
                                bool numkeys_ok, struct rd_keypos *out);

#endif

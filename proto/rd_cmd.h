/* The redis command table: one row per command the proxy knows, indexed by enum rd_cmd:
 * its arity, where its keys are, and how the proxy carries it. */
#ifndef RP_RD_CMD_H
#define RP_RD_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the proxy carries a command. */
enum rd_kind {
    RD_KIND_KEYED = 1,   /* to the server of its keys; with several keys they must all live on
                          * one server (else an error: nutcracker sends such a request to the
                          * first key's server, where it silently reads or writes the wrong data) */
    RD_KIND_MGET,        /* MGET: split by server, the arrays merged back in key order */
    RD_KIND_MSET,        /* MSET: key/value pairs split by server, +OK when every part is OK */
    RD_KIND_SUM,         /* DEL UNLINK TOUCH EXISTS: split by server, the integers summed */
    RD_KIND_LOCAL,       /* answered by the proxy (PING, ECHO, AUTH, SELECT, HELLO, ...) */
    RD_KIND_UNSUPPORTED, /* a redis command a proxy cannot carry (no key to route by, blocking,
                          * transactions, pub/sub, administration): "-ERR unsupported command" */
};

/* X(enum, name, arity, first, last, step, numkeys_at, kind)
 * One row for every command of redis 7.0 (tests/rd_cmd_check.py compares the rows with a
 * running redis-server's COMMAND INFO). name is lower case; the table is sorted by name in
 * byte order (rd_cmd_lookup searches it in halves; the unit test checks the order). arity as
 * in redis: n > 0 exactly n arguments (the name counted), -n at least n. first/last/step: the
 * fixed key positions as in redis's legacy key spec (first 0: none; last -1: the last
 * argument, -2 the one before). numkeys_at: index of an argument giving how many keys follow
 * it (EVAL, ZUNIONSTORE, ...), 0 when none. The numbers are redis 7.0's, except:
 * - where a newer redis relaxed an arity, the table takes the looser one (the server judges
 *   the rest); a comment on the row says so;
 * - OBJECT, XGROUP and XINFO are containers, for which redis gives 0 0 0: the row has the
 *   key position of their keyed subcommands (OBJECT ENCODING key), and a subcommand without
 *   a key (OBJECT HELP) has fewer arguments, so it gets RD_KEYS_NONE.
 * Keys that redis finds by searching for a keyword (SORT ... STORE key, GEORADIUS ... STORE
 * key, XREAD ... STREAMS keys) are not described: such a row routes by its fixed key alone,
 * as nutcracker does. A KEYED row with several keys (RENAME, SMOVE, SINTERSTORE, BITOP,
 * MSETNX, PFCOUNT, EVAL ...) is carried only when they all live on one server. The rows of
 * UNSUPPORTED commands keep redis's numbers too, so that the whole table can be checked. */
#define RD_CMD_TABLE(X)                                                                            \
    X(RD_ACL, "acl", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                          \
    X(RD_APPEND, "append", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_ASKING, "asking", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                     \
    X(RD_AUTH, "auth", -2, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_BGREWRITEAOF, "bgrewriteaof", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                         \
    X(RD_BGSAVE, "bgsave", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                    \
    X(RD_BITCOUNT, "bitcount", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                      \
    X(RD_BITFIELD, "bitfield", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                      \
    X(RD_BITFIELD_RO, "bitfield_ro", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                \
    /* BITOP operation destkey key...: the keys from 2 on */                                       \
    X(RD_BITOP, "bitop", -4, 2, -1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_BITPOS, "bitpos", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_BLMOVE, "blmove", 6, 1, 2, 1, 0, RD_KIND_UNSUPPORTED)                                     \
    X(RD_BLMPOP, "blmpop", -5, 0, 0, 0, 2, RD_KIND_UNSUPPORTED)                                    \
    X(RD_BLPOP, "blpop", -3, 1, -2, 1, 0, RD_KIND_UNSUPPORTED)                                     \
    X(RD_BRPOP, "brpop", -3, 1, -2, 1, 0, RD_KIND_UNSUPPORTED)                                     \
    X(RD_BRPOPLPUSH, "brpoplpush", 4, 1, 2, 1, 0, RD_KIND_UNSUPPORTED)                             \
    X(RD_BZMPOP, "bzmpop", -5, 0, 0, 0, 2, RD_KIND_UNSUPPORTED)                                    \
    X(RD_BZPOPMAX, "bzpopmax", -3, 1, -2, 1, 0, RD_KIND_UNSUPPORTED)                               \
    X(RD_BZPOPMIN, "bzpopmin", -3, 1, -2, 1, 0, RD_KIND_UNSUPPORTED)                               \
    X(RD_CLIENT, "client", -2, 0, 0, 0, 0, RD_KIND_LOCAL)                                          \
    X(RD_CLUSTER, "cluster", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                  \
    X(RD_COMMAND, "command", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                        \
    X(RD_CONFIG, "config", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                    \
    X(RD_COPY, "copy", -3, 1, 2, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_DBSIZE, "dbsize", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                     \
    X(RD_DEBUG, "debug", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                      \
    X(RD_DECR, "decr", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_DECRBY, "decrby", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_DEL, "del", -2, 1, -1, 1, 0, RD_KIND_SUM)                                                 \
    X(RD_DISCARD, "discard", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                   \
    X(RD_DUMP, "dump", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_ECHO, "echo", 2, 0, 0, 0, 0, RD_KIND_LOCAL)                                               \
    X(RD_EVAL, "eval", -3, 0, 0, 0, 2, RD_KIND_KEYED)                                              \
    X(RD_EVAL_RO, "eval_ro", -3, 0, 0, 0, 2, RD_KIND_KEYED)                                        \
    X(RD_EVALSHA, "evalsha", -3, 0, 0, 0, 2, RD_KIND_KEYED)                                        \
    X(RD_EVALSHA_RO, "evalsha_ro", -3, 0, 0, 0, 2, RD_KIND_KEYED)                                  \
    X(RD_EXEC, "exec", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_EXISTS, "exists", -2, 1, -1, 1, 0, RD_KIND_SUM)                                           \
    X(RD_EXPIRE, "expire", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_EXPIREAT, "expireat", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                      \
    X(RD_EXPIRETIME, "expiretime", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                   \
    X(RD_FAILOVER, "failover", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                \
    X(RD_FCALL, "fcall", -3, 0, 0, 0, 2, RD_KIND_UNSUPPORTED)                                      \
    X(RD_FCALL_RO, "fcall_ro", -3, 0, 0, 0, 2, RD_KIND_UNSUPPORTED)                                \
    X(RD_FLUSHALL, "flushall", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                \
    X(RD_FLUSHDB, "flushdb", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                  \
    X(RD_FUNCTION, "function", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                \
    X(RD_GEOADD, "geoadd", -5, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_GEODIST, "geodist", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    X(RD_GEOHASH, "geohash", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    X(RD_GEOPOS, "geopos", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    /* the STORE/STOREDIST key (movable in redis) is not seen: only the source key routes */       \
    X(RD_GEORADIUS, "georadius", -6, 1, 1, 1, 0, RD_KIND_KEYED)                                    \
    X(RD_GEORADIUS_RO, "georadius_ro", -6, 1, 1, 1, 0, RD_KIND_KEYED)                              \
    /* as GEORADIUS: the STORE/STOREDIST key is not seen */                                        \
    X(RD_GEORADIUSBYMEMBER, "georadiusbymember", -5, 1, 1, 1, 0, RD_KIND_KEYED)                    \
    X(RD_GEORADIUSBYMEMBER_RO, "georadiusbymember_ro", -5, 1, 1, 1, 0, RD_KIND_KEYED)              \
    X(RD_GEOSEARCH, "geosearch", -7, 1, 1, 1, 0, RD_KIND_KEYED)                                    \
    X(RD_GEOSEARCHSTORE, "geosearchstore", -8, 1, 2, 1, 0, RD_KIND_KEYED)                          \
    X(RD_GET, "get", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                                 \
    X(RD_GETBIT, "getbit", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_GETDEL, "getdel", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_GETEX, "getex", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_GETRANGE, "getrange", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                       \
    X(RD_GETSET, "getset", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_HDEL, "hdel", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_HELLO, "hello", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                            \
    X(RD_HEXISTS, "hexists", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_HGET, "hget", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_HGETALL, "hgetall", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_HINCRBY, "hincrby", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_HINCRBYFLOAT, "hincrbyfloat", 4, 1, 1, 1, 0, RD_KIND_KEYED)                               \
    X(RD_HKEYS, "hkeys", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_HLEN, "hlen", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_HMGET, "hmget", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_HMSET, "hmset", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_HRANDFIELD, "hrandfield", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                  \
    X(RD_HSCAN, "hscan", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_HSET, "hset", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_HSETNX, "hsetnx", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_HSTRLEN, "hstrlen", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_HVALS, "hvals", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_INCR, "incr", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_INCRBY, "incrby", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_INCRBYFLOAT, "incrbyfloat", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                 \
    X(RD_INFO, "info", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_KEYS, "keys", 2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_LASTSAVE, "lastsave", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                 \
    X(RD_LATENCY, "latency", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                  \
    X(RD_LCS, "lcs", -3, 1, 2, 1, 0, RD_KIND_KEYED)                                                \
    X(RD_LINDEX, "lindex", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_LINSERT, "linsert", 5, 1, 1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_LLEN, "llen", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_LMOVE, "lmove", 5, 1, 2, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_LMPOP, "lmpop", -4, 0, 0, 0, 1, RD_KIND_UNSUPPORTED)                                      \
    X(RD_LOLWUT, "lolwut", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                    \
    X(RD_LPOP, "lpop", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_LPOS, "lpos", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_LPUSH, "lpush", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_LPUSHX, "lpushx", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_LRANGE, "lrange", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_LREM, "lrem", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_LSET, "lset", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_LTRIM, "ltrim", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_MEMORY, "memory", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                    \
    X(RD_MGET, "mget", -2, 1, -1, 1, 0, RD_KIND_MGET)                                              \
    /* redis: key 3, or 0 0 0 (movable) for the KEYS k1 k2 ... form */                             \
    X(RD_MIGRATE, "migrate", -6, 3, 3, 1, 0, RD_KIND_UNSUPPORTED)                                  \
    X(RD_MODULE, "module", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                    \
    X(RD_MONITOR, "monitor", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                   \
    X(RD_MOVE, "move", 3, 1, 1, 1, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_MSET, "mset", -3, 1, -1, 2, 0, RD_KIND_MSET)                                              \
    /* key/value pairs that must all live on one server (atomic: not split) */                     \
    X(RD_MSETNX, "msetnx", -3, 1, -1, 2, 0, RD_KIND_KEYED)                                         \
    X(RD_MULTI, "multi", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                       \
    /* container: the keyed subcommands (OBJECT ENCODING key) have 2 2 1, redis gives 0 0 0 */     \
    X(RD_OBJECT, "object", -2, 2, 2, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_PERSIST, "persist", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_PEXPIRE, "pexpire", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    X(RD_PEXPIREAT, "pexpireat", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                    \
    X(RD_PEXPIRETIME, "pexpiretime", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                 \
    X(RD_PFADD, "pfadd", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    /* with several keys: all on one server (it merges them) */                                    \
    X(RD_PFCOUNT, "pfcount", -2, 1, -1, 1, 0, RD_KIND_KEYED)                                       \
    X(RD_PFDEBUG, "pfdebug", 3, 2, 2, 1, 0, RD_KIND_UNSUPPORTED)                                   \
    X(RD_PFMERGE, "pfmerge", -2, 1, -1, 1, 0, RD_KIND_KEYED)                                       \
    X(RD_PFSELFTEST, "pfselftest", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                             \
    X(RD_PING, "ping", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_PSETEX, "psetex", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_PSUBSCRIBE, "psubscribe", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                            \
    X(RD_PSYNC, "psync", -3, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                      \
    X(RD_PTTL, "pttl", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_PUBLISH, "publish", 3, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                   \
    X(RD_PUBSUB, "pubsub", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                    \
    X(RD_PUNSUBSCRIBE, "punsubscribe", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                        \
    X(RD_QUIT, "quit", -1, 0, 0, 0, 0, RD_KIND_LOCAL)                                              \
    X(RD_RANDOMKEY, "randomkey", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                               \
    X(RD_READONLY, "readonly", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                 \
    X(RD_READWRITE, "readwrite", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                               \
    X(RD_RENAME, "rename", 3, 1, 2, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_RENAMENX, "renamenx", 3, 1, 2, 1, 0, RD_KIND_KEYED)                                       \
    X(RD_REPLCONF, "replconf", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                \
    X(RD_REPLICAOF, "replicaof", 3, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                               \
    X(RD_RESET, "reset", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                       \
    X(RD_RESTORE, "restore", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    /* cluster-internal RESTORE */                                                                 \
    X(RD_RESTORE_ASKING, "restore-asking", -4, 1, 1, 1, 0, RD_KIND_UNSUPPORTED)                    \
    X(RD_ROLE, "role", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_RPOP, "rpop", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_RPOPLPUSH, "rpoplpush", 3, 1, 2, 1, 0, RD_KIND_KEYED)                                     \
    X(RD_RPUSH, "rpush", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_RPUSHX, "rpushx", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_SADD, "sadd", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_SAVE, "save", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_SCAN, "scan", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                        \
    X(RD_SCARD, "scard", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_SCRIPT, "script", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                    \
    X(RD_SDIFF, "sdiff", -2, 1, -1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_SDIFFSTORE, "sdiffstore", -3, 1, -1, 1, 0, RD_KIND_KEYED)                                 \
    X(RD_SELECT, "select", 2, 0, 0, 0, 0, RD_KIND_LOCAL)                                           \
    X(RD_SET, "set", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                                \
    X(RD_SETBIT, "setbit", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_SETEX, "setex", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_SETNX, "setnx", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_SETRANGE, "setrange", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                       \
    X(RD_SHUTDOWN, "shutdown", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                \
    X(RD_SINTER, "sinter", -2, 1, -1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_SINTERCARD, "sintercard", -3, 0, 0, 0, 1, RD_KIND_KEYED)                                  \
    X(RD_SINTERSTORE, "sinterstore", -3, 1, -1, 1, 0, RD_KIND_KEYED)                               \
    X(RD_SISMEMBER, "sismember", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                     \
    X(RD_SLAVEOF, "slaveof", 3, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                   \
    X(RD_SLOWLOG, "slowlog", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                  \
    X(RD_SMEMBERS, "smembers", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                       \
    X(RD_SMISMEMBER, "smismember", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                  \
    X(RD_SMOVE, "smove", 4, 1, 2, 1, 0, RD_KIND_KEYED)                                             \
    /* the BY/GET patterns and the STORE key (movable in redis) are not seen */                    \
    X(RD_SORT, "sort", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    /* the BY/GET patterns (movable in redis) are not seen */                                      \
    X(RD_SORT_RO, "sort_ro", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    X(RD_SPOP, "spop", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_SPUBLISH, "spublish", 3, 1, 1, 1, 0, RD_KIND_UNSUPPORTED)                                 \
    X(RD_SRANDMEMBER, "srandmember", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                \
    X(RD_SREM, "srem", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_SSCAN, "sscan", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_SSUBSCRIBE, "ssubscribe", -2, 1, -1, 1, 0, RD_KIND_UNSUPPORTED)                           \
    X(RD_STRLEN, "strlen", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_SUBSCRIBE, "subscribe", -2, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                              \
    X(RD_SUBSTR, "substr", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_SUNION, "sunion", -2, 1, -1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_SUNIONSTORE, "sunionstore", -3, 1, -1, 1, 0, RD_KIND_KEYED)                               \
    X(RD_SUNSUBSCRIBE, "sunsubscribe", -1, 1, -1, 1, 0, RD_KIND_UNSUPPORTED)                       \
    X(RD_SWAPDB, "swapdb", 3, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                     \
    X(RD_SYNC, "sync", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_TIME, "time", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_TOUCH, "touch", -2, 1, -1, 1, 0, RD_KIND_SUM)                                             \
    X(RD_TTL, "ttl", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                                 \
    X(RD_TYPE, "type", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_UNLINK, "unlink", -2, 1, -1, 1, 0, RD_KIND_SUM)                                           \
    X(RD_UNSUBSCRIBE, "unsubscribe", -1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                          \
    X(RD_UNWATCH, "unwatch", 1, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                   \
    X(RD_WAIT, "wait", 3, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                         \
    X(RD_WATCH, "watch", -2, 1, -1, 1, 0, RD_KIND_UNSUPPORTED)                                     \
    X(RD_XACK, "xack", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_XADD, "xadd", -5, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_XAUTOCLAIM, "xautoclaim", -6, 1, 1, 1, 0, RD_KIND_KEYED)                                  \
    X(RD_XCLAIM, "xclaim", -6, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_XDEL, "xdel", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    /* container as OBJECT: XGROUP CREATE key group id ... */                                      \
    X(RD_XGROUP, "xgroup", -2, 2, 2, 1, 0, RD_KIND_KEYED)                                          \
    /* container as OBJECT: XINFO STREAM key */                                                    \
    X(RD_XINFO, "xinfo", -2, 2, 2, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_XLEN, "xlen", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                               \
    X(RD_XPENDING, "xpending", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                      \
    X(RD_XRANGE, "xrange", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    /* blocking; the keys follow STREAMS (movable in redis) */                                     \
    X(RD_XREAD, "xread", -4, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                                      \
    /* as XREAD */                                                                                 \
    X(RD_XREADGROUP, "xreadgroup", -7, 0, 0, 0, 0, RD_KIND_UNSUPPORTED)                            \
    X(RD_XREVRANGE, "xrevrange", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                    \
    X(RD_XSETID, "xsetid", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_XTRIM, "xtrim", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_ZADD, "zadd", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_ZCARD, "zcard", 2, 1, 1, 1, 0, RD_KIND_KEYED)                                             \
    X(RD_ZCOUNT, "zcount", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_ZDIFF, "zdiff", -3, 0, 0, 0, 1, RD_KIND_KEYED)                                            \
    X(RD_ZDIFFSTORE, "zdiffstore", -4, 1, 1, 1, 2, RD_KIND_KEYED)                                  \
    X(RD_ZINCRBY, "zincrby", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                         \
    X(RD_ZINTER, "zinter", -3, 0, 0, 0, 1, RD_KIND_KEYED)                                          \
    X(RD_ZINTERCARD, "zintercard", -3, 0, 0, 0, 1, RD_KIND_KEYED)                                  \
    X(RD_ZINTERSTORE, "zinterstore", -4, 1, 1, 1, 2, RD_KIND_KEYED)                                \
    X(RD_ZLEXCOUNT, "zlexcount", 4, 1, 1, 1, 0, RD_KIND_KEYED)                                     \
    X(RD_ZMPOP, "zmpop", -4, 0, 0, 0, 1, RD_KIND_UNSUPPORTED)                                      \
    X(RD_ZMSCORE, "zmscore", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    X(RD_ZPOPMAX, "zpopmax", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    X(RD_ZPOPMIN, "zpopmin", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                        \
    X(RD_ZRANDMEMBER, "zrandmember", -2, 1, 1, 1, 0, RD_KIND_KEYED)                                \
    X(RD_ZRANGE, "zrange", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                          \
    X(RD_ZRANGEBYLEX, "zrangebylex", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                \
    X(RD_ZRANGEBYSCORE, "zrangebyscore", -4, 1, 1, 1, 0, RD_KIND_KEYED)                            \
    X(RD_ZRANGESTORE, "zrangestore", -5, 1, 2, 1, 0, RD_KIND_KEYED)                                \
    /* redis 7.0: 3; 7.2 added WITHSCORE: -3 */                                                    \
    X(RD_ZRANK, "zrank", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_ZREM, "zrem", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                              \
    X(RD_ZREMRANGEBYLEX, "zremrangebylex", 4, 1, 1, 1, 0, RD_KIND_KEYED)                           \
    X(RD_ZREMRANGEBYRANK, "zremrangebyrank", 4, 1, 1, 1, 0, RD_KIND_KEYED)                         \
    X(RD_ZREMRANGEBYSCORE, "zremrangebyscore", 4, 1, 1, 1, 0, RD_KIND_KEYED)                       \
    X(RD_ZREVRANGE, "zrevrange", -4, 1, 1, 1, 0, RD_KIND_KEYED)                                    \
    X(RD_ZREVRANGEBYLEX, "zrevrangebylex", -4, 1, 1, 1, 0, RD_KIND_KEYED)                          \
    X(RD_ZREVRANGEBYSCORE, "zrevrangebyscore", -4, 1, 1, 1, 0, RD_KIND_KEYED)                      \
    /* redis 7.0: 3; 7.2 added WITHSCORE: -3 */                                                    \
    X(RD_ZREVRANK, "zrevrank", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                      \
    X(RD_ZSCAN, "zscan", -3, 1, 1, 1, 0, RD_KIND_KEYED)                                            \
    X(RD_ZSCORE, "zscore", 3, 1, 1, 1, 0, RD_KIND_KEYED)                                           \
    X(RD_ZUNION, "zunion", -3, 0, 0, 0, 1, RD_KIND_KEYED)                                          \
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
 * when count is 0), then nk_count keys from nk_first on (one each). The fields of an empty
 * part are 0; last is the position of the last key itself. */
struct rd_keypos {
    uint32_t first, last, step, count;
    uint32_t nk_first, nk_count;
};

enum rd_keys_result {
    RD_KEYS_OK = 0,
    RD_KEYS_NONE,        /* the request has no key to route by (EVAL with numkeys 0, OBJECT HELP) */
    RD_KEYS_BAD_NUMKEYS, /* the numkeys argument is not a number or does not fit the
                          * arguments: the server gives its own error for that */
    RD_KEYS_BAD_PAIRS,   /* MSET or MSETNX with a key missing its value (redis: wrong number
                          * of arguments) */
};

/* The key positions of a request of argc arguments (arity already checked). numkeys is the
 * value of argument numkeys_at when the row has one, parsed by the caller (numkeys_ok false
 * when it is not an integer; both are ignored for a row without one). A negative last counts
 * from the end (-1: argument argc - 1); a fixed first position at or beyond argc gives no
 * fixed key. numkeys must be 0 ... the number of arguments after numkeys_at. Fills *out on
 * RD_KEYS_OK (zeroes it otherwise). Pure. */
enum rd_keys_result rd_cmd_keys(const struct rd_cmd_info *ci, uint32_t argc, int64_t numkeys,
                                bool numkeys_ok, struct rd_keypos *out);

#endif

"""The corpus of test_rd_differential.py: RESP request streams, each sent both to a real
redis-server and to the proxy in front of one (a one-server redis pool), whose replies are
compared byte for byte.

cases() returns the same list of Case on every call. A case's tags say how it is judged:

  a known-difference id (KNOWN_IDS; test_rd_differential.KNOWN_DIFFERENCES lists the same ids
      with a reason and a check each): the body is one command the proxy answers itself; the
      proxy's reply must be one reply that passes that id's check, followed by the tail's reply,
      instead of being identical to redis's (for an id of CLOSING_IDS, no tail: the proxy's one
      reply, then it closes);
  SPLIT: also sent split in two writes at every byte boundary (split_variants()).

Every case is also sent in small pieces (pieces()). Cases stay away from what is not
deterministic on redis itself: time (TTLs are set far off and read with TTL, which rounds),
randomness (SPOP, SRANDMEMBER, HRANDFIELD on one-element collections only), blocking (BLPOP
with a 10 ms timeout), and per-server counters. Every case gets the same answer from redis
whether it comes in one write or in pieces (test_rd_differential.DirectDeterminism checks it).

Standard library only."""

import random
from dataclasses import dataclass, replace

# known-difference ids (test_rd_differential.KNOWN_DIFFERENCES)
SELECT = "select"
UNSUPPORTED = "unsupported"
HELLO = "hello"
HELLO3 = "hello3"
COMMAND = "command"
INFO = "info"
CLIENT = "client"
CLIENT_REPLY = "client-reply"
EVAL_NOKEYS = "eval-nokeys"
LIMITS = "limits"
KNOWN_IDS = frozenset((SELECT, UNSUPPORTED, HELLO, HELLO3, COMMAND, INFO, CLIENT, CLIENT_REPLY,
                       EVAL_NOKEYS, LIMITS))
CLOSING_IDS = frozenset((LIMITS,))      # known differences where the proxy closes: no tail

# other tags
SPLIT = "split"

TAIL = b"*1\r\n$4\r\nPING\r\n"          # ends every known-difference case
TAIL_REPLY = b"+PONG\r\n"
PIECE_PREFIX = 512                      # pieces(): how much of a stream goes in small pieces


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    tags: frozenset = frozenset()
    tail: bytes = b""           # the last command of data (TAIL) in a known-difference case
    tail_reply: bytes = b""
    split_at: int = None        # a split variant: data[:split_at], a pause, data[split_at:]

    def known(self):
        """The known-difference ids among the tags."""
        return self.tags & KNOWN_IDS


def cmd(*args):
    """One multibulk request (bytes as they are, str as UTF-8, int in decimal)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = b"%d" % a
        elif isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def cmds(*commands):
    """Several multibulk requests: each a tuple of arguments."""
    return b"".join(cmd(*c) for c in commands)


class _Builder:
    def __init__(self):
        self.cases = []
        self._names = set()

    def add(self, name, data, *tags):
        if name in self._names:
            raise ValueError("duplicate case name %r" % name)
        if not isinstance(data, bytes) or not data:
            raise ValueError("case %r: data must be non-empty bytes" % name)
        self._names.add(name)
        tags = frozenset(tags)
        if tags & KNOWN_IDS and not tags & CLOSING_IDS:
            self.cases.append(Case(name, data + TAIL, tags, TAIL, TAIL_REPLY))
        else:
            self.cases.append(Case(name, data, tags))

    def seq(self, name, *commands, tags=()):
        """A case of multibulk commands (tuples)."""
        self.add(name, cmds(*commands), *tags)


# ---------------------------------------------------------------------------------------------
# command classes


def _strings(b):
    b.seq("str/set-get", ("SET", "k", "v"), ("GET", "k"), tags=(SPLIT,))
    b.seq("str/get-missing", ("GET", "nope"))
    for opts in (["EX", "100"], ["PX", "100000"], ["NX"], ["XX"], ["GET"], ["KEEPTTL"],
                 ["EX", "0"], ["EX", "abc"], ["EX", "100", "PX", "100"], ["NX", "XX"],
                 ["EXAT", "99999999999"], ["BADOPT"]):
        b.seq("str/set-opt-%s" % "-".join(opts).lower(), ("SET", "k", "old"),
              ("SET", "k", "v", *opts), ("GET", "k"), ("TTL", "k"))
    for value in ("0", "-1", "9223372036854775807", "-9223372036854775808", "abc", "1.5",
                  " 1", "", "007", "+1", "18446744073709551616"):
        b.seq("str/incr-%r" % value, ("SET", "n", value), ("INCR", "n"), ("DECR", "n"),
              ("GET", "n"))
    b.seq("str/incrby", ("INCRBY", "n", "10"), ("INCRBY", "n", "-3"), ("INCRBY", "n", "x"),
          ("DECRBY", "n", "2"), ("GET", "n"))
    b.seq("str/incrbyfloat", ("INCRBYFLOAT", "f", "1.5"), ("INCRBYFLOAT", "f", "2e2"),
          ("INCRBYFLOAT", "f", "nan"), ("INCRBYFLOAT", "f", "-0.25"), ("GET", "f"))
    b.seq("str/append-strlen", ("APPEND", "a", "x"), ("APPEND", "a", "yz"), ("STRLEN", "a"),
          ("STRLEN", "none"), ("GET", "a"))
    b.seq("str/getrange-setrange", ("SET", "s", "Hello World"), ("GETRANGE", "s", "0", "4"),
          ("GETRANGE", "s", "-5", "-1"), ("GETRANGE", "s", "5", "1"),
          ("SETRANGE", "s", "6", "Redis"), ("SETRANGE", "t", "3", "x"), ("GET", "s"),
          ("GET", "t"), ("SETRANGE", "s", "-1", "x"))
    b.seq("str/getset-getdel", ("GETSET", "g", "1"), ("GETSET", "g", "2"), ("GETDEL", "g"),
          ("GETDEL", "g"), ("GET", "g"))
    b.seq("str/getex", ("SET", "e", "v"), ("GETEX", "e", "EX", "100"), ("TTL", "e"),
          ("GETEX", "e", "PERSIST"), ("TTL", "e"), ("GETEX", "e", "EX", "-1"),
          ("GETEX", "missing"))
    b.seq("str/setnx-setex-psetex", ("SETNX", "x", "1"), ("SETNX", "x", "2"),
          ("SETEX", "y", "100", "v"), ("TTL", "y"), ("PSETEX", "z", "100000", "v"), ("TTL", "z"),
          ("SETEX", "y", "0", "v"), ("GET", "x"))
    b.seq("str/msetnx-one-server", ("MSETNX", "a", "1", "b", "2"), ("MSETNX", "b", "3", "c", "4"),
          ("MGET", "a", "b", "c"))
    b.seq("str/bits", ("SETBIT", "bm", "7", "1"), ("SETBIT", "bm", "100", "1"),
          ("GETBIT", "bm", "7"), ("GETBIT", "bm", "8"), ("BITCOUNT", "bm"),
          ("BITCOUNT", "bm", "0", "0"), ("BITPOS", "bm", "1"), ("BITPOS", "bm", "0"),
          ("SETBIT", "bm", "7", "2"), ("SETBIT", "bm", "-1", "1"), ("GET", "bm"))
    b.seq("str/bitfield", ("BITFIELD", "bf", "SET", "u8", "0", "255", "GET", "u8", "0",
                           "INCRBY", "u8", "0", "10", "OVERFLOW", "FAIL", "INCRBY", "u8", "0",
                           "250"), ("GET", "bf"))
    b.seq("str/bitop-one-server", ("SET", "b1", "\xff\x0f"), ("SET", "b2", "\x0f"),
          ("BITOP", "AND", "b3", "b1", "b2"), ("BITOP", "NOT", "b4", "b2"),
          ("GET", "b3"), ("GET", "b4"))
    for verb in ("GET", "APPEND", "INCR", "STRLEN", "GETRANGE", "SETRANGE", "GETSET", "GETDEL",
                 "BITCOUNT", "SETBIT"):
        args = {"APPEND": ["x"], "GETRANGE": ["0", "1"], "SETRANGE": ["0", "x"],
                "GETSET": ["x"], "SETBIT": ["1", "1"]}.get(verb, [])
        b.seq("str/wrongtype-%s" % verb.lower(), ("RPUSH", "l", "a"), (verb, "l", *args))


def _keyspace(b):
    b.seq("ks/expire-ttl", ("SET", "k", "v"), ("EXPIRE", "k", "100"), ("TTL", "k"),
          ("PERSIST", "k"), ("TTL", "k"), ("PERSIST", "k"), ("TTL", "missing"))
    b.seq("ks/expire-options", ("SET", "k", "v"), ("EXPIRE", "k", "100", "NX"),
          ("EXPIRE", "k", "200", "NX"), ("EXPIRE", "k", "50", "GT"), ("EXPIRE", "k", "50", "LT"),
          ("TTL", "k"), ("EXPIRE", "k", "1", "XX", "NX"))
    b.seq("ks/expire-negative-deletes", ("SET", "k", "v"), ("EXPIRE", "k", "-1"),
          ("EXISTS", "k"), ("GET", "k"))
    b.seq("ks/pexpire-expireat", ("SET", "k", "v"), ("PEXPIRE", "k", "100000"), ("TTL", "k"),
          ("EXPIREAT", "k", "99999999999"), ("PERSIST", "k"), ("PEXPIREAT", "k", "0"),
          ("GET", "k"))
    b.seq("ks/expire-not-integer", ("SET", "k", "v"), ("EXPIRE", "k", "x"),
          ("EXPIRE", "k", "1.5"), ("TTL", "k"))
    b.seq("ks/type", ("SET", "s", "v"), ("RPUSH", "l", "a"), ("SADD", "st", "a"),
          ("ZADD", "z", "1", "a"), ("HSET", "h", "f", "v"), ("TYPE", "s"), ("TYPE", "l"),
          ("TYPE", "st"), ("TYPE", "z"), ("TYPE", "h"), ("TYPE", "none"))
    b.seq("ks/rename-one-server", ("SET", "a", "1"), ("RENAME", "a", "b"), ("GET", "b"),
          ("RENAME", "missing", "c"), ("SET", "c", "2"), ("RENAMENX", "b", "c"),
          ("RENAMENX", "b", "d"), ("MGET", "a", "b", "c", "d"))
    b.seq("ks/exists-single", ("EXISTS", "k"), ("SET", "k", "v"), ("EXISTS", "k"))


def _hashes(b):
    b.seq("hash/hset-hget", ("HSET", "h", "f1", "v1", "f2", "v2"), ("HGET", "h", "f1"),
          ("HGET", "h", "none"), ("HGET", "none", "f"))
    b.seq("hash/hset-short", ("HSET", "h", "f", "v"), ("HGET", "h", "f"), tags=(SPLIT,))
    b.seq("hash/hmset-hmget", ("HMSET", "h", "a", "1", "b", "2"), ("HMGET", "h", "a", "x", "b"),
          ("HMGET", "none", "a"))
    b.seq("hash/hgetall-hkeys-hvals", ("HSET", "h", "a", "1", "b", "2", "c", "3"),
          ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"), ("HLEN", "h"), ("HGETALL", "none"))
    b.seq("hash/hdel-hexists", ("HSET", "h", "a", "1", "b", "2"), ("HDEL", "h", "a", "x"),
          ("HEXISTS", "h", "a"), ("HEXISTS", "h", "b"), ("HDEL", "h", "b"), ("EXISTS", "h"))
    b.seq("hash/hincrby", ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-7"),
          ("HINCRBYFLOAT", "h", "f", "1.25"), ("HSET", "h", "s", "abc"),
          ("HINCRBY", "h", "s", "1"), ("HINCRBYFLOAT", "h", "s", "1"),
          ("HINCRBY", "h", "n", "x"), ("HGETALL", "h"))
    b.seq("hash/hsetnx-hstrlen", ("HSETNX", "h", "f", "1"), ("HSETNX", "h", "f", "2"),
          ("HSTRLEN", "h", "f"), ("HSTRLEN", "h", "x"), ("HGET", "h", "f"))
    b.seq("hash/hrandfield-one", ("HSET", "h", "only", "1"), ("HRANDFIELD", "h"),
          ("HRANDFIELD", "h", "1", "WITHVALUES"), ("HRANDFIELD", "none"))
    b.seq("hash/hscan", ("HSET", "h", "a", "1", "b", "2"), ("HSCAN", "h", "0"),
          ("HSCAN", "h", "0", "MATCH", "a*"), ("HSCAN", "h", "x"))
    b.seq("hash/hset-odd-args", ("HSET", "h", "a", "1", "b"), ("HGETALL", "h"))
    b.seq("hash/wrongtype", ("SET", "s", "v"), ("HSET", "s", "f", "v"), ("HGET", "s", "f"),
          ("HGETALL", "s"))
    b.seq("hash/many-fields", ("HSET", "h", *[x for i in range(200)
                                               for x in ("f%d" % i, "v%d" % i)]),
          ("HLEN", "h"), ("HGET", "h", "f199"), ("HKEYS", "h"))


def _lists(b):
    b.seq("list/push-range", ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "z", "y"),
          ("LRANGE", "l", "0", "-1"), ("LRANGE", "l", "1", "2"), ("LRANGE", "l", "5", "10"),
          ("LRANGE", "none", "0", "-1"))
    b.seq("list/push-pop-short", ("RPUSH", "l", "a"), ("LPOP", "l"), tags=(SPLIT,))
    b.seq("list/pop", ("RPUSH", "l", "1", "2", "3", "4"), ("LPOP", "l"), ("RPOP", "l"),
          ("LPOP", "l", "5"), ("LPOP", "l"), ("RPOP", "none"), ("LPOP", "l", "0"),
          ("LPOP", "l", "-1"))
    b.seq("list/index-set-len", ("RPUSH", "l", "a", "b"), ("LINDEX", "l", "0"),
          ("LINDEX", "l", "-1"), ("LINDEX", "l", "9"), ("LSET", "l", "0", "A"),
          ("LSET", "l", "9", "x"), ("LSET", "none", "0", "x"), ("LLEN", "l"), ("LLEN", "none"))
    b.seq("list/insert-rem-trim", ("RPUSH", "l", "a", "b", "a", "c", "a"),
          ("LINSERT", "l", "BEFORE", "b", "x"), ("LINSERT", "l", "AFTER", "zz", "y"),
          ("LINSERT", "l", "MIDDLE", "b", "y"), ("LREM", "l", "2", "a"), ("LREM", "l", "-1", "a"),
          ("LTRIM", "l", "1", "-1"), ("LRANGE", "l", "0", "-1"))
    b.seq("list/lpos", ("RPUSH", "l", "a", "b", "c", "b", "b"), ("LPOS", "l", "b"),
          ("LPOS", "l", "b", "RANK", "2"), ("LPOS", "l", "b", "COUNT", "0"),
          ("LPOS", "l", "x"), ("LPOS", "l", "b", "RANK", "0"))
    b.seq("list/pushx", ("LPUSHX", "l", "a"), ("RPUSHX", "l", "a"), ("RPUSH", "l", "x"),
          ("LPUSHX", "l", "a"), ("RPUSHX", "l", "b"), ("LRANGE", "l", "0", "-1"))
    b.seq("list/rpoplpush-lmove-one-server", ("RPUSH", "a", "1", "2", "3"),
          ("RPOPLPUSH", "a", "b"), ("LMOVE", "a", "b", "LEFT", "LEFT"),
          ("LMOVE", "a", "a", "RIGHT", "LEFT"), ("LMOVE", "a", "b", "UP", "LEFT"),
          ("LRANGE", "a", "0", "-1"), ("LRANGE", "b", "0", "-1"), ("RPOPLPUSH", "none", "b"))
    b.seq("list/wrongtype", ("SET", "s", "v"), ("LPUSH", "s", "a"), ("LRANGE", "s", "0", "1"),
          ("LLEN", "s"), ("RPOP", "s"))
    b.seq("list/long", ("RPUSH", "l", *["e%d" % i for i in range(300)]), ("LLEN", "l"),
          ("LRANGE", "l", "100", "110"), ("LINDEX", "l", "299"))


def _sets(b):
    b.seq("set/add-members", ("SADD", "s", "a", "b", "c", "a"), ("SCARD", "s"),
          ("SISMEMBER", "s", "a"), ("SISMEMBER", "s", "x"), ("SMISMEMBER", "s", "a", "x", "c"),
          )
    b.seq("set/add-short", ("SADD", "s", "a"), ("SCARD", "s"), tags=(SPLIT,))
    b.seq("set/rem", ("SADD", "s", "1", "2", "3"), ("SREM", "s", "1", "9"), ("SCARD", "s"),
          ("SREM", "s", "2", "3"), ("EXISTS", "s"), ("SREM", "none", "a"))
    b.seq("set/smembers-intset", ("SADD", "s", "3", "1", "2"), ("SMEMBERS", "s"))
    b.seq("set/pop-random-one", ("SADD", "s", "only"), ("SRANDMEMBER", "s"),
          ("SRANDMEMBER", "s", "5"), ("SPOP", "s"), ("SPOP", "s"), ("SRANDMEMBER", "s"),
          ("SPOP", "none", "2"))
    b.seq("set/algebra-one-server", ("SADD", "a", "1", "2", "3"), ("SADD", "b", "2", "3", "4"),
          ("SINTERSTORE", "c", "a", "b"), ("SUNIONSTORE", "d", "a", "b"),
          ("SDIFFSTORE", "e", "a", "b"), ("SCARD", "c"), ("SCARD", "d"), ("SMEMBERS", "e"),
          ("SMOVE", "a", "b", "1"), ("SMOVE", "a", "b", "9"), ("SCARD", "b"))
    b.seq("set/sscan", ("SADD", "s", "1", "2"), ("SSCAN", "s", "0"))
    b.seq("set/wrongtype", ("SET", "k", "v"), ("SADD", "k", "a"), ("SMEMBERS", "k"),
          ("SCARD", "k"))


def _zsets(b):
    b.seq("zset/add-score-rank", ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
          ("ZSCORE", "z", "b"), ("ZRANK", "z", "c"), ("ZREVRANK", "z", "c"),
          ("ZRANK", "z", "x"), ("ZCARD", "z"))
    b.seq("zset/add-short", ("ZADD", "z", "1", "a"), ("ZSCORE", "z", "a"), tags=(SPLIT,))
    b.seq("zset/add-options", ("ZADD", "z", "NX", "1", "a"), ("ZADD", "z", "NX", "2", "a"),
          ("ZADD", "z", "XX", "CH", "3", "a"), ("ZADD", "z", "GT", "1", "a"),
          ("ZADD", "z", "LT", "1", "a"), ("ZADD", "z", "INCR", "5", "a"),
          ("ZADD", "z", "NX", "XX", "1", "a"), ("ZADD", "z", "x", "a"), ("ZADD", "z", "1"),
          ("ZSCORE", "z", "a"))
    b.seq("zset/ranges", ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
          ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZREVRANGE", "z", "0", "1"),
          ("ZRANGEBYSCORE", "z", "(1", "3"), ("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT",
                                               "1", "2"),
          ("ZREVRANGEBYSCORE", "z", "+inf", "2"), ("ZRANGE", "z", "1", "2", "BYSCORE"),
          ("ZCOUNT", "z", "2", "+inf"), ("ZRANGEBYSCORE", "z", "x", "1"))
    b.seq("zset/lex", ("ZADD", "z", "0", "a", "0", "b", "0", "c"),
          ("ZRANGEBYLEX", "z", "[b", "+"), ("ZLEXCOUNT", "z", "-", "+"),
          ("ZREMRANGEBYLEX", "z", "[a", "(c"), ("ZRANGE", "z", "0", "-1"),
          ("ZRANGEBYLEX", "z", "b", "c"))
    b.seq("zset/incr-rem-pop", ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
          ("ZINCRBY", "z", "2.5", "a"), ("ZINCRBY", "z", "x", "a"), ("ZREM", "z", "b", "x"),
          ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "5"), ("ZPOPMIN", "z"), ("EXISTS", "z"))
    b.seq("zset/mscore-remrange", ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
          ("ZMSCORE", "z", "a", "x", "c"), ("ZREMRANGEBYRANK", "z", "0", "0"),
          ("ZREMRANGEBYSCORE", "z", "3", "3"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"))
    b.seq("zset/store-one-server", ("ZADD", "a", "1", "x", "2", "y"), ("ZADD", "b", "10", "y"),
          ("ZUNIONSTORE", "c", "2", "a", "b"), ("ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS",
                                                "2", "1"),
          ("ZRANGE", "c", "0", "-1", "WITHSCORES"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
          ("ZUNIONSTORE", "e", "3", "a", "b"), ("ZUNIONSTORE", "e", "0", "a"),
          ("ZUNIONSTORE", "e", "x", "a"))
    b.seq("zset/scores-format", ("ZADD", "z", "0.1", "a", "1e3", "b", "-0", "c", "inf", "d"),
          ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZADD", "z", "nan", "e"))
    b.seq("zset/wrongtype", ("SET", "k", "v"), ("ZADD", "k", "1", "a"), ("ZRANGE", "k", "0", "1"),
          ("ZSCORE", "k", "a"))


def _hll_geo(b):
    b.seq("hll/add-count", ("PFADD", "h", "a", "b", "c"), ("PFADD", "h", "a"),
          ("PFCOUNT", "h"), ("PFADD", "h2"), ("PFCOUNT", "h2"), ("PFCOUNT", "none"))
    b.seq("hll/merge-one-server", ("PFADD", "a", "1", "2"), ("PFADD", "b", "2", "3"),
          ("PFMERGE", "c", "a", "b"), ("PFCOUNT", "c"), ("PFCOUNT", "a", "b"))
    b.seq("hll/wrongtype", ("SET", "k", "notahll"), ("PFADD", "k", "a"), ("PFCOUNT", "k"))
    b.seq("geo/add-dist-hash", ("GEOADD", "g", "13.361389", "38.115556", "Palermo",
                                "15.087269", "37.502669", "Catania"),
          ("GEODIST", "g", "Palermo", "Catania"), ("GEODIST", "g", "Palermo", "Catania", "km"),
          ("GEODIST", "g", "Palermo", "none"), ("GEOHASH", "g", "Palermo", "Catania", "x"))
    b.seq("geo/pos-search", ("GEOADD", "g", "13.361389", "38.115556", "Palermo",
                             "15.087269", "37.502669", "Catania"),
          ("GEOPOS", "g", "Palermo", "none"),
          ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC",
           "WITHDIST"),
          ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "DESC"),
          ("GEORADIUS", "g", "15", "37", "200", "km", "ASC", "WITHCOORD"),
          ("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "ASC"))
    b.seq("geo/bad-args", ("GEOADD", "g", "200", "100", "x"), ("GEOADD", "g", "a", "b", "c"),
          ("GEOADD", "g", "XX", "NX", "1", "1", "x"),
          ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "parsecs"))


def _eval(b):
    b.seq("eval/return-types", ("EVAL", "return {1, 'two', {3}, false, true}", "1", "k"))
    b.seq("eval/with-key", ("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k",
                            "v"), ("GET", "k"))
    b.seq("eval/two-keys-one-server", ("EVAL", "return {KEYS[1], KEYS[2], ARGV[1]}", "2", "a",
                                       "b", "x"))
    b.seq("eval/error-reply", ("EVAL", "return redis.error_reply('MY failure')", "1", "k"))
    b.seq("eval/runtime-error", ("EVAL", "return redis.call('INCR', KEYS[1])", "1", "k"),
          ("SET", "s", "x"), ("EVAL", "return redis.call('INCR', KEYS[1])", "1", "s"))
    b.seq("eval/syntax-error", ("EVAL", "return (", "1", "k"))
    b.seq("eval/numkeys-bad", ("EVAL", "return 1", "-1", "k"), ("EVAL", "return 1", "3", "k"),
          ("EVAL", "return 1", "x", "k"))
    b.seq("eval/evalsha", ("EVAL", "return KEYS[1]", "1", "k"),
          ("EVALSHA", "9a57a0b4ed0a8b8b3bea3c6c4c7a5b3ff6a8e55b", "1", "k"),
          ("EVALSHA", "2ae40b8e3e5e1b6e4d7f3f3f0b2a5f0e5d2d8b3d", "1", "k"))
    b.seq("eval/evalsha-loaded", ("EVAL", "return 'cached'", "1", "k"),
          ("EVALSHA", _sha1(b"return 'cached'"), "1", "k"),
          ("EVALSHA", _sha1(b"return 'cached'").upper(), "1", "k"))


def _sha1(data):
    import hashlib
    return hashlib.sha1(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# multi-key commands the proxy splits (one server: the same answers as redis)


def _multikey(b):
    b.seq("mk/mget", ("SET", "a", "1"), ("SET", "c", "3"), ("MGET", "a", "b", "c", "a"),
          tags=(SPLIT,))
    b.seq("mk/mget-wrongtype-is-nil", ("RPUSH", "l", "x"), ("SET", "a", "1"),
          ("MGET", "a", "l", "none"))
    b.seq("mk/mget-one", ("MGET", "a"))
    b.seq("mk/mget-many", *[("SET", "k%d" % i, "v%d" % i) for i in range(0, 200, 3)],
          ("MGET", *["k%d" % i for i in range(200)]))
    b.seq("mk/mset", ("MSET", "a", "1", "b", "2", "a", "3"), ("MGET", "a", "b"))
    b.seq("mk/mset-odd", ("MSET", "a", "1", "b"), ("MSET", "a"), ("MGET", "a", "b"))
    b.seq("mk/mset-overwrites-type", ("RPUSH", "l", "x"), ("MSET", "l", "s"), ("TYPE", "l"))
    for verb in ("DEL", "UNLINK", "EXISTS", "TOUCH"):
        b.seq("mk/%s-count" % verb.lower(), ("SET", "a", "1"), ("SET", "b", "2"),
              ("RPUSH", "l", "x"), (verb, "a", "b", "l", "none"), (verb, "a", "a", "none"),
              (verb, "none"), ("MGET", "a", "b"))
    b.seq("mk/del-many", *[("SET", "k%d" % i, "v") for i in range(50)],
          ("DEL", *["k%d" % i for i in range(100)]), ("EXISTS", "k1"))


# ---------------------------------------------------------------------------------------------
# errors the proxy must word as redis does


ARITY = [  # (command, a too short argument list, a too long one or None)
    ("get", [], ["a", "b"]), ("set", ["k"], None), ("del", [], None), ("exists", [], None),
    ("mget", [], None), ("mset", [], None), ("incr", [], ["a", "b"]), ("incrby", ["k"], None),
    ("decr", [], None), ("append", ["k"], None), ("strlen", [], None),
    ("getrange", ["k", "0"], None), ("setrange", ["k", "0"], None), ("setnx", ["k"], None),
    ("setex", ["k", "1"], None), ("getset", ["k"], None), ("expire", ["k"], None),
    ("ttl", [], ["a", "b"]), ("persist", [], None), ("type", [], None),
    ("hset", ["h", "f"], None), ("hget", ["h"], None), ("hmget", ["h"], None),
    ("hgetall", [], None), ("hdel", ["h"], None), ("hincrby", ["h", "f"], None),
    ("lpush", ["l"], None), ("rpush", ["l"], None), ("lrange", ["l", "0"], None),
    ("lindex", ["l"], None), ("lset", ["l", "0"], None), ("linsert", ["l", "BEFORE", "x"], None),
    ("rpoplpush", ["a"], None), ("sadd", ["s"], None), ("srem", ["s"], None),
    ("smembers", [], None), ("sismember", ["s"], None), ("smove", ["a", "b"], None),
    ("sinterstore", ["d"], None), ("zadd", ["z"], None), ("zscore", ["z"], None),
    ("zrange", ["z", "0"], None), ("zincrby", ["z", "1"], None), ("zrem", ["z"], None),
    ("zunionstore", ["d", "1"], None), ("pfadd", [], None), ("pfcount", [], None),
    ("pfmerge", [], None), ("geoadd", ["g", "1", "2"], None), ("geodist", ["g", "a"], None),
    ("eval", ["return 1"], None), ("evalsha", ["x"], None), ("ping", None, ["a", "b"]),
    ("echo", [], ["a", "b"]), ("select", [], ["0", "1"]), ("unlink", [], None),
    ("touch", [], None), ("bitcount", [], None), ("setbit", ["k", "1"], None),
]


def _arity(b):
    for name, short, long_ in ARITY:
        for kind, args in (("short", short), ("long", long_)):
            if args is None:
                continue
            tags = (SPLIT,) if name == "get" and kind == "short" else ()
            b.seq("arity/%s-%s" % (name, kind), (name.upper(), *args), ("PING",), tags=tags)
    b.seq("arity/lower-and-mixed-case", ("get",), ("gEt", "a", "b"), ("SeT", "k"))


def _unknown(b):
    b.seq("unknown/plain", ("FOOBAR",))
    b.seq("unknown/with-args", ("NOSUCHCMD", "a", "b", "c"), ("PING",), tags=(SPLIT,))
    b.seq("unknown/many-args", ("NOSUCHCMD", *["arg%d" % i for i in range(20)]))
    b.seq("unknown/long-arg", ("NOSUCHCMD", "x" * 200))
    b.seq("unknown/long-name", ("X" * 300,))
    b.seq("unknown/binary-name", (b"\xff\x00\r\n",))
    b.seq("unknown/empty-name", ("",), ("", "a"))
    b.seq("unknown/then-good", ("FOO", "k"), ("SET", "k", "v"), ("GET", "k"))
    b.seq("unknown/quote-in-arg", ("NOSUCHCMD", "it's", "a\"b"))
    b.seq("unknown/many", *[("CMD%d" % i,) for i in range(20)], ("GET", "k"))


# ---------------------------------------------------------------------------------------------
# local commands that must be the same as redis's


def _local_same(b):
    b.seq("local/ping", ("PING",), tags=(SPLIT,))
    b.seq("local/ping-message", ("PING", "hello"), ("PING", ""), ("PING", b"\r\n\x00"))
    b.seq("local/echo", ("ECHO", "x"), ("ECHO", ""), ("ECHO", b"\x00\xff\r\n"), tags=(SPLIT,))
    b.seq("local/select-0", ("SELECT", "0"), ("SET", "k", "v"), ("GET", "k"))
    b.seq("local/quit", ("SET", "k", "v"), ("QUIT",), ("GET", "k"))
    b.seq("local/auth-without-password", ("AUTH", "secret"), ("PING",))
    b.seq("local/auth-arity", ("AUTH",), ("PING",))
    b.seq("local/quit-with-arg", ("QUIT", "now"), ("PING",))
    b.seq("local/client-setname-getname", ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", "abc"),
          ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", ""), ("CLIENT", "GETNAME"))
    b.seq("local/client-setname-invalid", ("CLIENT", "SETNAME", "has space"),
          ("CLIENT", "GETNAME"))


# ---------------------------------------------------------------------------------------------
# inline commands


def _inline(b):
    b.add("inline/ping", b"PING\r\n", SPLIT)
    b.add("inline/ping-lf-only", b"ping\n")
    b.add("inline/set-get", b"SET k v\r\nGET k\r\n", SPLIT)
    b.add("inline/spaces-and-tabs", b"  SET \t k   v  \r\nGET k\r\n")
    b.add("inline/double-quotes", b'SET "a b" "c\\td\\n\\x41\\"" \r\nGET "a b"\r\n', SPLIT)
    b.add("inline/single-quotes", b"SET 'a b' 'it\\'s'\r\nGET 'a b'\r\n")
    b.add("inline/empty-quoted-arg", b'SET k ""\r\nGET k\r\nSTRLEN k\r\n')
    b.add("inline/empty-lines", b"\r\n\r\nPING\r\n\n\r\nPING\r\n")
    b.add("inline/only-spaces-line", b"   \r\nPING\r\n")
    b.add("inline/mixed-with-multibulk", b"SET a 1\r\n" + cmd("INCR", "a") + b"GET a\r\n"
          + cmd("GET", "a"))
    b.add("inline/unknown", b"FOOBAR a b\r\n")
    b.add("inline/arity", b"GET\r\nGET a b\r\n")
    b.add("inline/mget", b"SET a 1\r\nMGET a b a\r\n")
    b.add("inline/pipeline-100", b"".join(b"SET k%d %d\r\nGET k%d\r\n" % (i, i, i)
                                          for i in range(100)))
    b.add("inline/cr-in-word", b"SET k a\rb\r\nGET k\r\n")
    b.add("inline/long-line", b"SET k " + b"x" * 60000 + b"\r\nSTRLEN k\r\n")
    b.add("inline/hex-escapes", b'SET k "\\x00\\xff\\x7f"\r\nGET k\r\n')
    b.add("inline/quote-then-word", b'SET "a"b c\r\nPING\r\n')
    b.add("inline/ping-with-arg", b"PING hello\r\nECHO there\r\n")


# ---------------------------------------------------------------------------------------------
# framing oddities that redis accepts


def _framing(b):
    b.add("frame/empty-multibulk", b"*0\r\n*-1\r\n" + cmd("PING"))
    b.add("frame/count-negative", b"*-2\r\n" + cmd("PING"))
    b.add("frame/leading-zeros-refused", b"*01\r\n$04\r\nPING\r\n")
    b.add("frame/trailer-bytes-unchecked", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nvXY"
          + cmd("GET", "k"), SPLIT)
    b.add("frame/count-line-cr-then-any", b"*1\rX$4\r\nPING\r\n", SPLIT)
    b.add("frame/empty-bulk-args", cmd("SET", "", "") + cmd("GET", "") + cmd("EXISTS", ""))
    b.add("frame/arg-count-at-limit", b"*1048576\r\n")
    b.add("frame/bulk-len-at-limit", b"*1\r\n$134217728\r\n")
    b.add("frame/big-arg-count", cmd("RPUSH", "l", *["x"] * 5000) + cmd("LLEN", "l"))
    b.add("frame/large-value-300k", cmd("SET", "k", "B" * 300000) + cmd("STRLEN", "k")
          + cmd("GETRANGE", "k", "299990", "-1"))
    b.add("frame/value-with-crlf", cmd("SET", "k", "a\r\n$3\r\n*1\r\n") + cmd("GET", "k"), SPLIT)
    b.add("frame/lowercase-everything", cmd("set", "k", "v") + cmd("get", "k") +
          cmd("mget", "k") + cmd("ping"))


# ---------------------------------------------------------------------------------------------
# pipelines and binary data


def _pipelines(b):
    b.add("pipe/set-get-20", b"".join(cmd("SET", "k%d" % i, "v%d" % i) + cmd("GET", "k%d" % i)
                                      for i in range(20)))
    b.add("pipe/1000-mixed", b"".join(
        cmd(*c) for i in range(250) for c in (("SET", "k%d" % (i % 37), "v%d" % i),
                                               ("INCR", "n%d" % (i % 5)),
                                               ("GET", "k%d" % ((i * 7) % 37)),
                                               ("MGET", "k%d" % i, "n%d" % (i % 5)))))
    b.add("pipe/errors-interleaved", b"".join(cmd("INCR", "s") + cmd("NOSUCH") + cmd("GET")
                                              + cmd("SET", "s", "x%d" % i) for i in range(20)))
    b.add("pipe/types-mixed", cmds(("RPUSH", "l", "a"), ("SADD", "s", "a"), ("HSET", "h", "f", "v"),
                                   ("ZADD", "z", "1", "m"), ("LRANGE", "l", "0", "-1"),
                                   ("SMEMBERS", "s"), ("HGETALL", "h"), ("ZRANGE", "z", "0", "-1"),
                                   ("DEL", "l", "s", "h", "z")))
    b.add("pipe/2000-pings", cmd("PING") * 2000)
    b.add("pipe/big-values", b"".join(cmd("SET", "b%d" % i, bytes([65 + i]) * 50000)
                                      + cmd("STRLEN", "b%d" % i) for i in range(10))
          + cmd("MGET", "b0", "b9"))


def _binary(b):
    allbytes = bytes(range(256))
    b.add("bin/all-bytes-value", cmd("SET", "k", allbytes) + cmd("GET", "k") + cmd("STRLEN", "k"))
    b.add("bin/all-bytes-key", cmd("SET", allbytes, "v") + cmd("GET", allbytes)
          + cmd("EXISTS", allbytes))
    b.add("bin/each-byte-keys", b"".join(cmd("SET", bytes([i]), bytes([255 - i]))
                                         for i in range(256))
          + cmd("MGET", *[bytes([i]) for i in range(256)]))
    b.add("bin/crlf-key", cmd("SET", "a\r\nb", "\r\n") + cmd("GET", "a\r\nb")
          + cmd("MGET", "a\r\nb", "a"))
    b.add("bin/resp-looking-value", cmd("SET", "k", "*1\r\n$4\r\nPING\r\n") + cmd("GET", "k"))
    b.add("bin/utf8", cmd("SET", "clé", "värde ✓") + cmd("GET", "clé"))
    b.add("bin/hash-binary-fields", cmd("HSET", "h", b"\x00", b"\xff", b"\r\n", b"")
          + cmd("HGETALL", "h"))
    b.add("bin/zset-binary-members", cmd("ZADD", "z", "1", b"\x00\x01", "2", b"\xff")
          + cmd("ZRANGE", "z", "0", "-1"))
    rng = random.Random(4242)
    for i in range(4):
        blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4000)))
        key = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
        b.add("bin/random-%d" % i, cmd("SET", key, blob) + cmd("GET", key) + cmd("DEL", key))


# ---------------------------------------------------------------------------------------------
# known differences: the proxy answers these itself


def _known(b):
    for n in ("1", "15", "16", "-1", "abc", "99999999999999999999"):
        b.seq("known/select-%s" % n, ("SELECT", n), tags=(SELECT,))
    for args in (("KEYS", "*"), ("SCAN", "0"), ("MULTI",), ("EXEC",), ("DISCARD",),
                 ("WATCH", "k"), ("UNWATCH",), ("BLPOP", "l", "0.01"),
                 ("BRPOPLPUSH", "a", "b", "0.01"), ("SUBSCRIBE", "ch"), ("PSUBSCRIBE", "c*"),
                 ("UNSUBSCRIBE",), ("PUBLISH", "ch", "m"), ("CONFIG", "GET", "maxmemory"),
                 ("FLUSHALL",), ("FLUSHDB",), ("DBSIZE",), ("RANDOMKEY",), ("WAIT", "0", "0"),
                 ("MONITOR",), ("SCRIPT", "FLUSH"), ("CLIENT", "LIST"), ("CLIENT", "INFO"),
                 ("CLIENT", "KILL", "ID", "1")):
        b.seq("known/unsupported-%s" % "-".join(a.lower() for a in args[:2]), args,
              tags=(UNSUPPORTED,))
    b.seq("known/hello", ("HELLO",), tags=(HELLO,))
    b.seq("known/hello-2", ("HELLO", "2"), tags=(HELLO,))
    b.seq("known/hello-3", ("HELLO", "3"), tags=(HELLO3,))
    for args in (("COMMAND",), ("COMMAND", "COUNT"), ("COMMAND", "DOCS", "GET"),
                 ("COMMAND", "INFO", "GET"), ("COMMAND", "DOCS")):
        b.seq("known/%s" % "-".join(a.lower() for a in args), args, tags=(COMMAND,))
    b.seq("known/info", ("INFO",), tags=(INFO,))
    b.seq("known/info-server", ("INFO", "server"), tags=(INFO,))
    b.seq("known/client-id", ("CLIENT", "ID"), tags=(CLIENT,))
    for mode in ("OFF", "SKIP"):
        b.seq("known/client-reply-%s" % mode.lower(), ("CLIENT", "REPLY", mode),
              tags=(CLIENT_REPLY,))
    b.seq("known/eval-numkeys-0", ("EVAL", "return 1", "0"), tags=(EVAL_NOKEYS,))
    b.seq("known/eval-numkeys-0-redis-call", ("EVAL", "return redis.call('PING')", "0"),
          tags=(EVAL_NOKEYS,))
    b.add("known/arg-count-over-limit", b"*1048577\r\n", LIMITS)
    b.add("known/bulk-len-over-limit", b"*1\r\n$134217729\r\n", LIMITS)
    b.add("known/bulk-len-over-limit-2nd-arg", b"*2\r\n$4\r\nECHO\r\n$134217729\r\n", LIMITS)
    b.seq("known/evalsha-numkeys-0", ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
                                      "0"), tags=(EVAL_NOKEYS,))


# ---------------------------------------------------------------------------------------------
# protocol errors, at the end of a stream (redis answers what came before, then the error, then
# closes)


def _protocol_errors(b):
    before = cmd("SET", "k", "v") + cmd("GET", "k")
    errors = [
        ("count-not-a-number", b"*x\r\n"),
        ("count-too-big", b"*2147483648\r\n"),
        ("bulk-len-not-a-number", b"*1\r\n$x\r\n"),
        ("bulk-len-negative", b"*1\r\n$-5\r\n"),
        ("bulk-len-nil", b"*1\r\n$-1\r\n"),
        ("bulk-len-too-big", b"*1\r\n$536870913\r\n"),
        ("expected-dollar", b"*1\r\nfoo\r\n"),
        ("expected-dollar-got-colon", b"*2\r\n$3\r\nGET\r\n:1\r\n"),
        ("expected-dollar-got-star", b"*2\r\n$3\r\nGET\r\n*1\r\n"),
        ("count-with-sign", b"*+1\r\n$4\r\nPING\r\n"),
        ("count-with-space", b"* 1\r\n$4\r\nPING\r\n"),
        ("bulk-len-with-space", b"*1\r\n$ 4\r\nPING\r\n"),
        ("count-empty", b"*\r\n"),
        ("bulk-len-empty", b"*1\r\n$\r\n"),
        ("unbalanced-double-quote", b'SET "k v\r\n'),
        ("unbalanced-single-quote", b"SET 'k v\r\n"),
        ("closing-quote-then-char", b'SET "k"v x\r\n'),
        ("inline-too-big", b"SET k " + b"x" * 70000),
        ("count-line-too-big", b"*" + b"1" * 70000),
        ("bulk-len-line-too-big", b"*1\r\n$" + b"1" * 70000),
    ]
    for name, data in errors:
        tags = (SPLIT,) if name in ("count-not-a-number", "expected-dollar",
                                    "bulk-len-not-a-number") else ()
        b.add("proto/%s" % name, data, *tags)
        b.add("proto/%s-after-commands" % name, before + data)
    b.add("proto/after-inline", b"PING\r\nSET a 1\r\n*x\r\n")
    b.add("proto/after-pipeline", cmd("PING") * 100 + b"*1\r\n$x\r\n")
    b.add("proto/commands-after-error-ignored", b"*x\r\n" + cmd("SET", "k", "v"))


# ---------------------------------------------------------------------------------------------


def cases():
    """The corpus: a fresh, deterministic list of Case."""
    b = _Builder()
    for section in (_strings, _keyspace, _hashes, _lists, _sets, _zsets, _hll_geo, _eval,
                    _multikey, _arity, _unknown, _local_same, _inline, _framing, _pipelines,
                    _binary, _known, _protocol_errors):
        section(b)
    return b.cases


def split_variants(corpus=None):
    """Every split point of every SPLIT case: `<name>@<offset>`, sent as two writes."""
    out = []
    for case in corpus if corpus is not None else cases():
        if SPLIT in case.tags:
            for offset in range(1, len(case.data)):
                out.append(replace(case, name="%s@%d" % (case.name, offset), split_at=offset))
    return out


def pieces(case):
    """The case's data as a list of writes: its first PIECE_PREFIX bytes in pieces of 1..7 bytes
    (sizes from a seed of the case's name), the rest in one."""
    rng = random.Random(case.name)
    head, rest = case.data[:PIECE_PREFIX], case.data[PIECE_PREFIX:]
    out = []
    i = 0
    while i < len(head):
        n = rng.randint(1, 7)
        out.append(head[i:i + n])
        i += n
    if rest:
        out.append(rest)
    return out


if __name__ == "__main__":
    all_cases = cases()
    print("%d cases, %d split variants, %d known-difference cases" % (
        len(all_cases), len(split_variants(all_cases)), sum(bool(c.known()) for c in all_cases)))

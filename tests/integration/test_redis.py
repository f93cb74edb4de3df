"""End-to-end redis suite: the real proxy binary with a redis pool (`redis: true`) in front of three
real redis-server on loopback ports chosen at run time, two workers (ringproxy), so that what
one connection does is checked from connections that may sit on the other worker.

Written against ringproxy's spec ahead of its redis support; checked against the real nutcracker.
What nutcracker 0.5.0 gets wrong (it closes the connection on unsupported and unknown commands,
inline commands, protocol errors, PING with an argument, ECHO, QUIT, SELECT, HELLO, CLIENT,
INFO; sends a multi-key command to its first key's server; does not split EXISTS; answers AUTH
with its own texts) is in tests marked @ringproxy_only, which skip under nutcracker.

Classes: CommandTests (every command class), PlacementTests, MultiKeyTests (MGET, MSET, DEL,
UNLINK, TOUCH, EXISTS), HashTagTests, CrossServerTests, PipelineTests, BinaryTests, InlineTests,
LocalCommandTests, ErrorReplyTests, AuthTests, BadServerAuthTests, RedisDbTests, FailureTests,
RealClientTests (redis-py, redis-benchmark, redis-cli). Most classes share one fleet (started
on first use, its servers flushed before each test); the auth, db and failure tests start their
own."""

import hashlib
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import (  # noqa: E402
    ConnectionClosed,
    RedisFleet,
    RespClient,
    RespError,
    resp_encode,
    ringproxy_only,
    run_pipeline,
)

NSERVERS = 3
WORKERS = 2
NCONNS = 4                         # connections a test rotates over (spread over the workers)
MIB = 1024 * 1024
PASSWORD = "s3cret-pw"
POOL_TIMEOUT_MS = 1000
BIG_VALUE_LIMIT = 128 * MIB        # max_value_size of the shared pool (ringproxy only key)
WRONGTYPE = RespError("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INTEGER = RespError("ERR value is not an integer or out of range")


def setUpModule():
    if shutil.which("redis-server") is None:
        raise unittest.SkipTest("redis-server is not installed")


def tearDownModule():
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


_shared = None


def shared_fleet():
    """The fleet most classes use: three servers, two workers, hash_tag "{}", values up to
    BIG_VALUE_LIMIT. Started on first use, stopped by tearDownModule."""
    global _shared
    if _shared is None or not _shared.proxy.alive():
        if _shared is not None:
            _shared.stop()
        _shared = RedisFleet(NSERVERS, workers=WORKERS, hash_tag="{}",
                             pool_options={"max_value_size": BIG_VALUE_LIMIT,
                                           "timeout": POOL_TIMEOUT_MS}).start()
    return _shared


def spread_key(base, i):
    """A key ending in 8 pseudo-random hex digits: fnv1a_64 puts keys that differ only in a
    trailing counter close together on the ketama ring, a varied tail spreads them."""
    return "%s%d-%08x" % (base, i, zlib.crc32(("%s%d" % (base, i)).encode()))


def find_keys_by_server(fleet, base, per_server, nservers, candidates=200):
    """{server index: [per_server keys]} of keys spread_key(base, i) that the proxy puts on each
    server: found by setting candidates through the proxy and asking every server which it
    holds (so it works under nutcracker too), then deleting them."""
    keys = [spread_key(base, i) for i in range(candidates)]
    with fleet.client() as c:
        c.send(b"".join(resp_encode("SET", k, "probe") for k in keys))
        replies = c.read_replies(len(keys))
        bad = [(k, r) for k, r in zip(keys, replies) if r != "OK"]
        if bad:
            raise AssertionError("SET through the proxy failed: %r" % bad[:3])
        owners = fleet.owners(keys)
        for start in range(0, len(keys), 50):
            c.send_command("DEL", *keys[start:start + 50])
            c.read_reply()
    out = {}
    for k in keys:
        if k in owners and len(out.setdefault(owners[k], [])) < per_server:
            out[owners[k]].append(k)
    if len(out) < nservers or any(len(v) < per_server for v in out.values()):
        raise AssertionError("could not find %d keys per server among %d candidates: %r"
                             % (per_server, candidates, {i: len(v) for i, v in out.items()}))
    return out


def err_prefix(prefix):
    """A predicate: an error reply whose text starts with prefix."""
    def check(got):
        return isinstance(got, RespError) and got.startswith(prefix)
    check.__name__ = "error starting %r" % prefix
    return check


def in_range(lo, hi):
    def check(got):
        return isinstance(got, int) and lo <= got <= hi
    check.__name__ = "an integer in %d..%d" % (lo, hi)
    return check


def float_near(x, tol):
    def check(got):
        try:
            return abs(float(got) - x) <= tol
        except (TypeError, ValueError):
            return False
    check.__name__ = "a number within %g of %g" % (tol, x)
    return check


def same_items(items):
    def check(got):
        return isinstance(got, list) and sorted(got) == sorted(items)
    check.__name__ = "these items in any order: %r" % (items,)
    return check


class RedisCase(unittest.TestCase):
    """Base: self.fleet (the shared one unless a class starts its own in make_fleet), connections
    closed after each test, the proxy's health checked after each test."""

    fleet = None

    @classmethod
    def make_fleet(cls):
        return None          # None: use the shared fleet

    @classmethod
    def setUpClass(cls):
        own = cls.make_fleet()
        cls._own_fleet = own
        cls._keys_cache = {}
        cls.fleet = own

    @classmethod
    def tearDownClass(cls):
        if cls._own_fleet is not None:
            cls._own_fleet.stop()
            cls._own_fleet = None

    def setUp(self):
        if self._own_fleet is None:
            type(self).fleet = shared_fleet()
        self.fleet.flushall()

    def tearDown(self):
        problems = self.fleet.proxy.health_problems()
        if problems:
            self.fail("after the test: %s\n%s" % ("; ".join(problems),
                                                   self.fleet.proxy.log_tail(3000)))

    # -- helpers ---------------------------------------------------------------------------

    def client(self, timeout=rp.IO_TIMEOUT, rcvbuf=None):
        c = self.fleet.client(timeout=timeout, rcvbuf=rcvbuf)
        self.addCleanup(c.close)
        return c

    def conns(self, n=NCONNS, timeout=rp.IO_TIMEOUT):
        return [self.client(timeout) for _ in range(n)]

    def direct(self, i, db=None):
        c = self.fleet.direct(i, db=db)
        self.addCleanup(c.close)
        return c

    def keys_by_server(self, base, per_server=1):
        """See find_keys_by_server; cached per class (placement depends only on the pool)."""
        cache_key = (id(self.fleet), base, per_server)
        if cache_key not in self._keys_cache:
            self._keys_cache[cache_key] = find_keys_by_server(self.fleet, base, per_server,
                                                              self.fleet.nservers)
        return self._keys_cache[cache_key]

    def one_per_server(self, base):
        """[a key on server 0, one on server 1, one on server 2]."""
        by = self.keys_by_server(base, 1)
        return [by[i][0] for i in range(self.fleet.nservers)]

    def run_steps(self, steps, conns=None):
        """Runs [(args, want)] in order, step n on connection n % len(conns); want is the
        parsed reply or a predicate on it."""
        conns = conns or self.conns()
        for n, (args, want) in enumerate(steps):
            try:
                got = conns[n % len(conns)].command(*args)
            except (OSError, ConnectionClosed, AssertionError) as e:
                raise AssertionError("step %d %r: %s: %s" % (n, args, type(e).__name__, e))
            if callable(want):
                ok = want(got)
                shown = want.__name__
            else:
                ok = got == want and (type(got) is type(want) or
                                      not isinstance(want, (bytes, RespError)))
                shown = repr(want)
            self.assertTrue(ok, "step %d %r: got %r, want %s" % (n, args, got, shown))

    def assert_placed(self, expected, db=None):
        """expected: {key: server index}; every key is on exactly that server."""
        where = self.fleet.locate(list(expected), db=db)
        wrong = {k: (where[k], i) for k, i in expected.items() if where[k] != [i]}
        self.assertEqual(wrong, {}, "keys not on (only) their server: {key: (found on, want)}")

    def assert_usable(self, c):
        """The connection still answers: PING gets +PONG."""
        self.assertEqual(c.command("PING"), "PONG")


# ---------------------------------------------------------------------------------------------
# command classes


class CommandTests(RedisCase):
    """Every command class through the proxy, over rotating connections, keys on every server;
    afterwards each key is on exactly the server it was found on."""

    def test_strings(self):
        a, b, c = self.one_per_server("str:")
        self.run_steps([
            (("SET", a, "hello"), "OK"),
            (("GET", a), b"hello"),
            (("APPEND", a, " world"), 11),
            (("STRLEN", a), 11),
            (("GETRANGE", a, 0, 4), b"hello"),
            (("SETRANGE", a, 6, "WORLD"), 11),
            (("GET", a), b"hello WORLD"),
            (("SETNX", a, "x"), 0),
            (("SETNX", b, "10"), 1),
            (("INCR", b), 11),
            (("INCRBY", b, 5), 16),
            (("DECR", b), 15),
            (("DECRBY", b, 10), 5),
            (("INCRBYFLOAT", b, "1.5"), b"6.5"),
            (("GETSET", b, "0"), b"6.5"),
            (("GETDEL", b), b"0"),
            (("GET", b), None),
            (("SETBIT", b, 7, 1), 0),
            (("GETBIT", b, 7), 1),
            (("BITCOUNT", b), 1),
            (("BITPOS", b, 1), 7),
            (("GET", b), b"\x01"),
            (("SET", c, "v", "NX"), "OK"),
            (("SET", c, "w", "NX"), None),
            (("SET", c, "w", "XX", "GET"), b"v"),
            (("SETEX", c, 100, "x"), "OK"),
            (("TTL", c), in_range(99, 100)),
            (("GETEX", c, "PERSIST"), b"x"),
            (("TTL", c), -1),
            (("INCR", a), NOT_INTEGER),
            (("LPUSH", a, "x"), WRONGTYPE),
            (("STRLEN", "str:missing"), 0),
        ])
        self.assert_placed({a: 0, b: 1, c: 2})
        self.assertEqual(self.direct(0).command("GET", a), b"hello WORLD")

    def test_keyspace_and_expiry(self):
        a, b, c = self.one_per_server("ks:")
        self.run_steps([
            (("SET", a, "v"), "OK"),
            (("EXPIRE", a, 100), 1),
            (("TTL", a), in_range(99, 100)),
            (("PTTL", a), in_range(1, 100000)),
            (("PERSIST", a), 1),
            (("TTL", a), -1),
            (("TYPE", a), "string"),
            (("TTL", b), -2),
            (("TYPE", b), "none"),
            (("RPUSH", b, "x"), 1),
            (("TYPE", b), "list"),
            (("PEXPIRE", b, 100000), 1),
            (("TTL", b), in_range(99, 100)),
            (("EXISTS", c), 0),
            (("SET", c, "1"), "OK"),
            (("EXISTS", c), 1),
            (("DEL", c), 1),
            (("EXISTS", c), 0),
        ])
        self.assert_placed({a: 0, b: 1})

    def test_hashes(self):
        h, h2, h3 = self.one_per_server("hash:")
        self.run_steps([
            (("HSET", h, "f1", "v1", "f2", "v2"), 2),
            (("HGET", h, "f1"), b"v1"),
            (("HMGET", h, "f1", "nope", "f2"), [b"v1", None, b"v2"]),
            (("HSETNX", h, "f1", "x"), 0),
            (("HINCRBY", h, "n", 5), 5),
            (("HINCRBYFLOAT", h, "n", "0.5"), b"5.5"),
            (("HLEN", h), 3),
            (("HEXISTS", h, "f2"), 1),
            (("HSTRLEN", h, "f1"), 2),
            (("HDEL", h, "f2", "nope"), 1),
            (("HGETALL", h), [b"f1", b"v1", b"n", b"5.5"]),
            (("HKEYS", h), [b"f1", b"n"]),
            (("HVALS", h), [b"v1", b"5.5"]),
            (("HSET", h2, "only", "1"), 1),
            (("HRANDFIELD", h2), b"only"),
            (("HSCAN", h2, 0), [b"0", [b"only", b"1"]]),
            (("HMSET", h3, "a", "1", "b", "2"), "OK"),
            (("HGETALL", h3), [b"a", b"1", b"b", b"2"]),
            (("HINCRBY", h, "f1", 1), RespError("ERR hash value is not an integer")),
            (("HGET", "hash:missing", "f"), None),
            (("GET", h), WRONGTYPE),
        ])
        self.assert_placed({h: 0, h2: 1, h3: 2})
        self.assertEqual(self.direct(2).command("HGET", h3, "b"), b"2")

    def test_lists(self):
        l1, l2, l3 = self.one_per_server("list:")
        self.run_steps([
            (("RPUSH", l1, "a", "b", "c"), 3),
            (("LPUSH", l1, "z"), 4),
            (("LRANGE", l1, 0, -1), [b"z", b"a", b"b", b"c"]),
            (("LLEN", l1), 4),
            (("LINDEX", l1, 1), b"a"),
            (("LSET", l1, 1, "A"), "OK"),
            (("LINSERT", l1, "BEFORE", "b", "ab"), 5),
            (("LPOS", l1, "b"), 3),
            (("LREM", l1, 0, "ab"), 1),
            (("LTRIM", l1, 0, 2), "OK"),
            (("LRANGE", l1, 0, -1), [b"z", b"A", b"b"]),
            (("LPOP", l1), b"z"),
            (("RPOP", l1), b"b"),
            (("LPUSHX", l2, "x"), 0),
            (("RPUSHX", l1, "q"), 2),
            (("LPOP", l1, 5), [b"A", b"q"]),
            (("LPOP", l1), None),
            (("RPUSH", l2, "1", "2", "3"), 3),
            (("RPOP", l2, 2), [b"3", b"2"]),
            (("LSET", l3, 0, "x"), RespError("ERR no such key")),
            (("RPUSH", l3, "only"), 1),
        ])
        self.assert_placed({l2: 1, l3: 2})
        self.assertEqual(self.direct(1).command("LRANGE", l2, 0, -1), [b"1"])

    def test_sets(self):
        s1, s2, s3 = self.one_per_server("set:")
        self.run_steps([
            (("SADD", s1, "a", "b", "c", "a"), 3),
            (("SCARD", s1), 3),
            (("SISMEMBER", s1, "b"), 1),
            (("SMISMEMBER", s1, "a", "x"), [1, 0]),
            (("SREM", s1, "b", "x"), 1),
            (("SMEMBERS", s1), same_items([b"a", b"c"])),
            (("SADD", s2, "only"), 1),
            (("SPOP", s2), b"only"),
            (("SRANDMEMBER", s2), None),
            (("SADD", s2, "one"), 1),
            (("SRANDMEMBER", s2), b"one"),
            (("SRANDMEMBER", s2, 2), [b"one"]),
            (("SSCAN", s2, 0), [b"0", [b"one"]]),
            (("SADD", s3, "1", "2", "3"), 3),
            (("SPOP", s3, 3), same_items([b"1", b"2", b"3"])),
            (("SCARD", s3), 0),
        ])
        self.assert_placed({s1: 0, s2: 1})

    def test_sorted_sets(self):
        z1, z2, z3 = self.one_per_server("zset:")
        self.run_steps([
            (("ZADD", z1, 1, "a", 2, "b", 3, "c"), 3),
            (("ZSCORE", z1, "b"), b"2"),
            (("ZINCRBY", z1, "1.5", "a"), b"2.5"),
            (("ZRANK", z1, "a"), 1),
            (("ZREVRANK", z1, "a"), 1),
            (("ZCARD", z1), 3),
            (("ZCOUNT", z1, 2, 3), 3),
            (("ZRANGE", z1, 0, -1, "WITHSCORES"), [b"b", b"2", b"a", b"2.5", b"c", b"3"]),
            (("ZRANGEBYSCORE", z1, "(2", "+inf"), [b"a", b"c"]),
            (("ZREVRANGE", z1, 0, 0), [b"c"]),
            (("ZREM", z1, "c", "x"), 1),
            (("ZPOPMIN", z1), [b"b", b"2"]),
            (("ZMSCORE", z1, "a", "x"), [b"2.5", None]),
            (("ZADD", z2, "NX", 5, "m"), 1),
            (("ZADD", z2, "XX", "CH", 6, "m"), 1),
            (("ZLEXCOUNT", z2, "-", "+"), 1),
            (("ZREMRANGEBYSCORE", z2, 0, 10), 1),
            (("ZADD", z3, 1, "x", 1, "y"), 2),
            (("ZRANGEBYLEX", z3, "-", "+"), [b"x", b"y"]),
            (("ZADD", z3, "nan", "x"), RespError("ERR value is not a valid float")),
        ])
        self.assert_placed({z1: 0, z3: 2})

    def test_hyperloglog(self):
        p1, p2, _ = self.one_per_server("hll:")
        self.run_steps([
            (("PFADD", p1, "a", "b", "c"), 1),
            (("PFADD", p1, "a"), 0),
            (("PFCOUNT", p1), 3),
            (("PFADD", p2, "x"), 1),
            (("PFCOUNT", p2), 1),
        ])
        self.assert_placed({p1: 0, p2: 1})

    def test_geo(self):
        g, _, _ = self.one_per_server("geo:")
        self.run_steps([
            (("GEOADD", g, "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
              "Catania"), 2),
            (("GEODIST", g, "Palermo", "Catania", "km"), float_near(166.2742, 0.01)),
            (("GEOHASH", g, "Palermo"), [b"sqc8b49rny0"]),
            (("GEOPOS", g, "nope"), [None]),
            (("GEOSEARCH", g, "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "ASC"),
             [b"Catania", b"Palermo"]),
            (("GEORADIUS", g, 15, 37, 200, "km", "ASC"), [b"Catania", b"Palermo"]),
            (("ZCARD", g), 2),
        ])
        pos = self.client().command("GEOPOS", g, "Palermo")
        self.assertEqual(len(pos), 1)
        self.assertAlmostEqual(float(pos[0][0]), 13.361389, places=4)
        self.assertAlmostEqual(float(pos[0][1]), 38.115556, places=4)
        self.assert_placed({g: 0})

    def test_eval_and_evalsha_route_by_first_key(self):
        keys = self.one_per_server("lua:")
        script = "return redis.call('SET', KEYS[1], ARGV[1])"
        sha = hashlib.sha1(script.encode()).hexdigest()
        conns = self.conns()
        # EVAL on server 0's key only: the script is then cached on server 0 alone
        self.assertEqual(conns[0].command("EVAL", script, 1, keys[0], "v0"), "OK")
        self.assert_placed({keys[0]: 0})
        other0 = self.keys_by_server("lua-other:", 1)[0][0]
        self.assertEqual(conns[1].command("EVALSHA", sha, 1, other0, "w"), "OK")
        self.assertEqual(conns[2].command("GET", other0), b"w")
        for i in (1, 2):
            got = conns[i].command("EVALSHA", sha, 1, keys[i], "x")
            self.assertTrue(isinstance(got, RespError) and got.startswith("NOSCRIPT"),
                            "EVALSHA for server %d's key went elsewhere: %r" % (i, got))
        for i, k in enumerate(keys):
            self.assertEqual(conns[i].command("EVAL", "return redis.call('GET', KEYS[1])", 1,
                                              k), b"v0" if i == 0 else None)
        self.assertEqual(conns[3].command("EVAL", "return {KEYS[1], ARGV[1], ARGV[2]}", 1,
                                          keys[1], "a", "b"), [keys[1].encode(), b"a", b"b"])
        self.assertEqual(conns[3].command("EVAL", "return redis.call('INCR', KEYS[1])", 1,
                                          keys[2]), 1)
        self.assert_placed({keys[0]: 0, other0: 0, keys[2]: 2})

    @ringproxy_only("closes the connection on EVAL with numkeys 0")
    def test_eval_without_keys_is_an_error(self):
        c = self.client()
        for args in (("EVAL", "return 1", 0), ("EVALSHA", "0" * 40, 0)):
            got = c.command(*args)
            self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"),
                            "%r: %r" % (args, got))
            self.assert_usable(c)


# ---------------------------------------------------------------------------------------------
# placement


class PlacementTests(RedisCase):
    """Keys set through the proxy are each on exactly one server, found again through every
    connection, and on the server `ringproxy --route` names and nutcracker would pick."""

    NKEYS = 300

    def keys(self):
        return [spread_key("place:", i) for i in range(self.NKEYS)] + \
            ["{user%d}.name" % i for i in range(20)] + ["plain", "a", "x" * 300]

    def set_through_proxy(self, keys):
        conns = self.conns()
        for n, k in enumerate(keys):
            conns[n % len(conns)].send_command("SET", k, "v:" + k[:50])
        for n, k in enumerate(keys):
            self.assertEqual(conns[n % len(conns)].read_reply(), "OK", k)
        return conns

    def test_each_key_on_exactly_one_server(self):
        keys = self.keys()
        conns = self.set_through_proxy(keys)
        where = self.fleet.locate(keys)
        bad = {k: v for k, v in where.items() if len(v) != 1}
        self.assertEqual(bad, {}, "keys not on exactly one server")
        used = {v[0] for v in where.values()}
        self.assertEqual(used, set(range(NSERVERS)), "keys did not spread over every server")
        for n, k in enumerate(keys):
            c = conns[(n + 1) % len(conns)]     # another connection than the one that set it
            self.assertEqual(c.command("GET", k), ("v:" + k[:50]).encode(), k)

    @ringproxy_only("nutcracker has no --route")
    def test_placement_matches_route(self):
        keys = self.keys()
        self.set_through_proxy(keys)
        routed = self.fleet.route(keys)
        self.assert_placed(routed)

    @ringproxy_only("compares ringproxy with nutcracker")
    def test_placement_matches_nutcracker(self):
        """The same pool under the real nutcracker puts the same keys (binary ones included,
        which only redis allows) on the same servers."""
        nc = shutil.which("nutcracker") or ("/usr/sbin/nutcracker"
                                            if os.path.exists("/usr/sbin/nutcracker") else None)
        if nc is None:
            self.skipTest("nutcracker is not installed")
        rng = random.Random(7)
        keys = [k.encode() for k in self.keys()] + \
            [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40))) for _ in range(200)] + \
            [b"a b", b"\r\n", b"{\xff}x", b"\x00"]
        keys = list(dict.fromkeys(keys))
        mine = self.place_through(self.fleet.port, keys)
        self.fleet.flushall()
        pools = {"nc": self.fleet.pool()}
        proxy = rp.start_ringproxy(pools, binary=nc)
        self.addCleanup(proxy.terminate)
        theirs = self.place_through(proxy.pools["nc"], keys)
        diff = [(k, mine[k], theirs[k]) for k in keys if mine[k] != theirs[k]]
        self.assertEqual(diff[:10], [], "%d of %d keys placed differently from nutcracker: "
                         "(key, ringproxy, nutcracker)" % (len(diff), len(keys)))

    def place_through(self, port, keys):
        with RespClient(port) as c:
            c.send(b"".join(resp_encode("SET", k, "v") for k in keys))
            replies = c.read_replies(len(keys), timeout=30)
        self.assertEqual([r for r in replies if r != "OK"], [])
        where = self.fleet.locate(keys)
        self.assertEqual({k: v for k, v in where.items() if len(v) != 1}, {})
        return {k: v[0] for k, v in where.items()}


class NamedModulaPlacementTests(PlacementTests):
    """The same with named servers and modula distribution (own fleet)."""

    @classmethod
    def make_fleet(cls):
        return RedisFleet(NSERVERS, workers=WORKERS, names=["red-a", "red-b", "red-c"],
                          distribution="modula", hash_tag="{}").start()


# ---------------------------------------------------------------------------------------------
# multi-key commands that the proxy splits


class MultiKeyTests(RedisCase):
    """MGET, MSET, DEL, UNLINK, TOUCH, EXISTS with keys on every server."""

    def setUp(self):
        RedisCase.setUp(self)
        by = self.keys_by_server("mk:", 2)
        self.k = [by[0][0], by[1][0], by[2][0], by[0][1], by[1][1], by[2][1]]
        self.owner = {k: i % NSERVERS for i, k in enumerate(self.k)}

    def set_all(self):
        c = self.client()
        for k in self.k:
            self.assertEqual(c.command("SET", k, "val-" + k), "OK")

    def test_mget_across_servers_in_key_order(self):
        self.set_all()
        k = self.k
        ask = [k[0], "mk:missing1", k[1], k[2], k[3], "mk:missing2", k[4], k[0], k[5]]
        want = [None if key.startswith("mk:missing") else ("val-" + key).encode() for key in ask]
        for c in self.conns():
            self.assertEqual(c.command("MGET", *ask), want)
            self.assertEqual(c.command("MGET", k[2]), [("val-" + k[2]).encode()])
            self.assertEqual(c.command("MGET", "mk:missing1", "mk:missing2"), [None, None])

    def test_mget_with_a_wrong_type_key_gives_nil(self):
        c = self.client()
        self.assertEqual(c.command("RPUSH", self.k[1], "x"), 1)
        self.assertEqual(c.command("SET", self.k[2], "v"), "OK")
        self.assertEqual(c.command("MGET", self.k[0], self.k[1], self.k[2]), [None, None, b"v"])

    def test_mset_across_servers(self):
        conns = self.conns()
        pairs = []
        for k in self.k:
            pairs += [k, "m-" + k]
        self.assertEqual(conns[0].command("MSET", *pairs), "OK")
        for i, k in enumerate(self.k):
            self.assertEqual(conns[1 + i % 3].command("GET", k), ("m-" + k).encode())
        self.assert_placed(self.owner)
        for k, i in self.owner.items():
            with self.fleet.direct(i) as d:
                self.assertEqual(d.command("GET", k), ("m-" + k).encode())
        # the same key twice: the last value wins, as in redis
        self.assertEqual(conns[2].command("MSET", self.k[0], "one", self.k[1], "x",
                                          self.k[0], "two"), "OK")
        self.assertEqual(conns[3].command("MGET", self.k[0], self.k[1]), [b"two", b"x"])

    def test_del_unlink_touch_sum_across_servers(self):
        conns = self.conns()
        for verb in ("DEL", "UNLINK"):
            self.set_all()
            self.assertEqual(conns[0].command(verb, self.k[0], self.k[1], self.k[2],
                                              "mk:missing"), 3, verb)
            self.assertEqual(conns[1].command(verb, self.k[3], self.k[4], self.k[3]), 2, verb)
            self.assertEqual(self.fleet.owners(self.k), {self.k[5]: 2}, verb)
            self.assertEqual(conns[2].command(verb, "mk:missing"), 0, verb)
            self.assertEqual(conns[3].command(verb, self.k[5]), 1, verb)
        self.set_all()
        self.assertEqual(conns[0].command("TOUCH", *self.k), 6)
        self.assertEqual(conns[1].command("TOUCH", self.k[0], "mk:missing", self.k[2]), 2)
        self.assertEqual(conns[2].command("TOUCH", self.k[1], self.k[1]), 2)   # as redis counts
        self.assertEqual(len(self.fleet.owners(self.k)), 6, "TOUCH deleted something")

    @ringproxy_only("does not split EXISTS: it asks the first key's server about every key")
    def test_exists_sums_and_counts_duplicates(self):
        self.set_all()
        k = self.k
        for c in self.conns():
            self.assertEqual(c.command("EXISTS", *k), 6)
            self.assertEqual(c.command("EXISTS", k[0], k[1], k[0]), 3)    # duplicates count
            self.assertEqual(c.command("EXISTS", k[1], "mk:missing", k[2], k[2]), 3)
            self.assertEqual(c.command("EXISTS", "mk:missing"), 0)

    @ringproxy_only("closes the connection on MSET with a key missing its value")
    def test_multi_key_errors_of_arity(self):
        c = self.client()
        for args in (("MSET", self.k[0]), ("MSET", self.k[0], "v", self.k[1])):
            got = c.command(*args)
            self.assertEqual(got, RespError("ERR wrong number of arguments for 'mset' command"),
                             args)
        self.assertEqual(self.fleet.owners(self.k), {}, "a bad MSET wrote something")


# ---------------------------------------------------------------------------------------------
# hash tags and multi-key commands that cannot be split


def tagged_keys(tag, names):
    return ["{%s}.%s" % (tag, n) for n in names]


class HashTagTests(RedisCase):
    """hash_tag "{}": keys with the same tag are on one server, so multi-key commands between
    them work."""

    def test_tagged_keys_share_a_server(self):
        c = self.client()
        groups = {t: tagged_keys(t, "abcdef") for t in (spread_key("user", i) for i in range(12))}
        for keys in groups.values():
            for k in keys:
                self.assertEqual(c.command("SET", k, "1"), "OK")
        servers = set()
        for t, keys in groups.items():
            where = self.fleet.locate(keys)
            self.assertEqual(len({tuple(v) for v in where.values()}), 1,
                             "tag %s spread over %r" % (t, where))
            self.assertEqual(len(where[keys[0]]), 1)
            servers.add(where[keys[0]][0])
        self.assertGreater(len(servers), 1, "twelve tags all on one server")

    def test_multi_key_commands_within_a_tag(self):
        a, b, d, e = tagged_keys("user1", ["a", "b", "d", "e"])
        h1, h2, h3 = tagged_keys("user1", ["h1", "h2", "h3"])
        self.run_steps([
            (("RPUSH", a, "1", "2", "3"), 3),
            (("RPOPLPUSH", a, b), b"3"),
            (("LMOVE", a, b, "LEFT", "RIGHT"), b"1"),
            (("LRANGE", b, 0, -1), [b"3", b"1"]),
            (("SADD", d, "x", "y", "z"), 3),
            (("SADD", e, "y", "z", "w"), 3),
            (("SMOVE", d, e, "x"), 1),
            (("SINTERSTORE", h1, d, e), 2),
            (("SMEMBERS", h1), same_items([b"y", b"z"])),
            (("SUNIONSTORE", h2, d, e), 4),
            (("SDIFF", e, d), same_items([b"w", b"x"])),
            (("SINTER", d, e), same_items([b"y", b"z"])),
            (("DEL", h1, h2), 2),
            (("ZADD", h1, 1, "p", 2, "q"), 2),
            (("ZADD", h2, 10, "q"), 1),
            (("ZUNIONSTORE", h3, 2, h1, h2), 2),
            (("ZRANGE", h3, 0, -1, "WITHSCORES"), [b"p", b"1", b"q", b"12"]),
            (("ZINTERSTORE", h3, 2, h1, h2, "WEIGHTS", 1, 2), 1),
            (("ZRANGE", h3, 0, -1, "WITHSCORES"), [b"q", b"22"]),
            (("DEL", h1, h2, h3), 3),
            (("PFADD", h1, "a", "b"), 1),
            (("PFADD", h2, "b", "c"), 1),
            (("PFMERGE", h3, h1, h2), "OK"),
            (("PFCOUNT", h3), 3),
            (("PFCOUNT", h1, h2), 3),
            (("MSET", h1, "1", h2, "2"), "OK"),
            (("MGET", h2, a, h1), [b"2", None, b"1"]),
            (("EVAL", "return {KEYS[1], KEYS[2]}", 2, a, b), [a.encode(), b.encode()]),
            (("EVAL", "return redis.call('RPOPLPUSH', KEYS[1], KEYS[2])", 2, b, d),
             err_prefix("WRONGTYPE")),
        ])
        keys = [b, d, e, h1, h2, h3]
        where = self.fleet.locate(keys)
        self.assertEqual(len({tuple(v) for v in where.values()}), 1, where)

    @ringproxy_only("closes the connection on RENAME")
    def test_rename_within_a_tag(self):
        a, h1, h2 = tagged_keys("user2", ["a", "h1", "h2"])
        self.run_steps([
            (("SET", h1, "v"), "OK"),
            (("RENAME", h1, h2), "OK"),
            (("GET", h2), b"v"),
            (("RENAMENX", h2, a), 1),
            (("MGET", a, h2), [b"v", None]),
        ])
        self.assertEqual(len(self.fleet.owners([a])), 1)


class CrossServerTests(RedisCase):
    """A multi-key command the proxy cannot split, with keys on different servers, gets an
    -ERR reply and writes nothing (nutcracker sends it to the first key's server, which reads or
    writes the wrong data)."""

    @ringproxy_only("sends a multi-key command to the first key's server")
    def test_cross_server_multi_key_commands_are_errors(self):
        x, y, z = self.one_per_server("xs:")
        c = self.client()
        self.assertEqual(c.command("RPUSH", x, "1"), 1)
        self.assertEqual(c.command("SADD", y, "m"), 1)
        self.assertEqual(c.command("SET", z, "v"), "OK")
        before = self.fleet.owners([x, y, z])
        dest = self.keys_by_server("xs-dest:", 1)
        d1, d2 = dest[1][0], dest[2][0]          # destinations on servers other than x's
        cases = [
            ("RPOPLPUSH", x, d1),
            ("LMOVE", x, d1, "LEFT", "RIGHT"),
            ("SMOVE", y, d2, "m"),
            ("SINTERSTORE", d1, x, y),
            ("SUNIONSTORE", d2, y, x),
            ("SDIFFSTORE", d1, y, z),
            ("SINTER", x, y),
            ("SUNION", y, z),
            ("SDIFF", z, x),
            ("ZUNIONSTORE", d1, 2, x, y),
            ("ZINTERSTORE", d2, 2, y, z),
            ("PFMERGE", d1, x, y),
            ("PFCOUNT", x, y),
            ("RENAME", x, d1),
            ("RENAMENX", z, d1),
            ("BITOP", "AND", d2, x, z),
            ("EVAL", "return redis.call('GET', KEYS[2])", 2, x, z),
            ("MSETNX", d1, "1", d2, "2"),
        ]
        for args in cases:
            got = c.command(*args)
            self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"),
                            "%r: got %r, want an -ERR reply" % (args, got))
            self.assert_usable(c)
        self.assertEqual(self.fleet.owners([x, y, z, d1, d2]), before,
                         "a refused command wrote something")
        self.assertEqual(c.command("LRANGE", x, 0, -1), [b"1"])
        self.assertEqual(c.command("SMEMBERS", y), [b"m"])


# ---------------------------------------------------------------------------------------------
# pipelines


class Model:
    """What redis answers to the generated pipeline commands (strings only)."""

    def __init__(self):
        self.data = {}

    def run(self, args):
        verb = args[0]
        if verb == "SET":
            self.data[args[1]] = args[2].encode()
            return b"+OK\r\n"
        if verb == "GET":
            return self.bulk(self.data.get(args[1]))
        if verb == "INCR":
            v = int(self.data.get(args[1], b"0")) + 1
            self.data[args[1]] = b"%d" % v
            return b":%d\r\n" % v
        if verb == "MGET":
            return b"*%d\r\n" % (len(args) - 1) + b"".join(self.bulk(self.data.get(k))
                                                           for k in args[1:])
        if verb == "DEL":
            n = 0
            for k in dict.fromkeys(args[1:]):
                n += self.data.pop(k, None) is not None
            return b":%d\r\n" % n
        raise ValueError(verb)

    @staticmethod
    def bulk(v):
        return b"$-1\r\n" if v is None else b"$%d\r\n%s\r\n" % (len(v), v)


def gen_pipeline(rng, n, prefix):
    keys = [spread_key(prefix, i) for i in range(300)]
    counters = [spread_key(prefix + "ctr", i) for i in range(7)]
    cmds = []
    for i in range(n):
        r = rng.random()
        if r < 0.3:
            cmds.append(("SET", rng.choice(keys), "v%d-%s" % (i, "x" * rng.randint(0, 60))))
        elif r < 0.6:
            cmds.append(("GET", rng.choice(keys)))
        elif r < 0.75:
            cmds.append(("INCR", rng.choice(counters)))
        elif r < 0.93:
            cmds.append(("MGET",) + tuple(rng.choice(keys) for _ in range(rng.randint(1, 6))))
        else:
            cmds.append(("DEL",) + tuple(rng.choice(keys) for _ in range(rng.randint(1, 3))))
    return cmds


class PipelineTests(RedisCase):
    """Many commands in one write: every reply, in order, byte for byte."""

    def check_pipeline(self, c, cmds, timeout=60.0):
        model = Model()
        want = b"".join(model.run(a) for a in cmds)
        request = b"".join(resp_encode(*a) for a in cmds)
        got = run_pipeline(c, request, len(want), timeout=timeout)
        if got != want:
            i = next(i for i in range(min(len(got), len(want))) if got[i] != want[i])
            self.fail("pipeline replies differ at byte %d of %d:\n  got:  %r\n  want: %r"
                      % (i, len(want), got[max(0, i - 100):i + 100],
                         want[max(0, i - 100):i + 100]))
        return model

    def test_10000_commands_in_one_write(self):
        cmds = gen_pipeline(random.Random(1), 10000, "pipe:")
        model = self.check_pipeline(self.client(timeout=60.0), cmds)
        owners = self.fleet.owners(list(model.data))
        self.assertEqual(set(owners), set(model.data))
        self.assertEqual(set(owners.values()), set(range(NSERVERS)))

    def test_concurrent_pipelines_on_several_connections(self):
        def one(i):
            c = rp.RespClient(self.fleet.port, timeout=60.0)
            try:
                cmds = gen_pipeline(random.Random(100 + i), 1500, "cpipe%d:" % i)
                model = Model()
                want = b"".join(model.run(a) for a in cmds)
                got = run_pipeline(c, b"".join(resp_encode(*a) for a in cmds), len(want), 60)
                rp.expect(got == want, "client %d: replies differ" % i)
            finally:
                c.close()
        errors = rp.run_threads(one, 8, 90)
        self.assertEqual(errors, [])


# ---------------------------------------------------------------------------------------------
# binary data and big values


class BinaryTests(RedisCase):
    """Keys and values with every byte value, CRLF inside; values of 1 MiB and 64 MiB."""

    def test_every_byte_value_in_keys_and_values(self):
        keys = [bytes([b]) for b in range(256)] + [bytes(range(256)), b"k\r\nx", b"\r\n",
                                                   b"*1\r\n$4\r\nPING\r\n", b""]
        values = [bytes(range(256)) * 3, b"\r\n", b"a\r\nb\r\n", b"", b"$-1\r\n", b"\x00" * 10]
        conns = self.conns()
        expected = {}
        for n, k in enumerate(keys):
            v = values[n % len(values)] + k
            expected[k] = v
            self.assertEqual(conns[n % NCONNS].command("SET", k, v), "OK", k)
        for n, k in enumerate(keys):
            self.assertEqual(conns[(n + 1) % NCONNS].command("GET", k), expected[k], k)
        where = self.fleet.locate(keys)
        # (no check that they spread: fnv1a_64 puts one-byte keys on a narrow arc of the ring)
        self.assertEqual({k: v for k, v in where.items() if len(v) != 1}, {})
        for k, v in where.items():
            with self.fleet.direct(v[0]) as d:
                self.assertEqual(d.command("GET", k), expected[k], k)
        self.assertEqual(conns[0].command("MGET", *keys[:40]), [expected[k] for k in keys[:40]])
        self.assertEqual(conns[1].command("HSET", keys[13], b"\r\n", b"\x00\xff"), WRONGTYPE)
        self.assertEqual(conns[2].command("DEL", *keys), len(keys))

    def big_value_roundtrip(self, size, timeout):
        key = self.one_per_server("big:")[1]
        value = random.Random(size).randbytes(size)
        c = self.client(timeout=timeout)
        self.assertEqual(c.command("SET", key, value), "OK")
        self.assertEqual(c.command("STRLEN", key), size)
        got = c.command("GET", key)
        self.assertEqual(len(got), size)
        self.assertTrue(got == value, "the value read back differs")
        with self.fleet.direct(1) as d:
            d.timeout = timeout
            self.assertEqual(d.command("GETRANGE", key, size - 16, -1), value[-16:])
        self.assertEqual(self.client().command("GETRANGE", key, 0, 15), value[:16])
        self.assertEqual(c.command("DEL", key), 1)

    def test_1mib_value(self):
        self.big_value_roundtrip(MIB, 10)

    def test_64mib_value(self):
        self.big_value_roundtrip(64 * MIB, 60)


# ---------------------------------------------------------------------------------------------
# inline commands


@ringproxy_only("closes the connection on inline commands")
class InlineTests(RedisCase):
    """Inline commands (a line of words, as telnet sends) are answered as redis answers them."""

    def test_inline_ping(self):
        c = self.client()
        c.send(b"PING\r\n")
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")
        c.send(b"ping\n")
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")

    def test_inline_set_get(self):
        k = self.one_per_server("inl:")[2]
        c = self.client()
        c.send(b"SET %s v\r\n" % k.encode())
        self.assertEqual(c.read_reply(), "OK")
        c.send(b"GET %s\r\n" % k.encode())
        self.assertEqual(c.read_raw_reply(), b"$1\r\nv\r\n")
        self.assert_placed({k: 2})

    def test_inline_quoted_args(self):
        c = self.client()
        c.send(b'SET "inline key" \'single q\'\r\n')
        self.assertEqual(c.read_reply(), "OK")
        self.assertEqual(c.command("GET", "inline key"), b"single q")
        c.send(b'SET "esc\\x41\\r\\n\\"" "a\\tb"\r\n')
        self.assertEqual(c.read_reply(), "OK")
        self.assertEqual(c.command("GET", 'escA\r\n"'), b"a\tb")
        c.send(b'SET "unbalanced x\r\n')
        self.assertEqual(c.read_raw_reply(),
                         b"-ERR Protocol error: unbalanced quotes in request\r\n")
        self.assertTrue(c.is_closed(timeout=3))

    @ringproxy_only("what reaches a client that the proxy closes is ringproxy's guarantee")
    def test_replies_before_a_protocol_error_all_arrive(self):
        # 100 pipelined GETs of a 60 KB value, a request redis cannot frame, then a trickle of
        # bytes; the client reads slowly through a 64 KiB buffer: every reply, then the error,
        # then the close (a plain close with the trickle unread would reset the connection
        # and the kernel would drop the replies still queued)
        k = self.one_per_server("lingr:")[1]
        value = random.Random(k).randbytes(60000)
        self.assertEqual(self.client().command("SET", k, value), "OK")
        c = self.client(timeout=10, rcvbuf=65536)
        done = threading.Event()

        def send():
            try:
                c.sock.sendall(resp_encode("GET", k) * 100 + b"*x\r\n")
                while not done.wait(0.005):
                    c.sock.sendall(b"y" * 1024)
            except OSError:
                pass       # closed: what the reader got tells whether it was right

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        got, end = rp.paced_read_all(c.sock, 0.002, 60)
        done.set()
        sender.join(10)
        want = b"$60000\r\n" + value + b"\r\n"
        self.assertIn(end, ("eof", "reset"))
        self.assertTrue(got.startswith(want * 100), "closed (%s) after %d bytes of the %d of "
                        "the 100 replies" % (end, len(got), len(want) * 100))
        self.assertTrue(got[len(want) * 100:].startswith(b"-ERR Protocol error: "),
                        got[len(want) * 100:][:200])

    def test_inline_and_multibulk_in_one_pipeline(self):
        keys = self.one_per_server("inlp:")
        c = self.client()
        data = b""
        for i, k in enumerate(keys):
            data += b"SET %s %d\r\n" % (k.encode(), i) + resp_encode("INCR", k) + b"\r\n"
        data += b"MGET " + b" ".join(k.encode() for k in keys) + b"\n"
        c.send(data)
        self.assertEqual(c.read_replies(2 * len(keys) + 1),
                         sum(([rp.RespStatus("OK"), i + 1] for i in range(len(keys))), []) +
                         [[b"%d" % (i + 1) for i in range(len(keys))]])
        self.assert_placed({k: i for i, k in enumerate(keys)})


# ---------------------------------------------------------------------------------------------
# commands the proxy answers itself


class LocalCommandTests(RedisCase):
    """PING, ECHO, QUIT, SELECT, HELLO, COMMAND, CLIENT, INFO, AUTH without redis_auth."""

    def test_ping(self):
        for c in self.conns():
            c.send(resp_encode("PING"))
            self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")

    @ringproxy_only("closes the connection on PING with an argument and on ECHO")
    def test_ping_message_and_echo(self):
        c = self.client()
        c.send(resp_encode("PING", "hello there"))
        self.assertEqual(c.read_raw_reply(), b"$11\r\nhello there\r\n")
        c.send(resp_encode("ECHO", b"\r\n\x00x"))
        self.assertEqual(c.read_raw_reply(), b"$4\r\n\r\n\x00x\r\n")
        c.send(resp_encode("ECHO", ""))
        self.assertEqual(c.read_raw_reply(), b"$0\r\n\r\n")

    @ringproxy_only("closes the connection on QUIT without +OK")
    def test_quit(self):
        c = self.client()
        c.send(resp_encode("QUIT") + resp_encode("PING"))
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")
        self.assertTrue(c.is_closed(timeout=3), "still open after QUIT")

    @ringproxy_only("closes the connection on SELECT")
    def test_select(self):
        c = self.client()
        self.assertEqual(c.command("SELECT", 0), "OK")
        got = c.command("SELECT", 1)
        self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"), repr(got))
        self.assert_usable(c)

    @ringproxy_only("closes the connection on HELLO")
    def test_hello(self):
        c = self.client()
        for args in (("HELLO",), ("HELLO", 2)):
            got = c.command(*args)
            self.assertIsInstance(got, list, "%r: %r" % (args, got))
            self.assertEqual(len(got) % 2, 0, "%r: not name/value pairs: %r" % (args, got))
            fields = dict(zip(got[::2], got[1::2]))
            self.assertEqual(fields.get(b"proto"), 2, got)
        c.send(resp_encode("HELLO", 3))
        raw = c.read_raw_reply()
        self.assertTrue(raw.startswith(b"-NOPROTO"), raw)
        c.send(resp_encode("PING"))
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n", "not RESP2 after HELLO 3")

    def test_command(self):
        got = self.client(timeout=10).command("COMMAND")
        self.assertIsInstance(got, list)
        self.assertGreater(len(got), 0)

    @ringproxy_only("closes the connection on COMMAND COUNT and COMMAND DOCS")
    def test_command_count_and_docs(self):
        c = self.client(timeout=10)
        n = c.command("COMMAND", "COUNT")
        self.assertIsInstance(n, int)
        self.assertGreater(n, 0)
        docs = c.command("COMMAND", "DOCS")
        self.assertNotIsInstance(docs, RespError)
        self.assertIsInstance(docs, list)
        docs = c.command("COMMAND", "DOCS", "get")
        self.assertNotIsInstance(docs, RespError)
        self.assert_usable(c)

    @ringproxy_only("closes the connection on CLIENT")
    def test_client_setname_getname_per_connection(self):
        conns = self.conns()
        self.assertEqual(conns[0].command("CLIENT", "GETNAME"), None)
        for i, c in enumerate(conns):
            self.assertEqual(c.command("CLIENT", "SETNAME", "conn-%d" % i), "OK")
        for i, c in reversed(list(enumerate(conns))):
            self.assertEqual(c.command("CLIENT", "GETNAME"), b"conn-%d" % i)
        self.assertEqual(self.client().command("CLIENT", "GETNAME"), None)

    @ringproxy_only("closes the connection on CLIENT")
    def test_client_reply_off_is_an_error(self):
        c = self.client()
        for mode in ("OFF", "SKIP"):
            got = c.command("CLIENT", "REPLY", mode)
            self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"), repr(got))
            self.assert_usable(c)

    @ringproxy_only("closes the connection on INFO")
    def test_info(self):
        c = self.client()
        c.send(resp_encode("INFO"))
        raw = c.read_raw_reply()
        self.assertTrue(raw.startswith(b"$"), raw[:100])
        self.assertIsInstance(c.command("INFO", "server"), bytes)

    def test_auth_without_redis_auth_is_an_error(self):
        c = self.client()
        got = c.command("AUTH", "whatever")
        self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"), repr(got))
        self.assert_usable(c)
        self.assertEqual(c.command("SET", "auth:k", "v"), "OK")


# ---------------------------------------------------------------------------------------------
# error replies


UNSUPPORTED = [("KEYS", "*"), ("SCAN", 0), ("MULTI",), ("EXEC",), ("WATCH", "k"), ("BLPOP", "l", 1),
               ("BRPOPLPUSH", "a", "b", 1), ("SUBSCRIBE", "ch"), ("PSUBSCRIBE", "c*"),
               ("PUBLISH", "ch", "m"), ("CONFIG", "GET", "maxmemory"), ("FLUSHALL",),
               ("DBSIZE",), ("RANDOMKEY",), ("MONITOR",), ("WAIT", 0, 0)]


@ringproxy_only("closes the connection on unsupported and unknown commands, wrong arity and "
                "protocol errors, without a reply")
class ErrorReplyTests(RedisCase):
    """Unsupported, unknown, wrong arity: an error reply and the connection stays open. Protocol
    errors: redis-server's own error line, then the connection is closed."""

    def test_unsupported_commands(self):
        c = self.client()
        for args in UNSUPPORTED:
            c.send(resp_encode(*args))
            raw = c.read_raw_reply()
            self.assertTrue(raw.startswith(b"-ERR unsupported command"), "%r: %r" % (args, raw))
            self.assert_usable(c)
        self.assertEqual(c.command("SET", "unsup:k", "v"), "OK")
        self.assertTrue(c.command("FLUSHALL").startswith("ERR unsupported command"))
        self.assertIn("unsup:k", self.fleet.owners(["unsup:k"]), "FLUSHALL went through")

    def test_unknown_command(self):
        c = self.client()
        for args in (("FOOBAR",), ("NOSUCHCMD", "a", "b"), (b"\xff\x00",)):
            c.send(resp_encode(*args))
            raw = c.read_raw_reply()
            self.assertTrue(raw.startswith(b"-ERR unknown command"), "%r: %r" % (args, raw))
            self.assert_usable(c)
        with self.fleet.direct(0) as d:
            for args in (("FOOBAR",), ("NOSUCHCMD", "a", "b")):
                d.send(resp_encode(*args))
                c.send(resp_encode(*args))
                self.assertEqual(c.read_raw_reply(), d.read_raw_reply(), args)

    def test_wrong_arity(self):
        c = self.client()
        for args in (("GET",), ("GET", "a", "b"), ("get",), ("gEt", "x", "y", "z")):
            c.send(resp_encode(*args))
            self.assertEqual(c.read_raw_reply(),
                             b"-ERR wrong number of arguments for 'get' command\r\n", args)
            self.assert_usable(c)
        with self.fleet.direct(0) as d:
            for args in (("SET", "k"), ("HSET", "h", "f"), ("MGET",), ("DEL",), ("EXISTS",),
                         ("MSET",), ("ZADD", "z"), ("EVAL", "return 1"), ("LPUSH", "l"),
                         ("INCR",), ("EXPIRE", "k")):
                d.send(resp_encode(*args))
                c.send(resp_encode(*args))
                self.assertEqual(c.read_raw_reply(), d.read_raw_reply(), args)
                self.assert_usable(c)

    def test_protocol_errors_as_redis(self):
        streams = [b"*x\r\n", b"*1\r\n$x\r\n", b"*1\r\nfoo\r\n", b"*2147483648\r\n",
                   b"*1\r\n$-5\r\n", b"*2\r\n$3\r\nGET\r\n:1\r\n",
                   b"PING\r\n*1\r\n$4\r\nPING\r\n*y\r\n",
                   b"*1\r\n$4\r\nPING\r\n*1\r\n$999999999999\r\n"]
        for data in streams:
            with self.fleet.direct(0) as d:
                d.send(data)
                want = d.read_until_close(timeout=5)
            c = rp.RespClient(self.fleet.port)
            try:
                c.send(data)
                got = c.read_until_close(timeout=5)
            finally:
                c.close()
            self.assertTrue(want.endswith(b"\r\n") and b"-ERR Protocol error: " in want, want)
            self.assertEqual(got, want, "stream %r" % data)


# ---------------------------------------------------------------------------------------------
# redis_auth and redis_db


class AuthTests(RedisCase):
    """A pool with redis_auth over servers with the same requirepass: clients must AUTH with
    it; the proxy authenticates its own server connections."""

    @classmethod
    def make_fleet(cls):
        return RedisFleet(NSERVERS, workers=WORKERS, redis_auth=PASSWORD,
                          server_password=PASSWORD).start()

    @ringproxy_only("answers \"-NOAUTH Authentication required\" without the final period")
    def test_noauth_before_auth(self):
        c = self.client()
        for args in (("GET", "a"), ("SET", "a", "b"), ("MGET", "a", "b"), ("PING",)):
            c.send(resp_encode(*args))
            self.assertEqual(c.read_raw_reply(), b"-NOAUTH Authentication required.\r\n", args)
        self.assertEqual(self.fleet.owners(["a"]), {})

    def test_commands_before_auth_are_refused(self):
        c = self.client()
        for args in (("GET", "a"), ("SET", "a", "b"), ("MGET", "a", "b")):
            got = c.command(*args)
            self.assertTrue(isinstance(got, RespError) and got.startswith("NOAUTH"),
                            "%r: %r" % (args, got))
        self.assertEqual(self.fleet.owners(["a"]), {})

    @ringproxy_only("answers a wrong AUTH with \"-ERR invalid password\"")
    def test_wrong_password(self):
        c = self.client()
        c.send(resp_encode("AUTH", "wrong"))
        raw = c.read_raw_reply()
        self.assertTrue(raw.startswith(b"-WRONGPASS"), raw)
        got = c.command("GET", "a")
        self.assertTrue(isinstance(got, RespError) and got.startswith("NOAUTH"), repr(got))

    def test_auth_then_commands_work_on_every_server(self):
        conns = self.conns()
        for c in conns:
            self.assertEqual(c.command("AUTH", PASSWORD), "OK")
        keys = [spread_key("auth:", i) for i in range(60)]
        for n, k in enumerate(keys):
            self.assertEqual(conns[n % NCONNS].command("SET", k, k), "OK", k)
        for n, k in enumerate(keys):
            self.assertEqual(conns[(n + 1) % NCONNS].command("GET", k), k.encode())
        where = self.fleet.locate(keys)
        self.assertEqual({k: v for k, v in where.items() if len(v) != 1}, {})
        self.assertEqual({v[0] for v in where.values()}, set(range(NSERVERS)))
        self.assertEqual(conns[0].command("MGET", *keys[:10]), [k.encode() for k in keys[:10]])

    def test_auth_is_per_connection(self):
        a, b = self.client(), self.client()
        self.assertEqual(a.command("AUTH", PASSWORD), "OK")
        self.assertEqual(a.command("SET", "auth:x", "1"), "OK")
        got = b.command("GET", "auth:x")
        self.assertTrue(isinstance(got, RespError) and got.startswith("NOAUTH"), repr(got))
        self.assertEqual(a.command("GET", "auth:x"), b"1")

    def test_redis_py_with_password(self):
        redis = import_redis_py()
        if redis is None:
            self.skipTest("python3-redis is not installed")
        r = redis.Redis(host=rp.HOST, port=self.fleet.port, password=PASSWORD,
                        socket_timeout=5, socket_connect_timeout=5)
        self.addCleanup(r.close)
        self.assertTrue(r.set("auth:py", "1"))
        self.assertEqual(r.get("auth:py"), b"1")


class BadServerAuthTests(RedisCase):
    """Servers whose requirepass is not the pool's redis_auth refuse the proxy's AUTH: clients
    get -ERR replies, promptly; the proxy stays up."""

    @classmethod
    def make_fleet(cls):
        return RedisFleet(NSERVERS, workers=WORKERS, redis_auth="not-" + PASSWORD,
                          server_password=PASSWORD).start()

    @ringproxy_only("passes the servers' -NOAUTH replies on")
    def test_refused_server_auth_gives_errors(self):
        c = self.client()
        self.assertEqual(c.command("AUTH", "not-" + PASSWORD), "OK")
        for round_ in range(3):
            for i in range(9):
                t0 = time.monotonic()
                got = c.command("SET", spread_key("bad:", i), "v")
                self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"),
                                "round %d: %r" % (round_, got))
                self.assertLess(time.monotonic() - t0, 3.0)
        self.assertTrue(self.fleet.proxy.alive())
        self.assertEqual(self.fleet.owners([spread_key("bad:", i) for i in range(9)]), {})

    def test_proxy_survives_refused_auth(self):
        c = self.client()
        self.assertEqual(c.command("AUTH", "not-" + PASSWORD), "OK")
        for i in range(9):
            got = c.command("GET", spread_key("bad:", i))
            self.assertIsInstance(got, RespError)
        self.assertTrue(self.fleet.proxy.alive())
        c2 = self.client()
        self.assertEqual(c2.command("AUTH", "not-" + PASSWORD), "OK")
        self.assertEqual(c2.command("PING"), "PONG")


class RedisDbTests(RedisCase):
    """redis_db 3: the proxy selects database 3 on its server connections."""

    @classmethod
    def make_fleet(cls):
        return RedisFleet(NSERVERS, workers=WORKERS, redis_db=3).start()

    def test_keys_land_in_db3(self):
        conns = self.conns()
        keys = [spread_key("db:", i) for i in range(30)]
        for n, k in enumerate(keys):
            self.assertEqual(conns[n % NCONNS].command("SET", k, "v"), "OK")
        in3 = self.fleet.locate(keys, db=3)
        self.assertEqual({k: v for k, v in in3.items() if len(v) != 1}, {})
        self.assertEqual({v[0] for v in in3.values()}, set(range(NSERVERS)))
        self.assertEqual(self.fleet.owners(keys, db=0), {}, "keys found in db 0")
        self.assertEqual(conns[1].command("MGET", *keys[:5]), [b"v"] * 5)


# ---------------------------------------------------------------------------------------------
# failures

FAIL_NAMES = ["s0", "s1", "s2"]     # placement by name: the same whatever the ports
_fail_keys = None


def failure_keys():
    """{server index: [keys]} for a pool with FAIL_NAMES (ketama over names), found once on a
    fleet of real servers, so that a pool whose server 0 is a fake backend is understood."""
    global _fail_keys
    if _fail_keys is None:
        with RedisFleet(NSERVERS, names=FAIL_NAMES, workers=WORKERS) as f:
            _fail_keys = find_keys_by_server(f, "fail:", 4, NSERVERS)
    return _fail_keys


class FailureTests(unittest.TestCase):
    """A server killed, frozen (SIGSTOP), a backend that answers garbage, a client that
    vanishes in the middle of a request: each on a fleet of its own."""

    def fleet(self, backends=None, **kwargs):
        f = RedisFleet(NSERVERS, names=FAIL_NAMES, workers=WORKERS, backends=backends,
                       pool_options={"timeout": POOL_TIMEOUT_MS}, **kwargs).start()
        self.addCleanup(f.stop)
        return f

    def setUp(self):
        self.keys = failure_keys()

    def check_served(self, c, keys, tag):
        for k in keys:
            self.assertEqual(c.command("SET", k, tag + k), "OK", k)
            self.assertEqual(c.command("GET", k), (tag + k).encode(), k)

    def check_fails_fast(self, c, key, limit):
        t0 = time.monotonic()
        got = c.command("GET", key, timeout=limit + 5)
        dt = time.monotonic() - t0
        self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"),
                        "GET %s: %r" % (key, got))
        self.assertLess(dt, limit, "GET %s took %.2fs" % (key, dt))

    def check_alive(self, f):
        problems = f.proxy.health_problems()
        self.assertEqual(problems, [], f.proxy.log_tail(3000))

    def test_killed_server(self):
        f = self.fleet()
        c = f.client()
        self.check_served(c, self.keys[0] + self.keys[1], "before:")
        f.redis[0].kill()
        for k in self.keys[0]:
            self.check_fails_fast(c, k, 2.0)
        self.check_served(c, self.keys[1] + self.keys[2], "after:")
        c2 = f.client()
        self.check_fails_fast(c2, self.keys[0][0], 2.0)
        self.check_served(c2, self.keys[2], "new:")
        self.check_alive(f)

    def test_stopped_server_times_out(self):
        f = self.fleet()
        c = f.client(timeout=15)
        self.check_served(c, self.keys[0] + self.keys[2], "before:")
        f.redis[0].stop()
        try:
            t0 = time.monotonic()
            got = c.command("GET", self.keys[0][0])
            dt = time.monotonic() - t0
            self.assertTrue(isinstance(got, RespError) and got.startswith("ERR"), repr(got))
            self.assertGreater(dt, POOL_TIMEOUT_MS / 1000.0 * 0.8, "error before the timeout")
            self.assertLess(dt, POOL_TIMEOUT_MS / 1000.0 + 2.0, "took %.2fs" % dt)
            self.check_served(f.client(), self.keys[1] + self.keys[2], "during:")
        finally:
            f.redis[0].cont()
        self.check_alive(f)

    def fake_fleet(self, mode):
        fb = rp.start_fake_backend(mode)
        self.addCleanup(fb.kill)
        return self.fleet(backends={0: fb.address}), fb

    def check_bad_backend(self, mode):
        f, fb = self.fake_fleet(mode)
        c = f.client()
        self.check_served(c, self.keys[1] + self.keys[2], "before:")
        for k in self.keys[0]:
            self.check_fails_fast(c, k, 3.0)
        c2 = f.client()
        self.check_served(c2, self.keys[1] + self.keys[2], "after:")
        self.check_fails_fast(c2, self.keys[0][1], 3.0)
        self.check_alive(f)
        self.assertGreater(fb.connections(), 0)

    def test_garbage_backend(self):
        self.check_bad_backend("garbage")

    def test_bad_resp_backend(self):
        self.check_bad_backend("respbad")

    def test_client_vanishing_mid_request(self):
        """Half a SET of a large value then close (FIN or RST), over and over, to the server
        a canary is using: the canary's every answer is right and prompt."""
        f = self.fleet()
        target = self.keys[0][0]
        canary_keys = self.keys[0][1:]
        errors, stop = [], threading.Event()
        slowest = [0.0]

        def canary():
            c = f.client(timeout=5)
            n = 0
            try:
                while not stop.is_set():
                    k = canary_keys[n % len(canary_keys)]
                    v = "c%d" % n
                    t0 = time.monotonic()
                    got = (c.command("SET", k, v), c.command("GET", k))
                    slowest[0] = max(slowest[0], time.monotonic() - t0)
                    if got != ("OK", v.encode()):
                        errors.append("canary %d: %r" % (n, got))
                        return
                    n += 1
            except Exception as e:  # noqa: BLE001 - reported by the test
                errors.append("canary: %s: %s" % (type(e).__name__, e))
            finally:
                c.close()

        t = threading.Thread(target=canary, daemon=True)
        t.start()
        try:
            big = 4 * MIB
            for i in range(16):
                h = f.client()
                head = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(target), target.encode(),
                                                                    big)
                h.send(head + b"x" * (big // 2 + i * 997))
                time.sleep(0.02)
                h.close(reset=bool(i % 2))
                time.sleep(0.02)
        finally:
            time.sleep(0.3)
            stop.set()
            t.join(10)
        self.assertFalse(t.is_alive(), "canary hung")
        self.assertEqual(errors, [])
        self.assertLess(slowest[0], 2.0)
        c = f.client(timeout=10)
        self.assertEqual(c.command("GET", target), None, "half a SET was executed")
        self.assertEqual(c.command("SET", target, b"y" * big), "OK")
        self.assertEqual(c.command("STRLEN", target), big)
        self.check_alive(f)


# ---------------------------------------------------------------------------------------------
# real clients


def import_redis_py():
    """The redis module (python3-redis), or None. Debian installs it for the system python3
    only; when another python3 runs the tests its dist-packages directory is tried last (the
    library is pure Python)."""
    try:
        import redis
        return redis
    except ImportError:
        pass
    dist = "/usr/lib/python3/dist-packages"
    if not os.path.isdir(os.path.join(dist, "redis")):
        return None
    if dist not in sys.path:
        sys.path.append(dist)
    try:
        import redis
        return redis
    except ImportError:
        return None


def run_tool(args, input=None, timeout=120):
    return subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=None if input is not None else subprocess.DEVNULL,
                          timeout=timeout)


class RealClientTests(RedisCase):
    """redis-py, redis-benchmark and redis-cli through the proxy."""

    def redis_py(self, **kwargs):
        redis = import_redis_py()
        if redis is None:
            self.skipTest("python3-redis is not installed")
        r = redis.Redis(host=rp.HOST, port=self.fleet.port, socket_timeout=10,
                        socket_connect_timeout=5, **kwargs)
        self.addCleanup(r.close)
        return r

    def test_redis_py_commands(self):
        r = self.redis_py()
        keys = self.one_per_server("py:")
        self.assertTrue(r.set(keys[0], "v0"))
        self.assertEqual(r.get(keys[0]), b"v0")
        self.assertTrue(r.mset({keys[1]: "v1", keys[2]: "v2"}))
        self.assertEqual(r.mget(keys + ["py:missing"]), [b"v0", b"v1", b"v2", None])
        self.assertEqual(r.incr("py:ctr"), 1)
        self.assertEqual(r.incr("py:ctr", 5), 6)
        self.assertEqual(r.hset("py:h", mapping={"a": "1", "b": "2"}), 2)
        self.assertEqual(r.hgetall("py:h"), {b"a": b"1", b"b": b"2"})
        self.assertTrue(r.expire(keys[0], 100))
        self.assertIn(r.ttl(keys[0]), (99, 100))
        p = r.pipeline(transaction=False)
        for i in range(50):
            p.set("py:p%d" % i, i)
            p.get("py:p%d" % i)
        out = p.execute()
        self.assertEqual(out, sum(([True, str(i).encode()] for i in range(50)), []))
        self.assertEqual(r.delete(*keys), 3)
        self.assertTrue(r.ping())

    @ringproxy_only("closes the connection on CLIENT SETNAME")
    def test_redis_py_handshake(self):
        """redis-py's connection set-up (CLIENT SETNAME for client_name; newer versions also
        CLIENT SETINFO, HELLO) is accepted."""
        r = self.redis_py(client_name="rp-test")
        self.assertTrue(r.set("py:hs", "1"))
        self.assertEqual(r.client_getname(), "rp-test")
        self.assertEqual(r.get("py:hs"), b"1")

    def benchmark(self, extra):
        if shutil.which("redis-benchmark") is None:
            self.skipTest("redis-benchmark is not installed")
        res = run_tool(["redis-benchmark", "-h", rp.HOST, "-p", str(self.fleet.port),
                        "-n", "2000", "-c", "8", "-q", "-t",
                        "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset"]
                       + extra)
        out = res.stdout.decode(errors="replace")
        err = res.stderr.decode(errors="replace")
        self.assertEqual(res.returncode, 0, "redis-benchmark exited %d\n%s\n%s"
                         % (res.returncode, out, err))
        lines = [x.strip() for x in out.replace("\r", "\n").split("\n") if x.strip()]
        results = [x for x in lines if "requests per second" in x]
        names = [x.split(":", 1)[0] for x in results]
        for want in ("SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET",
                     "SPOP", "ZADD", "MSET (10 keys)"):
            self.assertIn(want, names, "no result for %s:\n%s" % (want, out))
        self.assertTrue(any(n.startswith("LRANGE_100") for n in names), out)
        bad = [x for x in lines + err.splitlines() if "rror" in x or "ERR" in x]
        self.assertEqual(bad, [], "redis-benchmark reported errors")

    def test_redis_benchmark(self):
        self.benchmark([])

    def test_redis_benchmark_pipelined(self):
        self.benchmark(["-P", "16"])

    def cli(self, args, input=None, port=None):
        """redis-cli's (exit status, stdout) for args (and stdin) against port (default: the
        proxy)."""
        if shutil.which("redis-cli") is None:
            self.skipTest("redis-cli is not installed")
        res = run_tool(["redis-cli", "-h", rp.HOST, "-p", str(port or self.fleet.port)] + args,
                       input=input, timeout=30)
        return res.returncode, res.stdout.decode(errors="replace")

    def reference(self):
        """A redis-server of its own, to see what redis-cli prints against redis itself."""
        ref = rp.start_redis()
        self.addCleanup(ref.kill)
        return ref

    def test_redis_cli_arguments(self):
        self.assertEqual(self.cli(["set", "cli:a", "b"]), (0, "OK\n"))
        self.assertEqual(self.cli(["get", "cli:a"]), (0, "b\n"))
        ref = self.reference()
        self.cli(["set", "cli:a", "b"], port=ref.port)
        for args in (["get", "cli:missing"], ["incr", "cli:n"], ["mget", "cli:a", "cli:missing",
                                                                 "cli:n"],
                     ["incr", "cli:a"], ["hset", "cli:h", "f", "v"], ["hgetall", "cli:h"],
                     ["ping"], ["get", "cli:h"]):
            self.assertEqual(self.cli(args), self.cli(args, port=ref.port), args)

    def test_redis_cli_stdin(self):
        script = (b"set cli:x 1\nincr cli:x\nget cli:x\nrpush cli:l a b\nlrange cli:l 0 -1\n"
                  b"get cli:l\ndel cli:x cli:l\n")
        self.assertEqual(self.cli([], input=script),
                         (0, "OK\n2\n2\n2\na\nb\n"
                             "WRONGTYPE Operation against a key holding the wrong kind of value\n"
                             "\n2\n"))
        ref = self.reference()
        self.assertEqual(self.cli([], input=script), self.cli([], input=script, port=ref.port))

if __name__ == "__main__":
    unittest.main()

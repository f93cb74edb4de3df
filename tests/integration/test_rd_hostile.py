"""Hostile clients against a redis pool, end to end: random bytes, truncated RESP requests, huge
declared lengths, NUL bytes, 10,000 connections opened and dropped, a slowloris client uploading
a big SET a byte every 100 ms, a client that pipelines GETs of 1 MiB values without ever reading
its replies, misbehaving servers in another pool, and a server killed in the middle of
pipelines.

test_hostile.py's machinery, for RESP: each class runs one proxy (2 workers) whose pool `alpha`
(`redis: true`, max_value_size 1 MiB) spreads over 3 real redis-servers. While every test runs, a
canary thread (RdCanary, a test_hostile.CanaryBase), a well-formed client on its own connection
(a new one every fraction of a second), does SET+GET, GET, MGET across servers (a missing key
among them), MSET+MGET and DEL+GET on its own keys with values of known content (0 bytes to
100 KB) and checks every reply byte for byte; the test fails if any canary reply is wrong, an
error, or late, or if the proxy dies. After each test (HostileMixin.finish): the proxy is alive,
its log and stderr have no sanitizer report, its client connection count (curr_connections in
the stats) comes back to the canary's own and then to zero, it holds no more descriptors than
before the test, and a fresh client is served. Each class stops its proxy at the end and checks
its stderr once more (LeakSanitizer reports at exit).

RdHostileTests' proxy has two more pools for the attacks on servers, neither shared with the
canary's keys: `beta` over three misbehaving backends (rp_helpers' FakeBackend: 'respbad',
'garbage', 'random') and alpha's server 0, and `gamma` over two redis-servers of its own, one of
which a test kills and restarts. RdPipelinerTests has a proxy of its own with a tight memory
bound (max_spill_mb 32, client_reply_limit 8 MiB) and checks the README's formula against the
proxy's RSS (skipped for sanitizer builds, see test_hostile.sanitized_build). RdShedTests has an
arena of 64 buffers and 1 MiB of spill space a worker, and makes the proxy shed non-reading
clients while split MGETs wait for a stopped server: it FAILS ON PURPOSE, showing a proxy crash
this suite found (see its docstring).

Under nutcracker (harness check) the tests of ringproxy-only behaviour skip; of the others,
test_ten_thousand_connections fails: nutcracker keeps a dozen client connections of the storm
open.

Every socket operation is bounded in time: a proxy bug makes a test fail, never hang. Standard
library only. Tests of ringproxy-only behaviour are marked @ringproxy_only.
"""

import os
import random
import shutil
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
import test_hostile as th  # noqa: E402  (the mixin, the canary base and the raw-socket helpers)
from rp_helpers import (  # noqa: E402
    RespClient,
    RespError,
    expect,
    resp_encode,
    ringproxy_only,
    run_threads,
)
from test_hostile import (  # noqa: E402
    CANARY_CONNS,
    CANARY_LATE,
    PROMPT,
    SANITIZED,
    SCALE,
    SETTLE,
    WORKERS,
    MiB,
    connect,
    drop,
    note,
    pump,
    read_for,
    read_upto,
    rss_bytes,
    spread_key,
)

POOL = "alpha"
MAX_VALUE = MiB                      # alpha's max_value_size (ringproxy only key)
BULK_LEN_ERR = b"-ERR Protocol error: invalid bulk length\r\n"
MBULK_LEN_ERR = b"-ERR Protocol error: invalid multibulk length\r\n"
INLINE_BIG_ERR = b"-ERR Protocol error: too big inline request\r\n"
MBULK_BIG_ERR = b"-ERR Protocol error: too big mbulk count string\r\n"
BULK_BIG_ERR = b"-ERR Protocol error: too big bulk count string\r\n"


def setUpModule():
    if shutil.which("redis-server") is None:
        raise unittest.SkipTest("redis-server is not installed")


# ---------------------------------------------------------------------------------------------
# RESP, as bytes


def bulk(data):
    """A bulk string reply, as framed: None is the nil bulk."""
    if data is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(data), data)


def array(items):
    """An array reply of bulk strings (None: nil), as framed."""
    return b"*%d\r\n" % len(items) + b"".join(bulk(x) for x in items)


# ---------------------------------------------------------------------------------------------
# the canary


class RdCanary(th.CanaryBase):
    """The redis canary (see test_hostile.CanaryBase): SET+GET in one write, GET, MGET of 2-6
    keys with a missing one among them, MSET of 2-4 keys + MGET of them, DEL+GET; every reply
    compared with the bytes redis frames it in. known: key -> value bytes."""

    def _connect(self):
        return RespClient(self.port, timeout=CANARY_LATE + 1)

    @staticmethod
    def _expect(conn, want, what):
        raw = conn.read_raw_reply()
        if raw != want:
            raise AssertionError("%s: got %r, want %r" % (what, raw[:300], want[:300]))

    def _value(self):
        return self.rng.randbytes(self.rng.choice(self.SIZES))

    def _one(self, conn):
        rng = self.rng
        r = rng.random()
        if r < 0.4 or len(self.known) < 4:
            self.op = "SET+GET"
            key = rng.choice(self.keys)
            data = self._value()
            conn.send(resp_encode("SET", key, data) + resp_encode("GET", key))
            self._expect(conn, b"+OK\r\n", "SET %s (%d bytes)" % (key, len(data)))
            self.known[key] = data
            self._expect(conn, bulk(data), "GET %s after SET" % key)
            return
        if r < 0.6:
            self.op = "GET"
            key = rng.choice(sorted(self.known))
            conn.send_command("GET", key)
            self._expect(conn, bulk(self.known[key]), "GET %s" % key)
            return
        if r < 0.8:
            self.op = "MGET"
            keys = rng.sample(sorted(self.known), min(len(self.known), rng.randint(2, 6)))
            keys.insert(rng.randrange(len(keys) + 1), rng.choice(self.absent))
            conn.send_command("MGET", *keys)
            self._expect(conn, array([self.known.get(k) for k in keys]), "MGET %s" % keys)
            return
        if r < 0.9:
            self.op = "MSET+MGET"
            keys = rng.sample(self.keys, rng.randint(2, 4))
            values = [self._value() for _ in keys]
            args = [x for kv in zip(keys, values) for x in kv]
            conn.send(resp_encode("MSET", *args) + resp_encode("MGET", *keys))
            for k in keys:         # until +OK, unknown which of them the servers hold
                self.known.pop(k, None)
            self._expect(conn, b"+OK\r\n", "MSET %s" % keys)
            self.known.update(zip(keys, values))
            self._expect(conn, array(values), "MGET %s after MSET" % keys)
            return
        self.op = "DEL+GET"
        key = rng.choice(sorted(self.known))
        conn.send(resp_encode("DEL", key) + resp_encode("GET", key))
        del self.known[key]
        self._expect(conn, b":1\r\n", "DEL %s" % key)
        self._expect(conn, b"$-1\r\n", "GET %s after DEL" % key)


# ---------------------------------------------------------------------------------------------
# the fleet and the common checks


class RdHostileFleet(rp.RedisFleet):
    """3 redis-server behind pool `alpha` (2 workers), optionally a `ringproxy:` section and,
    with side_pools, pool `beta` over FakeBackends ('respbad', 'garbage', 'random') and alpha's
    server 0, and pool `gamma` over two redis-servers of its own (self.gamma)."""

    FAKE_MODES = ("respbad", "garbage", "random")

    def __init__(self, pool_options, ringproxy_section=None, side_pools=False):
        rp.RedisFleet.__init__(self, 3, workers=WORKERS, pool_options=pool_options)
        self.ringproxy_section = dict(ringproxy_section or {})
        self.side_pools = side_pools
        self.fakes = {}          # mode -> FakeBackend
        self.gamma_ports = []
        self.gamma = []          # Redis of pool gamma, index = its server index

    def start(self):
        try:
            self.ports = [rp.free_port() for _ in range(self.nservers)]
            self.redis = [None] * self.nservers
            for i in range(self.nservers):
                self.start_server(i)
            pools = {}
            if self.ringproxy_section:
                pools["ringproxy"] = dict(self.ringproxy_section)
            pools[POOL] = self.pool()
            if self.side_pools:
                for mode in self.FAKE_MODES:
                    self.fakes[mode] = rp.start_fake_backend(mode)
                pools["beta"] = rp.redis_pool([self.fakes[m].port for m in self.FAKE_MODES] +
                                              [self.ports[0]])
                self.gamma_ports = [rp.free_port(), rp.free_port()]
                self.gamma = [rp.start_redis(p) for p in self.gamma_ports]
                pools["gamma"] = rp.redis_pool(self.gamma_ports)
            extra = ("-i", "100") if rp.is_nutcracker() else ()
            self.proxy = rp.start_ringproxy(pools, extra, workers=self.workers, io=self.io)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        rp.RedisFleet.stop(self)
        for fb in self.fakes.values():
            fb.kill()
        for rd in self.gamma:
            if rd is not None:
                rd.kill()

    def pool_client(self, pool, timeout=PROMPT, rcvbuf=None):
        return RespClient(self.proxy.pools[pool], timeout=timeout, rcvbuf=rcvbuf)

    def placement(self, pool, keys):
        """{key: port of the server} as `--route` places keys in pool."""
        routes = rp.route_pool(self.proxy.binary, self.proxy.conf_path, pool, keys)
        return {k: int(addr.rsplit(":", 1)[1]) for k, (addr, _name) in routes.items()}


class RdHostileMixin(th.HostileMixin):
    """test_hostile.HostileMixin for a redis pool: RdCanary, an RdHostileFleet, counts from
    the stats' curr_connections (every pool's clients)."""

    CANARY = RdCanary
    POOL_OPTIONS = {"max_value_size": MAX_VALUE}
    SIDE_POOLS = False

    @classmethod
    def make_fleet(cls):
        return RdHostileFleet(cls.POOL_OPTIONS, cls.RINGPROXY_SECTION, cls.SIDE_POOLS)

    @classmethod
    def warm_up(cls):
        """Connections spread over the workers touch every server of every pool, so that every
        worker's server connections exist before any descriptor count is taken."""
        keys = [spread_key("warm:", i) for i in range(24)]
        pools = [POOL] + (["beta", "gamma"] if cls.SIDE_POOLS else [])
        clients = [cls.fleet.pool_client(p) for p in pools for _ in range(16)]
        try:
            for c in clients:
                c.send_command("MGET", *keys)
                c.read_reply()      # beta: an error, its parts on the fake backends failed
        finally:
            for c in clients:
                c.close()

    def client_conns(self):
        st = self.stats()
        if self.proxy.nutcracker:
            # (harness check) nutcracker's curr_connections counts its server connections too
            return sum(v["client_connections"] for v in st.values()
                       if isinstance(v, dict) and "client_connections" in v)
        return st["curr_connections"]

    def store(self, items, pool=POOL, timeout=PROMPT):
        """Stores {key: value} (SETs pipelined, +OK each)."""
        with self.fleet.pool_client(pool, timeout=timeout) as c:
            keys = list(items)
            for start in range(0, len(keys), 100):
                chunk = keys[start:start + 100]
                c.send(b"".join(resp_encode("SET", k, items[k]) for k in chunk))
                for k in chunk:
                    raw = c.read_raw_reply()
                    self.assertEqual(raw, b"+OK\r\n", "SET %r (%d bytes)" % (k, len(items[k])))

    def check_fresh_client(self):
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.command("PING"), "PONG")
            self.assertEqual(c.command("SET", "hostile:after", "ok"), "OK")
            self.assertEqual(c.command("GET", "hostile:after"), b"ok")

    def server_timeouts(self, pool=POOL):
        st = self.stats()
        return sum(v.get("server_timedout", 0) for v in st[pool].values() if isinstance(v, dict))

    def expect_error_and_close(self, data, want, what):
        """Sends data on a new connection: the reply must be exactly want, then a close."""
        s = connect(self.port)
        try:
            s.sendall(data)
            got, closed = read_upto(s, len(want) + 1, PROMPT)
            if not closed:
                more, closed = read_for(s, PROMPT)
                got += more
        finally:
            drop(s, reset=False)
        self.assertEqual(got, want, "%s: the reply" % what)
        self.assertTrue(closed, "%s: not closed within %.0fs after %r" % (what, PROMPT, got))


# ---------------------------------------------------------------------------------------------
# the hostile clients


COMMAND_WORDS = [
    b"GET", b"SET", b"MGET", b"MSET", b"DEL", b"EXISTS", b"INCR", b"APPEND", b"STRLEN", b"TTL",
    b"EXPIRE", b"HSET", b"HGET", b"LPUSH", b"LRANGE", b"PING", b"ECHO", b"HELLO", b"AUTH",
    b"SELECT", b"QUIT", b"COMMAND", b"CLIENT", b"SETNAME", b"INFO", b"EVAL", b"get", b"sEt",
]   # no FLUSHALL / FLUSHDB (they would empty the canary's keys), no blocking commands
VOCABULARY = COMMAND_WORDS + [
    b"0", b"1", b"-1", b"2", b"3", b"2147483647", b"2147483648", b"-2147483649",
    b"9223372036854775807", b"99999999999999999999", b"1e3", b"0x10", b"k", b"hostile:x",
    b"hostile:y", b"{hostile}", b"k" * 300, b"\x00", b"\xff", b"\r", b"\n", b"\r\n", b"\r\n",
    b"*", b"$", b"+", b"-", b":", b"*1", b"*3", b"$3", b"$-1", b"*-1", b"*0", b"$0", b'"',
    b"'", b'"\\x41"', b"\\", b" ", b"\t",
]


def random_request(rng):
    """A multibulk request of 1-5 arguments from the vocabulary (or random bytes)."""
    args = [rng.choice(COMMAND_WORDS)]
    for _ in range(rng.randint(0, 4)):
        args.append(rng.choice(VOCABULARY) if rng.random() < 0.8
                    else rng.randbytes(rng.choice((0, 1, 20, 5000, 70000))))
    return resp_encode(*args)


def random_blob(rng):
    """Random bytes, with or without line ends, inline token soup, or multibulk requests with
    a few bytes changed (lengths that lie, types that are wrong)."""
    kind = rng.randrange(5)
    length = rng.choice((1, 2, 7, 64, 500, 1500, 16383, 16384, 70000))
    if kind == 0:                    # raw bytes, newlines where chance puts them
        return rng.randbytes(length)
    if kind == 1:                    # no newline at all: one endless (inline) line
        return rng.randbytes(length).replace(b"\n", b"\x00")
    if kind == 2:                    # short random lines, some starting with a type byte
        parts = []
        size = 0
        while size < length:
            p = rng.choice((b"", b"", b"*", b"$", b"+", b":")) + \
                rng.randbytes(rng.randint(0, 120)).replace(b"\n", b"") + \
                rng.choice((b"\r\n", b"\n", b"\r\n"))
            parts.append(p)
            size += len(p)
        return b"".join(parts)
    if kind == 3:                    # inline token soup
        words = []
        size = 0
        while size < length:
            w = rng.choice(VOCABULARY)
            words.append(w)
            words.append(rng.choice((b" ", b" ", b" ", b"\r\n", b"\n")))
            size += len(w) + 1
        return b"".join(words)
    reqs = []                        # multibulk requests, then a few bytes changed
    size = 0
    while size < length:
        reqs.append(random_request(rng))
        size += len(reqs[-1])
    data = bytearray(b"".join(reqs))
    for _ in range(rng.randint(0, 4)):
        i = rng.randrange(len(data))
        data[i] = rng.choice((rng.getrandbits(8), ord("9"), ord("-"), ord("*"), ord("$"), 0))
    return bytes(data)


class RdHostileTests(RdHostileMixin, unittest.TestCase):
    """Pool alpha with its default limits but max_value_size 1 MiB, over 3 redis-server; pools
    beta and gamma beside it; one canary per test."""

    SIDE_POOLS = True

    # -- 1 ------------------------------------------------------------------------------------

    def test_random_bytes(self):
        # 240 connections (8 at a time), each sending 1-4 seeded random blobs while reading
        # whatever comes back, then leaving: FIN, RST, half-close (then the proxy must close
        # it), or mid-blob
        nthreads, per_thread = 8, 30
        stats = {"closed_by_proxy": 0, "half_closed": 0, "bytes": 0}
        lock = threading.Lock()

        def hostile(i):
            rng = random.Random(3000 + i)
            for j in range(per_thread):
                s = connect(self.port)
                try:
                    closed = False
                    for _ in range(rng.randint(1, 4)):
                        blob = random_blob(rng)
                        if rng.random() < 0.25:
                            blob = blob[:rng.randrange(len(blob) + 1)]  # cut mid-blob
                        sent, _, closed = pump(s, blob)
                        with lock:
                            stats["bytes"] += sent
                        if closed or rng.random() < 0.2:
                            break
                    how = rng.random()
                    if closed:
                        with lock:
                            stats["closed_by_proxy"] += 1
                        drop(s, reset=how < 0.5)
                    elif how < 0.4:
                        drop(s, reset=True)
                    elif how < 0.8:
                        drop(s, reset=False)
                    else:
                        # half-close: the proxy answers what it has, then must close
                        try:
                            s.shutdown(socket.SHUT_WR)
                        except OSError:
                            continue     # it closed first
                        _, gone = read_for(s, PROMPT)
                        expect(gone, "conn %d.%d: half-closed after random bytes, not closed "
                               "by the proxy within %.0fs" % (i, j, PROMPT))
                        with lock:
                            stats["half_closed"] += 1
                        drop(s, reset=False)
                finally:
                    s.close()

        errors = run_threads(hostile, nthreads, 60 * SCALE)
        note("random bytes: %d bytes sent on %d connections; the proxy closed %d, %d "
             "half-closed" % (stats["bytes"], nthreads * per_thread, stats["closed_by_proxy"],
                              stats["half_closed"]))
        self.assertNoErrors(errors, "random-bytes clients")
        self.finish("random bytes")

    # -- 2 ------------------------------------------------------------------------------------

    def test_truncated_requests(self):
        # every prefix of a SET, an MSET over several servers, an MGET, a pipeline, an inline
        # SET, and prefixes of a 40 KB SET around its boundaries, each sent on its own
        # connection which is then closed (half of them with RST); 8 at a time. No prefix short
        # of a whole request may have it executed.
        mget_keys = [spread_key("trunc:m:", i) for i in range(6)]
        self.store({k: b"m-" + k.encode() for k in mget_keys})
        big_value = random.Random(41).randbytes(40000)

        def set_req(n):
            return resp_encode("SET", "trunc:s:%04d" % n, "0123456789")

        def mset_keys(n):
            return [spread_key("trunc:ms:%04d:" % n, j) for j in range(3)]

        def mset_req(n):
            return resp_encode("MSET", *[x for k in mset_keys(n) for x in (k, "v-" + k)])

        def pipe_parts(n):
            return [resp_encode("SET", "trunc:p:%04d" % n, "hi"), resp_encode("MGET", *mget_keys),
                    resp_encode("INCR", "trunc:pi:%04d" % n),
                    resp_encode("DEL", "trunc:p:%04d" % n)]

        def inline_req(n):
            return b"SET trunc:i:%04d inline-value\r\n" % n

        def big_req(n):
            return resp_encode("SET", "trunc:b:%05d" % n, big_value)

        # (kind, n, the bytes sent, keys that must not exist afterwards)
        tasks = []
        for n in range(len(set_req(0))):
            tasks.append(("set", n, set_req(n)[:n], ["trunc:s:%04d" % n]))
        for n in range(len(mset_req(0))):
            tasks.append(("mset", n, mset_req(n)[:n], mset_keys(n)))
        mget = resp_encode("MGET", *mget_keys)
        for n in range(len(mget) + 1):
            tasks.append(("mget", n, mget[:n], []))
        for n in range(len(b"".join(pipe_parts(0))) + 1):
            parts = pipe_parts(n)
            first, upto_incr = len(parts[0]), len(parts[0]) + len(parts[1]) + len(parts[2])
            absent = []
            if n < first:
                absent.append("trunc:p:%04d" % n)
            if n < upto_incr:
                absent.append("trunc:pi:%04d" % n)
            tasks.append(("pipe", n, b"".join(parts)[:n], absent))
        for n in range(len(inline_req(0))):
            tasks.append(("inline", n, inline_req(n)[:n], ["trunc:i:%04d" % n]))
        big_len = len(big_req(0))
        rng = random.Random(7)
        cuts = set(range(60)) | set(range(big_len - 40, big_len)) | \
            set(rng.randrange(big_len) for _ in range(60)) | {16384, 16385, 32768}
        for n in sorted(cuts):
            tasks.append(("bigset", n, big_req(n)[:n], ["trunc:b:%05d" % n]))
        rng.shuffle(tasks)
        plan = [(kind, n, data, rng.random() < 0.5, rng.random() * 0.003)
                for kind, n, data, _ in tasks]
        nthreads = 8

        def hostile(i):
            for kind, n, data, reset, pause in plan[i::nthreads]:
                s = connect(self.port)
                try:
                    if data:
                        s.sendall(data)
                    if pause:
                        time.sleep(pause)
                finally:
                    drop(s, reset)

        errors = run_threads(hostile, nthreads, 60 * SCALE)
        self.assertNoErrors(errors, "truncating clients")
        time.sleep(0.3)
        must_be_absent = [k for _, _, _, keys in tasks for k in keys]
        found = {k: where for k, where in self.fleet.locate(must_be_absent).items() if where}
        self.assertEqual(found, {}, "truncated requests were executed (key: servers holding "
                         "it)")
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.command("MGET", *mget_keys), [b"m-" + k.encode() for k in mget_keys])
        note("truncated requests: %d prefixes, %d keys checked absent on every server"
             % (len(plan), len(must_be_absent)))
        self.finish("truncated requests")

    # -- 3 ------------------------------------------------------------------------------------

    @ringproxy_only("max_value_size and the 1,048,576-argument limit are ringproxy's")
    def test_huge_declared_lengths(self):
        # (a) lengths past a limit: redis's protocol error at once (before any payload), then a
        # close; requests whole before it in the same write are answered (and executed) first
        set_head = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"
        ping = resp_encode("PING")
        before = resp_encode("SET", "hostile:before", "v1")
        cases = [
            ("*2147483647", b"*2147483647\r\n", MBULK_LEN_ERR),
            ("*1048577", b"*1048577\r\n", MBULK_LEN_ERR),
            ("$2147483647 key", b"*2\r\n$3\r\nGET\r\n$2147483647\r\n", BULK_LEN_ERR),
            ("$2147483647 value", set_head + b"$2147483647\r\n", BULK_LEN_ERR),
            ("$max_value_size+1", set_head + b"$%d\r\n" % (MAX_VALUE + 1), BULK_LEN_ERR),
            ("$max_value_size+1 key", b"*2\r\n$3\r\nGET\r\n$%d\r\n" % (MAX_VALUE + 1),
             BULK_LEN_ERR),
            ("$2^64+", b"*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n", BULK_LEN_ERR),
            ("$-1 argument", b"*2\r\n$3\r\nGET\r\n$-1\r\n", BULK_LEN_ERR),
            ("PING then $max+1", ping + set_head + b"$%d\r\n" % (MAX_VALUE + 1),
             b"+PONG\r\n" + BULK_LEN_ERR),
            ("SET then $max+1", before + set_head + b"$%d\r\n" % (MAX_VALUE + 1),
             b"+OK\r\n" + BULK_LEN_ERR),
            ("SET then *2147483647", before + b"*2147483647\r\n", b"+OK\r\n" + MBULK_LEN_ERR),
        ]
        for what, data, want in cases:
            self.expect_error_and_close(data, want, what)
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.command("GET", "hostile:before"), b"v1")

        # (b) the payload of a too-long value follows the header: the error comes first (the
        # proxy does not wait for the payload), then the connection is closed, the payload
        # refused (many times over, 6 at a time)
        def too_long(i):
            s = connect(self.port)
            try:
                s.sendall(set_head + b"$%d\r\n" % (MAX_VALUE + 1))
                got, closed = read_upto(s, len(BULK_LEN_ERR), PROMPT)
                expect(got == BULK_LEN_ERR, "$max_value_size+1 (%d): reply %r" % (i, got))
                payload = b"p" * (MAX_VALUE + 1) + b"\r\n"
                sent, more, closed = pump(s, payload)
                if not closed:
                    more, closed = read_for(s, PROMPT)
                expect(closed and not more, "$max_value_size+1 (%d): sent %d payload bytes, %s "
                       "%r" % (i, sent, "closed" if closed else "not closed", more[:100]))
            finally:
                drop(s, reset=i % 2 == 1)

        errors = run_threads(lambda t: [too_long(i) for i in range(t, 24, 6)], 6, 60 * SCALE)
        self.assertNoErrors(errors, "too long values")

        # (c) lengths within the limits, held open and silent: 20 connections declare 1,048,576
        # arguments and send 1,000, 4 declare a value of exactly max_value_size and send 1,000
        # bytes of it. The proxy waits (as redis does) and stays small: nothing is allocated
        # for what is only declared; the canary is served meanwhile.
        pid = self.proxy.pid
        rss0 = rss_bytes(pid)
        args = b"*1048576\r\n$4\r\nMSET\r\n" + b"$1\r\nx\r\n" * 1000
        held = []
        for i in range(24):
            s = connect(self.port)
            self.addCleanup(s.close)
            if i < 20:
                s.sendall(args)
            else:
                s.sendall(b"*3\r\n$3\r\nSET\r\n$11\r\nhostile:h%02d\r\n$%d\r\n" % (i, MAX_VALUE) +
                          b"h" * 1000)
            held.append(s)
        time.sleep(2.0)
        rss1 = rss_bytes(pid)
        for i, s in enumerate(held):
            got, closed = read_for(s, 0.05)
            self.assertFalse(got or closed, "held request %d (within the limits): %s %r"
                             % (i, "closed" if closed else "answered", got[:200]))
        note("24 requests within the limits held open: proxy RSS %.1f -> %.1f MiB"
             % (rss0 / MiB, rss1 / MiB))
        if not SANITIZED:
            # 16 bytes an argument of 1,000 x 20, and the receive buffers: well under 24 MiB
            # (16 MiB for 1,048,576 declared arguments would show)
            self.assertLess(rss1 - rss0, 24 * MiB, "holding 24 declared-huge requests grew the "
                            "proxy's RSS by %.1f MiB" % ((rss1 - rss0) / MiB))
        # one of the max_value_size SETs is finished: stored, and read back whole
        value = b"h" * MAX_VALUE
        sent, got, closed = pump(held[20], b"h" * (MAX_VALUE - 1000) + b"\r\n")
        if len(got) < 5 and not closed:
            more, closed = read_upto(held[20], 5 - len(got), PROMPT)
            got += more
        self.assertEqual(got, b"+OK\r\n", "the SET of exactly max_value_size bytes")
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.command("GET", "hostile:h20"), value)
        for i, s in enumerate(held):
            drop(s, reset=i % 2 == 0)
        self.finish("huge declared lengths")

    # -- 4 ------------------------------------------------------------------------------------

    @ringproxy_only("nutcracker closes the connection on inline commands and unknown ones")
    def test_nul_bytes(self):
        # (a) keys and values may hold anything: values full of NUL (and CR LF, and RESP), keys
        # with NUL in them, come back exactly, single and in an MGET over every server, and are
        # stored as sent
        rng = random.Random(4)
        values = {
            b"nul:one": b"\x00",
            b"nul:many": b"\x00" * 1000,
            b"nul:mixed": b"a\x00b\r\n\x00\r\n$-1\r\n*1\r\n\x00+OK\r\n",
            b"nul:crlf": b"\r\n" * 100,
            b"nul:boundary": b"\x00" * 16384,
            b"nul:boundary1": b"\x00" * 16385,
            b"nul:random": rng.randbytes(100000),
            b"nul:mib": b"\x00" * MAX_VALUE,
            b"\x00": b"key of one NUL",
            b"nul:\x00key": b"NUL inside the key",
            b"nul:key\x00": b"NUL at the end of the key",
            b"nul:\r\n\x00\r\n": b"CR LF and NUL in the key",
        }
        keys = list(values)
        with self.fleet.client(timeout=PROMPT * 2) as c:
            for k, v in values.items():
                self.assertEqual(c.command("SET", k, v), "OK", k)
            for k, v in values.items():
                c.send_command("GET", k)
                self.assertEqual(c.read_raw_reply(), bulk(v), "GET %r" % k)
            c.send_command("MGET", *keys)
            self.assertEqual(c.read_raw_reply(), array([values[k] for k in keys]), "MGET")
            # none of them cut at its NUL
            c.send_command("MGET", b"nul:", b"nul:key", b"")
            self.assertEqual(c.read_raw_reply(), array([None, None, None]))
        where = self.fleet.locate(keys)
        self.assertEqual(sorted(len(w) for w in where.values()), [1] * len(keys), where)
        for k, (i,) in where.items():
            with self.fleet.direct(i, timeout=PROMPT) as d:
                d.send_command("GET", k)
                self.assertEqual(d.read_raw_reply(), bulk(values[k]), "%r on server %d" % (k, i))

        # (b) NUL in inline lines, in "*N" and "$N" lines, in command names, each on its own
        # connection and followed by a GET of a sentinel key, to the proxy and to redis-server
        # directly (alpha's server 0, which holds the keys these lines read, too): the two byte
        # streams must be the same. Redis looks for the end of a line with strchr, so a NUL
        # before it leaves redis waiting for more (till 64 KiB, then "too big"): where redis
        # stays silent, both are then sent 70 KB more and must answer the same error and close.
        keyed = {"nul:known": b"known value", "nul:t": b"untouched", "nul:sent": b"sentinel"}
        self.store(keyed)
        with self.fleet.direct(0, timeout=PROMPT) as d:
            for k, v in keyed.items():
                self.assertEqual(d.command("SET", k, v), "OK")
        sentinel = resp_encode("GET", "nul:sent")
        lines = [
            b"*1\x00\r\n$4\r\nPING\r\n", b"*\x001\r\n$4\r\nPING\r\n", b"*1\r\n$4\x00\r\nPING\r\n",
            b"*1\r\n$\x004\r\nPING\r\n", b"*1\r\n\x004\r\nPING\r\n", b"*1\r\n$4\r\nPI\x00G\r\n",
            b"*1\r\n$4\r\n\x00\x00\x00\x00\r\n", b"*2\r\n$3\r\nGET\r\n$10\r\nnul:known\x00\r\n",
            b"*2\r\n$3\r\nGET\r\n$9\r\nnul:known\x00\x00",
            b"*3\r\n$3\r\nSET\r\n$6\r\nnul:t\x00\r\n$1\r\nx\r\n",
            b"*3\r\n$3\r\nSET\r\n$5\r\nnul:t\r\n$1\x00\r\nx\r\n",
            b"*3\r\n$3\r\nSET\r\n$5\r\nnul:t\r\n$\x00\r\nx\r\n",
            b"*\x00\r\n", b"$\x00\r\n", b"\x00*1\r\n$4\r\nPING\r\n",
            b"GET nul:known\x00\r\n", b"GET nul:known\x00junk\r\n", b"G\x00ET nul:known\r\n",
            b"\x00GET nul:known\r\n", b"GET \x00\r\n", b"SET nul:t\x00 x\r\n",
            b'SET nul:t "a\x00b"\r\n',
            b"MGET nul:known \x00 nul:t\r\n", b"\x00\r\n", b"\x00 \x00 \x00\r\n", b"PING\x00\r\n",
            b"\x00\n", b"GET nul:known\r\x00\n", b"GET nul:t\x00\n",
        ]
        quiet = 0.3 * SCALE

        def exchange(port, line):
            """(replies as framed, how it ended, what came after 70 KB more if it went
            silent)."""
            with RespClient(port, timeout=PROMPT) as c:
                c.send(line + sentinel)
                replies = []
                while True:
                    try:
                        raw = c.read_raw_reply(timeout=quiet)
                    except rp.ConnectionClosed:
                        return replies, "closed", bytes(c.buf)
                    except TimeoutError:
                        break
                    replies.append(raw)
                    if raw == bulk(b"sentinel"):
                        return replies, "in step", b""
                    expect(len(replies) <= 4, "%r: more than 4 replies: %r" % (line, replies))
                sent, got, closed = pump(c.sock, b"x" * 70000)
                if not closed:
                    more, closed = read_for(c.sock, PROMPT)
                    got += more
                return replies, "silent, then " + ("closed" if closed else "open"), \
                    bytes(c.buf) + got

        outcomes = {}

        def check_line(i):
            line = lines[i]
            direct = exchange(self.fleet.ports[0], line)
            proxied = exchange(self.port, line)
            outcomes[i] = proxied
            expect(proxied == direct, "%r: through the proxy %r, from redis-server %r"
                   % (line, proxied, direct))

        errors = run_threads(lambda t: [check_line(i) for i in range(t, len(lines), 8)], 8,
                             60 * SCALE)
        self.assertNoErrors(errors, "lines with NUL bytes")
        note("NUL lines, as redis-server: %s" % "; ".join(
            "%r: %d replies, %s%s" % (lines[i][:24], len(outcomes[i][0]), outcomes[i][1],
                                      " %r" % outcomes[i][2][:50] if outcomes[i][2] else "")
            for i in range(len(lines)) if i in outcomes))
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.command("GET", "nul:known"), b"known value")
            self.assertEqual(c.command("GET", "nul:t"), b"untouched", "a key cut at its NUL")
            self.assertEqual(c.command("GET", b"nul:t\x00"), b"x",
                             "a multibulk key with a NUL was not stored as sent")

        # (c) endless lines of NUL (200 KB, no newline): inline, "*N" and "$N": redis's "too
        # big" protocol error, then a close
        if not self.proxy.nutcracker:
            for what, head, want in (("inline", b"", INLINE_BIG_ERR),
                                     ("*N", b"*", MBULK_BIG_ERR),
                                     ("$N", b"*1\r\n$", BULK_BIG_ERR)):
                s = connect(self.port)
                try:
                    sent, got, closed = pump(s, head + b"\x00" * 200000)
                    if not closed:
                        more, closed = read_for(s, PROMPT)
                        got += more
                finally:
                    drop(s, reset=False)
                note("200 KB of NUL without a newline (%s): sent %d, reply %r, %s"
                     % (what, sent, got[:80], "closed" if closed else "left open"))
                self.assertEqual(got, want, "200 KB of NUL, %s" % what)
                self.assertTrue(closed, "an endless %s line of NUL bytes was not closed within "
                                "%.0fs" % (what, PROMPT))
        self.finish("NUL bytes")

    # -- 5 ------------------------------------------------------------------------------------

    def test_ten_thousand_connections(self):
        # 20 threads x 500 connections: connect, then close at once (FIN), reset, or send half
        # a request and then close or reset
        self.connect_and_drop([
            b"*2\r\n$3\r\nGET\r\n$4\r\nco", b"*2\r\n$3\r\nGET", b"*3\r\n$3\r\nSET\r\n$4\r\nconn"
            b"\r\n$10\r\n01234", b"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb",
            b"*1048576\r\n", b"*3\r\n$3\r\nSET\r\n$4\r\nconn\r\n$1048576\r\nxx", b"GET conn",
            b"MGET a b c", b"*", b"\x00\x01\x02"])
        # it still accepts: a burst of new clients, each served
        clients = [self.fleet.client(timeout=PROMPT) for _ in range(20)]
        try:
            for i, c in enumerate(clients):
                self.assertEqual(c.command("SET", "conn:after:%d" % i, "v%d" % i), "OK")
            for i, c in enumerate(clients):
                self.assertEqual(c.command("GET", "conn:after:%d" % i), b"v%d" % i)
        finally:
            for c in clients:
                c.close()
        self.finish("10,000 connections")

    # -- 6 ------------------------------------------------------------------------------------

    @ringproxy_only("nutcracker closes the connection on inline commands")
    def test_slowloris(self):
        # a 256 KiB SET whose head and first and last payload bytes come one every 100 ms
        # (about 6 s), the tail of an MSET over several servers and 4 GETs (multibulk and
        # inline) one byte every 100 ms; meanwhile the canary works. No answer comes early, each
        # comes right at the end, nothing is visible (no part of the MSET either) until its
        # request is whole, and no server is charged a timeout (the pool's is 1 s)
        values = {"slow:%d" % i: random.Random(i).randbytes(3000 + i) for i in range(4)}
        self.store(values)
        big = random.Random(9).randbytes(256 * 1024)
        mset_keys = [spread_key("slow:ms:", j) for j in range(4)]
        mset = resp_encode("MSET", *[x for k in mset_keys for x in (k, "v-" + k)])
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.command("DEL", "slow:big", *mset_keys), 0)
        timeouts0 = self.server_timeouts()
        results = {}

        def invisible(keys, what):
            with self.fleet.client(timeout=PROMPT) as other:
                got = other.command("MGET", *keys)
                expect(got == [None] * len(keys), "%s is visible: %r" % (what, got))

        def trickle(s, data, what):
            """Sends data a byte every 100 ms; nothing may come back meanwhile."""
            for j, byte in enumerate(data):
                s.sendall(bytes([byte]))
                early, closed = read_for(s, 0.1)
                expect(not early and not closed, "%s: %s after byte %d: %r" % (
                    what, "closed" if closed else "an answer", j + 1, early[:100]))

        def slow_get(i):
            key = "slow:%d" % i
            req = (b"GET %s\r\n" % key.encode()) if i == 3 else resp_encode("GET", key)
            s = connect(self.port)
            try:
                trickle(s, req[:-1], "slow GET %s" % key)
                s.sendall(req[-1:])
                want = bulk(values[key])
                got, _ = read_upto(s, len(want), PROMPT)
                expect(got == want, "slow GET %s: %r" % (key, got[:200]))
                results[key] = "ok"
            finally:
                s.close()

        def slow_mset(_):
            s = connect(self.port)
            try:
                s.sendall(mset[:-12])
                trickle(s, mset[-12:-1], "slow MSET")
                invisible(mset_keys, "a part of an MSET short of its last byte")
                s.sendall(mset[-1:])
                got, _ = read_upto(s, 5, PROMPT)
                expect(got == b"+OK\r\n", "slow MSET: %r" % got)
                results["mset"] = "ok"
            finally:
                s.close()

        def slow_set(_):
            req = resp_encode("SET", "slow:big", big)
            head = len(req) - len(big) - 2
            s = connect(self.port)
            try:
                trickle(s, req[:head + 10], "slow SET (head)")
                invisible(["slow:big"], "a SET short of its payload")
                s.sendall(req[head + 10:-12])
                trickle(s, req[-12:-1], "slow SET (tail)")
                invisible(["slow:big"], "a SET short of its last byte")
                s.sendall(req[-1:])
                got, _ = read_upto(s, 5, PROMPT)
                expect(got == b"+OK\r\n", "slow SET: %r" % got)
                results["set"] = "ok"
            finally:
                s.close()

        def work(i):
            (slow_set if i == 4 else slow_mset if i == 5 else slow_get)(i)

        errors = run_threads(work, 6, 30 * SCALE)
        self.assertNoErrors(errors, "slowloris clients")
        self.assertEqual(sorted(results), ["mset", "set", "slow:0", "slow:1", "slow:2", "slow:3"])
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.command("GET", "slow:big"), big)
            self.assertEqual(c.command("MGET", *mset_keys), [b"v-" + k.encode() for k in mset_keys])
        self.assertEqual(self.server_timeouts() - timeouts0, 0,
                         "slow clients made server timeouts (server_timedout)")
        self.finish("slowloris")

    # -- 7 ------------------------------------------------------------------------------------

    @ringproxy_only("--route is ringproxy's")
    def test_bad_servers_in_another_pool(self):
        # pool beta: a server sending a bulk not ended by CRLF, one sending "HELLO GARBAGE", one
        # sending random bytes, and a good one (alpha's server 0). 4 clients hammer beta for
        # 3 s: GET, SET, MGET, DEL touching the bad servers get an error reply, promptly, and
        # the connection stays in step; the good server's keys get exact answers (100 KB
        # values among them, also when an MGET mixes them with the bad servers' keys).
        # Meanwhile the canary, on alpha, sees nothing of it.
        cand = [spread_key("beta:", i) for i in range(400)]
        placed = self.fleet.placement("beta", cand)
        good_port = self.fleet.ports[0]
        good = [k for k in cand if placed[k] == good_port][:8]
        bad = {m: [k for k in cand if placed[k] == fb.port][:3]
               for m, fb in self.fleet.fakes.items()}
        self.assertEqual(len(good), 8)
        self.assertTrue(all(len(v) == 3 for v in bad.values()), bad)
        bad_keys = [k for v in bad.values() for k in v]
        good_values = {k: random.Random(k).randbytes(100000 if i % 2 else 50)
                       for i, k in enumerate(good)}
        self.store(good_values, pool="beta")
        conns0 = {m: fb.connections() for m, fb in self.fleet.fakes.items()}
        seen = {"errors": 0, "good": 0}
        texts = set()
        lock = threading.Lock()

        def hostile(i):
            rng = random.Random(500 + i)
            c = self.fleet.pool_client("beta", timeout=PROMPT)
            try:
                t_end = time.monotonic() + 3.0
                while time.monotonic() < t_end:
                    r = rng.random()
                    bk = rng.choice(bad_keys)
                    gk = rng.choice(good)
                    if r < 0.3:
                        reqs, want = [("GET", gk)], bulk(good_values[gk])
                    elif r < 0.45:
                        gk2 = rng.choice(good)
                        reqs, want = [("MGET", gk, gk2)], array([good_values[gk],
                                                                 good_values[gk2]])
                    elif r < 0.65:
                        reqs, want = [("GET", bk)], "error"
                    elif r < 0.75:
                        reqs, want = [("SET", bk, "x" * rng.choice((1, 20000)))], "error"
                    elif r < 0.9:
                        reqs, want = [("MGET", gk, bk, rng.choice(good))], "error"
                    else:
                        reqs, want = [("MSET", bk, "x", gk, good_values[gk])], "error"
                    t0 = time.monotonic()
                    c.send(resp_encode(*reqs[0]))
                    raw = c.read_raw_reply()
                    took = time.monotonic() - t0
                    expect(took < 3.0, "%r took %.2fs" % (reqs[0][:2], took))
                    if want == "error":
                        expect(raw.startswith(b"-ERR "), "%r: got %r, want an error"
                               % (reqs[0][:3], raw[:200]))
                        with lock:
                            seen["errors"] += 1
                            texts.add(raw[:80])
                    else:
                        expect(raw == want, "%r: got %r, want %r" % (reqs[0][:3], raw[:200],
                                                                     want[:200]))
                        with lock:
                            seen["good"] += 1
            finally:
                c.close()

        errors = run_threads(hostile, 4, 30 * SCALE)
        self.assertNoErrors(errors, "clients of the pool with bad servers")
        fresh = {m: fb.connections() - conns0[m] for m, fb in self.fleet.fakes.items()}
        note("bad servers in pool beta: %d error replies (%s), %d good ones; connections the "
             "proxy made to them: %s" % (seen["errors"], b"; ".join(sorted(texts)).decode(
                 "utf-8", "replace"), seen["good"], fresh))
        self.assertTrue(all(n > 0 for n in fresh.values()),
                        "the proxy did not talk to every bad server: %s" % fresh)
        with self.fleet.pool_client("beta") as c:
            self.assertEqual(c.command("MGET", *good), [good_values[k] for k in good])
        self.finish("bad servers in another pool")

    # -- 8 ------------------------------------------------------------------------------------

    @ringproxy_only("--route is ringproxy's")
    def test_server_killed_mid_pipeline(self):
        # pool gamma: 3 clients each pipeline 600 requests (GET, MGET over both servers, SET of
        # the value a key already has, 50 KB values) while reading. Each client writes its
        # first 300 requests at once, without waiting for any reply; once the first client has
        # had 20 replies, server 0 is killed (SIGKILL); then each writes its other 300 (so that
        # the kill is sure to be seen even if it came after the first 300 were answered).
        # Every request gets exactly one reply, in order: its server's keys the right value
        # until the first error, errors after it (nothing comes from a dead server), the other
        # server's keys the right value throughout; or, if a reply involving the dead server
        # was being streamed when it died, a true prefix of that reply and a close (the only
        # way out once part of a reply is sent). Then the server comes back on its port, and
        # the pool serves its keys again. The canary, on alpha, sees nothing of it.
        cand = [spread_key("gamma:", i) for i in range(200)]
        placed = self.fleet.placement("gamma", cand)
        ports = self.fleet.gamma_ports
        keys = {s: [k for k in cand if placed[k] == ports[s]][:6] for s in (0, 1)}
        self.assertTrue(all(len(v) == 6 for v in keys.values()), keys)
        values = {k: random.Random(k).randbytes(50000) for v in keys.values() for k in v}
        self.store(values, pool="gamma")
        nclients, nreqs = 3, 600
        started = threading.Event()       # client 0 has had 20 replies
        killed = threading.Event()
        outcome = {}

        def plan(i):
            rng = random.Random(700 + i)
            out = []
            for j in range(nreqs):
                k0, k1 = rng.choice(keys[0]), rng.choice(keys[1])
                r = j % 4
                if r == 0:
                    out.append((resp_encode("GET", k0), {0}, bulk(values[k0])))
                elif r == 1:
                    out.append((resp_encode("GET", k1), {1}, bulk(values[k1])))
                elif r == 2:
                    out.append((resp_encode("MGET", k1, k0), {0, 1},
                                array([values[k1], values[k0]])))
                else:
                    out.append((resp_encode("SET", k1, values[k1]), {1}, b"+OK\r\n"))
            return out

        def pipeliner(i):
            reqs = plan(i)
            data = [b"".join(r for r, _, _ in reqs[:nreqs // 2]),
                    b"".join(r for r, _, _ in reqs[nreqs // 2:])]
            c = self.fleet.pool_client("gamma", timeout=PROMPT * 2)

            def send():
                try:
                    c.sock.sendall(data[0])
                    killed.wait(PROMPT * 2)
                    c.sock.sendall(data[1])
                except OSError:
                    pass           # closed after a failure, which the reader reports

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            try:
                first_error = None
                for j, (req, servers, want) in enumerate(reqs):
                    if j == 20 and i == 0:
                        started.set()
                    try:
                        raw = c.read_raw_reply()
                    except rp.ConnectionClosed:
                        # a reply the proxy had begun to stream when its server died cannot
                        # be finished: the proxy closes the client, after a true prefix
                        got = bytes(c.buf)
                        expect(0 in servers and want.startswith(got),
                               "client %d closed at reply %d (%r, servers %s) after %r, not a "
                               "prefix of %r" % (i, j, req[:40], sorted(servers), got[:100],
                                                 want[:100]))
                        outcome[i] = "closed in reply %d (%d bytes of %d)" % (j, len(got),
                                                                              len(want))
                        return
                    if raw == want:
                        expect(first_error is None or servers == {1},
                               "client %d, reply %d (%r): a value from the killed server after "
                               "an error at reply %s" % (i, j, req[:40], first_error))
                        continue
                    expect(0 in servers and raw.startswith(b"-ERR "),
                           "client %d, reply %d to %r (servers %s): got %r, want %r"
                           % (i, j, req[:40], sorted(servers), raw[:200], want[:100]))
                    if first_error is None:
                        first_error = j
                outcome[i] = "first error at reply %s" % first_error
            finally:
                # shut down before close, so that the sender's descriptor is not reused
                # under it
                try:
                    c.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sender.join(PROMPT)
                c.close()

        killer_errors = []

        def killer():
            if not started.wait(PROMPT * 2):
                killer_errors.append("the pipelines did not start")
            self.fleet.gamma[0].kill()
            killed.set()

        kt = threading.Thread(target=killer, daemon=True)
        kt.start()
        errors = run_threads(pipeliner, nclients, 60 * SCALE)
        kt.join(PROMPT * 3)
        self.assertNoErrors(errors, "pipeliners while a server is killed")
        self.assertEqual(killer_errors, [])
        note("server killed mid-pipeline (%d requests a client): %s"
             % (nreqs, "; ".join("%s" % outcome.get(i) for i in range(nclients))))
        self.assertTrue(all(v != "first error at reply None" for v in outcome.values()),
                        "a pipeline did not see the kill (all %d replies right): %s"
                        % (nreqs, outcome))
        # the other server's keys are served still; the killed one's fail, promptly
        with self.fleet.pool_client("gamma") as c:
            for k in keys[1]:
                self.assertEqual(c.command("GET", k), values[k])
            t0 = time.monotonic()
            got = c.command("GET", keys[0][0])
            self.assertTrue(isinstance(got, RespError), "GET from a dead server: %r" % (got,))
            self.assertLess(time.monotonic() - t0, 2.0)
        # back on its port (empty: no persistence): the pool serves its keys again
        self.fleet.gamma[0] = rp.start_redis(ports[0])

        def served():
            with self.fleet.pool_client("gamma") as c:
                return c.command("SET", keys[0][0], "back") == "OK" and \
                    c.command("GET", keys[0][0]) == b"back"

        self.assertTrue(rp.wait_until(served, SETTLE, 0.2),
                        "the restarted server's keys are not served again")
        # every worker's connection to it: a burst of clients spread over the workers
        for _ in range(8):
            with self.fleet.pool_client("gamma") as c:
                self.assertEqual(c.command("GET", keys[0][0]), b"back")
        self.finish("server killed mid-pipeline")


@ringproxy_only("client_reply_limit, clients_paused, the ringproxy: section and its memory bound")
class RdPipelinerTests(RdHostileMixin, unittest.TestCase):
    """client_reply_limit 8 MiB and max_spill_mb 32, so that the memory bound is tight."""

    REPLY_LIMIT = 8 * MiB
    BUFFERS, BUFFER_SIZE, MAX_SPILL_MB = 1024, 16384, 32
    POOL_OPTIONS = {"max_value_size": MAX_VALUE, "client_reply_limit": REPLY_LIMIT}
    RINGPROXY_SECTION = {"buffers": BUFFERS, "buffer_size": BUFFER_SIZE,
                         "max_spill_mb": MAX_SPILL_MB}
    PIPELINE_SECONDS = 5.0

    def test_non_reading_pipeliner(self):
        # 4 values of 1 MiB; a client with a 4 KiB receive buffer pipelines GETs of them for
        # several seconds and never reads (test_hostile.push_unread: should the proxy shed it,
        # it comes back). The proxy's RSS is sampled all along and read again at the end with a
        # pipeliner connected; it and the peak (VmHWM) must stay under the README's bound.
        big = {"big:%d" % i: random.Random(100 + i).randbytes(MiB) for i in range(4)}
        self.store(big, timeout=PROMPT * 2)
        order = sorted(big)
        st0 = self.stats()["ringproxy"]
        pid = self.proxy.pid
        requests = b"".join(resp_encode("GET", k) for k in order) * 100
        req_len = len(resp_encode("GET", order[0]))
        push = th.push_unread(lambda: RespClient(self.port, timeout=PROMPT, rcvbuf=4096),
                              requests, self.PIPELINE_SECONDS, pid)
        self.assertAlive("with a client pipelining without reading")
        rss = rss_bytes(pid)
        hwm = th.proc_status_kib(pid, "VmHWM") * th.KiB
        st = self.stats()
        conns = st["ringproxy"]["curr_connections"]
        bound = th.memory_bound_bytes(WORKERS, self.BUFFERS, self.BUFFER_SIZE, self.MAX_SPILL_MB,
                                      conns)
        delta = {k: st["ringproxy"][k] - st0[k]
                 for k in ("clients_paused", "clients_shed", "bytes_copied", "buffers_evacuated",
                           "requests")}
        timedout = self.server_timeouts()
        gets = push.sent // req_len
        note("pipeliner: %d GETs of 1 MiB values sent over %.0fs without reading, on %d "
             "connections (the proxy shed one at %s s); the proxy stopped taking them after "
             "%.2fs; proxy RSS %.1f MiB now (pipeliner connected), %.1f MiB largest sample, "
             "%.1f MiB peak (VmHWM); bound %.1f MiB (workers %d, buffers %d x %d, max_spill_mb "
             "%d, %d connections)%s; stats: %s, server_timedout %d"
             % (gets, self.PIPELINE_SECONDS, len(push.hogs), push.shed or "-",
                -1 if push.blocked_at is None else push.blocked_at, rss / MiB,
                max(push.samples) / MiB, hwm / MiB, bound / MiB, WORKERS, self.BUFFERS,
                self.BUFFER_SIZE, self.MAX_SPILL_MB, conns,
                " (sanitizer build: not asserted)" if SANITIZED else "",
                ", ".join("%s +%d" % kv for kv in sorted(delta.items())), timedout))
        with self.subTest("pipelined"):
            self.assertGreaterEqual(gets, 1000, "the pipeliner got only %d GETs in" % gets)
        with self.subTest("clients_paused"):
            self.assertGreater(delta["clients_paused"], 0,
                               "a client with thousands of GETs of 1 MiB unread was never "
                               "paused (client_reply_limit %d): %r"
                               % (self.REPLY_LIMIT, st["ringproxy"]))
        if not SANITIZED:
            with self.subTest("memory bound"):
                self.assertLessEqual(rss, bound, "proxy RSS %.1f MiB over the bound %.1f MiB"
                                     % (rss / MiB, bound / MiB))
                self.assertLessEqual(hwm, bound, "proxy peak RSS %.1f MiB over the bound "
                                     "%.1f MiB" % (hwm / MiB, bound / MiB))
        with self.subTest("servers not blamed"):
            self.assertEqual(timedout, 0, "a client that does not read made %d server "
                             "timeouts (server_timedout)" % timedout)
        # what the last pipeliner is sent, as far as it goes, is right: replies in order
        with self.subTest("pipelined replies"):
            hog = push.hog
            hog.sock.settimeout(PROMPT)
            for i in range(3):
                try:
                    raw = hog.read_raw_reply(timeout=PROMPT * 2)
                except rp.ConnectionClosed:
                    break     # shed meanwhile: nothing more to check on it
                k = order[i % 4]
                self.assertEqual(raw[:200], bulk(big[k])[:200],
                                 "pipelined reply %d (%s) is not the value" % (i, k))
                self.assertEqual(raw, bulk(big[k]), "pipelined reply %d (%s) is not the value"
                                 % (i, k))
        for h in push.hogs:
            h.close(reset=True)
        self.assertTrue(rp.wait_until(
            lambda: self.client_conns() <= self.conn_base + CANARY_CONNS, SETTLE),
            "the pipeliners' connections were not closed")
        time.sleep(1.0)
        note("pipeliners gone: proxy RSS %.1f MiB" % (rss_bytes(pid) / MiB))
        self.finish("non-reading pipeliner")


@ringproxy_only("the ringproxy: section, clients_shed")
class RdShedTests(RdHostileMixin, unittest.TestCase):
    """An arena of 64 buffers and 1 MiB of spill space a worker, so that non-reading clients
    use both up and the proxy sheds them (README: "When it is used up too, the worker closes
    the clients that hold the most"), while split MGETs wait for a stopped server.

    This found a crash: the pressure pass (worker_evacuate, run again by worker_shed) walked the
    keys of every split request, and a split redis MGET keeps none (its replies are matched by
    position), so the proxy died with SIGSEGV in msg_evacuate. It failed before that fix and
    passes after it."""

    SIDE_POOLS = True
    RINGPROXY_SECTION = {"buffers": 64, "max_spill_mb": 1}

    def test_shed_while_split_mgets_wait(self):
        # 4 clients send an MGET over pool gamma's two servers, the second of which is stopped
        # (SIGSTOP): the split MGETs wait in their clients' queues. 4 clients with a 4 KiB
        # receive buffer pipeline GETs of a 256 KiB value and read nothing: they fill arena
        # and spill space, and are shed. The proxy lives; once the server is continued, every
        # MGET gets its values (or, if the pool's 1 s timeout came first, an error); the
        # canary, on alpha, is served throughout.
        big = random.Random(12).randbytes(256 * 1024)
        self.store({"shed:big": big})
        cand = [spread_key("shed:", i) for i in range(200)]
        placed = self.fleet.placement("gamma", cand)
        ports = self.fleet.gamma_ports
        ka = next(k for k in cand if placed[k] == ports[0])
        kb = next(k for k in cand if placed[k] == ports[1])
        self.store({ka: b"value a", kb: b"value b"}, pool="gamma")
        shed0 = self.rp_stat("clients_shed")
        stopped = self.fleet.gamma[1]
        stopped.stop()
        self.addCleanup(stopped.cont)
        waiting = [self.fleet.pool_client("gamma") for _ in range(4)]
        for c in waiting:
            self.addCleanup(c.close)
            c.send_command("MGET", ka, kb)
        time.sleep(0.1)
        hogs = [RespClient(self.port, timeout=PROMPT, rcvbuf=4096) for _ in range(4)]
        requests = resp_encode("GET", "shed:big") * 64
        for h in hogs:
            self.addCleanup(h.close)
            h.sock.setblocking(False)
            try:
                h.sock.send(requests)
            except OSError:
                pass
        shed = rp.wait_until(lambda: not self.proxy.alive() or
                             self.rp_stat("clients_shed") > shed0, PROMPT, 0.05)
        self.assertAlive("shedding non-reading clients while split MGETs wait for a stopped "
                         "server (a proxy bug: see the class)")
        stopped.cont()
        answers = []
        for c in waiting:
            raw = c.read_raw_reply()
            answers.append(raw[:60])
            self.assertTrue(raw == array([b"value a", b"value b"]) or raw.startswith(b"-ERR "),
                            "MGET %s %s: %r" % (ka, kb, raw[:200]))
        note("shedding: clients_shed +%d; the waiting MGETs got %s"
             % (self.rp_stat("clients_shed") - shed0, answers))
        self.assertTrue(shed, "4 clients with 16 MiB of replies unread each, 64 buffers and "
                        "1 MiB of spill space a worker: nobody was shed")
        for h in hogs:
            h.close(reset=True)
        for c in waiting:
            c.close()
        self.finish("shedding while split MGETs wait")


if __name__ == "__main__":
    unittest.main()

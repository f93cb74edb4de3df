"""The meta protocol through the proxy, against real memcached: thousands of quiet gets over four
servers ended by mn, base64 keys of binary bytes (placed like their plain form), 1 MiB values,
the mg flags of everyday use and of stale-while-revalidate compared with a memcached of its own,
a server killed in the middle of a meta pipeline, and the counters. Two workers throughout
(clients land on both), both engines (run.py's RINGPROXY_IO).

Every socket operation has a timeout; nothing asserts on speed. The byte-for-byte comparison of
single requests and their errors is test_differential's (mc_corpus META_CASES); these tests are
about many servers, many requests and failures."""

import base64
import os
import random
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import MemcacheClient, expect, ringproxy_only, run_threads  # noqa: E402

WORKERS = 2
NSPREAD = 8          # clients opened at once so that both workers get some
MIB = 1 << 20


def key_of(base, i):
    """Keys that spread over servers (a pseudo-random suffix)."""
    return b"%s%d-%08x" % (base, i, zlib.crc32(b"%s%d" % (base, i)))


def read_meta(client, timeout=None):
    """One meta reply: (line, data or None)."""
    line = client.read_line(timeout)
    if line.startswith(b"VA "):
        n = int(line.split(b" ")[1])
        block = client.read_exact(n + 2, timeout)
        if block[-2:] != b"\r\n":
            raise AssertionError("VA block of %r not ended by CRLF" % line)
        return line, block[:-2]
    return line, None


def read_until_mn(client, timeout=None):
    """Meta replies up to the MN that ends them: [(line, data or None)]."""
    out = []
    while True:
        line, data = read_meta(client, timeout)
        if line == b"MN":
            return out
        out.append((line, data))


def exchange(port, data, timeout=30):
    """Sends data on a fresh connection and reads until the last mn's MN (data must end with
    mn). Returns the raw reply."""
    with MemcacheClient(port, timeout=timeout) as c:
        c.send(data)
        raw = bytearray()
        while not raw.endswith(b"MN\r\n") or raw.count(b"MN\r\n") < data.count(b"mn\r\n"):
            raw += c.recv_some()
            if not raw:
                raise AssertionError("closed")
        return bytes(raw)


@ringproxy_only("meta protocol: nutcracker does not carry it")
class MetaFleet(unittest.TestCase):
    """Four memcached (2 MiB items), one proxy of two workers in front."""

    @classmethod
    def setUpClass(cls):
        cls.fleet = rp.ProxyFleet(nservers=4, workers=WORKERS,
                                  pool_options={"max_value_size": 2 * MIB}).start()

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()

    def tearDown(self):
        problems = self.fleet.proxy.health_problems()
        self.assertFalse(problems, problems)

    def holders(self, raw_key, b64=False):
        """Indices of the backends that hold the key (asked with mg directly)."""
        tok = base64.b64encode(raw_key) if b64 else raw_key
        out = []
        for i in range(4):
            with self.fleet.direct(i) as d:
                d.send(b"mg %s%s\r\n" % (tok, b" b" if b64 else b""))
                if d.read_line() == b"HD":
                    out.append(i)
        return out

    def test_quiet_gets_over_four_servers(self):
        """5,000 quiet gets (every third key stored) over four servers, then mn, from several
        clients at once: each sees exactly its hits, in its order, and the MN after them."""
        keys = [key_of(b"q", i) for i in range(5000)]
        stored = {k: b"v-" + k for k in keys[::3]}
        with self.fleet.client() as c:
            c.send(b"".join(b"ms %s %d T0 q\r\n%s\r\n" % (k, len(v), v)
                            for k, v in stored.items()) + b"mn\r\n")
            self.assertEqual(read_until_mn(c), [])
        spread = {i for k in list(stored)[:200] for i in self.holders(k)}
        self.assertEqual(spread, {0, 1, 2, 3}, "the keys should live on every server")
        want = [(b"VA %d k%s" % (len(stored[k]), k), stored[k]) for k in keys if k in stored]
        request = b"".join(b"mg %s v k q\r\n" % k for k in keys) + b"mn\r\n"

        def one(i):
            with self.fleet.client(timeout=30) as c:
                c.send(request)
                got = read_until_mn(c, timeout=30)
                expect(got == want, "client %d: %d replies, want %d (first %r)"
                       % (i, len(got), len(want), got[:1]))
                c.send(b"mn\r\n")
                expect(c.read_line() == b"MN", "client %d: a second mn" % i)
        errors = run_threads(one, NSPREAD, timeout=120)
        self.assertFalse(errors, errors)

    def test_mn_waits_for_every_server(self):
        """An mn after quiet requests to four servers, one of them slow (stopped for a moment):
        the MN comes after the slow server's hit, never before."""
        keys = [key_of(b"w", i) for i in range(64)]
        with self.fleet.client() as c:
            for k in keys:
                c.send(b"ms %s 1\r\nx\r\n" % k)
                self.assertEqual(c.read_line(), b"HD")
        slow = self.holders(keys[0])[0]
        self.fleet.memcached[slow].stop()
        c = self.fleet.client()
        try:
            c.send(b"".join(b"mg %s v k q\r\n" % k for k in keys) + b"mn\r\n")
            try:
                early = c.recv_some(timeout=0.5)
            except (TimeoutError, OSError):
                early = b""
            # the first key's server holds every reply back: nothing may come yet
            self.assertEqual(early, b"")
        finally:
            self.fleet.memcached[slow].cont()
        try:
            got = read_until_mn(c, timeout=10)
            self.assertEqual(got, [(b"VA 1 k%s" % k, b"x") for k in keys])
        finally:
            c.close()

    def test_base64_binary_keys(self):
        """Keys of binary bytes sent in base64: stored and read back through the proxy, each
        held by exactly one backend, and a printable key in base64 reaches the same item (and
        server) as the same key in plain text."""
        rnd = random.Random(11)
        raws = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 187)))
                for _ in range(120)]
        with self.fleet.client() as c:
            for n, raw in enumerate(raws):
                tok = base64.b64encode(raw)
                c.send(b"ms %s %d b\r\n%s\r\n" % (tok, len(b"%d" % n), b"%d" % n))
                self.assertEqual(c.read_line(), b"HD")
            for n, raw in enumerate(raws):
                tok = base64.b64encode(raw)
                c.send(b"mg %s b v k\r\n" % tok)
                self.assertEqual(read_meta(c), (b"VA %d k%s b" % (len(b"%d" % n), tok), b"%d" % n))
        for raw in raws[:12]:
            self.assertEqual(len(self.holders(raw, b64=True)), 1, raw)
        plain = [key_of(b"plain", i) for i in range(40)]
        with self.fleet.client() as c:
            for k in plain:
                c.send(b"ms %s 5\r\nplain\r\n" % k)
                self.assertEqual(c.read_line(), b"HD")
            for k in plain:
                c.send(b"mg %s b v\r\n" % base64.b64encode(k))
                self.assertEqual(read_meta(c), (b"VA 5", b"plain"), k)
        routed = self.fleet.proxy.route([k.decode() for k in plain], pool="alpha")
        for k in plain:
            host, port, _ = routed[k.decode()]["alpha"]
            self.assertEqual(self.holders(k), [self.fleet.ports.index(port)], k)

    def test_one_mib_values(self):
        """ms of 1 MiB values (and one just under the pool's 2 MiB limit), read back whole with
        mg v, quiet and not; a value over the limit is refused and its old value unlinked."""
        rnd = random.Random(3)
        values = {key_of(b"big", i): rnd.randbytes(MIB) for i in range(6)}
        with self.fleet.client(timeout=30) as c:
            for k, v in values.items():
                c.send(b"ms %s %d T0\r\n" % (k, len(v)) + v + b"\r\n")
                self.assertEqual(c.read_line(), b"HD")
            for k, v in values.items():
                c.send(b"mg %s v s\r\n" % k)
                self.assertEqual(read_meta(c, timeout=30), (b"VA %d s%d" % (MIB, MIB), v))
            c.send(b"".join(b"mg %s v q k\r\n" % k for k in values) + b"mn\r\n")
            got = read_until_mn(c, timeout=30)
            self.assertEqual(got, [(b"VA %d k%s" % (MIB, k), v) for k, v in values.items()])
            k = key_of(b"big", 0)
            near = 2 * MIB - 4096
            c.send(b"ms %s %d\r\n" % (k, near) + b"n" * near + b"\r\nmg %s s\r\n" % k)
            self.assertEqual(c.read_line(), b"HD")
            self.assertEqual(c.read_line(), b"HD s%d" % near)
            over = 2 * MIB + 1
            c.send(b"ms %s %d\r\n" % (k, over) + b"o" * over + b"\r\nmg %s v\r\n" % k)
            self.assertEqual(c.read_line(), b"SERVER_ERROR object too large for cache")
            self.assertEqual(c.read_line(), b"EN")

    def test_stale_while_revalidate_like_memcached(self):
        """The flags of anti-dogpiling, key by key over four servers, compared with one memcached
        running the same steps: vivify on miss (N: W to the first, Z to the others), invalidate
        (md I, then X W to the first reader), recache (R: a W when the TTL is low), the
        winner's ms, and the reads after it; v f s t k O q too. cas values (c) are per server
        and left out."""
        steps = [
            b"mg %(k)s N30 v s t\r\n", b"mg %(k)s N30 v s t\r\n", b"mg %(k)s v f k O1\r\n",
            b"ms %(k)s 3 T60 F9\r\nnew\r\n", b"mg %(k)s v f t s\r\n",
            b"md %(k)s I T30\r\n", b"mg %(k)s v t\r\n", b"mg %(k)s v t\r\n",
            b"ms %(k)s 5 I\r\nnewer\r\n", b"mg %(k)s v\r\n",
            b"ms %(k)s 4 T100\r\nlast\r\n", b"mg %(k)s R200 v\r\n", b"mg %(k)s R30 v\r\n",
            b"mg %(k)s v q\r\nmg %(k)sx v q k O5\r\nmn\r\n",
        ]
        direct = rp.start_memcached(extra_args=("-I", "2m"))
        try:
            for i in range(24):
                k = key_of(b"swr", i)
                data = b"".join(s % {b"k": k} for s in steps)
                mine = exchange(self.fleet.port, data)
                theirs = exchange(direct.port, data)
                self.assertEqual(mine, theirs, "key %r" % k)
                self.assertIn(b" W", mine)
                self.assertIn(b" Z", mine)
                self.assertIn(b" X", mine)
        finally:
            direct.kill()

    def test_mixed_pipeline_order(self):
        """Text and meta requests on one connection, keys over every server: replies in request
        order (each reply names its key or value)."""
        keys = [key_of(b"mix", i) for i in range(300)]
        req = bytearray()
        want = bytearray()
        for n, k in enumerate(keys):
            if n % 2:
                req += b"set %s 0 0 %d\r\n%d\r\n" % (k, len(b"%d" % n), n)
                want += b"STORED\r\n"
            else:
                req += b"ms %s %d q\r\n%d\r\n" % (k, len(b"%d" % n), n)
            req += b"mg %s v k\r\nget %s\r\n" % (k, k)
            want += b"VA %d k%s\r\n%d\r\n" % (len(b"%d" % n), k, n)
            want += b"VALUE %s 0 %d\r\n%d\r\nEND\r\n" % (k, len(b"%d" % n), n)
        req += b"mn\r\n"
        want += b"MN\r\n"
        self.assertEqual(exchange(self.fleet.port, bytes(req)), bytes(want))

    def test_meta_commands_are_counted(self):
        """pool_commands_total counts each meta command, mn (which the proxy answers) too."""
        before = self.commands()
        with self.fleet.client() as c:
            c.send(b"ms cnt 1\r\n1\r\nmg cnt v\r\nmd cnt q\r\nma cnt\r\nme cnt\r\nmn\r\nmn\r\n")
            for want in (b"HD", b"VA 1", b"1", b"NF", b"EN", b"MN", b"MN"):
                self.assertEqual(c.read_line(), want)
        after = self.commands()
        for cmd, n in (("ms", 1), ("mg", 1), ("md", 1), ("ma", 1), ("me", 1), ("mn", 2)):
            self.assertEqual(after.get(cmd, 0) - before.get(cmd, 0), n, cmd)

    def commands(self):
        from test_metrics import PARSE, http_get
        if PARSE is None:
            self.skipTest("python3-prometheus-client is not installed")
        out = {}
        body = http_get(self.fleet.proxy.stats_port, "/metrics")[2].decode()
        for fam in PARSE(body):
            for smp in fam.samples:
                if (smp.name == "ringproxy_pool_commands_total"
                        and smp.labels.get("pool") == "alpha"):
                    out[smp.labels["command"]] = int(smp.value)
        return out


@ringproxy_only("meta protocol: nutcracker does not carry it")
class MetaServerKilled(unittest.TestCase):
    """A server killed while a meta pipeline over four servers is in flight."""

    def test_server_killed_mid_pipeline(self):
        """Every request gets its reply or a SERVER_ERROR (quiet ones too: only their misses and
        successes are silent), in order; the MN comes; the connection stays usable; the other
        servers' keys still answer."""
        with rp.ProxyFleet(nservers=4, workers=WORKERS,
                           pool_options={"timeout": 2000}) as fleet:
            keys = [key_of(b"kill", i) for i in range(4000)]
            with fleet.client() as c:
                c.send(b"".join(b"ms %s 1 q\r\nx\r\n" % k for k in keys) + b"mn\r\n")
                self.assertEqual(read_until_mn(c), [])
            victim = 2
            routed = fleet.proxy.route([k.decode() for k in keys], pool="alpha")
            on_victim = {k for k in keys
                         if routed[k.decode()]["alpha"][1] == fleet.ports[victim]}
            self.assertTrue(on_victim)
            request = b"".join(b"mg %s v q k\r\nmg %s s\r\n" % (k, k) for k in keys) + b"mn\r\n"
            c = fleet.client(timeout=30)
            try:
                c.send(request[:len(request) // 3])
                time.sleep(0.05)
                fleet.memcached[victim].kill()
                c.send(request[len(request) // 3:])
                got = read_until_mn(c, timeout=30)
                # walk the replies in request order: a live key gives its VA then "HD s1"; a
                # key of the dead server gives a SERVER_ERROR for each request or, answered
                # before the kill, its normal replies
                pos = 0
                failed = 0
                for k in keys:
                    for normal in ((b"VA 1 k%s" % k, b"x"), (b"HD s1", None)):
                        line, data = got[pos]
                        pos += 1
                        if (line, data) == normal:
                            continue
                        self.assertTrue(line.startswith(b"SERVER_ERROR "), (k, line))
                        self.assertIn(k, on_victim, "a live server's key failed: %r" % k)
                        failed += 1
                self.assertEqual(pos, len(got), "replies left over")
                self.assertGreater(failed, 0, "no request met the dead server")
                live = next(k for k in keys if k not in on_victim)
                c.send(b"mg %s v\r\nmn\r\n" % live)
                self.assertEqual(read_meta(c), (b"VA 1", b"x"))
                self.assertEqual(c.read_line(), b"MN")
            finally:
                c.close()
            self.assertFalse(fleet.proxy.health_problems())


if __name__ == "__main__":
    unittest.main()

"""Routes over pools (ringproxy only): a listening pool whose `route:` replicates over, or fails
over between, pools that have no `listen` of their own. Real memcached behind them, two workers,
both engines (run.py runs the suite once per engine).

    front:   listen, route: {replicate: [east, west], ...} or {failover: [east, west], ...}
    east:    2 memcached        west: 2 memcached

Killing both servers of a pool is the failure: every request of a replicated read must still
hit, writes answer as `writes:` says, and once the servers are back, writes reach both pools
again. Failover sends a request on to the next pool when the first fails, and a miss only with
`on_miss`."""

import os
import random
import shutil
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import HOST, MemcacheClient, ringproxy_only  # noqa: E402

WORKERS = 2
PROMPT = 8.0


def key_of(i):
    return "route:%d-%08x" % (i, zlib.crc32(b"route%d" % i))


def pool_text(name, ports, listen=None):
    lines = ["%s:" % name]
    if listen:
        lines.append("  listen: %s:%d" % (HOST, listen))
    lines += ["  hash: fnv1a_64", "  distribution: ketama", "  timeout: 400",
              "  server_connections: 1", "  auto_eject_hosts: false", "  servers:"]
    lines += ["   - %s:%d:1" % (HOST, p) for p in ports]
    return "\n".join(lines) + "\n"


class BackendCase(unittest.TestCase):
    """A test over NSERVERS backends of its own (START: how one starts on a port; index i of
    self.servers, None once killed) and one proxy (self.proxy), which after the test must still
    run with a clean log."""

    NSERVERS = 4
    START = staticmethod(rp.start_memcached)

    def setUp(self):
        self.ports = [rp.free_port() for _ in range(self.NSERVERS)]
        self.servers = [self.START(p) for p in self.ports]
        self.proxy = None

    def tearDown(self):
        problems = self.proxy.health_problems() if self.proxy else []
        if self.proxy:
            self.proxy.terminate()
        for m in self.servers:
            if m is not None:
                m.kill()
        self.assertEqual(problems, [], self.proxy.log_tail() if self.proxy else "")

    def kill(self, which):
        for i in which:
            self.servers[i].kill()
            self.servers[i] = None

    def revive(self, which):
        for i in which:
            self.servers[i] = self.START(self.ports[i])


@ringproxy_only("routes are ringproxy's")
class RouteTests(BackendCase):

    def start(self, route):
        self.port = rp.free_port()
        text = ("front:\n  listen: %s:%d\n  route:\n" % (HOST, self.port) +
                "".join("    %s: %s\n" % (k, v) for k, v in route.items()) +
                pool_text("east", self.ports[:2]) + pool_text("west", self.ports[2:]))
        self.proxy = rp.start_ringproxy(text, workers=WORKERS)
        return self.proxy

    def direct(self, i):
        return MemcacheClient(self.ports[i], timeout=PROMPT)

    def on_servers(self, key, servers):
        """The value of key on each of servers (None: not there)."""
        out = []
        for i in servers:
            with self.direct(i) as d:
                out.append(d.get(key))
        return out

    def rp_stat(self, name):
        return self.proxy.stats()["ringproxy"][name]

    def clients(self, n=6):
        cs = [MemcacheClient(self.port, timeout=PROMPT) for _ in range(n)]
        self.addCleanup(lambda: [c.close() for c in cs])
        return cs

    # -- replicate --------------------------------------------------------------------------

    def test_replicate_writes_reach_both_pools_and_reads_survive_one(self):
        self.start({"replicate": "[east, west]", "writes": "all"})
        keys = [key_of(i) for i in range(200)]
        cs = self.clients()
        for i, k in enumerate(keys):
            self.assertEqual(cs[i % len(cs)].set(k, b"v-" + k.encode()), b"STORED", k)
        # every key is on exactly one server of each pool
        for k in keys[:40]:
            east, west = self.on_servers(k, [0, 1]), self.on_servers(k, [2, 3])
            self.assertEqual(sum(v is not None for v in east), 1, (k, east))
            self.assertEqual(sum(v is not None for v in west), 1, (k, west))
        # a delete and an incr go to both
        self.assertEqual(cs[0].cmd("delete %s" % keys[0]), b"DELETED")
        self.assertEqual(self.on_servers(keys[0], [0, 1, 2, 3]), [None] * 4)
        self.assertEqual(cs[0].set(keys[0], b"5"), b"STORED")
        self.assertEqual(cs[1].cmd("incr %s 3" % keys[0]), b"8")
        self.assertEqual(sorted(v for v in self.on_servers(keys[0], [0, 1, 2, 3]) if v),
                         [b"8", b"8"])

        # the first pool (east) dies: every read still hits, from west
        self.kill([0, 1])
        retries0 = self.rp_stat("route_retries")
        for i, k in enumerate(keys[1:]):
            self.assertEqual(cs[i % len(cs)].get(k), b"v-" + k.encode(), k)
        self.assertGreater(self.rp_stat("route_retries") - retries0, 0)
        # so does a multi-key get, every key of it (gets too)
        for verb in ("get", "gets"):
            raw, items = cs[0].get_multi(keys[1:60], verb=verb)
            self.assertIsNotNone(items, raw[:200])
            got = {k: v for k, _, v, _ in items}
            self.assertEqual(got, {k: b"v-" + k.encode() for k in keys[1:60]}, verb)
        # writes with `writes: all` say which pool failed
        r = cs[0].set(keys[1], b"new")
        self.assertTrue(r.startswith(b"SERVER_ERROR") and b"'east'" in r, r)
        self.assertEqual(self.on_servers(keys[1], [2, 3]).count(b"new"), 1)
        self.assertGreater(self.rp_stat("route_replica_errors"), 0)
        # ... counted for that pool, in the JSON and in the metrics, and for it only
        pools = self.rp_stat("pools")
        self.assertGreater(pools["east"]["replica_errors"], 0, pools)
        self.assertEqual(pools["west"]["replica_errors"], 0, pools)
        self.assertEqual(pools["east"]["replica_errors"], self.rp_stat("route_replica_errors"))
        from test_metrics import http_get, samples
        got = samples(http_get(self.proxy.stats_port, "/metrics")[2].decode())
        self.assertEqual(got[("ringproxy_pool_replica_errors_total",
                              frozenset({("pool", "east")}))], pools["east"]["replica_errors"])
        self.assertEqual(got[("ringproxy_pool_replica_errors_total",
                              frozenset({("pool", "west")}))], 0)

        # back: writes reach both pools again
        self.revive([0, 1])
        ok = rp.wait_until(lambda: cs[2].set(keys[2], b"again") == b"STORED", PROMPT)
        self.assertTrue(ok, "writes did not reach both pools once east was back")
        self.assertEqual(sorted(v for v in self.on_servers(keys[2], [0, 1, 2, 3]) if v),
                         [b"again", b"again"])

    def test_replicate_under_load_while_a_pool_dies_and_returns(self):
        # 4 clients loop over gets (single and multi-key) and sets while both servers of east
        # are killed, then started again: no read ever misses or fails; a set answers STORED or
        # names 'east'; once east is back, sets are STORED on both pools again
        self.start({"replicate": "[east, west]", "writes": "all"})
        keys = [key_of(8000 + i) for i in range(120)]
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            for k in keys:
                self.assertEqual(c.set(k, b"L-" + k.encode()), b"STORED")
        phase = {"stop": False}
        bad = []
        counts = {"reads": 0, "east_errors": 0}

        def worker(i):
            rng = random.Random(i)
            c = MemcacheClient(self.port, timeout=PROMPT)
            try:
                while not phase["stop"]:
                    k = rng.choice(keys)
                    if rng.random() < 0.2:
                        r = c.storage_request("set", k, b"L-" + k.encode())
                        c.send(r)
                        line = c.read_line()
                        if line.startswith(b"SERVER_ERROR") and b"'east'" in line:
                            counts["east_errors"] += 1
                        elif line != b"STORED":
                            bad.append("set %s: %r" % (k, line))
                    elif rng.random() < 0.5:
                        ks = rng.sample(keys, 10)
                        raw, items = c.get_multi(ks)
                        got = {x[0]: x[2] for x in items or []}
                        if got != {x: b"L-" + x.encode() for x in ks}:
                            bad.append("multi-get: %r" % raw[:120])
                        counts["reads"] += 1
                    else:
                        if c.get(k) != b"L-" + k.encode():
                            bad.append("get %s missed" % k)
                        counts["reads"] += 1
            finally:
                c.close()

        threads = [__import__("threading").Thread(target=worker, args=(i,), daemon=True)
                   for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.kill([0, 1])
        time.sleep(1.5)
        self.revive([0, 1])
        time.sleep(1.0)
        phase["stop"] = True
        for t in threads:
            t.join(PROMPT * 2)
        self.assertFalse(any(t.is_alive() for t in threads), "a client hung")
        self.assertEqual(bad[:5], [], "%d bad answers" % len(bad))
        self.assertGreater(counts["reads"], 100)
        self.assertGreater(counts["east_errors"], 0)
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            self.assertTrue(rp.wait_until(lambda: c.set(keys[0], b"after") == b"STORED", PROMPT))
        self.assertEqual(sorted(v for v in self.on_servers(keys[0], [0, 1, 2, 3]) if v),
                         [b"after", b"after"])

    def test_replicate_multiget_asks_the_next_pool_for_its_misses(self):
        self.start({"replicate": "[east, west]"})
        keys = [key_of(7000 + i) for i in range(40)]
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            for k in keys[:20]:
                self.assertEqual(c.set(k, b"both"), b"STORED")
            # the others only on west's servers (as if east had lost them)
            for k in keys[20:]:
                for i in (2, 3):
                    with self.direct(i) as d:
                        d.set(k, b"west")
            raw, items = c.get_multi(keys + [key_of(7999)])
            self.assertIsNotNone(items, raw[:200])
            got = {k: v for k, _, v, _ in items}
            want = {k: b"both" for k in keys[:20]}
            want.update({k: b"west" for k in keys[20:]})
            self.assertEqual(got, want)   # in the client's order, the absent key left out
            self.assertEqual([k for k, _, _, _ in items], keys)

    def test_replicate_writes_one_answer_with_a_pool_down(self):
        self.start({"replicate": "[east, west]", "writes": "one"})
        self.kill([2, 3])
        cs = self.clients()
        keys = [key_of(1000 + i) for i in range(60)]
        for i, k in enumerate(keys):
            self.assertEqual(cs[i % len(cs)].set(k, b"x" * 10), b"STORED", k)
        for i, k in enumerate(keys):
            self.assertEqual(cs[i % len(cs)].get(k), b"x" * 10, k)
        self.assertTrue(rp.wait_until(lambda: self.rp_stat("route_replica_errors") >= 60,
                                      PROMPT), self.proxy.stats()["ringproxy"])

    def test_replicate_noreply_writes_and_a_gone_client(self):
        self.start({"replicate": "[east, west]"})
        c = MemcacheClient(self.port, timeout=PROMPT)
        keys = [key_of(2000 + i) for i in range(50)]
        c.send(b"".join(c.storage_request("set", k, b"nr", noreply=True) for k in keys))
        self.assertEqual(c.cmd("version")[:8], b"VERSION ")
        c.close()
        gone = MemcacheClient(self.port, timeout=PROMPT)
        gone.send(b"".join(b"get %s\r\n" % k.encode() for k in keys))
        gone.close(reset=True)
        with MemcacheClient(self.port, timeout=PROMPT) as c2:
            for k in keys:
                self.assertEqual(c2.get(k), b"nr", k)
        for k in keys[:10]:
            self.assertEqual(sorted(v for v in self.on_servers(k, [0, 1, 2, 3]) if v),
                             [b"nr", b"nr"], k)

    # -- failover ---------------------------------------------------------------------------

    def test_failover_to_the_backup_pool(self):
        self.start({"failover": "[east, west]"})
        cs = self.clients()
        k = key_of(3000)
        self.assertEqual(cs[0].set(k, b"primary"), b"STORED")
        self.assertEqual(self.on_servers(k, [2, 3]), [None, None], "failover wrote the backup")
        # a key only the backup has: a miss is not failed over without on_miss
        only = key_of(3001)
        for i in (2, 3):
            with self.direct(i) as d:
                d.set(only, b"backup")
        self.assertIsNone(cs[1].get(only))
        # the primary dies: its keys' requests go to the backup
        self.kill([0, 1])
        self.assertEqual(cs[2].get(only), b"backup")
        self.assertEqual(cs[3].set(k, b"moved"), b"STORED")
        self.assertEqual(self.on_servers(k, [2, 3]).count(b"moved"), 1)

    def test_failover_on_miss(self):
        self.start({"failover": "[east, west]", "on_miss": "true"})
        only = key_of(4001)
        for i in (2, 3):
            with self.direct(i) as d:
                d.set(only, b"backup")
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            self.assertEqual(c.get(only), b"backup")
            self.assertIsNone(c.get(key_of(4002)))

    def test_meta_commands_through_a_route(self):
        self.start({"replicate": "[east, west]"})
        k = key_of(6000)
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            # quiet sets: nothing back but the mn's MN
            c.send(b"ms %s 2 q\r\nzz\r\nmn\r\n" % k.encode())
            self.assertEqual(c.read_line(), b"MN")
            self.assertEqual(sorted(v for v in self.on_servers(k, [0, 1, 2, 3]) if v),
                             [b"zz", b"zz"])
            c.send(b"mg %s v\r\n" % k.encode())
            self.assertEqual(c.read_line(), b"VA 2")
            self.assertEqual(c.read_line(), b"zz")
            c.send(b"md %s q\r\nmn\r\n" % k.encode())
            self.assertEqual(c.read_line(), b"MN")
            self.assertEqual(self.on_servers(k, [0, 1, 2, 3]), [None] * 4)
            c.send(b"mg %s v\r\n" % k.encode())
            self.assertEqual(c.read_line(), b"EN")

    def test_broadcast_and_version_through_a_route(self):
        self.start({"replicate": "[east, west]"})
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            self.assertEqual(c.set(key_of(5000), b"z"), b"STORED")
            self.assertEqual(c.cmd("flush_all"), b"OK")
            self.assertEqual(self.on_servers(key_of(5000), [0, 1, 2, 3]), [None] * 4)
            self.assertTrue(c.cmd("version").startswith(b"VERSION "))


@ringproxy_only("routes are ringproxy's")
class RedisRouteTests(BackendCase):
    """The same routes over redis pools (one redis-server each): single-key commands, writes to
    both, reads from one with fallback; multi-key and random commands refused."""

    NSERVERS = 2
    START = staticmethod(rp.start_redis)

    def setUp(self):
        if shutil.which("redis-server") is None:
            self.skipTest("redis-server is not installed")
        BackendCase.setUp(self)

    def start(self, route):
        self.port = rp.free_port()
        pool = ("  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n  timeout: 400\n"
                "  server_connections: 1\n  servers:\n")
        text = ("front:\n  listen: %s:%d\n  redis: true\n  route:\n" % (HOST, self.port) +
                "".join("    %s: %s\n" % (k, v) for k, v in route.items()) +
                "east:\n" + pool + "   - %s:%d:1\n" % (HOST, self.ports[0]) +
                "west:\n" + pool + "   - %s:%d:1\n" % (HOST, self.ports[1]))
        self.proxy = rp.start_ringproxy(text, workers=WORKERS)

    def direct(self, i):
        c = rp.RespClient(self.ports[i], timeout=PROMPT)
        self.addCleanup(c.close)
        return c

    def test_replicate(self):
        self.start({"replicate": "[east, west]"})
        c = rp.RespClient(self.port, timeout=PROMPT)
        self.addCleanup(c.close)
        self.assertEqual(c.command("SET", "rk1", "one"), "OK")
        self.assertEqual([self.direct(i).command("GET", "rk1") for i in (0, 1)], [b"one"] * 2)
        self.assertEqual(c.command("INCR", "rn"), 1)
        self.assertEqual(c.command("HSET", "rh", "f", "v"), 1)
        self.assertEqual(c.command("HGET", "rh", "f"), b"v")
        self.assertEqual([self.direct(i).command("GET", "rn") for i in (0, 1)], [b"1"] * 2)
        self.assertEqual(c.command("DEL", "rn"), 1)
        self.assertEqual([self.direct(i).command("EXISTS", "rn") for i in (0, 1)], [0, 0])
        # a key only west has: the miss on east falls back
        self.direct(1).command("SET", "only-west", "w")
        self.assertEqual(c.command("GET", "only-west"), b"w")
        self.assertIsNone(c.command("GET", "nowhere"))
        # what a route does not carry
        r = c.command("MGET", "rk1", "rh")
        self.assertTrue(isinstance(r, rp.RespError) and "single-key" in r, r)
        r = c.command("SPOP", "rs")
        self.assertTrue(isinstance(r, rp.RespError) and "'spop'" in r, r)
        # a command's own error is its answer, not a failure
        r = c.command("INCR", "rk1")
        self.assertTrue(isinstance(r, rp.RespError) and "not an integer" in r, r)
        # east dies: reads come from west; writes say which pool failed
        self.kill([0])
        self.assertEqual(c.command("GET", "rk1"), b"one")
        r = c.command("SET", "rk2", "two")
        self.assertTrue(isinstance(r, rp.RespError) and "'east'" in r, r)
        self.assertEqual(self.direct(1).command("GET", "rk2"), b"two")

    def test_failover(self):
        self.start({"failover": "[east, west]"})
        c = rp.RespClient(self.port, timeout=PROMPT)
        self.addCleanup(c.close)
        self.assertEqual(c.command("SET", "fk", "primary"), "OK")
        self.assertIsNone(self.direct(1).command("GET", "fk"))
        self.kill([0])
        self.assertEqual(c.command("SET", "fk", "backup"), "OK")
        self.assertEqual(self.direct(1).command("GET", "fk"), b"backup")
        self.assertEqual(c.command("GET", "fk"), b"backup")


@ringproxy_only("reshard_warmup is ringproxy's")
class WarmupTests(BackendCase):
    """A pool of 2 memcached gets a third by reload. With `reshard_warmup`, a get that misses on
    a key's new server is read from its old one and copied over, so every key still hits and
    the moved keys end up on the new server; without it, the moved keys miss (the control)."""

    NKEYS = 10000
    NSERVERS = 3

    def conf(self, nservers, warmup):
        return ("p:\n  listen: %s:%d\n  reshard_warmup: %d\n" % (HOST, self.port, warmup) +
                "".join(pool_text("x", self.ports[:nservers]).splitlines(True)[1:]))

    def start(self, warmup, nservers=2):
        self.port = rp.free_port()
        self.proxy = rp.start_ringproxy(self.conf(nservers, warmup), workers=WORKERS)

    def grow(self, warmup, nservers=3):
        """Reloads with the first nservers servers (a third added, or, from 3 to 2, one
        removed)."""
        with open(self.proxy.conf_path, "w") as f:
            f.write(self.conf(nservers, warmup))
        before = self.proxy.stats()["ringproxy"]["conf_reloads"]
        self.proxy.signal(__import__("signal").SIGHUP)
        self.assertTrue(rp.wait_until(
            lambda: self.proxy.stats()["ringproxy"]["conf_reloads"] == before + 1, 10))
        time.sleep(0.3)  # every worker moves over between two batches of events

    def get_all(self, keys, conns):
        """{key: value or None} by single-key gets, pipelined 100 at a time per connection."""
        out = {}
        for start in range(0, len(keys), 100 * len(conns)):
            batch = keys[start:start + 100 * len(conns)]
            parts = [batch[i::len(conns)] for i in range(len(conns))]
            for c, part in zip(conns, parts):
                c.send(b"".join(b"get %s\r\n" % k.encode() for k in part))
            for c, part in zip(conns, parts):
                for k in part:
                    raw, items = c.read_values(PROMPT)
                    out[k] = items[0][2] if items else None
        return out

    def holders(self, key):
        got = []
        for i, p in enumerate(self.ports):
            if self.servers[i] is None:
                continue  # killed
            with MemcacheClient(p, timeout=PROMPT) as d:
                if d.get(key) is not None:
                    got.append(i)
        return got

    def fill(self):
        keys = [key_of(10000 + i) for i in range(self.NKEYS)]
        rp.mc_set_many_bytes(self.port, [(k.encode(), b"w-" + k.encode()) for k in keys])
        return keys

    def test_every_get_hits_after_a_server_is_added(self):
        self.start(60)
        keys = self.fill()
        self.grow(60)
        conns = [MemcacheClient(self.port, timeout=PROMPT) for _ in range(4)]
        self.addCleanup(lambda: [c.close() for c in conns])
        # the last 1,000 keys are kept unread for the writes below
        routes = route_map(self.proxy, keys)
        new_addr = "%s:%d" % (HOST, self.ports[2])
        unread = [k for k in keys[-1000:] if routes[k] == new_addr]
        # half by single-key gets, half by 20-key gets
        got = self.get_all(keys[:4500], conns)
        for i in range(4500, len(keys) - 1000, 20):
            raw, items = conns[i % len(conns)].get_multi(keys[i:i + 20])
            self.assertIsNotNone(items, raw[:200])
            got.update({k: None for k in keys[i:i + 20]})
            got.update({k: v for k, _, v, _ in items})
        missed = [k for k in keys[:-1000] if got[k] != b"w-" + k.encode()]
        self.assertEqual(missed[:5], [], "%d of %d keys missed with warm-up on"
                         % (len(missed), len(keys) - 1000))
        st = self.proxy.stats()["ringproxy"]
        moved = st["warm_hits"]
        self.assertGreater(moved, self.NKEYS // 10, st)   # about a third of the keys moved
        self.assertEqual(st["warm_hits"], st["warm_lookups"], st)
        # the moved keys were copied to the new server (in the background: wait for them)
        on_new = [k for k in keys[:300] if routes[k] == new_addr]
        self.assertGreater(len(on_new), 30)
        with MemcacheClient(self.ports[2], timeout=PROMPT) as d:
            self.assertTrue(rp.wait_until(lambda: all(d.get(k) is not None for k in on_new),
                                          PROMPT), "the moved keys are not on the new server")
        # a second pass is served by the new server alone
        lookups = self.proxy.stats()["ringproxy"]["warm_lookups"]
        got = self.get_all(on_new, conns)
        self.assertTrue(all(got[k] == b"w-" + k.encode() for k in on_new))
        self.assertEqual(self.proxy.stats()["ringproxy"]["warm_lookups"], lookups)

        # a moved key not read yet is deleted in the window: gone from both servers, and a get
        # does not bring the old copy back
        rest = unread[:5]
        self.assertEqual(len(rest), 5)
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            for k in rest:
                self.assertEqual(len(self.holders(k)), 1, k)     # only on its old server
                self.assertEqual(c.cmd("delete %s" % k), b"DELETED")    # the old copy went
                self.assertEqual(self.holders(k), [], k)
                self.assertIsNone(c.get(k), k)
            # an overwrite in the window: the new value everywhere it is read from
            k = unread[5]
            self.assertEqual(c.set(k, b"fresh"), b"STORED")
            self.assertEqual(self.holders(k), [2])
            self.assertEqual(c.get(k), b"fresh")
            # a quiet meta set in the window: no reply but the mn's, the old copy gone
            k = unread[6]
            c.send(b"ms %s 3 q\r\nnew\r\nmn\r\n" % k.encode())
            self.assertEqual(c.read_line(), b"MN")
            self.assertEqual(self.holders(k), [2])
            self.assertEqual(c.get(k), b"new")
        unread = unread[1:]
        # the other unread keys still hit
        got = self.get_all(unread[6:], conns)
        self.assertTrue(all(got[k] == b"w-" + k.encode() for k in unread[6:]))

    def direct_item(self, i, key):
        with MemcacheClient(self.ports[i], timeout=PROMPT) as d:
            return d.get(key)

    def moved_to(self, keys, i):
        """The keys (of the file as it is now) whose server is server i."""
        routes = route_map(self.proxy, keys)
        return [k for k in keys if routes[k] == "%s:%d" % (HOST, self.ports[i])]

    def test_reads_of_every_kind_warm_up(self):
        """gets, gat, gats and mg (flags, quiet, base64 keys) that miss on a moved key's new
        server are answered as that server answers them once the key is copied there: a cas
        that works there, the gat's new TTL, the mg's own flags."""
        self.start(60)
        keys = [key_of(30000 + i) for i in range(300)]
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            for i, k in enumerate(keys):
                self.assertEqual(c.set(k, b"v-" + k.encode(), flags=i, exptime=5000), b"STORED")
        self.grow(60)
        moved = self.moved_to(keys, 2)
        self.assertGreater(len(moved), 30)
        new = MemcacheClient(self.ports[2], timeout=PROMPT)
        self.addCleanup(new.close)
        c = MemcacheClient(self.port, timeout=PROMPT)
        self.addCleanup(c.close)
        flags = {k: i for i, k in enumerate(keys)}

        # gets: the cas is the new server's, so a cas with it is stored
        k = moved[0]
        raw, items = c.get_multi([k], "gets")
        self.assertEqual([(i[0], i[1], i[2]) for i in items or []],
                         [(k, flags[k], b"v-" + k.encode())], raw)
        self.assertEqual(c.store("cas", k, b"swapped", cas=items[0][3]), b"STORED")
        self.assertEqual(new.get(k), b"swapped")
        # gat: the value, with the new TTL set where the key lives now
        k = moved[1]
        raw, items = c.get_multi([k], "gat", exptime=777)
        self.assertEqual(items, [(k, flags[k], b"v-" + k.encode(), None)], raw)
        ttl = int(new.cmd("mg %s t" % k).split(b" t")[1])
        self.assertTrue(760 < ttl <= 777, ttl)
        # gats
        k = moved[2]
        raw, items = c.get_multi([k], "gats", exptime=888)
        self.assertEqual(len(items or []), 1, raw)
        self.assertEqual(c.store("cas", k, b"swapped", cas=items[0][3]), b"STORED")
        # a get copies the TTL and the flags it found
        k = moved[3]
        self.assertEqual(c.get_item(k)[:2], (flags[k], b"v-" + k.encode()))
        self.assertTrue(rp.wait_until(lambda: new.get(k) is not None, PROMPT))
        f, t = new.cmd("mg %s f t" % k).split(b" ")[1:]
        self.assertEqual(int(f[1:]), flags[k])
        self.assertTrue(4900 < int(t[1:]) <= 5000, t)
        # a TTL of more than 30 days (memcached's limit for a relative one) stays that long
        k = moved[9]
        self.assertEqual(c.set(k, b"long", exptime=int(time.time()) + 40 * 86400), b"STORED")
        # (written after the reload, it went to the new server: move it back to the old one)
        self.assertEqual(new.cmd("delete %s" % k), b"DELETED")
        old = [i for i in (0, 1) if self.direct_item(i, k) is not None]
        self.assertEqual(old, [])
        for i in (0, 1):
            with MemcacheClient(self.ports[i], timeout=PROMPT) as d:
                d.set(k, b"long", exptime=int(time.time()) + 40 * 86400)
        raw, items = c.get_multi([k], "gets")
        self.assertEqual([i[2] for i in items or []], [b"long"], raw)
        ttl = int(new.cmd("mg %s t" % k).split(b" t")[1])
        self.assertGreater(ttl, 39 * 86400)
        # mg with flags of its own: the bytes the new server gives once it has the key (its
        # cas too: the request is asked again there)
        def meta(conn, line):
            conn.send(line.encode() + b"\r\n")
            got = conn.read_line()
            return got + b"\r\n" + conn.read_line() if got.startswith(b"VA ") else got
        for k, line in ((moved[4], "mg %s v k O42 f s"), (moved[5], "mg %s s t c"),
                        (moved[6], "mg %s k v")):
            got = meta(c, line % k)
            self.assertTrue(got.startswith((b"VA ", b"HD ")), got)
            self.assertEqual(got, meta(new, line % k), line % k)
        # a quiet mg: the hit, then the mn's MN; a quiet miss says nothing but the MN
        k = moved[7]
        c.send(b"mg %s v q k\r\nmg nothing-here-%d v q\r\nmn\r\n" % (k.encode(), self.port))
        self.assertEqual(c.read_line(), b"VA %d k%s" % (len(b"v-" + k.encode()), k.encode()))
        self.assertEqual(c.read_line(), b"v-" + k.encode())
        self.assertEqual(c.read_line(), b"MN")
        # a base64 key
        k = moved[8]
        b64 = __import__("base64").b64encode(k.encode())
        c.send(b"mg %s b v\r\n" % b64)
        self.assertEqual(c.read_line(), b"VA %d" % len(b"v-" + k.encode()))
        self.assertEqual(c.read_line(), b"v-" + k.encode())
        self.assertEqual(new.get(k), b"v-" + k.encode())
        # multi-key gets gat gats: every moved key hits, in the client's order, with a cas and
        # a TTL of the new server's
        stay = [k for k in keys if k not in moved][:5]
        for verb, exp, part in (("gets", None, moved[10:30]), ("gat", 999, moved[30:50]),
                                ("gats", 999, moved[50:60])):
            ask = part[:3] + ["nothing-%d" % self.port] + stay + part[3:]
            raw, items = c.get_multi(ask, verb, exptime=exp)
            want = [k for k in ask if not k.startswith("nothing")]
            self.assertEqual([(i[0], i[1], i[2]) for i in items or []],
                             [(k, flags[k], b"v-" + k.encode()) for k in want], raw[:300])
            if verb != "gat":
                cas = {i[0]: i[3] for i in items}
                self.assertEqual(c.store("cas", part[-1], b"swapped", cas=cas[part[-1]]),
                                 b"STORED", verb)
            if exp is not None:
                ttl = int(new.cmd("mg %s t" % part[0]).split(b" t")[1])
                self.assertTrue(exp - 20 < ttl <= exp, ttl)
        # misses stay misses, each in its own form
        c.send(b"gets nothing-%d\r\nmg nothing-%d v\r\n" % (self.port, self.port))
        self.assertEqual(c.read_line(), b"END")
        self.assertEqual(c.read_line(), b"EN")
        st = self.proxy.stats()["ringproxy"]
        self.assertGreaterEqual(st["warm_hits"], 9, st)
        pst = st["pools"]["p"]
        self.assertEqual((pst["warm_hits"], pst["warm_lookups"]),
                         (st["warm_hits"], st["warm_lookups"]), st)

    def test_a_removed_server_is_read_until_the_window_ends(self):
        """From 3 servers to 2: the removed server stays connected for the window, its keys are
        read from it and copied to their new servers, a delete reaches it; when the window
        ends, its connections close and its keys miss."""
        window = 5
        self.start(window, nservers=3)
        keys = self.fill()[:3000]
        routes = route_map(self.proxy, keys)
        gone_addr = "%s:%d" % (HOST, self.ports[2])
        on_gone = [k for k in keys if routes[k] == gone_addr]
        self.assertGreater(len(on_gone), 300)
        self.grow(window, nservers=2)
        t0 = time.monotonic()
        conns = [MemcacheClient(self.port, timeout=PROMPT) for _ in range(4)]
        self.addCleanup(lambda: [c.close() for c in conns])
        read, unread = on_gone[:-100], on_gone[-100:]
        half = len(read) // 2
        got = self.get_all(read[:half], conns)   # half by single-key gets, half by 20-key gets
        for i in range(half, len(read), 20):
            raw, items = conns[i % len(conns)].get_multi(read[i:i + 20], "gets")
            self.assertIsNotNone(items, raw[:200])
            got.update({k: None for k in read[i:i + 20]})
            got.update({k: v for k, _, v, _ in items})
        missed = [k for k in read if got[k] != b"w-" + k.encode()]
        self.assertEqual(missed[:5], [], "%d of %d keys of the removed server missed"
                         % (len(missed), len(read)))
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            # now on their new servers, and a delete in the window takes the old copy away
            self.assertTrue(rp.wait_until(lambda: all(2 not in self.holders(k) or
                                                      len(self.holders(k)) == 2
                                                      for k in read[:20]), PROMPT))
            for k in read[:20]:
                self.assertIn(len(self.holders(k)), (1, 2), k)
            k = unread[0]
            self.assertEqual(self.holders(k), [2])
            self.assertEqual(c.cmd("delete %s" % k), b"DELETED")
            self.assertEqual(self.holders(k), [])
        self.assertLess(time.monotonic() - t0, window, "too slow to test inside the window")
        st = self.proxy.stats()["ringproxy"]
        self.assertGreaterEqual(st["warm_hits"], len(read), st)

        # the window ends: the removed server's connections close, and nothing asks it again
        def proxy_conns():
            with MemcacheClient(self.ports[2], timeout=PROMPT) as d:
                return int(d.stats()["curr_connections"])
        during = proxy_conns()
        self.assertTrue(rp.wait_until(lambda: proxy_conns() < during, window + PROMPT),
                        "the removed server's connections stayed open after the window")
        lookups = self.proxy.stats()["ringproxy"]["warm_lookups"]
        got = self.get_all(unread[1:], conns)
        self.assertTrue(all(v is None for v in got.values()))
        self.assertEqual(self.proxy.stats()["ringproxy"]["warm_lookups"], lookups)

    def test_a_removed_server_that_stalls_is_given_up(self):
        """A removed server that takes connections and never answers costs one timeout per
        worker, not one per request: after its first failure it is asked no more."""
        self.start(60, nservers=3)
        keys = self.fill()[:600]
        routes = route_map(self.proxy, keys)
        on_gone = [k for k in keys if routes[k] == "%s:%d" % (HOST, self.ports[2])]
        self.servers[2].signal(__import__("signal").SIGSTOP)
        self.addCleanup(lambda: self.servers[2].signal(__import__("signal").SIGCONT))
        self.grow(60, nservers=2)
        with MemcacheClient(self.port, timeout=PROMPT) as c:
            for k in on_gone[:20]:
                self.assertIsNone(c.get(k), k)   # a miss (its old server cannot say)
                self.assertEqual(c.set(k, b"x"), b"STORED", k)
        st = self.proxy.stats()["ringproxy"]
        self.assertLessEqual(st["warm_lookups"], WORKERS, st)
        self.assertLessEqual(st["warm_unlinks"], WORKERS, st)

    def ejecting_conf(self, warmup):
        return ("p:\n  listen: %s:%d\n  reshard_warmup: %d\n" % (HOST, self.port, warmup) +
                "  hash: fnv1a_64\n  distribution: ketama\n  timeout: 400\n"
                "  server_connections: 1\n  auto_eject_hosts: true\n"
                "  server_failure_limit: 1\n  server_retry_timeout: 300\n  servers:\n" +
                "".join("   - %s:%d:1\n" % (HOST, p) for p in self.ports))

    def eject_write_return(self, warmup):
        """Server 2 dies and is ejected; the keys it had are written meanwhile (to the servers
        that stand in for it); it comes back empty and is back in the ring. Returns those keys
        and a connection to the proxy."""
        self.port = rp.free_port()
        self.proxy = rp.start_ringproxy(self.ejecting_conf(warmup), workers=WORKERS)
        keys = [key_of(50000 + i) for i in range(600)]
        home = route_map(self.proxy, keys)
        mine = [k for k in keys if home[k] == "%s:%d" % (HOST, self.ports[2])]
        self.assertGreater(len(mine), 60)
        c = MemcacheClient(self.port, timeout=PROMPT)
        self.addCleanup(c.close)
        self.kill([2])

        def ejected():
            server = [v for n, v in self.proxy.stats()["p"].items()
                      if isinstance(v, dict) and n.endswith(":%d" % self.ports[2])]
            return server[0]["server_ejected_at"]
        # its requests fail (each worker sees it down) until it is out of the ring
        self.assertTrue(rp.wait_until(lambda: c.cmd("get %s" % mine[0]) is not None and
                                      ejected() > 0, PROMPT))
        for k in mine:
            self.assertEqual(c.set(k, b"meanwhile-" + k.encode()), b"STORED", k)
        self.assertEqual([len(self.holders(k)) for k in mine[:20]], [1] * 20)
        self.revive([2])
        self.assertTrue(rp.wait_until(lambda: ejected() == 0, PROMPT), "not back in the ring")
        time.sleep(0.3)  # every worker routes with the new ring from its next batch on
        return mine, c

    def test_a_server_back_from_ejection_warms_up(self):
        """The keys written while server 2 was ejected are read, once it is back, from where
        they were written, and copied to it; a delete removes them from both."""
        mine, c = self.eject_write_return(60)
        got = self.get_all(mine[:-20], [c])
        missed = [k for k in mine[:-20] if got[k] != b"meanwhile-" + k.encode()]
        self.assertEqual(missed[:5], [], "%d of %d keys missed after the return"
                         % (len(missed), len(mine) - 20))
        with MemcacheClient(self.ports[2], timeout=PROMPT) as d:
            self.assertTrue(rp.wait_until(lambda: all(d.get(k) is not None for k in mine[:20]),
                                          PROMPT), "not copied to the returned server")
        # a delete in the window: neither the returned server nor the stand-in keeps a copy,
        # so the value cannot come back at the next ejection
        for k in mine[-20:-10]:
            self.assertEqual(c.cmd("delete %s" % k), b"DELETED")
            self.assertEqual(self.holders(k), [], k)
        st = self.proxy.stats()["ringproxy"]
        self.assertGreaterEqual(st["warm_hits"], len(mine) - 20, st)
        self.assertGreaterEqual(st["warm_unlinks"], 10, st)

    def test_without_warmup_a_returned_server_misses(self):
        mine, c = self.eject_write_return(0)
        got = self.get_all(mine, [c])
        self.assertTrue(all(v is None for v in got.values()))
        self.assertEqual(self.proxy.stats()["ringproxy"]["warm_lookups"], 0)

    def test_without_warmup_the_moved_keys_miss(self):
        self.start(0)
        keys = self.fill()
        self.grow(0)
        conns = [MemcacheClient(self.port, timeout=PROMPT) for _ in range(4)]
        self.addCleanup(lambda: [c.close() for c in conns])
        got = self.get_all(keys, conns)
        missed = sum(1 for k in keys if got[k] is None)
        self.assertGreater(missed, self.NKEYS // 10)
        self.assertEqual(self.proxy.stats()["ringproxy"]["warm_lookups"], 0)


@ringproxy_only("routes are ringproxy's")
class RouteWarmupTests(BackendCase):
    """A route's pool reshards: east (2 servers, `reshard_warmup`) gets a third by reload. The
    requests that come through the route are warmed up on east as its own would be."""

    NSERVERS = 5

    def conf(self, route, east):
        return ("front:\n  listen: %s:%d\n  route:\n    %s\n" % (HOST, self.port, route) +
                pool_text("east", [self.ports[i] for i in east]).replace(
                    "east:\n", "east:\n  reshard_warmup: 60\n") +
                pool_text("west", self.ports[2:4]))

    def run_route(self, route):
        self.port = rp.free_port()
        self.proxy = rp.start_ringproxy(self.conf(route, [0, 1]), workers=WORKERS)
        keys = [key_of(70000 + i) for i in range(400)]
        rp.mc_set_many_bytes(self.port, [(k.encode(), b"r-" + k.encode()) for k in keys])
        with open(self.proxy.conf_path, "w") as f:
            f.write(self.conf(route, [0, 1, 4]))
        before = self.proxy.stats()["ringproxy"]["conf_reloads"]
        self.proxy.signal(__import__("signal").SIGHUP)
        self.assertTrue(rp.wait_until(
            lambda: self.proxy.stats()["ringproxy"]["conf_reloads"] == before + 1, 10))
        time.sleep(0.3)
        got = rp.route_bytes(self.proxy.binary, self.proxy.conf_path,
                             [k.encode() for k in keys])["east"]
        moved = [k for k in keys if got[k.encode()][0] == "%s:%d" % (HOST, self.ports[4])]
        self.assertGreater(len(moved), 40)
        c = MemcacheClient(self.port, timeout=PROMPT)
        self.addCleanup(c.close)
        new = MemcacheClient(self.ports[4], timeout=PROMPT)
        self.addCleanup(new.close)
        return moved, c, new

    def test_failover_reads_and_writes_warm_up_on_the_pool(self):
        moved, c, new = self.run_route("failover: [east, west]")
        retries = self.proxy.stats()["ringproxy"]["route_retries"]
        for k in moved[:-12]:
            self.assertEqual(c.get(k), b"r-" + k.encode(), k)   # not a miss, not west's
        # a gets and a quiet mg, asked again on east's new server once copied there
        raw, items = c.get_multi([moved[-12]], "gets")
        self.assertEqual(len(items or []), 1, raw)
        self.assertEqual(c.store("cas", moved[-12], b"swapped", cas=items[0][3]), b"STORED")
        c.send(b"mg %s v q\r\nmn\r\n" % moved[-11].encode())
        self.assertEqual(c.read_line(), b"VA %d" % len(b"r-" + moved[-11].encode()))
        self.assertEqual(c.read_line(), b"r-" + moved[-11].encode())
        self.assertEqual(c.read_line(), b"MN")
        st = self.proxy.stats()["ringproxy"]
        self.assertEqual(st["route_retries"], retries, st)
        self.assertEqual(st["pools"]["east"]["warm_hits"], len(moved) - 10, st["pools"])
        self.assertTrue(rp.wait_until(lambda: all(new.get(k) is not None
                                                  for k in moved[2:20]), PROMPT))
        # a delete through the route takes the old copy on east away too
        for k in moved[-10:]:
            self.assertEqual(c.cmd("delete %s" % k), b"DELETED")
            self.assertEqual([i for i in (0, 1, 4) if self.direct_get(i, k) is not None], [], k)
        self.assertIsNone(c.get(moved[-1]))

    def test_replicated_writes_unlink_and_reads_warm_up(self):
        moved, c, new = self.run_route("replicate: [east, west]")
        retries = self.proxy.stats()["ringproxy"]["route_retries"]
        for k in moved[:20]:
            self.assertEqual(c.get(k), b"r-" + k.encode(), k)
        self.assertEqual(self.proxy.stats()["ringproxy"]["route_retries"], retries)
        # an overwrite: the new value on east's new server and on west, the old copy gone
        k = moved[-1]
        self.assertEqual(c.set(k, b"fresh"), b"STORED")
        self.assertEqual([self.direct_get(i, k) for i in (0, 1, 4)].count(b"fresh"), 1)
        self.assertEqual([self.direct_get(i, k) for i in (0, 1)], [None, None])
        self.assertEqual(c.get(k), b"fresh")

    def direct_get(self, i, key):
        with MemcacheClient(self.ports[i], timeout=PROMPT) as d:
            return d.get(key)


def route_map(proxy, keys):
    """{key: "host:port" of its server} as `--route` places it in pool p (the file as it is)."""
    got = rp.route_bytes(proxy.binary, proxy.conf_path, [k.encode() for k in keys])["p"]
    return {k: got[k.encode()][0] for k in keys}


@ringproxy_only("routes are ringproxy's")
class RouteConfigTests(unittest.TestCase):

    def check(self, text):
        path = os.path.join(rp.make_temp_dir("rp-route-"), "nutcracker.yml")
        with open(path, "w") as f:
            f.write(text)
        return rp.run_cli(["-t", "-c", path])

    def test_bad_routes_are_refused_with_their_place(self):
        srv = "  servers:\n   - 127.0.0.1:11211:1\n"
        cases = [
            ("front:\n  listen: 127.0.0.1:1\n  route:\n    replicate: [east, nosuch]\n"
             "east:\n" + srv, "not a pool in this file"),
            ("front:\n  listen: 127.0.0.1:1\n  route:\n    replicate: [east]\neast:\n" + srv,
             "2 to 8 pools"),
            ("front:\n  listen: 127.0.0.1:1\n  route:\n    failover: [east, west]\n"
             "    writes: one\neast:\n" + srv + "west:\n" + srv, "not an option of 'failover'"),
            ("front:\n  listen: 127.0.0.1:1\n  route:\n    replicate: [east, west]\n" + srv +
             "east:\n" + srv + "west:\n" + srv, "'servers' or a 'route', not both"),
            ("lonely:\n" + srv, "missing 'listen'"),
        ]
        for text, want in cases:
            r = self.check(text)
            self.assertNotEqual(r.returncode, 0, text)
            self.assertIn(want, r.stdout + r.stderr, text)


if __name__ == "__main__":
    unittest.main()

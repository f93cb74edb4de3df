"""Operations suite: what a production user of ringproxy runs into besides the commands
themselves. A tiny buffer arena under large values, several server connections per server,
unix sockets, several pools, ejection and return of a backend, client_connections, the command
line (nutcracker's flags, -d/-p), engine selection, an orderly SIGTERM, the stats JSON against
the real nutcracker's, the `stats` command, and backends that answer garbage or nothing.

Real memcached, nutcracker and misbehaving Python backends on loopback ports chosen at run time;
every socket operation has a timeout; everything is cleaned up. Tests of ringproxy-only
behaviour are marked @ringproxy_only (skipped when RINGPROXY is nutcracker)."""

import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import HOST, MemcacheClient, expect, ringproxy_only, run_threads  # noqa: E402

MIB = 1024 * 1024
ERROR_LINE = re.compile(rb"^(ERROR|CLIENT_ERROR( .*)?|SERVER_ERROR( .*)?)$")

# twemproxy 0.5.0's stats JSON, for the names of what it reports
NC_POOL_METRICS = ("client_eof", "client_err", "client_connections", "server_ejects",
                   "forward_error", "fragments")
NC_SERVER_METRICS = ("server_eof", "server_err", "server_timedout", "server_connections",
                     "server_ejected_at", "requests", "request_bytes", "responses",
                     "response_bytes", "in_queue", "in_queue_bytes", "out_queue",
                     "out_queue_bytes")


def spread_key(base, i):
    """A key ending in 8 pseudo-random hex digits, so consecutive keys spread over servers
    (fnv1a_64 puts keys that differ only in a trailing counter close together on the ring)."""
    return "%s%d-%08x" % (base, i, zlib.crc32(("%s%d" % (base, i)).encode()))


def value_of(seed, n):
    """n pseudo-random bytes (every byte value, CR and LF included), fixed by seed."""
    return random.Random(seed).randbytes(n)


def nutcracker_binary():
    return shutil.which("nutcracker") or (
        "/usr/sbin/nutcracker" if os.access("/usr/sbin/nutcracker", os.X_OK) else None)


def uring_available():
    """True if `$RINGPROXY -V` says io_uring can be used here."""
    res = rp.run_cli(["-V"], timeout=20)
    return res.returncode == 0 and "uring (available)" in res.stdout


def nc_stats_args():
    """nutcracker adds up its counters every 30s unless told otherwise (-i): when it is the
    binary under test (harness check), every 100ms."""
    return ("-i", "100") if rp.is_nutcracker() else ()




def value_block(key, flags, data):
    return b"VALUE %s %d %d\r\n%s\r\n" % (key.encode(), flags, len(data), data)


# ---------------------------------------------------------------------------------------------
# base class


class OpsCase(unittest.TestCase):
    """Each test starts its own backends and proxies (the configurations differ); after the
    test every proxy still meant to run must be alive with a clean log, and stops without a
    sanitizer report."""

    def setUp(self):
        self.proxies = []
        self.clients = []
        self.prefix = "%s.%d" % (self._testMethodName[5:40], random.randrange(10 ** 9))

    def tearDown(self):
        for c in self.clients:
            c.close()
        problems = []
        for p in self.proxies:
            for problem in p.health_problems():
                problems.append("%s: %s" % (p.name, problem))
        if problems:
            self.fail("after %s: %s\n%s" % (self.id(), "; ".join(problems),
                                            self.proxies[0].log_tail()))

    # -- processes -------------------------------------------------------------------------

    def start_proxy(self, conf, **kwargs):
        kwargs.setdefault("extra_args", nc_stats_args())
        proxy = rp.start_ringproxy(conf, **kwargs)
        self.proxies.append(proxy)
        self.addCleanup(self._stop_proxy, proxy)
        return proxy

    @staticmethod
    def _stop_proxy(proxy):
        proxy.terminate()
        if getattr(proxy, "stopped_by_test", False):
            return  # the test checked how it stopped
        errs = proxy.sanitizer_errors() + rp.sanitizer_lines(proxy.stderr_text())
        if errs:
            raise AssertionError("sanitizer reports from %s: %s\n%s"
                                 % (" ".join(proxy.cmd), "; ".join(sorted(set(errs))[:5]),
                                    proxy.log_tail()))

    @staticmethod
    def stats(proxy):
        """The stats JSON; under nutcracker (harness check) after its next aggregation."""
        if proxy.nutcracker:
            time.sleep(0.3)
        return proxy.stats()

    def forget_proxy(self, proxy):
        """The test stops this proxy itself (and checks how): tearDown no longer expects it
        alive, cleanup does not report its exit again."""
        proxy.stopped_by_test = True
        if proxy in self.proxies:
            self.proxies.remove(proxy)

    def start_memcached(self, n, args=("-I", "2m")):
        out = []
        for _ in range(n):
            mc = rp.start_memcached(extra_args=args)
            self.addCleanup(mc.kill)
            out.append(mc)
        return out

    def start_fake(self, mode):
        fb = rp.start_fake_backend(mode)
        self.addCleanup(fb.kill)
        return fb

    def client(self, port, timeout=rp.IO_TIMEOUT):
        c = MemcacheClient(port, timeout=timeout)
        self.clients.append(c)
        return c

    # -- data ------------------------------------------------------------------------------

    def keys(self, n, name="k"):
        return [spread_key("%s:%s" % (self.prefix, name), i) for i in range(n)]

    @staticmethod
    def owners(ports, keys):
        """{key: index in ports} for keys found on a backend (looked up directly);
        AssertionError if one is on several."""
        out = {}
        for i, port in enumerate(ports):
            with MemcacheClient(port) as d:
                for start in range(0, len(keys), 100):
                    raw, items = d.get_multi(keys[start:start + 100])
                    if items is None:
                        raise AssertionError("direct get on port %d: %r" % (port, raw))
                    for key, _, _, _ in items:
                        if key in out:
                            raise AssertionError("key %r on servers %d and %d"
                                                 % (key, out[key], i))
                        out[key] = i
        return out

    def set_many(self, client, items):
        req = b"".join(client.storage_request("set", k, v) for k, v in items.items())
        got = rp.run_pipeline(client, req, len(b"STORED\r\n") * len(items))
        self.assertEqual(got, b"STORED\r\n" * len(items))

    def assertNoErrors(self, errors, nclients, proxy):
        if errors:
            self.fail("%d of %d clients failed:\n  %s\n%s"
                      % (len(errors), nclients, "\n  ".join(e[:400] for e in errors),
                         proxy.log_tail(3000)))

    def assertErrorLine(self, line, msg=None):
        self.assertRegex(line, ERROR_LINE, msg)

    def assertServerError(self, raw, msg=None):
        self.assertTrue(raw.startswith(b"SERVER_ERROR") and raw.endswith(b"\r\n") and
                        raw.count(b"\r\n") == 1, msg or "expected one SERVER_ERROR line, got %r"
                        % raw[:200])


# ---------------------------------------------------------------------------------------------
# 1. the buffer arena runs out


@ringproxy_only("ringproxy: section, enobufs counter")
class ArenaTests(OpsCase):
    """`ringproxy: {buffers: 16, buffer_size: 4096}` is 64 KiB per worker: 1 MiB values must
    still pass whole and in order while receives wait for buffers (-ENOBUFS)."""

    NBIG_CLIENTS = 8
    NSMALL_CLIENTS = 4

    def run_arena(self, io):
        mcs = self.start_memcached(3)
        conf = {"ringproxy": {"buffers": 16, "buffer_size": 4096},
                "alpha": rp.default_pool([m.port for m in mcs], timeout=5000)}
        proxy = self.start_proxy(conf, io=io)
        port = proxy.port
        prefix = self.prefix

        def small_round(c, tag, n=200):
            keys = [spread_key("%s:small%s_" % (prefix, tag), j) for j in range(n)]
            vals = {k: value_of(k, 1 + len(k) % 300) for k in keys}
            req = b"".join(c.storage_request("set", k, v, flags=7) for k, v in vals.items())
            got = rp.run_pipeline(c, req, 8 * n, timeout=15)
            expect(got == b"STORED\r\n" * n, "%s: pipelined sets: %r" % (tag, got[:200]))
            req = b"".join(b"get %s\r\n" % k.encode() for k in keys)
            want = b"".join(value_block(k, 7, vals[k]) + b"END\r\n" for k in keys)
            got = rp.run_pipeline(c, req, len(want), timeout=15)
            expect(got == want, "%s: pipelined gets: replies differ" % tag)

        def big_client(i):
            with MemcacheClient(port, timeout=15) as c:
                big = {"%s:big%d_%d" % (prefix, i, j): value_of("big%d.%d" % (i, j), MIB)
                       for j in range(2)}
                for k, v in big.items():
                    r = c.set(k, v, flags=i)
                    expect(r == b"STORED", "client %d: set %s (1 MiB): %r" % (i, k, r))
                for k, v in big.items():
                    raw, items = c.get_multi([k])
                    expect(items is not None and len(items) == 1 and items[0][2] == v and
                           items[0][1] == i,
                           "client %d: get %s: %r" % (i, k, raw[:100]))
                raw, items = c.get_multi(list(big))  # 2 MiB in one reply
                expect(items is not None and
                       [(it[0], it[2]) for it in items] == list(big.items()),
                       "client %d: multi-get of both: %r" % (i, raw[:100]))
                small_round(c, "b%d" % i)

        def small_client(i):
            with MemcacheClient(port, timeout=15) as c:
                for r in range(3):
                    small_round(c, "s%d_%d" % (i, r))

        def any_client(i):
            if i < self.NBIG_CLIENTS:
                big_client(i)
            else:
                small_client(i - self.NBIG_CLIENTS)

        # about 0.3s normally, a few seconds under sanitizers: 25s is a hang
        errors = run_threads(any_client, self.NBIG_CLIENTS + self.NSMALL_CLIENTS, 25)
        self.assertNoErrors(errors, self.NBIG_CLIENTS + self.NSMALL_CLIENTS, proxy)
        stats = proxy.stats()
        # the arena ran short: receives found it empty, or waiting bytes were spilled out of
        # it (the proxy copies them under pressure so that the arena never runs dry for long)
        rs = stats["ringproxy"]
        self.assertGreater(rs["enobufs"] + rs["bytes_copied"], 0,
                           "the arena never ran short: the pressure path was not exercised "
                           "(ringproxy stats: %r)" % rs)
        # it still serves normally afterwards
        with self.client(port) as c:
            self.assertEqual(c.set(self.prefix + ":after", b"ok"), b"STORED")
            self.assertEqual(c.get(self.prefix + ":after"), b"ok")
        return stats

    def test_arena_exhaustion(self):
        self.run_arena(io=None)

    def test_arena_exhaustion_epoll(self):
        stats = self.run_arena(io="epoll")
        self.assertEqual(stats["ringproxy"]["engine"], "epoll")


# ---------------------------------------------------------------------------------------------
# 2. several connections per server


class ServerConnectionsTests(OpsCase):

    def test_server_connections_4_with_20_pipelining_clients(self):
        mcs = self.start_memcached(3)
        ports = [m.port for m in mcs]
        proxy = self.start_proxy({"alpha": rp.default_pool(ports, server_connections=4)})
        prefix = self.prefix

        def one_client(i):
            # With server_connections > 1 a pipeline's requests for one server are spread over
            # its connections, so "read my last write" does not hold inside one pipeline
            # (twemproxy's notes/recommendation.md says the same): the sets of a round are
            # pipelined and answered before its gets are pipelined.
            rng = random.Random(i)
            keys = [spread_key("%s:c%d_" % (prefix, i), j) for j in range(60)]
            with MemcacheClient(proxy.port, timeout=20) as c:
                for rnd in range(3):
                    vals = {k: value_of("%d.%d.%s" % (i, rnd, k), rng.randint(0, 3000))
                            for k in keys}
                    req = b"".join(c.storage_request("set", k, v) for k, v in vals.items())
                    got = rp.run_pipeline(c, req, 8 * len(keys))
                    expect(got == b"STORED\r\n" * len(keys),
                           "client %d round %d: sets: %r" % (i, rnd, got[:300]))
                    order = [rng.choice(keys) for _ in range(150)]
                    req = b"".join(b"get %s\r\n" % k.encode() for k in order)
                    want = b"".join(value_block(k, 0, vals[k]) + b"END\r\n" for k in order)
                    got = rp.run_pipeline(c, req, len(want))
                    expect(got == want, "client %d round %d: pipelined gets: replies differ"
                           % (i, rnd))

        peak = {p: 0 for p in ports}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                for p in ports:
                    peak[p] = max(peak[p], rp.established_to(p))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            errors = run_threads(one_client, 20, 60)
        finally:
            stop.set()
            sampler.join(5)
        self.assertNoErrors(errors, 20, proxy)

        stats = self.stats(proxy)
        workers = stats.get("ringproxy", {}).get("workers", 1)
        limit = 4 * workers
        pool = stats["alpha"]
        for p in ports:
            name = "%s:%d" % (HOST, p)
            self.assertIn(name, pool)
            sc = pool[name]["server_connections"]
            self.assertLessEqual(sc, limit, "server %s: server_connections %d > 4 x %d workers"
                                 % (name, sc, workers))
            self.assertGreaterEqual(sc, 1, "server %s: no connection after traffic" % name)
            self.assertLessEqual(peak[p], limit, "server %s: %d TCP connections open at once "
                                 "(/proc/net/tcp), more than 4 x %d workers"
                                 % (name, peak[p], workers))


# ---------------------------------------------------------------------------------------------
# 3. unix sockets


class UnixSocketTests(OpsCase):

    def test_unix_listen_with_permissions_and_unix_servers(self):
        d = rp.make_temp_dir("rp-ux-")
        mcs = [rp.start_memcached_unix(os.path.join(d, "mc%d.sock" % i)) for i in range(2)]
        for mc in mcs:
            self.addCleanup(mc.kill)
        listen = os.path.join(d, "rp.sock")
        # nutcracker's syntax for a unix listen socket: "PATH PERMISSIONS" (octal)
        conf = {"alpha": {"listen": "%s 0600" % listen, "hash": "fnv1a_64",
                          "distribution": "ketama", "timeout": 1000,
                          "servers": ["%s:1" % mc.path for mc in mcs]}}
        proxy = self.start_proxy(conf)
        self.assertTrue(rp.wait_unix(listen, proxy, 10), "nothing accepts on %s" % listen)
        st = os.stat(listen)
        self.assertTrue(stat.S_ISSOCK(st.st_mode), "%s is not a socket" % listen)
        self.assertEqual(oct(st.st_mode & 0o777), oct(0o600),
                         "listen %r: socket mode" % conf["alpha"]["listen"])

        keys = self.keys(40)
        values = {k: value_of(k, 10 + i * 37) for i, k in enumerate(keys)}
        big = self.prefix + ":big"
        with rp.UnixMemcacheClient(listen) as c:
            self.set_many(c, values)
            self.assertEqual(c.set(big, value_of(big, 300000)), b"STORED")
            for k in keys:
                self.assertEqual(c.get(k), values[k])
            self.assertEqual(c.get(big), value_of(big, 300000))
            raw, items = c.get_multi(keys)
            self.assertEqual([(it[0], it[2]) for it in items], list(values.items()))
        # the keys really are on the unix-socket memcached servers, spread over both
        per = []
        for mc in mcs:
            with mc.client() as dc:
                raw, items = dc.get_multi(keys)
                per.append({it[0] for it in items})
        self.assertEqual(per[0] | per[1], set(keys))
        self.assertEqual(per[0] & per[1], set())
        self.assertTrue(per[0] and per[1], "every key on one server: %r" % [len(p) for p in per])


# ---------------------------------------------------------------------------------------------
# 4. several pools, hash tags, --route


@ringproxy_only("--route")
class MultiPoolTests(OpsCase):

    def test_pools_route_as_route_says_and_hash_tags_group_keys(self):
        mcs = self.start_memcached(3)
        ports = [m.port for m in mcs]
        conf = {
            "ket": rp.default_pool(ports, hash="fnv1a_64", distribution="ketama"),
            "mod": rp.default_pool(ports, hash="md5", distribution="modula", hash_tag="{}"),
        }
        proxy = self.start_proxy(conf)
        self.assertNotEqual(proxy.pools["ket"], proxy.pools["mod"])
        addr_index = {"%s:%d" % (HOST, p): i for i, p in enumerate(ports)}

        ket_keys = self.keys(90, "ket")
        tags = ["user%d" % t for t in range(15)]
        mod_tagged = ["%s:{%s}:%s" % (self.prefix, t, f) for t in tags
                      for f in ("name", "mail", "cart", "x{y}")]
        mod_plain = self.keys(60, "mod")
        mod_keys = mod_tagged + mod_plain

        with self.client(proxy.pools["ket"]) as c:
            self.set_many(c, {k: k.encode() for k in ket_keys})
        with self.client(proxy.pools["mod"]) as c:
            self.set_many(c, {k: k.encode() for k in mod_keys})

        for pool, keys in (("ket", ket_keys), ("mod", mod_keys)):
            with self.subTest(pool=pool):
                routes = rp.route_pool(proxy.binary, proxy.conf_path, pool, keys)
                found = self.owners(ports, keys)
                self.assertEqual(set(found), set(keys), "keys missing on the backends")
                wrong = [(k, routes[k][0], ports[found[k]]) for k in keys
                         if addr_index.get(routes[k][0]) != found[k]]
                self.assertEqual(wrong, [], "pool %s: keys not where --route says "
                                 "(key, --route, found on port)" % pool)
                self.assertGreater(len(set(found.values())), 1,
                                   "pool %s: every key on one server" % pool)
                # through the pool's own port every key reads back
                with self.client(proxy.pools[pool]) as c:
                    raw, items = c.get_multi(keys[:100])
                    self.assertEqual([it[0] for it in items], keys[:100])

        found = self.owners(ports, mod_tagged)
        for t in tags:
            members = [k for k in mod_tagged if "{%s}" % t in k]
            self.assertEqual(len({found[k] for k in members}), 1,
                             "tag {%s}: keys on several servers: %r"
                             % (t, {k: found[k] for k in members}))
        self.assertGreater(len({found[k] for k in mod_tagged}), 1,
                           "every tag on one server: the tag is not what is hashed")


# ---------------------------------------------------------------------------------------------
# 5. ejection and return


class EjectionTests(OpsCase):

    def test_killed_server_is_ejected_then_returns(self):
        pool_opts = {"auto_eject_hosts": True, "server_failure_limit": 1,
                     "server_retry_timeout": 1000, "timeout": 500}
        fleet = rp.ProxyFleet(nservers=3, pool_options=pool_opts, extra_args=nc_stats_args())
        fleet.start()
        self.addCleanup(fleet.stop)
        self.proxies.append(fleet.proxy)
        proxy = fleet.proxy
        c = self.client(fleet.port)
        keys = self.keys(120)
        self.set_many(c, {k: b"v1" for k in keys})
        owners = fleet.owners(keys)
        self.assertEqual(set(owners.values()), {0, 1, 2})
        victim = 1
        vkeys = [k for k in keys if owners[k] == victim]
        victim_name = "%s:%d" % (HOST, fleet.ports[victim])

        fleet.memcached[victim].kill()  # SIGKILL
        t_kill = time.time()
        replies = []
        for k in vkeys[:12]:
            replies.append((k, c.set(k, b"v2")))
        failed = [k for k, r in replies if r != b"STORED"]
        for k, r in replies:
            self.assertTrue(r == b"STORED" or r.startswith(b"SERVER_ERROR"), (k, r))
        self.assertLessEqual(len(failed), 2, "requests for the killed server's keys kept "
                             "failing: %r" % replies)
        self.assertEqual([r for _, r in replies[len(failed):]],
                         [b"STORED"] * (len(replies) - len(failed)),
                         "after the first failures every request must succeed: %r" % replies)
        stats = self.stats(proxy)
        t_stats = time.time()
        pool = stats[fleet.pool_name]
        self.assertGreaterEqual(pool["server_ejects"], 1, "pool stats: %r" % pool)
        ejected_at = pool[victim_name]["server_ejected_at"]
        self.assertGreater(ejected_at, 0, "server %s: %r" % (victim_name, pool[victim_name]))
        # the keys are served by the remaining servers
        for k, _ in replies[len(failed):]:
            self.assertEqual(c.get(k), b"v2")
        moved = fleet.owners([k for k, _ in replies[len(failed):]])
        self.assertTrue(set(moved.values()) <= {0, 2}, moved)

        # memcached comes back on the same port; after the retry timeout its keys go to it
        fleet.start_server(victim)
        deadline = t_kill + 6.0
        back = None
        while back is None and time.time() < deadline:
            k = vkeys[0]
            r = c.set(k, b"v3")
            if r == b"STORED":
                with fleet.direct(victim) as d:
                    if d.get(k) == b"v3":
                        back = time.time()
                        break
            time.sleep(0.1)
        self.assertIsNotNone(back, "keys of the restarted server not routed back to it within "
                             "%.1fs of the kill (retry timeout 1s)\n%s"
                             % (deadline - t_kill, proxy.log_tail(3000)))
        self.set_many(c, {k: b"v4" for k in vkeys})
        with fleet.direct(victim) as d:
            raw, items = d.get_multi(vkeys)
            self.assertEqual({(it[0], it[2]) for it in items}, {(k, b"v4") for k in vkeys},
                             "keys not back on the server")
        for k in vkeys[:10]:
            self.assertEqual(c.get(k), b"v4")
        # twemproxy reports server_ejected_at in microseconds since the epoch (its -D: "timestamp
        # when server was ejected in usec since epoch"); dashboards migrating from it read that
        self.assertTrue((t_kill - 2) * 1e6 <= ejected_at <= (t_stats + 2) * 1e6,
                        "server_ejected_at %r is not the ejection time in usec since the epoch "
                        "as twemproxy reports it (server killed at %.3f)" % (ejected_at, t_kill))


# ---------------------------------------------------------------------------------------------
# 6. client_connections


@ringproxy_only("twemproxy 0.5.0 does not enforce client_connections")
class ClientConnectionsTests(OpsCase):

    def fourth_is_turned_away(self, port):
        """Connects once more; True if refused, reset or closed (after at most an error
        line) without serving a request."""
        try:
            c = MemcacheClient(port, timeout=3)
        except OSError:
            return True, "refused"
        self.clients.append(c)
        try:
            c.send(b"set %s 0 0 1\r\nx\r\n" % (self.prefix + ":fourth").encode())
        except OSError:
            return True, "send failed"
        try:
            data = c.read_until_close(timeout=3)
        except TimeoutError:
            return False, "still open after 3s, received %r" % bytes(c.buf)
        if data == b"" or (data.endswith(b"\r\n") and data.count(b"\r\n") == 1 and
                           ERROR_LINE.match(data[:-2])):
            return True, "closed after %r" % data
        return False, "served: %r" % data

    def test_fourth_client_turned_away_three_keep_working(self):
        mcs = self.start_memcached(3)
        proxy = self.start_proxy({"alpha": rp.default_pool([m.port for m in mcs],
                                                           client_connections=3)})
        # start_ringproxy's port probe (connect, close) counts until the proxy sees it close,
        # and it may be accepted only after the probe has gone: wait until it has been
        # accepted (total_connections) and closed again
        def probe_gone():
            st = proxy.stats()
            return st["total_connections"] >= 1 and st["alpha"]["client_connections"] == 0
        self.assertTrue(rp.wait_until(probe_gone, 3))
        clients = [self.client(proxy.port) for _ in range(3)]
        for i, c in enumerate(clients):
            self.assertEqual(c.set("%s:c%d" % (self.prefix, i), b"v%d" % i), b"STORED")
        turned_away, how = self.fourth_is_turned_away(proxy.port)
        self.assertTrue(turned_away, "4th client with client_connections 3: %s" % how)
        self.assertIsNone(clients[0].get(self.prefix + ":fourth"),
                          "the 4th client's set was stored")
        for i, c in enumerate(clients):
            self.assertEqual(c.get("%s:c%d" % (self.prefix, i)), b"v%d" % i)
            self.assertEqual(c.set("%s:c%d" % (self.prefix, i), b"w"), b"STORED")
        # once one leaves, a new client gets its place
        clients[0].close()
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["alpha"]["client_connections"] == 2, 3),
            "client_connections did not drop to 2 after a client left: %r"
            % proxy.stats()["alpha"])
        c4 = self.client(proxy.port)
        self.assertEqual(c4.set(self.prefix + ":new", b"n"), b"STORED")
        self.assertEqual(c4.get(self.prefix + ":new"), b"n")


# ---------------------------------------------------------------------------------------------
# 7. the command line


GOOD_YML = """\
alpha:
  listen: 127.0.0.1:%(port)d
  hash: fnv1a_64
  distribution: ketama
  timeout: 400
  servers:
   - 127.0.0.1:%(mc)d:1
"""

BAD_VALUE_YML = """\
alpha:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  distribution: nosuch
  servers:
   - 127.0.0.1:11211:1
"""

BAD_SYNTAX_YML = """\
alpha:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  servers:
   - 127.0.0.1:11211:1
  timeout: [400
"""


@ringproxy_only("ringproxy's command line")
class CliTests(OpsCase):

    def write(self, name, text):
        d = rp.make_temp_dir("rp-cli-")
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assertCleanRun(self, res):
        self.assertEqual(rp.sanitizer_lines(res.stderr), [], res.stderr[-3000:])

    def test_test_conf_good_and_bad(self):
        good = self.write("good.yml", GOOD_YML % {"port": rp.free_port(), "mc": 11211})
        res = rp.run_cli(["-t", "-c", good])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertCleanRun(res)
        self.assertNotRegex(res.stderr, r"(?i)error|invalid")
        for name, text, line in (("bad.yml", BAD_VALUE_YML, 4),
                                 ("syntax.yml", BAD_SYNTAX_YML, (6, 7))):
            with self.subTest(file=name):
                bad = self.write(name, text)
                res = rp.run_cli(["-t", "-c", bad])
                self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
                self.assertCleanRun(res)
                m = re.search(re.escape(bad) + r":(\d+):(\d+)", res.stderr)
                self.assertIsNotNone(m, "no FILE:LINE:COLUMN in %r" % res.stderr)
                lines = line if isinstance(line, tuple) else (line,)
                self.assertIn(int(m.group(1)), lines, res.stderr)
                self.assertGreater(int(m.group(2)), 0, res.stderr)
        res = rp.run_cli(["-t", "-c", os.path.join(rp.make_temp_dir(), "missing.yml")])
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("missing.yml", res.stderr)

    def test_version_describe_help_unknown(self):
        res = rp.run_cli(["-V"])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertCleanRun(res)
        self.assertRegex(res.stdout.splitlines()[0], r"ringproxy-\d+\.\d+\.\d+")
        self.assertRegex(res.stdout, r"(?m)^io engines:.*\buring\b")
        self.assertRegex(res.stdout, r"(?m)^io engines:.*\bepoll\b")

        res = rp.run_cli(["-D"])
        self.assertEqual(res.returncode, 0, res.stderr)
        for name in NC_POOL_METRICS + NC_SERVER_METRICS + ("enobufs", "bytes_forwarded",
                                                            "bytes_copied"):
            self.assertRegex(res.stdout, r"(?m)^\s+%s\b" % name, "-D leaves out %s" % name)

        for flag in ("-h", "--help"):
            res = rp.run_cli([flag])
            self.assertEqual(res.returncode, 0, res.stderr)
            for opt in ("-c", "-s", "-a", "-p", "-o", "-d", "-t", "-V", "-D", "--io",
                        "--workers", "--route"):
                self.assertIn(opt, res.stdout, "%s does not mention %s" % (flag, opt))

        for args in (["--bogus"], ["-Z"], ["--io=bogus"], ["--workers=0"], ["-s", "notaport"]):
            with self.subTest(args=args):
                res = rp.run_cli(args + ["-c", "/nonexistent.yml"], timeout=10)
                self.assertNotEqual(res.returncode, 0, "%s was accepted" % args)
                self.assertCleanRun(res)

    def test_daemonize_pid_file_sigterm(self):
        mc = self.start_memcached(1)[0]
        d = rp.make_temp_dir("rp-daemon-")
        port, stats_port = rp.free_port(), rp.free_port()
        conf = self.write("nutcracker.yml", GOOD_YML % {"port": port, "mc": mc.port})
        pid_file = os.path.join(d, "rp.pid")
        log_file = os.path.join(d, "rp.log")
        # a daemon's stderr is /dev/null: sanitizer reports go to files instead
        env = dict(os.environ)
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            env[var] = ":".join(filter(None, [env.get(var), "log_path=%s/san" % d]))
        binary = rp.proxy_binary()
        res = subprocess.run([binary, "-d", "-p", pid_file, "-o", log_file, "-c", conf,
                                 "-s", str(stats_port), "-a", HOST, "-v", "6"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, timeout=15)
        self.assertEqual(res.returncode, 0, res.stderr)

        def read_pid():
            try:
                with open(pid_file) as f:
                    text = f.read()
            except OSError:
                return None
            return int(text) if text.strip().isdigit() and text.endswith("\n") else None

        pid = rp.wait_until(read_pid, 10)
        self.assertIsNotNone(pid, "no pid file %s" % pid_file)
        self.addCleanup(rp.kill_pid_if, pid, binary)
        self.assertTrue(rp.pid_alive(pid), "pid %d from the pid file is not running" % pid)
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            self.assertIn(binary.encode(), f.read())
        self.assertNotEqual(os.getsid(pid), os.getsid(0), "-d did not detach (same session)")
        self.assertTrue(rp.wait_port(port, None, 10) and rp.wait_port(stats_port, None, 10))
        with MemcacheClient(port) as c:
            self.assertEqual(c.set(self.prefix, b"daemon"), b"STORED")
            self.assertEqual(c.get(self.prefix), b"daemon")
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(rp.wait_until(lambda: not rp.pid_alive(pid), 5),
                        "daemon %d still running 5s after SIGTERM" % pid)
        self.assertTrue(rp.wait_until(lambda: not os.path.exists(pid_file), 2),
                        "pid file %s left behind" % pid_file)
        self.assertFalse(rp.port_accepts(port))
        with open(log_file, errors="replace") as f:
            log = f.read()
        self.assertIn(str(pid), log, "log %s does not mention the daemon's pid" % log_file)
        reports = [n for n in os.listdir(d) if n.startswith("san")]
        text = "".join(open(os.path.join(d, n), errors="replace").read() for n in reports)
        self.assertEqual(rp.sanitizer_lines(text), [], text[:3000])


# ---------------------------------------------------------------------------------------------
# 8. engines and workers


@ringproxy_only("--io, --workers, ringproxy: section")
class EngineTests(OpsCase):

    def check(self, conf_extra, io, workers, want_engine, want_workers=None):
        mc = self.start_memcached(1)[0]
        conf = {"alpha": rp.default_pool([mc.port])}
        if conf_extra:
            conf = dict({"ringproxy": conf_extra}, **conf)
        proxy = self.start_proxy(conf, io=io, workers=workers)
        rps = proxy.stats()["ringproxy"]
        self.assertEqual(rps["engine"], want_engine, "command: %s" % " ".join(proxy.cmd))
        if want_workers is not None:
            self.assertEqual(rps["workers"], want_workers, "command: %s" % " ".join(proxy.cmd))
        with self.client(proxy.port) as c:
            self.assertEqual(c.set(self.prefix, b"x" * 5000), b"STORED")
            self.assertEqual(c.get(self.prefix), b"x" * 5000)
            st = c.stats()
            self.assertEqual(st.get("engine"), want_engine)

    def test_io_flag_epoll(self):
        self.check(None, "epoll", None, "epoll")

    def test_io_flag_uring(self):
        if not uring_available():
            self.skipTest("io_uring unavailable here (-V)")
        self.check(None, "uring", None, "uring")

    def test_io_from_config(self):
        self.check({"io": "epoll"}, "", None, "epoll")

    def test_io_flag_overrides_config(self):
        self.check({"io": "uring"}, "epoll", None, "epoll")

    def test_workers_flag(self):
        self.check(None, None, 3, self._engine_default(), 3)

    def test_workers_from_config(self):
        self.check({"workers": 2}, None, None, self._engine_default(), 2)

    @staticmethod
    def _engine_default():
        io = rp.io_mode()
        if io in ("uring", "epoll"):
            return io
        return "uring" if uring_available() else "epoll"


# ---------------------------------------------------------------------------------------------
# 9. orderly shutdown


@ringproxy_only("exit status 0 on SIGTERM")
class ShutdownTests(OpsCase):

    def test_sigterm_with_20_clients_some_mid_request(self):
        mcs = self.start_memcached(3)
        ports = [m.port for m in mcs]
        # a drain of at most one second: the requests to the stopped server are not answered
        proxy = self.start_proxy({"ringproxy": {"drain_timeout": 1000},
                                  "alpha": rp.default_pool(ports, timeout=10000)})
        c = self.client(proxy.port)
        keys = self.keys(60)
        self.set_many(c, {k: k.encode() for k in keys})
        owners = self.owners(ports, keys)
        vkeys = [k for k in keys if owners[k] == 2]
        okeys = [k for k in keys if owners[k] != 2]
        self.assertTrue(vkeys and okeys)
        clients = [c]
        for i in range(4):                 # idle, after a request
            ci = self.client(proxy.port)
            self.assertEqual(ci.get(okeys[i % len(okeys)]), okeys[i % len(okeys)].encode())
            clients.append(ci)
        for i in range(5):                 # half a command line
            ci = self.client(proxy.port)
            ci.send(b"get " + okeys[i % len(okeys)].encode())
            clients.append(ci)
        for i in range(5):                 # a set whose data is half sent
            ci = self.client(proxy.port)
            ci.send(b"set %s:half%d 0 0 100000\r\n" % (self.prefix.encode(), i) + b"x" * 40000)
            clients.append(ci)
        mcs[2].stop()                      # SIGSTOP: requests to it stay in flight
        self.addCleanup(mcs[2].cont)
        for i in range(5):                 # waiting for a reply from the stopped server
            ci = self.client(proxy.port)
            ci.send(b"".join(b"get %s\r\n" % k.encode() for k in vkeys[:3]) +
                    b"get %s\r\n" % okeys[0].encode())
            clients.append(ci)
        self.assertEqual(len(clients), 20)
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["alpha"]["client_connections"] == 20, 3),
            "client_connections %r, want 20" % proxy.stats()["alpha"]["client_connections"])
        time.sleep(0.2)  # the requests reach the proxy and the stopped server

        self.forget_proxy(proxy)
        t0 = time.monotonic()
        os.kill(proxy.pid, signal.SIGTERM)
        try:
            rc = proxy.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        self.assertIsNotNone(rc, "still running 10s after SIGTERM\n%s" % proxy.log_tail())
        self.assertEqual(rc, 0, "exit status after SIGTERM\n%s" % proxy.log_tail())
        self.assertLess(took, 3.0, "took %.2fs to exit after SIGTERM" % took)
        errs = proxy.sanitizer_errors() + rp.sanitizer_lines(proxy.stderr_text())
        self.assertEqual(errs, [], proxy.log_tail())
        for ci in clients:                 # nobody is left hanging
            try:
                ci.read_until_close(timeout=2)
            except TimeoutError:
                self.fail("a client connection stayed open after the proxy exited")


# ---------------------------------------------------------------------------------------------
# 10. the stats JSON against the real nutcracker's


class StatsLayoutTests(OpsCase):

    def test_stats_json_layout_matches_nutcracker(self):
        nc = nutcracker_binary()
        if nc is None:
            self.skipTest("nutcracker not installed")
        mcs = self.start_memcached(3)
        ports = [m.port for m in mcs]

        def pools():
            named = rp.default_pool(ports)
            named["servers"] = ["%s:%d:1 mc%d" % (HOST, p, i) for i, p in enumerate(ports)]
            return {"named": named, "plain": rp.default_pool(ports)}

        proxy = self.start_proxy(pools())
        ncp = self.start_proxy(pools(), binary=nc)
        ours, theirs = proxy.stats(), ncp.stats()

        pool_names = ("named", "plain")
        top_theirs = set(theirs) - set(pool_names)
        self.assertLessEqual(set(theirs), set(ours), "top-level keys nutcracker has and "
                             "ringproxy lacks: %r" % sorted(set(theirs) - set(ours)))
        for key in top_theirs:
            self.assertIs(type(ours[key]), type(theirs[key]),
                          "top-level %r: %r vs nutcracker's %r" % (key, ours[key], theirs[key]))
        self.assertEqual(ours["service"], "nutcracker")
        want_servers = {
            "named": {"mc%d" % i for i in range(3)},
            "plain": {"%s:%d" % (HOST, p) for p in ports},
        }
        for pname in pool_names:
            with self.subTest(pool=pname):
                self.assertEqual(set(ours[pname]), set(theirs[pname]),
                                 "pool keys differ: ringproxy only %r, nutcracker only %r"
                                 % (sorted(set(ours[pname]) - set(theirs[pname])),
                                    sorted(set(theirs[pname]) - set(ours[pname]))))
                self.assertEqual(set(ours[pname]) - set(NC_POOL_METRICS), want_servers[pname])
                for server in want_servers[pname]:
                    self.assertEqual(set(ours[pname][server]), set(theirs[pname][server]),
                                     "server %s keys differ" % server)
                    for k, v in ours[pname][server].items():
                        self.assertIsInstance(v, int, "%s.%s.%s = %r" % (pname, server, k, v))
                for k in NC_POOL_METRICS:
                    self.assertIsInstance(ours[pname][k], int)

        if proxy.nutcracker:
            return  # nutcracker aggregates its counters every 30s: the rest is ringproxy's
        # counters move
        keys = self.keys(30)
        with self.client(proxy.pools["plain"]) as c:
            self.set_many(c, {k: b"v" for k in keys})
            before = proxy.stats()["plain"]
            c.send(b"".join(b"get %s\r\n" % keys[i % 30].encode() for i in range(100)))
            for i in range(100):
                raw, items = c.read_values()
                self.assertEqual(items, [(keys[i % 30], 0, b"v", None)])
        after = proxy.stats()["plain"]
        servers = want_servers["plain"]
        for metric in ("requests", "responses"):
            moved = sum(after[s][metric] - before[s][metric] for s in servers)
            self.assertGreaterEqual(moved, 100, "sum of %s over servers moved by %d after 100 "
                                    "gets: %r" % (metric, moved, after))
        self.assertGreater(sum(after[s]["request_bytes"] for s in servers), 0)
        self.assertGreater(sum(after[s]["response_bytes"] for s in servers), 0)

        open_clients = [self.client(proxy.pools["plain"]) for _ in range(3)]
        for oc in open_clients:
            self.assertEqual(oc.get(keys[0]), b"v")
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["plain"]["client_connections"] == 3, 2),
            "client_connections with 3 clients open: %r" % proxy.stats()["plain"])
        self.assertGreaterEqual(proxy.stats()["curr_connections"], 3)
        for oc in open_clients:
            oc.close()
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["plain"]["client_connections"] == 0, 2),
            "client_connections after the clients left: %r" % proxy.stats()["plain"])
        self.assertGreaterEqual(proxy.stats()["plain"]["client_eof"], 3)


# ---------------------------------------------------------------------------------------------
# 11. the `stats` command


@ringproxy_only("the proxy answers `stats` itself")
class StatsCommandTests(OpsCase):

    def test_stats_command(self):
        mcs = self.start_memcached(2)
        proxy = self.start_proxy({"alpha": rp.default_pool([m.port for m in mcs])})
        c = self.client(proxy.port)
        self.assertEqual(c.set(self.prefix, b"x" * 1000), b"STORED")
        self.assertEqual(c.get(self.prefix), b"x" * 1000)
        c.send(b"stats\r\n")
        raw = c.recv_until(b"END\r\n")
        lines = raw.split(b"\r\n")
        self.assertEqual(lines[-2:], [b"END", b""], raw[-200:])
        stats = {}
        for line in lines[:-2]:
            parts = line.decode().split(" ", 2)
            self.assertTrue(len(parts) == 3 and parts[0] == "STAT", "bad line %r" % line)
            stats[parts[1]] = parts[2]
        for name in ("curr_connections", "bytes_forwarded", "bytes_copied", "engine"):
            self.assertIn(name, stats, "`stats` leaves out %s: %r" % (name, raw))
        self.assertGreaterEqual(int(stats["curr_connections"]), 1)
        self.assertGreater(int(stats["bytes_forwarded"]), 0)
        self.assertEqual(stats["engine"], proxy.stats()["ringproxy"]["engine"])
        # the connection goes on after it
        self.assertEqual(c.get(self.prefix), b"x" * 1000)


# ---------------------------------------------------------------------------------------------
# 12-13. backends that answer garbage, or nothing


@ringproxy_only("--route")
class BadBackendTests(OpsCase):

    def fleet_with(self, mode, timeout):
        mcs = self.start_memcached(2)
        fake = self.start_fake(mode)
        ports = [mcs[0].port, mcs[1].port, fake.port]
        proxy = self.start_proxy({"alpha": rp.default_pool(ports, timeout=timeout)})
        keys = self.keys(120)
        routes = rp.route_pool(proxy.binary, proxy.conf_path, "alpha", keys)
        bad = [k for k in keys if routes[k][0] == fake.address]
        good = [k for k in keys if routes[k][0] != fake.address]
        self.assertTrue(bad and good, "keys not spread: %d on the fake backend" % len(bad))
        return proxy, mcs, fake, bad, good

    def check_bad_backend(self, mode, timeout, limit):
        proxy, mcs, fake, bad, good = self.fleet_with(mode, timeout)
        c = self.client(proxy.port)
        self.set_many(c, {k: k.encode() for k in good[:20]})
        verbs = ["get"] * 3 if mode == "random" else ["get", "set", "delete", "incr", "gets"]
        for k, verb in zip(bad, verbs):
            t0 = time.monotonic()
            if verb in ("get", "gets"):
                raw = c.get_multi([k], verb)[0]
            elif verb == "set":
                raw = c.set(k, b"value") + b"\r\n"
            elif verb == "delete":
                raw = c.delete(k) + b"\r\n"
            else:
                raw = c.incr(k, 1) + b"\r\n"
            took = time.monotonic() - t0
            self.assertServerError(raw, "%s %s via the %s backend: %r" % (verb, k, mode, raw))
            self.assertLess(took, limit, "%s %s: error after %.2fs" % (verb, k, took))
            # the same connection goes on in sync: a good key right after
            self.assertEqual(c.get(good[0]), good[0].encode())
        # pipelined: good, bad, good, bad, good on one connection, replies in order
        order = [good[1], bad[0], good[2], bad[1 % len(bad)], good[3]]
        t0 = time.monotonic()
        c.send(b"".join(b"get %s\r\n" % k.encode() for k in order))
        for k in order:
            raw, items = c.read_values(timeout=5)
            if k in good:
                self.assertEqual(items, [(k, 0, k.encode(), None)], raw[:200])
            else:
                self.assertServerError(raw)
        self.assertLess(time.monotonic() - t0, 2 * limit)
        # a multi-get spanning it answers (an error, or the good keys) and does not desync
        c.send(b"get %s %s %s\r\n" % (good[4].encode(), bad[0].encode(), good[5].encode()))
        raw, items = c.read_values(timeout=5)
        if items is None:
            self.assertServerError(raw)
        else:
            self.assertEqual({it[0] for it in items}, {good[4], good[5]}, raw[:300])
        self.assertEqual(c.get(good[6]), good[6].encode())
        # other clients, and the other servers, were never affected
        errors = run_threads(lambda i: self._good_traffic(proxy.port, good, i), 4, 20)
        self.assertEqual(errors, [])
        self.assertTrue(proxy.alive(), proxy.log_tail())
        return proxy, fake, bad

    @staticmethod
    def _good_traffic(port, good, i):
        with MemcacheClient(port, timeout=5) as gc:
            for k in good[i * 5:i * 5 + 20]:
                r = gc.set(k, k.encode())
                expect(r == b"STORED", "set %s: %r" % (k, r))
                v = gc.get(k)
                expect(v == k.encode(), "get %s: %r" % (k, v))

    def test_garbage_line_backend(self):
        self.check_bad_backend("garbage", 500, 1.0)

    def test_random_bytes_backend(self):
        self.check_bad_backend("random", 500, 1.5)

    def test_unfinished_reply_line_backend(self):
        # "HELLO GARB" and nothing more: no reply line ever ends, the request times out
        self.check_bad_backend("partial", 500, 1.5)

    def test_silent_backend_times_out(self):
        proxy, fake, bad = self.check_bad_backend("silent", 300, 1.0)
        c = self.client(proxy.port)
        # three requests pipelined to it all fail within about a second together
        t0 = time.monotonic()
        c.send(b"".join(b"get %s\r\n" % k.encode() for k in (bad * 3)[:3]))
        for _ in range(3):
            self.assertServerError(c.read_values(timeout=5)[0])
        self.assertLess(time.monotonic() - t0, 1.0)
        server = proxy.stats()["alpha"][fake.address]
        self.assertGreaterEqual(server["server_timedout"], 1, server)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Live reload (SIGHUP, SIGUSR1) and the orderly stop (SIGTERM drain).

Reloads under steady load from many clients (a server added, one removed, the hash changed, the
listen port moved, an invalid file), with two workers, must fail no request; afterwards every
key is where `--route` over the new file says. Unchanged and invalid files change nothing;
pools come and go; process settings that cannot change live are reported, not applied.
SIGTERM lets in-flight requests finish within the drain timeout and exits 0.

Real memcached on loopback ports chosen at run time; ringproxy only (nutcracker cannot reload)."""

import os
import random
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import HOST, MemcacheClient, ringproxy_only  # noqa: E402

WORKERS = 2


def connections_to(port):
    """Established TCP connections to 127.0.0.1:port, from /proc/net/tcp."""
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "01" and int(remote.split(":")[1], 16) == port:
                n += 1
    return n


def pool_conf(port, servers, **extra):
    opts = {"listen": "%s:%d" % (HOST, port), "hash": "fnv1a_64", "distribution": "ketama",
            "timeout": 2000, "servers": ["%s:%d:1" % (HOST, mc.port) for mc in servers]}
    opts.update(extra)
    return opts


@ringproxy_only("live reload")
class ReloadTests(unittest.TestCase):

    def setUp(self):
        self.mcs = []
        for _ in range(3):
            mc = rp.start_memcached()
            self.addCleanup(mc.kill)
            self.mcs.append(mc)
        self.port = rp.free_port()

    def start(self, conf, **kw):
        proxy = rp.start_ringproxy(conf, workers=WORKERS, **kw)
        self.addCleanup(self.stop, proxy)
        self.proxy = proxy
        return proxy

    def stop(self, proxy):
        proxy.terminate()
        errs = proxy.sanitizer_errors() + rp.sanitizer_lines(proxy.stderr_text())
        if errs:
            raise AssertionError("sanitizer reports: %s\n%s" % ("; ".join(errs[:5]),
                                                                proxy.log_tail()))

    def rewrite(self, conf):
        with open(self.proxy.conf_path, "w") as f:
            f.write(conf if isinstance(conf, str) else rp.yaml_conf(conf))

    def reload(self, sig=signal.SIGHUP, field="conf_reloads"):
        """Sends sig and waits until the stats count one more of field."""
        before = self.proxy.stats()["ringproxy"][field]
        self.proxy.signal(sig)
        ok = rp.wait_until(lambda: self.proxy.stats()["ringproxy"][field] == before + 1, 10)
        self.assertTrue(ok, "no %s after %s\n%s" % (field, sig, self.proxy.log_tail()))
        time.sleep(0.2)  # every worker moves over between two batches of events
        return self.proxy.stats()

    def where(self, keys):
        """{key: memcached port that holds it}, asking each memcached directly."""
        out = {}
        for mc in self.mcs:
            with mc.client() as c:
                for k in keys:
                    if c.get(k) is not None:
                        out.setdefault(k, []).append(mc.port)
        return out

    def check_placement(self, keys, pool="p"):
        """Keys written through the proxy now live where --route over the file says."""
        # over several connections: with two workers, each serves some of them
        conns = [MemcacheClient(self.port_now) for _ in range(8)]
        try:
            for i, k in enumerate(keys):
                self.assertEqual(conns[i % len(conns)].set(k, "v-" + k), b"STORED")
        finally:
            for c in conns:
                c.close()
        route = self.proxy.route(keys, pool=pool)
        held = self.where(keys)
        for k in keys:
            want = route[k][pool][1]
            self.assertIn(want, held.get(k, []), "key %s: --route says %d, held by %s"
                          % (k, want, held.get(k)))

    def test_reload_under_load(self):
        a, b, c = self.mcs
        self.port_now = self.port
        self.start({"p": pool_conf(self.port, [a, b])})
        stop = threading.Event()
        failures, misses, done = [], [0], [0]
        lock = threading.Lock()

        def load(i):
            # a client that stays connected through every reload, and one per round that
            # connects anew (to whatever port the pool listens on now)
            port = self.port
            keep = MemcacheClient(port, timeout=5)
            n = 0
            try:
                while not stop.is_set():
                    n += 1
                    key = "load.%d.%d" % (i, n)
                    value = "%d-%d-%s" % (i, n, "x" * random.randrange(1, 300))
                    for cl in (keep,):
                        r = cl.set(key, value)
                        if r != b"STORED":
                            with lock:
                                failures.append("set %s: %r" % (key, r))
                            continue
                        raw, items = cl.get_multi([key, key + ".other"])
                        if items is None:
                            with lock:
                                failures.append("get %s: %r" % (key, raw))
                        elif not items or items[0][0] != key:
                            with lock:
                                misses[0] += 1  # moved between its set and get: a reshard
                        elif items[0][2] != value.encode():
                            with lock:
                                failures.append("get %s: wrong value %r" % (key, items[0][2]))
                    with lock:
                        done[0] += 1
            except Exception as e:  # a closed connection or a timeout is a failed request
                with lock:
                    failures.append("client %d: %s: %s" % (i, type(e).__name__, e))
            finally:
                keep.close()

        threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(12)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            # 1. a server added
            self.rewrite({"p": pool_conf(self.port, [a, b, c])})
            st = self.reload(signal.SIGHUP)
            self.assertEqual(len([k for k in st["p"] if k.startswith(HOST)]), 3)
            time.sleep(0.5)
            # 2. one removed
            self.rewrite({"p": pool_conf(self.port, [b, c])})
            self.assertGreater(connections_to(a.port), 0)
            st = self.reload(signal.SIGUSR1)
            self.assertNotIn("%s:%d" % (HOST, a.port), st["p"])
            # the removed server's connections close once their requests are answered
            self.assertTrue(rp.wait_until(lambda: connections_to(a.port) == 0, 5),
                            "%d connections to the removed server" % connections_to(a.port))
            time.sleep(0.5)
            # 3. the hash changed
            self.rewrite({"p": pool_conf(self.port, [b, c], hash="murmur")})
            self.reload(signal.SIGHUP)
            time.sleep(0.5)
            # 4. an invalid file: refused, the last good one keeps serving
            self.rewrite("p:\n  listen: %s:%d\n  hash: nosuchhash\n  servers:\n   - %s:%d:1\n"
                         % (HOST, self.port, HOST, a.port))
            st = self.reload(signal.SIGHUP, field="conf_reload_failures")
            self.assertEqual(st["ringproxy"]["conf_reloads"], 3)
            time.sleep(0.5)
            # 5. the listen port moved: the new one accepts, the old one stops
            new_port = rp.free_port()
            self.rewrite({"p": pool_conf(new_port, [b, c], hash="murmur")})
            self.reload(signal.SIGHUP)
            self.assertTrue(rp.wait_until(lambda: rp.port_accepts(new_port), 5))
            self.assertTrue(rp.wait_until(lambda: not rp.port_accepts(self.port), 5),
                            "the old listen port still accepts")
            self.port_now = new_port
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(20)
        self.assertEqual(failures, [], "%d failed of %d rounds (%d misses)\n%s"
                         % (len(failures), done[0], misses[0], self.proxy.log_tail()))
        self.assertGreater(done[0], 100)
        st = self.proxy.stats()["ringproxy"]
        self.assertEqual((st["conf_reloads"], st["conf_reload_failures"]), (4, 1))
        self.assertIn("refused", self.proxy.log_text())
        # keys placed per the new configuration, and --route agrees with the data path
        self.check_placement(["placed.%d" % i for i in range(200)])
        # the removed server's connections are gone
        self.assertTrue(rp.wait_until(
            lambda: "%s:%d" % (HOST, a.port) not in self.proxy.stats()["p"], 2))

    def test_unchanged_and_invalid(self):
        a, b, _ = self.mcs
        self.port_now = self.port
        self.start({"p": pool_conf(self.port, [a, b])})
        before = self.proxy.stats()["ringproxy"]
        self.assertEqual(len(before["conf_checksum"]), 16)
        st = self.reload(signal.SIGUSR1, field="conf_reload_unchanged")["ringproxy"]
        self.assertEqual(st["conf_reloads"], 0)
        self.assertEqual(st["conf_checksum"], before["conf_checksum"])
        # an invalid file: the same message as -t gives, and nothing changes
        bad = "p:\n  listen: %s:%d\n  servers:\n   - %s:%d:1\n  hash: fnv1a_64\n  bogus: 1\n" % (
            HOST, self.port, HOST, a.port)
        self.rewrite(bad)
        st = self.reload(signal.SIGHUP, field="conf_reload_failures")["ringproxy"]
        self.assertEqual(st["conf_checksum"], before["conf_checksum"])
        import subprocess
        t = subprocess.run([self.proxy.binary, "-t", "-c", self.proxy.conf_path],
                           stderr=subprocess.PIPE, timeout=10)
        first = t.stderr.decode().splitlines()[0]
        self.assertIn(self.proxy.conf_path + ":", first)
        self.assertIn(first, self.proxy.log_text())
        with MemcacheClient(self.port) as c:
            self.assertEqual(c.set("still", "here"), b"STORED")
            self.assertEqual(c.get("still"), b"here")

    def test_pools_added_and_removed(self):
        a, b, c = self.mcs
        self.port_now = self.port
        self.start({"p": pool_conf(self.port, [a, b])})
        held = MemcacheClient(self.port)
        self.addCleanup(held.close)
        self.assertEqual(held.set("k", "1"), b"STORED")
        q_port = rp.free_port()
        self.rewrite({"p": pool_conf(self.port, [a, b]), "q": pool_conf(q_port, [c])})
        st = self.reload()
        self.assertIn("q", st)
        self.assertTrue(rp.wait_until(lambda: rp.port_accepts(q_port), 5))
        with MemcacheClient(q_port) as cl:
            self.assertEqual(cl.set("qk", "2"), b"STORED")
        with c.client() as direct:
            self.assertEqual(direct.get("qk"), b"2")
        # p removed: its listener closes; a client of it is answered, then closed
        held.send(b"get k\r\n")
        self.rewrite({"q": pool_conf(q_port, [c])})
        st = self.reload()
        self.assertNotIn("p", st)
        raw, items = held.read_values()
        self.assertEqual(items[0][2] if items else None, b"1")
        self.assertTrue(held.is_closed(timeout=5), "a removed pool's client stays open")
        self.assertTrue(rp.wait_until(lambda: not rp.port_accepts(self.port), 5))
        with MemcacheClient(q_port) as cl:
            self.assertEqual(cl.get("qk"), b"2")

    def test_restart_settings_are_kept(self):
        a, b, _ = self.mcs
        conf = {"ringproxy": {"buffers": 256}, "p": pool_conf(self.port, [a, b])}
        self.start(conf)
        conf["ringproxy"] = {"buffers": 512, "drain_timeout": 1000}
        self.rewrite(conf)
        self.reload()
        self.assertRegex(self.proxy.log_text(), r"buffers changed from 256 to 512: this needs "
                                                r"a restart")
        with MemcacheClient(self.port) as c:
            self.assertEqual(c.set("x", "y"), b"STORED")


@ringproxy_only("drain timeout")
class DrainTests(unittest.TestCase):

    def test_in_flight_finishes(self):
        mc = rp.start_memcached()
        self.addCleanup(mc.kill)
        port = rp.free_port()
        proxy = rp.start_ringproxy({"ringproxy": {"drain_timeout": 5000},
                                    "p": pool_conf(port, [mc])}, workers=WORKERS)
        self.addCleanup(proxy.kill)
        c = MemcacheClient(port, timeout=10)
        self.addCleanup(c.close)
        self.assertEqual(c.set("d", "v"), b"STORED")
        mc.stop()  # SIGSTOP: the next request waits in the proxy
        c.send(b"get d\r\n")
        time.sleep(0.2)
        proxy.signal(signal.SIGTERM)
        time.sleep(0.3)
        self.assertFalse(rp.port_accepts(port), "still accepting while draining")
        self.assertTrue(proxy.alive(), "exited before its in-flight request was answered")
        mc.cont()
        raw, items = c.read_values()
        self.assertEqual(items[0][2] if items else raw, b"v")
        self.assertTrue(c.is_closed(timeout=5))
        self.assertTrue(rp.wait_until(lambda: not proxy.alive(), 5))
        self.assertEqual(proxy.returncode(), 0)
        self.assertIn("drained", proxy.log_text())

    def test_drain_timeout(self):
        mc = rp.start_memcached()
        self.addCleanup(mc.kill)
        port = rp.free_port()
        proxy = rp.start_ringproxy({"ringproxy": {"drain_timeout": 500},
                                    "p": pool_conf(port, [mc], timeout=60000)},
                                   workers=WORKERS)
        self.addCleanup(proxy.kill)
        c = MemcacheClient(port, timeout=10)
        self.addCleanup(c.close)
        mc.stop()
        self.addCleanup(mc.cont)
        c.send(b"get never\r\n")
        time.sleep(0.2)
        t0 = time.monotonic()
        proxy.signal(signal.SIGTERM)
        self.assertTrue(rp.wait_until(lambda: not proxy.alive(), 5))
        took = time.monotonic() - t0
        self.assertEqual(proxy.returncode(), 0)
        self.assertGreaterEqual(took, 0.4)
        self.assertIn("drain timeout", proxy.log_text())


if __name__ == "__main__":
    unittest.main()

"""Robustness suite: what a misbehaving world does to the proxy. Clients that vanish in the
middle of a request (FIN or reset) or upload slowly, split multi-key gets held up by a stopped
server while the buffer arena is tiny, a process out of file descriptors, noreply requests to a
server that is down, ejection across several workers (counted once, back only once the server
really is back), the queue gauges, SIGTTIN / SIGTTOU / SIGHUP, and two configuration keys
(redis, preconnect).

Real memcached and proxy processes on loopback ports chosen at run time; every socket operation
has a timeout; everything is cleaned up. Timeouts are generous (sanitizer builds are ~3x slower)
and nothing asserts on speed: a "prompt" answer is one that comes within several seconds, where
the failure it guards against is a hang. Tests of ringproxy-only behaviour are marked
@ringproxy_only (skipped when RINGPROXY is nutcracker)."""

import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import HOST, MemcacheClient, expect, ringproxy_only, run_threads  # noqa: E402

WORKERS = 2          # where state could differ between workers
NSPREAD = 12         # client connections opened to reach every worker (SO_REUSEPORT spreads them)
PROMPT = 8.0         # seconds within which a request that must not hang has to be answered
# A request the proxy answers itself, whatever the servers' state: memcached's answer to a
# word it does not know.
PROBE = b"nosuch\r\n"
PROBE_REPLY = b"ERROR"
SERVER_ERROR_LINE = re.compile(rb"^SERVER_ERROR( .*)?$")
RST_LINGER = b"\x01\x00\x00\x00\x00\x00\x00\x00"   # struct linger {1, 0}: close sends RST


# ---------------------------------------------------------------------------------------------
# helpers (local to this file)


def spread_key(base, i):
    """A key ending in 8 pseudo-random hex digits, so consecutive keys spread over servers."""
    return "%s%d-%08x" % (base, i, zlib.crc32(("%s%d" % (base, i)).encode()))


def value_of(seed, n):
    """n pseudo-random bytes fixed by seed."""
    return random.Random(seed).randbytes(n)


def value_block_of(key, data, flags=0):
    """The reply to `get key` for a stored value."""
    return b"VALUE %s %d %d\r\n" % (key.encode(), flags, len(data)) + data + b"\r\nEND\r\n"


def pool_conf(servers, **overrides):
    """rp.default_pool, where an override of None leaves the key out (e.g. timeout=None: wait
    for a server forever, as with no `timeout` in nutcracker.yml)."""
    pool = rp.default_pool(servers)
    for key, value in overrides.items():
        if value is None:
            pool.pop(key, None)
        else:
            pool[key] = value
    return pool


def fd_count(pid):
    """How many descriptors process pid holds (/proc/PID/fd)."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def nc_stats_args():
    """nutcracker (harness check) adds its counters up every 30s unless told otherwise (-i)."""
    return ("-i", "100") if rp.is_nutcracker() else ()


def close_wait_peers(port, host=HOST):
    """The remote ports of the IPv4 TCP sockets in CLOSE_WAIT (the peer has closed, the owner
    has not) whose local end is host:port: clients the proxy still holds after they left."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(host), "little"), port)
    peers = set()
    try:
        with open("/proc/net/tcp") as f:
            next(f, None)
            for line in f:
                fields = line.split()
                if len(fields) > 3 and fields[1] == want and fields[3] == "08":
                    peers.add(int(fields[2].rsplit(":", 1)[1], 16))
    except OSError:
        pass
    return peers


def proc_state(pid):
    """The state letter of /proc/PID/stat ('R', 'S', 'T' for stopped, ...), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def raw_connect(port, timeout=rp.IO_TIMEOUT):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def close_with_reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST_LINGER)
    sock.close()


def server_entry(stats, pool, port):
    """A server's entry in the stats JSON (keyed "127.0.0.1:PORT")."""
    return stats[pool]["%s:%d" % (HOST, port)]


def ejection_lines(proxy):
    """The lines of the proxy's log that say a server was ejected."""
    return [line for line in proxy.log_text().splitlines() if "ejected" in line]


def count_lines(text, pattern):
    return len(re.findall(pattern, text, re.I | re.M))


# -- starting the proxy with control over its process (rlimits, process group) ---------------


class LocalProxy(rp.RingProxy):
    """rp.RingProxy started through subprocess.Popen with our own preexec_fn (resource limits,
    a process group inside our session). Registered for cleanup like any ManagedProcess."""

    def __init__(self, binary, cmd, workdir, conf_path, log_path, pools, stats_port, workers,
                 io, preexec_fn):
        self.binary = binary
        self.conf_path = conf_path
        self.log_path = log_path
        self.pools = pools
        self.port = next(iter(pools.values())) if pools else None
        self.stats_port = stats_port
        self.workers = workers
        self.io = io
        self.nutcracker = rp.is_nutcracker(binary)
        self.name = "proxy"
        self.cmd = list(cmd)
        self.workdir = workdir
        self.stdout_path = os.path.join(workdir, "proxy.stdout")
        self.stderr_path = os.path.join(workdir, "proxy.stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, cwd=workdir, preexec_fn=preexec_fn)
        self.pid = self.proc.pid
        rp.register_process(self)  # killed at exit even if a cleanup is skipped


def launch_proxy(pools, workers=None, io=None, extra_args=(), nofile=None, own_session=True):
    """Like rp.start_ringproxy for a {pool: {key: value}} configuration, but the process gets
    RLIMIT_NOFILE (soft and hard) = nofile when given, and with own_session=False it runs in a
    process group of its own inside our session (so that SIGTTIN / SIGTTOU would stop it, as
    they stop a daemon started from a shell: in a new session its group is orphaned and the
    kernel discards them). Returns a LocalProxy once every port accepts."""
    binary = rp.proxy_binary()
    nutcracker = rp.is_nutcracker(binary)
    workdir = rp.make_temp_dir("rp-proxy-")
    conf = {}
    ports = {}
    for name, opts in pools.items():
        opts = dict(opts)
        if name != "ringproxy":
            opts.setdefault("listen", "%s:%d" % (HOST, rp.free_port()))
            ports[name] = int(opts["listen"].rsplit(":", 1)[1])
        conf[name] = opts
    text = rp.yaml_conf(conf, nutcracker=nutcracker)
    conf_path = os.path.join(workdir, "nutcracker.yml")
    with open(conf_path, "w") as f:
        f.write(text)
    log_path = os.path.join(workdir, "proxy.log")
    stats_port = rp.free_port()
    io = io if io is not None else rp.io_mode()
    cmd = [binary, "-c", conf_path, "-s", str(stats_port), "-a", HOST, "-v", "6", "-o",
           log_path]
    if not nutcracker:
        if io:
            cmd.append("--io=%s" % io)
        if workers:
            cmd.append("--workers=%d" % workers)
    cmd += list(extra_args)

    def preexec():
        if own_session:
            os.setsid()
        else:
            os.setpgid(0, 0)
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proxy = LocalProxy(binary, cmd, workdir, conf_path, log_path, ports, stats_port,
                       workers if not nutcracker else None, io if not nutcracker else None,
                       preexec)
    for port in list(ports.values()) + [stats_port]:
        if not rp.wait_port(port, proxy, rp.START_TIMEOUT):
            status = proxy.returncode()
            proxy.kill()
            raise RuntimeError("proxy did not start (exit status %s, waiting for port %d)\n"
                               "command: %s\n--- conf:\n%s%s"
                               % (status, port, " ".join(cmd), text, proxy.log_tail()))
    return proxy


# ---------------------------------------------------------------------------------------------
# base class


class RobustCase(unittest.TestCase):
    """Each test starts its own memcached and proxy. After the test every proxy still meant to
    run must be alive with a clean log, and it stops without a sanitizer report."""

    def setUp(self):
        self.proxies = []
        self.clients = []
        self.prefix = "%s.%d" % (self._testMethodName[5:40], random.randrange(10 ** 9))

    def tearDown(self):
        for c in self.clients:
            try:
                c.close()
            except OSError:
                pass
        problems = []
        for p in self.proxies:
            for problem in p.health_problems():
                problems.append("%s: %s" % (p.name, problem))
        if problems:
            self.fail("after %s: %s\n%s" % (self.id(), "; ".join(problems),
                                            self.proxies[0].log_tail()))

    # -- processes ---------------------------------------------------------------------------

    def adopt_proxy(self, proxy):
        self.proxies.append(proxy)
        self.addCleanup(self._stop_proxy, proxy)
        return proxy

    @staticmethod
    def _stop_proxy(proxy):
        proxy.terminate()
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

    def start_memcached(self, n):
        out = []
        for _ in range(n):
            mc = rp.start_memcached(extra_args=("-I", "2m"))
            self.addCleanup(mc.kill)
            out.append(mc)
        return out

    def fleet(self, nservers, workers=WORKERS, down=(), ringproxy=None, **pool_opts):
        """Fleet of nservers memcached (indices in `down` reserved, not started) and a proxy
        with pool alpha over them: pool_conf(ports, **pool_opts)."""
        f = Fleet(nservers, pool_opts, workers=workers, down=down, ringproxy=ringproxy)
        f.start()
        self.addCleanup(f.stop_servers)
        self.adopt_proxy(f.proxy)
        return f

    def client(self, port, timeout=rp.IO_TIMEOUT):
        c = MemcacheClient(port, timeout=timeout)
        self.clients.append(c)
        return c

    def clients_spread(self, port, n=NSPREAD, timeout=rp.IO_TIMEOUT):
        return [self.client(port, timeout) for _ in range(n)]

    # -- data --------------------------------------------------------------------------------

    def keys(self, n, name="k"):
        return [spread_key("%s:%s" % (self.prefix, name), i) for i in range(n)]

    def placed_keys(self, fleet, n=40, name="k", value=None):
        """Sets n keys through the proxy (value: the key itself) and returns
        {server index: [keys]} as found on the backends; every server gets some."""
        keys = self.keys(n, name)
        with MemcacheClient(fleet.port) as c:
            for k in keys:
                r = c.set(k, value if value is not None else k.encode())
                self.assertEqual(r, b"STORED", "set %s" % k)
        owners = fleet.owners(keys)
        out = {}
        for k in keys:
            out.setdefault(owners[k], []).append(k)
        live = [i for i, mc in enumerate(fleet.memcached) if mc is not None]
        self.assertEqual(sorted(out), live, "keys not spread over every server: %r"
                         % {i: len(v) for i, v in out.items()})
        return out

    def assertServed(self, port, keys, proxy, what, n=NSPREAD, timeout=PROMPT):
        """n fresh clients, all at once, each set and get one of keys: every reply is the right
        one within timeout seconds (a request queued behind a stuck one would hang)."""
        clients = [MemcacheClient(port, timeout=timeout) for _ in range(n)]
        try:
            for i, c in enumerate(clients):
                k = keys[i % len(keys)]
                c.send(c.storage_request("set", k, b"served-%d" % i) +
                       b"get %s\r\n" % k.encode())
            deadline = time.monotonic() + timeout
            problems = []
            for i, c in enumerate(clients):
                k = keys[i % len(keys)]
                try:
                    line = c.read_line(max(0.1, deadline - time.monotonic()))
                    raw, items = c.read_values(max(0.1, deadline - time.monotonic()))
                except (TimeoutError, rp.ConnectionClosed) as e:
                    problems.append("client %d (%s): %s" % (i, k, e))
                    continue
                if line != b"STORED":
                    problems.append("client %d: set %s: %r" % (i, k, line))
                elif items is None or len(items) != 1 or items[0][0] != k:
                    problems.append("client %d: get %s: %r" % (i, k, raw[:200]))
            if problems:
                self.fail("%s: %d of %d clients not served:\n  %s\n%s"
                          % (what, len(problems), n, "\n  ".join(problems),
                             proxy.log_tail(3000)))
        finally:
            for c in clients:
                c.close()


class Fleet(rp.ProxyFleet):
    """rp.ProxyFleet whose pool is pool_conf(ports, **pool_options) (None drops a key) and
    which may carry a `ringproxy:` section (ringproxy only)."""

    def __init__(self, nservers, pool_options, workers=None, down=(), ringproxy=None):
        rp.ProxyFleet.__init__(self, nservers, pool_options=pool_options, workers=workers,
                               down=down)
        self.ringproxy = ringproxy

    def start(self):
        try:
            self.ports = [rp.free_port() for _ in range(self.nservers)]
            self.memcached = [None] * self.nservers
            for i in range(self.nservers):
                if i not in self.down:
                    self.start_server(i)
            pools = {}
            if self.ringproxy:
                pools["ringproxy"] = dict(self.ringproxy)
            pools[self.pool_name] = pool_conf(self.ports, **self.pool_options)
            # nutcracker adds its counters up every 30s unless told otherwise
            self.proxy = rp.start_ringproxy(pools, workers=self.workers, io=self.io,
                                            extra_args=nc_stats_args())
        except BaseException:
            self.stop()
            raise
        return self

    def stop_servers(self):
        for mc in self.memcached:
            if mc is not None:
                mc.cont()
                mc.kill()


# ---------------------------------------------------------------------------------------------
# 1. clients that vanish in the middle of a request


class VanishingClientTests(RobustCase):
    """A client sends a set's command line and part of its data block, then closes (FIN) or
    resets. The proxy may have forwarded that much to the server: whatever it does about it,
    the other clients of that server must go on being served, those whose requests came in
    while the half set was pending as well as those that come afterwards."""

    def vanish(self, timeout, reset):
        fleet = self.fleet(1, timeout=timeout)
        proxy = fleet.proxy
        keys = self.keys(NSPREAD)
        # every worker has talked to the server before (its connection is open)
        self.assertServed(fleet.port, keys, proxy, "before")
        how = "reset" if reset else "closed"
        for rnd in range(2):
            s = raw_connect(fleet.port)
            s.sendall(b"set %s:gone%d 0 0 100\r\nabc" % (self.prefix.encode(), rnd))
            time.sleep(0.3)  # the half request reaches the proxy (and maybe the server)
            # meanwhile other clients (on every worker) ask the same server
            others = [MemcacheClient(fleet.port, timeout=PROMPT) for _ in range(NSPREAD)]
            self.clients.extend(others)
            for i, c in enumerate(others):
                c.send(c.storage_request("set", keys[i], b"r%d" % rnd) +
                       b"get %s\r\n" % keys[i].encode())
            time.sleep(0.3)
            if reset:
                close_with_reset(s)
            else:
                s.close()
            deadline = time.monotonic() + PROMPT
            problems = []
            for i, c in enumerate(others):
                try:
                    line = c.read_line(max(0.1, deadline - time.monotonic()))
                    raw, items = c.read_values(max(0.1, deadline - time.monotonic()))
                except (TimeoutError, rp.ConnectionClosed) as e:
                    problems.append("client %d: %s" % (i, e))
                    continue
                if line != b"STORED" or items != [(keys[i], 0, b"r%d" % rnd, None)]:
                    problems.append("client %d: %r then %r" % (i, line, raw[:200]))
            self.assertEqual(problems, [], "round %d: requests sent while a client's half set "
                             "was pending, answered after it %s:\n%s"
                             % (rnd, how, proxy.log_tail(2000)))
            self.assertServed(fleet.port, keys, proxy,
                              "round %d: after a client %s with half a set sent" % (rnd, how))
        with self.client(fleet.port) as c:
            for rnd in range(2):
                self.assertIsNone(c.get("%s:gone%d" % (self.prefix, rnd)),
                                  "half a value was stored")

    def test_half_sent_set_then_close(self):
        self.vanish(timeout=None, reset=False)

    def test_half_sent_set_then_reset(self):
        self.vanish(timeout=None, reset=True)

    def test_half_sent_set_then_close_with_timeout(self):
        self.vanish(timeout=1000, reset=False)

    def test_half_sent_set_then_reset_with_timeout(self):
        self.vanish(timeout=1000, reset=True)

    def test_clients_leaving_at_once_leave_no_descriptors(self):
        fleet = self.fleet(1, timeout=None)
        proxy = fleet.proxy
        keys = self.keys(NSPREAD)
        self.assertServed(fleet.port, keys, proxy, "warm-up")  # server connections open
        # the warm-up clients (and start_ringproxy's port probe) are gone once this settles
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["alpha"]["client_connections"] == 0, 5),
            "client_connections after warm-up: %r" % proxy.stats()["alpha"])
        base = fd_count(proxy.pid)
        self.assertGreater(base, 0)
        # clients that vanish with half a set sent (on every worker)
        vanished = set()
        for i in range(4):
            s = raw_connect(fleet.port)
            vanished.add(s.getsockname()[1])
            s.sendall(b"set %s:gone%d 0 0 100\r\nabc" % (self.prefix.encode(), i))
            time.sleep(0.1)
            s.close()
        time.sleep(0.3)
        # then 50 clients each send a get and close at once
        socks = []
        getters = set()
        for i in range(50):
            s = raw_connect(fleet.port)
            getters.add(s.getsockname()[1])
            s.sendall(b"get %s\r\n" % keys[i % len(keys)].encode())
            socks.append(s)
        for s in socks:
            s.close()

        def settled():
            return fd_count(proxy.pid) <= base + 4 and not close_wait_peers(fleet.port)

        ok = rp.wait_until(settled, 10, 0.1)
        held = close_wait_peers(fleet.port)
        self.assertTrue(ok, "10s after they closed, the proxy still holds %d of the 4 clients "
                        "that left with half a set sent and %d of the 50 that sent a get and "
                        "closed (CLOSE_WAIT on its port); %d descriptors (%d before)\n%s"
                        % (len(held & vanished), len(held & getters), fd_count(proxy.pid),
                           base, proxy.log_tail(2000)))
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["alpha"]["client_connections"] == 0, 5),
            "client_connections: %r" % proxy.stats()["alpha"])
        self.assertServed(fleet.port, keys, proxy, "afterwards")


# ---------------------------------------------------------------------------------------------
# 2. aborted and slow uploads


class AbortedUploadTests(RobustCase):

    def test_reset_uploads_do_not_eject_a_healthy_server(self):
        fleet = self.fleet(2, auto_eject_hosts=True, server_failure_limit=2,
                           server_retry_timeout=30000)
        proxy = fleet.proxy
        placed = self.placed_keys(fleet)
        target = placed[0][0]
        # 4 aborted uploads to one server: with 2 workers, some worker sees 2 of them
        for i in range(4):
            s = raw_connect(fleet.port)
            s.sendall(b"set %s 0 0 100000\r\n" % target.encode() + b"u" * 30000)
            time.sleep(0.3)  # the partial upload reaches the proxy and the server
            close_with_reset(s)
        time.sleep(0.5)
        for srv in (0, 1):
            clients = self.clients_spread(fleet.port)
            for i, c in enumerate(clients):
                k = placed[srv][i % len(placed[srv])]
                self.assertEqual(c.get(k), k.encode(),
                                 "server %d's key %s after aborted uploads\n%s"
                                 % (srv, k, proxy.log_tail(2000)))
        pool = self.stats(proxy)["alpha"]
        self.assertEqual(pool["server_ejects"], 0,
                         "aborted client uploads ejected a healthy server: %r" % pool)
        self.assertEqual(ejection_lines(proxy), [], "the log says a server was ejected")
        self.assertServed(fleet.port, placed[0], proxy, "server 0 afterwards")

    def slow_upload(self, timeout):
        fleet = self.fleet(2, timeout=timeout)
        proxy = fleet.proxy
        placed = self.placed_keys(fleet)
        up_key = placed[0][0]
        others = placed[0][1:]
        value = value_of(up_key, 100000)
        up = self.client(fleet.port, timeout=PROMPT)
        up.send(b"set %s 0 0 %d\r\n" % (up_key.encode(), len(value)) + value[:50000])
        time.sleep(1.5)  # the uploader sits there with half its value sent
        clients = self.clients_spread(fleet.port, timeout=PROMPT)
        for i, c in enumerate(clients):
            c.send(b"get %s\r\n" % others[i % len(others)].encode())
        deadline = time.monotonic() + PROMPT
        problems = []
        for i, c in enumerate(clients):
            k = others[i % len(others)]
            try:
                raw, items = c.read_values(max(0.1, deadline - time.monotonic()))
            except (TimeoutError, rp.ConnectionClosed) as e:
                problems.append("client %d: get %s: %s" % (i, k, e))
                continue
            if items != [(k, 0, k.encode(), None)]:
                problems.append("client %d: get %s: %r" % (i, k, raw[:200]))
        self.assertEqual(problems, [], "requests to the server of a slow upload (half its "
                         "value sent 1.5s ago) were not served:\n%s" % proxy.log_tail(2000))
        up.send(value[50000:] + b"\r\n")
        self.assertEqual(up.read_line(), b"STORED", "the slow upload, once complete")
        self.assertEqual(up.get(up_key), value)
        return fleet, proxy

    def test_slow_uploader_does_not_stall_others(self):
        self.slow_upload(timeout=None)

    def test_slow_uploader_is_not_a_server_timeout(self):
        fleet, proxy = self.slow_upload(timeout=500)
        stats = self.stats(proxy)
        for port in fleet.ports:
            entry = server_entry(stats, "alpha", port)
            self.assertEqual(entry["server_timedout"], 0,
                             "server %d: a client's slow upload was charged to it as a "
                             "timeout: %r" % (port, entry))
        self.assertEqual(stats["alpha"]["server_ejects"], 0)


# ---------------------------------------------------------------------------------------------
# 3. split gets held up by a stopped server, tiny arena


@ringproxy_only("ringproxy: section (buffer arena)")
class ArenaStallTests(RobustCase):

    NGETS = 64      # pending split gets: far more than the 16 buffers of each worker
    VALUE = 3900    # each healthy fragment's reply needs about a buffer of 4096

    def test_split_gets_pending_on_a_stopped_server_do_not_freeze_the_worker(self):
        fleet = self.fleet(2, timeout=None, ringproxy={"buffers": 16, "buffer_size": 4096})
        proxy = fleet.proxy
        keys = self.keys(2 * self.NGETS + 40)
        with MemcacheClient(fleet.port, timeout=PROMPT) as c:
            for k in keys:
                self.assertEqual(c.set(k, value_of(k, self.VALUE)), b"STORED")
        owners = fleet.owners(keys)
        healthy = [k for k in keys if owners[k] == 0]
        stopped = [k for k in keys if owners[k] == 1]
        self.assertGreater(len(healthy), self.NGETS // 2)
        self.assertGreater(len(stopped), 4)

        fleet.memcached[1].stop()
        self.addCleanup(fleet.memcached[1].cont)
        pending = []
        want = []
        for i in range(self.NGETS):
            hk = healthy[i % len(healthy)]
            sk = stopped[i % len(stopped)]
            c = self.client(fleet.port, timeout=30)
            c.send(b"get %s %s\r\n" % (hk.encode(), sk.encode()))
            pending.append(c)
            want.append([hk, sk])
        time.sleep(1.0)  # the healthy halves are answered and wait for the stopped ones

        def healthy_client(i):
            with MemcacheClient(fleet.port, timeout=PROMPT) as c:
                ks = [healthy[(7 * i + j) % len(healthy)] for j in range(3)]
                raw, items = c.get_multi(ks)
                expect(items is not None and [it[0] for it in items] == ks and
                       all(it[2] == value_of(it[0], self.VALUE) for it in items),
                       "client %d: get of healthy keys: %r" % (i, raw[:200]))
                k = healthy[i % len(healthy)]   # rewritten with the value it has
                r = c.set(k, value_of(k, self.VALUE))
                expect(r == b"STORED", "client %d: set %s: %r" % (i, k, r))

        errors = run_threads(healthy_client, 6, PROMPT + 4)
        self.assertEqual(errors, [], "with %d split gets waiting for a stopped server, "
                         "clients asking only for the healthy server's keys were not answered:"
                         "\n  %s\n%s" % (self.NGETS, "\n  ".join(errors), proxy.log_tail(3000)))

        fleet.memcached[1].cont()
        deadline = time.monotonic() + 30
        problems = []
        for i, c in enumerate(pending):
            try:
                raw, items = c.read_values(max(0.1, deadline - time.monotonic()))
            except (TimeoutError, rp.ConnectionClosed) as e:
                problems.append("split get %d: %s" % (i, e))
                continue
            if items is None or [it[0] for it in items] != want[i] or \
                    any(it[2] != value_of(it[0], self.VALUE) for it in items):
                problems.append("split get %d: %r" % (i, raw[:200]))
        self.assertEqual(problems, [], "after SIGCONT:\n%s" % proxy.log_tail(3000))
        self.assertServed(fleet.port, healthy + stopped, proxy, "afterwards")


@ringproxy_only("ringproxy's bounded spill space")
class SpillExhaustionTests(RobustCase):

    def test_endless_uploads_are_shed_and_others_served(self):
        # one worker, a tiny arena and 2 MiB of spill: three clients that each send 1.5 MiB of
        # an 8 MB value and then wait would hold more than the worker may keep. The ones holding
        # the most are closed; every other client is served throughout
        fleet = self.fleet(1, workers=1, timeout=None, max_value_size=16 * 1024 * 1024,
                           ringproxy={"buffers": 16, "buffer_size": 4096, "max_spill_mb": 2})
        proxy = fleet.proxy
        keys = self.keys(8)
        chunk = b"u" * (1536 * 1024)
        uploaders = []
        for i in range(3):
            c = self.client(fleet.port, timeout=PROMPT)
            c.send(b"set %s:up%d 0 0 8000000\r\n" % (self.prefix.encode(), i))
            try:
                c.sock.sendall(chunk)
            except OSError:
                pass  # shed while sending: that is the point
            uploaders.append(c)
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["ringproxy"]["clients_shed"] >= 1, PROMPT),
            "no client was shed with 3 x 1.5 MiB waiting and 2 MiB of spill space: %r\n%s"
            % (proxy.stats()["ringproxy"], proxy.log_tail(2000)))
        self.assertServed(fleet.port, keys, proxy, "with the uploads waiting")
        self.assertIn("closing the client that holds the most", proxy.log_text())
        shed = 0
        for c in uploaders:
            try:
                shed += c.is_closed(timeout=0.2)
            except (TimeoutError, OSError):
                pass  # still open (and silent): not shed
        self.assertGreaterEqual(shed, 1, "no uploader's connection was closed")
        for c in uploaders:
            c.close()
        # the memory is back: a large value goes through
        big = value_of("big", 900 * 1024)
        with MemcacheClient(fleet.port, timeout=PROMPT) as c:
            self.assertEqual(c.set(keys[0], big), b"STORED")
            self.assertEqual(c.get(keys[0]), big)


@ringproxy_only("client_reply_limit is ringproxy's")
class ReplyLimitTests(RobustCase):

    def test_client_not_reading_is_paused_then_served_in_full(self):
        # 100 pipelined gets of a 60 KB value (6 MB of replies) from a client that reads
        # nothing at first, against a 256 KiB client_reply_limit: the proxy stops reading its
        # requests rather than hold all the replies; others are served; when it reads, every
        # reply arrives, in order and intact
        fleet = self.fleet(1, workers=1, timeout=None, client_reply_limit=262144)
        proxy = fleet.proxy
        key = self.keys(1)[0]
        value = value_of(key, 60000)
        with MemcacheClient(fleet.port, timeout=PROMPT) as c:
            self.assertEqual(c.set(key, value), b"STORED")
        hog = MemcacheClient(fleet.port, timeout=PROMPT, rcvbuf=65536)
        self.clients.append(hog)
        hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        n = 100
        hog.sock.sendall(b"get %s\r\n" % key.encode() * n)
        self.assertTrue(rp.wait_until(
            lambda: proxy.stats()["ringproxy"]["clients_paused"] >= 1, PROMPT),
            "a client with 6 MB of replies unread was never paused: %r"
            % proxy.stats()["ringproxy"])
        self.assertServed(fleet.port, self.keys(4, "other"), proxy, "with a client not reading")
        one = value_block_of(key, value)
        got = hog.read_exact(len(one) * n, timeout=30)
        self.assertTrue(got == one * n, "the paused client's replies differ once it read them")


@ringproxy_only("what reaches a client that the proxy closes is ringproxy's guarantee")
class CloseDeliversTests(RobustCase):
    """A client the proxy closes on its own (a request it cannot frame, a reply its server cut
    off) receives every byte the proxy had answered before the close, although it is still
    sending and reads slowly: the proxy shuts its side down and reads on until the bytes are
    delivered, where a plain close would reset the connection (the client's unread input) and
    the kernel would drop what was still queued for it."""

    def test_replies_before_a_silent_close_all_arrive(self):
        # 100 pipelined gets of a 60 KB value (6 MB of replies), then a line memcached closes
        # on without a word (over 2048 bytes and no newline), then a trickle of bytes the
        # proxy never parses; the client reads 64 KiB at a time with a pause, through a 64 KiB buffer
        fleet = self.fleet(1, timeout=None)
        key = self.keys(1)[0]
        value = value_of(key, 60000)
        with MemcacheClient(fleet.port, timeout=PROMPT) as c:
            self.assertEqual(c.set(key, value), b"STORED")
        n = 100
        c = MemcacheClient(fleet.port, timeout=PROMPT, rcvbuf=65536)
        self.clients.append(c)
        done = threading.Event()

        def send():
            # the bad line, then more bytes now and then for as long as the client reads: any
            # of them reaching a closed socket would reset the connection
            try:
                c.sock.sendall(b"get %s\r\n" % key.encode() * n + b"x" * 3000)
                while not done.wait(0.005):
                    c.sock.sendall(b"y" * 1024)
            except OSError:
                pass       # the proxy closed: what the reader saw tells whether it was right

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        got, end = rp.paced_read_all(c.sock, 0.002, 60)
        done.set()
        sender.join(PROMPT)
        one = value_block_of(key, value)
        self.assertEqual(end in ("eof", "reset"), True, "the client was not closed: %s" % end)
        self.assertTrue(got == one * n,
                        "closed (%s) after %d bytes of the %d answered before the bad line "
                        "(%d whole replies)" % (end, len(got), len(one) * n,
                                                got.count(b"\r\nEND\r\n")))
        self.assertGreaterEqual(fleet.proxy.stats()["ringproxy"]["clients_lingered"], 1)
        self.assertServed(fleet.port, self.keys(4, "other"), fleet.proxy, "after the close")


@ringproxy_only("client_idle_timeout is ringproxy's")
class ClientIdleTimeoutTests(RobustCase):

    def test_idle_clients_closed_busy_and_waiting_ones_kept(self):
        fleet = self.fleet(1, workers=2, timeout=None, client_idle_timeout=400)
        proxy = fleet.proxy
        key = self.keys(1)[0]
        idle = self.client(fleet.port, timeout=PROMPT)
        self.assertEqual(idle.set(key, b"v"), b"STORED")
        busy = self.client(fleet.port, timeout=PROMPT)
        waiting = self.client(fleet.port, timeout=PROMPT)
        half = self.client(fleet.port, timeout=PROMPT)
        half.send(b"set %s 0 0 10\r\nabc" % key.encode())  # then nothing: idle all the same
        fleet.memcached[0].stop()
        self.addCleanup(fleet.memcached[0].cont)
        waiting.send(b"get %s\r\n" % key.encode())  # outstanding: waiting is not idling
        t0 = time.monotonic()
        closed_after = None
        while time.monotonic() - t0 < 1.6:
            busy.send(PROBE)
            self.assertEqual(busy.read_line(), PROBE_REPLY)
            if closed_after is None:
                try:
                    if idle.is_closed(timeout=0.1):
                        closed_after = time.monotonic() - t0
                except TimeoutError:
                    pass
            else:
                time.sleep(0.1)
        self.assertIsNotNone(closed_after, "an idle client was not closed within 1.6 s "
                             "(client_idle_timeout 400 ms)")
        self.assertTrue(half.is_closed(timeout=1.0),
                        "a client sitting on half a set was not closed as idle")
        fleet.memcached[0].cont()
        raw, items = waiting.read_values(PROMPT)
        self.assertEqual([(it[0], it[2]) for it in items], [(key, b"v")],
                         "the client waiting on a stopped server was not answered: %r" % raw)
        busy.send(PROBE)
        self.assertEqual(busy.read_line(), PROBE_REPLY)
        self.assertGreaterEqual(proxy.stats()["ringproxy"]["clients_idle_closed"], 1)


# ---------------------------------------------------------------------------------------------
# 4. out of file descriptors


@ringproxy_only("ringproxy's accept back-off and descriptor handling")
class FdExhaustionTests(RobustCase):

    NOFILE = 40

    def test_out_of_descriptors_no_ejection_no_log_flood(self):
        mc = self.start_memcached(1)[0]
        pools = {"alpha": pool_conf([mc.port], auto_eject_hosts=True, server_failure_limit=1,
                                    server_retry_timeout=30000, timeout=2000)}
        proxy = self.adopt_proxy(launch_proxy(pools, workers=1, nofile=self.NOFILE))
        port = proxy.port
        # open clients until the proxy stops taking them (accept fails: EMFILE)
        served = []
        refused = []
        for i in range(4 * self.NOFILE):
            try:
                c = MemcacheClient(port, timeout=3)
            except OSError as e:
                refused.append(str(e))
                break
            self.clients.append(c)
            try:
                line = c.version()
            except (TimeoutError, rp.ConnectionClosed, OSError):
                refused.append(c)
                break
            if not line.startswith(b"VERSION"):
                refused.append(c)
                break
            served.append(c)
        self.assertTrue(refused, "%d clients served with RLIMIT_NOFILE %d: the limit did not "
                        "apply" % (len(served), self.NOFILE))
        # a few more wait in the listen backlog while the descriptors stay used up
        waiting = []
        for _ in range(3):
            try:
                waiting.append(self.client(port, timeout=3))
            except OSError:
                break

        # every served client asks for a key: each gets a reply (an error if no server
        # socket could be had), none hangs
        key = self.prefix + ":k"
        for c in served:
            c.send(b"get %s\r\n" % key.encode())
        problems = []
        deadline = time.monotonic() + PROMPT
        for i, c in enumerate(served):
            try:
                raw, items = c.read_values(max(0.1, deadline - time.monotonic()))
            except (TimeoutError, rp.ConnectionClosed) as e:
                problems.append("client %d: %s" % (i, e))
                continue
            if items is None and not SERVER_ERROR_LINE.match(raw.rstrip(b"\r\n")):
                problems.append("client %d: %r" % (i, raw[:200]))
        self.assertEqual(problems, [], "with the descriptors used up (%d clients served), "
                         "requests were not answered:\n%s" % (len(served), proxy.log_tail(2000)))
        self.assertEqual(ejection_lines(proxy), [], "running out of descriptors ejected the "
                         "server")

        # accept keeps failing while clients wait: logged a few times a second at most
        before = count_lines(proxy.log_text(), r"accept failed")
        time.sleep(3.0)
        during = count_lines(proxy.log_text(), r"accept failed") - before
        self.assertLessEqual(during, 8, "%d 'accept failed' lines in 3s: not rate-limited\n%s"
                             % (during, proxy.log_tail(1500)))

        for c in served + waiting + [r for r in refused if isinstance(r, MemcacheClient)]:
            c.close()

        def serves():
            try:
                with MemcacheClient(port, timeout=3) as c:
                    return c.set(key, b"back") == b"STORED" and c.get(key) == b"back"
            except (OSError, TimeoutError, rp.ConnectionClosed, AssertionError):
                return False

        self.assertTrue(rp.wait_until(serves, 15, 0.2),
                        "not serving after the extra clients left\n%s" % proxy.log_tail(2000))
        pool = self.stats(proxy)["alpha"]
        self.assertEqual(pool["server_ejects"], 0,
                         "running out of descriptors ejected the server: %r" % pool)
        self.assertEqual(ejection_lines(proxy), [], "the log says a server was ejected")


# ---------------------------------------------------------------------------------------------
# 5. noreply to a server that is down


@ringproxy_only("nutcracker 0.5.0 answers neither an unknown command nor flush_all")
class NoreplyTests(RobustCase):

    NOREPLY = (b"set %(k)s 0 0 1 noreply\r\nx\r\n"
               b"delete %(k)s noreply\r\n"
               b"incr %(k)s 1 noreply\r\n"
               b"touch %(k)s 0 noreply\r\n"
               b"flush_all noreply\r\n")

    def check_silent(self, fleet):
        for i in range(4):
            c = self.client(fleet.port)
            k = ("%s:%d" % (self.prefix, i)).encode()
            c.send(self.NOREPLY % {b"k": k} + PROBE)
            line = c.read_line(timeout=PROMPT)
            self.assertEqual(line, PROBE_REPLY,
                             "noreply requests to a server that is down answered %r before "
                             "the probe's reply" % line)
            c.send(PROBE)
            line = c.read_line(timeout=PROMPT)
            self.assertEqual(line, PROBE_REPLY, "second probe: %r" % line)
            self.assertEqual(bytes(c.buf), b"", "stray bytes after the probe replies")

    def test_noreply_to_a_down_then_ejected_server_is_silent(self):
        fleet = self.fleet(1, down={0}, auto_eject_hosts=True, server_failure_limit=2,
                           server_retry_timeout=30000)
        # down: the first requests fail to connect (and eject it after 2 failures)
        self.check_silent(fleet)
        # ejected on every worker
        for c in self.clients_spread(fleet.port):
            for _ in range(2):
                raw = c.get_multi([self.prefix + ":probe"])[0]
                self.assertTrue(SERVER_ERROR_LINE.match(raw.rstrip(b"\r\n")), raw)
        self.check_silent(fleet)


# ---------------------------------------------------------------------------------------------
# 6. ejection with several workers, return, server stats


class EjectionTests(RobustCase):

    def kill_and_eject(self, fleet, victim, vkey, value):
        """kill -9 server `victim`, then sets vkey through one connection until the set is
        STORED (the server is ejected, the key rehashed). Returns that time."""
        fleet.memcached[victim].kill()
        c = self.client(fleet.port)
        t0 = time.monotonic()
        while time.monotonic() < t0 + 15:
            r = c.set(vkey, value)
            if r == b"STORED":
                return time.monotonic()
            time.sleep(0.05)
        self.fail("server %d never ejected after kill -9\n%s"
                  % (victim, fleet.proxy.log_tail(2000)))

    def test_ejection_is_shared_by_workers_and_counted_once(self):
        retry = 3000
        fleet = self.fleet(2, auto_eject_hosts=True, server_failure_limit=1,
                           server_retry_timeout=retry)
        proxy = fleet.proxy
        placed = self.placed_keys(fleet)   # through one connection: one worker knows
        vkey = placed[1][0]
        t_ejected = self.kill_and_eject(fleet, 1, vkey, b"moved")
        ejects = self.stats(proxy)["alpha"]["server_ejects"]
        # every worker routes the key to the survivor, no client sees an error
        replies = []
        for c in self.clients_spread(fleet.port):
            raw, items = c.get_multi([vkey])
            replies.append(raw)
        ejects_after = self.stats(proxy)["alpha"]["server_ejects"]
        elapsed = time.monotonic() - t_ejected
        want = b"VALUE %s 0 5\r\nmoved\r\nEND\r\n" % vkey.encode()
        self.assertEqual([r for r in replies if r != want], [],
                         "after the ejection, %d of %d clients disagree about %s"
                         % (sum(r != want for r in replies), len(replies), vkey))
        self.assertEqual(ejects, 1, "server_ejects right after one server was ejected")
        if elapsed < retry / 1000.0:  # else it may have been retried and ejected again
            self.assertEqual(ejects_after, 1, "server_ejects after %d clients asked for one of "
                             "its keys (one ejection of one server)" % NSPREAD)

    @ringproxy_only("nutcracker puts a dead server back into the ring at each retry timeout")
    def test_dead_server_stays_out_and_returns_once_back(self):
        retry = 1000
        fleet = self.fleet(2, auto_eject_hosts=True, server_failure_limit=1,
                           server_retry_timeout=retry)
        proxy = fleet.proxy
        placed = self.placed_keys(fleet)
        vkey = placed[1][0]
        self.kill_and_eject(fleet, 1, vkey, b"moved")
        time.sleep(retry / 1000.0 * 1.5)  # the retry timeout passes, the server is still dead
        clients = self.clients_spread(fleet.port)
        replies = []
        t_end = time.monotonic() + 3.5 * retry / 1000.0
        i = 0
        while time.monotonic() < t_end:
            raw, items = clients[i % len(clients)].get_multi([vkey])
            replies.append(raw)
            i += 1
            time.sleep(0.02)
        want = b"VALUE %s 0 5\r\nmoved\r\nEND\r\n" % vkey.encode()
        errors = [r for r in replies if SERVER_ERROR_LINE.match(r.rstrip(b"\r\n"))]
        others = [r for r in replies if r != want and r not in errors]
        self.assertEqual(others, [], "replies for %s while its server is dead" % vkey)
        self.assertLessEqual(len(errors), WORKERS,
                             "%d of %d requests for a key of the dead server failed over "
                             "%.1fs after the retry timeout (%dms): the dead server came back "
                             "into the ring: %r" % (len(errors), len(replies), 3.5 * retry /
                                                     1000.0, retry, errors[:3]))
        # memcached is back on the same port: within the retry timeout and some slack every
        # connection routes the key to it again
        fleet.start_server(1)
        with fleet.direct(1) as d:
            self.assertEqual(d.set(vkey, b"home"), b"STORED")
        want_home = b"VALUE %s 0 4\r\nhome\r\nEND\r\n" % vkey.encode()

        def all_back():
            return all(c.get_multi([vkey])[0] == want_home for c in clients)

        self.assertTrue(rp.wait_until(all_back, retry / 1000.0 + 8, 0.1),
                        "the restarted server's key is not read from it on every connection: "
                        "%r\n%s" % ([c.get_multi([vkey])[0] for c in clients],
                                    proxy.log_tail(2000)))
        # no more connections than workers x server_connections, whatever the retries did
        # (polled: a connection being replaced may overlap its successor for a moment)
        for port in fleet.ports:
            self.assertTrue(rp.wait_until(
                lambda: server_entry(proxy.stats(), "alpha", port)["server_connections"] <=
                WORKERS * 1, 5, 0.1),
                "server %d: server_connections above workers x server_connections: %r"
                % (port, server_entry(proxy.stats(), "alpha", port)))
            self.assertTrue(rp.wait_until(lambda: rp.established_to(port) <= WORKERS * 1, 5,
                                          0.1),
                            "server %d: %d TCP connections to it (/proc/net/tcp)"
                            % (port, rp.established_to(port)))

    def test_server_gauges_connections_and_queues(self):
        fleet = self.fleet(2, timeout=None, server_connections=1)
        proxy = fleet.proxy
        placed = self.placed_keys(fleet)
        self.assertServed(fleet.port, placed[0] + placed[1], proxy, "warm-up")
        stats = self.stats(proxy)
        for port in fleet.ports:
            entry = server_entry(stats, "alpha", port)
            self.assertLessEqual(entry["server_connections"], WORKERS * 1,
                                 "server %d: %r" % (port, entry))
        gauges = ("in_queue", "in_queue_bytes", "out_queue", "out_queue_bytes")
        fleet.memcached[1].stop()
        self.addCleanup(fleet.memcached[1].cont)
        clients = self.clients_spread(fleet.port, timeout=30)
        for i, c in enumerate(clients):
            c.send(b"get %s\r\n" % placed[1][i % len(placed[1])].encode())

        def queued():
            e = server_entry(proxy.stats(), "alpha", fleet.ports[1])
            return (e["in_queue"] + e["out_queue"] > 0 and
                    e["in_queue_bytes"] + e["out_queue_bytes"] > 0) and e

        entry = rp.wait_until(queued, 5, 0.1)
        self.assertTrue(entry, "%d requests wait for a stopped server, its queue gauges say "
                        "%r" % (NSPREAD, {g: server_entry(proxy.stats(), "alpha",
                                                          fleet.ports[1])[g] for g in gauges}))
        self.assertLessEqual(entry["in_queue"] + entry["out_queue"], NSPREAD, entry)
        fleet.memcached[1].cont()
        for i, c in enumerate(clients):
            k = placed[1][i % len(placed[1])]
            raw, items = c.read_values(timeout=30)
            self.assertEqual(items, [(k, 0, k.encode(), None)], raw[:200])

        def drained():
            st = proxy.stats()
            return all(server_entry(st, "alpha", p)[g] == 0 for p in fleet.ports
                       for g in gauges)

        self.assertTrue(rp.wait_until(drained, 5, 0.1),
                        "queue gauges after every request was answered: %r"
                        % {p: {g: server_entry(proxy.stats(), "alpha", p)[g] for g in gauges}
                           for p in fleet.ports})
        stats = self.stats(proxy)
        for port in fleet.ports:
            entry = server_entry(stats, "alpha", port)
            self.assertLessEqual(entry["server_connections"], WORKERS * 1,
                                 "server %d: %r" % (port, entry))


# ---------------------------------------------------------------------------------------------
# 7. signals


class SignalTests(RobustCase):

    def start(self):
        mc = self.start_memcached(1)[0]
        proxy = launch_proxy({"alpha": pool_conf([mc.port])}, workers=WORKERS,
                             own_session=False)
        return self.adopt_proxy(proxy)

    def assertServing(self, proxy, what):
        self.assertNotEqual(proc_state(proxy.pid), "T", "%s: the process is stopped" % what)
        try:
            with MemcacheClient(proxy.port, timeout=PROMPT) as c:
                line = c.version()
        except (TimeoutError, rp.ConnectionClosed, OSError) as e:
            self.fail("%s: version round trip: %s (process state %s)"
                      % (what, e, proc_state(proxy.pid)))
        self.assertTrue(line.startswith(b"VERSION "), line)

    def test_sigttin_sigttou_change_the_log_level_and_do_not_stop(self):
        proxy = self.start()
        self.assertServing(proxy, "at start")
        for n, sig in enumerate((signal.SIGTTIN, signal.SIGTTOU, signal.SIGTTIN), 1):
            os.kill(proxy.pid, sig)
            got = rp.wait_until(lambda: count_lines(proxy.log_text(), r"log level") >= n or
                                proc_state(proxy.pid) == "T", 5)
            time.sleep(0.2)
            self.assertServing(proxy, "after %s" % signal.Signals(sig).name)
            self.assertGreaterEqual(count_lines(proxy.log_text(), r"log level"), n,
                                    "no 'log level' line in the log after %s (%s)\n%s"
                                    % (signal.Signals(sig).name, got, proxy.log_tail(1500)))

    def test_sighup_reopens_the_log_file(self):
        proxy = self.start()
        self.assertServing(proxy, "at start")
        moved = proxy.log_path + ".1"
        os.rename(proxy.log_path, moved)
        os.kill(proxy.pid, signal.SIGHUP)
        self.assertTrue(rp.wait_until(lambda: os.path.exists(proxy.log_path), 5),
                        "SIGHUP did not reopen %s" % proxy.log_path)
        with open(moved, errors="replace") as f:
            old_len = len(f.read())
        os.kill(proxy.pid, signal.SIGTTIN)  # a log line is written

        def new_line():
            with open(proxy.log_path, errors="replace") as f:
                return re.search(r"(?i)log level", f.read())

        ok = rp.wait_until(new_line, 5)
        self.assertServing(proxy, "after SIGHUP and SIGTTIN")
        self.assertTrue(ok, "after SIGHUP, no new line in the reopened %s\n%s"
                        % (proxy.log_path, proxy.log_tail(1500)))
        with open(moved, errors="replace") as f:
            self.assertNotRegex(f.read()[old_len:], r"(?i)log level",
                                "the line went to the renamed file")


# ---------------------------------------------------------------------------------------------
# 8. configuration: redis, preconnect


class ConfigTests(RobustCase):

    @ringproxy_only("nutcracker serves redis pools")
    def test_preconnect_connects_before_any_request(self):
        fleet = self.fleet(2, preconnect=True)
        got = rp.wait_until(lambda: all(rp.established_to(p) >= 1 for p in fleet.ports), 5,
                            0.1)
        self.assertTrue(got, "with preconnect: true, TCP connections to the servers right "
                        "after start: %r" % [rp.established_to(p) for p in fleet.ports])
        self.assertServed(fleet.port, self.keys(NSPREAD), fleet.proxy, "afterwards")


if __name__ == "__main__":
    unittest.main(verbosity=2)

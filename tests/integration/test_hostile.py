"""Hostile clients, end to end: random bytes, truncated commands, huge declared lengths, NUL
bytes, 10,000 connections opened and dropped, slowloris clients, and a client that pipelines gets
of 1 MiB values without ever reading its replies.

Each test class runs one proxy (2 workers) over real memcached processes. While every hostile
test runs, a "canary" thread, a well-formed client on its own connection (replaced by a new one
every fraction of a second), stores and reads back values of known content (0 bytes to 100 KB)
and checks every answer exactly; the test fails if any canary answer is wrong, an error, or late
(over CANARY_LATE seconds), or if the proxy dies. After each test: the proxy is alive, its log
has no sanitizer report, its client connection count comes back to the canary's own and then to
zero, and it holds no more descriptors than before the test. Each class stops its proxy at the
end and checks its stderr once more (LeakSanitizer reports at exit).

The pipeliner test measures the proxy's resident memory against memory_bound_bytes() (the
README's formula); that assertion is skipped for sanitizer builds (sanitized_build: a binary
path containing "/san/", or a binary linked with a sanitizer runtime), where shadow memory and
quarantine make RSS meaningless, but the numbers are printed to stderr either way.

The canary (CanaryBase), the fleet-per-class mixin (HostileMixin, with its connect-and-drop
storm), the non-reading pipeliner's loop (push_unread) and the raw-socket helpers are
protocol-neutral: test_rd_hostile.py runs the same attacks against a redis pool with them.

Every socket operation is bounded in time: a proxy bug makes a test fail, never hang. Standard
library only. Tests of ringproxy-only behaviour are marked @ringproxy_only.
"""

import os
import random
import select
import socket
import struct
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import HOST, MemcacheClient, expect, ringproxy_only, run_threads  # noqa: E402

KiB = 1024
MiB = 1024 * 1024

WORKERS = 2


def sanitized_build(path):
    """True if the binary at path is a sanitizer build: CI's build/san/ directory, or a binary
    that carries the AddressSanitizer / UBSan runtime hooks (built elsewhere)."""
    if "/san/" in path:
        return True
    try:
        with open(path, "rb") as f:
            data = f.read(64 * MiB)
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle_" in data


SANITIZED = sanitized_build(os.environ.get("RINGPROXY", ""))
SCALE = 3.0 if SANITIZED else 1.0      # sanitizer builds are several times slower
CANARY_LATE = 5.0                      # a canary answer later than this is a failure
CANARY_RECONNECT = 0.4                 # seconds between the canary's new connections
CANARY_CONNS = 1                       # client connections the canary holds at a time
PROMPT = 5.0 * SCALE                   # what must happen "promptly" happens within this
SETTLE = 10.0 * SCALE                  # how long counts may take to come back
RST_LINGER = struct.pack("ii", 1, 0)   # struct linger {1, 0}: close() sends RST
POOL = "alpha"
ERROR_PREFIXES = (b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR")
# One-line replies memcached gives to the commands these tests send.
MEMCACHED_LINES = (b"END\r\n", b"NOT_FOUND\r\n", b"STORED\r\n", b"NOT_STORED\r\n",
                   b"EXISTS\r\n", b"DELETED\r\n", b"TOUCHED\r\n", b"OK\r\n", b"RESET\r\n")


# ---------------------------------------------------------------------------------------------
# the memory bound


def memory_bound_bytes(workers, buffers=1024, buffer_size=16384, max_spill_mb=256,
                       connections=0):
    """The most resident memory the proxy may use, the README's formula ("How much memory, at
    most"): 32 MiB, plus per worker its arena (buffers x buffer_size), its spill space
    (max_spill_mb MiB) and 2 MiB, plus 2 MiB per client connection. Defaults are those of the
    `ringproxy:` section."""
    return (32 * MiB + workers * (buffers * buffer_size + max_spill_mb * MiB + 2 * MiB)
            + connections * 2 * MiB)


def proc_status_kib(pid, field):
    """A `Vm...:  N kB` field of /proc/PID/status, in KiB (-1 if unreadable)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return -1


def rss_bytes(pid):
    return proc_status_kib(pid, "VmRSS") * KiB


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def fd_listing(pid):
    out = []
    try:
        for name in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
            try:
                out.append("%s -> %s" % (name, os.readlink("/proc/%d/fd/%s" % (pid, name))))
            except OSError:
                pass
    except OSError:
        pass
    return out


def note(text):
    """A line of test output (stderr), for numbers worth reporting."""
    sys.stderr.write("\n    [hostile] %s\n" % text)
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# raw sockets


def spread_key(base, i):
    """A key ending in 8 pseudo-random hex digits, so consecutive keys spread over servers."""
    return "%s%d-%08x" % (base, i, zlib.crc32(("%s%d" % (base, i)).encode()))


def connect(port, timeout=PROMPT):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((HOST, port))
    except OSError:
        s.close()
        raise
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def drop(sock, reset):
    """Closes sock, with RST (SO_LINGER 0) when reset, else FIN."""
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST_LINGER)
    except OSError:
        pass
    sock.close()


def pump(sock, data, timeout=PROMPT, keep=1 << 20):
    """Sends data while draining whatever comes back (so a proxy applying back-pressure to
    unread replies cannot block us). Returns (bytes sent, bytes received (the first `keep`),
    True if the peer closed or reset). Raises TimeoutError if the proxy stops taking bytes
    from a client that reads everything, for `timeout` seconds."""
    view = memoryview(data)
    sent = 0
    got = bytearray()
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLOUT)
    sock.setblocking(False)
    last_progress = time.monotonic()
    try:
        while sent < len(view):
            if time.monotonic() - last_progress > timeout:
                raise TimeoutError("the proxy took no bytes for %.1fs (sent %d of %d)"
                                   % (timeout, sent, len(view)))
            events = poller.poll(50)
            for _, ev in events:
                if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    try:
                        d = sock.recv(262144)
                    except BlockingIOError:
                        d = None
                    except OSError:
                        return sent, bytes(got), True
                    if d == b"":
                        return sent, bytes(got), True
                    if d:
                        last_progress = time.monotonic()
                        if len(got) < keep:
                            got += d[:keep - len(got)]
                if ev & select.POLLOUT:
                    try:
                        n = sock.send(view[sent:sent + 262144])
                    except BlockingIOError:
                        n = 0
                    except OSError:
                        return sent, bytes(got), True
                    if n:
                        sent += n
                        last_progress = time.monotonic()
        return sent, bytes(got), False
    finally:
        try:
            sock.settimeout(PROMPT)
        except OSError:
            pass


def read_for(sock, seconds, keep=1 << 20):
    """Reads for up to `seconds`. Returns (bytes, True if the peer closed or reset)."""
    got = bytearray()
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(got), False
        sock.settimeout(left)
        try:
            d = sock.recv(262144)
        except socket.timeout:
            return bytes(got), False
        except OSError:
            return bytes(got), True
        if not d:
            return bytes(got), True
        if len(got) < keep:
            got += d[:keep - len(got)]


def read_upto(sock, n, seconds):
    """Reads until n bytes have come, the peer closes, or `seconds` pass. Returns (bytes,
    True if the peer closed or reset)."""
    got = bytearray()
    deadline = time.monotonic() + seconds
    while len(got) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            d = sock.recv(max(n - len(got), 65536))
        except socket.timeout:
            break
        except OSError:
            return bytes(got), True
        if not d:
            return bytes(got), True
        got += d
    return bytes(got), False


def value_block(key, flags, data):
    if isinstance(key, str):
        key = key.encode()
    return b"VALUE %s %d %d\r\n" % (key, flags, len(data)) + data + b"\r\n"


class UnreadPush:
    """What push_unread did: hogs (every connection it opened, the caller closes them), hog
    (the last, still open unless shed), sent (request bytes the kernel took, all connections),
    shed (seconds into the run at which the proxy closed one), samples (RSS samples),
    blocked_at (seconds into the run at which the proxy first stopped taking requests)."""

    def __init__(self):
        self.hogs = []
        self.hog = None
        self.sent = 0
        self.shed = []
        self.samples = []
        self.blocked_at = None


def push_unread(new_client, requests, seconds, pid):
    """For `seconds`, sends `requests` over and over on a client from new_client() (a
    MemcacheClient or RespClient, best with a small rcvbuf) and never reads; if the proxy
    closes it (sheds it), opens another and carries on, so the pressure lasts throughout. The
    proxy's RSS (process pid) is sampled every 50 ms. Returns an UnreadPush."""
    out = UnreadPush()

    def new_hog():
        h = new_client()
        h.sock.setblocking(False)
        out.hogs.append(h)
        return h

    hog = new_hog()
    sent_on_hog = 0
    t0 = time.monotonic()
    next_sample = t0
    while time.monotonic() - t0 < seconds:
        now = time.monotonic()
        if now >= next_sample:
            out.samples.append(rss_bytes(pid))
            next_sample = now + 0.05
        off = sent_on_hog % len(requests)
        try:
            n = hog.sock.send(requests[off:] if off else requests)
        except BlockingIOError:
            n = 0
        except OSError:
            # closed (shed) by the proxy: come back, keep pushing
            out.shed.append(round(now - t0, 2))
            hog.close()
            hog = new_hog()
            sent_on_hog = 0
            continue
        out.sent += n
        sent_on_hog += n
        if n == 0:
            if out.blocked_at is None:
                out.blocked_at = now - t0
            select.select([], [hog.sock], [], 0.05)
    out.hog = hog
    return out


# ---------------------------------------------------------------------------------------------
# the canary: a well-formed client checked exactly, all the time


class CanaryBase:
    """A thread that, until stop(), runs one operation at a time (_one(conn), of a subclass) on
    its own keys with values of known content, on one connection at a time (a new one, from
    _connect(), every CANARY_RECONNECT seconds), and records every wrong, failed or late answer.
    An operation reports a wrong answer by raising (AssertionError); self.known is what the
    servers hold as far as the canary knows, forgotten after a failure."""

    SIZES = (0, 1, 5, 100, 1000, 4095, 16384, 16385, 40000, 100000)

    def __init__(self, port, tag, seed):
        self.port = port
        self.keys = [spread_key("canary:%s:" % tag, i) for i in range(32)]
        self.absent = [spread_key("canary-absent:%s:" % tag, i) for i in range(8)]
        self.rng = random.Random(seed)
        self.known = {}          # key -> what the servers hold, as last stored
        self.errors = []
        self.ops = 0
        self.connections = 0
        self.max_latency = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="canary", daemon=True)
        self.started = None
        self.stopped = None
        self.op = "-"

    def _connect(self):
        """A new client connection (with send/close and a sock) for _one."""
        raise NotImplementedError

    def _one(self, conn):
        """One operation on conn, its answers checked (raises on a wrong one)."""
        raise NotImplementedError

    def start(self):
        self.started = time.monotonic()
        self._thread.start()
        return self

    def stop(self):
        """Stops the thread (bounded wait); idempotent."""
        self._stop.set()
        self._thread.join(CANARY_LATE * 2 + 5)
        if self._thread.is_alive():
            self.errors.append("canary thread still running %.0fs after stop (hang)"
                               % (CANARY_LATE * 2 + 5))
        if self.stopped is None:
            self.stopped = time.monotonic()

    def summary(self):
        return ("canary: %d ops on %d connections, slowest %.3fs, %d errors"
                % (self.ops, self.connections, self.max_latency, len(self.errors)))

    def _error(self, text):
        if len(self.errors) < 30:
            self.errors.append("%.2fs: %s" % (time.monotonic() - self.started, text))

    def _run(self):
        conn = None
        born = 0.0
        while not self._stop.is_set():
            t0 = time.monotonic()
            self.op = "connect"
            try:
                if conn is None or t0 - born > CANARY_RECONNECT:
                    if conn is not None:
                        conn.close()
                        conn = None
                    conn = self._connect()
                    born = time.monotonic()
                    self.connections += 1
                self._one(conn)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                self._error("%s: %s: %s" % (self.op, type(e).__name__, str(e)[:300]))
                if conn is not None:
                    conn.close()
                    conn = None
                self.known.clear()   # what the server holds is uncertain now
                self._stop.wait(0.1)
            latency = time.monotonic() - t0
            self.max_latency = max(self.max_latency, latency)
            if latency > CANARY_LATE:
                self._error("%s took %.2fs (late)" % (self.op, latency))
            self.ops += 1
        if conn is not None:
            conn.close()


class Canary(CanaryBase):
    """The memcached canary: set / get / multi-get / delete / gets+cas; known is key ->
    (flags, data)."""

    def __init__(self, port, tag, seed):
        CanaryBase.__init__(self, port, tag, seed)
        # ringproxy answers a multi-get in the client's key order (README); nutcracker (harness
        # check) in its own
        self.any_order = rp.is_nutcracker()

    def _connect(self):
        return MemcacheClient(self.port, timeout=CANARY_LATE + 1)

    def _expect_values(self, conn, keys, what):
        raw, items = conn.read_values()
        want = [(k,) + self.known[k] for k in keys if k in self.known]
        got = [(k, fl, d) for k, fl, d, _ in items] if items is not None else None
        if got is not None and self.any_order:
            got, want = sorted(got), sorted(want)
        if got != want:
            raise AssertionError("%s %s: got %r, want %r" % (
                what, keys, raw[:300],
                [(k, fl, len(d), d[:20]) for k, fl, d in want]))
        return items

    def _one(self, conn):
        rng = self.rng
        r = rng.random()
        if r < 0.45 or not self.known:
            self.op = "set+get"
            key = rng.choice(self.keys)
            data = rng.randbytes(rng.choice(self.SIZES))
            flags = rng.getrandbits(32)
            # set and get pipelined in one write
            conn.send(conn.storage_request("set", key, data, flags=flags) +
                      b"get %s\r\n" % key.encode())
            line = conn.read_line()
            if line != b"STORED":
                raise AssertionError("set %s (%d bytes): %r" % (key, len(data), line))
            self.known[key] = (flags, data)
            self._expect_values(conn, [key], "get after set")
            return
        if r < 0.65:
            self.op = "get"
            key = rng.choice(sorted(self.known))
            conn.send(b"get %s\r\n" % key.encode())
            self._expect_values(conn, [key], "get")
            return
        if r < 0.85:
            self.op = "multi-get"
            keys = rng.sample(sorted(self.known), min(len(self.known), rng.randint(2, 6)))
            keys.insert(rng.randrange(len(keys) + 1), rng.choice(self.absent))
            conn.send(b"get %s\r\n" % " ".join(keys).encode())
            self._expect_values(conn, keys, "multi-get")
            return
        if r < 0.92:
            self.op = "delete"
            key = rng.choice(sorted(self.known))
            line = conn.cmd("delete %s" % key)
            if line != b"DELETED":
                raise AssertionError("delete %s: %r" % (key, line))
            del self.known[key]
            conn.send(b"get %s\r\n" % key.encode())
            self._expect_values(conn, [key], "get after delete")
            return
        self.op = "gets+cas"
        key = rng.choice(sorted(self.known))
        conn.send(b"gets %s\r\n" % key.encode())
        items = self._expect_values(conn, [key], "gets")
        cas = items[0][3]
        data = rng.randbytes(rng.choice(self.SIZES))
        flags = rng.getrandbits(32)
        line = conn.store("cas", key, data, flags=flags, cas=cas)
        if line != b"STORED":
            raise AssertionError("cas %s %d: %r" % (key, cas, line))
        self.known[key] = (flags, data)
        conn.send(b"get %s\r\n" % key.encode())
        self._expect_values(conn, [key], "get after cas")


# ---------------------------------------------------------------------------------------------
# the fleet and the common checks


class HostileFleet(rp.ProxyFleet):
    """rp.ProxyFleet that may carry a `ringproxy:` section (left out under nutcracker)."""

    def __init__(self, nservers, pool_options, ringproxy_section=None, workers=WORKERS):
        rp.ProxyFleet.__init__(self, nservers, pool_options=pool_options, workers=workers)
        self.ringproxy_section = dict(ringproxy_section or {})

    def start(self):
        try:
            self.ports = [rp.free_port() for _ in range(self.nservers)]
            self.memcached = [None] * self.nservers
            for i in range(self.nservers):
                self.start_server(i)
            pools = {}
            if self.ringproxy_section:
                pools["ringproxy"] = dict(self.ringproxy_section)
            pools[self.pool_name] = rp.default_pool(self.ports, **self.pool_options)
            # nutcracker (harness check) adds its counters up every 30 s unless told otherwise
            extra = ("-i", "100") if rp.is_nutcracker() else ()
            self.proxy = rp.start_ringproxy(pools, extra, workers=self.workers, io=self.io)
        except BaseException:
            self.stop()
            raise
        return self


class HostileMixin:
    """One fleet per class; a canary per test; the after-test checks in finish(). For another
    protocol, override make_fleet, warm_up, store, check_fresh_client, client_conns and CANARY
    (test_rd_hostile.py does)."""

    NSERVERS = 3
    POOL_OPTIONS = {}
    RINGPROXY_SECTION = {}
    CANARY = Canary          # a CanaryBase subclass, started on the fleet's port for each test
    fleet = None

    @classmethod
    def make_fleet(cls):
        """The class's fleet, not started yet (start(), stop(), proxy, port)."""
        return HostileFleet(cls.NSERVERS, cls.POOL_OPTIONS, cls.RINGPROXY_SECTION)

    @classmethod
    def setUpClass(cls):
        cls.fleet = cls.make_fleet()
        cls.fleet.start()
        try:
            cls.warm_up()
        except BaseException:
            cls.fleet.stop()
            raise

    @classmethod
    def warm_up(cls):
        """Connections spread over the workers touch every server, so that every worker's
        server connections exist before any descriptor count is taken."""
        keys = [spread_key("warm:", i) for i in range(24)]
        clients = [cls.fleet.client(timeout=PROMPT) for _ in range(16)]
        try:
            for c in clients:
                c.get_multi(keys)
        finally:
            for c in clients:
                c.close()

    @classmethod
    def tearDownClass(cls):
        if cls.fleet is None:
            return
        proxy = cls.fleet.proxy
        status = proxy.terminate() if proxy is not None else None
        cls.fleet.stop()
        if proxy is not None:
            errs = proxy.sanitizer_errors() + rp.sanitizer_lines(proxy.stderr_text())
            if errs:
                raise AssertionError("%s: sanitizer reports at exit (status %s): %s\n%s"
                                     % (cls.__name__, status, "; ".join(sorted(set(errs))[:5]),
                                        proxy.log_tail()))
            if status != 0 and not proxy.nutcracker:
                raise AssertionError("%s: the proxy did not stop cleanly on SIGTERM (status %s)"
                                     "\n%s" % (cls.__name__, status, proxy.log_tail()))

    # -- per test ---------------------------------------------------------------------------

    @property
    def proxy(self):
        return self.fleet.proxy

    @property
    def port(self):
        return self.fleet.port

    def setUp(self):
        if not self.proxy.alive():
            # an earlier test killed it: that test failed already; start afresh so that this
            # one tests something
            note("proxy found dead before %s (status %s): restarting the fleet"
                 % (self.id(), self.proxy.returncode()))
            type(self).fleet.stop()
            type(self).setUpClass()
        # an earlier test may have left connections behind (and failed for it): count from here
        rp.wait_until(lambda: self.client_conns() == 0, 3.0 * SCALE, 0.05)
        self.conn_base = self.client_conns()
        if self.conn_base:
            note("%d client connections left over before %s" % (self.conn_base, self.id()))
        self.fd_base = self.wait_fds_settle()
        self.total_base = self.stats().get("total_connections", 0)
        self.canary = self.CANARY(self.port, self._testMethodName[5:30], zlib.crc32(
            self.id().encode()))
        self.canary.start()
        self.addCleanup(self.canary.stop)
        self.t_start = time.monotonic()

    def wait_fds_settle(self):
        """The proxy's descriptor count once it has stopped changing for a moment."""
        pid = self.proxy.pid
        last = fd_count(pid)
        stable_since = time.monotonic()
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = fd_count(pid)
            if now != last:
                last = now
                stable_since = time.monotonic()
            elif time.monotonic() - stable_since > 0.3:
                break
        return last

    def stats(self):
        if self.proxy.nutcracker:
            time.sleep(0.2)
        return self.proxy.stats()

    def client_conns(self):
        return self.stats()[POOL]["client_connections"]

    def rp_stat(self, name):
        """A counter of the stats' ringproxy section."""
        return self.stats()["ringproxy"][name]

    def assertAlive(self, what):
        if not self.proxy.alive():
            self.fail("proxy died %s (exit status %s)\n%s"
                      % (what, self.proxy.returncode(), self.proxy.log_tail()))

    def assertNoSanitizer(self, what):
        errs = self.proxy.sanitizer_errors()
        if errs:
            self.fail("sanitizer reports %s:\n  %s\n%s"
                      % (what, "\n  ".join(errs[:10]), self.proxy.log_tail()))

    def assertNoErrors(self, errors, what):
        if errors:
            self.fail("%s: %d errors:\n  %s\n%s" % (what, len(errors),
                                                    "\n  ".join(errors[:15]),
                                                    self.proxy.log_tail(3000)))

    def connect_and_drop(self, halves, nthreads=20, per_thread=500):
        """nthreads x per_thread connections to the pool: each closed at once (FIN), reset, or
        (one in five) sent one of halves (half a request) and then closed or reset. Asserts
        that every one of them reached the proxy (total_connections)."""
        counts = {"fin": 0, "rst": 0, "half": 0}
        lock = threading.Lock()

        def hostile(i):
            rng = random.Random(20000 + i)
            mine = {"fin": 0, "rst": 0, "half": 0}
            for _ in range(per_thread):
                s = connect(self.port)
                r = rng.random()
                try:
                    if r < 0.2:
                        s.sendall(rng.choice(halves))
                        mine["half"] += 1
                        reset = rng.random() < 0.5
                    else:
                        reset = r < 0.6
                    mine["rst" if reset else "fin"] += 1
                finally:
                    drop(s, reset)
            with lock:
                for k, v in mine.items():
                    counts[k] += v

        t0 = time.monotonic()
        errors = run_threads(hostile, nthreads, 120 * SCALE)
        took = time.monotonic() - t0
        self.assertNoErrors(errors, "connect-and-drop clients")
        totals = []

        def counted():
            totals.append(self.stats().get("total_connections", 0) - self.total_base)
            return totals[-1] >= nthreads * per_thread

        rp.wait_until(counted, SETTLE, 0.1)
        total = totals[-1]
        note("%d connections in %.1fs (%s); total_connections +%d"
             % (nthreads * per_thread, took,
                ", ".join("%s %d" % kv for kv in sorted(counts.items())), total))
        self.assertGreaterEqual(total, nthreads * per_thread,
                                "the proxy counted fewer connections than were opened")

    def store(self, items, timeout=PROMPT):
        """Stores {key: data} through the proxy (STORED each)."""
        with self.fleet.client(timeout=timeout) as c:
            for k, v in items.items():
                self.assertEqual(c.set(k, v), b"STORED", "set %s (%d bytes)" % (k, len(v)))

    def finish(self, what):
        """The after-test checks (call at the end of every test, with the hostile clients
        gone): the canary had no error, the proxy is alive with a clean log, client
        connections back to the canary's own then to zero, descriptors back to the baseline,
        and a fresh client is served."""
        self.assertAlive("during " + what)
        self.assertNoSanitizer("during " + what)
        # while the canary still runs: back to about its own connection
        seen = []

        def back_to_canary():
            seen.append(self.client_conns())
            return seen[-1] <= self.conn_base + CANARY_CONNS

        ok = rp.wait_until(back_to_canary, SETTLE, 0.1)
        canary = self.canary
        canary.stop()
        elapsed = time.monotonic() - self.t_start
        note("%s: %.1fs; %s" % (what, elapsed, canary.summary()))
        self.assertNoErrors(canary.errors, "canary answers during " + what)
        self.assertGreaterEqual(canary.ops, 10, "the canary hardly ran during %s: %s"
                                % (what, canary.summary()))
        self.assertTrue(ok, "after %s, client connections did not come back to the canary's "
                        "%d (+%d before the test) within %.0fs: last readings %s (leaked "
                        "connections)" % (what, CANARY_CONNS, self.conn_base, SETTLE, seen[-10:]))
        last = []

        def none_left():
            last.append(self.client_conns())
            return last[-1] <= self.conn_base

        self.assertTrue(rp.wait_until(none_left, SETTLE, 0.1),
                        "after %s and the canary gone, client connections stay at %s, %d "
                        "before the test" % (what, last[-5:], self.conn_base))
        fds = []

        def fds_back():
            fds.append(fd_count(self.proxy.pid))
            return 0 <= fds[-1] <= self.fd_base

        if not rp.wait_until(fds_back, SETTLE, 0.1):
            self.fail("after %s the proxy holds %d descriptors, %d before the test (leak?):\n  %s"
                      % (what, fds[-1], self.fd_base,
                         "\n  ".join(fd_listing(self.proxy.pid)[-40:])))
        self.check_fresh_client()
        self.assertAlive("after " + what)
        self.assertNoSanitizer("after " + what)

    def check_fresh_client(self):
        """A new client is served (the last of finish()'s checks)."""
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertTrue(c.version().startswith(b"VERSION"))
            self.assertEqual(c.set("hostile:after", b"ok"), b"STORED")
            self.assertEqual(c.get("hostile:after"), b"ok")


# ---------------------------------------------------------------------------------------------
# the hostile clients


VOCABULARY = [
    b"get", b"gets", b"gat", b"gats", b"set", b"add", b"replace", b"append", b"prepend", b"cas",
    b"delete", b"incr", b"decr", b"touch", b"version", b"verbosity", b"stats", b"noreply",
    b"0", b"1", b"-1", b"10", b"4294967295", b"4294967296", b"18446744073709551615",
    b"99999999999999999999", b"007", b"1e3", b"0x10", b"k", b"key", b"hostile:x",
    b"k" * 250, b"k" * 251, b"\x00", b"\xff", b"\r", b"\n", b"\r\n", b"\r\n", b" ", b"  ",
    b"\t", b"END", b"VALUE", b"STORED",
]   # no flush_all (it would empty the canary's keys) and no quit


def random_blob(rng):
    """Random bytes, with or without line ends, or a soup of protocol tokens."""
    kind = rng.randrange(4)
    length = rng.choice((1, 2, 7, 64, 500, 1500, 16383, 16384, 70000))
    if kind == 0:                    # raw bytes, newlines where chance puts them
        return rng.randbytes(length)
    if kind == 1:                    # no newline at all: one endless line
        return rng.randbytes(length).replace(b"\n", b"\x00")
    if kind == 2:                    # short random lines
        parts = []
        size = 0
        while size < length:
            p = rng.randbytes(rng.randint(0, 120)).replace(b"\n", b"") + \
                rng.choice((b"\r\n", b"\n", b"\r\n"))
            parts.append(p)
            size += len(p)
        return b"".join(parts)
    words = []                       # token soup: looks like the protocol, mostly is not
    size = 0
    while size < length:
        w = rng.choice(VOCABULARY)
        words.append(w)
        words.append(rng.choice((b" ", b" ", b" ", b"\r\n")))
        size += len(w) + 1
    return b"".join(words)


class HostileTests(HostileMixin, unittest.TestCase):
    """Proxy with its default limits over 3 memcached; one canary per test."""

    # -- 1 ------------------------------------------------------------------------------------

    def test_random_bytes(self):
        # 240 connections (8 at a time), each sending 1-4 seeded random blobs (raw bytes, lines,
        # one endless line, protocol-token soup) while reading whatever comes back, then
        # leaving at a random point: FIN, RST, half-close (then the proxy must close it), or
        # mid-blob
        nthreads, per_thread = 8, 30
        stats = {"closed_by_proxy": 0, "half_closed": 0, "bytes": 0}
        lock = threading.Lock()

        def hostile(i):
            rng = random.Random(1000 + i)
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

    def test_truncated_commands(self):
        # every prefix of a set with its data, a multi-get, a cas and a pipelined batch, sent
        # on its own connection which is then closed (half of them with RST); 8 at a time. No
        # prefix short of the whole request may store anything.
        mget_keys = [spread_key("trunc:m:", i) for i in range(6)]
        self.store({k: b"m-" + k.encode() for k in mget_keys})
        set_req = "set trunc:s:%04d 7 0 10\r\n0123456789\r\n"
        cas_key = "trunc:c:%04d"
        cas_req = "cas trunc:c:%04d 3 0 3 %d\r\nnew\r\n"
        pipe_req = ("set trunc:p:%04d 0 0 2 noreply\r\nhi\r\nget " + " ".join(mget_keys[:3]) +
                    "\r\nincr trunc:p:%04d 1\r\ndelete trunc:p:%04d\r\n")
        mget_req = "get " + " ".join(mget_keys) + "\r\n"
        set_len = len(set_req % 0)
        # the cas targets exist (so a whole cas would succeed), one key per prefix length; the
        # request for prefix n is cas_full[n][:n]
        cas_full = {}
        with self.fleet.client(timeout=PROMPT) as c:
            n = 0
            while n == 0 or n <= len(cas_full[n - 1]):
                k = cas_key % n
                self.assertEqual(c.set(k, b"old"), b"STORED")
                cas_full[n] = (cas_req % (n, c.gets(k)[1])).encode()
                n += 1
        tasks = []
        for n in range(set_len + 1):
            tasks.append(("set", n, (set_req % n).encode()[:n]))
        for n in range(len(mget_req) + 1):
            tasks.append(("mget", n, mget_req.encode()[:n]))
        for n, full in cas_full.items():
            tasks.append(("cas", n, full[:n]))
        pipe_len = len(pipe_req % (0, 0, 0))
        for n in range(pipe_len + 1):
            tasks.append(("pipe", n, (pipe_req % (n, n, n)).encode()[:n]))
        rng = random.Random(7)
        rng.shuffle(tasks)
        plan = [(kind, n, data, rng.random() < 0.5, rng.random() * 0.003)
                for kind, n, data in tasks]
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
        # nothing stored from a partial request: no trunc:s key short of the whole set, every
        # cas target short of the whole cas still "old"
        time.sleep(0.2)
        with self.fleet.client(timeout=PROMPT) as c:
            keys = ["trunc:s:%04d" % n for n in range(set_len)]
            for start in range(0, len(keys), 50):
                raw, items = c.get_multi(keys[start:start + 50])
                self.assertEqual(items, [], "a truncated set stored something: %r" % raw[:300])
            keys = [cas_key % n for n, full in cas_full.items() if n < len(full)]
            for start in range(0, len(keys), 50):
                raw, items = c.get_multi(keys[start:start + 50])
                self.assertEqual(sorted((k, d) for k, _, d, _ in items),
                                 sorted((k, b"old") for k in keys[start:start + 50]),
                                 "a truncated cas changed a value: %r" % raw[:300])
            raw, items = c.get_multi(mget_keys)
            self.assertEqual([(k, d) for k, _, d, _ in items],
                             [(k, b"m-" + k.encode()) for k in mget_keys])
        note("truncated commands: %d prefixes" % len(plan))
        self.finish("truncated commands")

    # -- 3 ------------------------------------------------------------------------------------

    HUGE = (b"4294967295", b"2147483645", b"999999999999", b"4294967296", b"2147483648",
            b"1048577", b"18446744073709551615")

    def test_huge_declared_lengths(self):
        # (a) many connections declare a huge data block, send a few bytes of it and leave
        nthreads = 6
        rng0 = random.Random(99)
        plan = [(b"set hostile:huge 0 0 %s\r\n" % rng0.choice(self.HUGE),
                 rng0.randbytes(rng0.randint(0, 3000)), rng0.random() < 0.5)
                for _ in range(60)]

        def hostile(i):
            for head, tail, reset in plan[i::nthreads]:
                s = connect(self.port)
                try:
                    pump(s, head + tail)
                finally:
                    drop(s, reset)

        errors = run_threads(hostile, nthreads, 60 * SCALE)
        self.assertNoErrors(errors, "huge-length clients")

        # (b) one of each stays open, silent, for a while: the canary is served meanwhile. The
        # proxy either swallows (as memcached does for a length it accepts: it waits for the
        # whole block, answering nothing yet) or answers an error line (and may close).
        held = {}
        for n in (b"4294967295", b"2147483645", b"999999999999"):
            s = connect(self.port)
            self.addCleanup(s.close)
            s.sendall(b"set hostile:held 0 0 %s\r\n" % n + b"abcdefgh")
            held[n] = s
        time.sleep(2.5)
        outcome = {}
        for n, s in held.items():
            got, closed = read_for(s, 0.3)
            lines = [ln for ln in got.split(b"\r\n") if ln]
            for ln in lines:
                self.assertTrue(ln.startswith(ERROR_PREFIXES),
                                "set with length %s: unexpected reply %r" % (n, got[:200]))
            outcome[n] = ("closed" if closed else "open") + (
                " after %r" % got[:60] if got else ", silent")
        note("huge declared lengths, held open: %s" % "; ".join(
            "%s: %s" % (n.decode(), o) for n, o in outcome.items()))
        # memcached's word for a length that is no number it accepts
        if not self.proxy.nutcracker:
            self.assertIn("CLIENT_ERROR", outcome[b"999999999999"],
                          "set with length 999999999999: %s" % outcome[b"999999999999"])

        # (c) ringproxy: a swallowing connection takes 48 MiB more of its block without the
        # proxy keeping it (max_value_size is 1 MiB: it must swallow, never buffer)
        if not self.proxy.nutcracker:
            for n in (b"4294967295", b"2147483645"):
                if not outcome[n].startswith("open, silent"):
                    continue
                s = held[n]
                pid = self.proxy.pid
                before = rss_bytes(pid)
                chunk = random.Random(5).randbytes(MiB)
                fed = 0
                peak = before
                t0 = time.monotonic()
                while fed < 48 * MiB:
                    sent, got, closed = pump(s, chunk)
                    fed += sent
                    peak = max(peak, rss_bytes(pid))
                    self.assertFalse(closed or got, "swallowing a %s-byte block, after %d "
                                     "bytes: %s %r" % (n.decode(), fed,
                                                       "closed" if closed else "reply",
                                                       got[:200]))
                after = rss_bytes(pid)
                note("swallowing a %s-byte block: fed %d MiB in %.2fs, proxy RSS %.1f -> %.1f "
                     "MiB (peak %.1f)" % (n.decode(), fed // MiB, time.monotonic() - t0,
                                          before / MiB, after / MiB, peak / MiB))
                if not SANITIZED:
                    # the arena (16 MiB a worker) may get touched for the first time; 48 MiB
                    # kept would show
                    self.assertLess(peak - before, 24 * MiB,
                                    "the proxy's RSS grew by %.1f MiB while swallowing 48 MiB"
                                    % ((peak - before) / MiB))
        for s in held.values():
            drop(s, reset=False)

        # (d) a value just over max_value_size, sent in full, is refused and swallowed, and the
        # connection stays in step: the next request on it is answered correctly
        if not self.proxy.nutcracker:
            self.store({"hostile:step": b"in step"})
            with self.fleet.client(timeout=PROMPT * 2) as c:
                for size in (1048577, 3 * MiB):
                    big = b"s" * size
                    reply = rp.run_pipeline(c, b"set hostile:big 0 0 %d\r\n%s\r\nget hostile:step"
                                            b"\r\n" % (size, big),
                                            len(b"SERVER_ERROR object too large for cache\r\n"),
                                            timeout=PROMPT * 2)
                    self.assertEqual(reply, b"SERVER_ERROR object too large for cache\r\n")
                    raw, items = c.read_values()
                    self.assertEqual(raw, value_block("hostile:step", 0, b"in step") +
                                     b"END\r\n")
                # exactly max_value_size is accepted and comes back whole
                big = random.Random(11).randbytes(1048576)
                self.assertEqual(c.set("hostile:max", big), b"STORED")
                self.assertEqual(c.get("hostile:max"), big)
        self.finish("huge declared lengths")

    # -- 4 ------------------------------------------------------------------------------------

    def test_nul_bytes(self):
        # (a) data blocks may hold anything: values full of NUL (and CR LF, and "END") come back
        # exactly, single and in a multi-get over every server, and are stored as sent
        rng = random.Random(4)
        values = {
            "nul:one": b"\x00",
            "nul:many": b"\x00" * 1000,
            "nul:mixed": b"a\x00b\r\n\x00\r\nEND\r\n\x00VALUE x 0 1\r\n",
            "nul:crlf": b"\r\n" * 100,
            "nul:boundary": b"\x00" * 16384,
            "nul:boundary1": b"\x00" * 16385,
            "nul:random": rng.randbytes(100000),
            "nul:end": b"abc\x00",
            "nul:mib": b"\x00" * 1048576,
        }
        flags = {k: i * 1000003 for i, k in enumerate(values)}
        with self.fleet.client(timeout=PROMPT * 2) as c:
            for k, v in values.items():
                self.assertEqual(c.set(k, v, flags=flags[k]), b"STORED", k)
            for k, v in values.items():
                self.assertEqual(c.get_item(k)[:2], (flags[k], v), "get %s" % k)
            keys = list(values)
            raw, items = c.get_multi(keys)
            self.assertEqual([(k, fl, d) for k, fl, d, _ in items],
                             [(k, flags[k], values[k]) for k in keys], "multi-get")
        direct = self.fleet.lookup_direct(list(values), verb="get")
        for k, v in values.items():
            self.assertEqual([(fl, d) for _, fl, d, _ in direct.get(k, [])], [(flags[k], v)],
                             "%s as stored on the servers" % k)

        # (b) NUL in command words, keys, numbers, whole lines: each line, on its own
        # connection, followed by a get of a known key. The proxy may answer errors, memcached
        # style misses, or close the connection; it must never answer a value that is not the
        # known key's, nor hang, nor store under a key cut at the NUL
        self.store({"nul:known": b"known value", "nul:t": b"untouched"})
        known_block = value_block("nul:known", 0, b"known value") + b"END\r\n"
        lines = [
            b"g\x00et nul:known\r\n", b"get\x00 nul:known\r\n", b"\x00get nul:known\r\n",
            b"get nul:known\x00\r\n", b"get nul:known\x00junk\r\n", b"get \x00\r\n",
            b"get nul:x \x00 nul:y\r\n", b"gets nul:kn\x00own\r\n",
            b"set nul:t\x00rest 0 0 3\r\nabc\r\n", b"set nul:t\x00 0 0 3\r\nabc\r\n",
            b"set nul:num 0 0 1\x002\r\nabcdefghijkl\r\n", b"set nul:num 0\x00 0 3\r\nabc\r\n",
            b"set nul:num 0 0 \x00\r\nabc\r\n", b"set nul:num 0 0 3 \x00\r\nabc\r\n",
            b"cas nul:t 0 0 3 1\x002\r\nabc\r\n", b"incr nul:t 1\x00\r\n",
            b"incr nul:t\x00 1\r\n", b"delete nul:t\x00\r\n", b"touch nul:t 1\x00\r\n",
            b"\x00\r\n", b"\x00\x00\x00\x00\r\n", b"\x00 \x00 \x00\r\n", b"version\x00\r\n",
            b"verbosity \x00\r\n", b"stats\x00\r\n", b"\x00\n", b"get nul:known\r\x00\n",
        ]
        outcomes = {}

        def check_line(i):
            line = lines[i]
            with MemcacheClient(self.port, timeout=PROMPT) as c:
                c.send(line + b"get nul:known\r\n")
                errs = 0
                while True:
                    try:
                        got = c.recv_until(b"\r\n")
                    except rp.ConnectionClosed:
                        outcomes[i] = "closed after %d error lines" % errs
                        return
                    except TimeoutError:
                        if not self.proxy.nutcracker:
                            raise
                        outcomes[i] = "silent (nutcracker)"
                        return
                    if got.startswith(b"VALUE "):
                        c.buf[:0] = got
                        rest = c.read_exact(len(known_block))
                        expect(rest == known_block,
                               "%r: a value that is not the known key's: %r" % (line, rest[:200]))
                        outcomes[i] = "%d error lines, then in step" % errs
                        return
                    # memcached reads a line up to its first NUL: what is before it may be a
                    # whole command of its own (test_differential checks the exact bytes)
                    expect(got.startswith(ERROR_PREFIXES + (b"STAT ", b"VERSION ")) or
                           got in MEMCACHED_LINES or got[:-2].isdigit(),
                           "%r: unexpected reply line %r" % (line, got))
                    if not got.startswith(b"STAT "):
                        errs += 1
                    expect(errs <= 4, "%r: more than 4 reply lines" % line)

        errors = run_threads(lambda t: [check_line(i) for i in range(t, len(lines), 4)], 4,
                             60 * SCALE)
        self.assertNoErrors(errors, "lines with NUL bytes")
        note("NUL lines: %s" % "; ".join("%r: %s" % (lines[i][:24], outcomes.get(i))
                                         for i in range(len(lines))))
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.get("nul:known"), b"known value")

        # (c) an endless line of NULs (200 KB, no newline): ringproxy says the line is too long
        # and closes (max_request_line 64 KiB)
        s = connect(self.port)
        try:
            sent, got, closed = pump(s, b"\x00" * 200000)
            if not closed:
                more, closed = read_for(s, PROMPT)
                got += more
        finally:
            drop(s, reset=False)
        note("200 KB of NUL without a newline: sent %d, reply %r, %s"
             % (sent, got[:80], "closed" if closed else "left open"))
        if not self.proxy.nutcracker:
            self.assertTrue(closed, "an endless line of NUL bytes was not closed within %.0fs"
                            % PROMPT)
        self.finish("NUL bytes")

    # -- 5 ------------------------------------------------------------------------------------

    def test_ten_thousand_connections(self):
        # 20 threads x 500 connections: connect, then close at once (FIN), reset, or send half
        # a command and then close or reset
        self.connect_and_drop([b"get conn", b"get conn:a conn:b", b"set conn 0 0 10\r\n01234",
                               b"set conn 0 0 10", b"gets", b"set conn 0 0 4294967295\r\nxx",
                               b"incr conn", b"\x00\x01\x02"])
        # it still accepts: a burst of new clients, each served
        clients = [self.fleet.client(timeout=PROMPT) for _ in range(20)]
        try:
            for i, c in enumerate(clients):
                self.assertEqual(c.set("conn:after:%d" % i, b"v%d" % i), b"STORED")
            for i, c in enumerate(clients):
                self.assertEqual(c.get("conn:after:%d" % i), b"v%d" % i)
        finally:
            for c in clients:
                c.close()
        self.finish("10,000 connections")

    # -- 6 ------------------------------------------------------------------------------------

    def test_slowloris(self):
        # 4 clients each send `get sN\r\n` one byte a second (7 s), a fifth uploads a set a byte
        # every 0.3 s; meanwhile the canary works. No answer comes early, each comes right at
        # the end, the slow set is invisible until whole
        values = {"s%d" % i: random.Random(i).randbytes(3000 + i) for i in range(4)}
        self.store(values)
        results = {}

        def slow_get(i):
            key = "s%d" % i
            req = b"get %s\r\n" % key.encode()
            s = connect(self.port)
            try:
                for j, byte in enumerate(req):
                    s.sendall(bytes([byte]))
                    if j < len(req) - 1:
                        early, closed = read_for(s, 1.0)
                        expect(not early and not closed,
                               "slow get %s: %s after %d bytes: %r"
                               % (key, "closed" if closed else "answer", j + 1, early[:100]))
                want = value_block(key, 0, values[key]) + b"END\r\n"
                got, _ = read_upto(s, len(want), PROMPT)
                expect(got == want, "slow get %s: got %r" % (key, got[:200]))
                results[key] = "ok"
            finally:
                s.close()

        def slow_set(_):
            req = b"set s9 5 0 5\r\nhello\r\n"
            s = connect(self.port)
            try:
                for j, byte in enumerate(req):
                    s.sendall(bytes([byte]))
                    time.sleep(0.3)
                    if j == len(req) - 3:
                        # all but the final CR LF: nobody can see it yet
                        with self.fleet.client(timeout=PROMPT) as other:
                            expect(other.get("s9") is None, "a half-sent set is visible")
                reply, _ = read_upto(s, len(b"STORED\r\n"), PROMPT)
                expect(reply == b"STORED\r\n", "slow set: %r" % reply)
                results["s9"] = "ok"
            finally:
                s.close()

        def work(i):
            (slow_set if i == 4 else slow_get)(i)

        with self.fleet.client(timeout=PROMPT) as c:
            c.delete("s9")
        errors = run_threads(work, 5, 30 * SCALE)
        self.assertNoErrors(errors, "slowloris clients")
        self.assertEqual(sorted(results), ["s0", "s1", "s2", "s3", "s9"])
        with self.fleet.client(timeout=PROMPT) as c:
            self.assertEqual(c.get_item("s9")[:2], (5, b"hello"))
        self.finish("slowloris")


@ringproxy_only("client_idle_timeout is ringproxy's")
class IdleTimeoutTests(HostileMixin, unittest.TestCase):
    """client_idle_timeout 500 ms. (A client that sends a byte more often than that is never
    idle, by design: it is not asserted to be caught.)"""

    POOL_OPTIONS = {"client_idle_timeout": 500}

    def test_slowloris_half_line_closed_by_idle_timeout(self):
        self.store({"idle:k": b"idle value"})
        before = self.rp_stat("clients_idle_closed")
        half = connect(self.port)        # half a line, then nothing
        half.sendall(b"get idle:")
        silent = connect(self.port)      # nothing at all
        served = connect(self.port)      # one request answered, then nothing
        served.sendall(b"get idle:k\r\n")
        half_set = connect(self.port)    # a set's line and half its data, then nothing
        half_set.sendall(b"set idle:h 0 0 100\r\n0123456789")
        # a client trickling a byte every 0.2 s is not idle and gets its answer
        trickle_result = []

        def trickle(_):
            s = connect(self.port)
            try:
                for byte in b"get idle:k\r\n":
                    s.sendall(bytes([byte]))
                    time.sleep(0.2)
                want = value_block("idle:k", 0, b"idle value") + b"END\r\n"
                got, closed = read_upto(s, len(want), PROMPT)
                expect(got == want,
                       "trickling client (a byte every 0.2 s): %r%s"
                       % (got[:200], " (closed)" if closed else ""))
                trickle_result.append("ok")
            finally:
                s.close()

        trickle_errors = []
        trickler = threading.Thread(target=lambda: trickle_errors.extend(
            run_threads(trickle, 1, 30 * SCALE)), daemon=True)
        trickler.start()
        t0 = time.monotonic()
        closed_after = {}
        pending = {"half line": half, "silent": silent, "answered then silent": served,
                   "half a set": half_set}
        got_served = b""
        while pending and time.monotonic() - t0 < PROMPT:
            for name, s in list(pending.items()):
                got, closed = read_for(s, 0.05)
                if name == "answered then silent":
                    got_served += got
                elif got:
                    self.fail("%s client: unexpected reply %r" % (name, got[:200]))
                if closed:
                    closed_after[name] = time.monotonic() - t0
                    del pending[name]
        for s in (half, silent, served, half_set):
            s.close()
        trickler.join(40 * SCALE)
        note("client_idle_timeout 500 ms: closed after %s; still open after %.0fs: %s"
             % (", ".join("%s %.2fs" % kv for kv in sorted(closed_after.items())), PROMPT,
                sorted(pending)))
        self.assertEqual(got_served, value_block("idle:k", 0, b"idle value") + b"END\r\n")
        self.assertEqual(sorted(pending), [], "idle clients not closed within %.0fs "
                         "(client_idle_timeout 500 ms)" % PROMPT)
        self.assertFalse(trickler.is_alive(), "the trickling client's thread hangs")
        self.assertNoErrors(trickle_errors, "trickling client")
        self.assertEqual(trickle_result, ["ok"])
        self.assertGreaterEqual(self.rp_stat("clients_idle_closed") - before, 4)
        self.finish("idle timeout")


@ringproxy_only("client_reply_limit, clients_paused, the ringproxy: section and its memory bound")
class PipelinerTests(HostileMixin, unittest.TestCase):
    """client_reply_limit 8 MiB and max_spill_mb 32, so that the memory bound is tight."""

    REPLY_LIMIT = 8 * MiB
    BUFFERS, BUFFER_SIZE, MAX_SPILL_MB = 1024, 16384, 32
    POOL_OPTIONS = {"client_reply_limit": REPLY_LIMIT}
    RINGPROXY_SECTION = {"buffers": BUFFERS, "buffer_size": BUFFER_SIZE,
                         "max_spill_mb": MAX_SPILL_MB}
    PIPELINE_SECONDS = 5.0

    def test_non_reading_pipeliner(self):
        # 4 values of 1 MiB; a client with a 4 KiB receive buffer pipelines gets of them for
        # several seconds and never reads. Should the proxy shed it (the README's last resort
        # when spill space runs out), it comes back on a new connection and carries on, so the
        # pressure lasts throughout. The proxy's RSS is sampled all along and read again at the
        # end with a pipeliner connected; it and the peak (VmHWM) must stay under the bound.
        big = {"big:%d" % i: random.Random(100 + i).randbytes(MiB) for i in range(4)}
        self.store(big)
        order = sorted(big)
        st0 = self.stats()["ringproxy"]
        pid = self.proxy.pid
        requests = b"".join(b"get %s\r\n" % k.encode() for k in order) * 100
        req_len = len(b"get big:0\r\n")
        push = push_unread(lambda: MemcacheClient(self.port, timeout=PROMPT, rcvbuf=4096),
                           requests, self.PIPELINE_SECONDS, pid)
        hogs, hog, sent, shed = push.hogs, push.hog, push.sent, push.shed
        samples, blocked_at = push.samples, push.blocked_at
        # measured now, the last pipeliner still connected and reading nothing
        self.assertAlive("with a client pipelining without reading")
        rss = rss_bytes(pid)
        hwm = proc_status_kib(pid, "VmHWM") * KiB
        st = self.stats()
        conns = st["ringproxy"]["curr_connections"]
        bound = memory_bound_bytes(WORKERS, self.BUFFERS, self.BUFFER_SIZE, self.MAX_SPILL_MB,
                                   conns)
        delta = {k: st["ringproxy"][k] - st0[k]
                 for k in ("clients_paused", "clients_shed", "bytes_copied", "buffers_evacuated",
                           "requests")}
        timedout = sum(v.get("server_timedout", 0) for v in st[POOL].values()
                       if isinstance(v, dict))
        note("pipeliner: %d gets of 1 MiB values sent over %.0fs without reading, on %d "
             "connections (the proxy shed one at %s s); the proxy stopped taking them after "
             "%.2fs; proxy RSS %.1f MiB now (pipeliner connected), %.1f MiB largest sample, "
             "%.1f MiB peak (VmHWM); bound %.1f MiB (workers %d, buffers %d x %d, max_spill_mb "
             "%d, %d connections)%s; stats: %s, server_timedout %d"
             % (sent // req_len, self.PIPELINE_SECONDS, len(hogs), shed or "-",
                -1 if blocked_at is None else blocked_at, rss / MiB, max(samples) / MiB,
                hwm / MiB, bound / MiB, WORKERS, self.BUFFERS, self.BUFFER_SIZE,
                self.MAX_SPILL_MB, conns, " (sanitizer build: not asserted)" if SANITIZED else "",
                ", ".join("%s +%d" % kv for kv in sorted(delta.items())), timedout))
        # (subtests: a failure here still lets the canary and recovery checks run)
        with self.subTest("pipelined"):
            self.assertGreaterEqual(sent // req_len, 1000, "the pipeliner got only %d gets in"
                                    % (sent // req_len))
        with self.subTest("clients_paused"):
            self.assertGreater(delta["clients_paused"], 0,
                               "a client with thousands of gets of 1 MiB unread was never "
                               "paused (client_reply_limit %d): %r"
                               % (self.REPLY_LIMIT, st["ringproxy"]))
        if not SANITIZED:
            with self.subTest("memory bound"):
                self.assertLessEqual(rss, bound, "proxy RSS %.1f MiB over the bound %.1f MiB"
                                     % (rss / MiB, bound / MiB))
                self.assertLessEqual(hwm, bound, "proxy peak RSS %.1f MiB over the bound "
                                     "%.1f MiB" % (hwm / MiB, bound / MiB))
        with self.subTest("servers not blamed"):
            # the servers are healthy: a client that does not read is no server's failure
            self.assertEqual(timedout, 0, "a client that does not read made %d server "
                             "timeouts (server_timedout)" % timedout)
        # what the last pipeliner is sent, as far as it goes, is right: replies in order
        with self.subTest("pipelined replies"):
            hog.sock.settimeout(PROMPT)
            for i in range(3):
                try:
                    raw, items = hog.read_values(timeout=PROMPT * 2)
                except rp.ConnectionClosed:
                    break     # shed meanwhile: nothing more to check on it
                k = order[i % 4]
                self.assertEqual(raw[:200], (value_block(k, 0, big[k]) + b"END\r\n")[:200],
                                 "pipelined reply %d (%s) is not the value" % (i, k))
                self.assertEqual(raw, value_block(k, 0, big[k]) + b"END\r\n",
                                 "pipelined reply %d (%s) is not the value" % (i, k))
        for h in hogs:
            h.close(reset=True)
        self.assertTrue(rp.wait_until(
            lambda: self.client_conns() <= self.conn_base + CANARY_CONNS, SETTLE),
            "the pipeliners' connections were not closed")
        time.sleep(1.0)
        note("pipeliners gone: proxy RSS %.1f MiB" % (rss_bytes(pid) / MiB))
        self.finish("non-reading pipeliner")


class MemoryBoundTests(unittest.TestCase):
    """memory_bound_bytes itself (no process)."""

    def test_formula(self):
        self.assertEqual(memory_bound_bytes(1, connections=0),
                         32 * MiB + 16 * MiB + 256 * MiB + 2 * MiB)
        self.assertEqual(memory_bound_bytes(2, 1024, 16384, 32, 10),
                         32 * MiB + 2 * (16 * MiB + 32 * MiB + 2 * MiB) + 10 * 2 * MiB)


if __name__ == "__main__":
    unittest.main()

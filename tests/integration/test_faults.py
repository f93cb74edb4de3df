"""Fault injection under steady load: 16 clients (each its own connection, spread over both
workers) loop set-then-get over their own keys, spread over 4 memcached servers, while one server
is killed (kill -9) and another frozen (SIGSTOP) for longer than the pool timeout, then both come
back. Every request is recorded (when, the key's original owner, outcome) and judged:

  - keys of the two healthy servers are always served, right, promptly;
  - keys of the failed servers are served (rehashed once their server is ejected) or fail fast
    with a SERVER_ERROR line: no request takes longer than PROMPT, none times out;
  - no client connection is ever closed by the proxy;
  - a get never returns a value this client did not set for that key (after the servers come
    back an older value of the client's may legitimately reappear: the frozen server kept its
    data, and requests it had buffered are executed when it thaws);
  - once the servers are back in the ring (probe: connect + `version`), every key works again
    and keeps working, with exactly the value just set;
  - afterwards: stats (ejections counted, nobody still ejected), the memcached-side state (each
    key's latest value on its own server, stray copies only of failed servers' keys and only of
    values the client set), the proxy alive, exit 0 on SIGTERM, no sanitizer report.

Real memcached on loopback ports chosen at run time; every socket operation has a timeout;
everything is cleaned up. Uses --workers: @ringproxy_only."""

import os
import random
import re
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import MemcacheClient, ringproxy_only  # noqa: E402

NSERVERS = 4
WORKERS = 2
NCLIENTS = 16
KEYS_PER_SERVER = 3          # per client: every client hits every server
CANDIDATES = 120             # keys tried per client to find KEYS_PER_SERVER on each server
POOL_OPTIONS = {"auto_eject_hosts": True, "server_failure_limit": 2,
                "server_retry_timeout": 1000, "timeout": 400}
KILLED, FROZEN = 0, 1        # server A (kill -9, then restarted) and server B (SIGSTOP/SIGCONT)
WARMUP = 2.0                 # seconds of each phase
FAULT = 3.0
FINAL = 2.0
RECOVERY_LIMIT = 10.0        # seconds after the restore within which every key must work again
PROMPT = 2.0                 # every request must complete within this (no hang)
SOCK_TIMEOUT = 5.0           # client socket timeout; expiry counts as a failure
EJECT_SLACK = 0.5            # after both ejections are visible, requests this much later
                             # must all be served
PHASES = ("warmup", "fault", "restore", "final")
SERVER_ERROR_LINE = re.compile(rb"^SERVER_ERROR( .*)?$")
LOG_INTEREST = re.compile(r"eject|probe|ring|timed out|connect failed|connection closed|"
                          r"invalid reply|error|ERROR", re.I)


def spread_key(base, i):
    """A key ending in 8 pseudo-random hex digits, so consecutive keys spread over servers
    (as test_memcached.spread_key)."""
    return "%s%d-%08x" % (base, i, zlib.crc32(("%s%d" % (base, i)).encode()))


def make_value(key, tid, seq):
    """The value client tid sets for key on its seq-th set: names both, padded to a length that
    varies with seq."""
    head = b"%s=t%02d.s%d;" % (key.encode(), tid, seq)
    return head + b"x" * (40 + seq % 61)


class Record:
    __slots__ = ("tid", "key", "owner", "op", "ph0", "ph1", "t0", "dt", "outcome", "detail")

    def __init__(self, tid, key, owner, op, ph0, ph1, t0, dt, outcome, detail):
        self.tid, self.key, self.owner, self.op = tid, key, owner, op
        self.ph0, self.ph1, self.t0, self.dt = ph0, ph1, t0, dt
        self.outcome, self.detail = outcome, detail

    def __repr__(self):
        return ("client %d %s %s (server %d) started in %s at +%.3fs, ended in %s after %.3fs: "
                "%s %s" % (self.tid, self.op, self.key, self.owner, self.ph0, self.t0, self.ph1,
                           self.dt, self.outcome, self.detail))


class Loader(threading.Thread):
    """One client: its own connection, its own keys, set then get in a loop."""

    def __init__(self, tid, port, keys, owners, initial, clock, stop):
        threading.Thread.__init__(self, name="loader-%d" % tid, daemon=True)
        self.tid = tid
        self.port = port
        self.keys = keys
        self.owners = owners
        self.clock = clock          # shared: {"phase": str, "t0": monotonic origin}
        self.stop_event = stop
        self.history = {k: {initial[k]} for k in keys}   # every value sent for k
        self.last_stored = dict(initial)                  # last STORED value of k
        self.records = []
        self.reconnects = 0
        self.crash = None
        self.clean_pass_start = None   # start of the latest pass over all keys without a hitch
        self.conn = None

    # -- connection ------------------------------------------------------------------------

    def connect(self):
        while not self.stop_event.is_set():
            try:
                self.conn = MemcacheClient(self.port, timeout=SOCK_TIMEOUT)
                return True
            except OSError as e:
                self.note("-", -1, "connect", "connect-failed", repr(e), time.monotonic(),
                          self.clock["phase"])
                time.sleep(0.05)
        return False

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.reconnects += 1

    def note(self, key, owner, op, outcome, detail, t0, ph0):
        t1 = time.monotonic()
        self.records.append(Record(self.tid, key, owner, op, ph0, self.clock["phase"],
                                   t0 - self.clock["t0"], t1 - t0, outcome, detail))
        return outcome

    # -- requests --------------------------------------------------------------------------

    def do_set(self, key, value):
        ph0, t0 = self.clock["phase"], time.monotonic()
        detail = ""
        try:
            self.conn.send(MemcacheClient.storage_request("set", key, value))
            line = self.conn.read_line()
            if line == b"STORED":
                outcome = "ok"
                self.last_stored[key] = value
            elif SERVER_ERROR_LINE.match(line):
                outcome, detail = "error", line.decode("utf-8", "replace")
            else:
                outcome, detail = "bad", repr(line[:200])
        except TimeoutError as e:
            outcome, detail = "timeout", str(e)[:200]
        except rp.ConnectionClosed as e:
            outcome, detail = "closed", str(e)[:200]
        except OSError as e:
            outcome, detail = "closed", repr(e)
        return self.note(key, self.owners[key], "set", outcome, detail, t0, ph0)

    def do_get(self, key, value):
        ph0, t0 = self.clock["phase"], time.monotonic()
        detail = ""
        try:
            self.conn.send(b"get %s\r\n" % key.encode())
            raw, items = self.conn.read_values()
            if items is None:
                line = raw.rstrip(b"\r\n")
                if SERVER_ERROR_LINE.match(line):
                    outcome, detail = "error", line.decode("utf-8", "replace")
                else:
                    outcome, detail = "bad", repr(raw[:200])
            elif not items:
                outcome = "miss"
            elif len(items) != 1 or items[0][0] != key or items[0][1] != 0:
                outcome, detail = "wrong", repr(raw[:300])
            elif items[0][2] == value:
                outcome = "ok"
            elif items[0][2] in self.history[key]:
                outcome, detail = "stale", repr(items[0][2][:60])
            else:
                outcome, detail = "wrong", "got %r, just set %r" % (items[0][2][:120],
                                                                   value[:60])
        except TimeoutError as e:
            outcome, detail = "timeout", str(e)[:200]
        except rp.ConnectionClosed as e:
            outcome, detail = "closed", str(e)[:200]
        except AssertionError as e:   # malformed retrieval reply
            outcome, detail = "bad", str(e)[:300]
        except OSError as e:
            outcome, detail = "closed", repr(e)
        return self.note(key, self.owners[key], "get", outcome, detail, t0, ph0)

    def run(self):
        try:
            self.loop()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.crash = "%s: %s" % (type(e).__name__, e)

    def loop(self):
        if not self.connect():
            return
        seq = 0
        while not self.stop_event.is_set():
            pass_start = time.monotonic()
            clean = True
            for key in self.keys:
                if self.stop_event.is_set():
                    return
                seq += 1
                value = make_value(key, self.tid, seq)
                self.history[key].add(value)
                for op in (self.do_set, self.do_get):
                    t = time.monotonic()
                    outcome = op(key, value)
                    if outcome != "ok" or time.monotonic() - t > PROMPT:
                        clean = False
                    if outcome in ("timeout", "closed", "bad"):
                        # the stream may be out of step (a late reply): start afresh
                        self.drop()
                        if not self.connect():
                            return
                time.sleep(0.001)
            if clean:
                self.clean_pass_start = pass_start


def server_entry(stats, pool, port):
    return stats[pool]["%s:%d" % (rp.HOST, port)]


@ringproxy_only("uses --workers")
class FaultInjectionTests(unittest.TestCase):

    def setUp(self):
        self.prefix = "faults.%d" % random.randrange(10 ** 9)

    def log_excerpt(self, proxy, limit=60):
        """The proxy log lines about ejections, probes, timeouts and errors (the last `limit`),
        with the tail of its stderr."""
        lines = [ln for ln in proxy.log_text().splitlines() if LOG_INTEREST.search(ln)]
        return ("--- proxy log, %d relevant lines (last %d):\n%s\n--- stderr tail:\n%s"
                % (len(lines), min(limit, len(lines)), "\n".join(lines[-limit:]),
                   rp._tail(proxy.stderr_path, 3000)))

    # -- setup -------------------------------------------------------------------------------

    def place_keys(self, fleet):
        """For each client, KEYS_PER_SERVER keys on every server (original owners from
        fleet.owners(), with a first value stored). Returns (keys per client, owners, initial
        value of each key, spare keys per server)."""
        candidates = {tid: [spread_key("%s:t%02d:" % (self.prefix, tid), i)
                            for i in range(CANDIDATES)] for tid in range(NCLIENTS)}
        initial = {k: make_value(k, tid, 0) for tid, ks in candidates.items() for k in ks}
        rp.mc_set_many_bytes(fleet.port, [(k.encode(), v) for k, v in initial.items()])
        owners = fleet.owners(list(initial))
        self.assertEqual(len(owners), len(initial), "some keys stored through the proxy are on "
                         "no server")
        per_client, spare = {}, {i: [] for i in range(NSERVERS)}
        for tid, ks in candidates.items():
            chosen = {i: [] for i in range(NSERVERS)}
            for k in ks:
                if len(chosen[owners[k]]) < KEYS_PER_SERVER:
                    chosen[owners[k]].append(k)
                else:
                    spare[owners[k]].append(k)
            short = {i: len(v) for i, v in chosen.items() if len(v) < KEYS_PER_SERVER}
            self.assertEqual(short, {}, "client %d: %d candidate keys do not give %d keys on "
                             "every server" % (tid, CANDIDATES, KEYS_PER_SERVER))
            mine = [k for i in range(NSERVERS) for k in chosen[i]]
            random.Random(tid).shuffle(mine)
            per_client[tid] = mine
        return per_client, owners, initial, spare

    def routed_home(self, fleet, server, key, tag):
        """Sets key through NCLIENTS fresh connections (both workers) and checks that each set
        landed on `server` directly."""
        for i in range(NCLIENTS):
            value = b"home-%s-%d" % (tag.encode(), i)
            try:
                with fleet.client(timeout=SOCK_TIMEOUT) as c:
                    if c.set(key, value) != b"STORED":
                        return False
                with fleet.direct(server, timeout=SOCK_TIMEOUT) as d:
                    if d.get(key) != value:
                        return False
            except (OSError, rp.ConnectionClosed, AssertionError):
                return False
        return True

    # -- the test ----------------------------------------------------------------------------

    def test_kill_and_freeze_under_load(self):
        fleet = rp.ProxyFleet(nservers=NSERVERS, pool_options=POOL_OPTIONS, workers=WORKERS)
        fleet.start()
        self.addCleanup(fleet.stop)
        proxy = fleet.proxy
        pool = fleet.pool_name
        per_client, owners, initial, spare = self.place_keys(fleet)
        all_keys = [k for tid in range(NCLIENTS) for k in per_client[tid]]
        healthy = [i for i in range(NSERVERS) if i not in (KILLED, FROZEN)]

        clock = {"phase": "warmup", "t0": time.monotonic()}
        stop = threading.Event()
        loaders = [Loader(tid, fleet.port, per_client[tid], {k: owners[k] for k in
                                                             per_client[tid]},
                          {k: initial[k] for k in per_client[tid]}, clock, stop)
                   for tid in range(NCLIENTS)]

        def stop_loaders():
            stop.set()
            for ld in loaders:
                ld.join(SOCK_TIMEOUT * 3)
                if ld.conn is not None and not ld.is_alive():
                    ld.conn.close()

        self.addCleanup(stop_loaders)
        self.addCleanup(fleet.memcached[FROZEN].cont)   # never leave it frozen on a failure
        marks = {}   # event -> seconds since clock t0

        def mark(name):
            marks[name] = time.monotonic() - clock["t0"]

        def set_phase(name):
            mark(name)
            clock["phase"] = name

        # (1) warm-up
        for ld in loaders:
            ld.start()
        time.sleep(WARMUP)
        # both workers carry the load: each opened its connection to every server
        # (server_connections 1)
        spread = rp.wait_until(lambda: all(rp.established_to(p) >= WORKERS
                                           for p in fleet.ports), 5, 0.1)
        conns = [rp.established_to(p) for p in fleet.ports]
        self.assertTrue(spread, "the %d clients do not reach both workers: proxy connections "
                        "per server %r (want %d each)" % (NCLIENTS, conns, WORKERS))
        # owners as the proxy placed them before any fault, as computed at setup
        self.assertEqual(fleet.owners(all_keys), {k: owners[k] for k in all_keys},
                         "keys moved during the warm-up")

        # (2) faults: kill -9 one server, freeze another, longer than the pool timeout
        set_phase("fault")
        fleet.memcached[KILLED].kill()
        fleet.memcached[FROZEN].stop()
        mark("faults injected")
        fault_end = time.monotonic() + FAULT
        ejected_seen = None
        while time.monotonic() < fault_end:
            if ejected_seen is None:
                try:
                    st = proxy.stats(timeout=2)
                    if all(server_entry(st, pool, fleet.ports[i])["server_ejected_at"] > 0
                           for i in (KILLED, FROZEN)):
                        mark("both ejected")
                        ejected_seen = marks["both ejected"]
                except (OSError, ValueError, KeyError):
                    pass
            time.sleep(0.1)
        stats_fault = proxy.stats()

        # (3) restore: restart the killed server (empty), thaw the frozen one
        set_phase("restore")
        fleet.start_server(KILLED)
        fleet.memcached[FROZEN].cont()
        mark("servers back")
        t_restore = time.monotonic()

        # (4) recovery: both back in the ring, routed to from every connection, then every
        # client makes a pass over all its keys without a hitch
        def back_in_ring():
            try:
                st = proxy.stats(timeout=2)
            except (OSError, ValueError):
                return False
            return all(server_entry(st, pool, fleet.ports[i])["server_ejected_at"] == 0
                       for i in (KILLED, FROZEN))

        recovered = rp.wait_until(back_in_ring, RECOVERY_LIMIT, 0.1)
        if recovered:
            mark("stats: none ejected")
            remaining = lambda: max(0.1, RECOVERY_LIMIT - (time.monotonic() - t_restore))
            recovered = all(rp.wait_until(
                lambda s=s: self.routed_home(fleet, s, spare[s][0], "s%d" % s), remaining(), 0.1)
                for s in (KILLED, FROZEN))
        if recovered:
            mark("routed home")
            t_home = time.monotonic()
            recovered = rp.wait_until(
                lambda: all(ld.clean_pass_start is not None and ld.clean_pass_start > t_home
                            for ld in loaders),
                max(0.1, RECOVERY_LIMIT - (time.monotonic() - t_restore)) + 2 * PROMPT, 0.05)
        if recovered:
            mark("every key works")
            set_phase("final")
            time.sleep(FINAL)
        mark("end")
        stop.set()
        for ld in loaders:
            ld.join(SOCK_TIMEOUT * 3)
        stuck = [ld.tid for ld in loaders if ld.is_alive()]
        crashed = ["client %d: %s" % (ld.tid, ld.crash) for ld in loaders if ld.crash]

        # -- judge every request -------------------------------------------------------------
        records = [r for ld in loaders for r in ld.records]
        group_of = {KILLED: "killed", FROZEN: "frozen"}
        summary = {ph: {"requests": 0, "killed": 0, "frozen": 0, "healthy": 0, "stale/miss": 0,
                        "max": 0.0} for ph in PHASES}
        violations = {}

        def violate(kind, r):
            violations.setdefault(kind, []).append(r)

        for r in records:
            group = group_of.get(r.owner, "healthy")
            # a request that began in the warm-up but ended after the faults belongs to them
            phase = "fault" if r.ph0 == "warmup" and r.ph1 != "warmup" else r.ph0
            s = summary[phase]
            s["requests"] += 1
            s["max"] = max(s["max"], r.dt)
            failed = r.outcome not in ("ok", "stale", "miss") or r.dt > PROMPT
            if failed:
                s[group] += 1
            elif r.outcome != "ok":
                s["stale/miss"] += 1
            strict = phase in ("warmup", "final")   # every server up (final: back in the ring)
            if r.outcome in ("wrong", "bad"):
                violate("wrong value or garbage reply", r)
            elif r.outcome == "timeout":
                violate("no reply within the %.0fs socket timeout" % SOCK_TIMEOUT, r)
            elif r.outcome == "closed":
                violate("client connection closed by the proxy", r)
            elif r.outcome == "connect-failed":
                violate("proxy refused a client connection", r)
            elif r.dt > PROMPT:
                violate("request took longer than %.1fs" % PROMPT, r)
            elif group == "healthy" and r.outcome != "ok":
                violate("healthy server's key not served right", r)
            elif strict and r.outcome != "ok":
                violate("failure in the %s phase (all servers up)" % phase, r)
            elif (group != "healthy" and ejected_seen is not None and r.ph0 == r.ph1 == "fault"
                  and r.t0 >= ejected_seen + EJECT_SLACK and r.outcome != "ok"):
                violate("failed server's key not served by the others %.1fs after both "
                        "ejections" % EJECT_SLACK, r)
        total = sum(s["requests"] for s in summary.values())
        line = "; ".join("%s %d req, failed killed=%d frozen=%d healthy=%d, stale/miss %d, "
                         "slowest %.2fs" % (ph, s["requests"], s["killed"], s["frozen"],
                                            s["healthy"], s["stale/miss"], s["max"])
                         for ph, s in summary.items())
        sys.stderr.write("\nfaults [io=%s]: %s; reconnects %d; marks %s\n"
                         % (rp.io_mode() or "default", line,
                            sum(ld.reconnects for ld in loaders),
                            ", ".join("%s +%.2fs" % kv for kv in marks.items())))
        sys.stderr.flush()

        problems = []
        if stuck:
            problems.append("clients %s still running after the load stopped (hang)" % stuck)
        if crashed:
            problems.append("client threads crashed: %s" % "; ".join(crashed))
        for kind, rs in violations.items():
            problems.append("%s: %d requests, e.g.\n    %s"
                            % (kind, len(rs), "\n    ".join(repr(r) for r in rs[:8])))
        if not recovered:
            problems.append("not every key worked again within %.0fs of the restore (marks %s; "
                            "clients without a clean pass since: %s)"
                            % (RECOVERY_LIMIT, marks,
                               [ld.tid for ld in loaders if ld.clean_pass_start is None or
                                ld.clean_pass_start < t_restore]))
        for ph in PHASES:
            if summary[ph]["requests"] == 0 and (recovered or ph != "final"):
                problems.append("no request made in the %s phase" % ph)
        if problems:
            self.fail("%d problems over %d requests (%s):\n%s\n%s"
                      % (len(problems), total, line, "\n".join(problems),
                         self.log_excerpt(proxy)))

        # -- the proxy's own account ---------------------------------------------------------
        st = proxy.stats()
        ps = st[pool]
        self.assertGreaterEqual(ps["server_ejects"], 2, "one server killed and one frozen "
                                "under load, both should have been ejected: %r" % ps)
        self.assertGreaterEqual(ps["client_connections"], NCLIENTS,
                                "client connections gone: %r" % ps)
        for i in (KILLED, FROZEN):
            self.assertGreater(server_entry(stats_fault, pool, fleet.ports[i])
                               ["server_ejected_at"], 0, "server %d not ejected at the end of "
                               "the fault phase: %r" % (i, stats_fault[pool]))
        frozen_entry = server_entry(st, pool, fleet.ports[FROZEN])
        self.assertGreaterEqual(frozen_entry["server_timedout"], 1,
                                "frozen server, no timeout counted: %r" % frozen_entry)
        killed_entry = server_entry(st, pool, fleet.ports[KILLED])
        self.assertGreaterEqual(killed_entry["server_err"] + killed_entry["server_eof"], 1,
                                "killed server, no error counted: %r" % killed_entry)
        for i, port in enumerate(fleet.ports):
            e = server_entry(st, pool, port)
            self.assertEqual(e["server_ejected_at"], 0, "server %d still ejected: %r" % (i, e))
            self.assertLessEqual(e["server_connections"], WORKERS, "server %d: %r" % (i, e))
            for g in ("in_queue", "out_queue"):
                self.assertEqual(e[g], 0, "server %d, load stopped: %r" % (i, e))

        # -- memcached-side state ------------------------------------------------------------
        found = fleet.lookup_direct(all_keys, "get")
        state_problems = []
        for ld in loaders:
            for k in ld.keys:
                owner = owners[k]
                hits = found.get(k, [])
                home = [h for h in hits if h[0] == owner]
                if len(home) != 1 or home[0][2] != ld.last_stored[k]:
                    state_problems.append("%s: on its server %d %r, last stored %r"
                                          % (k, owner, [h[2][:60] for h in home],
                                             ld.last_stored[k][:60]))
                for i, _, data, _ in hits:
                    if i == owner:
                        continue
                    if owner in healthy:
                        state_problems.append("%s (healthy server %d) also on server %d"
                                              % (k, owner, i))
                    elif data not in ld.history[k]:
                        state_problems.append("%s: server %d holds %r, never set by its client"
                                              % (k, i, data[:80]))
        self.assertEqual(state_problems, [], "memcached-side state (%d problems)"
                         % len(state_problems))

        # -- the proxy: alive, clean, exits 0 on SIGTERM -------------------------------------
        self.assertEqual(proxy.health_problems(), [], self.log_excerpt(proxy))
        for ld in loaders:
            if ld.conn is not None:
                ld.conn.close()
        status = proxy.terminate()
        self.assertEqual(status, 0, "exit status on SIGTERM\n%s" % proxy.log_tail(3000))
        self.assertEqual(rp.sanitizer_lines(proxy.log_text()), [], proxy.log_tail(6000))


if __name__ == "__main__":
    unittest.main()

"""Differential suite for redis pools: the proxy against redis-server itself, byte for byte.

Method. Every case of rd_corpus (a few hundred RESP request streams: commands of every class
with valid and invalid arguments, WRONGTYPE and arity errors, unknown commands, inline forms,
framing oddities redis accepts, pipelines, binary data, protocol errors at the end of a stream)
is sent on a fresh connection to two targets:

  * a redis-server of its own (direct), and
  * the proxy, through a one-server redis pool over another redis-server (proxied),

and each side's reply is read until the peer closes or nothing has come for QUIET seconds after
the last byte. The result is (reply bytes, closed); the two must be identical, except for a case
tagged with a known-difference id: there the proxy's reply must be one reply that passes that
id's check in KNOWN_DIFFERENCES below, then the reply to the case's tail (PING), on a
connection left open (for a limit: that one reply, then the proxy closes). A row of
KNOWN_DIFFERENCES that no case shows any more is stale and fails SingleServer.test_corpus: the
table only shrinks when the proxy comes closer to redis. (The README links to this table rather
than copying it.)

Each case is sent three ways: in one write (test_corpus), in pieces of 1..7 bytes a moment
apart (test_pieces; the same pieces to both sides), and, for the cases tagged SPLIT, split in two
writes at every byte boundary (test_split_points). A case that fails is run once more with a
longer quiet period (RETRY_QUIET) before it is reported (the first RETRY_MAX of them), so that a
slow build (ASan) is not taken for a difference.

Instances. SLOTS slots run at once, each with its own pair of redis-server (one direct, one
behind the proxy) and its own pool in one proxy (two workers); a slot runs its share of the cases
one after another, flushing both servers (FLUSHALL, SCRIPT FLUSH) before each. Deterministic:
the same cases go to the same slots in the same order on every run. DirectDeterminism runs the
corpus against two redis-server directly (one write against pieces) and requires identical
results: it checks the corpus and the harness, not the proxy.

Environment: RD_DIFF_SHOW=1 prints the full report of a run under nutcracker.

Under nutcracker (a harness check: nutcracker 0.5.0 closes the connection on much of the corpus)
the SingleServer tests run everything, check that the harness itself worked (every case ran, the
results of failing cases are the same on the second run, the proxy stayed up), and skip with a
summary of the differences."""

import errno
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rd_corpus  # noqa: E402
import rp_helpers as rp  # noqa: E402
from rd_corpus import (CLIENT, CLIENT_REPLY, COMMAND, EVAL_NOKEYS, HELLO, HELLO3,  # noqa
                       INFO, LIMITS, SELECT, UNSUPPORTED)

SLOTS = 16            # cases run at once (each slot: two redis-server and a pool)
QUIET = 0.15          # seconds of silence, after the last byte either way, that end a reply
RETRY_QUIET = 1.0     # the same for the second run of a failing case
SPLIT_PAUSE = 0.02    # seconds between the two writes of a split variant
PIECE_PAUSE = 0.002   # seconds between two pieces
CASE_LIMIT = 20.0     # seconds after which an exchange is cut short (a reply that never ends)
REPLY_LIMIT = 16 << 20
SHOW = 300            # bytes of a stream shown in a failure message
DETAILS = 6           # failing cases of a group described in full (the rest by name)
RETRY_MAX = 48        # failing cases run a second time (past that many, the difference is not a
                      # matter of timing: the rest are reported from the first run)
SHOW_ALL = os.environ.get("RD_DIFF_SHOW") == "1"   # under nutcracker: print the full report


def setUpModule():
    if shutil.which("redis-server") is None:
        raise unittest.SkipTest("redis-server is not installed")


# ---------------------------------------------------------------------------------------------
# the known differences: ONE table, id -> (reason, check of the proxy's reply to the case's one
# command). Each case tagged with an id sends that one command then PING; the proxy must answer
# the command with one reply that passes the check, then +PONG, and keep the connection open.


def is_error(prefix):
    def check(value, raw):
        if not isinstance(value, rp.RespError) or not value.startswith(prefix):
            return "not an error reply starting -%s" % prefix
        return None
    return check


def not_error(value, raw):
    return "an error reply" if isinstance(value, rp.RespError) else None


def is_bulk(value, raw):
    return None if isinstance(value, bytes) else "not a bulk string"


def hello2(value, raw):
    if not isinstance(value, list) or len(value) % 2:
        return "not an array of name/value pairs"
    fields = dict(zip(value[::2], value[1::2]))
    if fields.get(b"proto") != 2:
        return "proto is not 2"
    return None


KNOWN_DIFFERENCES = {
    SELECT: ("a pool has one database (redis_db): SELECT of any other is refused, as the "
             "proxy's server connections are shared", is_error("ERR")),
    UNSUPPORTED: ("no key to route by (KEYS, SCAN, DBSIZE, FLUSHALL...), blocking, "
                  "transactions, pub/sub, administration (CONFIG, MONITOR, CLIENT LIST/INFO/KILL): "
                  "a proxy cannot carry them; the connection stays open",
                  is_error("ERR unsupported command")),
    HELLO: ("answered by the proxy, which describes itself (server, version, id), in RESP2",
            hello2),
    HELLO3: ("RESP3 is not served: -NOPROTO, and the connection stays RESP2",
             is_error("NOPROTO")),
    COMMAND: ("answered from the proxy's own command table, not the server's", not_error),
    INFO: ("answered by the proxy with its own information", is_bulk),
    CLIENT: ("CLIENT ID: the client is the proxy's, not a server's, and so is its id",
             not_error),
    CLIENT_REPLY: ("replies cannot be switched off through a proxy: the proxy pairs every "
                   "request with its reply", is_error("ERR")),
    EVAL_NOKEYS: ("EVAL and EVALSHA with numkeys 0 have no key to route by", is_error("ERR")),
    LIMITS: ("the proxy's caps are lower than redis's: 1,048,576 arguments (redis: 2^31 - 1), "
             "an argument of max_value_size, 128 MiB by default (redis: 512 MiB); past them a "
             "protocol error, and the connection is closed (redis waits for the rest)",
             is_error("ERR Protocol error: ")),
}


class _Bytes(rp.RespClient):
    """A RespClient over bytes already received (no socket): parses replies off the front."""

    def __init__(self, data):  # noqa: no socket, so MemcacheClient.__init__ is not called
        self.buf = bytearray(data)
        self.timeout = 1.0
        self.sock = None

    def _fill(self, deadline):
        raise ValueError("incomplete reply")


def first_reply(data):
    """(parsed value, raw bytes, rest) of the first reply in data; ValueError if incomplete,
    AssertionError if not RESP."""
    r = _Bytes(data)
    value, raw = r._read(None)
    return value, raw, bytes(r.buf)


def check_known(case, direct, proxied):
    """None if the proxy's result passes the case's known-difference check, else why."""
    (kid,) = case.known()
    if kid in rd_corpus.CLOSING_IDS:
        if not proxied.closed:
            return "%s: the proxy did not close the connection" % kid
        try:
            value, raw, rest = first_reply(proxied.reply)
        except (ValueError, AssertionError) as e:
            return "%s: the proxy's reply is not one whole reply: %s" % (kid, e)
        if rest:
            return "%s: after the first reply %r comes %r" % (kid, raw[:80], rest[:80])
        problem = KNOWN_DIFFERENCES[kid][1](value, raw)
        return None if problem is None else "%s: %s: %r" % (kid, problem, raw[:120])
    if proxied.closed:
        return "%s: the proxy closed the connection" % kid
    try:
        value, raw, rest = first_reply(proxied.reply)
    except (ValueError, AssertionError) as e:
        return "%s: the proxy's reply is not one whole reply then the tail's: %s" % (kid, e)
    if rest != case.tail_reply:
        return "%s: after the first reply %r comes %r, not the tail's reply %r" % (
            kid, raw[:80], rest[:80], case.tail_reply)
    problem = KNOWN_DIFFERENCES[kid][1](value, raw)
    return None if problem is None else "%s: %s: %r" % (kid, problem, raw[:120])


# ---------------------------------------------------------------------------------------------
# one exchange


@dataclass(frozen=True)
class Result:
    reply: bytes
    closed: bool
    cut: bool = False     # CASE_LIMIT or REPLY_LIMIT reached


def exchange(port, chunks, pause, quiet):
    """Connects to port (TCP_NODELAY), writes chunks `pause` seconds apart and reads until the
    peer closes or `quiet` seconds pass without a byte either way once everything is written.
    A reset counts as closed; so does a failed write."""
    sock = socket.create_connection((rp.HOST, port), timeout=rp.IO_TIMEOUT)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        return _pump(sock, list(chunks), pause, quiet)
    finally:
        sock.close()


def _pump(sock, chunks, pause, quiet):
    reply = bytearray()
    pending = memoryview(chunks[0])
    later = chunks[1:]
    resume_at = 0.0
    last = time.monotonic()
    deadline = last + CASE_LIMIT
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    while True:
        now = time.monotonic()
        if not pending and later and now >= resume_at:
            pending, later = memoryview(later[0]), later[1:]
        sending = len(pending) > 0 or bool(later)
        if not sending and now - last >= quiet:
            return Result(bytes(reply), False)
        if now >= deadline or len(reply) > REPLY_LIMIT:
            return Result(bytes(reply), False, cut=True)
        wait = min(deadline - now, quiet if sending else quiet - (now - last))
        if not pending and later:
            wait = min(wait, resume_at - now)
        poller.modify(sock, select.POLLIN | (select.POLLOUT if pending else 0))
        events = dict(poller.poll(max(0.0, wait) * 1000))
        ev = events.get(sock.fileno(), 0)
        if pending and ev & (select.POLLOUT | select.POLLERR):
            try:
                n = sock.send(pending[:262144])
                pending = pending[n:]
                last = time.monotonic()
                if not pending and later:
                    resume_at = last + pause
            except BlockingIOError:
                pass
            except OSError:     # EPIPE / ECONNRESET: the peer is gone; read what it sent
                pending, later = memoryview(b""), []
        if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
            try:
                data = sock.recv(262144)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno in (errno.ECONNRESET, errno.EPIPE):
                    return Result(bytes(reply), True)
                raise
            if not data:
                return Result(bytes(reply), True)
            reply += data
            last = time.monotonic()


def chunks_of(case, mode):
    """(writes, pause) for a case sent in mode "whole", "pieces" or as its split variant."""
    if case.split_at is not None:
        return [case.data[:case.split_at], case.data[case.split_at:]], SPLIT_PAUSE
    if mode == "pieces":
        return rd_corpus.pieces(case), PIECE_PAUSE
    return [case.data], 0.0


# ---------------------------------------------------------------------------------------------
# instances


def start_redis_many(n, workdir):
    """n redis-server started at once (each registered for cleanup); returns them once all
    accept. One that does not come up (its port taken meanwhile) is retried on another port."""
    procs = [None] * n
    for attempt in range(3):
        for i in range(n):
            if procs[i] is None:
                port = rp.free_port()
                procs[i] = rp.Redis(port, rp.redis_cmd(port), workdir)
        deadline = time.monotonic() + rp.START_TIMEOUT
        waiting = set(range(n))
        while waiting and time.monotonic() < deadline:
            for i in list(waiting):
                if not procs[i].alive() or rp.port_accepts(procs[i].port, timeout=0.2):
                    waiting.discard(i)
            if waiting:
                time.sleep(0.01)
        failed = [i for i in range(n) if not procs[i].alive() or i in waiting]
        if not failed:
            return procs
        for i in failed:
            procs[i].kill()
            if attempt == 2:
                raise RuntimeError("redis-server did not start: %s\n%s"
                                   % (" ".join(procs[i].cmd), procs[i].stderr_text()))
            procs[i] = None
    return procs


class Rig:
    """SLOTS slots: slot i has a direct redis-server, a backend redis-server and pool `slotI`
    over the backend in one proxy (workers=2). with_proxy=False: no proxy (DirectDeterminism
    compares the two servers)."""

    def __init__(self, with_proxy=True, slots=SLOTS):
        self.with_proxy = with_proxy
        self.slots = slots
        self.workdir = None
        self.direct = []
        self.backend = []
        self.admin = []       # [(RespClient to direct, RespClient to backend)] per slot
        self.proxy = None

    def start(self):
        try:
            self.workdir = rp.make_temp_dir("rp-rdiff-")
            servers = start_redis_many(2 * self.slots, self.workdir)
            self.direct, self.backend = servers[:self.slots], servers[self.slots:]
            self.admin = [(d.client(), b.client()) for d, b in zip(self.direct, self.backend)]
            if self.with_proxy:
                pools = {"slot%02d" % i: rp.redis_pool([b.port])
                         for i, b in enumerate(self.backend)}
                self.proxy = rp.start_ringproxy(pools, workers=2)
        except BaseException:
            self.stop()
            raise
        return self

    def ports(self, i):
        """(direct port, other port): the proxy's pool, or the backend itself without a proxy."""
        other = self.proxy.pools["slot%02d" % i] if self.proxy else self.backend[i].port
        return self.direct[i].port, other

    def reset(self, i):
        """Both servers of slot i back to empty: every key, every cached script."""
        for c in self.admin[i]:
            for args in (("FLUSHALL",), ("SCRIPT", "FLUSH")):
                reply = c.command(*args)
                if reply != "OK":
                    raise AssertionError("%r on slot %d: %r" % (args, i, reply))

    def health_problems(self):
        """[] if the proxy is alive, answers PING on slot 0's pool and has logged no sanitizer
        report; else descriptions."""
        if self.proxy is None:
            return []
        if not self.proxy.alive():
            return ["proxy exited with status %s\n%s" % (self.proxy.returncode(),
                                                          self.proxy.log_tail(3000))]
        problems = []
        try:
            with rp.RespClient(self.ports(0)[1], timeout=5.0) as c:
                c.send(rp.resp_encode("PING"))
                raw = c.read_raw_reply()
                if raw != b"+PONG\r\n":
                    problems.append("proxy answered %r to PING" % raw)
        except (OSError, rp.ConnectionClosed) as e:
            problems.append("proxy did not answer PING: %s: %s" % (type(e).__name__, e))
        errs = self.proxy.sanitizer_errors()
        if errs:
            problems.append("sanitizer reports: %s" % "; ".join(errs[:5]))
        return problems

    def stop(self):
        """Stops everything (the proxy with SIGTERM, as it would in use). Returns the problems
        seen at exit: the proxy not exiting, sanitizer lines not reported before."""
        problems = []
        for pair in self.admin:
            for c in pair:
                c.close()
        self.admin = []
        if self.proxy is not None:
            self.proxy.signal(signal.SIGCONT)
            self.proxy.signal(signal.SIGTERM)
        for rd in self.direct + self.backend:
            rd.signal(signal.SIGKILL)
        for rd in self.direct + self.backend:
            rd.kill()
        self.direct, self.backend = [], []
        if self.proxy is not None:
            try:
                self.proxy.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                problems.append("proxy still running 10s after SIGTERM")
            self.proxy.kill()
            seen = set(self.proxy.sanitizer_errors())
            problems += ["at exit: %s" % line for line in rp.sanitizer_lines(
                self.proxy.log_text()) if line not in seen][:5]
            shutil.rmtree(self.proxy.workdir, ignore_errors=True)
            self.proxy = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        return problems


# ---------------------------------------------------------------------------------------------
# running and judging


@dataclass
class Outcome:
    case: rd_corpus.Case
    direct: Result
    other: Result
    reason: str       # None when right
    first: tuple = None   # (direct, other) of the first run, when this is a retry


def judge(case, direct, other, known=True):
    """None if the other side's result is right for the case, else a short reason. known=False:
    every case must be identical (DirectDeterminism)."""
    if direct.cut or other.cut:
        return "an exchange was cut short after %.0fs or %d bytes (direct %s, other %s)" % (
            CASE_LIMIT, REPLY_LIMIT, direct.cut, other.cut)
    if known and case.known():
        return check_known(case, direct, other)
    differ = (["replies differ"] if direct.reply != other.reply else []) + \
        (["close differs"] if direct.closed != other.closed else [])
    return ", ".join(differ) or None


def run_pass(rig, cases, mode, quiet, direct_mode=None, known=True):
    """Runs cases on the rig's slots (case n on slot n % SLOTS, in order). direct_mode: how the
    direct side sends (default: as the other side). Returns ([Outcome], problems)."""
    outcomes = [None] * len(cases)
    direct_mode = direct_mode or mode

    def slot(i):
        for n in range(i, len(cases), rig.slots):
            case = cases[n]
            rig.reset(i)
            dport, oport = rig.ports(i)
            pair = [None, None]

            def side(k, port, how):
                chunks, pause = chunks_of(case, how)
                pair[k] = exchange(port, chunks, pause, quiet)

            t = threading.Thread(target=side, args=(1, oport, mode), daemon=True)
            t.start()
            side(0, dport, direct_mode)
            t.join(CASE_LIMIT + 10)
            if pair[1] is None:
                raise AssertionError("%s: the exchange with the proxy did not finish" % case.name)
            outcomes[n] = Outcome(case, pair[0], pair[1], judge(case, pair[0], pair[1], known))

    limit = CASE_LIMIT * 2 + 30 + len(cases) / rig.slots * (quiet + 0.5)
    problems = rp.run_threads(slot, rig.slots, limit)
    problems += rig.health_problems()
    missing = [cases[n].name for n, o in enumerate(outcomes) if o is None]
    if missing:
        problems.append("%d cases did not run, e.g. %s" % (len(missing), ", ".join(missing[:5])))
    return [o for o in outcomes if o is not None], problems


def run_cases(cases, mode, with_proxy=True, direct_mode=None, known=True):
    """Runs every case on a fresh rig, then the failing ones again (fresh rig, RETRY_QUIET).
    Returns (outcomes in corpus order, problems)."""
    rig = Rig(with_proxy).start()
    try:
        outcomes, problems = run_pass(rig, cases, mode, QUIET, direct_mode, known)
    finally:
        problems_at_exit = rig.stop()
    problems += problems_at_exit
    failing = [o for o in outcomes if o.reason is not None][:RETRY_MAX]
    if failing:
        rig = Rig(with_proxy).start()
        try:
            again, more = run_pass(rig, [o.case for o in failing], mode, RETRY_QUIET,
                                   direct_mode, known)
        finally:
            more += rig.stop()
        problems += more
        by_name = {o.case.name: o for o in again}
        for i, o in enumerate(outcomes):
            if o.reason is not None and o.case.name in by_name:
                new = by_name[o.case.name]
                new.first = (o.direct, o.other)
                outcomes[i] = new
    return outcomes, problems


def show(data, at=None):
    text = repr(data[:SHOW]) + (" ... (%d bytes)" % len(data) if len(data) > SHOW else "")
    if at is not None and at > SHOW - 40:
        start = max(0, at - 40)
        text += "\n        at %d: %r" % (start, data[start:start + 120])
    return text


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def describe(o, other_name):
    at = first_difference(o.direct.reply, o.other.reply)
    return ("%s [%s]: %s\n    sent:   %s\n    redis:  %s closed=%s\n    %s: %s closed=%s\n"
            "    first difference at %s"
            % (o.case.name, ",".join(sorted(o.case.tags)) or "untagged", o.reason,
               show(o.case.data), show(o.direct.reply, at), o.direct.closed, other_name,
               show(o.other.reply, at), o.other.closed,
               "none (same bytes)" if at is None else "offset %d" % at))


def groups_of(bad):
    groups = {}
    for o in bad:
        groups.setdefault(o.case.name.split("/", 1)[0], []).append(o)
    return groups


def report(outcomes, problems, label, other_name="proxy"):
    """The failure message of a run, or None if everything is right."""
    bad = [o for o in outcomes if o.reason is not None]
    if not bad and not problems:
        return None
    groups = groups_of(bad)
    parts = ["%s: %d of %d cases differ from redis-server (up to %d of them also on a second, "
             "slower run)" % (label, len(bad), len(outcomes), RETRY_MAX),
             "by group: " + ", ".join("%s %d" % (g, len(m)) for g, m in groups.items())]
    if problems:
        parts.append("%d problems:" % len(problems))
        parts += ["  " + p for p in problems]
    for members in groups.values():
        for o in members[:DETAILS]:
            parts.append(describe(o, other_name))
        if len(members) > DETAILS:
            parts.append("... and %d more like these: %s" % (
                len(members) - DETAILS, ", ".join(o.case.name for o in members[DETAILS:])))
    return "\n".join(parts)


def differs(o):
    return (o.direct.reply, o.direct.closed) != (o.other.reply, o.other.closed)


# ---------------------------------------------------------------------------------------------
# tests


class CorpusTests(unittest.TestCase):
    """The table, the corpus and its tags agree (no processes)."""

    def test_table_matches_corpus(self):
        self.assertEqual(set(KNOWN_DIFFERENCES), set(rd_corpus.KNOWN_IDS))
        used = {k for c in rd_corpus.cases() for k in c.known()}
        self.assertEqual(set(KNOWN_DIFFERENCES) - used, set(), "ids no case exercises")
        for c in rd_corpus.cases():
            if c.known():
                self.assertEqual(len(c.known()), 1, c.name)
                self.assertEqual(c.data.endswith(rd_corpus.TAIL),
                                 not c.known() & rd_corpus.CLOSING_IDS, c.name)
        for kid, (reason, check) in KNOWN_DIFFERENCES.items():
            self.assertTrue(reason and callable(check), kid)

    def test_corpus_is_deterministic_and_named(self):
        a, b = rd_corpus.cases(), rd_corpus.cases()
        self.assertEqual(a, b)
        self.assertEqual([rd_corpus.pieces(c) for c in a], [rd_corpus.pieces(c) for c in b])
        names = [c.name for c in a + rd_corpus.split_variants(a)]
        self.assertEqual(len(names), len(set(names)), "case names are not unique")
        self.assertGreaterEqual(len(a), 300)
        for c in a:
            self.assertEqual(b"".join(rd_corpus.pieces(c)), c.data, c.name)


class DirectDeterminism(unittest.TestCase):
    """Checks the corpus and the harness, not the proxy: two fresh redis-server, one sent each
    case in one write, the other in pieces, give identical results (cases whose answer names
    the server, the known-difference ones, are left out)."""

    def test_redis_answers_the_same_whole_and_in_pieces(self):
        cases = [c for c in rd_corpus.cases() if not c.known()]
        outcomes, problems = run_cases(cases, "pieces", with_proxy=False, direct_mode="whole",
                                       known=False)
        message = report(outcomes, problems, "redis whole against redis in pieces",
                         "pieces")
        if message:
            self.fail(message)


class SingleServer(unittest.TestCase):
    """The proxy over one redis-server against redis-server."""

    def finish(self, outcomes, problems, label):
        """Fails with the report; under nutcracker checks the harness and skips."""
        if rp.is_nutcracker():
            unstable = [o.case.name for o in outcomes if o.first is not None and
                        (o.first[1].reply, o.first[1].closed) != (o.other.reply,
                                                                  o.other.closed) and
                        not o.other.cut]
            self.assertEqual(problems, [], "the harness did not run cleanly")
            self.assertEqual(unstable, [], "nutcracker's answers changed between runs (harness "
                                           "not deterministic?)")
            bad = [o for o in outcomes if o.reason is not None]
            groups = groups_of(bad)
            if SHOW_ALL:
                sys.stderr.write("\n%s\n" % report(outcomes, problems, label))
            self.skipTest("nutcracker: %d of %d cases differ from redis-server (%s); the "
                          "harness ran cleanly" % (len(bad), len(outcomes), ", ".join(
                              "%s %d" % (g, len(m)) for g, m in groups.items())))
        message = report(outcomes, problems, label)
        if message:
            self.fail(message)

    def test_corpus(self):
        cases = rd_corpus.cases()
        outcomes, problems = run_cases(cases, "whole")
        shown = {k for o in outcomes if differs(o) for k in o.case.known()}
        stale = set(KNOWN_DIFFERENCES) - shown
        if not rp.is_nutcracker() and stale:
            problems.append("known differences that no case shows any more (remove them from "
                            "KNOWN_DIFFERENCES and their tags from rd_corpus): %s"
                            % ", ".join(sorted(stale)))
        self.finish(outcomes, problems, "one write")

    def test_pieces(self):
        outcomes, problems = run_cases(rd_corpus.cases(), "pieces")
        self.finish(outcomes, problems, "in pieces")

    def test_split_points(self):
        outcomes, problems = run_cases(rd_corpus.split_variants(), "whole")
        self.finish(outcomes, problems, "split variants")


if __name__ == "__main__":
    unittest.main()

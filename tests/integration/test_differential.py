"""Differential suite: ringproxy against memcached itself, byte for byte.

Method. Every case of mc_corpus (several hundred byte streams: every ASCII command with valid,
boundary and invalid arguments, broken framing, pipelines, HTTP and binary-protocol openings,
seeded garbage) is sent on a fresh connection, in one write (a split variant `NAME@OFFSET`: in
two, a pause between), to two fresh targets:

  * a real memcached on its own, and
  * ringproxy in front of its own real memcached (or three of them, ThreeServers),

and each side's reply is read until the peer closes or nothing has come for QUIET seconds after
the last byte. The result is (reply bytes, closed). The two results must be identical, except
for a case tagged with a known-difference id (mc_corpus.KNOWN_IDS, the README table): there
ringproxy's result must pass that id's check in KNOWN. A case that fails is run once more on new
instances with a longer quiet period (RETRY_QUIET) before it is reported, so that a slow build
(ASan) is not taken for a difference.

To keep it fast, cases run in batches of about BATCH (every n-th case of the list, so that
the heavy ones, which come in runs, are spread out): for each batch, one fresh direct memcached
and one fresh backend (three for ThreeServers) per case and one ringproxy with one pool per case
are started (all memcached at once, and while the previous batch is still running: starting
processes is most of the cost), the cases run concurrently on threads, the proxy is checked
(alive, answers, no sanitizer report) and every process of the batch is stopped. Every failure
of a run is collected and reported in one assertion.

Skipped as a whole when RINGPROXY is nutcracker."""

import concurrent.futures
import errno
import os
import re
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

import mc_corpus  # noqa: E402
import rp_helpers as rp  # noqa: E402
from mc_corpus import (ADMIN, BINARY, HTTP_PIPELINED, HUGE_GET_LINE, LONG_KEY_DROPS,  # noqa
                       SERVER_DEPENDENT, STATS)

README = os.path.join(HERE, "..", "..", "README.md")
TABLE_BEGIN = "<!-- known-differences:begin -->"
TABLE_END = "<!-- known-differences:end -->"

BATCH = 32            # cases per batch (instances started together)
QUIET = 0.15          # seconds of silence, after the last byte either way, that end a reply
RETRY_QUIET = 1.0     # the same for the second run of a failing case
SPLIT_PAUSE = 0.02    # seconds between the two writes of a split variant
CASE_LIMIT = 20.0     # seconds after which an exchange is cut short (a reply that never ends)
REPLY_LIMIT = 16 << 20
SHOW = 300            # bytes of a stream shown in a failure message
PREFETCH = True       # start the next batch's instances while a batch runs
DETAILS = 8           # failing cases of a group described in full (the rest by name)


def setUpModule():
    if rp.is_nutcracker():
        raise unittest.SkipTest("nutcracker: the differential suite is about ringproxy")


# ---------------------------------------------------------------------------------------------
# one exchange


@dataclass(frozen=True)
class Result:
    reply: bytes
    closed: bool
    cut: bool = False     # CASE_LIMIT or REPLY_LIMIT reached (still sending)


def exchange(port, data, split_at=None, quiet=QUIET):
    """Connects to port (TCP_NODELAY), writes data (as two writes SPLIT_PAUSE apart when
    split_at is given) and reads until the peer closes or `quiet` seconds pass without a byte
    either way once everything is written. A reset counts as closed; so does a failed write."""
    chunks = [data] if split_at is None else [data[:split_at], data[split_at:]]
    sock = socket.create_connection((rp.HOST, port), timeout=rp.IO_TIMEOUT)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        return _pump(sock, chunks, quiet)
    finally:
        sock.close()


def _pump(sock, chunks, quiet):
    reply = bytearray()
    pending = memoryview(chunks[0])
    later = chunks[1:]
    resume_at = 0.0                 # when the next chunk may be written
    last = time.monotonic()         # when the last byte went either way
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
        if pending and events.get(sock.fileno(), 0) & (select.POLLOUT | select.POLLERR):
            try:
                n = sock.send(pending[:262144])
                pending = pending[n:]
                last = time.monotonic()
                if not pending and later:
                    resume_at = last + SPLIT_PAUSE
            except BlockingIOError:
                pass
            except OSError:     # EPIPE / ECONNRESET: the peer is gone; read what it sent
                pending, later = memoryview(b""), []
        if events.get(sock.fileno(), 0) & (select.POLLIN | select.POLLHUP | select.POLLERR):
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


# ---------------------------------------------------------------------------------------------
# instances of one batch


def memcached_cmd(port):
    """The command line of rp_helpers.start_memcached (default -I 1m: 2 MB is too large)."""
    cmd = ["memcached", "-l", rp.HOST, "-p", str(port), "-U", "0", "-m", "64", "-t", "1"]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]   # memcached refuses to run as root without -u
    return cmd


def start_memcached_many(n, workdir):
    """n memcached started at once (each registered for cleanup); returns them once all
    accept. One that does not come up (its port taken meanwhile) is retried on another port."""
    procs = [None] * n
    for attempt in range(3):
        for i in range(n):
            if procs[i] is None:
                port = rp.free_port()
                procs[i] = rp.Memcached(port, memcached_cmd(port), workdir)
        deadline = time.monotonic() + rp.START_TIMEOUT
        waiting = set(range(n))
        while waiting and time.monotonic() < deadline:
            for i in list(waiting):
                if not procs[i].alive():
                    waiting.discard(i)
                elif rp.port_accepts(procs[i].port, timeout=0.2):
                    waiting.discard(i)
            if waiting:
                time.sleep(0.01)
        failed = [i for i in range(n) if not procs[i].alive() or i in waiting]
        if not failed:
            return procs
        for i in failed:
            procs[i].kill()
            if attempt == 2:
                raise RuntimeError("memcached did not start: %s\n%s"
                                   % (" ".join(procs[i].cmd), procs[i].stderr_text()))
            procs[i] = None
    return procs


class Batch:
    """For n cases: n direct memcached, n pools of `servers` fresh memcached each behind one
    ringproxy (workers=2). start(), then stop()."""

    def __init__(self, n, servers):
        self.n = n
        self.servers = servers
        self.workdir = None
        self.direct = []
        self.backends = []
        self.proxy = None
        self.pool_names = ["case%02d" % i for i in range(n)]

    def start(self):
        try:
            self.workdir = rp.make_temp_dir("rp-diff-")
            mcs = start_memcached_many(self.n * (1 + self.servers), self.workdir)
            self.direct, self.backends = mcs[:self.n], mcs[self.n:]
            pools = {}
            for i, name in enumerate(self.pool_names):
                group = self.backends[i * self.servers:(i + 1) * self.servers]
                pools[name] = rp.default_pool([mc.port for mc in group])
            self.proxy = rp.start_ringproxy(pools, workers=2)
        except BaseException:
            self.stop()
            raise
        return self

    def direct_port(self, i):
        return self.direct[i].port

    def proxy_port(self, i):
        return self.proxy.pools[self.pool_names[i]]

    def health_problems(self):
        """[] if the proxy is alive, answers `version` and a `get` on the first pool, and has
        logged no sanitizer report; else descriptions."""
        problems = []
        if not self.proxy.alive():
            return ["proxy exited with status %s\n%s" % (self.proxy.returncode(),
                                                          self.proxy.log_tail(3000))]
        try:
            with rp.MemcacheClient(self.proxy_port(0), timeout=5.0) as c:
                line = c.cmd(b"version")
                if not line.startswith(b"VERSION "):
                    problems.append("proxy answered %r to version" % line)
                line = c.cmd(b"get diff-health-check")
                if line != b"END" and not line.startswith(b"SERVER_ERROR"):
                    problems.append("proxy answered %r to a get" % line)
        except (OSError, rp.ConnectionClosed) as e:
            problems.append("proxy did not answer version/get: %s: %s" % (type(e).__name__, e))
        errs = self.proxy.sanitizer_errors()
        if errs:
            problems.append("sanitizer reports: %s" % "; ".join(errs[:5]))
        return problems

    def stop(self):
        """Stops everything (the proxy with SIGTERM, so that it exits as it would in use; the
        memcached with SIGKILL, all signalled before any is reaped). Returns the sanitizer
        lines (leaks included) the proxy wrote that health_problems has not reported."""
        exit_errors = []
        if self.proxy is not None:
            self.proxy.signal(signal.SIGCONT)
            self.proxy.signal(signal.SIGTERM)
        for mc in self.direct + self.backends:
            mc.signal(signal.SIGKILL)
        for mc in self.direct + self.backends:
            mc.kill()
        self.direct, self.backends = [], []
        if self.proxy is not None:
            try:
                self.proxy.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                exit_errors.append("proxy still running 10s after SIGTERM")
            self.proxy.kill()
            seen = set(self.proxy.sanitizer_errors())   # reported by health_problems
            exit_errors += [line for line in rp.sanitizer_lines(self.proxy.log_text())
                            if line not in seen]
            shutil.rmtree(self.proxy.workdir, ignore_errors=True)
            self.proxy = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        return exit_errors


# ---------------------------------------------------------------------------------------------
# judging


def first_difference(a, b):
    """Offset of the first differing byte, len of the shorter if one is a prefix, or None."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def lines_of(data):
    """data split into complete CRLF lines, or None if it does not end in one."""
    if data and not data.endswith(b"\r\n"):
        return None
    return data.split(b"\r\n")[:-1] if data else []


STAT_LINE = re.compile(rb"^STAT [!-~]+ [ -~]*$")
STATS_INTERNALS = (b"items", b"slabs", b"sizes", b"conns", b"detail", b"cachedump",
                   b"extstore")


def _split_tail(case, mc, rpx):
    """(head of ringproxy's reply, problem): the reply less case.tail_reply, after checking that
    both memcached's and ringproxy's replies end with the tail's reply."""
    tail = case.tail_reply
    if not mc.reply.endswith(tail):
        return None, ("memcached's reply does not end with the tail's reply %r (corpus bug?)"
                      % tail)
    if not rpx.reply.endswith(tail):
        return None, "ringproxy's reply does not end with the tail's reply %r" % tail
    return rpx.reply[:len(rpx.reply) - len(tail)], None


def check_stats(case, mc, rpx):
    """ringproxy answers stats itself: STAT lines then END (plain stats, stats settings), or
    RESET (stats reset), or ERROR (a cache's internals); what comes after it is answered as
    memcached answers it; not closed."""
    if rpx.closed:
        return "ringproxy closed the connection"
    head, problem = _split_tail(case, mc, rpx)
    if problem:
        return problem
    lines = lines_of(head)
    if not lines:
        return "the reply to the stats line is %s" % ("empty" if lines == [] else
                                                        "not made of complete lines")
    if lines in ([b"RESET"], [b"ERROR"]):
        form = lines[0]
    elif lines[-1] == b"END" and all(STAT_LINE.match(x) for x in lines[:-1]):
        form = b"STAT" if len(lines) > 1 else b"END"
    else:
        bad = [x for x in lines if not (STAT_LINE.match(x) or x == b"END")]
        return "not STAT lines then END, RESET or ERROR: %r" % (bad[:3] or lines[-1:])
    args = case.data.split(b"\n", 1)[0].rstrip(b"\r").split()[1:]
    if not args and form != b"STAT":
        return "plain stats answered %r, not STAT lines" % form
    if args[:1] == [b"reset"] and len(args) == 1 and form != b"RESET":
        return "stats reset answered %r, not RESET" % form
    if args[:1] and args[0] in STATS_INTERNALS and form != b"ERROR":
        return "stats %s answered %r, not ERROR" % (args[0].decode(), form)
    if args == [b"settings"] and form != b"STAT":
        return "stats settings answered %r, not STAT lines" % form
    return None


def check_admin(case, mc, rpx):
    """The admin line is answered ERROR by ringproxy, the rest as by memcached; not closed."""
    if rpx.closed:
        return "ringproxy closed the connection"
    if not mc.reply.endswith(case.tail_reply):
        return "memcached's reply does not end with the tail's reply (corpus bug?)"
    want = b"ERROR\r\n" + case.tail_reply
    if rpx.reply != want:
        return "ringproxy's reply is not %r" % want
    return None


def check_binary(case, mc, rpx):
    """First byte 0x80: closed without a word."""
    if rpx.reply or not rpx.closed:
        return "ringproxy did not close without a word"
    return None


def check_http_pipelined(case, mc, rpx):
    """Both close; ringproxy may deliver the replies memcached dropped: memcached's reply is a
    prefix of ringproxy's."""
    if not (mc.closed and rpx.closed):
        return "not both closed"
    if not rpx.reply.startswith(mc.reply):
        return "memcached's reply is not a prefix of ringproxy's"
    return None


LINE_TOO_LONG = b"CLIENT_ERROR line too long\r\n"


def check_huge_get_line(case, mc, rpx):
    """ringproxy answers CLIENT_ERROR line too long and closes; what comes before that line is
    what memcached answered first."""
    if not rpx.closed:
        return "ringproxy did not close"
    if not rpx.reply.endswith(LINE_TOO_LONG):
        return "ringproxy's reply does not end with %r" % LINE_TOO_LONG
    if not mc.reply.startswith(rpx.reply[:-len(LINE_TOO_LONG)]):
        return "ringproxy's reply before the error is not a prefix of memcached's"
    return None


def check_long_key_drops(case, mc, rpx):
    """memcached's CLIENT_ERROR for a retrieval with a key over 250 bytes throws away the
    replies it had queued from the same read; ringproxy answers every request before it: what
    memcached sends is the end of what ringproxy sends."""
    if mc.closed or rpx.closed:
        return "a connection was closed"
    if not rpx.reply.endswith(mc.reply) or b"CLIENT_ERROR bad command line format\r\n" not in mc.reply:
        return "memcached's reply is not the end of ringproxy's"
    return None


KNOWN = {
    STATS: check_stats,
    ADMIN: check_admin,
    BINARY: check_binary,
    HTTP_PIPELINED: check_http_pipelined,
    HUGE_GET_LINE: check_huge_get_line,
    LONG_KEY_DROPS: check_long_key_drops,
}


def judge(case, mc, rpx):
    """None if ringproxy's result is right for the case, else a short reason."""
    if mc.cut or rpx.cut:
        return ("an exchange was cut short after %.0fs or %d bytes (memcached %s, ringproxy %s)"
                % (CASE_LIMIT, REPLY_LIMIT, mc.cut, rpx.cut))
    known = sorted(case.known())
    if known:
        reasons = [(k, KNOWN[k](case, mc, rpx)) for k in known]
        failed = ["%s: %s" % (k, r) for k, r in reasons if r]
        return "; ".join(failed) or None
    differ = (["replies differ"] if mc.reply != rpx.reply else []) + \
        (["close differs"] if mc.closed != rpx.closed else [])
    return ", ".join(differ) or None


def show(data, at=None):
    """repr of data, truncated; with a window around offset `at` when that is past the head."""
    text = repr(data[:SHOW]) + (" ... (%d bytes)" % len(data) if len(data) > SHOW else "")
    if at is not None and at > SHOW - 40:
        start = max(0, at - 40)
        text += "\n        at %d: %r" % (start, data[start:start + 120])
    return text


def describe(case, reason, mc, rpx):
    at = first_difference(mc.reply, rpx.reply)
    return ("%s [%s]: %s\n"
            "    sent:      %s\n"
            "    memcached: %s closed=%s\n"
            "    ringproxy: %s closed=%s\n"
            "    first difference at %s"
            % (case.name, ",".join(sorted(case.tags)) or "untagged", reason,
               show(case.data), show(mc.reply, at), mc.closed, show(rpx.reply, at), rpx.closed,
               "none (same bytes)" if at is None else "offset %d" % at))


# ---------------------------------------------------------------------------------------------
# running a corpus


@dataclass
class Outcome:
    case: mc_corpus.Case
    mc: Result
    rp: Result
    reason: str      # None when right
    retried: bool


def run_on(batch, cases, quiet):
    """Runs cases concurrently on a started batch, then checks and stops it. Returns
    ([(memcached Result, ringproxy Result) or None per case], problems)."""
    results = [None] * len(cases)

    def one(i):
        case = cases[i]
        pair = [None, None]

        def side(k, port):
            pair[k] = exchange(port, case.data, case.split_at, quiet)

        t = threading.Thread(target=side, args=(1, batch.proxy_port(i)), daemon=True)
        t.start()
        side(0, batch.direct_port(i))
        t.join(CASE_LIMIT + 10)
        if pair[1] is None:
            raise AssertionError("%s: the ringproxy exchange did not finish" % case.name)
        results[i] = tuple(pair)

    try:
        problems = rp.run_threads(one, len(cases), CASE_LIMIT * 2 + 20)
        problems += batch.health_problems()
    finally:
        problems_at_exit = batch.stop()
    problems += ["at exit: %s" % line for line in problems_at_exit[:5]]
    if problems:
        problems = ["a batch's proxy: %s" % p for p in problems]
        problems.append("(that batch ran: %s)" % ", ".join(c.name for c in cases))
    return results, problems


def run_batches(cases, servers, quiet):
    """Runs cases about BATCH at a time, each batch on fresh instances, and yields
    (case, (memcached Result, ringproxy Result) or None) for each, and (None, problem) for each
    problem of a batch's proxy. A batch holds every n-th case, so that heavy cases, which come
    in runs, are spread out. Starting processes is most of a batch's cost, so the next batch's
    instances are started (on a helper thread) while the current one runs."""
    nbatches = -(-len(cases) // BATCH)
    groups = [cases[i::nbatches] for i in range(nbatches)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as starter:
        def prepare(i):
            return starter.submit(Batch(len(groups[i]), servers).start) \
                if i < len(groups) else None

        pending = prepare(0)
        try:
            for i, group in enumerate(groups):
                batch = pending.result()
                pending = prepare(i + 1) if PREFETCH else None
                results, problems = run_on(batch, group, quiet)
                if not PREFETCH:
                    pending = prepare(i + 1)
                for problem in problems:
                    yield None, problem
                yield from zip(group, results)
        finally:
            if pending is not None:           # stopped early: do not leave a batch running
                try:
                    pending.result().stop()
                except Exception:  # noqa: BLE001 - it failed to start: nothing to stop
                    pass


def run_cases(cases, servers):
    """Runs every case, and a failing one a second time on new instances with a longer quiet
    period. Returns (outcomes, problems)."""
    outcomes = []
    problems = []
    for case, res in run_batches(cases, servers, QUIET):
        if case is None:
            problems.append(res)
        elif res is None:
            outcomes.append(Outcome(case, None, None, "no result (see the problems)", False))
        else:
            outcomes.append(Outcome(case, res[0], res[1], judge(case, *res), False))
    failing = {o.case.name: o for o in outcomes if o.reason is not None and o.mc is not None}
    for case, res in run_batches([o.case for o in failing.values()], servers, RETRY_QUIET):
        if case is None:
            problems.append(res)
        elif res is not None:
            o = failing[case.name]
            o.mc, o.rp, o.reason, o.retried = res[0], res[1], judge(case, *res), True
    order = {case.name: i for i, case in enumerate(cases)}
    outcomes.sort(key=lambda o: order[o.case.name])
    return outcomes, problems


def report(outcomes, problems, label):
    """The failure message of a run, or None if everything is right: a count, the count per
    group of cases (the name up to its first /), the proxy problems, then the failing cases,
    the first DETAILS of each group in full, the others by name."""
    bad = [o for o in outcomes if o.reason is not None]
    if not bad and not problems:
        return None
    groups = {}
    for o in bad:
        groups.setdefault(o.case.name.split("/", 1)[0], []).append(o)
    parts = ["%s: %d of %d cases differ from memcached (each also on a second, slower run)"
             % (label, len(bad), len(outcomes)),
             "by group: " + ", ".join("%s %d" % (g, len(members)) for g, members in groups.items())]
    if problems:
        parts.append("%d proxy problems:" % len(problems))
        parts += ["  " + p for p in problems]
    for group in groups.values():
        for o in group[:DETAILS]:
            parts.append("%s: %s" % (o.case.name, o.reason) if o.mc is None else
                         describe(o.case, o.reason, o.mc, o.rp))
        if len(group) > DETAILS:
            parts.append("... and %d more like these: %s" % (
                len(group) - DETAILS, ", ".join(o.case.name for o in group[DETAILS:])))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# the README table


def readme_known_ids(path=README):
    """The ids (first column, in backticks) of the README's known-differences table; raises
    AssertionError with a clear message if the table is missing."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise AssertionError("cannot read %s: %s" % (path, e))
    begin, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if begin < 0 or end < begin:
        raise AssertionError("%s has no known-differences table: expected a table between %s "
                             "and %s, one row per difference, the id in backticks in the first "
                             "column (e.g. | `binary` | ... |)"
                             % (os.path.normpath(path), TABLE_BEGIN, TABLE_END))
    ids = []
    for line in text[begin + len(TABLE_BEGIN):end].splitlines():
        m = re.match(r"^\s*\|\s*`([^`]+)`\s*\|", line)
        if m:
            ids.append(m.group(1))
    return ids


# ---------------------------------------------------------------------------------------------
# tests


class KnownDifferences(unittest.TestCase):
    """The README table, the harness's checks and the corpus agree."""

    def test_readme_table_matches_harness(self):
        ids = readme_known_ids()
        self.assertEqual(len(ids), len(set(ids)), "an id appears twice in the README table")
        self.assertEqual(set(ids), set(KNOWN),
                         "README table ids %s vs harness KNOWN %s" % (sorted(ids), sorted(KNOWN)))

    def test_every_known_id_is_exercised(self):
        used = {k for case in mc_corpus.cases() for k in case.known()}
        self.assertEqual(set(KNOWN) - used, set(), "known ids no case exercises")
        self.assertEqual(set(KNOWN), set(mc_corpus.KNOWN_IDS))

    def test_corpus_is_deterministic_and_named(self):
        a, b = mc_corpus.cases(), mc_corpus.cases()
        self.assertEqual(a, b)
        names = [c.name for c in a + mc_corpus.split_variants(a)]
        self.assertEqual(len(names), len(set(names)), "case names are not unique")
        self.assertGreaterEqual(len(a), 300)


class SingleServer(unittest.TestCase):
    """ringproxy over one memcached against memcached."""

    def test_corpus(self):
        outcomes, problems = run_cases(mc_corpus.cases(), servers=1)
        message = report(outcomes, problems, "one server")
        if message:
            self.fail(message)
        # a row of the table that no case shows any more is stale: the table must shrink
        shown = {k for o in outcomes if o.mc is not None and
                 (o.mc.reply, o.mc.closed) != (o.rp.reply, o.rp.closed) for k in o.case.known()}
        self.assertEqual(set(KNOWN) - shown, set(),
                         "known differences that no case shows any more (remove them from the "
                         "README table and the harness)")

    def test_split_points(self):
        outcomes, problems = run_cases(mc_corpus.split_variants(), servers=1)
        message = report(outcomes, problems, "split variants")
        if message:
            self.fail(message)


class ThreeServers(unittest.TestCase):
    """ringproxy over a pool of three memcached against one memcached (cases whose answer
    depends on where keys live are left out)."""

    def test_corpus(self):
        cases = [c for c in mc_corpus.cases() if SERVER_DEPENDENT not in c.tags]
        outcomes, problems = run_cases(cases, servers=3)
        message = report(outcomes, problems, "three servers")
        if message:
            self.fail(message)


if __name__ == "__main__":
    unittest.main()

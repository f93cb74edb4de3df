#!/usr/bin/env python3
"""Runs ringproxy's integration tests (tests/integration/test_*.py) with unittest, verbosely,
and closes with one line `N passed, N failed, N skipped`; exits 1 if anything failed.

  RINGPROXY=build/ringproxy python3 tests/integration/run.py [PATTERN ...]

RINGPROXY      the proxy binary (required). /usr/sbin/nutcracker runs the suite against
               twemproxy as a harness check: ringproxy-only tests are skipped.
RINGPROXY_IO   uring | epoll | auto, passed to the proxy as --io=VALUE (default: not passed).
RP_SUITE_TIMEOUT  seconds before a watchdog stops a stuck run (default 900).
PATTERN        keep only tests whose id (module.Class.test_name) contains PATTERN or matches it
               as a shell glob, e.g. `CommandTests` or `*pipelin*`.
"""

import faulthandler
import fnmatch
import os
import signal
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rp_helpers  # noqa: E402  (after the path is set)


class CountingResult(unittest.TextTestResult):
    """Counts each test once, as it finishes (so the watchdog can report a partial run): failed
    if it or any of its subtests failed or errored, else passed, else skipped. A class or
    module fixture that errors counts as one failure."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome = {}  # test id -> "failed" | "passed" | "skipped"

    def _note(self, test, outcome):
        test = getattr(test, "test_case", test)  # a subtest counts for its test
        key = test.id()
        rank = {"skipped": 0, "passed": 1, "failed": 2}
        if rank[outcome] >= rank.get(self.outcome.get(key), -1):
            self.outcome[key] = outcome

    def addSuccess(self, test):
        super().addSuccess(test)
        self._note(test, "passed")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._note(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._note(test, "failed")

    def addError(self, test, err):
        super().addError(test, err)
        self._note(test, "failed")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._note(test, "failed")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._note(test, "skipped")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._note(test, "failed")

    def counts(self):
        values = list(self.outcome.values())
        return values.count("passed"), values.count("failed"), values.count("skipped")


def iter_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def selected(test, patterns):
    if not patterns:
        return True
    # keep import and discovery failures visible whatever the filter
    if type(test).__name__ == "_FailedTest":
        return True
    tid = test.id()
    return any(p in tid or fnmatch.fnmatchcase(tid, "*" + p + "*") for p in patterns)


def closing_line(passed, failed, skipped):
    sys.stderr.flush()
    sys.stdout.flush()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)


def main(argv):
    patterns = [a for a in argv[1:] if a]
    try:
        binary = rp_helpers.proxy_binary()
    except RuntimeError as e:
        print("run.py: %s" % e, file=sys.stderr)
        return 2
    os.environ["RINGPROXY"] = binary
    io = rp_helpers.io_mode()
    if io and io not in ("uring", "epoll", "auto"):
        print("run.py: RINGPROXY_IO must be uring, epoll or auto, not %r" % io, file=sys.stderr)
        return 2
    print("integration: RINGPROXY=%s%s%s" % (
        binary, " RINGPROXY_IO=%s" % io if io else "",
        " (nutcracker: harness check, ringproxy-only tests skipped)"
        if rp_helpers.is_nutcracker(binary) else ""), flush=True)

    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = [t for t in iter_tests(suite) if selected(t, patterns)]
    suite = unittest.TestSuite(tests)

    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult, stream=sys.stderr)
    result_box = []

    def on_signal(signum, frame):
        rp_helpers.cleanup_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    # Watchdog: every socket op has a timeout, but a bug in a test could still spin; never let
    # a run hang CI. Dumps every thread's stack, kills what we started, reports, exits.
    limit = float(os.environ.get("RP_SUITE_TIMEOUT", "900"))
    done = threading.Event()

    def watchdog():
        if done.wait(limit):
            return
        print("\nrun.py: suite exceeded %.0fs, stopping" % limit, file=sys.stderr)
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        rp_helpers.cleanup_all()
        passed, failed, skipped = result_box[0].counts() if result_box else (0, 0, 0)
        closing_line(passed, failed + 1, skipped)
        os._exit(1)

    threading.Thread(target=watchdog, daemon=True).start()

    # keep a handle on the result as soon as the runner creates it
    orig_make = runner._makeResult

    def make_result():
        r = orig_make()
        result_box.append(r)
        return r

    runner._makeResult = make_result
    try:
        result = runner.run(suite)
    finally:
        done.set()
        rp_helpers.cleanup_all()
    passed, failed, skipped = result.counts()
    if not result.wasSuccessful():
        failed = max(failed, 1)
    closing_line(passed, failed, skipped)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Start-up: a start that fails never touches a client (its listeners only listen once every part
of the process has started), and the default worker count is the CPUs the process may use (its
affinity mask here; the cgroup quota is unit-tested in tests/test_cpus.c).

Real processes on loopback ports chosen at run time; nothing asserts on speed."""

import errno
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import HOST, ringproxy_only  # noqa: E402


def write_conf(workdir, port, servers):
    path = os.path.join(workdir, "nutcracker.yml")
    with open(path, "w") as f:
        f.write(rp.yaml_conf({"alpha": dict(rp.default_pool(servers),
                                            listen="%s:%d" % (HOST, port))}))
    return path


@ringproxy_only("start-up order and worker count")
class StartupTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.mc = rp.start_memcached()

    @classmethod
    def tearDownClass(cls):
        cls.mc.kill()

    def test_failed_start_accepts_no_client(self):
        """The stats port is taken, so the start fails; a client hammering the pool's port all
        along is refused every time: no connection is accepted and then reset. Eight workers,
        so that the start takes a while."""
        taken = socket.socket()
        taken.bind((HOST, 0))
        taken.listen(1)
        stats_port = taken.getsockname()[1]
        port = rp.free_port()
        workdir = rp.make_temp_dir("rp-start-")
        conf = write_conf(workdir, port, [self.mc.port])
        outcomes = {"refused": 0, "accepted": 0, "other": 0}
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                s = socket.socket()
                s.settimeout(0.2)
                try:
                    s.connect((HOST, port))
                    outcomes["accepted"] += 1
                except ConnectionRefusedError:
                    outcomes["refused"] += 1
                except OSError:
                    outcomes["other"] += 1
                finally:
                    s.close()

        t = threading.Thread(target=hammer, daemon=True)
        t.start()
        try:
            for _ in range(5):
                proc = subprocess.run(
                    [rp.proxy_binary(), "-c", conf, "-s", str(stats_port), "-a", HOST,
                     "--workers=8", "-o", os.path.join(workdir, "proxy.log")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(b"stats", proc.stderr)
        finally:
            stop.set()
            t.join(5)
            taken.close()
        self.assertEqual(outcomes["accepted"], 0, outcomes)
        self.assertGreater(outcomes["refused"], 0, outcomes)

    def test_default_workers_follow_the_affinity_mask(self):
        """Pinned to one CPU, the default is one worker, and the log says why; --workers still
        decides when given."""
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest("needs two CPUs")
        workdir = rp.make_temp_dir("rp-start-")
        for extra, want, reason in (([], 1, b"one per CPU this process may use (1 of"),
                                    (["--workers=3"], 3, b"as --workers says")):
            port = rp.free_port()
            conf = write_conf(workdir, port, [self.mc.port])
            log = os.path.join(workdir, "proxy-%d.log" % port)
            proc = subprocess.Popen(
                [rp.proxy_binary(), "-c", conf, "-s", str(rp.free_port()), "-a", HOST, "-o", log]
                + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
            try:
                self.assertTrue(rp.wait_port(port, None, rp.START_TIMEOUT))
                with rp.MemcacheClient(port) as c:
                    self.assertTrue(c.version().startswith(b"VERSION "))
            finally:
                proc.terminate()
                proc.wait(10)
            with open(log, "rb") as f:
                text = f.read()
            self.assertIn(b"workers: %d, " % want, text)
            self.assertIn(reason, text)
            self.assertIn(b"%d workers" % want, text)


if __name__ == "__main__":
    unittest.main()

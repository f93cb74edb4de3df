"""Zero-copy sends (ringproxy: zero_copy_min) against real memcached: values around and far
above the threshold stored and read back byte for byte (single gets and multi-gets over three
servers, so requests and replies both go zero-copy), clients that vanish while their replies
are still held by the kernel, and the counters. Two workers, both engines (run.py's
RINGPROXY_IO): the epoll engine has no zero-copy sends and says so once, then serves the same.

Nothing here asserts on speed: bench/zerocopy measures what zero-copy costs and saves."""

import os
import random
import socket
import sys
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import MemcacheClient, expect, ringproxy_only, run_threads, wait_until  # noqa: E402

WORKERS = 2
THRESHOLD = 16384
MIB = 1 << 20


def value_of(key, size):
    """A value that names its key at every 64 bytes, so that a byte out of place shows."""
    unit = (b"%08x" % zlib.crc32(key.encode())) * 8
    return (unit * (size // len(unit) + 1))[:size]


@ringproxy_only("zero_copy_min is a ringproxy key")
class ZeroCopy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = [rp.start_memcached(extra_args=("-I", "2m", "-m", "256")) for _ in range(3)]
        pool = rp.default_pool([s.port for s in cls.servers], max_value_size=2 * MIB)
        cls.proxy = rp.start_ringproxy({"ringproxy": {"zero_copy_min": THRESHOLD},
                                        "alpha": pool}, workers=WORKERS)
        cls.port = cls.proxy.pools["alpha"]

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for s in cls.servers:
            s.stop()

    def tearDown(self):
        self.assertEqual(self.proxy.health_problems(), [])

    def counters(self):
        return self.proxy.stats()["ringproxy"]

    def uring(self):
        return self.counters()["engine"] == "uring"

    def test_values_byte_exact(self):
        sizes = [100, THRESHOLD - 40, THRESHOLD, THRESHOLD + 1, 100000, 524288, MIB,
                 2 * MIB - 4096]
        before = self.counters()

        def client(t):
            rnd = random.Random(t)
            keys = ["zc:%d:%d" % (t, i) for i in range(len(sizes))]
            with MemcacheClient(self.port, timeout=30) as c:
                for k, n in zip(keys, sizes):
                    line = c.set(k, value_of(k, n))
                    expect(line == b"STORED", "set %s (%d bytes): %r" % (k, n, line))
                for _ in range(3):
                    i = rnd.randrange(len(keys))
                    _, items = c.get_multi([keys[i]])
                    expect(items == [(keys[i], 0, value_of(keys[i], sizes[i]), None)],
                           "get %s: %r" % (keys[i], items and [x[:2] for x in items]))
                # one multi-get over every server: a merged reply of fragments
                _, items = c.get_multi(keys)
                expect(items is not None and [x[0] for x in items] == keys,
                       "multi-get: %r" % (items and [x[:2] for x in items]))
                for (k, _, data, _), n in zip(items, sizes):
                    expect(data == value_of(k, n), "multi-get %s: %d bytes differ" % (k, n))

        self.assertEqual(run_threads(client, 8, 120), [])
        after = self.counters()
        sends = after["zc_sends"] - before["zc_sends"]
        copied = after["zc_copied"] - before["zc_copied"]
        if self.uring():
            self.assertGreater(sends, 0, after)
            self.assertLessEqual(copied, sends)
        else:
            self.assertEqual(sends, 0, after)
            self.assertIn("zero_copy_min: %d ignored" % THRESHOLD, self.proxy.log_text())

    def test_clients_vanish_with_replies_held(self):
        """A client that asks for megabytes and goes away without reading: whatever the kernel
        still holds is released when it lets go, the connections and buffers are all given
        back, and the others are served."""
        key = "zc:big"
        with MemcacheClient(self.port, timeout=30) as c:
            self.assertEqual(c.set(key, value_of(key, MIB)), b"STORED")
        base = self.counters()["buffers_held"]

        def vanish(t):
            for i in range(10):
                s = socket.create_connection((rp.HOST, self.port), timeout=10)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"get zc:big\r\n" * 16)
                if i % 2:
                    # a reset: the kernel drops what it queued for this client at once
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                s.recv(1000)
                s.close()

        self.assertEqual(run_threads(vanish, 6, 120), [])
        self.assertTrue(wait_until(
            lambda: self.proxy.stats()["alpha"]["client_connections"] == 0, 10),
            self.proxy.stats()["alpha"])
        self.assertTrue(wait_until(lambda: self.counters()["buffers_held"] <= base, 10),
                        "buffers held: %d, before: %d" % (self.counters()["buffers_held"], base))
        with MemcacheClient(self.port, timeout=30) as c:
            _, items = c.get_multi([key])
            self.assertEqual(items, [(key, 0, value_of(key, MIB), None)])

if __name__ == "__main__":
    unittest.main()

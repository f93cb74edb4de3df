"""The stats port: nutcracker's JSON for a raw connection, and HTTP (`GET /stats`, `GET /metrics`
in Prometheus's text format, 404 otherwise). The exposition is read with Debian's
python3-prometheus-client parser; its figures must agree with the JSON's and with the traffic
sent, summed over two workers. Real memcached and redis-server on loopback ports chosen at run
time."""

import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402
from rp_helpers import HOST, MemcacheClient, ringproxy_only  # noqa: E402


def import_prometheus_parser():
    """prometheus_client's text parser, or None (Debian installs it for the system python3;
    another python3 tries that dist-packages directory last: the library is pure Python)."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
        return text_string_to_metric_families
    except ImportError:
        pass
    dist = "/usr/lib/python3/dist-packages"
    if dist not in sys.path:
        sys.path.append(dist)
    try:
        from prometheus_client.parser import text_string_to_metric_families
        return text_string_to_metric_families
    except ImportError:
        return None


PARSE = import_prometheus_parser()


def http_get(port, path, method="GET", timeout=5):
    """(status, headers dict, body bytes) of one HTTP/1.1 request."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\n\r\n" % (method, path)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    assert int(headers["content-length"]) == len(body), (headers, len(body))
    return status, headers, body


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition, through the real parser."""
    out = {}
    for fam in PARSE(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


@ringproxy_only("HTTP on the stats port")
class MetricsTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if PARSE is None:
            raise unittest.SkipTest("python3-prometheus-client is not installed")
        cls.mcs = [rp.start_memcached() for _ in range(2)]
        cls.redis = rp.start_redis()
        cls.port, cls.rport = rp.free_port(), rp.free_port()
        conf = {
            "mc": {"listen": "%s:%d" % (HOST, cls.port),
                   "servers": ["%s:%d:1" % (HOST, m.port) for m in cls.mcs]},
            "rd": {"listen": "%s:%d" % (HOST, cls.rport), "redis": True,
                   "servers": ["%s:%d:1" % (HOST, cls.redis.port)]},
        }
        cls.proxy = rp.start_ringproxy(conf, workers=2)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.terminate()
        for m in cls.mcs:
            m.kill()
        cls.redis.kill()

    def test_raw_connection_gets_json(self):
        st = rp.stats_json(self.proxy.stats_port)
        self.assertEqual(st["service"], "nutcracker")
        self.assertIn("mc", st)
        self.assertIn("conf_checksum", st["ringproxy"])

    def test_get_stats_is_the_json(self):
        status, headers, body = http_get(self.proxy.stats_port, "/stats")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        st = json.loads(body)
        self.assertEqual(sorted(st["mc"]), sorted(rp.stats_json(self.proxy.stats_port)["mc"]))

    def test_404_and_405(self):
        self.assertEqual(http_get(self.proxy.stats_port, "/nope")[0], 404)
        self.assertEqual(http_get(self.proxy.stats_port, "/metrics", method="POST")[0], 405)

    def test_metrics_agree_with_traffic_and_json(self):
        n = 300
        conns = [MemcacheClient(self.port) for _ in range(6)]  # over both workers
        try:
            for i in range(n):
                c = conns[i % len(conns)]
                self.assertEqual(c.set("m%d" % i, "v"), b"STORED")
                self.assertEqual(c.get("m%d" % i), b"v")
        finally:
            for c in conns:
                c.close()
        status, headers, body = http_get(self.proxy.stats_port, "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        got = samples(body.decode())
        st = rp.stats_json(self.proxy.stats_port)
        total_req = total_count = total_sum = 0
        for srv in ("%s:%d" % (HOST, m.port) for m in self.mcs):
            labels = frozenset({"pool": "mc", "server": srv}.items())
            req = got[("ringproxy_server_requests_total", labels)]
            # the JSON was read after the exposition: it can only have grown
            self.assertLessEqual(req, st["mc"][srv]["requests"])
            total_req += req
            # the histogram: cumulative buckets, +Inf == _count == replies counted
            buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in got.items()
                              if k[0] == "ringproxy_server_request_duration_seconds_bucket"
                              and dict(k[1]).get("server") == srv), key=lambda x: x[0])
            self.assertEqual(len(buckets), 27)
            self.assertEqual(buckets[0][0], 25e-6)
            self.assertEqual(buckets[-2][0], 10.0)
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), "buckets are not cumulative")
            count = got[("ringproxy_server_request_duration_seconds_count", labels)]
            self.assertEqual(counts[-1], count)
            self.assertEqual(count, got[("ringproxy_server_responses_total", labels)])
            total_sum += got[("ringproxy_server_request_duration_seconds_sum", labels)]
            total_count += count
        self.assertGreaterEqual(total_req, 2 * n)
        self.assertGreaterEqual(total_count, 2 * n)
        self.assertGreater(total_sum, 0, "%d replies timed, their durations add up to 0"
                           % total_count)
        cmd = lambda c: got.get(("ringproxy_pool_commands_total",  # noqa: E731
                                 frozenset({"pool": "mc", "command": c}.items())), 0)
        self.assertGreaterEqual(cmd("set"), n)
        self.assertGreaterEqual(cmd("get"), n)
        info = [k for k in got if k[0] == "ringproxy_info"]
        self.assertEqual(dict(info[0][1])["engine"], st["ringproxy"]["engine"])
        self.assertEqual(got[("ringproxy_workers", frozenset())], 2)
        self.assertIn(("ringproxy_config_reloads_total", frozenset({"result": "ok"}.items())),
                      got)

    def test_redis_pool_commands(self):
        c = rp.RespClient(self.rport)
        try:
            for i in range(20):
                c.command("SET", "r%d" % i, "v")
            c.command("GET", "r1")
        finally:
            c.close()
        got = samples(http_get(self.proxy.stats_port, "/metrics")[2].decode())
        self.assertGreaterEqual(got[("ringproxy_pool_commands_total",
                                     frozenset({"pool": "rd", "command": "set"}.items()))], 20)

    def test_slow_client_does_not_block_others(self):
        slow = socket.create_connection((HOST, self.proxy.stats_port), timeout=5)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /metr")  # half a request, and then nothing
        t0 = time.monotonic()
        status, _, body = http_get(self.proxy.stats_port, "/metrics")
        self.assertEqual(status, 200)
        self.assertLess(time.monotonic() - t0, 1.5, "a half request held the stats port up")
        samples(body.decode())


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Runs loadgen against real memcached, redis-server and nutcracker on loopback ports chosen at
run time, next to redis-benchmark for redis, and prints the figures MEASUREMENTS.md has. Every
process it starts is stopped at the end. A benchmark, not a test: it asserts nothing about speed.

usage: bench/validate_loadgen.py [--loadgen PATH] [--duration S] [--reps N] [--only SUBSTR]
"""
import argparse
import json
import resource
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def cpu_seconds(pid):
    """utime + stime of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def mc_counters(port):
    """cmd_get (keys) + cmd_set of a memcached."""
    with socket.create_connection(("127.0.0.1", port), 2) as c:
        c.sendall(b"stats\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
    st = dict(l.split()[1:3] for l in buf.decode().splitlines() if l.startswith("STAT "))
    return int(st["cmd_get"]) + int(st["cmd_set"])


def redis_counter(port):
    """A function returning total_commands_processed of a redis-server, less the INFO
    commands it sent itself (each one counts after it has run)."""
    calls = [0]

    def read():
        with socket.create_connection(("127.0.0.1", port), 2) as c:
            c.sendall(b"*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n")
            buf = b""
            while True:
                chunk = c.recv(65536)
                buf += chunk
                head, _, rest = buf.partition(b"\r\n")
                if not chunk or (rest and len(rest) >= int(head[1:]) + 2):
                    break
        n = 0
        for line in buf.decode().splitlines():
            if line.startswith("total_commands_processed:"):
                n = int(line.split(":")[1]) - calls[0]
        calls[0] += 1
        return n

    return read


class Cluster:
    """memcached x4, redis-server x1 and nutcracker in front of both, on free ports."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []
        self.mc = [free_port() for _ in range(4)]
        self.redis = free_port()
        self.nc_mc, self.nc_redis, self.nc_stats = free_port(), free_port(), free_port()

    def spawn(self, args, port):
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_port(port, p)
        return p

    def start(self):
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.mc_procs = [
            self.spawn(["memcached", *user, "-l", "127.0.0.1", "-p", str(p), "-U", "0", "-t", "1",
                        "-c", "12000"], p)
            for p in self.mc]
        self.redis_proc = self.spawn(
            ["redis-server", "--port", str(self.redis), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--maxclients", "12000"], self.redis)
        self.start_nutcracker()

    def start_nutcracker(self):
        conf = os.path.join(self.tmp, "nc.yml")
        with open(conf, "w") as f:
            f.write(f"mc4:\n  listen: 127.0.0.1:{self.nc_mc}\n  hash: fnv1a_64\n"
                    "  distribution: ketama\n  timeout: 2000\n  auto_eject_hosts: false\n"
                    "  servers:\n")
            for p in self.mc:
                f.write(f"   - 127.0.0.1:{p}:1\n")
            f.write(f"rd1:\n  listen: 127.0.0.1:{self.nc_redis}\n  hash: fnv1a_64\n"
                    "  distribution: ketama\n  redis: true\n  timeout: 2000\n"
                    f"  servers:\n   - 127.0.0.1:{self.redis}:1\n")
        self.nc_proc = self.spawn(["nutcracker", "-c", conf, "-s", str(self.nc_stats),
                                   "-a", "127.0.0.1", "-o", os.path.join(self.tmp, "nc.log")],
                                  self.nc_mc)
        wait_port(self.nc_redis, self.nc_proc)

    def restart_nutcracker(self):
        self.stop_one(self.nc_proc)
        self.start_nutcracker()

    def stop_one(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self):
        for p in self.procs:
            self.stop_one(p)


def loadgen(lg, port, args, dur, watch_pid=None, counter=None):
    """One loadgen run, no warmup, so that the server's CPU and its own request counter over
    the whole run (setup and drain are a few ms) compare with the window's figures."""
    cmd = [lg, "-s", f"127.0.0.1:{port}", "-D", str(dur), "--json", *args]
    c0 = cpu_seconds(watch_pid) if watch_pid else 0
    n0 = counter() if counter else 0
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=dur + 120)
    c1 = cpu_seconds(watch_pid) if watch_pid else 0
    r = json.loads(out.stdout)
    r["server_cpu_us_per_op"] = (c1 - c0) * 1e6 / r["requests"] if r["requests"] else 0
    if counter:
        r["server_counted"] = counter() - n0
    return r


def redis_benchmark(port, conns, pipeline, n):
    cmd = ["redis-benchmark", "-p", str(port), "-c", str(conns), "-n", str(n), "-t", "get",
           "-d", "100", "-r", "100000", "-P", str(pipeline), "--csv"]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    for line in out.splitlines():
        if line.startswith('"GET"'):
            f = [x.strip('"') for x in line.split(",")]
            return {"ops_per_sec": float(f[1]), "p50_us": float(f[4]) * 1e3,
                    "p99_us": float(f[6]) * 1e3, "client_cpu_us_per_op": cpu * 1e6 / n}
    raise RuntimeError("redis-benchmark: no GET line:\n" + out)


def median_run(fn, reps):
    runs = [fn() for _ in range(reps)]
    runs.sort(key=lambda r: r["ops_per_sec"])
    return runs[len(runs) // 2], [r["ops_per_sec"] for r in runs]


def row(name, r, spread, ref):
    extra = ""
    if "keys_per_sec" in r and r.get("keys_per_sec") != r["ops_per_sec"]:
        extra += f" keys/s {r['keys_per_sec']:,.0f}"
    if r.get("server_cpu_us_per_op"):
        extra += f" server {r['server_cpu_us_per_op']:.1f} cpu-us/op"
    if "client_cpu_us_per_op" in r:
        extra += f" client {r['client_cpu_us_per_op']:.1f} cpu-us/op"
    if "server_counted" in r:
        want = r["keys_requested"]
        extra += f" server counted {r['server_counted']:,} of {want:,}"
    if r.get("misses"):
        extra += f" misses {r['misses']}"
    if r.get("errors") or r.get("incomplete") or r.get("connections_failed"):
        extra += (f" errors {r.get('errors')} incomplete {r.get('incomplete')}"
                  f" failed {r.get('connections_failed')}")
    lo, hi = min(spread), max(spread)
    print(f"{name:58s} {r['ops_per_sec']:>10,.0f} ops/s [{lo:,.0f}..{hi:,.0f}]"
          f" p50 {r['p50_us']:.0f} us p99 {r['p99_us']:.0f} us{extra}  (ref: {ref})", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loadgen", default=os.path.join(HERE, "build", "loadgen"))
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    for tool in ("memcached", "redis-server", "nutcracker", "redis-benchmark"):
        if shutil.which(tool) is None:
            sys.exit(f"validate_loadgen: {tool} is not installed (make deps)")
    if not os.access(a.loadgen, os.X_OK):
        sys.exit(f"validate_loadgen: no {a.loadgen}: run make -C bench")

    tmp = tempfile.mkdtemp(prefix="lgval-")
    cl = Cluster(tmp)
    try:
        cl.start()
        lg, d, reps = a.loadgen, a.duration, a.reps
        mc0, mcpid, ncpid = cl.mc[0], cl.mc_procs[0].pid, cl.nc_proc.pid
        print(f"# {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} at start; "
              f"{d:g} s windows, median of {reps}; 100-byte values, 90% get unless noted; "
              "keys prefilled unless noted")
        # every key set once, directly on the first memcached and through nutcracker
        for port in (mc0, cl.nc_mc):
            loadgen(lg, port, ["--prefill", "-c", "32", "-d", "16", "-n", "1"], 0.01)
        mcc = lambda: mc_counters(mc0)

        cases = [
            ("memcached direct, 32 conns, no pipelining", mc0, mcpid, mcc,
             ["-c", "32"], "107k ops/s, p99 0.50 ms"),
            ("memcached direct, 32 conns, no pipelining, 10M keys (misses)", mc0, mcpid, mcc,
             ["-c", "32", "-k", "10000000"], "107k ops/s, p99 0.50 ms"),
            ("memcached direct, 16 conns, pipeline 16", mc0, mcpid, mcc,
             ["-c", "16", "-d", "16"], "168k"),
            ("memcached direct, 8 conns, 100-key multi-get", mc0, mcpid, mcc,
             ["-c", "8", "-w", "100", "--ratio", "0:1"], "129k (unit not stated)"),
            ("nutcracker, 4 memcached, 32 conns, no pipelining", cl.nc_mc, ncpid, None,
             ["-c", "32"], "62.6k, p99 0.99 ms, 13.1 cpu-us/op"),
            ("nutcracker, 4 memcached, 16 conns, pipeline 16", cl.nc_mc, ncpid, None,
             ["-c", "16", "-d", "16"], "175-227k, 3.7 cpu-us/op"),
            ("nutcracker, 4 memcached, 8 conns, 100-key multi-get", cl.nc_mc, ncpid, None,
             ["-c", "8", "-w", "100", "--ratio", "0:1"], "50k (unit not stated)"),
        ]
        for name, port, pid, counter, args, ref in cases:
            if a.only in name:
                r, spread = median_run(lambda: loadgen(lg, port, args, d, pid, counter), reps)
                row(name, r, spread, ref)

        rcases = [
            ("redis direct, GET, 32 conns", cl.redis, cl.redis_proc.pid, 32, 1, "87k"),
            ("redis direct, GET, 32 conns, pipeline 16", cl.redis, cl.redis_proc.pid, 32, 16,
             "1.39M"),
            ("nutcracker redis, GET, 32 conns", cl.nc_redis, ncpid, 32, 1, "63k"),
            ("nutcracker redis, GET, 32 conns, pipeline 16", cl.nc_redis, ncpid, 32, 16,
             "410k"),
        ]
        for name, port, pid, conns, pipe, ref in rcases:
            if a.only not in name:
                continue
            args = ["-P", "redis", "-c", str(conns), "-d", str(pipe), "--ratio", "0:1"]
            counter = redis_counter(cl.redis) if port == cl.redis else None
            r, spread = median_run(lambda: loadgen(lg, port, args, d, pid, counter), reps)
            row("loadgen " + name, r, spread, ref)
            n = int(max(r["ops_per_sec"], 20000) * d)
            r, spread = median_run(lambda: redis_benchmark(port, conns, pipe, n), reps)
            row("redis-benchmark " + name, r, spread, ref)

        if a.only in "idle":
            for touch in ([], ["--idle-touch"]):
                cl.restart_nutcracker()
                pid = cl.nc_proc.pid
                before = rss_kib(pid)
                p = subprocess.Popen([lg, "-s", f"127.0.0.1:{cl.nc_mc}", "--idle", "9000",
                                      "-D", "4", "--json", *touch],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                line = p.stderr.readline()  # "... idle connections open after ..."
                time.sleep(1)
                during = rss_kib(pid)
                out, _ = p.communicate(timeout=120)
                r = json.loads(out)
                print(f"nutcracker RSS per idle client conn, 9000 conns{' touched' if touch else ''}"
                      f": {(during - before) * 1024 / 9000:,.0f} B "
                      f"({r['connections_established']} established, "
                      f"{r['connections_failed']} failed) (ref: 2.2 KiB) | {line.strip()}",
                      flush=True)
        print(f"# load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        cl.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

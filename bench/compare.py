#!/usr/bin/env python3
"""bench/compare: ringproxy against memcached, redis-server, the floor and nutcracker, on loopback.

Starts 4 memcached and 4 redis-server on ports chosen at run time (only the backends that the
selected workloads use), then, INTERLEAVED over several rounds (within a round every workload
runs once on every target, the targets in a new shuffled order each round, so that drift on a
shared machine hits all targets alike):

  4-server pool   nutcracker, ringproxy io_uring / epoll (1 worker, then --workers = cores)
  one server      floor, nutcracker, ringproxy io_uring / epoll, each in front of memcached #0
  direct          memcached #0 itself
  redis           redis-server #0 itself; nutcracker and ringproxy io_uring / epoll (1 worker)
                  with a `redis: true` pool over redis-server #0 (r1, r2) or all 4 (r3)

For each run: loadgen's throughput and latency, the target's CPU per request (utime + stime from
/proc/PID/stat), its system calls per request (perf, raw_syscalls:sys_enter, in a separate
window of the same run: see measure()), its resident memory, and the backends' CPU per request.
Then memory per idle connection (10,000 connections, fresh processes) and an open-loop rate sweep
of workload 1 for the latency-vs-throughput plot. Writes DIR/results.json (every raw run),
DIR/RESULTS.md (medians, ratios), DIR/latency.svg and DIR/latency.png. A benchmark, not a test:
it asserts nothing about speed. Every process it starts is stopped at the end (process groups,
try/finally, SIGTERM/SIGINT handled).

usage: bench/compare [--quick] [--rounds N] [--duration S] [--out DIR] [--only W[,W...]]
                     [--no-perf] [--no-sweep] [--no-idle] [--idle-rounds N] [--sweep-duration S]
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NPROC = os.cpu_count() or 1
TICK = os.sysconf("SC_CLK_TCK")

# Keyspaces, prefilled once (through the 4-server pool, and straight into backend #0, which
# serves the direct and one-server targets), so that every get hits. The redis workloads use
# "small" only.
KEYSPACES = {
    "small": dict(prefix="key:", keys=100000, value=100),
    "16k": dict(prefix="v16k:", keys=4000, value=16384),
    "512k": dict(prefix="v512k:", keys=128, value=524288),
}

# The workloads. args are loadgen's; lead is how long after loadgen starts the first sample is
# taken (connections set up, steady state reached); groups: the target groups (TARGETS) that run
# it; fleet: the backends it talks to (FLEETS; default memcached). Workload 5 (idle connections)
# and the sweep are run apart from the rounds.
WORKLOADS = [
    dict(id="w1", title="32 connections, no pipelining, 90% get / 10% set, 100 B",
         conns=32, args=["-c", "32", "-t", "1", "-d", "1"], space="small", width=1,
         groups=("pool4", "one")),
    dict(id="w2", title="32 connections, pipeline 16, 90% get / 10% set, 100 B",
         conns=32, args=["-c", "32", "-t", "1", "-d", "16"], space="small", width=1,
         groups=("pool4", "one")),
    dict(id="w3", title="8 connections, 100-key multi-gets (gets only), 100 B",
         conns=8, args=["-c", "8", "-t", "1", "-d", "1", "-w", "100", "--ratio", "0:1"],
         space="small", width=100, groups=("pool4", "one")),
    dict(id="w3-16", title="8 connections, 16-key multi-gets (gets only), 100 B",
         conns=8, args=["-c", "8", "-t", "1", "-d", "1", "-w", "16", "--ratio", "0:1"],
         space="small", width=16, groups=("pool4",)),
    dict(id="w4", title="1,000 connections, open loop at 40,000 requests/s, 90% get, 100 B",
         conns=1000, args=["-c", "1000", "-t", "2", "-d", "1", "-r", "40000"], space="small",
         width=1, lead=1.3, rate=40000, groups=("pool4", "one")),
    # w6 only on the 4-server pool: time
    dict(id="w6-16k", title="32 connections, no pipelining, 90% get / 10% set, 16 KiB values",
         conns=32, args=["-c", "32", "-t", "1", "-d", "1"], space="16k", width=1,
         groups=("pool4",)),
    dict(id="w6-512k", title="8 connections, no pipelining, 90% get / 10% set, 512 KiB values",
         conns=8, args=["-c", "8", "-t", "1", "-d", "1"], space="512k", width=1,
         groups=("pool4",)),
    # memcached's meta commands (mg, ms; a multi-key read is quiet gets and an mn): nutcracker
    # does not carry them, so it sits these out (exclude)
    dict(id="m1", title="meta, 32 connections, no pipelining, 90% mg / 10% ms, 100 B",
         conns=32, args=["-P", "meta", "-c", "32", "-t", "1", "-d", "1"], space="small",
         width=1, groups=("pool4",), exclude=("nc4",)),
    dict(id="m2", title="meta, 8 connections, 100 quiet mg and an mn per request (reads only), "
         "100 B", conns=8, args=["-P", "meta", "-c", "8", "-t", "1", "-d", "1", "-w", "100",
                                 "--ratio", "0:1"], space="small", width=100, groups=("pool4",),
         exclude=("nc4",)),
    # redis (RESP2: GET, SET, MGET), last so that the memcached workloads keep their seeds
    dict(id="r1", title="redis, 32 connections, no pipelining, 90% GET / 10% SET, 100 B",
         conns=32, args=["-P", "redis", "-c", "32", "-t", "1", "-d", "1"], space="small",
         width=1, groups=("rd1",), fleet="redis"),
    dict(id="r2", title="redis, 32 connections, pipeline 16, 90% GET / 10% SET, 100 B",
         conns=32, args=["-P", "redis", "-c", "32", "-t", "1", "-d", "16"], space="small",
         width=1, groups=("rd1",), fleet="redis"),
    dict(id="r3", title="redis, 8 connections, MGET of 100 keys (reads only), 100 B",
         conns=8, args=["-P", "redis", "-c", "8", "-t", "1", "-d", "1", "-w", "100", "--ratio",
                        "0:1"], space="small", width=100, groups=("rd4",), fleet="redis"),
]
WL = {w["id"]: w for w in WORKLOADS}

# The targets, by group (the ratio columns and their reference rows: compare_report.GROUPS).
# "pool4": the main comparison; "one": the one-server comparison (the floor distance);
# memcached #0 direct belongs to both. "rd1" / "rd4": redis pools over redis-server #0 / all 4;
# redis-server #0 direct belongs to both. The floor frames memcached text only (floor.c), so it
# has no redis row. The order is the one a round shuffles (seeded): keep it.
TARGETS = [
    dict(id="mc", label="memcached (direct)", kind="memcached", groups=("pool4", "one")),
    dict(id="nc4", label="nutcracker", kind="nutcracker", pool=4, groups=("pool4",)),
    dict(id="rpu4", label="ringproxy/io_uring", kind="ringproxy", pool=4, io="uring", workers=1,
         groups=("pool4",)),
    dict(id="rpe4", label="ringproxy/epoll", kind="ringproxy", pool=4, io="epoll", workers=1,
         groups=("pool4",)),
    dict(id="rpu4w", label=f"ringproxy/io_uring x{NPROC}w", kind="ringproxy", pool=4, io="uring",
         workers=NPROC, groups=("pool4",)),
    dict(id="rpe4w", label=f"ringproxy/epoll x{NPROC}w", kind="ringproxy", pool=4, io="epoll",
         workers=NPROC, groups=("pool4",)),
    dict(id="floor", label="floor/io_uring", kind="floor", pool=1, io="uring", groups=("one",)),
    dict(id="nc1", label="nutcracker", kind="nutcracker", pool=1, groups=("one",)),
    dict(id="rpu1", label="ringproxy/io_uring", kind="ringproxy", pool=1, io="uring", workers=1,
         groups=("one",)),
    dict(id="rpe1", label="ringproxy/epoll", kind="ringproxy", pool=1, io="epoll", workers=1,
         groups=("one",)),
    dict(id="rd", label="redis-server (direct)", kind="redis", groups=("rd1", "rd4"),
         fleet="redis"),
    dict(id="ncr1", label="nutcracker", kind="nutcracker", pool=1, groups=("rd1",),
         fleet="redis"),
    dict(id="rpur1", label="ringproxy/io_uring", kind="ringproxy", pool=1, io="uring", workers=1,
         groups=("rd1",), fleet="redis"),
    dict(id="rper1", label="ringproxy/epoll", kind="ringproxy", pool=1, io="epoll", workers=1,
         groups=("rd1",), fleet="redis"),
    dict(id="ncr4", label="nutcracker", kind="nutcracker", pool=4, groups=("rd4",),
         fleet="redis"),
    dict(id="rpur4", label="ringproxy/io_uring", kind="ringproxy", pool=4, io="uring", workers=1,
         groups=("rd4",), fleet="redis"),
    dict(id="rper4", label="ringproxy/epoll", kind="ringproxy", pool=4, io="epoll", workers=1,
         groups=("rd4",), fleet="redis"),
]
TG = {t["id"]: t for t in TARGETS}

# The backends: 4 of each kind, started only when a selected workload uses them. server: the
# binary; direct: the target that is backend #0 itself; prefill_via: the 4-server nutcracker
# pool that places the keys (ketama) where the proxies look for them; warm: the workload that
# warms a target up; protocol: loadgen's -P.
FLEETS = {
    "memcached": dict(server="memcached", direct="mc", prefill_via="nc4", warm="w1",
                      protocol="memcache"),
    "redis": dict(server="redis-server", direct="rd", prefill_via="ncr4", warm="r1",
                  protocol="redis"),
}
BACKEND_KINDS = ("memcached", "redis")  # a direct target: its CPU is a backend's


def fleet_of(x):
    """The fleet a workload or a target belongs to."""
    return x.get("fleet", "memcached")


SWEEP_TARGETS = ["mc", "floor", "nc4", "rpu4", "rpe4", "rpu1"]
SWEEP_RATES = [10000, 25000, 40000, 55000, 70000, 85000, 100000, 120000, 150000]
IDLE_TARGETS = ["mc", "floor", "nc4", "rpu4", "rpe4", "rpu4w", "nc1", "rpu1", "rpe1"]
IDLE_CONNS = 10000

WARMUP = 0.5  # s of unmeasured load before each run's window
RP_BUFFERS, RP_BUFFER_SIZE = 1024, 16384  # ringproxy's default arena; the floor gets the same


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def machine_busy():
    """CPU-seconds the whole machine has been busy (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / TICK


def ksoftirqd_pids():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().startswith("ksoftirqd/"):
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


class Terminated(Exception):
    pass


def _on_signal(signum, _frame):
    raise Terminated(f"signal {signum}")


class Procs:
    """Every process this script starts, each in its own session (process group), stopped with
    SIGTERM then SIGKILL to the group."""

    def __init__(self):
        self.live = []

    def spawn(self, args, log_path=None, **kw):
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            p = subprocess.Popen(args, stdout=kw.pop("stdout", out), stderr=kw.pop("stderr", out),
                                 stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        finally:
            if log_path:
                out.close()
        self.live.append(p)
        return p

    def stop(self, p, grace=3.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        else:  # its children, if any, may outlive it
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in reversed(list(self.live)):
            try:
                self.stop(p)
            except Exception as e:  # keep stopping the others
                log(f"could not stop pid {p.pid}: {e}")


def wait_port(port, proc, what, timeout=8.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.03)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout} s")


class StatsConn:
    """A persistent stats connection to one backend (reconnected once if it was lost)."""

    what = "backend"

    def __init__(self, port):
        self.port, self.sock = port, None

    def ask(self, request, whole):
        """Sends request; returns the reply once whole(bytes so far) says it is complete."""
        for _ in range(2):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", self.port), 2)
                self.sock.sendall(request)
                buf = b""
                while not whole(buf):
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise OSError("closed")
                    buf += chunk
                return buf
            except OSError:
                if self.sock:
                    self.sock.close()
                self.sock = None
        raise RuntimeError(f"{self.what} on port {self.port} does not answer stats")

    def close(self):
        if self.sock:
            self.sock.close()


class McStats(StatsConn):
    """memcached's `stats`."""

    what = "memcached"

    def read(self):
        buf = self.ask(b"stats\r\n", lambda b: b.endswith(b"END\r\n"))
        return {l.split()[1]: l.split()[2] for l in buf.decode().splitlines()
                if l.startswith("STAT ")}

    def counts(self):
        """(keys read, sets) so far: cmd_get counts every key of a multi-get."""
        st = self.read()
        return int(st["cmd_get"]), int(st["cmd_set"])


def resp_bulks(buf, n):
    """The first n RESP bulk strings in buf, or None while they are not all there."""
    out, pos = [], 0
    for _ in range(n):
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        if buf[pos:pos + 1] != b"$":
            raise OSError(f"not a bulk reply: {buf[pos:eol][:80]!r}")
        size = int(buf[pos + 1:eol])
        if len(buf) < eol + 2 + size + 2:
            return None
        out.append(buf[eol + 2:eol + 2 + size])
        pos = eol + 2 + size + 2
    return out


class RdStats(StatsConn):
    """redis-server's `INFO stats` and `INFO commandstats`."""

    what = "redis-server"
    REQUEST = b"INFO stats\r\nINFO commandstats\r\n"

    def read(self):
        buf = self.ask(self.REQUEST, lambda b: resp_bulks(b, 2) is not None)
        st = {}
        for bulk in resp_bulks(buf, 2):
            for line in bulk.decode().splitlines():
                if ":" in line and not line.startswith("#"):
                    k, v = line.split(":", 1)
                    st[k] = v
        return st

    def counts(self):
        """(keys read, sets) so far: every key a GET or an MGET looks up is a keyspace hit or
        miss (a SET is neither); sets are SET's calls. So an MGET split over the servers counts
        its keys exactly as memcached's cmd_get does."""
        st = self.read()
        m = re.search(r"(?:^|,)calls=(\d+)", st.get("cmdstat_set", ""))
        return (int(st["keyspace_hits"]) + int(st["keyspace_misses"]),
                int(m.group(1)) if m else 0)


class Fleet:
    """The 4 backends of one kind: ports, processes and a stats connection to each."""

    def __init__(self, kind):
        self.kind = kind
        self.ports, self.procs, self.stats = [], [], []

    def counts(self):
        """(keys read, sets), summed over the backends."""
        reads = sets = 0
        for s in self.stats:
            r, w = s.counts()
            reads += r
            sets += w
        return reads, sets

    def cpu(self):
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def close(self):
        for s in self.stats:
            s.close()


def http_json(port):
    """The stats JSON a nutcracker-style stats port writes on connect."""
    with socket.create_connection(("127.0.0.1", port), 2) as c:
        buf = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf.decode())


class Bench:
    def __init__(self, opts):
        self.o = opts
        self.procs = Procs()
        self.tmp = tempfile.mkdtemp(prefix="rp-compare-")
        self.bin = {}
        self.fleets = {kind: Fleet(kind) for kind in fleets_in_use(opts)}
        self.live = {}  # target id -> dict(proc, port, stats_port, pid)
        self.runs, self.idle, self.sweep, self.events, self.prefill = [], [], [], [], []
        self.seq = 0
        self.perf_ok = False
        self.ksoftirqd = ksoftirqd_pids()

    # ---------------------------------------------------------------- binaries and machine
    def find_binaries(self):
        o = self.o
        cands = {
            "ringproxy": [o.ringproxy or os.path.join(ROOT, "build/ringproxy")],
            "floor": [o.floor] if o.floor else [os.path.join(ROOT, "build/bench/floor"),
                                                os.path.join(HERE, "build/floor")],
            "loadgen": [o.loadgen or os.path.join(HERE, "build/loadgen")],
        }
        if "memcached" not in self.fleets:  # the floor only fronts memcached
            del cands["floor"]
        bindir = os.path.join(self.out, "bin")
        os.makedirs(bindir, exist_ok=True)
        self.bin_info = {}
        for name, paths in cands.items():
            path = next((p for p in paths if os.access(p, os.X_OK)), None)
            if path is None:
                raise SystemExit(f"compare: {name} not found (tried {', '.join(paths)}); build it "
                                 "with `make -C bench compare-bins` (see bench/README.md)")
            # a private copy: other engineers may rebuild the tree while this runs
            copy = os.path.join(bindir, name)
            shutil.copy2(path, copy)
            with open(copy, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:16]
            self.bin[name] = copy
            self.bin_info[name] = dict(path=path, sha256_16=digest,
                                       mtime=time.ctime(os.path.getmtime(path)))
        required = {"nutcracker"} | {FLEETS[kind]["server"] for kind in self.fleets}
        for name in ("memcached", "redis-server", "nutcracker", "gnuplot"):
            path = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(
                f"/usr/sbin/{name}", os.X_OK) else None)
            if path is None and name in required:
                raise SystemExit(f"compare: {name} not found")
            self.bin[name] = path

    def machine(self):
        def cmd(args):
            try:
                r = subprocess.run(args, capture_output=True, text=True, timeout=10)
                return (r.stdout + r.stderr).strip()
            except Exception:
                return ""
        model = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        mem = ""
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB"
        os_name = ""
        if os.path.exists("/etc/os-release"):
            with open("/etc/os-release") as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        os_name = line.split("=", 1)[1].strip().strip('"')
        return dict(
            nproc=NPROC, kernel=platform.release(), cpu_model=model, memory=mem, os=os_name,
            date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            memcached=cmd([self.bin["memcached"], "-V"]) if self.bin["memcached"] else "",
            redis=cmd([self.bin["redis-server"], "--version"]) if self.bin["redis-server"] else "",
            fleets=list(self.fleets),
            nutcracker=cmd([self.bin["nutcracker"], "-V"]).splitlines()[0:1],
            gnuplot=cmd([self.bin["gnuplot"], "--version"]) if self.bin.get("gnuplot") else "",
            perf=cmd(["perf", "--version"]),
            git=cmd(["git", "-C", ROOT, "describe", "--always", "--dirty", "--abbrev=12"]),
            git_status_src=cmd(["git", "-C", ROOT, "status", "--short", "--", "src", "uring",
                                "proto", "hash", "conf", "bench/floor", "bench/floor.mk"]),
            binaries=self.bin_info,
            io_uring_disabled=open("/proc/sys/kernel/io_uring_disabled").read().strip()
            if os.path.exists("/proc/sys/kernel/io_uring_disabled") else "n/a",
        )

    # ---------------------------------------------------------------- processes
    def start_memcached(self, port, maxconns=12000):
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        p = self.procs.spawn([self.bin["memcached"], *user, "-l", "127.0.0.1", "-p", str(port),
                              "-U", "0", "-t", "1", "-m", "256", "-I", "2m", "-c",
                              str(maxconns)], os.path.join(self.out, "logs", f"mc-{port}.log"))
        wait_port(port, p, f"memcached :{port}")
        return p

    def start_redis(self, port):
        # no persistence (no RDB snapshot, no AOF): nothing but the benchmark on the disk
        p = self.procs.spawn([self.bin["redis-server"], "--bind", "127.0.0.1", "--port",
                              str(port), "--save", "", "--appendonly", "no", "--dir", self.tmp,
                              "--daemonize", "no", "--logfile", ""],
                             os.path.join(self.out, "logs", f"redis-{port}.log"))
        wait_port(port, p, f"redis-server :{port}")
        return p

    def start_backend(self, kind, port):
        return self.start_memcached(port) if kind == "memcached" else self.start_redis(port)

    def start_fleet(self):
        os.makedirs(os.path.join(self.out, "logs"), exist_ok=True)
        for kind, fl in self.fleets.items():
            for _ in range(4):
                port = free_port()
                fl.procs.append(self.start_backend(kind, port))
                fl.ports.append(port)
                fl.stats.append((McStats if kind == "memcached" else RdStats)(port))

    def pool_yaml(self, name, listen, servers, redis=False):
        # The same pool for nutcracker and ringproxy: plain nutcracker.yml.
        lines = [f"{name}:", f"  listen: 127.0.0.1:{listen}", "  hash: fnv1a_64",
                 "  distribution: ketama", "  timeout: 2000", "  preconnect: true",
                 "  auto_eject_hosts: false", "  server_connections: 1", "  servers:"]
        if redis:
            lines.insert(2, "  redis: true")
        lines += [f"   - 127.0.0.1:{p}:1" for p in servers]
        return "\n".join(lines) + "\n"

    def start_target(self, tid, fresh=False):
        """Starts target tid on new ports; returns its record. fresh: a separate instance (the idle
        measurement), not the one the rounds use; a direct target then is a new backend too."""
        t = TG[tid]
        port, stats = free_port(), free_port()
        tag = f"{tid}-{port}"
        logf = os.path.join(self.out, "logs", f"{tag}.log")
        fl = self.fleets[fleet_of(t)]
        servers = fl.ports if t.get("pool") == 4 else fl.ports[:1]
        if t["kind"] in BACKEND_KINDS:
            if not fresh:
                return dict(proc=fl.procs[0], port=fl.ports[0], pid=fl.procs[0].pid,
                            stats_port=None, log=None, owned=False)
            p = self.start_backend(t["kind"], port)
        elif t["kind"] == "floor":
            p = self.procs.spawn([self.bin["floor"], "--listen", f"127.0.0.1:{port}", "--server",
                                  f"127.0.0.1:{servers[0]}", "--io", t["io"], "--buffers",
                                  str(RP_BUFFERS), "--buffer-size", str(RP_BUFFER_SIZE)], logf)
        else:
            conf = os.path.join(self.tmp, f"{tag}.yml")  # nutcracker wants an absolute path
            with open(conf, "w") as f:
                f.write(self.pool_yaml("bench", port, servers, fl.kind == "redis"))
            if t["kind"] == "nutcracker":
                args = [self.bin["nutcracker"], "-c", conf, "-s", str(stats), "-a", "127.0.0.1",
                        "-o", logf]
            else:
                args = [self.bin["ringproxy"], "-c", conf, "-s", str(stats), "-a", "127.0.0.1",
                        "-o", logf, f"--io={t['io']}", f"--workers={t['workers']}"]
            p = self.procs.spawn(args, logf)
        try:
            wait_port(port, p, t["label"])
        except RuntimeError as e:
            self.procs.stop(p)
            raise RuntimeError(f"{e}; log tail:\n{self.log_tail(dict(log=logf), 5)}") from None
        rec = dict(proc=p, port=port, pid=p.pid, stats_port=stats if t["kind"] in (
            "nutcracker", "ringproxy") else None, log=logf, owned=True)
        if t["kind"] == "ringproxy":
            time.sleep(0.1)
            st = http_json(stats)["ringproxy"]
            rec["engine"] = st.get("engine")
            if st.get("engine") != t["io"] or int(st.get("workers", 0)) != t["workers"]:
                self.event("engine-mismatch", tid, f"asked {t['io']} x{t['workers']}, stats say "
                           f"{st.get('engine')} x{st.get('workers')}")
        return rec

    def event(self, kind, tid, text):
        log(f"!! {kind} {tid}: {text}")
        self.events.append(dict(kind=kind, target=tid, text=text, time=time.time()))

    def log_tail(self, rec, n=15):
        if not rec.get("log") or not os.path.exists(rec["log"]):
            return ""
        with open(rec["log"], "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")

    def ensure_alive(self, tid):
        rec = self.live[tid]
        if rec["proc"].poll() is None:
            return True
        self.event("died", tid, f"exit status {rec['proc'].returncode}; log tail:\n"
                   f"{self.log_tail(rec)}")
        if not rec["owned"]:
            raise RuntimeError(f"{TG[tid]['kind']} #0 died")
        self.live[tid] = self.start_target(tid)
        return False

    # ---------------------------------------------------------------- loadgen
    def loadgen_args(self, port, wl, duration, seed, extra=()):
        ks = KEYSPACES[wl["space"]]
        return [self.bin["loadgen"], "-s", f"127.0.0.1:{port}", *wl["args"], "-k",
                str(ks["keys"]), "--key-prefix", ks["prefix"], "-v", str(ks["value"]), "-D",
                f"{duration:g}", "--seed", str(seed), "--json", *extra]

    def run_loadgen(self, args, timeout):
        p = self.procs.spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.procs.stop(p)
            return None, "timeout"
        self.procs.live.remove(p)
        try:
            return json.loads(out.decode().strip().splitlines()[-1]), err.decode()
        except (ValueError, IndexError):
            return None, f"status {p.returncode}: {err.decode()[-500:]}"

    def do_prefill(self):
        """Every keyspace of a fleet's workloads, once through nutcracker's 4-server pool (ketama
        places the keys where ringproxy looks for them) and once into backend #0 (direct and
        one-server targets)."""
        for kind, fl in self.fleets.items():
            spaces = {w["space"] for w in WORKLOADS if fleet_of(w) == kind}
            via_nc, direct = FLEETS[kind]["prefill_via"], FLEETS[kind]["direct"]
            for via, port in ((via_nc, self.live[via_nc]["port"]), (direct, fl.ports[0])):
                self.prefill_one(kind, via, port, [n for n in KEYSPACES if n in spaces])

    def prefill_one(self, kind, via, port, spaces):
        for name in spaces:
            ks = KEYSPACES[name]
            args = [self.bin["loadgen"], "-P", FLEETS[kind]["protocol"], "-s", f"127.0.0.1:{port}",
                    "-c", "8", "-k", str(ks["keys"]), "--key-prefix", ks["prefix"], "-v",
                    str(ks["value"]), "--prefill", "-n", "1", "--json"]
            res, err = self.run_loadgen(args, 120)
            ok = res is not None and res["prefill_errors"] == 0 and \
                res["prefill_sets"] == ks["keys"]
            self.prefill.append(dict(via=via, space=name, ok=ok, sets=res and res["prefill_sets"],
                                     errors=res and res["prefill_errors"]))
            if not ok:
                raise RuntimeError(f"prefill {name} via {via} failed: {res or err}")

    # ---------------------------------------------------------------- one measured run
    def sample(self, pid, fl, lg=None):
        """CPU times, RSS and fleet fl's request counters now (gets: keys read)."""
        t = time.monotonic()
        busy = machine_busy()
        cpu = cpu_seconds(pid)
        backend = fl.cpu()
        mine = cpu_seconds(os.getpid()) + (cpu_seconds(lg.pid) if lg and lg.poll() is None
                                           else 0)
        ksirq = sum(cpu_seconds(k) for k in self.ksoftirqd if os.path.exists(f"/proc/{k}"))
        gets, sets = fl.counts()
        return dict(t=t, cpu=cpu, backend=backend, gets=gets, sets=sets, rss=rss_kib(pid),
                    busy=busy, mine=mine, ksirq=ksirq)

    def sleep_until(self, t, lg):
        while True:
            left = t - time.monotonic()
            if left <= 0:
                return True
            if lg.poll() is not None:
                return False
            time.sleep(min(left, 0.05))

    def measure(self, tid, wl, duration, seed, rnd, order, extra=(), perf=True, store=None):
        """One loadgen run: an unmeasured warmup of WARMUP s, then duration s measured. The
        figures per request come from the servers' own counters (keys read / keys per request +
        sets, summed over the 4 servers of the workload's fleet: memcached's cmd_get and cmd_set,
        redis's keyspace_hits + keyspace_misses and SET calls) over windows inside loadgen's:
        window A (CPU, RSS, the request rate the servers saw) and, after it, window B with perf
        attached (system calls). perf's tracepoint costs the target CPU (about 0.3 us per system
        call here, some 20% of nutcracker's CPU per request), so it stays out of window A."""
        rec = self.live[tid]
        pid = rec["pid"]
        fl = self.fleets[fleet_of(wl)]
        perf = perf and self.perf_ok
        lead = wl.get("lead", WARMUP + 0.2)  # after connection set-up and the warmup
        end = WARMUP + duration - 0.2
        win_a = (end - lead) * (0.62 if perf else 1.0)
        args = self.loadgen_args(rec["port"], wl, duration, seed, ["--warmup", str(WARMUP),
                                                                   *extra])
        run = dict(seq=self.seq, round=rnd, order=order, workload=wl["id"], target=tid,
                   label=TG[tid]["label"], seed=seed, duration=duration, args=args[1:],
                   loadavg_before=loadavg())
        self.seq += 1
        lg = self.procs.spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        t0 = time.monotonic()
        a = b = c = d = rp0 = None
        perf_count = perf_runtime = backend_count = None
        try:
            if self.sleep_until(t0 + lead, lg):
                a = self.sample(pid, fl, lg)
                rp0 = self.rp_stats(tid)
            if a and self.sleep_until(a["t"] + win_a, lg):
                b = self.sample(pid, fl, lg)
                rp1 = self.rp_stats(tid)
                if rp0 is not None and rp1 is not None:
                    run["ringproxy_stats_delta"] = {k: rp1[k] - rp0[k] for k in rp1
                                                    if isinstance(rp1[k], int) and k in rp0}
            win_b = t0 + end - time.monotonic()
            if b and perf and win_b > 0.35:
                pf = os.path.join(self.tmp, "perf.csv")
                perf_wall = round(win_b - 0.15, 2)
                c = self.sample(pid, fl)
                pp = self.procs.spawn(["perf", "stat", "-e", "raw_syscalls:sys_enter", "-x", ",",
                                       "-o", pf, "-p", str(pid), "--", "sleep",
                                       f"{perf_wall:.2f}"])
                # the backends' system calls in the same window (issue 12: what the servers
                # pay for a proxy's way of batching), except when the target is backend #0
                bpf, bp = os.path.join(self.tmp, "perf-backends.csv"), None
                if TG[tid]["kind"] not in BACKEND_KINDS:
                    bp = self.procs.spawn(["perf", "stat", "-e", "raw_syscalls:sys_enter", "-x",
                                           ",", "-o", bpf, "-p",
                                           ",".join(str(q.pid) for q in fl.procs), "--", "sleep",
                                           f"{perf_wall:.2f}"])
                for proc in (pp, bp):
                    if proc is None:
                        continue
                    try:
                        proc.wait(win_b + 10)
                    except subprocess.TimeoutExpired:
                        self.procs.stop(proc)
                    if proc in self.procs.live:
                        self.procs.live.remove(proc)
                d = self.sample(pid, fl)
                perf_count, perf_runtime = parse_perf(pf)
                backend_count = parse_perf(bpf)[0] if bp is not None else None
            out, err = lg.communicate(timeout=duration + WARMUP + 60)
        except subprocess.TimeoutExpired:
            self.procs.stop(lg)
            out, err = b"", b"loadgen timed out"
        finally:
            if lg in self.procs.live:
                self.procs.live.remove(lg)
        run["loadavg_after"] = loadavg()
        try:
            res = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = None
        run["loadgen"] = res
        run["loadgen_status"] = lg.returncode
        if res is None:
            run["loadgen_stderr"] = err.decode(errors="replace")[-800:]
        width = wl["width"]
        if a and b:
            dt = b["t"] - a["t"]
            req = (b["gets"] - a["gets"]) / width + (b["sets"] - a["sets"])
            run.update(window_s=dt, window_requests=req, server_rate=req / dt if dt else 0,
                       cpu_s=b["cpu"] - a["cpu"], backend_cpu_s=b["backend"] - a["backend"],
                       rss_kib=max(a["rss"], b["rss"]))
            # What else ran on the machine in the window, in CPUs: all busy time (/proc/stat)
            # less this script, loadgen, the target, the backends and ksoftirqd (loopback
            # work deferred there is ours too). Another engineer's test shows here.
            ours = (b["mine"] - a["mine"]) + run["backend_cpu_s"] + (
                run["cpu_s"] if TG[tid]["kind"] not in BACKEND_KINDS else 0) + (
                b["ksirq"] - a["ksirq"])
            if dt > 0:
                run["machine_busy_cpus"] = (b["busy"] - a["busy"]) / dt
                run["ksoftirqd_cpus"] = (b["ksirq"] - a["ksirq"]) / dt
                run["other_cpus"] = max(0.0, (b["busy"] - a["busy"] - ours) / dt)
            if req > 0:
                run["cpu_us_per_req"] = run["cpu_s"] * 1e6 / req
                run["backend_cpu_us_per_req"] = run["backend_cpu_s"] * 1e6 / req
                run["cpu_ticks"] = round(run["cpu_s"] * TICK)
        if c and d and perf_count is not None:
            # perf counts for the wall time of its `sleep` (its runtime field is the time the
            # threads were on a CPU, not wall time); the request rate is the servers' over the
            # slightly longer interval from c to d.
            dt = d["t"] - c["t"]
            req = (d["gets"] - c["gets"]) / width + (d["sets"] - c["sets"])
            run.update(perf_window_s=perf_wall, perf_syscalls=perf_count,
                       perf_task_running_s=perf_runtime, perf_window_requests=req,
                       perf_interval_s=dt)
            if req > 0 and dt > 0:
                run["syscalls_per_req"] = (perf_count / perf_wall) / (req / dt)
                if backend_count is not None:
                    run["backend_syscalls_per_req"] = (backend_count / perf_wall) / (req / dt)
            run["rss_kib"] = max(run.get("rss_kib", 0), d["rss"])
        run["flags"] = self.flags(run, wl)
        if not self.ensure_alive(tid):
            run["flags"].append("target died")
        (self.runs if store is None else store).append(run)
        return run

    def rp_stats(self, tid):
        rec = self.live[tid]
        if TG[tid]["kind"] != "ringproxy":
            return None
        try:
            return http_json(rec["stats_port"])["ringproxy"]
        except Exception:
            return None

    def flags(self, run, wl):
        f = []
        r = run.get("loadgen")
        if r is None:
            return [f"loadgen failed ({run.get('loadgen_stderr', '')[:120]!r})"]
        if r["errors"]:
            f.append(f"{r['errors']} error replies ({r.get('first_error')!r})")
        if r["misses"]:
            f.append(f"{r['misses']} misses")
        if r["incomplete"]:
            f.append(f"{r['incomplete']} incomplete")
        if r["connections_failed"]:
            f.append(f"{r['connections_failed']} connections failed ({r.get('first_failure')!r})")
        if "window_requests" not in run:
            f.append("no counter window")
        elif r["ops_per_sec"] > 0 and abs(run["server_rate"] / r["ops_per_sec"] - 1) > 0.15:
            f.append(f"server-counted rate {run['server_rate']:.0f}/s vs loadgen "
                     f"{r['ops_per_sec']:.0f}/s")
        if wl.get("rate") and r["ops_per_sec"] < 0.95 * wl["rate"]:
            f.append(f"open loop fell behind: {r['ops_per_sec']:.0f} of {wl['rate']}/s")
        if wl.get("rate") and r.get("send_lag_max_us", 0) > 50000:
            f.append(f"client send lag up to {r['send_lag_max_us'] / 1000:.0f} ms")
        if run.get("other_cpus", 0) > 0.25:
            f.append(f"other processes used {run['other_cpus']:.2f} CPUs in the window")
        if run.get("cpu_ticks") is not None and run["cpu_ticks"] < 30:
            f.append(f"only {run['cpu_ticks']} CPU ticks in the window (coarse)")
        return f

    # ---------------------------------------------------------------- rounds
    def rounds(self):
        o = self.o
        plan = []  # (workload, [targets])
        for wl in WORKLOADS:
            if not selected(o.only, wl["id"]):
                continue
            # a target that could not start (start_targets) is left out
            tids = [t["id"] for t in TARGETS if set(t["groups"]) & set(wl["groups"])
                    and t["id"] in self.live and t["id"] not in wl.get("exclude", ())]
            plan.append((wl, tids))
        if not plan:
            return
        n_runs = sum(len(t) for _, t in plan) * o.rounds
        log(f"rounds: {o.rounds} x {sum(len(t) for _, t in plan)} runs of {o.duration:g} s "
            f"(about {n_runs * (o.duration + 0.5) / 60:.1f} min)")
        # warm every target once (server connections made, allocators warm)
        for tid in sorted({t for _, ts in plan for t in ts}):
            warm = WL[FLEETS[fleet_of(TG[tid])]["warm"]]
            self.run_loadgen(self.loadgen_args(self.live[tid]["port"], warm, 1, 1), 30)
        start = time.time()
        done = 0
        for rnd in range(o.rounds):
            for wi, (wl, tids) in enumerate(plan):
                # a new order each round (seeded): no target always goes first, and none
                # always follows the same one (a fixed cyclic order did: see README)
                order = list(tids)
                random.Random(7919 * rnd + wi).shuffle(order)
                seed = 1000 * (rnd + 1) + wi  # the same key sequence for every target
                for i, tid in enumerate(order):
                    run = self.measure(tid, wl, o.duration, seed, rnd, i)
                    done += 1
                    r = run.get("loadgen") or {}
                    eta = (time.time() - start) / done * (n_runs - done)
                    log(f"r{rnd + 1} {wl['id']:8} {TG[tid]['label']:24} "
                        f"{r.get('ops_per_sec', 0):9.0f}/s p99 {r.get('p99_us', 0):8.0f} us "
                        f"cpu {run.get('cpu_us_per_req', float('nan')):6.2f} us/req "
                        f"sc {run.get('syscalls_per_req', float('nan')):5.2f}/req "
                        f"{'FLAGS: ' + '; '.join(run['flags']) if run['flags'] else ''}"
                        f"  [eta {eta / 60:.1f} min]")

    # ---------------------------------------------------------------- idle connections
    def idle_conns(self):
        o = self.o
        for rnd in range(o.idle_rounds):
            for touch in (False, True):
                tids = IDLE_TARGETS[rnd % len(IDLE_TARGETS):] + IDLE_TARGETS[:rnd % len(
                    IDLE_TARGETS)]
                for tid in tids:
                    self.idle.append(self.idle_one(tid, touch, rnd))

    def idle_one(self, tid, touch, rnd):
        rec = self.start_target(tid, fresh=True)
        pid = rec["pid"]
        res = dict(target=tid, label=TG[tid]["label"], touch=touch, round=rnd,
                   connections=IDLE_CONNS)
        try:
            time.sleep(0.3)
            res["rss0_kib"] = rss_kib(pid)
            args = [self.bin["loadgen"], "-s", f"127.0.0.1:{rec['port']}", "--idle",
                    str(IDLE_CONNS), "-t", "2", "-D", f"{o_hold(self.o):g}", "--json"]
            if touch:
                args += ["-k", "100000", "--key-prefix", "key:", "--idle-touch"]
            lg = self.procs.spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            line = b""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # stderr says when all are open
                ch = lg.stderr.readline()
                if not ch:
                    break
                line = ch
                if b"idle connections open" in ch:
                    break
            res["loadgen_line"] = line.decode(errors="replace").strip()
            time.sleep(0.3)
            res["rss1_kib"] = rss_kib(pid)
            out, err = lg.communicate(timeout=o_hold(self.o) + 30)
            if lg in self.procs.live:
                self.procs.live.remove(lg)
            try:
                r = json.loads(out.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                r = None
            res["loadgen"] = r
            m = re.search(rb"(\d+)/(\d+) idle connections open", line)
            res["open"] = int(m.group(1)) if m else 0
            res["bytes_per_conn"] = (res["rss1_kib"] - res["rss0_kib"]) * 1024 / IDLE_CONNS
            res["flags"] = []
            if res["open"] != IDLE_CONNS:
                res["flags"].append(f"only {res['open']} connections open")
            if r and r["connections_open_at_end"] != IDLE_CONNS:
                res["flags"].append(f"{r['connections_open_at_end']} open at the end")
            if r and touch and r["touched"] != IDLE_CONNS:
                res["flags"].append(f"{r['touched']} touches answered")
            if rec["proc"].poll() is not None:
                res["flags"].append("target died")
                self.event("died", tid, f"idle run: {self.log_tail(rec)}")
            log(f"idle {'touched ' if touch else 'untouched'} {TG[tid]['label']:24} "
                f"{res['bytes_per_conn']:7.0f} B/conn (RSS {res['rss0_kib'] / 1024:.1f} -> "
                f"{res['rss1_kib'] / 1024:.1f} MiB) {'; '.join(res['flags'])}")
        finally:
            self.procs.stop(rec["proc"])
        return res

    # ---------------------------------------------------------------- open-loop sweep
    def rate_sweep(self):
        """Workload 1 in open loop at rising rates, the targets interleaved at each rate. The
        achieved throughput is the rate the servers counted inside the window (loadgen's own
        count includes requests answered late, in the drain, so it equals the asked rate)."""
        o = self.o
        rates = [10000, 40000, 80000, 120000] if o.quick else SWEEP_RATES
        active = [t for t in SWEEP_TARGETS if t in self.live]
        saturated = {t: 0 for t in active}
        for i, rate in enumerate(rates):
            if not active:
                break
            k = i % len(active)
            wl = dict(WL["w1"], id="w1-open", rate=rate)
            for j, tid in enumerate(active[k:] + active[:k]):
                pt = self.measure(tid, wl, o.sweep_duration, 77 + i, 0, j, ["-r", str(rate)],
                                  perf=False, store=self.sweep)
                pt["rate"] = rate
                res = pt.get("loadgen")
                if res is None or "server_rate" not in pt:
                    saturated[tid] += 2
                    log(f"sweep {rate:7d}/s {TG[tid]['label']:24} failed: {pt['flags']}")
                    continue
                log(f"sweep {rate:7d}/s {TG[tid]['label']:24} achieved {pt['server_rate']:8.0f}"
                    f" p99 {res['p99_us']:8.0f} us, cpu {pt.get('cpu_us_per_req', 0):5.2f} "
                    f"us/req, send lag max {res['send_lag_max_us'] / 1000:.1f} ms, "
                    f"incomplete {res['incomplete']}")
                if pt["server_rate"] < 0.9 * rate or res["p99_us"] > 20000 or res["incomplete"]:
                    saturated[tid] += 1
            active = [t for t in active if saturated[t] < 2]

    # ---------------------------------------------------------------- main
    def main(self):
        o = self.o
        self.out = os.path.abspath(o.out)
        os.makedirs(self.out, exist_ok=True)
        self.find_binaries()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:  # the children inherit it: 10,000 idle connections need it
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.la_start = loadavg()
        info = self.machine()
        info["rlimit_nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)
        log(f"out: {self.out}; load average {self.la_start}; {info['cpu_model']}, "
            f"{NPROC} CPUs, kernel {info['kernel']}")
        self.t_start = time.time()
        try:
            self.start_fleet()
            self.start_targets()
            self.perf_ok = (not o.no_perf) and self.check_perf()
            self.do_prefill()
            self.rounds()
            if not o.no_idle and selected(o.only, "w5"):
                self.idle_conns()
            if not o.no_sweep and selected(o.only, "sweep"):
                self.rate_sweep()
            if "memcached" in self.fleets:
                mc = self.fleets["memcached"]
                self.evictions = {p: int(s.read().get("evictions", 0)) for p, s in
                                  zip(mc.ports, mc.stats)}
        finally:
            for fl in self.fleets.values():
                fl.close()
            self.procs.stop_all()
            shutil.rmtree(self.tmp, ignore_errors=True)
            info["elapsed_s"] = time.time() - self.t_start
            info["loadavg_start"], info["loadavg_end"] = self.la_start, loadavg()
            self.write(info)

    def start_targets(self):
        """Every target in front of the fleets in use. A ringproxy that does not start (one built
        before it served redis pools refuses `redis: true`) is an event and is left out of the
        runs, so that the other targets are still measured."""
        for t in TARGETS:
            if fleet_of(t) not in self.fleets:
                continue
            try:
                self.live[t["id"]] = self.start_target(t["id"])
            except RuntimeError as e:
                if t["kind"] != "ringproxy":
                    raise
                self.event("start-failed", t["id"], f"left out of the runs: {e}")

    def check_perf(self):
        pf = os.path.join(self.tmp, "perf-check.csv")
        backends = [p for fl in self.fleets.values() for p in fl.procs]
        if not backends:  # nothing selected runs
            return False
        try:
            r = subprocess.run(["perf", "stat", "-e", "raw_syscalls:sys_enter", "-x", ",", "-o",
                                pf, "-p", str(backends[0].pid), "--", "sleep", "0.2"],
                               capture_output=True, timeout=20, start_new_session=True)
            count, _ = parse_perf(pf)
            if r.returncode == 0 and count is not None:
                return True
        except Exception as e:
            log(f"perf: {e}")
        log("perf stat -e raw_syscalls:sys_enter does not work here: no system call counts")
        return False

    def write(self, info):
        o = self.o
        data = dict(machine=info, options=vars(o), workloads=WORKLOADS, targets=TARGETS,
                    keyspaces=KEYSPACES, prefill=self.prefill, runs=self.runs, idle=self.idle,
                    sweep=self.sweep, events=self.events, perf=self.perf_ok,
                    evictions=getattr(self, "evictions", None),
                    rounds_completed=max([r["round"] for r in self.runs], default=-1) + 1)
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(data, f, indent=1)
        sys.path.insert(0, HERE)
        import compare_report
        md = compare_report.render(data)
        with open(os.path.join(self.out, "RESULTS.md"), "w") as f:
            f.write(md)
        if self.sweep:
            compare_report.plot(data, self.out, self.bin.get("gnuplot"))
        log(f"wrote {self.out}/results.json, RESULTS.md"
            f"{', latency.svg, latency.png' if self.sweep else ''} "
            f"in {info['elapsed_s'] / 60:.1f} min")


def o_hold(o):
    return 0.5 if o.quick else 1.5


def parse_perf(path):
    """perf stat -x, output: count,unit,event,runtime_ns,percent,... -> (count, runtime_s)."""
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) >= 4 and "raw_syscalls:sys_enter" in parts[2]:
                    if not parts[0].strip().isdigit():
                        return None, None
                    return int(parts[0]), int(parts[3]) / 1e9
    except OSError:
        pass
    return None, None


def selected(only, wid):
    if not only:
        return True
    return any(wid == w or wid.startswith(w + "-") for w in only)


def fleets_in_use(o):
    """The backend kinds the selected workloads need (w5 and the sweep run on memcached)."""
    used = {fleet_of(w) for w in WORKLOADS if selected(o.only, w["id"])}
    if (not o.no_idle and selected(o.only, "w5")) or (not o.no_sweep and
                                                       selected(o.only, "sweep")):
        used.add("memcached")
    return [kind for kind in FLEETS if kind in used]


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 round of 2 s runs, a short sweep, short idle holds")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    ap.add_argument("--duration", type=float, help="seconds per run (default 3.5; quick 2)")
    ap.add_argument("--sweep-duration", type=float, help="seconds per sweep point (default 3)")
    ap.add_argument("--idle-rounds", type=int, default=1, help="rounds of the idle measurement")
    ap.add_argument("--out", help="output directory (default bench/out/DATE)")
    ap.add_argument("--only", help="comma-separated workloads: w1 w2 w3 (w3 and w3-16) w4 w5 w6 (w6-16k, "
                    "w6-512k) r1 r2 r3 sweep; default all")
    ap.add_argument("--no-perf", action="store_true", help="no system call counts")
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--no-idle", action="store_true")
    ap.add_argument("--ringproxy", help="ringproxy binary (default build/ringproxy)")
    ap.add_argument("--floor", help="floor binary (default build/bench/floor)")
    ap.add_argument("--loadgen", help="loadgen binary (default bench/build/loadgen)")
    ap.add_argument("--report", metavar="RESULTS_JSON",
                    help="only re-render RESULTS.md and the plot from a results.json")
    o = ap.parse_args(argv)
    o.rounds = o.rounds or (1 if o.quick else 3)
    o.duration = o.duration or (2.0 if o.quick else 3.5)
    o.sweep_duration = o.sweep_duration or (1.5 if o.quick else 3.0)
    if o.duration < 1.5:
        ap.error("--duration must be at least 1.5 s")
    o.only = [w.strip() for w in o.only.split(",")] if o.only else None
    if o.only:
        known = [w["id"] for w in WORKLOADS] + ["w5", "w6", "sweep"]
        for w in o.only:
            if not any(k == w or k.startswith(w + "-") for k in known):
                ap.error(f"--only: unknown workload {w!r} (known: {', '.join(known)})")
    o.out = o.out or os.path.join(HERE, "out", time.strftime("%Y-%m-%d_%H%M%S"))
    return o


def main(argv):
    o = parse_args(argv)
    if o.report:
        sys.path.insert(0, HERE)
        import compare_report
        with open(o.report) as f:
            data = json.load(f)
        out = os.path.dirname(os.path.abspath(o.report))
        with open(os.path.join(out, "RESULTS.md"), "w") as f:
            f.write(compare_report.render(data))
        if data.get("sweep"):
            compare_report.plot(data, out, shutil.which("gnuplot"))
        print(os.path.join(out, "RESULTS.md"))
        return 0
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    b = Bench(o)
    try:
        b.main()
    except (Terminated, KeyboardInterrupt) as e:
        log(f"stopped ({e or 'interrupt'}); processes cleaned up, partial results written")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Large fleets: ringproxy/io_uring and nutcracker over a pool of N memcached (default 128)
against the same proxies over 4, on w1 (32 connections, 90% get, 100 B) and w3 (8 connections,
100-key gets). For each it reports throughput, CPU per request, the proxy's memory (RSS) and
its server connections, and how long ringproxy takes from exec until every worker has its
connection to every server (preconnect), and nutcracker the same.

Runs are interleaved (small pool, large pool, per proxy, per round); medians are reported. The
N servers run on this machine's 2 CPUs with everything else: the comparison is the ratio of
the large pool to the small one for the same proxy in the same round.

    bench/fleet [--servers 128] [--workers 1] [--rounds 3] [--duration 3] [--out DIR]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare as C  # noqa: E402  (process handling, ports, /proc readers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = {
    "w1": ["-c", "32", "-t", "1", "-d", "1"],
    "w3": ["-c", "8", "-t", "1", "-d", "1", "-w", "100", "--ratio", "0:1"],
}


def pool_yaml(port, servers, names=0):
    """servers: their ports; names > 0: that many named entries spread over them (many servers
    to the proxy, few processes behind)."""
    lines = ["bench:", f"  listen: 127.0.0.1:{port}", "  hash: fnv1a_64",
             "  distribution: ketama", "  timeout: 2000", "  preconnect: true",
             "  auto_eject_hosts: false", "  server_connections: 1", "  servers:"]
    if names:
        lines += [f"   - 127.0.0.1:{servers[i % len(servers)]}:1 s{i}" for i in range(names)]
    else:
        lines += [f"   - 127.0.0.1:{p}:1" for p in servers]
    return "\n".join(lines) + "\n"


def established_to(ports):
    """TCP connections in ESTABLISHED whose local port is one of ports (the servers' side of
    every connection to them), from /proc/net/tcp."""
    want = {f"{p:04X}" for p in ports}
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[3] == "01" and parts[1].rsplit(":", 1)[1] in want:
                n += 1
    return n


def server_connections(kind, sport):
    st = C.http_json(sport)
    pool = st.get("bench", {})
    return sum(v.get("server_connections", 0) for v in pool.values() if isinstance(v, dict))


def start_proxy(procs, tmp, bins, kind, servers, workers, names=0):
    port, sport = C.free_port(), C.free_port()
    conf = os.path.join(tmp, f"{kind}-{port}.yml")
    with open(conf, "w") as f:
        f.write(pool_yaml(port, servers, names))
    logf = os.path.join(tmp, f"{kind}-{port}.log")
    if kind == "nutcracker":
        args = [bins["nutcracker"], "-c", conf, "-s", str(sport), "-a", "127.0.0.1", "-o", logf]
        want = names or len(servers)
    else:
        args = [bins["ringproxy"], "-c", conf, "-s", str(sport), "-a", "127.0.0.1", "-o", logf,
                "--io=uring", f"--workers={workers}"]
        want = (names or len(servers)) * workers
    base = established_to(servers)
    t0 = time.monotonic()
    p = procs.spawn(args, logf)
    # preconnect: from exec until the kernel shows every server connection established (polled
    # every millisecond; the proxies' own stats are refreshed too seldom to time this)
    ready = None
    end = t0 + 10
    while time.monotonic() < end:
        if established_to(servers) - base >= want:
            ready = time.monotonic() - t0
            break
        time.sleep(0.001)
    C.wait_port(port, p, kind)
    return dict(proc=p, port=port, sport=sport, preconnect_s=ready, want=want)


def run_load(bins, port, wl, duration, seed):
    out = subprocess.run([bins["loadgen"], "-s", f"127.0.0.1:{port}", "-k", "100000",
                          "--key-prefix", "key:", "-v", "100", *WORKLOADS[wl], "--warmup", "0.5",
                          "-D", f"{duration:g}", "--seed", str(seed), "--json"],
                         check=True, capture_output=True, text=True, timeout=duration + 60)
    return json.loads(out.stdout)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", type=int, default=128,
                    help="memcached processes of the large pool (default 128)")
    ap.add_argument("--names", type=int, default=0,
                    help="instead: a large pool of this many named servers over 4 memcached")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--ringproxy", default=os.path.join(ROOT, "build", "ringproxy"))
    ap.add_argument("--loadgen", default=os.path.join(ROOT, "bench", "build", "loadgen"))
    ap.add_argument("--nutcracker", default="nutcracker")
    ap.add_argument("--out")
    o = ap.parse_args(argv)
    bins = dict(ringproxy=o.ringproxy, loadgen=o.loadgen, nutcracker=o.nutcracker)
    procs = C.Procs()
    runs = []
    with tempfile.TemporaryDirectory(prefix="rp-fleet-") as tmp:
        os.chmod(tmp, 0o755)
        try:
            ports = []
            large = o.names or o.servers
            for _ in range(4 if o.names else o.servers):
                port = C.free_port()
                p = procs.spawn(["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p", str(port),
                                 "-U", "0", "-t", "1", "-m", "64", "-c", "4096"])
                ports.append((port, p))
            for port, p in ports:
                C.wait_port(port, p, "memcached")
            allp = [x for x, _ in ports]
            # every key set once, through a proxy over the large pool (ketama: the small pool's
            # keys are a different placement, so it is prefilled on its own)
            def pool_of(n):
                """(server ports, names) of the small (4) or the large pool"""
                if n == 4:
                    return allp[:4], 0
                return (allp, n) if o.names else (allp[:n], 0)

            for n in (4, large):
                sv, nm = pool_of(n)
                px = start_proxy(procs, tmp, bins, "ringproxy", sv, 1, nm)
                subprocess.run([bins["loadgen"], "-s", f"127.0.0.1:{px['port']}", "-c", "16",
                                "-k", "100000", "--key-prefix", "key:", "-v", "100",
                                "--prefill", "-n", "1", "--json"], check=True,
                               capture_output=True, timeout=300)
                procs.stop(px["proc"])
            for rnd in range(o.rounds):
                for kind in ("ringproxy", "nutcracker"):
                    for n in (4, large):
                        sv, nm = pool_of(n)
                        px = start_proxy(procs, tmp, bins, kind, sv, o.workers, nm)
                        try:
                            for wl in WORKLOADS:
                                cpu0 = C.cpu_seconds(px["proc"].pid)
                                lg = run_load(bins, px["port"], wl, o.duration, 100 + rnd)
                                cpu1 = C.cpu_seconds(px["proc"].pid)
                                reqs = max(1, int(lg["requests"]))
                                r = dict(round=rnd, kind=kind, servers=n, wl=wl,
                                         rps=lg["ops_per_sec"], p99_us=lg["p99_us"],
                                         cpu_us=(cpu1 - cpu0) * 1e6 / reqs,
                                         rss_kib=C.rss_kib(px["proc"].pid),
                                         conns=server_connections(kind, px["sport"]),
                                         preconnect_ms=(px["preconnect_s"] or float("nan")) * 1e3,
                                         errors=lg["errors"], misses=lg["misses"])
                                runs.append(r)
                                C.log(f"round {rnd} {kind} {n} servers {wl}: {r['rps']:.0f}/s, "
                                      f"{r['cpu_us']:.1f} µs/req, RSS {r['rss_kib']} KiB, "
                                      f"{r['conns']} conns, preconnect {r['preconnect_ms']:.1f} ms"
                                      f", misses {r['misses']}")
                        finally:
                            procs.stop(px["proc"])
        finally:
            procs.stop_all()
    lines = ["| proxy | workload | servers | req/s | p99 µs | CPU µs/req | RSS KiB | server "
             "connections | preconnect ms | large ÷ small req/s | large ÷ small CPU |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind in ("ringproxy", "nutcracker"):
        for wl in WORKLOADS:
            for n in (4, o.names or o.servers):
                rs = [r for r in runs if r["kind"] == kind and r["wl"] == wl and r["servers"] == n]
                m = {k: statistics.median(r[k] for r in rs)
                     for k in ("rps", "p99_us", "cpu_us", "rss_kib", "conns", "preconnect_ms")}
                tail = " | |"
                if n != 4:
                    def ratio(k):
                        return statistics.median(
                            r[k] / max(1e-9, next(x[k] for x in runs if x["kind"] == kind and
                                                  x["wl"] == wl and x["servers"] == 4 and
                                                  x["round"] == r["round"])) for r in rs)
                    tail = f" {ratio('rps'):.2f} | {ratio('cpu_us'):.2f} |"
                lines.append(f"| {kind} | {wl} | {n} | {m['rps']:.0f} | {m['p99_us']:.0f} | "
                             f"{m['cpu_us']:.1f} | {m['rss_kib']:.0f} | {m['conns']:.0f} | "
                             f"{m['preconnect_ms']:.1f} |" + tail)
    table = "\n".join(lines)
    print(table)
    if o.out:
        os.makedirs(o.out, exist_ok=True)
        with open(os.path.join(o.out, "results.json"), "w") as f:
            json.dump(dict(runs=runs, args=vars(o), time=time.time()), f, indent=1)
        with open(os.path.join(o.out, "results.md"), "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Zero-copy sends (ringproxy: zero_copy_min) on and off, by value size: ringproxy/io_uring with
one worker in front of one memcached, gets only, the same keys. For each size and setting it
reports throughput, p50/p99, ringproxy's CPU per request (utime + stime of the process), its
system calls per request (its own counter: io_uring_enter calls) and how many sends went
zero-copy and how many of them the kernel copied anyway (loopback copies every one).

Runs are interleaved (off, on, off, on ...) over several rounds, and the medians are reported:
absolute figures drift on this machine; the ratio within a round is the result.

    bench/zerocopy [--sizes 16384,524288,1048576] [--rounds 3] [--duration 3] [--out DIR]
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


def rp_counters(port):
    st = C.http_json(port)["ringproxy"]
    return {k: int(st.get(k, 0)) for k in ("syscalls", "zc_sends", "zc_copied")}


def run_one(procs, tmp, bins, size, zc_min, duration, conns, seed):
    mport, port, sport = C.free_port(), C.free_port(), C.free_port()
    mc = procs.spawn(["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p", str(mport), "-U", "0",
                      "-t", "1", "-m", "1024", "-I", "2m"])
    C.wait_port(mport, mc, "memcached")
    conf = os.path.join(tmp, f"zc-{port}.yml")
    with open(conf, "w") as f:
        f.write(f"ringproxy:\n  workers: 1\n  io: uring\n  zero_copy_min: {zc_min}\n"
                f"bench:\n  listen: 127.0.0.1:{port}\n  hash: fnv1a_64\n"
                f"  distribution: ketama\n  preconnect: true\n  servers:\n"
                f"   - 127.0.0.1:{mport}:1\n")
    logf = os.path.join(tmp, f"rp-{port}.log")
    rp = procs.spawn([bins["ringproxy"], "-c", conf, "-s", str(sport), "-a", "127.0.0.1"], logf)
    try:
        C.wait_port(port, rp, "ringproxy")
        keys = max(16, min(256, (64 << 20) // size))
        base = [bins["loadgen"], "-s", f"127.0.0.1:{port}", "-k", str(keys), "-v", str(size)]
        subprocess.run(base + ["-c", "4", "--prefill", "-n", "1", "--json"], check=True,
                       capture_output=True, timeout=120)
        before = rp_counters(sport)
        cpu0 = C.cpu_seconds(rp.pid)
        out = subprocess.run(base + ["-c", str(conns), "-t", "1", "-d", "1", "--ratio", "0:1",
                                     "-D", f"{duration:g}", "--seed", str(seed), "--json"],
                             check=True, capture_output=True, timeout=duration + 60, text=True)
        cpu1 = C.cpu_seconds(rp.pid)
        after = rp_counters(sport)
        lg = json.loads(out.stdout)
    finally:
        procs.stop(rp)
        procs.stop(mc)
    # loadgen's counters cover its measured window; the process counters cover a little more
    # (connection set-up, the drain): the same small excess on both sides of the comparison
    reqs = max(1, int(lg["requests"]))
    d = {k: after[k] - before[k] for k in after}
    if lg["errors"] or lg["misses"]:
        raise RuntimeError(f"size {size}: {lg['errors']} errors, {lg['misses']} misses")
    return dict(size=size, zc_min=zc_min, rps=lg["ops_per_sec"], p50_us=lg["p50_us"],
                p99_us=lg["p99_us"], cpu_us=(cpu1 - cpu0) * 1e6 / reqs,
                syscalls=d["syscalls"] / reqs, zc_sends=d["zc_sends"] / reqs,
                zc_copied=d["zc_copied"] / reqs, requests=reqs)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="16384,65536,524288,1048576")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--threshold", type=int, default=16384,
                    help="zero_copy_min of the 'on' runs (default 16384)")
    ap.add_argument("--ringproxy", default=os.path.join(ROOT, "build", "ringproxy"))
    ap.add_argument("--loadgen", default=os.path.join(ROOT, "bench", "build", "loadgen"))
    ap.add_argument("--out", help="directory for results.json and results.md")
    o = ap.parse_args(argv)
    bins = dict(ringproxy=o.ringproxy, loadgen=o.loadgen)
    sizes = [int(x) for x in o.sizes.split(",")]
    procs = C.Procs()
    runs = []
    with tempfile.TemporaryDirectory(prefix="rp-zc-") as tmp:
        os.chmod(tmp, 0o755)
        try:
            for rnd in range(o.rounds):
                for size in sizes:
                    for zc in (0, o.threshold):
                        r = run_one(procs, tmp, bins, size, zc, o.duration, o.conns, 1000 + rnd)
                        r["round"] = rnd
                        runs.append(r)
                        C.log(f"round {rnd} size {size} zero_copy_min {zc}: "
                              f"{r['rps']:.0f} req/s, {r['cpu_us']:.1f} CPU-us/req, "
                              f"{r['syscalls']:.2f} calls/req, zc {r['zc_sends']:.2f}/req")
        finally:
            procs.stop_all()
    rows = []
    for size in sizes:
        med = {}
        for zc in (0, o.threshold):
            rs = [r for r in runs if r["size"] == size and r["zc_min"] == zc]
            med[zc] = {k: statistics.median(r[k] for r in rs)
                       for k in ("rps", "p50_us", "p99_us", "cpu_us", "syscalls", "zc_sends",
                                 "zc_copied")}
        # the within-round ratio, then its median: the drift between rounds cancels
        ratio = {k: statistics.median(
            next(r[k] for r in runs if r["size"] == size and r["zc_min"] == o.threshold
                 and r["round"] == rnd) /
            max(1e-9, next(r[k] for r in runs if r["size"] == size and r["zc_min"] == 0
                           and r["round"] == rnd)) for rnd in range(o.rounds))
            for k in ("rps", "cpu_us")}
        rows.append(dict(size=size, off=med[0], on=med[o.threshold], ratio=ratio))
    lines = ["| value | zero-copy | req/s | p50 µs | p99 µs | CPU µs/req | calls/req | "
             "zc sends/req | copied by the kernel/req | on/off req/s | on/off CPU |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for name, m in (("off", row["off"]), (f"≥ {o.threshold}", row["on"])):
            tail = (f" {row['ratio']['rps']:.2f} | {row['ratio']['cpu_us']:.2f} |"
                    if name != "off" else " | |")
            lines.append(f"| {row['size'] >> 10} KiB | {name} | {m['rps']:.0f} | {m['p50_us']:.0f}"
                         f" | {m['p99_us']:.0f} | {m['cpu_us']:.1f} | {m['syscalls']:.2f} | "
                         f"{m['zc_sends']:.2f} | {m['zc_copied']:.2f} |" + tail)
    table = "\n".join(lines)
    print(table)
    if o.out:
        os.makedirs(o.out, exist_ok=True)
        with open(os.path.join(o.out, "results.json"), "w") as f:
            json.dump(dict(runs=runs, rows=rows, args=vars(o), time=time.time()), f, indent=1)
        with open(os.path.join(o.out, "results.md"), "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Routes and resharding warm-up (issue 13), ringproxy/io_uring with one worker:

  1. the cost of a replicated write: sets through a pool of 2 memcached, and through a
     `replicate` route over two such pools (writes: all, then writes: one);
  2. the cost of the warm-up read path: gets of keys that moved (a miss on the new server, a
     hit on the old one, a copy) against gets that hit at once;
  3. the hit rate over time after a third server joins a pool of 2 by reload, with and without
     `reshard_warmup`, 90% gets / 10% sets over 20,000 keys, read in 0.25 s windows. Written to
     OUT/hitrate.tsv and, with gnuplot, OUT/hitrate.png.

    bench/routes [--duration 3] [--rounds 3] [--out DIR]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare as C  # noqa: E402  (process handling, ports, /proc readers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NKEYS = 20000


def servers(ports):
    return "".join(f"   - 127.0.0.1:{p}:1\n" for p in ports)


def plain_conf(port, ports, warmup=0):
    return (f"p:\n  listen: 127.0.0.1:{port}\n  hash: fnv1a_64\n  distribution: ketama\n"
            f"  timeout: 2000\n  preconnect: true\n  reshard_warmup: {warmup}\n"
            f"  servers:\n{servers(ports)}")


def route_conf(port, ports, writes):
    pool = ("  hash: fnv1a_64\n  distribution: ketama\n  timeout: 2000\n  preconnect: true\n"
            "  servers:\n")
    return (f"p:\n  listen: 127.0.0.1:{port}\n  route:\n    replicate: [east, west]\n"
            f"    writes: {writes}\n"
            f"east:\n{pool}{servers(ports[:2])}west:\n{pool}{servers(ports[2:4])}")


class Proxy:
    def __init__(self, procs, tmp, binary, text):
        self.procs, self.port, self.sport = procs, None, C.free_port()
        self.path = os.path.join(tmp, f"routes-{self.sport}.yml")
        self.text = text
        with open(self.path, "w") as f:
            f.write(text)
        self.log = os.path.join(tmp, f"routes-{self.sport}.log")
        self.proc = procs.spawn([binary, "-c", self.path, "-s", str(self.sport), "-a",
                                 "127.0.0.1", "-o", self.log, "--io=uring", "--workers=1"],
                                self.log)

    def wait(self, port):
        self.port = port
        C.wait_port(port, self.proc, "ringproxy")
        time.sleep(0.2)

    def stats(self):
        return C.http_json(self.sport)["ringproxy"]

    def reload(self, text):
        with open(self.path, "w") as f:
            f.write(text)
        before = self.stats()["conf_reloads"]
        os.kill(self.proc.pid, signal.SIGHUP)
        end = time.time() + 10
        while time.time() < end and self.stats()["conf_reloads"] == before:
            time.sleep(0.02)
        time.sleep(0.1)


def load(lg, port, args, duration, seed=1):
    out = subprocess.run([lg, "-s", f"127.0.0.1:{port}", "-k", str(NKEYS), "--key-prefix", "key:",
                          "-v", "100", "-D", f"{duration:g}", "--seed", str(seed), "--json", *args],
                         check=True, capture_output=True, text=True, timeout=duration + 60)
    return json.loads(out.stdout)


def prefill(lg, port):
    subprocess.run([lg, "-s", f"127.0.0.1:{port}", "-c", "16", "-k", str(NKEYS), "--key-prefix",
                    "key:", "-v", "100", "--prefill", "-n", "1", "--json"], check=True,
                   capture_output=True, timeout=300)


def measured(proxy, lg, args, duration, seed):
    cpu0 = C.cpu_seconds(proxy.proc.pid)
    r = load(lg, proxy.port, args, duration, seed)
    cpu1 = C.cpu_seconds(proxy.proc.pid)
    reqs = max(1, int(r["requests"]))
    return dict(rps=r["ops_per_sec"], p50=r["p50_us"], p99=r["p99_us"],
                cpu=(cpu1 - cpu0) * 1e6 / reqs, misses=r["misses"] / reqs, errors=r["errors"])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ringproxy", default=os.path.join(ROOT, "build", "ringproxy"))
    ap.add_argument("--loadgen", default=os.path.join(ROOT, "bench", "build", "loadgen"))
    ap.add_argument("--out", default=None)
    o = ap.parse_args(argv)
    out_dir = o.out or tempfile.mkdtemp(prefix="rp-routes-out-")
    os.makedirs(out_dir, exist_ok=True)
    procs = C.Procs()
    rows = []
    series = {}
    with tempfile.TemporaryDirectory(prefix="rp-routes-") as tmp:
        try:
            def memcached(n):
                ps = []
                for _ in range(n):
                    port = C.free_port()
                    mc = procs.spawn(["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p",
                                      str(port), "-U", "0", "-t", "1", "-m", "64"])
                    ps.append((port, mc))
                for port, mc in ps:
                    C.wait_port(port, mc, "memcached")
                return ps

            mcs = memcached(4)
            ports = [p for p, _ in mcs]
            sets = ["-c", "8", "-t", "1", "-d", "1", "--ratio", "1:0"]
            # 1. replicated writes
            for rnd in range(o.rounds):
                for name, text in (("plain pool, 2 servers", lambda p: plain_conf(p, ports[:2])),
                                   ("replicate, writes: all", lambda p: route_conf(p, ports, "all")),
                                   ("replicate, writes: one", lambda p: route_conf(p, ports, "one"))):
                    port = C.free_port()
                    px = Proxy(procs, tmp, o.ringproxy, text(port))
                    px.wait(port)
                    r = measured(px, o.loadgen, sets, o.duration, 10 + rnd)
                    r.update(round=rnd, what=name, part="writes")
                    rows.append(r)
                    C.log(f"round {rnd} sets, {name}: {r['rps']:.0f}/s, p99 {r['p99']:.0f} us, "
                          f"{r['cpu']:.1f} us/req")
                    procs.stop(px.proc)
            for _, mc in mcs:
                procs.stop(mc)

            # 2. the warm-up read path, and 3. the hit rate over time
            gets = ["-c", "8", "-t", "1", "-d", "1", "--ratio", "0:1"]
            mixed = ["-c", "8", "-t", "1", "-d", "1", "--ratio", "1:9"]
            for rnd in range(o.rounds):
                for warm in (0, 600):
                    mcs = memcached(3)
                    ports = [p for p, _ in mcs]
                    port = C.free_port()
                    px = Proxy(procs, tmp, o.ringproxy, plain_conf(port, ports[:2], warm))
                    px.wait(port)
                    prefill(o.loadgen, port)
                    if rnd == 0:
                        # the hit rate over time: 2 s before the reload, 8 s after
                        pts, t0 = [], time.monotonic()
                        reloaded = False
                        while time.monotonic() - t0 < 10:
                            if not reloaded and time.monotonic() - t0 >= 2:
                                px.reload(plain_conf(port, ports, warm))
                                reloaded = True
                            t = time.monotonic() - t0
                            r = load(o.loadgen, port, mixed, 0.25, int(t * 1000))
                            reqs = max(1, r["requests"])
                            # loadgen counts misses of gets; 10% of requests are sets
                            pts.append((t, 1 - r["misses"] / (0.9 * reqs)))
                        series[warm] = pts
                    else:
                        px.reload(plain_conf(port, ports, warm))
                    before = px.stats()
                    r = measured(px, o.loadgen, gets, o.duration, 20 + rnd)
                    after = px.stats()
                    r.update(round=rnd, part="reads",
                             what=("gets after the reload, warm-up on" if warm
                                   else "gets after the reload, warm-up off"),
                             warm_hits=(after["warm_hits"] - before["warm_hits"]))
                    rows.append(r)
                    C.log(f"round {rnd} gets, warm-up {warm}: {r['rps']:.0f}/s, "
                          f"p99 {r['p99']:.0f} us, {r['cpu']:.1f} us/req, misses "
                          f"{r['misses']:.3f}, warm hits {r['warm_hits']}")
                    procs.stop(px.proc)
                    for _, mc in mcs:
                        procs.stop(mc)
        finally:
            procs.stop_all()

    lines = ["| part | target | req/s | p50 µs | p99 µs | CPU µs/req | misses / req |",
             "|---|---|---|---|---|---|---|"]
    for part in ("writes", "reads"):
        for what in dict.fromkeys(r["what"] for r in rows if r["part"] == part):
            rs = [r for r in rows if r["what"] == what]
            m = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu",
                                                                    "misses")}
            lines.append(f"| {part} | {what} | {m['rps']:.0f} | {m['p50']:.0f} | {m['p99']:.0f} "
                         f"| {m['cpu']:.1f} | {m['misses']:.3f} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(dict(rows=rows, series={str(k): v for k, v in series.items()}), f, indent=1)
    tsv = os.path.join(out_dir, "hitrate.tsv")
    with open(tsv, "w") as f:
        f.write("# seconds\thit rate (warm-up off)\thit rate (warm-up on)\n")
        for (t0, h0), (t1, h1) in zip(series.get(0, []), series.get(600, [])):
            f.write(f"{t0:.2f}\t{h0:.4f}\t{t1:.2f}\t{h1:.4f}\n")
    png = os.path.join(out_dir, "hitrate.png")
    script = (f"set terminal pngcairo size 800,400 noenhanced\nset output '{png}'\n"
              "set xlabel 'seconds (a third server joins at 2 s)'\nset ylabel 'get hit rate'\n"
              "set yrange [0:1.05]\nset key bottom right\n"
              f"plot '{tsv}' using 1:2 with linespoints title 'reshard_warmup: 0', "
              f"'{tsv}' using 3:4 with linespoints title 'reshard_warmup: 600'\n")
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True, timeout=30)
        print(f"plot: {png}")
    except (OSError, subprocess.SubprocessError) as e:
        print(f"no plot ({e}); the series is in {tsv}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

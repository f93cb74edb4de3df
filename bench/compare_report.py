"""bench/compare's report: RESULTS.md (medians over rounds, ratio columns) and the
latency-vs-throughput plot (gnuplot) from the results.json that bench/compare.py writes.
Re-render one with `bench/compare --report DIR/results.json`."""
import os
import statistics
import subprocess

PLOT_STYLE = {  # gnuplot line colours, fixed per target so that plots compare
    "mc": "#888888", "floor": "#2ca02c", "nc4": "#d62728", "nc1": "#ff9896",
    "rpu4": "#1f77b4", "rpu1": "#17becf", "rpe4": "#9467bd", "rpe1": "#c5b0d5",
    "rpu4w": "#08306b", "rpe4w": "#54278f",
}


# The tables of target groups (a target's groups are in its TARGETS entry in compare.py): the
# reference rows of the ratio columns (nc: nutcracker, ep: ringproxy/epoll, floor), the direct
# row, and the summary table the group's trio (nutcracker, ringproxy/io_uring, ringproxy/epoll)
# goes to.
GROUPS = [
    dict(id="pool4", title="4-server pool", direct="mc", nc="nc4", uring="rpu4", ep="rpe4",
         summary="4-server pool, one worker"),
    dict(id="one", title="one server (memcached #0)", direct="mc", nc="nc1", uring="rpu1",
         ep="rpe1", floor="floor"),
    dict(id="rd1", title="redis, one server (redis-server #0)", direct="rd", nc="ncr1",
         uring="rpur1", ep="rper1", summary="redis, one worker"),
    dict(id="rd4", title="redis, 4-server pool", direct="rd", nc="ncr4", uring="rpur4",
         ep="rper4", summary="redis, one worker"),
]
REF_EP = {"rpu4w": "rpe4w", "rpe4w": "rpe4w"}  # others: the 1-worker epoll of their group
DIRECT_NOTE = {
    "mc": "memcached #0 served directly: its CPU, system calls and RSS (the data included) in "
          "the target columns.",
    "rd": "redis-server #0 served directly: its CPU, system calls and RSS (the data included) in "
          "the target columns.",
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    """Half the range over the median, in percent: how far the rounds were apart."""
    xs = [x for x in xs if x is not None]
    if len(xs) < 2 or not statistics.median(xs):
        return None
    return (max(xs) - min(xs)) / 2 / statistics.median(xs) * 100


def fmt_rate(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e4:
        return f"{x / 1e3:.1f}k"
    if x >= 1e3:
        return f"{x / 1e3:.2f}k"
    return f"{x:.0f}"


def fmt_us(x):
    if x is None:
        return "–"
    if x >= 10000:
        return f"{x / 1000:.1f} ms"
    return f"{x:.0f}"


def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}"


def with_spread(text, sp):
    return text if sp is None or sp < 3 else f"{text} ±{sp:.0f}%"


def div(a, b):
    return a / b if a is not None and b else None


class Agg:
    """Medians over rounds of one (workload, target)."""

    def __init__(self, runs):
        self.runs = runs
        lg = [r["loadgen"] for r in runs if r.get("loadgen")]
        g = lambda k: [x[k] for x in lg]  # noqa: E731
        self.n = len(runs)
        self.ops = med(g("ops_per_sec"))
        self.ops_sp = spread(g("ops_per_sec"))
        self.keys = med(g("keys_per_sec"))
        self.p50, self.p99, self.p999 = med(g("p50_us")), med(g("p99_us")), med(g("p999_us"))
        self.cpu = med([r.get("cpu_us_per_req") for r in runs])
        self.cpu_sp = spread([r.get("cpu_us_per_req") for r in runs])
        self.sc = med([r.get("syscalls_per_req") for r in runs])
        self.rss = med([r.get("rss_kib") for r in runs])
        self.backend = med([r.get("backend_cpu_us_per_req") for r in runs])
        self.backend_sc = med([r.get("backend_syscalls_per_req") for r in runs])
        self.client = med(g("client_cpu_us_per_op"))
        self.errors = sum(g("errors"))
        self.misses = sum(g("misses"))
        self.incomplete = sum(g("incomplete"))
        self.flagged = [r for r in runs if r.get("flags")]
        self.failed = self.n - len(lg)


def render(data):
    m = data["machine"]
    o = data["options"]
    wls = {w["id"]: w for w in data["workloads"]}
    tgs = {t["id"]: t for t in data["targets"]}
    by = {}
    for r in data["runs"]:
        by.setdefault((r["workload"], r["target"]), []).append(r)
    agg = {k: Agg(v) for k, v in by.items()}
    L = []
    w = L.append
    rounds = data.get("rounds_completed", o.get("rounds"))
    w("# bench/compare results\n")
    w(f"- date: {m['date']}; {m['elapsed_s'] / 60:.1f} min; load average (1/5/15 min) "
      f"at start {fmt_la(m['loadavg_start'])}, at end {fmt_la(m['loadavg_end'])}")
    w(f"- machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory']} RAM, {m['os']}, "
      f"kernel {m['kernel']}")
    fleets = {wl.get("fleet", "memcached") for wl in wls.values()
              if any(r["workload"] == wl["id"] for r in data["runs"])}
    servers = [m.get(k) for k in ("memcached", "redis") if k in fleets or k == "memcached"
               and not data["runs"]]
    w(f"- software: {', '.join(x for x in servers if x)}, "
      f"{' '.join(m['nutcracker'])}, tree {m['git']}"
      + (" (uncommitted changes under src/ uring/ proto/ hash/ conf/ bench/floor: see "
         "results.json)" if m.get("git_status_src") else ""))
    las = [x for r in data["runs"] for x in (r["loadavg_before"][0], r["loadavg_after"][0])]
    if las:
        w(f"- 1-minute load average seen between runs: {min(las):.2f} to {max(las):.2f} "
          f"(median {statistics.median(las):.2f}); the machine has {m['nproc']} CPUs")
    oth = [r["other_cpus"] for r in data["runs"] if "other_cpus" in r]
    if oth:
        busy = [r["other_cpus"] for r in data["runs"] if r["other_cpus"] > 0.25]
        w(f"- other processes (not this suite's: another engineer's tests) used a median of "
          f"{statistics.median(oth):.2f} CPUs during the measured windows, at most "
          f"{max(oth):.2f}; {len(busy)} of {len(oth)} runs saw more than 0.25 CPUs (flagged)")
    w(f"- runs: {rounds} interleaved rounds of {o['duration']:g} s per (workload, target), "
      f"targets shuffled anew each round; figures are medians over rounds, `±x%` is half the "
      f"range between rounds when above 3%; system calls counted: "
      f"{'yes' if data['perf'] else 'no (perf unavailable)'}")
    if "memcached" in fleets or not data["runs"]:
        w("- memcached: 4 instances, `-t 1 -m 256 -I 2m -c 12000`; the pools: fnv1a_64, ketama, "
          "timeout 2000, preconnect, 1 server connection; ringproxy and the floor with the same "
          "arena (1024 x 16 KiB); keys prefilled, so gets hit")
    if "redis" in fleets:
        w("- redis: 4 redis-server instances, `--save '' --appendonly no`; the same pools with "
          "`redis: true`, over redis-server #0 (r1, r2) or all 4 (r3); keys prefilled, so GETs "
          "hit. No floor row: the floor frames memcached text only")
    w("")
    w(METHOD)
    flagged_any = [r for r in data["runs"] if r.get("flags")]
    ev = data.get("events") or []
    if flagged_any or ev or any(i.get("flags") for i in data.get("idle", [])):
        w(f"**Flags:** {len(flagged_any)} run(s) flagged, {len(ev)} event(s); "
          "see [Flags](#flags). A ⚠ marks a median with a flagged run among its rounds.\n")

    # summary: per table, the trio of each group that goes to it
    for title in dict.fromkeys(g["summary"] for g in GROUPS if g.get("summary")):
        rows = [(wid, wl, g) for g in GROUPS if g.get("summary") == title
                for wid, wl in wls.items()
                if all((wid, g[k]) in agg for k in ("nc", "uring", "ep"))]
        if not rows:
            continue
        w(f"## Summary: {title}\n")
        w("| workload | nutcracker ops/s | ringproxy/io_uring ops/s | ringproxy/epoll ops/s | "
          "io_uring ÷ nutcracker (ops / CPU / p99) | io_uring ÷ epoll (ops / CPU / p99) | "
          "CPU µs/req nutcracker / io_uring / epoll | p99 µs nutcracker / io_uring / epoll |")
        w("|---|---|---|---|---|---|---|---|")
        for wid, wl, g in rows:
            nc, u, e = (agg[(wid, g[k])] for k in ("nc", "uring", "ep"))
            w(f"| {wid}: {wl['title']} | {fmt_rate(nc.ops)} | {fmt_rate(u.ops)} | "
              f"{fmt_rate(e.ops)} | {triple(u, nc)} | {triple(u, e)} | "
              f"{' / '.join(fmt(x.cpu) for x in (nc, u, e))} | "
              f"{' / '.join(fmt_us(x.p99) for x in (nc, u, e))} |")
        w("")
    if any((wid, "floor") in agg for wid in wls):
        w("## Summary: one server, ringproxy/io_uring against the floor\n")
        w("Targets: ringproxy/io_uring within 15% of the floor in CPU per request and within "
          "10% in throughput on w1, w3, w4 (w4 runs at a fixed rate, so its throughput ratio "
          "is 1 by construction; its latency is in the table).\n")
        w("| workload | floor ops/s | ringproxy/io_uring ops/s | ops ratio | CPU µs/req floor / "
          "ringproxy | CPU ratio | p99 µs floor / ringproxy | syscalls/req floor / ringproxy "
          "| target met |")
        w("|---|---|---|---|---|---|---|---|---|")
        for wid, wl in wls.items():
            f, r = agg.get((wid, "floor")), agg.get((wid, "rpu1"))
            if not (f and r):
                continue
            ops_r, cpu_r = div(r.ops, f.ops), div(r.cpu, f.cpu)
            met = "–"
            if wid in ("w1", "w3", "w4") and ops_r and cpu_r:
                ok_ops, ok_cpu = ops_r >= 0.90, cpu_r <= 1.15
                met = ("yes" if ok_ops and ok_cpu else
                       "no (" + ", ".join(x for x, ok in (("throughput", ok_ops),
                                                         ("CPU", ok_cpu)) if not ok) + ")")
            w(f"| {wid} | {fmt_rate(f.ops)} | {fmt_rate(r.ops)} | {fmt_ratio(ops_r)} | "
              f"{fmt(f.cpu)} / {fmt(r.cpu)} | {fmt_ratio(cpu_r)} | {fmt_us(f.p99)} / "
              f"{fmt_us(r.p99)} | {fmt(f.sc)} / {fmt(r.sc)} | {met} |")
        w("")

    # per workload
    for g in GROUPS:
        tids = [t["id"] for t in data["targets"] if g["id"] in t.get("groups", ())]
        present = [wid for wid in wls if any((wid, t) in agg for t in tids if t != g["direct"])]
        if not present:
            continue
        w(f"## Per workload: {g['title']}\n")
        floor = g.get("floor")
        for wid in present:
            wl = wls[wid]
            w(f"### {wid}: {wl['title']}\n")
            if wl["width"] > 1:
                w(f"ops/s counts requests of {wl['width']} keys (keys/s = {wl['width']} x "
                  "ops/s).\n")
            extra = " ÷ floor (ops / CPU / p99) |" if floor else ""
            w("| target | ops/s | p50 µs | p99 µs | p99.9 µs | CPU µs/req | syscalls/req | "
              "RSS MiB | backends' CPU µs/req | backends' syscalls/req | loadgen CPU µs/req | "
              "errors | misses | ÷ nutcracker (ops / CPU / p99) | ÷ ringproxy/epoll (ops / CPU / "
              "p99) |" + extra)
            w("|---" * (16 + (1 if floor else 0)) + "|")
            for t in tids:
                a = agg.get((wid, t))
                if not a:
                    continue
                nc = agg.get((wid, g["nc"]))
                ep_id = REF_EP.get(t, g["ep"])
                ep = agg.get((wid, ep_id))
                mark = " ⚠" if a.flagged else ""
                direct = t == g["direct"]
                label = tgs[t]["label"] + (" ¹" if direct else "")
                row = (f"| {label}{mark} | {with_spread(fmt_rate(a.ops), a.ops_sp)} | "
                       f"{fmt_us(a.p50)} | {fmt_us(a.p99)} | {fmt_us(a.p999)} | "
                       f"{with_spread(fmt(a.cpu), a.cpu_sp)} | {fmt(a.sc)} | "
                       f"{fmt(a.rss / 1024 if a.rss else None, 1)} | "
                       f"{fmt(a.backend) if not direct else '–'} | "
                       f"{fmt(a.backend_sc) if not direct else '–'} | {fmt(a.client)} | "
                       f"{a.errors} | {a.misses} | "
                       f"{triple(a, nc) if t != g['nc'] else '1'} | "
                       f"{triple(a, ep) if t != ep_id else '1'} |")
                if floor:
                    fl = agg.get((wid, floor))
                    row += f" {triple(a, fl) if t != floor else '1'} |"
                w(row)
            w(f"\n¹ {DIRECT_NOTE[g['direct']]}\n")
            missing = [t for t in tids if (wid, t) not in agg]
            if missing:
                w("Not measured: " + ", ".join(tgs[t]["label"] for t in missing)
                  + " (see [Flags](#flags)).\n")

    # idle
    idle = data.get("idle") or []
    if idle:
        w(f"## w5: memory per idle connection ({idle[0]['connections']:,} connections)\n")
        w("ΔRSS / connections of a freshly started target: RSS before, then after all "
          "connections are open (loadgen `--idle`, 2 threads). Untouched: connect only; "
          "touched: one get answered on each first (buffers a first read allocates). "
          "Medians over rounds when more than one.\n")
        w("| target | RSS at start MiB | untouched B/conn | touched B/conn | flags |")
        w("|---|---|---|---|---|")
        seen = []
        for i in idle:
            if i["target"] not in seen:
                seen.append(i["target"])
        for t in seen:
            un = [i for i in idle if i["target"] == t and not i["touch"]]
            to = [i for i in idle if i["target"] == t and i["touch"]]
            fl = sorted({f for i in un + to for f in i.get("flags", [])})
            w(f"| {shape_label(tgs[t])} | "
              f"{fmt(med([i['rss0_kib'] / 1024 for i in un + to]), 1)} | "
              f"{fmt(med([i['bytes_per_conn'] for i in un]), 0)} | "
              f"{fmt(med([i['bytes_per_conn'] for i in to]), 0)} | {'; '.join(fl) or ''} |")
        w("")

    # sweep
    sw = data.get("sweep") or []
    if sw:
        w("## Latency against throughput (open loop, workload 1)\n")
        w("Open loop (`--rate`, fixed schedule, at most one request in flight per connection, "
          "latency from the intended send time) at rising rates, "
          f"{o['sweep_duration']:g} s per point after a {0.5:g} s warmup, one pass, the "
          "targets interleaved at each rate; a target leaves the sweep after two points below "
          "90% of the asked rate, with p99 above 20 ms or with requests left unanswered.\n")
        w("![p99 against throughput](latency.png)\n")
        order = []
        for p in sw:
            if p["target"] not in order:
                order.append(p["target"])
        rates = sorted({p["rate"] for p in sw})
        w("| asked /s | " + " | ".join(shape_label(tgs[t]) for t in order) + " |")
        w("|---" * (len(order) + 1) + "|")
        for rate in rates:
            cells = []
            for t in order:
                p = next((p for p in sw if p["target"] == t and p["rate"] == rate), None)
                if not p:
                    cells.append("")
                elif not p.get("loadgen") or "server_rate" not in p:
                    cells.append("failed")
                else:
                    r = p["loadgen"]
                    cells.append(f"{fmt_rate(p['server_rate'])}, p99 {fmt_us(r['p99_us'])}"
                                 + (f", {fmt(p.get('cpu_us_per_req'), 1)} µs/req"
                                    if p.get("cpu_us_per_req") else "")
                                 + (f", {r['incomplete']} incomplete" if r["incomplete"] else ""))
            w(f"| {fmt_rate(rate)} | " + " | ".join(cells) + " |")
        w("\nCells: achieved requests/s (counted by the servers inside the window), p99 µs "
          "(from the intended send times), the target's CPU per request.\n")

    # flags
    if flagged_any or ev or any(i.get("flags") for i in idle):
        w("## Flags\n")
        for r in flagged_any:
            w(f"- round {r['round'] + 1}, {r['workload']}, {tgs[r['target']]['label']} "
              f"({r['target']}): {'; '.join(r['flags'])}")
        for i in idle:
            if i.get("flags"):
                w(f"- idle {'touched' if i['touch'] else 'untouched'}, {i['label']}: "
                  f"{'; '.join(i['flags'])}")
        for e in ev:
            w(f"- event {e['kind']} {e['target']}: `{e['text'][:600]}`")
        w("")
    if data.get("evictions") and any(data["evictions"].values()):
        w(f"memcached evictions at the end: {data['evictions']} (gets may have missed)\n")
    return "\n".join(L) + "\n"


METHOD = """How each figure is taken (bench/compare.py, `measure()`): ops/s and latency are loadgen's
over its whole window. CPU µs/req is the target's utime + stime (/proc/PID/stat, all threads,
10 ms ticks) over a window inside the run, divided by the requests the memcached servers counted
in the same window (cmd_get / keys per request + cmd_set); for `memcached (direct)` it is
memcached's own CPU. The redis workloads count alike: keyspace_hits + keyspace_misses (INFO
stats: one per key that a GET or an MGET reads) / keys per request + SET's calls (INFO
commandstats), summed over the 4 redis-servers. System calls per request come from `perf stat -e
raw_syscalls:sys_enter -p PID` over a second window of the same run, after the CPU window: the
tracepoint costs about 0.3 µs per system call, which would add some 20% to nutcracker's CPU, so it
is kept out of the CPU figure. RSS is the largest VmRSS seen in the windows. Backends' CPU: the 4
memcached (the 4 redis-servers) together, per request. On 2 cores the load generator, the proxy
and the backends share the CPUs: throughput is a property of the whole machine, and the CPU per
request is the figure that belongs to the proxy alone (loopback receive work is charged to
whichever process was running when the softirq ran, so part of the servers' TCP work lands on the
proxy and back).
"""


def triple(a, ref):
    if not a or not ref:
        return "–"
    return (f"{fmt_ratio(div(a.ops, ref.ops))} / {fmt_ratio(div(a.cpu, ref.cpu))} / "
            f"{fmt_ratio(div(a.p99, ref.p99))}")


def shape_label(t):
    """A target's label with its pool: 'nutcracker, 4 servers'."""
    pool = {4: "4 servers", 1: "1 server"}.get(t.get("pool"))
    return f"{t['label']}, {pool}" if pool else t["label"]


def fmt_la(la):
    return " / ".join(f"{x:.2f}" for x in la)


def plot(data, out, gnuplot):
    tgs = {t["id"]: t for t in data["targets"]}
    sw = [p for p in data["sweep"] if p.get("loadgen") and p.get("server_rate")]
    order = []
    for p in sw:
        if p["target"] not in order:
            order.append(p["target"])
    series = []
    for t in order:
        pts = sorted((p for p in sw if p["target"] == t), key=lambda p: p["rate"])
        path = os.path.join(out, f"sweep-{t}.dat")
        with open(path, "w") as f:
            f.write("# asked_per_s achieved_per_s p50_us p99_us p999_us incomplete "
                    "cpu_us_per_req\n")
            for p in pts:
                r = p["loadgen"]
                f.write(f"{p['rate']} {p['server_rate']:.0f} {r['p50_us']} {r['p99_us']} "
                        f"{r['p999_us']} {r['incomplete']} {p.get('cpu_us_per_req', 0):.2f}\n")
        label = shape_label(tgs[t])
        series.append((os.path.basename(path), label, PLOT_STYLE.get(t, "#000000")))
    m = data["machine"]
    title = (f"workload 1 (32 conns, 90% get, 100 B), open loop - {m['nproc']} CPUs, "
             f"{m['date'][:10]}")
    plots = ", \\\n     ".join(
        f"'{f}' using ($2/1000):($4/1000) with linespoints lw 2 pt 7 ps 0.6 lc rgb '{c}' "
        f"title '{lab}'" for f, lab, c in series)
    body = f"""set title "{title}"
set xlabel 'achieved throughput (thousand requests/s)'
set ylabel 'p99 latency (ms, log scale)'
set logscale y
set format y '%g'
set grid
set key top left
set xrange [0:*]
plot {plots}
"""
    gp = os.path.join(out, "latency.gp")
    with open(gp, "w") as f:
        f.write("# gnuplot latency.gp (in this directory) writes latency.svg and latency.png\n")
        f.write("set terminal svg size 1000,620 dynamic noenhanced font 'sans,12'\n")
        f.write("set output 'latency.svg'\n" + body)
        f.write("set terminal pngcairo size 1000,620 noenhanced font 'sans,10'\n")
        f.write("set output 'latency.png'\nreplot\n")
    if gnuplot:
        r = subprocess.run([gnuplot, "latency.gp"], cwd=out, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            print(f"gnuplot failed: {r.stderr}")

#!/usr/bin/env python3
"""What the backends receive: 4 memcached behind nutcracker, ringproxy/io_uring and
ringproxy/epoll (one worker), the same load through each (w1: 32 connections, 90% get / 10%
set, 100 B; w3: 8 connections, 100-key gets), and strace on one of the memcached for the
window. Per request the proxy received, for that memcached: its reads and the bytes of each,
its sends (sendmsg) and the bytes of each, its epoll_wait calls, and from its stats the keys it
looked up. strace slows memcached down, the same for every proxy; the counts per request are
what to compare, not the rates.

    bench/backend_reads [--duration 3] [--rounds 2] [--only w1,w3]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare as C  # noqa: E402  (process handling, ports, memcached stats)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = {
    "w1": ["-c", "32", "-t", "1", "-d", "1"],
    "w3": ["-c", "8", "-t", "1", "-d", "1", "-w", "100", "--ratio", "0:1"],
}
CALL = re.compile(r"^\d+\s+(read|sendmsg|epoll_wait|recvfrom|writev|write)\((.*)\)\s+=\s+(-?\d+)")


def conf(port, servers):
    lines = ["bench:", f"  listen: 127.0.0.1:{port}", "  hash: fnv1a_64",
             "  distribution: ketama", "  timeout: 2000", "  preconnect: true",
             "  auto_eject_hosts: false", "  server_connections: 1", "  servers:"]
    lines += [f"   - 127.0.0.1:{p}:1" for p in servers]
    return "\n".join(lines) + "\n"


def start(procs, tmp, bins, kind, servers):
    port, sport = C.free_port(), C.free_port()
    name = kind.replace("/", "-")
    path = os.path.join(tmp, f"{name}-{port}.yml")
    with open(path, "w") as f:
        f.write(conf(port, servers))
    logf = os.path.join(tmp, f"{name}-{port}.log")
    if kind == "nutcracker":
        args = [bins["nutcracker"], "-c", path, "-s", str(sport), "-a", "127.0.0.1", "-o", logf]
    else:
        args = [bins["ringproxy"], "-c", path, "-s", str(sport), "-a", "127.0.0.1", "-o", logf,
                "--io=" + kind.split("/")[1], "--workers=1"]
    p = procs.spawn(args, logf)
    C.wait_port(port, p, kind)
    time.sleep(0.3)  # preconnect
    return p, port


def summarize(path):
    """{call: [results]} of the traced calls (errors left out: EAGAIN reads)."""
    out = {}
    with open(path) as f:
        for line in f:
            m = CALL.match(line)
            if m and int(m.group(3)) >= 0:
                out.setdefault(m.group(1), []).append(int(m.group(3)))
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="w1,w3")
    ap.add_argument("--ringproxy", default=os.path.join(ROOT, "build", "ringproxy"))
    ap.add_argument("--loadgen", default=os.path.join(ROOT, "bench", "build", "loadgen"))
    ap.add_argument("--nutcracker", default="nutcracker")
    o = ap.parse_args(argv)
    bins = dict(ringproxy=o.ringproxy, loadgen=o.loadgen, nutcracker=o.nutcracker)
    kinds = ("nutcracker", "ringproxy/uring", "ringproxy/epoll")
    procs = C.Procs()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rp-backend-") as tmp:
        try:
            ports = []
            for _ in range(4):
                port = C.free_port()
                mc = procs.spawn(["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p",
                                  str(port), "-U", "0", "-t", "1", "-m", "64"])
                ports.append((port, mc))
            for port, mc in ports:
                C.wait_port(port, mc, "memcached")
            servers = [p for p, _ in ports]
            traced_port, traced = ports[0]
            stats = C.McStats(traced_port)
            p, port = start(procs, tmp, bins, "ringproxy/uring", servers)
            subprocess.run([bins["loadgen"], "-s", f"127.0.0.1:{port}", "-c", "16", "-k",
                            "100000", "--key-prefix", "key:", "-v", "100", "--prefill", "-n",
                            "1", "--json"], check=True, capture_output=True, timeout=300)
            procs.stop(p)
            for rnd in range(o.rounds):
                for wl in o.only.split(","):
                    for kind in kinds:
                        p, port = start(procs, tmp, bins, kind, servers)
                        trace = os.path.join(tmp, f"trace-{rnd}-{wl}-{kind.replace('/', '-')}")
                        gets0, sets0 = stats.counts()
                        st = subprocess.Popen(["strace", "-f", "-qq", "-o", trace, "-e",
                                               "trace=read,sendmsg,epoll_wait,recvfrom,writev,"
                                               "write", "-p", str(traced.pid)],
                                              stderr=subprocess.DEVNULL)
                        time.sleep(0.3)
                        lg = subprocess.run([bins["loadgen"], "-s", f"127.0.0.1:{port}", "-k",
                                             "100000", "--key-prefix", "key:", "-v", "100",
                                             *WORKLOADS[wl], "-D", f"{o.duration:g}",
                                             "--seed", str(7 + rnd), "--json"],
                                            check=True, capture_output=True, text=True,
                                            timeout=o.duration + 60)
                        st.terminate()
                        st.wait(10)
                        gets1, sets1 = stats.counts()
                        procs.stop(p)
                        reqs = max(1, json.loads(lg.stdout)["requests"])
                        calls = summarize(trace)
                        reads = calls.get("read", []) + calls.get("recvfrom", [])
                        sends = (calls.get("sendmsg", []) + calls.get("writev", []) +
                                 calls.get("write", []))
                        data_reads = [r for r in reads if r > 0]
                        rows.append(dict(
                            round=rnd, wl=wl, kind=kind, requests=reqs,
                            keys=(gets1 - gets0 + sets1 - sets0) / reqs,
                            reads=len(reads) / reqs,
                            empty_reads=(len(reads) - len(data_reads)) / reqs,
                            read_bytes=statistics.mean(data_reads) if data_reads else 0,
                            keys_per_read=((gets1 - gets0 + sets1 - sets0) / len(data_reads)
                                           if data_reads else 0),
                            sends=len(sends) / reqs,
                            send_bytes=statistics.mean(sends) if sends else 0,
                            waits=len(calls.get("epoll_wait", [])) / reqs))
                        r = rows[-1]
                        C.log(f"round {rnd} {wl} {kind}: per request {r['reads']:.3f} reads "
                              f"({r['empty_reads']:.3f} empty), {r['read_bytes']:.0f} B each, "
                              f"{r['keys_per_read']:.2f} keys per read, {r['sends']:.3f} sends "
                              f"of {r['send_bytes']:.0f} B, {r['waits']:.3f} epoll_waits")
        finally:
            procs.stop_all()
    print("| workload | proxy | keys at this memcached / request | reads / request | of them "
          "empty | bytes / read | keys / read | sends / request | bytes / send | epoll_waits "
          "/ request |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for wl in o.only.split(","):
        for kind in kinds:
            rs = [r for r in rows if r["wl"] == wl and r["kind"] == kind]
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0] if k not in
                   ("round", "wl", "kind")}
            print(f"| {wl} | {kind} | {med['keys']:.2f} | {med['reads']:.3f} | "
                  f"{med['empty_reads']:.3f} | {med['read_bytes']:.0f} | "
                  f"{med['keys_per_read']:.2f} | {med['sends']:.3f} | {med['send_bytes']:.0f} | "
                  f"{med['waits']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""A hostile soak of routes and resharding warm-up: random pipelines of memcached commands
(storage, gets and multi-gets, meta, quiet meta, arithmetic, flush_all, garbage, lines cut
short), clients that reset or vanish mid-request, servers killed and restarted, and a reload
that grows a warm-up pool, against ringproxy (an ASan build by default) with two workers. After
each phase the proxy must still answer, log no crash, and report nothing to the sanitizer.

    fuzz/soak_routes.py [--seconds 60] [--binary build/san/ringproxy]
"""
import argparse
import os
import random
import signal
import socket
import sys
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import rp_helpers as rp  # noqa: E402

COMMANDS = [b"get %s\r\n", b"set %s 0 0 3\r\nabc\r\n", b"delete %s\r\n", b"incr %s 1\r\n",
            b"get %s k1 k2 k3\r\n", b"gets %s k5\r\n", b"mg %s v f t\r\n",
            b"ms %s 2 q\r\nzz\r\nmn\r\n", b"md %s q\r\nmn\r\n", b"ma %s\r\n",
            b"set %s 0 0 10\r\nabc", b"get " + b"x" * 300 + b"\r\n", b"flush_all\r\n",
            b"touch %s 10\r\n", b"\x00\xff garbage\r\n", b"set %s 0 0 3 noreply\r\nxyz\r\n",
            b"version\r\n", b"gat 10 %s k2\r\n", b"gets %s k1 k7\r\n", b"gats 5 %s k3\r\n",
            b"mg %s v q k O9\r\nmn\r\n", b"mg %s s t c\r\n", b"gat 20 %s\r\n"]


def key(rng):
    i = rng.randrange(300)
    return b"k%d-%08x" % (i, zlib.crc32(b"%d" % i))


def pool(name, ports, listen=None, extra=""):
    head = f"{name}:\n" + (f"  listen: 127.0.0.1:{listen}\n" if listen else "")
    return (head + extra + "  hash: fnv1a_64\n  distribution: ketama\n  timeout: 300\n"
            "  server_connections: 1\n  servers:\n" +
            "".join(f"   - 127.0.0.1:{p}:1\n" for p in ports))


def hammer(rng, port, seconds, servers, mcs, on_tick=None, commands=COMMANDS):
    """Random clients for `seconds`; now and then a server is killed and started again."""
    t0, n = time.time(), 0
    while time.time() - t0 < seconds:
        if on_tick:
            on_tick(time.time() - t0)
        s = socket.create_connection(("127.0.0.1", port))
        data = b"".join(rng.choice(commands).replace(b"%s", key(rng))
                        for _ in range(rng.randrange(1, 40)))
        cut = rng.randrange(len(data) + 1) if rng.random() < 0.3 else len(data)
        try:
            s.sendall(data[:cut])
            if rng.random() < 0.3:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" + b"\0" * 4)
            else:
                s.settimeout(0.2)
                try:
                    s.recv(65536)
                except OSError:
                    pass
        except OSError:
            pass
        s.close()
        n += 1
        if n % 300 == 0:
            i = rng.randrange(len(servers))
            mcs[i].kill()
            mcs[i] = rp.start_memcached(servers[i])
    return n


def check(px, port, what):
    time.sleep(0.5)
    with rp.MemcacheClient(port, timeout=5) as c:
        ok = c.set("soak-final", b"ok") == b"STORED" and c.get("soak-final") == b"ok"
    problems = px.health_problems()
    print(f"{what}: answers after the soak: {ok}; problems: {problems}")
    return ok and not problems


def stop(px, mcs):
    """Stops the proxy and the servers; False when the sanitizer reported anything."""
    px.terminate()
    errs = px.sanitizer_errors() + rp.sanitizer_lines(px.stderr_text())
    if errs:
        print("sanitizer:", errs[:5])
    for m in mcs:
        m.kill()
    return not errs


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "san", "ringproxy"))
    o = ap.parse_args(argv)
    os.environ["RINGPROXY"] = o.binary
    rng = random.Random(int(time.time()))
    good = True
    phase = o.seconds / 4
    for route in ("replicate: [east, west]\n    writes: all", "replicate: [east, west]\n"
                  "    writes: one", "failover: [east, west]\n    on_miss: true"):
        servers = [rp.free_port() for _ in range(4)]
        mcs = [rp.start_memcached(p) for p in servers]
        port = rp.free_port()
        text = (f"front:\n  listen: 127.0.0.1:{port}\n  route:\n    {route}\n" +
                pool("east", servers[:2]) + pool("west", servers[2:]))
        px = rp.start_ringproxy(text, workers=2)
        n = hammer(rng, port, phase, servers, mcs)
        good &= check(px, port, f"{route.split(':')[0]} ({n} clients)")
        good &= stop(px, mcs)
    # warm-up: a pool of 2 grows to 3 by reload a third of the way in, and loses its first
    # server by another two thirds of the way in (read from while the window lasts)
    servers = [rp.free_port() for _ in range(3)]
    mcs = [rp.start_memcached(p) for p in servers]
    port = rp.free_port()
    px = rp.start_ringproxy(pool("p", servers[:2], port, "  reshard_warmup: 60\n"), workers=2)
    with rp.MemcacheClient(port, timeout=5) as c:
        for i in range(300):
            c.set((b"k%d-%08x" % (i, zlib.crc32(b"%d" % i))).decode(), b"v")
    grown = []

    def grow(t):
        for at, keep in ((phase / 3, servers), (2 * phase / 3, servers[1:])):
            if len(grown) < 2 and t > at and (not grown or grown[-1] < at):
                with open(px.conf_path, "w") as f:
                    f.write(pool("p", keep, port, "  reshard_warmup: 60\n"))
                px.signal(signal.SIGHUP)
                grown.append(t)

    # no flush_all here: the old servers' keys are what the warm-up reads
    n = hammer(rng, port, phase, servers, mcs, grow,
               [c for c in COMMANDS if not c.startswith(b"flush_all")])
    st = px.stats()["ringproxy"]
    good &= check(px, port, f"warm-up ({n} clients; lookups {st['warm_lookups']}, hits "
                            f"{st['warm_hits']}, copies {st['warm_copies']}, unlinks {st['warm_unlinks']})")
    good &= stop(px, mcs)
    # warm-up through routes: east (behind a replicate route, writes: one) grows by a server
    # a third of the way in, so reads and replicated writes are warmed on it as nested requests
    for route in ("replicate: [east, west]\n    writes: one", "failover: [east, west]"):
        servers = [rp.free_port() for _ in range(5)]
        mcs = [rp.start_memcached(p) for p in servers]
        port = rp.free_port()

        def text(east):
            return (f"front:\n  listen: 127.0.0.1:{port}\n  route:\n    {route}\n" +
                    pool("east", east, extra="  reshard_warmup: 60\n") +
                    pool("west", servers[2:4]))
        px = rp.start_ringproxy(text(servers[:2]), workers=2)
        with rp.MemcacheClient(port, timeout=5) as c:
            for i in range(300):
                c.set((b"k%d-%08x" % (i, zlib.crc32(b"%d" % i))).decode(), b"v")
        resharded = []

        def reshard(t):
            if not resharded and t > phase / 6:
                with open(px.conf_path, "w") as f:
                    f.write(text(servers[:2] + servers[4:]))
                px.signal(signal.SIGHUP)
                resharded.append(t)

        n = hammer(rng, port, phase / 2, servers, mcs, reshard,
                   [c for c in COMMANDS if not c.startswith(b"flush_all")])
        st = px.stats()["ringproxy"]["pools"]["east"]
        good &= check(px, port, f"{route.split(':')[0]} warm-up ({n} clients; east lookups "
                                f"{st['warm_lookups']}, hits {st['warm_hits']})")
        good &= stop(px, mcs)
    print("soak:", "clean" if good else "FAILED")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

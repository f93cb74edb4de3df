#!/usr/bin/env python3
"""Correctness check for bench/floor: starts memcached (-I 2m) and the floor in front of it on
free loopback ports, runs memcached text-protocol traffic through the floor (sizes up to 1 MiB,
pipelining, multi-gets, lines split across receive buffers, 20 concurrent clients, clients that
vanish with replies pending), then stops both and checks the floor exits cleanly on SIGTERM.

    python3 bench/floor/check_floor.py [--floor build/bench/floor] [--io uring|epoll|both]
                                       [--floor-args '--buffers N --buffer-size B']

The floor holds a request whole and takes data blocks up to half its arena: with --floor-args,
keep N x B at 5 MiB or more (the check sends a value just over memcached's 2 MiB limit).
"""
import argparse
import os
import random
import signal
import socket
import subprocess
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, what, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"{what} did not listen on {port}")


class Conn:
    """A blocking memcached text-protocol client with its own read buffer."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                ln = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return ln
            self._fill()

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d

    def retrieval(self):
        """Reads a get/gets reply: {key: (flags, value, cas)}."""
        out = {}
        while True:
            ln = self.line()
            if ln == b"END":
                return out
            parts = ln.split(b" ")
            if parts[0] != b"VALUE":
                raise AssertionError(f"unexpected line {ln[:80]!r}")
            n = int(parts[3])
            data = self.exact(n + 2)
            assert data[-2:] == b"\r\n", "bad data terminator"
            out[parts[1]] = (int(parts[2]), data[:-2], int(parts[4]) if len(parts) > 4 else None)

    def close(self):
        self.s.close()


def value(key, size):
    """Deterministic bytes for key, including CR/LF so data is never mistaken for lines."""
    seed = sum(key) & 0xFF
    pat = bytes((seed + i * 7) & 0xFF for i in range(251)) + b"\r\nEND\r\n"
    return (pat * (size // len(pat) + 1))[:size]


def set_cmd(key, val, flags=0, cmd=b"set", noreply=False):
    tail = b" noreply" if noreply else b""
    return b"%s %s %d 0 %d%s\r\n%s\r\n" % (cmd, key, flags, len(val), tail, val)


def expect(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r:.200} want {want!r:.200}")


def check_basic(port):
    c = Conn(port)
    sizes = [0, 1, 100, 1000, 16381, 16382, 16383, 16384, 16385, 65536, 100000, 1 << 20]
    for n in sizes:
        k = b"basic:%d" % n
        v = value(k, n)
        c.send(set_cmd(k, v, flags=n))
        expect(c.line(), b"STORED", f"set {n}")
        c.send(b"get %s\r\n" % k)
        expect(c.retrieval(), {k: (n, v, None)}, f"get {n}")
    c.send(b"get basic:missing\r\n")
    expect(c.retrieval(), {}, "miss")
    # storage commands and their one-line replies
    seq = [
        (b"add basic:a 0 0 1\r\na\r\n", b"STORED"),
        (b"add basic:a 0 0 1\r\nb\r\n", b"NOT_STORED"),
        (b"replace basic:a 0 0 2\r\nAA\r\n", b"STORED"),
        (b"append basic:a 0 0 2\r\nzz\r\n", b"STORED"),
        (b"prepend basic:a 0 0 2\r\n__\r\n", b"STORED"),
        (b"replace basic:none 0 0 1\r\nx\r\n", b"NOT_STORED"),
        (b"set basic:n 0 0 2\r\n10\r\n", b"STORED"),
        (b"incr basic:n 5\r\n", b"15"),
        (b"decr basic:n 20\r\n", b"0"),
        (b"touch basic:n 100\r\n", b"TOUCHED"),
        (b"delete basic:n\r\n", b"DELETED"),
        (b"delete basic:n\r\n", b"NOT_FOUND"),
        (b"bogus command\r\n", b"ERROR"),
        (b"\r\n", b"ERROR"),
        (b"verbosity 0\r\n", b"OK"),
    ]
    for req, rsp in seq:
        c.send(req)
        expect(c.line(), rsp, req[:30])
    c.send(b"get basic:a\r\n")
    expect(c.retrieval(), {b"basic:a": (0, b"__AAzz", None)}, "append/prepend")
    # gets and cas
    c.send(b"gets basic:a\r\n")
    cas = c.retrieval()[b"basic:a"][2]
    c.send(b"cas basic:a 7 0 3 %d\r\nnew\r\n" % (cas + 1))
    expect(c.line(), b"EXISTS", "cas wrong")
    c.send(b"cas basic:a 7 0 3 %d\r\nnew\r\n" % cas)
    expect(c.line(), b"STORED", "cas right")
    c.send(b"gets basic:a\r\n")
    got = c.retrieval()[b"basic:a"]
    expect(got[:2], (7, b"new"), "after cas")
    # noreply: no reply comes, and the next reply is the right one
    c.send(set_cmd(b"basic:nr", b"quiet", noreply=True) + b"delete basic:zz noreply\r\n"
           b"incr basic:nr 1 noreply\r\nget basic:nr\r\n")
    expect(c.retrieval(), {b"basic:nr": (0, b"quiet", None)}, "noreply")
    c.send(b"version\r\n")
    assert c.line().startswith(b"VERSION "), "version"
    c.send(b"stats\r\n")
    n = 0
    while c.line() != b"END":
        n += 1
    assert n > 10, "stats"
    c.send(b"stats settings\r\nstats slabs\r\nget basic:a\r\n")
    for _ in range(2):
        while c.line() != b"END":
            pass
    expect(c.retrieval()[b"basic:a"][1], b"new", "after stats")
    # a value larger than memcached's -I 2m: memcached swallows it and says so
    c.send(set_cmd(b"basic:huge", b"x" * ((2 << 20) + 1024)))
    assert c.line().startswith(b"SERVER_ERROR"), "too large"
    c.send(b"get basic:a\r\n")
    expect(c.retrieval()[b"basic:a"][1], b"new", "after too large")
    c.close()


def pipeline_model(n, sizes, seed):
    """n pipelined sets and gets over 50 keys, and the reply each one must get."""
    rnd = random.Random(seed)
    reqs, model, store = [], [], {}
    for i in range(n):
        k = b"pipe:%d" % (i % 50)
        if rnd.random() < 0.5:
            store[k] = value(k + b"%d" % i, rnd.choice(sizes))
            reqs.append(set_cmd(k, store[k]))
            model.append(("line", b"STORED"))
        else:
            reqs.append(b"get %s\r\n" % k)
            model.append(("get", {k: (0, store[k], None)} if k in store else {}))
    return b"".join(reqs), model


def check_pipeline(port):
    c = Conn(port)
    big = pipeline_model(600, [0, 5, 300, 5000, 40000], 1)
    # small values for tiny pieces: the floor holds a request whole, one receive buffer per
    # piece that arrived on its own, and gives up on one spread over half its buffers
    small = pipeline_model(300, [0, 5, 300, 2000], 2)
    # in one go, then in odd-sized pieces so lines and blocks split across buffers
    for (blob, model), piece in [(big, 1 << 30), (big, 1000), (big, 16383), (small, 7)]:
        c.send(b"flush_all\r\n")
        expect(c.line(), b"OK", "flush_all")
        # written by a thread while this one reads, as a pipelining client does: a client that
        # writes megabytes without reading deadlocks against any bounded buffering
        t = threading.Thread(target=lambda: [c.send(blob[o:o + piece])
                                             for o in range(0, len(blob), piece)])
        t.start()
        for i, (kind, exp) in enumerate(model):
            got = c.line() if kind == "line" else c.retrieval()
            expect(got, exp, f"pipelined #{i} (pieces of {piece})")
        t.join()
    # byte by byte
    c.send(b"flush_all\r\n")
    expect(c.line(), b"OK", "flush_all")
    one = set_cmd(b"pipe:bb", b"hello\r\nworld") + b"get pipe:bb pipe:none\r\n"
    for b in one:
        c.send(bytes([b]))
    expect(c.line(), b"STORED", "byte by byte set")
    expect(c.retrieval(), {b"pipe:bb": (0, b"hello\r\nworld", None)}, "byte by byte get")
    c.close()


def check_multiget(port):
    c = Conn(port)
    keys = [b"mget:%04d:%s" % (i, b"k" * (i % 200)) for i in range(1000)]
    vals = {}
    batch = []
    for i, k in enumerate(keys):
        if i % 3:
            vals[k] = value(k, (i * 37) % 3000)
            batch.append(set_cmd(k, vals[k], noreply=True))
    c.send(b"".join(batch))
    # 100-key multi-gets
    for start in range(0, 1000, 100):
        ks = keys[start:start + 100]
        c.send(b"get " + b" ".join(ks) + b"\r\n")
        got = c.retrieval()
        expect(got, {k: (0, vals[k], None) for k in ks if k in vals}, f"mget {start}")
    for start in range(0, 1000, 200):  # lines of ~ 25-45 KiB: longer than a receive buffer
        ks = keys[start:start + 200]
        c.send(b"gets " + b" ".join(ks) + b"\r\n")
        got = c.retrieval()
        expect({k: v[:2] for k, v in got.items()}, {k: (0, vals[k]) for k in ks if k in vals},
               f"long mget {start}")
    c.close()


def check_concurrent(port, nclients=20, rounds=60):
    errors = []

    def worker(idx):
        try:
            rnd = random.Random(idx)
            c = Conn(port)
            mine = {}
            for r in range(rounds):
                reqs, exp = [], []
                for j in range(rnd.randint(1, 8)):
                    k = b"conc:%d:%d" % (idx, rnd.randint(0, 30))
                    big = [1 << 20] if j == 0 and r % 20 == 0 else []
                    size = rnd.choice([1, 10, 100, 1000, 10000, 70000] + big)
                    v = value(k + b"%d" % r, size)
                    mine[k] = v
                    reqs.append(set_cmd(k, v))
                    exp.append(b"STORED")
                ks = list(mine)[:10]
                reqs.append(b"get " + b" ".join(ks) + b"\r\n")
                c.send(b"".join(reqs))
                for e in exp:
                    expect(c.line(), e, f"client {idx} set")
                got = c.retrieval()
                expect(got, {k: (0, mine[k], None) for k in ks}, f"client {idx} get")
            c.close()
        except Exception as e:  # reported by the main thread
            errors.append(f"client {idx}: {e}")

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(nclients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise AssertionError("; ".join(errors[:3]))


def check_abandon(port):
    """Clients that leave with replies (large ones) still coming, and quit."""
    c = Conn(port)
    big = value(b"ab", 1 << 20)
    c.send(set_cmd(b"abandon:big", big))
    expect(c.line(), b"STORED", "set big")
    c.close()
    for _ in range(20):
        d = Conn(port)
        d.send(b"get abandon:big abandon:big abandon:big\r\n" * 3)
        d.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        d.close()  # reset with replies pending
    q = Conn(port)
    q.send(b"set abandon:q 0 0 1\r\nq\r\nget abandon:q\r\nquit\r\nget abandon:q\r\n")
    expect(q.line(), b"STORED", "before quit")
    expect(q.retrieval(), {b"abandon:q": (0, b"q", None)}, "get before quit")
    try:
        q._fill()
        raise AssertionError(f"bytes after quit: {bytes(q.buf)[:60]!r}")
    except (EOFError, ConnectionResetError):
        pass
    q.close()
    # a storage line memcached would not read a block after: that client goes, unanswered
    b = Conn(port)
    b.send(b"set abandon:b 0 0 1\r\nb\r\ncas abandon:b 0 0 1\r\nx\r\n")
    expect(b.line(), b"STORED", "before a bad line")
    try:
        b._fill()
        raise AssertionError(f"bytes after a bad line: {bytes(b.buf)[:60]!r}")
    except (EOFError, ConnectionResetError):
        pass
    b.close()
    e = Conn(port)  # the floor is still in step
    e.send(b"get abandon:big\r\n")
    expect(e.retrieval(), {b"abandon:big": (0, big, None)}, "after abandoned clients")
    e.close()


def run(floor, io, memcached, extra):
    mport, fport = free_port(), free_port()
    procs = []
    try:
        mc = subprocess.Popen([memcached, "-u", "nobody", "-l", "127.0.0.1", "-p", str(mport),
                               "-U", "0", "-t", "1", "-I", "2m", "-m", "256"])
        procs.append(mc)
        wait_port(mport, mc, "memcached")
        fl = subprocess.Popen([floor, "--listen", f"127.0.0.1:{fport}",
                               "--server", f"127.0.0.1:{mport}", "--io", io] + extra,
                              stderr=subprocess.PIPE)
        procs.append(fl)
        wait_port(fport, fl, "floor")
        for name, fn in [("basic", check_basic), ("pipeline", check_pipeline),
                         ("multiget", check_multiget), ("concurrent", check_concurrent),
                         ("abandon", check_abandon)]:
            t0 = time.time()
            fn(fport)
            print(f"  {io}: {name} ok ({time.time() - t0:.2f} s)")
        fl.send_signal(signal.SIGTERM)
        _, err = fl.communicate(timeout=10)
        if fl.returncode != 0:
            raise AssertionError(f"floor exited {fl.returncode}: {err.decode()[-500:]}")
        print("  " + err.decode().strip().splitlines()[-1])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floor", default="build/bench/floor")
    ap.add_argument("--io", default="both", choices=["uring", "epoll", "both"])
    ap.add_argument("--memcached", default="memcached")
    ap.add_argument("--floor-args", default="", help="more floor options, e.g. '--buffers 512'")
    a = ap.parse_args()
    for io in (["uring", "epoll"] if a.io == "both" else [a.io]):
        run(os.path.abspath(a.floor), io, a.memcached, a.floor_args.split())
    print("floor: all checks passed")


if __name__ == "__main__":
    main()

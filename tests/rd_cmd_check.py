#!/usr/bin/env python3
"""Checks the redis command table in proto/rd_cmd.h against a real redis-server's COMMAND INFO.
A maintenance tool, not a test: run it after changing a row or moving to a newer redis.
Standard library only.

  python3 tests/rd_cmd_check.py                 starts a redis-server of its own (on a unix
                                                socket in a temporary directory), stops it after
  python3 tests/rd_cmd_check.py --socket PATH   asks a running server instead
  python3 tests/rd_cmd_check.py --port N [--host H]

For every row: the arity, and first/last/step against the legacy key fields. A command with
movable keys (movablekeys flag) has 0 0 0 there when no key is at a fixed place: numkeys_at is
then checked against its keynum key spec (numkeys_at = begin_search index + keynumidx, the
keys following it one each). Two documented differences are accepted:
  - a row whose comment reads "redis A.B: N; C.D ...: M" takes the arity M of a newer redis
    where this one has N (the table takes the looser one);
  - a container (OBJECT, XGROUP, XINFO), for which redis gives 0 0 0, has the one key position
    of its keyed subcommands.
Keys found by keyword (SORT ... STORE, XREAD ... STREAMS) are listed as notes: the table does
not describe them. Exits 0 when every row agrees (or when redis-server is missing: skipped),
1 on a mismatch.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "..", "proto", "rd_cmd.h")

ROW = re.compile(r'X\((RD_\w+),\s*"([^"]+)",\s*(-?\d+),\s*(-?\d+),\s*(-?\d+),\s*(-?\d+),'
                 r'\s*(\d+),\s*(RD_KIND_\w+)\)')
COMMENT = re.compile(r"/\*(.*?)\*/")
RELAXED = re.compile(r"redis (\d+\.\d+): (-?\d+); (\d+\.\d+)[^:]*: (-?\d+)")


def read_rows(path):
    """The rows of RD_CMD_TABLE in order, each with the comment line just above it."""
    rows = []
    comment = None
    in_table = False
    with open(path) as f:
        for line in f:
            if line.startswith("#define RD_CMD_TABLE("):
                in_table = True
                continue
            if not in_table:
                continue
            m = ROW.search(line)
            if m:
                e, name, arity, first, last, step, nk, kind = m.groups()
                rows.append({"enum": e, "name": name, "arity": int(arity), "first": int(first),
                             "last": int(last), "step": int(step), "numkeys_at": int(nk),
                             "kind": kind, "comment": comment})
                comment = None
            else:
                c = COMMENT.search(line)
                if c:
                    comment = c.group(1).strip()
            if not line.rstrip().endswith("\\"):
                break
    return rows


class Redis:
    """Just enough of a RESP2 client for COMMAND and INFO."""

    def __init__(self, sock):
        self.f = sock.makefile("rwb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.f.write(out)
        self.f.flush()
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            return self.f.read(n + 2)[:-2].decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("unexpected reply %r" % line)


def as_map(flat):
    """A RESP2 map (a flat array of names and values) as a dict."""
    return dict(zip(flat[0::2], flat[1::2])) if isinstance(flat, list) else {}


def command_info(info):
    """One COMMAND INFO entry as a dict."""
    d = {"name": info[0], "arity": info[1], "flags": info[2], "first": info[3],
         "last": info[4], "step": info[5], "specs": [], "subs": []}
    if len(info) > 8:
        for spec in info[8]:
            s = as_map(spec)
            bs, fk = as_map(s.get("begin_search")), as_map(s.get("find_keys"))
            d["specs"].append({"bs": bs.get("type"), "bs_spec": as_map(bs.get("spec")),
                               "fk": fk.get("type"), "fk_spec": as_map(fk.get("spec"))})
    if len(info) > 9 and info[9]:
        d["subs"] = [command_info(s) for s in info[9]]
    return d


def keynum_spec(ci):
    """(numkeys index, first key offset, key step) from the keynum key spec, or None."""
    for s in ci["specs"]:
        if s["bs"] == "index" and s["fk"] == "keynum":
            idx = s["bs_spec"]["index"] + s["fk_spec"]["keynumidx"]
            first = s["bs_spec"]["index"] + s["fk_spec"]["firstkey"]
            return idx, first, s["fk_spec"]["keystep"]
    return None


def check(r, ci, problems, notes):
    name = r["name"]
    want = (r["first"], r["last"], r["step"])

    if ci["arity"] != r["arity"]:
        m = RELAXED.search(r["comment"] or "")
        if m and int(m.group(2)) == ci["arity"] and int(m.group(4)) == r["arity"]:
            notes.append("%s: arity %d, this server %d: redis %s relaxed it (row comment)"
                         % (name, r["arity"], ci["arity"], m.group(3)))
        else:
            problems.append("%s: arity %d, redis %d" % (name, r["arity"], ci["arity"]))

    have = (ci["first"], ci["last"], ci["step"])
    if ci["subs"] and r["first"] != 0:
        keyed = {(s["first"], s["last"], s["step"]) for s in ci["subs"] if s["first"] != 0}
        if keyed != {want}:
            problems.append("%s: keys %d %d %d, its keyed subcommands %s"
                            % (name, *want, sorted(keyed)))
    elif have != want:
        problems.append("%s: keys %d %d %d, redis %d %d %d" % (name, *want, *have))

    kn = keynum_spec(ci)
    if kn is None:
        if r["numkeys_at"] != 0:
            problems.append("%s: numkeys_at %d, redis has no keynum spec"
                            % (name, r["numkeys_at"]))
    else:
        idx, first, step = kn
        if r["numkeys_at"] != idx:
            problems.append("%s: numkeys_at %d, redis %d" % (name, r["numkeys_at"], idx))
        if first != idx + 1 or step != 1:
            problems.append("%s: redis's keys start at %d (step %d), not right after numkeys"
                            % (name, first, step))

    hidden = [s for s in ci["specs"] if s["bs"] == "keyword" or s["fk"] == "unknown"]
    if hidden:
        what = ", ".join(s["bs_spec"].get("keyword", "?") if s["bs"] == "keyword" else "unknown"
                         for s in hidden)
        notes.append("%s (%s): keys the table does not describe (%s)"
                     % (name, r["kind"][8:].lower(), what))


def start_server(tmp):
    path = os.path.join(tmp, "redis.sock")
    proc = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", path,
                             "--save", "", "--appendonly", "no", "--dir", tmp],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("redis-server exited with status %d" % proc.returncode)
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return proc, s
        except OSError:
            s.close()
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError("redis-server did not listen on %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", help="unix socket of a running redis-server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, help="TCP port of a running redis-server")
    ap.add_argument("--header", default=HEADER)
    args = ap.parse_args()

    rows = read_rows(args.header)
    if not rows:
        print("rd_cmd_check: no rows found in %s" % args.header)
        return 1

    proc, tmp = None, None
    if args.socket:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(args.socket)
    elif args.port:
        sock = socket.create_connection((args.host, args.port))
    else:
        if shutil.which("redis-server") is None:
            print("rd_cmd_check: redis-server not found: skipped")
            return 0
        tmp = tempfile.mkdtemp(prefix="rd_cmd_check.")
        proc, sock = start_server(tmp)
    try:
        r = Redis(sock)
        info = r.call("INFO", "server")
        version = re.search(r"redis_version:(\S+)", info).group(1)
        server = {}
        for c in r.call("COMMAND"):
            ci = command_info(c)
            server[ci["name"]] = ci
        # COMMAND INFO of every row by name: nil for a name this server does not know
        asked = r.call("COMMAND", "INFO", *[row["name"] for row in rows])
    finally:
        sock.close()
        if proc is not None:
            proc.terminate()
            proc.wait()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    problems, notes = [], []
    for row, entry in zip(rows, asked):
        if entry is None:
            problems.append("%s: unknown to redis %s" % (row["name"], version))
            continue
        check(row, command_info(entry), problems, notes)
    missing = sorted(set(server) - {row["name"] for row in rows})
    for name in missing:
        line = "%s: a redis %s command without a row" % (name, version)
        (problems if version.startswith("7.0.") else notes).append(line)

    print("rd_cmd_check: %d rows, redis %s with %d commands" % (len(rows), version, len(server)))
    for n in notes:
        print("  note: " + n)
    for p in problems:
        print("  MISMATCH: " + p)
    print("rd_cmd_check: %d mismatches" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

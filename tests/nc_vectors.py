#!/usr/bin/env python3
"""Regenerates the twemproxy-derived test vectors in tests/test_hash.c and tests/test_dist.c
from the real nutcracker 0.5.0 installed on this machine. Standard library only.

  python3 tests/nc_vectors.py hash        C rows {HASH_X, key, len, value} for every hash
  python3 tests/nc_vectors.py ketama      C rows {name, len, {4 ring points}}
  python3 tests/nc_vectors.py placement   C rows {hash, dist, tag, key, len, server index}

hash/ketama: nutcracker is a position-independent executable that exports its hash functions
(hash_fnv1a_64, ..., ketama_hash). glibc refuses to dlopen an executable marked PIE, so a
temporary copy is made with the DF_1_PIE bit cleared and the functions are called through
ctypes: the values are twemproxy's own, computed by its own machine code.

placement: four memcached and one nutcracker with one pool per hash x distribution over
servers named alpha/beta/gamma/delta (explicit names make the ring independent of the ports
chosen at run time); keys are stored through nutcracker and looked up on each backend.
"""

import ctypes
import os
import shutil
import struct
import sys
import tempfile

HASHES = ["one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64", "fnv1_32",
          "fnv1a_32", "hsieh", "murmur", "jenkins"]

# keys for the hash vectors: published check strings, every tail length of the block hashes,
# and bytes >= 0x80 in each position twemproxy treats specially
HASH_KEYS = [
    b"", b"a", b"foobar", b"123456789", b"hello world",
    b"\x80", b"\xff", b"\x7f\x80", b"ab\x90", b"\xff\xfe\xfd", b"key\xa0\xa1\xa2",
    b"abcd\xee\xef\xf0", b"caf\xc3\xa9", b"\xe2\x82\xac\xe2\x82\xac",
    bytes(range(0x80, 0x8d)), bytes(range(0xf0, 0x100)),
]
# two long keys, written as their C array names; tests/test_hash.c fills them the same way
LONG_KEYS = [("key_64", bytes((i * 37 + 11) & 0xff for i in range(64))),
             ("key_250", bytes(0x21 + (i * 53) % 0xdf for i in range(250)))]

KETAMA_NAMES = [b"127.0.0.1:11212-0", b"127.0.0.1-0", b"127.0.0.1-39", b"alpha-17",
                b"cache-1.example.net:22122-159"]

PLACEMENT_KEYS = [
    b"a", b"foobar", b"123456789", b"\x80", b"\xff", b"\x7f\x80", b"ab\x90", b"\xff\xfe\xfd",
    b"key\xa0\xa1\xa2", b"abcd\xee\xef\xf0", b"caf\xc3\xa9", bytes(range(0x80, 0x8d)),
    b"user:{\xff42}:x", b"{}\xff", b"a{b{c}d}", b"x{\x80}",
]
SERVER_NAMES = ["alpha", "beta", "gamma", "delta"]
SERVER_WEIGHTS = [1, 2, 3, 1]


def c_bytes(b):
    """A C string literal for b (hex escapes split so a following hex digit is not eaten)."""
    out = []
    prev_hex = False
    for c in b:
        ch = chr(c)
        if 0x20 <= c < 0x7f and ch not in '"\\?':
            if prev_hex and ch in "0123456789abcdefABCDEF":
                out.append('""')
            out.append(ch)
            prev_hex = False
        else:
            out.append("\\x%02x" % c)
            prev_hex = True
    return '"' + "".join(out) + '"'


def load_nutcracker(path):
    """ctypes handle on a copy of the nutcracker executable with DF_1_PIE cleared."""
    tmp = tempfile.mkdtemp(prefix="nc-vectors-")
    copy = os.path.join(tmp, "nutcracker.so")
    shutil.copyfile(path, copy)
    with open(copy, "r+b") as f:
        data = bytearray(f.read())
        phoff = struct.unpack_from("<Q", data, 0x20)[0]
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        for i in range(phnum):
            off = phoff + i * phentsize
            p_type, _, p_offset = struct.unpack_from("<IIQ", data, off)
            if p_type != 2:  # PT_DYNAMIC
                continue
            p_filesz = struct.unpack_from("<Q", data, off + 32)[0]
            for j in range(p_offset, p_offset + p_filesz, 16):
                tag, val = struct.unpack_from("<qQ", data, j)
                if tag == 0x6ffffffb:  # DT_FLAGS_1
                    struct.pack_into("<Q", data, j + 8, val & ~0x08000000)  # DF_1_PIE
        f.seek(0)
        f.write(data)
    try:
        return ctypes.CDLL(copy)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def nutcracker_path():
    return os.environ.get("NUTCRACKER") or shutil.which("nutcracker") or "/usr/sbin/nutcracker"


def cmd_hash():
    nc = load_nutcracker(nutcracker_path())
    for h in HASHES:
        fn = getattr(nc, "hash_" + h)
        fn.restype = ctypes.c_uint32
        fn.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        for k in HASH_KEYS:
            print("    {HASH_%s, %s, %d, 0x%08x}," % (h.upper(), c_bytes(k), len(k),
                                                    fn(k, len(k))))
        for cname, k in LONG_KEYS:
            print("    {HASH_%s, %s, %d, 0x%08x}," % (h.upper(), cname, len(k), fn(k, len(k))))


def cmd_ketama():
    nc = load_nutcracker(nutcracker_path())
    fn = nc.ketama_hash
    fn.restype = ctypes.c_uint32
    fn.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32]
    for k in KETAMA_NAMES:
        print("    {%s, %d, {%s}}," % (c_bytes(k), len(k),
                                       ", ".join("0x%08x" % fn(k, len(k), a) for a in range(4))))


def cmd_placement():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
    import rp_helpers as rp

    fleet = [rp.start_memcached() for _ in SERVER_NAMES]
    try:
        cases = []
        for h in HASHES:
            for d in ("ketama", "modula"):
                cases.append((h, d, None))
        cases += [("fnv1a_64", "ketama", "{}"), ("crc32a", "modula", "{}")]
        pools = {}
        for n, (h, d, tag) in enumerate(cases):
            opts = {"hash": h, "distribution": d, "timeout": 5000,
                    "servers": ["%s:%d %s" % (mc.address, w, name)
                                for mc, w, name in zip(fleet, SERVER_WEIGHTS, SERVER_NAMES)]}
            if tag:
                opts["hash_tag"] = tag
            pools["p%d" % n] = opts
        proxy = rp.start_ringproxy(pools, binary=nutcracker_path())
        for n, (h, d, tag) in enumerate(cases):
            for mc in fleet:
                with mc.client() as c:
                    c.flush_all()
            rp.mc_set_many_bytes(proxy.pools["p%d" % n], [(k, b"v") for k in PLACEMENT_KEYS])
            where = {}
            for i, mc in enumerate(fleet):
                for k in rp.mc_get_many_bytes(mc.port, PLACEMENT_KEYS):
                    where[k] = i
            for k in PLACEMENT_KEYS:
                print("    {HASH_%s, DIST_%s, %s, %s, %d, %d}," % (
                    h.upper(), d.upper(), c_bytes(tag.encode()) if tag else "NULL",
                    c_bytes(k), len(k), where[k]))
        proxy.terminate()
    finally:
        rp.cleanup_all()


def main():
    cmds = {"hash": cmd_hash, "ketama": cmd_ketama, "placement": cmd_placement}
    if len(sys.argv) != 2 or sys.argv[1] not in cmds:
        sys.exit("usage: %s hash|ketama|placement" % sys.argv[0])
    cmds[sys.argv[1]]()


if __name__ == "__main__":
    main()

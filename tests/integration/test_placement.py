"""Key placement against the real twemproxy: for every hash function x {ketama, modula}, with
unequal weights, with and without explicit server names, and with hash_tag, keys are stored
through a real nutcracker 0.5.0 into real memcached servers; each backend is then asked
directly which keys it holds, and the answer must match `$RINGPROXY -c FILE --route -` for every
key (100% agreement).

One memcached fleet and one nutcracker (one pool per case) serve every case; the backends are
flushed between cases. Keys include bytes 0x80..0xff (twemproxy hashes some of them as signed
chars), hash-tag shapes and lengths up to 250.

Environment: RINGPROXY (the ringproxy binary; the test is skipped when unset), NUTCRACKER
(default: nutcracker on PATH or /usr/sbin/nutcracker), RP_PLACEMENT_SEED, RP_PLACEMENT_KEYS.
"""

import os
import random
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rp_helpers as rp  # noqa: E402

HASHES = ["one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64", "fnv1_32",
          "fnv1a_32", "hsieh", "murmur", "jenkins"]
DISTS = ["ketama", "modula"]
NSERVERS = 5
SEED = int(os.environ.get("RP_PLACEMENT_SEED", "20240501"))
NKEYS = max(10000, int(os.environ.get("RP_PLACEMENT_KEYS", "10000")))
MAX_EXAMPLES = 10

# key bytes memcached's text protocol accepts: no control characters, space or DEL
PRINTABLE = bytes(range(0x21, 0x7f))
HIGH = bytes(range(0x80, 0x100))
ANY = PRINTABLE + HIGH


def _rand_bytes(rng, alphabet, n):
    return bytes(rng.choice(alphabet) for _ in range(n))


def make_keys(seed, n):
    """n distinct memcached text keys: plain ASCII, mixed with and made of bytes >= 0x80,
    every length class the hash functions treat specially (0..3 tail bytes, 12-byte blocks,
    64-byte md5 blocks, up to 250) and hash-tag shapes for "{}" and "$$"."""
    rng = random.Random(seed)
    keys = dict()

    def add(k):
        rp.check_text_key(k)
        keys[k] = None

    # fixed shapes first: hash tags empty, unterminated, at the ends, nested, repeated
    for k in [b"{}", b"{a}", b"a{}b", b"a{b}c", b"{abc", b"abc}", b"abc{", b"}abc{", b"}a{b}",
              b"a{b{c}d}e", b"{{x}}", b"{}{x}", b"x{}{y}", b"user:{42}:name", b"{\xff}",
              b"\xff{\x80}\xfe", b"$$", b"a$b$c", b"$$x$", b"a$$b", b"$\xff$", b"x$y",
              b"\x80", b"\xff", b"\xff\xff\xff", b"a\xffb", b"\xc3\xa9t\xc3\xa9"]:
        add(k)
    while len(keys) < n:
        r = rng.random()
        if r < 0.25:
            k = _rand_bytes(rng, PRINTABLE, rng.randint(1, 40))
        elif r < 0.45:
            k = _rand_bytes(rng, ANY, rng.randint(1, 40))
        elif r < 0.55:
            k = _rand_bytes(rng, HIGH, rng.randint(1, 16))
        elif r < 0.65:
            # lengths around block boundaries: 12 (jenkins), 4 (murmur/hsieh), 55/56/64 (md5)
            k = _rand_bytes(rng, ANY, rng.choice([3, 4, 5, 11, 12, 13, 23, 24, 25, 55, 56, 57,
                                                   63, 64, 65, 119, 120, 121, 127, 128, 250]))
        elif r < 0.70:
            k = _rand_bytes(rng, ANY, rng.randint(41, 250))
        elif r < 0.90:
            # "{}" shapes: prefix{tag}suffix, some empty, some unterminated, some nested
            pre = _rand_bytes(rng, ANY, rng.randint(0, 8))
            mid = _rand_bytes(rng, ANY, rng.choice([0, 0, 1, 2, 5, 10]))
            post = _rand_bytes(rng, ANY, rng.randint(0, 8))
            shape = rng.randrange(4)
            if shape == 0:
                k = pre + b"{" + mid + b"}" + post
            elif shape == 1:
                k = pre + b"{" + mid + post
            elif shape == 2:
                k = pre + b"{" + mid + b"{" + post + b"}" + mid + b"}"
            else:
                k = pre + b"}" + mid + b"{" + post + b"}"
        else:
            # "$$" shapes: same opening and closing byte
            pre = _rand_bytes(rng, ANY, rng.randint(0, 6))
            mid = _rand_bytes(rng, ANY, rng.choice([0, 1, 3, 8]))
            post = _rand_bytes(rng, ANY, rng.randint(0, 6))
            k = pre + b"$" + mid + (b"$" if rng.random() < 0.8 else b"") + post
        if 0 < len(k) <= 250:
            add(k)
    return list(keys)[:n]


def make_cases(rng):
    """[(pool name, spec)]: spec = dict(hash, dist, servers=[(server index, weight, name)],
    tag=None or str)."""

    def weights(count):
        while True:
            w = [rng.randint(1, 6) for _ in range(count)]
            if len(set(w)) > 1:
                return w

    def names(count):
        return ["%s-%d.%s" % (rng.choice(["cache", "mc", "node", "shard"]), i,
                              rng.choice(["east", "west", "eu", "ap"])) for i in range(count)]

    cases = []
    for h in HASHES:
        for d in DISTS:
            w = weights(NSERVERS)
            cases.append(("%s_%s_plain" % (h, d), dict(
                hash=h, dist=d, tag=None,
                servers=[(i, w[i], None) for i in range(NSERVERS)])))
            w, nm = weights(NSERVERS), names(NSERVERS)
            cases.append(("%s_%s_named" % (h, d), dict(
                hash=h, dist=d, tag=None,
                servers=[(i, w[i], nm[i]) for i in range(NSERVERS)])))
            w = weights(4)
            cases.append(("%s_%s_tag" % (h, d), dict(
                hash=h, dist=d, tag="{}",
                servers=[(i, w[i], None) for i in range(4)])))
    nm = names(NSERVERS)
    cases += [
        # hash tag with the same byte on both sides, explicit names
        ("fnv1a_64_ketama_tag_dollar", dict(hash="fnv1a_64", dist="ketama", tag="$$",
                                            servers=[(i, 1 + i % 3, nm[i])
                                                     for i in range(NSERVERS)])),
        ("crc32a_modula_tag_dollar", dict(hash="crc32a", dist="modula", tag="$$",
                                          servers=[(i, 2, None) for i in range(3)])),
        # equal weights (160 points each); three servers exercise the 1/3 float arithmetic
        ("fnv1a_64_ketama_equal3", dict(hash="fnv1a_64", dist="ketama", tag=None,
                                        servers=[(i, 1, None) for i in range(3)])),
        # one weight so small that floor() leaves server 0 with no ketama points at all
        ("md5_ketama_skew", dict(hash="md5", dist="ketama", tag=None,
                                 servers=[(0, 1, None), (1, 3, None), (2, 200, None),
                                          (3, 7, None), (4, 50, None)])),
        ("murmur_modula_skew", dict(hash="murmur", dist="modula", tag=None,
                                    servers=[(0, 1, None), (1, 30, None), (2, 7, None)])),
        # one server: twemproxy neither hashes nor consults the ring
        ("jenkins_ketama_single", dict(hash="jenkins", dist="ketama", tag="{}",
                                       servers=[(3, 4, "solo")])),
        # total weight 25 over 5 servers: single-precision floor gives 28/60/92/124/480
        # points where exact arithmetic would give 32/64/96/128/480
        ("fnv1a_64_ketama_float_floor", dict(hash="fnv1a_64", dist="ketama", tag=None,
                                             servers=[(0, 1, None), (1, 2, None), (2, 3, None),
                                                      (3, 4, None), (4, 15, None)])),
        # modula follows twemproxy's server order, sorted by name: shorter names first
        ("crc32a_modula_name_order", dict(hash="crc32a", dist="modula", tag=None,
                                          servers=[(0, 1, "zz"), (1, 2, "aaaa"), (2, 1, "b"),
                                                   (3, 3, "ccc"), (4, 1, "ab")])),
        # ketama names past twemproxy's 272-byte "<name>-<i>" buffer are hashed truncated
        ("md5_ketama_long_names", dict(hash="md5", dist="ketama", tag=None,
                                       servers=[(i, 1 + i, ("n%d" % i) + "x" * (262 + 4 * i))
                                                for i in range(4)])),
        # servers in a different order from the fleet
        ("hsieh_ketama_reordered", dict(hash="hsieh", dist="ketama", tag=None,
                                        servers=[(4, 2, None), (2, 5, None), (0, 1, None),
                                                 (3, 3, None), (1, 2, None)])),
    ]
    return cases


def make_many_server_cases():
    """Pools of 25 and 47 servers spread over the fleet (twemproxy accepts one address under
    several explicit names): single-precision ketama gives 156 points per equal server there,
    and modula's name order puts "srv10" after "srv9"."""
    return [
        ("fnv1a_64_ketama_equal25", dict(hash="fnv1a_64", dist="ketama", tag=None,
                                         servers=[(i % NSERVERS, 1, "srv%d" % i)
                                                  for i in range(25)])),
        ("one_at_a_time_ketama_equal47", dict(hash="one_at_a_time", dist="ketama", tag="{}",
                                              servers=[(i % NSERVERS, 3, "node-%d" % i)
                                                       for i in range(47)])),
        ("md5_modula_25", dict(hash="md5", dist="modula", tag=None,
                               servers=[(i % NSERVERS, 1 + i % 3, "srv%d" % i)
                                        for i in range(25)])),
    ]


def _nutcracker_binary():
    path = os.environ.get("NUTCRACKER") or shutil.which("nutcracker")
    if not path and os.path.exists("/usr/sbin/nutcracker"):
        path = "/usr/sbin/nutcracker"
    return path


class _PlacementBase(unittest.TestCase):
    """One memcached fleet and one nutcracker with a pool per case (cls.make_cases()); each
    test_* method checks one case. `$RINGPROXY --route` runs once for every pool."""

    fleet = []
    nutcracker = None
    routes = None
    checked = 0

    @staticmethod
    def make_cases():
        return []

    @classmethod
    def setUpClass(cls):
        binary = os.environ.get("RINGPROXY", "")
        if not binary:
            raise unittest.SkipTest("RINGPROXY is not set: point it at the ringproxy binary "
                                    "(e.g. RINGPROXY=build/ringproxy) to compare placement")
        if rp.is_nutcracker(binary):
            raise unittest.SkipTest("RINGPROXY is nutcracker, which has no --route")
        cls.binary = os.path.abspath(binary)
        nc = _nutcracker_binary()
        if not nc:
            raise unittest.SkipTest("nutcracker (twemproxy) is not installed")
        if not shutil.which("memcached"):
            raise unittest.SkipTest("memcached is not installed")

        cls.t0 = time.monotonic()
        cls.keys = make_keys(SEED, NKEYS)
        cls.cases = cls.make_cases()
        cls.checked = 0
        try:
            cls.fleet = [rp.start_memcached() for _ in range(NSERVERS)]
            pools = {}
            for pname, spec in cls.cases:
                servers = []
                for idx, weight, name in spec["servers"]:
                    s = "%s:%d" % (cls.fleet[idx].address, weight)
                    servers.append(s if name is None else s + " " + name)
                opts = {"hash": spec["hash"], "distribution": spec["dist"], "timeout": 5000,
                        "server_connections": 1, "auto_eject_hosts": False,
                        "servers": servers}
                if spec["tag"] is not None:
                    opts["hash_tag"] = spec["tag"]
                pools[pname] = opts
            cls.nutcracker = rp.start_ringproxy(pools, binary=nc)
            cls.routes = rp.route_bytes(cls.binary, cls.nutcracker.conf_path, cls.keys)
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _cleanup(cls):
        if cls.nutcracker is not None:
            cls.nutcracker.terminate()
            cls.nutcracker = None
        for mc in cls.fleet:
            mc.kill()
        cls.fleet = []

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()
        sys.stderr.write("\n%s: %d cases x %d keys agree with nutcracker (%.1fs, seed %d)\n"
                         % (cls.__name__, cls.checked, len(cls.keys),
                            time.monotonic() - cls.t0, SEED))

    def check_case(self, case_no):
        pname, spec = self.cases[case_no]
        keys = self.keys
        tag = b"%d:" % case_no
        for mc in self.fleet:
            with mc.client() as c:
                self.assertEqual(c.flush_all(), b"OK")

        rp.mc_set_many_bytes(self.nutcracker.pools[pname],
                             [(k, tag + b"%d" % i) for i, k in enumerate(keys)])

        # which backend holds each key, asking every backend of the pool directly; the values
        # carry the case number, so nothing left from another case can be mistaken for it
        names_at = {}  # backend address -> names of the pool's servers on it
        for idx, _, name in spec["servers"]:
            names_at.setdefault(self.fleet[idx].address, set()).add(name)
        placed = {}
        duplicates = []
        for mc in self.fleet:
            if mc.address not in names_at:
                continue
            for k, v in rp.mc_get_many_bytes(mc.port, keys).items():
                if not v.startswith(tag):
                    continue
                if k in placed:
                    duplicates.append(k)
                placed[k] = mc.address
        self.assertFalse(duplicates, "%s: keys stored on several backends: %r"
                         % (pname, duplicates[:MAX_EXAMPLES]))
        missing = [k for k in keys if k not in placed]
        self.assertFalse(missing, "%s: %d keys stored through nutcracker not found on any "
                         "backend, e.g. %r" % (pname, len(missing), missing[:MAX_EXAMPLES]))

        # ringproxy must name the same backend, and a server entry that is on it (the name
        # printed is that entry's explicit name, or none)
        ours = self.routes.get(pname)
        self.assertIsNotNone(ours, "%s: --route printed nothing for this pool" % pname)
        mismatches = []
        for k in keys:
            mine = ours.get(k)
            if mine is None or mine[0] != placed[k] or mine[1] not in names_at[placed[k]]:
                mismatches.append((k, placed[k], mine))
        if mismatches:
            lines = ["  %r: nutcracker %s, ringproxy %s" % m for m in mismatches[:MAX_EXAMPLES]]
            self.fail("%s (hash %s, distribution %s, hash_tag %r, servers %r): %d of %d keys "
                      "placed differently (seed %d), e.g.:\n%s"
                      % (pname, spec["hash"], spec["dist"], spec["tag"], spec["servers"],
                         len(mismatches), len(keys), SEED, "\n".join(lines)))
        type(self).checked += 1


class TestPlacement(_PlacementBase):
    """Placement of ringproxy == placement of the real nutcracker: every hash x {ketama,
    modula}, plain / named / hash-tagged, and the special cases."""

    @staticmethod
    def make_cases():
        return make_cases(random.Random(SEED))


class TestPlacementManyServers(_PlacementBase):
    """Pools of many servers sharing the fleet's backends under distinct names."""

    @staticmethod
    def make_cases():
        return make_many_server_cases()


def _add_case_tests(cls):
    for case_no, (pname, _) in enumerate(cls.make_cases()):
        def test(self, case_no=case_no):
            self.check_case(case_no)
        test.__name__ = "test_%02d_%s" % (case_no, pname)
        test.__doc__ = "placement of pool %s matches nutcracker" % pname
        setattr(cls, test.__name__, test)


_add_case_tests(TestPlacement)
_add_case_tests(TestPlacementManyServers)


if __name__ == "__main__":
    unittest.main()

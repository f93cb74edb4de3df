"""The corpus of test_differential.py: byte streams in memcached's ASCII protocol (and some that
are not), each sent both to a real memcached and to ringproxy in front of one, whose replies are
compared byte for byte.

cases() returns the same list of Case on every call (random garbage comes from fixed seeds).
A case's tags say how it is judged:

  a known-difference id (STATS, ADMIN, BINARY, HTTP_PIPELINED, HUGE_GET_LINE, LONG_KEY_DROPS;
      the README's known-differences table lists the same ids): ringproxy's reply must satisfy
      that id's check in test_differential.KNOWN instead of being identical;
  SERVER_DEPENDENT: the answer depends on which server holds which key or on per-server
      counters (cas uniques over several keys, stats): the three-server run leaves it out;
  SPLIT: also sent split in two writes at every byte boundary (split_variants()).

Cases whose check needs to know what the last commands answer (stats, admin) end with a
"tail" of ordinary commands and carry its reply in tail_reply.

Line lengths are counted with their terminator ("a line of 2049 bytes" is 2047 bytes, CR, LF).
Long lines: a line other than get/gets is answered as memcached answers it when it arrives in
one read (as each case's does) up to 16 KiB, and closed silently past that, as memcached does;
ringproxy refuses a get/gets line once MAX_REQUEST_LINE bytes have come without a newline (a
known difference: memcached has no limit).

Cases avoid memcached behaviour that depends on how the stream is cut into reads (which a proxy
cannot be expected to copy): a get/gets/gat/gats/bget with a key over 250 bytes drops every reply
memcached had queued from the same read, and the error for a too-large value is held back, with
the replies before it, until the whole value has been swallowed. Apart from the known
difference http-pipelined, every case was checked to get the same answer from
memcached whether it is sent in one write or a line at a time.

Standard library only."""

import random
from dataclasses import dataclass, replace

# known-difference ids (README table, test_differential.KNOWN)
STATS = "stats"
ADMIN = "admin"
BINARY = "binary"
HTTP_PIPELINED = "http-pipelined"
HUGE_GET_LINE = "huge-get-line"
LONG_KEY_DROPS = "long-key-drops"
KNOWN_IDS = frozenset((STATS, ADMIN, BINARY, HTTP_PIPELINED, HUGE_GET_LINE, LONG_KEY_DROPS))

# other tags
SERVER_DEPENDENT = "server_dependent"
SPLIT = "split"

MAX_LINE = 2048             # ringproxy: longest non-get command line (memcached's own 2048)
MAX_REQUEST_LINE = 65536    # ringproxy: max_request_line default, for get/gets lines
MIB = 1024 * 1024

@dataclass(frozen=True)
class Tail:
    """Commands ending a case whose reply does not depend on anything sent before them."""
    data: bytes
    reply: bytes


TAIL_GET = Tail(b"get tail\r\n", b"END\r\n")
TAIL_SET_GET = Tail(b"set tail 0 0 2\r\nok\r\nget tail\r\n",
                    b"STORED\r\nVALUE tail 0 2\r\nok\r\nEND\r\n")


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    tags: frozenset = frozenset()
    tail: bytes = b""           # the last commands of data, if they are a Tail (see above)
    tail_reply: bytes = b""     # what both owe to them
    split_at: int = None        # a split variant: data[:split_at], a pause, data[split_at:]

    def known(self):
        """The known-difference ids among the tags."""
        return self.tags & KNOWN_IDS


class _Builder:
    """Collects cases; names must be unique."""

    def __init__(self):
        self.cases = []
        self._names = set()

    def add(self, name, data, *tags, tail=None):
        """A case sending data, then tail.data if a Tail is given."""
        if name in self._names:
            raise ValueError("duplicate case name %r" % name)
        if not isinstance(data, bytes) or not data:
            raise ValueError("case %r: data must be non-empty bytes" % name)
        self._names.add(name)
        if tail is None:
            self.cases.append(Case(name, data, frozenset(tags)))
        else:
            self.cases.append(Case(name, data + tail.data, frozenset(tags), tail.data,
                                   tail.reply))


# ---------------------------------------------------------------------------------------------
# small builders


def store(verb, key, value, flags=b"0", exptime=b"0", extra=b""):
    """A storage command with its data block; extra goes after the length (cas unique,
    noreply, ...)."""
    head = b"%s %s %s %s %d" % (verb, key, flags, exptime, len(value))
    if extra:
        head += b" " + extra
    return head + b"\r\n" + value + b"\r\n"


def set_(key, value, extra=b""):
    return store(b"set", key, value, extra=extra)


def get_line_of(total, verb=b"get"):
    """A `get k000000 k000001 ...` line of exactly `total` bytes with its CRLF, every key at
    most 250 bytes (the last one fills up)."""
    line = verb
    i = 0
    while total - 2 - len(line) - 1 > 250:
        line += b" k%06d" % i
        i += 1
    rest = total - 2 - len(line) - 1
    if rest < 1:
        raise ValueError("line too short for %r" % verb)
    return line + b" " + b"f" * rest + b"\r\n"


def padded_line(command, total):
    """command (bytes, no CRLF) padded with spaces (memcached skips them) to `total` bytes."""
    pad = total - 2 - len(command)
    if pad < 0:
        raise ValueError("command longer than %d" % total)
    return command + b" " * pad + b"\r\n"


def line_tag(line, is_get):
    """HUGE_GET_LINE when the bytes before a get line's LF reach ringproxy's limit (other lines
    are answered as memcached answers them)."""
    before_lf = line.index(b"\n") if b"\n" in line else len(line)
    if is_get:
        return (HUGE_GET_LINE,) if before_lf >= MAX_REQUEST_LINE else ()
    return ()


# ---------------------------------------------------------------------------------------------
# numbers: in every numeric argument

NUMBERS = [
    ("0", b"0"), ("1", b"1"), ("minus1", b"-1"), ("minus0", b"-0"), ("plus5", b"+5"),
    ("2147483646", b"2147483646"), ("2147483647", b"2147483647"),
    ("2147483648", b"2147483648"), ("4294967295", b"4294967295"),
    ("4294967296", b"4294967296"), ("9223372036854775808", b"9223372036854775808"),
    ("18446744073709551615", b"18446744073709551615"),
    ("18446744073709551616", b"18446744073709551616"),
    ("hex", b"0x10"), ("word", b"abc"), ("leading-tab", b"\t5"), ("trailing-tab", b"5\t"),
]
# exptime-like arguments skip "1": one second from now may already be past at the next tick of
# memcached's clock, so what a get then finds depends on timing
TIMELIKE_SKIP = {"1"}


def _numbers(b):
    for name, n in NUMBERS:
        timelike = name in TIMELIKE_SKIP
        b.add("number/set-flags=" + name,
              store(b"set", b"k", b"x", flags=n) + b"get k\r\n")
        if not timelike:
            b.add("number/set-exptime=" + name,
                  store(b"set", b"k", b"x", exptime=n) + b"get k\r\n")
        b.add("number/set-bytes=" + name,
              b"set k 0 0 %s\r\nx\r\nget k\r\n" % n)
        b.add("number/cas-unique=" + name,
              set_(b"k", b"x") + store(b"cas", b"k", b"y", extra=n) + b"get k\r\n")
        b.add("number/incr-delta=" + name,
              set_(b"k", b"5") + b"incr k %s\r\nget k\r\n" % n)
        b.add("number/decr-delta=" + name,
              set_(b"k", b"50") + b"decr k %s\r\nget k\r\n" % n)
        b.add("number/incr-value=" + name,
              set_(b"k", n) + b"incr k 1\r\nget k\r\n")
        if not timelike:
            b.add("number/touch-exptime=" + name,
                  set_(b"k", b"x") + b"touch k %s\r\nget k\r\n" % n)
            b.add("number/gat-exptime=" + name,
                  set_(b"k", b"x") + b"gat %s k\r\nget k\r\n" % n)
            b.add("number/flush_all-delay=" + name,
                  set_(b"k", b"x") + b"flush_all %s\r\nget k\r\n" % n)
        b.add("number/verbosity=" + name, b"verbosity %s\r\nget k\r\n" % n)
        b.add("number/delete-time=" + name,
              set_(b"k", b"x") + b"delete k %s\r\nget k\r\n" % n)


# ---------------------------------------------------------------------------------------------
# keys: lengths, control bytes, bytes >= 0x80, NUL

KEYS = [
    ("len1", b"x"), ("len250", b"k" * 250), ("len251", b"k" * 251), ("len1000", b"k" * 1000),
    ("ctl01", b"a\x01b"), ("ctl1f", b"a\x1fb"), ("del7f", b"a\x7fb"), ("tab", b"a\tb"),
    ("vtab", b"a\x0bb"), ("cr", b"a\rb"), ("nul", b"a\x00b"), ("byte80", b"a\x80b"),
    ("byteff", b"\xff"), ("utf8", "cl\u00e9".encode()), ("ends-cr", b"ab\r\r"),
]


def _keys(b):
    for name, key in KEYS:
        b.add("key/get-" + name, b"get %s\r\nget k\r\n" % key)
        # (a retrieval with a key over 250 bytes would make memcached drop the replies queued
        # before it in the same read: see _retrieval_key_errors)
        b.add("key/set-get-" + name, set_(key, b"v")
              + b"get %s\r\n" % (key if len(key) <= 250 else b"k"))
        b.add("key/delete-" + name, b"delete %s\r\nget k\r\n" % key)
        b.add("key/incr-" + name, set_(key, b"7") + b"incr %s 2\r\n" % key)
        b.add("key/touch-" + name, b"touch %s 0\r\nget k\r\n" % key)
    _retrieval_key_errors(b)
    b.add("key/gets-251", b"gets %s\r\nget k\r\n" % (b"k" * 251))
    b.add("key/gat-251", b"gat 0 %s\r\nget k\r\n" % (b"k" * 251))
    b.add("key/set-nul-in-length", b"set k 0 0 1\x00\r\nx\r\nget k\r\n")
    b.add("key/set-nul-after-line", b"set k 0 0 1 \x00\r\nx\r\nget k\r\n")


def _retrieval_key_errors(b):
    """A get/gets/gat/gats/bget with a key over 250 bytes: memcached answers CLIENT_ERROR and
    drops every reply queued before it in the same read (its own hits, and the replies to
    earlier commands that came in the same read), which depends on read boundaries. So these
    cases put such a retrieval first, or after noreply commands only."""
    long_key = b"k" * 251
    b.add("key/multiget-251-in-middle", set_(b"a", b"1", b"noreply")
          + set_(b"b", b"2", b"noreply") + b"get a %s b\r\nget a\r\n" % long_key)
    b.add("key/multiget-251-last", set_(b"a", b"1", b"noreply")
          + b"get a %s\r\nget a\r\n" % long_key)
    b.add("key/gets-251-after-hit", set_(b"a", b"1", b"noreply")
          + b"gets a %s\r\ngets a\r\n" % long_key)
    b.add("key/bget-251", b"bget %s\r\nget k\r\n" % long_key)
    # ... and, as a known difference, after replies memcached then drops
    b.add("key/get-251-after-set", set_(b"a", b"1") + b"get %s\r\nget a\r\n" % long_key,
          LONG_KEY_DROPS)
    b.add("key/get-251-after-hit-and-miss", set_(b"a", b"1", b"noreply")
          + b"get a\r\nget zz\r\nget a %s\r\nget a\r\n" % long_key, LONG_KEY_DROPS)
    b.add("key/gat-251-after-error", b"nosuch\r\ngat 0 %s\r\nget k\r\n" % long_key,
          LONG_KEY_DROPS)
    b.add("key/gats-251", b"gats 0 %s\r\nget k\r\n" % long_key)


# ---------------------------------------------------------------------------------------------
# retrieval


def _retrieval(b):
    b.add("get/miss", b"get k\r\n", SPLIT)
    b.add("get/no-key", b"get\r\nget k\r\n")
    b.add("get/no-key-space", b"get \r\nget k\r\n")
    b.add("get/two-spaces", set_(b"k", b"v") + b"get  k\r\n")
    b.add("get/trailing-space", set_(b"k", b"v") + b"get k \r\n")
    b.add("get/three-keys-one-hit", set_(b"b", b"2") + b"get a b c\r\n")
    b.add("get/duplicate-keys", set_(b"k", b"v") + b"get k k k\r\n")
    for n in (24, 25, 100):
        keys = [b"m%d" % i for i in range(n)]
        b.add("get/%d-keys" % n, set_(b"m3", b"3") + set_(keys[-1], b"L")
              + b"get " + b" ".join(keys) + b"\r\n")
    b.add("gets/miss", b"gets k\r\n")
    b.add("gets/hit", set_(b"k", b"hello") + b"gets k\r\n")
    b.add("gets/no-key", b"gets\r\nget k\r\n")
    b.add("gets/two-keys", set_(b"a", b"1") + set_(b"b", b"2") + b"gets a b\r\n",
          SERVER_DEPENDENT)
    b.add("gat/hit", set_(b"k", b"v") + b"gat 0 k\r\n")
    b.add("gat/miss", b"gat 0 k\r\n")
    b.add("gat/no-exptime", set_(b"k", b"v") + b"gat k\r\nget k\r\n")
    b.add("gat/no-key", b"gat 0\r\nget k\r\n")
    b.add("gat/alone", b"gat\r\nget k\r\n")
    b.add("gat/expire-now", set_(b"k", b"v") + b"gat -1 k\r\nget k\r\n")
    b.add("gat/two-keys", set_(b"a", b"1") + set_(b"b", b"2") + b"gat 100 a b c\r\n")
    b.add("gats/hit", set_(b"k", b"v") + b"gats 100 k\r\n")
    b.add("gats/miss", b"gats 100 k\r\n")
    b.add("gats/two-keys", set_(b"a", b"1") + set_(b"b", b"2") + b"gats 0 a b\r\n",
          SERVER_DEPENDENT)
    b.add("bget/miss", b"bget k\r\n")
    b.add("bget/hit", set_(b"k", b"v") + b"bget k\r\n")
    b.add("get/uppercase", b"GET k\r\nget k\r\n")
    b.add("get/mixed-case", b"Get k\r\nget k\r\n")
    b.add("get/key-named-noreply", set_(b"noreply", b"n") + b"get noreply\r\n")
    b.add("get/ends-noreply", set_(b"k", b"v") + b"get k noreply\r\n")
    b.add("gets/ends-noreply", b"gets k noreply\r\nget k\r\n")
    b.add("gat/exptime-noreply", b"gat noreply k\r\nget k\r\n")
    b.add("gat/ends-noreply", set_(b"k", b"v") + b"gat 0 k noreply\r\n")


# ---------------------------------------------------------------------------------------------
# storage


def _storage(b):
    b.add("set/basic", set_(b"k", b"hello") + b"get k\r\n", SPLIT)
    b.add("set/empty-value", set_(b"k", b"") + b"get k\r\n")
    b.add("set/value-with-crlf", set_(b"k", b"a\r\nb\r\n") + b"get k\r\n")
    b.add("set/value-binary", set_(b"k", bytes(range(256))) + b"get k\r\n")
    b.add("set/overwrite", set_(b"k", b"one") + set_(b"k", b"two") + b"get k\r\n")
    b.add("set/flags-max", store(b"set", b"k", b"x", flags=b"4294967295") + b"get k\r\n")
    b.add("set/missing-bytes", b"set k 0 0\r\nx\r\nget k\r\n")
    b.add("set/missing-exptime", b"set k 0\r\nx\r\nget k\r\n")
    b.add("set/missing-flags", b"set k\r\nx\r\nget k\r\n")
    b.add("set/alone", b"set\r\nget k\r\n")
    b.add("set/one-extra", b"set k 0 0 1 extra\r\nx\r\nget k\r\n")
    b.add("set/two-extra", b"set k 0 0 1 extra more\r\nx\r\nget k\r\n")
    b.add("set/many-extra", b"set k 0 0 1 a b c d e f g h i j k l m n o p q r s t u v w x y\r\n"
          b"x\r\nget k\r\n")
    b.add("set/exptime-30-days", store(b"set", b"k", b"x", exptime=b"2592000") + b"get k\r\n")
    b.add("set/exptime-30-days-plus-1", store(b"set", b"k", b"x", exptime=b"2592001")
          + b"get k\r\n")
    b.add("set/exptime-far", store(b"set", b"k", b"x", exptime=b"100") + b"get k\r\n")
    b.add("set/1000000-bytes", set_(b"k", b"v" * 1000000) + b"get k\r\n")
    b.add("set/1MiB-value", set_(b"k", b"v" * MIB) + b"get k\r\n")
    b.add("set/1MiB-plus-1", set_(b"k", b"v" * (MIB + 1)) + b"get k\r\n")
    b.add("set/2MB-over-existing", set_(b"k", b"old") + set_(b"k", b"v" * (2 * MIB))
          + b"get k\r\n")
    b.add("set/2MB-over-absent", set_(b"k", b"v" * (2 * MIB)) + b"get k\r\n")
    b.add("set/2MB-noreply", set_(b"k", b"old") + set_(b"k", b"v" * (2 * MIB), b"noreply")
          + b"get k\r\n")
    b.add("add/2MB-over-existing", set_(b"k", b"old")
          + store(b"add", b"k", b"v" * (2 * MIB)) + b"get k\r\n")
    b.add("replace/2MB-over-existing", set_(b"k", b"old")
          + store(b"replace", b"k", b"v" * (2 * MIB)) + b"get k\r\n")
    b.add("append/2MB", set_(b"k", b"old") + store(b"append", b"k", b"v" * (2 * MIB))
          + b"get k\r\n")
    b.add("prepend/2MB", set_(b"k", b"old") + store(b"prepend", b"k", b"v" * (2 * MIB))
          + b"get k\r\n")
    b.add("append/to-just-under-limit", set_(b"k", b"v" * 600000)
          + store(b"append", b"k", b"w" * 600000) + b"get k\r\n")
    b.add("set/declared-1e9-no-data", b"set k 0 0 1000000000\r\nget k\r\n")
    # alone: memcached holds back the replies to earlier commands of the same read until a
    # too-large value has been swallowed
    b.add("set/declared-2MB-short-data", b"set k 0 0 2097152\r\n" + b"x" * 100
          + b"\r\nget k\r\n")
    b.add("cas/declared-2MB", set_(b"k", b"old") + store(b"cas", b"k", b"v" * (2 * MIB),
                                                        extra=b"1") + b"get k\r\n")
    for verb in (b"add", b"replace", b"append", b"prepend"):
        v = verb.decode()
        b.add("%s/absent" % v, store(verb, b"k", b"new") + b"get k\r\n")
        b.add("%s/present" % v, set_(b"k", b"old") + store(verb, b"k", b"new") + b"get k\r\n")
        b.add("%s/noreply" % v, set_(b"k", b"old") + store(verb, b"k", b"new", extra=b"noreply")
              + b"get k\r\n")
        b.add("%s/missing-bytes" % v, b"%s k 0 0\r\nx\r\nget k\r\n" % verb)
    b.add("append/keeps-flags", store(b"set", b"k", b"a", flags=b"7")
          + store(b"append", b"k", b"b", flags=b"9", exptime=b"-1") + b"get k\r\n")
    b.add("prepend/keeps-flags", store(b"set", b"k", b"a", flags=b"7")
          + store(b"prepend", b"k", b"b", flags=b"9") + b"get k\r\n")
    b.add("append/empty", set_(b"k", b"a") + store(b"append", b"k", b"") + b"get k\r\n")
    b.add("append/twice-prepend-twice", set_(b"k", b"m") + store(b"append", b"k", b"1")
          + store(b"append", b"k", b"2") + store(b"prepend", b"k", b"3")
          + store(b"prepend", b"k", b"4") + b"get k\r\n")
    b.add("add/noreply-absent", store(b"add", b"k", b"new", extra=b"noreply") + b"get k\r\n")


def _cas(b):
    b.add("cas/absent", store(b"cas", b"k", b"v", extra=b"1") + b"get k\r\n")
    b.add("cas/right-unique", set_(b"k", b"x") + b"gets k\r\n"
          + store(b"cas", b"k", b"y", extra=b"1") + b"gets k\r\n", SPLIT)
    b.add("cas/wrong-unique", set_(b"k", b"x") + store(b"cas", b"k", b"y", extra=b"2")
          + b"gets k\r\n")
    b.add("cas/right-then-stale", set_(b"k", b"x") + store(b"cas", b"k", b"y", extra=b"1")
          + store(b"cas", b"k", b"z", extra=b"1") + b"get k\r\n")
    b.add("cas/after-overwrite", set_(b"k", b"x") + set_(b"k", b"x2")
          + store(b"cas", b"k", b"y", extra=b"2") + b"get k\r\n")
    b.add("cas/unique-zero", set_(b"k", b"x") + store(b"cas", b"k", b"y", extra=b"0")
          + b"get k\r\n")
    b.add("cas/missing-unique", set_(b"k", b"x") + b"cas k 0 0 1\r\ny\r\nget k\r\n")
    b.add("cas/noreply-right", set_(b"k", b"x") + store(b"cas", b"k", b"y", extra=b"1 noreply")
          + b"get k\r\n")
    b.add("cas/noreply-wrong", set_(b"k", b"x") + store(b"cas", b"k", b"y", extra=b"9 noreply")
          + b"get k\r\n")
    b.add("cas/unique-is-noreply", set_(b"k", b"x") + store(b"cas", b"k", b"y", extra=b"noreply")
          + b"get k\r\n")
    b.add("cas/extra-after-noreply", set_(b"k", b"x")
          + store(b"cas", b"k", b"y", extra=b"1 noreply extra") + b"get k\r\n")
    b.add("cas/after-touch", set_(b"k", b"x") + b"touch k 100\r\n"
          + store(b"cas", b"k", b"y", extra=b"1") + b"gets k\r\n")
    b.add("cas/after-append", set_(b"k", b"x") + store(b"append", b"k", b"y")
          + store(b"cas", b"k", b"z", extra=b"2") + b"gets k\r\n")
    b.add("cas/after-incr", set_(b"k", b"1") + b"incr k 1\r\n"
          + store(b"cas", b"k", b"z", extra=b"1") + b"gets k\r\n")
    b.add("cas/second-key-unique", set_(b"a", b"1") + set_(b"b", b"2")
          + store(b"cas", b"b", b"z", extra=b"2") + b"gets a b\r\n", SERVER_DEPENDENT)
    b.add("cas/gets-after-sets-on-two-keys", set_(b"a", b"1") + set_(b"b", b"2")
          + set_(b"a", b"3") + b"gets a\r\n", SERVER_DEPENDENT)


# ---------------------------------------------------------------------------------------------
# delete, incr/decr, touch, flush_all, verbosity, version, quit


def _delete(b):
    for name, tail in (("plain", b""), ("0", b" 0"), ("0-noreply", b" 0 noreply"),
                       ("1", b" 1"), ("0-0", b" 0 0"), ("noreply", b" noreply"),
                       ("noreply-0", b" noreply 0"), ("extra", b" extra"),
                       ("0-extra", b" 0 extra"), ("0-noreply-extra", b" 0 noreply extra")):
        b.add("delete/present-" + name, set_(b"k", b"v") + b"delete k%s\r\nget k\r\n" % tail,
              *((SPLIT,) if name == "0" else ()))
        b.add("delete/absent-" + name, b"delete k%s\r\nget k\r\n" % tail)
    b.add("delete/alone", b"delete\r\nget k\r\n")
    b.add("delete/twice", set_(b"k", b"v") + b"delete k\r\ndelete k\r\n")
    b.add("delete/key-named-noreply", set_(b"noreply", b"v") + b"delete noreply\r\n"
          b"get noreply\r\n")
    b.add("delete/then-add", set_(b"k", b"v") + b"delete k\r\n" + store(b"add", b"k", b"w")
          + b"get k\r\n")


def _arith(b):
    b.add("incr/absent", b"incr k 1\r\n")
    b.add("decr/absent", b"decr k 1\r\n")
    b.add("incr/basic", set_(b"n", b"5") + b"incr n 3\r\n", SPLIT)
    b.add("incr/grows-length", set_(b"n", b"99") + b"incr n 1\r\nget n\r\n")
    b.add("decr/shrinks-length", set_(b"n", b"100") + b"decr n 1\r\nget n\r\n")
    b.add("decr/below-zero", set_(b"n", b"5") + b"decr n 9\r\nget n\r\n")
    b.add("incr/to-max", set_(b"n", b"18446744073709551614") + b"incr n 1\r\nget n\r\n")
    b.add("incr/past-max-wraps", set_(b"n", b"18446744073709551615") + b"incr n 1\r\nget n\r\n")
    b.add("incr/past-max-by-max", set_(b"n", b"2") + b"incr n 18446744073709551615\r\n")
    b.add("incr/delta-2^64", set_(b"n", b"2") + b"incr n 18446744073709551616\r\nget n\r\n")
    b.add("incr/value-2^64", set_(b"n", b"18446744073709551616") + b"incr n 1\r\nget n\r\n")
    b.add("incr/non-numeric", set_(b"n", b"abc") + b"incr n 1\r\nget n\r\n")
    b.add("decr/non-numeric", set_(b"n", b"abc") + b"decr n 1\r\nget n\r\n")
    b.add("incr/value-leading-space", set_(b"n", b" 5") + b"incr n 1\r\n")
    b.add("incr/value-trailing-space", set_(b"n", b"5 ") + b"incr n 1\r\nget n\r\n")
    b.add("incr/value-empty", set_(b"n", b"") + b"incr n 1\r\n")
    b.add("incr/value-negative", set_(b"n", b"-5") + b"incr n 1\r\n")
    b.add("incr/value-21-digits", set_(b"n", b"1" * 21) + b"incr n 1\r\n")
    b.add("incr/missing-delta", set_(b"n", b"5") + b"incr n\r\nget n\r\n")
    b.add("incr/alone", b"incr\r\nget k\r\n")
    b.add("incr/extra", set_(b"n", b"5") + b"incr n 1 extra\r\nget n\r\n")
    b.add("incr/noreply", set_(b"n", b"5") + b"incr n 1 noreply\r\nget n\r\n")
    b.add("incr/delta-is-noreply", set_(b"n", b"5") + b"incr n noreply\r\nget n\r\n")
    b.add("incr/bad-delta-noreply", set_(b"n", b"5") + b"incr n abc noreply\r\nget n\r\n")
    b.add("incr/non-numeric-noreply", set_(b"n", b"x") + b"incr n 1 noreply\r\nget n\r\n")
    b.add("incr/key-named-noreply", set_(b"noreply", b"1") + b"incr noreply 1\r\n")
    b.add("decr/noreply", set_(b"n", b"5") + b"decr n 1 noreply\r\nget n\r\n")
    b.add("incr/keeps-flags", store(b"set", b"n", b"5", flags=b"33") + b"incr n 1\r\nget n\r\n")
    b.add("incr/after-append", set_(b"n", b"1") + store(b"append", b"n", b"2")
          + b"incr n 1\r\nget n\r\n")


def _touch(b):
    b.add("touch/present", set_(b"k", b"v") + b"touch k 100\r\nget k\r\n")
    b.add("touch/absent", b"touch k 0\r\n")
    b.add("touch/missing-exptime", set_(b"k", b"v") + b"touch k\r\nget k\r\n")
    b.add("touch/alone", b"touch\r\nget k\r\n")
    b.add("touch/expire-now", set_(b"k", b"v") + b"touch k -1\r\nget k\r\n")
    b.add("touch/noreply", set_(b"k", b"v") + b"touch k 0 noreply\r\nget k\r\n")
    b.add("touch/exptime-is-noreply", set_(b"k", b"v") + b"touch k noreply\r\nget k\r\n")
    b.add("touch/extra", set_(b"k", b"v") + b"touch k 0 extra\r\nget k\r\n")
    b.add("touch/key-named-noreply", set_(b"noreply", b"v") + b"touch noreply 0\r\n")


def _flush(b):
    for name, line in (("plain", b"flush_all"), ("0", b"flush_all 0"),
                       ("delay-100", b"flush_all 100"), ("noreply", b"flush_all noreply"),
                       ("0-noreply", b"flush_all 0 noreply"),
                       ("100-noreply", b"flush_all 100 noreply"),
                       ("noreply-0", b"flush_all noreply 0"), ("0-0", b"flush_all 0 0"),
                       ("extra", b"flush_all 0 0 0"), ("uppercase", b"FLUSH_ALL")):
        b.add("flush_all/" + name, set_(b"a", b"1") + set_(b"b", b"2") + line
              + b"\r\nget a b\r\n")
    b.add("flush_all/then-add", set_(b"k", b"v") + b"flush_all\r\n" + store(b"add", b"k", b"w")
          + b"get k\r\n")
    b.add("flush_all/then-incr", set_(b"n", b"1") + b"flush_all\r\nincr n 1\r\n")
    b.add("flush_all/then-set", set_(b"k", b"v") + b"flush_all\r\n" + set_(b"k", b"w")
          + b"get k\r\n")


def _misc(b):
    b.add("verbosity/missing", b"verbosity\r\nget k\r\n")
    b.add("verbosity/noreply-only", b"verbosity noreply\r\nget k\r\n")
    b.add("verbosity/1-noreply", b"verbosity 1 noreply\r\nget k\r\n")
    b.add("verbosity/extra", b"verbosity 1 2\r\nget k\r\n")
    b.add("verbosity/extra-noreply", b"verbosity 1 2 noreply\r\nget k\r\n")
    b.add("version/plain", b"version\r\n")
    b.add("version/extra", b"version extra\r\nget k\r\n")
    b.add("version/noreply", b"version noreply\r\nget k\r\n")
    b.add("version/twice", b"version\r\nversion\r\n")
    b.add("quit/alone", b"quit\r\n")
    b.add("quit/then-commands", b"quit\r\nget k\r\nversion\r\n")
    b.add("quit/after-commands", set_(b"k", b"v") + b"get k\r\nquit\r\nget k\r\n", SPLIT)
    b.add("quit/extra", b"quit extra\r\nget k\r\n")
    b.add("quit/noreply", b"quit noreply\r\nget k\r\n")
    b.add("quit/uppercase", b"QUIT\r\nget k\r\n")
    b.add("quit/bare-lf", b"get k\nquit\nget k\n")
    b.add("quit/after-noreply-set", set_(b"k", b"v", b"noreply") + b"quit\r\n")
    for word in (b"foo", b"gett", b"ge", b"sets", b"incrr", b"deletee", b"x", b"123",
                 b"noreply", b"END", b"STORED", b"VALUE k 0 1", b"ERROR", b"mget k",
                 b"auth", b"sasl", b"misbehave", b"debugtime", b"gats", b"cas",
                 b"append", b"prepend", b"replace", b"add", b"stat", b"statsx", b"versions",
                 b"flush", b"flushall", b"verbose"):
        b.add("unknown/%s" % word.decode().replace(" ", "_"), word + b"\r\nget k\r\n")
    b.add("unknown/leading-tab", set_(b"k", b"v") + b"\tget k\r\nget k\r\n")
    b.add("unknown/leading-space", set_(b"k", b"v") + b" get k\r\n")
    b.add("unknown/leading-spaces-set", b"   set k 0 0 1\r\nx\r\nget k\r\n")
    b.add("unknown/tab-separated", set_(b"k", b"v") + b"get\tk\r\nget k\r\n")
    b.add("unknown/nul-line", b"\x00\r\nget k\r\n")
    b.add("unknown/nul-after-command", b"get\x00 k\r\nget k\r\n")
    b.add("unknown/nul-in-key", set_(b"k", b"v") + b"get k\x00\r\nget k\r\n")
    b.add("unknown/nul-in-set-line", b"set k\x000 0 1\r\nx\r\nget k\r\n")
    b.add("unknown/del-byte", b"\x7f\r\nget k\r\n")
    b.add("unknown/high-bytes", b"\xff\xfe\r\nget k\r\n")
    b.add("unknown/escape-sequence", b"\x1b[A\r\nget k\r\n")
    b.add("unknown/response-magic-0x81", b"\x81\x00\x00\x00\r\nget k\r\n")


# ---------------------------------------------------------------------------------------------
# noreply in every position


def _noreply(b):
    cases = [
        ("set-last", set_(b"k", b"v", b"noreply") + b"get k\r\n"),
        ("set-double-space", b"set k 0 0 1  noreply\r\nv\r\nget k\r\n"),
        ("set-uppercase", b"set k 0 0 1 NOREPLY\r\nv\r\nget k\r\n"),
        ("set-prefix-word", b"set k 0 0 1 noreplyx\r\nv\r\nget k\r\n"),
        ("set-short-word", b"set k 0 0 1 norepl\r\nv\r\nget k\r\n"),
        ("set-as-bytes", b"set k 0 0 noreply\r\nv\r\nget k\r\n"),
        ("set-as-exptime", b"set k 0 noreply 1\r\nv\r\nget k\r\n"),
        ("set-as-flags", b"set k noreply 0 1\r\nv\r\nget k\r\n"),
        ("set-as-key", b"set noreply 0 0 1\r\nv\r\nget noreply\r\n"),
        ("set-then-extra", b"set k 0 0 1 noreply extra\r\nv\r\nget k\r\n"),
        ("set-after-extra", b"set k 0 0 1 extra noreply\r\nv\r\nget k\r\n"),
        ("set-twice", b"set k 0 0 1 noreply noreply\r\nv\r\nget k\r\n"),
        ("set-bad-flags", b"set k x 0 1 noreply\r\nv\r\nget k\r\n"),
        ("set-bad-chunk", b"set k 0 0 1 noreply\r\nvv\r\nget k\r\n"),
        ("set-key-251", b"set %s 0 0 1 noreply\r\nv\r\nget k\r\n" % (b"k" * 251)),
        ("set-too-large", b"set k 0 0 %d noreply\r\n" % (2 * MIB) + b"v" * (2 * MIB)
         + b"\r\nget k\r\n"),
        ("get-key", b"get k noreply\r\nget noreply\r\n"),
        ("delete-key-then-noreply", set_(b"noreply", b"v") + b"delete noreply noreply\r\n"
         b"get noreply\r\n"),
        ("incr-both", set_(b"noreply", b"1") + b"incr noreply 1 noreply\r\nget noreply\r\n"),
        ("flush_all-uppercase", set_(b"k", b"v") + b"flush_all NOREPLY\r\nget k\r\n"),
        ("verbosity-twice", b"verbosity noreply noreply\r\nget k\r\n"),
        ("touch-absent", b"touch k 0 noreply\r\nget k\r\n"),
        ("delete-absent", b"delete k noreply\r\nget k\r\n"),
        ("many-noreply-sets", b"".join(set_(b"k%d" % i, b"%d" % i, b"noreply")
                                       for i in range(20)) + b"get k0 k19\r\n"),
        ("noreply-then-error", set_(b"k", b"v", b"noreply") + b"bogus\r\nget k\r\n"),
        ("alone", b"noreply\r\nget k\r\n"),
    ]
    for name, data in cases:
        b.add("noreply/" + name, data, *((SPLIT,) if name == "set-last" else ()))


# ---------------------------------------------------------------------------------------------
# data blocks: wrong terminators, wrong lengths


def _chunks(b):
    cases = [
        ("lf-only", b"set k 0 0 1\r\nx\nget k\r\n"),
        ("cr-only", b"set k 0 0 1\r\nx\rget k\r\n"),
        ("no-terminator-end", b"set k 0 0 1\r\nx"),
        ("cr-at-end", b"set k 0 0 1\r\nx\r"),
        ("one-extra-byte", b"set k 0 0 1\r\nxy\r\nget k\r\n"),
        ("many-extra-bytes", b"set k 0 0 1\r\nxyz0123456789\r\nget k\r\n"),
        ("one-short", b"set k 0 0 3\r\nxy\r\nget k\r\n"),
        ("short-then-command", b"set k 0 0 5\r\nx\r\nget k\r\n"),
        ("crcrlf", b"set k 0 0 1\r\nx\r\r\nget k\r\n"),
        ("lfcr", b"set k 0 0 1\r\nx\n\rget k\r\n"),
        ("zero-length-crlf", b"set k 0 0 0\r\n\r\nget k\r\n"),
        ("zero-length-missing", b"set k 0 0 0\r\nget k\r\n"),
        ("empty-value-then-crlfs", b"set k 0 0 1\r\n\r\n\r\nget k\r\n"),
        ("value-is-command", b"set k 0 0 9\r\nget other\r\nget k\r\n"),
        ("value-looks-like-set", b"set k 0 0 13\r\nset j 0 0 1\r\n\r\nget k j\r\n"),
        ("append-bad-chunk", set_(b"k", b"a") + b"append k 0 0 1\r\nbb\r\nget k\r\n"),
        ("cas-bad-chunk", set_(b"k", b"a") + b"cas k 0 0 1 1\r\nbb\r\nget k\r\n"),
        ("bad-chunk-keeps-old", set_(b"k", b"old") + b"set k 0 0 1\r\nxx\r\nget k\r\n"),
        ("bad-chunk-noreply-keeps-old", set_(b"k", b"old")
         + b"set k 0 0 1 noreply\r\nxx\r\nget k\r\n"),
        ("bad-chunk-then-good-set", b"set k 0 0 1\r\nxx\r\n" + set_(b"j", b"y")
         + b"get j\r\n"),
    ]
    for name, data in cases:
        b.add("chunk/" + name, data)


# ---------------------------------------------------------------------------------------------
# line endings and empty lines


def _line_endings(b):
    cases = [
        ("get-lf", set_(b"k", b"v") + b"get k\n"),
        ("get-crcrlf", set_(b"k", b"v") + b"get k\r\r\n"),
        ("get-cr-only", set_(b"k", b"v") + b"get k\r"),
        ("get-lf-then-crlf", b"get a\nget b\r\n", SPLIT),
        ("get-lfcr", b"get a\n\rget b\r\n"),
        ("set-lf", b"set k 0 0 1\nx\r\nget k\n"),
        ("set-crcrlf", b"set k 0 0 1\r\r\nx\r\nget k\r\n"),
        ("all-lf", b"set k 0 0 2\nab\nget k\n"),
        ("delete-lf", set_(b"k", b"v") + b"delete k\nget k\n"),
        ("incr-lf", set_(b"n", b"1") + b"incr n 1\n"),
        ("touch-lf", set_(b"k", b"v") + b"touch k 10\n"),
        ("version-lf", b"version\n"),
        ("flush_all-lf", set_(b"k", b"v") + b"flush_all\nget k\n"),
        ("empty-crlf", b"\r\nget k\r\n"),
        ("empty-lf", b"\nget k\r\n"),
        ("empty-crcrlf", b"\r\r\nget k\r\n"),
        ("three-empty", b"\r\n\r\n\r\nget k\r\n"),
        ("only-spaces", b"     \r\nget k\r\n"),
        ("space-then-cr", b" \r\r\nget k\r\n"),
        ("lone-cr", b"\r"),
        ("lone-lf", b"\n"),
        ("cr-in-middle", b"get a\rb\r\nget k\r\n"),
    ]
    for name, data, *tags in cases:
        b.add("eol/" + name, data, *tags)


# ---------------------------------------------------------------------------------------------
# long lines


def _long_lines(b):
    for total in (2047, 2048, 2049, 2050, 3000):
        for name, command, rest in (
                ("set", b"set k 0 0 1", b"x\r\nget k\r\n"),
                ("unknown", None, b"get k\r\n"),
                ("delete", b"delete k", b"get k\r\n"),
                ("incr", b"incr k 1", b""),
                ("gat", b"gat 0 k", b""),
                ("set-key-too-long", None, b"x\r\nget k\r\n")):
            if name == "unknown":
                line = b"x" * (total - 2) + b"\r\n"
            elif name == "set-key-too-long":
                line = b"set " + b"k" * (total - 2 - 10) + b" 0 0 1\r\n"
            else:
                line = padded_line(command, total)
            b.add("long/%s-%d" % (name, total), line + rest, *line_tag(line, False))
    for total in (16000, 20000):
        line = padded_line(b"set k 0 0 1", total)
        b.add("long/set-%d" % total, line + b"x\r\nget k\r\n", *line_tag(line, False))
        line = b"y" * (total - 2) + b"\r\n"
        b.add("long/unknown-%d" % total, line + b"get k\r\n", *line_tag(line, False))
    line = padded_line(b"set k 0 0 1", 3000)
    b.add("long/set-3000-after-get", b"get k\r\n" + line + b"x\r\n", *line_tag(line, False))
    line = b"z" * 5000
    b.add("long/no-newline-5000", line)
    b.add("long/bare-lf-3000", b"x" * 2998 + b"\n" + b"get k\r\n")

    for verb in (b"get", b"gets"):
        v = verb.decode()
        for total in (2047, 2048, 2049, 3000, 16384, 20000, 65535, 65536, 65537, 70000, 200000):
            line = get_line_of(total, verb)
            b.add("long/%s-%d" % (v, total), set_(b"k000003", b"3") + line,
                  *line_tag(line, True))
    line = padded_line(b"get k", 3000)
    b.add("long/get-one-key-3000", set_(b"k", b"v") + line, *line_tag(line, True))
    line = b"get " + b" ".join([b"%c" % (97 + i % 26) * 250 for i in range(12)]) + b"\r\n"
    b.add("long/get-250-byte-keys", set_(b"a" * 250, b"A") + line + b"get k\r\n")
    line = get_line_of(3000)[:-2] + b" " + b"k" * 251 + b"\r\n"
    b.add("long/get-3000-with-251-key", line + b"get k\r\n")
    line = get_line_of(70000)
    b.add("long/get-70000-then-get", line + b"get k\r\n", *line_tag(line, True))
    b.add("long/get-70000-after-set", set_(b"k", b"v") + b"get k\r\n" + line,
          *line_tag(line, True))


# ---------------------------------------------------------------------------------------------
# pipelines


def _pipelines(b):
    b.add("pipe/two-gets", b"get a\r\nget b\r\n", SPLIT)
    b.add("pipe/bad-then-good", b"foo\r\nget k\r\n", SPLIT)
    b.add("pipe/set-get-delete-get", set_(b"k", b"v") + b"get k\r\ndelete k\r\nget k\r\n")
    b.add("pipe/key-too-long-then-good", b"get %s\r\n" % (b"k" * 251) + set_(b"k", b"v")
          + b"get k\r\n")
    b.add("pipe/bad-length-then-good", b"set k 0 0 x\r\nv\r\n" + set_(b"k", b"v") + b"get k\r\n")
    b.add("pipe/bad-chunk-then-good", b"set k 0 0 1\r\nvvv\r\n" + set_(b"j", b"w")
          + b"get j\r\n")
    b.add("pipe/bad-incr-then-good", b"incr k abc\r\n" + set_(b"k", b"1") + b"incr k 1\r\n")
    b.add("pipe/bad-delete-then-good", b"delete k 5\r\ndelete k\r\n")
    b.add("pipe/error-every-other", b"".join(b"bad%d\r\nget k%d\r\n" % (i, i) for i in range(10)))
    b.add("pipe/100-sets-and-gets", b"".join(set_(b"k%d" % i, b"v%d" % i) for i in range(100))
          + b"".join(b"get k%d\r\n" % i for i in range(100)))
    b.add("pipe/multiget-100-after-sets", b"".join(set_(b"k%d" % i, b"v%d" % i)
                                                  for i in range(0, 100, 3))
          + b"get " + b" ".join(b"k%d" % i for i in range(100)) + b"\r\n")
    b.add("pipe/mixed-everything", set_(b"a", b"1") + store(b"add", b"a", b"2")
          + store(b"replace", b"b", b"3") + store(b"append", b"a", b"4") + b"incr a 10\r\n"
          + b"touch a 100\r\n" + b"decr a 1\r\n" + b"get a b\r\n" + b"delete a\r\n"
          + b"get a\r\n" + b"verbosity 0\r\n" + b"flush_all\r\n" + b"get a\r\n")
    b.add("pipe/noreply-mix", set_(b"a", b"1", b"noreply") + b"incr a 1 noreply\r\n"
          + b"touch a 0 noreply\r\n" + b"get a\r\n" + b"delete a noreply\r\n" + b"get a\r\n")
    b.add("pipe/many-errors", b"".join(x + b"\r\n" for x in (
        b"get", b"set k", b"incr", b"decr k", b"touch k", b"delete", b"cas k 0 0 1",
        b"gat", b"gats 0", b"verbosity", b"foo bar", b"", b" "))
          + b"get k\r\n")
    b.add("pipe/empty-lines-between", b"get a\r\n\r\nget b\r\n\r\n\r\nget c\r\n")
    b.add("pipe/binary-bytes-after-text", b"get k\r\n\x80\x0b\x00\x00\r\nget k\r\n")
    b.add("pipe/1000-gets", b"get k\r\n" * 1000)
    b.add("pipe/big-value-then-commands", set_(b"big", b"B" * 300000) + b"get big\r\n"
          + b"get big\r\ndelete big\r\nget big\r\n")
    b.add("pipe/set-data-split-across-gets", set_(b"k", b"v") + b"get k\r\n"
          + b"set j 0 0 5\r\nab\r\n\r\nget j\r\n")


# ---------------------------------------------------------------------------------------------
# stateful sequences


def _stateful(b):
    b.add("state/set-get-gets", set_(b"k", b"v1") + b"get k\r\ngets k\r\n")
    b.add("state/set-twice-gets", set_(b"k", b"v1") + set_(b"k", b"v2") + b"gets k\r\n")
    b.add("state/add-add", store(b"add", b"k", b"1") + store(b"add", b"k", b"2") + b"gets k\r\n")
    b.add("state/replace-absent-then-set-replace", store(b"replace", b"k", b"1")
          + set_(b"k", b"2") + store(b"replace", b"k", b"3") + b"gets k\r\n")
    b.add("state/append-absent-then-present", store(b"append", b"k", b"1") + set_(b"k", b"2")
          + store(b"append", b"k", b"3") + store(b"prepend", b"k", b"0") + b"gets k\r\n")
    b.add("state/incr-chain", set_(b"n", b"0") + b"incr n 1\r\nincr n 10\r\ndecr n 3\r\n"
          b"incr n 18446744073709551615\r\nget n\r\n")
    b.add("state/incr-to-2^64-minus-1-and-past", set_(b"n", b"18446744073709551610")
          + b"incr n 5\r\nincr n 1\r\nincr n 1\r\nget n\r\n")
    b.add("state/decr-to-zero-and-below", set_(b"n", b"3") + b"decr n 1\r\ndecr n 1\r\n"
          b"decr n 1\r\ndecr n 1\r\nget n\r\n")
    b.add("state/touch-then-gat", set_(b"k", b"v") + b"touch k 100\r\ngat 200 k\r\ngats 0 k\r\n")
    b.add("state/gat-expires", set_(b"k", b"v") + b"gat -1 k\r\nget k\r\n")
    b.add("state/touch-absent-then-set", b"touch k 10\r\n" + set_(b"k", b"v")
          + b"touch k 10\r\n")
    b.add("state/expired-then-add", store(b"set", b"k", b"v", exptime=b"-1")
          + store(b"add", b"k", b"w") + b"get k\r\n")
    b.add("state/expired-then-replace", store(b"set", b"k", b"v", exptime=b"-1")
          + store(b"replace", b"k", b"w") + b"get k\r\n")
    b.add("state/expired-then-incr", store(b"set", b"n", b"1", exptime=b"-1")
          + b"incr n 1\r\n")
    b.add("state/delete-noreply-then-get", set_(b"k", b"v") + b"delete k noreply\r\nget k\r\n")
    b.add("state/delete-0-noreply-then-get", set_(b"k", b"v")
          + b"delete k 0 noreply\r\nget k\r\n")
    b.add("state/flush-noreply-then-get", set_(b"k", b"v") + b"flush_all noreply\r\nget k\r\n")
    b.add("state/flush-delay-then-get", set_(b"k", b"v") + b"flush_all 1000\r\nget k\r\n")
    b.add("state/flush-then-set-get", set_(b"k", b"v") + b"flush_all 0\r\n" + set_(b"k", b"w")
          + b"get k\r\n")
    b.add("state/2MB-set-unlinks-old", set_(b"k", b"small") + set_(b"k", b"B" * (2 * MIB))
          + b"get k\r\nget k\r\n")
    b.add("state/2MB-append-keeps-old", set_(b"k", b"small")
          + store(b"append", b"k", b"B" * (2 * MIB)) + b"get k\r\n")
    b.add("state/2MB-then-commands", set_(b"k", b"B" * (2 * MIB)) + set_(b"j", b"w")
          + b"get j\r\nincr j 1\r\n")
    b.add("state/quit-after-set", set_(b"k", b"v") + b"quit\r\n" + set_(b"j", b"w"))
    b.add("state/flags-roundtrip", store(b"set", b"k", b"v", flags=b"123456")
          + b"get k\r\ngets k\r\n")
    b.add("state/cas-chain", set_(b"k", b"a") + store(b"cas", b"k", b"b", extra=b"1")
          + store(b"cas", b"k", b"c", extra=b"2") + store(b"cas", b"k", b"d", extra=b"2")
          + b"gets k\r\n")
    b.add("state/noreply-storm-then-get", b"".join(
        store(v, b"k", b"%d" % i, extra=b"noreply") for i, v in enumerate(
            (b"add", b"set", b"append", b"prepend", b"replace", b"add")))
          + b"get k\r\n")


# ---------------------------------------------------------------------------------------------
# known differences: stats, admin, meta


def _stats(b):
    for args in (b"", b" reset", b" items", b" slabs", b" sizes", b" conns", b" detail on",
                 b" detail off", b" detail dump", b" cachedump 1 1", b" extstore",
                 b" settings", b" foo",
                 b" reset extra", b"  ", b" noreply"):
        name = args.strip().decode().replace(" ", "-") or "plain"
        if args == b"  ":
            name = "trailing-spaces"
        b.add("stats/%s" % name, b"stats" + args + b"\r\n", STATS, SERVER_DEPENDENT,
              tail=TAIL_GET)
    b.add("stats/plain-then-set-get", b"stats\r\n", STATS, SERVER_DEPENDENT, tail=TAIL_SET_GET)
    b.add("stats/bare-lf", b"stats\n", STATS, SERVER_DEPENDENT, tail=TAIL_GET)
    b.add("stats/alone", b"stats\r\n", STATS, SERVER_DEPENDENT)


ADMIN_LINES = [
    # (name, line, takes over the connection: no tail)
    ("shutdown", b"shutdown", False), ("shutdown-graceful", b"shutdown graceful", False),
    ("shutdown-noreply", b"shutdown noreply", False),
    ("slabs", b"slabs", False), ("slabs-reassign", b"slabs reassign 1 2", False),
    ("slabs-automove", b"slabs automove 0", False),
    ("lru_crawler", b"lru_crawler", False),
    ("lru_crawler-crawl", b"lru_crawler crawl all", False),
    ("lru_crawler-sleep", b"lru_crawler sleep 100", False),
    ("lru_crawler-tocrawl", b"lru_crawler tocrawl 10", False),
    ("lru_crawler-disable", b"lru_crawler disable", False),
    ("lru_crawler-metadump", b"lru_crawler metadump all", True),
    ("lru", b"lru", False), ("lru-mode", b"lru mode flat", False),
    ("lru-temp_ttl", b"lru temp_ttl 10", False),
    ("watch", b"watch", True), ("watch-fetchers", b"watch fetchers mutations", True),
    ("cache_memlimit", b"cache_memlimit 100", False),
    ("cache_memlimit-bad", b"cache_memlimit abc", False),
    ("cache_memlimit-missing", b"cache_memlimit", False),
    ("extstore", b"extstore", False), ("extstore-args", b"extstore free_memchunks 0 0", False),
]


def _admin(b):
    for name, line, takeover in ADMIN_LINES:
        if takeover:
            b.add("admin/" + name, line + b"\r\n", ADMIN)
        else:
            b.add("admin/" + name, line + b"\r\n", ADMIN, tail=TAIL_GET)
    b.add("admin/shutdown-then-set-get", b"shutdown\r\n", ADMIN, tail=TAIL_SET_GET)
    b.add("admin/bare-lf", b"cache_memlimit 100\n", ADMIN, tail=TAIL_GET)


def ms(key, value, flags=b""):
    """A meta set with its data block."""
    head = b"ms %s %d" % (key, len(value))
    if flags:
        head += b" " + flags
    return head + b"\r\n" + value + b"\r\n"


def b64(raw):
    import base64
    return base64.b64encode(raw)


# Meta commands (memcached 1.6.18's mg ms md ma mn me), each case byte for byte. A case whose
# answer shows cas values or per-item times (the c flag, me) is server-dependent: the
# three-server run leaves it out.
META_CASES = [
    # mg: hit and miss, with every flag that reads the item
    ("mg-miss", b"mg k\r\nmg k v\r\nmg k v k O99\r\n", ()),
    ("mg-hit", ms(b"k", b"hello", b"F5 T0") + b"mg k\r\nmg k v\r\nmg k v f s t k O1\r\n", (SPLIT,)),
    ("mg-flags-cas", ms(b"k", b"v") + b"mg k c v\r\n", (SERVER_DEPENDENT,)),
    ("mg-hit-la", ms(b"k", b"v") + b"mg k h l\r\nmg k h l v\r\n", ()),
    ("mg-ttl", ms(b"k", b"v", b"T100") + b"mg k t v\r\nmg k T0 t\r\nmg k t\r\n", ()),
    ("mg-touch-expire", ms(b"k", b"v") + b"mg k T-1\r\nmg k v\r\n", ()),
    ("mg-empty-value", ms(b"k", b"") + b"mg k v s\r\n", ()),
    ("mg-binary-value", ms(b"k", b"\r\n\0\xffEN\r\nMN\r\nVA 2\r\n") + b"mg k v\r\n", ()),
    ("mg-spaces", ms(b"k", b"v") + b"mg  k   v  f \r\n", ()),
    ("mg-lf", ms(b"k", b"v") + b"mg k v\n", ()),
    ("mg-tab-key", b"mg k\tv v\r\n", ()),
    ("mg-nul", ms(b"k", b"v") + b"mg k v\0 garbage\r\n", ()),
    # quiet: misses vanish, hits and errors do not; mn ends it all
    ("mg-quiet", ms(b"a", b"1") + b"mg a v q\r\nmg b v q\r\nmg c v q k\r\nmn\r\n", (SPLIT,)),
    ("mg-quiet-hit-no-value", ms(b"a", b"1") + b"mg a q\r\nmg a q k\r\nmn\r\n", ()),
    ("mg-quiet-error", b"mg a q zz\r\nmg a v q\r\nmn\r\n", ()),
    ("mg-quiet-qx", b"mg a qx\r\nmn\r\n", ()),
    ("mg-quiet-many", b"".join(ms(b"k%d" % i, b"v%d" % i) for i in range(0, 60, 3))
     + b"".join(b"mg k%d v q k\r\n" % i for i in range(60)) + b"mn\r\n", ()),
    ("mn-alone", b"mn\r\nmn\r\n", ()),
    ("mn-args", b"mn x y\r\nmn q\r\n", ()),
    ("mn-lf", b"mn\n", ()),
    # errors memcached gives before looking at flags
    ("mg-no-key", b"mg\r\nmg \r\nmd\r\nma\r\nms\r\nme\r\n", ()),
    ("mg-key-250", b"mg " + b"k" * 250 + b" v\r\n", ()),
    ("mg-key-251", b"mg " + b"k" * 251 + b" v\r\n", ()),
    ("md-key-251", b"md " + b"k" * 251 + b" q\r\nmn\r\n", ()),
    ("ma-key-251", b"ma " + b"k" * 251 + b"\r\n", ()),
    ("me-key-251", b"me " + b"k" * 251 + b"\r\n", ()),
    ("mg-bad-flag", b"mg k zz\r\nmg k v v\r\nmg k Tx\r\nmg k O" + b"1" * 40 + b"\r\n", ()),
    ("mg-flags-too-long", b"mg k" + b" O1" * 17 + b"\r\nmg k" + b" O1" * 18 + b"\r\n", ()),
    ("md-flags-too-long", b"md k" + b" q" * 18 + b"\r\nmn\r\n", ()),
    # ms: data lengths, modes, flags; which failures leave no data block
    ("ms-basic", ms(b"k", b"hi") + b"mg k v\r\n", (SPLIT,)),
    ("ms-flags", ms(b"k", b"hi", b"T0 F5 k O7") + b"mg k v f\r\n", ()),
    ("ms-quiet", ms(b"k", b"hi", b"q") + ms(b"k", b"hi", b"q ME") + b"mn\r\n", (SPLIT,)),
    ("ms-empty", ms(b"k", b"") + b"mg k v\r\n", ()),
    ("ms-lengths", b"ms k +2\r\nhi\r\nms k 02\r\nhi\r\nms k -0\r\n\r\nms k 4294967298\r\nhi\r\n"
     b"ms k 2\thi\r\nhi\r\nmg k v\r\n", ()),
    ("ms-no-length", b"ms k\r\nhi\r\n", ()),
    ("ms-bad-length", b"ms k x\r\nhi\r\nms k 2x\r\nhi\r\nms k -1\r\nhi\r\n", ()),
    ("ms-huge-length", b"ms k 2147483647\r\nmg k\r\n", ()),
    ("ms-key-251", b"ms " + b"k" * 251 + b" 2\r\nhi\r\n", ()),
    ("ms-bad-flag-swallows", b"ms k 2 zz\r\nhi\r\nms k 2 T\r\nhi\r\nms k 2 MZ\r\nhi\r\nmg k\r\n", ()),
    ("ms-flags-too-long", b"ms k 2" + b" O1" * 16 + b"\r\nhi\r\nms k 2" + b" O1" * 17 + b"\r\nhi\r\n", ()),
    ("ms-bad-chunk", b"ms k 2\r\nhiX\r\nmg k\r\nms k 2\r\nhi\r\r\n", ()),
    ("ms-lf-chunk", b"ms k 2\nhi\r\nmg k v\r\n", ()),
    ("ms-modes", ms(b"k", b"a") + ms(b"k", b"b", b"MA") + ms(b"k", b"c", b"MP") + ms(b"k", b"d", b"ME")
     + ms(b"n", b"d", b"MR") + ms(b"n", b"e", b"ME") + ms(b"k", b"f", b"MS") + b"mg k v\r\nmg n v\r\n", ()),
    ("ms-cas", ms(b"k", b"a") + ms(b"k", b"b", b"C999") + b"mg k v\r\n", ()),
    ("ms-cas-value", ms(b"k", b"a", b"c") + ms(b"k", b"b", b"C1 c") + b"mg k v c\r\n", (SERVER_DEPENDENT,)),
    ("ms-too-large", b"set k 0 0 1\r\nx\r\nms k 2000000\r\n" + b"x" * 2000000 + b"\r\nmg k v\r\n", ()),
    ("ms-too-large-quiet", ms(b"k", b"x") + b"ms k 1048577 q MA\r\n" + b"y" * 1048577 + b"\r\nmg k v\r\nmn\r\n", ()),
    # md, ma, me
    ("md", ms(b"k", b"v") + b"md k\r\nmd k\r\nmd k q\r\nmg k\r\n", ()),
    ("md-quiet", ms(b"k", b"v") + b"md k q\r\nmd k q\r\nmn\r\n", (SPLIT,)),
    ("md-flags", ms(b"k", b"v") + b"md k k O5\r\nmd k k O6\r\n", ()),
    ("ma", b"ma n\r\nma n N0 J13 v\r\nma n v\r\nma n MD D5 v\r\nma n MI D100 v t\r\n", ()),
    ("ma-quiet", b"ma n N0 J1 q\r\nma n q v\r\nma m q\r\nmn\r\n", ()),
    ("ma-not-number", ms(b"n", b"x") + b"ma n\r\nma n MD v\r\n", ()),
    ("ma-wrap", ms(b"n", b"18446744073709551615") + b"ma n v\r\nma n MD D2 v\r\n", ()),
    ("me", ms(b"k", b"v") + b"me k\r\nme nokey\r\nme k q\r\n", (SERVER_DEPENDENT,)),
    ("me-miss", b"me nokey\r\nme nokey b\r\n", ()),
    ("me-b64", ms(b"foo", b"v") + b"me Zm9v b\r\nme Zm9v bx\r\nme Zm9 b\r\n", (SERVER_DEPENDENT,)),
    # base64 keys: the same item as the plain key, binary bytes, keys that do not decode
    ("b64-same-item", ms(b"foo", b"plain") + b"mg Zm9v b v k\r\n" + ms(b"Zm9v", b"b64", b"b")
     + b"mg foo v\r\nget foo\r\n", (SPLIT,)),
    ("b64-binary", ms(b64(b"\x00\x01 \r\n\xff"), b"bin", b"b") + b"mg " + b64(b"\x00\x01 \r\n\xff")
     + b" b v k\r\n", ()),
    ("b64-skip-and-pad", ms(b"foo", b"v") + ms(b"f", b"w") + b"mg Zm9v! b v\r\nmg Zg==Zg== b v k\r\n", ()),
    ("b64-bad", b"mg !!!! b v\r\nmg Zm9 b\r\nmg Zm9v==== b\r\nmg !!!! zz b\r\n", ()),
    ("b64-bad-ms", b"ms !!!! 2 b\r\nhi\r\nms !!!! 2 b zz\r\nhi\r\nmg k\r\n", ()),
    ("b64-bad-quiet", b"ms !!!! 2 b q\r\nhi\r\nmg Zm9 b q\r\nmn\r\n", ()),
    ("b64-key-252", b"mg " + b64(b"x" * 189) + b" b v\r\n", ()),
    # stale-while-revalidate: invalidation, win/stale/recache tokens, vivify on miss
    ("swr-vivify", b"mg k N30 v t c\r\nmg k N30 v\r\n" + ms(b"k", b"new") + b"mg k v\r\n", (SERVER_DEPENDENT,)),
    ("swr-vivify-flags", b"mg k N30 s v\r\nmg k N30 s v\r\nmg k s v\r\n", ()),
    ("swr-invalidate", ms(b"k", b"old", b"T100") + b"md k I T30\r\nmg k v\r\nmg k v\r\n"
     + ms(b"k", b"new", b"I") + b"mg k v\r\n" + ms(b"k", b"newer") + b"mg k v\r\n", ()),
    ("swr-recache", ms(b"k", b"v", b"T100") + b"mg k R200 v\r\nmg k R30 v\r\nmg k R30 v\r\n", ()),
    # meta and text on one connection, in order
    ("mixed", b"set a 0 0 1\r\n1\r\nmg a v\r\nget a\r\nms b 1\r\n2\r\ngets a\r\nmg b v q\r\n"
     b"delete a\r\nmd b q\r\nmg a v q\r\nincr c 1\r\nma c N0 J7 v\r\nincr c 1\r\nmn\r\n", (SPLIT,)),
    ("mixed-noreply", b"set a 0 0 1 noreply\r\n1\r\nmg a v q\r\nmn\r\ndelete a noreply\r\nmg a q\r\nmn\r\n", ()),
    ("mixed-get-many", b"".join(ms(b"k%d" % i, b"v%d" % i) for i in range(10))
     + b"get " + b" ".join(b"k%d" % i for i in range(12)) + b"\r\n"
     + b"".join(b"mg k%d v q\r\n" % i for i in range(12)) + b"mn\r\n", ()),
    ("meta-then-garbage", b"mg k v\r\nxyzzy\r\nmg k v\r\n", ()),
]


def _meta(b):
    for name, data, tags in META_CASES:
        b.add("meta/" + name, data, *tags)


# ---------------------------------------------------------------------------------------------
# HTTP and the binary protocol


def _http(b):
    lone = [
        ("get-1.0", b"GET / HTTP/1.0\r\n\r\n"),
        ("get-1.1-host", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        ("put", b"PUT /x HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"),
        ("post", b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
        ("head", b"HEAD / HTTP/1.0\r\n\r\n"),
        ("delete", b"DELETE /k HTTP/1.1\r\n\r\n"),
        ("options", b"OPTIONS * HTTP/1.1\r\n\r\n"),
        ("get-lf", b"GET / HTTP/1.0\n\n"),
        ("get-2.0", b"GET / HTTP/2.0\r\n\r\n"),
        ("lowercase-http", b"GET / http/1.0\r\nget k\r\n"),
        ("no-version", b"GET /\r\nget k\r\n"),
        ("version-not-last", b"GET / HTTP/1.0 x\r\nget k\r\n"),
        ("lowercase-get", b"get / HTTP/1.0\r\nget k\r\n"),
        ("then-commands", b"GET / HTTP/1.0\r\nget k\r\n"),
        ("one-word", b"HTTP/1.0\r\nget k\r\n"),
    ]
    for name, data in lone:
        b.add("http/" + name, data)
    pipelined = [
        ("after-get", b"get k\r\nGET / HTTP/1.0\r\n\r\n"),
        ("after-set", set_(b"k", b"v") + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("after-two-gets", set_(b"k", b"v") + b"get k\r\nget j\r\nPUT /x HTTP/1.1\r\n\r\n"),
        ("after-error", b"foo\r\nGET / HTTP/1.0\r\n\r\n"),
        ("after-noreply", set_(b"k", b"v", b"noreply") + b"GET / HTTP/1.0\r\n\r\n"),
        ("then-more-commands", b"get k\r\nGET / HTTP/1.0\r\nget k\r\n"),
        ("after-empty-line", b"\r\nPOST / HTTP/1.1\r\n\r\n"),
    ]
    for name, data in pipelined:
        b.add("http/" + name, data, HTTP_PIPELINED)


def binary_request(opcode, key=b"", extras=b"", value=b"", opaque=0):
    """A binary-protocol request packet."""
    body = extras + key + value
    return (bytes([0x80, opcode]) + len(key).to_bytes(2, "big") + bytes([len(extras), 0])
            + b"\x00\x00" + len(body).to_bytes(4, "big") + opaque.to_bytes(4, "big")
            + b"\x00" * 8 + body)


def _binary(b):
    cases = [
        ("magic-only", b"\x80"),
        ("get", binary_request(0x00, b"k", opaque=7)),
        ("getk", binary_request(0x0c, b"k")),
        ("version", binary_request(0x0b)),
        ("noop", binary_request(0x0a)),
        ("quit", binary_request(0x07)),
        ("set", binary_request(0x01, b"k", b"\x00\x00\x00\x00\x00\x00\x00\x00", b"v")),
        ("set-then-get", binary_request(0x01, b"k", b"\x00" * 8, b"v")
         + binary_request(0x00, b"k")),
        ("half-header", binary_request(0x00, b"k")[:12]),
        ("then-text", b"\x80get k\r\n"),
        ("text-line", b"\x80\r\nget k\r\n"),
    ]
    for name, data in cases:
        b.add("binary/" + name, data, BINARY)


# ---------------------------------------------------------------------------------------------
# random garbage (fixed seeds)

SPECIAL_WORDS = {b"mg", b"ms", b"md", b"mn", b"ma", b"me", b"stats", b"shutdown", b"slabs",
                 b"lru_crawler", b"lru", b"watch", b"cache_memlimit", b"extstore", b"quit"}


def _is_plain_garbage(data):
    """False when data would hit a known difference (binary first byte, a long line, an HTTP
    line, a stats/admin/meta word at the start of a line) or a command memcached would run."""
    if data[:1] == b"\x80":
        return False
    for line in data.split(b"\n"):
        if len(line) + 1 >= MAX_LINE:
            return False
        words = line.rstrip(b"\r").split(b" ")
        words = [w for w in words if w]
        if not words:
            continue
        if words[0] in SPECIAL_WORDS or words[-1].startswith(b"HTTP/"):
            return False
    return True


def _garbage(b):
    printable = bytes(range(0x20, 0x7f)) + b"\t\r\n"
    for i, size in enumerate((8, 40, 200, 500, 1000, 1500, 60, 300, 700, 1200)):
        rng = random.Random(1000 + i)
        while True:
            data = bytes(rng.choice(printable) for _ in range(size))
            if _is_plain_garbage(data):
                break
        b.add("garbage/printable-%d-seed%d" % (size, 1000 + i), data + b"\r\nget k\r\n")
    for i, size in enumerate((8, 40, 200, 500, 1000, 1500, 60, 300, 700, 1200)):
        rng = random.Random(2000 + i)
        while True:
            data = rng.randbytes(size)
            if _is_plain_garbage(data):
                break
        b.add("garbage/binary-%d-seed%d" % (size, 2000 + i), data + b"\r\nget k\r\n")
    for i, size in enumerate((24, 200, 1000)):
        rng = random.Random(3000 + i)
        b.add("garbage/binary-magic-%d-seed%d" % (size, 3000 + i),
              b"\x80" + rng.randbytes(size), BINARY)
    rng = random.Random(4000)
    words = [b"get", b"set", b"k", b"0", b"1", b"noreply", b"\r\n", b" ", b"-1", b"x", b"incr",
             b"delete", b"\n", b"gets", b"touch", b"99"]
    for i in range(8):
        while True:
            data = b"".join(rng.choice(words) + b" " for _ in range(30))
            if _is_plain_garbage(data):
                break
        b.add("garbage/words-seed4000-%d" % i, data + b"\r\nget k\r\n")


# ---------------------------------------------------------------------------------------------


def cases():
    """The corpus: a fresh, deterministic list of Case."""
    b = _Builder()
    for section in (_retrieval, _storage, _cas, _delete, _arith, _touch, _flush, _misc,
                    _noreply, _chunks, _line_endings, _numbers, _keys, _long_lines,
                    _pipelines, _stateful, _stats, _admin, _meta, _http, _binary, _garbage):
        section(b)
    return b.cases


def split_variants(corpus=None):
    """Every split point of every SPLIT case: `<name>@<offset>`, sent as two writes."""
    out = []
    for case in corpus if corpus is not None else cases():
        if SPLIT in case.tags:
            for offset in range(1, len(case.data)):
                out.append(replace(case, name="%s@%d" % (case.name, offset), split_at=offset))
    return out


if __name__ == "__main__":
    all_cases = cases()
    print("%d cases, %d split variants, %d not server-dependent" % (
        len(all_cases), len(split_variants(all_cases)),
        sum(SERVER_DEPENDENT not in c.tags for c in all_cases)))

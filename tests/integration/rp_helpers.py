"""Shared helpers for ringproxy's integration tests: real memcached and proxy processes on
loopback ports chosen at run time, a small memcached text-protocol client, the stats port
reader, and ProxyFleet (N memcached + one proxy with a pool over them); for redis pools,
real redis-server processes, a small RESP client (RespClient) and RedisFleet.

Everything started here is registered and killed (whole process group) at exit, and every
temporary directory is removed; every socket operation has a timeout. Standard library only.

Environment:
  RINGPROXY     path of the proxy binary (required by start_ringproxy). A binary whose name
                starts with "nutcracker" is run as twemproxy: ringproxy-only flags (--io,
                --workers) and ringproxy-only configuration keys are left out.
  RINGPROXY_IO  uring | epoll | auto: passed to the proxy as --io=VALUE when set.

Names here are used by other test files: keep them stable, add rather than rename.
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HOST = "127.0.0.1"
IO_TIMEOUT = 5.0          # default timeout of every socket operation, seconds
START_TIMEOUT = 15.0      # how long a process may take to accept connections (sanitizer builds)
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error")
# pool keys twemproxy does not know (it rejects unknown keys): left out under nutcracker
RINGPROXY_ONLY_POOL_KEYS = ("max_key_length", "max_value_size", "client_idle_timeout",
                            "client_reply_limit")


# ---------------------------------------------------------------------------------------------
# binary and environment


def proxy_binary():
    """Absolute path of the proxy under test ($RINGPROXY); raises RuntimeError if unusable."""
    path = os.environ.get("RINGPROXY", "")
    if not path:
        raise RuntimeError("RINGPROXY is not set: point it at the ringproxy binary "
                           "(e.g. RINGPROXY=build/ringproxy)")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError("RINGPROXY=%s is not an executable file" % path)
    return path


def is_nutcracker(binary=None):
    """True when the binary under test is twemproxy itself (harness smoke checks)."""
    if binary is None:
        binary = os.environ.get("RINGPROXY", "")
    return os.path.basename(binary).startswith("nutcracker")


def io_mode():
    """The --io value requested through RINGPROXY_IO, or None."""
    return os.environ.get("RINGPROXY_IO") or None


def ringproxy_only(reason="ringproxy-only feature"):
    """Decorator (test method or class): skip when the binary under test is nutcracker."""
    return unittest.skipIf(is_nutcracker(), "nutcracker: " + reason)


# ---------------------------------------------------------------------------------------------
# process and temp-dir registry: everything is cleaned up at exit, even after a failure

_lock = threading.Lock()
_procs = []      # ManagedProcess
_dirs = []       # temp dirs to remove
_ports_given = set()


def make_temp_dir(prefix="rp-it-"):
    """A new temporary directory, removed at exit."""
    d = tempfile.mkdtemp(prefix=prefix)
    with _lock:
        _dirs.append(d)
    return d


def cleanup_all():
    """Kills every process group started here and removes every temp dir. Idempotent."""
    with _lock:
        procs = list(_procs)
        dirs = list(_dirs)
        _procs.clear()
        _dirs.clear()
    for p in procs:
        p.kill()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(cleanup_all)


def register_process(proc):
    """Registers a process object (with kill()) started outside ManagedProcess's constructor,
    so that cleanup_all kills it at exit even if a test's own cleanup is skipped."""
    with _lock:
        if proc not in _procs:
            _procs.append(proc)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago and not handed out before."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        with _lock:
            if port not in _ports_given:
                _ports_given.add(port)
                return port
    raise RuntimeError("no free port found")


def port_accepts(port, host=HOST, timeout=0.5):
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(port, proc=None, timeout=START_TIMEOUT, host=HOST):
    """Waits until host:port accepts; returns False on timeout or if proc exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            return False
        if port_accepts(port, host):
            return True
        time.sleep(0.02)
    return False


def _tail(path, limit=6000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


class ManagedProcess:
    """A child process in its own process group, registered for cleanup."""

    def __init__(self, name, cmd, workdir, stdin=subprocess.DEVNULL):
        self.name = name
        self.cmd = list(cmd)
        self.workdir = workdir
        self.stdout_path = os.path.join(workdir, name + ".stdout")
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=stdin, stdout=out, stderr=err,
                                         cwd=workdir, start_new_session=True)
        self.pid = self.proc.pid
        with _lock:
            _procs.append(self)

    def alive(self):
        return self.proc.poll() is None

    def returncode(self):
        return self.proc.poll()

    def signal(self, sig):
        """Sends sig to the whole process group (no-op once it has been reaped)."""
        if self.proc.returncode is not None:
            return
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        """SIGSTOP: the process freezes but its sockets stay open. Returns once every thread is
        stopped (a signal is delivered asynchronously: a thread on another CPU may otherwise
        still answer a request sent right after this returns)."""
        self.signal(signal.SIGSTOP)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and self.proc.returncode is None:
            try:
                tasks = os.listdir("/proc/%d/task" % self.pid)
                states = []
                for t in tasks:
                    with open("/proc/%d/task/%s/stat" % (self.pid, t)) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                return
            if all(st in ("T", "t") for st in states):
                return
            time.sleep(0.001)

    def cont(self):
        self.signal(signal.SIGCONT)

    def kill(self):
        """SIGKILL to the group, then reap. Safe to call repeatedly."""
        self.signal(signal.SIGKILL)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with _lock:
            if self in _procs:
                _procs.remove(self)

    def terminate(self, timeout=5.0):
        """SIGTERM (after SIGCONT), wait up to timeout, then SIGKILL. Returns the exit code."""
        if self.alive():
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return self.proc.returncode

    def stderr_text(self):
        return _tail(self.stderr_path, 1 << 20)


# ---------------------------------------------------------------------------------------------
# memcached


class Memcached(ManagedProcess):
    def __init__(self, port, cmd, workdir):
        self.port = port
        self.address = "%s:%d" % (HOST, port)
        ManagedProcess.__init__(self, "memcached-%d" % port, cmd, workdir)

    def client(self, timeout=IO_TIMEOUT):
        """A client connected straight to this memcached (bypassing the proxy)."""
        return MemcacheClient(self.port, timeout=timeout)


def start_memcached(port=None, extra_args=(), timeout=START_TIMEOUT):
    """Starts `memcached -l 127.0.0.1 -p PORT -U 0 -m 64 -t 1 EXTRA` and waits until it accepts.
    Returns a Memcached; raises RuntimeError (with its stderr) if it does not come up."""
    if port is None:
        port = free_port()
    cmd = ["memcached", "-l", HOST, "-p", str(port), "-U", "0", "-m", "64", "-t", "1"]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]  # memcached refuses to run as root without -u
    cmd += list(extra_args)
    mc = Memcached(port, cmd, make_temp_dir("rp-mc-"))
    if not wait_port(port, mc, timeout):
        mc.kill()
        raise RuntimeError("memcached on port %d did not start: %s\n%s"
                           % (port, " ".join(cmd), mc.stderr_text()))
    return mc


# ---------------------------------------------------------------------------------------------
# proxy configuration and process


def _yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    s = str(value)
    if s == "" or s != s.strip() or any(c in s for c in "{}[]#,&*!|>'\"%@`") or \
            s[0] in "-?:":
        return json.dumps(s)  # a JSON string is a valid double-quoted YAML scalar
    return s


def yaml_conf(pools, nutcracker=False):
    """nutcracker.yml text from {pool_name: {key: value}}; lists (servers) become sequences.
    A top-level "ringproxy" entry holds ringproxy's global section. With nutcracker=True,
    ringproxy-only keys and the global section are left out."""
    lines = []
    for name, opts in pools.items():
        if nutcracker and name == "ringproxy":
            continue
        lines.append("%s:" % name)
        for key, value in opts.items():
            if nutcracker and key in RINGPROXY_ONLY_POOL_KEYS:
                continue
            if isinstance(value, (list, tuple)):
                lines.append("  %s:" % key)
                for item in value:
                    lines.append("   - %s" % _yaml_scalar(item))
            else:
                lines.append("  %s: %s" % (key, _yaml_scalar(value)))
    return "\n".join(lines) + "\n"


_LISTEN_RE = re.compile(r"^\s*listen:\s*[\"']?([0-9.]+|localhost):(\d+)", re.M)


class RingProxy(ManagedProcess):
    """The proxy under test. pools: {pool name: listen port}; port: the first pool's port."""

    def __init__(self, binary, cmd, workdir, conf_path, log_path, pools, stats_port, workers,
                 io):
        self.binary = binary
        self.conf_path = conf_path
        self.log_path = log_path
        self.pools = pools
        self.port = next(iter(pools.values())) if pools else None
        self.stats_port = stats_port
        self.workers = workers
        self.io = io
        self.nutcracker = is_nutcracker(binary)
        ManagedProcess.__init__(self, "proxy", cmd, workdir)

    def client(self, pool=None, timeout=IO_TIMEOUT):
        port = self.port if pool is None else self.pools[pool]
        return MemcacheClient(port, timeout=timeout)

    def stats(self, timeout=IO_TIMEOUT):
        """The stats JSON from the stats port, as a dict."""
        return stats_json(self.stats_port, timeout=timeout)

    def log_text(self):
        """The proxy's log file followed by its stderr (sanitizers write there)."""
        return _tail(self.log_path, 4 << 20) + "\n" + self.stderr_text()

    def log_tail(self, limit=6000):
        return ("--- log tail (%s):\n%s\n--- stderr tail:\n%s\n--- stdout tail:\n%s"
                % (self.log_path, _tail(self.log_path, limit), _tail(self.stderr_path, limit),
                   _tail(self.stdout_path, limit)))

    def sanitizer_errors(self):
        """Lines of the log and stderr that report a sanitizer error (all of them so far: each
        call reads only what was written since the last one)."""
        if not hasattr(self, "_scan"):
            self._scan = {}      # path -> (offset, unfinished last line)
            self._san_errors = []
        for path in (self.log_path, self.stderr_path):
            offset, rest = self._scan.get(path, (0, b""))
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
            except OSError:
                continue
            lines = (rest + data).split(b"\n")
            self._scan[path] = (offset + len(data), lines.pop())
            for line in lines:
                text = line.decode("utf-8", "replace")
                if any(p in text for p in SANITIZER_PATTERNS):
                    self._san_errors.append(text)
        pending = [rest.decode("utf-8", "replace") for _, rest in self._scan.values()]
        return self._san_errors + [t for t in pending
                                   if any(p in t for p in SANITIZER_PATTERNS)]

    def health_problems(self):
        """[] when the proxy is alive and its log is clean, else descriptions."""
        problems = []
        if not self.alive():
            problems.append("proxy exited with status %s" % self.returncode())
        errs = self.sanitizer_errors()
        if errs:
            problems.append("sanitizer reports: %s" % "; ".join(errs[:5]))
        return problems

    def route(self, keys, pool=None, timeout=30):
        """Runs `$RINGPROXY -c CONF --route -` with keys on stdin. Returns
        {key: {pool: (host, port, name or None)}} (only `pool` when given)."""
        data = "".join(k + "\n" for k in keys).encode()
        res = subprocess.run([self.binary, "-c", self.conf_path, "--route", "-"], input=data,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if res.returncode != 0:
            raise AssertionError("--route exited %d: %s" % (res.returncode,
                                                             res.stderr.decode(errors="replace")))
        out = {}
        for line in res.stdout.decode().splitlines():
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 3:
                raise AssertionError("bad --route line: %r" % line)
            key, pname, addr = fields[0], fields[1], fields[2]
            name = fields[3] if len(fields) > 3 else None
            if pool is not None and pname != pool:
                continue
            host, port = addr.split(":")[:2]
            out.setdefault(key, {})[pname] = (host, int(port), name)
        return out


def start_ringproxy(conf, extra_args=(), workers=None, io=None, stats_port=None,
                    binary=None, timeout=START_TIMEOUT):
    """Starts the proxy and waits until every pool's listen port (and the stats port) accepts.

    conf: nutcracker.yml text, or {pool: {key: value}} (a pool without "listen" gets a free
    port; see yaml_conf). Runs `$RINGPROXY -c FILE -s STATSPORT -a 127.0.0.1 -v 6 -o LOGFILE
    [--io=IO] [--workers=N] EXTRA`; io defaults to $RINGPROXY_IO. Under nutcracker --io and
    --workers are left out. Raises RuntimeError showing the log if it does not come up."""
    binary = binary or proxy_binary()
    nutcracker = is_nutcracker(binary)
    workdir = make_temp_dir("rp-proxy-")
    if isinstance(conf, dict):
        conf = {name: (dict(opts) if name == "ringproxy" or "listen" in opts else
                       dict({"listen": "%s:%d" % (HOST, free_port())}, **opts))
                for name, opts in conf.items()}
        text = yaml_conf(conf, nutcracker=nutcracker)
    else:
        text = conf
    pools = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+):\s*$", line)
        if m:
            current = m.group(1)
        m = _LISTEN_RE.match(line)
        if m and current:
            pools[current] = int(m.group(2))
    conf_path = os.path.join(workdir, "nutcracker.yml")
    with open(conf_path, "w") as f:
        f.write(text)
    log_path = os.path.join(workdir, "proxy.log")
    if stats_port is None:
        stats_port = free_port()
    io = io if io is not None else io_mode()
    cmd = [binary, "-c", conf_path, "-s", str(stats_port), "-a", HOST, "-v", "6", "-o", log_path]
    if not nutcracker:
        if io:
            cmd.append("--io=%s" % io)
        if workers:
            cmd.append("--workers=%d" % workers)
    cmd += list(extra_args)
    proxy = RingProxy(binary, cmd, workdir, conf_path, log_path, pools, stats_port,
                      workers if not nutcracker else None, io if not nutcracker else None)
    for port in list(pools.values()) + [stats_port]:
        if not wait_port(port, proxy, timeout):
            status = proxy.returncode()
            proxy.kill()
            raise RuntimeError("proxy did not start (exit status %s, waiting for port %d)\n"
                               "command: %s\n--- conf:\n%s%s"
                               % (status, port, " ".join(cmd), text, proxy.log_tail()))
    return proxy


# ---------------------------------------------------------------------------------------------
# stats port


def stats_json(port, host=HOST, timeout=IO_TIMEOUT):
    """twemproxy style: connect, read until the server closes, parse JSON."""
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        chunks = []
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("stats port %d did not close within %.1fs" % (port, timeout))
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return json.loads(b"".join(chunks).decode())


# ---------------------------------------------------------------------------------------------
# memcached text-protocol client


class ConnectionClosed(Exception):
    """The peer closed the connection (EOF or reset) while a reply was expected."""


class MemcacheClient:
    """A blocking memcached text-protocol client with raw helpers. Every operation is bounded
    by `timeout` seconds (socket.timeout / TimeoutError on expiry): nothing can hang."""

    def __init__(self, port, host=HOST, timeout=IO_TIMEOUT, rcvbuf=None):
        self.port = port
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    # -- raw -------------------------------------------------------------------------------

    def close(self, reset=False):
        """Closes; reset=True sends RST (SO_LINGER 0) instead of FIN."""
        if self.sock is None:
            return
        if reset:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
        self.sock.close()
        self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Reads more into buf; raises ConnectionClosed on EOF/reset, timeout past deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no reply within %.1fs (have %d bytes: %r)"
                               % (self.timeout, len(self.buf), bytes(self.buf[:200])))
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            raise TimeoutError("no reply within %.1fs (have %d bytes: %r)"
                               % (self.timeout, len(self.buf), bytes(self.buf[:200]))) from None
        except ConnectionResetError:
            raise ConnectionClosed("connection reset (have %d bytes: %r)"
                                   % (len(self.buf), bytes(self.buf[:200]))) from None
        finally:
            if self.sock is not None:
                self.sock.settimeout(self.timeout)
        if not data:
            raise ConnectionClosed("connection closed (have %d bytes: %r)"
                                   % (len(self.buf), bytes(self.buf[:200])))
        self.buf += data

    def _deadline(self, timeout):
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def recv_some(self, n=65536, timeout=None):
        """Whatever is buffered, else one recv of up to n bytes (b"" on EOF)."""
        if self.buf:
            data = bytes(self.buf[:n])
            del self.buf[:n]
            return data
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            return self.sock.recv(n)
        finally:
            self.sock.settimeout(self.timeout)

    def recv_until(self, marker, timeout=None):
        """Bytes up to and including the first occurrence of marker (e.g. b"END\\r\\n")."""
        deadline = self._deadline(timeout)
        start = 0
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                end = i + len(marker)
                data = bytes(self.buf[:end])
                del self.buf[:end]
                return data
            start = max(0, len(self.buf) - len(marker) + 1)
            self._fill(deadline)

    def read_line(self, timeout=None):
        """One line without its \\r\\n."""
        return self.recv_until(b"\r\n", timeout)[:-2]

    def read_exact(self, n, timeout=None):
        deadline = self._deadline(timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_until_close(self, timeout=None):
        """Everything until EOF or reset; TimeoutError if the peer keeps it open."""
        deadline = self._deadline(timeout)
        while True:
            try:
                self._fill(deadline)
            except ConnectionClosed:
                data = bytes(self.buf)
                self.buf.clear()
                return data

    def is_closed(self, timeout=None):
        """True if the peer closes (EOF/reset) within timeout, with no more bytes arriving
        first; False if bytes arrive; TimeoutError if it stays open and silent."""
        if self.buf:
            return False
        deadline = self._deadline(timeout)
        try:
            self._fill(deadline)
        except ConnectionClosed:
            return True
        return False

    # -- replies ---------------------------------------------------------------------------

    def read_values(self, timeout=None):
        """Reads a retrieval reply. Returns (raw bytes, [(key, flags, data, cas or None)]).
        If the first line is not VALUE/END (e.g. SERVER_ERROR), returns (line, None)."""
        deadline = self._deadline(timeout)
        raw = bytearray()
        items = []
        while True:
            line = self.read_line(max(0.001, deadline - time.monotonic()))
            raw += line + b"\r\n"
            if line == b"END":
                return bytes(raw), items
            if not line.startswith(b"VALUE "):
                if items:
                    raise AssertionError("unexpected line inside a retrieval reply: %r" % line)
                return bytes(raw), None
            parts = line.split(b" ")
            if len(parts) not in (4, 5):
                raise AssertionError("bad VALUE line %r" % line)
            nbytes = int(parts[3])
            block = self.read_exact(nbytes + 2, max(0.001, deadline - time.monotonic()))
            if block[-2:] != b"\r\n":
                raise AssertionError("data block of %r not followed by CRLF" % line)
            raw += block
            cas = int(parts[4]) if len(parts) == 5 else None
            items.append((parts[1].decode(), int(parts[2]), block[:-2], cas))

    # -- commands --------------------------------------------------------------------------

    def cmd(self, line, timeout=None):
        """Sends one command line (CRLF added) and returns the first reply line."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.read_line(timeout)

    @staticmethod
    def storage_request(verb, key, value, flags=0, exptime=0, cas=None, noreply=False):
        if isinstance(value, str):
            value = value.encode()
        if isinstance(key, str):
            key = key.encode()
        head = b"%s %s %d %d %d" % (verb.encode(), key, flags, exptime, len(value))
        if cas is not None:
            head += b" %d" % cas
        if noreply:
            head += b" noreply"
        return head + b"\r\n" + value + b"\r\n"

    def store(self, verb, key, value, flags=0, exptime=0, cas=None, noreply=False):
        """set/add/replace/append/prepend/cas. Returns the reply line (None with noreply)."""
        self.send(self.storage_request(verb, key, value, flags, exptime, cas, noreply))
        return None if noreply else self.read_line()

    def set(self, key, value, flags=0, exptime=0, noreply=False):
        return self.store("set", key, value, flags, exptime, None, noreply)

    def get_multi(self, keys, verb="get", exptime=None):
        """get/gets/gat/gats over keys. Returns (raw reply, [(key, flags, data, cas)])."""
        head = verb if exptime is None else "%s %d" % (verb, exptime)
        self.send("%s %s\r\n" % (head, " ".join(keys)))
        return self.read_values()

    def get(self, key):
        """The value of key (bytes) or None; AssertionError on an error reply."""
        raw, items = self.get_multi([key])
        if items is None:
            raise AssertionError("get %s: %r" % (key, raw))
        return items[0][2] if items else None

    def get_item(self, key, verb="get"):
        """(flags, data, cas) for key, or None."""
        raw, items = self.get_multi([key], verb)
        if items is None:
            raise AssertionError("%s %s: %r" % (verb, key, raw))
        return items[0][1:] if items else None

    def gets(self, key):
        """(data, cas) or None."""
        item = self.get_item(key, "gets")
        return None if item is None else (item[1], item[2])

    def delete(self, key, noreply=False):
        self.send("delete %s%s\r\n" % (key, " noreply" if noreply else ""))
        return None if noreply else self.read_line()

    def incr(self, key, delta, noreply=False, verb="incr"):
        self.send("%s %s %d%s\r\n" % (verb, key, delta, " noreply" if noreply else ""))
        return None if noreply else self.read_line()

    def decr(self, key, delta, noreply=False):
        return self.incr(key, delta, noreply, "decr")

    def touch(self, key, exptime, noreply=False):
        self.send("touch %s %d%s\r\n" % (key, exptime, " noreply" if noreply else ""))
        return None if noreply else self.read_line()

    def version(self):
        return self.cmd("version")

    def flush_all(self, delay=None, noreply=False):
        line = "flush_all" + ("" if delay is None else " %d" % delay)
        if noreply:
            self.send(line + " noreply\r\n")
            return None
        return self.cmd(line)

    def stats(self, args=""):
        """`stats [args]` as {name: value}; raises AssertionError on a malformed reply."""
        self.send(("stats %s" % args).strip() + "\r\n")
        out = {}
        while True:
            line = self.read_line()
            if line == b"END":
                return out
            parts = line.decode().split(" ", 2)
            if len(parts) != 3 or parts[0] != "STAT":
                raise AssertionError("bad stats line %r" % line)
            out[parts[1]] = parts[2]


# ---------------------------------------------------------------------------------------------
# fleet: N memcached + one proxy


def default_pool(servers, **overrides):
    """The test pool: ketama, fnv1a_64, timeout 1000, server_connections 1, no auto eject."""
    pool = {
        "hash": "fnv1a_64",
        "distribution": "ketama",
        "timeout": 1000,
        "server_connections": 1,
        "auto_eject_hosts": False,
        "max_value_size": 1048576,
        "servers": ["%s:%d:1" % (HOST, port) for port in servers],
    }
    pool.update(overrides)
    return pool


class ProxyFleet:
    """N memcached + one proxy with pool `alpha` over them (and optional extra pools over the
    same servers). Use as a context manager or start()/stop().

    down: indices of servers whose port is reserved but that are not started (start_server(i)
    brings one up later). memcached_args: extra memcached arguments (default allows 1 MiB
    values: memcached's own item limit includes the item header)."""

    def __init__(self, nservers=3, pool_options=None, extra_pools=None, workers=None, io=None,
                 extra_args=(), memcached_args=("-I", "2m"), down=(), pool_name="alpha"):
        self.nservers = nservers
        self.pool_options = dict(pool_options or {})
        self.extra_pools = dict(extra_pools or {})
        self.workers = workers
        self.io = io
        self.extra_args = tuple(extra_args)
        self.memcached_args = tuple(memcached_args)
        self.down = set(down)
        self.pool_name = pool_name
        self.ports = []
        self.memcached = []   # Memcached or None (down), index = server index
        self.proxy = None

    def start(self):
        try:
            self.ports = [free_port() for _ in range(self.nservers)]
            self.memcached = [None] * self.nservers
            for i in range(self.nservers):
                if i not in self.down:
                    self.start_server(i)
            pools = {self.pool_name: default_pool(self.ports, **self.pool_options)}
            for name, opts in self.extra_pools.items():
                pools[name] = default_pool(self.ports, **opts)
            self.proxy = start_ringproxy(pools, self.extra_args, workers=self.workers,
                                         io=self.io)
        except BaseException:
            self.stop()
            raise
        return self

    def start_server(self, i):
        """Starts (or restarts) memcached i on its port; retries if the port was taken."""
        for attempt in range(3):
            try:
                self.memcached[i] = start_memcached(self.ports[i], self.memcached_args)
                return self.memcached[i]
            except RuntimeError:
                if attempt == 2 or self.proxy is not None:
                    raise
                self.ports[i] = free_port()
        return None

    def stop(self):
        if self.proxy is not None:
            self.proxy.terminate()
        for mc in self.memcached:
            if mc is not None:
                mc.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self.proxy.pools[self.pool_name]

    def client(self, pool=None, timeout=IO_TIMEOUT, rcvbuf=None):
        port = self.port if pool is None else self.proxy.pools[pool]
        return MemcacheClient(port, timeout=timeout, rcvbuf=rcvbuf)

    def direct(self, i, timeout=IO_TIMEOUT):
        """A client straight to memcached i."""
        return MemcacheClient(self.ports[i], timeout=timeout)

    def server_index(self, port):
        return self.ports.index(port)

    def lookup_direct(self, keys, verb="gets"):
        """Looks every key up on every live backend directly. Returns
        {key: [(server index, flags, data, cas), ...]} for keys found somewhere."""
        found = {}
        uniq = list(dict.fromkeys(keys))
        for i, mc in enumerate(self.memcached):
            if mc is None or not mc.alive():
                continue
            with self.direct(i) as c:
                for start in range(0, len(uniq), 100):
                    raw, items = c.get_multi(uniq[start:start + 100], verb)
                    if items is None:
                        raise AssertionError("direct %s on server %d: %r" % (verb, i, raw))
                    for key, flags, data, cas in items:
                        found.setdefault(key, []).append((i, flags, data, cas))
        return found

    def owners(self, keys):
        """{key: server index} for keys present on exactly one backend; AssertionError if a key
        is on several."""
        out = {}
        for key, hits in self.lookup_direct(keys).items():
            if len(hits) != 1:
                raise AssertionError("key %r on several servers: %r"
                                     % (key, [h[0] for h in hits]))
            out[key] = hits[0][0]
        return out


# ---------------------------------------------------------------------------------------------
# raw-byte keys (placement tests): keys are bytes and may hold 0x80..0xff, which are not UTF-8,
# so these helpers never decode a key


def check_text_key(key):
    """Raises ValueError unless key (bytes) is a valid memcached text-protocol key: 1..250 bytes,
    no control characters, space or DEL."""
    if not 0 < len(key) <= 250 or any(b <= 0x20 or b == 0x7f for b in key):
        raise ValueError("not a memcached text key: %r" % key)


def mc_set_many_bytes(port, items, batch=500, timeout=IO_TIMEOUT):
    """Stores [(key bytes, value bytes)] through the memcached text protocol on port, pipelined
    `batch` sets at a time (then their replies are read). Raises AssertionError on any reply
    other than STORED."""
    with MemcacheClient(port, timeout=timeout) as c:
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            c.send(b"".join(b"set %s 0 0 %d\r\n%s\r\n" % (k, len(v), v) for k, v in chunk))
            for k, _ in chunk:
                line = c.read_line()
                if line != b"STORED":
                    raise AssertionError("set %r via port %d: %r" % (k, port, line))


def mc_get_many_bytes(port, keys, per_get=100, window=16, timeout=IO_TIMEOUT):
    """Looks keys (bytes) up on port with multi-key gets of `per_get` keys, `window` gets in
    flight at a time. Returns {key: value} for the keys found."""
    found = {}
    cmds = [b"get " + b" ".join(keys[i:i + per_get]) + b"\r\n"
            for i in range(0, len(keys), per_get)]
    with MemcacheClient(port, timeout=timeout) as c:
        for start in range(0, len(cmds), window):
            chunk = cmds[start:start + window]
            c.send(b"".join(chunk))
            for _ in chunk:
                while True:
                    line = c.read_line()
                    if line == b"END":
                        break
                    parts = line.split(b" ")
                    if parts[0] != b"VALUE" or len(parts) not in (4, 5):
                        raise AssertionError("get via port %d: unexpected line %r" % (port, line))
                    data = c.read_exact(int(parts[3]) + 2)
                    found[parts[1]] = data[:-2]
    return found


def route_bytes(binary, conf_path, keys, timeout=120):
    """Runs `BINARY -c CONF --route -` with keys (bytes, one per line) on stdin and parses its
    `KEY\\tPOOL\\tADDR[\\tNAME]` lines. Returns {pool name: {key: (addr, name or None)}}.
    Raises AssertionError if it fails or prints a malformed line."""
    data = b"".join(k + b"\n" for k in keys)
    res = subprocess.run([binary, "-c", conf_path, "--route", "-"], input=data,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if res.returncode != 0:
        raise AssertionError("%s --route exited %d: %s"
                             % (binary, res.returncode, res.stderr.decode(errors="replace")))
    out = {}
    for line in res.stdout.split(b"\n"):
        if not line:
            continue
        fields = line.split(b"\t")
        if len(fields) not in (3, 4):
            raise AssertionError("bad --route line: %r" % line)
        name = fields[3].decode(errors="replace") if len(fields) == 4 else None
        out.setdefault(fields[1].decode(errors="replace"), {})[fields[0]] = (
            fields[2].decode(errors="replace"), name)
    return out


# ---------------------------------------------------------------------------------------------
# operations (test_ops.py): unix sockets, fake backends, the command line, waiting

import sys  # noqa: E402  (only this section uses it)


def wait_until(predicate, timeout, interval=0.05):
    """Calls predicate() until it returns a true value or timeout seconds pass. Returns the last
    value (false on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def unix_accepts(path, timeout=0.5):
    """True if something accepts stream connections on the unix socket path."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_unix(path, proc=None, timeout=START_TIMEOUT):
    """Waits until the unix socket path accepts; False on timeout or if proc exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            return False
        if unix_accepts(path):
            return True
        time.sleep(0.02)
    return False


class UnixMemcacheClient(MemcacheClient):
    """MemcacheClient over a unix stream socket (self.port holds the path)."""

    def __init__(self, path, timeout=IO_TIMEOUT):  # noqa: super().__init__ is TCP only
        self.port = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buf = bytearray()


class UnixMemcached(ManagedProcess):
    """memcached listening on a unix socket only (-s PATH)."""

    def __init__(self, path, cmd, workdir):
        self.path = path
        ManagedProcess.__init__(self, "memcached-unix", cmd, workdir)

    def client(self, timeout=IO_TIMEOUT):
        return UnixMemcacheClient(self.path, timeout=timeout)


def start_memcached_unix(path, extra_args=(), timeout=START_TIMEOUT):
    """Starts `memcached -s PATH -m 64 -t 1 EXTRA` (no TCP) and waits until PATH accepts.
    Returns a UnixMemcached; raises RuntimeError (with its stderr) if it does not come up."""
    cmd = ["memcached", "-s", path, "-m", "64", "-t", "1"]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    cmd += list(extra_args)
    mc = UnixMemcached(path, cmd, make_temp_dir("rp-mcu-"))
    if not wait_unix(path, mc, timeout):
        mc.kill()
        raise RuntimeError("memcached on %s did not start: %s\n%s"
                           % (path, " ".join(cmd), mc.stderr_text()))
    return mc


# A misbehaving backend, run as its own process (so the registry kills it): listens on
# 127.0.0.1:PORT and, per connection, for every chunk it receives:
#   garbage  answers "HELLO GARBAGE\r\n"
#   random   answers 512 pseudo-random bytes (the same sequence on every connection)
#   partial  answers "HELLO GARB" once (a reply line that never ends), then nothing
#   silent   answers nothing (reads and ignores, keeps the connection open)
#   respbad  answers "$5\r\nabcdefgh\r\n": a RESP bulk reply whose payload is not followed by
#            CRLF (a well-formed head, then garbage)
# It prints "ready" once listening and counts connections in PORT.conns (one line each).
FAKE_BACKEND_SCRIPT = r"""
import os, random, socket, sys, threading
port, mode, workdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
def serve(c):
    rng = random.Random(20240501)
    sent_partial = False
    c.settimeout(600)
    try:
        while True:
            data = c.recv(65536)
            if not data:
                break
            if mode == "garbage":
                c.sendall(b"HELLO GARBAGE\r\n")
            elif mode == "random":
                c.sendall(bytes(rng.getrandbits(8) for _ in range(512)))
            elif mode == "respbad":
                c.sendall(b"$5\r\nabcdefgh\r\n")
            elif mode == "partial" and not sent_partial:
                c.sendall(b"HELLO GARB")
                sent_partial = True
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(128)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    with lock:
        with open(os.path.join(workdir, "%d.conns" % port), "a") as f:
            f.write("conn\n")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


class FakeBackend(ManagedProcess):
    """A FAKE_BACKEND_SCRIPT process. address: "127.0.0.1:PORT"."""

    def __init__(self, port, mode, workdir):
        self.port = port
        self.mode = mode
        self.address = "%s:%d" % (HOST, port)
        ManagedProcess.__init__(self, "fake-%s-%d" % (mode, port),
                                [sys.executable, "-c", FAKE_BACKEND_SCRIPT, str(port), mode,
                                 workdir], workdir)

    def connections(self):
        """How many connections it has accepted so far (port probes included)."""
        try:
            with open(os.path.join(self.workdir, "%d.conns" % self.port)) as f:
                return sum(1 for _ in f)
        except OSError:
            return 0


def start_fake_backend(mode, port=None, timeout=START_TIMEOUT):
    """Starts a misbehaving backend (mode: garbage | random | partial | silent | respbad, see
    FAKE_BACKEND_SCRIPT)
    on a free loopback port and waits until it accepts. Returns a FakeBackend."""
    if mode not in ("garbage", "random", "partial", "silent", "respbad"):
        raise ValueError("unknown fake backend mode %r" % mode)
    if port is None:
        port = free_port()
    fb = FakeBackend(port, mode, make_temp_dir("rp-fake-"))
    if not wait_port(port, fb, timeout):
        fb.kill()
        raise RuntimeError("fake %s backend on port %d did not start:\n%s"
                           % (mode, port, fb.stderr_text()))
    return fb


def run_cli(args, binary=None, input=None, timeout=30):
    """Runs `BINARY ARGS` to completion (stdin: input bytes or /dev/null) and returns the
    subprocess.CompletedProcess with stdout and stderr as text. Raises subprocess.TimeoutExpired
    if it runs longer than timeout."""
    binary = binary or proxy_binary()
    res = subprocess.run([binary] + list(args), input=input,
                         stdin=None if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    res.stdout = res.stdout.decode("utf-8", "replace")
    res.stderr = res.stderr.decode("utf-8", "replace")
    return res


def route_pool(binary, conf_path, pool, keys, timeout=30):
    """`BINARY -c CONF --route --pool=POOL -` with keys (str, one per line) on stdin. Returns
    {key: (addr, name or None)}; AssertionError if it fails, prints a malformed line, names
    another pool or leaves a key out."""
    res = run_cli(["-c", conf_path, "--route", "--pool=%s" % pool, "-"], binary=binary,
                  input="".join(k + "\n" for k in keys).encode(), timeout=timeout)
    if res.returncode != 0:
        raise AssertionError("--route --pool=%s exited %d: %s"
                             % (pool, res.returncode, res.stderr))
    out = {}
    for line in res.stdout.split("\n"):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) not in (3, 4) or fields[1] != pool:
            raise AssertionError("bad --route --pool=%s line: %r" % (pool, line))
        out[fields[0]] = (fields[2], fields[3] if len(fields) == 4 else None)
    missing = [k for k in keys if k not in out]
    if missing:
        raise AssertionError("--route --pool=%s left out %d keys, e.g. %r"
                             % (pool, len(missing), missing[:3]))
    return out


def pid_alive(pid):
    """True if a process with this pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_pid_if(pid, marker):
    """SIGKILLs pid if it is alive and its command line contains marker (so a recycled pid is
    left alone). For processes that left our process groups (daemons)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().decode("utf-8", "replace")
    except OSError:
        return
    if marker in cmdline and pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def established_to(port, host=HOST):
    """How many ESTABLISHED IPv4 TCP connections (from any process) have host:port as their
    remote end, from /proc/net/tcp: e.g. the proxy's connections to one memcached."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(host), "little"), port)
    n = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f, None)
            for line in f:
                fields = line.split()
                if len(fields) > 3 and fields[2] == want and fields[3] == "01":
                    n += 1
    except OSError:
        return -1
    return n


SANITIZER_ANY = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error",
                 "ERROR: ThreadSanitizer", "ERROR: MemorySanitizer")


def sanitizer_lines(text):
    """The lines of text that report a sanitizer error (leaks included)."""
    return [line for line in text.splitlines() if any(p in line for p in SANITIZER_ANY)]


def run_pipeline(client, request, expected_len, timeout=30.0):
    """Writes request in one sendall (from a helper thread, so a proxy that applies
    back-pressure cannot deadlock us) while reading expected_len reply bytes."""
    send_error = []

    def sender():
        try:
            client.sock.sendall(request)
        except OSError as e:
            send_error.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    try:
        got = client.read_exact(expected_len, timeout=timeout)
    finally:
        t.join(timeout)
    if send_error:
        raise AssertionError("send failed: %r" % send_error[0])
    return got


# ---------------------------------------------------------------------------------------------
# threads


def paced_read_all(sock, pace, timeout):
    """Everything sock receives until the peer's FIN or reset, 64 KiB at a time with `pace`
    seconds between reads (a client slower than the proxy). Returns (bytes, how it ended)."""
    got = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return bytes(got), "reset"
        except socket.timeout:
            return bytes(got), "timeout"
        if not data:
            return bytes(got), "eof"
        got += data
        time.sleep(pace)
    return bytes(got), "timeout"


def expect(cond, message):
    """assert for helper threads (unittest's asserts need the TestCase)."""
    if not cond:
        raise AssertionError(message)


def run_threads(target, n, timeout):
    """Runs target(i) for i in range(n) on n threads; returns the exceptions they raised (as
    strings) plus one per thread still running after timeout seconds."""
    errors = []

    def wrap(i):
        try:
            target(i)
        except Exception as e:  # noqa: BLE001 - reported to the test
            errors.append("thread %d: %s: %s" % (i, type(e).__name__, e))

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    if stuck:
        errors.append("threads %s still running after %.0fs (hang)" % (stuck, timeout))
    return errors


# ---------------------------------------------------------------------------------------------
# redis: redis-server processes, a RESP client, RedisFleet (N redis-server + one proxy)


class Redis(ManagedProcess):
    """A redis-server started by start_redis. password: its requirepass, or None."""

    def __init__(self, port, cmd, workdir, password=None):
        self.port = port
        self.address = "%s:%d" % (HOST, port)
        self.password = password
        ManagedProcess.__init__(self, "redis-%d" % port, cmd, workdir)

    def client(self, timeout=IO_TIMEOUT, db=None, auth=True):
        """A RespClient straight to this redis-server (bypassing the proxy), authenticated
        with its requirepass unless auth is False, and on database db when given."""
        c = RespClient(self.port, timeout=timeout)
        try:
            if auth and self.password is not None:
                reply = c.command("AUTH", self.password)
                if reply != "OK":
                    raise AssertionError("AUTH on redis %d: %r" % (self.port, reply))
            if db:
                reply = c.command("SELECT", db)
                if reply != "OK":
                    raise AssertionError("SELECT %d on redis %d: %r" % (db, self.port, reply))
        except BaseException:
            c.close()
            raise
        return c


def redis_cmd(port, extra_args=(), password=None):
    """The command line start_redis runs (no persistence, foreground, loopback only)."""
    cmd = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly",
           "no", "--daemonize", "no"]
    if password is not None:
        cmd += ["--requirepass", password]
    return cmd + list(extra_args)


def start_redis(port=None, extra_args=(), password=None, timeout=START_TIMEOUT):
    """Starts `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no --daemonize no
    [--requirepass PASSWORD] EXTRA` in a temporary directory and waits until it accepts.
    Returns a Redis; raises RuntimeError (with its output) if it does not come up."""
    if port is None:
        port = free_port()
    cmd = redis_cmd(port, extra_args, password)
    rd = Redis(port, cmd, make_temp_dir("rp-rd-"), password)
    if not wait_port(port, rd, timeout):
        rd.kill()
        raise RuntimeError("redis-server on port %d did not start: %s\n%s%s"
                           % (port, " ".join(cmd), _tail(rd.stdout_path), rd.stderr_text()))
    return rd


class RespError(str):
    """An error reply (-...): its text without the '-' ("ERR unknown command ..."). Equal only
    to a RespError with the same text, never to a plain str, so that an error is not taken for
    a status reply."""

    def __eq__(self, other):
        return isinstance(other, RespError) and str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __repr__(self):
        return "RespError(%s)" % str.__repr__(self)


class RespStatus(str):
    """A status reply (+...): its text without the '+', equal to the same plain str."""

    def __repr__(self):
        return "RespStatus(%s)" % str.__repr__(self)


def resp_encode(*args):
    """One multibulk request of args (bytes as they are, str as UTF-8, int and float in
    decimal)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            a = repr(a).encode()
        else:
            a = bytes(a)
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespClient(MemcacheClient):
    """A blocking RESP client with raw helpers (the socket side is MemcacheClient's: every
    operation is bounded by `timeout`). Replies are parsed into Python values: bulk strings as
    bytes, nil (bulk or array) as None, integers as int, status replies as RespStatus, errors as
    RespError, arrays as lists (RESP3 types too: null None, double float, boolean bool, map
    dict, set and push lists, verbatim bytes without its format, attributes skipped)."""

    MAX_DEPTH = 64

    def send_command(self, *args):
        """Sends one multibulk request (see resp_encode) without reading."""
        self.send(resp_encode(*args))

    def command(self, *args, timeout=None):
        """Sends one multibulk request and returns its parsed reply."""
        self.send(resp_encode(*args))
        return self.read_reply(timeout)

    def inline(self, line, timeout=None):
        """Sends an inline command (CRLF added) and returns its parsed reply."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.read_reply(timeout)

    def read_reply(self, timeout=None):
        """Reads exactly one reply and returns it parsed (see the class)."""
        return self._read(timeout)[0]

    def read_raw_reply(self, timeout=None):
        """Reads exactly one reply and returns its bytes exactly as framed."""
        return self._read(timeout)[1]

    def read_replies(self, n, timeout=None):
        """n parsed replies, read within one timeout."""
        deadline = self._deadline(timeout)
        return [self._read(max(0.001, deadline - time.monotonic()))[0] for _ in range(n)]

    # -- framing ---------------------------------------------------------------------------

    def _read(self, timeout):
        deadline = self._deadline(timeout)
        value, end = self._parse(0, deadline, 0)
        raw = bytes(self.buf[:end])
        del self.buf[:end]
        return value, raw

    def _line(self, pos, deadline):
        start = pos
        while True:
            i = self.buf.find(b"\r\n", start)
            if i >= 0:
                return bytes(self.buf[pos:i]), i + 2
            start = max(pos, len(self.buf) - 1)
            self._fill(deadline)

    def _need(self, end, deadline):
        while len(self.buf) < end:
            self._fill(deadline)

    def _parse(self, pos, deadline, depth):
        if depth > self.MAX_DEPTH:
            raise AssertionError("reply nested deeper than %d" % self.MAX_DEPTH)
        line, pos = self._line(pos, deadline)
        if not line:
            raise AssertionError("empty reply line")
        kind, body = line[:1], line[1:]
        try:
            if kind == b"+":
                return RespStatus(body.decode("utf-8", "replace")), pos
            if kind == b"-":
                return RespError(body.decode("utf-8", "replace")), pos
            if kind in (b":", b"("):
                return int(body), pos
            if kind == b",":
                return float(body), pos
            if kind == b"#":
                if body not in (b"t", b"f"):
                    raise ValueError(body)
                return body == b"t", pos
            if kind == b"_":
                return None, pos
            if kind in (b"$", b"="):
                n = int(body)
                if n < 0:
                    return None, pos
                self._need(pos + n + 2, deadline)
                if self.buf[pos + n:pos + n + 2] != b"\r\n":
                    raise AssertionError("bulk of %d bytes not followed by CRLF: %r"
                                         % (n, bytes(self.buf[pos + n:pos + n + 2])))
                data = bytes(self.buf[pos:pos + n])
                return (data[4:] if kind == b"=" else data), pos + n + 2
            if kind in (b"*", b"~", b">", b"%", b"|"):
                n = int(body)
                if n < 0:
                    return None, pos
                count = 2 * n if kind in (b"%", b"|") else n
                items = []
                for _ in range(count):
                    item, pos = self._parse(pos, deadline, depth + 1)
                    items.append(item)
                if kind == b"|":            # an attribute precedes the reply it describes
                    return self._parse(pos, deadline, depth)
                if kind == b"%":
                    return {_hashable(items[i]): items[i + 1] for i in range(0, count, 2)}, pos
                return items, pos
        except ValueError:
            raise AssertionError("bad reply line %r" % line) from None
        raise AssertionError("unknown reply type in line %r" % line)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def redis_pool(servers, names=None, **overrides):
    """A redis test pool over ports: ketama, fnv1a_64, timeout 1000, server_connections 1, no
    auto eject, `redis: true`; names[i] (when given) is server i's name. Options whose value is
    None are left out (so redis_auth=None means no redis_auth key)."""
    pool = {
        "redis": True,
        "hash": "fnv1a_64",
        "distribution": "ketama",
        "timeout": 1000,
        "server_connections": 1,
        "auto_eject_hosts": False,
        "servers": ["%s:%d:1%s" % (HOST, port, " %s" % names[i] if names else "")
                    for i, port in enumerate(servers)],
    }
    pool.update(overrides)
    return {k: v for k, v in pool.items() if v is not None}


class RedisFleet:
    """N redis-server + one proxy with a redis pool `alpha` over them. Use as a context
    manager or start()/stop().

    server_password: the servers' requirepass (None: none). redis_auth, redis_db, hash_tag,
    distribution: the pool's keys (None: left out, the proxy's default). names: server names.
    pool_options: any other pool keys. down: indices of servers whose port is reserved but that
    are not started (start_server(i) brings one up later). backends: {index: "host:port"} of a
    server that is not a redis-server started here (a FakeBackend)."""

    def __init__(self, nservers=3, workers=None, io=None, redis_auth=None, redis_db=None,
                 hash_tag=None, distribution=None, names=None, server_password=None,
                 pool_options=None, extra_args=(), redis_args=(), down=(), backends=None,
                 pool_name="alpha"):
        self.nservers = nservers
        self.workers = workers
        self.io = io
        self.redis_auth = redis_auth
        self.redis_db = redis_db
        self.hash_tag = hash_tag
        self.distribution = distribution
        self.names = list(names) if names else None
        self.server_password = server_password
        self.pool_options = dict(pool_options or {})
        self.extra_args = tuple(extra_args)
        self.redis_args = tuple(redis_args)
        self.down = set(down)
        self.backends = dict(backends or {})
        self.pool_name = pool_name
        self.ports = []
        self.redis = []      # Redis or None (down or a foreign backend), index = server index
        self.proxy = None

    def pool(self):
        """The pool's configuration dict."""
        opts = dict(redis_auth=self.redis_auth, redis_db=self.redis_db, hash_tag=self.hash_tag,
                    distribution=self.distribution)
        opts = {k: v for k, v in opts.items() if v is not None}
        opts.update(self.pool_options)
        return redis_pool(self.ports, self.names, **opts)

    def start(self):
        try:
            self.ports = [int(self.backends[i].rsplit(":", 1)[1]) if i in self.backends
                          else free_port() for i in range(self.nservers)]
            self.redis = [None] * self.nservers
            for i in range(self.nservers):
                if i not in self.down and i not in self.backends:
                    self.start_server(i)
            self.proxy = start_ringproxy({self.pool_name: self.pool()}, self.extra_args,
                                         workers=self.workers, io=self.io)
        except BaseException:
            self.stop()
            raise
        return self

    def start_server(self, i):
        """Starts (or restarts) redis-server i on its port; retries on another port if the
        port was taken before the proxy started."""
        for attempt in range(3):
            try:
                self.redis[i] = start_redis(self.ports[i], self.redis_args,
                                            self.server_password)
                return self.redis[i]
            except RuntimeError:
                if attempt == 2 or self.proxy is not None:
                    raise
                self.ports[i] = free_port()
        return None

    def stop(self):
        if self.proxy is not None:
            self.proxy.terminate()
        for rd in self.redis:
            if rd is not None:
                rd.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self.proxy.pools[self.pool_name]

    def client(self, timeout=IO_TIMEOUT, rcvbuf=None):
        """A RespClient to the proxy's pool."""
        return RespClient(self.port, timeout=timeout, rcvbuf=rcvbuf)

    def direct(self, i, timeout=IO_TIMEOUT, db=None):
        """A RespClient straight to redis-server i, authenticated, on db (default: the pool's
        redis_db)."""
        return self.redis[i].client(timeout=timeout,
                                    db=self.redis_db if db is None else db)

    def live(self):
        return [i for i, rd in enumerate(self.redis) if rd is not None and rd.alive()]

    def flushall(self):
        """FLUSHALL on every live server (every database)."""
        for i in self.live():
            with self.redis[i].client() as c:
                reply = c.command("FLUSHALL")
                if reply != "OK":
                    raise AssertionError("FLUSHALL on server %d: %r" % (i, reply))

    def locate(self, keys, db=None):
        """{key: [server indices holding it]} for every key (bytes or str), from EXISTS on
        every live server directly."""
        uniq = list(dict.fromkeys(keys))
        found = {k: [] for k in uniq}
        for i in self.live():
            with self.direct(i, db=db) as c:
                for start in range(0, len(uniq), 500):
                    chunk = uniq[start:start + 500]
                    c.send(b"".join(resp_encode("EXISTS", k) for k in chunk))
                    for k, n in zip(chunk, c.read_replies(len(chunk))):
                        if n == 1:
                            found[k].append(i)
                        elif n != 0:
                            raise AssertionError("EXISTS on server %d: %r" % (i, n))
        return found

    def owners(self, keys, db=None):
        """{key: server index} for the keys present on exactly one server; AssertionError if
        a key is on several."""
        out = {}
        for k, where in self.locate(keys, db).items():
            if len(where) > 1:
                raise AssertionError("key %r on several servers: %r" % (k, where))
            if where:
                out[k] = where[0]
        return out

    def route(self, keys):
        """{key: server index} as `$RINGPROXY --route` places keys (str, no newline) in this
        pool, or None under nutcracker (it has no --route)."""
        if self.proxy.nutcracker:
            return None
        routes = route_pool(self.proxy.binary, self.proxy.conf_path, self.pool_name, keys)
        by_port = {port: i for i, port in enumerate(self.ports)}
        out = {}
        for k, (addr, _name) in routes.items():
            port = int(addr.rsplit(":", 1)[1])
            if port not in by_port:
                raise AssertionError("--route put %r on %s, not a server of the pool" % (k, addr))
            out[k] = by_port[port]
        return out

#!/usr/bin/env bash
# make container-test: builds the image with podman and runs it against memcached on loopback,
#   (a) under podman's default seccomp profile: io_uring is refused, it must serve on epoll and
#       say why in its log;
#   (b) under deploy/seccomp/ringproxy.json: it must serve on io_uring;
#   (c) reload: the mounted configuration gains a pool; SIGHUP; the new pool serves and the
#       stats count the reload with a new checksum;
# and runs the image's HEALTHCHECK. Host network (the machine's loopback), ports chosen at run
# time; containers, memcached and the temporary directory are removed on any exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared/container}
IMAGE=${IMAGE:-localhost/ringproxy:container-test}
tmp=$(mktemp -d /tmp/rp-container-XXXXXX)
names=()
mc_pid=""
cleanup() {
    for n in "${names[@]}"; do podman rm -f "$n" >/dev/null 2>&1 || true; done
    [ -n "$mc_pid" ] && kill "$mc_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
step() { echo "container-test: $*"; }
fail() { echo "container-test: FAILED: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

t0=$(date +%s)
step "building the image"
"$SHARED/podman-build.sh" --format docker -t "$IMAGE" . >"$tmp/build.log" 2>&1 ||
    { tail -30 "$tmp/build.log"; fail "podman build"; }

command -v memcached >/dev/null || sh tests/deps.sh
mc_port=$(free_port)
user=(); [ "$(id -u)" -eq 0 ] && user=(-u nobody)
memcached -l 127.0.0.1 -p "$mc_port" -U 0 -m 16 "${user[@]}" & mc_pid=$!

chmod 755 "$tmp"
write_conf() { # pool port [second pool port]
    {
        echo "alpha:"
        echo "  listen: 127.0.0.1:$1"
        echo "  servers:"
        echo "   - 127.0.0.1:$mc_port:1"
        if [ -n "${2:-}" ]; then
            echo "beta:"
            echo "  listen: 127.0.0.1:$2"
            echo "  hash: murmur"
            echo "  servers:"
            echo "   - 127.0.0.1:$mc_port:1"
        fi
    } >"$tmp/nutcracker.yml.new"
    chmod 644 "$tmp/nutcracker.yml.new"
    mv "$tmp/nutcracker.yml.new" "$tmp/nutcracker.yml"
}

# check.py PORT STATS ENGINE: set/get through the proxy and the engine in the stats
cat >"$tmp/check.py" <<'PY'
import json, socket, sys, time
port, stats, engine = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.time() + 20
while True:
    try:
        with socket.create_connection(("127.0.0.1", stats), timeout=2) as s:
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        st = json.loads(data)
        break
    except (OSError, ValueError):
        if time.time() > deadline:
            sys.exit("stats port %d never answered" % stats)
        time.sleep(0.2)
if engine != "-" and st["ringproxy"]["engine"] != engine:
    sys.exit("engine %r, want %r" % (st["ringproxy"]["engine"], engine))
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    s.sendall(b"set ct.%d 0 0 5\r\nhello\r\nget ct.%d\r\n" % (port, port))
    want = b"STORED\r\nVALUE ct.%d 0 5\r\nhello\r\nEND\r\n" % port
    got = b""
    while len(got) < len(want):
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
if got != want:
    sys.exit("through the proxy: %r" % got)
print(json.dumps(st["ringproxy"]))
PY

run() { # name, extra podman args...
    local name=$1; shift
    names+=("$name")
    # (podman without systemd says it cannot schedule the healthcheck timer: harmless here,
    # the check is run by hand below)
    "$SHARED/podman-run.sh" -d --name "$name" -v "$tmp:/etc/ringproxy:ro" "$@" "$IMAGE" \
        -c /etc/ringproxy/nutcracker.yml -s "$stats" -a 127.0.0.1 >/dev/null 2>"$tmp/run.err" ||
        { cat "$tmp/run.err"; fail "podman run $name"; }
}

# (a) the default profile: epoll
port=$(free_port); stats=$(free_port)
write_conf "$port"
step "(a) default seccomp profile"
run rp-ct-default
python3 "$tmp/check.py" "$port" "$stats" epoll >/dev/null ||
    { podman logs rp-ct-default 2>&1 | tail -20; fail "(a) did not serve on epoll"; }
log=$(podman logs rp-ct-default 2>&1)
why=$(grep -o 'io_uring not used ([^)]*)' <<<"$log" | head -n 1) ||
    fail "(a) the log does not say why io_uring is not used"
step "(a) ok: epoll, and the log says why: $why"
podman rm -f rp-ct-default >/dev/null 2>&1

# (b) the shipped profile: io_uring
port=$(free_port); stats=$(free_port)
write_conf "$port"
step "(b) deploy/seccomp/ringproxy.json"
run rp-ct-uring --security-opt "seccomp=$PWD/deploy/seccomp/ringproxy.json"
python3 "$tmp/check.py" "$port" "$stats" uring >/dev/null ||
    { podman logs rp-ct-uring 2>&1 | tail -20; fail "(b) did not serve on io_uring"; }
step "(b) ok: uring"

# the image's HEALTHCHECK (its script reads the stats port from RINGPROXY_STATS_PORT)
podman rm -f rp-ct-uring >/dev/null 2>&1
run rp-ct-uring --security-opt "seccomp=$PWD/deploy/seccomp/ringproxy.json" \
    -e "RINGPROXY_STATS_PORT=$stats"
python3 "$tmp/check.py" "$port" "$stats" uring >/dev/null || fail "(b) restart"
podman healthcheck run rp-ct-uring 2>"$tmp/hc.err" ||
    { cat "$tmp/hc.err"; fail "the HEALTHCHECK reports unhealthy"; }
step "healthcheck ok"

# (c) reload: a second pool, SIGHUP
before=$(python3 "$tmp/check.py" "$port" "$stats" -)
port2=$(free_port)
write_conf "$port" "$port2"
step "(c) SIGHUP after adding a pool"
podman kill --signal HUP rp-ct-uring >/dev/null
ok=""
for _ in $(seq 50); do
    if after=$(python3 "$tmp/check.py" "$port2" "$stats" uring 2>/dev/null); then ok=1; break; fi
    sleep 0.2
done
[ -n "$ok" ] || { podman logs rp-ct-uring 2>&1 | tail -20; fail "(c) the new pool does not serve"; }
python3 - "$before" "$after" <<'PY' || fail "(c) the stats do not show the reload"
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert b["conf_reloads"] == 0 and a["conf_reloads"] == 1, (b["conf_reloads"], a["conf_reloads"])
assert b["conf_checksum"] != a["conf_checksum"], "checksum unchanged"
PY
python3 "$tmp/check.py" "$port" "$stats" uring >/dev/null || fail "(c) the first pool stopped"
step "(c) ok: reloaded, both pools serve"
step "passed in $(( $(date +%s) - t0 )) s"

#!/bin/sh
# `make run`: three local memcached and the proxy in front of them, to try by hand.
#   sh tests/run-local.sh PATH_TO_RINGPROXY [EXTRA PROXY ARGS...]
# Starts memcached on 127.0.0.1:11311, 11312, 11313 (each unless something already listens
# there), then runs the proxy with conf/example/nutcracker.yml (pool alpha on 127.0.0.1:22121,
# override with CONF=FILE) and stats on 127.0.0.1:22222 until Ctrl-C or SIGTERM, then stops
# the memcached it started.
set -u

if [ $# -lt 1 ]; then
    echo "usage: sh tests/run-local.sh PATH_TO_RINGPROXY [EXTRA PROXY ARGS...]" >&2
    exit 2
fi
proxy=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
conf=${CONF:-$root/conf/example/nutcracker.yml}
host=127.0.0.1
mc_ports="11311 11312 11313"
listen_port=22121
stats_port=22222

if [ ! -x "$proxy" ]; then
    echo "run-local: $proxy is not an executable (build it first: make)" >&2
    exit 2
fi
if [ ! -f "$conf" ]; then
    echo "run-local: configuration $conf not found" >&2
    exit 2
fi
if ! command -v memcached >/dev/null 2>&1; then
    echo "run-local: memcached is not installed (make deps)" >&2
    exit 2
fi

# listening PORT: true if something accepts TCP connections on 127.0.0.1:PORT
listening() {
    python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

mc_pids=""
proxy_pid=""

cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$proxy_pid" ]; then
        kill "$proxy_pid" 2>/dev/null
        wait "$proxy_pid" 2>/dev/null
    fi
    for pid in $mc_pids; do
        kill "$pid" 2>/dev/null
    done
    for pid in $mc_pids; do
        wait "$pid" 2>/dev/null
    done
    [ -n "$mc_pids" ] && echo "run-local: stopped memcached (pids$mc_pids)" >&2
    mc_pids=""
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP
trap cleanup EXIT

user_arg=""
[ "$(id -u)" -eq 0 ] && user_arg="-u root" # memcached refuses to run as root without -u

for port in $mc_ports; do
    if listening "$port"; then
        echo "run-local: something already listens on $host:$port, using it" >&2
        continue
    fi
    # shellcheck disable=SC2086 # user_arg is empty or two words
    memcached -l "$host" -p "$port" -U 0 -m 64 -t 1 $user_arg &
    mc_pids="$mc_pids $!"
done

for port in $mc_ports; do
    tries=0
    until listening "$port"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 50 ]; then
            echo "run-local: memcached on $host:$port did not come up" >&2
            exit 1
        fi
        sleep 0.1
    done
done

cat <<EOF
ringproxy: pool alpha on $host:$listen_port over memcached $host:11311 $host:11312 $host:11313
           stats JSON on $host:$stats_port, configuration $conf
Try it:
  printf 'set k 0 0 1\r\nv\r\nget k\r\n' | nc -q1 $host $listen_port
  printf 'stats\r\n' | nc -q1 $host $listen_port
  memcping --servers=$host:$listen_port
  memccat --servers=$host:$listen_port k
  nc $host $stats_port            # stats JSON
Ctrl-C stops the proxy and the memcached started here.

EOF

"$proxy" -c "$conf" -s "$stats_port" -a "$host" "$@" &
proxy_pid=$!
wait "$proxy_pid"
status=$?
proxy_pid=""
cleanup
exit "$status"

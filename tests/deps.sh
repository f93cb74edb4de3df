#!/bin/sh
# Installs the Debian packages that ringproxy's build, tests and benchmarks need.
# Idempotent: asks apt only for what is missing. Uses sudo when not root.
set -e
pkgs="build-essential pkg-config liburing-dev libyaml-dev libcmocka-dev python3
memcached redis-server redis-tools nutcracker libmemcached-tools
libbenchmark-dev g++ gnuplot-nox procps netcat-openbsd python3-redis
python3-prometheus-client"
# `sh tests/deps.sh fuzz`: also clang and its libFuzzer runtime (make fuzz)
[ "${1:-}" = fuzz ] && pkgs="$pkgs clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

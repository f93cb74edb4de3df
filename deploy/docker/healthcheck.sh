#!/bin/bash
# The image's HEALTHCHECK: healthy when the stats port answers with ringproxy's stats JSON.
# Plain bash (/dev/tcp), so it needs nothing beyond debian:bookworm-slim. It asks
# "GET /stats" and accepts either reply the stats port gives: nutcracker's bare JSON, written
# on connect whatever the client sends, or an HTTP response whose body is that JSON.
# RINGPROXY_STATS_PORT must match -s (the image sets both to 22222).
port=${RINGPROXY_STATS_PORT:-22222}
# a stats port that writes and closes may reset before the request is written: a failed
# write must not kill the check, the reply is what counts
trap '' PIPE
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /stats HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 2>/dev/null
timeout 3 cat <&3 2>/dev/null | grep -q '"ringproxy"'

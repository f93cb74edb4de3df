# ringproxy container image: built on debian:bookworm, run on debian:bookworm-slim, as an
# unprivileged user, with the configuration read from a mounted file.
#
#   docker build -t ringproxy .              (podman build --format docker keeps the HEALTHCHECK)
#   docker run --rm -p 22121:22121 -p 22222:22222 \
#       -v "$PWD/conf.d:/etc/ringproxy:ro" ringproxy          (conf.d/nutcracker.yml)
#
# Configuration: /etc/ringproxy/nutcracker.yml (-c). The file baked in is conf/example's,
# which listens on 127.0.0.1 and names local servers: a placeholder. Mount a directory over
# /etc/ringproxy (a directory, not the single file, so that an edited or replaced file is seen
# by a reload) or pass `-c PATH`.
#
# io_uring: the default seccomp profiles of Docker 25+, containerd 2 and podman refuse
# io_uring_setup, and ringproxy then serves on its epoll engine and logs
# "io_uring not used (io_uring_setup refused: Operation not permitted)". To use io_uring, run
# with deploy/seccomp/ringproxy.json (the default allow list plus the three io_uring calls):
#   docker run --security-opt seccomp=deploy/seccomp/ringproxy.json ...
# The stats JSON says which engine runs ("ringproxy": {"engine": ...}).

FROM debian:bookworm AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gcc make libc6-dev liburing-dev libyaml-dev >/dev/null && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY hash hash
COPY conf conf
COPY proto proto
COPY uring uring
COPY src src
RUN make -j"$(nproc)" build/ringproxy && build/ringproxy -V

FROM debian:bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        liburing2 libyaml-0-2 >/dev/null && rm -rf /var/lib/apt/lists/* && \
    groupadd --system --gid 10001 ringproxy && \
    useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin ringproxy
COPY --from=build /src/build/ringproxy /usr/local/bin/ringproxy
COPY deploy/docker/healthcheck.sh /usr/local/bin/ringproxy-healthcheck
COPY conf/example/nutcracker.yml /etc/ringproxy/nutcracker.yml
# numeric, so that Kubernetes' runAsNonRoot can check it without a runAsUser
USER 10001:10001
# the healthcheck's port; keep it equal to -s when the command below is overridden
ENV RINGPROXY_STATS_PORT=22222
# 22121: the example pool's port (yours are whatever your file says); 22222: stats
EXPOSE 22121 22222
# SIGTERM: stop accepting, finish what is in flight, exit 0
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/ringproxy-healthcheck"]
ENTRYPOINT ["/usr/local/bin/ringproxy"]
# -a 0.0.0.0: the stats port must be reachable from outside the container (published port,
# Kubernetes probes and scrapes). Outside a container, bind it to 127.0.0.1 unless something
# remote needs to read it: it has no authentication.
CMD ["-c", "/etc/ringproxy/nutcracker.yml", "-s", "22222", "-a", "0.0.0.0"]

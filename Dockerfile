# ringproxy container image: build stage on Debian 12, slim runtime stage.
#   podman build -t ringproxy .        (or docker build)
#   docker run --rm -p 22121:22121 -v $PWD/my.yml:/etc/ringproxy/nutcracker.yml ringproxy
# io_uring: the default seccomp profiles of Docker 25+, containerd and podman refuse it, and
# ringproxy then runs its epoll engine (logged at start). To use io_uring, run with a profile
# that allows io_uring_setup/io_uring_enter/io_uring_register (or seccomp=unconfined) and give
# the pinned arena room: --ulimit memlock=-1 (or at least buffers x buffer_size x workers).
FROM debian:bookworm-slim AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gcc make libc6-dev liburing-dev libyaml-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY hash hash
COPY conf conf
COPY proto proto
COPY uring uring
COPY src src
RUN make -j"$(nproc)" build/ringproxy

FROM debian:bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        liburing2 libyaml-0-2 && rm -rf /var/lib/apt/lists/* && \
    useradd --system --no-create-home --shell /usr/sbin/nologin ringproxy
COPY --from=build /src/build/ringproxy /usr/local/bin/ringproxy
COPY conf/example/nutcracker.yml /etc/ringproxy/nutcracker.yml
USER ringproxy
EXPOSE 22121 22222
ENTRYPOINT ["/usr/local/bin/ringproxy"]
CMD ["-c", "/etc/ringproxy/nutcracker.yml", "-s", "22222", "-a", "0.0.0.0"]

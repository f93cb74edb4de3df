# ringproxy: plain Makefile, Linux only.
#   make                 release build (-O2 -g) into build/
#   make test            deps, build, unit tests, integration tests
#   SANITIZE=address,undefined make test    same under sanitizers, in build/san/
#   make run             deps, build, start local memcached servers and the proxy
#   make deps            install the Debian packages the build and tests need
#   make bench           benchmark suite: micro benchmarks, then bench/compare
#   make container-test  podman image: epoll under the default seccomp, io_uring under ours, reload
#   make fuzz            libFuzzer targets (fuzz/fuzz.mk), FUZZ_SECONDS (default 600) each
#   WERROR=1             warnings are errors (CI sets it)

CC       ?= cc
CXX      ?= c++
PYTHON   ?= python3

ifdef SANITIZE
BUILD    ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD    ?= build
SANFLAGS :=
endif

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
ifdef WERROR
WARN     += -Werror
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) $(SANFLAGS) -I. -D_GNU_SOURCE -MMD -MP
LDFLAGS  += $(SANFLAGS)
LDLIBS   := -luring -lyaml -lpthread -lm

# pure layers: no I/O, unit-tested on byte arrays
PURE_SRCS := $(wildcard hash/*.c) $(wildcard conf/*.c) $(wildcard proto/*.c)
# core and engines
CORE_SRCS := $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard uring/*.c)

PURE_OBJS := $(PURE_SRCS:%.c=$(BUILD)/%.o)
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/src/main.o

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

BIN       := $(BUILD)/ringproxy

.PHONY: all test unit integration run deps clean bench format fuzz soak container-test

all: $(BIN) $(TEST_BINS)

$(BIN): $(MAIN_OBJ) $(CORE_OBJS) $(PURE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(CORE_OBJS) $(PURE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

deps:
	@sh tests/deps.sh

unit: $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; $$t; done

# the whole suite once per engine: auto (io_uring where the kernel allows it), then epoll
integration: $(BIN)
	RINGPROXY=$(BUILD)/ringproxy RINGPROXY_IO=auto $(PYTHON) tests/integration/run.py
	RINGPROXY=$(BUILD)/ringproxy RINGPROXY_IO=epoll $(PYTHON) tests/integration/run.py

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	@sh tests/run-local.sh $(BIN)

# the benchmark suite: micro benchmarks (ns/op), then bench/compare (about 15 minutes), which
# writes bench/out/DATE/RESULTS.md; copy it to bench/RESULTS.md when the data path changed
bench: deps
	@$(MAKE) --no-print-directory -C bench/micro run
	@$(MAKE) --no-print-directory -C bench compare

# builds the image with podman (../shared/container) and runs it under both seccomp profiles
container-test:
	@bash tests/container/run.sh

fuzz:
	@sh tests/deps.sh fuzz
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk run FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600)

# routes and resharding warm-up under hostile traffic, on the sanitizer build (fuzz/soak_routes.py)
soak: deps
	@SANITIZE=address,undefined $(MAKE) --no-print-directory all
	@$(PYTHON) fuzz/soak_routes.py --seconds $(or $(SOAK_SECONDS),120) --binary build/san/ringproxy

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

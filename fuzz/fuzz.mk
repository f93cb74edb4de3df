# libFuzzer targets for ringproxy's pure layers (proto/, conf/, hash/). Invoked as `make fuzz`.
#   make -f fuzz/fuzz.mk            build every target into build/fuzz/
#   make -f fuzz/fuzz.mk run        run each for FUZZ_SECONDS (default 600) seconds
#   make -f fuzz/fuzz.mk smoke      run each for 10 seconds (for CI)
#   make -f fuzz/fuzz.mk run-fuzz_conf   one target only; -jN runs targets side by side
# Seeds are read from fuzz/corpus/<target>/ (committed, never written); what a run finds goes to
# build/fuzz/corpus/<target>/, crashes, leaks and hangs to build/fuzz/crashes/<target>/.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_OUT     := build/fuzz

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
FUZZ_CFLAGS  := -std=gnu11 -O1 -g $(FUZZ_WARN) $(FUZZ_SAN) -I. -D_GNU_SOURCE -MMD -MP
FUZZ_LDLIBS  := -lyaml -lm

# only the pure layers: no I/O, no liburing
FUZZ_PURE    := $(wildcard hash/*.c) $(wildcard conf/*.c) $(wildcard proto/*.c)
FUZZ_OBJS    := $(FUZZ_PURE:%.c=$(FUZZ_OUT)/obj/%.o)
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/%)

# libFuzzer options shared by run and smoke: a 10 s hang is a finding
FUZZ_OPTS    := -timeout=10 -max_len=8192 -print_final_stats=1

.PHONY: all run smoke $(FUZZ_TARGETS:%=run-%) $(FUZZ_TARGETS:%=smoke-%)

all: $(FUZZ_BINS)

# keep the objects between builds
.SECONDARY: $(FUZZ_OBJS)

# library code is instrumented for coverage but gets no main; targets link libFuzzer's
$(FUZZ_OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OUT)/%: fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(FUZZ_LDLIBS)

run: $(FUZZ_TARGETS:%=run-%)
smoke: $(FUZZ_TARGETS:%=smoke-%)

# Runs one target, then prints its executions, coverage and whether it found anything; fails
# if it did. $(1): target, $(2): seconds.
define fuzz_run
	@mkdir -p $(FUZZ_OUT)/corpus/$(1) $(FUZZ_OUT)/crashes/$(1) $(FUZZ_OUT)/logs
	@log=$(FUZZ_OUT)/logs/$(1).log; \
	./$(FUZZ_OUT)/$(1) $(FUZZ_OPTS) -max_total_time=$(2) \
	    -artifact_prefix=$(FUZZ_OUT)/crashes/$(1)/ \
	    $(FUZZ_OUT)/corpus/$(1) fuzz/corpus/$(1) >$$log 2>&1; rc=$$?; \
	execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	last=$$(grep -E '^#[0-9]+' $$log | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -n 1); \
	found=$$(ls $(FUZZ_OUT)/crashes/$(1)/ 2>/dev/null | wc -l); \
	if [ $$rc -eq 0 ] && [ $$found -eq 0 ]; then verdict=ok; else verdict="FOUND (rc $$rc)"; fi; \
	printf '%-14s %ss  execs %-10s %-22s %s  (log %s)\n' $(1) $(2) "$${execs:-?}" "$$last" \
	    "$$verdict" $$log; \
	ls $(FUZZ_OUT)/crashes/$(1)/* 2>/dev/null | sed 's/^/    /'; \
	[ "$$verdict" = ok ]
endef

$(FUZZ_TARGETS:%=run-%): run-%: $(FUZZ_OUT)/%
	$(call fuzz_run,$*,$(FUZZ_SECONDS))

$(FUZZ_TARGETS:%=smoke-%): smoke-%: $(FUZZ_OUT)/%
	$(call fuzz_run,$*,10)

-include $(shell find $(FUZZ_OUT) -name '*.d' 2>/dev/null)

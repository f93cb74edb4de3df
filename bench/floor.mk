# bench/floor: the cheapest proxy hop (framing only, every client on one server connection),
# the reference column of the benchmark suite. Standalone from the repository root:
#   make -f bench/floor.mk BUILD=build/bench      -> build/bench/floor
#   SANITIZE=address,undefined                    the same under sanitizers
# or included by bench/Makefile (which runs in bench/): paths are taken from this file's place.
# It compiles the src/ uring/ proto/ objects it needs itself, into $(BUILD)/floor-obj/.

FLOOR_ROOT   := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
FLOOR_GOAL   := $(.DEFAULT_GOAL)

BUILD        ?= build/bench
CC           ?= cc
FLOOR_OPT    ?= -O2 -g
FLOOR_SAN    := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
FLOOR_CFLAGS := -std=gnu11 $(FLOOR_OPT) $(FLOOR_SAN) -Wall -Wextra -Wshadow -Wstrict-prototypes \
                -Wmissing-prototypes -Wformat=2 -I$(FLOOR_ROOT) -D_GNU_SOURCE -MMD -MP
FLOOR_LDLIBS := -luring -lpthread

FLOOR_SRCS   := bench/floor/floor.c src/io.c src/ep_engine.c uring/ur_engine.c src/mbuf.c \
                src/log.c src/sendrec.c src/msg.c src/linebuf.c \
                $(patsubst $(FLOOR_ROOT)/%,%,$(wildcard $(FLOOR_ROOT)/proto/*.c))
FLOOR_OBJS   := $(FLOOR_SRCS:%.c=$(BUILD)/floor-obj/%.o)
FLOOR_BIN    := $(BUILD)/floor

.PHONY: floor
floor: $(FLOOR_BIN)

$(FLOOR_BIN): $(FLOOR_OBJS)
	$(CC) $(FLOOR_SAN) -o $@ $^ $(FLOOR_LDLIBS)

$(FLOOR_OBJS): $(BUILD)/floor-obj/%.o: $(FLOOR_ROOT)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FLOOR_CFLAGS) -c -o $@ $<

-include $(FLOOR_OBJS:.o=.d)

# included after other targets: leave the including Makefile's default goal alone
ifneq ($(FLOOR_GOAL),)
.DEFAULT_GOAL := $(FLOOR_GOAL)
endif

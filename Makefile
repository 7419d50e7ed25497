# AnySee peer and emulation testbed.
#
# Each top-level folder is one library (its main.c, if any, is a binary).
# New source files are picked up by wildcard, so adding a module never
# needs a Makefile edit.

PKGS      := libnl-3.0 libnl-route-3.0 libpcap lua5.4 libsodium
TEST_PKGS := cmocka
# Debian packages behind the pkg-config names and tools the project uses.
DEB_LIBS  := pkg-config libnl-3-dev libnl-route-3-dev libpcap-dev liblua5.4-dev libcmocka-dev libsodium-dev
DEB_TOOLS := gcc:gcc gnuplot-nox:gnuplot time:/usr/bin/time iproute2:ip procps:pgrep iputils-ping:ping iperf3:iperf3 ffmpeg:ffprobe tshark:tshark tcpdump:tcpdump curl:curl jq:jq user-mode-linux:linux.uml kmod:modprobe

# Every core unless the caller chose (make -jN): `make test` from CI or a
# newcomer's shell would otherwise build serially, twice as long on two.
# Sub-makes share the top one's jobs.
ifeq ($(MAKELEVEL)$(filter -j%,$(MAKEFLAGS)),0)
MAKEFLAGS += -j$(shell nproc)
endif

BUILD  ?= build
CC     ?= cc
WERROR ?= -Werror
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(WERROR) \
	-Wno-unused-parameter -Wno-format-truncation -MMD -MP -I.
SAN    :=
SANOPT :=
ifeq ($(SANITIZE),1)
  BUILD := build-asan
  SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer
  # -O1, as the sanitizers' own documentation suggests: the same checks,
  # a third less compile time (34 s to 23 s here) and no slower tests.
  SANOPT := -O1
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
CFLAGS     := $(CFLAGS_BASE) $(SAN) $(SANOPT) $(EXTRA_CFLAGS)
LDFLAGS    := $(SAN) $(EXTRA_LDFLAGS)

lib_srcs = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
objs     = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# lib/ is the shared base below every part. The peer's formats (its wire
# codec, log records and synthetic media) are a library of their own: the
# analysis and the capture report read them without linking the peer; the
# harness checks a scenario's peer options with the peer's own option table
# (config).
BASE_OBJS     := $(call objs,$(call lib_srcs,lib))
PEERFMT_OBJS  := $(call objs,peer/wire.c peer/log.c peer/config.c peer/policy.c peer/media.c)
PEER_OBJS     := $(call objs,$(call lib_srcs,peer))
NETNS_OBJS    := $(call objs,$(call lib_srcs,netns))
HARNESS_OBJS  := $(call objs,$(call lib_srcs,harness))
ANALYSIS_OBJS := $(call objs,$(call lib_srcs,analysis))

BINS := $(BUILD)/bin/anysee $(BUILD)/bin/anysee-harness $(BUILD)/bin/anysee-analyze
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps test unit integration demo bench paper fuzz asan format format-check clean
all: deps-ok $(BINS)

# --- dependencies -----------------------------------------------------------
# `make deps` installs whatever Debian package is missing; every target that
# compiles or runs anything depends on it through deps-ok.
deps:
	@missing=""; \
	for p in $(PKGS) $(TEST_PKGS); do pkg-config --exists $$p 2>/dev/null || missing=1; done; \
	command -v pkg-config >/dev/null || missing=1; \
	[ -n "$$missing" ] && missing="$(DEB_LIBS)"; \
	for t in $(DEB_TOOLS); do command -v $${t#*:} >/dev/null || missing="$$missing $${t%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install:$$missing" >&2; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	  { echo "deps: apt-get install$$missing failed" >&2; exit 1; }; \
	fi

.PHONY: deps-ok
deps-ok:
	@$(MAKE) --no-print-directory deps

# --- build ------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | deps-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/lib/lib%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/lib/libbase.a: $(BASE_OBJS)
$(BUILD)/lib/libpeerfmt.a: $(PEERFMT_OBJS)
$(BUILD)/lib/libpeer.a: $(PEER_OBJS)
$(BUILD)/lib/libnetns.a: $(NETNS_OBJS)
$(BUILD)/lib/libharness.a: $(HARNESS_OBJS)
$(BUILD)/lib/libanalysis.a: $(ANALYSIS_OBJS)

# Each binary links only the libraries it uses: the harness runs the peer
# binary and never needs the peer's code.
BASE_LIB    := $(BUILD)/lib/libbase.a
PEER_LIBS   := $(BUILD)/lib/libpeer.a $(BASE_LIB)
ANALYZE_LIBS := $(BUILD)/lib/libanalysis.a $(BUILD)/lib/libpeerfmt.a $(BASE_LIB)
HARNESS_LIBS := $(BUILD)/lib/libharness.a $(BUILD)/lib/libanalysis.a \
	$(BUILD)/lib/libnetns.a $(BUILD)/lib/libpeerfmt.a $(BASE_LIB)
# Unit tests may reach into any part.
ALL_LIBS := $(BUILD)/lib/libharness.a $(BUILD)/lib/libanalysis.a \
	$(BUILD)/lib/libnetns.a $(BUILD)/lib/libpeer.a $(BASE_LIB)

$(BUILD)/bin/anysee: $(BUILD)/obj/peer/main.o $(PEER_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/bin/anysee-harness: $(BUILD)/obj/harness/main.o $(HARNESS_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(BUILD)/bin/anysee-analyze: $(BUILD)/obj/analysis/main.o $(ANALYZE_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lm -lpthread

unit-bins: $(UNIT_BINS)
.PHONY: unit-bins

# --- tests ------------------------------------------------------------------
# Unit tests run in the sanitizer build; integration tests drive the normal
# binaries in real namespaces. tests/run prints the `N passed, N failed` total.
asan: deps-ok
	@$(MAKE) --no-print-directory SANITIZE=1 build-asan/bin/anysee unit-bins

test: all asan
	@tests/run --unit build-asan/tests --bin $(BUILD)/bin

unit: asan
	@tests/run --unit build-asan/tests --only-unit

integration: all
	@tests/run --bin $(BUILD)/bin --only-integration

demo: all
	@$(BUILD)/bin/anysee-harness run scenarios/quickstart.lua

bench: all
	@tests/bench/run $(BUILD)/bin

# The paper's experiments and its claims judged on them, into paper/
# (scenarios/paper/run says what runs; QUICK=1 a reduced version;
# SIDE_PEERS=N the side-by-side runs at N peers instead of 200).
PAPER_RUNS ?= runs/paper
PAPER_OUT  ?= paper
SIDE_PEERS ?= 200
paper: all
	@SIDE_PEERS=$(SIDE_PEERS) scenarios/paper/run $(BUILD)/bin $(PAPER_RUNS) $(PAPER_OUT) $(if $(QUICK),quick)

# Coverage-guided fuzzing of the wire decoder and of the checks that read a
# stranger's first messages (clang's libFuzzer).
FUZZ_SECONDS ?= 60
fuzz: deps-ok
	@mkdir -p $(BUILD)/fuzz/corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
	  tests/fuzz/fuzz_wire.c peer/wire.c peer/identity.c peer/bindtab.c peer/auth.c lib/util.c \
	  $(shell pkg-config --cflags --libs libsodium) -o $(BUILD)/fuzz/fuzz_wire
	clang -g -O1 -D_GNU_SOURCE -I. tests/fuzz/seed_wire.c peer/wire.c -o $(BUILD)/fuzz/seed_wire
	$(BUILD)/fuzz/seed_wire $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_wire -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus

# --- housekeeping -----------------------------------------------------------
FORMAT_SRCS = $(wildcard */*.c */*.h tests/*/*.c tests/*/*.h)
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build build-asan

.SECONDARY:

-include $(shell find build build-asan -name '*.d' 2>/dev/null)

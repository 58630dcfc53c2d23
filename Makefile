# klaxon: alerting relay.
#
#   make          build ./klaxon
#   make run      install missing packages, build, serve conf/klaxon.conf
#   make test     install missing packages, build, run every test (plain
#                 build, then again under AddressSanitizer + UBSan)
#   make bench    throughput benchmark against peers (see bench/)
#
# Objects go to $(BUILD); the sanitizer build uses BUILD=build/asan.

BUILD    ?= build
CC       ?= cc
# Quiet build lines; "make V=1" shows the full commands.
ifeq ($(V),1)
Q =
else
Q = @
endif
PKGS      = libmicrohttpd libcurl jansson openssl libconfig sqlite3 \
            hidapi-hidraw libgpiod
OPTFLAGS ?= -O2
SANITIZE ?=
CFLAGS   += -std=c11 -D_GNU_SOURCE -g $(OPTFLAGS) $(SANITIZE) \
            -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers \
            -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += $(SANITIZE)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TEST_LIBS = -lcmocka

VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
CFLAGS   += -DKLAXON_VERSION='"$(VERSION)"'

LIB_SRC   = $(wildcard server/*.c handlers/*.c notifiers/*.c conf/*.c \
                       scanner/*.c)
LIB_SRC  := $(filter-out server/main.c,$(LIB_SRC))
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
SUP_SRC   = $(wildcard tests/support/*.c)
SUP_OBJ   = $(SUP_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  = $(wildcard tests/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%)
INTEG_SRC = $(wildcard tests/integration/test_*.c)
INTEG_BIN = $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%)
TOOL_SRC  = $(wildcard tests/tools/*.c)
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

# Debian packages: what the build needs, and what the benchmarks and
# fuzzers need on top.
DEB_BUILD = gcc make pkg-config libmicrohttpd-dev libcurl4-openssl-dev \
            libjansson-dev libssl-dev libconfig-dev libsqlite3-dev \
            libcmocka-dev libhidapi-dev libgpiod-dev curl
DEB_BENCH = wrk webhook prometheus-alertmanager aide sqlite3 time perl
DEB_FUZZ  = clang libclang-rt-14-dev

.PHONY: all deps deps-bench deps-fuzz run test test-unit test-integration \
        fuzz-targets \
        test-asan check-style bench bench-scan fuzz chaos soak clean

all: klaxon

klaxon: $(BUILD)/klaxon
	@cp $< $@

$(BUILD)/klaxon: $(BUILD)/server/main.o $(BUILD)/libklaxon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libklaxon.a: $(LIB_OBJ)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/libsupport.a: $(SUP_OBJ)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libsupport.a $(BUILD)/libklaxon.a
	@mkdir -p $(dir $@)
	@echo "  CC LD   $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

-include $(LIB_OBJ:.o=.d) $(SUP_OBJ:.o=.d) $(BUILD)/server/main.d

# Fuzz targets (built by fuzz/run.sh with clang and libFuzzer).
FUZZ_HANDLERS = pingdom newrelic sirportly hashgate generic
FUZZ_BIN = $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(filter-out fuzz/handler.c,\
             $(wildcard fuzz/*.c))) $(FUZZ_HANDLERS:%=$(BUILD)/fuzz/%)

fuzz-targets: $(FUZZ_BIN)

$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/libklaxon.a
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(FUZZ_HANDLERS:%=$(BUILD)/fuzz/%): fuzz/handler.c $(BUILD)/libklaxon.a
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) \
	    -DFUZZ_SOURCE=SOURCE_$(shell echo $(notdir $@) | tr a-z A-Z) \
	    -o $@ $^ $(LDLIBS)

deps:
	@tools/install-deps $(DEB_BUILD)

deps-bench:
	@tools/install-deps $(DEB_BUILD) $(DEB_BENCH)

deps-fuzz:
	@tools/install-deps $(DEB_BUILD) $(DEB_FUZZ)

run: deps
	@$(MAKE) --no-print-directory all
	./klaxon serve -c conf/klaxon.conf

test: deps
	@$(MAKE) --no-print-directory check-style
	@$(MAKE) --no-print-directory test-unit test-integration
	@$(MAKE) --no-print-directory test-asan
	@echo "make test: all tests passed, plain and under ASan + UBSan"

check-style:
	@tools/check-style

test-unit: $(UNIT_BIN) $(BUILD)/klaxon
	@tools/run-tests $(UNIT_BIN)

test-integration: $(INTEG_BIN) $(TOOL_BIN) $(BUILD)/klaxon
	@KLAXON_BIN=$(BUILD)/klaxon KLAXON_TOOLS=$(BUILD)/tests/tools \
	    tools/run-tests $(INTEG_BIN)

# The same suite built with AddressSanitizer, LeakSanitizer and UBSan;
# any report fails the run.
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
test-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPTFLAGS=-O1 \
	    SANITIZE="$(ASAN_FLAGS)" test-unit test-integration

bench: deps-bench all
	bench/relay.sh

bench-scan: deps-bench all
	bench/scan.sh

fuzz: deps-fuzz
	fuzz/run.sh $${FUZZ_SECONDS:-60}

chaos: all $(TOOL_BIN)
	KLAXON=$(BUILD)/klaxon KLAXON_TOOLS=$(BUILD)/tests/tools bench/chaos.sh

soak: deps-bench all $(TOOL_BIN)
	KLAXON=$(BUILD)/klaxon KLAXON_TOOLS=$(BUILD)/tests/tools bench/soak.sh

clean:
	rm -rf build klaxon

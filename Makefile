# SPDX-License-Identifier: MIT
# wrapp: one hand-written Makefile. `make help` lists the targets.
VERSION  := 0.1.0
CC       ?= gcc
CLANG    ?= clang
PYTHON   ?= /usr/bin/python3
PREFIX   ?= /usr/local
B        := build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
unexport LIBRARY_PATH

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
            -Wvla -Wundef -Wwrite-strings -Wimplicit-fallthrough
BASE     := -std=gnu17 -D_GNU_SOURCE -DWRAPP_VERSION='"$(VERSION)"' -MMD -MP \
            -Iinit -Istream -Icrash -Idebug -Ishim -isystem $(B)/src/cjson -isystem /usr/include/hiredis \
            -D_FILE_OFFSET_BITS=64
# libunwind-ptrace unwinds; libdw (elfutils) names frames with file:line and
# unwinds what libunwind cannot (static apps without .eh_frame_hdr).
LIBS     := -lhiredis -lseccomp -lunwind-ptrace -lunwind-generic -lunwind -ldw -lelf -lz -llzma -lbz2 -lzstd \
            -lcrypto -lpthread -lm
CFLAGS_RELEASE := $(BASE) $(WARN) -O2 -DNDEBUG -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
            -ffunction-sections -fdata-sections
LDFLAGS_RELEASE := -static -Wl,--eh-frame-hdr -Wl,--gc-sections
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS_DEV := $(BASE) $(WARN) -O0 -g -DWRAPP_DEV $(SAN)
CFLAGS_TEST := $(BASE) $(WARN) -O1 -g $(SAN)

SRCS     := $(wildcard init/*.c stream/*.c crash/*.c debug/*.c shim/*.c)
LIB_SRCS := $(filter-out init/main.c,$(SRCS))
CJSON    := $(B)/src/cjson/cJSON.c
UNIT_SRCS := $(wildcard tests/unit/*.c)
FUZZERS  := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 30

# Debian packages the build, the tests, the benchmarks and the tools need.
DEPS_PKGS := build-essential pkg-config dpkg-dev libhiredis-dev clang clang-tidy clang-format cppcheck \
             libclang-rt-14-dev check python3 python3-pytest python3-redis \
             python3-pytest-timeout redis-server redis-tools util-linux procps \
             tini catatonit dumb-init gdb gdbserver elfutils musl-tools libcap2-bin \
             libunwind-dev liblzma-dev libdw-dev libelf-dev zlib1g-dev libbz2-dev libzstd-dev \
             libseccomp-dev libssl-dev


.PHONY: all release dev install install-dev clean help deps test unit integration lint format \
        tidy cppcheck analyze fuzz bench demo cjson check-aarch64 cross-deps test-images image-deps

all release: $(B)/wrapp

help:
	@echo "make [release]    static release binary build/wrapp"
	@echo "make dev          debug build build/wrapp-debug (-O0 -g, ASan/UBSan, [DEBUG] timestamps)"
	@echo "make deps         install the Debian packages everything here needs"
	@echo "make test         deps, unit tests (Check, ASan/UBSan), integration tests (pytest, PID 1)"
	@echo "make demo         deps, then an example app under wrapp as PID 1"
	@echo "make bench        wrapp against tini-static, catatonit and dumb-init; and streaming"
	@echo "                  against redis-benchmark and a synchronous XADD loop; crash reports"
	@echo "                  against eu-stack and gdb, supervision overhead"
	@echo "make fuzz         libFuzzer harnesses, FUZZ_SECONDS each (default $(FUZZ_SECONDS))"
	@echo "make lint         clang-format check, clang-tidy, cppcheck"
	@echo "make check-aarch64  aarch64 core layouts and note encoding, cross-built and run under"
	@echo "                  qemu-aarch64 (installs gcc-aarch64-linux-gnu and qemu-user if missing)"
	@echo "make ARCH=aarch64 the static aarch64 build/aarch64/wrapp (Cortex-A78AE, Jetson Orin),"
	@echo "                  from Debian's arm64 packages; check-aarch64 runs its --version"
	@echo "make test-images  the images (Containerfile, Containerfile.ubuntu22) built with podman"
	@echo "                  against a local Debian base, and run: PID 1, Redis, crash, gdbserver"
	@echo "make format       clang-format in place;  make analyze: gcc -fanalyzer"
	@echo "make install / install-dev   into PREFIX/bin (default /usr/local)"
	@echo "make clean        remove build/"

# $(call install_missing,WHO,PACKAGES): apt-get install those not installed yet.
define install_missing
	$(Q)missing=$$(for p in $(2); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "$(1): installing$$(echo $$missing | sed 's/^/ /')"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call install_missing,deps,$(DEPS_PKGS))

# cJSON: Debian ships no static archive; build Debian's source package in.
$(CJSON):
	$(Q)bash mk/debsrc.sh cjson $(B)/src
cjson: $(CJSON)

$(B)/obj/%.o: %.c | $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_RELEASE) -c $< -o $@
$(B)/obj/cJSON.o: $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu17 -O2 -DNDEBUG -ffunction-sections -fdata-sections -c $< -o $@

$(B)/wrapp: $(patsubst %.c,$(B)/obj/%.o,$(SRCS)) $(B)/obj/cJSON.o
	$(Q)$(CC) $(LDFLAGS_RELEASE) -o $@ $^ $(LIBS)
	@echo "built $@ ($$(stat -c %s $@) bytes, static)"

$(B)/dev/%.o: %.c | $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_DEV) -c $< -o $@
$(B)/dev/cJSON.o: $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu17 -O0 -g $(SAN) -c $< -o $@

dev: $(B)/wrapp-debug
$(B)/wrapp-debug: $(patsubst %.c,$(B)/dev/%.o,$(SRCS)) $(B)/dev/cJSON.o
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS)

install: $(B)/wrapp
	install -D -m 0755 $(B)/wrapp $(DESTDIR)$(PREFIX)/bin/wrapp
install-dev: $(B)/wrapp-debug
	install -D -m 0755 $(B)/wrapp-debug $(DESTDIR)$(PREFIX)/bin/wrapp-debug

# Unit tests: Check, ASan/UBSan, dynamic.
$(B)/test/%.o: %.c | $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_TEST) $$(pkg-config --cflags check) -c $< -o $@
$(B)/test/cJSON.o: $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu17 -O1 -g $(SAN) -c $< -o $@
$(B)/unit: $(patsubst %.c,$(B)/test/%.o,$(LIB_SRCS) $(UNIT_SRCS)) $(B)/test/cJSON.o
	$(Q)$(CC) $(SAN) -o $@ $^ $$(pkg-config --libs check) $(LIBS)

$(B)/testapp: tests/apps/testapp.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu17 -D_GNU_SOURCE $(WARN) -O2 -static -o $@ $<

# The crash tests' app: dynamic, static without --eh-frame-hdr, and musl.
CRASHAPP_FLAGS := -std=gnu17 -D_GNU_SOURCE $(WARN) -O0 -g -pthread
$(B)/crashapp: tests/apps/crashapp.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CRASHAPP_FLAGS) -o $@ $<
$(B)/crashapp-static: tests/apps/crashapp.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CRASHAPP_FLAGS) -static -o $@ $<
$(B)/crashapp-musl: tests/apps/crashapp.c
	@mkdir -p $(dir $@)
	$(Q)musl-gcc $(CRASHAPP_FLAGS) -static -o $@ $<
$(B)/noptrace: tests/apps/noptrace.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu17 -D_GNU_SOURCE $(WARN) -O2 -o $@ $< -lseccomp
CRASHAPPS := $(B)/crashapp $(B)/crashapp-static $(B)/crashapp-musl $(B)/noptrace

unit: $(B)/unit
	$(Q)CK_DEFAULT_TIMEOUT=10 $(B)/unit

integration: $(B)/wrapp $(B)/testapp $(CRASHAPPS)
	$(Q)WRAPP=$(CURDIR)/$(B)/wrapp TESTAPP=$(CURDIR)/$(B)/testapp CRASHAPP=$(CURDIR)/$(B)/crashapp \
	  NOPTRACE=$(CURDIR)/$(B)/noptrace \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test: deps
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration

# Static analysis and formatting.
C_FILES = $(SRCS) $(wildcard init/*.h stream/*.h crash/*.h debug/*.h shim/*.h) $(UNIT_SRCS) \
          $(wildcard tests/unit/*.h tests/apps/*.c tests/fuzz/*.c tests/bench/*.c tests/cross/*.c)
format:
	clang-format -i $(C_FILES)
lint: tidy cppcheck
	clang-format --dry-run -Werror $(C_FILES)
tidy: | $(CJSON)
	clang-tidy --quiet $(SRCS) -- $(BASE) $(WARN)
cppcheck:
	cppcheck --quiet --enable=warning,style,performance,portability --std=c11 --inline-suppr \
	  --error-exitcode=1 --suppress=missingIncludeSystem -D_GNU_SOURCE -Iinit -Istream -Icrash -Idebug -Ishim $(SRCS)
analyze: | $(CJSON)
	$(Q)for f in $(SRCS); do $(CC) $(BASE) $(WARN) -fanalyzer -fsyntax-only $$f || exit 1; done

# libFuzzer harnesses (clang), each run for FUZZ_SECONDS.
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	  -Iinit -Istream -Icrash -Idebug -Ishim -isystem $(B)/src/cjson -isystem /usr/include/hiredis -o $@ $< \
	  $(LIB_SRCS) $(CJSON) $(LIBS)
fuzz: $(FUZZERS)
	$(Q)for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p $(B)/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 -print_final_stats=1 $(B)/fuzz/corpus-$$n tests/fuzz/corpus/$$n \
	    2>$(B)/fuzz/$$n.log || { tail -40 $(B)/fuzz/$$n.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' $(B)/fuzz/$$n.log | tail -2; done

# The aarch64 core layouts and note encoding, checked at run time on aarch64:
# cross-built static with Debian's gcc-aarch64-linux-gnu and run under
# qemu-aarch64 (user mode). Not part of `make test`: its packages are only
# installed here. CROSS_SRCS is what corenotes.c needs to link.
CROSS_PKGS := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
CROSS_CC   ?= aarch64-linux-gnu-gcc
CROSS_SRCS := tests/cross/check_aarch64.c crash/arch_aarch64.c crash/corenotes.c crash/coremaps.c \
              crash/procinfo.c init/fdio.c init/log.c
CROSS_CFLAGS := -std=gnu17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinit -Istream -Icrash $(WARN) \
              -O1 -g -static

cross-deps:
	$(call install_missing,cross-deps,$(CROSS_PKGS))

$(B)/cross/check_aarch64: $(CROSS_SRCS) $(wildcard crash/*.h init/*.h) | cross-deps
	@mkdir -p $(dir $@)
	$(Q)$(CROSS_CC) $(CROSS_CFLAGS) -o $@ $(CROSS_SRCS)

# qemu-aarch64 if installed, else the kernel's binfmt_misc handler.
check-aarch64: $(B)/cross/check_aarch64
	$(Q)if command -v qemu-aarch64 >/dev/null; then qemu-aarch64 $<; \
	elif [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then $<; \
	else echo "check-aarch64: neither qemu-aarch64 nor a binfmt_misc handler for aarch64"; exit 1; fi

# make ARCH=aarch64: the static aarch64 build/aarch64/wrapp (also checked by check-aarch64).
include mk/aarch64.mk

bench: deps $(B)/wrapp $(B)/testapp $(B)/crashapp
	$(Q)bash tests/bench/bench.sh $(CURDIR)/$(B)/wrapp
	$(Q)bash tests/bench/stream.sh $(CURDIR)/$(B)/wrapp $(CURDIR)/$(B)/testapp
	$(Q)bash tests/bench/crash.sh $(CURDIR)/$(B)/wrapp $(CURDIR)/$(B)/crashapp
	$(Q)bash tests/bench/core.sh $(CURDIR)/$(B)/wrapp $(CURDIR)/$(B)/crashapp
	$(Q)bash tests/bench/fleet.sh $(CURDIR)/$(B)/wrapp $(CURDIR)/$(B)/testapp

demo: deps $(B)/wrapp $(B)/testapp $(B)/crashapp
	$(Q)bash examples/demo.sh $(CURDIR)/$(B)/wrapp $(CURDIR)/$(B)/testapp $(CURDIR)/$(B)/crashapp

include mk/images.mk

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj $(B)/dev $(B)/test -type f -name '*.d' 2>/dev/null)

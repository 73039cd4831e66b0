# SPDX-License-Identifier: MIT
# make ARCH=aarch64 (or make aarch64): the static release binary for aarch64,
# build/aarch64/wrapp, cross-built with Debian's gcc-aarch64-linux-gnu and
# tuned like the Go wrapp's arm64 build (GOARM64=v8.2,crypto,lse) for the
# Jetson Orin's Cortex-A78AE. The libraries are Debian's arm64 -dev
# packages, unpacked into build/aarch64/sysroot by mk/arm64sysroot.sh
# (nothing is installed); glibc is the cross toolchain's; cJSON is the same
# Debian source package the native build compiles in. `make check-aarch64`
# also checks the result (mk/check-aarch64.sh). Included by the Makefile
# after CROSS_PKGS/CROSS_CC.
A64        := $(B)/aarch64
A64_ROOT   := $(A64)/sysroot
A64_PKGS   := libhiredis-dev libseccomp-dev libunwind-dev libdw-dev libelf-dev zlib1g-dev \
              liblzma-dev libbz2-dev libzstd-dev libssl-dev
AARCH64_CPU ?= -march=armv8.2-a+crypto+lse -mtune=cortex-a78ae
A64_CFLAGS := $(subst /usr/include/hiredis,$(A64_ROOT)/usr/include/hiredis,$(CFLAGS_RELEASE)) \
              $(AARCH64_CPU) -isystem $(A64_ROOT)/usr/include/aarch64-linux-gnu \
              -isystem $(A64_ROOT)/usr/include
A64_LIBS   := -L$(A64_ROOT)/usr/lib/aarch64-linux-gnu $(LIBS)

.PHONY: aarch64 aarch64-deps check-aarch64-wrapp
ifeq ($(ARCH),aarch64)
.DEFAULT_GOAL := aarch64
endif
aarch64: $(A64)/wrapp

aarch64-deps: cross-deps $(A64_ROOT)/.stamp
$(A64_ROOT)/.stamp: mk/arm64sysroot.sh
	$(Q)bash mk/arm64sysroot.sh $(A64_ROOT) $(A64_PKGS)

$(A64)/obj/%.o: %.c | aarch64-deps $(CJSON)
	@mkdir -p $(dir $@)
	$(Q)$(CROSS_CC) $(A64_CFLAGS) -c $< -o $@
$(A64)/obj/cJSON.o: $(CJSON) | aarch64-deps
	@mkdir -p $(dir $@)
	$(Q)$(CROSS_CC) -std=gnu17 -O2 -DNDEBUG -ffunction-sections -fdata-sections $(AARCH64_CPU) \
	  -c $< -o $@

$(A64)/wrapp: $(patsubst %.c,$(A64)/obj/%.o,$(SRCS)) $(A64)/obj/cJSON.o
	$(Q)$(CROSS_CC) $(LDFLAGS_RELEASE) -o $@ $^ $(A64_LIBS)
	@echo "built $@ ($$(stat -c %s $@) bytes, static, aarch64)"

# What x86_64 can check: a static ELF64 AArch64 executable whose --version
# and a plain init run (Redis, a marker, the exit status) work under qemu-user.
check-aarch64-wrapp: $(A64)/wrapp
	$(Q)bash mk/check-aarch64.sh $< $(VERSION)
check-aarch64: check-aarch64-wrapp

-include $(shell find $(A64)/obj -type f -name '*.d' 2>/dev/null)

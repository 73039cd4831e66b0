# SPDX-License-Identifier: MIT
# Container images and their tests, included by the Makefile.
#
# `make test-images` builds Containerfile and Containerfile.ubuntu22 with
# `podman build --pull=never` against a Debian 12 base made here
# (debootstrap --variant=minbase from the machine's own Debian mirror, see
# mk/mkbase.sh), then runs tests/images under pytest: the images run the
# test apps as PID 1 against a real redis-server on the host network.
# No image registry is contacted. The base's tarball is cached in
# build/images/ and imported into podman's storage once per version of mkbase.sh.
# tests/images/containers.conf holds the podman settings this kind of host
# needs (runc, rlimits below the hard limits); /etc is never changed.

IMAGE_PKGS    := podman runc debootstrap debian-archive-keyring catatonit redis-server \
                 python3-pytest python3-pytest-timeout python3-redis python3-yaml gdb \
                 podman-compose golang-github-containernetworking-plugin-dnsname
IMAGES_DIR    := $(B)/images
IMAGE_SUITE   := bookworm
IMAGE_BASE    ?= localhost/wrapp-base:$(IMAGE_SUITE)
IMAGE_WRAPP   ?= localhost/wrapp:test
IMAGE_UBUNTU  ?= localhost/wrapp-ubuntu22:test
CONTAINERS_CONF_FILE := $(CURDIR)/tests/images/containers.conf
PODMAN        := CONTAINERS_CONF=$(CONTAINERS_CONF_FILE) podman
# Builds use the host's network: RUN steps reach the Debian archive, and no
# container network (CNI/netavark) needs to work for that.
PODMAN_BUILD  := $(PODMAN) build --pull=never --network=host --layers

image-deps:
	$(call install_missing,image-deps,$(IMAGE_PKGS))

$(IMAGES_DIR)/$(IMAGE_SUITE).tar: mk/mkbase.sh | image-deps
	$(Q)bash mk/mkbase.sh $(IMAGE_SUITE) $@

# $(call tenths,VAR): shell code printing the seconds since $$VAR (from
# date +%s%N) with one decimal.
tenths = d=$$(( ($$(date +%s%N) - $$$(1)) / 100000000 )); echo "$$((d / 10)).$$((d % 10))"

# The base is made once per version of mk/mkbase.sh: the imported image is
# labelled with the script's hash, so a fresh clone on a machine whose podman
# already holds it skips debootstrap (`podman rmi $(IMAGE_BASE)` forces a new
# one). The tarball is made only when an import is needed.
images-base: | image-deps
	$(Q)want=$$(sha256sum <mk/mkbase.sh | cut -c1-16)-$(IMAGE_SUITE); \
	have=$$($(PODMAN) image inspect --format '{{index .Labels "wrapp.mkbase"}}' $(IMAGE_BASE) \
	  2>/dev/null || true); \
	if [ "$$have" != "$$want" ]; then \
	  $(MAKE) --no-print-directory $(IMAGES_DIR)/$(IMAGE_SUITE).tar && \
	  t0=$$(date +%s%N) && \
	  $(PODMAN) import --quiet --change 'CMD ["/bin/bash"]' --change "LABEL wrapp.mkbase=$$want" \
	    $(IMAGES_DIR)/$(IMAGE_SUITE).tar $(IMAGE_BASE) >/dev/null && \
	  echo "images: imported $(IMAGE_BASE) in $$($(call tenths,t0)) s"; \
	fi

# $(call image_build,FILE,TAG,BUILD-ARGS): build, log to build/images, time it.
define image_build
	$(Q)mkdir -p $(IMAGES_DIR); t0=$$(date +%s%N); log=$(IMAGES_DIR)/build-$(notdir $(1)).log; \
	if $(PODMAN_BUILD) -f $(1) -t $(2) $(3) . >$$log 2>&1; then \
	  echo "images: built $(2) from $(1) in $$($(call tenths,t0)) s"; \
	else tail -n 30 $$log; echo "images: building $(1) failed (full log: $$log)"; exit 1; fi
endef

# The Ubuntu variant is built on the Debian base here (no registry); its
# package names are valid in both.
images: images-base
	$(call image_build,Containerfile,$(IMAGE_WRAPP),--build-arg BASE=$(IMAGE_BASE))
	$(call image_build,Containerfile.ubuntu22,$(IMAGE_UBUNTU),\
	  --build-arg BUILDER=$(IMAGE_BASE) --build-arg BASE=$(IMAGE_BASE))

test-images: image-deps
	$(Q)t0=$$(date +%s); \
	$(MAKE) --no-print-directory images $(B)/testapp $(B)/crashapp-static && \
	CONTAINERS_CONF=$(CONTAINERS_CONF_FILE) IMAGE_BASE=$(IMAGE_BASE) IMAGE_WRAPP=$(IMAGE_WRAPP) \
	  IMAGE_UBUNTU=$(IMAGE_UBUNTU) \
	  TESTAPP=$(CURDIR)/$(B)/testapp CRASHAPP_STATIC=$(CURDIR)/$(B)/crashapp-static \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/images; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; rc=1; fi; \
	echo "images: test-images finished in $$(( $$(date +%s) - t0 )) s (rc $$rc)"; exit $$rc

.PHONY: images images-base

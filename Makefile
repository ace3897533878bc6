# SPDX-License-Identifier: MIT
#
# sbx build. Quick reference:
#   make [all]            build OUTPUT/sbx (BPF objects, skeletons, CLI)
#   make deps             install the Debian packages the build and tests need
#   make test             deps + build + every test layer (unit under ASan/UBSan,
#                         fuzz corpus replay, toml-test corpus, integration, VM)
#   make toml-test        the toml-test conformance corpus against policy/toml.c
#   make demo             deps + build + a live demonstration
#   make fuzz             run every libFuzzer target for FUZZ_TIME seconds each
#   make vmlinux          regenerate vmlinux/$(ARCH)/vmlinux.h from kernel BTF
#   make vmlinux-arm64    regenerate vmlinux/arm64/vmlinux.h from Debian's arm64 kernel
#   make bpf-arm64        compile and link the BPF programs for arm64 (part of check)
#   make bench [QUICK=1]  performance suite vs unshare/bwrap/firejail/runsc (root):
#                         bench/results/<stamp>.json + .png, docs/performance.md
#   make vmtest           the BPF LSM tests in Debian 6.1 and 6.12 guests (qemu)
#   make install          PREFIX=/usr/local DESTDIR=; the examples also go to
#                         /etc/sbx/policy.d (existing files there are kept)
#   make uninstall        removes what install put there (same PREFIX/DESTDIR);
#                         edited files in /etc/sbx/policy.d are kept
#   make deb              Debian packages in OUTPUT/deb (docs/install.md)
#   make clean
# Variables: OUTPUT=dir (out-of-tree build), V=1 (show commands),
#            WERROR=1 (warnings are errors; CI sets it).

OUTPUT ?= $(CURDIR)/build
override OUTPUT := $(abspath $(OUTPUT))
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_TIME ?= 60
QUICK ?= 0

CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
  Q :=
  msg =
else
  Q := @
  msg = @printf '  %-9s %s\n' "$(1)" "$(patsubst $(OUTPUT)/%,%,$(2))";
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
	-Wstrict-prototypes -Wformat=2 -Wvla -Wno-format-truncation
ifeq ($(WERROR),1)
  WARN += -Werror
endif

# -iquote: project headers never shadow system ones. user/ headers are named by
# their layer ("core/run.h", "kernel/cgroup.h"), so an include says what it
# depends on; docs/architecture.md lists which layer may include which.
INCLUDES := -iquote $(OUTPUT) -iquote bpf/include -iquote policy -iquote user -iquote providers
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(INCLUDES) -D_GNU_SOURCE $(CFLAGS)
# libsystemd: sd-bus to ask systemd (PID 1) for a delegated scope,
# sd-daemon for sbxd's notify and socket activation and sd-journal's sendv
# (user/kernel/systemd.c). Only its headers are used at build time: it is
# dlopen()ed at its first use, so that a start that needs none of it does
# not load it and the five libraries it pulls in (docs/performance.md).
# libnl-route-3 likewise: only a veth pair needs it (user/kernel/libnl.h).
LDLIBS := -lbpf -lelf -lz -lseccomp
# (test_netns probes for veth support with libnl itself)
UNIT_LDLIBS := $(shell $(PKG_CONFIG) --libs libnl-route-3.0 2>/dev/null)
ALL_CFLAGS += $(shell $(PKG_CONFIG) --cflags libnl-route-3.0 libsystemd 2>/dev/null)
# json-c: the varlink messages of sbxd and libsbx (user/varlink)
LDLIBS += $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c)
ALL_CFLAGS += $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

# Sources: policy/, user/{util,kernel,core}/, providers/, user/cli/ and
# user/oci/ except their main.c form the library that the CLI, the unit tests and the fuzzers link.
POLICY_SRCS := $(sort $(wildcard policy/*.c))
USER_LAYERS := util dns kernel core cli varlink libsbx oci
CORE_SRCS := $(POLICY_SRCS) \
	$(sort $(filter-out user/cli/main.c user/oci/main.c,$(foreach l,$(USER_LAYERS),$(wildcard user/$(l)/*.c)))) \
	$(sort $(wildcard providers/*.c))
CORE_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(CORE_SRCS))
SAN_OBJS := $(patsubst %.c,$(OUTPUT)/san/%.o,$(CORE_SRCS))
HDRS := $(wildcard bpf/include/*.h policy/*.h $(foreach l,$(USER_LAYERS),user/$(l)/*.h) providers/*.h)
# sbxd: user/daemon on top of the library; its interface description is
# compiled in as a C string (OUTPUT/org.sbx.Manager.varlink.inc).
DAEMON_SRCS := $(sort $(wildcard user/daemon/*.c))
DAEMON_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(DAEMON_SRCS))

# The sbx object is linked from these units (bpf/<unit>.bpf.c); probe.bpf.c
# is an object of its own (user/kernel/features.c).
BPF_SBX_UNITS := maps net lsm syscalls tc
SKELS := $(OUTPUT)/sbx.skel.h $(OUTPUT)/probe.skel.h
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
VMLINUX_ARM64_PKG := linux-image-6.12-arm64

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))

DEB_PKGS := make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev \
	libseccomp-dev libnl-3-dev libnl-route-3-dev libcmocka-dev libclang-rt-14-dev libjson-c-dev libsystemd-dev \
	iproute2 jq python3 bc iperf3 musl-tools \
	qemu-system-x86 busybox-static cpio xz-utils zstd systemd dbus \
	runsc wabt bubblewrap firejail gnuplot-nox strace valgrind \
	nodejs golang-github-burntsushi-toml-dev git curl zsh dpkg-dev lintian \
	golang-go golang-github-varlink-go-dev varlink-go \
	libmicrohttpd-dev prometheus logrotate procps dnsmasq-base bind9-dnsutils \
	podman conmon runc crun containerd containernetworking-plugins
# musl-tools: the static sbx-init (providers/init/sbx-init.c).
# nodejs: node:wasi runs the WASM tests' modules (Debian 12 ships Node.js 18);
# golang-github-burntsushi-toml-dev: the toml-test corpus of `make toml-test`.
# golang-go, golang-github-varlink-go-dev, varlink-go: the varlink interop
# tests (tests/interop/goclient, varlink-go-certification).
# logrotate, procps: docs/logrotate/sbx (pkill) and its test (test_audit_rotation).
# git, curl: tests/integration/test_grants.sh clones into granted paths over HTTP.
# libmicrohttpd-dev: sbxd's metrics endpoint (metrics_listen); prometheus:
# promtool, which tests/integration/test_metrics.sh checks the metrics and
# docs/monitoring/sbx-alerts.yml with.
# dnsmasq-base, bind9-dnsutils: the upstream DNS server and dig of the host-name
# tests (tests/integration/test_dns.sh).
# zsh: tests/integration/test_completion.sh drives the zsh completion.
# dpkg-dev, lintian: make deb (docs/debian/mkdeb.sh) and its test (tests/deb/).
# podman, conmon, runc, containerd (ctr, containerd-shim-runc-v2): the callers of
# sbx-oci and the reference runtime (runc: test_oci_lifecycle.sh runs every
# case against runc too) (tests/integration/test_oci_podman.sh,
# test_oci_containerd.sh; busybox-static builds their rootfs, tests/oci/);
# containernetworking-plugins: podman's default network (the tests use the
# host's); crun: the third runtime of bench/oci.sh (it refuses a hybrid
# cgroup layout, and the bench says so).
# systemd, dbus: PID 1 and the system bus of the VM boot with systemd
# (tests/vm/vmtest.sh -i systemd boots the host's own /lib/systemd/systemd).

.PHONY: libsbx all deps test check lint unit fuzz-replay toml-test fuzz demo vmlinux vmlinux-arm64 \
	bpf-arm64 install uninstall deb debtest completion clean vmtest integration bench fixtures

all: $(OUTPUT)/sbx $(OUTPUT)/sbx-init $(OUTPUT)/sbxd $(OUTPUT)/sbx-oci libsbx completion

# ---- dependencies ---------------------------------------------------------
deps:
	$(Q)missing=; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "deps: missing packages:$$missing (run 'make deps' as root)" >&2; exit 1; \
		fi; \
		echo "  DEPS     installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "  DEPS     all $(words $(DEB_PKGS)) packages present"; \
	fi

# ---- BPF ------------------------------------------------------------------
# Each bpf/*.bpf.c is compiled on its own for one target arch (-MMD records
# the bpf/lib and bpf/include headers it read, in OUTPUT/bpf*/*.d). The sbx
# units are then linked into one object by libbpf's static linker (`bpftool
# gen object`), which resolves the maps they declare extern (bpf/lib/maps.h)
# against their one definition (bpf/maps.bpf.c); one skeleton, sbx_sbx, is
# generated from it. OUTPUT/bpf is the build for the host's ARCH;
# OUTPUT/bpf-arm64 keeps the same sources compiling and linking for arm64
# (bpf/lib/arch.h), which this machine cannot run.

# $(call bpf_rules,ARCH,DIR): compile and link rules for one target arch.
define bpf_rules
$(2)/%.bpf.o: bpf/%.bpf.c vmlinux/$(1)/vmlinux.h
	$$(call msg,BPF,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(1) -Wall -Werror \
		-Ivmlinux/$(1) -Ibpf/include -Ibpf/lib -MMD -MP -c $$< -o $$@
	$$(Q)$$(LLVM_STRIP) -g $$@

$(2)/sbx.bpf.o: $(patsubst %,$(2)/%.bpf.o,$(BPF_SBX_UNITS))
	$$(call msg,BPF-LINK,$$@)
	$$(Q)$$(BPFTOOL) gen object $$@ $$^
endef
$(eval $(call bpf_rules,$(ARCH),$(OUTPUT)/bpf))
$(eval $(call bpf_rules,arm64,$(OUTPUT)/bpf-arm64))
-include $(wildcard $(OUTPUT)/bpf/*.d $(OUTPUT)/bpf-arm64/*.d)

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sbx_$* > $@

# The arm64 skeleton is generated only to prove that libbpf accepts the
# linked object; nothing includes it.
bpf-arm64: $(OUTPUT)/bpf-arm64/sbx.bpf.o $(OUTPUT)/bpf-arm64/probe.bpf.o
	$(call msg,GEN-SKEL,$(OUTPUT)/bpf-arm64/sbx.skel.h)
	$(Q)$(BPFTOOL) gen skeleton $< name sbx_sbx > $(OUTPUT)/bpf-arm64/sbx.skel.h
	$(Q)SBX_TOTALS_DIR=$(OUTPUT)/test-totals; . tests/lib/totals.sh && totals_write bpf-arm64 1 0 0 </dev/null

# vmlinux/$(ARCH) from the running kernel's BTF.
vmlinux:
	$(call msg,GEN,$(VMLINUX))
	$(Q)mkdir -p $(dir $(VMLINUX))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp
	$(Q)mv $(VMLINUX).tmp $(VMLINUX)

# vmlinux/arm64 from the BTF in Debian's arm64 kernel image, fetched with apt
# (private state, no dpkg --add-architecture; see the script).
vmlinux-arm64:
	$(call msg,GEN,vmlinux/arm64/vmlinux.h)
	$(Q)vmlinux/btf-from-deb.sh arm64 $(VMLINUX_ARM64_PKG) vmlinux/arm64/vmlinux.h

# ---- user space -----------------------------------------------------------
# -MMD: each object records the headers it read (OUTPUT/**/*.d, included
# below); the skeletons are order-only so that the first build makes them.
$(OUTPUT)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/san/%.o: %.c | $(SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -MMD -MP -c $< -o $@

-include $(patsubst %.o,%.d,$(CORE_OBJS) $(SAN_OBJS) $(DAEMON_OBJS) $(OUTPUT)/obj/user/cli/main.o \
	$(OUTPUT)/obj/user/oci/main.o)

$(OUTPUT)/sbx: $(OUTPUT)/obj/user/cli/main.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# sbx-init (providers/init/): PID 1 of a process-provider sandbox once the
# workload runs, exec'd by sbx's init. Static, with musl where musl-gcc is
# (~32 KiB Pss against ~690 KiB for glibc's static start-up), mode 0755 and
# root's: sbx uses no sbx-init that another user could write.
INIT_CC := $(or $(shell command -v musl-gcc 2>/dev/null),$(CC))
$(OUTPUT)/sbx-init: providers/init/sbx-init.c
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(INIT_CC) -std=gnu11 $(WARN) -D_GNU_SOURCE -Os -static $< -o $@
	$(Q)chmod 0755 $@

# Shell completion, printed by the built sbx from its own verb table
# (user/cli/completion_cmd.c), so that it cannot drift from the CLI.
COMPLETIONS := $(OUTPUT)/completion/sbx.bash $(OUTPUT)/completion/_sbx
completion: $(COMPLETIONS)
$(OUTPUT)/completion/sbx.bash: $(OUTPUT)/sbx
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(OUTPUT)/sbx completion bash >$@
$(OUTPUT)/completion/_sbx: $(OUTPUT)/sbx
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(OUTPUT)/sbx completion zsh >$@

$(OUTPUT)/org.sbx.Manager.varlink.inc: user/daemon/org.sbx.Manager.varlink
	$(call msg,GEN,$@)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

$(OUTPUT)/obj/user/daemon/methods.o: $(OUTPUT)/org.sbx.Manager.varlink.inc

# sbx-oci: the OCI runtime (user/oci, docs/oci.md) on top of the library; its
# --version names sbx's version and the commit it was built from
OCI_COMMIT := $(or $(shell git rev-parse HEAD 2>/dev/null),unknown)
OCI_SBX_VERSION := $(shell sed -n 's/^\#define SBX_VERSION "\(.*\)"/\1/p' user/cli/cli.h)
$(OUTPUT)/obj/user/oci/main.o: ALL_CFLAGS += -DSBX_OCI_VERSION='"$(OCI_SBX_VERSION)"' \
	-DSBX_OCI_COMMIT='"$(OCI_COMMIT)"'
$(OUTPUT)/sbx-oci: $(OUTPUT)/obj/user/oci/main.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# libmicrohttpd: sbxd's metrics_listen (user/daemon/http.c); sbxd alone links it
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
$(OUTPUT)/sbxd: $(DAEMON_OBJS) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS) $(MHD_LIBS)

# ---- libsbx -----------------------------------------------------------------
# The client library of sbxd (docs/libsbx.md): position-independent objects
# of user/libsbx and the varlink framing, linked into libsbx.so.1 with a
# version script that exports sbx_* alone. libsbx.pc is for the installed
# library (PREFIX); libsbx-uninstalled.pc, which pkg-config prefers when
# PKG_CONFIG_PATH names OUTPUT, for programs built against OUTPUT. The sbx
# CLI links the same sources statically (user/libsbx is in USER_LAYERS).
LIBSBX_SRCS := $(sort $(wildcard user/libsbx/*.c)) user/varlink/varlink.c
LIBSBX_OBJS := $(patsubst %.c,$(OUTPUT)/pic/%.o,$(LIBSBX_SRCS))
LIBSBX_SO := $(OUTPUT)/libsbx.so.1
LIBSBX_VERSION := $(shell sed -n 's/^\#define SBX_VERSION "\(.*\)"/\1/p' user/cli/cli.h)
JSONC_LIBS := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c)

libsbx: $(LIBSBX_SO) $(OUTPUT)/libsbx.so $(OUTPUT)/libsbx.pc $(OUTPUT)/libsbx-uninstalled.pc \
	$(OUTPUT)/include/sbx/libsbx.h

$(OUTPUT)/pic/%.o: %.c
	$(call msg,CC-PIC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=default -MMD -MP -c $< -o $@

-include $(patsubst %.o,%.d,$(LIBSBX_OBJS))

$(LIBSBX_SO): $(LIBSBX_OBJS) user/libsbx/libsbx.map
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -shared -fPIC -Wl,-soname,libsbx.so.1 \
		-Wl,--version-script=user/libsbx/libsbx.map -Wl,--no-undefined \
		$(LIBSBX_OBJS) -o $@ $(JSONC_LIBS)

$(OUTPUT)/libsbx.so: $(LIBSBX_SO)
	$(Q)ln -sf libsbx.so.1 $@

$(OUTPUT)/include/sbx/libsbx.h: user/libsbx/libsbx.h
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# $(call libsbx_pc,PREFIX,INCLUDEDIR,LIBDIR)
libsbx_pc = printf '%s\n' 'prefix=$(1)' 'includedir=$(2)' 'libdir=$(3)' '' \
	'Name: libsbx' 'Description: client library of sbxd, the sbx daemon' \
	'Version: $(LIBSBX_VERSION)' 'Requires: json-c' 'Cflags: -I$${includedir}' \
	'Libs: -L$${libdir} -lsbx'

# checked on every make (PREFIX may differ from the last build's), replaced
# only when it changes
.PHONY: $(OUTPUT)/libsbx.pc
$(OUTPUT)/libsbx.pc:
	$(Q)mkdir -p $(@D)
	$(Q)$(call libsbx_pc,$(PREFIX),$${prefix}/include,$${prefix}/lib) >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(OUTPUT)/libsbx-uninstalled.pc: Makefile
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(call libsbx_pc,$(OUTPUT),$${prefix}/include,$${prefix}) >$@

# ---- tests ----------------------------------------------------------------

# Test tools that link the core (tests/integration/test_update.sh drives a
# live update from outside the sandbox's sbx run, as the daemon does;
# tests/integration/test_oci_rootfs.sh runs a container's setup by hand,
# test_oci_enforce.sh sbx-oci's enforcement without the CLI).
INTEG_TOOLS := $(OUTPUT)/tests/integration/update_tool $(OUTPUT)/tests/integration/oci_harness \
	$(OUTPUT)/tests/integration/oci_enforce_tool
$(OUTPUT)/tests/integration/%: tests/integration/%.c $(CORE_OBJS) $(HDRS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(CORE_OBJS) -o $@ $(LDLIBS)
# Bench tools that link the core (bench/policy.sh: load, plan and compile
# a large policy without making a sandbox).
$(OUTPUT)/bench/%: bench/core/%.c $(CORE_OBJS) $(HDRS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(CORE_OBJS) -o $@ $(LDLIBS)
$(OUTPUT)/tests/%: tests/unit/%.c $(SAN_OBJS) $(HDRS) tests/unit/testutil.h
	$(call msg,LINK-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -iquote tests/unit $< $(SAN_OBJS) -o $@ -lcmocka $(LDLIBS) \
		$(UNIT_LDLIBS)

# bench/ helpers that measure sbx's own code link the core (bench/lib.sh
# builds the standalone ones)
BENCH_TOOLS := $(OUTPUT)/bench/audit_writer
$(OUTPUT)/bench/%: bench/tools/%.c $(CORE_OBJS) $(HDRS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(CORE_OBJS) -o $@ $(LDLIBS)

# the example consumer is compiled into its test
$(OUTPUT)/tests/test_consumer: docs/examples/sbx-consumer.c

# The fuzzers link the policy reader, the toolbox below it (user/util/util.c)
# and the DNS wire format (user/dns/dnsmsg.c, fuzz_dns); fuzz_oci_spec adds
# sbx-oci's config.json reader.
FUZZ_LIB_SRCS := $(POLICY_SRCS) user/util/util.c user/dns/dnsmsg.c
$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(HDRS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $(INCLUDES) -D_GNU_SOURCE $(FUZZ_EXTRA_CFLAGS) $< $(FUZZ_LIB_SRCS) \
		$(FUZZ_EXTRA_SRCS) -o $@ $(FUZZ_EXTRA_LIBS)
# fuzz_oci_spec: sbx-oci's config.json reader, over json-c and libseccomp
OCI_SPEC_SRCS := $(sort $(wildcard user/oci/spec*.c))
$(OUTPUT)/fuzz/fuzz_oci_spec: $(OCI_SPEC_SRCS)
$(OUTPUT)/fuzz/fuzz_oci_spec: FUZZ_EXTRA_SRCS := $(OCI_SPEC_SRCS)
$(OUTPUT)/fuzz/fuzz_oci_spec: FUZZ_EXTRA_CFLAGS := $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)
$(OUTPUT)/fuzz/fuzz_oci_spec: FUZZ_EXTRA_LIBS := $(JSONC_LIBS) -lseccomp

test:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory check

# Every layer runs, even after another failed; each writes its totals to
# OUTPUT/test-totals (tests/lib/totals.sh), and tests/summary.sh prints them,
# each skip's reason, and fails on a failure, on a layer that did not run,
# on a layer skipped under SBX_REQUIRE=1 (.ci/run), and when fewer cases ran
# than tests/floor.txt records.
# The VM layer (qemu TCG, CPU-bound) runs beside the integration layer (mostly
# waiting on sandboxes), each in its own sbx instance: together they take
# about as long as the VM layer alone. Its output is held in
# OUTPUT/vmtest.log and printed when it ends, so the two do not interleave.
# Both layers' scripts are called directly, once everything they need is
# built: two makes at once would both remake the phony libsbx.pc and the deb.
# Sharing the CPU, a guest takes about 1.5 times as long: its limits (per
# boot, per test file) are doubled here.
TEST_LAYERS := lint bpf-arm64 unit fuzz-replay toml-test integration vmtest debtest
check: all deb $(PVH_FIXTURE) $(INTEG_TOOLS)
	$(Q)rm -rf $(OUTPUT)/test-totals
	$(Q)rc=0; $(MAKE) --no-print-directory -k lint bpf-arm64 unit fuzz-replay toml-test || rc=1; \
		rm -f $(OUTPUT)/vmtest.rc; \
		( SBX_VMTEST_TIMEOUT=$${SBX_VMTEST_TIMEOUT:-1800} SBX_VM_TEST_TIMEOUT=$${SBX_VM_TEST_TIMEOUT:-600} \
		  OUTPUT=$(OUTPUT) bash tests/vm/run.sh >$(OUTPUT)/vmtest.log 2>&1; \
		  echo $$? >$(OUTPUT)/vmtest.rc.tmp; mv $(OUTPUT)/vmtest.rc.tmp $(OUTPUT)/vmtest.rc ) & vm=$$!; \
		SBX_TEST_AFTER=$(OUTPUT)/vmtest.rc OUTPUT=$(OUTPUT) bash tests/run-integration.sh || rc=1; \
		wait $$vm; cat $(OUTPUT)/vmtest.log; [ "$$(cat $(OUTPUT)/vmtest.rc)" = 0 ] || rc=1; \
		$(MAKE) --no-print-directory debtest || rc=1; \
		OUTPUT=$(OUTPUT) bash tests/summary.sh $(TEST_LAYERS) || rc=1; exit $$rc

lint:
	$(Q)p=0; x=0; for t in tests/lint/layers.sh tests/lint/bpf_lib.sh; do \
		if bash $$t; then p=$$((p + 1)); else x=$$((x + 1)); fi; done; \
		SBX_TOTALS_DIR=$(OUTPUT)/test-totals; . tests/lib/totals.sh && totals_write lint $$p $$x 0 </dev/null; [ $$x = 0 ]

integration: all $(PVH_FIXTURE) $(INTEG_TOOLS)
	$(Q)OUTPUT=$(OUTPUT) bash tests/run-integration.sh

# The unikernel provider's test image (tests/fixtures/pvh/): a freestanding
# 32-bit PVH ELF, since Debian packages no unikernel toolchain.
PVH_FIXTURE := $(OUTPUT)/fixtures/pvh.elf
PVH_SRCS := tests/fixtures/pvh/start.S tests/fixtures/pvh/fixture.c
PVH_CFLAGS := -m32 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-nostdlib -O2 -Wall -Wextra -Werror
fixtures: $(PVH_FIXTURE)
$(PVH_FIXTURE): $(PVH_SRCS) tests/fixtures/pvh/link.ld
	$(call msg,PVH-LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PVH_CFLAGS) -c tests/fixtures/pvh/start.S -o $(@D)/pvh-start.o
	$(Q)$(CC) $(PVH_CFLAGS) -c tests/fixtures/pvh/fixture.c -o $(@D)/pvh-fixture.o
	$(Q)$(LD) -m elf_i386 -nostdlib --no-warn-rwx-segments -T tests/fixtures/pvh/link.ld \
		$(@D)/pvh-start.o $(@D)/pvh-fixture.o -o $@

# deb: tests/vm/test_systemd_deb.sh installs the packages in the systemd guest
vmtest: all deb
	$(Q)OUTPUT=$(OUTPUT) bash tests/vm/run.sh

# the packages of make deb installed with dpkg here, used and purged
debtest: deb
	$(Q)OUTPUT=$(OUTPUT) bash tests/deb/test_deb.sh

bench: all $(BENCH_TOOLS)
	$(Q)QUICK=$(QUICK) OUTPUT=$(OUTPUT) bench/run.sh

unit: $(UNIT_BINS) $(OUTPUT)/sbx
	$(Q)OUTPUT=$(OUTPUT) bash tests/run-unit.sh $(UNIT_BINS)

# Each input of each fuzzer's corpus is a case; a fuzzer without a corpus
# fails (the corpus is part of the tree).
fuzz-replay: $(FUZZ_BINS)
	$(Q)p=0; x=0; for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); d=tests/fuzz/corpus/$${n#fuzz_}; \
		k=$$(find $$d -type f 2>/dev/null | wc -l); \
		echo "  FUZZ-REPLAY $$n ($$k inputs)"; \
		if [ $$k = 0 ]; then echo "FAIL fuzz-replay $$n: no corpus in $$d"; x=$$((x + 1)); continue; fi; \
		if find $$d -type f -print0 | xargs -0 -r -n 500 $$f -runs=1 >$(OUTPUT)/fuzz/$$n.replay.log 2>&1; \
		then p=$$((p + k)); else tail -40 $(OUTPUT)/fuzz/$$n.replay.log; x=$$((x + 1)); fi; \
	done; \
	SBX_TOTALS_DIR=$(OUTPUT)/test-totals; . tests/lib/totals.sh && totals_write fuzz-replay $$p $$x 0 </dev/null; [ $$x = 0 ]

# The toml-test corpus (Debian's golang-github-burntsushi-toml-dev) against
# policy/toml.c; known deviations in tests/toml-test/deviations.txt.
$(OUTPUT)/tests/toml-decoder: tests/toml-test/decoder.c $(POLICY_SRCS) $(HDRS)
	$(call msg,LINK-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) $< policy/toml.c -o $@ -lm

toml-test: $(OUTPUT)/tests/toml-decoder
	$(Q)echo "  TOML-TEST"
	$(Q)SBX_TOTALS_DIR=$(OUTPUT)/test-totals ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		python3 tests/toml-test/run.py $<

fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); d=tests/fuzz/corpus/$${n#fuzz_}; mkdir -p $$d $(OUTPUT)/fuzz/$$n.new; \
		echo "  FUZZ     $$n for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 \
			-artifact_prefix=$(OUTPUT)/fuzz/$$n- $(OUTPUT)/fuzz/$$n.new $$d || exit 1; \
	done

demo:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)OUTPUT=$(OUTPUT) tests/demo.sh

# ---- install / clean ------------------------------------------------------
# user/install.sh holds the one list of installed files that both install
# and uninstall walk (docs/install.md): binaries, libsbx, man pages, units,
# completion, the microvm guest builder (PREFIX/lib/sbx) and the examples,
# which also go to the policy directory that `sbx run` reads without
# --policy (user/cli/policy_source.h), each only when no file of that name
# is there: an operator's edited copy is never overwritten, and uninstall
# keeps it.
POLICY_DIR := /etc/sbx/policy.d
# sbxd's units (docs/systemd/), with @SBINDIR@ replaced by $(PREFIX)/sbin
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
INSTALL_ENV = OUTPUT=$(OUTPUT) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) POLICY_DIR=$(POLICY_DIR) \
	SYSTEMD_UNIT_DIR=$(SYSTEMD_UNIT_DIR) ZSH_COMPLETION_DIR=$(ZSH_COMPLETION_DIR)

install: all
	$(Q)$(INSTALL_ENV) sh user/install.sh install

uninstall:
	$(Q)$(INSTALL_ENV) sh user/install.sh uninstall

# Debian packages sbx, libsbx1 and libsbx-dev in OUTPUT/deb, from make install
# DESTDIR=... PREFIX=/usr (docs/debian/mkdeb.sh, docs/install.md)
deb: all
	$(Q)OUTPUT=$(OUTPUT) MAKE="$(MAKE)" bash docs/debian/mkdeb.sh

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

# SPDX-License-Identifier: GPL-2.0
# kvmrt: eBPF observability and control for real-time guests on KVM.
#   make deps    install missing Debian packages (build and tests)
#   make         build everything into build/
#   make test    unit, BPF and end-to-end tests (root and /dev/kvm for the latter two)
#   make demo    a 10 s kvmrt trace over kvmrt-guest, with a CPU hog for part of it
#   make install DESTDIR= PREFIX=   (the binaries, images, dashboards, man pages,
#                units, completion: what the Debian package holds)
#   make deb     the Debian package, built by dpkg-buildpackage into build/deb
.DELETE_ON_ERROR:
.SUFFIXES:

OUT := build
PREFIX ?= /usr/local
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH := x86

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -Werror -std=gnu11
# the agent's layers, lowest first (include/: what BPF and the agent both compile)
SRC_DIRS := agent/lib agent/collect agent/control agent/commands
INCLUDES := $(patsubst %,-I%,include $(SRC_DIRS)) -Iguest -I$(OUT)
# libtracecmd's headers include libtracefs's and libtraceevent's
TRACECMD_INC := -I/usr/include/trace-cmd -I/usr/include/tracefs -I/usr/include/traceevent
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf -I$(OUT)

# vmlinux.h from the running kernel's BTF; with KVM as a module, from the
# kvm module's split BTF, which dumps the vmlinux types plus KVM's own.
BTF_SRC := $(if $(wildcard /sys/kernel/btf/kvm),/sys/kernel/btf/kvm,/sys/kernel/btf/vmlinux)
VMLINUX_H ?=

AGENT_SRCS := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
AGENT_HDRS := $(foreach d,include include/handlers $(SRC_DIRS),$(wildcard $(d)/*.h))
AGENT_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(AGENT_SRCS))
AGENT_LIB_OBJS := $(filter-out $(OUT)/obj/agent/commands/main.o,$(AGENT_OBJS))
LIBS := -lbpf -lelf -lz -lm -lpthread -lncurses -lmicrohttpd -lyaml -lcrypt -ltracecmd -ltraceevent -lgnutls

DEBIAN_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev gcc make \
	libcmocka-dev libncurses-dev libmicrohttpd-dev libyaml-dev libcrypt-dev \
	prometheus python3-prometheus-client python3-yaml openssl curl \
	stress-ng fio gnuplot-nox qemu-system-x86 python3 tmux binutils \
	libtracecmd-dev libtraceevent-dev libtracefs-dev trace-cmd libgnutls28-dev \
	debhelper lintian scdoc bash-completion man-db bpftrace busybox-static cpio strace linux-perf

.PHONY: all deps test unit-test bpf-test e2e-test demo soak bench study fuzz man install deb clean

all: $(OUT)/kvmrt $(OUT)/kvmrt-guest $(OUT)/rtguest-pit.bin $(OUT)/rtguest-lapic.bin $(OUT)/tests/hog $(OUT)/tests/vmm

deps:
	@missing=""; for p in $(DEBIAN_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	fi

$(OUT) $(OUT)/tests:
	$(Q)mkdir -p $@

ifeq ($(VMLINUX_H),)
$(OUT)/vmlinux.h: | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(BTF_SRC) format c > $@
else
$(OUT)/vmlinux.h: $(VMLINUX_H) | $(OUT)
	$(Q)cp $< $@
endif

$(OUT)/kvmrt.bpf.o: bpf/kvmrt.bpf.c bpf/kvmrt.bpf.h $(wildcard include/*.h include/handlers/*.h) $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/kvmrt.skel.h: $(OUT)/kvmrt.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name kvmrt_bpf > $@

$(OUT)/obj/%.o: %.c $(AGENT_HDRS) $(OUT)/kvmrt.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(INCLUDES) $(TRACECMD_INC) -c $< -o $@

$(OUT)/kvmrt: $(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LIBS)

# the guest: one real-mode image, three builds of its defaults
$(OUT)/rtguest%.elf: guest/rtguest.S guest/guest_abi.h guest/rtguest.lds | $(OUT)
	$(call msg,AS,$@)
	$(Q)$(CC) -m32 -c -Iguest $(GUEST_DEFS) $< -o $(@:.elf=.o)
	$(Q)ld -m elf_i386 -T guest/rtguest.lds $(@:.elf=.o) -o $@
$(OUT)/rtguest-lapic.elf: GUEST_DEFS = '-DDEFAULT_FLAGS=(GF_X2APIC|GF_TIMER)'
$(OUT)/%.bin: $(OUT)/%.elf
	$(Q)objcopy -O binary $< $@

$(OUT)/rtguest.bin: $(OUT)/rtguest-pit.bin
	$(Q)cp $< $@

# the guest links only agent/lib/: what it shares with the agent
GUEST_LIB_OBJS := $(patsubst %,$(OUT)/obj/agent/lib/%.o,latency json outfile escape log)
$(OUT)/kvmrt-guest: guest/kvmrt-guest.c guest/image.S $(OUT)/rtguest.bin $(GUEST_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Iagent/lib -Iinclude -Iguest -I$(OUT) guest/kvmrt-guest.c guest/image.S $(GUEST_LIB_OBJS) -o $@ -lpthread -lm

# ---- benchmarks (not part of make test) ----
$(OUT)/null.bpf.o: bench/null.bpf.c $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/null.skel.h: $(OUT)/null.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $< name null_bpf > $@

$(OUT)/bpf-null: bench/bpf_null.c $(OUT)/null.skel.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< -o $@ $(LIBS)

# bench tools over the agent's objects
BENCH_LINK = $(CC) $(CFLAGS) -Wno-missing-field-initializers $(INCLUDES) $< $(AGENT_LIB_OBJS) $(LIBS) -o $@
$(OUT)/load-time: bench/load_time.c $(AGENT_LIB_OBJS) $(AGENT_HDRS)
	$(call msg,LINK,$@)
	$(Q)$(BENCH_LINK)
$(OUT)/prog-cost: bench/prog_cost.c $(AGENT_LIB_OBJS) $(AGENT_HDRS)
	$(call msg,LINK,$@)
	$(Q)$(BENCH_LINK)
bench: all $(OUT)/bpf-null $(OUT)/load-time $(OUT)/prog-cost
	@bash bench/run.sh

# the originating study's experiment: loads x policies x guest idle modes
study: all
	@bash bench/study.sh

# ---- tests ----
# kvmrt under ASan and UBSan, for fuzzing kvmrt report's readers
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_OBJS := $(patsubst %.c,$(OUT)/asan/%.o,$(AGENT_SRCS))
$(OUT)/asan/%.o: %.c $(AGENT_HDRS) $(OUT)/kvmrt.skel.h
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) $(INCLUDES) $(TRACECMD_INC) -c $< -o $@
$(OUT)/asan/kvmrt: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) $^ -o $@ $(LIBS)

# fuzz targets (libFuzzer): the agent's sources built by clang with the
# fuzzer's coverage, ASan and UBSan (any UB aborts); tests/fuzz/run.sh runs them
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -std=gnu11 -Wall -Wno-unused-parameter
FUZZ_OBJS := $(patsubst %.c,$(OUT)/fuzz/obj/%.o,$(filter-out agent/commands/main.c,$(AGENT_SRCS)))
.SECONDARY: $(FUZZ_OBJS) # kept between runs, not intermediate
$(OUT)/fuzz/obj/%.o: %.c $(AGENT_HDRS) $(OUT)/kvmrt.skel.h
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(INCLUDES) $(TRACECMD_INC) -c $< -o $@
$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer $(INCLUDES) $(TRACECMD_INC) $< $(FUZZ_OBJS) -o $@ $(LIBS)

# every fuzz target for FUZZ_SECONDS each (make test runs them briefly)
FUZZ_SECONDS ?= 600
fuzz: $(patsubst %,$(OUT)/fuzz/%,$(FUZZ_TARGETS))
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# the C tests: unit tests of the agent (tests/unit) and the BPF programs'
# (tests/bpf), each one binary in build/tests
TEST_SRC_DIRS := tests/unit tests/bpf
vpath test_%.c $(TEST_SRC_DIRS)
vpath btfcheck.c tests/bpf
$(OUT)/tests/%: %.c $(AGENT_LIB_OBJS) $(AGENT_HDRS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(AGENT_LIB_OBJS) -o $@ -lcmocka $(LIBS)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/test_*.c))

$(OUT)/tests/hog: tests/e2e/hog.c | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(OUT)/tests/vmm: tests/e2e/vmm.c guest/guest_abi.h | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iguest $< -o $@ -lpthread

unit-test: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do echo "== $$t"; $$t || exit 1; done
	@bash tests/layers.sh

bpf-test: $(OUT)/tests/test_bpf
	@echo "== $<"; $<

# the suites that run kvmrt for real, in this order
E2E_SUITES := e2e/e2e e2e/report e2e/top e2e/export e2e/control e2e/faults e2e/hostile \
	e2e/readme e2e/package e2e/scale bpf/btf_kernels bpf/debian12 fuzz/brief e2e/bench

e2e-test: all $(OUT)/asan/kvmrt $(OUT)/tests/btfcheck $(OUT)/tests/test_bpf $(patsubst %,$(OUT)/fuzz/%,$(FUZZ_TARGETS))
	@rc=0; for t in $(E2E_SUITES); do bash tests/$$t.sh || rc=1; done; exit $$rc

test: deps
	$(MAKE) all $(UNIT_TESTS)
	$(MAKE) unit-test
	$(MAKE) bpf-test
	$(MAKE) e2e-test

# the soak (tests/soak.sh): SOAK_MIN minutes of churn, scrapes and control
SOAK_MIN ?= 30
soak: all $(OUT)/tests/vmm
	@SOAK_MIN=$(SOAK_MIN) bash tests/soak.sh

demo: deps
	$(MAKE) all
	@bash guest/demo.sh

# man pages from scdoc sources
MAN_PAGES := $(patsubst docs/man/%.scd,$(OUT)/man/%,$(wildcard docs/man/*.scd))
man: $(MAN_PAGES)
$(OUT)/man/%: docs/man/%.scd
	$(Q)mkdir -p $(OUT)/man
	$(call msg,SCDOC,$@)
	$(Q)scdoc <$< >$@

# PREFIX=/usr (the package) puts configuration in /etc and units in
# /lib/systemd/system; another prefix keeps both under it
BINDIR := $(PREFIX)/bin
DATADIR := $(PREFIX)/share
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
UNIT_SUBST := sed -e 's|/usr/bin/|$(BINDIR)/|g' -e 's|/etc/|$(SYSCONFDIR)/|g'
install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/kvmrt $(DESTDIR)$(DATADIR)/man/man1 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(SYSCONFDIR)/kvmrt/control
	install -m 755 $(OUT)/kvmrt $(OUT)/kvmrt-guest tools/kvmrt-record $(DESTDIR)$(BINDIR)/
	install -m 644 $(OUT)/rtguest-pit.bin $(OUT)/rtguest-lapic.bin dashboards/kvmrt.json \
		dashboards/alerts.yml $(DESTDIR)$(DATADIR)/kvmrt/
	install -m 644 systemd/control-example.conf $(DESTDIR)$(DATADIR)/kvmrt/control.conf.example
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(DATADIR)/man/man1/
	install -m 644 completions/* $(DESTDIR)$(DATADIR)/bash-completion/completions/
	for u in kvmrt-export.service kvmrt-control@.service; do \
		$(UNIT_SUBST) systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && chmod 644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 644 systemd/kvmrt.default $(DESTDIR)$(SYSCONFDIR)/default/kvmrt

# the package, from a copy of the sources (its clean step would remove
# build/): build/deb/kvmrt_VERSION_amd64.deb
deb:
	rm -rf $(OUT)/deb && mkdir -p $(OUT)/deb/src
	tar --exclude=./build --exclude=./.git -cf - . | tar -C $(OUT)/deb/src -xf -
	cd $(OUT)/deb/src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -30 ../build.log; exit 1; }
	@ls $(OUT)/deb/*.deb

clean:
	rm -rf $(OUT)

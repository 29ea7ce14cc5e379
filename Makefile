# SPDX-License-Identifier: GPL-2.0
# gupnw: top-level build.  See README.md.
#
#   make                     module (against KDIR) + library + CLI
#   make KDIR=/path/to/build module against another kernel's build tree
#   make install DESTDIR=... PREFIX=...
#   make dkms-install        module source to /usr/src, built by DKMS for each kernel
#   make dkms-remove         undo dkms-install
#   make deb                 Debian packages (dpkg-buildpackage) in build/deb/
#   make check               install test deps, run every test (host, compat-check, QEMU
#                            guests on 6.1, 6.12, the newest Debian cloud kernel (found
#                            at run time) and the debug kernel, which also runs the fuzzer)
#   make compat-check        build the module W=1 against every cloud kernel line Debian
#                            has headers for (host's 6.1, 6.12; 7.x in build roots)
#   make readme-kernels      README's "Supported kernels" table from the last make check
#   make lint                checkpatch, kernel-doc, sparse, shellcheck, codespell, cargo
#                            fmt/clippy, gofmt/vet, commit subjects: no VM, a few minutes
#                            (tests/lint.sh)
#   make check-debug         only the debug-kernel guest: KASAN, lockdep, kmemleak, fault
#                            injection, 60 s of fuzzing (first run builds the kernel, ~5 min)
#   make fuzz                only the fuzzer in the debug guest, GUPNW_FUZZ_SECONDS (600)
#   make demo                boot a VM and show a probe of a cold file
#   make bench               benchmark in QEMU guests (6.1, 6.12, newest), then the
#                            swapped-pages-under-busy-disk probe latency: build/bench/*.txt
#   make bench-md            the same, then paste the tables into BENCHMARKS.md and
#                            draw its pictures (docs/bench/*.svg, gnuplot)
#   make rust                the Rust crate (bindings/rust/, offline from Debian's crates)
#   make go                  the Go package (bindings/go/, offline from Debian's Go and modules)
#   make clean

KDIR	?= /lib/modules/$(shell uname -r)/build
PREFIX	?= /usr/local
DESTDIR	?=
KVER	 = $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)

# What DKMS builds: the module's sources and dkms.conf, whose version is the one here.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC      = $(DESTDIR)/usr/src/gupnw-$(DKMS_VERSION)
DKMS_FILES    = Kbuild dkms.conf LICENSE uapi/linux/gupnw.h $(wildcard module/*.[ch])

.PHONY: all module userspace install install-module install-userspace \
	dkms-install dkms-remove deb check check-host check-debug fuzz demo bench \
	bench-md clean compat-check readme-kernels lint

all: module userspace

module:
	@test -d $(KDIR) || { echo "gupnw: no kernel build tree at $(KDIR): install linux-headers-$$(uname -r) or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace:
	$(MAKE) -C userspace

.PHONY: rust go
rust:
	$(MAKE) -C bindings/rust

go:
	$(MAKE) -C bindings/go

install: install-module install-userspace

install-module: module
	install -D -m 644 gupnw.ko $(DESTDIR)/lib/modules/$(KVER)/extra/gupnw.ko
	install -D -m 644 uapi/linux/gupnw.h $(DESTDIR)$(PREFIX)/include/linux/gupnw.h

install-userspace: userspace
	$(MAKE) -C userspace install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# The source goes to /usr/src/gupnw-VERSION; unless DESTDIR stages it (the gupnw-dkms
# package does), DKMS builds and installs the module for every installed kernel that
# has its headers, and (AUTOINSTALL) for each kernel installed later.  A version
# already registered is removed first (dkms-remove), so this also reinstalls.
dkms-install: dkms-remove
	for f in $(DKMS_FILES); do install -D -m 644 $$f $(DKMS_SRC)/$$f || exit 1; done
ifeq ($(DESTDIR),)
	dkms add gupnw/$(DKMS_VERSION)
	@set -e; n=0; for b in /lib/modules/*/build; do \
		[ -d "$$b" ] || continue; k=$${b#/lib/modules/}; k=$${k%/build}; n=$$((n + 1)); \
		dkms build gupnw/$(DKMS_VERSION) -k "$$k"; \
		dkms install gupnw/$(DKMS_VERSION) -k "$$k"; \
	done; [ $$n -gt 0 ] || { echo "gupnw: no kernel headers in /lib/modules/*/build:" \
		"install linux-headers-$$(uname -r)" >&2; exit 1; }
endif

dkms-remove:
ifeq ($(DESTDIR),)
	if dkms status -m gupnw -v $(DKMS_VERSION) | grep -q .; then \
		dkms remove gupnw/$(DKMS_VERSION) --all; fi
endif
	rm -rf $(DKMS_SRC)

# Binary packages from a scratch copy of the tree (the tree itself stays clean):
# gupnw-dkms, libgupnw1, libgupnw-dev and gupnw, in build/deb/.
deb:
	tests/packaging/build-deb.sh build/deb

# Everything, from a fresh Debian 12 machine: installs what is missing first.
check:
	tests/install-deps.sh
	tests/run-check.sh

# Compile-only sweep (tests/vm/compat-check.sh); make check runs it too.
compat-check:
	tests/install-deps.sh
	tests/vm/compat-check.sh | awk '{ print } /^not ok/ { f = 1 } END { exit f }'

# The "Supported kernels" table of README.md from build/check/kernels.md.
readme-kernels:
	tests/update-readme-kernels.sh

# Host-only tests (no VM): CLI parsing and output formats, library under ASan.
# The checks that need no VM (tests/lint.sh): checkpatch, kernel-doc, sparse,
# shellcheck, codespell, cargo fmt/clippy, gofmt/go vet, commit subjects.  CI
# runs it first.
lint:
	tests/install-deps.sh
	tests/lint.sh

check-host:
	tests/run-check.sh --host-only

# The debug kernel alone (tests/debug-kernel/debug.config; see tests/vm/run.sh).
check-debug:
	tests/install-deps.sh
	tests/run-check.sh --no-host --kernel debug

GUPNW_FUZZ_SECONDS ?= 600
fuzz:
	tests/install-deps.sh
	GUPNW_RUN=fuzz GUPNW_FUZZ_SECONDS=$(GUPNW_FUZZ_SECONDS) \
		GUPNW_VM_TIMEOUT=$$(($(GUPNW_FUZZ_SECONDS) + 900)) \
		tests/run-check.sh --no-host --kernel debug

demo:
	tests/install-deps.sh --demo
	tests/vm/demo.sh

# Benchmarks (BENCHMARKS.md): the guests of "make check" run tests/bench/ instead of the
# tests.  The kernel sources gup_test.ko is built from are installed only here.
bench:
	tests/install-deps.sh linux-source-6.1
	tests/bench/run.sh 6.1 6.12 newest
	tests/bench/swap-busy.sh 6.1 6.12 newest

bench-md:
	tests/install-deps.sh linux-source-6.1
	tests/bench/update-benchmarks-md.sh --run

clean:
	-test -d $(KDIR) && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -f module/*.o module/.*.cmd *.o .*.cmd *.ko *.mod *.mod.c *.mod.o modules.order Module.symvers
	$(MAKE) -C userspace clean
	rm -rf build

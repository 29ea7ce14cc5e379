# SPDX-License-Identifier: GPL-2.0
# gupnw: top-level build.  See README.md.
#
#   make                     module (against KDIR) + library + CLI
#   make KDIR=/path/to/build module against another kernel's build tree
#   make install DESTDIR=... PREFIX=...
#   make check               install test deps, run every test (host + QEMU guests on
#                            6.1, 6.12 and the debug kernel, which also runs the fuzzer)
#   make check-debug         only the debug-kernel guest: KASAN, lockdep, kmemleak, fault
#                            injection, 60 s of fuzzing (first run builds the kernel, ~5 min)
#   make fuzz                only the fuzzer in the debug guest, GUPNW_FUZZ_SECONDS (600)
#   make demo                boot a VM and show a probe of a cold file
#   make clean

KDIR	?= /lib/modules/$(shell uname -r)/build
PREFIX	?= /usr/local
DESTDIR	?=
KVER	 = $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)

.PHONY: all module userspace install install-module install-userspace \
	check check-host check-debug fuzz demo bench clean

all: module userspace

module:
	@test -d $(KDIR) || { echo "gupnw: no kernel build tree at $(KDIR): install linux-headers-$$(uname -r) or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace:
	$(MAKE) -C userspace

install: install-module install-userspace

install-module: module
	install -D -m 644 gupnw.ko $(DESTDIR)/lib/modules/$(KVER)/extra/gupnw.ko
	install -D -m 644 uapi/linux/gupnw.h $(DESTDIR)$(PREFIX)/include/linux/gupnw.h

install-userspace: userspace
	$(MAKE) -C userspace install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# Everything, from a fresh Debian 12 machine: installs what is missing first.
check:
	tests/install-deps.sh
	tests/run-check.sh

# Host-only tests (no VM): CLI parsing and output formats, library under ASan.
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
	tests/install-deps.sh
	tests/vm/demo.sh

clean:
	-test -d $(KDIR) && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -f module/*.o module/.*.cmd *.o .*.cmd *.ko *.mod *.mod.c *.mod.o modules.order Module.symvers
	$(MAKE) -C userspace clean
	rm -rf build

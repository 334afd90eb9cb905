# finwatch build. `make` builds build/finwatch; `make run` and `make test`
# also install missing Debian packages first (scripts/install-deps.sh).
# V=1 shows full commands; SAN=1 builds user space with ASan+UBSan.
# make install / uninstall (PREFIX, DESTDIR), make image (podman, FROM scratch).

.DELETE_ON_ERROR:
# Keep intermediate objects (the BPF object behind the skeleton).
.SECONDARY:
.SUFFIXES:

OUTPUT ?= build
ifeq ($(SAN),1)
OUTPUT := build/san
endif
ifeq ($(STATIC),1)
OUTPUT := build/static
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

# finwatch's arch directory for vmlinux.h and __TARGET_ARCH_*.
UNAME_M := $(shell uname -m)
ARCH ?= $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(patsubst riscv64,riscv,$(patsubst ppc64le,powerpc,$(patsubst s390x,s390,$(patsubst loongarch64,loongarch,$(UNAME_M)))))))
KNOWN_ARCHS := x86 arm64 riscv powerpc s390 loongarch
ifeq ($(filter $(ARCH),$(KNOWN_ARCHS)),)
$(error unknown ARCH '$(ARCH)' (machine '$(UNAME_M)'); set ARCH to one of: $(KNOWN_ARCHS))
endif

# A committed header wins; otherwise one is generated from this host's BTF.
ifneq ($(wildcard vmlinux/$(ARCH)/vmlinux.h),)
VMLINUX_DIR := vmlinux/$(ARCH)
else
VMLINUX_DIR := $(OUTPUT)/vmlinux/$(ARCH)
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Lazily expanded: `make run`/`make test` install libbpf before these run.
LIBBPF_CFLAGS = $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS = $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz
MHD_LIBS = $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) -lpthread
CAPNG_LIBS = $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null || echo -lcap-ng)
# finwatch top: ncursesw (UTF-8 sparklines) and its terminfo reader, libtinfo.
NCURSES_CFLAGS = $(shell $(PKG_CONFIG) --cflags ncursesw 2>/dev/null)
NCURSES_LIBS = $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)

# One binary for every distro (`make static`): libbpf, libelf, zlib,
# libcap-ng, ncursesw/tinfo and glibc from Debian's .a files; libmicrohttpd from Debian's
# source built without TLS (Debian's .a needs GnuTLS, and GnuTLS needs
# p11-kit, which has no static archive). DWARF is dropped, symbols kept.
ifeq ($(STATIC),1)
MHD_PREFIX := $(OUTPUT)/deps
MHD_A := $(MHD_PREFIX)/lib/libmicrohttpd.a
MHD_LIBS = $(MHD_A) -lpthread
LIBBPF_LIBS = -lbpf -lelf -lz
# terminfo is read at run time from the usual directories or $$TERMINFO.
NCURSES_LIBS = -lncursesw -ltinfo
LDFLAGS += -static -Wl,-S
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
CFLAGS ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) $(WARN) $(SAN_FLAGS) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
	-I$(OUTPUT) -Ibpf -Iuser $(LIBBPF_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -MMD -MP \
	-I$(VMLINUX_DIR) -Ibpf

# Kernel-independent modules: unit tests and fuzzers link these alone.
# Sources that need libbpf, the kernel, libmicrohttpd or ncurses; everything else is core.
APP_SRCS := user/finwatch.c user/bpf_loader.c user/scan.c user/netns.c user/metrics_http.c \
	user/sock_destroy.c user/reaper.c user/doctor.c user/kernel_probe.c user/wrapper.c \
	$(wildcard user/app_*.c) user/top_view.c
CORE_SRCS := $(filter-out $(APP_SRCS),$(wildcard user/*.c))
CORE_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(CORE_SRCS))
APP_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(APP_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all run test unit e2e deps test-deps tools fuzz bench soak clean vmlinux static
all: $(OUTPUT)/finwatch tools

tools: $(OUTPUT)/fwpeer

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/fuzz $(OUTPUT)/bpf:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux/$(ARCH)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)if [ ! -r /sys/kernel/btf/vmlinux ]; then \
		echo "no vmlinux/$(ARCH)/vmlinux.h and no /sys/kernel/btf/vmlinux to generate it from;" \
		     "run scripts/gen-vmlinux.sh $(ARCH) BTF_FILE on a machine of that arch" >&2; exit 1; fi
	$(Q)mkdir -p $(@D) && $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

# bpftool gen object links and strips DWARF, keeping BTF: a small skeleton.
$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MT $@ -MF $(@:.o=.d) -c $< -o $(@:.o=.tmp.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.o=.tmp.o)

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The loader includes the skeleton; order-only so -MMD tracks the rest.
$(APP_OBJS): | $(OUTPUT)/finwatch.skel.h
$(OUTPUT)/user/bpf_loader.o: $(OUTPUT)/finwatch.skel.h
$(OUTPUT)/user/top_view.o: ALL_CFLAGS += $(NCURSES_CFLAGS)

$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/libfwcore.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

ifeq ($(STATIC),1)
$(MHD_A):
	$(call msg,DEPS,$@ (libmicrohttpd from Debian's source, no TLS))
	$(Q)scripts/build-static-mhd.sh $(MHD_PREFIX)
$(OUTPUT)/user/metrics_http.o: $(MHD_A)
$(OUTPUT)/user/metrics_http.o: ALL_CFLAGS += -I$(MHD_PREFIX)/include
$(OUTPUT)/finwatch: $(MHD_A)
endif

$(OUTPUT)/finwatch: $(APP_OBJS) $(OUTPUT)/libfwcore.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(APP_OBJS) $(OUTPUT)/libfwcore.a $(LIBBPF_LIBS) $(MHD_LIBS) $(CAPNG_LIBS) $(NCURSES_LIBS) -o $@

$(OUTPUT)/fwpeer: tests/tools/fwpeer.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@

$(OUTPUT)/loadgen: tests/tools/loadgen.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@

$(OUTPUT)/replay: tests/bench/replay.c $(OUTPUT)/libfwcore.a | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(OUTPUT)/libfwcore.a $(ALL_LDFLAGS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(OUTPUT)/libfwcore.a | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(OUTPUT)/libfwcore.a $(ALL_LDFLAGS) -lcmocka -o $@

# Fuzzers always use clang's libFuzzer with ASan+UBSan, in their own tree.
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Ibpf -Iuser
$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(CORE_SRCS) | $(OUTPUT)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(CORE_SRCS) -o $@

FUZZ_SECONDS ?= 20
fuzz: $(FUZZERS)
	$(Q)for f in $(FUZZERS); do \
		name=$$(basename $$f); mkdir -p $(OUTPUT)/fuzz/corpus-$$name; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(OUTPUT)/fuzz/corpus-$$name tests/fuzz/seeds/$$name 2>&1 \
			| grep -E '^(stat::number_of_executed_units|==.*ERROR|SUMMARY)' || exit 1; \
	done

deps:
	$(Q)scripts/install-deps.sh

# build/static/finwatch: one statically linked binary (see STATIC above).
static:
	$(Q)scripts/install-deps.sh --static
	$(Q)$(MAKE) --no-print-directory STATIC=1 build/static/finwatch
	@size=$$(stat -c %s build/static/finwatch); echo "  STATIC   build/static/finwatch: $$size bytes"

test-deps:
	$(Q)scripts/install-deps.sh --test

# The README's two commands.
ARGS ?=
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(OUTPUT)/finwatch $(ARGS)

# The static binary is tested too (tests/e2e/test_static.sh).
test: test-deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_TESTS)
	$(Q)$(MAKE) --no-print-directory STATIC=1 build/static/finwatch
	$(Q)tests/run.sh $(OUTPUT)

unit: $(UNIT_TESTS)
	$(Q)tests/run.sh --unit-only $(OUTPUT)

# TESTS="test_reap test_faults:sigkill" runs only those tests or scenarios.
e2e: all
	$(Q)tests/run.sh --e2e-only $(OUTPUT) $(TESTS)

# Real-kernel e2e subset inside Debian's kernels under qemu, plus "host"
# if listed (tests/vm/matrix.sh; VM_TESTS=all runs the whole suite).
KERNELS ?= 6.1 6.12
.PHONY: vmtest
vmtest: all
	$(Q)scripts/install-deps.sh --vm
	$(Q)FW_BUILD=$(OUTPUT) tests/vm/matrix.sh $(KERNELS)

bench: all $(OUTPUT)/replay $(OUTPUT)/loadgen
	$(Q)scripts/install-deps.sh --bench
	$(Q)$(OUTPUT)/replay 1000000 1000
	$(Q)scripts/bench.sh $(OUTPUT)

# A long mixed load checked against ss (not in CI): SOAK_SECONDS=600.
soak: all
	$(Q)scripts/soak.sh $(OUTPUT)

vmlinux:
	$(Q)scripts/gen-vmlinux.sh $(ARCH)

# make image: Containerfile (FROM scratch + build/static/finwatch) built
# offline with podman. IMAGE names it (push it under your registry:
# podman tag $(IMAGE):$(IMAGE_TAG) REGISTRY/finwatch:$(IMAGE_TAG)).
# PODMAN_FLAGS selects the storage (tests use a private --root).
FW_VERSION = $(shell sed -n 's/^\#define FW_VERSION "\(.*\)"/\1/p' user/cli.h)
IMAGE ?= localhost/finwatch
IMAGE_TAG ?= $(FW_VERSION)
IMAGE_SOURCE ?= https://git.example/finwatch
PODMAN ?= podman
PODMAN_FLAGS ?= --storage-driver vfs
.PHONY: image
# The image carries ncurses-base's terminfo (/lib/terminfo, 42 common terminal
# types, 228 KiB) so `kubectl exec -it ... /finwatch top` finds the terminal.
image: static
	$(Q)scripts/install-deps.sh --image
	$(call msg,IMAGE,$(IMAGE):$(IMAGE_TAG))
	$(Q)rm -rf build/image-terminfo && cp -r /lib/terminfo build/image-terminfo
	$(Q)$(PODMAN) $(PODMAN_FLAGS) build -q --pull=never --layers=false -f Containerfile \
		--build-arg VERSION=$(FW_VERSION) --build-arg SOURCE=$(IMAGE_SOURCE) \
		--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		-t $(IMAGE):$(IMAGE_TAG) . >/dev/null
	@$(PODMAN) $(PODMAN_FLAGS) image inspect --format '  IMAGE    $(IMAGE):$(IMAGE_TAG): {{.Size}} bytes' $(IMAGE):$(IMAGE_TAG)

# make install / make uninstall, GNU conventions: PREFIX (/usr/local),
# DESTDIR (staging root) and the directory variables below. STATIC=1 installs
# the static binary. The unit's ExecStart= is rewritten to $(SBINDIR).
# logrotate reads only /etc/logrotate.d, whatever the prefix.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/finwatch
UNITDIR ?= $(PREFIX)/lib/systemd/system
LOGROTATEDIR ?= /etc/logrotate.d
INSTALL ?= install
SHARE_FILES := $(wildcard deploy/prometheus/*.yml deploy/grafana/*.json)
SHARE_DIRS := $(sort $(patsubst deploy/%/,%,$(dir $(SHARE_FILES))))
.PHONY: install uninstall
install: $(OUTPUT)/finwatch
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)grep -q '^ExecStart=/usr/local/sbin/finwatch ' deploy/finwatch.service || \
		{ echo "deploy/finwatch.service: ExecStart= is not /usr/local/sbin/finwatch" >&2; exit 1; }
	$(Q)$(INSTALL) -d '$(DESTDIR)$(SBINDIR)' '$(DESTDIR)$(MANDIR)/man8' '$(DESTDIR)$(UNITDIR)' \
		'$(DESTDIR)$(LOGROTATEDIR)' $(foreach d,$(SHARE_DIRS),'$(DESTDIR)$(DATADIR)/$(d)')
	$(Q)$(INSTALL) -m 0755 $(OUTPUT)/finwatch '$(DESTDIR)$(SBINDIR)/finwatch'
	$(Q)$(INSTALL) -m 0644 docs/finwatch.8 '$(DESTDIR)$(MANDIR)/man8/finwatch.8'
	$(Q)sed 's#^ExecStart=/usr/local/sbin/finwatch #ExecStart=$(SBINDIR)/finwatch #' deploy/finwatch.service \
		> '$(DESTDIR)$(UNITDIR)/finwatch.service.tmp'
	$(Q)chmod 0644 '$(DESTDIR)$(UNITDIR)/finwatch.service.tmp'
	$(Q)mv -f '$(DESTDIR)$(UNITDIR)/finwatch.service.tmp' '$(DESTDIR)$(UNITDIR)/finwatch.service'
	$(Q)$(INSTALL) -m 0644 deploy/finwatch-logrotate '$(DESTDIR)$(LOGROTATEDIR)/finwatch'
	$(Q)$(foreach f,$(SHARE_FILES),$(INSTALL) -m 0644 $(f) '$(DESTDIR)$(DATADIR)/$(patsubst deploy/%,%,$(f))' &&) true

# Removes exactly what install put there, and finwatch's own data directory
# once empty; shared directories (sbin, man8, ...) stay.
uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f '$(DESTDIR)$(SBINDIR)/finwatch' '$(DESTDIR)$(MANDIR)/man8/finwatch.8' \
		'$(DESTDIR)$(UNITDIR)/finwatch.service' '$(DESTDIR)$(LOGROTATEDIR)/finwatch' \
		$(foreach f,$(SHARE_FILES),'$(DESTDIR)$(DATADIR)/$(patsubst deploy/%,%,$(f))')
	$(Q)for d in $(SHARE_DIRS); do [ ! -d '$(DESTDIR)$(DATADIR)/'$$d ] || rmdir '$(DESTDIR)$(DATADIR)/'$$d; done
	$(Q)[ ! -d '$(DESTDIR)$(DATADIR)' ] || rmdir '$(DESTDIR)$(DATADIR)'

clean:
	$(call msg,CLEAN,build)
	$(Q)rm -rf build

-include $(wildcard $(OUTPUT)/user/*.d $(OUTPUT)/bpf/*.d $(OUTPUT)/tests/*.d)

# GNU Makefile for measured.  GNU conventions: `make`, `make check`,
# `make install DESTDIR=... prefix=...`; the caller's CC, CPPFLAGS, CFLAGS and
# LDFLAGS are honoured and only extended.  Objects go to $(O) so several
# builds (plain, sanitized, fuzz) can live side by side.

prefix      ?= /usr/local
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
sbindir     ?= $(exec_prefix)/sbin
libdir      ?= $(exec_prefix)/lib
libexecdir  ?= $(exec_prefix)/libexec
includedir  ?= $(prefix)/include
datarootdir ?= $(prefix)/share
datadir     ?= $(datarootdir)
mandir      ?= $(datarootdir)/man
man1dir     ?= $(mandir)/man1
man8dir     ?= $(mandir)/man8
sysconfdir  ?= $(prefix)/etc
localstatedir ?= $(prefix)/var
pkgconfigdir ?= $(libdir)/pkgconfig

VERSION     := 0.1.0

CC          ?= cc
PKG_CONFIG  ?= pkg-config
INSTALL     ?= install
INSTALL_PROGRAM ?= $(INSTALL)
INSTALL_DATA    ?= $(INSTALL) -m 644
AR          ?= ar
CFLAGS      ?= -O2 -g
O           ?= build

# Parts that link more than the library: `make WITH_VERIFIER=no WITH_AGENT=no`
# builds the library and a command without `serve`, `admin` and `attest`,
# needing none of libmicrohttpd, SQLite, libpq or libcurl (what an
# OpenEmbedded -native build of `measured predict` wants).
WITH_VERIFIER ?= yes
WITH_AGENT    ?= yes

.DELETE_ON_ERROR:

# A missing package stops the build with pkg-config's own message instead of
# compiling without its flags.  `make clean` needs no packages.
NEED_PKGS   := $(if $(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),yes)
pkg_missing = $(shell $(PKG_CONFIG) --exists $(1) || echo missing)
pkg_check = $(if $(NEED_PKGS),$(if $(call pkg_missing,$(1)),$(error pkg-config does not find all of: $(1); run scripts/deps.sh)))

# The library's own dependencies: the chain, nothing of the verifier or agent.
PKGS        := libcrypto tss2-esys tss2-tctildr tss2-mu tss2-rc json-c zlib
$(call pkg_check,$(PKGS))
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# Our own flags come first so the caller's CFLAGS can still override them.
M_CPPFLAGS  := -Iinclude -Ilib/initcore -I$(O) -D_GNU_SOURCE -DMEASURED_VERSION=\"$(VERSION)\"
# -Wformat-truncation=2 is GCC's: clang (the fuzz build) warns of it as unknown
W_TRUNC     := $(shell $(CC) -Werror -Wformat-truncation=2 -E -x c /dev/null >/dev/null 2>&1 && echo -Wformat-truncation=2)
M_CFLAGS    := -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 $(W_TRUNC) -Wno-missing-field-initializers \
               -fno-strict-aliasing -pthread
ALL_CPPFLAGS = $(M_CPPFLAGS) $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(M_CFLAGS) $(CFLAGS)
# LIB_LIBS links libmeasured.so; LIBS_ALL the command and the tests, to
# which the verifier's and the agent's fragments add their libraries.
LIB_LIBS     = $(PKG_LIBS) -lpthread
LIBS_ALL     = $(PKG_LIBS) -lpthread

LIB_SRC     := $(sort $(wildcard lib/*.c lib/*/*.c))
# The subcommands that belong to the verifier and to the agent, and the
# unit tests of their code, are left out when those parts are.
CMD_VERIFIER := cmd/cmd_serve.c cmd/cmd_admin.c cmd/admin_rollout.c cmd/admin_dashboard.c
CMD_AGENT    := cmd/cmd_attest.c
UNIT_VERIFIER := tests/unit/test_store.c tests/unit/test_dashboard.c tests/unit/test_server_caches.c
UNIT_AGENT   := tests/unit/test_agent.c tests/unit/test_install.c tests/unit/test_install_archive.c
CMD_OUT     := $(if $(filter no,$(WITH_VERIFIER)),$(CMD_VERIFIER)) $(if $(filter no,$(WITH_AGENT)),$(CMD_AGENT))
UNIT_OUT    := $(if $(filter no,$(WITH_VERIFIER)),$(UNIT_VERIFIER)) $(if $(filter no,$(WITH_AGENT)),$(UNIT_AGENT))
CMD_SRC     := $(filter-out $(CMD_OUT),$(sort $(wildcard cmd/*.c)))
UNIT_SRC    := $(filter-out $(UNIT_OUT),$(sort $(wildcard tests/unit/test_*.c)))
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJ     := $(LIB_SRC:%.c=$(O)/%.o)
CMD_OBJ     := $(CMD_SRC:%.c=$(O)/%.o)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)

LIBA        := $(O)/libmeasured.a
MEASURED    := $(O)/measured

# Subcommands register themselves by file name: cmd/cmd_NAME.c defines
# `int cmd_NAME(int argc, char **argv)` and a one-line summary
# `const char cmd_NAME_summary[]`.  The table is generated so that adding
# a subcommand touches no shared file.
CMD_NAMES   := $(patsubst cmd/cmd_%.c,%,$(filter cmd/cmd_%.c,$(CMD_SRC)))

.PHONY: all check check-unit check-integration install uninstall clean fuzz fuzz-build bench demo man
all: $(MEASURED) $(LIBA)

-include $(wildcard */*.mk)

$(O)/cmd_table.h: Makefile $(filter cmd/cmd_%.c,$(CMD_SRC))
	@mkdir -p $(@D)
	@{ for n in $(CMD_NAMES); do \
	     echo "CMD($$n)"; \
	   done; } > $@.tmp && mv $@.tmp $@

$(CMD_OBJ): $(O)/cmd_table.h

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The shared library: the same sources compiled again as PIC in $(O)/pic
# (the static archive and the command keep their non-PIC objects).  Only
# the public prefixes of include/measured/*.h are exported (lib/libmeasured.map);
# the soname carries the ABI major, bumped on any incompatible change.
SOVERSION   := 0
LIBSO_NAME  := libmeasured.so.$(VERSION)
LIBSO       := $(O)/$(LIBSO_NAME)
LIB_PIC_OBJ := $(LIB_SRC:%.c=$(O)/pic/%.o)

all: $(LIBSO)

$(O)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(LIBSO): $(LIB_PIC_OBJ) lib/libmeasured.map
	$(CC) $(ALL_CFLAGS) -fPIC $(LDFLAGS) -shared -Wl,-soname,libmeasured.so.$(SOVERSION) \
	    -Wl,--version-script=lib/libmeasured.map -Wl,--as-needed -o $@ $(LIB_PIC_OBJ) $(LIB_LIBS) $(LDLIBS)
	ln -sf $(LIBSO_NAME) $(O)/libmeasured.so.$(SOVERSION)
	ln -sf libmeasured.so.$(SOVERSION) $(O)/libmeasured.so

# measured.pc holds the install paths (never DESTDIR), so it is made at
# install time from the variables of that `make install`.
$(O)/measured.pc: measured.pc.in FORCE
	@mkdir -p $(@D)
	sed -e 's|@prefix@|$(prefix)|g' -e 's|@exec_prefix@|$(exec_prefix)|g' \
	    -e 's|@libdir@|$(libdir)|g' -e 's|@includedir@|$(includedir)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' measured.pc.in > $@.tmp && mv $@.tmp $@

.PHONY: FORCE shared library command
FORCE:
shared: $(LIBSO)
library: $(LIBA) $(LIBSO)
command: $(MEASURED)

# The command: its subcommands, the verifier's and the agent's objects
# (added to PART_OBJ by their fragments), and the library.
$(MEASURED): $(CMD_OBJ) $(PART_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJ) $(PART_OBJ) $(LIBA) $(LIBS_ALL) $(LDLIBS)

# Headers of the parts outside the library, for the commands and tests that use them.
$(CMD_OBJ): M_CPPFLAGS += $(PART_CPPFLAGS)

# Unit tests: cmocka, one binary per tests/unit/test_*.c.  UNIT_LDFLAGS is
# a test's own link option (set per target below).
$(O)/tests/%: tests/unit/%.c $(PART_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(PART_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $(UNIT_LDFLAGS) -Itests/unit -o $@ $< $(PART_OBJ) \
	    $(LIBA) $(shell $(PKG_CONFIG) --libs cmocka) $(LIBS_ALL) $(LDLIBS)

# The TPM 1.2 commands' test plays the TPM and gives the nonces itself.
$(O)/tests/test_tpm12_cmd: UNIT_LDFLAGS := -Wl,--wrap=RAND_bytes

# Helpers the integration tests drive a TPM with where no command does.
TEST_TOOL_BIN := $(patsubst tests/tools/%.c,$(O)/tests/tools/%,$(sort $(wildcard tests/tools/*.c)))
$(O)/tests/tools/%: tests/tools/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS_ALL) $(LDLIBS)

# Tests find their data through this variable: always the tree's own
# tests/data (origins and licences in its READMEs), never anything beside
# the tree.
export MEASURED_FIXTURES := $(CURDIR)/tests/data
export MEASURED_BIN := $(abspath $(MEASURED))
export MEASURED_SRCDIR := $(CURDIR)
export MEASURED_BUILDDIR := $(abspath $(O))

check: check-unit check-integration

check-unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

check-integration: $(MEASURED) $(TEST_TOOL_BIN) $(if $(filter no,$(WITH_VERIFIER)),,$(O)/tests/test_store $(O)/tests/test_dashboard)
	@tests/run-integration.sh tests/integration

# libFuzzer harnesses (clang only).  `make fuzz` builds them in build-fuzz
# and runs each for FUZZ_SECONDS, seeded from the fixtures.
FUZZ_SECONDS ?= 20
fuzz:
	$(MAKE) O=build-fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" fuzz-build
	tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_SECONDS)

fuzz-build: $(FUZZ_BIN)

$(O)/fuzz/%: tests/fuzz/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS_ALL) $(LDLIBS)

bench: $(MEASURED)
	bench/run.sh

demo: $(MEASURED)
	scripts/demo-tour.sh

# GNU install conventions: every directory is a variable (absolute, as
# OpenEmbedded's native builds pass them), DESTDIR only here, nothing
# stripped (packagers strip and keep the debug info).  Parts add their own
# install-PART rules in their DIR/NAME.mk fragments; install-lib and
# install-cmd alone serve builds that want only the library and the command
# (an OpenEmbedded -native recipe).
.PHONY: install-lib install-cmd install-man
install: all install-lib install-cmd install-man

install-lib: $(LIBA) $(LIBSO) $(O)/measured.pc
	$(INSTALL) -d $(DESTDIR)$(libdir) $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(includedir)/measured
	$(INSTALL_DATA) $(LIBA) $(DESTDIR)$(libdir)/libmeasured.a
	$(INSTALL_DATA) $(LIBSO) $(DESTDIR)$(libdir)/$(LIBSO_NAME)
	ln -sf $(LIBSO_NAME) $(DESTDIR)$(libdir)/libmeasured.so.$(SOVERSION)
	ln -sf libmeasured.so.$(SOVERSION) $(DESTDIR)$(libdir)/libmeasured.so
	$(INSTALL_DATA) $(O)/measured.pc $(DESTDIR)$(pkgconfigdir)/measured.pc
	$(INSTALL_DATA) include/measured/*.h $(DESTDIR)$(includedir)/measured/

install-cmd: $(MEASURED)
	$(INSTALL) -d $(DESTDIR)$(bindir)
	$(INSTALL_PROGRAM) $(MEASURED) $(DESTDIR)$(bindir)/measured

# The command's pages (section 1).  Each section-8 page is installed by its
# program's fragment (init.mk, svirt.mk) and only there: two rules writing
# one file race under make -j.
install-man:
	$(INSTALL) -d $(DESTDIR)$(man1dir)
	$(INSTALL_DATA) man/*.1 $(DESTDIR)$(man1dir)/

uninstall:
	rm -f $(DESTDIR)$(bindir)/measured $(DESTDIR)$(libdir)/libmeasured.a
	rm -f $(DESTDIR)$(libdir)/$(LIBSO_NAME) $(DESTDIR)$(libdir)/libmeasured.so.$(SOVERSION)
	rm -f $(DESTDIR)$(libdir)/libmeasured.so $(DESTDIR)$(pkgconfigdir)/measured.pc
	rm -f $(DESTDIR)$(initexecdir)/measured-init $(DESTDIR)$(sbindir)/svirt-interpose \
	      $(DESTDIR)$(sbindir)/svirt-bridge-fwd
	rm -f $(DESTDIR)$(datadir)/selinux/packages/svirt_interpose.pp \
	      $(DESTDIR)$(datadir)/selinux/devel/include/contrib/svirt_interpose.if
	rm -rf $(DESTDIR)$(includedir)/measured
	cd man && for m in *.1; do rm -f $(DESTDIR)$(man1dir)/$$m; done
	cd man && for m in *.8; do rm -f $(DESTDIR)$(man8dir)/$$m; done

clean:
	rm -rf $(O) build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(LIB_PIC_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(PART_OBJ:.o=.d)

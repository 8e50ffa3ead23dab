# svirt-interpose (included by the top Makefile).  The program, its cmocka
# unit tests (linked against the svirt objects, not only libmeasured) and
# its integration tests (XenStore wire-protocol server, 200 concurrent
# launches, an SELinux guest under QEMU).

SVIRT_SRC      := $(sort $(wildcard svirt/*.c))
SVIRT_OBJ      := $(SVIRT_SRC:%.c=$(O)/%.o)
SVIRT_LIB_OBJ  := $(filter-out $(O)/svirt/main.o,$(SVIRT_OBJ))
SVIRT_LIBS     := -lselinux -lxenstore
SVIRT          := $(O)/svirt-interpose
SVIRT_UNIT_SRC := $(sort $(wildcard tests/svirt/test_*.c))
SVIRT_UNIT_BIN := $(SVIRT_UNIT_SRC:tests/svirt/%.c=$(O)/tests/svirt/%)
SVIRT_CONF     ?= $(sysconfdir)/svirt-interpose.conf

$(O)/svirt/main.o: M_CPPFLAGS += -DSVIRT_CONF_PATH=\"$(SVIRT_CONF)\"

all: $(SVIRT)

$(SVIRT): $(SVIRT_OBJ) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(SVIRT_OBJ) $(LIBA) $(SVIRT_LIBS)

# A static build for the SELinux guest test: libselinux.a needs pcre2;
# libxenstore.a needs libxentoolcore.  Sanitizers do not link statically,
# so their flags are left out of the static binaries.
SVIRT_STATIC_CFLAGS  = $(filter-out -fsanitize%,$(ALL_CFLAGS))
SVIRT_STATIC_LDFLAGS = $(filter-out -fsanitize%,$(LDFLAGS))
$(O)/svirt-interpose.static: $(SVIRT_SRC) svirt/svirt.h lib/error.c include/measured/error.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -DSVIRT_CONF_PATH=\"$(SVIRT_CONF)\" $(SVIRT_STATIC_CFLAGS) $(SVIRT_STATIC_LDFLAGS) \
	    -static -o $@ $(SVIRT_SRC) lib/error.c \
	    -lselinux -lpcre2-8 -lxenstore -lxentoolcore

$(O)/tests/svirt/guest_probe $(O)/tests/svirt/xs_stub: $(O)/tests/svirt/%: tests/svirt/%.c
	@mkdir -p $(@D)
	$(CC) $(SVIRT_STATIC_CFLAGS) $(SVIRT_STATIC_LDFLAGS) -static -o $@ $<

# The SELinux policy module (reference-policy interfaces, built with
# Debian's selinux-policy-dev).  Its Makefile works in the current
# directory, so the sources are copied next to the output; our own command
# line (O=, prefix=, ...) is kept from it, and the store type is the one
# Debian ships (its Makefile would read /etc/selinux/config otherwise).
# Without that Makefile (SVIRT_POLICY=no, the default then) `all` and
# `install` leave the module out; the tests always need it.
SVIRT_POLICY_SRC := svirt/policy/svirt_interpose.te svirt/policy/svirt_interpose.if \
		    svirt/policy/svirt_interpose.fc
SVIRT_POLICY_PP  := $(O)/svirt/policy/svirt_interpose.pp
SELINUX_DEVEL_MK ?= /usr/share/selinux/devel/Makefile
SELINUX_NAME     ?= default
SVIRT_POLICY     ?= $(if $(wildcard $(SELINUX_DEVEL_MK)),yes,no)
ifeq ($(SVIRT_POLICY),yes)
all: $(SVIRT_POLICY_PP)
install-svirt: install-svirt-policy
endif
$(SVIRT_POLICY_PP): $(SVIRT_POLICY_SRC)
	@mkdir -p $(@D)
	cp $(SVIRT_POLICY_SRC) $(@D)/
	unset MAKEFLAGS MFLAGS MAKEOVERRIDES; \
	    $(MAKE) -C $(@D) -f $(SELINUX_DEVEL_MK) NAME=$(SELINUX_NAME) svirt_interpose.pp

$(O)/tests/svirt/%: tests/svirt/%.c $(SVIRT_LIB_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -Isvirt -o $@ $< $(SVIRT_LIB_OBJ) $(LIBA) \
	    $(shell $(PKG_CONFIG) --libs cmocka) $(SVIRT_LIBS) -lm

.PHONY: check-svirt check-svirt-unit check-svirt-integration svirt-static
svirt-static: $(O)/svirt-interpose.static

check: check-svirt
# tests/integration/browser_vm_start.sh starts the browser VM's start.sh
# through it
check-integration: $(SVIRT)
check-svirt: check-svirt-unit check-svirt-integration

check-svirt-unit: $(SVIRT_UNIT_BIN)
	@tests/svirt/run.sh unit $(SVIRT_UNIT_BIN)

check-svirt-integration: $(SVIRT) $(O)/svirt-interpose.static $(O)/tests/svirt/guest_probe \
			 $(O)/tests/svirt/xs_stub $(SVIRT_POLICY_PP)
	@SVIRT_BIN=$(abspath $(SVIRT)) SVIRT_STATIC=$(abspath $(O)/svirt-interpose.static) \
	    SVIRT_PROBE=$(abspath $(O)/tests/svirt/guest_probe) \
	    SVIRT_XS_STUB=$(abspath $(O)/tests/svirt/xs_stub) \
	    SVIRT_POLICY_PP=$(abspath $(SVIRT_POLICY_PP)) \
	    tests/svirt/run.sh integration tests/svirt/t_*.sh

install: install-svirt
.PHONY: install-svirt install-svirt-policy
install-svirt: $(SVIRT)
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(man8dir)
	$(INSTALL_PROGRAM) $(SVIRT) $(DESTDIR)$(sbindir)/svirt-interpose
	$(INSTALL) -m 755 svirt/svirt-bridge-fwd.sh $(DESTDIR)$(sbindir)/svirt-bridge-fwd
	$(INSTALL_DATA) man/svirt-interpose.8 $(DESTDIR)$(man8dir)/svirt-interpose.8
	$(INSTALL_DATA) man/svirt-bridge-fwd.8 $(DESTDIR)$(man8dir)/svirt-bridge-fwd.8

# The policy package goes where other software's SELinux policy packages
# go (semodule -i loads it), its interface file where policy developers'
# tools look for it.
install-svirt-policy: $(SVIRT_POLICY_PP)
	$(INSTALL) -d $(DESTDIR)$(datadir)/selinux/packages \
	    $(DESTDIR)$(datadir)/selinux/devel/include/contrib
	$(INSTALL_DATA) $(SVIRT_POLICY_PP) $(DESTDIR)$(datadir)/selinux/packages/svirt_interpose.pp
	$(INSTALL_DATA) svirt/policy/svirt_interpose.if \
	    $(DESTDIR)$(datadir)/selinux/devel/include/contrib/svirt_interpose.if

-include $(SVIRT_OBJ:.o=.d)

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
# directory, so the sources are copied next to the output.
SVIRT_POLICY_SRC := svirt/policy/svirt_interpose.te svirt/policy/svirt_interpose.if \
		    svirt/policy/svirt_interpose.fc
SVIRT_POLICY_PP  := $(O)/svirt/policy/svirt_interpose.pp
SELINUX_DEVEL_MK ?= /usr/share/selinux/devel/Makefile
all: $(SVIRT_POLICY_PP)
$(SVIRT_POLICY_PP): $(SVIRT_POLICY_SRC)
	@mkdir -p $(@D)
	cp $(SVIRT_POLICY_SRC) $(@D)/
	$(MAKE) -C $(@D) -f $(SELINUX_DEVEL_MK) svirt_interpose.pp

$(O)/tests/svirt/%: tests/svirt/%.c $(SVIRT_LIB_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -Isvirt -o $@ $< $(SVIRT_LIB_OBJ) $(LIBA) \
	    $(shell $(PKG_CONFIG) --libs cmocka) $(SVIRT_LIBS) -lm

.PHONY: check-svirt check-svirt-unit check-svirt-integration svirt-static
svirt-static: $(O)/svirt-interpose.static

check: check-svirt
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
.PHONY: install-svirt
# The policy module goes where SELinux policy packages of other software
# go (semodule -i loads it); its interface file where policy developers'
# tools look for it.
install-svirt: $(SVIRT) $(SVIRT_POLICY_PP)
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(man8dir) \
	    $(DESTDIR)$(datadir)/selinux/packages $(DESTDIR)$(datadir)/selinux/devel/include/contrib
	$(INSTALL_PROGRAM) $(SVIRT) $(DESTDIR)$(sbindir)/svirt-interpose
	$(INSTALL_DATA) man/svirt-interpose.8 $(DESTDIR)$(man8dir)/svirt-interpose.8
	$(INSTALL_DATA) $(SVIRT_POLICY_PP) $(DESTDIR)$(datadir)/selinux/packages/svirt_interpose.pp
	$(INSTALL_DATA) svirt/policy/svirt_interpose.if \
	    $(DESTDIR)$(datadir)/selinux/devel/include/contrib/svirt_interpose.if

-include $(SVIRT_OBJ:.o=.d)

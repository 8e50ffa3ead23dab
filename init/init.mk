# measured-init: the static PID 1 of the initramfs (see docs/init-footprint.md).
#
# It is linked from explicit objects, not from libmeasured.a, and compiled
# separately (in $(O)/init-obj) without sanitizer or fuzzer flags, which
# cannot link -static.  Linking explicit objects makes any new dependency
# on an EVP/tpm2-tss/json-c part of the library a link error here instead
# of a silent 4 MiB growth.  Installed in $(libexecdir)/measured/: it is not
# a command to run by hand, and `measured mkinitramfs` finds it there.

INIT_SRC     := $(sort $(wildcard init/*.c))
# lib/measure/ and lib/digest_banks.c are the definition of what is
# measured, compiled into the library and the init alike.
INIT_LIBSRC  := lib/buf.c lib/error.c lib/cel_write.c lib/digest_banks.c lib/file.c \
                $(sort $(wildcard lib/initcore/*.c lib/measure/*.c))
INIT_OBJ     := $(patsubst %.c,$(O)/init-obj/%.o,$(INIT_SRC) $(INIT_LIBSRC))
INIT_CFLAGS   = $(filter-out -fsanitize% -fprofile% --coverage -flto%,$(ALL_CFLAGS))
INIT_LDFLAGS  = $(filter-out -fsanitize% -fprofile% --coverage -flto%,$(LDFLAGS))
INIT_BIN     := $(O)/measured-init
initexecdir  ?= $(libexecdir)/measured

all: $(INIT_BIN)

$(O)/init-obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(M_CPPFLAGS) $(CPPFLAGS) $(INIT_CFLAGS) -MMD -MP -c -o $@ $<

$(INIT_BIN): $(INIT_OBJ)
	$(CC) $(INIT_CFLAGS) $(INIT_LDFLAGS) -static -o $@ $(INIT_OBJ) -lcrypto

# `measured mkinitramfs` takes measured-init from here unless --init says otherwise.
$(O)/cmd/cmd_mkinitramfs.o: M_CPPFLAGS += -DMEASURED_INIT_DEFAULT=\"$(initexecdir)/measured-init\"
# gzip for the initramfs (zlib).
LIBS_ALL += -lz

# tests/boot/held-swap.sh drives init/held.c on a real loop device.
HELD_SWAP := $(O)/tests/held-swap
$(HELD_SWAP): tests/boot/held_swap.c $(O)/init-obj/init/held.o $(O)/init-obj/lib/error.o
	@mkdir -p $(@D)
	$(CC) $(M_CPPFLAGS) $(CPPFLAGS) -Iinit $(INIT_CFLAGS) $(INIT_LDFLAGS) -o $@ $^

.PHONY: install-init check-boot
install: install-init
install-init: $(INIT_BIN)
	$(INSTALL) -d $(DESTDIR)$(initexecdir) $(DESTDIR)$(man8dir)
	$(INSTALL_PROGRAM) $(INIT_BIN) $(DESTDIR)$(initexecdir)/measured-init
	$(INSTALL_DATA) man/measured-init.8 $(DESTDIR)$(man8dir)/

check: check-boot
check-boot: $(INIT_BIN) $(MEASURED) $(HELD_SWAP)
	@MEASURED_INIT=$(abspath $(INIT_BIN)) tests/boot/run.sh tests/boot

-include $(INIT_OBJ:.o=.d)

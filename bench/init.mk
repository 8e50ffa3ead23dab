# bench/bench_init.sh's helper: the files an initramfs needs for given
# programs, resolved with lib/initramfs/elfdeps.c as mkinitramfs does.
# ($(O)/measured-init is named directly: init/init.mk may be read later.)
BENCH_INITDEPS := $(O)/bench/bench_initdeps

bench: $(BENCH_INITDEPS) $(O)/measured-init

$(BENCH_INITDEPS): bench/bench_initdeps.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS_ALL)

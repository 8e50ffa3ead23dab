# Benchmark drivers: small C programs over libmeasured that bench/bench_*.sh
# run (make bench).  bench_verify loops the offline quote verification.
BENCH_VERIFY := $(O)/bench/bench_verify

bench: $(BENCH_VERIFY)

$(BENCH_VERIFY): bench/bench_verify.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LIBS_ALL) $(LDLIBS)

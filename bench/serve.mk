# The verifier's load generator (bench/bench_serve.sh), an HTTPS client on OpenSSL.
SERVE_LOAD := $(O)/bench/serve_load
$(SERVE_LOAD): bench/serve_load.c $(PART_OBJ) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(PART_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(PART_OBJ) $(LIBA) \
	    $(shell $(PKG_CONFIG) --libs openssl) $(LIBS_ALL)
bench: $(SERVE_LOAD)
# the fleet tests (tests/integration/fleet*.sh) drive the verifiers with it
ifneq ($(WITH_VERIFIER),no)
check-integration: $(SERVE_LOAD)
endif

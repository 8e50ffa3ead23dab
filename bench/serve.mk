# The verifier's load generator (bench/bench_serve.sh), linked with libcurl.
SERVE_LOAD := $(O)/bench/serve_load
$(SERVE_LOAD): bench/serve_load.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) \
	    $(shell $(PKG_CONFIG) --libs libcurl) $(LIBS_ALL)
bench: $(SERVE_LOAD)

# The attestation agent (lib/agent/, cmd/cmd_attest.c) speaks HTTPS with
# libcurl; its flags are added here so the top Makefile stays untouched.
M_CPPFLAGS += $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
LIBS_ALL   += $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)

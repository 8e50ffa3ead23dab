# The verifier (`measured serve`): server/*.c link into the measured binary
# with the subcommands; the store (lib/store) and the HTTP/TLS stack need
# libmicrohttpd, SQLite and libpq.
SERVER_PKGS   := libmicrohttpd gnutls sqlite3 libpq
SERVER_SRC    := $(sort $(wildcard server/*.c))
SERVER_OBJ    := $(SERVER_SRC:%.c=$(O)/%.o)
CMD_OBJ       += $(SERVER_OBJ)
PKG_CFLAGS    += $(shell $(PKG_CONFIG) --cflags $(SERVER_PKGS) 2>/dev/null)
LIBS_ALL      += $(shell $(PKG_CONFIG) --libs $(SERVER_PKGS) 2>/dev/null)

$(SERVER_OBJ): M_CPPFLAGS += -Iserver

-include $(SERVER_OBJ:.o=.d)

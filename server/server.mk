# The verifier (`measured serve`, `measured admin`): server/*.c and its
# store (server/store/: SQLite and PostgreSQL behind one interface) link
# into the measured command, not into libmeasured, with libmicrohttpd,
# GnuTLS, SQLite and libpq.  `make WITH_VERIFIER=no` leaves it out.
ifneq ($(WITH_VERIFIER),no)
SERVER_PKGS   := libmicrohttpd gnutls sqlite3 libpq
$(call pkg_check,$(SERVER_PKGS))
SERVER_SRC    := $(sort $(wildcard server/*.c server/store/*.c))
SERVER_OBJ    := $(SERVER_SRC:%.c=$(O)/%.o)
PART_OBJ      += $(SERVER_OBJ)
PART_CPPFLAGS += -Iserver -Iserver/store
LIBS_ALL      += $(shell $(PKG_CONFIG) --libs $(SERVER_PKGS) 2>/dev/null)

$(SERVER_OBJ): M_CPPFLAGS += -Iserver -Iserver/store $(shell $(PKG_CONFIG) --cflags $(SERVER_PKGS) 2>/dev/null)
endif

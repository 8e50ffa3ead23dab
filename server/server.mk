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

# The dashboard's page, script and style (server/dashboard/), embedded as
# C arrays (xxd -i) so the verifier serves them with no file beside it.
ifneq ($(WITH_VERIFIER),no)
DASH_FILES := server/dashboard/index.html server/dashboard/app.js server/dashboard/style.css
DASH_OBJ   := $(O)/server/dash_assets.o
PART_OBJ   += $(DASH_OBJ)

$(O)/server/dash_assets.c: $(DASH_FILES) server/server.mk
	@mkdir -p $(@D)
	@{ echo '/* generated from server/dashboard/ by server/server.mk */'; \
	   echo '#include "dashboard.h"'; \
	   i=0; for f in $(DASH_FILES); do \
	     echo "static const unsigned char a$$i[] = {"; xxd -i < $$f; echo "};"; i=$$((i+1)); \
	   done; \
	   echo 'const struct srv_dash_asset srv_dash_assets[] = {'; \
	   i=0; for f in $(DASH_FILES); do \
	     case $$f in *.html) t='text/html; charset=utf-8';; *.js) t='text/javascript; charset=utf-8';; \
	       *.css) t='text/css; charset=utf-8';; esac; \
	     echo "	{ \"$${f##*/}\", \"$$t\", a$$i, sizeof(a$$i) },"; i=$$((i+1)); \
	   done; \
	   echo '};'; \
	   echo 'const size_t srv_dash_nassets = sizeof(srv_dash_assets) / sizeof(srv_dash_assets[0]);'; \
	 } > $@.tmp && mv $@.tmp $@

$(DASH_OBJ): $(O)/server/dash_assets.c
	$(CC) $(ALL_CPPFLAGS) -Iserver $(ALL_CFLAGS) -c -o $@ $<
endif

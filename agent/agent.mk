# The attestation agent (`measured attest`): agent/*.c link into the
# measured command, not into libmeasured, with libcurl for HTTPS.
# `make WITH_AGENT=no` leaves it out.
ifneq ($(WITH_AGENT),no)
$(call pkg_check,libcurl)
AGENT_SRC     := $(sort $(wildcard agent/*.c))
AGENT_OBJ     := $(AGENT_SRC:%.c=$(O)/%.o)
PART_OBJ      += $(AGENT_OBJ)
PART_CPPFLAGS += -Iagent
LIBS_ALL      += $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)

$(AGENT_OBJ): M_CPPFLAGS += -Iagent $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
endif

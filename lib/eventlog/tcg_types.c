// SPDX-License-Identifier: MIT
/* Placeholder: replaced by the TCG parser's event type table. */
#include <stddef.h>
#include "measured/eventlog.h"

const char *m_tcg_event_type_name(uint32_t type)
{
	(void)type;
	return NULL;
}

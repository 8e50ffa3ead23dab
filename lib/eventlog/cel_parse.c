// SPDX-License-Identifier: MIT
/* Placeholder until the cel parser lands: every log of this format is refused. */
#include <errno.h>
#include "measured/error.h"
#include "measured/eventlog.h"

int m_cel_parse(struct m_log *log)
{
	return m_err(-EOPNOTSUPP, "%s: cel logs are not supported yet", log->name);
}

// SPDX-License-Identifier: MIT
/* Placeholder until the ima parser lands: every log of this format is refused. */
#include <errno.h>
#include "measured/error.h"
#include "measured/eventlog.h"

int m_ima_parse(struct m_log *log)
{
	return m_err(-EOPNOTSUPP, "%s: ima logs are not supported yet", log->name);
}

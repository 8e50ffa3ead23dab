// SPDX-License-Identifier: MIT
/*
 * Fuzz the event log front door (format detection, the TCG parser and the
 * others it dispatches to) and the replay: no input may crash, leak, read
 * out of bounds, or yield a parsed log whose events point outside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include "measured/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_log *log = NULL;
	struct m_pcrs *p;

	if (m_log_parse(data, size, "fuzz", &log) < 0)
		return 0;
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];

		/* event data lies inside the log's own copy */
		if (e->data_len && (e->data < log->raw || e->data_len > log->raw_len ||
				    (size_t)(e->data - log->raw) > log->raw_len - e->data_len))
			abort();
		if (e->offset >= log->raw_len && log->format != M_LOG_CEL_JSON && log->format != M_LOG_IMA_ASCII)
			abort();
		if (!e->extends && e->type != 3 &&
		    (log->format == M_LOG_TCG_SHA1 || log->format == M_LOG_TCG_AGILE))
			abort();	/* only EV_NO_ACTION is left out of the replay */
	}
	p = malloc(sizeof(*p));
	if (p) {
		m_log_replay(log, p);
		free(p);
	}
	m_log_free(log);
	return 0;
}

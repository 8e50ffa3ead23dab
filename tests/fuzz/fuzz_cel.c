// SPDX-License-Identifier: MIT
/*
 * CEL-JSON reader under libFuzzer: the strict path every log goes through
 * (m_log_parse, which detects CEL by its first byte) and the torn-tail
 * path, each followed by a replay of what was accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "measured/cel.h"
#include "measured/error.h"
#include "measured/eventlog.h"

static void replay(const struct m_log *log)
{
	struct m_pcrs *p = calloc(1, sizeof(*p));

	if (p)
		(void)m_log_replay(log, p);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_log *log = NULL;

	if (m_log_parse(data, size, "fuzz", &log) == 0) {
		replay(log);
		m_log_free(log);
	}
	if (m_cel_parse_buf(data, size, "fuzz", true, &log) == 0) {
		/* whatever the torn-tail reader accepts must be sane */
		for (size_t i = 0; i < log->count; i++)
			if (log->ev[i].extends && (log->ev[i].pcr >= M_PCR_COUNT ||
						   (log->ev[i].banks & ~log->banks)))
				abort();
		replay(log);
		m_log_free(log);
	}
	m_err_clear();
	return 0;
}

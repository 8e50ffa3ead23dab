// SPDX-License-Identifier: MIT
/*
 * Fuzz the IMA measurement list parser, binary and ASCII: through format
 * detection (m_log_parse) and directly in each format, then replay.  No
 * input may crash, leak or read out of bounds, and a parsed list must be
 * consistent: records inside the input, PCRs below 24, printable
 * descriptions, banks within the log's banks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "measured/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct m_log *log)
{
	struct m_pcrs *p = malloc(sizeof(*p));

	if (!p)
		return;
	if (log->count == 0 || !(log->banks & M_BANK_BIT(M_SHA1)))
		abort();
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];

		if (e->data_len && (e->data < log->raw || e->data_len > log->raw_len ||
				    (size_t)(e->data - log->raw) > log->raw_len - e->data_len))
			abort();
		if (e->offset >= log->raw_len || e->pcr >= M_PCR_COUNT || !e->extends)
			abort();
		if (e->banks & ~log->banks)
			abort();
		for (const char *c = e->desc; c && *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				abort();
	}
	if (m_log_replay(log, p) < 0)
		abort();
	free(p);
}

static void direct(const uint8_t *data, size_t size, enum m_log_format fmt)
{
	struct m_log *log = calloc(1, sizeof(*log));

	if (!log)
		return;
	log->name = strdup("fuzz");
	log->raw = malloc(size ? size : 1);
	if (!log->name || !log->raw) {
		m_log_free(log);
		return;
	}
	memcpy(log->raw, data, size);
	log->raw_len = size;
	log->format = fmt;
	if (m_ima_parse(log) == 0)
		check(log);
	else if (log->count != 0 || log->ev)
		abort();	/* never partial success */
	m_log_free(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_log *log = NULL;

	if (m_log_parse(data, size, "fuzz", &log) == 0) {
		if (log->format == M_LOG_IMA_BINARY || log->format == M_LOG_IMA_ASCII)
			check(log);
		m_log_free(log);
	}
	if (size > 0) {
		direct(data, size, M_LOG_IMA_BINARY);
		direct(data, size, M_LOG_IMA_ASCII);
	}
	return 0;
}

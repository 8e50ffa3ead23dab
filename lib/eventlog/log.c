// SPDX-License-Identifier: MIT
/* Event logs: loading, format detection, replay.  Parsers are per format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "measured/eventlog.h"
#include "measured/file.h"
#include "tcg_desc.h"

const char *m_log_format_name(enum m_log_format f)
{
	switch (f) {
	case M_LOG_TCG_SHA1:   return "tcg-sha1";
	case M_LOG_TCG_AGILE:  return "tcg-crypto-agile";
	case M_LOG_IMA_BINARY: return "ima-binary";
	case M_LOG_IMA_ASCII:  return "ima-ascii";
	case M_LOG_CEL_JSON:   return "cel-json";
	}
	return "unknown";
}

/*
 * IMA's binary list starts with a record: le32 PCR, 20-byte template hash,
 * le32 template-name length, the name ("ima", "ima-ng", ...).  A TCG log
 * starts with a TCG_PCR_EVENT whose name-length position holds the event
 * type's high bytes or the digest, so a short printable "ima..." name
 * there is the IMA list's mark.
 */
static bool looks_ima_binary(const uint8_t *d, size_t len)
{
	uint32_t nlen;

	if (len < 28)
		return false;
	nlen = (uint32_t)d[24] | (uint32_t)d[25] << 8 | (uint32_t)d[26] << 16 | (uint32_t)d[27] << 24;
	if (nlen < 3 || nlen > 255 || nlen > len - 28)
		return false;
	/* built-in "ima..."/"evm-sig", or a custom format "d-ng|n-ng|..." */
	return memcmp(d + 28, "ima", 3) == 0 || memcmp(d + 28, "evm", 3) == 0 ||
	       memchr(d + 28, '|', nlen) != NULL;
}

/* ASCII IMA: "PCR HEX TEMPLATE ..." lines, e.g. "10 1a2b... ima-ng sha256:..." */
static bool looks_ima_ascii(const uint8_t *d, size_t len)
{
	size_t i = 0, start;

	if (len > 0 && d[0] == ' ')	/* the kernel prints the PCR "%2d" */
		i = 1;
	start = i;
	while (i < len && i < start + 3 && d[i] >= '0' && d[i] <= '9')
		i++;
	if (i == start || i >= len || d[i] != ' ')
		return false;
	i++;
	return i < len && ((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f'));
}

static bool looks_cel_json(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t')
			continue;
		return d[i] == 0x1e || d[i] == '{' || d[i] == '[';
	}
	return false;
}

void m_log_free(struct m_log *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->count; i++)
		free(log->ev[i].desc);
	free(log->ev);
	free(log->raw);
	free(log->name);
	free(log);
}

int m_log_parse(const void *data, size_t len, const char *name, struct m_log **ret)
{
	return m_log_parse_flags(data, len, name, 0, ret);
}

char *m_event_describe(const struct m_log *log, const struct m_event *e)
{
	if (e->desc)
		return strdup(e->desc);
	if (log->format == M_LOG_TCG_SHA1 || log->format == M_LOG_TCG_AGILE)
		return m_tcg_describe(e->type, e->data, e->data_len);
	return NULL;
}

int m_log_parse_flags(const void *data, size_t len, const char *name, unsigned flags, struct m_log **ret)
{
	struct m_log *log;
	int r;

	if (len > M_LOG_MAX_SIZE)
		return m_err(-EFBIG, "%s: %zu bytes, over the limit of %u", name, len, M_LOG_MAX_SIZE);
	if (len == 0)
		return m_err(-EINVAL, "%s: empty event log", name);
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->name = strdup(name);
	log->raw = malloc(len);
	if (!log->name || !log->raw) {
		m_log_free(log);
		return -ENOMEM;
	}
	memcpy(log->raw, data, len);
	log->raw_len = len;
	log->flags = flags;

	if (looks_cel_json(log->raw, len)) {
		log->format = M_LOG_CEL_JSON;
		r = m_cel_parse(log);
	} else if (looks_ima_binary(log->raw, len)) {
		log->format = M_LOG_IMA_BINARY;
		r = m_ima_parse(log);
	} else if (looks_ima_ascii(log->raw, len)) {
		log->format = M_LOG_IMA_ASCII;
		r = m_ima_parse(log);
	} else {
		r = m_tcg_parse(log);	/* sets M_LOG_TCG_SHA1 or M_LOG_TCG_AGILE */
	}
	if (r < 0) {
		m_log_free(log);
		return r;
	}
	*ret = log;
	return 0;
}

int m_log_load(const char *path, struct m_log **ret)
{
	uint8_t *buf;
	size_t len;
	int r = m_read_file(path, M_LOG_MAX_SIZE, &buf, &len);

	if (r < 0)
		return r;
	r = m_log_parse(buf, len, path, ret);
	free(buf);
	return r;
}

int m_log_replay_into(const struct m_log *log, struct m_pcrs *acc)
{
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];

		if (!e->extends)
			continue;
		if (e->pcr >= M_PCR_COUNT)
			return m_err(-ERANGE, "%s: record %u (offset %llu): PCR %u out of range", log->name,
				     e->recnum, (unsigned long long)e->offset, e->pcr);
		for_each_bank(b, e->banks) {
			int r;

			if (!(acc->present[b] & (1u << e->pcr))) {
				m_pcr_initial(b, e->pcr, log->startup_locality, acc->v[b][e->pcr]);
				acc->present[b] |= 1u << e->pcr;
			}
			r = m_extend(b, acc->v[b][e->pcr], e->digest[b]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int m_log_replay(const struct m_log *log, struct m_pcrs *ret)
{
	struct m_pcrs *acc = calloc(1, sizeof(*acc));
	int r;

	if (!acc)
		return -ENOMEM;
	r = m_log_replay_into(log, acc);
	if (r == 0)
		*ret = *acc;
	free(acc);
	return r;
}

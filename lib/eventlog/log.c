// SPDX-License-Identifier: MIT
/* Event logs: loading, format detection, replay.  Parsers are per format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "measured/eventlog.h"
#include "log_priv.h"
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
	if (r == 0)
		r = m_log_start_rules(log);
	if (r < 0) {
		m_log_free(log);
		return r;
	}
	*ret = log;
	return 0;
}

struct m_event *m_events_append(struct m_event **ev, size_t count, size_t *cap, int *ret_err)
{
	struct m_event *e;

	if (count >= M_LOG_MAX_EVENTS) {
		*ret_err = -E2BIG;
		return NULL;
	}
	if (count >= *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct m_event *n;

		if (ncap > M_LOG_MAX_EVENTS)
			ncap = M_LOG_MAX_EVENTS;
		n = realloc(*ev, ncap * sizeof(*n));
		if (!n) {
			*ret_err = -ENOMEM;
			return NULL;
		}
		*ev = n;
		*cap = ncap;
	}
	e = &(*ev)[count];
	memset(e, 0, sizeof(*e));
	return e;
}

/* PC Client PFP 10.4.5.3: EV_NO_ACTION with "StartupLocality\0" and one byte */
#define EV_NO_ACTION 0x00000003u
#define EV_EFI_HCRTM_EVENT 0x80000010u
static const char locality_sig[16] = "StartupLocality";

static int start_err(const struct m_log *log, const struct m_event *e, const char *what)
{
	if (log->format == M_LOG_CEL_JSON)
		return m_err(-EBADMSG, "%s: record %u (line %u): %s", log->name, e->recnum, e->line, what);
	return m_err(-EBADMSG, "%s: record %u at offset 0x%llx: %s", log->name, e->recnum,
		     (unsigned long long)e->offset, what);
}

int m_log_start_rules(struct m_log *log)
{
	bool locality_seen = false, pcr0_extended = false, hcrtm = false;
	uint8_t locality = 0;
	char what[120];

	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];

		if (!e->extends && e->type == EV_NO_ACTION && e->data_len == sizeof(locality_sig) + 1 &&
		    memcmp(e->data, locality_sig, sizeof(locality_sig)) == 0) {
			uint8_t loc = e->data[sizeof(locality_sig)];

			if (locality_seen)
				return start_err(log, e, "a second StartupLocality event");
			if (pcr0_extended)
				return start_err(log, e, "StartupLocality after PCR 0 was extended");
			if (e->pcr != 0)
				return start_err(log, e, "StartupLocality logged for a PCR other than 0");
			if (loc != 0 && loc != 3 && loc != 4) {
				snprintf(what, sizeof(what), "StartupLocality %u is not 0, 3 or 4 (H-CRTM)", loc);
				return start_err(log, e, what);
			}
			if (hcrtm && loc != 4)
				return start_err(log, e, "StartupLocality other than 4 in a log with an H-CRTM event");
			locality_seen = true;
			locality = loc;
			continue;
		}
		if (!e->extends)
			continue;
		if (e->type == EV_EFI_HCRTM_EVENT) {
			if (e->pcr != 0)
				return start_err(log, e, "EV_EFI_HCRTM_EVENT for a PCR other than 0");
			if (pcr0_extended)
				return start_err(log, e, "EV_EFI_HCRTM_EVENT after PCR 0 was extended: an H-CRTM "
							 "sequence runs before anything else is measured");
			if (locality_seen && locality != 4) {
				snprintf(what, sizeof(what), "EV_EFI_HCRTM_EVENT with StartupLocality %u: an H-CRTM "
					 "sequence starts PCR 0 at locality 4", locality);
				return start_err(log, e, what);
			}
			hcrtm = true;
		}
		if (e->pcr == 0)
			pcr0_extended = true;
	}
	/* _TPM_Hash_Start resets PCR 0 to 0...04 before the H-CRTM digest
	 * is extended (TPM 2.0 Library Part 1, H-CRTM event sequence) */
	log->startup_locality = hcrtm ? 4 : locality;
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

// SPDX-License-Identifier: MIT
/*
 * Linux IMA measurement list: what is common to the binary and the ASCII
 * list.  Each entry extends, in every PCR bank, the hash in that bank's
 * algorithm of the template data (kernel ima_calc_field_array_hash(), per
 * bank since Linux 5.8); the list itself shows only the SHA-1 one.  A
 * violation is listed with an all-zero hash and extends all ones.
 * docs/eventlog-ima.md has the details and the sources.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "ima_priv.h"
#include "log_priv.h"

char *ima_desc(const uint8_t *s, size_t len)
{
	size_t n = 0;
	char *d;

	while (n < len && s[n] != '\0')
		n++;
	d = malloc(n + 1);
	if (!d)
		return NULL;
	/* descriptions are printed: keep them to printable ASCII */
	for (size_t i = 0; i < n; i++)
		d[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	d[n] = '\0';
	return d;
}

/*
 * The 'ima' template is hashed without field lengths and with its name
 * (and the NUL after it) padded with zeros to IMA_EVENT_NAME_LEN_MAX + 1
 * = 256 bytes (kernel ima_calc_field_array_hash_tfm()).
 */
int ima_legacy_hashed(const uint8_t *digest, size_t dlen, const uint8_t *name, size_t nlen,
		      uint8_t out[IMA_HASH_LEN + IMA_LEGACY_NAME_BUF])
{
	if (dlen > IMA_HASH_LEN || nlen >= IMA_LEGACY_NAME_BUF)
		return -EINVAL;
	memset(out, 0, IMA_HASH_LEN + IMA_LEGACY_NAME_BUF);
	memcpy(out, digest, dlen);
	memcpy(out + dlen, name, nlen);
	return (int)(dlen + IMA_LEGACY_NAME_BUF);
}

static bool all_zero(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i])
			return false;
	return true;
}

int ima_add(struct ima_ctx *c, struct ima_entry *e, uint32_t line, uint64_t offset, const char *where)
{
	struct m_log *log = c->log;
	bool violation = all_zero(e->thash, IMA_HASH_LEN);
	struct m_event *ev;
	int r;

	if (e->pcr >= M_PCR_COUNT) {
		r = m_err(-ERANGE, "%s: %s: PCR %u out of range (0-%u)", log->name, where, e->pcr,
			  M_PCR_COUNT - 1);
		goto fail;
	}
	ev = m_events_append(&log->ev, log->count, &c->cap, &r);
	if (!ev) {
		if (r == -E2BIG)
			r = m_err(r, "%s: %s: more than %u entries", log->name, where, M_LOG_MAX_EVENTS);
		goto fail;
	}
	if (!e->known)
		c->unknown_seen = true;
	if (e->known && !violation) {
		uint8_t h[IMA_HASH_LEN];
		char want[2 * IMA_HASH_LEN + 1], got[2 * IMA_HASH_LEN + 1];

		r = m_digest_one(M_SHA1, e->hashed, e->hashed_len, h);
		if (r < 0)
			goto fail;
		if (memcmp(h, e->thash, IMA_HASH_LEN) != 0) {
			m_hex(e->thash, IMA_HASH_LEN, want);
			m_hex(h, IMA_HASH_LEN, got);
			r = m_err(-EBADMSG, "%s: %s: template hash %s is not SHA-1 of the template data (%s)",
				  log->name, where, want, got);
			goto fail;
		}
	}

	for_each_bank(b, log->banks) {
		if (violation) {
			/* kernel ima_init_digests(): 0xff over the bank's digest size */
			memset(ev->digest[b], 0xff, m_bank_info(b)->size);
		} else if (b == M_SHA1) {
			memcpy(ev->digest[b], e->thash, IMA_HASH_LEN);
		} else if (e->known && !c->unknown_seen) {
			r = m_digest_one(b, e->hashed, e->hashed_len, ev->digest[b]);
			if (r < 0)
				goto fail;
		}
	}
	ev->recnum = (uint32_t)log->count;
	ev->offset = offset;
	ev->line = line;
	ev->pcr = e->pcr;
	ev->type = 0;
	ev->extends = true;
	ev->banks = log->banks;
	ev->data = e->data;
	ev->data_len = (uint32_t)e->data_len;
	ev->desc = e->desc;
	e->desc = NULL;
	log->count++;
	return 0;
fail:
	free(e->desc);
	e->desc = NULL;
	return r;
}

static void drop_events(struct m_log *log)
{
	for (size_t i = 0; i < log->count; i++)
		free(log->ev[i].desc);
	free(log->ev);
	log->ev = NULL;
	log->count = 0;
}

int m_ima_parse(struct m_log *log)
{
	struct ima_ctx c = { .log = log };
	int r;

	/*
	 * Every bank we can compute, or those asked for: the kernel extends
	 * each allocated TPM bank, and the caller compares the banks the TPM
	 * has (or the ones it quoted).
	 */
	unsigned want = (log->flags & M_LOG_IMA_BANKS(0)) ? M_LOG_IMA_BANKS_OF(log->flags) : M_BANKS_ALL;

	log->banks = M_BANK_BIT(M_SHA1);
	for (enum m_bank b = 0; b < M_BANK_COUNT; b++)
		if ((want & M_BANK_BIT(b)) && m_bank_supported(b))
			log->banks |= M_BANK_BIT(b);

	switch (log->format) {
	case M_LOG_IMA_BINARY:
		r = ima_parse_binary(&c);
		break;
	case M_LOG_IMA_ASCII:
		r = ima_parse_ascii(&c);
		break;
	default:
		r = m_err(-EINVAL, "%s: not an IMA measurement list", log->name);
		break;
	}
	if (r == 0 && log->count == 0)
		r = m_err(-EINVAL, "%s: no measurements in the IMA list", log->name);
	if (r < 0) {
		drop_events(log);
		return r;
	}
	if (c.unknown_seen) {
		/*
		 * Only the listed SHA-1 hash is known for some entry: a replay of
		 * other banks would silently skip it, so the whole log is sha1.
		 */
		log->banks = M_BANK_BIT(M_SHA1);
		for (size_t i = 0; i < log->count; i++)
			log->ev[i].banks = log->banks;
	}
	return 0;
}

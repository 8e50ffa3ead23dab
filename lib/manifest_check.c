// SPDX-License-Identifier: MIT
/*
 * Comparing a reference manifest with evidence: event logs (event by event,
 * naming the first that differs) and PCR values.  The event type is not
 * covered by any digest, so only digests decide; types are reported for
 * the reader's benefit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "measured/manifest.h"

const char *m_check_status_name(enum m_check_status s)
{
	switch (s) {
	case M_CHECK_MATCH:		return "match";
	case M_CHECK_EVENT_DIFFERS:	return "event-differs";
	case M_CHECK_EVENT_MISSING:	return "event-missing";
	case M_CHECK_EVENT_EXTRA:	return "event-extra";
	case M_CHECK_VALUE_DIFFERS:	return "value-differs";
	case M_CHECK_NOT_COVERED:	return "not-covered";
	}
	return "unknown";
}

void m_check_result_free(struct m_check_result *r)
{
	free(r->items);
	r->items = NULL;
	r->count = 0;
}

static int push(struct m_check_result *r, const struct m_check_item *it)
{
	struct m_check_item *n = realloc(r->items, (r->count + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	r->items = n;
	r->items[r->count++] = *it;
	if (it->status != M_CHECK_MATCH)
		r->match = false;
	return 0;
}

struct found {
	const struct m_event *ev;
	const struct m_log *log;
};

static enum m_bank first_bank(unsigned mask)
{
	for_each_bank(b, mask)
		return b;
	return M_SHA256;
}

int m_manifest_check_logs(const struct m_manifest *m, struct m_log *const *logs, size_t n,
			  struct m_check_result *ret)
{
	struct m_check_result res = { .match = true };
	size_t nfound = 0, fstart[M_PCR_COUNT + 1] = { 0 }, estart[M_PCR_COUNT + 1] = { 0 };
	size_t fpos[M_PCR_COUNT], epos[M_PCR_COUNT];
	struct found *f = NULL;
	const struct m_ref_event **exp = NULL;
	int r = 0;

	/*
	 * Bucket both sides by PCR in one pass each (a verifier runs this for
	 * every attestation): the evidence's extending events in boot order
	 * across logs, and the manifest's events in extend order.
	 */
	for (size_t l = 0; l < n; l++)
		for (size_t k = 0; k < logs[l]->count; k++) {
			const struct m_event *e = &logs[l]->ev[k];

			if (e->extends && e->pcr < M_PCR_COUNT && (m->pcrs & (1u << e->pcr)) && (e->banks & m->banks))
				fstart[e->pcr + 1]++, nfound++;
		}
	for (size_t k = 0; k < m->count; k++)
		estart[m->ev[k].pcr + 1]++;
	for (unsigned p = 0; p < M_PCR_COUNT; p++) {
		fstart[p + 1] += fstart[p];
		estart[p + 1] += estart[p];
		fpos[p] = fstart[p];
		epos[p] = estart[p];
	}
	f = malloc((nfound ? nfound : 1) * sizeof(*f));
	exp = malloc((m->count ? m->count : 1) * sizeof(*exp));
	if (!f || !exp) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t l = 0; l < n; l++)
		for (size_t k = 0; k < logs[l]->count; k++) {
			const struct m_event *e = &logs[l]->ev[k];

			if (e->extends && e->pcr < M_PCR_COUNT && (m->pcrs & (1u << e->pcr)) && (e->banks & m->banks))
				f[fpos[e->pcr]++] = (struct found){ e, logs[l] };
		}
	for (size_t k = 0; k < m->count; k++)
		exp[epos[m->ev[k].pcr]++] = &m->ev[k];

	for (unsigned p = 0; p < M_PCR_COUNT; p++) {
		struct m_check_item it = { .pcr = p, .bank = first_bank(m->banks), .status = M_CHECK_MATCH };
		const struct found *fp = f + fstart[p];
		const struct m_ref_event **ep = exp + estart[p];
		size_t nf = fstart[p + 1] - fstart[p], ne = estart[p + 1] - estart[p], i;

		if (!(m->pcrs & (1u << p)))
			continue;
		if (nf == 0) {
			it.status = M_CHECK_NOT_COVERED;
			it.expected = ne ? ep[0] : NULL;
		} else {
			for (i = 0; i < ne && i < nf; i++) {
				unsigned common = ep[i]->d.banks & fp[i].ev->banks;
				bool differs = false;

				for_each_bank(b, common)
					if (memcmp(ep[i]->d.d[b], fp[i].ev->digest[b], m_bank_info(b)->size) != 0) {
						it.bank = b;
						differs = true;
						break;
					}
				if (differs) {
					it.status = M_CHECK_EVENT_DIFFERS;
					break;
				}
			}
			it.index = i;
			if (it.status == M_CHECK_MATCH && nf < ne)
				it.status = M_CHECK_EVENT_MISSING;
			else if (it.status == M_CHECK_MATCH && nf > ne)
				it.status = M_CHECK_EVENT_EXTRA;
			if (it.status != M_CHECK_MATCH) {
				it.expected = i < ne ? ep[i] : NULL;
				it.found = i < nf ? fp[i].ev : NULL;
				it.found_log = i < nf ? fp[i].log : NULL;
			}
		}
		r = push(&res, &it);
		if (r < 0)
			goto out;
	}
out:
	free(f);
	free(exp);
	if (r < 0) {
		m_check_result_free(&res);
		return r;
	}
	*ret = res;
	return 0;
}

int m_manifest_check_pcrs(const struct m_manifest *m, const struct m_pcrs *actual, struct m_check_result *ret)
{
	struct m_check_result res = { .match = true };

	for (unsigned p = 0; p < M_PCR_COUNT; p++) {
		struct m_check_item it = { .pcr = p, .bank = first_bank(m->banks), .status = M_CHECK_MATCH };
		int r;

		if (!(m->pcrs & (1u << p)))
			continue;
		for_each_bank(b, m_manifest_pcr_banks(m, p)) {
			if (!(actual->present[b] & (1u << p))) {
				it.status = M_CHECK_NOT_COVERED;
				it.bank = b;
				break;
			}
			if (memcmp(actual->v[b][p], m->values.v[b][p], m_bank_info(b)->size) != 0) {
				it.status = M_CHECK_VALUE_DIFFERS;
				it.bank = b;
				break;
			}
		}
		r = push(&res, &it);
		if (r < 0) {
			m_check_result_free(&res);
			return r;
		}
	}
	*ret = res;
	return 0;
}

static const char *type_label(uint32_t type, char *buf, size_t len)
{
	const char *n;

	/* type 0 marks records without a TCG type (CEL, IMA, our own), not EV_PREBOOT_CERT */
	if (type == 0)
		return "record";
	n = m_tcg_event_type_name(type);

	if (n)
		return n;
	snprintf(buf, len, "type 0x%x", type);
	return buf;
}

void m_check_describe(const struct m_check_item *it, char *buf, size_t len)
{
	char eh[2 * M_DIGEST_MAX + 1] = "", fh[2 * M_DIGEST_MAX + 1] = "", t1[32], t2[32];
	char *fdesc = it->found && it->found_log ? m_event_describe(it->found_log, it->found) : NULL;
	const char *bank = m_bank_info(it->bank)->name;
	size_t sz = m_bank_info(it->bank)->size;

	if (it->expected)
		m_hex(it->expected->d.d[it->bank], sz, eh);
	if (it->found)
		m_hex(it->found->digest[it->bank], sz, fh);
	switch (it->status) {
	case M_CHECK_MATCH:
		snprintf(buf, len, "PCR %u: match", it->pcr);
		break;
	case M_CHECK_EVENT_DIFFERS:
		snprintf(buf, len,
			 "PCR %u: event %zu differs: expected %s \"%s\" (%s) %s %s, found %s \"%s\" %s %s in %s record %u at offset %llu",
			 it->pcr, it->index, type_label(it->expected->type, t1, sizeof(t1)),
			 it->expected->description, it->expected->source, bank, eh,
			 type_label(it->found->type, t2, sizeof(t2)), fdesc ? fdesc : "", bank,
			 fh, it->found_log->name, it->found->recnum, (unsigned long long)it->found->offset);
		break;
	case M_CHECK_EVENT_MISSING:
		snprintf(buf, len, "PCR %u: event %zu missing: expected %s \"%s\" (%s) %s %s; the evidence ends before it",
			 it->pcr, it->index, type_label(it->expected->type, t1, sizeof(t1)),
			 it->expected->description, it->expected->source, bank, eh);
		break;
	case M_CHECK_EVENT_EXTRA:
		snprintf(buf, len, "PCR %u: unexpected event %zu: %s \"%s\" %s %s in %s record %u at offset %llu",
			 it->pcr, it->index, type_label(it->found->type, t2, sizeof(t2)),
			 fdesc ? fdesc : "", bank, fh, it->found_log->name, it->found->recnum,
			 (unsigned long long)it->found->offset);
		break;
	case M_CHECK_VALUE_DIFFERS:
		snprintf(buf, len, "PCR %u: %s value differs from the manifest", it->pcr, bank);
		break;
	case M_CHECK_NOT_COVERED:
		snprintf(buf, len, "PCR %u: the evidence does not cover this PCR (%s)", it->pcr, bank);
		break;
	}
	free(fdesc);
}

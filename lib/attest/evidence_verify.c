// SPDX-License-Identifier: MIT
/*
 * An evidence document against a trusted AK, a nonce and reference
 * manifests: the one check the verifier, `measured verify` and the
 * library's callers share (include/measured/attest.h, m_evidence_check()).
 * Its stages: key, logs, quote, manifests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "measured/manifest.h"
#include "measured/text.h"

static int fail_res(struct m_verify_result *res, enum m_verify_reason r, const char *what, int err)
{
	char *e = err ? m_text_escape_str(m_errmsg(err)) : NULL;

	res->reason = r;
	snprintf(res->msg, sizeof(res->msg), "%s%s", what, e ? e : "");
	free(e);
	return 0;
}

/* Both keys' public material compared by name (nameAlg-independent: all fields). */
static bool same_public(const TPMT_PUBLIC *a, const TPMT_PUBLIC *b)
{
	uint8_t na[2 + M_DIGEST_MAX], nb[2 + M_DIGEST_MAX];
	size_t la, lb;

	if (m_tpm_public_name(a, na, &la) < 0 || m_tpm_public_name(b, nb, &lb) < 0)
		return false;
	return la == lb && memcmp(na, nb, la) == 0;
}

void m_first_difference_clear(struct m_first_difference *d)
{
	free(d->expected_desc);
	free(d->expected_source);
	free(d->found_desc);
	memset(d, 0, sizeof(*d));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int copy_difference(size_t manifest, const struct m_check_item *it, struct m_first_difference *d)
{
	size_t sz = m_bank_info(it->bank)->size;

	memset(d, 0, sizeof(*d));
	d->manifest = manifest;
	d->pcr = it->pcr;
	d->bank = it->bank;
	d->status = it->status;
	d->index = it->index;
	if (it->expected) {
		d->has_expected = true;
		d->expected_type = it->expected->type;
		d->expected_desc = dup_or_null(it->expected->description);
		d->expected_source = dup_or_null(it->expected->source);
		if ((it->expected->description && !d->expected_desc) || (it->expected->source && !d->expected_source))
			goto nomem;
		if (it->expected->d.banks & M_BANK_BIT(it->bank))
			m_hex(it->expected->d.d[it->bank], sz, d->expected_digest);
	}
	if (it->found) {
		d->has_found = true;
		d->found_type = it->found->type;
		if (it->found->banks & M_BANK_BIT(it->bank))
			m_hex(it->found->digest[it->bank], sz, d->found_digest);
		d->found_record = it->found->recnum;
		d->found_offset = it->found->offset;
	}
	if (it->found && it->found_log) {
		/* the log's text is whatever the sender wrote: escaped */
		char *desc = m_event_describe(it->found_log, it->found);

		if (desc) {
			d->found_desc = m_text_escape_str(desc);
			free(desc);
			if (!d->found_desc)
				goto nomem;
		}
		if (strlen(it->found_log->name) >= sizeof(d->found_log) ||
		    strlen(m_log_format_name(it->found_log->format)) >= sizeof(d->found_format)) {
			m_first_difference_clear(d);
			return m_err(-EOVERFLOW, "a log name over %zu characters", sizeof(d->found_log) - 1);
		}
		strcpy(d->found_log, it->found_log->name);
		strcpy(d->found_format, m_log_format_name(it->found_log->format));
	}
	return 0;
nomem:
	m_first_difference_clear(d);
	return -ENOMEM;
}

/* key: the document's AK is the trusted one; ret_ak is the public area the quote is checked with */
/* key, TPM 1.2: the AIK's TPM_PUBKEY in the evidence must be the trusted key */
static int stage_key12(const struct m_evidence_check *c, struct m_t12_pubkey *aik12, struct m_quote_check *qc,
		       struct m_verify_result *res)
{
	const struct m_evidence *ev = c->ev;
	EVP_PKEY *evkey = NULL, *own = NULL;
	int r;

	r = m_t12_pubkey_parse(ev->ak_pub, ev->ak_pub_len, aik12);
	if (r < 0)
		return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
	r = m_t12_pubkey_to_pkey(aik12, &evkey);
	if (r < 0)
		return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
	if (!c->ak_key && c->ak && m_tpm_public_to_pkey(c->ak, &own) < 0) {
		EVP_PKEY_free(evkey);
		return fail_res(res, M_V_AK_MISMATCH, "the trusted AK: ", -EINVAL);
	}
	r = EVP_PKEY_eq(evkey, c->ak_key ? c->ak_key : own);
	EVP_PKEY_free(evkey);
	EVP_PKEY_free(own);
	if (r != 1)
		return fail_res(res, M_V_AK_MISMATCH, "the evidence's AIK is not the trusted key", 0);
	qc->tpm_family = 12;
	qc->aik12 = aik12;
	qc->ak_key = c->ak_key;
	return 0;
}

static int stage_key(const struct m_evidence_check *c, TPMT_PUBLIC *evak, struct m_t12_pubkey *aik12,
		     struct m_quote_check *qc, struct m_verify_result *res)
{
	const struct m_evidence *ev = c->ev;
	bool have_evak = false;
	EVP_PKEY *evkey = NULL;
	int r;

	if (!c->ak && !c->ak_key)
		return m_err(-EINVAL, "m_evidence_check: a trusted AK is needed");
	if (ev->tpm_family == 12)
		return stage_key12(c, aik12, qc, res);
	if (ev->ak_pub_len) {
		r = m_tpm_public_parse(ev->ak_pub, ev->ak_pub_len, evak);
		if (r < 0)
			return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
		have_evak = true;
	}
	if (c->ak) {
		if (have_evak && !same_public(c->ak, evak))
			return fail_res(res, M_V_AK_MISMATCH, "the evidence's AK is not the trusted AK", 0);
		qc->ak = c->ak;
		qc->ak_key = c->ak_key;
		return 0;
	}
	/* only a key (PEM) is trusted: the document's public area must hold
	 * that key, and then its attributes are the ones checked */
	if (have_evak) {
		r = m_tpm_public_to_pkey(evak, &evkey);
		if (r < 0)
			return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
		r = EVP_PKEY_eq(evkey, c->ak_key);
		EVP_PKEY_free(evkey);
		if (r != 1)
			return fail_res(res, M_V_AK_MISMATCH, "the evidence's AK is not the trusted key", 0);
		qc->ak = evak;
	}
	qc->ak_key = c->ak_key;
	return 0;
}

/* logs: each parses and is the format it declares (the declared text is never echoed) */
static int stage_logs(const struct m_evidence *ev, struct m_log **logs, size_t *nlogs, struct m_verify_result *res)
{
	/*
	 * An IMA list's digests in the banks the evidence has PCR values in
	 * (the quote's banks are among them, or its digest check fails): the
	 * replay is compared in quoted banks only, and hashing every entry in
	 * every other bank was most of the time a long list took.
	 */
	unsigned banks = 0;

	for_each_bank(b, M_BANKS_ALL)
		if (ev->pcrs.present[b])
			banks |= M_BANK_BIT(b);
	for (size_t i = 0; i < ev->nlogs; i++) {
		char name[48];
		int r;

		snprintf(name, sizeof(name), "eventlogs[%zu]", i);
		/* descriptions only matter for a failure's message: made then */
		r = m_log_parse_flags(ev->log[i].data, ev->log[i].len, name, M_LOG_NO_DESC | M_LOG_IMA_BANKS(banks),
				      &logs[*nlogs]);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return fail_res(res, M_V_EVENTLOG_MALFORMED, "", r);
		(*nlogs)++;
		if (strcmp(m_log_format_name(logs[*nlogs - 1]->format), ev->log[i].format) != 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s: the declared format is not the data's, which is %s", name,
				 m_log_format_name(logs[*nlogs - 1]->format));
			return fail_res(res, M_V_EVENTLOG_MALFORMED, msg, 0);
		}
	}
	return 0;
}

/*
 * A log difference is found bank by bank in the manifest's order (sha1
 * first); the quote may cover the PCR in another bank only (the policy's
 * --banks).  Report it there, the bank the verifier checked, when the
 * event has that bank and (for a differing event) differs in it too.
 */
static void prefer_quoted_bank(struct m_check_item *it, const uint32_t *quoted)
{
	if (quoted[it->bank] & (1u << it->pcr))
		return;
	for_each_bank(b, M_BANKS_ALL) {
		if (!(quoted[b] & (1u << it->pcr)))
			continue;
		if (it->expected && !(it->expected->d.banks & M_BANK_BIT(b)))
			continue;
		if (it->found && !(it->found->banks & M_BANK_BIT(b)))
			continue;
		if (it->status == M_CHECK_EVENT_DIFFERS && it->expected && it->found &&
		    memcmp(it->expected->d.d[b], it->found->digest[b], m_bank_info(b)->size) == 0)
			continue;
		it->bank = b;
		return;
	}
}

/*
 * One manifest against the quoted values (only quoted PCRs are signed) and
 * the logs.  A manifest PCR must be quoted in at least one bank the
 * manifest predicts it in, and match in every such bank.  A differing
 * event is reported before a differing value: it says why.
 */
static int stage_manifest(size_t which, const struct m_manifest *m, const struct m_pcrs *pcrs,
			  const uint32_t *quoted, struct m_log *const *logs, size_t nlogs,
			  struct m_verify_result *res, struct m_first_difference *ret_first)
{
	struct m_check_result lr = { .match = true };
	struct m_check_item vit = { 0 };
	const struct m_check_item *diff = NULL;
	bool vbad = false;
	int r;

	for (unsigned p = 0; p < M_PCR_COUNT && !vbad; p++) {
		unsigned seen = 0;

		if (!(m->pcrs & (1u << p)))
			continue;
		for_each_bank(b, m_manifest_pcr_banks(m, p)) {
			if (!(quoted[b] & (1u << p)))
				continue;
			seen++;
			if (memcmp(pcrs->v[b][p], m->values.v[b][p], m_bank_info(b)->size) != 0) {
				vit = (struct m_check_item){ .pcr = p, .bank = b, .status = M_CHECK_VALUE_DIFFERS };
				vbad = true;
				break;
			}
		}
		if (!seen && !vbad) {
			for_each_bank(b, m_manifest_pcr_banks(m, p)) {
				vit = (struct m_check_item){ .pcr = p, .bank = b, .status = M_CHECK_NOT_COVERED };
				break;
			}
			vbad = true;
		}
	}
	r = m_manifest_check_logs(m, logs, nlogs, &lr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < lr.count && !diff; i++)
		if (lr.items[i].status != M_CHECK_MATCH && lr.items[i].status != M_CHECK_NOT_COVERED) {
			prefer_quoted_bank(&lr.items[i], quoted);
			diff = &lr.items[i];
		}
	if (!diff && vbad) {
		for (size_t i = 0; i < lr.count; i++)
			if (lr.items[i].pcr == vit.pcr && lr.items[i].status == M_CHECK_NOT_COVERED &&
			    vit.status == M_CHECK_VALUE_DIFFERS)
				vit.expected = lr.items[i].expected;
		diff = &vit;
	}
	if (diff) {
		res->reason = M_V_MANIFEST_MISMATCH;
		m_check_describe(diff, res->msg, sizeof(res->msg));
		if (ret_first)
			r = copy_difference(which, diff, ret_first);
	}
	m_check_result_free(&lr);
	return r;
}

/* a later first difference is closer: it agrees on more of the boot (m_evidence_check()) */
static bool closer(const struct m_first_difference *a, const struct m_first_difference *b)
{
	return a->pcr > b->pcr || (a->pcr == b->pcr && a->index >= b->index);
}

/*
 * Manifests [from, to) are alternatives: the first that matches is the
 * group's match; with none, the closest one's difference is the group's.
 */
static int stage_group(const struct m_evidence_check *c, size_t from, size_t to, const uint32_t *quoted,
		       struct m_log *const *logs, size_t nlogs, struct m_verify_result *res,
		       struct m_first_difference *ret_first)
{
	struct m_first_difference best = { 0 };
	char best_msg[sizeof(res->msg)] = "";
	bool have = false;
	int r = 0;

	for (size_t i = from; i < to; i++) {
		struct m_first_difference d = { 0 };
		struct m_verify_result one = *res;

		r = stage_manifest(i, c->manifests[i], &c->ev->pcrs, quoted, logs, nlogs, &one, &d);
		if (r < 0)
			goto out;
		if (one.reason == M_V_OK) {
			if (c->ret_matched)
				c->ret_matched[i] = true;
			goto out;
		}
		if (!have || closer(&d, &best)) {
			m_first_difference_clear(&best);
			best = d;
			memcpy(best_msg, one.msg, sizeof(best_msg));
			have = true;
		} else {
			m_first_difference_clear(&d);
		}
	}
	res->reason = M_V_MANIFEST_MISMATCH;
	memcpy(res->msg, best_msg, sizeof(res->msg));
	if (ret_first) {
		*ret_first = best;
		return 0;
	}
out:
	m_first_difference_clear(&best);
	return r;
}

int m_evidence_check(const struct m_evidence_check *c, struct m_verify_result *res,
		     struct m_first_difference *ret_first)
{
	const struct m_evidence *ev = c->ev;
	struct m_log *logs[M_EVIDENCE_MAX_LOGS] = { 0 };
	struct m_quote_check qc = { 0 };
	TPMT_PUBLIC evak;
	struct m_t12_pubkey aik12;
	size_t nlogs = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if (ret_first)
		memset(ret_first, 0, sizeof(*ret_first));
	r = stage_key(c, &evak, &aik12, &qc, res);
	if (r < 0 || res->reason != M_V_OK)
		return r;
	r = stage_logs(ev, logs, &nlogs, res);
	if (r < 0 || res->reason != M_V_OK)
		goto out;
	qc.attest = ev->attest;
	qc.attest_len = ev->attest_len;
	qc.sig = ev->sig;
	qc.sig_len = ev->sig_len;
	qc.nonce = c->nonce;
	qc.nonce_len = c->nonce_len;
	qc.pcrs = &ev->pcrs;
	qc.required = c->required;
	qc.logs = logs;
	qc.nlogs = nlogs;
	r = m_quote_verify(&qc, res);
	if (r < 0 || res->reason != M_V_OK)
		goto out;
	if ((c->flags & M_EVIDENCE_LOGS_REQUIRED) && nlogs == 0) {
		fail_res(res, M_V_EVENTLOG_UNTOUCHED_PCR, "no event log explains the quoted PCRs", 0);
		goto out;
	}
	if (c->ret_matched)
		memset(c->ret_matched, 0, c->nmanifests * sizeof(*c->ret_matched));
	for (size_t i = 0, j; i < c->nmanifests && res->reason == M_V_OK && r == 0; i = j) {
		for (j = i + 1; c->groups && j < c->nmanifests && c->groups[j] == c->groups[i]; j++)
			;
		r = stage_group(c, i, j, res->quoted, logs, nlogs, res, ret_first);
	}
out:
	for (size_t i = 0; i < nlogs; i++)
		m_log_free(logs[i]);
	return r;
}

int m_evidence_verify(const struct m_evidence *ev, const TPMT_PUBLIC *ak, EVP_PKEY *ak_key,
		      const uint8_t *nonce, size_t nonce_len, const uint32_t *required,
		      struct m_verify_result *res)
{
	struct m_evidence_check c = { .ev = ev, .ak = ak, .ak_key = ak_key, .nonce = nonce,
				      .nonce_len = nonce_len, .required = required };

	return m_evidence_check(&c, res, NULL);
}

int m_evidence_verify_manifest(const struct m_evidence *ev, const TPMT_PUBLIC *ak, EVP_PKEY *ak_key,
			       const uint8_t *nonce, size_t nonce_len, const uint32_t *required,
			       const struct m_manifest *manifest, struct m_verify_result *res,
			       struct m_first_difference *ret_first)
{
	struct m_evidence_check c = { .ev = ev, .ak = ak, .ak_key = ak_key, .nonce = nonce,
				      .nonce_len = nonce_len, .required = required, .manifests = &manifest,
				      .nmanifests = manifest ? 1 : 0 };

	return m_evidence_check(&c, res, ret_first);
}

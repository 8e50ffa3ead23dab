// SPDX-License-Identifier: MIT
/*
 * An evidence document against a trusted AK: the AK in the document must be
 * the trusted one, then m_quote_verify() does the rest with the document's
 * values and logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "measured/manifest.h"

static int fail_res(struct m_verify_result *res, enum m_verify_reason r, const char *what, int err)
{
	memset(res, 0, sizeof(*res));
	res->reason = r;
	snprintf(res->msg, sizeof(res->msg), "%s%s", what, err ? m_errmsg(err) : "");
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

static void copy_difference(const struct m_check_item *it, struct m_first_difference *d)
{
	size_t sz = m_bank_info(it->bank)->size;

	memset(d, 0, sizeof(*d));
	d->pcr = it->pcr;
	d->bank = it->bank;
	d->status = it->status;
	d->index = it->index;
	if (it->expected) {
		d->has_expected = true;
		d->expected_type = it->expected->type;
		snprintf(d->expected_desc, sizeof(d->expected_desc), "%s", it->expected->description);
		snprintf(d->expected_source, sizeof(d->expected_source), "%s", it->expected->source);
		m_hex(it->expected->d.d[it->bank], sz, d->expected_digest);
	}
	if (it->found && it->found_log) {
		char *desc = m_event_describe(it->found_log, it->found);

		d->has_found = true;
		d->found_type = it->found->type;
		snprintf(d->found_desc, sizeof(d->found_desc), "%s", desc ? desc : "");
		free(desc);
		m_hex(it->found->digest[it->bank], sz, d->found_digest);
		snprintf(d->found_log, sizeof(d->found_log), "%s", it->found_log->name);
		d->found_record = it->found->recnum;
		d->found_offset = it->found->offset;
	}
}

/*
 * After the quote checks: the manifest's events against the logs, then its
 * values against the quoted ones (which the quote checks tied to the logs).
 */
static int check_manifest(const struct m_manifest *m, struct m_log *const *logs, size_t nlogs,
			  const struct m_pcrs *quoted, struct m_verify_result *res,
			  struct m_first_difference *ret_first)
{
	struct m_check_result lr = { .match = true }, pr = { .match = true };
	int r = m_manifest_check_logs(m, logs, nlogs, &lr);

	if (r == 0)
		r = m_manifest_check_pcrs(m, quoted, &pr);
	if (r == 0 && !(lr.match && pr.match)) {
		const struct m_check_result *which = lr.match ? &pr : &lr;

		for (size_t i = 0; i < which->count; i++) {
			if (which->items[i].status == M_CHECK_MATCH)
				continue;
			res->reason = M_V_MANIFEST_MISMATCH;
			m_check_describe(&which->items[i], res->msg, sizeof(res->msg));
			if (ret_first)
				copy_difference(&which->items[i], ret_first);
			break;
		}
	}
	m_check_result_free(&lr);
	m_check_result_free(&pr);
	return r;
}

static int verify(const struct m_evidence *ev, const TPMT_PUBLIC *ak, EVP_PKEY *ak_key,
		  const uint8_t *nonce, size_t nonce_len, const uint32_t *required,
		  const struct m_manifest *manifest, struct m_verify_result *res,
		  struct m_first_difference *ret_first)
{
	struct m_log *logs[M_EVIDENCE_MAX_LOGS] = { 0 };
	struct m_quote_check c = { 0 };
	TPMT_PUBLIC evak;
	struct m_t12_pubkey aik12;
	bool have_evak = false;
	EVP_PKEY *evkey = NULL, *own = NULL;
	size_t nlogs = 0;
	int r;

	if (!ak && !ak_key)
		return m_err(-EINVAL, "m_evidence_verify: a trusted AK is needed");
	if (ev->tpm_family == 12) {
		/* the AIK's TPM_PUBKEY must be the trusted key */
		r = m_t12_pubkey_parse(ev->ak_pub, ev->ak_pub_len, &aik12);
		if (r < 0)
			return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
		r = m_t12_pubkey_to_pkey(&aik12, &evkey);
		if (r < 0)
			return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
		if (!ak_key && ak && m_tpm_public_to_pkey(ak, &own) < 0) {
			EVP_PKEY_free(evkey);
			return fail_res(res, M_V_AK_MISMATCH, "the trusted AK: ", -EINVAL);
		}
		r = EVP_PKEY_eq(evkey, ak_key ? ak_key : own);
		EVP_PKEY_free(evkey);
		EVP_PKEY_free(own);
		evkey = NULL;
		if (r != 1)
			return fail_res(res, M_V_AK_MISMATCH, "the evidence's AIK is not the trusted key", 0);
		c.tpm_family = 12;
		c.aik12 = &aik12;
		c.ak_key = ak_key;
	} else if (ev->ak_pub_len) {
		r = m_tpm_public_parse(ev->ak_pub, ev->ak_pub_len, &evak);
		if (r < 0)
			return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
		have_evak = true;
	}
	if (ev->tpm_family == 12) {
		/* checked above */
	} else if (ak) {
		if (have_evak && !same_public(ak, &evak))
			return fail_res(res, M_V_AK_MISMATCH, "the evidence's AK is not the trusted AK", 0);
		c.ak = ak;
		c.ak_key = ak_key;
	} else {
		/* only a key (PEM) is trusted: the document's public area must hold
		 * that key, and then its attributes are the ones checked */
		if (have_evak) {
			r = m_tpm_public_to_pkey(&evak, &evkey);
			if (r < 0)
				return fail_res(res, M_V_AK_MISMATCH, "ak_public: ", r);
			if (EVP_PKEY_eq(evkey, ak_key) != 1) {
				EVP_PKEY_free(evkey);
				return fail_res(res, M_V_AK_MISMATCH, "the evidence's AK is not the trusted key", 0);
			}
			EVP_PKEY_free(evkey);
			c.ak = &evak;
		}
		c.ak_key = ak_key;
	}
	for (size_t i = 0; i < ev->nlogs; i++) {
		char name[48];

		snprintf(name, sizeof(name), "eventlogs[%zu]", i);
		/* descriptions only matter for a failure's message: made then */
		r = m_log_parse_flags(ev->log[i].data, ev->log[i].len, name, M_LOG_NO_DESC, &logs[nlogs]);
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			r = fail_res(res, M_V_EVENTLOG_MALFORMED, "", r);
			goto out;
		}
		nlogs++;
		if (strcmp(m_log_format_name(logs[nlogs - 1]->format), ev->log[i].format) != 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "%s: declared %s, but the data is %s", name,
				 ev->log[i].format, m_log_format_name(logs[nlogs - 1]->format));
			r = fail_res(res, M_V_EVENTLOG_MALFORMED, msg, 0);
			goto out;
		}
	}
	c.attest = ev->attest;
	c.attest_len = ev->attest_len;
	c.sig = ev->sig;
	c.sig_len = ev->sig_len;
	c.nonce = nonce;
	c.nonce_len = nonce_len;
	c.pcrs = &ev->pcrs;
	c.required = required;
	c.logs = logs;
	c.nlogs = nlogs;
	r = m_quote_verify(&c, res);
	if (r == 0 && res->reason == M_V_OK && manifest)
		r = check_manifest(manifest, logs, nlogs, &ev->pcrs, res, ret_first);
out:
	for (size_t i = 0; i < nlogs; i++)
		m_log_free(logs[i]);
	return r;
}

int m_evidence_verify(const struct m_evidence *ev, const TPMT_PUBLIC *ak, EVP_PKEY *ak_key,
		      const uint8_t *nonce, size_t nonce_len, const uint32_t *required,
		      struct m_verify_result *res)
{
	return verify(ev, ak, ak_key, nonce, nonce_len, required, NULL, res, NULL);
}

int m_evidence_verify_manifest(const struct m_evidence *ev, const TPMT_PUBLIC *ak, EVP_PKEY *ak_key,
			       const uint8_t *nonce, size_t nonce_len, const uint32_t *required,
			       const struct m_manifest *manifest, struct m_verify_result *res,
			       struct m_first_difference *ret_first)
{
	return verify(ev, ak, ak_key, nonce, nonce_len, required, manifest, res, ret_first);
}

// SPDX-License-Identifier: MIT
/*
 * Verification of a TPM2_Quote (TPM 2.0 Part 3, 18.4) and of the PCR values
 * and event logs sent with it.  Each check has its own reason code, and the
 * checks run in a fixed order so the first failure is always the same one:
 *
 *   structure  TPMS_ATTEST and TPMT_SIGNATURE unmarshal with libtss2-mu, whole
 *   magic      TPMS_ATTEST.magic == TPM_GENERATED_VALUE (Part 2, 10.12.8)
 *   type       TPMS_ATTEST.type == TPM_ST_ATTEST_QUOTE
 *   signature  over the marshalled TPMS_ATTEST, with the AK (OpenSSL)
 *   AK         restricted signing key: fixedTPM, fixedParent, restricted, sign
 *   nonce      TPMS_ATTEST.extraData == the verifier's nonce
 *   PCRs       every policy PCR quoted; pcrDigest == H(selected values in order)
 *   logs       each log extends a quoted PCR; their replay == the values
 *
 * The magic check is what stops a "quote" signed with TPM2_Sign: a
 * restricted key refuses to sign data that starts with the magic, so only
 * TPM2_Quote/Certify/... produce such a signed structure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"

static const char *const reason_names[M_V_REASON_COUNT] = {
	[M_V_OK] = "ok",
	[M_V_MALFORMED_QUOTE] = "malformed-quote",
	[M_V_NOT_TPM_GENERATED] = "not-tpm-generated",
	[M_V_WRONG_ATTEST_TYPE] = "wrong-attest-type",
	[M_V_UNSUPPORTED_ALG] = "unsupported-algorithm",
	[M_V_BAD_SIGNATURE] = "bad-signature",
	[M_V_AK_MISMATCH] = "ak-mismatch",
	[M_V_AK_ATTRIBUTES] = "ak-attributes",
	[M_V_NONCE_MISMATCH] = "nonce-mismatch",
	[M_V_PCR_MISSING] = "pcr-missing",
	[M_V_PCR_VALUE_MISSING] = "pcr-value-missing",
	[M_V_PCR_DIGEST_MISMATCH] = "pcr-digest-mismatch",
	[M_V_EVENTLOG_MALFORMED] = "eventlog-malformed",
	[M_V_EVENTLOG_UNTOUCHED_PCR] = "eventlog-untouched-pcr",
	[M_V_EVENTLOG_REPLAY_MISMATCH] = "eventlog-replay-mismatch",
	[M_V_MANIFEST_MISMATCH] = "manifest-mismatch",
};

const char *m_verify_reason_name(enum m_verify_reason r)
{
	return (unsigned)r < M_V_REASON_COUNT ? reason_names[r] : "unknown";
}

/* Records the first failure; returns 1 so checks can `return fail(...)`. */
static int fail(struct m_verify_result *res, enum m_verify_reason r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct m_verify_result *res, enum m_verify_reason r, const char *fmt, ...)
{
	va_list ap;

	res->reason = r;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
	return 1;
}

/* DER ECDSA-Sig-Value from the TPM's (r, s) pair. */
static int ecdsa_der(const TPMS_SIGNATURE_ECC *e, uint8_t **ret, size_t *ret_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	BIGNUM *ss = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
	uint8_t *der = NULL;
	int n;

	if (!s || !r || !ss) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return -ENOMEM;
	}
	ECDSA_SIG_set0(s, r, ss);
	n = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return -ENOMEM;
	*ret = der;
	*ret_len = (size_t)n;
	return 0;
}

/* Returns 0 on a good signature, 1 after fail(), <0 internal error. */
static int check_signature(const struct m_quote_check *c, const TPMT_SIGNATURE *sig, EVP_PKEY *key,
			   struct m_verify_result *res)
{
	const uint8_t *s = NULL;
	uint8_t *der = NULL;
	size_t slen = 0;
	uint16_t hash;
	int want_type, pad = 0, r;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md;

	switch (sig->sigAlg) {
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		hash = sig->signature.rsassa.hash;	/* same layout for rsapss */
		s = sig->signature.rsassa.sig.buffer;
		slen = sig->signature.rsassa.sig.size;
		want_type = EVP_PKEY_RSA;
		pad = sig->sigAlg == TPM2_ALG_RSASSA ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING;
		break;
	case TPM2_ALG_ECDSA:
		hash = sig->signature.ecdsa.hash;
		want_type = EVP_PKEY_EC;
		break;
	default:
		return fail(res, M_V_UNSUPPORTED_ALG, "signature scheme 0x%04x is not RSASSA, RSAPSS or ECDSA",
			    sig->sigAlg);
	}
	res->sig_hash_alg = hash;
	md = m_alg_md(hash);
	if (!md)
		return fail(res, M_V_UNSUPPORTED_ALG, "signature hash 0x%04x unsupported", hash);
	if (EVP_PKEY_get_base_id(key) != want_type)
		return fail(res, M_V_BAD_SIGNATURE, "signature scheme 0x%04x does not fit the AK's key type",
			    sig->sigAlg);
	/* a signing key with a scheme signs with that scheme only (Part 1, 25.3.1) */
	if (c->ak) {
		const TPMT_RSA_SCHEME *rs = &c->ak->parameters.rsaDetail.scheme;
		const TPMT_ECC_SCHEME *es = &c->ak->parameters.eccDetail.scheme;
		uint16_t ks = c->ak->type == TPM2_ALG_RSA ? rs->scheme : es->scheme;
		uint16_t kh = c->ak->type == TPM2_ALG_RSA ? rs->details.anySig.hashAlg
							  : es->details.anySig.hashAlg;

		if (ks != TPM2_ALG_NULL && (ks != sig->sigAlg || kh != hash))
			return fail(res, M_V_BAD_SIGNATURE,
				    "signature scheme 0x%04x/0x%04x differs from the AK's 0x%04x/0x%04x",
				    sig->sigAlg, hash, ks, kh);
	}
	if (want_type == EVP_PKEY_EC) {
		r = ecdsa_der(&sig->signature.ecdsa, &der, &slen);
		if (r < 0)
			return r;
		s = der;
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx) {
		r = -ENOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) != 1) {
		r = fail(res, M_V_UNSUPPORTED_ALG, "OpenSSL cannot verify with this key and hash");
		goto out;
	}
	if (pad && (EVP_PKEY_CTX_set_rsa_padding(pctx, pad) != 1 ||
		    (pad == RSA_PKCS1_PSS_PADDING &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1))) {
		r = fail(res, M_V_UNSUPPORTED_ALG, "OpenSSL rejects the RSA padding");
		goto out;
	}
	if (EVP_DigestVerify(mctx, s, slen, c->attest, c->attest_len) != 1) {
		r = fail(res, M_V_BAD_SIGNATURE, "the signature over the quote does not verify with the AK");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	return r;
}

#define AK_REQUIRED (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_RESTRICTED | \
		     TPMA_OBJECT_SIGN_ENCRYPT)

static int check_ak(const TPMT_PUBLIC *ak, struct m_verify_result *res)
{
	TPMA_OBJECT a = ak->objectAttributes;

	if ((a & AK_REQUIRED) != AK_REQUIRED)
		return fail(res, M_V_AK_ATTRIBUTES,
			    "AK attributes 0x%08x lack%s%s%s%s", (unsigned)a,
			    a & TPMA_OBJECT_FIXEDTPM ? "" : " fixedTPM",
			    a & TPMA_OBJECT_FIXEDPARENT ? "" : " fixedParent",
			    a & TPMA_OBJECT_RESTRICTED ? "" : " restricted",
			    a & TPMA_OBJECT_SIGN_ENCRYPT ? "" : " sign");
	/* restricted + decrypt + sign would be a storage-signing hybrid, never an AK */
	if (a & TPMA_OBJECT_DECRYPT)
		return fail(res, M_V_AK_ATTRIBUTES, "AK attributes 0x%08x include decrypt", (unsigned)a);
	return 0;
}

/* The quote's TPML_PCR_SELECTION as masks per bank. */
static int take_selection(const TPML_PCR_SELECTION *sel, struct m_verify_result *res)
{
	if (sel->count > TPM2_NUM_PCR_BANKS)
		return fail(res, M_V_MALFORMED_QUOTE, "PCR selection of %u banks", sel->count);
	for (uint32_t i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int b = m_bank_by_alg(s->hash);
		uint32_t mask = 0;

		for (unsigned j = 0; j < s->sizeofSelect; j++)
			mask |= (uint32_t)s->pcrSelect[j] << (8 * j);
		if (!mask)
			continue;
		if (b < 0 || !m_bank_supported((enum m_bank)b))
			return fail(res, M_V_UNSUPPORTED_ALG, "quoted PCR bank 0x%04x unsupported", s->hash);
		if (mask >> M_PCR_COUNT)
			return fail(res, M_V_PCR_VALUE_MISSING, "quote selects PCRs above %u",
				    M_PCR_COUNT - 1);
		if (res->quoted[b] & mask)
			return fail(res, M_V_MALFORMED_QUOTE, "bank %s selected twice", m_bank_info(b)->name);
		res->quoted[b] |= mask;
	}
	return 0;
}

/*
 * Part 3, 18.4.1: pcrDigest is the digest, with the signing scheme's hash,
 * of the concatenated values of the selected PCRs, in the order of the
 * selection list and, within one, from the lowest PCR up.
 */
static int check_pcr_digest(const TPMS_QUOTE_INFO *q, const struct m_pcrs *p, uint16_t hash,
			    struct m_verify_result *res)
{
	const TPML_PCR_SELECTION *sel = &q->pcrSelect;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = m_alg_md(hash);
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	int r = -ENOMEM;

	if (!ctx)
		return -ENOMEM;
	if (!md) {
		r = fail(res, M_V_UNSUPPORTED_ALG, "PCR digest hash 0x%04x unsupported", hash);
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1)
		goto out;
	for (uint32_t i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int b = m_bank_by_alg(s->hash);

		for (unsigned pcr = 0; pcr < 8u * s->sizeofSelect; pcr++) {
			if (!(s->pcrSelect[pcr / 8] & (1u << (pcr % 8))))
				continue;
			if (b < 0 || pcr >= M_PCR_COUNT || !(p->present[b] & (1u << pcr))) {
				r = fail(res, M_V_PCR_VALUE_MISSING, "quoted PCR %s:%u has no reported value",
					 b < 0 ? "?" : m_bank_info(b)->name, pcr);
				goto out;
			}
			if (EVP_DigestUpdate(ctx, p->v[b][pcr], m_bank_info(b)->size) != 1)
				goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, d, &dlen) != 1)
		goto out;
	if (q->pcrDigest.size != dlen || memcmp(q->pcrDigest.buffer, d, dlen) != 0) {
		r = fail(res, M_V_PCR_DIGEST_MISMATCH,
			 "the reported PCR values do not hash to the quote's pcrDigest");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static bool log_touches(const struct m_log *log, const uint32_t *quoted)
{
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *e = &log->ev[i];

		if (!e->extends || e->pcr >= M_PCR_COUNT)
			continue;
		for_each_bank(b, e->banks)
			if (quoted[b] & (1u << e->pcr))
				return true;
	}
	return false;
}

static int check_logs(const struct m_quote_check *c, struct m_verify_result *res)
{
	struct m_pcrs *acc;
	unsigned covered = 0;
	int r;

	for (size_t i = 0; i < c->nlogs; i++)
		if (!log_touches(c->logs[i], res->quoted))
			return fail(res, M_V_EVENTLOG_UNTOUCHED_PCR,
				    "event log %s extends none of the quoted PCRs",
				    c->logs[i]->name ? c->logs[i]->name : "?");
	acc = calloc(1, sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	for (size_t i = 0; i < c->nlogs; i++) {
		r = m_log_replay_into(c->logs[i], acc);
		if (r < 0) {
			r = fail(res, M_V_EVENTLOG_MALFORMED, "event log %s: %s",
				 c->logs[i]->name ? c->logs[i]->name : "?", m_errmsg(r));
			goto out;
		}
	}
	/*
	 * Only quoted PCRs count: the others' reported values are not signed.
	 * In a bank the logs cover, a quoted PCR no log extends must still hold
	 * its initial value; otherwise something extended it unlogged (or an
	 * event was cut from the log), which must not pass as "not covered".
	 */
	r = 0;
	for (size_t i = 0; i < c->nlogs; i++)
		covered |= c->logs[i]->banks;
	for_each_bank(b, covered) {
		for (unsigned p = 0; p < M_PCR_COUNT; p++) {
			uint8_t init[M_DIGEST_MAX];
			const uint8_t *want = acc->v[b][p];

			if (!(res->quoted[b] & (1u << p)))
				continue;
			if (!(acc->present[b] & (1u << p))) {
				m_pcr_initial(b, p, c->logs[0]->startup_locality, init);
				want = init;
			}
			if (memcmp(want, c->pcrs->v[b][p], m_bank_info(b)->size) != 0) {
				r = fail(res, M_V_EVENTLOG_REPLAY_MISMATCH,
					 acc->present[b] & (1u << p)
					 ? "replaying the event log(s) gives another %s PCR %u than the quote"
					 : "%s PCR %u was extended, but no event log records it",
					 m_bank_info(b)->name, p);
				goto out;
			}
		}
	}
out:
	free(acc);
	return r;
}

/* The last checks of either family: the logs replay to the quoted values. */
static int finish(const struct m_quote_check *c, struct m_verify_result *res)
{
	int r;

	if (c->nlogs) {
		r = check_logs(c, res);
		if (r)
			return r < 0 ? r : 0;
	}
	res->reason = M_V_OK;
	snprintf(res->msg, sizeof(res->msg), "quote verified");
	return 0;
}

/*
 * A TPM 1.2 quote (TPM_Quote2): the same checks in the same order, on
 * TPM_QUOTE_INFO2 signed with the AIK (RSASSA-PKCS1-v1_5 SHA-1), the
 * composite PCR digest over the sha1 bank (TPM Main 1.2 Part 2, 8.2, 11.4).
 * TPM 1.2 has no TPM_GENERATED magic: the QUT2 structure can only come from
 * TPM_Quote2, and an identity key signs nothing else the TPM did not make
 * (TPM_Sign refuses identity keys).
 */
static int verify12(const struct m_quote_check *c, struct m_verify_result *res)
{
	struct m_t12_quote_info q;
	uint8_t want_ext[20], want[20];
	uint32_t mask;
	int r;

	if (!c->aik12)
		return m_err(-EINVAL, "m_quote_verify: a TPM 1.2 quote needs the AIK");
	if (m_t12_quote_info_parse(c->attest, c->attest_len, &q) < 0)
		return fail(res, M_V_NOT_TPM_GENERATED, "%s", m_errmsg(-EBADMSG));
	/* TPM_Quote's TPM_QUOTE_INFO names no PCRs: the reported values are the
	 * selection, and the composite digest binds it */
	mask = q.v2 ? q.mask : c->pcrs ? c->pcrs->present[M_SHA1] : 0;
	if (!q.v2 && !mask)
		return fail(res, M_V_PCR_VALUE_MISSING, "a TPM_Quote needs the quoted PCR values to be checked");
	res->sig_hash_alg = TPM2_ALG_SHA1;
	res->tpm_family = 12;
	if (m_t12_signature_verify(c->aik12, c->attest, c->attest_len, c->sig, c->sig_len,
				   q.v2 ? "TPM_Quote2" : "TPM_Quote") < 0)
		return fail(res, M_V_BAD_SIGNATURE, "%s", m_errmsg(-EBADMSG));
	r = m_t12_external_data(c->nonce, c->nonce_len, want_ext);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(q.external, want_ext, 20) != 0)
		return fail(res, M_V_NONCE_MISMATCH, "the quote's externalData is not the nonce%s",
			    c->nonce_len == 20 ? "" : " (its SHA-1)");
	res->quoted[M_SHA1] = mask;
	if (c->required)
		for_each_bank(b, M_BANKS_ALL) {
			uint32_t miss = c->required[b] & ~res->quoted[b];

			if (miss)
				return fail(res, M_V_PCR_MISSING, "policy PCR %s:%u is not in the quote%s",
					    m_bank_info(b)->name, (unsigned)__builtin_ctz(miss),
					    b == M_SHA1 ? "" : " (a TPM 1.2 quotes the sha1 bank only)");
		}
	if (c->pcrs) {
		if ((c->pcrs->present[M_SHA1] & mask) != mask)
			return fail(res, M_V_PCR_VALUE_MISSING, "quoted PCR sha1:%u has no reported value",
				    (unsigned)__builtin_ctz(mask & ~c->pcrs->present[M_SHA1]));
		r = m_t12_composite_digest(c->pcrs, mask, want);
		if (r < 0)
			return r;
		if (CRYPTO_memcmp(want, q.digest, 20) != 0)
			return fail(res, M_V_PCR_DIGEST_MISMATCH,
				    "SHA-1 of the TPM_PCR_COMPOSITE of the reported values is not the quoted digest");
	}
	return finish(c, res);
}

int m_quote_verify(const struct m_quote_check *c, struct m_verify_result *res)
{
	TPMS_ATTEST a;
	TPMT_SIGNATURE sig;
	EVP_PKEY *key = c->ak_key, *own = NULL;
	size_t off;
	int r;

	memset(res, 0, sizeof(*res));
	if (c->tpm_family == 12) {
		if (c->nlogs && !c->pcrs)
			return m_err(-EINVAL, "m_quote_verify: logs need reported values");
		return verify12(c, res);
	}
	if ((!c->ak && !c->ak_key) || (c->nlogs && !c->pcrs) || !c->attest || !c->sig)
		return m_err(-EINVAL, "m_quote_verify: AK, quote, signature (and values for logs) needed");
	if (c->nonce_len > M_NONCE_MAX)
		return m_err(-EINVAL, "nonce of %zu bytes (at most %zu)", c->nonce_len, M_NONCE_MAX);

	memset(&a, 0, sizeof(a));
	off = 0;
	if (c->attest_len > M_ATTEST_MAX ||
	    Tss2_MU_TPMS_ATTEST_Unmarshal(c->attest, c->attest_len, &off, &a) != TSS2_RC_SUCCESS ||
	    off != c->attest_len)
		return fail(res, M_V_MALFORMED_QUOTE, "the quote is not one whole TPMS_ATTEST (%zu bytes)",
			    c->attest_len), 0;
	memset(&sig, 0, sizeof(sig));
	off = 0;
	if (c->sig_len > M_SIG_MAX ||
	    Tss2_MU_TPMT_SIGNATURE_Unmarshal(c->sig, c->sig_len, &off, &sig) != TSS2_RC_SUCCESS ||
	    off != c->sig_len)
		return fail(res, M_V_MALFORMED_QUOTE, "the signature is not one whole TPMT_SIGNATURE (%zu bytes)",
			    c->sig_len), 0;
	if (a.magic != TPM2_GENERATED_VALUE)
		return fail(res, M_V_NOT_TPM_GENERATED,
			    "magic 0x%08x is not TPM_GENERATED_VALUE: not made by a TPM command", a.magic), 0;
	if (a.type != TPM2_ST_ATTEST_QUOTE)
		return fail(res, M_V_WRONG_ATTEST_TYPE, "attestation type 0x%04x is not TPM_ST_ATTEST_QUOTE",
			    a.type), 0;
	res->clock = a.clockInfo.clock;
	res->reset_count = a.clockInfo.resetCount;
	res->restart_count = a.clockInfo.restartCount;
	res->safe = a.clockInfo.safe == TPM2_YES;
	res->firmware_version = a.firmwareVersion;

	if (!key) {
		r = m_tpm_public_to_pkey(c->ak, &own);
		if (r < 0)
			return fail(res, M_V_UNSUPPORTED_ALG, "AK: %s", m_errmsg(r)), 0;
		key = own;
	}
	r = check_signature(c, &sig, key, res);
	EVP_PKEY_free(own);
	if (r)
		return r < 0 ? r : 0;
	res->ak_attributes_checked = c->ak != NULL;
	if (c->ak && check_ak(c->ak, res))
		return 0;
	if (a.extraData.size != c->nonce_len || memcmp(a.extraData.buffer, c->nonce, c->nonce_len) != 0)
		return fail(res, M_V_NONCE_MISMATCH, "the quote's qualifying data (%u bytes) is not the nonce",
			    a.extraData.size), 0;
	if (take_selection(&a.attested.quote.pcrSelect, res))
		return 0;
	if (c->required)
		for_each_bank(b, M_BANKS_ALL) {
			uint32_t miss = c->required[b] & ~res->quoted[b];

			if (miss)
				return fail(res, M_V_PCR_MISSING, "policy PCR %s:%u is not in the quote",
					    m_bank_info(b)->name, (unsigned)__builtin_ctz(miss)), 0;
		}
	if (c->pcrs) {
		r = check_pcr_digest(&a.attested.quote, c->pcrs, res->sig_hash_alg, res);
		if (r)
			return r < 0 ? r : 0;
	}
	return finish(c, res);
}

int m_quote_self_check(struct m_quote_check *c, struct m_evidence *ev, const uint8_t *nonce, size_t nonce_len)
{
	struct m_verify_result res;
	int r;

	c->attest = ev->attest;
	c->attest_len = ev->attest_len;
	c->sig = ev->sig;
	c->sig_len = ev->sig_len;
	c->nonce = nonce;
	c->nonce_len = nonce_len;
	c->pcrs = &ev->pcrs;
	r = m_quote_verify(c, &res);
	if (r < 0)
		return r;
	if (res.reason == M_V_PCR_DIGEST_MISMATCH)
		return -EAGAIN;
	if (res.reason != M_V_OK)
		return m_err(-EIO, "the TPM's quote does not verify: %s: %s", m_verify_reason_name(res.reason),
			     res.msg);
	memcpy(ev->sel, res.quoted, sizeof(ev->sel));
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Quote verification: a real attestation from go-attestation's test data
 * (a GCP shielded VM: AK, quote, signature, PCRs, firmware log), and
 * attack cases built here with software keys standing in for a TPM, each
 * of which must be rejected for its own reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>
#include "measured/attest.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "test_data.h"

/* ---- helpers ---- */

static uint8_t *b64(const char *s, size_t *ret_len)
{
	size_t n = strlen(s), pad = 0;
	uint8_t *out = malloc(n / 4 * 3 + 3);

	assert_non_null(out);
	assert_int_equal(n % 4, 0);
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	assert_int_equal(EVP_DecodeBlock(out, (const unsigned char *)s, (int)n), (int)(n / 4 * 3));
	*ret_len = n / 4 * 3 - pad;
	return out;
}

struct gcp {
	json_object *root;
	uint8_t *akpub, *quote, *sig, *log;
	size_t akpub_len, quote_len, sig_len, log_len;
	TPMT_PUBLIC ak;
	struct m_pcrs pcrs;
};

static const char *sget(json_object *o, const char *a, const char *b)
{
	json_object *x, *y;

	assert_true(json_object_object_get_ex(o, a, &x));
	assert_true(json_object_object_get_ex(x, b, &y));
	return json_object_get_string(y);
}

static void gcp_load(struct gcp *g)
{
	const char *fix = test_data_dir();
	char path[4096];
	json_object *log, *pcrs;

	memset(g, 0, sizeof(*g));
	snprintf(path, sizeof(path), "%s/eventlogs/go-attestation/windows_gcp_shielded_vm.json",
		 fix);
	g->root = json_object_from_file(path);
	assert_non_null(g->root);
	g->akpub = b64(sget(g->root, "AK", "Public"), &g->akpub_len);
	g->quote = b64(sget(g->root, "Quote", "Quote"), &g->quote_len);
	g->sig = b64(sget(g->root, "Quote", "Signature"), &g->sig_len);
	g->log = b64(sget(g->root, "Log", "Raw"), &g->log_len);
	assert_int_equal(m_tpm_public_parse(g->akpub, g->akpub_len, &g->ak), 0);
	/* Log.PCRs: {Index, Digest (base64), DigestAlg (Go crypto.Hash: 3 = SHA-1)} */
	assert_true(json_object_object_get_ex(g->root, "Log", &log));
	assert_true(json_object_object_get_ex(log, "PCRs", &pcrs));
	for (size_t i = 0; i < json_object_array_length(pcrs); i++) {
		json_object *p = json_object_array_get_idx(pcrs, i), *v;
		unsigned idx;
		uint8_t *d;
		size_t n;

		assert_true(json_object_object_get_ex(p, "DigestAlg", &v));
		assert_int_equal(json_object_get_int(v), 3);
		assert_true(json_object_object_get_ex(p, "Index", &v));
		idx = (unsigned)json_object_get_int(v);
		assert_true(json_object_object_get_ex(p, "Digest", &v));
		d = b64(json_object_get_string(v), &n);
		assert_int_equal(n, 20);
		memcpy(g->pcrs.v[M_SHA1][idx], d, 20);
		g->pcrs.present[M_SHA1] |= 1u << idx;
		free(d);
	}
}

static void gcp_free(struct gcp *g)
{
	json_object_put(g->root);
	free(g->akpub);
	free(g->quote);
	free(g->sig);
	free(g->log);
}

static void gcp_check(struct gcp *g, struct m_quote_check *c)
{
	memset(c, 0, sizeof(*c));
	c->attest = g->quote;
	c->attest_len = g->quote_len;
	c->sig = g->sig;
	c->sig_len = g->sig_len;
	c->ak = &g->ak;
	c->nonce = (const uint8_t *)"";
	c->nonce_len = 0;	/* the vector's Nonce is empty */
	c->pcrs = &g->pcrs;
}

/* ---- the go-attestation vector ---- */

static void test_gcp_quote(void **state)
{
	(void)state;
	struct gcp g;
	struct m_quote_check c;
	struct m_verify_result res;

	gcp_load(&g);
	/* AK.Public is a bare TPMT_PUBLIC: RSA, restricted signing */
	assert_int_equal(g.ak.type, TPM2_ALG_RSA);
	assert_int_equal(g.ak.objectAttributes, 0x00050472);
	gcp_check(&g, &c);
	assert_int_equal(m_quote_verify(&c, &res), 0);
	assert_string_equal(m_verify_reason_name(res.reason), "ok");
	assert_true(res.ak_attributes_checked);
	assert_int_equal(res.sig_hash_alg, TPM2_ALG_SHA1);
	assert_int_equal(res.quoted[M_SHA1], 0xffffff);
	/* clockInfo read by hand from the quote's bytes (Part 2, 10.11.1) */
	assert_int_equal(res.clock, 10257171);
	assert_int_equal(res.reset_count, 1045281252);
	assert_int_equal(res.restart_count, 822490842);
	assert_true(res.safe);

	/* one byte of the signature changed */
	g.sig[g.sig_len - 1] ^= 1;
	assert_int_equal(m_quote_verify(&c, &res), 0);
	assert_int_equal(res.reason, M_V_BAD_SIGNATURE);
	gcp_free(&g);
}

static void verify_with_log(struct gcp *g, const uint8_t *log, size_t len, struct m_verify_result *res)
{
	struct m_quote_check c;
	struct m_log *l;

	assert_int_equal(m_log_parse(log, len, "gcp", &l), 0);
	gcp_check(g, &c);
	c.logs = &l;
	c.nlogs = 1;
	assert_int_equal(m_quote_verify(&c, res), 0);
	m_log_free(l);
}

static void test_gcp_with_log(void **state)
{
	(void)state;
	struct gcp g;
	struct m_verify_result res;

	gcp_load(&g);
	verify_with_log(&g, g.log, g.log_len, &res);
	assert_string_equal(res.msg, "quote verified");
	assert_int_equal(res.reason, M_V_OK);
	gcp_free(&g);
}

/*
 * Edits of the SHA-1 format log (TCG_PCR_EVENT: le32 pcr, le32 type,
 * 20-byte digest, le32 size, data).  Offsets from walking the file: event 1
 * at 34 (PCR 7), event 2 at 119 (PCR 7), event 3 at 993; event 9 at 13350
 * (PCR 4, 174 bytes of data), event 10 at 13556.
 */
static void test_gcp_log_event_removed(void **state)
{
	(void)state;
	struct gcp g;
	struct m_verify_result res;
	uint8_t *cut;

	gcp_load(&g);
	cut = malloc(g.log_len);
	memcpy(cut, g.log, 13350);
	memcpy(cut + 13350, g.log + 13556, g.log_len - 13556);
	verify_with_log(&g, cut, g.log_len - (13556 - 13350), &res);
	assert_int_equal(res.reason, M_V_EVENTLOG_REPLAY_MISMATCH);
	assert_non_null(strstr(res.msg, "sha1 PCR 4"));
	free(cut);
	gcp_free(&g);
}

static void test_gcp_log_reordered(void **state)
{
	(void)state;
	struct gcp g;
	struct m_verify_result res;
	uint8_t *sw;

	gcp_load(&g);
	sw = malloc(g.log_len);
	memcpy(sw, g.log, g.log_len);
	/* events 1 (85 bytes) and 2 (874 bytes) swapped */
	memcpy(sw + 34, g.log + 119, 993 - 119);
	memcpy(sw + 34 + (993 - 119), g.log + 34, 119 - 34);
	verify_with_log(&g, sw, g.log_len, &res);
	assert_int_equal(res.reason, M_V_EVENTLOG_REPLAY_MISMATCH);
	assert_non_null(strstr(res.msg, "sha1 PCR 7"));
	free(sw);
	gcp_free(&g);
}

static void test_gcp_log_type_rewritten(void **state)
{
	(void)state;
	struct gcp g;
	struct m_verify_result res;
	uint8_t *t;

	gcp_load(&g);
	t = malloc(g.log_len);
	memcpy(t, g.log, g.log_len);
	/* event 9 (EV_EFI_BOOT_SERVICES_APPLICATION) made EV_NO_ACTION (3): the
	 * type is not covered by the digest, but no-action events are not
	 * extended, so the replay of PCR 4 no longer matches */
	t[13350 + 4] = 3;
	t[13350 + 5] = t[13350 + 6] = t[13350 + 7] = 0;
	verify_with_log(&g, t, g.log_len, &res);
	assert_int_equal(res.reason, M_V_EVENTLOG_REPLAY_MISMATCH);
	assert_non_null(strstr(res.msg, "sha1 PCR 4"));
	free(t);
	gcp_free(&g);
}

/* ---- software "TPM": keys and quotes built here ---- */

struct soft {
	EVP_PKEY *key;
	TPMT_PUBLIC pub;
	uint16_t scheme;	/* TPM2_ALG_RSASSA, RSAPSS or ECDSA */
};

static void soft_rsa(struct soft *s, uint16_t scheme, bool restricted)
{
	BIGNUM *n = NULL;

	memset(s, 0, sizeof(*s));
	s->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(s->key);
	assert_int_equal(EVP_PKEY_get_bn_param(s->key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	s->pub.type = TPM2_ALG_RSA;
	s->pub.nameAlg = TPM2_ALG_SHA256;
	s->pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				  TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
				  TPMA_OBJECT_SIGN_ENCRYPT | (restricted ? TPMA_OBJECT_RESTRICTED : 0);
	s->pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
	s->pub.parameters.rsaDetail.scheme.scheme = scheme;
	s->pub.parameters.rsaDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
	s->pub.parameters.rsaDetail.keyBits = 2048;
	s->pub.unique.rsa.size = 256;
	assert_int_equal(BN_bn2binpad(n, s->pub.unique.rsa.buffer, 256), 256);
	s->scheme = scheme;
	BN_free(n);
}

static void soft_ecc(struct soft *s)
{
	uint8_t pt[65];
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	s->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(s->key);
	assert_int_equal(EVP_PKEY_get_octet_string_param(s->key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len), 1);
	assert_int_equal(len, 65);
	assert_int_equal(pt[0], 4);
	s->pub.type = TPM2_ALG_ECC;
	s->pub.nameAlg = TPM2_ALG_SHA256;
	s->pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				  TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
				  TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED;
	s->pub.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	s->pub.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	s->pub.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	s->pub.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	s->pub.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	s->pub.unique.ecc.x.size = 32;
	memcpy(s->pub.unique.ecc.x.buffer, pt + 1, 32);
	s->pub.unique.ecc.y.size = 32;
	memcpy(s->pub.unique.ecc.y.buffer, pt + 33, 32);
	s->scheme = TPM2_ALG_ECDSA;
}

static const uint8_t nonce[16] = "0123456789abcdef";

/* PCR values sha256:0,1,2 = 32 bytes of 0x10+i */
static void soft_pcrs(struct m_pcrs *p)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < 3; i++) {
		memset(p->v[M_SHA256][i], 0x10 + i, 32);
		p->present[M_SHA256] |= 1u << i;
	}
}

struct soft_quote {
	uint8_t attest[sizeof(TPMS_ATTEST)];
	size_t attest_len;
	uint8_t sig[sizeof(TPMT_SIGNATURE)];
	size_t sig_len;
};

/* A TPMS_ATTEST as TPM2_Quote makes one, over sha256:0,1,2 of soft_pcrs(). */
static void soft_attest(TPMS_ATTEST *a)
{
	uint8_t cat[96];
	unsigned dl = 0;

	memset(a, 0, sizeof(*a));
	a->magic = TPM2_GENERATED_VALUE;
	a->type = TPM2_ST_ATTEST_QUOTE;
	a->qualifiedSigner.size = 34;
	a->qualifiedSigner.name[1] = 0x0b;
	a->extraData.size = sizeof(nonce);
	memcpy(a->extraData.buffer, nonce, sizeof(nonce));
	a->clockInfo.clock = 123456;
	a->clockInfo.resetCount = 7;
	a->clockInfo.restartCount = 2;
	a->clockInfo.safe = TPM2_YES;
	a->attested.quote.pcrSelect.count = 1;
	a->attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
	a->attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
	a->attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] = 0x07;
	for (unsigned i = 0; i < 3; i++)
		memset(cat + 32 * i, 0x10 + i, 32);
	assert_int_equal(EVP_Digest(cat, sizeof(cat), a->attested.quote.pcrDigest.buffer, &dl, EVP_sha256(), NULL), 1);
	a->attested.quote.pcrDigest.size = (uint16_t)dl;
}

/* marshal @a and sign it the way the TPM signs a quote, with @s's scheme */
static void soft_sign(const struct soft *s, const TPMS_ATTEST *a, struct soft_quote *q)
{
	TPMT_SIGNATURE sig;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	uint8_t raw[512];
	size_t rl = sizeof(raw);

	q->attest_len = 0;
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(a, q->attest, sizeof(q->attest), &q->attest_len), 0);
	assert_int_equal(EVP_DigestSignInit(m, &pc, EVP_sha256(), NULL, s->key), 1);
	if (s->scheme == TPM2_ALG_RSAPSS) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32), 1);
	}
	assert_int_equal(EVP_DigestSign(m, raw, &rl, q->attest, q->attest_len), 1);
	EVP_MD_CTX_free(m);
	memset(&sig, 0, sizeof(sig));
	sig.sigAlg = s->scheme;
	if (s->scheme == TPM2_ALG_ECDSA) {
		const unsigned char *p = raw;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)rl);

		assert_non_null(es);
		sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
		sig.signature.ecdsa.signatureR.size = 32;
		sig.signature.ecdsa.signatureS.size = 32;
		BN_bn2binpad(ECDSA_SIG_get0_r(es), sig.signature.ecdsa.signatureR.buffer, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), sig.signature.ecdsa.signatureS.buffer, 32);
		ECDSA_SIG_free(es);
	} else {
		sig.signature.rsassa.hash = TPM2_ALG_SHA256;
		sig.signature.rsassa.sig.size = (uint16_t)rl;
		memcpy(sig.signature.rsassa.sig.buffer, raw, rl);
	}
	q->sig_len = 0;
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, q->sig, sizeof(q->sig), &q->sig_len), 0);
}

static enum m_verify_reason soft_verify(const struct soft *s, const struct soft_quote *q,
					const uint8_t *n, size_t nl, const struct m_pcrs *p,
					const uint32_t *required)
{
	struct m_quote_check c = {
		.attest = q->attest, .attest_len = q->attest_len, .sig = q->sig, .sig_len = q->sig_len,
		.ak = &s->pub, .nonce = n, .nonce_len = nl, .pcrs = p, .required = required,
	};
	struct m_verify_result res;

	assert_int_equal(m_quote_verify(&c, &res), 0);
	return res.reason;
}

static void run_good(struct soft *s)
{
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;
	struct m_quote_check c = { 0 };
	struct m_verify_result res;

	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(s, &a, &q);
	assert_int_equal(soft_verify(s, &q, nonce, sizeof(nonce), &p, NULL), M_V_OK);
	c.attest = q.attest;
	c.attest_len = q.attest_len;
	c.sig = q.sig;
	c.sig_len = q.sig_len;
	c.ak = &s->pub;
	c.nonce = nonce;
	c.nonce_len = sizeof(nonce);
	assert_int_equal(m_quote_verify(&c, &res), 0);
	assert_int_equal(res.clock, 123456);
	assert_int_equal(res.reset_count, 7);
	assert_int_equal(res.restart_count, 2);
	assert_int_equal(res.quoted[M_SHA256], 7);
	/* the attest changed after signing */
	q.attest[q.attest_len - 1] ^= 0x80;
	assert_int_equal(soft_verify(s, &q, nonce, sizeof(nonce), &p, NULL), M_V_BAD_SIGNATURE);
	EVP_PKEY_free(s->key);
}

static void test_soft_rsassa(void **state) { (void)state; struct soft s; soft_rsa(&s, TPM2_ALG_RSASSA, true); run_good(&s); }
static void test_soft_rsapss(void **state) { (void)state; struct soft s; soft_rsa(&s, TPM2_ALG_RSAPSS, true); run_good(&s); }
static void test_soft_ecdsa(void **state) { (void)state; struct soft s; soft_ecc(&s); run_good(&s); }

/* one shared RSA key for the attack cases (key generation is slow) */
static struct soft rsa_ak;

static int setup_rsa(void **state)
{
	(void)state;
	soft_rsa(&rsa_ak, TPM2_ALG_RSASSA, true);
	return 0;
}

static int teardown_rsa(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa_ak.key);
	return 0;
}

static void test_attack_wrong_nonce(void **state)
{
	(void)state;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;

	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(&rsa_ak, &a, &q);
	assert_int_equal(soft_verify(&rsa_ak, &q, (const uint8_t *)"0123456789abcdeF", 16, &p, NULL),
			 M_V_NONCE_MISMATCH);
	/* a prefix of the nonce is not the nonce */
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, 15, &p, NULL), M_V_NONCE_MISMATCH);
}

static void test_attack_no_magic(void **state)
{
	(void)state;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;

	/* what TPM2_Sign with any key could make: no TPM_GENERATED_VALUE */
	soft_pcrs(&p);
	soft_attest(&a);
	a.magic = 0x00544347;
	soft_sign(&rsa_ak, &a, &q);
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, NULL), M_V_NOT_TPM_GENERATED);
}

static void test_attack_wrong_type(void **state)
{
	(void)state;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;

	soft_pcrs(&p);
	soft_attest(&a);
	a.type = TPM2_ST_ATTEST_TIME;
	a.attested.time.firmwareVersion = 1;
	soft_sign(&rsa_ak, &a, &q);
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, NULL), M_V_WRONG_ATTEST_TYPE);
}

static void test_attack_unrestricted_ak(void **state)
{
	(void)state;
	struct soft s;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;

	/* an unrestricted key signs anything, magic included (TPM2_Sign) */
	soft_rsa(&s, TPM2_ALG_RSASSA, false);
	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(&s, &a, &q);
	assert_int_equal(soft_verify(&s, &q, nonce, sizeof(nonce), &p, NULL), M_V_AK_ATTRIBUTES);
	/* and one that is not fixedTPM */
	s.pub.objectAttributes |= TPMA_OBJECT_RESTRICTED;
	s.pub.objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;
	assert_int_equal(soft_verify(&s, &q, nonce, sizeof(nonce), &p, NULL), M_V_AK_ATTRIBUTES);
	EVP_PKEY_free(s.key);
}

static void test_attack_other_key(void **state)
{
	(void)state;
	struct soft s;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;

	soft_ecc(&s);
	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(&s, &a, &q);
	/* signed by another key than the trusted AK */
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, NULL), M_V_BAD_SIGNATURE);
	EVP_PKEY_free(s.key);
}

/* the ECC AK as OpenSSL sees it: the very key that made the point, and a
 * point moved off the curve (y^2 = x^3 - 3x + b, FIPS 186-4 D.1.2.3) refused */
static void test_ecc_ak_to_pkey(void **state)
{
	(void)state;
	struct soft s;
	EVP_PKEY *k = NULL;

	soft_ecc(&s);
	assert_int_equal(m_tpm_public_to_pkey(&s.pub, &k), 0);
	assert_int_equal(EVP_PKEY_eq(k, s.key), 1);
	EVP_PKEY_free(k);
	k = NULL;
	s.pub.unique.ecc.y.buffer[31] ^= 1;
	assert_int_equal(m_tpm_public_to_pkey(&s.pub, &k), -EINVAL);
	assert_string_equal(m_errmsg(-EINVAL), "public key: OpenSSL rejects the EC key material");
	assert_null(k);
	s.pub.unique.ecc.y.buffer[31] ^= 1;
	s.pub.parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
	assert_int_equal(m_tpm_public_to_pkey(&s.pub, &k), -EOPNOTSUPP);
	EVP_PKEY_free(s.key);
}

static void test_attack_pcr_values(void **state)
{
	(void)state;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;

	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(&rsa_ak, &a, &q);
	p.v[M_SHA256][1][31] ^= 1;
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, NULL), M_V_PCR_DIGEST_MISMATCH);
	soft_pcrs(&p);
	p.present[M_SHA256] &= ~2u;
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, NULL), M_V_PCR_VALUE_MISSING);
}

static void test_attack_required_pcr_missing(void **state)
{
	(void)state;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;
	uint32_t req[M_BANK_COUNT] = { 0 };

	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(&rsa_ak, &a, &q);
	req[M_SHA256] = 0x7;
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, req), M_V_OK);
	req[M_SHA256] = 0x7 | (1u << 9);
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, req), M_V_PCR_MISSING);
	/* the right PCR in the wrong bank is missing too */
	req[M_SHA256] = 0x7;
	req[M_SHA1] = 0x1;
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, req), M_V_PCR_MISSING);
}

static void test_attack_malformed(void **state)
{
	(void)state;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;

	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(&rsa_ak, &a, &q);
	q.attest[q.attest_len++] = 0;	/* a trailing byte */
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, NULL), M_V_MALFORMED_QUOTE);
	q.attest_len -= 10;		/* truncated */
	assert_int_equal(soft_verify(&rsa_ak, &q, nonce, sizeof(nonce), &p, NULL), M_V_MALFORMED_QUOTE);
}

static void test_log_untouched(void **state)
{
	(void)state;
	struct gcp g;
	TPMS_ATTEST a;
	struct soft_quote q;
	struct m_pcrs p;
	struct m_log *l;
	struct m_verify_result res;
	struct m_quote_check c = { 0 };

	/* the GCP log is SHA-1 only; a quote of sha256 PCRs is not covered by it */
	gcp_load(&g);
	assert_int_equal(m_log_parse(g.log, g.log_len, "gcp-log", &l), 0);
	soft_pcrs(&p);
	soft_attest(&a);
	soft_sign(&rsa_ak, &a, &q);
	c.attest = q.attest;
	c.attest_len = q.attest_len;
	c.sig = q.sig;
	c.sig_len = q.sig_len;
	c.ak = &rsa_ak.pub;
	c.nonce = nonce;
	c.nonce_len = sizeof(nonce);
	c.pcrs = &p;
	c.logs = &l;
	c.nlogs = 1;
	assert_int_equal(m_quote_verify(&c, &res), 0);
	assert_int_equal(res.reason, M_V_EVENTLOG_UNTOUCHED_PCR);
	assert_non_null(strstr(res.msg, "gcp-log"));
	m_log_free(l);
	gcp_free(&g);
}

/* ---- names, keys ---- */

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(m_verify_reason_name(M_V_BAD_SIGNATURE), "bad-signature");
	assert_string_equal(m_verify_reason_name(M_V_NOT_TPM_GENERATED), "not-tpm-generated");
	assert_string_equal(m_verify_reason_name(M_V_WRONG_ATTEST_TYPE), "wrong-attest-type");
	assert_string_equal(m_verify_reason_name(M_V_NONCE_MISMATCH), "nonce-mismatch");
	assert_string_equal(m_verify_reason_name(M_V_PCR_DIGEST_MISMATCH), "pcr-digest-mismatch");
	assert_string_equal(m_verify_reason_name(M_V_PCR_MISSING), "pcr-missing");
	assert_string_equal(m_verify_reason_name(M_V_AK_ATTRIBUTES), "ak-attributes");
	assert_string_equal(m_verify_reason_name(M_V_EVENTLOG_REPLAY_MISMATCH), "eventlog-replay-mismatch");
	assert_string_equal(m_verify_reason_name(M_V_EVENTLOG_UNTOUCHED_PCR), "eventlog-untouched-pcr");
	for (int r = 0; r < M_V_REASON_COUNT; r++)
		assert_string_not_equal(m_verify_reason_name(r), "unknown");
}

static void test_ak_name_and_pem(void **state)
{
	(void)state;
	struct gcp g;
	uint8_t name[2 + M_DIGEST_MAX], want[32];
	size_t nl;
	unsigned dl;
	EVP_PKEY *k, *k2;
	char *pem;

	gcp_load(&g);
	/* name = nameAlg (sha256) || SHA-256 of the TPMT_PUBLIC bytes as stored */
	assert_int_equal(m_tpm_public_name(&g.ak, name, &nl), 0);
	assert_int_equal(nl, 34);
	assert_int_equal(name[0], 0x00);
	assert_int_equal(name[1], 0x0b);
	EVP_Digest(g.akpub, g.akpub_len, want, &dl, EVP_sha256(), NULL);
	assert_memory_equal(name + 2, want, 32);
	assert_int_equal(m_tpm_public_to_pkey(&g.ak, &k), 0);
	assert_int_equal(EVP_PKEY_get_bits(k), 2048);
	assert_int_equal(m_pkey_to_pem(k, &pem), 0);
	assert_int_equal(m_pkey_from_pem((const uint8_t *)pem, strlen(pem), &k2), 0);
	assert_int_equal(EVP_PKEY_eq(k, k2), 1);
	free(pem);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	gcp_free(&g);
}

/*
 * ---- alternatives (m_evidence_check.groups): the gcp vector's evidence
 * against manifests made from its own log, each with one digest changed at
 * a chosen place, so which manifest must match or be reported follows from
 * the rule itself: the first that matches; else the one whose first
 * difference comes latest (PCR, then index), the later on a tie ----
 */

/* a manifest of @l's events on @pcrs, PCR @bad_pcr's event @bad_index changed (-1: none) */
static struct m_manifest *gcp_manifest(const struct m_log *l, uint32_t pcrs, int bad_pcr, int bad_index)
{
	struct m_manifest *m = m_manifest_new(M_BANK_BIT(M_SHA1));
	int seen[M_PCR_COUNT] = { 0 };

	assert_non_null(m);
	for (size_t i = 0; i < l->count; i++) {
		const struct m_event *e = &l->ev[i];
		struct m_digests d = { .banks = e->banks };

		if (!e->extends || e->pcr >= M_PCR_COUNT || !(pcrs & (1u << e->pcr)))
			continue;
		memcpy(d.d, e->digest, sizeof(d.d));
		if ((int)e->pcr == bad_pcr && seen[e->pcr] == bad_index)
			d.d[M_SHA1][0] ^= 1;
		seen[e->pcr]++;
		assert_int_equal(m_manifest_add(m, e->pcr, e->type, &d, NULL, "test"), 0);
	}
	assert_int_equal(m_manifest_finish(m), 0);
	return m;
}

struct alt {
	struct gcp g;
	struct m_evidence *ev;
	struct m_log *log;
	uint32_t pcrs;
};

static void alt_load(struct alt *a)
{
	struct m_evidence_check c = { 0 };
	struct m_verify_result res;

	gcp_load(&a->g);
	a->ev = m_evidence_new();
	assert_non_null(a->ev);
	memcpy(a->ev->attest, a->g.quote, a->g.quote_len);
	a->ev->attest_len = a->g.quote_len;
	memcpy(a->ev->sig, a->g.sig, a->g.sig_len);
	a->ev->sig_len = a->g.sig_len;
	a->ev->pcrs = a->g.pcrs;
	assert_int_equal(m_log_parse(a->g.log, a->g.log_len, "gcp", &a->log), 0);
	assert_int_equal(m_evidence_add_log(a->ev, m_log_format_name(a->log->format), a->g.log, a->g.log_len), 0);
	c.ev = a->ev;
	c.ak = &a->g.ak;
	c.nonce = (const uint8_t *)"";
	assert_int_equal(m_evidence_check(&c, &res, NULL), 0);
	assert_int_equal(res.reason, M_V_OK);
	/* PCRs 4 and 7 (several events each) are quoted and in the log */
	a->pcrs = res.quoted[M_SHA1] & ((1u << 4) | (1u << 7));
	assert_int_equal(a->pcrs, (1u << 4) | (1u << 7));
}

static void alt_free(struct alt *a)
{
	m_log_free(a->log);
	m_evidence_free(a->ev);
	gcp_free(&a->g);
}

/*
 * @spec: manifests as "PCR:INDEX" changes ("-" none), @groups (NULL: each
 * its own); 0 and @ret_matched on a match, else 1 and the reported one.
 */
static int alt_check(struct alt *a, const char *const *spec, size_t n, const unsigned *groups, bool *ret_matched,
		     struct m_first_difference *d)
{
	struct m_manifest *m[4];
	struct m_verify_result res;
	int bad_pcr, bad_index;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		if (sscanf(spec[i], "%d:%d", &bad_pcr, &bad_index) != 2)
			bad_pcr = bad_index = -1;
		m[i] = gcp_manifest(a->log, a->pcrs, bad_pcr, bad_index);
	}
	struct m_evidence_check c = { .ev = a->ev, .ak = &a->g.ak, .nonce = (const uint8_t *)"",
				      .manifests = (const struct m_manifest *const *)m, .nmanifests = n,
				      .groups = groups, .ret_matched = ret_matched };

	assert_int_equal(m_evidence_check(&c, &res, d), 0);
	for (size_t i = 0; i < n; i++)
		m_manifest_free(m[i]);
	if (res.reason == M_V_OK)
		return 0;
	assert_int_equal(res.reason, M_V_MANIFEST_MISMATCH);
	return 1;
}

/*
 * ---- an IMA list (ima-ng, ASCII) in evidence quoted in sha256 only: the
 * list is built here, its template data and PCR 10 computed here by hand
 * (docs/eventlog.md), the quote signed by the software key above ----
 */

static void H(const EVP_MD *md, const void *d, size_t n, uint8_t *out)
{
	unsigned l = 0;

	assert_int_equal(EVP_Digest(d, n, out, &l, md, NULL), 1);
}

/* ima-ng template data: u32 length + "sha256:\0" + file digest, u32 length + name + "\0" */
static size_t ng_template(const char *name, uint8_t fd[32], uint8_t *out)
{
	uint32_t l1 = 8 + 32, l2 = (uint32_t)strlen(name) + 1;

	memcpy(out, &l1, 4);
	memcpy(out + 4, "sha256:", 8);
	memcpy(out + 12, fd, 32);
	memcpy(out + 44, &l2, 4);
	memcpy(out + 48, name, l2);
	return 48 + l2;
}

/* @n entries; entry @bad's line keeps the template hash of another file digest (-1: none) */
static char *ima_list(unsigned n, int bad, uint8_t pcr10[32])
{
	char *text = calloc(n, 256), *p = text;

	assert_non_null(text);
	memset(pcr10, 0, 32);
	for (unsigned i = 0; i < n; i++) {
		char name[32];
		uint8_t fd[32], data[128], th[20], d256[32], cat[64];
		size_t dl;

		snprintf(name, sizeof(name), "/usr/bin/f%u", i);
		H(EVP_sha256(), name, strlen(name), fd);
		dl = ng_template(name, fd, data);
		H(EVP_sha1(), data, dl, th);
		H(EVP_sha256(), data, dl, d256);
		memcpy(cat, pcr10, 32);
		memcpy(cat + 32, d256, 32);
		H(EVP_sha256(), cat, 64, pcr10);
		if ((int)i == bad) {
			fd[0] ^= 1;	/* the line's file digest, and its template hash, differ from what was extended */
			dl = ng_template(name, fd, data);
			H(EVP_sha1(), data, dl, th);
		}
		p += sprintf(p, "10 ");
		for (unsigned j = 0; j < 20; j++)
			p += sprintf(p, "%02x", th[j]);
		p += sprintf(p, " ima-ng sha256:");
		for (unsigned j = 0; j < 32; j++)
			p += sprintf(p, "%02x", fd[j]);
		p += sprintf(p, " %s\n", name);
	}
	return text;
}

static enum m_verify_reason ima_evidence(const struct soft *s, const char *list, const uint8_t pcr10[32])
{
	struct m_evidence *ev = m_evidence_new();
	struct m_evidence_check c = { 0 };
	struct m_verify_result res;
	struct soft_quote q;
	TPMS_ATTEST a;

	assert_non_null(ev);
	soft_attest(&a);
	memset(a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect, 0, 3);
	a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[1] = 1u << 2;	/* PCR 10 */
	H(EVP_sha256(), pcr10, 32, a.attested.quote.pcrDigest.buffer);
	soft_sign(s, &a, &q);
	memcpy(ev->attest, q.attest, q.attest_len);
	ev->attest_len = q.attest_len;
	memcpy(ev->sig, q.sig, q.sig_len);
	ev->sig_len = q.sig_len;
	memcpy(ev->pcrs.v[M_SHA256][10], pcr10, 32);
	ev->pcrs.present[M_SHA256] = 1u << 10;
	assert_int_equal(m_evidence_add_log(ev, m_log_format_name(M_LOG_IMA_ASCII), (const uint8_t *)list,
					    strlen(list)), 0);
	c.ev = ev;
	c.ak = &s->pub;
	c.nonce = nonce;
	c.nonce_len = sizeof(nonce);
	assert_int_equal(m_evidence_check(&c, &res, NULL), 0);
	m_evidence_free(ev);
	return res.reason;
}

static void test_ima_evidence_banks(void **state)
{
	struct soft s;
	struct m_log *log;
	uint8_t pcr10[32], other[32];
	char *list = ima_list(40, -1, pcr10), *bad;

	(void)state;
	/* parsed for sha256 only: SHA-1 (the list's own) and sha256, no other bank */
	assert_int_equal(m_log_parse_flags(list, strlen(list), "l", M_LOG_IMA_BANKS(M_BANK_BIT(M_SHA256)), &log), 0);
	assert_int_equal(log->banks, M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256));
	for (size_t i = 0; i < log->count; i++)
		assert_int_equal(log->ev[i].banks, log->banks);
	m_log_free(log);
	/* without the flag, every bank there is a digest for (sha384 is in every OpenSSL) */
	assert_int_equal(m_log_parse(list, strlen(list), "l", &log), 0);
	assert_true(log->banks & M_BANK_BIT(M_SHA384));
	m_log_free(log);

	soft_ecc(&s);
	assert_int_equal(ima_evidence(&s, list, pcr10), M_V_OK);
	/* an entry whose line is not what was extended: the replay says so */
	bad = ima_list(40, 17, other);
	assert_memory_equal(other, pcr10, 32);
	assert_int_equal(ima_evidence(&s, bad, pcr10), M_V_EVENTLOG_REPLAY_MISMATCH);
	/* a quoted value the list does not lead to */
	other[5] ^= 1;
	assert_int_equal(ima_evidence(&s, list, other), M_V_EVENTLOG_REPLAY_MISMATCH);
	EVP_PKEY_free(s.key);
	free(bad);
	free(list);
}

static void test_alternatives(void **state)
{
	(void)state;
	static const unsigned one[] = { 0, 0, 0 }, two[] = { 0, 1 };
	struct alt a;
	struct m_first_difference d;
	bool matched[4];

	alt_load(&a);
	/* the first that matches */
	assert_int_equal(alt_check(&a, (const char *[]){ "7:1", "-", "-" }, 3, one, matched, &d), 0);
	assert_false(matched[0]);
	assert_true(matched[1]);
	assert_false(matched[2]);
	/* none: the latest first difference (PCR 7 comes after PCR 4, whatever the order) */
	assert_int_equal(alt_check(&a, (const char *[]){ "7:1", "4:0" }, 2, one, matched, &d), 1);
	assert_int_equal(d.manifest, 0);
	assert_int_equal(d.pcr, 7);
	assert_int_equal(d.index, 1);
	m_first_difference_clear(&d);
	assert_int_equal(alt_check(&a, (const char *[]){ "4:0", "7:1" }, 2, one, matched, &d), 1);
	assert_int_equal(d.manifest, 1);
	m_first_difference_clear(&d);
	/* within one PCR the later event, and on a tie the later manifest */
	assert_int_equal(alt_check(&a, (const char *[]){ "7:2", "7:1" }, 2, one, matched, &d), 1);
	assert_int_equal(d.manifest, 0);
	assert_int_equal(d.index, 2);
	m_first_difference_clear(&d);
	assert_int_equal(alt_check(&a, (const char *[]){ "7:1", "7:1", "7:1" }, 3, one, matched, &d), 1);
	assert_int_equal(d.manifest, 2);
	m_first_difference_clear(&d);
	/* two groups: each must match */
	assert_int_equal(alt_check(&a, (const char *[]){ "-", "-" }, 2, two, matched, &d), 0);
	assert_true(matched[0] && matched[1]);
	assert_int_equal(alt_check(&a, (const char *[]){ "-", "4:0" }, 2, two, matched, &d), 1);
	assert_int_equal(d.manifest, 1);
	m_first_difference_clear(&d);
	/* no groups: every manifest must match, as before */
	assert_int_equal(alt_check(&a, (const char *[]){ "-", "7:1" }, 2, NULL, matched, &d), 1);
	assert_int_equal(d.manifest, 1);
	m_first_difference_clear(&d);
	assert_int_equal(alt_check(&a, (const char *[]){ "-", "-" }, 2, NULL, matched, &d), 0);
	assert_true(matched[0] && matched[1]);
	alt_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_gcp_quote),
		cmocka_unit_test(test_gcp_with_log),
		cmocka_unit_test(test_gcp_log_event_removed),
		cmocka_unit_test(test_gcp_log_reordered),
		cmocka_unit_test(test_gcp_log_type_rewritten),
		cmocka_unit_test(test_alternatives),
		cmocka_unit_test(test_ima_evidence_banks),
		cmocka_unit_test(test_ak_name_and_pem),
		cmocka_unit_test(test_soft_rsassa),
		cmocka_unit_test(test_soft_rsapss),
		cmocka_unit_test(test_soft_ecdsa),
		cmocka_unit_test_setup_teardown(test_attack_wrong_nonce, setup_rsa, teardown_rsa),
		cmocka_unit_test_setup_teardown(test_attack_no_magic, setup_rsa, teardown_rsa),
		cmocka_unit_test_setup_teardown(test_attack_wrong_type, setup_rsa, teardown_rsa),
		cmocka_unit_test_setup_teardown(test_attack_unrestricted_ak, setup_rsa, teardown_rsa),
		cmocka_unit_test_setup_teardown(test_attack_other_key, setup_rsa, teardown_rsa),
		cmocka_unit_test_setup_teardown(test_attack_pcr_values, setup_rsa, teardown_rsa),
		cmocka_unit_test_setup_teardown(test_attack_required_pcr_missing, setup_rsa, teardown_rsa),
		cmocka_unit_test(test_ecc_ak_to_pkey),
		cmocka_unit_test_setup_teardown(test_attack_malformed, setup_rsa, teardown_rsa),
		cmocka_unit_test_setup_teardown(test_log_untouched, setup_rsa, teardown_rsa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

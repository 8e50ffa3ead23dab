// SPDX-License-Identifier: MIT
/*
 * KDFa/KDFe against values computed independently (Python's hmac/hashlib
 * with the formulas of TPM 2.0 Part 1, 11.4.10), and MakeCredential's
 * output structure and limits.  That a TPM accepts the credential is
 * tested against swtpm in tests/integration/serve_flow.sh and
 * serve_attacks.sh (tpm2_activatecredential).
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
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>
#include "measured/attest.h"
#include "measured/credential.h"
#include "measured/digest.h"

static void hex_eq(const uint8_t *d, size_t n, const char *want)
{
	char hex[2 * 128 + 1];

	m_hex(d, n, hex);
	assert_string_equal(hex, want);
}

static void test_kdfa(void **state)
{
	uint8_t key[32], name[34], out[64];
	(void)state;

	for (int i = 0; i < 32; i++) {
		key[i] = (uint8_t)i;
		name[2 + i] = (uint8_t)(100 + i);
	}
	name[0] = 0x00;
	name[1] = 0x0b;
	assert_int_equal(m_kdfa(TPM2_ALG_SHA256, key, 32, "STORAGE", name, 34, NULL, 0, 128, out), 0);
	hex_eq(out, 16, "d98939313878365f823837e2ce0286ca");
	assert_int_equal(m_kdfa(TPM2_ALG_SHA256, key, 32, "INTEGRITY", NULL, 0, NULL, 0, 512, out), 0);
	hex_eq(out, 64, "d46791dd29362215dde127cc788fa5429ca2b999d5b065c0d7c2035dd1537d43"
			"278aad03e3b43947cb849dde7b8648d07baafa38888e2000759a5ebe1a2a65a2");
	assert_int_equal(m_kdfa(0x7777, key, 32, "X", NULL, 0, NULL, 0, 128, out), -EOPNOTSUPP);
	assert_int_equal(m_kdfa(TPM2_ALG_SHA256, key, 32, "X", NULL, 0, NULL, 0, 0, out), -EINVAL);
}

static void test_kdfe(void **state)
{
	uint8_t z[32], u[32], v[32], out[32];
	(void)state;

	for (int i = 0; i < 32; i++)
		z[i] = (uint8_t)i;
	memset(u, 1, sizeof(u));
	memset(v, 2, sizeof(v));
	assert_int_equal(m_kdfe(TPM2_ALG_SHA256, z, 32, "IDENTITY", u, 32, v, 32, 256, out), 0);
	hex_eq(out, 32, "46c1a8b985095523623fbee1f5d4b3df184a6991e5706b9bbee430d76b9b5909");
}

/* An RSA-2048 EK public area like the TCG template's, with a fresh key. */
static void rsa_ek(TPMT_PUBLIC *ek)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	BIGNUM *n = NULL;

	assert_non_null(k);
	{
		TPM2B_PUBLIC t;

		m_ek_template(M_KEY_RSA2048, &t);
		*ek = t.publicArea;
	}
	assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &n), 1);
	ek->unique.rsa.size = (uint16_t)BN_bn2binpad(n, ek->unique.rsa.buffer, 256);
	BN_free(n);
	EVP_PKEY_free(k);
}

static void test_make_credential_shape(void **state)
{
	TPMT_PUBLIC ek;
	struct m_credential c;
	uint8_t name[34] = { 0x00, 0x0b }, secret[32] = { 1, 2, 3 };
	TPM2B_ID_OBJECT id;
	TPM2B_ENCRYPTED_SECRET es;
	size_t off = 0;
	(void)state;

	rsa_ek(&ek);
	assert_int_equal(m_make_credential(&ek, name, sizeof(name), secret, sizeof(secret), &c), 0);
	assert_int_equal(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(c.blob, c.blob_len, &off, &id), TSS2_RC_SUCCESS);
	assert_int_equal(off, c.blob_len);
	/* TPM2B_DIGEST(HMAC-SHA256) then AES-CFB of TPM2B_DIGEST(32-byte secret): 2+32 + 2+32 */
	assert_int_equal(id.size, 68);
	assert_int_equal(id.credential[0], 0);
	assert_int_equal(id.credential[1], 32);
	off = 0;
	assert_int_equal(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(c.secret, c.secret_len, &off, &es),
			 TSS2_RC_SUCCESS);
	assert_int_equal(es.size, 256);	/* one RSA-2048 OAEP block */
	/* a credential longer than the nameAlg digest cannot be activated: refused */
	assert_int_equal(m_make_credential(&ek, name, sizeof(name), (uint8_t[33]){ 0 }, 33, &c), -EINVAL);
	assert_int_equal(m_make_credential(&ek, name, sizeof(name), secret, 0, &c), -EINVAL);
	assert_int_equal(m_make_credential(&ek, name, 1, secret, 32, &c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdfa),
		cmocka_unit_test(test_kdfe),
		cmocka_unit_test(test_make_credential_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The TPM 1.2 commands with an authorization session (lib/tpm12/): the
 * test plays the TPM behind a TCTI of its own, and gives the nonces (the
 * binary links with -Wl,--wrap=RAND_bytes: the Nth random draw is 20 bytes
 * of 0xa0 + N).  The requests are compared byte for byte with layouts
 * written out from TPM Main 1.2 rev 116 (Part 1, 13: OIAP/OSAP and their
 * HMACs; Part 3, 10.4 TPM_CreateWrapKey, 10.5 TPM_LoadKey2, 18.1 TPM_OIAP,
 * 18.2 TPM_OSAP, 22.1 TPM_FlushSpecific), and the answers the test gives
 * carry HMACs the library must check.  Every HMAC and digest here was computed with python's hmac and
 * hashlib, not with this code:
 *
 *   import hashlib, hmac, struct
 *   sha1 = lambda b: hashlib.sha1(b).digest()
 *   H = lambda k, m: hmac.new(k, m, hashlib.sha1).digest()
 *   x = lambda a, b: bytes(i ^ j for i, j in zip(a, b))
 *   srk = sha1(bytes(20)); key_auth = b"\x11" * 20
 *   odd_osap, odd = b"\xa1" * 20, b"\xa2" * 20
 *   even, even_osap, even2 = b"\xe1" * 20, b"\xe2" * 20, b"\xe3" * 20
 *   shared = H(srk, even_osap + odd_osap)                 # Part 1, 13.5 OSAP
 *   usage = x(key_auth, sha1(shared + even))             # ADIP, first secret
 *   migr = x(bytes(20), sha1(shared + odd))              # ADIP, second secret
 *   params = usage + migr + KEYINFO                      # the 47 bytes below
 *   auth = H(shared, sha1(struct.pack(">I", 0x1f) + params) + even + odd + b"\0")
 *   res = H(shared, sha1(bytes(4) + struct.pack(">I", 0x1f) + KEY) + even2 + odd + b"\0")
 *   lauth = H(srk, sha1(struct.pack(">I", 0x41) + KEY) + b"\xe4" * 20 + b"\xa1" * 20 + b"\0")
 *   lres = H(srk, sha1(bytes(4) + struct.pack(">I", 0x41)) + b"\xe5" * 20 + b"\xa1" * 20 + b"\0")
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "measured/attest12.h"
#include "measured/digest.h"
#include "measured/error.h"
#include "../../lib/tpm_priv.h"

/* ---- the nonces ---- */
static unsigned draws;

int __wrap_RAND_bytes(unsigned char *buf, int num);
int __wrap_RAND_bytes(unsigned char *buf, int num)
{
	draws++;
	memset(buf, 0xa0 + (int)draws, (size_t)num);
	return 1;
}

/* ---- the TPM: records each command, answers from a script ---- */
#define STEPS 4
struct fake_tpm {
	TSS2_TCTI_CONTEXT_COMMON_V1 common;	/* first: the TCTI macros read it */
	uint8_t cmd[STEPS][512];
	size_t cmd_len[STEPS];
	unsigned ncmd;
	const uint8_t *rsp[STEPS];
	size_t rsp_len[STEPS];
	unsigned nrsp;
};

static TSS2_RC fake_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *cmd)
{
	struct fake_tpm *f = (struct fake_tpm *)ctx;

	if (f->ncmd == STEPS || size > sizeof(f->cmd[0]))
		return TSS2_TCTI_RC_IO_ERROR;
	memcpy(f->cmd[f->ncmd], cmd, size);
	f->cmd_len[f->ncmd++] = size;
	return TSS2_RC_SUCCESS;
}

static TSS2_RC fake_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *rsp, int32_t timeout)
{
	struct fake_tpm *f = (struct fake_tpm *)ctx;
	unsigned i = f->ncmd - 1;

	(void)timeout;
	if (f->ncmd == 0 || i >= f->nrsp || *size < f->rsp_len[i])
		return TSS2_TCTI_RC_IO_ERROR;
	memcpy(rsp, f->rsp[i], f->rsp_len[i]);
	*size = f->rsp_len[i];
	return TSS2_RC_SUCCESS;
}

static struct fake_tpm fake;
static struct m_tpm tpm;

static void answer(const uint8_t *rsp, size_t len)
{
	fake.rsp[fake.nrsp] = rsp;
	fake.rsp_len[fake.nrsp++] = len;
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.common.version = 1;
	fake.common.transmit = fake_transmit;
	fake.common.receive = fake_receive;
	memset(&tpm, 0, sizeof(tpm));
	tpm.tcti = (TSS2_TCTI_CONTEXT *)&fake;
	tpm.tcti_name = "test";
	tpm.family = 12;
	draws = 0;
	return 0;
}

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(m_unhex(hex, out, len), 0);
}

static void fill(uint8_t **p, uint8_t byte, size_t n)
{
	memset(*p, byte, n);
	*p += n;
}

static void put(uint8_t **p, const void *bytes, size_t n)
{
	memcpy(*p, bytes, n);
	*p += n;
}

/* SHA-1 of 20 zero bytes: swtpm_setup's --srk-well-known secret */
static const char SRK_AUTH[] = "6768033e216468247bd031a0a2d9876d79818f8f";

/*
 * keyInfo of TPM_CreateWrapKey (Part 2, 10.2 TPM_KEY, 47 bytes): ver
 * 1.1.0.0, keyUsage TPM_KEY_SIGNING 0x0010 (5.8), keyFlags 0 (not
 * migratable), authDataUsage TPM_AUTH_ALWAYS 01, TPM_KEY_PARMS (TPM_ALG_RSA,
 * TPM_ES_NONE 0001, TPM_SS_RSASSAPKCS1v15_SHA1 0002, parmSize 12,
 * TPM_RSA_KEY_PARMS: 2048 bits, 2 primes, exponentSize 0), PCRInfoSize 0,
 * TPM_STORE_PUBKEY empty, encData empty.
 */
static const uint8_t KEYINFO[47] = {
	0x01, 0x01, 0x00, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0x01,
	0, 0, 0, 1, 0x00, 0x01, 0x00, 0x02, 0, 0, 0, 12, 0, 0, 0x08, 0, 0, 0, 0, 2, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The key the test's TPM makes: a TPM_KEY of a 512-bit signing key (114 bytes). */
static void make_key(uint8_t key[114])
{
	uint8_t *p = key;

	put(&p, ((uint8_t[]){ 1, 1, 0, 0, 0x00, 0x10, 0, 0, 0, 0, 0x01 }), 11);
	put(&p, ((uint8_t[]){ 0, 0, 0, 1, 0, 1, 0, 2, 0, 0, 0, 12, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0 }), 24);
	put(&p, ((uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0x40 }), 8);
	fill(&p, 0xc5, 64);
	put(&p, ((uint8_t[]){ 0, 0, 0, 3, 9, 9, 9 }), 7);
	assert_int_equal(p - key, 114);
}

/*
 * TPM_OSAP (Part 3, 18.2) for the SRK: c1, size 36, ordinal 0x0b,
 * entityType TPM_ET_KEYHANDLE 0001, entityValue 40000000 (TPM_KH_SRK),
 * nonceOddOSAP.  The answer: authHandle 02000001, nonceEven e1*20,
 * nonceEvenOSAP e2*20 (54 bytes).
 */
static const uint8_t OSAP_RSP[54] = {
	0x00, 0xc4, 0, 0, 0, 54, 0, 0, 0, 0, 0x02, 0, 0, 0x01,
	0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1, 0xe1,
	0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2, 0xe2,
};

static void check_osap(void)
{
	uint8_t want[36], *p = want;

	put(&p, ((uint8_t[]){ 0x00, 0xc1, 0, 0, 0, 36, 0, 0, 0, 0x0b, 0x00, 0x01, 0x40, 0, 0, 0 }), 16);
	fill(&p, 0xa1, 20);
	assert_int_equal(fake.cmd_len[0], sizeof(want));
	assert_memory_equal(fake.cmd[0], want, sizeof(want));
}

/*
 * TPM_CreateWrapKey (Part 3, 10.4), 146 bytes: c2 (TPM_TAG_RQU_AUTH1_COMMAND),
 * size, ordinal 0x1f, parentHandle 40000000 (not in the HMAC),
 * dataUsageAuth, dataMigrationAuth, keyInfo, then authHandle, nonceOdd
 * a2*20, continueAuthSession 00, pubAuth.
 */
static void want_create(uint8_t want[146])
{
	uint8_t *p = want, v[20];

	put(&p, ((uint8_t[]){ 0x00, 0xc2, 0, 0, 0, 146, 0, 0, 0, 0x1f, 0x40, 0, 0, 0 }), 14);
	unhex("c88e8b8260f068be3a9d092a19499e7659312b26", v, 20), put(&p, v, 20);	/* usage */
	unhex("7779215556094042999c6a6f529553fb1c83208f", v, 20), put(&p, v, 20);	/* migr */
	put(&p, KEYINFO, sizeof(KEYINFO));
	put(&p, ((uint8_t[]){ 0x02, 0, 0, 0x01 }), 4);
	fill(&p, 0xa2, 20);
	*p++ = 0;
	unhex("ab2ae213fb98cd9f987d7386e83ca45cee091930", v, 20), put(&p, v, 20);	/* auth */
	assert_int_equal(p - want, 146);
}

/* The answer: c5, size 165, returnCode 0, wrappedKey (114), nonceEven e3*20, 00, resAuth. */
static void create_rsp(uint8_t rsp[165])
{
	uint8_t *p = rsp, v[20];

	put(&p, ((uint8_t[]){ 0x00, 0xc5, 0, 0, 0, 165, 0, 0, 0, 0 }), 10);
	make_key(p), p += 114;
	fill(&p, 0xe3, 20);
	*p++ = 0;
	unhex("fba6a2267d7b64f8082c2731aa6963066123715d", v, 20), put(&p, v, 20);
	assert_int_equal(p - rsp, 165);
}

static void test_create_wrap_key(void **state)
{
	(void)state;
	uint8_t srk[20], auth[20], want[146], rsp[165], blob[M_T12_KEYBLOB_MAX], key[114];
	size_t len = 0;

	unhex(SRK_AUTH, srk, 20);
	memset(auth, 0x11, sizeof(auth));
	create_rsp(rsp);
	answer(OSAP_RSP, sizeof(OSAP_RSP));
	answer(rsp, sizeof(rsp));
	assert_int_equal(m_tpm12_create_signing_key(&tpm, srk, auth, blob, &len), 0);
	assert_int_equal(fake.ncmd, 2);
	check_osap();
	want_create(want);
	assert_int_equal(fake.cmd_len[1], sizeof(want));
	assert_memory_equal(fake.cmd[1], want, sizeof(want));
	make_key(key);
	assert_int_equal(len, sizeof(key));
	assert_memory_equal(blob, key, sizeof(key));
}

/* An answer whose resAuth does not verify (one bit of the key's modulus
 * changed in transit) is refused, and nothing is returned. */
static void test_create_wrap_key_forged(void **state)
{
	(void)state;
	uint8_t srk[20], auth[20], rsp[165], blob[M_T12_KEYBLOB_MAX];
	size_t len = 7;

	unhex(SRK_AUTH, srk, 20);
	memset(auth, 0x11, sizeof(auth));
	create_rsp(rsp);
	rsp[10 + 50] ^= 1;
	answer(OSAP_RSP, sizeof(OSAP_RSP));
	answer(rsp, sizeof(rsp));
	assert_int_equal(m_tpm12_create_signing_key(&tpm, srk, auth, blob, &len), -EBADMSG);
	assert_string_equal(m_errmsg(-EBADMSG), "TPM_CreateWrapKey: the response's authorization 1 does not verify "
						"(not from the TPM, or altered)");
	assert_int_equal(len, 7);
}

/*
 * A refusal (TPM_AUTHFAIL = 1, the SRK secret is wrong) names the command
 * and the code, and the session is flushed: TPM_FlushSpecific (Part 3,
 * 22.1: ordinal 0xba, handle, resourceType TPM_RT_AUTH = 2), c1, size 18.
 */
static void test_create_wrap_key_refused(void **state)
{
	(void)state;
	static const uint8_t fail[] = { 0x00, 0xc4, 0, 0, 0, 10, 0, 0, 0, 0x01 };
	static const uint8_t ok[] = { 0x00, 0xc4, 0, 0, 0, 10, 0, 0, 0, 0 };
	static const uint8_t flush[] = { 0x00, 0xc1, 0, 0, 0, 18, 0, 0, 0, 0xba, 0x02, 0, 0, 0x01, 0, 0, 0, 2 };
	uint8_t srk[20], auth[20], blob[M_T12_KEYBLOB_MAX];
	size_t len = 7;

	memset(srk, 0, sizeof(srk));
	memset(auth, 0x11, sizeof(auth));
	answer(OSAP_RSP, sizeof(OSAP_RSP));
	answer(fail, sizeof(fail));
	answer(ok, sizeof(ok));
	assert_int_equal(m_tpm12_create_signing_key(&tpm, srk, auth, blob, &len), -EIO);
	assert_non_null(strstr(m_errmsg(-EIO), "TPM_CreateWrapKey: TPM 1.2 error 0x001 (TPM_AUTHFAIL"));
	assert_int_equal(fake.ncmd, 3);
	assert_int_equal(fake.cmd_len[2], sizeof(flush));
	assert_memory_equal(fake.cmd[2], flush, sizeof(flush));
	assert_int_equal(len, 7);
}

/*
 * TPM_LoadKey2 (Part 3, 10.5) of that key under the SRK, OIAP with the
 * SRK's secret.  TPM_OIAP (18.1): c1, size 10, ordinal 0x0a; its answer
 * authHandle 02000002, nonceEven e4*20.  TPM_LoadKey2: c2, size 173,
 * ordinal 0x41, parentHandle 40000000, inKey (114), authHandle, nonceOdd
 * a1*20, 00, parentAuth.  Its answer: c5, size 55, 0, inkeyHandle
 * 01000005 (outside the HMAC: the point of LoadKey2), nonceEven e5*20, 00,
 * resAuth.  Then TPM_FlushSpecific of the key (TPM_RT_KEY = 1).
 */
static void test_load_key2_flush(void **state)
{
	(void)state;
	static const uint8_t oiap[] = { 0x00, 0xc1, 0, 0, 0, 10, 0, 0, 0, 0x0a };
	static const uint8_t ok[] = { 0x00, 0xc4, 0, 0, 0, 10, 0, 0, 0, 0 };
	static const uint8_t flush[] = { 0x00, 0xc1, 0, 0, 0, 18, 0, 0, 0, 0xba, 0x01, 0, 0, 0x05, 0, 0, 0, 1 };
	uint8_t srk[20], key[114], oiap_rsp[34], want[173], rsp[55], v[20], *p;
	uint32_t handle = 0;

	unhex(SRK_AUTH, srk, 20);
	make_key(key);
	p = oiap_rsp;
	put(&p, ((uint8_t[]){ 0x00, 0xc4, 0, 0, 0, 34, 0, 0, 0, 0, 0x02, 0, 0, 0x02 }), 14);
	fill(&p, 0xe4, 20);
	p = rsp;
	put(&p, ((uint8_t[]){ 0x00, 0xc5, 0, 0, 0, 55, 0, 0, 0, 0, 0x01, 0, 0, 0x05 }), 14);
	fill(&p, 0xe5, 20);
	*p++ = 0;
	unhex("d09f9d6a4c7545ce5b145618e7bf663b5d5eecc6", v, 20), put(&p, v, 20);
	p = want;
	put(&p, ((uint8_t[]){ 0x00, 0xc2, 0, 0, 0, 173, 0, 0, 0, 0x41, 0x40, 0, 0, 0 }), 14);
	put(&p, key, sizeof(key));
	put(&p, ((uint8_t[]){ 0x02, 0, 0, 0x02 }), 4);
	fill(&p, 0xa1, 20);
	*p++ = 0;
	unhex("56c607ed91ae1ffa1687912b5be965a04dd1e9e5", v, 20), put(&p, v, 20);

	answer(oiap_rsp, sizeof(oiap_rsp));
	answer(rsp, sizeof(rsp));
	answer(ok, sizeof(ok));
	assert_int_equal(m_tpm12_load_key(&tpm, srk, key, sizeof(key), &handle), 0);
	assert_int_equal(handle, 0x01000005);
	assert_int_equal(fake.cmd_len[0], sizeof(oiap));
	assert_memory_equal(fake.cmd[0], oiap, sizeof(oiap));
	assert_int_equal(fake.cmd_len[1], sizeof(want));
	assert_memory_equal(fake.cmd[1], want, sizeof(want));
	m_tpm12_flush_key(&tpm, handle);
	assert_int_equal(fake.ncmd, 3);
	assert_int_equal(fake.cmd_len[2], sizeof(flush));
	assert_memory_equal(fake.cmd[2], flush, sizeof(flush));

	/* the same answer for another nonceOdd does not verify: no handle */
	setup(NULL);
	draws = 1;
	handle = 0;
	answer(oiap_rsp, sizeof(oiap_rsp));
	answer(rsp, sizeof(rsp));
	assert_int_equal(m_tpm12_load_key(&tpm, srk, key, sizeof(key), &handle), -EBADMSG);
	assert_int_equal(handle, 0);
	/* a blob that is no TPM_KEY never reaches the TPM */
	setup(NULL);
	key[0] = 0x02;
	assert_int_equal(m_tpm12_load_key(&tpm, srk, key, sizeof(key), &handle), -EBADMSG);
	assert_int_equal(fake.ncmd, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_create_wrap_key, setup),
		cmocka_unit_test_setup(test_create_wrap_key_forged, setup),
		cmocka_unit_test_setup(test_create_wrap_key_refused, setup),
		cmocka_unit_test_setup(test_load_key2_flush, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

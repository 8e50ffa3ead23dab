// SPDX-License-Identifier: MIT
/*
 * TPM 1.2 key structures (TPM Main 1.2 Part 2): TPM_KEY (10.2), TPM_KEY12
 * (10.3), TPM_PUBKEY (10.5), TPM_KEY_PARMS (5.4), TPM_RSA_KEY_PARMS (5.5),
 * TPM_STORE_PUBKEY (10.4).  RSA keys only: the only kind a TPM 1.2 makes
 * for identities, and its EK; and the TPM_KEY template of the keys
 * measured asks a TPM 1.2 to make.
 */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_tpm2_types.h>
#include "measured/attest.h"
#include "measured/attest12.h"
#include "measured/error.h"
#include "tpm12_priv.h"

#define ALG_RSA 0x00000001
#define TAG_KEY12 0x0028
#define RSA_EXP_MAX 4u		/* a UINT32 exponent at most */
#define PCRINFO_MAX 1024u
#define AUTH_ALWAYS 0x01		/* 4.9 TPM_AUTH_DATA_USAGE */
#define ES_NONE 0x0001			/* 4.3 TPM_ENC_SCHEME */
#define SS_RSASSAPKCS1v15_SHA1 0x0002	/* 4.4 TPM_SIG_SCHEME */

/*
 * TPM_KEY_PARMS with TPM_RSA_KEY_PARMS, then TPM_STORE_PUBKEY, each read
 * from its own reader (a TPM_KEY has PCRInfo between them); the bytes of
 * both are copied into ret->raw, which is then a TPM_PUBKEY.
 */
static int read_parms(struct mbuf_reader *r, struct m_t12_pubkey *k)
{
	size_t start = r->off;
	uint32_t alg, psize, bits, primes, esize;
	struct mbuf_reader p;

	alg = mbr_be32(r);
	k->enc_scheme = mbr_be16(r);
	k->sig_scheme = mbr_be16(r);
	psize = mbr_be32(r);
	if (!mbr_ok(r) || !mbr_sub(r, psize, &p))
		return m_err(-EBADMSG, "TPM_KEY_PARMS: truncated");
	if (alg != ALG_RSA)
		return m_err(-EOPNOTSUPP, "TPM_KEY_PARMS: algorithm %u is not RSA", alg);
	bits = mbr_be32(&p);
	primes = mbr_be32(&p);
	esize = mbr_be32(&p);
	if (!mbr_ok(&p) || esize > RSA_EXP_MAX || mbr_remaining(&p) != esize)
		return m_err(-EBADMSG, "TPM_RSA_KEY_PARMS: malformed (exponent of %u bytes)", esize);
	k->exponent = 0;
	for (uint32_t i = 0; i < esize; i++)
		k->exponent = k->exponent << 8 | mbr_u8(&p);
	if (primes != 2 || bits < 512 || bits > 8 * M_T12_MODULUS_MAX || bits % 8)
		return m_err(-EOPNOTSUPP, "TPM_RSA_KEY_PARMS: %u bits, %u primes", bits, primes);
	k->n_len = bits / 8;
	if (r->off - start > sizeof(k->raw))
		return m_err(-EBADMSG, "TPM_KEY_PARMS: too long");
	memcpy(k->raw, r->data + start, r->off - start);
	k->raw_len = r->off - start;
	return 0;
}

static int read_store_pubkey(struct mbuf_reader *r, struct m_t12_pubkey *k)
{
	size_t start = r->off;
	uint32_t len = mbr_be32(r);
	const uint8_t *n;

	if (!mbr_ok(r) || len != k->n_len)
		return m_err(-EBADMSG, "TPM_STORE_PUBKEY: %u bytes for a %zu-bit key", len, 8 * k->n_len);
	n = mbr_ptr(r, len);
	if (!n)
		return m_err(-EBADMSG, "TPM_STORE_PUBKEY: truncated");
	memcpy(k->n, n, len);
	if (k->raw_len + (r->off - start) > sizeof(k->raw))
		return m_err(-EBADMSG, "TPM_PUBKEY: too long");
	memcpy(k->raw + k->raw_len, r->data + start, r->off - start);
	k->raw_len += r->off - start;
	return 0;
}

int m_t12_pubkey_parse(const uint8_t *data, size_t len, struct m_t12_pubkey *ret)
{
	struct m_t12_pubkey k;
	struct mbuf_reader r;
	int err;

	memset(&k, 0, sizeof(k));
	mbr_init(&r, data, len);
	err = read_parms(&r, &k);
	if (err == 0)
		err = read_store_pubkey(&r, &k);
	if (err < 0)
		return err;
	if (mbr_remaining(&r))
		return m_err(-EBADMSG, "TPM_PUBKEY: %zu bytes after the key", mbr_remaining(&r));
	*ret = k;
	return 0;
}

int t12_key_read(struct mbuf_reader *r, struct m_t12_pubkey *ret)
{
	struct m_t12_pubkey k;
	uint32_t pcrsize, encsize;
	uint16_t first;
	int err;


	memset(&k, 0, sizeof(k));
	/* TPM_KEY: ver 1.1.0.0; TPM_KEY12: tag 0x0028 and two bytes of fill */
	first = mbr_be16(r);
	if (first != 0x0101 && first != TAG_KEY12)
		return m_err(-EBADMSG, "TPM_KEY: neither a 1.1 TPM_KEY nor a TPM_KEY12 (0x%04x)", first);
	(void)mbr_be16(r);	/* revMajor/revMinor, or fill */
	(void)mbr_be16(r);	/* keyUsage */
	(void)mbr_be32(r);	/* keyFlags */
	(void)mbr_u8(r);	/* authDataUsage */
	if (!mbr_ok(r))
		return m_err(-EBADMSG, "TPM_KEY: truncated");
	err = read_parms(r, &k);
	if (err < 0)
		return err;
	pcrsize = mbr_be32(r);
	if (pcrsize > PCRINFO_MAX || !mbr_skip(r, pcrsize))
		return m_err(-EBADMSG, "TPM_KEY: PCRInfo of %u bytes", pcrsize);
	err = read_store_pubkey(r, &k);
	if (err < 0)
		return err;
	encsize = mbr_be32(r);
	if (encsize > M_T12_KEYBLOB_MAX || !mbr_skip(r, encsize))
		return m_err(-EBADMSG, "TPM_KEY: encData of %u bytes", encsize);
	if (ret)
		*ret = k;
	return 0;
}

int m_t12_key_pubkey(const uint8_t *blob, size_t len, struct m_t12_pubkey *ret)
{
	struct mbuf_reader r;
	int err;

	if (len > M_T12_KEYBLOB_MAX)
		return m_err(-EMSGSIZE, "TPM_KEY of %zu bytes, at most %u", len, M_T12_KEYBLOB_MAX);
	mbr_init(&r, blob, len);
	err = t12_key_read(&r, ret);
	if (err == 0 && mbr_remaining(&r))
		err = m_err(-EBADMSG, "TPM_KEY: %zu bytes after the key", mbr_remaining(&r));
	return err;
}

void t12_key_info(struct mbuf_writer *w, uint16_t usage)
{
	mbw_be32(w, 0x01010000);	/* ver 1.1.0.0 */
	mbw_be16(w, usage);
	mbw_be32(w, 0);			/* keyFlags: not migratable */
	mbw_u8(w, AUTH_ALWAYS);
	mbw_be32(w, ALG_RSA);
	mbw_be16(w, ES_NONE);
	mbw_be16(w, SS_RSASSAPKCS1v15_SHA1);
	mbw_be32(w, 12);		/* TPM_RSA_KEY_PARMS: */
	mbw_be32(w, 2048);		/*   keyLength */
	mbw_be32(w, 2);			/*   numPrimes */
	mbw_be32(w, 0);			/*   exponentSize: 65537 */
	mbw_be32(w, 0);			/* PCRInfoSize */
	mbw_be32(w, 0);			/* pubKey.keyLength */
	mbw_be32(w, 0);			/* encSize */
}

/* Through the TPM 2.0 public area, so one function turns RSA parameters into a key. */
int m_t12_pubkey_to_pkey(const struct m_t12_pubkey *k, EVP_PKEY **ret)
{
	TPMT_PUBLIC pub;

	memset(&pub, 0, sizeof(pub));
	pub.type = TPM2_ALG_RSA;
	pub.parameters.rsaDetail.keyBits = (uint16_t)(8 * k->n_len);
	pub.parameters.rsaDetail.exponent = k->exponent;
	pub.unique.rsa.size = (uint16_t)k->n_len;
	memcpy(pub.unique.rsa.buffer, k->n, k->n_len);
	return m_tpm_public_to_pkey(&pub, ret);
}

// SPDX-License-Identifier: MIT
/*
 * The keys of attestation: the EK from the TCG default templates and the
 * AK, a restricted signing key.  Every command goes through ESAPI; there is
 * no resource manager in front of swtpm, so every transient object made
 * here is flushed by its caller (m_tpm_flush()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include "measured/attest.h"
#include "measured/error.h"
#include "../tpm_priv.h"

/* m_tpm_rc_fail() is lib/tpm.c's, shared through tpm_priv.h */

int m_key_alg_parse(const char *s, enum m_key_alg *ret)
{
	if (!strcmp(s, "rsa") || !strcmp(s, "rsa2048")) {
		*ret = M_KEY_RSA2048;
		return 0;
	}
	if (!strcmp(s, "ecc") || !strcmp(s, "ecc256") || !strcmp(s, "ecc_nist_p256")) {
		*ret = M_KEY_ECC_P256;
		return 0;
	}
	return m_err(-EINVAL, "unknown key algorithm '%s' (rsa or ecc)", s);
}

/*
 * TCG EK Credential Profile 2.0, B.3.3: the policy of the default EK
 * templates, PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256.
 */
static const uint8_t ek_policy_sha256[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
	0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

/* EK Credential Profile 2.0, B.3.3 templates L-1 (RSA 2048) and L-2 (ECC NIST P-256). */
void m_ek_template(enum m_key_alg alg, TPM2B_PUBLIC *ret)
{
	TPMT_PUBLIC *p = &ret->publicArea;

	memset(ret, 0, sizeof(*ret));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
			      TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	p->authPolicy.size = sizeof(ek_policy_sha256);
	memcpy(p->authPolicy.buffer, ek_policy_sha256, sizeof(ek_policy_sha256));
	if (alg == M_KEY_RSA2048) {
		p->type = TPM2_ALG_RSA;
		p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
		p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.rsaDetail.keyBits = 2048;
		p->parameters.rsaDetail.exponent = 0;
		p->unique.rsa.size = 256;	/* 256 zero bytes */
	} else {
		p->type = TPM2_ALG_ECC;
		p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.eccDetail.symmetric.keyBits.aes = 128;
		p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		p->unique.ecc.x.size = 32;	/* 32 zero bytes each */
		p->unique.ecc.y.size = 32;
	}
}

/*
 * A restricted signing key (TPM 2.0 Part 1, 25.3.1.2): the TPM signs with it
 * only digests it computed itself, or data not starting with
 * TPM_GENERATED_VALUE, so a valid signature over a TPMS_ATTEST that starts
 * with the magic is a TPM's quote.  userWithAuth with an empty auth lets
 * the quote run without a session.
 */
void m_ak_template(enum m_key_alg alg, TPM2B_PUBLIC *ret)
{
	TPMT_PUBLIC *p = &ret->publicArea;

	memset(ret, 0, sizeof(*ret));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
			      TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	if (alg == M_KEY_RSA2048) {
		p->type = TPM2_ALG_RSA;
		p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
		p->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
		p->parameters.rsaDetail.keyBits = 2048;
	} else {
		p->type = TPM2_ALG_ECC;
		p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	}
}

int m_tpm_create_primary(struct m_tpm *tpm, const TPM2B_PUBLIC *tmpl, uint32_t *ret_handle,
			 TPM2B_PUBLIC *ret_pub)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcr = { 0 };
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;

	rc = Esys_CreatePrimary(tpm->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, tmpl, &outside, &creation_pcr, &h, &pub, &cdata,
				&chash, &ticket);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "TPM2_CreatePrimary(endorsement)", rc);
	if (ret_pub)
		*ret_pub = *pub;
	*ret_handle = h;
	Esys_Free(pub);
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	return 0;
}

int m_tpm_load_persistent(struct m_tpm *tpm, uint32_t tpm_handle, uint32_t *ret_handle,
			  TPM2B_PUBLIC *ret_pub)
{
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_NAME *name = NULL, *qname = NULL;
	ESYS_TR h;
	TSS2_RC rc;

	if ((tpm_handle >> 24) != TPM2_HT_PERSISTENT)
		return m_err(-EINVAL, "0x%08x is not a persistent handle (0x81xxxxxx)", tpm_handle);
	rc = Esys_TR_FromTPMPublic(tpm->esys, tpm_handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &h);
	if (rc != TSS2_RC_SUCCESS)
		return m_err_prefix(m_tpm_rc_fail(tpm, "TPM2_ReadPublic", rc), "handle 0x%08x", tpm_handle);
	if (ret_pub) {
		rc = Esys_ReadPublic(tpm->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name,
				     &qname);
		if (rc != TSS2_RC_SUCCESS) {
			Esys_TR_Close(tpm->esys, &h);
			return m_tpm_rc_fail(tpm, "TPM2_ReadPublic", rc);
		}
		*ret_pub = *pub;
		Esys_Free(pub);
		Esys_Free(name);
		Esys_Free(qname);
	}
	*ret_handle = h;
	return 0;
}

int m_tpm_persist(struct m_tpm *tpm, uint32_t handle, uint32_t tpm_handle)
{
	ESYS_TR out = ESYS_TR_NONE;
	TSS2_RC rc;

	rc = Esys_EvictControl(tpm->esys, ESYS_TR_RH_OWNER, handle, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			       ESYS_TR_NONE, tpm_handle, &out);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "TPM2_EvictControl", rc);
	Esys_TR_Close(tpm->esys, &out);
	return 0;
}

void m_tpm_flush(struct m_tpm *tpm, uint32_t handle)
{
	TPM2_HANDLE th = 0;
	ESYS_TR h = handle;

	if (handle == ESYS_TR_NONE)
		return;
	/* a persistent object stays in the TPM; only ESAPI's record of it goes */
	if (Esys_TR_GetTpmHandle(tpm->esys, h, &th) == TSS2_RC_SUCCESS &&
	    (th >> 24) == TPM2_HT_PERSISTENT) {
		Esys_TR_Close(tpm->esys, &h);
		return;
	}
	Esys_FlushContext(tpm->esys, h);
}

/*
 * NV reads are chunked: a TPM answers at most TPM_PT_NV_BUFFER_MAX bytes per
 * TPM2_NV_Read (Part 3, 31.13).  Small chunks cost a few more commands for a
 * ~1 KiB certificate but spare a capability query.
 */
#define NV_CHUNK 512u

int m_tpm_ek_cert_read(struct m_tpm *tpm, uint32_t nv_index, uint8_t **ret, size_t *ret_len)
{
	TPM2B_NV_PUBLIC *nvpub = NULL;
	TPM2B_NAME *name = NULL;
	TPM2B_MAX_NV_BUFFER *chunk = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	uint8_t *buf = NULL;
	size_t size, off = 0;
	TSS2_RC rc;
	int r;

	rc = Esys_TR_FromTPMPublic(tpm->esys, nv_index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &h);
	if (rc != TSS2_RC_SUCCESS) {
		tpm->last_rc = rc;
		return m_err(-ENOENT, "NV index 0x%08x: not defined (0x%08x %s)", nv_index,
			     (unsigned)rc, Tss2_RC_Decode(rc));
	}
	rc = Esys_NV_ReadPublic(tpm->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nvpub, &name);
	if (rc != TSS2_RC_SUCCESS) {
		r = m_tpm_rc_fail(tpm, "TPM2_NV_ReadPublic", rc);
		goto out;
	}
	size = nvpub->nvPublic.dataSize;
	if (size == 0 || size > M_EK_CERT_MAX) {
		r = m_err(-EINVAL, "NV index 0x%08x: %zu bytes (at most %u for a certificate)", nv_index,
			  size, M_EK_CERT_MAX);
		goto out;
	}
	buf = malloc(size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (off < size) {
		uint16_t n = size - off > NV_CHUNK ? NV_CHUNK : (uint16_t)(size - off);

		/* EK certificate indices are readable with their own empty auth
		 * (TCG EK Credential Profile, 2.2.1.5: TPMA_NV_AUTHREAD) */
		rc = Esys_NV_Read(tpm->esys, h, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
				  (uint16_t)off, &chunk);
		if (rc != TSS2_RC_SUCCESS) {
			r = m_tpm_rc_fail(tpm, "TPM2_NV_Read", rc);
			goto out;
		}
		if (chunk->size != n) {
			r = m_err(-EIO, "NV index 0x%08x: short read at offset %zu", nv_index, off);
			goto out;
		}
		memcpy(buf + off, chunk->buffer, n);
		off += n;
		Esys_Free(chunk);
		chunk = NULL;
	}
	*ret = buf;
	*ret_len = size;
	buf = NULL;
	r = 0;
out:
	free(buf);
	Esys_Free(chunk);
	Esys_Free(nvpub);
	Esys_Free(name);
	if (h != ESYS_TR_NONE)
		Esys_TR_Close(tpm->esys, &h);
	return r;
}

// SPDX-License-Identifier: MIT
/*
 * The three TPM 2.0 commands measured-init sends, marshalled with the
 * bounded writer and parsed with the bounded reader, as the Linux kernel
 * marshals its own (drivers/char/tpm/tpm2-cmd.c does the same three).
 * Everything else in the project goes through tpm2-tss; see
 * docs/init-footprint.md for why the init does not.
 *
 * Layouts: TPM 2.0 Library Part 3 sections 30.2 (GetCapability), 22.2
 * (PCR_Extend), 22.4 (PCR_Read); structures from Part 2 (TPML_PCR_SELECTION
 * 10.9.7, TPML_DIGEST_VALUES 10.9.6, TPMS_AUTH_COMMAND 10.13.2).
 */
#include <errno.h>
#include <string.h>
#include "measured/error.h"
#include "initcore.h"
#include "tpm12.h"

#define TPM_ST_NO_SESSIONS 0x8001
#define TPM_ST_SESSIONS 0x8002
#define TPM_CC_PCR_EXTEND 0x00000182
#define TPM_CC_PCR_READ 0x0000017e
#define TPM_CC_GET_CAPABILITY 0x0000017a
#define TPM_CAP_PCRS 0x00000005
#define TPM_RS_PW 0x40000009
#define TPM_HDR_LEN 10u
/* TPMS_PCR_SELECT: 3 bytes cover PCRs 0-23, the PC Client minimum. */
#define PCR_SELECT_MIN 3u
#define TPM_PCR_SELECT_MAX 8u	/* sizeofSelect above this is malformed (Part 2: TPM_PCR_SELECT_MAX) */
#define TPML_MAX 16u		/* more banks than any TPM has */

/* The bank table is lib/digest_banks.c's, linked into the init too. */

/*
 * Response header (Part 1, 18.10): tag, responseSize, responseCode.  The
 * size field must equal the bytes received; a non-zero code is the TPM's
 * refusal, kept in the message.
 */
static int rsp_begin(struct mbuf_reader *r, const void *rsp, size_t len, const char *what, uint16_t *ret_tag)
{
	uint16_t tag;
	uint32_t size, rc;

	mbr_init(r, rsp, len);
	tag = mbr_be16(r);
	size = mbr_be32(r);
	rc = mbr_be32(r);
	if (!mbr_ok(r))
		return m_err(-EBADMSG, "%s: response of %zu bytes is shorter than a header", what, len);
	if (size != len)
		return m_err(-EBADMSG, "%s: response size field %u but %zu bytes received", what, size, len);
	if (rc != 0)
		return m_err(-EIO, "%s: TPM_RC 0x%03x", what, rc);
	if (tag != TPM_ST_NO_SESSIONS && tag != TPM_ST_SESSIONS)
		return m_err(-EBADMSG, "%s: bad response tag 0x%04x", what, tag);
	*ret_tag = tag;
	return 0;
}

void mi_tpm_getcap_pcrs_cmd(struct mbuf_writer *w)
{
	uint8_t *size = mi_tpm_hdr_begin(w, TPM_ST_NO_SESSIONS, TPM_CC_GET_CAPABILITY);

	mbw_be32(w, TPM_CAP_PCRS);
	mbw_be32(w, 0);		/* property: ignored for TPM_CAP_PCRS */
	mbw_be32(w, 1);		/* propertyCount */
	mi_tpm_hdr_end(w, size);
}

/* TPMS_PCR_SELECTION: hash, sizeofSelect, pcrSelect[sizeofSelect]. */
static void read_selection(struct mbuf_reader *r, uint16_t *ret_alg, uint8_t sel[TPM_PCR_SELECT_MAX], unsigned *ret_n)
{
	unsigned n;

	*ret_alg = mbr_be16(r);
	n = mbr_u8(r);
	if (n > TPM_PCR_SELECT_MAX) {
		r->err = true;
		n = 0;
	}
	memset(sel, 0, TPM_PCR_SELECT_MAX);
	mbr_copy(r, sel, n);
	*ret_n = n;
}

int mi_tpm_getcap_pcrs_rsp(const void *rsp, size_t len, unsigned *ret_banks, unsigned *ret_unknown)
{
	const char *what = "TPM2_GetCapability(PCRS)";
	struct mbuf_reader r;
	uint16_t tag;
	uint32_t cap, count;
	unsigned banks = 0, unknown = 0;
	int ret;

	ret = rsp_begin(&r, rsp, len, what, &tag);
	if (ret < 0)
		return ret;
	(void)mbr_u8(&r);	/* moreData: TPM_CAP_PCRS fits one response */
	cap = mbr_be32(&r);
	count = mbr_be32(&r);
	if (mbr_ok(&r) && cap != TPM_CAP_PCRS)
		return m_err(-EBADMSG, "%s: capability 0x%x in the answer", what, cap);
	if (count > TPML_MAX)
		return m_err(-EBADMSG, "%s: %u banks, at most %u accepted", what, count, TPML_MAX);
	for (uint32_t i = 0; i < count && mbr_ok(&r); i++) {
		uint8_t sel[TPM_PCR_SELECT_MAX];
		uint16_t alg;
		unsigned n;
		bool any = false;
		int b;

		read_selection(&r, &alg, sel, &n);
		for (unsigned k = 0; k < n; k++)
			any |= sel[k] != 0;
		if (!any)
			continue;	/* bank implemented but no PCR allocated */
		b = m_bank_by_alg(alg);
		if (b < 0)
			unknown++;
		else
			banks |= M_BANK_BIT(b);
	}
	if (!mbr_ok(&r))
		return m_err(-EBADMSG, "%s: truncated TPML_PCR_SELECTION at byte %zu", what, r.off);
	*ret_banks = banks;
	if (ret_unknown)
		*ret_unknown = unknown;
	return 0;
}

void mi_tpm_extend_cmd(struct mbuf_writer *w, unsigned pcr, const struct m_digests *d)
{
	uint8_t *size = mi_tpm_hdr_begin(w, TPM_ST_SESSIONS, TPM_CC_PCR_EXTEND);
	uint32_t count = 0;

	mbw_be32(w, pcr);	/* TPMI_DH_PCR: the PCR index is its handle */
	/* Authorization area: one TPMS_AUTH_COMMAND, 9 bytes, password session
	 * with an empty password (PCR 0-15 have an empty auth value). */
	mbw_be32(w, 9);
	mbw_be32(w, TPM_RS_PW);
	mbw_be16(w, 0);		/* nonceCaller */
	mbw_u8(w, 0);		/* sessionAttributes */
	mbw_be16(w, 0);		/* hmac = password */
	for_each_bank(b, d->banks)
		count++;
	mbw_be32(w, count);
	for_each_bank(b, d->banks) {
		mbw_be16(w, m_bank_info(b)->tpm_alg);
		mbw_bytes(w, d->d[b], m_bank_info(b)->size);
	}
	mi_tpm_hdr_end(w, size);
}

int mi_tpm_extend_rsp(const void *rsp, size_t len)
{
	struct mbuf_reader r;
	uint16_t tag;
	int ret;

	ret = rsp_begin(&r, rsp, len, "TPM2_PCR_Extend", &tag);
	if (ret < 0)
		return ret;
	/* No response parameters; with a session: parameterSize, then the
	 * TPMS_AUTH_RESPONSE (nonce, attributes, hmac) which we need not check
	 * for a password session. */
	if (tag == TPM_ST_SESSIONS)
		(void)mbr_be32(&r);
	if (!mbr_ok(&r))
		return m_err(-EBADMSG, "TPM2_PCR_Extend: truncated response");
	return 0;
}

void mi_tpm_pcrread_cmd(struct mbuf_writer *w, unsigned pcr, unsigned banks)
{
	uint8_t *size = mi_tpm_hdr_begin(w, TPM_ST_NO_SESSIONS, TPM_CC_PCR_READ);
	uint32_t count = 0;

	for_each_bank(b, banks)
		count++;
	mbw_be32(w, count);
	for_each_bank(b, banks) {
		uint8_t sel[PCR_SELECT_MIN] = { 0 };

		if (pcr < 8 * PCR_SELECT_MIN)
			sel[pcr / 8] = 1u << (pcr % 8);
		mbw_be16(w, m_bank_info(b)->tpm_alg);
		mbw_u8(w, PCR_SELECT_MIN);
		mbw_bytes(w, sel, sizeof(sel));
	}
	mi_tpm_hdr_end(w, size);
}

/*
 * The TPM answers in the order of pcrSelectionOut, which may drop banks it
 * has not allocated: each returned digest is matched to the selection it
 * answers, and every requested bank must be answered.
 */
int mi_tpm_pcrread_rsp(const void *rsp, size_t len, unsigned pcr, unsigned banks, struct m_digests *ret)
{
	const char *what = "TPM2_PCR_Read";
	struct mbuf_reader r;
	struct m_digests out = { 0 };
	int order[TPML_MAX];
	uint32_t nsel, ndig;
	uint16_t tag;
	int rc;

	rc = rsp_begin(&r, rsp, len, what, &tag);
	if (rc < 0)
		return rc;
	(void)mbr_be32(&r);	/* pcrUpdateCounter */
	nsel = mbr_be32(&r);
	if (nsel > TPML_MAX)
		return m_err(-EBADMSG, "%s: %u selections", what, nsel);
	for (uint32_t i = 0; i < nsel; i++) {
		uint8_t sel[TPM_PCR_SELECT_MAX];
		uint16_t alg;
		unsigned n;

		read_selection(&r, &alg, sel, &n);
		order[i] = m_bank_by_alg(alg);
		if (pcr / 8 >= n || !(sel[pcr / 8] & (1u << (pcr % 8))))
			order[i] = -1;	/* nothing for our PCR in this bank */
	}
	ndig = mbr_be32(&r);
	if (!mbr_ok(&r))
		return m_err(-EBADMSG, "%s: truncated selection at byte %zu", what, r.off);
	if (ndig > nsel)
		return m_err(-EBADMSG, "%s: %u digests for %u selections", what, ndig, nsel);
	for (uint32_t i = 0, k = 0; i < ndig; i++) {
		uint16_t size = mbr_be16(&r);
		const uint8_t *p = mbr_ptr(&r, size);

		while (k < nsel && order[k] < 0)
			k++;
		if (!p)
			break;
		if (k >= nsel)
			return m_err(-EBADMSG, "%s: digest %u answers no selection", what, i);
		if (size != m_bank_info(order[k])->size)
			return m_err(-EBADMSG, "%s: %s digest of %u bytes", what, m_bank_info(order[k])->name, size);
		memcpy(out.d[order[k]], p, size);
		out.banks |= M_BANK_BIT(order[k]);
		k++;
	}
	if (!mbr_ok(&r))
		return m_err(-EBADMSG, "%s: truncated digest list at byte %zu", what, r.off);
	if ((out.banks & banks) != banks)
		return m_err(-ENOENT, "%s: PCR %u not returned in every requested bank", what, pcr);
	out.banks &= banks;
	*ret = out;
	return 0;
}

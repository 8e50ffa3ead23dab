// SPDX-License-Identifier: MIT
/*
 * TPM 1.2 behind struct m_tpm: the TCTI carries the bytes (a TCTI's
 * transmit/receive moves whole commands without looking at their format,
 * so device:/dev/tpm0 and swtpm:... work for 1.2 as they do for 2.0), and
 * lib/initcore/tpm12_wire.c (un)marshals them.  A TPM 1.2 has one bank,
 * SHA-1, and reads one PCR per TPM_PCRRead.
 */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_tcti.h>
#include "measured/error.h"
#include "initcore.h"
#include "tpm12.h"
#include "../tpm_priv.h"

/* A TPM 1.2's commands take seconds at worst (key generation: TPM_MakeIdentity). */
#define T12_TIMEOUT_MS 120000

int m_tpm_raw(struct m_tpm *tpm, const struct mbuf_writer *cmd, uint8_t *rsp, size_t cap, size_t *ret_len)
{
	size_t n = cap;
	TSS2_RC rc;

	if (!mbw_ok(cmd))
		return m_err(-EOVERFLOW, "TPM command over its buffer");
	rc = Tss2_Tcti_Transmit(tpm->tcti, cmd->len, cmd->data);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "sending a command", rc);
	rc = Tss2_Tcti_Receive(tpm->tcti, &n, rsp, T12_TIMEOUT_MS);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "receiving a response", rc);
	*ret_len = n;
	return 0;
}

/* The returnCode of a response, 0 if it has none (no message set). */
static uint32_t rsp_rc(const uint8_t *rsp, size_t len)
{
	struct mbuf_reader r;
	uint32_t rc;

	mbr_init(&r, rsp, len);
	mbr_skip(&r, 6);
	rc = mbr_be32(&r);
	return mbr_ok(&r) ? rc : 0;
}

/* Keep a 1.2 return code for m_tpm_last_rc(), as for 2.0. */
static int t12_result(struct m_tpm *tpm, int err, const uint8_t *rsp, size_t len)
{
	tpm->last_rc = rsp_rc(rsp, len);
	if (err < 0)
		return m_err_prefix(err, "TCTI %s", tpm->tcti_name);
	return 0;
}

int m_tpm12_start(struct m_tpm *tpm)
{
	uint8_t c[64], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err;

	for (int attempt = 0; attempt < 2; attempt++) {
		mbw_init_fixed(&w, c, sizeof(c));
		mi_t12_getcap_npcr_cmd(&w);
		err = m_tpm_raw(tpm, &w, r, sizeof(r), &n);
		if (err < 0)
			return err;
		if (rsp_rc(r, n) != MI_T12_INVALID_POSTINIT || attempt > 0)
			break;
		/* Firmware and the kernel start a TPM; a bare simulator may not be. */
		mbw_init_fixed(&w, c, sizeof(c));
		mi_t12_startup_cmd(&w);
		err = m_tpm_raw(tpm, &w, r, sizeof(r), &n);
		if (err == 0)
			err = t12_result(tpm, mi_t12_startup_rsp(r, n), r, n);
		if (err < 0)
			return err;
	}
	return t12_result(tpm, mi_t12_getcap_npcr_rsp(r, n, &tpm->npcr12), r, n);
}

static int check_pcr(struct m_tpm *tpm, unsigned pcr)
{
	if (pcr >= tpm->npcr12 || pcr >= M_PCR_COUNT)
		return m_err(-ERANGE, "PCR %u: this TPM 1.2 has PCRs 0-%u", pcr,
			     (tpm->npcr12 < M_PCR_COUNT ? tpm->npcr12 : M_PCR_COUNT) - 1);
	return 0;
}

int m_tpm12_pcr_read1(struct m_tpm *tpm, unsigned pcr, uint8_t ret[MI_T12_DIGEST_LEN])
{
	uint8_t c[64], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err = check_pcr(tpm, pcr);

	if (err < 0)
		return err;
	mbw_init_fixed(&w, c, sizeof(c));
	mi_t12_pcrread_cmd(&w, pcr);
	err = m_tpm_raw(tpm, &w, r, sizeof(r), &n);
	return err < 0 ? err : t12_result(tpm, mi_t12_pcrread_rsp(r, n, ret), r, n);
}

int m_tpm12_pcr_read(struct m_tpm *tpm, unsigned banks, uint32_t pcrs, struct m_pcrs *out)
{
	if (banks & ~M_BANK_BIT(M_SHA1))
		return m_err(-ENOENT, "a TPM 1.2 has only the sha1 bank");
	if (!banks)
		return 0;
	for (unsigned p = 0; p < M_PCR_COUNT; p++) {
		int err;

		if (!(pcrs & (1u << p)))
			continue;
		err = m_tpm12_pcr_read1(tpm, p, out->v[M_SHA1][p]);
		if (err < 0)
			return err;
		out->present[M_SHA1] |= 1u << p;
	}
	return 0;
}

int m_tpm12_extend(struct m_tpm *tpm, unsigned pcr, const struct m_digests *d)
{
	uint8_t c[64], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int err = check_pcr(tpm, pcr);

	if (err < 0)
		return err;
	if (d->banks != M_BANK_BIT(M_SHA1))
		return m_err(-ENOENT, "a TPM 1.2 has only the sha1 bank");
	mbw_init_fixed(&w, c, sizeof(c));
	mi_t12_extend_cmd(&w, pcr, d->d[M_SHA1]);
	err = m_tpm_raw(tpm, &w, r, sizeof(r), &n);
	return err < 0 ? err : t12_result(tpm, mi_t12_extend_rsp(r, n, NULL), r, n);
}

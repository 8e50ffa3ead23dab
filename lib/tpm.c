// SPDX-License-Identifier: MIT
/*
 * TPM access over a TCTI from tctildr.  The family is found first
 * (tpm_family()); a TPM 1.2 is handed to lib/tpm12/, a TPM 2.0 gets an
 * ESAPI context.  TPM 2.0 access through tpm2-tss: ESAPI over the TCTI.  Every
 * command is one ESAPI call; tpm2-tss does the (un)marshalling.  A failing
 * command keeps its TPM2_RC in the context and puts the decoded code in the
 * message (Tss2_RC_Decode), so callers print "TPM2_PCR_Extend: 0x00000907
 * tpm:warn(2.0): ..." without knowing tpm2-tss.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>
#include "measured/error.h"
#include "initcore.h"
#include "measured/tpm.h"
#include "tpm12.h"
#include "tpm_priv.h"

/*
 * TPM2_PCR_Read reports pcrUpdateCounter, which the TPM increments on every
 * extend or reset (TPM 2.0 Part 3, 22.4).  When a read takes several
 * commands and the counter moves in between, the values could come from two
 * different states, so the whole read starts again, at most this many
 * times.
 */
#define PCR_READ_ATTEMPTS 8

/*
 * Each attempt needs at most ceil(M_BANK_COUNT * 24 / 1) commands if a TPM
 * answered one digest at a time; a TPM that answers with nothing new is an
 * error, so this only bounds a misbehaving one.
 */
#define PCR_READ_MAX_CALLS (M_BANK_COUNT * M_PCR_COUNT + 1)

#define PCR_SELECT_BYTES 3	/* 24 PCRs, the PC Client minimum */

/* struct m_tpm is in tpm_priv.h: lib/attest/ sends commands of its own. */

/* Remember @rc and describe it; -EIO for every TPM/TSS failure. */
int m_tpm_rc_fail(struct m_tpm *tpm, const char *cmd, TSS2_RC rc)
{
	tpm->last_rc = rc;
	/* ESAPI refuses every call without a context: say why there is none. */
	if (tpm->family == 12 && (rc & TSS2_RC_LAYER_MASK) == TSS2_ESAPI_RC_LAYER)
		return m_err(-EOPNOTSUPP, "%s: the TPM behind TCTI %s is a TPM 1.2, and this is a TPM 2.0 command",
			     cmd, tpm->tcti_name);
	return m_err(-EIO, "%s: 0x%08x %s (TCTI %s)", cmd, (unsigned)rc, Tss2_RC_Decode(rc), tpm->tcti_name);
}

/*
 * The kernel says which family a TPM device is (tpm_version_major, Linux
 * 5.x and later); 0 when it does not say or @tcti is no device.  The device
 * number is that of /dev/tpmN or /dev/tpmrmN.
 */
static int sysfs_family(const char *tcti)
{
	const char *dev;
	unsigned n;

	if (strncmp(tcti, "device:", 7) != 0)
		return 0;
	dev = strrchr(tcti + 7, '/');
	dev = dev ? dev + 1 : tcti + 7;
	if (sscanf(dev, "tpmrm%u", &n) != 1 && sscanf(dev, "tpm%u", &n) != 1)
		return 0;
	return mi_tpm_sysfs_family(n);
}

/*
 * Which family answers: the kernel's word where it gives one, else the
 * probe, a TPM2_GetCapability(TPM_CAP_PCRS) that changes nothing (a TPM 1.2
 * refuses it with a 1.2 response header).
 */
static int tpm_family(struct m_tpm *tpm)
{
	uint8_t c[64], r[MI_TPM_BUF_MAX];
	struct mbuf_writer w;
	size_t n;
	int f = sysfs_family(tpm->tcti_name), err;

	if (f)
		return f;
	mbw_init_fixed(&w, c, sizeof(c));
	mi_tpm_getcap_pcrs_cmd(&w);
	err = m_tpm_raw(tpm, &w, r, sizeof(r), &n);
	if (err < 0)
		return m_err_prefix(err, "probing the TPM's family");
	f = mi_tpm_family(r, n);
	return f < 0 ? m_err_prefix(f, "TCTI %s", tpm->tcti_name) : f;
}

int m_tpm_open(const char *tcti, struct m_tpm **ret)
{
	struct m_tpm *tpm;
	TSS2_RC rc;
	int r;

	if (!tcti || !*tcti)
		return m_err(-EINVAL, "empty TCTI string");
	tpm = calloc(1, sizeof(*tpm));
	if (!tpm)
		return -ENOMEM;
	tpm->tcti_name = strdup(tcti);
	if (!tpm->tcti_name) {
		r = -ENOMEM;
		goto out;
	}
	/* The TCTIs connect (or open the device) here, so "nobody there" shows now. */
	rc = Tss2_TctiLdr_Initialize(tcti, &tpm->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		tpm->tcti = NULL;
		tpm->last_rc = rc;
		r = m_err(-ENODEV, "no TPM reachable through TCTI '%s': 0x%08x %s", tcti, (unsigned)rc,
			  Tss2_RC_Decode(rc));
		goto out;
	}
	r = tpm_family(tpm);
	if (r < 0)
		goto out;
	tpm->family = r;
	if (tpm->family == 12) {
		r = m_tpm12_start(tpm);
		if (r < 0)
			goto out;
		*ret = tpm;
		return 0;
	}
	rc = Esys_Initialize(&tpm->esys, tpm->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		tpm->esys = NULL;
		r = m_tpm_rc_fail(tpm, "Esys_Initialize", rc);
		goto out;
	}
	*ret = tpm;
	return 0;
out:
	m_tpm_close(tpm);
	return r;
}

void m_tpm_close(struct m_tpm *tpm)
{
	if (!tpm)
		return;
	if (tpm->esys)
		Esys_Finalize(&tpm->esys);
	if (tpm->tcti)
		Tss2_TctiLdr_Finalize(&tpm->tcti);
	free(tpm->tcti_name);
	free(tpm);
}

uint32_t m_tpm_last_rc(const struct m_tpm *tpm)
{
	return tpm ? tpm->last_rc : 0;
}

int m_tpm_family(const struct m_tpm *tpm)
{
	return tpm->family;
}

/* TPM 2.0 Part 3, 30.2 TPM2_GetCapability(TPM_CAP_PCRS): the allocation per hash. */
int m_tpm_banks(struct m_tpm *tpm, unsigned *ret_banks)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more = 0;
	unsigned banks = 0;
	TSS2_RC rc;

	if (tpm->family == 12) {
		*ret_banks = M_BANK_BIT(M_SHA1);
		return 0;
	}
	rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1,
				&more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "TPM2_GetCapability(TPM_CAP_PCRS)", rc);
	if (cap->capability != TPM2_CAP_PCRS) {
		Esys_Free(cap);
		return m_err(-EIO, "TPM2_GetCapability: asked for TPM_CAP_PCRS, got capability 0x%x",
			     (unsigned)cap->capability);
	}
	for (UINT32 i = 0; i < cap->data.assignedPCR.count && i < TPM2_NUM_PCR_BANKS; i++) {
		const TPMS_PCR_SELECTION *s = &cap->data.assignedPCR.pcrSelections[i];
		int b = m_bank_by_alg(s->hash);
		bool any = false;

		for (unsigned j = 0; j < s->sizeofSelect && j < sizeof(s->pcrSelect); j++)
			any |= s->pcrSelect[j] != 0;
		/* a hash we have no name for cannot be asked for anyway */
		if (b >= 0 && any)
			banks |= M_BANK_BIT(b);
	}
	Esys_Free(cap);
	*ret_banks = banks;
	return 0;
}

/*
 * Take the digests of one TPM2_PCR_Read response into @out, clearing what
 * arrived from @want.  The digests come in the order of pcrSelectionOut:
 * selection by selection, PCR numbers ascending (Part 3, 22.4.1).
 */
static int take_pcr_values(const TPML_PCR_SELECTION *sel, const TPML_DIGEST *vals, uint32_t want[M_BANK_COUNT],
			   struct m_pcrs *out, unsigned *ret_taken)
{
	unsigned k = 0;

	for (UINT32 i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int b = m_bank_by_alg(s->hash);

		for (unsigned p = 0; p < 8u * s->sizeofSelect && p / 8 < sizeof(s->pcrSelect); p++) {
			const TPM2B_DIGEST *dg;

			if (!(s->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			if (b < 0 || p >= M_PCR_COUNT || !(want[b] & (1u << p)))
				return m_err(-EIO, "TPM2_PCR_Read: response holds PCR %u of hash 0x%04x, which was not asked for",
					     p, s->hash);
			if (k >= vals->count || k >= sizeof(vals->digests) / sizeof(vals->digests[0]))
				return m_err(-EIO, "TPM2_PCR_Read: response selects more PCRs than it has digests (%u)",
					     (unsigned)vals->count);
			dg = &vals->digests[k++];
			if (dg->size != m_bank_info(b)->size)
				return m_err(-EIO, "TPM2_PCR_Read: PCR %u in %s has a %u-byte digest, expected %u", p,
					     m_bank_info(b)->name, dg->size, m_bank_info(b)->size);
			memcpy(out->v[b][p], dg->buffer, dg->size);
			out->present[b] |= 1u << p;
			want[b] &= ~(1u << p);
		}
	}
	if (k != vals->count)
		return m_err(-EIO, "TPM2_PCR_Read: %u digests for %u selected PCRs", (unsigned)vals->count, k);
	*ret_taken = k;
	return 0;
}

/* One attempt at reading everything; -EAGAIN if pcrUpdateCounter moved. */
static int pcr_read_once(struct m_tpm *tpm, unsigned banks, uint32_t pcrs, struct m_pcrs *out)
{
	uint32_t want[M_BANK_COUNT] = { 0 };
	UINT32 counter = 0;
	bool first = true;

	for_each_bank(b, banks)
		want[b] = pcrs;
	for (unsigned call = 0; call < PCR_READ_MAX_CALLS; call++) {
		TPML_PCR_SELECTION in = { 0 }, *sel = NULL;
		TPML_DIGEST *vals = NULL;
		UINT32 cnt;
		unsigned taken = 0;
		TSS2_RC rc;
		int r;

		for_each_bank(b, banks) {
			TPMS_PCR_SELECTION *s;

			if (!want[b])
				continue;
			s = &in.pcrSelections[in.count++];
			s->hash = m_bank_info(b)->tpm_alg;
			s->sizeofSelect = PCR_SELECT_BYTES;
			for (unsigned j = 0; j < PCR_SELECT_BYTES; j++)
				s->pcrSelect[j] = (uint8_t)(want[b] >> (8 * j));
		}
		if (in.count == 0)
			return 0;
		rc = Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, &cnt, &sel, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return m_tpm_rc_fail(tpm, "TPM2_PCR_Read", rc);
		r = take_pcr_values(sel, vals, want, out, &taken);
		Esys_Free(sel);
		Esys_Free(vals);
		if (r < 0)
			return r;
		if (!first && cnt != counter)
			return -EAGAIN;
		first = false;
		counter = cnt;
		if (taken == 0) {
			/* The TPM leaves out what it does not have: an unallocated bank or PCR. */
			for_each_bank(b, banks) {
				if (want[b])
					return m_err(-ENOENT, "TPM2_PCR_Read: the TPM returned no value for PCR %u in bank %s (not allocated on this TPM)",
						     (unsigned)__builtin_ctz(want[b]), m_bank_info(b)->name);
			}
		}
	}
	return m_err(-EIO, "TPM2_PCR_Read: still incomplete after %u commands", PCR_READ_MAX_CALLS);
}

int m_tpm_pcr_read(struct m_tpm *tpm, unsigned banks, uint32_t pcrs, struct m_pcrs *ret)
{
	struct m_pcrs *out;
	int r = -EAGAIN;

	if (pcrs >> M_PCR_COUNT)
		return m_err(-ERANGE, "PCR mask 0x%x beyond PCR %u", (unsigned)pcrs, M_PCR_COUNT - 1);
	if (banks & ~M_BANKS_ALL)
		return m_err(-EINVAL, "bank mask 0x%x has unknown banks", banks);
	out = calloc(1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	if (tpm->family == 12) {
		r = m_tpm12_pcr_read(tpm, banks, pcrs, out);
		goto done;
	}
	for (unsigned attempt = 0; attempt < PCR_READ_ATTEMPTS && r == -EAGAIN; attempt++) {
		memset(out, 0, sizeof(*out));
		r = pcr_read_once(tpm, banks, pcrs, out);
	}
	if (r == -EAGAIN)
		r = m_err(-EAGAIN, "TPM2_PCR_Read: PCRs kept changing during the read (%u attempts)",
			  PCR_READ_ATTEMPTS);
done:
	if (r == 0)
		*ret = *out;
	free(out);
	return r;
}

/* TPM 2.0 Part 3, 22.2 TPM2_PCR_Extend: one command, one digest per bank. */
int m_tpm_pcr_extend(struct m_tpm *tpm, unsigned pcr, const struct m_digests *d)
{
	TPML_DIGEST_VALUES vals = { 0 };
	TSS2_RC rc;

	if (pcr >= M_PCR_COUNT)
		return m_err(-ERANGE, "PCR %u out of range 0-%u", pcr, M_PCR_COUNT - 1);
	if (!(d->banks & M_BANKS_ALL) || (d->banks & ~M_BANKS_ALL))
		return m_err(-EINVAL, "no (or an unknown) bank to extend");
	if (tpm->family == 12)
		return m_tpm12_extend(tpm, pcr, d);
	for_each_bank(b, d->banks) {
		TPMT_HA *h = &vals.digests[vals.count++];

		h->hashAlg = m_bank_info(b)->tpm_alg;
		/* TPMU_HA is a union of byte arrays, each the size of its hash */
		memcpy((uint8_t *)&h->digest, d->d[b], m_bank_info(b)->size);
	}
	rc = Esys_PCR_Extend(tpm->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &vals);
	if (rc != TSS2_RC_SUCCESS)
		return m_tpm_rc_fail(tpm, "TPM2_PCR_Extend", rc);
	return 0;
}

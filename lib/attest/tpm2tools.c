// SPDX-License-Identifier: MIT
/*
 * The PCR file of tpm2-tools 5.x (tpm2_quote -o, tpm2_pcrread -o with the
 * default "values" format, read by tpm2_checkquote -f).  It is not a TPM
 * wire format but tpm2-tss's C structures as they lie in memory:
 *
 *   TPML_PCR_SELECTION   UINT32 count, then TPM2_NUM_PCR_BANKS entries of
 *                        TPMS_PCR_SELECTION (UINT16 hash, UINT8 sizeofSelect,
 *                        UINT8 pcrSelect[4], one pad byte)
 *   UINT32               number of TPML_DIGEST that follow
 *   TPML_DIGEST[]        UINT32 count, then 8 TPM2B_DIGEST (UINT16 size,
 *                        BYTE buffer[64]); the values in selection order,
 *                        at most 8 per list
 *
 * in host byte order.  We write it from the same tss2 structures and read
 * it field by field as little-endian (the byte order of the hosts
 * tpm2-tools runs on in practice: x86-64, arm64).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "measured/attest.h"
#include "measured/buf.h"
#include "measured/error.h"

#define DIGESTS_PER_LIST (sizeof(((TPML_DIGEST *)0)->digests) / sizeof(TPM2B_DIGEST))	/* 8 */
#define MAX_LISTS ((M_BANK_COUNT * M_PCR_COUNT + DIGESTS_PER_LIST - 1) / DIGESTS_PER_LIST)

int m_tpm2tools_pcrs_write(const TPML_PCR_SELECTION *sel, const struct m_pcrs *pcrs, uint8_t **ret,
			   size_t *ret_len)
{
	TPML_DIGEST lists[MAX_LISTS];
	uint32_t nlists = 0, total = 0;
	uint8_t *out;
	size_t len;

	memset(lists, 0, sizeof(lists));
	if (sel->count > TPM2_NUM_PCR_BANKS)
		return m_err(-EINVAL, "PCR selection of %u banks", sel->count);
	for (uint32_t i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int b = m_bank_by_alg(s->hash);

		for (unsigned p = 0; p < 8u * s->sizeofSelect && p < 8u * sizeof(s->pcrSelect); p++) {
			TPML_DIGEST *l;

			if (!(s->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			if (b < 0 || p >= M_PCR_COUNT || !(pcrs->present[b] & (1u << p)))
				return m_err(-EINVAL, "no value for quoted PCR %u of bank 0x%04x", p, s->hash);
			if (total / DIGESTS_PER_LIST >= MAX_LISTS)
				return m_err(-E2BIG, "too many PCR values");
			l = &lists[total / DIGESTS_PER_LIST];
			l->digests[l->count].size = m_bank_info(b)->size;
			memcpy(l->digests[l->count].buffer, pcrs->v[b][p], m_bank_info(b)->size);
			l->count++;
			total++;
		}
	}
	nlists = (total + DIGESTS_PER_LIST - 1) / DIGESTS_PER_LIST;
	len = sizeof(*sel) + sizeof(uint32_t) + nlists * sizeof(TPML_DIGEST);
	out = malloc(len);
	if (!out)
		return -ENOMEM;
	memcpy(out, sel, sizeof(*sel));
	memcpy(out + sizeof(*sel), &nlists, sizeof(nlists));
	memcpy(out + sizeof(*sel) + sizeof(nlists), lists, nlists * sizeof(TPML_DIGEST));
	*ret = out;
	*ret_len = len;
	return 0;
}

int m_tpm2tools_pcrs_read(const uint8_t *data, size_t len, struct m_pcrs *ret)
{
	struct mbuf_reader r, e;
	struct m_pcrs *out;
	uint32_t count, nlists, li = 0, di = 0, ndig = 0;
	struct mbuf_reader list = { 0 };
	int err = 0;

	out = calloc(1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	mbr_init(&r, data, len);
	count = mbr_le32(&r);
	if (!mbr_ok(&r) || count > TPM2_NUM_PCR_BANKS) {
		err = m_err(-EINVAL, "PCR file: selection count %u (at most %u)", count, TPM2_NUM_PCR_BANKS);
		goto out;
	}
	/* the selection array is always full size; read the entries in place */
	if (!mbr_sub(&r, TPM2_NUM_PCR_BANKS * sizeof(TPMS_PCR_SELECTION), &e)) {
		err = m_err(-EINVAL, "PCR file: truncated selection");
		goto out;
	}
	nlists = mbr_le32(&r);
	if (!mbr_ok(&r) || nlists > MAX_LISTS) {
		err = m_err(-EINVAL, "PCR file: %u digest lists (at most %zu)", nlists, MAX_LISTS);
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint16_t hash = mbr_le16(&e);
		uint8_t nsel = mbr_u8(&e);
		uint8_t bits[4];
		int b = m_bank_by_alg(hash);

		mbr_copy(&e, bits, sizeof(bits));
		mbr_skip(&e, sizeof(TPMS_PCR_SELECTION) - 7);
		if (nsel > sizeof(bits)) {
			err = m_err(-EINVAL, "PCR file: selection %u of %u bytes", i, nsel);
			goto out;
		}
		for (unsigned p = 0; p < 8u * nsel; p++) {
			uint16_t size;

			if (!(bits[p / 8] & (1u << (p % 8))))
				continue;
			if (b < 0 || p >= M_PCR_COUNT) {
				err = m_err(-EINVAL, "PCR file: bank 0x%04x PCR %u unsupported", hash, p);
				goto out;
			}
			/* next digest: the next list when this one is used up */
			while (di == ndig) {
				if (li == nlists) {
					err = m_err(-EINVAL, "PCR file: fewer values than selected PCRs");
					goto out;
				}
				if (!mbr_sub(&r, sizeof(TPML_DIGEST), &list)) {
					err = m_err(-EINVAL, "PCR file: truncated digest list %u", li);
					goto out;
				}
				ndig = mbr_le32(&list);
				if (ndig > DIGESTS_PER_LIST) {
					err = m_err(-EINVAL, "PCR file: digest list %u of %u entries", li, ndig);
					goto out;
				}
				li++;
				di = 0;
			}
			size = mbr_le16(&list);
			if (size != m_bank_info(b)->size) {
				err = m_err(-EINVAL, "PCR file: %s PCR %u has %u bytes", m_bank_info(b)->name, p, size);
				goto out;
			}
			mbr_copy(&list, out->v[b][p], size);
			mbr_skip(&list, sizeof(((TPM2B_DIGEST *)0)->buffer) - size);
			out->present[b] |= 1u << p;
			di++;
		}
	}
	if (!mbr_ok(&e) || !mbr_ok(&list)) {
		err = m_err(-EINVAL, "PCR file: truncated");
		goto out;
	}
	*ret = *out;
out:
	free(out);
	return err;
}

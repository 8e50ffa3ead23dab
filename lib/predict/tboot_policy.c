// SPDX-License-Identifier: MIT
/*
 * tboot verified-launch policy (tb_policy_t, tboot include/tb_policy.h,
 * as tb_polgen writes it) and the policy-control measurement tboot makes
 * from it (tboot common/policy.c verify_g_policy()).
 *
 * Layout, all little-endian and packed: version u8 (2), policy_type u8
 * (< 3), hash_alg u8 (a TPM_ALG_ID; 0 is the TPM 1.2 tools' SHA-1),
 * policy_control u32, reserved u32, num_entries u8; each entry: mod_num
 * u8, pcr u8, hash_type u8, nv_index u32, num_hashes u8, then num_hashes
 * digests of hash_alg's size.  The checks are tboot's verify_policy().
 */
#include <errno.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/tboot.h"

static int policy_bank(uint8_t alg, enum m_bank *ret)
{
	int b;

	if (alg == 0) {		/* TB_HALG_SHA1_LG */
		*ret = M_SHA1;
		return 0;
	}
	b = m_bank_by_alg(alg);
	if (b < 0)
		return -EINVAL;
	*ret = (enum m_bank)b;
	return 0;
}

int m_tb_policy_parse(const uint8_t *data, size_t len, struct m_tb_policy *ret)
{
	struct mbuf_reader r;
	struct m_tb_policy *p = ret;
	size_t hsize;

	if (len > M_TB_POLICY_MAX_SIZE)
		return m_err(-EINVAL, "tboot policy: %zu bytes, over tboot's limit of %u", len,
			     M_TB_POLICY_MAX_SIZE);
	if (len < M_TB_POLICY_HDR_SIZE)
		return m_err(-EINVAL, "tboot policy: %zu bytes, shorter than its %u-byte header", len,
			     M_TB_POLICY_HDR_SIZE);
	mbr_init(&r, data, len);
	p->version = mbr_u8(&r);
	p->policy_type = mbr_u8(&r);
	p->hash_alg = mbr_u8(&r);
	p->policy_control = mbr_le32(&r);
	mbr_skip(&r, 4);
	p->num_entries = mbr_u8(&r);
	if (p->version != M_TB_POLICY_VERSION)
		return m_err(-EINVAL, "tboot policy: version %u at offset 0, expected %u", p->version,
			     M_TB_POLICY_VERSION);
	if (p->policy_type > 2)
		return m_err(-EINVAL, "tboot policy: unknown policy_type %u at offset 1", p->policy_type);
	if (policy_bank(p->hash_alg, &p->bank) < 0)
		return m_err(-EINVAL, "tboot policy: unknown hash_alg 0x%02x at offset 2", p->hash_alg);
	hsize = m_bank_info(p->bank)->size;

	for (unsigned i = 0; i < p->num_entries; i++) {
		struct m_tb_policy_entry *e = &p->entries[i];

		e->offset = r.off;
		if (mbr_remaining(&r) < M_TB_POLICY_ENTRY_SIZE)
			return m_err(-EINVAL, "tboot policy: entry %u at offset %zu truncated (file has %zu bytes, %u entries declared)",
				     i, e->offset, len, p->num_entries);
		e->mod_num = mbr_u8(&r);
		e->pcr = mbr_u8(&r);
		e->hash_type = mbr_u8(&r);
		e->nv_index = mbr_le32(&r);
		e->num_hashes = mbr_u8(&r);
		if (e->mod_num > M_TB_MOD_NUM_MAX && e->mod_num != M_TB_MOD_NUM_ANY &&
		    e->mod_num != M_TB_MOD_NUM_NV && e->mod_num != M_TB_MOD_NUM_NV_RAW)
			return m_err(-EINVAL, "tboot policy: entry %u (offset %zu): bad mod_num %u",
				     i, e->offset, e->mod_num);
		if (e->pcr > M_TB_PCR_MAX && e->pcr != M_TB_PCR_NONE)
			return m_err(-EINVAL, "tboot policy: entry %u (offset %zu): bad pcr %u",
				     i, e->offset + 1, e->pcr);
		if (e->hash_type > M_TB_HTYPE_IMAGE)
			return m_err(-EINVAL, "tboot policy: entry %u (offset %zu): bad hash_type %u",
				     i, e->offset + 2, e->hash_type);
		e->hashes = mbr_ptr(&r, e->num_hashes * hsize);
		if (!e->hashes)
			return m_err(-EINVAL, "tboot policy: entry %u (offset %zu): %u hashes of %zu bytes run past the end (%zu bytes)",
				     i, e->offset, e->num_hashes, hsize, len);
	}
	if (mbr_remaining(&r) != 0)
		return m_err(-EINVAL, "tboot policy: %zu bytes left over at offset %zu after %u entries",
			     mbr_remaining(&r), r.off, p->num_entries);
	p->raw = data;
	p->size = len;
	return 0;
}

const struct m_tb_policy_entry *m_tb_policy_find(const struct m_tb_policy *pol, unsigned mod)
{
	for (unsigned i = 0; i < pol->num_entries; i++)
		if (pol->entries[i].mod_num == mod || pol->entries[i].mod_num == M_TB_MOD_NUM_ANY)
			return &pol->entries[i];
	return NULL;
}

int m_tb_policy_control_digest(const struct m_tb_policy *pol, enum m_bank cur, enum m_bank bank,
			       uint8_t *out)
{
	uint8_t buf[4 + M_DIGEST_MAX] = { 0 };
	size_t csize = m_bank_info(cur)->size;
	struct m_hash *h;
	struct m_digests d;
	int e;

	buf[0] = (uint8_t)pol->policy_control;
	buf[1] = (uint8_t)(pol->policy_control >> 8);
	buf[2] = (uint8_t)(pol->policy_control >> 16);
	buf[3] = (uint8_t)(pol->policy_control >> 24);
	if (pol->policy_control & M_TB_POLCTL_EXTEND_PCR17) {
		/* H_cur over the policy as tboot holds it: hash_alg 0 already rewritten to 4. */
		uint8_t alg = pol->hash_alg ? pol->hash_alg : 0x04;

		if ((e = m_hash_new(M_BANK_BIT(cur), &h)) < 0)
			return e;
		m_hash_update(h, pol->raw, 2);
		m_hash_update(h, &alg, 1);
		m_hash_update(h, pol->raw + 3, pol->size - 3);
		e = m_hash_final(h, &d);
		m_hash_free(h);
		if (e < 0)
			return e;
		memcpy(buf + 4, d.d[cur], csize);
	}
	return m_digest_one(bank, buf, 4 + csize, out);
}

void m_tb_policy_default(bool tpm12, bool da, uint8_t buf[M_TB_POLICY_DEFAULT_SIZE])
{
	struct mbuf_writer w;

	mbw_init_fixed(&w, buf, M_TB_POLICY_DEFAULT_SIZE);
	mbw_u8(&w, M_TB_POLICY_VERSION);
	mbw_u8(&w, 0);				/* TB_POLTYPE_CONT_NON_FATAL */
	mbw_u8(&w, tpm12 ? 0x04 : 0x0b);	/* SHA-1 / SHA-256 */
	mbw_le32(&w, M_TB_POLCTL_EXTEND_PCR17);
	mbw_le32(&w, 0);
	mbw_u8(&w, 3);
	/* module 0: measured by default (PCR 18, or 17 with DA), not again */
	mbw_u8(&w, 0); mbw_u8(&w, M_TB_PCR_NONE); mbw_u8(&w, M_TB_HTYPE_ANY); mbw_le32(&w, 0); mbw_u8(&w, 0);
	/* every other module: PCR 19, or 17 with DA */
	mbw_u8(&w, M_TB_MOD_NUM_ANY); mbw_u8(&w, da && !tpm12 ? 17 : 19); mbw_u8(&w, M_TB_HTYPE_ANY);
	mbw_le32(&w, 0); mbw_u8(&w, 0);
	/* geo-tagging NV index 0x40000010, raw, into PCR 22 */
	mbw_u8(&w, M_TB_MOD_NUM_NV_RAW); mbw_u8(&w, 22); mbw_u8(&w, M_TB_HTYPE_ANY);
	mbw_le32(&w, 0x40000010); mbw_u8(&w, 0);
}

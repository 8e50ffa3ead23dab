// SPDX-License-Identifier: MIT
/*
 * tboot's module measurement and the legacy SINIT PCR 17 input; the
 * formulas and their sources are in docs/predict-formulas.md.
 */
#include <errno.h>
#include <string.h>
#include "measured/error.h"
#include "measured/tboot.h"

const char *m_tboot_skip_filename(const char *s)
{
	while (*s == ' ')
		s++;
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

/* tboot common/policy.c hash_module(): H(H(cmdline) || H(image)), per bank. */
int m_tboot_module_hash(const char *cmdline, const uint8_t *img, size_t len, unsigned banks,
			struct m_digests *ret)
{
	struct m_digests c, i, out = { .banks = banks };
	uint8_t buf[2 * M_DIGEST_MAX];
	int e;

	if ((e = m_digest_buf(banks, cmdline, strlen(cmdline), &c)) < 0 ||
	    (e = m_digest_buf(banks, img, len, &i)) < 0)
		return e;
	for_each_bank(b, banks) {
		size_t n = m_bank_info(b)->size;

		memcpy(buf, c.d[b], n);
		memcpy(buf + n, i.d[b], n);
		if ((e = m_digest_one(b, buf, 2 * n, out.d[b])) < 0)
			return e;
	}
	*ret = out;
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

int m_txt_legacy_sinit_details(const struct m_txt_legacy_sinit *s, uint8_t out[20])
{
	uint8_t buf[20 + 4 + 8 + 20 + 4 + 20 + 4 + 4];
	size_t n = 0;

	memcpy(buf + n, s->bios_acm_id, 20), n += 20;
	put_le32(buf + n, s->edx_senter_flags), n += 4;
	put_le32(buf + n, (uint32_t)s->mseg_valid);
	put_le32(buf + n + 4, (uint32_t)(s->mseg_valid >> 32)), n += 8;
	memcpy(buf + n, s->stm_hash, 20), n += 20;
	put_le32(buf + n, s->lcp_policy_control), n += 4;
	memcpy(buf + n, s->lcp_policy_hash, 20), n += 20;
	if (s->has_os_sinit_caps)
		put_le32(buf + n, s->os_sinit_caps), n += 4;
	if (s->has_scrtm_status)
		put_le32(buf + n, s->proc_scrtm_status), n += 4;
	return m_digest_one(M_SHA1, buf, n, out);
}

// SPDX-License-Identifier: MIT
/*
 * The root filesystem's event in a manifest: exactly what measured-init
 * extends, from the definition both compile (lib/measure/root_event.c).
 */
#include <errno.h>
#include <string.h>
#include "measured/error.h"
#include "measured/measure.h"
#include "measured/predict.h"

int m_rootfs_compat_digest(const uint8_t sha1_image[20], uint8_t ret[20])
{
	struct m_digests img = { .banks = M_BANK_BIT(M_SHA1) }, d;
	int r;

	memcpy(img.d[M_SHA1], sha1_image, 20);
	r = m_root_extend_digests(m_hash_backend_evp(), true, M_BANK_BIT(M_SHA1), &img, &d);
	if (r == 0)
		memcpy(ret, d.d[M_SHA1], 20);
	return r;
}

int m_predict_rootfs(struct m_manifest *m, unsigned pcr, const struct m_digests *image, bool compat,
		     const char *description)
{
	unsigned banks = compat ? M_BANK_BIT(M_SHA1) : m->banks;
	struct m_digests d;
	int r;

	if (compat && !(m->banks & M_BANK_BIT(M_SHA1)))
		return m_err(-EINVAL, "compatibility mode extends the sha1 bank: add sha1 to --bank");
	r = m_root_extend_digests(m_hash_backend_evp(), compat, banks, image, &d);
	if (r < 0)
		return r;
	return m_manifest_add(m, pcr, 0, &d, description, compat ? "rootfs-compat" : "rootfs");
}

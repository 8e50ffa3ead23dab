// SPDX-License-Identifier: MIT
/* The root filesystem's event, as measured-init extends it (docs/measured-init.md). */
#include <errno.h>
#include <string.h>
#include "measured/error.h"
#include "measured/predict.h"

int m_rootfs_compat_digest(const uint8_t sha1_image[20], uint8_t ret[20])
{
	char hex[41];

	/* The original piped `sha1sum` output, cut to its 40 hex characters,
	 * into tpm_extendpcr, which hashed that text. */
	m_hex(sha1_image, 20, hex);
	return m_digest_one(M_SHA1, hex, 40, ret);
}

int m_predict_rootfs(struct m_manifest *m, unsigned pcr, const struct m_digests *image, bool compat,
		     const char *description)
{
	struct m_digests d = { 0 };
	int r;

	if (compat) {
		if (!(image->banks & M_BANK_BIT(M_SHA1)))
			return m_err(-EINVAL, "compatibility mode needs the image's SHA-1 digest");
		if (!(m->banks & M_BANK_BIT(M_SHA1)))
			return m_err(-EINVAL, "compatibility mode extends the sha1 bank: add sha1 to --bank");
		r = m_rootfs_compat_digest(image->d[M_SHA1], d.d[M_SHA1]);
		if (r < 0)
			return r;
		d.banks = M_BANK_BIT(M_SHA1);
	} else {
		if ((image->banks & m->banks) != m->banks) {
			char want[64];
			m_bank_list_format(m->banks, want, sizeof(want));
			return m_err(-EINVAL, "the root image's digest is needed in every bank (%s)", want);
		}
		d = *image;
		d.banks = m->banks;
	}
	return m_manifest_add(m, pcr, 0, &d, description, compat ? "rootfs-compat" : "rootfs");
}

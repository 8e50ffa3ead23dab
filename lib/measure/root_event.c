// SPDX-License-Identifier: MIT
/*
 * The root file system's event: what measured-init extends and what
 * `measured predict` predicts for it (include/measured/measure.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "measured/error.h"
#include "measured/measure.h"

int m_root_extend_digests(const struct m_hash_backend *be, bool compat, unsigned banks,
			  const struct m_digests *image, struct m_digests *ret)
{
	struct m_digests out = { 0 };

	if (compat) {
		char hex[2 * 20 + 1];
		void *h;
		int r;

		if (!(image->banks & M_BANK_BIT(M_SHA1)))
			return m_err(-EINVAL, "the compatibility mode needs the root's SHA-1 digest");
		if (!(banks & M_BANK_BIT(M_SHA1)))
			return m_err(-EINVAL, "the compatibility mode extends the sha1 bank, which is not selected");
		/* the original: `sha1sum` of the image, its 40 hex characters
		 * (no newline) hashed again by tpm_extendpcr */
		m_hex(image->d[M_SHA1], 20, hex);
		h = be->new(M_BANK_BIT(M_SHA1));
		if (!h)
			return m_err(-ENOMEM, "no SHA-1 context");
		r = be->update(h, hex, 40);
		if (r < 0) {
			be->release(h);
			return r;
		}
		r = be->final(h, &out);
		if (r < 0)
			return r;
		out.banks = M_BANK_BIT(M_SHA1);
	} else {
		if ((image->banks & banks) != banks) {
			char want[64];

			m_bank_list_format(banks & ~image->banks, want, sizeof(want));
			return m_err(-EINVAL, "the root's digest is missing in bank(s) %s", want);
		}
		out = *image;
		out.banks = banks;
	}
	*ret = out;
	return 0;
}

int m_root_event_description(bool compat, const char *what, char *buf, size_t cap)
{
	int n = compat ? snprintf(buf, cap, "measureroot %s (sha1 of the hex digest)", what)
		       : snprintf(buf, cap, "%s", what);

	if (n < 0 || (size_t)n >= cap)
		return m_err(-ENAMETOOLONG, "event description for %.40s... longer than %zu bytes", what, cap - 1);
	return 0;
}

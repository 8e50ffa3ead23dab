// SPDX-License-Identifier: MIT
/* What the boot chains share (include/measured/chain.h). */
#include <errno.h>
#include <string.h>
#include "measured/chain.h"
#include "measured/error.h"

#define EV_SEPARATOR 0x4
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003
#define EV_EFI_ACTION 0x80000007

int m_chain_add_data(struct m_manifest *m, unsigned pcr, uint32_t type, const void *data, size_t len,
		     const char *desc, const char *source)
{
	struct m_digests d;
	int r = m_digest_buf(m->banks, data, len, &d);

	return r < 0 ? r : m_manifest_add(m, pcr, type, &d, desc, source);
}

int m_chain_golden_events(struct m_manifest *m, const struct m_log *golden, unsigned pcr, uint32_t skip1,
			  uint32_t skip2)
{
	for (size_t i = 0; i < golden->count; i++) {
		const struct m_event *e = &golden->ev[i];
		struct m_digests d = { .banks = e->banks };
		int r;

		if (!e->extends || e->pcr != pcr || e->type == skip1 || e->type == skip2)
			continue;
		if ((e->banks & m->banks) != m->banks)
			return m_err(-EINVAL, "%s: record %u lacks banks the manifest predicts", golden->name, e->recnum);
		memcpy(d.d, e->digest, sizeof(d.d));
		r = m_manifest_add(m, pcr, e->type, &d, e->desc ? e->desc : "firmware", "firmware-log");
		if (r < 0)
			return r;
	}
	return 0;
}

int m_chain_uefi_prologue(struct m_manifest *m, const struct m_log *golden)
{
	static const char calling[] = "Calling EFI Application from Boot Option";
	static const uint8_t sep[4] = { 0 };
	int r;

	if (golden)
		return m_chain_golden_events(m, golden, 4, EV_EFI_BOOT_SERVICES_APPLICATION,
					     EV_EFI_BOOT_SERVICES_APPLICATION);
	r = m_chain_add_data(m, 4, EV_EFI_ACTION, calling, strlen(calling), calling, "firmware");
	return r ? r : m_chain_add_data(m, 4, EV_SEPARATOR, sep, 4, "separator", "firmware");
}

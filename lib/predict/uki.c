// SPDX-License-Identifier: MIT
/*
 * systemd-boot 252 starting a unified kernel image (docs/predict-formulas.md,
 * "systemd-boot and a UKI"), Secure Boot off (the UKI is not signed):
 *
 * PCR 4   firmware actions; Authenticode of systemd-boot, of the UKI (its
 *         LoadImage), of the .linux section (the stub's LoadImage of the kernel)
 * PCR 12  EV_IPL, H(UTF-16LE(cmdline) | 00 00), twice: systemd-boot passes the
 *         .cmdline section as load options and measures them (boot.c
 *         image_start, measure.c tpm_log_load_options), and the stub measures
 *         the load options it was given (stub.c)
 * PCR 11  per present section in the stub's order .linux .osrel .cmdline
 *         .initrd .splash .dtb .pcrpkey: EV_IPL H(name | 00), then EV_IPL
 *         H(section contents, VirtualSize bytes) (stub.c, measure.c
 *         tpm_log_event_ascii); .pcrsig is not measured
 * PCR 9   Linux's EFI stub: LOADED_IMAGE::LoadOptions H(UTF-16LE(cmdline) |
 *         00 00) and "Linux initrd" H(.initrd) (lib/predict/uefi.c)
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "measured/chain.h"
#include "measured/error.h"
#include "measured/pe.h"

#define EV_SEPARATOR 0x4
#define EV_IPL 0xd
#define EV_EVENT_TAG 0x6
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003
#define EV_EFI_ACTION 0x80000007
#define UKI_CMDLINE_MAX 4096

static const char *const stub_sections[] = { ".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey" };

static int add(struct m_manifest *m, unsigned pcr, uint32_t type, const void *data, size_t len, const char *desc)
{
	return m_chain_add_data(m, pcr, type, data, len, desc, "uki");
}

int m_uki_pcr11(struct m_manifest *m, const uint8_t *img, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(stub_sections) / sizeof(stub_sections[0]); i++) {
		size_t off, size;
		int r = m_pe_section(img, len, stub_sections[i], &off, &size);

		if (r == -ENOENT)
			continue;
		if (r == 0)
			r = add(m, 11, EV_IPL, stub_sections[i], strlen(stub_sections[i]) + 1, stub_sections[i]);
		if (r == 0)
			r = add(m, 11, EV_IPL, img + off, size, stub_sections[i]);
		if (r < 0)
			return r;
		n++;
	}
	return n ? 0 : m_err(-EINVAL, "no UKI section (.linux, .osrel, ...) in the image");
}

/* the load options as UTF-16LE with the NUL; only printable ASCII, as nothing here mangles it */
static int cmdline_utf16(const uint8_t *s, size_t n, uint8_t **ret, size_t *ret_len)
{
	uint8_t *u;

	if (n > UKI_CMDLINE_MAX)
		return m_err(-E2BIG, "UKI .cmdline over %d bytes", UKI_CMDLINE_MAX);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return m_err(-ENOTSUP, "UKI .cmdline byte %zu is 0x%02x: only printable ASCII is predicted", i, s[i]);
	if (n && s[n - 1] == ' ')
		return m_err(-ENOTSUP, "UKI .cmdline ends in a space, which the boot loader may strip");
	if (!(u = calloc(2 * n + 2, 1)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		u[2 * i] = s[i];
	*ret = u;
	*ret_len = 2 * n + 2;
	return 0;
}

/* The UKI's Authenticode digest (its whole size) is computed beside the rest. */
struct auth_job {
	const uint8_t *img;
	size_t len;
	unsigned banks;
	struct m_digests d;
	int r;
};

static void *auth_thread(void *arg)
{
	struct auth_job *j = arg;

	j->r = m_pe_authenticode(j->img, j->len, j->banks, &j->d);
	return NULL;
}

static int pcr4(struct m_manifest *m, const struct m_chain_uki_in *in, const uint8_t *uki, size_t len,
		const struct m_digests *uki_auth)
{
	struct m_digests d;
	uint8_t *boot;
	size_t blen, off, size;
	int r = m_chain_uefi_prologue(m, in->golden);

	if (r < 0 || (r = m_esp_read(in->esp, in->loader, &boot, &blen)) < 0)
		return r;
	r = m_pe_authenticode(boot, blen, m->banks, &d);
	free(boot);
	if (r == 0)
		r = m_manifest_add(m, 4, EV_EFI_BOOT_SERVICES_APPLICATION, &d, in->loader, "systemd-boot");
	if (r == 0)
		r = m_manifest_add(m, 4, EV_EFI_BOOT_SERVICES_APPLICATION, uki_auth, in->uki, "uki");
	if (r == 0)
		r = m_pe_section(uki, len, ".linux", &off, &size);
	if (r == 0)
		r = m_pe_authenticode(uki + off, size, m->banks, &d);
	if (r == 0)
		r = m_manifest_add(m, 4, EV_EFI_BOOT_SERVICES_APPLICATION, &d, ".linux", "uki");
	return r;
}

/*
 * Events are added in boot order, but the digests of a separate manifest
 * (PCR 11 and the rest) are computed while another thread hashes the UKI
 * for PCR 4; the initrd's PCR 9 digest is PCR 11's .initrd content digest.
 */
static int predict(struct m_manifest *m, const struct m_chain_uki_in *in, const uint8_t *uki, size_t len,
		   const struct m_digests *uki_auth, struct m_manifest *m11)
{
	uint8_t *u16 = NULL;
	size_t off, size, ulen = 0;
	int r = pcr4(m, in, uki, len, uki_auth);

	if (r == 0)
		r = m_pe_section(uki, len, ".cmdline", &off, &size);
	if (r == 0)
		r = cmdline_utf16(uki + off, size, &u16, &ulen);
	for (int i = 0; r == 0 && i < 2; i++)
		r = add(m, 12, EV_IPL, u16, ulen, "load options");
	for (size_t i = 0; r == 0 && i < m11->count; i++)
		r = m_manifest_add(m, 11, m11->ev[i].type, &m11->ev[i].d, m11->ev[i].description, "uki");
	if (r == 0)
		r = add(m, 9, EV_EVENT_TAG, u16, ulen, "LOADED_IMAGE::LoadOptions");
	for (size_t i = m11->count; r == 0 && i-- > 0;)
		if (!strcmp(m11->ev[i].description, ".initrd")) {
			r = m_manifest_add(m, 9, EV_EVENT_TAG, &m11->ev[i].d, "Linux initrd", "uki");
			break;
		}
	free(u16);
	return r;
}

int m_predict_uki(struct m_manifest *m, const struct m_chain_uki_in *in)
{
	struct auth_job job = { .banks = m->banks };
	struct m_manifest *m11 = m_manifest_new(m->banks);
	pthread_t t;
	bool threaded;
	int r;

	if (!m11)
		return -ENOMEM;
	r = m_esp_read(in->esp, in->uki, (uint8_t **)&job.img, &job.len);
	if (r < 0) {
		m_manifest_free(m11);
		return r;
	}
	threaded = pthread_create(&t, NULL, auth_thread, &job) == 0;
	r = m_uki_pcr11(m11, job.img, job.len);
	if (threaded)
		pthread_join(t, NULL);
	else
		auth_thread(&job);
	if (r == 0 && job.r < 0)	/* again here, for the message */
		r = m_pe_authenticode(job.img, job.len, m->banks, &job.d);
	if (r == 0)
		r = predict(m, in, job.img, job.len, &job.d, m11);
	m_manifest_free(m11);
	free((uint8_t *)job.img);
	return r;
}

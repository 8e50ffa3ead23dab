// SPDX-License-Identifier: MIT
/*
 * The events a UEFI firmware and Linux's EFI stub log when booting a kernel
 * (docs/predict-formulas.md, "UEFI boot of a Linux kernel").
 *
 * PCR 4 (TCG PC Client Platform Firmware Profile, 3.3.4.5 and 10.4.4):
 *   EV_EFI_BOOT_SERVICES_APPLICATION  Authenticode digest of the kernel's
 *                                     PE image (the firmware's LoadImage)
 *   EV_EFI_ACTION   "Calling EFI Application from Boot Option" (digest of
 *                   the ASCII text without NUL)
 *   EV_SEPARATOR    digest of the 4 bytes 00 00 00 00
 * This order (application first) is what OVMF (edk2-stable202211, Debian
 * 12) logs for the kernel of QEMU's direct kernel boot; checked against the
 * guest's own log in tests/boot.
 *
 * PCR 9, Linux's EFI stub (drivers/firmware/efi/libstub, since 6.1), two
 * EV_EVENT_TAG events:
 *   tag 0x8F3B22ED "LOADED_IMAGE::LoadOptions": digest of the load options
 *     as the firmware hands them over, UTF-16LE with the terminating NUL;
 *   tag 0x8F3B22EC "Linux initrd": digest of the initrd's bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "measured/error.h"
#include "measured/file.h"
#include "measured/buf.h"
#include "measured/pe.h"
#include "measured/predict.h"

#define EV_SEPARATOR 0x4
#define EV_EVENT_TAG 0x6
#define EV_EFI_ACTION 0x80000007
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003

#define CMDLINE_MAX 65536	/* UEFI LoadOptions are UINT32-sized; Linux caps COMMAND_LINE_SIZE lower */

static int add_text_event(struct m_manifest *m, unsigned pcr, uint32_t type, const void *data, size_t len,
			  const char *desc, const char *source)
{
	struct m_digests d;
	int r = m_digest_buf(m->banks, data, len, &d);

	if (r < 0)
		return r;
	return m_manifest_add(m, pcr, type, &d, desc, source);
}

/* ASCII/UTF-8 command line -> UTF-16LE + NUL, as the firmware passes LoadOptions. */
static int utf16le(const char *s, uint8_t **ret, size_t *ret_len)
{
	size_t n = strlen(s), o = 0;
	uint8_t *out;

	if (n > CMDLINE_MAX)
		return m_err(-E2BIG, "command line over %d bytes", CMDLINE_MAX);
	out = malloc(2 * n + 2);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* the stub and OVMF deal in UCS-2; only ASCII maps 1:1 */
		if (c >= 0x80) {
			free(out);
			return m_err(-EINVAL, "command line byte %zu is not ASCII (0x%02x)", i, c);
		}
		out[o++] = c;
		out[o++] = 0;
	}
	out[o++] = 0;
	out[o++] = 0;
	*ret = out;
	*ret_len = o;
	return 0;
}

/*
 * QEMU x86_load_linux (hw/i386/x86.c, QEMU 7.2) for a boot protocol >= 2.02
 * kernel: real-mode code at 0x10000, command line at 0x20000; it sets
 * type_of_loader (0x210) to 0xb0, CAN_USE_HEAP in loadflags (0x211),
 * heap_end_ptr (0x224) = 0x20000 - 0x10000 - 0x200, cmd_line_ptr (0x228) =
 * 0x20000, and with an initrd ramdisk_image (0x218) = (initrd_max -
 * size) & ~4095 and ramdisk_size (0x21c), where initrd_max is the lower of
 * initrd_addr_max (0x22c) and the RAM below 4 GiB less the ACPI tables'
 * 0x28000 bytes, less one.  Checked against OVMF's measurement in tests/boot.
 */
#define QEMU_ACPI_DATA_SIZE 0x28000u
#define QEMU_REAL_ADDR 0x10000u
#define QEMU_CMDLINE_ADDR 0x20000u

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

int m_qemu_direct_patch(uint8_t *img, size_t len, const struct m_qemu_direct *q, bool have_initrd,
			uint64_t initrd_size)
{
	struct mbuf_reader r;
	uint32_t magic, initrd_max;
	uint16_t protocol;

	if (q->ram < (64u << 20) || q->ram >= (2ull << 30))
		return m_err(-ERANGE, "QEMU RAM must be between 64 MiB and 2 GiB (it decides where the initrd goes)");
	mbr_init(&r, img, len);
	mbr_skip(&r, 0x202);
	magic = mbr_le32(&r);
	protocol = mbr_le16(&r);
	mbr_init(&r, img, len);
	mbr_skip(&r, 0x22c);
	initrd_max = mbr_le32(&r);
	if (!mbr_ok(&r) || magic != 0x53726448)
		return m_err(-EINVAL, "not a Linux bzImage (no \"HdrS\" at offset 0x202)");
	if (protocol < 0x203)
		return m_err(-ENOTSUP, "boot protocol %u.%02u: QEMU lays out such old kernels differently",
			     protocol >> 8, protocol & 0xff);
	img[0x210] = 0xb0;
	img[0x211] |= 0x80;
	put_le16(img + 0x224, QEMU_CMDLINE_ADDR - QEMU_REAL_ADDR - 0x200);
	put_le32(img + 0x228, QEMU_CMDLINE_ADDR);
	if (have_initrd) {
		uint64_t top = q->ram - QEMU_ACPI_DATA_SIZE - 1;

		if (initrd_max > top)
			initrd_max = (uint32_t)top;
		if (initrd_size > initrd_max)
			return m_err(-E2BIG, "initrd of %llu bytes does not fit below 0x%x",
				     (unsigned long long)initrd_size, initrd_max);
		put_le32(img + 0x218, (uint32_t)((initrd_max - initrd_size) & ~4095ull));
		put_le32(img + 0x21c, (uint32_t)initrd_size);
	}
	return 0;
}

static int kernel_digest(const char *kernel, const char *initrd, const struct m_qemu_direct *q,
			 unsigned banks, struct m_digests *ret)
{
	uint8_t *img;
	size_t len;
	uint64_t initrd_size = 0;
	int r;

	if (!q)
		return m_pe_authenticode_path(kernel, banks, ret);
	if (initrd) {
		struct stat s;

		if (stat(initrd, &s) < 0)
			return m_err(-errno, "%s: %s", initrd, strerror(errno));
		initrd_size = (uint64_t)s.st_size;
	}
	r = m_read_file(kernel, M_PE_MAX_FILE, &img, &len);
	if (r < 0)
		return r;
	r = m_qemu_direct_patch(img, len, q, initrd != NULL, initrd_size);
	if (r < 0)
		r = m_err_prefix(r, "%s", kernel);
	else
		r = m_pe_authenticode(img, len, banks, ret);
	free(img);
	return r;
}

int m_predict_uefi_linux(struct m_manifest *m, const char *kernel, const char *cmdline, const char *initrd,
			 const struct m_qemu_direct *qemu)
{
	static const char calling[] = "Calling EFI Application from Boot Option";
	static const uint8_t sep[4] = { 0 };
	int r;

	if (kernel) {
		struct m_digests d;

		r = kernel_digest(kernel, initrd, qemu, m->banks, &d);
		if (r < 0)
			return r;
		r = m_manifest_add(m, 4, EV_EFI_BOOT_SERVICES_APPLICATION, &d, kernel, "kernel");
		if (r == 0)
			r = add_text_event(m, 4, EV_EFI_ACTION, calling, strlen(calling), calling, "kernel");
		if (r == 0)
			r = add_text_event(m, 4, EV_SEPARATOR, sep, sizeof(sep), "separator", "kernel");
		if (r < 0)
			return r;
	}
	if (cmdline) {
		char *opts = NULL;
		uint8_t *u = NULL;
		size_t len = 0;

		/* OVMF names the initrd it serves from QEMU "initrd" and says so */
		if (asprintf(&opts, "%s%s", cmdline, qemu && initrd ? " initrd=initrd" : "") < 0)
			return -ENOMEM;
		r = utf16le(opts, &u, &len);
		free(opts);
		if (r < 0)
			return m_err_prefix(r, "--cmdline");
		r = add_text_event(m, 9, EV_EVENT_TAG, u, len, "LOADED_IMAGE::LoadOptions", "cmdline");
		free(u);
		if (r < 0)
			return r;
	}
	if (initrd) {
		struct m_digests d;

		r = m_digest_path(initrd, m->banks, NULL, NULL, &d, NULL);
		if (r < 0)
			return r;
		r = m_manifest_add(m, 9, EV_EVENT_TAG, &d, "Linux initrd", "initrd");
		if (r < 0)
			return r;
	}
	return 0;
}

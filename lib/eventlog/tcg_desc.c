// SPDX-License-Identifier: MIT
/*
 * Short human descriptions of TCG PC Client event data (PFP section 10.4,
 * "Event Types" and the UEFI event structures in 10.4.4 - 10.4.5).  They
 * are for display only: nothing is trusted from them (the event type is
 * not covered by the digest), and a structure that doesn't parse simply
 * gets no description.  Every string is reduced to printable ASCII so it
 * can go to a terminal or into JSON after escaping quotes and backslashes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"
#include "tcg_desc.h"

struct sbuf {
	char s[TCG_DESC_MAX + 4];
	size_t n;
};

static void sb_putc(struct sbuf *b, int c)
{
	if (b->n < TCG_DESC_MAX) {
		b->s[b->n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	} else if (b->n == TCG_DESC_MAX) {
		memcpy(b->s + b->n, "...", 3);
		b->n += 3;
	}
	b->s[b->n < sizeof(b->s) ? b->n : sizeof(b->s) - 1] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, (unsigned char)*s++);
}

static char *sb_dup(const struct sbuf *b)
{
	return b->n ? strdup(b->s) : NULL;
}

static bool printable(uint8_t c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r';
}

/* Length without trailing NULs (firmware often logs C strings with theirs). */
static uint32_t strip_nuls(const uint8_t *d, uint32_t len)
{
	while (len && d[len - 1] == 0)
		len--;
	return len;
}

/* ASCII text: every byte printable up to the trailing NULs. */
static bool is_ascii_text(const uint8_t *d, uint32_t len)
{
	len = strip_nuls(d, len);
	if (!len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (!printable(d[i]))
			return false;
	return true;
}

/* UCS-2 (UEFI CHAR16, little endian) holding only ASCII characters. */
static bool is_ucs2_text(const uint8_t *d, uint32_t len)
{
	uint32_t n = 0;

	if (len < 2 || len % 2)
		return false;
	for (uint32_t i = 0; i + 1 < len; i += 2) {
		if (d[i] == 0 && d[i + 1] == 0)
			break;
		if (d[i + 1] != 0 || !printable(d[i]))
			return false;
		n++;
	}
	return n > 0;
}

static void put_text(struct sbuf *b, const uint8_t *d, uint32_t len)
{
	len = strip_nuls(d, len);
	for (uint32_t i = 0; i < len; i++)
		sb_putc(b, (d[i] == '\n' || d[i] == '\r' || d[i] == '\t') ? ' ' : d[i]);
}

/* @nchars CHAR16 of UCS-2, stopping at a NUL; non-ASCII shows as '?'. */
static void put_ucs2(struct sbuf *b, const uint8_t *d, size_t nchars)
{
	for (size_t i = 0; i < nchars; i++) {
		uint16_t c = (uint16_t)(d[2 * i] | d[2 * i + 1] << 8);

		if (!c)
			break;
		sb_putc(b, c < 0x80 ? c : '?');
	}
}

/* UEFI_VARIABLE_DATA (PFP 10.4.4): GUID, le64 name length (CHAR16s), le64 data length, name. */
static void describe_variable(struct sbuf *b, const uint8_t *data, uint32_t len)
{
	struct mbuf_reader r;
	uint64_t nlen;
	const uint8_t *name;

	mbr_init(&r, data, len);
	mbr_skip(&r, 16);
	nlen = mbr_le64(&r);
	mbr_le64(&r);
	if (!mbr_ok(&r) || nlen > mbr_remaining(&r) / 2)
		return;
	name = mbr_ptr(&r, (size_t)nlen * 2);
	if (name)
		put_ucs2(b, name, (size_t)nlen);
}

/*
 * UEFI_IMAGE_LOAD_EVENT (PFP 10.4.4): four le64 (location, length, link
 * address, device path length), then an EFI device path.  The last
 * media file path node (type 4, subtype 4: UCS-2 path) names the image.
 */
static void describe_image(struct sbuf *b, const uint8_t *data, uint32_t len)
{
	struct mbuf_reader r, dp;
	uint64_t location, length, dplen;
	const uint8_t *file = NULL;
	size_t file_len = 0;

	mbr_init(&r, data, len);
	location = mbr_le64(&r);
	length = mbr_le64(&r);
	mbr_le64(&r);
	dplen = mbr_le64(&r);
	if (!mbr_ok(&r))
		return;
	if (dplen <= mbr_remaining(&r) && mbr_sub(&r, (size_t)dplen, &dp)) {
		while (mbr_remaining(&dp) >= 4) {
			uint8_t type = mbr_u8(&dp), sub = mbr_u8(&dp);
			uint16_t nlen = mbr_le16(&dp);
			const uint8_t *p;

			if (type == 0x7f || nlen < 4)
				break;
			p = mbr_ptr(&dp, nlen - 4u);
			if (!p)
				break;
			if (type == 4 && sub == 4) {
				file = p;
				file_len = (nlen - 4u) / 2;
			}
		}
	}
	if (file) {
		put_ucs2(b, file, file_len);
	} else {
		char tmp[64];

		snprintf(tmp, sizeof(tmp), "image at 0x%llx, %llu bytes",
			 (unsigned long long)location, (unsigned long long)length);
		sb_puts(b, tmp);
	}
}

/* UEFI_PLATFORM_FIRMWARE_BLOB: le64 base, le64 length. */
static void describe_blob(struct sbuf *b, const uint8_t *data, uint32_t len)
{
	struct mbuf_reader r;
	uint64_t base, length;
	char tmp[64];

	mbr_init(&r, data, len);
	base = mbr_le64(&r);
	length = mbr_le64(&r);
	if (!mbr_ok(&r) || mbr_remaining(&r))
		return;
	snprintf(tmp, sizeof(tmp), "blob at 0x%llx, %llu bytes", (unsigned long long)base,
		 (unsigned long long)length);
	sb_puts(b, tmp);
}

/* UEFI_PLATFORM_FIRMWARE_BLOB2: u8 description size, description, base, length. */
static void describe_blob2(struct sbuf *b, const uint8_t *data, uint32_t len)
{
	struct mbuf_reader r;
	uint8_t n;
	const uint8_t *d;

	mbr_init(&r, data, len);
	n = mbr_u8(&r);
	d = mbr_ptr(&r, n);
	if (d && is_ascii_text(d, n))
		put_text(b, d, n);
}

static void describe_no_action(struct sbuf *b, const uint8_t *data, uint32_t len)
{
	char tmp[32];

	/* StartupLocality (PFP 10.4.5.3): "StartupLocality\0" + u8 */
	if (len == 17 && memcmp(data, "StartupLocality", 16) == 0) {
		snprintf(tmp, sizeof(tmp), "StartupLocality %u", data[16]);
		sb_puts(b, tmp);
		return;
	}
	/* other EV_NO_ACTION events start with a NUL-terminated 16-byte signature */
	if (len >= 16 && memchr(data, 0, 16) && is_ascii_text(data, (uint32_t)strnlen((const char *)data, 16)))
		put_text(b, data, (uint32_t)strnlen((const char *)data, 16));
}

static void describe_text(struct sbuf *b, const uint8_t *data, uint32_t len)
{
	if (is_ascii_text(data, len))
		put_text(b, data, len);
	else if (is_ucs2_text(data, len))
		put_ucs2(b, data, len / 2);
}

char *m_tcg_describe(uint32_t type, const uint8_t *data, uint32_t len)
{
	struct sbuf b = { .n = 0 };
	char tmp[32];

	b.s[0] = '\0';
	if (!data || !len)
		return NULL;
	switch (type) {
	case 0x00000001: /* EV_POST_CODE: text ("POST CODE", "ACPI DATA") or a blob */
	case 0x00000013: /* EV_POST_CODE2 */
		if (len == 16 && !is_ascii_text(data, len))
			describe_blob(&b, data, len);
		else
			describe_text(&b, data, len);
		break;
	case TCG_EV_NO_ACTION:
		describe_no_action(&b, data, len);
		break;
	case 0x00000004: /* EV_SEPARATOR: 0 normally, 1 or 0xFFFFFFFF on error */
		if (len == 4) {
			snprintf(tmp, sizeof(tmp), "0x%08x",
				 (unsigned)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24));
			sb_puts(&b, tmp);
		} else {
			describe_text(&b, data, len);
		}
		break;
	case 0x00000005: /* EV_ACTION */
	case 0x00000006: /* EV_EVENT_TAG */
	case 0x00000008: /* EV_S_CRTM_VERSION: often UCS-2 */
	case 0x0000000c: /* EV_COMPACT_HASH */
	case 0x0000000d: /* EV_IPL: grub commands, kernel command lines */
	case 0x00000012: /* EV_OMIT_BOOT_DEVICE_EVENTS */
	case 0x80000007: /* EV_EFI_ACTION */
	case 0x80000010: /* EV_EFI_HCRTM_EVENT */
		describe_text(&b, data, len);
		break;
	case 0x80000001: /* EV_EFI_VARIABLE_DRIVER_CONFIG */
	case 0x80000002: /* EV_EFI_VARIABLE_BOOT */
	case 0x8000000c: /* EV_EFI_VARIABLE_BOOT2 */
	case 0x800000e0: /* EV_EFI_VARIABLE_AUTHORITY */
		describe_variable(&b, data, len);
		break;
	case 0x80000003: /* EV_EFI_BOOT_SERVICES_APPLICATION */
	case 0x80000004: /* EV_EFI_BOOT_SERVICES_DRIVER */
	case 0x80000005: /* EV_EFI_RUNTIME_SERVICES_DRIVER */
		describe_image(&b, data, len);
		break;
	case 0x80000008: /* EV_EFI_PLATFORM_FIRMWARE_BLOB */
		describe_blob(&b, data, len);
		break;
	case 0x8000000a: /* EV_EFI_PLATFORM_FIRMWARE_BLOB2 */
		describe_blob2(&b, data, len);
		break;
	default:
		break;
	}
	return sb_dup(&b);
}

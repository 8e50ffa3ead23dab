// SPDX-License-Identifier: MIT
/*
 * Just enough superblock reading to find a root by LABEL= or UUID= and to
 * pick the file system type, since an initramfs without udev or blkid has
 * no /dev/disk/by-label.  Offsets: ext2/3/4 superblock at byte 1024
 * (s_magic 0xef53 at +56, s_uuid at +104, s_volume_name at +120,
 * s_feature_compat at +92, s_feature_incompat at +96); squashfs magic
 * "hsqs" at 0; ISO 9660 (ECMA-119 8.4) "CD001" at 32769, volume identifier
 * at 32808 (32 d-characters, space padded).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "measured/error.h"
#include "initcore.h"

#define EXT_SB 1024u
#define EXT4_FEATURE_INCOMPAT_EXTENTS 0x0040u
#define EXT4_FEATURE_INCOMPAT_64BIT 0x0080u
#define EXT3_FEATURE_COMPAT_HAS_JOURNAL 0x0004u

static void copy_label(char *dst, size_t cap, const uint8_t *src, size_t n, bool trim_spaces)
{
	size_t k = 0;

	for (size_t i = 0; i < n && src[i] && k + 1 < cap; i++)
		dst[k++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	while (trim_spaces && k > 0 && dst[k - 1] == ' ')
		k--;
	dst[k] = '\0';
}

int mi_probe(const void *data, size_t len, struct mi_fsinfo *ret)
{
	struct mi_fsinfo fs = { 0 };
	struct mbuf_reader r;

	mbr_init(&r, data, len);
	if (len >= 4 && memcmp(data, "hsqs", 4) == 0) {
		strcpy(fs.type, "squashfs");
		goto found;
	}
	if (mbr_skip(&r, EXT_SB + 56) && mbr_le16(&r) == 0xef53) {
		struct mbuf_reader s;
		uint32_t compat, incompat;
		const uint8_t *uuid, *label;

		mbr_init(&s, data, len);
		mbr_skip(&s, EXT_SB + 92);
		compat = mbr_le32(&s);
		incompat = mbr_le32(&s);
		mbr_skip(&s, 4);			/* s_feature_ro_compat, at +100 */
		uuid = mbr_ptr(&s, 16);			/* +104 */
		label = mbr_ptr(&s, 16);		/* +120 */
		if (!mbr_ok(&s))
			return m_err(-EINVAL, "ext superblock cut short at %zu bytes", len);
		if (incompat & (EXT4_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_64BIT))
			strcpy(fs.type, "ext4");
		else if (compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL)
			strcpy(fs.type, "ext3");
		else
			strcpy(fs.type, "ext2");
		snprintf(fs.uuid, sizeof(fs.uuid),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
			 uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
		copy_label(fs.label, sizeof(fs.label), label, 16, false);
		goto found;
	}
	mbr_init(&r, data, len);
	if (mbr_skip(&r, 32769)) {
		const uint8_t *magic = mbr_ptr(&r, 5);

		if (magic && memcmp(magic, "CD001", 5) == 0 && mbr_skip(&r, 34)) {
			const uint8_t *vol = mbr_ptr(&r, 32);	/* at 32808 */

			strcpy(fs.type, "iso9660");
			if (vol)
				copy_label(fs.label, sizeof(fs.label), vol, 32, true);
			goto found;
		}
	}
	return m_err(-ENOENT, "no ext2/3/4, squashfs or ISO 9660 signature in the first %zu bytes", len);
found:
	*ret = fs;
	return 0;
}

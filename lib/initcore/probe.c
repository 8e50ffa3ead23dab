// SPDX-License-Identifier: MIT
/*
 * Just enough superblock reading to find a root by LABEL= or UUID= and to
 * pick the file system type, since an initramfs without udev or blkid has
 * no /dev/disk/by-label.  Offsets: ext2/3/4 superblock at byte 1024
 * (s_magic 0xef53 at +56, s_uuid at +104, s_volume_name at +120,
 * s_feature_compat at +92, s_feature_incompat at +96); squashfs magic
 * "hsqs" at 0; ISO 9660 (ECMA-119 8.4) "CD001" at 32769, volume identifier
 * at 32808 (32 d-characters, space padded); FAT12/16/32 (Microsoft's FAT
 * specification, fatgen103: the boot sector's BPB, BS_FilSysType "FAT" at
 * 54 or, for FAT32, 82; BS_VolID at 39 / 67; BS_VolLab at 43 / 71; the
 * signature 0x55 0xaa at 510), the medium of the original's USB images.
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

static bool pow2_in(unsigned v, unsigned lo, unsigned hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/*
 * A FAT boot sector, told apart from an MBR (which has the same 0x55aa
 * signature) by a sane BPB and the file system type string.  The volume
 * serial is printed as blkid prints it, "ABCD-1234" (upper case).
 */
static bool probe_fat(const uint8_t *b, size_t len, struct mi_fsinfo *fs)
{
	struct mbuf_reader r;
	unsigned bps, spc, reserved, nfats, media, id_off;
	const uint8_t *p;
	uint32_t serial;

	if (len < 512 || b[510] != 0x55 || b[511] != 0xaa)
		return false;
	mbr_init(&r, b, len);
	mbr_skip(&r, 11);
	bps = mbr_le16(&r);		/* BPB_BytsPerSec */
	spc = mbr_u8(&r);		/* BPB_SecPerClus */
	reserved = mbr_le16(&r);	/* BPB_RsvdSecCnt */
	nfats = mbr_u8(&r);		/* BPB_NumFATs */
	mbr_skip(&r, 4);
	media = mbr_u8(&r);		/* BPB_Media at 21 */
	if (!mbr_ok(&r) || !pow2_in(bps, 512, 4096) || !pow2_in(spc, 1, 128) || reserved == 0 ||
	    nfats < 1 || nfats > 2 || (media != 0xf0 && media < 0xf8))
		return false;
	if (memcmp(b + 82, "FAT32   ", 8) == 0) {
		id_off = 67;	/* BS_VolLab follows at 71 */
	} else if (memcmp(b + 54, "FAT", 3) == 0) {
		id_off = 39;	/* BS_VolLab follows at 43 */
	} else {
		return false;
	}
	strcpy(fs->type, "vfat");
	mbr_init(&r, b, len);
	mbr_skip(&r, id_off);
	serial = mbr_le32(&r);
	p = mbr_ptr(&r, 11);
	if (!mbr_ok(&r))
		return false;
	snprintf(fs->uuid, sizeof(fs->uuid), "%04X-%04X", (unsigned)(serial >> 16), (unsigned)(serial & 0xffff));
	copy_label(fs->label, sizeof(fs->label), p, 11, true);
	if (strcmp(fs->label, "NO NAME") == 0)
		fs->label[0] = '\0';
	return true;
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
	if (probe_fat(data, len, &fs))
		goto found;
	return m_err(-ENOENT, "no ext2/3/4, squashfs, ISO 9660 or FAT signature in the first %zu bytes", len);
found:
	*ret = fs;
	return 0;
}

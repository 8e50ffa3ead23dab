// SPDX-License-Identifier: MIT
/*
 * Superblock probing for measured.root=LABEL=/UUID= and the root's type
 * (lib/initcore/probe.c), against superblocks laid out here by hand from
 * the formats: ext2/3/4 at byte 1024 (magic 0xef53 at +56,
 * s_feature_compat +92, s_feature_incompat +96, s_uuid +104,
 * s_volume_name +120, little-endian); squashfs "hsqs" at 0; ISO 9660
 * (ECMA-119 8.4) "CD001" at 32769, volume identifier at 32808.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "initcore.h"

static uint8_t img[MI_PROBE_LEN];

static void ext_sb(uint32_t compat, uint32_t incompat, const char *label)
{
	static const uint8_t uuid[16] = { 0x6a, 0x0c, 0x1d, 0x4e, 0x1c, 0x5b, 0x4b, 0x7e,
					  0x9d, 0x9a, 0x3f, 0x2e, 0x1d, 0x0c, 0x0b, 0x0a };

	memset(img, 0, sizeof(img));
	img[1024 + 56] = 0x53, img[1024 + 57] = 0xef;
	for (int i = 0; i < 4; i++) {
		img[1024 + 92 + i] = (uint8_t)(compat >> (8 * i));
		img[1024 + 96 + i] = (uint8_t)(incompat >> (8 * i));
	}
	memcpy(img + 1024 + 104, uuid, 16);
	memcpy(img + 1024 + 120, label, strlen(label));	/* NUL-padded by the memset */
}

static void test_ext4_uuid_label(void **state)
{
	(void)state;
	struct mi_fsinfo fs;

	ext_sb(0x0004 | 0x0038, 0x0040 | 0x0002, "measuredroot");
	assert_int_equal(mi_probe(img, sizeof(img), &fs), 0);
	assert_string_equal(fs.type, "ext4");
	/* the form blkid prints and measured.root=UUID= takes */
	assert_string_equal(fs.uuid, "6a0c1d4e-1c5b-4b7e-9d9a-3f2e1d0c0b0a");
	assert_string_equal(fs.label, "measuredroot");
	/* only the superblock is needed: 1024 + 136 bytes */
	assert_int_equal(mi_probe(img, 1024 + 136, &fs), 0);
	assert_string_equal(fs.uuid, "6a0c1d4e-1c5b-4b7e-9d9a-3f2e1d0c0b0a");
}

static void test_ext_versions(void **state)
{
	(void)state;
	struct mi_fsinfo fs;

	ext_sb(0x0004, 0x0002, "j");	/* has_journal, no extents: ext3 */
	assert_int_equal(mi_probe(img, sizeof(img), &fs), 0);
	assert_string_equal(fs.type, "ext3");
	ext_sb(0, 0, "");
	assert_int_equal(mi_probe(img, sizeof(img), &fs), 0);
	assert_string_equal(fs.type, "ext2");
	assert_string_equal(fs.label, "");
	ext_sb(0, 0x0080, "sixteen-chars-ab");	/* 64bit: ext4; a label filling all 16 bytes */
	assert_int_equal(mi_probe(img, sizeof(img), &fs), 0);
	assert_string_equal(fs.type, "ext4");
	assert_string_equal(fs.label, "sixteen-chars-ab");
}

static void test_truncated(void **state)
{
	(void)state;
	struct mi_fsinfo fs;

	ext_sb(0, 0x0040, "x");
	/* magic present, UUID/label cut off: an error, not a read past the end */
	assert_int_equal(mi_probe(img, 1024 + 110, &fs), -EINVAL);
	assert_int_equal(mi_probe(img, 1024 + 57, &fs), -ENOENT);
	assert_int_equal(mi_probe(img, 0, &fs), -ENOENT);
	memset(img, 0, sizeof(img));
	assert_int_equal(mi_probe(img, sizeof(img), &fs), -ENOENT);
}

static void test_squashfs_iso(void **state)
{
	(void)state;
	struct mi_fsinfo fs;

	memset(img, 0, sizeof(img));
	memcpy(img, "hsqs", 4);
	assert_int_equal(mi_probe(img, 4, &fs), 0);
	assert_string_equal(fs.type, "squashfs");
	assert_string_equal(fs.uuid, "");

	memset(img, 0, sizeof(img));
	img[32768] = 1;				/* primary volume descriptor */
	memcpy(img + 32769, "CD001", 5);
	memset(img + 32808, ' ', 32);
	memcpy(img + 32808, "MEASURED_LIVE", 13);	/* d-characters, space padded */
	assert_int_equal(mi_probe(img, sizeof(img), &fs), 0);
	assert_string_equal(fs.type, "iso9660");
	assert_string_equal(fs.label, "MEASURED_LIVE");
}

/* A FAT boot sector laid out from fatgen103: BPB_BytsPerSec 512 at 11,
 * BPB_SecPerClus at 13, BPB_RsvdSecCnt at 14, BPB_NumFATs at 16,
 * BPB_Media at 21, then the FAT12/16 (BS_VolID 39, BS_VolLab 43,
 * BS_FilSysType 54) or FAT32 (67, 71, 82) extended fields; 0x55 0xaa at 510. */
static void fat_bs(bool fat32, uint32_t serial, const char *label11, const char *type8)
{
	unsigned id = fat32 ? 67 : 39;

	memset(img, 0, sizeof(img));
	img[0] = 0xeb, img[1] = 0x3c, img[2] = 0x90;
	img[11] = 0x00, img[12] = 0x02;		/* 512 */
	img[13] = 4;
	img[14] = fat32 ? 32 : 1;
	img[16] = 2;
	img[21] = 0xf8;
	for (int i = 0; i < 4; i++)
		img[id + i] = (uint8_t)(serial >> (8 * i));
	memcpy(img + id + 4, label11, 11);
	memcpy(img + id + 15, type8, 8);
	img[510] = 0x55, img[511] = 0xaa;
}

static void test_fat(void **state)
{
	(void)state;
	struct mi_fsinfo fs;

	fat_bs(true, 0x1234abcd, "MEASURED   ", "FAT32   ");
	assert_int_equal(mi_probe(img, sizeof(img), &fs), 0);
	assert_string_equal(fs.type, "vfat");
	assert_string_equal(fs.uuid, "1234-ABCD");	/* as blkid prints a FAT serial */
	assert_string_equal(fs.label, "MEASURED");
	fat_bs(false, 0x00c0ffee, "NO NAME    ", "FAT16   ");
	assert_int_equal(mi_probe(img, sizeof(img), &fs), 0);
	assert_string_equal(fs.type, "vfat");
	assert_string_equal(fs.uuid, "00C0-FFEE");
	assert_string_equal(fs.label, "");		/* "NO NAME" is FAT's empty label */
	/* an MBR has the same signature but no BPB: not FAT */
	fat_bs(false, 1, "X          ", "FAT16   ");
	img[11] = 0, img[12] = 0;			/* 0 bytes per sector */
	assert_int_equal(mi_probe(img, sizeof(img), &fs), -ENOENT);
	fat_bs(false, 1, "X          ", "NTFS    ");
	assert_int_equal(mi_probe(img, sizeof(img), &fs), -ENOENT);
	fat_bs(true, 1, "X          ", "FAT32   ");
	img[511] = 0;					/* no signature */
	assert_int_equal(mi_probe(img, sizeof(img), &fs), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext4_uuid_label),
		cmocka_unit_test(test_ext_versions),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_squashfs_iso),
		cmocka_unit_test(test_fat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * Superblock probing for measured.root=LABEL=/UUID= and the root's type
 * (lib/initcore/probe.c), against superblocks laid out here by hand from
 * the formats: ext2/3/4 at byte 1024 (magic 0xef53 at +56,
 * s_feature_compat +92, s_feature_incompat +96, s_uuid +104,
 * s_volume_name +120, little-endian); squashfs "hsqs" at 0; ISO 9660
 * (ECMA-119 8.4) "CD001" at 32769, volume identifier at 32808.
 */
#include <stdarg.h>
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
	assert_true(mi_probe(img, 1024 + 110, &fs) < 0);
	assert_true(mi_probe(img, 1024 + 57, &fs) < 0);
	assert_true(mi_probe(img, 0, &fs) < 0);
	memset(img, 0, sizeof(img));
	assert_true(mi_probe(img, sizeof(img), &fs) < 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext4_uuid_label),
		cmocka_unit_test(test_ext_versions),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_squashfs_iso),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

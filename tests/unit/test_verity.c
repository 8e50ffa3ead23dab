// SPDX-License-Identifier: MIT
/*
 * dm-verity: the library's own hash tree against cryptsetup's
 * `veritysetup format` (the independent source: its root hash and the
 * tree it writes), over algorithms, block sizes, salts and sizes around
 * the level boundaries; the superblock parser's refusals; the table line
 * in the kernel's verity_status() spelling.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "measured/measure.h"
#include "measured/file.h"
#include "measured/predict.h"
#include "test_data.h"

/* Root hash printed by veritysetup for the image DIR/img. */
static void veritysetup(const char *img, uint64_t off, uint64_t blocks, const char *opts, char *root, size_t cap)
{
	char cmd[1024], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "veritysetup format %s %s --hash-offset=%llu --data-blocks=%llu %s 2>&1", img, img,
		 (unsigned long long)off, (unsigned long long)blocks, opts);
	p = popen(cmd, "r");
	assert_non_null(p);
	root[0] = '\0';
	while (fgets(line, sizeof(line), p))
		(void)sscanf(line, "Root hash: %200s", root);
	assert_int_equal(pclose(p), 0);
	assert_true(strlen(root) > 0 && strlen(root) < cap);
}

struct tcase {
	const char *opts;
	uint32_t block;		/* data block size */
	uint64_t blocks;
};

static void test_against_veritysetup(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{ "", 4096, 1 },
		{ "", 4096, 128 },
		{ "", 4096, 129 },
		{ "", 4096, 300 },
		{ "--salt=-", 4096, 16385 },
		{ "--hash=sha1 --salt=00ff", 4096, 257 },
		{ "--hash=sha512", 4096, 1000 },
		{ "--hash=sha384", 4096, 65 },
		{ "--data-block-size=512 --hash-block-size=512", 512, 2000 },
		{ "--data-block-size=1024 --hash-block-size=4096 --hash=sha1", 1024, 4100 },
	};
	char dir[] = "/tmp/measured-verity.XXXXXX", img[128];

	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/img", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		uint64_t data = c->blocks * c->block, off = data + 8192;
		char want[256], got[2 * M_DIGEST_MAX + 1];
		struct m_verity_image im = { .data = img, .hash_offset = off, .data_major = 254 };
		struct m_verity v;
		FILE *f = fopen(img, "w");
		uint32_t x = 0x12345678u + (uint32_t)i;

		assert_non_null(f);
		for (uint64_t k = 0; k < data; k++) {	/* a deterministic, non-repeating pattern */
			x = x * 1103515245u + 12345u;
			fputc((int)(x >> 16), f);
		}
		fclose(f);
		veritysetup(img, off, c->blocks, c->opts, want, sizeof(want));
		assert_int_equal(m_verity_image_read(&im, &v), 0);
		m_hex(v.root, m_bank_info(v.alg)->size, got);
		print_message("%s %u x %llu: %s\n", c->opts, c->block, (unsigned long long)c->blocks, got);
		assert_string_equal(got, want);
		assert_int_equal(v.data_blocks, c->blocks);

		/* a changed data byte changes the root hash, and the stored tree no
		 * longer matches the data */
		{
			FILE *g = fopen(img, "r+");
			int ch;

			assert_non_null(g);
			fseek(g, (long)(data / 2), SEEK_SET);
			ch = fgetc(g);
			fseek(g, (long)(data / 2), SEEK_SET);
			fputc(ch ^ 1, g);
			fclose(g);
			if (c->blocks > 1) {
				assert_int_equal(m_verity_image_read(&im, &v), -EBADMSG);
			} else {	/* no tree: the root is the block's own digest */
				assert_int_equal(m_verity_image_read(&im, &v), 0);
				m_hex(v.root, m_bank_info(v.alg)->size, got);
				assert_string_not_equal(got, want);
			}
		}
	}
	unlink(img);
	rmdir(dir);
}

static void sb_make(uint8_t sb[512], const char *alg, uint32_t db, uint32_t hb, uint64_t blocks, uint16_t salt)
{
	memset(sb, 0, 512);
	memcpy(sb, "verity\0\0", 8);
	sb[8] = 1;	/* version */
	sb[12] = 1;	/* hash type */
	strcpy((char *)sb + 32, alg);
	memcpy(sb + 64, &db, 4);	/* little-endian host: the tests run on x86 */
	memcpy(sb + 68, &hb, 4);
	memcpy(sb + 72, &blocks, 8);
	memcpy(sb + 80, &salt, 2);
}

static void test_sb(void **state)
{
	(void)state;
	uint8_t sb[512];
	struct m_verity v;
	char table[M_VERITY_TABLE_MAX];

	sb_make(sb, "sha256", 4096, 4096, 4096, 2);
	sb[88] = 0xab;
	sb[89] = 0xcd;
	assert_int_equal(m_verity_sb_parse(sb, 512, 16 << 20, &v), 0);
	assert_int_equal(v.hash_start, (16 << 20) / 4096 + 1);
	assert_int_equal(v.salt_len, 2);
	v.data_major = v.hash_major = 254;
	v.data_minor = 0;
	v.hash_minor = 16;
	memset(v.root, 0x11, 32);
	v.error = M_VERITY_RESTART;
	assert_int_equal(m_verity_table(&v, table, sizeof(table)), 0);
	assert_string_equal(table, "1 254:0 254:16 4096 4096 4096 4097 sha256 "
				   "1111111111111111111111111111111111111111111111111111111111111111 abcd 1 restart_on_corruption");
	/* superblock at a non-aligned offset: the tree starts at the next hash block */
	assert_int_equal(m_verity_sb_parse(sb, 512, 1000, &v), 0);
	assert_int_equal(v.hash_start, 1);

	assert_int_equal(m_verity_sb_parse(sb, 511, 0, &v), -EINVAL);
	sb_make(sb, "md5", 4096, 4096, 1, 0);
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
	sb_make(sb, "sha256", 4096, 8192, 1, 0);
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
	sb_make(sb, "sha256", 3000, 4096, 1, 0);
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
	sb_make(sb, "sha256", 4096, 4096, 0, 0);
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
	sb_make(sb, "sha256", 4096, 4096, 1, 257);
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
	sb_make(sb, "sha256", 4096, 4096, 1, 0);
	sb[0] = 'V';
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
	sb_make(sb, "sha256", 4096, 4096, 1, 0);
	sb[12] = 0;	/* Chrome OS's hash type */
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
	sb_make(sb, "sha256", 4096, 4096, 1, 0);
	memset(sb + 32, 'a', 32);	/* unterminated name */
	assert_int_equal(m_verity_sb_parse(sb, 512, 0, &v), -EINVAL);
}

/* the superblock veritysetup itself wrote (tests/data/verity/README.md) */
static void test_sb_veritysetup(void **state)
{
	(void)state;
	char path[512], salt[65];
	uint8_t *data;
	size_t len;
	struct m_verity v;

	snprintf(path, sizeof(path), "%s/verity/sb-sha256.bin", test_data_dir());
	assert_int_equal(m_read_file(path, 4096, &data, &len), 0);
	assert_int_equal(len, 8 + 512);
	assert_int_equal(m_verity_sb_parse(data + 8, 512, 16777216, &v), 0);
	assert_int_equal(v.alg, M_SHA256);
	assert_int_equal(v.data_block, 4096);
	assert_int_equal(v.hash_block, 4096);
	assert_int_equal(v.data_blocks, 4096);
	assert_int_equal(v.hash_start, 4097);
	assert_int_equal(v.salt_len, 32);
	m_hex(v.salt, v.salt_len, salt);
	assert_string_equal(salt, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sb),
		cmocka_unit_test(test_sb_veritysetup),
		cmocka_unit_test(test_against_veritysetup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

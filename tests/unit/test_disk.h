/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_TEST_DISK_H
#define MEASURED_TEST_DISK_H
/*
 * A plain file standing for the installer's target disk
 * (tests/unit/test_install.c, test_install_archive.c): an older bootable
 * system on it (a boot signature and a pattern), and its bytes read back
 * with stdio, independently of the code under test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* @len bytes of an older system written to @path; the bytes, for comparisons (NULL on failure) */
static inline uint8_t *test_disk_old(const char *path, size_t len)
{
	uint8_t *d = malloc(len);
	FILE *fp;

	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	d[510] = 0x55;
	d[511] = 0xaa;
	fp = fopen(path, "wb");
	if (!fp || fwrite(d, 1, len, fp) != len || fclose(fp)) {
		free(d);
		return NULL;
	}
	return d;
}

/* the disk's bytes; it must hold exactly @len */
static inline uint8_t *test_disk_read(const char *path, size_t len)
{
	uint8_t *d = malloc(len + 1);
	FILE *fp = fopen(path, "rb");

	assert_non_null(d);
	assert_non_null(fp);
	assert_int_equal(fread(d, 1, len + 1, fp), len);
	fclose(fp);
	return d;
}

/* rm -rf @dir (a test's mkdtemp directory) */
static inline int test_disk_cleanup(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}
#endif

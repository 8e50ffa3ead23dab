// SPDX-License-Identifier: MIT
/*
 * Root tree archives installed on a plain file as the disk
 * (agent/install_archive.c), from tests/data/ustar (make.sh there): the
 * steps in order; a cut after its own steps and the disk writer's first
 * and last (a child that ends there, no cleanup) leaves the old disk as it
 * was before the first write and sector 0 zero after it; archives the reader accepts but the installer must not
 * unpack are refused with their exact message and nothing written; the
 * staging directory is gone afterwards.  The expected digests come from
 * OpenSSL's one-shot SHA-256 of the archive file; what the installed disk
 * holds, read by sfdisk, mtools and debugfs, is tests/integration/
 * install_archive.sh's part.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include "install.h"
#include "measured/error.h"
#include "measured/file.h"
#include "test_data.h"
#include "test_disk.h"

#define DISK_LEN (72u << 20)	/* the image of good.tar: 1 + 33 + 24 + 1 MiB */

struct fx {
	char dir[64], disk[96], work[96];
	uint8_t *old;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/measured-archive-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->disk, sizeof(f->disk), "%s/disk", f->dir);
	snprintf(f->work, sizeof(f->work), "%s/work", f->dir);
	if (mkdir(f->work, 0700) < 0)
		return -1;
	f->old = test_disk_old(f->disk, DISK_LEN);
	if (!f->old)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (test_disk_cleanup(f->dir) < 0)
		return -1;
	free(f->old);
	free(f);
	return 0;
}

static uint8_t *load(const char *name, size_t *len, uint8_t sha[32])
{
	char path[512];
	uint8_t *d = NULL;

	snprintf(path, sizeof(path), "%s/ustar/%s", test_data_dir(), name);
	assert_int_equal(m_read_file(path, 1u << 20, &d, len), 0);
	SHA256(d, *len, sha);
	return d;
}

static uint8_t *disk(const struct fx *f)
{
	return test_disk_read(f->disk, DISK_LEN);
}

/* the staging directory is removed: @work is empty again */
static void work_empty(const struct fx *f)
{
	DIR *d = opendir(f->work);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 0);
}

struct steps {
	char names[256];
};

static int record(void *arg, enum m_install_stage s, uint64_t off)
{
	struct steps *st = arg;

	if (s == M_INSTALL_WRITING && off != M_INSTALL_HEAD)
		return 0;
	strcat(st->names, m_install_stage_name(s));
	strcat(st->names, " ");
	return 0;
}

static void test_archive_ok(void **state)
{
	struct fx *f = *state;
	struct steps st = { "" };
	struct m_install_hooks h = { record, &st };
	uint8_t sha[32], *d, *tar;
	uint64_t ilen = 0;
	size_t len;

	tar = load("good.tar", &len, sha);
	assert_int_equal(m_install_archive(f->disk, tar, len, sha, f->work, &h, &ilen), 0);
	assert_string_equal(st.names, "unpacked built checked cleared writing written verified head-rest bootable ");
	/* 1 MiB, the 33 MiB ESP, a 24 MiB root (the tree is small), 1 MiB */
	assert_int_equal(ilen, 59u << 20);
	d = disk(f);
	assert_int_equal(d[510], 0x55);
	assert_int_equal(d[511], 0xaa);
	assert_int_equal(d[450], 0xee);			/* the protective MBR's partition type */
	assert_memory_equal(d + 512, "EFI PART", 8);	/* the GPT header, LBA 1 */
	assert_memory_equal(d + ilen, f->old + ilen, DISK_LEN - ilen);	/* past the image: untouched */
	free(d);
	free(tar);
	work_empty(f);
}

struct cut {
	enum m_install_stage at;
};

static int cut_hook(void *arg, enum m_install_stage s, uint64_t off)
{
	const struct cut *c = arg;

	(void)off;
	if (s == c->at)
		_exit(42);
	return 0;
}

static void test_archive_cut(void **state)
{
	struct fx *f = *state;
	/* the archive's own steps, and the first and last of the disk writer's (test_install.c cuts after each) */
	static const enum m_install_stage before[] = { M_INSTALL_UNPACKED, M_INSTALL_BUILT };
	static const enum m_install_stage after[] = { M_INSTALL_CLEARED, M_INSTALL_HEAD_REST };
	uint8_t sha[32], *tar, *d;
	size_t len;

	tar = load("good.tar", &len, sha);
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]) + sizeof(after) / sizeof(after[0]); i++) {
		bool early = i < sizeof(before) / sizeof(before[0]);
		struct cut c = { early ? before[i] : after[i - sizeof(before) / sizeof(before[0])] };
		struct m_install_hooks h = { cut_hook, &c };
		int st = 0;
		pid_t p = fork();

		assert_true(p >= 0);
		if (p == 0)
			_exit(m_install_archive(f->disk, tar, len, sha, f->work, &h, NULL) == 0 ? 0 : 1);
		assert_int_equal(waitpid(p, &st, 0), p);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 42);
		d = disk(f);
		if (early)
			assert_memory_equal(d, f->old, DISK_LEN);	/* nothing written yet */
		else
			for (int b = 0; b < 512; b++)
				assert_int_equal(d[b], 0);	/* no MBR, no protective MBR: boots nothing */
		free(d);
		/* a cut process leaves its staging directory: the next run makes its own */
		assert_int_equal(system("rm -rf /tmp/measured-archive-test.*/work/measured-install.*"), 0);
	}
	free(tar);
}

/* refused with @msg, the disk as it was, nothing left in the staging area */
static void refused(struct fx *f, const char *name, const uint8_t *sha_or_null, int want, const char *msg)
{
	uint8_t sha[32], *tar, *d;
	size_t len;
	int r;

	tar = load(name, &len, sha);
	r = m_install_archive(f->disk, tar, len, sha_or_null ? sha_or_null : sha, f->work, NULL, NULL);
	if (r != want || strcmp(m_errmsg(r), msg) != 0)
		fail_msg("%s: %d '%s', expected %d '%s'", name, r, m_errmsg(r), want, msg);
	d = disk(f);
	assert_memory_equal(d, f->old, DISK_LEN);
	free(d);
	free(tar);
	work_empty(f);
}

static void test_archive_refused(void **state)
{
	struct fx *f = *state;
	uint8_t zero[32] = { 0 }, sha[32];
	char msg[256], hex[65];
	size_t len;
	uint8_t *tar = load("good.tar", &len, sha);

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	free(tar);
	snprintf(msg, sizeof(msg), "package digest mismatch: sha256 %s, the verifier says %064d; nothing written",
		 hex, 0);
	refused(f, "good.tar", zero, -EBADMSG, msg);
	refused(f, "escape.tar", NULL, -EBADMSG, "root archive: ustar entry at offset 0 ('a/b/link'): a symbolic "
		"link whose target climbs above the archive's root");
	refused(f, "noloader.tar", NULL, -EBADMSG, "root archive without boot/efi/EFI/BOOT/BOOTX64.EFI (the "
		"removable-media loader an EFI System Partition boots): nothing would boot; nothing written");
	refused(f, "esplink.tar", NULL, -EBADMSG, "root archive entry 'boot/efi/l': a symbolic link on the EFI "
		"System Partition (FAT has none); nothing written");
	refused(f, "dup.tar", NULL, -EBADMSG, "root archive entry 'etc/x': twice in the archive; nothing written");
	refused(f, "through.tar", NULL, -EBADMSG, "root archive entry 'l/x': its path leads through a symbolic link "
		"or a file; nothing written");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_archive_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The installer's disk writer with a plain file as the disk: an install
 * cut off after every step (a child process that ends there, no cleanup)
 * leaves sector 0 zero, i.e. no MBR boot signature and no protective MBR,
 * so neither a BIOS nor a UEFI firmware boots anything from it; a digest
 * mismatch, before writing or on read-back, is refused the same way.  The
 * expected digests come from OpenSSL's one-shot SHA-256 over the test's
 * own buffer, the written bytes from plain stdio reads of the file.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "test_disk.h"

#define IMG_LEN   ((3u << 20) + 1234u)	/* head, two whole chunks and a partial one */
#define DISK_LEN  (4u << 20)

struct fx {
	char dir[64], disk[96];
	uint8_t *img, *old, sha[32];
};

/* a "disk" holding an older bootable system (boot signature, a pattern), and a new image */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/measured-install-test.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->disk, sizeof(f->disk), "%s/disk", f->dir);
	f->img = malloc(IMG_LEN);
	srand(7);
	for (size_t i = 0; i < IMG_LEN; i++)
		f->img[i] = (uint8_t)rand();
	f->img[510] = 0x55;
	f->img[511] = 0xaa;
	SHA256(f->img, IMG_LEN, f->sha);
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
	free(f->img);
	free(f->old);
	free(f);
	return 0;
}

static uint8_t *disk(const struct fx *f)
{
	return test_disk_read(f->disk, DISK_LEN);
}

static bool zero(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i])
			return false;
	return true;
}

static void test_install_ok(void **state)
{
	struct fx *f = *state;
	uint8_t *d;

	assert_int_equal(m_install_disk(f->disk, f->img, IMG_LEN, f->sha, NULL), 0);
	d = disk(f);
	assert_memory_equal(d, f->img, IMG_LEN);
	assert_memory_equal(d + IMG_LEN, f->old + IMG_LEN, DISK_LEN - IMG_LEN);	/* past the image: untouched */
	free(d);
}

/* a cut: the child ends right after stage @at (at the chunk at @at_off for WRITING) */
struct cut {
	enum m_install_stage at;
	uint64_t at_off;
};

static int cut_hook(void *arg, enum m_install_stage s, uint64_t off)
{
	const struct cut *c = arg;

	if (s == c->at && (s != M_INSTALL_WRITING || off == c->at_off))
		_exit(42);
	return 0;
}

static void cut_at(struct fx *f, enum m_install_stage at, uint64_t off)
{
	struct cut c = { at, off };
	struct m_install_hooks h = { cut_hook, &c };
	int st = 0;
	pid_t p = fork();

	assert_true(p >= 0);
	if (p == 0)
		_exit(m_install_disk(f->disk, f->img, IMG_LEN, f->sha, &h) == 0 ? 0 : 1);
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 42);
}

static void test_cut_every_stage(void **state)
{
	struct fx *f = *state;
	static const struct { enum m_install_stage s; uint64_t off; } cuts[] = {
		{ M_INSTALL_CLEARED, 0 },
		{ M_INSTALL_WRITING, M_INSTALL_HEAD },			/* the first chunk */
		{ M_INSTALL_WRITING, M_INSTALL_HEAD + M_INSTALL_CHUNK },	/* the second */
		{ M_INSTALL_WRITTEN, 0 },
		{ M_INSTALL_VERIFIED, 0 },
		{ M_INSTALL_HEAD_REST, 0 },
	};
	uint8_t *d;

	/* before the first write: the disk is as it was */
	cut_at(f, M_INSTALL_CHECKED, 0);
	d = disk(f);
	assert_memory_equal(d, f->old, DISK_LEN);
	free(d);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		cut_at(f, cuts[i].s, cuts[i].off);
		d = disk(f);
		/* sector 0 zero: no boot signature, no protective MBR */
		assert_true(zero(d, 512));
		if (cuts[i].s == M_INSTALL_HEAD_REST)
			assert_memory_equal(d + 512, f->img + 512, M_INSTALL_HEAD - 512);
		else
			assert_true(zero(d, M_INSTALL_HEAD));
		free(d);
	}
	/* the whole run after a cut: the image, complete */
	assert_int_equal(m_install_disk(f->disk, f->img, IMG_LEN, f->sha, NULL), 0);
	d = disk(f);
	assert_memory_equal(d, f->img, IMG_LEN);
	free(d);
}

static void test_digest_mismatch_before(void **state)
{
	struct fx *f = *state;
	uint8_t wrong[32], *d;
	int r;

	memcpy(wrong, f->sha, 32);
	wrong[31] ^= 1;
	r = m_install_disk(f->disk, f->img, IMG_LEN, wrong, NULL);
	assert_int_equal(r, -EBADMSG);
	assert_non_null(strstr(m_errmsg(r), "package digest mismatch"));
	assert_non_null(strstr(m_errmsg(r), "nothing written"));
	d = disk(f);
	assert_memory_equal(d, f->old, DISK_LEN);
	free(d);
}

/* the disk does not keep what was written: one byte changes between write and read-back */
static int corrupt_hook(void *arg, enum m_install_stage s, uint64_t off)
{
	const struct fx *f = arg;
	int fd;

	(void)off;
	if (s != M_INSTALL_WRITTEN)
		return 0;
	fd = open(f->disk, O_WRONLY);
	if (fd < 0 || pwrite(fd, "\x5a", 1, 2u << 20) != 1 || close(fd))
		return 1;
	return 0;
}

static void test_readback_mismatch(void **state)
{
	struct fx *f = *state;
	struct m_install_hooks h = { corrupt_hook, f };
	uint8_t *d;
	int r;

	if (f->img[2u << 20] == 0x5a)
		f->img[2u << 20] = 0x5b, SHA256(f->img, IMG_LEN, f->sha);
	r = m_install_disk(f->disk, f->img, IMG_LEN, f->sha, &h);
	assert_int_equal(r, -EBADMSG);
	assert_non_null(strstr(m_errmsg(r), "read back"));
	d = disk(f);
	assert_true(zero(d, M_INSTALL_HEAD));
	free(d);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	char path[160];
	uint8_t *d;
	int r;

	/* no boot signature: nothing on the disk would ever boot it */
	f->img[511] = 0;
	SHA256(f->img, IMG_LEN, f->sha);
	r = m_install_disk(f->disk, f->img, IMG_LEN, f->sha, NULL);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(m_errmsg(r), "boot signature"));
	f->img[511] = 0xaa;
	SHA256(f->img, IMG_LEN, f->sha);
	/* missing, too small, not a disk, a symbolic link */
	snprintf(path, sizeof(path), "%s/none", f->dir);
	r = m_install_disk(path, f->img, IMG_LEN, f->sha, NULL);
	assert_int_equal(r, -ENOENT);
	assert_non_null(strstr(m_errmsg(r), "no such disk"));
	assert_int_equal(truncate(f->disk, IMG_LEN - 1), 0);
	r = m_install_disk(f->disk, f->img, IMG_LEN, f->sha, NULL);
	assert_int_equal(r, -ENOSPC);
	assert_non_null(strstr(m_errmsg(r), "the package needs"));
	assert_int_equal(m_install_target_check(f->disk, IMG_LEN, NULL), -ENOSPC);
	assert_int_equal(truncate(f->disk, DISK_LEN), 0);
	r = m_install_disk(f->dir, f->img, IMG_LEN, f->sha, NULL);
	assert_int_equal(r, -ENOTBLK);
	snprintf(path, sizeof(path), "%s/link", f->dir);
	assert_int_equal(symlink(f->disk, path), 0);
	assert_int_equal(m_install_disk(path, f->img, IMG_LEN, f->sha, NULL), -ENOTBLK);
	/* none of these wrote: the old disk is as it was */
	d = disk(f);
	assert_memory_equal(d, f->old, IMG_LEN - 1);
	free(d);
}

static json_object *payload(const char *install_json)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "name", json_object_new_string("install"));
	if (install_json)
		json_object_object_add(p, "install", json_tokener_parse(install_json));
	return p;
}

static int meta(const char *install_json, struct m_install_meta *m)
{
	json_object *p = payload(install_json);
	int r = m_install_meta_parse(p, m);

	json_object_put(p);
	return r;
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_meta(void **state)
{
	struct m_install_meta m;

	(void)state;
	assert_int_equal(meta("{\"kind\":\"disk-image\",\"target\":\"/dev/vdb\",\"digest\":\"sha256:" D64 "\"}", &m), 0);
	assert_string_equal(m.kind, "disk-image");
	assert_string_equal(m.target, "/dev/vdb");
	assert_int_equal(m.sha256[0], 0x01);
	assert_int_equal(m.sha256[31], 0xef);
	assert_int_equal(meta("{\"kind\":\"disk-image\",\"target\":null,\"digest\":\"sha256:" D64 "\"}", &m), 0);
	assert_string_equal(m.target, "");
	assert_int_equal(meta(NULL, &m), -ENOENT);
	assert_int_equal(meta("{\"kind\":\"root-archive\",\"digest\":\"sha256:" D64 "\"}", &m), 0);
	assert_string_equal(m.kind, "root-archive");
	assert_int_equal(meta("{\"kind\":\"tarball\",\"digest\":\"sha256:" D64 "\"}", &m), -EBADMSG);
	assert_string_equal(m_errmsg(-EBADMSG), "install.kind 'tarball': this agent installs \"disk-image\" and "
			    "\"root-archive\" packages");
	assert_int_equal(meta("{\"kind\":\"disk-image\",\"target\":\"dev/vdb\",\"digest\":\"sha256:" D64 "\"}", &m),
			 -EBADMSG);
	assert_int_equal(meta("{\"kind\":\"disk-image\",\"digest\":\"sha1:" D64 "\"}", &m), -EBADMSG);
	assert_int_equal(meta("{\"kind\":\"disk-image\",\"digest\":\"sha256:" D64 "0\"}", &m), -EBADMSG);
	assert_int_equal(meta("{\"kind\":\"disk-image\",\"digest\":\"sha256:ABCDEF6789abcdef0123456789abcdef"
			      "0123456789abcdef0123456789abcdef\"}", &m), -EBADMSG);
	assert_int_equal(meta("{\"kind\":\"disk-image\"}", &m), -EBADMSG);
	assert_int_equal(meta("\"disk-image\"", &m), -EBADMSG);
}

static void test_cmdline(void **state)
{
	char t[M_INSTALL_TARGET_MAX], lng[400];

	(void)state;
	assert_int_equal(m_install_target_from_cmdline("console=ttyS0 measured.install.target=/dev/vdb quiet\n", t,
						       sizeof(t)), 0);
	assert_string_equal(t, "/dev/vdb");
	assert_int_equal(m_install_target_from_cmdline("measured.install.target=/dev/sda "
						       "measured.install.target=/dev/nvme0n1", t, sizeof(t)), 0);
	assert_string_equal(t, "/dev/nvme0n1");
	assert_int_equal(m_install_target_from_cmdline("quiet xmeasured.install.target=/dev/vdb", t, sizeof(t)),
			 -ENOENT);
	assert_int_equal(m_install_target_from_cmdline("measured.install.target=", t, sizeof(t)), -ENOENT);
	assert_int_equal(m_install_target_from_cmdline("measured.install.target=vdb", t, sizeof(t)), -EINVAL);
	assert_int_equal(m_install_target_from_cmdline("measured.install.target=\"/dev/disk/by-id/a b\" quiet", t,
						       sizeof(t)), 0);
	assert_string_equal(t, "/dev/disk/by-id/a b");
	/* after "--": init's arguments, not the kernel's */
	assert_int_equal(m_install_target_from_cmdline("quiet -- measured.install.target=/dev/vdb", t, sizeof(t)),
			 -ENOENT);
	memset(lng, 'a', sizeof(lng));
	memcpy(lng, "measured.install.target=/", 25);
	lng[sizeof(lng) - 1] = 0;
	assert_int_equal(m_install_target_from_cmdline(lng, t, sizeof(t)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_every_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_mismatch_before, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readback_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_cmdline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The ustar reader (lib/archive/ustar.c) over tests/data/ustar (made by
 * make.sh there): GNU tar's archive of a small root tree read entry by
 * entry equals what python3's tarfile reads from it (good.expect: type,
 * path, mode, size, mtime, and the SHA-256 of a file's data or a link's
 * target); python3's and GNU tar's archives of what an installer must not
 * unpack are refused with their exact message, as are archives cut short
 * or with a changed header byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include "measured/error.h"
#include "measured/file.h"
#include "measured/ustar.h"
#include "test_data.h"

static uint8_t *load(const char *name, size_t *len)
{
	char path[512];
	uint8_t *d = NULL;

	snprintf(path, sizeof(path), "%s/ustar/%s", test_data_dir(), name);
	assert_int_equal(m_read_file(path, 1u << 20, &d, len), 0);
	return d;
}

struct listing {
	char text[8192];
	size_t len;
};

static int list_entry(void *arg, const struct m_ustar_entry *e)
{
	struct listing *l = arg;
	static const char *const kind[] = { "file", "dir", "symlink" };
	char extra[M_USTAR_PATH_MAX + 65];
	int n;

	if (e->type == M_USTAR_FILE) {
		uint8_t md[32];

		SHA256(e->data, (size_t)e->size, md);
		for (int i = 0; i < 32; i++)
			snprintf(extra + 2 * i, 3, "%02x", md[i]);
	} else {
		snprintf(extra, sizeof(extra), "%s", e->type == M_USTAR_SYMLINK ? e->link : "-");
	}
	n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %s %04o %llu %lld %s\n", kind[e->type], e->path,
		     e->mode, (unsigned long long)e->size, (long long)e->mtime, extra);
	assert_true(n > 0 && (size_t)n < sizeof(l->text) - l->len);
	l->len += (size_t)n;
	return 0;
}

static void test_good_equals_tarfile(void **state)
{
	struct listing l = { .len = 0 };
	size_t len, elen, n = 0;
	uint8_t *d = load("good.tar", &len), *want = load("good.expect", &elen);

	(void)state;
	assert_int_equal(m_ustar_walk(d, len, list_entry, &l, &n), 0);
	assert_int_equal(n, 19);
	assert_int_equal(l.len, elen);
	assert_memory_equal(l.text, want, elen);
	free(d);
	free(want);
}

static int count_calls(void *arg, const struct m_ustar_entry *e)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

/* every refused archive: the exact message, and no entry handed out */
static void refused(const char *name, const char *msg)
{
	size_t len;
	uint8_t *d = load(name, &len);
	int calls = 0, r = m_ustar_walk(d, len, count_calls, &calls, NULL);

	if (r != -EBADMSG || strcmp(m_errmsg(r), msg) != 0)
		fail_msg("%s: %d '%s', expected '%s'", name, r, m_errmsg(r), msg);
	assert_int_equal(calls, 0);
	free(d);
}

static void test_refused(void **state)
{
	(void)state;
	refused("abs.tar", "ustar entry at offset 0 ('/etc/passwd'): an absolute path");
	refused("dotdot.tar", "ustar entry at offset 0 ('etc/../../passwd'): a '..' path component");
	refused("escape.tar", "ustar entry at offset 0 ('a/b/link'): a symbolic link whose target climbs above the "
		"archive's root");
	refused("hardlink.tar", "ustar entry at offset 1024 ('b'): a hard link (type '1'): store the file itself");
	refused("device.tar", "ustar entry at offset 0 ('dev/null'): a device node (type '3' or '4')");
	refused("pax.tar", "ustar entry at offset 0 ('././@PaxHeader'): a pax extended header (type 'x' or 'g'): "
		"tar --format=ustar");
	refused("gnu.tar", "ustar header at offset 0: not a POSIX ustar header (magic and version \"ustar\\0\" "
		"\"00\"; GNU and old tar formats are refused: tar --format=ustar)");
	/* make.sh wrote 'X' at byte 600 (the second header's name); python3 sums that header to 10304 (octal) */
	refused("badsum.tar", "ustar header at offset 512: checksum 10154, the header sums to 10304");
	refused("truncated.tar", "ustar entry at offset 1536 ('bin/hello'): its data runs past the end of the archive");
	refused("noend.tar", "ustar archive of 13312 bytes: ends at offset 13312 without the end-of-archive marker "
		"(two zero blocks)");
}

/* hand-made headers: what the generators cannot write */
static void put_octal(uint8_t *f, size_t w, unsigned long long v)
{
	/* w - 1 octal digits, zero-padded, then NUL */
	for (size_t i = w - 1; i-- > 0; v >>= 3)
		f[i] = (uint8_t)('0' + (v & 7));
	f[w - 1] = 0;
}

static void seal(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	put_octal(h + 148, 7, sum);
	h[155] = ' ';
}

static void header(uint8_t *h, const char *name, char type, unsigned long long size, const char *link)
{
	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	put_octal(h + 100, 8, 0644);
	put_octal(h + 108, 8, 0);
	put_octal(h + 116, 8, 0);
	put_octal(h + 124, 12, size);
	put_octal(h + 136, 12, 1700000000);
	h[156] = (uint8_t)type;
	if (link)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar\0" "00", 8);
	seal(h);
}

static int walk_one(uint8_t *a, size_t len)
{
	return m_ustar_walk(a, len, NULL, NULL, NULL);
}

static void test_handmade(void **state)
{
	uint8_t a[512 * 5];
	int r;

	(void)state;
	/* a size that claims more than the archive holds */
	memset(a, 0, sizeof(a));
	header(a, "f", '0', 1ull << 32, NULL);
	r = walk_one(a, sizeof(a));
	assert_int_equal(r, -EBADMSG);
	assert_string_equal(m_errmsg(r), "ustar entry at offset 0 ('f'): its data runs past the end of the archive");
	/* a base-256 size (GNU) */
	header(a, "f", '0', 0, NULL);
	a[124] = 0x80;
	seal(a);
	r = walk_one(a, sizeof(a));
	assert_string_equal(m_errmsg(r), "ustar entry at offset 0 ('f'): the size field is not octal (a base-256 "
			    "size is a GNU extension)");
	/* symbolic links: an absolute target is kept, one that climbs out is not, one that climbs and comes back is */
	header(a, "a/l", '2', 0, "/etc/x");
	assert_int_equal(walk_one(a, sizeof(a)), 0);
	header(a, "a/l", '2', 0, "../../x");
	r = walk_one(a, sizeof(a));
	assert_string_equal(m_errmsg(r), "ustar entry at offset 0 ('a/l'): a symbolic link whose target climbs above "
			    "the archive's root");
	header(a, "a/b/l", '2', 0, "../../a/./b/../x");
	assert_int_equal(walk_one(a, sizeof(a)), 0);
	header(a, "l", '2', 0, "");
	r = walk_one(a, sizeof(a));
	assert_string_equal(m_errmsg(r), "ustar entry at offset 0 ('l'): a symbolic link without a target");
	/* paths */
	header(a, "a//b", '0', 0, NULL);
	assert_string_equal(m_errmsg(walk_one(a, sizeof(a))), "ustar entry at offset 0 ('a//b'): an empty path "
			    "component ('//')");
	header(a, "a/./b", '0', 0, NULL);
	assert_string_equal(m_errmsg(walk_one(a, sizeof(a))), "ustar entry at offset 0 ('a/./b'): a '.' path component");
	header(a, "f/", '0', 0, NULL);
	assert_string_equal(m_errmsg(walk_one(a, sizeof(a))), "ustar entry at offset 0 ('f/'): a path ending in '/' "
			    "for something not a directory");
	header(a, "..", '5', 0, NULL);
	assert_string_equal(m_errmsg(walk_one(a, sizeof(a))), "ustar entry at offset 0 ('..'): a '..' path component");
	header(a, "p\n", '6', 0, NULL);
	assert_string_equal(m_errmsg(walk_one(a, sizeof(a))), "ustar entry at offset 0 ('p\\x0a'): a FIFO (type '6')");
	header(a, "d", '5', 3, NULL);
	assert_string_equal(m_errmsg(walk_one(a, sizeof(a))), "ustar entry at offset 0 ('d'): a directory or "
			    "symbolic link with data");
	/* one zero block, then something else */
	memset(a, 0, sizeof(a));
	a[512] = 1;
	assert_string_equal(m_errmsg(walk_one(a, sizeof(a))), "ustar archive: a zero block at offset 0 not followed "
			    "by another (the end-of-archive marker is two)");
	/* the empty archive: two zero blocks, nothing else */
	memset(a, 0, sizeof(a));
	assert_int_equal(walk_one(a, 1024), 0);
	assert_int_equal(walk_one(a, 0), -EBADMSG);
}

static int stop_at_second(void *arg, const struct m_ustar_entry *e)
{
	(void)e;
	return ++*(int *)arg == 2 ? -ECANCELED : 0;
}

static void test_callback_stops(void **state)
{
	size_t len;
	uint8_t *d = load("good.tar", &len);
	int calls = 0;

	(void)state;
	assert_int_equal(m_ustar_walk(d, len, stop_at_second, &calls, NULL), -ECANCELED);
	assert_int_equal(calls, 2);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_equals_tarfile),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_handmade),
		cmocka_unit_test(test_callback_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

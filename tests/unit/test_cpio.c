// SPDX-License-Identifier: MIT
/* newc cpio writer against bytes laid out by hand from the kernel's
 * buffer-format.rst; gzip output checked by inflating it with zlib;
 * superblock probing on hand-made superblocks. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <cmocka.h>
#include "initcore.h"
#include "measured/initramfs.h"

static const char want[] =
	/* ino 1: directory "d" (parent added automatically), nlink 2 */
	"070701" "00000001" "000041ED" "00000000" "00000000" "00000002" "00000000" "00000000"
	"00000000" "00000000" "00000000" "00000000" "00000002" "00000000" "d\0"
	/* ino 2: "d/f" with "hi", name padded to 4: 110 + 4 = 114 -> 116 */
	"070701" "00000002" "000081A4" "00000000" "00000000" "00000001" "00000000" "00000002"
	"00000000" "00000000" "00000000" "00000000" "00000004" "00000000" "d/f\0\0\0" "hi\0\0"
	/* ino 3: char device "dev/console"... sorted after "d/f" */
	;

static void test_layout(void **state)
{
	(void)state;
	struct m_cpio *c;
	struct mbuf_writer w;

	assert_int_equal(m_cpio_new(&c), 0);
	assert_int_equal(m_cpio_add_data(c, "d/f", 0644, "hi", 2), 0);
	mbw_init_heap(&w, 1 << 20);
	assert_int_equal(m_cpio_write(c, &w), 0);
	/* "d": 110 + 2 = 112 (aligned).  "d/f": 110 + 4 -> 116, data 2 -> 4. */
	assert_memory_equal(w.data, want, 112 + 116 + 4);
	/* trailer */
	assert_memory_equal(w.data + 232, "070701", 6);
	assert_memory_equal(w.data + 232 + 110, "TRAILER!!!", 11);
	assert_int_equal(w.len % 4, 0);
	mbw_free(&w);
	m_cpio_free(c);
}

static void test_sorted_and_checked(void **state)
{
	(void)state;
	struct m_cpio *a, *b;
	struct mbuf_writer wa, wb;

	assert_int_equal(m_cpio_new(&a), 0);
	assert_int_equal(m_cpio_new(&b), 0);
	/* insertion order does not matter */
	assert_int_equal(m_cpio_add_data(a, "x/1", 0644, "1", 1), 0);
	assert_int_equal(m_cpio_add_chardev(a, "dev/console", 0600, 5, 1), 0);
	assert_int_equal(m_cpio_add_symlink(a, "sbin", "bin"), 0);
	assert_int_equal(m_cpio_add_symlink(b, "sbin", "bin"), 0);
	assert_int_equal(m_cpio_add_chardev(b, "dev/console", 0600, 5, 1), 0);
	assert_int_equal(m_cpio_add_data(b, "x/1", 0644, "1", 1), 0);
	mbw_init_heap(&wa, 1 << 20);
	mbw_init_heap(&wb, 1 << 20);
	assert_int_equal(m_cpio_write(a, &wa), 0);
	assert_int_equal(m_cpio_write(b, &wb), 0);
	assert_int_equal(wa.len, wb.len);
	assert_memory_equal(wa.data, wb.data, wa.len);
	/* console: mode 020600, rdev 5:1 */
	assert_non_null(memmem(wa.data, wa.len, "000021800000000000000000000000010000000000000000000000000000000000000005"
					       "00000001", 80));
	/* bad paths and duplicates */
	assert_int_equal(m_cpio_add_data(a, "/abs", 0644, "", 0), -EINVAL);
	assert_int_equal(m_cpio_add_data(a, "a/../b", 0644, "", 0), -EINVAL);
	assert_int_equal(m_cpio_add_data(a, "x/1", 0644, "", 0), -EEXIST);
	assert_int_equal(m_cpio_add_data(a, "x/1/y", 0644, "", 0), -ENOTDIR);	/* x/1 is a file */
	mbw_free(&wa);
	mbw_free(&wb);
	m_cpio_free(a);
	m_cpio_free(b);
}

static void test_gzip(void **state)
{
	(void)state;
	static uint8_t in[100000], out[100000];
	struct mbuf_writer w, w2;
	uLongf n = sizeof(out);
	z_stream z;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 % 251);
	mbw_init_heap(&w, 1 << 20);
	mbw_init_heap(&w2, 1 << 20);
	assert_int_equal(m_gzip(in, sizeof(in), &w), 0);
	assert_int_equal(m_gzip(in, sizeof(in), &w2), 0);
	assert_int_equal(w.len, w2.len);
	assert_memory_equal(w.data, w2.data, w.len);
	/* RFC 1952 header: magic, deflate, no flags, mtime 0 */
	assert_int_equal(w.data[0], 0x1f);
	assert_int_equal(w.data[1], 0x8b);
	assert_int_equal(w.data[2], 8);
	assert_int_equal(w.data[3], 0);
	assert_memory_equal(w.data + 4, "\0\0\0\0", 4);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = w.data;
	z.avail_in = (uInt)w.len;
	z.next_out = out;
	z.avail_out = (uInt)n;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, sizeof(in));
	inflateEnd(&z);
	assert_memory_equal(in, out, sizeof(in));
	mbw_free(&w);
	mbw_free(&w2);
}

static void test_probe(void **state)
{
	(void)state;
	static uint8_t sb[MI_PROBE_LEN];
	struct mi_fsinfo fs;

	memset(sb, 0, sizeof(sb));
	assert_int_equal(mi_probe(sb, sizeof(sb), &fs), -ENOENT);
	sb[1024 + 56] = 0x53, sb[1024 + 57] = 0xef;
	sb[1024 + 96] = 0x40;	/* extents */
	for (int i = 0; i < 16; i++)
		sb[1024 + 104 + i] = (uint8_t)(0x10 + i);
	memcpy(sb + 1024 + 120, "rootfs", 6);
	assert_int_equal(mi_probe(sb, sizeof(sb), &fs), 0);
	assert_string_equal(fs.type, "ext4");
	assert_string_equal(fs.label, "rootfs");
	assert_string_equal(fs.uuid, "10111213-1415-1617-1819-1a1b1c1d1e1f");
	assert_int_equal(mi_probe(sb, 1100, &fs), -EINVAL);	/* cut inside the superblock */
	memset(sb, 0, sizeof(sb));
	memcpy(sb + 32769, "CD001", 5);
	memcpy(sb + 32808, "LIVE                            ", 32);
	assert_int_equal(mi_probe(sb, sizeof(sb), &fs), 0);
	assert_string_equal(fs.type, "iso9660");
	assert_string_equal(fs.label, "LIVE");
	memcpy(sb, "hsqs", 4);
	assert_int_equal(mi_probe(sb, 4, &fs), 0);
	assert_string_equal(fs.type, "squashfs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout), cmocka_unit_test(test_sorted_and_checked),
		cmocka_unit_test(test_gzip), cmocka_unit_test(test_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

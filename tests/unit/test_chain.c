// SPDX-License-Identifier: MIT
/*
 * Boot-chain prediction pieces on inputs built here: an OVMF variable store
 * written in edk2's layout by the test, a FAT12 image laid out by hand, and
 * GRUB scripts whose measured strings are written out from GRUB's rules
 * (the forms of the first ones were read off a real Debian 12 GRUB's log).
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
#include "measured/buf.h"
#include "measured/chain.h"
#include "measured/digest.h"
#include "measured/efivars.h"
#include "measured/error.h"

/* ---- variable store ---- */

static void put_var(struct mbuf_writer *w, uint8_t state, uint32_t attrs, const char *name,
		    const struct m_efi_guid *g, const void *data, uint32_t len)
{
	size_t n = strlen(name);

	mbw_le16(w, 0x55aa);
	mbw_u8(w, state);
	mbw_u8(w, 0);
	mbw_le32(w, attrs);
	mbw_le64(w, 0);
	for (int i = 0; i < 16; i++)
		mbw_u8(w, 0);
	mbw_le32(w, 0);
	mbw_le32(w, (uint32_t)(2 * n + 2));
	mbw_le32(w, len);
	mbw_bytes(w, g->b, 16);
	for (size_t i = 0; i <= n; i++)
		mbw_le16(w, (uint8_t)name[i]);
	mbw_bytes(w, data, len);
	while (w->len % 4)
		mbw_u8(w, 0xff);
}

static size_t build_store(uint8_t *buf, size_t cap)
{
	static const uint8_t auth_guid[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
					       0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
	struct mbuf_writer w;

	memset(buf, 0xff, cap);
	mbw_init_fixed(&w, buf, cap);
	for (int i = 0; i < 32; i++)
		mbw_u8(&w, 0);
	mbw_le64(&w, cap);		/* FvLength */
	mbw_bytes(&w, "_FVH", 4);
	mbw_le32(&w, 0);
	mbw_le16(&w, 72);		/* HeaderLength */
	w.len = 72;
	mbw_bytes(&w, auth_guid, 16);
	mbw_le32(&w, (uint32_t)(cap - 72));
	mbw_u8(&w, 0x5a);
	mbw_u8(&w, 0xfe);
	mbw_le16(&w, 0);
	mbw_le32(&w, 0);
	put_var(&w, 0x3c, 0x27, "db", &M_EFI_IMAGE_SECURITY_GUID, "old", 3);	/* deleted */
	put_var(&w, 0x3f, 0x27, "db", &M_EFI_IMAGE_SECURITY_GUID, "new!", 4);
	put_var(&w, 0x3f, 0x07, "Boot0000", &M_EFI_GLOBAL_GUID, "x", 1);	/* odd name size */
	put_var(&w, 0x3f, 0x03, "SbatLevel", &M_EFI_SHIM_LOCK_GUID, "sbat,1,2021030218\n", 18);
	assert_true(mbw_ok(&w));
	return cap;
}

static void test_efivars_store(void **state)
{
	uint8_t buf[1024];
	struct m_efi_vars *v;
	const struct m_efi_var *x;
	size_t len = build_store(buf, sizeof(buf));

	(void)state;
	assert_int_equal(m_efi_vars_parse(buf, len, "t", &v), 0);
	assert_int_equal(v->n, 3);
	x = m_efi_vars_find(v, "db", &M_EFI_IMAGE_SECURITY_GUID);
	assert_non_null(x);
	assert_int_equal(x->len, 4);
	assert_memory_equal(x->data, "new!", 4);
	assert_int_equal(x->attrs, 0x27);
	x = m_efi_vars_find(v, "SbatLevel", &M_EFI_SHIM_LOCK_GUID);
	assert_non_null(x);
	assert_int_equal(x->len, 18);
	assert_null(m_efi_vars_find(v, "SbatLevel", &M_EFI_GLOBAL_GUID));
	assert_non_null(m_efi_vars_find(v, "Boot0000", &M_EFI_GLOBAL_GUID));
	m_efi_vars_free(v);

	buf[40] = 'X';		/* no "_FVH" */
	assert_int_equal(m_efi_vars_parse(buf, len, "t", &v), -EINVAL);
	build_store(buf, sizeof(buf));
	buf[72 + 28 + 72 + 39] = 0x10;	/* the live db record's NameSize runs past the store */
	assert_int_equal(m_efi_vars_parse(buf, len, "t", &v), -EINVAL);
}

/* the efivarfs layout: NAME-GUID files of attributes (LE u32) + data */
static void test_efivarfs_dir(void **state)
{
	char dir[] = "/tmp/measured-efivarfs.XXXXXX", path[256];
	struct m_efi_vars *v;
	const struct m_efi_var *x;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f", dir);
	assert_non_null(f = fopen(path, "w"));
	fwrite("\x27\0\0\0abc", 1, 7, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/not-a-variable", dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(m_efi_vars_load(dir, &v), 0);
	assert_int_equal(v->n, 1);
	x = m_efi_vars_find(v, "db", &M_EFI_IMAGE_SECURITY_GUID);
	assert_non_null(x);
	assert_int_equal(x->attrs, 0x27);
	assert_int_equal(x->len, 3);
	assert_memory_equal(x->data, "abc", 3);
	m_efi_vars_free(v);
	snprintf(path, sizeof(path), "%s/KEK-8be4df61-93ca-11d2-aa0d-00e098032b8c", dir);
	assert_non_null(f = fopen(path, "w"));
	fwrite("\x27\0", 1, 2, f);	/* shorter than the attributes */
	fclose(f);
	assert_int_equal(m_efi_vars_load(dir, &v), -EINVAL);
	unlink(path);
	snprintf(path, sizeof(path), "%s/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/not-a-variable", dir);
	unlink(path);
	rmdir(dir);
}

/* UEFI_VARIABLE_DATA of SecureBoot = 01: the SHA-1 OVMF logged for it (Debian 12, PCR 7 event 0) */
static void test_variable_data(void **state)
{
	static const uint8_t one = 1;
	struct m_digests d;
	uint8_t *vd, want[20];
	size_t len;

	(void)state;
	assert_int_equal(m_efi_variable_data("SecureBoot", &M_EFI_GLOBAL_GUID, &one, 1, &vd, &len), 0);
	assert_int_equal(len, 16 + 8 + 8 + 20 + 1);
	assert_int_equal(m_digest_buf(M_BANK_BIT(M_SHA1), vd, len, &d), 0);
	assert_int_equal(m_unhex("d4fdd1f14d4041494deb8fc990c45343d2277d08", want, 20), 0);
	assert_memory_equal(d.d[M_SHA1], want, 20);
	free(vd);
}

static void test_guid_parse(void **state)
{
	struct m_efi_guid g;

	(void)state;
	assert_int_equal(m_efi_guid_parse("605dab50-e046-4300-abb6-3dd810dd8b23", &g), 0);
	assert_memory_equal(g.b, M_EFI_SHIM_LOCK_GUID.b, 16);
	assert_int_equal(m_efi_guid_parse("605dab50e046-4300-abb6-3dd810dd8b23-", &g), -EINVAL);
	assert_int_equal(m_efi_guid_parse("605dab50-e046-4300-abb6-3dd810dd8bzz", &g), -EINVAL);
}

/* ---- FAT12 ---- */

/* 512-byte sectors, 1 per cluster, 1 reserved, 2 FATs of 1 sector, 16 root entries, 64 sectors */
static void test_fat_root(void **state)
{
	static uint8_t img[64 * 512];
	uint8_t *fat = img + 512, *root = img + 3 * 512, *out;
	size_t len, data = 4 * 512;	/* data area: after the root directory (1 sector) */

	(void)state;
	memset(img, 0, sizeof(img));
	img[11] = 0x00, img[12] = 0x02;	/* 512 */
	img[13] = 1;
	img[14] = 1;
	img[16] = 2;
	img[17] = 16;
	img[19] = 64;
	img[22] = 1;
	/* grub.cfg: 700 bytes in clusters 2 -> 5 (12-bit entries: 2 -> 5, 5 -> end) */
	fat[3] = 0x05, fat[4] = 0x00;		/* entry 2 = 0x005 (entries 2,3 share bytes 3..5) */
	fat[7] = 0xf0, fat[8] = 0xff;		/* entry 5 = 0xfff (odd: high 12 bits of bytes 7..8) */
	memcpy(root, "OTHER   TXT", 11);
	memcpy(root + 32, "GRUB    CFG", 11);
	root[32 + 26] = 2;
	root[32 + 28] = 700 & 0xff, root[32 + 29] = 700 >> 8;
	memset(img + data + 0 * 512, 'a', 512);	/* cluster 2 */
	memset(img + data + 3 * 512, 'b', 512);	/* cluster 5 */
	assert_int_equal(m_fat_root_file(img, sizeof(img), "grub.cfg", &out, &len), 0);
	assert_int_equal(len, 700);
	for (size_t i = 0; i < 700; i++)
		assert_int_equal(out[i], i < 512 ? 'a' : 'b');
	free(out);
	assert_int_equal(m_fat_root_file(img, sizeof(img), "none.cfg", &out, &len), -ENOENT);
	fat[7] = 0x20, fat[8] = 0x00;		/* entry 5 -> cluster 2: a loop */
	assert_int_equal(m_fat_root_file(img, sizeof(img), "grub.cfg", &out, &len), 0);	/* ends by size */
	free(out);
	root[32 + 28] = 0xff, root[32 + 29] = 0xff;	/* 65535 bytes through a loop: refused */
	assert_int_equal(m_fat_root_file(img, sizeof(img), "grub.cfg", &out, &len), -EINVAL);
}

/* ---- GRUB scripts ---- */

struct rec { char log[4096]; const char *files[8][2]; };

/* files by their full name, "(hd0,gpt1)/vmlinuz" */
static const char *lookup(struct rec *r, const char *dev, const char *path)
{
	char full[256];

	snprintf(full, sizeof(full), "(%s)%s", dev, path);
	for (int i = 0; i < 8 && r->files[i][0]; i++)
		if (!strcmp(r->files[i][0], full))
			return r->files[i][1];
	return NULL;
}

static int rd(void *arg, const char *dev, const char *path, const char *name, uint8_t **ret, size_t *ret_len)
{
	struct rec *r = arg;
	const char *f = lookup(r, dev, path);

	if (!f)
		return -ENOENT;
	*ret = (uint8_t *)strdup(f);
	*ret_len = strlen(f);
	snprintf(r->log + strlen(r->log), sizeof(r->log) - strlen(r->log), "FILE %s\n", name);
	return 0;
}

static int kd(void *arg, const char *dev, const char *path)
{
	if (!strcmp(dev, "hd0,gpt1") && !strcmp(path, "/EFI/debian"))
		return 2;
	return lookup(arg, dev, path) ? 1 : 0;
}

static int ms(void *arg, const char *prefix, const char *s)
{
	struct rec *r = arg;

	snprintf(r->log + strlen(r->log), sizeof(r->log) - strlen(r->log), "%s%s\n", prefix, s);
	return 0;
}

static int lk(void *arg, const char *dev, const char *path)
{
	struct rec *r = arg;

	snprintf(r->log + strlen(r->log), sizeof(r->log) - strlen(r->log), "KERNEL (%s)%s\n", dev, path);
	return 0;
}

static int run(struct rec *r, const char *script)
{
	struct m_grub_ops ops = { rd, kd, ms, lk, r, NULL, NULL, NULL };

	return m_grub_run(script, strlen(script), "hd0,gpt1", "(hd0,gpt1)/EFI/debian", "(hd0,gpt1)/EFI/BOOT", &ops);
}

static void test_grub_script(void **state)
{
	static const char boot[] =
		"if [ -z \"$prefix\" -o ! -e \"$prefix\" ]; then\n"
		"\tset prefix=($root)/boot/grub\n"
		"fi\n"
		"if [ -e $prefix/a.cfg ]; then source $prefix/a.cfg\n"
		"elif [ -e $prefix/grub.cfg ]; then\n"
		"\tsource $prefix/grub.cfg\n"
		"else\n"
		"\tsource $cmdpath/grub.cfg\n"
		"fi\n";
	static const char cfg[] =
		"# a comment\n"
		"set timeout=0 default=1\n"
		"x=1\n"
		"menuentry 'First' { linux /other }\n"
		"menuentry 'Debian GNU/Linux' --class debian {\n"
		"\tlinux /vmlinuz root=/dev/vda2 \"a b\" it\\'s $x\n"
		"\tinitrd /initrd.img\n"
		"}\n";
	static const char want[] =
		"grub_cmd: [ -z (hd0,gpt1)/EFI/debian -o ! -e (hd0,gpt1)/EFI/debian ]\n"
		"grub_cmd: [ -e (hd0,gpt1)/EFI/debian/a.cfg ]\n"
		"grub_cmd: [ -e (hd0,gpt1)/EFI/debian/grub.cfg ]\n"
		"grub_cmd: source (hd0,gpt1)/EFI/debian/grub.cfg\n"
		"FILE (hd0,gpt1)/EFI/debian/grub.cfg\n"
		"grub_cmd: set timeout=0 default=1\n"
		"grub_cmd: x=1\n"
		"grub_cmd: menuentry First { linux /other }\n"
		"grub_cmd: menuentry Debian GNU/Linux --class debian {\n"
		"\tlinux /vmlinuz root=/dev/vda2 \"a b\" it\\'s $x\n"
		"\tinitrd /initrd.img\n"
		"}\n"
		"grub_cmd: setparams Debian GNU/Linux\n"
		"grub_cmd: linux /vmlinuz root=/dev/vda2 a b it's 1\n"
		"FILE /vmlinuz\n"
		"KERNEL (hd0,gpt1)/vmlinuz\n"
		"kernel_cmdline: /vmlinuz root=/dev/vda2 \"a b\" it\\'s 1\n"
		"grub_cmd: initrd /initrd.img\n"
		"FILE /initrd.img\n";
	struct rec r = { .files = { { "(hd0,gpt1)/EFI/debian/grub.cfg", cfg }, { "(hd0,gpt1)/vmlinuz", "K" },
				    { "(hd0,gpt1)/initrd.img", "I" } } };

	(void)state;
	int e = run(&r, boot);
	if (e) fprintf(stderr, "%s\n%s\n", m_errmsg(e), r.log);
	assert_int_equal(e, 0);
	assert_string_equal(r.log, want);
}

static void test_grub_refuses(void **state)
{
	struct rec r = { .files = { { "(hd0,gpt1)/vmlinuz", "K" } } };

	(void)state;
	assert_int_equal(run(&r, "for x in a b; do echo $x; done\nlinux /vmlinuz\n"), -ENOTSUP);
	memset(r.log, 0, sizeof(r.log));
	assert_int_equal(run(&r, "if [ -e /vmlinuz ]; then\nlinux /vmlinuz\n"), -EINVAL);
	memset(r.log, 0, sizeof(r.log));
	assert_int_equal(run(&r, "echo nothing boots\n"), -EINVAL);
	memset(r.log, 0, sizeof(r.log));
	assert_int_equal(run(&r, "search --fs-uuid 1234 --set=root\nlinux /vmlinuz\n"), -ENOTSUP);
	memset(r.log, 0, sizeof(r.log));
	assert_int_equal(run(&r, "linux /vmlinuz 'unterminated\n"), -EINVAL);
	memset(r.log, 0, sizeof(r.log));
	/* "!" inverts and is measured with the rest (execute.c builds the
	 * string before it looks at "!"); boot stops the script */
	assert_int_equal(run(&r, "if ! [ -e /none ]; then linux /vmlinuz; fi\nboot\necho after\n"), 0);
	assert_string_equal(r.log, "grub_cmd: ! [ -e /none ]\ngrub_cmd: linux /vmlinuz\nFILE /vmlinuz\n"
			    "KERNEL (hd0,gpt1)/vmlinuz\nkernel_cmdline: /vmlinuz\ngrub_cmd: boot\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_efivars_store),
		cmocka_unit_test(test_efivarfs_dir),
		cmocka_unit_test(test_variable_data),
		cmocka_unit_test(test_guid_parse),
		cmocka_unit_test(test_fat_root),
		cmocka_unit_test(test_grub_script),
		cmocka_unit_test(test_grub_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The GRUB interpreter on the grub.cfg Debian 12's grub-mkconfig writes
 * (tests/data/grub, README there), checked against what Debian's signed
 * GRUB itself measured booting exactly these files under OVMF with swtpm
 * (boot-efi.tcglog): every PCR 8 string and its SHA-256, every PCR 9 file
 * name, and the digest of each configuration file GRUB read.  Then the
 * parser's refusals and limits, each naming its line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "measured/chain.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "measured/file.h"
#include "test_data.h"

#define UUID "3c1b5d2e-8f4a-4b6c-9d7e-1a2b3c4d5e6f"
#define MAXEV 256

struct ev { unsigned pcr; char *desc; uint8_t sha256[32]; bool have_digest; };
struct run {
	struct ev ev[MAXEV];
	int n;
	const char *grubcfg;	/* tests/data/grub file for (hd0,gpt2)/boot/grub/grub.cfg */
	const char *grubenv;	/* tests/data/grub file for its grubenv, NULL: none */
	char mods[2048];
};

static char *data_path(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/grub/%s", test_data_dir(), name) > 0);
	return p;
}

static void sha256(const void *d, size_t n, uint8_t out[32])
{
	unsigned len = 32;

	assert_int_equal(EVP_Digest(d, n, out, &len, EVP_sha256(), NULL), 1);
}

static void add(struct run *r, unsigned pcr, const char *desc, const void *d, size_t n)
{
	assert_true(r->n < MAXEV);
	r->ev[r->n].pcr = pcr;
	r->ev[r->n].desc = strdup(desc);
	sha256(d, n, r->ev[r->n].sha256);
	r->ev[r->n].have_digest = true;
	r->n++;
}

/* the boot's files: ESP (hd0,gpt1), the system (hd0,gpt2) */
static const char *data_file(struct run *r, const char *dev, const char *path)
{
	if (!strcmp(dev, "hd0,gpt1") && !strcmp(path, "/EFI/debian/grub.cfg"))
		return "esp-grub.cfg";
	if (!strcmp(dev, "hd0,gpt2") && !strcmp(path, "/boot/grub/grub.cfg"))
		return r->grubcfg;
	if (!strcmp(dev, "hd0,gpt2") && !strcmp(path, "/boot/grub/grubenv"))
		return r->grubenv;
	return NULL;
}

static int rd(void *arg, const char *dev, const char *path, const char *name, uint8_t **ret, size_t *ret_len)
{
	struct run *r = arg;
	const char *f = data_file(r, dev, path);
	char *p;
	int e;

	if (!strcmp(dev, "hd0,gpt2") && (!strcmp(path, "/boot/vmlinuz-6.1.0-57-amd64") ||
					 !strcmp(path, "/boot/initrd.img-6.1.0-57-amd64"))) {
		*ret = (uint8_t *)strdup("not the real one");
		*ret_len = 16;
		add(r, 9, name, "", 0);
		r->ev[r->n - 1].have_digest = false;
		return 0;
	}
	if (!f)
		return -ENOENT;
	p = data_path(f);
	e = m_read_file(p, 1 << 20, ret, ret_len);
	free(p);
	if (e == 0)
		add(r, 9, name, *ret, *ret_len);
	return e;
}

static int kd(void *arg, const char *dev, const char *path)
{
	struct run *r = arg;

	if (!strcmp(dev, "hd0,gpt1") && !strcmp(path, "/EFI/debian"))
		return 2;
	if (!strcmp(dev, "hd0,gpt2") && (!strcmp(path, "/boot/grub/fonts/unicode.pf2") ||
					 !strcmp(path, "/boot/vmlinuz-6.1.0-57-amd64") ||
					 !strcmp(path, "/boot/initrd.img-6.1.0-57-amd64")))
		return 1;
	return data_file(r, dev, path) ? 1 : 0;
}

static int ms(void *arg, const char *prefix, const char *s)
{
	struct run *r = arg;
	char *desc;

	assert_true(asprintf(&desc, "%s%s", prefix, s) > 0);
	add(r, 8, desc, s, strlen(s));
	free(desc);
	return 0;
}

static int lk(void *arg, const char *dev, const char *path)
{
	(void)arg;
	assert_string_equal(dev, "hd0,gpt2");
	assert_string_equal(path, "/boot/vmlinuz-6.1.0-57-amd64");
	return 0;
}

static const char *uu(void *arg, const char *uuid)
{
	(void)arg;
	return !strcmp(uuid, UUID) ? "hd0,gpt2" : NULL;
}

/* the modules Debian's signed grubx64.efi holds (listed from its mods section) */
static bool bi(void *arg, const char *name)
{
	struct run *r = arg;
	char *p = r->mods;
	size_t n = strlen(name);

	while ((p = strstr(p, name)))
		if ((p == r->mods || p[-1] == '\n') && p[n] == '\n')
			return true;
		else
			p++;
	return false;
}

static bool md(void *arg, const char *path)
{
	(void)arg;
	return !strcmp(path, "/fonts/unicode.pf2");	/* the memdisk: grub.cfg, fonts/unicode.pf2 */
}

static int run_debian(struct run *r)
{
	struct m_grub_ops ops = { rd, kd, ms, lk, r, uu, bi, md };
	char *p = data_path("memdisk-grub.cfg"), *m = data_path("modules-grubx64-signed.txt");
	uint8_t *cfg, *mods;
	size_t len, mlen;
	int e;

	assert_int_equal(m_read_file(p, 1 << 20, &cfg, &len), 0);
	assert_int_equal(m_read_file(m, sizeof(r->mods) - 1, &mods, &mlen), 0);
	memcpy(r->mods, mods, mlen);
	r->mods[mlen] = '\0';
	e = m_grub_run((const char *)cfg, len, "hd0,gpt1", "(hd0,gpt1)/EFI/debian", "(hd0,gpt1)/EFI/BOOT", &ops);
	free(cfg);
	free(mods);
	free(p);
	free(m);
	return e;
}

static void run_free(struct run *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->ev[i].desc);
	r->n = 0;
}

static void test_debian_grub_cfg(void **state)
{
	struct run r = { .grubcfg = "grub.cfg-efi", .grubenv = "grubenv" };
	struct m_log *log;
	char *p = data_path("boot-efi.tcglog");
	int k = 0, e;

	(void)state;
	assert_int_equal(m_log_load(p, &log), 0);
	free(p);
	e = run_debian(&r);
	if (e)
		fprintf(stderr, "%s\n", m_errmsg(e));
	assert_int_equal(e, 0);
	for (size_t i = 0; i < log->count; i++) {
		const struct m_event *ev = &log->ev[i];

		if (ev->pcr != 8 && ev->pcr != 9)
			continue;
		assert_true(k < r.n);
		assert_int_equal(r.ev[k].pcr, ev->pcr);
		/* EV_IPL data: the string and its NUL */
		assert_int_equal(ev->data_len, strlen(r.ev[k].desc) + 1);
		assert_memory_equal(ev->data, r.ev[k].desc, ev->data_len);
		if (r.ev[k].have_digest)
			assert_memory_equal(ev->digest[M_SHA256], r.ev[k].sha256, 32);
		k++;
	}
	assert_int_equal(k, r.n);
	assert_int_equal(k, 60);	/* PCR 8 and 9 events of the boot, every one compared */
	m_log_free(log);
	run_free(&r);
}

/* GRUB's i386-pc variant parses and runs the same way (only its part_msdos names differ) */
static void test_debian_bios_variant(void **state)
{
	struct run r = { .grubcfg = "grub.cfg-bios", .grubenv = "grubenv" };

	(void)state;
	/* its search names hd0,msdos2: the UUID still finds (hd0,gpt2) here, as given */
	assert_int_equal(run_debian(&r), 0);
	assert_string_equal(r.ev[r.n - 1].desc, "/boot/initrd.img-6.1.0-57-amd64");
	run_free(&r);
}

/* small scripts, run as the memdisk's configuration */
struct mini { char log[8192]; };

static int mrd(void *arg, const char *dev, const char *path, const char *name, uint8_t **ret, size_t *ret_len)
{
	struct mini *m = arg;

	(void)dev;
	if (strcmp(path, "/vmlinuz") && strcmp(path, "/grubenv") && strcmp(path, "/p/x86_64-efi/fs.lst"))
		return -ENOENT;
	*ret = (uint8_t *)strdup(!strcmp(path, "/grubenv") ? "# GRUB Environment Block\nnext_entry=b\\\\c\n####" : "K");
	*ret_len = strlen((char *)*ret);
	snprintf(m->log + strlen(m->log), sizeof(m->log) - strlen(m->log), "FILE %s\n", name);
	return 0;
}

static int mkd(void *arg, const char *dev, const char *path)
{
	(void)arg;
	(void)dev;
	return !strcmp(path, "/vmlinuz") || !strcmp(path, "/grubenv") || !strcmp(path, "/p/x86_64-efi/fs.lst");
}

static int mms(void *arg, const char *prefix, const char *s)
{
	struct mini *m = arg;

	snprintf(m->log + strlen(m->log), sizeof(m->log) - strlen(m->log), "%s%s\n", prefix, s);
	return 0;
}

static int mlk(void *arg, const char *dev, const char *path)
{
	(void)arg;
	(void)dev;
	(void)path;
	return 0;
}

static int mini(struct mini *m, const char *script)
{
	struct m_grub_ops ops = { mrd, mkd, mms, mlk, m, uu, NULL, NULL };

	memset(m->log, 0, sizeof(m->log));
	return m_grub_run(script, strlen(script), "hd0,gpt1", "(hd0,gpt1)", "(hd0,gpt1)/EFI/BOOT", &ops);
}

static void test_words_and_menus(void **state)
{
	struct mini m;

	(void)state;
	/* empty quoted words stay, empty unquoted ones go; values split unquoted;
	 * functions see $1; the default by "submenu>entry" path; $chosen */
	assert_int_equal(mini(&m, "e=\nv='a  b'\n"
				  "function f { echo \"$1\" $1 $# ; }\n"
				  "f \"$v\" $e x\n"
				  "[ \"$e\" ] $e\n"
				  "set timeout=1 default='s>t2'\n"
				  "submenu S --id s { menuentry T1 --id t1 { linux /none; }; menuentry T2 --id t2 { echo $1 $chosen; linux /vmlinuz; }; }\n"), 0);
	assert_string_equal(m.log,
			    "grub_cmd: e=\n"
			    "grub_cmd: v=a  b\n"
			    "grub_cmd: f a  b x\n"
			    "grub_cmd: echo a  b a b 2\n"
			    "grub_cmd: [  ]\n"
			    "grub_cmd: set timeout=1 default=s>t2\n"
			    "grub_cmd: submenu S --id s { menuentry T1 --id t1 { linux /none; }; menuentry T2 --id t2 "
			    "{ echo $1 $chosen; linux /vmlinuz; }; }\n"
			    "grub_cmd: setparams S\n"
			    "grub_cmd: menuentry T1 --id t1 { linux /none; }\n"
			    "grub_cmd: menuentry T2 --id t2 { echo $1 $chosen; linux /vmlinuz; }\n"
			    "grub_cmd: setparams T2\n"
			    "grub_cmd: echo T2 s>t2\n"
			    "grub_cmd: linux /vmlinuz\n"
			    "FILE /vmlinuz\n"
			    "kernel_cmdline: /vmlinuz\n");
	/* load_env: the file is read (PCR 9), its \ escapes undone */
	assert_int_equal(mini(&m, "load_env\necho $next_entry\nlinux /vmlinuz\n"), 0);
	assert_string_equal(m.log, "grub_cmd: load_env\nFILE (hd0,gpt1)/grubenv\ngrub_cmd: echo b\\c\n"
			    "grub_cmd: linux /vmlinuz\nFILE /vmlinuz\nkernel_cmdline: /vmlinuz\n");
	/* --unrestricted boots without a password */
	assert_int_equal(mini(&m, "set superusers=root timeout=0\nmenuentry a --unrestricted { linux /vmlinuz; }\n"), 0);
	/* a new prefix: GRUB reads the module lists there (normal/main.c read_lists) */
	assert_int_equal(mini(&m, "set prefix=(hd0,gpt1)/p\nlinux /vmlinuz\n"), 0);
	assert_string_equal(m.log, "grub_cmd: set prefix=(hd0,gpt1)/p\nFILE (hd0,gpt1)/p/x86_64-efi/fs.lst\n"
			    "grub_cmd: linux /vmlinuz\nFILE /vmlinuz\nkernel_cmdline: /vmlinuz\n");
}

static void refuses(const char *script, int err, const char *msg)
{
	struct mini m;
	int e = mini(&m, script);

	if (e != err || !strstr(m_errmsg(e), msg))
		fprintf(stderr, "got %d '%s'\n", e, m_errmsg(e));
	assert_int_equal(e, err);
	assert_non_null(strstr(m_errmsg(e), msg));
}

static void test_refusals(void **state)
{
	char *deep = malloc(64 * 12 + 64), *p;

	(void)state;
	refuses("echo\nsearch --no-floppy --fs-uuid --set=root 1234-5678\n", -ENOTSUP,
		"(memdisk)/grub.cfg line 2: search: no file system given has UUID 1234-5678");
	refuses("function f\n\n{ echo; }\nf x\nfunction g\necho\n", -EINVAL,
		"line 5: function without a name and a { body }");
	refuses("\n\nsearch --file --set=root /x\n", -ENOTSUP, "line 3: search --file");
	refuses("insmod nosuch\n", -ENOTSUP, "line 1: insmod nosuch: not built into");
	refuses("for x in a; do echo; done\n", -ENOTSUP, "line 1: 'for' loops");
	refuses("echo\nwhile true; do echo; done\n", -ENOTSUP, "line 2: 'while' loops");
	refuses("echo *\n", -ENOTSUP, "line 1: an unquoted * or ?");
	refuses("echo $?\n", -ENOTSUP, "line 1: the value of $? depends");
	refuses("menuentry a { linux /vmlinuz; }\n", -ENOTSUP, "timeout is ''");
	refuses("echo a | b\n", -EINVAL, "line 1: '|' is not GRUB script syntax");
	refuses("echo\n\nif true; then\necho\n", -EINVAL, "line 3: if without fi");
	refuses("menuentry a {\n linux /x\n", -EINVAL, "a { block without its }");
	char longname[200] = "echo $";

	memset(longname + 6, 'v', 140);
	refuses(longname, -E2BIG, "line 1: a variable name over 126 bytes");
	refuses("menuentry x '{'\n", -ENOTSUP, "line 1: menuentry without a { block }");
	refuses("chainloader /x\n", -ENOTSUP, "line 1: 'chainloader' is not predicted");
	refuses("set superusers=root timeout=0\nmenuentry a { linux /vmlinuz; }\n", -ENOTSUP,
		"entry 'a' asks for a password");
	refuses("if foo; then linux /vmlinuz; fi\n", -ENOTSUP, "whether 'foo' succeeds");
	refuses("set theme=/t.txt\n", -ENOTSUP, "a theme");
	refuses("function f { f; }\nf\n", -ELOOP, "function calls nested deeper than 32");
	refuses("echo \"unterminated\n", -EINVAL, "line 1: a quote without its end");
	/* 40 nested ifs: over GRUB_MAX_NEST */
	assert_non_null(deep);
	p = deep;
	for (int i = 0; i < 40; i++)
		p += sprintf(p, "if true; then\n");
	for (int i = 0; i < 40; i++)
		p += sprintf(p, "fi\n");
	refuses(deep, -ELOOP, "line 33: if nested deeper than 32");
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_grub_cfg),
		cmocka_unit_test(test_debian_bios_variant),
		cmocka_unit_test(test_words_and_menus),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

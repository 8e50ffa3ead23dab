// SPDX-License-Identifier: MIT
/* Arguments, configuration, context strings, XenStore paths, type: prefixes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "svirt.h"
#include "measured/error.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int domid_of(enum svirt_domid_mode mode, int pos, int argc, char **argv, unsigned *d)
{
	struct svirt_config c;
	svirt_config_defaults(&c);
	c.domid_mode = mode;
	c.domid_pos = pos;
	return svirt_find_domid(&c, argc, argv, d);
}

static void test_domid(void **state)
{
	(void)state;
	unsigned d = 99;
	char *a1[] = { "-machine", "xenfv", "-xen-domid", "7", "-m", "512" };
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(a1), a1, &d), 0);
	assert_int_equal(d, 7);
	char *a2[] = { "-d", "12", "-serial", "pty" };
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(a2), a2, &d), 0);
	assert_int_equal(d, 12);
	/* upstream QEMU's -d takes log items: -xen-domid wins */
	char *a3[] = { "-d", "guest_errors", "-xen-domid", "3" };
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(a3), a3, &d), 0);
	assert_int_equal(d, 3);
	char *a4[] = { "5", "-foo" };
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(a4), a4, &d), 0);
	assert_int_equal(d, 5);
	char *a5[] = { "-x", "9" };
	assert_int_equal(domid_of(SVIRT_DOMID_POS, 2, N(a5), a5, &d), 0);
	assert_int_equal(d, 9);
	assert_int_equal(domid_of(SVIRT_DOMID_POS, 3, N(a5), a5, &d), -EINVAL);
	char *a6[] = { "--xen-domid", "4" };
	assert_int_equal(domid_of(SVIRT_DOMID_XEN_DOMID, 0, N(a6), a6, &d), 0);
	assert_int_equal(d, 4);
	assert_int_equal(domid_of(SVIRT_DOMID_D, 0, N(a6), a6, &d), -EINVAL);
	char *a7[] = { "-d", "8" };
	assert_int_equal(domid_of(SVIRT_DOMID_D, 0, N(a7), a7, &d), 0);
	assert_int_equal(d, 8);
	assert_int_equal(domid_of(SVIRT_DOMID_XEN_DOMID, 0, N(a7), a7, &d), -EINVAL);

	d = 1234;
	char *bad1[] = { "-xen-domid", "1", "-xen-domid", "2" };
	char *bad2[] = { "-xen-domid", "32752" };
	char *bad3[] = { "-xen-domid", "007" };
	char *bad4[] = { "-xen-domid" };
	char *bad5[] = { "-m", "512" };
	char *bad6[] = { "-xen-domid", "-1" };
	char *bad7[] = { "-xen-domid", "5x" };
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(bad1), bad1, &d), -EINVAL);
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(bad2), bad2, &d), -EINVAL);
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(bad3), bad3, &d), -EINVAL);
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(bad4), bad4, &d), -EINVAL);
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(bad5), bad5, &d), -EINVAL);
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(bad6), bad6, &d), -EINVAL);
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(bad7), bad7, &d), -EINVAL);
	assert_int_equal(d, 1234); /* untouched on failure */
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, 0, NULL, &d), -EINVAL);
	char *ok[] = { "-xen-domid", "32751" };
	assert_int_equal(domid_of(SVIRT_DOMID_AUTO, 0, N(ok), ok, &d), 0);
	assert_int_equal(d, 32751);
}

/* --domid: QEMU/KVM's arguments carry no domain id; on Xen a -xen-domid
 * that disagrees is refused rather than believed or overridden. */
static void test_domid_given(void **state)
{
	(void)state;
	struct svirt_config c;
	unsigned d = 99;
	svirt_config_defaults(&c);
	c.domid_mode = SVIRT_DOMID_GIVEN;
	c.domid_given = 6;
	char *kvm[] = { "-name", "vm", "-echr", "3", "-d", "guest_errors" };
	assert_int_equal(svirt_find_domid(&c, N(kvm), kvm, &d), 0);
	assert_int_equal(d, 6);
	assert_int_equal(svirt_find_domid(&c, 0, NULL, &d), 0);
	assert_int_equal(d, 6);
	char *same[] = { "-xen-domid", "6" };
	assert_int_equal(svirt_find_domid(&c, N(same), same, &d), 0);
	assert_int_equal(d, 6);
	d = 1234;
	char *other[] = { "-xen-domid", "7" };
	assert_int_equal(svirt_find_domid(&c, N(other), other, &d), -EINVAL);
	assert_string_equal(m_errmsg(-EINVAL), "--domid 6 but QEMU's -xen-domid is 7");
	char *bad[] = { "-xen-domid", "x" };
	assert_int_equal(svirt_find_domid(&c, N(bad), bad, &d), -EINVAL);
	char *twice[] = { "-xen-domid", "6", "-xen-domid", "7" };
	assert_int_equal(svirt_find_domid(&c, N(twice), twice, &d), -EINVAL);
	assert_int_equal(d, 1234);
}

static void test_disks_from_args(void **state)
{
	(void)state;
	struct svirt_disklist l = { 0 };
	char *a[] = { "-drive", "file=/a.img,if=ide", "-drive", "file=/cd.iso,media=cdrom",
		      "-drive", "if=virtio,file=/b,,c.img,readonly=off", "-drive",
		      "file=/ro.img,readonly=on", "-hda", "/h.img", "-cdrom", "/x.iso",
		      "-drive", "if=none,id=empty", "--drive", "file=/a.img" };
	assert_int_equal(svirt_disks_from_args(N(a), a, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.d[0].path, "/a.img");
	assert_string_equal(l.d[1].path, "/b,c.img");
	assert_string_equal(l.d[2].path, "/h.img");
	svirt_disklist_free(&l);
	char *b1[] = { "-blockdev", "{}" };
	assert_int_equal(svirt_disks_from_args(N(b1), b1, &l), -EOPNOTSUPP);
	char *b2[] = { "-drive", "file=nbd:host:1" };
	assert_int_equal(svirt_disks_from_args(N(b2), b2, &l), -EINVAL);
	char *b3[] = { "-drive" };
	assert_int_equal(svirt_disks_from_args(N(b3), b3, &l), -EINVAL);
	svirt_disklist_free(&l);
}

static void test_config(void **state)
{
	(void)state;
	struct svirt_config c;
	svirt_config_defaults(&c);
	assert_int_equal(c.cat_lo, 1);
	assert_int_equal(c.cat_hi, 1023);
	assert_int_equal(c.store, SVIRT_STORE_XENSTORE);
	/* The defaults a host of the original interposer runs unchanged. */
	assert_string_equal(c.qemu, "/opt/xensource/libexec/qemu-dm-wrapper-old");
	assert_int_equal(c.mcs_format, SVIRT_MCS_NUMBER);
	assert_int_equal(c.existing, SVIRT_EXISTING_REUSE);
	assert_false(c.close_fds);
	assert_false(c.clear_env);
	const char *t3 = "mcs-format=range\nexisting-label=refuse\nclose-fds=yes\nenvironment=clear\n";
	assert_int_equal(svirt_config_parse(&c, t3, strlen(t3), "t.conf"), 0);
	assert_int_equal(c.mcs_format, SVIRT_MCS_RANGE);
	assert_int_equal(c.existing, SVIRT_EXISTING_REFUSE);
	assert_true(c.close_fds);
	assert_true(c.clear_env);
	const char *t = "# comment\n\n  qemu = /usr/bin/qemu-x  \nstore=dir\nstate-dir=/run/x\n"
			"categories=10-20\npairs=yes\non-selinux-disabled=refuse\n"
			"domid-arg=2\ndisks=none\r\n";
	assert_int_equal(svirt_config_parse(&c, t, strlen(t), "t.conf"), 0);
	assert_string_equal(c.qemu, "/usr/bin/qemu-x");
	assert_int_equal(c.store, SVIRT_STORE_DIR);
	assert_string_equal(c.state_dir, "/run/x");
	assert_int_equal(c.cat_lo, 10);
	assert_int_equal(c.cat_hi, 20);
	assert_true(c.pairs);
	assert_true(c.refuse_if_disabled);
	assert_int_equal(c.domid_mode, SVIRT_DOMID_POS);
	assert_int_equal(c.domid_pos, 2);
	assert_int_equal(c.disks, SVIRT_DISKS_NONE);
	const char *t2 = "domid-arg=-xen-domid\n";
	assert_int_equal(svirt_config_parse(&c, t2, strlen(t2), "t.conf"), 0);
	assert_int_equal(c.domid_mode, SVIRT_DOMID_XEN_DOMID);

	struct { const char *text; const char *msg; } bad[] = {
		{ "store=dir\n\nfoo=1\n", "t.conf:3: unknown key 'foo'" },
		{ "categories=0-5\n", "t.conf:1: bad value '0-5' for categories" },
		{ "categories=5-5\n", "t.conf:1: bad value" },
		{ "categories=5-1024\n", "t.conf:1: bad value" },
		{ "pairs=maybe\n", "t.conf:1: bad value" },
		{ "qemu=relative/path\n", "t.conf:1: bad value" },
		{ "store\n", "t.conf:1: expected key=value" },
		{ "domid-arg=0\n", "t.conf:1: bad value" },
		{ "store=%s%n\n", "t.conf:1: bad value '%s%n' for store" },
		{ "mcs-format=s0\n", "t.conf:1: bad value 's0' for mcs-format" },
		{ "existing-label=replace\n", "t.conf:1: bad value 'replace' for existing-label" },
		{ "close-fds=1\n", "t.conf:1: bad value '1' for close-fds" },
		{ "environment=\n", "t.conf:1: bad value '' for environment" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		svirt_config_defaults(&c);
		int r = svirt_config_parse(&c, bad[i].text, strlen(bad[i].text), "t.conf");
		assert_int_equal(r, -EINVAL);
		assert_non_null(strstr(m_errmsg(r), bad[i].msg));
	}
	char nul[] = "store=dir\0x\n";
	assert_int_equal(svirt_config_parse(&c, nul, sizeof(nul) - 1, "t.conf"), -EINVAL);
	char *big = calloc(SVIRT_CONF_MAX + 2, 1);
	memset(big, '#', SVIRT_CONF_MAX + 1);
	assert_int_equal(svirt_config_parse(&c, big, SVIRT_CONF_MAX + 1, "t.conf"), -EFBIG);
	memset(big, '#', SVIRT_CONF_LINE_MAX + 1);
	big[SVIRT_CONF_LINE_MAX + 1] = '\n';
	assert_int_equal(svirt_config_parse(&c, big, SVIRT_CONF_LINE_MAX + 2, "t.conf"), -EINVAL);
	free(big);
	assert_int_equal(svirt_config_load(&c, "/nonexistent/svirt.conf", true), 0);
	assert_int_equal(svirt_config_load(&c, "/nonexistent/svirt.conf", false), -ENOENT);
}

static void test_context(void **state)
{
	(void)state;
	char out[SVIRT_CTX_MAX];
	assert_int_equal(svirt_ctx_set_range("system_u:object_r:svirt_image_t:s0", "s0:c5", out,
					     sizeof(out)), 0);
	assert_string_equal(out, "system_u:object_r:svirt_image_t:s0:c5");
	assert_int_equal(svirt_ctx_set_range("unconfined_u:object_r:user_home_t:s0-s0:c0.c1023",
					     "s0:c1,c2", out, sizeof(out)), 0);
	assert_string_equal(out, "unconfined_u:object_r:user_home_t:s0:c1,c2");
	assert_int_equal(svirt_ctx_set_range("u:r:t", "s0:c9", out, sizeof(out)), 0);
	assert_string_equal(out, "u:r:t:s0:c9");
	assert_int_equal(svirt_ctx_set_range("u:r", "s0:c9", out, sizeof(out)), -EINVAL);
	assert_int_equal(svirt_ctx_set_range("u::t:s0", "s0:c9", out, sizeof(out)), -EINVAL);
	assert_int_equal(svirt_ctx_set_range(":r:t:s0", "s0:c9", out, sizeof(out)), -EINVAL);
	assert_int_equal(svirt_ctx_set_range("u:r:t:s0", "s0:c9 x", out, sizeof(out)), -EINVAL);
	assert_int_equal(svirt_ctx_set_range("u:r:t:s0", "", out, sizeof(out)), -EINVAL);
	assert_int_equal(svirt_ctx_set_range("u:r:t:s0", "s0:c9", out, 11), -ENAMETOOLONG);
	assert_int_equal(svirt_ctx_set_range("u:r:t:s0", "s0:c9", out, 12), 0);
	assert_string_equal(out, "u:r:t:s0:c9");

	const char *f = "# comment\n\n  system_u:system_r:svirt_t:s0  \r\nsecond:line:x_t:s0\n";
	assert_int_equal(svirt_ctx_first_line(f, strlen(f), out, sizeof(out)), 0);
	assert_string_equal(out, "system_u:system_r:svirt_t:s0");
	assert_int_equal(svirt_ctx_first_line("\n# x\n", 5, out, sizeof(out)), -ENODATA);
	assert_int_equal(svirt_ctx_first_line("a:b:c", 5, out, 5), -ENAMETOOLONG);
}

static void test_xs_paths(void **state)
{
	(void)state;
	char p[64];
	assert_int_equal(svirt_xs_path(p, sizeof(p), "/local/domain/%u/selinux-mcs", 7u), 0);
	assert_string_equal(p, "/local/domain/7/selinux-mcs");
	assert_int_equal(svirt_xs_path(p, 10, "/local/domain/%u", 7u), -ENAMETOOLONG);

	assert_true(svirt_xs_valid_devid("51712"));
	assert_true(svirt_xs_valid_devid("0"));
	assert_false(svirt_xs_valid_devid("012"));
	assert_false(svirt_xs_valid_devid(""));
	assert_false(svirt_xs_valid_devid("a"));
	assert_false(svirt_xs_valid_devid("../x"));
	assert_false(svirt_xs_valid_devid("12345678901"));

	assert_true(svirt_xs_valid_backend("/local/domain/0/backend/vbd/5/51712"));
	assert_true(svirt_xs_valid_backend("/local/domain/0/backend/qdisk/5/768"));
	assert_false(svirt_xs_valid_backend("/local/domain/0/../../tool/x"));
	assert_false(svirt_xs_valid_backend("/local/domain/0/./backend"));
	assert_false(svirt_xs_valid_backend("/tool/x"));
	assert_false(svirt_xs_valid_backend("local/domain/0/backend"));
	assert_false(svirt_xs_valid_backend("/local/domain//backend"));
	assert_false(svirt_xs_valid_backend("/local/domain/0/backend/"));
	assert_false(svirt_xs_valid_backend("/local/domain/0/back end"));
	assert_false(svirt_xs_valid_backend("/local/domainX/0"));
}

static void test_type_prefix(void **state)
{
	(void)state;
	struct { const char *in, *out; } ok[] = {
		{ "/img", "/img" },
		{ "aio:/var/lib/xen/images/a.img", "/var/lib/xen/images/a.img" },
		{ "vhd:/a/b.vhd", "/a/b.vhd" },
		{ "tap2:tapdisk:aio:/x", "/x" },
		{ "file:/dev/sdb", "/dev/sdb" },
		{ "qcow2:/a:b", "/a:b" },
		{ "a:b:c:d:/x", "/x" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *r = svirt_strip_type_prefix(ok[i].in);
		assert_non_null(r);
		assert_string_equal(r, ok[i].out);
	}
	const char *bad[] = { "", "nbd:host:1234", "a:b:c:d:e:/x", "AIO:/x", ":/x", "aio", "aio:",
			      "rel/path", "aio:rel" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(svirt_strip_type_prefix(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domid),
		cmocka_unit_test(test_domid_given),
		cmocka_unit_test(test_disks_from_args),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_xs_paths),
		cmocka_unit_test(test_type_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

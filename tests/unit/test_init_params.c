// SPDX-License-Identifier: MIT
/* Kernel command line parsing for measured-init, and modules.dep order. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "initcore.h"

static void test_defaults(void **state)
{
	(void)state;
	struct mi_params p;

	assert_int_equal(mi_params_parse("BOOT_IMAGE=/vmlinuz console=ttyS0 measured.root=/dev/vda\n", &p), 0);
	assert_string_equal(p.root, "/dev/vda");
	assert_string_equal(p.root_file, "");
	assert_int_equal(p.pcr, 15);
	assert_true(p.overlay);
	assert_int_equal(p.fail, MI_FAIL_HALT);
	assert_string_equal(p.init, "/sbin/init");
	assert_false(p.compat);
}

static void test_all(void **state)
{
	(void)state;
	struct mi_params p;

	assert_int_equal(mi_params_parse("measured.root=LABEL=live:/images/root.img measured.pcr=13 "
					 "measured.overlay=none measured.fstype=squashfs measured.fail=reboot "
					 "\"init=/bin/my init\" measured.timeout=3", &p), 0);
	assert_string_equal(p.root, "LABEL=live");
	assert_string_equal(p.root_file, "/images/root.img");
	assert_int_equal(p.pcr, 13);
	assert_false(p.overlay);
	assert_string_equal(p.fstype, "squashfs");
	assert_int_equal(p.fail, MI_FAIL_REBOOT);
	assert_string_equal(p.init, "/bin/my init");
	assert_int_equal(p.timeout, 3);
}

static void test_compat(void **state)
{
	(void)state;
	struct mi_params p;

	assert_int_equal(mi_params_parse("ro measureroot rootimg=rootfs.img", &p), 0);
	assert_true(p.compat);
	assert_int_equal(p.pcr, 9);
	assert_string_equal(p.root_file, "rootfs.img");
	assert_int_equal(mi_params_parse("measureroot rootimg=rootfs.img rootimgpcr=12", &p), 0);
	assert_int_equal(p.pcr, 12);
	assert_int_equal(mi_params_parse("measureroot", &p), -EINVAL);
	/* the original's forms (flihp/meta-measured init-boot-tpm.sh): rootimg=
	 * alone booted the image unmeasured; here it is the same mode,
	 * measured, at the original's default PCR 9; rootimgpcr= with or
	 * without measureroot; root=, ro and rw were the original's too */
	assert_int_equal(mi_params_parse("root=/dev/ram0 rw rootimg=rootfs.img", &p), 0);
	assert_true(p.compat);
	assert_int_equal(p.pcr, 9);
	assert_string_equal(p.root_file, "rootfs.img");
	assert_int_equal(mi_params_parse("rootimg=rootfs.img rootimgpcr=11", &p), 0);
	assert_true(p.compat);
	assert_int_equal(p.pcr, 11);
	assert_int_equal(mi_params_parse("rootimgpcr=11 rootimg=rootfs.img measureroot", &p), 0);
	assert_int_equal(p.pcr, 11);
	assert_int_equal(mi_params_parse("rootimgpcr=11", &p), -EINVAL);
	/* with measured.root= the file is on that device, current mode, PCR 15 */
	assert_int_equal(mi_params_parse("measured.root=/dev/vdb rootimg=r.img", &p), 0);
	assert_false(p.compat);
	assert_int_equal(p.pcr, 15);
	assert_string_equal(p.root, "/dev/vdb");
	assert_string_equal(p.root_file, "r.img");
}

static void test_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"measured.root=/dev/vda measured.pcr=99", "measured.root=/dev/vda measured.pcr=abc",
		"measured.root=/dev/vda measured.pcr=", "measured.root=/dev/vda measured.pcr=7",
		"measured.root=/dev/vda measured.pcr=16", "measured.root=/dev/vda measured.pcr=23",
		"measured.root=/dev/vda measured.pcr=15x", "measured.root=vda", "measured.root=",
		"console=ttyS0", "measured.root=/dev/vda measured.overlay=yes",
		"measured.root=/dev/vda measured.fstype=ext4,ro", "measured.root=/dev/vda init=sbin/init",
		"measured.root=/dev/../vda", "measured.root=/dev/vda:/../x",
	};
	struct mi_params p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mi_params_parse(bad[i], &p) >= 0)
			fail_msg("accepted: %s", bad[i]);
	}
	/* the configured fail action survives another bad value; a bad one
	 * falls back to halt */
	assert_int_equal(mi_params_parse("measured.fail=shell measured.pcr=99", &p), -EINVAL);
	assert_int_equal(p.fail, MI_FAIL_SHELL);
	assert_int_equal(mi_params_parse("measured.root=/dev/vda measured.fail=continue", &p), -EINVAL);
	assert_int_equal(p.fail, MI_FAIL_HALT);
}

static void test_long(void **state)
{
	(void)state;
	char *line = malloc(MI_CMDLINE_MAX + 10);
	struct mi_params p;

	memset(line, 'a', MI_CMDLINE_MAX + 9);
	line[MI_CMDLINE_MAX + 9] = '\0';
	assert_int_equal(mi_params_parse(line, &p), -E2BIG);
	free(line);
}

static void test_moddep(void **state)
{
	(void)state;
	static const char dep[] =
		"kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n"
		"kernel/fs/jbd2/jbd2.ko:\n"
		"kernel/lib/crc16.ko:\n"
		"kernel/fs/mbcache.ko:\n"
		"kernel/drivers/char/virtio-rng.ko: kernel/drivers/virtio/virtio.ko\n"
		"kernel/drivers/virtio/virtio.ko:\n";
	struct mi_moddep *m;
	const char **order;
	size_t n;
	const char *want[] = { "virtio_rng", "ext4" };
	char name[64];

	assert_int_equal(mi_moddep_parse(dep, strlen(dep), &m), 0);
	assert_int_equal(mi_moddep_count(m), 6);
	assert_int_equal(mi_moddep_closure(m, want, 2, &order, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(order[0], "kernel/drivers/virtio/virtio.ko");
	assert_string_equal(order[1], "kernel/drivers/char/virtio-rng.ko");
	assert_string_equal(order[5], "kernel/fs/ext4/ext4.ko");
	free(order);
	mi_module_name("kernel/drivers/char/virtio-rng.ko", name, sizeof(name));
	assert_string_equal(name, "virtio_rng");
	const char *missing[] = { "nosuch" };
	assert_int_equal(mi_moddep_closure(m, missing, 1, &order, &n), -ENOENT);
	mi_moddep_free(m);

	static const char loop[] = "a.ko: b.ko\nb.ko: a.ko\n";
	assert_int_equal(mi_moddep_parse(loop, strlen(loop), &m), 0);
	assert_int_equal(mi_moddep_closure(m, NULL, 0, &order, &n), -ELOOP);
	mi_moddep_free(m);
	static const char dangling[] = "a.ko: b.ko\n";
	assert_int_equal(mi_moddep_parse(dangling, strlen(dangling), &m), 0);
	assert_int_equal(mi_moddep_closure(m, NULL, 0, &order, &n), -ENOENT);
	mi_moddep_free(m);
	assert_int_equal(mi_moddep_parse("no colon here\n", 14, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_all), cmocka_unit_test(test_compat),
		cmocka_unit_test(test_bad), cmocka_unit_test(test_long), cmocka_unit_test(test_moddep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

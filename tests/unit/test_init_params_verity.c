// SPDX-License-Identifier: MIT
/* measured-init's measured.verity.* and measured.copy= parameters. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "initcore.h"
#include "measured/error.h"
#include "measured/measure.h"

#define ROOT "18752fb8f3e72a1a53b046d0ba4b571c393ce3bd74ad6f6c04618fceb2269263"

static void test_verity(void **state)
{
	(void)state;
	struct mi_params p;

	assert_int_equal(mi_params_parse("measured.root=/dev/vda measured.verity.roothash=" ROOT
					 " measured.verity.hashoffset=16777216", &p), 0);
	assert_true(p.verity.on);
	assert_int_equal(p.verity.root_len, 32);
	assert_int_equal(p.verity.root[0], 0x18);
	assert_int_equal(p.verity.root[31], 0x63);
	assert_int_equal(p.verity.hash_offset, 16777216);
	assert_string_equal(p.verity.hash_dev, "");
	assert_int_equal(p.verity.error, M_VERITY_EIO);
	assert_false(p.copy_ram);
	assert_int_equal(p.pcr, 15);

	assert_int_equal(mi_params_parse("measured.root=/dev/vda measured.verity.roothash=" ROOT
					 " measured.verity.hash=LABEL=hashes measured.verity.error=panic", &p), 0);
	assert_string_equal(p.verity.hash_dev, "LABEL=hashes");
	assert_int_equal(p.verity.hash_offset, 0);
	assert_int_equal(p.verity.error, M_VERITY_PANIC);
	assert_int_equal(mi_params_parse("measured.root=/dev/vda measured.verity.roothash=" ROOT
					 " measured.verity.hash=/dev/vdb measured.verity.error=restart", &p), 0);
	assert_int_equal(p.verity.error, M_VERITY_RESTART);
	/* sha1's 20 bytes and sha512's 64 */
	assert_int_equal(mi_params_parse("measured.root=/dev/vda measured.verity.hash=/dev/vdb "
					 "measured.verity.roothash=0123456789abcdef0123456789abcdef01234567", &p), 0);
	assert_int_equal(p.verity.root_len, 20);
	/* an image file with verity is not copied */
	assert_int_equal(mi_params_parse("measured.root=/dev/vda:/root.img measured.verity.roothash=" ROOT
					 " measured.verity.hashoffset=4096", &p), 0);
	assert_false(p.copy_ram);
}

static void expect_bad(const char *cmdline, const char *msg)
{
	struct mi_params p;

	assert_int_equal(mi_params_parse(cmdline, &p), -EINVAL);
	assert_non_null(strstr(m_errmsg(-EINVAL), msg));
	assert_int_equal(p.fail, MI_FAIL_HALT);
}

static void test_verity_bad(void **state)
{
	(void)state;
	expect_bad("measured.root=/dev/vda measured.verity.roothash=1234", "expected 40, 64, 96 or 128 hex digits");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT "x measured.verity.hash=/dev/vdb",
		   "expected 40, 64, 96 or 128 hex digits");
	expect_bad("measured.root=/dev/vda measured.verity.roothash="
		   "g8752fb8f3e72a1a53b046d0ba4b571c393ce3bd74ad6f6c04618fceb2269263 measured.verity.hash=/dev/vdb",
		   "expected 40, 64, 96 or 128 hex digits");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT,
		   "a verity root on one device needs measured.verity.hashoffset=");
	expect_bad("measured.root=/dev/vda measured.verity.hashoffset=4096", "measured.verity.* needs measured.verity.roothash=");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT " measured.verity.hashoffset=4097",
		   "a multiple of 512");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT " measured.verity.hashoffset=-1",
		   "expected bytes");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT " measured.verity.hashoffset=99999999999999999999999",
		   "expected bytes");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT " measured.verity.hash=vdb",
		   "measured.verity.hash=vdb: expected /dev/...");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT " measured.verity.hash=/dev/vdb "
		   "measured.verity.error=log", "measured.verity.error=log: expected eio, restart or panic");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT " measured.verity.hash=/dev/vdb "
		   "measured.verity.salt=00", "measured.verity.salt: unknown");
	expect_bad("measured.root=/dev/vda measured.verity.roothash=" ROOT " measured.verity.hash=/dev/vdb measured.copy=ram",
		   "exclude each other");
	expect_bad("measured.verity.roothash=" ROOT " measured.verity.hash=/dev/vdb measureroot rootimg=r.img",
		   "exclude each other");
}

static void test_copy(void **state)
{
	(void)state;
	struct mi_params p;

	assert_int_equal(mi_params_parse("measured.root=/dev/vda", &p), 0);
	assert_false(p.copy_ram);
	assert_int_equal(mi_params_parse("measured.root=/dev/vda measured.copy=ram", &p), 0);
	assert_true(p.copy_ram);
	/* a live image (an image file on a medium) is copied unless told not to */
	assert_int_equal(mi_params_parse("measured.root=LABEL=live:/images/root.img", &p), 0);
	assert_true(p.copy_ram);
	assert_int_equal(mi_params_parse("measured.root=LABEL=live:/images/root.img measured.copy=none", &p), 0);
	assert_false(p.copy_ram);
	assert_int_equal(mi_params_parse("measureroot rootimg=root.img", &p), 0);
	assert_true(p.copy_ram);
	expect_bad("measured.root=/dev/vda measured.copy=disk", "measured.copy=disk: expected ram or none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verity),
		cmocka_unit_test(test_verity_bad),
		cmocka_unit_test(test_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

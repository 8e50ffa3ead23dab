// SPDX-License-Identifier: MIT
/* Error messages belong to their error code (lib/error.c), and formatting
 * into fixed buffers never truncates silently (m_snprintf). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "measured/error.h"

static void test_message_tied_to_code(void **state)
{
	(void)state;
	m_err_clear();
	assert_int_equal(m_err(-EINVAL, "field %s at offset %d", "size", 12), -EINVAL);
	assert_string_equal(m_errmsg(-EINVAL), "field size at offset 12");
	/* a later error that set no message of its own: its strerror, never
	 * the earlier, unrelated message */
	assert_string_equal(m_errmsg(-ENOENT), strerror(ENOENT));
	assert_string_equal(m_errmsg(-EIO), strerror(EIO));
	/* the same code again still finds its message */
	assert_string_equal(m_errmsg(-EINVAL), "field size at offset 12");
	m_err_clear();
	assert_string_equal(m_errmsg(-EINVAL), strerror(EINVAL));
}

/* a message built from the previous one (re-coding an error) */
static void test_rewrap(void **state)
{
	(void)state;
	int r = m_err(-EBADMSG, "bad base64 character near offset %d", 7);

	r = m_err(-EINVAL, "%s: %s", "quote.attest", m_errmsg(r));
	assert_int_equal(r, -EINVAL);
	assert_string_equal(m_errmsg(r), "quote.attest: bad base64 character near offset 7");
}

static void test_prefix(void **state)
{
	(void)state;
	m_err_clear();
	m_err(-EBADMSG, "record 3: bad size");
	assert_int_equal(m_err_prefix(-EBADMSG, "log.bin"), -EBADMSG);
	assert_string_equal(m_errmsg(-EBADMSG), "log.bin: record 3: bad size");
	/* prefixing another code's error starts from that code's strerror */
	m_err(-EBADMSG, "unrelated");
	assert_int_equal(m_err_prefix(-ENOENT, "x.bin"), -ENOENT);
	assert_string_equal(m_errmsg(-ENOENT), "x.bin: No such file or directory");
}

static void test_snprintf(void **state)
{
	(void)state;
	char buf[8];

	assert_int_equal(m_snprintf(buf, sizeof(buf), "%s", "1234567"), 7);
	assert_string_equal(buf, "1234567");
	assert_int_equal(m_snprintf(buf, sizeof(buf), "%s/%s", "run", "measured"), -ENAMETOOLONG);
	assert_string_equal(buf, "");	/* never a cut value */
	assert_non_null(strstr(m_errmsg(-ENAMETOOLONG), "12 characters do not fit in 7"));
	assert_int_equal(m_snprintf(buf, 0, "x"), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_tied_to_code),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_rewrap),
		cmocka_unit_test(test_snprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

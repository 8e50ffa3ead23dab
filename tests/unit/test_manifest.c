// SPDX-License-Identifier: MIT
/* Reference manifests: round trip, consistency, comparison with logs and PCRs. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "measured/manifest.h"
#include "measured/predict.h"

#define B2 (M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256))

/* independent reference: OpenSSL directly */
static void ossl(const char *md, const void *d, size_t n, uint8_t *out)
{
	unsigned len;
	EVP_Digest(d, n, out, &len, EVP_get_digestbyname(md), NULL);
}

static void ossl_extend(const char *md, uint8_t *pcr, size_t sz, const uint8_t *dig)
{
	uint8_t cat[128];
	memcpy(cat, pcr, sz);
	memcpy(cat + sz, dig, sz);
	ossl(md, cat, 2 * sz, pcr);
}

static struct m_digests digests_of(const char *s)
{
	struct m_digests d = { .banks = B2 };
	ossl("SHA1", s, strlen(s), d.d[M_SHA1]);
	ossl("SHA256", s, strlen(s), d.d[M_SHA256]);
	return d;
}

static struct m_manifest *sample(void)
{
	struct m_manifest *m = m_manifest_new(B2);
	struct m_digests a = digests_of("a"), b = digests_of("b"), c = digests_of("c");

	assert_non_null(m);
	assert_int_equal(m_manifest_add(m, 4, 0x80000003, &a, "kernel", "kernel"), 0);
	assert_int_equal(m_manifest_add(m, 4, 0x80000003, &b, "second \"app\"", "kernel"), 0);
	assert_int_equal(m_manifest_add(m, 15, 0, &c, "root", "rootfs"), 0);
	m->startup_locality = 0;
	assert_int_equal(m_manifest_finish(m), 0);
	return m;
}

static void test_values(void **state)
{
	(void)state;
	struct m_manifest *m = sample();
	uint8_t want[32] = { 0 }, d[32];

	ossl("SHA256", "a", 1, d);
	ossl_extend("SHA256", want, 32, d);
	ossl("SHA256", "b", 1, d);
	ossl_extend("SHA256", want, 32, d);
	assert_memory_equal(m->values.v[M_SHA256][4], want, 32);
	assert_true(m->values.present[M_SHA1] & (1u << 15));
	assert_false(m->values.present[M_SHA1] & (1u << 5));
	m_manifest_free(m);
}

static char *to_json(const struct m_manifest *m, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(m_manifest_write(m, f), 0);
	fclose(f);
	return buf;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct m_manifest *m = sample(), *back = NULL;
	size_t len;
	char *json = to_json(m, &len);

	assert_int_equal(m_manifest_parse(json, len, "mem", &back), 0);
	assert_int_equal(back->count, 3);
	assert_int_equal(back->pcrs, (1u << 4) | (1u << 15));
	assert_string_equal(back->ev[1].description, "second \"app\"");
	assert_memory_equal(&back->values, &m->values, sizeof(m->values));
	m_manifest_free(back);
	free(json);
	m_manifest_free(m);
}

/* A manifest whose stated values do not follow from its events is refused. */
static void test_inconsistent_rejected(void **state)
{
	(void)state;
	struct m_manifest *m = sample(), *back = NULL;
	size_t len;
	char *json = to_json(m, &len), *p;

	/* flip one hex digit of the first "values" entry */
	p = strstr(json, "\"values\"");
	assert_non_null(p);
	p = strchr(p + 10, '"');
	p = strchr(p + 1, '"');
	p = strchr(p + 1, '"') + 1;
	*p = *p == '0' ? '1' : '0';
	assert_int_equal(m_manifest_parse(json, len, "mem", &back), -EINVAL);
	free(json);

	{
		static const char *bad[] = {
			"{\"format\":\"x\"}",
			"{",
			"[]",
			"{\"format\":\"measured-manifest\",\"version\":2,\"banks\":[\"sha1\"],\"pcrs\":[]}",
			"{\"format\":\"measured-manifest\",\"version\":1,\"banks\":[\"md5\"],\"pcrs\":[]}",
			"{\"format\":\"measured-manifest\",\"version\":1,\"banks\":[\"sha1\"],\"pcrs\":[{\"pcr\":24}]}",
			"{\"format\":\"measured-manifest\",\"version\":1,\"banks\":[\"sha1\"],\"pcrs\":[]} x",
		};
		/* a newer version is "not supported", the rest malformed */
		static const int want[] = { -EINVAL, -EINVAL, -EINVAL, -EPROTONOSUPPORT, -EINVAL, -EINVAL, -EINVAL };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_int_equal(m_manifest_parse(bad[i], strlen(bad[i]), "mem", &back), want[i]);
	}
	m_manifest_free(m);
}

static void fake_event(struct m_event *e, uint32_t recnum, uint32_t pcr, const char *s)
{
	struct m_digests d = digests_of(s);

	memset(e, 0, sizeof(*e));
	e->recnum = recnum;
	e->offset = recnum * 100;
	e->pcr = pcr;
	e->extends = true;
	e->banks = B2;
	memcpy(e->digest, d.d, sizeof(e->digest));
}

static void test_check_logs(void **state)
{
	(void)state;
	struct m_manifest *m = sample();
	struct m_event ev[4];
	struct m_log log = { .name = "fake.log", .ev = ev, .count = 3, .banks = B2 };
	struct m_log *logs[] = { &log };
	struct m_check_result res;
	char msg[1024];

	fake_event(&ev[0], 0, 4, "a");
	fake_event(&ev[1], 1, 4, "b");
	fake_event(&ev[2], 2, 15, "c");
	assert_int_equal(m_manifest_check_logs(m, logs, 1, &res), 0);
	assert_true(res.match);
	assert_int_equal(res.count, 2);
	m_check_result_free(&res);

	/* second PCR 4 event differs: named as index 1, record 1 */
	fake_event(&ev[1], 1, 4, "B");
	assert_int_equal(m_manifest_check_logs(m, logs, 1, &res), 0);
	assert_false(res.match);
	assert_int_equal(res.items[0].status, M_CHECK_EVENT_DIFFERS);
	assert_int_equal(res.items[0].index, 1);
	assert_int_equal(res.items[0].found->recnum, 1);
	m_check_describe(&res.items[0], msg, sizeof(msg));
	assert_non_null(strstr(msg, "second"));
	assert_non_null(strstr(msg, "fake.log record 1"));
	assert_int_equal(res.items[1].status, M_CHECK_MATCH);
	m_check_result_free(&res);

	/* an extra event, then a log that never touches PCR 15 */
	fake_event(&ev[1], 1, 4, "b");
	fake_event(&ev[3], 3, 4, "x");
	log.count = 4;
	ev[2].pcr = 7;
	assert_int_equal(m_manifest_check_logs(m, logs, 1, &res), 0);
	assert_false(res.match);
	assert_int_equal(res.items[0].status, M_CHECK_EVENT_EXTRA);
	assert_int_equal(res.items[1].status, M_CHECK_NOT_COVERED);
	m_check_result_free(&res);

	/* an event the evidence lacks */
	log.count = 1;
	assert_int_equal(m_manifest_check_logs(m, logs, 1, &res), 0);
	assert_int_equal(res.items[0].status, M_CHECK_EVENT_MISSING);
	assert_int_equal(res.items[0].index, 1);
	m_check_result_free(&res);
	m_manifest_free(m);
}

static void test_check_pcrs(void **state)
{
	(void)state;
	struct m_manifest *m = sample();
	struct m_pcrs actual = m->values;
	struct m_check_result res;

	assert_int_equal(m_manifest_check_pcrs(m, &actual, &res), 0);
	assert_true(res.match);
	m_check_result_free(&res);
	actual.v[M_SHA256][15][0] ^= 1;
	assert_int_equal(m_manifest_check_pcrs(m, &actual, &res), 0);
	assert_false(res.match);
	assert_int_equal(res.items[1].status, M_CHECK_VALUE_DIFFERS);
	assert_int_equal(res.items[1].bank, M_SHA256);
	m_check_result_free(&res);
	actual.present[M_SHA1] = 0;
	assert_int_equal(m_manifest_check_pcrs(m, &actual, &res), 0);
	assert_int_equal(res.items[0].status, M_CHECK_NOT_COVERED);
	m_check_result_free(&res);
	m_manifest_free(m);
}

/* The original script's value: SHA1 of the hex text of SHA1(image). */
static void test_rootfs_compat(void **state)
{
	(void)state;
	const char *img = "root image bytes";
	uint8_t h[20], want[20], out[20];
	char hex[41];

	ossl("SHA1", img, strlen(img), h);
	for (int i = 0; i < 20; i++)
		sprintf(hex + 2 * i, "%02x", h[i]);
	ossl("SHA1", hex, 40, want);
	assert_int_equal(m_rootfs_compat_digest(h, out), 0);
	assert_memory_equal(out, want, 20);
}

/* After a dynamic launch PCRs 17-22 start at zero, not 0xFF; the flag round-trips. */
static void test_dynamic_launch(void **state)
{
	(void)state;
	struct m_manifest *m = m_manifest_new(M_BANK_BIT(M_SHA256)), *back = NULL;
	struct m_digests d = digests_of("mle");
	uint8_t zero[32] = { 0 }, ff[32], want[32];
	size_t len;
	char *json;

	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(m_manifest_add(m, 18, 0, &d, "mle", "tboot"), 0);
	assert_int_equal(m_manifest_finish(m), 0);
	memcpy(want, ff, 32);
	ossl_extend("SHA256", want, 32, d.d[M_SHA256]);
	assert_memory_equal(m->values.v[M_SHA256][18], want, 32);

	m->dynamic_launch = true;
	assert_int_equal(m_manifest_finish(m), 0);
	memcpy(want, zero, 32);
	ossl_extend("SHA256", want, 32, d.d[M_SHA256]);
	assert_memory_equal(m->values.v[M_SHA256][18], want, 32);
	json = to_json(m, &len);
	assert_int_equal(m_manifest_parse(json, len, "mem", &back), 0);
	assert_true(back->dynamic_launch);
	assert_memory_equal(back->values.v[M_SHA256][18], want, 32);
	m_manifest_free(back);
	free(json);
	m_manifest_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_inconsistent_rejected),
		cmocka_unit_test(test_check_logs),
		cmocka_unit_test(test_check_pcrs),
		cmocka_unit_test(test_rootfs_compat),
		cmocka_unit_test(test_dynamic_launch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

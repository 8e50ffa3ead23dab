// SPDX-License-Identifier: MIT
/* The agent's pure parts: base64 fields, AES-256-GCM payloads, the payload
 * file, the enrolment record. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "agent.h"
#include "measured/base64.h"
#include "measured/digest.h"

static json_object *obj1(const char *key, const char *val)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, key, json_object_new_string(val));
	return o;
}

static int b64(const char *val, size_t max, uint8_t **d, size_t *n)
{
	json_object *o = obj1("f", val);
	int r = m_json_b64(o, "f", max, d, n);

	json_object_put(o);
	return r;
}

/* RFC 4648, 10 test vectors, and what must be refused */
static void test_b64(void **state)
{
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	uint8_t *d;
	size_t n;

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(b64(enc[i], 64, &d, &n), 0);
		assert_int_equal(n, i);
		assert_memory_equal(d, "foobar", n);
		free(d);
	}
	assert_int_equal(b64("Zm9", 64, &d, &n), -EBADMSG);	/* length */
	assert_int_equal(b64("Zm9v\n", 64, &d, &n), -EBADMSG);
	assert_int_equal(b64("Z=9v", 64, &d, &n), -EBADMSG);	/* padding inside */
	assert_int_equal(b64("Zm=v", 64, &d, &n), -EBADMSG);
	assert_int_equal(b64("Zm9v YmFy", 64, &d, &n), -EBADMSG);
	assert_int_equal(b64("Zm9vYmFy", 5, &d, &n), -E2BIG);	/* over max */
	assert_int_equal(b64("Zm9vYmE=", 5, &d, &n), 0);
	free(d);
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "f", json_object_new_int(3));
		assert_int_equal(m_json_b64(o, "f", 64, &d, &n), -EBADMSG);	/* wrong type */
		assert_int_equal(m_json_b64(o, "g", 64, &d, &n), -EBADMSG);	/* absent */
		json_object_put(o);
	}
	{
		char *s = m_b64_encode((const uint8_t *)"foob", 4);

		assert_string_equal(s, "Zm9vYg==");
		free(s);
	}
}

/* The GCM specification's (McGrew, Viega) test cases 13 and 14: AES-256, zero key and IV. */
static void test_gcm_vectors(void **state)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, ct[16], tag[16], *pt;
	size_t n;

	(void)state;
	assert_int_equal(m_unhex("530f8afbc74536b9a963b4f1c4cb738b", tag, 16), 0);
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, 0, tag, 16, &pt, &n), 0);
	assert_int_equal(n, 0);
	free(pt);
	assert_int_equal(m_unhex("cea7403d4d606b6e074ec5d3baf39d18", ct, 16), 0);
	assert_int_equal(m_unhex("d0d1c8a799996bf0265b98b5d48ab919", tag, 16), 0);
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, 16, tag, 16, &pt, &n), 0);
	assert_int_equal(n, 16);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(pt[i], 0);
	free(pt);
	/* any changed bit of tag, ciphertext, key or iv is refused */
	tag[15] ^= 1;
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, 16, tag, 16, &pt, &n), -EBADMSG);
	tag[15] ^= 1;
	ct[0] ^= 0x80;
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, 16, tag, 16, &pt, &n), -EBADMSG);
	ct[0] ^= 0x80;
	key[31] = 1;
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, 16, tag, 16, &pt, &n), -EBADMSG);
	key[31] = 0;
	iv[0] = 1;
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, 16, tag, 16, &pt, &n), -EBADMSG);
	iv[0] = 0;
	/* sizes: a key is 32 bytes (AES-256) or 16 (AES-128, from a TPM 1.2) */
	assert_int_equal(m_payload_decrypt(key, 24, iv, 12, ct, 16, tag, 16, &pt, &n), -EBADMSG);
	assert_int_equal(m_payload_decrypt(key, 32, iv, 16, ct, 16, tag, 16, &pt, &n), -EBADMSG);
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, 16, tag, 12, &pt, &n), -EBADMSG);
	assert_int_equal(m_payload_decrypt(key, 32, iv, 12, ct, (size_t)M_PAYLOAD_MAX + 1, tag, 16, &pt, &n),
			 -EFBIG);
}

/* The same specification's test cases 1 and 2: AES-128 (a TPM 1.2's payload key), zero key and IV. */
static void test_gcm128_vectors(void **state)
{
	uint8_t key[16] = { 0 }, iv[12] = { 0 }, ct[16], tag[16], *pt;
	size_t n;

	(void)state;
	assert_int_equal(m_unhex("58e2fccefa7e3061367f1d57a4e7455a", tag, 16), 0);
	assert_int_equal(m_payload_decrypt(key, 16, iv, 12, ct, 0, tag, 16, &pt, &n), 0);
	assert_int_equal(n, 0);
	free(pt);
	assert_int_equal(m_unhex("0388dace60b6a392f328c2b971b2fe78", ct, 16), 0);
	assert_int_equal(m_unhex("ab6e47d42cec13bdf53a67b21257bddf", tag, 16), 0);
	assert_int_equal(m_payload_decrypt(key, 16, iv, 12, ct, 16, tag, 16, &pt, &n), 0);
	assert_int_equal(n, 16);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(pt[i], 0);
	free(pt);
	tag[0] ^= 1;
	assert_int_equal(m_payload_decrypt(key, 16, iv, 12, ct, 16, tag, 16, &pt, &n), -EBADMSG);
}

static void test_payload_write(void **state)
{
	char dir[] = "/tmp/measured-agent-test.XXXXXX", path[128], link[128];
	struct stat st;
	FILE *f;
	char buf[8] = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(m_payload_write(path, (const uint8_t *)"payload", 7), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 7);
	/* never over an existing file, never through a link */
	assert_int_equal(m_payload_write(path, (const uint8_t *)"other", 5), -EEXIST);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, 7, f), 7);
	fclose(f);
	assert_string_equal(buf, "payload");
	assert_int_equal(symlink("target", link), 0);
	assert_int_equal(m_payload_write(link, (const uint8_t *)"x", 1), -EEXIST);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

static void test_state(void **state)
{
	char dir[] = "/tmp/measured-agent-state.XXXXXX", sub[128], file[160];
	struct m_agent_state s = { 0 }, t;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/agent", dir);
	snprintf(file, sizeof(file), "%s/enrollment.json", sub);
	assert_int_equal(m_agent_state_load(sub, &t), -ENOENT);
	snprintf(s.server, sizeof(s.server), "https://127.0.0.1:1");
	snprintf(s.machine, sizeof(s.machine), "m\"1");
	snprintf(s.enrollment, sizeof(s.enrollment), "42");
	snprintf(s.ak_name, sizeof(s.ak_name), "000b00");
	assert_int_equal(m_agent_state_save(sub, &s), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(m_agent_state_load(sub, &t), 0);
	assert_memory_equal(&s, &t, sizeof(s));
	/* a field missing, or too long for its buffer, is an error */
	f = fopen(file, "w");
	fputs("{\"server\":\"a\",\"machine\":\"b\",\"enrollment\":\"c\"}", f);
	fclose(f);
	assert_int_equal(m_agent_state_load(sub, &t), -EBADMSG);
	f = fopen(file, "w");
	fputs("{\"server\":\"a\",\"machine\":\"b\",\"enrollment\":\"c\",\"ak_name\":\"", f);
	for (int i = 0; i < 300; i++)
		fputs("00", f);
	fputs("\"}", f);
	fclose(f);
	assert_int_equal(m_agent_state_load(sub, &t), -EBADMSG);
	f = fopen(file, "w");
	fputs("[1,2]", f);
	fclose(f);
	assert_int_equal(m_agent_state_load(sub, &t), -EBADMSG);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_gcm_vectors),
		cmocka_unit_test(test_gcm128_vectors),
		cmocka_unit_test(test_payload_write),
		cmocka_unit_test(test_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

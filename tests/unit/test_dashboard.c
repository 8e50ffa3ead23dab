// SPDX-License-Identifier: MIT
/*
 * The dashboard's credentials (server/dash_auth.c) against values computed
 * by other tools: token hashes by sha256sum, CSRF tokens by `openssl dgst
 * -sha256 -hmac`; the origin rule; the embedded page, script and style
 * (nothing inline, nothing from elsewhere, no HTML made of data); and its
 * store queries (paging with failures first, the name filter, the audit
 * log's pages, tokens kept hashed) on SQLite, or on PostgreSQL with
 * MEASURED_TEST_DB=postgresql:... (tests/integration/store_pg.sh).
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
#include "dashboard.h"
#include "store.h"
#include "store_dash.h"

/* printf %s TOKEN | sha256sum */
static const char TOKEN[] = "mdt_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char TOKEN_SHA256[] = "1c0e6bd98f4eb8835225f9dc33aa8d76b33e9b328829df4c631fd3884d79eaf1";
/* printf %s "csrf$TOKEN_SHA256" | openssl dgst -sha256 -hmac kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk */
static const char CSRF[] = "f4bf326182f5990f74af50e9957271658ae522ce12a4ab187afcdbac67220239";

static void test_token_hash(void **state)
{
	char h[SRV_DASH_HEX], t[SRV_DASH_TOKEN_LEN + 1], h2[SRV_DASH_HEX], bad[sizeof(TOKEN)];
	(void)state;

	assert_int_equal(srv_dash_token_hash(TOKEN, strlen(TOKEN), h), 0);
	assert_string_equal(h, TOKEN_SHA256);
	/* malformed: wrong prefix, upper-case hex, short, long, a NUL inside */
	memcpy(bad, TOKEN, sizeof(TOKEN));
	bad[0] = 'x';
	assert_int_equal(srv_dash_token_hash(bad, strlen(bad), h), -EINVAL);
	memcpy(bad, TOKEN, sizeof(TOKEN));
	bad[10] = 'A';
	assert_int_equal(srv_dash_token_hash(bad, strlen(bad), h), -EINVAL);
	assert_int_equal(srv_dash_token_hash(TOKEN, strlen(TOKEN) - 1, h), -EINVAL);
	assert_int_equal(srv_dash_token_hash(TOKEN, strlen(TOKEN) + 1, h), -EINVAL);
	memcpy(bad, TOKEN, sizeof(TOKEN));
	bad[20] = 0;
	assert_false(srv_dash_token_syntax(bad, sizeof(TOKEN) - 1));
	/* a new token: well-formed, its hash is the hash of its text, and two differ */
	assert_int_equal(srv_dash_token_new(t, h), 0);
	assert_true(srv_dash_token_syntax(t, strlen(t)));
	assert_int_equal(srv_dash_token_hash(t, strlen(t), h2), 0);
	assert_string_equal(h, h2);
	assert_int_equal(srv_dash_token_new(bad, h2), 0);
	assert_string_not_equal(t, bad);
}

static void test_hex_equal(void **state)
{
	char other[SRV_DASH_HEX];
	(void)state;

	assert_true(srv_dash_hex_equal(TOKEN_SHA256, TOKEN_SHA256));
	memcpy(other, TOKEN_SHA256, sizeof(other));
	other[63] ^= 1;
	assert_false(srv_dash_hex_equal(TOKEN_SHA256, other));
	other[63] ^= 1;
	other[0] ^= 1;
	assert_false(srv_dash_hex_equal(TOKEN_SHA256, other));
	assert_false(srv_dash_hex_equal(TOKEN_SHA256, "1c0e"));
	assert_false(srv_dash_hex_equal(TOKEN_SHA256, NULL));
	assert_false(srv_dash_hex_equal("", ""));
}

static void test_csrf(void **state)
{
	uint8_t key[SRV_DASH_KEY_LEN];
	char c[SRV_DASH_HEX], wrong[SRV_DASH_HEX];
	(void)state;

	memset(key, 'k', sizeof(key));
	assert_int_equal(srv_dash_csrf(key, TOKEN_SHA256, c), 0);
	assert_string_equal(c, CSRF);
	assert_true(srv_dash_csrf_ok(key, TOKEN_SHA256, CSRF));
	assert_false(srv_dash_csrf_ok(key, TOKEN_SHA256, NULL));
	assert_false(srv_dash_csrf_ok(key, TOKEN_SHA256, ""));
	memcpy(wrong, CSRF, sizeof(wrong));
	wrong[5] = wrong[5] == '0' ? '1' : '0';
	assert_false(srv_dash_csrf_ok(key, TOKEN_SHA256, wrong));
	/* another session's token is not this one's */
	assert_false(srv_dash_csrf_ok(key, "0000000000000000000000000000000000000000000000000000000000000000", CSRF));
	/* another server key gives another token */
	key[0] ^= 1;
	assert_false(srv_dash_csrf_ok(key, TOKEN_SHA256, CSRF));
}

static void test_origin(void **state)
{
	(void)state;
	assert_true(srv_dash_origin_ok(NULL, NULL, "127.0.0.1:8444"));	/* a script: the CSRF token decides */
	assert_true(srv_dash_origin_ok("https://127.0.0.1:8444", "same-origin", "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("https://127.0.0.1:8444", "same-site", "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("https://127.0.0.1:8444", "cross-site", "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok(NULL, "none", "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("https://evil.example", NULL, "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("http://127.0.0.1:8444", NULL, "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("https://127.0.0.1:8445", "same-origin", "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("https://127.0.0.1:8444.evil", NULL, "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("null", NULL, "127.0.0.1:8444"));
	assert_false(srv_dash_origin_ok("https://127.0.0.1:8444", NULL, NULL));
}

/* the embedded files: what the Content-Security-Policy allows, and nothing that makes HTML of data */
static const struct srv_dash_asset *asset(const char *path)
{
	for (size_t i = 0; i < srv_dash_nassets; i++)
		if (!strcmp(srv_dash_assets[i].path, path))
			return &srv_dash_assets[i];
	return NULL;
}

static bool contains(const struct srv_dash_asset *a, const char *needle)
{
	return memmem(a->data, a->len, needle, strlen(needle)) != NULL;
}

static void test_assets(void **state)
{
	const struct srv_dash_asset *html = asset("index.html"), *js = asset("app.js"), *css = asset("style.css");
	(void)state;

	assert_non_null(html);
	assert_non_null(js);
	assert_non_null(css);
	assert_int_equal(srv_dash_nassets, 3);
	assert_string_equal(html->type, "text/html; charset=utf-8");
	assert_string_equal(js->type, "text/javascript; charset=utf-8");
	for (size_t i = 0; i < srv_dash_nassets; i++) {
		const struct srv_dash_asset *a = &srv_dash_assets[i];

		/* nothing from elsewhere, no inline handlers or styles, no javascript: URLs */
		assert_false(contains(a, "http://"));
		assert_false(contains(a, "https://"));
		assert_false(contains(a, " onclick="));
		assert_false(contains(a, " onload="));
		assert_false(contains(a, " onerror="));
		assert_false(contains(a, " style="));
		assert_false(contains(a, "javascript:"));
		assert_false(contains(a, "@import"));
	}
	/* the one script is a file, and the page's only style a sheet */
	assert_true(contains(html, "<script src=\"/app.js\" defer></script>"));
	assert_false(contains(html, "<script>"));
	assert_false(contains(html, "<style"));
	/* data goes in as text: the script never writes HTML */
	assert_false(contains(js, "innerHTML"));
	assert_false(contains(js, "outerHTML"));
	assert_false(contains(js, "insertAdjacentHTML"));
	assert_false(contains(js, "document.write"));
	assert_false(contains(js, "eval("));
	/* small */
	assert_true(html->len + js->len + css->len < 32768);
}

/* ---- the store ---- */

static char path[64];

static struct m_store *open_store(void)
{
	const char *url = getenv("MEASURED_TEST_DB");
	char buf[96];
	struct m_store *s;
	int fd;

	if (!url || !*url) {
		snprintf(path, sizeof(path), "/tmp/measured-dash.XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		close(fd);
		snprintf(buf, sizeof(buf), "sqlite:%s", path);
		url = buf;
	}
	assert_int_equal(m_store_open(url, &s), 0);
	return s;
}

static void close_store(struct m_store *s)
{
	char p[80];

	m_store_close(s);
	if (path[0]) {
		unlink(path);
		snprintf(p, sizeof(p), "%s-wal", path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", path);
		unlink(p);
	}
}

static void test_store_tokens(void **state)
{
	struct m_store *s = open_store();
	char name[M_STORE_NAME_MAX];
	int role = -1;
	(void)state;

	m_store_dash_token_remove(s, "dsh-tok");	/* a PostgreSQL database may hold an earlier run's */
	assert_int_equal(m_store_dash_token_add(s, "dsh-tok", TOKEN_SHA256, M_DASH_WRITE), 0);
	assert_int_equal(m_store_dash_token_add(s, "dsh-tok", TOKEN_SHA256, M_DASH_READ), -EEXIST);
	assert_int_equal(m_store_dash_token_add(s, "dsh tok", TOKEN_SHA256, M_DASH_READ), -EINVAL);
	assert_int_equal(m_store_dash_token_add(s, "dsh-2", "ABC", M_DASH_READ), -EINVAL);
	assert_int_equal(m_store_dash_token_find(s, TOKEN_SHA256, name, sizeof(name), &role), 0);
	assert_string_equal(name, "dsh-tok");
	assert_int_equal(role, M_DASH_WRITE);
	assert_int_equal(m_store_dash_token_find(s, CSRF, name, sizeof(name), &role), -ENOENT);
	/* the token's text itself is no key */
	assert_int_equal(m_store_dash_token_find(s, TOKEN, name, sizeof(name), &role), -ENOENT);
	assert_int_equal(m_store_dash_token_remove(s, "dsh-tok"), 0);
	assert_int_equal(m_store_dash_token_remove(s, "dsh-tok"), -ENOENT);
	assert_int_equal(m_store_dash_token_find(s, TOKEN_SHA256, name, sizeof(name), &role), -ENOENT);
	close_store(s);
}

static int collect(const struct m_dash_machine *m, void *arg)
{
	char *out = arg;

	strcat(out, m->name);
	strcat(out, m->last_result[0] == 'f' ? "!" : " ");
	return 0;
}

static void mk(struct m_store *s, const char *name, const char *result)
{
	struct m_machine m = { 0 };

	snprintf(m.name, sizeof(m.name), "%s", name);
	m.ek_pub = (char *)name;	/* any text: the store keeps it as given */
	m.ak_pub = (char *)"ak";
	snprintf(m.ek_trust, sizeof(m.ek_trust), "tofu");
	m.state = M_MACHINE_APPROVED;
	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	if (result)
		assert_int_equal(m_store_machine_result(s, &m, result, result[0] == 'f' ? "manifest-mismatch" : "",
							100), 0);
}

static void test_store_machines(void **state)
{
	struct m_store *s = open_store();
	char out[1024];
	int64_t total = -1;
	char tag[16], n[64];
	(void)state;

	/* names unique to this run, so a shared PostgreSQL database's other rows do not match the filter */
	snprintf(tag, sizeof(tag), "dsh%d", (int)getpid());
	static const char *const rows[][2] = {
		{ "a", "pass" }, { "b", "fail" }, { "c", NULL }, { "d", "fail" }, { "e", "pass" }, { "x_y", "pass" },
		{ "xzy", "pass" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(n, sizeof(n), "%s-%s", tag, rows[i][0]);
		mk(s, n, rows[i][1]);
	}
	/* failures first, then by name; pages of 3 */
	out[0] = 0;
	assert_int_equal(m_store_dash_machines(s, tag, 0, 3, collect, out, &total), 0);
	assert_int_equal(total, 7);
	snprintf(n, sizeof(n), "%s-b!%s-d!%s-a ", tag, tag, tag);
	assert_string_equal(out, n);
	out[0] = 0;
	assert_int_equal(m_store_dash_machines(s, tag, 3, 3, collect, out, &total), 0);
	snprintf(n, sizeof(n), "%s-c %s-e %s-x_y ", tag, tag, tag);
	assert_string_equal(out, n);
	out[0] = 0;
	assert_int_equal(m_store_dash_machines(s, tag, 6, 3, collect, out, &total), 0);
	snprintf(n, sizeof(n), "%s-xzy ", tag);
	assert_string_equal(out, n);
	/* '_' is a plain character here (no LIKE wildcard): x_y only, not xzy */
	out[0] = 0;
	snprintf(n, sizeof(n), "%s-x_", tag);
	assert_int_equal(m_store_dash_machines(s, n, 0, 10, collect, out, &total), 0);
	assert_int_equal(total, 1);
	/* and '%' is no name character at all */
	assert_int_equal(m_store_dash_machines(s, "dsh%", 0, 10, collect, out, &total), -EINVAL);
	/* case matters, as it does in names */
	for (char *p = tag; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	assert_int_equal(m_store_dash_machines(s, tag, 0, 10, collect, out, &total), 0);
	assert_int_equal(total, 0);
	/* without a filter the count may be left out: the page alone, failures first */
	out[0] = 0;
	assert_int_equal(m_store_dash_machines(s, NULL, 0, 1, collect, out, NULL), 0);
	assert_non_null(strchr(out, '!'));
	/* limits */
	assert_int_equal(m_store_dash_machines(s, NULL, 0, 0, collect, out, &total), -EINVAL);
	assert_int_equal(m_store_dash_machines(s, NULL, 0, M_DASH_PAGE_MAX + 1, collect, out, &total), -EINVAL);
	assert_int_equal(m_store_dash_machines(s, "a%", 0, 10, collect, out, &total), -EINVAL);
	close_store(s);
}

static int collect_audit(const struct m_audit *a, void *arg)
{
	char *out = arg;

	strcat(out, a->detail);
	strcat(out, " ");
	return 0;
}

static void test_store_audit_pages(void **state)
{
	struct m_store *s = open_store();
	char out[512], m[32], *json = NULL;
	int64_t at = 0;
	(void)state;

	snprintf(m, sizeof(m), "dsh%d-audit", (int)getpid());
	for (int i = 0; i < 5; i++) {
		char d[16];

		snprintf(d, sizeof(d), "%d", i);
		assert_int_equal(m_store_audit(s, m, "attest", i % 2 ? "fail" : "pass", "", d), 0);
	}
	/* newest first, pages of 2 by id */
	out[0] = 0;
	assert_int_equal(m_store_dash_audit(s, m, NULL, 0, 2, collect_audit, out), 0);
	assert_string_equal(out, "4 3 ");
	out[0] = 0;
	assert_int_equal(m_store_dash_audit(s, m, "fail", 0, 10, collect_audit, out), 0);
	assert_string_equal(out, "3 1 ");
	out[0] = 0;
	assert_int_equal(m_store_dash_audit(s, m, "pass", 0, 10, collect_audit, out), 0);
	assert_string_equal(out, "4 2 0 ");
	assert_int_equal(m_store_dash_audit(s, m, "maybe", 0, 10, collect_audit, out), -EINVAL);
	assert_int_equal(m_store_dash_audit(s, "a b", NULL, 0, 10, collect_audit, out), -EINVAL);
	/* a difference: kept, replaced, read back */
	assert_int_equal(m_store_dash_difference_get(s, m, &json, &at), -ENOENT);
	assert_int_equal(m_store_dash_difference_put(s, m, "{\"pcr\":1}", 5), 0);
	assert_int_equal(m_store_dash_difference_put(s, m, "{\"pcr\":2}", 6), 0);
	assert_int_equal(m_store_dash_difference_get(s, m, &json, &at), 0);
	assert_string_equal(json, "{\"pcr\":2}");
	assert_int_equal(at, 6);
	free(json);
	close_store(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_hash),
		cmocka_unit_test(test_hex_equal),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_store_tokens),
		cmocka_unit_test(test_store_machines),
		cmocka_unit_test(test_store_audit_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

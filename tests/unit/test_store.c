// SPDX-License-Identifier: MIT
/*
 * The store's contract on SQLite, and on PostgreSQL with
 * MEASURED_TEST_DB=postgresql:... (tests/integration/store_pg.sh): nonces
 * are used once and forgotten when expired; transactions are all or
 * nothing; the first secret stored stays; a second EK cannot take a
 * machine's name; the clock never goes backwards; enrolments are taken
 * once; base64 limits; a policy's named manifests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include "measured/base64.h"
#include "store.h"
#include "store_priv.h"	/* m_store_query_later() */
#include "server.h"	/* srv_pass_group() */

static char path[64];

/* a SQLite database of its own, "sqlite:" + @p in @url; removed by drop_sqlite() */
static void new_sqlite(char p[64], char url[80])
{
	int fd;

	snprintf(p, 64, "/tmp/measured-store1.XXXXXX");
	fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	snprintf(url, 80, "sqlite:%s", p);
}

static void drop_sqlite(const char *p)
{
	char f[80];

	unlink(p);
	snprintf(f, sizeof(f), "%s-wal", p);
	unlink(f);
	snprintf(f, sizeof(f), "%s-shm", p);
	unlink(f);
}

static int setup(void **state)
{
	struct m_store *s;
	const char *url = getenv("MEASURED_TEST_DB");
	char buf[96];
	int fd;

	if (!url || !*url) {
		snprintf(path, sizeof(path), "/tmp/measured-store.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			return -1;
		close(fd);
		snprintf(buf, sizeof(buf), "sqlite:%s", path);
		url = buf;
	}
	if (m_store_open(url, &s) < 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	m_store_close(*state);
	if (path[0])
		drop_sqlite(path);
	return 0;
}

static void test_nonce(void **state)
{
	struct m_store *s = *state;
	char *v = NULL;

	assert_int_equal(m_store_nonce_use(s, "aa01", "m1", 1000), 0);
	assert_int_equal(m_store_nonce_use(s, "aa02", "m1", 500), 0);
	assert_int_equal(m_store_nonce_use(s, "aa01", "m1", 1000), -EALREADY);
	assert_int_equal(m_store_nonce_use(s, "aa01", "m2", 1000), -EALREADY);	/* a nonce is used once, by anyone */
	assert_int_equal(m_store_expire(s, 600), 0);	/* forgets aa02 (expired: m_nonce_check refuses it) */
	assert_int_equal(m_store_nonce_use(s, "aa02", "m1", 500), 0);
	assert_int_equal(m_store_nonce_use(s, "aa01", "m1", 1000), -EALREADY);

	/* the first value stored under a name stays */
	assert_int_equal(m_store_secret(s, "k", "one", &v), 0);
	assert_string_equal(v, "one");
	free(v);
	assert_int_equal(m_store_secret(s, "k", "two", &v), 0);
	assert_string_equal(v, "one");
	free(v);
	assert_int_equal(m_store_secret(s, "k2", "two", &v), 0);
	assert_string_equal(v, "two");
	free(v);
}

static int count_audit(const struct m_audit *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

/* begin/commit: all the statements or none (a failed one rolls the rest back) */
static void test_transaction(void **state)
{
	struct m_store *s = *state;

	assert_int_equal(m_store_begin(s), 0);
	assert_true(m_store_begin(s) < 0);	/* not nested */
	assert_int_equal(m_store_nonce_use(s, "bb01", "m1", 1000), 0);
	m_store_rollback(s);
	assert_int_equal(m_store_nonce_use(s, "bb01", "m1", 1000), 0);	/* the rolled-back use did not count */

	assert_int_equal(m_store_begin(s), 0);
	assert_int_equal(m_store_nonce_use(s, "bb02", "m1", 1000), 0);
	assert_int_equal(m_store_nonce_use(s, "bb02", "m1", 1000), -EALREADY);	/* seen inside it */
	assert_int_equal(m_store_audit(s, "m1", "attest", "pass", "", ""), 0);
	assert_int_equal(m_store_commit(s), 0);
	assert_int_equal(m_store_nonce_use(s, "bb02", "m1", 1000), -EALREADY);

	/* a failed statement: commit refuses, and nothing of it stays */
	assert_int_equal(m_store_begin(s), 0);
	assert_int_equal(m_store_nonce_use(s, "bb03", "m1", 1000), 0);
	assert_true(m_store_enrolment_add(s, &(struct m_enrolment){ .id = "x" }) < 0);	/* NOT NULL columns */
	assert_true(m_store_commit(s) < 0);
	assert_int_equal(m_store_nonce_use(s, "bb03", "m1", 1000), 0);
	assert_true(m_store_commit(s) < 0);	/* nothing open */

	/* the handle works as before afterwards */
	assert_int_equal(m_store_nonce_use(s, "bb04", "m1", 1000), 0);
	assert_int_equal(m_store_nonce_use(s, "bb04", "m1", 1000), -EALREADY);

	/* the audit record as the commit: both stay, or (a failed statement before) neither */
	int rows = 0;

	assert_int_equal(m_store_begin(s), 0);
	assert_int_equal(m_store_nonce_use(s, "bb05", "m1", 1000), 0);
	assert_int_equal(m_store_audit_commit(s, "ac", "attest", "pass", "", "one"), 0);
	assert_int_equal(m_store_nonce_use(s, "bb05", "m1", 1000), -EALREADY);
	assert_int_equal(m_store_begin(s), 0);
	assert_int_equal(m_store_nonce_use(s, "bb06", "m1", 1000), 0);
	assert_true(m_store_enrolment_add(s, &(struct m_enrolment){ .id = "x" }) < 0);
	assert_true(m_store_audit_commit(s, "ac", "attest", "pass", "", "two") < 0);
	assert_int_equal(m_store_nonce_use(s, "bb06", "m1", 1000), 0);
	assert_true(m_store_commit(s) < 0);	/* nothing open */
	assert_int_equal(m_store_begin(s), 0);	/* the record alone */
	assert_int_equal(m_store_audit_commit(s, "ac", "attest", "pass", "", "three"), 0);
	assert_int_equal(m_store_audit_list(s, "ac", 0, count_audit, &rows), 0);
	assert_int_equal(rows, 2);
}

static int matched_row(const char *machine, const char *matched, void *arg)
{
	if (!strncmp(machine, "later", 5))
		strncat(arg, matched, 63 - strlen(arg));
	return 0;
}

/* a write that waits for the transaction's next exchange (PostgreSQL): errors and all, as if run at once */
static void test_transaction_later(void **state)
{
	static const char DUP[] = "INSERT INTO used_nonces (expires, nonce, machine) VALUES ($1, $2, $3)";
	struct m_sqlp dup[] = { SQL_INT(1000), SQL_TEXT("cc01"), SQL_TEXT("m1") };
	struct m_store *s = *state;
	struct m_machine m;
	char got[64] = "";
	int r;

	/* it goes with the next statement, or with the audit record's commit, or with a plain commit */
	assert_int_equal(m_store_begin(s), 0);
	assert_int_equal(m_store_nonce_use(s, "cc01", "m1", 1000), 0);
	assert_int_equal(m_store_machine_matched(s, "later1", "a,", 10), 0);
	assert_int_equal(m_store_nonce_use(s, "cc02", "m1", 1000), 0);
	assert_int_equal(m_store_machine_matched(s, "later2", "b,", 10), 0);
	assert_int_equal(m_store_audit_commit(s, "later", "attest", "pass", "", "x"), 0);
	assert_int_equal(m_store_begin(s), 0);
	assert_int_equal(m_store_nonce_use(s, "cc03", "m1", 1000), 0);
	assert_int_equal(m_store_machine_matched(s, "later3", "c", 10), 0);
	assert_int_equal(m_store_commit(s), 0);
	assert_int_equal(m_store_machine_matched_list(s, matched_row, got), 0);
	assert_string_equal(got, "a,b,c");

	/* one that fails: the exchange it went with fails, and nothing of the transaction stays */
	for (int how = 0; how < 3; how++) {
		char n[16];

		snprintf(n, sizeof(n), "cc1%d", how);
		assert_int_equal(m_store_begin(s), 0);
		assert_int_equal(m_store_nonce_use(s, n, "m1", 1000), 0);
		r = m_store_query_later(s, DUP, dup, 3);	/* SQLite: refused at once */
		if (!strcmp(m_store_kind(s), "postgresql"))
			assert_int_equal(r, 0);		/* it waits */
		if (r == 0 && how == 0)
			r = m_store_audit_commit(s, "later", "attest", "pass", "", "lost");
		else if (r == 0 && how == 1)
			r = m_store_commit(s);
		else if (r == 0)
			r = m_store_machine_get(s, "later-none", &m);	/* a read: the error, not -ENOENT */
		assert_true(r < 0 && r != -ENOENT);
		m_store_rollback(s);
		assert_int_equal(m_store_nonce_use(s, n, "m1", 1000), 0);	/* it was not committed */
	}
	/* outside a transaction it runs at once */
	assert_true(m_store_query_later(s, DUP, dup, 3) < 0);
	assert_int_equal(m_store_nonce_use(s, "cc20", "m1", 1000), 0);
}

static off_t file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/*
 * SQLite: a handle that defers checkpoints leaves the WAL to grow until
 * m_store_checkpoint() copies it into the database file; one that does not
 * checkpoints by itself.  (PostgreSQL: both calls do nothing, and succeed.)
 */
static void test_checkpoint(void **state)
{
	struct m_store *s = *state;
	char n[32];
	off_t before;

	m_store_defer_checkpoints(s);
	if (strcmp(m_store_kind(s), "sqlite") != 0) {
		assert_int_equal(m_store_checkpoint(s), 0);
		return;
	}
	assert_int_equal(m_store_checkpoint(s), 0);
	before = file_size(path);
	assert_true(before > 0);
	/* each use commits a page (the B-tree keyed by expiry and nonce):
	 * past the 10,000 WAL frames that make a checkpoint due */
	for (int i = 0; i < 11000; i++) {
		snprintf(n, sizeof(n), "cc%05d", i);
		assert_int_equal(m_store_nonce_use(s, n, "m1", 1000), 0);
	}
	assert_int_equal(file_size(path), before);	/* all in the WAL still */
	assert_int_equal(m_store_checkpoint(s), 0);
	assert_true(file_size(path) > before);		/* copied into the database */
}

struct worker {
	struct m_store *s;
	int id, failures;
};

static int count_row(const struct m_audit *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

/* each iteration: a transaction (its nonce, an audit row), a nonce used twice, a read */
static void *worker(void *arg)
{
	struct worker *w = arg;
	char n[32];
	struct m_machine m;

	for (int i = 0; i < 300; i++) {
		snprintf(n, sizeof(n), "t%d-%d", w->id, i);
		if (m_store_begin(w->s) < 0 || m_store_nonce_use(w->s, n, "m1", 1000) < 0 ||
		    m_store_audit(w->s, "threads", "attest", "pass", "", n) < 0 || m_store_commit(w->s) < 0)
			w->failures++;
		if (m_store_nonce_use(w->s, n, "m1", 1000) != -EALREADY)
			w->failures++;
		if (m_store_machine_get(w->s, "box", &m) == 0)
			m_machine_clear(&m);
	}
	return NULL;
}

/* SQLite: threads share one handle, transactions and all; PostgreSQL handles are not shareable */
static void test_shared_threads(void **state)
{
	struct m_store *s = *state;
	struct worker w[4];
	pthread_t t[4];
	int rows = 0;

	if (!m_store_shareable(s)) {
		assert_string_equal(m_store_kind(s), "postgresql");
		return;
	}
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .s = s, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(m_store_audit_list(s, "threads", 0, count_row, &rows), 0);
	assert_int_equal(rows, 4 * 300);
}

static void test_machine(void **state)
{
	struct m_store *s = *state;
	struct m_machine m = { .name = "box", .ek_pub = "RUsx", .ak_pub = "QUsx", .ek_trust = "tofu", .state = 0 };
	struct m_machine got, seen;

	assert_int_equal(m_store_machine_get(s, "box", &got), -ENOENT);
	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	m.ak_pub = "QUsy";	/* same EK, new AK: accepted */
	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	m.ek_pub = "RUsy";	/* another EK: refused, nothing changes */
	m.ak_pub = "QUsz";
	assert_int_equal(m_store_machine_enrol(s, &m), -EEXIST);
	assert_int_equal(m_store_machine_get(s, "box", &got), 0);
	assert_string_equal(got.ek_pub, "RUsx");
	assert_string_equal(got.ak_pub, "QUsy");
	assert_int_equal(got.state, M_MACHINE_PENDING);
	assert_false(got.have_clock);
	assert_string_equal(got.tpm, "2.0");
	m_machine_clear(&got);
	assert_int_equal(m_store_machine_set(s, "box", M_MACHINE_APPROVED, "p1"), 0);
	assert_int_equal(m_store_machine_set(s, "nobox", M_MACHINE_APPROVED, "p1"), -ENOENT);
	assert_int_equal(m_store_machine_get(s, "box", &seen), 0);	/* the row the checks use */

	/* (resetCount, restartCount, clock) never goes backwards; the result is recorded with it */
	assert_int_equal(m_store_machine_attested(s, &seen, 5000, 3, 1, "pass", "", 70), 0);
	assert_int_equal(m_store_machine_attested(s, &seen, 5000, 3, 1, "pass", "", 71), 0);
	assert_int_equal(m_store_machine_attested(s, &seen, 4999, 3, 1, "fail", "x", 72), -ERANGE);
	assert_int_equal(m_store_machine_attested(s, &seen, 9999, 3, 0, "fail", "x", 73), -ERANGE);
	assert_int_equal(m_store_machine_attested(s, &seen, 9999, 2, 7, "fail", "x", 74), -ERANGE);
	assert_int_equal(m_store_machine_get(s, "box", &got), 0);
	assert_int_equal(got.clock, 5000);
	assert_int_equal(got.last_at, 71);	/* a refused clock changes nothing */
	assert_string_equal(got.last_result, "pass");
	m_machine_clear(&got);
	assert_int_equal(m_store_machine_attested(s, &seen, 10, 4, 0, "fail", "manifest-mismatch", 75), 0);
	assert_int_equal(m_store_machine_get(s, "box", &got), 0);
	assert_int_equal(got.clock, 10);
	assert_string_equal(got.last_reason, "manifest-mismatch");
	m_machine_clear(&got);
	assert_int_equal(m_store_machine_get(s, "box", &got), 0);
	assert_int_equal(got.state, M_MACHINE_APPROVED);
	assert_string_equal(got.policy, "p1");
	assert_int_equal(got.reset_count, 4);
	m_machine_clear(&got);

	/* another policy list, or another AK, since the row was read: nothing recorded, -ESTALE */
	assert_int_equal(m_store_machine_set(s, "box", -1, "p2"), 0);
	assert_int_equal(m_store_machine_attested(s, &seen, 20, 4, 0, "pass", "", 80), -ESTALE);
	assert_int_equal(m_store_machine_result(s, &seen, "pass", "", 80), -ESTALE);
	assert_int_equal(m_store_machine_set(s, "box", -1, "p1"), 0);
	m.ek_pub = "RUsx";
	m.ak_pub = "QUs0";	/* re-enrolled: same EK, new AK */
	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	assert_int_equal(m_store_machine_attested(s, &seen, 20, 4, 0, "pass", "", 81), -ESTALE);
	assert_int_equal(m_store_machine_get(s, "box", &got), 0);
	assert_int_equal(got.clock, 10);
	assert_int_equal(got.last_at, 75);
	/* the row as it is now passes, and is older clocks' judge as before */
	assert_int_equal(m_store_machine_attested(s, &got, 20, 4, 0, "pass", "", 82), 0);
	assert_int_equal(m_store_machine_attested(s, &got, 19, 4, 0, "pass", "", 83), -ERANGE);
	m_machine_clear(&seen);
	seen = got;

	/* revoked since it was read: no result is recorded, whatever the clock */
	assert_int_equal(m_store_machine_set(s, "box", M_MACHINE_REVOKED, NULL), 0);
	assert_int_equal(m_store_machine_attested(s, &seen, 21, 4, 0, "pass", "", 86), -EPERM);
	assert_int_equal(m_store_machine_get(s, "box", &got), 0);
	assert_int_equal(got.clock, 20);
	assert_int_equal(got.last_at, 82);
	m_machine_clear(&got);
	m_machine_clear(&seen);
	snprintf(seen.name, sizeof(seen.name), "nobox");
	seen.ak_pub = seen.ek_pub = (char *)"";
	assert_int_equal(m_store_machine_attested(s, &seen, 21, 4, 0, "pass", "", 86), -ENOENT);
}

/* m_store_nonce_use_attested() in a transaction of its own, committed (rolled back on -ESTALE, as settle() does) */
static int use_attested(struct m_store *s, const struct m_machine *seen, const char *nonce, uint64_t clock, int64_t at)
{
	int r;

	assert_int_equal(m_store_begin(s), 0);
	r = m_store_nonce_use_attested(s, nonce, 1000, seen, clock, 1, 0, "pass", "", at);
	if (r == -ESTALE)
		m_store_rollback(s);
	else
		assert_int_equal(m_store_commit(s), 0);
	return r;
}

static void assert_clock(struct m_store *s, const char *name, uint64_t clock, int64_t at)
{
	struct m_machine got;

	assert_int_equal(m_store_machine_get(s, name, &got), 0);
	assert_int_equal(got.clock, clock);
	assert_int_equal(got.last_at, at);
	m_machine_clear(&got);
}

/* the nonce's use and the attestation's record together: the record only with a fresh nonce */
static void test_nonce_use_attested(void **state)
{
	struct m_store *s = *state;
	struct m_machine m = { .name = "both", .ek_pub = "RUsx", .ak_pub = "QUsx", .ek_trust = "tofu" };
	struct m_machine seen;

	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	assert_int_equal(m_store_machine_set(s, "both", M_MACHINE_APPROVED, "p1"), 0);
	assert_int_equal(m_store_machine_get(s, "both", &seen), 0);
	assert_int_equal(use_attested(s, &seen, "dd01", 50, 60), 0);
	assert_int_equal(m_store_nonce_use(s, "dd01", "both", 1000), -EALREADY);	/* used */
	/* a used nonce: nothing recorded, whatever the clock */
	assert_int_equal(use_attested(s, &seen, "dd01", 70, 61), -EALREADY);
	assert_clock(s, "both", 50, 60);
	/* an older clock: -ERANGE, the nonce used up all the same */
	assert_int_equal(use_attested(s, &seen, "dd02", 40, 62), -ERANGE);
	assert_int_equal(m_store_nonce_use(s, "dd02", "both", 1000), -EALREADY);
	/* another policy list since the row was read: -ESTALE (rolled back, nonce and all); revoked: -EPERM */
	assert_int_equal(m_store_machine_set(s, "both", -1, "p2"), 0);
	assert_int_equal(use_attested(s, &seen, "dd03", 80, 63), -ESTALE);
	assert_int_equal(m_store_nonce_use(s, "dd03", "both", 1000), 0);
	assert_int_equal(m_store_machine_set(s, "both", M_MACHINE_REVOKED, "p1"), 0);
	assert_int_equal(use_attested(s, &seen, "dd04", 80, 64), -EPERM);
	assert_clock(s, "both", 50, 60);
	m_machine_clear(&seen);
}

static int audit_count_cb(const struct m_audit *a, void *arg)
{
	/* the pass's record, escaped as include/measured/text.h says (computed by hand) */
	assert_string_equal(a->event, "attest");
	assert_string_equal(a->result, "pass");
	assert_string_equal(a->reason, "");
	assert_string_equal(a->detail, "p1:default\\x0a");
	(*(int *)arg)++;
	return 0;
}

static int audits(struct m_store *s, const char *machine)
{
	int n = 0;

	assert_int_equal(m_store_audit_list(s, machine, 0, audit_count_cb, &n), 0);
	return n;
}

static int matched_cb(const char *machine, const char *matched, void *arg)
{
	if (!strcmp(machine, "fast"))
		snprintf(arg, 32, "%s", matched);
	return 0;
}

/* a pass of @seen for m_store_pass_settle_many(), its result not set yet */
static struct m_store_pass group_pass(const struct m_machine *seen, const char *nonce, uint64_t clock, int64_t at)
{
	return (struct m_store_pass){ .nonce_hex = nonce, .expires = 1000, .seen = seen, .clock = clock, .reset = 1,
				      .matched = "p1:default", .detail = "p1:default\n", .at = at, .result = 1 };
}

/* one pass alone through m_store_pass_settle_many(): its answer */
static int pass1(struct m_store *s, const char *nonce, const struct m_machine *seen, uint64_t clock,
		 const char *detail, int64_t at)
{
	struct m_store_pass p = group_pass(seen, nonce, clock, at), *v = &p;
	int r;

	p.detail = detail;
	r = m_store_pass_settle_many(s, &v, 1);
	return r < 0 ? r : p.result;
}

/*
 * A pass in one statement (PostgreSQL) or not at all (SQLite: -EAGAIN,
 * nothing written): all of it or nothing of it, whatever stood in its way.
 */
static void test_pass_settle(void **state)
{
	struct m_store *s = *state;
	struct m_machine m = { .name = "fast", .ek_pub = "RUsx", .ak_pub = "QUsx", .ek_trust = "tofu" };
	struct m_machine seen;
	bool pg = !strcmp(m_store_kind(s), "postgresql");
	char matched[32] = "";

	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	assert_int_equal(m_store_machine_set(s, "fast", M_MACHINE_APPROVED, "p1"), 0);
	assert_int_equal(m_store_machine_get(s, "fast", &seen), 0);
	if (!pg) {
		assert_int_equal(pass1(s, "ee01", &seen, 50, "d", 60), -EAGAIN);
		assert_int_equal(m_store_nonce_use(s, "ee01", "fast", 1000), 0);	/* it was not used */
		assert_int_equal(audits(s, "fast"), 0);
		m_machine_clear(&seen);
		return;
	}
	assert_int_equal(pass1(s, "ee01", &seen, 50, "p1:default\n", 60), 0);
	assert_clock(s, "fast", 50, 60);
	assert_int_equal(m_store_nonce_use(s, "ee01", "fast", 1000), -EALREADY);
	assert_int_equal(audits(s, "fast"), 1);
	assert_int_equal(m_store_machine_matched_list(s, matched_cb, matched), 0);
	assert_string_equal(matched, "p1:default");
	/* the same nonce again: nothing written */
	assert_int_equal(pass1(s, "ee01", &seen, 70, "p1:default\n", 61),
			 -EALREADY);
	assert_clock(s, "fast", 50, 60);
	assert_int_equal(audits(s, "fast"), 1);
	/* an older clock, another policy list, a revocation: not settled, and the nonce still fresh */
	assert_int_equal(pass1(s, "ee02", &seen, 40, "x", 62), -EAGAIN);
	assert_int_equal(m_store_machine_set(s, "fast", -1, "p2"), 0);
	assert_int_equal(pass1(s, "ee03", &seen, 80, "x", 63), -EAGAIN);
	assert_int_equal(m_store_machine_set(s, "fast", M_MACHINE_REVOKED, "p1"), 0);
	assert_int_equal(pass1(s, "ee04", &seen, 80, "x", 64), -EAGAIN);
	for (const char *const *n = (const char *const[]){ "ee02", "ee03", "ee04", NULL }; *n; n++)
		assert_int_equal(m_store_nonce_use(s, *n, "fast", 1000), 0);
	assert_clock(s, "fast", 50, 60);
	assert_int_equal(audits(s, "fast"), 1);
	m_machine_clear(&seen);
}

static int matched_of_cb(const char *machine, const char *matched, void *arg)
{
	char **want = arg;

	if (!strcmp(machine, want[0]))
		snprintf(want[1], 32, "%s", matched);
	return 0;
}

/* g<i>: approved with policy list p1, its row in @seen */
static void group_machine(struct m_store *s, const char *name, struct m_machine *seen)
{
	struct m_machine m = { .ek_pub = "RUsx", .ak_pub = "QUsx", .ek_trust = "tofu" };

	snprintf(m.name, sizeof(m.name), "%s", name);
	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	assert_int_equal(m_store_machine_set(s, name, M_MACHINE_APPROVED, "p1"), 0);
	assert_int_equal(m_store_machine_get(s, name, seen), 0);
}

/*
 * Several machines' passes in one statement: each written whole, or, if
 * any row is refused, none; a used nonce's row alone writes nothing.
 */
static void test_pass_settle_many(void **state)
{
	struct m_store *s = *state;
	bool pg = !strcmp(m_store_kind(s), "postgresql");
	struct m_machine seen[3];
	struct m_store_pass p[3];
	char matched[32] = "";
	char *want[2] = { "g1", matched };

	group_machine(s, "g1", &seen[0]);
	group_machine(s, "g2", &seen[1]);
	group_machine(s, "g3", &seen[2]);
	p[0] = group_pass(&seen[0], "ff01", 50, 60);
	p[1] = group_pass(&seen[1], "ff02", 50, 60);
	p[2] = group_pass(&seen[2], "ff03", 50, 60);
	assert_int_equal(m_store_pass_settle_many(s, (struct m_store_pass *[]){ &p[0], &p[1], &p[2] }, 3), 0);
	if (!pg) {
		/* SQLite: the long way, nothing written here */
		for (int i = 0; i < 3; i++)
			assert_int_equal(p[i].result, -EAGAIN);
		assert_int_equal(m_store_nonce_use(s, "ff01", "g1", 1000), 0);
		assert_int_equal(audits(s, "g1"), 0);
		for (int i = 0; i < 3; i++)
			m_machine_clear(&seen[i]);
		return;
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p[i].result, 0);
		assert_clock(s, seen[i].name, 50, 60);
		assert_int_equal(audits(s, seen[i].name), 1);	/* escaped: audit_count_cb() */
	}
	assert_int_equal(m_store_nonce_use(s, "ff02", "g2", 1000), -EALREADY);
	assert_int_equal(m_store_machine_matched_list(s, matched_of_cb, want), 0);
	assert_string_equal(matched, "p1:default");

	/* a used nonce beside a fresh one: its row writes nothing, the other's is written */
	p[0] = group_pass(&seen[0], "ff01", 70, 61);
	p[1] = group_pass(&seen[1], "ff12", 70, 61);
	assert_int_equal(m_store_pass_settle_many(s, (struct m_store_pass *[]){ &p[0], &p[1] }, 2), 0);
	assert_int_equal(p[0].result, -EALREADY);
	assert_int_equal(p[1].result, 0);
	assert_clock(s, "g1", 50, 60);
	assert_clock(s, "g2", 70, 61);
	assert_int_equal(audits(s, "g1"), 1);
	assert_int_equal(audits(s, "g2"), 2);

	/* one row refused (an older clock, then a revocation): nothing of the statement written */
	p[0] = group_pass(&seen[0], "ff21", 80, 62);
	p[2] = group_pass(&seen[2], "ff23", 40, 62);
	assert_int_equal(m_store_pass_settle_many(s, (struct m_store_pass *[]){ &p[0], &p[2] }, 2), 0);
	assert_int_equal(p[0].result, -EAGAIN);
	assert_int_equal(p[2].result, -EAGAIN);
	assert_int_equal(m_store_machine_set(s, "g3", M_MACHINE_REVOKED, "p1"), 0);
	p[0] = group_pass(&seen[0], "ff31", 80, 63);
	p[2] = group_pass(&seen[2], "ff33", 80, 63);
	assert_int_equal(m_store_pass_settle_many(s, (struct m_store_pass *[]){ &p[2], &p[0] }, 2), 0);
	assert_int_equal(p[0].result, -EAGAIN);
	assert_int_equal(p[2].result, -EAGAIN);
	for (const char *const *n = (const char *const[]){ "ff21", "ff23", "ff31", "ff33", NULL }; *n; n++)
		assert_int_equal(m_store_nonce_use(s, *n, "g", 1000), 0);	/* still fresh */
	assert_clock(s, "g1", 50, 60);
	assert_clock(s, "g3", 50, 60);
	assert_int_equal(audits(s, "g1"), 1);
	assert_int_equal(audits(s, "g3"), 1);

	/* a clock out of range: that row is left to the long way, the others settle */
	p[0] = group_pass(&seen[0], "ff41", UINT64_MAX, 64);
	p[1] = group_pass(&seen[1], "ff42", 90, 64);
	assert_int_equal(m_store_pass_settle_many(s, (struct m_store_pass *[]){ &p[0], &p[1] }, 2), 0);
	assert_int_equal(p[0].result, -EAGAIN);
	assert_int_equal(p[1].result, 0);
	assert_int_equal(m_store_nonce_use(s, "ff41", "g1", 1000), 0);
	assert_clock(s, "g2", 90, 64);
	for (int i = 0; i < 3; i++)
		m_machine_clear(&seen[i]);
}

#define GROUP_THREADS 8	/* two per machine */
#define GROUP_ROUNDS 40

struct grouper {
	int id;
	const char *url;
	const struct m_machine *seen;
	int passed, reused;
};

/*
 * One request thread, with its own connection: its machine's passes, one
 * after another, and the same ones as its twin thread's (the same nonces,
 * at about the same time): of each pair, the first settled passes, and
 * the other finds its nonce used.
 */
static void *group_loop(void *arg)
{
	struct grouper *g = arg;
	struct m_store *s;
	char nonce[24];	/* "fe", two and up to eight hex digits */

	assert_int_equal(m_store_open(g->url, &s), 0);
	for (int k = 0; k < GROUP_ROUNDS; k++) {
		struct m_store_pass p;
		int r;

		snprintf(nonce, sizeof(nonce), "fe%02x%04x", g->id / 2, k);
		p = group_pass(g->seen, nonce, 100 + (uint64_t)k, 100 + k);
		r = srv_pass_group(s, &p);
		g->passed += r == 0;
		g->reused += r == -EALREADY;
	}
	m_store_close(s);
	return NULL;
}

/*
 * srv_pass_group(): the passes of threads settling at once go out
 * together, each answered as if alone.  Two passes of one machine never
 * share a statement: the twins' same nonce would then abort it (-EAGAIN
 * for both, counted as neither here).
 */
static void test_pass_group(void **state)
{
	struct m_store *s = *state;
	const char *url = getenv("MEASURED_TEST_DB");
	struct grouper g[GROUP_THREADS];
	struct m_machine seen[GROUP_THREADS / 2];
	pthread_t th[GROUP_THREADS];
	unsigned long stmts, passes;
	char name[16];

	if (strcmp(m_store_kind(s), "postgresql")) {
		struct m_store_pass p;

		/* SQLite: not grouped, nothing written */
		group_machine(s, "gs", &seen[0]);
		p = group_pass(&seen[0], "fd01", 50, 60);
		assert_int_equal(srv_pass_group(s, &p), -EAGAIN);
		assert_int_equal(m_store_nonce_use(s, "fd01", "gs", 1000), 0);
		m_machine_clear(&seen[0]);
		return;
	}
	for (int i = 0; i < GROUP_THREADS / 2; i++) {
		snprintf(name, sizeof(name), "gt%d", i);
		group_machine(s, name, &seen[i]);
	}
	for (int i = 0; i < GROUP_THREADS; i++) {
		g[i] = (struct grouper){ .id = i, .url = url, .seen = &seen[i / 2] };
		assert_int_equal(pthread_create(&th[i], NULL, group_loop, &g[i]), 0);
	}
	for (int i = 0; i < GROUP_THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < GROUP_THREADS / 2; i++) {
		assert_int_equal(g[2 * i].passed + g[2 * i + 1].passed, GROUP_ROUNDS);
		assert_int_equal(g[2 * i].reused + g[2 * i + 1].reused, GROUP_ROUNDS);
		assert_int_equal(audits(s, seen[i].name), GROUP_ROUNDS);
		assert_clock(s, seen[i].name, 100 + GROUP_ROUNDS - 1, 100 + GROUP_ROUNDS - 1);
		m_machine_clear(&seen[i]);
	}
	srv_pass_group_stats(&stmts, &passes);
	/* every pass went out once; some went together */
	assert_int_equal(passes, GROUP_THREADS * GROUP_ROUNDS);
	assert_true(stmts < passes);
}

#define CROSS_ROUNDS 150

struct crosser {
	const char *url;
	const struct m_machine *seen;	/* the two machines, in this thread's order */
	bool reverse;
	bool own_nonces;	/* each verifier its own attestations of the two machines, not the same ones */
	pthread_barrier_t *go;
	int passed, reused, failed;
};

/* one verifier's statements: both machines' passes, in this thread's order, round after round */
static void *cross_loop(void *arg)
{
	struct crosser *c = arg;
	struct m_store *s;
	char n0[24], n1[24];
	int own = c->own_nonces ? 1 + c->reverse : 0;

	assert_int_equal(m_store_open(c->url, &s), 0);
	for (int k = 0; k < CROSS_ROUNDS; k++) {
		struct m_store_pass p[2];

		/* the reversed thread's own nonces sort in its order too: machine 1's first */
		snprintf(n0, sizeof(n0), "fb%d%d%04x", own, own == 2, k);
		snprintf(n1, sizeof(n1), "fb%d%d%04x", own, own != 2, k);
		/* clocks go on from the round before's (an older clock is refused) */
		p[0] = group_pass(&c->seen[0], n0, 100 + (uint64_t)(1000 * c->own_nonces + k), 100 + k);
		p[1] = group_pass(&c->seen[1], n1, 100 + (uint64_t)(1000 * c->own_nonces + k), 100 + k);
		pthread_barrier_wait(c->go);
		if (m_store_pass_settle_many(s, c->reverse ? (struct m_store_pass *[]){ &p[1], &p[0] }
							   : (struct m_store_pass *[]){ &p[0], &p[1] }, 2) < 0)
			c->failed++;
		for (int i = 0; i < 2; i++) {
			c->passed += p[i].result == 0;
			c->reused += p[i].result == -EALREADY;
		}
	}
	m_store_close(s);
	return NULL;
}

/*
 * Two verifiers' statements with the same two nonces (one attestation sent
 * to both), given in opposite orders, at the same moment: each nonce
 * passes once, and neither statement fails (in the order given, each
 * could hold the nonce the other waits for: PostgreSQL ends one as a
 * deadlock after deadlock_timeout).  Then each verifier with its own
 * attestations of the same two machines, in opposite orders (their nonces
 * too): every pass is recorded, none lost to the other's row lock.  (The
 * machine rows are not locked in one order, so these two could deadlock
 * as well; in 300 rounds here they never met within a row update's time.)
 */
static void test_pass_settle_many_order(void **state)
{
	struct m_store *s = *state;
	const char *url = getenv("MEASURED_TEST_DB");
	struct m_machine seen[2];
	struct crosser c[2];
	pthread_t th[2];
	pthread_barrier_t go;

	group_machine(s, "gx0", &seen[0]);
	group_machine(s, "gx1", &seen[1]);
	if (strcmp(m_store_kind(s), "postgresql")) {
		/* SQLite: nothing settled here, in either order */
		struct m_store_pass p[2] = { group_pass(&seen[0], "fa00", 100, 100), group_pass(&seen[1], "fa01", 100, 100) };

		assert_int_equal(m_store_pass_settle_many(s, (struct m_store_pass *[]){ &p[1], &p[0] }, 2), 0);
		assert_int_equal(p[0].result, -EAGAIN);
		assert_int_equal(p[1].result, -EAGAIN);
		assert_int_equal(audits(s, "gx0"), 0);
		for (int i = 0; i < 2; i++)
			m_machine_clear(&seen[i]);
		return;
	}
	for (int own = 0; own < 2; own++) {
		assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
		for (int i = 0; i < 2; i++) {
			c[i] = (struct crosser){ .url = url, .seen = seen, .reverse = i, .own_nonces = own, .go = &go };
			assert_int_equal(pthread_create(&th[i], NULL, cross_loop, &c[i]), 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		assert_int_equal(c[0].failed + c[1].failed, 0);
		/* the same attestations: each passes once; each verifier's own: all pass (equal clocks are not older) */
		assert_int_equal(c[0].passed + c[1].passed, (2 + 2 * own) * CROSS_ROUNDS);
		assert_int_equal(c[0].reused + c[1].reused, own ? 0 : 2 * CROSS_ROUNDS);
		for (int i = 0; i < 2; i++)
			assert_int_equal(audits(s, seen[i].name), (1 + 2 * own) * CROSS_ROUNDS);
	}
	for (int i = 0; i < 2; i++)
		m_machine_clear(&seen[i]);
}

static int audit_detail_cb(const struct m_audit *a, void *arg)
{
	/* escaped as include/measured/text.h says, computed by hand */
	assert_string_equal(a->reason, "r\\x0a");
	assert_string_equal(a->detail, "a\\x0aforged\\x1b[2J\\xff");
	(*(int *)arg)++;
	return 0;
}

/* a policy list is refused over its maximum when written, and read back whole */
static void test_policy_list(void **state)
{
	struct m_store *s = *state;
	struct m_machine m = { .name = "lists", .ek_pub = "RUsx", .ak_pub = "QUsx", .ek_trust = "tofu" };
	struct m_machine got;
	char list[2 * M_STORE_POLICY_LIST_MAX], name[M_STORE_NAME_MAX];
	size_t off = 0;

	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	/* 8 names of 127 characters and 7 commas: 1,023 characters, the most there is */
	for (unsigned i = 0; i < M_STORE_POLICIES_MAX; i++) {
		memset(name, 'a' + i, M_STORE_NAME_MAX - 1);
		name[M_STORE_NAME_MAX - 1] = 0;
		off += (size_t)sprintf(list + off, "%s%s", i ? "," : "", name);
	}
	assert_int_equal(strlen(list), 1023);
	assert_int_equal(m_store_machine_set(s, "lists", -1, list), 0);
	assert_int_equal(m_store_machine_get(s, "lists", &got), 0);
	assert_string_equal(got.policy, list);	/* whole: the last name is there */
	m_machine_clear(&got);
	/* one character more, or a ninth name: refused, nothing changes */
	strcat(list, "b");
	assert_int_equal(m_store_machine_set(s, "lists", -1, list), -E2BIG);
	assert_int_equal(m_store_machine_set(s, "lists", -1, "a,b,c,d,e,f,g,h,i"), -E2BIG);
	assert_int_equal(m_store_policy_list_check("a,b,c,d,e,f,g,h"), 0);
	assert_int_equal(m_store_machine_get(s, "lists", &got), 0);
	assert_int_equal(strlen(got.policy), 1023);
	m_machine_clear(&got);
}

/* names: the server's rule */
static void test_names(void **state)
{
	(void)state;
	assert_true(m_store_name_ok("m1.example_A-9", 14));
	assert_false(m_store_name_ok("", 0));
	assert_false(m_store_name_ok("a b", 3));
	assert_false(m_store_name_ok("a\nb", 3));
	assert_false(m_store_name_ok("a\0b", 3));	/* an embedded NUL */
	assert_false(m_store_name_ok("a/b", 3));
	assert_true(m_store_policy_weak((1u << 16) | (1u << 23) | (1u << 15)));
	assert_false(m_store_policy_weak((1u << 16) | (1u << 4)));
}

/* outside text is stored escaped: one line of printable ASCII per record */
static void test_audit_escaped(void **state)
{
	struct m_store *s = *state;
	int found = 0;

	assert_int_equal(m_store_audit(s, "esc", "attest", "fail", "r\n", "a\nforged\x1b[2J\xff"), 0);
	assert_int_equal(m_store_audit_list(s, "esc", 0, audit_detail_cb, &found), 0);
	assert_int_equal(found, 1);
}

/* the SQLite file: created 0600 under a permissive umask; a file others can read is refused */
static void test_sqlite_file_mode(void **state)
{
	char p[64], url[80];
	struct m_store *st;
	struct stat sb;
	mode_t old;

	(void)state;
	new_sqlite(p, url);
	unlink(p);	/* made by the store, with its mode */
	old = umask(022);
	assert_int_equal(m_store_open(url, &st), 0);
	umask(old);
	m_store_close(st);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(m_store_open(url, &st), -EACCES);
	assert_int_equal(m_store_open_flags(url, M_STORE_OPEN_SHARED_FILE, &st), 0);
	m_store_close(st);
	drop_sqlite(p);
}

/* the WAL's last frame, mxFrame in the WAL index header (SQLite's file format, "WAL-Index Format") */
static uint32_t wal_frames(const char *p)
{
	char f[80];
	uint32_t mx = 0;
	FILE *fp;

	snprintf(f, sizeof(f), "%s-shm", p);
	fp = fopen(f, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 16, SEEK_SET), 0);
	assert_int_equal(fread(&mx, sizeof(mx), 1, fp), 1);
	fclose(fp);
	return mx;
}

/*
 * What an attestation's transaction costs the WAL, in pages (each a write
 * of its own): its nonce, the machine's row, its audit record with the
 * audit's two indexes.  An unchanged result rewrites no index entry of the
 * machine (m_store_machine_attested()), and the nonce's row goes in at the
 * end of its B-tree.  The tree before wrote ~8.75 pages here.
 */
static void test_pages_per_attestation(void **state)
{
	enum { MACHINES = 2000, ROUNDS = 400 };
	char p[64], url[80], name[32], nonce[32];
	struct m_store *s;
	struct m_machine seen = { .ek_pub = "RUsx", .ak_pub = "QUsx", .policy = "boot" };	/* as enrolled below */
	uint32_t before = 0;

	(void)state;
	new_sqlite(p, url);
	assert_int_equal(m_store_open(url, &s), 0);
	m_store_defer_checkpoints(s);
	assert_int_equal(m_store_begin(s), 0);
	for (int i = 0; i < MACHINES; i++) {
		struct m_machine m = { .ek_pub = "RUsx", .ak_pub = "QUsx", .ek_trust = "tofu" };

		snprintf(m.name, sizeof(m.name), "machine-%05d", i);
		assert_int_equal(m_store_machine_enrol(s, &m), 0);
		assert_int_equal(m_store_machine_set(s, m.name, M_MACHINE_APPROVED, "boot"), 0);
	}
	assert_int_equal(m_store_commit(s), 0);
	/* every machine attests once (its first result and match are news), then as usual */
	for (int i = 0; i < MACHINES + ROUNDS; i++) {
		if (i == MACHINES)
			before = wal_frames(p);
		/* machines in a scattered order, as a fleet attests */
		snprintf(name, sizeof(name), "machine-%05d", (i * 7919) % MACHINES);
		snprintf(nonce, sizeof(nonce), "%08x%08x", (unsigned)i * 2654435761u, (unsigned)i);
		assert_int_equal(m_store_begin(s), 0);
		assert_int_equal(m_store_nonce_use(s, nonce, name, 1000 + i / 50), 0);
		snprintf(seen.name, sizeof(seen.name), "%s", name);
		assert_int_equal(m_store_machine_attested(s, &seen, 100 + (uint64_t)i, 1, 0, "pass", "", 70 + i), 0);
		assert_int_equal(m_store_machine_matched(s, name, "boot:default", 70), 0);
		assert_int_equal(m_store_audit_commit(s, name, "attest", "pass", "", "boot:default"), 0);
	}
	/* machine, nonce, audit and its two indexes: five, and a split now and then */
	assert_true(wal_frames(p) - before <= ROUNDS * 55 / 10);
	assert_true(wal_frames(p) - before >= ROUNDS * 5);	/* the count itself is read right */
	/* a changed result still reaches the dashboard's indexes */
	snprintf(seen.name, sizeof(seen.name), "machine-00007");
	assert_int_equal(m_store_machine_attested(s, &seen, 100000, 1, 0, "fail", "manifest-mismatch", 900), 0);
	{
		struct m_machine got;

		assert_int_equal(m_store_machine_get(s, "machine-00007", &got), 0);
		assert_string_equal(got.last_result, "fail");
		assert_string_equal(got.last_reason, "manifest-mismatch");
		assert_int_equal(got.last_at, 900);
		m_machine_clear(&got);
	}
	m_store_close(s);
	drop_sqlite(p);
}

struct committer {
	struct m_store *s;
	int commits;
	atomic_bool done;
};

static void *commit_loop(void *arg)
{
	struct committer *c = arg;
	char n[32];

	for (int i = 0; i < c->commits; i++) {
		snprintf(n, sizeof(n), "we%06d", i);
		if (m_store_nonce_use(c->s, n, "m1", 1000) < 0)
			break;
	}
	atomic_store(&c->done, true);
	return NULL;
}

/*
 * The WAL stays bounded while a writer never stops: the server's main
 * thread checkpoints on its own handle while request threads commit.
 * Passive checkpoints alone never caught up with the writer, and the WAL
 * grew by every commit (one page each here: 60,000 frames by the end).
 */
static void test_wal_bounded(void **state)
{
	char p[64], url[80], wal[80];
	struct committer c = { .commits = 60000 };
	struct m_store *maint;
	pthread_t th;
	struct stat sb;

	(void)state;
	new_sqlite(p, url);
	assert_int_equal(m_store_open(url, &c.s), 0);
	assert_int_equal(m_store_open(url, &maint), 0);
	m_store_defer_checkpoints(c.s);
	m_store_defer_checkpoints(maint);
	assert_int_equal(pthread_create(&th, NULL, commit_loop, &c), 0);
	while (!atomic_load(&c.done)) {
		assert_int_equal(m_store_checkpoint(maint), 0);
		usleep(2000);
	}
	pthread_join(th, NULL);
	snprintf(wal, sizeof(wal), "%s-wal", p);
	assert_int_equal(stat(wal, &sb), 0);
	/*
	 * A checkpoint is due at 10,000 frames (4,120 bytes each here); the
	 * writer goes on while it copies them and flushes the file: a slow
	 * disk lets the WAL reach some tens of thousands of frames first.
	 */
	assert_true(sb.st_size < 40000 * 4120);
	assert_int_equal(m_store_nonce_use(maint, "we000000", "m1", 1000), -EALREADY);
	assert_int_equal(m_store_nonce_use(maint, "we059999", "m1", 1000), -EALREADY);
	m_store_close(maint);
	m_store_close(c.s);
	drop_sqlite(p);
}

/* A database whose used_nonces is keyed by the nonce alone (before 2026-12) keeps working. */
static void test_used_nonces_older_layout(void **state)
{
	char p[64], url[80];
	struct m_store *s;
	sqlite3 *db;
	sqlite3_stmt *st;
	int have;

	(void)state;
	new_sqlite(p, url);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE used_nonces (nonce TEXT PRIMARY KEY, machine TEXT NOT NULL,"
					  " expires BIGINT NOT NULL) WITHOUT ROWID", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(m_store_open(url, &s), 0);
	assert_int_equal(m_store_nonce_use(s, "dd01", "m1", 1000), 0);
	assert_int_equal(m_store_nonce_use(s, "dd01", "m2", 1000), -EALREADY);
	assert_int_equal(m_store_nonce_use(s, "dd02", "m1", 500), 0);
	assert_int_equal(m_store_expire(s, 600), 0);
	assert_int_equal(m_store_nonce_use(s, "dd02", "m1", 500), 0);	/* forgotten once expired */
	assert_int_equal(m_store_nonce_use(s, "dd01", "m1", 1000), -EALREADY);
	m_store_close(s);
	/* it got its index on expires; a new database has none (its key starts with expires) */
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'used_nonces_expires'",
					    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(have, 1);
	drop_sqlite(p);

	new_sqlite(p, url);
	assert_int_equal(m_store_open(url, &s), 0);
	m_store_close(s);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_schema WHERE name ="
					    " 'used_nonces_expires'), (SELECT pk FROM pragma_table_info('used_nonces')"
					    " WHERE name = 'expires')", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	assert_int_equal(sqlite3_column_int(st, 1), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	drop_sqlite(p);
}

static void test_enrolment_once(void **state)
{
	struct m_store *s = *state;
	struct m_enrolment e = { .id = "0123", .machine = "box", .ek_pub = "RQ==", .ak_pub = "QQ==",
				 .ek_trust = "ca", .secret_hash = "ab", .expires = 99 };
	struct m_enrolment got;

	assert_int_equal(m_store_enrolment_add(s, &e), 0);
	assert_int_equal(m_store_enrolment_take(s, "0123", &got), 0);
	assert_string_equal(got.machine, "box");
	assert_string_equal(got.secret_hash, "ab");
	assert_int_equal(got.expires, 99);
	assert_string_equal(got.tpm, "2.0");	/* "" is written as TPM 2.0 */
	m_enrolment_clear(&got);
	assert_int_equal(m_store_enrolment_take(s, "0123", &got), -ENOENT);
	/* a TPM 1.2's enrolment keeps its family */
	memcpy(e.id, "0124", 5);
	memcpy(e.tpm, "1.2", 4);
	assert_int_equal(m_store_enrolment_add(s, &e), 0);
	assert_int_equal(m_store_enrolment_take(s, "0124", &got), 0);
	assert_string_equal(got.tpm, "1.2");
	m_enrolment_clear(&got);
}

/* A TPM 1.2 machine: its family is kept, another family under its name is refused, results without a clock. */
static void test_machine12(void **state)
{
	struct m_store *s = *state;
	struct m_machine m = { .name = "old12", .ek_pub = "RUsx", .ak_pub = "QUsx", .ek_trust = "tofu", .tpm = "1.2" };
	struct m_machine got;

	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	m.ak_pub = "QUsy";
	assert_int_equal(m_store_machine_enrol(s, &m), 0);
	memcpy(m.tpm, "2.0", 4);	/* the same key text as a TPM 2.0: another TPM */
	assert_int_equal(m_store_machine_enrol(s, &m), -EEXIST);
	assert_int_equal(m_store_machine_result(s, &m, "fail", "nonce-reused", 80), -EPERM);	/* pending */
	assert_int_equal(m_store_machine_set(s, "old12", M_MACHINE_APPROVED, NULL), 0);
	assert_int_equal(m_store_machine_result(s, &m, "fail", "nonce-reused", 80), 0);
	memcpy(m.name, "nobox", 6);
	assert_int_equal(m_store_machine_result(s, &m, "fail", "x", 80), -ENOENT);
	assert_int_equal(m_store_machine_get(s, "old12", &got), 0);
	assert_string_equal(got.tpm, "1.2");
	assert_string_equal(got.ak_pub, "QUsy");
	assert_false(got.have_clock);
	assert_string_equal(got.last_result, "fail");
	assert_string_equal(got.last_reason, "nonce-reused");
	assert_int_equal(got.last_at, 80);
	m_machine_clear(&got);
}

static void test_policy_payload_audit(void **state)
{
	struct m_store *s = *state;
	struct m_policy p = { .name = "good", .manifest = "{}", .pcrs = 0x10000, .banks = 2 }, got;
	uint8_t data[300], *d;
	size_t n;
	char pol[32];
	int64_t v1;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	assert_int_equal(m_store_policy_put(s, &p), 0);
	assert_int_equal(m_store_policy_head(s, "good", &got), 0);
	assert_int_equal(got.pcrs, 0x10000);
	assert_null(got.manifest);
	v1 = got.version;
	usleep(2000);
	assert_int_equal(m_store_policy_put(s, &p), 0);
	assert_int_equal(m_store_policy_get(s, "good", &got), 0);
	assert_string_equal(got.manifest, "{}");
	assert_true(got.version != v1);
	m_policy_clear(&got);
	assert_int_equal(m_store_policy_get(s, "goood", &got), -ENOENT);

	assert_int_equal(m_store_payload_put(s, "pkg", "good", data, sizeof(data)), 0);
	assert_int_equal(m_store_payload_get(s, "pkg", pol, sizeof(pol), &d, &n), 0);
	assert_string_equal(pol, "good");
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(d, data, n);
	free(d);
	assert_int_equal(m_store_payload_get(s, "pkgg", pol, sizeof(pol), &d, &n), -ENOENT);
	assert_int_equal(m_store_audit(s, "box", "attest", "fail", "nonce-reused", "x"), 0);
}

struct labels {
	char all[512];
	char text[64];	/* the last manifest's text */
};

static int label_cb(const struct m_policy_manifest *pm, void *arg)
{
	struct labels *l = arg;

	snprintf(l->all + strlen(l->all), sizeof(l->all) - strlen(l->all), "%s%s", l->all[0] ? "," : "", pm->label);
	snprintf(l->text, sizeof(l->text), "%s", pm->manifest);
	return 0;
}

static const char *labels(struct m_store *s, const char *policy, bool with_text, struct labels *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(m_store_policy_manifests(s, policy, with_text, label_cb, l), 0);
	return l->all;
}

static int match_cb(const char *machine, const char *matched, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s=%s;", machine, matched);
	return 0;
}

/* named manifests: a policy add's is "default"; add, retire, their refusals; policy add resets them */
static void test_manifests(void **state)
{
	struct m_store *s = *state;
	struct m_policy p = { .name = "roll", .manifest = "{\"m\":0}", .pcrs = 0x10, .banks = 2 }, h;
	struct labels l;
	char name[16], matched[256] = "";
	int64_t v;

	assert_int_equal(m_store_policy_put(s, &p), 0);
	assert_string_equal(labels(s, "roll", true, &l), "default");
	assert_string_equal(l.text, "{\"m\":0}");
	assert_string_equal(labels(s, "nosuch", false, &l), "");
	assert_int_equal(m_store_policy_head(s, "roll", &h), 0);
	v = h.version;
	usleep(2000);
	assert_int_equal(m_store_policy_manifest_add(s, "roll", "next", "{\"m\":1}"), 0);
	assert_int_equal(m_store_policy_head(s, "roll", &h), 0);
	assert_true(h.version != v);	/* the verifiers' caches see the change */
	assert_string_equal(labels(s, "roll", true, &l), "default,next");
	assert_string_equal(l.text, "{\"m\":1}");
	assert_int_equal(m_store_policy_manifest_add(s, "roll", "next", "{}"), -EEXIST);
	assert_int_equal(m_store_policy_manifest_add(s, "nosuch", "next", "{}"), -ENOENT);
	assert_int_equal(m_store_policy_manifest_add(s, "roll", "a b", "{}"), -EINVAL);
	assert_int_equal(m_store_policy_manifest_add(s, "roll", "", "{}"), -EINVAL);
	for (int i = 2; i < (int)M_STORE_MANIFESTS_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(m_store_policy_manifest_add(s, "roll", name, "{}"), 0);
	}
	assert_int_equal(m_store_policy_manifest_add(s, "roll", "one-more", "{}"), -E2BIG);
	assert_int_equal(m_store_policy_manifest_retire(s, "roll", "zz"), -ENOENT);
	assert_int_equal(m_store_policy_manifest_retire(s, "nosuch", "next"), -ENOENT);
	for (int i = 2; i < (int)M_STORE_MANIFESTS_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(m_store_policy_manifest_retire(s, "roll", name), 0);
	}
	assert_int_equal(m_store_policy_manifest_retire(s, "roll", "default"), 0);
	assert_string_equal(labels(s, "roll", false, &l), "next");
	assert_int_equal(m_store_policy_manifest_retire(s, "roll", "next"), -EBUSY);
	assert_string_equal(labels(s, "roll", true, &l), "next");

	/* policy add replaces them all; with a label, its manifest is named so */
	assert_int_equal(m_store_policy_put(s, &p), 0);
	assert_string_equal(labels(s, "roll", false, &l), "default");
	assert_int_equal(m_store_policy_manifest_retire(s, "roll", "default"), -EBUSY);
	p.label = "v1";
	assert_int_equal(m_store_policy_put(s, &p), 0);
	assert_string_equal(labels(s, "roll", true, &l), "v1");
	assert_string_equal(l.text, "{\"m\":0}");

	/* what machines matched: replaced on every attestation */
	assert_int_equal(m_store_machine_matched(s, "m1", "roll:v1", 1), 0);
	assert_int_equal(m_store_machine_matched(s, "m2", "roll:next", 1), 0);
	assert_int_equal(m_store_machine_matched(s, "m1", "", 2), 0);
	assert_int_equal(m_store_machine_matched_list(s, match_cb, matched), 0);
	assert_string_equal(matched, "m1=;m2=roll:next;");
	/* the same list again changes nothing; another one replaces it */
	assert_int_equal(m_store_machine_matched(s, "m2", "roll:next", 3), 0);
	assert_int_equal(m_store_machine_matched(s, "m1", "roll:v1", 3), 0);
	matched[0] = 0;
	assert_int_equal(m_store_machine_matched_list(s, match_cb, matched), 0);
	assert_string_equal(matched, "m1=roll:v1;m2=roll:next;");
}

static void test_b64(void **state)
{
	uint8_t *d;
	size_t n;
	(void)state;

	assert_int_equal(m_b64_decode("aGVsbG8=", 8, 16, NULL, &d, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(d, "hello", 5);
	free(d);
	assert_int_equal(m_b64_decode("aGVsbG8", 7, 16, NULL, &d, &n), -EBADMSG);
	assert_int_equal(m_b64_decode("aG=sbG8=", 8, 16, NULL, &d, &n), -EBADMSG);
	assert_int_equal(m_b64_decode("aGVs bG8", 8, 16, NULL, &d, &n), -EBADMSG);
	assert_int_equal(m_b64_decode("aGVsbG8=", 8, 4, NULL, &d, &n), -E2BIG);

	/* every length up to 300 bytes, against OpenSSL's encoder; a character
	 * outside the alphabet at any position of a group is refused */
	for (size_t len = 1; len <= 300; len++) {
		uint8_t in[300];
		char text[4 * 100 + 1];

		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 151 + len * 7);
		int tl = EVP_EncodeBlock((unsigned char *)text, in, (int)len);

		assert_int_equal(m_b64_decode(text, (size_t)tl, 300, NULL, &d, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(d, in, len);
		free(d);
		for (int at = 0; at < tl - 4; at += 5) {
			static const char bad[] = { '.', '"', '\\', '=', (char)0x80, 0 };
			char saved = text[at];

			text[at] = bad[at % 6];
			assert_int_equal(m_b64_decode(text, (size_t)tl, 300, NULL, &d, &n), -EBADMSG);
			text[at] = saved;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_transaction),
		cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_shared_threads),
		cmocka_unit_test(test_machine),
		cmocka_unit_test(test_nonce_use_attested),
		cmocka_unit_test(test_policy_list),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_audit_escaped),
		cmocka_unit_test(test_sqlite_file_mode),
		cmocka_unit_test(test_pages_per_attestation),
		cmocka_unit_test(test_used_nonces_older_layout),
		cmocka_unit_test(test_wal_bounded),
		cmocka_unit_test(test_enrolment_once),
		cmocka_unit_test(test_machine12),
		cmocka_unit_test(test_policy_payload_audit),
		cmocka_unit_test(test_manifests),
		cmocka_unit_test(test_b64),
		/* last: test_manifests lists every machine's matches */
		cmocka_unit_test(test_transaction_later),
		cmocka_unit_test(test_pass_settle),
		cmocka_unit_test(test_pass_settle_many),
		cmocka_unit_test(test_pass_group),
		cmocka_unit_test(test_pass_settle_many_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

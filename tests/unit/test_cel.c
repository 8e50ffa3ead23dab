// SPDX-License-Identifier: MIT
/*
 * CEL-JSON: writer and reader.  Expected PCR values are computed here with
 * OpenSSL directly (digest of the measured text, then H(pcr || digest)),
 * never with the project's own digest or replay code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "measured/cel.h"
#include "measured/error.h"
#include "measured/eventlog.h"

/* The test's own bank table: OpenSSL names and sizes, in the project's bank order. */
static const struct { const char *ossl; unsigned size; } banks[M_BANK_COUNT] = {
	[M_SHA1] = { "SHA1", 20 }, [M_SHA256] = { "SHA256", 32 }, [M_SHA384] = { "SHA384", 48 },
	[M_SHA512] = { "SHA512", 64 }, [M_SM3_256] = { "SM3", 32 },
};

static void ossl_digest(int b, const void *data, size_t len, uint8_t *out)
{
	unsigned n = 0;

	assert_int_equal(EVP_Digest(data, len, out, &n, EVP_get_digestbyname(banks[b].ossl), NULL), 1);
	assert_int_equal(n, banks[b].size);
}

static void ossl_extend(int b, uint8_t *pcr, const uint8_t *digest)
{
	uint8_t buf[2 * M_DIGEST_MAX];

	memcpy(buf, pcr, banks[b].size);
	memcpy(buf + banks[b].size, digest, banks[b].size);
	ossl_digest(b, buf, 2 * banks[b].size, pcr);
}

/* Every bank OpenSSL here can compute (SM3 may be missing in some builds). */
static unsigned test_banks(void)
{
	unsigned m = 0;

	for (int b = 0; b < M_BANK_COUNT; b++)
		if (EVP_get_digestbyname(banks[b].ossl))
			m |= 1u << b;
	return m;
}

static void digests_of(unsigned mask, const char *text, struct m_digests *d)
{
	memset(d, 0, sizeof(*d));
	d->banks = mask;
	for (int b = 0; b < M_BANK_COUNT; b++)
		if (mask & (1u << b))
			ossl_digest(b, text, strlen(text), d->d[b]);
}

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/measured-test-cel-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *dir)
{
	/* only our own mkdtemp directory, depth first, never following links */
	if (strncmp(dir, "/tmp/measured-test-cel-", 23) == 0)
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	return 0;
}

static void path_in_tmp(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static uint8_t *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*ret_len = n;
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static const char *srcdir(void)
{
	const char *s = getenv("MEASURED_SRCDIR");

	return s ? s : ".";
}

static void sample_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/tests/data/cel/%s", srcdir(), name);
}

/* N records through m_cel_append(), back through m_log_load(), replayed. */
static void test_write_parse_replay(void **state)
{
	(void)state;
	enum { N = 40 };
	unsigned mask = test_banks();
	uint8_t expect[M_BANK_COUNT][M_PCR_COUNT][M_DIGEST_MAX] = { 0 };
	char path[128], desc[64];
	struct m_log *log = NULL;
	struct m_pcrs *pcrs = calloc(1, sizeof(*pcrs));
	struct stat st;

	assert_non_null(pcrs);
	path_in_tmp(path, sizeof(path), "sub/dir/replay.log");	/* parents are created */
	for (int i = 0; i < N; i++) {
		struct m_digests d;
		unsigned pcr = i % 3 == 0 ? 9 : 14;

		snprintf(desc, sizeof(desc), "event %d", i);
		digests_of(mask, desc, &d);
		assert_int_equal(m_cel_append(path, pcr, &d, desc), 0);
		for (int b = 0; b < M_BANK_COUNT; b++)
			if (mask & (1u << b))
				ossl_extend(b, expect[b][pcr], d.d[b]);
	}
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);	/* systemd's mode, and the mark cleared */

	assert_int_equal(m_log_load(path, &log), 0);
	assert_int_equal(log->format, M_LOG_CEL_JSON);
	assert_int_equal(log->count, N);
	assert_int_equal(log->banks, mask);
	for (int i = 0; i < N; i++) {
		snprintf(desc, sizeof(desc), "event %d", i);
		assert_int_equal(log->ev[i].recnum, i);
		assert_int_equal(log->ev[i].pcr, i % 3 == 0 ? 9 : 14);
		assert_int_equal(log->ev[i].line, i + 1);
		assert_true(log->ev[i].extends);
		assert_string_equal(log->ev[i].desc, desc);
		assert_int_equal(log->raw[log->ev[i].offset - 1], 0x1e);
	}
	assert_int_equal(m_log_replay(log, pcrs), 0);
	for (int b = 0; b < M_BANK_COUNT; b++) {
		if (!(mask & (1u << b)))
			continue;
		assert_int_equal(pcrs->present[b], (1u << 9) | (1u << 14));
		assert_memory_equal(pcrs->v[b][9], expect[b][9], banks[b].size);
		assert_memory_equal(pcrs->v[b][14], expect[b][14], banks[b].size);
	}
	m_log_free(log);
	free(pcrs);
}

/* The words systemd-pcrextend measured in systemd-sample.cel (see its README). */
static const struct { unsigned pcr; const char *word; } systemd_words[] = {
	{ 11, "enter-initrd" },
	{ 11, "leave-initrd" },
	{ 15, "machine-id:0123456789abcdef0123456789abcdef" },
	{ 11, "sysinit" },
	{ 15, "file-system:/:ext4:root:0d4d4b2e-8a1b-4bd4-8c56-3b0c1f2a9e10" },
	{ 11, "ready" },
};
#define N_SYSTEMD (sizeof(systemd_words) / sizeof(systemd_words[0]))

static void systemd_expect(uint8_t expect[M_BANK_COUNT][M_PCR_COUNT][M_DIGEST_MAX])
{
	for (size_t i = 0; i < N_SYSTEMD; i++) {
		const char *w = systemd_words[i].word;

		for (int b = M_SHA1; b <= M_SHA256; b++) {
			uint8_t d[M_DIGEST_MAX];

			ossl_digest(b, w, strlen(w), d);
			ossl_extend(b, expect[b][systemd_words[i].pcr], d);
		}
	}
}

static void test_systemd_sample(void **state)
{
	(void)state;
	uint8_t expect[M_BANK_COUNT][M_PCR_COUNT][M_DIGEST_MAX] = { 0 };
	struct m_pcrs *pcrs = calloc(1, sizeof(*pcrs));
	struct m_log *log = NULL;
	char path[512];
	int r;

	assert_non_null(pcrs);
	sample_path(path, sizeof(path), "systemd-sample.cel");
	r = m_log_load(path, &log);
	if (r < 0)
		fail_msg("%s", m_errmsg(r));
	assert_int_equal(log->count, N_SYSTEMD);
	/* sha3_256 in one record is skipped: only banks we know, present everywhere */
	assert_int_equal(log->banks, M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256));
	for (size_t i = 0; i < N_SYSTEMD; i++) {
		assert_int_equal(log->ev[i].recnum, i);	/* systemd writes none: position */
		assert_int_equal(log->ev[i].pcr, systemd_words[i].pcr);
		assert_string_equal(log->ev[i].desc, systemd_words[i].word);
		assert_int_equal(log->ev[i].line, i + 1);
	}
	assert_int_equal(log->ev[0].offset, 1);
	systemd_expect(expect);
	assert_int_equal(m_log_replay(log, pcrs), 0);
	for (int b = M_SHA1; b <= M_SHA256; b++) {
		assert_int_equal(pcrs->present[b], (1u << 11) | (1u << 15));
		assert_memory_equal(pcrs->v[b][11], expect[b][11], banks[b].size);
		assert_memory_equal(pcrs->v[b][15], expect[b][15], banks[b].size);
	}
	assert_int_equal(pcrs->present[M_SHA384], 0);
	m_log_free(log);
	free(pcrs);
}

/* Our writer appending to systemd's log: numbering continues, banks intersect. */
static void test_append_to_systemd_log(void **state)
{
	(void)state;
	uint8_t expect[M_BANK_COUNT][M_PCR_COUNT][M_DIGEST_MAX] = { 0 };
	struct m_pcrs *pcrs = calloc(1, sizeof(*pcrs));
	struct m_log *log = NULL;
	struct m_digests d;
	char src[512], path[128];
	uint8_t *data;
	size_t len;

	sample_path(src, sizeof(src), "systemd-sample.cel");
	path_in_tmp(path, sizeof(path), "mixed.log");
	data = read_file(src, &len);
	write_file(path, data, len);
	free(data);
	digests_of(test_banks(), "rootfs", &d);
	assert_int_equal(m_cel_append(path, 11, &d, "rootfs"), 0);
	assert_int_equal(m_log_load(path, &log), 0);
	assert_int_equal(log->count, N_SYSTEMD + 1);
	assert_int_equal(log->ev[N_SYSTEMD].recnum, N_SYSTEMD);
	assert_string_equal(log->ev[N_SYSTEMD].desc, "rootfs");
	assert_int_equal(log->banks, M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256));
	systemd_expect(expect);
	ossl_extend(M_SHA1, expect[M_SHA1][11], d.d[M_SHA1]);
	ossl_extend(M_SHA256, expect[M_SHA256][11], d.d[M_SHA256]);
	assert_int_equal(m_log_replay(log, pcrs), 0);
	assert_memory_equal(pcrs->v[M_SHA1][11], expect[M_SHA1][11], 20);
	assert_memory_equal(pcrs->v[M_SHA256][11], expect[M_SHA256][11], 32);
	assert_int_equal(pcrs->present[M_SHA512], 0);
	m_log_free(log);
	free(pcrs);
}

/* A top-level array (with an EV_NO_ACTION record) and newline-delimited objects. */
static void test_other_framings(void **state)
{
	(void)state;
	uint8_t zero[32] = { 0 }, p14[32] = { 0 }, d[32];
	struct m_pcrs *pcrs = calloc(1, sizeof(*pcrs));
	struct m_log *log = NULL;
	char path[512];
	int r;

	ossl_digest(M_SHA256, "one", 3, d);
	ossl_extend(M_SHA256, p14, d);
	ossl_digest(M_SHA256, "two", 3, d);
	ossl_extend(M_SHA256, p14, d);

	sample_path(path, sizeof(path), "array-sample.json");
	r = m_log_load(path, &log);
	if (r < 0)
		fail_msg("%s", m_errmsg(r));
	assert_int_equal(log->count, 3);
	assert_int_equal(log->ev[0].recnum, 0);
	assert_int_equal(log->ev[2].recnum, 5);
	assert_false(log->ev[0].extends);
	assert_int_equal(log->ev[0].type, 3);
	assert_string_equal(log->ev[0].desc, "EV_NO_ACTION");
	assert_int_equal(log->ev[1].line, 17);	/* pretty-printed: the line of its '{' */
	assert_int_equal(m_log_replay(log, pcrs), 0);
	assert_int_equal(pcrs->present[M_SHA256], 1u << 14);
	assert_memory_equal(pcrs->v[M_SHA256][14], p14, 32);
	assert_memory_not_equal(pcrs->v[M_SHA256][14], zero, 32);
	m_log_free(log);

	sample_path(path, sizeof(path), "ndjson-sample.jsonl");
	assert_int_equal(m_log_load(path, &log), 0);
	assert_int_equal(log->count, 2);
	assert_int_equal(log->ev[0].recnum, 1);
	assert_int_equal(log->ev[1].line, 2);
	memset(pcrs, 0, sizeof(*pcrs));
	assert_int_equal(m_log_replay(log, pcrs), 0);
	assert_memory_equal(pcrs->v[M_SHA256][14], p14, 32);
	m_log_free(log);
	free(pcrs);
}

static bool msg_has(int r, const char *needle)
{
	return strstr(m_errmsg(r), needle) != NULL;
}

/*
 * Crash safety: the log cut at every byte inside its last record.  The
 * strict reader refuses it, the torn-tail reader returns the earlier
 * records intact, and an append after it yields a log whose earlier
 * records are intact and whose new record parses.
 */
static void test_torn_tail(void **state)
{
	(void)state;
	enum { N = 5 };
	unsigned mask = M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256);
	char path[128], cut_path[128];
	struct m_log *full = NULL;
	struct m_digests d;
	size_t len, last_rs;
	uint8_t *data;

	path_in_tmp(path, sizeof(path), "torn.log");
	path_in_tmp(cut_path, sizeof(cut_path), "cut.log");
	for (int i = 0; i < N; i++) {
		char desc[32];

		snprintf(desc, sizeof(desc), "record \"%d\"\n", i);
		digests_of(mask, desc, &d);
		assert_int_equal(m_cel_append(path, 10, &d, desc), 0);
	}
	data = read_file(path, &len);
	assert_int_equal(m_cel_parse_buf(data, len, "full", false, &full), 0);
	assert_int_equal(full->count, N);
	for (last_rs = len - 1; data[last_rs] != 0x1e; last_rs--)
		;
	digests_of(mask, "after the crash", &d);

	for (size_t cut = last_rs + 1; cut < len; cut++) {
		struct m_log *log = NULL;
		bool complete = cut == len - 1;	/* whole JSON text, only its "\n" missing */
		size_t keep = complete ? N : N - 1;
		int r;

		r = m_cel_parse_buf(data, cut, "cut", false, &log);
		assert_int_equal(r, -EBADMSG);
		assert_true(msg_has(r, "record 4 (offset"));

		r = m_cel_parse_buf(data, cut, "cut", true, &log);
		if (r < 0)
			fail_msg("cut at %zu: %s", cut, m_errmsg(r));
		assert_int_equal(log->count, keep);
		for (size_t i = 0; i < keep; i++) {
			assert_int_equal(log->ev[i].recnum, i);
			assert_int_equal(log->ev[i].offset, full->ev[i].offset);
			assert_string_equal(log->ev[i].desc, full->ev[i].desc);
			assert_memory_equal(log->ev[i].digest[M_SHA256], full->ev[i].digest[M_SHA256], 32);
		}
		m_log_free(log);

		/* append after the crash */
		write_file(cut_path, data, cut);
		r = m_cel_append(cut_path, 10, &d, "after the crash");
		if (r < 0)
			fail_msg("append after cut at %zu: %s", cut, m_errmsg(r));
		{
			size_t nlen;
			uint8_t *ndata = read_file(cut_path, &nlen);

			assert_memory_equal(ndata, data, cut);	/* nothing before was touched */
			r = m_cel_parse_buf(ndata, nlen, "appended", true, &log);
			if (r < 0)
				fail_msg("cut at %zu, appended: %s", cut, m_errmsg(r));
			assert_int_equal(log->count, keep + 1);
			for (size_t i = 0; i < keep; i++)
				assert_string_equal(log->ev[i].desc, full->ev[i].desc);
			assert_int_equal(log->ev[keep].recnum, keep);
			assert_string_equal(log->ev[keep].desc, "after the crash");
			assert_memory_equal(log->ev[keep].digest[M_SHA1], d.d[M_SHA1], 20);
			m_log_free(log);
			/* the strict reader accepts it only if nothing was lost */
			r = m_cel_parse_buf(ndata, nlen, "appended", false, &log);
			if (complete) {
				assert_int_equal(r, 0);
				m_log_free(log);
			} else {
				assert_int_equal(r, -EBADMSG);
				assert_true(msg_has(r, "cut short"));
			}
			free(ndata);
		}
		unlink(cut_path);
	}
	m_log_free(full);
	free(data);
}

/* 4 processes x 50 appends on one file: the lock keeps records whole and numbers dense. */
static void test_concurrent(void **state)
{
	(void)state;
	enum { P = 4, PER = 50 };
	char path[128];
	struct m_log *log = NULL;
	pid_t pids[P];
	int next[P] = { 0 };

	path_in_tmp(path, sizeof(path), "concurrent.log");
	for (int p = 0; p < P; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			for (int i = 0; i < PER; i++) {
				struct m_digests d;
				char desc[32];

				snprintf(desc, sizeof(desc), "p%d-%d", p, i);
				digests_of(M_BANK_BIT(M_SHA256), desc, &d);
				if (m_cel_append(path, 12, &d, desc) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < P; p++) {
		int st;

		assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(m_log_load(path, &log), 0);
	assert_int_equal(log->count, P * PER);
	for (size_t i = 0; i < log->count; i++) {
		int p, k;

		assert_int_equal(log->ev[i].recnum, i);
		assert_int_equal(sscanf(log->ev[i].desc, "p%d-%d", &p, &k), 2);
		assert_true(p >= 0 && p < P);
		assert_int_equal(k, next[p]);	/* each process's records in its order */
		next[p]++;
	}
	m_log_free(log);
}

/* systemd's dirty mark: set while locked, cleared after, kept if found set. */
static void test_lock_and_mark(void **state)
{
	(void)state;
	char path[128];
	struct m_cel_writer w;
	struct m_digests d;
	struct stat st;
	int fd;

	path_in_tmp(path, sizeof(path), "mark.log");
	digests_of(M_BANK_BIT(M_SHA256), "x", &d);
	assert_int_equal(m_cel_open(path, &w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_ISVTX);
	/* another opener (systemd-pcrextend) cannot take the lock meanwhile */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(m_cel_write(&w, 11, &d, "x"), 0);
	assert_int_equal(m_cel_write(&w, 11, &d, "y"), 0);
	assert_int_equal(m_cel_close(&w), 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	assert_false(st.st_mode & S_ISVTX);

	/* an earlier writer died between extend and record: the mark stays */
	assert_int_equal(chmod(path, 0600 | S_ISVTX), 0);
	assert_int_equal(m_cel_append(path, 11, &d, "z"), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_ISVTX);
	{
		struct m_log *log = NULL;

		assert_int_equal(m_log_load(path, &log), 0);
		assert_int_equal(log->count, 3);
		assert_int_equal(log->ev[2].recnum, 2);
		m_log_free(log);
	}
}

static void test_writer_refuses(void **state)
{
	(void)state;
	char path[128], link[128], big[70000];
	struct m_digests d;
	size_t len;
	uint8_t *data;
	int r;

	digests_of(M_BANK_BIT(M_SHA256), "x", &d);
	path_in_tmp(path, sizeof(path), "refuse.log");
	assert_int_equal(m_cel_append(path, 24, &d, "x"), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(m_cel_append(path, 1, &d, "ok"), 0);
	r = m_cel_append(path, 1, &d, big);
	assert_int_equal(r, -E2BIG);
	data = read_file(path, &len);
	free(data);
	{
		struct m_log *log = NULL;

		assert_int_equal(m_log_load(path, &log), 0);
		assert_int_equal(log->count, 1);	/* the refused record left no trace */
		m_log_free(log);
	}
	/* a symlink is not followed */
	path_in_tmp(link, sizeof(link), "link.log");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(m_cel_append(link, 1, &d, "x"), -ELOOP);
	/* not a JSON text sequence: no number can be told, nothing is appended */
	path_in_tmp(path, sizeof(path), "array.log");
	write_file(path, "[{\"pcr\":1}]\n", 12);
	r = m_cel_append(path, 1, &d, "x");
	assert_int_equal(r, -EBADMSG);
	assert_true(msg_has(r, "not a JSON text sequence"));
	data = read_file(path, &len);
	assert_int_equal(len, 12);
	free(data);
}

struct bad {
	const char *name;	/* a sample file, or NULL for @text */
	const char *text;
	int err;
	const char *msg;	/* part of the message */
};

static void test_bad_inputs(void **state)
{
	(void)state;
	static const char sha256_x[] = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
	char rec[512];
	const struct bad bad[] = {
		{ "bad-garbage.cel", NULL, -EBADMSG, "record 1 (offset 243, line 2): bad JSON at offset 244" },
		{ "bad-pcr24.cel", NULL, -ERANGE, "record 0 (offset 1, line 1): PCR 24 out of range" },
		{ "bad-hexlen.cel", NULL, -EBADMSG, "sha256 digest has 62 hex digits, expected 64" },
		{ "bad-type.cel", NULL, -EBADMSG, "\"pcr\" is not an unsigned integer" },
		{ "bad-recnum-backwards.cel", NULL, -EBADMSG, "record 1 (offset 254, line 2): recnum 3 after 3" },
		{ "bad-deep.cel", NULL, -EBADMSG, "nested deeper than 16" },
		{ "torn-tail.cel", NULL, -EBADMSG, "record 2 (offset 1150, line 3): record cut short" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"zz\"}]}\n", -EBADMSG,
		  "sha256 digest has 2 hex digits" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":{}}\n", -EBADMSG, "\"digests\" is object, not an array" },
		{ NULL, "\x1e{\"pcr\":1}\n", -EBADMSG, "no \"digests\"" },
		{ NULL, "\x1e{\"digests\":[]}\n", -EBADMSG, "neither \"pcr\" nor \"nv_index\"" },
		{ NULL, "\x1e{\"pcr\":-1,\"digests\":[]}\n", -EBADMSG, "\"pcr\" is not an unsigned integer" },
		{ NULL, "\x1e{\"pcr\":1.5,\"digests\":[]}\n", -EBADMSG, "\"pcr\" is not an unsigned integer" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[{\"digest\":\"00\"}]}\n", -EBADMSG, "has no \"hashAlg\"" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[{\"hashAlg\":[],\"digest\":\"00\"}]}\n", -EBADMSG,
		  "hashAlg is array" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[{\"hashAlg\":\"sha1\"}]}\n", -EBADMSG, "has no \"digest\"" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[],\"content_type\":7}\n", -EBADMSG, "\"content_type\" is int" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[],\"content_type\":\"systemd\",\"content\":{\"string\":5}}\n",
		  -EBADMSG, "content.string is int" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[],\"recnum\":\"0\"}\n", -EBADMSG, "\"recnum\" is not" },
		{ NULL, "\x1e[1]\n", -EBADMSG, "a record is a JSON object, this is array" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[]}", -EBADMSG, "not terminated by a newline" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[]} x\n", -EBADMSG, "data after the JSON text" },
		{ NULL, "\x1e\n\x1e{\"pcr\":1,\"digests\":[]}\n", -EBADMSG, "record 0 (offset 1, line 1): record cut" },
		{ NULL, "{\"pcr\":1,\"digests\":[]}\n[", -EBADMSG, "record 1 (offset 23, line 2): expected a JSON object" },
		{ NULL, "[{\"pcr\":1,\"digests\":[]} {}]", -EBADMSG, "expected ',' or ']'" },
		{ NULL, "[{\"pcr\":1,\"digests\":[]}] x", -EBADMSG, "data after the array" },
		{ NULL, "[{\"pcr\":1,\"digests\":[]},", -EBADMSG, "record cut short" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[],\"x\":\"\xff\"}\n", -EBADMSG, "bad JSON" },
		{ NULL, "\x1e{\"pcr\":1,\"digests\":[],\"x\":'a'}\n", -EBADMSG, "bad JSON" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct m_log *log = NULL;
		char path[512];
		int r;

		m_err_clear();
		if (bad[i].name) {
			sample_path(path, sizeof(path), bad[i].name);
			r = m_log_load(path, &log);
		} else {
			snprintf(path, sizeof(path), "inline-%zu", i);
			r = m_log_parse(bad[i].text, strlen(bad[i].text), path, &log);
		}
		if (r != bad[i].err || !msg_has(r, bad[i].msg))
			fail_msg("case %zu (%s): got %d \"%s\", want %d \"%s\"", i, bad[i].name ? bad[i].name : "inline",
				 r, m_errmsg(r), bad[i].err, bad[i].msg);
		assert_null(log);
		if (bad[i].name)
			assert_true(msg_has(r, bad[i].name));	/* the file is named */
	}

	/* a duplicate bank, and a NUL byte */
	snprintf(rec, sizeof(rec), "\x1e{\"pcr\":1,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"%s\"},"
		 "{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}]}\n", sha256_x, sha256_x);
	{
		struct m_log *log = NULL;
		int r = m_log_parse(rec, strlen(rec), "dup", &log);
		static const char nul[] = "\x1e{\"pcr\":1,\"digests\":[]}\n\x1e{\"pcr\":1,\0";

		assert_int_equal(r, -EBADMSG);
		assert_true(msg_has(r, "two sha256 digests"));
		r = m_log_parse(nul, sizeof(nul) - 1, "nul", &log);
		assert_int_equal(r, -EBADMSG);
		assert_true(msg_has(r, "NUL byte at offset 34"));
	}
}

/* The start rules hold in CEL too (lib/eventlog/log.c, m_log_start_rules):
 * a pcclient_std EV_EFI_HCRTM_EVENT starts PCR 0 at 0...04 (H-CRTM), and
 * one after another PCR 0 extend is refused. */
static const char sha256_x61[] = "6161616161616161616161616161616161616161616161616161616161616161";

static void ref_extend256(uint8_t pcr[32], const uint8_t d[32])
{
	uint8_t buf[64];
	unsigned n = 32;

	memcpy(buf, pcr, 32);
	memcpy(buf + 32, d, 32);
	assert_int_equal(EVP_Digest(buf, 64, pcr, &n, EVP_sha256(), NULL), 1);
}

static void test_hcrtm_start(void **state)
{
	(void)state;
	char text[1024];
	struct m_log *log = NULL;
	struct m_pcrs p;
	uint8_t want[32] = { 0 }, d[32];
	int r;

	memset(d, 0x61, sizeof(d));
	snprintf(text, sizeof(text),
		 "{\"recnum\":0,\"pcr\":0,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}],"
		 "\"content_type\":\"pcclient_std\",\"content\":{\"event_type\":2147483664}}\n", sha256_x61);
	assert_int_equal(m_log_parse(text, strlen(text), "h.cel", &log), 0);
	assert_int_equal(log->startup_locality, 4);
	assert_int_equal(m_log_replay(log, &p), 0);
	want[31] = 4;
	ref_extend256(want, d);
	assert_memory_equal(p.v[M_SHA256][0], want, 32);
	m_log_free(log);
	log = NULL;
	snprintf(text, sizeof(text),
		 "{\"recnum\":0,\"pcr\":0,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}]}\n"
		 "{\"recnum\":1,\"pcr\":0,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}],"
		 "\"content_type\":\"pcclient_std\",\"content\":{\"event_type\":2147483664}}\n", sha256_x61, sha256_x61);
	r = m_log_parse(text, strlen(text), "h.cel", &log);
	assert_int_equal(r, -EBADMSG);
	assert_null(log);
	assert_true(msg_has(r, "EV_EFI_HCRTM_EVENT after PCR 0 was extended"));
}

/* A record over 64 KiB, and one within it, in each framing. */
static void test_record_limit(void **state)
{
	(void)state;
	const size_t big = M_CEL_MAX_RECORD + 10;
	char *buf = malloc(big + 100);
	struct m_log *log = NULL;
	size_t n;
	int r;

	assert_non_null(buf);
	for (int framing = 0; framing < 3; framing++) {
		const char *pre = framing == 0 ? "\x1e" : framing == 1 ? "" : "[";
		const char *post = framing == 2 ? "]\n" : "\n";

		n = (size_t)sprintf(buf, "%s{\"pcr\":1,\"digests\":[],\"pad\":\"", pre);
		memset(buf + n, 'p', big - n);
		n = big;
		n += (size_t)sprintf(buf + n, "\"}%s", post);
		r = m_log_parse(buf, n, "big", &log);
		assert_int_equal(r, -E2BIG);
		assert_true(msg_has(r, "big: record 0 (offset"));
		assert_true(msg_has(r, "longer than 65536 bytes"));

		/* just within the limit: accepted */
		n = (size_t)sprintf(buf, "%s{\"pcr\":1,\"digests\":[],\"pad\":\"", pre);
		memset(buf + n, 'p', M_CEL_MAX_RECORD - 2 - n + strlen(pre));
		n = M_CEL_MAX_RECORD - 2 + strlen(pre);
		n += (size_t)sprintf(buf + n, "\"}%s", post);
		r = m_log_parse(buf, n, "limit", &log);
		if (r < 0)
			fail_msg("framing %d: %s", framing, m_errmsg(r));
		assert_int_equal(log->count, 1);
		assert_int_equal(log->ev[0].data_len, M_CEL_MAX_RECORD);
		m_log_free(log);
	}
	free(buf);
}

/* Descriptions with quotes, backslashes, control bytes and invalid UTF-8. */
static void test_escaping(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "plain", "plain" },
		{ "q\"b\\s/", "q\"b\\s/" },
		{ "nl\ncr\rtab\t", "nl\ncr\rtab\t" },
		{ "ctl\x01\x1e\x1f\x7f", "ctl\x01\x1e\x1f\x7f" },
		{ "utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92" },
		/* bytes outside valid UTF-8 come back as U+0080..U+00FF */
		{ "ff\xff", "ff\xc3\xbf" },
		{ "lone\xc3", "lone\xc3\x83" },
		{ "overlong\xc0\xaf", "overlong\xc3\x80\xc2\xaf" },
		{ "surrogate\xed\xa0\x80", "surrogate\xc3\xad\xc2\xa0\xc2\x80" },
		{ "toobig\xf4\x90\x80\x80", "toobig\xc3\xb4\xc2\x90\xc2\x80\xc2\x80" },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	char path[128];
	struct m_digests d;
	struct m_log *log = NULL;
	uint8_t *data;
	size_t len;

	path_in_tmp(path, sizeof(path), "escape.log");
	digests_of(M_BANK_BIT(M_SHA256), "e", &d);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m_cel_append(path, 8, &d, cases[i].in), 0);
	/* no raw control byte but RS and the newlines framing records */
	data = read_file(path, &len);
	for (size_t i = 0, recs = 0; i < len; i++) {
		if (data[i] == 0x1e) {
			assert_true(i == 0 || data[i - 1] == '\n');
			recs++;
		} else if (data[i] == '\n') {
			assert_true(i + 1 == len || data[i + 1] == 0x1e);
		} else {
			assert_true(data[i] >= 0x20 && data[i] != 0x7f);
		}
		if (i + 1 == len)
			assert_int_equal(recs, n);
	}
	assert_non_null(memmem(data, len, "\\u00ff", 6));
	free(data);
	assert_int_equal(m_log_load(path, &log), 0);
	assert_int_equal(log->count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(log->ev[i].desc, cases[i].out);
	m_log_free(log);
}

/*
 * Writer and reader agree on numbering: after appending to any sample
 * (valid, torn or broken), the torn-tail reader sees one record more,
 * numbered one past the last it saw before; or the writer refused.
 */
static void test_append_to_every_sample(void **state)
{
	(void)state;
	char dir[512], src[1024], path[128];
	struct dirent *de;
	struct m_digests d;
	DIR *dp;
	int seen = 0;

	snprintf(dir, sizeof(dir), "%s/tests/data/cel", srcdir());
	dp = opendir(dir);
	assert_non_null(dp);
	digests_of(M_BANK_BIT(M_SHA256), "appended", &d);
	path_in_tmp(path, sizeof(path), "every.log");
	while ((de = readdir(dp))) {
		struct m_log *before = NULL, *after = NULL;
		uint8_t *data;
		size_t len;
		int rb, r;

		if (de->d_name[0] == '.')
			continue;
		snprintf(src, sizeof(src), "%s/%s", dir, de->d_name);
		data = read_file(src, &len);
		write_file(path, data, len);
		rb = m_cel_parse_buf(data, len, "before", true, &before);
		free(data);
		r = m_cel_append(path, 7, &d, "appended");
		if (r == 0) {
			data = read_file(path, &len);
			if (rb == 0) {
				uint32_t want = before->count ? before->ev[before->count - 1].recnum + 1 : 0;

				assert_int_equal(m_cel_parse_buf(data, len, "after", true, &after), 0);
				assert_int_equal(after->count, before->count + 1);
				assert_int_equal(after->ev[after->count - 1].recnum, want);
				assert_string_equal(after->ev[after->count - 1].desc, "appended");
				m_log_free(after);
				seen++;
			}
			free(data);
		} else {
			assert_int_equal(r, -EBADMSG);	/* only logs it cannot number */
		}
		m_log_free(before);
		unlink(path);
	}
	closedir(dp);
	assert_true(seen >= 3);	/* the systemd and our samples, the torn tail */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_parse_replay),
		cmocka_unit_test(test_systemd_sample),
		cmocka_unit_test(test_append_to_systemd_log),
		cmocka_unit_test(test_other_framings),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_lock_and_mark),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_record_limit),
		cmocka_unit_test(test_hcrtm_start),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_append_to_every_sample),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

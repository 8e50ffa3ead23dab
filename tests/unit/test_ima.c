// SPDX-License-Identifier: MIT
/*
 * IMA measurement list parser.  Every expected value is computed here with
 * OpenSSL directly (template data built by this file, hashes, extends),
 * never with the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "test_data.h"

/* ---- independent reference: OpenSSL ---- */

static void H(const char *alg, const void *data, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(data, len, out, &n, EVP_get_digestbyname(alg), NULL), 1);
}

static size_t dsize(const char *alg)
{
	return (size_t)EVP_MD_get_size(EVP_get_digestbyname(alg));
}

/* pcr = H(pcr || d) */
static void extend(const char *alg, uint8_t *pcr, const uint8_t *d)
{
	uint8_t buf[128];
	size_t n = dsize(alg);

	memcpy(buf, pcr, n);
	memcpy(buf + n, d, n);
	H(alg, buf, 2 * n, pcr);
}

/* extend with the kernel's rule for one entry: all-zero hash = violation = 0xff... */
static void extend_entry(const char *alg, uint8_t *pcr, const uint8_t sha1_thash[20], const void *hashed,
			 size_t hlen)
{
	static const uint8_t zero[20];
	uint8_t d[64];

	if (memcmp(sha1_thash, zero, 20) == 0)
		memset(d, 0xff, dsize(alg));
	else if (strcmp(alg, "SHA1") == 0)
		memcpy(d, sha1_thash, 20);
	else
		H(alg, hashed, hlen, d);
	extend(alg, pcr, d);
}

static int unhex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

static const char *fixtures(void)
{
	return test_data_dir();
}

static uint8_t *slurp(const char *rel, size_t *ret_len)
{
	char path[4096];
	FILE *f;
	uint8_t *buf = malloc(1 << 20);
	size_t n;

	snprintf(path, sizeof(path), "%s/eventlogs/%s", fixtures(), rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	*ret_len = n;
	return buf;
}

/* Parse with the IMA parser directly (not through format detection). */
static int parse_direct(const void *data, size_t len, enum m_log_format fmt, struct m_log **ret)
{
	struct m_log *log = calloc(1, sizeof(*log));
	int r;

	assert_non_null(log);
	log->name = strdup("test");
	log->raw = malloc(len ? len : 1);
	assert_non_null(log->raw);
	if (len)
		memcpy(log->raw, data, len);
	log->raw_len = len;
	log->format = fmt;
	r = m_ima_parse(log);
	if (r < 0) {
		assert_int_equal(log->count, 0);
		m_log_free(log);
		return r;
	}
	*ret = log;
	return 0;
}

static void replay_pcr10(const struct m_log *log, enum m_bank b, uint8_t *out)
{
	struct m_pcrs p;

	assert_int_equal(m_log_replay(log, &p), 0);
	assert_true(p.present[b] & (1u << 10));
	memcpy(out, p.v[b][10], m_bank_info(b)->size);
}

/* ---- fixtures ---- */

static void expected_from_tsv(const char *file, const char *bank, unsigned pcr, uint8_t *out, size_t n)
{
	char path[4096], line[1024];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "%s/eventlogs/expected-pcrs.tsv", fixtures());
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char fl[512], bk[32], hex[256];
		unsigned p;

		if (line[0] == '#' || sscanf(line, "%511s %31s %u %255s", fl, bk, &p, hex) != 4)
			continue;
		if (strcmp(fl, file) == 0 && strcmp(bk, bank) == 0 && p == pcr) {
			assert_int_equal(strlen(hex), 2 * n);
			assert_int_equal(unhex(hex, 2 * n, out), (int)n);
			found = true;
		}
	}
	fclose(f);
	assert_true(found);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_binary_fixture(void **state)
{
	(void)state;
	const char *rel = "measured-boot-tools/binary_runtime_measurements";
	char path[4096];
	size_t len, off = 0, n = 0;
	uint8_t *raw = slurp(rel, &len);
	uint8_t want1[20], pcr1[20] = { 0 }, pcr256[32] = { 0 }, got[64];
	struct m_log *log;

	/* walk the list here, independently: every template hash must check */
	while (off < len) {
		uint32_t nlen = le32(raw + off + 24), dlen = le32(raw + off + 28 + nlen);
		const uint8_t *data = raw + off + 32 + nlen;
		uint8_t h[20];

		H("SHA1", data, dlen, h);
		assert_memory_equal(h, raw + off + 4, 20);
		extend_entry("SHA1", pcr1, raw + off + 4, data, dlen);
		extend_entry("SHA256", pcr256, raw + off + 4, data, dlen);
		off += 32 + nlen + dlen;
		n++;
	}
	assert_int_equal(off, len);
	assert_int_equal(n, 6);
	expected_from_tsv(rel, "sha1", 10, want1, 20);
	assert_memory_equal(pcr1, want1, 20);

	snprintf(path, sizeof(path), "%s/eventlogs/%s", fixtures(), rel);
	assert_int_equal(m_log_load(path, &log), 0);
	assert_int_equal(log->format, M_LOG_IMA_BINARY);
	assert_int_equal(log->count, 6);
	assert_true(log->banks & M_BANK_BIT(M_SHA256));
	assert_string_equal(log->ev[0].desc, "boot_aggregate");
	assert_string_equal(log->ev[1].desc, "/lib/modules/5.10.80-vanilla/kernel/net/openvswitch/openvswitch.ko");
	for (size_t i = 0; i < log->count; i++) {
		assert_int_equal(log->ev[i].pcr, 10);
		assert_true(log->ev[i].extends);
		assert_int_equal(log->ev[i].recnum, i);
	}
	replay_pcr10(log, M_SHA1, got);
	assert_memory_equal(got, want1, 20);
	replay_pcr10(log, M_SHA256, got);
	assert_memory_equal(got, pcr256, 32);
	m_log_free(log);
	free(raw);
}

/* ima-ng template data for an ASCII "algo:hex path" pair, built here */
static size_t ng_data(const char *dig, const char *name, uint8_t *out)
{
	const char *colon = strrchr(dig, ':');
	size_t plen = (size_t)(colon - dig) + 1, hlen = strlen(colon + 1) / 2, nlen = strlen(name);
	uint32_t l1 = (uint32_t)(plen + 1 + hlen), l2 = (uint32_t)(nlen + 1);
	size_t o = 0;

	memcpy(out + o, &l1, 4);	/* this machine is little endian (x86/arm64) */
	o += 4;
	memcpy(out + o, dig, plen);
	o += plen;
	out[o++] = 0;
	assert_int_equal(unhex(colon + 1, 2 * hlen, out + o), (int)hlen);
	o += hlen;
	memcpy(out + o, &l2, 4);
	o += 4;
	memcpy(out + o, name, nlen + 1);
	return o + nlen + 1;
}

static void check_keylime(const char *rel)
{
	size_t len;
	uint8_t *raw = slurp(rel, &len);
	char *text = calloc(1, len + 1), *save = NULL;
	uint8_t pcr1[20] = { 0 }, pcr256[32] = { 0 }, got[64];
	struct m_log *log;
	size_t lines = 0;

	memcpy(text, raw, len);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char hex[64], tname[32], dig[256], name[256];
		uint8_t th[20], data[512];
		unsigned pcr;
		size_t dl;

		assert_int_equal(sscanf(l, "%u %63s %31s %255s %255s", &pcr, hex, tname, dig, name), 5);
		assert_int_equal(pcr, 10);
		assert_string_equal(tname, "ima-ng");
		assert_int_equal(unhex(hex, 40, th), 20);
		dl = ng_data(dig, name, data);
		extend_entry("SHA1", pcr1, th, data, dl);
		extend_entry("SHA256", pcr256, th, data, dl);
		lines++;
	}
	assert_int_equal(lines, 2);

	assert_int_equal(m_log_parse(raw, len, rel, &log), 0);
	assert_int_equal(log->format, M_LOG_IMA_ASCII);
	assert_int_equal(log->count, 2);
	assert_int_equal(log->ev[1].line, 2);
	assert_string_equal(log->ev[0].desc, "boot_aggregate");
	assert_string_equal(log->ev[1].desc, "/data");
	replay_pcr10(log, M_SHA1, got);
	assert_memory_equal(got, pcr1, 20);
	replay_pcr10(log, M_SHA256, got);
	assert_memory_equal(got, pcr256, 32);
	m_log_free(log);
	free(text);
	free(raw);
}

static void test_keylime_sha1(void **state) { (void)state; check_keylime("keylime/ima-log-sha1"); }
static void test_keylime_sha256(void **state) { (void)state; check_keylime("keylime/ima-log-sha256"); }
static void test_keylime_sha384(void **state) { (void)state; check_keylime("keylime/ima-log-sha384"); }

/* ---- hand-built binary lists ---- */

struct field {
	const void *p;
	size_t n;
};

/* Template data of a non-'ima' template: le32 length || bytes per field. */
static size_t tdata(const struct field *f, size_t nf, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < nf; i++) {
		uint32_t l = (uint32_t)f[i].n;

		memcpy(out + o, &l, 4);
		if (f[i].n)
			memcpy(out + o + 4, f[i].p, f[i].n);
		o += 4 + f[i].n;
	}
	return o;
}

/* Expected PCR 10 in sha1/sha256, accumulated by the builder. */
struct expect {
	uint8_t s1[20], s256[32];
	size_t count;
	size_t ends[16];	/* byte offset where each record ends */
};

static void add_entry(struct mbuf_writer *w, struct expect *x, const char *tname, const uint8_t *data, size_t dlen,
		      bool violation, bool corrupt)
{
	uint8_t th[20] = { 0 };

	if (!violation)
		H("SHA1", data, dlen, th);
	if (corrupt)
		th[7] ^= 1;
	mbw_le32(w, 10);
	mbw_bytes(w, th, 20);
	mbw_le32(w, (uint32_t)strlen(tname));
	mbw_str(w, tname);
	mbw_le32(w, (uint32_t)dlen);
	mbw_bytes(w, data, dlen);
	extend_entry("SHA1", x->s1, th, data, dlen);
	extend_entry("SHA256", x->s256, th, data, dlen);
	x->ends[x->count++] = w->len;
}

/* The 'ima' template: no data length, hash over digest || name padded to 256. */
static void add_legacy(struct mbuf_writer *w, struct expect *x, const uint8_t fdig[20], const char *name)
{
	uint8_t hashed[276] = { 0 }, th[20];

	memcpy(hashed, fdig, 20);
	memcpy(hashed + 20, name, strlen(name));
	H("SHA1", hashed, sizeof(hashed), th);
	mbw_le32(w, 10);
	mbw_bytes(w, th, 20);
	mbw_le32(w, 3);
	mbw_str(w, "ima");
	mbw_bytes(w, fdig, 20);
	mbw_le32(w, (uint32_t)strlen(name));
	mbw_str(w, name);
	extend_entry("SHA1", x->s1, th, hashed, sizeof(hashed));
	extend_entry("SHA256", x->s256, th, hashed, sizeof(hashed));
	x->ends[x->count++] = w->len;
}

static const char dng256[] = "sha256:";

/* A list with one entry of every template, and a violation. */
static void build_all(struct mbuf_writer *w, struct expect *x)
{
	uint8_t fd[32], sig[70], modsig[90], data[1024], fdig1[20];
	uint8_t dng[8 + 32], dmod[8 + 32];
	size_t n;

	for (size_t i = 0; i < sizeof(fd); i++)
		fd[i] = (uint8_t)(i * 3 + 1);
	for (size_t i = 0; i < sizeof(sig); i++)
		sig[i] = (uint8_t)(0x03 + i);
	for (size_t i = 0; i < sizeof(modsig); i++)
		modsig[i] = (uint8_t)(0x30 ^ i);
	for (size_t i = 0; i < sizeof(fdig1); i++)
		fdig1[i] = (uint8_t)(0xa0 + i);
	memcpy(dng, dng256, 8);		/* "sha256:" and its NUL */
	memcpy(dng + 8, fd, 32);
	memcpy(dmod, dng, sizeof(dmod));
	dmod[20] ^= 0x55;

	mbw_init_heap(w, 1 << 20);
	memset(x, 0, sizeof(*x));
	{	/* ima-ng */
		struct field f[] = { { dng, 40 }, { "/usr/bin/ls", 12 } };
		n = tdata(f, 2, data);
		add_entry(w, x, "ima-ng", data, n, false, false);
	}
	{	/* ima-sig with a signature */
		struct field f[] = { { dng, 40 }, { "/usr/lib/x.so", 14 }, { sig, sizeof(sig) } };
		n = tdata(f, 3, data);
		add_entry(w, x, "ima-sig", data, n, false, false);
	}
	add_legacy(w, x, fdig1, "/sbin/init");
	{	/* ima-modsig, with and without an appended signature */
		struct field f[] = { { dng, 40 }, { "/lib/modules/m.ko", 18 }, { NULL, 0 },
				     { dmod, 40 }, { modsig, sizeof(modsig) } };
		n = tdata(f, 5, data);
		add_entry(w, x, "ima-modsig", data, n, false, false);
		f[3].n = 0;
		f[4].n = 0;
		n = tdata(f, 5, data);
		add_entry(w, x, "ima-modsig", data, n, false, false);
	}
	{	/* a violation: listed hash all zero, digest field zeros too */
		uint8_t vd[8 + 20] = { 0 };
		struct field f[] = { { vd, sizeof(vd) }, { "/tmp/raced", 11 } };

		memcpy(vd, dng256, 8);
		n = tdata(f, 2, data);
		add_entry(w, x, "ima-ng", data, n, true, false);
	}
	{	/* ima-buf */
		const char cmd[] = "root=/dev/vda ro";
		struct field f[] = { { dng, 40 }, { "kexec-cmdline", 14 }, { cmd, sizeof(cmd) - 1 } };
		n = tdata(f, 3, data);
		add_entry(w, x, "ima-buf", data, n, false, false);
	}
	assert_true(mbw_ok(w));
}

static void test_binary_templates(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct expect x;
	struct m_log *log;
	uint8_t got[64];

	build_all(&w, &x);
	assert_int_equal(m_log_parse(w.data, w.len, "built", &log), 0);
	assert_int_equal(log->format, M_LOG_IMA_BINARY);
	assert_int_equal(log->count, x.count);
	assert_string_equal(log->ev[0].desc, "/usr/bin/ls");
	assert_string_equal(log->ev[1].desc, "/usr/lib/x.so");
	assert_string_equal(log->ev[2].desc, "/sbin/init");
	assert_string_equal(log->ev[3].desc, "/lib/modules/m.ko");
	assert_string_equal(log->ev[5].desc, "/tmp/raced");
	assert_string_equal(log->ev[6].desc, "kexec-cmdline");
	assert_int_equal(log->ev[1].offset, x.ends[0]);
	/* the violation extends all ones in every bank */
	for (int i = 0; i < 48; i++)
		assert_int_equal(log->ev[5].digest[M_SHA384][i], 0xff);
	replay_pcr10(log, M_SHA1, got);
	assert_memory_equal(got, x.s1, 20);
	replay_pcr10(log, M_SHA256, got);
	assert_memory_equal(got, x.s256, 32);
	m_log_free(log);
	mbw_free(&w);
}

static void test_binary_bad_hash(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct expect x = { 0 };
	struct m_log *log = NULL;
	uint8_t data[64];
	struct field f[] = { { "sha1:\0aaaaaaaaaaaaaaaaaaaa", 26 }, { "/a", 3 } };
	size_t n = tdata(f, 2, data);
	int r;

	mbw_init_heap(&w, 4096);
	add_entry(&w, &x, "ima-ng", data, n, false, false);
	add_entry(&w, &x, "ima-ng", data, n, false, true);
	r = m_log_parse(w.data, w.len, "bad.bin", &log);
	assert_int_equal(r, -EBADMSG);
	assert_null(log);
	assert_non_null(strstr(m_errmsg(r), "bad.bin"));
	assert_non_null(strstr(m_errmsg(r), "record 1"));
	assert_non_null(strstr(m_errmsg(r), "offset"));
	mbw_free(&w);
}

/* Every prefix is either a whole number of records (parsed) or rejected. */
static void test_binary_truncated(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct expect x;
	size_t k = 0;

	build_all(&w, &x);
	for (size_t len = 1; len < w.len; len++) {
		struct m_log *log = NULL;
		int r = parse_direct(w.data, len, M_LOG_IMA_BINARY, &log);

		if (k < x.count && len == x.ends[k]) {
			assert_int_equal(r, 0);
			assert_int_equal(log->count, k + 1);
			m_log_free(log);
			k++;
		} else {
			assert_int_equal(r, -EBADMSG);
		}
	}
	assert_int_equal(k, x.count - 1);
	mbw_free(&w);
}

static void huge_case(uint32_t pcr, uint32_t nlen, const char *name, bool have_dlen, uint32_t dlen,
		      const void *data, size_t n, int want)
{
	struct mbuf_writer w;
	struct m_log *log = NULL;
	uint8_t th[20];

	H("SHA1", data, n, th);
	mbw_init_heap(&w, 4096);
	mbw_le32(&w, pcr);
	mbw_bytes(&w, th, 20);
	mbw_le32(&w, nlen);
	mbw_str(&w, name);
	if (have_dlen)
		mbw_le32(&w, dlen);
	mbw_bytes(&w, data, n);
	assert_int_equal(parse_direct(w.data, w.len, M_LOG_IMA_BINARY, &log), want);
	if (want == 0)
		m_log_free(log);
	mbw_free(&w);
}

static void test_binary_huge(void **state)
{
	(void)state;
	uint8_t data[64];
	struct field f[] = { { "sha1:\0aaaaaaaaaaaaaaaaaaaa", 26 }, { "/a", 3 } };
	size_t n = tdata(f, 2, data);
	uint8_t bad[64];

	huge_case(10, 6, "ima-ng", true, (uint32_t)n, data, n, 0);	/* control */
	huge_case(10, 0xffffffffu, "ima-ng", true, (uint32_t)n, data, n, -EBADMSG);
	huge_case(10, 256, "ima-ng", true, (uint32_t)n, data, n, -EBADMSG);
	huge_case(10, 0, "", true, (uint32_t)n, data, n, -EBADMSG);
	huge_case(10, 6, "ima-ng", true, 0xffffffffu, data, n, -EFBIG);
	huge_case(10, 6, "ima-ng", true, M_LOG_MAX_EVENT + 1, data, n, -EFBIG);
	huge_case(10, 6, "ima-ng", true, (uint32_t)n + 1, data, n, -EBADMSG);
	huge_case(24, 6, "ima-ng", true, (uint32_t)n, data, n, -ERANGE);
	huge_case(0xffffffffu, 6, "ima-ng", true, (uint32_t)n, data, n, -ERANGE);
	/* a field length that runs past the template data */
	memcpy(bad, data, n);
	bad[0] = 0xf0;
	bad[3] = 0xff;
	huge_case(10, 6, "ima-ng", true, (uint32_t)n, bad, n, -EBADMSG);
	/* a known template with the wrong number of fields */
	huge_case(10, 7, "ima-sig", true, (uint32_t)n, data, n, -EBADMSG);
	/* 'ima' template with a file name length past the end / over 255 */
	{
		uint8_t leg[24] = { 0 };

		leg[20] = 0xff; leg[21] = 0xff; leg[22] = 0xff; leg[23] = 0xff;
		huge_case(10, 3, "ima", false, 0, leg, sizeof(leg), -EBADMSG);
		leg[20] = 0; leg[21] = 1; leg[22] = 0; leg[23] = 0;
		huge_case(10, 3, "ima", false, 0, leg, sizeof(leg), -EBADMSG);
	}
}

/* A template the parser does not know is still hashed as its data (binary). */
static void test_binary_unknown_template(void **state)
{
	(void)state;
	struct mbuf_writer w;
	struct expect x = { 0 };
	struct m_log *log;
	uint8_t data[64], got[64];
	struct field f[] = { { "sha1:\0aaaaaaaaaaaaaaaaaaaa", 26 }, { "/a", 3 }, { "zz", 2 } };
	size_t n = tdata(f, 3, data);

	mbw_init_heap(&w, 4096);
	add_entry(&w, &x, "ima-future", data, n, false, false);
	assert_int_equal(m_log_parse(w.data, w.len, "u", &log), 0);
	assert_null(log->ev[0].desc);
	replay_pcr10(log, M_SHA256, got);
	assert_memory_equal(got, x.s256, 32);
	m_log_free(log);
	mbw_free(&w);
}

/* ---- hand-written ASCII lists ---- */

/* One ASCII line for template data built by this test from @fields. */
static void ascii_line(char *out, size_t cap, unsigned pcr, const char *tname, const uint8_t *hashed, size_t hlen,
		       bool violation, const char *fields, struct expect *x)
{
	uint8_t th[20] = { 0 };
	char hex[41];

	if (!violation)
		H("SHA1", hashed, hlen, th);
	for (int i = 0; i < 20; i++)
		sprintf(hex + 2 * i, "%02x", th[i]);
	snprintf(out + strlen(out), cap - strlen(out), "%2u %s %s %s\n", pcr, hex, tname, fields);
	if (x) {
		extend_entry("SHA1", x->s1, th, hashed, hlen);
		extend_entry("SHA256", x->s256, th, hashed, hlen);
		x->count++;
	}
}

static void test_ascii_templates(void **state)
{
	(void)state;
	static char text[8192];
	struct expect x = { 0 };
	struct m_log *log;
	uint8_t data[600], got[64], fd[20];
	size_t n;

	text[0] = '\0';
	/* ima-sig with an empty signature: the line ends with a space */
	{
		struct field f[] = { { "sha1:\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", 26 },
				     { "/bin/sh", 8 }, { NULL, 0 } };
		n = tdata(f, 3, data);
		ascii_line(text, sizeof(text), 10, "ima-sig", data, n, false,
			   "sha1:0102030405060708090a0b0c0d0e0f1011121314 /bin/sh ", &x);
	}
	/* ima-sig with a signature and a name with a space (old kernels) */
	{
		struct field f[] = { { "sha1:\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", 26 },
				     { "/my file", 9 }, { "\x03\x02\xab", 3 } };
		n = tdata(f, 3, data);
		ascii_line(text, sizeof(text), 10, "ima-sig", data, n, false,
			   "sha1:0102030405060708090a0b0c0d0e0f1011121314 /my file 0302ab", &x);
	}
	/* 'ima' legacy */
	for (int i = 0; i < 20; i++)
		fd[i] = (uint8_t)(0x10 + i);
	memset(data, 0, 276);
	memcpy(data, fd, 20);
	memcpy(data + 20, "/etc/passwd", 11);
	ascii_line(text, sizeof(text), 10, "ima", data, 276, false,
		   "101112131415161718191a1b1c1d1e1f20212223 /etc/passwd", &x);
	/* a violation */
	{
		uint8_t vd[8 + 20] = { 0 };
		struct field f[] = { { vd, sizeof(vd) }, { "/x", 3 } };

		memcpy(vd, "sha256:", 8);
		n = tdata(f, 2, data);
		ascii_line(text, sizeof(text), 10, "ima-ng", data, n, true,
			   "sha256:0000000000000000000000000000000000000000 /x", &x);
	}
	/* ima-buf */
	{
		struct field f[] = { { "sha1:\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", 26 },
				     { "kexec-cmdline", 14 }, { "ro", 2 } };
		n = tdata(f, 3, data);
		ascii_line(text, sizeof(text), 10, "ima-buf", data, n, false,
			   "sha1:0102030405060708090a0b0c0d0e0f1011121314 kexec-cmdline 726f", &x);
	}

	assert_int_equal(m_log_parse(text, strlen(text), "a.txt", &log), 0);
	assert_int_equal(log->format, M_LOG_IMA_ASCII);
	assert_int_equal(log->count, x.count);
	assert_string_equal(log->ev[1].desc, "/my file");
	assert_string_equal(log->ev[2].desc, "/etc/passwd");
	assert_string_equal(log->ev[4].desc, "kexec-cmdline");
	assert_int_equal(log->ev[2].line, 3);
	replay_pcr10(log, M_SHA1, got);
	assert_memory_equal(got, x.s1, 20);
	replay_pcr10(log, M_SHA256, got);
	assert_memory_equal(got, x.s256, 32);
	m_log_free(log);

	/* every truncation: parsed or rejected, never a crash */
	for (size_t len = 1; len < strlen(text); len++) {
		int r = parse_direct(text, len, M_LOG_IMA_ASCII, &log);

		/* only whole lines parse: the kernel ends each with a newline */
		assert_int_equal(r == 0, text[len - 1] == '\n');
		if (r == 0)
			m_log_free(log);
	}
}

static void test_ascii_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "10 zz00000000000000000000000000000000000000 ima-ng sha1:00 /a\n", "line 1" },
		{ "10 0000 ima-ng sha1:00 /a\n", "line 1" },
		{ "24 0000000000000000000000000000000000000000 ima-ng sha1:00 /a\n", "PCR 24" },
		{ "1000 0000000000000000000000000000000000000000 ima-ng sha1:00 /a\n", "line 1" },
		{ "10 0000000000000000000000000000000000000000 ima-ng sha1:0g /a\n", "hex" },
		{ "10 0000000000000000000000000000000000000000 ima-ng 00 /a\n", "algorithm" },
		{ "10 0000000000000000000000000000000000000000 ima-sig sha1:00\n", "too few" },
		{ "10 0000000000000000000000000000000000000000 ima-ng sha1:00 /a\n\n", "line 2" },
		{ "10 0000000000000000000000000000000000000000 ima-ng sha1:00 /a\n"
		  "10 1111111111111111111111111111111111111111 ima-ng sha1:00 /a\n", "line 2" },
		{ "\n", "line 1" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct m_log *log = NULL;
		int r = parse_direct(bad[i].text, strlen(bad[i].text), M_LOG_IMA_ASCII, &log);

		assert_true(r < 0);
		if (!strstr(m_errmsg(r), bad[i].msg))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, m_errmsg(r), bad[i].msg);
	}
}

/* An unknown template in ASCII: replayable in sha1 only, for the whole log. */
static void test_ascii_unknown_template(void **state)
{
	(void)state;
	static char text[1024];
	struct expect x = { 0 };
	struct m_log *log;
	uint8_t data[128], th[20], got[20];
	struct field f[] = { { "sha1:\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", 26 },
			     { "/a", 3 } };
	size_t n = tdata(f, 2, data);

	text[0] = '\0';
	ascii_line(text, sizeof(text), 10, "ima-ng", data, n, false, "sha1:0102030405060708090a0b0c0d0e0f1011121314 /a", &x);
	/* the unknown entry's hash is taken as listed */
	strcat(text, "10 00112233445566778899aabbccddeeff00112233 my-template whatever fields\n");
	assert_int_equal(unhex("00112233445566778899aabbccddeeff00112233", 40, th), 20);
	extend("SHA1", x.s1, th);
	assert_int_equal(parse_direct(text, strlen(text), M_LOG_IMA_ASCII, &log), 0);
	assert_int_equal(log->banks, M_BANK_BIT(M_SHA1));
	assert_int_equal(log->ev[0].banks, M_BANK_BIT(M_SHA1));
	replay_pcr10(log, M_SHA1, got);
	assert_memory_equal(got, x.s1, 20);
	m_log_free(log);
}

/* PCR below 10: the kernel prints "%2d", so the line starts with a space. */
static void test_ascii_pcr_padding(void **state)
{
	(void)state;
	static char text[512];
	struct m_log *log;
	uint8_t data[128];
	struct field f[] = { { "sha1:\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", 26 },
			     { "/a", 3 } };
	size_t n = tdata(f, 2, data);

	text[0] = '\0';
	ascii_line(text, sizeof(text), 9, "ima-ng", data, n, false, "sha1:0102030405060708090a0b0c0d0e0f1011121314 /a", NULL);
	assert_int_equal(text[0], ' ');
	assert_int_equal(parse_direct(text, strlen(text), M_LOG_IMA_ASCII, &log), 0);
	assert_int_equal(log->ev[0].pcr, 9);
	m_log_free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_fixture),
		cmocka_unit_test(test_keylime_sha1),
		cmocka_unit_test(test_keylime_sha256),
		cmocka_unit_test(test_keylime_sha384),
		cmocka_unit_test(test_binary_templates),
		cmocka_unit_test(test_binary_bad_hash),
		cmocka_unit_test(test_binary_truncated),
		cmocka_unit_test(test_binary_huge),
		cmocka_unit_test(test_binary_unknown_template),
		cmocka_unit_test(test_ascii_templates),
		cmocka_unit_test(test_ascii_errors),
		cmocka_unit_test(test_ascii_unknown_template),
		cmocka_unit_test(test_ascii_pcr_padding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

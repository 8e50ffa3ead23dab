// SPDX-License-Identifier: MIT
/*
 * IMA binary measurement list (securityfs binary_runtime_measurements),
 * as written by the kernel's ima_measurements_show(), little endian
 * (x86, arm64, or any machine with ima_canonical_fmt):
 *
 *   le32 PCR | 20-byte SHA-1 template hash | le32 name length | name |
 *   'ima' template:  20-byte digest | le32 length | file name (no NUL)
 *   any other:       le32 template data length | template data
 *
 * where template data is, for each field, le32 length || field bytes.
 * For every template but 'ima' the template data is exactly the bytes the
 * kernel hashes, whatever the fields are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "ima_priv.h"

struct rec {
	struct ima_ctx *c;
	uint32_t num;
	size_t off;
	char where[64];
};

static int bad(struct rec *rc, int err, const char *what)
{
	return m_err(err, "%s: %s: %s", rc->c->log->name, rc->where, what);
}

static bool printable_name(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

/*
 * Check that @data is a sequence of le32-length-prefixed fields filling it
 * exactly (the kernel's ima_parse_buf() with ENFORCE_FIELDS|ENFORCE_BUFEND),
 * and return the name field of @t (if known) as the description.
 */
static int check_fields(struct rec *rc, const uint8_t *data, size_t len, const struct ima_template *t,
			bool known, char **ret_desc)
{
	struct mbuf_reader r;
	unsigned n = 0;
	char *desc = NULL;
	char msg[80];
	int ret = 0;

	mbr_init(&r, data, len);
	while (mbr_remaining(&r) > 0) {
		uint32_t flen = mbr_le32(&r);
		const uint8_t *f = mbr_ptr(&r, flen);

		if (!mbr_ok(&r) || !f) {
			ret = bad(rc, -EBADMSG, "template field overruns the template data");
			goto out;
		}
		if (n == IMA_FIELDS_MAX) {
			ret = bad(rc, -EBADMSG, "more than 15 template fields");
			goto out;
		}
		if (known && (int)n == t->name_field) {
			desc = ima_desc(f, flen);
			if (!desc) {
				ret = -ENOMEM;
				goto out;
			}
		}
		n++;
	}
	if (known && n != t->nfields) {
		snprintf(msg, sizeof(msg), "%u template fields, the template has %u", n, t->nfields);
		ret = bad(rc, -EBADMSG, msg);
		goto out;
	}
	*ret_desc = desc;
	desc = NULL;
out:
	free(desc);
	return ret;
}

static int parse_record(struct rec *rc, struct mbuf_reader *r)
{
	struct ima_entry e = { 0 };
	struct ima_template t;
	uint8_t legacy[IMA_HASH_LEN + IMA_LEGACY_NAME_BUF];
	const uint8_t *name, *data;
	uint32_t nlen, dlen;
	bool known;
	int ret;

	e.pcr = mbr_le32(r);
	mbr_copy(r, e.thash, IMA_HASH_LEN);
	nlen = mbr_le32(r);
	if (!mbr_ok(r))
		return bad(rc, -EBADMSG, "truncated entry header");
	if (nlen == 0 || nlen > IMA_TEMPLATE_NAME_MAX)
		return bad(rc, -EBADMSG, "template name length out of range (1-255)");
	name = mbr_ptr(r, nlen);
	if (!name)
		return bad(rc, -EBADMSG, "truncated template name");
	if (!printable_name(name, nlen))
		return bad(rc, -EBADMSG, "template name is not printable ASCII");
	known = ima_template_lookup((const char *)name, nlen, &t);

	if (known && t.legacy) {
		const uint8_t *d, *fname;
		uint32_t fnlen;
		size_t start = r->off;

		/* the 'ima' template: a 20-byte SHA-1 digest (an MD5 one could not
		 * be told apart here: not supported) and an unpadded name */
		d = mbr_ptr(r, IMA_HASH_LEN);
		fnlen = mbr_le32(r);
		if (!mbr_ok(r))
			return bad(rc, -EBADMSG, "truncated 'ima' template data");
		if (fnlen >= IMA_LEGACY_NAME_BUF)
			return bad(rc, -EBADMSG, "'ima' template file name over 255 bytes");
		fname = mbr_ptr(r, fnlen);
		if (!fname)
			return bad(rc, -EBADMSG, "truncated 'ima' template file name");
		ret = ima_legacy_hashed(d, IMA_HASH_LEN, fname, fnlen, legacy);
		if (ret < 0)
			return bad(rc, ret, "'ima' template data");
		e.hashed = legacy;
		e.hashed_len = (size_t)ret;
		e.data = r->data + start;
		e.data_len = r->off - start;
		e.desc = ima_desc(fname, fnlen);
		if (!e.desc)
			return -ENOMEM;
	} else {
		dlen = mbr_le32(r);
		if (!mbr_ok(r))
			return bad(rc, -EBADMSG, "truncated template data length");
		if (dlen > M_LOG_MAX_EVENT)
			return bad(rc, -EFBIG, "template data over the limit of 16 MiB");
		data = mbr_ptr(r, dlen);
		if (!data)
			return bad(rc, -EBADMSG, "truncated template data");
		ret = check_fields(rc, data, dlen, &t, known, &e.desc);
		if (ret < 0)
			return ret;
		/* any template but 'ima' is hashed as its template data bytes */
		e.hashed = data;
		e.hashed_len = dlen;
		e.data = data;
		e.data_len = dlen;
	}
	e.known = true;
	return ima_add(rc->c, &e, 0, rc->off, rc->where);
}

int ima_parse_binary(struct ima_ctx *c)
{
	struct mbuf_reader r;
	struct rec rc = { .c = c };

	mbr_init(&r, c->log->raw, c->log->raw_len);
	while (mbr_remaining(&r) > 0) {
		int ret;

		rc.off = r.off;
		snprintf(rc.where, sizeof(rc.where), "record %u (offset %zu)", rc.num, rc.off);
		ret = parse_record(&rc, &r);
		if (ret < 0)
			return ret;
		rc.num++;
	}
	return 0;
}

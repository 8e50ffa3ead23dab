// SPDX-License-Identifier: MIT
/*
 * IMA ASCII measurement list (securityfs ascii_runtime_measurements), as
 * written by the kernel's ima_ascii_measurements_show(): one line per entry,
 *
 *   "%2d" PCR, ' ', 40 hex digits (SHA-1 template hash), ' ', template name,
 *   then for each template field ' ' and the field shown as text
 *
 * (digests as "algo:hex", names as text, signatures and buffers as hex, an
 * empty field as nothing).  Other banks' digests need the template data,
 * which is rebuilt here from the text; the listed SHA-1 hash then proves
 * the rebuild right.  The kernel turns spaces in names into '_', so only
 * the name field could hold one (lists from older kernels): the fields
 * before it are taken from the left, those after it from the right.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measured/error.h"
#include "ima_priv.h"

struct span {
	const uint8_t *p;
	size_t n;
};

struct line {
	struct ima_ctx *c;
	uint32_t no;
	char where[32];
};

static int bad(struct line *l, const char *what)
{
	return m_err(-EBADMSG, "%s: %s: %s", l->c->log->name, l->where, what);
}

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex text to bytes appended to @w; false on an odd length or bad digit. */
static bool put_hex(struct mbuf_writer *w, struct span s)
{
	if (s.n % 2)
		return false;
	for (size_t i = 0; i < s.n; i += 2) {
		int hi = hexval(s.p[i]), lo = hexval(s.p[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		mbw_u8(w, (uint8_t)(hi << 4 | lo));
	}
	return true;
}

/* The first token of @s up to a space (moved past it), or false if none. */
static bool take_left(struct span *s, struct span *tok)
{
	const uint8_t *sp = memchr(s->p, ' ', s->n);

	if (!sp)
		return false;
	tok->p = s->p;
	tok->n = (size_t)(sp - s->p);
	s->n -= tok->n + 1;
	s->p = sp + 1;
	return true;
}

/* The last token of @s after a space (cut off), or false if none. */
static bool take_right(struct span *s, struct span *tok)
{
	size_t i = s->n;

	while (i > 0 && s->p[i - 1] != ' ')
		i--;
	if (i == 0)
		return false;
	tok->p = s->p + i;
	tok->n = s->n - i;
	s->n = i - 1;
	return true;
}

/* Append one field, as the kernel stores it, to the template data @w. */
static int put_field(struct line *l, struct mbuf_writer *w, enum ima_field_fmt fmt, struct span tok)
{
	size_t len_off = w->len, start;
	const uint8_t *colon;
	uint8_t *len_at;
	uint32_t flen;

	mbw_le32(w, 0);		/* the length, patched below */
	start = w->len;

	switch (fmt) {
	case IMA_FT_DIGEST_ALGO:
		if (tok.n == 0)		/* an absent d-modsig */
			break;
		/* "algo:" (or "ima:sha256:") NUL digest: the last ':' ends the prefix */
		colon = NULL;
		for (size_t i = tok.n; i > 0; i--)
			if (tok.p[i - 1] == ':') {
				colon = tok.p + i - 1;
				break;
			}
		if (!colon)
			return bad(l, "digest without an algorithm prefix");
		mbw_bytes(w, tok.p, (size_t)(colon - tok.p) + 1);
		mbw_u8(w, 0);
		if (!put_hex(w, (struct span){ colon + 1, tok.n - (size_t)(colon + 1 - tok.p) }))
			return bad(l, "bad hex digest");
		break;
	case IMA_FT_STRING:
		mbw_bytes(w, tok.p, tok.n);
		mbw_u8(w, 0);
		break;
	case IMA_FT_DIGEST:
	case IMA_FT_HEX:
		if (!put_hex(w, tok))
			return bad(l, "bad hex field");
		break;
	default:
		return bad(l, "field cannot be rebuilt from text");
	}
	if (!mbw_ok(w))
		return m_err(-EFBIG, "%s: %s: template data over the limit", l->c->log->name, l->where);
	flen = (uint32_t)(w->len - start);
	len_at = w->data + len_off;	/* after the writes: data may have moved */
	len_at[0] = (uint8_t)flen;
	len_at[1] = (uint8_t)(flen >> 8);
	len_at[2] = (uint8_t)(flen >> 16);
	len_at[3] = (uint8_t)(flen >> 24);
	return 0;
}

/* Split @rest into the template's fields; see the comment at the top. */
static int split_fields(struct line *l, const struct ima_template *t, struct span rest, struct span *tok)
{
	int k = t->name_field >= 0 ? t->name_field : (int)t->nfields - 1;

	for (int i = 0; i < k; i++)
		if (!take_left(&rest, &tok[i]))
			return bad(l, "too few fields for the template");
	for (int i = (int)t->nfields - 1; i > k; i--)
		if (!take_right(&rest, &tok[i]))
			return bad(l, "too few fields for the template");
	if (t->name_field < 0 && memchr(rest.p, ' ', rest.n))
		return bad(l, "too many fields for the template");
	tok[k] = rest;
	return 0;
}

static int parse_line(struct line *l, struct span s, uint64_t off)
{
	struct ima_entry e = { 0 };
	struct ima_template t;
	struct span tok[IMA_FIELDS_MAX], name;
	struct mbuf_writer w;
	uint8_t legacy[IMA_HASH_LEN + IMA_LEGACY_NAME_BUF];
	uint8_t hash[IMA_HASH_LEN];
	struct mbuf_writer hw;
	size_t digits = 0;
	int r;

	e.data = s.p;
	e.data_len = s.n;
	if (memchr(s.p, '\0', s.n))
		return bad(l, "NUL byte in the line");
	/* "%2d ": PCRs below 10 have a leading space */
	while (s.n > 0 && s.p[0] == ' ') {
		s.p++;
		s.n--;
	}
	while (digits < s.n && s.p[digits] >= '0' && s.p[digits] <= '9') {
		e.pcr = e.pcr * 10 + (uint32_t)(s.p[digits] - '0');
		if (++digits > 3)
			return bad(l, "PCR number too long");
	}
	if (digits == 0 || digits == s.n || s.p[digits] != ' ')
		return bad(l, "expected \"PCR TEMPLATE-HASH TEMPLATE-NAME ...\"");
	s.p += digits + 1;
	s.n -= digits + 1;

	if (s.n < 2 * IMA_HASH_LEN + 1 || s.p[2 * IMA_HASH_LEN] != ' ')
		return bad(l, "template hash is not 40 hex digits");
	mbw_init_fixed(&hw, hash, sizeof(hash));
	if (!put_hex(&hw, (struct span){ s.p, 2 * IMA_HASH_LEN }))
		return bad(l, "template hash is not 40 hex digits");
	memcpy(e.thash, hash, IMA_HASH_LEN);
	s.p += 2 * IMA_HASH_LEN + 1;
	s.n -= 2 * IMA_HASH_LEN + 1;

	if (!take_left(&s, &name)) {	/* a template without fields: name only */
		name = s;
		s.n = 0;
	}
	if (name.n == 0 || name.n > IMA_TEMPLATE_NAME_MAX)
		return bad(l, "template name length out of range (1-255)");

	if (!ima_template_lookup((const char *)name.p, name.n, &t) || !t.ascii_ok || t.nfields == 0) {
		/* replayable in sha1 only, from the listed hash */
		e.desc = ima_desc(s.p, s.n);
		if (!e.desc)
			return -ENOMEM;
		return ima_add(l->c, &e, l->no, off, l->where);
	}
	r = split_fields(l, &t, s, tok);
	if (r < 0)
		return r;

	mbw_init_heap(&w, M_LOG_MAX_EVENT);
	for (unsigned i = 0; i < t.nfields; i++) {
		r = put_field(l, &w, t.fmt[i], tok[i]);
		if (r < 0)
			goto out;
	}
	if (t.legacy) {
		/* 'ima': d and n as stored, without their length prefixes */
		size_t dlen = (size_t)w.data[0] | (size_t)w.data[1] << 8 |
			      (size_t)w.data[2] << 16 | (size_t)w.data[3] << 24;

		if (tok[1].n >= IMA_LEGACY_NAME_BUF || dlen > IMA_HASH_LEN) {
			r = bad(l, "'ima' template digest or name too long");
			goto out;
		}
		r = ima_legacy_hashed(w.data + 4, dlen, tok[1].p, tok[1].n, legacy);
		if (r < 0)
			goto out;
		e.hashed = legacy;
		e.hashed_len = (size_t)r;
	} else {
		e.hashed = w.data;
		e.hashed_len = w.len;
	}
	e.known = true;
	if (t.name_field >= 0) {
		e.desc = ima_desc(tok[t.name_field].p, tok[t.name_field].n);
		if (!e.desc) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = ima_add(l->c, &e, l->no, off, l->where);
out:
	mbw_free(&w);
	return r;
}

int ima_parse_ascii(struct ima_ctx *c)
{
	struct mbuf_reader r;
	struct line l = { .c = c };

	mbr_init(&r, c->log->raw, c->log->raw_len);
	while (mbr_remaining(&r) > 0) {
		size_t off = r.off;
		const uint8_t *nl = memchr(r.data + off, '\n', r.len - off);
		size_t n = nl ? (size_t)(nl - (r.data + off)) : r.len - off;
		struct span s;
		int ret;

		l.no++;
		snprintf(l.where, sizeof(l.where), "line %u", l.no);
		/* the kernel ends every line with '\n': anything else is truncated */
		if (!nl)
			return bad(&l, "last line has no newline (truncated list?)");
		s.p = mbr_ptr(&r, n);
		s.n = n;
		mbr_skip(&r, 1);
		if (!s.p || !mbr_ok(&r))
			return bad(&l, "read past the end");	/* cannot happen: n is in bounds */
		if (n == 0)
			return bad(&l, "empty line");
		ret = parse_line(&l, s, off);
		if (ret < 0)
			return ret;
	}
	return 0;
}

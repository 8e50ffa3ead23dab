/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_IMA_PRIV_H
#define MEASURED_IMA_PRIV_H

/*
 * Private to lib/eventlog/ima_*.c: the Linux IMA measurement list.
 * docs/eventlog-ima.md describes the formats and the replay rule.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "measured/buf.h"
#include "measured/eventlog.h"

#define IMA_HASH_LEN 20u		/* the list's template hash is always SHA-1 */
#define IMA_TEMPLATE_NAME_MAX 255u	/* binary template-name length */
#define IMA_FIELDS_MAX 15u		/* kernel: IMA_TEMPLATE_NUM_FIELDS_MAX */
#define IMA_LEGACY_NAME_BUF 256u	/* 'ima' template: name padded to this */

/* How a template field is shown in the ASCII list (kernel ima_template_lib.c). */
enum ima_field_fmt {
	IMA_FT_DIGEST,		/* 'd': raw digest, shown as hex */
	IMA_FT_DIGEST_ALGO,	/* "algo:" NUL digest, shown as "algo:hex" */
	IMA_FT_STRING,		/* NUL-terminated string, shown as text */
	IMA_FT_HEX,		/* bytes, shown as hex (possibly empty) */
	IMA_FT_UINT,		/* native integer, shown in decimal */
};

struct ima_template {
	const char *name;	/* "ima-ng", or the format itself for custom ones */
	unsigned nfields;
	enum ima_field_fmt fmt[IMA_FIELDS_MAX];
	int name_field;		/* index of the 'n'/'n-ng' field, or -1 */
	bool legacy;		/* the 'ima' template: no lengths, name padded */
	bool ascii_ok;		/* template data can be rebuilt from ASCII */
};

/**
 * ima_template_lookup() - the field layout of template @name (@len bytes):
 * a built-in name ("ima-sig") or a custom format ("d-ng|n-ng|buf").
 * Returns false if unknown; @ret is then untouched.
 */
bool ima_template_lookup(const char *name, size_t len, struct ima_template *ret);

/* One entry on its way into struct m_event. */
struct ima_entry {
	uint32_t pcr;
	uint8_t thash[IMA_HASH_LEN];
	bool known;		/* template known: @hashed is valid */
	const uint8_t *hashed;	/* exactly what the kernel hashes per bank */
	size_t hashed_len;
	const uint8_t *data;	/* raw record bytes for m_event.data */
	size_t data_len;
	char *desc;		/* malloc'd path / buffer name, handed over */
};

/* Parser state shared by the binary and ASCII readers. */
struct ima_ctx {
	struct m_log *log;
	size_t cap;		/* allocated entries in log->ev */
	bool unknown_seen;	/* some entry can only be replayed in sha1 */
};

/**
 * ima_add() - check @e and append it to the log: the template hash must be
 * SHA-1 of @e->hashed (unless all zero: a violation), and the digest for
 * each bank is what the kernel extends.  @where names the record in messages
 * ("record 3 (offset 120)" or "line 4").  Takes @e->desc in every case.
 */
int ima_add(struct ima_ctx *c, struct ima_entry *e, uint32_t line, uint64_t offset, const char *where);

/** ima_legacy_hashed() - the 'ima' template's hashed bytes: digest || name padded to 256. */
int ima_legacy_hashed(const uint8_t *digest, size_t dlen, const uint8_t *name, size_t nlen,
		      uint8_t out[IMA_HASH_LEN + IMA_LEGACY_NAME_BUF]);

/** ima_desc() - a printable malloc'd copy of @len bytes up to the first NUL (NULL on ENOMEM). */
char *ima_desc(const uint8_t *s, size_t len);

int ima_parse_binary(struct ima_ctx *c);
int ima_parse_ascii(struct ima_ctx *c);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_JSON_H
#define MEASURED_JSON_H

/*
 * The tree's one JSON reader: text (RFC 8259) to json-c objects.  json-c
 * builds and writes every document; this reads them, because json-c's
 * tokenizer moves a string through its buffer a character at a time and an
 * evidence document carries a log of tens of kilobytes in one base64
 * string, read on every attestation (lib/json_parse.c says how it is read).
 * The one exception is the CEL-JSON reader (lib/eventlog/cel_parse.c): its
 * records are JSON texts laid end to end, and json-c's streaming tokenizer
 * is what finds where each one ends.
 */

#include <stddef.h>
#include <json-c/json.h>

/* reject strings (keys too) that are not UTF-8 (RFC 3629) */
#define M_JSON_UTF8 0x1u

struct m_json_error {
	size_t offset;		/* of the byte that made the text invalid */
	const char *reason;	/* a static description */
};

/**
 * m_json_parse() - the one JSON value the @len bytes at @text hold, with
 * nothing but whitespace after it.  Strict: no comments, trailing commas,
 * single quotes, leading zeros, NaN or control characters in strings; a key
 * twice in one object, a lone surrogate, a number out of the range of a
 * double or an int64 (or uint64) integer, or nesting deeper than
 * @max_depth (a top-level array or object is depth 1) is refused.
 * Returns the value (json_object_put() it), or NULL with @err filled (a
 * text that is only "null", json-c's NULL, is refused too: no document of
 * ours is one).
 */
json_object *m_json_parse(const char *text, size_t len, unsigned max_depth, unsigned flags,
			  struct m_json_error *err);

#endif

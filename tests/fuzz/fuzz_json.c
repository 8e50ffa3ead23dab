// SPDX-License-Identifier: MIT
/*
 * The JSON reader (lib/json_parse.c) against json-c's own strict tokenizer
 * on arbitrary bytes: no crash, leak or out-of-bounds read, and whatever
 * the reader accepts json-c accepts too, as the same objects
 * (json_object_equal).  The reader may refuse more (a key twice, a lone
 * surrogate, an integer out of range): those are its documented rules.
 * The last byte chooses the flags and depth (a file's final newline: no
 * UTF-8 check, depth 6), so both are covered as well.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "measured/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m_json_error err;
	json_object *ours, *theirs;
	json_tokener *tok;
	unsigned flags, depth;
	char *text;

	if (size < 1)
		return 0;
	size--;
	flags = data[size] & 1 ? M_JSON_UTF8 : 0;
	depth = 1 + (data[size] >> 1 & 31);
	ours = m_json_parse((const char *)data, size, depth, flags, &err);
	if (!ours) {
		if (!err.reason || err.offset > size)
			abort();
		return 0;
	}
	/* json-c ends a number at the end of its input only at a NUL: the text
	 * it is given has one (an accepted text has none of its own) */
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	tok = json_tokener_new_ex(depth + 1);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | (flags & M_JSON_UTF8 ? JSON_TOKENER_VALIDATE_UTF8 : 0));
	theirs = json_tokener_parse_ex(tok, text, (int)size + 1);
	if (!theirs || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < size || !json_object_equal(ours, theirs))
		abort();
	free(text);
	json_object_put(theirs);
	json_tokener_free(tok);
	json_object_put(ours);
	return 0;
}

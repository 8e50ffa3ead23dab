// SPDX-License-Identifier: MIT
/*
 * Typed access to the verifier's JSON answers.  Binary fields are base64
 * with padding (RFC 4648, 4); anything else in them is refused, so a
 * field is decoded the same way on both sides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "measured/base64.h"
#include "measured/error.h"

const char *m_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int m_json_b64(json_object *o, const char *key, size_t max, uint8_t **ret, size_t *ret_len)
{
	const char *s = m_json_str(o, key);
	int r;

	if (!s)
		return m_err(-EBADMSG, "answer field '%s': missing or not a string", key);
	r = m_b64_decode(s, strlen(s), max, NULL, ret, ret_len);
	if (r < 0)
		return m_err_prefix(r, "answer field '%s'", key);
	return 0;
}

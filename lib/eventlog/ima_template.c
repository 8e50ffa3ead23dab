// SPDX-License-Identifier: MIT
/*
 * IMA template descriptors: which fields a template carries and how each
 * is shown in the ASCII list.  Built-in templates and field ids as defined
 * by the Linux kernel (Documentation/security/IMA-templates.rst); a custom
 * template (ima_template_fmt=) is listed under its format string.
 */
#include <string.h>
#include "ima_priv.h"

static const struct {
	const char *id;
	enum ima_field_fmt fmt;
	bool ascii_ok;		/* we can rebuild its data from the ASCII text */
} fields[] = {
	{ "d",            IMA_FT_DIGEST,      true },
	{ "n",            IMA_FT_STRING,      true },
	{ "d-ng",         IMA_FT_DIGEST_ALGO, true },
	{ "d-ngv2",       IMA_FT_DIGEST_ALGO, true },
	{ "n-ng",         IMA_FT_STRING,      true },
	{ "sig",          IMA_FT_HEX,         true },
	{ "buf",          IMA_FT_HEX,         true },
	{ "d-modsig",     IMA_FT_DIGEST_ALGO, true },
	{ "modsig",       IMA_FT_HEX,         true },
	{ "evmsig",       IMA_FT_HEX,         true },
	/* xattrnames is a string, but the others of evm-sig are native
	 * integers whose width and byte order the ASCII text does not show */
	{ "xattrnames",   IMA_FT_STRING,      true },
	{ "xattrlengths", IMA_FT_HEX,         true },
	{ "xattrvalues",  IMA_FT_HEX,         true },
	{ "iuid",         IMA_FT_UINT,        false },
	{ "igid",         IMA_FT_UINT,        false },
	{ "imode",        IMA_FT_UINT,        false },
};

static const struct {
	const char *name;
	const char *fmt;
} builtin[] = {
	{ "ima",        "d|n" },
	{ "ima-ng",     "d-ng|n-ng" },
	{ "ima-sig",    "d-ng|n-ng|sig" },
	{ "ima-ngv2",   "d-ngv2|n-ng" },
	{ "ima-sigv2",  "d-ngv2|n-ng|sig" },
	{ "ima-buf",    "d-ng|n-ng|buf" },
	{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
	{ "evm-sig",    "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

static int field_index(const char *id, size_t len)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].id) == len && memcmp(fields[i].id, id, len) == 0)
			return (int)i;
	return -1;
}

static bool parse_fmt(const char *fmt, size_t len, struct ima_template *t)
{
	size_t i = 0;

	t->nfields = 0;
	t->name_field = -1;
	t->ascii_ok = true;
	while (i <= len) {
		size_t j = i;
		int f;

		while (j < len && fmt[j] != '|')
			j++;
		f = field_index(fmt + i, j - i);
		if (f < 0 || t->nfields == IMA_FIELDS_MAX)
			return false;
		if (t->name_field < 0 && fields[f].fmt == IMA_FT_STRING && fields[f].id[0] == 'n')
			t->name_field = (int)t->nfields;
		t->ascii_ok &= fields[f].ascii_ok;
		t->fmt[t->nfields++] = fields[f].fmt;
		i = j + 1;
	}
	return true;
}

bool ima_template_lookup(const char *name, size_t len, struct ima_template *ret)
{
	struct ima_template t = { 0 };
	const char *fmt = name;
	size_t flen = len;

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (strlen(builtin[i].name) == len && memcmp(builtin[i].name, name, len) == 0) {
			t.name = builtin[i].name;
			fmt = builtin[i].fmt;
			flen = strlen(fmt);
			break;
		}
	}
	if (len == 0 || !parse_fmt(fmt, flen, &t))
		return false;
	/* the kernel's special case is by template name, not by format */
	t.legacy = len == 3 && memcmp(name, "ima", 3) == 0;
	*ret = t;
	return true;
}

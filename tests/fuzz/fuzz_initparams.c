// SPDX-License-Identifier: MIT
/*
 * measured-init's kernel command line parser (lib/initcore/params.c).  The
 * input is the command line as /proc/cmdline gives it, up to
 * MI_CMDLINE_MAX bytes; an accepted one must satisfy what the init relies
 * on: a PCR it may extend, NUL-terminated fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "initcore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mi_params p;
	char *s;

	if (size >= MI_CMDLINE_MAX)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mi_params_parse(s, &p) == 0) {
		if (p.pcr > MI_PCR_MAX || p.fail > MI_FAIL_SHELL)
			__builtin_trap();
		if (strnlen(p.root, sizeof(p.root)) == sizeof(p.root) ||
		    strnlen(p.root_file, sizeof(p.root_file)) == sizeof(p.root_file) ||
		    strnlen(p.fstype, sizeof(p.fstype)) == sizeof(p.fstype) ||
		    strnlen(p.init, sizeof(p.init)) == sizeof(p.init))
			__builtin_trap();
	}
	free(s);
	return 0;
}

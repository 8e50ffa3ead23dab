// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"
#include "measured/error.h"

const char *progname_sub = "";

int exit_from_errno(int err)
{
	switch (-err) {
	case ENOMEM:
		return EXIT_INTERNAL;
	default:
		return EXIT_INPUT;
	}
}

int fail(int code, int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "measured %s: ", progname_sub);
	if (fmt) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs(": ", stderr);
	}
	fprintf(stderr, "%s\n", m_errmsg(err));
	return code;
}

int usage_error(const char *sub, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "measured %s: ", sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'measured %s --help'.\n", sub);
	return EXIT_USAGE;
}

void print_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

const char *tcti_choose(const char *opt)
{
	const char *env;

	if (opt && *opt)
		return opt;
	env = getenv("MEASURED_TCTI");
	if (env && *env)
		return env;
	/* A TPM 1.2 has no resource manager, so the kernel makes no /dev/tpmrm0. */
	if (access("/dev/tpmrm0", F_OK) != 0 && access("/dev/tpm0", F_OK) == 0)
		return "device:/dev/tpm0";
	return DEFAULT_TCTI;
}

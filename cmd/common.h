/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CMD_COMMON_H
#define MEASURED_CMD_COMMON_H

/* Shared by the subcommands: exit codes, option helpers, error printing. */

#include <stdbool.h>
#include <stdio.h>

/*
 * Exit codes are an interface (scripts test them); never renumber.
 * Documented in man/measured.1.
 */
enum {
	EXIT_OK = 0,
	EXIT_MISMATCH = 1,	/* a verification ran and found a difference */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_INPUT = 3,		/* unreadable or malformed input, I/O error */
	EXIT_TPM = 4,		/* TPM absent or returned an error */
	EXIT_INTERNAL = 5,	/* out of memory, unexpected failure */
};

/** errno from the library -> exit code, for errors that are not TPM ones. */
int exit_from_errno(int err);

/** Print "measured SUB: MESSAGE" (message from the library) and return @code. */
int fail(int code, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Print a usage error, hint at --help, return EXIT_USAGE. */
int usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * print_json_string() - @s as a quoted JSON string on stdout: quotes and
 * backslashes escaped, control characters as \u00XX, other bytes as they
 * are (paths and messages are passed through, not validated).
 */
void print_json_string(const char *s);

/** The TCTI to use: -T/--tcti if given, else $MEASURED_TCTI, else the device. */
const char *tcti_choose(const char *opt);
#define DEFAULT_TCTI "device:/dev/tpmrm0"

extern const char *progname_sub;	/* "hash", for messages */

/* Every subcommand's entry point and summary, declared from the table
 * generated out of the cmd/cmd_NAME.c file names ($(O)/cmd_table.h), so
 * that each file's definitions are checked against one prototype. */
#define CMD(n) int cmd_##n(int argc, char **argv); extern const char cmd_##n##_summary[];
#include "cmd_table.h"
#undef CMD

#endif

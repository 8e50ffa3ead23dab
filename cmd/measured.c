// SPDX-License-Identifier: MIT
/*
 * `measured`: a thin front for libmeasured.  Subcommands live in
 * cmd/cmd_NAME.c; the table below is generated from those file names.
 */
#include <stdio.h>
#include <string.h>
#include "common.h"

struct subcommand {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct subcommand subcommands[] = {
#define CMD(n) { #n, cmd_##n, cmd_##n##_summary },
#include "cmd_table.h"
#undef CMD
};

static void usage(FILE *f)
{
	fputs("Usage: measured [--version] [--help] COMMAND [ARGS]\n\n"
	      "Measured launch for Linux: predict, measure and attest PCR values.\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-12s %s\n", subcommands[i].name, subcommands[i].summary);
	fputs("\nRun 'measured COMMAND --help' for a command's options; see measured(1)\n"
	      "for exit codes and the environment (MEASURED_TCTI).\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("measured %s\n", MEASURED_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name) == 0) {
			int rc;

			progname_sub = subcommands[i].name;
			rc = subcommands[i].fn(argc - 1, argv + 1);
			/* one check for every command: output that did not reach
			 * its destination (a full disk, a closed pipe) is an error,
			 * never a silent success */
			if (fflush(stdout) != 0 || ferror(stdout)) {
				fprintf(stderr, "measured %s: writing standard output: %m\n", progname_sub);
				if (rc == EXIT_OK)
					rc = EXIT_INPUT;
			}
			return rc;
		}
	}
	fprintf(stderr, "measured: unknown command '%s'\nTry 'measured --help'.\n", argv[1]);
	return EXIT_USAGE;
}

// SPDX-License-Identifier: MIT
/* measured hash [--bank LIST] [--json] PATH... */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"
#include "measured/digest.h"
#include "measured/error.h"

const char cmd_hash_summary[] = "hash files or block devices in several banks";

#define PROGRESS_MIN (64ull << 20)	/* smaller inputs finish before a bar helps */

struct progress {
	const char *path;
	struct timespec last;
	bool shown;
};

static void show_progress(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;
	struct timespec now;
	unsigned pct, width = 30, fill;
	char bar[31];

	if (total < PROGRESS_MIN)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done < total && p->shown &&
	    (now.tv_sec - p->last.tv_sec) * 1000000000L + (now.tv_nsec - p->last.tv_nsec) < 100000000L)
		return;
	p->last = now;
	p->shown = true;
	pct = done >= total ? 100 : (unsigned)(done * 100 / total);
	fill = pct * width / 100;
	memset(bar, '#', fill);
	memset(bar + fill, '.', width - fill);
	bar[width] = '\0';
	fprintf(stderr, "\r%s [%s] %3u%% %llu/%llu MiB", p->path, bar, pct,
		(unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
	if (done >= total)
		fputs("\n", stderr);
}

static void help(void)
{
	fputs("Usage: measured hash [--bank LIST] [--json] PATH...\n\n"
	      "Hash each regular file or block device once, in every bank of LIST\n"
	      "(default sha256; 'all' for every bank this OpenSSL supports), the banks\n"
	      "in parallel.  Prints 'BANK HEX PATH' lines, sorted by bank for each path.\n"
	      "A progress bar goes to stderr when it is a terminal and an input is large.\n\n"
	      "  -b, --bank LIST   sha1,sha256,sha384,sha512,sm3_256 or all\n"
	      "  -j, --json        one JSON object per line: {\"path\",\"size\",\"digests\":{BANK:HEX}}\n"
	      "  -h, --help        this text\n", stdout);
}

int cmd_hash(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bank", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned banks = M_BANK_BIT(M_SHA256);
	bool json = false, tty = isatty(STDERR_FILENO);
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "b:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'b': {
			int r = m_bank_list_parse(optarg, &banks);
			if (r < 0)
				return usage_error("hash", "%s", m_errmsg(r));
			break;
		}
		case 'j':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("hash", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("hash", "no PATH given");

	for (int i = optind; i < argc; i++) {
		struct progress p = { .path = argv[i] };
		struct m_digests d;
		uint64_t size;
		char hex[2 * M_DIGEST_MAX + 1];
		int r = m_digest_path(argv[i], banks, tty ? show_progress : NULL, &p, &d, &size);

		if (r < 0) {
			/* Keep going so one bad path doesn't hide the others' digests. */
			rc = fail(exit_from_errno(r), r, NULL);
			continue;
		}
		if (json) {
			bool first = true;
			fputs("{\"path\":", stdout);
			print_json_string(argv[i]);	/* paths may hold anything */
			printf(",\"size\":%llu,\"digests\":{", (unsigned long long)size);
			for_each_bank(b, banks) {
				m_hex(d.d[b], m_bank_info(b)->size, hex);
				printf("%s\"%s\":\"%s\"", first ? "" : ",", m_bank_info(b)->name, hex);
				first = false;
			}
			puts("}}");
		} else {
			for_each_bank(b, banks) {
				m_hex(d.d[b], m_bank_info(b)->size, hex);
				printf("%s %s %s\n", m_bank_info(b)->name, hex, argv[i]);
			}
		}
	}
	if (fflush(stdout) != 0)
		return fail(EXIT_INPUT, -errno, "writing output");
	return rc;
}

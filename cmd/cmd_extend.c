// SPDX-License-Identifier: MIT
/*
 * measured extend [-T TCTI] --pcr N (PATH | --digest BANK:HEX... | --text STRING)
 *                 [--bank LIST] [--log FILE] [--description TEXT] [--json]
 *
 * Every bank is extended by one TPM2_PCR_Extend, so no TPM state exists in
 * which some banks hold the measurement and others do not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "tpm_opts.h"
#include "measured/cel.h"
#include "measured/error.h"
#include "measured/tpm.h"

const char cmd_extend_summary[] = "extend a PCR with a file, a string or digests";

#define DIGEST_ARG_MAX (16 + 2 * M_DIGEST_MAX)	/* "sm3_256:" + hex, generously */

static void help(void)
{
	fputs("Usage: measured extend [-T TCTI] --pcr N (PATH | --digest BANK:HEX... | --text STRING)\n"
	      "                       [--bank LIST] [--log FILE] [--description TEXT] [--json]\n\n"
	      "Extend PCR N in every bank with one TPM2_PCR_Extend.  The digest of each bank\n"
	      "is the hash of PATH's contents, of STRING's bytes (no trailing newline or\n"
	      "NUL), or given with --digest.  Banks: LIST, else every bank the TPM has\n"
	      "allocated.  --digest must give exactly those banks: a bank left out would\n"
	      "silently not record the measurement, so narrow with --bank instead.\n"
	      "Prints 'BANK PCR DIGEST' for each digest extended.\n\n"
	      TPM_OPTS_HELP
	      "  -p, --pcr N              the PCR, 0-23\n"
	      "  -d, --digest BANK:HEX    a digest to extend as given (repeat per bank)\n"
	      "  -t, --text STRING        extend the hash of STRING\n"
	      "  -b, --bank LIST          sha1,sha256,sha384,sha512,sm3_256\n"
	      "  -l, --log FILE           append a CEL-JSON record to FILE, which stays locked\n"
	      "                           from before the extend until the record is written\n"
	      "  -D, --description TEXT   the record's description (default: PATH or STRING)\n"
	      "  -j, --json               {\"pcr\":N,\"digests\":{BANK:HEX}}\n"
	      "  -h, --help               this text\n", stdout);
}

static int parse_pcr(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v >= M_PCR_COUNT)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

static void print_result(unsigned pcr, const struct m_digests *d, const char *log, bool json)
{
	char hex[2 * M_DIGEST_MAX + 1];
	bool first = true;

	if (!json) {
		for_each_bank(b, d->banks) {
			m_hex(d->d[b], m_bank_info(b)->size, hex);
			printf("%s %u %s\n", m_bank_info(b)->name, pcr, hex);
		}
		return;
	}
	printf("{\"pcr\":%u,\"digests\":{", pcr);
	for_each_bank(b, d->banks) {
		m_hex(d->d[b], m_bank_info(b)->size, hex);
		printf("%s\"%s\":\"%s\"", first ? "" : ",", m_bank_info(b)->name, hex);
		first = false;
	}
	fputs("}", stdout);
	if (log) {
		fputs(",\"log\":", stdout);
		print_json_string(log);
	}
	puts("}");
}

int cmd_extend(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "pcr", required_argument, NULL, 'p' },
		{ "digest", required_argument, NULL, 'd' },
		{ "text", required_argument, NULL, 't' },
		{ "bank", required_argument, NULL, 'b' },
		{ "log", required_argument, NULL, 'l' },
		{ "description", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *tcti = NULL, *text = NULL, *path = NULL, *log = NULL, *desc = NULL;
	struct m_digests given = { 0 }, d = { 0 };
	unsigned pcr = 0, banks = 0, allocated;
	bool have_pcr = false, json = false;
	struct m_tpm *tpm = NULL;
	struct m_cel_writer w;
	bool locked = false;
	char want[64], have[64];
	int c, r, rc, sources;

	while ((c = getopt_long(argc, argv, "T:p:d:t:b:l:D:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			tcti = optarg;
			break;
		case 'p':
			if (parse_pcr(optarg, &pcr) < 0)
				return usage_error("extend", "--pcr wants a number 0-%u, got '%s'", M_PCR_COUNT - 1, optarg);
			have_pcr = true;
			break;
		case 'd':
			if (strlen(optarg) > DIGEST_ARG_MAX)
				return usage_error("extend", "--digest argument too long");
			r = m_digest_arg_parse(optarg, &given);
			if (r < 0)
				return usage_error("extend", "--digest: %s", m_errmsg(r));
			break;
		case 't':
			text = optarg;
			break;
		case 'b':
			r = m_bank_list_parse(optarg, &banks);
			if (r < 0)
				return usage_error("extend", "%s", m_errmsg(r));
			break;
		case 'l':
			log = optarg;
			break;
		case 'D':
			desc = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("extend", "bad option");
		}
	}
	if (!have_pcr)
		return usage_error("extend", "--pcr N is required");
	if (argc - optind > 1)
		return usage_error("extend", "one PATH at most");
	if (optind < argc)
		path = argv[optind];
	sources = !!path + !!text + !!given.banks;
	if (sources != 1)
		return usage_error("extend", "give exactly one of PATH, --digest or --text");
	if (!desc)
		desc = path ? path : text ? text : "digest";

	rc = tpm_connect_banks(tcti, &tpm, &allocated);
	if (rc)
		goto out;
	if (!banks)
		banks = allocated;
	if (banks & ~allocated) {
		m_bank_list_format(banks & ~allocated, want, sizeof(want));
		m_bank_list_format(allocated, have, sizeof(have));
		rc = usage_error("extend", "bank %s is not allocated on this TPM (it has %s)", want, have);
		goto out;
	}
	if (given.banks && given.banks != banks) {
		m_bank_list_format(banks, want, sizeof(want));
		m_bank_list_format(given.banks, have, sizeof(have));
		rc = usage_error("extend", "--digest gives %s but the banks to extend are %s: give a digest for each, or name the banks with --bank",
				 have, want);
		goto out;
	}

	r = 0;
	if (path)
		r = m_digest_path(path, banks, NULL, NULL, &d, NULL);
	else if (text)
		r = m_digest_buf(banks, text, strlen(text), &d);
	else
		d = given;
	if (r < 0) {
		rc = fail(exit_from_errno(r), r, NULL);
		goto out;
	}

	/*
	 * With a log: lock it, extend, write, unlock (as systemd-pcrextend
	 * does), so concurrent writers' records are in the order of their
	 * extends, and a log that cannot be opened stops us before the TPM
	 * holds a measurement nobody recorded.
	 */
	if (log) {
		r = m_cel_open(log, &w);
		if (r < 0) {
			rc = fail(exit_from_errno(r), r, "nothing extended");
			goto out;
		}
		locked = true;
	}
	r = m_tpm_pcr_extend(tpm, pcr, &d);
	if (r < 0) {
		rc = fail(tpm_exit_code(r), r, NULL);
		goto out;
	}
	if (log) {
		r = m_cel_write(&w, pcr, &d, desc);
		if (r == 0) {
			locked = false;
			r = m_cel_close(&w);
		}
		if (r < 0) {
			/* The TPM already holds it: say so, the log is now behind the TPM. */
			rc = fail(exit_from_errno(r), r, "PCR %u was extended, but the record may not be logged", pcr);
			goto out;
		}
	}
	print_result(pcr, &d, log, json);
	if (fflush(stdout) != 0)
		rc = fail(EXIT_INPUT, -errno, "writing output");
out:
	if (locked)
		m_cel_close(&w);
	m_tpm_close(tpm);
	return rc;
}

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

struct extend_opts {
	const char *tcti, *text, *path, *log, *desc;
	struct m_digests given;
	unsigned pcr, banks;
	bool json;
};

/* Options -> struct extend_opts; EXIT_OK, or the exit code to return. */
static int extend_options(int argc, char **argv, struct extend_opts *o, bool *ret_done)
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
	bool have_pcr = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "T:p:d:t:b:l:D:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			o->tcti = optarg;
			break;
		case 'p':
			if (parse_pcr(optarg, &o->pcr) < 0)
				return usage_error("extend", "--pcr wants a number 0-%u, got '%s'", M_PCR_COUNT - 1, optarg);
			have_pcr = true;
			break;
		case 'd':
			if (strlen(optarg) > DIGEST_ARG_MAX)
				return usage_error("extend", "--digest argument too long");
			r = m_digest_arg_parse(optarg, &o->given);
			if (r < 0)
				return usage_error("extend", "--digest: %s", m_errmsg(r));
			break;
		case 't':
			o->text = optarg;
			break;
		case 'b':
			r = m_bank_list_parse(optarg, &o->banks);
			if (r < 0)
				return usage_error("extend", "%s", m_errmsg(r));
			break;
		case 'l':
			o->log = optarg;
			break;
		case 'D':
			o->desc = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			help();
			*ret_done = true;
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
		o->path = argv[optind];
	if (!!o->path + !!o->text + !!o->given.banks != 1)
		return usage_error("extend", "give exactly one of PATH, --digest or --text");
	if (!o->desc)
		o->desc = o->path ? o->path : o->text ? o->text : "digest";
	return EXIT_OK;
}

/* The banks to extend: --bank or every allocated one, each allocated, and
 * a --digest for each. */
static int extend_banks(struct extend_opts *o, unsigned allocated)
{
	char want[64], have[64];

	if (!o->banks)
		o->banks = allocated;
	if (o->banks & ~allocated) {
		m_bank_list_format(o->banks & ~allocated, want, sizeof(want));
		m_bank_list_format(allocated, have, sizeof(have));
		return usage_error("extend", "bank %s is not allocated on this TPM (it has %s)", want, have);
	}
	if (o->given.banks && o->given.banks != o->banks) {
		m_bank_list_format(o->banks, want, sizeof(want));
		m_bank_list_format(o->given.banks, have, sizeof(have));
		return usage_error("extend", "--digest gives %s but the banks to extend are %s: give a digest for each, or name the banks with --bank",
				   have, want);
	}
	return EXIT_OK;
}

/*
 * Extend, and with a log: lock it, extend, write, unlock (as
 * systemd-pcrextend does), so concurrent writers' records are in the
 * order of their extends, and a log that cannot be opened stops us before
 * the TPM holds a measurement nobody recorded.
 */
static int extend_run(const struct extend_opts *o, struct m_tpm *tpm, const struct m_digests *d)
{
	struct m_cel_writer w;
	int r;

	if (o->log) {
		r = m_cel_open(o->log, &w);
		if (r < 0)
			return fail(exit_from_errno(r), r, "nothing extended");
	}
	r = m_tpm_pcr_extend(tpm, o->pcr, d);
	if (r < 0) {
		if (o->log)
			m_cel_close(&w);
		return fail(tpm_exit_code(r), r, NULL);
	}
	if (!o->log)
		return EXIT_OK;
	r = m_cel_write(&w, o->pcr, d, o->desc);
	if (r == 0)
		r = m_cel_close(&w);
	else
		m_cel_close(&w);
	/* the TPM already holds it: say so, the log is now behind the TPM */
	if (r < 0)
		return fail(exit_from_errno(r), r, "PCR %u was extended, but the record may not be logged", o->pcr);
	return EXIT_OK;
}

int cmd_extend(int argc, char **argv)
{
	struct extend_opts o = { 0 };
	struct m_digests d = { 0 };
	struct m_tpm *tpm = NULL;
	unsigned allocated;
	bool done = false;
	int r = 0, rc;

	rc = extend_options(argc, argv, &o, &done);
	if (rc || done)
		return rc;
	rc = tpm_connect_banks(o.tcti, &tpm, &allocated);
	if (rc || (rc = extend_banks(&o, allocated)))
		goto out;
	/* inputs: the digest of each bank */
	if (o.path)
		r = m_digest_path(o.path, o.banks, NULL, NULL, &d, NULL);
	else if (o.text)
		r = m_digest_buf(o.banks, o.text, strlen(o.text), &d);
	else
		d = o.given;
	if (r < 0) {
		rc = fail(exit_from_errno(r), r, NULL);
		goto out;
	}
	rc = extend_run(&o, tpm, &d);
	if (rc == EXIT_OK)
		print_result(o.pcr, &d, o.log, o.json);
out:
	m_tpm_close(tpm);
	return rc;
}

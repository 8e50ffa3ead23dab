// SPDX-License-Identifier: MIT
/*
 * measured check MANIFEST (--eventlog FILE... | --tpm) [--json]
 * Compares a reference manifest with event logs and/or the live PCRs and,
 * for each PCR that differs, names the first event that differs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "tpm_opts.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "measured/manifest.h"
#include "measured/tpm.h"

const char cmd_check_summary[] = "compare a reference manifest with event logs or the TPM";

#define MAX_LOGS 16

static void help(void)
{
	fputs("Usage: measured check MANIFEST (--eventlog FILE... | --tpm) [-T TCTI] [--json]\n\n"
	      "Compare the reference MANIFEST (from `measured predict`) with event logs\n"
	      "(given in boot order: firmware log, then measured-init's CEL log, ...)\n"
	      "and/or the TPM's live PCR values.  For each PCR that differs, print the\n"
	      "first event that differs, expected against found.\n\n"
	      "  -e, --eventlog FILE  an event log (repeatable, at most 16)\n"
	      "  -t, --tpm            compare the live PCR values too\n"
	      TPM_OPTS_HELP
	      "  -j, --json           {\"match\":BOOL,\"results\":[...]} \n"
	      "  -h, --help           this text\n\n"
	      "Exit status: 0 match, 1 mismatch, 2 usage, 3 bad input, 4 TPM error.\n", stdout);
}

static void print_item_json(const struct m_check_item *it, const char *what, bool first)
{
	char msg[2048];

	m_check_describe(it, msg, sizeof(msg));
	printf("%s{\"what\":\"%s\",\"pcr\":%u,\"bank\":\"%s\",\"status\":\"%s\",\"index\":%zu",
	       first ? "" : ",", what, it->pcr, m_bank_info(it->bank)->name, m_check_status_name(it->status),
	       it->index);
	if (it->found && it->found_log)
		printf(",\"found_record\":%u,\"found_offset\":%llu", it->found->recnum,
		       (unsigned long long)it->found->offset);
	fputs(",\"message\":", stdout);
	print_json_string(msg);
	fputs("}", stdout);
}

struct check_opts {
	const char *manifest, *tcti;
	const char *paths[MAX_LOGS];
	size_t nlogs;
	bool use_tpm, json;
};

/* Options -> struct check_opts; EXIT_OK, or the exit code to return. */
static int check_options(int argc, char **argv, struct check_opts *o, bool *ret_done)
{
	static const struct option opts[] = {
		{ "eventlog", required_argument, NULL, 'e' },
		{ "tpm", no_argument, NULL, 't' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "e:tT:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (o->nlogs == MAX_LOGS)
				return usage_error("check", "at most %d event logs", MAX_LOGS);
			o->paths[o->nlogs++] = optarg;
			break;
		case 't':
			o->use_tpm = true;
			break;
		case 'T':
			o->tcti = optarg;
			o->use_tpm = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			help();
			*ret_done = true;
			return EXIT_OK;
		default:
			return usage_error("check", "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error("check", "one MANIFEST expected");
	if (!o->nlogs && !o->use_tpm)
		return usage_error("check", "give --eventlog FILE or --tpm");
	o->manifest = argv[optind];
	return EXIT_OK;
}

/* The live PCRs the manifest names, against it. */
static int check_tpm(const struct check_opts *o, const struct m_manifest *m, struct m_check_result *pr)
{
	struct m_tpm *tpm = NULL;
	struct m_pcrs *vals = NULL;
	unsigned allocated;
	int r, rc;

	rc = tpm_connect_banks(o->tcti, &tpm, &allocated);
	if (rc)
		return rc;
	vals = calloc(1, sizeof(*vals));
	if (!vals) {
		rc = fail(EXIT_INTERNAL, -ENOMEM, NULL);
		goto out;
	}
	r = m_tpm_pcr_read(tpm, m->banks & allocated, m->pcrs, vals);
	if (r < 0) {
		rc = fail(tpm_exit_code(r), r, NULL);
		goto out;
	}
	r = m_manifest_check_pcrs(m, vals, pr);
	if (r < 0)
		rc = fail(exit_from_errno(r), r, NULL);
out:
	free(vals);
	m_tpm_close(tpm);
	return rc;
}

/* Every difference, the event logs' then the TPM's, and the verdict. */
static int check_output(const struct check_opts *o, const struct m_check_result *lr,
			const struct m_check_result *pr)
{
	bool match = lr->match && pr->match, first = true;

	if (o->json)
		printf("{\"match\":%s,\"results\":[", match ? "true" : "false");
	for (int pass = 0; pass < 2; pass++) {
		const struct m_check_result *res = pass ? pr : lr;

		for (size_t i = 0; i < res->count; i++) {
			char msg[2048];

			if (o->json) {
				print_item_json(&res->items[i], pass ? "tpm" : "eventlog", first);
				first = false;
				continue;
			}
			m_check_describe(&res->items[i], msg, sizeof(msg));
			printf("%s%s\n", pass ? "tpm: " : "eventlog: ", msg);
		}
	}
	if (o->json)
		puts("]}");
	else
		puts(match ? "match" : "MISMATCH");
	return match ? EXIT_OK : EXIT_MISMATCH;
}

int cmd_check(int argc, char **argv)
{
	struct check_opts o = { 0 };
	struct m_log *logs[MAX_LOGS] = { 0 };
	struct m_check_result lr = { .match = true }, pr = { .match = true };
	struct m_manifest *m = NULL;
	bool done = false;
	int r, rc;

	rc = check_options(argc, argv, &o, &done);
	if (rc || done)
		return rc;
	/* inputs */
	r = m_manifest_load(o.manifest, &m);
	if (r < 0)
		return fail(EXIT_INPUT, r, NULL);
	for (size_t i = 0; i < o.nlogs; i++) {
		r = m_log_load(o.paths[i], &logs[i]);
		if (r < 0) {
			rc = fail(EXIT_INPUT, r, NULL);
			goto out;
		}
	}
	/* run */
	if (o.nlogs && (r = m_manifest_check_logs(m, logs, o.nlogs, &lr)) < 0) {
		rc = fail(exit_from_errno(r), r, NULL);
		goto out;
	}
	if (o.use_tpm && (rc = check_tpm(&o, m, &pr)) != EXIT_OK)
		goto out;
	/* output */
	rc = check_output(&o, &lr, &pr);
out:
	m_check_result_free(&lr);
	m_check_result_free(&pr);
	for (size_t i = 0; i < o.nlogs; i++)
		m_log_free(logs[i]);
	m_manifest_free(m);
	return rc;
}

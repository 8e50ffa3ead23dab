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

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eventlog", required_argument, NULL, 'e' },
		{ "tpm", no_argument, NULL, 't' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *paths[MAX_LOGS], *tcti = NULL;
	struct m_log *logs[MAX_LOGS] = { 0 };
	struct m_check_result lr = { .match = true }, pr = { .match = true };
	struct m_manifest *m = NULL;
	struct m_tpm *tpm = NULL;
	struct m_pcrs *vals = NULL;
	size_t nlogs = 0;
	bool use_tpm = false, json = false, first = true;
	int c, r, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "e:tT:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (nlogs == MAX_LOGS)
				return usage_error("check", "at most %d event logs", MAX_LOGS);
			paths[nlogs++] = optarg;
			break;
		case 't':
			use_tpm = true;
			break;
		case 'T':
			tcti = optarg;
			use_tpm = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("check", "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error("check", "one MANIFEST expected");
	if (!nlogs && !use_tpm)
		return usage_error("check", "give --eventlog FILE or --tpm");

	r = m_manifest_load(argv[optind], &m);
	if (r < 0)
		return fail(EXIT_INPUT, r, NULL);
	for (size_t i = 0; i < nlogs; i++) {
		r = m_log_load(paths[i], &logs[i]);
		if (r < 0) {
			rc = fail(EXIT_INPUT, r, NULL);
			goto out;
		}
	}
	if (nlogs) {
		r = m_manifest_check_logs(m, logs, nlogs, &lr);
		if (r < 0) {
			rc = fail(exit_from_errno(r), r, NULL);
			goto out;
		}
	}
	if (use_tpm) {
		unsigned allocated;

		rc = tpm_connect_banks(tcti, &tpm, &allocated);
		if (rc)
			goto out;
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
		r = m_manifest_check_pcrs(m, vals, &pr);
		if (r < 0) {
			rc = fail(exit_from_errno(r), r, NULL);
			goto out;
		}
	}

	if (json)
		printf("{\"match\":%s,\"results\":[", lr.match && pr.match ? "true" : "false");
	for (int pass = 0; pass < 2; pass++) {
		const struct m_check_result *res = pass ? &pr : &lr;

		for (size_t i = 0; i < res->count; i++) {
			char msg[2048];

			if (json) {
				print_item_json(&res->items[i], pass ? "tpm" : "eventlog", first);
				first = false;
				continue;
			}
			m_check_describe(&res->items[i], msg, sizeof(msg));
			printf("%s%s\n", pass ? "tpm: " : "eventlog: ", msg);
		}
	}
	if (json)
		puts("]}");
	else
		puts(lr.match && pr.match ? "match" : "MISMATCH");
	rc = lr.match && pr.match ? EXIT_OK : EXIT_MISMATCH;
out:
	m_check_result_free(&lr);
	m_check_result_free(&pr);
	for (size_t i = 0; i < nlogs; i++)
		m_log_free(logs[i]);
	free(vals);
	m_tpm_close(tpm);
	m_manifest_free(m);
	return rc;
}

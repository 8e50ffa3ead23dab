// SPDX-License-Identifier: MIT
/* measured pcrread [-T TCTI] [--bank LIST] [--json] [PCRS] */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "tpm_opts.h"
#include "measured/error.h"
#include "measured/pcrs.h"
#include "measured/tpm.h"

const char cmd_pcrread_summary[] = "read the TPM's PCRs";

static void help(void)
{
	fputs("Usage: measured pcrread [-T TCTI] [--bank LIST] [--json] [PCRS]\n\n"
	      "Read PCRS (\"0,1,4-7\" or \"all\"; default all, 0-23) from the TPM in every\n"
	      "bank of LIST (default: every bank the TPM has allocated) and print\n"
	      "'BANK PCR HEX' lines, sorted by bank then PCR.  The values come from one\n"
	      "consistent TPM state even when they take several TPM2_PCR_Read commands.\n\n"
	      TPM_OPTS_HELP
	      "  -b, --bank LIST   sha1,sha256,sha384,sha512,sm3_256 or all (allocated)\n"
	      "  -j, --json        one JSON object {BANK:{PCR:HEX}}\n"
	      "  -h, --help        this text\n", stdout);
}

int cmd_pcrread(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "bank", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *tcti = NULL, *banklist = NULL;
	uint32_t pcrs = (1u << M_PCR_COUNT) - 1;
	unsigned banks = 0, allocated;
	struct m_tpm *tpm = NULL;
	struct m_pcrs *vals = NULL;
	bool json = false;
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "T:b:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			tcti = optarg;
			break;
		case 'b':
			banklist = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("pcrread", "bad option");
		}
	}
	if (argc - optind > 1)
		return usage_error("pcrread", "one PCR list expected, e.g. 0,1,4-7");
	if (optind < argc) {
		r = m_pcr_list_parse(argv[optind], &pcrs);
		if (r < 0)
			return usage_error("pcrread", "%s", m_errmsg(r));
	}
	/* "all" means every allocated bank, so it is resolved after asking the TPM */
	if (banklist && strcmp(banklist, "all") != 0) {
		r = m_bank_list_parse(banklist, &banks);
		if (r < 0)
			return usage_error("pcrread", "%s", m_errmsg(r));
	}

	rc = tpm_connect_banks(tcti, &tpm, &allocated);
	if (rc)
		goto out;
	if (!banks)
		banks = allocated;
	vals = malloc(sizeof(*vals));
	if (!vals) {
		rc = fail(EXIT_INTERNAL, -ENOMEM, NULL);
		goto out;
	}
	r = m_tpm_pcr_read(tpm, banks, pcrs, vals);
	if (r < 0) {
		rc = fail(tpm_exit_code(r), r, NULL);
		goto out;
	}
	m_pcrs_print(stdout, vals, json);
	if (fflush(stdout) != 0)
		rc = fail(EXIT_INPUT, -errno, "writing output");
out:
	free(vals);
	m_tpm_close(tpm);
	return rc;
}

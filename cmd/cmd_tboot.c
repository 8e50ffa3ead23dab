// SPDX-License-Identifier: MIT
/*
 * measured tboot mlehash|module-hash|policy-show: tboot / Intel TXT
 * arithmetic on its own, to check against Intel's lcp2_mlehash and
 * tb_polgen (see docs/predict-formulas.md and man/measured-tboot.1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "measured/digest.h"
#include "measured/error.h"
#include "measured/tboot.h"

const char cmd_tboot_summary[] = "tboot/TXT values: MLE hash, module hash, policy";

static void tboot_help(void)
{
	fputs("Usage: measured tboot COMMAND [OPTION]... FILE\n\n"
	      "  mlehash [--bank B] [--cmdline STRING] TBOOT\n"
	      "      MLE hash of tboot (tboot.gz or its ELF) for its command line,\n"
	      "      as SINIT measures it and lcp2_mlehash --create prints it.\n"
	      "  module-hash [--bank B] --cmdline STRING [--strip-filename] [--no-gunzip] FILE\n"
	      "      tboot's module measurement H(H(cmdline) || H(image)).\n"
	      "  policy-show [--extpol B] [--json] POLICY\n"
	      "      the fields of a tb_polgen policy file and the policy-control\n"
	      "      digest tboot extends into PCR 17 (and 18 with the DA mapping).\n\n"
	      "Each command takes --help.  Exit codes: 0 ok, 2 usage, 3 bad input.\n", stdout);
}

static int parse_bank(const char *sub, const char *s, enum m_bank *ret)
{
	int b = m_bank_by_name(s);

	if (b < 0 || !m_bank_supported((enum m_bank)b))
		return usage_error(sub, "unknown bank '%s'", s);
	*ret = (enum m_bank)b;
	return 0;
}

/* one lowercase hex digest, or with --json {"bank":"sha256","digest":"..."} */
static void print_digest(enum m_bank b, const uint8_t *d, bool json)
{
	char hex[2 * M_DIGEST_MAX + 1];

	m_hex(d, m_bank_info(b)->size, hex);
	if (json)
		printf("{\"bank\":\"%s\",\"digest\":\"%s\"}\n", m_bank_info(b)->name, hex);
	else
		puts(hex);
}

static int tboot_mlehash(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bank", required_argument, NULL, 'b' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	enum m_bank bank = M_SHA256;
	const char *cmdline = NULL;
	bool json = false;
	struct m_digests d;
	uint8_t *elf;
	size_t len;
	int c, e;

	while ((c = getopt_long(argc, argv, "b:c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'b':
			if (parse_bank("tboot mlehash", optarg, &bank))
				return EXIT_USAGE;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'h':
			fputs("Usage: measured tboot mlehash [--bank B] [--cmdline STRING] [--json] TBOOT\n\n"
			      "Print the MLE hash of tboot (gzip or plain ELF) with STRING as its\n"
			      "command line, one lowercase hex digest (default bank sha256);\n"
			      "--json: {\"bank\":B,\"digest\":HEX}.\n", stdout);
			return EXIT_OK;
		default:
			return usage_error("tboot mlehash", "bad option");
		}
	}
	if (optind != argc - 1)
		return usage_error("tboot mlehash", "give one tboot image");
	e = m_tboot_read_file(argv[optind], M_TBOOT_MAX_FILE, true, &elf, &len);
	if (e < 0)
		return fail(exit_from_errno(e), e, NULL);
	e = m_tboot_mlehash(elf, len, cmdline, M_BANK_BIT(bank), &d);
	free(elf);
	if (e < 0)
		return fail(exit_from_errno(e), e, "%s", argv[optind]);
	print_digest(bank, d.d[bank], json);
	return EXIT_OK;
}

static int tboot_module_hash(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bank", required_argument, NULL, 'b' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "strip-filename", no_argument, NULL, 's' },
		{ "no-gunzip", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	enum m_bank bank = M_SHA256;
	const char *cmdline = NULL;
	bool json = false, strip = false, unzip = true;
	struct m_digests d;
	uint8_t *img;
	size_t len;
	int c, e;

	while ((c = getopt_long(argc, argv, "b:c:snjh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_bank("tboot module-hash", optarg, &bank))
				return EXIT_USAGE;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 's':
			strip = true;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			unzip = false;
			break;
		case 'h':
			fputs("Usage: measured tboot module-hash [--bank B] --cmdline STRING\n"
			      "                                  [--strip-filename] [--no-gunzip] [--json] FILE\n\n"
			      "Print tboot's measurement of a boot module, H(H(cmdline) || H(image)),\n"
			      "one lowercase hex digest (default bank sha256).  A gzip FILE is\n"
			      "decompressed first, as GRUB loads modules and tb_polgen hashes them,\n"
			      "unless --no-gunzip.  --strip-filename applies old tboot versions' rule:\n"
			      "the command line without its first word (the module's file name).\n", stdout);
			return EXIT_OK;
		default:
			return usage_error("tboot module-hash", "bad option");
		}
	}
	if (!cmdline)
		return usage_error("tboot module-hash", "--cmdline is required (use \"\" for none)");
	if (optind != argc - 1)
		return usage_error("tboot module-hash", "give one module file");
	e = m_tboot_read_file(argv[optind], M_TBOOT_MAX_MODULE, unzip, &img, &len);
	if (e < 0)
		return fail(exit_from_errno(e), e, NULL);
	e = m_tboot_module_hash(strip ? m_tboot_skip_filename(cmdline) : cmdline, img, len,
				M_BANK_BIT(bank), &d);
	free(img);
	if (e < 0)
		return fail(exit_from_errno(e), e, NULL);
	print_digest(bank, d.d[bank], json);
	return EXIT_OK;
}

static const char *poltype_name(uint8_t t)
{
	static const char *const n[] = { "nonfatal", "continue", "halt" };

	return t < 3 ? n[t] : "unknown";
}

static void mod_name(uint8_t m, char *buf, size_t len)
{
	if (m == M_TB_MOD_NUM_ANY)
		snprintf(buf, len, "any");
	else if (m == M_TB_MOD_NUM_NV)
		snprintf(buf, len, "nv");
	else if (m == M_TB_MOD_NUM_NV_RAW)
		snprintf(buf, len, "nv_raw");
	else
		snprintf(buf, len, "%u", m);
}

static void pcr_name(uint8_t p, char *buf, size_t len)
{
	if (p == M_TB_PCR_NONE)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%u", p);
}

static void policy_print(const struct m_tb_policy *p, enum m_bank cur, const uint8_t *pcd, bool json)
{
	size_t hs = m_bank_info(p->bank)->size;
	char hex[2 * M_DIGEST_MAX + 1], mod[16], pcr[8];

	m_hex(pcd, m_bank_info(cur)->size, hex);
	if (!json) {
		printf("version %u\npolicy_type %s\nhash_alg %s\npolicy_control 0x%08x%s\nentries %u\n",
		       p->version, poltype_name(p->policy_type), m_bank_info(p->bank)->name,
		       p->policy_control,
		       p->policy_control & M_TB_POLCTL_EXTEND_PCR17 ? " extend_pcr17" : "", p->num_entries);
		for (unsigned i = 0; i < p->num_entries; i++) {
			const struct m_tb_policy_entry *e = &p->entries[i];

			mod_name(e->mod_num, mod, sizeof(mod));
			pcr_name(e->pcr, pcr, sizeof(pcr));
			printf("entry %u mod_num %s pcr %s hash_type %s nv_index 0x%08x hashes %u\n", i, mod,
			       pcr, e->hash_type == M_TB_HTYPE_ANY ? "any" : "image", e->nv_index,
			       e->num_hashes);
			for (unsigned j = 0; j < e->num_hashes; j++) {
				char h[2 * M_DIGEST_MAX + 1];

				m_hex(e->hashes + j * hs, hs, h);
				printf("entry %u hash %u %s\n", i, j, h);
			}
		}
		printf("policy_control_digest %s %s\n", m_bank_info(cur)->name, hex);
		return;
	}
	printf("{\"version\":%u,\"policy_type\":\"%s\",\"hash_alg\":\"%s\",\"policy_control\":%u,"
	       "\"policy_control_digest\":{\"%s\":\"%s\"},\"entries\":[",
	       p->version, poltype_name(p->policy_type), m_bank_info(p->bank)->name, p->policy_control,
	       m_bank_info(cur)->name, hex);
	for (unsigned i = 0; i < p->num_entries; i++) {
		const struct m_tb_policy_entry *e = &p->entries[i];

		mod_name(e->mod_num, mod, sizeof(mod));
		pcr_name(e->pcr, pcr, sizeof(pcr));
		printf("%s{\"mod_num\":\"%s\",\"pcr\":\"%s\",\"hash_type\":\"%s\",\"nv_index\":%u,\"hashes\":[",
		       i ? "," : "", mod, pcr, e->hash_type == M_TB_HTYPE_ANY ? "any" : "image", e->nv_index);
		for (unsigned j = 0; j < e->num_hashes; j++) {
			char h[2 * M_DIGEST_MAX + 1];

			m_hex(e->hashes + j * hs, hs, h);
			printf("%s\"%s\"", j ? "," : "", h);
		}
		fputs("]}", stdout);
	}
	puts("]}");
}

static int tboot_policy_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "extpol", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	enum m_bank cur = M_SHA256;
	bool json = false;
	struct m_tb_policy *p = NULL;
	uint8_t pcd[M_DIGEST_MAX];
	uint8_t *data = NULL;
	size_t len;
	int c, e, rc;

	while ((c = getopt_long(argc, argv, "e:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (parse_bank("tboot policy-show", optarg, &cur))
				return EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs("Usage: measured tboot policy-show [--extpol B] [--json] POLICY\n\n"
			      "Print what a tboot policy file (tb_polgen's format) holds, and the\n"
			      "policy-control digest tboot extends into PCR 17 (and PCR 18 with the\n"
			      "Details/Authorities mapping): H_B(policy_control || H_B(policy)).\n"
			      "B is tboot's extpol= bank: sha256 (tboot's default with TPM 2.0),\n"
			      "sha1 with TPM 1.2.\n", stdout);
			return EXIT_OK;
		default:
			return usage_error("tboot policy-show", "bad option");
		}
	}
	if (optind != argc - 1)
		return usage_error("tboot policy-show", "give one policy file");
	/* Read a little past the limit so an oversized file is reported as such. */
	e = m_tboot_read_file(argv[optind], M_TB_POLICY_MAX_SIZE + 1, false, &data, &len);
	if (e < 0)
		return fail(exit_from_errno(e), e, NULL);
	p = malloc(sizeof(*p));
	if (!p) {
		rc = fail(EXIT_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = m_tb_policy_parse(data, len, p)) < 0 ||
	    (e = m_tb_policy_control_digest(p, cur, cur, pcd)) < 0) {
		rc = fail(exit_from_errno(e), e, "%s", argv[optind]);
		goto out;
	}
	policy_print(p, cur, pcd, json);
	rc = EXIT_OK;
out:
	free(p);
	free(data);
	return rc;
}

int cmd_tboot(int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		return usage_error("tboot", "no command (mlehash, module-hash, policy-show)");
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		tboot_help();
		return EXIT_OK;
	}
	optind = 1;
	if (!strcmp(sub, "mlehash"))
		return tboot_mlehash(argc - 1, argv + 1);
	if (!strcmp(sub, "module-hash"))
		return tboot_module_hash(argc - 1, argv + 1);
	if (!strcmp(sub, "policy-show"))
		return tboot_policy_show(argc - 1, argv + 1);
	return usage_error("tboot", "unknown command '%s'", sub);
}

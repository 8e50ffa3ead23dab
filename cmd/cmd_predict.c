// SPDX-License-Identifier: MIT
/*
 * measured predict [inputs...] (-o MANIFEST | --show)
 * Computes on the build host, without a TPM, the events and PCR values a
 * good boot produces, into a reference manifest (docs/manifest.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "predict_inputs.h"
#include "measured/error.h"
#include "measured/eventlog.h"
#include "measured/manifest.h"
#include "measured/predict.h"

const char cmd_predict_summary[] = "predict PCR values from build artifacts into a reference manifest";

static void help(void)
{
	fputs("Usage: measured predict [INPUTS...] [--bank LIST] (-o MANIFEST | --show [--json])\n\n"
	      "Predict the PCR values a good boot produces from build artifacts and write\n"
	      "a reference manifest: for each PCR and bank the expected value and the\n"
	      "ordered events that produce it.  No TPM is needed.\n\n"
	      "Root filesystem (what measured-init extends):\n"
	      "  --rootfs FILE            the root image (or block device)\n"
	      "  --rootfs-digest BANK:HEX the image's digest instead of the file (repeatable)\n"
	      "  --rootfs-pcr N           the PCR (default: measured-init's, 15; 9 with\n"
	      "                           --rootfs-compat, as the original)\n"
	      "  --rootfs-compat          the original `measureroot` value: SHA-1 bank only,\n"
	      "                           SHA1 of the hex text of SHA1(image)\n"
	      PREDICT_VERITY_HELP
	      "UEFI boot of a Linux kernel:\n"
	      "  --kernel FILE            the kernel's PE image -> PCR 4\n"
	      "  --cmdline STRING         the kernel command line -> PCR 9\n"
	      "  --initrd FILE            the initramfs -> PCR 9\n"
	      "  --qemu-direct-boot MEM   the kernel comes through QEMU's -kernel/-initrd/\n"
	      "                           -append on OVMF with MEM of RAM (e.g. 512M): QEMU\n"
	      "                           rewrites setup-header fields before the firmware\n"
	      "                           measures it, and OVMF adds \" initrd=initrd\"\n"
	      "Platform (what no artifact determines):\n"
	      "  --firmware-log FILE      a golden firmware event log of the platform; it\n"
	      "                           supplies every PCR it extends that no artifact\n"
	      "                           above predicts\n"
	      "  --firmware-pcrs LIST     take only these PCRs from it (default: all it has)\n"
	      "tboot / Intel TXT (PCR 17, 18 and the PCRs the policy names):\n"
	      "  --tboot FILE             tboot.gz: the MLE SINIT measures\n"
	      "  --tboot-cmdline STRING   tboot's command line (part of the MLE hash)\n"
	      "  --tboot-policy FILE      a tb_polgen policy (default: tboot's built-in one)\n"
	      "  --tboot-module FILE:CMDLINE  a multiboot module, in order (0 = the kernel)\n"
	      "  --tboot-legacy           TPM 1.2 legacy mapping (17/18/19, SHA-1); default\n"
	      "                           the Details/Authorities mapping TPM 2.0 forces\n"
	      "  --tboot-strip-filename   old tboot: module command lines lose their first word\n"
	      "  --sinit FILE             the SINIT's part (key=value; docs/predict-formulas.md);\n"
	      "                           without it PCR 17/18 are left out of the manifest\n"
	      "Output:\n"
	      "  -t, --tpm 2.0|1.2        the machine's TPM: 1.2 predicts the sha1 bank only,\n"
	      "                           tboot's legacy mapping, and no PCR 9 from Linux's\n"
	      "                           EFI stub (it measures only through TCG2, 2.0)\n"
	      "  -b, --bank LIST          banks to predict (default sha1,sha256)\n"
	      "  -o, --output FILE        write the manifest\n"
	      "  -s, --show               print 'BANK PCR HEX' lines (with --json: the manifest)\n"
	      "  -j, --json               with --show, print the manifest JSON\n"
	      "  -h, --help               this text\n", stdout);
}

enum {
	OPT_ROOTFS = 0x100, OPT_ROOTFS_DIGEST, OPT_ROOTFS_PCR, OPT_ROOTFS_COMPAT, OPT_KERNEL,
	OPT_CMDLINE, OPT_INITRD, OPT_QEMU, OPT_FWLOG, OPT_FWPCRS, OPT_TBOOT, OPT_TBOOT_CMDLINE,
	OPT_TBOOT_POLICY, OPT_TBOOT_MODULE, OPT_SINIT, OPT_TBOOT_LEGACY, OPT_TBOOT_STRIP,
};

/* --tpm 1.2: one SHA-1 bank, tboot's legacy PCRs 17/18/19 (docs/tpm12.md). */
static int tpm12_inputs(struct predict_inputs *in, bool banks_given)
{
	if (banks_given && in->banks != M_BANK_BIT(M_SHA1))
		return usage_error("predict", "--tpm 1.2: a TPM 1.2 has only the sha1 bank");
	if (in->initrd || in->cmdline)
		return usage_error("predict", "--tpm 1.2: Linux's EFI stub measures the initrd and command line only through TCG2 (TPM 2.0)");
	in->banks = M_BANK_BIT(M_SHA1);
	in->tboot_legacy = true;
	return 0;
}

int cmd_predict(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rootfs", required_argument, NULL, OPT_ROOTFS },
		{ "rootfs-digest", required_argument, NULL, OPT_ROOTFS_DIGEST },
		{ "rootfs-pcr", required_argument, NULL, OPT_ROOTFS_PCR },
		{ "rootfs-compat", no_argument, NULL, OPT_ROOTFS_COMPAT },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "qemu-direct-boot", required_argument, NULL, OPT_QEMU },
		{ "firmware-log", required_argument, NULL, OPT_FWLOG },
		{ "firmware-pcrs", required_argument, NULL, OPT_FWPCRS },
		{ "tboot", required_argument, NULL, OPT_TBOOT },
		{ "tboot-cmdline", required_argument, NULL, OPT_TBOOT_CMDLINE },
		{ "tboot-policy", required_argument, NULL, OPT_TBOOT_POLICY },
		{ "tboot-module", required_argument, NULL, OPT_TBOOT_MODULE },
		{ "sinit", required_argument, NULL, OPT_SINIT },
		{ "tboot-legacy", no_argument, NULL, OPT_TBOOT_LEGACY },
		{ "tboot-strip-filename", no_argument, NULL, OPT_TBOOT_STRIP },
		{ "tpm", required_argument, NULL, 't' },
		PREDICT_VERITY_OPTIONS,
		{ "bank", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "show", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct predict_inputs in = { .banks = M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256),
				     .rootfs_pcr = PREDICT_ROOTFS_PCR_MODE_DEFAULT,
				     .firmware_pcrs = (1u << M_PCR_COUNT) - 1 };
	const char *output = NULL;
	bool show = false, json = false, tpm12 = false, banks_given = false;
	struct m_manifest *m = NULL;
	int c, r, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "t:b:o:sjh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOTFS:
			in.rootfs = optarg;
			break;
		case OPT_ROOTFS_DIGEST:
			r = m_digest_arg_parse(optarg, &in.rootfs_digest);
			if (r < 0)
				return usage_error("predict", "--rootfs-digest %s: %s", optarg, m_errmsg(r));
			break;
		case OPT_ROOTFS_PCR: {
			uint32_t mask;
			if (m_pcr_list_parse(optarg, &mask) < 0 || __builtin_popcount(mask) != 1)
				return usage_error("predict", "--rootfs-pcr takes one PCR number 0-23, not '%s'", optarg);
			in.rootfs_pcr = (unsigned)__builtin_ctz(mask);
			break;
		}
		case OPT_ROOTFS_COMPAT:
			in.rootfs_compat = true;
			break;
		case OPT_KERNEL:
			in.kernel = optarg;
			break;
		case OPT_CMDLINE:
			in.cmdline = optarg;
			break;
		case OPT_INITRD:
			in.initrd = optarg;
			break;
		case OPT_QEMU: {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (end == optarg)
				return usage_error("predict", "--qemu-direct-boot takes a size like 512M");
			if (*end == 'G' || *end == 'g')
				v <<= 30, end++;
			else if (*end == 'M' || *end == 'm')
				v <<= 20, end++;
			else if (*end == 'K' || *end == 'k')
				v <<= 10, end++;
			else if (*end == '\0')
				v <<= 20;	/* QEMU's -m default unit */
			if (*end)
				return usage_error("predict", "--qemu-direct-boot: bad size '%s'", optarg);
			in.qemu_ram = v;
			break;
		}
		case OPT_FWLOG:
			in.firmware_log = optarg;
			break;
		case OPT_FWPCRS:
			r = m_pcr_list_parse(optarg, &in.firmware_pcrs);
			if (r < 0)
				return usage_error("predict", "--firmware-pcrs: %s", m_errmsg(r));
			in.firmware_pcrs_set = true;
			break;
		case OPT_TBOOT:
			in.tboot = optarg;
			break;
		case OPT_TBOOT_CMDLINE:
			in.tboot_cmdline = optarg;
			break;
		case OPT_TBOOT_POLICY:
			in.tboot_policy = optarg;
			break;
		case OPT_TBOOT_MODULE:
			if (in.n_tboot_modules >= PREDICT_MAX_TBOOT_MODULES)
				return usage_error("predict", "at most %d --tboot-module", PREDICT_MAX_TBOOT_MODULES);
			in.tboot_modules[in.n_tboot_modules++] = optarg;
			break;
		case OPT_SINIT:
			in.sinit = optarg;
			break;
		case OPT_TBOOT_LEGACY:
			in.tboot_legacy = true;
			break;
		case OPT_TBOOT_STRIP:
			in.tboot_strip_filename = true;
			break;
		case 't':
			if (strcmp(optarg, "1.2") != 0 && strcmp(optarg, "2.0") != 0)
				return usage_error("predict", "--tpm takes 2.0 or 1.2, not '%s'", optarg);
			tpm12 = strcmp(optarg, "1.2") == 0;
			break;
		case 'b':
			r = m_bank_list_parse(optarg, &in.banks);
			if (r < 0)
				return usage_error("predict", "%s", m_errmsg(r));
			banks_given = true;
			break;
		case OPT_VERITY_FIRST ... OPT_VERITY_LAST:
			r = predict_verity_option(&in, c, optarg);
			if (r < 0)
				return usage_error("predict", "%s", m_errmsg(r));
			break;
		case 'o':
			output = optarg;
			break;
		case 's':
			show = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("predict", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("predict", "unexpected argument '%s'", argv[optind]);
	if (!output && !show)
		return usage_error("predict", "give -o MANIFEST or --show");
	if (in.rootfs && in.rootfs_digest.banks)
		return usage_error("predict", "--rootfs and --rootfs-digest exclude each other");
	if (tpm12 && (rc = tpm12_inputs(&in, banks_given)) != 0)
		return rc;

	r = predict_build(&in, &m);
	if (r < 0)
		return fail(r == -EINVAL ? EXIT_INPUT : exit_from_errno(r), r, NULL);
	if (output) {
		FILE *f = fopen(output, "we");
		if (!f) {
			rc = fail(EXIT_INPUT, m_err(-errno, "%s: %s", output, strerror(errno)), NULL);
			goto out;
		}
		r = m_manifest_write(m, f);
		if (fclose(f) != 0 && r == 0)
			r = m_err(-EIO, "%s: write failed", output);
		if (r < 0) {
			rc = fail(EXIT_INPUT, r, NULL);
			goto out;
		}
	}
	if (show) {
		if (json)
			m_manifest_write(m, stdout);
		else
			m_pcrs_print(stdout, &m->values, false);
	}
out:
	m_manifest_free(m);
	return rc;
}

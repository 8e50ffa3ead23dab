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
	      "Boot chains booted from a disk (docs/predict-formulas.md, \"Boot chains\"):\n"
	      "  --esp DIR                the EFI system partition's files\n"
	      "  --shim-grub              UEFI Secure Boot: shim, GRUB and the kernel GRUB's\n"
	      "                           configuration boots -> PCR 4, 7, 8, 9, 14\n"
	      "  --efi-vars FILE          the firmware's variables (an OVMF variable store)\n"
	      "  --loader PATH            what the firmware starts, on the ESP\n"
	      "                           (default \\EFI\\BOOT\\BOOTX64.EFI)\n"
	      "  --grub-device NAME       GRUB's name of the ESP (default hd0,gpt1)\n"
	      "  --grub-fs DEV=UUID=DIR   a file system GRUB finds by UUID (search --fs-uuid)\n"
	      "                           as device DEV (hd0,gpt2), its files in DIR; repeatable\n"
	      "  --systemd-boot UKI       systemd-boot starting the UKI at this ESP path\n"
	      "                           (\\EFI\\Linux\\NAME.efi) -> PCR 4, 9, 11, 12\n"
	      "  --bios-disk IMAGE        SeaBIOS booting IMAGE's MBR -> PCR 4, 5\n"
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
	OPT_ESP, OPT_SHIM_GRUB, OPT_EFI_VARS, OPT_LOADER, OPT_GRUB_DEVICE, OPT_GRUB_FS, OPT_BIOS_DISK, OPT_SYSTEMD_BOOT,
};

struct predict_cmd {
	struct predict_inputs in;
	const char *output;
	bool show, json, tpm12, banks_given;
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

static int parse_size(const char *arg, uint64_t *ret)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (end == arg)
		return -EINVAL;
	if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == '\0')
		v <<= 20;	/* QEMU's -m default unit */
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

#define OPT_NOT_MINE (-2)

static const struct option predict_opts[] = {
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
	{ "esp", required_argument, NULL, OPT_ESP },
	{ "shim-grub", no_argument, NULL, OPT_SHIM_GRUB },
	{ "efi-vars", required_argument, NULL, OPT_EFI_VARS },
	{ "loader", required_argument, NULL, OPT_LOADER },
	{ "grub-device", required_argument, NULL, OPT_GRUB_DEVICE },
	{ "grub-fs", required_argument, NULL, OPT_GRUB_FS },
	{ "bios-disk", required_argument, NULL, OPT_BIOS_DISK },
	{ "systemd-boot", required_argument, NULL, OPT_SYSTEMD_BOOT },
	{ "tpm", required_argument, NULL, 't' },
	PREDICT_VERITY_OPTIONS,
	{ "bank", required_argument, NULL, 'b' },
	{ "output", required_argument, NULL, 'o' },
	{ "show", no_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

/* the artifact options: root filesystem, direct kernel boot, platform, tboot */
static int option_artifact(int c, struct predict_cmd *p)
{
	int r;

	switch (c) {
	case OPT_ROOTFS:
		p->in.rootfs = optarg;
		break;
	case OPT_ROOTFS_DIGEST:
		r = m_digest_arg_parse(optarg, &p->in.rootfs_digest);
		if (r < 0)
			return usage_error("predict", "--rootfs-digest %s: %s", optarg, m_errmsg(r));
		break;
	case OPT_ROOTFS_PCR: {
		uint32_t mask;
		if (m_pcr_list_parse(optarg, &mask) < 0 || __builtin_popcount(mask) != 1)
			return usage_error("predict", "--rootfs-pcr takes one PCR number 0-23, not '%s'", optarg);
		p->in.rootfs_pcr = (unsigned)__builtin_ctz(mask);
		break;
	}
	case OPT_ROOTFS_COMPAT:
		p->in.rootfs_compat = true;
		break;
	case OPT_KERNEL:
		p->in.kernel = optarg;
		break;
	case OPT_CMDLINE:
		p->in.cmdline = optarg;
		break;
	case OPT_INITRD:
		p->in.initrd = optarg;
		break;
	case OPT_QEMU:
		if (parse_size(optarg, &p->in.qemu_ram) < 0)
			return usage_error("predict", "--qemu-direct-boot takes a size like 512M, not '%s'", optarg);
		break;
	case OPT_FWLOG:
		p->in.firmware_log = optarg;
		break;
	case OPT_FWPCRS:
		r = m_pcr_list_parse(optarg, &p->in.firmware_pcrs);
		if (r < 0)
			return usage_error("predict", "--firmware-pcrs: %s", m_errmsg(r));
		p->in.firmware_pcrs_set = true;
		break;
	case OPT_TBOOT:
		p->in.tboot = optarg;
		break;
	case OPT_TBOOT_CMDLINE:
		p->in.tboot_cmdline = optarg;
		break;
	case OPT_TBOOT_POLICY:
		p->in.tboot_policy = optarg;
		break;
	case OPT_TBOOT_MODULE:
		if (p->in.n_tboot_modules >= PREDICT_MAX_TBOOT_MODULES)
			return usage_error("predict", "at most %d --tboot-module", PREDICT_MAX_TBOOT_MODULES);
		p->in.tboot_modules[p->in.n_tboot_modules++] = optarg;
		break;
	case OPT_SINIT:
		p->in.sinit = optarg;
		break;
	case OPT_TBOOT_LEGACY:
		p->in.tboot_legacy = true;
		break;
	case OPT_TBOOT_STRIP:
		p->in.tboot_strip_filename = true;
		break;
	case OPT_VERITY_FIRST ... OPT_VERITY_LAST:
		r = predict_verity_option(&p->in, c, optarg);
		if (r < 0)
			return usage_error("predict", "%s", m_errmsg(r));
		break;
	default:
		return OPT_NOT_MINE;
	}
	return EXIT_OK;
}

/* the boot chains and the output; -1 after --help */
static int option_chain_output(int c, struct predict_cmd *p)
{
	int r;

	switch (c) {
	case OPT_ESP:
		p->in.esp = optarg;
		break;
	case OPT_SHIM_GRUB:
		p->in.shim_grub = true;
		break;
	case OPT_EFI_VARS:
		p->in.efi_vars = optarg;
		break;
	case OPT_LOADER:
		p->in.loader = optarg;
		break;
	case OPT_GRUB_DEVICE:
		p->in.grub_device = optarg;
		break;
	case OPT_GRUB_FS:
		if (p->in.n_grub_fs >= M_GRUB_MAX_FS)
			return usage_error("predict", "more than %d --grub-fs", M_GRUB_MAX_FS);
		p->in.grub_fs[p->in.n_grub_fs++] = optarg;
		break;
	case OPT_BIOS_DISK:
		p->in.bios_disk = optarg;
		break;
	case OPT_SYSTEMD_BOOT:
		p->in.uki = optarg;
		break;
	case 't':
		if (strcmp(optarg, "1.2") != 0 && strcmp(optarg, "2.0") != 0)
			return usage_error("predict", "--tpm takes 2.0 or 1.2, not '%s'", optarg);
		p->tpm12 = strcmp(optarg, "1.2") == 0;
		break;
	case 'b':
		r = m_bank_list_parse(optarg, &p->in.banks);
		if (r < 0)
			return usage_error("predict", "%s", m_errmsg(r));
		p->banks_given = true;
		break;
	case 'o':
		p->output = optarg;
		break;
	case 's':
		p->show = true;
		break;
	case 'j':
		p->json = true;
		break;
	case 'h':
		help();
		return -1;
	default:
		return usage_error("predict", "bad option");
	}
	return EXIT_OK;
}

/* Stage 1: options -> struct predict_cmd.  Returns -1 after --help, else an exit code. */
static int parse_options(int argc, char **argv, struct predict_cmd *p)
{
	int c, r;

	while ((c = getopt_long(argc, argv, "t:b:o:sjh", predict_opts, NULL)) != -1) {
		r = option_artifact(c, p);
		if (r == OPT_NOT_MINE)
			r = option_chain_output(c, p);
		if (r != EXIT_OK)
			return r;
	}
	if (optind < argc)
		return usage_error("predict", "unexpected argument '%s'", argv[optind]);
	if (!p->output && !p->show)
		return usage_error("predict", "give -o MANIFEST or --show");
	if (p->in.rootfs && p->in.rootfs_digest.banks)
		return usage_error("predict", "--rootfs and --rootfs-digest exclude each other");
	if (p->tpm12)
		return tpm12_inputs(&p->in, p->banks_given);

	return EXIT_OK;
}

/* Stage 3: the manifest to the file and/or standard output. */
static int write_output(const struct predict_cmd *p, const struct m_manifest *m)
{
	if (p->output) {
		FILE *f = fopen(p->output, "we");
		int r;

		if (!f)
			return fail(EXIT_INPUT, m_err(-errno, "%s: %s", p->output, strerror(errno)), NULL);
		r = m_manifest_write(m, f);
		if (fclose(f) != 0 && r == 0)
			r = m_err(-EIO, "%s: write failed", p->output);
		if (r < 0)
			return fail(EXIT_INPUT, r, NULL);
	}
	if (p->show) {
		if (p->json)
			m_manifest_write(m, stdout);
		else
			m_pcrs_print(stdout, &m->values, false);
	}
	return EXIT_OK;
}

int cmd_predict(int argc, char **argv)
{
	struct predict_cmd p = { .in = { .banks = M_BANK_BIT(M_SHA1) | M_BANK_BIT(M_SHA256),
					 .rootfs_pcr = PREDICT_ROOTFS_PCR_MODE_DEFAULT,
					 .firmware_pcrs = (1u << M_PCR_COUNT) - 1 } };
	struct m_manifest *m = NULL;
	int r, rc = parse_options(argc, argv, &p);

	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	/* Stage 2: inputs -> manifest (predict_inputs.c) */
	r = predict_build(&p.in, &m);
	if (r < 0)
		return fail(r == -EINVAL || r == -ENOENT || r == -EPERM ? EXIT_INPUT : exit_from_errno(r), r, NULL);
	rc = write_output(&p, m);
	m_manifest_free(m);
	return rc;
}

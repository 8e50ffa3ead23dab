// SPDX-License-Identifier: MIT
/*
 * Inputs of `measured predict` -> manifest.  The order of the events in
 * the manifest is boot order: firmware log PCRs, then the UEFI boot of the
 * kernel, then tboot, then the root filesystem (measured-init runs last).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/measure.h"
#include "predict_inputs.h"
#include "measured/chain.h"
#include "measured/error.h"
#include "measured/predict.h"

static int load_firmware_log(const struct predict_inputs *in, struct m_log **ret)
{
	struct m_log *log;
	int r = m_log_load(in->firmware_log, &log);

	if (r < 0)
		return r;
	if (log->format != M_LOG_TCG_SHA1 && log->format != M_LOG_TCG_AGILE) {
		r = m_err(-EINVAL, "%s: a firmware log is a TCG log, not %s", log->name, m_log_format_name(log->format));
		m_log_free(log);
		return r;
	}
	*ret = log;
	return 0;
}

/* UEFI Secure Boot through shim and GRUB from the ESP and the firmware's variables */
static int add_shim_grub(struct m_manifest *m, const struct predict_inputs *in, const struct m_log *golden)
{
	struct m_efi_vars *vars;
	struct m_chain_shim_in ci = {
		.esp = in->esp, .loader = in->loader ? in->loader : "\\EFI\\BOOT\\BOOTX64.EFI",
		.grub_device = in->grub_device ? in->grub_device : "hd0,gpt1", .golden = golden,
	};
	int r;

	struct m_grub_fs fs[M_GRUB_MAX_FS];
	char *copy[M_GRUB_MAX_FS] = { 0 };

	if (!in->esp || !in->efi_vars)
		return m_err(-EINVAL, "--shim-grub needs --esp and --efi-vars");
	for (int i = 0; i < in->n_grub_fs; i++) {
		char *a, *b;

		if (!(copy[i] = strdup(in->grub_fs[i]))) {
			r = -ENOMEM;
			goto out;
		}
		if (!(a = strchr(copy[i], '=')) || !(b = strchr(a + 1, '=')) || a == copy[i] || b == a + 1 || !b[1]) {
			r = m_err(-EINVAL, "--grub-fs takes DEVICE=UUID=DIR, not '%s'", in->grub_fs[i]);
			goto out;
		}
		*a = *b = '\0';
		fs[i] = (struct m_grub_fs){ copy[i], a + 1, b + 1 };
	}
	ci.grub_fs = fs;
	ci.n_grub_fs = in->n_grub_fs;
	r = m_efi_vars_load(in->efi_vars, &vars);
	if (r < 0)
		goto out;
	ci.vars = vars;
	r = m_predict_shim_grub(m, &ci);
	m_efi_vars_free(vars);
out:
	for (int i = 0; i < in->n_grub_fs; i++)
		free(copy[i]);
	return r;
}

static int add_tboot(struct m_manifest *m, const struct predict_inputs *in)
{
	struct m_tboot_module_in mods[PREDICT_MAX_TBOOT_MODULES];
	char *copies[PREDICT_MAX_TBOOT_MODULES] = { 0 };
	struct m_tboot_inputs ti = {
		.tboot = in->tboot, .cmdline = in->tboot_cmdline ? in->tboot_cmdline : "",
		.policy = in->tboot_policy, .modules = mods, .nmodules = (size_t)in->n_tboot_modules,
		.legacy = in->tboot_legacy, .strip_filename = in->tboot_strip_filename, .sinit = in->sinit,
	};
	int r = 0;

	for (int i = 0; i < in->n_tboot_modules; i++) {
		char *colon;

		copies[i] = strdup(in->tboot_modules[i]);
		if (!copies[i]) {
			r = -ENOMEM;
			goto out;
		}
		/* FILE:CMDLINE, split at the first colon (the command line may hold more) */
		colon = strchr(copies[i], ':');
		if (!colon) {
			r = m_err(-EINVAL, "--tboot-module %s: expected FILE:CMDLINE", in->tboot_modules[i]);
			goto out;
		}
		*colon = '\0';
		mods[i] = (struct m_tboot_module_in){ copies[i], colon + 1 };
	}
	r = m_predict_tboot(m, &ti);
out:
	for (int i = 0; i < in->n_tboot_modules; i++)
		free(copies[i]);
	return r;
}

static int parse_majmin(const char *s, unsigned *ret_major, unsigned *ret_minor, const char **ret_end)
{
	char *end;
	unsigned long ma, mi;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	ma = strtoul(s, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9' || ma > 4095)
		return -EINVAL;
	mi = strtoul(end + 1, &end, 10);
	if (mi > 0xfffff)
		return -EINVAL;
	*ret_major = (unsigned)ma;
	*ret_minor = (unsigned)mi;
	*ret_end = end;
	return 0;
}

int predict_verity_option(struct predict_inputs *in, int opt, const char *arg)
{
	struct m_verity_image *v = &in->verity;

	switch (opt) {
	case OPT_ROOTFS_VERITY:
		in->rootfs_verity = true;
		v->data = arg;
		return 0;
	case OPT_VERITY_HASH:
		v->hash = arg;
		return 0;
	case OPT_VERITY_HASH_OFFSET: {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end || errno || n % 512)
			return m_err(-EINVAL, "--verity-hash-offset %s: expected bytes, a multiple of 512", arg);
		v->hash_offset = n;
		return 0;
	}
	case OPT_VERITY_DEVICES: {
		const char *end;

		if (parse_majmin(arg, &v->data_major, &v->data_minor, &end) < 0 ||
		    (*end == ',' && parse_majmin(end + 1, &v->hash_major, &v->hash_minor, &end) < 0) || *end)
			return m_err(-EINVAL, "--verity-devices %s: expected MAJOR:MINOR[,MAJOR:MINOR]", arg);
		if (!strchr(arg, ',')) {
			v->hash_major = v->data_major;
			v->hash_minor = v->data_minor;
		}
		in->verity_devices_set = true;
		return 0;
	}
	case OPT_VERITY_ERROR:
		return m_verity_error_parse(arg, &v->error);
	}
	return m_err(-EINVAL, "not a verity option");
}

static int add_verity(struct m_manifest *m, const struct predict_inputs *in, unsigned pcr)
{
	struct m_verity_image img = in->verity;
	struct m_verity v;
	int r;

	if (!in->verity_devices_set)
		return m_err(-EINVAL, "--rootfs-verity needs --verity-devices (the kernel's MAJOR:MINOR of the "
			     "data device, e.g. 254:0 for the first virtio disk)");
	if (in->rootfs || in->rootfs_digest.banks || in->rootfs_compat)
		return m_err(-EINVAL, "--rootfs-verity excludes --rootfs, --rootfs-digest and --rootfs-compat");
	if (!img.hash) {	/* m_verity_image_read: without a hash image, the data device holds the tree */
		img.hash_major = img.data_major;
		img.hash_minor = img.data_minor;
	}
	r = m_verity_image_read(&img, &v);
	if (r < 0)
		return r;
	return m_predict_rootfs_verity(m, pcr, &v);
}

/* the PCRs the artifacts predict: a golden log supplies only the others */
static unsigned rootfs_pcr_of(const struct predict_inputs *in)
{
	return in->rootfs_pcr == PREDICT_ROOTFS_PCR_MODE_DEFAULT ? m_root_pcr_default(in->rootfs_compat)
								  : in->rootfs_pcr;
}

static uint32_t artifact_pcrs(const struct predict_inputs *in)
{
	uint32_t p = 0;

	if (in->kernel)
		p |= 1u << 4;
	if (in->cmdline || in->initrd)
		p |= 1u << 9;
	if (in->rootfs || in->rootfs_digest.banks || in->rootfs_verity)
		p |= 1u << rootfs_pcr_of(in);
	if (in->shim_grub)
		p |= 1u << 4 | 1u << 7 | 1u << 8 | 1u << 9 | 1u << 14;
	if (in->bios_disk)
		p |= 1u << 4 | 1u << 5;
	if (in->uki)
		p |= 1u << 4 | 1u << 9 | 1u << 11 | 1u << 12;
	return p;
}

int predict_build(const struct predict_inputs *in, struct m_manifest **ret)
{
	struct m_manifest *m = m_manifest_new(in->banks);
	uint32_t from_artifacts = artifact_pcrs(in);
	unsigned rootfs_pcr = rootfs_pcr_of(in);
	struct m_log *golden = NULL;
	int r = 0;

	if (!m)
		return -ENOMEM;
	if (!in->rootfs_verity && (in->verity.hash || in->verity.hash_offset || in->verity_devices_set)) {
		r = m_err(-EINVAL, "the --verity-* options need --rootfs-verity");
		goto out;
	}
	if (!in->tboot && (in->tboot_policy || in->n_tboot_modules || in->sinit || in->tboot_cmdline)) {
		r = m_err(-EINVAL, "the tboot options need --tboot");
		goto out;
	}

	if (__builtin_popcount((in->shim_grub ? 1 : 0) | (in->bios_disk ? 2 : 0) | (in->uki ? 4 : 0) |
			       (in->kernel || in->cmdline || in->initrd ? 8 : 0)) > 1) {
		r = m_err(-EINVAL, "one boot chain at a time: --shim-grub, --systemd-boot, --bios-disk or --kernel");
		goto out;
	}
	if (in->firmware_log) {
		r = load_firmware_log(in, &golden);
		if (r == 0)
			r = m_manifest_add_log(m, golden, in->firmware_pcrs & ~from_artifacts, "firmware-log");
		if (r < 0)
			goto out;
	}
	if (in->shim_grub && (r = add_shim_grub(m, in, golden)) < 0)
		goto out;
	if (in->bios_disk && (r = m_predict_bios_mbr(m, in->bios_disk, golden)) < 0)
		goto out;
	if (in->uki) {
		struct m_chain_uki_in ui = { .esp = in->esp, .uki = in->uki, .golden = golden,
					     .loader = in->loader ? in->loader : "\\EFI\\BOOT\\BOOTX64.EFI" };

		r = in->esp ? m_predict_uki(m, &ui) : m_err(-EINVAL, "--systemd-boot needs --esp");
		if (r < 0)
			goto out;
	}
	if (in->kernel || in->cmdline || in->initrd) {
		struct m_qemu_direct q = { .ram = in->qemu_ram };

		r = m_predict_uefi_linux(m, in->kernel, in->cmdline, in->initrd, in->qemu_ram ? &q : NULL);
		if (r < 0)
			goto out;
	}
	if (in->tboot) {
		r = add_tboot(m, in);
		if (r < 0)
			goto out;
	}
	if (in->rootfs || in->rootfs_digest.banks) {
		struct m_digests img = in->rootfs_digest;
		unsigned need = in->rootfs_compat ? M_BANK_BIT(M_SHA1) : in->banks;

		if (in->rootfs) {
			r = m_digest_path(in->rootfs, need, NULL, NULL, &img, NULL);
			if (r < 0)
				goto out;
		}
		r = m_predict_rootfs(m, rootfs_pcr, &img, in->rootfs_compat,
				     in->rootfs ? in->rootfs : "root filesystem image");
		if (r < 0)
			goto out;
	}
	if (in->rootfs_verity) {
		r = add_verity(m, in, rootfs_pcr);
		if (r < 0)
			goto out;
	}
	if (!m->count) {
		r = m_err(-EINVAL, "no input: give --rootfs, --kernel, --firmware-log, ... (see --help)");
		goto out;
	}
	r = m_manifest_finish(m);
out:
	m_log_free(golden);
	if (r < 0) {
		m_manifest_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

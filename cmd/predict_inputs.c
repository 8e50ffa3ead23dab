// SPDX-License-Identifier: MIT
/*
 * Inputs of `measured predict` -> manifest.  The order of the events in
 * the manifest is boot order: firmware log PCRs, then the UEFI boot of the
 * kernel, then tboot, then the root filesystem (measured-init runs last).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

	if (!in->esp || !in->efi_vars)
		return m_err(-EINVAL, "--shim-grub needs --esp and --efi-vars");
	r = m_efi_vars_load(in->efi_vars, &vars);
	if (r < 0)
		return r;
	ci.vars = vars;
	r = m_predict_shim_grub(m, &ci);
	m_efi_vars_free(vars);
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

/* the PCRs the artifacts predict: a golden log supplies only the others */
static uint32_t artifact_pcrs(const struct predict_inputs *in)
{
	uint32_t p = 0;

	if (in->kernel)
		p |= 1u << 4;
	if (in->cmdline || in->initrd)
		p |= 1u << 9;
	if (in->rootfs || in->rootfs_digest.banks)
		p |= 1u << in->rootfs_pcr;
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
	struct m_log *golden = NULL;
	int r = 0;

	if (!m)
		return -ENOMEM;
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
		r = m_predict_rootfs(m, in->rootfs_pcr, &img, in->rootfs_compat,
				     in->rootfs ? in->rootfs : "root filesystem image");
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

/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CMD_PREDICT_INPUTS_H
#define MEASURED_CMD_PREDICT_INPUTS_H

/* The inputs of `measured predict`, and turning them into a manifest. */

#include <stdbool.h>
#include "measured/manifest.h"

/* measured-init's default PCR (docs/measured-init.md) */
#define PREDICT_DEFAULT_ROOTFS_PCR 15
#define PREDICT_DEFAULT_ROOTFS_PCR_STR "15"
#define PREDICT_MAX_TBOOT_MODULES 32

struct predict_inputs {
	unsigned banks;
	const char *rootfs;
	struct m_digests rootfs_digest;
	unsigned rootfs_pcr;
	bool rootfs_compat;
	const char *kernel, *cmdline, *initrd;
	uint64_t qemu_ram;	/* --qemu-direct-boot MEM, 0 if not */
	const char *firmware_log;
	uint32_t firmware_pcrs;
	bool firmware_pcrs_set;
	const char *tboot, *tboot_cmdline, *tboot_policy, *sinit;
	const char *tboot_modules[PREDICT_MAX_TBOOT_MODULES];	/* FILE:CMDLINE */
	int n_tboot_modules;
	bool tboot_legacy, tboot_strip_filename;
	/* boot chains from a disk */
	const char *esp, *efi_vars, *loader, *grub_device, *bios_disk, *uki;
	bool shim_grub;
};

/** predict_build() - every input into one finished manifest. */
int predict_build(const struct predict_inputs *in, struct m_manifest **ret);

#endif

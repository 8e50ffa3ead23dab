/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CMD_PREDICT_INPUTS_H
#define MEASURED_CMD_PREDICT_INPUTS_H

/* The inputs of `measured predict`, and turning them into a manifest. */

#include <stdbool.h>
#include "measured/chain.h"
#include "measured/manifest.h"
#include "measured/predict.h"

/* --rootfs-pcr not given: measured-init's default for the mode,
 * m_root_pcr_default() (include/measured/measure.h) */
#define PREDICT_ROOTFS_PCR_MODE_DEFAULT (~0u)
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
	bool rootfs_verity;		/* --rootfs-verity: the image in .verity */
	bool verity_devices_set;
	struct m_verity_image verity;
	/* boot chains from a disk */
	const char *esp, *efi_vars, *loader, *grub_device, *bios_disk, *uki;
	const char *grub_fs[M_GRUB_MAX_FS];	/* --grub-fs DEVICE=UUID=DIR */
	int n_grub_fs;
	bool shim_grub;
};

/*
 * The dm-verity options of `measured predict`, parsed here so that the
 * command only lists them: PREDICT_VERITY_OPTIONS in its option table,
 * PREDICT_VERITY_HELP in its help, and predict_verity_option() for the
 * option codes OPT_VERITY_FIRST..OPT_VERITY_LAST.
 */
enum {
	OPT_VERITY_FIRST = 0x200,
	OPT_ROOTFS_VERITY = OPT_VERITY_FIRST, OPT_VERITY_HASH, OPT_VERITY_HASH_OFFSET, OPT_VERITY_DEVICES,
	OPT_VERITY_ERROR,
	OPT_VERITY_LAST = OPT_VERITY_ERROR,
};
#define PREDICT_VERITY_OPTIONS \
	{ "rootfs-verity", required_argument, NULL, OPT_ROOTFS_VERITY }, \
	{ "verity-hash", required_argument, NULL, OPT_VERITY_HASH }, \
	{ "verity-hash-offset", required_argument, NULL, OPT_VERITY_HASH_OFFSET }, \
	{ "verity-devices", required_argument, NULL, OPT_VERITY_DEVICES }, \
	{ "verity-error", required_argument, NULL, OPT_VERITY_ERROR }
#define PREDICT_VERITY_HELP \
	"dm-verity root (measured.verity.roothash=; docs/measured-init.md):\n" \
	"  --rootfs-verity FILE     the data image; its root hash is computed here and\n" \
	"                           the stored tree checked against it\n" \
	"  --verity-hash FILE       the hash image (default: FILE itself)\n" \
	"  --verity-hash-offset N   byte offset of veritysetup's superblock in it\n" \
	"  --verity-devices D[,H]   MAJOR:MINOR of the data (and hash) device as the\n" \
	"                           booted kernel numbers them, e.g. 254:0\n" \
	"  --verity-error MODE      eio (default), restart or panic, as measured.verity.error=\n"
/** predict_verity_option() - one of the options above into @in; -EINVAL with a message. */
int predict_verity_option(struct predict_inputs *in, int opt, const char *arg);

/** predict_build() - every input into one finished manifest. */
int predict_build(const struct predict_inputs *in, struct m_manifest **ret);

#endif

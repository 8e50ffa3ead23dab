/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_PREDICT_H
#define MEASURED_PREDICT_H

/*
 * Predicting the events of a boot from build artifacts, into a manifest.
 * Formulas and their sources: docs/predict-formulas.md.
 */

#include <stdbool.h>
#include "measured/manifest.h"

/**
 * m_predict_rootfs() - the event measured-init extends for a root image
 * whose digests are @image.  New mode: H_bank(image) into every bank of
 * the manifest.  Compatibility mode (the original `measureroot` script):
 * the SHA-1 bank only, extended with SHA1 of the 40 lowercase hex
 * characters of SHA1(image).
 */
int m_predict_rootfs(struct m_manifest *m, unsigned pcr, const struct m_digests *image, bool compat,
		     const char *description);

/** m_rootfs_compat_digest() - SHA1(hex(SHA1(image))) from SHA1(image). */
int m_rootfs_compat_digest(const uint8_t sha1_image[20], uint8_t ret[20]);

/*
 * QEMU's direct kernel boot (-kernel/-initrd/-append) does not hand the
 * firmware the kernel file as it is: QEMU writes the boot protocol fields
 * of the setup header (loader type, heap end, command line address, initrd
 * address and size) before OVMF loads and measures it, and OVMF appends
 * " initrd=initrd" to the load options when there is an initrd.  Where the
 * initrd goes depends on the guest's RAM below 4 GiB.
 */
struct m_qemu_direct {
	uint64_t ram;		/* -m, in bytes; below 2 GiB */
};

/**
 * m_predict_uefi_linux() - the events a UEFI firmware and Linux's EFI stub
 * log when booting @kernel (PE image -> PCR 4) with @cmdline and @initrd
 * (-> PCR 9).  Any of the three may be NULL.  @qemu: the kernel comes
 * through QEMU's direct kernel boot (NULL: from a disk, unmodified).
 */
int m_predict_uefi_linux(struct m_manifest *m, const char *kernel, const char *cmdline, const char *initrd,
			 const struct m_qemu_direct *qemu);

/**
 * m_qemu_direct_patch() - apply QEMU's setup-header writes to a kernel
 * image in memory (QEMU hw/i386/x86.c, x86_load_linux, 7.2).
 */
int m_qemu_direct_patch(uint8_t *img, size_t len, const struct m_qemu_direct *q, bool have_initrd,
			uint64_t initrd_size);

struct m_tboot_module_in {
	const char *path;
	const char *cmdline;
};

struct m_tboot_inputs {
	const char *tboot;		/* tboot.gz (or its ELF) */
	const char *cmdline;		/* tboot's command line */
	const char *policy;		/* tb_polgen policy file; NULL: tboot's built-in */
	const struct m_tboot_module_in *modules;	/* in multiboot order, 0 = the kernel */
	size_t nmodules;
	bool legacy;			/* TPM 1.2 legacy mapping (17/18/19, SHA-1); else DA */
	bool strip_filename;		/* old tboot: drop the module's file name from its cmdline */
	const char *sinit;		/* SINIT description (key=value), or NULL */
};

/**
 * m_predict_tboot() - the events of a measured launch with tboot: PCR 17
 * and 18 (and the PCRs the policy names for modules).  Without @sinit the
 * PCRs that start with the SINIT's own measurements are left out.
 */
int m_predict_tboot(struct m_manifest *m, const struct m_tboot_inputs *in);

/*
 * dm-verity roots (lib/predict/verity.c; the event is lib/measure/verity.c's,
 * the one measured-init extends).
 */
#include "measured/measure.h"

/* Largest verity tree computed in memory: 1 GiB, the tree of about 128 GiB
 * of data with 4 KiB blocks and SHA-256. */
#define M_VERITY_TREE_MAX (1ull << 30)

struct m_verity_image {
	const char *data;		/* the data image (the file system) */
	const char *hash;		/* the hash image; NULL: the data image itself */
	uint64_t hash_offset;		/* veritysetup's --hash-offset: its superblock */
	unsigned data_major, data_minor;	/* the devices as the booted kernel numbers them */
	unsigned hash_major, hash_minor;	/* (ignored without @hash: the data device) */
	enum m_verity_error error;
};

/**
 * m_verity_tree() - compute the hash tree of @v->data_blocks blocks of
 * @data_fd and write its root into @v->root.  With @hash_fd >= 0, the
 * tree stored there from block @v->hash_start must equal the computed one
 * (-EBADMSG naming the first differing block).  The salt, algorithm and
 * block sizes come from @v.
 */
int m_verity_tree(int data_fd, int hash_fd, struct m_verity *v, const char *data_name, const char *hash_name);

/**
 * m_verity_image_read() - read veritysetup's superblock, compute the
 * root hash from the data, check the stored tree: every parameter of the
 * table measured-init will load.
 */
int m_verity_image_read(const struct m_verity_image *img, struct m_verity *ret);

/** m_predict_rootfs_verity() - the verity root's event into @m, in every bank of @m. */
int m_predict_rootfs_verity(struct m_manifest *m, unsigned pcr, const struct m_verity *v);

#endif

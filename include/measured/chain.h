/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CHAIN_H
#define MEASURED_CHAIN_H

/*
 * Predicting real boot chains from their artifacts (docs/predict-formulas.md,
 * "Boot chains"): UEFI Secure Boot through shim and GRUB, systemd-boot with
 * a unified kernel image, and a BIOS boot of GRUB's i386-pc MBR.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "measured/efivars.h"
#include "measured/manifest.h"

#define M_CHAIN_MAX_SCRIPT (1u << 20)	/* bytes of one GRUB script */
#define M_CHAIN_MAX_DEPTH 8		/* nested source/configfile */
#define M_CHAIN_MAX_ARGS 256		/* words of one GRUB command */

/*
 * Files on an EFI system partition given as a directory tree: @path uses
 * / or \ and matches names without regard to case, as FAT does.
 */
#define M_ESP_MAX_FILE (256u << 20)
int m_esp_read(const char *esp, const char *path, uint8_t **ret, size_t *ret_len);
bool m_esp_exists(const char *esp, const char *path);
int m_esp_kind(const char *esp, const char *path);	/* 0 absent, 1 a file, 2 a directory */

/**
 * m_fat_root_file() - a file of the root directory of a FAT12/16 image
 * (Microsoft FAT specification: BPB, root directory of 32-byte entries with
 * 8.3 names, cluster chains in the first FAT), as GRUB's memdisk holds its
 * configuration.  @name is matched without regard to case ("grub.cfg").
 */
int m_fat_root_file(const uint8_t *img, size_t len, const char *name, uint8_t **ret, size_t *ret_len);
/** m_fat_has() - whether @path ("NAME" or "DIR/NAME") is a file of the FAT12/16 image. */
bool m_fat_has(const uint8_t *img, size_t len, const char *path);

/* Shared by the chains (lib/predict/chain_common.c). */
/** m_chain_add_data() - an event whose digest is H_b(@data) in every bank of @m. */
int m_chain_add_data(struct m_manifest *m, unsigned pcr, uint32_t type, const void *data, size_t len,
		     const char *desc, const char *source);
/**
 * m_chain_golden_events() - copy @golden's extending events of @pcr whose
 * type is not @skip1 or @skip2 (the boot device's own events), in order.
 */
int m_chain_golden_events(struct m_manifest *m, const struct m_log *golden, unsigned pcr, uint32_t skip1,
			  uint32_t skip2);
/**
 * m_chain_uefi_prologue() - PCR 4's firmware actions before the first
 * application: @golden's, or "Calling EFI Application from Boot Option"
 * and the separator.
 */
int m_chain_uefi_prologue(struct m_manifest *m, const struct m_log *golden);

/* PE sections and the Authenticode signature (lib/predict/pe_info.c). */
/** m_pe_section() - file offset and size (VirtualSize, at most SizeOfRawData) of section @name. */
int m_pe_section(const uint8_t *img, size_t len, const char *name, size_t *ret_off, size_t *ret_size);
/** m_pe_signature() - the first WIN_CERT_TYPE_PKCS_SIGNED_DATA of the certificate table. */
int m_pe_signature(const uint8_t *img, size_t len, const uint8_t **ret, size_t *ret_len);

/**
 * m_sb_authority() - which entry of the signature database @esl (an array
 * of EFI_SIGNATURE_LIST, UEFI 2.10 32.4.1) allows the PE image @img: an
 * EFI_CERT_SHA256 entry equal to its SHA-256 Authenticode digest, or an
 * EFI_CERT_X509 certificate that is one of the certificates of the image's
 * signature or issued one of them.  *@ret points at the EFI_SIGNATURE_DATA
 * (owner GUID | data) inside @esl, SignatureSize bytes.  -ENOENT if none.
 */
int m_sb_authority(const uint8_t *img, size_t len, const uint8_t *esl, size_t esl_len,
		   const uint8_t **ret, size_t *ret_len);

/* A file system GRUB reads besides the ESP: its GRUB device, UUID and tree. */
#define M_GRUB_MAX_FS 8
struct m_grub_fs { const char *device, *uuid, *dir; };

/* The inputs of the shim -> GRUB -> Linux chain. */
struct m_chain_shim_in {
	const char *esp;		/* the EFI system partition's tree */
	const char *loader;		/* what the firmware starts, ESP path (\EFI\BOOT\BOOTX64.EFI) */
	const char *grub_device;	/* GRUB's name of the ESP, e.g. hd0,gpt1 */
	const struct m_grub_fs *grub_fs;	/* more file systems GRUB can find by UUID */
	int n_grub_fs;
	const struct m_efi_vars *vars;	/* the firmware's variables (PK, KEK, db, dbx, Mok*, SbatLevel) */
	const struct m_log *golden;	/* firmware log for PCR 4's firmware events, or NULL */
};

/** m_predict_shim_grub() - PCR 4, 7, 8, 9, 14 of a Secure Boot through shim and GRUB. */
int m_predict_shim_grub(struct m_manifest *m, const struct m_chain_shim_in *in);

/* GRUB script interpretation (lib/predict/grub_script.c, grub_cmds.c). */
struct m_grub;
struct m_grub_ops {
	/* a file GRUB reads: PCR 9 under @name (as GRUB opened it), its contents into *ret (malloc'd);
	 * @dev is GRUB's device ("hd0,gpt2"), @path the path on it */
	int (*read)(void *arg, const char *dev, const char *path, const char *name, uint8_t **ret, size_t *ret_len);
	int (*kind)(void *arg, const char *dev, const char *path);	/* 0 absent, 1 file, 2 directory */
	/* a command measured into PCR 8: @prefix is "grub_cmd: " or "kernel_cmdline: " */
	int (*measure_string)(void *arg, const char *prefix, const char *str);
	int (*load_kernel)(void *arg, const char *dev, const char *path);	/* linux: the kernel's image */
	void *arg;
	/* optional; NULL refuses what needs it */
	const char *(*fs_by_uuid)(void *arg, const char *uuid);		/* GRUB's device of a file system */
	bool (*builtin_module)(void *arg, const char *name);		/* a module in GRUB's image */
	bool (*memdisk_has)(void *arg, const char *path);		/* a file on GRUB's memdisk */
};
/**
 * m_grub_run() - run @script (the embedded configuration, from the memdisk)
 * as GRUB 2.06 does in normal mode, with the variables root, prefix and
 * cmdpath set, then the default entry of the menu it builds.  Covers what
 * grub-mkconfig writes: commands, quoting, $var/${var}/$1, if/elif/else,
 * function definitions and calls, [ / test, set, export, assignments,
 * source, configfile (a new environment context), menuentry and submenu
 * (default by number, title, id or "submenu>entry" path), load_env,
 * insmod, loadfont, search --fs-uuid, search.fs_uuid, linux, initrd.
 * Refuses with -ENOTSUP, naming the file and line, what depends on the
 * machine or is not modelled (loops, wildcards, search --file/--label,
 * modules not in the image, a menu without timeout); limits in
 * lib/predict/grub_int.h.
 */
int m_grub_run(const char *script, size_t len, const char *root, const char *prefix, const char *cmdpath,
	       const struct m_grub_ops *ops);

/* systemd-boot -> UKI (lib/predict/uki.c). */
struct m_chain_uki_in {
	const char *esp;
	const char *loader;		/* \EFI\BOOT\BOOTX64.EFI (systemd-boot) */
	const char *uki;		/* the UKI's ESP path (\EFI\Linux\x.efi) */
	const struct m_log *golden;
};
/** m_predict_uki() - PCR 4, 9, 11, 12 of systemd-boot 252 starting a UKI. */
int m_predict_uki(struct m_manifest *m, const struct m_chain_uki_in *in);
/** m_uki_pcr11() - systemd-stub's PCR 11 events for a UKI file (also "as systemd-measure computes"). */
int m_uki_pcr11(struct m_manifest *m, const uint8_t *img, size_t len);

/** m_predict_bios_mbr() - SeaBIOS's PCR 4 and 5 events for booting the disk image @disk's MBR. */
int m_predict_bios_mbr(struct m_manifest *m, const char *disk, const struct m_log *golden);

#endif

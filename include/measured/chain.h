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

/**
 * m_fat_root_file() - a file of the root directory of a FAT12/16 image
 * (Microsoft FAT specification: BPB, root directory of 32-byte entries with
 * 8.3 names, cluster chains in the first FAT), as GRUB's memdisk holds its
 * configuration.  @name is matched without regard to case ("grub.cfg").
 */
int m_fat_root_file(const uint8_t *img, size_t len, const char *name, uint8_t **ret, size_t *ret_len);

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

/* The inputs of the shim -> GRUB -> Linux chain. */
struct m_chain_shim_in {
	const char *esp;		/* the EFI system partition's tree */
	const char *loader;		/* what the firmware starts, ESP path (\EFI\BOOT\BOOTX64.EFI) */
	const char *grub_device;	/* GRUB's name of the ESP, e.g. hd0,gpt1 */
	const struct m_efi_vars *vars;	/* the firmware's variables (PK, KEK, db, dbx, Mok*, SbatLevel) */
	const struct m_log *golden;	/* firmware log for PCR 4's firmware events, or NULL */
};

/** m_predict_shim_grub() - PCR 4, 7, 8, 9, 14 of a Secure Boot through shim and GRUB. */
int m_predict_shim_grub(struct m_manifest *m, const struct m_chain_shim_in *in);

/* GRUB script interpretation (lib/predict/grub_script.c). */
struct m_grub;
struct m_grub_ops {
	/* a file GRUB reads (PCR 9 with @name), its contents into *ret (malloc'd) */
	int (*read)(void *arg, const char *name, uint8_t **ret, size_t *ret_len);
	bool (*exists)(void *arg, const char *name);
	/* a command measured into PCR 8: @prefix is "grub_cmd: " or "kernel_cmdline: " */
	int (*measure_string)(void *arg, const char *prefix, const char *str);
	int (*load_kernel)(void *arg, const char *name);	/* linux: the kernel's image */
	void *arg;
};
/**
 * m_grub_run() - run @script (the embedded configuration) as GRUB 2.06
 * does, with the variables root, prefix and cmdpath set, then the default
 * menu entry.  Supports commands, quoting, $var expansion, if/elif/else/fi,
 * `[`, set, source, configfile, menuentry, setparams, linux, initrd and
 * search --file; refuses what it cannot predict (for, while, function,
 * submenu, a search that is not --file).
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

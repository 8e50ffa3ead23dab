/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_LIB_CHAIN_SHIM_H
#define MEASURED_LIB_CHAIN_SHIM_H

/* Shared by chain_shim.c, chain_shim_mok.c and chain_shim_grub.c. */

#include "measured/chain.h"

#define EV_SEPARATOR 0x4
#define EV_IPL 0xd
#define EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003
#define EV_EFI_ACTION 0x80000007
#define EV_EFI_VARIABLE_AUTHORITY 0x800000e0
#define SBAT_VAR_ATTRS 0x3		/* NON_VOLATILE | BOOTSERVICE_ACCESS */
#define MAX_MEASURED 64

/* grub-core/kern/efi: module types in the "mods" section */
#define GRUB_MODULE_MAGIC 0x676d696d
#define OBJ_TYPE_CONFIG 2
#define OBJ_TYPE_PREFIX 3

struct measured_once { char name[32]; struct m_efi_guid guid; uint8_t *data; size_t len; };

struct shim_ctx {
	struct m_manifest *m;
	const struct m_chain_shim_in *in;
	uint8_t *mok_rt;		/* MokListRT as shim builds it */
	size_t mok_rt_len;
	struct measured_once done[MAX_MEASURED];	/* shim's tpm_data_measured list */
	int ndone;
	char dev[64];			/* "(hd0,gpt1)" */
	char second_stage[256];		/* what shim loads: grubx64.efi beside it */
};

int shim_add_variable(struct m_manifest *m, uint32_t type, const char *name, const struct m_efi_guid *guid,
		      const void *data, size_t len, const char *source);
uint8_t shim_secure_boot(const struct m_efi_vars *vars);
int shim_measure_variable(struct shim_ctx *c, const char *name, const struct m_efi_guid *guid,
			  const uint8_t *data, size_t len);
int shim_load_app(struct shim_ctx *c, const char *path, int times, bool by_shim, uint8_t **ret, size_t *ret_len);
/* the same from another file system's tree (GRUB loading a kernel from /boot) */
int shim_load_app_in(struct shim_ctx *c, const char *tree, const char *path, int times, bool by_shim, uint8_t **ret,
		     size_t *ret_len);
/* chain_shim_mok.c: the MOK state shim imports and measures (PCR 7, 14), MokListRT */
int shim_mok_state(struct shim_ctx *c, const uint8_t *shim, size_t len);
/* chain_shim_grub.c: GRUB's embedded configuration and what it runs */
int shim_grub_predict(struct shim_ctx *c, const uint8_t *grub, size_t len);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_EFIVARS_H
#define MEASURED_EFIVARS_H

/*
 * UEFI variables as a prediction input: read from an OVMF variable store
 * file (the NV variable firmware volume of OVMF_VARS*.fd) and turned into
 * the UEFI_VARIABLE_DATA records firmware and shim measure into PCR 7.
 */

#include <stddef.h>
#include <stdint.h>

#define M_EFIVARS_MAX_FILE (64u << 20)	/* bytes of one variable store file */
#define M_EFIVARS_MAX 4096u		/* variables in one store */
#define M_EFIVAR_NAME_MAX 128u		/* characters of a name (ASCII only) */

struct m_efi_guid {
	uint8_t b[16];			/* as stored: little-endian first three fields */
};

/* Well-known GUIDs (UEFI 2.10, 3.3 and 32.6; shim's SHIM_LOCK_GUID). */
extern const struct m_efi_guid M_EFI_GLOBAL_GUID;		/* 8be4df61-93ca-11d2-aa0d-00e098032b8c */
extern const struct m_efi_guid M_EFI_IMAGE_SECURITY_GUID;	/* d719b2cb-3d3a-4596-a3bc-dad00e67656f */
extern const struct m_efi_guid M_EFI_SHIM_LOCK_GUID;		/* 605dab50-e046-4300-abb6-3dd810dd8b23 */
extern const struct m_efi_guid M_EFI_CERT_X509_GUID;		/* a5c059a1-94e4-4aa7-87b5-ab155c2bf072 */
extern const struct m_efi_guid M_EFI_CERT_SHA256_GUID;		/* c1c41626-504c-4092-aca9-41f936934328 */

struct m_efi_var {
	char name[M_EFIVAR_NAME_MAX + 1];
	struct m_efi_guid guid;
	uint32_t attrs;
	uint8_t *data;
	size_t len;
};

struct m_efi_vars {
	struct m_efi_var *v;
	size_t n;
};

/**
 * m_efi_vars_load() - the live variables of an OVMF variable store file
 * (edk2 MdeModulePkg VariableFormat.h: a firmware volume whose header is
 * followed by VARIABLE_STORE_HEADER and 4-byte aligned
 * AUTHENTICATED_VARIABLE_HEADER records; a record counts when its State is
 * VAR_ADDED, or VAR_ADDED with VAR_IN_DELETED_TRANSITION and no later
 * copy).  Names that are not ASCII are refused.  @path may instead be a
 * directory in the efivarfs layout (/sys/firmware/efi/efivars): files
 * NAME-GUID holding the attributes (u32) and the data; other names are
 * skipped.
 */
int m_efi_vars_load(const char *path, struct m_efi_vars **ret);
/** m_efi_vars_parse() - the same over @len bytes in memory; @name for messages. */
int m_efi_vars_parse(const uint8_t *img, size_t len, const char *name, struct m_efi_vars **ret);
void m_efi_vars_free(struct m_efi_vars *vars);
/** m_efi_vars_find() - the variable @name of @guid, or NULL. */
const struct m_efi_var *m_efi_vars_find(const struct m_efi_vars *vars, const char *name,
					const struct m_efi_guid *guid);

/**
 * m_efi_variable_data() - UEFI_VARIABLE_DATA (TCG PC Client PFP, 10.4.1
 * "UEFI_VARIABLE_DATA"): VariableName GUID | UnicodeNameLength (u64,
 * characters, no NUL) | VariableDataLength (u64) | UnicodeName (UTF-16LE)
 * | VariableData.  Written to a new buffer.
 */
int m_efi_variable_data(const char *name, const struct m_efi_guid *guid, const void *data, size_t len,
			uint8_t **ret, size_t *ret_len);

/**
 * m_efi_guid_parse() - "8be4df61-93ca-11d2-aa0d-00e098032b8c" into the
 * stored byte order.
 */
int m_efi_guid_parse(const char *s, struct m_efi_guid *ret);

#endif

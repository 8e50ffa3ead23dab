// SPDX-License-Identifier: MIT
/*
 * UEFI Secure Boot through shim and GRUB (docs/predict-formulas.md,
 * "shim -> GRUB -> Linux").  The events, in the order each PCR gets them:
 *
 * PCR 7  firmware (edk2 Tcg2Dxe MeasureAllSecureVariables): SecureBoot, PK,
 *        KEK, db, dbx as EV_EFI_VARIABLE_DRIVER_CONFIG (absent: no data),
 *        EV_SEPARATOR; the db entry that verified shim (DxeImageVerificationLib)
 *        as EV_EFI_VARIABLE_AUTHORITY; then shim 16: SbatLevel (mok.c,
 *        MOK_VARIABLE_MEASURE), MokSBState if set, and the entry of db or
 *        MokListRT that verified each image it loads (verify.c
 *        check_db_cert/check_db_hash), each (name, GUID, data) once (tpm.c
 *        tpm_data_measured).
 * PCR 14 shim's MokList, MokListX, [MokSBState], MokListTrusted, [MokPolicy]
 *        as EV_IPL with the name as event data (mok.c mirror_one_mok_variable).
 * PCR 4  the firmware's actions (from a golden log, else "Calling EFI
 *        Application from Boot Option" and the separator), then the
 *        Authenticode digest of shim, GRUB and twice the kernel (shim 16.1
 *        measures it when GRUB's linux command verifies and loads it).
 * PCR 8, 9  GRUB (lib/predict/grub_script.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/chain.h"
#include "measured/error.h"
#include "measured/pe.h"

#include "chain_shim.h"


int shim_add_variable(struct m_manifest *m, uint32_t type, const char *name, const struct m_efi_guid *guid,
			const void *data, size_t len, const char *source)
{
	uint8_t *vd;
	size_t vlen;
	int r = m_efi_variable_data(name, guid, data, len, &vd, &vlen);

	if (r < 0)
		return r;
	r = m_chain_add_data(m, 7, type, vd, vlen, name, source);
	free(vd);
	return r;
}

/* edk2: SecureBoot is 1 with a PK enrolled unless OVMF's SecureBootEnable says 0 */
uint8_t shim_secure_boot(const struct m_efi_vars *vars)
{
	static const struct m_efi_guid enable_guid = { { 0xc7, 0x0b, 0xa3, 0xf0, 0x08, 0xaf, 0x56, 0x45,
							  0x99, 0xc4, 0x00, 0x10, 0x09, 0xc9, 0x3a, 0x44 } };
	const struct m_efi_var *en = m_efi_vars_find(vars, "SecureBootEnable", &enable_guid);

	if (!m_efi_vars_find(vars, "PK", &M_EFI_GLOBAL_GUID))
		return 0;
	return en && en->len == 1 && en->data[0] == 0 ? 0 : 1;
}

static int firmware_pcr7(struct shim_ctx *c)
{
	static const char *const names[] = { "PK", "KEK", "db", "dbx" };
	static const uint8_t sep[4] = { 0 };
	uint8_t sb = shim_secure_boot(c->in->vars);
	int r = shim_add_variable(c->m, EV_EFI_VARIABLE_DRIVER_CONFIG, "SecureBoot", &M_EFI_GLOBAL_GUID, &sb, 1,
			     "efi-vars");

	for (size_t i = 0; r == 0 && i < 4; i++) {
		const struct m_efi_guid *g = i < 2 ? &M_EFI_GLOBAL_GUID : &M_EFI_IMAGE_SECURITY_GUID;
		const struct m_efi_var *v = m_efi_vars_find(c->in->vars, names[i], g);

		r = shim_add_variable(c->m, EV_EFI_VARIABLE_DRIVER_CONFIG, names[i], g, v ? v->data : NULL,
				 v ? v->len : 0, "efi-vars");
	}
	return r ? r : m_chain_add_data(c->m, 7, EV_SEPARATOR, sep, 4, "separator", "efi-vars");
}


/* an authority once per (name, GUID, data), as shim's tpm_measure_variable */
int shim_measure_variable(struct shim_ctx *c, const char *name, const struct m_efi_guid *guid,
				 const uint8_t *data, size_t len)
{
	struct measured_once *o;

	for (int i = 0; i < c->ndone; i++) {
		o = &c->done[i];
		if (!strcmp(o->name, name) && !memcmp(&o->guid, guid, 16) && o->len == len && !memcmp(o->data, data, len))
			return 0;
	}
	if (c->ndone >= MAX_MEASURED)
		return m_err(-E2BIG, "more than %d shim authorities", MAX_MEASURED);
	o = &c->done[c->ndone];
	if (!(o->data = malloc(len ? len : 1)))
		return -ENOMEM;
	memcpy(o->data, data, len);
	o->len = len;
	o->guid = *guid;
	snprintf(o->name, sizeof(o->name), "%s", name);
	c->ndone++;
	return shim_add_variable(c->m, EV_EFI_VARIABLE_AUTHORITY, name, guid, data, len, "shim");
}

/* shim verify.c check_allowlist: db first, then MokListRT */
static int shim_authority(struct shim_ctx *c, const uint8_t *img, size_t len, const char *what)
{
	const struct m_efi_var *db = m_efi_vars_find(c->in->vars, "db", &M_EFI_IMAGE_SECURITY_GUID);
	const uint8_t *sd;
	size_t sdlen;
	int r = -ENOENT;

	if (!shim_secure_boot(c->in->vars))
		return 0;
	if (db)
		r = m_sb_authority(img, len, db->data, db->len, &sd, &sdlen);
	if (r == 0)
		return shim_measure_variable(c, "db", &M_EFI_IMAGE_SECURITY_GUID, sd, sdlen);
	if (r != -ENOENT)
		return r;
	r = m_sb_authority(img, len, c->mok_rt, c->mok_rt_len, &sd, &sdlen);
	if (r == -ENOENT)
		return m_err(-EPERM, "%s: neither db nor shim's MokListRT allows it: Secure Boot refuses it", what);
	return r < 0 ? r : shim_measure_variable(c, "MokListRT", &M_EFI_SHIM_LOCK_GUID, sd, sdlen);
}

int shim_load_app(struct shim_ctx *c, const char *path, int times, bool by_shim, uint8_t **ret, size_t *ret_len)
{
	return shim_load_app_in(c, c->in->esp, path, times, by_shim, ret, ret_len);
}

int shim_load_app_in(struct shim_ctx *c, const char *tree, const char *path, int times, bool by_shim, uint8_t **ret,
		     size_t *ret_len)
{
	struct m_digests d;
	uint8_t *img;
	size_t len;
	int r = m_esp_read(tree, path, &img, &len);

	if (r < 0)
		return r;
	r = m_pe_authenticode(img, len, c->m->banks, &d);
	if (r < 0)
		r = m_err_prefix(r, "%s", path);
	if (r == 0 && by_shim)
		r = shim_authority(c, img, len, path);
	for (int i = 0; r == 0 && i < times; i++)
		r = m_manifest_add(c->m, 4, EV_EFI_BOOT_SERVICES_APPLICATION, &d, path, by_shim ? "shim" : "firmware");
	if (r < 0 || !ret)
		free(img);
	else {
		*ret = img;
		*ret_len = len;
	}
	return r;
}

int m_predict_shim_grub(struct m_manifest *m, const struct m_chain_shim_in *in)
{
	struct shim_ctx c = { .m = m, .in = in };
	uint8_t *shim = NULL, *grub = NULL;
	size_t shim_len, grub_len;
	const uint8_t *sd;
	size_t sdlen;
	int r;

	const char *slash = strrchr(in->loader, '\\');

	/* shim's DEFAULT_LOADER: grubx64.efi in the directory shim was started from */
	if ((r = m_snprintf(c.dev, sizeof(c.dev), "(%s)", in->grub_device)) < 0 ||
	    (r = m_snprintf(c.second_stage, sizeof(c.second_stage), "%.*s\\grubx64.efi",
			    slash ? (int)(slash - in->loader) : 0, in->loader)) < 0)
		return m_err_prefix(r, "--grub-device/--loader");
	r = firmware_pcr7(&c);
	if (r == 0)
		r = m_chain_uefi_prologue(m, in->golden);
	if (r == 0)
		r = m_esp_read(in->esp, in->loader, &shim, &shim_len);
	if (r == 0 && shim_secure_boot(in->vars)) {
		const struct m_efi_var *db = m_efi_vars_find(in->vars, "db", &M_EFI_IMAGE_SECURITY_GUID);

		r = db ? m_sb_authority(shim, shim_len, db->data, db->len, &sd, &sdlen) : -ENOENT;
		if (r == -ENOENT)
			r = m_err(-EPERM, "%s: no db entry allows it: Secure Boot refuses it", in->loader);
		if (r == 0)
			r = shim_add_variable(m, EV_EFI_VARIABLE_AUTHORITY, "db", &M_EFI_IMAGE_SECURITY_GUID, sd, sdlen,
					 "firmware");
	}
	if (r == 0) {
		struct m_digests d;

		r = m_pe_authenticode(shim, shim_len, m->banks, &d);
		if (r == 0)
			r = m_manifest_add(m, 4, EV_EFI_BOOT_SERVICES_APPLICATION, &d, in->loader, "firmware");
	}
	if (r == 0)
		r = shim_mok_state(&c, shim, shim_len);
	if (r == 0)
		r = shim_load_app(&c, c.second_stage, 1, true, &grub, &grub_len);
	if (r == 0)
		r = shim_grub_predict(&c, grub, grub_len);
	free(shim);
	free(grub);
	free(c.mok_rt);
	for (int i = 0; i < c.ndone; i++)
		free(c.done[i].data);
	return r;
}

// SPDX-License-Identifier: MIT
/*
 * The MOK state shim 16 imports at start (mok.c import_mok_state, table
 * mok_state_variable_data) and the SbatLevel it settles on (sbat.c
 * set_sbat_uefi_variable), as measured:
 *
 *   MokList        PCR 14: vendor certificate as an EFI_SIGNATURE_LIST
 *                  (owner SHIM_LOCK_GUID) | the MokList variable
 *   MokListX       PCR 14: the vendor dbx (an ESL list) | MokListX
 *   MokSBState     PCR 7 (as an authority) and PCR 14, when set
 *   SbatLevel      PCR 7 (EV_EFI_VARIABLE_AUTHORITY)
 *   MokListTrusted PCR 14: 01 when the variable is absent (MOK_VARIABLE_INVERSE)
 *   MokPolicy      PCR 14, when set
 *
 * A key list that ends up empty becomes one EFI_CERT_SHA256 entry of 32
 * zero bytes (owner SHIM_LOCK_GUID).  A variable with RUNTIME_ACCESS or
 * without NON_VOLATILE|BOOTSERVICE_ACCESS is deleted by shim, so ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "chain_shim.h"

#define EFI_VARIABLE_NV_BS 0x3
#define EFI_VARIABLE_RUNTIME_ACCESS 0x4
#define SBAT_VAR_ORIGINAL "sbat,1,2021030218\n"

struct vendor { const uint8_t *auth, *deauth; uint32_t auth_len, deauth_len; };

/* shim's .vendor_cert section: cert_table { authorized size, deauthorized size, their offsets } */
static int vendor_certs(const uint8_t *shim, size_t len, struct vendor *v)
{
	struct mbuf_reader r;
	size_t off, size;
	uint32_t as, ds, ao, dof;
	int e = m_pe_section(shim, len, ".vendor_cert", &off, &size);

	*v = (struct vendor){ 0 };
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return e;
	mbr_init(&r, shim + off, size);
	as = mbr_le32(&r);
	ds = mbr_le32(&r);
	ao = mbr_le32(&r);
	dof = mbr_le32(&r);
	if (!mbr_ok(&r) || ao > size || as > size - ao || dof > size || ds > size - dof)
		return m_err(-EINVAL, "shim's .vendor_cert table points outside its section");
	v->auth = shim + off + ao;
	v->auth_len = as;
	v->deauth = shim + off + dof;
	v->deauth_len = ds;
	return 0;
}

static const struct m_efi_var *mok_var(const struct m_efi_vars *vars, const char *name)
{
	const struct m_efi_var *v = m_efi_vars_find(vars, name, &M_EFI_SHIM_LOCK_GUID);

	if (v && (!(v->attrs & EFI_VARIABLE_NV_BS) || (v->attrs & EFI_VARIABLE_RUNTIME_ACCESS)))
		return NULL;
	return v;
}

/* EFI_SIGNATURE_LIST with one entry: type | ListSize | HeaderSize 0 | SignatureSize | owner | data */
static void put_esl(struct mbuf_writer *w, const struct m_efi_guid *type, const void *data, size_t len)
{
	mbw_bytes(w, type->b, 16);
	mbw_le32(w, (uint32_t)(28 + 16 + len));
	mbw_le32(w, 0);
	mbw_le32(w, (uint32_t)(16 + len));
	mbw_bytes(w, M_EFI_SHIM_LOCK_GUID.b, 16);
	mbw_bytes(w, data, len);
}

/* mok.c mirror_one_mok_variable for a key list: addend | variable, or the dummy entry */
static int key_list(const struct m_efi_vars *vars, const char *name, const uint8_t *add, size_t add_len,
		    bool add_is_x509, struct mbuf_writer *w)
{
	static const uint8_t zero[32];
	const struct m_efi_var *v = mok_var(vars, name);

	mbw_init_heap(w, 16u << 20);
	if (add_len && add_is_x509)
		put_esl(w, &M_EFI_CERT_X509_GUID, add, add_len);
	else if (add_len)
		mbw_bytes(w, add, add_len);
	if (v)
		mbw_bytes(w, v->data, v->len);
	if (w->len == 0)
		put_esl(w, &M_EFI_CERT_SHA256_GUID, zero, sizeof(zero));
	return mbw_ok(w) ? 0 : m_err(-E2BIG, "%s over 16 MiB", name);
}

static int log14(struct shim_ctx *c, const char *name, const void *data, size_t len)
{
	return m_chain_add_data(c->m, 14, EV_IPL, data, len, name, "shim");
}

/* sbat.c nth_sbat_field: the text after the n-th comma */
static const char *sbat_field(const char *s, size_t len, int n)
{
	size_t i = 0;

	for (; i < len && n > 0; i++)
		if (s[i] == ',')
			n--;
	return s + i;
}

/* sbat.c preserve_sbat_uefi_variable */
static bool sbat_preserve(const struct m_efi_var *cur, const char *cand)
{
	const char *c = (const char *)cur->data;
	const char *cv, *nv, *cd, *nd;
	size_t cl, nl;

	if (cur->attrs != EFI_VARIABLE_NV_BS || cur->len < strlen(SBAT_VAR_ORIGINAL) || strncmp(c, "sbat,", 5))
		return false;
	cv = sbat_field(c, cur->len, 1);
	nv = sbat_field(cand, strlen(cand) + 1, 1);
	cd = sbat_field(c, cur->len, 2);
	nd = sbat_field(cand, strlen(cand) + 1, 2);
	cl = (size_t)(cd - cv - 1);
	nl = (size_t)(nd - nv - 1);
	if (cl > nl || (cl == nl && strncmp(cv, nv, nl) > 0))
		return true;
	return (size_t)(c + cur->len - cd) >= 10 && strncmp(cd, nd, 10) >= 0;
}

/* the SbatLevel shim leaves in place: its .sbatlevel payload { version, automatic, latest } */
static int sbat_level(struct shim_ctx *c, const uint8_t *shim, size_t len, const uint8_t **ret, size_t *ret_len)
{
	const struct m_efi_var *pol = mok_var(c->in->vars, "SbatPolicy");
	const struct m_efi_var *cur = m_efi_vars_find(c->in->vars, "SbatLevel", &M_EFI_SHIM_LOCK_GUID);
	struct mbuf_reader r;
	size_t off, size;
	uint32_t autom, latest;
	const char *cand;
	bool reset = false;
	int e = m_pe_section(shim, len, ".sbatlevel", &off, &size);

	if (e < 0)
		return m_err_prefix(e, "shim (16 has a .sbatlevel section)");
	mbr_init(&r, shim + off, size);
	mbr_skip(&r, 4);
	autom = mbr_le32(&r);
	latest = mbr_le32(&r);
	if (!mbr_ok(&r) || autom > size - 4 || latest > size - 4 || !memchr(shim + off + 4 + autom, 0, size - 4 - autom) ||
	    !memchr(shim + off + 4 + latest, 0, size - 4 - latest))
		return m_err(-EINVAL, "shim's .sbatlevel payload is malformed");
	cand = (const char *)shim + off + 4 + autom;
	if (pol && pol->len >= 1 && pol->data[0] == 1)
		cand = (const char *)shim + off + 4 + latest;
	else if (!shim_secure_boot(c->in->vars) && !(pol && pol->len >= 1 && pol->data[0] == 2)) {
		cand = SBAT_VAR_ORIGINAL;
		reset = true;
	}
	if (cur && !reset && sbat_preserve(cur, cand)) {
		*ret = cur->data;
		*ret_len = cur->len;
	} else {
		*ret = (const uint8_t *)cand;
		*ret_len = strlen(cand);
	}
	return 0;
}

int shim_mok_state(struct shim_ctx *c, const uint8_t *shim, size_t len)
{
	static const uint8_t one = 1;
	struct vendor v;
	struct mbuf_writer w;
	const struct m_efi_var *sb = mok_var(c->in->vars, "MokSBState");
	const struct m_efi_var *policy = mok_var(c->in->vars, "MokPolicy");
	const uint8_t *sbat = NULL;
	size_t sbat_len = 0;
	int e = vendor_certs(shim, len, &v);

	if (e < 0)
		return e;
	/* MokList; shim keeps it as MokListRT, what images are checked against */
	bool x509 = v.auth_len > 1 && v.auth[0] == 0x30;
	if ((e = key_list(c->in->vars, "MokList", v.auth, v.auth_len, x509, &w)) < 0)
		return e;
	c->mok_rt = w.data;
	c->mok_rt_len = w.len;
	if ((e = log14(c, "MokList", w.data, w.len)) < 0)
		return e;
	if ((e = key_list(c->in->vars, "MokListX", v.deauth, v.deauth_len, false, &w)) < 0)
		return e;
	e = log14(c, "MokListX", w.data, w.len);
	mbw_free(&w);
	if (e == 0 && sb) {
		e = shim_measure_variable(c, "MokSBState", &M_EFI_SHIM_LOCK_GUID, sb->data, sb->len);
		if (e == 0)
			e = log14(c, "MokSBState", sb->data, sb->len);
	}
	if (e == 0)
		e = sbat_level(c, shim, len, &sbat, &sbat_len);
	if (e == 0)
		e = shim_measure_variable(c, "SbatLevel", &M_EFI_SHIM_LOCK_GUID, sbat, sbat_len);
	if (e == 0 && !mok_var(c->in->vars, "MokListTrusted"))
		e = log14(c, "MokListTrusted", &one, 1);
	if (e == 0 && policy)
		e = log14(c, "MokPolicy", policy->data, policy->len);
	return e;
}

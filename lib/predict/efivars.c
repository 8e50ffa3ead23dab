// SPDX-License-Identifier: MIT
/*
 * OVMF variable store files (include/measured/efivars.h).
 *
 * Layout (edk2 MdePkg PiFirmwareVolume.h, MdeModulePkg VariableFormat.h):
 * EFI_FIRMWARE_VOLUME_HEADER ("_FVH" at 40, HeaderLength u16 at 48), then
 * VARIABLE_STORE_HEADER (Signature GUID, Size u32, Format 0x5a, State
 * 0xfe, 7 reserved bytes = 28), then records aligned to 4 bytes:
 * AUTHENTICATED_VARIABLE_HEADER = StartId 0x55aa (u16), State (u8),
 * reserved (u8), Attributes (u32), MonotonicCount (u64), TimeStamp (16),
 * PubKeyIndex (u32), NameSize (u32), DataSize (u32), VendorGuid (16) = 60
 * bytes; the UTF-16 name (NameSize bytes, NUL included), the data (no
 * padding between: ALIGNMENT is 1 on IA32/X64); the next header at a
 * 4-byte boundary.  The store ends at the first record without 0x55aa.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "measured/buf.h"
#include "measured/digest.h"
#include "measured/efivars.h"
#include "measured/error.h"
#include "measured/file.h"

const struct m_efi_guid M_EFI_GLOBAL_GUID = { { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
						0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c } };
const struct m_efi_guid M_EFI_IMAGE_SECURITY_GUID = { { 0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
							0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f } };
const struct m_efi_guid M_EFI_SHIM_LOCK_GUID = { { 0x50, 0xab, 0x5d, 0x60, 0x46, 0xe0, 0x00, 0x43,
						   0xab, 0xb6, 0x3d, 0xd8, 0x10, 0xdd, 0x8b, 0x23 } };
const struct m_efi_guid M_EFI_CERT_X509_GUID = { { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
						   0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 } };
const struct m_efi_guid M_EFI_CERT_SHA256_GUID = { { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
						     0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 } };
/* gEfiAuthenticatedVariableGuid, the store format with the 60-byte header */
static const struct m_efi_guid AUTH_STORE_GUID = { { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
						     0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 } };

#define VAR_START_ID 0x55aa
#define VAR_ADDED 0x3f
#define VAR_ADDED_IN_DELETE 0x3e	/* VAR_ADDED & VAR_IN_DELETED_TRANSITION */
#define AUTH_HDR_SIZE 60
#define STORE_HDR_SIZE 28

void m_efi_vars_free(struct m_efi_vars *vars)
{
	if (!vars)
		return;
	for (size_t i = 0; i < vars->n; i++)
		free(vars->v[i].data);
	free(vars->v);
	free(vars);
}

const struct m_efi_var *m_efi_vars_find(const struct m_efi_vars *vars, const char *name,
					const struct m_efi_guid *guid)
{
	/* the last copy wins: a variable rewritten in transition appears twice */
	for (size_t i = vars->n; i-- > 0;)
		if (!strcmp(vars->v[i].name, name) && !memcmp(&vars->v[i].guid, guid, sizeof(*guid)))
			return &vars->v[i];
	return NULL;
}

static int name_from_utf16(const uint8_t *p, size_t size, char *out, size_t off)
{
	size_t n = size / 2;

	if (size % 2 || n == 0 || n - 1 > M_EFIVAR_NAME_MAX || p[size - 2] || p[size - 1])
		return m_err(-EINVAL, "variable at 0x%zx: bad name size %zu", off, size);
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[2 * i + 1] || p[2 * i] < 0x20 || p[2 * i] >= 0x7f)
			return m_err(-EINVAL, "variable at 0x%zx: name is not printable ASCII", off);
		out[i] = (char)p[2 * i];
	}
	out[n - 1] = '\0';
	return 0;
}

static int add_var(struct m_efi_vars *vars, const struct m_efi_var *v)
{
	struct m_efi_var *nv;

	if (vars->n >= M_EFIVARS_MAX)
		return m_err(-E2BIG, "more than %u variables", M_EFIVARS_MAX);
	nv = realloc(vars->v, (vars->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	vars->v = nv;
	nv[vars->n++] = *v;
	return 0;
}

static int parse_records(const uint8_t *img, size_t end, size_t off, struct m_efi_vars *vars)
{
	while (off + AUTH_HDR_SIZE <= end) {
		struct mbuf_reader r;
		struct m_efi_var v = { 0 };
		uint8_t state;
		uint32_t name_size, data_size;
		size_t name_off, data_off;
		int e;

		mbr_init(&r, img + off, end - off);
		if (mbr_le16(&r) != VAR_START_ID)
			break;
		state = mbr_u8(&r);
		mbr_u8(&r);
		v.attrs = mbr_le32(&r);
		mbr_skip(&r, 8 + 16 + 4);
		name_size = mbr_le32(&r);
		data_size = mbr_le32(&r);
		mbr_copy(&r, v.guid.b, 16);
		name_off = off + AUTH_HDR_SIZE;
		data_off = name_off + name_size;	/* GET_PAD_SIZE: ALIGNMENT is 1 on x86 */
		if (!mbr_ok(&r) || name_size > end || data_size > end || data_off > end || data_size > end - data_off)
			return m_err(-EINVAL, "variable at 0x%zx runs past the store", off);
		if (state == VAR_ADDED || state == VAR_ADDED_IN_DELETE) {
			if ((e = name_from_utf16(img + name_off, name_size, v.name, off)) < 0)
				return e;
			v.len = data_size;
			v.data = malloc(data_size ? data_size : 1);
			if (!v.data)
				return -ENOMEM;
			memcpy(v.data, img + data_off, data_size);
			if ((e = add_var(vars, &v)) < 0) {
				free(v.data);
				return e;
			}
		}
		off = (data_off + data_size + 3) & ~(size_t)3;
	}
	return 0;
}

static int parse_store(const uint8_t *img, size_t len, struct m_efi_vars *vars)
{
	struct mbuf_reader r;
	uint64_t fv_len;
	uint16_t hdr_len;
	uint32_t store_size;
	struct m_efi_guid sig;

	mbr_init(&r, img, len);
	mbr_skip(&r, 32);
	fv_len = mbr_le64(&r);
	if (!mbr_ok(&r) || len < 56 || memcmp(img + 40, "_FVH", 4))
		return m_err(-EINVAL, "not a firmware volume (no \"_FVH\" at offset 40)");
	mbr_init(&r, img + 48, len - 48);
	hdr_len = mbr_le16(&r);
	if (fv_len > len || hdr_len > fv_len || fv_len - hdr_len < STORE_HDR_SIZE)
		return m_err(-EINVAL, "firmware volume header lengths outside the file");
	mbr_init(&r, img + hdr_len, (size_t)fv_len - hdr_len);
	mbr_copy(&r, sig.b, 16);
	store_size = mbr_le32(&r);
	if (memcmp(&sig, &AUTH_STORE_GUID, 16))
		return m_err(-ENOTSUP, "variable store at 0x%x is not in the authenticated format", hdr_len);
	if (store_size > fv_len - hdr_len || store_size < STORE_HDR_SIZE)
		return m_err(-EINVAL, "variable store size %u outside the volume", store_size);
	return parse_records(img, (size_t)hdr_len + store_size, (size_t)hdr_len + STORE_HDR_SIZE, vars);
}

int m_efi_vars_parse(const uint8_t *img, size_t len, const char *name, struct m_efi_vars **ret)
{
	struct m_efi_vars *vars = calloc(1, sizeof(*vars));
	int r;

	if (!vars)
		return -ENOMEM;
	r = len > M_EFIVARS_MAX_FILE ? m_err(-E2BIG, "over %u bytes", M_EFIVARS_MAX_FILE) : parse_store(img, len, vars);
	if (r < 0) {
		m_efi_vars_free(vars);
		return m_err_prefix(r, "%s", name);
	}
	*ret = vars;
	return 0;
}

/* one efivarfs file NAME-GUID: attributes (u32, host order = LE on x86) | data */
static int load_efivarfs_file(const char *dir, const char *fname, struct m_efi_vars *vars)
{
	struct m_efi_var v = { 0 };
	const char *dash = strlen(fname) > 37 ? fname + strlen(fname) - 37 : NULL;
	char path[4096];
	uint8_t *data;
	size_t len;
	int r;

	if (!dash || *dash != '-' || (size_t)(dash - fname) > M_EFIVAR_NAME_MAX ||
	    m_efi_guid_parse(dash + 1, &v.guid) < 0)
		return 0;	/* not a variable: skip */
	memcpy(v.name, fname, (size_t)(dash - fname));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, fname) >= sizeof(path))
		return m_err(-ENAMETOOLONG, "%s/%s: path too long", dir, fname);
	if ((r = m_read_file(path, M_EFIVARS_MAX_FILE, &data, &len)) < 0)
		return r;
	if (len < 4) {
		free(data);
		return m_err(-EINVAL, "%s: shorter than its 4 attribute bytes", path);
	}
	v.attrs = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	memmove(data, data + 4, len - 4);
	v.data = data;
	v.len = len - 4;
	if ((r = add_var(vars, &v)) < 0)
		free(data);
	return r;
}

static int load_efivarfs(const char *dir, struct m_efi_vars *vars)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return m_err(-errno, "%s: %s", dir, strerror(errno));
	while (r == 0 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			r = load_efivarfs_file(dir, de->d_name, vars);
	closedir(d);
	return r;
}

int m_efi_vars_load(const char *path, struct m_efi_vars **ret)
{
	uint8_t *img = NULL;
	size_t len;
	struct stat st;
	int r;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		struct m_efi_vars *vars = calloc(1, sizeof(*vars));

		if (!vars)
			return -ENOMEM;
		if ((r = load_efivarfs(path, vars)) < 0) {
			m_efi_vars_free(vars);
			return r;
		}
		*ret = vars;
		return 0;
	}
	r = m_read_file(path, M_EFIVARS_MAX_FILE, &img, &len);
	if (r == 0)
		r = m_efi_vars_parse(img, len, path, ret);
	free(img);
	return r;
}

int m_efi_variable_data(const char *name, const struct m_efi_guid *guid, const void *data, size_t len,
			uint8_t **ret, size_t *ret_len)
{
	struct mbuf_writer w;
	size_t n = strlen(name);

	mbw_init_heap(&w, 32 + 2 * n + len);
	mbw_bytes(&w, guid->b, 16);
	mbw_le64(&w, n);
	mbw_le64(&w, len);
	for (size_t i = 0; i < n; i++)
		mbw_le16(&w, (unsigned char)name[i]);
	mbw_bytes(&w, data, len);
	if (!mbw_ok(&w)) {
		mbw_free(&w);
		return -ENOMEM;
	}
	*ret = w.data;
	*ret_len = w.len;
	return 0;
}

int m_efi_guid_parse(const char *s, struct m_efi_guid *ret)
{
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t be[16];
	char hex[33];
	size_t k = 0;

	if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return m_err(-EINVAL, "'%s' is not a GUID (8-4-4-4-12 hex digits)", s);
	for (size_t i = 0; i < 36; i++)
		if (s[i] != '-')
			hex[k++] = s[i];
	hex[k] = '\0';
	if (m_unhex(hex, be, 16) < 0)
		return m_err(-EINVAL, "'%s' is not a GUID", s);
	for (int i = 0; i < 16; i++)
		ret->b[i] = be[order[i]];
	return 0;
}

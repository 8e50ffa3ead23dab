// SPDX-License-Identifier: MIT
/*
 * GRUB started by shim: its embedded configuration and prefix (the "mods"
 * section: grub_module_info64 { magic "mimg", padding, offset u64, size u64 }
 * then grub_module_header { type u32, size u32 } records; type 2 is the
 * configuration, 3 the prefix; include/grub/kernel.h), the variables it
 * starts with (grub-core/kern/main.c grub_set_prefix_and_root: a prefix
 * without a device gets the boot device; root is that device; cmdpath is
 * the device and directory GRUB was loaded from), then the script
 * (grub_script.c) with files read from the ESP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/pe.h"
#include "chain_shim.h"

#define OBJ_TYPE_MEMDISK 1

#define OBJ_TYPE_ELF 0
#define MAX_MODULES 512

struct embedded {
	const char *config;
	size_t config_len;
	const uint8_t *memdisk;
	size_t memdisk_len;
	char prefix[256];
	const char *mod[MAX_MODULES];	/* the modules built in: their .modname */
	size_t modlen[MAX_MODULES];
	int nmod;
};

/* an ELF64 module's name: its ".modname" section (grub-mkimage; ELF64 section headers) */
static void module_name(struct embedded *em, const uint8_t *p, size_t n)
{
	struct mbuf_reader r;
	uint64_t shoff, stroff = 0, strsize = 0;
	uint16_t shentsize, shnum, shstrndx;

	mbr_init(&r, p, n);
	if (n < 64 || memcmp(p, "\177ELF\2", 5) || em->nmod >= MAX_MODULES)
		return;
	mbr_skip(&r, 0x28);
	shoff = mbr_le64(&r);
	mbr_skip(&r, 10);
	shentsize = mbr_le16(&r);
	shnum = mbr_le16(&r);
	shstrndx = mbr_le16(&r);
	if (!mbr_ok(&r) || shentsize < 64 || shstrndx >= shnum || shoff > n || (uint64_t)shnum * shentsize > n - shoff)
		return;
	for (int pass = 0; pass < 2; pass++)
		for (uint16_t i = 0; i < shnum; i++) {
			const uint8_t *h = p + shoff + (size_t)i * shentsize;
			uint32_t nm = h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
			uint64_t off, size;

			mbr_init(&r, h + 24, 16);
			off = mbr_le64(&r);
			size = mbr_le64(&r);
			if (off > n || size > n - off)
				continue;
			if (pass == 0 && i == shstrndx) {
				stroff = off;
				strsize = size;
			} else if (pass == 1 && nm < strsize && strsize - nm > 8 &&
				   !memcmp(p + stroff + nm, ".modname", 9)) {
				em->mod[em->nmod] = (const char *)p + off;
				em->modlen[em->nmod++] = strnlen((const char *)p + off, size);
				return;
			}
		}
}

static int grub_modules(const uint8_t *img, size_t len, struct embedded *em)
{
	struct mbuf_reader r;
	size_t off, size;
	uint64_t moff, msize;
	int e = m_pe_section(img, len, "mods", &off, &size);

	if (e < 0)
		return m_err_prefix(e, "GRUB image");
	mbr_init(&r, img + off, size);
	if (mbr_le32(&r) != GRUB_MODULE_MAGIC)
		return m_err(-EINVAL, "GRUB image: no module info in its mods section");
	mbr_skip(&r, 4);
	moff = mbr_le64(&r);
	msize = mbr_le64(&r);
	if (!mbr_ok(&r) || msize > size || moff > msize)
		return m_err(-EINVAL, "GRUB image: module info outside its section");
	mbr_init(&r, img + off + moff, (size_t)(msize - moff));
	while (mbr_remaining(&r) >= 8) {
		uint32_t type = mbr_le32(&r), msz = mbr_le32(&r);
		const uint8_t *p;

		if (msz < 8 || !(p = mbr_ptr(&r, msz - 8)))
			return m_err(-EINVAL, "GRUB image: module record of size %u", msz);
		if (type == OBJ_TYPE_ELF)
			module_name(em, p, msz - 8);
		else if (type == OBJ_TYPE_MEMDISK) {
			em->memdisk = p;
			em->memdisk_len = msz - 8;
		} else if (type == OBJ_TYPE_CONFIG) {
			em->config = (const char *)p;
			em->config_len = strnlen((const char *)p, msz - 8);
		} else if (type == OBJ_TYPE_PREFIX) {
			int pe = m_snprintf(em->prefix, sizeof(em->prefix), "%.*s",
					   (int)strnlen((const char *)p, msz - 8), (const char *)p);

			if (pe < 0)
				return m_err_prefix(pe, "GRUB image: the prefix");
		}
	}
	return 0;
}

struct grub_ctx_ops { struct shim_ctx *c; const struct embedded *em; };

/* the tree holding GRUB's device @dev: the ESP or a --grub-fs; NULL if neither */
static const char *dev_tree(struct shim_ctx *c, const char *dev)
{
	if (!strcmp(dev, c->in->grub_device))
		return c->in->esp;
	for (int i = 0; i < c->in->n_grub_fs; i++)
		if (!strcmp(dev, c->in->grub_fs[i].device))
			return c->in->grub_fs[i].dir;
	return NULL;
}

static int op_read(void *arg, const char *dev, const char *path, const char *name, uint8_t **ret, size_t *ret_len)
{
	struct shim_ctx *c = ((struct grub_ctx_ops *)arg)->c;
	const char *tree = dev_tree(c, dev);
	int e;

	if (!tree)
		return m_err(-ENOENT, "GRUB reads %s: device %s is neither the ESP (%s) nor a --grub-fs", name, dev,
			     c->in->grub_device);
	if ((e = m_esp_read(tree, path, ret, ret_len)) < 0)
		return e;
	e = m_chain_add_data(c->m, 9, EV_IPL, *ret, *ret_len, name, "grub");
	if (e < 0)
		free(*ret);
	return e;
}

static int op_kind(void *arg, const char *dev, const char *path)
{
	struct shim_ctx *c = ((struct grub_ctx_ops *)arg)->c;
	const char *tree = dev_tree(c, dev);

	return tree ? m_esp_kind(tree, path) : 0;
}

static int op_measure(void *arg, const char *prefix, const char *str)
{
	struct shim_ctx *c = ((struct grub_ctx_ops *)arg)->c;
	struct m_digests d;
	char *desc;
	int e = m_digest_buf(c->m->banks, str, strlen(str), &d);

	if (e < 0)
		return e;
	if (asprintf(&desc, "%s%s", prefix, str) < 0)
		return -ENOMEM;
	e = m_manifest_add(c->m, 8, EV_IPL, &d, desc, "grub");
	free(desc);
	return e;
}

static int op_kernel(void *arg, const char *dev, const char *path)
{
	struct shim_ctx *c = ((struct grub_ctx_ops *)arg)->c;
	const char *tree = dev_tree(c, dev);

	if (!tree)
		return m_err(-ENOENT, "GRUB loads %s from %s: neither the ESP nor a --grub-fs", path, dev);
	return shim_load_app_in(c, tree, path, 2, true, NULL, NULL);
}

static const char *op_fs_by_uuid(void *arg, const char *uuid)
{
	struct shim_ctx *c = ((struct grub_ctx_ops *)arg)->c;

	for (int i = 0; i < c->in->n_grub_fs; i++)
		if (!strcasecmp(uuid, c->in->grub_fs[i].uuid))	/* grub_strcasecmp in search.c */
			return c->in->grub_fs[i].device;
	return NULL;
}

static bool op_builtin(void *arg, const char *name)
{
	const struct embedded *em = ((struct grub_ctx_ops *)arg)->em;

	for (int i = 0; i < em->nmod; i++)
		if (em->modlen[i] == strlen(name) && !memcmp(em->mod[i], name, em->modlen[i]))
			return true;
	return false;
}

static bool op_memdisk_has(void *arg, const char *path)
{
	const struct embedded *em = ((struct grub_ctx_ops *)arg)->em;

	return em->memdisk && m_fat_has(em->memdisk, em->memdisk_len, path);
}

/*
 * The embedded configuration runs in GRUB's rescue parser, which measures
 * nothing (kern/main.c grub_load_config); Debian's says "normal
 * (memdisk)/grub.cfg": normal mode runs that file from the memdisk (a FAT
 * image; not measured either, the TPM verifier sees only disk files) with
 * the script engine, which measures every command.
 */
static int run_embedded(struct shim_ctx *c, const struct embedded *em, const char *prefix, const char *cmdpath,
			const struct m_grub_ops *ops)
{
	static const char normal[] = "normal (memdisk)/";
	char name[64];
	uint8_t *cfg;
	size_t len, n = strcspn(em->config, "\n");
	int e;

	if (n < sizeof(normal) || strncmp(em->config, normal, strlen(normal)) || !em->memdisk ||
	    em->config[n + strspn(em->config + n, "\n")] != '\0')
		return m_err(-ENOTSUP, "GRUB image: the embedded configuration is not \"normal (memdisk)/FILE\"");
	e = m_snprintf(name, sizeof(name), "%.*s", (int)(n - strlen(normal)), em->config + strlen(normal));
	if (e < 0)
		return m_err_prefix(e, "GRUB image: the embedded configuration's file name");
	e = m_fat_root_file(em->memdisk, em->memdisk_len, name, &cfg, &len);
	if (e < 0)
		return m_err_prefix(e, "GRUB's memdisk");
	e = m_grub_run((const char *)cfg, len, c->in->grub_device, prefix, cmdpath, ops);
	free(cfg);
	return e;
}

int shim_grub_predict(struct shim_ctx *c, const uint8_t *grub, size_t len)
{
	struct embedded *em = calloc(1, sizeof(*em));	/* large: not on the stack */
	struct grub_ctx_ops oc = { c, em };
	struct m_grub_ops ops = { op_read, op_kind, op_measure, op_kernel, &oc, op_fs_by_uuid, op_builtin, op_memdisk_has };
	char prefix[512], cmdpath[512], fwpath[256];
	const char *slash = strrchr(c->second_stage, '\\');
	int e;

	if (!em)
		return -ENOMEM;
	if ((e = grub_modules(grub, len, em)) < 0)
		goto out;
	if (!em->config) {
		e = m_err(-ENOTSUP, "GRUB image without an embedded configuration: give its config");
		goto out;
	}
	/* the firmware path of GRUB's directory, in GRUB's / notation */
	snprintf(fwpath, sizeof(fwpath), "%.*s", slash ? (int)(slash - c->second_stage) : 0, c->second_stage);
	for (char *p = fwpath; *p; p++)
		if (*p == '\\')
			*p = '/';
	snprintf(cmdpath, sizeof(cmdpath), "%s%s", c->dev, fwpath);
	if (em->prefix[0] == '(')
		snprintf(prefix, sizeof(prefix), "%s", em->prefix);
	else
		snprintf(prefix, sizeof(prefix), "%s%s", c->dev, em->prefix[0] ? em->prefix : fwpath);
	e = run_embedded(c, em, prefix, cmdpath, &ops);
out:
	free(em);
	return e;
}

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
#include "measured/buf.h"
#include "measured/error.h"
#include "measured/pe.h"
#include "chain_shim.h"

#define OBJ_TYPE_MEMDISK 1

struct embedded {
	const char *config;
	size_t config_len;
	const uint8_t *memdisk;
	size_t memdisk_len;
	char prefix[256];
};

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
		if (type == OBJ_TYPE_MEMDISK) {
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

/* "(dev)/path" or "/path" (on $root, the ESP) -> the ESP path; NULL if another device */
static const char *esp_path(struct shim_ctx *c, const char *name)
{
	size_t dl = strlen(c->dev);

	if (name[0] != '(')
		return name;
	if (!strncmp(name, c->dev, dl))
		return name + dl;
	return NULL;
}

static int op_read(void *arg, const char *name, uint8_t **ret, size_t *ret_len)
{
	struct shim_ctx *c = arg;
	const char *p = esp_path(c, name);
	int e;

	if (!p)
		return m_err(-ENOENT, "GRUB reads %s: not on the ESP (%s)", name, c->dev);
	if ((e = m_esp_read(c->in->esp, p, ret, ret_len)) < 0)
		return e;
	e = m_chain_add_data(c->m, 9, EV_IPL, *ret, *ret_len, name, "grub");
	if (e < 0)
		free(*ret);
	return e;
}

static bool op_exists(void *arg, const char *name)
{
	struct shim_ctx *c = arg;
	const char *p = esp_path(c, name);

	return p && m_esp_exists(c->in->esp, p);
}

static int op_measure(void *arg, const char *prefix, const char *str)
{
	struct shim_ctx *c = arg;
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

static int op_kernel(void *arg, const char *name)
{
	struct shim_ctx *c = arg;
	const char *p = esp_path(c, name);

	if (!p)
		return m_err(-ENOENT, "GRUB loads %s: not on the ESP", name);
	return shim_load_app(c, p, 2, true, NULL, NULL);
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
	struct embedded em = { 0 };
	struct m_grub_ops ops = { op_read, op_exists, op_measure, op_kernel, c };
	char prefix[512], cmdpath[512], fwpath[256];
	const char *slash = strrchr(c->second_stage, '\\');
	int e = grub_modules(grub, len, &em);

	if (e < 0)
		return e;
	if (!em.config)
		return m_err(-ENOTSUP, "GRUB image without an embedded configuration: give its config");
	/* the firmware path of GRUB's directory, in GRUB's / notation */
	snprintf(fwpath, sizeof(fwpath), "%.*s", slash ? (int)(slash - c->second_stage) : 0, c->second_stage);
	for (char *p = fwpath; *p; p++)
		if (*p == '\\')
			*p = '/';
	snprintf(cmdpath, sizeof(cmdpath), "%s%s", c->dev, fwpath);
	if (em.prefix[0] == '(')
		snprintf(prefix, sizeof(prefix), "%s", em.prefix);
	else
		snprintf(prefix, sizeof(prefix), "%s%s", c->dev, em.prefix[0] ? em.prefix : fwpath);
	return run_embedded(c, &em, prefix, cmdpath, &ops);
}

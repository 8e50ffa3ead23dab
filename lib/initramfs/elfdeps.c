// SPDX-License-Identifier: MIT
/*
 * The shared objects a program needs, found as the dynamic loader finds
 * them (ld.so(8)): PT_INTERP names the loader; DT_NEEDED entries are
 * looked up in DT_RPATH (only when there is no DT_RUNPATH), DT_RUNPATH,
 * then the system directories.  ELF-64 little-endian only (x86-64 System V
 * ABI; ELF gABI "Program Header", "Dynamic Section").  $ORIGIN and
 * ld.so.cache are not consulted; a library found in neither place is an
 * error naming it, never a silent omission.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "measured/error.h"
#include "measured/file.h"
#include "measured/initramfs.h"

#define ELF_MAX_BYTES (512u << 20)
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_LOAD 1
#define DT_NULL 0
#define DT_NEEDED 1
#define DT_STRTAB 5
#define DT_STRSZ 10
#define DT_RPATH 15
#define DT_RUNPATH 29

static const char *const sysdirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

/* Libraries are reached through symlinks (libc.so.6 -> libc-2.36.so): read the target. */
static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	char *real = realpath(path, NULL);
	int err;

	if (!real)
		return m_err(-errno, "%s: %m", path);
	err = m_read_file(real, ELF_MAX_BYTES, ret, ret_len);
	free(real);
	return err;
}

/* Map a virtual address to a file offset through the PT_LOAD segments. */
static bool vaddr_to_off(const uint8_t *f, size_t len, uint64_t phoff, uint16_t phnum, uint64_t va, uint64_t *ret)
{
	struct mbuf_reader r;

	mbr_init(&r, f, len);
	if (!mbr_skip(&r, phoff))
		return false;
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t type = mbr_le32(&r);
		uint64_t off, vaddr, filesz;

		mbr_skip(&r, 4);
		off = mbr_le64(&r);
		vaddr = mbr_le64(&r);
		mbr_skip(&r, 8);
		filesz = mbr_le64(&r);
		mbr_skip(&r, 16);
		if (!mbr_ok(&r))
			return false;
		if (type == PT_LOAD && va >= vaddr && va - vaddr < filesz) {
			*ret = off + (va - vaddr);
			return true;
		}
	}
	return false;
}

static void copy_str(const uint8_t *f, size_t len, uint64_t off, char *out, size_t cap)
{
	size_t k = 0;

	while (off < len && f[off] && k + 1 < cap)
		out[k++] = (char)f[off++];
	out[k] = '\0';
}

int m_elf_parse(const void *data, size_t len, const char *path, struct m_elf_dyn *ret)
{
	const uint8_t *f = data;
	struct mbuf_reader r;
	uint64_t phoff, dyn_off = 0, dyn_size = 0, strtab = 0, strsz = 0, strtab_off;
	uint16_t phnum;
	uint64_t needed_off[M_ELF_MAX_NEEDED], rpath = UINT64_MAX, runpath = UINT64_MAX;
	size_t nneeded = 0;
	int err = 0;

	memset(ret, 0, sizeof(*ret));
	mbr_init(&r, f, len);
	{
		const uint8_t *id = mbr_ptr(&r, 16);

		if (!id || memcmp(id, "\177ELF", 4) != 0 || id[4] != 2 || id[5] != 1) {
			err = m_err(-ENOEXEC, "%s: not a 64-bit little-endian ELF file", path);
			goto out;
		}
	}
	mbr_skip(&r, 16);		/* e_type, e_machine, e_version, e_entry */
	phoff = mbr_le64(&r);
	mbr_skip(&r, 8 + 4 + 2);	/* e_shoff, e_flags, e_ehsize */
	if (mbr_le16(&r) != 56) {
		err = m_err(-ENOEXEC, "%s: unexpected program header size", path);
		goto out;
	}
	phnum = mbr_le16(&r);
	mbr_init(&r, f, len);
	if (!mbr_skip(&r, phoff)) {
		err = m_err(-ENOEXEC, "%s: program headers beyond the end", path);
		goto out;
	}
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t type = mbr_le32(&r);
		uint64_t off, filesz;

		mbr_skip(&r, 4);
		off = mbr_le64(&r);
		mbr_skip(&r, 16);
		filesz = mbr_le64(&r);
		mbr_skip(&r, 16);
		if (!mbr_ok(&r)) {
			err = m_err(-ENOEXEC, "%s: truncated program header %u", path, i);
			goto out;
		}
		if (type == PT_INTERP && off < len)
			copy_str(f, len, off, ret->interp, sizeof(ret->interp));
		if (type == PT_DYNAMIC) {
			dyn_off = off;
			dyn_size = filesz;
		}
	}
	if (!dyn_size)
		goto out;	/* static */
	mbr_init(&r, f, len);
	if (!mbr_skip(&r, dyn_off) || dyn_size > mbr_remaining(&r)) {
		err = m_err(-ENOEXEC, "%s: dynamic section beyond the end", path);
		goto out;
	}
	for (uint64_t i = 0; i < dyn_size / 16; i++) {
		int64_t tag = (int64_t)mbr_le64(&r);
		uint64_t val = mbr_le64(&r);

		if (tag == DT_NULL)
			break;
		if (tag == DT_NEEDED) {
			if (nneeded >= M_ELF_MAX_NEEDED) {
				err = m_err(-E2BIG, "%s: more than %u DT_NEEDED entries", path, M_ELF_MAX_NEEDED);
				goto out;
			}
			needed_off[nneeded++] = val;
		} else if (tag == DT_STRTAB) {
			strtab = val;
		} else if (tag == DT_STRSZ) {
			strsz = val;
		} else if (tag == DT_RPATH) {
			rpath = val;
		} else if (tag == DT_RUNPATH) {
			runpath = val;
		}
	}
	if (!vaddr_to_off(f, len, phoff, phnum, strtab, &strtab_off) || strtab_off > len || strsz > len - strtab_off) {
		err = m_err(-ENOEXEC, "%s: DT_STRTAB outside the file", path);
		goto out;
	}
	for (size_t i = 0; i < nneeded; i++) {
		if (needed_off[i] >= strsz) {
			err = m_err(-ENOEXEC, "%s: DT_NEEDED string outside DT_STRTAB", path);
			goto out;
		}
		copy_str(f, strtab_off + strsz, strtab_off + needed_off[i], ret->needed[i], sizeof(ret->needed[i]));
	}
	ret->nneeded = nneeded;
	if (rpath < strsz)
		copy_str(f, strtab_off + strsz, strtab_off + rpath, ret->rpath, sizeof(ret->rpath));
	if (runpath < strsz)
		copy_str(f, strtab_off + strsz, strtab_off + runpath, ret->runpath, sizeof(ret->runpath));
out:
	return err;
}

static int parse_elf(const char *path, struct m_elf_dyn *ret)
{
	uint8_t *f = NULL;
	size_t len = 0;
	int err = read_file(path, &f, &len);

	if (err < 0)
		return err;
	err = m_elf_parse(f, len, path, ret);
	free(f);
	return err;
}

static bool have(const struct m_elf_deps *d, const char *path)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->path[i], path) == 0)
			return true;
	return false;
}

static int push(struct m_elf_deps *d, const char *path)
{
	if (d->n >= M_ELF_MAX_LIBS)
		return m_err(-E2BIG, "more than %u shared objects", M_ELF_MAX_LIBS);
	d->path[d->n] = strdup(path);
	if (!d->path[d->n])
		return -ENOMEM;
	d->n++;
	return 0;
}

static bool try_dirs(const char *list, const char *sysroot, const char *name, char *out, size_t cap)
{
	char copy[512], *save = NULL;

	/* a list or a path that does not fit is never tried cut short */
	if (m_snprintf(copy, sizeof(copy), "%s", list) < 0)
		return false;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		if (m_snprintf(out, cap, "%s%s/%s", sysroot, dir, name) < 0)
			continue;
		if (access(out, R_OK) == 0)
			return true;
	}
	return false;
}

static int walk(const char *path, const char *sysroot, struct m_elf_deps *d, unsigned depth)
{
	struct m_elf_dyn *e;
	int err;

	if (depth > 32)
		return m_err(-ELOOP, "%s: library dependencies nested deeper than 32", path);
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	err = parse_elf(path, e);
	if (err < 0)
		goto out;
	if (e->interp[0]) {
		char ip[600];

		if ((err = m_snprintf(ip, sizeof(ip), "%s%s", sysroot, e->interp)) < 0)
			goto out;
		if (!have(d, ip) && (err = push(d, ip)) < 0)
			goto out;
	}
	for (size_t i = 0; i < e->nneeded; i++) {
		char found[1200];
		bool ok = false;

		if (strchr(e->needed[i], '/')) {
			ok = m_snprintf(found, sizeof(found), "%s%s", sysroot, e->needed[i]) >= 0 &&
			     access(found, R_OK) == 0;
		}
		if (!ok && !e->runpath[0] && e->rpath[0])
			ok = try_dirs(e->rpath, sysroot, e->needed[i], found, sizeof(found));
		if (!ok && e->runpath[0])
			ok = try_dirs(e->runpath, sysroot, e->needed[i], found, sizeof(found));
		for (size_t k = 0; !ok && k < sizeof(sysdirs) / sizeof(sysdirs[0]); k++)
			ok = try_dirs(sysdirs[k], sysroot, e->needed[i], found, sizeof(found));
		if (!ok) {
			err = m_err(-ENOENT, "%s needs %s, found nowhere", path, e->needed[i]);
			goto out;
		}
		if (have(d, found))
			continue;
		if ((err = push(d, found)) < 0 || (err = walk(found, sysroot, d, depth + 1)) < 0)
			goto out;
	}
out:
	free(e);
	return err;
}

void m_elf_deps_free(struct m_elf_deps *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->path[i]);
	d->n = 0;
}

int m_elf_deps(const char *path, const char *sysroot, struct m_elf_deps *ret)
{
	struct m_elf_deps d = { 0 };
	int err = walk(path, sysroot ? sysroot : "", &d, 0);

	if (err < 0) {
		m_elf_deps_free(&d);
		return err;
	}
	*ret = d;
	return 0;
}

/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_INITRAMFS_H
#define MEASURED_INITRAMFS_H
/*
 * Building initramfs images: a newc cpio archive (the format the kernel
 * unpacks, Documentation/driver-api/early-userspace/buffer-format.rst),
 * written reproducibly (entries sorted by path, inode numbers in that
 * order, mtime 0, owner 0:0) and gzip-compressed with a fixed header, so
 * the same inputs give the same bytes and the image's hash can be
 * predicted; and the shared libraries an ELF program needs, found as the
 * dynamic loader finds them.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "measured/buf.h"

#define M_CPIO_FILE_MAX (256u << 20)	/* one member */
#define M_CPIO_TOTAL_MAX (1u << 30)	/* the whole archive */
#define M_CPIO_PATH_MAX 1024u

struct m_cpio;
int m_cpio_new(struct m_cpio **ret);
void m_cpio_free(struct m_cpio *c);
/* Paths are inside the archive, without a leading '/'; missing parent
 * directories are added (mode 0755).  Adding the same path twice is an
 * error unless both are directories. */
int m_cpio_add_dir(struct m_cpio *c, const char *path, mode_t perm);
int m_cpio_add_data(struct m_cpio *c, const char *path, mode_t perm, const void *data, size_t len);
/** m_cpio_add_file() - @src's contents (symlinks followed) as a regular file. */
int m_cpio_add_file(struct m_cpio *c, const char *path, mode_t perm, const char *src);
int m_cpio_add_symlink(struct m_cpio *c, const char *path, const char *target);
/** m_cpio_add_chardev() - a device node such as dev/console (5, 1). */
int m_cpio_add_chardev(struct m_cpio *c, const char *path, mode_t perm, unsigned major, unsigned minor);
/** m_cpio_write() - the whole archive, with its TRAILER!!!, appended to @w. */
int m_cpio_write(const struct m_cpio *c, struct mbuf_writer *w);
/** m_gzip() - @len bytes gzip-compressed onto @w (header mtime 0, OS unix). */
int m_gzip(const void *data, size_t len, struct mbuf_writer *w);

/* ELF dependencies (ELF-64 little-endian, the x86-64 System V ABI). */
#define M_ELF_MAX_LIBS 128u
#define M_ELF_MAX_NEEDED 64u	/* DT_NEEDED entries of one object */

/* What one object asks of the dynamic loader; strings are cut to fit. */
struct m_elf_dyn {
	char interp[256];			/* PT_INTERP, "" if none */
	size_t nneeded;
	char needed[M_ELF_MAX_NEEDED][128];	/* DT_NEEDED, in order */
	char rpath[512], runpath[512];		/* DT_RPATH, DT_RUNPATH */
};
/**
 * m_elf_parse() - read PT_INTERP and the dynamic section of the ELF image
 * @data (@len bytes; @name is for messages).  A static program gives an
 * empty result; anything outside the image is an error naming @name.
 */
int m_elf_parse(const void *data, size_t len, const char *name, struct m_elf_dyn *ret);

struct m_elf_deps {
	size_t n;
	char *path[M_ELF_MAX_LIBS];	/* absolute host paths: interpreter, then libraries */
};
/**
 * m_elf_deps() - the dynamic loader (PT_INTERP) and every DT_NEEDED
 * library of @path, recursively, each once, searched as ld.so does:
 * DT_RPATH (when there is no DT_RUNPATH), DT_RUNPATH, then the system
 * directories.  @sysroot (may be NULL) prefixes every search.  A static
 * program has none.
 */
int m_elf_deps(const char *path, const char *sysroot, struct m_elf_deps *ret);
void m_elf_deps_free(struct m_elf_deps *d);
#endif

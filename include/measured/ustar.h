/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_USTAR_H
#define MEASURED_USTAR_H

/*
 * A bounded reader of POSIX ustar archives (POSIX.1-2017, pax, "ustar
 * Interchange Format"): the root tree archives the installer unpacks
 * (docs/agent.md, "Root tree archives").  Only what a root tree needs and
 * can be unpacked safely: regular files, directories and symbolic links,
 * with relative paths that stay inside the tree.  Everything else is
 * refused by name before the caller sees any entry.
 */

#include <stddef.h>
#include <stdint.h>

#define M_USTAR_BLOCK       512u
#define M_USTAR_PATH_MAX    257u	/* prefix (155) + '/' + name (100) + NUL */
#define M_USTAR_ENTRIES_MAX 65536u	/* entries in one archive */

enum m_ustar_type {
	M_USTAR_FILE,
	M_USTAR_DIR,
	M_USTAR_SYMLINK,
};

struct m_ustar_entry {
	enum m_ustar_type type;
	/* relative, "/"-separated, no "", "." or ".." component, no leading "./" or trailing "/" */
	char path[M_USTAR_PATH_MAX];
	char link[M_USTAR_PATH_MAX];	/* a symbolic link's target, as stored */
	uint32_t mode;			/* the permission bits, 07777 */
	uint32_t uid, gid;
	int64_t mtime;			/* seconds since the epoch */
	const uint8_t *data;		/* a regular file's bytes, in the archive */
	uint64_t size;
	size_t offset;			/* the entry's header in the archive */
};

/**
 * m_ustar_walk() - check the ustar archive @d (@len bytes) whole, then,
 * with @cb non-NULL, call @cb for every entry in order (the archive's root
 * directory entry, "." or "./", is not passed on).  A check fails with
 * -EBADMSG and a message naming the header's offset: a header checksum or
 * number field that does not parse; not "ustar\0" "00" (GNU and old tar
 * formats, pax extended headers); a type other than a regular file, a
 * directory or a symbolic link (hard links, device nodes, FIFOs named as
 * such); an absolute path, an empty, "." or ".." component; a symbolic
 * link whose relative target climbs above the archive's root; more than
 * M_USTAR_ENTRIES_MAX entries; data past the end; no end-of-archive
 * marker (two zero blocks).  An absolute symbolic link target is kept: it
 * resolves inside the installed system.  @cb's negative return stops the
 * walk and is returned.  @ret_entries (may be NULL): the entries counted.
 */
int m_ustar_walk(const uint8_t *d, size_t len, int (*cb)(void *arg, const struct m_ustar_entry *e), void *arg,
		 size_t *ret_entries);

#endif

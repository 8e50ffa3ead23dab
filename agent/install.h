/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_INSTALL_H
#define MEASURED_INSTALL_H

/*
 * The installer (docs/agent.md, "Install mode"): the released package is a
 * disk image written to the machine's disk so that a cut at any moment
 * leaves a disk that does not boot: the image's first MiB (its boot sector,
 * partition tables, boot loader gap) is held back, the target's first MiB
 * cleared, the rest written and read back against the digest the verifier
 * sent, and only then the first MiB written, sector 0 last.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define M_INSTALL_TARGET_MAX 256u		/* a target path, with its NUL */
#define M_INSTALL_HEAD       (1u << 20)		/* held back until the rest checks */
#define M_INSTALL_CHUNK      (1u << 20)		/* write and read-back unit */
#define M_INSTALL_CMDLINE_MAX (64u << 10)	/* /proc/cmdline read at most */

/* What the verifier says about a package (docs/api.md, "install"). */
struct m_install_meta {
	char kind[16];				/* "disk-image" or "root-archive" */
	char target[M_INSTALL_TARGET_MAX];	/* "" when the verifier names none */
	uint8_t sha256[32];
};

/**
 * m_install_meta_parse() - the "install" member of a released payload
 * object: kind ("disk-image" or "root-archive"), target (an absolute path
 * or absent/null), digest ("sha256:" and 64 lowercase hex digits).
 * -ENOENT when the payload has no "install" member; -EBADMSG naming the
 * field for anything else wrong.
 */
int m_install_meta_parse(json_object *payload, struct m_install_meta *ret);

/**
 * m_install_target_from_cmdline() - the value of the kernel parameter
 * measured.install.target= in @cmdline, split into words as the kernel and
 * measured-init do (mi_cmdline_words(): quotes, "--"); the last one wins,
 * as with the kernel's own parameters, and decides the outcome: -ENOENT
 * without one, -ENAMETOOLONG over M_INSTALL_TARGET_MAX - 1 bytes, -EINVAL
 * for a value that is not an absolute path.
 */
int m_install_target_from_cmdline(const char *cmdline, char *ret, size_t len);

/**
 * m_install_target_check() - @path exists, is a block device or a regular
 * file (a test disk), holds at least @need bytes (0: any size), and, for a
 * block device, can be opened exclusively: the kernel refuses that while
 * the device or one of its partitions is mounted or otherwise held
 * (-EBUSY).  @ret_size (may be NULL) is its size in bytes.
 */
int m_install_target_check(const char *path, uint64_t need, uint64_t *ret_size);

/* The steps of m_install_disk(), in order (the stage callback's argument). */
enum m_install_stage {
	M_INSTALL_CHECKED,	/* package digest and target checked; nothing written yet */
	M_INSTALL_CLEARED,	/* the target's first MiB is zero (on the disk) */
	M_INSTALL_WRITING,	/* one chunk after the first MiB written (offset given) */
	M_INSTALL_WRITTEN,	/* everything after the first MiB written and synced */
	M_INSTALL_VERIFIED,	/* read back: first MiB (from memory) + the rest hash to the digest */
	M_INSTALL_HEAD_REST,	/* bytes 512 .. 1 MiB written and synced, sector 0 still zero */
	M_INSTALL_BOOTABLE,	/* sector 0 written and synced, and the first MiB read back equal */
	/* a root tree archive, before the steps above (m_install_archive()) */
	M_INSTALL_UNPACKED,	/* the archive unpacked into the staging directory */
	M_INSTALL_BUILT,	/* the disk image built from it in the staging directory */
};

const char *m_install_stage_name(enum m_install_stage s);

struct m_install_hooks {
	/* called after each step; non-zero stops the install there (tests) */
	int (*stage)(void *arg, enum m_install_stage s, uint64_t offset);
	void *arg;
};

/**
 * m_install_disk() - write the disk image @img (@len bytes) to @target as
 * described above.  Before anything is written, SHA-256(@img) must equal
 * @sha256 (-EBADMSG) and @img must carry a boot signature (0x55 0xAA at
 * byte 510: an MBR or a GPT's protective MBR), else -EINVAL.  A read-back
 * that differs is -EBADMSG with sector 0 left zero.  @hooks may be NULL.
 */
int m_install_disk(const char *target, const uint8_t *img, size_t len, const uint8_t sha256[32],
		   const struct m_install_hooks *hooks);

/**
 * m_install_check_digest() - SHA-256(@d) equals @sha256, else -EBADMSG
 * ("package digest mismatch ...; nothing written").
 */
int m_install_check_digest(const uint8_t *d, size_t len, const uint8_t sha256[32]);

#define M_INSTALL_ESP_MIN_MIB  33u	/* FAT32's least size with 512-byte clusters */

/**
 * m_install_archive() - install the root tree archive @tar (POSIX ustar,
 * @len bytes, lib/archive/ustar.c) on @target (docs/agent.md, "Root tree
 * archives"): SHA-256(@tar) must equal @sha256 and the whole archive must
 * check, and carry boot/efi/EFI/BOOT/BOOTX64.EFI, before anything is
 * unpacked.  Its tree is unpacked into a new directory under @workdir
 * (boot/efi/ apart), made into a GPT disk image there (an EFI System
 * Partition of the boot/efi/ tree, an ext4 root of the rest) with sfdisk,
 * mkfs.vfat, mcopy and mke2fs, and that image goes through
 * m_install_disk().  The staging directory is removed afterwards.
 * @ret_image_len (may be NULL): the image's size.
 */
int m_install_archive(const char *target, const uint8_t *tar, size_t len, const uint8_t sha256[32],
		      const char *workdir, const struct m_install_hooks *hooks, uint64_t *ret_image_len);

/* One install by the agent: the local choice of target, and what happened. */
struct m_install_job {
	const char *workdir;		/* a root archive's staging directory's parent (NULL: /tmp) */
	const char *target;		/* --target or measured.install.target=; NULL: the verifier's */
	const char *target_from;	/* where @target came from, for messages */
	struct m_install_hooks hooks;
	/* results */
	struct m_install_meta meta;
	char target_used[M_INSTALL_TARGET_MAX];
	size_t len;
};

/**
 * m_install_deliver() - the agent's delivery step in install mode
 * (struct m_agent_config.deliver, @arg a struct m_install_job): the
 * payload's metadata, the target (the local one first, else the
 * verifier's), then m_install_disk().  A payload without metadata is
 * -EPROTO, no target -EINVAL; nothing is written in either case.
 */
int m_install_deliver(void *arg, const char *name, json_object *payload, const uint8_t *data, size_t len);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_MEASURE_H
#define MEASURED_MEASURE_H

/*
 * What is measured: the one definition that measured-init (at boot) and
 * `measured predict` / `measured hash` (at build time) compile alike, so
 * the two cannot disagree.  lib/measure/ is linked into the static init and
 * into libmeasured; the only thing that differs between them is the hash
 * backend (EVP in the library, OpenSSL's low-level SHA in the init, which
 * keeps the static binary small: docs/init-footprint.md).  The bank table
 * is lib/digest_banks.c, linked into both the same way.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "measured/digest.h"

/*
 * The PCR the root file system is extended into when the kernel command
 * line names none.  measured.root= (the current mode): 15, see
 * docs/measured-init.md for the choice against the UAPI PCR registry.
 * measureroot / rootimg= (the original meta-measured initramfs's mode):
 * 9, the original's default (its rootimgpcr= fallback).
 */
#define M_ROOT_PCR_DEFAULT 15u
#define M_ROOT_PCR_COMPAT_DEFAULT 9u

/** m_root_pcr_default() - the default PCR of a mode. */
static inline unsigned m_root_pcr_default(bool compat)
{
	return compat ? M_ROOT_PCR_COMPAT_DEFAULT : M_ROOT_PCR_DEFAULT;
}

/*
 * A hash backend: a context over a set of banks.  new() returns NULL when
 * it cannot (no memory, a bank it does not have); final() writes the
 * digests of the context's banks and frees it; release() frees without a
 * result.
 */
struct m_hash_backend {
	void *(*new)(unsigned banks);
	int (*update)(void *ctx, const void *data, size_t len);
	int (*final)(void *ctx, struct m_digests *ret);
	void (*release)(void *ctx);
	unsigned banks;		/* the banks this backend can compute */
};

/** m_hash_backend_evp() - the library's backend (OpenSSL EVP, every bank OpenSSL has). */
const struct m_hash_backend *m_hash_backend_evp(void);

/**
 * m_root_extend_digests() - the digests measured-init extends for a root
 * whose own digest is @image:
 *  - current mode: @image itself, in every bank of @banks;
 *  - compatibility mode: only the SHA-1 bank, with SHA-1 over the 40
 *    lowercase hex characters of SHA1(image) (the original piped
 *    `sha1sum`'s text into tpm_extendpcr, which hashed that text).
 * @be does the one hash the compatibility mode needs.  -EINVAL with a
 * message when @image lacks a bank the mode needs.
 */
int m_root_extend_digests(const struct m_hash_backend *be, bool compat, unsigned banks,
			  const struct m_digests *image, struct m_digests *ret);

/** m_root_event_description() - "measureroot FILE (sha1 of the hex digest)" or "FILE", into @buf. */
int m_root_event_description(bool compat, const char *what, char *buf, size_t cap);

/*
 * The lock-step multi-bank hasher: every bank over the same @size bytes of
 * @fd, read once.  Banks are dealt over at most @max_threads threads (each
 * with its own backend context and private buffer); the threads pread()
 * the same ranges and are held within a window of each other, so the
 * slower ones find in the page cache what the fastest brought in and an
 * input larger than RAM is not read twice.  Private buffers, not a shared
 * ring: on this project's 2-vCPU machines a ring spent its time moving
 * cache lines between cores (read() into it ran at a third of its
 * single-thread speed) while 64-256 KiB buffers stay in each core's L2.
 *
 * Exactly @size bytes or an error: a short read names its offset.
 * drop_cache releases pages every thread has passed (POSIX_FADV_DONTNEED),
 * as measured-init does so a root larger than RAM pushes nothing else out.
 */
struct m_lockstep_opts {
	unsigned banks;
	uint64_t size;
	unsigned max_threads;		/* 0: one per bank */
	size_t chunk;			/* bytes per read; 0: 256 KiB */
	bool drop_cache;
	void (*progress)(uint64_t done, uint64_t total, void *arg);	/* from thread 0 */
	void *arg;
};
int m_lockstep_hash(int fd, const struct m_hash_backend *be, const struct m_lockstep_opts *o,
		    struct m_digests *ret, unsigned *ret_threads);

/*
 * dm-verity roots (the kernel's Documentation/admin-guide/device-mapper/
 * verity.rst).  What measured-init measures for a verity root is the
 * verity target's table line exactly as the kernel prints it back
 * (DM_TABLE_STATUS with DM_STATUS_TABLE_FLAG): format version, data and
 * hash devices as MAJOR:MINOR, block sizes, data block count, hash start
 * block, algorithm, root hash, salt and the corruption mode.  The root
 * hash covers every data block; the rest says how the kernel checks them.
 * The event's digest is H_bank(table line) in every bank; its CEL
 * description is "dm-verity " and the line.
 */
#define M_VERITY_SB_SIZE 512u		/* veritysetup's superblock */
#define M_VERITY_SALT_MAX 256u		/* the superblock's salt field */
#define M_VERITY_TABLE_MAX 1024u	/* longest table line formatted */

enum m_verity_error { M_VERITY_EIO, M_VERITY_RESTART, M_VERITY_PANIC };

struct m_verity {
	unsigned hash_type;		/* the table's version: 1 (0 is Chrome OS's) */
	unsigned data_major, data_minor, hash_major, hash_minor;
	uint32_t data_block, hash_block;	/* bytes, powers of two 512..4096 */
	uint64_t data_blocks;
	uint64_t hash_start;		/* in hash blocks, on the hash device */
	enum m_bank alg;		/* sha1, sha256, sha384 or sha512 */
	uint8_t root[M_DIGEST_MAX];	/* m_bank_info(alg)->size bytes */
	uint8_t salt[M_VERITY_SALT_MAX];
	size_t salt_len;
	enum m_verity_error error;
};

/**
 * m_verity_sb_parse() - veritysetup's 512-byte superblock (cryptsetup's
 * on-disk format: "verity\0\0", version 1, hash type, UUID, algorithm,
 * block sizes, data blocks, salt; little-endian), found at byte
 * @sb_offset of the hash device.  Fills every field of @v but the devices,
 * the root hash and the error mode; hash_start is the first hash block
 * after the superblock, as veritysetup places the tree.  -EINVAL with a
 * message on anything else (an algorithm other than the four banks, a
 * block size the kernel refuses, a salt over 256 bytes, no data blocks).
 */
int m_verity_sb_parse(const void *sb, size_t len, uint64_t sb_offset, struct m_verity *v);

/** m_verity_error_name() - "eio", "restart", "panic"; m_verity_error_parse() the reverse. */
const char *m_verity_error_name(enum m_verity_error e);
int m_verity_error_parse(const char *s, enum m_verity_error *ret);

/**
 * m_verity_table() - the target's parameters (after "verity"), as the
 * kernel prints them, into @buf (at most M_VERITY_TABLE_MAX bytes).
 */
int m_verity_table(const struct m_verity *v, char *buf, size_t cap);

/**
 * m_verity_extend_digests() - the digests extended for the table line
 * @table: H_bank(table) in every bank of @banks, through @be.
 */
int m_verity_extend_digests(const struct m_hash_backend *be, unsigned banks, const char *table,
			    struct m_digests *ret);

/** m_verity_event_description() - "dm-verity TABLE" into @buf. */
int m_verity_event_description(const char *table, char *buf, size_t cap);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_INIT_H
#define MEASURED_INIT_H
/* measured-init internals: one file per step of the boot. */
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include "measured/digest.h"
#include "measured/measure.h"
#include "initcore.h"

/* Console output, prefixed "measured-init: ". */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in seconds, and its value when main() started. */
double now_s(void);
extern double init_t_start;

/* tpmdev.c: /dev/tpmrm0 (or /dev/tpm0) and the three commands, in TPM 2.0
 * or, on a TPM 1.2 (family 12, SHA-1 only), their 1.2 counterparts. */
struct itpm {
	int fd;
	const char *path;
	int family;		/* 20, 12; 0 until known */
	unsigned npcr;		/* TPM 1.2: PCRs the TPM has */
};
int itpm_open(struct itpm *t, unsigned wait_ms);
int itpm_banks(struct itpm *t, unsigned *ret_banks, unsigned *ret_unknown);
int itpm_extend(struct itpm *t, unsigned pcr, const struct m_digests *d);
int itpm_read(struct itpm *t, unsigned pcr, unsigned banks, struct m_digests *ret);

/* modules.c: load every module the initramfs carries, dependencies first,
 * drivers before file systems, in a thread of its own. */
int modules_start(void);
/** modules_wait() - join the loader: its error, or the count and when it finished. */
int modules_wait(unsigned *ret_loaded, double *ret_t_done);

/* blockdev.c */
/** find_device() - wait up to @timeout_s for /dev/..., LABEL= or UUID= to appear. */
int find_device(const char *spec, unsigned timeout_s, char *ret_path, size_t cap);
int set_readonly(const char *dev);
int detect_fstype(const char *dev, char *ret_type, size_t cap);
/** loop_attach() - a read-only loop device over @file. */
int loop_attach(const char *file, char *ret_dev, size_t cap);
/**
 * hash_fd() - every bank of @banks over the first @size bytes of @fd
 * (hashdev.c: the shared lock-step hasher); drop_cache releases pages
 * behind the hash.
 */
int hash_fd(int fd, const char *name, uint64_t size, bool drop_cache, unsigned banks, struct m_digests *ret,
	    double *ret_secs, unsigned *ret_threads);
/** loop_attach_fd() - a read-only loop device over the open file @ffd (which may be closed after). */
int loop_attach_fd(int ffd, const char *name, char *ret_dev, size_t cap);
/** hash_device_fd() - hash_fd() over the whole of the open block device @fd; @name for messages. */
int hash_device_fd(int fd, const char *name, unsigned banks, struct m_digests *ret, uint64_t *ret_size,
		   double *ret_secs, unsigned *ret_threads);

/* held.c: full-image mode, one descriptor from the hash to the mount */
struct held {
	int fd;
	dev_t rdev;
	uint64_t seq;		/* the kernel's disk sequence number */
	char path[300];
};
/** held_open() - open @dev once, read-only (BLKROSET), and note its number and disk sequence. */
int held_open(const char *dev, struct held *h);
/** held_check() - before the mount: still read-only, and the name still leads to the same disk. */
int held_check(const struct held *h);
/** held_check_mounted() - after the mount: @mnt holds the held disk. */
int held_check_mounted(const struct held *h, const char *mnt);
void held_close(struct held *h);

/* ramcopy.c: measured.copy=ram, a sealed RAM copy hashed and served by a loop device */
int ram_copy(const char *dev, unsigned banks, struct m_digests *ret, uint64_t *ret_size, double *ret_secs,
	     unsigned *ret_threads, char *ret_loop, size_t cap);

/* verity.c: a dm-verity root through the device-mapper ioctls */
/**
 * verity_setup() - load the verity target over @data_dev and @hash_dev with
 * the root hash of @p; the device to mount into @ret_dev and the kernel's
 * table line (what is measured) into @ret_table.
 */
int verity_setup(const struct mi_params *p, const char *data_dev, const char *hash_dev, char *ret_dev,
		 size_t dev_cap, char *ret_table, size_t table_cap);
/** verity_check_first_block() - read block 0 through the verity device: a wrong root hash fails here. */
int verity_check_first_block(const char *dev);

/* rootmode.c: measuring the root in the mode the command line chose */
struct root_measure {
	const char *mode;		/* "full", "copy=ram", "verity" */
	char dev[300];			/* the device to mount */
	struct m_digests image;		/* full and copy: the root's digest */
	struct m_digests ext;		/* what is extended */
	char what[M_VERITY_TABLE_MAX + 16];	/* the event's description */
	uint64_t size;
	double secs;
	unsigned threads;
	struct held held;		/* full mode */
};
/** root_measure() - hash (or set up verity over) @dev in the mode of @p; the digests to extend. */
int root_measure(const struct mi_params *p, const char *dev, unsigned banks, struct root_measure *rm);
/** root_before_mount() - the mode's checks between the extend and the mount. */
int root_before_mount(struct root_measure *rm);
/** root_after_mount() - the mode's checks once @mnt holds the root. */
int root_after_mount(struct root_measure *rm, const char *mnt);

/* switchroot.c */
int move_mounts(const char *newroot);
int switch_root(const char *newroot, const char *init);

#endif

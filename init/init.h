/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_INIT_H
#define MEASURED_INIT_H
/* measured-init internals: one file per step of the boot. */
#include <stdint.h>
#include "measured/digest.h"
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
/** hash_device() - every bank of @banks over the whole of @dev (hashdev.c: the shared lock-step hasher). */
int hash_device(const char *dev, unsigned banks, struct m_digests *ret, uint64_t *ret_size, double *ret_secs,
		unsigned *ret_threads);
/** hash_device_fd() - the same over an open block device @fd; @name for messages. */
int hash_device_fd(int fd, const char *name, unsigned banks, struct m_digests *ret, uint64_t *ret_size,
		   double *ret_secs, unsigned *ret_threads);

/* switchroot.c */
int move_mounts(const char *newroot);
int switch_root(const char *newroot, const char *init);

#endif

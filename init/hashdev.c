// SPDX-License-Identifier: MIT
/*
 * Hashing the root device in every bank at once, with the lock-step
 * hasher the library uses too (lib/measure/lockstep.c), on the init's
 * backend (hash.c).  Here: one thread per online CPU (at most one per
 * bank), the banks dealt out between them, and the page cache released
 * behind the slowest thread, so a root larger than RAM pushes nothing
 * else out and the mount does not find the whole device cached to drop
 * (which it does when it sets its block size: 0.2 s for 256 MiB under
 * TCG, after the hash and before the handover).
 *
 * The device was set read-only (BLKROSET) before this runs, and its size
 * is taken once: every bank covers exactly those bytes, or it is an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "hash.h"
#include "init.h"
#include "measured/error.h"

/* The CPUs this process may run on (what the threads can use). */
static unsigned cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set) > 0 ? (unsigned)CPU_COUNT(&set) : 1;
}

int hash_fd(int fd, const char *name, uint64_t size, bool drop_cache, unsigned banks, struct m_digests *ret,
	    double *ret_secs, unsigned *ret_threads)
{
	struct m_lockstep_opts o = { .banks = banks & IH_BANKS, .size = size, .max_threads = cpus(),
				     .drop_cache = drop_cache };
	double t0;
	int err;

	if (o.size == 0)
		return m_err(-ENODATA, "%s: empty device; refusing to measure nothing", name);
	t0 = now_s();
	err = m_lockstep_hash(fd, ih_backend(), &o, ret, ret_threads);
	if (err < 0)
		return m_err_prefix(err, "%s", name);
	*ret_secs = now_s() - t0;
	return 0;
}

int hash_device_fd(int fd, const char *name, unsigned banks, struct m_digests *ret, uint64_t *ret_size,
		   double *ret_secs, unsigned *ret_threads)
{
	uint64_t size;
	int err;

	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return m_err(-errno, "%s: BLKGETSIZE64: %m", name);
	err = hash_fd(fd, name, size, true, banks, ret, ret_secs, ret_threads);
	if (err == 0)
		*ret_size = size;
	return err;
}

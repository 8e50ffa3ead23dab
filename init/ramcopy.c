// SPDX-License-Identifier: MIT
/*
 * measured.copy=ram: the root image is read from its device once, into a
 * sealed memfd (shmem: RAM, or swap where there is some), and the hash is
 * taken over that copy, which a read-only loop device then serves to the
 * mount.  The bytes hashed are the bytes mounted whatever the device does
 * later: the mount never reads it.  The seals (no write, grow or shrink,
 * no further seals) hold against every process, root included, for as long
 * as the copy lives; after switch_root nothing can reach the memfd but
 * the loop device.
 *
 * The hash runs over the copy instead of over the stream as it arrives:
 * the same bytes, and the lock-step hasher then spreads the banks over
 * every CPU.  Cost: the image's size in RAM for the life of the system.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "init.h"
#include "measured/error.h"

#define COPY_CHUNK (1u << 20)

static int copy_all(int from, int to, uint64_t size, const char *name)
{
	uint8_t *buf = malloc(COPY_CHUNK);
	uint64_t off = 0;
	int err = 0;

	if (!buf)
		return m_err(-ENOMEM, "no copy buffer");
	while (off < size) {
		size_t want = size - off < COPY_CHUNK ? (size_t)(size - off) : COPY_CHUNK, got = 0;

		while (got < want) {
			ssize_t n = pread(from, buf + got, want - got, (off_t)(off + got));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				err = m_err(n < 0 ? -errno : -ENODATA, "%s: reading byte %llu: %s", name,
					    (unsigned long long)(off + got), n < 0 ? strerror(errno) : "end of device");
				goto out;
			}
			got += (size_t)n;
		}
		for (size_t done = 0; done < want;) {
			ssize_t n = write(to, buf + done, want - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				err = m_err(-errno, "copying %s into RAM at byte %llu: %m (too little memory for "
					    "measured.copy=ram?)", name, (unsigned long long)(off + done));
				goto out;
			}
			done += (size_t)n;
		}
		off += want;
	}
	/* the device's pages are not needed again */
	posix_fadvise(from, 0, 0, POSIX_FADV_DONTNEED);
out:
	free(buf);
	return err;
}

int ram_copy(const char *dev, unsigned banks, struct m_digests *ret, uint64_t *ret_size, double *ret_secs,
	     unsigned *ret_threads, char *ret_loop, size_t cap)
{
	uint64_t size;
	double t0 = now_s(), hs;
	int fd, mfd = -1, err;

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return m_err(-errno, "%s: %m", dev);
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		err = m_err(-errno, "%s: BLKGETSIZE64: %m", dev);
		goto out;
	}
	mfd = memfd_create("measured-root", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		err = m_err(-errno, "memfd_create: %m");
		goto out;
	}
	err = copy_all(fd, mfd, size, dev);
	if (err < 0)
		goto out;
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		err = m_err(-errno, "sealing the RAM copy: %m");
		goto out;
	}
	err = hash_fd(mfd, "the RAM copy", size, false, banks, ret, &hs, ret_threads);
	if (err < 0)
		goto out;
	err = loop_attach_fd(mfd, "measured-root (RAM copy)", ret_loop, cap);
	if (err < 0)
		goto out;
	*ret_size = size;
	*ret_secs = now_s() - t0;
out:
	if (mfd >= 0)
		close(mfd);	/* the loop device keeps the copy */
	close(fd);
	return err;
}
